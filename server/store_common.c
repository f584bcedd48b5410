/*
 * store_common.c - audit rows and outbox events for every write (see store.h).
 */
#include "store.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uuid/uuid.h>

#include "http.h"
#include "xmalloc.h"

/*
 * One audit row; the "after" image is read from the entity's row in this
 * transaction ($8 is then the request id), or given as $8 for other kinds.
 * One statement per kind of entity, not one CASE over them all, so that each
 * has a plan PostgreSQL can keep.
 */
#define SQL_AUDIT_HEAD                                                                             \
	"INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before,"       \
	" after, request_id) VALUES ($1::uuid, $2, $3, $4, $5::uuid, $6::uuid, $7::jsonb, "
static const char SQL_AUDIT[] = SQL_AUDIT_HEAD "$8::jsonb, $9::uuid)";
static const char SQL_AUDIT_EPISODE[] =
    SQL_AUDIT_HEAD "(SELECT cb_episode_json(e) FROM episodes e WHERE e.id = $5::uuid),"
		   " $8::uuid)";
static const char SQL_AUDIT_TASK[] =
    SQL_AUDIT_HEAD "(SELECT cb_task_json(t) FROM tasks t WHERE t.id = $5::uuid), $8::uuid)";
static const char SQL_AUDIT_ASSESSMENT[] =
    SQL_AUDIT_HEAD "(SELECT cb_assessment_json(a) FROM assessments a WHERE a.id = $5::uuid),"
		   " $8::uuid)";
static const char SQL_AUDIT_DELAY[] =
    SQL_AUDIT_HEAD "(SELECT cb_delay_json(d) FROM delays d WHERE d.id = $5::uuid), $8::uuid)";

/*
 * A read of patient data: who read what (no images of the data itself); a
 * partner's organisation $9 joins the detail.
 */
static const char SQL_AUDIT_READ[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, after,"
    " request_id) VALUES ($1::uuid, $2, $3, $4, $5::uuid, $6::uuid,"
    " CASE WHEN $9::uuid IS NULL THEN $7::jsonb"
    "  ELSE coalesce($7::jsonb, '{}'::jsonb) || jsonb_build_object('organisation', $9::uuid) END,"
    " $8::uuid)";

/* An episode event for a given ward (a transfer tells the ward left too). */
static const char SQL_EVENT_EPISODE_AT[] =
    "INSERT INTO events (type, ward, episode_id, discipline, payload)"
    " SELECT $1, $3, e.id, NULL, cb_episode_summary_json(e)"
    "  || jsonb_build_object('from_ward', $3::text) FROM episodes e"
    " WHERE e.id = $2::uuid RETURNING payload";

/* Held to COMMIT: event ids follow commit order. */
static const char SQL_EVENTS_LOCK[] = "SELECT pg_advisory_xact_lock(7262270002)";

/* Outbox rows, one per entity kind; each returns the payload. */
static const char SQL_EVENT_EPISODE[] =
    "INSERT INTO events (type, ward, episode_id, discipline, payload)"
    " SELECT $1, e.ward, e.id, NULL, cb_episode_summary_json(e) FROM episodes e"
    " WHERE e.id = $2::uuid RETURNING payload";
static const char SQL_EVENT_TASK[] =
    "INSERT INTO events (type, ward, episode_id, discipline, payload)"
    " SELECT $1, e.ward, e.id, t.discipline, cb_task_json(t) || jsonb_build_object('ward', e.ward)"
    " FROM tasks t JOIN episodes e ON e.id = t.episode_id"
    " WHERE t.id = $2::uuid RETURNING payload";
static const char SQL_EVENT_ASSESSMENT[] =
    "INSERT INTO events (type, ward, episode_id, discipline, payload)"
    " SELECT $1, e.ward, e.id, 'social_work',"
    "  cb_assessment_json(a) || jsonb_build_object('ward', e.ward)"
    " FROM assessments a JOIN episodes e ON e.id = a.episode_id"
    " WHERE a.id = $2::uuid RETURNING payload";
static const char SQL_EVENT_DELAY[] =
    "INSERT INTO events (type, ward, episode_id, discipline, payload)"
    " SELECT $1, e.ward, e.id, NULL, cb_delay_json(d) || jsonb_build_object('ward', e.ward)"
    " FROM delays d JOIN episodes e ON e.id = d.episode_id"
    " WHERE d.id = $2::uuid RETURNING payload";

void actor_from_req(struct actor *a, const struct http_req *r)
{
	a->id = r->principal.id[0] != '\0' ? r->principal.id : NULL;
	a->name = r->principal.name;
	a->request_id = r->id;
	a->organisation = role_is_partner(r->principal.role) && r->principal.organisation[0] != '\0'
	                      ? r->principal.organisation
	                      : NULL;
}

void store_add_audit(struct db_req *req, const struct actor *a, const char *action,
                     const char *entity, const char *entity_id, const char *episode_id,
                     const char *before_json, const char *after_json)
{
	const char *v[] = {a->id,      a->name,     action,     entity,       entity_id,
	                   episode_id, before_json, after_json, a->request_id};
	const char *ve[] = {a->id,     a->name,    action,      entity,
	                    entity_id, episode_id, before_json, a->request_id};
	const char *sql = NULL;

	if (strcmp(entity, "episode") == 0)
		sql = SQL_AUDIT_EPISODE;
	else if (strcmp(entity, "task") == 0)
		sql = SQL_AUDIT_TASK;
	else if (strcmp(entity, "assessment") == 0)
		sql = SQL_AUDIT_ASSESSMENT;
	else if (strcmp(entity, "delay") == 0)
		sql = SQL_AUDIT_DELAY;
	/* an entity's own image, or the caller's for anything else */
	if (sql != NULL)
		db_req_add(req, sql, 8, ve);
	else
		db_req_add(req, SQL_AUDIT, 9, v);
}

void store_add_events_lock(struct db_req *req)
{
	/* First in the transaction, which the pool shares between writers (group commit). */
	db_req_set_group(req, SQL_EVENTS_LOCK);
}

int store_add_event(struct db_req *req, const char *type, const char *entity, const char *entity_id)
{
	const char *v[] = {type, entity_id};
	const char *sql = SQL_EVENT_EPISODE;

	if (entity[0] == 't')
		sql = SQL_EVENT_TASK;
	else if (entity[0] == 'a')
		sql = SQL_EVENT_ASSESSMENT;
	else if (entity[0] == 'd')
		sql = SQL_EVENT_DELAY;
	return db_req_add(req, sql, 2, v);
}

void store_new_id(char out[37])
{
	uuid_t u;

	uuid_generate_random(u);
	uuid_unparse_lower(u, out);
}

void store_add_audit_read(struct db_req *req, const struct actor *a, const char *action,
                          const char *entity, const char *entity_id, const char *episode_id,
                          const char *detail_json)
{
	const char *v[] = {a->id,      a->name,     action,        entity,         entity_id,
	                   episode_id, detail_json, a->request_id, a->organisation};

	db_req_add(req, SQL_AUDIT_READ, 9, v);
}

int store_add_episode_event_at(struct db_req *req, const char *type, const char *episode_id,
                               const char *ward)
{
	const char *v[] = {type, episode_id, ward};

	return db_req_add(req, SQL_EVENT_EPISODE_AT, 3, v);
}

struct store_wait *store_wait_new(store_any_fn *cb, void *arg, int json_stmt, const char *what)
{
	struct store_wait *w = xmalloc(sizeof *w);

	w->cb = cb;
	w->arg = arg;
	w->json_stmt = json_stmt;
	w->what = what;
	return w;
}

void store_json_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_json_cb *cb = (store_json_cb *)w->cb;
	const char *json = NULL;

	if (cb == NULL) {
		free(w);
		return;
	}
	if (r->st == ST_OK && w->json_stmt >= 0)
		json = db_value(r->res[w->json_stmt], 0, 0);
	if (r->st == ST_OK && w->json_stmt >= 0 && json == NULL && w->what != NULL) {
		struct err err;

		err_set(&err, ST_NOT_FOUND, NULL, "%s not found", w->what);
		cb(ST_NOT_FOUND, &err, NULL, w->arg);
	} else {
		cb(r->st, &r->err, json, w->arg);
	}
	free(w);
}

static void ward_json_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_ward_json_cb *cb = (store_ward_json_cb *)w->cb;

	if (r->st != ST_OK)
		cb(r->st, NULL, NULL, w->arg);
	else if (db_rows(r->res[0]) != 1)
		cb(ST_NOT_FOUND, NULL, NULL, w->arg);
	else
		cb(ST_OK, db_value(r->res[0], 0, 0), db_value(r->res[0], 0, 1), w->arg);
	free(w);
}

void store_ward_json_read(struct db *db, const char *sql, const char *episode_id,
                          store_ward_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {episode_id};

	db_req_add(req, sql, 1, v);
	db_req_submit(db, req, ward_json_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

void store_audit_list_read(struct db *db, const struct actor *actor, const char *action,
                           const char *entity, const char *episode_id, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();

	store_add_audit_read(req, actor, action, entity, NULL, episode_id, NULL);
	db_req_submit(db, req, store_json_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

PGconn *store_connect_blocking(const char *conninfo, const char *app, struct err *err)
{
	const char *keys[] = {"dbname", "application_name", "options", NULL};
	const char *vals[] = {conninfo, app, "-c jit=off", NULL};
	PGconn *pg = PQconnectdbParams(keys, vals, 1);
	char msg[200];

	if (PQstatus(pg) == CONNECTION_OK)
		return pg;
	snprintf(msg, sizeof msg, "%s", PQerrorMessage(pg));
	msg[strcspn(msg, "\n")] = '\0';
	err_set(err, ST_UNAVAILABLE, NULL, "could not connect to the database: %s", msg);
	PQfinish(pg);
	return NULL;
}

/*
 * store_admin.c - SQL for wards, task templates, users and organisations
 * edited through the API (see store_admin.h).
 *
 * The audit rows are written here rather than with store_add_audit(): that
 * statement computes the after image only for patient-side entities, and a
 * ward's key is its code, not a UUID.  The before image of a ward or user
 * change is taken in the same statement as the change (a data-modifying CTE),
 * so the two images are exactly what the transaction saw and wrote.
 */
#include "store_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "db.h"
#include "xmalloc.h"

/* ---- wards ---- */

/* Every ward as {"items": [...]}, by code. */
static const char SQL_WARD_LIST[] =
    "SELECT jsonb_build_object('items',"
    " coalesce(jsonb_agg(cb_ward_json(w) ORDER BY w.code), '[]'::jsonb))::text FROM wards w";

/* Aborts with CB409 when ward $1 exists. */
static const char SQL_WARD_FREE[] =
    "SELECT cb_expect(NOT EXISTS (SELECT 1 FROM wards WHERE code = $1), 'CB409',"
    " format('ward \"%s\" already exists', $1::text))";

/* Aborts with CB404 unless ward $1 exists; locks it until COMMIT (see SQL_WARD_UPDATE_AUDIT). */
static const char SQL_WARD_FOUND[] =
    "SELECT cb_expect(EXISTS (SELECT 1 FROM wards WHERE code = $1 FOR UPDATE), 'CB404',"
    " format('ward \"%s\" does not exist', $1::text))";

/* Aborts with CB409 when PAS code $1 (NULL: nothing to check) belongs to a ward other than $2. */
static const char SQL_PAS_FREE[] =
    "SELECT cb_expect($1::text IS NULL OR NOT EXISTS (SELECT 1 FROM wards"
    " WHERE pas_code = $1 AND code <> $2), 'CB409',"
    " format('PAS code \"%s\" is already used by another ward', $1::text))";

/* Adds ward $1 named $2 with $3 beds, PAS code $4 and hub $5. */
static const char SQL_WARD_INSERT[] =
    "INSERT INTO wards (code, name, beds, pas_code, hub_organisation_id)"
    " VALUES ($1, $2, $3::integer, $4, $5::uuid)";

/* Audits the new ward $4 (actor $1/$2, action $3, request $5). */
static const char SQL_WARD_AUDIT_ADD[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before, after,"
    " request_id) SELECT $1::uuid, $2, $3, 'ward', NULL, NULL, NULL, cb_ward_json(w), $5::uuid"
    " FROM wards w WHERE w.code = $4";

/*
 * Changes ward $4: name $5 (NULL keeps), beds $6 (NULL keeps), PAS code $8 when
 * $7, hub $11 when $10; and audits it with both images (actor $1/$2, action $3, request $9).  The
 * row is locked by an earlier statement, so "old" (read from this statement's
 * snapshot) is the version the UPDATE changes.
 */
static const char SQL_WARD_UPDATE_AUDIT[] =
    "WITH old AS (SELECT cb_ward_json(w) AS j FROM wards w WHERE w.code = $4),"
    " u AS (UPDATE wards w SET name = coalesce($5, w.name),"
    "  beds = coalesce($6::integer, w.beds),"
    "  pas_code = CASE WHEN $7::boolean THEN $8 ELSE w.pas_code END,"
    "  hub_organisation_id = CASE WHEN $10::boolean THEN $11::uuid"
    "   ELSE w.hub_organisation_id END"
    "  WHERE w.code = $4 RETURNING w)"
    " INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before, after,"
    " request_id) SELECT $1::uuid, $2, $3, 'ward', NULL, NULL, (SELECT j FROM old),"
    " cb_ward_json(u.w), $9::uuid FROM u";

/* Outbox event $1 about ward $2 (no ward address: admins only). */
static const char SQL_WARD_EVENT[] = "INSERT INTO events (type, ward, episode_id, discipline,"
				     " payload) SELECT $1, NULL, NULL, NULL, cb_ward_json(w)"
				     " FROM wards w WHERE w.code = $2";

/* Ward $1 as JSON text. */
static const char SQL_WARD_JSON[] = "SELECT cb_ward_json(w)::text FROM wards w WHERE w.code = $1";

/* ---- task templates ---- */

/* Every template as {"items": [...]}, in the order admissions apply them. */
static const char SQL_TEMPLATE_LIST[] =
    "SELECT jsonb_build_object('items',"
    " coalesce(jsonb_agg(cb_template_json(t) ORDER BY t.position, t.id), '[]'::jsonb))::text"
    " FROM task_templates t";

/* Template $1: id, pathways, discipline, title, anchor, offset, active, position, version, JSON. */
static const char SQL_TEMPLATE_GET[] =
    "SELECT t.id, t.min_pathway, t.max_pathway, t.discipline, t.title, t.anchor,"
    " t.offset_seconds, t.active, t.position, t.version, cb_template_json(t)::text"
    " FROM task_templates t WHERE t.id = $1::uuid";

/* Aborts with CB400 unless discipline $1 exists. */
static const char SQL_DISCIPLINE_FOUND[] =
    "SELECT cb_expect(EXISTS (SELECT 1 FROM disciplines WHERE name = $1), 'CB400',"
    " format('discipline \"%s\" does not exist', $1::text))";

/* Adds template $1 (fields $2..$8) at position $9, or after the last when $9 is NULL. */
static const char SQL_TEMPLATE_INSERT[] =
    "INSERT INTO task_templates (id, min_pathway, max_pathway, discipline, title, anchor,"
    " offset_seconds, active, position) VALUES ($1::uuid, $2::smallint, $3::smallint, $4, $5,"
    " $6, $7::integer, $8::boolean,"
    " coalesce($9::integer, (SELECT coalesce(max(position), 0) + 1 FROM task_templates)))";

/* Replaces template $1's fields if it is still at version $2; CB412 otherwise. */
static const char SQL_TEMPLATE_UPDATE[] =
    "WITH u AS (UPDATE task_templates SET min_pathway = $3::smallint,"
    " max_pathway = $4::smallint, discipline = $5, title = $6, anchor = $7,"
    " offset_seconds = $8::integer, active = $9::boolean, position = $10::integer,"
    " version = version + 1, updated_at = now()"
    " WHERE id = $1::uuid AND version = $2::integer RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB412',"
    " 'task template was changed by someone else; reload it and try again') FROM u";

/* Audits template $4 with before image $5 and its row as after (actor $1/$2, action $3). */
static const char SQL_TEMPLATE_AUDIT[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before, after,"
    " request_id) SELECT $1::uuid, $2, $3, 'task_template', t.id, NULL, $5::jsonb,"
    " cb_template_json(t), $6::uuid FROM task_templates t WHERE t.id = $4::uuid";

/* Outbox event $1 about template $2. */
static const char SQL_TEMPLATE_EVENT[] =
    "INSERT INTO events (type, ward, episode_id, discipline, payload)"
    " SELECT $1, NULL, NULL, NULL, cb_template_json(t) FROM task_templates t"
    " WHERE t.id = $2::uuid";

/* Template $1 as JSON text. */
static const char SQL_TEMPLATE_JSON[] =
    "SELECT cb_template_json(t)::text FROM task_templates t WHERE t.id = $1::uuid";

/* ---- users ---- */

/* Every user as {"items": [...]}, by name. */
static const char SQL_USER_LIST[] =
    "SELECT jsonb_build_object('items',"
    " coalesce(jsonb_agg(cb_user_json(u) ORDER BY u.name), '[]'::jsonb))::text FROM users u";

/* Aborts with CB409 when user name $1 is taken. */
static const char SQL_USER_FREE[] =
    "SELECT cb_expect(NOT EXISTS (SELECT 1 FROM users WHERE name = $1), 'CB409',"
    " format('user \"%s\" already exists', $1::text))";

/* Adds user $1 named $2 ($3 display name, $4 role, $5 team lead), without a password. */
static const char SQL_USER_INSERT[] =
    "INSERT INTO users (id, name, display_name, role, team_lead, organisation_id)"
    " VALUES ($1::uuid, $2, $3, $4, $5::boolean, $6::uuid)";

/* Attaches user $1 to ward $2; CB400 when the ward does not exist. */
static const char SQL_USER_WARD_ADD[] =
    "INSERT INTO user_wards (user_id, ward) SELECT $1::uuid, $2"
    " WHERE cb_expect(EXISTS (SELECT 1 FROM wards WHERE code = $2), 'CB400',"
    " format('ward \"%s\" does not exist', $2::text))";

/* Audits the new user $4 (actor $1/$2, action $3, request $5). */
static const char SQL_USER_AUDIT_ADD[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before, after,"
    " request_id) SELECT $1::uuid, $2, $3, 'user', u.id, NULL, NULL, cb_user_json(u), $5::uuid"
    " FROM users u WHERE u.id = $4::uuid";

/* Aborts with CB404 unless user $1 exists (locking it), CB409 when it is disabled already. */
static const char SQL_USER_FOUND[] =
    "SELECT cb_expect(EXISTS (SELECT 1 FROM users WHERE id = $1::uuid FOR UPDATE), 'CB404',"
    " 'user not found'),"
    " cb_expect(NOT EXISTS (SELECT 1 FROM users WHERE id = $1::uuid"
    "  AND disabled_at IS NOT NULL), 'CB409', 'user is already disabled')";

/*
 * Disables user $4 and audits it with both images (actor $1/$2, action $3,
 * request $5); the row is locked by SQL_USER_FOUND, as for wards.
 */
static const char SQL_USER_DISABLE_AUDIT[] =
    "WITH old AS (SELECT cb_user_json(u) AS j FROM users u WHERE u.id = $4::uuid),"
    " d AS (UPDATE users u SET disabled_at = now(), version = u.version + 1"
    "  WHERE u.id = $4::uuid AND u.disabled_at IS NULL RETURNING u)"
    " INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before, after,"
    " request_id) SELECT $1::uuid, $2, $3, 'user', (d.u).id, NULL, (SELECT j FROM old),"
    " cb_user_json(d.u), $5::uuid FROM d";

/* Aborts with CB404 unless user $1 exists (locking it). */
static const char SQL_USER_EXISTS[] =
    "SELECT cb_expect(EXISTS (SELECT 1 FROM users WHERE id = $1::uuid FOR UPDATE), 'CB404',"
    " 'user not found')";

/*
 * Forgets the failed sign-ins of user $4's name, unlocking it, and audits it
 * with both images (actor $1/$2, action $3, request $5).
 */
static const char SQL_USER_UNLOCK_AUDIT[] =
    "WITH old AS (SELECT u.name, cb_user_json(u) AS j FROM users u WHERE u.id = $4::uuid),"
    " d AS (DELETE FROM signin_failures f USING old WHERE f.name = old.name"
    "  RETURNING f.failures)"
    " INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before, after,"
    " request_id) SELECT $1::uuid, $2, $3, 'user', $4::uuid, NULL, old.j,"
    " old.j || jsonb_build_object('locked', false,"
    "  'failures_forgotten', coalesce((SELECT sum(failures) FROM d), 0)), $5::uuid FROM old";

/* Revokes every live token and session of user $1. */
static const char SQL_USER_REVOKE[] =
    "UPDATE tokens SET revoked_at = now() WHERE user_id = $1::uuid AND revoked_at IS NULL";

/* Outbox event $1 about user $2. */
static const char SQL_USER_EVENT[] =
    "INSERT INTO events (type, ward, episode_id, discipline, payload)"
    " SELECT $1, NULL, NULL, NULL, cb_user_json(u) FROM users u WHERE u.id = $2::uuid";

/* User $1 as JSON text. */
static const char SQL_USER_JSON[] =
    "SELECT cb_user_json(u)::text FROM users u WHERE u.id = $1::uuid";

/* ---- organisations ---- */

/*
 * Every organisation (of kind $1 when not NULL) as {"items": [...]}: the
 * trust first, then by kind and code.
 */
static const char SQL_ORG_LIST[] =
    "SELECT jsonb_build_object('items', coalesce(jsonb_agg(cb_organisation_json(o)"
    " ORDER BY o.kind <> 'trust', o.kind, o.code), '[]'::jsonb))::text FROM organisations o"
    " WHERE $1::text IS NULL OR o.kind = $1";

/*
 * The organisation $1 names (its id, or its code): id, code, name, kind,
 * disabled, services (comma-separated), local authority, version, JSON.
 */
static const char SQL_ORG_FACTS[] =
    "SELECT o.id, o.code, o.name, o.kind, o.disabled_at IS NOT NULL,"
    " array_to_string(o.services, ','), coalesce(o.local_authority_id::text, ''), o.version,"
    " cb_organisation_json(o)::text FROM organisations o"
    " WHERE o.id::text = lower($1) OR o.code = $1";

/* Aborts with CB409 when organisation code $1 is taken. */
static const char SQL_ORG_CODE_FREE[] =
    "SELECT cb_expect(NOT EXISTS (SELECT 1 FROM organisations WHERE code = $1), 'CB409',"
    " format('organisation \"%s\" already exists', $1::text))";

/* Adds organisation $1 (code $2, name $3, kind $4, services $5 JSON, local authority $6). */
static const char SQL_ORG_INSERT[] =
    "INSERT INTO organisations (id, code, name, kind, services, local_authority_id)"
    " VALUES ($1::uuid, $2, $3, $4, cb_text_array($5::jsonb), $6::uuid)";

/*
 * Changes organisation $1 if it is still at version $2 (name $3, services $4
 * JSON, local authority $5; each as decided by the caller); CB412 otherwise.
 */
static const char SQL_ORG_UPDATE[] =
    "WITH u AS (UPDATE organisations SET name = $3, services = cb_text_array($4::jsonb),"
    " local_authority_id = $5::uuid, version = version + 1, updated_at = now()"
    " WHERE id = $1::uuid AND version = $2::integer RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB412',"
    " 'organisation was changed by someone else; reload it and try again') FROM u";

/*
 * Aborts with CB404 unless organisation $1 exists (locking it), CB409 when it
 * is the trust (every trust user belongs to it) or disabled already.
 */
static const char SQL_ORG_DISABLABLE[] =
    "SELECT cb_expect(EXISTS (SELECT 1 FROM organisations WHERE id = $1::uuid FOR UPDATE),"
    " 'CB404', 'organisation not found'),"
    " cb_expect(NOT EXISTS (SELECT 1 FROM organisations WHERE id = $1::uuid"
    "  AND kind = 'trust'), 'CB409', 'the trust cannot be disabled'),"
    " cb_expect(NOT EXISTS (SELECT 1 FROM organisations WHERE id = $1::uuid"
    "  AND disabled_at IS NOT NULL), 'CB409', 'organisation is already disabled')";

/* Disables organisation $1. */
static const char SQL_ORG_DISABLE[] =
    "UPDATE organisations SET disabled_at = now(), version = version + 1, updated_at = now()"
    " WHERE id = $1::uuid AND disabled_at IS NULL";

/* Audits organisation $4 with before image $5 and its row as after (actor $1/$2, action $3). */
static const char SQL_ORG_AUDIT[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before, after,"
    " request_id) SELECT $1::uuid, $2, $3, 'organisation', o.id, NULL, $5::jsonb,"
    " cb_organisation_json(o), $6::uuid FROM organisations o WHERE o.id = $4::uuid";

/* Outbox event $1 about organisation $2 (no ward: administrators only). */
static const char SQL_ORG_EVENT[] =
    "INSERT INTO events (type, ward, episode_id, discipline, payload)"
    " SELECT $1, NULL, NULL, NULL, cb_organisation_json(o) FROM organisations o"
    " WHERE o.id = $2::uuid";

/* Organisation $1 as JSON text. */
static const char SQL_ORG_JSON[] =
    "SELECT cb_organisation_json(o)::text FROM organisations o WHERE o.id = $1::uuid";

#define WAIT_MAX_FIELDS 4

/* A caller waiting for a reply, and which request field each check statement is about. */
struct wait {
	store_json_cb *cb; /* the caller's callback */
	void *arg;         /* its argument */
	int json_stmt;     /* the statement whose first cell is the reply */
	const char *what;  /* "ward", ...: for "... not found" when the reply row is missing */
	struct {
		int first, last;   /* check statements (a range) */
		const char *field; /* the request field their failure is about (static) */
	} fields[WAIT_MAX_FIELDS];
	int nfields; /* entries in fields */
};

static struct wait *wait_new(store_json_cb *cb, void *arg, const char *what)
{
	struct wait *w = xcalloc(1, sizeof *w);

	w->cb = cb;
	w->arg = arg;
	w->json_stmt = -1;
	w->what = what;
	return w;
}

/* Say that a failure of statements first..last is about request field field. */
static void wait_fields(struct wait *w, int first, int last, const char *field)
{
	ASSERT(w->nfields < WAIT_MAX_FIELDS);
	w->fields[w->nfields].first = first;
	w->fields[w->nfields].last = last;
	w->fields[w->nfields].field = field;
	w->nfields++;
}

static void wait_field(struct wait *w, int stmt, const char *field)
{
	wait_fields(w, stmt, stmt, field);
}

/* Reply with the JSON text of statement w->json_stmt, or the failure with its field. */
static void json_done(const struct db_result *r, void *arg)
{
	struct wait *w = arg;
	const char *json = NULL;
	struct err err;

	if (r->st != ST_OK) {
		err = r->err;
		for (int i = 0; i < w->nfields; i++)
			if (r->failed_stmt >= w->fields[i].first &&
			    r->failed_stmt <= w->fields[i].last && r->sqlstate[0] == 'C')
				snprintf(err.field, sizeof err.field, "%s", w->fields[i].field);
		w->cb(r->st, &err, NULL, w->arg);
		free(w);
		return;
	}
	if (w->json_stmt >= 0)
		json = db_value(r->res[w->json_stmt], 0, 0);
	if (json == NULL) {
		err_set(&err, ST_NOT_FOUND, NULL, "%s not found", w->what);
		w->cb(ST_NOT_FOUND, &err, NULL, w->arg);
	} else {
		w->cb(ST_OK, NULL, json, w->arg);
	}
	free(w);
}

/* Submit a read of one JSON cell. */
static void submit_read(struct db *db, const char *sql, const char *what, store_json_cb *cb,
                        void *arg)
{
	struct db_req *req = db_req_new();
	struct wait *w = wait_new(cb, arg, what);

	w->json_stmt = db_req_add(req, sql, 0, NULL);
	db_req_submit(db, req, json_done, w);
}

void store_ward_list(struct db *db, store_json_cb *cb, void *arg)
{
	submit_read(db, SQL_WARD_LIST, "ward", cb, arg);
}

/* Append the outbox lock, event type about the row keyed key, and the reply read. */
static void add_tail(struct db_req *req, struct wait *w, const char *event_sql, const char *type,
                     const char *json_sql, const char *key)
{
	const char *ev[] = {type, key};
	const char *one[] = {key};

	store_add_events_lock(req);
	db_req_add(req, event_sql, 2, ev);
	w->json_stmt = db_req_add(req, json_sql, 1, one);
}

void store_ward_add(struct db *db, const struct ward_input *in, const struct actor *actor,
                    store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	struct wait *w = wait_new(cb, arg, "ward");
	char beds[16];
	const char *code[] = {in->code};
	const char *pas[] = {in->pas_code, in->code};
	const char *ins[] = {in->code, in->name, beds, in->pas_code, in->hub_organisation_id};
	const char *aud[] = {actor->id, actor->name, "ward.add", in->code, actor->request_id};

	snprintf(beds, sizeof beds, "%d", in->set_beds ? in->beds : 0);
	wait_field(w, db_req_add(req, SQL_WARD_FREE, 1, code), "code");
	wait_field(w, db_req_add(req, SQL_PAS_FREE, 2, pas), "pas_code");
	db_req_add(req, SQL_WARD_INSERT, 5, ins);
	db_req_add(req, SQL_WARD_AUDIT_ADD, 5, aud);
	add_tail(req, w, SQL_WARD_EVENT, "ward.created", SQL_WARD_JSON, in->code);
	db_req_submit(db, req, json_done, w);
}

void store_ward_update(struct db *db, const struct ward_input *in, const struct actor *actor,
                       store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	struct wait *w = wait_new(cb, arg, "ward");
	char beds[16];
	const char *code[] = {in->code};
	const char *pas[] = {in->set_pas_code ? in->pas_code : NULL, in->code};
	const char *upd[] = {actor->id,
	                     actor->name,
	                     "ward.update",
	                     in->code,
	                     in->name,
	                     in->set_beds ? beds : NULL,
	                     in->set_pas_code ? "true" : "false",
	                     in->pas_code,
	                     actor->request_id,
	                     in->set_hub ? "true" : "false",
	                     in->hub_organisation_id};

	snprintf(beds, sizeof beds, "%d", in->beds);
	wait_field(w, db_req_add(req, SQL_WARD_FOUND, 1, code), "code");
	wait_field(w, db_req_add(req, SQL_PAS_FREE, 2, pas), "pas_code");
	db_req_add(req, SQL_WARD_UPDATE_AUDIT, 11, upd);
	add_tail(req, w, SQL_WARD_EVENT, "ward.updated", SQL_WARD_JSON, in->code);
	db_req_submit(db, req, json_done, w);
}

void store_template_list(struct db *db, store_json_cb *cb, void *arg)
{
	submit_read(db, SQL_TEMPLATE_LIST, "task template", cb, arg);
}

struct template_wait {
	store_template_cb *cb; /* the caller's callback */
	void *arg;             /* its argument */
};

static void template_got(const struct db_result *r, void *arg)
{
	struct template_wait *w = arg;
	const struct pg_result *res = r->res[0];
	struct template_facts f;
	struct err err;

	if (r->st != ST_OK) {
		w->cb(r->st, NULL, w->arg);
	} else if (db_rows(res) != 1) {
		w->cb(ST_NOT_FOUND, NULL, w->arg);
	} else {
		memset(&f, 0, sizeof f);
		snprintf(f.t.id, sizeof f.t.id, "%s", db_value(res, 0, 0));
		f.t.min_pathway = atoi(db_value(res, 0, 1));
		f.t.max_pathway = atoi(db_value(res, 0, 2));
		snprintf(f.t.discipline, sizeof f.t.discipline, "%s", db_value(res, 0, 3));
		snprintf(f.t.title, sizeof f.t.title, "%s", db_value(res, 0, 4));
		if (template_anchor_parse(db_value(res, 0, 5), &f.t.anchor, &err) != ST_OK)
			f.t.anchor = TEMPLATE_AFTER_ADMISSION; /* the table's CHECK forbids it */
		f.t.offset_seconds = strtoll(db_value(res, 0, 6), NULL, 10);
		f.t.active = db_value(res, 0, 7)[0] == 't';
		f.position = atoi(db_value(res, 0, 8));
		f.version = atoi(db_value(res, 0, 9));
		f.json = db_value(res, 0, 10);
		w->cb(ST_OK, &f, w->arg);
	}
	free(w);
}

void store_template_get(struct db *db, const char *id, store_template_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	struct template_wait *w = xmalloc(sizeof *w);
	const char *v[] = {id};

	w->cb = cb;
	w->arg = arg;
	db_req_add(req, SQL_TEMPLATE_GET, 1, v);
	db_req_submit(db, req, template_got, w);
}

/* The text forms of a template's fields, for statement parameters. */
struct template_text {
	char min[8], max[8], offset[24], position[16];
};

static void template_text(const struct task_template *t, int position, struct template_text *x)
{
	snprintf(x->min, sizeof x->min, "%d", t->min_pathway);
	snprintf(x->max, sizeof x->max, "%d", t->max_pathway);
	snprintf(x->offset, sizeof x->offset, "%lld", (long long)t->offset_seconds);
	snprintf(x->position, sizeof x->position, "%d", position);
}

void store_template_add(struct db *db, const struct task_template *t, const int *position,
                        const struct actor *actor, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	struct wait *w = wait_new(cb, arg, "task template");
	struct template_text x;
	char id[37];
	const char *disc[] = {t->discipline};
	const char *ins[] = {id,
	                     x.min,
	                     x.max,
	                     t->discipline,
	                     t->title,
	                     template_anchor_name(t->anchor),
	                     x.offset,
	                     t->active ? "true" : "false",
	                     position != NULL ? x.position : NULL};
	const char *aud[] = {actor->id, actor->name, "task_template.add",
	                     id,        NULL,        actor->request_id};

	store_new_id(id);
	template_text(t, position != NULL ? *position : 0, &x);
	wait_field(w, db_req_add(req, SQL_DISCIPLINE_FOUND, 1, disc), "discipline");
	db_req_add(req, SQL_TEMPLATE_INSERT, 9, ins);
	db_req_add(req, SQL_TEMPLATE_AUDIT, 6, aud);
	add_tail(req, w, SQL_TEMPLATE_EVENT, "task_template.created", SQL_TEMPLATE_JSON, id);
	db_req_submit(db, req, json_done, w);
}

void store_template_update(struct db *db, const struct template_facts *f,
                           const struct task_template *t, int position, const struct actor *actor,
                           store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	struct wait *w = wait_new(cb, arg, "task template");
	struct template_text x;
	char version[16];
	const char *disc[] = {t->discipline};
	const char *upd[] = {f->t.id,
	                     version,
	                     x.min,
	                     x.max,
	                     t->discipline,
	                     t->title,
	                     template_anchor_name(t->anchor),
	                     x.offset,
	                     t->active ? "true" : "false",
	                     x.position};
	const char *aud[] = {actor->id, actor->name, "task_template.update",
	                     f->t.id,   f->json,     actor->request_id};

	snprintf(version, sizeof version, "%d", f->version);
	template_text(t, position, &x);
	wait_field(w, db_req_add(req, SQL_DISCIPLINE_FOUND, 1, disc), "discipline");
	db_req_add(req, SQL_TEMPLATE_UPDATE, 10, upd);
	db_req_add(req, SQL_TEMPLATE_AUDIT, 6, aud);
	add_tail(req, w, SQL_TEMPLATE_EVENT, "task_template.updated", SQL_TEMPLATE_JSON, f->t.id);
	db_req_submit(db, req, json_done, w);
}

void store_user_list(struct db *db, store_json_cb *cb, void *arg)
{
	submit_read(db, SQL_USER_LIST, "user", cb, arg);
}

void store_user_add(struct db *db, const struct user_input *u, const struct actor *actor,
                    store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	struct wait *w = wait_new(cb, arg, "user");
	char id[37];
	const char *name[] = {u->name};
	const char *ins[] = {id,
	                     u->name,
	                     u->display_name,
	                     u->role,
	                     u->team_lead ? "true" : "false",
	                     u->organisation_id};
	const char *aud[] = {actor->id, actor->name, "user.add", id, actor->request_id};
	int first = -1, last = -1;

	store_new_id(id);
	wait_field(w, db_req_add(req, SQL_USER_FREE, 1, name), "name");
	db_req_add(req, SQL_USER_INSERT, 6, ins);
	for (int i = 0; i < u->nwards; i++) {
		const char *uw[] = {id, u->wards[i]};
		last = db_req_add(req, SQL_USER_WARD_ADD, 2, uw);
		if (first < 0)
			first = last;
	}
	if (first >= 0)
		wait_fields(w, first, last, "wards");
	db_req_add(req, SQL_USER_AUDIT_ADD, 5, aud);
	add_tail(req, w, SQL_USER_EVENT, "user.created", SQL_USER_JSON, id);
	db_req_submit(db, req, json_done, w);
}

void store_user_unlock(struct db *db, const char *id, const struct actor *actor, store_json_cb *cb,
                       void *arg)
{
	struct db_req *req = db_req_new();
	struct wait *w = wait_new(cb, arg, "user");
	const char *one[] = {id};
	const char *unl[] = {actor->id, actor->name, "user.unlock", id, actor->request_id};

	wait_field(w, db_req_add(req, SQL_USER_EXISTS, 1, one), "id");
	db_req_add(req, SQL_USER_UNLOCK_AUDIT, 5, unl);
	add_tail(req, w, SQL_USER_EVENT, "user.unlocked", SQL_USER_JSON, id);
	db_req_submit(db, req, json_done, w);
}

void store_user_disable(struct db *db, const char *id, const struct actor *actor, store_json_cb *cb,
                        void *arg)
{
	struct db_req *req = db_req_new();
	struct wait *w = wait_new(cb, arg, "user");
	const char *one[] = {id};
	const char *dis[] = {actor->id, actor->name, "user.disable", id, actor->request_id};

	wait_field(w, db_req_add(req, SQL_USER_FOUND, 1, one), "id");
	db_req_add(req, SQL_USER_DISABLE_AUDIT, 5, dis);
	db_req_add(req, SQL_USER_REVOKE, 1, one);
	add_tail(req, w, SQL_USER_EVENT, "user.disabled", SQL_USER_JSON, id);
	db_req_submit(db, req, json_done, w);
}

void store_organisation_list(struct db *db, const char *kind, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	struct wait *w = wait_new(cb, arg, "organisation");
	const char *p[] = {kind};

	w->json_stmt = db_req_add(req, SQL_ORG_LIST, 1, p);
	db_req_submit(db, req, json_done, w);
}

struct org_wait {
	store_organisation_cb *cb; /* the caller's callback */
	void *arg;                 /* its argument */
	int stmt[2];               /* the statements of the two lookups, -1: not asked */
};

static void org_facts_from(const struct pg_result *res, struct organisation_facts *f)
{
	memset(f, 0, sizeof *f);
	if (res == NULL || db_rows(res) != 1)
		return;
	f->found = true;
	snprintf(f->id, sizeof f->id, "%s", db_value(res, 0, 0));
	snprintf(f->code, sizeof f->code, "%s", db_value(res, 0, 1));
	f->name = db_value(res, 0, 2);
	snprintf(f->kind, sizeof f->kind, "%s", db_value(res, 0, 3));
	f->disabled = db_value(res, 0, 4)[0] == 't';
	f->services = db_value(res, 0, 5);
	snprintf(f->local_authority_id, sizeof f->local_authority_id, "%s", db_value(res, 0, 6));
	f->version = atoi(db_value(res, 0, 7));
	f->json = db_value(res, 0, 8);
}

static void org_got(const struct db_result *r, void *arg)
{
	struct org_wait *w = arg;
	struct organisation_facts f[2];

	if (r->st != ST_OK) {
		w->cb(r->st, NULL, NULL, w->arg);
	} else {
		for (int i = 0; i < 2; i++)
			org_facts_from(w->stmt[i] >= 0 ? r->res[w->stmt[i]] : NULL, &f[i]);
		w->cb(ST_OK, &f[0], &f[1], w->arg);
	}
	free(w);
}

void store_organisation_get(struct db *db, const char *ref, const char *other,
                            store_organisation_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	struct org_wait *w = xmalloc(sizeof *w);
	const char *refs[2] = {ref, other};

	w->cb = cb;
	w->arg = arg;
	for (int i = 0; i < 2; i++) {
		const char *v[] = {refs[i] != NULL ? refs[i] : ""};

		/* an empty name matches nothing, but keeps one statement per lookup */
		w->stmt[i] = db_req_add(req, SQL_ORG_FACTS, 1, v);
	}
	db_req_submit(db, req, org_got, w);
}

/* services as a JSON array of their names (owned). */
static char *services_json(const struct organisation_write *o)
{
	cJSON *a = cJSON_CreateArray();
	char *text;

	for (size_t i = 0; i < o->nservices; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(o->services[i]));
	text = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	return text;
}

void store_organisation_add(struct db *db, const struct organisation_write *o,
                            const struct actor *actor, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	struct wait *w = wait_new(cb, arg, "organisation");
	char id[37];
	char *services = services_json(o);
	const char *code[] = {o->code};
	const char *ins[] = {id, o->code, o->name, o->kind, services, o->local_authority_id};
	const char *aud[] = {actor->id, actor->name, "organisation.add",
	                     id,        NULL,        actor->request_id};

	store_new_id(id);
	wait_field(w, db_req_add(req, SQL_ORG_CODE_FREE, 1, code), "code");
	db_req_add(req, SQL_ORG_INSERT, 6, ins);
	db_req_add(req, SQL_ORG_AUDIT, 6, aud);
	add_tail(req, w, SQL_ORG_EVENT, "organisation.created", SQL_ORG_JSON, id);
	db_req_submit(db, req, json_done, w);
	free(services);
}

void store_organisation_update(struct db *db, const struct organisation_facts *f,
                               const struct organisation_write *o, const struct actor *actor,
                               store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	struct wait *w = wait_new(cb, arg, "organisation");
	char version[16];
	char *services = services_json(o);
	const char *upd[] = {f->id, version, o->name, services, o->local_authority_id};
	const char *aud[] = {actor->id, actor->name, "organisation.update",
	                     f->id,     f->json,     actor->request_id};

	snprintf(version, sizeof version, "%d", f->version);
	db_req_add(req, SQL_ORG_UPDATE, 5, upd);
	db_req_add(req, SQL_ORG_AUDIT, 6, aud);
	add_tail(req, w, SQL_ORG_EVENT, "organisation.updated", SQL_ORG_JSON, f->id);
	db_req_submit(db, req, json_done, w);
	free(services);
}

void store_organisation_disable(struct db *db, const char *id, const struct actor *actor,
                                store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	struct wait *w = wait_new(cb, arg, "organisation");
	const char *one[] = {id};
	const char *aud[] = {actor->id, actor->name, "organisation.disable",
	                     id,        NULL,        actor->request_id};

	wait_field(w, db_req_add(req, SQL_ORG_DISABLABLE, 1, one), "id");
	db_req_add(req, SQL_ORG_DISABLE, 1, one);
	db_req_add(req, SQL_ORG_AUDIT, 6, aud);
	add_tail(req, w, SQL_ORG_EVENT, "organisation.disabled", SQL_ORG_JSON, id);
	db_req_submit(db, req, json_done, w);
}

/*
 * store_task.c - SQL for discharge tasks (see store_task.h).
 */
#include "store_task.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "db.h"
#include "json.h"
#include "xmalloc.h"

/* The ward and state of episode $1 (no row when there is none). */
static const char SQL_EPISODE_WARD[] =
    "SELECT e.ward, e.state FROM episodes e WHERE e.id = $1::uuid";

/* One row when discipline $1 exists. */
static const char SQL_DISCIPLINE_EXISTS[] = "SELECT 1 FROM disciplines WHERE name = $1";

/*
 * User $1 as an assignee: role, disabled, and whether attached to the ward of
 * episode $2 (SQL_ASSIGNEE_OF_EPISODE) or of task $2's episode (..._OF_TASK).
 */
#define SQL_ASSIGNEE_HEAD                                                                          \
	"SELECT u.role, u.disabled_at IS NOT NULL, EXISTS (SELECT 1 FROM user_wards w"             \
	" JOIN episodes e ON e.ward = w.ward "
static const char SQL_ASSIGNEE_OF_EPISODE[] =
    SQL_ASSIGNEE_HEAD "WHERE w.user_id = u.id AND e.id = $2::uuid)"
		      " FROM users u WHERE u.id = $1::uuid";
static const char SQL_ASSIGNEE_OF_TASK[] =
    SQL_ASSIGNEE_HEAD "JOIN tasks t ON t.episode_id = e.id WHERE w.user_id = u.id"
		      " AND t.id = $2::uuid) FROM users u WHERE u.id = $1::uuid";

/* The assignee facts in res (NULL when none was asked about). */
static void assignee_read(const struct pg_result *res, struct assignee_facts *a)
{
	memset(a, 0, sizeof *a);
	a->exists = true;
	if (res == NULL)
		return;
	a->exists =
	    db_rows(res) == 1 && role_parse_user(db_value(res, 0, 0), &a->role, NULL) == ST_OK;
	if (!a->exists)
		return;
	a->disabled = strcmp(db_value(res, 0, 1), "t") == 0;
	a->on_ward = strcmp(db_value(res, 0, 2), "t") == 0;
}

/* Aborts with CB409 unless episode $1 is still admitted (it may have left since the read). */
static const char SQL_EPISODE_ADMITTED[] =
    "SELECT cb_expect(e.state = 'admitted', 'CB409',"
    " format('episode is \"%s\"; cannot add tasks', e.state))"
    " FROM episodes e WHERE e.id = $1::uuid";

/* Inserts task $1 of episode $2, status requested. */
static const char SQL_TASK_INSERT[] =
    "INSERT INTO tasks (id, episode_id, discipline, title, status, assignee, due_at, note)"
    " VALUES ($1::uuid, $2::uuid, $3, $4, 'requested', $5::uuid,"
    " to_timestamp($6::double precision), $7)";

/* Task $1 as JSON text. */
static const char SQL_TASK_JSON[] =
    "SELECT cb_task_json(t)::text FROM tasks t WHERE t.id = $1::uuid";

/* The ward of episode $1 and its tasks as {"items": [...]} text, in creation order. */
static const char SQL_TASK_LIST[] =
    "SELECT e.ward, jsonb_build_object('items', coalesce((SELECT jsonb_agg(cb_task_json(t)"
    "  ORDER BY t.created_at, t.title, t.id) FROM tasks t WHERE t.episode_id = e.id),"
    "  '[]'::jsonb))::text"
    " FROM episodes e WHERE e.id = $1::uuid";

/*
 * A page of tasks with their episode's ward, bed and state, and the total:
 * wards $1 and disciplines $2 (JSON arrays, NULL for any), status $3 (NULL any,
 * 'open' or one status), overdue $4 (NULL any), episode $5 (NULL: admitted
 * episodes only), limit $6, offset $7.  Overdue is as cb_task_json has it.
 */
static const char SQL_TASK_LIST_ALL[] =
    "WITH f AS (SELECT t.id, t.due_at, t.created_at FROM tasks t"
    " JOIN episodes e ON e.id = t.episode_id"
    " WHERE ($1::jsonb IS NULL OR e.ward = ANY (cb_text_array($1::jsonb)))"
    " AND ($2::jsonb IS NULL OR t.discipline = ANY (cb_text_array($2::jsonb)))"
    " AND ($3::text IS NULL OR t.status = $3"
    "      OR ($3 = 'open' AND t.status NOT IN ('completed', 'cancelled')))"
    " AND ($4::boolean IS NULL OR (t.overdue_at IS NOT NULL"
    "      AND t.status NOT IN ('completed', 'cancelled')) = $4)"
    " AND (CASE WHEN $5::uuid IS NULL THEN e.state = 'admitted'"
    "      ELSE t.episode_id = $5::uuid END))"
    " SELECT jsonb_build_object("
    "  'items', coalesce((SELECT jsonb_agg(cb_task_json(t) || jsonb_build_object("
    "     'ward', e.ward, 'bed', e.bed, 'episode_state', e.state)"
    "     ORDER BY t.due_at NULLS LAST, t.created_at, t.id)"
    "    FROM tasks t JOIN episodes e ON e.id = t.episode_id"
    "    WHERE t.id IN (SELECT id FROM f ORDER BY due_at NULLS LAST, created_at, id"
    "                   LIMIT $6 OFFSET $7)), '[]'::jsonb),"
    "  'total', (SELECT count(*) FROM f), 'limit', $6::integer, 'offset', $7::integer)::text";

/* Facts of task $1: id, episode, ward, episode state, discipline, status, version. */
static const char SQL_TASK_GET[] =
    "SELECT t.id, t.episode_id, e.ward, e.state, t.discipline, t.status, t.version"
    " FROM tasks t JOIN episodes e ON e.id = t.episode_id WHERE t.id = $1::uuid";

/*
 * Applies a task change if the task is still at version $2 and its episode
 * still on ward $12 (the facts the change was decided on), and in the same
 * statement writes its audit row (actor $10, $11, request $13; the before
 * image is the row the update replaced) and its outbox event.  Returns the
 * task as JSON text, or NULL when either fact no longer holds: not an error,
 * so a stale decision does not abort the other writes sharing the transaction
 * (db.c's group commit).  One statement on the hottest write there is.
 */
static const char SQL_TASK_UPDATE[] =
    "WITH u AS (UPDATE tasks t SET"
    " status = coalesce($3, t.status),"
    " assignee = CASE WHEN $4::boolean THEN $5::uuid ELSE t.assignee END,"
    " due_at = CASE WHEN $6::boolean THEN to_timestamp($7::double precision) ELSE t.due_at END,"
    " note = CASE WHEN $8::boolean THEN $9 ELSE t.note END,"
    /* a new due time starts the chase afresh */
    " chase_level = CASE WHEN $6::boolean THEN 0 ELSE t.chase_level END,"
    " last_chased_at = CASE WHEN $6::boolean THEN NULL ELSE t.last_chased_at END,"
    " next_chase_at = CASE WHEN $6::boolean THEN NULL ELSE t.next_chase_at END,"
    " overdue_at = CASE WHEN $6::boolean THEN NULL ELSE t.overdue_at END,"
    " completed_at = CASE WHEN $3 = 'completed' THEN coalesce(t.completed_at, now())"
    "   ELSE t.completed_at END,"
    " version = t.version + 1, updated_at = now()"
    " FROM tasks pre, episodes e"
    " WHERE t.id = $1::uuid AND t.version = $2::integer AND pre.id = t.id"
    " AND e.id = t.episode_id AND e.ward = $12"
    " RETURNING t.id, t.episode_id, t.discipline, e.ward, cb_task_json(t) AS doc,"
    " cb_task_json(pre) AS before),"
    " a AS (INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before,"
    "  after, request_id) SELECT $10::uuid, $11, 'task.update', 'task', u.id, u.episode_id,"
    "  u.before, u.doc, $13::uuid FROM u),"
    " ev AS (INSERT INTO events (type, ward, episode_id, discipline, payload)"
    "  SELECT 'task.updated', u.ward, u.episode_id, u.discipline,"
    "  u.doc || jsonb_build_object('ward', u.ward) FROM u)"
    " SELECT (SELECT u.doc::text FROM u)";

static void create_context_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_task_create_context_cb *cb = (store_task_create_context_cb *)w->cb;
	struct task_create_context ctx;

	memset(&ctx, 0, sizeof ctx);
	if (r->st != ST_OK) {
		cb(r->st, NULL, w->arg);
	} else if (db_rows(r->res[0]) != 1) {
		cb(ST_NOT_FOUND, NULL, w->arg);
	} else {
		snprintf(ctx.ward, sizeof ctx.ward, "%s", db_value(r->res[0], 0, 0));
		snprintf(ctx.episode_state, sizeof ctx.episode_state, "%s",
		         db_value(r->res[0], 0, 1));
		ctx.discipline_exists = db_rows(r->res[1]) == 1;
		assignee_read(r->n < 3 ? NULL : r->res[2], &ctx.assignee);
		cb(ST_OK, &ctx, w->arg);
	}
	free(w);
}

void store_task_create_context(struct db *db, const char *episode_id, const char *discipline,
                               const char *assignee, store_task_create_context_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *e[] = {episode_id};
	const char *d[] = {discipline};
	const char *u[] = {assignee, episode_id};

	db_req_add(req, SQL_EPISODE_WARD, 1, e);
	db_req_add(req, SQL_DISCIPLINE_EXISTS, 1, d);
	if (assignee != NULL)
		db_req_add(req, SQL_ASSIGNEE_OF_EPISODE, 2, u);
	db_req_submit(db, req, create_context_done,
	              store_wait_new((store_any_fn *)cb, arg, -1, "task"));
}

void store_task_create(struct db *db, const struct task_new *t, const struct actor *actor,
                       store_task_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char id[37], due[32];
	int json_stmt;

	store_new_id(id);
	snprintf(due, sizeof due, "%" PRId64, t->due_at);
	{
		const char *e[] = {t->episode_id};
		const char *v[] = {id,          t->episode_id,           t->discipline, t->title,
		                   t->assignee, t->has_due ? due : NULL, t->note};
		const char *one[] = {id};

		db_req_add(req, SQL_EPISODE_ADMITTED, 1, e);
		db_req_add(req, SQL_TASK_INSERT, 7, v);
		store_add_audit(req, actor, "task.create", "task", id, t->episode_id, NULL, NULL);
		store_add_events_lock(req);
		store_add_event(req, "task.created", "task", id);
		json_stmt = db_req_add(req, SQL_TASK_JSON, 1, one);
	}
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "task"));
}

static void list_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_task_list_cb *cb = (store_task_list_cb *)w->cb;
	struct task_list l;

	if (r->st != ST_OK) {
		cb(r->st, NULL, w->arg);
	} else if (db_rows(r->res[0]) != 1) {
		cb(ST_NOT_FOUND, NULL, w->arg);
	} else {
		snprintf(l.ward, sizeof l.ward, "%s", db_value(r->res[0], 0, 0));
		l.json = db_value(r->res[0], 0, 1);
		cb(ST_OK, &l, w->arg);
	}
	free(w);
}

void store_task_list(struct db *db, const char *episode_id, store_task_list_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {episode_id};

	db_req_add(req, SQL_TASK_LIST, 1, v);
	db_req_submit(db, req, list_done, store_wait_new((store_any_fn *)cb, arg, -1, "task"));
}

void store_task_audit_list(struct db *db, const char *episode_id, const struct actor *actor,
                           store_task_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();

	store_add_audit_read(req, actor, "task.list", "episode", episode_id, episode_id, NULL);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, -1, "task"));
}

/* A JSON array of n strings, or the string "*" when the filter is absent. */
static cJSON *detail_list(const char *const *items, int n, bool given)
{
	cJSON *a;

	if (!given)
		return cJSON_CreateString("*");
	a = cJSON_CreateArray();
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(items[i]));
	return a;
}

void store_task_list_all(struct db *db, const struct task_filter *f, const struct actor *actor,
                         store_task_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char *wards = f->restrict_wards ? json_string_array(f->wards, f->nwards) : NULL;
	char *disciplines =
	    f->disciplines != NULL ? json_string_array(f->disciplines, f->ndisciplines) : NULL;
	char limit[16], offset[16], *detail;
	cJSON *d = cJSON_CreateObject();
	int json_stmt;

	snprintf(limit, sizeof limit, "%d", f->limit);
	snprintf(offset, sizeof offset, "%d", f->offset);
	{
		const char *v[] = {
		    wards,         disciplines,
		    f->status,     f->overdue < 0 ? NULL : (f->overdue ? "true" : "false"),
		    f->episode_id, limit,
		    offset};

		json_stmt = db_req_add(req, SQL_TASK_LIST_ALL, 7, v);
	}
	/* what was asked for, not what was seen: no patient data */
	cJSON_AddItemToObject(d, "wards", detail_list(f->wards, f->nwards, f->restrict_wards));
	cJSON_AddItemToObject(d, "disciplines",
	                      detail_list(f->disciplines, f->ndisciplines, f->disciplines != NULL));
	cJSON_AddStringToObject(d, "status", f->status != NULL ? f->status : "*");
	if (f->overdue < 0)
		cJSON_AddStringToObject(d, "overdue", "*");
	else
		cJSON_AddBoolToObject(d, "overdue", f->overdue);
	cJSON_AddStringToObject(d, "episode", f->episode_id != NULL ? f->episode_id : "*");
	cJSON_AddNumberToObject(d, "limit", f->limit);
	cJSON_AddNumberToObject(d, "offset", f->offset);
	detail = cJSON_PrintUnformatted(d);
	store_add_audit_read(req, actor, "task.list", "task", NULL, f->episode_id, detail);
	cJSON_free(detail);
	cJSON_Delete(d);
	free(wards);
	free(disciplines);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "task"));
}

static void get_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_task_cb *cb = (store_task_cb *)w->cb;
	const struct pg_result *res = r->res[0];
	struct task_facts f;

	if (r->st != ST_OK) {
		cb(r->st, NULL, w->arg);
	} else if (db_rows(res) != 1) {
		cb(ST_NOT_FOUND, NULL, w->arg);
	} else {
		memset(&f, 0, sizeof f);
		snprintf(f.id, sizeof f.id, "%s", db_value(res, 0, 0));
		snprintf(f.episode_id, sizeof f.episode_id, "%s", db_value(res, 0, 1));
		snprintf(f.ward, sizeof f.ward, "%s", db_value(res, 0, 2));
		snprintf(f.episode_state, sizeof f.episode_state, "%s", db_value(res, 0, 3));
		snprintf(f.discipline, sizeof f.discipline, "%s", db_value(res, 0, 4));
		snprintf(f.status, sizeof f.status, "%s", db_value(res, 0, 5));
		f.version = atoi(db_value(res, 0, 6));
		assignee_read(r->n < 2 ? NULL : r->res[1], &f.assignee);
		cb(ST_OK, &f, w->arg);
	}
	free(w);
}

void store_task_get(struct db *db, const char *id, const char *assignee, store_task_cb *cb,
                    void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {id};
	const char *u[] = {assignee, id};

	db_req_add(req, SQL_TASK_GET, 1, v);
	if (assignee != NULL)
		db_req_add(req, SQL_ASSIGNEE_OF_TASK, 2, u);
	db_req_submit(db, req, get_done, store_wait_new((store_any_fn *)cb, arg, -1, "task"));
}

static void change_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_task_json_cb *cb = (store_task_json_cb *)w->cb;
	const char *json = NULL;

	if (r->st == ST_OK)
		json = db_value(r->res[w->json_stmt], 0, 0);
	if (r->st == ST_OK && json == NULL) {
		struct err err;

		err_set(&err, ST_PRECONDITION, NULL,
		        "task was changed by someone else; reload it and try again");
		cb(ST_PRECONDITION, &err, NULL, w->arg);
	} else {
		cb(r->st, &r->err, json, w->arg);
	}
	free(w);
}

void store_task_change(struct db *db, const struct task_facts *f, const struct task_change *c,
                       const struct actor *actor, store_task_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char version[16], due[32];
	int json_stmt;

	snprintf(version, sizeof version, "%d", c->expected_version);
	snprintf(due, sizeof due, "%" PRId64, c->due_at);
	{
		const char *v[] = {f->id,
		                   version,
		                   c->status,
		                   c->set_assignee ? "true" : "false",
		                   c->set_assignee ? c->assignee : NULL,
		                   c->set_due || c->clear_due ? "true" : "false",
		                   c->set_due ? due : NULL,
		                   c->set_note || c->clear_note ? "true" : "false",
		                   c->set_note ? c->note : NULL,
		                   actor->id,
		                   actor->name,
		                   f->ward,
		                   actor->request_id};

		store_add_events_lock(req);
		json_stmt = db_req_add(req, SQL_TASK_UPDATE, 13, v);
	}
	db_req_submit(db, req, change_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "task"));
}

/*
 * store_audit.c - SQL for reading the audit log (see store_audit.h).
 */
#include "store_audit.h"

#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "db.h"
#include "xmalloc.h"

/*
 * A page of audit rows matching every given filter (episode $1, actor $2,
 * entity $3; NULL ignores one), oldest first, as {"items", "limit", "offset"}.
 */
static const char SQL_AUDIT_LIST[] =
    "SELECT jsonb_build_object('items',"
    " coalesce(jsonb_agg(cb_audit_json(a) ORDER BY a.id), '[]'::jsonb),"
    " 'limit', $4::integer, 'offset', $5::integer)::text"
    " FROM (SELECT * FROM audit a"
    "  WHERE ($1::uuid IS NULL OR a.episode_id = $1::uuid)"
    "  AND ($2::text IS NULL OR a.actor = $2)"
    "  AND ($3::uuid IS NULL OR a.entity_id = $3::uuid)"
    "  ORDER BY a.id LIMIT $4::integer OFFSET $5::integer) a";

static void list_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_json_cb *cb = (store_json_cb *)w->cb;
	const char *json = r->st == ST_OK ? db_value(r->res[w->json_stmt], 0, 0) : NULL;
	struct err err;

	if (r->st == ST_OK && json == NULL) {
		err_set(&err, ST_INTERNAL, NULL, "could not read the audit log");
		cb(ST_INTERNAL, &err, NULL, w->arg);
	} else {
		cb(r->st, &r->err, json, w->arg);
	}
	free(w);
}

/* The read's own audit detail: the filters asked for (JSON text, caller frees). */
static char *filter_detail(const struct audit_filter *f)
{
	cJSON *d = cJSON_CreateObject();
	char *text;

	if (f->episode_id != NULL)
		cJSON_AddStringToObject(d, "episode", f->episode_id);
	if (f->actor != NULL)
		cJSON_AddStringToObject(d, "actor", f->actor);
	if (f->entity_id != NULL)
		cJSON_AddStringToObject(d, "entity_id", f->entity_id);
	cJSON_AddNumberToObject(d, "limit", f->limit);
	cJSON_AddNumberToObject(d, "offset", f->offset);
	text = cJSON_PrintUnformatted(d);
	ASSERT(text != NULL);
	cJSON_Delete(d);
	return text;
}

void store_audit_list(struct db *db, const struct audit_filter *f, const struct actor *actor,
                      store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	struct store_wait *w = store_wait_new((store_any_fn *)cb, arg, -1, NULL);
	char limit[16], offset[16], *detail;
	const char *v[] = {f->episode_id, f->actor, f->entity_id, limit, offset};

	snprintf(limit, sizeof limit, "%d", f->limit);
	snprintf(offset, sizeof offset, "%d", f->offset);
	w->json_stmt = db_req_add(req, SQL_AUDIT_LIST, 5, v);
	detail = filter_detail(f);
	store_add_audit_read(req, actor, "audit.read", "audit", NULL, f->episode_id, detail);
	cJSON_free(detail);
	db_req_submit(db, req, list_done, w);
}

void store_audit_stream_open(struct db *db, const struct actor *actor, const char *episode_id,
                             const char *detail_json, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();

	store_add_audit_read(req, actor, "stream.open", "stream", NULL, episode_id, detail_json);
	db_req_submit(db, req, store_json_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

void store_audit_notify_test(struct db *db, const struct actor *actor, const char *detail_json,
                             store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();

	store_add_audit(req, actor, "notify.test", "notify", NULL, NULL, NULL, detail_json);
	db_req_submit(db, req, store_json_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

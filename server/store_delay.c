/*
 * store_delay.c - SQL for delay reasons (see store_delay.h).
 */
#include "store_delay.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "cbtime.h"
#include "db.h"
#include "xmalloc.h"

/* The ward of episode $1 and its open delay: id, version, JSON (NULLs when none). */
static const char SQL_DELAY_GET[] =
    "SELECT e.ward, d.id, d.version, cb_delay_json(d)::text FROM episodes e"
    " LEFT JOIN delays d ON d.episode_id = e.id AND d.closed_at IS NULL"
    " WHERE e.id = $1::uuid";

/* Sets reason $3 and attribution $4 on delay $1 if still at version $2 (CB412 otherwise). */
static const char SQL_DELAY_SET[] =
    "WITH u AS (UPDATE delays SET reason_code = $3, attribution = $4, updated_at = now(),"
    " version = version + 1 WHERE id = $1::uuid AND version = $2::integer RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB412',"
    " 'delay was changed by someone else; reload it and try again') FROM u";

/* The delay $1 as JSON text. */
static const char SQL_DELAY_JSON[] = "SELECT cb_delay_json(d)::text FROM delays d WHERE d.id = $1";

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static void get_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_delay_facts_cb *cb = (store_delay_facts_cb *)w->cb;
	struct delay_facts f;

	if (r->st != ST_OK) {
		cb(r->st, NULL, w->arg);
	} else if (db_rows(r->res[0]) != 1) {
		cb(ST_NOT_FOUND, NULL, w->arg);
	} else {
		memset(&f, 0, sizeof f);
		copy(f.ward, sizeof f.ward, db_value(r->res[0], 0, 0));
		copy(f.delay_id, sizeof f.delay_id, db_value(r->res[0], 0, 1));
		f.version = db_value(r->res[0], 0, 2) ? atoi(db_value(r->res[0], 0, 2)) : 0;
		f.json = db_value(r->res[0], 0, 3);
		cb(ST_OK, &f, w->arg);
	}
	free(w);
}

void store_delay_get(struct db *db, const char *episode_id, store_delay_facts_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {episode_id};

	db_req_add(req, SQL_DELAY_GET, 1, v);
	db_req_submit(db, req, get_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

void store_delay_set(struct db *db, const char *episode_id, const struct delay_facts *f,
                     const char *reason, const char *attribution, const struct actor *actor,
                     store_delay_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char ver[16];
	const char *v[] = {f->delay_id, ver, reason, attribution};
	const char *one[] = {f->delay_id};
	int js;

	snprintf(ver, sizeof ver, "%d", f->version);
	db_req_add(req, SQL_DELAY_SET, 4, v);
	store_add_audit(req, actor, "delay.set_reason", "delay", f->delay_id, episode_id, f->json,
	                NULL);
	store_add_events_lock(req);
	store_add_event(req, "delay.updated", "delay", f->delay_id);
	js = db_req_add(req, SQL_DELAY_JSON, 1, one);
	db_req_submit(db, req, store_json_done, store_wait_new((store_any_fn *)cb, arg, js, NULL));
}

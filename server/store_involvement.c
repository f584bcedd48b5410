/*
 * store_involvement.c - SQL for involvement records (see store_involvement.h).
 */
#include "store_involvement.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "xmalloc.h"

/* Episode $1: ward, state, admitted and discharged (epoch, 0 when not discharged). */
static const char SQL_CONTEXT[] =
    "SELECT e.ward, e.state, floor(extract(epoch FROM e.admitted_at))::bigint,"
    " coalesce(ceil(extract(epoch FROM e.discharged_at))::bigint, 0)"
    " FROM episodes e WHERE e.id = $1::uuid";

/*
 * Record $1 of episode $2: who $3, name $4, discussed at $5 (epoch), agreed
 * $6, note $7, recorded at $8 (epoch) by $9/$10 as role $11.
 */
static const char SQL_INSERT[] =
    "INSERT INTO involvements (id, episode_id, who, name, discussed_at, agreed, note,"
    " recorded_at, recorded_by_id, recorded_by, recorded_role)"
    " VALUES ($1::uuid, $2::uuid, $3, $4, to_timestamp($5::double precision), $6::boolean, $7,"
    " to_timestamp($8::double precision), $9::uuid, $10, $11)";

/* The audit row of record $1 ($2 actor id, $3 actor, $4 request id). */
static const char SQL_AUDIT[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before, after,"
    " request_id) SELECT $2::uuid, $3, 'involvement.record', 'involvement', i.id,"
    " i.episode_id, NULL, cb_involvement_json(i), $4::uuid FROM involvements i"
    " WHERE i.id = $1::uuid";

/* The involvement.recorded outbox event of record $1, for the episode's ward. */
static const char SQL_EVENT[] =
    "INSERT INTO events (type, ward, episode_id, discipline, payload)"
    " SELECT 'involvement.recorded', e.ward, e.id, NULL,"
    " cb_involvement_json(i) || jsonb_build_object('ward', e.ward)"
    " FROM involvements i JOIN episodes e ON e.id = i.episode_id WHERE i.id = $1::uuid";

/* The reply: record $1. */
static const char SQL_REPLY[] =
    "SELECT cb_involvement_json(i)::text FROM involvements i WHERE i.id = $1::uuid";

/* Episode $1's ward and its records, latest conversation first. */
static const char SQL_LIST[] =
    "SELECT e.ward, jsonb_build_object('items', coalesce((SELECT jsonb_agg("
    " cb_involvement_json(i) ORDER BY i.discussed_at DESC, i.recorded_at DESC, i.id)"
    " FROM involvements i WHERE i.episode_id = e.id), '[]'::jsonb))::text"
    " FROM episodes e WHERE e.id = $1::uuid";

static void context_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_involvement_context_cb *cb = (store_involvement_context_cb *)w->cb;
	const struct pg_result *res = r->res[0];
	struct involvement_context ctx;

	if (r->st != ST_OK || db_rows(res) != 1) {
		cb(r->st != ST_OK ? r->st : ST_NOT_FOUND, NULL, w->arg);
		free(w);
		return;
	}
	memset(&ctx, 0, sizeof ctx);
	snprintf(ctx.ward, sizeof ctx.ward, "%s", db_value(res, 0, 0));
	ctx.e.state = db_value(res, 0, 1);
	ctx.e.admitted_at = strtoll(db_value(res, 0, 2), NULL, 10);
	ctx.e.discharged_at = strtoll(db_value(res, 0, 3), NULL, 10);
	cb(ST_OK, &ctx, w->arg);
	free(w);
}

void store_involvement_context(struct db *db, const char *episode_id,
                               store_involvement_context_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {episode_id};

	db_req_add(req, SQL_CONTEXT, 1, v);
	db_req_submit(db, req, context_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

void store_involvement_record(struct db *db, const char *episode_id, const struct involvement *in,
                              const char *role_name, int64_t now, const struct actor *actor,
                              store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char id[37], discussed[32], recorded[32];
	const char *ids[] = {id, actor->id, actor->name, actor->request_id};
	const char *one[] = {id};
	int js;

	store_new_id(id);
	snprintf(discussed, sizeof discussed, "%" PRId64, in->discussed_at);
	snprintf(recorded, sizeof recorded, "%" PRId64, now);
	{
		const char *v[] = {id,
		                   episode_id,
		                   involvement_who_name(in->who),
		                   in->name[0] != '\0' ? in->name : NULL,
		                   discussed,
		                   in->agreed ? "true" : "false",
		                   in->note[0] != '\0' ? in->note : NULL,
		                   recorded,
		                   actor->id,
		                   actor->name,
		                   role_name};

		store_add_events_lock(req);
		db_req_add(req, SQL_INSERT, 11, v);
	}
	db_req_add(req, SQL_AUDIT, 4, ids);
	db_req_add(req, SQL_EVENT, 1, one);
	js = db_req_add(req, SQL_REPLY, 1, one);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, js, "involvement"));
}

void store_involvement_list(struct db *db, const char *episode_id, store_ward_json_cb *cb,
                            void *arg)
{
	store_ward_json_read(db, SQL_LIST, episode_id, cb, arg);
}

void store_involvement_audit_list(struct db *db, const char *episode_id, const struct actor *actor,
                                  store_json_cb *cb, void *arg)
{
	store_audit_list_read(db, actor, "involvement.list", "involvement", episode_id, cb, arg);
}

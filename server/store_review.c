/*
 * store_review.c - SQL for criteria-to-reside reviews (see store_review.h).
 */
#include "store_review.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "cbtime.h"
#include "db.h"
#include "xmalloc.h"

/* Facts, JSON and latest review (epoch, 0 if none) of episode $1. */
static const char SQL_REVIEW_EPISODE[] =
    "SELECT e.id, e.state, e.ward, e.version, e.ready_at IS NOT NULL,"
    " coalesce(extract(epoch FROM e.ready_at)::bigint, 0),"
    " extract(epoch FROM e.admitted_at)::bigint, cb_episode_json(e)::text,"
    " coalesce((SELECT extract(epoch FROM max(r.decided_at))::bigint FROM reviews r"
    "  WHERE r.episode_id = e.id), 0)"
    " FROM episodes e WHERE e.id = $1::uuid";

/* The default criteria list's name and its keys in force on date $1, in order. */
static const char SQL_CRITERIA[] =
    "SELECT l.name, i.key FROM reference_lists l JOIN reference_items i ON i.list = l.name"
    " WHERE l.kind = 'criterion' AND l.is_default AND i.active_from <= $1::date"
    " ORDER BY i.position, i.key";

/*
 * Review $1 of episode $2: decided $3, recorded $4 (epochs), reviewer $5/$6/$7,
 * outcome $8, criteria list $9 and keys $10, note $11, readiness change $12.
 */
static const char SQL_REVIEW_INSERT[] =
    "INSERT INTO reviews (id, episode_id, decided_at, recorded_at, reviewer_id, reviewer,"
    " reviewer_role, outcome, criteria_list, criteria_met, note, ready_change)"
    " VALUES ($1::uuid, $2::uuid, to_timestamp($3::double precision),"
    " to_timestamp($4::double precision), $5::uuid, $6, $7, $8, $9, $10::text[], $11, $12)";

/*
 * Episode $1 was reviewed at $2: its latest review moves on, and a review at
 * or after the last board round $3 clears the "not reviewed" flag and ends its
 * chase (the next missed round starts one afresh, at level 1).
 */
static const char SQL_EPISODE_REVIEWED[] =
    "UPDATE episodes SET last_review_at = greatest(last_review_at,"
    " to_timestamp($2::double precision)),"
    " review_overdue_at = CASE WHEN $2::bigint >= $3::bigint THEN NULL"
    "  ELSE review_overdue_at END,"
    " review_due_at = CASE WHEN $2::bigint >= $3::bigint THEN NULL ELSE review_due_at END,"
    " review_chase_level = CASE WHEN $2::bigint >= $3::bigint THEN 0"
    "  ELSE review_chase_level END,"
    " review_last_chased_at = CASE WHEN $2::bigint >= $3::bigint THEN NULL"
    "  ELSE review_last_chased_at END,"
    " review_next_chase_at = CASE WHEN $2::bigint >= $3::bigint THEN NULL"
    "  ELSE review_next_chase_at END"
    " WHERE id = $1::uuid";

/* The audit row of review $1 ($2 actor id, $3 actor, $4 request id). */
static const char SQL_REVIEW_AUDIT[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before, after,"
    " request_id) SELECT $2::uuid, $3, 'review.record', 'review', r.id, r.episode_id, NULL,"
    " cb_review_json(r), $4::uuid FROM reviews r WHERE r.id = $1::uuid";

/* The review.recorded outbox event of review $1. */
static const char SQL_REVIEW_EVENT[] =
    "INSERT INTO events (type, ward, episode_id, discipline, payload)"
    " SELECT 'review.recorded', e.ward, e.id, NULL,"
    " cb_review_json(r) || jsonb_build_object('ward', e.ward)"
    " FROM reviews r JOIN episodes e ON e.id = r.episode_id WHERE r.id = $1::uuid";

/* The reply: review $1 with its episode. */
static const char SQL_REVIEW_REPLY[] =
    "SELECT (cb_review_json(r) || jsonb_build_object('episode', cb_episode_json(e)))::text"
    " FROM reviews r JOIN episodes e ON e.id = r.episode_id WHERE r.id = $1::uuid";

/* Episode $1's ward and its reviews, newest first. */
static const char SQL_REVIEW_LIST[] =
    "SELECT e.ward, jsonb_build_object('items', coalesce((SELECT jsonb_agg(cb_review_json(r)"
    " ORDER BY r.decided_at DESC, r.recorded_at DESC, r.id) FROM reviews r"
    " WHERE r.episode_id = e.id), '[]'::jsonb))::text FROM episodes e WHERE e.id = $1::uuid";

/*
 * Flags inpatients admitted before round $1 and not reviewed since, at $2; their
 * review chase is due from that round (store_chase.c).
 */
static const char SQL_FLAG_OVERDUE[] =
    "UPDATE episodes SET review_overdue_at = to_timestamp($2::double precision),"
    " review_due_at = to_timestamp($1::double precision), review_chase_level = 0,"
    " review_last_chased_at = NULL, review_next_chase_at = NULL"
    " WHERE state = 'admitted' AND review_overdue_at IS NULL"
    " AND admitted_at < to_timestamp($1::double precision)"
    " AND (last_review_at IS NULL OR last_review_at < to_timestamp($1::double precision))";

static void context_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_review_context_cb *cb = (store_review_context_cb *)w->cb;
	struct review_context ctx;
	const struct pg_result *res = r->res[0];
	const char **keys = NULL;
	int n;

	if (r->st != ST_OK) {
		cb(r->st, NULL, w->arg);
		free(w);
		return;
	}
	if (db_rows(res) != 1) {
		cb(ST_NOT_FOUND, NULL, w->arg);
		free(w);
		return;
	}
	memset(&ctx, 0, sizeof ctx);
	snprintf(ctx.f.id, sizeof ctx.f.id, "%s", db_value(res, 0, 0));
	snprintf(ctx.f.state, sizeof ctx.f.state, "%s", db_value(res, 0, 1));
	snprintf(ctx.f.ward, sizeof ctx.f.ward, "%s", db_value(res, 0, 2));
	ctx.f.version = atoi(db_value(res, 0, 3));
	ctx.f.ready = db_value(res, 0, 4)[0] == 't';
	ctx.f.ready_at = strtoll(db_value(res, 0, 5), NULL, 10);
	ctx.f.admitted_at = strtoll(db_value(res, 0, 6), NULL, 10);
	ctx.f.json = db_value(res, 0, 7);
	ctx.last_review_at = strtoll(db_value(res, 0, 8), NULL, 10);
	n = db_rows(r->res[1]);
	keys = xcalloc((size_t)n + 1, sizeof *keys);
	for (int i = 0; i < n; i++)
		keys[i] = db_value(r->res[1], i, 1);
	ctx.criteria_list = n > 0 ? db_value(r->res[1], 0, 0) : NULL;
	ctx.criteria = keys;
	ctx.ncriteria = (size_t)n;
	cb(ST_OK, &ctx, w->arg);
	free(keys);
	free(w);
}

void store_review_context(struct db *db, const char *episode_id, int32_t today,
                          store_review_context_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char day[DATE_FORMAT_LEN];
	const char *v[] = {episode_id};
	const char *d[] = {day};

	date_format(today, day);
	db_req_add(req, SQL_REVIEW_EPISODE, 1, v);
	db_req_add(req, SQL_CRITERIA, 1, d);
	db_req_submit(db, req, context_done,
	              store_wait_new((store_any_fn *)cb, arg, -1, "episode"));
}

struct review_extra {
	const struct review_write *w; /* borrowed for the call */
	const struct actor *actor;    /* borrowed for the call */
	const char *id;               /* the new review's id */
};

/* The review's own statements, inside the episode change's transaction. */
static void review_extra_add(struct db_req *req, const char *episode_id, void *arg)
{
	const struct review_extra *x = arg;
	const struct review_write *w = x->w;
	char decided[32], recorded[32], round[32], *criteria = NULL;
	const char *ids[] = {x->id, x->actor->id, x->actor->name, x->actor->request_id};

	snprintf(decided, sizeof decided, "%" PRId64, w->rv->decided_at);
	snprintf(recorded, sizeof recorded, "%" PRId64, w->now);
	snprintf(round, sizeof round, "%" PRId64, w->last_round);
	/* keys are [A-Za-z0-9_] only (review_parse), so need no quoting in the literal */
	for (size_t i = 0; i < w->rv->ncriteria; i++) {
		char *old = criteria;

		criteria = xasprintf("%s%s%s", old != NULL ? old : "", old != NULL ? "," : "",
		                     w->rv->criteria[i]);
		free(old);
	}
	{
		char *arr = xasprintf("{%s}", criteria != NULL ? criteria : "");
		const char *v[] = {x->id,
		                   episode_id,
		                   decided,
		                   recorded,
		                   x->actor->id,
		                   x->actor->name,
		                   w->reviewer_role,
		                   review_outcome_name(w->rv->outcome),
		                   w->criteria_list,
		                   arr,
		                   w->rv->note[0] != '\0' ? w->rv->note : NULL,
		                   review_ready_name(w->ready)};
		const char *e[] = {episode_id, decided, round};

		db_req_add(req, SQL_REVIEW_INSERT, 12, v);
		db_req_add(req, SQL_EPISODE_REVIEWED, 3, e);
		db_req_add(req, SQL_REVIEW_AUDIT, 4, ids);
		db_req_add(req, SQL_REVIEW_EVENT, 1, ids);
		free(arr);
	}
	free(criteria);
}

void store_review_record(struct db *db, const struct episode_facts *f,
                         const struct episode_change *c, const struct review_write *w,
                         const struct actor *actor, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char id[37];
	struct review_extra x = {w, actor, id};
	const char *one[] = {id};
	int json_stmt;

	store_new_id(id);
	/* the readiness history and delay close use the decided time, not the entry time */
	store_episode_change_add(req, f, c, actor, w->rv->decided_at, review_extra_add, &x);
	json_stmt = db_req_add(req, SQL_REVIEW_REPLY, 1, one);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "review"));
}

void store_review_list(struct db *db, const char *episode_id, store_ward_json_cb *cb, void *arg)
{
	store_ward_json_read(db, SQL_REVIEW_LIST, episode_id, cb, arg);
}

void store_review_audit_list(struct db *db, const char *episode_id, const struct actor *actor,
                             store_json_cb *cb, void *arg)
{
	store_audit_list_read(db, actor, "review.list", "review", episode_id, cb, arg);
}

static void flag_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_review_flag_cb *cb = (store_review_flag_cb *)w->cb;

	cb(r->st, w->arg);
	free(w);
}

void store_review_flag_overdue(struct db *db, int64_t last_round, int64_t now,
                               store_review_flag_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char round[32], at[32];
	const char *v[] = {round, at};

	snprintf(round, sizeof round, "%" PRId64, last_round);
	snprintf(at, sizeof at, "%" PRId64, now);
	db_req_add(req, SQL_FLAG_OVERDUE, 2, v);
	db_req_submit(db, req, flag_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

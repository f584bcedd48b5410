/*
 * store_barrier.c - SQL for barriers to discharge (see store_barrier.h).
 */
#include "store_barrier.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "cbtime.h"
#include "db.h"
#include "xmalloc.h"

/*
 * Episode e's columns for the context: id, ward, inpatient, barrier_seq,
 * admitted (epoch), its latest barrier history row, primary or reason (epoch
 * rounded up, so a backdated row is never before it; 0 when none).
 */
#define SQL_CTX_EPISODE_COLUMNS                                                                    \
	"SELECT e.id, e.ward, e.state = 'admitted', e.barrier_seq,"                                \
	" floor(extract(epoch FROM e.admitted_at))::bigint,"                                       \
	" coalesce(ceil(extract(epoch FROM greatest("                                              \
	"  (SELECT max(h.at) FROM barrier_primary_history h WHERE h.episode_id = e.id),"           \
	"  (SELECT max(r.at) FROM barrier_reason_history r JOIN barriers x ON x.id = r.barrier_id" \
	"   WHERE x.episode_id = e.id))))::bigint, 0)"

/* Episode $1: the context columns. */
static const char SQL_CTX_EPISODE[] =
    SQL_CTX_EPISODE_COLUMNS " FROM episodes e WHERE e.id = $1::uuid";

/* The episode of barrier $1: the context columns. */
static const char SQL_CTX_EPISODE_OF[] = SQL_CTX_EPISODE_COLUMNS
    " FROM barriers b JOIN episodes e ON e.id = b.episode_id WHERE b.id = $1::uuid";

/* Open barriers of episode $1 (or of barrier $1's episode): id, opened, primary, version. */
static const char SQL_CTX_OPEN[] =
    "SELECT b.id, extract(epoch FROM b.opened_at)::bigint, b.is_primary, b.version"
    " FROM barriers b WHERE b.closed_at IS NULL AND b.episode_id ="
    " coalesce((SELECT x.episode_id FROM barriers x WHERE x.id = $1::uuid), $1::uuid)"
    " ORDER BY b.opened_at, b.id";

/* Barrier $1: closed, version, JSON, reason list, reason (no row for an episode id). */
static const char SQL_CTX_TARGET[] =
    "SELECT b.closed_at IS NOT NULL, b.version, cb_barrier_json(b)::text, b.reason_list,"
    " b.reason FROM barriers b WHERE b.id = $1::uuid";

/* The default delay-reason list's name and its keys in force on date $1. */
static const char SQL_CTX_REASONS[] =
    "SELECT l.name, i.key FROM reference_lists l JOIN reference_items i ON i.list = l.name"
    " WHERE l.kind = 'delay_reason' AND l.is_default AND i.active_from <= $1::date"
    " ORDER BY i.position, i.key";

/* The guard: episode $1's barriers are as read at barrier_seq $2. */
static const char SQL_SEQ_GUARD[] =
    "WITH u AS (UPDATE episodes SET barrier_seq = barrier_seq + 1"
    " WHERE id = $1::uuid AND barrier_seq = $2::integer RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB412',"
    " 'the episode''s barriers were changed by someone else; reload them and try again')"
    " FROM u";

/* A barrier opened on episode $1: its "no barrier" chase starts afresh next time. */
static const char SQL_CHASE_RESET[] =
    "UPDATE episodes SET barrier_chase_level = 0, barrier_last_chased_at = NULL,"
    " barrier_next_chase_at = NULL WHERE id = $1::uuid";

/* Barrier $1 stops ($2 false) or starts ($2 true) being primary. */
static const char SQL_SET_PRIMARY[] =
    "UPDATE barriers SET is_primary = $2::boolean, updated_at = now(), version = version + 1"
    " WHERE id = $1::uuid AND closed_at IS NULL";

/*
 * New barrier $1 of episode $2: list $3, reason $4, owner $5, note $6, opened
 * at $7 (epoch), primary $8, by $9.
 */
static const char SQL_INSERT[] =
    "INSERT INTO barriers (id, episode_id, reason_list, reason, owner, note, opened_at,"
    " is_primary, opened_by) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6,"
    " to_timestamp($7::double precision), $8::boolean, $9)";

/*
 * Change barrier $1 at version $2: reason ($3 list, $4 key; NULL keeps),
 * owner ($5 set?, $6), note ($7 set?, $8), closed at $9 (epoch, NULL keeps
 * open), primary $10.
 */
static const char SQL_UPDATE[] =
    "WITH u AS (UPDATE barriers SET reason_list = coalesce($3, reason_list),"
    " reason = coalesce($4, reason),"
    " owner = CASE WHEN $5::boolean THEN $6 ELSE owner END,"
    " note = CASE WHEN $7::boolean THEN $8 ELSE note END,"
    " closed_at = coalesce(to_timestamp($9::double precision), closed_at),"
    " is_primary = $10::boolean, updated_at = now(), version = version + 1"
    " WHERE id = $1::uuid AND version = $2::integer AND closed_at IS NULL RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB412',"
    " 'barrier was changed by someone else; reload it and try again') FROM u";

/* From $2 (epoch), barrier $1's reason is $3/$4. */
static const char SQL_REASON_HISTORY[] =
    "INSERT INTO barrier_reason_history (barrier_id, at, reason_list, reason)"
    " VALUES ($1::uuid, to_timestamp($2::double precision), $3, $4)";

/* From $2 (epoch), episode $1's primary barrier is $3 (NULL: none). */
static const char SQL_PRIMARY_HISTORY[] =
    "INSERT INTO barrier_primary_history (episode_id, at, barrier_id)"
    " VALUES ($1::uuid, to_timestamp($2::double precision), $3::uuid)";

/* Audit of barrier $1: actor $2/$3, action $4, before $5, request $6. */
static const char SQL_AUDIT[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before, after,"
    " request_id) SELECT $2::uuid, $3, $4, 'barrier', b.id, b.episode_id, $5::jsonb,"
    " cb_barrier_json(b), $6::uuid FROM barriers b WHERE b.id = $1::uuid";

/* Outbox event $1 about barrier $2. */
static const char SQL_EVENT[] =
    "INSERT INTO events (type, ward, episode_id, discipline, payload)"
    " SELECT $1, e.ward, e.id, NULL, cb_barrier_json(b) || jsonb_build_object('ward', e.ward)"
    " FROM barriers b JOIN episodes e ON e.id = b.episode_id WHERE b.id = $2::uuid";

/* The reply: barrier $1. */
static const char SQL_REPLY[] =
    "SELECT cb_barrier_json(b)::text FROM barriers b WHERE b.id = $1::uuid";

/* Episode $1's ward and its barriers, oldest first. */
static const char SQL_LIST[] =
    "SELECT e.ward, jsonb_build_object('items', coalesce((SELECT jsonb_agg(cb_barrier_json(b)"
    " ORDER BY b.opened_at, b.id) FROM barriers b WHERE b.episode_id = e.id), '[]'::jsonb))::text"
    " FROM episodes e WHERE e.id = $1::uuid";

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static void context_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_barrier_context_cb *cb = (store_barrier_context_cb *)w->cb;
	const struct pg_result *ep = r->res[0], *open = r->res[1], *tg = r->res[2], *rs = r->res[3];
	struct barrier_context ctx;
	const char **keys;
	int n, nk;

	if (r->st != ST_OK) {
		cb(r->st, NULL, w->arg);
		free(w);
		return;
	}
	if (db_rows(ep) != 1) {
		cb(ST_NOT_FOUND, NULL, w->arg);
		free(w);
		return;
	}
	memset(&ctx, 0, sizeof ctx);
	copy(ctx.episode_id, sizeof ctx.episode_id, db_value(ep, 0, 0));
	copy(ctx.ward, sizeof ctx.ward, db_value(ep, 0, 1));
	ctx.admitted = db_value(ep, 0, 2)[0] == 't';
	ctx.seq = atoi(db_value(ep, 0, 3));
	ctx.admitted_at = strtoll(db_value(ep, 0, 4), NULL, 10);
	ctx.latest_history = strtoll(db_value(ep, 0, 5), NULL, 10);
	n = db_rows(open);
	/* one spare entry: the caller may append a new barrier */
	ctx.open = xcalloc((size_t)n + 1, sizeof *ctx.open);
	ctx.versions = xcalloc((size_t)n + 1, sizeof *ctx.versions);
	for (int i = 0; i < n; i++) {
		ctx.open[i].id = db_value(open, i, 0);
		ctx.open[i].opened_at = strtoll(db_value(open, i, 1), NULL, 10);
		ctx.open[i].primary = db_value(open, i, 2)[0] == 't';
		ctx.versions[i] = atoi(db_value(open, i, 3));
	}
	ctx.nopen = (size_t)n;
	if (db_rows(tg) == 1) {
		ctx.has_target = true;
		ctx.target_closed = db_value(tg, 0, 0)[0] == 't';
		ctx.target_version = atoi(db_value(tg, 0, 1));
		ctx.target_json = db_value(tg, 0, 2);
		ctx.target_reason_list = db_value(tg, 0, 3);
		ctx.target_reason = db_value(tg, 0, 4);
	}
	nk = db_rows(rs);
	keys = xcalloc((size_t)nk + 1, sizeof *keys);
	for (int i = 0; i < nk; i++)
		keys[i] = db_value(rs, i, 1);
	ctx.reason_list = nk > 0 ? db_value(rs, 0, 0) : NULL;
	ctx.reasons = keys;
	ctx.nreasons = (size_t)nk;
	cb(ST_OK, &ctx, w->arg);
	free(keys);
	free(ctx.open);
	free(ctx.versions);
	free(w);
}

void store_barrier_context(struct db *db, const char *id, bool by_barrier, int32_t today,
                           store_barrier_context_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char day[DATE_FORMAT_LEN];
	const char *v[] = {id};
	const char *d[] = {day};

	date_format(today, day);
	db_req_add(req, by_barrier ? SQL_CTX_EPISODE_OF : SQL_CTX_EPISODE, 1, v);
	db_req_add(req, SQL_CTX_OPEN, 1, v);
	db_req_add(req, SQL_CTX_TARGET, 1, v);
	db_req_add(req, SQL_CTX_REASONS, 1, d);
	db_req_submit(db, req, context_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

static void add_audit_event(struct db_req *req, const char *id, const struct actor *a,
                            const char *action, const char *before, const char *event)
{
	const char *au[] = {id, a->id, a->name, action, before, a->request_id};
	const char *ev[] = {event, id};

	db_req_add(req, SQL_AUDIT, 6, au);
	db_req_add(req, SQL_EVENT, 2, ev);
}

void store_barrier_write(struct db *db, const struct barrier_write *w, const struct actor *actor,
                         store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const struct barrier_input *in = w->in;
	char seq[16], ver[16], at[32];
	const char *t = "true", *f = "false";
	const char *reply[] = {w->id};
	int js;

	snprintf(seq, sizeof seq, "%d", w->seq);
	snprintf(ver, sizeof ver, "%d", w->version);
	snprintf(at, sizeof at, "%" PRId64, w->at);
	store_add_events_lock(req);
	{
		const char *g[] = {w->episode_id, seq};

		db_req_add(req, SQL_SEQ_GUARD, 2, g);
	}
	/* the old primary first: at most one primary row at any time (unique index) */
	if (w->demote_id != NULL) {
		const char *d[] = {w->demote_id, f};

		db_req_add(req, SQL_SET_PRIMARY, 2, d);
	}
	if (w->create) {
		const char *v[] = {w->id,
		                   w->episode_id,
		                   w->reason_list,
		                   in->reason,
		                   in->owner[0] != '\0' ? in->owner : NULL,
		                   in->note[0] != '\0' ? in->note : NULL,
		                   at,
		                   w->primary ? t : f,
		                   actor->name};

		const char *e[] = {w->episode_id};

		db_req_add(req, SQL_INSERT, 9, v);
		db_req_add(req, SQL_CHASE_RESET, 1, e);
	} else {
		const char *v[] = {w->id,
		                   ver,
		                   w->reason_changed ? w->reason_list : NULL,
		                   w->reason_changed ? in->reason : NULL,
		                   in->has_owner ? t : f,
		                   in->owner[0] != '\0' ? in->owner : NULL,
		                   in->has_note ? t : f,
		                   in->note[0] != '\0' ? in->note : NULL,
		                   in->close ? at : NULL,
		                   w->primary ? t : f};

		db_req_add(req, SQL_UPDATE, 10, v);
	}
	if (w->reason_changed) {
		const char *v[] = {w->id, at, w->reason_list, in->reason};

		db_req_add(req, SQL_REASON_HISTORY, 4, v);
	}
	if (w->promote_id != NULL) {
		const char *p[] = {w->promote_id, t};

		db_req_add(req, SQL_SET_PRIMARY, 2, p);
	}
	if (w->primary_changed) {
		const char *v[] = {w->episode_id, at, w->new_primary};

		db_req_add(req, SQL_PRIMARY_HISTORY, 3, v);
	}
	add_audit_event(req, w->id, actor, w->audit_action, w->before_json, w->event_type);
	if (w->demote_id != NULL)
		add_audit_event(req, w->demote_id, actor, "barrier.update", NULL,
		                "barrier.updated");
	if (w->promote_id != NULL)
		add_audit_event(req, w->promote_id, actor, "barrier.update", NULL,
		                "barrier.updated");
	js = db_req_add(req, SQL_REPLY, 1, reply);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, js, "barrier"));
}

void store_barrier_list(struct db *db, const char *episode_id, store_ward_json_cb *cb, void *arg)
{
	store_ward_json_read(db, SQL_LIST, episode_id, cb, arg);
}

void store_barrier_audit_list(struct db *db, const char *episode_id, const struct actor *actor,
                              store_json_cb *cb, void *arg)
{
	store_audit_list_read(db, actor, "barrier.list", "barrier", episode_id, cb, arg);
}

/*
 * store_chase.c - SQL for chasing and the midnight snapshot (see store_chase.h).
 */
#include "store_chase.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "cbtime.h"
#include "db.h"
#include "store.h"
#include "xmalloc.h"

/*
 * What is chased: overdue tasks, referrals not sent to the hub (kind
 * "referral"), referrals the hub has not accepted or whose confirmed start has
 * passed (kind "hub", 0031), NCTR inpatients with no open barrier, inpatients
 * not reviewed since a board round.  A delay without a
 * reason is no longer chased (issue 14): its reason is a barrier now, chased as
 * such, so an NCTR patient is chased once.
 */
#define CHASE_QUERIES 5

/* Open tasks of admitted episodes whose next (or first) chase time is <= $1. */
static const char SQL_DUE_TASKS[] =
    "SELECT 'task', t.id, t.episode_id, e.ward, t.discipline,"
    " extract(epoch FROM t.due_at)::bigint, t.chase_level,"
    " coalesce(extract(epoch FROM t.last_chased_at)::bigint, 0), t.overdue_at IS NULL, ''"
    " FROM tasks t JOIN episodes e ON e.id = t.episode_id"
    " WHERE e.state = 'admitted' AND t.status NOT IN ('completed', 'cancelled')"
    " AND t.due_at IS NOT NULL"
    " AND coalesce(t.next_chase_at, t.due_at + make_interval(secs => $2::double precision))"
    "     <= to_timestamp($1::double precision)"
    " ORDER BY t.due_at LIMIT $3::integer";

/* Referrals of admitted episodes still not sent to the hub, due for a chase at $1. */
static const char SQL_DUE_REFERRALS[] =
    "SELECT 'referral', r.id, r.episode_id, e.ward, 'social_work',"
    " extract(epoch FROM r.notified_at)::bigint + $2::bigint, r.chase_level,"
    " coalesce(extract(epoch FROM r.last_chased_at)::bigint, 0), false, ''"
    " FROM referrals r JOIN episodes e ON e.id = r.episode_id"
    " WHERE r.state = 'notified' AND e.state = 'admitted'"
    " AND coalesce(r.next_chase_at, r.notified_at + make_interval(secs => $2::double precision))"
    "     <= to_timestamp($1::double precision)"
    " ORDER BY r.notified_at LIMIT $3::integer";

/*
 * The instant a referral r becomes the hub's to chase: sent and not accepted
 * within $2 seconds, or its confirmed start date over (the London midnight
 * ending it) with the patient still in.
 */
#define SQL_HUB_BASE                                                                               \
	"(CASE r.state WHEN 'referred' THEN coalesce(r.referred_at, r.updated_at)"                 \
	" + make_interval(secs => $2::double precision)"                                           \
	" WHEN 'start_confirmed' THEN (r.service_start_date + 1)::timestamp"                       \
	" AT TIME ZONE 'Europe/London' END)"

/* Referrals due for a chase to their hub at $1 (the hub: the last column). */
static const char SQL_DUE_HUB[] =
    "SELECT 'hub', r.id, r.episode_id, e.ward, '',"
    " extract(epoch FROM " SQL_HUB_BASE ")::bigint, r.chase_level,"
    " coalesce(extract(epoch FROM r.last_chased_at)::bigint, 0), false, r.organisation_id"
    " FROM referrals r JOIN episodes e ON e.id = r.episode_id"
    " WHERE r.state IN ('referred', 'start_confirmed') AND e.state = 'admitted'"
    " AND r.organisation_id IS NOT NULL AND (r.state = 'referred' OR r.service_start_date IS NOT "
    "NULL)"
    " AND coalesce(r.next_chase_at, " SQL_HUB_BASE ") <= to_timestamp($1::double precision)"
    " ORDER BY 6 LIMIT $3::integer";

/*
 * The instant an NCTR episode e has been without an open barrier since: its
 * discharge ready date, or the last barrier's close if later.
 */
#define SQL_BARRIER_BASE                                                                           \
	"greatest(e.ready_at, (SELECT max(b.closed_at) FROM barriers b WHERE b.episode_id = "      \
	"e.id))"

/* NCTR inpatients without an open barrier due for a chase at $1 (the id is the episode's). */
static const char SQL_DUE_BARRIERS[] =
    "SELECT 'barrier', e.id, e.id, e.ward, '',"
    " extract(epoch FROM " SQL_BARRIER_BASE ")::bigint + $2::bigint, e.barrier_chase_level,"
    " coalesce(extract(epoch FROM e.barrier_last_chased_at)::bigint, 0), false, ''"
    " FROM episodes e WHERE e.state = 'admitted' AND e.ready_at IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM barriers b WHERE b.episode_id = e.id AND b.closed_at IS NULL)"
    " AND coalesce(e.barrier_next_chase_at, " SQL_BARRIER_BASE
    "  + make_interval(secs => $2::double precision)) <= to_timestamp($1::double precision)"
    " ORDER BY e.ready_at LIMIT $3::integer";

/*
 * Inpatients flagged "not reviewed" (review_overdue_at, store_review.c) due for a
 * chase at $1, $2 after the round they missed, as tasks are after their due time
 * (the id is the episode's; the last column: not chased yet, so review.overdue).
 */
static const char SQL_DUE_REVIEWS[] =
    "SELECT 'review', e.id, e.id, e.ward, '',"
    " extract(epoch FROM e.review_due_at)::bigint, e.review_chase_level,"
    " coalesce(extract(epoch FROM e.review_last_chased_at)::bigint, 0),"
    " e.review_last_chased_at IS NULL, ''"
    " FROM episodes e WHERE e.state = 'admitted' AND e.review_due_at IS NOT NULL"
    " AND coalesce(e.review_next_chase_at,"
    "  e.review_due_at + make_interval(secs => $2::double precision))"
    "  <= to_timestamp($1::double precision)"
    " ORDER BY e.review_due_at LIMIT $3::integer";

/*
 * Compare-and-set of the chase state ($1 id, $2 new level, $3 now, $4 next, $5 old
 * level, $6 old last chase epoch): CB409 when another process got there first.
 */
static const char SQL_CAS_TASK[] =
    "WITH u AS (UPDATE tasks SET chase_level = $2::smallint,"
    " last_chased_at = to_timestamp($3::double precision),"
    " next_chase_at = to_timestamp($4::double precision),"
    " overdue_at = coalesce(overdue_at, to_timestamp($3::double precision))"
    " WHERE id = $1::uuid AND chase_level = $5::smallint"
    " AND coalesce(extract(epoch FROM last_chased_at)::bigint, 0) = $6::bigint RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB409', 'already chased') FROM u";
/* For a referral, the state it is chased in must still hold: a step restarts its chase. */
static const char SQL_CAS_REFERRAL[] =
    "WITH u AS (UPDATE referrals SET chase_level = $2::smallint,"
    " last_chased_at = to_timestamp($3::double precision),"
    " next_chase_at = to_timestamp($4::double precision)"
    " WHERE id = $1::uuid AND state = 'notified' AND chase_level = $5::smallint"
    " AND coalesce(extract(epoch FROM last_chased_at)::bigint, 0) = $6::bigint RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB409', 'already chased') FROM u";
static const char SQL_CAS_HUB[] =
    "WITH u AS (UPDATE referrals SET chase_level = $2::smallint,"
    " last_chased_at = to_timestamp($3::double precision),"
    " next_chase_at = to_timestamp($4::double precision)"
    " WHERE id = $1::uuid AND state IN ('referred', 'start_confirmed')"
    " AND chase_level = $5::smallint"
    " AND coalesce(extract(epoch FROM last_chased_at)::bigint, 0) = $6::bigint RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB409', 'already chased') FROM u";
static const char SQL_CAS_BARRIER[] =
    "WITH u AS (UPDATE episodes SET barrier_chase_level = $2::smallint,"
    " barrier_last_chased_at = to_timestamp($3::double precision),"
    " barrier_next_chase_at = to_timestamp($4::double precision)"
    " WHERE id = $1::uuid AND barrier_chase_level = $5::smallint"
    " AND coalesce(extract(epoch FROM barrier_last_chased_at)::bigint, 0) = $6::bigint RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB409', 'already chased') FROM u";

/* The same for a review chase; CB409 too when a review cleared it meanwhile. */
static const char SQL_CAS_REVIEW[] =
    "WITH u AS (UPDATE episodes SET review_chase_level = $2::smallint,"
    " review_last_chased_at = to_timestamp($3::double precision),"
    " review_next_chase_at = to_timestamp($4::double precision)"
    " WHERE id = $1::uuid AND review_due_at IS NOT NULL AND review_chase_level = $5::smallint"
    " AND coalesce(extract(epoch FROM review_last_chased_at)::bigint, 0) = $6::bigint RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB409', 'already chased') FROM u";

/* Records who was chased, when, for what. */
static const char SQL_CHASE_INSERT[] =
    "INSERT INTO chases (at, kind, entity_id, episode_id, ward, level, target, discipline,"
    " process, organisation_id) VALUES (to_timestamp($1::double precision), $2, $3::uuid,"
    " $4::uuid, $5, $6::smallint, $7, nullif($8, ''), $9, nullif($10, '')::uuid)";

/*
 * The chase.<kind> event ($1 type, $2 ward, $3 episode, $4 discipline, $5 kind, $6 id, $7
 * level, $8 target, $9 at, $10 the organisation chased or ''): a hub chase is
 * the hub's too (events.organisations), so its users see it on their stream.
 */
static const char SQL_CHASE_EVENT[] =
    "INSERT INTO events (type, ward, episode_id, discipline, payload, organisations)"
    " VALUES ($1, $2, $3::uuid, nullif($4, ''), jsonb_build_object('kind', $5::text,"
    " 'entity_id', $6::text, 'episode_id', $3::text, 'ward', $2::text,"
    " 'discipline', nullif($4, ''), 'level', $7::integer, 'target', $8::text,"
    " 'at', cb_ts(to_timestamp($9::double precision)),"
    " 'organisation_id', nullif($10, ''),"
    " 'title', (SELECT title FROM tasks WHERE id = $6::uuid)),"
    " CASE WHEN $10 <> '' THEN ARRAY[$10::uuid] END)"
    " RETURNING payload";

/*
 * Queues the chase just recorded (chases' current id) as messages: one per
 * recipient and channel ($11 the e-mail channel, $12 the text message one, ''
 * = off) the recipient wants and has an address for.  Recipients: whoever
 * holds target $7 of ward $4 (discipline $5, organisation $10) at $8 by the
 * rota, else everyone fitting it (cb_target_users, 0037).  Quiet hours put
 * a message off to their end, except at the top level (urgent).  The dedupe key
 * (kind $1, row $2, due $9, level $6, user, channel) makes one message per
 * recipient, channel and level of one overdue item, whoever records it.
 */
static const char SQL_MESSAGE_ENQUEUE[] =
    "INSERT INTO messages (id, dedupe_key, kind, chase_id, chase_kind, entity_id, episode_id,"
    " ward, discipline, level, target, user_id, channel, address, not_before, next_attempt_at)"
    " SELECT gen_random_uuid(), concat_ws(':', 'chase', $1::text, $2::text, $9::text, $6::text, "
    "u.id, ch.channel),"
    " 'chase', currval(pg_get_serial_sequence('chases', 'id')), $1, $2::uuid, $3::uuid, $4,"
    " nullif($5, ''), $6::smallint, $7, u.id, ch.channel, ch.address,"
    " CASE WHEN $6::integer >= 3 THEN to_timestamp($8::double precision)"
    "  ELSE cb_quiet_until(u.quiet_start, u.quiet_end, to_timestamp($8::double precision)) END,"
    " to_timestamp($8::double precision)"
    " FROM cb_target_users($7, $4, $5, $10, to_timestamp($8::double precision)) t(id)"
    " JOIN users u ON u.id = t.id"
    " CROSS JOIN LATERAL (VALUES ($11::text, 'email', u.email), ($12::text, 'sms', u.mobile))"
    "  ch(channel, pref, address)"
    " WHERE ch.channel <> '' AND ch.address IS NOT NULL AND ch.pref = ANY (u.message_channels)"
    " ON CONFLICT (dedupe_key) DO NOTHING";

/* Earliest next chase time of anything pending (epoch seconds), NULL if none. */
static const char SQL_NEXT[] =
    "SELECT extract(epoch FROM min(x))::bigint FROM ("
    " SELECT min(coalesce(t.next_chase_at, t.due_at + make_interval(secs => $1::double precision)))"
    "  AS x FROM tasks t JOIN episodes e ON e.id = t.episode_id"
    "  WHERE e.state = 'admitted' AND t.status NOT IN ('completed', 'cancelled')"
    "  AND t.due_at IS NOT NULL"
    " UNION ALL SELECT min(coalesce(r.next_chase_at,"
    "  r.notified_at + make_interval(secs => $2::double precision)))"
    "  FROM referrals r JOIN episodes e ON e.id = r.episode_id"
    "  WHERE r.state = 'notified' AND e.state = 'admitted'"
    " UNION ALL SELECT min(coalesce(r.next_chase_at, (CASE r.state WHEN 'referred'"
    "  THEN coalesce(r.referred_at, r.updated_at) + make_interval(secs => $4::double precision)"
    "  WHEN 'start_confirmed' THEN (r.service_start_date + 1)::timestamp"
    "  AT TIME ZONE 'Europe/London' END)))"
    "  FROM referrals r JOIN episodes e ON e.id = r.episode_id"
    "  WHERE r.state IN ('referred', 'start_confirmed') AND e.state = 'admitted'"
    "  AND r.organisation_id IS NOT NULL"
    " UNION ALL SELECT min(coalesce(e.barrier_next_chase_at, " SQL_BARRIER_BASE
    "  + make_interval(secs => $3::double precision)))"
    "  FROM episodes e WHERE e.state = 'admitted' AND e.ready_at IS NOT NULL AND NOT EXISTS"
    "  (SELECT 1 FROM barriers b WHERE b.episode_id = e.id AND b.closed_at IS NULL)"
    " UNION ALL SELECT min(coalesce(e.review_next_chase_at,"
    "  e.review_due_at + make_interval(secs => $1::double precision)))"
    "  FROM episodes e WHERE e.state = 'admitted' AND e.review_due_at IS NOT NULL) m";

/* The newest snapshot day, NULL if none. */
static const char SQL_SNAPSHOT_LAST[] = "SELECT max(day)::text FROM snapshots";

/* Readiness periods that may count at instant $1, with their delay row if any. */
static const char SQL_SNAPSHOT_PERIODS[] =
    "SELECT r.episode_id, e.ward, extract(epoch FROM r.ready_at)::bigint,"
    " coalesce(extract(epoch FROM r.withdrawn_at)::bigint, 0),"
    " coalesce(extract(epoch FROM e.discharged_at)::bigint, 0), coalesce(d.id::text, '')"
    " FROM readiness r JOIN episodes e ON e.id = r.episode_id"
    " LEFT JOIN delays d ON d.episode_id = r.episode_id AND d.ready_at = r.ready_at"
    " WHERE e.state <> 'cancelled' AND r.ready_at <= to_timestamp($1::double precision)"
    " AND (r.withdrawn_at IS NULL OR r.withdrawn_at > to_timestamp($1::double precision))"
    " AND (e.discharged_at IS NULL OR e.discharged_at > to_timestamp($1::double precision))";

/* Claims snapshot day $1 with $2 delayed patients; CB409 when already taken. */
static const char SQL_SNAPSHOT_CLAIM[] =
    "WITH i AS (INSERT INTO snapshots (day, delayed) VALUES ($1::date, $2::integer)"
    " ON CONFLICT DO NOTHING RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB409', 'snapshot already taken') FROM i";

/* Opens delay $1 of episode $2 for the period ready at $3, first counted at $4, $5 days. */
static const char SQL_DELAY_OPEN[] =
    "INSERT INTO delays (id, episode_id, ready_at, opened_at, days)"
    " VALUES ($1::uuid, $2::uuid, to_timestamp($3::double precision),"
    " to_timestamp($4::double precision), $5::integer)";

/* Sets the count of delay $1 to $2 days. */
static const char SQL_DELAY_DAYS[] =
    "UPDATE delays SET days = $2::integer, updated_at = now(), version = version + 1"
    " WHERE id = $1::uuid";

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static void due_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_chase_items_cb *cb = (store_chase_items_cb *)w->cb;
	struct chase_item *items;
	int n = 0, k = 0;

	if (r->st != ST_OK) {
		cb(r->st, NULL, 0, w->arg);
		free(w);
		return;
	}
	for (int s = 0; s < CHASE_QUERIES; s++)
		n += db_rows(r->res[s]);
	items = xcalloc((size_t)n + 1, sizeof *items);
	for (int s = 0; s < CHASE_QUERIES; s++) {
		for (int i = 0; i < db_rows(r->res[s]); i++, k++) {
			struct chase_item *it = &items[k];

			copy(it->kind, sizeof it->kind, db_value(r->res[s], i, 0));
			copy(it->id, sizeof it->id, db_value(r->res[s], i, 1));
			copy(it->episode_id, sizeof it->episode_id, db_value(r->res[s], i, 2));
			copy(it->ward, sizeof it->ward, db_value(r->res[s], i, 3));
			copy(it->discipline, sizeof it->discipline, db_value(r->res[s], i, 4));
			it->due_at = strtoll(db_value(r->res[s], i, 5), NULL, 10);
			it->level = atoi(db_value(r->res[s], i, 6));
			it->last_chased_at = strtoll(db_value(r->res[s], i, 7), NULL, 10);
			it->first_overdue = db_value(r->res[s], i, 8)[0] == 't';
			copy(it->organisation, sizeof it->organisation, db_value(r->res[s], i, 9));
		}
	}
	cb(ST_OK, items, n, w->arg);
	free(items);
	free(w);
}

void store_chase_due(struct db *db, int64_t now, const struct chase_delays *cd, int limit,
                     store_chase_items_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char n[32], a[32], b[32], e[32], h[32], l[16];
	const char *vt[] = {n, a, l}, *va[] = {n, b, l}, *vb[] = {n, e, l}, *vr[] = {n, a, l};
	const char *vh[] = {n, h, l};

	snprintf(n, sizeof n, "%" PRId64, now);
	snprintf(a, sizeof a, "%" PRId64, cd->first_after);
	snprintf(b, sizeof b, "%" PRId64, cd->assessment_after);
	snprintf(e, sizeof e, "%" PRId64, cd->barrier_after);
	snprintf(h, sizeof h, "%" PRId64, cd->accept_within);
	snprintf(l, sizeof l, "%d", limit);
	db_req_add(req, SQL_DUE_TASKS, 3, vt);
	db_req_add(req, SQL_DUE_REFERRALS, 3, va);
	db_req_add(req, SQL_DUE_HUB, 3, vh);
	db_req_add(req, SQL_DUE_BARRIERS, 3, vb);
	db_req_add(req, SQL_DUE_REVIEWS, 3, vr);
	db_req_submit(db, req, due_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

static void plain_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_chase_done_cb *cb = (store_chase_done_cb *)w->cb;

	cb(r->st, w->arg);
	free(w);
}

void store_chase_record(struct db *db, const struct chase_item *item, int level, const char *target,
                        int64_t now, int64_t next_at, const char *process,
                        const struct chase_channels *ch, store_chase_done_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char lv[8], nw[32], nx[32], ol[8], olast[32], due[32], *type;
	const char *sql = strcmp(item->kind, "task") == 0       ? SQL_CAS_TASK
	                  : strcmp(item->kind, "referral") == 0 ? SQL_CAS_REFERRAL
	                  : strcmp(item->kind, "hub") == 0      ? SQL_CAS_HUB
	                  : strcmp(item->kind, "review") == 0   ? SQL_CAS_REVIEW
	                                                        : SQL_CAS_BARRIER;

	ASSERT(strcmp(item->kind, "task") == 0 || strcmp(item->kind, "referral") == 0 ||
	       strcmp(item->kind, "hub") == 0 || strcmp(item->kind, "barrier") == 0 ||
	       strcmp(item->kind, "review") == 0);

	snprintf(lv, sizeof lv, "%d", level);
	snprintf(nw, sizeof nw, "%" PRId64, now);
	snprintf(nx, sizeof nx, "%" PRId64, next_at);
	snprintf(ol, sizeof ol, "%d", item->level);
	snprintf(olast, sizeof olast, "%" PRId64, item->last_chased_at);
	snprintf(due, sizeof due, "%" PRId64, item->due_at);
	type = xasprintf("chase.%s", item->kind);
	{
		const char *cas[] = {item->id, lv, nw, nx, ol, olast};
		const char *rec[] = {
		    nw, item->kind, item->id,         item->episode_id, item->ward,
		    lv, target,     item->discipline, process,          item->organisation};
		const char *ev[] = {type,
		                    item->ward,
		                    item->episode_id,
		                    item->discipline,
		                    item->kind,
		                    item->id,
		                    lv,
		                    target,
		                    nw,
		                    item->organisation};

		db_req_add(req, sql, 6, cas);
		db_req_add(req, SQL_CHASE_INSERT, 10, rec);
		store_add_events_lock(req);
		if (item->kind[0] == 't' && item->first_overdue)
			store_add_event(req, "task.overdue", "task", item->id);
		if (item->kind[0] == 'r' && item->first_overdue)
			store_add_event(req, "review.overdue", "episode", item->id);
		const char *msg[] = {item->kind,
		                     item->id,
		                     item->episode_id,
		                     item->ward,
		                     item->discipline,
		                     lv,
		                     target,
		                     nw,
		                     due,
		                     item->organisation,
		                     ch->email,
		                     ch->sms};

		db_req_add(req, SQL_CHASE_EVENT, 10, ev);
		if (ch->email[0] != '\0' || ch->sms[0] != '\0')
			db_req_add(req, SQL_MESSAGE_ENQUEUE, 12, msg);
	}
	free(type);
	db_req_submit(db, req, plain_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

static void next_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_chase_next_cb *cb = (store_chase_next_cb *)w->cb;
	const char *v = r->st == ST_OK ? db_value(r->res[0], 0, 0) : NULL;

	cb(r->st, v != NULL ? strtoll(v, NULL, 10) : 0, w->arg);
	free(w);
}

void store_chase_next(struct db *db, const struct chase_delays *cd, store_chase_next_cb *cb,
                      void *arg)
{
	struct db_req *req = db_req_new();
	char a[32], b[32], e[32], h[32];
	const char *v[] = {a, b, e, h};

	snprintf(a, sizeof a, "%" PRId64, cd->first_after);
	snprintf(b, sizeof b, "%" PRId64, cd->assessment_after);
	snprintf(e, sizeof e, "%" PRId64, cd->barrier_after);
	snprintf(h, sizeof h, "%" PRId64, cd->accept_within);
	db_req_add(req, SQL_NEXT, 4, v);
	db_req_submit(db, req, next_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

static void last_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_snapshot_last_cb *cb = (store_snapshot_last_cb *)w->cb;
	const char *v = r->st == ST_OK ? db_value(r->res[0], 0, 0) : NULL;
	int32_t day = 0;

	if (v != NULL && date_parse(v, &day, "day", NULL) != ST_OK)
		v = NULL;
	cb(r->st, day, v != NULL, w->arg);
	free(w);
}

void store_snapshot_last(struct db *db, store_snapshot_last_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();

	db_req_add(req, SQL_SNAPSHOT_LAST, 0, NULL);
	db_req_submit(db, req, last_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

static void periods_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_snapshot_periods_cb *cb = (store_snapshot_periods_cb *)w->cb;
	struct snapshot_period *p;
	int n;

	if (r->st != ST_OK) {
		cb(r->st, NULL, 0, w->arg);
		free(w);
		return;
	}
	n = db_rows(r->res[0]);
	p = xcalloc((size_t)n + 1, sizeof *p);
	for (int i = 0; i < n; i++) {
		copy(p[i].episode_id, sizeof p[i].episode_id, db_value(r->res[0], i, 0));
		copy(p[i].ward, sizeof p[i].ward, db_value(r->res[0], i, 1));
		p[i].ready_at = strtoll(db_value(r->res[0], i, 2), NULL, 10);
		p[i].withdrawn_at = strtoll(db_value(r->res[0], i, 3), NULL, 10);
		p[i].left_at = strtoll(db_value(r->res[0], i, 4), NULL, 10);
		copy(p[i].delay_id, sizeof p[i].delay_id, db_value(r->res[0], i, 5));
	}
	cb(ST_OK, p, n, w->arg);
	free(p);
	free(w);
}

void store_snapshot_periods(struct db *db, int64_t snapshot, store_snapshot_periods_cb *cb,
                            void *arg)
{
	struct db_req *req = db_req_new();
	char s[32];
	const char *v[] = {s};

	snprintf(s, sizeof s, "%" PRId64, snapshot);
	db_req_add(req, SQL_SNAPSHOT_PERIODS, 1, v);
	db_req_submit(db, req, periods_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

void store_snapshot_take(struct db *db, int32_t day, int64_t snapshot,
                         const struct snapshot_delay *d, int n, store_chase_done_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char ds[DATE_FORMAT_LEN], cnt[16], snap[32];
	const char *claim[] = {ds, cnt};

	date_format(day, ds);
	snprintf(cnt, sizeof cnt, "%d", n);
	snprintf(snap, sizeof snap, "%" PRId64, snapshot);
	db_req_add(req, SQL_SNAPSHOT_CLAIM, 2, claim);
	for (int i = 0; i < n; i++) {
		char ready[32], days[16];

		snprintf(ready, sizeof ready, "%" PRId64, d[i].p->ready_at);
		snprintf(days, sizeof days, "%d", d[i].days);
		if (d[i].new_id[0] != '\0') {
			const char *v[] = {d[i].new_id, d[i].p->episode_id, ready, snap, days};

			db_req_add(req, SQL_DELAY_OPEN, 5, v);
		} else {
			const char *v[] = {d[i].p->delay_id, days};

			db_req_add(req, SQL_DELAY_DAYS, 2, v);
		}
	}
	store_add_events_lock(req);
	for (int i = 0; i < n; i++) {
		if (d[i].new_id[0] != '\0')
			store_add_event(req, "delay.opened", "delay", d[i].new_id);
		else
			store_add_event(req, "delay.updated", "delay", d[i].p->delay_id);
	}
	db_req_submit(db, req, plain_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

/*
 * store_event.c - SQL for reading and pruning the outbox (see store_event.h).
 */
#include "store_event.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "store.h"
#include "xmalloc.h"

/*
 * Events after $1 (and up to $2 when not NULL), in id order, at most $3; the
 * organisations comma-separated ('' for none).
 */
static const char SQL_EVENTS_READ[] =
    "SELECT id, type, coalesce(ward, ''), coalesce(episode_id::text, ''),"
    " coalesce(discipline, ''), payload::text,"
    " coalesce(array_to_string(organisations, ','), '') FROM events"
    " WHERE id > $1::bigint AND ($2::bigint IS NULL OR id <= $2::bigint)"
    " ORDER BY id LIMIT $3::integer";

/*
 * As SQL_EVENTS_READ, for webhook $4 delivered by owner $5 (no upper bound):
 * no row at all unless that webhook is still active and leased to that
 * owner, so a pause or a lease taken over stops delivery with the very next
 * read, not only at the next lease renewal.
 */
static const char SQL_EVENTS_READ_HOOK[] =
    "SELECT id, type, coalesce(ward, ''), coalesce(episode_id::text, ''),"
    " coalesce(discipline, ''), payload::text,"
    " coalesce(array_to_string(organisations, ','), '') FROM events"
    " WHERE id > $1::bigint AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = $3::uuid"
    "  AND w.active AND w.lease_owner = $4)"
    " ORDER BY id LIMIT $2::integer";

/* The oldest and newest ids in the table (0, 0 when empty). */
static const char SQL_EVENTS_BOUNDS[] =
    "SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM events";

/*
 * One batch of pruning: deletes the events older than $1 seconds among the $2
 * lowest ids, never one after the cursor of an active webhook (it has yet to
 * deliver it; a paused or removed webhook holds nothing back); returns how
 * many went and whether more may follow, and raises events_pruned.upto to
 * the highest id deleted.  Every step walks the primary key
 * from the oldest id, so the work follows what is deleted, not the size of
 * the table.  at follows id only roughly (it is a transaction's start, ids
 * follow commit order): everything before the first event still within
 * retention is older, which is what may go.
 */
static const char SQL_EVENTS_PRUNE[] =
    "WITH b AS (SELECT min(id) AS lo, max(id) AS hi FROM events),"
    " w AS (SELECT b.lo, b.hi, h.cursor, least(b.lo + $2::bigint - 1, b.hi, h.cursor) AS upto"
    "  FROM b, (SELECT min(last_delivered_id) AS cursor FROM webhooks WHERE active) h),"
    " y AS (SELECT w.*, (SELECT e.id FROM events e WHERE e.id BETWEEN w.lo AND w.upto"
    "   AND e.at >= now() - make_interval(secs => $1::double precision)"
    "   ORDER BY e.id LIMIT 1) AS young FROM w),"
    " d AS (DELETE FROM events e USING y"
    "  WHERE e.id BETWEEN y.lo AND coalesce(y.young - 1, y.upto) RETURNING e.id),"
    /* how far pruning has gone: a paused webhook resumed below it has a gap */
    " m AS (UPDATE events_pruned SET upto = greatest(upto, (SELECT max(id) FROM d))"
    "  WHERE EXISTS (SELECT 1 FROM d))"
    " SELECT (SELECT count(*) FROM d),"
    " coalesce(y.young IS NULL AND y.upto < least(y.hi, y.cursor), false) FROM y";

/*
 * What pruning (with $1 seconds of retention) keeps only because an active
 * webhook has not delivered it: the events after the lowest cursor and before
 * the first event within retention.  One row when there is an active
 * webhook: how many, the age of the oldest in seconds, how many active
 * webhooks have some of them still to deliver, and the id and cursor of the
 * one furthest behind.  Reads only those events.
 */
static const char SQL_EVENTS_HELD[] =
    "WITH h AS (SELECT id, last_delivered_id AS cursor FROM webhooks WHERE active"
    "  ORDER BY last_delivered_id, created_at, id LIMIT 1),"
    " y AS (SELECT h.*, coalesce((SELECT e.id FROM events e WHERE e.id > h.cursor"
    "   AND e.at >= now() - make_interval(secs => $1::double precision)"
    "   ORDER BY e.id LIMIT 1), (SELECT max(id) + 1 FROM events)) AS young FROM h),"
    " k AS (SELECT count(*) AS n, min(e.at) AS oldest, max(e.id) AS last FROM events e, y"
    "  WHERE e.id > y.cursor AND e.id < y.young)"
    " SELECT k.n, coalesce(floor(extract(epoch FROM now() - k.oldest))::bigint, 0),"
    " (SELECT count(*) FROM webhooks w WHERE w.active AND w.last_delivered_id < k.last),"
    " y.id, y.cursor FROM y, k";

static void read_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_events_cb *cb = (store_events_cb *)w->cb;
	struct event_row *rows;
	int n;

	if (r->st != ST_OK) {
		cb(r->st, NULL, 0, 0, 0, w->arg);
		free(w);
		return;
	}
	n = db_rows(r->res[0]);
	rows = xcalloc((size_t)(n > 0 ? n : 1), sizeof *rows);
	for (int i = 0; i < n; i++) {
		rows[i].id = strtoll(db_value(r->res[0], i, 0), NULL, 10);
		rows[i].type = db_value(r->res[0], i, 1);
		rows[i].ward = db_value(r->res[0], i, 2);
		rows[i].episode = db_value(r->res[0], i, 3);
		rows[i].discipline = db_value(r->res[0], i, 4);
		rows[i].payload = db_value(r->res[0], i, 5);
		rows[i].organisations = db_value(r->res[0], i, 6);
	}
	cb(ST_OK, rows, n, strtoll(db_value(r->res[1], 0, 0), NULL, 10),
	   strtoll(db_value(r->res[1], 0, 1), NULL, 10), w->arg);
	free(rows);
	free(w);
}

void store_events_read(struct db *db, int64_t after, int64_t upto, int limit, store_events_cb *cb,
                       void *arg)
{
	struct db_req *req = db_req_new();
	char a[32], u[32], l[16];
	const char *v[] = {a, upto >= 0 ? u : NULL, l};

	snprintf(a, sizeof a, "%" PRId64, after);
	snprintf(u, sizeof u, "%" PRId64, upto);
	snprintf(l, sizeof l, "%d", limit);
	db_req_add(req, SQL_EVENTS_READ, 3, v);
	db_req_add(req, SQL_EVENTS_BOUNDS, 0, NULL);
	db_req_submit(db, req, read_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

void store_events_read_for_webhook(struct db *db, int64_t after, int limit, const char *webhook_id,
                                   const char *owner, store_events_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char a[32], l[16];
	const char *v[] = {a, l, webhook_id, owner};

	snprintf(a, sizeof a, "%" PRId64, after);
	snprintf(l, sizeof l, "%d", limit);
	db_req_add(req, SQL_EVENTS_READ_HOOK, 4, v);
	db_req_add(req, SQL_EVENTS_BOUNDS, 0, NULL);
	db_req_submit(db, req, read_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

static void prune_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_events_prune_cb *cb = (store_events_prune_cb *)w->cb;
	struct event_prune p;
	const char *more, *id;

	memset(&p, 0, sizeof p);
	if (r->st != ST_OK) {
		cb(r->st, &p, w->arg);
		free(w);
		return;
	}
	p.deleted = strtoll(db_value(r->res[0], 0, 0), NULL, 10);
	more = db_value(r->res[0], 0, 1);
	p.more = more != NULL && more[0] == 't';
	p.counted = r->n == 2; /* SQL_EVENTS_HELD was asked for */
	if (p.counted && db_rows(r->res[1]) == 1) {
		p.held = strtoll(db_value(r->res[1], 0, 0), NULL, 10);
		p.held_age_s = strtoll(db_value(r->res[1], 0, 1), NULL, 10);
		p.held_webhooks = strtoll(db_value(r->res[1], 0, 2), NULL, 10);
		id = db_value(r->res[1], 0, 3);
		snprintf(p.webhook, sizeof p.webhook, "%s", id != NULL ? id : "");
		p.cursor = strtoll(db_value(r->res[1], 0, 4), NULL, 10);
	}
	cb(ST_OK, &p, w->arg);
	free(w);
}

void store_events_prune(struct db *db, int64_t retention_seconds, int batch, bool count,
                        store_events_prune_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char s[32], n[16];
	const char *v[] = {s, n};

	snprintf(s, sizeof s, "%" PRId64, retention_seconds);
	snprintf(n, sizeof n, "%d", batch);
	db_req_add(req, SQL_EVENTS_PRUNE, 2, v);
	if (count)
		db_req_add(req, SQL_EVENTS_HELD, 1, v);
	db_req_submit(db, req, prune_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

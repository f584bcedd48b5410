/*
 * store_event.c - SQL for reading and pruning the outbox (see store_event.h).
 */
#include "store_event.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "db.h"
#include "xmalloc.h"

/* Events after $1 (and up to $2 when not NULL), in id order, at most $3. */
static const char SQL_EVENTS_READ[] =
    "SELECT id, type, coalesce(ward, ''), coalesce(episode_id::text, ''),"
    " coalesce(discipline, ''), payload::text FROM events"
    " WHERE id > $1::bigint AND ($2::bigint IS NULL OR id <= $2::bigint)"
    " ORDER BY id LIMIT $3::integer";

/* The oldest and newest ids in the table (0, 0 when empty). */
static const char SQL_EVENTS_BOUNDS[] =
    "SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM events";

/* Removes events older than $1 seconds that every active webhook has delivered. */
static const char SQL_EVENTS_PRUNE[] =
    "DELETE FROM events WHERE at < now() - make_interval(secs => $1::double precision)"
    /* never an event an active webhook has yet to deliver */
    " AND id <= coalesce((SELECT min(last_delivered_id) FROM webhooks WHERE active),"
    "                    (SELECT max(id) FROM events))";

struct wait {
	store_events_cb *cb; /* the caller's */
	void *arg;           /* its argument */
};

static void read_done(const struct db_result *r, void *arg)
{
	struct wait *w = arg;
	struct event_row *rows;
	int n;

	if (r->st != ST_OK) {
		w->cb(r->st, NULL, 0, 0, 0, w->arg);
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
	}
	w->cb(ST_OK, rows, n, strtoll(db_value(r->res[1], 0, 0), NULL, 10),
	      strtoll(db_value(r->res[1], 0, 1), NULL, 10), w->arg);
	free(rows);
	free(w);
}

void store_events_read(struct db *db, int64_t after, int64_t upto, int limit, store_events_cb *cb,
                       void *arg)
{
	struct db_req *req = db_req_new();
	struct wait *w = xmalloc(sizeof *w);
	char a[32], u[32], l[16];
	const char *v[] = {a, upto >= 0 ? u : NULL, l};

	snprintf(a, sizeof a, "%" PRId64, after);
	snprintf(u, sizeof u, "%" PRId64, upto);
	snprintf(l, sizeof l, "%d", limit);
	w->cb = cb;
	w->arg = arg;
	db_req_add(req, SQL_EVENTS_READ, 3, v);
	db_req_add(req, SQL_EVENTS_BOUNDS, 0, NULL);
	db_req_submit(db, req, read_done, w);
}

static void prune_done(const struct db_result *r, void *arg)
{
}

void store_events_prune(struct db *db, int64_t retention_seconds)
{
	struct db_req *req = db_req_new();
	char s[32];
	const char *v[] = {s};

	snprintf(s, sizeof s, "%" PRId64, retention_seconds);
	db_req_add(req, SQL_EVENTS_PRUNE, 1, v);
	db_req_submit(db, req, prune_done, NULL);
}

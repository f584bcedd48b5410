/*
 * db.h - the asynchronous PostgreSQL connection pool on the event loop.
 *
 * Every query runs on the loop thread without blocking: libpq in nonblocking
 * pipeline mode, driven by libevent on PQsocket.  A request is a list of
 * statements sent together and executed as ONE transaction (the implicit
 * transaction that ends at the pipeline's sync point): either all of them
 * commit or none does.  The callback runs after the sync point's result has
 * arrived, i.e. after COMMIT, so "ack after commit" holds for anyone replying
 * from it.
 *
 * Statements cannot see each other's results on the client side: generate ids
 * (UUIDs) before submitting, and use SQL (CTEs) where one row needs another's.
 * A statement can abort the whole transaction on purpose by raising one of the
 * carebridge SQLSTATEs (see db_status_from_sqlstate).
 *
 * Statements are prepared once per connection and then executed by name, so
 * pass each SQL text as the same static string every time.
 */
#ifndef CB_DB_H
#define CB_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"
#include "metrics.h"
#include "status.h"

struct db;
struct db_req;
struct pg_result; /* libpq's PGresult: only db.c and store_*.c look inside */

struct db_result {
	enum status st;         /* ST_OK when every statement succeeded and committed */
	struct err err;         /* why not, when st != ST_OK (message safe to show a client) */
	char sqlstate[6];       /* the failing statement's SQLSTATE, "" if none */
	int failed_stmt;        /* index of the statement that failed, -1 if none */
	int n;                  /* number of statements */
	struct pg_result **res; /* one per statement; NULL when it did not run; owned by db */
};

/* Called once per submitted request, always later from the loop, never re-entrantly. */
typedef void db_cb(const struct db_result *result, void *arg);

struct db_stats {
	int size;                 /* configured connections */
	int connected;            /* connections up (idle or busy) */
	int busy;                 /* connections running a request */
	int queued;               /* requests waiting for a connection */
	uint64_t done;            /* requests completed since start */
	uint64_t failed;          /* requests completed with an error */
	uint64_t group_commits;   /* group transactions committed (db_req_set_group) */
	uint64_t grouped;         /* grouped requests committed in them */
	uint64_t group_retries;   /* shared transactions that failed and were re-run alone */
	struct metrics_hist run;  /* seconds from sending a request to its results (COMMIT) */
	struct metrics_hist wait; /* seconds a request waited for a connection */
};

/* A new pool that starts connecting at once; db_free closes it. */
struct db *db_new(struct event_base *base, const struct config *cfg);

/* Close every connection; queued requests are failed with ST_UNAVAILABLE first. */
void db_free(struct db *db);

/* A new, empty request; owned by the caller until db_req_submit. */
struct db_req *db_req_new(void);

/*
 * Append a statement: sql is borrowed (a static string), values are copied;
 * a NULL value is SQL NULL.  Returns the statement's index.
 */
int db_req_add(struct db_req *req, const char *sql, int nparams, const char *const *values);

/*
 * Make req a grouped request: lead_sql (a static statement without parameters,
 * the same for every grouped request, such as an advisory lock) runs first in
 * its transaction.  A grouped transaction takes every grouped request waiting
 * when it is sent (group commit: one COMMIT and one WAL flush for all of them);
 * at most two are out at once, one behind the other on the same connection,
 * so they commit in the order they were sent.  Each callback still runs only
 * after that COMMIT.  Requests in one transaction run in submission order and
 * see each other's changes, as if run one after the other; if any statement
 * fails, nothing commits and each request is run again alone, so a request's
 * outcome is the one it would have had by itself.  A grouped request must not
 * rely on a transaction of its own beyond that (now() is shared, for one).
 */
void db_req_set_group(struct db_req *req, const char *lead_sql);

/* Free a request that was never submitted. */
void db_req_free(struct db_req *req);

/*
 * Run req (taking ownership).  cb runs later from the loop with the results,
 * which are freed when cb returns: copy what you need.
 */
void db_req_submit(struct db *db, struct db_req *req, db_cb *cb, void *arg);

/* Counters for /metrics and /readyz. */
void db_get_stats(const struct db *db, struct db_stats *stats);

/* True when no request is running or queued (for graceful shutdown). */
bool db_is_idle(const struct db *db);

/* Once a second: reconnect broken connections, time out slow connects and waits. */
void db_tick(struct db *db);

/* Map a SQLSTATE to a status (23505 -> ST_CONFLICT, CB412 -> ST_PRECONDITION, ...). */
enum status db_status_from_sqlstate(const char *sqlstate);

/* The value at row/col of a statement's result, NULL for SQL NULL or out of range. */
const char *db_value(const struct pg_result *res, int row, int col);

/* Rows in a statement's result (0 when it did not run). */
int db_rows(const struct pg_result *res);

#endif

/*
 * db.c - the asynchronous PostgreSQL pool (see db.h for the contract).
 *
 * Owns: the pool's connections, each with its libevent events; the queue of
 * requests waiting for a connection; the mapping of SQLSTATEs to statuses.
 * Must not: block the loop (every libpq call here is nonblocking), hold SQL of
 * its own beyond the session settings, or log query parameters.
 *
 * A connection moves DOWN -> CONNECTING -> IDLE <-> BUSY, and back to DOWN on
 * any failure; db_tick retries DOWN connections every db_retry_interval.
 */
#include "db.h"

#include <libpq-fe.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "list.h"
#include "log.h"
#include "xmalloc.h"

enum dbc_state { DBC_DOWN, DBC_CONNECTING, DBC_IDLE, DBC_BUSY };

struct db_stmt {
	const char *sql; /* borrowed: a static string in a store_*.c */
	int nparams;     /* number of values */
	char **values;   /* owned copies; NULL entries are SQL NULL */
};

struct db_req {
	TAILQ_ENTRY(db_req) entry; /* in db->queue or db->finished */
	struct db_stmt *stmts;     /* owned, n of them */
	int n, cap;                /* used and allocated statements */
	db_cb *cb;                 /* completion callback */
	void *arg;                 /* its argument */
	int64_t queued_at;         /* monotonic ms when submitted */
	int cur;                   /* statement whose results are being read */
	struct db_result result;   /* filled while reading; res[] owned */
};

TAILQ_HEAD(db_req_list, db_req);

struct db_conn {
	struct db *db;          /* the pool */
	int index;              /* position in the pool, for log lines */
	PGconn *pg;             /* owned; NULL when DOWN */
	enum dbc_state state;   /* see the file comment */
	struct event *ev_read;  /* persistent read readiness while connected; owned */
	struct event *ev_write; /* one-shot write readiness (connect, flush); owned */
	int fd;                 /* PQsocket the events are on, -1 if none */
	struct db_req *req;     /* the request running, when BUSY */
	int64_t since;          /* monotonic ms the connect began or the request was sent */
	int64_t retry_at;       /* monotonic ms of the next connect attempt when DOWN */
	bool was_up;            /* logged as up, so a loss is worth a line */
};

struct db {
	struct event_base *base;     /* borrowed */
	char *conninfo;              /* owned copy of database_url */
	char *options;               /* owned "-c statement_timeout=..." */
	int64_t connect_timeout_ms;  /* from config */
	int64_t retry_interval_ms;   /* from config */
	int queue_max;               /* from config */
	struct db_conn *conns;       /* owned array of size */
	int size;                    /* number of connections */
	struct db_req_list queue;    /* waiting for a connection */
	int nqueued;                 /* length of queue */
	struct db_req_list finished; /* completed, callbacks not yet run */
	struct event *ev_finished;   /* runs the finished callbacks from the loop; owned */
	uint64_t done, failed;       /* counters for metrics */
};

static void conn_start(struct db_conn *c);
static void conn_dispatch(struct db *db);

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copy a libpq message without its final newline, for logs and errors. */
static void trim_copy(char *out, size_t size, const char *msg)
{
	size_t n;

	snprintf(out, size, "%s", msg != NULL ? msg : "");
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
}

enum status db_status_from_sqlstate(const char *s)
{
	if (s == NULL || s[0] == '\0')
		return ST_UNAVAILABLE;
	/* carebridge's own, raised on purpose by statements to abort a transaction */
	if (strcmp(s, "CB400") == 0)
		return ST_INVALID;
	if (strcmp(s, "CB403") == 0)
		return ST_FORBIDDEN;
	if (strcmp(s, "CB404") == 0)
		return ST_NOT_FOUND;
	if (strcmp(s, "CB409") == 0)
		return ST_CONFLICT;
	if (strcmp(s, "CB412") == 0)
		return ST_PRECONDITION;
	if (strcmp(s, "23505") == 0 || strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0)
		return ST_CONFLICT; /* unique violation, serialization failure, deadlock */
	if (strcmp(s, "23503") == 0 || strcmp(s, "23514") == 0 || strcmp(s, "22P02") == 0 ||
	    strcmp(s, "22007") == 0 || strcmp(s, "22008") == 0)
		return ST_INVALID; /* foreign key, check, bad text representation, dates */
	if (strncmp(s, "08", 2) == 0 || strncmp(s, "53", 2) == 0 || strncmp(s, "57", 2) == 0)
		return ST_UNAVAILABLE; /* connection, resources, shutdown, timeout */
	return ST_INTERNAL;
}

int db_rows(const PGresult *res)
{
	return res != NULL ? PQntuples(res) : 0;
}

const char *db_value(const PGresult *res, int row, int col)
{
	if (res == NULL || row >= PQntuples(res) || col >= PQnfields(res) ||
	    PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

struct db_req *db_req_new(void)
{
	struct db_req *req = xcalloc(1, sizeof *req);

	req->result.failed_stmt = -1;
	return req;
}

int db_req_add(struct db_req *req, const char *sql, int nparams, const char *const *values)
{
	struct db_stmt *s;

	if (req->n == req->cap) {
		req->cap = req->cap != 0 ? req->cap * 2 : 4;
		req->stmts = xrealloc(req->stmts, (size_t)req->cap * sizeof *req->stmts);
	}
	s = &req->stmts[req->n];
	s->sql = sql;
	s->nparams = nparams;
	s->values = nparams > 0 ? xcalloc((size_t)nparams, sizeof *s->values) : NULL;
	for (int i = 0; i < nparams; i++)
		s->values[i] = values[i] != NULL ? xstrdup(values[i]) : NULL;
	return req->n++;
}

void db_req_free(struct db_req *req)
{
	if (req == NULL)
		return;
	for (int i = 0; i < req->n; i++) {
		for (int j = 0; j < req->stmts[i].nparams; j++)
			free(req->stmts[i].values[j]);
		free(req->stmts[i].values);
	}
	free(req->stmts);
	if (req->result.res != NULL) {
		for (int i = 0; i < req->result.n; i++)
			PQclear(req->result.res[i]);
		free(req->result.res);
	}
	free(req);
}

/* Queue req's callback to run from the loop (never from inside the caller's stack). */
static void req_finish(struct db *db, struct db_req *req)
{
	if (req->result.st != ST_OK)
		db->failed++;
	db->done++;
	TAILQ_INSERT_TAIL(&db->finished, req, entry);
	event_active(db->ev_finished, EV_TIMEOUT, 0);
}

static void req_fail(struct db *db, struct db_req *req, enum status st, const char *msg)
{
	if (req->result.st == ST_OK)
		err_set(&req->result.err, st, NULL, "%s", msg);
	req->result.st = st;
	req_finish(db, req);
}

static void finished_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db *db = arg;
	struct db_req *req;

	while ((req = TAILQ_FIRST(&db->finished)) != NULL) {
		TAILQ_REMOVE(&db->finished, req, entry);
		req->result.n = req->n;
		req->cb(&req->result, req->arg);
		db_req_free(req);
	}
}

/* Drop the connection: fail its request, free libpq and events, retry later. */
static void conn_down(struct db_conn *c, const char *why)
{
	struct db *db = c->db;
	char msg[256];

	trim_copy(msg, sizeof msg, why);
	if (c->was_up || c->state == DBC_BUSY)
		log_warning("db", "connection lost conn=%d reason=\"%s\"", c->index, msg);
	else
		log_debug("db", "connect failed conn=%d reason=\"%s\"", c->index, msg);
	if (c->req != NULL) {
		req_fail(db, c->req, ST_UNAVAILABLE, "could not complete the database request");
		c->req = NULL;
	}
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	c->ev_read = c->ev_write = NULL;
	if (c->pg != NULL)
		PQfinish(c->pg);
	c->pg = NULL;
	c->fd = -1;
	c->state = DBC_DOWN;
	c->was_up = false;
	c->retry_at = mono_ms() + db->retry_interval_ms;
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg);
static void conn_write_cb(evutil_socket_t fd, short what, void *arg);

/* (Re)create the events when libpq's socket changed (it may, while connecting). */
static void conn_set_socket(struct db_conn *c)
{
	int fd = PQsocket(c->pg);

	if (fd == c->fd && c->ev_read != NULL)
		return;
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	c->fd = fd;
	c->ev_read = event_new(c->db->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->ev_write = event_new(c->db->base, fd, EV_WRITE, conn_write_cb, c);
}

/* Drive PQconnectPoll one step and wait for what it wants. */
static void conn_poll(struct db_conn *c)
{
	PostgresPollingStatusType r = PQconnectPoll(c->pg);

	switch (r) {
	case PGRES_POLLING_READING:
		conn_set_socket(c);
		event_add(c->ev_read, NULL);
		return;
	case PGRES_POLLING_WRITING:
		conn_set_socket(c);
		event_del(c->ev_read);
		event_add(c->ev_write, NULL);
		return;
	case PGRES_POLLING_OK:
		conn_set_socket(c);
		if (PQsetnonblocking(c->pg, 1) != 0 || PQenterPipelineMode(c->pg) != 1) {
			conn_down(c, PQerrorMessage(c->pg));
			return;
		}
		c->state = DBC_IDLE;
		c->was_up = true;
		event_add(c->ev_read, NULL);
		log_info("db", "connection up conn=%d", c->index);
		conn_dispatch(c->db);
		return;
	case PGRES_POLLING_FAILED:
	case PGRES_POLLING_ACTIVE:
		break;
	}
	conn_down(c, PQerrorMessage(c->pg));
}

static void conn_start(struct db_conn *c)
{
	struct db *db = c->db;
	const char *keys[] = {"dbname", "options", "application_name", NULL};
	const char *vals[] = {db->conninfo, db->options, "carebridge", NULL};

	c->pg = PQconnectStartParams(keys, vals, 1);
	c->since = mono_ms();
	c->fd = -1;
	if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
		conn_down(c, c->pg != NULL ? PQerrorMessage(c->pg) : "out of memory");
		return;
	}
	c->state = DBC_CONNECTING;
	conn_set_socket(c);
	event_add(c->ev_write, NULL);
}

/* Flush pending output; wait for write readiness if libpq could not send it all. */
static void conn_flush(struct db_conn *c)
{
	int r = PQflush(c->pg);

	if (r < 0)
		conn_down(c, PQerrorMessage(c->pg));
	else if (r > 0)
		event_add(c->ev_write, NULL);
}

/* Send req's statements and the sync point on idle connection c. */
static void conn_send(struct db_conn *c, struct db_req *req)
{
	req->result.res = xcalloc((size_t)req->n, sizeof *req->result.res);
	req->result.n = req->n;
	req->cur = 0;
	c->req = req;
	c->state = DBC_BUSY;
	c->since = mono_ms();
	for (int i = 0; i < req->n; i++) {
		const struct db_stmt *s = &req->stmts[i];

		if (PQsendQueryParams(c->pg, s->sql, s->nparams, NULL,
		                      (const char *const *)s->values, NULL, NULL, 0) != 1) {
			conn_down(c, PQerrorMessage(c->pg));
			return;
		}
	}
	if (PQpipelineSync(c->pg) != 1) {
		conn_down(c, PQerrorMessage(c->pg));
		return;
	}
	conn_flush(c);
}

/* Record the first failing statement of the running request. */
static void req_note_error(struct db_req *req, const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	enum status st;

	if (req->result.failed_stmt >= 0)
		return;
	req->result.failed_stmt = req->cur;
	snprintf(req->result.sqlstate, sizeof req->result.sqlstate, "%s", state ? state : "");
	st = db_status_from_sqlstate(state);
	req->result.st = st;
	if (state != NULL && strncmp(state, "CB", 2) == 0) {
		/* our own checks: their message is written for the client */
		err_set(&req->result.err, st, NULL, "%s", primary ? primary : "");
		return;
	}
	log_warning("db", "statement failed stmt=%d sqlstate=%s", req->cur, state ? state : "");
	if (st == ST_CONFLICT)
		err_set(&req->result.err, st, NULL, "the change conflicts with another one");
	else if (st == ST_INVALID)
		err_set(&req->result.err, st, NULL,
		        "a value refers to something that does not exist");
	else if (st == ST_UNAVAILABLE)
		err_set(&req->result.err, st, NULL, "could not complete the database request");
	else
		err_set(&req->result.err, st, NULL, "internal database error");
}

/* Read every result that has arrived for the running request. */
static void conn_read_results(struct db_conn *c)
{
	struct db_req *req;
	PGresult *res;

	while ((req = c->req) != NULL && !PQisBusy(c->pg)) {
		res = PQgetResult(c->pg);
		if (res == NULL) {
			/* end of one statement's results */
			if (req->cur < req->n)
				req->cur++;
			continue;
		}
		switch (PQresultStatus(res)) {
		case PGRES_PIPELINE_SYNC:
			PQclear(res);
			c->req = NULL;
			c->state = DBC_IDLE;
			req_finish(c->db, req);
			continue;
		case PGRES_FATAL_ERROR:
			req_note_error(req, res);
			break;
		case PGRES_PIPELINE_ABORTED:
			PQclear(res);
			continue;
		default:
			break;
		}
		if (req->cur < req->n) {
			PQclear(req->result.res[req->cur]);
			req->result.res[req->cur] = res;
		} else {
			PQclear(res);
		}
	}
	if (c->state == DBC_IDLE)
		conn_dispatch(c->db);
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;

	if (c->state == DBC_CONNECTING) {
		conn_poll(c);
		return;
	}
	if (PQconsumeInput(c->pg) != 1 || PQstatus(c->pg) == CONNECTION_BAD) {
		conn_down(c, PQerrorMessage(c->pg));
		return;
	}
	conn_read_results(c);
}

static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;

	if (c->state == DBC_CONNECTING)
		conn_poll(c);
	else if (c->pg != NULL)
		conn_flush(c);
}

/* Hand queued requests to idle connections. */
static void conn_dispatch(struct db *db)
{
	for (int i = 0; i < db->size && !TAILQ_EMPTY(&db->queue); i++) {
		struct db_conn *c = &db->conns[i];
		struct db_req *req;

		if (c->state != DBC_IDLE)
			continue;
		req = TAILQ_FIRST(&db->queue);
		TAILQ_REMOVE(&db->queue, req, entry);
		db->nqueued--;
		conn_send(c, req);
	}
}

static bool db_any_usable(const struct db *db)
{
	for (int i = 0; i < db->size; i++)
		if (db->conns[i].state != DBC_DOWN)
			return true;
	return false;
}

void db_req_submit(struct db *db, struct db_req *req, db_cb *cb, void *arg)
{
	ASSERT(req->n > 0);
	req->cb = cb;
	req->arg = arg;
	req->queued_at = mono_ms();
	if (!db_any_usable(db)) {
		req_fail(db, req, ST_UNAVAILABLE, "the database is not available");
		return;
	}
	if (db->nqueued >= db->queue_max) {
		req_fail(db, req, ST_UNAVAILABLE, "too many requests are waiting for the database");
		return;
	}
	TAILQ_INSERT_TAIL(&db->queue, req, entry);
	db->nqueued++;
	conn_dispatch(db);
}

struct db *db_new(struct event_base *base, const struct config *cfg)
{
	struct db *db = xcalloc(1, sizeof *db);

	db->base = base;
	db->conninfo = xstrdup(cfg->database_url);
	db->options = xasprintf("-c statement_timeout=%" PRId64 " -c timezone=UTC",
	                        cfg->db_statement_timeout_ms);
	db->connect_timeout_ms = cfg->db_connect_timeout_ms;
	db->retry_interval_ms = cfg->db_retry_interval_ms;
	db->queue_max = cfg->db_queue_max;
	db->size = cfg->db_pool_size;
	TAILQ_INIT(&db->queue);
	TAILQ_INIT(&db->finished);
	db->ev_finished = event_new(base, -1, 0, finished_cb, db);
	db->conns = xcalloc((size_t)db->size, sizeof *db->conns);
	for (int i = 0; i < db->size; i++) {
		db->conns[i].db = db;
		db->conns[i].index = i;
		db->conns[i].fd = -1;
		conn_start(&db->conns[i]);
	}
	return db;
}

void db_free(struct db *db)
{
	struct db_req *req;

	if (db == NULL)
		return;
	while ((req = TAILQ_FIRST(&db->queue)) != NULL) {
		TAILQ_REMOVE(&db->queue, req, entry);
		db->nqueued--;
		req_fail(db, req, ST_UNAVAILABLE, "the server is shutting down");
	}
	for (int i = 0; i < db->size; i++) {
		struct db_conn *c = &db->conns[i];

		c->was_up = false;
		if (c->state != DBC_DOWN)
			conn_down(c, "shutting down");
	}
	/* Callbacks of failed requests still run, so their owners can clean up. */
	finished_cb(-1, 0, db);
	event_free(db->ev_finished);
	free(db->conns);
	free(db->conninfo);
	free(db->options);
	free(db);
}

void db_get_stats(const struct db *db, struct db_stats *stats)
{
	memset(stats, 0, sizeof *stats);
	stats->size = db->size;
	stats->queued = db->nqueued;
	stats->done = db->done;
	stats->failed = db->failed;
	for (int i = 0; i < db->size; i++) {
		if (db->conns[i].state == DBC_IDLE || db->conns[i].state == DBC_BUSY)
			stats->connected++;
		if (db->conns[i].state == DBC_BUSY)
			stats->busy++;
	}
}

bool db_is_idle(const struct db *db)
{
	for (int i = 0; i < db->size; i++)
		if (db->conns[i].state == DBC_BUSY)
			return false;
	return db->nqueued == 0 && TAILQ_EMPTY(&db->finished);
}

void db_tick(struct db *db)
{
	int64_t now = mono_ms();
	struct db_req *req, *tmp;

	for (int i = 0; i < db->size; i++) {
		struct db_conn *c = &db->conns[i];

		if (c->state == DBC_DOWN && now >= c->retry_at)
			conn_start(c);
		else if (c->state == DBC_CONNECTING && now - c->since > db->connect_timeout_ms)
			conn_down(c, "timeout expired");
	}
	/* Requests may not wait for a connection longer than a connection attempt may take. */
	TAILQ_FOREACH_SAFE(req, &db->queue, entry, tmp)
	{
		if (now - req->queued_at <= db->connect_timeout_ms && db_any_usable(db))
			continue;
		TAILQ_REMOVE(&db->queue, req, entry);
		db->nqueued--;
		req_fail(db, req, ST_UNAVAILABLE, "the database is not available");
	}
}

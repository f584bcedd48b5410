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
 *
 * Group commit: a group transaction takes every grouped request
 * (db_req_set_group) waiting when it is sent (up to GROUP_MAX_REQS), so
 * concurrent writers share one COMMIT and one WAL flush.  At most
 * GROUP_MAX_INFLIGHT of them are out at once, pipelined on one connection: the
 * next is already in PostgreSQL's hands when the one before commits.  If anything in a shared
 * transaction fails, nothing of it has committed; its requests go back to the head of the queue
 * marked "alone" and run one by one, so each gets the outcome it would have had by itself.
 *
 * Prepared statements: each connection prepares a statement the first time it
 * runs it (named "cbN", keyed by the SQL string's address and checked against
 * a copy of its text) and executes the prepared form from then on, so
 * PostgreSQL parses and plans the hot statements once per connection.
 */
#include "db.h"

#include <libpq-fe.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "list.h"
#include "log.h"
#include "xmalloc.h"

enum dbc_state { DBC_DOWN, DBC_CONNECTING, DBC_IDLE, DBC_BUSY };

enum {
	GROUP_MAX_REQS = 64,    /* requests sharing one transaction at most */
	GROUP_MAX_STMTS = 1024, /* statements in one shared transaction at most */
	PREP_SLOTS = 512,       /* prepared statements a connection keeps (power of two) */
	PIPELINE_DEPTH = 8,     /* transactions in flight on one connection at most */
	GROUP_MAX_INFLIGHT = 2, /* group transactions sent at once (pipelined on one connection) */
};

struct db_stmt {
	const char *sql; /* borrowed: a static string in a store_*.c */
	int nparams;     /* number of values */
	char **values;   /* owned copies; NULL entries are SQL NULL */
};

struct db_req {
	TAILQ_ENTRY(db_req) entry;     /* in db->queue, a connection's batch or db->finished */
	struct db_stmt *stmts;         /* owned, n of them */
	int n, cap;                    /* used and allocated statements */
	const char *lead;              /* grouped: statement run first in its transaction */
	bool alone;                    /* grouped, but must run in a transaction of its own */
	db_cb *cb;                     /* completion callback */
	void *arg;                     /* its argument */
	int64_t queued_at;             /* monotonic ms when submitted */
	int64_t sent_at;               /* monotonic us when sent on a connection, 0 if never */
	char rid[LOG_REQUEST_ID_SIZE]; /* request id in force at submit, restored for cb */
	struct db_result result;       /* filled while reading; res[] owned */
};

TAILQ_HEAD(db_req_list, db_req);

/* One result libpq will return on a connection, in the order they were sent. */
struct db_slot {
	struct db_req *req; /* whose statement */
	int stmt;           /* its index; -1 for the transaction's lead statement */
	int prep;           /* >= 0: the Parse of prepared statement prep, not the execution */
};

/* One transaction in flight on a connection: its requests are the next nreqs of batch. */
struct db_unit {
	int nreqs;    /* requests in it */
	bool grouped; /* the pool's group transaction */
};

/* A statement prepared (or being prepared) on one connection. */
struct db_prep {
	const char *key; /* the SQL string's address; NULL: free slot */
	char *sql;       /* owned copy of its text, to detect a reused address */
	bool ready;      /* its Parse succeeded: execute by name */
	bool sent;       /* a Parse is in flight */
	uint64_t unit;   /* the transaction (c->units_sent) that carries it */
};

struct db_conn {
	struct db *db;                        /* the pool */
	int index;                            /* position in the pool, for log lines */
	PGconn *pg;                           /* owned; NULL when DOWN */
	enum dbc_state state;                 /* see the file comment */
	struct event *ev_read;                /* persistent read readiness while connected; owned */
	struct event *ev_write;               /* one-shot write readiness (connect, flush); owned */
	int fd;                               /* PQsocket the events are on, -1 if none */
	struct db_req_list batch;             /* requests sent and not finished, in sending order */
	struct db_unit units[PIPELINE_DEPTH]; /* transactions in flight, a ring */
	int unit_head, nunits;                /* the oldest one's index, and how many (BUSY: > 0) */
	int ngrouped;                         /* how many of them are group transactions */
	bool reset;            /* drop the connection once idle (stale prepared plans) */
	struct db_slot *slots; /* owned: results expected, in order */
	int nslots, slots_cap; /* appended up to nslots */
	int slot_cur;          /* the slot whose results are being read */
	struct db_prep *preps; /* owned array of PREP_SLOTS, NULL until first used */
	int nprep;             /* statements prepared so far (names cb0...) */
	uint64_t units_sent;   /* transactions sent so far: numbers them */
	int64_t since;         /* monotonic ms the connect began or the request was sent */
	int64_t retry_at;      /* monotonic ms of the next connect attempt when DOWN */
	bool was_up;           /* logged as up, so a loss is worth a line */
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
	int group_inflight;          /* group transactions sent and not finished */
	uint64_t done, failed;       /* counters for metrics */
	uint64_t group_commits;      /* group transactions committed */
	uint64_t grouped;            /* requests committed in them */
	uint64_t group_retries;      /* shared transactions that failed and were re-run alone */
	struct metrics_hist run;     /* request latency on a connection, for metrics */
	struct metrics_hist wait;    /* time waiting for a connection, for metrics */
};

static void conn_start(struct db_conn *c);
static void conn_dispatch(struct db *db);

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

/* Free a request's results and clear them, so it can run again (or be freed). */
static void req_reset(struct db_req *req)
{
	if (req->result.res != NULL) {
		for (int i = 0; i < req->result.n; i++)
			PQclear(req->result.res[i]);
		free(req->result.res);
	}
	memset(&req->result, 0, sizeof req->result);
	req->result.failed_stmt = -1;
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
	req_reset(req);
	free(req);
}

/* Queue req's callback to run from the loop (never from inside the caller's stack). */
static void req_finish(struct db *db, struct db_req *req)
{
	if (req->result.st != ST_OK)
		db->failed++;
	db->done++;
	if (req->sent_at != 0)
		metrics_hist_observe(&db->run, (double)(mono_us() - req->sent_at) / 1e6);
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
		char prev[LOG_REQUEST_ID_SIZE];

		req->result.n = req->n;
		/* the callback resumes the HTTP request (if any) that submitted req */
		log_request_begin(req->rid, prev);
		req->cb(&req->result, req->arg);
		log_request_end(prev);
		db_req_free(req);
	}
}

/* Fail every request in flight on c. */
static void batch_fail(struct db_conn *c, enum status st, const char *msg)
{
	struct db_req *req;

	while ((req = TAILQ_FIRST(&c->batch)) != NULL) {
		TAILQ_REMOVE(&c->batch, req, entry);
		req_fail(c->db, req, st, msg);
	}
	c->nunits = 0;
	c->nslots = c->slot_cur = 0;
	c->db->group_inflight -= c->ngrouped;
	c->ngrouped = 0;
}

/* Forget c's prepared statements (the session that had them is gone). */
static void preps_clear(struct db_conn *c)
{
	if (c->preps != NULL) {
		for (int i = 0; i < PREP_SLOTS; i++)
			free(c->preps[i].sql);
		free(c->preps);
	}
	c->preps = NULL;
	c->nprep = 0;
	c->reset = false;
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
	batch_fail(c, ST_UNAVAILABLE, "could not complete the database request");
	preps_clear(c);
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

static void slot_push(struct db_conn *c, struct db_req *req, int stmt, int prep)
{
	if (c->nslots == c->slots_cap && c->slot_cur > 0) {
		/* a connection that never goes idle: drop the slots already read */
		memmove(c->slots, c->slots + c->slot_cur,
		        (size_t)(c->nslots - c->slot_cur) * sizeof *c->slots);
		c->nslots -= c->slot_cur;
		c->slot_cur = 0;
	}
	if (c->nslots == c->slots_cap) {
		c->slots_cap = c->slots_cap != 0 ? c->slots_cap * 2 : 16;
		c->slots = xrealloc(c->slots, (size_t)c->slots_cap * sizeof *c->slots);
	}
	c->slots[c->nslots].req = req;
	c->slots[c->nslots].stmt = stmt;
	c->slots[c->nslots].prep = prep;
	c->nslots++;
}

/*
 * The prepared-statement slot for sql on c, or -1 when c keeps no more: a
 * slot whose key is sql's address and whose text is sql's (an address reused
 * for other text gets a slot of its own).
 */
static int prep_find(struct db_conn *c, const char *sql)
{
	size_t h = ((uintptr_t)sql >> 4) * 2654435761u;

	if (c->preps == NULL)
		c->preps = xcalloc(PREP_SLOTS, sizeof *c->preps);
	for (int probe = 0; probe < PREP_SLOTS; probe++) {
		int i = (int)((h + (size_t)probe) & (PREP_SLOTS - 1));
		struct db_prep *p = &c->preps[i];

		if (p->key == NULL) {
			if (c->nprep >= PREP_SLOTS / 2)
				return -1; /* keep the table sparse; run the rest unprepared */
			p->key = sql;
			p->sql = xstrdup(sql);
			c->nprep++;
			return i;
		}
		if (p->key == sql && strcmp(p->sql, sql) == 0)
			return i;
	}
	return -1;
}

/* Send one statement, preparing it first if c has not yet; false if libpq failed. */
static bool stmt_send(struct db_conn *c, struct db_req *req, int stmt, const char *sql, int nparams,
                      const char *const *values)
{
	int i = prep_find(c, sql);
	char name[16];

	/*
	 * Unprepared when c keeps no more, or while a Parse still rides in an
	 * earlier transaction: it may yet be skipped (if that transaction fails
	 * before it), so this one must not depend on it.
	 */
	if (i < 0 ||
	    (!c->preps[i].ready && c->preps[i].sent && c->preps[i].unit != c->units_sent)) {
		slot_push(c, req, stmt, -1);
		return PQsendQueryParams(c->pg, sql, nparams, NULL, values, NULL, NULL, 0) == 1;
	}
	snprintf(name, sizeof name, "cb%d", i);
	if (!c->preps[i].ready && !c->preps[i].sent) {
		if (PQsendPrepare(c->pg, name, sql, nparams, NULL) != 1)
			return false;
		c->preps[i].sent = true;
		c->preps[i].unit = c->units_sent;
		slot_push(c, req, stmt, i);
	}
	slot_push(c, req, stmt, -1);
	return PQsendQueryPrepared(c->pg, name, nparams, values, NULL, NULL, 0) == 1;
}

/*
 * Send one transaction: the nreqs requests from first on (already at the end
 * of c->batch), after the lead statement if they are grouped, then the sync
 * point.  Earlier transactions may still be running: their results come back
 * first.
 */
static void conn_send(struct db_conn *c, struct db_req *first, int nreqs)
{
	bool grouped = first->lead != NULL;
	struct db_unit *u;
	struct db_req *req = first;

	c->state = DBC_BUSY;
	c->since = mono_ms();
	c->units_sent++;
	u = &c->units[(c->unit_head + c->nunits) % PIPELINE_DEPTH];
	u->nreqs = nreqs;
	u->grouped = grouped;
	c->nunits++;
	if (grouped)
		c->ngrouped++;
	if (grouped && !stmt_send(c, first, -1, first->lead, 0, NULL))
		goto fail;
	for (int k = 0; k < nreqs; k++, req = TAILQ_NEXT(req, entry)) {
		req->result.res = xcalloc((size_t)req->n, sizeof *req->result.res);
		req->result.n = req->n;
		for (int i = 0; i < req->n; i++) {
			const struct db_stmt *st = &req->stmts[i];

			if (!stmt_send(c, req, i, st->sql, st->nparams,
			               (const char *const *)st->values))
				goto fail;
		}
	}
	if (PQpipelineSync(c->pg) != 1)
		goto fail;
	conn_flush(c);
	return;
fail:
	conn_down(c, PQerrorMessage(c->pg));
}

/* The oldest transaction's sync point arrived: finish its requests, or re-run them alone. */
static void conn_unit_done(struct db_conn *c)
{
	struct db *db = c->db;
	struct db_unit u = c->units[c->unit_head];
	struct db_req_list done;
	struct db_req *req;
	bool failed = false;

	c->unit_head = (c->unit_head + 1) % PIPELINE_DEPTH;
	c->nunits--;
	TAILQ_INIT(&done);
	for (int k = 0; k < u.nreqs && (req = TAILQ_FIRST(&c->batch)) != NULL; k++) {
		TAILQ_REMOVE(&c->batch, req, entry);
		TAILQ_INSERT_TAIL(&done, req, entry);
		failed = failed || req->result.st != ST_OK;
	}
	if (failed && u.nreqs > 1) {
		/* Nothing committed: run each alone, in the same order, before anything else. */
		db->group_retries++;
		log_debug("db", "shared transaction failed; re-running requests=%d alone", u.nreqs);
		while ((req = TAILQ_LAST(&done, db_req_list)) != NULL) {
			TAILQ_REMOVE(&done, req, entry);
			req_reset(req);
			req->alone = true;
			TAILQ_INSERT_HEAD(&db->queue, req, entry);
			db->nqueued++;
		}
	} else {
		if (u.grouped && !failed) {
			db->group_commits++;
			db->grouped += (uint64_t)u.nreqs;
		}
		while ((req = TAILQ_FIRST(&done)) != NULL) {
			TAILQ_REMOVE(&done, req, entry);
			req_finish(db, req);
		}
	}
	if (u.grouped) {
		db->group_inflight--;
		c->ngrouped--;
	}
	if (c->nunits == 0) {
		c->state = DBC_IDLE;
		c->nslots = c->slot_cur = 0;
		if (c->reset)
			conn_down(c, "prepared statements are out of date");
	}
}

/* Record the first failing statement of a request (stmt -1: its transaction's lead). */
static void req_note_error(struct db_req *req, int stmt, const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	enum status st;

	if (req->result.st != ST_OK)
		return;
	req->result.failed_stmt = stmt;
	snprintf(req->result.sqlstate, sizeof req->result.sqlstate, "%s", state ? state : "");
	st = db_status_from_sqlstate(state);
	req->result.st = st;
	if (state != NULL && strncmp(state, "CB", 2) == 0) {
		/* our own checks: their message is written for the client */
		err_set(&req->result.err, st, NULL, "%s", primary ? primary : "");
		return;
	}
	log_warning("db", "statement failed stmt=%d sqlstate=%s", stmt, state ? state : "");
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

/* Read every result that has arrived for the running transaction. */
static void conn_read_results(struct db_conn *c)
{
	PGresult *res;

	while (c->state == DBC_BUSY && !PQisBusy(c->pg)) {
		struct db_slot *slot;
		ExecStatusType rs;

		res = PQgetResult(c->pg);
		if (res == NULL) {
			/* end of one statement's results */
			if (c->slot_cur < c->nslots)
				c->slot_cur++;
			continue;
		}
		rs = PQresultStatus(res);
		if (rs == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			conn_unit_done(c);
			continue;
		}
		slot = c->slot_cur < c->nslots ? &c->slots[c->slot_cur] : NULL;
		if (rs == PGRES_FATAL_ERROR) {
			const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

			/* a prepared plan whose result shape changed, or a lost statement */
			if (state != NULL &&
			    (strcmp(state, "0A000") == 0 || strcmp(state, "26000") == 0))
				c->reset = true;
			if (slot != NULL)
				req_note_error(slot->req, slot->stmt, res);
		}
		if (slot != NULL && slot->prep >= 0) {
			if (rs == PGRES_COMMAND_OK)
				c->preps[slot->prep].ready = true;
			c->preps[slot->prep].sent = false;
			PQclear(res);
		} else if (slot != NULL && slot->stmt >= 0 && rs != PGRES_PIPELINE_ABORTED) {
			struct db_req *req = slot->req;

			PQclear(req->result.res[slot->stmt]);
			req->result.res[slot->stmt] = res;
		} else {
			PQclear(res);
		}
	}
	if (c->state != DBC_DOWN)
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

/*
 * The connection to send a transaction to: an idle one; else, for an
 * ungrouped transaction, the least busy one whose pipeline has room and holds
 * no group transaction (which may wait on a lock).  NULL if none.
 */
static struct db_conn *conn_pick(struct db *db, bool grouped)
{
	struct db_conn *best = NULL;

	if (grouped) {
		/* behind the group transaction already running: it starts the moment that commits
		 */
		for (int i = 0; i < db->size; i++)
			if (db->conns[i].ngrouped > 0 && !db->conns[i].reset &&
			    db->conns[i].nunits < PIPELINE_DEPTH)
				return &db->conns[i];
	}
	for (int i = 0; i < db->size; i++)
		if (db->conns[i].state == DBC_IDLE && !db->conns[i].reset)
			return &db->conns[i];
	if (grouped)
		return NULL;
	for (int i = 0; i < db->size; i++) {
		struct db_conn *c = &db->conns[i];

		if (c->state == DBC_BUSY && c->ngrouped == 0 && !c->reset &&
		    c->nunits < PIPELINE_DEPTH && (best == NULL || c->nunits < best->nunits))
			best = c;
	}
	return best;
}

/* Move req from the queue to the end of c's batch. */
static void queue_take(struct db *db, struct db_conn *c, struct db_req *req)
{
	TAILQ_REMOVE(&db->queue, req, entry);
	db->nqueued--;
	TAILQ_INSERT_TAIL(&c->batch, req, entry);
	req->sent_at = mono_us();
	metrics_hist_observe(&db->wait, (double)(req->sent_at / 1000 - req->queued_at) / 1e3);
}

/* Send what may start now: ungrouped requests pipelined, grouped ones in group transactions. */
static void conn_dispatch(struct db *db)
{
	struct db_req *req, *next, *first;
	struct db_conn *c;
	int n, stmts;

again:
	TAILQ_FOREACH_SAFE(req, &db->queue, entry, next)
	{
		bool grouped = req->lead != NULL;

		if (grouped && db->group_inflight >= GROUP_MAX_INFLIGHT)
			continue;
		c = conn_pick(db, grouped);
		if (c == NULL) {
			if (grouped)
				continue;
			return; /* no room for anything */
		}
		queue_take(db, c, req);
		if (!grouped) {
			conn_send(c, req, 1);
			continue;
		}
		/* Group commit: every grouped request waiting joins this transaction. */
		db->group_inflight++;
		first = req;
		n = 1;
		stmts = req->n;
		for (req = first->alone ? NULL : TAILQ_FIRST(&db->queue); req != NULL; req = next) {
			next = TAILQ_NEXT(req, entry);
			if (n >= GROUP_MAX_REQS)
				break;
			if (req->lead == NULL || req->alone ||
			    strcmp(req->lead, first->lead) != 0 || stmts + req->n > GROUP_MAX_STMTS)
				continue;
			queue_take(db, c, req);
			n++;
			stmts += req->n;
		}
		conn_send(c, first, n);
		goto again; /* the queue changed under the iteration */
	}
}

static bool db_any_usable(const struct db *db)
{
	for (int i = 0; i < db->size; i++)
		if (db->conns[i].state != DBC_DOWN)
			return true;
	return false;
}

void db_req_set_group(struct db_req *req, const char *lead_sql)
{
	req->lead = lead_sql;
}

void db_req_submit(struct db *db, struct db_req *req, db_cb *cb, void *arg)
{
	ASSERT(req->n > 0);
	snprintf(req->rid, sizeof req->rid, "%s", log_request_id());
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
	/*
	 * jit=off: every statement here is short, and PostgreSQL's JIT, set off
	 * by a cost estimate, can spend seconds compiling a query that runs in
	 * milliseconds (the report facts: 1.7 s of JIT for 0.3 s of work).
	 */
	db->options = xasprintf("-c statement_timeout=%" PRId64 " -c timezone=UTC -c jit=off",
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
		TAILQ_INIT(&db->conns[i].batch);
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
		free(c->slots);
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
	stats->group_commits = db->group_commits;
	stats->grouped = db->grouped;
	stats->group_retries = db->group_retries;
	stats->run = db->run;
	stats->wait = db->wait;
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

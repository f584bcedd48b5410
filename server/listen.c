/*
 * listen.c - the LISTEN connection (see listen.h).
 *
 * Owns: one PGconn in nonblocking mode, its read/write events, and its
 * reconnection timer.  States: DOWN -> CONNECTING -> LISTENING (after the
 * LISTEN command's result) -> DOWN on any failure.
 */
#include "listen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "log.h"
#include "xmalloc.h"

/*
 * Subscribes this session to commit notifications of the outbox, and of
 * changes to tokens, users and their wards (migration 0009's triggers).
 */
static const char SQL_LISTEN[] = "LISTEN carebridge_events; LISTEN carebridge_auth";
static const char AUTH_CHANNEL[] = "carebridge_auth";

enum listen_state { LS_DOWN, LS_CONNECTING, LS_SUBSCRIBING, LS_LISTENING };

struct listen {
	struct event_base *base;    /* borrowed */
	char *conninfo;             /* owned */
	int64_t retry_ms;           /* between attempts */
	int64_t connect_timeout_ms; /* for one attempt */
	listen_cb *cb;              /* "maybe new events" */
	listen_cb *auth_cb;         /* "tokens, users or wards may have changed"; may be NULL */
	void *arg;                  /* the argument of both */
	PGconn *pg;                 /* owned; NULL when down */
	enum listen_state state;    /* see the file comment */
	struct event *ev_read;      /* persistent; owned */
	struct event *ev_write;     /* one-shot; owned */
	int fd;                     /* socket the events watch */
	int64_t since;              /* monotonic ms of the last state change */
	int64_t retry_at;           /* next attempt when down */
	int subscribing;            /* LISTEN results still to come */
	uint64_t auth_gen;          /* see listen_auth_generation */
	uint64_t sessions;          /* see listen_session */
};

static void listen_down(struct listen *l, const char *why)
{
	char msg[200];
	size_t n;

	snprintf(msg, sizeof msg, "%s", why != NULL ? why : "");
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	if (l->state == LS_LISTENING)
		log_warning("listen", "connection lost reason=\"%s\"", msg);
	if (l->ev_read != NULL)
		event_free(l->ev_read);
	if (l->ev_write != NULL)
		event_free(l->ev_write);
	l->ev_read = l->ev_write = NULL;
	if (l->pg != NULL)
		PQfinish(l->pg);
	l->pg = NULL;
	l->fd = -1;
	l->state = LS_DOWN;
	l->auth_gen++; /* auth notifications may be missed from now on */
	l->retry_at = mono_ms() + l->retry_ms;
}

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);

static void set_socket(struct listen *l)
{
	int fd = PQsocket(l->pg);

	if (fd == l->fd && l->ev_read != NULL)
		return;
	if (l->ev_read != NULL)
		event_free(l->ev_read);
	if (l->ev_write != NULL)
		event_free(l->ev_write);
	l->fd = fd;
	l->ev_read = event_new(l->base, fd, EV_READ | EV_PERSIST, on_read, l);
	l->ev_write = event_new(l->base, fd, EV_WRITE, on_write, l);
}

static void subscribe(struct listen *l)
{
	if (PQsetnonblocking(l->pg, 1) != 0 || PQsendQuery(l->pg, SQL_LISTEN) != 1) {
		listen_down(l, PQerrorMessage(l->pg));
		return;
	}
	l->state = LS_SUBSCRIBING;
	l->subscribing = 2;
	if (PQflush(l->pg) == 1)
		event_add(l->ev_write, NULL);
}

static void poll_connect(struct listen *l)
{
	switch (PQconnectPoll(l->pg)) {
	case PGRES_POLLING_READING:
		set_socket(l);
		event_add(l->ev_read, NULL);
		return;
	case PGRES_POLLING_WRITING:
		set_socket(l);
		event_del(l->ev_read);
		event_add(l->ev_write, NULL);
		return;
	case PGRES_POLLING_OK:
		set_socket(l);
		event_add(l->ev_read, NULL);
		subscribe(l);
		return;
	default:
		break;
	}
	listen_down(l, PQerrorMessage(l->pg));
}

static void start(struct listen *l)
{
	const char *keys[] = {"dbname", "application_name", NULL};
	const char *vals[] = {l->conninfo, "carebridge-listen", NULL};

	l->pg = PQconnectStartParams(keys, vals, 1);
	l->since = mono_ms();
	l->fd = -1;
	if (l->pg == NULL || PQstatus(l->pg) == CONNECTION_BAD) {
		listen_down(l, l->pg != NULL ? PQerrorMessage(l->pg) : "out of memory");
		return;
	}
	l->state = LS_CONNECTING;
	set_socket(l);
	event_add(l->ev_write, NULL);
}

static void on_read(evutil_socket_t fd, short what, void *arg);

void listen_poll(struct listen *l)
{
	if (l->state == LS_LISTENING)
		on_read(l->fd, EV_READ, l);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct listen *l = arg;
	PGnotify *n;
	bool any = false;
	uint64_t auth_gen = l->auth_gen;

	if (l->state == LS_CONNECTING) {
		poll_connect(l);
		return;
	}
	if (PQconsumeInput(l->pg) != 1 || PQstatus(l->pg) == CONNECTION_BAD) {
		listen_down(l, PQerrorMessage(l->pg));
		return;
	}
	while (!PQisBusy(l->pg)) {
		PGresult *res = PQgetResult(l->pg);

		if (res == NULL)
			break;
		if (l->state == LS_SUBSCRIBING) {
			if (PQresultStatus(res) != PGRES_COMMAND_OK) {
				PQclear(res);
				listen_down(l, PQerrorMessage(l->pg));
				return;
			}
			if (--l->subscribing == 0) {
				l->state = LS_LISTENING;
				l->auth_gen++;
				l->sessions++;
				log_info("listen", "listening channel=carebridge_events");
				any = true; /* read whatever committed while we were away */
			}
		}
		PQclear(res);
	}
	while ((n = PQnotifies(l->pg)) != NULL) {
		if (strcmp(n->relname, AUTH_CHANNEL) == 0)
			l->auth_gen++;
		else
			any = true;
		PQfreemem(n);
	}
	if (auth_gen != l->auth_gen && l->state == LS_LISTENING && l->auth_cb != NULL)
		l->auth_cb(l->arg);
	if (any && l->state == LS_LISTENING)
		l->cb(l->arg);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
	struct listen *l = arg;

	if (l->state == LS_CONNECTING)
		poll_connect(l);
	else if (l->pg != NULL && PQflush(l->pg) == 1)
		event_add(l->ev_write, NULL);
}

struct listen *listen_new(struct event_base *base, const struct config *cfg, listen_cb *cb,
                          listen_cb *auth_cb, void *arg)
{
	struct listen *l = xcalloc(1, sizeof *l);

	l->base = base;
	l->conninfo = xstrdup(cfg->database_url);
	l->retry_ms = cfg->db_retry_interval_ms;
	l->connect_timeout_ms = cfg->db_connect_timeout_ms;
	l->cb = cb;
	l->auth_cb = auth_cb;
	l->arg = arg;
	l->fd = -1;
	start(l);
	return l;
}

void listen_free(struct listen *l)
{
	if (l == NULL)
		return;
	l->state = LS_DOWN;
	listen_down(l, NULL);
	free(l->conninfo);
	free(l);
}

void listen_tick(struct listen *l)
{
	int64_t now = mono_ms();

	if (l->state == LS_DOWN && now >= l->retry_at)
		start(l);
	else if (l->state == LS_CONNECTING && now - l->since > l->connect_timeout_ms)
		listen_down(l, "timeout expired");
}

bool listen_is_up(const struct listen *l)
{
	return l->state == LS_LISTENING;
}

uint64_t listen_auth_generation(const struct listen *l)
{
	return l->auth_gen;
}

uint64_t listen_session(const struct listen *l)
{
	return l->sessions;
}

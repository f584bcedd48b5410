/*
 * mllp.c - the HL7 v2 listener (see mllp.h).
 *
 * Owns: the evconnlistener, one struct mllp_conn per client with its
 * bufferevent and its MLLP decoder (lib/mllp_frame), and the link to the one
 * message job in flight per connection.  It does not look inside messages:
 * hl7_apply.c does, and calls back with the ACK.
 *
 * Flow control is the socket's: while a message is being applied, reading
 * stops, so a client that pipelines waits in TCP and memory stays bounded by
 * mllp_max_message per connection.  Connections are never freed inside their
 * own callbacks: conn_close() moves them to a dead list that an event freed at
 * the end of the loop turn empties (as PgBouncer's just-free lists).
 */
#include "mllp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "app.h"
#include "db.h"
#include "hl7_apply.h"
#include "list.h"
#include "log.h"
#include "mllp_frame.h"
#include "store_hl7.h"
#include "xmalloc.h"

#define MLLP_PRUNE_EVERY 60 /* ticks (seconds) between prunes of old messages */

struct mllp_allow {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* the address, 4 or 16 bytes */
};

struct mllp_conn {
	TAILQ_ENTRY(mllp_conn) entry; /* on m->conns, or m->dead once closed */
	struct mllp *m;               /* the listener */
	struct bufferevent *bev;      /* the socket; owned, freed with the conn */
	struct mllp_decoder dec;      /* the frame being assembled */
	char peer[INET6_ADDRSTRLEN];  /* client address, for logs and the record */
	uint64_t id;                  /* connection number, for logs */
	struct hl7_job *job;          /* the message being applied, NULL if none */
	unsigned messages;            /* messages answered */
	bool closing;                 /* close once the output is flushed */
	bool dead;                    /* on m->dead, freed at the end of the loop turn */
};

TAILQ_HEAD(mllp_conn_list, mllp_conn);

struct mllp {
	struct app *app;                 /* the process */
	struct evconnlistener *listener; /* owned */
	int port;                        /* bound port */
	struct mllp_allow *allow;        /* allowed clients; owned; none = any */
	size_t nallow;                   /* entries in allow */
	struct mllp_conn_list conns;     /* open connections */
	int nconns;                      /* how many */
	struct mllp_conn_list dead;      /* closed, to free at the end of the turn */
	struct event *ev_reap;           /* frees dead; owned */
	uint64_t next_id;                /* next connection number */
	unsigned ticks;                  /* ticks since the last prune */
	bool stopped;                    /* shutting down: no new messages */
};

static void conn_process(struct mllp_conn *c);

const char *mllp_ack_code(enum status st)
{
	switch (st) {
	case ST_OK:
		return "AA";
	case ST_INVALID:
	case ST_UNAUTHORIZED:
	case ST_FORBIDDEN:
	case ST_NOT_FOUND:
	case ST_CONFLICT:
	case ST_TOO_LARGE:
		return "AE";
	case ST_PRECONDITION:
	case ST_LOCKED:
	case ST_TOO_MANY:
	case ST_UNAVAILABLE:
	case ST_INTERNAL:
		break;
	}
	return "AR";
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mllp *m = arg;
	struct mllp_conn *c, *tmp;

	TAILQ_FOREACH_SAFE(c, &m->dead, entry, tmp)
	{
		TAILQ_REMOVE(&m->dead, c, entry);
		bufferevent_free(c->bev);
		mllp_decoder_reset(&c->dec);
		free(c);
	}
}

/* Close c now: its job (if any) goes on without it; freed at the end of the turn. */
static void conn_close(struct mllp_conn *c, const char *why)
{
	struct mllp *m = c->m;

	if (c->dead)
		return;
	c->dead = true;
	if (c->job != NULL) {
		hl7_job_detach(c->job);
		c->job = NULL;
	}
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	TAILQ_REMOVE(&m->conns, c, entry);
	m->nconns--;
	TAILQ_INSERT_TAIL(&m->dead, c, entry);
	event_active(m->ev_reap, EV_TIMEOUT, 0);
	log_info("mllp", "connection closed conn=%llu addr=%s messages=%u reason=%s",
	         (unsigned long long)c->id, c->peer, c->messages, why);
}

/* Close c once what it was told has been written. */
static void conn_close_after_flush(struct mllp_conn *c, const char *why)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_close(c, why);
}

/* The job of c is over: send its ACK and go on with what the client sent meanwhile. */
static void conn_acked(const char *ack, const char *ack_code, void *arg)
{
	struct mllp_conn *c = arg;
	size_t n;
	char *frame = mllp_frame_wrap(ack, strlen(ack), &n);

	c->job = NULL;
	c->messages++;
	bufferevent_write(c->bev, frame, n);
	free(frame);
	if (c->m->stopped) {
		conn_close_after_flush(c, "shutdown");
		return;
	}
	bufferevent_enable(c->bev, EV_READ);
	conn_process(c);
}

/* Feed what has arrived to the decoder until a whole message starts a job. */
static void conn_process(struct mllp_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (c->job == NULL && !c->closing && !c->dead && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		enum mllp_result r;
		size_t consumed = 0;

		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		r = mllp_decoder_feed(&c->dec, v.iov_base, v.iov_len, &consumed);
		evbuffer_drain(in, consumed);
		if (r == MLLP_ERROR) {
			bool too_big = c->dec.len >= c->dec.max_frame;

			log_warning("mllp",
			            "not an MLLP stream, closing conn=%llu addr=%s reason=%s",
			            (unsigned long long)c->id, c->peer,
			            too_big ? "message too large" : "bytes outside a frame");
			conn_close_after_flush(c, too_big ? "message too large" : "bad framing");
			return;
		}
		if (r == MLLP_FRAME) {
			size_t len;
			const char *frame = mllp_decoder_frame(&c->dec, &len);

			/* one message at a time: the rest waits in the socket */
			bufferevent_disable(c->bev, EV_READ);
			c->job = hl7_apply(c->m->app, frame, len, c->peer, conn_acked, c);
			mllp_decoder_next(&c->dec);
		}
	}
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	conn_process(arg);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct mllp_conn *c = arg;

	if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_close(c, "closed by us");
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct mllp_conn *c = arg;

	if (what & BEV_EVENT_EOF)
		conn_close(c, "closed by peer");
	else if (what & BEV_EVENT_TIMEOUT)
		conn_close(c, "idle timeout");
	else if (what & BEV_EVENT_ERROR)
		conn_close(c, "socket error");
}

/* Whether the client at sa may connect. */
static bool peer_allowed(const struct mllp *m, const struct sockaddr *sa)
{
	const unsigned char *addr;
	int family = sa->sa_family;

	if (m->nallow == 0)
		return true;
	if (family == AF_INET) {
		addr = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		addr = (const unsigned char *)a6;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			family = AF_INET;
			addr += 12;
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < m->nallow; i++)
		if (m->allow[i].family == family &&
		    memcmp(m->allow[i].addr, addr, family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
	struct mllp *m = arg;
	const struct config *cfg = m->app->cfg;
	struct mllp_conn *c;
	char peer[INET6_ADDRSTRLEN] = "?";
	int on = 1;

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, peer, sizeof peer);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, peer, sizeof peer);
	if (m->stopped || !peer_allowed(m, sa)) {
		log_warning("mllp", "connection refused addr=%s", peer);
		evutil_closesocket(fd);
		return;
	}
	if (m->nconns >= cfg->mllp_max_connections) {
		log_warning("mllp", "connection refused addr=%s reason=\"%d connections are open\"",
		            peer, m->nconns);
		evutil_closesocket(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
	c = xcalloc(1, sizeof *c);
	c->m = m;
	c->id = ++m->next_id;
	snprintf(c->peer, sizeof c->peer, "%s", peer);
	mllp_decoder_init(&c->dec, (size_t)cfg->mllp_max_message);
	c->bev = bufferevent_socket_new(m->app->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	if (cfg->mllp_idle_timeout_ms > 0) {
		/* counts only while reading: not while a message is applied, nor for its ACK */
		struct timeval tv = {(time_t)(cfg->mllp_idle_timeout_ms / 1000),
		                     (suseconds_t)(cfg->mllp_idle_timeout_ms % 1000 * 1000)};

		bufferevent_set_timeouts(c->bev, &tv, NULL);
	}
	bufferevent_enable(c->bev, EV_READ);
	TAILQ_INSERT_TAIL(&m->conns, c, entry);
	m->nconns++;
	log_info("mllp", "connection opened conn=%llu addr=%s", (unsigned long long)c->id, peer);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	log_warning("mllp", "could not accept a connection: %s",
	            evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/* Parse the mllp_allow list (validated with the configuration). */
static void allow_parse(struct mllp *m, const char *list)
{
	char *copy = xstrdup(list), *save = NULL;

	for (char *item = strtok_r(copy, ", \t", &save); item != NULL;
	     item = strtok_r(NULL, ", \t", &save)) {
		struct mllp_allow a;

		memset(&a, 0, sizeof a);
		if (inet_pton(AF_INET, item, a.addr) == 1)
			a.family = AF_INET;
		else if (inet_pton(AF_INET6, item, a.addr) == 1)
			a.family = AF_INET6;
		else
			continue;
		m->allow = xrealloc(m->allow, (m->nallow + 1) * sizeof *m->allow);
		m->allow[m->nallow++] = a;
	}
	free(copy);
}

static bool write_port_file(const char *path, int port)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *fp = fopen(tmp, "w");
	bool ok = fp != NULL && fprintf(fp, "%d\n", port) > 0;

	if (fp != NULL && fclose(fp) != 0)
		ok = false;
	if (ok && rename(tmp, path) != 0)
		ok = false;
	free(tmp);
	return ok;
}

struct mllp *mllp_new(struct app *app)
{
	const struct config *cfg = app->cfg;
	struct mllp *m = xcalloc(1, sizeof *m);
	struct sockaddr_storage ss;
	socklen_t len;

	m->app = app;
	TAILQ_INIT(&m->conns);
	TAILQ_INIT(&m->dead);
	allow_parse(m, cfg->mllp_allow);
	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, cfg->mllp_listen_addr, &((struct sockaddr_in *)&ss)->sin_addr) ==
	    1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)cfg->mllp_port);
		len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, cfg->mllp_listen_addr,
	                     &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)cfg->mllp_port);
		len = sizeof(struct sockaddr_in6);
	} else {
		log_fatal("mllp", "\"%s\" is not an IP address", cfg->mllp_listen_addr);
		goto fail;
	}
	m->listener = evconnlistener_new_bind(app->base, accept_cb, m,
	                                      LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE |
	                                          LEV_OPT_CLOSE_ON_EXEC,
	                                      -1, (struct sockaddr *)&ss, (int)len);
	if (m->listener == NULL) {
		log_fatal("mllp", "could not listen on %s port %d: %s", cfg->mllp_listen_addr,
		          cfg->mllp_port, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		goto fail;
	}
	evconnlistener_set_error_cb(m->listener, accept_error_cb);
	len = sizeof ss;
	if (getsockname(evconnlistener_get_fd(m->listener), (struct sockaddr *)&ss, &len) != 0) {
		log_fatal("mllp", "could not read the bound port");
		goto fail;
	}
	m->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                                        : ((struct sockaddr_in6 *)&ss)->sin6_port);
	if (cfg->mllp_port_file[0] != '\0' && !write_port_file(cfg->mllp_port_file, m->port)) {
		log_fatal("mllp", "could not write port file \"%s\"", cfg->mllp_port_file);
		goto fail;
	}
	m->ev_reap = event_new(app->base, -1, 0, reap_cb, m);
	m->ticks = MLLP_PRUNE_EVERY - 5; /* a first prune soon after start */
	log_info("mllp", "listening addr=%s port=%d allow=%zu", cfg->mllp_listen_addr, m->port,
	         m->nallow);
	return m;
fail:
	if (m->listener != NULL)
		evconnlistener_free(m->listener);
	free(m->allow);
	free(m);
	return NULL;
}

int mllp_port(const struct mllp *m)
{
	return m->port;
}

void mllp_stop(struct mllp *m)
{
	struct mllp_conn *c, *tmp;

	if (m == NULL || m->stopped)
		return;
	m->stopped = true;
	evconnlistener_disable(m->listener);
	TAILQ_FOREACH_SAFE(c, &m->conns, entry, tmp)
	{
		if (c->job == NULL)
			conn_close_after_flush(c, "shutdown");
	}
}

void mllp_tick(struct mllp *m)
{
	if (m == NULL || ++m->ticks < MLLP_PRUNE_EVERY)
		return;
	m->ticks = 0;
	/* fire and forget: a prune that fails is simply tried again later */
	store_hl7_prune(m->app->db, m->app->cfg->hl7_retention_ms, NULL, NULL);
}

void mllp_free(struct mllp *m)
{
	struct mllp_conn *c, *tmp;

	if (m == NULL)
		return;
	TAILQ_FOREACH_SAFE(c, &m->conns, entry, tmp)
	{
		conn_close(c, "shutdown");
	}
	reap_cb(-1, 0, m);
	evconnlistener_free(m->listener);
	event_free(m->ev_reap);
	free(m->allow);
	free(m);
}

/*
 * hub.c - SSE subscribers, the ring and replay (see hub.h).
 *
 * Owns: the ring (a circular array of preformatted frames), the subscriber
 * list, the fetch state machine that reads the outbox, the heartbeat, and the
 * pruning rounds (with what they found held back for webhooks).
 * Must not: block (a slow client is dropped, not waited for) or free a
 * subscriber anywhere but in its connection's close callback (sub_closed) or
 * after its replay query returned, whichever comes last.
 *
 * Cursor rule: every subscriber has pos, the highest event id it has been
 * offered.  A live subscriber gets each new ring event as it arrives.  One
 * that is behind catches up from the ring when the ring still holds every
 * event after pos (pos >= ring_floor), otherwise from the table, page by
 * page, then from the ring, then goes live.
 *
 * Credential rule: a stream lives no longer than the token or session it was
 * opened with.  Each subscriber keeps its token id, the auth generation
 * (listen_auth_generation) under which that token was last found live, and the
 * token's expiry (a timer of its own).  When the generation moves on (a
 * carebridge_auth notification from any process, or a LISTEN reconnect) one
 * query re-checks every subscriber not checked under the new generation: a
 * token no longer live, or a user whose role changed, ends the stream; new
 * wards replace the old (a nurse's stream narrows at once).  Streams end
 * through the same path as dropped ones (reap_cb, then sub_closed).
 */
#include "hub.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "clock.h"
#include "http.h"
#include "list.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "store_auth.h"
#include "store_episode.h"
#include "store_event.h"
#include "xmalloc.h"

#define HUB_FETCH_BATCH 1000
#define HUB_REPLAY_BATCH 1000
#define HUB_SLICE 500          /* subscribers a fan-out writes to per loop turn */
#define HUB_SLICE_VISITS 20000 /* subscribers it looks at per loop turn */
#define HUB_BATCH 32           /* frames to one subscriber per system call */
#define HUB_PRUNE_EVERY 3600   /* seconds between pruning rounds */
#define HUB_PRUNE_FIRST 5      /* seconds after start to the first round */
#define HUB_PRUNE_RETRY 60     /* seconds to the next round when one failed */
#define HUB_PRUNE_BATCH 10000  /* ids a pruning statement looks at (statement_timeout) */
#define HUB_VERIFY 1000        /* newest ring events checked against the table after an outage */

struct hub_event {
	int64_t id;          /* outbox id */
	char type[48];       /* event type */
	char ward[33];       /* "" if none */
	char discipline[33]; /* "" if none */
	char episode[37];    /* "" if none */
	char *orgs;          /* organisations, comma-separated, "" if none; owned */
	char *frame;         /* "id: ..\nevent: ..\ndata: ..\n\n", owned */
	size_t len;          /* frame length */
};

enum sub_state { SUB_WAITING, SUB_REPLAYING, SUB_LIVE };

struct sub {
	TAILQ_ENTRY(sub) entry;          /* in hub->subs */
	struct hub *hub;                 /* owner */
	struct evhttp_request *req;      /* the streaming reply; owned by libevent */
	struct evhttp_connection *evcon; /* its connection; owned by libevent */
	struct bufferevent *bev;         /* evcon's; owned by libevent */
	struct evbuffer *out;            /* bev's output: what waits to be written */
	evutil_socket_t fd;              /* bev's socket */
	struct event_filter filter;      /* what it asked for */
	struct principal principal;      /* who it is (wards point into ward_buf) */
	char *wards_csv;                 /* the principal's wards "A,B" (sorted); owned */
	char *ward_buf;                  /* owned: wards_csv cut at the commas */
	const char **ward_ptrs;          /* owned */
	char token_id[37];               /* the token or session it was opened with */
	uint64_t auth_gen;               /* auth generation its token was last found live under */
	uint64_t check_seq;              /* the credential check it is part of (hub->check_seq) */
	struct event *ev_expire;         /* ends it when its token expires; owned, NULL: never */
	int64_t pos;                     /* highest event id offered */
	enum sub_state state;            /* see the file comment */
	bool querying;                   /* a replay query holds a pointer to us */
	bool gone;                       /* the connection closed while querying */
	bool dropping;                   /* over its buffer limit: being closed */
	bool live_only;                  /* no Last-Event-ID: start from the newest event */
	bool chunked;                    /* the reply uses chunked transfer coding */
	int64_t last_sent_ms;            /* monotonic ms anything was last queued or sent */
	bool no_body;                    /* HEAD: the reply has no body */
	struct evbuffer_cb_entry
	    *out_cb; /* counts out's bytes into the hub's; NULL once released */
};

TAILQ_HEAD(sub_list, sub);

struct hub {
	struct app *app;        /* the process */
	struct hub_event *ring; /* cap entries, circular */
	int cap;                /* ring size */
	int head;               /* index of the oldest event */
	int n;                  /* events in the ring */
	int64_t ring_floor;     /* the ring holds every event with id > ring_floor */
	int64_t last_id;        /* newest id fetched */
	bool ready;             /* last_id is known */
	bool fetching;          /* a fetch query is out */
	bool dirty;             /* poked while fetching */
	bool verify;            /* check the ring against the table before reading on */
	uint64_t session;       /* listen_session when the ring was last checked */
	int64_t lost_after;     /* the last hub_rewind: ids lost_after < id <= lost_upto */
	int64_t lost_upto;      /*   were events that are gone (the ids name others now) */
	struct sub_list subs;   /* every subscriber */
	int nsubs;              /* how many */
	int64_t prune_due;      /* monotonic s of the next pruning round */
	bool pruning;           /* a pruning batch is out */
	int64_t prune_round;    /* events deleted by the current round so far */
	uint64_t pruned;        /* events deleted by pruning since start */
	int64_t held;           /* events past retention kept for webhooks (last round) */
	int64_t held_age_s;     /* age of the oldest of them (last round) */
	struct event *ev_reap;  /* frees dropped subscribers at the end of a turn */
	struct event *ev_fan;   /* the next slice of a fan-out (hub_fan_run) */
	struct sub *fan_next;   /* where the fan-out pass goes on; NULL: between passes */
	int64_t fan_upto;       /* last_id when the current pass began */
	bool fan_pending;       /* some live subscriber may be behind last_id */
	uint64_t fanned_out;    /* frames queued to subscribers */
	uint64_t dropped;       /* subscribers dropped for falling behind */
	int64_t queued;         /* bytes waiting in all subscribers' output buffers */
	uint64_t resets;        /* reset events sent */
	struct event *ev_check; /* re-checks subscribers' credentials (hub_auth_changed) */
	bool checking;          /* a credential check is out */
	uint64_t check_seq;     /* numbers the checks; subscribers in one carry its number */
	uint64_t check_gen;     /* the auth generation the check that is out answers for */
	int64_t check_sent_ms;  /* monotonic ms it was sent (its expires_in count from then) */
	uint64_t ended_auth;    /* streams ended because their credentials did */
};

static void sub_catch_up(struct sub *s);

/*
 * out's callback: keeps hub->queued exact as libevent and sub_send add to a
 * subscriber's output buffer and the socket drains it.
 */
static void out_changed(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct sub *s = arg;

	s->hub->queued += (int64_t)info->n_added - (int64_t)info->n_deleted;
}

/* Start counting s's output buffer (it may hold the reply's headers already). */
static void sub_count(struct sub *s)
{
	s->hub->queued += (int64_t)evbuffer_get_length(s->out);
	s->out_cb = evbuffer_add_cb(s->out, out_changed, s);
}

/* Stop counting s's output buffer: its connection is going (called before libevent frees it). */
static void sub_uncount(struct sub *s)
{
	if (s->out_cb == NULL)
		return;
	s->hub->queued -= (int64_t)evbuffer_get_length(s->out);
	evbuffer_remove_cb_entry(s->out, s->out_cb);
	s->out_cb = NULL;
}

static size_t sub_pending(const struct sub *s)
{
	return evbuffer_get_length(s->out);
}

/* One frame to send: borrowed bytes (a ring frame, or the caller's). */
struct frame_ref {
	const char *data;
	size_t len;
};

/*
 * Queue frames on s's reply the way evhttp_send_reply_chunk does, but with
 * one system call in the common case: when nothing is queued (the client
 * keeps up), the chunks go straight to the socket in one sendmsg.  libevent
 * would otherwise add the write event (epoll_ctl), wait a loop turn, writev
 * and delete the event again (epoll_ctl) for every subscriber of every event.
 * Whatever the socket does not take now (a full socket buffer, or an error)
 * is queued in the connection's output buffer and left to libevent, which
 * writes it in order, applies the write timeout and reports a failed socket
 * through the connection's close callback as before.
 */
static void sub_send(struct sub *s, const struct frame_ref *f, int nf)
{
	struct iovec iov[3 * HUB_BATCH];
	char heads[HUB_BATCH][20];
	struct msghdr msg;
	size_t total = 0;
	ssize_t n;
	int niov = 0;

	if (s->no_body)
		return; /* HEAD: evhttp_send_reply_chunk sends nothing either */
	if (evbuffer_get_length(s->out) > 0) {
		/* behind already: queue after what waits, framed by libevent */
		for (int i = 0; i < nf; i++) {
			struct evbuffer *buf = evbuffer_new();

			evbuffer_add(buf, f[i].data, f[i].len);
			evhttp_send_reply_chunk(s->req, buf);
			evbuffer_free(buf);
		}
		return;
	}
	for (int i = 0; i < nf && i < HUB_BATCH; i++) {
		if (f[i].len == 0)
			continue; /* a zero-length chunk would end the reply */
		if (s->chunked) {
			int hl = snprintf(heads[i], sizeof heads[i], "%zx\r\n", f[i].len);

			iov[niov].iov_base = heads[i];
			iov[niov++].iov_len = (size_t)hl;
			total += (size_t)hl;
		}
		iov[niov].iov_base = (void *)(uintptr_t)f[i].data;
		iov[niov++].iov_len = f[i].len;
		total += f[i].len;
		if (s->chunked) {
			iov[niov].iov_base = (void *)(uintptr_t) "\r\n";
			iov[niov++].iov_len = 2;
			total += 2;
		}
	}
	if (niov == 0)
		return;
	memset(&msg, 0, sizeof msg);
	msg.msg_iov = iov;
	msg.msg_iovlen = (size_t)niov;
	do
		n = sendmsg(s->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)total)
		return;
	if (n < 0)
		n = 0; /* full, or failed: libevent retries and reports a failure */
	for (int i = 0; i < niov; i++) {
		size_t skip = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;

		n -= (ssize_t)skip;
		if (skip < iov[i].iov_len)
			evbuffer_add(s->out, (const char *)iov[i].iov_base + skip,
			             iov[i].iov_len - skip);
	}
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

/* Mark s to be dropped (closed at the end of the loop turn; it resumes with Last-Event-ID). */
static void sub_drop(struct sub *s, const char *limit)
{
	s->dropping = true;
	s->hub->dropped++;
	log_info("hub", "subscriber dropped: too far behind pending=%zu all=%" PRId64 " limit=%s",
	         sub_pending(s), s->hub->queued, limit);
	event_active(s->hub->ev_reap, EV_TIMEOUT, 0);
}

/*
 * Queue frames on s; drop s when it is over sse_max_buffer.  When all
 * subscribers together hold over sse_max_total_buffer, the end of the loop
 * turn drops the slowest (reap_cb).
 */
static void sub_write_frames(struct sub *s, const struct frame_ref *f, int nf)
{
	if (s->dropping || s->gone)
		return;
	if ((int64_t)sub_pending(s) > s->hub->app->cfg->sse_max_buffer) {
		sub_drop(s, "sse_max_buffer");
		return;
	}
	s->last_sent_ms = mono_ms();
	sub_send(s, f, nf);
	if (s->hub->queued > s->hub->app->cfg->sse_max_total_buffer)
		event_active(s->hub->ev_reap, EV_TIMEOUT, 0);
}

/* Queue raw bytes on s; drop s when it is too far behind. */
static void sub_write(struct sub *s, const char *data, size_t len)
{
	struct frame_ref f = {data, len};

	sub_write_frames(s, &f, 1);
}

static bool sub_wants(const struct sub *s, int64_t id, const char *type, const char *ward,
                      const char *discipline, const char *episode, const char *orgs)
{
	struct event_facts e = {type, ward, discipline, episode, orgs};

	(void)id;
	return event_filter_matches(&s->filter, &s->principal, &e);
}

/*
 * Offer s every ring event after s->pos, in order, several frames to a system
 * call.  The caller knows the ring still holds them (s->pos >= ring_floor).
 * Returns whether anything was sent.
 */
static bool sub_flush(struct sub *s)
{
	struct hub *hub = s->hub;
	struct frame_ref batch[HUB_BATCH];
	int i, nb = 0;
	bool sent = false;

	if (s->pos >= hub->last_id)
		return false;
	/* the oldest event after pos: a live subscriber is rarely more than one behind */
	for (i = hub->n; i > 0 && hub->ring[(hub->head + i - 1) % hub->cap].id > s->pos; i--)
		;
	for (; i < hub->n; i++) {
		const struct hub_event *e = &hub->ring[(hub->head + i) % hub->cap];

		s->pos = e->id;
		if (!sub_wants(s, e->id, e->type, e->ward, e->discipline, e->episode, e->orgs))
			continue;
		batch[nb].data = e->frame;
		batch[nb++].len = e->len;
		hub->fanned_out++;
		if (nb == HUB_BATCH) {
			sub_write_frames(s, batch, nb);
			sent = true;
			nb = 0;
		}
	}
	if (nb > 0) {
		sub_write_frames(s, batch, nb);
		sent = true;
	}
	return sent;
}

/*
 * Fan-out: bring every live subscriber up to the newest event, in passes over
 * the subscriber list.  A pass serves at most budget subscribers per call
 * (budget < 0: no limit) and goes on in a later loop turn, so that database
 * replies and HTTP requests (a writer's PATCH among them) are handled between
 * slices instead of after 10,000 writes.  Events that arrive during a pass
 * reach the subscribers after the cursor in this pass and the ones before it
 * in the next; each subscriber still gets every event once and in order, as
 * its pos says what it has been offered.
 */
static void hub_fan_run(struct hub *hub, int budget)
{
	static const struct timeval now = {0, 0};
	int visits = 0;

	while (hub->fan_pending) {
		if (hub->fan_next == NULL) {
			hub->fan_next = TAILQ_FIRST(&hub->subs);
			hub->fan_upto = hub->last_id;
		}
		while (hub->fan_next != NULL) {
			struct sub *s = hub->fan_next;

			if (budget == 0 || visits == HUB_SLICE_VISITS) {
				/* a zero timeout runs after the next poll for I/O */
				event_add(hub->ev_fan, &now);
				return;
			}
			hub->fan_next = TAILQ_NEXT(s, entry);
			if (budget > 0)
				visits++;
			if (s->state == SUB_LIVE && sub_flush(s) && budget > 0)
				budget--;
		}
		if (hub->fan_upto == hub->last_id)
			hub->fan_pending = false;
	}
}

static void fan_cb(evutil_socket_t fd, short what, void *arg)
{
	hub_fan_run(arg, HUB_SLICE);
}

static char *frame_new(int64_t id, const char *type, const char *payload, size_t *len)
{
	char *f = xasprintf("id: %" PRId64 "\nevent: %s\ndata: %s\n\n", id, type, payload);

	*len = strlen(f);
	return f;
}

/* Append an event to the ring (evicting the oldest); hub_fan_run sends it. */
static void hub_append(struct hub *hub, const struct event_row *row)
{
	struct hub_event *e;

	if (row->id <= hub->last_id)
		return;
	if (hub->n == hub->cap) {
		struct hub_event *old = &hub->ring[hub->head];

		/* live subscribers must have the oldest event before it goes */
		if (hub->fan_pending)
			hub_fan_run(hub, -1);
		hub->ring_floor = old->id;
		free(old->frame);
		free(old->orgs);
		hub->head = (hub->head + 1) % hub->cap;
		hub->n--;
	}
	e = &hub->ring[(hub->head + hub->n) % hub->cap];
	hub->n++;
	e->id = row->id;
	snprintf(e->type, sizeof e->type, "%s", row->type);
	snprintf(e->ward, sizeof e->ward, "%s", row->ward);
	snprintf(e->discipline, sizeof e->discipline, "%s", row->discipline);
	snprintf(e->episode, sizeof e->episode, "%s", row->episode);
	e->orgs = xstrdup(row->organisations != NULL ? row->organisations : "");
	e->frame = frame_new(row->id, row->type, row->payload, &e->len);
	hub->last_id = row->id;
	hub->fan_pending = true;
}

static void hub_fetch(struct hub *hub);
static void sub_reset(struct sub *s, const char *reason);

/*
 * The database came back without events this process had read, and hands
 * their ids out again to new events: a crash keeps only the transactions
 * whose commit was durable (with synchronous_commit off the last ones are
 * lost), a failover what the standby had received, a restore what was
 * there at its point.  Reading on after last_id would skip every new event
 * until the sequence passed it, and replays would offer events that no
 * longer exist.  So go back to good, the newest event the table still has
 * as it was read: forget the ring's events after it, and tell every live
 * subscriber that was offered one of them to reload (it holds events that
 * are gone, and its Last-Event-ID names one).  A replaying subscriber gets
 * the same from sub_catch_up when its query returns.
 */
static void hub_rewind(struct hub *hub, int64_t good)
{
	int64_t was = hub->last_id;
	struct sub *s;

	while (hub->n > 0) {
		struct hub_event *e = &hub->ring[(hub->head + hub->n - 1) % hub->cap];

		if (e->id <= good)
			break;
		free(e->frame);
		free(e->orgs);
		e->frame = NULL;
		e->orgs = NULL;
		hub->n--;
	}
	hub->last_id = good;
	hub->lost_after = good;
	hub->lost_upto = was;
	if (hub->ring_floor > good)
		hub->ring_floor = good;
	if (hub->fan_upto > good)
		hub->fan_upto = good;
	log_warning("hub",
	            "events already streamed are no longer in the database; going back"
	            " last_seen=%" PRId64 " back_to=%" PRId64,
	            was, good);
	TAILQ_FOREACH(s, &hub->subs, entry)
	if (s->state == SUB_LIVE && s->pos > good)
		sub_reset(s, "events after this id were lost by the database; reload");
}

/* The window of the ring that verify checks: its newest k events, after id *after. */
static int verify_window(const struct hub *hub, int64_t *after)
{
	int k = hub->n < HUB_VERIFY ? hub->n : HUB_VERIFY;

	*after =
	    k == hub->n ? hub->ring_floor : hub->ring[(hub->head + hub->n - k - 1) % hub->cap].id;
	return k;
}

/*
 * The table's events in the window returned: the ring must hold exactly them
 * (the same ids, none more, none less, the same frames).  What a database
 * keeps after a crash is a prefix of its commits, and events commit in id
 * order, so the first difference is where the loss begins.
 */
static void verify_done(enum status st, const struct event_row *rows, int n, int64_t min_id,
                        int64_t max_id, void *arg)
{
	struct hub *hub = arg;
	int64_t after, good;
	int k = verify_window(hub, &after), i = hub->n - k, j = 0;

	hub->fetching = false;
	if (st != ST_OK) {
		hub->dirty = true; /* check again on the next poke or tick */
		return;
	}
	good = after;
	for (; i < hub->n; i++, j++) {
		const struct hub_event *e = &hub->ring[(hub->head + i) % hub->cap];
		size_t len;
		char *f;
		bool same;

		if (j == n || rows[j].id != e->id)
			break;
		f = frame_new(rows[j].id, rows[j].type, rows[j].payload, &len);
		same = len == e->len && memcmp(f, e->frame, len) == 0;
		free(f);
		if (!same)
			break;
		good = e->id;
	}
	if (i < hub->n) {
		if (good == after && k < hub->n)
			log_warning("hub",
			            "events lost beyond the newest %d read; older ones unchecked",
			            k);
		hub_rewind(hub, good);
	}
	hub->verify = false;
	hub->dirty = false;
	hub_fetch(hub);
}

static void fetch_done(enum status st, const struct event_row *rows, int n, int64_t min_id,
                       int64_t max_id, void *arg)
{
	struct hub *hub = arg;
	struct sub *s, *tmp;
	bool was_ready = hub->ready;

	hub->fetching = false;
	if (st != ST_OK) {
		hub->dirty = true;  /* try again on the next poke or tick */
		hub->verify = true; /* the database may be back without its last events */
		return;
	}
	if (!hub->ready) {
		/* first contact: start from the newest event, the ring is complete from here */
		hub->last_id = hub->ring_floor = max_id;
		hub->ready = true;
		n = 0;
	}
	for (int i = 0; i < n; i++)
		hub_append(hub, &rows[i]);
	if (!evtimer_pending(hub->ev_fan, NULL))
		hub_fan_run(hub, HUB_SLICE);
	if (!was_ready) {
		TAILQ_FOREACH_SAFE(s, &hub->subs, entry, tmp)
		{
			if (s->state != SUB_WAITING)
				continue;
			if (s->live_only) {
				s->pos = hub->last_id;
				s->state = SUB_LIVE;
			} else {
				sub_catch_up(s);
			}
		}
	}
	if (n == HUB_FETCH_BATCH || hub->dirty || !was_ready) {
		hub->dirty = false;
		hub_fetch(hub);
	}
}

static void hub_fetch(struct hub *hub)
{
	if (hub->fetching) {
		hub->dirty = true;
		return;
	}
	if (hub->app->listen != NULL && listen_session(hub->app->listen) != hub->session) {
		/* LISTEN was made again: the database may have restarted since */
		hub->session = listen_session(hub->app->listen);
		hub->verify = hub->ready;
	}
	hub->fetching = true;
	if (hub->verify && hub->ready && hub->n > 0) {
		int64_t after;
		int k = verify_window(hub, &after);

		/* some room for events in gaps of the ring: any of them is a difference */
		store_events_read(hub->app->db, after, hub->last_id, k + HUB_FETCH_BATCH,
		                  verify_done, hub);
		return;
	}
	hub->verify = false;
	store_events_read(hub->app->db, hub->ready ? hub->last_id : INT64_MAX, -1,
	                  hub->ready ? HUB_FETCH_BATCH : 1, fetch_done, hub);
}

void hub_poke(void *arg)
{
	hub_fetch(arg);
}

static void sub_free(struct sub *s)
{
	if (s->ev_expire != NULL)
		event_free(s->ev_expire);
	free(s->wards_csv);
	free(s->ward_buf);
	free(s->ward_ptrs);
	free(s);
}

/* The connection closed (client left, error, or we freed it): the one release point. */
static void sub_closed(struct evhttp_connection *evcon, void *arg)
{
	struct sub *s = arg;
	struct hub *hub = s->hub;

	sub_uncount(s);
	if (hub->fan_next == s)
		hub->fan_next = TAILQ_NEXT(s, entry);
	TAILQ_REMOVE(&hub->subs, s, entry);
	hub->nsubs--;
	log_debug("hub", "subscriber left subscribers=%d", hub->nsubs);
	/*
	 * When the client went away, libevent 2.1 detaches an unfinished reply
	 * from its connection and leaves it to us (evhttp_connection_incoming_fail);
	 * a reply still attached is freed with the connection after this callback.
	 */
	if (evhttp_request_get_connection(s->req) == NULL)
		evhttp_request_free(s->req);
	if (s->querying)
		s->gone = true; /* the replay callback frees it */
	else
		sub_free(s);
}

/*
 * While all subscribers together hold over sse_max_total_buffer, drop the one
 * holding most, then the next: streams that keep up hold nothing and are
 * never touched.
 */
static void drop_slowest(struct hub *hub)
{
	int64_t excess = hub->queued - hub->app->cfg->sse_max_total_buffer;
	struct sub *s;

	TAILQ_FOREACH(s, &hub->subs, entry)
	if (s->dropping)
		excess -= (int64_t)sub_pending(s); /* going already */
	while (excess > 0) {
		struct sub *worst = NULL;

		TAILQ_FOREACH(s, &hub->subs, entry)
		if (!s->dropping && sub_pending(s) > 0 &&
		    (worst == NULL || sub_pending(s) > sub_pending(worst)))
			worst = s;
		if (worst == NULL)
			break;
		excess -= (int64_t)sub_pending(worst);
		sub_drop(worst, "sse_max_total_buffer");
	}
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hub *hub = arg;
	struct sub *s, *tmp;

	drop_slowest(hub);
	TAILQ_FOREACH_SAFE(s, &hub->subs, entry, tmp)
	{
		if (!s->dropping)
			continue;
		/* frees the connection; sub_closed runs from inside and releases s */
		evhttp_connection_free(s->evcon);
	}
}

/* Tell s to reload; the frame carries the newest id so a reconnect resumes from here. */
static void sub_reset(struct sub *s, const char *reason)
{
	char *f = xasprintf("id: %" PRId64
	                    "\nevent: reset\ndata: {\"reason\":\"%s\",\"last_id\":%" PRId64 "}\n\n",
	                    s->hub->last_id, reason, s->hub->last_id);

	sub_write(s, f, strlen(f));
	free(f);
	s->hub->resets++;
	s->pos = s->hub->last_id;
}

static void replay_done(enum status st, const struct event_row *rows, int n, int64_t min_id,
                        int64_t max_id, void *arg)
{
	struct sub *s = arg;

	s->querying = false;
	if (s->gone) {
		sub_free(s);
		return;
	}
	if (st != ST_OK) {
		/* the database is away: let the client reconnect later with its id */
		s->dropping = true;
		event_active(s->hub->ev_reap, EV_TIMEOUT, 0);
		return;
	}
	if (s->pos + 1 < min_id && s->pos < s->hub->ring_floor) {
		sub_reset(s, "events after this id are no longer kept; reload");
		sub_catch_up(s);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (rows[i].id <= s->pos)
			continue;
		s->pos = rows[i].id;
		if (sub_wants(s, rows[i].id, rows[i].type, rows[i].ward, rows[i].discipline,
		              rows[i].episode, rows[i].organisations)) {
			size_t len;
			char *f = frame_new(rows[i].id, rows[i].type, rows[i].payload, &len);

			sub_write(s, f, len);
			free(f);
			s->hub->fanned_out++;
		}
	}
	if (n < HUB_REPLAY_BATCH && s->pos < s->hub->last_id && s->pos < s->hub->ring_floor) {
		/* nothing more in the table below the ring: the rest are gaps */
		s->pos = s->hub->ring_floor;
	}
	sub_catch_up(s);
}

/* Bring s up to the hub's newest event, then make it live. */
static void sub_catch_up(struct sub *s)
{
	struct hub *hub = s->hub;

	if (s->dropping || s->gone)
		return;
	if (!hub->ready) {
		s->state = SUB_WAITING;
		return;
	}
	if (s->pos > hub->last_id) {
		sub_reset(s, "unknown event id; reload");
	}
	if (s->pos >= hub->ring_floor) {
		sub_flush(s);
		s->pos = hub->last_id;
		s->state = SUB_LIVE;
		return;
	}
	s->state = SUB_REPLAYING;
	s->querying = true;
	store_events_read(hub->app->db, s->pos, hub->last_id, HUB_REPLAY_BATCH, replay_done, s);
}

/* The auth generation now (0 before the LISTEN connection exists). */
static uint64_t hub_auth_gen(const struct hub *hub)
{
	return hub->app->listen != NULL ? listen_auth_generation(hub->app->listen) : 0;
}

/*
 * End s because its credentials did (closed at the end of the loop turn, as
 * a dropped subscriber is; reconnecting with the same credentials gets 401).
 */
static void sub_end(struct sub *s, const char *why)
{
	if (s->dropping || s->gone)
		return;
	s->dropping = true;
	s->hub->ended_auth++;
	log_info("hub", "stream ended: %s user=%s token=%s", why, s->principal.id, s->token_id);
	event_active(s->hub->ev_reap, EV_TIMEOUT, 0);
}

/* Give s's principal the wards in csv ("A,B", sorted as the database sorts them). */
static void sub_set_wards(struct sub *s, const char *csv)
{
	size_t n = 0, len = strlen(csv);

	free(s->wards_csv);
	free(s->ward_buf);
	free(s->ward_ptrs);
	s->wards_csv = xstrdup(csv);
	s->ward_buf = xstrdup(csv);
	s->ward_ptrs = xcalloc(len / 2 + 2, sizeof *s->ward_ptrs);
	for (char *p = s->ward_buf; len > 0 && p != NULL;) {
		char *comma = strchr(p, ',');

		if (comma != NULL)
			*comma = '\0';
		s->ward_ptrs[n++] = p;
		p = comma != NULL ? comma + 1 : NULL;
	}
	s->principal.wards = s->ward_ptrs;
	s->principal.nwards = n;
}

static void expire_cb(evutil_socket_t fd, short what, void *arg)
{
	sub_end(arg, "its token or session expired");
}

/* End s at monotonic ms expires_ms (-1: its token does not expire). */
static void sub_set_expiry(struct sub *s, int64_t expires_ms)
{
	struct timeval tv;
	int64_t left;

	if (expires_ms < 0) {
		if (s->ev_expire != NULL)
			evtimer_del(s->ev_expire);
		return;
	}
	if (s->ev_expire == NULL)
		s->ev_expire = evtimer_new(s->hub->app->base, expire_cb, s);
	left = expires_ms - mono_ms();
	if (left < 0)
		left = 0;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	evtimer_add(s->ev_expire, &tv);
}

/* The live token row with this id among n sorted by token id, or NULL. */
static const struct auth_check_row *row_find(const struct auth_check_row *const *sorted, int n,
                                             const char *token_id)
{
	int lo = 0, hi = n;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		int c = strcmp(sorted[mid]->token_id, token_id);

		if (c == 0)
			return sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int row_cmp(const void *a, const void *b)
{
	const struct auth_check_row *const *x = a, *const *y = b;

	return strcmp((*x)->token_id, (*y)->token_id);
}

/* Apply what the database says of s's token now (NULL: it is no longer live). */
static void sub_recheck(struct sub *s, const struct auth_check_row *row)
{
	struct hub *hub = s->hub;
	enum role role;

	if (row == NULL) {
		sub_end(s, "its token or session is no longer valid");
		return;
	}
	if (strcmp(row->user_id, s->principal.id) != 0 ||
	    role_parse_user(row->role, &role, NULL) != ST_OK || role != s->principal.role) {
		sub_end(s, "its user's role changed");
		return;
	}
	if (strcmp(row->organisation, s->principal.organisation) != 0) {
		/* a partner's events follow its organisation: never another's by mistake */
		sub_end(s, "its user's organisation changed");
		return;
	}
	if (strcmp(row->wards, s->wards_csv) != 0) {
		sub_set_wards(s, row->wards);
		log_info("hub", "stream wards changed user=%s token=%s wards=%zu", s->principal.id,
		         s->token_id, s->principal.nwards);
	}
	sub_set_expiry(s, row->expires_in < 0 ? -1 : hub->check_sent_ms + row->expires_in * 1000);
	s->auth_gen = hub->check_gen;
}

static void hub_check(struct hub *hub);

static void check_done(enum status st, const struct auth_check_row *rows, int n, void *arg)
{
	struct hub *hub = arg;
	const struct auth_check_row **sorted;
	uint64_t gen = hub_auth_gen(hub);
	bool stale = false;
	struct sub *s;

	hub->checking = false;
	if (st != ST_OK)
		return; /* the database is away: hub_tick tries again */
	sorted = xcalloc((size_t)n + 1, sizeof *sorted);
	for (int i = 0; i < n; i++)
		sorted[i] = &rows[i];
	qsort(sorted, (size_t)n, sizeof *sorted, row_cmp);
	TAILQ_FOREACH(s, &hub->subs, entry)
	{
		if (s->check_seq == hub->check_seq && !s->dropping)
			sub_recheck(s, row_find(sorted, n, s->token_id));
		s->check_seq = 0;
		if (!s->dropping && s->auth_gen != gen)
			stale = true; /* joined meanwhile, or changed again: another round */
	}
	free(sorted);
	if (stale)
		event_active(hub->ev_check, EV_TIMEOUT, 0);
}

/*
 * Re-check, in one query, the token of every subscriber not found live under
 * the current auth generation (one check at a time; check_done starts the
 * next when more are stale by then).
 */
static void hub_check(struct hub *hub)
{
	uint64_t gen = hub_auth_gen(hub);
	cJSON *ids;
	char *json;
	struct sub *s;
	int n = 0;

	if (hub->checking || hub->app->shutting_down)
		return;
	ids = cJSON_CreateArray();
	hub->check_seq++;
	TAILQ_FOREACH(s, &hub->subs, entry)
	{
		if (s->dropping || s->auth_gen == gen)
			continue;
		s->check_seq = hub->check_seq;
		cJSON_AddItemToArray(ids, cJSON_CreateString(s->token_id));
		n++;
	}
	if (n > 0) {
		json = cJSON_PrintUnformatted(ids);
		hub->checking = true;
		hub->check_gen = gen;
		hub->check_sent_ms = mono_ms();
		store_auth_check(hub->app->db, json, check_done, hub);
		cJSON_free(json);
	}
	cJSON_Delete(ids);
}

static void check_cb(evutil_socket_t fd, short what, void *arg)
{
	hub_check(arg);
}

void hub_auth_changed(struct hub *hub)
{
	if (hub != NULL)
		event_active(hub->ev_check, EV_TIMEOUT, 0);
}

void hub_subscribe(struct hub *hub, struct http_req *r, const struct event_filter *f, int64_t since)
{
	struct sub *s;
	struct bufferevent *bev;
	struct timeval wtv;
	char hello[64];
	int64_t expires_ms;
	char *csv;
	size_t n = 0;

	if (hub->nsubs >= hub->app->cfg->sse_max_subscribers || hub->app->shutting_down) {
		struct err err;

		err_set(&err, ST_UNAVAILABLE, NULL, "too many event streams; try again later");
		http_reply_error(r, ST_UNAVAILABLE, &err);
		return;
	}
	s = xcalloc(1, sizeof *s);
	s->hub = hub;
	s->filter = *f;
	s->principal = r->principal;
	/* copy the ward list: r's is freed when the stream starts */
	for (size_t i = 0; i < r->principal.nwards; i++)
		n += strlen(r->principal.wards[i]) + 1;
	csv = xcalloc(1, n + 1);
	for (size_t i = 0; i < r->principal.nwards; i++) {
		if (i > 0)
			strcat(csv, ",");
		strcat(csv, r->principal.wards[i]);
	}
	sub_set_wards(s, csv);
	free(csv);
	snprintf(s->token_id, sizeof s->token_id, "%s", r->token_id);
	s->auth_gen = r->auth_gen;
	s->pos = since >= 0 ? since : -1;
	expires_ms = r->auth_expires_ms; /* http_stream_start frees r */
	s->req = http_stream_start(r, "text/event-stream; charset=utf-8");
	s->evcon = evhttp_request_get_connection(s->req);
	s->bev = evhttp_connection_get_bufferevent(s->evcon);
	s->out = bufferevent_get_output(s->bev);
	sub_count(s);
	s->last_sent_ms = mono_ms();
	s->fd = bufferevent_getfd(s->bev);
	/* evhttp_send_reply_start chose these; sub_send frames chunks the same way */
	s->chunked = evhttp_find_header(evhttp_request_get_output_headers(s->req),
	                                "Transfer-Encoding") != NULL;
	s->no_body = evhttp_request_get_command(s->req) == EVHTTP_REQ_HEAD;
	evhttp_connection_set_closecb(s->evcon, sub_closed, s);
	/*
	 * libevent 2.1 keeps the HTTP timeout armed as a read timeout while a
	 * reply streams; a subscriber sends nothing, so clear it and keep only
	 * a write timeout (a client that stops reading is also caught by
	 * sse_max_buffer).
	 */
	bev = s->bev;
	wtv.tv_sec = (time_t)(hub->app->cfg->http_timeout_ms / 1000);
	wtv.tv_usec = (suseconds_t)(hub->app->cfg->http_timeout_ms % 1000) * 1000;
	bufferevent_set_timeouts(bev, NULL, &wtv);
	TAILQ_INSERT_TAIL(&hub->subs, s, entry);
	hub->nsubs++;
	sub_set_expiry(s, expires_ms);
	if (s->auth_gen != hub_auth_gen(hub))
		hub_auth_changed(hub); /* tokens changed while it was being opened */
	snprintf(hello, sizeof hello, "retry: %" PRId64 "\n: connected\n\n",
	         hub->app->cfg->sse_retry_ms);
	sub_write(s, hello, strlen(hello));
	if (since < 0) {
		s->live_only = true;
		s->pos = hub->last_id;
		s->state = hub->ready ? SUB_LIVE : SUB_WAITING;
		return;
	}
	if (since > hub->lost_after && since <= hub->lost_upto)
		sub_reset(s, "events after this id were lost by the database; reload");
	sub_catch_up(s);
}

/*
 * A comment line to every stream that has been sent nothing for a heartbeat
 * interval (checked every tick): it keeps proxies and the connection's write
 * path alive and lets clients notice a dead connection.  Streams that are
 * getting events need none, and the idle ones are not all written in one
 * burst that would delay the next event's fan-out.
 */
static void heartbeat(struct hub *hub)
{
	static const char hb[] = ": heartbeat\n\n";
	int64_t due = mono_ms() - hub->app->cfg->sse_heartbeat_ms;
	struct sub *s;

	TAILQ_FOREACH(s, &hub->subs, entry)
	if (s->last_sent_ms <= due)
		sub_write(s, hb, sizeof hb - 1);
}

static void prune_batch(struct hub *hub, bool first);

/*
 * A pruning batch returned: note what webhooks hold back (the first batch
 * counts it), run the next batch while old events remain, log the round.
 */
static void prune_done(enum status st, const struct event_prune *p, void *arg)
{
	struct hub *hub = arg;

	hub->pruning = false;
	if (st != ST_OK) {
		/* the database is away or the statement failed (logged by db.c) */
		if (!hub->app->shutting_down)
			log_info("hub", "event pruning stopped retry_s=%d", HUB_PRUNE_RETRY);
		hub->prune_due = mono_s() + HUB_PRUNE_RETRY;
		hub->prune_round = 0;
		return;
	}
	hub->pruned += (uint64_t)p->deleted;
	hub->prune_round += p->deleted;
	if (p->counted) {
		hub->held = p->held;
		hub->held_age_s = p->held_age_s;
		/* webhook ids only: never anything from the events themselves */
		if (p->held > 0)
			log_warning("hub",
			            "events past event_retention kept for webhooks that have not"
			            " delivered them events=%" PRId64 " oldest_age_s=%" PRId64
			            " webhooks=%" PRId64 " webhook=%s cursor=%" PRId64,
			            p->held, p->held_age_s, p->held_webhooks, p->webhook,
			            p->cursor);
	}
	if (p->more && p->deleted > 0 && !hub->app->shutting_down) {
		prune_batch(hub, false);
		return;
	}
	if (hub->prune_round > 0)
		log_info("hub", "events pruned deleted=%" PRId64, hub->prune_round);
	hub->prune_round = 0;
}

static void prune_batch(struct hub *hub, bool first)
{
	/* admission keys hold visit numbers: they go by the same rounds (48 h) */
	if (first)
		store_admission_keys_prune(hub->app->db);
	hub->pruning = true;
	store_events_prune(hub->app->db, hub->app->cfg->event_retention_ms / 1000, HUB_PRUNE_BATCH,
	                   first, prune_done, hub);
}

void hub_tick(struct hub *hub)
{
	int64_t now = mono_s();

	heartbeat(hub);
	hub_check(hub); /* after a LISTEN reconnect, or a check that failed */
	if (!hub->ready || hub->dirty)
		hub_fetch(hub);
	if (now >= hub->prune_due && !hub->pruning) {
		hub->prune_due = now + HUB_PRUNE_EVERY;
		prune_batch(hub, true);
	}
}

static void hub_report(struct evbuffer *out, void *arg)
{
	struct hub *hub = arg;

	evbuffer_add_printf(
	    out,
	    "# HELP carebridge_stream_subscribers Event stream subscribers connected.\n"
	    "# TYPE carebridge_stream_subscribers gauge\n"
	    "carebridge_stream_subscribers %d\n"
	    "# HELP carebridge_stream_events_fanned_out_total Event frames queued to "
	    "subscribers.\n"
	    "# TYPE carebridge_stream_events_fanned_out_total counter\n"
	    "carebridge_stream_events_fanned_out_total %" PRIu64 "\n"
	    "# HELP carebridge_stream_subscribers_dropped_total Subscribers dropped "
	    "for falling behind.\n"
	    "# TYPE carebridge_stream_subscribers_dropped_total counter\n"
	    "carebridge_stream_subscribers_dropped_total %" PRIu64 "\n"
	    "# HELP carebridge_stream_subscribers_ended_auth_total Streams ended because "
	    "their token or session ended, or their user's role changed.\n"
	    "# TYPE carebridge_stream_subscribers_ended_auth_total counter\n"
	    "carebridge_stream_subscribers_ended_auth_total %" PRIu64 "\n"
	    "# HELP carebridge_stream_resets_total Reset events sent.\n"
	    "# TYPE carebridge_stream_resets_total counter\n"
	    "carebridge_stream_resets_total %" PRIu64 "\n"
	    "# HELP carebridge_stream_queued_bytes Bytes waiting to be sent to subscribers.\n"
	    "# TYPE carebridge_stream_queued_bytes gauge\n"
	    "carebridge_stream_queued_bytes %" PRId64 "\n"
	    "# HELP carebridge_stream_last_event_id Newest outbox id seen.\n"
	    "# TYPE carebridge_stream_last_event_id gauge\n"
	    "carebridge_stream_last_event_id %" PRId64 "\n"
	    "# HELP carebridge_events_pruned_total Events deleted by retention pruning.\n"
	    "# TYPE carebridge_events_pruned_total counter\n"
	    "carebridge_events_pruned_total %" PRIu64 "\n"
	    "# HELP carebridge_events_held_for_webhooks Events past event_retention kept "
	    "because an active webhook has not delivered them (at the last pruning).\n"
	    "# TYPE carebridge_events_held_for_webhooks gauge\n"
	    "carebridge_events_held_for_webhooks %" PRId64 "\n"
	    "# HELP carebridge_events_held_for_webhooks_oldest_seconds Age of the oldest "
	    "of them (at the last pruning).\n"
	    "# TYPE carebridge_events_held_for_webhooks_oldest_seconds gauge\n"
	    "carebridge_events_held_for_webhooks_oldest_seconds %" PRId64 "\n",
	    hub->nsubs, hub->fanned_out, hub->dropped, hub->ended_auth, hub->resets, hub->queued,
	    hub->last_id, hub->pruned, hub->held, hub->held_age_s);
}

struct hub *hub_new(struct app *app)
{
	struct hub *hub = xcalloc(1, sizeof *hub);

	hub->app = app;
	hub->cap = app->cfg->sse_ring_size;
	hub->ring = xcalloc((size_t)hub->cap, sizeof *hub->ring);
	TAILQ_INIT(&hub->subs);
	hub->ev_reap = event_new(app->base, -1, 0, reap_cb, hub);
	hub->ev_fan = evtimer_new(app->base, fan_cb, hub);
	hub->ev_check = event_new(app->base, -1, 0, check_cb, hub);
	hub->prune_due = mono_s() + HUB_PRUNE_FIRST;
	metrics_add_reporter(app->metrics, hub_report, hub);
	hub_fetch(hub);
	return hub;
}

void hub_close_all(struct hub *hub)
{
	struct sub *s;

	hub->fan_next = NULL;
	hub->fan_pending = false;
	event_del(hub->ev_fan);
	while ((s = TAILQ_FIRST(&hub->subs)) != NULL) {
		TAILQ_REMOVE(&hub->subs, s, entry);
		hub->nsubs--;
		sub_uncount(s);
		evhttp_connection_set_closecb(s->evcon, NULL, NULL);
		evhttp_send_reply_end(s->req);
		if (s->querying)
			s->gone = true;
		else
			sub_free(s);
	}
}

void hub_free(struct hub *hub)
{
	if (hub == NULL)
		return;
	hub_close_all(hub);
	for (int i = 0; i < hub->n; i++) {
		free(hub->ring[(hub->head + i) % hub->cap].frame);
		free(hub->ring[(hub->head + i) % hub->cap].orgs);
	}
	free(hub->ring);
	event_free(hub->ev_reap);
	event_free(hub->ev_fan);
	event_free(hub->ev_check);
	free(hub);
}

int hub_subscribers(const struct hub *hub)
{
	return hub->nsubs;
}

int64_t hub_last_id(const struct hub *hub)
{
	return hub->last_id;
}

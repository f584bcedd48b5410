/*
 * hub.c - SSE subscribers, the ring and replay (see hub.h).
 *
 * Owns: the ring (a circular array of preformatted frames), the subscriber
 * list, the fetch state machine that reads the outbox, and the heartbeat.
 * Must not: block (a slow client is dropped, not waited for) or free a
 * subscriber anywhere but in its connection's close callback (sub_closed) or
 * after its replay query returned, whichever comes last.
 *
 * Cursor rule: every subscriber has pos, the highest event id it has been
 * offered.  A live subscriber gets each new ring event as it arrives.  One
 * that is behind catches up from the ring when the ring still holds every
 * event after pos (pos >= ring_floor), otherwise from the table, page by
 * page, then from the ring, then goes live.
 */
#include "hub.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include "app.h"
#include "http.h"
#include "list.h"
#include "log.h"
#include "metrics.h"
#include "store_event.h"
#include "xmalloc.h"

#define HUB_FETCH_BATCH 1000
#define HUB_REPLAY_BATCH 1000

struct hub_event {
	int64_t id;          /* outbox id */
	char type[48];       /* event type */
	char ward[33];       /* "" if none */
	char discipline[33]; /* "" if none */
	char episode[37];    /* "" if none */
	char *frame;         /* "id: ..\nevent: ..\ndata: ..\n\n", owned */
	size_t len;          /* frame length */
};

enum sub_state { SUB_WAITING, SUB_REPLAYING, SUB_LIVE };

struct sub {
	TAILQ_ENTRY(sub) entry;          /* in hub->subs */
	struct hub *hub;                 /* owner */
	struct evhttp_request *req;      /* the streaming reply; owned by libevent */
	struct evhttp_connection *evcon; /* its connection; owned by libevent */
	struct event_filter filter;      /* what it asked for */
	struct principal principal;      /* who it is (wards point into ward_buf) */
	char *ward_buf;                  /* owned */
	const char **ward_ptrs;          /* owned */
	int64_t pos;                     /* highest event id offered */
	enum sub_state state;            /* see the file comment */
	bool querying;                   /* a replay query holds a pointer to us */
	bool gone;                       /* the connection closed while querying */
	bool dropping;                   /* over its buffer limit: being closed */
	bool live_only;                  /* no Last-Event-ID: start from the newest event */
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
	struct sub_list subs;   /* every subscriber */
	int nsubs;              /* how many */
	int64_t heartbeat_due;  /* monotonic seconds of the next heartbeat */
	int64_t prune_due;      /* next retention pruning */
	struct event *ev_reap;  /* frees dropped subscribers at the end of a turn */
	uint64_t fanned_out;    /* frames queued to subscribers */
	uint64_t dropped;       /* subscribers dropped for falling behind */
	uint64_t resets;        /* reset events sent */
};

static void sub_catch_up(struct sub *s);

static int64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static size_t sub_pending(const struct sub *s)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(s->evcon);

	return bev != NULL ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

/* Queue raw bytes on s; drop s when it is too far behind. */
static void sub_write(struct sub *s, const char *data, size_t len)
{
	struct evbuffer *buf;

	if (s->dropping || s->gone)
		return;
	if ((int64_t)sub_pending(s) > s->hub->app->cfg->sse_max_buffer) {
		s->dropping = true;
		s->hub->dropped++;
		log_info("hub", "subscriber dropped: too far behind pending=%zu", sub_pending(s));
		event_active(s->hub->ev_reap, EV_TIMEOUT, 0);
		return;
	}
	buf = evbuffer_new();
	evbuffer_add(buf, data, len);
	evhttp_send_reply_chunk(s->req, buf);
	evbuffer_free(buf);
}

static bool sub_wants(const struct sub *s, int64_t id, const char *type, const char *ward,
                      const char *discipline, const char *episode)
{
	struct event_facts e = {type, ward, discipline, episode};

	(void)id;
	return event_filter_matches(&s->filter, &s->principal, &e);
}

static void sub_offer(struct sub *s, const struct hub_event *e)
{
	if (e->id <= s->pos)
		return;
	s->pos = e->id;
	if (sub_wants(s, e->id, e->type, e->ward, e->discipline, e->episode)) {
		sub_write(s, e->frame, e->len);
		s->hub->fanned_out++;
	}
}

static char *frame_new(int64_t id, const char *type, const char *payload, size_t *len)
{
	char *f = xasprintf("id: %" PRId64 "\nevent: %s\ndata: %s\n\n", id, type, payload);

	*len = strlen(f);
	return f;
}

/* Append an event to the ring (evicting the oldest) and fan it out to live subscribers. */
static void hub_append(struct hub *hub, const struct event_row *row)
{
	struct hub_event *e;
	struct sub *s;

	if (row->id <= hub->last_id)
		return;
	if (hub->n == hub->cap) {
		struct hub_event *old = &hub->ring[hub->head];

		hub->ring_floor = old->id;
		free(old->frame);
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
	e->frame = frame_new(row->id, row->type, row->payload, &e->len);
	hub->last_id = row->id;
	TAILQ_FOREACH(s, &hub->subs, entry)
	if (s->state == SUB_LIVE)
		sub_offer(s, e);
}

static void hub_fetch(struct hub *hub);

static void fetch_done(enum status st, const struct event_row *rows, int n, int64_t min_id,
                       int64_t max_id, void *arg)
{
	struct hub *hub = arg;
	struct sub *s, *tmp;
	bool was_ready = hub->ready;

	hub->fetching = false;
	if (st != ST_OK) {
		hub->dirty = true; /* try again on the next poke or tick */
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
	hub->fetching = true;
	store_events_read(hub->app->db, hub->ready ? hub->last_id : INT64_MAX, -1,
	                  hub->ready ? HUB_FETCH_BATCH : 1, fetch_done, hub);
}

void hub_poke(void *arg)
{
	hub_fetch(arg);
}

static void sub_free(struct sub *s)
{
	free(s->ward_buf);
	free(s->ward_ptrs);
	free(s);
}

/* The connection closed (client left, error, or we freed it): the one release point. */
static void sub_closed(struct evhttp_connection *evcon, void *arg)
{
	struct sub *s = arg;
	struct hub *hub = s->hub;

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

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hub *hub = arg;
	struct sub *s, *tmp;

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
		              rows[i].episode)) {
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
		for (int i = 0; i < hub->n; i++)
			sub_offer(s, &hub->ring[(hub->head + i) % hub->cap]);
		s->pos = hub->last_id;
		s->state = SUB_LIVE;
		return;
	}
	s->state = SUB_REPLAYING;
	s->querying = true;
	store_events_read(hub->app->db, s->pos, hub->last_id, HUB_REPLAY_BATCH, replay_done, s);
}

void hub_subscribe(struct hub *hub, struct http_req *r, const struct event_filter *f, int64_t since)
{
	struct sub *s;
	struct bufferevent *bev;
	struct timeval wtv;
	char hello[64];
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
	s->ward_buf = xmalloc(n + 1);
	s->ward_ptrs = xcalloc(r->principal.nwards + 1, sizeof *s->ward_ptrs);
	n = 0;
	for (size_t i = 0; i < r->principal.nwards; i++) {
		size_t len = strlen(r->principal.wards[i]);

		memcpy(s->ward_buf + n, r->principal.wards[i], len + 1);
		s->ward_ptrs[i] = s->ward_buf + n;
		n += len + 1;
	}
	s->principal.wards = s->ward_ptrs;
	s->pos = since >= 0 ? since : -1;
	s->req = http_stream_start(r, "text/event-stream; charset=utf-8");
	s->evcon = evhttp_request_get_connection(s->req);
	evhttp_connection_set_closecb(s->evcon, sub_closed, s);
	/*
	 * libevent 2.1 keeps the HTTP timeout armed as a read timeout while a
	 * reply streams; a subscriber sends nothing, so clear it and keep only
	 * a write timeout (a client that stops reading is also caught by
	 * sse_max_buffer).
	 */
	bev = evhttp_connection_get_bufferevent(s->evcon);
	wtv.tv_sec = (time_t)(hub->app->cfg->http_timeout_ms / 1000);
	wtv.tv_usec = (suseconds_t)(hub->app->cfg->http_timeout_ms % 1000) * 1000;
	bufferevent_set_timeouts(bev, NULL, &wtv);
	TAILQ_INSERT_TAIL(&hub->subs, s, entry);
	hub->nsubs++;
	snprintf(hello, sizeof hello, "retry: %" PRId64 "\n: connected\n\n",
	         hub->app->cfg->sse_retry_ms);
	sub_write(s, hello, strlen(hello));
	if (since < 0) {
		s->live_only = true;
		s->pos = hub->last_id;
		s->state = hub->ready ? SUB_LIVE : SUB_WAITING;
		return;
	}
	sub_catch_up(s);
}

static void heartbeat(struct hub *hub)
{
	static const char hb[] = ": heartbeat\n\n";
	struct sub *s;

	TAILQ_FOREACH(s, &hub->subs, entry)
	sub_write(s, hb, sizeof hb - 1);
}

void hub_tick(struct hub *hub)
{
	int64_t now = mono_s();

	if (now >= hub->heartbeat_due) {
		heartbeat(hub);
		hub->heartbeat_due = now + hub->app->cfg->sse_heartbeat_ms / 1000;
	}
	if (!hub->ready || hub->dirty)
		hub_fetch(hub);
	if (now >= hub->prune_due) {
		store_events_prune(hub->app->db, hub->app->cfg->event_retention_ms / 1000);
		hub->prune_due = now + 3600;
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
	    "# HELP carebridge_stream_resets_total Reset events sent.\n"
	    "# TYPE carebridge_stream_resets_total counter\n"
	    "carebridge_stream_resets_total %" PRIu64 "\n"
	    "# HELP carebridge_stream_last_event_id Newest outbox id seen.\n"
	    "# TYPE carebridge_stream_last_event_id gauge\n"
	    "carebridge_stream_last_event_id %" PRId64 "\n",
	    hub->nsubs, hub->fanned_out, hub->dropped, hub->resets, hub->last_id);
}

struct hub *hub_new(struct app *app)
{
	struct hub *hub = xcalloc(1, sizeof *hub);

	hub->app = app;
	hub->cap = app->cfg->sse_ring_size;
	hub->ring = xcalloc((size_t)hub->cap, sizeof *hub->ring);
	TAILQ_INIT(&hub->subs);
	hub->ev_reap = event_new(app->base, -1, 0, reap_cb, hub);
	hub->heartbeat_due = mono_s() + app->cfg->sse_heartbeat_ms / 1000;
	hub->prune_due = mono_s() + 60;
	metrics_add_reporter(app->metrics, hub_report, hub);
	hub_fetch(hub);
	return hub;
}

void hub_close_all(struct hub *hub)
{
	struct sub *s;

	while ((s = TAILQ_FIRST(&hub->subs)) != NULL) {
		TAILQ_REMOVE(&hub->subs, s, entry);
		hub->nsubs--;
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
	for (int i = 0; i < hub->n; i++)
		free(hub->ring[(hub->head + i) % hub->cap].frame);
	free(hub->ring);
	event_free(hub->ev_reap);
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

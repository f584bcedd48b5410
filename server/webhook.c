/*
 * webhook.c - outbound webhook delivery (see webhook.h).
 *
 * Owns: one struct hook per webhook this process holds the lease for, each
 * with its own state machine, its queue of matching events, its outbound HTTP
 * connection and its back-off timer; the async DNS base those connections
 * resolve with; the process's lease owner id; the delivery counters.
 * Must not: block (DNS is asynchronous, every query goes through the pool),
 * deliver a webhook without holding its lease, move a cursor past an event
 * that was not acknowledged, or free a hook while a database callback still
 * holds a pointer to it (such a hook is marked gone and freed by that
 * callback).
 *
 * Per hook, one thing at a time (enum hook_state):
 *
 *   IDLE --read--> READING --rows--> IDLE --post--> POSTING --2xx--> SAVING --> IDLE
 *                                                     |
 *                                                     +--error--> SAVING (failure) --> WAITING
 *                                                                                       |
 *                                                    IDLE <-----back-off timer----------+
 *
 * Cursor rule: cursor is the committed last_delivered_id.  Events after it are
 * read in batches; those the filter drops are skipped, the first match is
 * POSTed, and only its 2xx moves the cursor (to its id, which also covers the
 * skipped ones before it).  A failed POST is retried, with back-off doubling
 * from 1 s to webhook_max_backoff, for ever: never skipped.  Nor are events
 * pruned under it: retention pruning (hub.c, store_events_prune) keeps every
 * event after the cursor of an active webhook, however old, so a receiver
 * that comes back after longer than event_retention still gets all of them;
 * pausing (active = false) or removing the webhook gives that up.  When the
 * batch holds no more matches the cursor moves past its last event.  Event
 * ids are handed out in commit order (store.h), so nothing can appear behind
 * the cursor.  Delivery is at least once: a reply lost after the receiver acted
 * (a timeout, a crash before the cursor is saved) repeats the event, and
 * receivers deduplicate with X-Carebridge-Event-Id.
 *
 * Leases: every tick one statement claims the free or expired webhooks and
 * renews this process's; its answer is the set of hooks to run.  A hook that
 * is no longer in it (removed, paused, taken over) is released.  A process
 * stops starting deliveries when its lease may have run out (the database
 * did not answer in time).
 */
#include "webhook.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "app.h"
#include "clock.h"
#include "event_filter.h"
#include "hub.h"
#include "list.h"
#include "httpc.h"
#include "log.h"
#include "metrics.h"
#include "store_event.h"
#include "store_webhook.h"
#include "xmalloc.h"

#define WEBHOOK_BATCH 100           /* events read per query */
#define WEBHOOK_BACKOFF_MIN_MS 1000 /* first retry delay */
#define WEBHOOK_POLL_MS 30000       /* look for events at least this often (lost NOTIFY) */
#define WEBHOOK_ERROR_MAX 96        /* bytes of a failure description */
#define WEBHOOK_REPLY_MAX (1 << 20) /* largest reply body read from a receiver */
#define WEBHOOK_HEADERS_MAX 65536   /* largest reply header block */

enum hook_state {
	HOOK_IDLE,    /* nothing in flight: hook_run may start the next step */
	HOOK_READING, /* an events query is out */
	HOOK_POSTING, /* a POST is out on evcon */
	HOOK_SAVING,  /* a cursor or failure update is out */
	HOOK_WAITING, /* ev_retry is armed (back-off) */
};

/* One event read from the outbox that the hook's filter matches. */
struct hook_event {
	int64_t id;    /* outbox id */
	char *type;    /* "episode.updated"; owned */
	char *payload; /* JSON text; owned */
};

struct hook {
	TAILQ_ENTRY(hook) entry;            /* in w->hooks (not once gone) */
	struct webhooks *w;                 /* owner */
	char id[37];                        /* the webhook's UUID */
	char *secret;                       /* HMAC key; owned, wiped on free */
	char *host;                         /* to connect to (no IPv6 brackets); owned */
	char *host_header;                  /* Host: value; owned */
	int port;                           /* TCP port */
	char *path;                         /* path and query to POST to; owned */
	struct event_filter filter;         /* wards, disciplines, types */
	struct principal principal;         /* whose reading it delivers: see hook_set_principal */
	enum hook_state state;              /* see the file comment */
	int64_t cursor;                     /* committed last_delivered_id */
	int64_t lease_deadline;             /* monotonic ms: start nothing after this */
	struct hook_event *queue;           /* matching events after cursor; owned */
	int nqueue;                         /* entries in queue */
	int pos;                            /* next entry to deliver */
	int64_t read_upto;                  /* highest id of the last batch read */
	bool more;                          /* the last batch was full */
	bool dirty;                         /* new events may exist (poked) */
	int64_t poll_due;                   /* monotonic ms of the next unprompted read */
	int64_t hub_seen;                   /* hub_last_id when the last read started */
	int64_t save_id;                    /* cursor to save, 0 = none (retried if it failed) */
	bool save_delivered;                /* that save follows a 2xx (clears failures) */
	bool seen;                          /* in the latest lease answer */
	bool gone;                          /* released while querying: the callback frees */
	bool broken;                        /* its URL or filter is unusable: never runs */
	struct evhttp_connection *evcon;    /* to the receiver, NULL until needed; owned */
	bool tls;                           /* https://: TLS, certificate and name checked */
	bool closed;                        /* evcon's connection closed (TLS: make a new one) */
	struct bufferevent *bev;            /* TLS: evcon's, so its errors can be read */
	struct event *ev_retry;             /* back-off timer; owned */
	int64_t backoff_ms;                 /* current retry delay, 0 after a success */
	int failures;                       /* consecutive failed attempts (for logs) */
	int64_t posting_id;                 /* event id of the POST in flight */
	enum evhttp_request_error http_err; /* why the POST failed, if http_err_set */
	bool http_err_set;                  /* libevent reported an error kind */
	char error[WEBHOOK_ERROR_MAX];      /* last failure, for the database */
};

TAILQ_HEAD(hook_list, hook);

struct webhooks {
	struct app *app;            /* the process */
	char owner[128];            /* lease owner id: "host/pid/random" */
	struct evdns_base *dns;     /* asynchronous resolver for receiver names; owned */
	SSL_CTX *tls;               /* for https receivers: peers verified; owned */
	struct hook_list hooks;     /* webhooks held */
	int nhooks;                 /* how many */
	bool leasing;               /* a lease statement is out */
	int64_t lease_sent_ms;      /* monotonic ms it was sent */
	uint64_t delivered;         /* 2xx replies */
	uint64_t failed;            /* failed attempts (error, timeout, non-2xx) */
};

static void hook_run(struct hook *h);
static void hook_fail(struct hook *h);
static bool tls_error(struct hook *h, char *out, size_t size);

static void queue_clear(struct hook *h)
{
	for (int i = 0; i < h->nqueue; i++) {
		free(h->queue[i].type);
		free(h->queue[i].payload);
	}
	free(h->queue);
	h->queue = NULL;
	h->nqueue = h->pos = 0;
}

/* Free h and everything it owns; a POST in flight is dropped without its callback. */
static void hook_free(struct hook *h)
{
	if (h->evcon != NULL)
		evhttp_connection_free(h->evcon);
	event_free(h->ev_retry);
	queue_clear(h);
	sodium_memzero(h->secret, strlen(h->secret));
	free(h->secret);
	free(h->host);
	free(h->host_header);
	free(h->path);
	free(h);
}

/* Stop holding h: free it now, or when its database callback returns. */
static void hook_release(struct hook *h)
{
	struct webhooks *w = h->w;

	TAILQ_REMOVE(&w->hooks, h, entry);
	w->nhooks--;
	log_info("webhook", "webhook released webhook=%s cursor=%" PRId64, h->id, h->cursor);
	if (h->state == HOOK_READING || h->state == HOOK_SAVING)
		h->gone = true;
	else
		hook_free(h);
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook *h = arg;

	h->state = HOOK_IDLE;
	hook_run(h);
}

/* Split the registered URL (checked by api_webhook.c) into host, port and path. */
static bool hook_set_url(struct hook *h, const char *url)
{
	struct evhttp_uri *u = evhttp_uri_parse_with_flags(url, 0);
	const char *host, *path, *query;
	int def_port;
	size_t n;

	if (u == NULL || evhttp_uri_get_host(u) == NULL) {
		if (u != NULL)
			evhttp_uri_free(u);
		return false;
	}
	host = evhttp_uri_get_host(u);
	h->tls = evhttp_uri_get_scheme(u) != NULL && strcmp(evhttp_uri_get_scheme(u), "https") == 0;
	def_port = h->tls ? 443 : 80;
	h->port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : def_port;
	n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
		h->host = xstrndup(host + 1, n - 2);
	else
		h->host = xstrdup(host);
	h->host_header = h->port == def_port ? xstrdup(host) : xasprintf("%s:%d", host, h->port);
	path = evhttp_uri_get_path(u);
	query = evhttp_uri_get_query(u);
	if (path == NULL || path[0] == '\0')
		path = "/";
	h->path = query != NULL ? xasprintf("%s?%s", path, query) : xstrdup(path);
	evhttp_uri_free(u);
	return true;
}

/* Add the comma-separated values of list to filter kind; false if one is refused. */
static bool hook_add_filter(struct hook *h, const char *kind, const char *list)
{
	char *copy = xstrdup(list), *save = NULL, *tok;
	bool ok = true;

	for (tok = strtok_r(copy, ",", &save); tok != NULL && ok; tok = strtok_r(NULL, ",", &save))
		ok = event_filter_add(&h->filter, kind, tok, NULL) == ST_OK;
	free(copy);
	return ok;
}

/*
 * A new hook for a webhook just leased.  One whose row is unusable (changed
 * behind the API's back) is logged once and kept, broken, so that it is not
 * logged again every second; its backlog shows in GET /api/v1/webhooks.
 */
/*
 * Whose reading h delivers.  A trust webhook (no organisation) is the
 * system's: every event its filters match.  A partner organisation's webhook
 * reads as one of that organisation's users would: only the events of its
 * referrals (lib/event_filter.c); a disabled organisation's, nothing (no
 * organisation set: the partner rules fail closed).  Set at every lease, so
 * a disable reaches a held webhook within one lease renewal.
 */
static void hook_set_principal(struct hook *h, const struct webhook_row *row)
{
	struct principal *p = &h->principal;

	memset(p, 0, sizeof *p);
	if (row->organisation_id == NULL || row->organisation_id[0] == '\0') {
		p->role = ROLE_SYSTEM;
		snprintf(p->name, sizeof p->name, "system");
		return;
	}
	/* the three partner roles read events alike; provider_staff is the narrowest */
	p->role = strcmp(row->organisation_kind, "provider") == 0 ? ROLE_PROVIDER_STAFF
	                                                          : ROLE_HUB_COORDINATOR;
	snprintf(p->name, sizeof p->name, "webhook");
	if (strcmp(row->organisation_kind, "disabled") != 0)
		snprintf(p->organisation, sizeof p->organisation, "%s", row->organisation_id);
}

static struct hook *hook_new(struct webhooks *w, const struct webhook_row *row)
{
	struct hook *h = xcalloc(1, sizeof *h);

	h->w = w;
	snprintf(h->id, sizeof h->id, "%s", row->id);
	h->secret = xstrdup(row->secret);
	h->cursor = h->read_upto = row->last_delivered_id;
	h->dirty = true;
	h->ev_retry = evtimer_new(w->app->base, retry_cb, h);
	event_filter_init(&h->filter);
	hook_set_principal(h, row);
	if (!hook_set_url(h, row->url) || !hook_add_filter(h, "ward", row->wards) ||
	    !hook_add_filter(h, "discipline", row->disciplines) ||
	    !hook_add_filter(h, "types", row->types)) {
		log_error("webhook", "webhook has an unusable url or filter webhook=%s", h->id);
		h->broken = true;
	}
	return h;
}

static struct hook *hook_find(struct webhooks *w, const char *id)
{
	struct hook *h;

	TAILQ_FOREACH(h, &w->hooks, entry)
	if (strcmp(h->id, id) == 0)
		return h;
	return NULL;
}

/* ---- reading events ---- */

static void read_done(enum status st, const struct event_row *rows, int n, int64_t min_id,
                      int64_t max_id, void *arg)
{
	struct hook *h = arg;

	h->state = HOOK_IDLE;
	if (h->gone) {
		hook_free(h);
		return;
	}
	if (st != ST_OK) {
		/* the database is away (or closing): the tick tries again */
		h->dirty = true;
		return;
	}
	queue_clear(h);
	h->queue = xcalloc((size_t)(n > 0 ? n : 1), sizeof *h->queue);
	for (int i = 0; i < n; i++) {
		struct event_facts f = {rows[i].type, rows[i].ward, rows[i].discipline,
		                        rows[i].episode, rows[i].organisations};

		h->read_upto = rows[i].id;
		if (!event_filter_matches(&h->filter, &h->principal, &f))
			continue;
		h->queue[h->nqueue].id = rows[i].id;
		h->queue[h->nqueue].type = xstrdup(rows[i].type);
		h->queue[h->nqueue].payload = xstrdup(rows[i].payload);
		h->nqueue++;
	}
	h->more = n == WEBHOOK_BATCH;
	hook_run(h);
}

static void hook_read(struct hook *h)
{
	h->state = HOOK_READING;
	h->dirty = false;
	h->poll_due = mono_ms() + WEBHOOK_POLL_MS;
	h->hub_seen = hub_last_id(h->w->app->hub);
	store_events_read_for_webhook(h->w->app->db, h->cursor, WEBHOOK_BATCH, h->id, h->w->owner,
	                              read_done, h);
}

/* ---- saving the cursor ---- */

static void save_done(enum status st, bool changed, void *arg)
{
	struct hook *h = arg;

	h->state = HOOK_IDLE;
	if (h->gone) {
		hook_free(h);
		return;
	}
	if (st != ST_OK)
		return; /* save_id stays: hook_run saves it again before anything else */
	if (!changed) {
		/* removed, paused or taken over meanwhile: the next lease answer decides */
		hook_release(h);
		return;
	}
	if (h->save_id > h->cursor)
		h->cursor = h->save_id;
	h->save_id = 0;
	hook_run(h);
}

static void hook_save(struct hook *h)
{
	h->state = HOOK_SAVING;
	store_webhook_advance(h->w->app->db, h->id, h->w->owner, h->save_id, h->save_delivered,
	                      save_done, h);
}

/* ---- delivering ---- */

static void failed_done(enum status st, bool changed, void *arg)
{
	struct hook *h = arg;
	struct timeval tv;

	h->state = HOOK_IDLE;
	if (h->gone) {
		hook_free(h);
		return;
	}
	if (st == ST_OK && !changed) {
		hook_release(h);
		return;
	}
	tv.tv_sec = (time_t)(h->backoff_ms / 1000);
	tv.tv_usec = (suseconds_t)(h->backoff_ms % 1000) * 1000;
	h->state = HOOK_WAITING;
	evtimer_add(h->ev_retry, &tv);
}

static const char *http_error_name(enum evhttp_request_error e)
{
	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		return "timed out";
	case EVREQ_HTTP_EOF:
		return "connection closed before a reply";
	case EVREQ_HTTP_INVALID_HEADER:
		return "invalid reply header";
	case EVREQ_HTTP_BUFFER_ERROR:
		return "connection error";
	case EVREQ_HTTP_REQUEST_CANCEL:
		return "request cancelled";
	case EVREQ_HTTP_DATA_TOO_LONG:
		return "reply too long";
	}
	return "connection error";
}

/* The POST failed (error says how): count it, record it, retry after the back-off. */
static void hook_fail(struct hook *h)
{
	struct webhooks *w = h->w;
	int64_t max = w->app->cfg->webhook_max_backoff_ms;

	w->failed++;
	h->failures++;
	h->backoff_ms = h->backoff_ms == 0 ? WEBHOOK_BACKOFF_MIN_MS : h->backoff_ms * 2;
	if (h->backoff_ms > max)
		h->backoff_ms = max;
	log_warning("webhook",
	            "delivery failed webhook=%s event=%" PRId64 " error=\"%s\" failures=%d"
	            " retry_ms=%" PRId64,
	            h->id, h->posting_id, h->error, h->failures, h->backoff_ms);
	h->state = HOOK_SAVING;
	store_webhook_failed(w->app->db, h->id, w->owner, h->error, failed_done, h);
}

static void post_error(enum evhttp_request_error e, void *arg)
{
	struct hook *h = arg;

	h->http_err = e;
	h->http_err_set = true;
}

/* The receiver answered (req has a status), or not (req NULL, or status 0). */
static void post_done(struct evhttp_request *req, void *arg)
{
	struct hook *h = arg;
	int code = req != NULL ? evhttp_request_get_response_code(req) : 0;

	if (code >= 200 && code < 300) {
		h->w->delivered++;
		if (h->failures > 0)
			log_info("webhook",
			         "delivery succeeded again webhook=%s event=%" PRId64
			         " after_failures=%d",
			         h->id, h->posting_id, h->failures);
		log_debug("webhook", "delivered webhook=%s event=%" PRId64 " status=%d", h->id,
		          h->posting_id, code);
		h->failures = 0;
		h->backoff_ms = 0;
		h->pos++;
		h->save_id = h->posting_id;
		h->save_delivered = true;
		hook_save(h);
		return;
	}
	if (code != 0)
		snprintf(h->error, sizeof h->error, "receiver replied with status %d", code);
	else if (h->tls && tls_error(h, h->error, sizeof h->error))
		; /* the TLS layer said why */
	else if (h->http_err_set)
		snprintf(h->error, sizeof h->error, "%s", http_error_name(h->http_err));
	else
		snprintf(h->error, sizeof h->error, "could not connect");
	/* a failed handshake does not count as a close: never retry on that TLS state */
	h->closed = true;
	hook_fail(h);
}

/* "t=", the time (room for 23 characters), ",v1=", the hex MAC, and the NUL */
#define WEBHOOK_SIG_MAX (2 + 23 + 4 + 2 * crypto_auth_hmacsha256_BYTES + 1)

/*
 * "t=<t>,v1=<hex of HMAC-SHA256(secret, "<t>.<body>")>" into out.  The time
 * is inside the MAC, so a receiver that refuses a t outside its window
 * (docs/API.md: 5 minutes) cannot be fed a recorded delivery again later.
 */
static void sign(const char *secret, int64_t t, const char *body, size_t len,
                 char out[WEBHOOK_SIG_MAX])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char ts[24], hex[2 * crypto_auth_hmacsha256_BYTES + 1];
	int n = snprintf(ts, sizeof ts, "%" PRId64, t);

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (size_t)n);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
	snprintf(out, WEBHOOK_SIG_MAX, "t=%s,v1=%s", ts, hex);
	sodium_memzero(mac, sizeof mac);
}

static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct hook *h = arg;

	h->closed = true;
}

/* Whether host (without brackets) is a loopback address written as one: 127.0.0.0/8 or ::1. */
static bool is_loopback_literal(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/*
 * A new connection to h's receiver: plain for http://; for https:// TLS 1.2 or
 * later whose certificate must chain to a trusted CA and name h->host (as a
 * DNS name, or as an IP address for an address URL).  NULL (h->error set) if
 * TLS cannot be set up.
 */
static struct evhttp_connection *hook_connect(struct hook *h)
{
	struct webhooks *w = h->w;
	struct evhttp_connection *evcon;

	h->closed = false;
	h->bev = NULL;
	if (!h->tls && !is_loopback_literal(h->host)) {
		/*
		 * Plain text stays on this machine.  The API checks this too; a URL
		 * registered before it refused names (http://localhost) ends here,
		 * not wherever the name resolves to today.
		 */
		snprintf(h->error, sizeof h->error,
		         "http:// is allowed only to a loopback address written as one");
		return NULL;
	}
	evcon = httpc_connect(w->app->base, w->dns, h->tls ? w->tls : NULL, h->host, h->port,
	                      &h->bev, h->error, sizeof h->error);
	if (evcon != NULL && h->tls)
		evhttp_connection_set_closecb(evcon, conn_closed, h);
	return evcon;
}

/* Why the TLS layer of h's connection failed, into out; false if it did not. */
static bool tls_error(struct hook *h, char *out, size_t size)
{
	SSL *ssl = h->bev != NULL ? bufferevent_openssl_get_ssl(h->bev) : NULL;
	unsigned long e = h->bev != NULL ? bufferevent_get_openssl_error(h->bev) : 0;
	const char *why;
	long verify;

	if (ssl == NULL)
		return false;
	verify = SSL_get_verify_result(ssl);
	if (verify != X509_V_OK) {
		snprintf(out, size, "TLS: certificate refused: %.60s",
		         X509_verify_cert_error_string(verify));
		return true;
	}
	if (e == 0)
		return false;
	why = ERR_reason_error_string(e);
	snprintf(out, size, "TLS: %.80s", why != NULL ? why : "handshake failed");
	while (bufferevent_get_openssl_error(h->bev) != 0)
		; /* the rest of this connection's queue */
	return true;
}

/* POST the next queued event. */
static void hook_post(struct hook *h)
{
	struct webhooks *w = h->w;
	const struct hook_event *e = &h->queue[h->pos];
	struct evhttp_request *req;
	struct evkeyvalq *hdr;
	struct timeval tv;
	cJSON *type = cJSON_CreateString(e->type);
	char *type_json = cJSON_PrintUnformatted(type);
	char *body, idbuf[32], sig[WEBHOOK_SIG_MAX];
	size_t len;

	ASSERT(type_json != NULL);
	body =
	    xasprintf("{\"id\":%" PRId64 ",\"type\":%s,\"data\":%s}", e->id, type_json, e->payload);
	len = strlen(body);
	cJSON_free(type_json);
	cJSON_Delete(type);
	h->posting_id = e->id;
	/* the real wall clock, not the test clock: the receiver checks it against its own */
	sign(h->secret, (int64_t)time(NULL), body, len, sig);
	snprintf(idbuf, sizeof idbuf, "%" PRId64, e->id);
	if (h->evcon != NULL && h->tls && h->closed) {
		/* a TLS session is not resumed on a new socket: start afresh */
		evhttp_connection_free(h->evcon);
		h->evcon = NULL;
	}
	if (h->evcon == NULL) {
		h->evcon = hook_connect(h);
		if (h->evcon == NULL) {
			hook_fail(h);
			return;
		}
		evhttp_connection_set_retries(h->evcon, 0);
		/* a receiver cannot make us buffer without bound */
		evhttp_connection_set_max_body_size(h->evcon, WEBHOOK_REPLY_MAX);
		evhttp_connection_set_max_headers_size(h->evcon, WEBHOOK_HEADERS_MAX);
	}
	/* set each time: a reload may have changed it */
	tv.tv_sec = (time_t)(w->app->cfg->webhook_timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(w->app->cfg->webhook_timeout_ms % 1000) * 1000;
	evhttp_connection_set_timeout_tv(h->evcon, &tv);
	req = evhttp_request_new(post_done, h);
	evhttp_request_set_error_cb(req, post_error);
	hdr = evhttp_request_get_output_headers(req);
	evhttp_add_header(hdr, "Host", h->host_header);
	evhttp_add_header(hdr, "User-Agent", "carebridge-webhook/1");
	evhttp_add_header(hdr, "Content-Type", "application/json");
	evhttp_add_header(hdr, "X-Carebridge-Event-Id", idbuf);
	evhttp_add_header(hdr, "X-Carebridge-Event", e->type);
	evhttp_add_header(hdr, "X-Carebridge-Webhook-Id", h->id);
	evhttp_add_header(hdr, "X-Carebridge-Signature", sig);
	evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
	free(body);
	h->state = HOOK_POSTING;
	h->http_err_set = false;
	if (evhttp_make_request(h->evcon, req, EVHTTP_REQ_POST, h->path) != 0) {
		/* libevent freed req without calling post_done */
		snprintf(h->error, sizeof h->error, "could not start the request");
		hook_fail(h);
	}
}

/*
 * Start h's next step if it has nothing in flight: a cursor save that
 * failed, the next queued event, moving the cursor past a batch of skipped
 * events, or reading the next batch.
 */
static void hook_run(struct hook *h)
{
	struct webhooks *w = h->w;
	int64_t now, hub;

	if (h->gone || h->broken || h->state != HOOK_IDLE || w->app->shutting_down)
		return;
	if (h->save_id != 0) {
		hook_save(h);
		return;
	}
	now = mono_ms();
	if (now >= h->lease_deadline)
		return;
	if (h->pos < h->nqueue) {
		hook_post(h);
		return;
	}
	if (h->read_upto > h->cursor) {
		/* no match left in the batch: move past the events the filter skipped */
		h->save_id = h->read_upto;
		h->save_delivered = false;
		hook_save(h);
		return;
	}
	/*
	 * The hub's newest id counts only when it moved since the last read: an
	 * event it saw may have been pruned since, and must not make us read for
	 * ever.
	 */
	hub = hub_last_id(w->app->hub);
	if (h->more || h->dirty || now >= h->poll_due || (hub > h->cursor && hub > h->hub_seen))
		hook_read(h);
}

/* ---- leases ---- */

static void lease_done(enum status st, const struct webhook_row *rows, int n, void *arg)
{
	struct webhooks *w = arg;
	struct hook *h, *tmp;
	int64_t lease_ms = w->app->cfg->webhook_lease_ms;
	int64_t deadline = w->lease_sent_ms + lease_ms - lease_ms / 4;

	w->leasing = false;
	if (st != ST_OK)
		return; /* held leases run out unless a later tick renews them */
	TAILQ_FOREACH(h, &w->hooks, entry)
	h->seen = false;
	for (int i = 0; i < n; i++) {
		h = hook_find(w, rows[i].id);
		if (h == NULL) {
			h = hook_new(w, &rows[i]);
			TAILQ_INSERT_TAIL(&w->hooks, h, entry);
			w->nhooks++;
			log_info("webhook", "webhook leased webhook=%s cursor=%" PRId64, h->id,
			         h->cursor);
		} else if (rows[i].last_delivered_id > h->cursor &&
		           (h->state == HOOK_IDLE || h->state == HOOK_WAITING)) {
			/* another process delivered while our lease had lapsed: follow it */
			event_del(h->ev_retry);
			h->state = HOOK_IDLE;
			queue_clear(h);
			h->cursor = h->read_upto = rows[i].last_delivered_id;
			h->save_id = 0;
			h->dirty = true;
		}
		hook_set_principal(h, &rows[i]);
		h->seen = true;
		h->lease_deadline = deadline;
	}
	TAILQ_FOREACH_SAFE(h, &w->hooks, entry, tmp)
	{
		if (!h->seen)
			hook_release(h);
	}
	TAILQ_FOREACH_SAFE(h, &w->hooks, entry, tmp)
	hook_run(h);
}

void webhooks_tick(struct webhooks *w)
{
	struct hook *h, *tmp;

	if (w->app->shutting_down)
		return;
	if (!w->leasing) {
		w->leasing = true;
		w->lease_sent_ms = mono_ms();
		store_webhook_lease(w->app->db, w->owner, w->app->cfg->webhook_lease_ms, lease_done,
		                    w);
	}
	/* picks up what failed for want of the database, and a lost notification */
	TAILQ_FOREACH_SAFE(h, &w->hooks, entry, tmp)
	hook_run(h);
}

void webhooks_poke(struct webhooks *w)
{
	struct hook *h, *tmp;

	TAILQ_FOREACH_SAFE(h, &w->hooks, entry, tmp)
	{
		h->dirty = true;
		hook_run(h);
	}
}

/* ---- metrics, life cycle ---- */

static void webhooks_report(struct evbuffer *out, void *arg)
{
	struct webhooks *w = arg;
	int64_t last = hub_last_id(w->app->hub), backlog = 0;
	struct hook *h;

	TAILQ_FOREACH(h, &w->hooks, entry)
	if (last > h->cursor)
		backlog += last - h->cursor;
	evbuffer_add_printf(out,
	                    "# HELP carebridge_webhook_backlog Events after the cursors of the "
	                    "webhooks this process delivers.\n"
	                    "# TYPE carebridge_webhook_backlog gauge\n"
	                    "carebridge_webhook_backlog %" PRId64 "\n"
	                    "# HELP carebridge_webhooks_held Webhooks this process holds the "
	                    "lease for.\n"
	                    "# TYPE carebridge_webhooks_held gauge\n"
	                    "carebridge_webhooks_held %d\n"
	                    "# HELP carebridge_webhook_deliveries_total Webhook delivery attempts "
	                    "by outcome.\n"
	                    "# TYPE carebridge_webhook_deliveries_total counter\n"
	                    "carebridge_webhook_deliveries_total{outcome=\"ok\"} %" PRIu64 "\n"
	                    "carebridge_webhook_deliveries_total{outcome=\"error\"} %" PRIu64 "\n",
	                    backlog, w->nhooks, w->delivered, w->failed);
}

/* The TLS context for https receivers: TLS 1.2+, peers verified against webhook_ca_file. */
static bool tls_init(struct webhooks *w)
{
	const char *ca = w->app->cfg->webhook_ca_file;
	char buf[160];

	w->tls = SSL_CTX_new(TLS_client_method());
	if (w->tls == NULL) {
		log_fatal("webhook", "could not create a TLS context");
		return false;
	}
	SSL_CTX_set_min_proto_version(w->tls, TLS1_2_VERSION);
	SSL_CTX_set_verify(w->tls, SSL_VERIFY_PEER, NULL);
	if (ca[0] == '\0' ? SSL_CTX_set_default_verify_paths(w->tls) == 1
	                  : SSL_CTX_load_verify_locations(w->tls, ca, NULL) == 1)
		return true;
	ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
	ERR_clear_error();
	log_fatal("webhook", "could not load webhook_ca_file \"%s\": %s", ca, buf);
	return false;
}

struct webhooks *webhooks_new(struct app *app)
{
	struct webhooks *w = xcalloc(1, sizeof *w);
	unsigned char rnd[6];
	char hex[2 * sizeof rnd + 1], host[64];

	w->app = app;
	TAILQ_INIT(&w->hooks);
	/* host and pid tell an operator who delivers; the random part makes it unique */
	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "unknown");
	host[sizeof host - 1] = '\0';
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
	snprintf(w->owner, sizeof w->owner, "%s/%ld/%s", host, (long)getpid(), hex);
	w->dns = evdns_base_new(app->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	                                       EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (w->dns == NULL) /* no resolv.conf: names cannot be resolved, addresses still work */
		w->dns = evdns_base_new(app->base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (!tls_init(w)) {
		webhooks_free(w);
		return NULL;
	}
	metrics_add_reporter(app->metrics, webhooks_report, w);
	return w;
}

void webhooks_free(struct webhooks *w)
{
	struct hook *h;

	if (w == NULL)
		return;
	/* the pool is closed: no callback of ours is pending any more */
	while ((h = TAILQ_FIRST(&w->hooks)) != NULL) {
		TAILQ_REMOVE(&w->hooks, h, entry);
		hook_free(h);
	}
	if (w->dns != NULL)
		evdns_base_free(w->dns, 0);
	SSL_CTX_free(w->tls);
	free(w);
}

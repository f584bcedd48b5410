/*
 * http.c - limits, routing, replies and errors for the HTTP API (see http.h).
 *
 * Owns: the evhttp server and its bound socket, the route tables' index, the
 * per-request struct http_req (freed when the reply is sent), the count of
 * requests in flight, and the one mapping from enum status to HTTP codes.
 * Must not: hold business rules or SQL; handlers in api_*.c do that work.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>
#include <uuid/uuid.h>

#include "admission.h"
#include "app.h"
#include "auth.h"
#include "clock.h"
#include "fhir.h"
#include "json.h"
#include "list.h"
#include "log.h"
#include "metrics.h"
#include "signin.h"
#include "xmalloc.h"

/*
 * Methods the route tables may use; any other (TRACE, CONNECT, or one
 * libevent does not know) gets 501 with the JSON error body.
 */
#define HTTP_METHODS_KNOWN                                                                         \
	(EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH |  \
	 EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS)

#define HTTP_MAX_TABLES 32
#define HTTP_MAX_PATH 1024

/*
 * One client connection, for the header deadline: libevent 2.1's timeout is
 * per read, so a client sending one header line a second is never timed out
 * by it.  http_tick closes a connection whose request has been arriving for
 * longer than http_header_timeout.  We hold a reference on the bufferevent
 * (made by bev_new, with BEV_OPT_CLOSE_ON_FREE) so that it, and its socket,
 * stay ours to look at until http_tick sees libevent has let go of it.
 */
struct http_conn {
	TAILQ_ENTRY(http_conn) entry;   /* on http.conns */
	struct bufferevent *bev;        /* one reference is ours */
	struct evbuffer_cb_entry *incb; /* our callback on bev's input; owned by the buffer */
	int64_t started_us;             /* monotonic time the request began arriving; 0 if none */
	bool busy;                      /* a request was dispatched and is not yet answered */
};

TAILQ_HEAD(http_conn_list, http_conn);

struct http {
	struct app *app;                             /* the process */
	struct evhttp *evh;                          /* owned */
	struct evhttp_bound_socket *sock;            /* owned by evh; NULL after stop */
	int port;                                    /* bound port */
	const struct route *tables[HTTP_MAX_TABLES]; /* registered tables, borrowed */
	int ntables;                                 /* how many */
	int inflight;                                /* requests not yet replied to */
	struct http_conn_list conns;                 /* every connection libevent may still use */
};

/* Characters of the code kinds of {param}, as the tables' CHECKs allow. */
static const char CODE_CHARS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
static const char PAS_CHARS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";

/* What each enum route_id is: its name, what a 404 calls it and its form. */
static const struct route_id_kind {
	const char *name;  /* for `carebridge routes` */
	const char *noun;  /* "<noun> not found" */
	bool uuid;         /* a UUID in text form */
	const char *chars; /* else: the characters a code may have (NULL: not checked here) */
	size_t max;        /* and its longest length */
	bool ward_scoped;  /* names a patient's record: handlers call http_access() */
} route_ids[] = {
    [ROUTE_ID_NONE] = {"none", NULL, false, NULL, 0, false},
    [ROUTE_ID_EPISODE] = {"episode", "episode", true, NULL, 0, true},
    [ROUTE_ID_TASK] = {"task", "task", true, NULL, 0, true},
    [ROUTE_ID_ASSESSMENT] = {"assessment", "assessment", true, NULL, 0, true},
    [ROUTE_ID_TEMPLATE] = {"task_template", "task template", true, NULL, 0, false},
    [ROUTE_ID_USER] = {"user", "user", true, NULL, 0, false},
    [ROUTE_ID_WEBHOOK] = {"webhook", "webhook", true, NULL, 0, false},
    [ROUTE_ID_WARD] = {"ward", "ward", false, CODE_CHARS, 32, false},
    [ROUTE_ID_PAS_CODE] = {"pas_code", "ward mapping", false, PAS_CHARS, 64, false},
    [ROUTE_ID_FILE] = {"file", NULL, false, NULL, 0, false},
    [ROUTE_ID_BARRIER] = {"barrier", "barrier", true, NULL, 0, true},
    [ROUTE_ID_DATE] = {"date", "date", false, NULL, 0, false},
    [ROUTE_ID_REFERRAL] = {"referral", "referral", true, NULL, 0, true},
    [ROUTE_ID_ORG] = {"organisation", "organisation", true, NULL, 0, false},
    [ROUTE_ID_PATIENT] = {"patient", "patient", true, NULL, 0, true},
    [ROUTE_ID_FHIR_TASK] = {"fhir_task", "task", false, NULL, 0, true},
};

/* Whether value has the form of a {param} of kind id. */
static bool route_id_ok(enum route_id id, const char *value)
{
	const struct route_id_kind *k = &route_ids[id];
	size_t n = strlen(value);

	if (k->uuid)
		return text_is_uuid(value);
	if (id == ROUTE_ID_FHIR_TASK) {
		char uuid[37];

		return fhir_task_id_parse(value, uuid) != FHIR_TASK_NONE;
	}
	if (k->chars == NULL)
		return true;
	if (n < 1 || n > k->max || strspn(value, k->chars) != n)
		return false;
	/* a ward code starts with a letter or digit; a PAS code may not */
	return id != ROUTE_ID_WARD || (value[0] != '_' && value[0] != '-');
}

int http_code_for(enum status st)
{
	switch (st) {
	case ST_OK:
		return 200;
	case ST_INVALID:
		return 400;
	case ST_UNAUTHORIZED:
		return 401;
	case ST_FORBIDDEN:
		return 403;
	case ST_NOT_FOUND:
		return 404;
	case ST_CONFLICT:
		return 409;
	case ST_PRECONDITION:
		return 412;
	case ST_TOO_LARGE:
		return 413;
	case ST_LOCKED:
		return 423;
	case ST_TOO_MANY:
		return 429;
	case ST_PRECONDITION_REQUIRED:
		return 428;
	case ST_UNAVAILABLE:
		return 503;
	case ST_INTERNAL:
		break;
	}
	return 500;
}

static const char *method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_TRACE:
		return "TRACE";
	case EVHTTP_REQ_CONNECT:
		return "CONNECT";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	}
	return "OTHER";
}

/*
 * Whether r is about to succeed on a route whose {id} names a patient's
 * record without its handler having checked the route's action against
 * that record: a handler that forgot.  Such a reply is never sent.
 */
static bool reply_unchecked(const struct http_req *r, int code)
{
	return code >= 200 && code < 300 && r->route != NULL &&
	       (r->route->flags & ROUTE_DECLARED) != 0 && route_ids[r->route->id].ward_scoped &&
	       !r->access_checked;
}

/* The connection a request came on, or NULL (libevent made it without bev_new). */
static struct http_conn *conn_find(struct http *h, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon != NULL ? evhttp_connection_get_bufferevent(evcon) : NULL;
	struct http_conn *c;

	if (bev == NULL)
		return NULL;
	TAILQ_FOREACH(c, &h->conns, entry)
	{
		if (c->bev == bev)
			return c;
	}
	return NULL;
}

/* Bytes arrived: between requests, that is the start of the next one. */
static void conn_input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct http_conn *c = arg;

	if (info->n_added > 0 && !c->busy && c->started_us == 0)
		c->started_us = mono_us();
}

/* libevent's hook for a new connection's bufferevent: ours, so we can watch it. */
static struct bufferevent *bev_new(struct event_base *base, void *arg)
{
	struct http *h = arg;
	struct http_conn *c = xcalloc(1, sizeof *c);

	c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	ASSERT(c->bev != NULL);
	bufferevent_incref(c->bev);
	c->incb = evbuffer_add_cb(bufferevent_get_input(c->bev), conn_input_cb, c);
	ASSERT(c->incb != NULL);
	c->started_us = mono_us(); /* the deadline runs from the accept */
	TAILQ_INSERT_TAIL(&h->conns, c, entry);
	return c->bev;
}

/* Drop our hold on c's bufferevent (freeing it if libevent is done with it) and c. */
static void conn_free(struct http *h, struct http_conn *c)
{
	TAILQ_REMOVE(&h->conns, c, entry);
	evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->incb);
	bufferevent_decref(c->bev);
	free(c);
}

void http_tick(struct http *h)
{
	int64_t now = mono_us(), limit_us = h->app->cfg->header_timeout_ms * 1000;
	struct http_conn *c, *next;

	TAILQ_FOREACH_SAFE(c, &h->conns, entry, next)
	{
		bufferevent_data_cb readcb = NULL;
		evutil_socket_t fd;

		/* libevent clears the callbacks when it frees (or resets) a connection */
		bufferevent_getcb(c->bev, &readcb, NULL, NULL, NULL);
		if (readcb == NULL) {
			conn_free(h, c);
			continue;
		}
		if (c->busy || c->started_us == 0 || now - c->started_us < limit_us)
			continue;
		/*
		 * Past the deadline: shut the socket down and let libevent find
		 * the end of the stream and free the connection the usual way.
		 * The descriptor is still this connection's: ours keeps it open.
		 */
		fd = bufferevent_getfd(c->bev);
		if (fd >= 0)
			shutdown(fd, SHUT_RDWR);
		log_info("http", "connection closed: request not received within %lld ms",
		         (long long)h->app->cfg->header_timeout_ms);
		c->started_us = 0;
		c->busy = true; /* nothing more to time; freed once libevent lets go */
	}
}

/* Send the reply, count it, log one line and free r. */
static void http_finish(struct http_req *r, int code, struct evbuffer *body)
{
	struct http *h = r->app->http;
	double secs = (double)(mono_us() - r->started_us) / 1e6;
	const char *route = r->route != NULL ? r->route->pattern : "unmatched";
	struct evbuffer *refusal = NULL;
	char prev[LOG_REQUEST_ID_SIZE];

	log_request_begin(r->request_id, prev);
	if (reply_unchecked(r, code)) {
		struct evkeyvalq *out = evhttp_request_get_output_headers(r->req);

		log_error("http",
		          "reply refused: the handler made no access check method=%s "
		          "route=%s req=%s",
		          r->method, route, r->id);
		evhttp_remove_header(out, "ETag");
		evhttp_remove_header(out, "Location");
		evhttp_remove_header(out, "Content-Type");
		evhttp_add_header(out, "Content-Type", "application/json");
		refusal = evbuffer_new();
		evbuffer_add_printf(refusal,
		                    "{\"error\":{\"code\":\"%s\",\"message\":"
		                    "\"internal error\",\"field\":null}}",
		                    status_code(ST_INTERNAL));
		code = 500;
		body = refusal;
	}

	struct http_conn *c = conn_find(h, r->req);

	/* answered: the connection may carry the next request, which the deadline covers */
	if (c != NULL)
		c->busy = false;
	evhttp_send_reply(r->req, code, NULL, body);
	metrics_http_done(r->app->metrics, r->method, route, code, secs);
	if (code >= 500)
		log_warning("http", "request done method=%s route=%s status=%d ms=%.1f req=%s",
		            r->method, route, code, secs * 1000, r->id);
	else
		log_debug("http", "request done method=%s route=%s status=%d ms=%.1f req=%s",
		          r->method, route, code, secs * 1000, r->id);
	h->inflight--;
	free(r->ward_buf);
	free(r->ward_ptrs);
	free(r);
	if (refusal != NULL)
		evbuffer_free(refusal);
	log_request_end(prev);
}

struct evhttp_request *http_stream_start(struct http_req *r, const char *content_type)
{
	struct http *h = r->app->http;
	struct evhttp_request *req = r->req;
	double secs = (double)(mono_us() - r->started_us) / 1e6;

	http_add_header(r, "Content-Type", content_type);
	http_add_header(r, "X-Accel-Buffering", "no");
	evhttp_send_reply_start(req, 200, "OK");
	metrics_http_done(r->app->metrics, r->method, r->route->pattern, 200, secs);
	log_debug("http", "stream started route=%s req=%s", r->route->pattern, r->id);
	h->inflight--;
	free(r->ward_buf);
	free(r->ward_ptrs);
	free(r);
	return req;
}

void http_add_header(struct http_req *r, const char *name, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->req), name, value);
}

void http_reply_data(struct http_req *r, int code, const char *content_type, const void *data,
                     size_t len)
{
	struct evbuffer *buf = evbuffer_new();

	evbuffer_add(buf, data, len);
	http_add_header(r, "Content-Type", content_type);
	http_finish(r, code, buf);
	evbuffer_free(buf);
}

void http_reply_empty(struct http_req *r, int code)
{
	http_finish(r, code, NULL);
}

void http_reply_json(struct http_req *r, int code, cJSON *body)
{
	char *text = cJSON_PrintUnformatted(body);

	ASSERT(text != NULL);
	cJSON_Delete(body);
	http_reply_data(r, code, "application/json", text, strlen(text));
	cJSON_free(text);
}

bool http_is_fhir(const struct http_req *r)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;

	return path != NULL && strncmp(path, "/fhir/", 6) == 0;
}

void http_reply_fhir(struct http_req *r, int code, cJSON *body)
{
	char *text = cJSON_PrintUnformatted(body);

	ASSERT(text != NULL);
	cJSON_Delete(body);
	http_reply_data(r, code, "application/fhir+json", text, strlen(text));
	cJSON_free(text);
}

void http_reply_error(struct http_req *r, enum status st, const struct err *err)
{
	cJSON *root;
	cJSON *e;
	const char *msg = err != NULL && err->message[0] != '\0' ? err->message : NULL;

	if (st == ST_OK)
		st = ST_INTERNAL;
	if (msg == NULL) {
		switch (st) {
		case ST_UNAUTHORIZED:
			msg = "authentication required";
			break;
		case ST_FORBIDDEN:
			msg = "permission denied";
			break;
		case ST_NOT_FOUND:
			msg = "not found";
			break;
		case ST_UNAVAILABLE:
			msg = "service unavailable";
			break;
		default:
			msg = "internal error";
			break;
		}
	}
	if (st == ST_UNAUTHORIZED)
		http_add_header(r, "WWW-Authenticate", "Bearer realm=\"carebridge\"");
	if (http_is_fhir(r)) {
		/* the FHIR facade's clients read errors as an OperationOutcome */
		http_reply_fhir(
		    r, http_code_for(st),
		    fhir_operation_outcome(st, NULL, err != NULL ? err->field : NULL, msg));
		return;
	}
	root = cJSON_CreateObject();
	e = cJSON_AddObjectToObject(root, "error");
	cJSON_AddStringToObject(e, "code", status_code(st));
	cJSON_AddStringToObject(e, "message", msg);
	if (err != NULL && err->field[0] != '\0')
		cJSON_AddStringToObject(e, "field", err->field);
	else
		cJSON_AddNullToObject(e, "field");
	http_reply_json(r, http_code_for(st), root);
}

/* A JSON error reply with an HTTP code that has no enum status (405). */
static void reply_code(struct http_req *r, int code, const char *codename, const char *msg)
{
	cJSON *root, *e;

	if (http_is_fhir(r)) {
		/* 400 bad path, 404 no such path, 405, 413, 501, 503 shutting down */
		const char *issue = code == 400   ? "invalid"
		                    : code == 404 ? "not-found"
		                    : code == 413 ? "too-costly"
		                    : code == 503 ? "transient"
		                                  : "not-supported";

		http_reply_fhir(r, code, fhir_operation_outcome(ST_INVALID, issue, NULL, msg));
		return;
	}
	root = cJSON_CreateObject();
	e = cJSON_AddObjectToObject(root, "error");
	cJSON_AddStringToObject(e, "code", codename);
	cJSON_AddStringToObject(e, "message", msg);
	cJSON_AddNullToObject(e, "field");
	http_reply_json(r, code, root);
}

void http_reply_gone(struct http_req *r, const char *message)
{
	reply_code(r, 410, "gone", message);
}

enum status http_body_json(struct http_req *r, cJSON **out, struct err *err)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	const char *data;

	*out = NULL;
	if ((int64_t)len > r->app->cfg->max_body_size)
		return err_set(err, ST_TOO_LARGE, NULL,
		               "request body of %zu bytes is over the limit of %" PRId64 " bytes",
		               len, r->app->cfg->max_body_size);
	if (len == 0)
		return err_set(err, ST_INVALID, NULL,
		               "request body is empty: a JSON object is required");
	data = (const char *)evbuffer_pullup(in, -1);
	/* the one check of the text (UTF-8, NUL, trailing bytes) for every request type */
	return json_body_parse(data, len, out, err);
}

const char *http_query(struct http_req *r, const char *name, char *buf, size_t size)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq params;
	const char *v;

	if (q == NULL)
		return NULL;
	TAILQ_INIT(&params);
	if (evhttp_parse_query_str(q, &params) != 0) {
		evhttp_clear_headers(&params);
		return NULL;
	}
	v = evhttp_find_header(&params, name);
	if (v != NULL)
		snprintf(buf, size, "%s", v);
	evhttp_clear_headers(&params);
	return v != NULL ? buf : NULL;
}

int http_query_all(struct http_req *r, const char *name, char out[][HTTP_PARAM_MAX], int max)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq params;
	struct evkeyval *kv;
	int n = 0;

	if (q == NULL)
		return 0;
	TAILQ_INIT(&params);
	if (evhttp_parse_query_str(q, &params) == 0) {
		TAILQ_FOREACH(kv, &params, next)
		{
			if (strcmp(kv->key, name) != 0 || n >= max)
				continue;
			snprintf(out[n++], HTTP_PARAM_MAX, "%s", kv->value);
		}
	}
	evhttp_clear_headers(&params);
	return n;
}

int http_query_params(struct http_req *r, char (*names)[HTTP_PARAM_MAX],
                      char (*values)[HTTP_PARAM_MAX], int max)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq params;
	struct evkeyval *kv;
	int n = 0;

	if (q == NULL)
		return 0;
	TAILQ_INIT(&params);
	if (evhttp_parse_query_str(q, &params) == 0) {
		TAILQ_FOREACH(kv, &params, next)
		{
			if (n >= max) {
				n = -1;
				break;
			}
			/* libevent decodes the values, not the names ("status%3Anot") */
			char *name = evhttp_uridecode(kv->key, 1, NULL);

			snprintf(names[n], HTTP_PARAM_MAX, "%s", name != NULL ? name : kv->key);
			free(name);
			snprintf(values[n], HTTP_PARAM_MAX, "%s", kv->value);
			n++;
		}
	}
	evhttp_clear_headers(&params);
	return n;
}

const char *http_header(struct http_req *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

/*
 * Match path against pattern; fill params.  Returns true on a match.  Segments
 * are compared literally except "{name}", which takes one non-empty segment.
 */
static bool route_match(const char *pattern, const char *path, char params[][HTTP_PARAM_MAX],
                        int *nparams)
{
	const char *p = pattern, *s = path;

	*nparams = 0;
	while (*p != '\0' && *s != '\0') {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			size_t n = strcspn(s, "/");

			ASSERT(close != NULL);
			if (n == 0 || n >= HTTP_PARAM_MAX || *nparams >= HTTP_MAX_PARAMS)
				return false;
			memcpy(params[*nparams], s, n);
			params[*nparams][n] = '\0';
			(*nparams)++;
			p = close + 1;
			s += n;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *p == '\0' && *s == '\0';
}

static void allow_header(unsigned methods, char *buf, size_t size)
{
	static const enum evhttp_cmd_type all[] = {EVHTTP_REQ_GET, EVHTTP_REQ_POST, EVHTTP_REQ_PUT,
	                                           EVHTTP_REQ_PATCH, EVHTTP_REQ_DELETE};
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < nitems(all); i++) {
		if ((methods & all[i]) == 0)
			continue;
		n += (size_t)snprintf(buf + n, size - n, "%s%s", n > 0 ? ", " : "",
		                      method_name(all[i]));
		if (n >= size)
			break;
	}
}

/* A query parameter and its place in the query string. */
struct query_param {
	const struct evkeyval *kv;
	int pos;
};

/* By name, then by place. */
static int query_param_cmp(const void *a, const void *b)
{
	const struct query_param *x = a, *y = b;
	int c = strcmp(x->kv->key, y->kv->key);

	return c != 0 ? c : x->pos - y->pos;
}

/*
 * Whether r's query string parses, with no value too long and no name given
 * too often; the refusal names the first parameter, in query order, at
 * fault.  Repeats are counted on the names sorted (the query is read before
 * authentication: its cost must not grow with the square of its length).
 */
static enum status query_check(struct http_req *r, struct err *err)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq params;
	struct evkeyval *kv;
	struct query_param *all;
	const struct evkeyval *too_long = NULL, *too_many = NULL;
	int n = 0, long_pos = -1, many_pos = -1;

	if (q == NULL)
		return ST_OK;
	TAILQ_INIT(&params);
	if (evhttp_parse_query_str(q, &params) != 0) {
		evhttp_clear_headers(&params);
		return err_set(err, ST_INVALID, NULL, "query string is malformed");
	}
	TAILQ_FOREACH(kv, &params, next)
	n++;
	all = xcalloc((size_t)(n > 0 ? n : 1), sizeof *all);
	n = 0;
	TAILQ_FOREACH(kv, &params, next)
	{
		if (too_long == NULL && strlen(kv->value) >= HTTP_PARAM_MAX) {
			too_long = kv;
			long_pos = n;
		}
		all[n].kv = kv;
		all[n].pos = n;
		n++;
	}
	qsort(all, (size_t)n, sizeof *all, query_param_cmp);
	for (int i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(all[j].kv->key, all[i].kv->key) == 0; j++)
			;
		/* a name given too often is named at its first place in the query */
		if (j - i > HTTP_QUERY_REPEAT_MAX && (too_many == NULL || all[i].pos < many_pos)) {
			too_many = all[i].kv;
			many_pos = all[i].pos;
		}
	}
	if (too_long != NULL && (too_many == NULL || long_pos <= many_pos))
		err_set(err, ST_INVALID, too_long->key, "\"%.64s\" is too long (at most %d bytes)",
		        too_long->key, HTTP_PARAM_MAX - 1);
	else if (too_many != NULL)
		err_set(err, ST_INVALID, too_many->key, "\"%.64s\" is given more than %d times",
		        too_many->key, HTTP_QUERY_REPEAT_MAX);
	free(all);
	evhttp_clear_headers(&params);
	return too_long != NULL || too_many != NULL ? ST_INVALID : ST_OK;
}

/* The name of r's route's n-th {param} ("id", "code", ...) into buf. */
static const char *param_name(const struct http_req *r, int n, char *buf, size_t size)
{
	const char *p = r->route->pattern;

	for (int i = 0; (p = strchr(p, '{')) != NULL; i++, p++) {
		if (i == n) {
			snprintf(buf, size, "%.*s", (int)strcspn(p + 1, "}"), p + 1);
			return buf;
		}
	}
	return NULL;
}

/*
 * Whether r's {param} has the form its route declares; else reply 404
 * naming it (a malformed id names nothing) and return false.
 */
static bool params_ok(struct http_req *r)
{
	const struct route_id_kind *k = &route_ids[r->route->id];
	char name[HTTP_PARAM_MAX];
	struct err err;

	if (r->nparams == 0 || route_id_ok(r->route->id, r->params[0]))
		return true;
	err_set(&err, ST_NOT_FOUND, param_name(r, 0, name, sizeof name), "%s not found",
	        k->noun != NULL ? k->noun : "object");
	http_reply_error(r, ST_NOT_FOUND, &err);
	return false;
}

void http_route_run(struct http_req *r)
{
	struct err err;
	char prev[LOG_REQUEST_ID_SIZE];

	/* authentication may resume here from another request's lookup: this one's lines */
	log_request_begin(r->request_id, prev);
	if ((r->route->flags & ROUTE_DECLARED) != 0) {
		ASSERT(r->authenticated);
		if (access_role_may(&r->principal, r->route->action, &err) != ST_OK) {
			http_reply_error(r, ST_FORBIDDEN, &err);
			goto out;
		}
	}
	if (params_ok(r))
		r->route->handler(r);
out:
	log_request_end(prev);
}

/*
 * Choose r's request id: the X-Request-Id a trusted proxy sent when it is a
 * sane token (it then names the request in the proxy's logs too), else r's
 * own UUID.  A proxy's id that is a UUID also becomes r->id, so the audit
 * rows carry it.
 */
static void request_id_choose(struct http_req *r)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(r->req);
	const char *given = http_header(r, "X-Request-Id");
	char *peer = NULL;
	ev_uint16_t port = 0;
	uuid_t u;

	snprintf(r->request_id, sizeof r->request_id, "%s", r->id);
	if (given == NULL || conn == NULL)
		return;
	evhttp_connection_get_peer(conn, &peer, &port);
	if (!signin_peer_is_trusted(peer, r->app->cfg->trusted_proxies) ||
	    !signin_request_id_is_valid(given))
		return;
	snprintf(r->request_id, sizeof r->request_id, "%s", given);
	if (strlen(given) == 36 && uuid_parse(given, u) == 0)
		uuid_unparse_lower(u, r->id);
}

enum status http_access(struct http_req *r, const struct access_target *t, struct err *err)
{
	enum status st;

	ASSERT(r->route != NULL && (r->route->flags & ROUTE_DECLARED) != 0);
	st = access_check(&r->principal, r->route->action, t, err);
	if (st == ST_OK)
		r->access_checked = true;
	return st;
}

static void dispatch(struct http *h, struct http_req *r, struct evhttp_request *req);

/* libevent's callback for every request: its lines carry its request id. */
static void http_dispatch(struct evhttp_request *req, void *arg)
{
	struct http *h = arg;
	struct http_req *r = xcalloc(1, sizeof *r);
	char prev[LOG_REQUEST_ID_SIZE];
	uuid_t u;

	r->app = h->app;
	r->req = req;
	uuid_generate_random(u);
	uuid_unparse_lower(u, r->id);
	request_id_choose(r);
	log_request_begin(r->request_id, prev);
	dispatch(h, r, req);
	log_request_end(prev);
}

/* Check, route and run request r (whose id is chosen). */
static void dispatch(struct http *h, struct http_req *r, struct evhttp_request *req)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	unsigned allowed = 0;
	struct err err;

	struct http_conn *c = conn_find(h, req);

	/* the whole request is in: its deadline is met */
	if (c != NULL) {
		c->busy = true;
		c->started_us = 0;
	}
	r->method = method_name(cmd);
	r->started_us = mono_us();
	h->inflight++;
	http_add_header(r, "X-Request-Id", r->request_id);
	http_add_header(r, "X-Content-Type-Options", "nosniff");
	http_add_header(r, "Cache-Control", "no-store");

	if ((cmd & HTTP_METHODS_KNOWN) == 0) {
		/* how such a request's body is framed is anyone's guess: close */
		http_add_header(r, "Connection", "close");
		reply_code(r, 501, "not_implemented", "request method is not supported");
		return;
	}
	if (path == NULL || path[0] != '/' || strlen(path) > HTTP_MAX_PATH) {
		reply_code(r, 400, "invalid", "request path is malformed");
		return;
	}
	if (query_check(r, &err) != ST_OK) {
		http_reply_error(r, ST_INVALID, &err);
		return;
	}
	if ((int64_t)evbuffer_get_length(evhttp_request_get_input_buffer(req)) >
	    h->app->cfg->max_body_size) {
		char msg[128];

		snprintf(msg, sizeof msg, "request body is over the limit of %" PRId64 " bytes",
		         h->app->cfg->max_body_size);
		reply_code(r, 413, "too_large", msg);
		return;
	}
	if (h->app->shutting_down) {
		http_add_header(r, "Connection", "close");
		reply_code(r, 503, "unavailable", "the server is shutting down");
		return;
	}
	for (int t = 0; t < h->ntables; t++) {
		for (const struct route *rt = h->tables[t]; rt->pattern != NULL; rt++) {
			if (!route_match(rt->pattern, path, r->params, &r->nparams))
				continue;
			if ((rt->methods & cmd) == 0 &&
			    !(cmd == EVHTTP_REQ_HEAD && (rt->methods & EVHTTP_REQ_GET))) {
				allowed |= rt->methods;
				continue;
			}
			r->route = rt;
			if (rt->flags & ROUTE_PUBLIC)
				http_route_run(r);
			else
				auth_begin(r);
			return;
		}
	}
	if (allowed != 0) {
		char allow[128];

		allow_header(allowed, allow, sizeof allow);
		http_add_header(r, "Allow", allow);
		reply_code(r, 405, "method_not_allowed", "method not allowed for this path");
		return;
	}
	reply_code(r, 404, "not_found", "no such path");
}

struct http *http_new(struct app *app)
{
	struct http *h = xcalloc(1, sizeof *h);
	const struct config *cfg = app->cfg;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	int timeout_s;

	h->app = app;
	h->evh = evhttp_new(app->base);
	/*
	 * libevent refuses a body over its own limit before reading it, with a
	 * reply of its own; bodies up to twice our limit are read and refused by
	 * http_body_json with the JSON error body.
	 */
	evhttp_set_max_body_size(h->evh, (ev_ssize_t)cfg->max_body_size * 2);
	evhttp_set_max_headers_size(h->evh, (ev_ssize_t)cfg->max_header_size);
	timeout_s = (int)((cfg->http_timeout_ms + 999) / 1000);
	evhttp_set_timeout(h->evh, timeout_s);
	/*
	 * Every method reaches http_dispatch, unknown ones too (libevent 2.1
	 * gives those a type of its own), so that each gets our JSON error body
	 * rather than libevent's HTML 501.
	 */
	evhttp_set_allowed_methods(h->evh, 0xffff);
	TAILQ_INIT(&h->conns);
	evhttp_set_bevcb(h->evh, bev_new, h);
	evhttp_set_gencb(h->evh, http_dispatch, h);
	h->sock =
	    evhttp_bind_socket_with_handle(h->evh, cfg->listen_addr, (ev_uint16_t)cfg->listen_port);
	if (h->sock == NULL) {
		log_fatal("http", "could not listen on %s:%d: %s", cfg->listen_addr,
		          cfg->listen_port, strerror(errno));
		evhttp_free(h->evh);
		free(h);
		return NULL;
	}
	if (getsockname(evhttp_bound_socket_get_fd(h->sock), (struct sockaddr *)&ss, &sslen) == 0) {
		if (ss.ss_family == AF_INET)
			h->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			h->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return h;
}

const char *http_public_origin(const struct http *h, char *buf, size_t size)
{
	const struct config *cfg = h->app->cfg;

	if (cfg->public_origin[0] != '\0')
		return cfg->public_origin;
	if (strchr(cfg->listen_addr, ':') != NULL)
		snprintf(buf, size, "http://[%s]:%d", cfg->listen_addr, h->port);
	else
		snprintf(buf, size, "http://%s:%d", cfg->listen_addr, h->port);
	return buf;
}

void http_add_routes(struct http *h, const struct route *routes)
{
	ASSERT(h->ntables < HTTP_MAX_TABLES);
	for (const struct route *rt = routes; rt->pattern != NULL; rt++) {
		/* every row declares its access: public, or an action and an id kind */
		ASSERT(rt->flags == ROUTE_PUBLIC || rt->flags == ROUTE_DECLARED);
		ASSERT((unsigned)rt->action < ACCESS_ACTION_COUNT);
		ASSERT((size_t)rt->id < nitems(route_ids));
		ASSERT((rt->id == ROUTE_ID_NONE) == (strchr(rt->pattern, '{') == NULL));
	}
	h->tables[h->ntables++] = routes;
}

int http_port(const struct http *h)
{
	return h->port;
}

void http_stop_accepting(struct http *h)
{
	if (h->sock != NULL) {
		evhttp_del_accept_socket(h->evh, h->sock);
		h->sock = NULL;
	}
}

int http_inflight(const struct http *h)
{
	return h->inflight;
}

void http_free(struct http *h)
{
	struct http_conn *c, *next;

	if (h == NULL)
		return;
	evhttp_free(h->evh);
	TAILQ_FOREACH_SAFE(c, &h->conns, entry, next)
	conn_free(h, c);
	free(h);
}

void http_reply_json_text(struct http_req *r, int code, const char *json)
{
	http_reply_data(r, code, "application/json", json, strlen(json));
}

void http_add_etag(struct http_req *r, int version)
{
	char etag[32];

	snprintf(etag, sizeof etag, "\"%d\"", version);
	http_add_header(r, "ETag", etag);
}

void http_reply_json_versioned(struct http_req *r, int code, const char *json)
{
	cJSON *root = cJSON_Parse(json);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");

	if (cJSON_IsNumber(v))
		http_add_etag(r, v->valueint);
	cJSON_Delete(root);
	http_reply_json_text(r, code, json);
}

enum status http_if_match(struct http_req *r, int *version, struct err *err)
{
	const char *h = http_header(r, "If-Match");
	char *end;
	long v;

	*version = -1;
	if (h == NULL)
		return ST_OK;
	if (strncmp(h, "W/", 2) == 0)
		h += 2;
	if (*h == '"')
		h++;
	v = strtol(h, &end, 10);
	if (end == h || v < 0 || v > 1000000000 || (*end != '\0' && *end != '"'))
		return err_set(err, ST_INVALID, "If-Match", "If-Match must carry a version number");
	*version = (int)v;
	return ST_OK;
}

enum status http_query_int(struct http_req *r, const char *name, int def, int min, int max,
                           int *out, struct err *err)
{
	char buf[32], *end;
	long v;

	*out = def;
	if (http_query(r, name, buf, sizeof buf) == NULL)
		return ST_OK;
	v = strtol(buf, &end, 10);
	if (end == buf || *end != '\0' || v < min || v > max)
		return err_set(err, ST_INVALID, name, "\"%s\" must be an integer from %d to %d",
		               name, min, max);
	*out = (int)v;
	return ST_OK;
}

enum status http_query_bool(struct http_req *r, const char *name, int *out, struct err *err)
{
	char buf[16];

	*out = -1;
	if (http_query(r, name, buf, sizeof buf) == NULL)
		return ST_OK;
	if (strcmp(buf, "true") == 0 || strcmp(buf, "1") == 0)
		*out = 1;
	else if (strcmp(buf, "false") == 0 || strcmp(buf, "0") == 0)
		*out = 0;
	else
		return err_set(err, ST_INVALID, name, "\"%s\" must be true or false", name);
	return ST_OK;
}

static void json_done_with(void *arg, int code, enum status st, const struct err *err,
                           const char *json)
{
	struct http_req *r = arg;

	if (st != ST_OK)
		http_reply_error(r, st, err);
	else
		http_reply_json_text(r, code, json);
}

void http_json_ok(enum status st, const struct err *err, const char *json, void *arg)
{
	json_done_with(arg, 200, st, err, json);
}

void http_json_created(enum status st, const struct err *err, const char *json, void *arg)
{
	json_done_with(arg, 201, st, err, json);
}

cJSON *http_routes_to_json(const struct route *const *tables)
{
	static const enum evhttp_cmd_type all[] = {EVHTTP_REQ_GET, EVHTTP_REQ_POST, EVHTTP_REQ_PUT,
	                                           EVHTTP_REQ_PATCH, EVHTTP_REQ_DELETE};
	cJSON *out = cJSON_CreateArray();

	for (const struct route *const *t = tables; *t != NULL; t++) {
		for (const struct route *rt = *t; rt->pattern != NULL; rt++) {
			for (size_t i = 0; i < nitems(all); i++) {
				cJSON *o;

				if ((rt->methods & all[i]) == 0)
					continue;
				o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "method", method_name(all[i]));
				cJSON_AddStringToObject(o, "pattern", rt->pattern);
				if (rt->flags == ROUTE_PUBLIC)
					cJSON_AddNullToObject(o, "action");
				else
					cJSON_AddStringToObject(o, "action",
					                        access_action_name(rt->action));
				cJSON_AddBoolToObject(o, "public", rt->flags == ROUTE_PUBLIC);
				cJSON_AddStringToObject(o, "id", route_ids[rt->id].name);
				cJSON_AddBoolToObject(o, "ward_scoped",
				                      route_ids[rt->id].ward_scoped);
				cJSON_AddItemToArray(out, o);
			}
		}
	}
	return out;
}

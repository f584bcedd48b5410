/*
 * api_stream.c - GET /api/v1/stream: the live event stream (Server-Sent Events).
 *
 * Query: ward, discipline (repeatable), episode, types (comma-separated or
 * repeatable; "chase.*" matches a family), since (for clients that cannot set
 * Last-Event-ID).  Authenticated like every API call (token or session
 * cookie); a subscriber only ever receives events it may read.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api.h"
#include "app.h"
#include "event_filter.h"
#include "hub.h"
#include "store_audit.h"
#include "xmalloc.h"

#define STREAM_MAX_VALUES HTTP_QUERY_REPEAT_MAX /* http.c refuses more */

static enum status add_all(struct http_req *r, struct event_filter *f, const char *kind,
                           struct err *err)
{
	char vals[STREAM_MAX_VALUES][HTTP_PARAM_MAX];
	int n = http_query_all(r, kind, vals, STREAM_MAX_VALUES);
	enum status st = ST_OK;

	for (int i = 0; i < n && st == ST_OK; i++) {
		char *save = NULL, *tok;

		/* "types=a,b" and "ward=A&ward=B" are both accepted */
		for (tok = strtok_r(vals[i], ",", &save); tok != NULL && st == ST_OK;
		     tok = strtok_r(NULL, ",", &save))
			st = event_filter_add(f, kind, tok, err);
	}
	return st;
}

/* Parse an event id ("123"); -1 when absent, -2 when malformed. */
static int64_t parse_id(const char *s)
{
	char *end;
	long long v;

	if (s == NULL)
		return -1;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || v < 0)
		return -2;
	return (int64_t)v;
}

/* A stream being opened, while its audit row is written. */
struct opening {
	struct http_req *r;
	struct event_filter filter;
	int64_t since;
};

static void audited(enum status st, const struct err *err, const char *json, void *arg)
{
	struct opening *o = arg;

	if (st != ST_OK)
		http_reply_error(o->r, st, err);
	else
		hub_subscribe(o->r->app->hub, o->r, &o->filter, o->since);
	free(o);
}

/* What the stream asked for, as JSON for the audit row (the query, not what it will see). */
static char *stream_detail(struct http_req *r, const struct event_filter *f, int64_t since)
{
	static const char *const kinds[] = {"ward", "discipline", "types"};
	cJSON *d = cJSON_CreateObject();
	char *text;

	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		char vals[STREAM_MAX_VALUES][HTTP_PARAM_MAX];
		int n = http_query_all(r, kinds[k], vals, STREAM_MAX_VALUES);
		cJSON *a = cJSON_AddArrayToObject(d, kinds[k]);

		for (int i = 0; i < n; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(vals[i]));
	}
	if (f->episode[0] != '\0')
		cJSON_AddStringToObject(d, "episode", f->episode);
	if (since >= 0)
		cJSON_AddNumberToObject(d, "since", (double)since);
	text = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	return text;
}

static void stream(struct http_req *r)
{
	struct event_filter f;
	struct opening *o;
	struct actor actor;
	char *detail;
	struct err err;
	char episode[HTTP_PARAM_MAX], since_q[32];
	int64_t since;
	enum status st;

	event_filter_init(&f);
	st = add_all(r, &f, "ward", &err);
	if (st == ST_OK)
		st = add_all(r, &f, "discipline", &err);
	if (st == ST_OK)
		st = add_all(r, &f, "types", &err);
	if (st == ST_OK && http_query(r, "episode", episode, sizeof episode) != NULL)
		st = event_filter_set_episode(&f, episode, &err);
	if (st == ST_OK)
		st = event_filter_authorise(&f, &r->principal, &err);
	since = parse_id(http_header(r, "Last-Event-ID"));
	if (since == -1)
		since = parse_id(http_query(r, "since", since_q, sizeof since_q));
	if (st == ST_OK && since == -2)
		st = err_set(&err, ST_INVALID, "since", "Last-Event-ID must be an event id");
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		return;
	}
	/* HEAD asks for the headers a GET would get, not for a stream held open */
	if (evhttp_request_get_command(r->req) == EVHTTP_REQ_HEAD) {
		http_add_header(r, "Content-Type", "text/event-stream; charset=utf-8");
		http_reply_empty(r, 200);
		return;
	}
	/* the stream carries patient data: audit who opened it, then start it */
	o = xmalloc(sizeof *o);
	o->r = r;
	o->filter = f;
	o->since = since;
	actor_from_req(&actor, r);
	detail = stream_detail(r, &f, since);
	store_audit_stream_open(r->app->db, &actor, f.episode[0] != '\0' ? f.episode : NULL, detail,
	                        audited, o);
	cJSON_free(detail);
}

const struct route stream_routes[] = {
    ROUTE(EVHTTP_REQ_GET, "/api/v1/stream", stream, ACCESS_EVENT_READ, ROUTE_ID_NONE),
    ROUTE_END,
};

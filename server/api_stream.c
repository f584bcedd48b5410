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

#include "api.h"
#include "app.h"
#include "event_filter.h"
#include "hub.h"

#define STREAM_MAX_VALUES 32

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

static void stream(struct http_req *r)
{
	struct event_filter f;
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
	hub_subscribe(r->app->hub, r, &f, since);
}

const struct route stream_routes[] = {
    {EVHTTP_REQ_GET, "/api/v1/stream", stream, 0},
    {0, NULL, NULL, 0},
};

/*
 * api_static.c - the web pages, served from the files embedded in the binary
 * (server/static/, see embedded.h).
 *
 *   GET /               302 to /login (the login page forwards a signed-in user home)
 *   GET /login          sign in
 *   GET /ward           ward board (nurse; OT and physio read every ward)
 *   GET /queue          social-work queue
 *   GET /dashboard      bed managers' delayed-discharge dashboard
 *   GET /hub            the care transfer hub's and partners' referrals (issue 15)
 *   GET /static/{file}  the pages' scripts and style sheets
 *
 * Every route here is public: the pages carry no data, and every data call
 * they make goes through /api/v1 with the session cookie.  Pages are sent
 * with a strict Content-Security-Policy (no inline script or style) and
 * revalidated on every load; assets carry a content hash as ETag and a short
 * max-age.  This module owns no state: it must not read the database.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "embedded.h"

#define STATIC_PREFIX "server/static/"
#define STATIC_ASSET_MAX_AGE "public, max-age=300"

static const char STATIC_CSP[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self';"
    " img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/* Content types by file name extension; the last entry is the default. */
static const struct {
	const char *ext;  /* ".css", ... */
	const char *type; /* its Content-Type */
} static_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {NULL, "application/octet-stream"},
};

/* The embedded file server/static/<name>, or NULL. */
static const struct embedded_file *static_find(const char *name)
{
	size_t plen = strlen(STATIC_PREFIX);

	/* {file} is one path segment, so no "/" can reach here; refuse dot files too */
	if (name[0] == '.' || strchr(name, '/') != NULL)
		return NULL;
	for (const struct embedded_file *f = embedded_files; f->path != NULL; f++) {
		if (strncmp(f->path, STATIC_PREFIX, plen) == 0 && strcmp(f->path + plen, name) == 0)
			return f;
	}
	return NULL;
}

static const char *static_type(const char *name)
{
	size_t n = strlen(name), i;

	for (i = 0; static_types[i].ext != NULL; i++) {
		size_t e = strlen(static_types[i].ext);

		if (n > e && strcmp(name + n - e, static_types[i].ext) == 0)
			break;
	}
	return static_types[i].type;
}

/* A strong ETag from the content (FNV-1a, 64 bits): it changes with every build that changes it. */
static void static_etag(const struct embedded_file *f, char *buf, size_t size)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < f->len; i++) {
		h ^= f->data[i];
		h *= 1099511628211ULL;
	}
	snprintf(buf, size, "\"%016" PRIx64 "-%zu\"", h, f->len);
}

/* Replace the default "Cache-Control: no-store" that http.c puts on every reply. */
static void static_cache_control(struct http_req *r, const char *value)
{
	evhttp_remove_header(evhttp_request_get_output_headers(r->req), "Cache-Control");
	http_add_header(r, "Cache-Control", value);
}

static void static_not_found(struct http_req *r)
{
	struct err err;

	err_set(&err, ST_NOT_FOUND, NULL, "no such file");
	http_reply_error(r, ST_NOT_FOUND, &err);
}

/* Reply with embedded file name: 304 when the client's copy is current. */
static void static_send(struct http_req *r, const char *name, bool page)
{
	const struct embedded_file *f = static_find(name);
	const char *inm;
	char etag[48];

	if (f == NULL) {
		static_not_found(r);
		return;
	}
	static_etag(f, etag, sizeof etag);
	http_add_header(r, "ETag", etag);
	if (page) {
		/* pages: always revalidate, never framed, never leak the path elsewhere */
		static_cache_control(r, "no-cache");
		http_add_header(r, "Content-Security-Policy", STATIC_CSP);
		http_add_header(r, "X-Frame-Options", "DENY");
	} else {
		static_cache_control(r, STATIC_ASSET_MAX_AGE);
	}
	http_add_header(r, "Referrer-Policy", "no-referrer");
	inm = http_header(r, "If-None-Match");
	if (inm != NULL && strstr(inm, etag) != NULL) {
		http_reply_empty(r, 304);
		return;
	}
	http_reply_data(r, 200, static_type(name), f->data, f->len);
}

static void static_root(struct http_req *r)
{
	static_cache_control(r, "no-cache");
	http_add_header(r, "Location", "/login");
	http_reply_empty(r, 302);
}

static void static_login(struct http_req *r)
{
	static_send(r, "login.html", true);
}

static void static_ward(struct http_req *r)
{
	static_send(r, "ward.html", true);
}

static void static_queue(struct http_req *r)
{
	static_send(r, "queue.html", true);
}

static void static_dashboard(struct http_req *r)
{
	static_send(r, "dashboard.html", true);
}

static void static_hub(struct http_req *r)
{
	static_send(r, "hub.html", true);
}

static void static_asset(struct http_req *r)
{
	size_t n = strlen(r->params[0]);

	/* pages are only served at their own paths, with their CSP */
	if (n > 5 && strcmp(r->params[0] + n - 5, ".html") == 0) {
		static_not_found(r);
		return;
	}
	static_send(r, r->params[0], false);
}

const struct route static_routes[] = {
    ROUTE_OPEN(EVHTTP_REQ_GET, "/", static_root, ROUTE_ID_NONE),
    ROUTE_OPEN(EVHTTP_REQ_GET, "/login", static_login, ROUTE_ID_NONE),
    ROUTE_OPEN(EVHTTP_REQ_GET, "/ward", static_ward, ROUTE_ID_NONE),
    ROUTE_OPEN(EVHTTP_REQ_GET, "/queue", static_queue, ROUTE_ID_NONE),
    ROUTE_OPEN(EVHTTP_REQ_GET, "/dashboard", static_dashboard, ROUTE_ID_NONE),
    ROUTE_OPEN(EVHTTP_REQ_GET, "/hub", static_hub, ROUTE_ID_NONE),
    ROUTE_OPEN(EVHTTP_REQ_GET, "/static/{file}", static_asset, ROUTE_ID_FILE),
    ROUTE_END,
};

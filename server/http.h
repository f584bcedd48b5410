/*
 * http.h - the HTTP server: limits, routing, JSON replies and errors.
 *
 * Routes are tables of data (struct route) registered by the api_*.c modules.
 * http.c answers 404 for unknown paths and 405 with Allow for known paths with
 * the wrong method, parses {param} segments before any handler runs, and is
 * the only place a status becomes an HTTP code and a JSON error body:
 *
 *   {"error": {"code": "invalid", "message": "...", "field": "..."}}
 *
 * A handler must finish its request exactly once with http_reply_*(), now or
 * later from a callback (the client may have gone: replying is still right,
 * libevent then just frees the request).
 */
#ifndef CB_HTTP_H
#define CB_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <event2/http.h>

#include "access.h"
#include "log.h"
#include "status.h"

struct app;
struct http;
struct http_req;

typedef void route_handler(struct http_req *r);

/*
 * What a route's {param} names.  http.c checks the value's form before the
 * handler runs (a UUID, a code) and answers 404 "<what> not found" naming
 * the parameter otherwise, since a malformed id names nothing.  The kinds
 * marked "ward-scoped" name a patient's record: the route's action depends on
 * that record's ward, so the handler must load it and call http_access()
 * before any 2xx reply (http.c refuses to send one otherwise).
 */
enum route_id {
	ROUTE_ID_NONE,       /* no {param} */
	ROUTE_ID_EPISODE,    /* an episode's UUID; ward-scoped */
	ROUTE_ID_TASK,       /* a task's UUID; ward-scoped (and discipline) */
	ROUTE_ID_ASSESSMENT, /* an assessment's UUID; ward-scoped */
	ROUTE_ID_TEMPLATE,   /* a task template's UUID */
	ROUTE_ID_USER,       /* a user's UUID */
	ROUTE_ID_WEBHOOK,    /* a webhook's UUID */
	ROUTE_ID_WARD,       /* a ward code */
	ROUTE_ID_PAS_CODE,   /* a PAS point-of-care code (HL7 ward map) */
	ROUTE_ID_FILE,       /* a static file name (public routes) */
	ROUTE_ID_BARRIER,    /* a barrier's UUID; ward-scoped */
	ROUTE_ID_DATE,       /* a date "YYYY-MM-DD": the handler checks it (400 naming it) */
	ROUTE_ID_REFERRAL,   /* a referral's UUID; ward-scoped (and organisation) */
	ROUTE_ID_ORG,        /* an organisation's UUID */
	ROUTE_ID_PATIENT,    /* a patient's UUID (FHIR Patient); ward-scoped: its episodes' wards */
	ROUTE_ID_FHIR_TASK,  /* a FHIR Task id: a task's UUID or "referral-<referral UUID>" */
};

#define ROUTE_PUBLIC 0x1   /* no authentication (health checks, sign-in, pages) */
#define ROUTE_DECLARED 0x2 /* authenticated; action and id kind declared */

/*
 * One row of a route table.  Write rows with ROUTE() or ROUTE_OPEN() only:
 * their arity makes a row without an access declaration a compile error, and
 * http_add_routes() refuses (at start-up) a row that is neither.
 */
struct route {
	unsigned methods;          /* EVHTTP_REQ_GET | ... */
	const char *pattern;       /* "/api/v1/tasks/{id}": {name} matches one segment */
	route_handler *handler;    /* called with params parsed, after the checks below */
	unsigned flags;            /* ROUTE_PUBLIC or ROUTE_DECLARED */
	enum access_action action; /* what the route does (ROUTE_DECLARED only) */
	enum route_id id;          /* what its {param} names */
};

/*
 * An authenticated route: http.c authenticates, refuses (403) a role that may
 * never perform action (access_role_may), checks the {param}'s form, then
 * calls handler.
 */
#define ROUTE(methods, pattern, handler, action, id)                                               \
	{                                                                                          \
		(methods), (pattern), (handler), ROUTE_DECLARED, (action), (id)                    \
	}

/* A public route: no authentication, no access check (id: its {param}'s kind). */
#define ROUTE_OPEN(methods, pattern, handler, id)                                                  \
	{                                                                                          \
		(methods), (pattern), (handler), ROUTE_PUBLIC, ACCESS_EPISODE_READ, (id)           \
	}

/* The end of a route table. */
#define ROUTE_END                                                                                  \
	{                                                                                          \
		0, NULL, NULL, 0, ACCESS_EPISODE_READ, ROUTE_ID_NONE                               \
	}

#define HTTP_MAX_PARAMS 4
#define HTTP_PARAM_MAX 128
/*
 * A query parameter's value is at most HTTP_PARAM_MAX - 1 bytes (decoded) and
 * one name is given at most HTTP_QUERY_REPEAT_MAX times; http.c answers 400
 * naming the parameter otherwise, so handlers never see a value cut short or
 * a list with values left out.
 */
#define HTTP_QUERY_REPEAT_MAX 64

struct http_req {
	struct app *app;                              /* the process */
	struct evhttp_request *req;                   /* owned by libevent until the reply */
	const struct route *route;                    /* matched route, NULL while routing */
	const char *method;                           /* "GET", ... (static) */
	char params[HTTP_MAX_PARAMS][HTTP_PARAM_MAX]; /* {param} values in pattern order */
	int nparams;                                  /* how many */
	char id[37];                          /* this request's UUID: the audit rows' request_id */
	char request_id[LOG_REQUEST_ID_SIZE]; /* X-Request-Id and the logs' request id (see http.c)
	                                       */
	int64_t started_us;                   /* monotonic start, for latency */
	void *data;                           /* the handler's own state */
	bool authenticated;                   /* principal is valid */
	struct principal principal;           /* who is acting (wards point into ward_buf) */
	char org_code[33];                    /* the principal's organisation's code (for "me") */
	char org_name[201];                   /* its name */
	char org_kind[16];                    /* its kind */
	char *ward_buf;                       /* owned: the principal's ward codes */
	const char **ward_ptrs;               /* owned: pointers into ward_buf */
	char token_id[37];                    /* the token or session used */
	bool access_checked;     /* http_access() allowed the route's action on a target */
	bool via_session;        /* authenticated by the session cookie */
	uint64_t auth_gen;       /* listen_auth_generation the token was checked under */
	int64_t auth_expires_ms; /* monotonic ms the token expires at; -1: never */
};

/*
 * Whether r's principal may perform r's route's declared action on target t
 * (access_check()); marks r as checked when allowed.  Handlers of routes with
 * a ward-scoped {id} call this once they have loaded the record.  Returns
 * ST_OK, or ST_FORBIDDEN with the reason in err.
 */
enum status http_access(struct http_req *r, const struct access_target *t, struct err *err);

/*
 * Run r's matched route (after authentication, for a ROUTE_DECLARED one):
 * refuse with 403 a role that may never perform its action, refuse with 404
 * a {param} not of its declared form, else call its handler.
 */
void http_route_run(struct http_req *r);

/*
 * The route tables (ending with NULL) as a JSON array, one object per method
 * and pattern: {"method", "pattern", "action" (null if public), "public",
 * "id", "ward_scoped"}.  Caller owns the result.
 */
cJSON *http_routes_to_json(const struct route *const *tables);

/* Create the server on app->base, bound per app->cfg; NULL and a log line on failure. */
struct http *http_new(struct app *app);

/* Register a table of routes ending with a zeroed entry (pattern NULL). */
void http_add_routes(struct http *h, const struct route *routes);

/* The port actually bound (useful with listen_port = 0). */
int http_port(const struct http *h);

/* Stop accepting new connections (graceful shutdown begins). */
void http_stop_accepting(struct http *h);

/* Requests received and not yet replied to. */
int http_inflight(const struct http *h);

/*
 * Called every second: close connections whose request (request line,
 * headers and body) has been arriving for longer than http_header_timeout,
 * and forget those libevent has freed.
 */
void http_tick(struct http *h);

/* Close every connection and free the server. */
void http_free(struct http *h);

/* Reply with a JSON body (taking ownership of body) and the given status. */
void http_reply_json(struct http_req *r, int code, cJSON *body);

/* Reply with the JSON error body for st (and err's field and message). */
void http_reply_error(struct http_req *r, enum status st, const struct err *err);

/* Reply with an arbitrary body and content type (borrowed data, copied). */
void http_reply_data(struct http_req *r, int code, const char *content_type, const void *data,
                     size_t len);

/* Reply 410 Gone with the JSON error body (code "gone") saying what replaced the route. */
void http_reply_gone(struct http_req *r, const char *message);

/* Reply 204 No Content. */
void http_reply_empty(struct http_req *r, int code);

/*
 * Parse the request body as a JSON object into *out (caller frees with
 * cJSON_Delete).  ST_TOO_LARGE over max_body_size, ST_INVALID for a missing,
 * malformed or non-object body, and for text json_body_parse refuses (invalid
 * UTF-8, a NUL byte raw or as \u0000, bytes after the object).
 */
enum status http_body_json(struct http_req *r, cJSON **out, struct err *err);

/* The value of a query parameter (decoded, copied into buf), or NULL if absent. */
const char *http_query(struct http_req *r, const char *name, char *buf, size_t size);

/*
 * Every query parameter of r in query order, decoded (a name longer than
 * HTTP_PARAM_MAX - 1 bytes is cut): how many, or -1 when there are more
 * than max.
 */
int http_query_params(struct http_req *r, char (*names)[HTTP_PARAM_MAX],
                      char (*values)[HTTP_PARAM_MAX], int max);

/*
 * Whether r is a request of the FHIR facade (its path starts "/fhir/"):
 * http_reply_error() and the router's own refusals then answer with a FHIR
 * OperationOutcome (application/fhir+json) instead of the JSON error body.
 */
bool http_is_fhir(const struct http_req *r);

/* Reply with a FHIR resource (taking ownership of body) as application/fhir+json. */
void http_reply_fhir(struct http_req *r, int code, cJSON *body);

/* The value of a request header, or NULL. */
const char *http_header(struct http_req *r, const char *name);

/* Add a response header before replying. */
void http_add_header(struct http_req *r, const char *name, const char *value);

/* The (raw) value of every occurrence of a query parameter; returns how many (at most max). */
int http_query_all(struct http_req *r, const char *name, char out[][HTTP_PARAM_MAX], int max);

/*
 * Start a streaming reply (200, chunked) with content_type; r is counted as
 * done and freed, the request now belongs to the caller until
 * evhttp_send_reply_end or the connection closes.
 */
struct evhttp_request *http_stream_start(struct http_req *r, const char *content_type);

/* Reply with a complete JSON body given as text (copied). */
void http_reply_json_text(struct http_req *r, int code, const char *json);

/* Add ETag: "<version>". */
void http_add_etag(struct http_req *r, int version);

/*
 * Reply as http_reply_json_text, with ETag: "<n>" where n is the JSON
 * object's top-level "version" (no ETag if it has none).
 */
void http_reply_json_versioned(struct http_req *r, int code, const char *json);

/*
 * Completions of the shape store_json_cb with arg = the struct http_req:
 * reply 200 (http_json_ok) or 201 (http_json_created) with the JSON text, or
 * the error body for st.
 */
void http_json_ok(enum status st, const struct err *err, const char *json, void *arg);
void http_json_created(enum status st, const struct err *err, const char *json, void *arg);

/*
 * The version an If-Match header asks for: "3", "\"3\"" or W/"3" into
 * *version, -1 when there is none.  ST_INVALID naming the header when it is
 * malformed.
 */
enum status http_if_match(struct http_req *r, int *version, struct err *err);

/* An optional integer query parameter within min..max (def when absent). */
enum status http_query_int(struct http_req *r, const char *name, int def, int min, int max,
                           int *out, struct err *err);

/* An optional boolean query parameter ("true"/"false"/"1"/"0"): -1 absent, 0, 1. */
enum status http_query_bool(struct http_req *r, const char *name, int *out, struct err *err);

/*
 * The origin browsers reach us at: public_origin, or, when that is empty
 * (allowed only on a loopback listen_addr), http://listen_addr:port with the
 * port actually bound.  Returns public_origin or buf.
 */
const char *http_public_origin(const struct http *h, char *buf, size_t size);

/* HTTP status code for a status. */
int http_code_for(enum status st);

#endif

/*
 * api_reference.c - reference lists as versioned data.
 *
 *   GET  /api/v1/reference/lists                    every list (no items)
 *   GET  /api/v1/reference/delay-reasons[?list=N]   a delay-reason list (the default one)
 *   GET  /api/v1/reference/criteria[?list=N]        a criteria-to-reside list (the default)
 *   POST /api/v1/reference/delay-reasons            import a new list (admin), audited
 */
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "api.h"
#include "app.h"
#include "reference.h"
#include "store_reference.h"
#include "xmalloc.h"

static void reference_get(struct http_req *r, const char *kind)
{
	char name[HTTP_PARAM_MAX];
	const char *n = http_query(r, "list", name, sizeof name);
	struct err err;

	if (n != NULL && !reference_name_is_valid(n)) {
		err_set(&err, ST_INVALID, "list", "\"list\" is not a reference list name");
		http_reply_error(r, ST_INVALID, &err);
		return;
	}
	store_reference_get(r->app->db, kind, n, http_json_ok, r);
}

static void delay_reasons_get(struct http_req *r)
{
	reference_get(r, "delay_reason");
}

static void criteria_get(struct http_req *r)
{
	reference_get(r, "criterion");
}

static void lists_get(struct http_req *r)
{
	store_reference_lists(r->app->db, http_json_ok, r);
}

static void delay_reasons_post(struct http_req *r)
{
	struct reference_import imp;
	struct actor actor;
	struct err err;
	cJSON *body = NULL;
	enum status st;

	memset(&imp, 0, sizeof imp);
	st = http_body_json(r, &body, &err);
	if (st == ST_OK)
		st = reference_import_from_json(body, &imp, &err);
	cJSON_Delete(body);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		return;
	}
	actor_from_req(&actor, r);
	store_reference_import(r->app->db, &imp, &actor, http_json_created, r);
	reference_import_reset(&imp);
}

const struct route reference_routes[] = {
    ROUTE(EVHTTP_REQ_GET, "/api/v1/reference/lists", lists_get, ACCESS_REFERENCE_READ,
          ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/reference/delay-reasons", delay_reasons_get,
          ACCESS_REFERENCE_READ, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/reference/delay-reasons", delay_reasons_post,
          ACCESS_REFERENCE_MANAGE, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/reference/criteria", criteria_get, ACCESS_REFERENCE_READ,
          ROUTE_ID_NONE),
    ROUTE_END,
};

/*
 * api_rota.c - the on-call rota (issue 17), for administrators.
 *
 *   GET  /api/v1/rota    the shifts not yet over, or ?at=<RFC 3339> those on duty then
 *   POST /api/v1/rota    add one {site, role, user_id, starts_at, ends_at} (UTC instants)
 *
 * A chase's target goes to whoever the rota has on duty at that instant,
 * else to everyone who fits it (migration 0037, cb_target_users).  Bulk
 * shifts in local time come from `carebridge rota import`.
 */
#include <stdio.h>
#include <string.h>

#include <event2/http.h>

#include "access.h"
#include "admission.h"
#include "api.h"
#include "app.h"
#include "cbtime.h"
#include "json.h"
#include "rota.h"
#include "store_rota.h"

static const char *const rota_fields[] = {"site", "role", "user_id", "starts_at", "ends_at", NULL};

static void rota_list(struct http_req *r)
{
	char buf[64];
	const char *at = http_query(r, "at", buf, sizeof buf);
	int64_t t = 0;
	struct err err;

	if (at != NULL && time_parse(at, &t, "at", &err) != ST_OK) {
		http_reply_error(r, ST_INVALID, &err);
		return;
	}
	store_rota_list(r->app->db, t, app_now(r->app), http_json_ok, r);
}

static void rota_post(struct http_req *r)
{
	struct rota_entry e = {0};
	struct actor actor;
	struct err err;
	cJSON *b = NULL;
	enum status st;

	st = http_body_json(r, &b, &err);
	if (st == ST_OK)
		st = json_only_keys(b, rota_fields, &err);
	if (st == ST_OK)
		st = json_get_string(b, "site", true, e.site, sizeof e.site, &err);
	if (st == ST_OK)
		st = json_get_string(b, "role", true, e.role, sizeof e.role, &err);
	if (st == ST_OK)
		st = json_get_string(b, "user_id", true, e.user, sizeof e.user, &err);
	if (st == ST_OK && !text_is_uuid(e.user))
		st = err_set(&err, ST_INVALID, "user_id", "\"user_id\" must be a UUID");
	if (st == ST_OK)
		st = json_get_time(b, "starts_at", true, &e.starts_at, NULL, &err);
	if (st == ST_OK)
		st = json_get_time(b, "ends_at", true, &e.ends_at, NULL, &err);
	if (st == ST_OK) {
		st = rota_entry_check(&e, &err);
		if (st != ST_OK && strcmp(err.field, "end") == 0)
			snprintf(err.field, sizeof err.field, "ends_at");
	}
	cJSON_Delete(b);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		return;
	}
	actor_from_req(&actor, r);
	store_rota_add(r->app->db, &e, &actor, http_json_created, r);
}

const struct route rota_routes[] = {
    ROUTE(EVHTTP_REQ_GET, "/api/v1/rota", rota_list, ACCESS_USER_MANAGE, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/rota", rota_post, ACCESS_USER_MANAGE, ROUTE_ID_NONE),
    ROUTE_END,
};

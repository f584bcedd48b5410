/*
 * api_involvement.c - the involvement of the patient, family or unpaid carer
 * in discharge planning (issue 15).
 *
 *   POST /api/v1/episodes/{id}/involvements  {"who", "name", "discussed_at", "agreed", "note"}
 *   GET  /api/v1/episodes/{id}/involvements  the episode's records, latest conversation first
 *
 * Thin handlers: parse with lib/involvement, read the episode, authorise for
 * its ward, check the time against the stay, then one store call.  Records
 * are only added, never changed, so there is no version to race on.
 */
#include <stdlib.h>

#include "access.h"
#include "api.h"
#include "app.h"
#include "involvement.h"
#include "store_involvement.h"
#include "xmalloc.h"

struct involvement_post {
	struct http_req *r;    /* the request */
	struct involvement in; /* the validated body */
};

static void record_done(enum status st, const struct err *err, const char *json, void *arg)
{
	struct involvement_post *p = arg;

	if (st != ST_OK)
		http_reply_error(p->r, st, err);
	else
		http_reply_json_text(p->r, 201, json);
	free(p);
}

static void context_got(enum status st, const struct involvement_context *ctx, void *arg)
{
	struct involvement_post *p = arg;
	struct access_target t = {.ward = NULL, .discipline = NULL};
	struct actor actor;
	struct err err;

	err_clear(&err);
	if (st == ST_NOT_FOUND)
		err_set(&err, st, NULL, "episode not found");
	if (st == ST_OK) {
		t.ward = ctx->ward;
		st = http_access(p->r, &t, &err);
	}
	if (st == ST_OK)
		st = involvement_check_episode(&p->in, &ctx->e, &err);
	if (st != ST_OK) {
		http_reply_error(p->r, st, &err);
		free(p);
		return;
	}
	actor_from_req(&actor, p->r);
	store_involvement_record(p->r->app->db, p->r->params[0], &p->in,
	                         role_name(p->r->principal.role), app_now(p->r->app), &actor,
	                         record_done, p);
}

static void involvements_post(struct http_req *r)
{
	struct involvement_post *p = xcalloc(1, sizeof *p);
	struct err err;
	cJSON *body = NULL;
	enum status st;

	p->r = r;
	st = http_body_json(r, &body, &err);
	if (st == ST_OK)
		st = involvement_parse(body, app_now(r->app), &p->in, &err);
	cJSON_Delete(body);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(p);
		return;
	}
	store_involvement_context(r->app->db, r->params[0], context_got, p);
}

static void list_got(enum status st, const char *ward, const char *json, void *arg)
{
	api_episode_list_reply(arg, st, ward, json, store_involvement_audit_list);
}

static void involvements_get(struct http_req *r)
{
	store_involvement_list(r->app->db, r->params[0], list_got, r);
}

const struct route involvement_routes[] = {
    ROUTE(EVHTTP_REQ_POST, "/api/v1/episodes/{id}/involvements", involvements_post,
          ACCESS_INVOLVEMENT_RECORD, ROUTE_ID_EPISODE),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/episodes/{id}/involvements", involvements_get,
          ACCESS_EPISODE_READ, ROUTE_ID_EPISODE),
    ROUTE_END,
};

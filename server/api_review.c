/*
 * api_review.c - criteria-to-reside reviews (board round).
 *
 *   POST /api/v1/episodes/{id}/reviews   {"outcome", "criteria_met", "decided_at", "note"}
 *   GET  /api/v1/episodes/{id}/reviews   the episode's reviews, newest first
 *
 * Thin handlers: parse with lib/review, read the episode and the criteria in
 * force, authorise for the episode's ward, let lib/review decide what the
 * review does to the discharge ready date, then one store_review call.
 */
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "api.h"
#include "app.h"
#include "cbtime.h"
#include "review.h"
#include "store_review.h"
#include "xmalloc.h"

#define REVIEW_ATTEMPTS 4 /* writes lost to a concurrent episode change, then 412 */

struct review_post {
	struct http_req *r; /* the request */
	struct review rv;   /* the validated body */
	int attempts;       /* writes lost to a concurrent change so far */
};

static void review_context_got(enum status st, const struct review_context *ctx, void *arg);

static void review_done(enum status st, const struct err *err, const char *json, void *arg)
{
	struct review_post *p = arg;

	/* the episode changed between the read and the write: decide again */
	if (st == ST_PRECONDITION && ++p->attempts < REVIEW_ATTEMPTS) {
		store_review_context(p->r->app->db, p->r->params[0],
		                     london_date(app_now(p->r->app)), review_context_got, p);
		return;
	}
	if (st != ST_OK)
		http_reply_error(p->r, st, err);
	else
		http_reply_json_text(p->r, 201, json);
	free(p);
}

/* The episode change a review's readiness decision makes. */
static void change_for(const struct review_context *ctx, const struct review *rv,
                       enum review_ready ready, struct episode_change *c)
{
	memset(c, 0, sizeof *c);
	c->expected_version = ctx->f.version;
	c->event_type = "episode.updated";
	c->audit_action = "episode.review";
	if (ready == REVIEW_READY_SET) {
		c->set_ready = true;
		c->was_ready = false;
		c->ready_at = rv->decided_at;
		c->event_type = "episode.ready";
		c->audit_action = "episode.set_ready";
	} else if (ready == REVIEW_READY_REVERSED) {
		c->clear_ready = true;
		c->event_type = "episode.ready_withdrawn";
		c->audit_action = "episode.clear_ready";
	}
}

static void review_context_got(enum status st, const struct review_context *ctx, void *arg)
{
	struct review_post *p = arg;
	struct access_target t = {.ward = NULL, .discipline = NULL};
	struct review_episode e;
	struct review_write w;
	struct episode_change c;
	struct board_rounds br;
	enum review_ready ready = REVIEW_READY_NONE;
	struct actor actor;
	struct err err;
	int64_t now = app_now(p->r->app);

	err_clear(&err);
	if (st == ST_NOT_FOUND)
		err_set(&err, st, NULL, "episode not found");
	if (st == ST_OK) {
		t.ward = ctx->f.ward;
		st = http_access(p->r, &t, &err);
	}
	if (st == ST_OK && ctx->criteria_list == NULL)
		st = err_set(&err, ST_INTERNAL, NULL, "no criteria-to-reside list is in force");
	if (st == ST_OK)
		st = review_check_criteria(&p->rv, ctx->criteria, ctx->ncriteria, &err);
	if (st == ST_OK) {
		memset(&e, 0, sizeof e);
		e.admitted = strcmp(ctx->f.state, "admitted") == 0;
		e.admitted_at = ctx->f.admitted_at;
		e.ready = ctx->f.ready;
		e.ready_at = ctx->f.ready_at;
		e.last_review_at = ctx->last_review_at;
		st = review_decide(&p->rv, &e, &ready, &err);
	}
	if (st == ST_OK &&
	    board_rounds_parse(p->r->app->cfg->board_round_times, &br, &err) != ST_OK)
		st = ST_INTERNAL;
	if (st != ST_OK) {
		http_reply_error(p->r, st, &err);
		free(p);
		return;
	}
	change_for(ctx, &p->rv, ready, &c);
	w.rv = &p->rv;
	w.ready = ready;
	w.criteria_list = ctx->criteria_list;
	w.reviewer_role = role_name(p->r->principal.role);
	w.now = now;
	w.last_round = board_round_last(&br, now);
	actor_from_req(&actor, p->r);
	store_review_record(p->r->app->db, &ctx->f, &c, &w, &actor, review_done, p);
}

static void reviews_post(struct http_req *r)
{
	struct review_post *p = xcalloc(1, sizeof *p);
	int64_t now = app_now(r->app);
	struct err err;
	cJSON *body = NULL;
	enum status st;

	p->r = r;
	st = http_body_json(r, &body, &err);
	if (st == ST_OK)
		st = review_parse(body, now, &p->rv, &err);
	if (st == ST_OK)
		st = review_check_decided_at(p->rv.decided_at, now, &err);
	cJSON_Delete(body);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(p);
		return;
	}
	store_review_context(r->app->db, r->params[0], london_date(now), review_context_got, p);
}

static void list_got(enum status st, const char *ward, const char *json, void *arg)
{
	api_episode_list_reply(arg, st, ward, json, store_review_audit_list);
}

static void reviews_get(struct http_req *r)
{
	store_review_list(r->app->db, r->params[0], list_got, r);
}

const struct route review_routes[] = {
    ROUTE(EVHTTP_REQ_POST, "/api/v1/episodes/{id}/reviews", reviews_post, ACCESS_REVIEW_RECORD,
          ROUTE_ID_EPISODE),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/episodes/{id}/reviews", reviews_get, ACCESS_EPISODE_READ,
          ROUTE_ID_EPISODE),
    ROUTE_END,
};

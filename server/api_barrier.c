/*
 * api_barrier.c - barriers to discharge.
 *
 *   POST  /api/v1/episodes/{id}/barriers  {"reason", "owner", "note", "primary", "opened_at"}
 *   GET   /api/v1/episodes/{id}/barriers  the episode's barriers with their history
 *   PATCH /api/v1/barriers/{id}           {"reason", "owner", "note", "primary": true,
 *                                          "closed": true}; If-Match: version
 *
 * Thin handlers: parse with lib/barrier, read the episode's open barriers and
 * the reasons in force, authorise for the episode's ward, let lib/barrier
 * decide when a new barrier opens (a backdated one never before the
 * episode's latest barrier history row) and which barrier is primary after
 * the change, taken as at that instant, then one
 * store_barrier_write.  A write that lost a race with another barrier change
 * of the same episode (barrier_seq guard) is decided again from a fresh read;
 * an If-Match that no longer holds then answers 412.
 */
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "api.h"
#include "app.h"
#include "barrier.h"
#include "cbtime.h"
#include "store_barrier.h"
#include "xmalloc.h"

#define BARRIER_ATTEMPTS 4 /* writes lost to a concurrent barrier change, then 412 */

struct barrier_req {
	struct http_req *r;      /* the request */
	struct barrier_input in; /* the validated body */
	bool create;             /* POST (else PATCH) */
	char new_id[37];         /* the new barrier's id (POST) */
	int if_match;            /* -1 when no If-Match */
	int attempts;            /* writes lost to a concurrent change so far */
};

static void context_got(enum status st, const struct barrier_context *ctx, void *arg);

static void reread(struct barrier_req *b)
{
	store_barrier_context(b->r->app->db, b->r->params[0], !b->create,
	                      london_date(app_now(b->r->app)), context_got, b);
}

static void write_done(enum status st, const struct err *err, const char *json, void *arg)
{
	struct barrier_req *b = arg;

	if (st == ST_PRECONDITION && ++b->attempts < BARRIER_ATTEMPTS) {
		reread(b);
		return;
	}
	if (st != ST_OK)
		http_reply_error(b->r, st, err);
	else
		http_reply_json_versioned(b->r, b->create ? 201 : 200, json);
	free(b);
}

/* The index of the primary among ctx's open barriers, -1 if none. */
static int current_primary(const struct barrier_open *open, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (open[i].primary)
			return (int)i;
	return -1;
}

/* Check and decide; fill *w (pointing into ctx and b). */
static enum status decide(struct barrier_req *b, const struct barrier_context *ctx,
                          struct barrier_write *w, struct err *err)
{
	struct barrier_open *open = ctx->open;
	struct barrier_times times = {app_now(b->r->app), ctx->admitted_at, ctx->latest_history};
	int64_t at = times.now;
	size_t n = ctx->nopen, target = 0;
	int cur, idx;
	enum status st;

	memset(w, 0, sizeof *w);
	if (b->in.has_reason) {
		if (ctx->reason_list == NULL)
			return err_set(err, ST_INTERNAL, NULL, "no delay-reason list is in force");
		st = barrier_check_reason(b->in.reason, ctx->reason_list, ctx->reasons,
		                          ctx->nreasons, err);
		if (st != ST_OK)
			return st;
	}
	cur = current_primary(open, n);
	if (b->create) {
		if (!ctx->admitted)
			return err_set(err, ST_CONFLICT, NULL,
			               "episode is not an inpatient: barriers are recorded while "
			               "the patient is admitted");
		st = barrier_opened_at(&b->in, &times, &at, err);
		if (st != ST_OK)
			return st;
		/* ctx->open has one spare entry for the new barrier */
		open[n].id = b->new_id;
		open[n].opened_at = at;
		open[n].primary = false;
		target = n++;
		w->create = true;
		w->id = b->new_id;
		w->reason_changed = true;
		w->event_type = "barrier.opened";
		w->audit_action = "barrier.open";
	} else {
		st = barrier_check_change(ctx->target_closed, b->r->params[0], err);
		if (st != ST_OK)
			return st;
		if (b->if_match >= 0 && b->if_match != ctx->target_version)
			return err_set(err, ST_PRECONDITION, NULL,
			               "barrier is at version %d, not %d: reload it and try again",
			               ctx->target_version, b->if_match);
		while (target < n && strcmp(open[target].id, b->r->params[0]) != 0)
			target++;
		if (target == n) /* closed between the statements of the read */
			return err_set(err, ST_CONFLICT, NULL,
			               "barrier \"%s\" was closed meanwhile: reload it",
			               b->r->params[0]);
		w->id = b->r->params[0];
		w->version = ctx->target_version;
		w->before_json = ctx->target_json;
		w->reason_changed =
		    b->in.has_reason && (strcmp(ctx->reason_list, ctx->target_reason_list) != 0 ||
		                         strcmp(b->in.reason, ctx->target_reason) != 0);
		if (b->in.close) {
			w->event_type = "barrier.closed";
			w->audit_action = "barrier.close";
		} else {
			w->event_type = "barrier.updated";
			w->audit_action = "barrier.update";
		}
	}
	idx = barrier_primary_after(open, n, target, b->in.make_primary, b->in.close);
	w->episode_id = ctx->episode_id;
	w->seq = ctx->seq;
	w->in = &b->in;
	w->reason_list = ctx->reason_list;
	w->primary = idx == (int)target;
	if (cur >= 0 && cur != (int)target && idx != cur)
		w->demote_id = open[cur].id;
	if (idx >= 0 && idx != (int)target && idx != cur)
		w->promote_id = open[idx].id;
	w->primary_changed = idx != cur;
	w->new_primary = idx >= 0 ? open[idx].id : NULL;
	w->at = at;
	return ST_OK;
}

static void context_got(enum status st, const struct barrier_context *ctx, void *arg)
{
	struct barrier_req *b = arg;
	struct access_target t = {.ward = NULL, .discipline = NULL};
	struct barrier_write w;
	struct actor actor;
	struct err err;

	err_clear(&err);
	if (st == ST_NOT_FOUND)
		err_set(&err, st, NULL, b->create ? "episode not found" : "barrier not found");
	if (st == ST_OK) {
		t.ward = ctx->ward;
		st = http_access(b->r, &t, &err);
	}
	if (st == ST_OK)
		st = decide(b, ctx, &w, &err);
	if (st != ST_OK) {
		http_reply_error(b->r, st, &err);
		free(b);
		return;
	}
	actor_from_req(&actor, b->r);
	store_barrier_write(b->r->app->db, &w, &actor, write_done, b);
}

static void barrier_start(struct http_req *r, bool create)
{
	struct barrier_req *b = xcalloc(1, sizeof *b);
	struct err err;
	cJSON *body = NULL;
	enum status st;

	b->r = r;
	b->create = create;
	b->if_match = -1;
	st = http_body_json(r, &body, &err);
	if (st == ST_OK)
		st = create ? barrier_parse_create(body, &b->in, &err)
		            : barrier_parse_patch(body, &b->in, &err);
	if (st == ST_OK && !create)
		st = http_if_match(r, &b->if_match, &err);
	cJSON_Delete(body);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(b);
		return;
	}
	if (create)
		store_new_id(b->new_id);
	reread(b);
}

static void barriers_post(struct http_req *r)
{
	barrier_start(r, true);
}

static void barrier_patch(struct http_req *r)
{
	barrier_start(r, false);
}

static void list_got(enum status st, const char *ward, const char *json, void *arg)
{
	api_episode_list_reply(arg, st, ward, json, store_barrier_audit_list);
}

static void barriers_get(struct http_req *r)
{
	store_barrier_list(r->app->db, r->params[0], list_got, r);
}

const struct route barrier_routes[] = {
    ROUTE(EVHTTP_REQ_POST, "/api/v1/episodes/{id}/barriers", barriers_post, ACCESS_BARRIER_RECORD,
          ROUTE_ID_EPISODE),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/episodes/{id}/barriers", barriers_get, ACCESS_EPISODE_READ,
          ROUTE_ID_EPISODE),
    ROUTE(EVHTTP_REQ_PATCH, "/api/v1/barriers/{id}", barrier_patch, ACCESS_BARRIER_RECORD,
          ROUTE_ID_BARRIER),
    ROUTE_END,
};

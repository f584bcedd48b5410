/*
 * api_delay.c - delay reasons (the delays report is in api_report.c).
 *
 *   PUT /api/v1/episodes/{id}/delay   {"reason_code", "attribution"} on the open delay
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "admission.h"
#include "api.h"
#include "app.h"
#include "cbtime.h"
#include "delay.h"
#include "json.h"
#include "store_delay.h"
#include "xmalloc.h"

struct delay_put {
	struct http_req *r;   /* the request */
	char reason[8];       /* validated */
	char attribution[16]; /* validated */
	int if_match;         /* -1 when absent */
};

static void delay_set_done(enum status st, const struct err *err, const char *json, void *arg)
{
	struct delay_put *d = arg;

	if (st != ST_OK)
		http_reply_error(d->r, st, err);
	else
		http_reply_json_versioned(d->r, 200, json);
	free(d);
}

static void delay_got(enum status st, const struct delay_facts *f, void *arg)
{
	struct delay_put *d = arg;
	struct access_target t = {NULL, NULL};
	struct actor actor;
	struct err err;

	err_clear(&err);
	if (st == ST_NOT_FOUND)
		err_set(&err, st, NULL, "episode not found");
	if (st == ST_OK) {
		t.ward = f->ward;
		st = http_access(d->r, &t, &err);
	}
	if (st == ST_OK && f->delay_id[0] == '\0')
		st = err_set(&err, ST_CONFLICT, NULL,
		             "episode has no open delay: a delay opens at the first midnight the "
		             "patient is ready and still in a bed");
	if (st == ST_OK && d->if_match >= 0 && d->if_match != f->version)
		st = err_set(&err, ST_PRECONDITION, NULL,
		             "delay is at version %d, not %d: reload it and try again", f->version,
		             d->if_match);
	if (st != ST_OK) {
		http_reply_error(d->r, st, &err);
		free(d);
		return;
	}
	actor_from_req(&actor, d->r);
	store_delay_set(d->r->app->db, d->r->params[0], f, d->reason, d->attribution, &actor,
	                delay_set_done, d);
}

static const char *const delay_fields[] = {"reason_code", "attribution", NULL};

static void delay_put(struct http_req *r)
{
	struct delay_put *d;
	struct err err;
	cJSON *body = NULL;
	enum status st;

	d = xcalloc(1, sizeof *d);
	d->r = r;
	st = http_body_json(r, &body, &err);
	if (st == ST_OK)
		st = json_only_keys(body, delay_fields, &err);
	if (st == ST_OK)
		st = json_get_string(body, "reason_code", true, d->reason, sizeof d->reason, &err);
	if (st == ST_OK)
		st = json_get_string(body, "attribution", true, d->attribution,
		                     sizeof d->attribution, &err);
	if (st == ST_OK)
		st = delay_reason_validate(d->reason, d->attribution, &err);
	if (st == ST_OK)
		st = http_if_match(r, &d->if_match, &err);
	cJSON_Delete(body);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(d);
		return;
	}
	store_delay_get(r->app->db, r->params[0], delay_got, d);
}

const struct route delay_routes[] = {
    ROUTE(EVHTTP_REQ_PUT, "/api/v1/episodes/{id}/delay", delay_put, ACCESS_DELAY_SET,
          ROUTE_ID_EPISODE),
    ROUTE_END,
};

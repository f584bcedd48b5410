/*
 * api_episode.c - admissions and episodes.
 *
 *   POST  /api/v1/admissions                 admit: patient, episode, referral, tasks
 *   GET   /api/v1/episodes                   list (ward, state, ready, delayed, limit, offset)
 *   GET   /api/v1/episodes/{id}              one episode with patient, tasks, referral, delay
 *   PATCH /api/v1/episodes/{id}              expected discharge date, pathway, bed, ready_at
 *   POST  /api/v1/episodes/{id}/transfer     {ward, bed}
 *   POST  /api/v1/episodes/{id}/discharge    {pathway, discharged_at, destination,
 *                                             destination_note}
 *
 * Thin handlers: parse and validate with lib/, authorise with lib/access,
 * decide the state move with lib/episode, then one store_episode call.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "admission.h"
#include "api.h"
#include "app.h"
#include "cbtime.h"
#include "destination.h"
#include "episode.h"
#include "json.h"
#include "store_episode.h"
#include "xmalloc.h"

struct admit {
	struct http_req *r;   /* the request */
	struct admission adm; /* the validated body */
};

/* A duplicate admission: where the patient already is, for a caller who may see that ward. */
struct dup {
	struct http_req *r;
	char id[37];
	char ward[33];
	char bed[64];
};

static void dup_reply(struct http_req *r, const char *ward, const char *bed, const char *id)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(root, "error");
	char msg[256];

	cJSON_AddStringToObject(e, "code", status_code(ST_CONFLICT));
	if (ward != NULL) {
		snprintf(msg, sizeof msg, "this patient already has an open episode: ward %s, %s%s",
		         ward, bed[0] != '\0' ? "bed " : "no bed", bed);
		cJSON_AddStringToObject(e, "message", msg);
	} else {
		cJSON_AddStringToObject(
		    e, "message",
		    "this patient already has an open episode, on a ward you cannot see");
	}
	cJSON_AddStringToObject(e, "field", "nhs_number");
	if (ward != NULL) {
		cJSON *where = cJSON_AddObjectToObject(e, "admitted");

		cJSON_AddStringToObject(where, "episode_id", id);
		cJSON_AddStringToObject(where, "ward", ward);
		if (bed[0] != '\0')
			cJSON_AddStringToObject(where, "bed", bed);
		else
			cJSON_AddNullToObject(where, "bed");
	}
	http_reply_json(r, 409, root);
}

static void dup_audited(enum status st, const struct err *err, const char *json, void *arg)
{
	struct dup *d = arg;

	if (st != ST_OK)
		http_reply_error(d->r, st, err);
	else
		dup_reply(d->r, d->ward, d->bed, d->id);
	free(d);
}

/*
 * The patient's open episode: its ward and bed are told (and the telling
 * audited as a read) only to a caller who may read that ward.
 */
static void dup_found(enum status st, const struct episode_facts *f, void *arg)
{
	struct dup *d = arg;
	struct access_target target = {.ward = NULL, .discipline = NULL};
	struct actor actor;
	struct err err;
	cJSON *ep, *bed;

	if (st == ST_OK) {
		target.ward = f->ward;
		st = access_check(&d->r->principal, ACCESS_EPISODE_READ, &target, &err);
	}
	if (st != ST_OK) {
		dup_reply(d->r, NULL, "", "");
		free(d);
		return;
	}
	snprintf(d->id, sizeof d->id, "%s", f->id);
	snprintf(d->ward, sizeof d->ward, "%s", f->ward);
	ep = cJSON_Parse(f->json);
	bed = ep != NULL ? cJSON_GetObjectItemCaseSensitive(ep, "bed") : NULL;
	if (cJSON_IsString(bed))
		snprintf(d->bed, sizeof d->bed, "%s", bed->valuestring);
	cJSON_Delete(ep);
	actor_from_req(&actor, d->r);
	store_episode_audit_read(d->r->app->db, d->id, &actor, dup_audited, d);
}

static void admit_done(enum status st, const struct err *err, const char *json, void *arg)
{
	struct admit *a = arg;

	if (st == ST_CONFLICT && err != NULL && strstr(err->message, "open episode") != NULL &&
	    a->adm.nhs_number[0] != '\0') {
		struct dup *d = xcalloc(1, sizeof *d);

		d->r = a->r;
		store_episode_open_of(a->r->app->db, a->adm.nhs_number, dup_found, d);
	} else if (st != ST_OK) {
		http_reply_error(a->r, st, err);
	} else {
		http_reply_json_versioned(a->r, 201, json);
	}
	free(a);
}

static void replay_got(enum status st, const struct episode_facts *f, void *arg);

static void admit_context(enum status st, const struct admission_context *ctx, void *arg)
{
	struct admit *a = arg;
	struct planned_task *plan;
	struct actor actor;
	struct err err;
	size_t n;

	if (st != ST_OK) {
		http_reply_error(a->r, st, NULL);
		free(a);
		return;
	}
	if (ctx->replay_episode[0] != '\0') {
		/* this caller's external_id again: a retry only if it is the same admission */
		if (!ctx->replay_same_body) {
			err_set(&err, ST_CONFLICT, "external_id",
			        "\"external_id\" was already used for another admission");
			http_reply_error(a->r, ST_CONFLICT, &err);
			free(a);
			return;
		}
		/* nothing new: answer the episode as it is now, if the caller may still read it */
		store_episode_get(a->r->app->db, ctx->replay_episode, replay_got, a);
		return;
	}
	if (!ctx->ward_exists) {
		err_set(&err, ST_INVALID, "ward", "ward \"%s\" does not exist", a->adm.ward);
		http_reply_error(a->r, ST_INVALID, &err);
		free(a);
		return;
	}
	plan = xcalloc(ctx->ntemplates + 1, sizeof *plan);
	n = admission_plan(&a->adm, ctx->templates, ctx->ntemplates, plan);
	actor_from_req(&actor, a->r);
	/* plan points into ctx->templates, valid only now: the store copies what it needs */
	store_admission_commit(a->r->app->db, &a->adm, plan, n, &actor, app_now(a->r->app),
	                       admit_done, a);
	free(plan);
}

static void admissions_post(struct http_req *r)
{
	struct admit *a = xcalloc(1, sizeof *a);
	struct access_target target = {.ward = NULL, .discipline = NULL};
	struct actor actor;
	struct err err;
	cJSON *body;
	enum status st;

	a->r = r;
	st = http_body_json(r, &body, &err);
	if (st == ST_OK)
		st = admission_parse(body, app_now(r->app), &a->adm, &err);
	cJSON_Delete(body);
	if (st == ST_OK) {
		target.ward = a->adm.ward;
		st = http_access(r, &target, &err);
	}
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(a);
		return;
	}
	actor_from_req(&actor, r);
	store_admission_context(r->app->db, &a->adm, &actor, admit_context, a);
}

struct read {
	struct http_req *r; /* the request */
	char *json;         /* the episode, owned */
	int version;        /* for the ETag */
	bool replay;        /* the answer to a repeated admission (201, Idempotent-Replayed) */
};

static void read_audited(enum status st, const struct err *err, const char *json, void *arg)
{
	struct read *rd = arg;

	if (st != ST_OK) {
		http_reply_error(rd->r, st, err);
	} else {
		http_add_etag(rd->r, rd->version);
		if (rd->replay)
			http_add_header(rd->r, "Idempotent-Replayed", "true");
		http_reply_json_text(rd->r, rd->replay ? 201 : 200, rd->json);
	}
	free(rd->json);
	free(rd);
}

/*
 * The episode a repeated admission opened, read again: answered only to a
 * caller who may read it now (it may have moved ward, or the caller lost the
 * ward), and audited as a read.  A refusal says no more than a different body
 * would: 409, nothing about the patient.
 */
static void replay_got(enum status st, const struct episode_facts *f, void *arg)
{
	struct admit *a = arg;
	struct access_target target = {.ward = NULL, .discipline = NULL};
	struct actor actor;
	struct read *rd;
	struct err err;

	if (st == ST_OK) {
		target.ward = f->ward;
		st = access_check(&a->r->principal, ACCESS_EPISODE_READ, &target, &err);
		if (st != ST_OK)
			st = ST_CONFLICT;
	}
	if (st != ST_OK) {
		if (st == ST_CONFLICT || st == ST_NOT_FOUND) {
			st = ST_CONFLICT;
			err_set(&err, st, "external_id",
			        "\"external_id\" was already used for another admission");
		} else {
			err_set(&err, st, NULL, "could not read");
		}
		http_reply_error(a->r, st, &err);
		free(a);
		return;
	}
	rd = xcalloc(1, sizeof *rd);
	rd->r = a->r;
	rd->json = xstrdup(f->json);
	rd->version = f->version;
	rd->replay = true;
	actor_from_req(&actor, a->r);
	store_episode_audit_replay(a->r->app->db, f->id, &actor, read_audited, rd);
	free(a);
}

static void episode_got(enum status st, const struct episode_facts *f, void *arg)
{
	struct http_req *r = arg;
	struct access_target target = {.ward = NULL, .discipline = NULL};
	struct actor actor;
	struct read *rd;
	struct err err;

	if (st != ST_OK) {
		err_set(&err, st, NULL,
		        st == ST_NOT_FOUND ? "episode not found" : "could not read");
		http_reply_error(r, st, &err);
		return;
	}
	target.ward = f->ward;
	if ((st = http_access(r, &target, &err)) != ST_OK) {
		http_reply_error(r, st, &err);
		return;
	}
	rd = xcalloc(1, sizeof *rd);
	rd->r = r;
	rd->json = xstrdup(f->json);
	rd->version = f->version;
	actor_from_req(&actor, r);
	store_episode_audit_read(r->app->db, f->id, &actor, read_audited, rd);
}

static void episode_get(struct http_req *r)
{
	store_episode_get(r->app->db, r->params[0], episode_got, r);
}

#define LIST_MAX_WARDS HTTP_QUERY_REPEAT_MAX /* http.c refuses more */

static void episodes_list(struct http_req *r)
{
	char wards[LIST_MAX_WARDS][HTTP_PARAM_MAX], state[32];
	const char *ward_ptrs[LIST_MAX_WARDS];
	struct episode_filter f;
	enum episode_state es;
	struct actor actor;
	struct err err;
	enum status st = ST_OK;
	int nw;

	memset(&f, 0, sizeof f);
	nw = http_query_all(r, "ward", wards, LIST_MAX_WARDS);
	for (int i = 0; i < nw && st == ST_OK; i++) {
		struct access_target t = {.ward = wards[i], .discipline = NULL};

		ward_ptrs[i] = wards[i];
		if (strlen(wards[i]) > ADMISSION_WARD_MAX ||
		    strspn(wards[i],
		           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
		        strlen(wards[i]) ||
		    wards[i][0] == '\0')
			st = err_set(&err, ST_INVALID, "ward", "\"ward\" is not a valid ward code");
		else
			st = access_check(&r->principal, ACCESS_EPISODE_READ, &t, &err);
	}
	if (st == ST_OK && nw > 0) {
		f.wards = ward_ptrs;
		f.nwards = nw;
	} else if (st == ST_OK && !access_reaches_every_ward(&r->principal, ACCESS_EPISODE_READ)) {
		/* a role confined to its wards (a nurse) sees those; never every ward */
		f.wards = r->principal.wards;
		f.nwards = (int)r->principal.nwards;
	}
	if (st == ST_OK && http_query(r, "state", state, sizeof state) != NULL) {
		st = episode_state_parse(state, &es, &err);
		f.state = episode_state_name(es);
	} else if (st == ST_OK) {
		f.state = "admitted";
	}
	if (st == ST_OK)
		st = http_query_bool(r, "ready", &f.ready, &err);
	if (st == ST_OK)
		st = http_query_bool(r, "delayed", &f.delayed, &err);
	if (st == ST_OK)
		st = http_query_int(r, "limit", 50, 1, 500, &f.limit, &err);
	if (st == ST_OK)
		st = http_query_int(r, "offset", 0, 0, 10000000, &f.offset, &err);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		return;
	}
	actor_from_req(&actor, r);
	store_episode_list(r->app->db, &f, &actor, http_json_ok, r);
}

/* A change request waiting for the episode to be read. */
#define CHANGE_ATTEMPTS 4

struct change {
	struct http_req *r;                /* the request */
	cJSON *body;                       /* the parsed body, owned */
	int if_match;                      /* -1 when no If-Match */
	enum episode_action action;        /* what is asked */
	struct episode_change c;           /* decided change */
	char ward[ADMISSION_WARD_MAX + 1]; /* transfer target */
	char bed[ADMISSION_BED_MAX + 1];   /* new bed */
	char destination_note[201];        /* discharge: free text about the destination */
	int attempts;                      /* writes lost to a concurrent change so far */
};

static void change_free(struct change *ch)
{
	cJSON_Delete(ch->body);
	free(ch);
}

static void change_got(enum status st, const struct episode_facts *f, void *arg);

static void change_done(enum status st, const struct err *err, const char *json, void *arg)
{
	struct change *ch = arg;

	/* without If-Match, a concurrent change is no reason to fail: decide again */
	if (st == ST_PRECONDITION && ch->if_match < 0 && ++ch->attempts < CHANGE_ATTEMPTS) {
		store_episode_get(ch->r->app->db, ch->r->params[0], change_got, ch);
		return;
	}
	if (st != ST_OK) {
		http_reply_error(ch->r, st, err);
	} else {
		http_reply_json_versioned(ch->r, 200, json);
	}
	change_free(ch);
}

static const char *const patch_fields[] = {"expected_discharge_date", "pathway", "bed", "ready_at",
                                           NULL};

/* Decide a PATCH against the current episode f; fills ch->c. */
static enum status decide_patch(struct change *ch, const struct episode_facts *f,
                                enum episode_state state, struct err *err)
{
	const cJSON *b = ch->body;
	struct episode_change *c = &ch->c;
	int64_t pathway = 0;
	bool present;
	enum status st;

	if ((st = json_only_keys(b, patch_fields, err)) != ST_OK)
		return st;
	if (cJSON_GetArraySize(b) == 0)
		return err_set(err, ST_INVALID, NULL, "nothing to change: give at least one field");
	c->event_type = "episode.updated";
	c->audit_action = "episode.update";
	if (json_is_null(b, "expected_discharge_date")) {
		c->clear_edd = true;
	} else if ((st = json_get_date(b, "expected_discharge_date", false, &c->edd, &c->set_edd,
	                               err)) != ST_OK) {
		return st;
	}
	if (json_is_null(b, "pathway")) {
		c->clear_pathway = true;
	} else if ((st = json_get_int(b, "pathway", false, 0, 3, &pathway, &present, err)) !=
	           ST_OK) {
		return st;
	} else if (present) {
		c->set_pathway = true;
		c->pathway = (int)pathway;
	}
	if ((st = json_get_string(b, "bed", false, ch->bed, sizeof ch->bed, err)) != ST_OK)
		return st;
	if (json_has(b, "bed")) {
		c->set_bed = true;
		c->bed = ch->bed;
	}
	if (json_is_null(b, "ready_at")) {
		if ((st = episode_can(state, EPISODE_CLEAR_READY, err)) != ST_OK)
			return st;
		c->clear_ready = f->ready;
		if (f->ready)
			c->event_type = "episode.ready_withdrawn";
		c->audit_action = "episode.clear_ready";
	} else if (json_has(b, "ready_at")) {
		if ((st = json_get_time(b, "ready_at", false, &c->ready_at, NULL, err)) != ST_OK)
			return st;
		if ((st = episode_can(state, EPISODE_SET_READY, err)) != ST_OK)
			return st;
		if (c->ready_at < f->admitted_at)
			return err_set(err, ST_INVALID, "ready_at",
			               "\"ready_at\" is before admission");
		if (c->ready_at > app_now(ch->r->app) + 3600)
			return err_set(err, ST_INVALID, "ready_at",
			               "\"ready_at\" is in the future");
		c->set_ready = true;
		c->was_ready = f->ready;
		c->event_type = "episode.ready";
		c->audit_action = "episode.set_ready";
	}
	return episode_can(state, EPISODE_UPDATE, err);
}

static const char *const transfer_fields[] = {"ward", "bed", NULL};
static const char *const discharge_fields[] = {"pathway", "discharged_at", "destination",
                                               "destination_note", NULL};
static const char *const reopen_fields[] = {NULL};

static enum status decide(struct change *ch, const struct episode_facts *f, struct err *err)
{
	struct access_target target = {.ward = f->ward, .discipline = NULL};
	enum episode_state state;
	int64_t pathway;
	enum status st;
	bool present;

	memset(&ch->c, 0, sizeof ch->c); /* decided afresh on every attempt */
	if ((st = http_access(ch->r, &target, err)) != ST_OK)
		return st;
	if (ch->if_match >= 0 && ch->if_match != f->version)
		return err_set(err, ST_PRECONDITION, NULL,
		               "episode is at version %d, not %d: reload it and try again",
		               f->version, ch->if_match);
	if ((st = episode_state_parse(f->state, &state, err)) != ST_OK)
		return ST_INTERNAL;
	ch->c.expected_version = f->version;
	switch (ch->action) {
	case EPISODE_UPDATE:
		return decide_patch(ch, f, state, err);
	case EPISODE_TRANSFER:
		if ((st = json_only_keys(ch->body, transfer_fields, err)) != ST_OK ||
		    (st = json_get_string(ch->body, "ward", true, ch->ward, sizeof ch->ward,
		                          err)) != ST_OK ||
		    (st = json_get_string(ch->body, "bed", false, ch->bed, sizeof ch->bed, err)) !=
		        ST_OK)
			return st;
		if ((st = episode_can(state, EPISODE_TRANSFER, err)) != ST_OK)
			return st;
		if (strcmp(ch->ward, f->ward) == 0)
			return err_set(err, ST_INVALID, "ward", "patient is already on ward \"%s\"",
			               f->ward);
		ch->c.new_ward = ch->ward;
		ch->c.set_bed = true;
		ch->c.bed = ch->bed;
		ch->c.event_type = "episode.transferred";
		ch->c.audit_action = "episode.transfer";
		return ST_OK;
	case EPISODE_DISCHARGE:
		/*
		 * The actual pathway (0..3) is required of a person recording a
		 * discharge: the sitrep counts discharges by it.  Only HL7 A03
		 * may leave it unrecorded (hl7_apply.c).
		 */
		if ((st = json_only_keys(ch->body, discharge_fields, err)) != ST_OK ||
		    (st = json_get_int(ch->body, "pathway", true, 0, 3, &pathway, NULL, err)) !=
		        ST_OK ||
		    (st = json_get_time(ch->body, "discharged_at", false, &ch->c.discharged_at,
		                        &present, err)) != ST_OK ||
		    (st = json_get_string(ch->body, "destination_note", false, ch->destination_note,
		                          sizeof ch->destination_note, err)) != ST_OK)
			return st;
		/*
		 * The coded destination (lib/destination.h) is optional: null or
		 * absent leaves it "not recorded", as the reports count it.
		 */
		if (json_has(ch->body, "destination")) {
			const cJSON *d = cJSON_GetObjectItemCaseSensitive(ch->body, "destination");
			enum destination dest;

			if ((st = destination_parse(cJSON_IsString(d) ? d->valuestring : NULL,
			                            "destination", &dest, err)) != ST_OK)
				return st;
			ch->c.destination_code = destination_name(dest);
		}
		ch->c.has_discharge_pathway = true;
		ch->c.discharge_pathway = (int)pathway;
		if ((st = episode_can(state, EPISODE_DISCHARGE, err)) != ST_OK)
			return st;
		if (!present)
			ch->c.discharged_at = app_now(ch->r->app);
		if (ch->c.discharged_at < f->admitted_at)
			return err_set(err, ST_INVALID, "discharged_at",
			               "\"discharged_at\" is before admission");
		if (ch->c.discharged_at > app_now(ch->r->app) + 3600)
			return err_set(err, ST_INVALID, "discharged_at",
			               "\"discharged_at\" is in the future");
		ch->c.new_state = "discharged";
		ch->c.destination_note =
		    ch->destination_note[0] != '\0' ? ch->destination_note : NULL;
		ch->c.event_type = "episode.discharged";
		ch->c.audit_action = "episode.discharge";
		return ST_OK;
	case EPISODE_REOPEN:
		/* a discharge entered in error: admitted again, as HL7 A13 does */
		if ((st = json_only_keys(ch->body, reopen_fields, err)) != ST_OK)
			return st;
		if ((st = episode_can(state, EPISODE_REOPEN, err)) != ST_OK)
			return st;
		ch->c.new_state = episode_state_name(episode_next_state(state, EPISODE_REOPEN));
		ch->c.event_type = "episode.reopened";
		ch->c.audit_action = "episode.reopen";
		return ST_OK;
	default:
		break;
	}
	return ST_INTERNAL;
}

static void change_got(enum status st, const struct episode_facts *f, void *arg)
{
	struct change *ch = arg;
	struct actor actor;
	struct err err;

	err_clear(&err);
	if (st == ST_NOT_FOUND)
		err_set(&err, st, NULL, "episode not found");
	if (st == ST_OK)
		st = decide(ch, f, &err);
	if (st != ST_OK) {
		http_reply_error(ch->r, st, &err);
		change_free(ch);
		return;
	}
	actor_from_req(&actor, ch->r);
	store_episode_change(ch->r->app->db, f, &ch->c, &actor, app_now(ch->r->app), change_done,
	                     ch);
}

static void episode_change(struct http_req *r, enum episode_action action)
{
	struct change *ch;
	struct err err;
	enum status st;
	cJSON *body = NULL;
	int if_match;

	st = http_body_json(r, &body, &err);
	if (st == ST_OK)
		st = http_if_match(r, &if_match, &err);
	if (st != ST_OK) {
		cJSON_Delete(body);
		http_reply_error(r, st, &err);
		return;
	}
	ch = xcalloc(1, sizeof *ch);
	ch->r = r;
	ch->body = body;
	ch->if_match = if_match;
	ch->action = action;
	store_episode_get(r->app->db, r->params[0], change_got, ch);
}

static void episode_patch(struct http_req *r)
{
	episode_change(r, EPISODE_UPDATE);
}

static void episode_transfer(struct http_req *r)
{
	episode_change(r, EPISODE_TRANSFER);
}

static void episode_discharge(struct http_req *r)
{
	episode_change(r, EPISODE_DISCHARGE);
}

static void episode_reopen(struct http_req *r)
{
	episode_change(r, EPISODE_REOPEN);
}

const struct route admission_routes[] = {
    ROUTE(EVHTTP_REQ_POST, "/api/v1/admissions", admissions_post, ACCESS_EPISODE_ADMIT,
          ROUTE_ID_NONE),
    ROUTE_END,
};

const struct route episode_routes[] = {
    ROUTE(EVHTTP_REQ_GET, "/api/v1/episodes", episodes_list, ACCESS_EPISODE_READ, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/episodes/{id}", episode_get, ACCESS_EPISODE_READ,
          ROUTE_ID_EPISODE),
    ROUTE(EVHTTP_REQ_PATCH, "/api/v1/episodes/{id}", episode_patch, ACCESS_EPISODE_WRITE,
          ROUTE_ID_EPISODE),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/episodes/{id}/transfer", episode_transfer, ACCESS_EPISODE_WRITE,
          ROUTE_ID_EPISODE),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/episodes/{id}/discharge", episode_discharge,
          ACCESS_EPISODE_WRITE, ROUTE_ID_EPISODE),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/episodes/{id}/reopen", episode_reopen, ACCESS_EPISODE_WRITE,
          ROUTE_ID_EPISODE),
    ROUTE_END,
};

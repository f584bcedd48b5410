/*
 * api_assessment.c - Care Act assessments: the social-work queue.
 *
 *   GET   /api/v1/assessments                 list (state, ward repeatable, claimed_by,
 *                                             limit, offset)
 *   POST  /api/v1/assessments/{id}/claim      take an unclaimed assessment
 *   POST  /api/v1/assessments/{id}/release    give one's own claim back (state unclaimed)
 *   PATCH /api/v1/assessments/{id}            {state, note}; If-Match: version
 *   POST  /api/v1/assessments/{id}/reassign   {"to": user name}: a social-work team lead
 *                                             gives the case to another social worker
 *
 * Thin handlers: parse, read the facts, authorise with lib/access, decide the
 * move with lib/assessment, then one store_assessment call.  A claim that
 * loses a race reads the assessment again to say who holds it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "admission.h"
#include "api.h"
#include "app.h"
#include "assessment.h"
#include "json.h"
#include "store_assessment.h"
#include "xmalloc.h"

#define ASSESSMENT_NOTE_MAX 2000             /* bytes */
#define LIST_MAX_WARDS HTTP_QUERY_REPEAT_MAX /* http.c refuses more */

/* ---- GET /api/v1/assessments --------------------------------------------------------- */

static bool ward_code_ok(const char *w)
{
	return w[0] != '\0' && strlen(w) <= ADMISSION_WARD_MAX &&
	       strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") ==
	           strlen(w);
}

static void assessments_list(struct http_req *r)
{
	char wards[LIST_MAX_WARDS][HTTP_PARAM_MAX], state[32], claimed_by[HTTP_PARAM_MAX];
	const char *ward_ptrs[LIST_MAX_WARDS];
	struct assessment_filter f;
	enum assessment_state as;
	struct actor actor;
	struct err err;
	enum status st = ST_OK;
	int nw;

	memset(&f, 0, sizeof f);
	err_clear(&err);
	nw = http_query_all(r, "ward", wards, LIST_MAX_WARDS);
	for (int i = 0; i < nw && st == ST_OK; i++) {
		struct access_target t = {wards[i], NULL};

		ward_ptrs[i] = wards[i];
		if (!ward_code_ok(wards[i]))
			st = err_set(&err, ST_INVALID, "ward", "\"ward\" is not a valid ward code");
		else
			st = access_check(&r->principal, ACCESS_EPISODE_READ, &t, &err);
	}
	if (st == ST_OK && nw > 0) {
		f.wards = ward_ptrs;
		f.nwards = nw;
	} else if (st == ST_OK && !access_reaches_every_ward(&r->principal, ACCESS_EPISODE_READ)) {
		/* a role confined to its wards (a nurse) sees their assessments only */
		f.wards = r->principal.wards;
		f.nwards = (int)r->principal.nwards;
	}
	if (st == ST_OK && http_query(r, "state", state, sizeof state) != NULL) {
		st = assessment_state_parse(state, &as, &err);
		if (st == ST_OK)
			f.state = assessment_state_name(as);
	}
	if (st == ST_OK && http_query(r, "claimed_by", claimed_by, sizeof claimed_by) != NULL) {
		/* "me" is the caller; the filter narrows the list, so it needs no check of its own
		 */
		if (strcmp(claimed_by, "me") == 0)
			snprintf(claimed_by, sizeof claimed_by, "%s", r->principal.id);
		if (!text_is_uuid(claimed_by))
			st = err_set(&err, ST_INVALID, "claimed_by",
			             "\"claimed_by\" must be \"me\" or a user id (UUID)");
		f.claimed_by = claimed_by;
	}
	if (st == ST_OK)
		st = http_query_int(r, "limit", 50, 1, 500, &f.limit, &err);
	if (st == ST_OK)
		st = http_query_int(r, "offset", 0, 0, 10000000, &f.offset, &err);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		return;
	}
	actor_from_req(&actor, r);
	store_assessment_list(r->app->db, &f, &actor, http_json_ok, r);
}

/* ---- POST /api/v1/assessments/{id}/claim ---------------------------------------------- */

struct claim {
	struct http_req *r; /* the request */
	bool lost;          /* the claim was written and lost a race: this is the second read */
};

/* Whether f may be claimed; the refusal names the holder. */
static enum status claimable(const struct assessment_facts *f, struct err *err)
{
	enum assessment_state s;
	enum status st;

	if (assessment_state_parse(f->state, &s, err) != ST_OK)
		return err_set(err, ST_INTERNAL, NULL, "assessment has an unknown state");
	st = assessment_can_claim(s, err);
	if (st != ST_OK && f->claimed_by_name[0] != '\0' && err != NULL) {
		char msg[ERR_MESSAGE_MAX];

		snprintf(msg, sizeof msg, "%s", err->message);
		err_set(err, st, "state", "%s by %s", msg, f->claimed_by_name);
	}
	return st;
}

static void claim_got(enum status st, const struct assessment_facts *f, void *arg);

static void claim_done(enum status st, const struct err *err, const char *json, void *arg)
{
	struct claim *c = arg;

	if (st == ST_CONFLICT) {
		/* someone claimed it between our read and our write: say who */
		c->lost = true;
		store_assessment_get(c->r->app->db, c->r->params[0], claim_got, c);
		return;
	}
	if (st != ST_OK)
		http_reply_error(c->r, st, err);
	else
		http_reply_json_versioned(c->r, 200, json);
	free(c);
}

static void claim_got(enum status st, const struct assessment_facts *f, void *arg)
{
	struct claim *c = arg;
	struct access_target target = {NULL, NULL};
	struct actor actor;
	struct err err;

	err_clear(&err);
	if (st == ST_NOT_FOUND)
		err_set(&err, st, NULL, "assessment not found");
	if (st == ST_OK) {
		target.ward = f->ward;
		st = http_access(c->r, &target, &err);
	}
	if (st == ST_OK)
		st = claimable(f, &err);
	if (st == ST_OK && c->lost) {
		/* lost, then released again before this read: still a lost race */
		st = err_set(&err, ST_CONFLICT, "state",
		             "assessment was claimed by someone else at the same time");
	}
	if (st != ST_OK) {
		http_reply_error(c->r, st, &err);
		free(c);
		return;
	}
	actor_from_req(&actor, c->r);
	store_assessment_claim(c->r->app->db, f, &actor, claim_done, c);
}

static void assessment_claim(struct http_req *r)
{
	struct claim *c;

	c = xcalloc(1, sizeof *c);
	c->r = r;
	store_assessment_get(r->app->db, r->params[0], claim_got, c);
}

/* ---- PATCH /api/v1/assessments/{id} and POST .../release ------------------------------ */

struct change {
	struct http_req *r;                 /* the request */
	bool release;                       /* POST .../release: back to unclaimed, own claim */
	int if_match;                       /* -1 when no If-Match */
	bool has_state;                     /* a state was asked for */
	enum assessment_state to;           /* the asked state */
	struct assessment_change c;         /* the decided change */
	char note[ASSESSMENT_NOTE_MAX + 1]; /* new note */
};

static const char *const patch_fields[] = {"state", "note", NULL};

static enum status change_parse(const cJSON *b, struct change *ch, struct err *err)
{
	struct assessment_change *c = &ch->c;
	char state[16];
	enum status st;

	if ((st = json_only_keys(b, patch_fields, err)) != ST_OK)
		return st;
	if (cJSON_GetArraySize(b) == 0)
		return err_set(err, ST_INVALID, NULL, "nothing to change: give at least one field");
	if (json_is_null(b, "state"))
		return err_set(err, ST_INVALID, "state", "\"state\" cannot be null");
	ch->has_state = json_has(b, "state");
	if (ch->has_state) {
		/* a string too long to be a state is not one either */
		if (json_get_string(b, "state", true, state, sizeof state, NULL) != ST_OK)
			state[0] = '\0';
		if ((st = assessment_state_parse(state, &ch->to, err)) != ST_OK)
			return st;
	}
	if (json_is_null(b, "note")) {
		c->clear_note = true;
	} else {
		if ((st = json_get_string(b, "note", false, ch->note, sizeof ch->note, err)) !=
		    ST_OK)
			return st;
		c->set_note = json_has(b, "note");
		c->note = ch->note;
	}
	return ST_OK;
}

static void change_done(enum status st, const struct err *err, const char *json, void *arg)
{
	struct change *ch = arg;

	if (st != ST_OK)
		http_reply_error(ch->r, st, err);
	else
		http_reply_json_versioned(ch->r, 200, json);
	free(ch);
}

static enum status change_decide(struct change *ch, const struct assessment_facts *f,
                                 struct err *err)
{
	struct access_target target = {f->ward, NULL};
	enum assessment_state from;
	enum status st;

	/* the route's action: claim for a release, update otherwise */
	st = http_access(ch->r, &target, err);
	if (st != ST_OK)
		return st;
	if (ch->if_match >= 0 && ch->if_match != f->version)
		return err_set(err, ST_PRECONDITION, NULL,
		               "assessment is at version %d, not %d: reload it and try again",
		               f->version, ch->if_match);
	if (assessment_state_parse(f->state, &from, err) != ST_OK)
		return err_set(err, ST_INTERNAL, NULL, "assessment has an unknown state");
	if (ch->release && from == ASSESSMENT_UNCLAIMED)
		return err_set(err, ST_CONFLICT, "state",
		               "assessment is \"unclaimed\"; there is no claim to release");
	/* only the holder lets go of a claim, by /release or by PATCH to unclaimed */
	if ((ch->release || (ch->has_state && ch->to == ASSESSMENT_UNCLAIMED)) &&
	    f->claimed_by[0] != '\0' && strcmp(f->claimed_by, ch->r->principal.id) != 0)
		return err_set(err, ST_CONFLICT, "state", "assessment is claimed by %s, not by you",
		               f->claimed_by_name);
	if (ch->has_state) {
		if ((st = assessment_can_transition(from, ch->to, err)) != ST_OK)
			return st;
		/* claiming records who holds it: only the claim endpoint does that */
		if (ch->to == ASSESSMENT_CLAIMED && from != ASSESSMENT_CLAIMED)
			return err_set(
			    err, ST_INVALID, "state",
			    "to claim an assessment use POST /api/v1/assessments/{id}/claim");
		ch->c.state = assessment_state_name(ch->to);
	}
	ch->c.expected_version = f->version;
	return ST_OK;
}

static void change_got(enum status st, const struct assessment_facts *f, void *arg)
{
	struct change *ch = arg;
	struct actor actor;
	struct err err;

	err_clear(&err);
	if (st == ST_NOT_FOUND)
		err_set(&err, st, NULL, "assessment not found");
	if (st == ST_OK)
		st = change_decide(ch, f, &err);
	if (st != ST_OK) {
		http_reply_error(ch->r, st, &err);
		free(ch);
		return;
	}
	actor_from_req(&actor, ch->r);
	store_assessment_change(ch->r->app->db, f, &ch->c, &actor, change_done, ch);
}

/* Read the assessment, then decide and write ch. */
static void change_start(struct http_req *r, struct change *ch)
{
	struct err err;

	ch->r = r;
	if (http_if_match(r, &ch->if_match, &err) != ST_OK) {
		http_reply_error(r, ST_INVALID, &err);
		free(ch);
		return;
	}
	store_assessment_get(r->app->db, r->params[0], change_got, ch);
}

static void assessment_patch(struct http_req *r)
{
	struct change *ch;
	struct err err;
	enum status st;
	cJSON *body = NULL;

	ch = xcalloc(1, sizeof *ch);
	ch->c.event_type = "assessment.updated";
	ch->c.audit_action = "assessment.update";
	st = http_body_json(r, &body, &err);
	if (st == ST_OK)
		st = change_parse(body, ch, &err);
	cJSON_Delete(body);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(ch);
		return;
	}
	change_start(r, ch);
}

static void assessment_release(struct http_req *r)
{
	struct change *ch;

	ch = xcalloc(1, sizeof *ch);
	ch->release = true;
	ch->has_state = true;
	ch->to = ASSESSMENT_UNCLAIMED;
	ch->c.event_type = "assessment.released";
	ch->c.audit_action = "assessment.release";
	change_start(r, ch);
}

/* ---- POST /api/v1/assessments/{id}/reassign ------------------------------------------- */

struct reassign {
	struct http_req *r;
	char to[PRINCIPAL_NAME_SIZE]; /* the social worker's user name */
	int if_match;                 /* -1: none */
};

static void reassign_done(enum status st, const struct err *err, const char *json, void *arg)
{
	struct reassign *ra = arg;
	struct err e2;

	if (st == ST_INVALID) {
		/* the one refusal the transaction raises as CB400 is about "to" */
		err_set(&e2, st, "to", "%s", err != NULL ? err->message : "\"to\" is not valid");
		http_reply_error(ra->r, st, &e2);
	} else if (st != ST_OK) {
		http_reply_error(ra->r, st, err);
	} else {
		http_reply_json_versioned(ra->r, 200, json);
	}
	free(ra);
}

static void reassign_got(enum status st, const struct assessment_facts *f, void *arg)
{
	struct reassign *ra = arg;
	struct access_target target = {NULL, NULL};
	struct actor actor;
	struct err err;

	err_clear(&err);
	if (st == ST_NOT_FOUND)
		err_set(&err, st, NULL, "assessment not found");
	if (st == ST_OK) {
		target.ward = f->ward;
		st = http_access(ra->r, &target, &err);
	}
	if (st != ST_OK) {
		http_reply_error(ra->r, st, &err);
		free(ra);
		return;
	}
	/* the team lead check is made in the transaction, against the user as it is then */
	actor_from_req(&actor, ra->r);
	store_assessment_reassign(ra->r->app->db, f, ra->to, ra->if_match, &actor, reassign_done,
	                          ra);
}

static void assessment_reassign(struct http_req *r)
{
	static const char *const fields[] = {"to", NULL};
	struct reassign *ra = xcalloc(1, sizeof *ra);
	struct err err;
	enum status st;
	cJSON *body = NULL;

	ra->r = r;
	st = http_if_match(r, &ra->if_match, &err);
	if (st == ST_OK)
		st = http_body_json(r, &body, &err);
	if (st == ST_OK)
		st = json_only_keys(body, fields, &err);
	if (st == ST_OK)
		st = json_get_string(body, "to", true, ra->to, sizeof ra->to, &err);
	cJSON_Delete(body);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(ra);
		return;
	}
	store_assessment_get(r->app->db, r->params[0], reassign_got, ra);
}

const struct route assessment_routes[] = {
    ROUTE(EVHTTP_REQ_GET, "/api/v1/assessments", assessments_list, ACCESS_EPISODE_READ,
          ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_PATCH, "/api/v1/assessments/{id}", assessment_patch, ACCESS_ASSESSMENT_UPDATE,
          ROUTE_ID_ASSESSMENT),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/assessments/{id}/claim", assessment_claim,
          ACCESS_ASSESSMENT_CLAIM, ROUTE_ID_ASSESSMENT),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/assessments/{id}/release", assessment_release,
          ACCESS_ASSESSMENT_CLAIM, ROUTE_ID_ASSESSMENT),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/assessments/{id}/reassign", assessment_reassign,
          ACCESS_ASSESSMENT_CLAIM, ROUTE_ID_ASSESSMENT),
    ROUTE_END,
};

/*
 * api_referral.c - referrals to the care transfer hub (docs/API.md "Referrals").
 *
 *   GET   /api/v1/referrals                 list (state=a,b, ward, organisation, open,
 *                                           limit, cursor), oldest notified first
 *   GET   /api/v1/referrals/{id}            one, with the patient essentials; ETag
 *   PATCH /api/v1/referrals/{id}            {needs, contacts, organisation_id}; If-Match
 *   GET   /api/v1/referrals/{id}/steps      its history
 *   POST  /api/v1/referrals/{id}/steps      {step, ...details}; If-Match
 *   POST  /api/v1/referrals/{id}/hold       take the completing of a notified one; If-Match
 *   POST  /api/v1/referrals/{id}/release    give it back; If-Match
 *   POST  /api/v1/referrals/{id}/assign     a team lead gives it to a social worker
 *                                           {user_id}; If-Match
 *   GET   /api/v1/social-workers            who may be given one (a team lead's picker)
 *   GET   /api/v1/episodes/{id}/referrals   the episode's referrals
 *
 * Thin handlers: parse, read the referral, authorise with lib/access (the
 * target is the episode's ward and every organisation its referrals name),
 * decide with lib/referral, then one store_referral_write.  A partner (a
 * hub, council or provider user) is told "not found" about anything not
 * referred to their organisation, as if it did not exist; a user of a
 * partner role whose organisation is not known sees nothing (fail closed).
 *
 * The Care Act assessment routes this replaces answer 410 Gone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "admission.h"
#include "api.h"
#include "app.h"
#include "cbtime.h"
#include "json.h"
#include "referral.h"
#include "store_referral.h"
#include "xmalloc.h"

#define REFERRAL_NOTE_MAX 2000               /* bytes: a step's note */
#define LIST_MAX_WARDS HTTP_QUERY_REPEAT_MAX /* http.c refuses more */

/* Whether the referral with facts f names p's organisation (its hub or its provider). */
static bool names_my_org(const struct principal *p, const struct referral_facts *f)
{
	return p->organisation[0] != '\0' && (strcmp(f->organisation_id, p->organisation) == 0 ||
	                                      strcmp(f->service_provider_id, p->organisation) == 0);
}

/*
 * The route's action on referral f (http_access, which marks the request
 * checked).  A partner refused, or reading a referral of the episode that
 * does not name their organisation, is told it does not exist.
 */
static enum status authorise(struct http_req *r, const struct referral_facts *f, struct err *err)
{
	struct access_target t = {
	    .ward = f->ward, .discipline = NULL, .orgs = f->orgs, .norgs = f->norgs};
	enum status st;

	st = http_access(r, &t, err);
	if (role_is_partner(r->principal.role) && (st != ST_OK || !names_my_org(&r->principal, f)))
		return err_set(err, ST_NOT_FOUND, NULL, "referral not found");
	return st;
}

/* ---- GET /api/v1/referrals ------------------------------------------------------------ */

/* A partner's list read, waiting for one audit row per referral shown. */
struct shown {
	struct http_req *r; /* the request */
	char *json;         /* the list, owned */
};

static void shown_audited(enum status st, const struct err *err, const char *json, void *arg)
{
	struct shown *sh = arg;

	(void)json;
	if (st != ST_OK)
		http_reply_error(sh->r, st, err);
	else
		http_reply_json_text(sh->r, 200, sh->json);
	free(sh->json);
	free(sh);
}

/*
 * A partner's list is read: every patient it shows is audited, one row each
 * with the partner's organisation, before it is sent (docs/PARTNERS.md).
 */
static void partner_list_got(enum status st, const struct err *err, const char *json, void *arg)
{
	struct http_req *r = arg;
	struct shown *sh;
	struct actor actor;

	if (st != ST_OK) {
		http_reply_error(r, st, err);
		return;
	}
	sh = xcalloc(1, sizeof *sh);
	sh->r = r;
	sh->json = xstrdup(json);
	actor_from_req(&actor, r);
	store_referral_audit_shown(r->app->db, json, &actor, shown_audited, sh);
}

static bool ward_code_ok(const char *w)
{
	return w[0] != '\0' && strlen(w) <= ADMISSION_WARD_MAX &&
	       strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") ==
	           strlen(w);
}

/* "a,b" into a JSON array of state names; ST_INVALID naming "state" for an unknown one. */
static enum status states_parse(char *in, char **out, struct err *err)
{
	const char *names[REFERRAL_STATE_COUNT];
	char *save = NULL;
	int n = 0;

	for (char *s = strtok_r(in, ",", &save); s != NULL; s = strtok_r(NULL, ",", &save)) {
		enum referral_state st;

		if (referral_state_parse(s, &st, err) != ST_OK)
			return ST_INVALID;
		if (n < REFERRAL_STATE_COUNT)
			names[n++] = referral_state_name(st);
	}
	if (n == 0)
		return err_set(err, ST_INVALID, "state", "\"state\" names no state");
	*out = json_string_array(names, n);
	return ST_OK;
}

static void referrals_list(struct http_req *r)
{
	char wards[LIST_MAX_WARDS][HTTP_PARAM_MAX], states[HTTP_PARAM_MAX];
	char org[HTTP_PARAM_MAX], cursor[HTTP_PARAM_MAX];
	const char *ward_ptrs[LIST_MAX_WARDS];
	struct referral_filter f;
	bool partner = role_is_partner(r->principal.role);
	char *state_json = NULL;
	struct actor actor;
	struct err err;
	enum status st = ST_OK;
	int nw;

	memset(&f, 0, sizeof f);
	err_clear(&err);
	f.open = -1;
	nw = http_query_all(r, "ward", wards, LIST_MAX_WARDS);
	for (int i = 0; i < nw && st == ST_OK; i++) {
		struct access_target t = {.ward = wards[i], .discipline = NULL};

		ward_ptrs[i] = wards[i];
		if (!ward_code_ok(wards[i]))
			st = err_set(&err, ST_INVALID, "ward", "\"ward\" is not a valid ward code");
		else if (!partner) /* a partner's list is narrowed by organisation below */
			st = access_check(&r->principal, ACCESS_REFERRAL_READ, &t, &err);
	}
	if (st == ST_OK && nw > 0) {
		f.wards = ward_ptrs;
		f.nwards = nw;
	} else if (st == ST_OK && !partner &&
	           !access_reaches_every_ward(&r->principal, ACCESS_REFERRAL_READ)) {
		/* a role confined to its wards (a nurse) sees their referrals only */
		f.wards = r->principal.wards;
		f.nwards = (int)r->principal.nwards;
	}
	if (st == ST_OK && http_query(r, "state", states, sizeof states) != NULL) {
		st = states_parse(states, &state_json, &err);
		f.states = state_json;
	}
	if (st == ST_OK && http_query(r, "organisation", org, sizeof org) != NULL) {
		if (!text_is_uuid(org))
			st = err_set(&err, ST_INVALID, "organisation",
			             "\"organisation\" must be an organisation id (UUID)");
		f.organisation = org;
	}
	if (st == ST_OK)
		st = http_query_bool(r, "open", &f.open, &err);
	if (st == ST_OK && http_query(r, "cursor", cursor, sizeof cursor) != NULL) {
		if (!text_is_uuid(cursor))
			st = err_set(&err, ST_INVALID, "cursor",
			             "\"cursor\" must be a next_cursor this list gave");
		f.cursor = cursor;
	}
	if (st == ST_OK)
		st = http_query_int(r, "limit", 50, 1, 500, &f.limit, &err);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(state_json);
		return;
	}
	if (partner) {
		/* only what names their own organisation; none known: nothing (the store) */
		f.partner = true;
		if (f.organisation != NULL &&
		    strcmp(f.organisation, r->principal.organisation) != 0)
			f.organisation = "00000000-0000-0000-0000-000000000000";
		else
			f.organisation =
			    r->principal.organisation[0] != '\0' ? r->principal.organisation : NULL;
	}
	actor_from_req(&actor, r);
	store_referral_list(r->app->db, &f, &actor, partner ? partner_list_got : http_json_ok, r);
	free(state_json);
}

/* ---- GET /api/v1/referrals/{id} and .../steps ----------------------------------------- */

struct read {
	struct http_req *r; /* the request */
	char *json;         /* the reply, owned */
};

static void read_audited(enum status st, const struct err *err, const char *json, void *arg)
{
	struct read *rd = arg;

	if (st != ST_OK)
		http_reply_error(rd->r, st, err);
	else
		http_reply_json_versioned(rd->r, 200, rd->json);
	free(rd->json);
	free(rd);
}

static void one_got(enum status st, const struct referral_facts *f, void *arg)
{
	struct http_req *r = arg;
	struct read *rd;
	struct actor actor;
	struct err err;

	err_clear(&err);
	if (st == ST_NOT_FOUND)
		err_set(&err, st, NULL, "referral not found");
	if (st == ST_OK)
		st = authorise(r, f, &err);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		return;
	}
	rd = xcalloc(1, sizeof *rd);
	rd->r = r;
	rd->json = xstrdup(f->view_json);
	actor_from_req(&actor, r);
	store_referral_audit_read(r->app->db, f, "referral.read", &actor, read_audited, rd);
}

static void referral_get(struct http_req *r)
{
	store_referral_get(r->app->db, r->params[0], NULL, one_got, r);
}

static void steps_got(enum status st, const struct referral_facts *f, void *arg)
{
	struct http_req *r = arg;
	struct actor actor;
	struct err err;

	err_clear(&err);
	if (st == ST_NOT_FOUND)
		err_set(&err, st, NULL, "referral not found");
	if (st == ST_OK)
		st = authorise(r, f, &err);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		return;
	}
	actor_from_req(&actor, r);
	store_referral_steps(r->app->db, f, &actor, http_json_ok, r);
}

static void referral_steps_get(struct http_req *r)
{
	store_referral_get(r->app->db, r->params[0], NULL, steps_got, r);
}

/* ---- GET /api/v1/episodes/{id}/referrals ---------------------------------------------- */

static void episode_list_got(enum status st, const char *ward, const char *orgs, const char *json,
                             void *arg)
{
	struct http_req *r = arg;
	const char *org_ptrs[STORE_REFERRAL_MAX_ORGS];
	struct access_target t = {.ward = ward, .discipline = NULL, .orgs = org_ptrs, .norgs = 0};
	char *copy = orgs != NULL ? xstrdup(orgs) : NULL, *save = NULL;
	struct read *rd;
	struct actor actor;
	struct err err;

	err_clear(&err);
	for (char *o = copy != NULL ? strtok_r(copy, ",", &save) : NULL;
	     o != NULL && t.norgs < STORE_REFERRAL_MAX_ORGS; o = strtok_r(NULL, ",", &save))
		org_ptrs[t.norgs++] = o;
	if (st == ST_NOT_FOUND)
		err_set(&err, st, NULL, "episode not found");
	if (st == ST_OK) {
		st = http_access(r, &t, &err);
		if (st != ST_OK && role_is_partner(r->principal.role))
			st = err_set(&err, ST_NOT_FOUND, NULL, "episode not found");
	}
	free(copy);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		return;
	}
	rd = xcalloc(1, sizeof *rd);
	rd->r = r;
	rd->json = xstrdup(json);
	actor_from_req(&actor, r);
	store_referral_audit_episode_list(r->app->db, r->params[0], &actor, read_audited, rd);
}

static void episode_referrals_get(struct http_req *r)
{
	const char *org = NULL;

	/* a partner sees the referrals naming their organisation (none known: none) */
	if (role_is_partner(r->principal.role))
		org = r->principal.organisation[0] != '\0' ? r->principal.organisation
		                                           : "00000000-0000-0000-0000-000000000000";
	store_referral_episode_list(r->app->db, r->params[0], org, episode_list_got, r);
}

/* ---- writes: POST .../steps, PATCH, POST .../hold and .../release --------------------- */

enum change_kind {
	CHANGE_STEP,    /* POST .../steps */
	CHANGE_PATCH,   /* PATCH */
	CHANGE_HOLD,    /* POST .../hold */
	CHANGE_RELEASE, /* POST .../release */
	CHANGE_ASSIGN,  /* POST .../assign */
};

struct change {
	struct http_req *r;                         /* the request */
	enum change_kind kind;                      /* what is asked */
	int if_match;                               /* the version asked for */
	bool reread;                                /* a lost write was read again */
	enum referral_step step;                    /* CHANGE_STEP: the step */
	struct referral_step_input in;              /* its details, pointing into the buffers */
	char reason[REFERRAL_REASON_MAX + 1];       /* decline, withdraw */
	char info_request[REFERRAL_REASON_MAX + 1]; /* request_info */
	char needs[REFERRAL_NEEDS_MAX + 1];         /* send, PATCH */
	char contacts[REFERRAL_CONTACTS_MAX + 1];   /* send, PATCH */
	char service_detail[REFERRAL_SERVICE_DETAIL_MAX + 1]; /* source */
	char note[REFERRAL_NOTE_MAX + 1];                     /* any step: kept in its row */
	char provider[64];     /* source: the service's provider (UUID), "" if none */
	char organisation[64]; /* PATCH: the organisation referred to (UUID), "" keeps */
	char user_id[64];      /* assign: the new holder (UUID) */
	bool has_needs, has_contacts;
	char start_date[DATE_FORMAT_LEN]; /* source, confirm_start, as given */
};

static const char *const step_fields[] = {
    "step",
    "reason",
    "info_request",
    "needs",
    "contacts",
    "service_kind",
    "service_provider_id",
    "service_detail",
    "start_date",
    "note",
    NULL,
};

static const char *const patch_fields[] = {"needs", "contacts", "organisation_id", NULL};

static const char *const assign_fields[] = {"user_id", NULL};

/* An optional string field into buf; *given says whether it was there. */
static enum status opt_string(const cJSON *b, const char *key, char *buf, size_t size, bool *given,
                              struct err *err)
{
	enum status st = json_get_string(b, key, false, buf, size, err);

	if (given != NULL)
		*given = st == ST_OK && json_has(b, key);
	return st;
}

static enum status step_parse(const cJSON *b, struct change *ch, int64_t now, struct err *err)
{
	struct referral_step_input *in = &ch->in;
	char step[32], kind[32];
	bool given;
	enum status st;

	if ((st = json_only_keys(b, step_fields, err)) != ST_OK)
		return st;
	if (json_get_string(b, "step", true, step, sizeof step, err) != ST_OK) {
		if (!json_has(b, "step") || json_is_null(b, "step"))
			return err_set(err, ST_INVALID, "step", "missing required field \"step\"");
		step[0] = '\0';
	}
	if ((st = referral_step_parse(step, &ch->step, err)) != ST_OK)
		return st;
	if ((st = opt_string(b, "reason", ch->reason, sizeof ch->reason, &given, err)) != ST_OK)
		return st;
	in->reason = given ? ch->reason : NULL;
	if ((st = opt_string(b, "info_request", ch->info_request, sizeof ch->info_request, &given,
	                     err)) != ST_OK)
		return st;
	in->info_request = given ? ch->info_request : NULL;
	if ((st = opt_string(b, "needs", ch->needs, sizeof ch->needs, &ch->has_needs, err)) !=
	    ST_OK)
		return st;
	in->needs = ch->has_needs ? ch->needs : NULL;
	if ((st = opt_string(b, "contacts", ch->contacts, sizeof ch->contacts, &ch->has_contacts,
	                     err)) != ST_OK)
		return st;
	in->contacts = ch->has_contacts ? ch->contacts : NULL;
	if ((st = opt_string(b, "service_kind", kind, sizeof kind, &given, err)) != ST_OK)
		return st;
	if (given) {
		if ((st = referral_service_kind_parse(kind, &in->service_kind, err)) != ST_OK)
			return st;
		in->has_service_kind = true;
	}
	if ((st = opt_string(b, "service_detail", ch->service_detail, sizeof ch->service_detail,
	                     &given, err)) != ST_OK)
		return st;
	in->service_detail = given ? ch->service_detail : NULL;
	if ((st = json_get_date(b, "start_date", false, &in->start_date, &in->has_start_date,
	                        err)) != ST_OK)
		return st;
	if (in->has_start_date)
		date_format(in->start_date, ch->start_date);
	if ((st = opt_string(b, "note", ch->note, sizeof ch->note, NULL, err)) != ST_OK)
		return st;
	if ((st = opt_string(b, "service_provider_id", ch->provider, sizeof ch->provider, &given,
	                     err)) != ST_OK)
		return st;
	if (given && !text_is_uuid(ch->provider))
		return err_set(err, ST_INVALID, "service_provider_id",
		               "\"service_provider_id\" must be an organisation id (UUID)");
	if (given && ch->step != REFERRAL_STEP_SOURCE)
		return err_set(err, ST_INVALID, "service_provider_id",
		               "step \"%s\" does not take \"service_provider_id\"",
		               referral_step_name(ch->step));
	in->today = london_date(now);
	return ST_OK;
}

static enum status patch_parse(const cJSON *b, struct change *ch, struct err *err)
{
	bool given;
	enum status st;

	if ((st = json_only_keys(b, patch_fields, err)) != ST_OK)
		return st;
	if (cJSON_GetArraySize(b) == 0)
		return err_set(err, ST_INVALID, NULL, "nothing to change: give at least one field");
	if ((st = opt_string(b, "needs", ch->needs, sizeof ch->needs, &ch->has_needs, err)) !=
	        ST_OK ||
	    (st = opt_string(b, "contacts", ch->contacts, sizeof ch->contacts, &ch->has_contacts,
	                     err)) != ST_OK ||
	    (st = opt_string(b, "organisation_id", ch->organisation, sizeof ch->organisation,
	                     &given, err)) != ST_OK)
		return st;
	if (given && !text_is_uuid(ch->organisation))
		return err_set(err, ST_INVALID, "organisation_id",
		               "\"organisation_id\" must be an organisation id (UUID)");
	return ST_OK;
}

static enum status assign_parse(const cJSON *b, struct change *ch, struct err *err)
{
	enum status st;

	if ((st = json_only_keys(b, assign_fields, err)) != ST_OK)
		return st;
	if (!json_has(b, "user_id") || json_is_null(b, "user_id"))
		return err_set(err, ST_INVALID, "user_id", "missing required field \"user_id\"");
	if ((st = json_get_string(b, "user_id", true, ch->user_id, sizeof ch->user_id, err)) !=
	    ST_OK)
		return st;
	if (!text_is_uuid(ch->user_id))
		return err_set(err, ST_INVALID, "user_id", "\"user_id\" must be a user id (UUID)");
	return ST_OK;
}

/* The step's details as its history row keeps them (a new string). */
static char *step_detail(const struct change *ch)
{
	const struct referral_step_input *in = &ch->in;
	cJSON *d = cJSON_CreateObject();
	char *text, *out;

	cJSON_AddStringToObject(d, "step", referral_step_name(ch->step));
	if (in->reason != NULL)
		cJSON_AddStringToObject(d, "reason", in->reason);
	if (in->info_request != NULL)
		cJSON_AddStringToObject(d, "info_request", in->info_request);
	if (in->has_service_kind)
		cJSON_AddStringToObject(d, "service_kind",
		                        referral_service_kind_name(in->service_kind));
	if (ch->provider[0] != '\0')
		cJSON_AddStringToObject(d, "service_provider_id", ch->provider);
	if (in->service_detail != NULL)
		cJSON_AddStringToObject(d, "service_detail", in->service_detail);
	if (in->has_start_date)
		cJSON_AddStringToObject(d, "start_date", ch->start_date);
	if (in->needs != NULL)
		cJSON_AddBoolToObject(d, "needs_changed", true);
	if (in->contacts != NULL)
		cJSON_AddBoolToObject(d, "contacts_changed", true);
	if (ch->note[0] != '\0')
		cJSON_AddStringToObject(d, "note", ch->note);
	text = cJSON_PrintUnformatted(d);
	ASSERT(text != NULL);
	out = xstrdup(text);
	cJSON_free(text);
	cJSON_Delete(d);
	return out;
}

/* Decide a step on f into *w; the side's action is checked here. */
static enum status step_decide(struct change *ch, const struct referral_facts *f,
                               struct referral_write *w, struct err *err)
{
	const struct principal *p = &ch->r->principal;
	struct access_target t = {
	    .ward = f->ward, .discipline = NULL, .orgs = f->orgs, .norgs = f->norgs};
	bool partner_step = referral_step_side(ch->step) == REFERRAL_SIDE_PARTNER;
	enum referral_state from, to;
	enum status st;

	st =
	    access_check(p, partner_step ? ACCESS_REFERRAL_RESPOND : ACCESS_REFERRAL_SEND, &t, err);
	if (st != ST_OK)
		return st;
	if (p->role == ROLE_PROVIDER_STAFF && ch->step != REFERRAL_STEP_CONFIRM_START)
		return err_set(err, ST_FORBIDDEN, NULL,
		               "role \"provider_staff\" may only confirm a service's start");
	if (ch->if_match != f->version)
		return err_set(err, ST_PRECONDITION, NULL,
		               "referral is at version %d, not %d: reload it and try again",
		               f->version, ch->if_match);
	if (referral_state_parse(f->state, &from, NULL) != ST_OK)
		return err_set(err, ST_INTERNAL, NULL, "referral has an unknown state");
	if ((st = referral_step_check(from, ch->step, &ch->in, &to, err)) != ST_OK)
		return st;
	if (ch->step == REFERRAL_STEP_SEND) {
		if (f->organisation_id[0] == '\0')
			return err_set(
			    err, ST_INVALID, "organisation",
			    "the referral has no organisation to send it to: set "
			    "\"organisation_id\" first (the ward has no hub configured)");
		if (!f->has_needs && (ch->in.needs == NULL || ch->in.needs[0] == '\0'))
			return err_set(err, ST_INVALID, "needs",
			               "a referral is sent with its \"needs\": give them");
	}
	if (ch->provider[0] != '\0' &&
	    (!f->check_org_found || strcmp(f->check_org_kind, "provider") != 0))
		return err_set(err, ST_INVALID, "service_provider_id",
		               "\"service_provider_id\" names no enabled provider organisation");
	w->step = referral_step_name(ch->step);
	w->from = f->state;
	w->to = referral_state_name(to);
	w->needs = ch->in.needs;
	w->contacts = ch->in.contacts;
	w->info_request = ch->in.info_request;
	if (ch->step == REFERRAL_STEP_DECLINE)
		w->decline_reason = ch->in.reason;
	if (ch->step == REFERRAL_STEP_WITHDRAW)
		w->withdraw_reason = ch->in.reason;
	if (ch->in.has_service_kind)
		w->service_kind = referral_service_kind_name(ch->in.service_kind);
	w->service_provider_id = ch->provider[0] != '\0' ? ch->provider : NULL;
	w->service_detail = ch->in.service_detail;
	w->start_date = ch->in.has_start_date ? ch->start_date : NULL;
	return ST_OK;
}

/* Whether state s (a stored name) may still be changed by the referring side. */
static bool patchable(const char *s)
{
	return strcmp(s, "notified") == 0 || strcmp(s, "info_requested") == 0 ||
	       strcmp(s, "declined") == 0;
}

static enum status other_decide(struct change *ch, const struct referral_facts *f,
                                struct referral_write *w, struct err *err)
{
	const char *me = ch->r->principal.id;

	if (ch->kind == CHANGE_HOLD) {
		if (strcmp(f->state, "notified") != 0)
			return err_set(err, ST_CONFLICT, "state",
			               "a referral that is \"%s\" cannot be held: only a "
			               "\"notified\" one is completed by the ward",
			               f->state);
		if (f->held_by[0] != '\0')
			return err_set(err, ST_CONFLICT, "state", "referral is already held by %s",
			               f->held_by_name);
		w->hold = 1;
		w->audit_action = "referral.hold";
	} else if (ch->kind == CHANGE_RELEASE) {
		if (f->held_by[0] == '\0')
			return err_set(err, ST_CONFLICT, "state",
			               "referral is not held; there is nothing to release");
		if (strcmp(f->held_by, me) != 0)
			return err_set(err, ST_CONFLICT, "state",
			               "referral is held by %s, not by you", f->held_by_name);
		w->hold = -1;
		w->audit_action = "referral.release";
	} else if (ch->kind == CHANGE_ASSIGN) {
		struct access_target t = {.ward = f->ward, .discipline = NULL};
		enum status st;

		if (!f->holder.exists || f->holder.disabled)
			return err_set(err, ST_INVALID, "user_id",
			               "\"user_id\" names no enabled user");
		st = access_check_holder(f->holder.role, f->holder.on_ward, &t, err);
		if (st != ST_OK)
			return st;
		if (strcmp(f->state, "notified") != 0)
			return err_set(err, ST_CONFLICT, "state",
			               "a referral that is \"%s\" cannot be reassigned: only a "
			               "\"notified\" one is completed by the ward",
			               f->state);
		if (strcmp(f->held_by, ch->user_id) == 0)
			return err_set(err, ST_CONFLICT, "user_id",
			               "referral is already held by %s", f->held_by_name);
		w->hold = 1;
		w->assign_to = ch->user_id;
		w->audit_action = "referral.assign";
	} else {
		if (!patchable(f->state))
			return err_set(err, ST_CONFLICT, "state",
			               "a referral that is \"%s\" cannot be changed: only while "
			               "\"notified\", \"info_requested\" or \"declined\"",
			               f->state);
		if (ch->organisation[0] != '\0' &&
		    (!f->check_org_found || (strcmp(f->check_org_kind, "hub") != 0 &&
		                             strcmp(f->check_org_kind, "local_authority") != 0)))
			return err_set(
			    err, ST_INVALID, "organisation_id",
			    "\"organisation_id\" names no enabled hub or local authority");
		w->needs = ch->has_needs ? ch->needs : NULL;
		w->contacts = ch->has_contacts ? ch->contacts : NULL;
		w->organisation_id = ch->organisation[0] != '\0' ? ch->organisation : NULL;
		w->audit_action = "referral.update";
	}
	if (ch->if_match != f->version)
		return err_set(err, ST_PRECONDITION, NULL,
		               "referral is at version %d, not %d: reload it and try again",
		               f->version, ch->if_match);
	w->from = f->state;
	w->to = f->state;
	return ST_OK;
}

static void change_got(enum status st, const struct referral_facts *f, void *arg);

static void change_done(enum status st, const struct err *err, const char *json, void *arg)
{
	struct change *ch = arg;

	if (st == ST_PRECONDITION && ch->kind == CHANGE_HOLD && !ch->reread) {
		/* lost a race for the hold: read again to say who has it */
		ch->reread = true;
		store_referral_get(ch->r->app->db, ch->r->params[0], NULL, change_got, ch);
		return;
	}
	if (st != ST_OK)
		http_reply_error(ch->r, st, err);
	else
		http_reply_json_versioned(ch->r, 200, json);
	free(ch);
}

static void change_got(enum status st, const struct referral_facts *f, void *arg)
{
	struct change *ch = arg;
	struct referral_write w;
	struct actor actor;
	char *detail = NULL;
	struct err err;

	err_clear(&err);
	memset(&w, 0, sizeof w);
	if (st == ST_NOT_FOUND)
		err_set(&err, st, NULL, "referral not found");
	if (st == ST_OK)
		st = authorise(ch->r, f, &err);
	if (st == ST_OK)
		st = ch->kind == CHANGE_STEP ? step_decide(ch, f, &w, &err)
		                             : other_decide(ch, f, &w, &err);
	if (st == ST_PRECONDITION && ch->reread)
		st = err_set(&err, ST_CONFLICT, "state",
		             "referral was held by someone else at the same time");
	if (st != ST_OK) {
		http_reply_error(ch->r, st, &err);
		free(ch);
		return;
	}
	w.expected_version = f->version;
	if (ch->kind == CHANGE_STEP) {
		detail = step_detail(ch);
		w.detail_json = detail;
		w.audit_action = ch->step == REFERRAL_STEP_SEND ? "referral.send" : "referral.step";
	}
	actor_from_req(&actor, ch->r);
	store_referral_write(ch->r->app->db, f, &w, &actor, change_done, ch);
	free(detail);
}

/* Parse what every write shares (If-Match, required), then read the referral. */
static void change_start(struct http_req *r, enum change_kind kind)
{
	struct change *ch = xcalloc(1, sizeof *ch);
	const char *check = NULL;
	cJSON *body = NULL;
	struct err err;
	enum status st = ST_OK;

	err_clear(&err);
	ch->r = r;
	ch->kind = kind;
	if (kind == CHANGE_STEP || kind == CHANGE_PATCH || kind == CHANGE_ASSIGN) {
		st = http_body_json(r, &body, &err);
		if (st == ST_OK && kind == CHANGE_STEP)
			st = step_parse(body, ch, app_now(r->app), &err);
		else if (st == ST_OK && kind == CHANGE_PATCH)
			st = patch_parse(body, ch, &err);
		else if (st == ST_OK)
			st = assign_parse(body, ch, &err);
		cJSON_Delete(body);
	}
	if (st == ST_OK)
		st = http_if_match(r, &ch->if_match, &err);
	if (st == ST_OK && ch->if_match < 0)
		st = err_set(&err, ST_PRECONDITION_REQUIRED, "If-Match",
		             "a referral is changed with If-Match: \"<version>\" of the referral "
		             "as read");
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(ch);
		return;
	}
	if (kind == CHANGE_ASSIGN) {
		store_referral_get_holder(r->app->db, r->params[0], ch->user_id, change_got, ch);
		return;
	}
	if (ch->provider[0] != '\0')
		check = ch->provider;
	else if (ch->organisation[0] != '\0')
		check = ch->organisation;
	store_referral_get(r->app->db, r->params[0], check, change_got, ch);
}

static void referral_step_post(struct http_req *r)
{
	change_start(r, CHANGE_STEP);
}

static void referral_patch(struct http_req *r)
{
	change_start(r, CHANGE_PATCH);
}

static void referral_hold(struct http_req *r)
{
	change_start(r, CHANGE_HOLD);
}

static void referral_release(struct http_req *r)
{
	change_start(r, CHANGE_RELEASE);
}

static void referral_assign(struct http_req *r)
{
	change_start(r, CHANGE_ASSIGN);
}

/* ---- GET /api/v1/social-workers: a team lead's picker ---------------------------------- */

static void social_workers_list(struct http_req *r)
{
	store_referral_holders(r->app->db, http_json_ok, r);
}

/*
 * The step's side decides the action (lib/referral.h referral_step_side:
 * ACCESS_REFERRAL_SEND for the trust's, ACCESS_REFERRAL_RESPOND for the
 * partner's), so POST .../steps declares reading and checks the side's
 * action once the step and the referral are known.
 */
const struct route referral_routes[] = {
    ROUTE(EVHTTP_REQ_GET, "/api/v1/referrals", referrals_list, ACCESS_REFERRAL_READ, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/referrals/{id}", referral_get, ACCESS_REFERRAL_READ,
          ROUTE_ID_REFERRAL),
    ROUTE(EVHTTP_REQ_PATCH, "/api/v1/referrals/{id}", referral_patch, ACCESS_REFERRAL_SEND,
          ROUTE_ID_REFERRAL),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/referrals/{id}/steps", referral_steps_get, ACCESS_REFERRAL_READ,
          ROUTE_ID_REFERRAL),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/referrals/{id}/steps", referral_step_post, ACCESS_REFERRAL_READ,
          ROUTE_ID_REFERRAL),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/referrals/{id}/hold", referral_hold, ACCESS_REFERRAL_SEND,
          ROUTE_ID_REFERRAL),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/referrals/{id}/release", referral_release, ACCESS_REFERRAL_SEND,
          ROUTE_ID_REFERRAL),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/referrals/{id}/assign", referral_assign, ACCESS_REFERRAL_ASSIGN,
          ROUTE_ID_REFERRAL),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/social-workers", social_workers_list, ACCESS_REFERRAL_ASSIGN,
          ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/episodes/{id}/referrals", episode_referrals_get,
          ACCESS_REFERRAL_READ, ROUTE_ID_EPISODE),
    ROUTE_END,
};

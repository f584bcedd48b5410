/*
 * api_admin.c - what administrators edit through the API.
 *
 *   GET   /api/v1/wards                      every ward, with its open episodes (any user)
 *   POST  /api/v1/wards                      add a ward (admin)
 *   PATCH /api/v1/wards/{code}               name, beds, pas_code, hub_organisation_id (admin)
 *   GET   /api/v1/task-templates             every template, in order (any user)
 *   POST  /api/v1/task-templates             add a template (admin)
 *   PATCH /api/v1/task-templates/{id}        change a template; If-Match (admin)
 *   GET   /api/v1/users                      every user (admin)
 *   POST  /api/v1/users                      add a user, without a password (admin)
 *   POST  /api/v1/users/{id}/disable         disable a user, revoke its tokens (admin)
 *   POST  /api/v1/users/{id}/unlock          forget its failed sign-ins, unlocking it (admin)
 *   GET   /api/v1/organisations              every organisation (?kind=); to pick one
 *                                            (hub, council and social workers, bed
 *                                            managers: the public fields of enabled ones)
 *   POST  /api/v1/organisations              add a hub, council or provider (admin)
 *   GET   /api/v1/organisations/{id}         one organisation, by id or code (as the list)
 *   PATCH /api/v1/organisations/{id}         name, services, local_authority_id; If-Match
 *   POST  /api/v1/organisations/{id}/disable disable it: its users and webhooks stop (admin)
 *
 * Thin handlers: authorise with lib/access, parse and validate with lib/
 * (template_validate, role_parse_user, lib/organisation.h), then one
 * store_admin call whose transaction holds the change, its audit row and its
 * outbox event.  What names an organisation (a user's, a ward's hub, a
 * council) is looked up first, so that lib/ decides on its kind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "admission.h"
#include "api.h"
#include "app.h"
#include "auth.h"
#include "json.h"
#include "organisation.h"
#include "store_admin.h"
#include "template.h"
#include "xmalloc.h"

#define WARD_CODE_MAX 32   /* as the wards table's CHECK */
#define WARD_NAME_MAX 200  /* as the wards table's CHECK */
#define WARD_BEDS_MAX 1000 /* as the wards table's CHECK */
#define PAS_CODE_MAX 64    /* a PV1-3.1 point of care */
#define USER_NAME_MAX 64   /* as the users table's CHECK */
#define DISPLAY_NAME_MAX 200
#define POSITION_MAX 1000000

static const char WARD_CODE_CHARS[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
static const char USER_NAME_CHARS[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-";

/* Whether s is a ward code: 1..32 of letters, digits, "_" and "-", not starting with either. */
static bool ward_code_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= WARD_CODE_MAX && strspn(s, WARD_CODE_CHARS) == n && s[0] != '_' &&
	       s[0] != '-';
}

/* Parse the body of a request as a JSON object with only the allowed keys. */
static enum status body_object(struct http_req *r, const char *const *allowed_keys, cJSON **out,
                               struct err *err)
{
	enum status st = http_body_json(r, out, err);

	if (st == ST_OK)
		st = json_only_keys(*out, allowed_keys, err);
	return st;
}

/* ---- wards ---- */

static const char *const ward_fields[] = {"code", "name", "beds", "pas_code", "hub_organisation_id",
                                          NULL};
static const char *const ward_patch_fields[] = {"name", "beds", "pas_code", "hub_organisation_id",
                                                NULL};

/* The text fields of a ward request. */
struct ward_body {
	char code[WARD_CODE_MAX + 1];
	char name[WARD_NAME_MAX + 1];
	char pas_code[PAS_CODE_MAX + 1];
	char hub[40];    /* hub_organisation_id as given: an id or a code */
	char hub_id[37]; /* the organisation it names */
};

/* Read name, beds and pas_code (each optional) of body b into in and wb. */
static enum status ward_parse_common(const cJSON *b, struct ward_input *in, struct ward_body *wb,
                                     bool name_required, struct err *err)
{
	int64_t beds = 0;
	enum status st;

	if ((st = json_get_string(b, "name", name_required, wb->name, sizeof wb->name, err)) !=
	    ST_OK)
		return st;
	if (json_has(b, "name"))
		in->name = wb->name;
	if ((st = json_get_int(b, "beds", false, 0, WARD_BEDS_MAX, &beds, &in->set_beds, err)) !=
	    ST_OK)
		return st;
	in->beds = (int)beds;
	if (json_is_null(b, "pas_code")) {
		in->set_pas_code = true;
		in->pas_code = NULL;
	} else if (json_has(b, "pas_code")) {
		if ((st = json_get_string(b, "pas_code", true, wb->pas_code, sizeof wb->pas_code,
		                          err)) != ST_OK)
			return st;
		in->set_pas_code = true;
		in->pas_code = wb->pas_code;
	}
	if (json_is_null(b, "hub_organisation_id")) {
		in->set_hub = true;
		in->hub_organisation_id = NULL;
	} else if (json_has(b, "hub_organisation_id")) {
		if ((st = json_get_string(b, "hub_organisation_id", true, wb->hub, sizeof wb->hub,
		                          err)) != ST_OK)
			return st;
		in->set_hub = true;
		in->hub_organisation_id = wb->hub; /* a name until looked up */
	}
	return ST_OK;
}

/* A ward write waiting for its hub organisation to be looked up. */
struct ward_write {
	struct http_req *r;   /* the request */
	bool creating;        /* POST, else PATCH */
	struct ward_input in; /* parsed; its strings point into wb */
	struct ward_body wb;  /* the text fields */
};

static void ward_write_run(struct ward_write *ww)
{
	struct actor actor;

	actor_from_req(&actor, ww->r);
	if (ww->creating)
		store_ward_add(ww->r->app->db, &ww->in, &actor, http_json_created, ww->r);
	else
		store_ward_update(ww->r->app->db, &ww->in, &actor, http_json_ok, ww->r);
	free(ww);
}

static void ward_hub_got(enum status st, const struct organisation_facts *hub,
                         const struct organisation_facts *unused, void *arg)
{
	struct ward_write *ww = arg;
	struct err err;

	(void)unused;
	if (st == ST_OK)
		st = organisation_check_ward_hub(hub->found && !hub->disabled ? hub->kind : NULL,
		                                 &err);
	if (st != ST_OK) {
		http_reply_error(ww->r, st, &err);
		free(ww);
		return;
	}
	snprintf(ww->wb.hub_id, sizeof ww->wb.hub_id, "%s", hub->id);
	ww->in.hub_organisation_id = ww->wb.hub_id;
	ward_write_run(ww);
}

/* Write the ward parsed into ww (owned), once its hub, if named, is found fit. */
static void ward_write(struct ward_write *ww)
{
	if (ww->in.hub_organisation_id == NULL) {
		ward_write_run(ww);
		return;
	}
	store_organisation_get(ww->r->app->db, ww->in.hub_organisation_id, NULL, ward_hub_got, ww);
}

static void wards_list(struct http_req *r)
{
	store_ward_list(r->app->db, http_json_ok, r);
}

static void wards_post(struct http_req *r)
{
	struct ward_write *ww = xcalloc(1, sizeof *ww);
	struct err err;
	cJSON *b = NULL;
	enum status st;

	ww->r = r;
	ww->creating = true;
	st = body_object(r, ward_fields, &b, &err);
	if (st == ST_OK)
		st = json_get_string(b, "code", true, ww->wb.code, sizeof ww->wb.code, &err);
	if (st == ST_OK && !ward_code_ok(ww->wb.code))
		st = err_set(&err, ST_INVALID, "code",
		             "\"code\" must be 1 to %d letters, digits, \"_\" or \"-\","
		             " starting with a letter or digit",
		             WARD_CODE_MAX);
	if (st == ST_OK)
		st = ward_parse_common(b, &ww->in, &ww->wb, true, &err);
	cJSON_Delete(b);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(ww);
		return;
	}
	ww->in.code = ww->wb.code;
	ward_write(ww);
}

static void ward_patch(struct http_req *r)
{
	struct ward_write *ww = xcalloc(1, sizeof *ww);
	struct err err;
	cJSON *b = NULL;
	enum status st;

	ww->r = r;
	st = body_object(r, ward_patch_fields, &b, &err);
	if (st == ST_OK && cJSON_GetArraySize(b) == 0)
		st = err_set(&err, ST_INVALID, NULL, "nothing to change: give at least one field");
	if (st == ST_OK && json_is_null(b, "name"))
		st = err_set(&err, ST_INVALID, "name", "\"name\" cannot be null");
	if (st == ST_OK && json_is_null(b, "beds"))
		st = err_set(&err, ST_INVALID, "beds", "\"beds\" cannot be null");
	if (st == ST_OK)
		st = ward_parse_common(b, &ww->in, &ww->wb, false, &err);
	cJSON_Delete(b);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(ww);
		return;
	}
	ww->in.code = r->params[0];
	ward_write(ww);
}

/* ---- task templates ---- */

static const char *const template_fields[] = {"min_pathway", "max_pathway", "discipline",
                                              "title",       "anchor",      "offset_seconds",
                                              "active",      "position",    NULL};

/*
 * Apply the fields present in b to t and *position (all of them required when
 * creating), then validate the result with lib/template.
 */
static enum status template_parse(const cJSON *b, bool creating, struct task_template *t,
                                  int *position, bool *has_position, struct err *err)
{
	/* wide ranges: template_validate() gives the rule and names the field */
	const int64_t lo = -2147483647, hi = 2147483647;
	char anchor[32];
	int64_t v;
	bool present;
	enum status st;

	for (int i = 0; template_fields[i] != NULL; i++)
		if (json_is_null(b, template_fields[i]))
			return err_set(err, ST_INVALID, template_fields[i], "\"%s\" cannot be null",
			               template_fields[i]);
	if ((st = json_get_int(b, "min_pathway", creating, lo, hi, &v, &present, err)) != ST_OK)
		return st;
	if (present)
		t->min_pathway = (int)v;
	if ((st = json_get_int(b, "max_pathway", creating, lo, hi, &v, &present, err)) != ST_OK)
		return st;
	if (present)
		t->max_pathway = (int)v;
	if ((st = json_get_string(b, "discipline", creating, t->discipline, sizeof t->discipline,
	                          err)) != ST_OK)
		return st;
	if ((st = json_get_string(b, "title", creating, t->title, sizeof t->title, err)) != ST_OK)
		return st;
	if (json_has(b, "anchor")) {
		if ((st = json_get_string(b, "anchor", true, anchor, sizeof anchor, err)) != ST_OK)
			return st;
		if ((st = template_anchor_parse(anchor, &t->anchor, err)) != ST_OK)
			return st;
	} else if (creating) {
		return err_set(err, ST_INVALID, "anchor", "missing required field \"anchor\"");
	}
	if ((st = json_get_int(b, "offset_seconds", creating, lo, hi, &v, &present, err)) != ST_OK)
		return st;
	if (present)
		t->offset_seconds = v;
	if ((st = json_get_bool(b, "active", false, &t->active, NULL, err)) != ST_OK)
		return st;
	if ((st = json_get_int(b, "position", false, -POSITION_MAX, POSITION_MAX, &v, &present,
	                       err)) != ST_OK)
		return st;
	if (present) {
		*position = (int)v;
		*has_position = true;
	}
	return template_validate(t, err);
}

static void templates_list(struct http_req *r)
{
	store_template_list(r->app->db, http_json_ok, r);
}

static void templates_post(struct http_req *r)
{
	struct task_template t;
	struct actor actor;
	struct err err;
	bool has_position = false;
	int position = 0;
	cJSON *b = NULL;
	enum status st;

	memset(&t, 0, sizeof t);
	t.active = true;
	st = body_object(r, template_fields, &b, &err);
	if (st == ST_OK)
		st = template_parse(b, true, &t, &position, &has_position, &err);
	cJSON_Delete(b);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		return;
	}
	actor_from_req(&actor, r);
	store_template_add(r->app->db, &t, has_position ? &position : NULL, &actor,
	                   http_json_created, r);
}

/* A template change waiting for the template to be read. */
struct template_change {
	struct http_req *r; /* the request */
	cJSON *body;        /* the parsed body, owned */
	int if_match;       /* -1 when no If-Match */
};

static void template_changed(enum status st, const struct err *err, const char *json, void *arg)
{
	struct http_req *r = arg;

	if (st != ST_OK)
		http_reply_error(r, st, err);
	else
		http_reply_json_versioned(r, 200, json);
}

static void template_got(enum status st, const struct template_facts *f, void *arg)
{
	struct template_change *tc = arg;
	struct task_template t;
	struct actor actor;
	struct err err;
	bool has_position = false;
	int position = 0;

	err_clear(&err);
	if (st == ST_NOT_FOUND)
		err_set(&err, st, "id", "task template not found");
	if (st == ST_OK && tc->if_match >= 0 && tc->if_match != f->version)
		st = err_set(&err, ST_PRECONDITION, NULL,
		             "task template is at version %d, not %d: reload it and try again",
		             f->version, tc->if_match);
	if (st == ST_OK) {
		t = f->t;
		position = f->position;
		st = template_parse(tc->body, false, &t, &position, &has_position, &err);
	}
	if (st != ST_OK) {
		http_reply_error(tc->r, st, &err);
	} else {
		actor_from_req(&actor, tc->r);
		store_template_update(tc->r->app->db, f, &t, position, &actor, template_changed,
		                      tc->r);
	}
	cJSON_Delete(tc->body);
	free(tc);
}

static void template_patch(struct http_req *r)
{
	struct template_change *tc;
	struct err err;
	cJSON *b = NULL;
	enum status st;
	int if_match;

	st = body_object(r, template_fields, &b, &err);
	if (st == ST_OK && cJSON_GetArraySize(b) == 0)
		st = err_set(&err, ST_INVALID, NULL, "nothing to change: give at least one field");
	if (st == ST_OK)
		st = http_if_match(r, &if_match, &err);
	if (st != ST_OK) {
		cJSON_Delete(b);
		http_reply_error(r, st, &err);
		return;
	}
	tc = xcalloc(1, sizeof *tc);
	tc->r = r;
	tc->body = b;
	tc->if_match = if_match;
	store_template_get(r->app->db, r->params[0], template_got, tc);
}

/* ---- users ---- */

static const char *const user_fields[] = {"name",      "role",         "wards", "display_name",
                                          "team_lead", "organisation", NULL};

/* The parsed body of a new user. */
struct user_body {
	char name[USER_NAME_MAX + 1];
	char display_name[DISPLAY_NAME_MAX + 1];
	char role[32];
	char wards[USER_MAX_WARDS][WARD_CODE_MAX + 1];
	const char *ward_ptrs[USER_MAX_WARDS];
	char organisation[40];    /* as given (an id or a code), else the trust's id */
	char organisation_id[37]; /* the organisation it names */
	enum role role_parsed;    /* the role parsed */
	struct user_input in;     /* the user, its strings pointing in here */
	struct http_req *r;       /* the request, while the organisation is looked up */
};

/* Read the "wards" array of b into ub and in. */
static enum status user_wards_parse(const cJSON *b, struct user_body *ub, struct user_input *in,
                                    struct err *err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(b, "wards");
	const cJSON *item;

	in->nwards = 0;
	if (arr == NULL || cJSON_IsNull(arr))
		return ST_OK;
	if (!cJSON_IsArray(arr))
		return err_set(err, ST_INVALID, "wards",
		               "\"wards\" must be an array of ward codes");
	if (cJSON_GetArraySize(arr) > USER_MAX_WARDS)
		return err_set(err, ST_INVALID, "wards", "\"wards\" may list at most %d wards",
		               USER_MAX_WARDS);
	cJSON_ArrayForEach(item, arr)
	{
		if (!cJSON_IsString(item) || !ward_code_ok(item->valuestring))
			return err_set(err, ST_INVALID, "wards",
			               "\"wards\" must be an array of ward codes");
		for (int i = 0; i < in->nwards; i++)
			if (strcmp(ub->wards[i], item->valuestring) == 0)
				return err_set(err, ST_INVALID, "wards",
				               "ward \"%s\" is listed twice", item->valuestring);
		snprintf(ub->wards[in->nwards], sizeof ub->wards[0], "%s", item->valuestring);
		ub->ward_ptrs[in->nwards] = ub->wards[in->nwards];
		in->nwards++;
	}
	in->wards = ub->ward_ptrs;
	return ST_OK;
}

static enum status user_parse(const cJSON *b, struct user_body *ub, struct user_input *in,
                              struct err *err)
{
	enum role role;
	enum status st;
	size_t n;

	if ((st = json_get_string(b, "name", true, ub->name, sizeof ub->name, err)) != ST_OK)
		return st;
	n = strlen(ub->name);
	if (strspn(ub->name, USER_NAME_CHARS) != n)
		return err_set(err, ST_INVALID, "name",
		               "\"name\" may contain only letters, digits, \".\", \"_\", \"@\" and "
		               "\"-\"");
	if ((st = json_get_string(b, "role", true, ub->role, sizeof ub->role, err)) != ST_OK)
		return st;
	if ((st = role_parse_user(ub->role, &role, err)) != ST_OK)
		return st;
	in->role = role_name(role);
	ub->role_parsed = role;
	snprintf(ub->organisation, sizeof ub->organisation, "%s", ORGANISATION_TRUST_ID);
	if ((st = json_get_string(b, "organisation", false, ub->organisation,
	                          sizeof ub->organisation, err)) != ST_OK)
		return st;
	ub->display_name[0] = '\0';
	if ((st = json_get_string(b, "display_name", false, ub->display_name,
	                          sizeof ub->display_name, err)) != ST_OK)
		return st;
	if ((st = json_get_bool(b, "team_lead", false, &in->team_lead, NULL, err)) != ST_OK)
		return st;
	if ((st = user_wards_parse(b, ub, in, err)) != ST_OK)
		return st;
	if (role == ROLE_NURSE && in->nwards == 0)
		return err_set(err, ST_INVALID, "wards", "a nurse needs at least one ward");
	/* a partner sees referrals, not wards: a ward list would mean nothing */
	if (role_is_partner(role) && in->nwards > 0)
		return err_set(err, ST_INVALID, "wards", "role \"%s\" has no wards", in->role);
	in->name = ub->name;
	in->display_name = ub->display_name;
	return ST_OK;
}

static void users_list(struct http_req *r)
{
	store_user_list(r->app->db, http_json_ok, r);
}

static void user_organisation_got(enum status st, const struct organisation_facts *o,
                                  const struct organisation_facts *unused, void *arg)
{
	struct user_body *ub = arg;
	struct http_req *r = ub->r;
	struct actor actor;
	struct err err;

	(void)unused;
	if (st == ST_OK && !o->found)
		st = err_set(&err, ST_INVALID, "organisation", "organisation \"%s\" does not exist",
		             ub->organisation);
	else if (st == ST_OK && o->disabled)
		st = err_set(&err, ST_INVALID, "organisation", "organisation \"%s\" is disabled",
		             o->code);
	if (st == ST_OK)
		st = role_fits_organisation(ub->role_parsed, o->kind, &err);
	if (st != ST_OK) {
		http_reply_error(r, st, st == ST_INVALID ? &err : NULL);
	} else {
		snprintf(ub->organisation_id, sizeof ub->organisation_id, "%s", o->id);
		ub->in.organisation_id = ub->organisation_id;
		actor_from_req(&actor, r);
		/* the store copies every value into its statements before returning */
		store_user_add(r->app->db, &ub->in, &actor, http_json_created, r);
	}
	free(ub);
}

static void users_post(struct http_req *r)
{
	struct user_body *ub;
	struct err err;
	cJSON *b = NULL;
	enum status st;

	ub = xcalloc(1, sizeof *ub);
	ub->r = r;
	st = body_object(r, user_fields, &b, &err);
	if (st == ST_OK)
		st = user_parse(b, ub, &ub->in, &err);
	cJSON_Delete(b);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(ub);
		return;
	}
	store_organisation_get(r->app->db, ub->organisation, NULL, user_organisation_got, ub);
}

/* A disabled user's tokens are revoked with it: no cached check may outlive the commit. */
static void user_disabled(enum status st, const struct err *err, const char *json, void *arg)
{
	struct http_req *r = arg;

	if (st == ST_OK)
		auth_cache_flush(r->app->auth_cache);
	http_json_ok(st, err, json, r);
}

static void user_disable(struct http_req *r)
{
	struct actor actor;
	struct err err;

	if (strcmp(r->params[0], r->principal.id) == 0) {
		/* an administrator locking themselves out needs another one to undo it */
		err_set(&err, ST_CONFLICT, "id", "cannot disable your own user");
		http_reply_error(r, ST_CONFLICT, &err);
		return;
	}
	actor_from_req(&actor, r);
	store_user_disable(r->app->db, r->params[0], &actor, user_disabled, r);
}

static void user_unlock(struct http_req *r)
{
	struct actor actor;

	actor_from_req(&actor, r);
	store_user_unlock(r->app->db, r->params[0], &actor, http_json_ok, r);
}

/* ---- organisations ---- */

static const char *const organisation_fields[] = {
    "code", "name", "kind", "services", "local_authority_id", NULL};
static const char *const organisation_patch_fields[] = {
    "code", "name", "kind", "services", "local_authority_id", NULL};

/* An organisation write waiting for the organisations it names to be looked up. */
struct org_write {
	struct http_req *r;                  /* the request */
	bool creating;                       /* POST, else PATCH */
	int if_match;                        /* PATCH: -1 when no If-Match */
	bool set_name, set_services, set_la; /* PATCH: which fields were given */
	char code[ORGANISATION_CODE_MAX + 2];
	char name[ORGANISATION_NAME_MAX + 2];
	char kind[24];
	enum referral_service_kind services[REFERRAL_SERVICE_KIND_COUNT];
	size_t nservices;
	char la[40]; /* local_authority_id as given (an id or a code), "" for none */
};

/* Read "services" of b (an array of service kinds, or null for none) into ow. */
static enum status org_services_parse(const cJSON *b, struct org_write *ow, struct err *err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(b, "services");
	const cJSON *item;

	ow->nservices = 0;
	if (arr == NULL || cJSON_IsNull(arr))
		return ST_OK;
	if (!cJSON_IsArray(arr))
		return err_set(err, ST_INVALID, "services",
		               "\"services\" must be an array of service kinds");
	cJSON_ArrayForEach(item, arr)
	{
		enum referral_service_kind k;

		if (ow->nservices == REFERRAL_SERVICE_KIND_COUNT ||
		    referral_service_kind_parse(cJSON_IsString(item) ? item->valuestring : NULL, &k,
		                                NULL) != ST_OK)
			return err_set(err, ST_INVALID, "services",
			               "\"services\" must list each of \"home_care\", "
			               "\"reablement\", \"intermediate_care_bed\", \"care_home\", "
			               "\"equipment\", \"other\" at most once");
		ow->services[ow->nservices++] = k;
	}
	return ST_OK;
}

/* Read the fields of b present into ow (the ones a POST needs required). */
static enum status org_parse(const cJSON *b, struct org_write *ow, struct err *err)
{
	enum organisation_kind kind;
	enum status st;

	if (!ow->creating) {
		if (json_has(b, "code"))
			return err_set(err, ST_INVALID, "code",
			               "an organisation's code cannot be changed");
		if (json_has(b, "kind"))
			return err_set(err, ST_INVALID, "kind",
			               "an organisation's kind cannot be changed");
		if (json_is_null(b, "name"))
			return err_set(err, ST_INVALID, "name", "\"name\" cannot be null");
	}
	if (ow->creating) {
		if ((st = json_get_string(b, "code", true, ow->code, sizeof ow->code, err)) !=
		    ST_OK)
			return st;
		if ((st = json_get_string(b, "kind", true, ow->kind, sizeof ow->kind, err)) !=
		    ST_OK)
			return st;
		if ((st = organisation_kind_parse(ow->kind, &kind, err)) != ST_OK)
			return st;
		if (kind == ORGANISATION_TRUST)
			return err_set(err, ST_INVALID, "kind",
			               "there is one trust, made at installation: add a "
			               "\"local_authority\", \"hub\" or \"provider\"");
	}
	if ((st = json_get_string(b, "name", ow->creating, ow->name, sizeof ow->name, err)) !=
	    ST_OK)
		return st;
	ow->set_name = json_has(b, "name");
	ow->set_services = json_has(b, "services");
	if ((st = org_services_parse(b, ow, err)) != ST_OK)
		return st;
	ow->set_la = json_has(b, "local_authority_id") || json_is_null(b, "local_authority_id");
	if (ow->set_la && !json_is_null(b, "local_authority_id") &&
	    (st = json_get_string(b, "local_authority_id", true, ow->la, sizeof ow->la, err)) !=
	        ST_OK)
		return st;
	return ST_OK;
}

static void org_reply(struct http_req *r, int code, enum status st, const struct err *err,
                      const char *json)
{
	if (st != ST_OK)
		http_reply_error(r, st, err);
	else
		http_reply_json_versioned(r, code, json);
}

static void org_created(enum status st, const struct err *err, const char *json, void *arg)
{
	org_reply(arg, 201, st, err, json);
}

static void org_updated(enum status st, const struct err *err, const char *json, void *arg)
{
	org_reply(arg, 200, st, err, json);
}

/* Organisation self (PATCH) and the council named (la) are read: decide and write. */
static void org_got(enum status st, const struct organisation_facts *self,
                    const struct organisation_facts *la, void *arg)
{
	struct org_write *ow = arg;
	struct http_req *r = ow->r;
	struct organisation_fields f = {0};
	struct organisation_write w = {0};
	const char *names[REFERRAL_SERVICE_KIND_COUNT];
	enum organisation_kind kind = ORGANISATION_PROVIDER;
	struct actor actor;
	struct err err;

	err_clear(&err);
	if (st == ST_OK && !ow->creating && !self->found)
		st = err_set(&err, ST_NOT_FOUND, "id", "organisation not found");
	if (st == ST_OK && !ow->creating && ow->if_match >= 0 && ow->if_match != self->version)
		st = err_set(&err, ST_PRECONDITION, NULL,
		             "organisation is at version %d, not %d: reload it and try again",
		             self->version, ow->if_match);
	if (st != ST_OK)
		goto out;
	if (!ow->creating) {
		/* a change starts from the organisation as it is */
		snprintf(ow->code, sizeof ow->code, "%s", self->code);
		snprintf(ow->kind, sizeof ow->kind, "%s", self->kind);
		if (!ow->set_name)
			snprintf(ow->name, sizeof ow->name, "%s", self->name);
		if (!ow->set_services) {
			char buf[256], *save = NULL;

			snprintf(buf, sizeof buf, "%s", self->services);
			ow->nservices = 0;
			for (char *t = strtok_r(buf, ",", &save); t != NULL;
			     t = strtok_r(NULL, ",", &save))
				if (ow->nservices < REFERRAL_SERVICE_KIND_COUNT &&
				    referral_service_kind_parse(t, &ow->services[ow->nservices],
				                                NULL) == ST_OK)
					ow->nservices++;
		}
		if (!ow->set_la)
			snprintf(ow->la, sizeof ow->la, "%s", self->local_authority_id);
	}
	if (organisation_kind_parse(ow->kind, &kind, &err) != ST_OK) {
		st = ST_INTERNAL; /* the table's CHECK allows no other */
		goto out;
	}
	f.code = ow->code;
	f.name = ow->name;
	f.kind = kind;
	f.services = ow->services;
	f.nservices = ow->nservices;
	if (ow->la[0] != '\0' && !ow->creating && !ow->set_la)
		f.local_authority_kind = "local_authority"; /* kept as it is (kinds never change) */
	else if (ow->la[0] != '\0')
		f.local_authority_kind = la->found && !la->disabled ? la->kind : "";
	if (!ow->creating && f.local_authority_kind != NULL && la->found &&
	    strcmp(la->id, self->id) == 0)
		f.local_authority_kind = "itself";
	st = organisation_validate(&f, &err);
	if (st != ST_OK)
		goto out;
	for (size_t i = 0; i < ow->nservices; i++)
		names[i] = referral_service_kind_name(ow->services[i]);
	w.code = ow->code;
	w.name = ow->name;
	w.kind = ow->kind;
	w.services = names;
	w.nservices = ow->nservices;
	w.local_authority_id = ow->la[0] == '\0'              ? NULL
	                       : !ow->creating && !ow->set_la ? ow->la
	                                                      : la->id;
	actor_from_req(&actor, r);
	if (ow->creating)
		store_organisation_add(r->app->db, &w, &actor, org_created, r);
	else
		store_organisation_update(r->app->db, self, &w, &actor, org_updated, r);
out:
	if (st != ST_OK)
		http_reply_error(r, st, &err);
	free(ow);
}

/* Whether r's principal sees organisations whole (an administrator), else only to pick one. */
static bool org_full_view(struct http_req *r)
{
	return access_check(&r->principal, ACCESS_ORGANISATION_MANAGE, NULL, NULL) == ST_OK;
}

/* The list, cut to organisation_public_list for those who only pick from it. */
static void organisations_listed(enum status st, const struct err *err, const char *json, void *arg)
{
	struct http_req *r = arg;
	cJSON *full;

	if (st != ST_OK || org_full_view(r)) {
		http_json_ok(st, err, json, r);
		return;
	}
	full = cJSON_Parse(json);
	http_reply_json(r, 200, organisation_public_list(full));
	cJSON_Delete(full);
}

static void organisations_list(struct http_req *r)
{
	enum organisation_kind kind;
	char buf[HTTP_PARAM_MAX];
	const char *k = http_query(r, "kind", buf, sizeof buf);
	struct err err;

	if (k != NULL && organisation_kind_parse(k, &kind, &err) != ST_OK) {
		http_reply_error(r, ST_INVALID, &err);
		return;
	}
	store_organisation_list(r->app->db, k, organisations_listed, r);
}

static void organisations_post(struct http_req *r)
{
	struct org_write *ow = xcalloc(1, sizeof *ow);
	struct err err;
	cJSON *b = NULL;
	enum status st;

	ow->r = r;
	ow->creating = true;
	ow->if_match = -1;
	st = body_object(r, organisation_fields, &b, &err);
	if (st == ST_OK)
		st = org_parse(b, ow, &err);
	cJSON_Delete(b);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(ow);
		return;
	}
	store_organisation_get(r->app->db, NULL, ow->la[0] != '\0' ? ow->la : NULL, org_got, ow);
}

static void organisation_patch(struct http_req *r)
{
	struct org_write *ow = xcalloc(1, sizeof *ow);
	struct err err;
	cJSON *b = NULL;
	enum status st;

	ow->r = r;
	st = body_object(r, organisation_patch_fields, &b, &err);
	if (st == ST_OK && cJSON_GetArraySize(b) == 0)
		st = err_set(&err, ST_INVALID, NULL, "nothing to change: give at least one field");
	if (st == ST_OK)
		st = org_parse(b, ow, &err);
	if (st == ST_OK)
		st = http_if_match(r, &ow->if_match, &err);
	cJSON_Delete(b);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(ow);
		return;
	}
	store_organisation_get(r->app->db, r->params[0], ow->la[0] != '\0' ? ow->la : NULL, org_got,
	                       ow);
}

static void organisation_read(enum status st, const struct organisation_facts *o,
                              const struct organisation_facts *unused, void *arg)
{
	struct http_req *r = arg;
	struct err err;

	cJSON *full, *pub = NULL;

	(void)unused;
	if (st == ST_OK && !o->found)
		st = err_set(&err, ST_NOT_FOUND, "id", "organisation not found");
	if (st != ST_OK) {
		http_reply_error(r, st, st == ST_NOT_FOUND ? &err : NULL);
		return;
	}
	if (org_full_view(r)) {
		http_reply_json_versioned(r, 200, o->json);
		return;
	}
	/* a disabled organisation cannot be picked: not found, as for the list */
	full = cJSON_Parse(o->json);
	pub = organisation_public_json(full);
	cJSON_Delete(full);
	if (pub == NULL) {
		err_set(&err, ST_NOT_FOUND, "id", "organisation not found");
		http_reply_error(r, ST_NOT_FOUND, &err);
	} else {
		http_reply_json(r, 200, pub);
	}
}

static void organisation_get(struct http_req *r)
{
	store_organisation_get(r->app->db, r->params[0], NULL, organisation_read, r);
}

/* An organisation disabled: its users' cached token checks must not outlive the commit. */
static void organisation_disabled(enum status st, const struct err *err, const char *json,
                                  void *arg)
{
	struct http_req *r = arg;

	if (st == ST_OK)
		auth_cache_flush(r->app->auth_cache);
	http_json_ok(st, err, json, r);
}

static void organisation_disable_got(enum status st, const struct organisation_facts *o,
                                     const struct organisation_facts *unused, void *arg)
{
	struct http_req *r = arg;
	struct actor actor;
	struct err err;

	(void)unused;
	if (st == ST_OK && !o->found)
		st = err_set(&err, ST_NOT_FOUND, "id", "organisation not found");
	if (st != ST_OK) {
		http_reply_error(r, st, st == ST_NOT_FOUND ? &err : NULL);
		return;
	}
	actor_from_req(&actor, r);
	store_organisation_disable(r->app->db, o->id, &actor, organisation_disabled, r);
}

static void organisation_disable(struct http_req *r)
{
	store_organisation_get(r->app->db, r->params[0], NULL, organisation_disable_got, r);
}

const struct route admin_routes[] = {
    ROUTE(EVHTTP_REQ_GET, "/api/v1/wards", wards_list, ACCESS_REFERENCE_READ, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/wards", wards_post, ACCESS_WARD_MANAGE, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_PATCH, "/api/v1/wards/{code}", ward_patch, ACCESS_WARD_MANAGE, ROUTE_ID_WARD),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/task-templates", templates_list, ACCESS_REFERENCE_READ,
          ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/task-templates", templates_post, ACCESS_TEMPLATE_MANAGE,
          ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_PATCH, "/api/v1/task-templates/{id}", template_patch, ACCESS_TEMPLATE_MANAGE,
          ROUTE_ID_TEMPLATE),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/users", users_list, ACCESS_USER_MANAGE, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/users", users_post, ACCESS_USER_MANAGE, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/users/{id}/disable", user_disable, ACCESS_USER_MANAGE,
          ROUTE_ID_USER),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/users/{id}/unlock", user_unlock, ACCESS_USER_MANAGE,
          ROUTE_ID_USER),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/organisations", organisations_list, ACCESS_ORGANISATION_READ,
          ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/organisations", organisations_post, ACCESS_ORGANISATION_MANAGE,
          ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/organisations/{id}", organisation_get, ACCESS_ORGANISATION_READ,
          ROUTE_ID_ORG),
    ROUTE(EVHTTP_REQ_PATCH, "/api/v1/organisations/{id}", organisation_patch,
          ACCESS_ORGANISATION_MANAGE, ROUTE_ID_ORG),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/organisations/{id}/disable", organisation_disable,
          ACCESS_ORGANISATION_MANAGE, ROUTE_ID_ORG),
    ROUTE_END,
};

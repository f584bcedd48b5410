/*
 * api_admin.c - what administrators edit through the API.
 *
 *   GET   /api/v1/wards                      every ward, with its open episodes (any user)
 *   POST  /api/v1/wards                      add a ward (admin)
 *   PATCH /api/v1/wards/{code}               name, beds, pas_code (admin)
 *   GET   /api/v1/task-templates             every template, in order (any user)
 *   POST  /api/v1/task-templates             add a template (admin)
 *   PATCH /api/v1/task-templates/{id}        change a template; If-Match (admin)
 *   GET   /api/v1/users                      every user (admin)
 *   POST  /api/v1/users                      add a user, without a password (admin)
 *   POST  /api/v1/users/{id}/disable         disable a user, revoke its tokens (admin)
 *   POST  /api/v1/users/{id}/unlock          forget its failed sign-ins, unlocking it (admin)
 *
 * Thin handlers: authorise with lib/access, parse and validate with lib/
 * (template_validate, role_parse_user), then one store_admin call whose
 * transaction holds the change, its audit row and its outbox event.
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

static const char *const ward_fields[] = {"code", "name", "beds", "pas_code", NULL};
static const char *const ward_patch_fields[] = {"name", "beds", "pas_code", NULL};

/* The text fields of a ward request. */
struct ward_body {
	char code[WARD_CODE_MAX + 1];
	char name[WARD_NAME_MAX + 1];
	char pas_code[PAS_CODE_MAX + 1];
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
	return ST_OK;
}

static void wards_list(struct http_req *r)
{
	store_ward_list(r->app->db, http_json_ok, r);
}

static void wards_post(struct http_req *r)
{
	struct ward_input in = {0};
	struct ward_body wb;
	struct actor actor;
	struct err err;
	cJSON *b = NULL;
	enum status st;

	st = body_object(r, ward_fields, &b, &err);
	if (st == ST_OK)
		st = json_get_string(b, "code", true, wb.code, sizeof wb.code, &err);
	if (st == ST_OK && !ward_code_ok(wb.code))
		st = err_set(&err, ST_INVALID, "code",
		             "\"code\" must be 1 to %d letters, digits, \"_\" or \"-\","
		             " starting with a letter or digit",
		             WARD_CODE_MAX);
	if (st == ST_OK)
		st = ward_parse_common(b, &in, &wb, true, &err);
	cJSON_Delete(b);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		return;
	}
	in.code = wb.code;
	actor_from_req(&actor, r);
	store_ward_add(r->app->db, &in, &actor, http_json_created, r);
}

static void ward_patch(struct http_req *r)
{
	struct ward_input in = {0};
	struct ward_body wb;
	struct actor actor;
	struct err err;
	cJSON *b = NULL;
	enum status st;

	st = body_object(r, ward_patch_fields, &b, &err);
	if (st == ST_OK && cJSON_GetArraySize(b) == 0)
		st = err_set(&err, ST_INVALID, NULL, "nothing to change: give at least one field");
	if (st == ST_OK && json_is_null(b, "name"))
		st = err_set(&err, ST_INVALID, "name", "\"name\" cannot be null");
	if (st == ST_OK && json_is_null(b, "beds"))
		st = err_set(&err, ST_INVALID, "beds", "\"beds\" cannot be null");
	if (st == ST_OK)
		st = ward_parse_common(b, &in, &wb, false, &err);
	cJSON_Delete(b);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		return;
	}
	in.code = r->params[0];
	actor_from_req(&actor, r);
	store_ward_update(r->app->db, &in, &actor, http_json_ok, r);
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

static const char *const user_fields[] = {"name",         "role",      "wards",
                                          "display_name", "team_lead", NULL};

/* The parsed body of a new user. */
struct user_body {
	char name[USER_NAME_MAX + 1];
	char display_name[DISPLAY_NAME_MAX + 1];
	char role[32];
	char wards[USER_MAX_WARDS][WARD_CODE_MAX + 1];
	const char *ward_ptrs[USER_MAX_WARDS];
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
	in->name = ub->name;
	in->display_name = ub->display_name;
	return ST_OK;
}

static void users_list(struct http_req *r)
{
	store_user_list(r->app->db, http_json_ok, r);
}

static void users_post(struct http_req *r)
{
	struct user_input in = {0};
	struct user_body *ub;
	struct actor actor;
	struct err err;
	cJSON *b = NULL;
	enum status st;

	ub = xcalloc(1, sizeof *ub);
	st = body_object(r, user_fields, &b, &err);
	if (st == ST_OK)
		st = user_parse(b, ub, &in, &err);
	cJSON_Delete(b);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
	} else {
		actor_from_req(&actor, r);
		/* the store copies every value into its statements before returning */
		store_user_add(r->app->db, &in, &actor, http_json_created, r);
	}
	free(ub);
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
    ROUTE_END,
};

/*
 * api_session.c - signing in and out of the web pages.
 *
 *   POST   /api/v1/session  {"name": ..., "password": ...} -> session cookie
 *   DELETE /api/v1/session  revoke the session (or token) used
 *   GET    /api/v1/me       who am I: id, name, role, wards
 *
 * The password check (argon2id) runs on the worker pool, never on the loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <uuid/uuid.h>

#include "api.h"
#include "app.h"
#include "auth.h"
#include "json.h"
#include "log.h"
#include "store_auth.h"
#include "work.h"
#include "xmalloc.h"

struct login {
	struct http_req *r;            /* the request */
	char name[65];                 /* user name given */
	char password[256];            /* password given; wiped after use */
	char user_id[37];              /* the user found */
	char stored[AUTH_PWHASH_SIZE]; /* its argon2id hash */
	bool ok;                       /* the worker's verdict */
	char token[AUTH_TOKEN_SIZE];   /* the new session secret */
	char token_id[37];             /* its row id */
};

static void login_free(struct login *l)
{
	sodium_memzero(l, sizeof *l);
	free(l);
}

static void reply_bad_login(struct http_req *r)
{
	struct err err;

	err_set(&err, ST_UNAUTHORIZED, NULL, "user name or password is wrong");
	http_reply_error(r, ST_UNAUTHORIZED, &err);
}

static void session_created(enum status st, const struct err *err, void *arg)
{
	struct login *l = arg;
	struct http_req *r = l->r;
	char cookie[256];
	cJSON *body;

	if (st != ST_OK) {
		http_reply_error(r, st, err);
		login_free(l);
		return;
	}
	auth_cookie_format(r->app->cfg, l->token, (long long)(r->app->cfg->session_ttl_ms / 1000),
	                   cookie, sizeof cookie);
	http_add_header(r, "Set-Cookie", cookie);
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "user_id", l->user_id);
	cJSON_AddStringToObject(body, "name", l->name);
	log_info("auth", "session created user=%s req=%s", l->user_id, r->id);
	login_free(l);
	http_reply_json(r, 200, body);
}

static void verify_job(void *arg)
{
	struct login *l = arg;

	l->ok = auth_password_verify(l->stored, l->password);
	sodium_memzero(l->password, sizeof l->password);
}

static void verify_done(void *arg)
{
	struct login *l = arg;
	char hex[AUTH_HASH_HEX_SIZE];
	uuid_t u;

	if (!l->ok) {
		log_info("auth", "login refused req=%s", l->r->id);
		reply_bad_login(l->r);
		login_free(l);
		return;
	}
	auth_token_new(l->token, hex);
	uuid_generate_random(u);
	uuid_unparse_lower(u, l->token_id);
	store_session_create(l->r->app->db, l->token_id, l->user_id, hex,
	                     (long)(l->r->app->cfg->session_ttl_ms / 1000), l->r->id,
	                     session_created, l);
}

static void login_fetched(enum status st, const struct login_row *row, void *arg)
{
	struct login *l = arg;

	if (st == ST_NOT_FOUND || (st == ST_OK && row->password_hash[0] == '\0')) {
		reply_bad_login(l->r);
		login_free(l);
		return;
	}
	if (st != ST_OK) {
		http_reply_error(l->r, st, NULL);
		login_free(l);
		return;
	}
	snprintf(l->user_id, sizeof l->user_id, "%s", row->id);
	snprintf(l->stored, sizeof l->stored, "%s", row->password_hash);
	if (work_submit(l->r->app->work, verify_job, verify_done, l) != 0) {
		struct err err;

		err_set(&err, ST_UNAVAILABLE, NULL, "too many sign-ins at once; try again");
		http_reply_error(l->r, ST_UNAVAILABLE, &err);
		login_free(l);
	}
}

static void session_create(struct http_req *r)
{
	static const char *const login_fields[] = {"name", "password", NULL};
	struct login *l = xcalloc(1, sizeof *l);
	struct err err;
	cJSON *root;
	enum status st;

	l->r = r;
	if (!r->app->cfg->password_login) {
		err_set(&err, ST_FORBIDDEN, NULL,
		        "password sign-in is switched off: sign in through the identity provider");
		http_reply_error(r, ST_FORBIDDEN, &err);
		login_free(l);
		return;
	}
	st = http_body_json(r, &root, &err);
	if (st == ST_OK)
		st = json_only_keys(root, login_fields, &err);
	if (st == ST_OK)
		st = json_get_string(root, "name", true, l->name, sizeof l->name, &err);
	if (st == ST_OK)
		st = json_get_string(root, "password", true, l->password, sizeof l->password, &err);
	cJSON_Delete(root);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		login_free(l);
		return;
	}
	store_login_fetch(r->app->db, l->name, login_fetched, l);
}

static void session_revoked(enum status st, const struct err *err, void *arg)
{
	struct http_req *r = arg;
	char cookie[128];

	if (st != ST_OK) {
		http_reply_error(r, st, err);
		return;
	}
	auth_cache_flush(r->app->auth_cache); /* committed: no cached check may outlive it */
	auth_cookie_format(r->app->cfg, "", 0, cookie, sizeof cookie);
	http_add_header(r, "Set-Cookie", cookie);
	oidc_logout_reply(r);
}

static void session_delete(struct http_req *r)
{
	store_token_revoke(r->app->db, r->token_id, r->principal.id, r->id, session_revoked, r);
}

static void me(struct http_req *r)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *wards = cJSON_AddArrayToObject(body, "wards");

	cJSON_AddStringToObject(body, "id", r->principal.id);
	cJSON_AddStringToObject(body, "name", r->principal.name);
	cJSON_AddStringToObject(body, "role", role_name(r->principal.role));
	for (size_t i = 0; i < r->principal.nwards; i++)
		cJSON_AddItemToArray(wards, cJSON_CreateString(r->principal.wards[i]));
	cJSON_AddStringToObject(
	    body, "discipline",
	    role_discipline(r->principal.role) ? role_discipline(r->principal.role) : "");
	http_reply_json(r, 200, body);
}

const struct route session_routes[] = {
    ROUTE_OPEN(EVHTTP_REQ_POST, "/api/v1/session", session_create, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_DELETE, "/api/v1/session", session_delete, ACCESS_SELF, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/me", me, ACCESS_SELF, ROUTE_ID_NONE),
    ROUTE_END,
};

/*
 * api_oidc.c - signing in through the trust's identity provider (OpenID
 * Connect, authorization code flow with PKCE).
 *
 *   GET /api/v1/auth/methods     how the sign-in page may sign in (public)
 *   GET /api/v1/oidc/login       302 to the provider, with state, nonce and a
 *                                PKCE challenge; the state is also kept in a
 *                                short cookie that binds it to this browser
 *   GET /api/v1/oidc/callback    the provider's redirect back: the state must
 *                                match the cookie and a sign-in begun in the
 *                                last 10 minutes (each used once); the code is
 *                                exchanged with the verifier, the ID token
 *                                checked (lib/jwt.c) and its claim matched to
 *                                a carebridge user; then a session cookie and
 *                                302 to "/".  A refusal is audited and answered
 *                                302 to /login?error=<reason>.
 *
 * Roles and wards stay carebridge's: the provider says who the person is,
 * carebridge what they may do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <sodium.h>
#include <uuid/uuid.h>

#include "api.h"
#include "app.h"
#include "auth.h"
#include "jwt.h"
#include "log.h"
#include "oidc.h"
#include "store_oidc.h"
#include "xmalloc.h"

#define OIDC_STATE_COOKIE "cb_oidc_state"
#define OIDC_RANDOM_SIZE 44 /* 32 random bytes as base64url, NUL included */

static void methods(struct http_req *r)
{
	const struct config *cfg = r->app->cfg;
	cJSON *body = cJSON_CreateObject();

	cJSON_AddBoolToObject(body, "password_login", cfg->password_login);
	cJSON_AddBoolToObject(body, "totp_required", cfg->totp_required);
	if (r->app->oidc != NULL) {
		cJSON *o = cJSON_AddObjectToObject(body, "oidc");

		cJSON_AddStringToObject(o, "label", cfg->oidc_button_label);
		cJSON_AddStringToObject(o, "login_url", "/api/v1/oidc/login");
	} else {
		cJSON_AddNullToObject(body, "oidc");
	}
	http_reply_json(r, 200, body);
}

/* 32 random bytes as base64url (43 characters). */
static void random_text(char out[OIDC_RANDOM_SIZE])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof raw);
	b64url_encode(raw, sizeof raw, out, OIDC_RANDOM_SIZE);
	sodium_memzero(raw, sizeof raw);
}

/* 302 to /login?error=code (the page explains it). */
static void to_login(struct http_req *r, const char *code)
{
	char loc[96];

	snprintf(loc, sizeof loc, "/login?error=%s", code);
	http_add_header(r, "Location", loc);
	http_reply_empty(r, 302);
}

static bool oidc_enabled(struct http_req *r)
{
	struct err err;

	if (r->app->oidc != NULL)
		return true;
	err_set(&err, ST_NOT_FOUND, NULL, "sign-in through an identity provider is not configured");
	http_reply_error(r, ST_NOT_FOUND, &err);
	return false;
}

/* ---- GET /api/v1/oidc/login ------------------------------------------------------------ */

struct begin {
	struct http_req *r;              /* the request */
	char state[OIDC_RANDOM_SIZE];    /* binds the callback to this sign-in and browser */
	char nonce[OIDC_RANDOM_SIZE];    /* binds the ID token to this sign-in */
	char verifier[OIDC_RANDOM_SIZE]; /* PKCE: proves the code is redeemed by us */
};

static void begin_free(struct begin *b)
{
	sodium_memzero(b, sizeof *b);
	free(b);
}

static void begin_meta(enum status st, const struct err *err, const struct oidc_meta *m, void *arg)
{
	struct begin *b = arg;
	struct http_req *r = b->r;
	const struct config *cfg = r->app->cfg;
	char challenge[44], cookie[160];
	char *id, *ru, *scope, *loc;

	if (st != ST_OK) {
		to_login(r, "provider_unavailable");
		begin_free(b);
		return;
	}
	pkce_challenge(b->verifier, challenge);
	id = evhttp_uriencode(cfg->oidc_client_id, -1, 0);
	ru = evhttp_uriencode(cfg->oidc_redirect_uri, -1, 0);
	scope = evhttp_uriencode(cfg->oidc_scopes, -1, 0);
	loc = xasprintf("%s%sresponse_type=code&client_id=%s&redirect_uri=%s&scope=%s&state=%s"
	                "&nonce=%s&code_challenge=%s&code_challenge_method=S256",
	                m->authorization_endpoint,
	                strchr(m->authorization_endpoint, '?') != NULL ? "&" : "?", id, ru, scope,
	                b->state, b->nonce, challenge);
	/* Lax: the browser sends it on the provider's top-level redirect back to us */
	snprintf(cookie, sizeof cookie,
	         "%s=%s; Path=/api/v1/oidc/; HttpOnly; SameSite=Lax; Max-Age=600%s",
	         OIDC_STATE_COOKIE, b->state, cfg->cookie_secure ? "; Secure" : "");
	http_add_header(r, "Set-Cookie", cookie);
	http_add_header(r, "Location", loc);
	http_reply_empty(r, 302);
	free(id);
	free(ru);
	free(scope);
	free(loc);
	begin_free(b);
}

static void begin_stored(enum status st, const struct err *err, void *arg)
{
	struct begin *b = arg;

	if (st != ST_OK) {
		http_reply_error(b->r, st, err);
		begin_free(b);
		return;
	}
	oidc_meta_get(b->r->app->oidc, false, begin_meta, b);
}

static void oidc_login(struct http_req *r)
{
	struct begin *b;

	if (!oidc_enabled(r))
		return;
	b = xcalloc(1, sizeof *b);
	b->r = r;
	random_text(b->state);
	random_text(b->nonce);
	random_text(b->verifier);
	store_oidc_begin(r->app->db, b->state, b->nonce, b->verifier, begin_stored, b);
}

/* ---- GET /api/v1/oidc/callback --------------------------------------------------------- */

struct finish {
	struct http_req *r;          /* the request */
	char code[512];              /* the authorization code */
	struct oidc_pending p;       /* nonce and verifier of the sign-in */
	char *id_token;              /* owned: the provider's ID token */
	struct jwt jwt;              /* it decoded */
	bool keys_refreshed;         /* the key set was fetched again for an unknown kid */
	char subject[256];           /* the claim matched to a user */
	char token[AUTH_TOKEN_SIZE]; /* the new session secret */
	char token_id[37];           /* its row */
};

static void finish_free(struct finish *f)
{
	jwt_reset(&f->jwt);
	free(f->id_token);
	sodium_memzero(f, sizeof *f);
	free(f);
}

/* Refuse the sign-in: audit reason (and the subject, once known), 302 to /login. */
static void refuse(struct finish *f, const char *reason, const char *why)
{
	struct http_req *r = f->r;

	log_info("oidc", "sign-in refused reason=%s (%s) req=%s", reason, why, r->id);
	store_oidc_refused(r->app->db, reason, f->subject, r->id);
	to_login(r, reason);
	finish_free(f);
}

static void session_opened(enum status st, const struct oidc_user *u, void *arg)
{
	struct finish *f = arg;
	struct http_req *r = f->r;
	char cookie[256];

	if (st == ST_NOT_FOUND) {
		refuse(f, "unknown_user", "no enabled user is linked to this identity");
		return;
	}
	if (st != ST_OK) {
		to_login(r, "unavailable");
		finish_free(f);
		return;
	}
	auth_cookie_format(r->app->cfg, f->token, (long long)(r->app->cfg->session_ttl_ms / 1000),
	                   cookie, sizeof cookie);
	http_add_header(r, "Set-Cookie", cookie);
	snprintf(cookie, sizeof cookie,
	         "%s=; Path=/api/v1/oidc/; HttpOnly; SameSite=Lax; Max-Age=0", OIDC_STATE_COOKIE);
	http_add_header(r, "Set-Cookie", cookie);
	http_add_header(r, "Location", "/");
	log_info("auth", "session created through the identity provider user=%s req=%s", u->id,
	         r->id);
	http_reply_empty(r, 302);
	finish_free(f);
}

/* The claim naming the user, per oidc_user_claim; NULL (and why) if unusable. */
static const char *subject_of(const struct finish *f, const char *claim, const char **why)
{
	const cJSON *verified;
	const char *v = jwt_claim_string(&f->jwt, claim);

	*why = "the ID token does not carry the configured claim";
	if (v == NULL || v[0] == '\0' || strlen(v) >= sizeof f->subject)
		return NULL;
	if (strcmp(claim, "email") == 0) {
		/* an e-mail the provider has not verified names nobody */
		verified = cJSON_GetObjectItemCaseSensitive(f->jwt.claims, "email_verified");
		if (cJSON_IsFalse(verified)) {
			*why = "the e-mail address is not verified";
			return NULL;
		}
	}
	return v;
}

static void check_token(enum status st, const struct err *err, const struct oidc_meta *m,
                        void *arg);

static void token_got(enum status st, const struct err *err, const char *id_token, void *arg)
{
	struct finish *f = arg;

	if (st != ST_OK) {
		refuse(f, st == ST_UNAVAILABLE ? "provider_unavailable" : "code_refused",
		       err->message);
		return;
	}
	f->id_token = xstrdup(id_token);
	if (jwt_decode(f->id_token, &f->jwt, NULL) != ST_OK) {
		refuse(f, "bad_token", "ID token does not decode");
		return;
	}
	oidc_meta_get(f->r->app->oidc, false, check_token, f);
}

static void check_token(enum status st, const struct err *err, const struct oidc_meta *m, void *arg)
{
	struct finish *f = arg;
	struct http_req *r = f->r;
	struct jwt_expect e;
	struct err why;
	char hex[AUTH_HASH_HEX_SIZE];
	const char *subject, *no_subject;
	uuid_t u;

	if (st != ST_OK) {
		refuse(f, "provider_unavailable", err->message);
		return;
	}
	st = jwt_verify(&f->jwt, m->jwks, &why);
	if (st != ST_OK && !f->keys_refreshed && f->jwt.kid[0] != '\0') {
		/* the provider may have rotated its keys since we fetched them */
		f->keys_refreshed = true;
		oidc_meta_get(r->app->oidc, true, check_token, f);
		return;
	}
	e.issuer = m->issuer;
	e.client_id = r->app->cfg->oidc_client_id;
	e.nonce = f->p.nonce;
	e.now = app_now(r->app);
	if (st == ST_OK)
		st = jwt_check_claims(&f->jwt, &e, &why);
	if (st != ST_OK) {
		refuse(f, "bad_token", why.message);
		return;
	}
	subject = subject_of(f, r->app->cfg->oidc_user_claim, &no_subject);
	if (subject == NULL) {
		refuse(f, "bad_token", no_subject);
		return;
	}
	snprintf(f->subject, sizeof f->subject, "%s", subject);
	auth_token_new(f->token, hex);
	uuid_generate_random(u);
	uuid_unparse_lower(u, f->token_id);
	store_oidc_session(r->app->db, f->subject, f->token_id, hex,
	                   (long)(r->app->cfg->session_ttl_ms / 1000), f->id_token, r->id,
	                   session_opened, f);
}

static void exchange_meta(enum status st, const struct err *err, const struct oidc_meta *m,
                          void *arg)
{
	struct finish *f = arg;

	if (st != ST_OK) {
		refuse(f, "provider_unavailable", err->message);
		return;
	}
	oidc_exchange(f->r->app->oidc, m, f->code, f->p.verifier, token_got, f);
}

static void pending_taken(enum status st, const struct oidc_pending *p, void *arg)
{
	struct finish *f = arg;

	if (st == ST_NOT_FOUND) {
		refuse(f, "state", "no sign-in in flight with this state (expired or used)");
		return;
	}
	if (st != ST_OK) {
		to_login(f->r, "unavailable");
		finish_free(f);
		return;
	}
	f->p = *p;
	oidc_meta_get(f->r->app->oidc, false, exchange_meta, f);
}

/* The value of cookie name in r's Cookie header into buf; NULL if absent. */
static const char *cookie_value(struct http_req *r, const char *name, char *buf, size_t size)
{
	const char *c = http_header(r, "Cookie");
	size_t nlen = strlen(name);

	while (c != NULL && *c != '\0') {
		size_t n;

		c += strspn(c, " ;");
		n = strcspn(c, ";");
		if (n > nlen && strncmp(c, name, nlen) == 0 && c[nlen] == '=') {
			snprintf(buf, size, "%.*s", (int)(n - nlen - 1), c + nlen + 1);
			return buf;
		}
		c += n;
	}
	return NULL;
}

static void oidc_callback(struct http_req *r)
{
	char state[OIDC_RANDOM_SIZE + 8], bound[OIDC_RANDOM_SIZE + 8], error[64];
	struct finish *f;

	if (!oidc_enabled(r))
		return;
	f = xcalloc(1, sizeof *f);
	f->r = r;
	if (http_query(r, "error", error, sizeof error) != NULL) {
		/* the person cancelled, or the provider refused them */
		refuse(f, "provider_refused", "the provider answered with an error");
		return;
	}
	if (http_query(r, "state", state, sizeof state) == NULL ||
	    http_query(r, "code", f->code, sizeof f->code) == NULL ||
	    strlen(state) != OIDC_RANDOM_SIZE - 1) {
		refuse(f, "state", "the callback lacks its state or code");
		return;
	}
	/* the state must come back to the browser that began the sign-in (login CSRF) */
	if (cookie_value(r, OIDC_STATE_COOKIE, bound, sizeof bound) == NULL ||
	    sodium_memcmp(bound, state, OIDC_RANDOM_SIZE - 1) != 0) {
		refuse(f, "state", "the state is not this browser's");
		return;
	}
	store_oidc_take(r->app->db, state, pending_taken, f);
}

/* ---- single logout ------------------------------------------------------------------- */

struct logout {
	struct http_req *r; /* the sign-out request, its session already revoked */
	char *id_token;     /* owned: the session's ID token */
};

static void logout_meta(enum status st, const struct err *err, const struct oidc_meta *m, void *arg)
{
	struct logout *l = arg;
	const struct config *cfg = l->r->app->cfg;
	cJSON *body;
	char *hint, *id, *post = NULL, *url;

	if (st != ST_OK || m->end_session_endpoint[0] == '\0') {
		/* signed out of carebridge; the provider's own session stays */
		http_reply_empty(l->r, 204);
		free(l->id_token);
		free(l);
		return;
	}
	hint = evhttp_uriencode(l->id_token, -1, 0);
	id = evhttp_uriencode(cfg->oidc_client_id, -1, 0);
	if (cfg->oidc_post_logout_redirect_uri[0] != '\0')
		post = evhttp_uriencode(cfg->oidc_post_logout_redirect_uri, -1, 0);
	url = xasprintf("%s%sid_token_hint=%s&client_id=%s%s%s", m->end_session_endpoint,
	                strchr(m->end_session_endpoint, '?') != NULL ? "&" : "?", hint, id,
	                post != NULL ? "&post_logout_redirect_uri=" : "", post != NULL ? post : "");
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "logout_url", url);
	http_reply_json(l->r, 200, body);
	free(hint);
	free(id);
	free(post);
	free(url);
	free(l->id_token);
	free(l);
}

static void logout_token(enum status st, const char *id_token, void *arg)
{
	struct http_req *r = arg;
	struct logout *l;

	if (st != ST_OK || id_token[0] == '\0') {
		http_reply_empty(r, 204);
		return;
	}
	l = xcalloc(1, sizeof *l);
	l->r = r;
	l->id_token = xstrdup(id_token);
	oidc_meta_get(r->app->oidc, false, logout_meta, l);
}

void oidc_logout_reply(struct http_req *r)
{
	if (r->app->oidc == NULL || !r->via_session) {
		http_reply_empty(r, 204);
		return;
	}
	store_oidc_id_token(r->app->db, r->token_id, logout_token, r);
}

const struct route oidc_routes[] = {
    ROUTE_OPEN(EVHTTP_REQ_GET, "/api/v1/auth/methods", methods, ROUTE_ID_NONE),
    ROUTE_OPEN(EVHTTP_REQ_GET, "/api/v1/oidc/login", oidc_login, ROUTE_ID_NONE),
    ROUTE_OPEN(EVHTTP_REQ_GET, "/api/v1/oidc/callback", oidc_callback, ROUTE_ID_NONE),
    ROUTE_END,
};

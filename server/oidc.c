/*
 * oidc.c - the provider's discovery document, key set and token endpoint
 * (see oidc.h).
 *
 * Owns: the outbound HTTP client, the cached metadata and key set, and the
 * waiters queued behind a fetch in flight (one fetch at a time: a burst of
 * sign-ins after a restart asks the provider once).  Must not: log codes,
 * tokens or secrets.
 */
#include "oidc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>
#include <sodium.h>

#include "app.h"
#include "clock.h"
#include "config.h"
#include "httpc.h"
#include "log.h"
#include "xmalloc.h"

#define OIDC_TIMEOUT_MS 10000
#define OIDC_META_TTL_MS (3600 * 1000)
#define OIDC_KEYS_MIN_MS (60 * 1000) /* at most one forced key refresh a minute */

struct waiter {
	oidc_meta_cb *cb;    /* the caller's callback */
	void *arg;           /* its argument */
	struct waiter *next; /* queue order */
};

struct oidc {
	struct app *app;       /* the process */
	struct httpc *httpc;   /* owned */
	struct oidc_meta meta; /* valid when have_meta */
	cJSON *jwks;           /* owned: meta.jwks */
	bool have_meta;        /* meta and jwks are filled */
	int64_t fetched_ms;    /* monotonic time of the last good fetch */
	int64_t forced_ms;     /* monotonic time of the last refresh asked for an unknown key */
	bool fetching;         /* a fetch is in flight */
	bool want_keys;        /* the queued waiters asked for fresh keys */
	struct waiter *head;   /* owned: waiters for the fetch in flight */
	struct waiter **tail;  /* where the next one goes */
};

struct oidc *oidc_new(struct app *app, char *err, size_t size)
{
	struct oidc *o;

	err[0] = '\0';
	if (app->cfg->oidc_issuer[0] == '\0')
		return NULL;
	o = xcalloc(1, sizeof *o);
	o->app = app;
	o->tail = &o->head;
	o->httpc = httpc_new(app->base, app->cfg->oidc_ca_file, err, size);
	if (o->httpc == NULL) {
		free(o);
		return NULL;
	}
	return o;
}

/* Answer and free every waiter. */
static void answer_all(struct oidc *o, enum status st, const struct err *err)
{
	struct waiter *w = o->head, *next;

	o->head = NULL;
	o->tail = &o->head;
	for (; w != NULL; w = next) {
		next = w->next;
		w->cb(st, err, st == ST_OK ? &o->meta : NULL, w->arg);
		free(w);
	}
}

void oidc_free(struct oidc *o)
{
	struct err err;

	if (o == NULL)
		return;
	err_set(&err, ST_UNAVAILABLE, NULL, "carebridge is shutting down");
	answer_all(o, ST_UNAVAILABLE, &err);
	httpc_free(o->httpc);
	cJSON_Delete(o->jwks);
	free(o);
}

/* A string member of doc that must be a secure URL, into out; false if not. */
static bool url_member(const cJSON *doc, const char *name, bool required, char *out, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

	out[0] = '\0';
	if (v == NULL && !required)
		return true;
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= size ||
	    !config_url_is_secure(v->valuestring))
		return false;
	snprintf(out, size, "%s", v->valuestring);
	return true;
}

static void fetch_failed(struct oidc *o, const char *why)
{
	struct err err;

	log_warning("oidc", "identity provider not usable: %s", why);
	o->fetching = false;
	err_set(&err, ST_UNAVAILABLE, NULL, "the identity provider cannot be reached: %s", why);
	answer_all(o, ST_UNAVAILABLE, &err);
}

static void keys_done(int status, const char *body, size_t len, const char *error, void *arg)
{
	struct oidc *o = arg;
	cJSON *jwks;

	if (status != 200) {
		fetch_failed(o, status == 0 ? error : "key set request refused");
		return;
	}
	jwks = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(jwks, "keys"))) {
		cJSON_Delete(jwks);
		fetch_failed(o, "key set is not a JWK Set");
		return;
	}
	cJSON_Delete(o->jwks);
	o->jwks = jwks;
	o->meta.jwks = jwks;
	o->have_meta = true;
	o->fetched_ms = mono_ms();
	o->fetching = false;
	log_info("oidc", "identity provider metadata and %d signing keys loaded",
	         cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(jwks, "keys")));
	answer_all(o, ST_OK, NULL);
}

static void discovery_done(int status, const char *body, size_t len, const char *error, void *arg)
{
	struct oidc *o = arg;
	cJSON *doc;
	const cJSON *iss;
	char jwks_uri[OIDC_URL_MAX];
	struct oidc_meta m;
	bool ok;

	if (status != 200) {
		fetch_failed(o, status == 0 ? error : "discovery request refused");
		return;
	}
	doc = cJSON_ParseWithLength(body, len);
	iss = cJSON_GetObjectItemCaseSensitive(doc, "issuer");
	memset(&m, 0, sizeof m);
	/* OpenID Connect Discovery 1.0, 4.3: the issuer must be exactly the one configured */
	ok = cJSON_IsString(iss) && strcmp(iss->valuestring, o->app->cfg->oidc_issuer) == 0;
	ok = ok && url_member(doc, "authorization_endpoint", true, m.authorization_endpoint,
	                      sizeof m.authorization_endpoint);
	ok = ok &&
	     url_member(doc, "token_endpoint", true, m.token_endpoint, sizeof m.token_endpoint);
	ok = ok && url_member(doc, "jwks_uri", true, jwks_uri, sizeof jwks_uri);
	ok = ok && url_member(doc, "end_session_endpoint", false, m.end_session_endpoint,
	                      sizeof m.end_session_endpoint);
	cJSON_Delete(doc);
	if (!ok) {
		fetch_failed(o, "discovery document is not acceptable (issuer or endpoints)");
		return;
	}
	snprintf(m.issuer, sizeof m.issuer, "%s", o->app->cfg->oidc_issuer);
	m.jwks = o->jwks;
	o->meta = m;
	httpc_fetch(o->httpc, EVHTTP_REQ_GET, jwks_uri, NULL, NULL, NULL, OIDC_TIMEOUT_MS,
	            keys_done, o);
}

/* The end of the loop turn: answer the waiters from the cache. */
static void cached_cb(evutil_socket_t fd, short what, void *arg)
{
	struct oidc *o = arg;

	o->fetching = false;
	answer_all(o, ST_OK, NULL);
}

void oidc_meta_get(struct oidc *o, bool refresh_keys, oidc_meta_cb *cb, void *arg)
{
	struct waiter *w = xcalloc(1, sizeof *w);
	int64_t age = mono_ms() - o->fetched_ms;
	char url[OIDC_URL_MAX + 64];
	const char *iss = o->app->cfg->oidc_issuer;

	w->cb = cb;
	w->arg = arg;
	*o->tail = w;
	o->tail = &w->next;
	if (o->fetching)
		return;
	/* an unknown key id may mean rotated keys: fetch again, but not on every forged token */
	if (refresh_keys && o->have_meta &&
	    (o->forced_ms == 0 || mono_ms() - o->forced_ms >= OIDC_KEYS_MIN_MS))
		o->forced_ms = mono_ms();
	else
		refresh_keys = false;
	if (o->have_meta && age < OIDC_META_TTL_MS && !refresh_keys) {
		/* answered from the cache, still later from the loop */
		struct timeval now = {0, 0};

		o->fetching = true;
		event_base_once(o->app->base, -1, EV_TIMEOUT, cached_cb, o, &now);
		return;
	}
	o->fetching = true;
	snprintf(url, sizeof url, "%s%s.well-known/openid-configuration", iss,
	         iss[strlen(iss) - 1] == '/' ? "" : "/");
	httpc_fetch(o->httpc, EVHTTP_REQ_GET, url, NULL, NULL, NULL, OIDC_TIMEOUT_MS,
	            discovery_done, o);
}

/* A token request in flight. */
struct exchange {
	oidc_token_cb *cb; /* the caller's */
	void *arg;         /* its argument */
};

static void token_done(int status, const char *body, size_t len, const char *error, void *arg)
{
	struct exchange *x = arg;
	cJSON *doc = status != 0 ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *idt = cJSON_GetObjectItemCaseSensitive(doc, "id_token");
	struct err err;

	if (status == 200 && cJSON_IsString(idt)) {
		x->cb(ST_OK, NULL, idt->valuestring, x->arg);
	} else if (status == 0) {
		err_set(&err, ST_UNAVAILABLE, NULL, "the identity provider cannot be reached: %s",
		        error);
		x->cb(ST_UNAVAILABLE, &err, NULL, x->arg);
	} else {
		/* a refused code (expired, used, wrong verifier) or a reply without an ID token */
		err_set(&err, ST_UNAUTHORIZED, NULL,
		        "the identity provider refused the sign-in code (status %d)", status);
		x->cb(ST_UNAUTHORIZED, &err, NULL, x->arg);
	}
	cJSON_Delete(doc);
	free(x);
}

/* application/x-www-form-urlencoded value of s (caller frees). */
static char *form_encode(const char *s)
{
	char *e = evhttp_uriencode(s, -1, 1);

	ASSERT(e != NULL);
	return e;
}

void oidc_exchange(struct oidc *o, const struct oidc_meta *m, const char *code,
                   const char *verifier, oidc_token_cb *cb, void *arg)
{
	const struct config *cfg = o->app->cfg;
	struct exchange *x = xcalloc(1, sizeof *x);
	char *c = form_encode(code), *v = form_encode(verifier),
	     *ru = form_encode(cfg->oidc_redirect_uri);
	char *id = form_encode(cfg->oidc_client_id), *sec = form_encode(cfg->oidc_client_secret);
	char *pair = xasprintf("%s:%s", id, sec), *body, *auth;
	size_t b64len = sodium_base64_ENCODED_LEN(strlen(pair), sodium_base64_VARIANT_ORIGINAL);
	char *b64 = xmalloc(b64len);
	const char *headers[2];

	/* RFC 6749 2.3.1: client_secret_basic, id and secret form-encoded first */
	sodium_bin2base64(b64, b64len, (const unsigned char *)pair, strlen(pair),
	                  sodium_base64_VARIANT_ORIGINAL);
	auth = xasprintf("Authorization: Basic %s", b64);
	headers[0] = auth;
	headers[1] = NULL;
	body = xasprintf("grant_type=authorization_code&code=%s&redirect_uri=%s&code_verifier=%s",
	                 c, ru, v);
	x->cb = cb;
	x->arg = arg;
	httpc_fetch(o->httpc, EVHTTP_REQ_POST, m->token_endpoint, headers, body,
	            "application/x-www-form-urlencoded", OIDC_TIMEOUT_MS, token_done, x);
	sodium_memzero(pair, strlen(pair));
	sodium_memzero(b64, b64len);
	sodium_memzero(auth, strlen(auth));
	free(c);
	free(v);
	free(ru);
	free(id);
	free(sec);
	free(pair);
	free(b64);
	free(auth);
	free(body);
}

/*
 * auth.c - tokens, sessions, passwords and the per-request authentication
 * step (see auth.h).
 *
 * Owns: the token format ("cb_" + 43 base64url characters = 256 random bits
 * from the OS, via libsodium's randombytes), hashing (SHA-256: a token has
 * full entropy, so a fast hash suffices), and argon2id for passwords (with
 * libsodium's interactive limits).  Must not: log or store a secret.
 */
#include "auth.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <sodium.h>

#include "access.h"
#include "app.h"
#include "clock.h"
#include "csrf.h"
#include "http.h"
#include "listen.h"
#include "log.h"
#include "store_auth.h"
#include "xmalloc.h"

bool auth_init(void)
{
	return sodium_init() >= 0;
}

static void hash_hex(const unsigned char *hash, char out[AUTH_HASH_HEX_SIZE])
{
	out[0] = '\\';
	out[1] = 'x';
	sodium_bin2hex(out + 2, AUTH_HASH_HEX_SIZE - 2, hash, AUTH_HASH_SIZE);
}

void auth_token_hash_hex(const char *token, char out[AUTH_HASH_HEX_SIZE])
{
	unsigned char hash[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(hash, (const unsigned char *)token, strlen(token));
	hash_hex(hash, out);
}

void auth_token_new(char token[AUTH_TOKEN_SIZE], char out[AUTH_HASH_HEX_SIZE])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof raw);
	memcpy(token, "cb_", 3);
	sodium_bin2base64(token + 3, AUTH_TOKEN_SIZE - 3, raw, sizeof raw,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
	auth_token_hash_hex(token, out);
}

bool auth_password_hash(const char *password, char out[AUTH_PWHASH_SIZE])
{
	return crypto_pwhash_str(out, password, strlen(password),
	                         crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                         crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0;
}

bool auth_password_verify(const char *stored, const char *password)
{
	if (stored == NULL || stored[0] == '\0')
		return false;
	return crypto_pwhash_str_verify(stored, password, strlen(password)) == 0;
}

const char *auth_cookie_name(const struct config *cfg)
{
	return cfg->cookie_secure ? AUTH_COOKIE_SECURE : AUTH_COOKIE;
}

void auth_cookie_format(const struct config *cfg, const char *value, long long max_age_s, char *buf,
                        size_t size)
{
	snprintf(buf, size, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s",
	         auth_cookie_name(cfg), value, max_age_s, cfg->cookie_secure ? "; Secure" : "");
}

bool auth_password_needs_rehash(const char *stored)
{
	return crypto_pwhash_str_needs_rehash(stored, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}

const char *auth_request_secret(struct http_req *r, char *buf, size_t size, bool *via_cookie)
{
	const char *h = http_header(r, "Authorization");
	const char *name = auth_cookie_name(r->app->cfg);
	size_t nlen = strlen(name);
	const char *c;

	*via_cookie = false;
	if (h != NULL) {
		if (strncasecmp(h, "Bearer ", 7) != 0)
			return NULL;
		h += 7;
		while (*h == ' ')
			h++;
		snprintf(buf, size, "%s", h);
		return buf[0] != '\0' ? buf : NULL;
	}
	c = http_header(r, "Cookie");
	while (c != NULL && *c != '\0') {
		size_t n;

		while (*c == ' ' || *c == ';')
			c++;
		n = strcspn(c, ";");
		/* only the configured name: a plain cb_session beside __Host- is ignored */
		if (n > nlen && strncmp(c, name, nlen) == 0 && c[nlen] == '=') {
			size_t vlen = n - nlen - 1;

			if (vlen == 0 || vlen >= size)
				return NULL;
			memcpy(buf, c + nlen + 1, vlen);
			buf[vlen] = '\0';
			*via_cookie = true;
			return buf;
		}
		c += n;
	}
	return NULL;
}

/* Split "a,b,c" into the principal's ward list (owned by r). */
static void principal_set_wards(struct http_req *r, const char *csv)
{
	size_t n = 0, len = strlen(csv);

	r->ward_buf = xstrdup(csv);
	r->ward_ptrs = xcalloc(len / 2 + 2, sizeof *r->ward_ptrs);
	for (char *p = r->ward_buf; len > 0 && p != NULL;) {
		char *comma = strchr(p, ',');

		if (comma != NULL)
			*comma = '\0';
		r->ward_ptrs[n++] = p;
		p = comma != NULL ? comma + 1 : NULL;
	}
	r->principal.wards = r->ward_ptrs;
	r->principal.nwards = n;
}

enum {
	AUTH_CACHE_SLOTS = 1024,     /* direct-mapped by the token hash */
	AUTH_REFUSED_SLOTS = 1024,   /* refused checks kept, direct-mapped too */
	AUTH_REFUSED_TTL_MS = 10000, /* how long a refusal is kept at most */
};

struct auth_cache_entry {
	unsigned char hash[AUTH_HASH_SIZE]; /* SHA-256 of the token */
	bool used;                          /* holds a check */
	uint64_t gen, listen_gen;           /* the generations it was made under */
	int64_t until_ms;                   /* monotonic ms it may be used until */
	int64_t expires_ms;                 /* monotonic ms the token expires; -1: never */
	struct auth_user u;                 /* the check's result (wards point at wards) */
	char *wards;                        /* owned: the user's ward codes */
};

/*
 * A refused check: the same unknown, revoked or expired secret sent again
 * (a client with a stale token retrying, a guesser) is refused without asking
 * the database.  Dropped by the same generations as a positive entry, so a
 * secret made valid again (un-revoked, expiry moved, by any process) is seen.
 */
struct auth_refusal {
	unsigned char hash[AUTH_HASH_SIZE]; /* SHA-256 of the secret refused */
	bool used;                          /* holds a refusal */
	uint64_t gen, listen_gen;           /* the generations it was made under */
	int64_t until_ms;                   /* monotonic ms it may be used until */
};

struct auth_cache {
	int64_t ttl_ms;                 /* 0: keep nothing */
	uint64_t gen;                   /* bumped by auth_cache_flush */
	uint64_t hits, misses;          /* token checks answered from here, and not */
	uint64_t refused;               /* checks refused from here (refusals kept) */
	uint64_t malformed;             /* secrets refused for their form alone */
	struct auth_cache_entry *slots; /* owned, AUTH_CACHE_SLOTS of them (NULL if ttl 0) */
	struct auth_refusal *refusals;  /* owned, AUTH_REFUSED_SLOTS (NULL if ttl 0) */
};

/* A token lookup in flight: the request and what the cache needs to keep its result. */
struct auth_lookup {
	struct http_req *r;
	unsigned char hash[AUTH_HASH_SIZE];
	uint64_t gen, listen_gen;
	int64_t started_ms; /* monotonic ms the lookup was sent (expires_in counts from then) */
};

struct auth_cache *auth_cache_new(int64_t ttl_ms)
{
	struct auth_cache *c = xcalloc(1, sizeof *c);

	c->ttl_ms = ttl_ms;
	if (ttl_ms > 0) {
		c->slots = xcalloc(AUTH_CACHE_SLOTS, sizeof *c->slots);
		c->refusals = xcalloc(AUTH_REFUSED_SLOTS, sizeof *c->refusals);
	}
	return c;
}

void auth_cache_free(struct auth_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; c->slots != NULL && i < AUTH_CACHE_SLOTS; i++)
		free(c->slots[i].wards);
	if (c->slots != NULL)
		sodium_memzero(c->slots, AUTH_CACHE_SLOTS * sizeof *c->slots);
	free(c->slots);
	free(c->refusals);
	free(c);
}

void auth_cache_report(struct evbuffer *out, void *arg)
{
	struct auth_cache *c = arg;

	evbuffer_add_printf(out,
	                    "# HELP carebridge_auth_cache_total Token checks by where they were "
	                    "answered.\n"
	                    "# TYPE carebridge_auth_cache_total counter\n"
	                    "carebridge_auth_cache_total{result=\"hit\"} %" PRIu64 "\n"
	                    "carebridge_auth_cache_total{result=\"miss\"} %" PRIu64 "\n"
	                    "carebridge_auth_cache_total{result=\"refused\"} %" PRIu64 "\n"
	                    "carebridge_auth_cache_total{result=\"malformed\"} %" PRIu64 "\n",
	                    c->hits, c->misses, c->refused, c->malformed);
}

void auth_cache_flush(struct auth_cache *c)
{
	if (c != NULL)
		c->gen++;
}

static struct auth_cache_entry *cache_slot(struct auth_cache *c, const unsigned char *hash)
{
	uint32_t i;

	memcpy(&i, hash, sizeof i); /* a SHA-256: uniformly spread already */
	return &c->slots[i % AUTH_CACHE_SLOTS];
}

/*
 * The cache, if it may be used now: it keeps entries, and the LISTEN
 * connection is up after reading whatever has arrived on it (a change
 * notified already but not read yet must still count).  NULL otherwise.
 */
static struct auth_cache *cache_usable(struct app *app)
{
	struct auth_cache *c = app->auth_cache;

	if (c == NULL || c->slots == NULL || app->listen == NULL)
		return NULL;
	listen_poll(app->listen);
	return listen_is_up(app->listen) ? c : NULL;
}

/* Whether nothing has changed since a check made under these generations. */
static bool cache_current(struct app *app, uint64_t gen, uint64_t listen_gen)
{
	return gen == app->auth_cache->gen && listen_gen == listen_auth_generation(app->listen);
}

/*
 * The cached check of hash, if it may still be used (with the generation it
 * was made under and the token's expiry in *listen_gen and *expires_ms).
 */
static const struct auth_user *cache_get(struct app *app, const unsigned char *hash,
                                         uint64_t *listen_gen, int64_t *expires_ms)
{
	struct auth_cache *c = cache_usable(app);
	struct auth_cache_entry *e;

	if (c == NULL)
		return NULL;
	e = cache_slot(c, hash);
	if (!e->used || sodium_memcmp(e->hash, hash, AUTH_HASH_SIZE) != 0 ||
	    !cache_current(app, e->gen, e->listen_gen) || mono_ms() >= e->until_ms)
		return NULL;
	*listen_gen = e->listen_gen;
	*expires_ms = e->expires_ms;
	return &e->u;
}

/*
 * How stale a session's recorded last use may get before a use records it
 * again: a minute (one small write a minute per active session), less for
 * short idle timeouts.  A session is thus refused after between idle - 2 *
 * this and idle of no use.
 */
int64_t session_slide_ms(const struct config *cfg)
{
	return cfg->session_idle_ms / 4 < 60000 ? cfg->session_idle_ms / 4 : 60000;
}

/* Keep a check made under l's generations, unless something changed since it began. */
static void cache_put(struct app *app, const struct auth_lookup *l, const struct auth_user *u,
                      int64_t expires_ms)
{
	struct auth_cache *c = cache_usable(app);
	struct auth_cache_entry *e;
	int64_t ttl;

	if (c == NULL || !cache_current(app, l->gen, l->listen_gen))
		return;
	ttl = c->ttl_ms;
	if (u->expires_in >= 0 && u->expires_in * 1000 < ttl)
		ttl = u->expires_in * 1000;
	/*
	 * A session's uses served from here are not recorded: keep it no longer
	 * than the database would still accept it, nor than the slide interval,
	 * so that a session in use reaches the database (and slides) that often.
	 */
	if (u->idle_left_ms >= 0 && u->idle_left_ms < ttl)
		ttl = u->idle_left_ms;
	if (u->idle_left_ms >= 0 && session_slide_ms(app->cfg) < ttl)
		ttl = session_slide_ms(app->cfg);
	if (ttl <= 0)
		return;
	e = cache_slot(c, l->hash);
	memcpy(e->hash, l->hash, AUTH_HASH_SIZE);
	e->used = true;
	e->gen = l->gen;
	e->listen_gen = l->listen_gen;
	e->until_ms = mono_ms() + ttl;
	e->expires_ms = expires_ms;
	e->u = *u;
	free(e->wards);
	e->wards = xstrdup(u->wards);
	e->u.wards = e->wards;
}

/*
 * Refuse (403, naming the header) a change signed by the session cookie that
 * may have been sent by another site's page (lib/csrf.h); true if refused.
 */
static bool csrf_refused(struct http_req *r)
{
	char buf[128];
	struct err err;
	struct csrf_request q = {
	    .method = r->method,
	    .origin = http_header(r, "Origin"),
	    .fetch_site = http_header(r, "Sec-Fetch-Site"),
	    .content_type = http_header(r, "Content-Type"),
	    .has_body = evbuffer_get_length(evhttp_request_get_input_buffer(r->req)) > 0,
	};

	if (csrf_check(&q, http_public_origin(r->app->http, buf, sizeof buf), &err) == ST_OK)
		return false;
	log_info("auth", "cookie-signed change refused header=%s route=%s req=%s", err.field,
	         r->route->pattern, r->id);
	http_reply_error(r, ST_FORBIDDEN, &err);
	return true;
}

static struct auth_refusal *refusal_slot(struct auth_cache *c, const unsigned char *hash)
{
	uint32_t i;

	memcpy(&i, hash + 4, sizeof i); /* other bits than cache_slot's: no common collisions */
	return &c->refusals[i % AUTH_REFUSED_SLOTS];
}

/* Whether hash was refused recently and nothing has changed since. */
static bool refusal_get(struct app *app, const unsigned char *hash)
{
	struct auth_cache *c = cache_usable(app);
	struct auth_refusal *e;

	if (c == NULL)
		return false;
	e = refusal_slot(c, hash);
	return e->used && sodium_memcmp(e->hash, hash, AUTH_HASH_SIZE) == 0 &&
	       cache_current(app, e->gen, e->listen_gen) && mono_ms() < e->until_ms;
}

/* Keep a refusal made under l's generations (bounded: a slot holds the latest). */
static void refusal_put(struct app *app, const struct auth_lookup *l)
{
	struct auth_cache *c = cache_usable(app);
	struct auth_refusal *e;

	if (c == NULL || !cache_current(app, l->gen, l->listen_gen))
		return;
	e = refusal_slot(c, l->hash);
	memcpy(e->hash, l->hash, AUTH_HASH_SIZE);
	e->used = true;
	e->gen = l->gen;
	e->listen_gen = l->listen_gen;
	e->until_ms =
	    mono_ms() + (c->ttl_ms < AUTH_REFUSED_TTL_MS ? c->ttl_ms : AUTH_REFUSED_TTL_MS);
}

/* Whether secret has the form auth_token_new gives: "cb_" and 43 base64url characters. */
static bool secret_is_well_formed(const char *secret)
{
	if (strncmp(secret, "cb_", 3) != 0 || strlen(secret) != AUTH_TOKEN_LEN)
		return false;
	for (const char *p = secret + 3; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	return true;
}

/*
 * The token check of r ended: run the handler with r's principal, or reply.
 * listen_gen is the auth generation the check was made under and expires_ms
 * when the token expires (a stream keeps both, see hub.h).
 */
static void auth_done(enum status st, const struct auth_user *u, struct http_req *r,
                      uint64_t listen_gen, int64_t expires_ms)
{
	struct err err;

	if (st == ST_UNAUTHORIZED) {
		err_set(&err, ST_UNAUTHORIZED, NULL, "the token or session is not valid");
		http_reply_error(r, ST_UNAUTHORIZED, &err);
		return;
	}
	if (st != ST_OK) {
		http_reply_error(r, st, NULL);
		return;
	}
	if (strcmp(u->kind, "session") == 0 && csrf_refused(r))
		return;
	if (role_parse_user(u->role, &r->principal.role, &err) != ST_OK) {
		http_reply_error(r, ST_INTERNAL, NULL);
		return;
	}
	snprintf(r->principal.id, sizeof r->principal.id, "%s", u->id);
	snprintf(r->principal.name, sizeof r->principal.name, "%s", u->name);
	r->principal.team_lead = u->team_lead;
	snprintf(r->token_id, sizeof r->token_id, "%s", u->token_id);
	/* the partner rules of lib/access.c fail closed until this is set */
	snprintf(r->principal.organisation, sizeof r->principal.organisation, "%s",
	         u->organisation);
	snprintf(r->org_code, sizeof r->org_code, "%s", u->org_code);
	snprintf(r->org_name, sizeof r->org_name, "%s", u->org_name);
	snprintf(r->org_kind, sizeof r->org_kind, "%s", u->org_kind);
	r->auth_gen = listen_gen;
	r->auth_expires_ms = expires_ms;
	principal_set_wards(r, u->wards);
	r->authenticated = true;
	r->via_session = strcmp(u->kind, "session") == 0;
	http_route_run(r);
}

static void lookup_done(enum status st, const struct auth_user *u, void *arg)
{
	struct auth_lookup *l = arg;
	struct http_req *r = l->r;
	uint64_t listen_gen = l->listen_gen;
	int64_t expires_ms = -1;

	/* the database counted expires_in down from about when the lookup was sent */
	if (st == ST_OK && u->expires_in >= 0)
		expires_ms = l->started_ms + u->expires_in * 1000;
	if (st == ST_OK)
		cache_put(r->app, l, u, expires_ms);
	else if (st == ST_UNAUTHORIZED)
		refusal_put(r->app, l);
	free(l);
	auth_done(st, u, r, listen_gen, expires_ms);
}

void auth_begin(struct http_req *r)
{
	char secret[256], hex[AUTH_HASH_HEX_SIZE];
	const struct auth_user *u;
	struct auth_lookup *l;
	struct err err;
	uint64_t listen_gen = 0;
	int64_t expires_ms = -1;
	bool via_cookie;

	if (auth_request_secret(r, secret, sizeof secret, &via_cookie) == NULL) {
		err_set(
		    &err, ST_UNAUTHORIZED, NULL,
		    "authentication required: send \"Authorization: Bearer <token>\" or sign in");
		http_reply_error(r, ST_UNAUTHORIZED, &err);
		return;
	}
	/* no database round trip for what no token can look like */
	if (!secret_is_well_formed(secret)) {
		sodium_memzero(secret, sizeof secret);
		if (r->app->auth_cache != NULL)
			r->app->auth_cache->malformed++;
		auth_done(ST_UNAUTHORIZED, NULL, r, 0, -1);
		return;
	}
	l = xmalloc(sizeof *l);
	crypto_hash_sha256(l->hash, (const unsigned char *)secret, strlen(secret));
	sodium_memzero(secret, sizeof secret);
	u = cache_get(r->app, l->hash, &listen_gen, &expires_ms);
	if (u != NULL) {
		r->app->auth_cache->hits++;
		free(l);
		auth_done(ST_OK, u, r, listen_gen, expires_ms);
		return;
	}
	if (refusal_get(r->app, l->hash)) {
		r->app->auth_cache->refused++;
		free(l);
		auth_done(ST_UNAUTHORIZED, NULL, r, 0, -1);
		return;
	}
	if (r->app->auth_cache != NULL)
		r->app->auth_cache->misses++;
	l->r = r;
	l->gen = r->app->auth_cache != NULL ? r->app->auth_cache->gen : 0;
	l->listen_gen = r->app->listen != NULL ? listen_auth_generation(r->app->listen) : 0;
	l->started_ms = mono_ms();
	hash_hex(l->hash, hex);
	store_auth_lookup(r->app->db, hex, r->app->cfg->session_idle_ms,
	                  session_slide_ms(r->app->cfg), lookup_done, l);
}

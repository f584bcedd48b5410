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

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <sodium.h>

#include "access.h"
#include "app.h"
#include "clock.h"
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

bool auth_password_needs_rehash(const char *stored)
{
	return crypto_pwhash_str_needs_rehash(stored, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}

const char *auth_request_secret(struct http_req *r, char *buf, size_t size, bool *via_cookie)
{
	const char *h = http_header(r, "Authorization");
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
		if (strncmp(c, AUTH_COOKIE "=", sizeof AUTH_COOKIE) == 0) {
			size_t vlen = n - sizeof AUTH_COOKIE;

			if (vlen == 0 || vlen >= size)
				return NULL;
			memcpy(buf, c + sizeof AUTH_COOKIE, vlen);
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

enum { AUTH_CACHE_SLOTS = 1024 }; /* direct-mapped by the token hash */

struct auth_cache_entry {
	unsigned char hash[AUTH_HASH_SIZE]; /* SHA-256 of the token */
	bool used;                          /* holds a check */
	uint64_t gen, listen_gen;           /* the generations it was made under */
	int64_t until_ms;                   /* monotonic ms it may be used until */
	struct auth_user u;                 /* the check's result */
};

struct auth_cache {
	int64_t ttl_ms;                 /* 0: keep nothing */
	uint64_t gen;                   /* bumped by auth_cache_flush */
	uint64_t hits, misses;          /* token checks answered from here, and not */
	struct auth_cache_entry *slots; /* owned, AUTH_CACHE_SLOTS of them (NULL if ttl 0) */
};

/* A token lookup in flight: the request and what the cache needs to keep its result. */
struct auth_lookup {
	struct http_req *r;
	unsigned char hash[AUTH_HASH_SIZE];
	uint64_t gen, listen_gen;
};

struct auth_cache *auth_cache_new(int64_t ttl_ms)
{
	struct auth_cache *c = xcalloc(1, sizeof *c);

	c->ttl_ms = ttl_ms;
	if (ttl_ms > 0)
		c->slots = xcalloc(AUTH_CACHE_SLOTS, sizeof *c->slots);
	return c;
}

void auth_cache_free(struct auth_cache *c)
{
	if (c == NULL)
		return;
	if (c->slots != NULL)
		sodium_memzero(c->slots, AUTH_CACHE_SLOTS * sizeof *c->slots);
	free(c->slots);
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
	                    "carebridge_auth_cache_total{result=\"miss\"} %" PRIu64 "\n",
	                    c->hits, c->misses);
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

/* The cached check of hash, if it may still be used. */
static const struct auth_user *cache_get(struct app *app, const unsigned char *hash)
{
	struct auth_cache *c = cache_usable(app);
	struct auth_cache_entry *e;

	if (c == NULL)
		return NULL;
	e = cache_slot(c, hash);
	if (!e->used || sodium_memcmp(e->hash, hash, AUTH_HASH_SIZE) != 0 ||
	    !cache_current(app, e->gen, e->listen_gen) || mono_ms() >= e->until_ms)
		return NULL;
	return &e->u;
}

/* Keep a check made under l's generations, unless something changed since it began. */
static void cache_put(struct app *app, const struct auth_lookup *l, const struct auth_user *u)
{
	struct auth_cache *c = cache_usable(app);
	struct auth_cache_entry *e;
	int64_t ttl;

	if (c == NULL || !cache_current(app, l->gen, l->listen_gen))
		return;
	ttl = c->ttl_ms;
	if (u->expires_in >= 0 && u->expires_in * 1000 < ttl)
		ttl = u->expires_in * 1000;
	if (ttl <= 0)
		return;
	e = cache_slot(c, l->hash);
	memcpy(e->hash, l->hash, AUTH_HASH_SIZE);
	e->used = true;
	e->gen = l->gen;
	e->listen_gen = l->listen_gen;
	e->until_ms = mono_ms() + ttl;
	e->u = *u;
}

static void auth_done(enum status st, const struct auth_user *u, void *arg)
{
	struct http_req *r = arg;
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
	if (role_parse_user(u->role, &r->principal.role, &err) != ST_OK) {
		http_reply_error(r, ST_INTERNAL, NULL);
		return;
	}
	snprintf(r->principal.id, sizeof r->principal.id, "%s", u->id);
	snprintf(r->principal.name, sizeof r->principal.name, "%s", u->name);
	snprintf(r->token_id, sizeof r->token_id, "%s", u->token_id);
	principal_set_wards(r, u->wards);
	r->authenticated = true;
	r->via_session = strcmp(u->kind, "session") == 0;
	r->route->handler(r);
}

static void lookup_done(enum status st, const struct auth_user *u, void *arg)
{
	struct auth_lookup *l = arg;
	struct http_req *r = l->r;

	if (st == ST_OK)
		cache_put(r->app, l, u);
	free(l);
	auth_done(st, u, r);
}

void auth_begin(struct http_req *r)
{
	char secret[256], hex[AUTH_HASH_HEX_SIZE];
	const struct auth_user *u;
	struct auth_lookup *l;
	struct err err;
	bool via_cookie;

	if (auth_request_secret(r, secret, sizeof secret, &via_cookie) == NULL) {
		err_set(
		    &err, ST_UNAUTHORIZED, NULL,
		    "authentication required: send \"Authorization: Bearer <token>\" or sign in");
		http_reply_error(r, ST_UNAUTHORIZED, &err);
		return;
	}
	l = xmalloc(sizeof *l);
	crypto_hash_sha256(l->hash, (const unsigned char *)secret, strlen(secret));
	sodium_memzero(secret, sizeof secret);
	u = cache_get(r->app, l->hash);
	if (r->app->auth_cache != NULL && u != NULL)
		r->app->auth_cache->hits++;
	else if (r->app->auth_cache != NULL)
		r->app->auth_cache->misses++;
	if (u != NULL) {
		free(l);
		auth_done(ST_OK, u, r);
		return;
	}
	l->r = r;
	l->gen = r->app->auth_cache != NULL ? r->app->auth_cache->gen : 0;
	l->listen_gen = r->app->listen != NULL ? listen_auth_generation(r->app->listen) : 0;
	hash_hex(l->hash, hex);
	store_auth_lookup(r->app->db, hex, lookup_done, l);
}

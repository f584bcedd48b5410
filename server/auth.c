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

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "access.h"
#include "app.h"
#include "http.h"
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

void auth_begin(struct http_req *r)
{
	char secret[256], hex[AUTH_HASH_HEX_SIZE];
	struct err err;
	bool via_cookie;

	if (auth_request_secret(r, secret, sizeof secret, &via_cookie) == NULL) {
		err_set(
		    &err, ST_UNAUTHORIZED, NULL,
		    "authentication required: send \"Authorization: Bearer <token>\" or sign in");
		http_reply_error(r, ST_UNAUTHORIZED, &err);
		return;
	}
	auth_token_hash_hex(secret, hex);
	sodium_memzero(secret, sizeof secret);
	store_auth_lookup(r->app->db, hex, auth_done, r);
}

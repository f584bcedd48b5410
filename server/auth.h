/*
 * auth.h - who is calling: API tokens (Authorization: Bearer) and web sessions
 * (the HttpOnly cookie cb_session), both random 256-bit secrets of which only
 * a SHA-256 hash is stored; passwords hashed with argon2id (libsodium).
 */
#ifndef CB_AUTH_H
#define CB_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct http_req;

#define AUTH_TOKEN_SIZE 64    /* "cb_" + 43 base64url characters + NUL, rounded up */
#define AUTH_HASH_SIZE 32     /* SHA-256 */
#define AUTH_HASH_HEX_SIZE 67 /* "\\x" + 64 hex digits + NUL (bytea input) */
#define AUTH_PWHASH_SIZE 128  /* crypto_pwhash_STRBYTES */
#define AUTH_COOKIE "cb_session"

/* Initialise libsodium; false if it cannot be. */
bool auth_init(void);

/* A new random token (shown once) and its hash as bytea hex text for SQL. */
void auth_token_new(char token[AUTH_TOKEN_SIZE], char hash_hex[AUTH_HASH_HEX_SIZE]);

/* The bytea hex text of a token's hash. */
void auth_token_hash_hex(const char *token, char hash_hex[AUTH_HASH_HEX_SIZE]);

/* Hash a password with argon2id (slow on purpose: never on the loop); false on failure. */
bool auth_password_hash(const char *password, char out[AUTH_PWHASH_SIZE]);

/* Check a password against a stored hash (slow on purpose: never on the loop). */
bool auth_password_verify(const char *stored, const char *password);

/*
 * Authenticate r (token or session cookie) asynchronously, then run its
 * route's handler with r->principal filled, or reply 401.  Called by http.c
 * for every route that is not ROUTE_PUBLIC.
 */
void auth_begin(struct http_req *r);

/* The secret the request carries (Bearer token or session cookie), or NULL. */
const char *auth_request_secret(struct http_req *r, char *buf, size_t size, bool *via_cookie);

#endif

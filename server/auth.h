/*
 * auth.h - who is calling: API tokens (Authorization: Bearer) and web sessions
 * (the HttpOnly cookie __Host-cb_session, or cb_session with cookie_secure
 * off), both random 256-bit secrets of which only
 * a SHA-256 hash is stored; passwords hashed with argon2id (libsodium).
 */
#ifndef CB_AUTH_H
#define CB_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_req;

#define AUTH_TOKEN_SIZE 64       /* "cb_" + 43 base64url characters + NUL, rounded up */
#define AUTH_TOKEN_LEN 46        /* strlen of a token: "cb_" + 43 base64url characters */
#define AUTH_HASH_SIZE 32        /* SHA-256 */
#define AUTH_HASH_HEX_SIZE 67    /* "\\x" + 64 hex digits + NUL (bytea input) */
#define AUTH_PWHASH_SIZE 128     /* crypto_pwhash_STRBYTES */
#define AUTH_COOKIE "cb_session" /* with cookie_secure off (plain-HTTP development) */
#define AUTH_COOKIE_SECURE                                                                         \
	"__Host-cb_session" /* with cookie_secure on: Secure, Path=/, no Domain */

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

/* Whether a (valid) stored hash was made with other parameters than auth_password_hash uses. */
bool auth_password_needs_rehash(const char *stored);

struct app;
struct auth_cache;

/*
 * Token checks kept for up to ttl_ms (0: none kept), so that a client sending
 * request after request costs one database lookup, not one each.  An entry is
 * used only while the process's LISTEN connection is up, and every entry is
 * dropped when tokens, users or their wards change (a carebridge_auth
 * notification from any process or the CLI, see listen_auth_generation), when
 * this process revokes a token or disables a user (auth_cache_flush), and at
 * the token's own expiry.
 */
/*
 * How stale a session's recorded last use may get before a use records it
 * again: a session ends between session_idle - 2 * this and session_idle
 * after its last use.
 */
struct config;
int64_t session_slide_ms(const struct config *cfg);

struct auth_cache *auth_cache_new(int64_t ttl_ms);
void auth_cache_free(struct auth_cache *c);

struct evbuffer;

/* Its hit and miss counters in the Prometheus text format (a metrics reporter). */
void auth_cache_report(struct evbuffer *out, void *arg);

/* Drop every cached token check (call after committing a change to tokens or users). */
void auth_cache_flush(struct auth_cache *c);

/*
 * Authenticate r (token or session cookie) asynchronously, then run its
 * route's handler with r->principal filled, or reply 401.  Called by http.c
 * for every route that is not ROUTE_PUBLIC.
 */
void auth_begin(struct http_req *r);

struct config;

/* The session cookie's name under cfg: AUTH_COOKIE_SECURE, or AUTH_COOKIE with cookie_secure off.
 */
const char *auth_cookie_name(const struct config *cfg);

/*
 * The Set-Cookie value for the session cookie holding value (max_age_s
 * seconds; 0 with value "" clears it) into buf: HttpOnly, SameSite=Strict,
 * Path=/, and Secure with cookie_secure on.
 */
void auth_cookie_format(const struct config *cfg, const char *value, long long max_age_s, char *buf,
                        size_t size);

/* The secret the request carries (Bearer token or session cookie), or NULL. */
const char *auth_request_secret(struct http_req *r, char *buf, size_t size, bool *via_cookie);

#endif

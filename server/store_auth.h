/*
 * store_auth.h - the SQL behind authentication: token and session lookup,
 * login, session creation and revocation (asynchronous, on the pool).
 */
#ifndef CB_STORE_AUTH_H
#define CB_STORE_AUTH_H

#include <stdint.h>

#include "status.h"

struct db;

struct auth_user {
	char id[37];          /* users.id */
	char name[65];        /* users.name */
	char role[32];        /* users.role */
	const char *wards;    /* ward codes, comma-separated, any length; borrowed: copy it */
	char token_id[37];    /* tokens.id used */
	char kind[8];         /* "api" or "session" */
	int64_t expires_in;   /* seconds until the token expires, -1 if it does not */
	int64_t idle_left_ms; /* a session: ms until it idles out unless used; -1 for a token */
};

typedef void store_auth_cb(enum status st, const struct auth_user *u, void *arg);

/*
 * The live (not revoked, not expired, a session not idle for idle_ms) token
 * with this hash and its enabled user; records the use when the last one
 * recorded is over slide_ms old (a session) or an hour (an API token).
 */
void store_auth_lookup(struct db *db, const char *hash_hex, int64_t idle_ms, int64_t slide_ms,
                       store_auth_cb *cb, void *arg);

/* A token that is still live, as an open stream re-checks it (see hub.c). */
struct auth_check_row {
	char token_id[37];  /* tokens.id */
	char user_id[37];   /* users.id */
	char role[32];      /* users.role */
	char *wards;        /* ward codes, comma-separated; owned by the store */
	int64_t expires_in; /* seconds until the token expires, -1 if it does not */
};

typedef void store_auth_check_cb(enum status st, const struct auth_check_row *rows, int n,
                                 void *arg);

/*
 * Which of the tokens whose ids are in ids_json (a JSON array of UUID
 * strings) are still live (not revoked, not expired, user enabled), with
 * their user's role and wards now.  A token missing from rows is no longer
 * valid.  rows are borrowed for the callback only.
 */
void store_auth_check(struct db *db, const char *ids_json, store_auth_check_cb *cb, void *arg);

struct login_row {
	char id[37];             /* users.id */
	char password_hash[128]; /* "" when the user has no password */
};

typedef void store_login_cb(enum status st, const struct login_row *row, void *arg);

/* The enabled user called name, for a login. ST_NOT_FOUND if none. */
void store_login_fetch(struct db *db, const char *name, store_login_cb *cb, void *arg);

typedef void store_done_cb(enum status st, const struct err *err, void *arg);

/* Create a session token for user_id valid for ttl_seconds, audited. */
void store_session_create(struct db *db, const char *token_id, const char *user_id,
                          const char *hash_hex, long ttl_seconds, const char *request_id,
                          store_done_cb *cb, void *arg);

/* Revoke the token (session logout), audited. */
void store_token_revoke(struct db *db, const char *token_id, const char *user_id,
                        const char *request_id, store_done_cb *cb, void *arg);

#endif

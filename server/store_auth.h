/*
 * store_auth.h - the SQL behind authentication: token and session lookup,
 * login, session creation and revocation (asynchronous, on the pool).
 */
#ifndef CB_STORE_AUTH_H
#define CB_STORE_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "signin.h"
#include "status.h"

struct db;

struct auth_user {
	char id[37];           /* users.id */
	char name[65];         /* users.name */
	char role[32];         /* users.role */
	const char *wards;     /* ward codes, comma-separated, any length; borrowed: copy it */
	char token_id[37];     /* tokens.id used */
	char kind[8];          /* "api" or "session" */
	int64_t expires_in;    /* seconds until the token expires, -1 if it does not */
	int64_t idle_left_ms;  /* a session: ms until it idles out unless used; -1 for a token */
	char organisation[37]; /* users.organisation_id */
	char org_code[33];     /* its code */
	char org_name[201];    /* its name */
	char org_kind[16];     /* its kind: "trust", "hub", ... */
	bool team_lead;        /* users.team_lead: leads their discipline's team */
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
	char token_id[37];     /* tokens.id */
	char user_id[37];      /* users.id */
	char role[32];         /* users.role */
	char *wards;           /* ward codes, comma-separated; owned by the store */
	int64_t expires_in;    /* seconds until the token expires, -1 if it does not */
	char organisation[37]; /* users.organisation_id */
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

struct signin_row {
	char id[37];               /* users.id of the enabled user so named, "" if none */
	char password_hash[128];   /* "" when there is no such user or it has no password */
	struct signin_state state; /* the name's failed sign-ins */
	char totp_hex[41];         /* the user's TOTP secret in hex, "" if none */
	int64_t totp_last_step;    /* the last one-time code step used, -1 if none */
};

typedef void store_signin_cb(enum status st, const struct signin_row *row, void *arg);

/* What a sign-in on name (as typed) needs: its enabled user, if any, and its failures. */
void store_signin_fetch(struct db *db, const char *name, store_signin_cb *cb, void *arg);

typedef void store_claim_cb(enum status st, void *arg);

/*
 * Count an attempt on name as begun: its failures go from seen (as fetched)
 * to count.  ST_CONFLICT when another attempt changed them first or the name
 * was locked meanwhile (fetch again and decide again).
 */
void store_signin_claim(struct db *db, const char *name, int seen, int count, store_claim_cb *cb,
                        void *arg);

typedef void store_done_cb(enum status st, const struct err *err, void *arg);

/* A successful sign-in (all borrowed; copied before store_session_create returns). */
struct session_new {
	const char *name;       /* the name signed in with: its failures are forgotten */
	const char *user_id;    /* the user */
	const char *token_id;   /* the new session token's id */
	const char *hash_hex;   /* its hash (bytea hex) */
	long ttl_seconds;       /* its lifetime */
	const char *request_id; /* for the audit row */
	const char *rehash;     /* a new password hash with today's parameters, or NULL */
	const char *old_hash;   /* the hash it replaces (only if still stored) */
	int64_t totp_step;      /* the one-time code's step to mark used, -1 if none */
};

/*
 * Create a session token for the user, forget the name's failed sign-ins and
 * store the upgraded password hash if there is one; audited, one transaction.
 */
void store_session_create(struct db *db, const struct session_new *s, store_done_cb *cb, void *arg);

/* A failed (or refused) sign-in (all borrowed). */
struct signin_failure {
	const char *name;       /* the name as typed: in the audit row only */
	const char *reason;     /* "password", "locked", "backoff", "busy" */
	const char *address;    /* the client address it was counted under */
	const char *request_id; /* for the audit row */
	bool checked;           /* a password was checked (else a refusal, counted or not) */
	bool lock;              /* this failure locks the name (checked only) */
	int64_t forget_ms;      /* also forget unlocked failures quiet this long (0: keep) */
};

/*
 * Audit a failed sign-in naming the account tried; after a password check,
 * restart the name's back-off from now and lock it if asked.
 */
void store_signin_failed(struct db *db, const struct signin_failure *f, store_done_cb *cb,
                         void *arg);

/* Revoke the token (session logout), audited. */
void store_token_revoke(struct db *db, const char *token_id, const char *user_id,
                        const char *request_id, store_done_cb *cb, void *arg);

/* What GET /api/v1/me tells about the user and the token used, beyond the principal. */
struct me_row {
	char display_name[256]; /* "" when none is set */
	bool team_lead;         /* escalation level 2 of their discipline */
	char kind[16];          /* "session" or "api" */
	char expires_at[40];    /* RFC 3339 UTC */
	bool via_oidc;          /* a session made through the identity provider */
};

typedef void store_me_cb(enum status st, const struct me_row *row, void *arg);

/* Read user user_id's display name and team lead flag and token token_id's kind and expiry. */
void store_me(struct db *db, const char *user_id, const char *token_id, store_me_cb *cb, void *arg);

#endif

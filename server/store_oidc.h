/*
 * store_oidc.h - the SQL behind OpenID Connect sign-in: the sign-ins in
 * flight (state, nonce, PKCE verifier, each used once), the session a
 * verified ID token opens, and the audit of refused sign-ins.
 */
#ifndef CB_STORE_OIDC_H
#define CB_STORE_OIDC_H

#include "status.h"

struct db;

typedef void store_oidc_done_cb(enum status st, const struct err *err, void *arg);

/* Record a sign-in in flight (and forget those older than 10 minutes). */
void store_oidc_begin(struct db *db, const char *state, const char *nonce, const char *verifier,
                      store_oidc_done_cb *cb, void *arg);

/* What a sign-in in flight remembered. */
struct oidc_pending {
	char nonce[65];     /* the nonce the ID token must carry */
	char verifier[129]; /* the PKCE code verifier */
};

typedef void store_oidc_take_cb(enum status st, const struct oidc_pending *p, void *arg);

/*
 * Take (and delete) the sign-in in flight with this state, if it began less
 * than 10 minutes ago: a state is used once.  ST_NOT_FOUND otherwise.
 */
void store_oidc_take(struct db *db, const char *state, store_oidc_take_cb *cb, void *arg);

/* Who a session was opened for. */
struct oidc_user {
	char id[37];   /* users.id */
	char name[65]; /* users.name */
};

typedef void store_oidc_session_cb(enum status st, const struct oidc_user *u, void *arg);

/*
 * Open a session (token token_id with hash_hex, ttl_seconds, keeping id_token
 * for logout) for the enabled user whose oidc_subject is subject, audited as
 * a sign-in through the provider.  ST_NOT_FOUND when no enabled user has it.
 */
void store_oidc_session(struct db *db, const char *subject, const char *token_id,
                        const char *hash_hex, long ttl_seconds, const char *id_token,
                        const char *request_id, store_oidc_session_cb *cb, void *arg);

/*
 * Audit a refused sign-in through the provider: reason (a short code such as
 * "bad_token") and the subject claimed, if the token was good enough to say.
 */
void store_oidc_refused(struct db *db, const char *reason, const char *subject,
                        const char *request_id);

/* The ID token kept for session token_id (for single logout); "" when none. */
typedef void store_oidc_id_token_cb(enum status st, const char *id_token, void *arg);
void store_oidc_id_token(struct db *db, const char *token_id, store_oidc_id_token_cb *cb,
                         void *arg);

#endif

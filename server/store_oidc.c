/*
 * store_oidc.c - OpenID Connect sign-in state, sessions and audit (see
 * store_oidc.h).
 */
#include "store_oidc.h"

#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "store.h"
#include "xmalloc.h"

/* Forgets sign-ins in flight that began over 10 minutes ago. */
static const char SQL_PRUNE[] =
    "DELETE FROM oidc_logins WHERE created_at < now() - interval '10 minutes'";

/* Records sign-in $1 (state) with nonce $2 and verifier $3. */
static const char SQL_BEGIN[] =
    "INSERT INTO oidc_logins (state, nonce, verifier) VALUES ($1, $2, $3)";

/* Takes sign-in $1 if it is recent: its nonce and verifier, at most one row. */
static const char SQL_TAKE[] =
    "DELETE FROM oidc_logins WHERE state = $1 AND created_at >= now() - interval '10 minutes'"
    " RETURNING nonce, verifier";

/* The enabled user linked to subject $1; aborts CB404 when there is none. */
static const char SQL_USER[] =
    "SELECT cb_expect(count(*) = 1, 'CB404', 'no user is linked to this identity'),"
    "       min(id::text), min(name) FROM users WHERE oidc_subject = $1 AND disabled_at IS NULL";

/* Inserts session token $1 for the user linked to $2, hash $3, $4 seconds, ID token $5. */
static const char SQL_SESSION[] =
    "INSERT INTO tokens (id, user_id, hash, kind, label, expires_at, id_token)"
    " SELECT $1, u.id, $3::bytea, 'session', 'web session (identity provider)',"
    "        now() + make_interval(secs => $4::integer), $5"
    " FROM users u WHERE u.oidc_subject = $2 AND u.disabled_at IS NULL";

/* Audits a sign-in through the provider ($1 subject, $2 request id). */
static const char SQL_AUDIT_LOGIN[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, after, request_id)"
    " SELECT u.id, u.name, 'session.login', 'user', u.id, '{\"method\": \"oidc\"}'::jsonb, $2"
    " FROM users u WHERE u.oidc_subject = $1 AND u.disabled_at IS NULL";

/* Audits a refused sign-in: $1 reason, $2 subject claimed ("" if none), $3 request id. */
static const char SQL_AUDIT_REFUSED[] =
    "INSERT INTO audit (actor_id, actor, action, entity, after, request_id)"
    " SELECT u.id, coalesce(u.name, 'unknown'), 'session.login_failed', 'user',"
    "        jsonb_build_object('method', 'oidc', 'reason', $1::text,"
    "                           'subject', nullif($2::text, '')), $3"
    " FROM (SELECT 1) one LEFT JOIN users u ON u.oidc_subject = nullif($2::text, '')";

/* The ID token kept with session $1. */
static const char SQL_ID_TOKEN[] = "SELECT coalesce(id_token, '') FROM tokens WHERE id = $1";

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static void done_plain(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_oidc_done_cb *cb = (store_oidc_done_cb *)w->cb;

	cb(r->st, &r->err, w->arg);
	free(w);
}

void store_oidc_begin(struct db *db, const char *state, const char *nonce, const char *verifier,
                      store_oidc_done_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {state, nonce, verifier};

	db_req_add(req, SQL_PRUNE, 0, NULL);
	db_req_add(req, SQL_BEGIN, 3, v);
	db_req_submit(db, req, done_plain, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

static void take_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_oidc_take_cb *cb = (store_oidc_take_cb *)w->cb;
	struct oidc_pending p;

	if (r->st != ST_OK) {
		cb(r->st, NULL, w->arg);
	} else if (db_rows(r->res[0]) != 1) {
		cb(ST_NOT_FOUND, NULL, w->arg);
	} else {
		copy(p.nonce, sizeof p.nonce, db_value(r->res[0], 0, 0));
		copy(p.verifier, sizeof p.verifier, db_value(r->res[0], 0, 1));
		cb(ST_OK, &p, w->arg);
	}
	free(w);
}

void store_oidc_take(struct db *db, const char *state, store_oidc_take_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {state};

	db_req_add(req, SQL_TAKE, 1, v);
	db_req_submit(db, req, take_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

static void session_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_oidc_session_cb *cb = (store_oidc_session_cb *)w->cb;
	struct oidc_user u;

	if (r->st != ST_OK) {
		cb(r->st, NULL, w->arg);
	} else {
		copy(u.id, sizeof u.id, db_value(r->res[0], 0, 1));
		copy(u.name, sizeof u.name, db_value(r->res[0], 0, 2));
		cb(ST_OK, &u, w->arg);
	}
	free(w);
}

void store_oidc_session(struct db *db, const char *subject, const char *token_id,
                        const char *hash_hex, long ttl_seconds, const char *id_token,
                        const char *request_id, store_oidc_session_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char ttl[32];
	const char *user[] = {subject};
	const char *ins[] = {token_id, subject, hash_hex, ttl, id_token};
	const char *aud[] = {subject, request_id};

	snprintf(ttl, sizeof ttl, "%ld", ttl_seconds);
	db_req_add(req, SQL_USER, 1, user);
	db_req_add(req, SQL_SESSION, 5, ins);
	db_req_add(req, SQL_AUDIT_LOGIN, 2, aud);
	db_req_submit(db, req, session_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

static void refused_done(const struct db_result *r, void *arg)
{
}

void store_oidc_refused(struct db *db, const char *reason, const char *subject,
                        const char *request_id)
{
	struct db_req *req = db_req_new();
	const char *v[] = {reason, subject != NULL ? subject : "", request_id};

	db_req_add(req, SQL_AUDIT_REFUSED, 3, v);
	db_req_submit(db, req, refused_done, NULL);
}

static void id_token_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_oidc_id_token_cb *cb = (store_oidc_id_token_cb *)w->cb;

	if (r->st != ST_OK)
		cb(r->st, "", w->arg);
	else
		cb(ST_OK, db_rows(r->res[0]) == 1 ? db_value(r->res[0], 0, 0) : "", w->arg);
	free(w);
}

void store_oidc_id_token(struct db *db, const char *token_id, store_oidc_id_token_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {token_id};

	db_req_add(req, SQL_ID_TOKEN, 1, v);
	db_req_submit(db, req, id_token_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

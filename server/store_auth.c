/*
 * store_auth.c - SQL for tokens, sessions and logins (see store_auth.h).
 */
#include "store_auth.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "store.h"
#include "xmalloc.h"

/*
 * One row: the user behind a live token with hash $1, the token's id and kind,
 * seconds to its expiry and, for a web session, ms until it idles out.  A
 * session unused (last_used_at, or created_at if never used) for $2 ms is not
 * live.  Records the use in tokens.last_used_at when the recorded one is over
 * $3 ms old for a session (it slides the idle deadline) or an hour for an API
 * token (an update of last_used_at alone notifies no one: migration 0010).
 * Then the user's organisation: id, code, name, kind; a user of a disabled
 * organisation has no live token; last, whether the user leads a team.
 */
static const char SQL_AUTH_LOOKUP[] =
    "WITH l AS (SELECT u.id, u.name, u.role, u.team_lead,"
    " coalesce((SELECT string_agg(w.ward, ',' ORDER BY w.ward) FROM user_wards w"
    "           WHERE w.user_id = u.id), '') AS wards,"
    " o.id AS org_id, o.code AS org_code, o.name AS org_name, o.kind AS org_kind,"
    " t.id AS token_id, t.kind, t.last_used_at,"
    " coalesce(floor(extract(epoch FROM t.expires_at - now()))::bigint, -1) AS expires_in,"
    " CASE WHEN t.kind <> 'session' THEN -1"
    "  WHEN t.last_used_at IS NULL"
    "   OR t.last_used_at < now() - $3::bigint * interval '1 millisecond' THEN $2::bigint"
    "  ELSE floor(extract(epoch FROM t.last_used_at + $2::bigint * interval '1 millisecond'"
    "   - now()) * 1000)::bigint END AS idle_left_ms"
    " FROM tokens t JOIN users u ON u.id = t.user_id"
    " JOIN organisations o ON o.id = u.organisation_id"
    " WHERE t.hash = $1::bytea AND t.revoked_at IS NULL"
    " AND (t.expires_at IS NULL OR t.expires_at > now()) AND u.disabled_at IS NULL"
    " AND o.disabled_at IS NULL"
    " AND (t.kind <> 'session' OR coalesce(t.last_used_at, t.created_at)"
    "      > now() - $2::bigint * interval '1 millisecond')),"
    " used AS (UPDATE tokens SET last_used_at = now() FROM l WHERE tokens.id = l.token_id"
    "  AND (l.last_used_at IS NULL OR l.last_used_at < now() - CASE WHEN l.kind = 'session'"
    "   THEN $3::bigint * interval '1 millisecond' ELSE interval '1 hour' END))"
    " SELECT id, name, role, wards, token_id, kind, expires_in, idle_left_ms,"
    " org_id, org_code, org_name, org_kind, team_lead FROM l";

/*
 * One row per live token whose id is in the JSON array $1 (the same liveness
 * rule as SQL_AUTH_LOOKUP): token id, user id, role, wards, expires_in and
 * the user's organisation.
 */
static const char SQL_AUTH_CHECK[] =
    "SELECT t.id, u.id, u.role,"
    " coalesce((SELECT string_agg(w.ward, ',' ORDER BY w.ward) FROM user_wards w"
    "           WHERE w.user_id = u.id), ''),"
    " coalesce(floor(extract(epoch FROM t.expires_at - now()))::bigint, -1),"
    " u.organisation_id"
    " FROM tokens t JOIN users u ON u.id = t.user_id"
    " JOIN organisations o ON o.id = u.organisation_id"
    " WHERE t.id IN (SELECT e::uuid FROM jsonb_array_elements_text($1::jsonb) AS e)"
    " AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())"
    " AND u.disabled_at IS NULL AND o.disabled_at IS NULL";

/*
 * Always one row, for the name $1 as typed: the id and password hash of the
 * enabled user so named (of an enabled organisation) ('' when there is none, or no password), and
 * the name's failed sign-ins: count, locked, milliseconds since the last one.
 */
static const char SQL_SIGNIN_FETCH[] =
    "SELECT coalesce(u.id::text, ''), coalesce(u.password_hash, ''),"
    " coalesce(f.failures, 0), f.locked_at IS NOT NULL,"
    " coalesce(floor(extract(epoch FROM now() - f.last_at) * 1000)::bigint, 0),"
    " coalesce(encode(u.totp_secret, 'hex'), ''), coalesce(u.totp_last_step, -1)"
    " FROM (SELECT $1::text AS name) n"
    " LEFT JOIN users u ON u.name = n.name AND u.disabled_at IS NULL"
    "  AND NOT EXISTS (SELECT 1 FROM organisations o WHERE o.id = u.organisation_id"
    "   AND o.disabled_at IS NOT NULL)"
    " LEFT JOIN signin_failures f ON f.name = n.name";

/*
 * Uses one-time code step $2 of user $1: aborts with CB409 when that step
 * (or a later one) was used already, so one code opens one session even
 * when two sign-ins race with it.
 */
static const char SQL_TOTP_USE[] =
    "WITH u AS (UPDATE users SET totp_last_step = $2::bigint WHERE id = $1::uuid"
    "  AND (totp_last_step IS NULL OR totp_last_step < $2::bigint) RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB409', 'the one-time code was already used') FROM u";

/*
 * Counts a sign-in attempt on name $1 as it begins: moves its count from $2
 * (as read; 0 when there was no row) to $3.  Returns the new count, or no row
 * when another attempt moved it first or the name was locked meanwhile.
 */
static const char SQL_SIGNIN_CLAIM[] =
    "INSERT INTO signin_failures AS f (name, failures, last_at) VALUES ($1, $3::integer, now())"
    " ON CONFLICT (name) DO UPDATE SET failures = $3::integer, last_at = now()"
    " WHERE f.failures = $2::integer AND f.locked_at IS NULL"
    " RETURNING failures";

/* A successful sign-in on name $1 forgets its failures. */
static const char SQL_SIGNIN_RESET[] = "DELETE FROM signin_failures WHERE name = $1";

/*
 * A password check on name $1 failed: the back-off runs from now (not from
 * when the check began), and the name is locked if $2 (its failed attempts
 * reached signin_lock_after).
 */
static const char SQL_SIGNIN_FAILED[] =
    "UPDATE signin_failures SET last_at = now(),"
    " locked_at = CASE WHEN $2::boolean THEN coalesce(locked_at, now()) ELSE locked_at END"
    " WHERE name = $1";

/*
 * Audits a failed sign-in on the name $1 as typed (reason $2, client address
 * $3, request $4), about the user of that name if there is one.
 */
static const char SQL_SIGNIN_FAILED_AUDIT[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, after, request_id)"
    " SELECT NULL, 'anonymous', 'session.login_failed', 'user',"
    " (SELECT u.id FROM users u WHERE u.name = $1),"
    " jsonb_build_object('name', $1::text, 'reason', $2::text, 'address', $3::text), $4::uuid";

/* Forgets the unlocked failures of names quiet for over $1 seconds. */
static const char SQL_SIGNIN_PRUNE[] =
    "DELETE FROM signin_failures WHERE locked_at IS NULL"
    " AND last_at < now() - make_interval(secs => $1::double precision)";

/* Stores user $1's password hash $2 made with today's parameters, if it is still $3. */
static const char SQL_PASSWORD_REHASH[] =
    "UPDATE users SET password_hash = $2 WHERE id = $1::uuid AND password_hash = $3";

/* Inserts session token $1 for user $2 with hash $3 expiring in $4 seconds. */
static const char SQL_SESSION_INSERT[] =
    "INSERT INTO tokens (id, user_id, hash, kind, label, expires_at)"
    " VALUES ($1, $2, $3::bytea, 'session', 'web session',"
    "         now() + make_interval(secs => $4::integer))";

/* Audits a login ($1 user, $2 request id). */
static const char SQL_SESSION_AUDIT[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, request_id)"
    " SELECT u.id, u.name, 'session.login', 'user', u.id, $2 FROM users u WHERE u.id = $1";

/* Revokes token $1 of user $2; aborts with CB404 when there is no such live token. */
static const char SQL_TOKEN_REVOKE[] =
    "WITH r AS (UPDATE tokens SET revoked_at = now()"
    "           WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB404', 'no such session') FROM r";

/* Audits a logout ($1 user, $2 request id). */
static const char SQL_LOGOUT_AUDIT[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, request_id)"
    " SELECT u.id, u.name, 'session.logout', 'user', u.id, $2 FROM users u WHERE u.id = $1";

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static void auth_lookup_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_auth_cb *cb = (store_auth_cb *)w->cb;
	struct auth_user u;

	if (r->st != ST_OK) {
		cb(r->st, NULL, w->arg);
	} else if (db_rows(r->res[0]) != 1) {
		cb(ST_UNAUTHORIZED, NULL, w->arg);
	} else {
		memset(&u, 0, sizeof u);
		copy(u.id, sizeof u.id, db_value(r->res[0], 0, 0));
		copy(u.name, sizeof u.name, db_value(r->res[0], 0, 1));
		copy(u.role, sizeof u.role, db_value(r->res[0], 0, 2));
		u.wards = db_value(r->res[0], 0, 3); /* lives until the result is cleared */
		copy(u.token_id, sizeof u.token_id, db_value(r->res[0], 0, 4));
		copy(u.kind, sizeof u.kind, db_value(r->res[0], 0, 5));
		u.expires_in = strtoll(db_value(r->res[0], 0, 6), NULL, 10);
		u.idle_left_ms = strtoll(db_value(r->res[0], 0, 7), NULL, 10);
		copy(u.organisation, sizeof u.organisation, db_value(r->res[0], 0, 8));
		copy(u.org_code, sizeof u.org_code, db_value(r->res[0], 0, 9));
		copy(u.org_name, sizeof u.org_name, db_value(r->res[0], 0, 10));
		copy(u.org_kind, sizeof u.org_kind, db_value(r->res[0], 0, 11));
		u.team_lead = db_value(r->res[0], 0, 12)[0] == 't';
		cb(ST_OK, &u, w->arg);
	}
	free(w);
}

void store_auth_lookup(struct db *db, const char *hash_hex, int64_t idle_ms, int64_t slide_ms,
                       store_auth_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char idle[32], slide[32];
	const char *v[] = {hash_hex, idle, slide};

	snprintf(idle, sizeof idle, "%" PRId64, idle_ms);
	snprintf(slide, sizeof slide, "%" PRId64, slide_ms);
	db_req_add(req, SQL_AUTH_LOOKUP, 3, v);
	db_req_submit(db, req, auth_lookup_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

static void auth_check_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_auth_check_cb *cb = (store_auth_check_cb *)w->cb;
	struct auth_check_row *rows = NULL;
	int n = 0;

	if (r->st != ST_OK) {
		cb(r->st, NULL, 0, w->arg);
		free(w);
		return;
	}
	n = db_rows(r->res[0]);
	rows = xcalloc((size_t)n + 1, sizeof *rows);
	for (int i = 0; i < n; i++) {
		const char *wards = db_value(r->res[0], i, 3);

		copy(rows[i].token_id, sizeof rows[i].token_id, db_value(r->res[0], i, 0));
		copy(rows[i].user_id, sizeof rows[i].user_id, db_value(r->res[0], i, 1));
		copy(rows[i].role, sizeof rows[i].role, db_value(r->res[0], i, 2));
		rows[i].wards = xstrdup(wards != NULL ? wards : "");
		rows[i].expires_in = strtoll(db_value(r->res[0], i, 4), NULL, 10);
		copy(rows[i].organisation, sizeof rows[i].organisation, db_value(r->res[0], i, 5));
	}
	cb(ST_OK, rows, n, w->arg);
	for (int i = 0; i < n; i++)
		free(rows[i].wards);
	free(rows);
	free(w);
}

/*
 * User $1's display name and team lead flag, token $2's kind, expiry and
 * whether it was made through the identity provider (it keeps an ID token).
 */
static const char SQL_ME[] =
    "SELECT coalesce(u.display_name, ''), u.team_lead, t.kind, cb_ts(t.expires_at),"
    " t.id_token IS NOT NULL"
    " FROM users u JOIN tokens t ON t.user_id = u.id WHERE u.id = $1::uuid AND t.id = $2::uuid";

static void me_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_me_cb *cb = (store_me_cb *)w->cb;
	struct me_row row;

	if (r->st != ST_OK || db_rows(r->res[0]) != 1) {
		cb(r->st != ST_OK ? r->st : ST_NOT_FOUND, NULL, w->arg);
	} else {
		memset(&row, 0, sizeof row);
		copy(row.display_name, sizeof row.display_name, db_value(r->res[0], 0, 0));
		row.team_lead = strcmp(db_value(r->res[0], 0, 1), "t") == 0;
		copy(row.kind, sizeof row.kind, db_value(r->res[0], 0, 2));
		copy(row.expires_at, sizeof row.expires_at, db_value(r->res[0], 0, 3));
		row.via_oidc = strcmp(db_value(r->res[0], 0, 4), "t") == 0;
		cb(ST_OK, &row, w->arg);
	}
	free(w);
}

void store_me(struct db *db, const char *user_id, const char *token_id, store_me_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {user_id, token_id};

	db_req_add(req, SQL_ME, 2, v);
	db_req_submit(db, req, me_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

void store_auth_check(struct db *db, const char *ids_json, store_auth_check_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {ids_json};

	db_req_add(req, SQL_AUTH_CHECK, 1, v);
	db_req_submit(db, req, auth_check_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

static void signin_fetch_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_signin_cb *cb = (store_signin_cb *)w->cb;
	struct signin_row row;

	if (r->st != ST_OK || db_rows(r->res[0]) != 1) {
		cb(r->st != ST_OK ? r->st : ST_INTERNAL, NULL, w->arg);
	} else {
		memset(&row, 0, sizeof row);
		copy(row.id, sizeof row.id, db_value(r->res[0], 0, 0));
		copy(row.password_hash, sizeof row.password_hash, db_value(r->res[0], 0, 1));
		row.state.failures = atoi(db_value(r->res[0], 0, 2));
		row.state.locked = strcmp(db_value(r->res[0], 0, 3), "t") == 0;
		row.state.since_last_ms = strtoll(db_value(r->res[0], 0, 4), NULL, 10);
		copy(row.totp_hex, sizeof row.totp_hex, db_value(r->res[0], 0, 5));
		row.totp_last_step = strtoll(db_value(r->res[0], 0, 6), NULL, 10);
		cb(ST_OK, &row, w->arg);
	}
	free(w);
}

void store_signin_fetch(struct db *db, const char *name, store_signin_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {name};

	db_req_add(req, SQL_SIGNIN_FETCH, 1, v);
	db_req_submit(db, req, signin_fetch_done,
	              store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

static void signin_claim_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_claim_cb *cb = (store_claim_cb *)w->cb;

	if (r->st != ST_OK)
		cb(r->st, w->arg);
	else
		cb(db_rows(r->res[0]) == 1 ? ST_OK : ST_CONFLICT, w->arg);
	free(w);
}

void store_signin_claim(struct db *db, const char *name, int seen, int count, store_claim_cb *cb,
                        void *arg)
{
	struct db_req *req = db_req_new();
	char from[16], to[16];
	const char *v[] = {name, from, to};

	snprintf(from, sizeof from, "%d", seen);
	snprintf(to, sizeof to, "%d", count);
	db_req_add(req, SQL_SIGNIN_CLAIM, 3, v);
	db_req_submit(db, req, signin_claim_done,
	              store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

static void done_plain(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_done_cb *cb = (store_done_cb *)w->cb;

	cb(r->st, &r->err, w->arg);
	free(w);
}

void store_session_create(struct db *db, const struct session_new *s, store_done_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char ttl[32];
	const char *name[] = {s->name};
	const char *re[] = {s->user_id, s->rehash, s->old_hash};
	const char *ins[] = {s->token_id, s->user_id, s->hash_hex, ttl};
	const char *aud[] = {s->user_id, s->request_id};
	char step[32];
	const char *totp[] = {s->user_id, step};

	snprintf(ttl, sizeof ttl, "%ld", s->ttl_seconds);
	snprintf(step, sizeof step, "%lld", (long long)s->totp_step);
	if (s->totp_step >= 0)
		db_req_add(req, SQL_TOTP_USE, 2, totp);
	db_req_add(req, SQL_SIGNIN_RESET, 1, name);
	if (s->rehash != NULL)
		db_req_add(req, SQL_PASSWORD_REHASH, 3, re);
	db_req_add(req, SQL_SESSION_INSERT, 4, ins);
	db_req_add(req, SQL_SESSION_AUDIT, 2, aud);
	db_req_submit(db, req, done_plain, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

void store_signin_failed(struct db *db, const struct signin_failure *f, store_done_cb *cb,
                         void *arg)
{
	struct db_req *req = db_req_new();
	char forget[32];
	const char *failed[] = {f->name, f->lock ? "true" : "false"};
	const char *aud[] = {f->name, f->reason, f->address, f->request_id};
	const char *prune[] = {forget};

	snprintf(forget, sizeof forget, "%.3f", (double)f->forget_ms / 1000.0);
	/* a refusal (locked, waiting, busy) checked no password: it changes nothing */
	if (f->checked)
		db_req_add(req, SQL_SIGNIN_FAILED, 2, failed);
	db_req_add(req, SQL_SIGNIN_FAILED_AUDIT, 4, aud);
	if (f->forget_ms > 0)
		db_req_add(req, SQL_SIGNIN_PRUNE, 1, prune);
	db_req_submit(db, req, done_plain, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

void store_token_revoke(struct db *db, const char *token_id, const char *user_id,
                        const char *request_id, store_done_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *rev[] = {token_id, user_id};
	const char *aud[] = {user_id, request_id};

	db_req_add(req, SQL_TOKEN_REVOKE, 2, rev);
	db_req_add(req, SQL_LOGOUT_AUDIT, 2, aud);
	db_req_submit(db, req, done_plain, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

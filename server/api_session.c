/*
 * api_session.c - signing in and out of the web pages.
 *
 *   POST   /api/v1/session  {"name": ..., "password": ...} -> session cookie
 *   DELETE /api/v1/session  revoke the session (or token) used
 *   GET    /api/v1/me       who am I: id, name, display name, role, team lead, wards,
 *                            organisation, and the session's kind, expiry and idle timeout
 *
 * The password check (argon2id) runs on the worker pool, never on the loop.
 * Guessing is slowed three ways (lib/signin.c has the rules): per client
 * address (a token bucket; 429), per name as typed (back-off, then lock-out
 * until an administrator unlocks; 429, 423), and in the worker queue, where
 * addresses take turns.  An unknown, disabled or password-less name costs the
 * same work and gets the same answer as a wrong password; every failed or
 * refused attempt on a name is audited with the name as typed (never logged).
 * An attempt counts against the name as it begins (store_signin_claim), so
 * concurrent guesses cannot overtake the back-off.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <uuid/uuid.h>

#include "api.h"
#include "app.h"
#include "auth.h"
#include "clock.h"
#include "json.h"
#include "log.h"
#include "signin.h"
#include "store_auth.h"
#include "totp.h"
#include "work.h"
#include "xmalloc.h"

#define SIGNIN_CLAIM_TRIES 4 /* fetch-decide-claim rounds before "try again" */

struct login {
	struct http_req *r;                      /* the request */
	char name[65];                           /* user name given, as typed */
	char password[256];                      /* password given; wiped after use */
	char address[SIGNIN_ADDR_SIZE];          /* the client address it is counted under */
	char user_id[37];                        /* the enabled user so named, "" if none */
	char stored[AUTH_PWHASH_SIZE];           /* its argon2id hash, "" if none */
	char rehash[AUTH_PWHASH_SIZE];           /* a new hash when stored's parameters are old */
	bool ok;                                 /* the worker's verdict */
	int seen;                                /* the name's failures as fetched */
	int count;                               /* its failures once this attempt began */
	int tries;                               /* fetch-decide-claim rounds so far */
	int64_t retry_ms;                        /* for a refusal: when to try again */
	enum status refusal;                     /* for a refusal: the status to answer */
	char token[AUTH_TOKEN_SIZE];             /* the new session secret */
	char token_id[37];                       /* its row id */
	char totp[16];                           /* the one-time code given, "" if none */
	unsigned char totp_key[TOTP_SECRET_LEN]; /* the user's TOTP secret */
	bool has_totp;                           /* the user has one */
	int64_t totp_last_step;                  /* the last step the user used, -1 if none */
	int64_t totp_step;                       /* the step this sign-in uses, -1 if none */
	bool totp_failed;                        /* the password was right, the code was not */
};

static void login_free(struct login *l)
{
	sodium_memzero(l, sizeof *l);
	free(l);
}

static void signin_policy_from(const struct config *cfg, struct signin_policy *p)
{
	p->backoff_after = cfg->signin_backoff_after;
	p->backoff_base_ms = cfg->signin_backoff_base_ms;
	p->backoff_max_ms = cfg->signin_backoff_max_ms;
	p->lock_after = cfg->signin_lock_after;
	p->forget_ms = cfg->signin_forget_after_ms;
}

static void add_retry_after(struct http_req *r, int64_t ms)
{
	char secs[32];

	snprintf(secs, sizeof secs, "%lld", (long long)(ms > 0 ? (ms + 999) / 1000 : 1));
	http_add_header(r, "Retry-After", secs);
}

/*
 * The one answer to a wrong password, an unknown or disabled user and a user
 * without a password alike: same status, same body, after the same work.
 */
static void reply_bad_login(struct http_req *r)
{
	struct err err;

	err_set(&err, ST_UNAUTHORIZED, NULL, "user name or password is wrong");
	http_reply_error(r, ST_UNAUTHORIZED, &err);
}

/* Reply to l's refusal (l->refusal: ST_LOCKED, ST_TOO_MANY or ST_UNAVAILABLE) and free l. */
static void reply_refusal(struct login *l)
{
	struct http_req *r = l->r;
	struct err err;

	switch (l->refusal) {
	case ST_LOCKED:
		err_set(&err, ST_LOCKED, NULL,
		        "this user name is locked after too many failed sign-ins; ask an "
		        "administrator to unlock it");
		break;
	case ST_FORBIDDEN:
		err_set(&err, ST_FORBIDDEN, "totp",
		        "this account needs a one-time code and has none set up; ask an "
		        "administrator (carebridge user totp)");
		break;
	case ST_TOO_MANY:
		add_retry_after(r, l->retry_ms);
		err_set(&err, ST_TOO_MANY, NULL,
		        "too many sign-in attempts; try again in %lld seconds",
		        (long long)(l->retry_ms > 0 ? (l->retry_ms + 999) / 1000 : 1));
		break;
	default:
		l->refusal = ST_UNAVAILABLE;
		add_retry_after(r, 1000);
		err_set(&err, ST_UNAVAILABLE, NULL, "too many sign-ins at once; try again");
		break;
	}
	http_reply_error(r, l->refusal, &err);
	login_free(l);
}

/* The failure is audited (or could not be): answer. */
static void failure_recorded(enum status st, const struct err *err, void *arg)
{
	struct login *l = arg;

	if (st != ST_OK)
		log_warning("auth", "could not audit a failed sign-in: %s req=%s",
		            err != NULL ? err->message : status_code(st), l->r->id);
	if (l->refusal == ST_OK && l->totp_failed) {
		struct err e;

		err_set(&e, ST_UNAUTHORIZED, "totp",
		        "the one-time code is wrong or was already used");
		http_reply_error(l->r, ST_UNAUTHORIZED, &e);
		login_free(l);
	} else if (l->refusal == ST_OK) {
		reply_bad_login(l->r);
		login_free(l);
	} else {
		reply_refusal(l);
	}
}

/* Audit a failed or refused sign-in naming the account tried, then answer. */
static void record_failure(struct login *l, const char *reason, bool checked, bool lock)
{
	struct signin_failure f = {
	    .name = l->name,
	    .reason = reason,
	    .address = l->address,
	    .request_id = l->r->id,
	    .checked = checked,
	    .lock = lock,
	    .forget_ms = l->r->app->cfg->signin_forget_after_ms,
	};

	log_info("auth", "login refused reason=%s%s req=%s", reason, lock ? " locked=yes" : "",
	         l->r->id);
	store_signin_failed(l->r->app->db, &f, failure_recorded, l);
}

static void session_created(enum status st, const struct err *err, void *arg)
{
	struct login *l = arg;
	struct http_req *r = l->r;
	char cookie[256];
	cJSON *body;

	if (st != ST_OK) {
		http_reply_error(r, st, err);
		login_free(l);
		return;
	}
	auth_cookie_format(r->app->cfg, l->token, (long long)(r->app->cfg->session_ttl_ms / 1000),
	                   cookie, sizeof cookie);
	http_add_header(r, "Set-Cookie", cookie);
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "user_id", l->user_id);
	cJSON_AddStringToObject(body, "name", l->name);
	log_info("auth", "session created user=%s%s req=%s", l->user_id,
	         l->rehash[0] != '\0' ? " password_rehashed=yes" : "", r->id);
	login_free(l);
	http_reply_json(r, 200, body);
}

/*
 * On a worker.  A name with no usable hash costs the same: a hash of the
 * password given is made (and thrown away), as long as a verification takes.
 */
static void verify_job(void *arg)
{
	struct login *l = arg;

	if (l->stored[0] == '\0') {
		auth_password_hash(l->password, l->rehash);
		sodium_memzero(l->rehash, sizeof l->rehash);
		l->ok = false;
	} else {
		l->ok = auth_password_verify(l->stored, l->password);
		/* the right password is at hand only now: upgrade an old hash with it */
		if (l->ok && auth_password_needs_rehash(l->stored) &&
		    !auth_password_hash(l->password, l->rehash))
			l->rehash[0] = '\0';
	}
	sodium_memzero(l->password, sizeof l->password);
}

static void verify_done(void *arg)
{
	struct login *l = arg;
	struct app *app = l->r->app;
	struct signin_policy p;
	struct session_new s;
	char hex[AUTH_HASH_HEX_SIZE];
	uuid_t u;

	if (!l->ok) {
		signin_policy_from(app->cfg, &p);
		record_failure(l, "password", true, signin_locks(&p, l->count));
		return;
	}
	/* the second factor, once the password is right (its answer tells nothing before) */
	l->totp_step = -1;
	if (l->has_totp || app->cfg->totp_required) {
		struct err err;

		if (!l->has_totp) {
			/* totp_required: a user without a secret cannot sign in with a password */
			l->refusal = ST_FORBIDDEN;
			record_failure(l, "totp_not_enrolled", false, false);
			return;
		}
		if (l->totp[0] == '\0') {
			/*
			 * The page asks for the code and sends everything again.  The
			 * attempt still counts (a success clears it): otherwise anyone
			 * with the password could reset the count between code guesses.
			 */
			err_set(&err, ST_UNAUTHORIZED, "totp",
			        "enter the one-time code from your authenticator app");
			http_reply_error(l->r, ST_UNAUTHORIZED, &err);
			login_free(l);
			return;
		}
		if (totp_verify(l->totp_key, sizeof l->totp_key, l->totp, app_now(app),
		                l->totp_last_step, &l->totp_step, NULL) != ST_OK) {
			signin_policy_from(app->cfg, &p);
			l->totp_failed = true;
			record_failure(l, "totp", true, signin_locks(&p, l->count));
			return;
		}
	}
	/* a sign-in that worked costs its address nothing */
	signin_limiter_give_back(app->signin, l->address, app->cfg->signin_address_limit);
	auth_token_new(l->token, hex);
	uuid_generate_random(u);
	uuid_unparse_lower(u, l->token_id);
	s = (struct session_new){
	    .name = l->name,
	    .user_id = l->user_id,
	    .token_id = l->token_id,
	    .hash_hex = hex,
	    .ttl_seconds = (long)(app->cfg->session_ttl_ms / 1000),
	    .request_id = l->r->id,
	    .rehash = l->rehash[0] != '\0' ? l->rehash : NULL,
	    .old_hash = l->stored,
	    .totp_step = l->totp_step,
	};
	store_session_create(app->db, &s, session_created, l);
}

static void signin_fetched(enum status st, const struct signin_row *row, void *arg);

/* The attempt is counted: check the password on a worker, in its address's turn. */
static void claimed(enum status st, void *arg)
{
	struct login *l = arg;
	struct app *app = l->r->app;
	int rc;

	if (st == ST_CONFLICT && ++l->tries < SIGNIN_CLAIM_TRIES) {
		/* another attempt on the name came first: decide again on what it left */
		store_signin_fetch(app->db, l->name, signin_fetched, l);
		return;
	}
	if (st == ST_CONFLICT) {
		l->refusal = ST_TOO_MANY;
		l->retry_ms = 1000;
		record_failure(l, "busy", false, false);
		return;
	}
	if (st != ST_OK) {
		http_reply_error(l->r, st, NULL);
		login_free(l);
		return;
	}
	rc = work_submit_keyed(app->work, l->address, app->cfg->signin_queue_per_address,
	                       verify_job, verify_done, l);
	if (rc != 0) {
		l->refusal = rc == WORK_KEY_FULL ? ST_TOO_MANY : ST_UNAVAILABLE;
		l->retry_ms = 1000;
		record_failure(l, "busy", false, false);
	}
}

static void signin_fetched(enum status st, const struct signin_row *row, void *arg)
{
	struct login *l = arg;
	struct app *app = l->r->app;
	struct signin_policy p;
	enum signin_verdict v;
	int rc;

	if (st != ST_OK) {
		http_reply_error(l->r, st, NULL);
		login_free(l);
		return;
	}
	snprintf(l->user_id, sizeof l->user_id, "%s", row->id);
	snprintf(l->stored, sizeof l->stored, "%s", row->password_hash);
	l->has_totp = strlen(row->totp_hex) == 2 * TOTP_SECRET_LEN &&
	              sodium_hex2bin(l->totp_key, sizeof l->totp_key, row->totp_hex,
	                             strlen(row->totp_hex), NULL, NULL, NULL) == 0;
	l->totp_last_step = row->totp_last_step;
	signin_policy_from(app->cfg, &p);
	l->seen = row->state.failures;
	v = signin_decide(&p, &row->state, &l->count, &l->retry_ms);
	if (v == SIGNIN_LOCKED) {
		l->refusal = ST_LOCKED;
		record_failure(l, "locked", false, false);
		return;
	}
	if (v == SIGNIN_WAIT) {
		l->refusal = ST_TOO_MANY;
		record_failure(l, "backoff", false, false);
		return;
	}
	/* a full queue refuses before the attempt counts against the name */
	rc = work_room(app->work, l->address, app->cfg->signin_queue_per_address);
	if (rc != 0) {
		l->refusal = rc == WORK_KEY_FULL ? ST_TOO_MANY : ST_UNAVAILABLE;
		l->retry_ms = 1000;
		reply_refusal(l);
		return;
	}
	store_signin_claim(app->db, l->name, l->seen, l->count, claimed, l);
}

/* The client address of r: the peer, or whom a trusted proxy says it forwards for. */
static void client_address(struct http_req *r, char out[SIGNIN_ADDR_SIZE])
{
	struct evhttp_connection *conn = evhttp_request_get_connection(r->req);
	char *peer = NULL;
	ev_uint16_t port = 0;

	if (conn != NULL)
		evhttp_connection_get_peer(conn, &peer, &port);
	signin_client_address(peer, http_header(r, "X-Forwarded-For"), r->app->cfg->trusted_proxies,
	                      out);
}

static void session_create(struct http_req *r)
{
	static const char *const login_fields[] = {"name", "password", "totp", NULL};
	struct login *l = xcalloc(1, sizeof *l);
	const struct config *cfg = r->app->cfg;
	struct err err;
	cJSON *root;
	enum status st;

	l->r = r;
	if (!r->app->cfg->password_login) {
		err_set(&err, ST_FORBIDDEN, NULL,
		        "password sign-in is switched off: sign in through the identity provider");
		http_reply_error(r, ST_FORBIDDEN, &err);
		login_free(l);
		return;
	}
	st = http_body_json(r, &root, &err);
	if (st == ST_OK)
		st = json_only_keys(root, login_fields, &err);
	if (st == ST_OK)
		st = json_get_string(root, "name", true, l->name, sizeof l->name, &err);
	if (st == ST_OK)
		st = json_get_string(root, "password", true, l->password, sizeof l->password, &err);
	if (st == ST_OK)
		st = json_get_string(root, "totp", false, l->totp, sizeof l->totp, &err);
	cJSON_Delete(root);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		login_free(l);
		return;
	}
	client_address(r, l->address);
	/* per address, before the name is even looked up: a flood costs one table probe each */
	if (!signin_limiter_take(r->app->signin, l->address, mono_ms(), cfg->signin_address_limit,
	                         cfg->signin_address_window_ms, &l->retry_ms)) {
		log_debug("auth", "login refused reason=address_limit req=%s", r->id);
		l->refusal = ST_TOO_MANY;
		reply_refusal(l);
		return;
	}
	store_signin_fetch(r->app->db, l->name, signin_fetched, l);
}

static void session_revoked(enum status st, const struct err *err, void *arg)
{
	struct http_req *r = arg;
	char cookie[128];

	if (st != ST_OK) {
		http_reply_error(r, st, err);
		return;
	}
	auth_cache_flush(r->app->auth_cache); /* committed: no cached check may outlive it */
	auth_cookie_format(r->app->cfg, "", 0, cookie, sizeof cookie);
	http_add_header(r, "Set-Cookie", cookie);
	oidc_logout_reply(r);
}

static void session_delete(struct http_req *r)
{
	store_token_revoke(r->app->db, r->token_id, r->principal.id, r->id, session_revoked, r);
}

static void me_read(enum status st, const struct me_row *row, void *arg)
{
	struct http_req *r = arg;
	const struct config *cfg = r->app->cfg;
	cJSON *body, *wards, *session, *org;
	bool is_session;
	struct err err;

	if (st != ST_OK) {
		err_set(&err, st == ST_NOT_FOUND ? ST_UNAUTHORIZED : st, NULL,
		        st == ST_NOT_FOUND ? "the session has ended" : "could not read the user");
		http_reply_error(r, st == ST_NOT_FOUND ? ST_UNAUTHORIZED : st, &err);
		return;
	}
	is_session = strcmp(row->kind, "session") == 0;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "id", r->principal.id);
	cJSON_AddStringToObject(body, "name", r->principal.name);
	cJSON_AddStringToObject(body, "display_name", row->display_name);
	cJSON_AddStringToObject(body, "role", role_name(r->principal.role));
	cJSON_AddBoolToObject(body, "team_lead", row->team_lead);
	wards = cJSON_AddArrayToObject(body, "wards");
	for (size_t i = 0; i < r->principal.nwards; i++)
		cJSON_AddItemToArray(wards, cJSON_CreateString(r->principal.wards[i]));
	cJSON_AddStringToObject(
	    body, "discipline",
	    role_discipline(r->principal.role) ? role_discipline(r->principal.role) : "");
	org = cJSON_AddObjectToObject(body, "organisation");
	cJSON_AddStringToObject(org, "id", r->principal.organisation);
	cJSON_AddStringToObject(org, "code", r->org_code);
	cJSON_AddStringToObject(org, "name", r->org_name);
	cJSON_AddStringToObject(org, "kind", r->org_kind);
	/* what a page needs to warn before the session ends, and to sign in again */
	session = cJSON_AddObjectToObject(body, "session");
	cJSON_AddStringToObject(session, "kind", row->kind);
	cJSON_AddStringToObject(session, "signed_in_with",
	                        !is_session     ? "token"
	                        : row->via_oidc ? "oidc"
	                                        : "password");
	cJSON_AddStringToObject(session, "expires_at", row->expires_at);
	if (is_session) {
		cJSON_AddNumberToObject(session, "idle_timeout",
		                        (double)((cfg->session_idle_ms + 999) / 1000));
		cJSON_AddNumberToObject(session, "idle_margin",
		                        (double)((2 * session_slide_ms(cfg) + 999) / 1000));
	} else {
		cJSON_AddNullToObject(session, "idle_timeout");
		cJSON_AddNullToObject(session, "idle_margin");
	}
	http_reply_json(r, 200, body);
}

static void me(struct http_req *r)
{
	store_me(r->app->db, r->principal.id, r->token_id, me_read, r);
}

const struct route session_routes[] = {
    ROUTE_OPEN(EVHTTP_REQ_POST, "/api/v1/session", session_create, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_DELETE, "/api/v1/session", session_delete, ACCESS_SELF, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/me", me, ACCESS_SELF, ROUTE_ID_NONE),
    ROUTE_END,
};

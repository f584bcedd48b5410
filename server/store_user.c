/*
 * store_user.c - SQL for the user, token and ward commands (see store_user.h).
 * Blocking libpq on purpose: these run from the command line only.
 */
#include "store_user.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <uuid/uuid.h>

#include "xmalloc.h"

struct cli_db {
	PGconn *pg; /* owned */
};

/*
 * Inserts user $1 named $2 ($3 display name, $4 role, $5 team lead, $6 password
 * hash, $7 organisation).
 */
static const char SQL_USER_ADD[] =
    "INSERT INTO users (id, name, display_name, role, team_lead, password_hash, organisation_id)"
    " VALUES ($1, $2, $3, $4, $5::boolean, $6, $7::uuid)";

/* Attaches user $1 to ward $2; CB400 when the ward does not exist. */
static const char SQL_USER_WARD[] =
    "SELECT cb_expect(EXISTS (SELECT 1 FROM wards WHERE code = $1), 'CB400',"
    " format('ward \"%s\" does not exist', $1::text))";
static const char SQL_USER_WARD_INSERT[] = "INSERT INTO user_wards (user_id, ward) VALUES ($1, $2)";

/* Audits a command-line change: $1 action, $2 entity, $3 entity id. */
static const char SQL_CLI_AUDIT[] =
    "INSERT INTO audit (actor, action, entity, entity_id) VALUES ('cli', $1, $2, $3::uuid)";

/* Every user: name, role, team lead, wards, disabled, id, organisation code. */
static const char SQL_USER_LIST[] =
    "SELECT u.name, u.role, u.team_lead,"
    " coalesce((SELECT string_agg(ward, ',' ORDER BY ward) FROM user_wards w"
    "           WHERE w.user_id = u.id), '-'),"
    " u.disabled_at IS NOT NULL, u.id, o.code"
    " FROM users u JOIN organisations o ON o.id = u.organisation_id ORDER BY u.name";

/* The organisation $1 names (id or code): id, code, kind, disabled. */
static const char SQL_ORG_FIND[] =
    "SELECT o.id, o.code, o.kind, o.disabled_at IS NOT NULL FROM organisations o"
    " WHERE o.id::text = lower($1) OR o.code = $1";

/* Aborts with CB409 when organisation code $1 is taken. */
static const char SQL_ORG_FREE[] =
    "SELECT cb_expect(NOT EXISTS (SELECT 1 FROM organisations WHERE code = $1), 'CB409',"
    " format('organisation \"%s\" already exists', $1::text))";

/* Adds organisation $1 (code $2, name $3, kind $4, services $5 JSON, council $6). */
static const char SQL_ORG_ADD[] =
    "INSERT INTO organisations (id, code, name, kind, services, local_authority_id)"
    " VALUES ($1::uuid, $2, $3, $4, cb_text_array($5::jsonb), $6::uuid)";

/* Every organisation: code, kind, state, services, council code, id, name. */
static const char SQL_ORG_LIST[] =
    "SELECT o.code, o.kind, CASE WHEN o.disabled_at IS NULL THEN 'active' ELSE 'disabled' END,"
    " coalesce(nullif(array_to_string(o.services, ','), ''), '-'), coalesce(la.code, '-'),"
    " o.id, o.name FROM organisations o LEFT JOIN organisations la"
    " ON la.id = o.local_authority_id ORDER BY o.kind <> 'trust', o.kind, o.code";

/* Disables organisation $1 (an id); no row when it is already disabled or the trust. */
static const char SQL_ORG_DISABLE[] =
    "UPDATE organisations SET disabled_at = now(), version = version + 1, updated_at = now()"
    " WHERE id = $1::uuid AND disabled_at IS NULL AND kind <> 'trust' RETURNING id";

/* Disables user $1 (by name); returns its id, no row if there is no such enabled user. */
static const char SQL_USER_DISABLE[] = "UPDATE users SET disabled_at = now(), version = version + 1"
				       " WHERE name = $1 AND disabled_at IS NULL RETURNING id";

/*
 * Forgets the failed sign-ins of user $1 (by name), unlocking it; returns its
 * id and whether it was locked, no row if there is no such user.
 */
static const char SQL_USER_UNLOCK[] =
    "WITH u AS (SELECT id, name FROM users WHERE name = $1),"
    " d AS (DELETE FROM signin_failures f USING u WHERE f.name = u.name"
    "  RETURNING f.locked_at IS NOT NULL AS locked)"
    " SELECT u.id, coalesce((SELECT bool_or(locked) FROM d), false) FROM u";

/* Revokes every live token of user $1. */
static const char SQL_USER_REVOKE_ALL[] =
    "UPDATE tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL";

/* Sets user $1's password hash to $2; returns its id. */
static const char SQL_USER_PASSWORD[] =
    "UPDATE users SET password_hash = $2, version = version + 1 WHERE name = $1 RETURNING id";

/* Links user $1 (by name) to identity-provider subject $2 (NULL: unlinks). */
static const char SQL_USER_LINK[] =
    "UPDATE users SET oidc_subject = $2, version = version + 1 WHERE name = $1 RETURNING id";

/* Sets user $1's TOTP secret to $2 (hex bytea; NULL removes it) and forgets the last step. */
static const char SQL_USER_TOTP[] =
    "UPDATE users SET totp_secret = $2::bytea, totp_last_step = NULL,"
    " version = version + 1 WHERE name = $1 RETURNING id";

/* Issues token $1 to the enabled user named $2 (hash $3, label $4, expiry $5 s or NULL). */
static const char SQL_TOKEN_ISSUE[] =
    "INSERT INTO tokens (id, user_id, hash, kind, label, expires_at)"
    " SELECT $1, u.id, $3::bytea, 'api', $4,"
    "        now() + make_interval(secs => $5::integer)"
    " FROM users u WHERE u.name = $2 AND u.disabled_at IS NULL RETURNING user_id";

/* Revokes token $1; returns it, no row if it was not live. */
static const char SQL_TOKEN_REVOKE_ID[] =
    "UPDATE tokens SET revoked_at = now() WHERE id = $1::uuid AND revoked_at IS NULL"
    " RETURNING id";

/* The tokens and web sessions of user $1 (by name), oldest first; no row: none, or no user. */
static const char SQL_TOKEN_LIST[] =
    "SELECT t.id, t.kind, CASE WHEN t.revoked_at IS NOT NULL THEN 'revoked'"
    "  WHEN t.expires_at <= now() THEN 'expired' ELSE 'live' END,"
    " cb_ts(t.created_at), coalesce(cb_ts(t.expires_at), '-'),"
    " coalesce(cb_ts(t.last_used_at), 'never'), t.label"
    " FROM tokens t JOIN users u ON u.id = t.user_id WHERE u.name = $1"
    " ORDER BY t.created_at, t.id";

/* One row when user $1 (by name) exists. */
static const char SQL_USER_NAMED[] = "SELECT 1 FROM users WHERE name = $1";

/* Adds ward $1 named $2 with $3 beds and PAS code $4. */
static const char SQL_WARD_ADD[] =
    "INSERT INTO wards (code, name, beds, pas_code) VALUES ($1, $2, $3::integer, $4)";

static void trimmed(char *out, size_t size, const char *msg)
{
	size_t n;

	snprintf(out, size, "%s", msg != NULL ? msg : "");
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
}

/* Run one statement; on failure fill err from the server's message. */
static PGresult *run(struct cli_db *db, const char *sql, int n, const char *const *v,
                     struct err *err, enum status *st)
{
	PGresult *res = PQexecParams(db->pg, sql, n, NULL, v, NULL, NULL, 0);
	ExecStatusType s = PQresultStatus(res);

	*st = ST_OK;
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		char msg[256];

		trimmed(msg, sizeof msg, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
		*st = state != NULL && strcmp(state, "23505") == 0 ? ST_CONFLICT : ST_INVALID;
		err_set(err, *st, NULL, "%s", msg);
		PQclear(res);
		return NULL;
	}
	return res;
}

static bool exec_simple(struct cli_db *db, const char *sql)
{
	PGresult *res = PQexec(db->pg, sql);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	PQclear(res);
	return ok;
}

struct cli_db *cli_db_open(const char *conninfo, struct err *err)
{
	const char *keys[] = {"dbname", "application_name", NULL};
	const char *vals[] = {conninfo, "carebridge-cli", NULL};
	struct cli_db *db = xcalloc(1, sizeof *db);
	char msg[200];

	db->pg = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(db->pg) != CONNECTION_OK) {
		trimmed(msg, sizeof msg, PQerrorMessage(db->pg));
		err_set(err, ST_UNAVAILABLE, NULL, "could not connect to the database: %s", msg);
		PQfinish(db->pg);
		free(db);
		return NULL;
	}
	return db;
}

void cli_db_close(struct cli_db *db)
{
	if (db == NULL)
		return;
	PQfinish(db->pg);
	free(db);
}

static void new_uuid(char out[37])
{
	uuid_t u;

	uuid_generate_random(u);
	uuid_unparse_lower(u, out);
}

/* Finish a transaction: commit when st is ST_OK, otherwise roll back. */
static enum status finish(struct cli_db *db, enum status st, struct err *err)
{
	if (st == ST_OK && !exec_simple(db, "COMMIT"))
		st = err_set(err, ST_INTERNAL, NULL, "could not commit");
	if (st != ST_OK)
		exec_simple(db, "ROLLBACK");
	return st;
}

static enum status audit(struct cli_db *db, const char *action, const char *entity, const char *id,
                         struct err *err)
{
	const char *v[] = {action, entity, id};
	enum status st;
	PGresult *res = run(db, SQL_CLI_AUDIT, 3, v, err, &st);

	PQclear(res);
	return st;
}

enum status cli_user_add(struct cli_db *db, const char *name, const char *display_name,
                         const char *role, bool team_lead, const char *const *wards, int nwards,
                         const char *password_hash, const char *organisation_id, char id_out[37],
                         struct err *err)
{
	const char *v[] = {
	    id_out,        name,           display_name, role, team_lead ? "true" : "false",
	    password_hash, organisation_id};
	enum status st = ST_OK;

	new_uuid(id_out);
	if (!exec_simple(db, "BEGIN"))
		return err_set(err, ST_INTERNAL, NULL, "could not begin");
	PQclear(run(db, SQL_USER_ADD, 7, v, err, &st));
	for (int i = 0; st == ST_OK && i < nwards; i++) {
		const char *w[] = {id_out, wards[i]};

		PQclear(run(db, SQL_USER_WARD, 1, w + 1, err, &st));
		if (st == ST_OK)
			PQclear(run(db, SQL_USER_WARD_INSERT, 2, w, err, &st));
	}
	if (st == ST_OK)
		st = audit(db, "user.add", "user", id_out, err);
	return finish(db, st, err);
}

enum status cli_user_list(struct cli_db *db, FILE *out, struct err *err)
{
	enum status st;
	PGresult *res = run(db, SQL_USER_LIST, 0, NULL, err, &st);

	if (res == NULL)
		return st;
	fprintf(out, "%-24s %-14s %-6s %-24s %-8s %-36s %s\n", "name", "role", "lead", "wards",
	        "state", "id", "organisation");
	for (int i = 0; i < PQntuples(res); i++)
		fprintf(out, "%-24s %-14s %-6s %-24s %-8s %-36s %s\n", PQgetvalue(res, i, 0),
		        PQgetvalue(res, i, 1), PQgetvalue(res, i, 2)[0] == 't' ? "yes" : "no",
		        PQgetvalue(res, i, 3),
		        PQgetvalue(res, i, 4)[0] == 't' ? "disabled" : "active",
		        PQgetvalue(res, i, 5), PQgetvalue(res, i, 6));
	PQclear(res);
	return ST_OK;
}

enum status cli_user_disable(struct cli_db *db, const char *name, struct err *err)
{
	const char *v[] = {name};
	enum status st;
	PGresult *res;
	char id[37];

	if (!exec_simple(db, "BEGIN"))
		return err_set(err, ST_INTERNAL, NULL, "could not begin");
	res = run(db, SQL_USER_DISABLE, 1, v, err, &st);
	if (res != NULL && PQntuples(res) != 1)
		st = err_set(err, ST_NOT_FOUND, "name", "no enabled user \"%s\"", name);
	if (st == ST_OK) {
		const char *u[1];

		snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
		u[0] = id;
		PQclear(run(db, SQL_USER_REVOKE_ALL, 1, u, err, &st));
		if (st == ST_OK)
			st = audit(db, "user.disable", "user", id, err);
	}
	PQclear(res);
	return finish(db, st, err);
}

/* Run one UPDATE ... RETURNING id of user name, audited as action. */
static enum status user_update(struct cli_db *db, const char *sql, const char *name,
                               const char *value, const char *action, struct err *err)
{
	const char *v[] = {name, value};
	enum status st;
	PGresult *res;
	char id[37];

	if (!exec_simple(db, "BEGIN"))
		return err_set(err, ST_INTERNAL, NULL, "could not begin");
	res = run(db, sql, 2, v, err, &st);
	if (res != NULL && PQntuples(res) != 1)
		st = err_set(err, ST_NOT_FOUND, "name", "no user \"%s\"", name);
	if (st == ST_OK) {
		snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
		st = audit(db, action, "user", id, err);
	}
	PQclear(res);
	return finish(db, st, err);
}

enum status cli_user_unlock(struct cli_db *db, const char *name, bool *was_locked, struct err *err)
{
	const char *v[] = {name};
	enum status st;
	PGresult *res;
	char id[37];

	*was_locked = false;
	if (!exec_simple(db, "BEGIN"))
		return err_set(err, ST_INTERNAL, NULL, "could not begin");
	res = run(db, SQL_USER_UNLOCK, 1, v, err, &st);
	if (res != NULL && PQntuples(res) != 1)
		st = err_set(err, ST_NOT_FOUND, "name", "no user \"%s\"", name);
	if (st == ST_OK) {
		snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
		*was_locked = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
		st = audit(db, "user.unlock", "user", id, err);
	}
	PQclear(res);
	return finish(db, st, err);
}

enum status cli_user_set_password(struct cli_db *db, const char *name, const char *hash,
                                  struct err *err)
{
	return user_update(db, SQL_USER_PASSWORD, name, hash, "user.password", err);
}

enum status cli_user_link(struct cli_db *db, const char *name, const char *subject, struct err *err)
{
	return user_update(db, SQL_USER_LINK, name, subject,
	                   subject != NULL ? "user.link" : "user.unlink", err);
}

enum status cli_user_totp(struct cli_db *db, const char *name, const char *secret_hex,
                          struct err *err)
{
	return user_update(db, SQL_USER_TOTP, name, secret_hex,
	                   secret_hex != NULL ? "user.totp_enrol" : "user.totp_remove", err);
}

enum status cli_token_issue(struct cli_db *db, const char *name, const char *hash_hex,
                            const char *label, long expires_seconds, char id_out[37],
                            struct err *err)
{
	char secs[32];
	const char *v[] = {id_out, name, hash_hex, label, expires_seconds > 0 ? secs : NULL};
	enum status st;
	PGresult *res;

	snprintf(secs, sizeof secs, "%ld", expires_seconds);
	new_uuid(id_out);
	if (!exec_simple(db, "BEGIN"))
		return err_set(err, ST_INTERNAL, NULL, "could not begin");
	res = run(db, SQL_TOKEN_ISSUE, 5, v, err, &st);
	if (res != NULL && PQntuples(res) != 1)
		st = err_set(err, ST_NOT_FOUND, "name", "no enabled user \"%s\"", name);
	PQclear(res);
	if (st == ST_OK)
		st = audit(db, "token.issue", "token", id_out, err);
	return finish(db, st, err);
}

enum status cli_token_revoke(struct cli_db *db, const char *token_id, struct err *err)
{
	const char *v[] = {token_id};
	enum status st;
	PGresult *res;

	if (!exec_simple(db, "BEGIN"))
		return err_set(err, ST_INTERNAL, NULL, "could not begin");
	res = run(db, SQL_TOKEN_REVOKE_ID, 1, v, err, &st);
	if (res != NULL && PQntuples(res) != 1)
		st = err_set(err, ST_NOT_FOUND, "id", "no live token \"%s\"", token_id);
	PQclear(res);
	if (st == ST_OK)
		st = audit(db, "token.revoke", "token", token_id, err);
	return finish(db, st, err);
}

enum status cli_token_list(struct cli_db *db, const char *name, FILE *out, struct err *err)
{
	const char *v[] = {name};
	enum status st;
	PGresult *res = run(db, SQL_USER_NAMED, 1, v, err, &st);

	if (res == NULL)
		return st;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return err_set(err, ST_NOT_FOUND, "name", "no user \"%s\"", name);
	}
	PQclear(res);
	if ((res = run(db, SQL_TOKEN_LIST, 1, v, err, &st)) == NULL)
		return st;
	fprintf(out, "%-36s %-7s %-7s %-20s %-20s %-20s %s\n", "id", "kind", "state", "created",
	        "expires", "last used (hour)", "label");
	for (int i = 0; i < PQntuples(res); i++)
		fprintf(out, "%-36s %-7s %-7s %-20s %-20s %-20s %s\n", PQgetvalue(res, i, 0),
		        PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
		        PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), PQgetvalue(res, i, 6));
	PQclear(res);
	return ST_OK;
}

enum status cli_ward_add(struct cli_db *db, const char *code, const char *name, int beds,
                         const char *pas_code, struct err *err)
{
	char b[16];
	const char *v[] = {code, name, b, pas_code};
	enum status st;

	snprintf(b, sizeof b, "%d", beds);
	if (!exec_simple(db, "BEGIN"))
		return err_set(err, ST_INTERNAL, NULL, "could not begin");
	PQclear(run(db, SQL_WARD_ADD, 4, v, err, &st));
	if (st == ST_OK)
		st = audit(db, "ward.add", "ward", NULL, err);
	return finish(db, st, err);
}

enum status cli_organisation_find(struct cli_db *db, const char *ref, struct cli_organisation *out,
                                  struct err *err)
{
	const char *v[] = {ref};
	enum status st;
	PGresult *res = run(db, SQL_ORG_FIND, 1, v, err, &st);

	if (res == NULL)
		return st;
	memset(out, 0, sizeof *out);
	if (PQntuples(res) == 1) {
		out->found = true;
		snprintf(out->id, sizeof out->id, "%s", PQgetvalue(res, 0, 0));
		snprintf(out->code, sizeof out->code, "%s", PQgetvalue(res, 0, 1));
		snprintf(out->kind, sizeof out->kind, "%s", PQgetvalue(res, 0, 2));
		out->disabled = PQgetvalue(res, 0, 3)[0] == 't';
	}
	PQclear(res);
	return ST_OK;
}

enum status cli_organisation_add(struct cli_db *db, const char *code, const char *name,
                                 const char *kind, const char *services_json,
                                 const char *local_authority_id, char id_out[37], struct err *err)
{
	const char *free_v[] = {code};
	const char *v[] = {id_out, code, name, kind, services_json, local_authority_id};
	enum status st = ST_OK;

	new_uuid(id_out);
	if (!exec_simple(db, "BEGIN"))
		return err_set(err, ST_INTERNAL, NULL, "could not begin");
	PQclear(run(db, SQL_ORG_FREE, 1, free_v, err, &st));
	if (st == ST_OK)
		PQclear(run(db, SQL_ORG_ADD, 6, v, err, &st));
	if (st == ST_OK)
		st = audit(db, "organisation.add", "organisation", id_out, err);
	return finish(db, st, err);
}

enum status cli_organisation_list(struct cli_db *db, FILE *out, struct err *err)
{
	enum status st;
	PGresult *res = run(db, SQL_ORG_LIST, 0, NULL, err, &st);

	if (res == NULL)
		return st;
	fprintf(out, "%-16s %-16s %-8s %-40s %-16s %-36s %s\n", "code", "kind", "state", "services",
	        "council", "id", "name");
	for (int i = 0; i < PQntuples(res); i++)
		fprintf(out, "%-16s %-16s %-8s %-40s %-16s %-36s %s\n", PQgetvalue(res, i, 0),
		        PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
		        PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), PQgetvalue(res, i, 6));
	PQclear(res);
	return ST_OK;
}

enum status cli_organisation_disable(struct cli_db *db, const char *id, struct err *err)
{
	const char *v[] = {id};
	enum status st;
	PGresult *res;

	if (!exec_simple(db, "BEGIN"))
		return err_set(err, ST_INTERNAL, NULL, "could not begin");
	res = run(db, SQL_ORG_DISABLE, 1, v, err, &st);
	if (res != NULL && PQntuples(res) != 1)
		st = err_set(err, ST_CONFLICT, "organisation",
		             "the organisation is the trust or is already disabled");
	PQclear(res);
	if (st == ST_OK)
		st = audit(db, "organisation.disable", "organisation", id, err);
	return finish(db, st, err);
}

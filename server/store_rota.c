/*
 * store_rota.c - SQL for the on-call rota (see store_rota.h).
 */
#include "store_rota.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "store.h"
#include "xmalloc.h"

/* Aborts with CB404 unless user $1 exists. */
static const char SQL_ROTA_USER_FOUND[] =
    "SELECT cb_expect(EXISTS (SELECT 1 FROM users WHERE id = $1::uuid), 'CB404',"
    " 'user not found')";

/*
 * Adds shift $1 (site $2, role $3, user $4, $5..$6 epoch seconds) and audits it
 * (actor $7/$8, request $9); returns its JSON.
 */
static const char SQL_ROTA_ADD[] =
    "WITH i AS (INSERT INTO rota (id, site, role, user_id, starts_at, ends_at)"
    " VALUES ($1::uuid, $2, $3, $4::uuid, to_timestamp($5::double precision),"
    " to_timestamp($6::double precision)) RETURNING rota),"
    " a AS (INSERT INTO audit (actor_id, actor, action, entity, entity_id, after, request_id)"
    " SELECT $7::uuid, $8, 'rota.add', 'rota', $1::uuid, cb_rota_json((i.rota)), $9::uuid"
    " FROM i)"
    " SELECT cb_rota_json((i.rota))::text FROM i";

/* Shifts on duty at $1 (> 0), else ending after $2, as {"items": [...]}. */
static const char SQL_ROTA_LIST[] =
    "SELECT jsonb_build_object('items', coalesce(jsonb_agg(cb_rota_json(r)"
    " ORDER BY r.starts_at, r.site, r.role), '[]'::jsonb))::text FROM (SELECT * FROM rota r"
    " WHERE CASE WHEN $1::bigint > 0"
    "  THEN r.starts_at <= to_timestamp($1::double precision)"
    "   AND r.ends_at > to_timestamp($1::double precision)"
    "  ELSE r.ends_at > to_timestamp($2::double precision) END"
    " ORDER BY r.starts_at LIMIT 1000) r";

/*
 * Adds (or re-times) shift: site $1, role $2, user named $3, $4..$5 epoch
 * seconds; no row when there is no such user.
 */
static const char SQL_ROTA_IMPORT_ROW[] =
    "INSERT INTO rota (id, site, role, user_id, starts_at, ends_at)"
    " SELECT gen_random_uuid(), $1, $2, u.id, to_timestamp($4::double precision),"
    " to_timestamp($5::double precision) FROM users u WHERE u.name = $3"
    " ON CONFLICT (site, role, user_id, starts_at) DO UPDATE SET ends_at = excluded.ends_at"
    " RETURNING 1";

/* The audit row of an import of $1 shifts. */
static const char SQL_ROTA_IMPORT_AUDIT[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, after)"
    " VALUES (NULL, 'cli', 'rota.import', 'rota', NULL,"
    " jsonb_build_object('shifts', $1::integer))";

void store_rota_add(struct db *db, const struct rota_entry *e, const struct actor *actor,
                    store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char id[37], s[32], t[32];
	const char *one[] = {e->user};
	const char *v[] = {id, e->site,   e->role,     e->user,          s,
	                   t,  actor->id, actor->name, actor->request_id};
	int json_stmt;

	store_new_id(id);
	snprintf(s, sizeof s, "%" PRId64, e->starts_at);
	snprintf(t, sizeof t, "%" PRId64, e->ends_at);
	db_req_add(req, SQL_ROTA_USER_FOUND, 1, one);
	json_stmt = db_req_add(req, SQL_ROTA_ADD, 9, v);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "shift"));
}

void store_rota_list(struct db *db, int64_t at, int64_t now, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char a[32], n[32];
	const char *v[] = {a, n};

	snprintf(a, sizeof a, "%" PRId64, at);
	snprintf(n, sizeof n, "%" PRId64, now);
	db_req_add(req, SQL_ROTA_LIST, 2, v);
	db_req_submit(db, req, store_json_done, store_wait_new((store_any_fn *)cb, arg, 0, NULL));
}

/* One statement on the command line's connection unless *st failed; its row count. */
static int run(PGconn *pg, const char *sql, int n, const char *const *v, enum status *st,
               struct err *err)
{
	PGresult *res;
	ExecStatusType s;
	int rows = 0;

	if (*st != ST_OK)
		return 0;
	res = PQexecParams(pg, sql, n, NULL, v, NULL, NULL, 0);
	s = PQresultStatus(res);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		*st = db_status_from_sqlstate(state);
		err_set(err, *st, NULL, "could not import the rota (SQLSTATE %s)",
		        state != NULL ? state : "?");
	} else {
		rows = PQntuples(res);
	}
	PQclear(res);
	return rows;
}

enum status store_rota_import_blocking(const char *conninfo, const struct rota_entry *e, int n,
                                       struct err *err)
{
	PGconn *pg = store_connect_blocking(conninfo, "carebridge-cli", err);
	enum status st = ST_OK;
	char cnt[16];
	const char *audit[] = {cnt};

	if (pg == NULL)
		return ST_UNAVAILABLE;
	snprintf(cnt, sizeof cnt, "%d", n);
	run(pg, "BEGIN", 0, NULL, &st, err);
	for (int i = 0; i < n && st == ST_OK; i++) {
		char s[32], t[32];
		const char *v[] = {e[i].site, e[i].role, e[i].user, s, t};

		snprintf(s, sizeof s, "%" PRId64, e[i].starts_at);
		snprintf(t, sizeof t, "%" PRId64, e[i].ends_at);
		if (run(pg, SQL_ROTA_IMPORT_ROW, 5, v, &st, err) != 1 && st == ST_OK)
			st = err_set(err, ST_NOT_FOUND, "user", "shift %d: no user \"%s\"", i + 1,
			             e[i].user);
	}
	run(pg, SQL_ROTA_IMPORT_AUDIT, 1, audit, &st, err);
	run(pg, "COMMIT", 0, NULL, &st, err);
	PQfinish(pg); /* an open transaction is rolled back with the connection */
	return st;
}

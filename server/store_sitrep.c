/*
 * store_sitrep.c - SQL for the sitrep's submissions (see store_sitrep.h).
 */
#include "store_sitrep.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "cbtime.h"
#include "db.h"
#include "xmalloc.h"

/* The latest version of each date $1..$2 as {"YYYY-MM-DD": submission}. */
static const char SQL_LATEST[] =
    "SELECT coalesce(jsonb_object_agg(to_char(s.date, 'YYYY-MM-DD'),"
    " cb_sitrep_submission_json(s)), '{}'::jsonb)::text"
    " FROM (SELECT DISTINCT ON (date) * FROM sitrep_submissions"
    "  WHERE date BETWEEN $1::date AND $2::date ORDER BY date, version DESC) s";

/*
 * Submission $1 of date $2, the next version of that date: figures $3, at $4
 * (epoch), by user $5 named $6, note $7.
 */
static const char SQL_INSERT[] =
    "INSERT INTO sitrep_submissions (id, date, version, figures, submitted_at,"
    " submitted_by_id, submitted_by, note)"
    " SELECT $1::uuid, $2::date, coalesce(max(version), 0) + 1, $3::jsonb,"
    " to_timestamp($4::double precision), $5::uuid, $6, $7"
    " FROM sitrep_submissions WHERE date = $2::date";

/* Audit of submission $1: actor $2/$3, request $4. */
static const char SQL_AUDIT[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before, after,"
    " request_id) SELECT $2::uuid, $3, 'sitrep.submit', 'sitrep_submission', s.id, NULL, NULL,"
    " cb_sitrep_submission_json(s), $4::uuid FROM sitrep_submissions s WHERE s.id = $1::uuid";

/* Outbox event about submission $1: the day object $2 with its submission (no ward). */
static const char SQL_EVENT[] =
    "INSERT INTO events (type, ward, episode_id, discipline, payload)"
    " SELECT 'sitrep.submitted', NULL, NULL, NULL, $2::jsonb || jsonb_build_object("
    " 'submission', cb_sitrep_submission_json(s) || '{\"amendments\": []}'::jsonb)"
    " FROM sitrep_submissions s WHERE s.id = $1::uuid";

/* The reply: submission $1. */
static const char SQL_REPLY[] =
    "SELECT cb_sitrep_submission_json(s)::text FROM sitrep_submissions s WHERE s.id = $1::uuid";

void store_sitrep_latest(struct db *db, int32_t from, int32_t to, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char a[DATE_FORMAT_LEN], b[DATE_FORMAT_LEN];
	const char *v[] = {a, b};
	int stmt;

	date_format(from, a);
	date_format(to, b);
	stmt = db_req_add(req, SQL_LATEST, 2, v);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, stmt, "sitrep submissions"));
}

char *store_sitrep_latest_blocking(const char *conninfo, int32_t from, int32_t to, struct err *err)
{
	char a[DATE_FORMAT_LEN], b[DATE_FORMAT_LEN];
	const char *v[] = {a, b};
	char *out = NULL;
	PGconn *pg = store_connect_blocking(conninfo, "carebridge-report", err);
	PGresult *res;

	if (pg == NULL)
		return NULL;
	date_format(from, a);
	date_format(to, b);
	res = PQexecParams(pg, SQL_LATEST, 2, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		out = xstrdup(PQgetvalue(res, 0, 0));
	else
		err_set(err, ST_INTERNAL, NULL, "could not read the sitrep submissions");
	PQclear(res);
	PQfinish(pg);
	return out;
}

void store_sitrep_submit(struct db *db, const struct sitrep_submit_row *s,
                         const struct actor *actor, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char id[37], day[DATE_FORMAT_LEN], now[32];
	const char *ins[] = {id, day, s->figures, now, actor->id, actor->name, s->note};
	const char *aud[] = {id, actor->id, actor->name, actor->request_id};
	const char *ev[] = {id, s->day_json};
	const char *one[] = {id};
	int stmt;

	store_new_id(id);
	date_format(s->day, day);
	snprintf(now, sizeof now, "%" PRId64, s->now);
	store_add_events_lock(req);
	db_req_add(req, SQL_INSERT, 7, ins);
	db_req_add(req, SQL_AUDIT, 4, aud);
	db_req_add(req, SQL_EVENT, 2, ev);
	stmt = db_req_add(req, SQL_REPLY, 1, one);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, stmt, "sitrep submission"));
}

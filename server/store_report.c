/*
 * store_report.c - SQL for the facts of the reports (see store_report.h).
 *
 * One statement builds the whole document, so the facts are read from one
 * snapshot of the database: a barrier cannot be seen without its history, or
 * a discharge without the readiness that preceded it.
 */
#include "store_report.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "xmalloc.h"

/*
 * $1, $2: the instants (Unix seconds) the report may ask about.  Instants go
 * out as whole seconds (floor), as lib/figures counts them.  A stay runs from
 * its history row to the next one (the first from the admission); a barrier
 * opens with its first reason row and later rows are changes; its primary
 * spans run from each barrier_primary_history row naming it to the
 * episode's next row (a span of no length, two rows at one instant, is
 * dropped: the row written last decides).
 */
static const char SQL_FACTS[] =
    "WITH ep AS MATERIALIZED (SELECT e.* FROM episodes e WHERE e.state <> 'cancelled'"
    "  AND e.admitted_at <= to_timestamp($2::double precision)"
    "  AND (e.discharged_at IS NULL OR e.discharged_at > to_timestamp($1::double precision))),"
    /* each part aggregated per episode (or barrier) once, then joined: no per-row subquery */
    " wh AS (SELECT x.episode_id, jsonb_agg(jsonb_build_array(x.ward,"
    "    floor(extract(epoch FROM x.at))::bigint, floor(extract(epoch FROM x.until))::bigint)"
    "    ORDER BY x.at, x.id) AS stays"
    "  FROM (SELECT h.episode_id, h.ward, h.id,"
    "    CASE WHEN row_number() OVER w = 1 THEN least(h.at, e.admitted_at) ELSE h.at END AS at,"
    "    lead(h.at) OVER w AS until"
    "    FROM ward_history h JOIN ep e ON e.id = h.episode_id"
    "    WINDOW w AS (PARTITION BY h.episode_id ORDER BY h.at, h.id)) x GROUP BY x.episode_id),"
    " rd AS (SELECT r.episode_id, jsonb_agg(jsonb_build_array("
    "    floor(extract(epoch FROM r.ready_at))::bigint,"
    "    floor(extract(epoch FROM r.withdrawn_at))::bigint) ORDER BY r.ready_at, r.id) AS periods"
    "  FROM readiness r JOIN ep e ON e.id = r.episode_id GROUP BY r.episode_id),"
    " ph AS (SELECT x.barrier_id, jsonb_agg(jsonb_build_array(floor(extract(epoch FROM "
    "x.at))::bigint,"
    "    floor(extract(epoch FROM x.until))::bigint) ORDER BY x.at, x.id) AS spans"
    "  FROM (SELECT h.barrier_id, h.at, h.id,"
    "    lead(h.at) OVER (PARTITION BY h.episode_id ORDER BY h.at, h.id) AS until"
    "    FROM barrier_primary_history h JOIN ep e ON e.id = h.episode_id) x"
    "  WHERE x.barrier_id IS NOT NULL AND (x.until IS NULL OR x.until > x.at)"
    "  GROUP BY x.barrier_id),"
    " rh AS (SELECT r.barrier_id, r.at, r.id, r.reason_list, r.reason,"
    "    row_number() OVER (PARTITION BY r.barrier_id ORDER BY r.at, r.id) AS n"
    "  FROM barrier_reason_history r JOIN barriers b ON b.id = r.barrier_id"
    "  JOIN ep e ON e.id = b.episode_id),"
    " rc AS (SELECT c.barrier_id, jsonb_agg(jsonb_build_array(floor(extract(epoch FROM "
    "c.at))::bigint,"
    "    c.reason_list, c.reason) ORDER BY c.at, c.id) AS changes FROM rh c WHERE c.n > 1"
    "  GROUP BY c.barrier_id),"
    " bb AS (SELECT b.episode_id, jsonb_agg(jsonb_build_object("
    "    'list', coalesce(f.reason_list, b.reason_list), 'key', coalesce(f.reason, b.reason),"
    "    'opened_at', floor(extract(epoch FROM b.opened_at))::bigint,"
    "    'closed_at', floor(extract(epoch FROM b.closed_at))::bigint,"
    "    'changes', coalesce(rc.changes, '[]'::jsonb), 'primary', coalesce(ph.spans, '[]'::jsonb))"
    "    ORDER BY b.opened_at, b.id) AS barriers"
    "  FROM barriers b JOIN ep e ON e.id = b.episode_id"
    "  LEFT JOIN rh f ON f.barrier_id = b.id AND f.n = 1"
    "  LEFT JOIN rc ON rc.barrier_id = b.id LEFT JOIN ph ON ph.barrier_id = b.id"
    "  GROUP BY b.episode_id),"
    " dl AS (SELECT l.name, min(i.active_from) AS active_from FROM reference_lists l"
    "  JOIN reference_items i ON i.list = l.name WHERE l.kind = 'delay_reason' GROUP BY l.name)"
    " SELECT jsonb_build_object("
    " 'episodes', coalesce((SELECT jsonb_agg(jsonb_build_object("
    "   'id', e.id,"
    "   'admitted_at', floor(extract(epoch FROM e.admitted_at))::bigint,"
    "   'discharged_at', floor(extract(epoch FROM e.discharged_at))::bigint,"
    "   'pathway', e.discharge_pathway,"
    "   'destination', e.discharge_destination_code,"
    "   'bed', e.bed,"
    "   'stays', coalesce(wh.stays, jsonb_build_array(jsonb_build_array(e.ward,"
    "       floor(extract(epoch FROM e.admitted_at))::bigint, NULL))),"
    "   'readiness', coalesce(rd.periods, '[]'::jsonb),"
    "   'barriers', coalesce(bb.barriers, '[]'::jsonb))"
    "   ORDER BY e.admitted_at, e.id) FROM ep e LEFT JOIN wh ON wh.episode_id = e.id"
    "   LEFT JOIN rd ON rd.episode_id = e.id LEFT JOIN bb ON bb.episode_id = e.id), '[]'::jsonb),"
    " 'lists', coalesce((SELECT jsonb_agg(jsonb_build_array(d.name,"
    "   to_char(d.active_from, 'YYYY-MM-DD')) ORDER BY d.active_from, d.name) FROM dl d), "
    "'[]'::jsonb),"
    " 'mappings', coalesce((SELECT jsonb_agg(jsonb_build_array(i.older_list, i.older_key, i.list, "
    "i.key)"
    "   ORDER BY i.list, i.position, i.key) FROM reference_items i"
    "   WHERE i.older_list IS NOT NULL AND i.list IN (SELECT name FROM dl)), '[]'::jsonb),"
    " 'labels', coalesce((SELECT jsonb_agg(jsonb_build_array(i.list, i.key, i.label)"
    "   ORDER BY i.list, i.position, i.key) FROM reference_items i"
    "   WHERE i.list IN (SELECT name FROM dl)), '[]'::jsonb))::text";

/*
 * The patient JSON of each episode of $1 (a JSON array of episode ids), as
 * one object keyed by episode id ({} for none).
 */
static const char SQL_PATIENTS[] =
    "SELECT coalesce(jsonb_object_agg(e.id, cb_patient_json(p)), '{}'::jsonb)::text"
    " FROM episodes e JOIN patients p ON p.id = e.patient_id"
    " WHERE e.id IN (SELECT x::uuid FROM jsonb_array_elements_text($1::jsonb) x)";

/* The read of a report's patient rows, audited as the daemon audits reads ($1..$3). */
static const char SQL_AUDIT_CLI_READ[] =
    "INSERT INTO audit (actor_id, actor, action, entity, after)"
    " VALUES (NULL, $1, $2, 'episode', $3::jsonb)";

void store_report_facts(struct db *db, int64_t from, int64_t to, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char a[32], b[32];
	const char *v[] = {a, b};
	int stmt;

	snprintf(a, sizeof a, "%" PRId64, from);
	snprintf(b, sizeof b, "%" PRId64, to);
	stmt = db_req_add(req, SQL_FACTS, 2, v);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, stmt, "report facts"));
}

char *store_report_facts_blocking(const char *conninfo, int64_t from, int64_t to, struct err *err)
{
	char a[32], b[32];
	const char *v[] = {a, b};
	char *doc = NULL;
	PGconn *pg = store_connect_blocking(conninfo, "carebridge-report", err);
	PGresult *res;

	if (pg == NULL)
		return NULL;
	snprintf(a, sizeof a, "%" PRId64, from);
	snprintf(b, sizeof b, "%" PRId64, to);
	res = PQexecParams(pg, SQL_FACTS, 2, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		doc = xstrdup(PQgetvalue(res, 0, 0));
	else
		err_set(err, ST_INTERNAL, NULL, "could not read the report facts");
	PQclear(res);
	PQfinish(pg);
	return doc;
}

void store_report_patients(struct db *db, const char *ids_json, const char *action,
                           const char *detail_json, const struct actor *actor, store_json_cb *cb,
                           void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {ids_json};
	int stmt;

	stmt = db_req_add(req, SQL_PATIENTS, 1, v);
	store_add_audit_read(req, actor, action, "episode", NULL, NULL, detail_json);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, stmt, "report patients"));
}

char *store_report_patients_blocking(const char *conninfo, const char *ids_json, const char *action,
                                     const char *detail_json, const char *actor, struct err *err)
{
	const char *v[] = {ids_json};
	const char *a[] = {actor, action, detail_json};
	char *doc = NULL;
	PGconn *pg = store_connect_blocking(conninfo, "carebridge-report", err);
	PGresult *res;

	if (pg == NULL)
		return NULL;
	/* the read and its audit row commit together, or neither does */
	PQclear(PQexec(pg, "BEGIN"));
	res = PQexecParams(pg, SQL_AUDIT_CLI_READ, 3, NULL, a, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_COMMAND_OK) {
		PQclear(res);
		res = PQexecParams(pg, SQL_PATIENTS, 1, NULL, v, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
			doc = xstrdup(PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	if (doc != NULL) {
		res = PQexec(pg, "COMMIT");
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			free(doc);
			doc = NULL;
		}
		PQclear(res);
	}
	if (doc == NULL)
		err_set(err, ST_INTERNAL, NULL, "could not read the report's patients");
	PQfinish(pg);
	return doc;
}

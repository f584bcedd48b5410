/*
 * store_metrics.c - SQL for the periodic figures of /metrics (see store_metrics.h).
 */
#include "store_metrics.h"

#include <inttypes.h>
#include <stdio.h>

#include "db.h"

/*
 * [[ward, NCTR inpatients, delayed inpatients], ...] at $1 (epoch): NCTR is
 * a current readiness (ready_at set, up to $1); delayed is ready by the London
 * midnight that began $1's day.
 */
static const char SQL_WARD_FIGURES[] =
    "SELECT coalesce(jsonb_agg(jsonb_build_array(w.code, coalesce(f.nctr, 0),"
    " coalesce(f.delayed, 0)) ORDER BY w.code), '[]'::jsonb)::text FROM wards w"
    " LEFT JOIN (SELECT e.ward, count(*) AS nctr, count(*) FILTER (WHERE e.ready_at <="
    "  (date_trunc('day', to_timestamp($1::double precision) AT TIME ZONE 'Europe/London')"
    "   AT TIME ZONE 'Europe/London')) AS delayed"
    "  FROM episodes e WHERE e.state = 'admitted' AND e.ready_at IS NOT NULL"
    "  AND e.ready_at <= to_timestamp($1::double precision) GROUP BY e.ward) f"
    " ON f.ward = w.code";

void store_ward_figures(struct db *db, int64_t now, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char t[24];
	const char *v[] = {t};
	int stmt;

	snprintf(t, sizeof t, "%" PRId64, now);
	stmt = db_req_add(req, SQL_WARD_FIGURES, 1, v);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, stmt, "ward figures"));
}

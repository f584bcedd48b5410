/*
 * store_delay.c - SQL for the delay report (see store_delay.h).
 */
#include "store_delay.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "cbtime.h"
#include "db.h"
#include "xmalloc.h"

/*
 * Readiness periods that may count at a snapshot between $1 and $2 (epoch
 * seconds): episode, ward, bed, ready, withdrawn, left (0 = none), reason,
 * attribution.
 */
static const char SQL_REPORT_PERIODS[] =
    "SELECT r.episode_id, e.ward, e.bed, extract(epoch FROM r.ready_at)::bigint,"
    " coalesce(extract(epoch FROM r.withdrawn_at)::bigint, 0),"
    " coalesce(extract(epoch FROM e.discharged_at)::bigint, 0),"
    " coalesce(d.reason_code, ''), coalesce(d.attribution, '')"
    " FROM readiness r JOIN episodes e ON e.id = r.episode_id"
    " LEFT JOIN delays d ON d.episode_id = r.episode_id AND d.ready_at = r.ready_at"
    " WHERE e.state <> 'cancelled' AND r.ready_at <= to_timestamp($2::double precision)"
    " AND (r.withdrawn_at IS NULL OR r.withdrawn_at > to_timestamp($1::double precision))"
    " AND (e.discharged_at IS NULL OR e.discharged_at > to_timestamp($1::double precision))"
    " ORDER BY r.episode_id, r.ready_at";

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

/* Copy the report rows of res into a new array. */
static struct report_period *periods_from(const PGresult *res, size_t *n)
{
	int rows = PQntuples(res);
	struct report_period *p = xcalloc((size_t)rows + 1, sizeof *p);

	for (int i = 0; i < rows; i++) {
		copy(p[i].episode_id, sizeof p[i].episode_id, db_value(res, i, 0));
		copy(p[i].ward, sizeof p[i].ward, db_value(res, i, 1));
		copy(p[i].bed, sizeof p[i].bed, db_value(res, i, 2));
		p[i].r.ready_at = strtoll(db_value(res, i, 3), NULL, 10);
		p[i].r.withdrawn_at = strtoll(db_value(res, i, 4), NULL, 10);
		p[i].r.left_at = strtoll(db_value(res, i, 5), NULL, 10);
		copy(p[i].reason_code, sizeof p[i].reason_code, db_value(res, i, 6));
		copy(p[i].attribution, sizeof p[i].attribution, db_value(res, i, 7));
	}
	*n = (size_t)rows;
	return p;
}

static void report_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_report_cb *cb = (store_report_cb *)w->cb;
	struct report_period *p;
	size_t n;

	if (r->st != ST_OK) {
		cb(r->st, NULL, 0, w->arg);
	} else {
		p = periods_from(r->res[0], &n);
		cb(ST_OK, p, n, w->arg);
		free(p);
	}
	free(w);
}

static void bounds(int32_t from, int32_t to, char a[32], char b[32])
{
	snprintf(a, 32, "%" PRId64, london_snapshot(from));
	snprintf(b, 32, "%" PRId64, london_snapshot(to));
}

void store_report_load(struct db *db, int32_t from, int32_t to, store_report_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char a[32], b[32];
	const char *v[] = {a, b};

	bounds(from, to, a, b);
	db_req_add(req, SQL_REPORT_PERIODS, 2, v);
	db_req_submit(db, req, report_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

struct report_period *store_report_load_blocking(const char *conninfo, int32_t from, int32_t to,
                                                 size_t *n, struct err *err)
{
	const char *keys[] = {"dbname", "application_name", NULL};
	const char *vals[] = {conninfo, "carebridge-report", NULL};
	char a[32], b[32], msg[200];
	const char *v[] = {a, b};
	struct report_period *p = NULL;
	PGconn *pg = PQconnectdbParams(keys, vals, 1);
	PGresult *res;

	if (PQstatus(pg) != CONNECTION_OK) {
		snprintf(msg, sizeof msg, "%s", PQerrorMessage(pg));
		msg[strcspn(msg, "\n")] = '\0';
		err_set(err, ST_UNAVAILABLE, NULL, "could not connect to the database: %s", msg);
		PQfinish(pg);
		return NULL;
	}
	bounds(from, to, a, b);
	res = PQexecParams(pg, SQL_REPORT_PERIODS, 2, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		p = periods_from(res, n);
	else
		err_set(err, ST_INTERNAL, NULL, "could not read the report data");
	PQclear(res);
	PQfinish(pg);
	return p;
}

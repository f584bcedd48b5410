/*
 * store_delay.c - SQL for delay reasons and the delay report (see store_delay.h).
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

/* The ward of episode $1 and its open delay: id, version, JSON (NULLs when none). */
static const char SQL_DELAY_GET[] =
    "SELECT e.ward, d.id, d.version, cb_delay_json(d)::text FROM episodes e"
    " LEFT JOIN delays d ON d.episode_id = e.id AND d.closed_at IS NULL"
    " WHERE e.id = $1::uuid";

/* Sets reason $3 and attribution $4 on delay $1 if still at version $2 (CB412 otherwise). */
static const char SQL_DELAY_SET[] =
    "WITH u AS (UPDATE delays SET reason_code = $3, attribution = $4, updated_at = now(),"
    " version = version + 1 WHERE id = $1::uuid AND version = $2::integer RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB412',"
    " 'delay was changed by someone else; reload it and try again') FROM u";

/* The delay $1 as JSON text. */
static const char SQL_DELAY_JSON[] = "SELECT cb_delay_json(d)::text FROM delays d WHERE d.id = $1";

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

static void get_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_delay_facts_cb *cb = (store_delay_facts_cb *)w->cb;
	struct delay_facts f;

	if (r->st != ST_OK) {
		cb(r->st, NULL, w->arg);
	} else if (db_rows(r->res[0]) != 1) {
		cb(ST_NOT_FOUND, NULL, w->arg);
	} else {
		memset(&f, 0, sizeof f);
		copy(f.ward, sizeof f.ward, db_value(r->res[0], 0, 0));
		copy(f.delay_id, sizeof f.delay_id, db_value(r->res[0], 0, 1));
		f.version = db_value(r->res[0], 0, 2) ? atoi(db_value(r->res[0], 0, 2)) : 0;
		f.json = db_value(r->res[0], 0, 3);
		cb(ST_OK, &f, w->arg);
	}
	free(w);
}

void store_delay_get(struct db *db, const char *episode_id, store_delay_facts_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {episode_id};

	db_req_add(req, SQL_DELAY_GET, 1, v);
	db_req_submit(db, req, get_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

void store_delay_set(struct db *db, const char *episode_id, const struct delay_facts *f,
                     const char *reason, const char *attribution, const struct actor *actor,
                     store_delay_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char ver[16];
	const char *v[] = {f->delay_id, ver, reason, attribution};
	const char *one[] = {f->delay_id};
	int js;

	snprintf(ver, sizeof ver, "%d", f->version);
	db_req_add(req, SQL_DELAY_SET, 4, v);
	store_add_audit(req, actor, "delay.set_reason", "delay", f->delay_id, episode_id, f->json,
	                NULL);
	store_add_events_lock(req);
	store_add_event(req, "delay.updated", "delay", f->delay_id);
	js = db_req_add(req, SQL_DELAY_JSON, 1, one);
	db_req_submit(db, req, store_json_done, store_wait_new((store_any_fn *)cb, arg, js, NULL));
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

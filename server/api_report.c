/*
 * api_report.c - the reports of issue 14, computed by lib/figures from the
 * recorded history (docs/REPORTS.md has every figure and rule).
 *
 *   GET /api/v1/reports/delays     ?date=D | ?from=D1&to=D2, format=json|csv
 *   GET /api/v1/reports/drd        ?month=YYYY-MM (default this month), format=json|csv
 *   GET /api/v1/reports/long-stay  ?ward=CODE
 *   GET /api/v1/reports/discharges ?date=D | ?from=D1&to=D2 (default today), ward,
 *                                  format=json|csv
 *
 * Each handler parses its parameters (lib/figures_report), reads the facts
 * of the instants it reports on in one statement (store_report_facts) and
 * replies with what lib/figures_report makes of them.  The long-stay list
 * names patients: it is narrowed to the caller's wards for a role confined
 * to them (a nurse), and its patients are read, with the read audited, by a
 * second statement on the listed episodes only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "api.h"
#include "app.h"
#include "cbtime.h"
#include "figures_doc.h"
#include "figures_report.h"
#include "json.h"
#include "store_report.h"
#include "xmalloc.h"

enum report_kind {
	REPORT_DELAYS,     /* delayed days by date x ward x reason */
	REPORT_DRD,        /* the DRD metric of a month */
	REPORT_LONG_STAY,  /* inpatients with a length of stay of 7+ days */
	REPORT_DISCHARGES, /* discharges by actual pathway x destination (issue 15) */
};

struct report_req {
	struct http_req *r;        /* the request */
	enum report_kind kind;     /* which report */
	bool csv;                  /* format=csv */
	int32_t first, last;       /* dates reported (delays, drd) */
	int year, month;           /* drd */
	int32_t through;           /* drd: last date whose snapshot has happened */
	int64_t at;                /* long-stay: the instant */
	const char *const *wards;  /* long-stay: wards shown, NULL = every ward; borrowed */
	size_t nwards;             /* entries in wards */
	char ward[HTTP_PARAM_MAX]; /* long-stay, discharges: ?ward= */
	const char *ward_ptr;      /* points at ward when given */
	cJSON *reply;              /* long-stay: the list waiting for its patients, owned */
};

static void report_free(struct report_req *q)
{
	cJSON_Delete(q->reply);
	free(q);
}

static void reply_csv(struct report_req *q, const char *name, char *csv)
{
	char *disp = xasprintf("attachment; filename=\"carebridge-%s.csv\"", name);

	http_add_header(q->r, "Content-Disposition", disp);
	http_reply_data(q->r, 200, "text/csv; charset=utf-8", csv, strlen(csv));
	free(disp);
	free(csv);
}

static void patients_got(enum status st, const struct err *err, const char *json, void *arg)
{
	struct report_req *q = arg;
	cJSON *patients = NULL, *p;

	if (st == ST_OK && (patients = cJSON_Parse(json)) == NULL)
		st = ST_INTERNAL;
	if (st != ST_OK) {
		http_reply_error(q->r, st, err);
		report_free(q);
		return;
	}
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(q->reply, "patients"))
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "episode_id");
		cJSON *pt = cJSON_DetachItemFromObjectCaseSensitive(patients, id->valuestring);

		cJSON_AddItemToObject(p, "patient", pt != NULL ? pt : cJSON_CreateNull());
	}
	cJSON_Delete(patients);
	http_reply_json(q->r, 200, q->reply);
	q->reply = NULL;
	report_free(q);
}

/* Read the long-stay list's patients, audited; the reply waits for them. */
static void long_stay_patients(struct report_req *q)
{
	cJSON *ids = cJSON_CreateArray(), *detail = cJSON_CreateObject(), *p;
	char *ids_text, *detail_text;
	struct actor actor;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(q->reply, "patients"))
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "episode_id");

		cJSON_AddItemToArray(ids, cJSON_CreateString(id->valuestring));
	}
	/* what was asked for and which episodes were listed: ids, no patient data */
	if (q->wards != NULL) {
		cJSON *w = cJSON_AddArrayToObject(detail, "wards");

		for (size_t i = 0; i < q->nwards; i++)
			cJSON_AddItemToArray(w, cJSON_CreateString(q->wards[i]));
	} else {
		cJSON_AddStringToObject(detail, "wards", "*");
	}
	cJSON_AddItemToObject(detail, "episodes", cJSON_Duplicate(ids, true));
	ids_text = cJSON_PrintUnformatted(ids);
	detail_text = cJSON_PrintUnformatted(detail);
	ASSERT(ids_text != NULL && detail_text != NULL);
	actor_from_req(&actor, q->r);
	store_report_patients(q->r->app->db, ids_text, "report.long_stay", detail_text, &actor,
	                      patients_got, q);
	cJSON_free(ids_text);
	cJSON_free(detail_text);
	cJSON_Delete(ids);
	cJSON_Delete(detail);
}

static void facts_got(enum status st, const struct err *err, const char *json, void *arg)
{
	struct report_req *q = arg;
	struct figures_doc doc;
	struct err perr;
	char name[32], d[DATE_FORMAT_LEN];
	cJSON *j;

	memset(&doc, 0, sizeof doc);
	if (st == ST_OK)
		st = figures_doc_parse(json, strlen(json), &doc, &perr);
	if (st != ST_OK) {
		/* a document the store wrote and lib/ cannot read is a bug, not bad input */
		http_reply_error(q->r, st == ST_INVALID ? ST_INTERNAL : st,
		                 st == ST_INVALID ? NULL : err);
		figures_doc_free(&doc);
		report_free(q);
		return;
	}
	switch (q->kind) {
	case REPORT_DELAYS:
		date_format(q->last, d);
		snprintf(name, sizeof name, "delays-%s", d);
		if (q->csv)
			reply_csv(q, name, figures_delays_csv(&doc, q->first, q->last));
		else
			http_reply_json(q->r, 200, figures_delays_json(&doc, q->first, q->last));
		break;
	case REPORT_DRD:
		j = figures_drd_json(&doc, q->year, q->month, q->through);
		snprintf(name, sizeof name, "drd-%04d-%02d", q->year, q->month);
		if (q->csv) {
			reply_csv(q, name, figures_drd_csv(j));
			cJSON_Delete(j);
		} else {
			http_reply_json(q->r, 200, j);
		}
		break;
	case REPORT_DISCHARGES:
		date_format(q->first, d);
		snprintf(name, sizeof name, "discharges-%s", d);
		if (q->csv)
			reply_csv(q, name,
			          figures_discharges_csv(&doc, q->first, q->last, q->ward_ptr));
		else
			http_reply_json(
			    q->r, 200,
			    figures_discharges_json(&doc, q->first, q->last, q->ward_ptr));
		break;
	case REPORT_LONG_STAY:
		q->reply = figures_long_stay_json(&doc, q->at, q->wards, q->nwards);
		figures_doc_free(&doc);
		long_stay_patients(q);
		return;
	}
	figures_doc_free(&doc);
	report_free(q);
}

/* Common parameters; the report's own are parsed by the caller. */
static struct report_req *report_new(struct http_req *r, enum report_kind kind, struct err *err,
                                     enum status *st)
{
	struct report_req *q = xcalloc(1, sizeof *q);
	char fmt[16];

	q->r = r;
	q->kind = kind;
	*st = figures_report_format(http_query(r, "format", fmt, sizeof fmt), &q->csv, err);
	return q;
}

static void report_fail(struct report_req *q, enum status st, const struct err *err)
{
	http_reply_error(q->r, st, err);
	report_free(q);
}

static void delays_get(struct http_req *r)
{
	char date[32], from[32], to[32];
	const char *dp = http_query(r, "date", date, sizeof date);
	const char *fp = http_query(r, "from", from, sizeof from);
	const char *tp = http_query(r, "to", to, sizeof to);
	struct report_req *q;
	struct err err;
	enum status st;

	q = report_new(r, REPORT_DELAYS, &err, &st);
	if (st == ST_OK)
		st = figures_report_dates(dp, fp, tp, app_now(r->app), &q->first, &q->last, &err);
	if (st != ST_OK) {
		report_fail(q, st, &err);
		return;
	}
	store_report_facts(r->app->db, london_snapshot(q->first - 1), london_snapshot(q->last),
	                   facts_got, q);
}

static void discharges_get(struct http_req *r)
{
	int64_t now = app_now(r->app), to;
	char date[32], from[32], tod[32];
	const char *dp = http_query(r, "date", date, sizeof date);
	const char *fp = http_query(r, "from", from, sizeof from);
	const char *tp = http_query(r, "to", tod, sizeof tod);
	struct report_req *q;
	struct err err;
	enum status st;

	q = report_new(r, REPORT_DISCHARGES, &err, &st);
	if (st == ST_OK)
		st = figures_report_discharge_dates(dp, fp, tp, now, &q->first, &q->last, &err);
	/* one ward's discharges (the ward left from): the dashboard's ward filter */
	q->ward_ptr = http_query(r, "ward", q->ward, sizeof q->ward);
	if (st == ST_OK && q->ward_ptr != NULL)
		st = figures_report_ward(q->ward, &err);
	if (st != ST_OK) {
		report_fail(q, st, &err);
		return;
	}
	/* today counts the discharges so far */
	to = london_snapshot(q->last);
	store_report_facts(r->app->db, london_snapshot(q->first - 1), to < now ? to : now,
	                   facts_got, q);
}

static void drd_get(struct http_req *r)
{
	int64_t now = app_now(r->app), to;
	char month[32];
	const char *mp = http_query(r, "month", month, sizeof month);
	struct report_req *q;
	struct err err;
	enum status st;

	q = report_new(r, REPORT_DRD, &err, &st);
	if (st == ST_OK)
		st = figures_report_month(mp, now, &q->year, &q->month, &q->first, &q->last, &err);
	if (st != ST_OK) {
		report_fail(q, st, &err);
		return;
	}
	/* a month still running counts the dates whose snapshot has happened */
	q->through = london_date(now) - 1;
	to = london_snapshot(q->last);
	store_report_facts(r->app->db, london_snapshot(q->first - 1), to < now ? to : now,
	                   facts_got, q);
}

static void long_stay_get(struct http_req *r)
{
	struct report_req *q;
	struct err err;
	enum status st;

	q = report_new(r, REPORT_LONG_STAY, &err, &st);
	if (st == ST_OK && q->csv)
		st = err_set(&err, ST_INVALID, "format",
		             "the long-stay list is served as json only");
	q->ward_ptr = http_query(r, "ward", q->ward, sizeof q->ward);
	if (st == ST_OK && q->ward_ptr != NULL) {
		struct access_target t = {.ward = q->ward, .discipline = NULL};

		st = figures_report_ward(q->ward, &err);
		if (st == ST_OK)
			st = http_access(r, &t, &err);
		q->wards = &q->ward_ptr;
		q->nwards = 1;
	} else if (st == ST_OK && !access_reaches_every_ward(&r->principal, ACCESS_EPISODE_READ)) {
		/* a role confined to its wards (a nurse) sees those; never every ward,
		 * even with no ward at all (NULL would mean every ward) */
		static const char *const no_ward[] = {NULL};

		q->wards = r->principal.nwards > 0 ? r->principal.wards : no_ward;
		q->nwards = r->principal.nwards;
	}
	if (st != ST_OK) {
		report_fail(q, st, &err);
		return;
	}
	q->at = app_now(r->app);
	store_report_facts(r->app->db, q->at, q->at, facts_got, q);
}

const struct route report_routes[] = {
    ROUTE(EVHTTP_REQ_GET, "/api/v1/reports/delays", delays_get, ACCESS_REPORT_READ, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/reports/drd", drd_get, ACCESS_REPORT_READ, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/reports/discharges", discharges_get, ACCESS_REPORT_READ,
          ROUTE_ID_NONE),
    /* a list of patients: whoever reads episodes, narrowed to a nurse's wards */
    ROUTE(EVHTTP_REQ_GET, "/api/v1/reports/long-stay", long_stay_get, ACCESS_EPISODE_READ,
          ROUTE_ID_NONE),
    ROUTE_END,
};

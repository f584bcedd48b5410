/*
 * api_delay.c - the daily delay report.
 *
 *   GET /api/v1/reports/delays        ?date=D | ?from=D&to=D, format=json|csv
 *
 * There is no write route here any more: a delay's reason is a barrier now
 * (api_barrier.c), and the 2014 reason code and NHS / social care attribution
 * of an old delay row are read-only (issue 14).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "admission.h"
#include "api.h"
#include "app.h"
#include "cbtime.h"
#include "delay.h"
#include "json.h"
#include "report.h"
#include "store_delay.h"
#include "xmalloc.h"

#define REPORT_MAX_DAYS 366
#define REPORT_LONGEST 20

struct report_req {
	struct http_req *r; /* the request */
	int32_t from, to;   /* dates */
	bool csv;           /* format */
};

static void report_loaded(enum status st, const struct report_period *p, size_t n, void *arg)
{
	struct report_req *q = arg;

	if (st != ST_OK) {
		http_reply_error(q->r, st, NULL);
	} else if (q->csv) {
		char *csv = report_csv(p, n, q->from, q->to), d[DATE_FORMAT_LEN], *disp;

		date_format(q->to, d);
		disp = xasprintf("attachment; filename=\"carebridge-delays-%s.csv\"", d);
		http_add_header(q->r, "Content-Disposition", disp);
		http_reply_data(q->r, 200, "text/csv; charset=utf-8", csv, strlen(csv));
		free(disp);
		free(csv);
	} else {
		http_reply_json(q->r, 200, report_json(p, n, q->from, q->to, REPORT_LONGEST));
	}
	free(q);
}

/* Parse the report's date parameters; yesterday (London) by default. */
enum status report_dates(const char *date, const char *from, const char *to, int64_t now,
                         int32_t *f, int32_t *t, struct err *err);
enum status report_dates(const char *date, const char *from, const char *to, int64_t now,
                         int32_t *f, int32_t *t, struct err *err)
{
	int32_t yesterday = london_date(now) - 1;
	enum status st;

	if (date != NULL && (from != NULL || to != NULL))
		return err_set(err, ST_INVALID, "date", "give either date or from and to");
	if (date != NULL) {
		if ((st = date_parse(date, f, "date", err)) != ST_OK)
			return st;
		*t = *f;
	} else if (from != NULL || to != NULL) {
		if (from == NULL || to == NULL)
			return err_set(err, ST_INVALID, from == NULL ? "from" : "to",
			               "from and to go together");
		if ((st = date_parse(from, f, "from", err)) != ST_OK ||
		    (st = date_parse(to, t, "to", err)) != ST_OK)
			return st;
	} else {
		*f = *t = yesterday;
	}
	if (*t < *f)
		return err_set(err, ST_INVALID, "to", "\"to\" is before \"from\"");
	if (*t > yesterday)
		return err_set(err, ST_INVALID, date != NULL ? "date" : "to",
		               "the midnight ending that date has not happened yet");
	if (*t - *f + 1 > REPORT_MAX_DAYS)
		return err_set(err, ST_INVALID, "from", "a report covers at most %d days",
		               REPORT_MAX_DAYS);
	return ST_OK;
}

static void report_get(struct http_req *r)
{
	struct report_req *q;
	struct err err;
	enum status st;
	char date[32], from[32], to[32], fmt[16];
	const char *dp = http_query(r, "date", date, sizeof date);
	const char *fp = http_query(r, "from", from, sizeof from);
	const char *tp = http_query(r, "to", to, sizeof to);
	const char *fm = http_query(r, "format", fmt, sizeof fmt);

	q = xcalloc(1, sizeof *q);
	q->r = r;
	st = report_dates(dp, fp, tp, app_now(r->app), &q->from, &q->to, &err);
	if (st == ST_OK && fm != NULL && strcmp(fm, "csv") != 0 && strcmp(fm, "json") != 0)
		st = err_set(&err, ST_INVALID, "format", "\"format\" must be csv or json");
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(q);
		return;
	}
	q->csv = fm != NULL && strcmp(fm, "csv") == 0;
	store_report_load(r->app->db, q->from, q->to, report_loaded, q);
}

const struct route delay_routes[] = {
    ROUTE(EVHTTP_REQ_GET, "/api/v1/reports/delays", report_get, ACCESS_REPORT_READ, ROUTE_ID_NONE),
    ROUTE_END,
};

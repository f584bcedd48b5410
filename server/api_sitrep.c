/*
 * api_sitrep.c - the daily acute discharge sitrep (issue 14; docs/API.md
 * "Reports: sitrep").  Thin handlers: the figures are lib/figures', the
 * replies and amendments lib/sitrep's, the facts and submissions the store's.
 *
 *   GET  /api/v1/reports/sitrep               ?date=D | ?from=D&to=D | ?week=YYYY-Www,
 *                                             format=json|csv
 *   POST /api/v1/reports/sitrep/{date}/submit {} or {"note": "..."} (bed manager)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "api.h"
#include "app.h"
#include "cbtime.h"
#include "figures_doc.h"
#include "json.h"
#include "sitrep.h"
#include "store_report.h"
#include "store_sitrep.h"
#include "xmalloc.h"

/* A GET on its way: the facts, then (for days) the submissions. */
struct sitrep_get {
	struct http_req *r;    /* the request */
	struct sitrep_query q; /* what was asked */
	char *facts;           /* the facts document, owned */
};

static void sitrep_get_free(struct sitrep_get *g)
{
	free(g->facts);
	free(g);
}

/* Reply to g from its facts and the submissions (JSON text, NULL for none). */
static void sitrep_get_reply(struct sitrep_get *g, const char *submissions)
{
	struct figures_doc doc;
	struct err err;
	cJSON *subs = submissions != NULL ? cJSON_Parse(submissions) : NULL;

	if (figures_doc_parse(g->facts, strlen(g->facts), &doc, &err) != ST_OK) {
		err_set(&err, ST_INTERNAL, NULL, "could not read the report facts");
		http_reply_error(g->r, ST_INTERNAL, &err);
	} else if (g->q.csv) {
		char *csv = sitrep_reply_csv(&g->q, &doc, subs), d[DATE_FORMAT_LEN], name[9], *disp;

		date_format(g->q.to, d);
		if (g->q.kind == SITREP_WEEK)
			sitrep_week_format(g->q.to, name);
		disp = xasprintf("attachment; filename=\"carebridge-sitrep-%s.csv\"",
		                 g->q.kind == SITREP_WEEK ? name : d);
		http_add_header(g->r, "Content-Disposition", disp);
		http_reply_data(g->r, 200, "text/csv; charset=utf-8", csv, strlen(csv));
		free(disp);
		free(csv);
	} else {
		http_reply_json(g->r, 200, sitrep_reply_json(&g->q, &doc, subs));
	}
	figures_doc_free(&doc);
	cJSON_Delete(subs);
	sitrep_get_free(g);
}

static void sitrep_get_submissions(enum status st, const struct err *err, const char *json,
                                   void *arg)
{
	struct sitrep_get *g = arg;

	if (st != ST_OK) {
		http_reply_error(g->r, st, err);
		sitrep_get_free(g);
		return;
	}
	sitrep_get_reply(g, json);
}

static void sitrep_get_facts(enum status st, const struct err *err, const char *json, void *arg)
{
	struct sitrep_get *g = arg;

	if (st != ST_OK) {
		http_reply_error(g->r, st, err);
		sitrep_get_free(g);
		return;
	}
	g->facts = xstrdup(json);
	if (g->q.kind == SITREP_WEEK)
		sitrep_get_reply(g, NULL);
	else
		store_sitrep_latest(g->r->app->db, g->q.from, g->q.to, sitrep_get_submissions, g);
}

static void sitrep_get(struct http_req *r)
{
	struct sitrep_get *g;
	struct err err;
	int64_t from, to;
	char date[32], f[32], t[32], week[32], fmt[16];
	const char *dp = http_query(r, "date", date, sizeof date);
	const char *fp = http_query(r, "from", f, sizeof f);
	const char *tp = http_query(r, "to", t, sizeof t);
	const char *wp = http_query(r, "week", week, sizeof week);
	const char *fm = http_query(r, "format", fmt, sizeof fmt);

	g = xcalloc(1, sizeof *g);
	g->r = r;
	if (sitrep_query_parse(dp, fp, tp, wp, fm, app_now(r->app), &g->q, &err) != ST_OK) {
		http_reply_error(r, ST_INVALID, &err);
		sitrep_get_free(g);
		return;
	}
	sitrep_query_span(&g->q, &from, &to);
	store_report_facts(r->app->db, from, to, sitrep_get_facts, g);
}

/* A submission on its way: the facts, the latest submission, then the new one. */
struct sitrep_post {
	struct http_req *r;                /* the request */
	struct sitrep_query q;             /* the date (a day query) */
	char note[SITREP_NOTE_MAX + 1];    /* "" when none */
	struct figures_sitrep_day figures; /* the figures as computed now */
};

static void sitrep_post_done(enum status st, const struct err *err, const char *json, void *arg)
{
	struct sitrep_post *p = arg;
	cJSON *sub;

	if (st != ST_OK) {
		http_reply_error(p->r, st, err);
		free(p);
		return;
	}
	sub = cJSON_Parse(json);
	http_reply_json(p->r, 201, sitrep_day_json(&p->figures, sub));
	cJSON_Delete(sub);
	free(p);
}

static void sitrep_post_latest(enum status st, const struct err *err, const char *json, void *arg)
{
	struct sitrep_post *p = arg;
	struct sitrep_submit_row row;
	struct actor actor;
	cJSON *subs, *day, *fig, *amend;
	char d[DATE_FORMAT_LEN];
	const cJSON *last;
	char *figures, *day_json;

	if (st != ST_OK) {
		http_reply_error(p->r, st, err);
		free(p);
		return;
	}
	subs = cJSON_Parse(json);
	date_format(p->q.from, d);
	last = cJSON_GetObjectItemCaseSensitive(subs, d);
	if (cJSON_IsObject(last)) {
		amend = sitrep_amendments(cJSON_GetObjectItemCaseSensitive(last, "figures"),
		                          &p->figures);
		if (cJSON_GetArraySize(amend) == 0) {
			/* the same figures again: the latest submission stands, nothing new */
			cJSON_Delete(amend);
			http_reply_json(p->r, 200, sitrep_day_json(&p->figures, last));
			cJSON_Delete(subs);
			free(p);
			return;
		}
		cJSON_Delete(amend);
	}
	cJSON_Delete(subs);
	fig = sitrep_figures_json(&p->figures);
	day = sitrep_day_json(&p->figures, NULL);
	cJSON_DeleteItemFromObjectCaseSensitive(day, "submission");
	figures = cJSON_PrintUnformatted(fig);
	day_json = cJSON_PrintUnformatted(day);
	cJSON_Delete(fig);
	cJSON_Delete(day);
	row.day = p->q.from;
	row.figures = figures;
	row.day_json = day_json;
	row.note = p->note[0] != '\0' ? p->note : NULL;
	row.now = app_now(p->r->app);
	actor_from_req(&actor, p->r);
	store_sitrep_submit(p->r->app->db, &row, &actor, sitrep_post_done, p);
	cJSON_free(figures);
	cJSON_free(day_json);
}

static void sitrep_post_facts(enum status st, const struct err *err, const char *json, void *arg)
{
	struct sitrep_post *p = arg;
	struct figures_doc doc;
	struct err perr;

	if (st != ST_OK) {
		http_reply_error(p->r, st, err);
		free(p);
		return;
	}
	if (figures_doc_parse(json, strlen(json), &doc, &perr) != ST_OK) {
		err_set(&perr, ST_INTERNAL, NULL, "could not read the report facts");
		http_reply_error(p->r, ST_INTERNAL, &perr);
		figures_doc_free(&doc);
		free(p);
		return;
	}
	figures_sitrep_day(&doc.facts, p->q.from, &p->figures);
	figures_doc_free(&doc);
	store_sitrep_latest(p->r->app->db, p->q.from, p->q.to, sitrep_post_latest, p);
}

static void sitrep_submit(struct http_req *r)
{
	struct sitrep_post *p;
	struct err err;
	cJSON *body = NULL;
	enum status st;
	int64_t from, to;

	p = xcalloc(1, sizeof *p);
	p->r = r;
	p->q.kind = SITREP_DAY;
	st = sitrep_submit_date(r->params[0], app_now(r->app), &p->q.from, &err);
	if (st == ST_OK)
		st = http_body_json(r, &body, &err);
	if (st == ST_OK)
		st = sitrep_submit_parse(body, p->note, sizeof p->note, &err);
	cJSON_Delete(body);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(p);
		return;
	}
	p->q.to = p->q.from;
	sitrep_query_span(&p->q, &from, &to);
	store_report_facts(r->app->db, from, to, sitrep_post_facts, p);
}

const struct route sitrep_routes[] = {
    ROUTE(EVHTTP_REQ_GET, "/api/v1/reports/sitrep", sitrep_get, ACCESS_REPORT_READ, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/reports/sitrep/{date}/submit", sitrep_submit,
          ACCESS_SITREP_SUBMIT, ROUTE_ID_DATE),
    ROUTE_END,
};

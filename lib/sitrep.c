/*
 * sitrep.c - the acute discharge sitrep's query, replies and amendments
 * (see sitrep.h).  The figures come from lib/figures; this file only names,
 * sums and compares them.
 */
#include "sitrep.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbtime.h"
#include "json.h"
#include "xmalloc.h"

/* The figures of a day, in the order the JSON, the CSV and the amendments list them. */
static const struct sitrep_figure {
	const char *field; /* amendment field name */
	const char *csv;   /* CSV column */
} sitrep_figures[] = {
    {"nctr_at_snapshot", "nctr_at_snapshot"},
    {"nctr_during_day", "nctr_during_day"},
    {"discharged.pathway_0", "discharged_pathway_0"},
    {"discharged.pathway_1", "discharged_pathway_1"},
    {"discharged.pathway_2", "discharged_pathway_2"},
    {"discharged.pathway_3", "discharged_pathway_3"},
    {"discharged.not_recorded", "discharged_not_recorded"},
    {"discharged.total", "discharged_total"},
    {"still_in_hospital", "still_in_hospital"},
};

#define SITREP_NFIGURES (sizeof sitrep_figures / sizeof sitrep_figures[0])

/* Keys of "discharged": the pathway slots of lib/figures, then the total. */
static const char *const discharged_keys[FIGURES_PATHWAY_SLOTS] = {
    "pathway_0", "pathway_1", "pathway_2", "pathway_3", "not_recorded",
};

/* Figure i of d (sitrep_figures order). */
static int figure_value(const struct figures_sitrep_day *d, size_t i)
{
	switch (i) {
	case 0:
		return d->nctr;
	case 1:
		return d->nctr_during;
	case 7:
		return d->discharged_total;
	case 8:
		return d->still_in_hospital;
	default:
		ASSERT(i >= 2 && i < 7);
		return d->discharged[i - 2];
	}
}

/* Add b's figures to a's (the totals of a range). */
static void figures_add(struct figures_sitrep_day *a, const struct figures_sitrep_day *b)
{
	a->nctr += b->nctr;
	a->nctr_during += b->nctr_during;
	for (int i = 0; i < FIGURES_PATHWAY_SLOTS; i++)
		a->discharged[i] += b->discharged[i];
	a->discharged_total += b->discharged_total;
	a->still_in_hospital += b->still_in_hospital;
}

/* ---- the query ---------------------------------------------------------------- */

/* Four digits, "-W", two digits. */
static bool week_form(const char *s)
{
	if (s == NULL || strlen(s) != 8 || s[4] != '-' || s[5] != 'W')
		return false;
	for (int i = 0; i < 8; i++)
		if (i != 4 && i != 5 && (s[i] < '0' || s[i] > '9'))
			return false;
	return true;
}

/* The Monday of ISO week 1 of year y: the week holding 4 January. */
static int32_t iso_week1_monday(int y)
{
	int32_t jan4 = date_from_ymd(y, 1, 4);
	int wd = date_weekday(jan4); /* 0 = Sunday */

	return jan4 - (wd == 0 ? 6 : wd - 1);
}

enum status sitrep_week_parse(const char *s, int32_t *first, int32_t *last, struct err *err)
{
	int y, w;

	if (!week_form(s))
		return err_set(err, ST_INVALID, "week",
		               "week must be an ISO week such as 2026-W48");
	y = atoi(s);
	w = atoi(s + 6);
	if (y < 1 || y > 9998 || w < 1 || w > 53 ||
	    iso_week1_monday(y) + 7 * (w - 1) >= iso_week1_monday(y + 1))
		return err_set(err, ST_INVALID, "week", "week \"%s\" does not exist", s);
	*first = iso_week1_monday(y) + 7 * (w - 1);
	*last = *first + 6;
	return ST_OK;
}

void sitrep_week_format(int32_t day, char out[9])
{
	int32_t monday = day - (date_weekday(day) == 0 ? 6 : date_weekday(day) - 1);
	int y, m, d, w;

	/* the ISO year is the year of the week's Thursday */
	date_to_ymd(monday + 3, &y, &m, &d);
	w = (monday - iso_week1_monday(y)) / 7 + 1;
	snprintf(out, 9, "%04u-W%02u", (unsigned)y % 10000u, (unsigned)w % 100u);
}

/* The last date whose snapshot has happened by now: yesterday in London. */
static int32_t last_reportable(int64_t now)
{
	return london_date(now) - 1;
}

enum status sitrep_submit_date(const char *s, int64_t now, int32_t *day, struct err *err)
{
	enum status st = date_parse(s, day, "date", err);

	if (st == ST_OK && *day > last_reportable(now))
		st = err_set(err, ST_INVALID, "date",
		             "the midnight ending date %s has not happened yet", s);
	return st;
}

enum status sitrep_query_parse(const char *date, const char *from, const char *to, const char *week,
                               const char *format, int64_t now, struct sitrep_query *q,
                               struct err *err)
{
	int32_t yesterday = last_reportable(now);
	enum status st;

	memset(q, 0, sizeof *q);
	if (format != NULL && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0)
		return err_set(err, ST_INVALID, "format", "format must be \"csv\" or \"json\"");
	q->csv = format != NULL && strcmp(format, "csv") == 0;
	if (week != NULL && (date != NULL || from != NULL || to != NULL))
		return err_set(err, ST_INVALID, "week",
		               "give either week, or date, or from and to");
	if (date != NULL && (from != NULL || to != NULL))
		return err_set(err, ST_INVALID, "date", "give either date, or from and to");
	if (week != NULL) {
		q->kind = SITREP_WEEK;
		if ((st = sitrep_week_parse(week, &q->from, &q->to, err)) != ST_OK)
			return st;
		if (q->to > yesterday)
			return err_set(err, ST_INVALID, "week",
			               "the midnight ending week %s has not happened yet", week);
		return ST_OK;
	}
	if (from != NULL || to != NULL) {
		q->kind = SITREP_RANGE;
		if (from == NULL || to == NULL)
			return err_set(err, ST_INVALID, from == NULL ? "from" : "to",
			               "from and to go together");
		if ((st = date_parse(from, &q->from, "from", err)) != ST_OK ||
		    (st = date_parse(to, &q->to, "to", err)) != ST_OK)
			return st;
		if (q->to < q->from)
			return err_set(err, ST_INVALID, "to", "to is before from");
		if (q->to > yesterday)
			return err_set(err, ST_INVALID, "to",
			               "the midnight ending date %s has not happened yet", to);
		if (q->to - q->from + 1 > SITREP_MAX_DAYS)
			return err_set(err, ST_INVALID, "from", "a sitrep covers at most %d dates",
			               SITREP_MAX_DAYS);
		return ST_OK;
	}
	q->kind = SITREP_DAY;
	if (date == NULL) {
		q->from = q->to = yesterday;
		return ST_OK;
	}
	if ((st = sitrep_submit_date(date, now, &q->from, err)) != ST_OK)
		return st;
	q->to = q->from;
	return ST_OK;
}

void sitrep_query_span(const struct sitrep_query *q, int64_t *from, int64_t *to)
{
	*to = london_snapshot(q->to);
	*from = q->kind == SITREP_WEEK ? *to : london_snapshot(q->from - 1);
}

enum status sitrep_submit_parse(const cJSON *body, char *note, size_t size, struct err *err)
{
	static const char *const fields[] = {"note", NULL};
	enum status st;

	note[0] = '\0';
	if ((st = json_only_keys(body, fields, err)) != ST_OK)
		return st;
	if (json_is_null(body, "note"))
		return ST_OK;
	return json_get_string(body, "note", false, note, size, err);
}

/* ---- JSON ----------------------------------------------------------------------- */

cJSON *sitrep_figures_json(const struct figures_sitrep_day *d)
{
	cJSON *o = cJSON_CreateObject(), *dis = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "nctr_at_snapshot", d->nctr);
	cJSON_AddNumberToObject(o, "nctr_during_day", d->nctr_during);
	for (int i = 0; i < FIGURES_PATHWAY_SLOTS; i++)
		cJSON_AddNumberToObject(dis, discharged_keys[i], d->discharged[i]);
	cJSON_AddNumberToObject(dis, "total", d->discharged_total);
	cJSON_AddItemToObject(o, "discharged", dis);
	cJSON_AddNumberToObject(o, "still_in_hospital", d->still_in_hospital);
	return o;
}

/* The number at the figure's path ("discharged.total") in figures, or NULL. */
static const cJSON *figure_in(const cJSON *figures, const char *field)
{
	const char *dot = strchr(field, '.');
	const cJSON *v;

	if (dot == NULL) {
		v = cJSON_GetObjectItemCaseSensitive(figures, field);
	} else {
		char head[32];

		snprintf(head, sizeof head, "%.*s", (int)(dot - field), field);
		v = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(figures, head), dot + 1);
	}
	return cJSON_IsNumber(v) ? v : NULL;
}

cJSON *sitrep_amendments(const cJSON *submitted, const struct figures_sitrep_day *d)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < SITREP_NFIGURES; i++) {
		const cJSON *was = figure_in(submitted, sitrep_figures[i].field);
		int now = figure_value(d, i);
		cJSON *o;

		if (was != NULL && was->valuedouble == (double)now)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "field", sitrep_figures[i].field);
		if (was != NULL)
			cJSON_AddNumberToObject(o, "submitted", was->valuedouble);
		else
			cJSON_AddNullToObject(o, "submitted");
		cJSON_AddNumberToObject(o, "now", now);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

/* Add date (YYYY-MM-DD) as key and the snapshot ending it as "snapshot". */
static void add_date(cJSON *o, const char *key, int32_t day)
{
	char d[DATE_FORMAT_LEN];

	date_format(day, d);
	cJSON_AddStringToObject(o, key, d);
}

static void add_snapshot(cJSON *o, int32_t day)
{
	char t[TIME_FORMAT_LEN];

	time_format(london_snapshot(day), t);
	cJSON_AddStringToObject(o, "snapshot", t);
}

cJSON *sitrep_day_json(const struct figures_sitrep_day *d, const cJSON *submission)
{
	cJSON *o = cJSON_CreateObject(), *fig = sitrep_figures_json(d), *sub;

	add_date(o, "date", d->day);
	add_snapshot(o, d->day);
	/* the figures at the top level of the day object, as the contract has them */
	while (fig->child != NULL) {
		cJSON *item = cJSON_DetachItemViaPointer(fig, fig->child);

		cJSON_AddItemToObject(o, item->string, item);
	}
	cJSON_Delete(fig);
	if (submission == NULL || !cJSON_IsObject(submission)) {
		cJSON_AddNullToObject(o, "submission");
		return o;
	}
	sub = cJSON_Duplicate(submission, true);
	cJSON_DeleteItemFromObjectCaseSensitive(sub, "amendments");
	cJSON_AddItemToObject(
	    sub, "amendments",
	    sitrep_amendments(cJSON_GetObjectItemCaseSensitive(submission, "figures"), d));
	cJSON_AddItemToObject(o, "submission", sub);
	return o;
}

/* The stored submission of day in submissions ({"YYYY-MM-DD": ...}), or NULL. */
static const cJSON *submission_of(const cJSON *submissions, int32_t day)
{
	char d[DATE_FORMAT_LEN];

	if (submissions == NULL)
		return NULL;
	date_format(day, d);
	return cJSON_GetObjectItemCaseSensitive(submissions, d);
}

/* The label a week row shows for reason r. */
static const char *reason_label(const struct figures_doc *doc, struct figures_reason r)
{
	const char *label;

	if (r.list == NULL || r.list[0] == '\0')
		return "No reason recorded";
	label = figures_doc_label(doc, r.list, r.key);
	return label != NULL ? label : r.key;
}

static void add_week_counts(cJSON *o, const struct figures_week_row *r)
{
	cJSON_AddNumberToObject(o, "patients", r->patients);
	cJSON_AddNumberToObject(o, "los_7_plus", r->los7);
	cJSON_AddNumberToObject(o, "los_14_plus", r->los14);
	cJSON_AddNumberToObject(o, "los_21_plus", r->los21);
}

static cJSON *week_json(const struct sitrep_query *q, const struct figures_doc *doc)
{
	struct figures_sitrep_week w;
	cJSON *o = cJSON_CreateObject(), *total = cJSON_CreateObject(), *rows;
	char name[9];

	memset(&w, 0, sizeof w);
	figures_sitrep_week(&doc->facts, q->to, &w);
	sitrep_week_format(q->to, name);
	cJSON_AddStringToObject(o, "week", name);
	add_date(o, "first_day", w.first_day);
	add_date(o, "last_day", w.last_day);
	add_snapshot(o, w.last_day);
	add_week_counts(total, &w.total);
	cJSON_AddItemToObject(o, "total", total);
	rows = cJSON_AddArrayToObject(o, "by_reason");
	for (size_t i = 0; i < w.nrows; i++) {
		const struct figures_week_row *r = &w.rows[i];
		cJSON *row = cJSON_CreateObject();

		cJSON_AddStringToObject(row, "reason_list", r->reason.list ? r->reason.list : "");
		cJSON_AddStringToObject(row, "reason",
		                        r->reason.list && r->reason.key ? r->reason.key : "");
		cJSON_AddStringToObject(row, "reason_label", reason_label(doc, r->reason));
		add_week_counts(row, r);
		cJSON_AddItemToArray(rows, row);
	}
	figures_sitrep_week_reset(&w);
	return o;
}

cJSON *sitrep_reply_json(const struct sitrep_query *q, const struct figures_doc *doc,
                         const cJSON *submissions)
{
	struct figures_sitrep_day d, sum;
	cJSON *o, *days;

	if (q->kind == SITREP_WEEK)
		return week_json(q, doc);
	if (q->kind == SITREP_DAY) {
		figures_sitrep_day(&doc->facts, q->from, &d);
		return sitrep_day_json(&d, submission_of(submissions, q->from));
	}
	memset(&sum, 0, sizeof sum);
	o = cJSON_CreateObject();
	add_date(o, "from", q->from);
	add_date(o, "to", q->to);
	days = cJSON_AddArrayToObject(o, "days");
	for (int32_t day = q->from; day <= q->to; day++) {
		figures_sitrep_day(&doc->facts, day, &d);
		figures_add(&sum, &d);
		cJSON_AddItemToArray(days, sitrep_day_json(&d, submission_of(submissions, day)));
	}
	cJSON_AddItemToObject(o, "totals", sitrep_figures_json(&sum));
	return o;
}

/* ---- CSV ------------------------------------------------------------------------ */

struct csv {
	char *s;    /* the text, NUL-terminated */
	size_t len; /* its length */
	size_t cap; /* allocated */
};

static void csv_raw(struct csv *c, const char *s)
{
	size_t n = strlen(s);

	if (c->len + n + 1 > c->cap) {
		c->cap = (c->len + n + 1) * 2;
		c->s = xrealloc(c->s, c->cap);
	}
	memcpy(c->s + c->len, s, n + 1);
	c->len += n;
}

/* One field, quoted when it holds a comma, a quote or a line break; then , or \n. */
static void csv_field(struct csv *c, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		csv_raw(c, s);
	} else {
		csv_raw(c, "\"");
		for (const char *p = s; *p != '\0'; p++) {
			char ch[2] = {*p, '\0'};

			csv_raw(c, *p == '"' ? "\"\"" : ch);
		}
		csv_raw(c, "\"");
	}
	csv_raw(c, last ? "\n" : ",");
}

static void csv_int(struct csv *c, long v, bool last)
{
	char n[24];

	snprintf(n, sizeof n, "%ld", v);
	csv_field(c, n, last);
}

/* A day's row: its date (or "total"), its figures, its submission's version and amendments. */
static void csv_day(struct csv *c, const char *label, const struct figures_sitrep_day *d,
                    const cJSON *submission)
{
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(submission, "version");
	cJSON *a;

	csv_field(c, label, false);
	for (size_t i = 0; i < SITREP_NFIGURES; i++)
		csv_int(c, figure_value(d, i), false);
	if (submission == NULL || !cJSON_IsNumber(version)) {
		csv_field(c, "", false);
		csv_field(c, "", true);
		return;
	}
	a = sitrep_amendments(cJSON_GetObjectItemCaseSensitive(submission, "figures"), d);
	csv_int(c, (long)version->valuedouble, false);
	csv_int(c, cJSON_GetArraySize(a), true);
	cJSON_Delete(a);
}

static void csv_week(struct csv *c, const struct sitrep_query *q, const struct figures_doc *doc)
{
	struct figures_sitrep_week w;
	char name[9];

	memset(&w, 0, sizeof w);
	figures_sitrep_week(&doc->facts, q->to, &w);
	sitrep_week_format(q->to, name);
	csv_raw(c, "week,reason_list,reason,reason_label,patients,los_7_plus,los_14_plus,"
	           "los_21_plus\n");
	for (size_t i = 0; i <= w.nrows; i++) {
		const struct figures_week_row *r = i < w.nrows ? &w.rows[i] : &w.total;
		bool none = r->reason.list == NULL || r->reason.list[0] == '\0';

		csv_field(c, i < w.nrows ? name : "total", false);
		csv_field(c, i < w.nrows && !none ? r->reason.list : "", false);
		csv_field(c, i < w.nrows && !none && r->reason.key ? r->reason.key : "", false);
		csv_field(c, i < w.nrows ? reason_label(doc, r->reason) : "", false);
		csv_int(c, r->patients, false);
		csv_int(c, r->los7, false);
		csv_int(c, r->los14, false);
		csv_int(c, r->los21, true);
	}
	figures_sitrep_week_reset(&w);
}

char *sitrep_reply_csv(const struct sitrep_query *q, const struct figures_doc *doc,
                       const cJSON *submissions)
{
	struct csv c = {NULL, 0, 0};
	struct figures_sitrep_day d, sum;

	csv_raw(&c, "");
	if (q->kind == SITREP_WEEK) {
		csv_week(&c, q, doc);
		return c.s;
	}
	csv_raw(&c, "date");
	for (size_t i = 0; i < SITREP_NFIGURES; i++) {
		csv_raw(&c, ",");
		csv_raw(&c, sitrep_figures[i].csv);
	}
	csv_raw(&c, ",submitted_version,amendments\n");
	memset(&sum, 0, sizeof sum);
	for (int32_t day = q->from; day <= q->to; day++) {
		char label[DATE_FORMAT_LEN];

		figures_sitrep_day(&doc->facts, day, &d);
		figures_add(&sum, &d);
		date_format(day, label);
		csv_day(&c, label, &d, submission_of(submissions, day));
	}
	csv_day(&c, "total", &sum, NULL);
	return c.s;
}

/*
 * figures_report.c - the reports of issue 14 as JSON and CSV (see
 * figures_report.h).  Every figure comes from lib/figures; this file only
 * groups, labels and prints, so a rule is never written twice.
 */
#include "figures_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbtime.h"
#include "xmalloc.h"

/* The label a report prints for "no barrier recorded". */
#define NO_REASON_LABEL "No reason recorded"

/* ---- parameters ---------------------------------------------------------------- */

/*
 * The days [*first, *last] a report of date, or of from..to, covers, none after
 * latest (too_late says why a later one is refused); neither given: latest.
 */
static enum status report_span(const char *date, const char *from, const char *to, int32_t latest,
                               const char *too_late, int32_t *first, int32_t *last, struct err *err)
{
	enum status st;

	if (date != NULL && (from != NULL || to != NULL))
		return err_set(err, ST_INVALID, "date", "give either date or from and to");
	if (date != NULL) {
		if ((st = date_parse(date, first, "date", err)) != ST_OK)
			return st;
		*last = *first;
	} else if (from != NULL || to != NULL) {
		if (from == NULL || to == NULL)
			return err_set(err, ST_INVALID, from == NULL ? "from" : "to",
			               "from and to go together");
		if ((st = date_parse(from, first, "from", err)) != ST_OK ||
		    (st = date_parse(to, last, "to", err)) != ST_OK)
			return st;
	} else {
		*first = *last = latest;
	}
	if (*last < *first)
		return err_set(err, ST_INVALID, "to", "\"to\" is before \"from\"");
	if (*last > latest)
		return err_set(err, ST_INVALID, date != NULL ? "date" : "to", "%s", too_late);
	if (*last - *first + 1 > FIGURES_REPORT_MAX_DAYS)
		return err_set(err, ST_INVALID, "from", "a report covers at most %d days",
		               FIGURES_REPORT_MAX_DAYS);
	return ST_OK;
}

enum status figures_report_dates(const char *date, const char *from, const char *to, int64_t now,
                                 int32_t *first, int32_t *last, struct err *err)
{
	/* a day is reported once the midnight ending it has passed */
	return report_span(date, from, to, london_date(now) - 1,
	                   "the midnight ending that date has not happened yet", first, last, err);
}

enum status figures_report_discharge_dates(const char *date, const char *from, const char *to,
                                           int64_t now, int32_t *first, int32_t *last,
                                           struct err *err)
{
	/* discharges are counted so far: today may be asked for */
	return report_span(date, from, to, london_date(now), "that date has not begun yet", first,
	                   last, err);
}

enum status figures_report_month(const char *month, int64_t now, int *year, int *mon,
                                 int32_t *first, int32_t *last, struct err *err)
{
	int32_t today = london_date(now);
	int y, m, d;

	if (month == NULL) {
		date_to_ymd(today, &y, &m, &d);
	} else {
		if (strlen(month) != 7 || month[4] != '-' || strspn(month, "0123456789-") != 7 ||
		    sscanf(month, "%4d-%2d", &y, &m) != 2 || !date_is_valid(y, m, 1))
			return err_set(err, ST_INVALID, "month", "\"month\" must be YYYY-MM");
	}
	*year = y;
	*mon = m;
	*first = date_from_ymd(y, m, 1);
	*last = (m == 12 ? date_from_ymd(y + 1, 1, 1) : date_from_ymd(y, m + 1, 1)) - 1;
	if (*first > today)
		return err_set(err, ST_INVALID, "month", "that month has not begun yet");
	return ST_OK;
}

enum status figures_report_format(const char *format, bool *csv, struct err *err)
{
	*csv = false;
	if (format == NULL || strcmp(format, "json") == 0)
		return ST_OK;
	if (strcmp(format, "csv") == 0) {
		*csv = true;
		return ST_OK;
	}
	return err_set(err, ST_INVALID, "format", "\"format\" must be csv or json");
}

enum status figures_report_ward(const char *code, struct err *err)
{
	size_t n = code != NULL ? strlen(code) : 0;

	if (n == 0 || n > 32 ||
	    strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != n)
		return err_set(err, ST_INVALID, "ward", "\"ward\" is not a valid ward code");
	return ST_OK;
}

/* ---- CSV --------------------------------------------------------------------- */

struct csv {
	char *buf;  /* owned, NUL-terminated */
	size_t len; /* bytes used */
	size_t cap; /* bytes allocated */
};

static void csv_put(struct csv *c, const char *s, size_t n)
{
	if (c->len + n + 1 > c->cap) {
		c->cap = (c->len + n + 1) * 2;
		c->buf = xrealloc(c->buf, c->cap);
	}
	memcpy(c->buf + c->len, s, n);
	c->len += n;
	c->buf[c->len] = '\0';
}

/* One field, quoted when it holds a comma, quote or line break; then "," or a newline. */
static void csv_field(struct csv *c, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n") != NULL) {
		csv_put(c, "\"", 1);
		for (const char *p = s; *p; p++) {
			if (*p == '"')
				csv_put(c, "\"", 1);
			csv_put(c, p, 1);
		}
		csv_put(c, "\"", 1);
	} else {
		csv_put(c, s, strlen(s));
	}
	csv_put(c, last ? "\n" : ",", 1);
}

static void csv_int(struct csv *c, long v, bool last)
{
	char b[24];

	snprintf(b, sizeof b, "%ld", v);
	csv_field(c, b, last);
}

static void csv_init(struct csv *c, const char *header)
{
	memset(c, 0, sizeof *c);
	csv_put(c, header, strlen(header));
}

/* ---- delayed days ------------------------------------------------------------- */

static const char *reason_label(const struct figures_doc *doc, struct figures_reason r)
{
	const char *label;

	if (r.list == NULL || r.list[0] == '\0')
		return NO_REASON_LABEL;
	label = figures_doc_label(doc, r.list, r.key);
	return label != NULL ? label : r.key;
}

static void add_reason(cJSON *o, const struct figures_doc *doc, struct figures_reason r)
{
	cJSON_AddStringToObject(o, "reason_list", r.list != NULL ? r.list : "");
	cJSON_AddStringToObject(o, "reason", r.key != NULL ? r.key : "");
	cJSON_AddStringToObject(o, "reason_label", reason_label(doc, r));
}

static bool reason_same(struct figures_reason a, struct figures_reason b)
{
	return strcmp(a.list != NULL ? a.list : "", b.list != NULL ? b.list : "") == 0 &&
	       strcmp(a.key != NULL ? a.key : "", b.key != NULL ? b.key : "") == 0;
}

/*
 * The length so far of e's delay on day (delayed on it): the delayed days of
 * the readiness period in force at snapshot(day), from its DRD's date (or the
 * admission's, if later) up to and including day.  A reversal ends a period,
 * so a patient declared NCTR again starts again from the new DRD.
 */
static int length_so_far(const struct figures_episode *e, int32_t day)
{
	const struct figures_readiness *r = figures_readiness_at(e, london_snapshot(day));
	int32_t start;

	if (r == NULL)
		return 0;
	start = figures_date_of(r->ready_at);
	if (figures_date_of(e->admitted_at) > start)
		start = figures_date_of(e->admitted_at);
	return day - start + 1;
}

/* The delays report's figures, computed once for JSON and CSV. */
struct delays {
	struct figures_delays d; /* rows by date x ward x reason */
	int *longest;            /* per row, the longest length so far among its patients */
	size_t *day_first;       /* per date (index day - first), its first row */
};

static size_t row_find(const struct delays *x, size_t from, int32_t day,
                       const struct figures_day *fd)
{
	for (size_t i = from; i < x->d.nrows && x->d.rows[i].day == day; i++)
		if (strcmp(x->d.rows[i].ward, fd->ward) == 0 &&
		    reason_same(x->d.rows[i].reason, fd->reported))
			return i;
	ASSERT(!"a delayed day without its row");
	return 0;
}

static void delays_compute(const struct figures_doc *doc, int32_t first, int32_t last,
                           struct delays *x)
{
	const struct figures_facts *f = &doc->facts;
	size_t ndays = (size_t)(last - first + 1), r = 0;

	memset(x, 0, sizeof *x);
	figures_delays_count(f, first, last, &x->d);
	x->longest = xcalloc(x->d.nrows + 1, sizeof *x->longest);
	x->day_first = xcalloc(ndays + 1, sizeof *x->day_first);
	for (size_t k = 0; k <= ndays; k++) {
		while (r < x->d.nrows && x->d.rows[r].day < first + (int32_t)k)
			r++;
		x->day_first[k] = r;
	}
	for (int32_t day = first; day <= last; day++) {
		for (size_t i = 0; i < f->nepisodes; i++) {
			struct figures_day fd;
			size_t row;
			int len;

			if (!figures_delayed_on(f, &f->episodes[i], day, &fd))
				continue;
			row = row_find(x, x->day_first[day - first], day, &fd);
			len = length_so_far(&f->episodes[i], day);
			if (len > x->longest[row])
				x->longest[row] = len;
		}
	}
}

static void delays_free(struct delays *x)
{
	figures_delays_reset(&x->d);
	free(x->longest);
	free(x->day_first);
}

/* A period total by reason or by ward. */
struct total {
	const char *ward;             /* by ward, else NULL */
	struct figures_reason reason; /* by reason */
	int at_end;                   /* patients delayed at the last snapshot */
	int days;                     /* delayed days over the period */
};

static struct total *total_find(struct total **t, size_t *n, size_t *cap, const char *ward,
                                struct figures_reason reason)
{
	for (size_t i = 0; i < *n; i++)
		if (ward != NULL ? strcmp((*t)[i].ward, ward) == 0
		                 : reason_same((*t)[i].reason, reason))
			return &(*t)[i];
	if (*n == *cap) {
		*cap = *cap == 0 ? 16 : *cap * 2;
		*t = xrealloc(*t, *cap * sizeof **t);
	}
	memset(&(*t)[*n], 0, sizeof **t);
	(*t)[*n].ward = ward;
	(*t)[*n].reason = reason;
	return &(*t)[(*n)++];
}

static int total_cmp_ward(const void *a, const void *b)
{
	return strcmp(((const struct total *)a)->ward, ((const struct total *)b)->ward);
}

static int total_cmp_reason(const void *a, const void *b)
{
	const struct total *x = a, *y = b;
	int c = strcmp(x->reason.list, y->reason.list);

	return c != 0 ? c : strcmp(x->reason.key, y->reason.key);
}

/* The patients delayed at the last snapshot, longest so far first. */
struct longest {
	const struct figures_episode *e; /* borrowed */
	size_t index;                    /* in the facts (for its bed) */
	struct figures_day fd;           /* what its last day counts against */
	int days;                        /* length so far */
};

static int longest_cmp(const void *a, const void *b)
{
	const struct longest *x = a, *y = b;

	if (x->days != y->days)
		return x->days > y->days ? -1 : 1;
	return strcmp(x->e->id, y->e->id);
}

cJSON *figures_delays_json(const struct figures_doc *doc, int32_t first, int32_t last)
{
	const struct figures_facts *f = &doc->facts;
	cJSON *root = cJSON_CreateObject(), *by_day, *arr;
	struct total *reasons = NULL, *wards = NULL;
	size_t nreasons = 0, creasons = 0, nwards = 0, cwards = 0, nlong = 0;
	struct longest *lg = xcalloc(f->nepisodes + 1, sizeof *lg);
	char d[DATE_FORMAT_LEN], t[TIME_FORMAT_LEN];
	struct delays x;
	int at_end = 0;

	delays_compute(doc, first, last, &x);
	date_format(first, d);
	cJSON_AddStringToObject(root, "from", d);
	date_format(last, d);
	cJSON_AddStringToObject(root, "to", d);
	time_format(london_snapshot(last), t);
	cJSON_AddStringToObject(root, "snapshot_at", t);
	by_day = cJSON_CreateArray();
	for (int32_t day = first; day <= last; day++) {
		cJSON *o = cJSON_CreateObject(), *rows;
		int count = 0;

		date_format(day, d);
		cJSON_AddStringToObject(o, "date", d);
		time_format(london_snapshot(day), t);
		cJSON_AddStringToObject(o, "snapshot_at", t);
		rows = cJSON_CreateArray();
		for (size_t i = x.day_first[day - first]; i < x.day_first[day - first + 1]; i++) {
			const struct figures_delay_row *row = &x.d.rows[i];
			cJSON *ro = cJSON_CreateObject();

			cJSON_AddStringToObject(ro, "ward", row->ward);
			add_reason(ro, doc, row->reason);
			cJSON_AddNumberToObject(ro, "patients_delayed", row->patients);
			cJSON_AddNumberToObject(ro, "longest_so_far", x.longest[i]);
			cJSON_AddItemToArray(rows, ro);
			count += row->patients;
			total_find(&reasons, &nreasons, &creasons, NULL, row->reason)->days +=
			    row->patients;
			total_find(&wards, &nwards, &cwards, row->ward, row->reason)->days +=
			    row->patients;
			if (day == last) {
				total_find(&reasons, &nreasons, &creasons, NULL, row->reason)
				    ->at_end += row->patients;
				total_find(&wards, &nwards, &cwards, row->ward, row->reason)
				    ->at_end += row->patients;
				at_end += row->patients;
			}
		}
		cJSON_AddNumberToObject(o, "patients_delayed", count);
		cJSON_AddItemToObject(o, "rows", rows);
		cJSON_AddItemToArray(by_day, o);
	}
	cJSON_AddNumberToObject(root, "patients_delayed", at_end);
	cJSON_AddNumberToObject(root, "delayed_days", x.d.total);
	if (nreasons > 1)
		qsort(reasons, nreasons, sizeof *reasons, total_cmp_reason);
	arr = cJSON_AddArrayToObject(root, "by_reason");
	for (size_t i = 0; i < nreasons; i++) {
		cJSON *o = cJSON_CreateObject();

		add_reason(o, doc, reasons[i].reason);
		cJSON_AddNumberToObject(o, "patients_delayed", reasons[i].at_end);
		cJSON_AddNumberToObject(o, "delayed_days", reasons[i].days);
		cJSON_AddItemToArray(arr, o);
	}
	if (nwards > 1)
		qsort(wards, nwards, sizeof *wards, total_cmp_ward);
	arr = cJSON_AddArrayToObject(root, "by_ward");
	for (size_t i = 0; i < nwards; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "ward", wards[i].ward);
		cJSON_AddNumberToObject(o, "patients_delayed", wards[i].at_end);
		cJSON_AddNumberToObject(o, "delayed_days", wards[i].days);
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_AddItemToObject(root, "by_day", by_day);
	for (size_t i = 0; i < f->nepisodes; i++) {
		if (!figures_delayed_on(f, &f->episodes[i], last, &lg[nlong].fd))
			continue;
		lg[nlong].e = &f->episodes[i];
		lg[nlong].index = i;
		lg[nlong].days = length_so_far(&f->episodes[i], last);
		nlong++;
	}
	if (nlong > 1)
		qsort(lg, nlong, sizeof *lg, longest_cmp);
	arr = cJSON_AddArrayToObject(root, "longest");
	for (size_t i = 0; i < nlong; i++) {
		const struct figures_readiness *r =
		    figures_readiness_at(lg[i].e, london_snapshot(last));
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "episode_id", lg[i].e->id);
		cJSON_AddStringToObject(o, "ward", lg[i].fd.ward);
		cJSON_AddStringToObject(o, "bed", doc->beds != NULL ? doc->beds[lg[i].index] : "");
		time_format(r != NULL ? r->ready_at : 0, t);
		cJSON_AddStringToObject(o, "ready_at", t);
		cJSON_AddNumberToObject(o, "delayed_days", lg[i].days);
		add_reason(o, doc, lg[i].fd.reported);
		cJSON_AddItemToArray(arr, o);
	}
	free(lg);
	free(reasons);
	free(wards);
	delays_free(&x);
	return root;
}

char *figures_delays_csv(const struct figures_doc *doc, int32_t first, int32_t last)
{
	struct csv c;
	struct delays x;
	char d[DATE_FORMAT_LEN];
	int longest = 0;

	csv_init(&c, "date,ward,reason_list,reason,reason_label,patients_delayed,longest_so_far\n");
	delays_compute(doc, first, last, &x);
	for (int32_t day = first; day <= last; day++) {
		size_t a = x.day_first[day - first], b = x.day_first[day - first + 1];

		date_format(day, d);
		if (a == b) {
			/* a date with nobody delayed still has its row */
			csv_field(&c, d, false);
			for (int k = 0; k < 4; k++)
				csv_field(&c, "", false);
			csv_int(&c, 0, false);
			csv_int(&c, 0, true);
		}
		for (size_t i = a; i < b; i++) {
			const struct figures_delay_row *row = &x.d.rows[i];

			csv_field(&c, d, false);
			csv_field(&c, row->ward, false);
			csv_field(&c, row->reason.list, false);
			csv_field(&c, row->reason.key, false);
			csv_field(&c, reason_label(doc, row->reason), false);
			csv_int(&c, row->patients, false);
			csv_int(&c, x.longest[i], true);
			if (x.longest[i] > longest)
				longest = x.longest[i];
		}
	}
	csv_field(&c, "total", false);
	for (int k = 0; k < 4; k++)
		csv_field(&c, "", false);
	csv_int(&c, x.d.total, false);
	csv_int(&c, longest, true);
	delays_free(&x);
	return c.buf;
}

/* ---- the DRD metric ------------------------------------------------------------ */

static double round_to(double v, double unit)
{
	return round(v / unit) * unit;
}

static cJSON *drd_to_json(const struct figures_drd *d)
{
	cJSON *o = cJSON_CreateObject(), *bands;

	if (d->ward != NULL)
		cJSON_AddStringToObject(o, "ward", d->ward);
	cJSON_AddNumberToObject(o, "discharges", d->discharges);
	cJSON_AddNumberToObject(o, "no_drd", d->no_drd);
	bands = cJSON_AddObjectToObject(o, "bands");
	for (int b = 0; b < FIGURES_BANDS; b++)
		cJSON_AddNumberToObject(bands, figures_band_names[b], d->bands[b]);
	cJSON_AddNumberToObject(o, "delayed_bed_days", d->delayed_bed_days);
	cJSON_AddNumberToObject(o, "average_delay_days", round_to(figures_drd_average(d), 0.01));
	cJSON_AddNumberToObject(o, "on_drd_share", round_to(figures_drd_on_time_share(d), 0.0001));
	return o;
}

cJSON *figures_drd_json(const struct figures_doc *doc, int year, int mon, int32_t through)
{
	struct figures_drd_month m;
	cJSON *root = cJSON_CreateObject(), *wards;
	char b[DATE_FORMAT_LEN];

	memset(&m, 0, sizeof m);
	figures_drd_month_to(&doc->facts, year, mon, through, &m);
	snprintf(b, sizeof b, "%04d-%02d", year, mon);
	cJSON_AddStringToObject(root, "month", b);
	date_format(m.first_day, b);
	cJSON_AddStringToObject(root, "first_day", b);
	date_format(m.last_day, b);
	cJSON_AddStringToObject(root, "last_day", b);
	cJSON_AddItemToObject(root, "trust", drd_to_json(&m.trust));
	wards = cJSON_AddArrayToObject(root, "wards");
	for (size_t i = 0; i < m.nwards; i++)
		cJSON_AddItemToArray(wards, drd_to_json(&m.wards[i]));
	figures_drd_month_reset(&m);
	return root;
}

static int num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valueint : 0;
}

static void drd_csv_row(struct csv *c, const char *month, const char *ward, const cJSON *o)
{
	const cJSON *bands = cJSON_GetObjectItemCaseSensitive(o, "bands");
	const cJSON *avg = cJSON_GetObjectItemCaseSensitive(o, "average_delay_days");
	const cJSON *share = cJSON_GetObjectItemCaseSensitive(o, "on_drd_share");
	char b[32];

	csv_field(c, month, false);
	csv_field(c, ward, false);
	csv_int(c, num(o, "discharges"), false);
	csv_int(c, num(o, "no_drd"), false);
	for (int k = 0; k < FIGURES_BANDS; k++)
		csv_int(c, num(bands, figures_band_names[k]), false);
	csv_int(c, num(o, "delayed_bed_days"), false);
	snprintf(b, sizeof b, "%.2f", cJSON_IsNumber(avg) ? avg->valuedouble : 0.0);
	csv_field(c, b, false);
	snprintf(b, sizeof b, "%.4f", cJSON_IsNumber(share) ? share->valuedouble : 0.0);
	csv_field(c, b, true);
}

char *figures_drd_csv(const cJSON *drd)
{
	const cJSON *month = cJSON_GetObjectItemCaseSensitive(drd, "month"), *w;
	const char *m = cJSON_IsString(month) ? month->valuestring : "";
	struct csv c;

	csv_init(&c, "month,ward,discharges,no_drd,band_0,band_1,band_2_3,band_4_6,band_7_13,"
	             "band_14_20,band_21_plus,delayed_bed_days,average_delay_days,on_drd_share\n");
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(drd, "wards"))
	{
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(w, "ward");

		drd_csv_row(&c, m, cJSON_IsString(code) ? code->valuestring : "", w);
	}
	drd_csv_row(&c, m, "trust", cJSON_GetObjectItemCaseSensitive(drd, "trust"));
	return c.buf;
}

/* ---- long stays --------------------------------------------------------------------- */

static bool ward_listed(const char *ward, const char *const *wards, size_t nwards)
{
	for (size_t i = 0; i < nwards; i++)
		if (strcmp(wards[i], ward) == 0)
			return true;
	return false;
}

static const char *bed_of(const struct figures_doc *doc, const char *episode_id)
{
	for (size_t i = 0; i < doc->facts.nepisodes; i++)
		if (strcmp(doc->facts.episodes[i].id, episode_id) == 0)
			return doc->beds != NULL ? doc->beds[i] : "";
	return "";
}

static int64_t admitted_of(const struct figures_doc *doc, const char *episode_id)
{
	for (size_t i = 0; i < doc->facts.nepisodes; i++)
		if (strcmp(doc->facts.episodes[i].id, episode_id) == 0)
			return doc->facts.episodes[i].admitted_at;
	return 0;
}

cJSON *figures_long_stay_json(const struct figures_doc *doc, int64_t at, const char *const *wards,
                              size_t nwards)
{
	struct figures_long_stay l;
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_CreateArray();
	char t[TIME_FORMAT_LEN];
	int n7 = 0, n14 = 0, n21 = 0;

	memset(&l, 0, sizeof l);
	figures_long_stay(&doc->facts, at, &l);
	time_format(at, t);
	cJSON_AddStringToObject(root, "at", t);
	for (size_t i = 0; i < l.nrows; i++) {
		const struct figures_long_stay_row *row = &l.rows[i];
		cJSON *o;

		if (wards != NULL && !ward_listed(row->ward, wards, nwards))
			continue;
		n7++;
		n14 += row->los >= 14;
		n21 += row->los >= 21;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "episode_id", row->episode_id);
		cJSON_AddStringToObject(o, "ward", row->ward);
		cJSON_AddStringToObject(o, "bed", bed_of(doc, row->episode_id));
		time_format(admitted_of(doc, row->episode_id), t);
		cJSON_AddStringToObject(o, "admitted_at", t);
		cJSON_AddNumberToObject(o, "length_of_stay", row->los);
		cJSON_AddBoolToObject(o, "nctr", row->nctr);
		if (row->nctr) {
			time_format(row->ready_at, t);
			cJSON_AddStringToObject(o, "ready_at", t);
		} else {
			cJSON_AddNullToObject(o, "ready_at");
		}
		if (row->reported.list != NULL && row->reported.list[0] != '\0') {
			cJSON *b = cJSON_AddObjectToObject(o, "primary_barrier");

			add_reason(b, doc, row->reported);
		} else {
			cJSON_AddNullToObject(o, "primary_barrier");
		}
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_AddNumberToObject(root, "stranded", n7);
	cJSON_AddNumberToObject(root, "los_14_plus", n14);
	cJSON_AddNumberToObject(root, "super_stranded", n21);
	cJSON_AddItemToObject(root, "patients", arr);
	figures_long_stay_reset(&l);
	return root;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

char *figures_long_stay_csv(const cJSON *ls)
{
	const cJSON *p;
	struct csv c;

	csv_init(&c, "episode_id,ward,bed,nhs_number,family_name,given_name,admitted_at,"
	             "length_of_stay,nctr,ready_at,reason_list,reason,reason_label\n");
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(ls, "patients"))
	{
		const cJSON *pt = cJSON_GetObjectItemCaseSensitive(p, "patient");
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(p, "primary_barrier");

		csv_field(&c, str(p, "episode_id"), false);
		csv_field(&c, str(p, "ward"), false);
		csv_field(&c, str(p, "bed"), false);
		csv_field(&c, str(pt, "nhs_number"), false);
		csv_field(&c, str(pt, "family_name"), false);
		csv_field(&c, str(pt, "given_name"), false);
		csv_field(&c, str(p, "admitted_at"), false);
		csv_int(&c, num(p, "length_of_stay"), false);
		csv_field(&c,
		          cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "nctr")) ? "yes" : "no",
		          false);
		csv_field(&c, str(p, "ready_at"), false);
		csv_field(&c, str(b, "reason_list"), false);
		csv_field(&c, str(b, "reason"), false);
		csv_field(&c, str(b, "reason_label"), true);
	}
	return c.buf;
}

/* ---- discharges by pathway and destination --------------------------------------- */

/* The pathway slot's name in the CSV and JSON keys: "0".."3" or "not_recorded". */
static const char *pathway_slot_name(int p)
{
	static const char *const names[FIGURES_PATHWAY_SLOTS] = {"0", "1", "2", "3",
	                                                         "not_recorded"};

	return names[p];
}

/* The destination slot's code, or "not_recorded". */
static const char *destination_slot_name(int d)
{
	return d < DESTINATION_COUNT ? destination_name((enum destination)d) : "not_recorded";
}

static const char *destination_slot_label(int d)
{
	return d < DESTINATION_COUNT ? destination_label((enum destination)d) : "Not recorded";
}

cJSON *figures_discharges_json(const struct figures_doc *doc, int32_t first, int32_t last,
                               const char *ward)
{
	struct figures_discharges x;
	cJSON *o = cJSON_CreateObject(), *rows, *bp, *bd;
	char d[DATE_FORMAT_LEN], key[16];

	figures_discharges_count(&doc->facts, first, last, ward, &x);
	date_format(first, d);
	cJSON_AddStringToObject(o, "from", d);
	date_format(last, d);
	cJSON_AddStringToObject(o, "to", d);
	if (ward != NULL)
		cJSON_AddStringToObject(o, "ward", ward);
	rows = cJSON_AddArrayToObject(o, "rows");
	for (int p = 0; p < FIGURES_PATHWAY_SLOTS; p++) {
		for (int k = 0; k < FIGURES_DESTINATION_SLOTS; k++) {
			cJSON *r;

			if (x.counts[p][k] == 0)
				continue;
			r = cJSON_CreateObject();
			if (p == FIGURES_PATHWAY_SLOT_NOT_RECORDED)
				cJSON_AddNullToObject(r, "pathway");
			else
				cJSON_AddNumberToObject(r, "pathway", p);
			if (k == FIGURES_DESTINATION_SLOT_NOT_RECORDED)
				cJSON_AddNullToObject(r, "destination");
			else
				cJSON_AddStringToObject(r, "destination", destination_slot_name(k));
			cJSON_AddStringToObject(r, "destination_label", destination_slot_label(k));
			cJSON_AddNumberToObject(r, "discharges", x.counts[p][k]);
			cJSON_AddItemToArray(rows, r);
		}
	}
	bp = cJSON_AddObjectToObject(o, "by_pathway");
	for (int p = 0; p < FIGURES_PATHWAY_SLOTS; p++) {
		if (p == FIGURES_PATHWAY_SLOT_NOT_RECORDED)
			snprintf(key, sizeof key, "not_recorded");
		else
			snprintf(key, sizeof key, "pathway_%d", p);
		cJSON_AddNumberToObject(bp, key, x.by_pathway[p]);
	}
	cJSON_AddNumberToObject(bp, "total", x.total);
	bd = cJSON_AddObjectToObject(o, "by_destination");
	for (int k = 0; k < FIGURES_DESTINATION_SLOTS; k++)
		cJSON_AddNumberToObject(bd, destination_slot_name(k), x.by_destination[k]);
	cJSON_AddNumberToObject(bd, "total", x.total);
	cJSON_AddNumberToObject(o, "total", x.total);
	return o;
}

char *figures_discharges_csv(const struct figures_doc *doc, int32_t first, int32_t last,
                             const char *ward)
{
	struct figures_discharges x;
	struct csv c;

	figures_discharges_count(&doc->facts, first, last, ward, &x);
	csv_init(&c, "pathway,destination,destination_label,discharges\n");
	for (int p = 0; p < FIGURES_PATHWAY_SLOTS; p++) {
		for (int k = 0; k < FIGURES_DESTINATION_SLOTS; k++) {
			if (x.counts[p][k] == 0)
				continue;
			csv_field(&c, pathway_slot_name(p), false);
			csv_field(&c, destination_slot_name(k), false);
			csv_field(&c, destination_slot_label(k), false);
			csv_int(&c, x.counts[p][k], true);
		}
	}
	for (int p = 0; p < FIGURES_PATHWAY_SLOTS; p++) {
		csv_field(&c, pathway_slot_name(p), false);
		csv_field(&c, "total", false);
		csv_field(&c, "", false);
		csv_int(&c, x.by_pathway[p], true);
	}
	for (int k = 0; k < FIGURES_DESTINATION_SLOTS; k++) {
		csv_field(&c, "total", false);
		csv_field(&c, destination_slot_name(k), false);
		csv_field(&c, destination_slot_label(k), false);
		csv_int(&c, x.by_destination[k], true);
	}
	csv_field(&c, "total", false);
	csv_field(&c, "total", false);
	csv_field(&c, "", false);
	csv_int(&c, x.total, true);
	return c.buf;
}

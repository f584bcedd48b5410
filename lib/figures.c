/*
 * figures.c - report figures from recorded history (see figures.h).
 *
 * Every figure is computed by asking the history a question at one instant
 * (a date's snapshot, a discharge, the long-stay instant), so the rules live
 * in a handful of "_at" functions and the reports only count.  The delayed
 * day rule itself is lib/delay's delay_counts_on(), applied to each readiness
 * period with the discharge as its left_at, so there is still one place where
 * DOMAIN.md's midnight rule is written.  Ranges are a report's dates and an
 * episode's few facts, so plain walks and linear searches are enough.
 */
#include "figures.h"

#include <stdlib.h>
#include <string.h>

#include "cbtime.h"
#include "delay.h"
#include "xmalloc.h"

const char *const figures_band_names[FIGURES_BANDS] = {"0",    "1",     "2-3", "4-6",
                                                       "7-13", "14-20", "21+"};

/* Lower bounds of the bands, in days. */
static const int band_from[FIGURES_BANDS] = {0, 1, 2, 4, 7, 14, 21};

/* Longest chain of list mappings followed (dtoc-2014 -> 2023 -> ... is short). */
#define MAPPING_STEPS_MAX 8

static const char *str_or_empty(const char *s)
{
	return s != NULL ? s : "";
}

static bool reason_is_set(struct figures_reason r)
{
	return r.list != NULL && r.list[0] != '\0';
}

static struct figures_reason reason_normal(struct figures_reason r)
{
	struct figures_reason none = {"", ""};

	if (!reason_is_set(r))
		return none;
	r.key = str_or_empty(r.key);
	return r;
}

static bool reason_equal(struct figures_reason a, struct figures_reason b)
{
	return strcmp(str_or_empty(a.list), str_or_empty(b.list)) == 0 &&
	       strcmp(str_or_empty(a.key), str_or_empty(b.key)) == 0;
}

static int reason_cmp(struct figures_reason a, struct figures_reason b)
{
	int c = strcmp(str_or_empty(a.list), str_or_empty(b.list));

	return c != 0 ? c : strcmp(str_or_empty(a.key), str_or_empty(b.key));
}

/* Open at t: [from, to) with to == 0 for "still open". */
static bool span_has(int64_t from, int64_t to, int64_t t)
{
	return from <= t && (to == 0 || t < to);
}

/* Grow an array of n used entries to hold one more. */
static void *grow(void *rows, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return rows;
	*cap = *cap == 0 ? 16 : *cap * 2;
	return xrealloc(rows, *cap * size);
}

int32_t figures_date_of(int64_t t)
{
	return london_date(t - 1);
}

int figures_length_of_stay(int64_t admitted_at, int64_t at)
{
	int64_t los;

	if (at < admitted_at)
		return 0;
	/* Snapshots S with admitted_at <= S <= at: the last ends the date
	 * before at's date (at a midnight, at is that snapshot), the first ends
	 * the date that owns admitted_at. */
	los = (int64_t)london_date(at) - 1 - figures_date_of(admitted_at) + 1;
	return los > 0 ? (int)los : 0;
}

const char *figures_list_in_force(const struct figures_facts *f, int32_t day)
{
	const struct figures_list *best = NULL;

	for (size_t i = 0; i < f->nlists; i++) {
		const struct figures_list *l = &f->lists[i];

		if (l->active_from <= day && (best == NULL || l->active_from > best->active_from))
			best = l;
	}
	return best != NULL ? best->name : NULL;
}

static const struct figures_mapping *mapping_find(const struct figures_facts *f,
                                                  struct figures_reason older)
{
	for (size_t i = 0; i < f->nmappings; i++)
		if (reason_equal(f->mappings[i].older, older))
			return &f->mappings[i];
	return NULL;
}

struct figures_reason figures_reason_on(const struct figures_facts *f,
                                        struct figures_reason recorded, int32_t day)
{
	const char *in_force;
	struct figures_reason r;

	recorded = reason_normal(recorded);
	if (!reason_is_set(recorded))
		return recorded;
	in_force = figures_list_in_force(f, day);
	if (in_force == NULL || strcmp(recorded.list, in_force) == 0)
		return recorded;
	r = recorded;
	for (int step = 0; step < MAPPING_STEPS_MAX; step++) {
		const struct figures_mapping *m = mapping_find(f, r);

		if (m == NULL)
			break;
		r = reason_normal(m->newer);
		if (strcmp(r.list, in_force) == 0)
			return r;
	}
	return recorded;
}

const char *figures_ward_at(const struct figures_episode *e, int64_t t)
{
	const struct figures_stay *best = NULL;

	for (size_t i = 0; i < e->nstays; i++) {
		const struct figures_stay *s = &e->stays[i];

		if (span_has(s->from, s->to, t) && (best == NULL || s->from > best->from))
			best = s;
	}
	return best != NULL ? str_or_empty(best->ward) : "";
}

struct figures_reason figures_barrier_reason_at(const struct figures_barrier *b, int64_t t)
{
	const struct figures_reason_change *last = NULL;

	for (size_t i = 0; i < b->nchanges; i++) {
		const struct figures_reason_change *c = &b->changes[i];

		if (c->at <= t && (last == NULL || c->at >= last->at))
			last = c;
	}
	return reason_normal(last != NULL ? last->reason : b->reason);
}

const struct figures_barrier *figures_primary_at(const struct figures_episode *e, int64_t t)
{
	const struct figures_barrier *best = NULL;
	int64_t best_since = 0;

	for (size_t i = 0; i < e->nbarriers; i++) {
		const struct figures_barrier *b = &e->barriers[i];

		if (!span_has(b->opened_at, b->closed_at, t))
			continue;
		for (size_t k = 0; k < b->nprimary; k++) {
			const struct figures_span *p = &b->primary[k];

			if (span_has(p->from, p->to, t) && (best == NULL || p->from > best_since)) {
				best = b;
				best_since = p->from;
			}
		}
	}
	return best;
}

/* Readiness period r of e as lib/delay sees it: the discharge is its left_at. */
static struct readiness period_of(const struct figures_episode *e,
                                  const struct figures_readiness *r)
{
	struct readiness d = {r->ready_at, r->reversed_at, e->discharged_at};

	return d;
}

const struct figures_readiness *figures_readiness_at(const struct figures_episode *e, int64_t t)
{
	const struct figures_readiness *best = NULL;

	if (t < e->admitted_at || (e->discharged_at != 0 && e->discharged_at <= t))
		return NULL;
	for (size_t i = 0; i < e->nreadiness; i++) {
		const struct figures_readiness *r = &e->readiness[i];

		if (span_has(r->ready_at, r->reversed_at, t) &&
		    (best == NULL || r->ready_at > best->ready_at))
			best = r;
	}
	return best;
}

bool figures_nctr_at(const struct figures_episode *e, int64_t t)
{
	return figures_readiness_at(e, t) != NULL;
}

bool figures_delayed_on(const struct figures_facts *f, const struct figures_episode *e, int32_t day,
                        struct figures_day *out)
{
	int64_t snapshot = london_snapshot(day);
	const struct figures_barrier *b;
	bool counted = false;

	/* DOMAIN.md's rule, as lib/delay writes it, for each period. */
	for (size_t i = 0; i < e->nreadiness && !counted; i++) {
		struct readiness r = period_of(e, &e->readiness[i]);

		counted = delay_counts_on(&r, day);
	}
	if (counted && e->admitted_at > snapshot)
		counted = false; /* a DRD before the admission: not in the bed yet */
	if (!counted || out == NULL)
		return counted;
	out->ward = figures_ward_at(e, snapshot);
	b = figures_primary_at(e, snapshot);
	if (b != NULL) {
		out->recorded = figures_barrier_reason_at(b, snapshot);
	} else {
		out->recorded.list = "";
		out->recorded.key = "";
	}
	out->reported = figures_reason_on(f, out->recorded, day);
	return true;
}

bool figures_drd_delay(const struct figures_episode *e, int *days, int64_t *ready_at)
{
	const struct figures_readiness *drd = NULL;
	struct readiness r;

	if (e->discharged_at == 0)
		return false;
	for (size_t i = 0; i < e->nreadiness; i++) {
		const struct figures_readiness *p = &e->readiness[i];

		if (p->ready_at > e->discharged_at)
			continue;
		if (p->reversed_at != 0 && p->reversed_at < e->discharged_at)
			continue; /* reversed before the discharge */
		if (drd == NULL || p->ready_at > drd->ready_at)
			drd = p;
	}
	if (drd == NULL)
		return false;
	/* The midnights ready_at <= S < discharged_at, by the same rule as the
	 * daily count (a reversal at the discharge instant does not shorten it). */
	r.ready_at = drd->ready_at;
	r.withdrawn_at = 0;
	r.left_at = e->discharged_at;
	*days =
	    delay_days(&r, 1, figures_date_of(drd->ready_at), figures_date_of(e->discharged_at));
	if (ready_at != NULL)
		*ready_at = drd->ready_at;
	return true;
}

int figures_band(int days)
{
	int band = 0;

	ASSERT(days >= 0);
	while (band + 1 < FIGURES_BANDS && days >= band_from[band + 1])
		band++;
	return band;
}

/* ---- delayed days ---------------------------------------------------------- */

static int delay_row_cmp(const void *a, const void *b)
{
	const struct figures_delay_row *x = a, *y = b;
	int c;

	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	c = strcmp(x->ward, y->ward);
	return c != 0 ? c : reason_cmp(x->reason, y->reason);
}

static void delays_add(struct figures_delays *d, int32_t day, const struct figures_day *fd)
{
	struct figures_delay_row *row;

	for (size_t i = d->nrows; i > 0; i--) {
		row = &d->rows[i - 1];
		if (row->day != day)
			break; /* rows are added date by date */
		if (strcmp(row->ward, fd->ward) == 0 && reason_equal(row->reason, fd->reported)) {
			row->patients++;
			d->total++;
			return;
		}
	}
	d->rows = grow(d->rows, d->nrows, &d->cap, sizeof *d->rows);
	row = &d->rows[d->nrows++];
	row->day = day;
	row->ward = fd->ward;
	row->reason = fd->reported;
	row->patients = 1;
	d->total++;
}

void figures_delays_count(const struct figures_facts *f, int32_t from, int32_t to,
                          struct figures_delays *out)
{
	figures_delays_reset(out);
	for (int32_t day = from; day <= to; day++) {
		for (size_t i = 0; i < f->nepisodes; i++) {
			struct figures_day fd;

			if (figures_delayed_on(f, &f->episodes[i], day, &fd))
				delays_add(out, day, &fd);
		}
	}
	if (out->nrows > 1)
		qsort(out->rows, out->nrows, sizeof *out->rows, delay_row_cmp);
}

void figures_delays_reset(struct figures_delays *d)
{
	free(d->rows);
	memset(d, 0, sizeof *d);
}

/* ---- sitrep ------------------------------------------------------------------ */

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/*
 * Whether e was NCTR and in hospital at some instant t of (lo - 1, hi]:
 * ready_at <= t < reversed_at and admitted_at <= t <= discharged_at.
 */
static bool nctr_within(const struct figures_episode *e, int64_t lo, int64_t hi)
{
	for (size_t i = 0; i < e->nreadiness; i++) {
		const struct figures_readiness *r = &e->readiness[i];
		int64_t first = max64(max64(lo, r->ready_at), e->admitted_at);
		int64_t last = hi;

		if (r->reversed_at != 0)
			last = min64(last, r->reversed_at - 1);
		if (e->discharged_at != 0)
			last = min64(last, e->discharged_at);
		if (first <= last)
			return true;
	}
	return false;
}

static int pathway_slot(int pathway)
{
	return pathway >= 0 && pathway <= 3 ? pathway : FIGURES_PATHWAY_SLOT_NOT_RECORDED;
}

void figures_sitrep_day(const struct figures_facts *f, int32_t day, struct figures_sitrep_day *out)
{
	int64_t snapshot = london_snapshot(day);
	int64_t first = london_snapshot(day - 1) + 1;

	memset(out, 0, sizeof *out);
	out->day = day;
	for (size_t i = 0; i < f->nepisodes; i++) {
		const struct figures_episode *e = &f->episodes[i];

		if (figures_nctr_at(e, snapshot))
			out->nctr++;
		if (!nctr_within(e, first, snapshot))
			continue;
		out->nctr_during++;
		if (e->discharged_at != 0 && e->discharged_at <= snapshot) {
			/* nctr_within puts the discharge after the day's start */
			out->discharged[pathway_slot(e->pathway)]++;
			out->discharged_total++;
		} else {
			out->still_in_hospital++;
		}
	}
}

static void week_add(struct figures_week_row *row, int los)
{
	row->patients++;
	row->los7 += los >= 7;
	row->los14 += los >= 14;
	row->los21 += los >= 21;
}

static int week_row_cmp(const void *a, const void *b)
{
	const struct figures_week_row *x = a, *y = b;

	return reason_cmp(x->reason, y->reason);
}

void figures_sitrep_week(const struct figures_facts *f, int32_t last_day,
                         struct figures_sitrep_week *out)
{
	int64_t snapshot = london_snapshot(last_day);

	figures_sitrep_week_reset(out);
	out->first_day = last_day - 6;
	out->last_day = last_day;
	for (size_t i = 0; i < f->nepisodes; i++) {
		const struct figures_episode *e = &f->episodes[i];
		struct figures_day fd;
		struct figures_week_row *row = NULL;
		int los;

		if (!figures_delayed_on(f, e, last_day, &fd))
			continue;
		los = figures_length_of_stay(e->admitted_at, snapshot);
		week_add(&out->total, los);
		for (size_t k = 0; k < out->nrows && row == NULL; k++)
			if (reason_equal(out->rows[k].reason, fd.reported))
				row = &out->rows[k];
		if (row == NULL) {
			out->rows = grow(out->rows, out->nrows, &out->cap, sizeof *out->rows);
			row = &out->rows[out->nrows++];
			memset(row, 0, sizeof *row);
			row->reason = fd.reported;
		}
		week_add(row, los);
	}
	if (out->nrows > 1)
		qsort(out->rows, out->nrows, sizeof *out->rows, week_row_cmp);
}

void figures_sitrep_week_reset(struct figures_sitrep_week *w)
{
	free(w->rows);
	memset(w, 0, sizeof *w);
}

/* ---- DRD metric ----------------------------------------------------------------- */

static struct figures_drd *drd_ward(struct figures_drd_month *m, const char *ward)
{
	struct figures_drd *d;

	for (size_t i = 0; i < m->nwards; i++)
		if (strcmp(m->wards[i].ward, ward) == 0)
			return &m->wards[i];
	m->wards = grow(m->wards, m->nwards, &m->cap, sizeof *m->wards);
	d = &m->wards[m->nwards++];
	memset(d, 0, sizeof *d);
	d->ward = ward;
	return d;
}

static void drd_add_discharge(struct figures_drd *d, bool has_drd, int days)
{
	d->discharges++;
	if (!has_drd) {
		d->no_drd++;
		return;
	}
	d->bands[figures_band(days)]++;
	d->delay_sum += days;
}

static int drd_ward_cmp(const void *a, const void *b)
{
	const struct figures_drd *x = a, *y = b;

	return strcmp(x->ward, y->ward);
}

void figures_drd_month(const struct figures_facts *f, int year, int month,
                       struct figures_drd_month *out)
{
	figures_drd_month_to(f, year, month, INT32_MAX, out);
}

void figures_drd_month_to(const struct figures_facts *f, int year, int month, int32_t through,
                          struct figures_drd_month *out)
{
	ASSERT(month >= 1 && month <= 12);
	figures_drd_month_reset(out);
	out->first_day = date_from_ymd(year, month, 1);
	out->last_day =
	    month == 12 ? date_from_ymd(year + 1, 1, 1) - 1 : date_from_ymd(year, month + 1, 1) - 1;
	for (size_t i = 0; i < f->nepisodes; i++) {
		const struct figures_episode *e = &f->episodes[i];
		int32_t date;
		int days = 0;
		bool has_drd;

		for (int32_t day = out->first_day; day <= out->last_day && day <= through; day++) {
			struct figures_day fd;

			if (!figures_delayed_on(f, e, day, &fd))
				continue;
			out->trust.delayed_bed_days++;
			drd_ward(out, fd.ward)->delayed_bed_days++;
		}
		if (e->discharged_at == 0)
			continue;
		date = figures_date_of(e->discharged_at);
		if (date < out->first_day || date > out->last_day)
			continue;
		has_drd = figures_drd_delay(e, &days, NULL);
		drd_add_discharge(&out->trust, has_drd, days);
		drd_add_discharge(drd_ward(out, figures_ward_at(e, e->discharged_at - 1)), has_drd,
		                  days);
	}
	if (out->nwards > 1)
		qsort(out->wards, out->nwards, sizeof *out->wards, drd_ward_cmp);
}

void figures_drd_month_reset(struct figures_drd_month *m)
{
	free(m->wards);
	memset(m, 0, sizeof *m);
}

double figures_drd_average(const struct figures_drd *d)
{
	int with_drd = d->discharges - d->no_drd;

	return with_drd > 0 ? (double)d->delay_sum / with_drd : 0.0;
}

double figures_drd_on_time_share(const struct figures_drd *d)
{
	int with_drd = d->discharges - d->no_drd;

	return with_drd > 0 ? (double)d->bands[0] / with_drd : 0.0;
}

/* ---- long stays ------------------------------------------------------------------ */

static int long_stay_cmp(const void *a, const void *b)
{
	const struct figures_long_stay_row *x = a, *y = b;

	if (x->los != y->los)
		return x->los > y->los ? -1 : 1;
	return strcmp(str_or_empty(x->episode_id), str_or_empty(y->episode_id));
}

void figures_long_stay(const struct figures_facts *f, int64_t at, struct figures_long_stay *out)
{
	size_t cap = 0;
	int32_t today = figures_date_of(at);

	figures_long_stay_reset(out);
	out->at = at;
	for (size_t i = 0; i < f->nepisodes; i++) {
		const struct figures_episode *e = &f->episodes[i];
		const struct figures_readiness *r;
		const struct figures_barrier *b;
		struct figures_long_stay_row *row;
		int los;

		if (at < e->admitted_at || (e->discharged_at != 0 && e->discharged_at <= at))
			continue;
		los = figures_length_of_stay(e->admitted_at, at);
		if (los < 7)
			continue;
		out->los7++;
		out->los14 += los >= 14;
		out->los21 += los >= 21;
		out->rows = grow(out->rows, out->nrows, &cap, sizeof *out->rows);
		row = &out->rows[out->nrows++];
		memset(row, 0, sizeof *row);
		row->episode_id = e->id;
		row->ward = figures_ward_at(e, at);
		row->los = los;
		r = figures_readiness_at(e, at);
		row->nctr = r != NULL;
		row->ready_at = r != NULL ? r->ready_at : 0;
		b = figures_primary_at(e, at);
		row->recorded.list = "";
		row->recorded.key = "";
		if (b != NULL)
			row->recorded = figures_barrier_reason_at(b, at);
		row->reported = figures_reason_on(f, row->recorded, today);
	}
	if (out->nrows > 1)
		qsort(out->rows, out->nrows, sizeof *out->rows, long_stay_cmp);
}

void figures_long_stay_reset(struct figures_long_stay *l)
{
	free(l->rows);
	memset(l, 0, sizeof *l);
}

/* The slot of a destination code: its lib/destination.h index, else "not recorded". */
static int destination_slot(const char *code)
{
	enum destination d;

	if (code == NULL || destination_parse(code, "destination", &d, NULL) != ST_OK)
		return FIGURES_DESTINATION_SLOT_NOT_RECORDED;
	return (int)d;
}

/*
 * The ward a discharged patient left from: that of the latest stay begun at
 * or before the discharge (a transfer in the same second as the discharge
 * included, where the instant before it would still name the old ward).
 */
static const char *ward_left_from(const struct figures_episode *e)
{
	const struct figures_stay *best = NULL;

	for (size_t i = 0; i < e->nstays; i++) {
		const struct figures_stay *s = &e->stays[i];

		if (s->from <= e->discharged_at && (best == NULL || s->from >= best->from))
			best = s;
	}
	return best != NULL ? best->ward : NULL;
}

void figures_discharges_count(const struct figures_facts *f, int32_t first, int32_t last,
                              const char *ward, struct figures_discharges *out)
{
	memset(out, 0, sizeof *out);
	out->first_day = first;
	out->last_day = last;
	for (size_t i = 0; i < f->nepisodes; i++) {
		const struct figures_episode *e = &f->episodes[i];
		int32_t day;
		int p, d;

		if (e->discharged_at == 0)
			continue;
		day = figures_date_of(e->discharged_at);
		if (day < first || day > last)
			continue;
		if (ward != NULL) {
			const char *from = ward_left_from(e);

			if (from == NULL || strcmp(from, ward) != 0)
				continue;
		}
		p = pathway_slot(e->pathway);
		d = destination_slot(e->destination);
		out->counts[p][d]++;
		out->by_pathway[p]++;
		out->by_destination[d]++;
		out->total++;
	}
}

/*
 * figures_test.c - unit tests for lib/figures: every report figure of issue
 * 14 derived by hand from DOMAIN.md's rules, one test per case of the issue's
 * "Done when" list.
 *
 * The rules used in the comments (figures.h, docs/REPORTS.md):
 * - snapshot(D) is the London midnight ending D: 00:00Z of D+1 on GMT dates,
 *   23:00Z of D on BST dates.  D is a delayed day when some readiness has
 *   ready_at <= snapshot(D), not reversed at or before it, and discharged_at
 *   is empty or > snapshot(D).  The day counts for the ward and the primary
 *   barrier's reason at snapshot(D).
 * - date_of(t) = the date whose snapshot is the first at or after t, i.e. the
 *   London date of t - 1 s.  A discharge at exactly 00:00 belongs to the date
 *   that midnight ends.
 * - DRD delay = date_of(discharge) - date_of(DRD in force at discharge): the
 *   snapshots S with ready_at <= S < discharged_at.
 * - LoS at instant t = london_date(t) - date_of(admitted_at): the snapshots
 *   spent in hospital.
 * Instants are written as London wall time with their offset; the UTC
 * instant is given beside them where it matters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cbtime.h"
#include "figures.h"
#include "xmalloc.h"

#define L23 "nhse-acute-2023"
#define L14 "dtoc-2014"

/* Point an episode's array field and its count at a local array. */
#define SET(e, field, arr)                                                                         \
	do {                                                                                       \
		(e).field = (arr);                                                                 \
		(e).n##field = nitems(arr);                                                        \
	} while (0)

static int64_t at(const char *s)
{
	int64_t t = 0;

	if (time_parse(s, &t, "t", NULL) != ST_OK)
		fail_msg("bad instant %s", s);
	return t;
}

static int32_t day(const char *s)
{
	int32_t d = 0;

	if (date_parse(s, &d, "d", NULL) != ST_OK)
		fail_msg("bad date %s", s);
	return d;
}

/* An episode admitted at admitted (and discharged at discharged, if not NULL). */
static struct figures_episode episode(const char *id, const char *admitted, const char *discharged,
                                      int pathway)
{
	struct figures_episode e;

	memset(&e, 0, sizeof e);
	e.id = id;
	e.admitted_at = at(admitted);
	e.discharged_at = discharged != NULL ? at(discharged) : 0;
	e.pathway = pathway;
	return e;
}

static const char *str(const char *s)
{
	return s != NULL ? s : "";
}

/* ---- expectation tables and their checks ----------------------------------- */

/* Episode episode on date: counted or not, and if counted the ward and reported reason. */
struct day_expect {
	const char *date;
	size_t episode; /* index in facts.episodes */
	bool counted;
	const char *ward;
	const char *list; /* "" = no reason recorded */
	const char *key;
};

static void check_days(const struct figures_facts *f, const struct day_expect *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct figures_episode *e = &f->episodes[x[i].episode];
		struct figures_day fd;
		bool counted = figures_delayed_on(f, e, day(x[i].date), &fd);

		if (counted != x[i].counted)
			fail_msg("%s on %s: counted %d, want %d", e->id, x[i].date, counted,
			         x[i].counted);
		if (!counted)
			continue;
		if (strcmp(fd.ward, x[i].ward) != 0 || strcmp(fd.reported.list, x[i].list) != 0 ||
		    strcmp(fd.reported.key, x[i].key) != 0)
			fail_msg("%s on %s: ward %s reason %s/%s, want %s %s/%s", e->id, x[i].date,
			         fd.ward, fd.reported.list, fd.reported.key, x[i].ward, x[i].list,
			         x[i].key);
	}
}

struct sitrep_expect {
	const char *date;
	int nctr, during;
	int discharged[FIGURES_PATHWAY_SLOTS]; /* pathway 0, 1, 2, 3, not recorded */
	int still;
};

static void check_sitrep(const struct figures_facts *f, const struct sitrep_expect *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct figures_sitrep_day s;
		int total = 0;

		figures_sitrep_day(f, day(x[i].date), &s);
		if (s.nctr != x[i].nctr || s.nctr_during != x[i].during ||
		    s.still_in_hospital != x[i].still)
			fail_msg("sitrep %s: nctr %d during %d still %d, want %d %d %d", x[i].date,
			         s.nctr, s.nctr_during, s.still_in_hospital, x[i].nctr, x[i].during,
			         x[i].still);
		for (int p = 0; p < FIGURES_PATHWAY_SLOTS; p++) {
			if (s.discharged[p] != x[i].discharged[p])
				fail_msg("sitrep %s: pathway slot %d discharged %d, want %d",
				         x[i].date, p, s.discharged[p], x[i].discharged[p]);
			total += x[i].discharged[p];
		}
		assert_int_equal(s.discharged_total, total);
		/* the identity of figures.h */
		assert_int_equal(s.nctr_during, s.discharged_total + s.still_in_hospital);
	}
}

/* DRD metric row: ward NULL = the trust. */
struct drd_expect {
	const char *ward;
	int discharges, no_drd;
	int bands[FIGURES_BANDS]; /* 0, 1, 2-3, 4-6, 7-13, 14-20, 21+ */
	long delay_sum;
	int bed_days;
};

static void check_drd_row(const char *what, const struct figures_drd *d, const struct drd_expect *x)
{
	if (d->discharges != x->discharges || d->no_drd != x->no_drd ||
	    d->delay_sum != x->delay_sum || d->delayed_bed_days != x->bed_days)
		fail_msg("drd %s: discharges %d no_drd %d delay_sum %ld bed_days %d, want %d %d "
		         "%ld %d",
		         what, d->discharges, d->no_drd, d->delay_sum, d->delayed_bed_days,
		         x->discharges, x->no_drd, x->delay_sum, x->bed_days);
	for (int b = 0; b < FIGURES_BANDS; b++)
		if (d->bands[b] != x->bands[b])
			fail_msg("drd %s: band %s has %d, want %d", what, figures_band_names[b],
			         d->bands[b], x->bands[b]);
}

/* The month's trust row and exactly the ward rows listed (in ward order). */
static void check_drd(const struct figures_facts *f, int year, int month,
                      const struct drd_expect *x, size_t n)
{
	struct figures_drd_month m = {0};
	size_t w = 0;

	figures_drd_month(f, year, month, &m);
	for (size_t i = 0; i < n; i++) {
		if (x[i].ward == NULL) {
			check_drd_row("trust", &m.trust, &x[i]);
			continue;
		}
		if (w >= m.nwards || strcmp(m.wards[w].ward, x[i].ward) != 0)
			fail_msg("drd: ward row %zu is %s, want %s", w,
			         w < m.nwards ? m.wards[w].ward : "(none)", x[i].ward);
		check_drd_row(x[i].ward, &m.wards[w], &x[i]);
		w++;
	}
	if (w > 0)
		assert_int_equal(m.nwards, w);
	figures_drd_month_reset(&m);
}

/* ---- DOMAIN.md's examples ----------------------------------------------------- */

/*
 * Two patients on Monday 23 November 2026 (GMT, snapshot(D) = 00:00Z of D+1).
 *  E0 ward A1: ready Mon 10:00, home Mon 18:00, pathway 0.
 *     snapshot(Mon) = Tue 00:00 is after the discharge -> 0 delayed days;
 *     DRD delay = date_of(Mon 18:00) - date_of(Mon 10:00) = Mon - Mon = 0.
 *  E1 ward B2: ready Mon 15:00, home Wed 11:00, pathway 1.
 *     snapshot(Mon) = Tue 00:00 and snapshot(Tue) = Wed 00:00 count,
 *     snapshot(Wed) = Thu 00:00 is after the discharge -> 2 delayed days;
 *     DRD delay = Wed - Mon = 2 (band 2-3).
 * Sitrep Mon: NCTR at snapshot = E1 -> 1; NCTR during Monday = E0 and E1 -> 2;
 *   discharged Monday = E0 on pathway 0 -> [1,0,0,0,0]; still in = E1 -> 1.
 * Sitrep Tue: NCTR at snapshot = E1 -> 1; during = E1; discharged 0; still 1.
 * Sitrep Wed: NCTR at snapshot 0; during = E1 (NCTR until 11:00);
 *   discharged Wednesday = E1 on pathway 1; still 0.
 * DRD November 2026: 2 discharges, bands 0: E0, 2-3: E1; delay_sum 0 + 2 = 2;
 *   delayed bed days 0 + 2 = 2; average 2 / 2 = 1.0; on their DRD 1 / 2.
 *   Ward A1: E0 (band 0, 0 bed days); ward B2: E1 (band 2-3, 2 bed days).
 */
static void test_domain_examples(void **state)
{
	struct figures_readiness r0[] = {{at("2026-11-23T10:00+00:00"), 0}};
	struct figures_readiness r1[] = {{at("2026-11-23T15:00+00:00"), 0}};
	struct figures_stay s0[] = {{"A1", at("2026-11-23T08:00+00:00"), 0}};
	struct figures_stay s1[] = {{"B2", at("2026-11-22T08:00+00:00"), 0}};
	struct figures_episode e[2];
	struct figures_facts f = {e, 2, NULL, 0, NULL, 0};
	struct figures_drd_month m = {0};
	int days = -1;

	e[0] = episode("E0", "2026-11-23T08:00+00:00", "2026-11-23T18:00+00:00", 0);
	SET(e[0], readiness, r0);
	SET(e[0], stays, s0);
	e[1] = episode("E1", "2026-11-22T08:00+00:00", "2026-11-25T11:00+00:00", 1);
	SET(e[1], readiness, r1);
	SET(e[1], stays, s1);

	const struct day_expect dx[] = {
	    {"2026-11-22", 0, false, NULL, NULL, NULL}, {"2026-11-23", 0, false, NULL, NULL, NULL},
	    {"2026-11-22", 1, false, NULL, NULL, NULL}, {"2026-11-23", 1, true, "B2", "", ""},
	    {"2026-11-24", 1, true, "B2", "", ""},      {"2026-11-25", 1, false, NULL, NULL, NULL},
	};
	check_days(&f, dx, nitems(dx));

	assert_true(figures_drd_delay(&e[0], &days, NULL));
	assert_int_equal(days, 0);
	assert_true(figures_drd_delay(&e[1], &days, NULL));
	assert_int_equal(days, 2);

	const struct sitrep_expect sx[] = {
	    {"2026-11-23", 1, 2, {1, 0, 0, 0, 0}, 1},
	    {"2026-11-24", 1, 1, {0, 0, 0, 0, 0}, 1},
	    {"2026-11-25", 0, 1, {0, 1, 0, 0, 0}, 0},
	};
	check_sitrep(&f, sx, nitems(sx));

	const struct drd_expect mx[] = {
	    {NULL, 2, 0, {1, 0, 1, 0, 0, 0, 0}, 2, 2},
	    {"A1", 1, 0, {1, 0, 0, 0, 0, 0, 0}, 0, 0},
	    {"B2", 1, 0, {0, 0, 1, 0, 0, 0, 0}, 2, 2},
	};
	check_drd(&f, 2026, 11, mx, nitems(mx));
	figures_drd_month(&f, 2026, 11, &m);
	assert_true(figures_drd_average(&m.trust) == 1.0);
	assert_true(figures_drd_on_time_share(&m.trust) == 0.5);
	figures_drd_month_reset(&m);
}

/* ---- DST nights --------------------------------------------------------------- */

/*
 * 2026's clock changes: Sunday 29 March (BST from 01:00Z, a 23-hour day) and
 * Sunday 25 October (GMT from 01:00Z, a 25-hour day).  Snapshots:
 *   snapshot(28 Mar) = 29 Mar 00:00 GMT = 29T00:00Z
 *   snapshot(29 Mar) = 30 Mar 00:00 BST = 29T23:00Z
 *   snapshot(24 Oct) = 25 Oct 00:00 BST = 24T23:00Z
 *   snapshot(25 Oct) = 26 Oct 00:00 GMT = 26T00:00Z
 * All on ward W1, no barriers (so "no reason recorded").
 *  E0: ready 28 Mar 23:30 GMT (23:30Z), home 29 Mar 23:30 BST (22:30Z), P0.
 *      snapshot(28 Mar) 29T00:00Z counts; snapshot(29 Mar) 29T23:00Z is after
 *      the discharge -> 1 day (28 Mar).  DRD delay 29 Mar - 28 Mar = 1.
 *  E1: ready 29 Mar 23:30 BST (22:30Z), home 30 Mar 00:30 BST (29T23:30Z),
 *      admitted 29 Mar 08:00 BST.  snapshot(29 Mar) = 29T23:00Z lies between
 *      -> 1 day (29 Mar).  (Counting at UTC midnight 30T00:00Z would give 0.)
 *  E2: ready 29 Mar 10:00 BST, home at exactly 30 Mar 00:00 BST = 29T23:00Z =
 *      snapshot(29 Mar): discharged_at is not > the snapshot -> 0 days; the
 *      discharge is dated 29 Mar; DRD delay 29 - 29 = 0.  Pathway not recorded.
 *  E3: ready 24 Oct 23:30 BST (22:30Z), home 25 Oct 00:30 BST (23:30Z):
 *      snapshot(24 Oct) = 24T23:00Z between -> 1 day (24 Oct).
 *  E4: ready 25 Oct 23:30 GMT (23:30Z), home 26 Oct 00:30 GMT:
 *      snapshot(25 Oct) = 26T00:00Z between -> 1 day (25 Oct).
 *  E5: ready 24 Oct 10:00 BST, home 26 Oct 10:00 GMT: 24 and 25 Oct -> 2
 *      days across the 25-hour day, DRD delay 26 - 24 = 2.
 *  E6: admitted 23 Mar 10:00 GMT, ready 27 Mar 10:00 GMT, home 10 Apr.
 * Sitrep 28 Mar: NCTR at 29T00:00Z: E0 and E6 -> 2; during (28T00:00Z,
 *   29T00:00Z]: E0, E6 -> 2, both still in.
 * Sitrep 29 Mar (window (29T00:00Z, 29T23:00Z], 23 hours): NCTR at
 *   29T23:00Z: E1 and E6 -> 2 (E0 left 22:30Z, E2 left at 23:00Z exactly).
 *   During: E0, E1, E2, E6 -> 4; discharged: E0 (P0) and E2 (not recorded,
 *   its 23:00Z discharge is inside the window) -> [1,0,0,0,1]; still: E1, E6.
 * Sitrep 25 Oct (window (24T23:00Z, 26T00:00Z], 25 hours): NCTR at 26T00:00Z:
 *   E4, E5 -> 2; during: E3 (NCTR until 23:30Z on 24th), E4, E5 -> 3;
 *   discharged: E3 (P1) -> [0,1,0,0,0]; still: E4, E5.
 * Weekly, week ending Sunday 29 Mar: NCTR in hospital at 29T23:00Z: E1 and
 *   E6, both with no reason.  LoS at 29T23:00Z: london_date = 30 Mar;
 *   E6: 30 Mar - date_of(23 Mar 10:00) = 30 - 23 = 7 -> 7+ (the snapshots of
 *   23..29 Mar); E1: 30 - 29 = 1.  -> 2 patients, los7 1, los14 0.
 */
static void test_dst_nights(void **state)
{
	struct figures_readiness r[7][1] = {
	    {{at("2026-03-28T23:30+00:00"), 0}}, {{at("2026-03-29T23:30+01:00"), 0}},
	    {{at("2026-03-29T10:00+01:00"), 0}}, {{at("2026-10-24T23:30+01:00"), 0}},
	    {{at("2026-10-25T23:30+00:00"), 0}}, {{at("2026-10-24T10:00+01:00"), 0}},
	    {{at("2026-03-27T10:00+00:00"), 0}},
	};
	struct figures_stay w1[] = {{"W1", at("2026-01-01T00:00+00:00"), 0}};
	struct figures_episode e[7];
	struct figures_facts f = {e, 7, NULL, 0, NULL, 0};
	struct figures_sitrep_week w = {0};
	int days = -1;

	e[0] = episode("E0", "2026-03-20T08:00+00:00", "2026-03-29T23:30+01:00", 0);
	e[1] = episode("E1", "2026-03-29T08:00+01:00", "2026-03-30T00:30+01:00", 1);
	e[2] = episode("E2", "2026-03-20T08:00+00:00", "2026-03-30T00:00+01:00",
	               FIGURES_PATHWAY_NOT_RECORDED);
	e[3] = episode("E3", "2026-10-20T08:00+01:00", "2026-10-25T00:30+01:00", 1);
	e[4] = episode("E4", "2026-10-20T08:00+01:00", "2026-10-26T00:30+00:00", 1);
	e[5] = episode("E5", "2026-10-20T08:00+01:00", "2026-10-26T10:00+00:00", 2);
	e[6] = episode("E6", "2026-03-23T10:00+00:00", "2026-04-10T10:00+01:00", 0);
	for (int i = 0; i < 7; i++) {
		SET(e[i], readiness, r[i]);
		SET(e[i], stays, w1);
	}

	const struct day_expect dx[] = {
	    {"2026-03-27", 0, false, NULL, NULL, NULL}, {"2026-03-28", 0, true, "W1", "", ""},
	    {"2026-03-29", 0, false, NULL, NULL, NULL}, {"2026-03-28", 1, false, NULL, NULL, NULL},
	    {"2026-03-29", 1, true, "W1", "", ""},      {"2026-03-30", 1, false, NULL, NULL, NULL},
	    {"2026-03-29", 2, false, NULL, NULL, NULL}, {"2026-10-23", 3, false, NULL, NULL, NULL},
	    {"2026-10-24", 3, true, "W1", "", ""},      {"2026-10-25", 3, false, NULL, NULL, NULL},
	    {"2026-10-24", 4, false, NULL, NULL, NULL}, {"2026-10-25", 4, true, "W1", "", ""},
	    {"2026-10-26", 4, false, NULL, NULL, NULL}, {"2026-10-23", 5, false, NULL, NULL, NULL},
	    {"2026-10-24", 5, true, "W1", "", ""},      {"2026-10-25", 5, true, "W1", "", ""},
	    {"2026-10-26", 5, false, NULL, NULL, NULL},
	};
	check_days(&f, dx, nitems(dx));

	assert_true(figures_drd_delay(&e[0], &days, NULL));
	assert_int_equal(days, 1);
	assert_true(figures_drd_delay(&e[2], &days, NULL));
	assert_int_equal(days, 0);
	assert_int_equal(figures_date_of(e[2].discharged_at), day("2026-03-29"));
	assert_true(figures_drd_delay(&e[5], &days, NULL));
	assert_int_equal(days, 2);

	const struct sitrep_expect sx[] = {
	    {"2026-03-28", 2, 2, {0, 0, 0, 0, 0}, 2},
	    {"2026-03-29", 2, 4, {1, 0, 0, 0, 1}, 2},
	    {"2026-10-25", 2, 3, {0, 1, 0, 0, 0}, 2},
	};
	check_sitrep(&f, sx, nitems(sx));

	figures_sitrep_week(&f, day("2026-03-29"), &w);
	assert_int_equal(w.first_day, day("2026-03-23"));
	assert_int_equal(w.total.patients, 2);
	assert_int_equal(w.total.los7, 1);
	assert_int_equal(w.total.los14, 0);
	assert_int_equal(w.nrows, 1);
	assert_string_equal(w.rows[0].reason.list, "");
	assert_int_equal(w.rows[0].patients, 2);
	assert_int_equal(w.rows[0].los7, 1);
	figures_sitrep_week_reset(&w);
	assert_int_equal(
	    figures_length_of_stay(e[6].admitted_at, london_snapshot(day("2026-03-29"))), 7);
	/* one snapshot earlier (29T00:00Z, the end of 28 Mar): 6 */
	assert_int_equal(
	    figures_length_of_stay(e[6].admitted_at, london_snapshot(day("2026-03-28"))), 6);
}

/* ---- NCTR reversed and declared again -------------------------------------------- */

/*
 * November 2026 (GMT), ward W1, no barriers.
 *  E0: ready Mon 2 Nov 10:00, reversed Tue 3 Nov 14:00; declared again Wed
 *      4 Nov 09:00; home Fri 6 Nov 11:00, pathway 1.
 *      2 Nov: snapshot 3T00:00, first period open -> counts.
 *      3 Nov: snapshot 4T00:00, first reversed at 14:00 on the 3rd, second
 *             not yet ready -> no.
 *      4 Nov, 5 Nov: second period -> count.  6 Nov: left -> no.  3 days.
 *      DRD in force at discharge: the later one, 4 Nov 09:00 -> delay =
 *      6 Nov - 4 Nov = 2 (band 2-3), not 6 - 2 = 4.
 *  E1: ready 2 Nov 10:00, reversed at exactly 3 Nov 00:00 = snapshot(2 Nov):
 *      reversed at (not after) the snapshot -> 0 days.  Still in hospital.
 *  E2: ready 2 Nov 10:00, reversed 3 Nov 12:00, never declared again, home
 *      5 Nov 10:00 pathway 0: 2 Nov counts (1 day); no DRD in force at
 *      discharge -> "no DRD", not 0.
 * Sitrep 2 Nov: NCTR at 3T00:00: E0, E2 (E1 was reversed at that very
 *   instant) -> 2; during (2T00:00, 3T00:00]: E0, E1, E2 -> 3; all still in.
 * Sitrep 3 Nov: NCTR at 4T00:00: none -> 0.  During 3 Nov: E0 (until 14:00),
 *   E2 (until 12:00) -> 2 (E1 was NCTR only up to 00:00, the window starts
 *   after it); none discharged; both still in hospital -> 2.
 * Sitrep 5 Nov: NCTR at 6T00:00: E0 -> 1.  During: E0 only (E2 was no longer
 *   NCTR on the 5th) -> 1; E2's discharge is not in the sitrep; still 1.
 * DRD November: discharges E0 and E2 -> 2, no_drd 1 (E2); band 2-3: E0;
 *   delay_sum 2; bed days E0 3 + E1 0 + E2 1 = 4 (the reversed period's day
 *   counts in the daily figures); average 2 / 1 = 2.0.
 */
static void test_nctr_reversed_and_declared_again(void **state)
{
	struct figures_readiness r0[] = {
	    {at("2026-11-02T10:00+00:00"), at("2026-11-03T14:00+00:00")},
	    {at("2026-11-04T09:00+00:00"), 0},
	};
	struct figures_readiness r1[] = {
	    {at("2026-11-02T10:00+00:00"), at("2026-11-03T00:00+00:00")}};
	struct figures_readiness r2[] = {
	    {at("2026-11-02T10:00+00:00"), at("2026-11-03T12:00+00:00")}};
	struct figures_stay w1[] = {{"W1", at("2026-11-01T09:00+00:00"), 0}};
	struct figures_episode e[3];
	struct figures_facts f = {e, 3, NULL, 0, NULL, 0};
	struct figures_drd_month m = {0};
	int64_t drd = 0;
	int days = -1;

	e[0] = episode("E0", "2026-11-01T09:00+00:00", "2026-11-06T11:00+00:00", 1);
	SET(e[0], readiness, r0);
	e[1] = episode("E1", "2026-11-01T09:00+00:00", NULL, 0);
	SET(e[1], readiness, r1);
	e[2] = episode("E2", "2026-11-01T09:00+00:00", "2026-11-05T10:00+00:00", 0);
	SET(e[2], readiness, r2);
	for (int i = 0; i < 3; i++)
		SET(e[i], stays, w1);

	const struct day_expect dx[] = {
	    {"2026-11-01", 0, false, NULL, NULL, NULL}, {"2026-11-02", 0, true, "W1", "", ""},
	    {"2026-11-03", 0, false, NULL, NULL, NULL}, {"2026-11-04", 0, true, "W1", "", ""},
	    {"2026-11-05", 0, true, "W1", "", ""},      {"2026-11-06", 0, false, NULL, NULL, NULL},
	    {"2026-11-02", 1, false, NULL, NULL, NULL}, {"2026-11-03", 1, false, NULL, NULL, NULL},
	    {"2026-11-02", 2, true, "W1", "", ""},      {"2026-11-03", 2, false, NULL, NULL, NULL},
	};
	check_days(&f, dx, nitems(dx));

	assert_true(figures_drd_delay(&e[0], &days, &drd));
	assert_int_equal(days, 2);
	assert_int_equal(drd, at("2026-11-04T09:00+00:00"));
	assert_false(figures_drd_delay(&e[2], &days, NULL));
	assert_false(figures_drd_delay(&e[1], &days, NULL)); /* not discharged */

	const struct sitrep_expect sx[] = {
	    {"2026-11-02", 2, 3, {0, 0, 0, 0, 0}, 3},
	    {"2026-11-03", 0, 2, {0, 0, 0, 0, 0}, 2},
	    {"2026-11-05", 1, 1, {0, 0, 0, 0, 0}, 1},
	    {"2026-11-06", 0, 1, {0, 1, 0, 0, 0}, 0},
	};
	check_sitrep(&f, sx, nitems(sx));

	const struct drd_expect mx[] = {{NULL, 2, 1, {0, 0, 1, 0, 0, 0, 0}, 2, 4}};
	check_drd(&f, 2026, 11, mx, nitems(mx));
	figures_drd_month(&f, 2026, 11, &m);
	assert_true(figures_drd_average(&m.trust) == 2.0);
	assert_true(figures_drd_on_time_share(&m.trust) == 0.0);
	figures_drd_month_reset(&m);
}

/* ---- a barrier's reason changed mid-delay ------------------------------------------- */

/*
 * November 2026 (GMT), ward W1, list nhse-acute-2023, still in hospital;
 * reported for 8..12 Nov (as if on 13 Nov, every fact recorded).
 *  E0: ready Mon 9 Nov 11:00.  Barrier B0 p1_awaiting_care opened 9 Nov
 *      12:00, primary from then, closed 11 Nov 15:00.  Barrier B1
 *      equipment_adaptations opened 10 Nov 09:00, primary from 11 Nov 15:00.
 *      9 Nov (snapshot 10T00:00): B0 -> p1_awaiting_care
 *      10 Nov (11T00:00): B0 still primary (B1 open, not primary) -> p1
 *      11 Nov (12T00:00): B0 closed, B1 primary -> equipment_adaptations
 *      12 Nov: equipment_adaptations.
 *  E1: ready 9 Nov 11:00.  Barrier C0 transport opened 9 Nov 11:30, primary,
 *      its reason edited to medicines_tto at 10 Nov 16:00.
 *      9 Nov (10T00:00): before the edit -> transport (kept, not rewritten)
 *      10, 11, 12 Nov: medicines_tto.
 *  E2: ready Sun 8 Nov 15:00.  Barriers D0 no_plan and D1 safeguarding both
 *      opened 9 Nov 12:00 and never closed; the primary flag moves from D0
 *      to D1 at 10 Nov 10:00.
 *      8 Nov (9T00:00): no barrier yet -> no reason recorded
 *      9 Nov: no_plan; 10, 11, 12 Nov: safeguarding.
 *  E3: ready 9 Nov 11:00.  Its only barrier transport, primary, is closed at
 *      exactly 11 Nov 00:00 = snapshot(10 Nov): open spans are [opened,
 *      closed), so at that snapshot it is closed.
 *      9 Nov: transport; 10, 11, 12 Nov: no reason recorded.
 * Rows (date, ward, reason, patients), sorted by reason ("" first):
 *   8 Nov: none 1 (E2)
 *   9 Nov: no_plan 1, p1_awaiting_care 1, transport 2 (E1, E3)
 *   10 Nov: none 1 (E3), medicines_tto 1, p1_awaiting_care 1, safeguarding 1
 *   11, 12 Nov: none 1, equipment_adaptations 1, medicines_tto 1,
 *               safeguarding 1
 * Total delayed days: E0 4 + E1 4 + E2 5 + E3 4 = 17.
 */
static void test_reason_changed_mid_delay(void **state)
{
	struct figures_readiness r0[] = {{at("2026-11-09T11:00+00:00"), 0}};
	struct figures_readiness r2[] = {{at("2026-11-08T15:00+00:00"), 0}};
	struct figures_span b0p[] = {{at("2026-11-09T12:00+00:00"), at("2026-11-11T15:00+00:00")}};
	struct figures_span b1p[] = {{at("2026-11-11T15:00+00:00"), 0}};
	struct figures_barrier b0[] = {
	    {{L23, "p1_awaiting_care"},
	     NULL,
	     0,
	     at("2026-11-09T12:00+00:00"),
	     at("2026-11-11T15:00+00:00"),
	     b0p,
	     1},
	    {{L23, "equipment_adaptations"}, NULL, 0, at("2026-11-10T09:00+00:00"), 0, b1p, 1},
	};
	struct figures_span c0p[] = {{at("2026-11-09T11:30+00:00"), 0}};
	struct figures_reason_change c0c[] = {
	    {at("2026-11-10T16:00+00:00"), {L23, "medicines_tto"}}};
	struct figures_barrier b1[] = {
	    {{L23, "transport"}, c0c, 1, at("2026-11-09T11:30+00:00"), 0, c0p, 1},
	};
	struct figures_span d0p[] = {{at("2026-11-09T12:00+00:00"), at("2026-11-10T10:00+00:00")}};
	struct figures_span d1p[] = {{at("2026-11-10T10:00+00:00"), 0}};
	struct figures_barrier b2[] = {
	    {{L23, "no_plan"}, NULL, 0, at("2026-11-09T12:00+00:00"), 0, d0p, 1},
	    {{L23, "safeguarding"}, NULL, 0, at("2026-11-09T12:00+00:00"), 0, d1p, 1},
	};
	struct figures_span e3p[] = {{at("2026-11-09T12:00+00:00"), 0}};
	struct figures_barrier b3[] = {
	    {{L23, "transport"}, NULL, 0, e3p[0].from, at("2026-11-11T00:00+00:00"), e3p, 1},
	};
	struct figures_stay w1[] = {{"W1", at("2026-11-01T09:00+00:00"), 0}};
	struct figures_list lists[] = {{L14, 0}, {L23, 0}};
	struct figures_episode e[4];
	struct figures_facts f = {e, 4, lists, 2, NULL, 0};
	struct figures_delays d = {0};

	lists[0].active_from = day("2014-04-01");
	lists[1].active_from = day("2023-04-01");
	e[0] = episode("E0", "2026-11-01T09:00+00:00", NULL, 0);
	SET(e[0], readiness, r0);
	SET(e[0], barriers, b0);
	e[1] = episode("E1", "2026-11-01T09:00+00:00", NULL, 0);
	SET(e[1], readiness, r0);
	SET(e[1], barriers, b1);
	e[2] = episode("E2", "2026-11-01T09:00+00:00", NULL, 0);
	SET(e[2], readiness, r2);
	SET(e[2], barriers, b2);
	e[3] = episode("E3", "2026-11-01T09:00+00:00", NULL, 0);
	SET(e[3], readiness, r0);
	SET(e[3], barriers, b3);
	for (int i = 0; i < 4; i++)
		SET(e[i], stays, w1);

	const struct day_expect dx[] = {
	    {"2026-11-08", 0, false, NULL, NULL, NULL},
	    {"2026-11-09", 0, true, "W1", L23, "p1_awaiting_care"},
	    {"2026-11-10", 0, true, "W1", L23, "p1_awaiting_care"},
	    {"2026-11-11", 0, true, "W1", L23, "equipment_adaptations"},
	    {"2026-11-12", 0, true, "W1", L23, "equipment_adaptations"},
	    {"2026-11-09", 1, true, "W1", L23, "transport"},
	    {"2026-11-10", 1, true, "W1", L23, "medicines_tto"},
	    {"2026-11-12", 1, true, "W1", L23, "medicines_tto"},
	    {"2026-11-08", 2, true, "W1", "", ""},
	    {"2026-11-09", 2, true, "W1", L23, "no_plan"},
	    {"2026-11-10", 2, true, "W1", L23, "safeguarding"},
	    {"2026-11-09", 3, true, "W1", L23, "transport"},
	    {"2026-11-10", 3, true, "W1", "", ""},
	};
	check_days(&f, dx, nitems(dx));
	/* an edit holds from its own instant: transport until 15:59:59, then medicines_tto */
	assert_string_equal(figures_barrier_reason_at(&b1[0], c0c[0].at - 1).key, "transport");
	assert_string_equal(figures_barrier_reason_at(&b1[0], c0c[0].at).key, "medicines_tto");

	const struct {
		const char *date, *key; /* key NULL = no reason recorded */
		int patients;
	} rows[] = {
	    {"2026-11-08", NULL, 1},
	    {"2026-11-09", "no_plan", 1},
	    {"2026-11-09", "p1_awaiting_care", 1},
	    {"2026-11-09", "transport", 2},
	    {"2026-11-10", NULL, 1},
	    {"2026-11-10", "medicines_tto", 1},
	    {"2026-11-10", "p1_awaiting_care", 1},
	    {"2026-11-10", "safeguarding", 1},
	    {"2026-11-11", NULL, 1},
	    {"2026-11-11", "equipment_adaptations", 1},
	    {"2026-11-11", "medicines_tto", 1},
	    {"2026-11-11", "safeguarding", 1},
	    {"2026-11-12", NULL, 1},
	    {"2026-11-12", "equipment_adaptations", 1},
	    {"2026-11-12", "medicines_tto", 1},
	    {"2026-11-12", "safeguarding", 1},
	};
	figures_delays_count(&f, day("2026-11-08"), day("2026-11-12"), &d);
	assert_int_equal(d.total, 17);
	assert_int_equal(d.nrows, nitems(rows));
	for (size_t i = 0; i < nitems(rows); i++) {
		const struct figures_delay_row *row = &d.rows[i];

		if (row->day != day(rows[i].date) || strcmp(row->ward, "W1") != 0 ||
		    strcmp(row->reason.list, rows[i].key != NULL ? L23 : "") != 0 ||
		    strcmp(row->reason.key, str(rows[i].key)) != 0 ||
		    row->patients != rows[i].patients)
			fail_msg("row %zu: %d %s %s/%s %d, want %s %s %d", i, row->day, row->ward,
			         row->reason.list, row->reason.key, row->patients, rows[i].date,
			         str(rows[i].key), rows[i].patients);
	}
	figures_delays_reset(&d);
}

/* ---- a transfer mid-delay ------------------------------------------------------------- */

/*
 * November 2026 (GMT), no barriers.
 *  E0: admitted Mon 16 Nov 08:00 to AMU, ready 16 Nov 10:00, moved to ELD on
 *      Wed 18 Nov 14:00, home Fri 20 Nov 10:00, pathway 2.
 *      16 Nov (snapshot 17T00:00): on AMU -> AMU
 *      17 Nov (18T00:00): AMU (moved later that day)
 *      18 Nov (19T00:00): ELD;  19 Nov: ELD;  20 Nov: left -> 4 days.
 *      DRD delay 20 - 16 = 4 (band 4-6), counted for ELD, the ward at discharge.
 *  E1: admitted 16 Nov 08:00 to AMU, ready 16 Nov 12:00, moved to ELD at
 *      exactly 17 Nov 00:00 = snapshot(16 Nov), home 18 Nov 09:00, pathway
 *      not recorded.  At the snapshot the stay on ELD has begun (a stay is
 *      [from, to)) -> 16 Nov counts for ELD; 17 Nov ELD; 2 days.
 *      DRD delay 18 - 16 = 2 (band 2-3).
 * DRD November by ward:
 *   AMU: no discharge; bed days E0's 16, 17 Nov -> 2.
 *   ELD: discharges E0 (4-6) and E1 (2-3) -> 2, delay_sum 4 + 2 = 6; bed days
 *        E0's 18, 19 + E1's 16, 17 -> 4.
 *   Trust: 2 discharges, delay_sum 6, bed days 6, average 3.0.
 */
static void test_transfer_mid_delay(void **state)
{
	struct figures_readiness r0[] = {{at("2026-11-16T10:00+00:00"), 0}};
	struct figures_readiness r1[] = {{at("2026-11-16T12:00+00:00"), 0}};
	struct figures_stay s0[] = {
	    {"AMU", at("2026-11-16T08:00+00:00"), at("2026-11-18T14:00+00:00")},
	    {"ELD", at("2026-11-18T14:00+00:00"), at("2026-11-20T10:00+00:00")},
	};
	struct figures_stay s1[] = {
	    /* any order */
	    {"ELD", at("2026-11-17T00:00+00:00"), 0},
	    {"AMU", at("2026-11-16T08:00+00:00"), at("2026-11-17T00:00+00:00")},
	};
	struct figures_episode e[2];
	struct figures_facts f = {e, 2, NULL, 0, NULL, 0};
	struct figures_drd_month m = {0};

	e[0] = episode("E0", "2026-11-16T08:00+00:00", "2026-11-20T10:00+00:00", 2);
	SET(e[0], readiness, r0);
	SET(e[0], stays, s0);
	e[1] = episode("E1", "2026-11-16T08:00+00:00", "2026-11-18T09:00+00:00",
	               FIGURES_PATHWAY_NOT_RECORDED);
	SET(e[1], readiness, r1);
	SET(e[1], stays, s1);

	const struct day_expect dx[] = {
	    {"2026-11-16", 0, true, "AMU", "", ""},     {"2026-11-17", 0, true, "AMU", "", ""},
	    {"2026-11-18", 0, true, "ELD", "", ""},     {"2026-11-19", 0, true, "ELD", "", ""},
	    {"2026-11-20", 0, false, NULL, NULL, NULL}, {"2026-11-16", 1, true, "ELD", "", ""},
	    {"2026-11-17", 1, true, "ELD", "", ""},     {"2026-11-18", 1, false, NULL, NULL, NULL},
	};
	check_days(&f, dx, nitems(dx));

	const struct drd_expect mx[] = {
	    {NULL, 2, 0, {0, 0, 1, 1, 0, 0, 0}, 6, 6},
	    {"AMU", 0, 0, {0, 0, 0, 0, 0, 0, 0}, 0, 2},
	    {"ELD", 2, 0, {0, 0, 1, 1, 0, 0, 0}, 6, 4},
	};
	check_drd(&f, 2026, 11, mx, nitems(mx));
	figures_drd_month(&f, 2026, 11, &m);
	assert_true(figures_drd_average(&m.trust) == 3.0);
	figures_drd_month_reset(&m);

	/* sitrep 18 Nov: E1 discharged (not recorded), E0 still in */
	const struct sitrep_expect sx[] = {{"2026-11-18", 1, 2, {0, 0, 0, 0, 1}, 1}};
	check_sitrep(&f, sx, nitems(sx));
}

/* ---- late-entered readiness and discharge ------------------------------------------- */

/*
 * Week of Monday 23 November 2026 (GMT), ward W1.  On Thursday 26 Nov a nurse
 * enters what happened earlier, each with its real instant:
 *  E0: NCTR decided Mon 23 Nov 15:00; barrier p1_awaiting_care opened (and
 *      primary) Mon 15:00; discharged Wed 25 Nov 11:00 on pathway 1.
 *  E1: NCTR decided Mon 23 Nov 15:00; its only barrier transport was raised
 *      on Tue 24 Nov 10:00 (the time it really was); discharged Tue 16:00, P0.
 * As known on Tuesday evening (before the entries), the history held only
 * the admissions: no delayed day, sitrep Mon NCTR 0.
 * As known on Thursday:
 *  E0: 23 Nov (24T00:00) p1_awaiting_care, 24 Nov p1_awaiting_care, 25 Nov
 *      left -> 2 days; DRD delay 25 - 23 = 2, the same 2 the daily figures
 *      give (the "record says 1, report says 0" cannot happen: both
 *      come from the same instants).
 *  E1: 23 Nov (24T00:00): no barrier was open at that snapshot -> "no reason
 *      recorded" (true then; a barrier entered with an earlier opened_at
 *      would give it one, as E0's does); 24 Nov left -> 1 day; DRD delay 1.
 * Sitrep Mon 23: NCTR at 24T00:00: E0, E1 -> 2; during 2; still 2.
 * Sitrep Tue 24: NCTR at 25T00:00: E0 -> 1; during: E0, E1 -> 2;
 *   discharged E1 (P0) -> [1,0,0,0,0]; still E0 -> 1.
 * Sitrep Wed 25: NCTR 0; during E0; discharged E0 (P1); still 0.
 */
static void test_late_entered_readiness_and_discharge(void **state)
{
	struct figures_readiness r[] = {{at("2026-11-23T15:00+00:00"), 0}};
	struct figures_span b0p[] = {{at("2026-11-23T15:00+00:00"), 0}};
	struct figures_barrier b0[] = {
	    {{L23, "p1_awaiting_care"}, NULL, 0, at("2026-11-23T15:00+00:00"), 0, b0p, 1}};
	struct figures_span b1p[] = {{at("2026-11-24T10:00+00:00"), 0}};
	struct figures_barrier b1[] = {
	    {{L23, "transport"}, NULL, 0, at("2026-11-24T10:00+00:00"), 0, b1p, 1}};
	struct figures_stay w1[] = {{"W1", at("2026-11-20T09:00+00:00"), 0}};
	struct figures_episode before[2], e[2];
	struct figures_facts fb = {before, 2, NULL, 0, NULL, 0};
	struct figures_facts f = {e, 2, NULL, 0, NULL, 0};
	int days = -1;

	for (int i = 0; i < 2; i++) {
		before[i] = episode(i == 0 ? "E0" : "E1", "2026-11-20T09:00+00:00", NULL, 0);
		SET(before[i], stays, w1);
	}
	e[0] = episode("E0", "2026-11-20T09:00+00:00", "2026-11-25T11:00+00:00", 1);
	e[1] = episode("E1", "2026-11-20T09:00+00:00", "2026-11-24T16:00+00:00", 0);
	for (int i = 0; i < 2; i++) {
		SET(e[i], stays, w1);
		SET(e[i], readiness, r);
	}
	SET(e[0], barriers, b0);
	SET(e[1], barriers, b1);

	const struct day_expect bx[] = {
	    {"2026-11-23", 0, false, NULL, NULL, NULL},
	    {"2026-11-23", 1, false, NULL, NULL, NULL},
	};
	check_days(&fb, bx, nitems(bx));
	const struct sitrep_expect bsx[] = {{"2026-11-23", 0, 0, {0, 0, 0, 0, 0}, 0}};
	check_sitrep(&fb, bsx, nitems(bsx));

	const struct day_expect dx[] = {
	    {"2026-11-23", 0, true, "W1", L23, "p1_awaiting_care"},
	    {"2026-11-24", 0, true, "W1", L23, "p1_awaiting_care"},
	    {"2026-11-25", 0, false, NULL, NULL, NULL},
	    {"2026-11-23", 1, true, "W1", "", ""},
	    {"2026-11-24", 1, false, NULL, NULL, NULL},
	};
	check_days(&f, dx, nitems(dx));
	assert_true(figures_drd_delay(&e[0], &days, NULL));
	assert_int_equal(days, 2);
	assert_true(figures_drd_delay(&e[1], &days, NULL));
	assert_int_equal(days, 1);

	const struct sitrep_expect sx[] = {
	    {"2026-11-23", 2, 2, {0, 0, 0, 0, 0}, 2},
	    {"2026-11-24", 1, 2, {1, 0, 0, 0, 0}, 1},
	    {"2026-11-25", 0, 1, {0, 1, 0, 0, 0}, 0},
	};
	check_sitrep(&f, sx, nitems(sx));
}

/* ---- discharge exactly at midnight ------------------------------------------------------ */

/*
 * A discharge at exactly the snapshot instant: discharged_at > snapshot(D)
 * fails, so D is not a delayed day, and the discharge is dated D (the date
 * that midnight ends), not D + 1.
 *  E0 (GMT): ready Mon 23 Nov 2026 10:00, home Wed 25 Nov 00:00 = 25T00:00Z
 *      = snapshot(24 Nov).  23 Nov (24T00:00) counts; 24 Nov: discharged_at
 *      == snapshot -> no.  1 day.  Discharge dated 24 Nov; DRD delay 24 - 23
 *      = 1 (band 1).  Pathway 3.
 *  E1 (GMT): same but home 25 Nov 00:00:01: 23 and 24 Nov count -> 2 days,
 *      dated 25 Nov, DRD delay 2.
 *  E2 (BST): ready Wed 1 Jul 2026 10:00 BST, home Thu 2 Jul 00:00 BST =
 *      1T23:00Z = snapshot(1 Jul): 0 days, dated 1 Jul, DRD delay 0 ->
 *      discharged on its DRD.
 * Sitrep 24 Nov (window (24T00:00Z, 25T00:00Z]): NCTR at 25T00:00Z: E1 only
 *   (E0 left at that instant) -> 1; during: E0, E1 -> 2; discharged: E0 on
 *   P3 -> [0,0,0,1,0]; still: E1.
 * Sitrep 25 Nov (window (25T00:00Z, 26T00:00Z]): E0 left at 25T00:00Z, before
 *   the window -> not counted again; E1 discharged (P1) -> during 1.
 * Sitrep 1 Jul: during E2 (NCTR from 10:00), discharged P0, NCTR at snapshot 0.
 */
static void test_discharge_at_midnight(void **state)
{
	struct figures_readiness r0[] = {{at("2026-11-23T10:00+00:00"), 0}};
	struct figures_readiness r2[] = {{at("2026-07-01T10:00+01:00"), 0}};
	struct figures_stay w1[] = {{"W1", at("2026-01-01T00:00+00:00"), 0}};
	struct figures_episode e[3];
	struct figures_facts f = {e, 3, NULL, 0, NULL, 0};
	int days = -1;

	e[0] = episode("E0", "2026-11-20T09:00+00:00", "2026-11-25T00:00:00+00:00", 3);
	e[1] = episode("E1", "2026-11-20T09:00+00:00", "2026-11-25T00:00:01+00:00", 1);
	e[2] = episode("E2", "2026-06-30T09:00+01:00", "2026-07-02T00:00:00+01:00", 0);
	SET(e[0], readiness, r0);
	SET(e[1], readiness, r0);
	SET(e[2], readiness, r2);
	for (int i = 0; i < 3; i++)
		SET(e[i], stays, w1);

	const struct day_expect dx[] = {
	    {"2026-11-23", 0, true, "W1", "", ""},      {"2026-11-24", 0, false, NULL, NULL, NULL},
	    {"2026-11-23", 1, true, "W1", "", ""},      {"2026-11-24", 1, true, "W1", "", ""},
	    {"2026-11-25", 1, false, NULL, NULL, NULL}, {"2026-07-01", 2, false, NULL, NULL, NULL},
	};
	check_days(&f, dx, nitems(dx));

	assert_int_equal(figures_date_of(e[0].discharged_at), day("2026-11-24"));
	assert_int_equal(figures_date_of(e[1].discharged_at), day("2026-11-25"));
	assert_int_equal(figures_date_of(e[2].discharged_at), day("2026-07-01"));
	assert_true(figures_drd_delay(&e[0], &days, NULL));
	assert_int_equal(days, 1);
	assert_int_equal(figures_band(days), 1);
	assert_true(figures_drd_delay(&e[1], &days, NULL));
	assert_int_equal(days, 2);
	assert_true(figures_drd_delay(&e[2], &days, NULL));
	assert_int_equal(days, 0);

	const struct sitrep_expect sx[] = {
	    {"2026-11-24", 1, 2, {0, 0, 0, 1, 0}, 1},
	    {"2026-11-25", 0, 1, {0, 1, 0, 0, 0}, 0},
	    {"2026-07-01", 0, 1, {1, 0, 0, 0, 0}, 0},
	};
	check_sitrep(&f, sx, nitems(sx));
}

/* ---- month boundaries for the DRD bands ------------------------------------------------- */

/*
 * February to April 2026 (BST from 29 March), one ward W1.  DRD delay =
 * date_of(discharge) - date_of(DRD); bed days by the daily rule.
 *  E0: ready 30 Mar 10:00 BST, home 1 Apr 00:00 BST (31T23:00Z = snapshot(31
 *      Mar)): dated 31 Mar -> a March discharge, delay 31 - 30 = 1 (band 1);
 *      bed days: 30 Mar only (1).
 *  E1: ready 31 Mar 22:00 BST, home 1 Apr 00:00:01 BST: dated 1 Apr -> April,
 *      delay 1 - 31 Mar = 1 (band 1); bed day 31 Mar (March), none in April.
 *  E2: ready 20 Feb 12:00, home 13 Mar 09:00: delay 13 Mar - 20 Feb =
 *      8 (to 28 Feb) + 13 = 21, the snapshots of 20 Feb .. 12 Mar, that is
 *      9 (20-28 Feb) + 12 (1-12 Mar) -> band 21+; bed days Feb 9, Mar 12.
 *  E3: ready at exactly 1 Mar 00:00 GMT = snapshot(28 Feb): dated 28 Feb;
 *      home 14 Mar 10:00: delay 14 Mar - 28 Feb = 14 (band 14-20);
 *      bed days Feb 1 (28 Feb), Mar 13 (1..13 Mar).
 *  E4: no readiness, home 15 Mar 12:00: "no DRD", never band 0.
 *  E5: ready 1 Mar 10:00, home 21 Mar 10:00: delay 20 (band 14-20, its top);
 *      bed days 1..20 Mar = 20.
 *  E6: ready 2 Mar 10:00, home 15 Mar 10:00: delay 13 (band 7-13, its top);
 *      bed days 2..14 Mar = 13.
 *  E7: ready 10 Mar 10:00, home 17 Mar 10:00: delay 7 (band 7-13); bed days 7.
 *  E8: ready 20 Mar 10:00, home 26 Mar 10:00: delay 6 (band 4-6); bed days 6.
 *  E9: ready 27 Mar 10:00 GMT, home 30 Mar 10:00 BST: delay 3 (band 2-3);
 *      bed days 27, 28, 29 Mar = 3 (29 Mar's snapshot is 29T23:00Z).
 *  E10: ready 5 Mar 09:00, home 5 Mar 17:00: delay 0 (band 0).
 * March: discharges E0 E2 E3 E4 E5 E6 E7 E8 E9 E10 = 10, no_drd 1 (E4);
 *   bands 0: E10; 1: E0; 2-3: E9; 4-6: E8; 7-13: E6 E7; 14-20: E3 E5; 21+: E2
 *   -> {1,1,1,1,2,2,1} (9 with a DRD);
 *   delay_sum = 0+1+3+6+13+7+14+20+21 = 85; average 85 / 9;
 *   on their DRD 1 / 9;
 *   bed days = E0 1 + E1 1 + E2 12 + E3 13 + E5 20 + E6 13 + E7 7 + E8 6 +
 *   E9 3 = 76.
 * April: E1 only -> band 1, delay_sum 1, bed days 0.
 * February: no discharge; bed days E2 9 + E3 1 = 10.
 */
static void test_drd_month_boundaries(void **state)
{
	struct figures_readiness r[11][1] = {
	    {{at("2026-03-30T10:00+01:00"), 0}},
	    {{at("2026-03-31T22:00+01:00"), 0}},
	    {{at("2026-02-20T12:00+00:00"), 0}},
	    {{at("2026-03-01T00:00+00:00"), 0}},
	    {{0, 0}},
	    {{at("2026-03-01T10:00+00:00"), 0}},
	    {{at("2026-03-02T10:00+00:00"), 0}},
	    {{at("2026-03-10T10:00+00:00"), 0}},
	    {{at("2026-03-20T10:00+00:00"), 0}},
	    {{at("2026-03-27T10:00+00:00"), 0}},
	    {{at("2026-03-05T09:00+00:00"), 0}},
	};
	const char *home[11] = {
	    "2026-04-01T00:00:00+01:00", "2026-04-01T00:00:01+01:00", "2026-03-13T09:00+00:00",
	    "2026-03-14T10:00+00:00",    "2026-03-15T12:00+00:00",    "2026-03-21T10:00+00:00",
	    "2026-03-15T10:00+00:00",    "2026-03-17T10:00+00:00",    "2026-03-26T10:00+00:00",
	    "2026-03-30T10:00+01:00",    "2026-03-05T17:00+00:00",
	};
	const char *ids[11] = {"E0", "E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9", "E10"};
	struct figures_stay w1[] = {{"W1", at("2026-02-01T08:00+00:00"), 0}};
	struct figures_episode e[11];
	struct figures_facts f = {e, 11, NULL, 0, NULL, 0};
	struct figures_drd_month m = {0};
	const int want_delay[11] = {1, 1, 21, 14, -1, 20, 13, 7, 6, 3, 0};

	for (int i = 0; i < 11; i++) {
		int days = -1;

		e[i] = episode(ids[i], "2026-02-01T08:00+00:00", home[i], 1);
		SET(e[i], stays, w1);
		if (i != 4)
			SET(e[i], readiness, r[i]);
		if (figures_drd_delay(&e[i], &days, NULL) != (want_delay[i] >= 0) ||
		    days != want_delay[i])
			fail_msg("%s: DRD delay %d, want %d", ids[i], days, want_delay[i]);
	}

	const struct drd_expect march[] = {
	    {NULL, 10, 1, {1, 1, 1, 1, 2, 2, 1}, 85, 76},
	    {"W1", 10, 1, {1, 1, 1, 1, 2, 2, 1}, 85, 76},
	};
	check_drd(&f, 2026, 3, march, nitems(march));
	const struct drd_expect april[] = {{NULL, 1, 0, {0, 1, 0, 0, 0, 0, 0}, 1, 0}};
	check_drd(&f, 2026, 4, april, nitems(april));
	const struct drd_expect february[] = {{NULL, 0, 0, {0, 0, 0, 0, 0, 0, 0}, 0, 10}};
	check_drd(&f, 2026, 2, february, nitems(february));

	figures_drd_month(&f, 2026, 3, &m);
	assert_int_equal(m.first_day, day("2026-03-01"));
	assert_int_equal(m.last_day, day("2026-03-31"));
	assert_true(figures_drd_average(&m.trust) == 85.0 / 9);
	assert_true(figures_drd_on_time_share(&m.trust) == 1.0 / 9);
	figures_drd_month_reset(&m);
	figures_drd_month(&f, 2026, 12, &m); /* December: the year's end */
	assert_int_equal(m.last_day, day("2026-12-31"));
	assert_int_equal(m.trust.discharges, 0);
	figures_drd_month_reset(&m);

	/* band edges */
	const int edges[][2] = {{0, 0}, {1, 1},  {2, 2},  {3, 2},  {4, 3},  {6, 3},
	                        {7, 4}, {13, 4}, {14, 5}, {20, 5}, {21, 6}, {400, 6}};
	for (size_t i = 0; i < nitems(edges); i++)
		assert_int_equal(figures_band(edges[i][0]), edges[i][1]);
}

/* ---- an old dtoc-2014 delay in a report ---------------------------------------------------- */

/*
 * Lists: dtoc-2014 in force from 2014-04-01, nhse-acute-2023 from
 * 2023-04-01.  Mappings (the 2023 list's older_list/older_key):
 * dtoc-2014/E -> p1_awaiting_care, dtoc-2014/F -> equipment_adaptations;
 * dtoc-2014/B (public funding) has no successor.
 *  E0, migrated from the old model: ready 30 Mar 2023 10:00 BST, one barrier
 *      dtoc-2014/E primary from then, home 3 Apr 2023 10:00 BST, pathway 1.
 *      30, 31 Mar 2023: dtoc-2014 in force -> dtoc-2014/E as recorded;
 *      1, 2 Apr 2023: nhse-acute-2023 in force -> E maps to p1_awaiting_care;
 *      3 Apr: left.  4 days; DRD delay 3 Apr - 30 Mar = 4 (band 4-6).
 *  E1: admitted 10 Nov 2026 09:00, ready 23 Nov 10:00, barrier dtoc-2014/B
 *      (an old row), still in.
 *  E2: admitted 1 Nov 2026 09:00, ready 20 Nov 10:00, barrier dtoc-2014/E.
 *  E3: admitted 25 Nov 2026 09:00, ready 26 Nov 10:00, barrier
 *      nhse-acute-2023/p1_awaiting_care.
 * Weekly sitrep, week ending Sun 29 Nov 2026 (snapshot 30T00:00Z, so LoS =
 * 30 Nov - admission date):
 *   E1: B has no successor -> reported as dtoc-2014/B; LoS 30 - 10 = 20
 *       -> 7+ and 14+, not 21+.
 *   E2: E -> p1_awaiting_care; LoS 30 Nov - 1 Nov = 29 -> 7+, 14+, 21+.
 *   E3: p1_awaiting_care; LoS 30 - 25 = 5.
 *   Rows (by list, key): dtoc-2014/B {1, 1, 1, 0};
 *   nhse-acute-2023/p1_awaiting_care {2, 1, 1, 1}; total {3, 2, 2, 1}.
 * Delays 30 Mar .. 2 Apr 2023: dtoc-2014/E 1, dtoc-2014/E 1, p1 1, p1 1.
 * DRD April 2023: one discharge, band 4-6, delay_sum 4, bed days 1, 2 Apr = 2.
 */
static void test_old_dtoc_2014_delay(void **state)
{
	struct figures_list lists[] = {{L14, 0}, {L23, 0}};
	struct figures_mapping maps[] = {
	    {{L14, "F"}, {L23, "equipment_adaptations"}},
	    {{L14, "E"}, {L23, "p1_awaiting_care"}},
	};
	struct figures_readiness r[4][1] = {
	    {{at("2023-03-30T10:00+01:00"), 0}},
	    {{at("2026-11-23T10:00+00:00"), 0}},
	    {{at("2026-11-20T10:00+00:00"), 0}},
	    {{at("2026-11-26T10:00+00:00"), 0}},
	};
	struct figures_span p[4][1] = {
	    {{at("2023-03-30T10:00+01:00"), 0}},
	    {{at("2026-11-23T10:00+00:00"), 0}},
	    {{at("2026-11-20T10:00+00:00"), 0}},
	    {{at("2026-11-26T10:00+00:00"), 0}},
	};
	struct figures_barrier b[4][1] = {
	    {{{L14, "E"}, NULL, 0, p[0][0].from, 0, p[0], 1}},
	    {{{L14, "B"}, NULL, 0, p[1][0].from, 0, p[1], 1}},
	    {{{L14, "E"}, NULL, 0, p[2][0].from, 0, p[2], 1}},
	    {{{L23, "p1_awaiting_care"}, NULL, 0, p[3][0].from, 0, p[3], 1}},
	};
	struct figures_stay w1[] = {{"W1", at("2023-01-01T00:00+00:00"), 0}};
	struct figures_episode e[4];
	struct figures_facts f = {e, 4, lists, 2, maps, 2};
	struct figures_sitrep_week w = {0};
	struct figures_delays d = {0};
	int days = -1;

	lists[0].active_from = day("2014-04-01");
	lists[1].active_from = day("2023-04-01");
	e[0] = episode("E0", "2023-03-28T09:00+01:00", "2023-04-03T10:00+01:00", 1);
	e[1] = episode("E1", "2026-11-10T09:00+00:00", NULL, 0);
	e[2] = episode("E2", "2026-11-01T09:00+00:00", NULL, 0);
	e[3] = episode("E3", "2026-11-25T09:00+00:00", NULL, 0);
	for (int i = 0; i < 4; i++) {
		SET(e[i], readiness, r[i]);
		SET(e[i], barriers, b[i]);
		SET(e[i], stays, w1);
	}

	assert_string_equal(figures_list_in_force(&f, day("2023-03-31")), L14);
	assert_string_equal(figures_list_in_force(&f, day("2023-04-01")), L23);
	assert_null(figures_list_in_force(&f, day("2014-03-31")));

	const struct day_expect dx[] = {
	    {"2023-03-30", 0, true, "W1", L14, "E"},
	    {"2023-03-31", 0, true, "W1", L14, "E"},
	    {"2023-04-01", 0, true, "W1", L23, "p1_awaiting_care"},
	    {"2023-04-02", 0, true, "W1", L23, "p1_awaiting_care"},
	    {"2023-04-03", 0, false, NULL, NULL, NULL},
	    {"2026-11-29", 1, true, "W1", L14, "B"},
	    {"2026-11-29", 2, true, "W1", L23, "p1_awaiting_care"},
	};
	check_days(&f, dx, nitems(dx));
	assert_true(figures_drd_delay(&e[0], &days, NULL));
	assert_int_equal(days, 4);

	figures_delays_count(&f, day("2023-03-30"), day("2023-04-02"), &d);
	assert_int_equal(d.total, 4);
	assert_int_equal(d.nrows, 4);
	assert_string_equal(d.rows[0].reason.list, L14);
	assert_string_equal(d.rows[0].reason.key, "E");
	assert_string_equal(d.rows[1].reason.key, "E");
	assert_string_equal(d.rows[2].reason.list, L23);
	assert_string_equal(d.rows[2].reason.key, "p1_awaiting_care");
	assert_int_equal(d.rows[3].day, day("2023-04-02"));
	figures_delays_reset(&d);

	figures_sitrep_week(&f, day("2026-11-29"), &w);
	assert_int_equal(w.total.patients, 3);
	assert_int_equal(w.total.los7, 2);
	assert_int_equal(w.total.los14, 2);
	assert_int_equal(w.total.los21, 1);
	assert_int_equal(w.nrows, 2);
	assert_string_equal(w.rows[0].reason.list, L14);
	assert_string_equal(w.rows[0].reason.key, "B");
	assert_int_equal(w.rows[0].patients, 1);
	assert_int_equal(w.rows[0].los7, 1);
	assert_int_equal(w.rows[0].los14, 1);
	assert_int_equal(w.rows[0].los21, 0);
	assert_string_equal(w.rows[1].reason.list, L23);
	assert_string_equal(w.rows[1].reason.key, "p1_awaiting_care");
	assert_int_equal(w.rows[1].patients, 2);
	assert_int_equal(w.rows[1].los7, 1);
	assert_int_equal(w.rows[1].los14, 1);
	assert_int_equal(w.rows[1].los21, 1);
	figures_sitrep_week_reset(&w);

	const struct drd_expect apr[] = {{NULL, 1, 0, {0, 0, 0, 1, 0, 0, 0}, 4, 2}};
	check_drd(&f, 2023, 4, apr, nitems(apr));

	/* A later list (say "nhse-acute-2025", from 2025-04-01, whose "p1_care"
	 * replaces p1_awaiting_care): dtoc-2014/E is reported as
	 * nhse-acute-2025/p1_care on a 2026 date (two mapping steps), as
	 * nhse-acute-2023/p1_awaiting_care on a 2024 date (one step), and as
	 * itself on a 2020 date; dtoc-2014/B stays as recorded. */
	struct figures_list lists3[] = {{L14, lists[0].active_from},
	                                {L23, lists[1].active_from},
	                                {"nhse-acute-2025", day("2025-04-01")}};
	struct figures_mapping maps3[] = {
	    {{L14, "E"}, {L23, "p1_awaiting_care"}},
	    {{L23, "p1_awaiting_care"}, {"nhse-acute-2025", "p1_care"}},
	};
	struct figures_facts f3 = {NULL, 0, lists3, 3, maps3, 2};
	struct figures_reason old_e = {L14, "E"}, old_b = {L14, "B"}, none = {NULL, NULL};

	assert_string_equal(figures_reason_on(&f3, old_e, day("2026-11-29")).key, "p1_care");
	assert_string_equal(figures_reason_on(&f3, old_e, day("2024-06-01")).list, L23);
	assert_string_equal(figures_reason_on(&f3, old_e, day("2020-06-01")).key, "E");
	assert_string_equal(figures_reason_on(&f3, old_b, day("2026-11-29")).list, L14);
	assert_string_equal(figures_reason_on(&f3, none, day("2026-11-29")).list, "");
}

/* ---- long stays ---------------------------------------------------------------------------- */

/*
 * At Sunday 29 Nov 2026 12:00 GMT (LoS = 29 Nov - admission date: the
 * midnights spent in hospital).  Lists as in the dtoc-2014 case.
 *  E0: admitted 1 Nov 09:00 on W1, NCTR since 20 Nov 10:00, barrier
 *      dtoc-2014/E -> LoS 28 (21+), NCTR, reported p1_awaiting_care.
 *  E1: admitted 5 Nov 09:00 on W2, not NCTR, barrier therapy_decision raised
 *      at admission (barriers may be recorded before NCTR) -> LoS 24 (21+).
 *  E2: admitted 22 Nov 08:00 on W1: LoS 7 (22..28 Nov) -> stranded 7+.
 *  E3: admitted 22 Nov 13:00 on W1 and still in: LoS 29 - 22 = 7 too
 *      (admitted before the snapshot of 22 Nov).
 *  E4: admitted 23 Nov 00:00 exactly (= snapshot(22 Nov), so that midnight
 *      counts: in the bed at it) -> 29 - 22 = 7.  E5: admitted 23 Nov 00:00:01
 *      -> 6, not listed.
 *  E6: admitted 1 Nov, discharged 28 Nov: not an inpatient -> not listed.
 *  E7: NCTR reversed 25 Nov: admitted 10 Nov on W2, ready 15 Nov, reversed
 *      25 Nov -> LoS 19 (7+, 14+), not NCTR, no barrier.
 * Rows, longest first: E0 28, E1 24, E7 19, then E2, E3, E4 at 7 (by id).
 * Counts: 7+: 6; 14+: 3 (E0, E1, E7); 21+: 2 (E0, E1).
 */
static void test_long_stay(void **state)
{
	struct figures_list lists[] = {{L14, 0}, {L23, 0}};
	struct figures_mapping maps[] = {{{L14, "E"}, {L23, "p1_awaiting_care"}}};
	struct figures_readiness r0[] = {{at("2026-11-20T10:00+00:00"), 0}};
	struct figures_readiness r7[] = {
	    {at("2026-11-15T10:00+00:00"), at("2026-11-25T10:00+00:00")}};
	struct figures_span p0[] = {{at("2026-11-20T10:00+00:00"), 0}};
	struct figures_span p1[] = {{at("2026-11-05T09:00+00:00"), 0}};
	struct figures_barrier b0[] = {{{L14, "E"}, NULL, 0, p0[0].from, 0, p0, 1}};
	struct figures_barrier b1[] = {{{L23, "therapy_decision"}, NULL, 0, p1[0].from, 0, p1, 1}};
	struct figures_stay w1[] = {{"W1", at("2026-11-01T00:00+00:00"), 0}};
	struct figures_stay w2[] = {{"W2", at("2026-11-01T00:00+00:00"), 0}};
	struct figures_episode e[8];
	struct figures_facts f = {e, 8, lists, 2, maps, 1};
	struct figures_long_stay l = {0};
	const struct {
		const char *id, *ward;
		int los;
		bool nctr;
		const char *list, *key;
	} want[] = {
	    {"E0", "W1", 28, true, L23, "p1_awaiting_care"},
	    {"E1", "W2", 24, false, L23, "therapy_decision"},
	    {"E7", "W2", 19, false, "", ""},
	    {"E2", "W1", 7, false, "", ""},
	    {"E3", "W1", 7, false, "", ""},
	    {"E4", "W1", 7, false, "", ""},
	};

	lists[0].active_from = day("2014-04-01");
	lists[1].active_from = day("2023-04-01");
	e[0] = episode("E0", "2026-11-01T09:00+00:00", NULL, 0);
	SET(e[0], readiness, r0);
	SET(e[0], barriers, b0);
	SET(e[0], stays, w1);
	e[1] = episode("E1", "2026-11-05T09:00+00:00", NULL, 0);
	SET(e[1], barriers, b1);
	SET(e[1], stays, w2);
	e[2] = episode("E2", "2026-11-22T08:00+00:00", NULL, 0);
	e[3] = episode("E3", "2026-11-22T13:00+00:00", NULL, 0);
	e[4] = episode("E4", "2026-11-23T00:00:00+00:00", NULL, 0);
	e[5] = episode("E5", "2026-11-23T00:00:01+00:00", NULL, 0);
	e[6] = episode("E6", "2026-11-01T09:00+00:00", "2026-11-28T10:00+00:00", 0);
	for (int i = 2; i <= 6; i++)
		SET(e[i], stays, w1);
	e[7] = episode("E7", "2026-11-10T09:00+00:00", NULL, 0);
	SET(e[7], readiness, r7);
	SET(e[7], stays, w2);

	figures_long_stay(&f, at("2026-11-29T12:00+00:00"), &l);
	assert_int_equal(l.los7, 6);
	assert_int_equal(l.los14, 3);
	assert_int_equal(l.los21, 2);
	assert_int_equal(l.nrows, nitems(want));
	for (size_t i = 0; i < nitems(want); i++) {
		const struct figures_long_stay_row *row = &l.rows[i];

		if (strcmp(row->episode_id, want[i].id) != 0 ||
		    strcmp(row->ward, want[i].ward) != 0 || row->los != want[i].los ||
		    row->nctr != want[i].nctr || strcmp(row->reported.list, want[i].list) != 0 ||
		    strcmp(row->reported.key, want[i].key) != 0)
			fail_msg("row %zu: %s %s %d %d %s/%s, want %s", i, row->episode_id,
			         row->ward, row->los, row->nctr, row->reported.list,
			         row->reported.key, want[i].id);
	}
	assert_int_equal(l.rows[0].ready_at, at("2026-11-20T10:00+00:00"));
	assert_string_equal(l.rows[0].recorded.list, L14);
	assert_string_equal(l.rows[0].recorded.key, "E");
	assert_int_equal(l.rows[2].ready_at, 0);
	figures_long_stay_reset(&l);
	figures_long_stay_reset(&l); /* safe twice */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_domain_examples),
	    cmocka_unit_test(test_dst_nights),
	    cmocka_unit_test(test_nctr_reversed_and_declared_again),
	    cmocka_unit_test(test_reason_changed_mid_delay),
	    cmocka_unit_test(test_transfer_mid_delay),
	    cmocka_unit_test(test_late_entered_readiness_and_discharge),
	    cmocka_unit_test(test_discharge_at_midnight),
	    cmocka_unit_test(test_drd_month_boundaries),
	    cmocka_unit_test(test_old_dtoc_2014_delay),
	    cmocka_unit_test(test_long_stay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

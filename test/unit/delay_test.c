/*
 * delay_test.c - unit tests for lib/delay: the midnight-snapshot delay count
 * of DOMAIN.md ("Readiness and delay") and the DToC reason codes.
 *
 * The rule: the snapshot of date D is the London midnight that ends D
 * (00:00Z of D+1 on GMT dates, 23:00Z of D on BST dates); D is a delayed day
 * when ready_at <= snapshot(D) and neither left_at nor withdrawn_at is at or
 * before snapshot(D).  Every expected figure below is derived from that rule
 * by hand in its comment; instants are written in UTC ("Z") with the London
 * wall time beside them where it differs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cbtime.h"
#include "delay.h"
#include "status.h"

#define MAX_PERIODS 3

/* An instant given in UTC.  cbtime_test covers date_from_ymd. */
static int64_t utc(int y, int m, int d, int h, int mi)
{
	return (int64_t)date_from_ymd(y, m, d) * 86400 + h * 3600 + mi * 60;
}

static int32_t day_of(int y, int m, int d)
{
	return date_from_ymd(y, m, d);
}

struct days_case {
	const char *name;
	struct readiness periods[MAX_PERIODS];
	size_t n;
	int32_t from, to; /* inclusive date range */
	int days;         /* expected delay_days */
};

/* delay_days must equal the rule applied date by date with delay_counts_on. */
static int days_by_rule(const struct days_case *c)
{
	int days = 0;

	for (int32_t d = c->from; d <= c->to; d++) {
		for (size_t i = 0; i < c->n; i++) {
			if (delay_counts_on(&c->periods[i], d)) {
				days++;
				break;
			}
		}
	}
	return days;
}

static void test_delay_days(void **state)
{
	const struct days_case cases[] = {
	    /* Ready 10:00, discharged 18:00 the same day (GMT): snapshot(23 Nov) =
	     * 2026-11-24T00:00Z is after the discharge, snapshot(22 Nov) =
	     * 2026-11-23T00:00Z is before readiness -> 0. */
	    {"same day",
	     {{utc(2026, 11, 23, 10, 0), 0, utc(2026, 11, 23, 18, 0)}},
	     1,
	     day_of(2026, 11, 20),
	     day_of(2026, 11, 30),
	     0},
	    /* DOMAIN.md's example: ready Monday 23 Nov 15:00 GMT, discharged
	     * Wednesday 25 Nov 11:00 GMT.  snapshot(Mon) = 24T00:00Z counts,
	     * snapshot(Tue) = 25T00:00Z counts, snapshot(Wed) = 26T00:00Z is after
	     * the discharge -> 2 (Monday's and Tuesday's midnights). */
	    {"monday to wednesday, GMT",
	     {{utc(2026, 11, 23, 15, 0), 0, utc(2026, 11, 25, 11, 0)}},
	     1,
	     day_of(2026, 11, 20),
	     day_of(2026, 11, 30),
	     2},
	    /* The same in summer: ready Monday 6 Jul 15:00 BST = 14:00Z, left
	     * Wednesday 8 Jul 11:00 BST = 10:00Z.  snapshot(6 Jul) = 6T23:00Z and
	     * snapshot(7 Jul) = 7T23:00Z count; snapshot(8 Jul) = 8T23:00Z is
	     * after -> 2. */
	    {"monday to wednesday, BST",
	     {{utc(2026, 7, 6, 14, 0), 0, utc(2026, 7, 8, 10, 0)}},
	     1,
	     day_of(2026, 7, 1),
	     day_of(2026, 7, 31),
	     2},
	    /* Ready 23:30 GMT on 23 Nov, left 00:30 on 24 Nov: snapshot(23 Nov) =
	     * 24T00:00Z lies between -> 1. */
	    {"ready before midnight, left after, GMT",
	     {{utc(2026, 11, 23, 23, 30), 0, utc(2026, 11, 24, 0, 30)}},
	     1,
	     day_of(2026, 11, 20),
	     day_of(2026, 11, 30),
	     1},
	    /* Ready 1 Jul 22:30Z = 23:30 BST, left 1 Jul 23:30Z = 00:30 BST on
	     * 2 Jul: snapshot(1 Jul) = 1T23:00Z lies between -> 1. */
	    {"ready before midnight, left after, BST",
	     {{utc(2026, 7, 1, 22, 30), 0, utc(2026, 7, 1, 23, 30)}},
	     1,
	     day_of(2026, 6, 28),
	     day_of(2026, 7, 5),
	     1},
	    /* Ready 1 Jul 23:30Z = 00:30 BST on 2 Jul, left 2 Jul 06:00Z: UTC
	     * midnight 2T00:00Z falls between but is no snapshot; snapshot(1 Jul)
	     * = 1T23:00Z is before readiness and snapshot(2 Jul) = 2T23:00Z after
	     * the discharge -> 0. */
	    {"utc midnight is not a snapshot in BST",
	     {{utc(2026, 7, 1, 23, 30), 0, utc(2026, 7, 2, 6, 0)}},
	     1,
	     day_of(2026, 6, 28),
	     day_of(2026, 7, 5),
	     0},
	    /* Ready at exactly snapshot(23 Nov) = 24T00:00Z, left 24 Nov 10:00:
	     * ready_at <= snapshot(23 Nov) and left after it -> 23 Nov counts; 24
	     * Nov's snapshot is after the discharge -> 1. */
	    {"ready exactly at a snapshot",
	     {{utc(2026, 11, 24, 0, 0), 0, utc(2026, 11, 24, 10, 0)}},
	     1,
	     day_of(2026, 11, 20),
	     day_of(2026, 11, 30),
	     1},
	    /* Ready 23 Nov 10:00, left at exactly snapshot(23 Nov) = 24T00:00Z:
	     * left_at > snapshot fails -> 0. */
	    {"left exactly at a snapshot",
	     {{utc(2026, 11, 23, 10, 0), 0, utc(2026, 11, 24, 0, 0)}},
	     1,
	     day_of(2026, 11, 20),
	     day_of(2026, 11, 30),
	     0},
	    /* One second later, 24T00:00:01Z > snapshot(23 Nov) -> 1. */
	    {"left a second after a snapshot",
	     {{utc(2026, 11, 23, 10, 0), 0, utc(2026, 11, 24, 0, 0) + 1}},
	     1,
	     day_of(2026, 11, 20),
	     day_of(2026, 11, 30),
	     1},
	    /* Ready 23 Nov 10:00, withdrawn at exactly 24T00:00Z = snapshot(23
	     * Nov) -> not counted -> 0. */
	    {"withdrawn exactly at a snapshot",
	     {{utc(2026, 11, 23, 10, 0), utc(2026, 11, 24, 0, 0), 0}},
	     1,
	     day_of(2026, 11, 20),
	     day_of(2026, 11, 30),
	     0},
	    /* Ready Mon 23 Nov 10:00, withdrawn Tue 24 Nov 12:00; ready again Wed
	     * 25 Nov 09:00, left Fri 27 Nov 11:00.
	     *   23 Nov, snapshot 24T00:00Z: period 1 (withdrawn later) -> counts
	     *   24 Nov, snapshot 25T00:00Z: period 1 withdrawn before, period 2
	     *           not ready yet -> the gap night, not counted
	     *   25 Nov, snapshot 26T00:00Z: period 2 -> counts
	     *   26 Nov, snapshot 27T00:00Z: period 2 (left 27 Nov 11:00) -> counts
	     *   27 Nov, snapshot 28T00:00Z: left before -> no
	     * -> 3. */
	    {"withdrawn and ready again",
	     {{utc(2026, 11, 23, 10, 0), utc(2026, 11, 24, 12, 0), 0},
	      {utc(2026, 11, 25, 9, 0), 0, utc(2026, 11, 27, 11, 0)}},
	     2,
	     day_of(2026, 11, 1),
	     day_of(2026, 11, 30),
	     3},
	    /* Spring forward (BST from 2026-03-29T01:00Z).  Ready Sat 28 Mar
	     * 22:00Z = 22:00 GMT, left Mon 30 Mar 10:00Z = 11:00 BST.
	     *   snapshot(28 Mar) = 29T00:00Z (24:00 GMT) -> counts
	     *   snapshot(29 Mar) = 29T23:00Z (24:00 BST; a 23-hour day) -> counts
	     *   snapshot(30 Mar) = 30T23:00Z, after the discharge -> no
	     * -> 2. */
	    {"across the spring-forward night",
	     {{utc(2026, 3, 28, 22, 0), 0, utc(2026, 3, 30, 10, 0)}},
	     1,
	     day_of(2026, 3, 25),
	     day_of(2026, 4, 2),
	     2},
	    /* Ready Sun 29 Mar 22:30Z = 23:30 BST, left 29 Mar 23:30Z = 00:30 BST
	     * Mon: snapshot(29 Mar) = 29T23:00Z lies between -> 1 (a UTC count
	     * would find no midnight). */
	    {"spring-forward date's BST midnight",
	     {{utc(2026, 3, 29, 22, 30), 0, utc(2026, 3, 29, 23, 30)}},
	     1,
	     day_of(2026, 3, 25),
	     day_of(2026, 4, 2),
	     1},
	    /* Fall back (GMT from 2026-10-25T01:00Z).  Ready Sat 24 Oct 12:00Z =
	     * 13:00 BST, left Mon 26 Oct 12:00Z = 12:00 GMT.
	     *   snapshot(24 Oct) = 24T23:00Z (24:00 BST) -> counts
	     *   snapshot(25 Oct) = 26T00:00Z (24:00 GMT; a 25-hour day) -> counts
	     *   snapshot(26 Oct) = 27T00:00Z, after the discharge -> no
	     * -> 2. */
	    {"across the fall-back night",
	     {{utc(2026, 10, 24, 12, 0), 0, utc(2026, 10, 26, 12, 0)}},
	     1,
	     day_of(2026, 10, 20),
	     day_of(2026, 10, 31),
	     2},
	    /* Ready Sat 24 Oct 22:30Z = 23:30 BST, left 24 Oct 23:30Z = 00:30 BST
	     * Sun: snapshot(24 Oct) = 24T23:00Z lies between -> 1. */
	    {"fall-back eve's BST midnight",
	     {{utc(2026, 10, 24, 22, 30), 0, utc(2026, 10, 24, 23, 30)}},
	     1,
	     day_of(2026, 10, 20),
	     day_of(2026, 10, 31),
	     1},
	    /* Ready Sun 25 Oct 23:00Z = 23:00 GMT, left 26 Oct 00:30Z: snapshot(25
	     * Oct) = 26T00:00Z (25 hours after 24T23:00Z) lies between -> 1. */
	    {"fall-back date's GMT midnight",
	     {{utc(2026, 10, 25, 23, 0), 0, utc(2026, 10, 26, 0, 30)}},
	     1,
	     day_of(2026, 10, 20),
	     day_of(2026, 10, 31),
	     1},
	    /* Month boundary.  Ready Sat 28 Nov 09:00, left Thu 3 Dec 10:00 (GMT).
	     * November: 28 (snap 29T00Z), 29 (snap 30T00Z), 30 (snap 1 Dec
	     * 00:00Z) all count -> 3. */
	    {"month boundary: November",
	     {{utc(2026, 11, 28, 9, 0), 0, utc(2026, 12, 3, 10, 0)}},
	     1,
	     day_of(2026, 11, 1),
	     day_of(2026, 11, 30),
	     3},
	    /* December: 1 (snap 2T00Z) and 2 (snap 3T00Z, left 3 Dec 10:00 is
	     * later) count; 3 (snap 4T00Z) is after -> 2.  3 + 2 = 5 over both. */
	    {"month boundary: December",
	     {{utc(2026, 11, 28, 9, 0), 0, utc(2026, 12, 3, 10, 0)}},
	     1,
	     day_of(2026, 12, 1),
	     day_of(2026, 12, 31),
	     2},
	    {"month boundary: both months",
	     {{utc(2026, 11, 28, 9, 0), 0, utc(2026, 12, 3, 10, 0)}},
	     1,
	     day_of(2026, 11, 1),
	     day_of(2026, 12, 31),
	     5},
	    /* Month boundary in BST.  Ready Tue 30 Jun 12:00Z = 13:00 BST, left
	     * 1 Jul 23:30Z = 00:30 BST on 2 Jul.  June: snapshot(30 Jun) =
	     * 30T23:00Z -> 1.  (July: snapshot(1 Jul) = 1T23:00Z, before the
	     * discharge -> 1, below.) */
	    {"BST month boundary: June",
	     {{utc(2026, 6, 30, 12, 0), 0, utc(2026, 7, 1, 23, 30)}},
	     1,
	     day_of(2026, 6, 1),
	     day_of(2026, 6, 30),
	     1},
	    {"BST month boundary: July",
	     {{utc(2026, 6, 30, 12, 0), 0, utc(2026, 7, 1, 23, 30)}},
	     1,
	     day_of(2026, 7, 1),
	     day_of(2026, 7, 31),
	     1},
	    /* Two overlapping periods (bad data) still count each date once: the
	     * Monday-to-Wednesday case twice -> 2. */
	    {"overlapping periods count a date once",
	     {{utc(2026, 11, 23, 15, 0), 0, utc(2026, 11, 25, 11, 0)},
	      {utc(2026, 11, 23, 16, 0), 0, utc(2026, 11, 25, 11, 0)}},
	     2,
	     day_of(2026, 11, 20),
	     day_of(2026, 11, 30),
	     2},
	    /* An empty or reversed range counts nothing. */
	    {"reversed range",
	     {{utc(2026, 11, 23, 15, 0), 0, 0}},
	     1,
	     day_of(2026, 11, 30),
	     day_of(2026, 11, 20),
	     0},
	    {"no periods", {{0, 0, 0}}, 0, day_of(2026, 11, 1), day_of(2026, 11, 30), 0},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct days_case *c = &cases[i];
		int got = delay_days(c->periods, c->n, c->from, c->to);

		if (got != c->days)
			fail_msg("%s: %d delayed days, expected %d", c->name, got, c->days);
		assert_int_equal(days_by_rule(c), c->days);
	}
}

static void test_delay_counts_on(void **state)
{
	/* Ready exactly at snapshot(23 Nov) = 24T00:00Z, open. */
	struct readiness r = {utc(2026, 11, 24, 0, 0), 0, 0};

	assert_false(delay_counts_on(&r, day_of(2026, 11, 22))); /* snap 23T00Z < ready */
	assert_true(delay_counts_on(&r, day_of(2026, 11, 23)));  /* snap == ready: <= */
	assert_true(delay_counts_on(&r, day_of(2026, 11, 24)));

	/* Withdrawn at 25T00:00Z = snapshot(24 Nov): 24 Nov no longer counts. */
	r.withdrawn_at = utc(2026, 11, 25, 0, 0);
	assert_true(delay_counts_on(&r, day_of(2026, 11, 23)));
	assert_false(delay_counts_on(&r, day_of(2026, 11, 24)));
}

struct so_far_case {
	const char *name;
	struct readiness r;
	int64_t now;
	int days;        /* expected delay_days_so_far */
	bool first;      /* expected delay_first_day result */
	int32_t first_d; /* and its day, when true */
};

static void test_delay_so_far(void **state)
{
	const struct so_far_case cases[] = {
	    /* Open readiness from Mon 23 Nov 15:00 GMT, now Thu 26 Nov 09:00:
	     * snapshots at or before now are 24T00Z (23 Nov), 25T00Z (24 Nov) and
	     * 26T00Z (25 Nov), all counted -> 3; the first is 23 Nov. */
	    {"open, three midnights",
	     {utc(2026, 11, 23, 15, 0), 0, 0},
	     utc(2026, 11, 26, 9, 0),
	     3,
	     true,
	     day_of(2026, 11, 23)},
	    /* now exactly 26T00:00Z = snapshot(25 Nov): snapshot <= now -> 3. */
	    {"open, now exactly a snapshot",
	     {utc(2026, 11, 23, 15, 0), 0, 0},
	     utc(2026, 11, 26, 0, 0),
	     3,
	     true,
	     day_of(2026, 11, 23)},
	    /* A second earlier snapshot(25 Nov) is still ahead -> 2. */
	    {"open, a second before a snapshot",
	     {utc(2026, 11, 23, 15, 0), 0, 0},
	     utc(2026, 11, 26, 0, 0) - 1,
	     2,
	     true,
	     day_of(2026, 11, 23)},
	    /* Same evening, 23 Nov 20:00: snapshot(23 Nov) = 24T00Z not reached
	     * -> 0 and no first day yet. */
	    {"open, before the first midnight",
	     {utc(2026, 11, 23, 15, 0), 0, 0},
	     utc(2026, 11, 23, 20, 0),
	     0,
	     false,
	     0},
	    /* Discharged the same day (10:00 -> 18:00), asked a week later: no
	     * midnight counted and none ever will be -> 0, no first day. */
	    {"left before any midnight",
	     {utc(2026, 11, 23, 10, 0), 0, utc(2026, 11, 23, 18, 0)},
	     utc(2026, 11, 30, 12, 0),
	     0,
	     false,
	     0},
	    /* Monday 15:00 to Wednesday 11:00, asked on Friday -> 2 (as in
	     * delay_days); the first counted midnight ends Monday 23 Nov. */
	    {"closed, asked later",
	     {utc(2026, 11, 23, 15, 0), 0, utc(2026, 11, 25, 11, 0)},
	     utc(2026, 11, 27, 12, 0),
	     2,
	     true,
	     day_of(2026, 11, 23)},
	    /* Withdrawn Tue 24 Nov 12:00: only snapshot(23 Nov) = 24T00Z counts -> 1. */
	    {"withdrawn",
	     {utc(2026, 11, 23, 15, 0), utc(2026, 11, 24, 12, 0), 0},
	     utc(2026, 11, 27, 12, 0),
	     1,
	     true,
	     day_of(2026, 11, 23)},
	    /* Ready at exactly 24T00:00Z = snapshot(23 Nov) and now is that
	     * instant: it counts at once (<=), first day 23 Nov -> 1. */
	    {"ready at a snapshot, now the same",
	     {utc(2026, 11, 24, 0, 0), 0, 0},
	     utc(2026, 11, 24, 0, 0),
	     1,
	     true,
	     day_of(2026, 11, 23)},
	    /* Summer, open from 1 Jul 10:00Z = 11:00 BST; now 3 Jul 22:59:59Z =
	     * 23:59:59 BST: snapshots 1T23:00Z and 2T23:00Z reached, 3T23:00Z not
	     * -> 2. */
	    {"open in BST, before midnight",
	     {utc(2026, 7, 1, 10, 0), 0, 0},
	     utc(2026, 7, 3, 23, 0) - 1,
	     2,
	     true,
	     day_of(2026, 7, 1)},
	    /* One second later, 3T23:00:00Z = snapshot(3 Jul) -> 3. */
	    {"open in BST, at midnight",
	     {utc(2026, 7, 1, 10, 0), 0, 0},
	     utc(2026, 7, 3, 23, 0),
	     3,
	     true,
	     day_of(2026, 7, 1)},
	    /* Spring forward: ready Sun 29 Mar 22:30Z = 23:30 BST; now 29 Mar
	     * 23:00Z = snapshot(29 Mar) (24:00 BST) -> 1, first day 29 Mar; a
	     * GMT reading would wait until 30T00:00Z. */
	    {"open across the spring-forward date",
	     {utc(2026, 3, 29, 22, 30), 0, 0},
	     utc(2026, 3, 29, 23, 0),
	     1,
	     true,
	     day_of(2026, 3, 29)},
	    /* Fall back: ready Sat 24 Oct 12:00Z; now 26 Oct 00:00Z: snapshots
	     * 24T23:00Z (24 Oct) and 26T00:00Z (25 Oct, the 25-hour day) -> 2. */
	    {"open across the fall-back date",
	     {utc(2026, 10, 24, 12, 0), 0, 0},
	     utc(2026, 10, 26, 0, 0),
	     2,
	     true,
	     day_of(2026, 10, 24)},
	    /* now 25 Oct 23:30Z = 23:30 GMT: snapshot(25 Oct) = 26T00:00Z not yet
	     * reached (a UTC+1 reading would say it had been) -> 1. */
	    {"open on the fall-back date, before its midnight",
	     {utc(2026, 10, 24, 12, 0), 0, 0},
	     utc(2026, 10, 25, 23, 30),
	     1,
	     true,
	     day_of(2026, 10, 24)},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct so_far_case *c = &cases[i];
		int32_t first = -42;
		int got = delay_days_so_far(&c->r, c->now);
		bool has = delay_first_day(&c->r, c->now, &first);

		if (got != c->days)
			fail_msg("%s: %d delayed days so far, expected %d", c->name, got, c->days);
		if (has != c->first)
			fail_msg("%s: delay_first_day returned %d", c->name, has);
		assert_int_equal(first, c->first ? c->first_d : -42);
	}
}

static void test_delay_reasons(void **state)
{
	static const struct {
		const char *code;
		const char *text;
	} table[] = {
	    {"A", "Awaiting completion of assessment"},
	    {"B", "Awaiting public funding"},
	    {"C",
	     "Awaiting further non-acute NHS care (including intermediate care, rehabilitation)"},
	    {"Di", "Awaiting residential home placement or availability"},
	    {"Dii", "Awaiting nursing home placement or availability"},
	    {"E", "Awaiting care package in own home"},
	    {"F", "Awaiting community equipment and adaptations"},
	    {"G", "Patient or family choice"},
	    {"H", "Disputes"},
	    {"I", "Housing (patients not covered by the Care Act)"},
	};
	static const char *const bad[] = {"",    "a", "D",   "DI",    "di",      "DII",
	                                  "dii", "J", "Di ", "A\x01", "Unknown", NULL};
	size_t n = 0;

	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		assert_true(delay_reason_is_valid(table[i].code));
		assert_string_equal(delay_reason_text(table[i].code), table[i].text);
		assert_true(strlen(table[i].code) < DELAY_REASON_MAX);
	}
	/* The exported list is the table, in order. */
	while (delay_reason_codes[n] != NULL) {
		assert_true(n < sizeof table / sizeof table[0]);
		assert_string_equal(delay_reason_codes[n], table[n].code);
		n++;
	}
	assert_int_equal(n, sizeof table / sizeof table[0]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_false(delay_reason_is_valid(bad[i]));
		assert_null(delay_reason_text(bad[i]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_delay_days),
	    cmocka_unit_test(test_delay_counts_on),
	    cmocka_unit_test(test_delay_so_far),
	    cmocka_unit_test(test_delay_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

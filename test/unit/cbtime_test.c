/*
 * cbtime_test.c - unit tests for lib/cbtime: calendar arithmetic, RFC 3339
 * text, and Europe/London offsets, midnights and snapshots around the DST
 * transitions of 2025, 2026 and 2027.
 *
 * Anchor instants are written as literal Unix seconds (checked against the
 * system tz database once, when the tests were written) so that the code
 * under test is not used to compute its own expectations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cbtime.h"
#include "status.h"

#define H 3600
#define DAY 86400

/* BST starts/ends at 01:00 UTC on the last Sunday of March/October. */
#define BST_START_2025 INT64_C(1743296400) /* 2025-03-30T01:00:00Z */
#define BST_END_2025 INT64_C(1761440400)   /* 2025-10-26T01:00:00Z */
#define BST_START_2026 INT64_C(1774746000) /* 2026-03-29T01:00:00Z */
#define BST_END_2026 INT64_C(1792890000)   /* 2026-10-25T01:00:00Z */
#define BST_START_2027 INT64_C(1806195600) /* 2027-03-28T01:00:00Z */
#define BST_END_2027 INT64_C(1824944400)   /* 2027-10-31T01:00:00Z */

#define T_2026_11_23_1000Z INT64_C(1795428000)
#define T_2026_07_01_2300Z INT64_C(1782946800)
#define T_2026_12_02_0000Z INT64_C(1796169600)
#define T_2026_03_29_0000Z INT64_C(1774742400)
#define T_2026_03_29_2300Z INT64_C(1774825200)
#define T_2026_10_24_2300Z INT64_C(1792882800)
#define T_2026_10_26_0000Z INT64_C(1792972800)
#define T_2028_02_29_0000Z INT64_C(1835395200)

#define DAY_2026_03_29 20541
#define DAY_2026_07_01 20635
#define DAY_2026_10_25 20751
#define DAY_2028_02_29 21243

static void test_date_from_to_ymd(void **state)
{
	static const struct {
		int y, m, d;
		int32_t day;
	} cases[] = {
	    {1970, 1, 1, 0},
	    {1969, 12, 31, -1},
	    {2000, 2, 29, 11016},
	    {2026, 3, 29, DAY_2026_03_29},
	    {2026, 7, 1, DAY_2026_07_01},
	    {2026, 10, 25, DAY_2026_10_25},
	    {2028, 2, 29, DAY_2028_02_29},
	    {2028, 3, 1, DAY_2028_02_29 + 1},
	    {0, 1, 1, -719528},
	    {9999, 12, 31, 2932896},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int y, m, d;

		assert_int_equal(date_from_ymd(cases[i].y, cases[i].m, cases[i].d), cases[i].day);
		date_to_ymd(cases[i].day, &y, &m, &d);
		assert_int_equal(y, cases[i].y);
		assert_int_equal(m, cases[i].m);
		assert_int_equal(d, cases[i].d);
	}
	/* A day past the month's end counts on: 2026-02-29 is 2026-03-01. */
	assert_int_equal(date_from_ymd(2026, 2, 29), date_from_ymd(2026, 3, 1));
}

/* Every day from 1600 to 2400 converts both ways and follows the previous one. */
static void test_date_sweep(void **state)
{
	int32_t first = date_from_ymd(1600, 1, 1), last = date_from_ymd(2400, 12, 31);
	int py = 1599, pm = 12, pd = 31;

	for (int32_t day = first; day <= last; day++) {
		int y, m, d;

		date_to_ymd(day, &y, &m, &d);
		assert_true(date_is_valid(y, m, d));
		assert_int_equal(date_from_ymd(y, m, d), day);
		if (d == 1) {
			/* New month: the previous day was its month's last. */
			assert_false(date_is_valid(py, pm, pd + 1));
			assert_true(m == pm + 1 || (m == 1 && pm == 12 && y == py + 1));
		} else {
			assert_int_equal(y, py);
			assert_int_equal(m, pm);
			assert_int_equal(d, pd + 1);
		}
		py = y;
		pm = m;
		pd = d;
	}
}

static void test_date_is_valid(void **state)
{
	static const struct {
		int y, m, d;
		bool ok;
	} cases[] = {
	    {2028, 2, 29, true},  /* leap year */
	    {2000, 2, 29, true},  /* divisible by 400 */
	    {2100, 2, 29, false}, /* divisible by 100, not 400 */
	    {2026, 2, 29, false}, {2026, 2, 30, false}, {2026, 4, 31, false}, {2026, 12, 31, true},
	    {2026, 13, 1, false}, {2026, 0, 1, false},  {2026, 1, 0, false},  {2026, 1, 32, false},
	    {10000, 1, 1, false}, {-1, 1, 1, false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(date_is_valid(cases[i].y, cases[i].m, cases[i].d), cases[i].ok);
}

static void test_date_weekday(void **state)
{
	assert_int_equal(date_weekday(0), 4);              /* 1970-01-01, a Thursday */
	assert_int_equal(date_weekday(-1), 3);             /* 1969-12-31, a Wednesday */
	assert_int_equal(date_weekday(DAY_2026_03_29), 0); /* a Sunday */
	assert_int_equal(date_weekday(DAY_2026_10_25), 0); /* a Sunday */
	assert_int_equal(date_weekday(date_from_ymd(2026, 11, 23)), 1); /* a Monday */
}

static void test_london_offset(void **state)
{
	static const struct {
		int64_t t;
		int offset;
	} cases[] = {
	    {BST_START_2025 - 1, 0},
	    {BST_START_2025, H},
	    {BST_END_2025 - 1, H},
	    {BST_END_2025, 0},
	    {BST_START_2026 - 1, 0},
	    {BST_START_2026, H},
	    {BST_END_2026 - 1, H},
	    {BST_END_2026, 0},
	    {BST_START_2027 - 1, 0},
	    {BST_START_2027, H},
	    {BST_END_2027 - 1, H},
	    {BST_END_2027, 0},
	    {T_2026_07_01_2300Z, H}, /* midsummer */
	    {T_2026_11_23_1000Z, 0}, /* winter */
	    {0, 0},                  /* the rule for every year: 1970-01-01 is GMT */
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(london_offset(cases[i].t), cases[i].offset);
}

static void test_london_midnights(void **state)
{
	static const struct {
		int y, m, d;
		int64_t start;    /* london_midnight_start */
		int64_t snapshot; /* london_snapshot: the midnight ending the date */
		int64_t hours;    /* length of the local day */
	} cases[] = {
	    /* Spring forward: 00:00 GMT = 00:00Z, ends 24:00 BST = 23:00Z, 23 h. */
	    {2026, 3, 29, T_2026_03_29_0000Z, T_2026_03_29_2300Z, 23},
	    /* The day before: ends at 00:00Z on the 29th, still GMT. */
	    {2026, 3, 28, T_2026_03_29_0000Z - DAY, T_2026_03_29_0000Z, 24},
	    /* Fall back: 00:00 BST = 23:00Z on the 24th, ends 24:00 GMT, 25 h. */
	    {2026, 10, 25, T_2026_10_24_2300Z, T_2026_10_26_0000Z, 25},
	    /* Summer: snapshot of 2026-07-01 is 2026-07-01T23:00:00Z. */
	    {2026, 7, 1, T_2026_07_01_2300Z - DAY, T_2026_07_01_2300Z, 24},
	    /* Winter: snapshot of 2026-12-01 is 2026-12-02T00:00:00Z. */
	    {2026, 12, 1, T_2026_12_02_0000Z - DAY, T_2026_12_02_0000Z, 24},
	    /* The other years' transition dates: start at 00:00 local. */
	    {2025, 3, 30, BST_START_2025 - H, BST_START_2025 + 22 * H, 23},
	    {2025, 10, 26, BST_END_2025 - 2 * H, BST_END_2025 + 23 * H, 25},
	    {2027, 3, 28, BST_START_2027 - H, BST_START_2027 + 22 * H, 23},
	    {2027, 10, 31, BST_END_2027 - 2 * H, BST_END_2027 + 23 * H, 25},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int32_t day = date_from_ymd(cases[i].y, cases[i].m, cases[i].d);

		assert_int_equal(london_midnight_start(day), cases[i].start);
		assert_int_equal(london_snapshot(day), cases[i].snapshot);
		assert_int_equal(london_snapshot(day), london_midnight_start(day + 1));
		assert_int_equal(cases[i].snapshot - cases[i].start, cases[i].hours * H);
		/* A midnight is on the date it starts; the second before is not. */
		assert_int_equal(london_date(cases[i].start), day);
		assert_int_equal(london_date(cases[i].start - 1), day - 1);
		assert_int_equal(london_date(cases[i].snapshot - 1), day);
	}
}

static void test_london_date(void **state)
{
	static const struct {
		int64_t t;
		int y, m, d;
	} cases[] = {
	    /* Summer: 22:59:59Z = 23:59:59 BST on the 1st; 23:00Z = 00:00 BST on the 2nd. */
	    {T_2026_07_01_2300Z - 1, 2026, 7, 1},
	    {T_2026_07_01_2300Z, 2026, 7, 2},
	    /* Winter: 23:59:59Z = 23:59:59 GMT on the 1st; 00:00Z on the 2nd. */
	    {T_2026_12_02_0000Z - 1, 2026, 12, 1},
	    {T_2026_12_02_0000Z, 2026, 12, 2},
	    /* Spring-forward date: 00:59:59Z = 00:59:59 GMT, 01:00Z = 02:00 BST. */
	    {BST_START_2026 - 1, 2026, 3, 29},
	    {BST_START_2026, 2026, 3, 29},
	    /* Fall-back date: 23:00Z on the 24th = 00:00 BST on the 25th. */
	    {T_2026_10_24_2300Z - 1, 2026, 10, 24},
	    {T_2026_10_24_2300Z, 2026, 10, 25},
	    {T_2026_10_26_0000Z - 1, 2026, 10, 25},
	    {-1, 1969, 12, 31},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(london_date(cases[i].t),
		                 date_from_ymd(cases[i].y, cases[i].m, cases[i].d));
}

static void test_london_local_to_utc(void **state)
{
	static const struct {
		int y, mo, d, h, mi, s;
		enum status st;
		int64_t utc;
	} cases[] = {
	    /* Winter: local = UTC. */
	    {2026, 11, 23, 10, 0, 0, ST_OK, T_2026_11_23_1000Z},
	    /* Summer: 24:00 BST on 1 July = 00:00 BST on the 2nd = 23:00Z on the 1st. */
	    {2026, 7, 2, 0, 0, 0, ST_OK, T_2026_07_01_2300Z},
	    /* Spring forward 2026-03-29: 00:59:59 GMT is the last second before 02:00 BST. */
	    {2026, 3, 29, 0, 59, 59, ST_OK, BST_START_2026 - 1},
	    /* The gap 01:00-01:59:59 is moved forward an hour: 01:00 -> 02:00 BST = 01:00Z. */
	    {2026, 3, 29, 1, 0, 0, ST_OK, BST_START_2026},
	    /* 01:30 -> 02:30 BST = 01:30Z. */
	    {2026, 3, 29, 1, 30, 0, ST_OK, BST_START_2026 + 30 * 60},
	    /* 02:00 BST = 01:00Z (the same instant as the moved 01:00). */
	    {2026, 3, 29, 2, 0, 0, ST_OK, BST_START_2026},
	    /* Fall back 2026-10-25: 00:30 BST = 23:30Z on the 24th. */
	    {2026, 10, 25, 0, 30, 0, ST_OK, BST_END_2026 - 90 * 60},
	    /* The overlap 01:00-01:59:59 picks BST: 01:30 BST = 00:30Z. */
	    {2026, 10, 25, 1, 30, 0, ST_OK, BST_END_2026 - 30 * 60},
	    {2026, 10, 25, 1, 0, 0, ST_OK, BST_END_2026 - H},
	    /* 02:00 GMT = 02:00Z. */
	    {2026, 10, 25, 2, 0, 0, ST_OK, BST_END_2026 + H},
	    {2027, 3, 28, 1, 30, 0, ST_OK, BST_START_2027 + 30 * 60},
	    {2025, 10, 26, 1, 30, 0, ST_OK, BST_END_2025 - 30 * 60},
	    {2028, 2, 29, 0, 0, 0, ST_OK, T_2028_02_29_0000Z},
	    {2027, 2, 29, 0, 0, 0, ST_INVALID, 0},
	    {2026, 13, 1, 0, 0, 0, ST_INVALID, 0},
	    {2026, 1, 1, 24, 0, 0, ST_INVALID, 0},
	    {2026, 1, 1, 0, 60, 0, ST_INVALID, 0},
	    {2026, 1, 1, 0, 0, 60, ST_INVALID, 0},
	    {2026, 1, 1, -1, 0, 0, ST_INVALID, 0},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t out = -42;

		assert_int_equal(london_local_to_utc(cases[i].y, cases[i].mo, cases[i].d,
		                                     cases[i].h, cases[i].mi, cases[i].s, &out),
		                 cases[i].st);
		assert_int_equal(out, cases[i].st == ST_OK ? cases[i].utc : -42);
	}
}

static void test_time_parse_valid(void **state)
{
	static const struct {
		const char *s;
		int64_t t;
	} cases[] = {
	    {"2026-11-23T10:00:00Z", T_2026_11_23_1000Z},
	    {"2026-11-23t10:00:00z", T_2026_11_23_1000Z},
	    {"2026-11-23 10:00:00Z", T_2026_11_23_1000Z},
	    {"2026-11-23T10:00:00.123456Z", T_2026_11_23_1000Z}, /* fraction dropped */
	    {"2026-11-23T10:00:00.999+00:00", T_2026_11_23_1000Z},
	    {"2026-11-23T10:00Z", T_2026_11_23_1000Z}, /* no seconds (datetime-local) */
	    {"2026-11-23T11:00:00+01:00", T_2026_11_23_1000Z},
	    {"2026-11-23T11:00:00+0100", T_2026_11_23_1000Z},
	    {"2026-11-23T11:00:00+01", T_2026_11_23_1000Z},
	    {"2026-11-23T05:30:00-04:30", T_2026_11_23_1000Z},
	    {"2026-11-23T10:00:00-00:00", T_2026_11_23_1000Z},
	    /* No zone: London time, GMT in November. */
	    {"2026-11-23T10:00:00", T_2026_11_23_1000Z},
	    {"2026-11-23T10:00", T_2026_11_23_1000Z},
	    /* No zone in summer: 00:00 BST on 2 July = 23:00Z on 1 July. */
	    {"2026-07-02T00:00:00", T_2026_07_01_2300Z},
	    /* Spring gap: 01:30 local -> 02:30 BST = 01:30Z. */
	    {"2026-03-29T01:30:00", BST_START_2026 + 30 * 60},
	    /* Fall-back overlap: 01:30 local -> first (BST) = 00:30Z. */
	    {"2026-10-25T01:30:00", BST_END_2026 - 30 * 60},
	    {"2028-02-29T00:00:00Z", T_2028_02_29_0000Z},
	    {"1970-01-01T00:00:00Z", 0},
	    {"1969-12-31T23:59:59Z", -1},
	    {"9999-12-31T23:59:59Z", CBTIME_MAX},
	    {"0000-01-01T00:00:00Z", CBTIME_MIN},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t t = -42;
		struct err err = {"", ""};

		assert_int_equal(time_parse(cases[i].s, &t, "admitted_at", &err), ST_OK);
		assert_int_equal(t, cases[i].t);
		assert_string_equal(err.message, "");
	}
}

static void test_time_parse_invalid(void **state)
{
	static const char *const cases[] = {
	    "",
	    "2026-02-30T10:00:00Z", /* no 30 February */
	    "2027-02-29T10:00:00Z", /* 2027 is not a leap year */
	    "2026-13-01T10:00:00Z",
	    "2026-00-01T10:00:00Z",
	    "2026-11-00T10:00:00Z",
	    "2026-11-23T24:00:00Z", /* hour 24 is never accepted */
	    "2026-11-23T10:60:00Z",
	    "2026-11-23T10:00:60Z", /* no leap seconds */
	    "2026-11-23",           /* a date, not a date-time */
	    "2026-11-23T10",
	    "2026-11-23T10:0Z",
	    "2026-11-23T1:00:00Z",
	    "2026-11-23T10:00:00+24:00",
	    "2026-11-23T10:00:00+01:60",
	    "2026-11-23T10:00:00+01:",
	    "2026-11-23T10:00:00+1",
	    "2026-11-23T10:00:00+01:000",
	    "2026-11-23T10:00:00Zjunk",
	    "2026-11-23T10:00:00.Z",
	    "2026-11-23T10:00.5Z", /* a fraction needs seconds */
	    "26-11-23T10:00:00Z",
	    "+2026-11-23T10:00:00Z",
	    " 2026-11-23T10:00:00Z",
	    "2026-11-23T10:00:00Z ",
	    "2026-11-23T10:00:00 Z",
	    "2026/11/23T10:00:00Z",
	    "2026-11-23X10:00:00Z",
	    "2026-11-23T10:00:00UTC",
	    "0000-01-01T00:00:00+01:00", /* before year 0 */
	    NULL,
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t t = -42;
		struct err err = {"", ""};

		assert_int_equal(time_parse(cases[i], &t, "admitted_at", &err), ST_INVALID);
		assert_int_equal(t, -42);
		assert_string_equal(err.field, "admitted_at");
		assert_string_equal(err.message, "admitted_at is not a valid date-time");
	}
	/* err is optional. */
	assert_int_equal(time_parse("nonsense", &(int64_t){0}, "ready_at", NULL), ST_INVALID);
}

static void test_time_format(void **state)
{
	static const struct {
		int64_t t;
		const char *utc;
		const char *local;
	} cases[] = {
	    {T_2026_11_23_1000Z, "2026-11-23T10:00:00Z", "2026-11-23T10:00:00+00:00"},
	    {T_2026_07_01_2300Z, "2026-07-01T23:00:00Z", "2026-07-02T00:00:00+01:00"},
	    {BST_START_2026 - 1, "2026-03-29T00:59:59Z", "2026-03-29T00:59:59+00:00"},
	    {BST_START_2026, "2026-03-29T01:00:00Z", "2026-03-29T02:00:00+01:00"},
	    {BST_END_2026 - 30 * 60, "2026-10-25T00:30:00Z", "2026-10-25T01:30:00+01:00"},
	    {BST_END_2026 + 30 * 60, "2026-10-25T01:30:00Z", "2026-10-25T01:30:00+00:00"},
	    {T_2028_02_29_0000Z, "2028-02-29T00:00:00Z", "2028-02-29T00:00:00+00:00"},
	    {0, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00+00:00"},
	    {-1, "1969-12-31T23:59:59Z", "1969-12-31T23:59:59+00:00"},
	    {CBTIME_MAX, "9999-12-31T23:59:59Z", "9999-12-31T23:59:59+00:00"},
	    /* Out of range instants are clamped. */
	    {INT64_MAX, "9999-12-31T23:59:59Z", "9999-12-31T23:59:59+00:00"},
	    {INT64_MIN, "0000-01-01T00:00:00Z", "0000-01-01T00:00:00+00:00"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[TIME_FORMAT_LEN];

		time_format(cases[i].t, out);
		assert_string_equal(out, cases[i].utc);
		time_format_local(cases[i].t, out);
		assert_string_equal(out, cases[i].local);
	}
}

/* Every 1999 s through 2025-2027: both formats parse back to the same instant. */
static void test_time_round_trip(void **state)
{
	int64_t from = BST_START_2025 - 100 * DAY, to = BST_END_2027 + 100 * DAY;

	for (int64_t t = from; t < to; t += 1999) {
		char out[TIME_FORMAT_LEN];
		int64_t back;

		time_format(t, out);
		assert_int_equal(time_parse(out, &back, "t", NULL), ST_OK);
		assert_int_equal(back, t);
		time_format_local(t, out);
		assert_int_equal(time_parse(out, &back, "t", NULL), ST_OK);
		assert_int_equal(back, t);
	}
}

static void test_date_parse_format(void **state)
{
	static const struct {
		const char *s;
		int32_t day;
	} ok[] = {
	    {"2028-02-29", DAY_2028_02_29},
	    {"2026-03-29", DAY_2026_03_29},
	    {"1970-01-01", 0},
	    {"1969-12-31", -1},
	};
	static const char *const bad[] = {
	    "2026-02-29",  "2026-13-01", "2026-2-28", "2026-02-28T00:00", "2026-02-28 ",
	    " 2026-02-28", "20260228",   "",          "2026-02-00",       NULL,
	};

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int32_t day = -42;
		char out[DATE_FORMAT_LEN];

		assert_int_equal(date_parse(ok[i].s, &day, "discharge_ready_date", NULL), ST_OK);
		assert_int_equal(day, ok[i].day);
		date_format(day, out);
		assert_string_equal(out, ok[i].s);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int32_t day = -42;
		struct err err = {"", ""};

		assert_int_equal(date_parse(bad[i], &day, "discharge_ready_date", &err),
		                 ST_INVALID);
		assert_int_equal(day, -42);
		assert_string_equal(err.field, "discharge_ready_date");
		assert_string_equal(err.message, "discharge_ready_date is not a valid date");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_date_from_to_ymd),  cmocka_unit_test(test_date_sweep),
	    cmocka_unit_test(test_date_is_valid),     cmocka_unit_test(test_date_weekday),
	    cmocka_unit_test(test_london_offset),     cmocka_unit_test(test_london_midnights),
	    cmocka_unit_test(test_london_date),       cmocka_unit_test(test_london_local_to_utc),
	    cmocka_unit_test(test_time_parse_valid),  cmocka_unit_test(test_time_parse_invalid),
	    cmocka_unit_test(test_time_format),       cmocka_unit_test(test_time_round_trip),
	    cmocka_unit_test(test_date_parse_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * rota_test.c - the on-call rota's CSV with London wall times: shifts across
 * the spring and autumn clock changes get their real length, bad rows are
 * refused with their line, and the row checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rota.h"
#include "status.h"

/* 2026-03-29 01:00Z: clocks go forward; 2026-10-25 01:00Z: clocks go back. */
#define T_2026_03_28_2000Z 1774728000
#define T_2026_03_29_0700Z 1774767600
#define T_2026_10_24_1900Z 1792868400
#define T_2026_10_25_0800Z 1792915200

static void test_local_times_across_dst(void **state)
{
	static const struct {
		const char *in;
		int64_t want;
	} cases[] = {
	    {"2026-03-28 20:00", T_2026_03_28_2000Z}, /* GMT */
	    {"2026-03-29 08:00", T_2026_03_29_0700Z}, /* BST */
	    {"2026-10-24 20:00", T_2026_10_24_1900Z}, /* BST */
	    {"2026-10-25 08:00", T_2026_10_25_0800Z}, /* GMT */
	    {"2026-03-29T01:30", 1774747800},         /* in the gap: read as 02:30 BST = 01:30Z */
	    {"2026-10-25 01:30", 1792888200},         /* twice: the first, BST = 00:30Z */
	};
	struct err err;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t t = 0;

		assert_int_equal(rota_local_parse(cases[i].in, &t, "start", &err), ST_OK);
		assert_int_equal(t, cases[i].want);
	}
	for (const char *const *bad =
	         (const char *const[]){"2026-02-30 08:00", "2026-03-28 24:00", "2026-03-28",
	                               "28/03/2026 08:00", "2026-03-28 08:00Z", NULL};
	     *bad != NULL; bad++) {
		int64_t t;

		assert_int_equal(rota_local_parse(*bad, &t, "start", &err), ST_INVALID);
		assert_string_equal(err.field, "start");
	}
}

static void test_csv_night_shifts(void **state)
{
	const char *csv =
	    ROTA_CSV_HEADER "\r\n"
			    "*,bed_manager,night.bm,2026-03-28 20:00,2026-03-29 08:00\n"
			    "\n"
			    "A3,team_lead,ot.lead , 2026-10-24 20:00,2026-10-25 08:00\n";
	struct rota_entry *rows;
	struct err err;
	int n;

	assert_int_equal(rota_csv_parse(csv, strlen(csv), &rows, &n, &err), ST_OK);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].site, "*");
	assert_string_equal(rows[0].user, "night.bm");
	/* spring: 12 h on the clock, 11 h of real time */
	assert_int_equal(rows[0].starts_at, T_2026_03_28_2000Z);
	assert_int_equal(rows[0].ends_at - rows[0].starts_at, 11 * 3600);
	/* autumn: 13 h of real time */
	assert_string_equal(rows[1].user, "ot.lead");
	assert_int_equal(rows[1].ends_at - rows[1].starts_at, 13 * 3600);
	free(rows);
}

static void test_csv_refused(void **state)
{
	static const struct {
		const char *csv, *msg;
	} cases[] = {
	    {"", "line 1: the header"},
	    {"user,site\n", "line 1: the header"},
	    {ROTA_CSV_HEADER "\n*,bed_manager,bm,2026-03-28 20:00\n", "line 2: expected 5 fields"},
	    {ROTA_CSV_HEADER "\n*,chef,bm,2026-03-28 20:00,2026-03-29 08:00\n", "line 2: \"role\""},
	    {ROTA_CSV_HEADER "\nA 3,bed_manager,bm,2026-03-28 20:00,2026-03-29 08:00\n",
	     "line 2: \"site\""},
	    {ROTA_CSV_HEADER "\n*,bed_manager,bm,2026-03-29 08:00,2026-03-28 20:00\n",
	     "line 2: \"end\" must be after"},
	    {ROTA_CSV_HEADER "\n*,bed_manager,,2026-03-28 20:00,2026-03-29 08:00\n",
	     "line 2: missing required field \"user\""},
	    {ROTA_CSV_HEADER "\n\n*,bed_manager,bm,2026-03-28 20:00,2026-04-28 08:00\n",
	     "line 3: a shift may last 7 days"},
	    {ROTA_CSV_HEADER "\n*,bed_manager,bm,2026-03-28 20:00,2026-03-29 08:00,x\n",
	     "line 2: expected 5 fields"},
	};
	struct rota_entry *rows;
	struct err err;
	int n;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(
		    rota_csv_parse(cases[i].csv, strlen(cases[i].csv), &rows, &n, &err),
		    ST_INVALID);
		assert_non_null(strstr(err.message, cases[i].msg));
		assert_null(rows);
	}
}

static void test_checks(void **state)
{
	assert_true(rota_role_is_valid("bed_manager"));
	assert_true(rota_role_is_valid("nurse_in_charge"));
	assert_false(rota_role_is_valid("admin"));
	assert_true(rota_site_is_valid("*"));
	assert_true(rota_site_is_valid("A3-east"));
	assert_false(rota_site_is_valid(""));
	assert_false(rota_site_is_valid("-A"));
	assert_false(rota_site_is_valid("**"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_local_times_across_dst),
	    cmocka_unit_test(test_csv_night_shifts),
	    cmocka_unit_test(test_csv_refused),
	    cmocka_unit_test(test_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

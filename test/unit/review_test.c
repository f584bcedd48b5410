/*
 * review_test.c - unit tests for lib/review: what a criteria-to-reside review
 * may say, when it may have been decided ("earlier today" is the London day,
 * DST days included), what it does to the discharge ready date, and the
 * board-round times behind the "not reviewed" flag.  Instants are UTC with
 * the London wall time beside them where it differs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "cbtime.h"
#include "review.h"
#include "status.h"

static int64_t utc(int y, int m, int d, int h, int mi)
{
	return (int64_t)date_from_ymd(y, m, d) * 86400 + h * 3600 + mi * 60;
}

/* Parse body at now; returns the status and the error's field. */
static enum status parse(const char *body, int64_t now, struct review *rv, struct err *err)
{
	cJSON *j = cJSON_Parse(body);
	enum status st;

	assert_non_null(j);
	err_clear(err);
	st = review_parse(j, now, rv, err);
	cJSON_Delete(j);
	return st;
}

static void test_review_parse(void **state)
{
	static const struct {
		const char *body;
		enum status st;
		const char *field;
	} cases[] = {
	    {"{\"outcome\": \"nctr\"}", ST_OK, ""},
	    {"{\"outcome\": \"meets_criteria\", \"criteria_met\": [\"iv_fluids\"]}", ST_OK, ""},
	    {"{\"outcome\": \"meets_criteria\", \"note\": \"acute rehabilitation\"}", ST_OK, ""},
	    /* the rules between fields */
	    {"{\"outcome\": \"nctr\", \"criteria_met\": [\"iv_fluids\"]}", ST_INVALID,
	     "criteria_met"},
	    {"{\"outcome\": \"meets_criteria\"}", ST_INVALID, "note"},
	    {"{\"outcome\": \"meets_criteria\", \"criteria_met\": []}", ST_INVALID, "note"},
	    /* form */
	    {"{}", ST_INVALID, "outcome"},
	    {"{\"outcome\": \"NCTR\"}", ST_INVALID, "outcome"},
	    {"{\"outcome\": \"nctr\", \"criteria_met\": \"iv_fluids\"}", ST_INVALID,
	     "criteria_met"},
	    {"{\"outcome\": \"meets_criteria\", \"criteria_met\": [\"a\", \"a\"]}", ST_INVALID,
	     "criteria_met"},
	    {"{\"outcome\": \"meets_criteria\", \"criteria_met\": [\"bad key\"]}", ST_INVALID,
	     "criteria_met"},
	    {"{\"outcome\": \"meets_criteria\", \"criteria_met\": [3]}", ST_INVALID,
	     "criteria_met"},
	    {"{\"outcome\": \"nctr\", \"decided_at\": \"yesterday\"}", ST_INVALID, "decided_at"},
	    {"{\"outcome\": \"nctr\", \"who\": \"me\"}", ST_INVALID, "who"},
	};
	struct review rv;
	struct err err;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(parse(cases[i].body, 1000, &rv, &err), cases[i].st);
		assert_string_equal(err.field, cases[i].field);
	}
	/* decided_at defaults to now */
	assert_int_equal(parse("{\"outcome\": \"nctr\"}", 12345, &rv, &err), ST_OK);
	assert_int_equal(rv.decided_at, 12345);
	assert_int_equal(rv.outcome, REVIEW_NCTR);
	assert_int_equal(parse("{\"outcome\": \"meets_criteria\", \"criteria_met\": [\"itu_hdu\","
	                       " \"iv_fluids\"], \"decided_at\": \"2026-03-29T09:00:00Z\"}",
	                       utc(2026, 3, 29, 10, 0), &rv, &err),
	                 ST_OK);
	assert_int_equal(rv.ncriteria, 2);
	assert_string_equal(rv.criteria[1], "iv_fluids");
	assert_int_equal(rv.decided_at, utc(2026, 3, 29, 9, 0));
}

static void test_review_criteria(void **state)
{
	static const char *const known[] = {"itu_hdu", "iv_fluids"};
	struct review rv;
	struct err err;

	assert_int_equal(
	    parse("{\"outcome\": \"meets_criteria\", \"criteria_met\": [\"iv_fluids\"]}", 0, &rv,
	          &err),
	    ST_OK);
	assert_int_equal(review_check_criteria(&rv, known, 2, &err), ST_OK);
	assert_int_equal(parse("{\"outcome\": \"meets_criteria\", \"criteria_met\": [\"iv_fluids\","
	                       " \"itu\"]}",
	                       0, &rv, &err),
	                 ST_OK);
	assert_int_equal(review_check_criteria(&rv, known, 2, &err), ST_INVALID);
	assert_string_equal(err.field, "criteria_met");
	assert_non_null(strstr(err.message, "\"itu\""));
}

static void test_review_decided_at(void **state)
{
	const struct {
		const char *name;
		int64_t decided, now;
		enum status st;
	} cases[] = {
	    {"now", utc(2026, 1, 10, 9, 0), utc(2026, 1, 10, 9, 0), ST_OK},
	    {"one second ahead", utc(2026, 1, 10, 9, 0) + 1, utc(2026, 1, 10, 9, 0), ST_INVALID},
	    {"local midnight, GMT", utc(2026, 1, 10, 0, 0), utc(2026, 1, 10, 23, 59), ST_OK},
	    {"a second before", utc(2026, 1, 10, 0, 0) - 1, utc(2026, 1, 10, 9, 0), ST_INVALID},
	    /* spring forward, Sunday 29 March 2026: 00:30Z is 00:30 GMT the 29th */
	    {"DST day, before the change", utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 22, 0), ST_OK},
	    /* 23:30Z on the 28th is 23:30 GMT the 28th: yesterday */
	    {"DST eve", utc(2026, 3, 28, 23, 30), utc(2026, 3, 29, 10, 0), ST_INVALID},
	    /* 23:30Z on the 29th is 00:30 BST the 30th: today seen from the 30th */
	    {"after BST midnight", utc(2026, 3, 29, 23, 30), utc(2026, 3, 30, 8, 0), ST_OK},
	    {"BST yesterday", utc(2026, 3, 29, 22, 59), utc(2026, 3, 30, 8, 0), ST_INVALID},
	    /* fall back, Sunday 25 October 2026: 23:00Z the 24th is 00:00 BST the 25th */
	    {"autumn DST day", utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 23, 59), ST_OK},
	    {"autumn eve", utc(2026, 10, 24, 22, 59), utc(2026, 10, 25, 1, 0), ST_INVALID},
	};
	struct err err;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err_clear(&err);
		print_message("%s\n", cases[i].name);
		assert_int_equal(review_check_decided_at(cases[i].decided, cases[i].now, &err),
		                 cases[i].st);
		assert_string_equal(err.field, cases[i].st == ST_OK ? "" : "decided_at");
	}
}

static void test_review_decide(void **state)
{
	const int64_t adm = utc(2026, 3, 26, 9, 0), t0 = utc(2026, 3, 27, 9, 0);
	static const struct {
		const char *name;
		enum review_outcome outcome;
		int64_t decided_off;
		bool admitted, ready;
		int64_t ready_off, last_off; /* offsets from t0; last 0 = none */
		enum status st;
		enum review_ready want;
	} cases[] = {
	    {"nctr starts readiness", REVIEW_NCTR, 0, true, false, 0, 0, ST_OK, REVIEW_READY_SET},
	    {"nctr again keeps the DRD", REVIEW_NCTR, 60, true, true, -60, -60, ST_OK,
	     REVIEW_READY_NONE},
	    {"meets after nctr reverses", REVIEW_MEETS_CRITERIA, 60, true, true, -60, -60, ST_OK,
	     REVIEW_READY_REVERSED},
	    {"meets, never nctr", REVIEW_MEETS_CRITERIA, 0, true, false, 0, 0, ST_OK,
	     REVIEW_READY_NONE},
	    {"reversal before the DRD", REVIEW_MEETS_CRITERIA, -120, true, true, -60, 0, ST_INVALID,
	     REVIEW_READY_NONE},
	    {"before the latest review", REVIEW_NCTR, -10, true, false, 0, -5, ST_INVALID,
	     REVIEW_READY_NONE},
	    {"at the latest review", REVIEW_NCTR, -5, true, false, 0, -5, ST_OK, REVIEW_READY_SET},
	    {"before admission", REVIEW_NCTR, -2 * 86400, true, false, 0, 0, ST_INVALID,
	     REVIEW_READY_NONE},
	    {"discharged", REVIEW_NCTR, 0, false, false, 0, 0, ST_CONFLICT, REVIEW_READY_NONE},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct review rv;
		struct review_episode e;
		enum review_ready got = REVIEW_READY_NONE;
		struct err err;

		memset(&rv, 0, sizeof rv);
		rv.outcome = cases[i].outcome;
		rv.decided_at = t0 + cases[i].decided_off;
		e.admitted = cases[i].admitted;
		e.admitted_at = adm;
		e.ready = cases[i].ready;
		e.ready_at = cases[i].ready ? t0 + cases[i].ready_off : 0;
		e.last_review_at = cases[i].last_off != 0 ? t0 + cases[i].last_off : 0;
		err_clear(&err);
		print_message("%s\n", cases[i].name);
		assert_int_equal(review_decide(&rv, &e, &got, &err), cases[i].st);
		if (cases[i].st == ST_OK)
			assert_int_equal(got, cases[i].want);
		if (cases[i].st == ST_INVALID)
			assert_string_equal(err.field, "decided_at");
	}
}

static void test_board_rounds_parse(void **state)
{
	static const struct {
		const char *in;
		enum status st;
		int n, first, last;
	} cases[] = {
	    {"09:00,16:00", ST_OK, 2, 540, 960},
	    {" 16:00 , 09:00 ", ST_OK, 2, 540, 960},
	    {"08:30", ST_OK, 1, 510, 510},
	    {"00:00,23:59", ST_OK, 2, 0, 1439},
	    {"", ST_INVALID, 0, 0, 0},
	    {"9:00", ST_INVALID, 0, 0, 0},
	    {"+9:00", ST_INVALID, 0, 0, 0},
	    {"24:00", ST_INVALID, 0, 0, 0},
	    {"09:60", ST_INVALID, 0, 0, 0},
	    {"09:00,", ST_INVALID, 0, 0, 0},
	    {"09:00;16:00", ST_INVALID, 0, 0, 0},
	    {"09:00,09:00", ST_INVALID, 0, 0, 0},
	    {"01:00,02:00,03:00,04:00,05:00,06:00,07:00,08:00,09:00", ST_INVALID, 0, 0, 0},
	};
	struct board_rounds br;
	struct err err;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err_clear(&err);
		assert_int_equal(board_rounds_parse(cases[i].in, &br, &err), cases[i].st);
		if (cases[i].st != ST_OK) {
			assert_string_equal(err.field, "board_round_times");
			continue;
		}
		assert_int_equal(br.n, cases[i].n);
		assert_int_equal(br.minutes[0], cases[i].first);
		assert_int_equal(br.minutes[br.n - 1], cases[i].last);
	}
}

static void test_board_round_times(void **state)
{
	struct board_rounds br;

	assert_int_equal(board_rounds_parse("09:00,16:00", &br, NULL), ST_OK);
	/* GMT day: 09:00 and 16:00 local are 09:00Z and 16:00Z */
	assert_int_equal(board_round_last(&br, utc(2026, 1, 10, 12, 0)), utc(2026, 1, 10, 9, 0));
	assert_int_equal(board_round_last(&br, utc(2026, 1, 10, 9, 0)), utc(2026, 1, 10, 9, 0));
	assert_int_equal(board_round_last(&br, utc(2026, 1, 10, 8, 59)), utc(2026, 1, 9, 16, 0));
	assert_int_equal(board_round_next(&br, utc(2026, 1, 10, 9, 0)), utc(2026, 1, 10, 16, 0));
	assert_int_equal(board_round_next(&br, utc(2026, 1, 10, 17, 0)), utc(2026, 1, 11, 9, 0));
	/* spring forward: on 29 March 2026 09:00 BST is 08:00Z; the 28th's 16:00 GMT is 16:00Z */
	assert_int_equal(board_round_last(&br, utc(2026, 3, 29, 8, 30)), utc(2026, 3, 29, 8, 0));
	assert_int_equal(board_round_last(&br, utc(2026, 3, 29, 7, 59)), utc(2026, 3, 28, 16, 0));
	assert_int_equal(board_round_next(&br, utc(2026, 3, 28, 17, 0)), utc(2026, 3, 29, 8, 0));
	/* fall back: on 25 October 2026 09:00 GMT is 09:00Z, the 24th's 16:00 BST is 15:00Z */
	assert_int_equal(board_round_last(&br, utc(2026, 10, 25, 8, 30)), utc(2026, 10, 24, 15, 0));
	/* overdue: admitted before the last round and not reviewed at or since it */
	assert_true(review_is_overdue(&br, utc(2026, 1, 10, 8, 0), 0, utc(2026, 1, 10, 9, 30)));
	assert_false(review_is_overdue(&br, utc(2026, 1, 10, 9, 10), 0, utc(2026, 1, 10, 9, 30)));
	assert_false(review_is_overdue(&br, utc(2026, 1, 10, 8, 0), utc(2026, 1, 10, 9, 0),
	                               utc(2026, 1, 10, 9, 30)));
	assert_true(review_is_overdue(&br, utc(2026, 1, 10, 8, 0), utc(2026, 1, 10, 8, 59),
	                              utc(2026, 1, 10, 9, 30)));
	assert_true(review_is_overdue(&br, utc(2026, 1, 9, 8, 0), utc(2026, 1, 10, 9, 5),
	                              utc(2026, 1, 10, 16, 0)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_review_parse),       cmocka_unit_test(test_review_criteria),
	    cmocka_unit_test(test_review_decided_at),  cmocka_unit_test(test_review_decide),
	    cmocka_unit_test(test_board_rounds_parse), cmocka_unit_test(test_board_round_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

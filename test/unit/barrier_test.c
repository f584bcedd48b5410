/*
 * barrier_test.c - unit tests for lib/barrier: the form of a barrier and of a
 * change, the reason check against the list in force, and which open barrier
 * is primary after each transition (open, make primary, close), and when a
 * new barrier may be backdated to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "barrier.h"
#include "status.h"

static enum status parse(const char *body, bool create, struct barrier_input *in, struct err *err)
{
	cJSON *j = cJSON_Parse(body);
	enum status st;

	assert_non_null(j);
	err_clear(err);
	st = create ? barrier_parse_create(j, in, err) : barrier_parse_patch(j, in, err);
	cJSON_Delete(j);
	return st;
}

static void test_parse_create(void **state)
{
	struct barrier_input in;
	struct err err;

	(void)state;
	assert_int_equal(
	    parse("{\"reason\":\"transport\",\"owner\":\"OT\",\"note\":\"x\"}", true, &in, &err),
	    ST_OK);
	assert_true(in.has_reason);
	assert_string_equal(in.reason, "transport");
	assert_string_equal(in.owner, "OT");
	assert_false(in.make_primary);
	assert_int_equal(parse("{\"reason\":\"transport\",\"primary\":true}", true, &in, &err),
	                 ST_OK);
	assert_true(in.make_primary);
	/* the reason is required, well formed; unknown fields refused; closed is PATCH only */
	assert_int_equal(parse("{\"owner\":\"OT\"}", true, &in, &err), ST_INVALID);
	assert_string_equal(err.field, "reason");
	assert_int_equal(parse("{\"reason\":\"no such!\"}", true, &in, &err), ST_INVALID);
	assert_string_equal(err.field, "reason");
	assert_int_equal(parse("{\"reason\":\"transport\",\"closed\":true}", true, &in, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "closed");
	assert_int_equal(
	    parse("{\"reason\":\"transport\",\"attribution\":\"NHS\"}", true, &in, &err),
	    ST_INVALID);
	assert_string_equal(err.field, "attribution");
	assert_int_equal(parse("{\"reason\":\"transport\",\"primary\":\"yes\"}", true, &in, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "primary");
	{
		char body[2100];

		memset(body, 0, sizeof body);
		strcpy(body, "{\"reason\":\"transport\",\"owner\":\"");
		memset(body + strlen(body), 'a', 101);
		strcat(body, "\"}");
		assert_int_equal(parse(body, true, &in, &err), ST_INVALID);
		assert_string_equal(err.field, "owner");
	}
}

static void test_parse_patch(void **state)
{
	struct barrier_input in;
	struct err err;

	(void)state;
	assert_int_equal(parse("{\"closed\":true}", false, &in, &err), ST_OK);
	assert_true(in.close);
	assert_false(in.has_reason);
	assert_int_equal(parse("{\"primary\":true}", false, &in, &err), ST_OK);
	assert_true(in.make_primary);
	/* null or "" clears owner and note */
	assert_int_equal(parse("{\"owner\":null,\"note\":\"\"}", false, &in, &err), ST_OK);
	assert_true(in.has_owner && in.has_note);
	assert_string_equal(in.owner, "");
	assert_int_equal(parse("{}", false, &in, &err), ST_INVALID);
	assert_int_equal(parse("{\"primary\":false}", false, &in, &err), ST_INVALID);
	assert_string_equal(err.field, "primary");
	assert_int_equal(parse("{\"closed\":false}", false, &in, &err), ST_INVALID);
	assert_string_equal(err.field, "closed");
	assert_int_equal(parse("{\"closed\":true,\"primary\":true}", false, &in, &err), ST_INVALID);
	assert_string_equal(err.field, "primary");
}

static void test_check_reason(void **state)
{
	const char *const known[] = {"transport", "no_plan"};
	struct err err;

	(void)state;
	err_clear(&err);
	assert_int_equal(barrier_check_reason("no_plan", "nhse-acute-2023", known, 2, &err), ST_OK);
	assert_int_equal(barrier_check_reason("E", "nhse-acute-2023", known, 2, &err), ST_INVALID);
	assert_string_equal(err.field, "reason");
	assert_non_null(strstr(err.message, "\"nhse-acute-2023\""));
	assert_non_null(strstr(err.message, "\"E\""));
}

static void test_primary_rules(void **state)
{
	struct barrier_open b[4] = {
	    {"b", 100, false},
	    {"a", 200, false},
	    {"c", 200, false},
	    {"d", 300, false},
	};

	(void)state;
	/* the first barrier opened becomes primary, asked or not */
	assert_int_equal(barrier_primary_after(b, 1, 0, false, false), 0);
	b[0].primary = true;
	/* a second one does not take it... */
	assert_int_equal(barrier_primary_after(b, 2, 1, false, false), 0);
	/* ...unless asked: the old primary stops being primary */
	assert_int_equal(barrier_primary_after(b, 2, 1, true, false), 1);
	/* making the primary primary again changes nothing */
	assert_int_equal(barrier_primary_after(b, 4, 0, true, false), 0);
	/* closing another barrier keeps the primary */
	assert_int_equal(barrier_primary_after(b, 4, 3, false, true), 0);
	/* closing the primary: the oldest remaining, the smaller id on a tie ("a" before "c") */
	assert_int_equal(barrier_primary_after(b, 4, 0, false, true), 1);
	/* closing the last open barrier leaves none */
	assert_int_equal(barrier_primary_after(b, 1, 0, false, true), -1);
	/* a change that is not about primary keeps it where it is */
	b[0].primary = false;
	b[3].primary = true;
	assert_int_equal(barrier_primary_after(b, 4, 1, false, false), 3);
	/* no primary among the others (never stored): the oldest becomes primary */
	b[3].primary = false;
	assert_int_equal(barrier_primary_after(b, 4, 3, false, false), 0);
}

/* 2026-04-14T09:00:00Z and the times around it */
#define T0 1776157200LL
#define HOUR 3600LL

static enum status opened(const char *body, const struct barrier_times *t, int64_t *out,
                          struct err *err)
{
	struct barrier_input in;
	enum status st = parse(body, true, &in, err);

	if (st != ST_OK)
		return st;
	*out = -1;
	return barrier_opened_at(&in, t, out, err);
}

static void test_parse_opened_at(void **state)
{
	struct barrier_input in;
	struct err err;

	(void)state;
	assert_int_equal(parse("{\"reason\":\"transport\"}", true, &in, &err), ST_OK);
	assert_false(in.has_opened_at);
	assert_int_equal(parse("{\"reason\":\"transport\",\"opened_at\":\"2026-04-14T09:00:00Z\"}",
	                       true, &in, &err),
	                 ST_OK);
	assert_true(in.has_opened_at);
	assert_int_equal(in.opened_at, T0);
	/* RFC 3339 with an offset, as json_get_time reads every other time */
	assert_int_equal(
	    parse("{\"reason\":\"transport\",\"opened_at\":\"2026-04-14T10:00:00+01:00\"}", true,
	          &in, &err),
	    ST_OK);
	assert_int_equal(in.opened_at, T0);
	assert_int_equal(
	    parse("{\"reason\":\"transport\",\"opened_at\":\"yesterday\"}", true, &in, &err),
	    ST_INVALID);
	assert_string_equal(err.field, "opened_at");
	assert_int_equal(parse("{\"reason\":\"transport\",\"opened_at\":5}", true, &in, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "opened_at");
	/* a barrier's opening is not edited afterwards */
	assert_int_equal(parse("{\"opened_at\":\"2026-04-14T09:00:00Z\"}", false, &in, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "opened_at");
}

static void test_opened_at_rules(void **state)
{
	/* now 14 Apr 09:00, admitted two days before, latest history row 13 Apr 09:00 */
	struct barrier_times t = {T0, T0 - 48 * HOUR, T0 - 24 * HOUR};
	struct err err;
	int64_t at;

	(void)state;
	/* not given: now, whatever the history says (unchanged behaviour) */
	assert_int_equal(opened("{\"reason\":\"transport\"}", &t, &at, &err), ST_OK);
	assert_int_equal(at, T0);
	t.latest_history = T0 + HOUR; /* only if the clock went back */
	assert_int_equal(opened("{\"reason\":\"transport\"}", &t, &at, &err), ST_OK);
	assert_int_equal(at, T0);
	t.latest_history = T0 - 24 * HOUR;
	/* backdated to the DRD two days ago... */
	assert_int_equal(opened("{\"reason\":\"transport\",\"opened_at\":\"2026-04-13T09:00:00Z\"}",
	                        &t, &at, &err),
	                 ST_OK);
	assert_int_equal(at, T0 - 24 * HOUR); /* at the latest row itself: allowed */
	assert_int_equal(opened("{\"reason\":\"transport\",\"opened_at\":\"2026-04-12T09:00:00Z\"}",
	                        &(struct barrier_times){T0, T0 - 48 * HOUR, 0}, &at, &err),
	                 ST_OK);
	assert_int_equal(at, T0 - 48 * HOUR); /* at the admission itself: allowed */
	/* ...but not before the latest history row, */
	err_clear(&err);
	assert_int_equal(opened("{\"reason\":\"transport\",\"opened_at\":\"2026-04-13T08:59:59Z\"}",
	                        &t, &at, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "opened_at");
	assert_non_null(strstr(err.message, "latest change"));
	assert_non_null(strstr(err.message, "2026-04-13T09:00:00Z"));
	/* nor before the admission (that refusal first: it is the plainer one) */
	assert_int_equal(opened("{\"reason\":\"transport\",\"opened_at\":\"2026-04-12T08:59:59Z\"}",
	                        &t, &at, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "opened_at");
	assert_non_null(strstr(err.message, "before the admission"));
	/* nor in the future: up to an hour ahead is a fast clock, taken as now */
	assert_int_equal(opened("{\"reason\":\"transport\",\"opened_at\":\"2026-04-14T10:00:00Z\"}",
	                        &t, &at, &err),
	                 ST_OK);
	assert_int_equal(at, T0);
	assert_int_equal(opened("{\"reason\":\"transport\",\"opened_at\":\"2026-04-14T10:00:01Z\"}",
	                        &t, &at, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "opened_at");
	assert_non_null(strstr(err.message, "in the future"));
	/* a clock gone back behind the history: a given time (even now) is refused */
	t.latest_history = T0 + 60;
	assert_int_equal(opened("{\"reason\":\"transport\",\"opened_at\":\"2026-04-14T09:00:00Z\"}",
	                        &t, &at, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "opened_at");
}

static void test_check_change(void **state)
{
	struct err err;

	(void)state;
	err_clear(&err);
	assert_int_equal(barrier_check_change(false, "x", &err), ST_OK);
	assert_int_equal(barrier_check_change(true, "x", &err), ST_CONFLICT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_create),    cmocka_unit_test(test_parse_patch),
	    cmocka_unit_test(test_check_reason),    cmocka_unit_test(test_primary_rules),
	    cmocka_unit_test(test_check_change),    cmocka_unit_test(test_parse_opened_at),
	    cmocka_unit_test(test_opened_at_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

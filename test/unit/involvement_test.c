/*
 * involvement_test.c - unit tests for lib/involvement: the form of a record
 * of the patient's, family's or carer's involvement, and when it may have
 * happened.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "cbtime.h"
#include "involvement.h"
#include "status.h"

static int64_t utc(int y, int m, int d, int h, int mi)
{
	return (int64_t)date_from_ymd(y, m, d) * 86400 + h * 3600 + mi * 60;
}

static enum status parse(const char *body, int64_t now, struct involvement *in, struct err *err)
{
	cJSON *j = cJSON_Parse(body);
	enum status st;

	assert_non_null(j);
	err_clear(err);
	st = involvement_parse(j, now, in, err);
	cJSON_Delete(j);
	return st;
}

static void test_involvement_parse(void **state)
{
	static const struct {
		const char *body;
		enum status st;
		const char *field;
	} cases[] = {
	    {"{\"who\": \"patient\", \"agreed\": true}", ST_OK, ""},
	    {"{\"who\": \"family\", \"agreed\": false, \"name\": \"A Relative\","
	     " \"note\": \"wants a care home\"}",
	     ST_OK, ""},
	    {"{\"who\": \"unpaid_carer\", \"agreed\": true, \"discussed_at\": "
	     "\"2026-03-10T09:00:00Z\"}",
	     ST_OK, ""},
	    {"{\"who\": \"advocate\", \"agreed\": true, \"discussed_at\": "
	     "\"2026-03-10T12:00:00Z\"}",
	     ST_OK, ""}, /* exactly now */
	    /* refused */
	    {"{\"agreed\": true}", ST_INVALID, "who"},
	    {"{\"who\": \"friend\", \"agreed\": true}", ST_INVALID, "who"},
	    {"{\"who\": \"Patient\", \"agreed\": true}", ST_INVALID, "who"},
	    {"{\"who\": 1, \"agreed\": true}", ST_INVALID, "who"},
	    {"{\"who\": \"patient\"}", ST_INVALID, "agreed"},
	    {"{\"who\": \"patient\", \"agreed\": \"yes\"}", ST_INVALID, "agreed"},
	    {"{\"who\": \"patient\", \"agreed\": true, \"discussed_at\": "
	     "\"2026-03-10T12:00:01Z\"}",
	     ST_INVALID, "discussed_at"},
	    {"{\"who\": \"patient\", \"agreed\": true, \"discussed_at\": \"tomorrow\"}", ST_INVALID,
	     "discussed_at"},
	    {"{\"who\": \"patient\", \"agreed\": true, \"name\": 7}", ST_INVALID, "name"},
	    {"{\"who\": \"patient\", \"agreed\": true, \"whom\": \"x\"}", ST_INVALID, "whom"},
	};
	int64_t now = utc(2026, 3, 10, 12, 0);
	struct involvement in;
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum status st = parse(cases[i].body, now, &in, &err);

		if (st != cases[i].st)
			fail_msg("case %zu: status %d, want %d (%s)", i, st, cases[i].st,
			         err.message);
		if (st != ST_OK)
			assert_string_equal(err.field, cases[i].field);
	}
	assert_int_equal(
	    parse("{\"who\": \"family\", \"agreed\": false, \"name\": \"B\"}", now, &in, &err),
	    ST_OK);
	assert_int_equal(in.who, INVOLVEMENT_FAMILY);
	assert_false(in.agreed);
	assert_string_equal(in.name, "B");
	assert_string_equal(in.note, "");
	assert_int_equal(in.discussed_at, now); /* defaults to now */
}

static void test_involvement_long_text(void **state)
{
	char body[4200], note[INVOLVEMENT_NOTE_MAX + 2];
	struct involvement in;
	struct err err;

	(void)state;
	memset(note, 'n', sizeof note - 1);
	note[sizeof note - 1] = '\0'; /* one byte over */
	snprintf(body, sizeof body, "{\"who\": \"patient\", \"agreed\": true, \"note\": \"%s\"}",
	         note);
	assert_int_equal(parse(body, 0, &in, &err), ST_INVALID);
	assert_string_equal(err.field, "note");
	note[sizeof note - 2] = '\0'; /* exactly the limit */
	snprintf(body, sizeof body, "{\"who\": \"patient\", \"agreed\": true, \"note\": \"%s\"}",
	         note);
	assert_int_equal(parse(body, 0, &in, &err), ST_OK);
}

static void test_involvement_episode(void **state)
{
	int64_t adm = utc(2026, 3, 1, 10, 0), dis = utc(2026, 3, 8, 15, 0);
	struct involvement_episode inpatient = {"admitted", adm, 0};
	struct involvement_episode gone = {"discharged", adm, dis};
	struct involvement_episode never = {"cancelled", adm, 0};
	struct involvement in;
	struct err err;

	(void)state;
	memset(&in, 0, sizeof in);
	in.discussed_at = adm;
	assert_int_equal(involvement_check_episode(&in, &inpatient, &err), ST_OK);
	in.discussed_at = adm - 1;
	err_clear(&err);
	assert_int_equal(involvement_check_episode(&in, &inpatient, &err), ST_INVALID);
	assert_string_equal(err.field, "discussed_at");
	/* entered after the discharge, about a conversation before it */
	in.discussed_at = dis;
	assert_int_equal(involvement_check_episode(&in, &gone, &err), ST_OK);
	in.discussed_at = dis + 1;
	err_clear(&err);
	assert_int_equal(involvement_check_episode(&in, &gone, &err), ST_INVALID);
	assert_string_equal(err.field, "discussed_at");
	in.discussed_at = adm + 60;
	assert_int_equal(involvement_check_episode(&in, &never, &err), ST_CONFLICT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_involvement_parse),
	    cmocka_unit_test(test_involvement_long_text),
	    cmocka_unit_test(test_involvement_episode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

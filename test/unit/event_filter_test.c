/*
 * event_filter_test.c - which live events a subscriber's principal may
 * receive: events without a ward go to admin and system only, except events
 * about a report ("sitrep.submitted"), which follow report reading.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "event_filter.h"

static const char *const wards[] = {"A1"};

static void test_report_events_follow_report_reading(void **state)
{
	static const struct {
		enum role role;
		const char *type;
		const char *ward;
		bool want;
	} cases[] = {
	    {ROLE_BED_MANAGER, "sitrep.submitted", NULL, true},
	    {ROLE_ADMIN, "sitrep.submitted", NULL, true},
	    {ROLE_SYSTEM, "sitrep.submitted", NULL, true},
	    {ROLE_NURSE, "sitrep.submitted", NULL, false},
	    {ROLE_OT, "sitrep.submitted", NULL, false},
	    {ROLE_SOCIAL_WORKER, "sitrep.submitted", NULL, false},
	    /* other ward-less events stay with admin and system */
	    {ROLE_BED_MANAGER, "user.created", NULL, false},
	    {ROLE_ADMIN, "user.created", NULL, true},
	    /* a "sitrep." prefix on a ward's event changes nothing */
	    {ROLE_NURSE, "sitrep.submitted", "A1", true},
	    {ROLE_NURSE, "sitrep.submitted", "B2", false},
	    {ROLE_BED_MANAGER, "episode.updated", "B2", true},
	};
	struct event_filter f;

	(void)state;
	event_filter_init(&f);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct principal p = {
		    "6f1c0a7e-3b7d-4e0a-9d6e-1c2b3a4d5e6f", "Test", cases[i].role, wards, 1, ""};
		struct event_facts e = {cases[i].type, cases[i].ward, NULL, NULL};

		if (event_filter_matches(&f, &p, &e) != cases[i].want)
			fail_msg("case %zu: %s %s got %d", i, role_name(cases[i].role),
			         cases[i].type, !cases[i].want);
	}
}

/* A ward filter still narrows: a bed manager watching one ward gets no ward-less event. */
static void test_ward_filter_narrows(void **state)
{
	struct principal p = {
	    "6f1c0a7e-3b7d-4e0a-9d6e-1c2b3a4d5e6f", "Test", ROLE_BED_MANAGER, wards, 1, ""};
	struct event_facts e = {"sitrep.submitted", "", NULL, NULL};
	struct event_filter f;

	(void)state;
	event_filter_init(&f);
	assert_int_equal(event_filter_add(&f, "ward", "A1", NULL), ST_OK);
	assert_false(event_filter_matches(&f, &p, &e));
	event_filter_init(&f);
	assert_int_equal(event_filter_add(&f, "type", "sitrep.*", NULL), ST_OK);
	assert_true(event_filter_matches(&f, &p, &e));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_report_events_follow_report_reading),
	    cmocka_unit_test(test_ward_filter_narrows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

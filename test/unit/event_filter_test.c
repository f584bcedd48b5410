/*
 * event_filter_test.c - which live events a subscriber's principal may
 * receive: events without a ward go to admin and system only, except events
 * about a report ("sitrep.submitted"), which follow report reading.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
		struct principal p = {"6f1c0a7e-3b7d-4e0a-9d6e-1c2b3a4d5e6f",
		                      "Test",
		                      cases[i].role,
		                      wards,
		                      1,
		                      "",
		                      false};
		struct event_facts e = {cases[i].type, cases[i].ward, NULL, NULL, NULL};

		if (event_filter_matches(&f, &p, &e) != cases[i].want)
			fail_msg("case %zu: %s %s got %d", i, role_name(cases[i].role),
			         cases[i].type, !cases[i].want);
	}
}

/* A ward filter still narrows: a bed manager watching one ward gets no ward-less event. */
static void test_ward_filter_narrows(void **state)
{
	struct principal p = {
	    "6f1c0a7e-3b7d-4e0a-9d6e-1c2b3a4d5e6f", "Test", ROLE_BED_MANAGER, wards, 1, "", false};
	struct event_facts e = {"sitrep.submitted", "", NULL, NULL, NULL};
	struct event_filter f;

	(void)state;
	event_filter_init(&f);
	assert_int_equal(event_filter_add(&f, "ward", "A1", NULL), ST_OK);
	assert_false(event_filter_matches(&f, &p, &e));
	event_filter_init(&f);
	assert_int_equal(event_filter_add(&f, "type", "sitrep.*", NULL), ST_OK);
	assert_true(event_filter_matches(&f, &p, &e));
}

#define HUB_A "0a000000-0000-4000-8000-00000000000a"
#define HUB_B "0b000000-0000-4000-8000-00000000000b"
#define PROV "0c000000-0000-4000-8000-00000000000c"

/*
 * A partner receives the events of referrals to its organisation and
 * nothing else: not another organisation's, not a ward's other events, not
 * ward-less ones; without an organisation loaded, nothing (fail closed).
 * Trust roles are unchanged by an event's organisations.
 */
static void test_partner_events_follow_organisation(void **state)
{
	static const struct {
		enum role role;
		const char *org;
		const char *type;
		const char *ward;
		const char *orgs;
		bool want;
	} cases[] = {
	    {ROLE_HUB_COORDINATOR, HUB_A, "referral.updated", "A1", HUB_A, true},
	    {ROLE_HUB_COORDINATOR, HUB_A, "referral.updated", "B2", PROV "," HUB_A, true},
	    {ROLE_HUB_COORDINATOR, HUB_A, "referral.updated", "A1", HUB_B, false},
	    {ROLE_HUB_COORDINATOR, HUB_A, "referral.updated", "A1", HUB_B "," PROV, false},
	    {ROLE_HUB_COORDINATOR, HUB_A, "episode.updated", "A1", NULL, false},
	    {ROLE_HUB_COORDINATOR, HUB_A, "task.updated", "A1", "", false},
	    {ROLE_HUB_COORDINATOR, HUB_A, "user.created", NULL, NULL, false},
	    {ROLE_HUB_COORDINATOR, HUB_A, "sitrep.submitted", NULL, NULL, false},
	    {ROLE_HUB_COORDINATOR, "", "referral.updated", "A1", HUB_A, false},
	    {ROLE_COUNCIL_SOCIAL_WORKER, HUB_B, "referral.created", "A1", HUB_B, true},
	    {ROLE_COUNCIL_SOCIAL_WORKER, HUB_B, "referral.created", "A1", HUB_A, false},
	    {ROLE_PROVIDER_STAFF, PROV, "referral.updated", "A1", HUB_A "," PROV, true},
	    {ROLE_PROVIDER_STAFF, PROV, "referral.updated", "A1", HUB_A, false},
	    /* a value that is not a UUID names no one */
	    {ROLE_PROVIDER_STAFF, PROV, "referral.updated", "A1", "x," PROV "x", false},
	    /* trust roles: the ward decides, as before */
	    {ROLE_NURSE, "", "referral.updated", "A1", HUB_A, true},
	    {ROLE_NURSE, "", "referral.updated", "B2", HUB_A, false},
	    {ROLE_BED_MANAGER, "", "referral.updated", "B2", HUB_A, true},
	};
	struct event_filter f;

	(void)state;
	event_filter_init(&f);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct principal p = {"6f1c0a7e-3b7d-4e0a-9d6e-1c2b3a4d5e6f",
		                      "Test",
		                      cases[i].role,
		                      wards,
		                      1,
		                      "",
		                      false};
		struct event_facts e = {cases[i].type, cases[i].ward, NULL, NULL, cases[i].orgs};

		snprintf(p.organisation, sizeof p.organisation, "%s", cases[i].org);
		if (event_filter_matches(&f, &p, &e) != cases[i].want)
			fail_msg("case %zu: %s %s got %d", i, role_name(cases[i].role),
			         cases[i].type, !cases[i].want);
	}
}

/* A partner may name any ward: the filter narrows, the organisation still decides. */
static void test_partner_ward_filter_narrows(void **state)
{
	struct principal p = {"6f1c0a7e-3b7d-4e0a-9d6e-1c2b3a4d5e6f",
	                      "Test",
	                      ROLE_HUB_COORDINATOR,
	                      NULL,
	                      0,
	                      HUB_A,
	                      false};
	struct event_facts in = {"referral.updated", "C3", NULL, NULL, HUB_A};
	struct event_facts other = {"referral.updated", "D4", NULL, NULL, HUB_A};
	struct event_filter f;

	(void)state;
	event_filter_init(&f);
	assert_int_equal(event_filter_add(&f, "ward", "C3", NULL), ST_OK);
	assert_int_equal(event_filter_authorise(&f, &p, NULL), ST_OK);
	assert_true(event_filter_matches(&f, &p, &in));
	assert_false(event_filter_matches(&f, &p, &other));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_report_events_follow_report_reading),
	    cmocka_unit_test(test_ward_filter_narrows),
	    cmocka_unit_test(test_partner_events_follow_organisation),
	    cmocka_unit_test(test_partner_ward_filter_narrows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * assessment_test.c - assessment state names, the transition table and
 * claiming.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "assessment.h"

/* Assertions that name the table row at fault. */
#define EXPECT_INT(i, got, want)                                                                   \
	do {                                                                                       \
		long long got_ = (got), want_ = (want);                                            \
		if (got_ != want_)                                                                 \
			fail_msg("case %zu: %s is %lld, want %lld", (size_t)(i), #got, got_,       \
			         want_);                                                           \
	} while (0)
#define EXPECT_STR(i, got, want)                                                                   \
	do {                                                                                       \
		const char *got_ = (got), *want_ = (want);                                         \
		if (strcmp(got_, want_) != 0)                                                      \
			fail_msg("case %zu: %s is \"%s\", want \"%s\"", (size_t)(i), #got, got_,   \
			         want_);                                                           \
	} while (0)

static const struct {
	enum assessment_state s;
	const char *name;
} state_cases[] = {
    {ASSESSMENT_UNCLAIMED, "unclaimed"},     {ASSESSMENT_CLAIMED, "claimed"},
    {ASSESSMENT_IN_PROGRESS, "in-progress"}, {ASSESSMENT_ON_HOLD, "on-hold"},
    {ASSESSMENT_COMPLETED, "completed"},     {ASSESSMENT_CANCELLED, "cancelled"},
};

static void test_state_names(void **state)
{
	assert_int_equal(sizeof state_cases / sizeof state_cases[0], ASSESSMENT_STATE_COUNT);
	for (size_t i = 0; i < ASSESSMENT_STATE_COUNT; i++) {
		enum assessment_state got = ASSESSMENT_CANCELLED;

		EXPECT_STR(i, assessment_state_name(state_cases[i].s), state_cases[i].name);
		EXPECT_INT(i, assessment_state_parse(state_cases[i].name, &got, NULL), ST_OK);
		EXPECT_INT(i, got, state_cases[i].s);
	}
}

static void test_state_parse_rejects(void **state)
{
	static const char *const bad[] = {"",        "Unclaimed", "released", "in_progress",
	                                  "on_hold", "requested", "accepted", "claimed "};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		enum assessment_state got = ASSESSMENT_ON_HOLD;
		struct err err = {"", ""};

		EXPECT_INT(i, assessment_state_parse(bad[i], &got, &err), ST_INVALID);
		EXPECT_INT(i, got, ASSESSMENT_ON_HOLD);
		EXPECT_STR(i, err.field, "state");
	}
	assert_int_equal(assessment_state_parse(NULL, &(enum assessment_state){0}, NULL),
	                 ST_INVALID);
}

/*
 * transitions[from]: one character per target state in enum order
 * (unclaimed, claimed, in-progress, on-hold, completed, cancelled);
 * 'Y' allowed, '=' the same state (allowed, no change), '-' refused.
 */
static const char *const transitions[ASSESSMENT_STATE_COUNT] = {
    /*                          U C I H D X */
    [ASSESSMENT_UNCLAIMED] = "=Y---Y",   [ASSESSMENT_CLAIMED] = "Y=YYYY",
    [ASSESSMENT_IN_PROGRESS] = "--=YYY", [ASSESSMENT_ON_HOLD] = "--Y=-Y",
    [ASSESSMENT_COMPLETED] = "----=-",   [ASSESSMENT_CANCELLED] = "-----=",
};

static void test_transitions(void **state)
{
	for (size_t from = 0; from < ASSESSMENT_STATE_COUNT; from++) {
		for (size_t to = 0; to < ASSESSMENT_STATE_COUNT; to++) {
			size_t i = from * ASSESSMENT_STATE_COUNT + to;
			bool ok = transitions[from][to] != '-';
			enum status want_st = ok ? ST_OK : ST_CONFLICT;
			struct err err = {"", ""};
			char want[128];

			EXPECT_INT(i, assessment_can_transition(from, to, &err), want_st);
			EXPECT_INT(i, assessment_can_transition(from, to, NULL), want_st);
			if (ok) {
				EXPECT_STR(i, err.message, "");
				continue;
			}
			snprintf(want, sizeof want, "assessment cannot move from \"%s\" to \"%s\"",
			         state_cases[from].name, state_cases[to].name);
			EXPECT_STR(i, err.field, "state");
			EXPECT_STR(i, err.message, want);
		}
	}
}

static void test_transition_message(void **state)
{
	struct err err;

	assert_int_equal(
	    assessment_can_transition(ASSESSMENT_UNCLAIMED, ASSESSMENT_COMPLETED, &err),
	    ST_CONFLICT);
	assert_string_equal(err.field, "state");
	assert_string_equal(err.message,
	                    "assessment cannot move from \"unclaimed\" to \"completed\"");
}

static void test_claim(void **state)
{
	static const struct {
		enum assessment_state s;
		enum status st;
		const char *message;
	} cases[] = {
	    {ASSESSMENT_UNCLAIMED, ST_OK, NULL},
	    {ASSESSMENT_CLAIMED, ST_CONFLICT, "assessment is already \"claimed\""},
	    {ASSESSMENT_IN_PROGRESS, ST_CONFLICT, "assessment is already \"in-progress\""},
	    {ASSESSMENT_ON_HOLD, ST_CONFLICT, "assessment is already \"on-hold\""},
	    {ASSESSMENT_COMPLETED, ST_CONFLICT, "assessment is already \"completed\""},
	    {ASSESSMENT_CANCELLED, ST_CONFLICT, "assessment is already \"cancelled\""},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct err err = {"", ""};

		EXPECT_INT(i, assessment_can_claim(cases[i].s, &err), cases[i].st);
		EXPECT_INT(i, assessment_can_claim(cases[i].s, NULL), cases[i].st);
		if (cases[i].st == ST_OK) {
			EXPECT_STR(i, err.message, "");
		} else {
			EXPECT_STR(i, err.field, "state");
			EXPECT_STR(i, err.message, cases[i].message);
		}
	}
}

/* Day one to done: opened unclaimed, claimed, released, claimed again, worked, completed. */
static void test_life_cycle(void **state)
{
	static const enum assessment_state story[] = {
	    ASSESSMENT_CLAIMED,     ASSESSMENT_UNCLAIMED, ASSESSMENT_CLAIMED,
	    ASSESSMENT_IN_PROGRESS, ASSESSMENT_ON_HOLD,   ASSESSMENT_IN_PROGRESS,
	    ASSESSMENT_COMPLETED,
	};
	enum assessment_state s = ASSESSMENT_UNCLAIMED;

	for (size_t i = 0; i < sizeof story / sizeof story[0]; i++) {
		EXPECT_INT(i, assessment_can_transition(s, story[i], NULL), ST_OK);
		s = story[i];
	}
	assert_int_equal(assessment_can_claim(s, NULL), ST_CONFLICT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_names), cmocka_unit_test(test_state_parse_rejects),
	    cmocka_unit_test(test_transitions), cmocka_unit_test(test_transition_message),
	    cmocka_unit_test(test_claim),       cmocka_unit_test(test_life_cycle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

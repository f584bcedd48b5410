/*
 * episode_test.c - episode state and action names, the action table and the
 * resulting states.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "episode.h"

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

static void test_state_names(void **state)
{
	static const struct {
		enum episode_state s;
		const char *name;
	} cases[] = {
	    {EPISODE_ADMITTED, "admitted"},
	    {EPISODE_DISCHARGED, "discharged"},
	    {EPISODE_CANCELLED, "cancelled"},
	};

	assert_int_equal(sizeof cases / sizeof cases[0], EPISODE_STATE_COUNT);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum episode_state got = EPISODE_CANCELLED;
		struct err err = {"", ""};

		EXPECT_STR(i, episode_state_name(cases[i].s), cases[i].name);
		EXPECT_INT(i, episode_state_parse(cases[i].name, &got, &err), ST_OK);
		EXPECT_INT(i, got, cases[i].s);
	}
}

static void test_state_parse_rejects(void **state)
{
	static const char *const bad[] = {"",          "Admitted",  "ADMITTED",    "admitted ",
	                                  " admitted", "discharge", "in-progress", "finished"};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		enum episode_state got = EPISODE_DISCHARGED;
		struct err err = {"", ""};

		EXPECT_INT(i, episode_state_parse(bad[i], &got, &err), ST_INVALID);
		EXPECT_INT(i, got, EPISODE_DISCHARGED);
		EXPECT_STR(i, err.field, "state");
		EXPECT_STR(i, err.message,
		           "state must be \"admitted\", \"discharged\" or \"cancelled\"");
	}
	assert_int_equal(episode_state_parse(NULL, &(enum episode_state){0}, NULL), ST_INVALID);
}

static void test_action_names(void **state)
{
	static const struct {
		enum episode_action a;
		const char *name;
	} cases[] = {
	    {EPISODE_UPDATE, "update"},           {EPISODE_SET_READY, "set_ready"},
	    {EPISODE_CLEAR_READY, "clear_ready"}, {EPISODE_TRANSFER, "transfer"},
	    {EPISODE_DISCHARGE, "discharge"},     {EPISODE_CANCEL, "cancel"},
	    {EPISODE_REOPEN, "reopen"},
	};

	assert_int_equal(sizeof cases / sizeof cases[0], EPISODE_ACTION_COUNT);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum episode_action got = EPISODE_REOPEN;

		EXPECT_STR(i, episode_action_name(cases[i].a), cases[i].name);
		EXPECT_INT(i, episode_action_parse(cases[i].name, &got, NULL), ST_OK);
		EXPECT_INT(i, got, cases[i].a);
	}
	{
		struct err err = {"", ""};
		enum episode_action got;

		assert_int_equal(episode_action_parse("set-ready", &got, &err), ST_INVALID);
		assert_string_equal(err.field, "action");
		assert_int_equal(episode_action_parse(NULL, &got, NULL), ST_INVALID);
	}
}

/* Every state against every action: the allowed ones and the state they lead to. */
static const struct can_case {
	enum episode_state s;
	enum episode_action a;
	enum status st;
	enum episode_state next; /* when allowed */
	const char *message;     /* when refused */
} can_cases[] = {
    {EPISODE_ADMITTED, EPISODE_UPDATE, ST_OK, EPISODE_ADMITTED, NULL},
    {EPISODE_ADMITTED, EPISODE_SET_READY, ST_OK, EPISODE_ADMITTED, NULL},
    {EPISODE_ADMITTED, EPISODE_CLEAR_READY, ST_OK, EPISODE_ADMITTED, NULL},
    {EPISODE_ADMITTED, EPISODE_TRANSFER, ST_OK, EPISODE_ADMITTED, NULL},
    {EPISODE_ADMITTED, EPISODE_DISCHARGE, ST_OK, EPISODE_DISCHARGED, NULL},
    {EPISODE_ADMITTED, EPISODE_CANCEL, ST_OK, EPISODE_CANCELLED, NULL},
    {EPISODE_ADMITTED, EPISODE_REOPEN, ST_CONFLICT, 0, "episode is \"admitted\"; cannot reopen"},

    {EPISODE_DISCHARGED, EPISODE_UPDATE, ST_CONFLICT, 0,
     "episode is \"discharged\"; cannot update"},
    {EPISODE_DISCHARGED, EPISODE_SET_READY, ST_CONFLICT, 0,
     "episode is \"discharged\"; cannot mark ready for transfer"},
    {EPISODE_DISCHARGED, EPISODE_CLEAR_READY, ST_CONFLICT, 0,
     "episode is \"discharged\"; cannot withdraw readiness"},
    {EPISODE_DISCHARGED, EPISODE_TRANSFER, ST_CONFLICT, 0,
     "episode is \"discharged\"; cannot transfer"},
    {EPISODE_DISCHARGED, EPISODE_DISCHARGE, ST_CONFLICT, 0,
     "episode is \"discharged\"; cannot discharge"},
    {EPISODE_DISCHARGED, EPISODE_CANCEL, ST_CONFLICT, 0,
     "episode is \"discharged\"; cannot cancel"},
    {EPISODE_DISCHARGED, EPISODE_REOPEN, ST_OK, EPISODE_ADMITTED, NULL},

    {EPISODE_CANCELLED, EPISODE_UPDATE, ST_CONFLICT, 0, "episode is \"cancelled\"; cannot update"},
    {EPISODE_CANCELLED, EPISODE_SET_READY, ST_CONFLICT, 0,
     "episode is \"cancelled\"; cannot mark ready for transfer"},
    {EPISODE_CANCELLED, EPISODE_CLEAR_READY, ST_CONFLICT, 0,
     "episode is \"cancelled\"; cannot withdraw readiness"},
    {EPISODE_CANCELLED, EPISODE_TRANSFER, ST_CONFLICT, 0,
     "episode is \"cancelled\"; cannot transfer"},
    {EPISODE_CANCELLED, EPISODE_DISCHARGE, ST_CONFLICT, 0,
     "episode is \"cancelled\"; cannot discharge"},
    {EPISODE_CANCELLED, EPISODE_CANCEL, ST_CONFLICT, 0, "episode is \"cancelled\"; cannot cancel"},
    {EPISODE_CANCELLED, EPISODE_REOPEN, ST_CONFLICT, 0, "episode is \"cancelled\"; cannot reopen"},
};

static void test_can(void **state)
{
	assert_int_equal(sizeof can_cases / sizeof can_cases[0],
	                 EPISODE_STATE_COUNT * EPISODE_ACTION_COUNT);
	for (size_t i = 0; i < sizeof can_cases / sizeof can_cases[0]; i++) {
		const struct can_case *c = &can_cases[i];
		struct err err = {"", ""};

		EXPECT_INT(i, episode_can(c->s, c->a, &err), c->st);
		EXPECT_INT(i, episode_can(c->s, c->a, NULL), c->st);
		if (c->st == ST_OK) {
			EXPECT_STR(i, err.message, "");
			EXPECT_INT(i, episode_next_state(c->s, c->a), c->next);
		} else {
			EXPECT_STR(i, err.field, "state");
			EXPECT_STR(i, err.message, c->message);
		}
	}
}

/* An HL7 feed's usual story: admit, transfer, discharge, discharge cancelled, discharge. */
static void test_life_cycle(void **state)
{
	static const enum episode_action story[] = {
	    EPISODE_UPDATE,    EPISODE_TRANSFER,  EPISODE_SET_READY, EPISODE_CLEAR_READY,
	    EPISODE_SET_READY, EPISODE_DISCHARGE, EPISODE_REOPEN,    EPISODE_DISCHARGE,
	};
	enum episode_state s = EPISODE_ADMITTED;

	for (size_t i = 0; i < sizeof story / sizeof story[0]; i++) {
		EXPECT_INT(i, episode_can(s, story[i], NULL), ST_OK);
		s = episode_next_state(s, story[i]);
	}
	assert_int_equal(s, EPISODE_DISCHARGED);
}

static void test_pathway(void **state)
{
	static const struct {
		int pathway;
		bool valid;
	} cases[] = {
	    {-2, false}, {-1, false}, {0, true},  {1, true},
	    {2, true},   {3, true},   {4, false}, {100, false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		EXPECT_INT(i, pathway_is_valid(cases[i].pathway), cases[i].valid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_names),  cmocka_unit_test(test_state_parse_rejects),
	    cmocka_unit_test(test_action_names), cmocka_unit_test(test_can),
	    cmocka_unit_test(test_life_cycle),   cmocka_unit_test(test_pathway),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

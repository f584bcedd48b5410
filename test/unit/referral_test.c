/*
 * referral_test.c - referral states, steps and their details, the FHIR Task
 * status of each state and the barrier each state proposes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "referral.h"

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
		if ((got_ == NULL) != (want_ == NULL) ||                                           \
		    (got_ != NULL && strcmp(got_, want_) != 0))                                    \
			fail_msg("case %zu: %s is \"%s\", want \"%s\"", (size_t)(i), #got,         \
			         got_ ? got_ : "(null)", want_ ? want_ : "(null)");                \
	} while (0)

#define N REFERRAL_NOTIFIED
#define R REFERRAL_REFERRED
#define I REFERRAL_INFO_REQUESTED
#define A REFERRAL_ACCEPTED
#define D REFERRAL_DECLINED
#define S REFERRAL_SOURCED
#define C REFERRAL_START_CONFIRMED
#define X REFERRAL_COMPLETED
#define W REFERRAL_WITHDRAWN

static const struct {
	enum referral_state s;
	const char *name, *task_status;
	int final;
} state_cases[] = {
    {N, "notified", "draft", 0},         {R, "referred", "requested", 0},
    {I, "info_requested", "on-hold", 0}, {A, "accepted", "accepted", 0},
    {D, "declined", "rejected", 0},      {S, "sourced", "in-progress", 0},
    {C, "start_confirmed", "ready", 0},  {X, "completed", "completed", 1},
    {W, "withdrawn", "cancelled", 1},
};

static void test_states(void **state)
{
	(void)state;
	assert_int_equal(sizeof state_cases / sizeof state_cases[0], REFERRAL_STATE_COUNT);
	for (size_t i = 0; i < REFERRAL_STATE_COUNT; i++) {
		enum referral_state got = REFERRAL_WITHDRAWN;
		EXPECT_STR(i, referral_state_name(state_cases[i].s), state_cases[i].name);
		EXPECT_STR(i, referral_task_status(state_cases[i].s), state_cases[i].task_status);
		EXPECT_INT(i, referral_state_is_final(state_cases[i].s), state_cases[i].final);
		EXPECT_INT(i, referral_state_parse(state_cases[i].name, &got, NULL), ST_OK);
		EXPECT_INT(i, got, state_cases[i].s);
	}
	struct err err = {0};
	enum referral_state got;
	assert_int_equal(referral_state_parse("Notified", &got, &err), ST_INVALID);
	assert_string_equal(err.field, "state");
	assert_int_equal(referral_state_parse(NULL, &got, NULL), ST_INVALID);
}

/* A step's details that satisfy it, so the table test sees only the table. */
static struct referral_step_input good_input(enum referral_step step)
{
	struct referral_step_input in = {.today = 20000};
	switch (step) {
	case REFERRAL_STEP_REQUEST_INFO:
		in.info_request = "What support is there at home?";
		break;
	case REFERRAL_STEP_DECLINE:
	case REFERRAL_STEP_WITHDRAW:
		in.reason = "Out of area";
		break;
	case REFERRAL_STEP_SOURCE:
		in.has_service_kind = true;
		in.service_kind = SERVICE_REABLEMENT;
		in.has_start_date = true;
		in.start_date = 20002;
		break;
	case REFERRAL_STEP_CONFIRM_START:
		in.has_start_date = true;
		in.start_date = 20002;
		break;
	default:
		break;
	}
	return in;
}

/* allowed[step] lists the states the step may be taken from. */
static const struct {
	enum referral_step step;
	const char *name;
	enum referral_state to;
	const char *from; /* one letter per allowed state, as the #defines above */
	enum referral_side side;
} step_cases[] = {
    {REFERRAL_STEP_SEND, "send", R, "NID", REFERRAL_SIDE_TRUST},
    {REFERRAL_STEP_REQUEST_INFO, "request_info", I, "R", REFERRAL_SIDE_PARTNER},
    {REFERRAL_STEP_ACCEPT, "accept", A, "RI", REFERRAL_SIDE_PARTNER},
    {REFERRAL_STEP_DECLINE, "decline", D, "RI", REFERRAL_SIDE_PARTNER},
    {REFERRAL_STEP_SOURCE, "source", S, "ASC", REFERRAL_SIDE_PARTNER},
    {REFERRAL_STEP_CONFIRM_START, "confirm_start", C, "S", REFERRAL_SIDE_PARTNER},
    {REFERRAL_STEP_COMPLETE, "complete", X, "ASC", REFERRAL_SIDE_TRUST},
    {REFERRAL_STEP_WITHDRAW, "withdraw", W, "NRIADSC", REFERRAL_SIDE_TRUST},
};

static const char state_letters[REFERRAL_STATE_COUNT] = {
    [N] = 'N', [R] = 'R', [I] = 'I', [A] = 'A', [D] = 'D',
    [S] = 'S', [C] = 'C', [X] = 'X', [W] = 'W',
};

static void test_step_table(void **state)
{
	(void)state;
	assert_int_equal(sizeof step_cases / sizeof step_cases[0], REFERRAL_STEP_COUNT);
	for (size_t i = 0; i < REFERRAL_STEP_COUNT; i++) {
		enum referral_step parsed;
		EXPECT_STR(i, referral_step_name(step_cases[i].step), step_cases[i].name);
		EXPECT_INT(i, referral_step_parse(step_cases[i].name, &parsed, NULL), ST_OK);
		EXPECT_INT(i, parsed, step_cases[i].step);
		EXPECT_INT(i, referral_step_side(step_cases[i].step), step_cases[i].side);
		struct referral_step_input in = good_input(step_cases[i].step);
		for (int s = 0; s < REFERRAL_STATE_COUNT; s++) {
			enum referral_state to = N;
			struct err err = {0};
			int allowed = strchr(step_cases[i].from, state_letters[s]) != NULL;
			enum status st = referral_step_check((enum referral_state)s,
			                                     step_cases[i].step, &in, &to, &err);
			EXPECT_INT(i * 100 + (size_t)s, st, allowed ? ST_OK : ST_CONFLICT);
			if (allowed)
				EXPECT_INT(i * 100 + (size_t)s, to, step_cases[i].to);
			else
				EXPECT_STR(i * 100 + (size_t)s, err.field, "state");
		}
	}
	struct err err = {0};
	enum referral_step step;
	assert_int_equal(referral_step_parse("approve", &step, &err), ST_INVALID);
	assert_string_equal(err.field, "step");
}

static void test_step_message(void **state)
{
	(void)state;
	struct referral_step_input in = {0};
	struct err err = {0};
	enum referral_state to;
	assert_int_equal(referral_step_check(N, REFERRAL_STEP_ACCEPT, &in, &to, &err), ST_CONFLICT);
	assert_string_equal(err.message, "a referral that is \"notified\" cannot be accepted");
}

static void test_step_details(void **state)
{
	(void)state;
	enum referral_state to;
	struct err err = {0};

	/* required details */
	struct referral_step_input in = {.today = 20000};
	assert_int_equal(referral_step_check(R, REFERRAL_STEP_DECLINE, &in, &to, &err), ST_INVALID);
	assert_string_equal(err.field, "reason");
	assert_int_equal(referral_step_check(R, REFERRAL_STEP_REQUEST_INFO, &in, &to, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "info_request");
	assert_int_equal(referral_step_check(A, REFERRAL_STEP_SOURCE, &in, &to, &err), ST_INVALID);
	assert_string_equal(err.field, "service_kind");
	in.has_service_kind = true;
	assert_int_equal(referral_step_check(A, REFERRAL_STEP_SOURCE, &in, &to, &err), ST_INVALID);
	assert_string_equal(err.field, "start_date");
	in.reason = "";
	assert_int_equal(referral_step_check(N, REFERRAL_STEP_WITHDRAW, &in, &to, &err),
	                 ST_INVALID);

	/* an empty required text is refused */
	struct referral_step_input empty = {.reason = "", .today = 20000};
	assert_int_equal(referral_step_check(N, REFERRAL_STEP_WITHDRAW, &empty, &to, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "reason");

	/* details a step does not take are refused, not dropped */
	struct referral_step_input extra = {.reason = "no", .today = 20000};
	assert_int_equal(referral_step_check(R, REFERRAL_STEP_ACCEPT, &extra, &to, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "reason");

	/* lengths */
	static char long_text[REFERRAL_NEEDS_MAX + 2];
	memset(long_text, 'x', sizeof long_text - 1);
	struct referral_step_input big = {.needs = long_text, .today = 20000};
	assert_int_equal(referral_step_check(N, REFERRAL_STEP_SEND, &big, &to, &err), ST_INVALID);
	assert_string_equal(err.field, "needs");
	long_text[REFERRAL_NEEDS_MAX] = '\0';
	assert_int_equal(referral_step_check(N, REFERRAL_STEP_SEND, &big, &to, &err), ST_OK);

	/* a confirmed start is today or later */
	struct referral_step_input start = {
	    .has_start_date = true, .start_date = 19999, .today = 20000};
	assert_int_equal(referral_step_check(S, REFERRAL_STEP_CONFIRM_START, &start, &to, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "start_date");
	start.start_date = 20000;
	assert_int_equal(referral_step_check(S, REFERRAL_STEP_CONFIRM_START, &start, &to, &err),
	                 ST_OK);
	assert_int_equal(to, C);
}

static void test_service_kinds(void **state)
{
	(void)state;
	const char *names[] = {"home_care", "reablement", "intermediate_care_bed",
	                       "care_home", "equipment",  "other"};
	assert_int_equal(sizeof names / sizeof names[0], REFERRAL_SERVICE_KIND_COUNT);
	for (size_t i = 0; i < REFERRAL_SERVICE_KIND_COUNT; i++) {
		enum referral_service_kind k;
		EXPECT_INT(i, referral_service_kind_parse(names[i], &k, NULL), ST_OK);
		EXPECT_STR(i, referral_service_kind_name(k), names[i]);
	}
	struct err err = {0};
	enum referral_service_kind k;
	assert_int_equal(referral_service_kind_parse("taxi", &k, &err), ST_INVALID);
	assert_string_equal(err.field, "service_kind");
}

static void test_needed_and_proposed(void **state)
{
	(void)state;
	assert_false(referral_needed(-1));
	assert_false(referral_needed(0));
	assert_true(referral_needed(1));
	assert_true(referral_needed(3));
	assert_false(referral_needed(4));

	static const struct {
		enum referral_state s;
		int pathway;
		const char *reason;
	} cases[] = {
	    {N, 1, "referral_to_spa"},
	    {D, 2, "referral_to_spa"},
	    {R, 1, "hub_confirmation"},
	    {I, 3, "hub_confirmation"},
	    {A, 1, "p1_awaiting_care"},
	    {S, 1, "p1_awaiting_care"},
	    {C, 1, "p1_awaiting_care"},
	    {A, 2, "p2_awaiting_rehab_bed"},
	    {S, 3, "p3_awaiting_care_home"},
	    {A, -1, "hub_confirmation"},
	    {A, 0, "hub_confirmation"},
	    {X, 1, NULL},
	    {W, 2, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		EXPECT_STR(i, referral_proposed_reason(cases[i].s, cases[i].pathway),
		           cases[i].reason);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_states),        cmocka_unit_test(test_step_table),
	    cmocka_unit_test(test_step_message),  cmocka_unit_test(test_step_details),
	    cmocka_unit_test(test_service_kinds), cmocka_unit_test(test_needed_and_proposed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

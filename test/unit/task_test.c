/*
 * task_test.c - task status names, the transition table, open and overdue
 * tasks, and discipline names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "task.h"

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
	enum task_status s;
	const char *name;
	bool open;
} status_cases[] = {
    {TASK_REQUESTED, "requested", true},     {TASK_ACCEPTED, "accepted", true},
    {TASK_IN_PROGRESS, "in-progress", true}, {TASK_ON_HOLD, "on-hold", true},
    {TASK_COMPLETED, "completed", false},    {TASK_CANCELLED, "cancelled", false},
};

static void test_status_names(void **state)
{
	assert_int_equal(sizeof status_cases / sizeof status_cases[0], TASK_STATUS_COUNT);
	for (size_t i = 0; i < TASK_STATUS_COUNT; i++) {
		enum task_status got = TASK_CANCELLED;

		EXPECT_STR(i, task_status_name(status_cases[i].s), status_cases[i].name);
		EXPECT_INT(i, task_status_parse(status_cases[i].name, &got, NULL), ST_OK);
		EXPECT_INT(i, got, status_cases[i].s);
		EXPECT_INT(i, task_status_is_open(status_cases[i].s), status_cases[i].open);
	}
}

static void test_status_parse_rejects(void **state)
{
	/* Other FHIR statuses carebridge does not use, and near misses. */
	static const char *const bad[] = {
	    "",           "draft",   "received",         "rejected",
	    "ready",      "failed",  "entered-in-error", "in_progress",
	    "inprogress", "on_hold", "Completed",        "open",
	    "done"};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		enum task_status got = TASK_ON_HOLD;
		struct err err = {"", ""};

		EXPECT_INT(i, task_status_parse(bad[i], &got, &err), ST_INVALID);
		EXPECT_INT(i, got, TASK_ON_HOLD);
		EXPECT_STR(i, err.field, "status");
	}
	assert_int_equal(task_status_parse(NULL, &(enum task_status){0}, NULL), ST_INVALID);
}

/*
 * transitions[from]: one character per target status in enum order
 * (requested, accepted, in-progress, on-hold, completed, cancelled);
 * 'Y' allowed, '=' the same status (allowed, no change), '-' refused.
 */
static const char *const transitions[TASK_STATUS_COUNT] = {
    /*                    R A I H C X */
    [TASK_REQUESTED] = "=YYYYY", [TASK_ACCEPTED] = "-=YYYY",  [TASK_IN_PROGRESS] = "--=YYY",
    [TASK_ON_HOLD] = "-YY=-Y",   [TASK_COMPLETED] = "----=-", [TASK_CANCELLED] = "-----=",
};

static void test_transitions(void **state)
{
	for (size_t from = 0; from < TASK_STATUS_COUNT; from++) {
		for (size_t to = 0; to < TASK_STATUS_COUNT; to++) {
			size_t i = from * TASK_STATUS_COUNT + to;
			bool ok = transitions[from][to] != '-';
			struct err err = {"", ""};
			char want[128];

			EXPECT_INT(i, task_can_transition(from, to, &err),
			           ok ? ST_OK : ST_CONFLICT);
			EXPECT_INT(i, task_can_transition(from, to, NULL),
			           ok ? ST_OK : ST_CONFLICT);
			if (ok) {
				EXPECT_STR(i, err.message, "");
				continue;
			}
			snprintf(want, sizeof want, "task cannot move from \"%s\" to \"%s\"",
			         status_cases[from].name, status_cases[to].name);
			EXPECT_STR(i, err.field, "status");
			EXPECT_STR(i, err.message, want);
		}
	}
}

static void test_transition_message(void **state)
{
	struct err err;

	assert_int_equal(task_can_transition(TASK_COMPLETED, TASK_REQUESTED, &err), ST_CONFLICT);
	assert_string_equal(err.field, "status");
	assert_string_equal(err.message, "task cannot move from \"completed\" to \"requested\"");
}

static void test_discipline(void **state)
{
	static const struct {
		const char *name;
		enum status st;
		const char *message;
	} cases[] = {
	    {"ward", ST_OK, NULL},
	    {"social_work", ST_OK, NULL},
	    {"ot", ST_OK, NULL},
	    {"physio", ST_OK, NULL},
	    {"pharmacy", ST_OK, NULL},
	    {"speech_and_language_therapy", ST_OK, NULL},
	    {"x", ST_OK, NULL},
	    {"dietetics2", ST_OK, NULL},
	    {"a_", ST_OK, NULL},
	    {"abcdefghijklmnopqrstuvwxyz012345", ST_OK, NULL}, /* 32 characters */
	    {NULL, ST_INVALID, "discipline must not be empty"},
	    {"", ST_INVALID, "discipline must not be empty"},
	    {"abcdefghijklmnopqrstuvwxyz0123456", ST_INVALID,
	     "discipline must be at most 32 characters"},
	    {"Ward", ST_INVALID, "discipline must start with a lower-case letter"},
	    {"_ward", ST_INVALID, "discipline must start with a lower-case letter"},
	    {"2nd_opinion", ST_INVALID, "discipline must start with a lower-case letter"},
	    {" ward", ST_INVALID, "discipline must start with a lower-case letter"},
	    {"social-work", ST_INVALID,
	     "discipline may contain only lower-case letters, digits and underscores"},
	    {"social work", ST_INVALID,
	     "discipline may contain only lower-case letters, digits and underscores"},
	    {"socialWork", ST_INVALID,
	     "discipline may contain only lower-case letters, digits and underscores"},
	    {"ward\n", ST_INVALID,
	     "discipline may contain only lower-case letters, digits and underscores"},
	    {"caf\xc3\xa9", ST_INVALID,
	     "discipline may contain only lower-case letters, digits and underscores"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct err err = {"", ""};

		EXPECT_INT(i, discipline_validate(cases[i].name, &err), cases[i].st);
		if (cases[i].st == ST_OK) {
			EXPECT_STR(i, err.message, "");
		} else {
			EXPECT_STR(i, err.field, "discipline");
			EXPECT_STR(i, err.message, cases[i].message);
		}
	}
}

static void test_overdue(void **state)
{
	/* 2026-03-29 01:00 UTC: the hour British Summer Time starts. */
	const int64_t due = 1774746000;
	static const struct {
		enum task_status s;
		int64_t due_at;
		int64_t now;
		bool overdue;
	} cases[] = {
	    {TASK_REQUESTED, due, due - 3600, false},
	    {TASK_REQUESTED, due, due - 1, false},
	    {TASK_REQUESTED, due, due, false},
	    {TASK_REQUESTED, due, due + 1, true},
	    {TASK_ACCEPTED, due, due + 86400, true},
	    {TASK_IN_PROGRESS, due, due + 1, true},
	    {TASK_ON_HOLD, due, due + 1, true},
	    {TASK_COMPLETED, due, due + 1, false},
	    {TASK_CANCELLED, due, due + 1, false},
	    /* no due time: never overdue */
	    {TASK_REQUESTED, 0, due, false},
	    {TASK_ON_HOLD, 0, INT64_MAX, false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		EXPECT_INT(i, task_is_overdue(cases[i].s, cases[i].due_at, cases[i].now),
		           cases[i].overdue);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_names), cmocka_unit_test(test_status_parse_rejects),
	    cmocka_unit_test(test_transitions),  cmocka_unit_test(test_transition_message),
	    cmocka_unit_test(test_discipline),   cmocka_unit_test(test_overdue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

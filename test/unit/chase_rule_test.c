/*
 * chase_rule_test.c - unit tests for lib/chase_rule: when overdue work is
 * chased, at which level, and when the next chase falls due.
 *
 * All times are offsets from one fixed due instant; the default policy is
 * "first chase when due, repeat every 4 h, team lead at 8 h, bed manager at
 * 24 h overdue".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chase_rule.h"
#include "status.h"

#define H INT64_C(3600)
#define DUE INT64_C(1795424400) /* 2026-11-23T09:00:00Z */

enum policy_kind {
	POLICY_DEFAULT,
	POLICY_FIRST_2H,  /* first_after = 2 h */
	POLICY_FIRST_10H, /* first_after = 10 h: past level 2's start */
	POLICY_LEVEL1_1H, /* level_after[1] = 1 h */
};

static void policy_make(enum policy_kind kind, struct chase_policy *p)
{
	chase_policy_default(p);
	switch (kind) {
	case POLICY_DEFAULT:
		break;
	case POLICY_FIRST_2H:
		p->first_after = 2 * H;
		break;
	case POLICY_FIRST_10H:
		p->first_after = 10 * H;
		break;
	case POLICY_LEVEL1_1H:
		p->level_after[1] = 1 * H;
		break;
	}
	assert_int_equal(chase_policy_validate(p, NULL), ST_OK);
}

struct chase_case {
	const char *name;
	enum policy_kind policy;
	int64_t due;           /* due_at */
	struct chase_state st; /* chases so far */
	int64_t now;           /* when chase_due is asked */
	bool due_now;          /* expected chase_due */
	int level;             /* expected *level */
	int64_t next;          /* expected chase_next_at */
};

static const struct chase_case chase_cases[] = {
    /* Never chased. */
    {"not yet due", POLICY_DEFAULT, DUE, {0, 0}, DUE - 1, false, 0, DUE},
    {"due now: first chase", POLICY_DEFAULT, DUE, {0, 0}, DUE, true, 1, DUE},
    {"never chased, 7:59 overdue", POLICY_DEFAULT, DUE, {0, 0}, DUE + 8 * H - 1, true, 1, DUE},
    {"never chased, 8 h overdue", POLICY_DEFAULT, DUE, {0, 0}, DUE + 8 * H, true, 2, DUE},
    {"never chased, 24 h overdue", POLICY_DEFAULT, DUE, {0, 0}, DUE + 24 * H, true, 3, DUE},
    /* Chased at level 1 when due: repeat at +4 h, escalate at +8 h. */
    {"level 1, 1 h later", POLICY_DEFAULT, DUE, {1, DUE}, DUE + 1 * H, false, 1, DUE + 4 * H},
    {"level 1, a second before repeat",
     POLICY_DEFAULT,
     DUE,
     {1, DUE},
     DUE + 4 * H - 1,
     false,
     1,
     DUE + 4 * H},
    {"level 1, repeat", POLICY_DEFAULT, DUE, {1, DUE}, DUE + 4 * H, true, 1, DUE + 4 * H},
    /* Chased at level 1 at +6 h: escalation at +8 h comes before the repeat at +10 h. */
    {"level 1, before escalation",
     POLICY_DEFAULT,
     DUE,
     {1, DUE + 6 * H},
     DUE + 8 * H - 1,
     false,
     1,
     DUE + 8 * H},
    {"level 1, escalation at once",
     POLICY_DEFAULT,
     DUE,
     {1, DUE + 6 * H},
     DUE + 8 * H,
     true,
     2,
     DUE + 8 * H},
    /* Chased at level 1 at +6 h, then no chase until +30 h (the server was
     * down): the chase raised then goes straight to level 3. */
    {"level 1, next asked a day later",
     POLICY_DEFAULT,
     DUE,
     {1, DUE + 6 * H},
     DUE + 30 * H,
     true,
     3,
     DUE + 8 * H},
    /* Level 2 at +8 h: repeat at +12 h, level 3 at +24 h. */
    {"level 2, waiting",
     POLICY_DEFAULT,
     DUE,
     {2, DUE + 8 * H},
     DUE + 9 * H,
     false,
     2,
     DUE + 12 * H},
    {"level 2, repeat", POLICY_DEFAULT, DUE, {2, DUE + 8 * H}, DUE + 12 * H, true, 2, DUE + 12 * H},
    {"level 2, escalate to 3",
     POLICY_DEFAULT,
     DUE,
     {2, DUE + 20 * H},
     DUE + 24 * H,
     true,
     3,
     DUE + 24 * H},
    /* Level 3 is the top: only repeats. */
    {"level 3, waiting",
     POLICY_DEFAULT,
     DUE,
     {3, DUE + 24 * H},
     DUE + 27 * H,
     false,
     3,
     DUE + 28 * H},
    {"level 3, repeat",
     POLICY_DEFAULT,
     DUE,
     {3, DUE + 24 * H},
     DUE + 28 * H,
     true,
     3,
     DUE + 28 * H},
    {"level 3, days later",
     POLICY_DEFAULT,
     DUE,
     {3, DUE + 24 * H},
     DUE + 100 * H,
     true,
     3,
     DUE + 28 * H},
    /* first_after delays the first chase. */
    {"first_after 2 h, not yet",
     POLICY_FIRST_2H,
     DUE,
     {0, 0},
     DUE + 2 * H - 1,
     false,
     0,
     DUE + 2 * H},
    {"first_after 2 h, first chase",
     POLICY_FIRST_2H,
     DUE,
     {0, 0},
     DUE + 2 * H,
     true,
     1,
     DUE + 2 * H},
    /* A first_after past level 2's start begins at level 2. */
    {"first_after 10 h, starts at level 2",
     POLICY_FIRST_10H,
     DUE,
     {0, 0},
     DUE + 10 * H,
     true,
     2,
     DUE + 10 * H},
    {"first_after 10 h, 9 h overdue",
     POLICY_FIRST_10H,
     DUE,
     {0, 0},
     DUE + 9 * H,
     false,
     0,
     DUE + 10 * H},
    {"first_after 10 h, level 2 repeat",
     POLICY_FIRST_10H,
     DUE,
     {2, DUE + 10 * H},
     DUE + 14 * H,
     true,
     2,
     DUE + 14 * H},
    /* level_after[1] also delays the start. */
    {"level 1 at 1 h, not yet",
     POLICY_LEVEL1_1H,
     DUE,
     {0, 0},
     DUE + 30 * 60,
     false,
     0,
     DUE + 1 * H},
    {"level 1 at 1 h, first chase",
     POLICY_LEVEL1_1H,
     DUE,
     {0, 0},
     DUE + 1 * H,
     true,
     1,
     DUE + 1 * H},
    /* The due date moved 20 h later after a level 3 chase at +10 h: nothing
     * until the new due instant, then a repeat at the new, lower level. */
    {"due moved later, before it",
     POLICY_DEFAULT,
     DUE + 20 * H,
     {3, DUE + 10 * H},
     DUE + 19 * H,
     false,
     0,
     DUE + 20 * H},
    {"due moved later, at it",
     POLICY_DEFAULT,
     DUE + 20 * H,
     {3, DUE + 10 * H},
     DUE + 20 * H,
     true,
     1,
     DUE + 20 * H},
};

static void test_chase_due_table(void **state)
{
	for (size_t i = 0; i < sizeof chase_cases / sizeof chase_cases[0]; i++) {
		const struct chase_case *c = &chase_cases[i];
		struct chase_policy p;
		int level = -1;
		bool got;

		policy_make(c->policy, &p);
		got = chase_due(&p, c->due, &c->st, c->now, &level);
		if (got != c->due_now || level != c->level)
			fail_msg("%s: chase_due %d level %d, expected %d level %d", c->name, got,
			         level, c->due_now, c->level);
		assert_int_equal(chase_level_at(&p, c->due, c->now), c->level);
		if (chase_next_at(&p, c->due, &c->st) != c->next)
			fail_msg("%s: next_at is due%+lld s, expected due%+lld s", c->name,
			         (long long)(chase_next_at(&p, c->due, &c->st) - c->due),
			         (long long)(c->next - c->due));
		/* level is optional. */
		assert_int_equal(chase_due(&p, c->due, &c->st, c->now, NULL), c->due_now);
	}
}

/*
 * chase_next_at is exact: not due a second before it, due at it, and (since
 * every condition only turns true with time) due at every later instant.
 */
static void test_chase_next_at_consistent(void **state)
{
	for (size_t i = 0; i < sizeof chase_cases / sizeof chase_cases[0]; i++) {
		const struct chase_case *c = &chase_cases[i];
		struct chase_policy p;
		int64_t next;

		policy_make(c->policy, &p);
		next = chase_next_at(&p, c->due, &c->st);
		assert_false(chase_due(&p, c->due, &c->st, next - 1, NULL));
		assert_true(chase_due(&p, c->due, &c->st, next, NULL));
		for (int64_t t = c->due - 2 * H; t <= c->due + 48 * H; t += 15 * 60) {
			if (chase_due(&p, c->due, &c->st, t, NULL) != (t >= next))
				fail_msg(
				    "%s: chase_due at due%+lld s disagrees with next_at due%+lld s",
				    c->name, (long long)(t - c->due), (long long)(next - c->due));
		}
	}
}

/* Chasing a task through two days as the server would: the chase instants. */
static void test_chase_sequence(void **state)
{
	/* Default policy, due at DUE: chases at +0 (L1), +4 (L1), +8 (L2),
	 * +12, +16, +20 (L2), +24 (L3), +28, +32 ... (L3). */
	static const struct {
		int64_t at;
		int level;
	} want[] = {
	    {0, 1},      {4 * H, 1},  {8 * H, 2},  {12 * H, 2},
	    {16 * H, 2}, {20 * H, 2}, {24 * H, 3}, {28 * H, 3},
	};
	struct chase_policy p;
	struct chase_state s = {0, 0};

	chase_policy_default(&p);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		int64_t next = chase_next_at(&p, DUE, &s);
		int level;

		assert_int_equal(next - DUE, want[i].at);
		assert_true(chase_due(&p, DUE, &s, next, &level));
		assert_int_equal(level, want[i].level);
		s.last_level = level;
		s.last_chased_at = next;
	}
}

static void test_chase_policy_validate(void **state)
{
	static const struct {
		const char *name;
		int64_t first_after, repeat_every, l1, l2, l3;
		enum status st;
		const char *field, *message;
	} cases[] = {
	    {"default", 0, 4 * H, 0, 8 * H, 24 * H, ST_OK, "", ""},
	    {"shortest repeat", 0, 60, 0, 1, 2, ST_OK, "", ""},
	    {"repeat too short", 0, 59, 0, 8 * H, 24 * H, ST_INVALID, "repeat_every",
	     "repeat_every must be at least 60 seconds"},
	    {"negative first_after", -1, 4 * H, 0, 8 * H, 24 * H, ST_INVALID, "first_after",
	     "first_after must be between 0 and 31622400 seconds"},
	    {"first_after too long", 367 * 24 * H, 4 * H, 0, 8 * H, 24 * H, ST_INVALID,
	     "first_after", "first_after must be between 0 and 31622400 seconds"},
	    {"negative level 1", 0, 4 * H, -1, 8 * H, 24 * H, ST_INVALID, "level_after[1]",
	     "level_after[1] must be between 0 and 31622400 seconds"},
	    {"level 2 not after level 1", 0, 4 * H, 8 * H, 8 * H, 24 * H, ST_INVALID,
	     "level_after[2]", "level_after[2] must be greater than level_after[1]"},
	    {"level 3 before level 2", 0, 4 * H, 0, 8 * H, 4 * H, ST_INVALID, "level_after[3]",
	     "level_after[3] must be greater than level_after[2]"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct chase_policy p;
		struct err err = {"", ""};

		chase_policy_default(&p);
		p.first_after = cases[i].first_after;
		p.repeat_every = cases[i].repeat_every;
		p.level_after[1] = cases[i].l1;
		p.level_after[2] = cases[i].l2;
		p.level_after[3] = cases[i].l3;
		if (chase_policy_validate(&p, &err) != cases[i].st)
			fail_msg("%s: unexpected status", cases[i].name);
		assert_string_equal(err.field, cases[i].field);
		assert_string_equal(err.message, cases[i].message);
	}
}

static void test_chase_level_target(void **state)
{
	assert_string_equal(chase_level_target(CHASE_LEVEL_DISCIPLINE), "discipline");
	assert_string_equal(chase_level_target(CHASE_LEVEL_TEAM_LEAD), "team_lead");
	assert_string_equal(chase_level_target(CHASE_LEVEL_BED_MANAGER), "bed_manager");
	assert_null(chase_level_target(CHASE_LEVEL_NONE));
	assert_null(chase_level_target(4));
	assert_null(chase_level_target(-1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chase_due_table),
	    cmocka_unit_test(test_chase_next_at_consistent),
	    cmocka_unit_test(test_chase_sequence),
	    cmocka_unit_test(test_chase_policy_validate),
	    cmocka_unit_test(test_chase_level_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

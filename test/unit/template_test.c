/*
 * template_test.c - which templates apply to a pathway, due times and
 * validation, against the default set the migration seeds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "template.h"

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

#define HOUR 3600
#define DAY (24 * HOUR)

/* The default set as documented in template.h and seeded by the migration. */
static const struct task_template seed[] = {
    {"00000000-0000-4000-8000-000000000001", 0, 3, "ward",
     "Confirm EDD and clinical criteria for discharge", TEMPLATE_AFTER_ADMISSION, 24 * HOUR, true},
    {"00000000-0000-4000-8000-000000000002", 0, 3, "ward", "Medicines to take out (TTO) ready",
     TEMPLATE_BEFORE_DISCHARGE, 24 * HOUR, true},
    {"00000000-0000-4000-8000-000000000003", 1, 3, "social_work", "Care Act assessment",
     TEMPLATE_AFTER_ADMISSION, 24 * HOUR, true},
    {"00000000-0000-4000-8000-000000000004", 1, 3, "ot", "Functional assessment",
     TEMPLATE_AFTER_ADMISSION, 48 * HOUR, true},
    {"00000000-0000-4000-8000-000000000005", 1, 3, "physio", "Mobility assessment",
     TEMPLATE_AFTER_ADMISSION, 48 * HOUR, true},
    {"00000000-0000-4000-8000-000000000006", 2, 3, "social_work", "Placement and funding search",
     TEMPLATE_AFTER_ADMISSION, 72 * HOUR, true},
    {"00000000-0000-4000-8000-000000000007", 2, 3, "ot", "Home visit or equipment order",
     TEMPLATE_AFTER_ADMISSION, 72 * HOUR, true},
};

#define NSEED (sizeof seed / sizeof seed[0])

static void test_seed_is_valid(void **state)
{
	for (size_t i = 0; i < NSEED; i++) {
		struct err err = {"", ""};

		EXPECT_INT(i, template_validate(&seed[i], &err), ST_OK);
		EXPECT_STR(i, err.message, "");
	}
}

static void test_select_seed(void **state)
{
	/* want: the titles selected, in seed order, NULL-terminated */
	static const struct {
		int pathway;
		const char *want[NSEED + 1];
	} cases[] = {
	    {-1,
	     {"Confirm EDD and clinical criteria for discharge",
	      "Medicines to take out (TTO) ready", NULL}},
	    {0,
	     {"Confirm EDD and clinical criteria for discharge",
	      "Medicines to take out (TTO) ready", NULL}},
	    {1,
	     {"Confirm EDD and clinical criteria for discharge",
	      "Medicines to take out (TTO) ready", "Care Act assessment", "Functional assessment",
	      "Mobility assessment", NULL}},
	    {2,
	     {"Confirm EDD and clinical criteria for discharge",
	      "Medicines to take out (TTO) ready", "Care Act assessment", "Functional assessment",
	      "Mobility assessment", "Placement and funding search",
	      "Home visit or equipment order", NULL}},
	    {3,
	     {"Confirm EDD and clinical criteria for discharge",
	      "Medicines to take out (TTO) ready", "Care Act assessment", "Functional assessment",
	      "Mobility assessment", "Placement and funding search",
	      "Home visit or equipment order", NULL}},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct task_template *out[NSEED];
		size_t want_n = 0;
		size_t n;

		while (cases[i].want[want_n] != NULL)
			want_n++;
		n = template_select(seed, NSEED, cases[i].pathway, out);
		EXPECT_INT(i, n, want_n);
		for (size_t k = 0; k < n && k < want_n; k++) {
			EXPECT_STR(i, out[k]->title, cases[i].want[k]);
			/* borrowed from the input, not copied */
			EXPECT_INT(i, out[k] >= seed && out[k] < seed + NSEED, true);
		}
	}
}

static void test_select_edges(void **state)
{
	struct task_template all[3];
	const struct task_template *out[3];

	memcpy(all, seed, sizeof all);
	all[1].active = false;
	/* inactive templates never apply */
	assert_int_equal(template_select(all, 3, 3, out), 2);
	assert_ptr_equal(out[0], &all[0]);
	assert_ptr_equal(out[1], &all[2]);
	assert_int_equal(template_select(all, 3, 0, out), 1);
	assert_ptr_equal(out[0], &all[0]);
	/* nothing to choose from */
	assert_int_equal(template_select(NULL, 0, 2, NULL), 0);
}

static void test_applies(void **state)
{
	static const struct {
		int min, max;
		bool active;
		int pathway;
		bool applies;
	} cases[] = {
	    {0, 3, true, -1, true},  {0, 3, true, 0, true},    {0, 3, true, 3, true},
	    {1, 3, true, -1, false}, {1, 3, true, 0, false},   {1, 3, true, 1, true},
	    {2, 2, true, 1, false},  {2, 2, true, 2, true},    {2, 2, true, 3, false},
	    {3, 3, true, 3, true},   {0, 0, true, -1, true},   {0, 0, true, 1, false},
	    {0, 3, false, 0, false}, {0, 3, false, -1, false}, {2, 3, false, 3, false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct task_template t = seed[0];

		t.min_pathway = cases[i].min;
		t.max_pathway = cases[i].max;
		t.active = cases[i].active;
		EXPECT_INT(i, template_applies(&t, cases[i].pathway), cases[i].applies);
	}
}

static void test_due_at(void **state)
{
	/*
	 * Admitted 2026-10-24 09:30 UTC, expected home 2026-10-26 14:00 UTC: the
	 * clocks go back on the 25th, and unix time does not care.
	 */
	const int64_t admitted = 1792834200;
	const int64_t edd = 1793023200;
	static const struct {
		enum template_anchor anchor;
		int64_t offset;
		bool has_edd;
		int64_t want; /* relative to admitted (after) or edd (before); 0 = none */
		bool none;
	} cases[] = {
	    {TEMPLATE_AFTER_ADMISSION, 24 * HOUR, true, 24 * HOUR, false},
	    {TEMPLATE_AFTER_ADMISSION, 72 * HOUR, false, 72 * HOUR, false},
	    {TEMPLATE_AFTER_ADMISSION, 0, false, 0, false},
	    {TEMPLATE_AFTER_ADMISSION, 90 * DAY, true, 90 * DAY, false},
	    {TEMPLATE_BEFORE_DISCHARGE, 24 * HOUR, true, -24 * HOUR, false},
	    {TEMPLATE_BEFORE_DISCHARGE, 0, true, 0, false},
	    {TEMPLATE_BEFORE_DISCHARGE, 24 * HOUR, false, 0, true},
	    {TEMPLATE_BEFORE_DISCHARGE, 0, false, 0, true},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct task_template t = seed[0];
		int64_t due = -1;
		int64_t want;

		t.anchor = cases[i].anchor;
		t.offset_seconds = cases[i].offset;
		EXPECT_INT(i, template_due_at(&t, admitted, cases[i].has_edd ? edd : 0, &due),
		           ST_OK);
		if (cases[i].none)
			want = 0;
		else if (cases[i].anchor == TEMPLATE_AFTER_ADMISSION)
			want = admitted + cases[i].want;
		else
			want = edd + cases[i].want;
		EXPECT_INT(i, due, want);
	}
}

/* The seed set for a pathway 3 admission: exact instants. */
static void test_due_at_seed(void **state)
{
	const int64_t admitted = 1774742400; /* 2026-03-29 00:00 UTC, BST starts at 01:00 */
	const int64_t edd = admitted + 10 * DAY;
	static const int64_t want[NSEED] = {
	    1774742400 + 86400,     1774742400 + 10 * 86400 - 86400, 1774742400 + 86400,
	    1774742400 + 2 * 86400, 1774742400 + 2 * 86400,          1774742400 + 3 * 86400,
	    1774742400 + 3 * 86400,
	};

	for (size_t i = 0; i < NSEED; i++) {
		int64_t due = 0;

		EXPECT_INT(i, template_due_at(&seed[i], admitted, edd, &due), ST_OK);
		EXPECT_INT(i, due, want[i]);
	}
}

static void test_due_at_bad_template(void **state)
{
	struct task_template t = seed[0];
	int64_t due = 5;

	t.offset_seconds = -1;
	assert_int_equal(template_due_at(&t, 1000, 2000, &due), ST_INVALID);
	assert_int_equal(due, 0);
	t.offset_seconds = 90 * DAY + 1;
	assert_int_equal(template_due_at(&t, 1000, 2000, &due), ST_INVALID);
	t.offset_seconds = INT64_MAX;
	assert_int_equal(template_due_at(&t, 1000, 2000, &due), ST_INVALID);
	t.offset_seconds = HOUR;
	t.anchor = (enum template_anchor)7;
	assert_int_equal(template_due_at(&t, 1000, 2000, &due), ST_INVALID);
}

static void test_anchor_names(void **state)
{
	enum template_anchor a = TEMPLATE_AFTER_ADMISSION;
	struct err err = {"", ""};

	assert_string_equal(template_anchor_name(TEMPLATE_AFTER_ADMISSION), "after_admission");
	assert_string_equal(template_anchor_name(TEMPLATE_BEFORE_DISCHARGE), "before_discharge");
	assert_int_equal(template_anchor_parse("before_discharge", &a, NULL), ST_OK);
	assert_int_equal(a, TEMPLATE_BEFORE_DISCHARGE);
	assert_int_equal(template_anchor_parse("after_admission", &a, NULL), ST_OK);
	assert_int_equal(a, TEMPLATE_AFTER_ADMISSION);
	assert_int_equal(template_anchor_parse("before-discharge", &a, &err), ST_INVALID);
	assert_string_equal(err.field, "anchor");
	assert_int_equal(template_anchor_parse(NULL, &a, NULL), ST_INVALID);
	assert_int_equal(a, TEMPLATE_AFTER_ADMISSION);
}

/* One field changed from a valid template at a time. */
enum mutation {
	MUT_NONE,
	MUT_MIN,
	MUT_MAX,
	MUT_DISCIPLINE,
	MUT_TITLE_LEN, /* title of n bytes */
	MUT_ANCHOR,
	MUT_OFFSET,
};

static void test_validate(void **state)
{
	static const struct {
		enum mutation what;
		int64_t value;
		const char *discipline;
		enum status st;
		const char *field;
	} cases[] = {
	    {MUT_NONE, 0, NULL, ST_OK, NULL},
	    {MUT_MIN, 0, NULL, ST_OK, NULL},
	    {MUT_MIN, 3, NULL, ST_OK, NULL}, /* 3..3 */
	    {MUT_MIN, -1, NULL, ST_INVALID, "min_pathway"},
	    {MUT_MIN, 4, NULL, ST_INVALID, "min_pathway"},
	    {MUT_MAX, 0, NULL, ST_OK, NULL}, /* 0..0 */
	    {MUT_MAX, 4, NULL, ST_INVALID, "max_pathway"},
	    {MUT_MAX, -1, NULL, ST_INVALID, "max_pathway"},
	    {MUT_DISCIPLINE, 0, "pharmacy", ST_OK, NULL},
	    {MUT_DISCIPLINE, 0, "", ST_INVALID, "discipline"},
	    {MUT_DISCIPLINE, 0, "Social Work", ST_INVALID, "discipline"},
	    {MUT_DISCIPLINE, 0, "abcdefghijklmnopqrstuvwxyz012345", ST_OK, NULL},
	    {MUT_TITLE_LEN, 1, NULL, ST_OK, NULL},
	    {MUT_TITLE_LEN, 200, NULL, ST_OK, NULL},
	    {MUT_TITLE_LEN, 0, NULL, ST_INVALID, "title"},
	    {MUT_TITLE_LEN, 201, NULL, ST_INVALID, "title"}, /* no NUL in the array */
	    {MUT_ANCHOR, TEMPLATE_BEFORE_DISCHARGE, NULL, ST_OK, NULL},
	    {MUT_ANCHOR, 2, NULL, ST_INVALID, "anchor"},
	    {MUT_ANCHOR, -1, NULL, ST_INVALID, "anchor"},
	    {MUT_OFFSET, 0, NULL, ST_OK, NULL},
	    {MUT_OFFSET, 90 * DAY, NULL, ST_OK, NULL},
	    {MUT_OFFSET, 90 * DAY + 1, NULL, ST_INVALID, "offset_seconds"},
	    {MUT_OFFSET, -1, NULL, ST_INVALID, "offset_seconds"},
	    {MUT_OFFSET, INT64_MIN, NULL, ST_INVALID, "offset_seconds"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct task_template t = seed[2]; /* pathways 1..3 */
		struct err err = {"", ""};

		switch (cases[i].what) {
		case MUT_NONE:
			break;
		case MUT_MIN:
			t.min_pathway = (int)cases[i].value;
			break;
		case MUT_MAX:
			t.min_pathway = 0;
			t.max_pathway = (int)cases[i].value;
			break;
		case MUT_DISCIPLINE:
			strcpy(t.discipline, cases[i].discipline);
			break;
		case MUT_TITLE_LEN:
			memset(t.title, 'x', (size_t)cases[i].value);
			if ((size_t)cases[i].value < sizeof t.title)
				t.title[cases[i].value] = '\0';
			break;
		case MUT_ANCHOR:
			t.anchor = (enum template_anchor)cases[i].value;
			break;
		case MUT_OFFSET:
			t.offset_seconds = cases[i].value;
			break;
		}
		EXPECT_INT(i, template_validate(&t, &err), cases[i].st);
		if (cases[i].st == ST_OK) {
			EXPECT_STR(i, err.message, "");
		} else {
			EXPECT_STR(i, err.field, cases[i].field);
			EXPECT_INT(i, err.message[0] != '\0', true);
		}
	}
}

static void test_validate_min_above_max(void **state)
{
	struct task_template t = seed[0];
	struct err err;

	t.min_pathway = 2;
	t.max_pathway = 1;
	assert_int_equal(template_validate(&t, &err), ST_INVALID);
	assert_string_equal(err.field, "max_pathway");
	assert_string_equal(err.message, "max_pathway must not be less than min_pathway");
}

/* An unterminated discipline array is refused, not read past. */
static void test_validate_unterminated_discipline(void **state)
{
	struct task_template t = seed[0];
	struct err err;

	memset(t.discipline, 'a', sizeof t.discipline);
	assert_int_equal(template_validate(&t, &err), ST_INVALID);
	assert_string_equal(err.field, "discipline");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seed_is_valid),
	    cmocka_unit_test(test_select_seed),
	    cmocka_unit_test(test_select_edges),
	    cmocka_unit_test(test_applies),
	    cmocka_unit_test(test_due_at),
	    cmocka_unit_test(test_due_at_seed),
	    cmocka_unit_test(test_due_at_bad_template),
	    cmocka_unit_test(test_anchor_names),
	    cmocka_unit_test(test_validate),
	    cmocka_unit_test(test_validate_min_above_max),
	    cmocka_unit_test(test_validate_unterminated_discipline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

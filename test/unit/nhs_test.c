/*
 * nhs_test.c - NHS number parsing, check digit and display form.
 *
 * The valid numbers below were checked by hand against the modulus-11 rule
 * (weights 10..2, check = 11 - sum mod 11).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nhs.h"

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

struct parse_case {
	const char *in;      /* what the user typed */
	enum status st;      /* expected status */
	const char *out;     /* expected digits ("" on failure) */
	const char *message; /* expected message on failure */
};

#define LEN "nhs_number must have 10 digits"
#define CHECK "nhs_number check digit is wrong"
#define CHARS "nhs_number may contain only digits and spaces"

static const struct parse_case parse_cases[] = {
    /* valid, in the forms people type */
    {"9434765919", ST_OK, "9434765919", NULL},
    {"943 476 5919", ST_OK, "9434765919", NULL},
    {"  943 476 5919  ", ST_OK, "9434765919", NULL},
    {"943  476  5919", ST_OK, "9434765919", NULL},
    {"9 4 3 4 7 6 5 9 1 9", ST_OK, "9434765919", NULL},
    {"4010232137", ST_OK, "4010232137", NULL},
    {"401 023 2137", ST_OK, "4010232137", NULL},
    {"9990000018", ST_OK, "9990000018", NULL},
    {"9876543210", ST_OK, "9876543210", NULL},
    {"4505577104", ST_OK, "4505577104", NULL},
    /* sum 264 = 24 * 11: remainder 0, check 11, which stands for 0 */
    {"9434765080", ST_OK, "9434765080", NULL},
    {"0000000000", ST_OK, "0000000000", NULL},
    /* wrong check digit */
    {"9434765918", ST_INVALID, "", CHECK},
    {"9434765910", ST_INVALID, "", CHECK},
    {"4010232138", ST_INVALID, "", CHECK},
    {"9434765089", ST_INVALID, "", CHECK},
    /* two digits swapped: what the check digit is for */
    {"4934765919", ST_INVALID, "", CHECK},
    /* remainder 1, check 10: no tenth digit makes these valid */
    {"1234567890", ST_INVALID, "", CHECK},
    {"1234567891", ST_INVALID, "", CHECK},
    {"9434765030", ST_INVALID, "", CHECK},
    {"9434765039", ST_INVALID, "", CHECK},
    /* wrong length */
    {"", ST_INVALID, "", LEN},
    {"   ", ST_INVALID, "", LEN},
    {"943476591", ST_INVALID, "", LEN},
    {"94347659190", ST_INVALID, "", LEN},
    {"943 476 591", ST_INVALID, "", LEN},
    {"94347659199434765919", ST_INVALID, "", LEN},
    /* anything but digits and spaces */
    {"943-476-5919", ST_INVALID, "", CHARS},
    {"943A765919", ST_INVALID, "", CHARS},
    {"ABCDEFGHIJ", ST_INVALID, "", CHARS},
    {"943\t476\t5919", ST_INVALID, "", CHARS},
    {"9434765919\n", ST_INVALID, "", CHARS},
    {"+449434765919", ST_INVALID, "", CHARS},
    {"９434765919", ST_INVALID, "", CHARS},
};

static void test_parse(void **state)
{
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		const struct parse_case *c = &parse_cases[i];
		struct err err = {"", ""};
		char out[NHS_NUMBER_SIZE] = "x";

		EXPECT_INT(i, nhs_number_parse(c->in, out, &err), c->st);
		EXPECT_STR(i, out, c->out);
		if (c->st == ST_OK) {
			EXPECT_STR(i, err.message, "");
		} else {
			EXPECT_STR(i, err.field, "nhs_number");
			EXPECT_STR(i, err.message, c->message);
		}
	}
}

static void test_parse_without_err(void **state)
{
	char out[NHS_NUMBER_SIZE];

	assert_int_equal(nhs_number_parse("9434765918", out, NULL), ST_INVALID);
	assert_int_equal(nhs_number_parse("9434765919", out, NULL), ST_OK);
	assert_string_equal(out, "9434765919");
}

static void test_format(void **state)
{
	static const struct {
		const char *ten;
		const char *shown;
	} cases[] = {
	    {"9434765919", "943 476 5919"},
	    {"4010232137", "401 023 2137"},
	    {"0000000000", "000 000 0000"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[NHS_NUMBER_FORMATTED_SIZE];

		nhs_number_format(cases[i].ten, out);
		assert_string_equal(out, cases[i].shown);
	}
}

/* What format shows, parse takes back. */
static void test_round_trip(void **state)
{
	char shown[NHS_NUMBER_FORMATTED_SIZE];
	char back[NHS_NUMBER_SIZE];

	nhs_number_format("9990000018", shown);
	assert_int_equal(nhs_number_parse(shown, back, NULL), ST_OK);
	assert_string_equal(back, "9990000018");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_parse_without_err),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

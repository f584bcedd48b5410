/*
 * hl7_test.c - unit tests for lib/hl7.c: parsing (delimiters, escapes,
 * structure, terminators, limits), ADT extraction, ACK building and HL7
 * timestamps.  The ADT fixtures are the seed messages of the fuzz corpus.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hl7.h"
#include "xmalloc.h"

static const char ADT_A01[] = /* test/fuzz/corpus/hl7/adt_a01.hl7 */
    "MSH|^~\\&|PAS|RXH^2.16.840.1.113883.2.1.3.2^ISO|CAREBRIDGE|RXH|20261123103000||ADT^A01^ADT_"
    "A01|MSG00001|P|2.5|||AL|NE|GBR|UNICODE UTF-8\r"
    "EVN|A01|20261123102955+0000||||20261123102500+0000\r"
    "PID|1||RXH1234567^^^RXH^MR~9434765919^^^NHS^NH||O'Brien^Mary^Anne^^Mrs^^L||19420317|F|||12 "
    "High Street^^Brighton^^BN1 1AA^GBR||01273 000000\r"
    "PD1|||Park Surgery^^G81001\r"
    "NK1|1|O'Brien^John|SPO^Spouse^HL70063\r"
    "PV1|1|I|WARD7^B2^12^RXH^^^^^Ward 7 (Care of the "
    "Elderly)||||C1234567^Jones^Sarah^^^Dr|||GER||||||||I|V0000123^^^RXH^VN||||||||||||||||||||||||"
    "|20261123102500\r"
    "AL1|1|DA|^Penicillin\r";

static const char ADT_A02[] = /* test/fuzz/corpus/hl7/adt_a02.hl7 */
    "MSH|^~\\&|PAS|RXH|CAREBRIDGE|RXH|20261124091500||ADT^A02^ADT_A02|MSG00002|P|2.5\r"
    "EVN|A02|20261124091455|||JSMITH|20261124090000\r"
    "PID|1||RXH1234567^^^RXH^MR~9434765919^^^NHS^NH||O'Brien^Mary^Anne||19420317|F\r"
    "PV1|1|I|WARD9^A1^03^RXH|||WARD7^B2^12^RXH|C1234567^Jones^Sarah^^^Dr|||GER||||||||I|V0000123^^^"
    "RXH^VN|||||||||||||||||||||||||20261123102500\r";

static const char ADT_A03[] = /* test/fuzz/corpus/hl7/adt_a03.hl7 */
    "MSH|^~\\&|PAS|RXH|CAREBRIDGE|RXH|20261128143000||ADT^A03^ADT_A03|MSG00003|P|2.5\r"
    "EVN|A03|20261128142959|||JSMITH|20261128140000\r"
    "PID|1||9434765919^^^NHS^NH~RXH1234567^^^RXH^MR||O'Brien^Mary^Anne||19420317|F\r"
    "PV1|1|I|WARD9^A1^03^RXH||||C1234567^Jones^Sarah^^^Dr|||GER||||||||I|V0000123^^^RXH^VN|||||||||"
    "||||||||19^Discharged home with support|HOME^Own home|||||||20261123102500|20261128140000\r";

static const char ADT_A08[] = /* test/fuzz/corpus/hl7/adt_a08.hl7 */
    "MSH|^~\\&|PAS|RXH|CAREBRIDGE|RXH|20261125120000||ADT^A08^ADT_A01|MSG00004|P|2.5\r"
    "EVN|A08|20261125115959\r"
    "PID|1||RXH1234567^^^RXH^MR~9434765919^^^NHS^NH||O'Brien^Mary^Anne||19420317|F|||14 Low "
    "Street\\S\\Flat 2^^Brighton^^BN1 2BB^GBR\r";

static const char ADT_A11[] = /* test/fuzz/corpus/hl7/adt_a11.hl7 */
    "MSH|^~\\&|PAS|RXH|CAREBRIDGE|RXH|20261123110000||ADT^A11^ADT_A09|MSG00005|P|2.5\r"
    "EVN|A11|20261123105959\r"
    "PID|1||RXH7654321^^^RXH^MR~4010232137^^^NHS^NH||Smith^John||19550101|M\r"
    "PV1|1|I|WARD3^^07^RXH||||||||||||||||V0000456^^^RXH^VN\r";

static const char ADT_A13[] = /* test/fuzz/corpus/hl7/adt_a13.hl7 */
    "MSH|^~\\&|PAS|RXH|CAREBRIDGE|RXH|20261129080000||ADT^A13^ADT_A01|MSG00006|P|2.5\r"
    "EVN|A13|20261129075959|||JSMITH|20261129075500\r"
    "PID|1||9434765919^^^NHS^NH||O'Brien^Mary^Anne||19420317|F\r"
    "PV1|1|I|WARD9^A1^03^RXH||||||||||||||||V0000123^^^RXH^VN|||||||||||||||||||||||||"
    "20261123102500\r";

#define MSH_A08 "MSH|^~\\&|PAS|RXH|CAREBRIDGE|RXH|20261123103000||ADT^A08^ADT_A01|C1|P|2.5\r"

static struct hl7_msg *parse_str(const char *s, struct err *err)
{
	return hl7_parse(s, strlen(s), err);
}

static struct hl7_msg *parse_ok(const char *s)
{
	struct err err = {{0}, {0}};
	struct hl7_msg *m = parse_str(s, &err);

	if (m == NULL)
		fail_msg("parse failed: %s", err.message);
	return m;
}

/* Parsing must fail and the message must contain want. */
static void parse_fails(const char *s, size_t len, const char *want)
{
	struct err err = {{0}, {0}};
	struct hl7_msg *m = hl7_parse(s, len, &err);

	if (m != NULL)
		fail_msg("parse of \"%.40s\" should fail with \"%s\"", s, want);
	if (strstr(err.message, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err.message, want);
}

/* ---- escapes ---- */

struct escape_case {
	const char *raw;     /* ZZZ-1 as sent */
	const char *decoded; /* what hl7_get() gives */
};

static const struct escape_case escape_cases[] = {
    {"a\\F\\b", "a|b"},
    {"a\\S\\b", "a^b"},
    {"a\\T\\b", "a&b"},
    {"a\\R\\b", "a~b"},
    {"a\\E\\b", "a\\b"},
    {"line1\\X0D0A\\line2", "line1\r\nline2"},
    {"\\X41\\\\X6263\\", "Abc"},
    {"\\Xc3a9\\", "\xc3\xa9"},
    {"\\H\\bold\\N\\ text", "bold text"},
    {"a\\.br\\b", "ab"},
    {"a\\Zcustom\\b", "ab"},
    {"a\\C2842\\b", "ab"},
    {"a\\P\\b", "ab"}, /* no truncation character in MSH-2: unknown, dropped */
    {"\\E\\F\\E\\", "\\F\\"},
    {"plain", "plain"},
};

static void test_escapes(void **state)
{
	for (size_t i = 0; i < nitems(escape_cases); i++) {
		char *s = xasprintf(MSH_A08 "ZZZ|%s|x\r", escape_cases[i].raw);
		struct hl7_msg *m = parse_ok(s);

		assert_string_equal(hl7_get(m, "ZZZ", 0, 1, 0, 1, 1), escape_cases[i].decoded);
		assert_string_equal(hl7_get(m, "ZZZ", 0, 2, 0, 1, 1), "x");
		hl7_msg_free(m);
		free(s);
	}
}

static const struct escape_case bad_escape_cases[] = {
    {"a\\X00\\b", "NUL"},
    {"a\\X4100\\b", "NUL"},
    {"\\X4\\", "odd"},
    {"\\X\\", "odd"},
    {"\\XZZ\\", "invalid hexadecimal"},
    {"abc\\F", "unterminated"},
    {"abc\\", "unterminated"},
    {"a\\\\b", "empty escape"},
    {"a^b\\F^\\", "unterminated"}, /* an escape cannot span a component */
};

static void test_escapes_invalid(void **state)
{
	for (size_t i = 0; i < nitems(bad_escape_cases); i++) {
		char *s = xasprintf(MSH_A08 "ZZZ|%s\r", bad_escape_cases[i].raw);
		struct err err;

		parse_fails(s, strlen(s), bad_escape_cases[i].decoded);
		assert_null(parse_str(s, &err));
		assert_string_equal(err.field, "ZZZ-1");
		free(s);
	}
}

/* ---- structure ---- */

struct get_case {
	const char *seg;
	int seg_index, field, rep, comp, sub;
	const char *want;
};

static const char STRUCTURE_MSG[] = MSH_A08 "ZZZ|a~b~c|x^y^z|p&q^r&&s|||last||\r"
					    "ZZZ|second\r"
					    "ZZA\r"
					    "ZZB|\r";

static const struct get_case structure_cases[] = {
    {"MSH", 0, 1, 0, 1, 1, "|"},      {"MSH", 0, 2, 0, 1, 1, "^~\\&"},
    {"MSH", 0, 3, 0, 1, 1, "PAS"},    {"MSH", 0, 9, 0, 1, 1, "ADT"},
    {"MSH", 0, 9, 0, 2, 1, "A08"},    {"MSH", 0, 9, 0, 3, 1, "ADT_A01"},
    {"MSH", 0, 10, 0, 1, 1, "C1"},    {"MSH", 0, 12, 0, 1, 1, "2.5"},
    {"MSH", 0, 13, 0, 1, 1, ""},      {"ZZZ", 0, 1, 0, 1, 1, "a"},
    {"ZZZ", 0, 1, 1, 1, 1, "b"},      {"ZZZ", 0, 1, 2, 1, 1, "c"},
    {"ZZZ", 0, 1, 3, 1, 1, ""},       {"ZZZ", 0, 1, -1, 1, 1, ""},
    {"ZZZ", 0, 2, 0, 1, 1, "x"},      {"ZZZ", 0, 2, 0, 2, 1, "y"},
    {"ZZZ", 0, 2, 0, 3, 1, "z"},      {"ZZZ", 0, 2, 0, 4, 1, ""},
    {"ZZZ", 0, 2, 0, 0, 1, ""},       {"ZZZ", 0, 3, 0, 1, 1, "p"},
    {"ZZZ", 0, 3, 0, 1, 2, "q"},      {"ZZZ", 0, 3, 0, 2, 1, "r"},
    {"ZZZ", 0, 3, 0, 2, 2, ""},       {"ZZZ", 0, 3, 0, 2, 3, "s"},
    {"ZZZ", 0, 3, 0, 1, 3, ""},       {"ZZZ", 0, 3, 0, 1, 0, ""},
    {"ZZZ", 0, 4, 0, 1, 1, ""},       {"ZZZ", 0, 6, 0, 1, 1, "last"},
    {"ZZZ", 0, 7, 0, 1, 1, ""},       {"ZZZ", 0, 8, 0, 1, 1, ""},
    {"ZZZ", 0, 9, 0, 1, 1, ""},       {"ZZZ", 0, 0, 0, 1, 1, ""},
    {"ZZZ", 1, 1, 0, 1, 1, "second"}, {"ZZZ", 2, 1, 0, 1, 1, ""},
    {"ZZZ", -1, 1, 0, 1, 1, ""},      {"ZZA", 0, 1, 0, 1, 1, ""},
    {"PID", 0, 1, 0, 1, 1, ""},
};

struct reps_case {
	const char *seg;
	int seg_index, field, want;
};

static const struct reps_case structure_reps[] = {
    {"ZZZ", 0, 1, 3}, {"ZZZ", 0, 2, 1}, {"ZZZ", 0, 4, 0}, {"ZZZ", 0, 8, 0},
    {"ZZZ", 0, 9, 0}, {"ZZZ", 1, 1, 1}, {"ZZA", 0, 1, 0}, {"ZZB", 0, 1, 0},
    {"MSH", 0, 1, 1}, {"MSH", 0, 2, 1}, {"PID", 0, 3, 0},
};

static void test_structure(void **state)
{
	struct hl7_msg *m = parse_ok(STRUCTURE_MSG);

	for (size_t i = 0; i < nitems(structure_cases); i++) {
		const struct get_case *c = &structure_cases[i];
		const char *got =
		    hl7_get(m, c->seg, c->seg_index, c->field, c->rep, c->comp, c->sub);

		if (strcmp(got, c->want) != 0)
			fail_msg("%s[%d]-%d rep %d comp %d sub %d: got \"%s\", want \"%s\"", c->seg,
			         c->seg_index, c->field, c->rep, c->comp, c->sub, got, c->want);
	}
	for (size_t i = 0; i < nitems(structure_reps); i++) {
		const struct reps_case *c = &structure_reps[i];

		if (hl7_reps(m, c->seg, c->seg_index, c->field) != c->want)
			fail_msg("reps of %s[%d]-%d: got %d, want %d", c->seg, c->seg_index,
			         c->field, hl7_reps(m, c->seg, c->seg_index, c->field), c->want);
	}
	assert_int_equal(hl7_count(m, "MSH"), 1);
	assert_int_equal(hl7_count(m, "ZZZ"), 2);
	assert_int_equal(hl7_count(m, "ZZA"), 1);
	assert_int_equal(hl7_count(m, "PID"), 0);
	hl7_msg_free(m);
	hl7_msg_free(NULL);
}

/* ---- delimiters ---- */

static void test_custom_delimiters(void **state)
{
	/* field #, component $, repetition *, escape @, sub-component !, truncation % */
	struct hl7_msg *m =
	    parse_ok("MSH#$*@!%#PAS#RXH#CB#RXH#20261123103000##ADT$A01$ADT_A01#M9#P#2.7\r"
	             "PID#1##111$$$RXH$MR*9434765919$$$NHS$NH##Doe$Jane!X#a|b^c~d&e\\f\r"
	             "ZZZ#@F@@S@@R@@E@@T@@P@\r");

	assert_string_equal(hl7_get(m, "MSH", 0, 1, 0, 1, 1), "#");
	assert_string_equal(hl7_get(m, "MSH", 0, 2, 0, 1, 1), "$*@!%");
	assert_string_equal(hl7_get(m, "MSH", 0, 9, 0, 2, 1), "A01");
	assert_string_equal(hl7_get(m, "MSH", 0, 10, 0, 1, 1), "M9");
	assert_int_equal(hl7_reps(m, "PID", 0, 3), 2);
	assert_string_equal(hl7_get(m, "PID", 0, 3, 1, 1, 1), "9434765919");
	assert_string_equal(hl7_get(m, "PID", 0, 3, 1, 5, 1), "NH");
	assert_string_equal(hl7_get(m, "PID", 0, 5, 0, 2, 1), "Jane");
	assert_string_equal(hl7_get(m, "PID", 0, 5, 0, 2, 2), "X");
	/* The usual delimiters are plain data here. */
	assert_string_equal(hl7_get(m, "PID", 0, 6, 0, 1, 1), "a|b^c~d&e\\f");
	assert_string_equal(hl7_get(m, "ZZZ", 0, 1, 0, 1, 1), "#$*@!%");
	hl7_msg_free(m);
}

struct bad_case {
	const char *msg;
	const char *want; /* in the error message */
};

static const struct bad_case bad_delimiter_cases[] = {
    {"MSH|^~\\|A\r", "4 or 5"},
    {"MSH|^~\\&#$|A\r", "4 or 5"},
    {"MSH|^~\\&\r", NULL}, /* MSH-2 alone is fine: checked below */
    {"MSH|^~\\^|A\r", "repeat"},
    {"MSH|^|\\&|A\r", "4 or 5"},  /* a field separator ends MSH-2 early */
    {"MSH|^~\\&~|A\r", "repeat"}, /* truncation equals repetition */
    {"MSH|^~A&|A\r", "not ASCII punctuation"},
    {"MSH|^~\\1|A\r", "not ASCII punctuation"},
    {"MSHA^~\\&A\r", "not ASCII punctuation"},
    {"MSH ^~\\& A\r", "not ASCII punctuation"},
    {"MSH|^~ &|A\r", "not ASCII punctuation"},
    {"MSH|^~\\\t|A\r", "not ASCII punctuation"},
    {"MSH|^~\\\x80|A\r", "not ASCII punctuation"},
    {"MSH|^~\r\\&|A\r", "4 or 5"},
};

static void test_wrong_delimiters(void **state)
{
	for (size_t i = 0; i < nitems(bad_delimiter_cases); i++) {
		const struct bad_case *c = &bad_delimiter_cases[i];

		if (c->want == NULL) {
			hl7_msg_free(parse_ok(c->msg));
			continue;
		}
		parse_fails(c->msg, strlen(c->msg), c->want);
	}
}

static const struct bad_case truncated_cases[] = {
    {"", "empty"},
    {"M", "does not start with segment \"MSH\""},
    {"MS", "does not start with segment \"MSH\""},
    {"PID|1\r", "does not start with segment \"MSH\""},
    {"\rMSH|^~\\&|A\r", "does not start with segment \"MSH\""},
    {" MSH|^~\\&|A\r", "does not start with segment \"MSH\""},
    {"MSH", "too short"},
    {"MSH\r", "too short"},
    {"MSH|", "4 or 5"},
    {"MSH|^~", "4 or 5"},
    {"MSH|^~\\", "4 or 5"},
    {MSH_A08 "PI", "segment 2 does not start"},
    {MSH_A08 "PID|1||A\\X0", "unterminated"},
    {MSH_A08 "pid|1\r", "segment 2 does not start"},
    {MSH_A08 "PIDX|1\r", "segment 2 does not start"},
    {MSH_A08 "PI-|1\r", "segment 2 does not start"},
    {MSH_A08 "MSH|^~\\&|A\r", "occurs more than once"},
};

static void test_truncated(void **state)
{
	for (size_t i = 0; i < nitems(truncated_cases); i++)
		parse_fails(truncated_cases[i].msg, strlen(truncated_cases[i].msg),
		            truncated_cases[i].want);

	/* data need not be NUL-terminated: only len bytes are read */
	parse_fails("MSH|^~\\&|A\r", 2, "does not start");
	parse_fails("MSH|^~\\&|A\0\r", 12, "NUL byte");

	/*
	 * Every prefix of a real message parses or fails cleanly: a cut inside a
	 * segment id fails, a cut after a whole segment always parses.
	 */
	for (size_t n = 0; n <= strlen(ADT_A01); n++) {
		struct err err = {{0}, {0}};
		struct hl7_msg *m = hl7_parse(ADT_A01, n, &err);

		if (n < 8)
			assert_null(m);
		if (n > 0 && ADT_A01[n - 1] == '\r')
			assert_non_null(m);
		if (m == NULL)
			assert_true(err.message[0] != '\0');
		hl7_msg_free(m);
	}
}

static void test_terminators(void **state)
{
	static const char *const variants[] = {
	    MSH_A08 "PID|1||X1\rZZZ|a\r",
	    MSH_A08 "PID|1||X1\rZZZ|a",
	    "MSH|^~\\&|PAS|RXH|CAREBRIDGE|RXH|20261123103000||ADT^A08^ADT_A01|C1|P|2.5\n"
	    "PID|1||X1\nZZZ|a\n",
	    "MSH|^~\\&|PAS|RXH|CAREBRIDGE|RXH|20261123103000||ADT^A08^ADT_A01|C1|P|2.5\r\n"
	    "PID|1||X1\r\nZZZ|a\r\n",
	    "MSH|^~\\&|PAS|RXH|CAREBRIDGE|RXH|20261123103000||ADT^A08^ADT_A01|C1|P|2.5\r\n"
	    "\r\n\r\rPID|1||X1\n\nZZZ|a\r\n\r\n",
	};

	for (size_t i = 0; i < nitems(variants); i++) {
		struct hl7_msg *m = parse_ok(variants[i]);

		assert_int_equal(hl7_count(m, "MSH"), 1);
		assert_int_equal(hl7_count(m, "PID"), 1);
		assert_int_equal(hl7_count(m, "ZZZ"), 1);
		assert_string_equal(hl7_get(m, "MSH", 0, 12, 0, 1, 1), "2.5");
		assert_string_equal(hl7_get(m, "PID", 0, 3, 0, 1, 1), "X1");
		assert_string_equal(hl7_get(m, "ZZZ", 0, 1, 0, 1, 1), "a");
		hl7_msg_free(m);
	}
}

/* A message of MSH, then prefix, then n copies of unit. */
static char *message_repeat(const char *prefix, const char *unit, int n)
{
	size_t unitlen = strlen(unit), len = strlen(MSH_A08) + strlen(prefix);
	char *s = xmalloc(len + unitlen * (size_t)n + 1);

	strcpy(s, MSH_A08);
	strcat(s, prefix);
	for (int i = 0; i < n; i++, len += unitlen)
		memcpy(s + len, unit, unitlen);
	s[len] = '\0';
	return s;
}

static void test_limits(void **state)
{
	char *s;
	struct hl7_msg *m;
	size_t len;

	s = message_repeat("", "ZZZ|1\r", HL7_MAX_SEGMENTS - 1);
	m = parse_ok(s);
	assert_int_equal(hl7_count(m, "ZZZ"), HL7_MAX_SEGMENTS - 1);
	hl7_msg_free(m);
	free(s);
	s = message_repeat("", "ZZZ|1\r", HL7_MAX_SEGMENTS);
	parse_fails(s, strlen(s), "more than 1000 segments");
	free(s);

	/* n field separators: fields 1..n */
	s = message_repeat("ZZZ", "|x", HL7_MAX_FIELDS);
	m = parse_ok(s);
	assert_string_equal(hl7_get(m, "ZZZ", 0, HL7_MAX_FIELDS, 0, 1, 1), "x");
	hl7_msg_free(m);
	free(s);
	s = message_repeat("ZZZ", "|", HL7_MAX_FIELDS + 1);
	parse_fails(s, strlen(s), "segment 2 (\"ZZZ\") has more than 1000 fields");
	free(s);
	/* MSH-1 and MSH-2 count */
	s = xmalloc(strlen(MSH_A08) + HL7_MAX_FIELDS);
	strcpy(s, MSH_A08);
	for (int n = 12; n < HL7_MAX_FIELDS; n++)
		strcpy(s + strlen(s) - 1, "|\r"); /* MSH_A08 ends at MSH-12 */
	m = parse_ok(s);
	assert_int_equal(hl7_reps(m, "MSH", 0, HL7_MAX_FIELDS), 0);
	hl7_msg_free(m);
	strcpy(s + strlen(s) - 1, "|\r");
	parse_fails(s, strlen(s), "segment 1 (\"MSH\") has more than 1000 fields");
	free(s);

	s = message_repeat("ZZZ|x", "~x", HL7_MAX_REPS - 1);
	m = parse_ok(s);
	assert_int_equal(hl7_reps(m, "ZZZ", 0, 1), HL7_MAX_REPS);
	hl7_msg_free(m);
	free(s);
	s = message_repeat("ZZZ|x", "~x", HL7_MAX_REPS);
	parse_fails(s, strlen(s), "ZZZ-1 has more than 100 repetitions");
	free(s);

	len = HL7_MAX_MESSAGE + 1;
	s = xmalloc(len);
	memset(s, 'A', len);
	memcpy(s, MSH_A08, strlen(MSH_A08));
	parse_fails(s, len, "longer than");
	/* exactly the limit is accepted (one huge field) */
	memcpy(s + strlen(MSH_A08), "ZZZ|", 4);
	m = hl7_parse(s, len - 1, NULL);
	assert_non_null(m);
	assert_int_equal(strlen(hl7_get(m, "ZZZ", 0, 1, 0, 1, 1)),
	                 HL7_MAX_MESSAGE - strlen(MSH_A08) - 4);
	hl7_msg_free(m);
	free(s);
}

/* ---- timestamps ---- */

struct ts_case {
	const char *s;
	bool ok;
	struct hl7_ts want;
};

static const struct ts_case ts_cases[] = {
    {"20240229", true, {2024, 2, 29, 0, 0, 0, false, false, 0}},
    {"20240230", false, {0}},
    {"20230229", false, {0}},
    {"19000229", false, {0}},
    {"20000229", true, {2000, 2, 29, 0, 0, 0, false, false, 0}},
    {"20241231", true, {2024, 12, 31, 0, 0, 0, false, false, 0}},
    {"20240431", false, {0}},
    {"20241301", false, {0}},
    {"20240001", false, {0}},
    {"20240100", false, {0}},
    {"00000101", false, {0}},
    {"2024", false, {0}},
    {"202401", false, {0}},
    {"2024010", false, {0}},
    {"", false, {0}},
    {"2024010112", true, {2024, 1, 1, 12, 0, 0, true, false, 0}},
    {"202401011230", true, {2024, 1, 1, 12, 30, 0, true, false, 0}},
    {"20261123104500", true, {2026, 11, 23, 10, 45, 0, true, false, 0}},
    {"20261123104559.1234", true, {2026, 11, 23, 10, 45, 59, true, false, 0}},
    {"20261123104559.1", true, {2026, 11, 23, 10, 45, 59, true, false, 0}},
    {"20261123104559.12345", false, {0}},
    {"20261123104559.", false, {0}},
    {"202611231045.5", false, {0}},
    {"20261123104500+0100", true, {2026, 11, 23, 10, 45, 0, true, true, 60}},
    {"20261123104500-0530", true, {2026, 11, 23, 10, 45, 0, true, true, -330}},
    {"20261123+0000", true, {2026, 11, 23, 0, 0, 0, false, true, 0}},
    {"20261123104500.5+1400", true, {2026, 11, 23, 10, 45, 0, true, true, 840}},
    {"20261123104500+1401", false, {0}},
    {"20261123104500-1300", false, {0}},
    {"20261123104500+0160", false, {0}},
    {"20261123104500+01", false, {0}},
    {"20261123104500+01000", false, {0}},
    {"20261123244500", false, {0}},
    {"20261123106000", false, {0}},
    {"20261123104560", false, {0}},
    {"2026112310450", false, {0}},
    {"202611231045001", false, {0}},
    {"20261123Z", false, {0}},
    {"2026-11-23", false, {0}},
    {" 20261123", false, {0}},
};

static void test_ts_parse(void **state)
{
	for (size_t i = 0; i < nitems(ts_cases); i++) {
		const struct ts_case *c = &ts_cases[i];
		struct hl7_ts ts;
		struct err err = {{0}, {0}};
		enum status st = hl7_ts_parse(c->s, &ts, &err);

		if ((st == ST_OK) != c->ok)
			fail_msg("\"%s\": status %d (%s)", c->s, st, err.message);
		if (!c->ok) {
			assert_int_equal(st, ST_INVALID);
			assert_true(err.message[0] != '\0');
			continue;
		}
		if (ts.year != c->want.year || ts.month != c->want.month || ts.day != c->want.day ||
		    ts.hour != c->want.hour || ts.minute != c->want.minute ||
		    ts.second != c->want.second || ts.has_time != c->want.has_time ||
		    ts.has_zone != c->want.has_zone || ts.zone_minutes != c->want.zone_minutes)
			fail_msg("\"%s\" parsed wrong", c->s);
	}
}

/* ---- ADT extraction ---- */

static void adt_ok(const char *msg, struct hl7_adt *adt)
{
	struct hl7_msg *m = parse_ok(msg);
	struct err err = {{0}, {0}};

	if (hl7_adt_from_msg(m, adt, &err) != ST_OK)
		fail_msg("ADT extraction failed: %s: %s", err.field, err.message);
	hl7_msg_free(m);
}

static void assert_ts(const struct hl7_ts *ts, int y, int mo, int d, int h, int mi, int s)
{
	assert_int_equal(ts->year, y);
	assert_int_equal(ts->month, mo);
	assert_int_equal(ts->day, d);
	assert_int_equal(ts->hour, h);
	assert_int_equal(ts->minute, mi);
	assert_int_equal(ts->second, s);
}

static void test_adt_a01(void **state)
{
	struct hl7_adt a;

	adt_ok(ADT_A01, &a);
	assert_int_equal(a.event, HL7_A01);
	assert_string_equal(a.control_id, "MSG00001");
	assert_string_equal(a.sending_app, "PAS");
	assert_string_equal(a.sending_facility, "RXH");
	assert_string_equal(a.receiving_app, "CAREBRIDGE");
	assert_string_equal(a.receiving_facility, "RXH");
	assert_string_equal(a.processing_id, "P");
	assert_string_equal(a.version, "2.5");
	assert_string_equal(a.message_type, "ADT^A01^ADT_A01");
	assert_string_equal(a.trigger, "A01");
	assert_true(a.has_recorded);
	assert_ts(&a.recorded, 2026, 11, 23, 10, 29, 55);
	assert_true(a.recorded.has_zone);
	assert_int_equal(a.recorded.zone_minutes, 0);
	assert_true(a.has_occurred);
	assert_ts(&a.occurred, 2026, 11, 23, 10, 25, 0);
	assert_string_equal(a.nhs_number, "9434765919");
	assert_string_equal(a.mrn, "RXH1234567");
	assert_string_equal(a.family, "O'Brien");
	assert_string_equal(a.given, "Mary");
	assert_string_equal(a.middle, "Anne");
	assert_true(a.has_birth_date);
	assert_ts(&a.birth_date, 1942, 3, 17, 0, 0, 0);
	assert_false(a.birth_date.has_time);
	assert_string_equal(a.sex, "F");
	assert_string_equal(a.patient_class, "I");
	assert_string_equal(a.ward, "WARD7");
	assert_string_equal(a.room, "B2");
	assert_string_equal(a.bed, "12");
	assert_string_equal(a.facility, "RXH");
	assert_string_equal(a.prior_ward, "");
	assert_string_equal(a.visit_number, "V0000123");
	assert_true(a.has_admit_time);
	assert_ts(&a.admit_time, 2026, 11, 23, 10, 25, 0);
	assert_false(a.has_discharge_time);
	assert_string_equal(a.discharge_disposition, "");
}

static void test_adt_a02(void **state)
{
	struct hl7_adt a;

	adt_ok(ADT_A02, &a);
	assert_int_equal(a.event, HL7_A02);
	assert_string_equal(a.trigger, "A02");
	assert_string_equal(a.message_type, "ADT^A02^ADT_A02");
	assert_string_equal(a.ward, "WARD9");
	assert_string_equal(a.bed, "03");
	assert_string_equal(a.prior_ward, "WARD7");
	assert_string_equal(a.prior_bed, "12");
	assert_true(a.has_occurred);
	assert_ts(&a.occurred, 2026, 11, 24, 9, 0, 0);
	assert_false(a.recorded.has_zone);
}

static void test_adt_a03(void **state)
{
	struct hl7_adt a;

	adt_ok(ADT_A03, &a);
	assert_int_equal(a.event, HL7_A03);
	assert_string_equal(a.nhs_number, "9434765919"); /* NH is the first repetition here */
	assert_string_equal(a.mrn, "RXH1234567");
	assert_string_equal(a.discharge_disposition, "19");
	assert_string_equal(a.discharged_to, "HOME");
	assert_true(a.has_admit_time);
	assert_true(a.has_discharge_time);
	assert_ts(&a.discharge_time, 2026, 11, 28, 14, 0, 0);
}

static void test_adt_a08(void **state)
{
	struct hl7_adt a;

	adt_ok(ADT_A08, &a); /* no PV1: allowed for A08 */
	assert_int_equal(a.event, HL7_A08);
	assert_string_equal(a.message_type, "ADT^A08^ADT_A01");
	assert_string_equal(a.nhs_number, "9434765919");
	assert_string_equal(a.ward, "");
	assert_string_equal(a.patient_class, "");
	assert_false(a.has_admit_time);
	assert_false(a.has_occurred);
	assert_true(a.has_recorded);
}

static void test_adt_a11(void **state)
{
	struct hl7_adt a;

	adt_ok(ADT_A11, &a);
	assert_int_equal(a.event, HL7_A11);
	assert_string_equal(a.message_type, "ADT^A11^ADT_A09");
	assert_string_equal(a.nhs_number, "4010232137");
	assert_string_equal(a.mrn, "RXH7654321");
	assert_string_equal(a.family, "Smith");
	assert_string_equal(a.middle, "");
	assert_string_equal(a.sex, "M");
	assert_string_equal(a.ward, "WARD3");
	assert_string_equal(a.room, "");
	assert_string_equal(a.bed, "07");
	assert_string_equal(a.visit_number, "V0000456");
}

static void test_adt_a13(void **state)
{
	struct hl7_adt a;

	adt_ok(ADT_A13, &a);
	assert_int_equal(a.event, HL7_A13);
	assert_string_equal(a.control_id, "MSG00006");
	assert_string_equal(a.nhs_number, "9434765919");
	assert_string_equal(a.mrn, ""); /* only an NHS number was sent */
	assert_false(a.has_discharge_time);
}

static void test_adt_ids_and_names(void **state)
{
	struct hl7_adt a;

	adt_ok(MSH_A08 "PID|1||A1^^^X^PI~^^^Y^MR~B2^^^RXH^MR~9434765919^^^NHS^NH~"
	               "4010232137^^^NHS^NH||Alias^Al^^^^^A~Legal^Lee^Mid^^^^L~Other^O\r",
	       &a);
	assert_string_equal(a.nhs_number, "9434765919"); /* the first of type NH */
	assert_string_equal(a.mrn, "A1");                /* the first other id with a value */
	assert_string_equal(a.family, "Legal");          /* the legal name, not the first */
	assert_string_equal(a.given, "Lee");
	assert_string_equal(a.middle, "Mid");

	adt_ok(MSH_A08 "PID|1||\"\"^^^NHS^NH~X9^^^RXH^MR||Fam&Pfx^Giv||\"\"|\"\"\r", &a);
	assert_string_equal(a.nhs_number, "");
	assert_string_equal(a.mrn, "X9");
	assert_string_equal(a.family, "Fam");
	assert_false(a.has_birth_date);
	assert_string_equal(a.sex, "");

	adt_ok(MSH_A08 "PID|1||X9^^^RXH^MR||O\\T\\Brien\\S\\x^Ann\\F\\e\r", &a);
	assert_string_equal(a.family, "O&Brien^x");
	assert_string_equal(a.given, "Ann|e");
}

struct adt_bad_case {
	const char *msg;
	const char *field;
	const char *want;
};

#define MSH_TYPE(type) "MSH|^~\\&|PAS|RXH|CB|RXH|20261123103000||" type "|C1|P|2.5\r"
#define PID_OK "PID|1||9434765919^^^NHS^NH\r"
#define PV1_OK "PV1|1|I|WARD7\r"

static const struct adt_bad_case adt_bad_cases[] = {
    {MSH_TYPE("ADT^A40^ADT_A39") PID_OK PV1_OK, "MSH-9",
     "MSH-9 message type \"ADT^A40^ADT_A39\" is not supported"},
    {MSH_TYPE("ORU^R01") "OBX|1\r", "MSH-9", "MSH-9 message type \"ORU^R01\" is not supported"},
    {MSH_TYPE("ADT") PID_OK PV1_OK, "MSH-9", "MSH-9 message type \"ADT\" is not supported"},
    {MSH_TYPE("ADT^a01") PID_OK PV1_OK, "MSH-9", "is not supported"},
    {MSH_TYPE("") PID_OK PV1_OK, "MSH-9", "MSH-9 message type is missing"},
    {"MSH|^~\\&|PAS|RXH|CB|RXH|20261123103000||ADT^A01||P|2.5\r" PID_OK PV1_OK, "MSH-10",
     "MSH-10 message control id is missing"},
    {"MSH|^~\\&|PAS\r", "MSH-9", "missing"},
    {MSH_TYPE("ADT^A01") PV1_OK, "PID", "segment \"PID\" is missing"},
    {MSH_TYPE("ADT^A08") PV1_OK, "PID", "segment \"PID\" is missing"},
    {MSH_TYPE("ADT^A01") PID_OK, "PV1", "segment \"PV1\" is missing"},
    {MSH_TYPE("ADT^A02") PID_OK, "PV1", "segment \"PV1\" is missing"},
    {MSH_TYPE("ADT^A03") PID_OK, "PV1", "segment \"PV1\" is missing"},
    {MSH_TYPE("ADT^A11") PID_OK, "PV1", "segment \"PV1\" is missing"},
    {MSH_TYPE("ADT^A13") PID_OK, "PV1", "segment \"PV1\" is missing"},
    {MSH_TYPE("ADT^A01") PID_OK "PV1|1|I|WARD7|||||||||||||||||||||||||||||||||||||||||20241301\r",
     "PV1-44", "PV1-44 (admit date/time) is not a valid date/time: month 13 is out of range"},
    {MSH_TYPE("ADT^A01") "PID|1||9434765919^^^NHS^NH||Doe^John||20240230\r" PV1_OK, "PID-7",
     "day 30 is out of range"},
    {MSH_TYPE("ADT^A01") "EVN|A01|2026\r" PID_OK PV1_OK, "EVN-2", "EVN-2 (recorded date/time)"},
    {MSH_TYPE("ADT^A01") PID_OK "PV1|1|INPATIENT|WARD7\r", "PV1-2",
     "PV1-2 (patient_class) is too long: 9 bytes, at most 7"},
    {MSH_TYPE("ADT^A01") "PID|1||94347659190000000^^^NHS^NH\r" PV1_OK, "PID-3",
     "PID-3 (NHS number) is too long"},
    {MSH_TYPE("ADT^A01^ADT_A01_WITH_A_VERY_LONG_STRUCTURE") PID_OK PV1_OK, "MSH-9", "too long"},
};

static void test_adt_invalid(void **state)
{
	for (size_t i = 0; i < nitems(adt_bad_cases); i++) {
		const struct adt_bad_case *c = &adt_bad_cases[i];
		struct hl7_msg *m = parse_ok(c->msg);
		struct hl7_adt a;
		struct err err = {{0}, {0}};

		if (hl7_adt_from_msg(m, &a, &err) != ST_INVALID)
			fail_msg("case %zu: extraction should fail", i);
		if (strcmp(err.field, c->field) != 0 || strstr(err.message, c->want) == NULL)
			fail_msg("case %zu: got %s: \"%s\", want %s: \"%s\"", i, err.field,
			         err.message, c->field, c->want);
		hl7_msg_free(m);
	}
}

static void test_adt_too_long_name(void **state)
{
	char big[200];
	char *s;
	struct hl7_msg *m;
	struct hl7_adt a;
	struct err err;

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	s = xasprintf(MSH_TYPE("ADT^A01") "PID|1||1^^^NHS^NH||Doe^%s\r" PV1_OK, big);
	m = parse_ok(s);
	assert_int_equal(hl7_adt_from_msg(m, &a, &err), ST_INVALID);
	assert_string_equal(err.field, "PID-5");
	assert_string_equal(err.message, "PID-5 (given name) is too long: 199 bytes, at most 127");
	hl7_msg_free(m);
	free(s);

	/* 127 bytes fit exactly */
	big[127] = '\0';
	s = xasprintf(MSH_TYPE("ADT^A01") "PID|1||1^^^NHS^NH||%s\r" PV1_OK, big);
	m = parse_ok(s);
	assert_int_equal(hl7_adt_from_msg(m, &a, &err), ST_OK);
	assert_int_equal(strlen(a.family), 127);
	hl7_msg_free(m);
	free(s);
}

static void test_event_names(void **state)
{
	static const enum hl7_event evs[] = {HL7_A01, HL7_A02, HL7_A03, HL7_A08, HL7_A11, HL7_A13};
	static const char *const names[] = {"A01", "A02", "A03", "A08", "A11", "A13"};
	enum hl7_event ev;
	struct err err;

	for (size_t i = 0; i < nitems(evs); i++) {
		assert_string_equal(hl7_event_name(evs[i]), names[i]);
		assert_int_equal(hl7_event_parse(names[i], &ev, &err), ST_OK);
		assert_int_equal(ev, evs[i]);
	}
	assert_int_equal(hl7_event_parse("A40", &ev, &err), ST_INVALID);
	assert_string_equal(err.message, "event \"A40\" is not supported");
	assert_int_equal(hl7_event_parse("", &ev, NULL), ST_INVALID);
}

/* ---- ACK ---- */

struct ack_case {
	const char *in;   /* NULL: the input could not be parsed */
	const char *code; /* AA, AE, AR */
	const char *text; /* may be NULL */
	const char *want; /* the whole ACK */
};

static const struct ack_case ack_cases[] = {
    {ADT_A01, "AA", NULL,
     "MSH|^~\\&|CAREBRIDGE|RXH|PAS|RXH^2.16.840.1.113883.2.1.3.2^ISO|20261123104500||"
     "ACK^A01^ACK|CB-1|P|2.5\r"
     "MSA|AA|MSG00001\r"},
    {ADT_A03, "AE", "unknown ward \"WARD9\"",
     "MSH|^~\\&|CAREBRIDGE|RXH|PAS|RXH|20261123104500||ACK^A03^ACK|CB-1|P|2.5\r"
     "MSA|AE|MSG00003|unknown ward \"WARD9\"\r"
     "ERR|||207^Application internal error^HL70357|E||||unknown ward \"WARD9\"\r"},
    {ADT_A08, "AE", "bad | text ^ with ~ all & the \\ delimiters\r\nand lines",
     "MSH|^~\\&|CAREBRIDGE|RXH|PAS|RXH|20261123104500||ACK^A08^ACK|CB-1|P|2.5\r"
     "MSA|AE|MSG00004|bad \\F\\ text \\S\\ with \\R\\ all \\T\\ the \\E\\ delimiters"
     "\\X0D\\\\X0A\\and lines\r"
     "ERR|||207^Application internal error^HL70357|E||||bad \\F\\ text \\S\\ with \\R\\ all "
     "\\T\\ the \\E\\ delimiters\\X0D\\\\X0A\\and lines\r"},
    {MSH_TYPE("ORU^R01^ORU_R01") "OBX|1\r", "AR",
     "MSH-9 message type \"ORU^R01^ORU_R01\" is not supported",
     "MSH|^~\\&|CB|RXH|PAS|RXH|20261123104500||ACK^R01^ACK|CB-1|P|2.5\r"
     "MSA|AR|C1|MSH-9 message type \"ORU\\S\\R01\\S\\ORU_R01\" is not supported\r"
     "ERR|||200^Unsupported message type^HL70357|E||||MSH-9 message type "
     "\"ORU\\S\\R01\\S\\ORU_R01\" is not supported\r"},
    {MSH_TYPE("ADT^A40") PID_OK, "AR", NULL,
     "MSH|^~\\&|CB|RXH|PAS|RXH|20261123104500||ACK^A40^ACK|CB-1|P|2.5\r"
     "MSA|AR|C1\r"
     "ERR|||201^Unsupported event code^HL70357|E\r"},
    {NULL, "AR", "message does not start with segment \"MSH\"",
     "MSH|^~\\&|||||20261123104500||ACK|CB-1|P|2.5\r"
     "MSA|AR||message does not start with segment \"MSH\"\r"
     "ERR|||207^Application internal error^HL70357|E||||message does not start with segment "
     "\"MSH\"\r"},
    {NULL, "AA", "", "MSH|^~\\&|||||20261123104500||ACK|CB-1|P|2.5\rMSA|AA|\r"},
    /* the input's own delimiters; MSH-11/12 and MSH-10 with components copied */
    {"MSH#$*@!%#A$1#F#B#G#20261123##ADT$A01#X$Y@F@#T$I#2.7$GBR\rPID#1\r", "AE", "a#b%c",
     "MSH#$*@!%#B#G#A$1#F#20261123104500##ACK$A01$ACK#CB-1#T$I#2.7$GBR\r"
     "MSA#AE#X$Y@F@#a@F@b@P@c\r"
     "ERR###207$Application internal error$HL70357#E####a@F@b@P@c\r"},
    /* missing MSH-11/12: the defaults */
    {"MSH|^~\\&|A|F|B|G|20261123||ADT^A01|X\rPID|1\r", "AA", NULL,
     "MSH|^~\\&|B|G|A|F|20261123104500||ACK^A01^ACK|CB-1|P|2.5\rMSA|AA|X\r"},
};

static void test_ack(void **state)
{
	for (size_t i = 0; i < nitems(ack_cases); i++) {
		const struct ack_case *c = &ack_cases[i];
		struct hl7_msg *in = c->in != NULL ? parse_ok(c->in) : NULL;
		char *ack = hl7_ack_build(in, c->code, c->text, "CB-1", "20261123104500");
		struct hl7_msg *back = parse_ok(ack);
		const char *text = c->text != NULL ? c->text : "";

		if (strcmp(ack, c->want) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, ack, c->want);
		/* It parses back to what was put in. */
		assert_string_equal(hl7_get(back, "MSA", 0, 1, 0, 1, 1), c->code);
		assert_string_equal(hl7_get(back, "MSA", 0, 3, 0, 1, 1), text);
		if (strcmp(c->code, "AA") != 0) {
			assert_string_equal(hl7_get(back, "ERR", 0, 4, 0, 1, 1), "E");
			assert_string_equal(hl7_get(back, "ERR", 0, 8, 0, 1, 1), text);
		} else {
			assert_int_equal(hl7_count(back, "ERR"), 0);
		}
		hl7_msg_free(back);
		hl7_msg_free(in);
		free(ack);
	}
}

static void test_field_ref_parse(void **state)
{
	static const struct {
		const char *s;
		bool ok;
		const char *seg;
		int field, comp;
	} cases[] = {
	    {"ZCB-1", true, "ZCB", 1, 1},   {"PV2-45.2", true, "PV2", 45, 2},
	    {"", true, "", 0, 0},           {"Z01-1000", true, "Z01", 1000, 1},
	    {"ZCB", false, "", 0, 0},       {"ZCB-", false, "", 0, 0},
	    {"ZCB-0", false, "", 0, 0},     {"ZCB-01", false, "", 0, 0},
	    {"ZCB-1001", false, "", 0, 0},  {"zcb-1", false, "", 0, 0},
	    {"ZCB-1.", false, "", 0, 0},    {"ZCB-1.0", false, "", 0, 0},
	    {"ZCB-1.2.3", false, "", 0, 0}, {"ZCBX-1", false, "", 0, 0},
	    {"ZCB-?", false, "", 0, 0},     {"ZCB-+1", false, "", 0, 0},
	    {"ZC-1", false, "", 0, 0},      {"ZCB_1", false, "", 0, 0},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct hl7_field_ref r;
		struct err err;
		enum status st = hl7_field_ref_parse(cases[i].s, &r, &err);

		if ((st == ST_OK) != cases[i].ok)
			fail_msg("\"%s\": got %d", cases[i].s, st);
		assert_string_equal(r.seg, cases[i].seg);
		assert_int_equal(r.field, cases[i].field);
		assert_int_equal(r.comp, cases[i].comp);
		if (!cases[i].ok)
			assert_non_null(strstr(err.message, "segment-field[.component]"));
	}
}

static void test_pathway_and_edd(void **state)
{
	static const struct {
		const char *ref;   /* hl7_pathway_field */
		const char *extra; /* segments after PV1 */
		enum status st;
		int pathway;
		const char *field; /* of the error */
	} cases[] = {
	    {"ZCB-1", "ZCB|2\r", ST_OK, 2, ""},
	    {"ZCB-1", "ZCB|0\r", ST_OK, 0, ""},
	    {"ZCB-1", "ZCB|3^x\r", ST_OK, 3, ""},
	    {"ZCB-1", "", ST_OK, -1, ""},
	    {"ZCB-1", "ZCB|\r", ST_OK, -1, ""},
	    {"ZCB-1", "ZCB|\"\"\r", ST_OK, -1, ""},
	    {"ZCB-1", "ZCB|4\r", ST_INVALID, -1, "ZCB-1"},
	    {"ZCB-1", "ZCB|12\r", ST_INVALID, -1, "ZCB-1"},
	    {"ZCB-1", "ZCB|P2\r", ST_INVALID, -1, "ZCB-1"},
	    {"ZCB-1", "ZCB|-1\r", ST_INVALID, -1, "ZCB-1"},
	    {"", "ZCB|9\r", ST_OK, -1, ""},
	    {"PV2-3.2", "PV2|||x^1\r", ST_OK, 1, ""},
	    {"PV2-3.2", "PV2|||x^y\r", ST_INVALID, -1, "PV2-3.2"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *text = xasprintf("%s%s", ADT_A01, cases[i].extra);
		struct hl7_msg *m = parse_ok(text);
		struct hl7_field_ref ref;
		struct err err = {{0}, {0}};
		int pathway = 99;

		assert_int_equal(hl7_field_ref_parse(cases[i].ref, &ref, NULL), ST_OK);
		if (hl7_pathway_from_msg(m, &ref, &pathway, &err) != cases[i].st)
			fail_msg("case %zu: wrong status", i);
		assert_int_equal(pathway, cases[i].pathway);
		assert_string_equal(err.field, cases[i].field);
		if (cases[i].st != ST_OK)
			assert_non_null(strstr(err.message, "must be 0, 1, 2 or 3"));
		hl7_msg_free(m);
		free(text);
	}
}

static void test_adt_expected_discharge(void **state)
{
	static const struct {
		const char *pv2;
		bool has;
	} cases[] = {
	    {"PV2||||||||20261130\r", true},
	    {"PV2||||||||202611301200+0000\r", true},
	    {"PV2||||||||20261131\r", false}, /* not a date: ignored, never an AR */
	    {"PV2||||||||soon\r", false},
	    {"PV2||||||||\"\"\r", false},
	    {"", false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *text = xasprintf("%s%s", ADT_A01, cases[i].pv2);
		struct hl7_adt a;

		adt_ok(text, &a);
		assert_int_equal(a.has_expected_discharge, cases[i].has);
		if (cases[i].has)
			assert_ts(&a.expected_discharge, 2026, 11, 30, a.expected_discharge.hour, 0,
			          0);
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_escapes_invalid),
	    cmocka_unit_test(test_structure),
	    cmocka_unit_test(test_custom_delimiters),
	    cmocka_unit_test(test_wrong_delimiters),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_terminators),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_ts_parse),
	    cmocka_unit_test(test_adt_a01),
	    cmocka_unit_test(test_adt_a02),
	    cmocka_unit_test(test_adt_a03),
	    cmocka_unit_test(test_adt_a08),
	    cmocka_unit_test(test_adt_a11),
	    cmocka_unit_test(test_adt_a13),
	    cmocka_unit_test(test_adt_ids_and_names),
	    cmocka_unit_test(test_adt_invalid),
	    cmocka_unit_test(test_adt_too_long_name),
	    cmocka_unit_test(test_event_names),
	    cmocka_unit_test(test_ack),
	    cmocka_unit_test(test_field_ref_parse),
	    cmocka_unit_test(test_pathway_and_edd),
	    cmocka_unit_test(test_adt_expected_discharge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

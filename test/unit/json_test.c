/*
 * json_test.c - the JSON boundary (json_body_parse) and strict UTF-8
 * (utf8_seq_len, utf8_is_valid): every hostile body class of issue 20 is
 * refused with a message (and the field, when it is inside a value), and
 * well-formed text, escapes and all, passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "utf8.h"

/* A byte string with its length (bodies hold NUL bytes). */
#define B(s) s, sizeof(s) - 1

struct utf8_case {
	const char *in;   /* bytes */
	size_t len;       /* how many */
	bool valid;       /* expected verdict */
	size_t bad;       /* offset of the first bad sequence */
	const char *name; /* what the case is */
};

static void test_utf8(void **state)
{
	static const struct utf8_case cases[] = {
	    {B(""), true, 0, "empty"},
	    {B("plain ASCII"), true, 0, "ASCII"},
	    {B("O\xe2\x80\x99"
	       "Brien"),
	     true, 0, "3-byte (right quote)"},
	    {B("\xc3\xa9"), true, 0, "2-byte (e acute)"},
	    {B("\xf0\x9f\x98\x80"), true, 0, "4-byte (emoji)"},
	    {B("\xf4\x8f\xbf\xbf"), true, 0, "U+10FFFF"},
	    {B("\xef\xbf\xbe"), true, 0, "U+FFFE (a noncharacter, but well-formed)"},
	    {B("a\0b"), true, 0, "NUL is well-formed (refused elsewhere)"},
	    {B("a\xc0\xaf"), false, 1, "overlong 2-byte '/'"},
	    {B("\xc1\xbf"), false, 0, "overlong 2-byte (C1)"},
	    {B("\xe0\x80\xaf"), false, 0, "overlong 3-byte"},
	    {B("\xe0\x9f\xbf"), false, 0, "overlong 3-byte, top"},
	    {B("\xf0\x80\x80\xaf"), false, 0, "overlong 4-byte"},
	    {B("\xf0\x8f\xbf\xbf"), false, 0, "overlong 4-byte, top"},
	    {B("\xed\xa0\x80"), false, 0, "surrogate D800"},
	    {B("\xed\xbf\xbf"), false, 0, "surrogate DFFF"},
	    {B("ab\xe2\x82"), false, 2, "truncated 3-byte at the end"},
	    {B("\xe2\x82x"), false, 0, "truncated 3-byte in the middle"},
	    {B("\xf0\x9f\x98"), false, 0, "truncated 4-byte"},
	    {B("\x80"), false, 0, "lone continuation byte"},
	    {B("\xf4\x90\x80\x80"), false, 0, "beyond U+10FFFF"},
	    {B("\xf5\x80\x80\x80"), false, 0, "F5 lead byte"},
	    {B("\xf8\x88\x80\x80\x80"), false, 0, "5-byte form"},
	    {B("\xfc\x84\x80\x80\x80\x80"), false, 0, "6-byte form"},
	    {B("x\xff\xfe"), false, 1, "FF FE"},
	    {B("\xfe"), false, 0, "FE"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t bad = 999;
		bool ok = utf8_is_valid(cases[i].in, cases[i].len, &bad);

		if (ok != cases[i].valid)
			fail_msg("case %zu (%s): valid is %d", i, cases[i].name, ok);
		if (!ok && bad != cases[i].bad)
			fail_msg("case %zu (%s): bad at %zu, want %zu", i, cases[i].name, bad,
			         cases[i].bad);
	}
	assert_int_equal(utf8_seq_len("", 0), 0);
	assert_int_equal(utf8_seq_len("\xe2\x80\x99", 3), 3);
	assert_int_equal(utf8_seq_len("\xe2\x80\x99", 2), 0);
}

struct body_case {
	const char *in;      /* the request body */
	size_t len;          /* its length */
	enum status st;      /* expected status */
	const char *field;   /* expected err.field ("" for none) */
	const char *message; /* expected err.message (on failure) */
};

#define NOT_UTF8 "\"name\" contains text that is not valid UTF-8"

static void test_body_parse(void **state)
{
	static const struct body_case cases[] = {
	    {B("{\"name\":\"Ann\"}"), ST_OK, "", ""},
	    {B(" {\"name\":\"O\xe2\x80\x99"
	       "Brien\"}\r\n\t "),
	     ST_OK, "", ""},
	    {B("{\"name\":\"\\ud83d\\ude00 \\u00e9 \\\\u0000\"}"), ST_OK, "", ""},
	    {B("{\"a\":{\"b\":[1,\"x\",null]},\"c\":true}"), ST_OK, "", ""},
	    /* invalid UTF-8 in a value names the field */
	    {B("{\"name\":\"\xc0\xaf\"}"), ST_INVALID, "name", NOT_UTF8},
	    {B("{\"name\":\"\xe0\x80\xaf\"}"), ST_INVALID, "name", NOT_UTF8},
	    {B("{\"name\":\"ab\xe2\x82\"}"), ST_INVALID, "name", NOT_UTF8},
	    {B("{\"name\":\"\xed\xa0\x80\"}"), ST_INVALID, "name", NOT_UTF8},
	    {B("{\"name\":\"\xff\xfe\"}"), ST_INVALID, "name", NOT_UTF8},
	    {B("{\"name\":\"\xf8\x88\x80\x80\x80\"}"), ST_INVALID, "name", NOT_UTF8},
	    {B("{\"a\":1,\"wards\":[\"W1\",\"\xc0\xaf\"]}"), ST_INVALID, "wards",
	     "\"wards\" contains text that is not valid UTF-8"},
	    /* ... and in a key or outside strings does not */
	    {B("{\"n\xc0\xaf\":1}"), ST_INVALID, "",
	     "a field name contains text that is not valid UTF-8"},
	    {B("{\"name\":1}\xff"), ST_INVALID, "", "request body is not valid UTF-8"},
	    /* NUL, raw or escaped */
	    {B("{\"name\":\"nurse.amu\\u0000x\"}"), ST_INVALID, "name",
	     "\"name\" contains a NUL character (\\u0000)"},
	    {B("{\"name\":\"nurse.amu\0x\"}"), ST_INVALID, "name", "\"name\" contains a NUL byte"},
	    {B("{\"na\\u0000me\":\"x\"}"), ST_INVALID, "",
	     "a field name contains a NUL character (\\u0000)"},
	    {B("{\"name\":\"x\"}\0"), ST_INVALID, "", "request body contains a NUL byte"},
	    {B("[\"\\u0000\"]"), ST_INVALID, "", "request body contains a NUL character (\\u0000)"},
	    /* bytes after the object */
	    {B("{\"name\":\"x\"}{\"name\":\"y\"}"), ST_INVALID, "",
	     "request body has 12 bytes after the JSON value"},
	    {B("{\"name\":\"x\"} x"), ST_INVALID, "",
	     "request body has 1 bytes after the JSON value"},
	    /* not JSON, not an object */
	    {B("{\"name\":\"x\""), ST_INVALID, "", "request body is not valid JSON"},
	    {B("{\"name\":\"\\ud800\"}"), ST_INVALID, "", "request body is not valid JSON"},
	    {B("[1]"), ST_INVALID, "", "request body must be a JSON object"},
	    {B("\"x\""), ST_INVALID, "", "request body must be a JSON object"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct err err;
		cJSON *out = (cJSON *)&err;
		enum status st;

		err_clear(&err);
		st = json_body_parse(cases[i].in, cases[i].len, &out, &err);
		if (st != cases[i].st)
			fail_msg("case %zu: status %d, want %d (%s)", i, st, cases[i].st,
			         err.message);
		if (st == ST_OK) {
			if (!cJSON_IsObject(out))
				fail_msg("case %zu: no object", i);
			cJSON_Delete(out);
			continue;
		}
		if (out != NULL)
			fail_msg("case %zu: *out not NULL on failure", i);
		if (strcmp(err.field, cases[i].field) != 0)
			fail_msg("case %zu: field \"%s\", want \"%s\"", i, err.field,
			         cases[i].field);
		if (strcmp(err.message, cases[i].message) != 0)
			fail_msg("case %zu: message \"%s\", want \"%s\"", i, err.message,
			         cases[i].message);
	}
}

/* The body need not end with NUL: nothing is read past len. */
static void test_body_parse_not_terminated(void **state)
{
	char buf[32];
	cJSON *out;

	memcpy(buf, "{\"a\":\"b\"}garbage", 16);
	assert_int_equal(json_body_parse(buf, 9, &out, NULL), ST_OK);
	assert_string_equal(cJSON_GetObjectItem(out, "a")->valuestring, "b");
	cJSON_Delete(out);
	assert_int_equal(json_body_parse(buf, 10, &out, NULL), ST_INVALID);
}

static void test_string_array_round_trip(void **state)
{
	static const char *const items[] = {
	    "plain", "a\"b", "c,d", "{e}", "f\\g", "\\\"}", " sp ace ", "NULL", "", "caf\xc3\xa9",
	};
	int n = (int)(sizeof items / sizeof items[0]);
	char *text = json_string_array(items, n);
	cJSON *a = cJSON_Parse(text);

	assert_non_null(a);
	assert_true(cJSON_IsArray(a));
	assert_int_equal(cJSON_GetArraySize(a), n);
	for (int i = 0; i < n; i++) {
		const cJSON *v = cJSON_GetArrayItem(a, i);

		assert_true(cJSON_IsString(v));
		if (strcmp(v->valuestring, items[i]) != 0)
			fail_msg("item %d is \"%s\", want \"%s\"", i, v->valuestring, items[i]);
	}
	cJSON_Delete(a);
	free(text);
}

static void test_string_array_empty(void **state)
{
	char *text = json_string_array(NULL, 0);

	assert_string_equal(text, "[]");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_body_parse),
	    cmocka_unit_test(test_body_parse_not_terminated),
	    cmocka_unit_test(test_string_array_round_trip),
	    cmocka_unit_test(test_string_array_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

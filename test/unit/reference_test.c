/*
 * reference_test.c - unit tests for lib/reference: the CSV and JSON forms of
 * a reference list to import, and the errors that name the line or item.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "cbtime.h"
#include "reference.h"
#include "status.h"

#define HEADER REFERENCE_CSV_HEADER "\n"

static void test_csv_good(void **state)
{
	static const char csv[] =
	    "\xef\xbb\xbf" REFERENCE_CSV_HEADER "\r\n"
	    "nhse-acute-2025,2025,transport,\"Awaiting transport, any kind\",2025-04-01,"
	    "nhse-acute-2023,transport\r\n"
	    "\r\n"
	    "nhse-acute-2025,2025,other,\"Say \"\"why\"\"\",2025-04-01,,\r\n";
	struct reference_import imp;
	struct err err;

	err_clear(&err);
	assert_int_equal(reference_import_from_csv(csv, strlen(csv), &imp, &err), ST_OK);
	assert_string_equal(imp.name, "nhse-acute-2025");
	assert_string_equal(imp.version, "2025");
	assert_int_equal(imp.nitems, 2);
	assert_string_equal(imp.items[0].label, "Awaiting transport, any kind");
	assert_string_equal(imp.items[0].older_key, "transport");
	assert_int_equal(imp.items[0].active_from, date_from_ymd(2025, 4, 1));
	assert_string_equal(imp.items[1].label, "Say \"why\"");
	assert_string_equal(imp.items[1].older_list, "");
	assert_string_equal(imp.items[1].where, "line 4");
	reference_import_reset(&imp);
}

static void test_csv_errors(void **state)
{
	static const struct {
		const char *csv;
		const char *starts; /* the message begins with */
	} cases[] = {
	    {"key,label\na,A\n", "line 1: the header"},
	    {"", "line 1: the header"},
	    {HEADER, "the list has no items"},
	    {HEADER "l,1,a,A,2025-04-01,,\nl,1,b,B,2025-02-30,,\n", "line 3: active_from"},
	    {HEADER "l,1,a,A,2025-04-01,,\nl,2,b,B,2025-04-01,,\n", "line 3: every row"},
	    {HEADER "l,1,a,A,2025-04-01,,\nl,1,b,B,2025-04-01\n", "line 3: 5 fields"},
	    {HEADER "l,1,a,A,2025-04-01,,\nl,1,a,B,2025-04-01,,\n", "line 3: key \"a\" is already"},
	    {HEADER "l,1,a b,A,2025-04-01,,\n", "line 2: key"},
	    {HEADER "l,1,a,,2025-04-01,,\n", "line 2: label"},
	    {HEADER "l,1,a,A,2025-04-01,dtoc-2014,\n", "line 2: older_list and older_key"},
	    {HEADER "l,1,a,A,2025-04-01,l,a\n", "line 2: older_list must name another"},
	    {HEADER "l,1,a,\"A,2025-04-01,,\n", "line 2: a quoted field"},
	    {HEADER "l,1,a,A\"x\",2025-04-01,,\n", "line 2: a quote inside"},
	    {HEADER "Bad Name,1,a,A,2025-04-01,,\n", "line 2: list name"},
	    /* a label is one line; the record's first line is named */
	    {HEADER "l,1,a,\"two\nlines\",2025-04-01,,\nl,1,b,\"x\",2025-04-01,,\n",
	     "line 2: label"},
	    {HEADER "l,1,a,\"A\",2025-04-01,,\nl,1,b,\"x\ny\",2025-04-01,,\n", "line 3: label"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct reference_import imp;
		struct err err;

		err_clear(&err);
		print_message("%s\n", cases[i].starts);
		assert_int_equal(
		    reference_import_from_csv(cases[i].csv, strlen(cases[i].csv), &imp, &err),
		    ST_INVALID);
		assert_string_equal(err.field, "file");
		assert_memory_equal(err.message, cases[i].starts, strlen(cases[i].starts));
		assert_null(imp.items);
	}
}

static void test_json(void **state)
{
	static const struct {
		const char *body;
		enum status st;
		const char *field;
	} cases[] = {
	    {"{\"list\": \"x-1\", \"version\": \"1\", \"default\": true, \"items\": [{\"key\": "
	     "\"a\","
	     " \"label\": \"A\", \"active_from\": \"2025-04-01\"}]}",
	     ST_OK, ""},
	    {"{\"list\": \"x-1\", \"version\": \"1\", \"items\": []}", ST_INVALID, "items"},
	    {"{\"list\": \"X\", \"version\": \"1\", \"items\": [{}]}", ST_INVALID, "list"},
	    {"{\"list\": \"x-1\", \"items\": [{}]}", ST_INVALID, "version"},
	    {"{\"list\": \"x-1\", \"version\": \"1\", \"items\": [{\"key\": \"a\", \"label\": "
	     "\"A\","
	     " \"active_from\": \"2025-04-31\"}]}",
	     ST_INVALID, "items[0].active_from"},
	    {"{\"list\": \"x-1\", \"version\": \"1\", \"items\": [{\"key\": \"a\", \"label\": "
	     "\"A\","
	     " \"active_from\": \"2025-04-01\", \"colour\": 1}]}",
	     ST_INVALID, "items[0].colour"},
	    {"{\"list\": \"x-1\", \"version\": \"1\", \"items\": [{\"key\": \"a\", \"label\": "
	     "\"A\","
	     " \"active_from\": \"2025-04-01\", \"older_key\": \"b\"}]}",
	     ST_INVALID, "items"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct reference_import imp;
		cJSON *j = cJSON_Parse(cases[i].body);
		struct err err;

		assert_non_null(j);
		err_clear(&err);
		assert_int_equal(reference_import_from_json(j, &imp, &err), cases[i].st);
		assert_string_equal(err.field, cases[i].field);
		if (cases[i].st == ST_OK) {
			assert_true(imp.make_default);
			assert_string_equal(imp.title, "x-1");
			assert_int_equal(imp.nitems, 1);
		}
		reference_import_reset(&imp);
		cJSON_Delete(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csv_good),
	    cmocka_unit_test(test_csv_errors),
	    cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * json_test.c - JSON text built for the store: arrays of strings that reach
 * PostgreSQL as one parameter and must come back exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

/* Quotes, commas, braces, backslashes, spaces, NULL-looking and empty items round-trip. */
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
	    cmocka_unit_test(test_string_array_round_trip),
	    cmocka_unit_test(test_string_array_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

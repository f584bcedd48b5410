/*
 * destination_test.c - unit tests for lib/destination: the discharge
 * destination codes and the NHS Data Dictionary mapping of HL7 PV1-37.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "destination.h"
#include "status.h"

static void test_destination_names(void **state)
{
	enum destination d;
	struct err err;

	(void)state;
	for (int i = 0; i < DESTINATION_COUNT; i++) {
		err_clear(&err);
		assert_int_equal(destination_parse(destination_name((enum destination)i),
		                                   "destination", &d, &err),
		                 ST_OK);
		assert_int_equal(d, i);
		assert_non_null(destination_label((enum destination)i));
	}
	assert_string_equal(destination_name(DESTINATION_USUAL_RESIDENCE), "usual_residence");
	assert_string_equal(destination_name(DESTINATION_DIED), "died");
}

static void test_destination_parse_refuses(void **state)
{
	static const char *const bad[] = {"home", "Care_home", "care_home ",
	                                  "",     "19",        "other,died"};
	enum destination d = DESTINATION_OTHER;
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err_clear(&err);
		assert_int_equal(destination_parse(bad[i], "destination", &d, &err), ST_INVALID);
		assert_string_equal(err.field, "destination");
	}
	err_clear(&err);
	assert_int_equal(destination_parse(NULL, "dest", &d, &err), ST_INVALID);
	assert_string_equal(err.field, "dest");
	assert_int_equal(d, DESTINATION_OTHER); /* untouched on failure */
}

static void test_destination_from_hl7(void **state)
{
	static const struct {
		const char *value;
		bool mapped;
		enum destination d;
	} cases[] = {
	    {"19", true, DESTINATION_USUAL_RESIDENCE},
	    {"29", true, DESTINATION_OTHER}, /* temporary residence: not the usual one */
	    {"30", true, DESTINATION_OTHER},
	    {"37", true, DESTINATION_OTHER},
	    {"38", true, DESTINATION_OTHER},
	    {"48", true, DESTINATION_OTHER_HOSPITAL},
	    {"49", true, DESTINATION_OTHER_HOSPITAL},
	    {"50", true, DESTINATION_OTHER_HOSPITAL},
	    {"51", true, DESTINATION_OTHER_HOSPITAL},
	    {"52", true, DESTINATION_OTHER_HOSPITAL},
	    {"53", true, DESTINATION_OTHER_HOSPITAL},
	    {"54", true, DESTINATION_CARE_HOME},
	    {"65", true, DESTINATION_CARE_HOME},
	    {"66", true, DESTINATION_OTHER},
	    {"79", true, DESTINATION_DIED},
	    {"84", true, DESTINATION_OTHER_HOSPITAL},
	    {"85", true, DESTINATION_CARE_HOME},
	    {"87", true, DESTINATION_OTHER_HOSPITAL},
	    {"88", true, DESTINATION_OTHER},
	    /* our own codes pass through */
	    {"care_home", true, DESTINATION_CARE_HOME},
	    {"died", true, DESTINATION_DIED},
	    /* nothing to map: not recorded */
	    {"98", false, DESTINATION_OTHER},
	    {"99", false, DESTINATION_OTHER},
	    {"", false, DESTINATION_OTHER},
	    {"1", false, DESTINATION_OTHER},
	    {"019", false, DESTINATION_OTHER},
	    {"HOME", false, DESTINATION_OTHER},
	    {NULL, false, DESTINATION_OTHER},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum destination d = DESTINATION_OTHER;

		assert_int_equal(destination_from_hl7(cases[i].value, &d), cases[i].mapped);
		assert_int_equal(d, cases[i].d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_destination_names),
	    cmocka_unit_test(test_destination_parse_refuses),
	    cmocka_unit_test(test_destination_from_hl7),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * organisation_test.c - what makes an organisation valid (codes, kinds,
 * services only for providers, a council for hubs and providers), which may
 * be a ward's hub and which may own a webhook.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "organisation.h"

static void test_codes(void **state)
{
	(void)state;
	assert_true(organisation_code_is_valid("RX1"));
	assert_true(organisation_code_is_valid("hub_north-2"));
	assert_true(organisation_code_is_valid("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345")); /* 32 */
	assert_false(organisation_code_is_valid("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"));
	assert_false(organisation_code_is_valid(""));
	assert_false(organisation_code_is_valid(NULL));
	assert_false(organisation_code_is_valid("-lead"));
	assert_false(organisation_code_is_valid("_lead"));
	assert_false(organisation_code_is_valid("a b"));
	assert_false(organisation_code_is_valid("café"));
}

static void test_kinds(void **state)
{
	enum organisation_kind k;
	struct err err;

	(void)state;
	for (int i = 0; i < ORGANISATION_KIND_COUNT; i++) {
		assert_int_equal(organisation_kind_parse(organisation_kind_name(i), &k, NULL),
		                 ST_OK);
		assert_int_equal(k, i);
	}
	assert_int_equal(organisation_kind_parse("council", &k, &err), ST_INVALID);
	assert_string_equal(err.field, "kind");
	assert_int_equal(organisation_kind_parse(NULL, &k, &err), ST_INVALID);
}

static void test_validate(void **state)
{
	static const enum referral_service_kind one[] = {SERVICE_HOME_CARE};
	static const enum referral_service_kind twice[] = {SERVICE_HOME_CARE, SERVICE_HOME_CARE};
	static const struct {
		enum organisation_kind kind;
		const char *code, *name;
		const enum referral_service_kind *services;
		size_t nservices;
		const char *la_kind;
		const char *field; /* NULL: valid */
	} cases[] = {
	    {ORGANISATION_HUB, "HUB", "Hub", NULL, 0, NULL, NULL},
	    {ORGANISATION_HUB, "HUB", "Hub", NULL, 0, "local_authority", NULL},
	    {ORGANISATION_PROVIDER, "P", "Prov", one, 1, "local_authority", NULL},
	    {ORGANISATION_LOCAL_AUTHORITY, "LA", "Council", NULL, 0, NULL, NULL},
	    {ORGANISATION_HUB, "bad code", "Hub", NULL, 0, NULL, "code"},
	    {ORGANISATION_HUB, "HUB", "", NULL, 0, NULL, "name"},
	    {ORGANISATION_HUB, "HUB", "Hub", one, 1, NULL, "services"},
	    {ORGANISATION_LOCAL_AUTHORITY, "LA", "Council", one, 1, NULL, "services"},
	    {ORGANISATION_PROVIDER, "P", "Prov", twice, 2, NULL, "services"},
	    {ORGANISATION_HUB, "HUB", "Hub", NULL, 0, "hub", "local_authority_id"},
	    {ORGANISATION_HUB, "HUB", "Hub", NULL, 0, "trust", "local_authority_id"},
	    {ORGANISATION_HUB, "HUB", "Hub", NULL, 0, "", "local_authority_id"},
	    {ORGANISATION_LOCAL_AUTHORITY, "LA", "Council", NULL, 0, "local_authority",
	     "local_authority_id"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct organisation_fields f = {cases[i].code,      cases[i].name,
		                                cases[i].kind,      cases[i].services,
		                                cases[i].nservices, cases[i].la_kind};
		struct err err;
		enum status st;

		err_clear(&err);
		st = organisation_validate(&f, &err);
		if (cases[i].field == NULL) {
			if (st != ST_OK)
				fail_msg("case %zu: refused: %s", i, err.message);
		} else if (st != ST_INVALID || strcmp(err.field, cases[i].field) != 0) {
			fail_msg("case %zu: want field %s, got %d %s", i, cases[i].field, st,
			         err.field);
		}
	}
}

static void test_ward_hub_and_webhook_owner(void **state)
{
	struct err err;

	(void)state;
	assert_int_equal(organisation_check_ward_hub("hub", NULL), ST_OK);
	assert_int_equal(organisation_check_ward_hub("local_authority", NULL), ST_OK);
	assert_int_equal(organisation_check_ward_hub("provider", &err), ST_INVALID);
	assert_string_equal(err.field, "hub_organisation_id");
	assert_int_equal(organisation_check_ward_hub("trust", NULL), ST_INVALID);
	assert_int_equal(organisation_check_ward_hub(NULL, NULL), ST_INVALID);
	assert_int_equal(organisation_check_webhook_owner("provider", NULL), ST_OK);
	assert_int_equal(organisation_check_webhook_owner("hub", NULL), ST_OK);
	assert_int_equal(organisation_check_webhook_owner("trust", &err), ST_INVALID);
	assert_string_equal(err.field, "organisation_id");
	assert_int_equal(organisation_check_webhook_owner("", NULL), ST_INVALID);
}

static void test_public_json(void **state)
{
	cJSON *full = cJSON_Parse(
	    "{\"items\": [{\"id\": \"a\", \"code\": \"HUB-N\", \"name\": \"North hub\", "
	    "\"kind\": \"hub\", \"services\": [], \"local_authority_id\": \"b\", "
	    "\"disabled\": false, \"created_at\": \"2026-11-20T09:30:00Z\", "
	    "\"updated_at\": \"2026-11-20T09:30:00Z\", \"version\": 3},"
	    " {\"id\": \"c\", \"code\": \"OLD\", \"name\": \"Gone\", \"kind\": \"hub\", "
	    "\"disabled\": true}, 7]}");
	cJSON *pub = organisation_public_list(full);
	char *text = cJSON_PrintUnformatted(pub);

	assert_string_equal(text, "{\"items\":[{\"id\":\"a\",\"code\":\"HUB-N\",\"name\":"
	                          "\"North hub\",\"kind\":\"hub\",\"services\":[],"
	                          "\"local_authority_id\":\"b\"}]}");
	free(text);
	cJSON_Delete(pub);
	pub = organisation_public_list(cJSON_GetArrayItem(full, 0));
	text = cJSON_PrintUnformatted(pub);
	assert_string_equal(text, "{\"items\":[]}");
	free(text);
	cJSON_Delete(pub);
	cJSON_Delete(full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_codes),       cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_validate),    cmocka_unit_test(test_ward_hub_and_webhook_owner),
	    cmocka_unit_test(test_public_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

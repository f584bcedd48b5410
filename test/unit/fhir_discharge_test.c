/*
 * fhir_discharge_test.c - the "update safe for discharge status" Encounter:
 * which events make one, what it carries for NCTR and for NCTR reversed, and
 * the payloads it refuses.  (The integration tests run the same resources
 * through the npm FHIR R4 validator.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "fhir_discharge.h"

#define EPISODE "0b6c9a52-3f0e-4a4e-9d47-6f1d2e3c4b5a"

/* An episode summary as the outbox holds it (cb_episode_summary_json), in part. */
static char *payload(const char *ready_at, const char *patient)
{
	static char buf[1024];

	snprintf(buf, sizeof buf,
	         "{\"id\":\"" EPISODE "\",\"state\":\"admitted\",\"ward\":\"AMU\","
	         "\"admitted_at\":\"2026-03-29T00:30:00Z\",\"ready\":%s,\"ready_at\":%s,"
	         "\"patient\":%s,\"version\":3}",
	         ready_at != NULL ? "true" : "false", ready_at != NULL ? ready_at : "null",
	         patient);
	return buf;
}

#define PATIENT                                                                                    \
	"{\"nhs_number\":\"9434765919\",\"local_id\":null,\"family_name\":\"Smith\","              \
	"\"given_name\":\"Ann\",\"birth_date\":\"1940-01-01\"}"

/* The string at a dotted path with [n] indexes, e.g. "extension[0].url", or NULL. */
static const char *at(const cJSON *j, const char *path)
{
	char copy[256], *save = NULL, *tok;

	snprintf(copy, sizeof copy, "%s", path);
	for (tok = strtok_r(copy, ".", &save); tok != NULL && j != NULL;
	     tok = strtok_r(NULL, ".", &save)) {
		char *br = strchr(tok, '[');

		if (br != NULL) {
			*br = '\0';
			j = cJSON_GetObjectItemCaseSensitive(j, tok);
			j = cJSON_GetArrayItem(j, atoi(br + 1));
		} else {
			j = cJSON_GetObjectItemCaseSensitive(j, tok);
		}
	}
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

static void expect(const cJSON *j, const char *path, const char *want)
{
	const char *got = at(j, path);

	if (want == NULL) {
		if (got != NULL)
			fail_msg("%s is \"%s\", want nothing", path, got);
		return;
	}
	if (got == NULL || strcmp(got, want) != 0)
		fail_msg("%s is \"%s\", want \"%s\"", path, got != NULL ? got : "(none)", want);
}

static void test_status_of(void **state)
{
	assert_int_equal(fhir_discharge_status_of("episode.ready"), FHIR_DISCHARGE_FIT);
	assert_int_equal(fhir_discharge_status_of("episode.ready_withdrawn"), FHIR_DISCHARGE_UNFIT);
	assert_int_equal(fhir_discharge_status_of("episode.updated"), FHIR_DISCHARGE_NONE);
	assert_int_equal(fhir_discharge_status_of("review.recorded"), FHIR_DISCHARGE_NONE);
	assert_int_equal(fhir_discharge_status_of("episode.ready.x"), FHIR_DISCHARGE_NONE);
	assert_int_equal(fhir_discharge_status_of(NULL), FHIR_DISCHARGE_NONE);
}

static void test_nctr_is_medically_fit_with_the_date(void **state)
{
	char ident[FHIR_DISCHARGE_IDENTIFIER_SIZE];
	struct err err;
	cJSON *e = NULL;

	/* a ready_at with an offset is written back in UTC */
	assert_int_equal(fhir_discharge_encounter_to_json(
			     "episode.ready", payload("\"2026-03-30T10:15:00+01:00\"", PATIENT), &e,
			     ident, &err),
	                 ST_OK);
	assert_string_equal(ident, "urn:ietf:rfc:3986|urn:uuid:" EPISODE);
	expect(e, "resourceType", "Encounter");
	expect(e, "extension[0].url", FHIR_DISCHARGE_EXT_URL);
	expect(e, "extension[0].extension[0].url", "medicallyFitStatus");
	expect(e, "extension[0].extension[0].valueCoding.system", FHIR_DISCHARGE_STATUS_SYSTEM);
	expect(e, "extension[0].extension[0].valueCoding.code", "01");
	expect(e, "extension[0].extension[0].valueCoding.display", "Medically Fit");
	expect(e, "extension[0].extension[1].url", "dateDeemedMedicallyFit");
	expect(e, "extension[0].extension[1].valueDateTime", "2026-03-30T09:15:00Z");
	expect(e, "identifier[0].system", "urn:ietf:rfc:3986");
	expect(e, "identifier[0].value", "urn:uuid:" EPISODE);
	expect(e, "status", "in-progress");
	expect(e, "class.code", "IMP");
	expect(e, "type[0].coding[0].system", "http://snomed.info/sct");
	expect(e, "type[0].coding[0].code", "32485007");
	expect(e, "subject.identifier.system", "https://fhir.nhs.uk/Id/nhs-number");
	expect(e, "subject.identifier.value", "9434765919");
	expect(e, "period.start", "2026-03-29T00:30:00Z");
	expect(e, "location[0].location.display", "AMU");
	/* nothing the partner does not need: no name, no birth date, no id of ours but the URN */
	{
		char *text = cJSON_PrintUnformatted(e);

		assert_null(strstr(text, "Smith"));
		assert_null(strstr(text, "1940"));
		assert_null(cJSON_GetObjectItemCaseSensitive(e, "id"));
		assert_null(cJSON_GetObjectItemCaseSensitive(e, "meta"));
		cJSON_free(text);
	}
	cJSON_Delete(e);
}

static void test_reversed_is_medically_unfit_without_a_date(void **state)
{
	char ident[FHIR_DISCHARGE_IDENTIFIER_SIZE];
	struct err err;
	cJSON *e = NULL;

	assert_int_equal(fhir_discharge_encounter_to_json("episode.ready_withdrawn",
	                                                  payload(NULL, PATIENT), &e, ident, &err),
	                 ST_OK);
	expect(e, "extension[0].extension[0].valueCoding.code", "02");
	expect(e, "extension[0].extension[0].valueCoding.display", "Medically Unfit");
	/* MedFit-1: no dateDeemedMedicallyFit unless fit */
	assert_int_equal(
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "extension"), 0),
		"extension")),
	    1);
	expect(e, "status", "in-progress");
	assert_string_equal(ident, "urn:ietf:rfc:3986|urn:uuid:" EPISODE);
	cJSON_Delete(e);
}

static void test_patient_without_nhs_number_by_hospital_number(void **state)
{
	char ident[FHIR_DISCHARGE_IDENTIFIER_SIZE];
	cJSON *e = NULL;

	assert_int_equal(fhir_discharge_encounter_to_json(
			     "episode.ready",
			     payload("\"2026-03-30T09:00:00Z\"",
	                             "{\"nhs_number\":null,\"local_id\":\"RX1234\"}"),
			     &e, ident, NULL),
	                 ST_OK);
	expect(e, "subject.identifier.system", NULL);
	expect(e, "subject.identifier.type.coding[0].code", "MR");
	expect(e, "subject.identifier.value", "RX1234");
	cJSON_Delete(e);
}

struct bad_case {
	const char *type;    /* event type */
	const char *payload; /* event payload */
	const char *field;   /* the field named */
};

static void test_refused(void **state)
{
	static char good[1024], bad_id[1024], bad_time[1024], no_ready[1024], bad_nhs[1024],
	    no_patient[1024], nobody[1024];
	const struct bad_case cases[] = {
	    {"episode.updated", good, "type"},          {"episode.ready", bad_id, "id"},
	    {"episode.ready", bad_time, "admitted_at"}, {"episode.ready", no_ready, "ready_at"},
	    {"episode.ready", bad_nhs, "nhs_number"},   {"episode.ready", no_patient, "patient"},
	    {"episode.ready", nobody, "nhs_number"},    {"episode.ready", "[1,2]", ""},
	    {"episode.ready", "not json", ""},          {"episode.ready", NULL, ""},
	};

	snprintf(good, sizeof good, "%s", payload("\"2026-03-30T09:00:00Z\"", PATIENT));
	snprintf(bad_id, sizeof bad_id, "%s", payload("\"2026-03-30T09:00:00Z\"", PATIENT));
	memcpy(strstr(bad_id, EPISODE), "x", 1);
	snprintf(bad_time, sizeof bad_time, "%s", payload("\"2026-03-30T09:00:00Z\"", PATIENT));
	memcpy(strstr(bad_time, "2026-03-29"), "2026-13-29", 10);
	snprintf(no_ready, sizeof no_ready, "%s", payload(NULL, PATIENT));
	snprintf(bad_nhs, sizeof bad_nhs, "%s",
	         payload("\"2026-03-30T09:00:00Z\"", "{\"nhs_number\":\"9434765918\"}"));
	snprintf(no_patient, sizeof no_patient, "%s", payload("\"2026-03-30T09:00:00Z\"", "null"));
	snprintf(nobody, sizeof nobody, "%s",
	         payload("\"2026-03-30T09:00:00Z\"", "{\"nhs_number\":null,\"local_id\":null}"));
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char ident[FHIR_DISCHARGE_IDENTIFIER_SIZE];
		struct err err;
		cJSON *e = (cJSON *)1;

		err_clear(&err);
		if (fhir_discharge_encounter_to_json(cases[i].type, cases[i].payload, &e, ident,
		                                     &err) != ST_INVALID)
			fail_msg("case %zu: accepted", i);
		if (e != NULL)
			fail_msg("case %zu: *out not NULL", i);
		if (ident[0] != '\0')
			fail_msg("case %zu: identifier \"%s\" left", i, ident);
		if (strcmp(err.field, cases[i].field) != 0)
			fail_msg("case %zu: field \"%s\", want \"%s\" (%s)", i, err.field,
			         cases[i].field, err.message);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_of),
	    cmocka_unit_test(test_nctr_is_medically_fit_with_the_date),
	    cmocka_unit_test(test_reversed_is_medically_unfit_without_a_date),
	    cmocka_unit_test(test_patient_without_nhs_number_by_hospital_number),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

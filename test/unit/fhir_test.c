/*
 * fhir_test.c - the FHIR R4 mapping and search parsing of lib/fhir.c.
 *
 * Search dates: the expected bounds were worked out by hand (a date without
 * a time is a Europe/London day: 2025-07-01 starts at 23:00 UTC the day
 * before; 2025-01-10 at midnight UTC).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fhir.h"

#define EXPECT_STR(i, got, want)                                                                   \
	do {                                                                                       \
		const char *got_ = (got), *want_ = (want);                                         \
		if (strcmp(got_, want_) != 0)                                                      \
			fail_msg("case %zu: %s is \"%s\", want \"%s\"", (size_t)(i), #got, got_,   \
			         want_);                                                           \
	} while (0)

/* ---- _lastUpdated ---- */

struct date_case {
	const char *v1, *v2; /* one or two _lastUpdated values */
	enum status st;
	const char *from, *to; /* expected bounds ("" none) */
};

static const struct date_case date_cases[] = {
    {"2025-01-10", NULL, ST_OK, "2025-01-10 00:00:00.000000+00", "2025-01-11 00:00:00.000000+00"},
    {"eq2025-07-01", NULL, ST_OK, "2025-06-30 23:00:00.000000+00", "2025-07-01 23:00:00.000000+00"},
    {"2025", NULL, ST_OK, "2025-01-01 00:00:00.000000+00", "2026-01-01 00:00:00.000000+00"},
    {"2025-12", NULL, ST_OK, "2025-12-01 00:00:00.000000+00", "2026-01-01 00:00:00.000000+00"},
    {"gt2025-01-10T10:00:00Z", NULL, ST_OK, "2025-01-10 10:00:01.000000+00", ""},
    {"ge2025-01-10T10:00Z", NULL, ST_OK, "2025-01-10 10:00:00.000000+00", ""},
    {"gt2025-01-10T10:00Z", NULL, ST_OK, "2025-01-10 10:01:00.000000+00", ""},
    {"lt2025-01-10T10:00:00.5Z", NULL, ST_OK, "", "2025-01-10 10:00:00.500000+00"},
    {"le2025-01-10T10:00:00.5Z", NULL, ST_OK, "", "2025-01-10 10:00:00.600000+00"},
    {"le2025-01-10T10:00:00.123456789Z", NULL, ST_OK, "", "2025-01-10 10:00:00.123457+00"},
    {"gt2025-01-12T11:00:00+01:00", NULL, ST_OK, "2025-01-12 10:00:01.000000+00", ""},
    {"ge2025-01-10T00:30:00-01:00", NULL, ST_OK, "2025-01-10 01:30:00.000000+00", ""},
    /* two values narrow to their intersection */
    {"ge2025-01-10", "lt2025-01-20", ST_OK, "2025-01-10 00:00:00.000000+00",
     "2025-01-20 00:00:00.000000+00"},
    {"ge2025-01-10", "ge2025-01-15", ST_OK, "2025-01-15 00:00:00.000000+00", ""},
    {"yesterday", NULL, ST_INVALID, "", ""},
    {"2025-13", NULL, ST_INVALID, "", ""},
    {"2025-02-30", NULL, ST_INVALID, "", ""},
    {"2025-01-10T10:00:00", NULL, ST_INVALID, "", ""}, /* a time needs a zone */
    {"2025-01-10T24:00Z", NULL, ST_INVALID, "", ""},
    {"2025-01-10T10:00:00.Z", NULL, ST_INVALID, "", ""},
    {"ne2025-01-10", NULL, ST_INVALID, "", ""},
    {"sa2025-01-10", NULL, ST_INVALID, "", ""},
    {"2025-01-10Z", NULL, ST_INVALID, "", ""},
};

static void test_last_updated(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof date_cases / sizeof date_cases[0]; i++) {
		const struct date_case *c = &date_cases[i];
		const char *names[] = {"_lastUpdated", "_lastUpdated"};
		const char *values[] = {c->v1, c->v2};
		struct fhir_search s;
		struct err err;
		enum status st;

		err_clear(&err);
		st = fhir_search_parse(FHIR_ENCOUNTER, names, values, c->v2 != NULL ? 2 : 1, NULL,
		                       &s, &err);
		if (st != c->st)
			fail_msg("case %zu (%s): status %d, want %d (%s)", i, c->v1, st, c->st,
			         err.message);
		if (st != ST_OK) {
			EXPECT_STR(i, err.field, "_lastUpdated");
			continue;
		}
		EXPECT_STR(i, s.from, c->from);
		EXPECT_STR(i, s.to, c->to);
	}
}

/* ---- the other parameters ---- */

struct param_case {
	enum fhir_type type;
	const char *name, *value;
	enum status st;
	const char *field; /* on failure */
};

static const struct param_case param_cases[] = {
    {FHIR_PATIENT, "identifier", "https://fhir.nhs.uk/Id/nhs-number|9434765919", ST_OK, NULL},
    {FHIR_PATIENT, "identifier", "urn:x|9434765919", ST_INVALID, "identifier"},
    {FHIR_PATIENT, "identifier", "https://fhir.nhs.uk/Id/nhs-number|", ST_INVALID, "identifier"},
    {FHIR_PATIENT, "patient", "x", ST_INVALID, "patient"},
    {FHIR_PATIENT, "status", "active", ST_INVALID, "status"},
    {FHIR_ENCOUNTER, "identifier", "x", ST_INVALID, "identifier"},
    {FHIR_ENCOUNTER, "status", "in-progress,finished", ST_OK, NULL},
    {FHIR_ENCOUNTER, "status", "admitted", ST_INVALID, "status"},
    {FHIR_TASK, "status", "requested", ST_OK, NULL},
    {FHIR_TASK, "status", "open", ST_INVALID, "status"},
    {FHIR_TASK, "status:not", "completed", ST_INVALID, "status:not"},
    {FHIR_TASK, "_count", "0", ST_INVALID, "_count"},
    {FHIR_TASK, "_count", "-3", ST_INVALID, "_count"},
    {FHIR_TASK, "_count", "3x", ST_INVALID, "_count"},
    {FHIR_TASK, "_cursor", "2", ST_INVALID, "_cursor"},
    {FHIR_TASK, "_format", "xml", ST_INVALID, "_format"},
    {FHIR_TASK, "_format", "json", ST_OK, NULL},
    {FHIR_TASK, "_sort", "_id", ST_INVALID, "_sort"},
    {FHIR_TASK, "name", "", ST_INVALID, "name"}, /* unknown even when empty */
    {FHIR_TASK, "patient", "", ST_OK, NULL},     /* empty: ignored */
};

static void test_params(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof param_cases / sizeof param_cases[0]; i++) {
		const struct param_case *c = &param_cases[i];
		struct fhir_search s;
		struct err err;
		enum status st;

		err_clear(&err);
		st = fhir_search_parse(c->type, &c->name, &c->value, 1, NULL, &s, &err);
		if (st != c->st)
			fail_msg("case %zu (%s=%s): status %d, want %d (%s)", i, c->name, c->value,
			         st, c->st, err.message);
		if (st != ST_OK)
			EXPECT_STR(i, err.field, c->field);
	}
}

static void test_search_values(void **state)
{
	const char *names[] = {"patient", "status", "_count", "_id", "_cursor"};
	const char *values[] = {
	    "Patient/0A5B1E8C-0000-4000-8000-000000000001", "finished,in-progress,planned", "500",
	    "0a5b1e8c-0000-4000-8000-000000000002", "0a5b1e8c-0000-4000-8000-000000000003"};
	struct fhir_search s;
	char *link;

	(void)state;
	assert_int_equal(fhir_search_parse(FHIR_ENCOUNTER, names, values, 5, NULL, &s, NULL),
	                 ST_OK);
	assert_string_equal(s.patient, "0a5b1e8c-0000-4000-8000-000000000001");
	assert_string_equal(s.id, "0a5b1e8c-0000-4000-8000-000000000002");
	assert_string_equal(s.cursor, "0a5b1e8c-0000-4000-8000-000000000003");
	assert_int_equal(s.count, FHIR_COUNT_MAX);
	assert_true(s.has_status);
	assert_int_equal(s.nstates, 2);
	assert_string_equal(s.states[0], "discharged");
	assert_string_equal(s.states[1], "admitted");
	assert_false(s.matches_nothing);
	/* the links keep the filters, not the cursor given; values percent-encoded */
	link = fhir_search_link(&s, "http://h/fhir/R4", "0a5b1e8c-0000-4000-8000-000000000009");
	assert_string_equal(link,
	                    "http://h/fhir/R4/Encounter?patient=Patient%2F0A5B1E8C-0000-4000-"
	                    "8000-000000000001&status=finished%2Cin-progress%2Cplanned&_id="
	                    "0a5b1e8c-0000-4000-8000-000000000002&_count=200&_cursor=0a5b1e8c-"
	                    "0000-4000-8000-000000000009");
	free(link);
}

static void test_matches_nothing(void **state)
{
	static const struct {
		enum fhir_type type;
		const char *n1, *v1, *n2, *v2;
	} cases[] = {
	    {FHIR_PATIENT, "_id", "abc", NULL, NULL},
	    {FHIR_ENCOUNTER, "status", "planned", NULL, NULL},
	    {FHIR_ENCOUNTER, "status", "finished", "status", "in-progress"},
	    {FHIR_TASK, "patient", "Patient/x", NULL, NULL},
	    {FHIR_TASK, "_lastUpdated", "ge2025-02-01", "_lastUpdated", "lt2025-01-01"},
	    {FHIR_PATIENT, "identifier", "9434765919", "identifier", "4010232137"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *names[] = {cases[i].n1, cases[i].n2};
		const char *values[] = {cases[i].v1, cases[i].v2};
		struct fhir_search s;

		assert_int_equal(fhir_search_parse(cases[i].type, names, values,
		                                   cases[i].n2 != NULL ? 2 : 1, NULL, &s, NULL),
		                 ST_OK);
		if (!s.matches_nothing)
			fail_msg("case %zu: should match nothing", i);
	}
}

/* ---- resources ---- */

static cJSON *parse(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	assert_non_null(j);
	return j;
}

static const char *path_str(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b != NULL)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : "(none)";
}

static void test_patient(void **state)
{
	cJSON *in = parse("{\"id\":\"p1\",\"nhs_number\":\"9434765919\",\"local_id\":\"RX1\","
	                  "\"family_name\":\"Okafor\",\"given_name\":\"Ngozi\",\"birth_date\":"
	                  "\"1938-02-11\",\"sex\":\"female\",\"version\":3,\"last_updated\":"
	                  "\"2026-12-03T10:00:00.123456Z\"}");
	cJSON *p = fhir_patient_from_json(in);
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive(p, "identifier");

	(void)state;
	assert_string_equal(path_str(p, "resourceType", NULL), "Patient");
	assert_string_equal(path_str(p, "meta", "versionId"), "3");
	assert_string_equal(path_str(p, "meta", "lastUpdated"), "2026-12-03T10:00:00.123456Z");
	assert_int_equal(cJSON_GetArraySize(ids), 2);
	assert_string_equal(path_str(cJSON_GetArrayItem(ids, 0), "system", NULL),
	                    FHIR_SYSTEM_NHS_NUMBER);
	assert_string_equal(path_str(cJSON_GetArrayItem(ids, 0), "value", NULL), "9434765919");
	assert_string_equal(path_str(cJSON_GetArrayItem(ids, 1), "system", NULL),
	                    FHIR_SYSTEM_LOCAL_ID);
	assert_string_equal(path_str(p, "gender", NULL), "female");
	assert_string_equal(path_str(p, "birthDate", NULL), "1938-02-11");
	cJSON_Delete(p);
	cJSON_Delete(in);

	/* no local number, an unknown sex: left out */
	in = parse("{\"id\":\"p2\",\"nhs_number\":\"9434765919\",\"local_id\":null,\"family_name\":"
	           "\"A\",\"given_name\":\"B\",\"birth_date\":\"1938-02-11\",\"sex\":\"x\"}");
	p = fhir_patient_from_json(in);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "identifier")), 1);
	assert_null(cJSON_GetObjectItemCaseSensitive(p, "gender"));
	cJSON_Delete(p);
	cJSON_Delete(in);
}

static void test_encounter_status(void **state)
{
	(void)state;
	assert_string_equal(fhir_encounter_status("admitted"), "in-progress");
	assert_string_equal(fhir_encounter_status("discharged"), "finished");
	assert_string_equal(fhir_encounter_status("cancelled"), "entered-in-error");
	assert_null(fhir_encounter_status("planned"));
	assert_null(fhir_encounter_status(NULL));
}

static void test_encounter(void **state)
{
	cJSON *in = parse(
	    "{\"id\":\"e1\",\"state\":\"discharged\",\"ward\":\"EA1\",\"ward_name\":\"Elm\","
	    "\"bed\":\"4\",\"admitted_at\":\"2026-11-20T09:30:00Z\",\"discharged_at\":"
	    "\"2026-11-22T11:00:00Z\",\"ready\":false,\"ready_at\":\"2026-11-21T15:00:00Z\","
	    "\"expected_discharge_date\":\"2026-11-25\",\"pathway\":2,\"discharge_pathway\":1,"
	    "\"discharge_destination\":\"usual_residence\","
	    "\"discharge_destination_label\":\"Usual place of residence\","
	    "\"version\":5,\"patient\":{\"id\":\"p1\"}}");
	cJSON *e = fhir_encounter_from_json(in);
	const cJSON *loc = cJSON_GetObjectItemCaseSensitive(e, "location");
	const cJSON *ext = cJSON_GetObjectItemCaseSensitive(e, "extension"), *x;
	int seen = 0;

	(void)state;
	assert_string_equal(path_str(e, "status", NULL), "finished");
	assert_string_equal(path_str(e, "class", "code"), "IMP");
	assert_string_equal(path_str(e, "class", "system"), FHIR_SYSTEM_ACT_CODE);
	assert_string_equal(path_str(e, "subject", "reference"), "Patient/p1");
	assert_string_equal(path_str(e, "period", "start"), "2026-11-20T09:30:00Z");
	assert_string_equal(path_str(e, "period", "end"), "2026-11-22T11:00:00Z");
	assert_string_equal(path_str(cJSON_GetObjectItemCaseSensitive(e, "hospitalization"),
	                             "dischargeDisposition", "text"),
	                    "Usual place of residence");
	{
		const cJSON *disp = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(e, "hospitalization"), "dischargeDisposition");
		const cJSON *coding =
		    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(disp, "coding"), 0);
		assert_string_equal(path_str(coding, "code", NULL), "usual_residence");
		assert_string_equal(path_str(coding, "system", NULL), FHIR_SYSTEM_DESTINATION);
	}
	assert_int_equal(cJSON_GetArraySize(loc), 2);
	assert_string_equal(path_str(cJSON_GetArrayItem(loc, 0), "location", "display"), "Elm");
	assert_string_equal(path_str(cJSON_GetArrayItem(loc, 0), "status", NULL), "completed");
	assert_string_equal(path_str(cJSON_GetArrayItem(loc, 1), "location", "display"),
	                    "Elm bed 4");
	cJSON_ArrayForEach(x, ext)
	{
		const char *url = path_str(x, "url", NULL);

		if (strcmp(url, FHIR_EXT_NCTR) == 0) {
			assert_true(
			    cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(x, "valueBoolean")));
			seen |= 1;
		} else if (strcmp(url, FHIR_EXT_DRD) == 0) {
			assert_string_equal(path_str(x, "valueDateTime", NULL),
			                    "2026-11-21T15:00:00Z");
			seen |= 2;
		} else if (strcmp(url, FHIR_EXT_DISCHARGE_PATHWAY) == 0) {
			assert_int_equal(
			    cJSON_GetObjectItemCaseSensitive(x, "valueInteger")->valueint, 1);
			seen |= 4;
		}
	}
	assert_int_equal(seen, 7);
	cJSON_Delete(e);
	cJSON_Delete(in);
}

static void test_task(void **state)
{
	cJSON *in =
	    parse("{\"id\":\"t1\",\"episode_id\":\"e1\",\"patient_id\":\"p1\",\"template_id\""
	          ":null,\"discipline\":\"ot\",\"discipline_title\":\"Occupational "
	          "therapy\",\"title\":\"Home visit\",\"status\":\"on-hold\",\"assignee\":"
	          "\"u1\",\"assignee_name\":\"ot.one\",\"due_at\":\"2026-11-23T09:00:00Z\","
	          "\"note\":\"keys with neighbour\",\"created_at\":\"2026-11-20T09:30:00Z\","
	          "\"updated_at\":\"2026-11-21T09:30:00Z\",\"completed_at\":null,"
	          "\"version\":2}");
	cJSON *t = fhir_task_from_json(in);
	const cJSON *pt =
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(t, "performerType"), 0);

	(void)state;
	assert_string_equal(path_str(t, "status", NULL), "on-hold");
	assert_string_equal(path_str(t, "intent", NULL), "order");
	assert_string_equal(path_str(t, "for", "reference"), "Patient/p1");
	assert_string_equal(path_str(t, "encounter", "reference"), "Encounter/e1");
	assert_string_equal(path_str(t, "code", "text"), "Home visit");
	assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t, "code"),
	                                             "coding"));
	assert_string_equal(path_str(t, "description", NULL), "Home visit");
	assert_string_equal(path_str(t, "owner", "display"), "ot.one");
	assert_string_equal(path_str(pt, "text", NULL), "Occupational therapy");
	assert_string_equal(
	    path_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(pt, "coding"), 0), "code",
	             NULL),
	    "ot");
	assert_string_equal(
	    path_str(cJSON_GetObjectItemCaseSensitive(t, "restriction"), "period", "end"),
	    "2026-11-23T09:00:00Z");
	assert_string_equal(path_str(t, "authoredOn", NULL), "2026-11-20T09:30:00Z");
	assert_string_equal(path_str(t, "lastModified", NULL), "2026-11-21T09:30:00Z");
	assert_null(cJSON_GetObjectItemCaseSensitive(t, "executionPeriod"));
	cJSON_Delete(t);
	cJSON_Delete(in);
}

static void test_bundle_and_outcome(void **state)
{
	cJSON *b = fhir_bundle_new(7, "http://h/fhir/R4/Task?_count=3", "http://h/next", 0);
	cJSON *t = cJSON_CreateObject(), *e, *o;

	(void)state;
	cJSON_AddStringToObject(t, "resourceType", "Task");
	cJSON_AddStringToObject(t, "id", "t1");
	fhir_bundle_add(b, "http://h/fhir/R4", t);
	assert_string_equal(path_str(b, "type", NULL), "searchset");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(b, "total")->valueint, 7);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(b, "link")), 2);
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(b, "entry"), 0);
	assert_string_equal(path_str(e, "fullUrl", NULL), "http://h/fhir/R4/Task/t1");
	assert_string_equal(path_str(e, "search", "mode"), "match");
	cJSON_Delete(b);

	o = fhir_operation_outcome(ST_INVALID, NULL, "_count", "bad");
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "issue"), 0);
	assert_string_equal(path_str(e, "code", NULL), "invalid");
	assert_string_equal(path_str(e, "severity", NULL), "error");
	assert_string_equal(
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "expression"), 0)->valuestring,
	    "_count");
	cJSON_Delete(o);
	o = fhir_operation_outcome(ST_UNAUTHORIZED, NULL, NULL, "who");
	e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "issue"), 0);
	assert_string_equal(path_str(e, "code", NULL), "login");
	assert_null(cJSON_GetObjectItemCaseSensitive(e, "expression"));
	cJSON_Delete(o);
}

/* ---- referrals: ServiceRequest status, Task ids, searches, the partner's cut ---- */

static void test_service_request_status(void **state)
{
	static const struct {
		const char *state, *status;
	} cases[] = {
	    {"notified", "draft"},         {"referred", "active"},
	    {"info_requested", "on-hold"}, {"accepted", "active"},
	    {"declined", "revoked"},       {"sourced", "active"},
	    {"start_confirmed", "active"}, {"completed", "completed"},
	    {"withdrawn", "revoked"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		EXPECT_STR(i, fhir_service_request_status(cases[i].state), cases[i].status);
	assert_null(fhir_service_request_status("open"));
	assert_null(fhir_service_request_status(NULL));
}

static void test_task_ids(void **state)
{
	char id[37];

	(void)state;
	assert_int_equal(fhir_task_id_parse("6B0E3A52-1111-4222-8333-444455556666", id),
	                 FHIR_TASK_DISCIPLINE);
	assert_string_equal(id, "6b0e3a52-1111-4222-8333-444455556666");
	assert_int_equal(fhir_task_id_parse("referral-6b0e3a52-1111-4222-8333-444455556666", id),
	                 FHIR_TASK_REFERRAL);
	assert_string_equal(id, "6b0e3a52-1111-4222-8333-444455556666");
	assert_int_equal(fhir_task_id_parse("referral-x", id), FHIR_TASK_NONE);
	assert_int_equal(fhir_task_id_parse("task-6b0e3a52-1111-4222-8333-444455556666", id),
	                 FHIR_TASK_NONE);
	assert_int_equal(fhir_task_id_parse("", id), FHIR_TASK_NONE);
}

static void test_referral_searches(void **state)
{
	const char *sr_names[] = {"status"}, *sr_values[] = {"active,on-hold"};
	const char *t_names[] = {"status", "_id", "_cursor"};
	const char *t_values[] = {"draft,ready", "referral-6B0E3A52-1111-4222-8333-444455556666",
	                          "referral-6b0e3a52-1111-4222-8333-444455556666"};
	struct fhir_search s;
	struct err err;

	(void)state;
	/* a ServiceRequest status names every referral state it stands for */
	assert_int_equal(
	    fhir_search_parse(FHIR_SERVICE_REQUEST, sr_names, sr_values, 1, NULL, &s, &err), ST_OK);
	assert_int_equal(s.nstates, 5);
	assert_string_equal(s.states[0], "referred");
	assert_string_equal(s.states[4], "info_requested");
	sr_values[0] = "entered-in-error";
	assert_int_equal(
	    fhir_search_parse(FHIR_SERVICE_REQUEST, sr_names, sr_values, 1, NULL, &s, &err), ST_OK);
	assert_true(s.matches_nothing);
	sr_values[0] = "requested";
	assert_int_equal(
	    fhir_search_parse(FHIR_SERVICE_REQUEST, sr_names, sr_values, 1, NULL, &s, &err),
	    ST_INVALID);
	assert_string_equal(err.field, "status");
	/* a Task status is its own code (referral Tasks are drafts and ready ones too) */
	assert_int_equal(fhir_search_parse(FHIR_TASK, t_names, t_values, 3, NULL, &s, &err), ST_OK);
	assert_false(s.matches_nothing);
	assert_int_equal(s.nstates, 2);
	assert_string_equal(s.states[0], "draft");
	assert_string_equal(s.id, "referral-6b0e3a52-1111-4222-8333-444455556666");
	assert_string_equal(s.cursor, "referral-6b0e3a52-1111-4222-8333-444455556666");
	/* a referral Task id is no Encounter's */
	t_names[0] = "_cursor";
	assert_int_equal(
	    fhir_search_parse(FHIR_ENCOUNTER, t_names, t_values + 2, 1, NULL, &s, &err),
	    ST_INVALID);
}

static void test_referral_mapping_and_partner_cut(void **state)
{
	cJSON *in =
	    parse("{\"id\":\"6b0e3a52-1111-4222-8333-444455556666\",\"record\":\"referral\","
	          "\"episode_id\":\"e1\",\"patient_id\":\"p1\",\"state\":\"info_requested\","
	          "\"version\":3,\"needs\":\"Meals\",\"notified_at\":\"2026-11-20T09:30:00Z\","
	          "\"referred_at\":\"2026-11-20T12:00:00Z\",\"organisation\":{\"code\":\"HUB1\","
	          "\"name\":\"Hub\"},\"trust\":{\"code\":\"TRUST\",\"name\":\"The trust\"}}");
	cJSON *sr = fhir_resource_from_json(FHIR_SERVICE_REQUEST, in, FHIR_VIEW_PARTNER);
	cJSON *t = fhir_resource_from_json(FHIR_TASK, in, FHIR_VIEW_PARTNER);
	cJSON *pin = parse("{\"id\":\"p1\",\"nhs_number\":\"9434765919\",\"local_id\":\"RX1\","
	                   "\"family_name\":\"Smith\",\"sex\":\"male\",\"birth_date\":"
	                   "\"1940-01-02\",\"version\":1}");
	cJSON *task = parse("{\"id\":\"t1\",\"status\":\"requested\",\"title\":\"x\"}");
	cJSON *p;

	(void)state;
	assert_string_equal(path_str(sr, "status", NULL), "on-hold");
	assert_string_equal(path_str(sr, "authoredOn", NULL), "2026-11-20T12:00:00Z");
	assert_string_equal(path_str(sr, "requester", "display"), "The trust");
	assert_string_equal(path_str(t, "id", NULL),
	                    "referral-6b0e3a52-1111-4222-8333-444455556666");
	assert_string_equal(path_str(t, "status", NULL), "on-hold");
	assert_string_equal(path_str(t, "focus", "reference"),
	                    "ServiceRequest/6b0e3a52-1111-4222-8333-444455556666");
	assert_string_equal(path_str(t, "owner", "display"), "Hub");
	/* the partner's Patient: the NHS number, not the hospital number */
	p = fhir_resource_from_json(FHIR_PATIENT, pin, FHIR_VIEW_PARTNER);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "identifier")), 1);
	assert_string_equal(
	    path_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p, "identifier"), 0),
	             "system", NULL),
	    FHIR_SYSTEM_NHS_NUMBER);
	assert_string_equal(path_str(p, "gender", NULL), "male");
	/* a discipline task is never the partner's */
	assert_null(fhir_resource_from_json(FHIR_TASK, task, FHIR_VIEW_PARTNER));
	cJSON_Delete(p);
	cJSON_Delete(sr);
	cJSON_Delete(t);
	cJSON_Delete(in);
	cJSON_Delete(pin);
	cJSON_Delete(task);
}

static void test_rebase(void **state)
{
	cJSON *res = cJSON_Parse(
	    "{\"resourceType\": \"Patient\", \"identifier\": [{\"system\": "
	    "\"https://carebridge.example/fhir/Id/hospital-number\", \"value\": "
	    "\"https://carebridge.example/fhir/Id/x\"}], \"extension\": [{\"url\": "
	    "\"https://carebridge.example/fhir/StructureDefinition/no-criteria-to-reside\"}], "
	    "\"x\": {\"documentation\": \"NHS number or hospital number "
	    "(https://carebridge.example/fhir/Id/hospital-number|...)\", \"system\": "
	    "\"https://fhir.nhs.uk/Id/nhs-number\", \"url\": "
	    "\"https://carebridge.example/fhirx\"}}");
	char *text;

	fhir_rebase(res, NULL);
	fhir_rebase(res, FHIR_CB_BASE);
	fhir_rebase(res, "https://rx1.nhs.uk/carebridge/fhir");
	text = cJSON_PrintUnformatted(res);
	/* names only: values (patient data) and other systems stay as they were */
	assert_string_equal(
	    text,
	    "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":"
	    "\"https://rx1.nhs.uk/carebridge/fhir/Id/hospital-number\",\"value\":"
	    "\"https://carebridge.example/fhir/Id/x\"}],\"extension\":[{\"url\":"
	    "\"https://rx1.nhs.uk/carebridge/fhir/StructureDefinition/no-criteria-to-reside\"}],"
	    "\"x\":{\"documentation\":\"NHS number or hospital number "
	    "(https://rx1.nhs.uk/carebridge/fhir/Id/hospital-number|...)\",\"system\":"
	    "\"https://fhir.nhs.uk/Id/nhs-number\",\"url\":\"https://carebridge.example/fhirx\"}}");
	free(text);
	cJSON_Delete(res);
}

static void test_base_url(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
	    {"https://rx1.nhs.uk/fhir", true},
	    {"https://rx1.nhs.uk", true},
	    {"http://127.0.0.1:8080/fhir", true},
	    {"https://rx1.nhs.uk:8443/a/b", true},
	    {"https://rx1.nhs.uk/fhir/", false},
	    {"https://", false},
	    {"ftp://rx1.nhs.uk/fhir", false},
	    {"rx1.nhs.uk/fhir", false},
	    {"/fhir", false},
	    {"", false},
	    {"https://rx1.nhs.uk/fhir?x=1", false},
	    {"https://rx1.nhs.uk/fhir#x", false},
	    {"https://user@rx1.nhs.uk/fhir", false},
	    {"https://rx1.nhs.uk/f hir", false},
	    {"https:///fhir", false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (fhir_base_url_is_valid(cases[i].s) != cases[i].ok)
			fail_msg("\"%s\"", cases[i].s);
}

static void test_identifier_under_the_base(void **state)
{
	const char *names[] = {"identifier"};
	const char *local[] = {"https://rx1.nhs.uk/fhir/Id/hospital-number|RX1"};
	const char *stand_in[] = {FHIR_SYSTEM_LOCAL_ID "|RX1"};
	struct fhir_search s;
	struct err err;

	assert_int_equal(
	    fhir_search_parse(FHIR_PATIENT, names, local, 1, "https://rx1.nhs.uk/fhir", &s, &err),
	    ST_OK);
	assert_string_equal(s.identifier_kind, "local");
	assert_string_equal(s.identifier, "RX1");
	/* the stand-in is not this installation's name */
	assert_int_equal(fhir_search_parse(FHIR_PATIENT, names, stand_in, 1,
	                                   "https://rx1.nhs.uk/fhir", &s, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "identifier");
	assert_non_null(strstr(err.message, "https://rx1.nhs.uk/fhir/Id/hospital-number"));
	assert_int_equal(fhir_search_parse(FHIR_PATIENT, names, stand_in, 1, NULL, &s, &err),
	                 ST_OK);
	assert_string_equal(s.identifier_kind, "local");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_last_updated),
	    cmocka_unit_test(test_params),
	    cmocka_unit_test(test_search_values),
	    cmocka_unit_test(test_matches_nothing),
	    cmocka_unit_test(test_patient),
	    cmocka_unit_test(test_encounter_status),
	    cmocka_unit_test(test_encounter),
	    cmocka_unit_test(test_task),
	    cmocka_unit_test(test_bundle_and_outcome),
	    cmocka_unit_test(test_service_request_status),
	    cmocka_unit_test(test_task_ids),
	    cmocka_unit_test(test_referral_searches),
	    cmocka_unit_test(test_referral_mapping_and_partner_cut),
	    cmocka_unit_test(test_rebase),
	    cmocka_unit_test(test_base_url),
	    cmocka_unit_test(test_identifier_under_the_base),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

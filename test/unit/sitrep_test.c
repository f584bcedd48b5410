/*
 * sitrep_test.c - unit tests for lib/sitrep: the sitrep's query (dates, ISO
 * weeks, refusals naming the field), its JSON and CSV replies with figures
 * derived by hand, and a submission's amendments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cbtime.h"
#include "sitrep.h"

static int64_t at(const char *s)
{
	int64_t t = 0;

	if (time_parse(s, &t, "t", NULL) != ST_OK)
		fail_msg("bad instant %s", s);
	return t;
}

static int32_t day(const char *s)
{
	int32_t d = 0;

	if (date_parse(s, &d, "d", NULL) != ST_OK)
		fail_msg("bad date %s", s);
	return d;
}

/*
 * DOCS/REPORTS.md's worked example, GMT dates (UTC = local):
 *   E0 admitted Fri 20 Nov 09:00, NCTR Mon 23 Nov 10:00, home 23 Nov 18:00 on pathway 0;
 *   E1 admitted 20 Nov 09:00, NCTR 23 Nov 15:00, home Wed 25 Nov 11:00 on pathway 1;
 *   E2 admitted 1 Nov 09:00, NCTR 20 Nov 10:00, still in; barrier dtoc-2014 "E" primary
 *      from 20 Nov 10:00, reported as nhse-acute-2023 p1_awaiting_care;
 *   E3 admitted 10 Nov 09:00, NCTR 20 Nov 10:00, still in, no barrier.
 */
static const char DOC[] =
    "{\"episodes\":["
    "{\"id\":\"e0\",\"admitted_at\":1795165200,\"discharged_at\":1795456800,\"pathway\":0,"
    "\"stays\":[[\"A1\",1795165200,null]],\"readiness\":[[1795428000,null]]},"
    "{\"id\":\"e1\",\"admitted_at\":1795165200,\"discharged_at\":1795604400,\"pathway\":1,"
    "\"stays\":[[\"A1\",1795165200,null]],\"readiness\":[[1795446000,null]]},"
    "{\"id\":\"e2\",\"admitted_at\":1793523600,\"discharged_at\":null,\"pathway\":null,"
    "\"stays\":[[\"A1\",1793523600,null]],\"readiness\":[[1795168800,null]],"
    "\"barriers\":[{\"list\":\"dtoc-2014\",\"key\":\"E\",\"opened_at\":1795168800,"
    "\"closed_at\":null,\"changes\":[],\"primary\":[[1795168800,null]]}]},"
    "{\"id\":\"e3\",\"admitted_at\":1794301200,\"discharged_at\":null,\"pathway\":null,"
    "\"stays\":[[\"A1\",1794301200,null]],\"readiness\":[[1795168800,null]]}],"
    "\"lists\":[[\"dtoc-2014\",\"2014-04-01\"],[\"nhse-acute-2023\",\"2023-04-01\"]],"
    "\"mappings\":[[\"dtoc-2014\",\"E\",\"nhse-acute-2023\",\"p1_awaiting_care\"]],"
    "\"labels\":[[\"nhse-acute-2023\",\"p1_awaiting_care\",\"Pathway 1, awaiting care\"]]}";

static void doc_load(struct figures_doc *d)
{
	struct err err;

	assert_int_equal(at("2026-11-23T10:00:00Z"), 1795428000);
	if (figures_doc_parse(DOC, strlen(DOC), d, &err) != ST_OK)
		fail_msg("doc: %s", err.message);
}

static void expect_json(cJSON *got, const char *want)
{
	char *s = cJSON_PrintUnformatted(got);

	assert_string_equal(s, want);
	cJSON_free(s);
	cJSON_Delete(got);
}

static void test_week_parse_and_format(void **state)
{
	static const struct {
		const char *week, *first, *last;
	} ok[] = {
	    {"2026-W48", "2026-11-23", "2026-11-29"},
	    {"2026-W01", "2025-12-29", "2026-01-04"}, /* 4 Jan 2026 is a Sunday */
	    {"2026-W53", "2026-12-28", "2027-01-03"}, /* 2026 starts on a Thursday */
	    {"2027-W01", "2027-01-04", "2027-01-10"},
	    {"2020-W53", "2020-12-28", "2021-01-03"},
	};
	static const char *const bad[] = {"2021-W53", "2026-W00", "2026-W54", "2026-48",
	                                  "2026W48",  "26-W48",   "2026-w48", "2026-W4x",
	                                  "",         "2026-W488"};
	char name[9];
	struct err err;
	int32_t f, l;

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		assert_int_equal(sitrep_week_parse(ok[i].week, &f, &l, &err), ST_OK);
		assert_int_equal(f, day(ok[i].first));
		assert_int_equal(l, day(ok[i].last));
		for (int32_t d = f; d <= l; d++) {
			sitrep_week_format(d, name);
			assert_string_equal(name, ok[i].week);
		}
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&err, 0, sizeof err);
		assert_int_equal(sitrep_week_parse(bad[i], &f, &l, &err), ST_INVALID);
		assert_string_equal(err.field, "week");
	}
}

static void test_query_parse(void **state)
{
	/* now: Thu 3 Dec 2026 10:00 GMT, so yesterday is 2 Dec */
	int64_t now = at("2026-12-03T10:00:00Z");
	static const struct {
		const char *date, *from, *to, *week, *format;
		const char *field; /* NULL: accepted */
	} cases[] = {
	    {NULL, NULL, NULL, NULL, NULL, NULL},
	    {"2026-12-02", NULL, NULL, NULL, "csv", NULL},
	    {"2026-12-03", NULL, NULL, NULL, NULL, "date"}, /* its midnight is tonight */
	    {"2026-02-30", NULL, NULL, NULL, NULL, "date"},
	    {"yesterday", NULL, NULL, NULL, NULL, "date"},
	    {NULL, "2026-11-01", "2026-12-02", NULL, NULL, NULL},
	    {NULL, "2026-10-01", "2026-12-02", NULL, NULL, "from"}, /* 63 dates */
	    {NULL, "2026-11-01", NULL, NULL, NULL, "to"},
	    {NULL, NULL, "2026-11-01", NULL, NULL, "from"},
	    {NULL, "2026-11-02", "2026-11-01", NULL, NULL, "to"},
	    {NULL, "2026-11-02", "2026-12-03", NULL, NULL, "to"},
	    {"2026-11-01", "2026-11-01", "2026-11-02", NULL, NULL, "date"},
	    {NULL, NULL, NULL, "2026-W48", NULL, NULL},
	    {NULL, NULL, NULL, "2026-W49", NULL, "week"}, /* ends Sunday 6 Dec */
	    {"2026-11-01", NULL, NULL, "2026-W48", NULL, "week"},
	    {NULL, NULL, NULL, "W48", NULL, "week"},
	    {NULL, NULL, NULL, NULL, "xml", "format"},
	};
	struct sitrep_query q;
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum status st;

		memset(&err, 0, sizeof err);
		st = sitrep_query_parse(cases[i].date, cases[i].from, cases[i].to, cases[i].week,
		                        cases[i].format, now, &q, &err);
		if (cases[i].field == NULL) {
			if (st != ST_OK)
				fail_msg("case %zu: %s", i, err.message);
		} else {
			if (st != ST_INVALID || strcmp(err.field, cases[i].field) != 0)
				fail_msg("case %zu: field \"%s\", want \"%s\"", i, err.field,
				         cases[i].field);
		}
	}
	assert_int_equal(sitrep_query_parse(NULL, NULL, NULL, NULL, NULL, now, &q, &err), ST_OK);
	assert_int_equal(q.kind, SITREP_DAY);
	assert_int_equal(q.from, day("2026-12-02"));
	assert_false(q.csv);
	assert_int_equal(sitrep_query_parse(NULL, NULL, NULL, "2026-W48", "csv", now, &q, &err),
	                 ST_OK);
	assert_int_equal(q.kind, SITREP_WEEK);
	assert_true(q.csv);
	assert_int_equal(q.to, day("2026-11-29"));

	/* the instants the facts must cover */
	int64_t f, t;

	sitrep_query_span(&q, &f, &t);
	assert_int_equal(f, at("2026-11-30T00:00:00Z"));
	assert_int_equal(t, at("2026-11-30T00:00:00Z"));
	/* a BST date: its snapshot is 23:00 UTC */
	assert_int_equal(sitrep_query_parse("2026-06-10", NULL, NULL, NULL, NULL, now, &q, &err),
	                 ST_OK);
	sitrep_query_span(&q, &f, &t);
	assert_int_equal(f, at("2026-06-09T23:00:00Z"));
	assert_int_equal(t, at("2026-06-10T23:00:00Z"));

	/* a submission's date */
	int32_t d;

	assert_int_equal(sitrep_submit_date("2026-12-02", now, &d, &err), ST_OK);
	assert_int_equal(sitrep_submit_date("2026-12-03", now, &d, &err), ST_INVALID);
	assert_string_equal(err.field, "date");
	assert_int_equal(sitrep_submit_date("2026-13-01", now, &d, &err), ST_INVALID);
	assert_string_equal(err.field, "date");
}

/* Monday 23 Nov: NCTR at the snapshot E1, E2, E3; during the day also E0, sent home on P0. */
static void test_day_json(void **state)
{
	struct figures_doc doc;
	struct sitrep_query q = {SITREP_DAY, 0, 0, false};

	(void)state;
	doc_load(&doc);
	q.from = q.to = day("2026-11-23");
	expect_json(sitrep_reply_json(&q, &doc, NULL),
	            "{\"date\":\"2026-11-23\",\"snapshot\":\"2026-11-24T00:00:00Z\","
	            "\"nctr_at_snapshot\":3,\"nctr_during_day\":4,"
	            "\"discharged\":{\"pathway_0\":1,\"pathway_1\":0,\"pathway_2\":0,"
	            "\"pathway_3\":0,\"not_recorded\":0,\"total\":1},"
	            "\"still_in_hospital\":3,\"submission\":null}");
	figures_doc_free(&doc);
}

/* A submission made when E1's readiness was not yet entered: nctr_at_snapshot was 2. */
static void test_submission_amendments(void **state)
{
	static const char SUB[] =
	    "{\"2026-11-23\":{\"version\":2,\"submitted_at\":\"2026-11-24T09:00:00Z\","
	    "\"submitted_by\":\"bm\",\"note\":null,\"figures\":{\"nctr_at_snapshot\":2,"
	    "\"nctr_during_day\":4,\"discharged\":{\"pathway_0\":1,\"pathway_1\":0,"
	    "\"pathway_2\":0,\"pathway_3\":0,\"not_recorded\":0,\"total\":1},"
	    "\"still_in_hospital\":3}}}";
	struct figures_doc doc;
	struct sitrep_query q = {SITREP_DAY, 0, 0, false};
	cJSON *subs = cJSON_Parse(SUB), *j, *a;
	char *csv;

	(void)state;
	doc_load(&doc);
	q.from = q.to = day("2026-11-23");
	j = sitrep_reply_json(&q, &doc, subs);
	a = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "submission"), "amendments");
	expect_json(cJSON_Duplicate(a, true),
	            "[{\"field\":\"nctr_at_snapshot\",\"submitted\":2,\"now\":3}]");
	/* the submitted figures are shown as submitted */
	assert_int_equal(cJSON_GetObjectItem(
			     cJSON_GetObjectItem(cJSON_GetObjectItem(j, "submission"), "figures"),
			     "nctr_at_snapshot")
	                     ->valueint,
	                 2);
	assert_int_equal(cJSON_GetObjectItem(j, "nctr_at_snapshot")->valueint, 3);
	cJSON_Delete(j);

	/* nothing differs: no amendment */
	cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(subs, "2026-11-23"), "figures"),
	                    "nctr_at_snapshot")
	    ->valuedouble = 3;
	j = sitrep_reply_json(&q, &doc, subs);
	expect_json(
	    cJSON_Duplicate(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "submission"), "amendments"),
	                    true),
	    "[]");
	cJSON_Delete(j);

	/* a figure missing from what was stored is an amendment from null */
	cJSON_DeleteItemFromObject(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(subs, "2026-11-23"), "figures"),
	    "still_in_hospital");
	q.csv = true;
	csv = sitrep_reply_csv(&q, &doc, subs);
	assert_string_equal(csv, "date,nctr_at_snapshot,nctr_during_day,discharged_pathway_0,"
	                         "discharged_pathway_1,discharged_pathway_2,discharged_pathway_3,"
	                         "discharged_not_recorded,discharged_total,still_in_hospital,"
	                         "submitted_version,amendments\n"
	                         "2026-11-23,3,4,1,0,0,0,0,1,3,2,1\n"
	                         "total,3,4,1,0,0,0,0,1,3,,\n");
	free(csv);
	cJSON_Delete(subs);
	figures_doc_free(&doc);
}

/*
 * Mon 23 .. Thu 26 Nov, by hand:
 *   23: NCTR E1 E2 E3 = 3; during + E0 = 4; P0 1 (E0); still 3
 *   24: NCTR E1 E2 E3 = 3; during 3; none home; still 3
 *   25: NCTR E2 E3 = 2; during E1 E2 E3 = 3; P1 1 (E1); still 2
 *   26: NCTR 2; during 2; still 2
 */
static void test_range_json_and_csv(void **state)
{
	struct figures_doc doc;
	struct sitrep_query q = {SITREP_RANGE, 0, 0, true};
	cJSON *j;
	char *csv;

	(void)state;
	doc_load(&doc);
	q.from = day("2026-11-23");
	q.to = day("2026-11-26");
	csv = sitrep_reply_csv(&q, &doc, NULL);
	assert_string_equal(csv, "date,nctr_at_snapshot,nctr_during_day,discharged_pathway_0,"
	                         "discharged_pathway_1,discharged_pathway_2,discharged_pathway_3,"
	                         "discharged_not_recorded,discharged_total,still_in_hospital,"
	                         "submitted_version,amendments\n"
	                         "2026-11-23,3,4,1,0,0,0,0,1,3,,\n"
	                         "2026-11-24,3,3,0,0,0,0,0,0,3,,\n"
	                         "2026-11-25,2,3,0,1,0,0,0,1,2,,\n"
	                         "2026-11-26,2,2,0,0,0,0,0,0,2,,\n"
	                         "total,10,12,1,1,0,0,0,2,10,,\n");
	free(csv);
	j = sitrep_reply_json(&q, &doc, NULL);
	assert_string_equal(cJSON_GetObjectItem(j, "from")->valuestring, "2026-11-23");
	assert_string_equal(cJSON_GetObjectItem(j, "to")->valuestring, "2026-11-26");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "days")), 4);
	expect_json(cJSON_Duplicate(cJSON_GetObjectItem(j, "totals"), true),
	            "{\"nctr_at_snapshot\":10,\"nctr_during_day\":12,"
	            "\"discharged\":{\"pathway_0\":1,\"pathway_1\":1,\"pathway_2\":0,"
	            "\"pathway_3\":0,\"not_recorded\":0,\"total\":2},\"still_in_hospital\":10}");
	cJSON_Delete(j);
	figures_doc_free(&doc);
}

/*
 * Week ending Sunday 29 Nov (2026-W48), snapshot 30 Nov 00:00: E2 (LoS 30 - 1 = 29,
 * primary dtoc-2014 E reported as p1_awaiting_care) and E3 (LoS 20, no barrier).
 */
static void test_week(void **state)
{
	struct figures_doc doc;
	struct sitrep_query q = {SITREP_WEEK, 0, 0, false};
	char *csv;

	(void)state;
	doc_load(&doc);
	q.from = day("2026-11-23");
	q.to = day("2026-11-29");
	expect_json(
	    sitrep_reply_json(&q, &doc, NULL),
	    "{\"week\":\"2026-W48\",\"first_day\":\"2026-11-23\",\"last_day\":\"2026-11-29\","
	    "\"snapshot\":\"2026-11-30T00:00:00Z\",\"total\":{\"patients\":2,"
	    "\"los_7_plus\":2,\"los_14_plus\":2,\"los_21_plus\":1},\"by_reason\":["
	    "{\"reason_list\":\"\",\"reason\":\"\",\"reason_label\":\"No reason recorded\","
	    "\"patients\":1,\"los_7_plus\":1,\"los_14_plus\":1,\"los_21_plus\":0},"
	    "{\"reason_list\":\"nhse-acute-2023\",\"reason\":\"p1_awaiting_care\","
	    "\"reason_label\":\"Pathway 1, awaiting care\",\"patients\":1,"
	    "\"los_7_plus\":1,\"los_14_plus\":1,\"los_21_plus\":1}]}");
	csv = sitrep_reply_csv(&q, &doc, NULL);
	assert_string_equal(csv, "week,reason_list,reason,reason_label,patients,los_7_plus,"
	                         "los_14_plus,los_21_plus\n"
	                         "2026-W48,,,No reason recorded,1,1,1,0\n"
	                         "2026-W48,nhse-acute-2023,p1_awaiting_care,"
	                         "\"Pathway 1, awaiting care\",1,1,1,1\n"
	                         "total,,,,2,2,2,1\n");
	free(csv);
	figures_doc_free(&doc);
}

static void test_submit_parse(void **state)
{
	char note[SITREP_NOTE_MAX + 1];
	struct err err;
	cJSON *b;

	(void)state;
	b = cJSON_Parse("{}");
	assert_int_equal(sitrep_submit_parse(b, note, sizeof note, &err), ST_OK);
	assert_string_equal(note, "");
	cJSON_Delete(b);
	b = cJSON_Parse("{\"note\":\"late A03 for bed 4\"}");
	assert_int_equal(sitrep_submit_parse(b, note, sizeof note, &err), ST_OK);
	assert_string_equal(note, "late A03 for bed 4");
	cJSON_Delete(b);
	b = cJSON_Parse("{\"note\":3}");
	assert_int_equal(sitrep_submit_parse(b, note, sizeof note, &err), ST_INVALID);
	assert_string_equal(err.field, "note");
	cJSON_Delete(b);
	b = cJSON_Parse("{\"figures\":{}}");
	assert_int_equal(sitrep_submit_parse(b, note, sizeof note, &err), ST_INVALID);
	assert_string_equal(err.field, "figures");
	cJSON_Delete(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_week_parse_and_format),
	    cmocka_unit_test(test_query_parse),
	    cmocka_unit_test(test_day_json),
	    cmocka_unit_test(test_submission_amendments),
	    cmocka_unit_test(test_range_json_and_csv),
	    cmocka_unit_test(test_week),
	    cmocka_unit_test(test_submit_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * figures_report_test.c - unit tests for lib/figures_report: report
 * parameters refused with the field named, and the delays, DRD and long-stay
 * replies and CSV for a case worked by hand (docs/REPORTS.md's example).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cbtime.h"
#include "figures_report.h"

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

static void test_dates(void **state)
{
	int64_t now = at("2026-11-30T12:00:00Z");
	int32_t f, t;
	struct err err;

	(void)state;
	assert_int_equal(figures_report_dates(NULL, NULL, NULL, now, &f, &t, &err), ST_OK);
	assert_int_equal(f, day("2026-11-29"));
	assert_int_equal(t, f);
	assert_int_equal(figures_report_dates(NULL, "2026-11-01", "2026-11-29", now, &f, &t, &err),
	                 ST_OK);
	assert_int_equal(t - f, 28);
	/* today's snapshot has not happened: refused, naming the field asked */
	assert_int_equal(figures_report_dates("2026-11-30", NULL, NULL, now, &f, &t, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "date");
	assert_int_equal(figures_report_dates(NULL, "2026-11-01", NULL, now, &f, &t, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "to");
	assert_int_equal(figures_report_dates(NULL, "2026-11-05", "2026-11-01", now, &f, &t, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "to");
	assert_int_equal(figures_report_dates(NULL, "2025-01-01", "2026-11-01", now, &f, &t, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "from");
	assert_int_equal(figures_report_dates("2026-11-01", "2026-11-01", NULL, now, &f, &t, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "date");
}

static void test_month_format_ward(void **state)
{
	int64_t now = at("2026-12-01T00:30:00Z");
	int32_t f, l;
	int y, m;
	bool csv;
	struct err err;

	(void)state;
	assert_int_equal(figures_report_month(NULL, now, &y, &m, &f, &l, &err), ST_OK);
	assert_true(y == 2026 && m == 12);
	assert_int_equal(l, day("2026-12-31"));
	assert_int_equal(figures_report_month("2026-02", now, &y, &m, &f, &l, &err), ST_OK);
	assert_int_equal(f, day("2026-02-01"));
	assert_int_equal(l, day("2026-02-28"));
	const char *bad[] = {"2026-13", "2026-1", "2026-011", "202611", "2026/11", "", "2027-01"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(figures_report_month(bad[i], now, &y, &m, &f, &l, &err),
		                 ST_INVALID);
		assert_string_equal(err.field, "month");
	}
	assert_int_equal(figures_report_format(NULL, &csv, &err), ST_OK);
	assert_false(csv);
	assert_int_equal(figures_report_format("csv", &csv, &err), ST_OK);
	assert_true(csv);
	assert_int_equal(figures_report_format("xml", &csv, &err), ST_INVALID);
	assert_string_equal(err.field, "format");
	assert_int_equal(figures_report_ward("EA-1_b", &err), ST_OK);
	assert_int_equal(figures_report_ward("bad*code", &err), ST_INVALID);
	assert_string_equal(err.field, "ward");
	assert_int_equal(figures_report_ward("", &err), ST_INVALID);
}

/*
 * E1 admitted Fri 20 Nov 2026 09:00 on AMU, ready Mon 23 Nov 15:00, a
 * dtoc-2014 "E" barrier primary from 16:00, moved to ELD Tue 24 Nov 14:00, the
 * barrier's reason changed to equipment_adaptations Tue 15:00, home Wed 25 Nov
 * 11:00 on pathway 1.  E2 admitted 1 Nov 09:00 on AMU, still in hospital.
 * Monday counts for AMU under E, reported in 2026 as p1_awaiting_care;
 * Tuesday for ELD under equipment_adaptations; DRD delay 2 (band 2-3).
 */
static void load(struct figures_doc *doc)
{
	char json[2048];
	struct err err;

	snprintf(json, sizeof json,
	         "{\"episodes\":[{\"id\":\"e1\",\"admitted_at\":%lld,\"discharged_at\":%lld,"
	         "\"pathway\":1,\"bed\":\"4\","
	         "\"stays\":[[\"AMU\",%lld,%lld],[\"ELD\",%lld,null]],"
	         "\"readiness\":[[%lld,null]],"
	         "\"barriers\":[{\"list\":\"dtoc-2014\",\"key\":\"E\",\"opened_at\":%lld,"
	         "\"closed_at\":null,\"changes\":[[%lld,\"nhse-acute-2023\","
	         "\"equipment_adaptations\"]],\"primary\":[[%lld,null]]}]},"
	         "{\"id\":\"e2\",\"admitted_at\":%lld,\"discharged_at\":null,\"pathway\":null,"
	         "\"bed\":\"9\",\"stays\":[[\"AMU\",%lld,null]]}],"
	         "\"lists\":[[\"dtoc-2014\",\"2014-04-01\"],[\"nhse-acute-2023\",\"2023-04-01\"]],"
	         "\"mappings\":[[\"dtoc-2014\",\"E\",\"nhse-acute-2023\",\"p1_awaiting_care\"]],"
	         "\"labels\":[[\"nhse-acute-2023\",\"p1_awaiting_care\",\"Awaiting care, at "
	         "home\"]]}",
	         (long long)at("2026-11-20T09:00:00Z"), (long long)at("2026-11-25T11:00:00Z"),
	         (long long)at("2026-11-20T09:00:00Z"), (long long)at("2026-11-24T14:00:00Z"),
	         (long long)at("2026-11-24T14:00:00Z"), (long long)at("2026-11-23T15:00:00Z"),
	         (long long)at("2026-11-23T16:00:00Z"), (long long)at("2026-11-24T15:00:00Z"),
	         (long long)at("2026-11-23T16:00:00Z"), (long long)at("2026-11-01T09:00:00Z"),
	         (long long)at("2026-11-01T09:00:00Z"));
	assert_int_equal(figures_doc_parse(json, strlen(json), doc, &err), ST_OK);
}

static void test_delays(void **state)
{
	struct figures_doc doc;
	char *csv;
	cJSON *j, *longest;

	(void)state;
	load(&doc);
	csv = figures_delays_csv(&doc, day("2026-11-22"), day("2026-11-25"));
	/* a label with a comma is quoted; one the document does not name prints its key */
	assert_string_equal(
	    csv, "date,ward,reason_list,reason,reason_label,patients_delayed,longest_so_far\n"
		 "2026-11-22,,,,,0,0\n"
		 "2026-11-23,AMU,nhse-acute-2023,p1_awaiting_care,\"Awaiting care, at home\",1,1\n"
		 "2026-11-24,ELD,nhse-acute-2023,equipment_adaptations,equipment_adaptations,1,2\n"
		 "2026-11-25,,,,,0,0\n"
		 "total,,,,,2,2\n");
	free(csv);
	j = figures_delays_json(&doc, day("2026-11-23"), day("2026-11-24"));
	assert_int_equal(cJSON_GetObjectItem(j, "delayed_days")->valueint, 2);
	assert_int_equal(cJSON_GetObjectItem(j, "patients_delayed")->valueint, 1);
	longest = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "longest"), 0);
	assert_string_equal(cJSON_GetObjectItem(longest, "episode_id")->valuestring, "e1");
	assert_string_equal(cJSON_GetObjectItem(longest, "ward")->valuestring, "ELD");
	assert_string_equal(cJSON_GetObjectItem(longest, "bed")->valuestring, "4");
	assert_string_equal(cJSON_GetObjectItem(longest, "ready_at")->valuestring,
	                    "2026-11-23T15:00:00Z");
	assert_int_equal(cJSON_GetObjectItem(longest, "delayed_days")->valueint, 2);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "by_reason")), 2);
	cJSON_Delete(j);
	figures_doc_free(&doc);
}

static void test_drd(void **state)
{
	struct figures_doc doc;
	char *csv;
	cJSON *j;

	(void)state;
	load(&doc);
	j = figures_drd_json(&doc, 2026, 11, INT32_MAX);
	csv = figures_drd_csv(j);
	assert_string_equal(csv, "month,ward,discharges,no_drd,band_0,band_1,band_2_3,band_4_6,"
	                         "band_7_13,band_14_20,band_21_plus,delayed_bed_days,"
	                         "average_delay_days,on_drd_share\n"
	                         "2026-11,AMU,0,0,0,0,0,0,0,0,0,1,0.00,0.0000\n"
	                         "2026-11,ELD,1,0,0,0,1,0,0,0,0,1,2.00,0.0000\n"
	                         "2026-11,trust,1,0,0,0,1,0,0,0,0,2,2.00,0.0000\n");
	free(csv);
	cJSON_Delete(j);
	/* a month still running: bed days only up to the last snapshot that happened */
	j = figures_drd_json(&doc, 2026, 11, day("2026-11-23"));
	assert_int_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(j, "trust"), "delayed_bed_days")->valueint, 1);
	cJSON_Delete(j);
	figures_doc_free(&doc);
}

static void test_long_stay_wards(void **state)
{
	struct figures_doc doc;
	const char *eld[] = {"ELD"}, *amu[] = {"AMU"};
	int64_t now = at("2026-11-30T12:00:00Z");
	cJSON *j, *p;

	(void)state;
	load(&doc);
	j = figures_long_stay_json(&doc, now, NULL, 0);
	assert_int_equal(cJSON_GetObjectItem(j, "super_stranded")->valueint, 1);
	p = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "patients"), 0);
	assert_string_equal(cJSON_GetObjectItem(p, "episode_id")->valuestring, "e2");
	assert_int_equal(cJSON_GetObjectItem(p, "length_of_stay")->valueint, 29);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(p, "primary_barrier")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(p, "ready_at")));
	cJSON_Delete(j);
	j = figures_long_stay_json(&doc, now, eld, 1);
	assert_int_equal(cJSON_GetObjectItem(j, "stranded")->valueint, 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "patients")), 0);
	cJSON_Delete(j);
	j = figures_long_stay_json(&doc, now, amu, 1);
	assert_int_equal(cJSON_GetObjectItem(j, "stranded")->valueint, 1);
	cJSON_Delete(j);
	figures_doc_free(&doc);
}

/*
 * Discharges by pathway x destination: three discharges, one on each side of
 * London midnight (00:00 belongs to the date it ends), one with neither
 * pathway nor destination recorded, one with a code this build does not
 * know (counted as not recorded), and an inpatient (not counted).
 */
static void test_discharges(void **state)
{
	char json[1024], *csv;
	struct figures_doc doc;
	struct err err;
	cJSON *j, *row;
	int32_t f, t;

	(void)state;
	snprintf(json, sizeof json,
	         "{\"episodes\":["
	         "{\"id\":\"a\",\"admitted_at\":%lld,\"discharged_at\":%lld,\"pathway\":3,"
	         "\"destination\":\"care_home\",\"stays\":[]},"
	         "{\"id\":\"b\",\"admitted_at\":%lld,\"discharged_at\":%lld,\"pathway\":null,"
	         "\"destination\":null,\"stays\":[]},"
	         "{\"id\":\"c\",\"admitted_at\":%lld,\"discharged_at\":%lld,\"pathway\":0,"
	         "\"destination\":\"moon\",\"stays\":[]},"
	         "{\"id\":\"d\",\"admitted_at\":%lld,\"discharged_at\":%lld,\"pathway\":0,"
	         "\"destination\":\"usual_residence\",\"stays\":[]},"
	         "{\"id\":\"e\",\"admitted_at\":%lld,\"discharged_at\":null,\"pathway\":null,"
	         "\"stays\":[]}]}",
	         (long long)at("2026-11-20T09:00:00Z"), (long long)at("2026-11-25T11:00:00Z"),
	         (long long)at("2026-11-20T09:00:00Z"), (long long)at("2026-11-26T00:00:00Z"),
	         (long long)at("2026-11-20T09:00:00Z"), (long long)at("2026-11-25T12:00:00Z"),
	         (long long)at("2026-11-20T09:00:00Z"), (long long)at("2026-11-26T00:00:01Z"),
	         (long long)at("2026-11-20T09:00:00Z"));
	assert_int_equal(figures_doc_parse(json, strlen(json), &doc, &err), ST_OK);
	csv = figures_discharges_csv(&doc, day("2026-11-25"), day("2026-11-25"), NULL);
	assert_string_equal(csv, "pathway,destination,destination_label,discharges\n"
	                         "0,not_recorded,Not recorded,1\n"
	                         "3,care_home,Care home,1\n"
	                         "not_recorded,not_recorded,Not recorded,1\n"
	                         "0,total,,1\n"
	                         "1,total,,0\n"
	                         "2,total,,0\n"
	                         "3,total,,1\n"
	                         "not_recorded,total,,1\n"
	                         "total,usual_residence,Usual place of residence,0\n"
	                         "total,care_home,Care home,1\n"
	                         "total,other_hospital,Other hospital,0\n"
	                         "total,died,Died,0\n"
	                         "total,other,Other,0\n"
	                         "total,not_recorded,Not recorded,2\n"
	                         "total,total,,3\n");
	free(csv);
	j = figures_discharges_json(&doc, day("2026-11-25"), day("2026-11-26"), NULL);
	assert_int_equal(cJSON_GetObjectItem(j, "total")->valueint, 4);
	assert_string_equal(cJSON_GetObjectItem(j, "from")->valuestring, "2026-11-25");
	assert_int_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(j, "by_pathway"), "pathway_0")->valueint, 2);
	assert_int_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(j, "by_destination"), "usual_residence")
		->valueint,
	    1);
	row = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rows"), 0);
	assert_int_equal(cJSON_GetObjectItem(row, "pathway")->valueint, 0);
	assert_string_equal(cJSON_GetObjectItem(row, "destination")->valuestring,
	                    "usual_residence");
	row = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rows"), 3);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(row, "pathway")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(row, "destination")));
	cJSON_Delete(j);
	figures_doc_free(&doc);

	/*
	 * One ward's discharges: the ward the patient left from (moved from AMU to
	 * C4 before going home counts for C4), none from a ward without any.
	 */
	snprintf(json, sizeof json,
	         "{\"episodes\":["
	         "{\"id\":\"a\",\"admitted_at\":%lld,\"discharged_at\":%lld,\"pathway\":1,"
	         "\"destination\":\"usual_residence\",\"stays\":[[\"AMU\",%lld,%lld],"
	         "[\"C4\",%lld,%lld]]},"
	         "{\"id\":\"b\",\"admitted_at\":%lld,\"discharged_at\":%lld,\"pathway\":3,"
	         "\"destination\":\"care_home\",\"stays\":[[\"AMU\",%lld,%lld]]}]}",
	         (long long)at("2026-11-20T09:00:00Z"), (long long)at("2026-11-25T11:00:00Z"),
	         (long long)at("2026-11-20T09:00:00Z"), (long long)at("2026-11-22T09:00:00Z"),
	         (long long)at("2026-11-22T09:00:00Z"), (long long)at("2026-11-25T11:00:00Z"),
	         (long long)at("2026-11-20T09:00:00Z"), (long long)at("2026-11-25T12:00:00Z"),
	         (long long)at("2026-11-20T09:00:00Z"), (long long)at("2026-11-25T12:00:00Z"));
	assert_int_equal(figures_doc_parse(json, strlen(json), &doc, &err), ST_OK);
	j = figures_discharges_json(&doc, day("2026-11-25"), day("2026-11-25"), "C4");
	assert_string_equal(cJSON_GetObjectItem(j, "ward")->valuestring, "C4");
	assert_int_equal(cJSON_GetObjectItem(j, "total")->valueint, 1);
	assert_int_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(j, "by_pathway"), "pathway_1")->valueint, 1);
	cJSON_Delete(j);
	j = figures_discharges_json(&doc, day("2026-11-25"), day("2026-11-25"), "AMU");
	assert_int_equal(cJSON_GetObjectItem(j, "total")->valueint, 1);
	assert_int_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(j, "by_destination"), "care_home")->valueint,
	    1);
	cJSON_Delete(j);
	j = figures_discharges_json(&doc, day("2026-11-25"), day("2026-11-25"), "B2");
	assert_int_equal(cJSON_GetObjectItem(j, "total")->valueint, 0);
	cJSON_Delete(j);
	j = figures_discharges_json(&doc, day("2026-11-25"), day("2026-11-25"), NULL);
	assert_int_equal(cJSON_GetObjectItem(j, "total")->valueint, 2);
	assert_null(cJSON_GetObjectItem(j, "ward"));
	cJSON_Delete(j);
	csv = figures_discharges_csv(&doc, day("2026-11-25"), day("2026-11-25"), "C4");
	assert_non_null(strstr(csv, "total,total,,1\n"));
	free(csv);
	figures_doc_free(&doc);

	/* a destination that is not a string is a document the store never writes */
	snprintf(json, sizeof json,
	         "{\"episodes\":[{\"id\":\"a\",\"admitted_at\":1,\"discharged_at\":2,"
	         "\"pathway\":0,\"destination\":7,\"stays\":[]}]}");
	assert_int_equal(figures_doc_parse(json, strlen(json), &doc, &err), ST_INVALID);
	figures_doc_free(&doc);

	/* the dates: today may be asked for (so far), tomorrow not */
	assert_int_equal(figures_report_discharge_dates(NULL, NULL, NULL,
	                                                at("2026-11-30T12:00:00Z"), &f, &t, &err),
	                 ST_OK);
	assert_int_equal(f, day("2026-11-30"));
	assert_int_equal(t, f);
	/* 23:30 UTC on 29 March 2026 is 00:30 BST on the 30th: London's today */
	assert_int_equal(figures_report_discharge_dates("2026-03-30", NULL, NULL,
	                                                at("2026-03-29T23:30:00Z"), &f, &t, &err),
	                 ST_OK);
	assert_int_equal(figures_report_discharge_dates("2026-12-01", NULL, NULL,
	                                                at("2026-11-30T12:00:00Z"), &f, &t, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "date");
	assert_int_equal(figures_report_discharge_dates(NULL, "2026-11-02", "2026-11-01",
	                                                at("2026-11-30T12:00:00Z"), &f, &t, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "to");
	assert_int_equal(figures_report_discharge_dates("2026-11-01", "2026-11-01", NULL,
	                                                at("2026-11-30T12:00:00Z"), &f, &t, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "date");
	assert_int_equal(figures_report_discharge_dates(NULL, "2024-11-01", "2026-11-01",
	                                                at("2026-11-30T12:00:00Z"), &f, &t, &err),
	                 ST_INVALID);
	assert_string_equal(err.field, "from");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dates),           cmocka_unit_test(test_month_format_ward),
	    cmocka_unit_test(test_delays),          cmocka_unit_test(test_drd),
	    cmocka_unit_test(test_long_stay_wards), cmocka_unit_test(test_discharges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

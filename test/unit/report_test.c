/*
 * report_test.c - the delay report's figures and CSV, from readiness periods.
 * Expected figures are derived by hand from DOMAIN.md's midnight rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cbtime.h"
#include "report.h"

static int64_t at(const char *s)
{
	int64_t t = 0;

	assert_int_equal(time_parse(s, &t, "t", NULL), ST_OK);
	return t;
}

static int32_t day(const char *s)
{
	int32_t d = 0;

	assert_int_equal(date_parse(s, &d, "d", NULL), ST_OK);
	return d;
}

static void period(struct report_period *p, const char *ep, const char *ward, const char *ready,
                   const char *withdrawn, const char *left, const char *reason, const char *att)
{
	memset(p, 0, sizeof *p);
	strcpy(p->episode_id, ep);
	strcpy(p->ward, ward);
	strcpy(p->bed, "1");
	p->r.ready_at = at(ready);
	p->r.withdrawn_at = withdrawn ? at(withdrawn) : 0;
	p->r.left_at = left ? at(left) : 0;
	strcpy(p->reason_code, reason);
	strcpy(p->attribution, att);
}

static int num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	assert_true(cJSON_IsNumber(v));
	return v->valueint;
}

/*
 * A month boundary in winter (GMT: snapshots at 00:00Z of the next day):
 *  P1 ward W1 ready 2026-11-29T10:00Z, in bed: counts 29, 30 Nov, 1, 2 Dec.
 *  P2 ward W2 ready 2026-11-30T23:59Z (before the 30th's snapshot 1 Dec 00:00Z),
 *     discharged 2026-12-02T09:00Z: counts 30 Nov, 1 Dec; not 2 Dec (left before).
 *  P3 ward W1 ready 2026-12-01T08:00Z, withdrawn 2026-12-01T20:00Z: never counts.
 * Report 2026-12-01..2026-12-02: by day 1 Dec: P1, P2 = 2; 2 Dec: P1 = 1 -> 3 days;
 * at the 2nd's snapshot 1 patient (P1).
 */
static void test_month_boundary(void **state)
{
	struct report_period p[3];
	cJSON *j, *item;
	char *csv;

	period(&p[0], "e1", "W1", "2026-11-29T10:00:00Z", NULL, NULL, "F", "NHS");
	period(&p[1], "e2", "W2", "2026-11-30T23:59:00Z", NULL, "2026-12-02T09:00:00Z", "", "");
	period(&p[2], "e3", "W1", "2026-12-01T08:00:00Z", "2026-12-01T20:00:00Z", NULL, "G",
	       "both");
	j = report_json(p, 3, day("2026-12-01"), day("2026-12-02"), 10);
	assert_int_equal(num(j, "patients_delayed"), 1);
	assert_int_equal(num(j, "delayed_days"), 3);
	item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "by_day"), 0);
	assert_int_equal(num(item, "patients_delayed"), 2);
	item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "longest"), 0);
	/* P1's whole delay up to 2 Dec: 29, 30 Nov, 1, 2 Dec = 4 days */
	assert_int_equal(num(item, "delayed_days"), 4);
	cJSON_Delete(j);
	csv = report_csv(p, 3, day("2026-12-01"), day("2026-12-02"));
	assert_string_equal(
	    csv,
	    "period_start,period_end,ward,reason_code,reason,attribution,patients_delayed,"
	    "delayed_days\n"
	    "2026-12-01,2026-12-02,W1,F,Awaiting community equipment and adaptations,NHS,1,2\n"
	    "2026-12-01,2026-12-02,W2,unrecorded,No reason recorded,unrecorded,0,1\n"
	    "2026-12-01,2026-12-02,ALL,F,Awaiting community equipment and adaptations,NHS,1,2\n"
	    "2026-12-01,2026-12-02,ALL,unrecorded,No reason recorded,unrecorded,0,1\n");
	free(csv);
}

/* No periods: zero figures, every reason listed, header-only CSV. */
static void test_empty(void **state)
{
	cJSON *j = report_json(NULL, 0, day("2026-06-01"), day("2026-06-01"), 10);
	char *csv = report_csv(NULL, 0, day("2026-06-01"), day("2026-06-01"));

	assert_int_equal(num(j, "delayed_days"), 0);
	/* ten DToC codes and "unrecorded" */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "by_reason")), 11);
	assert_string_equal(csv, "period_start,period_end,ward,reason_code,reason,attribution,"
	                         "patients_delayed,delayed_days\n");
	cJSON_Delete(j);
	free(csv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_month_boundary),
	    cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

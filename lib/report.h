/*
 * report.h - the daily delayed-transfers-of-care report: counted from
 * readiness periods by DOMAIN.md's midnight rule (lib/delay), broken down by
 * reason code, attribution and ward, as JSON and as CSV.  Pure: the caller
 * loads the periods.
 *
 * Figures: "patients_delayed" is the number of patients counted at the
 * snapshot of the period's last date; "delayed_days" is the sum over every
 * date of the period of the patients counted at that date's snapshot.  A
 * period's reason and attribution are the ones recorded on its delay (the
 * latest value); a delay with none recorded is reported as "unrecorded".
 */
#ifndef CB_REPORT_H
#define CB_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "delay.h"

struct report_period {
	struct readiness r;   /* when ready, withdrawn, left */
	char episode_id[37];  /* the episode */
	char ward[33];        /* its ward (now) */
	char bed[33];         /* its bed (now) */
	char reason_code[8];  /* "" = unrecorded */
	char attribution[16]; /* "" = unrecorded */
};

/* The report for dates from..to (day numbers, inclusive) as a new JSON object. */
cJSON *report_json(const struct report_period *p, size_t n, int32_t from, int32_t to,
                   int longest_max);

/*
 * The same as CSV (a new string): one row per ward x reason x attribution with
 * a non-zero figure, then the totals (ward "ALL"), columns
 * period_start,period_end,ward,reason_code,reason,attribution,patients_delayed,delayed_days
 */
char *report_csv(const struct report_period *p, size_t n, int32_t from, int32_t to);

#endif

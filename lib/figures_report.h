/*
 * figures_report.h - the reports of issue 14 served from lib/figures: delayed
 * days by date x ward x reason, the discharge ready date (DRD) metric of a
 * month and the long-stay list, as JSON and CSV; and the parsing of their
 * parameters.  docs/REPORTS.md states each figure, docs/API.md each reply.
 *
 * The daemon (server/api_report.c) and the command line (server/cmd_report.c)
 * both read the facts document (lib/figures_doc.h) and call these, so the two
 * give the same figures and the same CSV.  Pure: the caller passes "now" and
 * the document; results are new cJSON objects or malloc'd strings it owns.
 */
#ifndef CB_FIGURES_REPORT_H
#define CB_FIGURES_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "figures_doc.h"
#include "status.h"

/* Longest span of dates one delays report covers. */
#define FIGURES_REPORT_MAX_DAYS 366

/*
 * The dates of a delays report: ?date=D, or ?from=D1&to=D2, or yesterday
 * (Europe/London) when none is given.  A date whose snapshot has not happened
 * by now is refused.  ST_OK, or ST_INVALID naming "date", "from" or "to".
 */
enum status figures_report_dates(const char *date, const char *from, const char *to, int64_t now,
                                 int32_t *first, int32_t *last, struct err *err);

/*
 * The month of a DRD report: "YYYY-MM", or this month (Europe/London) when
 * month is NULL.  Sets the month's first and last dates; a month not begun by
 * now is refused.  ST_OK, or ST_INVALID naming "month".
 */
enum status figures_report_month(const char *month, int64_t now, int *year, int *mon,
                                 int32_t *first, int32_t *last, struct err *err);

/*
 * The dates of a discharges report: ?date=D, or ?from=D1&to=D2, or today
 * (Europe/London) when none is given.  Unlike the delays report, today may be
 * asked for (its discharges so far); a date after today is refused.  At most
 * FIGURES_REPORT_MAX_DAYS dates.  ST_OK, or ST_INVALID naming "date", "from"
 * or "to".
 */
enum status figures_report_discharge_dates(const char *date, const char *from, const char *to,
                                           int64_t now, int32_t *first, int32_t *last,
                                           struct err *err);

/* "csv" sets *csv, "json" or NULL clears it; anything else is ST_INVALID naming "format". */
enum status figures_report_format(const char *format, bool *csv, struct err *err);

/*
 * Whether code is a well-formed ward code (1..32 of A-Z a-z 0-9 _ -); ST_OK
 * or ST_INVALID naming "ward".
 */
enum status figures_report_ward(const char *code, struct err *err);

/*
 * Delayed days on the dates first..last (figures_delays_count): per date its
 * rows by ward and reported reason, every date even with none; totals by
 * reason and by ward; and the patients delayed at the last snapshot with the
 * length of their delay so far ("longest").  Only dates whose snapshot has
 * happened may be asked for.
 */
cJSON *figures_delays_json(const struct figures_doc *doc, int32_t first, int32_t last);

/*
 * The same as CSV: header date,ward,reason_list,reason,reason_label,
 * patients_delayed,longest_so_far; one row per date x ward x reason with
 * patients, a row of 0 for a date with none, and a final "total" row.
 */
char *figures_delays_csv(const struct figures_doc *doc, int32_t first, int32_t last);

/*
 * The DRD metric of month mon of year (figures_drd_month_to, delayed bed days
 * counted up to through): {"month", "first_day", "last_day", "trust", "wards"}.
 */
cJSON *figures_drd_json(const struct figures_doc *doc, int year, int mon, int32_t through);

/* The DRD metric's JSON (figures_drd_json) as CSV: one row per ward, then the trust. */
char *figures_drd_csv(const cJSON *drd);

/*
 * The long-stay list at instant at (figures_long_stay): inpatients with a
 * length of stay of 7+ days, longest first, and the counts 7+, 14+, 21+.
 * With wards (nwards > 0) only patients on those wards at that instant are
 * listed and counted; wards NULL lists every ward.  Each patient has no
 * "patient" member yet: the caller adds the patient's JSON.
 */
cJSON *figures_long_stay_json(const struct figures_doc *doc, int64_t at, const char *const *wards,
                              size_t nwards);

/* The long-stay JSON (with each row's "patient") as CSV, one row per patient. */
char *figures_long_stay_csv(const cJSON *ls);

/*
 * Discharges on the dates first..last by actual pathway x coded destination
 * (figures_discharges_count): {"from", "to", "rows": [{"pathway": 0..3|null,
 * "destination": code|null, "destination_label", "discharges"}] (cells with
 * discharges only, pathway then destination order), "by_pathway":
 * {"pathway_0".."pathway_3", "not_recorded", "total"}, "by_destination":
 * {"usual_residence", ..., "other", "not_recorded", "total"}, "total"}.
 * ward: only the discharges from that ward (then also "ward": code); NULL
 * for the whole trust.
 */
cJSON *figures_discharges_json(const struct figures_doc *doc, int32_t first, int32_t last,
                               const char *ward);

/*
 * The same as CSV: header pathway,destination,destination_label,discharges;
 * one row per cell with discharges ("not_recorded" for either when none),
 * then a row per pathway with destination "total", a row per destination
 * with pathway "total", and a final "total","total" row.  ward as for the JSON.
 */
char *figures_discharges_csv(const struct figures_doc *doc, int32_t first, int32_t last,
                             const char *ward);

#endif

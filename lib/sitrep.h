/*
 * sitrep.h - the daily and weekly acute discharge sitrep as the API and the
 * command line give it (docs/API.md "Reports: sitrep", docs/REPORTS.md): the
 * query's dates, the figures of lib/figures as JSON and CSV, and a submitted
 * sitrep's amendments (the figures that differ now from what was submitted).
 *
 * Pure: the caller passes "now", the facts (lib/figures_doc) and the stored
 * submissions; nothing here reads a clock or a database.  The figures
 * themselves and their rules are lib/figures.h's.
 */
#ifndef CB_SITREP_H
#define CB_SITREP_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "figures.h"
#include "figures_doc.h"
#include "status.h"

#define SITREP_MAX_DAYS 62   /* dates in one ?from=&to= reply */
#define SITREP_NOTE_MAX 1000 /* bytes of a submission's note */

enum sitrep_kind {
	SITREP_DAY,   /* ?date=D (or nothing: yesterday) */
	SITREP_RANGE, /* ?from=D1&to=D2: one row per date */
	SITREP_WEEK,  /* ?week=YYYY-Www: the weekly sitrep */
};

struct sitrep_query {
	enum sitrep_kind kind; /* which reply */
	int32_t from;          /* first date (the day; the week's Monday) */
	int32_t to;            /* last date (the day; the week's Sunday) */
	bool csv;              /* format=csv */
};

/*
 * Parse the query: date, or from and to, or week (each NULL when absent) and
 * format (NULL, "json" or "csv").  Nothing given: yesterday (Europe/London)
 * as of now.  Refused with ST_INVALID naming the field: a malformed value,
 * two kinds at once, to before from, more than SITREP_MAX_DAYS dates, or a
 * date whose snapshot (the midnight ending it) is after now.
 */
enum status sitrep_query_parse(const char *date, const char *from, const char *to, const char *week,
                               const char *format, int64_t now, struct sitrep_query *q,
                               struct err *err);

/*
 * The instants (Unix seconds) the facts must cover for q: the day's or the
 * range's from snapshot(from - 1) to snapshot(to); the week's snapshot(to).
 */
void sitrep_query_span(const struct sitrep_query *q, int64_t *from, int64_t *to);

/*
 * An ISO 8601 week "YYYY-Www" (Monday..Sunday; week 1 holds 4 January) as
 * its first and last dates.  ST_INVALID (field "week") when malformed or when
 * the year has no such week.
 */
enum status sitrep_week_parse(const char *s, int32_t *first, int32_t *last, struct err *err);

/* The ISO week of date day as "YYYY-Www" (out: at least 9 bytes). */
void sitrep_week_format(int32_t day, char out[9]);

/*
 * The date of a submission ({date} of POST .../submit): a date whose snapshot
 * has happened by now.  ST_INVALID naming "date" otherwise.
 */
enum status sitrep_submit_date(const char *s, int64_t now, int32_t *day, struct err *err);

/*
 * The figures of d as submitted and compared: {"nctr_at_snapshot",
 * "nctr_during_day", "discharged": {"pathway_0".."pathway_3", "not_recorded",
 * "total"}, "still_in_hospital"}.  A new object.
 */
cJSON *sitrep_figures_json(const struct figures_sitrep_day *d);

/*
 * The amendments of a submission: for each figure of sitrep_figures_json()
 * whose value in submitted (the stored figures) differs from d's now, one
 * {"field": "nctr_at_snapshot" | "discharged.pathway_1" | ..., "submitted":
 * n (null when missing), "now": n}, in the order of the figures.  A new
 * array, empty when nothing differs.
 */
cJSON *sitrep_amendments(const cJSON *submitted, const struct figures_sitrep_day *d);

/*
 * The day object: {"date", "snapshot", the figures, "submission"}, where
 * submission is a copy of the stored submission (cb_sitrep_submission_json:
 * version, submitted_at, submitted_by, note, figures) with its
 * "amendments" added, or null when submission is NULL.  A new object.
 */
cJSON *sitrep_day_json(const struct figures_sitrep_day *d, const cJSON *submission);

/*
 * The reply to q from the facts in doc and, for days, the latest submission
 * of each date (submissions: {"YYYY-MM-DD": submission, ...}, may be NULL):
 * the day object; {"from", "to", "days", "totals"}; or the week's object
 * (docs/API.md).  A new object.
 */
cJSON *sitrep_reply_json(const struct sitrep_query *q, const struct figures_doc *doc,
                         const cJSON *submissions);

/*
 * The same as CSV with a header row of stated column names, one row per
 * date (every date, zeros included) or per reason, and a final "total" row.
 * A new string (free()).
 */
char *sitrep_reply_csv(const struct sitrep_query *q, const struct figures_doc *doc,
                       const cJSON *submissions);

/*
 * Read a submission request body ({} or {"note": "..."}) into note (size
 * SITREP_NOTE_MAX + 1; "" when none).  ST_INVALID naming the field.
 */
enum status sitrep_submit_parse(const cJSON *body, char *note, size_t size, struct err *err);

#endif

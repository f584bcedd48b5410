/*
 * store_sitrep.h - SQL for the daily sitrep's submissions (migration 0026):
 * the latest submission of each date, and a new submission recorded with its
 * audit row and its outbox event (sitrep.submitted) in one transaction.
 */
#ifndef CB_STORE_SITREP_H
#define CB_STORE_SITREP_H

#include <stdint.h>

#include "status.h"
#include "store.h"

struct db;

/*
 * The latest submission of each date from..to (day numbers) that has one, as
 * {"YYYY-MM-DD": cb_sitrep_submission_json, ...} ({} when none).
 */
void store_sitrep_latest(struct db *db, int32_t from, int32_t to, store_json_cb *cb, void *arg);

/* The same, blocking, for the command line: a malloc'd text, or NULL with err set. */
char *store_sitrep_latest_blocking(const char *conninfo, int32_t from, int32_t to, struct err *err);

/* A submission to record. */
struct sitrep_submit_row {
	int32_t day;          /* the date reported */
	const char *figures;  /* the figures as submitted (sitrep_figures_json), JSON text */
	const char *day_json; /* the day object without its submission, JSON text (the event) */
	const char *note;     /* NULL when none */
	int64_t now;          /* carebridge's clock: submitted_at */
};

/*
 * Record s as the next version of its date's submission, audited
 * ("sitrep.submit") and announced (sitrep.submitted, no ward, payload: the
 * day object with its submission).  cb gets the stored submission
 * (cb_sitrep_submission_json); ST_CONFLICT when another submission of the
 * date took the same version first.
 */
void store_sitrep_submit(struct db *db, const struct sitrep_submit_row *s,
                         const struct actor *actor, store_json_cb *cb, void *arg);

#endif

/*
 * store_report.h - the facts the reports of issue 14 are computed from
 * (lib/figures.h), read from the recorded history as one JSON document
 * (lib/figures_doc.h has its form).
 */
#ifndef CB_STORE_REPORT_H
#define CB_STORE_REPORT_H

#include <stdint.h>

#include "status.h"
#include "store.h"

struct actor;
struct db;

/*
 * Every episode that may count for an instant in [from, to] (Unix seconds):
 * not cancelled, admitted at or before to, and not discharged at or before
 * from; with its ward stays, readiness periods, barriers (reason history and
 * primary spans) and discharge; plus the delay reason lists, their mappings
 * and labels.  cb gets the document (ST_OK) or the error.
 */
void store_report_facts(struct db *db, int64_t from, int64_t to, store_json_cb *cb, void *arg);

/*
 * The same, blocking, for the command line: a malloc'd document the caller
 * frees, or NULL with err set.
 */
char *store_report_facts_blocking(const char *conninfo, int64_t from, int64_t to, struct err *err);

/*
 * The patient JSON of the episodes named in ids_json (a JSON array of ids),
 * as one object keyed by episode id; the read is audited in the same
 * transaction as action ("report.long_stay") on "episode" with detail_json
 * (ids and filters, never patient data).  cb gets the object or the error.
 */
void store_report_patients(struct db *db, const char *ids_json, const char *action,
                           const char *detail_json, const struct actor *actor, store_json_cb *cb,
                           void *arg);

/*
 * The same, blocking, for the command line, audited with actor as the name
 * (no user id): a malloc'd object the caller frees, or NULL with err set.
 */
char *store_report_patients_blocking(const char *conninfo, const char *ids_json, const char *action,
                                     const char *detail_json, const char *actor, struct err *err);

#endif

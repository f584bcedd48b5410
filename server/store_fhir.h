/*
 * store_fhir.h - SQL of the FHIR R4 read/search facade (issue 15).
 *
 * Reads carebridge's stored JSON forms (cb_patient_json,
 * cb_episode_summary_json, cb_task_json, cb_referral_json) plus the few
 * fields lib/fhir needs (the instant of the last change with microseconds,
 * the patient of an episode, task or referral, the ward's name, the
 * discipline's title, the trust); lib/fhir.c turns them into FHIR
 * resources.  Searches narrow in SQL to the wards the caller may read, or a
 * partner's organisation, so a page and its total never count another
 * ward's or organisation's records.  Reads of patient data are audited
 * here, before the reply.
 */
#ifndef CB_STORE_FHIR_H
#define CB_STORE_FHIR_H

#include <stdint.h>

#include "fhir.h"
#include "status.h"
#include "store.h"

struct db;

/*
 * One resource as read: its stored JSON text, the wards it may be read on
 * (a JSON array: an episode's or task's ward; for a patient, the wards of
 * all its episodes), its episode's id ("" for a patient) and the
 * organisations a partner reads it through (a JSON array of UUIDs: for a
 * patient or an episode, those every referral of its episodes names; for a
 * referral, those it names; none for a discipline task); all borrowed until
 * the callback returns.  ST_NOT_FOUND when there is no such record.
 */
typedef void store_fhir_read_cb(enum status st, const char *json, const char *wards,
                                const char *episode_id, const char *orgs, void *arg);

/*
 * Read the record of type with FHIR id id (a UUID; a Task's may be a
 * referral Task's, fhir_task_id_parse, and the referral is read); cb runs
 * later from the loop.
 */
void store_fhir_read(struct db *db, enum fhir_type type, const char *id, store_fhir_read_cb *cb,
                     void *arg);

/*
 * One page of a search: how many records match in all (total), the page as a
 * JSON array of stored JSON objects in id order (at most s->count + 1: one
 * more than the page shows when there is a next page), borrowed until the
 * callback returns.
 */
typedef void store_fhir_page_cb(enum status st, const struct err *err, int64_t total,
                                const char *page, void *arg);

/*
 * Run search s, narrowed to wards (nwards codes; wards NULL: every ward) and,
 * when organisation (a UUID) is not NULL, to what is referred to that
 * partner organisation (and no discipline task); cb runs later from the loop.
 */
void store_fhir_search(struct db *db, const struct fhir_search *s, const char *const *wards,
                       int nwards, const char *organisation, store_fhir_page_cb *cb, void *arg);

/*
 * Audit reads by actor in one transaction: when detail_json is not NULL, one
 * row for the search itself (action "fhir.search", entity the resource's
 * carebridge name, the search's parameter names as detail); then one row per
 * record read, action "<entity>.read" with entity_id and episode_id from
 * reads_json, an array of [entity_id, episode_id or null, entity or null
 * (null: the type's; a referral's Task is a "referral")], and detail
 * {"via": via}.  A partner actor's organisation joins every row's detail.
 * cb gets no JSON.
 */
void store_fhir_audit(struct db *db, const struct actor *actor, enum fhir_type type,
                      const char *reads_json, const char *detail_json, const char *via,
                      store_json_cb *cb, void *arg);

#endif

/*
 * store_hl7.h - SQL for HL7 v2 messages and the PAS ward map (asynchronous, on
 * the pool).
 *
 * A message's row is written in the same transaction as its effect (see
 * store_hl7_add_record and store_*_commit_with), so an AA is only sent for a
 * change that committed, and the unique key on (sending application,
 * facility, control id) lets only one copy of a message take effect.  Rows
 * for messages that took no effect (AE, AR, duplicates) are written on their
 * own with store_hl7_record.  This module decides nothing: hl7_apply.c does.
 */
#ifndef CB_STORE_HL7_H
#define CB_STORE_HL7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "store.h"
#include "store_episode.h"

struct db;

/* One received message and its outcome: a row of hl7_messages (strings borrowed). */
struct hl7_record {
	const char *id;               /* UUID of the row (the audit rows' request_id) */
	const char *peer;             /* client IP address */
	const char *sending_app;      /* MSH-3.1, "" if unknown */
	const char *sending_facility; /* MSH-4.1, "" if unknown */
	const char *control_id;       /* MSH-10, NULL if unknown */
	const char *message_type;     /* "ADT^A01^ADT_A01", "" if unknown */
	const char *raw;              /* the message as received (any bytes) */
	size_t raw_len;               /* its length */
	const char *ack_code;         /* "AA", "AE" or "AR" */
	const char *ack;              /* the ACK sent back (any bytes, NUL-terminated) */
	const char *error;            /* why AE or AR, NULL for AA */
	const char *episode_id;       /* the episode concerned, NULL if none */
};

/* What deciding a message needs to know; strings live until the callback returns. */
struct hl7_lookup {
	bool replay;                  /* the control id was already applied */
	char *prior_ack;              /* then: the ACK it got (owned by the store) */
	char prior_ack_code[3];       /* and its code */
	const char *ward;             /* the ward mapped to the PAS code, NULL if none */
	bool has_episode;             /* an episode has the visit number */
	struct episode_facts episode; /* then: its facts */
	const char *nhs_number;       /* and its patient's NHS number, "" if none */
};

typedef void store_hl7_lookup_cb(enum status st, const struct hl7_lookup *l, void *arg);

/*
 * Read, in one request: the ACK of an earlier applied message with the same
 * (sending_app, sending_facility, control_id); the ward the PAS location
 * pas_code maps to (hl7_ward_map first, then wards.pas_code; skipped when
 * NULL); the episode whose external_id is visit (skipped when NULL).  cb runs
 * later from the loop.
 */
void store_hl7_lookup(struct db *db, const char *sending_app, const char *sending_facility,
                      const char *control_id, const char *pas_code, const char *visit,
                      store_hl7_lookup_cb *cb, void *arg);

/*
 * Append rec's row to a write transaction being built: if another copy of the
 * message was applied first, the unique key fails the whole transaction.
 */
void store_hl7_add_record(struct db_req *req, const struct hl7_record *rec);

/*
 * The ACK to send for a recorded message: rec->ack, or the stored ACK of the
 * same control id when another copy was applied first (then duplicate is
 * true).  ack is borrowed until the callback returns; NULL when st != ST_OK.
 */
typedef void store_hl7_record_cb(enum status st, const char *ack, const char *ack_code,
                                 bool duplicate, void *arg);

/*
 * Write rec's row on its own.  When rec is AA or AE and a row of the same
 * control id was applied first, a duplicate row is written instead, with the
 * first one's ACK, which cb gets.  cb runs later from the loop.
 */
void store_hl7_record(struct db *db, const struct hl7_record *rec, store_hl7_record_cb *cb,
                      void *arg);

/*
 * Update demographics of the patient of episode episode_id (appended to a
 * write transaction; NULL or empty values leave a field alone; birth_date is
 * "YYYY-MM-DD").
 */
void store_hl7_add_patient_update(struct db_req *req, const char *episode_id, const char *family,
                                  const char *given, const char *birth_date, const char *sex);

/* Delete messages received more than retention_ms ago (a batch at a time); cb may be NULL. */
void store_hl7_prune(struct db *db, int64_t retention_ms, store_json_cb *cb, void *arg);

struct hl7_message_filter {
	const char *ack_code; /* "AA", "AE", "AR" or NULL for any */
	int limit, offset;    /* paging */
};

/* A page of messages, newest first, as {"items", "total", "limit", "offset"}; audited. */
void store_hl7_list(struct db *db, const struct hl7_message_filter *f, const struct actor *actor,
                    store_json_cb *cb, void *arg);

/* Every ward mapping as {"items": [...]}. */
void store_hl7_ward_map_list(struct db *db, store_json_cb *cb, void *arg);

/* One ward mapping (ST_NOT_FOUND if none). */
void store_hl7_ward_map_get(struct db *db, const char *pas_code, store_json_cb *cb, void *arg);

/*
 * Map pas_code to ward (created or replaced), audited; ST_INVALID when the
 * ward does not exist.  The reply is the mapping.
 */
void store_hl7_ward_map_put(struct db *db, const char *pas_code, const char *ward,
                            const struct actor *actor, store_json_cb *cb, void *arg);

/* Remove a mapping, audited; ST_NOT_FOUND if there was none. */
void store_hl7_ward_map_delete(struct db *db, const char *pas_code, const struct actor *actor,
                               store_json_cb *cb, void *arg);

#endif

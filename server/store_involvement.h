/*
 * store_involvement.h - SQL for the records of the patient's, family's or
 * carer's involvement in discharge planning (asynchronous, on the pool).
 *
 * A record is written in one transaction with its audit row
 * ("involvement.record") and its outbox event ("involvement.recorded"); the
 * rows are never changed afterwards (migration 0029).
 */
#ifndef CB_STORE_INVOLVEMENT_H
#define CB_STORE_INVOLVEMENT_H

#include <stdint.h>

#include "involvement.h"
#include "status.h"
#include "store.h"

struct db;

/* What recording an involvement needs to know of the episode. */
struct involvement_context {
	char ward[33];                /* the episode's ward, for access */
	struct involvement_episode e; /* state and times (state borrowed) */
};

typedef void store_involvement_context_cb(enum status st, const struct involvement_context *ctx,
                                          void *arg);

/*
 * Read episode_id's ward, state, admission and discharge.  ST_NOT_FOUND for
 * no such episode.  cb runs from the loop; ctx is valid only during cb.
 */
void store_involvement_context(struct db *db, const char *episode_id,
                               store_involvement_context_cb *cb, void *arg);

/*
 * Write involvement in of episode_id, entered at now by actor acting as
 * role_name, with its audit row and event; cb gets the record's JSON.
 */
void store_involvement_record(struct db *db, const char *episode_id, const struct involvement *in,
                              const char *role_name, int64_t now, const struct actor *actor,
                              store_json_cb *cb, void *arg);

/* Episode episode_id's ward and its involvements, latest conversation first, as {"items"}. */
void store_involvement_list(struct db *db, const char *episode_id, store_ward_json_cb *cb,
                            void *arg);

/* Audit that actor listed episode_id's involvements (committed before cb runs). */
void store_involvement_audit_list(struct db *db, const char *episode_id, const struct actor *actor,
                                  store_json_cb *cb, void *arg);

#endif

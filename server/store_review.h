/*
 * store_review.h - SQL for criteria-to-reside reviews and the "not reviewed
 * since the last board round" flag (asynchronous, on the pool).
 *
 * A review is written in one transaction with the episode change it decides
 * (store_episode_change_add: readiness history, delay close, episode audit
 * and event), its own row, audit row and review.recorded event.
 */
#ifndef CB_STORE_REVIEW_H
#define CB_STORE_REVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "review.h"
#include "status.h"
#include "store.h"
#include "store_episode.h"

struct db;

/* What deciding a review needs: the episode and the criteria list in force. */
struct review_context {
	struct episode_facts f;      /* the episode (strings borrowed) */
	int64_t last_review_at;      /* decided_at of its latest review, 0 if none */
	const char *criteria_list;   /* the default criteria list's name; borrowed */
	const char *const *criteria; /* its keys in force; borrowed */
	size_t ncriteria;            /* entries in criteria */
};

typedef void store_review_context_cb(enum status st, const struct review_context *ctx, void *arg);

/*
 * Read episode_id's facts, its latest review and the criteria in force on
 * London date today.  ST_NOT_FOUND for no such episode.  cb runs from the
 * loop; ctx is valid only during cb.
 */
void store_review_context(struct db *db, const char *episode_id, int32_t today,
                          store_review_context_cb *cb, void *arg);

/* A decided review, as the store writes it. */
struct review_write {
	const struct review *rv;   /* the review; borrowed */
	enum review_ready ready;   /* what it does to the discharge ready date */
	const char *criteria_list; /* the list its criteria are keys of */
	const char *reviewer_role; /* role name at the time */
	int64_t now;               /* carebridge's clock: recorded_at */
	int64_t last_round;        /* the last board round passed: decided at or after it
	                              clears the episode's review_overdue flag */
};

/*
 * Write review w of episode f with episode change c (c's version guard
 * applies: ST_PRECONDITION when the episode changed since f was read), as
 * one transaction; cb gets the review's JSON with the new episode under
 * "episode".
 */
void store_review_record(struct db *db, const struct episode_facts *f,
                         const struct episode_change *c, const struct review_write *w,
                         const struct actor *actor, store_json_cb *cb, void *arg);

/* Episode episode_id's ward and its reviews, newest first, as {"items": [...]}. */
void store_review_list(struct db *db, const char *episode_id, store_ward_json_cb *cb, void *arg);

/* Audit that actor listed episode_id's reviews (committed before cb runs). */
void store_review_audit_list(struct db *db, const char *episode_id, const struct actor *actor,
                             store_json_cb *cb, void *arg);

typedef void store_review_flag_cb(enum status st, void *arg);

/*
 * Flag, at now, every inpatient admitted before the board round last_round
 * and not reviewed at or since it (review_overdue); rows already flagged are
 * left as they are.  No event and no version change: like a task's overdue
 * mark, the flag is shown with the episode, and announcing it would wake
 * every subscriber of every ward at each round (and at each process start).
 */
void store_review_flag_overdue(struct db *db, int64_t last_round, int64_t now,
                               store_review_flag_cb *cb, void *arg);

#endif

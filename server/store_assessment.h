/*
 * store_assessment.h - SQL for Care Act assessments (asynchronous, on the pool).
 *
 * Reads give the handler what lib/ needs to decide (the episode's ward, the
 * state, who holds it, the version) and the JSON form; writes run as one
 * transaction: the change, its audit row, the outbox event and the new JSON
 * form to reply with.  Claiming is one guarded UPDATE, so of two social
 * workers racing for the same assessment exactly one wins and the other's
 * transaction aborts with ST_CONFLICT.
 */
#ifndef CB_STORE_ASSESSMENT_H
#define CB_STORE_ASSESSMENT_H

#include <stdbool.h>

#include "access.h"
#include "status.h"
#include "store.h"

struct db;

/* A reply body (JSON text, borrowed until the callback returns) or the failure. */
typedef void store_assessment_json_cb(enum status st, const struct err *err, const char *json,
                                      void *arg);

struct assessment_filter {
	const char *const *wards; /* NULL or nwards ward codes to restrict to */
	int nwards;               /* how many */
	const char *state;        /* NULL for any */
	const char *claimed_by;   /* a user's UUID: only that user's claims; NULL for any */
	int limit, offset;        /* paging */
};

/*
 * List assessments, newest first, as {"items": [...], "total": N, "limit",
 * "offset"}: each item is the assessment with its episode's ward and bed and
 * the patient's names, NHS number and birth date.  The read is audited in the
 * same transaction.
 */
void store_assessment_list(struct db *db, const struct assessment_filter *f,
                           const struct actor *actor, store_assessment_json_cb *cb, void *arg);

/* The facts about an assessment that decisions need. */
struct assessment_facts {
	char id[37];                               /* the assessment */
	char episode_id[37];                       /* its episode */
	char ward[33];                             /* the episode's ward */
	char state[16];                            /* "unclaimed", ... */
	int version;                               /* row version */
	char claimed_by[37];                       /* the holder's user id, "" if none */
	char claimed_by_name[PRINCIPAL_NAME_SIZE]; /* the holder's user name, "" if none */
	const char *json;                          /* its JSON form; borrowed until cb returns */
};

typedef void store_assessment_cb(enum status st, const struct assessment_facts *f, void *arg);

/* Read assessment id (ST_NOT_FOUND if there is none). */
void store_assessment_get(struct db *db, const char *id, store_assessment_cb *cb, void *arg);

/*
 * Claim assessment f for actor: state claimed, claimed_by the actor, only if
 * it is still unclaimed at the moment of writing (else ST_CONFLICT and nothing
 * is written); audit assessment.claim, event assessment.claimed.  The reply is
 * the assessment's new JSON.
 */
void store_assessment_claim(struct db *db, const struct assessment_facts *f,
                            const struct actor *actor, store_assessment_json_cb *cb, void *arg);

/*
 * Reassign assessment f to the social worker named to, for actor, who must be
 * a social-work team lead (else ST_FORBIDDEN, checked in the transaction):
 * claimed by them from now (an unclaimed one becomes claimed).  ST_INVALID
 * naming "to" when no enabled social worker has that name, ST_CONFLICT when
 * the assessment is closed, ST_PRECONDITION when expected_version (>= 0) is
 * not its version.  Audits assessment.reassign, raises assessment.claimed.
 */
void store_assessment_reassign(struct db *db, const struct assessment_facts *f, const char *to,
                               int expected_version, const struct actor *actor,
                               store_assessment_json_cb *cb, void *arg);

/* A change to an assessment, decided by the handler. */
struct assessment_change {
	int expected_version;      /* the version read; the write fails with CB412 if changed */
	const char *state;         /* new state, NULL to keep; "unclaimed" also clears the claim */
	bool set_note, clear_note; /* note */
	const char *note;          /* new note */
	const char *event_type;    /* "assessment.updated", "assessment.released" */
	const char *audit_action;  /* "assessment.update", "assessment.release" */
};

/*
 * Apply change c to assessment f (audit before: f->json); completed_at is set
 * when it becomes completed.  The reply is the assessment's new JSON.
 * ST_PRECONDITION when it changed since f was read.
 */
void store_assessment_change(struct db *db, const struct assessment_facts *f,
                             const struct assessment_change *c, const struct actor *actor,
                             store_assessment_json_cb *cb, void *arg);

#endif

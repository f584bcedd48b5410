/*
 * store_episode.h - SQL for admissions and episodes (asynchronous, on the pool).
 *
 * Reads give the handler what lib/ needs to decide (state, ward, version) and
 * the JSON form to reply with; writes run as one transaction: the change, its
 * audit row, its outbox events, and the object's new JSON form to reply with.
 */
#ifndef CB_STORE_EPISODE_H
#define CB_STORE_EPISODE_H

#include <stdbool.h>
#include <stdint.h>

#include "admission.h"
#include "status.h"
#include "store.h"
#include "template.h"

struct db;

/* What an admission needs to know before it is written. */
struct admission_context {
	struct task_template *templates; /* active templates in order; owned by the store */
	size_t ntemplates;               /* how many */
	bool ward_exists;                /* the ward code is known */
	char replay_episode[37];         /* the episode this caller's external_id opened, or "" */
	bool replay_same_body;           /* and the first request was this same admission */
};

typedef void store_admission_context_cb(enum status st, const struct admission_context *ctx,
                                        void *arg);

/*
 * Read templates, the ward and, when a has an external_id, the episode that
 * the same key opened in the last 48 hours.  Keys are scoped by who sent them:
 * a user's own (actor->id), or the system's that acts (actor->name, "hl7"),
 * so one caller's key never finds another's admission.
 */
void store_admission_context(struct db *db, const struct admission *a, const struct actor *actor,
                             store_admission_context_cb *cb, void *arg);

/* Forget admission keys older than 48 hours (fire and forget: the next round retries). */
void store_admission_keys_prune(struct db *db);

/*
 * Write the admission: patient (created or updated), episode, the day-one
 * referral "notified" when the likely pathway needs one (referral_needed), the
 * planned tasks, audit, idempotency record (scope, creator,
 * episode and a hash of the admission; no patient data) and events, in one
 * transaction.  ST_CONFLICT when the patient already has an open episode or
 * the external_id is already any episode's.
 */
void store_admission_commit(struct db *db, const struct admission *a,
                            const struct planned_task *tasks, size_t ntasks,
                            const struct actor *actor, int64_t now, store_json_cb *cb, void *arg);

/*
 * Appends a caller's own statements to a write transaction while it is being
 * built, so that they commit (or fail) with it: the HL7 listener records its
 * message in the transaction that applies it.  Called once, before the
 * submitting function returns, with the episode's id; it runs after the
 * change's own statements and before its audit row and events.
 */
typedef void store_extra_fn(struct db_req *req, const char *episode_id, void *arg);

/* As store_admission_commit, with extra statements (extra may be NULL). */
void store_admission_commit_with(struct db *db, const struct admission *a,
                                 const struct planned_task *tasks, size_t ntasks,
                                 const struct actor *actor, int64_t now, store_extra_fn *extra,
                                 void *extra_arg, store_json_cb *cb, void *arg);

/* The facts about an episode that decisions need. */
struct episode_facts {
	char id[37];         /* the episode */
	char state[16];      /* "admitted", ... */
	char ward[33];       /* its ward */
	int version;         /* row version */
	bool ready;          /* ready_at is set */
	int64_t ready_at;    /* Unix seconds, 0 if not ready */
	int64_t admitted_at; /* Unix seconds */
	const char *json;    /* its JSON form (with tasks) */
};

typedef void store_episode_cb(enum status st, const struct episode_facts *f, void *arg);

/* Read one episode (ST_NOT_FOUND if there is none). */
void store_episode_get(struct db *db, const char *id, store_episode_cb *cb, void *arg);

/* Read the open (admitted) episode of the patient with nhs_number (ST_NOT_FOUND if none). */
void store_episode_open_of(struct db *db, const char *nhs_number, store_episode_cb *cb, void *arg);

/* Audit that actor read episode id (committed before cb runs). */
void store_episode_audit_read(struct db *db, const char *id, const struct actor *actor,
                              store_json_cb *cb, void *arg);

/* As store_episode_audit_read, for the answer to a repeated admission. */
void store_episode_audit_replay(struct db *db, const char *id, const struct actor *actor,
                                store_json_cb *cb, void *arg);

struct episode_filter {
	const char *const *wards; /* NULL or n ward codes to restrict to */
	int nwards;               /* how many */
	const char *state;        /* NULL for any */
	int ready;                /* -1 any, 0 not ready, 1 ready */
	int delayed;              /* -1 any, 0 no open delay, 1 open delay */
	int limit, offset;        /* paging */
};

/* List episodes (summaries) as {"items": [...], "total": N, ...}; the read is audited. */
void store_episode_list(struct db *db, const struct episode_filter *f, const struct actor *actor,
                        store_json_cb *cb, void *arg);

/* A change to an episode, decided by the handler. */
struct episode_change {
	int expected_version;    /* the version read; the write fails with CB412 if changed */
	bool set_edd, clear_edd; /* expected_discharge_date */
	int32_t edd;             /* day number */
	bool set_pathway, clear_pathway; /* pathway */
	int pathway;                     /* 0..3 */
	bool set_bed;                    /* bed */
	const char *bed;                 /* new bed label */
	bool set_ready, clear_ready;     /* ready_at; set_ready when it becomes ready */
	bool was_ready;                  /* it was ready before */
	int64_t ready_at;                /* Unix seconds */
	const char *new_ward;            /* transfer: the ward moved to */
	const char *new_state;           /* discharge: "discharged"; reopen: "admitted" */
	int64_t discharged_at;           /* discharge: when */
	const char *destination_code;    /* discharge: the coded destination (lib/destination.h),
	                                    NULL = not recorded */
	const char *destination_note;    /* discharge: free text about it, NULL = none */
	bool has_discharge_pathway;      /* discharge: the actual pathway was recorded */
	int discharge_pathway;           /* discharge: 0..3 if recorded (else stored as NULL) */
	const char *event_type;          /* episode.updated, episode.ready, ... */
	const char *audit_action;        /* episode.update, episode.transfer, ... */
	bool cancel_work;                /* cancel (A11): its open tasks and referral too */
};

/* Apply change c to episode f (state checked by the caller); reply JSON is the new episode. */
void store_episode_change(struct db *db, const struct episode_facts *f,
                          const struct episode_change *c, const struct actor *actor, int64_t now,
                          store_json_cb *cb, void *arg);

/* As store_episode_change, with extra statements (extra may be NULL). */
void store_episode_change_with(struct db *db, const struct episode_facts *f,
                               const struct episode_change *c, const struct actor *actor,
                               int64_t now, store_extra_fn *extra, void *extra_arg,
                               store_json_cb *cb, void *arg);

/*
 * Append change c's statements (the update, readiness history, delay close,
 * extra's statements, audit and events) to req, a write transaction the
 * caller completes and submits: for a write that changes an episode as part
 * of something else (a review) and replies with its own statement.
 */
void store_episode_change_add(struct db_req *req, const struct episode_facts *f,
                              const struct episode_change *c, const struct actor *actor,
                              int64_t now, store_extra_fn *extra, void *extra_arg);

#endif

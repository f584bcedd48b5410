/*
 * store_referral.h - SQL for referrals to the care transfer hub (asynchronous,
 * on the pool).
 *
 * Reads give the handler what lib/referral and lib/access need to decide (the
 * state, version, holder, the episode's ward and the organisations its
 * referrals are referred to) and the JSON forms; a write is one transaction:
 * the referral row changed only if it is still at the version read (else
 * CB412), a referral_steps row for a step, an audit row (entity "referral",
 * before and after images), and the outbox event ("referral.created" /
 * "referral.updated", payload {"referral", "step"}, events.organisations =
 * cb_referral_orgs(r)) that the stream and webhooks deliver.
 *
 * The system's own steps (the day-one opening at admission, a pathway change,
 * discharge, a cancelled admission, an undone discharge) are statements the
 * episode store appends to its own transaction (store_referral_add_*), so an
 * admission and its referral commit together.
 */
#ifndef CB_STORE_REFERRAL_H
#define CB_STORE_REFERRAL_H

#include <stdbool.h>
#include <stdint.h>

#include "access.h"
#include "status.h"
#include "store.h"

struct db;

#define STORE_REFERRAL_MAX_ORGS 32 /* organisations an episode's referrals name, at most */

/* The user a team lead would make a referral's holder (store_referral_get_holder). */
struct referral_holder_facts {
	bool asked;                     /* a user was asked about */
	bool exists;                    /* there is such a user, of a known role */
	bool disabled;                  /* the user is disabled */
	bool on_ward;                   /* the user is attached to the episode's ward */
	enum role role;                 /* the user's role */
	char name[PRINCIPAL_NAME_SIZE]; /* the user's name, "" if none */
};

/* The facts about a referral that decisions need. */
struct referral_facts {
	char id[37];                               /* the referral */
	char episode_id[37];                       /* its episode */
	char ward[33];                             /* the episode's ward */
	char state[24];                            /* "notified", ... */
	int version;                               /* row version */
	char organisation_id[37];                  /* referred to; "" when none set */
	char service_provider_id[37];              /* the service's provider; "" when none */
	char held_by[37];                          /* the holder's user id, "" if none */
	char held_by_name[PRINCIPAL_NAME_SIZE];    /* the holder's name, "" if none */
	bool has_needs;                            /* a non-empty needs summary is stored */
	const char *orgs[STORE_REFERRAL_MAX_ORGS]; /* every organisation the episode's
	                                              referrals name; borrowed */
	size_t norgs;                              /* entries in orgs */
	bool check_org_found;    /* the organisation asked about exists and is enabled */
	char check_org_kind[24]; /* its kind ("hub", ...), "" when not found */
	const char *json;        /* cb_referral_json (the audit's before image); borrowed */
	const char *view_json;   /* cb_referral_view_json (the reply); borrowed */
	struct referral_holder_facts holder; /* the would-be holder asked about */
};

typedef void store_referral_cb(enum status st, const struct referral_facts *f, void *arg);

/*
 * Read referral id (ST_NOT_FOUND if there is none); when check_org is not
 * NULL, also whether that organisation exists and is enabled.  cb runs later
 * from the loop; f and its strings are borrowed until it returns.
 */
void store_referral_get(struct db *db, const char *id, const char *check_org, store_referral_cb *cb,
                        void *arg);

/*
 * As store_referral_get, and also what f->holder says about user user_id
 * (a UUID): the user a team lead would give the referral to.
 */
void store_referral_get_holder(struct db *db, const char *id, const char *user_id,
                               store_referral_cb *cb, void *arg);

/*
 * Who may be given a referral to complete, for a team lead's picker: the
 * enabled social workers as {"items": [{"id", "name", "display_name",
 * "team_lead"}]}, by display name.
 */
void store_referral_holders(struct db *db, store_json_cb *cb, void *arg);

/* Audit that actor read referral f (action "referral.read" or "referral.steps"). */
void store_referral_audit_read(struct db *db, const struct referral_facts *f, const char *action,
                               const struct actor *actor, store_json_cb *cb, void *arg);

struct referral_filter {
	const char *const *wards; /* NULL or nwards ward codes to restrict to */
	int nwards;               /* how many */
	const char *states;       /* NULL, or state names as a JSON array (text) */
	const char *organisation; /* only referrals naming this organisation (UUID); NULL any */
	int open;                 /* -1 any, 1 open only, 0 closed only */
	const char *cursor;       /* the last referral of the previous page (UUID), NULL first */
	int limit;                /* page size */
	bool partner;             /* the reader is a partner: organisation is their own; the
	                             list may name nothing else */
};

/*
 * List referrals, oldest notified first, as {"items": [cb_referral_view_json],
 * "next_cursor": id|null}; the read is audited in the same transaction.
 */
/*
 * Audit a partner's sight of each referral in list_json (a list reply,
 * {"items": [...]}): one row per referral shown ("referral.read", detail
 * {"list": true, "organisation"}), every read of a patient by a partner
 * being on record.  cb gets no JSON.
 */
void store_referral_audit_shown(struct db *db, const char *list_json, const struct actor *actor,
                                store_json_cb *cb, void *arg);

void store_referral_list(struct db *db, const struct referral_filter *f, const struct actor *actor,
                         store_json_cb *cb, void *arg);

/*
 * Episode episode_id's ward, the organisations its referrals name (as a
 * comma-separated list) and its referrals as {"items": [...]} (only those
 * naming organisation when it is not NULL: a partner's view).
 */
typedef void store_referral_episode_cb(enum status st, const char *ward, const char *orgs,
                                       const char *json, void *arg);
void store_referral_episode_list(struct db *db, const char *episode_id, const char *organisation,
                                 store_referral_episode_cb *cb, void *arg);

/* Audit that actor listed episode_id's referrals. */
void store_referral_audit_episode_list(struct db *db, const char *episode_id,
                                       const struct actor *actor, store_json_cb *cb, void *arg);

/*
 * Referral f's steps, oldest first, as {"items": [...]} (with the audit rows
 * of the assessment it was migrated from); the read is audited.
 */
void store_referral_steps(struct db *db, const struct referral_facts *f, const struct actor *actor,
                          store_json_cb *cb, void *arg);

/* A decided change to a referral (a step, a PATCH, a hold or release). */
struct referral_write {
	int expected_version;            /* the version read; CB412 if it changed */
	const char *step;                /* the step's name, NULL for a change that is no step */
	const char *from;                /* the state before */
	const char *to;                  /* the state after (== from when no step) */
	const char *needs;               /* new needs, NULL keeps */
	const char *contacts;            /* new contacts, NULL keeps */
	const char *organisation_id;     /* new organisation, NULL keeps */
	const char *info_request;        /* request_info */
	const char *decline_reason;      /* decline */
	const char *withdraw_reason;     /* withdraw */
	const char *service_kind;        /* source */
	const char *service_provider_id; /* source (may be NULL) */
	const char *service_detail;      /* source (may be NULL) */
	const char *start_date;          /* source, confirm_start: "YYYY-MM-DD" */
	int hold;                        /* 1 take (held_by the actor), -1 release, 0 keep */
	const char *assign_to;           /* hold == 1: the holder's user id; NULL: the actor */
	const char *detail_json;         /* the step row's detail (JSON object text) */
	const char *audit_action;        /* "referral.step", "referral.update", ... */
};

/*
 * Apply w to referral f as one transaction (see the file comment); cb gets
 * the referral's new cb_referral_view_json.  ST_PRECONDITION when it changed
 * since f was read.
 */
void store_referral_write(struct db *db, const struct referral_facts *f,
                          const struct referral_write *w, const struct actor *actor,
                          store_json_cb *cb, void *arg);

/*
 * The system's steps, appended to a write transaction about episode_id (the
 * caller takes the events lock).
 *
 * store_referral_add_open: open referral id "notified" at at (Unix seconds)
 * to the ward's hub, with needs (may be NULL), if the episode is admitted and
 * has no open referral; a first step row (detail {"cause": cause}) and audit.
 * Nothing when a referral is open already.  store_referral_add_created then
 * appends its event "referral.created" (after the caller's own events).
 */
void store_referral_add_open(struct db_req *req, const char *id, const char *episode_id,
                             const char *needs, int64_t at, const char *cause,
                             const struct actor *actor);
void store_referral_add_created(struct db_req *req, const char *id);

/*
 * Discharge: the open referral completes when the state allows "complete"
 * (lib/referral.c decides which states do), else is withdrawn with the reason
 * "discharged before the service was arranged"; step rows by the system,
 * audit, "referral.updated".
 */
void store_referral_add_discharge(struct db_req *req, const char *episode_id,
                                  const struct actor *actor);

/* A cancelled admission (A11): the open referral is withdrawn ("admission cancelled"). */
void store_referral_add_cancel(struct db_req *req, const char *episode_id,
                               const struct actor *actor);

/*
 * An undone discharge (reopen, A13): the referral the discharge closed goes
 * back to the state it had, with a step row, audit and "referral.updated"
 * (nothing when another referral was opened since).
 */
void store_referral_add_reopen(struct db_req *req, const char *episode_id,
                               const struct actor *actor);

#endif

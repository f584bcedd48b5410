/*
 * store_barrier.h - SQL for barriers to discharge (asynchronous, on the pool).
 *
 * A barrier change is one transaction: the episode's barrier_seq guard (two
 * writers deciding the primary from the same state cannot both win), the
 * barrier rows changed (the target and the primary it displaces or
 * promotes), the append-only history rows (reason, primary), an audit row and
 * an outbox event per barrier changed.
 */
#ifndef CB_STORE_BARRIER_H
#define CB_STORE_BARRIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "barrier.h"
#include "status.h"
#include "store.h"

struct db;

/* What deciding a barrier change needs. */
struct barrier_context {
	char episode_id[37];            /* the episode */
	char ward[33];                  /* its ward */
	bool admitted;                  /* an inpatient */
	int seq;                        /* episodes.barrier_seq read */
	int64_t admitted_at;            /* its admission (Unix seconds) */
	int64_t latest_history;         /* its latest barrier history row, rounded up; 0 if none */
	struct barrier_open *open;      /* its open barriers (ids borrowed) */
	int *versions;                  /* their versions */
	size_t nopen;                   /* entries in open and versions */
	bool has_target;                /* a barrier was named (PATCH) */
	bool target_closed;             /* it is closed */
	int target_version;             /* its version */
	const char *target_json;        /* its JSON form; borrowed */
	const char *target_reason_list; /* its current reason list; borrowed */
	const char *target_reason;      /* its current reason; borrowed */
	const char *reason_list;        /* the default delay-reason list; NULL if none */
	const char *const *reasons;     /* its keys in force; borrowed */
	size_t nreasons;                /* entries in reasons */
};

typedef void store_barrier_context_cb(enum status st, const struct barrier_context *ctx, void *arg);

/*
 * Read what a change needs, about episode id (by_barrier false) or about the
 * barrier id and its episode (by_barrier true), with the reasons in force on
 * London date today.  ST_NOT_FOUND when there is no such episode or barrier.
 */
void store_barrier_context(struct db *db, const char *id, bool by_barrier, int32_t today,
                           store_barrier_context_cb *cb, void *arg);

/* A decided change, as the store writes it. */
struct barrier_write {
	const char *episode_id;         /* the episode */
	int seq;                        /* barrier_seq it was decided on (guard) */
	const char *id;                 /* the barrier opened or changed */
	bool create;                    /* a new barrier */
	int version;                    /* the changed barrier's version (guard) */
	const struct barrier_input *in; /* what was asked; borrowed */
	const char *reason_list;        /* the list in->reason is a key of */
	bool reason_changed;            /* a reason history row is due */
	bool primary;                   /* the barrier is primary after the change */
	const char *demote_id;          /* another barrier losing primary, NULL if none */
	const char *promote_id;         /* another barrier gaining primary, NULL if none */
	bool primary_changed;           /* a primary history row is due */
	const char *new_primary;        /* the primary after, NULL if none */
	const char *before_json;        /* the barrier before (NULL when new) */
	const char *event_type;         /* barrier.opened / barrier.updated / barrier.closed */
	const char *audit_action;       /* barrier.open / barrier.update / barrier.close */
	int64_t at; /* when it takes effect (opened, closed, history rows): a new
	               barrier's opened_at, else carebridge's clock */
};

/* Write w as one transaction; cb gets the barrier's JSON. */
void store_barrier_write(struct db *db, const struct barrier_write *w, const struct actor *actor,
                         store_json_cb *cb, void *arg);

/* Episode episode_id's ward and its barriers (oldest first, with history), as {"items": [...]}. */
void store_barrier_list(struct db *db, const char *episode_id, store_ward_json_cb *cb, void *arg);

/* Audit that actor listed episode_id's barriers (committed before cb runs). */
void store_barrier_audit_list(struct db *db, const char *episode_id, const struct actor *actor,
                              store_json_cb *cb, void *arg);

#endif

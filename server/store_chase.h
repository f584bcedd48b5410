/*
 * store_chase.h - SQL for the chase subsystem: what is due, recording a chase
 * exactly once (compare-and-set on the chased row), the next wake-up time, and
 * the midnight snapshot that opens and counts delays.
 */
#ifndef CB_STORE_CHASE_H
#define CB_STORE_CHASE_H

#include <stdbool.h>
#include <stdint.h>

#include "status.h"

struct db;

struct chase_item {
	char kind[12];       /* "task", "referral", "hub", "barrier", "review" (id: the episode) */
	char id[37];         /* the chased row */
	char episode_id[37]; /* its episode */
	char ward[33];       /* the episode's ward */
	char discipline[33]; /* whose work it is ("social_work" for referrals, "" for barriers) */
	int64_t due_at;      /* when it became chaseable */
	int level;           /* chase_level stored */
	int64_t last_chased_at; /* 0 if never */
	bool first_overdue;     /* a task not yet marked overdue, a review not yet chased */
	char organisation[37];  /* kind "hub": the hub chased; "" otherwise */
};

struct chase_delays {
	int64_t first_after;      /* seconds after due: tasks, and reviews after the missed round */
	int64_t assessment_after; /* seconds after opening: referrals not sent */
	int64_t accept_within;    /* seconds after sending: referrals the hub has not accepted */
	int64_t barrier_after;    /* seconds NCTR without an open barrier */
};

typedef void store_chase_items_cb(enum status st, const struct chase_item *items, int n, void *arg);

/* Rows whose stored next chase time (or first chase time) is <= now. */
void store_chase_due(struct db *db, int64_t now, const struct chase_delays *cd, int limit,
                     store_chase_items_cb *cb, void *arg);

typedef void store_chase_done_cb(enum status st, void *arg);

/* The message channels chases are queued on (issue 17); "" = that kind is off. */
struct chase_channels {
	const char *email; /* "email_smtp", "email_notify" or "" */
	const char *sms;   /* "sms_notify" or "" */
};

/*
 * Record one chase of item at level (target, discipline) at now, set its
 * next chase time, and queue its messages on ch's channels to the people
 * holding target (the rota, else everyone fitting it: migration 0037), all
 * in one transaction; fails with ST_CONFLICT when another process chased it
 * first (and then queues nothing).
 */
void store_chase_record(struct db *db, const struct chase_item *item, int level, const char *target,
                        int64_t now, int64_t next_at, const char *process,
                        const struct chase_channels *ch, store_chase_done_cb *cb, void *arg);

typedef void store_chase_next_cb(enum status st, int64_t next_at, void *arg);

/* The earliest time anything becomes due (0 when nothing is pending). */
void store_chase_next(struct db *db, const struct chase_delays *cd, store_chase_next_cb *cb,
                      void *arg);

typedef void store_snapshot_last_cb(enum status st, int32_t last_day, bool any, void *arg);

/* The last snapshot day taken. */
void store_snapshot_last(struct db *db, store_snapshot_last_cb *cb, void *arg);

struct snapshot_period {
	char episode_id[37];  /* the episode */
	char ward[33];        /* its ward */
	int64_t ready_at;     /* readiness start */
	int64_t withdrawn_at; /* 0 if not withdrawn */
	int64_t left_at;      /* discharge, 0 if in bed */
	char delay_id[37];    /* its delay row, "" if none yet */
};

typedef void store_snapshot_periods_cb(enum status st, const struct snapshot_period *p, int n,
                                       void *arg);

/* Readiness periods that may count at the instant snapshot. */
void store_snapshot_periods(struct db *db, int64_t snapshot, store_snapshot_periods_cb *cb,
                            void *arg);

struct snapshot_delay {
	const struct snapshot_period *p; /* borrowed */
	int days;                        /* delayed days so far */
	char new_id[37];                 /* set when the delay is opened now */
};

/*
 * Take the snapshot of day (snapshot instant given): claim it (ST_CONFLICT if
 * another process has), open or count each delay, and push the events, in one
 * transaction.
 */
void store_snapshot_take(struct db *db, int32_t day, int64_t snapshot,
                         const struct snapshot_delay *d, int n, store_chase_done_cb *cb, void *arg);

#endif

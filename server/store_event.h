/*
 * store_event.h - reading the outbox (events table) for the live stream and
 * webhooks, and pruning it.
 */
#ifndef CB_STORE_EVENT_H
#define CB_STORE_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "status.h"

struct db;

struct event_row {
	int64_t id;             /* outbox id = SSE id */
	const char *type;       /* "task.updated" */
	const char *ward;       /* may be "" */
	const char *episode;    /* may be "" */
	const char *discipline; /* may be "" */
	const char *payload;    /* JSON text */
	/* events.organisations comma-separated (a referral's hub and provider), "" if none */
	const char *organisations;
};

/*
 * rows (n of them) valid only during the call; min_id is the oldest id still
 * in the table (0 if it is empty), max_id the newest.
 */
typedef void store_events_cb(enum status st, const struct event_row *rows, int n, int64_t min_id,
                             int64_t max_id, void *arg);

/* Events with after < id <= upto (upto < 0: no bound), in id order, at most limit. */
void store_events_read(struct db *db, int64_t after, int64_t upto, int limit, store_events_cb *cb,
                       void *arg);

/*
 * As store_events_read (no upper bound), for a webhook's delivery: no events
 * unless webhook_id is still active and leased to owner at the time of the
 * read (a pause stops delivery at once, in every process).
 */
void store_events_read_for_webhook(struct db *db, int64_t after, int limit, const char *webhook_id,
                                   const char *owner, store_events_cb *cb, void *arg);

/* What one pruning batch did, and what pruning holds back for webhooks. */
struct event_prune {
	int64_t deleted;       /* events the batch deleted */
	bool more;             /* older events may remain after the batch: run another */
	bool counted;          /* the held_* fields, webhook and cursor were asked for */
	int64_t held;          /* events past retention kept for active webhooks */
	int64_t held_age_s;    /* age of the oldest of them in seconds, 0 if none */
	int64_t held_webhooks; /* active webhooks that have some of them still to deliver */
	char webhook[37];      /* the active webhook furthest behind, "" if none */
	int64_t cursor;        /* its last_delivered_id */
};

/* p is valid only during the call (zero when st != ST_OK). */
typedef void store_events_prune_cb(enum status st, const struct event_prune *p, void *arg);

/*
 * Delete one batch of events older than retention_seconds: among the batch
 * lowest ids, and never one after the cursor of an active webhook, which has
 * yet to deliver it (a paused or removed webhook holds nothing back).  With
 * count, the same transaction also counts the events past retention that
 * are kept only for webhooks (p->held ...).  Run batches while p->more and
 * p->deleted > 0.  cb runs later from the loop.
 */
void store_events_prune(struct db *db, int64_t retention_seconds, int batch, bool count,
                        store_events_prune_cb *cb, void *arg);

#endif

/*
 * store_event.h - reading the outbox (events table) for the live stream.
 */
#ifndef CB_STORE_EVENT_H
#define CB_STORE_EVENT_H

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

/* Delete events older than retention_seconds. */
void store_events_prune(struct db *db, int64_t retention_seconds);

#endif

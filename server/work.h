/*
 * work.h - a small, bounded pool of worker threads for CPU-heavy work that
 * must not run on the event loop: the memory-hard password hash (argon2id) of
 * a login.  Jobs never touch libevent, libpq or the app: they compute from
 * their own copied inputs, and their completion callback runs on the loop.
 */
#ifndef CB_WORK_H
#define CB_WORK_H

#include <event2/event.h>

struct work;

/* Runs on a worker thread: compute from arg only. */
typedef void work_fn(void *arg);
/* Runs later on the loop thread with the same arg, after fn returned. */
typedef void work_done_cb(void *arg);

/* nthreads workers (1..16); the queue holds at most max_queue jobs. */
struct work *work_new(struct event_base *base, int nthreads, int max_queue);

/* Stop the workers after the jobs queued now (their callbacks still run). */
void work_free(struct work *w);

#define WORK_FULL (-1)     /* the whole queue is full (or stopping) */
#define WORK_KEY_FULL (-2) /* this key has max_per_key jobs waiting already */

/* Queue a job with no key (one shared lane); returns WORK_FULL (and calls nothing) when full. */
int work_submit(struct work *w, work_fn *fn, work_done_cb *done, void *arg);

/*
 * Queue a job under key (at most 63 bytes are used): keys take turns, so the
 * jobs of one key cannot hold the others back; with max_per_key > 0 a key may
 * have at most that many jobs waiting.  Returns 0, WORK_FULL or
 * WORK_KEY_FULL (and then calls nothing).
 */
int work_submit_keyed(struct work *w, const char *key, int max_per_key, work_fn *fn,
                      work_done_cb *done, void *arg);

/* What work_submit_keyed would return now, without queueing anything. */
int work_room(struct work *w, const char *key, int max_per_key);

#endif

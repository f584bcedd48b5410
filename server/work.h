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

/* Queue a job; returns -1 (and calls nothing) when the queue is full. */
int work_submit(struct work *w, work_fn *fn, work_done_cb *done, void *arg);

#endif

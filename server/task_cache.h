/*
 * task_cache.h - the facts a task change is decided on, kept from the last
 * read or write of each task, so a change to a task this process has seen
 * can go straight to its write.
 *
 * The cache never answers a question on its own.  A change decided from it
 * is written with the cached version and ward as its compare-and-set
 * conditions, and goes back to a fresh read (and a fresh decision) when the
 * write finds either changed, or when the decision from cached facts would
 * refuse the change: so a stale entry costs a wasted attempt, never a wrong
 * answer.  That holds across processes sharing a database, with no
 * invalidation messages: every change to a task's status bumps its version,
 * and its episode and discipline never change.
 */
#ifndef CB_TASK_CACHE_H
#define CB_TASK_CACHE_H

#include <stdbool.h>

#include <event2/buffer.h>

struct task_cache;
struct task_facts;

/* How a change used the cache (counted for GET /metrics). */
enum task_cache_result {
	TASK_CACHE_HIT,    /* decided from cached facts and written */
	TASK_CACHE_MISS,   /* no entry (or a change that needs a read): read */
	TASK_CACHE_REREAD, /* the cached facts would refuse it, or were out of date: read */
};

struct task_cache *task_cache_new(void);
void task_cache_free(struct task_cache *c);

/*
 * The cached facts of task id into *f (the fields of struct task_facts but
 * episode_state and assignee), or false when there are none.
 */
bool task_cache_get(struct task_cache *c, const char *id, struct task_facts *f);

/* Remember f as task f->id's current facts. */
void task_cache_put(struct task_cache *c, const struct task_facts *f);

/* Forget task id. */
void task_cache_forget(struct task_cache *c, const char *id);

void task_cache_count(struct task_cache *c, enum task_cache_result result);

/* The hit/miss/reread counters, in Prometheus text format (a metrics reporter). */
void task_cache_report(struct evbuffer *out, void *arg);

#endif

/*
 * task_cache.c - recent task facts (see task_cache.h).
 *
 * Direct-mapped: a task's id picks its one slot, and a newer task with the
 * same slot replaces it.  Bounded (TASK_CACHE_SLOTS entries, about 3 MiB,
 * touched only as slots are used) and without eviction bookkeeping; a busy
 * trust has a few thousand open tasks.
 */
#include "task_cache.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_task.h"
#include "xmalloc.h"

#define TASK_CACHE_SLOTS 16384

struct task_cache {
	struct task_facts *slots;               /* owned; an empty id is an empty slot */
	uint64_t counts[TASK_CACHE_REREAD + 1]; /* by enum task_cache_result */
};

struct task_cache *task_cache_new(void)
{
	struct task_cache *c = xcalloc(1, sizeof *c);

	c->slots = xcalloc(TASK_CACHE_SLOTS, sizeof *c->slots);
	return c;
}

void task_cache_free(struct task_cache *c)
{
	if (c == NULL)
		return;
	free(c->slots);
	free(c);
}

/* FNV-1a of the id text. */
static struct task_facts *slot(struct task_cache *c, const char *id)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)id; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return &c->slots[h % TASK_CACHE_SLOTS];
}

bool task_cache_get(struct task_cache *c, const char *id, struct task_facts *f)
{
	const struct task_facts *s = slot(c, id);

	if (s->id[0] == '\0' || strcmp(s->id, id) != 0)
		return false;
	*f = *s;
	return true;
}

void task_cache_put(struct task_cache *c, const struct task_facts *f)
{
	struct task_facts *s = slot(c, f->id);

	*s = *f;
	s->episode_state[0] = '\0';
	memset(&s->assignee, 0, sizeof s->assignee);
}

void task_cache_forget(struct task_cache *c, const char *id)
{
	struct task_facts *s = slot(c, id);

	if (strcmp(s->id, id) == 0)
		memset(s, 0, sizeof *s);
}

void task_cache_count(struct task_cache *c, enum task_cache_result result)
{
	c->counts[result]++;
}

void task_cache_report(struct evbuffer *out, void *arg)
{
	const struct task_cache *c = arg;

	evbuffer_add_printf(out,
	                    "# HELP carebridge_task_cache_total Task changes by whether they "
	                    "were decided from cached facts.\n"
	                    "# TYPE carebridge_task_cache_total counter\n"
	                    "carebridge_task_cache_total{result=\"hit\"} %" PRIu64 "\n"
	                    "carebridge_task_cache_total{result=\"miss\"} %" PRIu64 "\n"
	                    "carebridge_task_cache_total{result=\"reread\"} %" PRIu64 "\n",
	                    c->counts[TASK_CACHE_HIT], c->counts[TASK_CACHE_MISS],
	                    c->counts[TASK_CACHE_REREAD]);
}

/*
 * chase_rule.c - chase and escalation decisions for overdue work.
 *
 * Every condition in chase_due() only becomes true as time passes and never
 * false again (the level never drops for a fixed due_at), which is what lets
 * chase_next_at() compute the exact first instant instead of polling.  Must
 * not read the clock or touch storage: the server owns timers and state.
 */
#include "chase_rule.h"

#include "xmalloc.h"

#define HOUR_SECONDS INT64_C(3600)

static const char *const chase_targets[CHASE_LEVEL_MAX + 1] = {
    NULL,
    "discipline",
    "team_lead",
    "bed_manager",
};

/* a + b, stopping at INT64_MAX or INT64_MIN rather than overflowing. */
static int64_t add_sat(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

void chase_policy_default(struct chase_policy *p)
{
	p->first_after = 0;
	p->repeat_every = 4 * HOUR_SECONDS;
	p->level_after[0] = 0;
	p->level_after[CHASE_LEVEL_DISCIPLINE] = 0;
	p->level_after[CHASE_LEVEL_TEAM_LEAD] = 8 * HOUR_SECONDS;
	p->level_after[CHASE_LEVEL_BED_MANAGER] = 24 * HOUR_SECONDS;
}

static enum status seconds_check(int64_t v, const char *field, struct err *err)
{
	if (v < 0 || v > CHASE_SECONDS_MAX)
		return err_set(err, ST_INVALID, field, "%s must be between 0 and %lld seconds",
		               field, (long long)CHASE_SECONDS_MAX);
	return ST_OK;
}

enum status chase_policy_validate(const struct chase_policy *p, struct err *err)
{
	static const char *const level_fields[CHASE_LEVEL_MAX + 1] = {
	    NULL,
	    "level_after[1]",
	    "level_after[2]",
	    "level_after[3]",
	};
	enum status st;

	ASSERT(p != NULL);
	if ((st = seconds_check(p->first_after, "first_after", err)) != ST_OK)
		return st;
	if ((st = seconds_check(p->repeat_every, "repeat_every", err)) != ST_OK)
		return st;
	if (p->repeat_every < CHASE_REPEAT_MIN)
		return err_set(err, ST_INVALID, "repeat_every",
		               "repeat_every must be at least %d seconds", CHASE_REPEAT_MIN);
	for (int l = 1; l <= CHASE_LEVEL_MAX; l++) {
		if ((st = seconds_check(p->level_after[l], level_fields[l], err)) != ST_OK)
			return st;
		if (l > 1 && p->level_after[l] <= p->level_after[l - 1])
			return err_set(err, ST_INVALID, level_fields[l],
			               "%s must be greater than %s", level_fields[l],
			               level_fields[l - 1]);
	}
	return ST_OK;
}

const char *chase_level_target(int level)
{
	if (level < 1 || level > CHASE_LEVEL_MAX)
		return NULL;
	return chase_targets[level];
}

/* The instant chasing starts: due_at + max(first_after, level_after[1]). */
static int64_t chase_start(const struct chase_policy *p, int64_t due_at)
{
	return add_sat(due_at, max64(p->first_after, p->level_after[CHASE_LEVEL_DISCIPLINE]));
}

int chase_level_at(const struct chase_policy *p, int64_t due_at, int64_t now)
{
	int level = CHASE_LEVEL_DISCIPLINE;

	ASSERT(p != NULL);
	if (now < chase_start(p, due_at))
		return CHASE_LEVEL_NONE;
	while (level < CHASE_LEVEL_MAX && now >= add_sat(due_at, p->level_after[level + 1]))
		level++;
	return level;
}

bool chase_due(const struct chase_policy *p, int64_t due_at, const struct chase_state *s,
               int64_t now, int *level)
{
	int current;

	ASSERT(s != NULL);
	ASSERT(s->last_level >= CHASE_LEVEL_NONE && s->last_level <= CHASE_LEVEL_MAX);
	current = chase_level_at(p, due_at, now);
	if (level != NULL)
		*level = current;
	if (current == CHASE_LEVEL_NONE)
		return false;
	if (s->last_level == CHASE_LEVEL_NONE || current > s->last_level)
		return true;
	/* Same level, or lower if due_at has moved later since the last chase. */
	return now >= add_sat(s->last_chased_at, p->repeat_every);
}

int64_t chase_next_at(const struct chase_policy *p, int64_t due_at, const struct chase_state *s)
{
	int64_t start, next;

	ASSERT(p != NULL && s != NULL);
	ASSERT(s->last_level >= CHASE_LEVEL_NONE && s->last_level <= CHASE_LEVEL_MAX);
	start = chase_start(p, due_at);
	if (s->last_level == CHASE_LEVEL_NONE)
		return start;
	/* Each condition of chase_due() holds from some instant on; take the
	 * earliest.  Neither can hold before chasing starts. */
	next = max64(add_sat(s->last_chased_at, p->repeat_every), start);
	if (s->last_level < CHASE_LEVEL_MAX)
		next =
		    min64(next, max64(add_sat(due_at, p->level_after[s->last_level + 1]), start));
	return next;
}

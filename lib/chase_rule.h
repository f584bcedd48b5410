/*
 * chase_rule.h - when overdue work is chased, and to whom it escalates.
 *
 * A piece of work (a task, an assessment) has a due instant.  Once it is
 * overdue it is chased, repeatedly, and the chase escalates with time:
 *
 *	level 1  "discipline"   the assignee's discipline team (e.g. OT)
 *	level 2  "team_lead"    that team's lead
 *	level 3  "bed_manager"  the bed manager / site operations
 *
 * This module only decides (is a chase due now, at which level, and when is
 * the next one); server/chase.c runs the timers, stores the state and raises
 * the chases.  Pure code: no clock, callers pass now.
 */
#ifndef CB_CHASE_RULE_H
#define CB_CHASE_RULE_H

#include <stdbool.h>
#include <stdint.h>

#include "status.h"

enum chase_level {
	CHASE_LEVEL_NONE = 0,        /* not chased (yet) */
	CHASE_LEVEL_DISCIPLINE = 1,  /* the assignee's discipline team */
	CHASE_LEVEL_TEAM_LEAD = 2,   /* that team's lead */
	CHASE_LEVEL_BED_MANAGER = 3, /* the bed manager */
};

#define CHASE_LEVEL_MAX 3
/* The shortest repeat interval chase_policy_validate() accepts, in seconds. */
#define CHASE_REPEAT_MIN 60
/* The longest delay chase_policy_validate() accepts (one year), in seconds. */
#define CHASE_SECONDS_MAX (366 * INT64_C(86400))

struct chase_policy {
	int64_t first_after;  /* seconds after due before the first chase; default 0 */
	int64_t repeat_every; /* seconds between chases at one level; default 4 h */
	/* seconds overdue at which levels 1, 2, 3 start: 0, 8 h, 24 h by default; [0] unused */
	int64_t level_after[CHASE_LEVEL_MAX + 1];
};

struct chase_state {
	int last_level;         /* level of the last chase, 0 = never chased */
	int64_t last_chased_at; /* instant of the last chase; unused when last_level is 0 */
};

/* Fill p with the defaults: first chase when due, every 4 h, level 2 at 8 h, 3 at 24 h. */
void chase_policy_default(struct chase_policy *p);

/*
 * Check p: every delay 0..CHASE_SECONDS_MAX, level_after[1] < [2] < [3],
 * repeat_every >= CHASE_REPEAT_MIN.  Returns ST_OK, or ST_INVALID with err
 * naming the field ("repeat_every", "level_after[2]", ...).
 */
enum status chase_policy_validate(const struct chase_policy *p, struct err *err);

/* Who is chased at level (1..3): "discipline", "team_lead", "bed_manager"; NULL otherwise. */
const char *chase_level_target(int level);

/*
 * The chase level at now for work due at due_at: 0 while chasing has not
 * started, that is before due_at + first_after or before due_at +
 * level_after[1] (whichever is later); otherwise the highest level L whose
 * level_after[L] has been reached (so a long first_after may start at level 2
 * or 3 directly).  p must be valid.
 */
int chase_level_at(const struct chase_policy *p, int64_t due_at, int64_t now);

/*
 * True when a chase should be raised now for work due at due_at, given the
 * chases so far in s: chasing has started and either it was never chased, or
 * the level has risen above s->last_level (escalation, at once), or
 * repeat_every has passed since s->last_chased_at.  *level (if not NULL)
 * receives chase_level_at(p, due_at, now) whatever the answer.
 */
bool chase_due(const struct chase_policy *p, int64_t due_at, const struct chase_state *s,
               int64_t now, int *level);

/*
 * The earliest instant at which chase_due() is true for this due_at and s,
 * for arming a timer or storing next_chase_at.  chase_due() is false at every
 * instant before it and true at it and after (while s is unchanged).  It may
 * be in the past: the chase is then due at once.
 */
int64_t chase_next_at(const struct chase_policy *p, int64_t due_at, const struct chase_state *s);

#endif

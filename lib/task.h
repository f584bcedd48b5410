/*
 * task.h - discharge tasks: their FHIR status life cycle, disciplines and
 * when a task is overdue.
 *
 * A task is one piece of work towards discharge ("Medicines to take out
 * ready") owned by a discipline.  This module owns the status names (the
 * FHIR R4 Task.status spellings, a subset), the transition table and the
 * shape of a discipline name.  Disciplines are data, not an enum: a trust may
 * add "pharmacy" or "dietetics" without a code change, so this module only
 * checks that a name is a well-formed identifier.
 */
#ifndef CB_TASK_H
#define CB_TASK_H

#include <stdbool.h>
#include <stdint.h>

#include "status.h"

enum task_status {
	TASK_REQUESTED,   /* "requested": opened, nobody has taken it yet */
	TASK_ACCEPTED,    /* "accepted": someone has taken it on */
	TASK_IN_PROGRESS, /* "in-progress": work has started */
	TASK_ON_HOLD,     /* "on-hold": paused, waiting for something */
	TASK_COMPLETED,   /* "completed": done; final */
	TASK_CANCELLED,   /* "cancelled": no longer needed; final */
};

#define TASK_STATUS_COUNT 6

/* The longest discipline name, without its NUL. */
#define DISCIPLINE_NAME_MAX 32

/* The stored and FHIR name of s ("in-progress", ...); a static string. */
const char *task_status_name(enum task_status s);

/*
 * Set *out to the status named in (exact FHIR spelling).  Returns ST_OK, or
 * ST_INVALID with field "status" when in is NULL or names no status.
 */
enum status task_status_parse(const char *in, enum task_status *out, struct err *err);

/*
 * Whether a task may move from one status to another:
 *   requested   -> accepted, in-progress, on-hold, completed, cancelled
 *   accepted    -> in-progress, on-hold, completed, cancelled
 *   in-progress -> on-hold, completed, cancelled
 *   on-hold     -> accepted, in-progress, cancelled
 *   completed, cancelled: final.
 * from == to is allowed (ST_OK): a repeated update changes nothing.  Returns
 * ST_OK, or ST_CONFLICT with field "status" and a message such as:
 * task cannot move from "completed" to "requested"
 */
enum status task_can_transition(enum task_status from, enum task_status to, struct err *err);

/* Whether s still needs work: anything but completed and cancelled. */
bool task_status_is_open(enum task_status s);

/*
 * Check that name is a discipline name: a lower-case letter, then up to 31
 * lower-case letters, digits or underscores ("ward", "social_work", "ot").
 * Whether the discipline exists is the database's business.  Returns ST_OK,
 * or ST_INVALID with field "discipline" (name NULL included).
 */
enum status discipline_validate(const char *name, struct err *err);

/*
 * Whether a task with status s and due time due_at (unix seconds, 0 for no
 * due time) is overdue at now: it is open, has a due time, and now is past
 * it (a task due at 10:00 becomes overdue just after 10:00).
 */
bool task_is_overdue(enum task_status s, int64_t due_at, int64_t now);

#endif

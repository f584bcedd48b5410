/*
 * task.c - task status names, the transition table and discipline names.
 */
#include "task.h"

#include <string.h>

#include "xmalloc.h"

static const char *const task_status_names[TASK_STATUS_COUNT] = {
    [TASK_REQUESTED] = "requested",     [TASK_ACCEPTED] = "accepted",
    [TASK_IN_PROGRESS] = "in-progress", [TASK_ON_HOLD] = "on-hold",
    [TASK_COMPLETED] = "completed",     [TASK_CANCELLED] = "cancelled",
};

/*
 * allowed[from][to].  Work never goes back to "requested": once someone has
 * touched a task it has an owner.  On-hold resumes to accepted or
 * in-progress but cannot complete without resuming first.
 */
static const bool task_allowed[TASK_STATUS_COUNT][TASK_STATUS_COUNT] = {
    [TASK_REQUESTED] =
	{
	    [TASK_ACCEPTED] = true,
	    [TASK_IN_PROGRESS] = true,
	    [TASK_ON_HOLD] = true,
	    [TASK_COMPLETED] = true,
	    [TASK_CANCELLED] = true,
	},
    [TASK_ACCEPTED] =
	{
	    [TASK_IN_PROGRESS] = true,
	    [TASK_ON_HOLD] = true,
	    [TASK_COMPLETED] = true,
	    [TASK_CANCELLED] = true,
	},
    [TASK_IN_PROGRESS] =
	{
	    [TASK_ON_HOLD] = true,
	    [TASK_COMPLETED] = true,
	    [TASK_CANCELLED] = true,
	},
    [TASK_ON_HOLD] =
	{
	    [TASK_ACCEPTED] = true,
	    [TASK_IN_PROGRESS] = true,
	    [TASK_CANCELLED] = true,
	},
};

const char *task_status_name(enum task_status s)
{
	ASSERT((unsigned)s < TASK_STATUS_COUNT);
	return task_status_names[s];
}

enum status task_status_parse(const char *in, enum task_status *out, struct err *err)
{
	ASSERT(out != NULL);
	for (size_t i = 0; in != NULL && i < TASK_STATUS_COUNT; i++) {
		if (strcmp(in, task_status_names[i]) == 0) {
			*out = (enum task_status)i;
			return ST_OK;
		}
	}
	return err_set(err, ST_INVALID, "status",
	               "status must be \"requested\", \"accepted\", \"in-progress\", \"on-hold\", "
	               "\"completed\" or \"cancelled\"");
}

enum status task_can_transition(enum task_status from, enum task_status to, struct err *err)
{
	ASSERT((unsigned)from < TASK_STATUS_COUNT);
	ASSERT((unsigned)to < TASK_STATUS_COUNT);
	if (from == to || task_allowed[from][to])
		return ST_OK;
	return err_set(err, ST_CONFLICT, "status", "task cannot move from \"%s\" to \"%s\"",
	               task_status_names[from], task_status_names[to]);
}

bool task_status_is_open(enum task_status s)
{
	ASSERT((unsigned)s < TASK_STATUS_COUNT);
	return s != TASK_COMPLETED && s != TASK_CANCELLED;
}

enum status discipline_validate(const char *name, struct err *err)
{
	size_t len;

	if (name == NULL || name[0] == '\0')
		return err_set(err, ST_INVALID, "discipline", "discipline must not be empty");
	len = strlen(name);
	if (len > DISCIPLINE_NAME_MAX)
		return err_set(err, ST_INVALID, "discipline",
		               "discipline must be at most %d characters", DISCIPLINE_NAME_MAX);
	if (name[0] < 'a' || name[0] > 'z')
		return err_set(err, ST_INVALID, "discipline",
		               "discipline must start with a lower-case letter");
	for (size_t i = 1; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return err_set(err, ST_INVALID, "discipline",
			               "discipline may contain only lower-case letters, digits "
			               "and underscores");
	}
	return ST_OK;
}

bool task_is_overdue(enum task_status s, int64_t due_at, int64_t now)
{
	return task_status_is_open(s) && due_at != 0 && now > due_at;
}

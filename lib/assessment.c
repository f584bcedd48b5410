/*
 * assessment.c - assessment state names and the transition table.
 */
#include "assessment.h"

#include <stdbool.h>
#include <string.h>

#include "xmalloc.h"

static const char *const assessment_state_names[ASSESSMENT_STATE_COUNT] = {
    [ASSESSMENT_UNCLAIMED] = "unclaimed",     [ASSESSMENT_CLAIMED] = "claimed",
    [ASSESSMENT_IN_PROGRESS] = "in-progress", [ASSESSMENT_ON_HOLD] = "on-hold",
    [ASSESSMENT_COMPLETED] = "completed",     [ASSESSMENT_CANCELLED] = "cancelled",
};

/*
 * allowed[from][to].  Only a claimed assessment can be released: once work
 * has started, handing it back would lose who did it.  Completing needs an
 * owner, so an unclaimed assessment cannot jump to completed.
 */
static const bool assessment_allowed[ASSESSMENT_STATE_COUNT][ASSESSMENT_STATE_COUNT] = {
    [ASSESSMENT_UNCLAIMED] =
	{
	    [ASSESSMENT_CLAIMED] = true,
	    [ASSESSMENT_CANCELLED] = true,
	},
    [ASSESSMENT_CLAIMED] =
	{
	    [ASSESSMENT_UNCLAIMED] = true,
	    [ASSESSMENT_IN_PROGRESS] = true,
	    [ASSESSMENT_ON_HOLD] = true,
	    [ASSESSMENT_COMPLETED] = true,
	    [ASSESSMENT_CANCELLED] = true,
	},
    [ASSESSMENT_IN_PROGRESS] =
	{
	    [ASSESSMENT_ON_HOLD] = true,
	    [ASSESSMENT_COMPLETED] = true,
	    [ASSESSMENT_CANCELLED] = true,
	},
    [ASSESSMENT_ON_HOLD] =
	{
	    [ASSESSMENT_IN_PROGRESS] = true,
	    [ASSESSMENT_CANCELLED] = true,
	},
};

const char *assessment_state_name(enum assessment_state s)
{
	ASSERT((unsigned)s < ASSESSMENT_STATE_COUNT);
	return assessment_state_names[s];
}

enum status assessment_state_parse(const char *in, enum assessment_state *out, struct err *err)
{
	ASSERT(out != NULL);
	for (size_t i = 0; in != NULL && i < ASSESSMENT_STATE_COUNT; i++) {
		if (strcmp(in, assessment_state_names[i]) == 0) {
			*out = (enum assessment_state)i;
			return ST_OK;
		}
	}
	return err_set(err, ST_INVALID, "state",
	               "state must be \"unclaimed\", \"claimed\", \"in-progress\", \"on-hold\", "
	               "\"completed\" or \"cancelled\"");
}

enum status assessment_can_transition(enum assessment_state from, enum assessment_state to,
                                      struct err *err)
{
	ASSERT((unsigned)from < ASSESSMENT_STATE_COUNT);
	ASSERT((unsigned)to < ASSESSMENT_STATE_COUNT);
	if (from == to || assessment_allowed[from][to])
		return ST_OK;
	return err_set(err, ST_CONFLICT, "state", "assessment cannot move from \"%s\" to \"%s\"",
	               assessment_state_names[from], assessment_state_names[to]);
}

enum status assessment_can_claim(enum assessment_state s, struct err *err)
{
	ASSERT((unsigned)s < ASSESSMENT_STATE_COUNT);
	if (s == ASSESSMENT_UNCLAIMED)
		return ST_OK;
	return err_set(err, ST_CONFLICT, "state", "assessment is already \"%s\"",
	               assessment_state_names[s]);
}

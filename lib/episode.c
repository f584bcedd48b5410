/*
 * episode.c - episode state names and the table of allowed actions.
 */
#include "episode.h"

#include <string.h>

#include "xmalloc.h"

static const char *const episode_state_names[EPISODE_STATE_COUNT] = {
    [EPISODE_ADMITTED] = "admitted",
    [EPISODE_DISCHARGED] = "discharged",
    [EPISODE_CANCELLED] = "cancelled",
};

static const char *const episode_action_names[EPISODE_ACTION_COUNT] = {
    [EPISODE_UPDATE] = "update",           [EPISODE_SET_READY] = "set_ready",
    [EPISODE_CLEAR_READY] = "clear_ready", [EPISODE_TRANSFER] = "transfer",
    [EPISODE_DISCHARGE] = "discharge",     [EPISODE_CANCEL] = "cancel",
    [EPISODE_REOPEN] = "reopen",
};

/* What the conflict message says cannot be done, as a verb phrase. */
static const char *const episode_action_verbs[EPISODE_ACTION_COUNT] = {
    [EPISODE_UPDATE] = "update",
    [EPISODE_SET_READY] = "mark ready for transfer",
    [EPISODE_CLEAR_READY] = "withdraw readiness",
    [EPISODE_TRANSFER] = "transfer",
    [EPISODE_DISCHARGE] = "discharge",
    [EPISODE_CANCEL] = "cancel",
    [EPISODE_REOPEN] = "reopen",
};

/*
 * allowed[state][action]: the whole rule.  Reopen exists only to undo a
 * discharge sent in error; a cancelled admission never existed, so nothing
 * can follow it (a new admission is a new episode).
 */
static const bool episode_allowed[EPISODE_STATE_COUNT][EPISODE_ACTION_COUNT] = {
    [EPISODE_ADMITTED] =
	{
	    [EPISODE_UPDATE] = true,
	    [EPISODE_SET_READY] = true,
	    [EPISODE_CLEAR_READY] = true,
	    [EPISODE_TRANSFER] = true,
	    [EPISODE_DISCHARGE] = true,
	    [EPISODE_CANCEL] = true,
	},
    [EPISODE_DISCHARGED] =
	{
	    [EPISODE_REOPEN] = true,
	},
};

const char *episode_state_name(enum episode_state state)
{
	ASSERT((unsigned)state < EPISODE_STATE_COUNT);
	return episode_state_names[state];
}

enum status episode_state_parse(const char *in, enum episode_state *out, struct err *err)
{
	ASSERT(out != NULL);
	for (size_t i = 0; in != NULL && i < EPISODE_STATE_COUNT; i++) {
		if (strcmp(in, episode_state_names[i]) == 0) {
			*out = (enum episode_state)i;
			return ST_OK;
		}
	}
	return err_set(err, ST_INVALID, "state",
	               "state must be \"admitted\", \"discharged\" or \"cancelled\"");
}

const char *episode_action_name(enum episode_action action)
{
	ASSERT((unsigned)action < EPISODE_ACTION_COUNT);
	return episode_action_names[action];
}

enum status episode_action_parse(const char *in, enum episode_action *out, struct err *err)
{
	ASSERT(out != NULL);
	for (size_t i = 0; in != NULL && i < EPISODE_ACTION_COUNT; i++) {
		if (strcmp(in, episode_action_names[i]) == 0) {
			*out = (enum episode_action)i;
			return ST_OK;
		}
	}
	return err_set(err, ST_INVALID, "action", "unknown episode action");
}

enum status episode_can(enum episode_state state, enum episode_action action, struct err *err)
{
	ASSERT((unsigned)state < EPISODE_STATE_COUNT);
	ASSERT((unsigned)action < EPISODE_ACTION_COUNT);
	if (episode_allowed[state][action])
		return ST_OK;
	return err_set(err, ST_CONFLICT, "state", "episode is \"%s\"; cannot %s",
	               episode_state_names[state], episode_action_verbs[action]);
}

enum episode_state episode_next_state(enum episode_state state, enum episode_action action)
{
	ASSERT(episode_can(state, action, NULL) == ST_OK);
	switch (action) {
	case EPISODE_DISCHARGE:
		return EPISODE_DISCHARGED;
	case EPISODE_CANCEL:
		return EPISODE_CANCELLED;
	case EPISODE_REOPEN:
		return EPISODE_ADMITTED;
	case EPISODE_UPDATE:
	case EPISODE_SET_READY:
	case EPISODE_CLEAR_READY:
	case EPISODE_TRANSFER:
		break;
	}
	return state;
}

bool pathway_is_valid(int pathway)
{
	return pathway >= PATHWAY_MIN && pathway <= PATHWAY_MAX;
}

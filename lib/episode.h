/*
 * episode.h - the hospital episode's life cycle: admitted, then discharged or
 * cancelled, and which actions each state allows.
 *
 * An episode is one inpatient stay (an FHIR Encounter).  This module owns the
 * state names, as stored in the database and sent over the API, and the rule
 * table of what may happen in each state.  It holds no episode data: callers
 * load the row, ask episode_can(), then store episode_next_state().
 * Readiness for transfer is a flag on an admitted episode, not a state.
 */
#ifndef CB_EPISODE_H
#define CB_EPISODE_H

#include <stdbool.h>

#include "status.h"

enum episode_state {
	EPISODE_ADMITTED,   /* "admitted": in a bed (HL7 A01) */
	EPISODE_DISCHARGED, /* "discharged": left hospital (A03); A13 may reopen it */
	EPISODE_CANCELLED,  /* "cancelled": admitted in error (A11); final */
};

#define EPISODE_STATE_COUNT 3

enum episode_action {
	EPISODE_UPDATE,      /* "update": change details, EDD, pathway (A08, PATCH) */
	EPISODE_SET_READY,   /* "set_ready": ready for transfer from now */
	EPISODE_CLEAR_READY, /* "clear_ready": readiness withdrawn */
	EPISODE_TRANSFER,    /* "transfer": move to another ward (A02) */
	EPISODE_DISCHARGE,   /* "discharge": the patient leaves (A03) */
	EPISODE_CANCEL,      /* "cancel": the admission was an error (A11) */
	EPISODE_REOPEN,      /* "reopen": the discharge was an error (A13) */
};

#define EPISODE_ACTION_COUNT 7

/* The lowest and highest Discharge to Assess pathway. */
#define PATHWAY_MIN 0
#define PATHWAY_MAX 3

/* The stored name of state ("admitted", ...); a static string. */
const char *episode_state_name(enum episode_state state);

/*
 * Set *out to the state named in (exact, lower case).  Returns ST_OK, or
 * ST_INVALID with field "state" when in is NULL or names no state.
 */
enum status episode_state_parse(const char *in, enum episode_state *out, struct err *err);

/* The name of action ("update", "set_ready", ...); a static string. */
const char *episode_action_name(enum episode_action action);

/*
 * Set *out to the action named in.  Returns ST_OK, or ST_INVALID with field
 * "action" when in is NULL or names no action.
 */
enum status episode_action_parse(const char *in, enum episode_action *out, struct err *err);

/*
 * Whether action is allowed on an episode in state: an admitted episode
 * allows everything but reopen, a discharged one only reopen (HL7 A13, cancel
 * discharge), a cancelled one nothing.  Returns ST_OK, or ST_CONFLICT with
 * field "state" and a message such as: episode is "discharged"; cannot transfer
 */
enum status episode_can(enum episode_state state, enum episode_action action, struct err *err);

/*
 * The state an episode in state is in after action: discharge gives
 * discharged, cancel cancelled, reopen admitted; every other action leaves the
 * state as it is.  The action must be allowed (episode_can() returned ST_OK):
 * anything else is a bug and asserts.
 */
enum episode_state episode_next_state(enum episode_state state, enum episode_action action);

/* Whether pathway is a Discharge to Assess pathway, 0 to 3. */
bool pathway_is_valid(int pathway);

#endif

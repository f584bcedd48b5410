/*
 * assessment.h - the Care Act assessment's life cycle, from unclaimed on the
 * day of admission to completed.
 *
 * An assessment is opened unclaimed when the patient is admitted (starting
 * the social-care assessment on day one is what prevents delays) and a social
 * worker claims it.  This module owns the state names and the transition
 * table; claiming is a transition of its own so that two social workers
 * racing for the same assessment get a clear conflict.
 */
#ifndef CB_ASSESSMENT_H
#define CB_ASSESSMENT_H

#include "status.h"

enum assessment_state {
	ASSESSMENT_UNCLAIMED,   /* "unclaimed": waiting for a social worker */
	ASSESSMENT_CLAIMED,     /* "claimed": a social worker owns it */
	ASSESSMENT_IN_PROGRESS, /* "in-progress": the assessment has started */
	ASSESSMENT_ON_HOLD,     /* "on-hold": paused (patient unwell, family away) */
	ASSESSMENT_COMPLETED,   /* "completed": done; final */
	ASSESSMENT_CANCELLED,   /* "cancelled": not needed after all; final */
};

#define ASSESSMENT_STATE_COUNT 6

/* The stored name of s ("unclaimed", "in-progress", ...); a static string. */
const char *assessment_state_name(enum assessment_state s);

/*
 * Set *out to the state named in.  Returns ST_OK, or ST_INVALID with field
 * "state" when in is NULL or names no state.
 */
enum status assessment_state_parse(const char *in, enum assessment_state *out, struct err *err);

/*
 * Whether an assessment may move from one state to another:
 *   unclaimed   -> claimed, cancelled
 *   claimed     -> unclaimed (released), in-progress, on-hold, completed, cancelled
 *   in-progress -> on-hold, completed, cancelled
 *   on-hold     -> in-progress, cancelled
 *   completed, cancelled: final.
 * from == to is allowed (ST_OK), as for tasks: a repeated update changes
 * nothing; to take an assessment use assessment_can_claim(), which refuses a
 * second claim.  Returns ST_OK, or ST_CONFLICT with field "state" and a
 * message such as: assessment cannot move from "unclaimed" to "completed"
 */
enum status assessment_can_transition(enum assessment_state from, enum assessment_state to,
                                      struct err *err);

/*
 * Whether an assessment in state s may be claimed: only when unclaimed.
 * Returns ST_OK, or ST_CONFLICT with field "state" and a message such as:
 * assessment is already "claimed"
 */
enum status assessment_can_claim(enum assessment_state s, struct err *err);

#endif

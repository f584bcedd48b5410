/*
 * review.h - criteria-to-reside reviews and board-round times.
 *
 * Owns the rules of a board-round review (DOMAIN.md, "Criteria to reside"):
 * what a review may say (outcome, criteria met, note), when it may have been
 * decided (not in the future, not before today in Europe/London, not before
 * admission nor before the episode's latest review), and what it does to the
 * discharge ready date: an NCTR outcome starts readiness at the decided time,
 * a "meets criteria" outcome after an NCTR reverses it.  Also owns the
 * board-round times (config key board_round_times) and "the last board round
 * that has passed", which decides the "not reviewed" flag.
 *
 * Pure code: no clock (callers pass now), no storage, no logging.  Which
 * criteria exist is reference data the caller loads and passes in.
 */
#ifndef CB_REVIEW_H
#define CB_REVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "status.h"

#define REVIEW_MAX_CRITERIA 32 /* criteria a review may name (the list has 11) */
#define REVIEW_KEY_MAX 64      /* a reference key's length, NUL excluded */
#define REVIEW_NOTE_MAX 2000   /* a note's length in bytes */

enum review_outcome {
	REVIEW_MEETS_CRITERIA, /* "meets_criteria": stays for acute care */
	REVIEW_NCTR,           /* "nctr": no criteria to reside */
};

/* A review as the client sent it, validated for form (review_parse). */
struct review {
	int64_t decided_at;          /* when the MDT decided (now when not given) */
	enum review_outcome outcome; /* the decision */
	char criteria[REVIEW_MAX_CRITERIA][REVIEW_KEY_MAX + 1]; /* keys met, as given */
	size_t ncriteria;                                       /* entries in criteria */
	char note[REVIEW_NOTE_MAX + 1];                         /* "" when none */
};

/* What a review does to the episode's discharge ready date. */
enum review_ready {
	REVIEW_READY_NONE,     /* nothing: meets criteria and not NCTR, or NCTR again */
	REVIEW_READY_SET,      /* NCTR: ready_at = decided_at, a new readiness period */
	REVIEW_READY_REVERSED, /* meets criteria after NCTR: the readiness period ends */
};

/* The episode as the decision needs it. */
struct review_episode {
	bool admitted;          /* state is "admitted" (an inpatient) */
	int64_t admitted_at;    /* Unix seconds */
	bool ready;             /* a discharge ready date is in force (NCTR) */
	int64_t ready_at;       /* that date, when ready */
	int64_t last_review_at; /* decided_at of the latest review, 0 if none */
};

/* "meets_criteria" / "nctr" (static strings). */
const char *review_outcome_name(enum review_outcome o);

/* Parse "meets_criteria" or "nctr"; ST_INVALID naming field "outcome" otherwise. */
enum status review_outcome_parse(const char *s, enum review_outcome *out, struct err *err);

/* "none" / "set" / "reversed" (static strings), as stored and shown. */
const char *review_ready_name(enum review_ready r);

/*
 * Read a review body {"outcome", "criteria_met", "decided_at", "note"} into
 * *out: unknown fields, a missing outcome, criteria that are not an array of
 * distinct key-shaped strings, and a note over REVIEW_NOTE_MAX are refused
 * (ST_INVALID naming the field).  decided_at defaults to now.  Checks the
 * form and review_check_consistency(), not time nor the criteria list.
 */
enum status review_parse(const cJSON *body, int64_t now, struct review *out, struct err *err);

/*
 * The outcome and criteria must agree: an NCTR outcome with criteria met is
 * refused (field "criteria_met": a patient who meets a criterion has a
 * criterion to reside), and "meets criteria" with none met needs a note
 * saying why the patient stays (field "note").
 */
enum status review_check_consistency(const struct review *rv, struct err *err);

/*
 * Every criterion rv names is one of known[0..nknown-1] (the criteria list in
 * force).  ST_INVALID naming "criteria_met" and the unknown key otherwise.
 */
enum status review_check_criteria(const struct review *rv, const char *const *known, size_t nknown,
                                  struct err *err);

/*
 * When a review may have been decided, at now: not after now, and on now's
 * London date (a review is recorded the day it is made: "earlier today" is
 * the local day, across a DST change too).  ST_INVALID naming "decided_at".
 */
enum status review_check_decided_at(int64_t decided_at, int64_t now, struct err *err);

/*
 * Decide what review rv does to episode e, into *out.  Refuses
 * (ST_CONFLICT) a review of an episode that is not an inpatient, and
 * (ST_INVALID, field "decided_at") one decided before admission, before the
 * episode's latest review, or, when it reverses an NCTR, before the discharge
 * ready date in force: history is only appended to, never rewritten by a
 * late entry.  An NCTR outcome while already NCTR keeps the first DRD.
 */
enum status review_decide(const struct review *rv, const struct review_episode *e,
                          enum review_ready *out, struct err *err);

#define BOARD_ROUNDS_MAX 8

/* The board-round times of a day, London wall time, ascending. */
struct board_rounds {
	int minutes[BOARD_ROUNDS_MAX]; /* minutes after local midnight, ascending, distinct */
	int n;                         /* how many (1..BOARD_ROUNDS_MAX) */
};

/*
 * Parse "09:00,16:00" (HH:MM, comma-separated, spaces allowed, 1 to
 * BOARD_ROUNDS_MAX times, ascending order not required, no repeats).
 * ST_INVALID naming field "board_round_times" with the reason otherwise.
 */
enum status board_rounds_parse(const char *s, struct board_rounds *out, struct err *err);

/*
 * The latest board round at or before now (today's or an earlier day's), as
 * an instant: each time is London wall time on its date (a time inside the
 * spring-forward gap is read as london_local_to_utc() does).
 */
int64_t board_round_last(const struct board_rounds *br, int64_t now);

/* The first board round strictly after now. */
int64_t board_round_next(const struct board_rounds *br, int64_t now);

/*
 * Whether an inpatient admitted at admitted_at and last reviewed at
 * last_review_at (0: never) is overdue for review at now: admitted before the
 * last board round that has passed and not reviewed at or since it.
 */
bool review_is_overdue(const struct board_rounds *br, int64_t admitted_at, int64_t last_review_at,
                       int64_t now);

#endif

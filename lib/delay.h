/*
 * delay.h - delayed-transfer-of-care counting and DToC reason codes.
 *
 * Owns the midnight-snapshot rule of DOMAIN.md ("Readiness and delay"): the
 * snapshot of date D is london_snapshot(D), the London midnight that ends D.
 * A readiness period is delayed on D when
 *
 *	ready_at <= snapshot(D)
 *	and (left_at == 0 or left_at > snapshot(D))
 *	and (withdrawn_at == 0 or withdrawn_at > snapshot(D))
 *
 * and each such date is one delayed day, belonging to D.  Also owns the
 * 2014 DToC reason codes (A to I), read-only: old delay rows keep them, and
 * the old delay report names them, but nothing records them any more (reasons
 * are barriers now, lib/barrier.h).
 *
 * Pure code: no clock (callers pass now), no storage, no logging.
 */
#ifndef CB_DELAY_H
#define CB_DELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* One readiness period of an episode: ready, then left the bed or withdrawn. */
struct readiness {
	int64_t ready_at;     /* instant the patient became ready for transfer */
	int64_t withdrawn_at; /* instant readiness was withdrawn; 0 = not withdrawn */
	int64_t left_at;      /* instant the patient left the bed (discharged); 0 = still in bed */
};

/* The longest reason code ("Dii") and its NUL. */
#define DELAY_REASON_MAX 4

/* The reason codes of the NHS DToC return, in the return's order; NULL-terminated. */
extern const char *const delay_reason_codes[];

/* True when r is delayed on date day (the rule above, at london_snapshot(day)). */
bool delay_counts_on(const struct readiness *r, int32_t day);

/*
 * The number of delayed days among the dates from_day..to_day (inclusive) for
 * one episode whose readiness periods are periods[0..n-1].  A date counts at
 * most once even if two periods (which should not overlap) both count it.
 * Returns 0 when from_day > to_day.  The rule knows no "now": a period still
 * open (no left_at, no withdrawn_at) counts on every date from its first, so
 * callers must not pass a to_day whose snapshot is still in the future
 * (delay_days_so_far() does this for one period).
 */
int delay_days(const struct readiness *periods, size_t n, int32_t from_day, int32_t to_day);

/*
 * The first date whose snapshot counts for r, if that snapshot is at or
 * before now: the date of the first counted midnight, at which a delay record
 * opens.  Returns true and sets *day, or false (*day untouched) when no
 * midnight has been counted yet, or never will be (left or withdrawn before
 * the first snapshot).
 */
bool delay_first_day(const struct readiness *r, int64_t now, int32_t *day);

/* The number of delayed days of r whose snapshots are at or before now. */
int delay_days_so_far(const struct readiness *r, int64_t now);

/* True when code is one of delay_reason_codes (case-sensitive: "Di", not "DI"). */
bool delay_reason_is_valid(const char *code);

/* The description of reason code ("Awaiting public funding" for "B"), or NULL if unknown. */
const char *delay_reason_text(const char *code);

#endif

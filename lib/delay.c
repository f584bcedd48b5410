/*
 * delay.c - the midnight-snapshot delay count and the DToC reason codes.
 *
 * Counting walks the dates and applies delay_counts_on() at each date's
 * snapshot, literally as DOMAIN.md states the rule, so there is one place
 * where the rule is written down.  Ranges are a report period or the length
 * of one readiness, so the walk is short.  Must not read the clock: now is
 * always passed in.
 */
#include "delay.h"

#include <string.h>

#include "cbtime.h"
#include "xmalloc.h"

struct delay_reason {
	const char *code; /* as in the NHS return, case-sensitive */
	const char *text; /* the return's description */
};

static const struct delay_reason delay_reasons[] = {
    {"A", "Awaiting completion of assessment"},
    {"B", "Awaiting public funding"},
    {"C", "Awaiting further non-acute NHS care (including intermediate care, rehabilitation)"},
    {"Di", "Awaiting residential home placement or availability"},
    {"Dii", "Awaiting nursing home placement or availability"},
    {"E", "Awaiting care package in own home"},
    {"F", "Awaiting community equipment and adaptations"},
    {"G", "Patient or family choice"},
    {"H", "Disputes"},
    {"I", "Housing (patients not covered by the Care Act)"},
};

/* Kept in step with delay_reasons by the unit test. */
const char *const delay_reason_codes[] = {"A", "B", "C", "Di", "Dii", "E",
                                          "F", "G", "H", "I",  NULL};

/* The rule at one snapshot instant. */
static bool counts_at(const struct readiness *r, int64_t snapshot)
{
	if (r->ready_at > snapshot)
		return false;
	if (r->left_at != 0 && r->left_at <= snapshot)
		return false;
	if (r->withdrawn_at != 0 && r->withdrawn_at <= snapshot)
		return false;
	return true;
}

bool delay_counts_on(const struct readiness *r, int32_t day)
{
	ASSERT(r != NULL);
	return counts_at(r, london_snapshot(day));
}

int delay_days(const struct readiness *periods, size_t n, int32_t from_day, int32_t to_day)
{
	int days = 0;

	ASSERT(periods != NULL || n == 0);
	for (int64_t day = from_day; day <= to_day; day++) {
		int64_t snapshot = london_snapshot((int32_t)day);

		for (size_t i = 0; i < n; i++) {
			if (counts_at(&periods[i], snapshot)) {
				days++;
				break;
			}
		}
	}
	return days;
}

/*
 * The first date that can count for r: the D with ready_at <= snapshot(D)
 * that is smallest.  snapshot(D) is the start of D + 1, so this is the date
 * of the last second before ready_at (ready at 00:00:00 exactly counts for
 * the date that midnight ends).
 */
static int32_t first_candidate(const struct readiness *r)
{
	return london_date(r->ready_at - 1);
}

bool delay_first_day(const struct readiness *r, int64_t now, int32_t *day)
{
	int32_t first;

	ASSERT(r != NULL);
	first = first_candidate(r);
	/* The counted dates are consecutive, so if the first candidate does not
	 * count, no date ever will. */
	if (!delay_counts_on(r, first) || london_snapshot(first) > now)
		return false;
	*day = first;
	return true;
}

int delay_days_so_far(const struct readiness *r, int64_t now)
{
	ASSERT(r != NULL);
	/* The last snapshot at or before now ends the date before now's date
	 * (at exactly midnight, now is that snapshot). */
	return delay_days(r, 1, first_candidate(r), london_date(now) - 1);
}

static const struct delay_reason *reason_find(const char *code)
{
	if (code == NULL)
		return NULL;
	for (size_t i = 0; i < nitems(delay_reasons); i++) {
		if (strcmp(delay_reasons[i].code, code) == 0)
			return &delay_reasons[i];
	}
	return NULL;
}

bool delay_reason_is_valid(const char *code)
{
	return reason_find(code) != NULL;
}

const char *delay_reason_text(const char *code)
{
	const struct delay_reason *reason = reason_find(code);

	return reason != NULL ? reason->text : NULL;
}

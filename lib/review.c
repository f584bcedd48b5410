/*
 * review.c - criteria-to-reside review rules and board-round times (see
 * review.h).  Must not read the clock: now is always passed in.
 */
#include "review.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbtime.h"
#include "json.h"
#include "reference.h"
#include "xmalloc.h"

static const char *const review_outcome_names[] = {
    [REVIEW_MEETS_CRITERIA] = "meets_criteria",
    [REVIEW_NCTR] = "nctr",
};

static const char *const review_ready_names[] = {
    [REVIEW_READY_NONE] = "none",
    [REVIEW_READY_SET] = "set",
    [REVIEW_READY_REVERSED] = "reversed",
};

const char *review_outcome_name(enum review_outcome o)
{
	ASSERT((unsigned)o <= REVIEW_NCTR);
	return review_outcome_names[o];
}

const char *review_ready_name(enum review_ready r)
{
	ASSERT((unsigned)r <= REVIEW_READY_REVERSED);
	return review_ready_names[r];
}

enum status review_outcome_parse(const char *s, enum review_outcome *out, struct err *err)
{
	for (unsigned i = 0; s != NULL && i <= REVIEW_NCTR; i++) {
		if (strcmp(s, review_outcome_names[i]) == 0) {
			*out = (enum review_outcome)i;
			return ST_OK;
		}
	}
	return err_set(err, ST_INVALID, "outcome",
	               "\"outcome\" must be \"meets_criteria\" or \"nctr\"");
}

static const char *const review_fields[] = {"outcome", "criteria_met", "decided_at", "note", NULL};

static enum status parse_criteria(const cJSON *body, struct review *out, struct err *err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(body, "criteria_met");
	const cJSON *it;

	if (arr == NULL || cJSON_IsNull(arr))
		return ST_OK;
	if (!cJSON_IsArray(arr))
		return err_set(err, ST_INVALID, "criteria_met",
		               "\"criteria_met\" must be an array of criterion keys");
	cJSON_ArrayForEach(it, arr)
	{
		if (!cJSON_IsString(it) || !reference_key_is_valid(it->valuestring))
			return err_set(err, ST_INVALID, "criteria_met",
			               "\"criteria_met\" must be an array of criterion keys");
		if (out->ncriteria == REVIEW_MAX_CRITERIA)
			return err_set(err, ST_INVALID, "criteria_met",
			               "\"criteria_met\" names more than %d criteria",
			               REVIEW_MAX_CRITERIA);
		for (size_t i = 0; i < out->ncriteria; i++) {
			if (strcmp(out->criteria[i], it->valuestring) == 0)
				return err_set(err, ST_INVALID, "criteria_met",
				               "criterion \"%s\" is given twice", it->valuestring);
		}
		snprintf(out->criteria[out->ncriteria++], REVIEW_KEY_MAX + 1, "%s",
		         it->valuestring);
	}
	return ST_OK;
}

enum status review_parse(const cJSON *body, int64_t now, struct review *out, struct err *err)
{
	char outcome[32];
	bool present = false;
	enum status st;

	memset(out, 0, sizeof *out);
	if ((st = json_only_keys(body, review_fields, err)) != ST_OK)
		return st;
	if ((st = json_get_string(body, "outcome", true, outcome, sizeof outcome, err)) != ST_OK)
		return st;
	if ((st = review_outcome_parse(outcome, &out->outcome, err)) != ST_OK)
		return st;
	if ((st = parse_criteria(body, out, err)) != ST_OK)
		return st;
	if ((st = json_get_time(body, "decided_at", false, &out->decided_at, &present, err)) !=
	    ST_OK)
		return st;
	if (!present)
		out->decided_at = now;
	if ((st = json_get_string(body, "note", false, out->note, sizeof out->note, err)) != ST_OK)
		return st;
	return review_check_consistency(out, err);
}

enum status review_check_consistency(const struct review *rv, struct err *err)
{
	if (rv->outcome == REVIEW_NCTR && rv->ncriteria > 0)
		return err_set(err, ST_INVALID, "criteria_met",
		               "an \"nctr\" outcome cannot have criteria met: a patient who meets "
		               "criterion \"%s\" has a criterion to reside",
		               rv->criteria[0]);
	if (rv->outcome == REVIEW_MEETS_CRITERIA && rv->ncriteria == 0 && rv->note[0] == '\0')
		return err_set(
		    err, ST_INVALID, "note",
		    "\"meets_criteria\" with no criterion met needs a note saying why the "
		    "patient stays (such as further acute rehabilitation)");
	return ST_OK;
}

enum status review_check_criteria(const struct review *rv, const char *const *known, size_t nknown,
                                  struct err *err)
{
	for (size_t i = 0; i < rv->ncriteria; i++) {
		bool found = false;

		for (size_t j = 0; j < nknown && !found; j++)
			found = strcmp(rv->criteria[i], known[j]) == 0;
		if (!found)
			return err_set(err, ST_INVALID, "criteria_met",
			               "criterion \"%s\" is not in the criteria list",
			               rv->criteria[i]);
	}
	return ST_OK;
}

enum status review_check_decided_at(int64_t decided_at, int64_t now, struct err *err)
{
	if (decided_at > now)
		return err_set(err, ST_INVALID, "decided_at", "\"decided_at\" is in the future");
	if (london_date(decided_at) != london_date(now))
		return err_set(err, ST_INVALID, "decided_at",
		               "\"decided_at\" must be today (Europe/London): a review is recorded "
		               "the day it is made");
	return ST_OK;
}

enum status review_decide(const struct review *rv, const struct review_episode *e,
                          enum review_ready *out, struct err *err)
{
	char at[TIME_FORMAT_LEN];

	if (!e->admitted)
		return err_set(err, ST_CONFLICT, NULL,
		               "only an inpatient is reviewed: the episode is not admitted");
	if (rv->decided_at < e->admitted_at)
		return err_set(err, ST_INVALID, "decided_at", "\"decided_at\" is before admission");
	if (e->last_review_at != 0 && rv->decided_at < e->last_review_at) {
		time_format(e->last_review_at, at);
		return err_set(err, ST_INVALID, "decided_at",
		               "\"decided_at\" is before the latest review, decided at %s", at);
	}
	if (rv->outcome == REVIEW_NCTR) {
		*out = e->ready ? REVIEW_READY_NONE : REVIEW_READY_SET;
		return ST_OK;
	}
	if (!e->ready) {
		*out = REVIEW_READY_NONE;
		return ST_OK;
	}
	if (rv->decided_at < e->ready_at) {
		time_format(e->ready_at, at);
		return err_set(err, ST_INVALID, "decided_at",
		               "\"decided_at\" is before the discharge ready date in force (%s)",
		               at);
	}
	*out = REVIEW_READY_REVERSED;
	return ST_OK;
}

static int minutes_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* "HH:MM" at p: four digits around a colon. */
static bool is_hhmm(const char *p)
{
	for (int i = 0; i < 5; i++) {
		if (i == 2 ? p[i] != ':' : (p[i] < '0' || p[i] > '9'))
			return false;
	}
	return true;
}

enum status board_rounds_parse(const char *s, struct board_rounds *out, struct err *err)
{
	const char *p = s;

	memset(out, 0, sizeof *out);
	if (s == NULL)
		return err_set(err, ST_INVALID, "board_round_times", "no board round times given");
	for (;;) {
		int h, m, used = 0;

		while (*p == ' ')
			p++;
		if (!is_hhmm(p) || sscanf(p, "%2d:%2d%n", &h, &m, &used) != 2 || used != 5 ||
		    h > 23 || m > 59)
			return err_set(err, ST_INVALID, "board_round_times",
			               "board round times must be HH:MM separated by commas, "
			               "as \"09:00,16:00\"");
		if (out->n == BOARD_ROUNDS_MAX)
			return err_set(err, ST_INVALID, "board_round_times",
			               "at most %d board round times", BOARD_ROUNDS_MAX);
		out->minutes[out->n++] = h * 60 + m;
		p += used;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (*p != ',')
			return err_set(err, ST_INVALID, "board_round_times",
			               "board round times must be HH:MM separated by commas, "
			               "as \"09:00,16:00\"");
		p++;
	}
	qsort(out->minutes, (size_t)out->n, sizeof out->minutes[0], minutes_cmp);
	for (int i = 1; i < out->n; i++) {
		if (out->minutes[i] == out->minutes[i - 1])
			return err_set(err, ST_INVALID, "board_round_times",
			               "board round time %02d:%02d is given twice",
			               out->minutes[i] / 60, out->minutes[i] % 60);
	}
	return ST_OK;
}

/* The instant of round i on London date day. */
static int64_t round_at(const struct board_rounds *br, int32_t day, int i)
{
	int y, mo, d;
	int64_t t = 0;
	enum status st;

	date_to_ymd(day, &y, &mo, &d);
	st = london_local_to_utc(y, mo, d, br->minutes[i] / 60, br->minutes[i] % 60, 0, &t);
	ASSERT(st == ST_OK);
	return t;
}

int64_t board_round_last(const struct board_rounds *br, int64_t now)
{
	int32_t today = london_date(now);

	ASSERT(br->n > 0);
	/* rounds are ascending, so the first one found walking back is the latest */
	for (int32_t day = today; day >= today - 1; day--) {
		for (int i = br->n - 1; i >= 0; i--) {
			int64_t t = round_at(br, day, i);

			if (t <= now)
				return t;
		}
	}
	/* every day has a round, so yesterday's last is always at or before now */
	ASSERT(false);
	return 0;
}

int64_t board_round_next(const struct board_rounds *br, int64_t now)
{
	int32_t today = london_date(now);

	ASSERT(br->n > 0);
	for (int32_t day = today; day <= today + 1; day++) {
		for (int i = 0; i < br->n; i++) {
			int64_t t = round_at(br, day, i);

			if (t > now)
				return t;
		}
	}
	ASSERT(false);
	return 0;
}

bool review_is_overdue(const struct board_rounds *br, int64_t admitted_at, int64_t last_review_at,
                       int64_t now)
{
	int64_t last = board_round_last(br, now);

	if (admitted_at >= last)
		return false;
	return last_review_at == 0 || last_review_at < last;
}

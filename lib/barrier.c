/*
 * barrier.c - barrier rules: the form of a barrier and which open barrier is
 * primary (see barrier.h).  Must not read the clock.
 */
#include "barrier.h"

#include <stdio.h>
#include <string.h>

#include "cbtime.h"
#include "json.h"
#include "reference.h"
#include "xmalloc.h"

static const char *const create_fields[] = {"reason",  "owner",     "note",
                                            "primary", "opened_at", NULL};
static const char *const patch_fields[] = {"reason", "owner", "note", "primary", "closed", NULL};

/* An optional free-text field: absent, null or "" (clears), or text up to size-1 bytes. */
static enum status get_text(const cJSON *body, const char *key, char *out, size_t size, bool *has,
                            struct err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);

	*has = false;
	out[0] = '\0';
	if (v == NULL)
		return ST_OK;
	*has = true;
	if (cJSON_IsNull(v) || (cJSON_IsString(v) && v->valuestring[0] == '\0'))
		return ST_OK;
	if (cJSON_IsString(v) && strlen(v->valuestring) > size - 1)
		return err_set(err, ST_INVALID, key, "\"%s\" is longer than %zu bytes", key,
		               size - 1);
	return json_get_string(body, key, false, out, size, err);
}

static enum status parse_common(const cJSON *body, bool create, struct barrier_input *out,
                                struct err *err)
{
	enum status st;
	bool present = false;

	memset(out, 0, sizeof *out);
	if (!cJSON_IsObject(body))
		return err_set(err, ST_INVALID, NULL, "body must be a JSON object");
	st = json_only_keys(body, create ? create_fields : patch_fields, err);
	if (st != ST_OK)
		return st;
	st = json_get_string(body, "reason", create, out->reason, sizeof out->reason, err);
	if (st != ST_OK)
		return st;
	out->has_reason = out->reason[0] != '\0';
	if (out->has_reason && !reference_key_is_valid(out->reason))
		return err_set(err, ST_INVALID, "reason", "\"reason\" is not a reason key");
	st = get_text(body, "owner", out->owner, sizeof out->owner, &out->has_owner, err);
	if (st != ST_OK)
		return st;
	st = get_text(body, "note", out->note, sizeof out->note, &out->has_note, err);
	if (st != ST_OK)
		return st;
	st = json_get_bool(body, "primary", false, &out->make_primary, &present, err);
	if (st != ST_OK)
		return st;
	if (!create && present && !out->make_primary)
		return err_set(err, ST_INVALID, "primary",
		               "a barrier stops being primary only when another is made primary "
		               "or it is closed");
	if (create)
		return json_get_time(body, "opened_at", false, &out->opened_at, &out->has_opened_at,
		                     err);
	st = json_get_bool(body, "closed", false, &out->close, &present, err);
	if (st != ST_OK)
		return st;
	if (present && !out->close)
		return err_set(err, ST_INVALID, "closed",
		               "a closed barrier cannot be reopened: "
		               "open a new one");
	if (out->close && out->make_primary)
		return err_set(err, ST_INVALID, "primary",
		               "a barrier cannot be made primary and closed at once");
	if (!out->has_reason && !out->has_owner && !out->has_note && !out->make_primary &&
	    !out->close)
		return err_set(err, ST_INVALID, NULL, "nothing to change");
	return ST_OK;
}

enum status barrier_parse_create(const cJSON *body, struct barrier_input *out, struct err *err)
{
	return parse_common(body, true, out, err);
}

enum status barrier_parse_patch(const cJSON *body, struct barrier_input *out, struct err *err)
{
	return parse_common(body, false, out, err);
}

enum status barrier_check_reason(const char *reason, const char *list, const char *const *known,
                                 size_t nknown, struct err *err)
{
	for (size_t i = 0; i < nknown; i++)
		if (strcmp(known[i], reason) == 0)
			return ST_OK;
	return err_set(err, ST_INVALID, "reason", "reason \"%s\" is not in the list \"%s\"", reason,
	               list);
}

enum status barrier_opened_at(const struct barrier_input *in, const struct barrier_times *t,
                              int64_t *out, struct err *err)
{
	char at[TIME_FORMAT_LEN];
	int64_t when;

	*out = t->now;
	if (!in->has_opened_at)
		return ST_OK;
	when = in->opened_at;
	if (when > t->now + BARRIER_CLOCK_SKEW_S)
		return err_set(err, ST_INVALID, "opened_at", "\"opened_at\" is in the future");
	if (when > t->now) /* a clock running fast: it meant now */
		when = t->now;
	if (when < t->admitted_at) {
		time_format(t->admitted_at, at);
		return err_set(err, ST_INVALID, "opened_at",
		               "\"opened_at\" is before the admission, at %s", at);
	}
	if (when < t->latest_history) {
		time_format(t->latest_history, at);
		return err_set(
		    err, ST_INVALID, "opened_at",
		    "\"opened_at\" is before the latest change to this episode's barriers, "
		    "at %s: barrier history is kept in time order and an earlier decision "
		    "is never rewritten",
		    at);
	}
	*out = when;
	return ST_OK;
}

/* Whether a is older than b: opened earlier, or at once with the smaller id. */
static bool older(const struct barrier_open *a, const struct barrier_open *b)
{
	if (a->opened_at != b->opened_at)
		return a->opened_at < b->opened_at;
	return strcmp(a->id, b->id) < 0;
}

int barrier_primary_after(const struct barrier_open *open, size_t n, size_t target,
                          bool make_primary, bool close)
{
	int cur = -1, oldest = -1;

	ASSERT(target < n);
	if (make_primary && !close)
		return (int)target;
	for (size_t i = 0; i < n; i++) {
		if (close && i == target)
			continue;
		if (open[i].primary && cur < 0)
			cur = (int)i;
		if (oldest < 0 || older(&open[i], &open[oldest]))
			oldest = (int)i;
	}
	return cur >= 0 ? cur : oldest;
}

enum status barrier_check_change(bool closed, const char *id, struct err *err)
{
	if (closed)
		return err_set(err, ST_CONFLICT, NULL,
		               "barrier \"%s\" is closed: a closed barrier cannot be changed", id);
	return ST_OK;
}

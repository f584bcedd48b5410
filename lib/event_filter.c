/*
 * event_filter.c - subscriber filters and the read check for live events.
 */
#include "event_filter.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "admission.h"

void event_filter_init(struct event_filter *f)
{
	memset(f, 0, sizeof *f);
}

/* Letters, digits, '_', '-', '.', and a final '*' for types. */
static bool value_is_valid(const char *v, bool star)
{
	size_t n = strlen(v);

	if (n == 0 || n >= EVENT_FILTER_VALUE_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (isalnum(c) || c == '_' || c == '-' || c == '.')
			continue;
		if (star && c == '*' && i == n - 1)
			continue;
		return false;
	}
	return true;
}

enum status event_filter_add(struct event_filter *f, const char *kind, const char *value,
                             struct err *err)
{
	char(*list)[EVENT_FILTER_VALUE_MAX];
	int *n;
	bool star = false;

	if (strcmp(kind, "ward") == 0) {
		list = f->wards;
		n = &f->nwards;
	} else if (strcmp(kind, "discipline") == 0) {
		list = f->disciplines;
		n = &f->ndisciplines;
	} else if (strcmp(kind, "types") == 0 || strcmp(kind, "type") == 0) {
		list = f->types;
		n = &f->ntypes;
		star = true;
	} else {
		return err_set(err, ST_INVALID, kind, "unknown filter \"%s\"", kind);
	}
	if (!value_is_valid(value, star))
		return err_set(err, ST_INVALID, kind, "invalid %s filter value", kind);
	if (*n >= EVENT_FILTER_MAX)
		return err_set(err, ST_INVALID, kind, "at most %d %s filters", EVENT_FILTER_MAX,
		               kind);
	snprintf(list[*n], EVENT_FILTER_VALUE_MAX, "%s", value);
	(*n)++;
	return ST_OK;
}

enum status event_filter_set_episode(struct event_filter *f, const char *episode, struct err *err)
{
	if (!text_is_uuid(episode))
		return err_set(err, ST_INVALID, "episode", "\"episode\" must be an episode id");
	snprintf(f->episode, sizeof f->episode, "%s", episode);
	return ST_OK;
}

enum status event_filter_authorise(const struct event_filter *f, const struct principal *p,
                                   struct err *err)
{
	/*
	 * A partner's events are those of its referrals, whatever the ward
	 * (event_filter_matches decides per event): a ward filter only narrows
	 * them, it reaches nothing more.
	 */
	if (role_is_partner(p->role))
		return access_role_may(p, ACCESS_EVENT_READ, err);
	for (int i = 0; i < f->nwards; i++) {
		struct access_target t = {.ward = f->wards[i], .discipline = NULL};
		enum status st = access_check(p, ACCESS_EVENT_READ, &t, err);

		if (st != ST_OK)
			return st;
	}
	return ST_OK;
}

static bool in_list(const char (*list)[EVENT_FILTER_VALUE_MAX], int n, const char *v)
{
	if (n == 0)
		return true;
	if (v == NULL)
		return false;
	for (int i = 0; i < n; i++)
		if (strcmp(list[i], v) == 0)
			return true;
	return false;
}

static bool type_matches(const struct event_filter *f, const char *type)
{
	if (f->ntypes == 0)
		return true;
	for (int i = 0; i < f->ntypes; i++) {
		size_t n = strlen(f->types[i]);

		if (f->types[i][n - 1] == '*') {
			if (strncmp(f->types[i], type, n - 1) == 0)
				return true;
		} else if (strcmp(f->types[i], type) == 0) {
			return true;
		}
	}
	return false;
}

/*
 * Events about a report rather than a patient carry no ward; who may read
 * the report may receive them (a bed manager's stream gets the sitrep's
 * submission), where other ward-less events go to admin and system only.
 */
static const char *const report_event_prefixes[] = {"sitrep.", NULL};

static bool type_is_report_event(const char *type)
{
	for (size_t i = 0; type != NULL && report_event_prefixes[i] != NULL; i++)
		if (strncmp(type, report_event_prefixes[i], strlen(report_event_prefixes[i])) == 0)
			return true;
	return false;
}

/*
 * Cut csv ("a,b") into at most EVENT_FILTER_ORGS_MAX UUIDs in buf, pointed
 * at by ptrs; returns how many.  A value that is not a UUID is skipped.
 */
static size_t orgs_split(const char *csv, char (*buf)[37], const char **ptrs)
{
	size_t n = 0;

	while (csv != NULL && *csv != '\0' && n < EVENT_FILTER_ORGS_MAX) {
		const char *comma = strchr(csv, ',');
		size_t len = comma != NULL ? (size_t)(comma - csv) : strlen(csv);

		if (len == 36) {
			memcpy(buf[n], csv, 36);
			buf[n][36] = '\0';
			if (text_is_uuid(buf[n])) {
				ptrs[n] = buf[n];
				n++;
			}
		}
		csv = comma != NULL ? comma + 1 : NULL;
	}
	return n;
}

bool event_filter_matches(const struct event_filter *f, const struct principal *p,
                          const struct event_facts *e)
{
	struct access_target t = {.ward = e->ward != NULL && e->ward[0] ? e->ward : NULL,
	                          .discipline = NULL};
	enum access_action a = ACCESS_EVENT_READ;
	char orgs[EVENT_FILTER_ORGS_MAX][37];
	const char *org_ptrs[EVENT_FILTER_ORGS_MAX];

	if (!type_matches(f, e->type))
		return false;
	if (!in_list(f->wards, f->nwards, t.ward))
		return false;
	if (f->ndisciplines > 0 &&
	    !in_list(f->disciplines, f->ndisciplines,
	             e->discipline != NULL && e->discipline[0] ? e->discipline : NULL))
		return false;
	if (f->episode[0] != '\0' && (e->episode == NULL || strcmp(f->episode, e->episode) != 0))
		return false;
	if (t.ward == NULL && type_is_report_event(e->type))
		a = ACCESS_REPORT_READ;
	t.norgs = orgs_split(e->organisations, orgs, org_ptrs);
	t.orgs = org_ptrs;
	return access_check(p, a, &t, NULL) == ST_OK;
}

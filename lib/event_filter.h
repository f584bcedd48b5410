/*
 * event_filter.h - which live events a subscriber receives: its filters (ward,
 * discipline, episode, event types) and, always, what its principal may read.
 * Pure: used by the SSE hub for every event and subscriber, and by webhooks.
 */
#ifndef CB_EVENT_FILTER_H
#define CB_EVENT_FILTER_H

#include <stdbool.h>

#include "access.h"
#include "status.h"

#define EVENT_FILTER_MAX 32       /* values per filter kind */
#define EVENT_FILTER_VALUE_MAX 48 /* bytes per value, NUL included */

struct event_filter {
	char wards[EVENT_FILTER_MAX][EVENT_FILTER_VALUE_MAX];       /* empty: any ward */
	int nwards;                                                 /* how many */
	char disciplines[EVENT_FILTER_MAX][EVENT_FILTER_VALUE_MAX]; /* empty: any discipline */
	int ndisciplines;                                           /* how many */
	char types[EVENT_FILTER_MAX][EVENT_FILTER_VALUE_MAX];       /* "task.updated", "chase.*" */
	int ntypes;                                                 /* empty: any type */
	char episode[37];                                           /* "" = any episode */
};

/* One event as the filter sees it (borrowed strings; NULL or "" when absent). */
struct event_facts {
	const char *type;       /* "task.updated" */
	const char *ward;       /* the episode's ward */
	const char *discipline; /* the task's discipline */
	const char *episode;    /* the episode id */
	/* The organisations the event is about (events.organisations: a
	 * referral's hub and service provider), comma-separated UUIDs; NULL or
	 * "" for an event for the trust's users only.  A partner's principal
	 * receives an event only when its organisation is one of them. */
	const char *organisations;
};

/* Organisations of one event considered; any beyond are ignored (fail closed). */
#define EVENT_FILTER_ORGS_MAX 8

/* Empty filter: everything the principal may read. */
void event_filter_init(struct event_filter *f);

/* Add a value to a filter kind ("ward", "discipline", "type"); ST_INVALID if bad or too many. */
enum status event_filter_add(struct event_filter *f, const char *kind, const char *value,
                             struct err *err);

/* Set the episode filter (a UUID). */
enum status event_filter_set_episode(struct event_filter *f, const char *episode, struct err *err);

/*
 * ST_OK when principal p may subscribe with f: a nurse may name only her own
 * wards; a partner any ward (a ward filter only narrows its referrals'
 * events).  ST_FORBIDDEN otherwise.
 */
enum status event_filter_authorise(const struct event_filter *f, const struct principal *p,
                                   struct err *err);

/*
 * True when e passes f's filters and p may read it: ACCESS_EVENT_READ for its
 * ward and organisations, or for an event about a report without a ward
 * ("sitrep.submitted"), ACCESS_REPORT_READ.  A partner (role_is_partner)
 * receives only events whose organisations include its own (its referrals'
 * events), never a ward's other events; with no organisation set, nothing.
 */
bool event_filter_matches(const struct event_filter *f, const struct principal *p,
                          const struct event_facts *e);

#endif

/*
 * referral.h - the referral to the care transfer hub, from the day-one notice
 * to the service starting: its states, the steps between them, the FHIR Task
 * status of each state and the barrier to discharge each state proposes.
 *
 * Under discharge to assess (DOMAIN.md "Social care: from day one") a patient
 * on pathway 1-3 is referred to the local care transfer hub.  The referral is
 * opened "notified" on the day of admission with what is known; the ward or
 * the hospital social worker completes it and sends it ("referred"); the hub
 * accepts it, asks for more information or declines it; it records the
 * service found ("sourced") and then the confirmed start date; the referral
 * completes at discharge or is withdrawn.
 *
 * A step is named by what a person does (send, accept, ...), not by the state
 * it leads to: the same state can be reached by different steps (a service is
 * sourced again when the first falls through) and each step needs its own
 * details.  This module owns the whole table; it looks nothing up.
 */
#ifndef CB_REFERRAL_H
#define CB_REFERRAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

enum referral_state {
	REFERRAL_NOTIFIED,        /* "notified": opened on day one; FHIR draft */
	REFERRAL_REFERRED,        /* "referred": sent to the hub; requested */
	REFERRAL_INFO_REQUESTED,  /* "info_requested": the hub asked for more; on-hold */
	REFERRAL_ACCEPTED,        /* "accepted": the hub accepted it; accepted */
	REFERRAL_DECLINED,        /* "declined": the hub declined it; rejected */
	REFERRAL_SOURCED,         /* "sourced": a service was found; in-progress */
	REFERRAL_START_CONFIRMED, /* "start_confirmed": its start date is confirmed; ready */
	REFERRAL_COMPLETED,       /* "completed": discharged to the service; final */
	REFERRAL_WITHDRAWN,       /* "withdrawn": not needed after all; final; cancelled */
};

#define REFERRAL_STATE_COUNT 9

enum referral_step {
	REFERRAL_STEP_SEND,          /* notified, info_requested, declined -> referred */
	REFERRAL_STEP_REQUEST_INFO,  /* referred -> info_requested (needs "info_request") */
	REFERRAL_STEP_ACCEPT,        /* referred, info_requested -> accepted */
	REFERRAL_STEP_DECLINE,       /* referred, info_requested -> declined (needs "reason") */
	REFERRAL_STEP_SOURCE,        /* accepted, sourced, start_confirmed -> sourced (needs
	                                "service_kind" and "start_date") */
	REFERRAL_STEP_CONFIRM_START, /* sourced -> start_confirmed (needs "start_date") */
	REFERRAL_STEP_COMPLETE,      /* accepted, sourced, start_confirmed -> completed */
	REFERRAL_STEP_WITHDRAW,      /* any open state -> withdrawn (needs "reason") */
};

#define REFERRAL_STEP_COUNT 8

/* Which side of the boundary takes a step. */
enum referral_side {
	REFERRAL_SIDE_TRUST,   /* the ward or the hospital social worker (and the system) */
	REFERRAL_SIDE_PARTNER, /* the hub, the council or the provider */
};

/* The service a hub sources (organisations.services holds the same names). */
enum referral_service_kind {
	SERVICE_HOME_CARE,             /* "home_care" */
	SERVICE_REABLEMENT,            /* "reablement" */
	SERVICE_INTERMEDIATE_CARE_BED, /* "intermediate_care_bed" */
	SERVICE_CARE_HOME,             /* "care_home" */
	SERVICE_EQUIPMENT,             /* "equipment" */
	SERVICE_OTHER,                 /* "other" */
};

#define REFERRAL_SERVICE_KIND_COUNT 6

/* Longest free texts, in bytes (the database checks the same). */
#define REFERRAL_REASON_MAX 2000
#define REFERRAL_NEEDS_MAX 4000
#define REFERRAL_CONTACTS_MAX 2000
#define REFERRAL_SERVICE_DETAIL_MAX 500

/* The stored name of s ("notified", "info_requested", ...); a static string. */
const char *referral_state_name(enum referral_state s);

/*
 * Set *out to the state named in.  Returns ST_OK, or ST_INVALID with field
 * "state" when in is NULL or names no state.
 */
enum status referral_state_parse(const char *in, enum referral_state *out, struct err *err);

/* Whether s is final (completed, withdrawn). */
bool referral_state_is_final(enum referral_state s);

/*
 * The FHIR R4 Task.status of s (DOMAIN.md "FHIR R4 names"): notified "draft",
 * referred "requested", info_requested "on-hold", accepted "accepted",
 * declined "rejected", sourced "in-progress", start_confirmed "ready",
 * completed "completed", withdrawn "cancelled".  A static string.
 * migrations/0028 cb_referral_task_status() holds the same table.
 */
const char *referral_task_status(enum referral_state s);

/* The name of step ("send", "request_info", ...); a static string. */
const char *referral_step_name(enum referral_step step);

/*
 * Set *out to the step named in.  Returns ST_OK, or ST_INVALID with field
 * "step" when in is NULL or names no step.
 */
enum status referral_step_parse(const char *in, enum referral_step *out, struct err *err);

/*
 * Who takes step: send and withdraw the trust (the referring side); request
 * information, accept, decline, source and confirm the start the partner;
 * complete the trust (the system completes a referral at discharge).
 */
enum referral_side referral_step_side(enum referral_step step);

/* The name of k ("home_care", ...); a static string. */
const char *referral_service_kind_name(enum referral_service_kind k);

/*
 * Set *out to the service kind named in.  Returns ST_OK, or ST_INVALID with
 * field "service_kind" when in is NULL or names no kind.
 */
enum status referral_service_kind_parse(const char *in, enum referral_service_kind *out,
                                        struct err *err);

/* The details a step carries; a field not given is NULL (or has_... false). */
struct referral_step_input {
	const char *reason;       /* decline, withdraw: why (required) */
	const char *info_request; /* request_info: what the hub needs (required) */
	const char *needs;        /* send: the needs summary (optional; replaces) */
	const char *contacts;     /* send: the contacts (optional; replaces) */
	bool has_service_kind;    /* source: required */
	enum referral_service_kind service_kind;
	const char *service_detail; /* source: hours a week, the bed (optional) */
	bool has_start_date;        /* source, confirm_start: required */
	int32_t start_date;         /* a lib/cbtime.h day number (date_parse) */
	int32_t today;              /* the local date now, a day number */
};

/*
 * Whether step may be taken from state from with the details in, and the
 * state it leads to (*to).  Checks the transition table above, then the
 * details: the required ones present and within their lengths, a start date
 * not before today when confirmed, nothing given that the step does not take
 * (a reason on an accept is refused rather than silently dropped).
 * Returns ST_OK; ST_CONFLICT with field "state" and a message such as
 *   a referral that is "notified" cannot be accepted
 * when the step does not apply to from; or ST_INVALID naming the field.
 */
enum status referral_step_check(enum referral_state from, enum referral_step step,
                                const struct referral_step_input *in, enum referral_state *to,
                                struct err *err);

/*
 * Whether a patient on likely pathway pathway (-1: not known) gets a referral
 * on day one: pathways 1-3.
 */
bool referral_needed(int pathway);

/*
 * The barrier to discharge a referral in state s proposes while the patient
 * has no criteria to reside, as a key of the nhse-acute-2023 delay-reason list
 * (migrations/0022), for a patient on likely pathway pathway (-1: not known):
 *   notified, declined            "referral_to_spa"  (awaiting referral to the
 *                                  community single point of access)
 *   referred, info_requested      "hub_confirmation" (awaiting confirmation
 *                                  from the hub)
 *   accepted, sourced, start_confirmed, by pathway:
 *     1 "p1_awaiting_care", 2 "p2_awaiting_rehab_bed", 3 "p3_awaiting_care_home";
 *     0 or not known: "hub_confirmation" (the hub holds it; no pathway reason fits)
 *   completed, withdrawn          NULL (proposes nothing).
 * A static string or NULL.
 */
const char *referral_proposed_reason(enum referral_state s, int pathway);

#endif

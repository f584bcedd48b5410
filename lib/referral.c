/*
 * referral.c - referral states, steps, their FHIR Task status and the barrier
 * each state proposes.
 */
#include "referral.h"

#include <string.h>

#include "xmalloc.h"

static const char *const referral_state_names[REFERRAL_STATE_COUNT] = {
    [REFERRAL_NOTIFIED] = "notified",
    [REFERRAL_REFERRED] = "referred",
    [REFERRAL_INFO_REQUESTED] = "info_requested",
    [REFERRAL_ACCEPTED] = "accepted",
    [REFERRAL_DECLINED] = "declined",
    [REFERRAL_SOURCED] = "sourced",
    [REFERRAL_START_CONFIRMED] = "start_confirmed",
    [REFERRAL_COMPLETED] = "completed",
    [REFERRAL_WITHDRAWN] = "withdrawn",
};

static const char *const referral_task_statuses[REFERRAL_STATE_COUNT] = {
    [REFERRAL_NOTIFIED] = "draft",         [REFERRAL_REFERRED] = "requested",
    [REFERRAL_INFO_REQUESTED] = "on-hold", [REFERRAL_ACCEPTED] = "accepted",
    [REFERRAL_DECLINED] = "rejected",      [REFERRAL_SOURCED] = "in-progress",
    [REFERRAL_START_CONFIRMED] = "ready",  [REFERRAL_COMPLETED] = "completed",
    [REFERRAL_WITHDRAWN] = "cancelled",
};

static const char *const referral_step_names[REFERRAL_STEP_COUNT] = {
    [REFERRAL_STEP_SEND] = "send",         [REFERRAL_STEP_REQUEST_INFO] = "request_info",
    [REFERRAL_STEP_ACCEPT] = "accept",     [REFERRAL_STEP_DECLINE] = "decline",
    [REFERRAL_STEP_SOURCE] = "source",     [REFERRAL_STEP_CONFIRM_START] = "confirm_start",
    [REFERRAL_STEP_COMPLETE] = "complete", [REFERRAL_STEP_WITHDRAW] = "withdraw",
};

/* What a refusal says cannot be done: ... cannot be <phrase>. */
static const char *const referral_step_phrases[REFERRAL_STEP_COUNT] = {
    [REFERRAL_STEP_SEND] = "sent to the hub",
    [REFERRAL_STEP_REQUEST_INFO] = "asked for more information",
    [REFERRAL_STEP_ACCEPT] = "accepted",
    [REFERRAL_STEP_DECLINE] = "declined",
    [REFERRAL_STEP_SOURCE] = "given a service",
    [REFERRAL_STEP_CONFIRM_START] = "given a confirmed start date",
    [REFERRAL_STEP_COMPLETE] = "completed",
    [REFERRAL_STEP_WITHDRAW] = "withdrawn",
};

static const char *const referral_service_kind_names[REFERRAL_SERVICE_KIND_COUNT] = {
    [SERVICE_HOME_CARE] = "home_care",
    [SERVICE_REABLEMENT] = "reablement",
    [SERVICE_INTERMEDIATE_CARE_BED] = "intermediate_care_bed",
    [SERVICE_CARE_HOME] = "care_home",
    [SERVICE_EQUIPMENT] = "equipment",
    [SERVICE_OTHER] = "other",
};

/* The state each step leads to. */
static const enum referral_state referral_step_to[REFERRAL_STEP_COUNT] = {
    [REFERRAL_STEP_SEND] = REFERRAL_REFERRED,
    [REFERRAL_STEP_REQUEST_INFO] = REFERRAL_INFO_REQUESTED,
    [REFERRAL_STEP_ACCEPT] = REFERRAL_ACCEPTED,
    [REFERRAL_STEP_DECLINE] = REFERRAL_DECLINED,
    [REFERRAL_STEP_SOURCE] = REFERRAL_SOURCED,
    [REFERRAL_STEP_CONFIRM_START] = REFERRAL_START_CONFIRMED,
    [REFERRAL_STEP_COMPLETE] = REFERRAL_COMPLETED,
    [REFERRAL_STEP_WITHDRAW] = REFERRAL_WITHDRAWN,
};

#define FROM(s) (1u << (s))
#define OPEN_STATES                                                                                \
	(FROM(REFERRAL_NOTIFIED) | FROM(REFERRAL_REFERRED) | FROM(REFERRAL_INFO_REQUESTED) |       \
	 FROM(REFERRAL_ACCEPTED) | FROM(REFERRAL_DECLINED) | FROM(REFERRAL_SOURCED) |              \
	 FROM(REFERRAL_START_CONFIRMED))

/*
 * The states each step may be taken from.  A declined referral is sent again
 * once the ward has answered the reason; a service is sourced again when the
 * first falls through, even after its start was confirmed.  A referral the
 * hub never accepted cannot complete: at discharge it is withdrawn instead.
 */
static const unsigned referral_step_from[REFERRAL_STEP_COUNT] = {
    [REFERRAL_STEP_SEND] =
	FROM(REFERRAL_NOTIFIED) | FROM(REFERRAL_INFO_REQUESTED) | FROM(REFERRAL_DECLINED),
    [REFERRAL_STEP_REQUEST_INFO] = FROM(REFERRAL_REFERRED),
    [REFERRAL_STEP_ACCEPT] = FROM(REFERRAL_REFERRED) | FROM(REFERRAL_INFO_REQUESTED),
    [REFERRAL_STEP_DECLINE] = FROM(REFERRAL_REFERRED) | FROM(REFERRAL_INFO_REQUESTED),
    [REFERRAL_STEP_SOURCE] =
	FROM(REFERRAL_ACCEPTED) | FROM(REFERRAL_SOURCED) | FROM(REFERRAL_START_CONFIRMED),
    [REFERRAL_STEP_CONFIRM_START] = FROM(REFERRAL_SOURCED),
    [REFERRAL_STEP_COMPLETE] =
	FROM(REFERRAL_ACCEPTED) | FROM(REFERRAL_SOURCED) | FROM(REFERRAL_START_CONFIRMED),
    [REFERRAL_STEP_WITHDRAW] = OPEN_STATES,
};

/* The details each step takes (bits of struct referral_step_input). */
#define IN_REASON 0x01u
#define IN_INFO_REQUEST 0x02u
#define IN_NEEDS 0x04u
#define IN_CONTACTS 0x08u
#define IN_SERVICE_KIND 0x10u
#define IN_SERVICE_DETAIL 0x20u
#define IN_START_DATE 0x40u

static const unsigned referral_step_takes[REFERRAL_STEP_COUNT] = {
    [REFERRAL_STEP_SEND] = IN_NEEDS | IN_CONTACTS,
    [REFERRAL_STEP_REQUEST_INFO] = IN_INFO_REQUEST,
    [REFERRAL_STEP_ACCEPT] = 0,
    [REFERRAL_STEP_DECLINE] = IN_REASON,
    [REFERRAL_STEP_SOURCE] = IN_SERVICE_KIND | IN_SERVICE_DETAIL | IN_START_DATE,
    [REFERRAL_STEP_CONFIRM_START] = IN_START_DATE,
    [REFERRAL_STEP_COMPLETE] = 0,
    [REFERRAL_STEP_WITHDRAW] = IN_REASON,
};

static const unsigned referral_step_needs[REFERRAL_STEP_COUNT] = {
    [REFERRAL_STEP_REQUEST_INFO] = IN_INFO_REQUEST,
    [REFERRAL_STEP_DECLINE] = IN_REASON,
    [REFERRAL_STEP_SOURCE] = IN_SERVICE_KIND | IN_START_DATE,
    [REFERRAL_STEP_CONFIRM_START] = IN_START_DATE,
    [REFERRAL_STEP_WITHDRAW] = IN_REASON,
};

const char *referral_state_name(enum referral_state s)
{
	ASSERT((unsigned)s < REFERRAL_STATE_COUNT);
	return referral_state_names[s];
}

enum status referral_state_parse(const char *in, enum referral_state *out, struct err *err)
{
	ASSERT(out != NULL);
	for (size_t i = 0; in != NULL && i < REFERRAL_STATE_COUNT; i++) {
		if (strcmp(in, referral_state_names[i]) == 0) {
			*out = (enum referral_state)i;
			return ST_OK;
		}
	}
	return err_set(
	    err, ST_INVALID, "state",
	    "state must be \"notified\", \"referred\", \"info_requested\", \"accepted\", "
	    "\"declined\", \"sourced\", \"start_confirmed\", \"completed\" or "
	    "\"withdrawn\"");
}

bool referral_state_is_final(enum referral_state s)
{
	ASSERT((unsigned)s < REFERRAL_STATE_COUNT);
	return s == REFERRAL_COMPLETED || s == REFERRAL_WITHDRAWN;
}

const char *referral_task_status(enum referral_state s)
{
	ASSERT((unsigned)s < REFERRAL_STATE_COUNT);
	return referral_task_statuses[s];
}

const char *referral_step_name(enum referral_step step)
{
	ASSERT((unsigned)step < REFERRAL_STEP_COUNT);
	return referral_step_names[step];
}

enum status referral_step_parse(const char *in, enum referral_step *out, struct err *err)
{
	ASSERT(out != NULL);
	for (size_t i = 0; in != NULL && i < REFERRAL_STEP_COUNT; i++) {
		if (strcmp(in, referral_step_names[i]) == 0) {
			*out = (enum referral_step)i;
			return ST_OK;
		}
	}
	return err_set(err, ST_INVALID, "step",
	               "step must be \"send\", \"request_info\", \"accept\", \"decline\", "
	               "\"source\", \"confirm_start\", \"complete\" or \"withdraw\"");
}

enum referral_side referral_step_side(enum referral_step step)
{
	ASSERT((unsigned)step < REFERRAL_STEP_COUNT);
	switch (step) {
	case REFERRAL_STEP_REQUEST_INFO:
	case REFERRAL_STEP_ACCEPT:
	case REFERRAL_STEP_DECLINE:
	case REFERRAL_STEP_SOURCE:
	case REFERRAL_STEP_CONFIRM_START:
		return REFERRAL_SIDE_PARTNER;
	case REFERRAL_STEP_SEND:
	case REFERRAL_STEP_COMPLETE:
	case REFERRAL_STEP_WITHDRAW:
		break;
	}
	return REFERRAL_SIDE_TRUST;
}

const char *referral_service_kind_name(enum referral_service_kind k)
{
	ASSERT((unsigned)k < REFERRAL_SERVICE_KIND_COUNT);
	return referral_service_kind_names[k];
}

enum status referral_service_kind_parse(const char *in, enum referral_service_kind *out,
                                        struct err *err)
{
	ASSERT(out != NULL);
	for (size_t i = 0; in != NULL && i < REFERRAL_SERVICE_KIND_COUNT; i++) {
		if (strcmp(in, referral_service_kind_names[i]) == 0) {
			*out = (enum referral_service_kind)i;
			return ST_OK;
		}
	}
	return err_set(err, ST_INVALID, "service_kind",
	               "service_kind must be \"home_care\", \"reablement\", "
	               "\"intermediate_care_bed\", \"care_home\", \"equipment\" or \"other\"");
}

/* The bit of each detail given in in. */
static unsigned referral_input_given(const struct referral_step_input *in)
{
	unsigned given = 0;

	if (in->reason != NULL)
		given |= IN_REASON;
	if (in->info_request != NULL)
		given |= IN_INFO_REQUEST;
	if (in->needs != NULL)
		given |= IN_NEEDS;
	if (in->contacts != NULL)
		given |= IN_CONTACTS;
	if (in->has_service_kind)
		given |= IN_SERVICE_KIND;
	if (in->service_detail != NULL)
		given |= IN_SERVICE_DETAIL;
	if (in->has_start_date)
		given |= IN_START_DATE;
	return given;
}

static const struct {
	unsigned bit;
	const char *field;
	size_t max; /* 0: not a text */
} referral_fields[] = {
    {IN_REASON, "reason", REFERRAL_REASON_MAX},
    {IN_INFO_REQUEST, "info_request", REFERRAL_REASON_MAX},
    {IN_NEEDS, "needs", REFERRAL_NEEDS_MAX},
    {IN_CONTACTS, "contacts", REFERRAL_CONTACTS_MAX},
    {IN_SERVICE_KIND, "service_kind", 0},
    {IN_SERVICE_DETAIL, "service_detail", REFERRAL_SERVICE_DETAIL_MAX},
    {IN_START_DATE, "start_date", 0},
};

/* The text of field bit in in, for the length checks. */
static const char *referral_input_text(const struct referral_step_input *in, unsigned bit)
{
	switch (bit) {
	case IN_REASON:
		return in->reason;
	case IN_INFO_REQUEST:
		return in->info_request;
	case IN_NEEDS:
		return in->needs;
	case IN_CONTACTS:
		return in->contacts;
	case IN_SERVICE_DETAIL:
		return in->service_detail;
	default:
		return NULL;
	}
}

enum status referral_step_check(enum referral_state from, enum referral_step step,
                                const struct referral_step_input *in, enum referral_state *to,
                                struct err *err)
{
	ASSERT((unsigned)from < REFERRAL_STATE_COUNT);
	ASSERT((unsigned)step < REFERRAL_STEP_COUNT);
	ASSERT(in != NULL && to != NULL);

	if ((referral_step_from[step] & FROM(from)) == 0)
		return err_set(err, ST_CONFLICT, "state", "a referral that is \"%s\" cannot be %s",
		               referral_state_names[from], referral_step_phrases[step]);

	unsigned given = referral_input_given(in);
	for (size_t i = 0; i < sizeof referral_fields / sizeof referral_fields[0]; i++) {
		unsigned bit = referral_fields[i].bit;
		const char *field = referral_fields[i].field;
		if ((given & bit) != 0 && (referral_step_takes[step] & bit) == 0)
			return err_set(err, ST_INVALID, field, "step \"%s\" does not take %s",
			               referral_step_names[step], field);
		if ((given & bit) == 0 && (referral_step_needs[step] & bit) != 0)
			return err_set(err, ST_INVALID, field, "step \"%s\" needs %s",
			               referral_step_names[step], field);
		const char *text = referral_input_text(in, bit);
		if (text != NULL && referral_fields[i].max > 0) {
			size_t n = strlen(text);
			if (n == 0 && (referral_step_needs[step] & bit) != 0)
				return err_set(err, ST_INVALID, field, "%s must not be empty",
				               field);
			if (n > referral_fields[i].max)
				return err_set(err, ST_INVALID, field,
				               "%s must be at most %zu bytes", field,
				               referral_fields[i].max);
		}
	}
	if (step == REFERRAL_STEP_CONFIRM_START && in->start_date < in->today)
		return err_set(err, ST_INVALID, "start_date",
		               "a confirmed start date cannot be in the past");
	*to = referral_step_to[step];
	return ST_OK;
}

bool referral_needed(int pathway)
{
	return pathway >= 1 && pathway <= 3;
}

const char *referral_proposed_reason(enum referral_state s, int pathway)
{
	ASSERT((unsigned)s < REFERRAL_STATE_COUNT);
	switch (s) {
	case REFERRAL_NOTIFIED:
	case REFERRAL_DECLINED:
		return "referral_to_spa";
	case REFERRAL_REFERRED:
	case REFERRAL_INFO_REQUESTED:
		return "hub_confirmation";
	case REFERRAL_ACCEPTED:
	case REFERRAL_SOURCED:
	case REFERRAL_START_CONFIRMED:
		switch (pathway) {
		case 1:
			return "p1_awaiting_care";
		case 2:
			return "p2_awaiting_rehab_bed";
		case 3:
			return "p3_awaiting_care_home";
		default:
			return "hub_confirmation";
		}
	case REFERRAL_COMPLETED:
	case REFERRAL_WITHDRAWN:
		break;
	}
	return NULL;
}

/*
 * involvement.c - the form and the time of an involvement record (see
 * involvement.h).
 */
#include "involvement.h"

#include <string.h>

#include "json.h"
#include "xmalloc.h"

static const char *const involvement_who_names[INVOLVEMENT_WHO_COUNT] = {
    [INVOLVEMENT_PATIENT] = "patient",
    [INVOLVEMENT_FAMILY] = "family",
    [INVOLVEMENT_UNPAID_CARER] = "unpaid_carer",
    [INVOLVEMENT_ADVOCATE] = "advocate",
};

static const char *const involvement_fields[] = {"who",    "name", "discussed_at",
                                                 "agreed", "note", NULL};

const char *involvement_who_name(enum involvement_who w)
{
	ASSERT((unsigned)w < INVOLVEMENT_WHO_COUNT);
	return involvement_who_names[w];
}

enum status involvement_who_parse(const char *s, enum involvement_who *out, struct err *err)
{
	for (int i = 0; s != NULL && i < INVOLVEMENT_WHO_COUNT; i++) {
		if (strcmp(s, involvement_who_names[i]) == 0) {
			*out = (enum involvement_who)i;
			return ST_OK;
		}
	}
	return err_set(err, ST_INVALID, "who",
	               "\"who\" must be \"patient\", \"family\", \"unpaid_carer\" or \"advocate\"");
}

enum status involvement_parse(const cJSON *body, int64_t now, struct involvement *out,
                              struct err *err)
{
	char who[32];
	bool present = false;
	enum status st;

	memset(out, 0, sizeof *out);
	if ((st = json_only_keys(body, involvement_fields, err)) != ST_OK)
		return st;
	if ((st = json_get_string(body, "who", true, who, sizeof who, err)) != ST_OK)
		return st;
	if ((st = involvement_who_parse(who, &out->who, err)) != ST_OK)
		return st;
	if ((st = json_get_string(body, "name", false, out->name, sizeof out->name, err)) != ST_OK)
		return st;
	if ((st = json_get_time(body, "discussed_at", false, &out->discussed_at, &present, err)) !=
	    ST_OK)
		return st;
	if (!present)
		out->discussed_at = now;
	/* a record of a conversation that has not happened yet is no record */
	if (out->discussed_at > now)
		return err_set(err, ST_INVALID, "discussed_at",
		               "\"discussed_at\" is in the future");
	if ((st = json_get_bool(body, "agreed", true, &out->agreed, NULL, err)) != ST_OK)
		return st;
	return json_get_string(body, "note", false, out->note, sizeof out->note, err);
}

enum status involvement_check_episode(const struct involvement *in,
                                      const struct involvement_episode *e, struct err *err)
{
	ASSERT(e->state != NULL);
	if (strcmp(e->state, "cancelled") == 0)
		return err_set(err, ST_CONFLICT, "state",
		               "episode is \"cancelled\": the admission never happened");
	if (in->discussed_at < e->admitted_at)
		return err_set(err, ST_INVALID, "discussed_at",
		               "\"discussed_at\" is before admission");
	if (strcmp(e->state, "discharged") == 0 && in->discussed_at > e->discharged_at)
		return err_set(err, ST_INVALID, "discussed_at",
		               "\"discussed_at\" is after the discharge");
	return ST_OK;
}

/*
 * fhir.c - the FHIR R4 facade's mapping and search parsing (see fhir.h).
 *
 * Owns the shape of every FHIR resource carebridge produces and the meaning
 * of every search parameter it accepts.  Must not read a clock, the database
 * or a request: the store hands in carebridge's stored JSON, the handler the
 * query parameters and the time.
 */
#include "fhir.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbtime.h"
#include "referral.h"
#include "xmalloc.h"

static const char *const type_names[FHIR_TYPE_COUNT] = {
    [FHIR_PATIENT] = "Patient",
    [FHIR_ENCOUNTER] = "Encounter",
    [FHIR_TASK] = "Task",
    [FHIR_SERVICE_REQUEST] = "ServiceRequest",
};

const char *fhir_type_name(enum fhir_type type)
{
	ASSERT((unsigned)type < FHIR_TYPE_COUNT);
	return type_names[type];
}

/* ---- reading carebridge's stored JSON ------------------------------------------------- */

/* The string member key of o, or NULL when absent, null or not a string. */
static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && v->valuestring != NULL ? v->valuestring : NULL;
}

/* The same, NULL also for "". */
static const char *text_of(const cJSON *o, const char *key)
{
	const char *s = str_of(o, key);

	return s != NULL && s[0] != '\0' ? s : NULL;
}

static bool has_number(const cJSON *o, const char *key)
{
	return cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int int_of(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key)->valueint;
}

/* Add key: s to o when s is not NULL. */
static void add_str(cJSON *o, const char *key, const char *s)
{
	if (s != NULL)
		cJSON_AddStringToObject(o, key, s);
}

/* meta: {versionId, lastUpdated} from "version" and "last_updated". */
static void add_meta(cJSON *res, const cJSON *stored)
{
	cJSON *meta = cJSON_AddObjectToObject(res, "meta");
	char v[16];

	if (has_number(stored, "version")) {
		snprintf(v, sizeof v, "%d", int_of(stored, "version"));
		cJSON_AddStringToObject(meta, "versionId", v);
	}
	add_str(meta, "lastUpdated", text_of(stored, "last_updated"));
}

/* {"reference": "Type/id"} */
static cJSON *reference(const char *type, const char *id)
{
	cJSON *r = cJSON_CreateObject();
	char *ref = xasprintf("%s/%s", type, id);

	cJSON_AddStringToObject(r, "reference", ref);
	free(ref);
	return r;
}

/* {"system": system, "value": value} */
static cJSON *identifier(const char *system, const char *value)
{
	cJSON *i = cJSON_CreateObject();

	cJSON_AddStringToObject(i, "system", system);
	cJSON_AddStringToObject(i, "value", value);
	return i;
}

/* A CodeableConcept of one coding (display may be NULL) and text (may be NULL). */
static cJSON *concept(const char *system, const char *code, const char *display, const char *text)
{
	cJSON *c = cJSON_CreateObject();
	cJSON *coding = cJSON_AddArrayToObject(c, "coding");
	cJSON *one = cJSON_CreateObject();

	cJSON_AddStringToObject(one, "system", system);
	cJSON_AddStringToObject(one, "code", code);
	add_str(one, "display", display);
	cJSON_AddItemToArray(coding, one);
	add_str(c, "text", text);
	return c;
}

/* Append {url, value<kind>} to res's extension array (made when first needed). */
static cJSON *extension(cJSON *res, const char *url)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(res, "extension");
	cJSON *e = cJSON_CreateObject();

	if (list == NULL)
		list = cJSON_AddArrayToObject(res, "extension");
	cJSON_AddStringToObject(e, "url", url);
	cJSON_AddItemToArray(list, e);
	return e;
}

/* ---- Patient -------------------------------------------------------------------------- */

cJSON *fhir_patient_from_json(const cJSON *stored)
{
	cJSON *p = cJSON_CreateObject();
	cJSON *ids, *names, *name, *given;
	const char *v;

	cJSON_AddStringToObject(p, "resourceType", "Patient");
	add_str(p, "id", text_of(stored, "id"));
	add_meta(p, stored);
	ids = cJSON_AddArrayToObject(p, "identifier");
	if ((v = text_of(stored, "nhs_number")) != NULL)
		cJSON_AddItemToArray(ids, identifier(FHIR_SYSTEM_NHS_NUMBER, v));
	if ((v = text_of(stored, "local_id")) != NULL)
		cJSON_AddItemToArray(ids, identifier(FHIR_SYSTEM_LOCAL_ID, v));
	if (cJSON_GetArraySize(ids) == 0)
		cJSON_DeleteItemFromObjectCaseSensitive(p, "identifier");
	names = cJSON_AddArrayToObject(p, "name");
	name = cJSON_CreateObject();
	cJSON_AddStringToObject(name, "use", "official");
	add_str(name, "family", text_of(stored, "family_name"));
	if ((v = text_of(stored, "given_name")) != NULL) {
		given = cJSON_AddArrayToObject(name, "given");
		cJSON_AddItemToArray(given, cJSON_CreateString(v));
	}
	cJSON_AddItemToArray(names, name);
	/* carebridge's sex values are FHIR's administrative genders, spelt the same */
	v = text_of(stored, "sex");
	if (v != NULL && (strcmp(v, "male") == 0 || strcmp(v, "female") == 0 ||
	                  strcmp(v, "other") == 0 || strcmp(v, "unknown") == 0))
		cJSON_AddStringToObject(p, "gender", v);
	add_str(p, "birthDate", text_of(stored, "birth_date"));
	return p;
}

/* ---- Encounter ------------------------------------------------------------------------ */

const char *fhir_encounter_status(const char *state)
{
	if (state == NULL)
		return NULL;
	if (strcmp(state, "admitted") == 0)
		return "in-progress";
	if (strcmp(state, "discharged") == 0)
		return "finished";
	/* an admission cancelled is one recorded in error (HL7 A11, the API's cancel) */
	if (strcmp(state, "cancelled") == 0)
		return "entered-in-error";
	return NULL;
}

/* Encounter.location: the ward, then the bed when there is one. */
static void add_locations(cJSON *enc, const cJSON *stored, bool current)
{
	const char *ward = text_of(stored, "ward"), *bed = text_of(stored, "bed");
	const char *ward_name = text_of(stored, "ward_name");
	cJSON *list, *l, *ref;
	char *display;

	if (ward == NULL)
		return;
	list = cJSON_AddArrayToObject(enc, "location");
	l = cJSON_CreateObject();
	ref = cJSON_AddObjectToObject(l, "location");
	cJSON_AddItemToObject(ref, "identifier", identifier(FHIR_SYSTEM_WARD, ward));
	cJSON_AddStringToObject(ref, "display", ward_name != NULL ? ward_name : ward);
	cJSON_AddStringToObject(l, "status", current ? "active" : "completed");
	cJSON_AddItemToObject(l, "physicalType",
	                      concept(FHIR_SYSTEM_LOCATION_TYPE, "wa", "Ward", NULL));
	cJSON_AddItemToArray(list, l);
	if (bed == NULL)
		return;
	l = cJSON_CreateObject();
	ref = cJSON_AddObjectToObject(l, "location");
	display = xasprintf("%s bed %s", ward_name != NULL ? ward_name : ward, bed);
	cJSON_AddStringToObject(ref, "display", display);
	free(display);
	cJSON_AddStringToObject(l, "status", current ? "active" : "completed");
	cJSON_AddItemToObject(l, "physicalType",
	                      concept(FHIR_SYSTEM_LOCATION_TYPE, "bd", "Bed", NULL));
	cJSON_AddItemToArray(list, l);
}

cJSON *fhir_encounter_from_json(const cJSON *stored)
{
	cJSON *e = cJSON_CreateObject();
	const cJSON *patient = cJSON_GetObjectItemCaseSensitive(stored, "patient");
	const char *state = text_of(stored, "state"), *status = fhir_encounter_status(state);
	const char *v, *note, *pid = text_of(patient, "id");
	const cJSON *ready = cJSON_GetObjectItemCaseSensitive(stored, "ready");
	cJSON *period, *hosp;

	cJSON_AddStringToObject(e, "resourceType", "Encounter");
	add_str(e, "id", text_of(stored, "id"));
	add_meta(e, stored);
	/* NCTR and the dates of the discharge plan: carebridge's extensions */
	cJSON_AddBoolToObject(extension(e, FHIR_EXT_NCTR), "valueBoolean", cJSON_IsTrue(ready));
	if ((v = text_of(stored, "ready_at")) != NULL)
		cJSON_AddStringToObject(extension(e, FHIR_EXT_DRD), "valueDateTime", v);
	if ((v = text_of(stored, "expected_discharge_date")) != NULL)
		cJSON_AddStringToObject(extension(e, FHIR_EXT_EDD), "valueDate", v);
	if (has_number(stored, "pathway"))
		cJSON_AddNumberToObject(extension(e, FHIR_EXT_LIKELY_PATHWAY), "valueInteger",
		                        int_of(stored, "pathway"));
	if (has_number(stored, "discharge_pathway"))
		cJSON_AddNumberToObject(extension(e, FHIR_EXT_DISCHARGE_PATHWAY), "valueInteger",
		                        int_of(stored, "discharge_pathway"));
	cJSON_AddStringToObject(e, "status", status != NULL ? status : "unknown");
	cJSON_AddItemToObject(e, "class", cJSON_CreateObject());
	{
		cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "class");

		cJSON_AddStringToObject(c, "system", FHIR_SYSTEM_ACT_CODE);
		cJSON_AddStringToObject(c, "code", "IMP");
		cJSON_AddStringToObject(c, "display", "inpatient encounter");
	}
	if (pid != NULL)
		cJSON_AddItemToObject(e, "subject", reference("Patient", pid));
	period = cJSON_AddObjectToObject(e, "period");
	add_str(period, "start", text_of(stored, "admitted_at"));
	if (state != NULL && strcmp(state, "discharged") == 0)
		add_str(period, "end", text_of(stored, "discharged_at"));
	/* the coded destination (issue 15), its label as text; an old row's free text alone */
	v = text_of(stored, "discharge_destination");
	note = text_of(stored, "discharge_destination_note");
	if (v != NULL || note != NULL) {
		cJSON *disp = cJSON_CreateObject();
		const char *label = text_of(stored, "discharge_destination_label");

		hosp = cJSON_AddObjectToObject(e, "hospitalization");
		cJSON_AddItemToObject(hosp, "dischargeDisposition", disp);
		if (v != NULL) {
			cJSON *coding = cJSON_CreateObject();

			add_str(coding, "system", FHIR_SYSTEM_DESTINATION);
			add_str(coding, "code", v);
			add_str(coding, "display", label);
			cJSON_AddItemToArray(cJSON_AddArrayToObject(disp, "coding"), coding);
		}
		add_str(disp, "text", label != NULL ? label : note);
	}
	add_locations(e, stored, state != NULL && strcmp(state, "admitted") == 0);
	return e;
}

/* ---- Task ----------------------------------------------------------------------------- */

cJSON *fhir_task_from_json(const cJSON *stored)
{
	cJSON *t;
	const char *title = text_of(stored, "title"), *tpl = text_of(stored, "template_id");
	const char *disc = text_of(stored, "discipline"), *v;
	cJSON *code, *types, *restriction, *period, *owner;
	const char *record = text_of(stored, "record");

	if (record != NULL && strcmp(record, "referral") == 0)
		return fhir_referral_task_from_json(stored);
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "resourceType", "Task");
	add_str(t, "id", text_of(stored, "id"));
	add_meta(t, stored);
	/* carebridge's task statuses are a subset of FHIR's, spelt the same (DOMAIN.md) */
	add_str(t, "status", text_of(stored, "status"));
	cJSON_AddStringToObject(t, "intent", "order");
	if (tpl != NULL) {
		code = concept(FHIR_SYSTEM_TASK_TEMPLATE, tpl, title, title);
	} else {
		code = cJSON_CreateObject();
		add_str(code, "text", title);
	}
	cJSON_AddItemToObject(t, "code", code);
	add_str(t, "description", title);
	if ((v = text_of(stored, "patient_id")) != NULL)
		cJSON_AddItemToObject(t, "for", reference("Patient", v));
	if ((v = text_of(stored, "episode_id")) != NULL)
		cJSON_AddItemToObject(t, "encounter", reference("Encounter", v));
	if ((v = text_of(stored, "completed_at")) != NULL) {
		period = cJSON_AddObjectToObject(t, "executionPeriod");
		cJSON_AddStringToObject(period, "end", v);
	}
	add_str(t, "authoredOn", text_of(stored, "created_at"));
	add_str(t, "lastModified", text_of(stored, "updated_at"));
	if (disc != NULL) {
		const char *dt = text_of(stored, "discipline_title");

		types = cJSON_AddArrayToObject(t, "performerType");
		cJSON_AddItemToArray(
		    types, concept(FHIR_SYSTEM_DISCIPLINE, disc, dt, dt != NULL ? dt : disc));
	}
	if ((v = text_of(stored, "assignee")) != NULL) {
		owner = cJSON_AddObjectToObject(t, "owner");
		cJSON_AddItemToObject(owner, "identifier", identifier(FHIR_SYSTEM_USER, v));
		add_str(owner, "display", text_of(stored, "assignee_name"));
	}
	if ((v = text_of(stored, "note")) != NULL) {
		cJSON *notes = cJSON_AddArrayToObject(t, "note"), *n = cJSON_CreateObject();

		cJSON_AddStringToObject(n, "text", v);
		cJSON_AddItemToArray(notes, n);
	}
	if ((v = text_of(stored, "due_at")) != NULL) {
		restriction = cJSON_AddObjectToObject(t, "restriction");
		period = cJSON_AddObjectToObject(restriction, "period");
		cJSON_AddStringToObject(period, "end", v);
	}
	return t;
}

/* ---- ServiceRequest and the referral's Task ------------------------------------------- */

const char *fhir_service_request_status(const char *state)
{
	static const struct {
		const char *state;
		const char *status;
	} map[] = {
	    /* the day-one notice, still the trust's to complete and send */
	    {"notified", "draft"},
	    {"referred", "active"},
	    /* the hub waits for the answer to its question */
	    {"info_requested", "on-hold"},
	    {"accepted", "active"},
	    {"sourced", "active"},
	    {"start_confirmed", "active"},
	    /* the hub will not act on it; a declined one may be sent again (a new request) */
	    {"declined", "revoked"},
	    {"completed", "completed"},
	    {"withdrawn", "revoked"},
	};

	for (size_t i = 0; state != NULL && i < sizeof map / sizeof map[0]; i++) {
		if (strcmp(map[i].state, state) == 0)
			return map[i].status;
	}
	return NULL;
}

/* A reference to an organisation ({id, code, name} of carebridge) by its identifier. */
static cJSON *organisation_ref(const cJSON *org)
{
	const char *code = text_of(org, "code");
	cJSON *r;

	if (code == NULL)
		return NULL;
	r = cJSON_CreateObject();
	cJSON_AddItemToObject(r, "type", cJSON_CreateString("Organization"));
	cJSON_AddItemToObject(r, "identifier", identifier(FHIR_SYSTEM_ORGANISATION, code));
	add_str(r, "display", text_of(org, "name"));
	return r;
}

/* Add key: the reference to org when there is one. */
static void add_organisation(cJSON *res, const char *key, const cJSON *org)
{
	cJSON *r = organisation_ref(org);

	if (r != NULL)
		cJSON_AddItemToObject(res, key, r);
}

/* The subject, encounter and requester every referral resource carries. */
static void add_referral_context(cJSON *res, const cJSON *stored, const char *subject_key)
{
	const char *v;

	if ((v = text_of(stored, "patient_id")) != NULL)
		cJSON_AddItemToObject(res, subject_key, reference("Patient", v));
	if ((v = text_of(stored, "episode_id")) != NULL)
		cJSON_AddItemToObject(res, "encounter", reference("Encounter", v));
}

cJSON *fhir_service_request_from_json(const cJSON *stored)
{
	cJSON *sr = cJSON_CreateObject(), *performers, *r;
	const cJSON *service = cJSON_GetObjectItemCaseSensitive(stored, "service");
	const char *state = text_of(stored, "state");
	const char *status = fhir_service_request_status(state), *v, *kind;

	cJSON_AddStringToObject(sr, "resourceType", "ServiceRequest");
	add_str(sr, "id", text_of(stored, "id"));
	add_meta(sr, stored);
	cJSON_AddStringToObject(sr, "status", status != NULL ? status : "unknown");
	cJSON_AddStringToObject(sr, "intent", "order");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(sr, "category"),
	                     concept(FHIR_SYSTEM_REFERRAL_CATEGORY, "social-care",
	                             "Social care referral", "Referral to the care transfer hub"));
	/* what is asked for is known once the hub has sourced a service */
	if ((kind = text_of(service, "kind")) != NULL)
		cJSON_AddItemToObject(
		    sr, "code",
		    concept(FHIR_SYSTEM_SERVICE_KIND, kind, NULL, text_of(service, "detail")));
	add_referral_context(sr, stored, "subject");
	if ((v = text_of(service, "start_date")) != NULL)
		cJSON_AddStringToObject(sr, "occurrenceDateTime", v);
	v = text_of(stored, "referred_at");
	add_str(sr, "authoredOn", v != NULL ? v : text_of(stored, "notified_at"));
	add_organisation(sr, "requester", cJSON_GetObjectItemCaseSensitive(stored, "trust"));
	performers = cJSON_CreateArray();
	if ((r = organisation_ref(cJSON_GetObjectItemCaseSensitive(stored, "organisation"))) !=
	    NULL)
		cJSON_AddItemToArray(performers, r);
	if ((r = organisation_ref(cJSON_GetObjectItemCaseSensitive(service, "provider"))) != NULL)
		cJSON_AddItemToArray(performers, r);
	if (cJSON_GetArraySize(performers) > 0)
		cJSON_AddItemToObject(sr, "performer", performers);
	else
		cJSON_Delete(performers);
	if ((v = text_of(stored, "needs")) != NULL) {
		cJSON *n = cJSON_CreateObject();

		cJSON_AddStringToObject(n, "text", v);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(sr, "note"), n);
	}
	return sr;
}

cJSON *fhir_referral_task_from_json(const cJSON *stored)
{
	cJSON *t = cJSON_CreateObject(), *period;
	const char *id = text_of(stored, "id"), *state = text_of(stored, "state"), *v;
	enum referral_state rs;

	cJSON_AddStringToObject(t, "resourceType", "Task");
	if (id != NULL) {
		char *tid = xasprintf(FHIR_REFERRAL_TASK_PREFIX "%s", id);

		cJSON_AddStringToObject(t, "id", tid);
		free(tid);
	}
	add_meta(t, stored);
	/* lib/referral.c's table, which migrations/0028 cb_referral_task_status() repeats */
	cJSON_AddStringToObject(
	    t, "status",
	    referral_state_parse(state, &rs, NULL) == ST_OK ? referral_task_status(rs) : "draft");
	if ((v = text_of(stored, "decline_reason")) != NULL ||
	    (v = text_of(stored, "withdraw_reason")) != NULL) {
		cJSON *reason = cJSON_AddObjectToObject(t, "statusReason");

		cJSON_AddStringToObject(reason, "text", v);
	}
	if (state != NULL)
		cJSON_AddItemToObject(t, "businessStatus",
		                      concept(FHIR_SYSTEM_REFERRAL_STATE, state, NULL, state));
	cJSON_AddStringToObject(t, "intent", "order");
	cJSON_AddItemToObject(
	    t, "code",
	    concept(FHIR_SYSTEM_TASK_CODE, "fulfill", "Fulfill the focal request", NULL));
	cJSON_AddStringToObject(t, "description", "Referral to the care transfer hub");
	if (id != NULL)
		cJSON_AddItemToObject(t, "focus", reference("ServiceRequest", id));
	add_referral_context(t, stored, "for");
	if (text_of(stored, "accepted_at") != NULL || text_of(stored, "closed_at") != NULL) {
		period = cJSON_AddObjectToObject(t, "executionPeriod");
		add_str(period, "start", text_of(stored, "accepted_at"));
		add_str(period, "end", text_of(stored, "closed_at"));
	}
	add_str(t, "authoredOn", text_of(stored, "notified_at"));
	add_str(t, "lastModified", text_of(stored, "updated_at"));
	add_organisation(t, "requester", cJSON_GetObjectItemCaseSensitive(stored, "trust"));
	add_organisation(t, "owner", cJSON_GetObjectItemCaseSensitive(stored, "organisation"));
	return t;
}

/* ---- the partner's cut ---------------------------------------------------------------- */

/* Copy from's key into to, when present. */
static void keep_key(cJSON *to, const cJSON *from, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, key);

	if (v != NULL)
		cJSON_AddItemToObject(to, key, cJSON_Duplicate(v, true));
}

/* Copy the items of from's array key for which fits() holds, when any does. */
static void keep_items(cJSON *to, const cJSON *from, const char *key,
                       bool (*fits)(const cJSON *item))
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(from, key), *item;
	cJSON *out = cJSON_CreateArray();

	cJSON_ArrayForEach(item, list)
	{
		if (fits(item))
			cJSON_AddItemToArray(out, cJSON_Duplicate(item, true));
	}
	if (cJSON_GetArraySize(out) > 0)
		cJSON_AddItemToObject(to, key, out);
	else
		cJSON_Delete(out);
}

static bool is_nhs_number(const cJSON *identifier_item)
{
	const char *system = str_of(identifier_item, "system");

	return system != NULL && strcmp(system, FHIR_SYSTEM_NHS_NUMBER) == 0;
}

/* The discharge plan's extensions: what the referral's view shows of the episode. */
static bool is_plan_extension(const cJSON *ext)
{
	static const char *const urls[] = {FHIR_EXT_NCTR, FHIR_EXT_DRD, FHIR_EXT_EDD,
	                                   FHIR_EXT_LIKELY_PATHWAY, FHIR_EXT_DISCHARGE_PATHWAY};
	const char *url = str_of(ext, "url");

	for (size_t i = 0; url != NULL && i < sizeof urls / sizeof urls[0]; i++) {
		if (strcmp(url, urls[i]) == 0)
			return true;
	}
	return false;
}

/* The ward, not the bed: the location whose reference carries the ward identifier. */
static bool is_ward_location(const cJSON *loc)
{
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(loc, "location");
	const char *system = str_of(cJSON_GetObjectItemCaseSensitive(ref, "identifier"), "system");

	return system != NULL && strcmp(system, FHIR_SYSTEM_WARD) == 0;
}

cJSON *fhir_partner_cut(enum fhir_type type, cJSON *resource)
{
	static const char *const patient_keys[] = {"resourceType", "id",        "meta", "name",
	                                           "gender",       "birthDate", NULL};
	static const char *const encounter_keys[] = {"resourceType", "id",      "meta",   "status",
	                                             "class",        "subject", "period", NULL};
	const char *const *keys = NULL;
	const char *record_id;
	cJSON *cut;

	switch (type) {
	case FHIR_PATIENT:
		keys = patient_keys;
		break;
	case FHIR_ENCOUNTER:
		keys = encounter_keys;
		break;
	case FHIR_SERVICE_REQUEST:
		return resource;
	case FHIR_TASK:
		/* a referral's Task is the partner's; a discipline task is the trust's */
		record_id = str_of(resource, "id");
		if (record_id != NULL && strncmp(record_id, FHIR_REFERRAL_TASK_PREFIX,
		                                 strlen(FHIR_REFERRAL_TASK_PREFIX)) == 0)
			return resource;
		cJSON_Delete(resource);
		return NULL;
	}
	ASSERT(keys != NULL);
	cut = cJSON_CreateObject();
	for (size_t i = 0; keys[i] != NULL; i++)
		keep_key(cut, resource, keys[i]);
	if (type == FHIR_PATIENT) {
		keep_items(cut, resource, "identifier", is_nhs_number);
	} else {
		keep_items(cut, resource, "extension", is_plan_extension);
		keep_items(cut, resource, "location", is_ward_location);
	}
	cJSON_Delete(resource);
	return cut;
}

cJSON *fhir_resource_from_json(enum fhir_type type, const cJSON *stored, enum fhir_view view)
{
	cJSON *res = NULL;

	switch (type) {
	case FHIR_PATIENT:
		res = fhir_patient_from_json(stored);
		break;
	case FHIR_ENCOUNTER:
		res = fhir_encounter_from_json(stored);
		break;
	case FHIR_TASK:
		res = fhir_task_from_json(stored);
		break;
	case FHIR_SERVICE_REQUEST:
		res = fhir_service_request_from_json(stored);
		break;
	}
	ASSERT(res != NULL);
	return view == FHIR_VIEW_PARTNER ? fhir_partner_cut(type, res) : res;
}

/* ---- Bundle, OperationOutcome, CapabilityStatement -------------------------------------- */

/* "2026-12-03T10:00:00Z" */
static void instant(int64_t t, char out[TIME_FORMAT_LEN])
{
	time_format(t, out);
}

static void add_link(cJSON *links, const char *relation, const char *url)
{
	cJSON *l = cJSON_CreateObject();

	cJSON_AddStringToObject(l, "relation", relation);
	cJSON_AddStringToObject(l, "url", url);
	cJSON_AddItemToArray(links, l);
}

cJSON *fhir_bundle_new(int64_t total, const char *self, const char *next, int64_t now)
{
	cJSON *b = cJSON_CreateObject();
	cJSON *links;
	char ts[TIME_FORMAT_LEN];

	cJSON_AddStringToObject(b, "resourceType", "Bundle");
	instant(now, ts);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(b, "meta"), "lastUpdated", ts);
	cJSON_AddStringToObject(b, "type", "searchset");
	cJSON_AddNumberToObject(b, "total", (double)total);
	links = cJSON_AddArrayToObject(b, "link");
	add_link(links, "self", self);
	if (next != NULL)
		add_link(links, "next", next);
	cJSON_AddArrayToObject(b, "entry");
	return b;
}

void fhir_bundle_add(cJSON *bundle, const char *base, cJSON *resource)
{
	cJSON *entries = cJSON_GetObjectItemCaseSensitive(bundle, "entry");
	cJSON *e = cJSON_CreateObject(), *search;
	char *url =
	    xasprintf("%s/%s/%s", base, str_of(resource, "resourceType"), str_of(resource, "id"));

	ASSERT(entries != NULL);
	cJSON_AddStringToObject(e, "fullUrl", url);
	free(url);
	cJSON_AddItemToObject(e, "resource", resource);
	search = cJSON_AddObjectToObject(e, "search");
	cJSON_AddStringToObject(search, "mode", "match");
	cJSON_AddItemToArray(entries, e);
}

/* The OperationOutcome issue type for a status (the IssueType value set). */
static const char *issue_code(enum status st)
{
	switch (st) {
	case ST_INVALID:
		return "invalid";
	case ST_UNAUTHORIZED:
		return "login";
	case ST_FORBIDDEN:
		return "forbidden";
	case ST_NOT_FOUND:
		return "not-found";
	case ST_CONFLICT:
	case ST_PRECONDITION:
		return "conflict";
	case ST_PRECONDITION_REQUIRED: /* no FHIR route writes; for completeness */
		return "required";
	case ST_TOO_LARGE:
		return "too-costly";
	case ST_LOCKED:
		return "lock-error";
	case ST_TOO_MANY:
		return "throttled";
	case ST_UNAVAILABLE:
		return "transient";
	case ST_OK:
	case ST_INTERNAL:
		break;
	}
	return "exception";
}

cJSON *fhir_operation_outcome(enum status st, const char *code, const char *field,
                              const char *message)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *issues, *i = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "resourceType", "OperationOutcome");
	issues = cJSON_AddArrayToObject(o, "issue");
	cJSON_AddStringToObject(i, "severity", "error");
	cJSON_AddStringToObject(i, "code", code != NULL ? code : issue_code(st));
	if (message != NULL && message[0] != '\0')
		cJSON_AddStringToObject(i, "diagnostics", message);
	if (field != NULL && field[0] != '\0') {
		cJSON *ex = cJSON_AddArrayToObject(i, "expression");

		cJSON_AddItemToArray(ex, cJSON_CreateString(field));
	}
	cJSON_AddItemToArray(issues, i);
	return o;
}

/* One searchParam of a CapabilityStatement resource. */
static void search_param(cJSON *list, const char *name, const char *type, const char *doc)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "name", name);
	cJSON_AddStringToObject(p, "type", type);
	cJSON_AddStringToObject(p, "documentation", doc);
	cJSON_AddItemToArray(list, p);
}

cJSON *fhir_capability_statement(const char *base, int64_t now)
{
	static const char *const docs[FHIR_TYPE_COUNT] = {
	    [FHIR_PATIENT] = "A patient of an episode the caller may read",
	    [FHIR_ENCOUNTER] = "An inpatient episode: status, period, ward, bed, NCTR, DRD",
	    [FHIR_TASK] = "A discipline task of an episode (ward, OT, physio, social work), or a "
			  "referral's Task (id referral-<referral id>)",
	    [FHIR_SERVICE_REQUEST] =
		"A referral to the care transfer hub (social care, discharge to "
		"assess)",
	};
	cJSON *c = cJSON_CreateObject();
	cJSON *rest, *resources, *formats, *impl, *sec;
	char ts[TIME_FORMAT_LEN];

	instant(now, ts);
	cJSON_AddStringToObject(c, "resourceType", "CapabilityStatement");
	cJSON_AddStringToObject(c, "name", "CarebridgeFhirFacade");
	cJSON_AddStringToObject(c, "title", "carebridge FHIR R4 read and search");
	cJSON_AddStringToObject(c, "status", "active");
	cJSON_AddStringToObject(c, "date", ts);
	cJSON_AddStringToObject(c, "publisher", "carebridge");
	cJSON_AddStringToObject(c, "kind", "instance");
	impl = cJSON_AddObjectToObject(c, "implementation");
	cJSON_AddStringToObject(impl, "description", "carebridge discharge coordination");
	cJSON_AddStringToObject(impl, "url", base);
	cJSON_AddStringToObject(c, "fhirVersion", "4.0.1");
	formats = cJSON_AddArrayToObject(c, "format");
	cJSON_AddItemToArray(formats, cJSON_CreateString("json"));
	cJSON_AddItemToArray(formats, cJSON_CreateString("application/fhir+json"));
	rest = cJSON_CreateObject();
	cJSON_AddStringToObject(rest, "mode", "server");
	sec = cJSON_AddObjectToObject(rest, "security");
	cJSON_AddStringToObject(sec, "description",
	                        "The caller's carebridge API token (Authorization: Bearer) or "
	                        "session, with the same access rules as the JSON API");
	resources = cJSON_AddArrayToObject(rest, "resource");
	for (int t = 0; t < FHIR_TYPE_COUNT; t++) {
		cJSON *r = cJSON_CreateObject(), *inter, *params, *i;

		cJSON_AddStringToObject(r, "type", type_names[t]);
		cJSON_AddStringToObject(r, "documentation", docs[t]);
		inter = cJSON_AddArrayToObject(r, "interaction");
		i = cJSON_CreateObject();
		cJSON_AddStringToObject(i, "code", "read");
		cJSON_AddItemToArray(inter, i);
		i = cJSON_CreateObject();
		cJSON_AddStringToObject(i, "code", "search-type");
		cJSON_AddItemToArray(inter, i);
		params = cJSON_AddArrayToObject(r, "searchParam");
		search_param(params, "_id", "token", "The logical id");
		search_param(params, "_lastUpdated", "date",
		             "When the resource last changed: eq, gt, ge, lt, le; a date without "
		             "a time is a Europe/London day");
		if (t == FHIR_PATIENT) {
			search_param(params, "identifier", "token",
			             "NHS number (" FHIR_SYSTEM_NHS_NUMBER
			             "|NNNNNNNNNN) or hospital number (" FHIR_SYSTEM_LOCAL_ID
			             "|...)");
		} else {
			search_param(params, "patient", "reference", "Patient/ID or ID");
			search_param(params, "status", "token",
			             "Status codes, comma-separated (any of them)");
		}
		cJSON_AddItemToArray(resources, r);
	}
	cJSON_AddItemToArray(cJSON_AddArrayToObject(c, "rest"), rest);
	return c;
}

/* ---- search parameters ----------------------------------------------------------------- */

/* A UUID in canonical text form (any case). */
static bool is_uuid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

/* Copy a UUID lowered into out[37]. */
static void uuid_copy(char out[37], const char *s)
{
	for (int i = 0; i < 36; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[36] = '\0';
}

enum fhir_task_kind fhir_task_id_parse(const char *id, char uuid_out[37])
{
	static const char prefix[] = FHIR_REFERRAL_TASK_PREFIX;
	enum fhir_task_kind kind = FHIR_TASK_DISCIPLINE;

	if (id == NULL)
		return FHIR_TASK_NONE;
	if (strncmp(id, prefix, sizeof prefix - 1) == 0) {
		id += sizeof prefix - 1;
		kind = FHIR_TASK_REFERRAL;
	}
	if (!is_uuid(id))
		return FHIR_TASK_NONE;
	uuid_copy(uuid_out, id);
	return kind;
}

/* n decimal digits at *p into *v, advancing *p; false if any is not a digit. */
static bool digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return true;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/*
 * A FHIR search date (no prefix) as the instants [*lo, *hi) in microseconds
 * it covers at its precision.  False when it is not one.
 */
static bool date_range(const char *s, int64_t *lo, int64_t *hi)
{
	const char *p = s;
	int y, mo = 1, d = 1, h = 0, mi = 0, sec = 0, oh = 0, om = 0;
	int64_t unit_us, frac_us = 0, t;

	if (!digits(&p, 4, &y) || y < 1)
		return false;
	if (*p == '\0') {
		*lo = london_midnight_start(date_from_ymd(y, 1, 1)) * INT64_C(1000000);
		*hi = london_midnight_start(date_from_ymd(y + 1, 1, 1)) * INT64_C(1000000);
		return y < 9999;
	}
	if (*p++ != '-' || !digits(&p, 2, &mo) || mo < 1 || mo > 12)
		return false;
	if (*p == '\0') {
		*lo = london_midnight_start(date_from_ymd(y, mo, 1)) * INT64_C(1000000);
		*hi = london_midnight_start(mo == 12 ? date_from_ymd(y + 1, 1, 1)
		                                     : date_from_ymd(y, mo + 1, 1)) *
		      INT64_C(1000000);
		return y < 9999;
	}
	if (*p++ != '-' || !digits(&p, 2, &d) || !date_is_valid(y, mo, d))
		return false;
	if (*p == '\0') {
		int32_t day = date_from_ymd(y, mo, d);

		*lo = london_midnight_start(day) * INT64_C(1000000);
		*hi = london_midnight_start(day + 1) * INT64_C(1000000);
		return y < 9999;
	}
	if (*p++ != 'T' || !digits(&p, 2, &h) || h > 23 || *p++ != ':' || !digits(&p, 2, &mi) ||
	    mi > 59)
		return false;
	unit_us = INT64_C(60000000);
	if (*p == ':') {
		p++;
		if (!digits(&p, 2, &sec) || sec > 59)
			return false;
		unit_us = INT64_C(1000000);
		if (*p == '.') {
			int n = 0;

			p++;
			for (; isdigit((unsigned char)*p); p++, n++) {
				if (n < 6) {
					frac_us = frac_us * 10 + (*p - '0');
					unit_us /= 10;
				}
			}
			if (n == 0)
				return false;
			for (int k = n; k < 6; k++)
				frac_us *= 10;
		}
	}
	/* a time without a zone is ambiguous: FHIR requires one */
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;

		if (!digits(&p, 2, &oh) || oh > 14 || *p++ != ':' || !digits(&p, 2, &om) || om > 59)
			return false;
		oh *= sign;
		om *= sign;
	} else {
		return false;
	}
	if (*p != '\0')
		return false;
	t = (int64_t)date_from_ymd(y, mo, d) * CBTIME_DAY_SECONDS + h * 3600 + mi * 60 + sec -
	    (oh * 3600 + om * 60);
	*lo = t * INT64_C(1000000) + frac_us;
	*hi = *lo + unit_us;
	return true;
}

/* Microseconds since the epoch as a timestamptz literal. */
static void ts_literal(int64_t us, char out[FHIR_TS_LEN])
{
	int64_t secs = floor_div(us, 1000000), frac = us - secs * 1000000;
	int64_t day = floor_div(secs, CBTIME_DAY_SECONDS), in_day = secs - day * CBTIME_DAY_SECONDS;
	int y, m, d;

	date_to_ymd((int32_t)day, &y, &m, &d);
	snprintf(out, FHIR_TS_LEN, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", y, m, d,
	         (int)(in_day / 3600), (int)(in_day / 60 % 60), (int)(in_day % 60), (int)frac);
}

/* Narrow [*from, *to) by one _lastUpdated value. */
static enum status last_updated(const char *v, bool *has_from, int64_t *from, bool *has_to,
                                int64_t *to, struct err *err)
{
	char prefix[3] = "eq";
	int64_t lo, hi, nlo = 0, nhi = 0;
	bool set_lo = false, set_hi = false;

	if (isalpha((unsigned char)v[0]) && isalpha((unsigned char)v[1])) {
		prefix[0] = v[0];
		prefix[1] = v[1];
		v += 2;
	}
	if (!date_range(v, &lo, &hi))
		return err_set(err, ST_INVALID, "_lastUpdated",
		               "\"_lastUpdated\" is not a valid FHIR date: give YYYY, YYYY-MM, "
		               "YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss[.fff]] with a zone");
	if (strcmp(prefix, "eq") == 0) {
		nlo = lo;
		nhi = hi;
		set_lo = set_hi = true;
	} else if (strcmp(prefix, "gt") == 0) {
		nlo = hi;
		set_lo = true;
	} else if (strcmp(prefix, "ge") == 0) {
		nlo = lo;
		set_lo = true;
	} else if (strcmp(prefix, "lt") == 0) {
		nhi = lo;
		set_hi = true;
	} else if (strcmp(prefix, "le") == 0) {
		nhi = hi;
		set_hi = true;
	} else {
		return err_set(err, ST_INVALID, "_lastUpdated",
		               "\"_lastUpdated\" prefix \"%s\" is not supported: use eq, gt, ge, "
		               "lt or le",
		               prefix);
	}
	if (set_lo && (!*has_from || nlo > *from)) {
		*from = nlo;
		*has_from = true;
	}
	if (set_hi && (!*has_to || nhi < *to)) {
		*to = nhi;
		*has_to = true;
	}
	return ST_OK;
}

/* A reference to a patient: "Patient/ID" or "ID"; false when not a UUID. */
static bool patient_ref(const char *v, char out[37])
{
	static const char prefix[] = "Patient/";

	if (strncmp(v, prefix, sizeof prefix - 1) == 0)
		v += sizeof prefix - 1;
	if (!is_uuid(v))
		return false;
	uuid_copy(out, v);
	return true;
}

/* FHIR status codes and the carebridge state each is; NULL: valid but never stored. */
struct status_map {
	const char *fhir;
	const char *stored;
};

static const struct status_map encounter_states[] = {
    {"planned", NULL},   {"arrived", NULL},
    {"triaged", NULL},   {"in-progress", "admitted"},
    {"onleave", NULL},   {"finished", "discharged"},
    {"cancelled", NULL}, {"entered-in-error", "cancelled"},
    {"unknown", NULL},   {NULL, NULL},
};

/*
 * Task: the codes themselves (a discipline task stores its FHIR status; a
 * referral's Task has cb_referral_task_status() of its state), so each one
 * may match; "received", "failed" and "entered-in-error" never do.
 */
static const struct status_map task_states[] = {
    {"draft", "draft"},
    {"requested", "requested"},
    {"received", "received"},
    {"accepted", "accepted"},
    {"rejected", "rejected"},
    {"ready", "ready"},
    {"cancelled", "cancelled"},
    {"in-progress", "in-progress"},
    {"on-hold", "on-hold"},
    {"failed", "failed"},
    {"completed", "completed"},
    {"entered-in-error", "entered-in-error"},
    {NULL, NULL},
};

/* ServiceRequest.status codes (request-status); the referral states are
 * fhir_service_request_status's. */
static const char *const request_codes[] = {
    "draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown", NULL,
};

/* Add state to states[*n] unless it is there or the list is full. */
static void add_state(const char **states, int *n, const char *state)
{
	for (int i = 0; i < *n; i++) {
		if (strcmp(states[i], state) == 0)
			return;
	}
	if (*n < FHIR_STATES_MAX)
		states[(*n)++] = state;
}

/* The carebridge states of FHIR status code tok of type into states; false: not a code. */
static bool code_states(enum fhir_type type, const char *tok, const char **states, int *n)
{
	const struct status_map *m;

	if (type == FHIR_SERVICE_REQUEST) {
		size_t i;

		for (i = 0; request_codes[i] != NULL && strcmp(request_codes[i], tok) != 0; i++)
			;
		if (request_codes[i] == NULL)
			return false;
		for (int r = 0; r < REFERRAL_STATE_COUNT; r++) {
			const char *name = referral_state_name((enum referral_state)r);

			if (strcmp(fhir_service_request_status(name), tok) == 0)
				add_state(states, n, name);
		}
		return true;
	}
	for (m = type == FHIR_ENCOUNTER ? encounter_states : task_states;
	     m->fhir != NULL && strcmp(m->fhir, tok) != 0; m++)
		;
	if (m->fhir == NULL)
		return false;
	if (m->stored != NULL)
		add_state(states, n, m->stored);
	return true;
}

/* status=a,b,c: the carebridge states of the codes (OR). */
static enum status status_list(enum fhir_type type, const char *v, struct fhir_search *s,
                               struct err *err)
{
	char buf[FHIR_VALUE_MAX], *save = NULL, *tok;
	int nstates = 0;
	const char *states[FHIR_STATES_MAX];

	snprintf(buf, sizeof buf, "%s", v);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (!code_states(type, tok, states, &nstates))
			return err_set(err, ST_INVALID, "status",
			               "\"status\" code \"%.40s\" is not a %s status", tok,
			               type_names[type]);
	}
	/* a second status= narrows (AND): keep the states both allow */
	if (s->has_status) {
		int k = 0;

		for (int i = 0; i < s->nstates; i++) {
			for (int j = 0; j < nstates; j++) {
				if (strcmp(s->states[i], states[j]) == 0) {
					s->states[k++] = s->states[i];
					break;
				}
			}
		}
		s->nstates = k;
	} else {
		memcpy(s->states, states, sizeof states[0] * (size_t)nstates);
		s->nstates = nstates;
	}
	s->has_status = true;
	if (s->nstates == 0)
		s->matches_nothing = true;
	return ST_OK;
}

/* A second value of a single-valued filter: both must hold (AND), so differing ones match none. */
static void set_once(char *dst, size_t size, const char *v, bool *nothing)
{
	if (dst[0] != '\0' && strcmp(dst, v) != 0)
		*nothing = true;
	snprintf(dst, size, "%s", v);
}

static enum status identifier_param(const char *v, const char *canonical, struct fhir_search *s,
                                    struct err *err)
{
	const char *bar = strchr(v, '|');
	const char *kind = "any", *value = v;
	char *local =
	    xasprintf("%s/Id/hospital-number", canonical != NULL ? canonical : FHIR_CB_BASE);

	if (bar != NULL) {
		size_t n = (size_t)(bar - v);

		value = bar + 1;
		if (n == 0)
			kind = "any";
		else if (n == strlen(FHIR_SYSTEM_NHS_NUMBER) &&
		         strncmp(v, FHIR_SYSTEM_NHS_NUMBER, n) == 0)
			kind = "nhs";
		else if (n == strlen(local) && strncmp(v, local, n) == 0)
			kind = "local";
		else {
			err_set(err, ST_INVALID, "identifier",
			        "\"identifier\" system is not one of " FHIR_SYSTEM_NHS_NUMBER
			        " or %s",
			        local);
			free(local);
			return ST_INVALID;
		}
	}
	free(local);
	if (value[0] == '\0')
		return err_set(err, ST_INVALID, "identifier", "\"identifier\" has no value");
	if (s->identifier_kind != NULL && strcmp(s->identifier_kind, kind) != 0)
		s->matches_nothing = true;
	s->identifier_kind = kind;
	set_once(s->identifier, sizeof s->identifier, value, &s->matches_nothing);
	return ST_OK;
}

/* Keep name=value for the paging links. */
static enum status keep(struct fhir_search *s, const char *name, const char *value, struct err *err)
{
	if (s->nkept >= FHIR_SEARCH_MAX)
		return err_set(err, ST_INVALID, name, "more than %d search parameters",
		               FHIR_SEARCH_MAX);
	snprintf(s->kept_names[s->nkept], sizeof s->kept_names[0], "%s", name);
	snprintf(s->kept_values[s->nkept], sizeof s->kept_values[0], "%s", value);
	s->nkept++;
	return ST_OK;
}

/* Whether k is a search parameter of type (the paging ones are handled apart). */
static bool param_is_known(enum fhir_type type, const char *k)
{
	if (strcmp(k, "_id") == 0 || strcmp(k, "_lastUpdated") == 0)
		return true;
	if (type == FHIR_PATIENT)
		return strcmp(k, "identifier") == 0;
	return strcmp(k, "patient") == 0 || strcmp(k, "status") == 0;
}

enum status fhir_search_parse(enum fhir_type type, const char *const *names,
                              const char *const *values, int n, const char *canonical,
                              struct fhir_search *out, struct err *err)
{
	bool has_from = false, has_to = false;
	int64_t from = 0, to = 0;
	enum status st = ST_OK;

	ASSERT((unsigned)type < FHIR_TYPE_COUNT);
	memset(out, 0, sizeof *out);
	out->type = type;
	out->count = FHIR_COUNT_DEFAULT;
	for (int i = 0; i < n && st == ST_OK; i++) {
		const char *k = names[i], *v = values[i];

		if (strlen(v) >= FHIR_VALUE_MAX)
			return err_set(err, ST_INVALID, k, "\"%.32s\" is too long", k);
		if (strcmp(k, "_count") == 0) {
			char *end;
			long c = strtol(v, &end, 10);

			if (v[0] == '\0')
				continue;
			if (end == v || *end != '\0' || c < 1)
				return err_set(err, ST_INVALID, "_count",
				               "\"_count\" must be a whole number from 1");
			out->count = c > FHIR_COUNT_MAX ? FHIR_COUNT_MAX : (int)c;
			continue;
		}
		if (strcmp(k, "_cursor") == 0) {
			char id[37];

			if (v[0] == '\0')
				continue;
			/* Task pages run over both id forms (discipline tasks, then referrals) */
			if (type == FHIR_TASK && fhir_task_id_parse(v, id) == FHIR_TASK_REFERRAL)
				snprintf(out->cursor, sizeof out->cursor,
				         FHIR_REFERRAL_TASK_PREFIX "%s", id);
			else if (!is_uuid(v))
				return err_set(err, ST_INVALID, "_cursor",
				               "\"_cursor\" is not a page of this server");
			else
				uuid_copy(out->cursor, v);
			continue;
		}
		if (strcmp(k, "_format") == 0) {
			if (v[0] != '\0' && strcmp(v, "json") != 0 &&
			    strcmp(v, "application/json") != 0 &&
			    strcmp(v, "application/fhir+json") != 0)
				return err_set(err, ST_INVALID, "_format",
				               "\"_format\" must be json: only JSON is served");
			continue;
		}
		if (v[0] == '\0' && param_is_known(type, k))
			continue; /* FHIR: a parameter with an empty value is ignored */
		if (strcmp(k, "_id") == 0) {
			char id[37], fid[FHIR_ID_MAX];

			if (type == FHIR_TASK && fhir_task_id_parse(v, id) == FHIR_TASK_REFERRAL) {
				snprintf(fid, sizeof fid, FHIR_REFERRAL_TASK_PREFIX "%s", id);
				set_once(out->id, sizeof out->id, fid, &out->matches_nothing);
			} else if (!is_uuid(v)) {
				out->matches_nothing = true; /* no resource has such an id */
			} else {
				uuid_copy(id, v);
				set_once(out->id, sizeof out->id, id, &out->matches_nothing);
			}
		} else if (strcmp(k, "_lastUpdated") == 0) {
			st = last_updated(v, &has_from, &from, &has_to, &to, err);
		} else if (type == FHIR_PATIENT && strcmp(k, "identifier") == 0) {
			st = identifier_param(v, canonical, out, err);
		} else if (type != FHIR_PATIENT && strcmp(k, "patient") == 0) {
			char id[37];

			if (!patient_ref(v, id))
				out->matches_nothing = true;
			else
				set_once(out->patient, sizeof out->patient, id,
				         &out->matches_nothing);
		} else if (type != FHIR_PATIENT && strcmp(k, "status") == 0) {
			st = status_list(type, v, out, err);
		} else if (strchr(k, ':') != NULL) {
			return err_set(err, ST_INVALID, k,
			               "search parameter \"%.40s\": modifiers are not supported",
			               k);
		} else {
			return err_set(err, ST_INVALID, k,
			               "unknown search parameter \"%.40s\" for %s", k,
			               type_names[type]);
		}
		if (st == ST_OK)
			st = keep(out, k, v, err);
	}
	if (st != ST_OK)
		return st;
	if (has_from)
		ts_literal(from, out->from);
	if (has_to)
		ts_literal(to, out->to);
	if (has_from && has_to && from >= to)
		out->matches_nothing = true;
	return ST_OK;
}

/* Append s percent-encoded (RFC 3986 unreserved kept) to the buffer. */
static char *append_encoded(char *buf, const char *s)
{
	size_t n = strlen(buf), cap = n + strlen(s) * 3 + 1;
	char *out = xrealloc(buf, cap);

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, cap - n, "%%%02X", c);
	}
	out[n] = '\0';
	return out;
}

static char *append(char *buf, const char *s)
{
	size_t n = strlen(buf), m = strlen(s);
	char *out = xrealloc(buf, n + m + 1);

	memcpy(out + n, s, m + 1);
	return out;
}

char *fhir_search_link(const struct fhir_search *s, const char *base, const char *cursor)
{
	char *url = xasprintf("%s/%s?", base, type_names[s->type]);
	char count[32];

	for (int i = 0; i < s->nkept; i++) {
		url = append_encoded(url, s->kept_names[i]);
		url = append(url, "=");
		url = append_encoded(url, s->kept_values[i]);
		url = append(url, "&");
	}
	snprintf(count, sizeof count, "_count=%d", s->count);
	url = append(url, count);
	if (cursor != NULL) {
		url = append(url, "&_cursor=");
		url = append_encoded(url, cursor);
	}
	return url;
}

/* Rebase one string member of o, if it names one of carebridge's own. */
static void rebase_value(cJSON *o, const char *key, const char *canonical)
{
	static const char from[] = FHIR_CB_BASE "/";
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	const char *at;
	char *text;

	if (!cJSON_IsString(v) || (at = strstr(v->valuestring, from)) == NULL)
		return;
	/* every occurrence (a documentation text may name several) */
	text = xstrdup(v->valuestring);
	while ((at = strstr(text, from)) != NULL) {
		char *next =
		    xasprintf("%.*s%s%s", (int)(at - text), text, canonical, at + sizeof from - 2);

		free(text);
		text = next;
		if (strstr(canonical, from) != NULL)
			break; /* a base under the stand-in itself: once is enough */
	}
	cJSON_SetValuestring(v, text);
	free(text);
}

void fhir_rebase(cJSON *res, const char *canonical)
{
	static const char *const keys[] = {"system", "url", "documentation"};
	cJSON *child;

	if (res == NULL || canonical == NULL || strcmp(canonical, FHIR_CB_BASE) == 0)
		return;
	if (cJSON_IsObject(res))
		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
			rebase_value(res, keys[i], canonical);
	cJSON_ArrayForEach(child, res)
	{
		if (cJSON_IsObject(child) || cJSON_IsArray(child))
			fhir_rebase(child, canonical);
	}
}

bool fhir_base_url_is_valid(const char *s)
{
	const char *host, *end;
	size_t len = strlen(s);

	if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else
		return false;
	if (len >= FHIR_BASE_MAX || s[len - 1] == '/')
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '?' ||
		    *p == '#' || *p == '\\' || *p == '"')
			return false;
	end = strchr(host, '/');
	if (end == NULL)
		end = host + strlen(host);
	/* a host (no user information), an optional :port */
	return end > host && memchr(host, '@', (size_t)(end - host)) == NULL && host[0] != ':';
}

/*
 * fhir_discharge.c - the "update safe for discharge status" Encounter (see
 * fhir_discharge.h).
 *
 * Everything taken from the event payload is checked before it goes into
 * the resource: the episode id must be a UUID, times must parse and are
 * written again in one form, the NHS number must pass its check digit.  A
 * payload that fails is refused, never sent half-built.
 */
#include "fhir_discharge.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "admission.h"
#include "cbtime.h"
#include "nhs.h"

/* The NHS number's identifier system (NHS England, used by UK Core). */
#define NHS_NUMBER_SYSTEM "https://fhir.nhs.uk/Id/nhs-number"

enum fhir_discharge_status fhir_discharge_status_of(const char *type)
{
	if (type == NULL)
		return FHIR_DISCHARGE_NONE;
	if (strcmp(type, "episode.ready") == 0)
		return FHIR_DISCHARGE_FIT;
	if (strcmp(type, "episode.ready_withdrawn") == 0)
		return FHIR_DISCHARGE_UNFIT;
	return FHIR_DISCHARGE_NONE;
}

/* The string member key of obj, or NULL when absent, null or not a string. */
static const char *member_string(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Parse member key of obj as a date-time into out ("2026-11-23T10:00:00Z"). */
static enum status member_time(const cJSON *obj, const char *key, char out[TIME_FORMAT_LEN],
                               struct err *err)
{
	const char *s = member_string(obj, key);
	int64_t t;

	if (s == NULL)
		return err_set(err, ST_INVALID, key, "missing required field \"%s\"", key);
	if (time_parse(s, &t, key, err) != ST_OK)
		return ST_INVALID;
	time_format(t, out);
	return ST_OK;
}

/* Encounter.status (R4 encounter-status) for an episode state. */
static const char *encounter_status(const char *state)
{
	if (strcmp(state, "admitted") == 0)
		return "in-progress";
	if (strcmp(state, "discharged") == 0)
		return "finished";
	return "entered-in-error"; /* cancelled: the admission was entered in error */
}

/* {"system": system, "code": code, "display": display} */
static cJSON *coding(const char *system, const char *code, const char *display)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "system", system);
	cJSON_AddStringToObject(c, "code", code);
	cJSON_AddStringToObject(c, "display", display);
	return c;
}

/*
 * The guide's Extension-SHD-MedicallyFitDetails: the status, and the date
 * deemed fit only when fit (its invariant MedFit-1 forbids it otherwise).
 */
static cJSON *medically_fit_extension(enum fhir_discharge_status s, const char *fit_at)
{
	cJSON *ext = cJSON_CreateObject(), *parts = cJSON_CreateArray(), *p;

	cJSON_AddStringToObject(ext, "url", FHIR_DISCHARGE_EXT_URL);
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "url", "medicallyFitStatus");
	if (s == FHIR_DISCHARGE_FIT)
		cJSON_AddItemToObject(p, "valueCoding",
		                      coding(FHIR_DISCHARGE_STATUS_SYSTEM, "01", "Medically Fit"));
	else
		cJSON_AddItemToObject(
		    p, "valueCoding",
		    coding(FHIR_DISCHARGE_STATUS_SYSTEM, "02", "Medically Unfit"));
	cJSON_AddItemToArray(parts, p);
	if (s == FHIR_DISCHARGE_FIT) {
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "url", "dateDeemedMedicallyFit");
		cJSON_AddStringToObject(p, "valueDateTime", fit_at);
		cJSON_AddItemToArray(parts, p);
	}
	cJSON_AddItemToObject(ext, "extension", parts);
	return ext;
}

/*
 * Encounter.subject: the patient by NHS number, or, for a patient who has
 * none yet, by the hospital number (type MR) - never by name: the partner
 * matches on the identifier, and the name is not needed to do so.
 */
static enum status subject(const cJSON *patient, cJSON **out, struct err *err)
{
	const char *nhs = member_string(patient, "nhs_number");
	const char *local = member_string(patient, "local_id");
	cJSON *ref, *id;

	*out = NULL;
	ref = cJSON_CreateObject();
	id = cJSON_CreateObject();
	cJSON_AddItemToObject(ref, "identifier", id);
	if (nhs != NULL) {
		char digits[NHS_NUMBER_SIZE];

		if (nhs_number_parse(nhs, digits, err) != ST_OK) {
			cJSON_Delete(ref);
			return ST_INVALID;
		}
		cJSON_AddStringToObject(id, "system", NHS_NUMBER_SYSTEM);
		cJSON_AddStringToObject(id, "value", digits);
	} else if (local != NULL && local[0] != '\0') {
		cJSON *type = cJSON_CreateObject(), *codings = cJSON_CreateArray();

		cJSON_AddItemToArray(codings,
		                     coding("http://terminology.hl7.org/CodeSystem/v2-0203", "MR",
		                            "Medical record number"));
		cJSON_AddItemToObject(type, "coding", codings);
		cJSON_AddItemToObject(id, "type", type);
		cJSON_AddStringToObject(id, "value", local);
	} else {
		cJSON_Delete(ref);
		return err_set(err, ST_INVALID, "nhs_number",
		               "the patient has neither an NHS number nor a hospital number");
	}
	*out = ref;
	return ST_OK;
}

enum status fhir_discharge_encounter_to_json(const char *type, const char *payload, cJSON **out,
                                             char identifier[FHIR_DISCHARGE_IDENTIFIER_SIZE],
                                             struct err *err)
{
	enum fhir_discharge_status s = fhir_discharge_status_of(type);
	cJSON *doc = NULL, *enc = NULL, *subj = NULL, *a, *o;
	const cJSON *patient;
	const char *id, *state, *ward;
	char admitted[TIME_FORMAT_LEN], fit_at[TIME_FORMAT_LEN], urn[48];
	enum status st = ST_INVALID;

	*out = NULL;
	identifier[0] = '\0';
	if (s == FHIR_DISCHARGE_NONE)
		return err_set(err, ST_INVALID, "type",
		               "event type makes no discharge status message");
	doc = cJSON_Parse(payload != NULL ? payload : "");
	if (!cJSON_IsObject(doc)) {
		err_set(err, ST_INVALID, NULL, "event payload is not a JSON object");
		goto out;
	}
	id = member_string(doc, "id");
	if (id == NULL || !text_is_uuid(id)) {
		err_set(err, ST_INVALID, "id", "\"id\" is not an episode id");
		goto out;
	}
	state = member_string(doc, "state");
	if (state == NULL) {
		err_set(err, ST_INVALID, "state", "missing required field \"state\"");
		goto out;
	}
	if (member_time(doc, "admitted_at", admitted, err) != ST_OK)
		goto out;
	if (s == FHIR_DISCHARGE_FIT && member_time(doc, "ready_at", fit_at, err) != ST_OK)
		goto out;
	patient = cJSON_GetObjectItemCaseSensitive(doc, "patient");
	if (!cJSON_IsObject(patient)) {
		err_set(err, ST_INVALID, "patient", "missing required field \"patient\"");
		goto out;
	}
	if (subject(patient, &subj, err) != ST_OK)
		goto out;
	ward = member_string(doc, "ward");

	snprintf(urn, sizeof urn, "urn:uuid:%s", id);
	snprintf(identifier, FHIR_DISCHARGE_IDENTIFIER_SIZE, "%s|%s", FHIR_DISCHARGE_ID_SYSTEM,
	         urn);
	enc = cJSON_CreateObject();
	cJSON_AddStringToObject(enc, "resourceType", "Encounter");
	a = cJSON_AddArrayToObject(enc, "extension");
	cJSON_AddItemToArray(a, medically_fit_extension(s, fit_at));
	a = cJSON_AddArrayToObject(enc, "identifier");
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "system", FHIR_DISCHARGE_ID_SYSTEM);
	cJSON_AddStringToObject(o, "value", urn);
	cJSON_AddItemToArray(a, o);
	cJSON_AddStringToObject(enc, "status", encounter_status(state));
	cJSON_AddItemToObject(enc, "class",
	                      coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "IMP",
	                             "inpatient encounter"));
	a = cJSON_AddArrayToObject(enc, "type");
	o = cJSON_CreateObject();
	cJSON_AddItemToArray(a, o);
	a = cJSON_AddArrayToObject(o, "coding");
	cJSON_AddItemToArray(a, coding("http://snomed.info/sct", "32485007", "Hospital admission"));
	cJSON_AddItemToObject(enc, "subject", subj);
	subj = NULL;
	o = cJSON_AddObjectToObject(enc, "period");
	cJSON_AddStringToObject(o, "start", admitted);
	if (ward != NULL && ward[0] != '\0') {
		/* the ward by its code, as carebridge names it (no Location resource of its own) */
		cJSON *loc = cJSON_CreateObject();

		a = cJSON_AddArrayToObject(enc, "location");
		o = cJSON_AddObjectToObject(loc, "location");
		cJSON_AddStringToObject(o, "display", ward);
		cJSON_AddItemToArray(a, loc);
	}
	*out = enc;
	st = ST_OK;
out:
	if (st != ST_OK)
		identifier[0] = '\0';
	cJSON_Delete(subj);
	cJSON_Delete(doc);
	return st;
}

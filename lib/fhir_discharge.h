/*
 * fhir_discharge.h - the outbound "update safe for discharge status"
 * message: a FHIR R4 Encounter telling a council (or another partner
 * responsible for supporting a discharge) that a patient no longer meets the
 * criteria to reside (NCTR), or that this was reversed.
 *
 * Follows, as far as it could be read, the "Update Safe for Discharge
 * Status" use case of the "Supported Hospital Discharge to Social Care"
 * guide on simplifier.net (Nottinghamshire County Council, FHIR STU3,
 * profile CareConnect-SHD-Encounter-1): the Encounter carries the guide's
 * Extension-SHD-MedicallyFitDetails (medicallyFitStatus, and
 * dateDeemedMedicallyFit only when fit), one business identifier, a status
 * and a type; the receiver is sent a conditional update, PUT
 * [base]/Encounter?identifier=system|value.  The guide is STU3 and this
 * message is R4, so no profile is claimed in meta.profile.  docs/API.md
 * ("Outbound FHIR") says which details were found and which were chosen.
 *
 * Owns: which outbox event types make a message, and the Encounter built from
 * an event's episode summary.  Pure code: no I/O, no clock, no logging (the
 * message holds an NHS number: callers must not log it either).
 */
#ifndef CB_FHIR_DISCHARGE_H
#define CB_FHIR_DISCHARGE_H

#include <cjson/cJSON.h>

#include "status.h"

/* The webhook format whose deliveries are these messages. */
#define FHIR_DISCHARGE_FORMAT "fhir-r4-discharge-status"

/* The guide's extension and the system of its status codes (see docs/API.md). */
#define FHIR_DISCHARGE_EXT_URL                                                                     \
	"https://fhir.nottinghamshire.gov.uk/STU3/StructureDefinition/"                            \
	"Extension-SHD-MedicallyFitDetails"
#define FHIR_DISCHARGE_STATUS_SYSTEM                                                               \
	"https://fhir.nottinghamshire.gov.uk/STU3/codesystem/SHD-MedicallyFitStatus"

/* The Encounter's business identifier: the episode's UUID as a URI (RFC 3986). */
#define FHIR_DISCHARGE_ID_SYSTEM "urn:ietf:rfc:3986"

/* "urn:ietf:rfc:3986|urn:uuid:" and a UUID, and its NUL. */
#define FHIR_DISCHARGE_IDENTIFIER_SIZE 80

/* What an outbox event means to the partner. */
enum fhir_discharge_status {
	FHIR_DISCHARGE_NONE,  /* nothing about safe-for-discharge: no message */
	FHIR_DISCHARGE_FIT,   /* NCTR (episode.ready): "01" Medically Fit, with the date */
	FHIR_DISCHARGE_UNFIT, /* NCTR reversed (episode.ready_withdrawn): "02", no date */
};

/* Which message, if any, an outbox event of type makes (type may be NULL). */
enum fhir_discharge_status fhir_discharge_status_of(const char *type);

/*
 * The R4 Encounter for an outbox event of type whose payload is an episode
 * summary (cb_episode_summary_json: id, state, ward, admitted_at, ready_at,
 * patient.nhs_number or patient.local_id) as JSON text.  A new cJSON object
 * into *out, and the conditional-update search value "system|value" into
 * identifier.  ST_INVALID naming the missing or malformed field when the
 * payload cannot make a message (or type makes none: field "type"); *out is
 * NULL then.
 */
enum status fhir_discharge_encounter_to_json(const char *type, const char *payload, cJSON **out,
                                             char identifier[FHIR_DISCHARGE_IDENTIFIER_SIZE],
                                             struct err *err);

#endif

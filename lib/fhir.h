/*
 * fhir.h - the FHIR R4 read/search facade's mapping (issue 15): carebridge's
 * stored JSON (cb_patient_json, cb_episode_summary_json, cb_task_json,
 * cb_referral_json, with the few fields store_fhir.c adds) to Patient,
 * Encounter, Task and ServiceRequest (a referral and its Task); what a
 * partner may see of each (fhir_partner_cut); the searchset Bundle and its
 * paging links; OperationOutcome for every error; the CapabilityStatement;
 * and the parsing of search parameters.
 *
 * I/O free: no clock (callers pass now), no database, no HTTP.  Every
 * function returning a cJSON * gives the caller a new object to own.
 * docs/API.md, "FHIR R4", is the mapping written out.
 */
#ifndef CB_FHIR_H
#define CB_FHIR_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "status.h"

/* The NHS number's identifier system (DOMAIN.md, "FHIR R4 names"). */
#define FHIR_SYSTEM_NHS_NUMBER "https://fhir.nhs.uk/Id/nhs-number"
/*
 * carebridge's own canonical base as the mapping writes it: the local
 * identifier systems, code systems and extension StructureDefinitions below
 * it are documented in docs/API.md.  It is a stand-in: fhir_rebase() moves
 * every such name onto the installation's base (config fhir_base_url, by
 * default the public origin's /fhir) before a resource leaves the server.
 */
#define FHIR_CB_BASE "https://carebridge.example/fhir"
#define FHIR_SYSTEM_LOCAL_ID FHIR_CB_BASE "/Id/hospital-number"
#define FHIR_SYSTEM_WARD FHIR_CB_BASE "/Id/ward"
#define FHIR_SYSTEM_USER FHIR_CB_BASE "/Id/user"
#define FHIR_SYSTEM_DISCIPLINE FHIR_CB_BASE "/CodeSystem/discipline"
#define FHIR_SYSTEM_TASK_TEMPLATE FHIR_CB_BASE "/CodeSystem/task-template"
#define FHIR_SYSTEM_DESTINATION FHIR_CB_BASE "/CodeSystem/discharge-destination"
#define FHIR_SD_BASE FHIR_CB_BASE "/StructureDefinition/"
#define FHIR_EXT_NCTR FHIR_SD_BASE "no-criteria-to-reside"
#define FHIR_EXT_DRD FHIR_SD_BASE "discharge-ready-date"
#define FHIR_EXT_EDD FHIR_SD_BASE "expected-discharge-date"
#define FHIR_EXT_LIKELY_PATHWAY FHIR_SD_BASE "likely-discharge-pathway"
#define FHIR_EXT_DISCHARGE_PATHWAY FHIR_SD_BASE "discharge-pathway"
#define FHIR_SYSTEM_ACT_CODE "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#define FHIR_SYSTEM_LOCATION_TYPE "http://terminology.hl7.org/CodeSystem/location-physical-type"
/* Organisations by their carebridge code (the ODS code where there is one). */
#define FHIR_SYSTEM_ORGANISATION FHIR_CB_BASE "/Id/organisation"
#define FHIR_SYSTEM_REFERRAL_STATE FHIR_CB_BASE "/CodeSystem/referral-state"
#define FHIR_SYSTEM_REFERRAL_CATEGORY FHIR_CB_BASE "/CodeSystem/referral-category"
#define FHIR_SYSTEM_SERVICE_KIND FHIR_CB_BASE "/CodeSystem/service-kind"
#define FHIR_SYSTEM_TASK_CODE "http://hl7.org/fhir/CodeSystem/task-code"
/*
 * A referral's Task id: this prefix and the referral's id, so that it never
 * equals a discipline task's id (a bare UUID) and says what it is.
 */
#define FHIR_REFERRAL_TASK_PREFIX "referral-"
#define FHIR_ID_MAX 48 /* a FHIR id this server gives, NUL included */

/* The resource types served. */
enum fhir_type {
	FHIR_PATIENT,
	FHIR_ENCOUNTER,
	FHIR_TASK,            /* a discipline task, or a referral's Task */
	FHIR_SERVICE_REQUEST, /* a referral to the care transfer hub */
};

#define FHIR_TYPE_COUNT 4

/* Who a resource is mapped for. */
enum fhir_view {
	FHIR_VIEW_TRUST,   /* the trust's own staff: the whole mapping */
	FHIR_VIEW_PARTNER, /* a hub, council or provider: the minimum necessary only */
};

/* What a Task id names. */
enum fhir_task_kind {
	FHIR_TASK_NONE,       /* not an id of this server's Tasks */
	FHIR_TASK_DISCIPLINE, /* a discipline task's UUID */
	FHIR_TASK_REFERRAL,   /* FHIR_REFERRAL_TASK_PREFIX and a referral's UUID */
};

/*
 * What Task id names; the task's or referral's UUID, lowered, into uuid_out
 * (37 bytes) unless FHIR_TASK_NONE.
 */
enum fhir_task_kind fhir_task_id_parse(const char *id, char uuid_out[37]);

/* "Patient", "Encounter", "Task", "ServiceRequest". */
const char *fhir_type_name(enum fhir_type type);

#define FHIR_COUNT_DEFAULT 50 /* entries per page when _count is absent */
#define FHIR_COUNT_MAX 200    /* a larger _count is cut to this (FHIR lets a server) */
#define FHIR_SEARCH_MAX 16    /* search parameters in one request */
#define FHIR_VALUE_MAX 128    /* bytes of one parameter value, NUL included */
#define FHIR_STATES_MAX 12    /* carebridge states (or Task codes) one status= may name */
#define FHIR_TS_LEN 40        /* "2026-12-03 10:00:00.000000+00" and more */

/*
 * A search, parsed.  Strings are empty when their parameter is absent.  The
 * bounds are PostgreSQL timestamptz literals: updated_at >= from and
 * updated_at < to.
 */
struct fhir_search {
	enum fhir_type type;             /* what is searched */
	char id[FHIR_ID_MAX];            /* _id: a UUID (Task: or a referral Task id) */
	char identifier[FHIR_VALUE_MAX]; /* Patient identifier value */
	const char *identifier_kind;     /* "nhs", "local" or "any" (no system given) */
	char patient[37];                /* Encounter/Task/ServiceRequest patient: a UUID */
	/* status=: carebridge states (Encounter: episode states, ServiceRequest: referral
	 * states); for Task the FHIR codes themselves (discipline tasks store them, a
	 * referral's is cb_referral_task_status()); static strings */
	const char *states[FHIR_STATES_MAX];
	int nstates;                          /* how many; 0: no status filter */
	bool has_status;                      /* status= was given */
	char from[FHIR_TS_LEN];               /* _lastUpdated lower bound, inclusive */
	char to[FHIR_TS_LEN];                 /* _lastUpdated upper bound, exclusive */
	int count;                            /* page size, 1..FHIR_COUNT_MAX */
	char cursor[FHIR_ID_MAX];             /* _cursor: the page starts after this id */
	bool matches_nothing;                 /* a value no resource can have (a non-UUID _id) */
	int nkept;                            /* parameters kept for the paging links */
	char kept_names[FHIR_SEARCH_MAX][32]; /* their names, in request order */
	char kept_values[FHIR_SEARCH_MAX][FHIR_VALUE_MAX]; /* and values */
};

/*
 * Parse the n query parameters (names[i] = values[i], decoded) of a search
 * of type into *out.  Accepted: _id, _lastUpdated (repeatable; prefixes eq,
 * gt, ge, lt, le; precision year to fractions of a second; a date without a
 * time is a Europe/London day; a time needs a zone), _count, _cursor,
 * _format (json only); Patient: identifier (system|value, |value or value;
 * systems FHIR_SYSTEM_NHS_NUMBER and the hospital number's, "/Id/hospital-number"
 * under canonical, the installation's base: see fhir_rebase; NULL is
 * FHIR_CB_BASE); Encounter, Task and ServiceRequest: patient ("Patient/ID"
 * or "ID") and status (comma-separated FHIR codes).  A Task's _id and _cursor may be a referral
 * Task's id.  Empty values are ignored, as FHIR says.  Returns ST_OK, or
 * ST_INVALID with err's field the parameter at fault: unknown parameters
 * and modifiers, malformed dates and codes, a bad _count.
 */
enum status fhir_search_parse(enum fhir_type type, const char *const *names,
                              const char *const *values, int n, const char *canonical,
                              struct fhir_search *out, struct err *err);

/*
 * Move carebridge's own names in res (the "system", "url" and
 * "documentation" strings that use FHIR_CB_BASE: identifier and code
 * systems, extension URLs, the CapabilityStatement's words) onto canonical,
 * the installation's base (an absolute URL without a trailing '/'), in
 * place.  NULL or FHIR_CB_BASE changes nothing.
 */
void fhir_rebase(cJSON *res, const char *canonical);

/*
 * Whether s may be config fhir_base_url: an absolute http:// or https://
 * URL with a host, without a trailing '/', query, fragment, user
 * information or white space, at most FHIR_BASE_MAX - 1 bytes.
 */
bool fhir_base_url_is_valid(const char *s);

#define FHIR_BASE_MAX 256 /* a base URL, NUL included */

/*
 * The link of a page of s: base "/" type "?" the kept parameters,
 * "_count=N" and, when cursor is not NULL, "_cursor=" cursor; values
 * percent-encoded.  A new string.
 */
char *fhir_search_link(const struct fhir_search *s, const char *base, const char *cursor);

/*
 * The FHIR code of a carebridge episode state (admitted "in-progress",
 * discharged "finished", cancelled "entered-in-error": an admission recorded
 * in error); NULL for another string.
 */
const char *fhir_encounter_status(const char *state);

/* Patient from cb_patient_json plus "last_updated" (an instant); never NULL. */
cJSON *fhir_patient_from_json(const cJSON *stored);

/*
 * Encounter from cb_episode_summary_json plus "ward_name" and
 * "last_updated"; never NULL.
 */
cJSON *fhir_encounter_from_json(const cJSON *stored);

/*
 * Task from cb_task_json plus "patient_id" and "last_updated"; or, when
 * stored has "record": "referral", the referral's Task (fhir_referral_task_
 * from_json); never NULL.
 */
cJSON *fhir_task_from_json(const cJSON *stored);

/*
 * The FHIR ServiceRequest.status of a referral state: notified "draft";
 * referred, accepted, sourced, start_confirmed "active"; info_requested
 * "on-hold"; declined and withdrawn "revoked"; completed "completed".  NULL
 * for another string.
 */
const char *fhir_service_request_status(const char *state);

/*
 * ServiceRequest from cb_referral_json plus "patient_id", "last_updated" and
 * "trust" ({code, name}: the requester); never NULL.
 */
cJSON *fhir_service_request_from_json(const cJSON *stored);

/*
 * The referral's Task (id FHIR_REFERRAL_TASK_PREFIX + the referral's id) from
 * the same stored JSON: status referral_task_status(), businessStatus the
 * referral state, focus the ServiceRequest, owner the hub; never NULL.
 */
cJSON *fhir_referral_task_from_json(const cJSON *stored);

/*
 * The resource of type from its stored JSON (one of the above) for view: a
 * partner's is cut to the minimum necessary (fhir_partner_cut); NULL when a
 * partner may not have it at all (a discipline task).
 */
cJSON *fhir_resource_from_json(enum fhir_type type, const cJSON *stored, enum fhir_view view);

/*
 * What a partner (hub, council, provider) may see of resource (taken): a new
 * resource keeping only the listed elements, or NULL (resource freed) when
 * none of it is theirs.  Patient: id, meta, the NHS number identifier, name,
 * gender, birthDate.  Encounter: id, meta, status, class, subject, period,
 * the ward location (not the bed), the NCTR, DRD, EDD and pathway extensions.
 * ServiceRequest and a referral's Task: the whole (the referral is theirs).
 * A discipline Task: NULL.  Whatever is not listed is dropped, so a field
 * added to a mapping later stays the trust's until it is listed here.
 */
cJSON *fhir_partner_cut(enum fhir_type type, cJSON *resource);

/*
 * An empty searchset Bundle: total, and links self and (when next is not
 * NULL) next.  base is the service base for fullUrl; now the Bundle's time.
 */
cJSON *fhir_bundle_new(int64_t total, const char *self, const char *next, int64_t now);

/* Add resource (taken) to bundle as a match, its fullUrl base/Type/id. */
void fhir_bundle_add(cJSON *bundle, const char *base, cJSON *resource);

/*
 * An OperationOutcome for a failure: one issue of severity error, its code
 * from st (invalid, login, forbidden, not-found, ...; code overrides it when
 * not NULL), diagnostics message, expression field when given.
 */
cJSON *fhir_operation_outcome(enum status st, const char *code, const char *field,
                              const char *message);

/* The CapabilityStatement of this server at base, dated now. */
cJSON *fhir_capability_statement(const char *base, int64_t now);

#endif

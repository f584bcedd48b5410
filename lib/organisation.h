/*
 * organisation.h - the organisations carebridge knows (0028): the trust,
 * local authorities (councils), care transfer hubs and providers, and what
 * makes one valid.  Pure: the handlers and the command line ask it before
 * they write; the store holds no rule.
 */
#ifndef CB_ORGANISATION_H
#define CB_ORGANISATION_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "referral.h"
#include "status.h"

enum organisation_kind {
	ORGANISATION_TRUST,           /* "trust": the hospital; exactly one */
	ORGANISATION_LOCAL_AUTHORITY, /* "local_authority": a council's adult social care */
	ORGANISATION_HUB,             /* "hub": a care transfer hub / single point of access */
	ORGANISATION_PROVIDER,        /* "provider": home care, reablement, beds, equipment */
};

#define ORGANISATION_KIND_COUNT 4
#define ORGANISATION_CODE_MAX 32  /* as the organisations table's CHECK */
#define ORGANISATION_NAME_MAX 200 /* as the organisations table's CHECK */
/* The trust's row (0028): every user belongs to it unless told otherwise. */
#define ORGANISATION_TRUST_ID "00000000-0000-4000-8000-00000000a001"

/* The stored name of k ("local_authority", ...); a static string. */
const char *organisation_kind_name(enum organisation_kind k);

/*
 * Set *out to the kind named in.  Returns ST_OK, or ST_INVALID with field
 * "kind" when in is NULL or names no kind.
 */
enum status organisation_kind_parse(const char *in, enum organisation_kind *out, struct err *err);

/*
 * Whether code is an organisation code: 1 to 32 letters, digits, "_" or
 * "-", starting with a letter or digit (an ODS code, or a local one).
 */
bool organisation_code_is_valid(const char *code);

/* An organisation as it would be written (every pointer borrowed). */
struct organisation_fields {
	const char *code;                           /* checked with organisation_code_is_valid */
	const char *name;                           /* 1..200 bytes */
	enum organisation_kind kind;                /* what it is */
	const enum referral_service_kind *services; /* what a provider provides */
	size_t nservices; /* entries in services (none but for a provider) */
	/* The council a hub or provider works for: NULL for none, else the kind
	 * of the organisation named, "" when it names none (or a disabled one). */
	const char *local_authority_kind;
};

/*
 * Whether o may be written: a valid code and name; services only for a
 * provider, each once; a local authority only for a hub or provider, and
 * then one that is a local authority.  Returns ST_OK, or ST_INVALID naming
 * the field ("code", "name", "services", "local_authority_id").  A new trust
 * is refused by the caller (there is one, made by 0028).
 */
enum status organisation_validate(const struct organisation_fields *o, struct err *err);

/*
 * Whether an organisation of kind (its stored name; "" or NULL: none, or
 * disabled) may be a ward's care transfer hub: a hub, or a local authority
 * that runs its own.  Returns ST_OK, or ST_INVALID with field
 * "hub_organisation_id".
 */
enum status organisation_check_ward_hub(const char *kind, struct err *err);

/*
 * Whether an organisation of kind may own a webhook that receives its
 * referrals' events: a partner's (hub, local authority, provider), not the
 * trust's (a trust webhook has no organisation).  ST_INVALID with field
 * "organisation_id" otherwise ("" or NULL: none, or disabled).
 */
enum status organisation_check_webhook_owner(const char *kind, struct err *err);

/*
 * What a user who is no administrator may read of an organisation, to pick
 * one (a hub for a referral, a provider for a service): id, code, name,
 * kind, services and local_authority_id of full (cb_organisation_json).
 * A new object, or NULL when full is disabled (it cannot be picked) or not
 * an object.
 */
cJSON *organisation_public_json(const cJSON *full);

/*
 * The public list of {"items": [full...]} (GET /api/v1/organisations): each
 * enabled item cut by organisation_public_json, in order.  A new object;
 * an input without an items array gives an empty list.
 */
cJSON *organisation_public_list(const cJSON *full);

#endif

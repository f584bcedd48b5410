/*
 * organisation.c - organisation kinds and the validity of an organisation.
 */
#include "organisation.h"

#include <string.h>

#include "xmalloc.h"

static const char *const organisation_kind_names[ORGANISATION_KIND_COUNT] = {
    [ORGANISATION_TRUST] = "trust",
    [ORGANISATION_LOCAL_AUTHORITY] = "local_authority",
    [ORGANISATION_HUB] = "hub",
    [ORGANISATION_PROVIDER] = "provider",
};

static const char CODE_CHARS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

const char *organisation_kind_name(enum organisation_kind k)
{
	ASSERT((unsigned)k < ORGANISATION_KIND_COUNT);
	return organisation_kind_names[k];
}

enum status organisation_kind_parse(const char *in, enum organisation_kind *out, struct err *err)
{
	ASSERT(out != NULL);
	for (size_t i = 0; in != NULL && i < ORGANISATION_KIND_COUNT; i++) {
		if (strcmp(in, organisation_kind_names[i]) == 0) {
			*out = (enum organisation_kind)i;
			return ST_OK;
		}
	}
	return err_set(err, ST_INVALID, "kind",
	               "kind must be \"trust\", \"local_authority\", \"hub\" or \"provider\"");
}

bool organisation_code_is_valid(const char *code)
{
	size_t n = code != NULL ? strlen(code) : 0;

	return n >= 1 && n <= ORGANISATION_CODE_MAX && strspn(code, CODE_CHARS) == n &&
	       code[0] != '_' && code[0] != '-';
}

enum status organisation_validate(const struct organisation_fields *o, struct err *err)
{
	size_t n;

	ASSERT(o != NULL);
	ASSERT((unsigned)o->kind < ORGANISATION_KIND_COUNT);
	if (!organisation_code_is_valid(o->code))
		return err_set(err, ST_INVALID, "code",
		               "\"code\" must be 1 to %d letters, digits, \"_\" or \"-\", starting "
		               "with a letter or digit",
		               ORGANISATION_CODE_MAX);
	n = o->name != NULL ? strlen(o->name) : 0;
	if (n < 1 || n > ORGANISATION_NAME_MAX)
		return err_set(err, ST_INVALID, "name", "\"name\" must be 1 to %d bytes",
		               ORGANISATION_NAME_MAX);
	if (o->nservices > 0 && o->kind != ORGANISATION_PROVIDER)
		return err_set(err, ST_INVALID, "services",
		               "only a provider has services, not a \"%s\"",
		               organisation_kind_names[o->kind]);
	ASSERT(o->nservices == 0 || o->services != NULL);
	for (size_t i = 0; i < o->nservices; i++)
		for (size_t j = 0; j < i; j++)
			if (o->services[i] == o->services[j])
				return err_set(err, ST_INVALID, "services",
				               "service \"%s\" is listed twice",
				               referral_service_kind_name(o->services[i]));
	if (o->local_authority_kind == NULL)
		return ST_OK;
	if (o->kind != ORGANISATION_HUB && o->kind != ORGANISATION_PROVIDER)
		return err_set(err, ST_INVALID, "local_authority_id",
		               "only a hub or a provider works for a local authority, not a \"%s\"",
		               organisation_kind_names[o->kind]);
	if (o->local_authority_kind[0] == '\0')
		return err_set(err, ST_INVALID, "local_authority_id",
		               "\"local_authority_id\" names no enabled organisation");
	if (strcmp(o->local_authority_kind, "local_authority") != 0)
		return err_set(err, ST_INVALID, "local_authority_id",
		               "\"local_authority_id\" must name a local authority, not a \"%s\"",
		               o->local_authority_kind);
	return ST_OK;
}

enum status organisation_check_ward_hub(const char *kind, struct err *err)
{
	if (kind == NULL || kind[0] == '\0')
		return err_set(err, ST_INVALID, "hub_organisation_id",
		               "\"hub_organisation_id\" names no enabled organisation");
	if (strcmp(kind, "hub") != 0 && strcmp(kind, "local_authority") != 0)
		return err_set(err, ST_INVALID, "hub_organisation_id",
		               "a ward's hub must be a hub or a local authority, not a \"%s\"",
		               kind);
	return ST_OK;
}

enum status organisation_check_webhook_owner(const char *kind, struct err *err)
{
	if (kind == NULL || kind[0] == '\0')
		return err_set(err, ST_INVALID, "organisation_id",
		               "\"organisation_id\" names no enabled organisation");
	if (strcmp(kind, "trust") == 0)
		return err_set(
		    err, ST_INVALID, "organisation_id",
		    "a trust webhook has no organisation: leave \"organisation_id\" out");
	return ST_OK;
}

cJSON *organisation_public_json(const cJSON *full)
{
	static const char *const keys[] = {"id",   "code",     "name",
	                                   "kind", "services", "local_authority_id"};
	const cJSON *disabled = cJSON_GetObjectItemCaseSensitive(full, "disabled");
	cJSON *out;

	if (!cJSON_IsObject(full) || !cJSON_IsFalse(disabled))
		return NULL;
	out = cJSON_CreateObject();
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(full, keys[i]);

		cJSON_AddItemToObject(out, keys[i],
		                      v != NULL ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
	}
	return out;
}

cJSON *organisation_public_list(const cJSON *full)
{
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(full, "items");
	cJSON *out = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(out, "items");
	const cJSON *it;

	if (cJSON_IsArray(items)) {
		cJSON_ArrayForEach(it, items)
		{
			cJSON *pub = organisation_public_json(it);

			if (pub != NULL)
				cJSON_AddItemToArray(list, pub);
		}
	}
	return out;
}

/*
 * json.c - typed, validated access to request fields (see json.h).
 */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cbtime.h"
#include "xmalloc.h"

bool json_has(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return v != NULL && !cJSON_IsNull(v);
}

bool json_is_null(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return v != NULL && cJSON_IsNull(v);
}

/* The item, or NULL when absent/null; ST_INVALID into *st when required and missing. */
static const cJSON *get(const cJSON *obj, const char *key, bool required, enum status *st,
                        struct err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*st = ST_OK;
	if (v == NULL || cJSON_IsNull(v)) {
		if (required)
			*st = err_set(err, ST_INVALID, key, "missing required field \"%s\"", key);
		return NULL;
	}
	return v;
}

enum status json_get_string(const cJSON *obj, const char *key, bool required, char *out,
                            size_t size, struct err *err)
{
	enum status st;
	const cJSON *v = get(obj, key, required, &st, err);
	size_t len;

	if (v == NULL)
		return st;
	if (!cJSON_IsString(v))
		return err_set(err, ST_INVALID, key, "\"%s\" must be a string", key);
	len = strlen(v->valuestring);
	if (len == 0 && required)
		return err_set(err, ST_INVALID, key, "\"%s\" must not be empty", key);
	if (len >= size)
		return err_set(err, ST_INVALID, key, "\"%s\" is longer than %zu characters", key,
		               size - 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v->valuestring[i];

		if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
			return err_set(err, ST_INVALID, key, "\"%s\" contains a control character",
			               key);
	}
	memcpy(out, v->valuestring, len + 1);
	return ST_OK;
}

enum status json_get_int(const cJSON *obj, const char *key, bool required, int64_t min, int64_t max,
                         int64_t *out, bool *present, struct err *err)
{
	enum status st;
	const cJSON *v = get(obj, key, required, &st, err);

	if (present != NULL)
		*present = v != NULL;
	if (v == NULL)
		return st;
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
		return err_set(err, ST_INVALID, key, "\"%s\" must be an integer", key);
	if (v->valuedouble < (double)min || v->valuedouble > (double)max)
		return err_set(err, ST_INVALID, key, "\"%s\" must be between %lld and %lld", key,
		               (long long)min, (long long)max);
	*out = (int64_t)v->valuedouble;
	return ST_OK;
}

enum status json_get_bool(const cJSON *obj, const char *key, bool required, bool *out,
                          bool *present, struct err *err)
{
	enum status st;
	const cJSON *v = get(obj, key, required, &st, err);

	if (present != NULL)
		*present = v != NULL;
	if (v == NULL)
		return st;
	if (!cJSON_IsBool(v))
		return err_set(err, ST_INVALID, key, "\"%s\" must be true or false", key);
	*out = cJSON_IsTrue(v);
	return ST_OK;
}

enum status json_get_time(const cJSON *obj, const char *key, bool required, int64_t *out,
                          bool *present, struct err *err)
{
	enum status st;
	const cJSON *v = get(obj, key, required, &st, err);

	if (present != NULL)
		*present = v != NULL;
	if (v == NULL)
		return st;
	if (!cJSON_IsString(v))
		return err_set(err, ST_INVALID, key,
		               "\"%s\" must be a date-time string such as \"2026-11-23T10:00:00Z\"",
		               key);
	return time_parse(v->valuestring, out, key, err);
}

enum status json_get_date(const cJSON *obj, const char *key, bool required, int32_t *out,
                          bool *present, struct err *err)
{
	enum status st;
	const cJSON *v = get(obj, key, required, &st, err);

	if (present != NULL)
		*present = v != NULL;
	if (v == NULL)
		return st;
	if (!cJSON_IsString(v))
		return err_set(err, ST_INVALID, key, "\"%s\" must be a date such as \"2026-11-23\"",
		               key);
	return date_parse(v->valuestring, out, key, err);
}

enum status json_only_keys(const cJSON *obj, const char *const *allowed, struct err *err)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, obj)
	{
		bool ok = false;

		for (size_t i = 0; allowed[i] != NULL && !ok; i++)
			ok = strcmp(item->string, allowed[i]) == 0;
		if (!ok)
			return err_set(err, ST_INVALID, item->string, "unknown field \"%s\"",
			               item->string);
	}
	return ST_OK;
}

char *json_string_array(const char *const *items, int n)
{
	cJSON *a = cJSON_CreateArray();
	char *text, *out;

	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(items[i]));
	text = cJSON_PrintUnformatted(a);
	ASSERT(text != NULL);
	out = xstrdup(text);
	cJSON_free(text);
	cJSON_Delete(a);
	return out;
}

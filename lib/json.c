/*
 * json.c - typed, validated access to request fields (see json.h).
 */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cbtime.h"
#include "xmalloc.h"
#include "utf8.h"

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

/* A key fit to be named in an error: short, printable ASCII, no escapes. */
static bool key_nameable(const char *s, size_t len)
{
	if (len == 0 || len >= ERR_FIELD_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '\\' || s[i] == '"')
			return false;
	return true;
}

/*
 * One pass over the raw text, before cJSON sees it: every byte well-formed
 * UTF-8 and no NUL, raw or escaped.  Strings are followed to tell keys from
 * values, so that a bad value is reported under its key.  Whether the text is
 * JSON at all is left to cJSON.
 */
static enum status text_check(const char *data, size_t len, struct err *err)
{
	const char *key = NULL; /* the last key seen, if nameable */
	size_t key_len = 0;
	size_t i = 0;

	while (i < len) {
		const char *problem = NULL;
		size_t start, end, j;

		if (data[i] == '\0')
			return err_set(err, ST_INVALID, NULL, "request body contains a NUL byte");
		if (data[i] != '"') {
			size_t n = utf8_seq_len(data + i, len - i);

			if (n == 0)
				return err_set(err, ST_INVALID, NULL,
				               "request body is not valid UTF-8");
			i += n;
			continue;
		}
		/* a string: find its end, noting the first problem inside */
		start = ++i;
		while (i < len && data[i] != '"') {
			size_t n;

			if (data[i] == '\\') {
				if (i + 5 < len && data[i + 1] == 'u' &&
				    memcmp(data + i + 2, "0000", 4) == 0 && problem == NULL)
					problem = "a NUL character (\\u0000)";
				i += i + 1 < len ? 2 : 1;
				continue;
			}
			n = data[i] == '\0' ? 0 : utf8_seq_len(data + i, len - i);
			if (n == 0) {
				if (problem == NULL)
					problem = data[i] == '\0' ? "a NUL byte"
					                          : "text that is not valid UTF-8";
				n = 1;
			}
			i += n;
		}
		end = i;
		if (i < len)
			i++; /* the closing quote; an unterminated string is cJSON's to refuse */
		for (j = i; j < len && strchr(" \t\r\n", data[j]) != NULL && data[j] != '\0'; j++)
			;
		if (j < len && data[j] == ':') {
			if (problem != NULL)
				return err_set(err, ST_INVALID, NULL, "a field name contains %s",
				               problem);
			key = key_nameable(data + start, end - start) ? data + start : NULL;
			key_len = end - start;
			continue;
		}
		if (problem == NULL)
			continue;
		if (key == NULL)
			return err_set(err, ST_INVALID, NULL, "request body contains %s", problem);
		{
			char field[ERR_FIELD_MAX];

			memcpy(field, key, key_len);
			field[key_len] = '\0';
			return err_set(err, ST_INVALID, field, "\"%s\" contains %s", field,
			               problem);
		}
	}
	return ST_OK;
}

enum status json_body_parse(const char *data, size_t len, cJSON **out, struct err *err)
{
	const char *end = NULL;
	enum status st;
	cJSON *root;

	*out = NULL;
	st = text_check(data, len, err);
	if (st != ST_OK)
		return st;
	root = cJSON_ParseWithLengthOpts(data, len, &end, false);
	if (root == NULL)
		return err_set(err, ST_INVALID, NULL, "request body is not valid JSON");
	while (end < data + len && strchr(" \t\r\n", *end) != NULL && *end != '\0')
		end++;
	if (end != data + len) {
		cJSON_Delete(root);
		return err_set(err, ST_INVALID, NULL,
		               "request body has %zu bytes after the JSON value",
		               (size_t)(data + len - end));
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return err_set(err, ST_INVALID, NULL, "request body must be a JSON object");
	}
	*out = root;
	return ST_OK;
}

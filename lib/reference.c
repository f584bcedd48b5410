/*
 * reference.c - reading and checking a reference list to import (see
 * reference.h).  Both formats fill the same struct and pass the same checks
 * (import_check), so the CLI and the admin API refuse the same lists.
 */
#include "reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbtime.h"
#include "json.h"
#include "xmalloc.h"

#define CSV_COLUMNS 7
#define CSV_FIELD_MAX 1024 /* longer than any column may be: caught as "too long" */

void reference_import_reset(struct reference_import *imp)
{
	free(imp->items);
	memset(imp, 0, sizeof *imp);
}

bool reference_name_is_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > REFERENCE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		          (i > 0 && (c == '.' || c == '-'));

		if (!ok)
			return false;
	}
	return true;
}

bool reference_key_is_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > REFERENCE_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || (i > 0 && c == '_');

		if (!ok)
			return false;
	}
	return true;
}

static bool has_control(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	}
	return false;
}

/* The checks both formats share; errors name the item by its "where". */
static enum status import_check(const struct reference_import *imp, const char *field,
                                struct err *err)
{
	if (imp->nitems == 0)
		return err_set(err, ST_INVALID, field, "the list has no items");
	if (!reference_name_is_valid(imp->name))
		return err_set(
		    err, ST_INVALID, field,
		    "%slist name \"%.64s\" must be lower-case letters, digits, \".\" and "
		    "\"-\", at most %d characters",
		    field[0] == 'f' ? "line 2: " : "", imp->name, REFERENCE_NAME_MAX);
	if (imp->version[0] == '\0' || has_control(imp->version))
		return err_set(err, ST_INVALID, field, "%slist version must not be empty",
		               field[0] == 'f' ? "line 2: " : "");
	for (size_t i = 0; i < imp->nitems; i++) {
		const struct reference_item *it = &imp->items[i];

		if (!reference_key_is_valid(it->key))
			return err_set(
			    err, ST_INVALID, field,
			    "%s: key \"%.64s\" must be letters, digits and \"_\", at most "
			    "%d characters",
			    it->where, it->key, REFERENCE_KEY_MAX);
		if (it->label[0] == '\0' || has_control(it->label))
			return err_set(err, ST_INVALID, field,
			               "%s: label must not be empty nor hold control characters",
			               it->where);
		if ((it->older_list[0] == '\0') != (it->older_key[0] == '\0'))
			return err_set(err, ST_INVALID, field,
			               "%s: older_list and older_key go together", it->where);
		if (strcmp(it->older_list, imp->name) == 0)
			return err_set(err, ST_INVALID, field,
			               "%s: older_list must name another list, not this one",
			               it->where);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(imp->items[j].key, it->key) == 0)
				return err_set(err, ST_INVALID, field,
				               "%s: key \"%s\" is already used (%s)", it->where,
				               it->key, imp->items[j].where);
		}
	}
	return ST_OK;
}

/*
 * One CSV record from text[*pos..len) into fields (each CSV_FIELD_MAX);
 * *line advances over the line ends consumed (quoted fields may span lines).
 * Returns the number of fields, or -1 with a message for a broken quote.
 */
static int csv_record(const char *text, size_t len, size_t *pos, int *line,
                      char fields[][CSV_FIELD_MAX], int maxf, bool *too_long, const char **why)
{
	size_t p = *pos, n = 0;
	int nf = 0;
	bool quoted = false, was_quoted = false;

	*too_long = false;
	if (maxf > 0)
		fields[0][0] = '\0';
	for (;;) {
		char c = p < len ? text[p] : '\0';
		bool end = p >= len;

		if (quoted) {
			if (end) {
				*why = "a quoted field is not closed";
				return -1;
			}
			if (c == '"' && p + 1 < len && text[p + 1] == '"') {
				p += 2;
				c = '"';
			} else if (c == '"') {
				quoted = false;
				p++;
				continue;
			} else {
				if (c == '\n')
					(*line)++;
				p++;
			}
		} else if (end || c == '\n' || c == '\r' || c == ',') {
			if (nf < maxf)
				fields[nf][n < CSV_FIELD_MAX ? n : CSV_FIELD_MAX - 1] = '\0';
			nf++;
			n = 0;
			was_quoted = false;
			if (end || c != ',') {
				if (c == '\r')
					p++;
				if (p < len && text[p] == '\n')
					p++;
				*pos = p;
				return nf;
			}
			p++;
			if (nf < maxf)
				fields[nf][0] = '\0';
			continue;
		} else if (c == '"' && n == 0 && !was_quoted) {
			quoted = was_quoted = true;
			p++;
			continue;
		} else if (c == '"' || was_quoted) {
			*why =
			    "a quote inside an unquoted field (quote the whole field, and double "
			    "the quote)";
			return -1;
		} else {
			p++;
		}
		if (nf < maxf) {
			if (n + 1 < CSV_FIELD_MAX)
				fields[nf][n] = c;
			else
				*too_long = true;
		}
		n++;
	}
}

/* Copy a CSV field into out (size bytes); false when it does not fit. */
static bool copy_field(char *out, size_t size, const char *in)
{
	if (strlen(in) >= size)
		return false;
	memcpy(out, in, strlen(in) + 1);
	return true;
}

enum status reference_import_from_csv(const char *text, size_t len, struct reference_import *out,
                                      struct err *err)
{
	char fields[CSV_COLUMNS + 1][CSV_FIELD_MAX];
	size_t pos = 0, cap = 0;
	int line = 1;
	const char *why = NULL;
	bool too_long;

	memset(out, 0, sizeof *out);
	if (len >= 3 && (unsigned char)text[0] == 0xef && (unsigned char)text[1] == 0xbb &&
	    (unsigned char)text[2] == 0xbf)
		pos = 3; /* a UTF-8 byte-order mark, as spreadsheets write */
	{
		static const char *const names[CSV_COLUMNS] = {
		    "list", "version", "key", "label", "active_from", "older_list", "older_key"};
		int nf =
		    csv_record(text, len, &pos, &line, fields, CSV_COLUMNS + 1, &too_long, &why);
		bool same = nf == CSV_COLUMNS;

		if (nf < 0)
			return err_set(err, ST_INVALID, "file", "line 1: %s", why);
		for (int i = 0; same && i < CSV_COLUMNS; i++)
			same = strcmp(fields[i], names[i]) == 0;
		if (!same)
			return err_set(err, ST_INVALID, "file", "line 1: the header must be \"%s\"",
			               REFERENCE_CSV_HEADER);
	}
	while (pos < len) {
		int first = ++line, nf;
		struct reference_item *it;

		nf = csv_record(text, len, &pos, &line, fields, CSV_COLUMNS + 1, &too_long, &why);
		if (nf < 0) {
			reference_import_reset(out);
			return err_set(err, ST_INVALID, "file", "line %d: %s", first, why);
		}
		if (nf == 1 && fields[0][0] == '\0')
			continue; /* a blank line */
		if (nf != CSV_COLUMNS) {
			reference_import_reset(out);
			return err_set(err, ST_INVALID, "file", "line %d: %d fields, not %d", first,
			               nf, CSV_COLUMNS);
		}
		if (out->nitems == REFERENCE_ITEMS_MAX) {
			reference_import_reset(out);
			return err_set(err, ST_INVALID, "file", "line %d: more than %d items",
			               first, REFERENCE_ITEMS_MAX);
		}
		if (out->nitems == 0) {
			if (!copy_field(out->name, sizeof out->name, fields[0]) ||
			    !copy_field(out->version, sizeof out->version, fields[1]))
				return err_set(err, ST_INVALID, "file",
				               "line %d: list or version is too long", first);
			snprintf(out->title, sizeof out->title, "%s", out->name);
		} else if (strcmp(out->name, fields[0]) != 0 ||
		           strcmp(out->version, fields[1]) != 0) {
			reference_import_reset(out);
			return err_set(err, ST_INVALID, "file",
			               "line %d: every row must name the same list and version as "
			               "line 2",
			               first);
		}
		if (out->nitems == cap) {
			cap = cap ? cap * 2 : 32;
			out->items = xrealloc(out->items, cap * sizeof *out->items);
		}
		it = &out->items[out->nitems++];
		memset(it, 0, sizeof *it);
		snprintf(it->where, sizeof it->where, "line %d", first);
		if (too_long || !copy_field(it->key, sizeof it->key, fields[2]) ||
		    !copy_field(it->label, sizeof it->label, fields[3]) ||
		    !copy_field(it->older_list, sizeof it->older_list, fields[5]) ||
		    !copy_field(it->older_key, sizeof it->older_key, fields[6])) {
			reference_import_reset(out);
			return err_set(err, ST_INVALID, "file", "line %d: a field is too long",
			               first);
		}
		if (date_parse(fields[4], &it->active_from, "active_from", NULL) != ST_OK) {
			reference_import_reset(out);
			return err_set(err, ST_INVALID, "file",
			               "line %d: active_from \"%.20s\" is not a date (YYYY-MM-DD)",
			               first, fields[4]);
		}
	}
	if (import_check(out, "file", err) != ST_OK) {
		reference_import_reset(out);
		return ST_INVALID;
	}
	return ST_OK;
}

static const char *const list_fields[] = {"list", "version", "title", "default", "items", NULL};
static const char *const item_fields[] = {"key",        "label",     "active_from",
                                          "older_list", "older_key", NULL};

/* json_* errors name the key; say which item as well. */
static enum status item_error(struct err *err, size_t i)
{
	char field[ERR_FIELD_MAX];

	if (err != NULL) {
		snprintf(field, sizeof field, "items[%zu].%.40s", i, err->field);
		snprintf(err->field, sizeof err->field, "%s", field);
	}
	return ST_INVALID;
}

enum status reference_import_from_json(const cJSON *body, struct reference_import *out,
                                       struct err *err)
{
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(body, "items"), *it;
	enum status st;
	size_t i = 0;

	memset(out, 0, sizeof *out);
	if ((st = json_only_keys(body, list_fields, err)) != ST_OK ||
	    (st = json_get_string(body, "list", true, out->name, sizeof out->name, err)) != ST_OK ||
	    (st = json_get_string(body, "version", true, out->version, sizeof out->version, err)) !=
	        ST_OK ||
	    (st = json_get_string(body, "title", false, out->title, sizeof out->title, err)) !=
	        ST_OK ||
	    (st = json_get_bool(body, "default", false, &out->make_default, NULL, err)) != ST_OK)
		return st;
	if (out->title[0] == '\0')
		snprintf(out->title, sizeof out->title, "%s", out->name);
	if (!reference_name_is_valid(out->name))
		return err_set(err, ST_INVALID, "list",
		               "\"list\" must be lower-case letters, digits, \".\" and \"-\", at "
		               "most %d characters",
		               REFERENCE_NAME_MAX);
	if (!cJSON_IsArray(items) || cJSON_GetArraySize(items) == 0)
		return err_set(err, ST_INVALID, "items", "\"items\" must be a non-empty array");
	if (cJSON_GetArraySize(items) > REFERENCE_ITEMS_MAX)
		return err_set(err, ST_INVALID, "items", "\"items\" holds more than %d items",
		               REFERENCE_ITEMS_MAX);
	out->items = xcalloc((size_t)cJSON_GetArraySize(items), sizeof *out->items);
	cJSON_ArrayForEach(it, items)
	{
		struct reference_item *ri = &out->items[i];

		snprintf(ri->where, sizeof ri->where, "items[%zu]", i);
		if (!cJSON_IsObject(it)) {
			reference_import_reset(out);
			return err_set(err, ST_INVALID, "items", "items[%zu] must be an object", i);
		}
		if ((st = json_only_keys(it, item_fields, err)) != ST_OK ||
		    (st = json_get_string(it, "key", true, ri->key, sizeof ri->key, err)) !=
		        ST_OK ||
		    (st = json_get_string(it, "label", true, ri->label, sizeof ri->label, err)) !=
		        ST_OK ||
		    (st = json_get_date(it, "active_from", true, &ri->active_from, NULL, err)) !=
		        ST_OK ||
		    (st = json_get_string(it, "older_list", false, ri->older_list,
		                          sizeof ri->older_list, err)) != ST_OK ||
		    (st = json_get_string(it, "older_key", false, ri->older_key,
		                          sizeof ri->older_key, err)) != ST_OK) {
			reference_import_reset(out);
			return item_error(err, i);
		}
		out->nitems = ++i;
	}
	if ((st = import_check(out, "items", err)) != ST_OK)
		reference_import_reset(out);
	return st;
}

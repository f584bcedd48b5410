/*
 * json.h - reading request fields out of cJSON objects with one clear error
 * per problem: `missing required field "ward"`, `"pathway" must be an integer`.
 *
 * Each getter returns ST_OK (also when an optional field is absent: *present
 * tells), or ST_INVALID with err->field set to the key.  JSON null counts as
 * absent for optional fields and as missing for required ones.
 */
#ifndef CB_JSON_H
#define CB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "status.h"

/* True if key is present and not null. */
bool json_has(const cJSON *obj, const char *key);

/* True if key is present and explicitly null (a request to clear a value). */
bool json_is_null(const cJSON *obj, const char *key);

/*
 * A string of 1..size-1 bytes (after trimming nothing); absent and optional
 * leaves out untouched.  Control characters other than tab are refused.
 */
enum status json_get_string(const cJSON *obj, const char *key, bool required, char *out,
                            size_t size, struct err *err);

/* An integer within min..max; *present (may be NULL) says whether it was given. */
enum status json_get_int(const cJSON *obj, const char *key, bool required, int64_t min, int64_t max,
                         int64_t *out, bool *present, struct err *err);

/* A boolean. */
enum status json_get_bool(const cJSON *obj, const char *key, bool required, bool *out,
                          bool *present, struct err *err);

/* An RFC 3339 date-time (see time_parse) as Unix seconds. */
enum status json_get_time(const cJSON *obj, const char *key, bool required, int64_t *out,
                          bool *present, struct err *err);

/* A calendar date "YYYY-MM-DD" as a day number. */
enum status json_get_date(const cJSON *obj, const char *key, bool required, int32_t *out,
                          bool *present, struct err *err);

/*
 * n strings as the text of a JSON array ("[\"A\",\"B\"]"), built by cJSON so
 * that any byte of any item survives: what the store passes to PostgreSQL
 * where it needs a text[] (cb_text_array($1::jsonb)), never an array literal
 * built by hand.  A new string (free()).
 */
char *json_string_array(const char *const *items, int n);

/*
 * The JSON boundary: parse a request body of len bytes (not NUL-terminated)
 * into a new object *out (the caller frees it with cJSON_Delete; NULL on
 * error).  Refused with ST_INVALID, before any field is read: text that is
 * not well-formed UTF-8 (see utf8.h), a NUL byte raw or as \u0000 (C strings
 * would cut the text short there), a body that is not JSON, anything but
 * white space after the value, and a value that is not an object.  A problem
 * inside a string names the field it belongs to (the last key before it).
 */
enum status json_body_parse(const char *data, size_t len, cJSON **out, struct err *err);

/* Refuse keys that are not in allowed (NULL-terminated): typos are errors. */
enum status json_only_keys(const cJSON *obj, const char *const *allowed, struct err *err);

#endif

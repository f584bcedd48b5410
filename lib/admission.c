/*
 * admission.c - validating admissions and planning day-one work (see
 * admission.h).
 */
#include "admission.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cbtime.h"
#include "json.h"
#include "nhs.h"
#include "xmalloc.h"

static const char *const admission_fields[] = {
    "nhs_number", "family_name", "given_name",
    "birth_date", "sex",         "ward",
    "bed",        "admitted_at", "expected_discharge_date",
    "pathway",    "external_id", "needs",
    NULL,
};

/* A ward code as the schema allows: letters, digits, '_' and '-', 1..32. */
static bool ward_code_is_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ADMISSION_WARD_MAX || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

bool text_is_uuid(const char *s)
{
	if (s == NULL || strlen(s) != 36)
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

enum status admission_parse(const cJSON *body, int64_t now, struct admission *out, struct err *err)
{
	char nhs[32] = "";
	int64_t pathway = -1;
	bool present;
	enum status st;

	memset(out, 0, sizeof *out);
	out->pathway = -1;
	if ((st = json_only_keys(body, admission_fields, err)) != ST_OK)
		return st;
	if ((st = json_get_string(body, "nhs_number", true, nhs, sizeof nhs, err)) != ST_OK)
		return st;
	if ((st = nhs_number_parse(nhs, out->nhs_number, err)) != ST_OK)
		return st;
	if ((st = json_get_string(body, "family_name", true, out->family_name,
	                          sizeof out->family_name, err)) != ST_OK ||
	    (st = json_get_string(body, "given_name", true, out->given_name, sizeof out->given_name,
	                          err)) != ST_OK ||
	    (st = json_get_date(body, "birth_date", true, &out->birth_date, NULL, err)) != ST_OK ||
	    (st = json_get_string(body, "sex", false, out->sex, sizeof out->sex, err)) != ST_OK ||
	    (st = json_get_string(body, "ward", true, out->ward, sizeof out->ward, err)) != ST_OK ||
	    (st = json_get_string(body, "bed", false, out->bed, sizeof out->bed, err)) != ST_OK ||
	    (st = json_get_time(body, "admitted_at", true, &out->admitted_at, NULL, err)) !=
	        ST_OK ||
	    (st = json_get_date(body, "expected_discharge_date", false,
	                        &out->expected_discharge_date, &out->has_expected_discharge,
	                        err)) != ST_OK ||
	    (st = json_get_int(body, "pathway", false, 0, 3, &pathway, &present, err)) != ST_OK ||
	    (st = json_get_string(body, "external_id", false, out->external_id,
	                          sizeof out->external_id, err)) != ST_OK ||
	    (st = json_get_string(body, "needs", false, out->needs, sizeof out->needs, err)) !=
	        ST_OK)
		return st;
	out->pathway = present ? (int)pathway : -1;
	if (out->sex[0] != '\0' && strcmp(out->sex, "female") != 0 &&
	    strcmp(out->sex, "male") != 0 && strcmp(out->sex, "other") != 0 &&
	    strcmp(out->sex, "unknown") != 0)
		return err_set(err, ST_INVALID, "sex",
		               "\"sex\" must be female, male, other or unknown");
	if (!ward_code_is_valid(out->ward))
		return err_set(err, ST_INVALID, "ward", "\"ward\" is not a valid ward code");
	if (out->birth_date > london_date(now))
		return err_set(err, ST_INVALID, "birth_date", "\"birth_date\" is in the future");
	if (out->birth_date < date_from_ymd(1880, 1, 1))
		return err_set(err, ST_INVALID, "birth_date",
		               "\"birth_date\" is implausibly early");
	if (out->admitted_at > now + 24 * 3600)
		return err_set(err, ST_INVALID, "admitted_at",
		               "\"admitted_at\" is more than a day in the future");
	if (london_date(out->admitted_at) < out->birth_date)
		return err_set(err, ST_INVALID, "admitted_at", "\"admitted_at\" is before birth");
	if (out->has_expected_discharge &&
	    out->expected_discharge_date < london_date(out->admitted_at))
		return err_set(err, ST_INVALID, "expected_discharge_date",
		               "\"expected_discharge_date\" is before the admission");
	return ST_OK;
}

char *admission_fingerprint(const struct admission *a)
{
	cJSON *v = cJSON_CreateArray();
	char *text, *out;

	cJSON_AddItemToArray(v, cJSON_CreateString("admission/1"));
	cJSON_AddItemToArray(v, cJSON_CreateString(a->nhs_number));
	cJSON_AddItemToArray(v, cJSON_CreateString(a->family_name));
	cJSON_AddItemToArray(v, cJSON_CreateString(a->given_name));
	cJSON_AddItemToArray(v, cJSON_CreateNumber(a->birth_date));
	cJSON_AddItemToArray(v, cJSON_CreateString(a->sex));
	cJSON_AddItemToArray(v, cJSON_CreateString(a->ward));
	cJSON_AddItemToArray(v, cJSON_CreateString(a->bed));
	cJSON_AddItemToArray(v, cJSON_CreateNumber((double)a->admitted_at));
	cJSON_AddItemToArray(v, a->has_expected_discharge
	                            ? cJSON_CreateNumber(a->expected_discharge_date)
	                            : cJSON_CreateNull());
	cJSON_AddItemToArray(v, cJSON_CreateNumber(a->pathway));
	cJSON_AddItemToArray(v, cJSON_CreateString(a->external_id));
	/* only when given, so a retry's fingerprint from before "needs" existed still matches */
	if (a->needs[0] != '\0')
		cJSON_AddItemToArray(v, cJSON_CreateString(a->needs));
	text = cJSON_PrintUnformatted(v);
	ASSERT(text != NULL);
	out = xstrdup(text); /* the caller frees with free() */
	cJSON_free(text);
	cJSON_Delete(v);
	return out;
}

int64_t admission_expected_discharge_at(int32_t day)
{
	int y, m, d;
	int64_t t = 0;

	date_to_ymd(day, &y, &m, &d);
	if (london_local_to_utc(y, m, d, 12, 0, 0, &t) != ST_OK)
		t = london_midnight_start(day) + 12 * 3600;
	return t;
}

size_t admission_plan(const struct admission *a, const struct task_template *templates, size_t n,
                      struct planned_task *out)
{
	const struct task_template **sel = xcalloc(n != 0 ? n : 1, sizeof *sel);
	int64_t edd = a->has_expected_discharge
	                  ? admission_expected_discharge_at(a->expected_discharge_date)
	                  : 0;
	size_t k = template_select(templates, n, a->pathway, sel);

	for (size_t i = 0; i < k; i++) {
		out[i].tpl = sel[i];
		if (template_due_at(sel[i], a->admitted_at, edd, &out[i].due_at) != ST_OK)
			out[i].due_at = 0;
	}
	free(sel);
	return k;
}

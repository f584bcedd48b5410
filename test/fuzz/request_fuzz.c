/*
 * request_fuzz.c - libFuzzer target for the decoding of every JSON request
 * body: the boundary check (json_body_parse, lib/json.c and lib/utf8.c) and
 * then the decoder of one request type.
 *
 * The first input byte picks the request type (modulo the table below); the
 * rest is the body as it would arrive.  Admissions run through their lib/
 * decoder (admission_parse); the other types' decoders live in server/api_*.c
 * next to their handlers, so each is mirrored here by its field list and the
 * lib/ getters and validators it calls, in the same order.  Properties that
 * must hold whatever the input, else abort (a crash to libFuzzer):
 *   - a body the boundary accepts is an object whose every key and string is
 *     well-formed UTF-8, and which prints as JSON that parses and prints the
 *     same again;
 *   - a body it refuses leaves *out NULL and says why;
 *   - strings a getter accepts fit their buffer and hold no control byte.
 * Built and run by scripts/fuzz only; not part of the unit tests.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "admission.h"
#include "assessment.h"
#include "episode.h"
#include "json.h"
#include "task.h"
#include "utf8.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum kind { K_STRING, K_INT, K_BOOL, K_TIME, K_DATE, K_STRINGS };

struct field {
	const char *name; /* the key */
	enum kind kind;   /* how the server reads it */
	bool required;    /* missing is an error */
};

#define NFIELDS 10

struct request_type {
	const char *name;                   /* for the reader only */
	const char *const allowed[NFIELDS]; /* json_only_keys list, NULL-terminated */
	struct field fields[NFIELDS];       /* read in this order */
	void (*extra)(const cJSON *body);   /* the lib/ validators it calls, or NULL */
};

/* A string field as the server reads it, checked against the getter's promises. */
static enum status get_string(const cJSON *b, const char *key, bool required, char *out,
                              size_t size)
{
	struct err err;
	enum status st = json_get_string(b, key, required, out, size, &err);

	if (st == ST_OK && json_has(b, key)) {
		size_t len = strlen(out);

		ASSERT(len < size);
		ASSERT(utf8_is_valid(out, len, NULL));
		for (size_t i = 0; i < len; i++)
			ASSERT((unsigned char)out[i] >= 0x20 || out[i] == '\t' || out[i] == '\n');
	}
	return st;
}

static void admission_extra(const cJSON *b)
{
	struct admission adm;
	struct err err;

	(void)admission_parse(b, 1795430400, &adm, &err);
}

static void task_extra(const cJSON *b)
{
	char s[256];
	enum task_status ts;
	struct err err;

	if (get_string(b, "discipline", false, s, sizeof s) == ST_OK && json_has(b, "discipline"))
		(void)discipline_validate(s, &err);
	if (get_string(b, "status", false, s, sizeof s) == ST_OK && json_has(b, "status"))
		(void)task_status_parse(s, &ts, &err);
}

static void assessment_extra(const cJSON *b)
{
	char s[64];
	enum assessment_state as;
	struct err err;

	if (get_string(b, "state", false, s, sizeof s) == ST_OK && json_has(b, "state"))
		(void)assessment_state_parse(s, &as, &err);
}

static void user_extra(const cJSON *b)
{
	char s[64];
	enum role role;
	struct err err;

	if (get_string(b, "role", true, s, sizeof s) == ST_OK)
		(void)role_parse_user(s, &role, &err);
}

static void episode_action_extra(const cJSON *b)
{
	char s[64];
	enum episode_state es;
	struct err err;

	if (get_string(b, "destination", false, s, sizeof s) == ST_OK && json_has(b, "destination"))
		(void)episode_state_parse(s, &es, &err);
}

static const struct request_type types[] = {
    {"POST /api/v1/episodes", {NULL}, {{NULL, K_STRING, false}}, admission_extra},
    {"POST /api/v1/session",
     {"name", "password", NULL},
     {{"name", K_STRING, true}, {"password", K_STRING, true}},
     NULL},
    {"POST /api/v1/episodes/{id}/tasks",
     {"discipline", "title", "due_at", "assignee", "note", NULL},
     {{"discipline", K_STRING, true},
      {"title", K_STRING, true},
      {"due_at", K_TIME, false},
      {"assignee", K_STRING, false},
      {"note", K_STRING, false}},
     task_extra},
    {"PATCH /api/v1/tasks/{id}",
     {"status", "assignee", "due_at", "note", NULL},
     {{"status", K_STRING, false},
      {"assignee", K_STRING, false},
      {"due_at", K_TIME, false},
      {"note", K_STRING, false}},
     task_extra},
    {"PATCH /api/v1/episodes/{id}",
     {"expected_discharge_date", "pathway", "bed", "ready_at", NULL},
     {{"expected_discharge_date", K_DATE, false},
      {"pathway", K_INT, false},
      {"bed", K_STRING, false},
      {"ready_at", K_TIME, false}},
     NULL},
    {"POST /api/v1/episodes/{id}/transfer",
     {"ward", "bed", NULL},
     {{"ward", K_STRING, true}, {"bed", K_STRING, false}},
     NULL},
    {"POST /api/v1/episodes/{id}/discharge",
     {"pathway", "discharged_at", "destination", NULL},
     {{"pathway", K_INT, true}, {"discharged_at", K_TIME, false}, {"destination", K_STRING, false}},
     episode_action_extra},
    {"PATCH /api/v1/assessments/{id}",
     {"state", "note", NULL},
     {{"state", K_STRING, false}, {"note", K_STRING, false}},
     assessment_extra},
    {"PUT /api/v1/hl7/wards/{code}", {"ward", NULL}, {{"ward", K_STRING, true}}, NULL},
    {"POST /api/v1/webhooks",
     {"url", "secret", "wards", "disciplines", "types", NULL},
     {{"url", K_STRING, true},
      {"secret", K_STRING, false},
      {"wards", K_STRINGS, false},
      {"disciplines", K_STRINGS, false},
      {"types", K_STRINGS, false}},
     NULL},
    {"PATCH /api/v1/webhooks/{id}", {"active", NULL}, {{"active", K_BOOL, true}}, NULL},
    {"POST /api/v1/admin/wards",
     {"code", "name", "beds", "pas_code", NULL},
     {{"code", K_STRING, true},
      {"name", K_STRING, true},
      {"beds", K_INT, false},
      {"pas_code", K_STRING, false}},
     NULL},
    {"POST /api/v1/admin/templates",
     {"min_pathway", "max_pathway", "discipline", "title", "anchor", "offset_seconds", "active",
      "position", NULL},
     {{"min_pathway", K_INT, true},
      {"max_pathway", K_INT, true},
      {"discipline", K_STRING, true},
      {"title", K_STRING, true},
      {"anchor", K_STRING, true},
      {"offset_seconds", K_INT, true},
      {"active", K_BOOL, false},
      {"position", K_INT, false}},
     task_extra},
    {"POST /api/v1/admin/users",
     {"name", "role", "wards", "display_name", "team_lead", NULL},
     {{"name", K_STRING, true},
      {"wards", K_STRINGS, false},
      {"display_name", K_STRING, false},
      {"team_lead", K_BOOL, false}},
     user_extra},
};

/* Every key and string in the tree is well-formed UTF-8. */
static void check_tree(const cJSON *item)
{
	for (; item != NULL; item = item->next) {
		if (item->string != NULL)
			ASSERT(utf8_is_valid(item->string, strlen(item->string), NULL));
		if (cJSON_IsString(item))
			ASSERT(utf8_is_valid(item->valuestring, strlen(item->valuestring), NULL));
		check_tree(item->child);
	}
}

static void decode(const struct request_type *t, const cJSON *b)
{
	struct err err;
	enum status st = ST_OK;

	if (t->allowed[0] != NULL)
		st = json_only_keys(b, t->allowed, &err);
	for (size_t i = 0; st == ST_OK && i < NFIELDS && t->fields[i].name != NULL; i++) {
		const struct field *f = &t->fields[i];
		char s[2048];
		int64_t n;
		int32_t day;
		bool flag, present;
		const cJSON *arr, *v;

		switch (f->kind) {
		case K_STRING:
			st = get_string(b, f->name, f->required, s, sizeof s);
			break;
		case K_INT:
			st = json_get_int(b, f->name, f->required, 0, 1000000, &n, &present, &err);
			break;
		case K_BOOL:
			st = json_get_bool(b, f->name, f->required, &flag, &present, &err);
			break;
		case K_TIME:
			st = json_get_time(b, f->name, f->required, &n, &present, &err);
			break;
		case K_DATE:
			st = json_get_date(b, f->name, f->required, &day, &present, &err);
			break;
		case K_STRINGS:
			arr = cJSON_GetObjectItemCaseSensitive(b, f->name);
			if (!cJSON_IsArray(arr))
				break;
			cJSON_ArrayForEach(v, arr)
			{
				if (cJSON_IsString(v))
					ASSERT(utf8_is_valid(v->valuestring, strlen(v->valuestring),
					                     NULL));
			}
			break;
		}
	}
	if (st == ST_OK && t->extra != NULL)
		t->extra(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct request_type *t;
	struct err err;
	cJSON *body = (cJSON *)1, *again;
	char *printed, *reprinted;
	enum status st;

	if (size == 0)
		return 0;
	t = &types[data[0] % (sizeof types / sizeof types[0])];
	err_clear(&err);
	st = json_body_parse((const char *)data + 1, size - 1, &body, &err);
	if (st != ST_OK) {
		ASSERT(st == ST_INVALID && body == NULL && err.message[0] != '\0');
		return 0;
	}
	ASSERT(cJSON_IsObject(body));
	check_tree(body->child);
	/* what we accepted prints as JSON that parses and prints the same again */
	printed = cJSON_PrintUnformatted(body);
	ASSERT(printed != NULL);
	again = cJSON_Parse(printed);
	ASSERT(again != NULL);
	reprinted = cJSON_PrintUnformatted(again);
	ASSERT(reprinted != NULL && strcmp(printed, reprinted) == 0);
	cJSON_free(reprinted);
	cJSON_Delete(again);
	cJSON_free(printed);
	decode(t, body);
	cJSON_Delete(body);
	return 0;
}

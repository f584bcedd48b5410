/*
 * api_hl7.c - what administrators see and set of the HL7 v2 interface.
 *
 *   GET    /api/v1/hl7/messages?ack=AE&limit=N&offset=N  received messages, newest first
 *   GET    /api/v1/hl7/ward-map                           every PAS location mapping
 *   GET    /api/v1/hl7/ward-map/{pas_code}                one mapping
 *   PUT    /api/v1/hl7/ward-map/{pas_code}                {"ward": "W7"}: map or remap
 *   DELETE /api/v1/hl7/ward-map/{pas_code}                remove a mapping
 *
 * Messages carry raw patient data, so only ACCESS_HL7_READ (admins) reads
 * them and every read is audited; mappings are read with ACCESS_HL7_READ and
 * changed with ACCESS_WARD_MANAGE.  Thin handlers: authorise, check the
 * parameters, one store_hl7 call.
 */
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "admission.h"
#include "api.h"
#include "app.h"
#include "json.h"
#include "store_hl7.h"

#define HL7_LIMIT_DEFAULT 50
#define HL7_LIMIT_MAX 500
#define HL7_OFFSET_MAX 100000000
#define PAS_CODE_MAX 64 /* as hl7_ward_map's CHECK */

static const char PAS_CODE_CHARS[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";

static void reply_cb(struct http_req *r, int code, enum status st, const struct err *err,
                     const char *json)
{
	if (st != ST_OK)
		http_reply_error(r, st, err);
	else if (json == NULL)
		http_reply_empty(r, 204);
	else
		http_reply_data(r, code, "application/json", json, strlen(json));
}

static void ok_done(enum status st, const struct err *err, const char *json, void *arg)
{
	reply_cb(arg, 200, st, err, json);
}

/* Authorise action (no target); on refusal reply 403 and return false. */
static bool allowed(struct http_req *r, enum access_action action)
{
	struct err err;
	enum status st = access_check(&r->principal, action, NULL, &err);

	if (st == ST_OK)
		return true;
	http_reply_error(r, st, &err);
	return false;
}

static void messages_list(struct http_req *r)
{
	struct hl7_message_filter f;
	char ack[8];
	struct actor actor;
	struct err err;
	enum status st = ST_OK;

	if (!allowed(r, ACCESS_HL7_READ))
		return;
	memset(&f, 0, sizeof f);
	if (http_query(r, "ack", ack, sizeof ack) != NULL) {
		if (strcmp(ack, "AA") != 0 && strcmp(ack, "AE") != 0 && strcmp(ack, "AR") != 0)
			st = err_set(&err, ST_INVALID, "ack", "\"ack\" must be AA, AE or AR");
		f.ack_code = ack;
	}
	if (st == ST_OK)
		st =
		    http_query_int(r, "limit", HL7_LIMIT_DEFAULT, 1, HL7_LIMIT_MAX, &f.limit, &err);
	if (st == ST_OK)
		st = http_query_int(r, "offset", 0, 0, HL7_OFFSET_MAX, &f.offset, &err);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		return;
	}
	actor_from_req(&actor, r);
	store_hl7_list(r->app->db, &f, &actor, ok_done, r);
}

/* The {pas_code} of the route is one a mapping can have; else 404 (it names nothing). */
static bool pas_code_ok(struct http_req *r)
{
	const char *code = r->params[0];
	size_t n = strlen(code);
	struct err err;

	if (n > 0 && n <= PAS_CODE_MAX && strspn(code, PAS_CODE_CHARS) == n)
		return true;
	err_set(&err, ST_NOT_FOUND, "pas_code", "ward mapping not found");
	http_reply_error(r, ST_NOT_FOUND, &err);
	return false;
}

static void ward_map_list(struct http_req *r)
{
	if (allowed(r, ACCESS_HL7_READ))
		store_hl7_ward_map_list(r->app->db, ok_done, r);
}

static void ward_map_get(struct http_req *r)
{
	if (allowed(r, ACCESS_HL7_READ) && pas_code_ok(r))
		store_hl7_ward_map_get(r->app->db, r->params[0], ok_done, r);
}

static const char *const put_fields[] = {"ward", NULL};

static void ward_map_put(struct http_req *r)
{
	char ward[ADMISSION_WARD_MAX + 1];
	struct actor actor;
	struct err err;
	cJSON *body = NULL;
	enum status st;

	if (!allowed(r, ACCESS_WARD_MANAGE) || !pas_code_ok(r))
		return;
	st = http_body_json(r, &body, &err);
	if (st == ST_OK)
		st = json_only_keys(body, put_fields, &err);
	if (st == ST_OK)
		st = json_get_string(body, "ward", true, ward, sizeof ward, &err);
	cJSON_Delete(body);
	if (st == ST_OK && ward[0] == '\0')
		st = err_set(&err, ST_INVALID, "ward", "\"ward\" must not be empty");
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		return;
	}
	actor_from_req(&actor, r);
	store_hl7_ward_map_put(r->app->db, r->params[0], ward, &actor, ok_done, r);
}

static void ward_map_delete(struct http_req *r)
{
	struct actor actor;

	if (!allowed(r, ACCESS_WARD_MANAGE) || !pas_code_ok(r))
		return;
	actor_from_req(&actor, r);
	store_hl7_ward_map_delete(r->app->db, r->params[0], &actor, ok_done, r);
}

const struct route hl7_routes[] = {
    {EVHTTP_REQ_GET, "/api/v1/hl7/messages", messages_list, 0},
    {EVHTTP_REQ_GET, "/api/v1/hl7/ward-map", ward_map_list, 0},
    {EVHTTP_REQ_GET, "/api/v1/hl7/ward-map/{pas_code}", ward_map_get, 0},
    {EVHTTP_REQ_PUT, "/api/v1/hl7/ward-map/{pas_code}", ward_map_put, 0},
    {EVHTTP_REQ_DELETE, "/api/v1/hl7/ward-map/{pas_code}", ward_map_delete, 0},
    {0, NULL, NULL, 0},
};

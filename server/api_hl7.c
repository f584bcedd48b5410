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
 * changed with ACCESS_WARD_MANAGE, as the route table declares (http.c
 * checks the role and the {pas_code}'s form before a handler runs).  Thin
 * handlers: check the other parameters, one store_hl7 call.
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

static void messages_list(struct http_req *r)
{
	struct hl7_message_filter f;
	char ack[8];
	struct actor actor;
	struct err err;
	enum status st = ST_OK;

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

static void ward_map_list(struct http_req *r)
{
	store_hl7_ward_map_list(r->app->db, ok_done, r);
}

static void ward_map_get(struct http_req *r)
{
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

	actor_from_req(&actor, r);
	store_hl7_ward_map_delete(r->app->db, r->params[0], &actor, ok_done, r);
}

const struct route hl7_routes[] = {
    ROUTE(EVHTTP_REQ_GET, "/api/v1/hl7/messages", messages_list, ACCESS_HL7_READ, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/hl7/ward-map", ward_map_list, ACCESS_HL7_READ, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/hl7/ward-map/{pas_code}", ward_map_get, ACCESS_HL7_READ,
          ROUTE_ID_PAS_CODE),
    ROUTE(EVHTTP_REQ_PUT, "/api/v1/hl7/ward-map/{pas_code}", ward_map_put, ACCESS_WARD_MANAGE,
          ROUTE_ID_PAS_CODE),
    ROUTE(EVHTTP_REQ_DELETE, "/api/v1/hl7/ward-map/{pas_code}", ward_map_delete, ACCESS_WARD_MANAGE,
          ROUTE_ID_PAS_CODE),
    ROUTE_END,
};

/*
 * api_message.c - messages to people (issue 17): contact details and the
 * delivery status of the outbox.
 *
 *   GET  /api/v1/me/contact           one's own e-mail, mobile, channels, quiet hours
 *   PUT  /api/v1/me/contact           set them {email, mobile, channels, quiet_start, quiet_end}
 *   GET  /api/v1/users/{id}/contact   an administrator's view of a user's
 *   PUT  /api/v1/users/{id}/contact   an administrator sets them
 *   GET  /api/v1/messages             the outbox, newest first (?status=, ?limit=):
 *                                     status, attempts, last error, subject; no body
 *
 * Thin handlers: parse, check (lib/message message_contact_check), one store
 * call (audited as "user.contact").  PUT replaces every field: one left out
 * is cleared (channels left out: none).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "access.h"
#include "api.h"
#include "app.h"
#include "json.h"
#include "message.h"
#include "store_message.h"
#include "xmalloc.h"

#define CONTACT_EMAIL_MAX 255
#define CONTACT_MOBILE_MAX 17
#define MESSAGES_LIMIT_MAX 1000

static const char *const contact_fields[] = {"email",       "mobile",    "channels",
                                             "quiet_start", "quiet_end", NULL};

/* An optional string field that may be null (absent or null: NULL). */
static enum status opt_string(const cJSON *b, const char *key, char *buf, size_t size,
                              const char **out, struct err *err)
{
	enum status st;

	*out = NULL;
	if (!json_has(b, key))
		return ST_OK;
	buf[0] = '\0';
	st = json_get_string(b, key, false, buf, size, err);
	if (st == ST_OK)
		*out = buf;
	return st;
}

static void contact_put(struct http_req *r, const char *user_id)
{
	char email[CONTACT_EMAIL_MAX], mobile[CONTACT_MOBILE_MAX], qs[8], qe[8];
	struct contact_input in = {0};
	const cJSON *chans, *c;
	struct actor actor;
	struct err err;
	cJSON *b = NULL;
	enum status st;

	st = http_body_json(r, &b, &err);
	if (st == ST_OK)
		st = json_only_keys(b, contact_fields, &err);
	if (st == ST_OK)
		st = opt_string(b, "email", email, sizeof email, &in.email, &err);
	if (st == ST_OK)
		st = opt_string(b, "mobile", mobile, sizeof mobile, &in.mobile, &err);
	if (st == ST_OK)
		st = opt_string(b, "quiet_start", qs, sizeof qs, &in.quiet_start, &err);
	if (st == ST_OK)
		st = opt_string(b, "quiet_end", qe, sizeof qe, &in.quiet_end, &err);
	if (st == ST_OK) {
		chans = cJSON_GetObjectItemCaseSensitive(b, "channels");
		if (chans != NULL && !cJSON_IsNull(chans) && !cJSON_IsArray(chans))
			st = err_set(&err, ST_INVALID, "channels",
			             "\"channels\" must be an array of \"email\" and \"sms\"");
		cJSON_ArrayForEach(c, chans)
		{
			if (st != ST_OK)
				break;
			if (cJSON_IsString(c) && strcmp(c->valuestring, "email") == 0)
				in.email_on = true;
			else if (cJSON_IsString(c) && strcmp(c->valuestring, "sms") == 0)
				in.sms_on = true;
			else
				st = err_set(&err, ST_INVALID, "channels",
				             "\"channels\" may hold only \"email\" and \"sms\"");
		}
	}
	if (st == ST_OK)
		st = message_contact_check(in.email, in.mobile, in.quiet_start, in.quiet_end, &err);
	if (st == ST_OK && in.sms_on && in.mobile == NULL)
		st = err_set(&err, ST_INVALID, "mobile", "channel \"sms\" needs a \"mobile\"");
	if (st == ST_OK && in.email_on && in.email == NULL)
		st = err_set(&err, ST_INVALID, "email", "channel \"email\" needs an \"email\"");
	if (st != ST_OK) {
		cJSON_Delete(b);
		http_reply_error(r, st, &err);
		return;
	}
	actor_from_req(&actor, r);
	store_contact_set(r->app->db, user_id, &in, &actor, http_json_ok, r);
	cJSON_Delete(b); /* the store copied every value */
}

static void me_contact_get(struct http_req *r)
{
	store_contact_get(r->app->db, r->principal.id, http_json_ok, r);
}

static void me_contact_put(struct http_req *r)
{
	contact_put(r, r->principal.id);
}

static void user_contact_get(struct http_req *r)
{
	store_contact_get(r->app->db, r->params[0], http_json_ok, r);
}

static void user_contact_put(struct http_req *r)
{
	contact_put(r, r->params[0]);
}

static void messages_list(struct http_req *r)
{
	static const char *const statuses[] = {"queued", "sent", "failed", "permanent_failure",
	                                       NULL};
	char buf[32];
	const char *status = http_query(r, "status", buf, sizeof buf);
	struct err err;
	int limit = 100;
	enum status st = http_query_int(r, "limit", 100, 1, MESSAGES_LIMIT_MAX, &limit, &err);
	bool known = status == NULL;

	for (int i = 0; status != NULL && statuses[i] != NULL; i++)
		if (strcmp(status, statuses[i]) == 0)
			known = true;
	if (st == ST_OK && !known)
		st = err_set(&err, ST_INVALID, "status",
		             "\"status\" must be queued, sent, failed or permanent_failure");
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		return;
	}
	store_message_list(r->app->db, status, limit, http_json_ok, r);
}

const struct route message_routes[] = {
    ROUTE(EVHTTP_REQ_GET, "/api/v1/me/contact", me_contact_get, ACCESS_SELF, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_PUT, "/api/v1/me/contact", me_contact_put, ACCESS_SELF, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/users/{id}/contact", user_contact_get, ACCESS_USER_MANAGE,
          ROUTE_ID_USER),
    ROUTE(EVHTTP_REQ_PUT, "/api/v1/users/{id}/contact", user_contact_put, ACCESS_USER_MANAGE,
          ROUTE_ID_USER),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/messages", messages_list, ACCESS_USER_MANAGE, ROUTE_ID_NONE),
    ROUTE_END,
};

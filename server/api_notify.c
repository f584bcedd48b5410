/*
 * api_notify.c - an administrator's test of the GOV.UK Notify channel.
 *
 *   POST /api/v1/admin/notify-test    send one test message (admin)
 *
 * {"kind": "email" | "sms", "to": address or number, "template_id": UUID
 * (optional: the configured notify_<kind>_template_id), "personalisation":
 * {...} (optional)}.  The message is sent through server/notify_client.c as
 * the outbox sends chases, with the request id as Notify's reference; an
 * outcome to retry is retried (NOTIFY_TEST_ATTEMPTS in all, 1 s then 2 s
 * apart) so that an administrator sees what a chase would meet.  The result
 * is audited ("notify.test": kind, template, outcome, attempts, Notify's id;
 * never the recipient) and answered from the audit's commit:
 *
 *   200 {"outcome": "sent" | "retry" | "permanent", "attempts": N,
 *        "status": HTTP status of the last reply (0: none),
 *        "notification_id": Notify's id or null, "error": class or null,
 *        "message": Notify's message or null}
 *
 * 400 names the field at fault; 409 when no API key is configured.  The
 * route is declared with webhook_manage: the administrators who manage the
 * outbound channels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "api.h"
#include "app.h"
#include "json.h"
#include "notify.h"
#include "notify_client.h"
#include "store_audit.h"
#include "xmalloc.h"

#define NOTIFY_TEST_ATTEMPTS 3 /* sends of one test message at most */

static const char *const notify_test_fields[] = {"kind", "to", "template_id", "personalisation",
                                                 NULL};

/* One test message being sent. */
struct notify_test {
	struct http_req *r;                /* the request, replied to at the end */
	enum notify_kind kind;             /* email or sms */
	char to[NOTIFY_RECIPIENT_MAX + 2]; /* the recipient: never logged or audited */
	char template_id[40];              /* the template used */
	cJSON *personalisation;            /* owned, NULL for none */
	int attempts;                      /* sends made so far */
	struct notify_result result;       /* the last one's */
};

static void notify_test_free(struct notify_test *t)
{
	cJSON_Delete(t->personalisation);
	explicit_bzero(t->to, sizeof t->to);
	free(t);
}

static void test_send(struct notify_test *t);

/* The audit row is written: answer with the outcome. */
static void test_audited(enum status st, const struct err *err, const char *json, void *arg)
{
	struct notify_test *t = arg;
	const struct notify_result *res = &t->result;
	cJSON *out;

	if (st != ST_OK) {
		http_reply_error(t->r, st, err);
		notify_test_free(t);
		return;
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "outcome", notify_outcome_name(res->outcome));
	cJSON_AddNumberToObject(out, "attempts", t->attempts);
	cJSON_AddNumberToObject(out, "status", res->status);
	if (res->id[0] != '\0')
		cJSON_AddStringToObject(out, "notification_id", res->id);
	else
		cJSON_AddNullToObject(out, "notification_id");
	if (res->error[0] != '\0')
		cJSON_AddStringToObject(out, "error", res->error);
	else
		cJSON_AddNullToObject(out, "error");
	if (res->message[0] != '\0')
		cJSON_AddStringToObject(out, "message", res->message);
	else
		cJSON_AddNullToObject(out, "message");
	http_reply_json(t->r, 200, out);
	notify_test_free(t);
}

/* The last attempt is in: audit it (without the recipient or Notify's text). */
static void test_audit(struct notify_test *t)
{
	const struct notify_result *res = &t->result;
	cJSON *d = cJSON_CreateObject();
	struct actor actor;
	char *detail;

	cJSON_AddStringToObject(d, "kind", notify_kind_name(t->kind));
	cJSON_AddStringToObject(d, "template_id", t->template_id);
	cJSON_AddStringToObject(d, "outcome", notify_outcome_name(res->outcome));
	cJSON_AddNumberToObject(d, "attempts", t->attempts);
	cJSON_AddNumberToObject(d, "status", res->status);
	if (res->id[0] != '\0')
		cJSON_AddStringToObject(d, "notification_id", res->id);
	if (res->error[0] != '\0')
		cJSON_AddStringToObject(d, "error", res->error);
	detail = cJSON_PrintUnformatted(d);
	ASSERT(detail != NULL);
	cJSON_Delete(d);
	actor_from_req(&actor, t->r);
	store_audit_notify_test(t->r->app->db, &actor, detail, test_audited, t);
	cJSON_free(detail);
}

static void test_again(evutil_socket_t fd, short what, void *arg)
{
	test_send(arg);
}

static void test_sent(const struct notify_result *res, void *arg)
{
	struct notify_test *t = arg;
	struct timeval wait = {t->attempts, 0}; /* 1 s, then 2 s */

	t->result = *res;
	if (res->outcome == NOTIFY_RETRY && t->attempts < NOTIFY_TEST_ATTEMPTS &&
	    !t->r->app->shutting_down) {
		event_base_once(t->r->app->base, -1, EV_TIMEOUT, test_again, t, &wait);
		return;
	}
	test_audit(t);
}

static void test_send(struct notify_test *t)
{
	t->attempts++;
	notify_send(t->r->app, t->kind, t->to, t->template_id, t->personalisation, t->r->id,
	            test_sent, t);
}

/* Read and check the body into t; ST_INVALID naming the field ("to" for the recipient). */
static enum status test_parse(struct http_req *r, struct notify_test *t, struct err *err)
{
	const cJSON *pers;
	cJSON *b = NULL;
	char kind[8];
	const char *configured;
	char *body;
	enum status st;

	if ((st = http_body_json(r, &b, err)) != ST_OK)
		goto out;
	if ((st = json_only_keys(b, notify_test_fields, err)) != ST_OK)
		goto out;
	if ((st = json_get_string(b, "kind", true, kind, sizeof kind, err)) != ST_OK)
		goto out;
	if ((st = notify_kind_parse(kind, &t->kind, err)) != ST_OK)
		goto out;
	if ((st = json_get_string(b, "to", true, t->to, sizeof t->to, err)) != ST_OK)
		goto out;
	if ((st = json_get_string(b, "template_id", false, t->template_id, sizeof t->template_id,
	                          err)) != ST_OK)
		goto out;
	configured = notify_template_id(r->app, t->kind);
	if (t->template_id[0] == '\0' && configured == NULL) {
		st = err_set(err, ST_INVALID, "template_id",
		             "missing required field \"template_id\" (notify_%s_template_id is not "
		             "set)",
		             notify_kind_name(t->kind));
		goto out;
	}
	if (t->template_id[0] == '\0')
		snprintf(t->template_id, sizeof t->template_id, "%s", configured);
	pers = cJSON_GetObjectItemCaseSensitive(b, "personalisation");
	if (pers != NULL && !cJSON_IsNull(pers))
		t->personalisation = cJSON_Duplicate(pers, 1);
	/* the checks notify_send will make, answered here as 400 */
	body = notify_request_body(t->kind, t->to, t->template_id, t->personalisation, r->id, err);
	if (body == NULL) {
		st = ST_INVALID;
		/* the recipient is "to" here (lib/notify.c names Notify's field) */
		if (strcmp(err->field, "email_address") == 0 ||
		    strcmp(err->field, "phone_number") == 0)
			err_set(err, ST_INVALID, "to", "\"to\" is not a valid %s",
			        t->kind == NOTIFY_SMS ? "phone number" : "e-mail address");
		goto out;
	}
	explicit_bzero(body, strlen(body));
	free(body);
out:
	cJSON_Delete(b);
	return st;
}

static void notify_test_post(struct http_req *r)
{
	struct notify_test *t = xcalloc(1, sizeof *t);
	struct err err;
	enum status st;

	t->r = r;
	st = test_parse(r, t, &err);
	if (st == ST_OK && !notify_is_configured(r->app))
		st = err_set(&err, ST_CONFLICT, NULL,
		             "GOV.UK Notify is not configured (notify_api_key is not set)");
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		notify_test_free(t);
		return;
	}
	test_send(t);
}

const struct route notify_routes[] = {
    ROUTE(EVHTTP_REQ_POST, "/api/v1/admin/notify-test", notify_test_post, ACCESS_WEBHOOK_MANAGE,
          ROUTE_ID_NONE),
    ROUTE_END,
};

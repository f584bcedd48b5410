/*
 * api_webhook.c - outbound webhooks, for administrators.
 *
 *   POST   /api/v1/webhooks        register {url, secret, format?, wards?, disciplines?, types?,
 *                                   organisation_id? (a partner's: its referrals' events only)}
 *   GET    /api/v1/webhooks        every webhook with its cursor, backlog and failures
 *   PATCH  /api/v1/webhooks/{id}   pause or resume one {active}
 *   DELETE /api/v1/webhooks/{id}   remove one
 *
 * Thin handlers: authorise (ACCESS_WEBHOOK_MANAGE), validate the URL and the
 * filter (lib/event_filter checks every value), then one store_webhook call.
 * The secret is written once and never sent back: no reply or audit image
 * holds it.  Events carry patient data, so a receiver is reached by https://
 * (webhook.c checks its certificate and name); plain http:// is accepted only
 * for a loopback address, such as a relay on the same machine.  Delivery is
 * webhook.c's.
 *
 * format "fhir-r4-discharge-status" (lib/fhir_discharge.h) makes the webhook
 * a FHIR endpoint: url is the receiver's FHIR base (no query: the delivery
 * adds /Encounter?identifier=…), and the events it gets are fixed by the
 * format, so "types" and "disciplines" are refused with it; "wards" still
 * narrows it to the wards a partner serves.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "access.h"
#include "admission.h"
#include "api.h"
#include "app.h"
#include "event_filter.h"
#include "fhir_discharge.h"
#include "json.h"
#include "organisation.h"
#include "store_admin.h"
#include "store_webhook.h"
#include "xmalloc.h"

#define WEBHOOK_URL_MAX 2048                    /* as the webhooks table's CHECK */
#define WEBHOOK_SECRET_MIN 16                   /* bytes: short secrets are guessable */
#define WEBHOOK_SECRET_MAX 256                  /* as the webhooks table's CHECK */
#define WEBHOOK_FORMAT_MAX 32                   /* the longest format name, and more */
#define WEBHOOK_FORMAT_EVENT "carebridge-event" /* {"id", "type", "data"}, the default */

static const char *const webhook_fields[] = {"url",         "secret", "format",          "wards",
                                             "disciplines", "types",  "organisation_id", NULL};

static void deleted_done(enum status st, const struct err *err, const char *json, void *arg)
{
	struct http_req *r = arg;

	if (st != ST_OK)
		http_reply_error(r, st, err);
	else
		http_reply_empty(r, 204);
}

/*
 * Whether host (as in a URL, IPv6 in brackets) is a loopback address written
 * as one.  Never a name, "localhost" included: a name means whatever the
 * resolver says when a delivery connects (hosts file, DNS search domain),
 * and plain http:// must not leave the machine.
 */
static bool is_loopback(const char *host)
{
	struct in_addr a;

	if (strcmp(host, "[::1]") == 0)
		return true;
	/* 127.0.0.0/8 written as an address, not a name that merely starts with "127." */
	return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

/*
 * Whether url is https://host[:port][/path][?query], or the same with
 * http:// and a loopback host: a host, a port in 1..65535 when given, no user
 * name, no fragment.
 */
static enum status url_check(const char *url, struct err *err)
{
	struct evhttp_uri *u;
	const char *host;
	int port;
	enum status st = ST_OK;

	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
		return err_set(err, ST_INVALID, "url",
		               "\"url\" must start with https:// or http://");
	u = evhttp_uri_parse_with_flags(url, 0);
	if (u == NULL)
		return err_set(err, ST_INVALID, "url", "\"url\" is not a valid URL");
	host = evhttp_uri_get_host(u);
	port = evhttp_uri_get_port(u);
	if (host == NULL || host[0] == '\0')
		st = err_set(err, ST_INVALID, "url", "\"url\" must name a host");
	else if (url[4] == ':' && !is_loopback(host))
		st = err_set(err, ST_INVALID, "url",
		             "\"url\" must use https:// (http:// only to this machine's loopback "
		             "address written as one, 127.0.0.1 or [::1], for a local relay)");
	else if (port == 0 || port > 65535)
		st = err_set(err, ST_INVALID, "url", "\"url\" must have a port from 1 to 65535");
	else if (evhttp_uri_get_userinfo(u) != NULL)
		st = err_set(err, ST_INVALID, "url", "\"url\" must not contain a user name");
	else if (evhttp_uri_get_fragment(u) != NULL)
		st = err_set(err, ST_INVALID, "url", "\"url\" must not contain a fragment");
	evhttp_uri_free(u);
	return st;
}

/* Read the optional array of strings key of b into filter kind ("ward", ...) of f. */
static enum status filter_list(const cJSON *b, const char *key, const char *kind,
                               struct event_filter *f, struct err *err)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(b, key);
	const cJSON *v;
	enum status st;

	if (a == NULL || cJSON_IsNull(a))
		return ST_OK;
	if (!cJSON_IsArray(a))
		return err_set(err, ST_INVALID, key, "\"%s\" must be an array of strings", key);
	cJSON_ArrayForEach(v, a)
	{
		if (!cJSON_IsString(v))
			return err_set(err, ST_INVALID, key, "\"%s\" must be an array of strings",
			               key);
		if ((st = event_filter_add(f, kind, v->valuestring, err)) != ST_OK) {
			/* name the request's field, not the filter kind */
			snprintf(err->field, sizeof err->field, "%s", key);
			return st;
		}
	}
	return ST_OK;
}

/* Everything a registration needs, kept together while the store copies it. */
struct webhook_body {
	char url[WEBHOOK_URL_MAX + 1];
	char secret[WEBHOOK_SECRET_MAX + 1];
	char format[WEBHOOK_FORMAT_MAX + 1];
	struct event_filter filter;
	char organisation[40];    /* organisation_id as given (an id or a code), "" for none */
	char organisation_id[37]; /* the organisation it names */
	struct webhook_input in;  /* the registration, its strings pointing in here */
	struct http_req *r;       /* the request, while the organisation is looked up */
};

/*
 * The optional "format" of b into wb->format (default "carebridge-event"),
 * and what a FHIR format asks of the rest of the body.
 */
static enum status format_check(const cJSON *b, struct webhook_body *wb, struct err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, "format");

	snprintf(wb->format, sizeof wb->format, "%s", WEBHOOK_FORMAT_EVENT);
	if (v == NULL || cJSON_IsNull(v))
		return ST_OK;
	if (!cJSON_IsString(v) || (strcmp(v->valuestring, WEBHOOK_FORMAT_EVENT) != 0 &&
	                           strcmp(v->valuestring, FHIR_DISCHARGE_FORMAT) != 0))
		return err_set(err, ST_INVALID, "format", "\"format\" must be \"%s\" or \"%s\"",
		               WEBHOOK_FORMAT_EVENT, FHIR_DISCHARGE_FORMAT);
	snprintf(wb->format, sizeof wb->format, "%s", v->valuestring);
	if (strcmp(wb->format, FHIR_DISCHARGE_FORMAT) != 0)
		return ST_OK;
	if (strchr(wb->url, '?') != NULL)
		return err_set(err, ST_INVALID, "url",
		               "\"url\" of a \"%s\" webhook is the receiver's FHIR base and must "
		               "not contain a query",
		               FHIR_DISCHARGE_FORMAT);
	if (json_has(b, "types") && !json_is_null(b, "types"))
		return err_set(err, ST_INVALID, "types",
		               "\"types\" cannot be given with format \"%s\": it sends "
		               "episode.ready and episode.ready_withdrawn only",
		               FHIR_DISCHARGE_FORMAT);
	if (json_has(b, "disciplines") && !json_is_null(b, "disciplines"))
		return err_set(err, ST_INVALID, "disciplines",
		               "\"disciplines\" cannot be given with format \"%s\"",
		               FHIR_DISCHARGE_FORMAT);
	return ST_OK;
}

static enum status webhook_parse(const cJSON *b, struct webhook_body *wb, struct webhook_input *in,
                                 struct err *err)
{
	enum status st;

	if ((st = json_get_string(b, "url", true, wb->url, sizeof wb->url, err)) != ST_OK)
		return st;
	if ((st = url_check(wb->url, err)) != ST_OK)
		return st;
	if ((st = json_get_string(b, "secret", true, wb->secret, sizeof wb->secret, err)) != ST_OK)
		return st;
	if (strlen(wb->secret) < WEBHOOK_SECRET_MIN)
		return err_set(err, ST_INVALID, "secret",
		               "\"secret\" must be at least %d characters", WEBHOOK_SECRET_MIN);
	if ((st = format_check(b, wb, err)) != ST_OK)
		return st;
	event_filter_init(&wb->filter);
	if ((st = filter_list(b, "wards", "ward", &wb->filter, err)) != ST_OK)
		return st;
	if ((st = filter_list(b, "disciplines", "discipline", &wb->filter, err)) != ST_OK)
		return st;
	if ((st = filter_list(b, "types", "types", &wb->filter, err)) != ST_OK)
		return st;
	if (!json_is_null(b, "organisation_id") &&
	    (st = json_get_string(b, "organisation_id", false, wb->organisation,
	                          sizeof wb->organisation, err)) != ST_OK)
		return st;
	in->url = wb->url;
	in->secret = wb->secret;
	in->format = wb->format;
	for (int i = 0; i < wb->filter.nwards; i++)
		in->wards[in->nwards++] = wb->filter.wards[i];
	for (int i = 0; i < wb->filter.ndisciplines; i++)
		in->disciplines[in->ndisciplines++] = wb->filter.disciplines[i];
	for (int i = 0; i < wb->filter.ntypes; i++)
		in->types[in->ntypes++] = wb->filter.types[i];
	return ST_OK;
}

/* Register wb's webhook (wb owned) now that its organisation, if any, is known. */
static void webhook_add(struct webhook_body *wb)
{
	struct actor actor;

	actor_from_req(&actor, wb->r);
	/* the store copies every value into its statements before returning */
	store_webhook_add(wb->r->app->db, &wb->in, &actor, http_json_created, wb->r);
	free(wb);
}

static void webhook_organisation_got(enum status st, const struct organisation_facts *o,
                                     const struct organisation_facts *unused, void *arg)
{
	struct webhook_body *wb = arg;
	struct err err;

	(void)unused;
	if (st == ST_OK)
		st = organisation_check_webhook_owner(o->found && !o->disabled ? o->kind : NULL,
		                                      &err);
	if (st != ST_OK) {
		http_reply_error(wb->r, st, st == ST_INVALID ? &err : NULL);
		free(wb);
		return;
	}
	snprintf(wb->organisation_id, sizeof wb->organisation_id, "%s", o->id);
	wb->in.organisation_id = wb->organisation_id;
	webhook_add(wb);
}

static void webhooks_post(struct http_req *r)
{
	struct webhook_body *wb;
	struct err err;
	cJSON *b = NULL;
	enum status st;

	wb = xcalloc(1, sizeof *wb);
	wb->r = r;
	st = http_body_json(r, &b, &err);
	if (st == ST_OK)
		st = json_only_keys(b, webhook_fields, &err);
	if (st == ST_OK)
		st = webhook_parse(b, wb, &wb->in, &err);
	cJSON_Delete(b);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(wb);
	} else if (wb->organisation[0] != '\0') {
		store_organisation_get(r->app->db, wb->organisation, NULL, webhook_organisation_got,
		                       wb);
	} else {
		webhook_add(wb);
	}
}

static void webhooks_list(struct http_req *r)
{
	store_webhook_list(r->app->db, http_json_ok, r);
}

static void webhook_delete(struct http_req *r)
{
	struct actor actor;

	actor_from_req(&actor, r);
	store_webhook_delete(r->app->db, r->params[0], &actor, deleted_done, r);
}

static const char *const patch_fields[] = {"active", NULL};

/* PATCH /api/v1/webhooks/{id} {"active": false|true}: pause or resume delivery. */
static void webhook_patch(struct http_req *r)
{
	struct actor actor;
	struct err err;
	cJSON *b = NULL;
	enum status st;
	bool active = true, present = false;

	st = http_body_json(r, &b, &err);
	if (st == ST_OK)
		st = json_only_keys(b, patch_fields, &err);
	if (st == ST_OK)
		st = json_get_bool(b, "active", true, &active, &present, &err);
	cJSON_Delete(b);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		return;
	}
	actor_from_req(&actor, r);
	store_webhook_set_active(r->app->db, r->params[0], active, &actor, http_json_ok, r);
}

const struct route webhook_routes[] = {
    ROUTE(EVHTTP_REQ_GET, "/api/v1/webhooks", webhooks_list, ACCESS_WEBHOOK_MANAGE, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/webhooks", webhooks_post, ACCESS_WEBHOOK_MANAGE, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_PATCH, "/api/v1/webhooks/{id}", webhook_patch, ACCESS_WEBHOOK_MANAGE,
          ROUTE_ID_WEBHOOK),
    ROUTE(EVHTTP_REQ_DELETE, "/api/v1/webhooks/{id}", webhook_delete, ACCESS_WEBHOOK_MANAGE,
          ROUTE_ID_WEBHOOK),
    ROUTE_END,
};

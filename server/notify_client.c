/*
 * notify_client.c - one GOV.UK Notify request at a time per call, on the
 * event loop (see notify_client.h).
 *
 * Owns: the parsed API key (wiped when freed), an outbound HTTP client and
 * each send's small state until its callback has run.  Must not: log the
 * key, the JWT, the recipient, the personalisation or Notify's error text
 * (which may quote a field); log lines carry the kind, the status, the
 * outcome, the error class and Notify's notification id.
 */
#include "notify_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <sodium.h>

#include "app.h"
#include "clock.h"
#include "httpc.h"
#include "log.h"
#include "xmalloc.h"

struct notify {
	struct app *app;       /* borrowed */
	struct httpc *httpc;   /* owned: TLS client verifying against webhook_ca_file */
	struct notify_key key; /* the service id and secret key; wiped on free */
	char *base_url;        /* owned: notify_base_url without a trailing "/" */
};

/* One send in flight. */
struct notify_send {
	enum notify_kind kind;       /* for the log line */
	int64_t started_ms;          /* monotonic, for the log line */
	notify_done_cb *cb;          /* the caller's callback */
	void *arg;                   /* its argument */
	struct notify_result result; /* what to report (a send that never left) */
};

struct notify *notify_new(struct app *app, char *err, size_t size)
{
	const struct config *cfg = app->cfg;
	struct notify *n;
	struct err why;
	size_t len;

	err[0] = '\0';
	if (cfg->notify_api_key[0] == '\0')
		return NULL;
	n = xcalloc(1, sizeof *n);
	n->app = app;
	if (notify_key_parse(cfg->notify_api_key, &n->key, &why) != ST_OK) {
		snprintf(err, size, "%s", why.message);
		notify_free(n);
		return NULL;
	}
	n->httpc = httpc_new(app->base, cfg->webhook_ca_file, err, size);
	if (n->httpc == NULL) {
		notify_free(n);
		return NULL;
	}
	n->base_url = xstrdup(cfg->notify_base_url);
	len = strlen(n->base_url);
	while (len > 0 && n->base_url[len - 1] == '/')
		n->base_url[--len] = '\0';
	/* the service id is not secret: it says which Notify service is in use */
	log_info("notify", "channel on service=%s", n->key.service_id);
	return n;
}

void notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	httpc_free(n->httpc);
	sodium_memzero(&n->key, sizeof n->key);
	free(n->base_url);
	free(n);
}

bool notify_is_configured(const struct app *app)
{
	return app->notify != NULL;
}

const char *notify_template_id(const struct app *app, enum notify_kind kind)
{
	const char *id = kind == NOTIFY_SMS ? app->cfg->notify_sms_template_id
	                                    : app->cfg->notify_email_template_id;

	return id[0] != '\0' ? id : NULL;
}

/* Report s's result and free it. */
static void send_finish(struct notify_send *s)
{
	const struct notify_result *r = &s->result;

	log_info("notify", "send done kind=%s status=%d outcome=%s%s%s%s%s ms=%lld",
	         notify_kind_name(s->kind), r->status, notify_outcome_name(r->outcome),
	         r->error[0] != '\0' ? " error=" : "", r->error, r->id[0] != '\0' ? " id=" : "",
	         r->id, (long long)(mono_ms() - s->started_ms));
	s->cb(r, s->arg);
	free(s);
}

/* A send that never left: its result is set; report it from the loop. */
static void send_later_cb(evutil_socket_t fd, short what, void *arg)
{
	send_finish(arg);
}

static void send_fail_later(struct app *app, struct notify_send *s, const char *error,
                            const char *message)
{
	struct timeval now = {0, 0};

	s->result.outcome = NOTIFY_PERMANENT;
	snprintf(s->result.error, sizeof s->result.error, "%s", error);
	snprintf(s->result.message, sizeof s->result.message, "%s", message);
	event_base_once(app->base, -1, EV_TIMEOUT, send_later_cb, s, &now);
}

static void send_reply(int status, const char *body, size_t len, const char *error, void *arg)
{
	struct notify_send *s = arg;

	notify_classify(status, body, len, &s->result);
	if (status == 0 && error != NULL)
		snprintf(s->result.message, sizeof s->result.message, "%s", error);
	send_finish(s);
}

void notify_send(struct app *app, enum notify_kind kind, const char *recipient,
                 const char *template_id, const cJSON *personalisation, const char *reference,
                 notify_done_cb *cb, void *arg)
{
	struct notify_send *s = xcalloc(1, sizeof *s);
	struct notify *n = app->notify;
	char *body, *token, *url, *auth;
	struct err err;

	s->kind = kind;
	s->started_ms = mono_ms();
	s->cb = cb;
	s->arg = arg;
	if (n == NULL) {
		send_fail_later(app, s, "NotConfigured", "GOV.UK Notify is not configured");
		return;
	}
	body = notify_request_body(kind, recipient, template_id, personalisation, reference, &err);
	if (body == NULL) {
		send_fail_later(app, s, "InvalidRequest", err.message);
		return;
	}
	/* Notify checks iat against its own clock (30 s): the real clock, never the test clock */
	token = notify_jwt(&n->key, (int64_t)time(NULL));
	auth = xasprintf("Authorization: Bearer %s", token);
	url = xasprintf("%s%s", n->base_url, notify_path(kind));
	{
		const char *const headers[] = {auth, NULL};

		httpc_fetch(n->httpc, EVHTTP_REQ_POST, url, headers, body, "application/json",
		            (int)app->cfg->webhook_timeout_ms, send_reply, s);
	}
	sodium_memzero(token, strlen(token));
	sodium_memzero(auth, strlen(auth));
	free(token);
	free(auth);
	free(url);
	free(body);
}

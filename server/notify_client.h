/*
 * notify_client.h - sending one e-mail or text message through GOV.UK Notify, on
 * the event loop.
 *
 * The channel of issue 17's outbox: the outbox decides what to send, to
 * whom, and when to try again (durably); this module makes one attempt: it
 * builds the request (lib/notify.h), signs a fresh JWT with the configured
 * API key, POSTs it with the webhooks' HTTP client settings (server/httpc.c:
 * TLS 1.2+, webhook_ca_file, webhook_timeout) and reports what the reply
 * means.  It never blocks the loop and never logs the key, the token, the
 * recipient or the personalisation.
 */
#ifndef CB_NOTIFY_CLIENT_H
#define CB_NOTIFY_CLIENT_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "notify.h"

struct app;
struct notify;

/*
 * The channel for app->cfg's [notify] settings.  NULL with err "" when no
 * API key is configured (the channel is off); NULL with the reason in err
 * when it cannot be set up (a malformed key: config_validate refuses it
 * first; TLS).
 */
struct notify *notify_new(struct app *app, char *err, size_t size);

/* Free n (NULL does nothing).  Sends in flight still call their callbacks. */
void notify_free(struct notify *n);

/* Whether app has a Notify channel (notify_api_key is set). */
bool notify_is_configured(const struct app *app);

/*
 * The template configured for kind (notify_email_template_id or
 * notify_sms_template_id), or NULL when that one is not set.  Borrowed.
 */
const char *notify_template_id(const struct app *app, enum notify_kind kind);

/*
 * Called once per notify_send, later from the loop: res says sent (res->id
 * is Notify's notification id), retry (send the same message again later:
 * no reply, 5xx, 429, an authentication fault) or permanent (Notify refused
 * the message: 400 and other 4xx; or it was malformed and never sent, then
 * res->status is 0 and res->error "InvalidRequest" with the field at fault
 * in res->message; or the channel is off: "NotConfigured").  res is
 * borrowed for the call; it holds no recipient and no secret.
 */
typedef void notify_done_cb(const struct notify_result *res, void *arg);

/*
 * Send one message of kind to recipient (an e-mail address or a phone
 * number) with template_id, personalisation (an object, borrowed and copied;
 * NULL for none) and reference (our id for it, e.g. the outbox row's UUID:
 * no personal data; NULL or "" for none).  One attempt, no retry.  cb is
 * called exactly once, always later from the loop, never before this
 * returns.
 */
void notify_send(struct app *app, enum notify_kind kind, const char *recipient,
                 const char *template_id, const cJSON *personalisation, const char *reference,
                 notify_done_cb *cb, void *arg);

#endif

/*
 * webhook.h - outbound webhooks: every matching outbox event POSTed to each
 * registered URL, signed with HMAC-SHA256, in event order, retried with
 * back-off until acknowledged (2xx), resuming after a restart from the last
 * delivered id kept in the database.  With several serve processes each
 * webhook is delivered by one of them at a time (a lease in the database).
 */
#ifndef CB_WEBHOOK_H
#define CB_WEBHOOK_H

struct app;
struct webhooks;

/* NULL (logged) when TLS for https:// receivers cannot be set up, e.g. webhook_ca_file. */
struct webhooks *webhooks_new(struct app *app);
void webhooks_free(struct webhooks *w);

/* Once a second: renew leases, start deliveries that are due. */
void webhooks_tick(struct webhooks *w);

/* New events may exist (called with the hub's poke). */
void webhooks_poke(struct webhooks *w);

#endif

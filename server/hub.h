/*
 * hub.h - the live stream: Server-Sent Events subscribers, the in-memory ring
 * of recent events, replay after a reconnect, and fan-out.
 *
 * Events enter only from the outbox table, in id order (listen.c says when to
 * look); every subscriber receives each matching event exactly once and in id
 * order.  A subscriber resuming with Last-Event-ID gets what it missed from the
 * ring, or from the table if the ring no longer has it, before live events; an
 * id older than the table's retention gets a "reset" event.
 *
 * The hub also prunes the table: events older than event_retention go, except
 * those an active webhook has yet to deliver (store_events_prune).
 */
#ifndef CB_HUB_H
#define CB_HUB_H

#include <stdbool.h>
#include <stdint.h>

#include "event_filter.h"

struct app;
struct hub;
struct http_req;

struct hub *hub_new(struct app *app);

/* End every stream (clients reconnect elsewhere) and free the hub. */
void hub_free(struct hub *hub);

/* End every stream now (graceful shutdown begins). */
void hub_close_all(struct hub *hub);

/* Called by listen.c: the events table may have new rows. */
void hub_poke(void *hub);

/*
 * Tokens, users or their wards may have changed (a carebridge_auth
 * notification): re-check every stream's credentials, asynchronously, at the
 * end of this loop turn.  A stream whose token or session is no longer live
 * (logout, revocation, user disabled) or whose user's role changed ends; one
 * whose user's wards changed gets the new wards.  Streams also end when their
 * token expires.
 */
void hub_auth_changed(struct hub *hub);

/*
 * Turn r into an event stream for r's principal with filter f, resuming after
 * since (-1: live only).  Replies (and frees r) itself, with 503 when full.
 */
void hub_subscribe(struct hub *hub, struct http_req *r, const struct event_filter *f,
                   int64_t since);

/*
 * Once a second: heartbeats, and pruning (soon after start, then hourly, in
 * batches; a round that failed is tried again a minute later).
 */
void hub_tick(struct hub *hub);

/* Subscribers connected now. */
int hub_subscribers(const struct hub *hub);

/* Highest event id this process has seen. */
int64_t hub_last_id(const struct hub *hub);

#endif

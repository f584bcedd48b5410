/*
 * listen.h - the dedicated LISTEN connection of a serve process.
 *
 * Every write transaction NOTIFYs carebridge_events when it commits (a trigger
 * on the events table).  This connection LISTENs and calls back "there may be
 * new events" on each notification and after every (re)connection, so that the
 * hub reads what it missed while the connection was down.  It carries no
 * payload: the hub reads the events table in id order.
 */
#ifndef CB_LISTEN_H
#define CB_LISTEN_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"

struct listen;

typedef void listen_cb(void *arg);

/*
 * Start connecting at once; cb runs on the loop after each outbox notification
 * or reconnect, auth_cb (if not NULL) after each carebridge_auth notification
 * and each reconnect (see listen_auth_generation).  Both may also run from
 * inside listen_poll.
 */
struct listen *listen_new(struct event_base *base, const struct config *cfg, listen_cb *cb,
                          listen_cb *auth_cb, void *arg);

void listen_free(struct listen *l);

/* Once a second: reconnect when down. */
void listen_tick(struct listen *l);

/* True while LISTEN is in effect. */
bool listen_is_up(const struct listen *l);

/*
 * A number that changes whenever tokens, users or their wards may have
 * changed (a carebridge_auth notification), and whenever the connection was
 * lost or re-established (notifications may have been missed).  A token check
 * made under one value is stale once the value changes.
 */
uint64_t listen_auth_generation(const struct listen *l);

/*
 * How many times LISTEN has taken effect: a new value means the connection
 * was lost and made again, so the database may have been restarted (and
 * after a crash have lost its last transactions) in between.
 */
uint64_t listen_session(const struct listen *l);

/* Read whatever has arrived on the connection now, without waiting for the loop. */
void listen_poll(struct listen *l);

#endif

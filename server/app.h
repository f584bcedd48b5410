/*
 * app.h - the one object that ties a serve process together.  Created in
 * main.c, passed down to every module; nothing here is global.
 */
#ifndef CB_APP_H
#define CB_APP_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"

struct db;
struct http;
struct metrics;
struct work;
struct hub;
struct listen;
struct mllp;
struct webhooks;
struct chase;
struct auth_cache;
struct task_cache;
struct signin_limiter;
struct work;
struct oidc;
struct messenger;
struct notify;

struct app {
	struct event_base *base;       /* the one event loop */
	struct config *cfg;            /* settings in force; owned by main */
	struct db *db;                 /* the async PostgreSQL pool */
	struct http *http;             /* the HTTP server */
	struct metrics *metrics;       /* counters for /metrics */
	struct work *work;             /* worker threads for password hashing */
	struct hub *hub;               /* live event stream subscribers */
	struct listen *listen;         /* LISTEN connection for outbox notifications */
	struct webhooks *webhooks;     /* outbound webhook delivery */
	struct notify *notify;         /* GOV.UK Notify, NULL if no API key is configured */
	struct mllp *mllp;             /* the HL7 v2 (MLLP) listener */
	struct chase *chase;           /* overdue work, escalation, midnight snapshots */
	struct messenger *messenger;   /* sends the message outbox (e-mail, SMS) */
	struct auth_cache *auth_cache; /* recent token checks */
	struct task_cache *task_cache; /* recent task facts */
	struct oidc *oidc;             /* the identity provider, NULL if none is configured */
	struct signin_limiter *signin; /* sign-in attempts per client address */
	int migration_latest;          /* highest migration version in this binary */
	bool shutting_down;            /* SIGTERM/SIGINT seen: refuse new work */
	int64_t clock_offset;          /* seconds added to the wall clock (test clock) */
	char clock_stamp[64];          /* the test clock file version read: inode and mtime */
	int64_t started_at;            /* wall clock seconds at start */
};

/* The wall clock in Unix seconds, as carebridge sees it (a test clock may shift it). */
int64_t app_now(const struct app *app);

/*
 * With test_clock_file set, re-read "now" (RFC 3339) from that file and keep
 * the clock running from there; called at start and every tick.
 */
void app_clock_refresh(struct app *app);

#endif

/*
 * store_webhook.h - SQL for outbound webhooks: what administrators register
 * through the API, and the lease, cursor and failure bookkeeping of the
 * delivery (webhook.c).  Asynchronous, on the pool.
 *
 * Nothing here decides what a valid URL or filter is (api_webhook.c and
 * lib/event_filter do) or when to deliver (webhook.c).  The secret goes in
 * with store_webhook_add and comes out only to the process holding the lease
 * (store_webhook_lease): no JSON form carries it.
 */
#ifndef CB_STORE_WEBHOOK_H
#define CB_STORE_WEBHOOK_H

#include <stdint.h>

#include "status.h"
#include "store.h"
#include "store_episode.h"

struct db;

#define WEBHOOK_MAX_VALUES 32 /* per filter kind, as EVENT_FILTER_MAX */

/* A webhook to register (validated by the caller; every string borrowed). */
struct webhook_input {
	const char *url;                             /* "http://host:port/path" */
	const char *secret;                          /* 16..256 bytes */
	const char *wards[WEBHOOK_MAX_VALUES];       /* ward codes; none: every ward */
	int nwards;                                  /* how many */
	const char *disciplines[WEBHOOK_MAX_VALUES]; /* disciplines; none: every one */
	int ndisciplines;                            /* how many */
	const char *types[WEBHOOK_MAX_VALUES];       /* event types, "task.*"; none: all */
	int ntypes;                                  /* how many */
	/* the partner organisation it belongs to (its referrals' events only), or
	 * NULL for a trust webhook; checked by the caller */
	const char *organisation_id;
};

/*
 * Register w with a new id; its cursor starts at the newest event, so only
 * later events are delivered.  Audited ("webhook.add", no secret in the
 * image).  cb gets the webhook's JSON (no secret).
 */
void store_webhook_add(struct db *db, const struct webhook_input *w, const struct actor *actor,
                       store_json_cb *cb, void *arg);

/*
 * Every webhook as {"items": [...]}, each with "backlog": the events after
 * its cursor.
 */
void store_webhook_list(struct db *db, store_json_cb *cb, void *arg);

/*
 * Pause (active false: not delivered, and no longer holding retention
 * pruning back) or resume webhook id, audited as "webhook.pause" or
 * "webhook.resume".  cb gets the webhook's JSON, or ST_NOT_FOUND.
 */
void store_webhook_set_active(struct db *db, const char *id, bool active, const struct actor *actor,
                              store_json_cb *cb, void *arg);

/*
 * Remove webhook id (a UUID), audited with its before image.  cb gets
 * ST_NOT_FOUND when there is no such webhook; json is NULL either way.
 */
void store_webhook_delete(struct db *db, const char *id, const struct actor *actor,
                          store_json_cb *cb, void *arg);

/* One webhook this process holds the lease for (strings valid during the callback). */
struct webhook_row {
	const char *id;            /* UUID */
	const char *url;           /* as registered */
	const char *secret;        /* the signing key */
	const char *wards;         /* comma-separated ("" = any) */
	const char *disciplines;   /* comma-separated ("" = any) */
	const char *types;         /* comma-separated ("" = any) */
	int64_t last_delivered_id; /* the committed cursor */
	const char *organisation_id;   /* its partner organisation, "" for a trust webhook */
	const char *organisation_kind; /* that organisation's kind, "disabled" if it is */
};

typedef void store_webhook_lease_cb(enum status st, const struct webhook_row *rows, int n,
                                    void *arg);

/*
 * Claim or renew, for owner, the lease of every active webhook that is free,
 * expired or already owner's, for lease_ms; cb gets the webhooks owner holds
 * now (in creation order).
 */
void store_webhook_lease(struct db *db, const char *owner, int64_t lease_ms,
                         store_webhook_lease_cb *cb, void *arg);

/* Done: st, and for store_webhook_advance whether a row changed. */
typedef void store_webhook_done_cb(enum status st, bool changed, void *arg);

/*
 * Move webhook id's cursor forward to event_id (never back) if owner still
 * holds its lease; a delivery (delivered true) also clears the failure count.
 * changed is false when the lease was lost or the webhook removed.
 */
void store_webhook_advance(struct db *db, const char *id, const char *owner, int64_t event_id,
                           bool delivered, store_webhook_done_cb *cb, void *arg);

/* Count a failed delivery of webhook id and keep error (no body content) as its last. */
void store_webhook_failed(struct db *db, const char *id, const char *owner, const char *error,
                          store_webhook_done_cb *cb, void *arg);

#endif

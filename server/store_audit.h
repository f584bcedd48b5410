/*
 * store_audit.h - reading the audit log (asynchronous, on the pool).
 *
 * Every read of the log is itself audited ("audit.read"), in the same
 * transaction as the read.
 */
#ifndef CB_STORE_AUDIT_H
#define CB_STORE_AUDIT_H

#include "store.h"
#include "store_episode.h"

struct db;

/* Which audit rows to read; at least one filter is set (the caller checks). */
struct audit_filter {
	const char *episode_id; /* rows about this episode (UUID), or NULL */
	const char *actor;      /* rows written by this actor name, or NULL */
	const char *entity_id;  /* rows about this entity (UUID), or NULL */
	int limit, offset;      /* paging, oldest first */
};

/*
 * Read a page of rows as {"items": [...], "limit": N, "offset": N}, oldest
 * first, and audit the read (after the page was read, so it is not in it).
 */
void store_audit_list(struct db *db, const struct audit_filter *f, const struct actor *actor,
                      store_json_cb *cb, void *arg);

/*
 * Audit the opening of an event stream ("stream.open"): who, for which
 * episode (NULL: any), with what it asked for (detail_json, no patient data).
 * cb gets the status (json is NULL).
 */
void store_audit_stream_open(struct db *db, const struct actor *actor, const char *episode_id,
                             const char *detail_json, store_json_cb *cb, void *arg);

/*
 * Audit an administrator's test message through GOV.UK Notify
 * ("notify.test" on entity "notify"), with detail_json (kind, template,
 * outcome, attempts, Notify's id: never the recipient).  cb gets the status
 * (json is NULL).
 */
void store_audit_notify_test(struct db *db, const struct actor *actor, const char *detail_json,
                             store_json_cb *cb, void *arg);

#endif

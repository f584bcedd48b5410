/*
 * store.h - what every store_*.c shares: who is acting, and the statements a
 * write transaction appends after its own so that the change, its audit row
 * and its outbox event commit together.
 *
 * Outbox ordering: every transaction that inserts events calls
 * store_add_events_lock(), which makes its first statement take a
 * transaction-scoped advisory lock held until COMMIT, so event ids are handed
 * out in commit order and a reader that has seen id N has seen every event
 * below N.  Taking it first means a writer never waits for the lock while
 * holding row locks another writer needs (no deadlock), and such requests are
 * grouped: concurrent writers share one transaction and one COMMIT
 * (db_req_set_group), so the lock costs one commit per group, not per write.
 */
#ifndef CB_STORE_H
#define CB_STORE_H

#include "db.h"
#include "status.h"

struct http_req;

struct actor {
	const char *id;         /* users.id, NULL for the system */
	const char *name;       /* user name, or "hl7" / "system" */
	const char *request_id; /* the HTTP request or HL7 message id, may be NULL */
	/* a partner user's organisation (UUID): its reads of patients are audited
	 * with it (information governance, docs/PARTNERS.md); NULL for the trust */
	const char *organisation;
};

/* The principal of an authenticated request as an actor (borrowed strings). */
void actor_from_req(struct actor *a, const struct http_req *r);

/*
 * Append an audit row: action on entity ("episode", "task", "assessment",
 * "delay", ...) entity_id, with before (JSON text or NULL) and after computed
 * from the entity's current row in the transaction (after_json is used for
 * other entities; may be NULL).
 */
void store_add_audit(struct db_req *req, const struct actor *a, const char *action,
                     const char *entity, const char *entity_id, const char *episode_id,
                     const char *before_json, const char *after_json);

/*
 * Append an audit row for a read: action ("episode.read"), what, and a small
 * detail; a partner's read also records the actor's organisation in it.
 */
void store_add_audit_read(struct db_req *req, const struct actor *a, const char *action,
                          const char *entity, const char *entity_id, const char *episode_id,
                          const char *detail_json);

/* Append an episode event addressed to ward (the one a transferred patient left). */
int store_add_episode_event_at(struct db_req *req, const char *type, const char *episode_id,
                               const char *ward);

/* Take the outbox lock first in req's transaction, and group it (see the file comment). */
void store_add_events_lock(struct db_req *req);

/*
 * Append an outbox event of type about entity ("episode", "task",
 * "assessment", "delay") entity_id, carrying the entity's current JSON form;
 * the statement returns the payload (so a handler can reply with it).
 */
int store_add_event(struct db_req *req, const char *type, const char *entity,
                    const char *entity_id);

/* The reply of a store call: the object's JSON text (NULL when none), or the failure. */
typedef void store_json_cb(enum status st, const struct err *err, const char *json, void *arg);

/* Any callback type, stored until the request's completion casts it back. */
typedef void store_any_fn(void);

/*
 * What a store_* function keeps while its request runs: the caller's typed
 * callback and argument, and for store_json_done the statement whose first
 * cell is the reply (-1: none) and what a missing reply row means.
 */
struct store_wait {
	store_any_fn *cb; /* the caller's callback, cast back by the completion */
	void *arg;        /* its argument */
	int json_stmt;    /* statement whose first cell is the JSON reply, -1 if none */
	const char *what; /* "task": a missing reply row is 'task not found'; NULL: no check */
};

/* A new wait (freed by the completion). */
struct store_wait *store_wait_new(store_any_fn *cb, void *arg, int json_stmt, const char *what);

/*
 * A db_cb for requests whose reply is JSON text: calls the wait's
 * store_json_cb (if any) with the first cell of json_stmt, or ST_NOT_FOUND
 * "<what> not found" when that statement returned no row; frees the wait.
 */
void store_json_done(const struct db_result *r, void *arg);

/* A new random UUID in text form. */
void store_new_id(char out[37]);

struct pg_conn;

/*
 * A blocking connection for a command-line tool (application_name app,
 * jit off, as serve's): the connection, or NULL with err set to
 * ST_UNAVAILABLE "could not connect to the database: ...".  PQfinish it.
 */
struct pg_conn *store_connect_blocking(const char *conninfo, const char *app, struct err *err);

/* An episode's list as read: the episode's ward and the list as JSON text (borrowed). */
typedef void store_ward_json_cb(enum status st, const char *ward, const char *json, void *arg);

/*
 * Run sql, whose $1 is episode_id and whose one row is (the episode's ward,
 * the list as JSON text); no row: ST_NOT_FOUND.  cb runs later from the loop.
 */
void store_ward_json_read(struct db *db, const char *sql, const char *episode_id,
                          store_ward_json_cb *cb, void *arg);

/* Audit (as action on entity) the read of episode_id's list by actor; cb gets no JSON. */
void store_audit_list_read(struct db *db, const struct actor *actor, const char *action,
                           const char *entity, const char *episode_id, store_json_cb *cb,
                           void *arg);

#endif

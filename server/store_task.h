/*
 * store_task.h - SQL for discharge tasks (asynchronous, on the pool).
 *
 * Reads give the handler what lib/ needs to decide (the episode's ward and
 * state, the task's discipline, status and version) and the task's JSON form;
 * writes run as one transaction: the change, its audit row, the outbox event
 * and the task's new JSON form to reply with.  No rule is decided here: the
 * handler asks lib/task and lib/access first, and the statements only guard
 * against what may change between the read and the write (a stale version, a
 * discharge).
 */
#ifndef CB_STORE_TASK_H
#define CB_STORE_TASK_H

#include <stdbool.h>
#include <stdint.h>

#include "access.h"
#include "status.h"
#include "store.h"
#include "task.h"

struct db;

/* The user a change would make a task's assignee (when one was given). */
struct assignee_facts {
	bool exists;    /* there is such a user (true when none was given) */
	bool disabled;  /* the user is disabled */
	bool on_ward;   /* the user is attached to the episode's ward */
	enum role role; /* the user's role */
};

/* A reply body (JSON text, borrowed until the callback returns) or the failure. */
typedef void store_task_json_cb(enum status st, const struct err *err, const char *json, void *arg);

/* What deciding about a new task of an episode needs. */
struct task_create_context {
	char ward[33];                  /* the episode's ward */
	char episode_state[16];         /* "admitted", ... */
	bool discipline_exists;         /* the discipline is in the disciplines table */
	struct assignee_facts assignee; /* the assignee asked about */
};

typedef void store_task_create_context_cb(enum status st, const struct task_create_context *ctx,
                                          void *arg);

/*
 * Read episode episode_id's ward and state, whether discipline exists and
 * what assignee (a UUID, or NULL for none) is: a user, enabled, on the ward.  ST_NOT_FOUND when
 * there is no such episode; cb runs later from the loop.
 */
void store_task_create_context(struct db *db, const char *episode_id, const char *discipline,
                               const char *assignee, store_task_create_context_cb *cb, void *arg);

/* A new task, validated and authorised by the handler. */
struct task_new {
	const char *episode_id; /* the episode */
	const char *discipline; /* an existing discipline */
	const char *title;      /* 1..200 bytes */
	const char *assignee;   /* a user's UUID, or NULL */
	bool has_due;           /* due_at is set */
	int64_t due_at;         /* Unix seconds */
	const char *note;       /* or NULL */
};

/*
 * Insert task t (status requested) with audit task.create and event
 * task.created; the reply is the task's JSON.  ST_CONFLICT when the episode
 * is no longer admitted.
 */
void store_task_create(struct db *db, const struct task_new *t, const struct actor *actor,
                       store_task_json_cb *cb, void *arg);

/* An episode's tasks, as store_task_list reads them. */
struct task_list {
	char ward[33];    /* the episode's ward, for the access decision */
	const char *json; /* the body; borrowed until the callback returns */
};

typedef void store_task_list_cb(enum status st, const struct task_list *l, void *arg);

/*
 * Read episode episode_id's ward and its tasks as {"items": [...]}, in creation
 * order; ST_NOT_FOUND when there is no such episode.
 */
void store_task_list(struct db *db, const char *episode_id, store_task_list_cb *cb, void *arg);

/* Audit that actor listed the tasks of episode_id (committed before cb runs; json NULL). */
void store_task_audit_list(struct db *db, const char *episode_id, const struct actor *actor,
                           store_task_json_cb *cb, void *arg);

/* What GET /api/v1/tasks asks for, validated and authorised by the handler. */
struct task_filter {
	const char *const *wards;       /* ward codes to restrict to, when restrict_wards */
	int nwards;                     /* entries in wards */
	bool restrict_wards;            /* false: every ward; true: only wards (none when 0) */
	const char *const *disciplines; /* NULL or ndisciplines well-formed names */
	int ndisciplines;               /* entries in disciplines */
	const char *status;             /* NULL any, "open", or one FHIR status name */
	int overdue;                    /* -1 any, 0 not overdue, 1 overdue */
	const char *episode_id;         /* a UUID, or NULL: tasks of admitted episodes only */
	int limit, offset;              /* paging */
};

/*
 * List tasks as {"items": [...], "total": N, "limit", "offset"}: each item is
 * the task's JSON with its episode's "ward", "bed" and "episode_state",
 * ordered by due time (none last), creation time and id.  The read is audited
 * (task.list, detail: the filters asked for) in the same transaction; cb runs
 * later from the loop.
 */
void store_task_list_all(struct db *db, const struct task_filter *f, const struct actor *actor,
                         store_task_json_cb *cb, void *arg);

/* The facts about a task that decisions need. */
struct task_facts {
	char id[37];                              /* the task */
	char episode_id[37];                      /* its episode */
	char ward[33];                            /* the episode's ward */
	char episode_state[16];                   /* the episode's state */
	char discipline[DISCIPLINE_NAME_MAX + 1]; /* the task's discipline */
	char status[16];                          /* "requested", ... */
	int version;                              /* row version */
	struct assignee_facts assignee;           /* the assignee asked about */
};

typedef void store_task_cb(enum status st, const struct task_facts *f, void *arg);

/*
 * Read task id, and whether assignee (a UUID, or NULL for no question) is a
 * user.  ST_NOT_FOUND when there is no such task.
 */
void store_task_get(struct db *db, const char *id, const char *assignee, store_task_cb *cb,
                    void *arg);

/* A change to a task, decided by the handler. */
struct task_change {
	int expected_version;      /* the version read; the write fails with CB412 if changed */
	const char *status;        /* new status, NULL to keep */
	bool set_assignee;         /* assignee changes (to NULL when assignee is NULL) */
	const char *assignee;      /* a user's UUID or NULL */
	bool set_due, clear_due;   /* due_at */
	int64_t due_at;            /* Unix seconds */
	bool set_note, clear_note; /* note */
	const char *note;          /* new note */
};

/*
 * Apply change c to task f->id: audit task.update (before: the row it
 * replaced), event task.updated; completed_at is set when the task becomes
 * completed.  The reply is the task's new JSON.  ST_PRECONDITION when the task
 * is no longer at version c->expected_version or its episode no longer on
 * ward f->ward (the facts the change was decided on).
 */
void store_task_change(struct db *db, const struct task_facts *f, const struct task_change *c,
                       const struct actor *actor, store_task_json_cb *cb, void *arg);

#endif

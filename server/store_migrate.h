/*
 * store_migrate.h - database migrations (forward-only migrations/NNNN_name.sql,
 * compiled into the binary) and the schema version check behind /readyz.
 */
#ifndef CB_STORE_MIGRATE_H
#define CB_STORE_MIGRATE_H

#include <stdbool.h>

#include "status.h"

struct db;

/* The highest migration version built into this binary. */
int migrate_latest_builtin(void);

enum migrate_mode {
	MIGRATE_APPLY,    /* the migrate command: apply; a role that may not is refused */
	MIGRATE_STATUS,   /* migrate --status: list the pending ones, change nothing */
	MIGRATE_ON_START, /* serve: apply if any are pending; only then must the role be able to */
};

/*
 * Apply pending migrations to the database at conninfo, each in its own
 * transaction together with its schema_migrations row; BLOCKING, so only for
 * the migrate command and serve before its loop starts.  dir, when not NULL,
 * takes the *.sql files of that directory instead of the built-in ones.
 * Concurrent runs (several serve processes starting) serialise on an advisory
 * lock.  Prints progress to stderr through the log.  Returns ST_OK, or the
 * failure with the database's message in err (nothing of the failed migration
 * is left behind).  A role that may not create objects in its schema (the
 * application role) gets ST_FORBIDDEN and a message naming database_owner_url,
 * before anything is tried.
 */
enum status migrate_run(const char *conninfo, const char *dir, enum migrate_mode mode,
                        struct err *err);

typedef void store_version_cb(enum status st, int version, void *arg);

/* Asynchronously read the schema's current version (cb later, from the loop). */
void store_schema_version(struct db *db, store_version_cb *cb, void *arg);

#endif

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

/*
 * Apply pending migrations to the database at conninfo, each in its own
 * transaction together with its schema_migrations row; BLOCKING, so only for
 * the migrate command and serve before its loop starts.  dir, when not NULL,
 * takes the *.sql files of that directory instead of the built-in ones.
 * Concurrent runs (several serve processes starting) serialise on an advisory
 * lock.  Prints progress to stderr through the log.  Returns ST_OK, or the
 * failure with the database's message in err (nothing of the failed migration
 * is left behind).
 */
enum status migrate_run(const char *conninfo, const char *dir, bool status_only, struct err *err);

typedef void store_version_cb(enum status st, int version, void *arg);

/* Asynchronously read the schema's current version (cb later, from the loop). */
void store_schema_version(struct db *db, store_version_cb *cb, void *arg);

#endif

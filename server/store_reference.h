/*
 * store_reference.h - SQL for reference lists (delay reasons, criteria to
 * reside): reading them, and importing a new list with its audit row, from
 * the API (asynchronous) or the command line (blocking, never in serve).
 */
#ifndef CB_STORE_REFERENCE_H
#define CB_STORE_REFERENCE_H

#include "reference.h"
#include "status.h"
#include "store.h"

struct db;

/*
 * The reference list of kind ("delay_reason", "criterion") named name, or
 * that kind's default list when name is NULL, as JSON with its items.
 * ST_NOT_FOUND "reference list not found" when there is none of that kind.
 */
void store_reference_get(struct db *db, const char *kind, const char *name, store_json_cb *cb,
                         void *arg);

/* Every reference list (without items) as {"items": [...]}. */
void store_reference_lists(struct db *db, store_json_cb *cb, void *arg);

/*
 * Import imp as a new delay-reason list, audited ("reference.import") as
 * actor; cb gets the stored list's JSON.  ST_CONFLICT when the name is
 * taken (lists are immutable: a revision is a new list), ST_INVALID naming
 * the item when an older_list/older_key does not exist.
 */
void store_reference_import(struct db *db, const struct reference_import *imp,
                            const struct actor *actor, store_json_cb *cb, void *arg);

/*
 * The same, blocking, for `carebridge reasons import` (actor "cli").
 * Returns ST_OK, or the failure with its message in err.
 */
enum status store_reference_import_blocking(const char *conninfo,
                                            const struct reference_import *imp, struct err *err);

#endif

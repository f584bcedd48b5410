/*
 * store_rota.h - SQL for the on-call rota (issue 17): shifts added by an
 * administrator (api_rota.c) or imported from CSV on the command line
 * (cmd_rota.c), and the list.  Who is on duty for a chase is read inside
 * the chase's own transaction (cb_target_users, migration 0037).
 */
#ifndef CB_STORE_ROTA_H
#define CB_STORE_ROTA_H

#include <stdint.h>

#include "rota.h"
#include "status.h"
#include "store.h"

struct db;

/*
 * Add shift e (e->user: the user's UUID), audited as "rota.add"; cb gets the
 * row's JSON, or ST_NOT_FOUND when there is no such user.
 */
void store_rota_add(struct db *db, const struct rota_entry *e, const struct actor *actor,
                    store_json_cb *cb, void *arg);

/*
 * The shifts as {"items": [...]}: on duty at at when at > 0, else every shift
 * ending after now, in start order (at most 1000).
 */
void store_rota_list(struct db *db, int64_t at, int64_t now, store_json_cb *cb, void *arg);

/*
 * Command line: add the n shifts (e->user: user names) in one transaction,
 * audited as "rota.import" by "cli"; a shift already there (site, role, user,
 * start) gets the new end.  ST_NOT_FOUND names the first unknown user.
 */
enum status store_rota_import_blocking(const char *conninfo, const struct rota_entry *e, int n,
                                       struct err *err);

#endif

/*
 * store_delay.h - SQL for the delay report's data (delays are read-only: issue 14).
 */
#ifndef CB_STORE_DELAY_H
#define CB_STORE_DELAY_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"
#include "status.h"
#include "store.h"

struct db;

typedef void store_report_cb(enum status st, const struct report_period *p, size_t n, void *arg);

/* The readiness periods that may count between the snapshots of from and to. */
void store_report_load(struct db *db, int32_t from, int32_t to, store_report_cb *cb, void *arg);

/* The same, blocking, for the command line: returns an array (caller frees) or NULL. */
struct report_period *store_report_load_blocking(const char *conninfo, int32_t from, int32_t to,
                                                 size_t *n, struct err *err);

#endif

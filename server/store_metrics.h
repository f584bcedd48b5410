/*
 * store_metrics.h - the figures /metrics shows that only the database knows
 * (read periodically by loop.c, never per scrape).
 */
#ifndef CB_STORE_METRICS_H
#define CB_STORE_METRICS_H

#include <stdint.h>

#include "store.h"

struct db;

/*
 * Per ward, at carebridge time now: [[code, nctr, delayed], ...] in code
 * order as JSON text, where nctr counts the inpatients not meeting the
 * criteria to reside and delayed those of them ready before the last London
 * midnight (lib/delay's rule for the snapshot that ended yesterday).  cb runs
 * later from the loop.
 */
void store_ward_figures(struct db *db, int64_t now, store_json_cb *cb, void *arg);

#endif

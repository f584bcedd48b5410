/*
 * store_delay.h - SQL for delay reasons.
 */
#ifndef CB_STORE_DELAY_H
#define CB_STORE_DELAY_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "store.h"

struct db;

struct delay_facts {
	char ward[33];     /* the episode's ward */
	char delay_id[37]; /* its open delay, "" if none */
	int version;       /* the delay's version */
	const char *json;  /* the delay's JSON form, NULL if none */
};

typedef void store_delay_facts_cb(enum status st, const struct delay_facts *f, void *arg);

/* The episode's ward and open delay (ST_NOT_FOUND for no such episode). */
void store_delay_get(struct db *db, const char *episode_id, store_delay_facts_cb *cb, void *arg);

typedef void store_delay_json_cb(enum status st, const struct err *err, const char *json,
                                 void *arg);

/* Record reason and attribution on delay f (version-guarded), audited and pushed. */
void store_delay_set(struct db *db, const char *episode_id, const struct delay_facts *f,
                     const char *reason, const char *attribution, const struct actor *actor,
                     store_delay_json_cb *cb, void *arg);

#endif

/*
 * store_message.h - SQL for the message outbox (issue 17): claiming queued
 * messages for sending, recording each outcome, the administrators' list,
 * and users' contact details and channel preferences.  Asynchronous, on the
 * pool.  The messages are queued by store_chase_record, in the chase's own
 * transaction.
 *
 * Nothing here decides what a message says (lib/message.c) or when to retry
 * (server/message.c); rows hold no body and no patient identifier.
 */
#ifndef CB_STORE_MESSAGE_H
#define CB_STORE_MESSAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "message.h"
#include "status.h"
#include "store.h"

struct db;

#define MESSAGE_DIGEST_COUNTS 8 /* the counts of struct message_digest, in its order */

/* A claimed message and what its body may say (strings valid during the callback). */
struct message_row {
	const char *id;                    /* the messages row's UUID */
	enum message_channel channel;      /* how it goes */
	const char *address;               /* e-mail address or mobile number */
	const char *chase_kind;            /* "task", ... */
	const char *discipline;            /* "" if none */
	int level;                         /* 1..3 */
	const char *ward;                  /* ward code */
	const char *bed;                   /* the episode's bed now, "" if none */
	const char *given1;                /* the first letter of the given name, "" if none */
	const char *family1;               /* the first letter of the family name, "" if none */
	int attempts;                      /* including this one */
	bool hub;                          /* the recipient is a hub user (link to /hub) */
	bool digest;                       /* a shift digest: ward ("*" = every ward) and counts */
	int counts[MESSAGE_DIGEST_COUNTS]; /* a digest's, in struct message_digest's order */
};

typedef void store_message_claim_cb(enum status st, const struct message_row *rows, int n,
                                    void *arg);

/*
 * Claim for owner, for lease_ms (real time), up to limit messages due at now
 * (carebridge time: not before the end of quiet hours, not before the next
 * attempt) that nobody holds a live claim on (FOR UPDATE SKIP LOCKED: two
 * processes never claim one row), counting an attempt on each.
 */
void store_message_claim(struct db *db, const char *owner, int64_t now, int64_t lease_ms, int limit,
                         store_message_claim_cb *cb, void *arg);

typedef void store_message_done_cb(enum status st, void *arg);

/*
 * Take the shift digest of slot (a configured local time, as an instant):
 * ST_CONFLICT when another process has; else queue its messages on the
 * channels email and sms ("" = off), counted at now, in one transaction.
 */
void store_digest_take(struct db *db, int64_t slot, int64_t now, const char *email, const char *sms,
                       store_message_done_cb *cb, void *arg);

/* Record message id sent (subject as sent) while owner holds its claim. */
void store_message_sent(struct db *db, const char *id, const char *owner, const char *subject,
                        store_message_done_cb *cb, void *arg);

/*
 * Record a failed attempt of message id (while owner holds its claim): a
 * permanent failure when permanent or when attempts reached max_attempts,
 * else "failed" with the next attempt at next_at (carebridge time).
 */
void store_message_failed(struct db *db, const char *id, const char *owner, const char *error,
                          bool permanent, int max_attempts, int64_t next_at,
                          store_message_done_cb *cb, void *arg);

/*
 * The newest limit messages as {"items": [...]} (lib: cb_message_json, no
 * body), narrowed to status when it is not NULL.
 */
void store_message_list(struct db *db, const char *status, int limit, store_json_cb *cb, void *arg);

/* Contact details to set; a NULL string clears the value, channels as given. */
struct contact_input {
	const char *email;       /* NULL: none */
	const char *mobile;      /* NULL: none */
	bool email_on;           /* "email" in channels */
	bool sms_on;             /* "sms" in channels */
	const char *quiet_start; /* "HH:MM" or NULL */
	const char *quiet_end;   /* "HH:MM" or NULL */
};

/* User user_id's contact details as JSON (cb_contact_json); ST_NOT_FOUND if no such user. */
void store_contact_get(struct db *db, const char *user_id, store_json_cb *cb, void *arg);

/*
 * Set user user_id's contact details, audited as "user.contact" with before
 * and after images; cb gets the new JSON or ST_NOT_FOUND.
 */
void store_contact_set(struct db *db, const char *user_id, const struct contact_input *in,
                       const struct actor *actor, store_json_cb *cb, void *arg);

#endif

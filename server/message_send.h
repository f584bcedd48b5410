/*
 * message.h - sending the message outbox (issue 17): chases by e-mail and
 * text message.
 *
 * Chases queue messages in their own transaction (store_chase_record).  Every
 * second, when worker slots are free, the messenger claims due messages
 * (store_message_claim: FOR UPDATE SKIP LOCKED and a lease, so two processes
 * never hold one row), builds each body from lib/message (the content rules),
 * and hands it to a channel sender on its own worker threads, off the event
 * loop.  The outcome is recorded while the claim holds: sent; failed and
 * retried (back-off doubling from message_retry_min to message_retry_max);
 * or a permanent failure (refused for good, or message_max_attempts used).
 *
 * Delivery is exactly once while processes run and at least once across a
 * crash: a process that dies after the relay accepted a message and before
 * recording it leaves the row claimed, and another sends it again when the
 * claim (message_lease) runs out.  Message-ID is the row's id, so a relay
 * or a mail client may spot the repeat.
 */
#ifndef CB_MESSAGE_SEND_H
#define CB_MESSAGE_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "message.h"
#include "smtp.h"

struct app;
struct messenger;

/* What a channel sender reports. */
enum message_outcome {
	MESSAGE_OUTCOME_SENT,      /* accepted by the relay or the service */
	MESSAGE_OUTCOME_RETRY,     /* try again later */
	MESSAGE_OUTCOME_PERMANENT, /* refused for good: never retried */
};

/*
 * One message handed to a channel sender, on a worker thread.  Everything is
 * owned by the job (copied on the loop before it was queued): a sender reads
 * only this, never the app, the config or the database.
 */
struct message_job {
	struct messenger *m;          /* owner (loop side only) */
	char id[37];                  /* the messages row's UUID (Message-ID, Notify reference) */
	enum message_channel channel; /* which sender */
	char *to;                     /* e-mail address or mobile number */
	char *subject;                /* e-mail subject (no initials) */
	char *body;                   /* the e-mail's plain text, or the SMS text */
	char *mail;                   /* email_smtp: the whole RFC 5322 message */
	int attempts;                 /* including this one */
	/* email_smtp: the relay (strings below owned) */
	struct smtp_settings smtp; /* borrowed pointers into the strings below */
	char *smtp_host, *smtp_ca_file, *smtp_username, *smtp_password, *smtp_password_file;
	char *smtp_helo, *smtp_from;
	/* the outcome, written by the sender */
	enum message_outcome outcome; /* set by message_channel_send */
	char error[160];              /* why not sent (no content, no address) */
};

/*
 * Hand job to its channel's sender and wait for the outcome (blocking: call
 * on a worker thread).  email_smtp goes through smtp_send; email_notify and
 * sms_notify are the GOV.UK Notify client's (until it is built in, they fail
 * permanently with "notify channel not available").  Fills job->error unless
 * sent.
 */
enum message_outcome message_channel_send(struct message_job *job);

struct config;

/*
 * The channels messages are queued on: *email "email_smtp" (message_email
 * smtp and smtp_host set), "email_notify" or ""; *sms "sms_notify" or "".
 */
void messenger_channels(const struct config *cfg, const char **email, const char **sms);

/* A new messenger for app (its worker threads start at once). */
struct messenger *messenger_new(struct app *app);

/* Stop: wait for the sends in progress, then free (later, if a claim is out). */
void messenger_free(struct messenger *m);

/* Once a second: claim and send what is due. */
void messenger_tick(struct messenger *m);

/* New messages may be queued (a chase was recorded): claim at the next tick. */
void messenger_poke(struct messenger *m);

#endif

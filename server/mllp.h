/*
 * mllp.h - the HL7 v2 listener: MLLP over TCP on the event loop.
 *
 * Owns the listening socket and every client connection: many connections,
 * many messages per connection, frames split over any number of reads.  On
 * each connection messages are applied one at a time, in order (hl7_apply.c);
 * what arrives meanwhile waits in the socket (reading pauses), and each ACK is
 * written before the next message starts.  Bytes that are not MLLP close the
 * connection; a frame that is not HL7 gets an AR.  Clients outside
 * mllp_allow are refused as they connect.  With mllp_tls the listener speaks
 * TLS only and checks client certificates in the handshake.
 */
#ifndef CB_MLLP_H
#define CB_MLLP_H

#include "status.h"

struct app;
struct config;
struct mllp;

/*
 * Bind mllp_listen_addr:mllp_port of app->cfg and start accepting; write the
 * real port to mllp_port_file if set.  NULL (with a log line) if that fails.
 */
struct mllp *mllp_new(struct app *app);

/* Stop accepting and stop reading new messages (shutdown); ACKs in flight are still sent. */
void mllp_stop(struct mllp *m);

/* Once a second: prune old messages (at most once a minute). */
void mllp_tick(struct mllp *m);

/* Close every connection and the listener; jobs in flight finish without them.  NULL is fine. */
void mllp_free(struct mllp *m);

/*
 * Whether the TLS files of cfg (mllp_tls on) can be used: NULL if so (or TLS
 * is off), else a new "where: could not load ..." message to print.  For
 * check-config; mllp_new reports the same.
 */
char *mllp_tls_check(const struct config *cfg);

/* The port actually bound. */
int mllp_port(const struct mllp *m);

/*
 * The acknowledgement code of an outcome: AA for ST_OK; AE for a message
 * understood but not applied (invalid, not found, conflict, forbidden); AR
 * when it could not be applied now (database unavailable, internal error,
 * concurrent change), so that the sender resends it.
 */
const char *mllp_ack_code(enum status st);

#endif

/*
 * hl7_apply.h - what an HL7 v2 ADT message does to carebridge, and the ACK it
 * gets.
 *
 * One job per message: parse (lib/hl7), look up the control id, the ward map
 * and the visit, decide with lib/ (admission_parse, episode_can), then one
 * store transaction that holds the change, its audit row (actor "hl7"), its
 * outbox events and the message's own row, so the ACK AA is sent only after
 * COMMIT and a duplicate control id can never take effect twice.  A01 goes
 * through the same store_admission_context / store_admission_commit path as
 * POST /api/v1/admissions.  This module knows nothing of sockets or framing:
 * mllp.c feeds it whole messages and writes the ACK.
 */
#ifndef CB_HL7_APPLY_H
#define CB_HL7_APPLY_H

#include <stddef.h>

struct app;
struct hl7_job;

/*
 * The outcome of a job: the ACK to send (no MLLP framing; borrowed until the
 * callback returns) and its code ("AA", "AE" or "AR").
 */
typedef void hl7_apply_cb(const char *ack, const char *ack_code, void *arg);

/*
 * Start applying the message data[0..len) received from peer (an IP address,
 * for the record).  data is copied.  cb runs exactly once, later from the
 * loop, never before this returns, unless the job is detached first.
 * Returns the job, a handle for hl7_job_detach() valid until cb runs.
 */
struct hl7_job *hl7_apply(struct app *app, const char *data, size_t len, const char *peer,
                          hl7_apply_cb *cb, void *arg);

/*
 * The caller is going away: cb will never run.  Database work already sent
 * completes (a change in flight still commits and is recorded) and the job
 * then frees itself; nothing new is started.
 */
void hl7_job_detach(struct hl7_job *job);

#endif

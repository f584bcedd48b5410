/*
 * totp.h - time-based one-time passwords (RFC 6238: HMAC-SHA-1, 30 s steps,
 * 6 digits), the second factor of the local accounts that remain once sign-in
 * goes through the trust's identity provider, and the base32 text form in
 * which authenticator apps take the shared secret.
 *
 * Pure: callers pass now and the last step already used (a code is accepted
 * once: a step at or before last_step is refused, so a code seen over a
 * shoulder cannot be replayed).
 */
#ifndef CB_TOTP_H
#define CB_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define TOTP_STEP_S 30     /* seconds per step */
#define TOTP_DIGITS 6      /* digits per code */
#define TOTP_WINDOW 1      /* steps of clock difference tolerated either way */
#define TOTP_SECRET_LEN 20 /* bytes of a new secret (160 bits, as RFC 4226 advises) */
#define TOTP_B32_SIZE 33   /* base32 text of a 20-byte secret, NUL included */

/* The code of key at step (RFC 4226 dynamic truncation), 0 .. 10^digits - 1. */
uint32_t totp_code(const unsigned char *key, size_t len, uint64_t step, int digits);

/*
 * Check a typed code (TOTP_DIGITS digits) against key at now, within
 * TOTP_WINDOW steps, for a step after last_step (-1 if none yet).  *used
 * gets the matched step.  ST_UNAUTHORIZED (field "totp") otherwise.
 */
enum status totp_verify(const unsigned char *key, size_t len, const char *code, int64_t now,
                        int64_t last_step, int64_t *used, struct err *err);

/* RFC 4648 base32 (no padding) of len bytes into out; false if out is too small. */
bool base32_encode(const unsigned char *in, size_t len, char *out, size_t size);

/* Decode base32 (upper or lower case, no padding) into out; its length, or -1. */
int base32_decode(const char *in, unsigned char *out, size_t size);

#endif

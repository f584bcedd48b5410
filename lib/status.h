/*
 * status.h - the result of every operation that can fail in an expected way.
 *
 * Functions return enum status and, when the caller passes a struct err, fill
 * it with the field at fault and a message in PostgreSQL's error style (lower
 * case, no final period).  Only server/http.c turns a status into an HTTP code
 * and server/mllp.c into an HL7 acknowledgement code.
 */
#ifndef CB_STATUS_H
#define CB_STATUS_H

#include <stdbool.h>

enum status {
	ST_OK = 0,                /* it worked */
	ST_INVALID,               /* the input is wrong: 400 */
	ST_UNAUTHORIZED,          /* no or bad credentials: 401 */
	ST_FORBIDDEN,             /* authenticated but not allowed: 403 */
	ST_NOT_FOUND,             /* no such object: 404 */
	ST_CONFLICT,              /* the object's state forbids it: 409 */
	ST_PRECONDITION,          /* stale version (If-Match): 412 */
	ST_TOO_LARGE,             /* the input is over a size limit: 413 */
	ST_LOCKED,                /* the account is locked until an administrator unlocks it: 423 */
	ST_TOO_MANY,              /* too many attempts: wait (Retry-After) and try again: 429 */
	ST_PRECONDITION_REQUIRED, /* a conditional write came without If-Match: 428 */
	ST_UNAVAILABLE,           /* could work later (database down, queue full): 503 */
	ST_INTERNAL,              /* a bug or an unexpected failure: 500 */
};

#define ERR_FIELD_MAX 64
#define ERR_MESSAGE_MAX 256

struct err {
	char field[ERR_FIELD_MAX];     /* the input field at fault, "" if none */
	char message[ERR_MESSAGE_MAX]; /* what went wrong, PostgreSQL style */
};

/*
 * Fill err (if not NULL) with field (may be NULL) and a printf-style message,
 * and return st so callers can write "return err_set(err, ST_INVALID, ...)".
 */
enum status err_set(struct err *err, enum status st, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Empty err (if not NULL). */
void err_clear(struct err *err);

/* A short machine-readable name for st: "invalid", "not_found", ... */
const char *status_code(enum status st);

#endif

/*
 * notify.h - GOV.UK Notify's REST API, the parts that need no network: the
 * combined API key, the JWT that authenticates each request, the request
 * bodies of /v2/notifications/email and /v2/notifications/sms, and what a
 * reply means for the message (sent, try again later, never).
 *
 * Pure: no I/O and no clock (callers pass now).  The key's secret is signed
 * with here and never copied into a message, an error or a result.  What
 * Notify publishes (docs.notifications.service.gov.uk, "REST API"):
 *   - an API key is "{key_name}-{service_id}-{secret_key}", the last two UUIDs;
 *   - each request carries "Authorization: Bearer <JWT>", an HS256 JWT signed
 *     with the secret key whose claims are iss (the service id) and iat (epoch
 *     seconds; Notify refuses a token more than 30 s from its own clock);
 *   - POST /v2/notifications/email {email_address, template_id,
 *     personalisation, reference} and /v2/notifications/sms {phone_number, ...}
 *     answer 201 {"id", "reference", "content", "uri", "template"}, or an error
 *     {"status_code": N, "errors": [{"error": "BadRequestError", "message"}]}.
 */
#ifndef CB_NOTIFY_H
#define CB_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "status.h"

#define NOTIFY_UUID_LEN 36        /* a service id or secret key, without its NUL */
#define NOTIFY_RECIPIENT_MAX 320  /* longest e-mail address or phone number accepted */
#define NOTIFY_REFERENCE_MAX 1000 /* longest reference we send */
#define NOTIFY_ERROR_MAX 64       /* an error class name ("BadRequestError"), NUL included */
#define NOTIFY_MESSAGE_MAX 256    /* Notify's error message, cut to this, NUL included */

/* Which kind of message, hence which endpoint and recipient field. */
enum notify_kind {
	NOTIFY_EMAIL, /* /v2/notifications/email, "email_address" */
	NOTIFY_SMS,   /* /v2/notifications/sms, "phone_number" */
};

/* What a reply means for the message. */
enum notify_outcome {
	NOTIFY_SENT,      /* Notify accepted it (2xx): do not send it again */
	NOTIFY_RETRY,     /* not accepted this time; the same request may succeed later */
	NOTIFY_PERMANENT, /* Notify refused the message itself: sending it again cannot work */
};

/* A combined API key, split. */
struct notify_key {
	char service_id[NOTIFY_UUID_LEN + 1]; /* the JWT's iss */
	char secret[NOTIFY_UUID_LEN + 1];     /* the HS256 key: never log or print it */
};

/* The classification of one reply (or of no reply). */
struct notify_result {
	enum notify_outcome outcome;      /* sent, retry or permanent */
	int status;                       /* HTTP status; 0 when there was no reply */
	char id[NOTIFY_UUID_LEN + 1];     /* Notify's notification id when sent, else "" */
	char error[NOTIFY_ERROR_MAX];     /* the first error's class ("RateLimitError"), or ours */
	char message[NOTIFY_MESSAGE_MAX]; /* its message, from Notify or about the transport */
};

/*
 * Split combined, "{key_name}-{service_id}-{secret_key}" (a key name of at
 * least one character, which may itself hold "-", then two UUIDs), into out.
 * ST_INVALID (field "notify_api_key") with a message that never quotes the
 * key.  Leading and trailing white space (a key file's newline) is ignored.
 */
enum status notify_key_parse(const char *combined, struct notify_key *out, struct err *err);

/*
 * The JWT for a request made at now (epoch seconds, the real clock): header
 * {"typ":"JWT","alg":"HS256"}, claims {"iss": service id, "iat": now}, signed
 * with HMAC-SHA-256 under the secret key, in compact form.  Caller frees.
 */
char *notify_jwt(const struct notify_key *key, int64_t now);

/* "/v2/notifications/email" or "/v2/notifications/sms". */
const char *notify_path(enum notify_kind kind);

/* "email" or "sms". */
const char *notify_kind_name(enum notify_kind kind);

/* Set *out to the kind named "email" or "sms"; ST_INVALID (field "kind") otherwise. */
enum status notify_kind_parse(const char *name, enum notify_kind *out, struct err *err);

/*
 * The JSON body of a request (caller frees): the recipient under
 * "email_address" or "phone_number", "template_id", "personalisation" (a copy
 * of personalisation, an object whose values are strings or numbers; NULL for
 * none) and "reference" (NULL or "" for none).  Checks each and returns NULL
 * with ST_INVALID in err naming the field ("email_address", "phone_number",
 * "template_id", "personalisation", "reference"); messages never quote the
 * recipient.  An e-mail address needs one "@" with text on each side; a phone
 * number is digits, spaces, "+", "-", "(" and ")" with 7 to 15 digits.
 */
char *notify_request_body(enum notify_kind kind, const char *recipient, const char *template_id,
                          const cJSON *personalisation, const char *reference, struct err *err);

/*
 * What status (0: no reply) and body (len bytes, not NUL-terminated; may be
 * NULL) mean, into out:
 *   2xx                 sent (id from the body's "id" when it is a UUID)
 *   400 and other 4xx   permanent: the message is refused (bad recipient,
 *                       template, personalisation; trial mode)
 *   401, 403            retry: an authentication fault (key, clock) is the
 *                       channel's, not the message's; an operator fixes it
 *   404, 408, 429       retry (a wrong base URL; a timeout; rate or daily limit)
 *   5xx, 0, 1xx, 3xx    retry
 * error and message come from the first entry of the body's "errors" (class
 * names of letters only), else describe the status.
 */
void notify_classify(int status, const char *body, size_t len, struct notify_result *out);

/* "sent", "retry" or "permanent". */
const char *notify_outcome_name(enum notify_outcome outcome);

#endif

/*
 * message.h - what a chase message says, and how an e-mail is written down
 * (issue 17; docs/SAFETY.md "What a message may say").
 *
 * Content rules: a message carries the minimum a person needs to act (the
 * ward, the bed, the patient's initials, what is overdue and at which level,
 * and a link to the screen that needs sign-in), never the NHS number, the
 * full name, the date of birth or any free text typed by staff (task titles
 * included: they may hold anything).  The builders below take a struct that
 * has no field for any of those, so no caller can put them in by mistake.
 *
 * Also here: the channels a message goes by, the checks on a user's contact
 * details, and the RFC 5322 text of an e-mail (headers, UTF-8 body in
 * base64, dot-stuffing for SMTP DATA).  Pure code: callers pass now.
 */
#ifndef CB_MESSAGE_H
#define CB_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* How a message goes; stored as the name (messages.channel). */
enum message_channel {
	MESSAGE_EMAIL_SMTP,   /* "email_smtp": the trust's relay or NHSmail (server/smtp.c) */
	MESSAGE_EMAIL_NOTIFY, /* "email_notify": GOV.UK Notify's e-mail API */
	MESSAGE_SMS_NOTIFY,   /* "sms_notify": GOV.UK Notify's text message API */
};

#define MESSAGE_CHANNEL_COUNT 3

/* The channel's name ("email_smtp", ...); a static string. */
const char *message_channel_name(enum message_channel c);

/* The channel named s; false when there is none. */
bool message_channel_parse(const char *s, enum message_channel *out);

/* What a chase message may say: nothing else exists to put in it. */
struct message_content {
	const char *chase_kind; /* "task", "referral", "hub", "barrier", "review" */
	const char *discipline; /* the task's discipline ("ot", ...), "" if none */
	int level;              /* chase level 1..3 */
	const char *ward;       /* ward code */
	const char *bed;        /* bed label, "" if none */
	const char *initials;   /* from message_initials(), "" if unknown */
	const char *link;       /* URL of the screen (needs sign-in), "" if none */
};

#define MESSAGE_INITIALS_MAX 16 /* two UTF-8 letters, a dot each, and NUL */

/*
 * The initials "A.T." of a patient (first letter of given, then of family
 * name; a whole UTF-8 sequence each, upper-cased when ASCII) into out.  An
 * empty or malformed name gives no letter for it.
 */
void message_initials(const char *given, const char *family, char out[MESSAGE_INITIALS_MAX]);

/* What is overdue, in plain words: "OT task overdue", "no barrier recorded (NCTR)". */
const char *message_what(const struct message_content *c);

/* The subject line (e-mail): what, ward and bed; no initials.  A new string. */
char *message_subject(const struct message_content *c);

/* A text message body: short, one line per fact.  A new string. */
char *message_sms_body(const struct message_content *c);

/* An e-mail body (plain text, UTF-8).  A new string. */
char *message_email_body(const struct message_content *c);

/* A shift digest's counts (issue 17): numbers only, no patient. */
struct message_digest {
	const char *ward;         /* ward code, or "*" for every ward (the bed manager's) */
	int nctr;                 /* NCTR inpatients */
	int nctr_0_1;             /* of which ready 0-1 days */
	int nctr_2_6;             /* 2-6 days */
	int nctr_7_20;            /* 7-20 days */
	int nctr_21;              /* 21 days or more */
	int barriers_no_owner;    /* open barriers nobody owns */
	int tasks_overdue;        /* open tasks past due */
	int referrals_unanswered; /* referrals sent, not answered by the hub */
	const char *link;         /* the screen (needs sign-in), "" if none */
};

/* The digest's subject: "carebridge shift digest - Ward A3" or "... - all wards".  New string. */
char *message_digest_subject(const struct message_digest *d);

/* The digest's text (e-mail, or sms: shorter, one line).  A new string. */
char *message_digest_body(const struct message_digest *d, bool sms);

/*
 * Check a user's contact details, each NULL when not given: email
 * (local@domain, at most 254 bytes, no spaces or angle brackets), mobile
 * ("+447700900123" or "07700900123": 7..15 digits, an optional "+"), quiet
 * hours "HH:MM" (both or neither).  ST_INVALID names the field.
 */
enum status message_contact_check(const char *email, const char *mobile, const char *quiet_start,
                                  const char *quiet_end, struct err *err);

/* An e-mail to write down (every string borrowed, UTF-8). */
struct mail {
	const char *from;       /* "carebridge@trust.nhs.uk" */
	const char *to;         /* one address */
	const char *subject;    /* any UTF-8: encoded (RFC 2047) when not ASCII */
	const char *body;       /* plain text, LF or CRLF line ends */
	const char *message_id; /* unique local part, e.g. the messages row's UUID */
	const char *domain;     /* right side of Message-ID (from's domain when NULL) */
};

/*
 * The message as RFC 5322 text with CRLF line ends: Date (now, UTC),
 * Message-ID, From, To, Subject, MIME-Version, Content-Type text/plain UTF-8,
 * Content-Transfer-Encoding base64, then the body in base64 lines of 76.
 * NULL when a header value holds CR or LF (header injection).  A new string.
 */
char *mail_format(const struct mail *m, int64_t now);

/*
 * text (CRLF lines) ready for SMTP DATA: every line starting with "." gets
 * another, and the end "\r\n.\r\n" is appended.  A new string.
 */
char *mail_dot_stuff(const char *text);

/* Standard base64 (RFC 4648, padded) of n bytes.  A new string. */
char *base64_encode(const unsigned char *in, size_t n);

#endif

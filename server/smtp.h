/*
 * smtp.h - a small blocking SMTP client (RFC 5321) for the message sender.
 *
 * Runs on a worker thread (server/message.c queues it on its own work pool),
 * never on the event loop: it connects, speaks EHLO, STARTTLS (RFC 3207, the
 * relay's certificate and name checked), AUTH PLAIN or LOGIN (RFC 4954), MAIL,
 * RCPT, DATA and QUIT, with a timeout on every step.  It touches no libevent,
 * libpq or app state: everything it needs is in its own copied settings.
 */
#ifndef CB_SMTP_H
#define CB_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where and how to send (copied per job; every string owned by the job). */
struct smtp_settings {
	const char *host;     /* relay host name or address */
	int port;             /* 25, 587, ... */
	bool starttls;        /* STARTTLS required: refuse to go on without it */
	const char *ca_file;  /* PEM CAs the relay's certificate must chain to; "" = system's */
	const char *username; /* AUTH user; "" = no AUTH */
	const char *password; /* its password */
	const char *helo;     /* our name in EHLO */
	const char *from;     /* envelope sender (MAIL FROM) */
	int64_t timeout_ms;   /* per connect and per reply */
};

enum smtp_result {
	SMTP_SENT,      /* the relay accepted the message (250 after DATA) */
	SMTP_TEMPORARY, /* worth trying again later: no connection, 4xx, TLS or AUTH trouble */
	SMTP_PERMANENT, /* the relay refused this message for good (5xx to MAIL, RCPT or DATA) */
};

/*
 * Send text (a whole RFC 5322 message, CRLF lines, not dot-stuffed: see
 * lib/message.h mail_format) to one recipient.  error gets a short reason
 * (no message content) unless SMTP_SENT.  Blocking: call from a worker thread.
 */
enum smtp_result smtp_send(const struct smtp_settings *s, const char *to, const char *text,
                           char *error, size_t error_size);

#endif

/*
 * message.c - chase message content and e-mail text (see message.h).
 *
 * Owns nothing between calls.  Must not: put anything in a message that
 * struct message_content does not hold (docs/SAFETY.md), read a clock, or do I/O.
 */
#include "message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbtime.h"
#include "utf8.h"
#include "xmalloc.h"

#define MAIL_LINE 76 /* base64 characters per body line (RFC 2045) */

static const char *const channel_names[MESSAGE_CHANNEL_COUNT] = {"email_smtp", "email_notify",
                                                                 "sms_notify"};

const char *message_channel_name(enum message_channel c)
{
	ASSERT((int)c >= 0 && c < MESSAGE_CHANNEL_COUNT);
	return channel_names[c];
}

bool message_channel_parse(const char *s, enum message_channel *out)
{
	for (int i = 0; i < MESSAGE_CHANNEL_COUNT; i++) {
		if (strcmp(s, channel_names[i]) == 0) {
			*out = (enum message_channel)i;
			return true;
		}
	}
	return false;
}

/* Append the first letter of name (one whole UTF-8 sequence) and a dot to out. */
static void initial_add(const char *name, char *out, size_t *n)
{
	size_t len;

	if (name == NULL)
		return;
	while (*name == ' ')
		name++;
	len = utf8_seq_len(name, strlen(name));
	if (len == 0 || name[0] == '\0' || (unsigned char)name[0] < 0x20)
		return;
	if (len == 1 && !((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')))
		return; /* a digit or punctuation is not an initial */
	memcpy(out + *n, name, len);
	if (len == 1 && out[*n] >= 'a' && out[*n] <= 'z')
		out[*n] = (char)(out[*n] - 'a' + 'A');
	*n += len;
	out[(*n)++] = '.';
	out[*n] = '\0';
}

void message_initials(const char *given, const char *family, char out[MESSAGE_INITIALS_MAX])
{
	size_t n = 0;

	out[0] = '\0';
	initial_add(given, out, &n);
	initial_add(family, out, &n);
}

static const char *discipline_word(const char *d)
{
	if (d == NULL || d[0] == '\0')
		return "";
	if (strcmp(d, "ot") == 0)
		return "OT ";
	if (strcmp(d, "physio") == 0)
		return "Physiotherapy ";
	if (strcmp(d, "social_work") == 0)
		return "Social work ";
	if (strcmp(d, "ward") == 0)
		return "Ward ";
	return "";
}

const char *message_what(const struct message_content *c)
{
	const char *k = c->chase_kind;

	if (strcmp(k, "task") == 0) {
		const char *d = discipline_word(c->discipline);

		if (strcmp(d, "OT ") == 0)
			return "OT task overdue";
		if (strcmp(d, "Physiotherapy ") == 0)
			return "Physiotherapy task overdue";
		if (strcmp(d, "Social work ") == 0)
			return "Social work task overdue";
		if (strcmp(d, "Ward ") == 0)
			return "Ward task overdue";
		return "Task overdue";
	}
	if (strcmp(k, "referral") == 0)
		return "Referral to the hub not sent";
	if (strcmp(k, "hub") == 0)
		return "Referral waiting for the hub";
	if (strcmp(k, "barrier") == 0)
		return "NCTR with no barrier recorded";
	if (strcmp(k, "review") == 0)
		return "Not reviewed since the board round";
	return "Chase";
}

static const char *level_word(int level)
{
	switch (level) {
	case 1:
		return "team";
	case 2:
		return "team lead";
	case 3:
		return "bed manager (urgent)";
	default:
		return "team";
	}
}

/* "Ward A3, bed 12" or "Ward A3". */
static char *where(const struct message_content *c)
{
	if (c->bed != NULL && c->bed[0] != '\0')
		return xasprintf("Ward %s, bed %s", c->ward, c->bed);
	return xasprintf("Ward %s", c->ward);
}

char *message_subject(const struct message_content *c)
{
	char *w = where(c);
	char *s = xasprintf("carebridge: %s - %s (level %d)", message_what(c), w, c->level);

	free(w);
	return s;
}

char *message_sms_body(const struct message_content *c)
{
	char *w = where(c), *s;
	const char *ini = c->initials != NULL ? c->initials : "";

	s = xasprintf("carebridge: %s. %s%s%s. Level %d (%s).%s%s", message_what(c), w,
	              ini[0] != '\0' ? ", patient " : "", ini, c->level, level_word(c->level),
	              c->link != NULL && c->link[0] != '\0' ? " Sign in: " : "",
	              c->link != NULL ? c->link : "");
	free(w);
	return s;
}

char *message_email_body(const struct message_content *c)
{
	char *w = where(c), *s;
	const char *ini = c->initials != NULL ? c->initials : "";

	s = xasprintf("%s.\n\n%s%s%s.\nChase level %d: %s.\n\n%s%s%s"
	              "This message holds no patient details on purpose; the screen has them.\n",
	              message_what(c), w, ini[0] != '\0' ? ", patient " : "", ini, c->level,
	              level_word(c->level),
	              c->link != NULL && c->link[0] != '\0' ? "Open (sign-in needed): " : "",
	              c->link != NULL ? c->link : "",
	              c->link != NULL && c->link[0] != '\0' ? "\n\n" : "");
	free(w);
	return s;
}

char *message_digest_subject(const struct message_digest *d)
{
	if (strcmp(d->ward, "*") == 0)
		return xstrdup("carebridge shift digest - all wards");
	return xasprintf("carebridge shift digest - Ward %s", d->ward);
}

char *message_digest_body(const struct message_digest *d, bool sms)
{
	const char *link = d->link != NULL ? d->link : "";
	char *where =
	    strcmp(d->ward, "*") == 0 ? xstrdup("All wards") : xasprintf("Ward %s", d->ward);
	char *s;

	if (sms)
		s = xasprintf(
		    "carebridge digest: %s. NCTR %d (21+ days %d). Barriers without owner "
		    "%d. Overdue tasks %d. Referrals unanswered %d.%s%s",
		    where, d->nctr, d->nctr_21, d->barriers_no_owner, d->tasks_overdue,
		    d->referrals_unanswered, link[0] != '\0' ? " Sign in: " : "", link);
	else
		s = xasprintf(
		    "Shift digest: %s.\n\n"
		    "NCTR patients: %d\n"
		    "  ready 0-1 days: %d\n"
		    "  ready 2-6 days: %d\n"
		    "  ready 7-20 days: %d\n"
		    "  ready 21 days or more: %d\n"
		    "Barriers without an owner: %d\n"
		    "Overdue tasks: %d\n"
		    "Referrals the hub has not answered: %d\n\n"
		    "%s%s%s"
		    "This message holds no patient details on purpose; the screen has them.\n",
		    where, d->nctr, d->nctr_0_1, d->nctr_2_6, d->nctr_7_20, d->nctr_21,
		    d->barriers_no_owner, d->tasks_overdue, d->referrals_unanswered,
		    link[0] != '\0' ? "Open (sign-in needed): " : "", link,
		    link[0] != '\0' ? "\n\n" : "");
	free(where);
	return s;
}

static bool is_hhmm(const char *s)
{
	return strlen(s) == 5 && s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' &&
	       s[2] == ':' && s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9' &&
	       (s[0] - '0') * 10 + (s[1] - '0') <= 23;
}

enum status message_contact_check(const char *email, const char *mobile, const char *quiet_start,
                                  const char *quiet_end, struct err *err)
{
	if (email != NULL) {
		const char *at = strchr(email, '@');
		size_t n = strlen(email);

		if (n > 254 || at == NULL || at == email || at[1] == '\0' ||
		    strchr(at + 1, '@') != NULL || strcspn(email, " \t\r\n<>,;\"") != n ||
		    strchr(at + 1, '.') == NULL)
			return err_set(err, ST_INVALID, "email",
			               "\"email\" must be one address, local@domain");
		for (const char *p = at + 1; *p != '\0'; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
				return err_set(err, ST_INVALID, "email",
				               "\"email\" has an invalid domain");
	}
	if (mobile != NULL) {
		const char *p = mobile[0] == '+' ? mobile + 1 : mobile;
		size_t n = strlen(p);

		if (n < 7 || n > 15 || strspn(p, "0123456789") != n)
			return err_set(err, ST_INVALID, "mobile",
			               "\"mobile\" must be 7 to 15 digits, with an optional \"+\"");
	}
	if (quiet_start != NULL && !is_hhmm(quiet_start))
		return err_set(err, ST_INVALID, "quiet_start", "\"quiet_start\" must be HH:MM");
	if (quiet_end != NULL && !is_hhmm(quiet_end))
		return err_set(err, ST_INVALID, "quiet_end", "\"quiet_end\" must be HH:MM");
	if ((quiet_start == NULL) != (quiet_end == NULL))
		return err_set(err, ST_INVALID, quiet_start == NULL ? "quiet_start" : "quiet_end",
		               "\"quiet_start\" and \"quiet_end\" go together");
	return ST_OK;
}

char *base64_encode(const unsigned char *in, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = xmalloc((n + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		*o++ = tab[in[i] >> 2];
		*o++ = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = tab[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*o++ = tab[in[i + 2] & 63];
	}
	if (i < n) {
		*o++ = tab[in[i] >> 2];
		if (i + 1 < n) {
			*o++ = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			*o++ = tab[(in[i + 1] & 15) << 2];
		} else {
			*o++ = tab[(in[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static bool has_crlf(const char *s)
{
	return s == NULL || strpbrk(s, "\r\n") != NULL;
}

static bool is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* body with every line end as CRLF.  A new string. */
static char *crlf(const char *body)
{
	size_t n = strlen(body);
	char *out = xmalloc(2 * n + 3), *o = out;

	for (const char *p = body; *p != '\0'; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		if (*p == '\n' || *p == '\r') {
			*o++ = '\r';
			*o++ = '\n';
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

char *mail_format(const struct mail *m, int64_t now)
{
	static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	int32_t day = (int32_t)(now >= 0 ? now / 86400 : (now - 86399) / 86400);
	int64_t sec = now - (int64_t)day * 86400;
	const char *domain = m->domain;
	char *subject, *body, *b64, *lines, *out;
	int y, mo, d;
	size_t n, k = 0;

	if (has_crlf(m->from) || has_crlf(m->to) || has_crlf(m->subject) ||
	    has_crlf(m->message_id) || (domain != NULL && has_crlf(domain)))
		return NULL;
	if (domain == NULL)
		domain = strchr(m->from, '@') != NULL ? strchr(m->from, '@') + 1 : "localhost";
	date_to_ymd(day, &y, &mo, &d);
	if (is_ascii(m->subject)) {
		subject = xstrdup(m->subject);
	} else {
		char *e = base64_encode((const unsigned char *)m->subject, strlen(m->subject));

		subject = xasprintf("=?UTF-8?B?%s?=", e);
		free(e);
	}
	body = crlf(m->body);
	b64 = base64_encode((const unsigned char *)body, strlen(body));
	n = strlen(b64);
	lines = xmalloc(n + (n / MAIL_LINE + 1) * 2 + 1);
	for (size_t i = 0; i < n; i += MAIL_LINE) {
		size_t len = n - i < MAIL_LINE ? n - i : MAIL_LINE;

		memcpy(lines + k, b64 + i, len);
		k += len;
		lines[k++] = '\r';
		lines[k++] = '\n';
	}
	lines[k] = '\0';
	out = xasprintf("Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n"
	                "Message-ID: <%s@%s>\r\n"
	                "From: <%s>\r\n"
	                "To: <%s>\r\n"
	                "Subject: %s\r\n"
	                "MIME-Version: 1.0\r\n"
	                "Content-Type: text/plain; charset=UTF-8\r\n"
	                "Content-Transfer-Encoding: base64\r\n"
	                "Auto-Submitted: auto-generated\r\n"
	                "\r\n"
	                "%s",
	                wd[date_weekday(day)], d, mon[mo - 1], y, (int)(sec / 3600),
	                (int)(sec / 60 % 60), (int)(sec % 60), m->message_id, domain, m->from,
	                m->to, subject, lines);
	free(subject);
	free(body);
	free(b64);
	free(lines);
	return out;
}

char *mail_dot_stuff(const char *text)
{
	size_t n = strlen(text), dots = 1;
	char *out, *o;

	for (size_t i = 0; i < n; i++)
		if (text[i] == '.' && (i == 0 || text[i - 1] == '\n'))
			dots++;
	out = o = xmalloc(n + dots + 6);
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '.' && (i == 0 || text[i - 1] == '\n'))
			*o++ = '.';
		*o++ = text[i];
	}
	if (n > 0 && !(n >= 2 && text[n - 2] == '\r' && text[n - 1] == '\n')) {
		*o++ = '\r';
		*o++ = '\n';
	}
	memcpy(o, ".\r\n", 4);
	return out;
}

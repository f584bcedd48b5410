/*
 * log.c - the daemon's log lines (see log.h for the formats and the rules on
 * what may be logged).  Each line is formatted into one buffer and written with
 * a single write(2), so lines from several processes do not interleave.
 *
 * Owns: the level, the format and the request id in force (file statics: the
 * daemon has one loop thread).
 */
#include "log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

static enum log_level log_level = LOG_LOG;
static bool log_json;                     /* log_format = json */
static int log_journal = -1;              /* stderr is the journal; -1 not yet known */
static char log_rid[LOG_REQUEST_ID_SIZE]; /* request in force, "" none */
static const char *const log_names[] = {"FATAL", "ERROR", "WARNING", "LOG", "DEBUG"};
static const int log_priorities[] = {2, 3, 4, 6, 7}; /* syslog crit ... debug */

bool log_set_level_name(const char *name)
{
	static const char *const lower[] = {"fatal", "error", "warning", "log", "debug"};

	for (int i = 0; i <= LOG_DEBUG; i++) {
		if (strcmp(name, lower[i]) == 0) {
			log_level = (enum log_level)i;
			return true;
		}
	}
	return false;
}

bool log_set_format_name(const char *name)
{
	if (strcmp(name, "text") == 0)
		log_json = false;
	else if (strcmp(name, "json") == 0)
		log_json = true;
	else
		return false;
	return true;
}

bool log_enabled(enum log_level level)
{
	return level <= log_level;
}

void log_request_begin(const char *id, char prev[LOG_REQUEST_ID_SIZE])
{
	memcpy(prev, log_rid, LOG_REQUEST_ID_SIZE);
	snprintf(log_rid, sizeof log_rid, "%s", id != NULL ? id : "");
}

void log_request_end(const char prev[LOG_REQUEST_ID_SIZE])
{
	memcpy(log_rid, prev, LOG_REQUEST_ID_SIZE);
	log_rid[LOG_REQUEST_ID_SIZE - 1] = '\0';
}

const char *log_request_id(void)
{
	return log_rid;
}

/* Whether stderr is the systemd journal's stream (JOURNAL_STREAM is "dev:inode"). */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* A bounded appender: what does not fit is dropped, the line stays well formed. */
struct line {
	char buf[LINE_MAX_BYTES]; /* the line */
	size_t n;                 /* used; at most sizeof buf - 2 (room for "}\n") */
};

static void put(struct line *l, const char *s, size_t len)
{
	size_t room = sizeof l->buf - 2 - l->n;

	if (len > room)
		len = room;
	memcpy(l->buf + l->n, s, len);
	l->n += len;
}

static void puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* s[0..len) as a JSON string, quotes included; control bytes escaped. */
static void put_json(struct line *l, const char *s, size_t len)
{
	put(l, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[8];

		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			put(l, esc, 2);
		} else if (ch < 0x20 || ch == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", ch);
			put(l, esc, 6);
		} else {
			put(l, (const char *)&ch, 1);
		}
	}
	put(l, "\"", 1);
}

/* The keys a message's fields may not take (they are the line's own). */
static bool key_reserved(const char *k, size_t len)
{
	static const char *const keys[] = {"ts", "level", "module", "pid", "request_id", "msg"};

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strlen(keys[i]) == len && memcmp(keys[i], k, len) == 0)
			return true;
	return false;
}

/*
 * If a word of msg starting at p is key=value (value bare, or "quoted" with
 * no quote inside), its end; else NULL.  Keys are [a-z_][a-z0-9_.]*.
 */
static const char *field_end(const char *p, size_t *keylen)
{
	const char *q = p;

	if (!(islower((unsigned char)*q) || *q == '_'))
		return NULL;
	while (islower((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '_' || *q == '.')
		q++;
	if (*q != '=' || key_reserved(p, (size_t)(q - p)))
		return NULL;
	*keylen = (size_t)(q - p);
	q++;
	if (*q == '"') {
		const char *close = strchr(q + 1, '"');

		if (close == NULL || (close[1] != ' ' && close[1] != '\0'))
			return NULL;
		return close + 1;
	}
	while (*q != ' ' && *q != '\0')
		q++;
	return q;
}

/* Where the run of key=value words that ends msg begins (msg's end if none). */
static const char *fields_start(const char *msg)
{
	const char *p = msg, *run = NULL;

	while (*p != '\0') {
		size_t kl;
		const char *e = field_end(p, &kl);

		if (e != NULL) {
			if (run == NULL)
				run = p;
			p = e;
		} else {
			run = NULL;
			while (*p != ' ' && *p != '\0')
				p++;
		}
		while (*p == ' ')
			p++;
	}
	return run != NULL ? run : p;
}

static void format_json(struct line *l, const struct timeval *tv, const struct tm *tm,
                        enum log_level level, const char *module, const char *msg)
{
	char ts[64], num[48];
	const char *f = fields_start(msg), *end;
	size_t mlen = (size_t)(f - msg);

	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", tm);
	snprintf(ts + strlen(ts), sizeof ts - strlen(ts), ".%03ldZ", (long)(tv->tv_usec / 1000));
	puts_(l, "{\"ts\":\"");
	puts_(l, ts);
	puts_(l, "\",\"level\":\"");
	puts_(l, log_names[level]);
	puts_(l, "\",\"module\":");
	put_json(l, module, strlen(module));
	snprintf(num, sizeof num, ",\"pid\":%ld,\"request_id\":", (long)getpid());
	puts_(l, num);
	put_json(l, log_rid[0] != '\0' ? log_rid : "-", log_rid[0] != '\0' ? strlen(log_rid) : 1);
	puts_(l, ",\"msg\":");
	while (mlen > 0 && msg[mlen - 1] == ' ')
		mlen--;
	put_json(l, msg, mlen);
	for (const char *p = f; *p != '\0'; p = end) {
		size_t kl;
		const char *v;

		end = field_end(p, &kl);
		if (end == NULL)
			break; /* cannot happen: fields_start checked every word */
		puts_(l, ",");
		put_json(l, p, kl);
		puts_(l, ":");
		v = p + kl + 1;
		if (*v == '"')
			put_json(l, v + 1, (size_t)(end - v - 2));
		else
			put_json(l, v, (size_t)(end - v));
		while (*end == ' ')
			end++;
	}
	puts_(l, "}");
}

void log_write(enum log_level level, const char *module, const char *fmt, ...)
{
	char msg[2048];
	struct line l;
	struct timeval tv;
	struct tm tm;
	size_t mlen;
	va_list ap;

	if (!log_enabled(level))
		return;
	if (log_journal < 0)
		log_journal = stderr_is_journal();
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	mlen = strlen(msg);
	while (mlen > 0 && msg[mlen - 1] == '\n')
		msg[--mlen] = '\0';
	l.n = 0;
	if (log_journal) {
		char pri[8];

		snprintf(pri, sizeof pri, "<%d>", log_priorities[level]);
		puts_(&l, pri);
	}
	if (log_json) {
		format_json(&l, &tv, &tm, level, module, msg);
	} else {
		char head[128];

		l.n += strftime(l.buf + l.n, sizeof l.buf - 2 - l.n, "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(head, sizeof head, ".%03ld UTC [%ld] [", (long)(tv.tv_usec / 1000),
		         (long)getpid());
		puts_(&l, head);
		puts_(&l, log_rid[0] != '\0' ? log_rid : "-");
		snprintf(head, sizeof head, "] %s %s: ", log_names[level], module);
		puts_(&l, head);
		puts_(&l, msg);
	}
	l.buf[l.n++] = '\n';
	if (write(STDERR_FILENO, l.buf, l.n) < 0) {
		/* Nowhere left to report it. */
	}
}

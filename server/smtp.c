/*
 * smtp.c - the blocking SMTP client (see smtp.h).
 *
 * Owns, for one call: the socket, the TLS context and session, and a line
 * buffer.  Must not: run on the event loop, log (the caller logs the outcome
 * by message id), or put message content or a password in error.
 */
#include "smtp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "message.h"
#include "xmalloc.h"

#define SMTP_LINE_MAX 1024 /* longest reply line kept (longer ones are cut) */
#define SMTP_REPLY_LINES 64

struct smtp_conn {
	int fd;                   /* the socket, -1 when none */
	SSL_CTX *ctx;             /* after STARTTLS; owned */
	SSL *ssl;                 /* after STARTTLS; owned */
	char buf[4096];           /* bytes read, not yet consumed */
	size_t len;               /* how many */
	char last[SMTP_LINE_MAX]; /* the last reply line, for errors */
	bool ext_starttls;        /* EHLO offered STARTTLS */
	bool ext_plain;           /* EHLO offered AUTH PLAIN */
	bool ext_login;           /* EHLO offered AUTH LOGIN */
	char *error;              /* the caller's buffer */
	size_t error_size;        /* its size */
};

static void fail(struct smtp_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct smtp_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, c->error_size, fmt, ap);
	va_end(ap);
}

static int connect_to(const char *host, int port, int64_t timeout_ms)
{
	struct addrinfo hints = {0}, *res = NULL, *ai;
	char ps[16];
	int fd = -1;

	hints.ai_socktype = SOCK_STREAM;
	snprintf(ps, sizeof ps, "%d", port);
	if (getaddrinfo(host, ps, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		struct pollfd p;
		int err = 0;
		socklen_t len = sizeof err;
		struct timeval tv = {(time_t)(timeout_ms / 1000),
		                     (suseconds_t)(timeout_ms % 1000) * 1000};

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		            ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS)
			goto next;
		p.fd = fd;
		p.events = POLLOUT;
		if (poll(&p, 1, (int)timeout_ms) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
			goto next;
		/* blocking from here, every read and write bounded by the timeout */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		continue;
	next:
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static bool conn_write(struct smtp_conn *c, const char *data, size_t n)
{
	while (n > 0) {
		ssize_t w;

		if (c->ssl != NULL)
			w = SSL_write(c->ssl, data, (int)(n > 65536 ? 65536 : n));
		else
			w = send(c->fd, data, n, MSG_NOSIGNAL);
		if (w <= 0) {
			if (c->ssl == NULL && w < 0 && errno == EINTR)
				continue;
			fail(c, "could not write to the relay");
			return false;
		}
		data += w;
		n -= (size_t)w;
	}
	return true;
}

static bool conn_fill(struct smtp_conn *c)
{
	ssize_t r;

	if (c->len == sizeof c->buf)
		c->len = 0; /* an absurdly long line: drop it */
	if (c->ssl != NULL)
		r = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof c->buf - c->len));
	else
		do
			r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
		while (r < 0 && errno == EINTR);
	if (r <= 0) {
		fail(c, r == 0 ? "the relay closed the connection" : "no reply from the relay");
		return false;
	}
	c->len += (size_t)r;
	return true;
}

/* One reply line (CRLF removed) into line. */
static bool read_line(struct smtp_conn *c, char *line, size_t size)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);

		if (nl != NULL) {
			size_t n = (size_t)(nl - c->buf), k = n;

			if (k > 0 && c->buf[k - 1] == '\r')
				k--;
			if (k >= size)
				k = size - 1;
			memcpy(line, c->buf, k);
			line[k] = '\0';
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return true;
		}
		if (!conn_fill(c))
			return false;
	}
}

/*
 * Read a whole (possibly multi-line) reply; its code, or 0 on a broken
 * connection or malformed reply.  EHLO keywords are noted on the way.
 */
static int read_reply(struct smtp_conn *c)
{
	char line[SMTP_LINE_MAX];

	for (int i = 0; i < SMTP_REPLY_LINES; i++) {
		int code;

		if (!read_line(c, line, sizeof line))
			return 0;
		if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
		    line[1] > '9' || line[2] < '0' || line[2] > '9' ||
		    (line[3] != '\0' && line[3] != ' ' && line[3] != '-')) {
			fail(c, "malformed reply from the relay");
			return 0;
		}
		code = atoi(line);
		if (code == 250 && line[3] != '\0') {
			const char *kw = line + 4;

			if (strcasecmp(kw, "STARTTLS") == 0)
				c->ext_starttls = true;
			if (strncasecmp(kw, "AUTH", 4) == 0 && (kw[4] == ' ' || kw[4] == '=')) {
				char up[SMTP_LINE_MAX];
				size_t k;

				for (k = 0; kw[k] != '\0' && k < sizeof up - 2; k++)
					up[k + 1] = (char)(kw[k] >= 'a' && kw[k] <= 'z' ? kw[k] - 32
					                                                : kw[k]);
				up[0] = ' ';
				up[k + 1] = ' ';
				up[k + 2] = '\0';
				for (char *p = up; *p != '\0'; p++)
					if (*p == '=')
						*p = ' ';
				if (strstr(up, " PLAIN ") != NULL)
					c->ext_plain = true;
				if (strstr(up, " LOGIN ") != NULL)
					c->ext_login = true;
			}
		}
		if (line[3] != '-') {
			snprintf(c->last, sizeof c->last, "%.80s", line);
			return code;
		}
	}
	fail(c, "reply from the relay too long");
	return 0;
}

/* Send a command line (CRLF added) and read the reply; its code, 0 on failure. */
static int command(struct smtp_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int command(struct smtp_conn *c, const char *fmt, ...)
{
	va_list ap;
	char *line;
	bool ok;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		assert_fail(__FILE__, __LINE__, "vasprintf");
	ok = conn_write(c, line, (size_t)n) && conn_write(c, "\r\n", 2);
	sodium_memzero(line, (size_t)n);
	free(line);
	return ok ? read_reply(c) : 0;
}

static bool ehlo(struct smtp_conn *c, const char *helo)
{
	int code;

	c->ext_starttls = c->ext_plain = c->ext_login = false;
	code = command(c, "EHLO %s", helo);
	if (code != 250) {
		if (code != 0)
			fail(c, "EHLO refused: %s", c->last);
		return false;
	}
	return true;
}

static bool start_tls(struct smtp_conn *c, const struct smtp_settings *s)
{
	int code = command(c, "STARTTLS");

	if (code != 220) {
		if (code != 0)
			fail(c, "STARTTLS refused: %s", c->last);
		return false;
	}
	c->len = 0; /* nothing may be buffered across the handshake (RFC 3207 section 4.2) */
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->ctx == NULL)
		goto tls_fail;
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (s->ca_file[0] == '\0' ? SSL_CTX_set_default_verify_paths(c->ctx) != 1
	                          : SSL_CTX_load_verify_locations(c->ctx, s->ca_file, NULL) != 1) {
		fail(c, "could not load the CA certificates for smtp");
		ERR_clear_error();
		return false;
	}
	c->ssl = SSL_new(c->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set1_host(c->ssl, s->host) != 1 || SSL_set_tlsext_host_name(c->ssl, s->host) != 1)
		goto tls_fail;
	if (SSL_connect(c->ssl) != 1) {
		long v = SSL_get_verify_result(c->ssl);

		if (v != X509_V_OK)
			fail(c, "relay certificate not trusted: %s",
			     X509_verify_cert_error_string(v));
		else
			fail(c, "TLS handshake with the relay failed");
		ERR_clear_error();
		return false;
	}
	return true;
tls_fail:
	fail(c, "could not start TLS with the relay");
	ERR_clear_error();
	return false;
}

static bool auth(struct smtp_conn *c, const struct smtp_settings *s)
{
	size_t ul = strlen(s->username), pl = strlen(s->password);
	int code;

	if (c->ext_plain || !c->ext_login) {
		/* "\0user\0password" in base64 */
		unsigned char *raw = xmalloc(ul + pl + 2);
		char *b64;

		raw[0] = '\0';
		memcpy(raw + 1, s->username, ul);
		raw[ul + 1] = '\0';
		memcpy(raw + ul + 2, s->password, pl);
		b64 = base64_encode(raw, ul + pl + 2);
		sodium_memzero(raw, ul + pl + 2);
		free(raw);
		code = command(c, "AUTH PLAIN %s", b64);
		sodium_memzero(b64, strlen(b64));
		free(b64);
	} else {
		char *u = base64_encode((const unsigned char *)s->username, ul);
		char *p = base64_encode((const unsigned char *)s->password, pl);

		code = command(c, "AUTH LOGIN");
		if (code == 334)
			code = command(c, "%s", u);
		if (code == 334)
			code = command(c, "%s", p);
		sodium_memzero(p, strlen(p));
		free(u);
		free(p);
	}
	if (code != 235) {
		if (code != 0)
			fail(c, "authentication refused: %s", c->last);
		return false;
	}
	return true;
}

enum smtp_result smtp_send(const struct smtp_settings *s, const char *to, const char *text,
                           char *error, size_t error_size)
{
	struct smtp_conn c = {.fd = -1, .error = error, .error_size = error_size};
	enum smtp_result res = SMTP_TEMPORARY;
	char *data = NULL;
	int code;

	error[0] = '\0';
	c.fd = connect_to(s->host, s->port, s->timeout_ms);
	if (c.fd < 0) {
		fail(&c, "could not connect to the relay %s:%d", s->host, s->port);
		return SMTP_TEMPORARY;
	}
	code = read_reply(&c);
	if (code != 220) {
		if (code != 0)
			fail(&c, "relay not ready: %s", c.last);
		goto out;
	}
	if (!ehlo(&c, s->helo))
		goto out;
	if (s->starttls) {
		if (!c.ext_starttls) {
			fail(&c, "the relay does not offer STARTTLS (smtp_starttls = required)");
			goto out;
		}
		if (!start_tls(&c, s) || !ehlo(&c, s->helo))
			goto out;
	}
	if (s->username[0] != '\0' && !auth(&c, s))
		goto out;
	code = command(&c, "MAIL FROM:<%s>", s->from);
	if (code != 250) {
		if (code != 0)
			fail(&c, "MAIL FROM refused: %s", c.last);
		res = code >= 500 ? SMTP_PERMANENT : SMTP_TEMPORARY;
		goto out;
	}
	code = command(&c, "RCPT TO:<%s>", to);
	if (code != 250 && code != 251) {
		if (code != 0)
			fail(&c, "RCPT TO refused: %s", c.last);
		res = code >= 500 ? SMTP_PERMANENT : SMTP_TEMPORARY;
		goto out;
	}
	code = command(&c, "DATA");
	if (code != 354) {
		if (code != 0)
			fail(&c, "DATA refused: %s", c.last);
		res = code >= 500 ? SMTP_PERMANENT : SMTP_TEMPORARY;
		goto out;
	}
	data = mail_dot_stuff(text);
	if (!conn_write(&c, data, strlen(data)))
		goto out;
	code = read_reply(&c);
	if (code != 250) {
		if (code != 0)
			fail(&c, "message refused: %s", c.last);
		res = code >= 500 ? SMTP_PERMANENT : SMTP_TEMPORARY;
		goto out;
	}
	res = SMTP_SENT;
	error[0] = '\0';
	(void)command(&c, "QUIT"); /* sent: a failure to say goodbye changes nothing */
out:
	free(data);
	if (c.ssl != NULL) {
		SSL_shutdown(c.ssl);
		SSL_free(c.ssl);
	}
	SSL_CTX_free(c.ctx);
	ERR_clear_error();
	close(c.fd);
	return res;
}

/*
 * mllp.c - the HL7 v2 listener (see mllp.h).
 *
 * Owns: the evconnlistener, one struct mllp_conn per client with its
 * bufferevent and its MLLP decoder (lib/mllp_frame), and the link to the one
 * message job in flight per connection.  It does not look inside messages:
 * hl7_apply.c does, and calls back with the ACK.
 *
 * The listener does not trust the network: off the loopback the configuration
 * must name the clients (mllp_allow) or say "any" (lib/config.c checks it), and
 * with mllp_tls it speaks only TLS, each client proving itself with a
 * certificate of mllp_tls_ca_file (and, if listed, a name of
 * mllp_tls_allowed_clients) before the first byte of HL7 is read.
 *
 * Flow control is the socket's: while a message is being applied, reading
 * stops, so a client that pipelines waits in TCP and memory stays bounded by
 * mllp_max_message per connection.  Connections are never freed inside their
 * own callbacks: conn_close() moves them to a dead list that an event freed at
 * the end of the loop turn empties (as PgBouncer's just-free lists).
 */
#include "mllp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "app.h"
#include "config.h"
#include "db.h"
#include "hl7_apply.h"
#include "list.h"
#include "log.h"
#include "mllp_frame.h"
#include "store_hl7.h"
#include "xmalloc.h"

#define MLLP_PRUNE_EVERY 60         /* ticks (seconds) between prunes of old messages */
#define MLLP_TLS_HANDSHAKE_MS 10000 /* a TLS client must finish its handshake within this */
#define MLLP_TLS_NAME_MAX 64        /* longest certificate common name (X.520 ub-common-name) */

struct mllp_allow {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* the address, 4 or 16 bytes */
};

struct mllp_conn {
	TAILQ_ENTRY(mllp_conn) entry;       /* on m->conns, or m->dead once closed */
	struct mllp *m;                     /* the listener */
	struct bufferevent *bev;            /* the socket; owned, freed with the conn */
	struct mllp_decoder dec;            /* the frame being assembled */
	char peer[INET6_ADDRSTRLEN];        /* client address, for logs and the record */
	char client[MLLP_TLS_NAME_MAX + 1]; /* TLS: the client certificate's CN, "" if none */
	bool tls_up;                        /* TLS: handshake done (always true for plain MLLP) */
	uint64_t id;                        /* connection number, for logs */
	struct hl7_job *job;                /* the message being applied, NULL if none */
	unsigned messages;                  /* messages answered */
	bool closing;                       /* close once the output is flushed */
	bool dead;                          /* on m->dead, freed at the end of the loop turn */
};

TAILQ_HEAD(mllp_conn_list, mllp_conn);

struct mllp {
	struct app *app;                 /* the process */
	struct evconnlistener *listener; /* owned */
	int port;                        /* bound port */
	struct mllp_allow *allow;        /* allowed clients; owned; none = any (see config.c) */
	SSL_CTX *tls;                    /* mllp_tls: the server's context; owned; NULL = plain */
	char *tls_allowed;               /* mllp_tls_allowed_clients (survives reloads); owned */
	size_t nallow;                   /* entries in allow */
	struct mllp_conn_list conns;     /* open connections */
	int nconns;                      /* how many */
	struct mllp_conn_list dead;      /* closed, to free at the end of the turn */
	struct event *ev_reap;           /* frees dead; owned */
	uint64_t next_id;                /* next connection number */
	unsigned ticks;                  /* ticks since the last prune */
	bool stopped;                    /* shutting down: no new messages */
};

static void conn_process(struct mllp_conn *c);

const char *mllp_ack_code(enum status st)
{
	switch (st) {
	case ST_OK:
		return "AA";
	case ST_INVALID:
	case ST_UNAUTHORIZED:
	case ST_FORBIDDEN:
	case ST_NOT_FOUND:
	case ST_CONFLICT:
	case ST_TOO_LARGE:
		return "AE";
	case ST_PRECONDITION:
	case ST_PRECONDITION_REQUIRED:
	case ST_LOCKED:
	case ST_TOO_MANY:
	case ST_UNAVAILABLE:
	case ST_INTERNAL:
		break;
	}
	return "AR";
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mllp *m = arg;
	struct mllp_conn *c, *tmp;

	TAILQ_FOREACH_SAFE(c, &m->dead, entry, tmp)
	{
		TAILQ_REMOVE(&m->dead, c, entry);
		bufferevent_free(c->bev);
		mllp_decoder_reset(&c->dec);
		free(c);
	}
}

/* Close c now: its job (if any) goes on without it; freed at the end of the turn. */
static void conn_close(struct mllp_conn *c, const char *why)
{
	struct mllp *m = c->m;

	if (c->dead)
		return;
	c->dead = true;
	if (c->job != NULL) {
		hl7_job_detach(c->job);
		c->job = NULL;
	}
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	TAILQ_REMOVE(&m->conns, c, entry);
	m->nconns--;
	TAILQ_INSERT_TAIL(&m->dead, c, entry);
	event_active(m->ev_reap, EV_TIMEOUT, 0);
	log_info("mllp", "connection closed conn=%llu addr=%s messages=%u reason=%s",
	         (unsigned long long)c->id, c->peer, c->messages, why);
}

/* Close c once what it was told has been written. */
static void conn_close_after_flush(struct mllp_conn *c, const char *why)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_close(c, why);
}

/* The job of c is over: send its ACK and go on with what the client sent meanwhile. */
static void conn_acked(const char *ack, const char *ack_code, void *arg)
{
	struct mllp_conn *c = arg;
	size_t n;
	char *frame = mllp_frame_wrap(ack, strlen(ack), &n);

	c->job = NULL;
	c->messages++;
	bufferevent_write(c->bev, frame, n);
	free(frame);
	if (c->m->stopped) {
		conn_close_after_flush(c, "shutdown");
		return;
	}
	bufferevent_enable(c->bev, EV_READ);
	conn_process(c);
}

/* Feed what has arrived to the decoder until a whole message starts a job. */
static void conn_process(struct mllp_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (c->job == NULL && !c->closing && !c->dead && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		enum mllp_result r;
		size_t consumed = 0;

		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		r = mllp_decoder_feed(&c->dec, v.iov_base, v.iov_len, &consumed);
		evbuffer_drain(in, consumed);
		if (r == MLLP_ERROR) {
			bool too_big = c->dec.len >= c->dec.max_frame;

			log_warning("mllp",
			            "not an MLLP stream, closing conn=%llu addr=%s reason=%s",
			            (unsigned long long)c->id, c->peer,
			            too_big ? "message too large" : "bytes outside a frame");
			conn_close_after_flush(c, too_big ? "message too large" : "bad framing");
			return;
		}
		if (r == MLLP_FRAME) {
			size_t len;
			const char *frame = mllp_decoder_frame(&c->dec, &len);

			/* one message at a time: the rest waits in the socket */
			bufferevent_disable(c->bev, EV_READ);
			c->job = hl7_apply(c->m->app, frame, len, c->peer, conn_acked, c);
			mllp_decoder_next(&c->dec);
		}
	}
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	conn_process(arg);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct mllp_conn *c = arg;

	if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_close(c, "closed by us");
}

/* The connection's idle timeout (also once a TLS handshake is done). */
static void conn_set_idle_timeout(struct mllp_conn *c)
{
	int64_t ms = c->m->app->cfg->mllp_idle_timeout_ms;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000)};

	/* counts only while reading: not while a message is applied, nor for its ACK */
	bufferevent_set_timeouts(c->bev, ms > 0 ? &tv : NULL, NULL);
}

/* Why c's TLS layer failed, into out (the certificate check first, then OpenSSL's queue). */
static void tls_failure(struct mllp_conn *c, char *out, size_t size)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	unsigned long e = bufferevent_get_openssl_error(c->bev);
	long verify = SSL_get_verify_result(ssl);
	const char *why;

	if (verify != X509_V_OK)
		snprintf(out, size, "certificate refused: %.80s",
		         X509_verify_cert_error_string(verify));
	else if (e != 0 && (why = ERR_reason_error_string(e)) != NULL)
		snprintf(out, size, "%.80s", why);
	else
		snprintf(out, size, "%s", "connection closed during the handshake");
	while (bufferevent_get_openssl_error(c->bev) != 0)
		; /* the rest of this connection's queue */
}

/* The TLS handshake of c is done: note who the client is and start the idle timeout. */
static void conn_tls_up(struct mllp_conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	c->tls_up = true;
	conn_set_idle_timeout(c);
	log_info("mllp", "TLS established conn=%llu addr=%s client=\"%s\" protocol=%s",
	         (unsigned long long)c->id, c->peer, c->client, SSL_get_version(ssl));
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct mllp_conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		conn_tls_up(c);
		return;
	}
	if (!c->tls_up && (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))) {
		char why[128] = "handshake timeout";

		if ((what & BEV_EVENT_TIMEOUT) == 0)
			tls_failure(c, why, sizeof why);
		log_warning("mllp", "TLS handshake failed conn=%llu addr=%s reason=\"%s\"",
		            (unsigned long long)c->id, c->peer, why);
		conn_close(c, "TLS handshake failed");
		return;
	}
	if (what & BEV_EVENT_EOF)
		conn_close(c, "closed by peer");
	else if (what & BEV_EVENT_TIMEOUT)
		conn_close(c, "idle timeout");
	else if (what & BEV_EVENT_ERROR)
		conn_close(c, "socket error");
}

/* Whether the client at sa may connect. */
static bool peer_allowed(const struct mllp *m, const struct sockaddr *sa)
{
	const unsigned char *addr;
	int family = sa->sa_family;

	if (m->nallow == 0) /* "any", or "" on a loopback address (config_validate) */
		return true;
	if (family == AF_INET) {
		addr = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		addr = (const unsigned char *)a6;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			family = AF_INET;
			addr += 12;
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < m->nallow; i++)
		if (m->allow[i].family == family &&
		    memcmp(m->allow[i].addr, addr, family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
	struct mllp *m = arg;
	const struct config *cfg = m->app->cfg;
	struct mllp_conn *c;
	char peer[INET6_ADDRSTRLEN] = "?";
	int on = 1;

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, peer, sizeof peer);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, peer, sizeof peer);
	if (m->stopped || !peer_allowed(m, sa)) {
		log_warning("mllp", "connection refused addr=%s", peer);
		evutil_closesocket(fd);
		return;
	}
	if (m->nconns >= cfg->mllp_max_connections) {
		log_warning("mllp", "connection refused addr=%s reason=\"%d connections are open\"",
		            peer, m->nconns);
		evutil_closesocket(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
	c = xcalloc(1, sizeof *c);
	c->m = m;
	c->id = ++m->next_id;
	snprintf(c->peer, sizeof c->peer, "%s", peer);
	mllp_decoder_init(&c->dec, (size_t)cfg->mllp_max_message);
	if (m->tls != NULL) {
		struct timeval tv = {MLLP_TLS_HANDSHAKE_MS / 1000, 0};
		SSL *ssl = SSL_new(m->tls);

		if (ssl == NULL) {
			log_warning("mllp",
			            "connection refused addr=%s reason=\"could not start TLS\"",
			            peer);
			ERR_clear_error();
			evutil_closesocket(fd);
			mllp_decoder_reset(&c->dec);
			free(c);
			return;
		}
		SSL_set_app_data(ssl, c); /* for verify_cb */
		/* frees ssl, and closes fd, with the bufferevent (BEV_OPT_CLOSE_ON_FREE) */
		c->bev = bufferevent_openssl_socket_new(
		    m->app->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		ASSERT(c->bev != NULL);
		/* interface engines often close without close_notify: that is an EOF */
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
		/* the handshake has a deadline of its own, shorter than the idle timeout */
		bufferevent_set_timeouts(c->bev, &tv, &tv);
	} else {
		c->bev = bufferevent_socket_new(m->app->base, fd, BEV_OPT_CLOSE_ON_FREE);
		c->tls_up = true;
		conn_set_idle_timeout(c);
	}
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ);
	TAILQ_INSERT_TAIL(&m->conns, c, entry);
	m->nconns++;
	log_info("mllp", "connection opened conn=%llu addr=%s", (unsigned long long)c->id, peer);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	log_warning("mllp", "could not accept a connection: %s",
	            evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/* Parse the mllp_allow list (validated with the configuration). */
static void allow_parse(struct mllp *m, const char *list)
{
	char *copy = xstrdup(list), *save = NULL;

	for (char *item = strtok_r(copy, ", \t", &save); item != NULL;
	     item = strtok_r(NULL, ", \t", &save)) {
		struct mllp_allow a;

		memset(&a, 0, sizeof a);
		if (inet_pton(AF_INET, item, a.addr) == 1)
			a.family = AF_INET;
		else if (inet_pton(AF_INET6, item, a.addr) == 1)
			a.family = AF_INET6;
		else
			continue;
		m->allow = xrealloc(m->allow, (m->nallow + 1) * sizeof *m->allow);
		m->allow[m->nallow++] = a;
	}
	free(copy);
}

/* The single common name of cert's subject, in out; false if there is none or several. */
static bool cert_common_name(X509 *cert, char *out, size_t size)
{
	X509_NAME *name = X509_get_subject_name(cert);
	int i = name != NULL ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
	unsigned char *utf8 = NULL;
	int n;
	bool ok;

	if (i < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0)
		return false;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	ok = n > 0 && (size_t)n < size && memchr(utf8, '\0', (size_t)n) == NULL;
	if (ok) {
		memcpy(out, utf8, (size_t)n);
		out[n] = '\0';
	}
	OPENSSL_free(utf8);
	return ok;
}

/* Replace what is not plain text in a certificate name before it is logged. */
static void name_for_log(char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			*s = '?';
}

/*
 * OpenSSL's check of each certificate of the client's chain: on top of the
 * chain to mllp_tls_ca_file, the client's own certificate (depth 0) must carry
 * one common name, in mllp_tls_allowed_clients if that is set.
 */
static int verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct mllp_conn *c = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
	X509 *cert = X509_STORE_CTX_get_current_cert(x);
	char name[MLLP_TLS_NAME_MAX + 1];

	if (!ok || c == NULL || X509_STORE_CTX_get_error_depth(x) != 0)
		return ok;
	if (!cert_common_name(cert, name, sizeof name)) {
		log_warning("mllp", "TLS client refused conn=%llu addr=%s reason=\"%s\"",
		            (unsigned long long)c->id, c->peer,
		            "certificate without one common name");
		X509_STORE_CTX_set_error(x, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	if (c->m->tls_allowed[0] != '\0' && !config_list_contains(c->m->tls_allowed, name)) {
		name_for_log(name);
		log_warning(
		    "mllp", "TLS client refused conn=%llu addr=%s client=\"%s\" reason=\"%s\"",
		    (unsigned long long)c->id, c->peer, name, "not in mllp_tls_allowed_clients");
		X509_STORE_CTX_set_error(x, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	name_for_log(name);
	snprintf(c->client, sizeof c->client, "%s", name);
	return ok;
}

/* "where": where the setting key was written, for messages about its value. */
static char *tls_where(const struct config *cfg, const char *key)
{
	const char *where = config_origin(cfg, key);

	return where != NULL ? xasprintf("%s", where) : xasprintf("setting \"%s\"", key);
}

/* A message about the file of key that OpenSSL could not use; clears OpenSSL's queue. */
static char *tls_file_error(const struct config *cfg, const char *key, const char *file,
                            const char *what)
{
	char buf[160] = "";
	char *where = tls_where(cfg, key), *msg;
	unsigned long e = ERR_peek_last_error();

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	msg = xasprintf("%s: could not load %s \"%s\": %s%s%s", where, key, file, what,
	                buf[0] != '\0' ? ": " : "", buf);
	free(where);
	return msg;
}

/*
 * The server's TLS context from cfg: TLS 1.2 or later, its certificate and
 * key, client certificates checked against mllp_tls_ca_file (required unless
 * mllp_tls_require_client_cert is off).  NULL with *why (new) on failure.
 */
static SSL_CTX *tls_ctx_new(const struct config *cfg, char **why)
{
	static const unsigned char sid_ctx[] = "carebridge-mllp";
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	int mode = SSL_VERIFY_NONE;

	*why = NULL;
	if (ctx == NULL) {
		ERR_clear_error();
		*why = xasprintf("%s", "could not create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* engines often close without close_notify; MLLP frames its messages, so that is EOF */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	/*
	 * No resumption and no renegotiation: every connection runs the whole
	 * handshake, so verify_cb checks every client against the current lists
	 * (engines keep their connections open; a full handshake is rare).
	 */
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
#ifdef SSL_OP_NO_RENEGOTIATION
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
#endif
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->mllp_tls_cert_file) != 1) {
		*why = tls_file_error(cfg, "mllp_tls_cert_file", cfg->mllp_tls_cert_file,
		                      "not a PEM certificate");
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->mllp_tls_key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		*why = tls_file_error(cfg, "mllp_tls_key_file", cfg->mllp_tls_key_file,
		                      "not the PEM private key of mllp_tls_cert_file");
		goto fail;
	}
	if (cfg->mllp_tls_ca_file[0] != '\0') {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->mllp_tls_ca_file);

		if (names == NULL ||
		    SSL_CTX_load_verify_locations(ctx, cfg->mllp_tls_ca_file, NULL) != 1) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			*why = tls_file_error(cfg, "mllp_tls_ca_file", cfg->mllp_tls_ca_file,
			                      "not a PEM file of CA certificates");
			goto fail;
		}
		/* tells the client which CAs to pick its certificate from; takes names */
		SSL_CTX_set_client_CA_list(ctx, names);
		mode = SSL_VERIFY_PEER;
		if (cfg->mllp_tls_require_client_cert)
			mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	}
	SSL_CTX_set_verify(ctx, mode, verify_cb);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

char *mllp_tls_check(const struct config *cfg)
{
	SSL_CTX *ctx;
	char *why;

	if (!cfg->mllp_tls)
		return NULL;
	ctx = tls_ctx_new(cfg, &why);
	SSL_CTX_free(ctx);
	return why;
}

static bool write_port_file(const char *path, int port)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *fp = fopen(tmp, "w");
	bool ok = fp != NULL && fprintf(fp, "%d\n", port) > 0;

	if (fp != NULL && fclose(fp) != 0)
		ok = false;
	if (ok && rename(tmp, path) != 0)
		ok = false;
	free(tmp);
	return ok;
}

struct mllp *mllp_new(struct app *app)
{
	const struct config *cfg = app->cfg;
	struct mllp *m = xcalloc(1, sizeof *m);
	struct sockaddr_storage ss;
	socklen_t len;

	m->app = app;
	TAILQ_INIT(&m->conns);
	TAILQ_INIT(&m->dead);
	allow_parse(m, cfg->mllp_allow);
	m->tls_allowed = xstrdup(cfg->mllp_tls_allowed_clients);
	if (cfg->mllp_tls) {
		char *why;

		m->tls = tls_ctx_new(cfg, &why);
		if (m->tls == NULL) {
			log_fatal("mllp", "%s", why);
			free(why);
			goto fail;
		}
	}
	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, cfg->mllp_listen_addr, &((struct sockaddr_in *)&ss)->sin_addr) ==
	    1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)cfg->mllp_port);
		len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, cfg->mllp_listen_addr,
	                     &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)cfg->mllp_port);
		len = sizeof(struct sockaddr_in6);
	} else {
		log_fatal("mllp", "\"%s\" is not an IP address", cfg->mllp_listen_addr);
		goto fail;
	}
	m->listener = evconnlistener_new_bind(app->base, accept_cb, m,
	                                      LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE |
	                                          LEV_OPT_CLOSE_ON_EXEC,
	                                      -1, (struct sockaddr *)&ss, (int)len);
	if (m->listener == NULL) {
		log_fatal("mllp", "could not listen on %s port %d: %s", cfg->mllp_listen_addr,
		          cfg->mllp_port, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		goto fail;
	}
	evconnlistener_set_error_cb(m->listener, accept_error_cb);
	len = sizeof ss;
	if (getsockname(evconnlistener_get_fd(m->listener), (struct sockaddr *)&ss, &len) != 0) {
		log_fatal("mllp", "could not read the bound port");
		goto fail;
	}
	m->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                                        : ((struct sockaddr_in6 *)&ss)->sin6_port);
	if (cfg->mllp_port_file[0] != '\0' && !write_port_file(cfg->mllp_port_file, m->port)) {
		log_fatal("mllp", "could not write port file \"%s\"", cfg->mllp_port_file);
		goto fail;
	}
	m->ev_reap = event_new(app->base, -1, 0, reap_cb, m);
	m->ticks = MLLP_PRUNE_EVERY - 5; /* a first prune soon after start */
	log_info("mllp", "listening addr=%s port=%d allow=%zu tls=%s client_cert=%s",
	         cfg->mllp_listen_addr, m->port, m->nallow, m->tls != NULL ? "on" : "off",
	         m->tls == NULL                      ? "none"
	         : cfg->mllp_tls_require_client_cert ? "required"
	                                             : "optional");
	return m;
fail:
	if (m->listener != NULL)
		evconnlistener_free(m->listener);
	SSL_CTX_free(m->tls);
	free(m->tls_allowed);
	free(m->allow);
	free(m);
	return NULL;
}

int mllp_port(const struct mllp *m)
{
	return m->port;
}

void mllp_stop(struct mllp *m)
{
	struct mllp_conn *c, *tmp;

	if (m == NULL || m->stopped)
		return;
	m->stopped = true;
	evconnlistener_disable(m->listener);
	TAILQ_FOREACH_SAFE(c, &m->conns, entry, tmp)
	{
		if (c->job == NULL)
			conn_close_after_flush(c, "shutdown");
	}
}

void mllp_tick(struct mllp *m)
{
	if (m == NULL || ++m->ticks < MLLP_PRUNE_EVERY)
		return;
	m->ticks = 0;
	/* fire and forget: a prune that fails is simply tried again later */
	store_hl7_prune(m->app->db, m->app->cfg->hl7_retention_ms, NULL, NULL);
}

void mllp_free(struct mllp *m)
{
	struct mllp_conn *c, *tmp;

	if (m == NULL)
		return;
	TAILQ_FOREACH_SAFE(c, &m->conns, entry, tmp)
	{
		conn_close(c, "shutdown");
	}
	reap_cb(-1, 0, m);
	evconnlistener_free(m->listener);
	event_free(m->ev_reap);
	SSL_CTX_free(m->tls);
	free(m->tls_allowed);
	free(m->allow);
	free(m);
}

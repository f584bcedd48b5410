/*
 * httpc.c - one-shot outbound HTTP(S) requests (see httpc.h).
 *
 * Owns: a DNS base, a TLS client context, and each request's connection,
 * freed at the end of the loop turn after its reply (libevent must not free a
 * connection from inside its own request callback).  Must not: log URLs'
 * query strings or bodies (they carry codes and secrets).
 */
#include "httpc.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "xmalloc.h"

struct httpc {
	struct event_base *base; /* borrowed */
	struct evdns_base *dns;  /* owned */
	SSL_CTX *tls;            /* owned */
};

/* One request in flight. */
struct fetch {
	struct httpc *c;                /* the client */
	struct evhttp_connection *conn; /* owned, freed after the reply */
	struct evhttp_uri *uri;         /* owned: the parsed URL */
	httpc_cb *cb;                   /* the caller's callback */
	void *arg;                      /* its argument */
	char error[128];                /* why it failed, "" if it did not */
	int status;                     /* the reply's status, 0 if none */
	struct evbuffer *body;          /* owned: the reply body */
	char rid[LOG_REQUEST_ID_SIZE];  /* request id in force at the call, restored for cb */
};

struct httpc *httpc_new(struct event_base *base, const char *ca_file, char *err, size_t size)
{
	struct httpc *c = xcalloc(1, sizeof *c);
	char buf[160];

	c->base = base;
	c->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	                                  EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (c->dns == NULL) /* no resolv.conf: addresses still work */
		c->dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	c->tls = SSL_CTX_new(TLS_client_method());
	if (c->tls == NULL) {
		snprintf(err, size, "could not create a TLS context");
		httpc_free(c);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(c->tls, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->tls, SSL_VERIFY_PEER, NULL);
	if (ca_file[0] == '\0' ? SSL_CTX_set_default_verify_paths(c->tls) != 1
	                       : SSL_CTX_load_verify_locations(c->tls, ca_file, NULL) != 1) {
		ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
		ERR_clear_error();
		snprintf(err, size, "could not load CA file \"%s\": %s", ca_file, buf);
		httpc_free(c);
		return NULL;
	}
	return c;
}

void httpc_free(struct httpc *c)
{
	if (c == NULL)
		return;
	if (c->tls != NULL)
		SSL_CTX_free(c->tls);
	if (c->dns != NULL)
		evdns_base_free(c->dns, 1);
	free(c);
}

static void fetch_free(struct fetch *f)
{
	if (f->conn != NULL)
		evhttp_connection_free(f->conn);
	if (f->uri != NULL)
		evhttp_uri_free(f->uri);
	evbuffer_free(f->body);
	free(f);
}

/* The end of the loop turn after the reply: answer, then free. */
static void fetch_finish(evutil_socket_t fd, short what, void *arg)
{
	struct fetch *f = arg;
	size_t len = evbuffer_get_length(f->body);
	const char *data = len > 0 ? (const char *)evbuffer_pullup(f->body, -1) : NULL;
	char prev[LOG_REQUEST_ID_SIZE];

	log_request_begin(f->rid, prev);
	f->cb(f->status, data, len, f->status == 0 ? f->error : NULL, f->arg);
	log_request_end(prev);
	fetch_free(f);
}

static void fetch_later(struct fetch *f)
{
	struct timeval now = {0, 0};

	event_base_once(f->c->base, -1, EV_TIMEOUT, fetch_finish, f, &now);
}

static void fetch_done(struct evhttp_request *req, void *arg)
{
	struct fetch *f = arg;

	if (req != NULL && evhttp_request_get_response_code(req) != 0) {
		f->status = evhttp_request_get_response_code(req);
		evbuffer_add_buffer(f->body, evhttp_request_get_input_buffer(req));
	} else if (f->error[0] == '\0') {
		snprintf(f->error, sizeof f->error, "no reply (connection failed or timed out)");
	}
	fetch_later(f);
}

static void fetch_error(enum evhttp_request_error e, void *arg)
{
	struct fetch *f = arg;
	static const char *const names[] = {
	    [EVREQ_HTTP_TIMEOUT] = "timed out",
	    [EVREQ_HTTP_EOF] = "connection closed",
	    [EVREQ_HTTP_INVALID_HEADER] = "invalid reply headers",
	    [EVREQ_HTTP_BUFFER_ERROR] = "buffer error",
	    [EVREQ_HTTP_REQUEST_CANCEL] = "cancelled",
	    [EVREQ_HTTP_DATA_TOO_LONG] = "reply too large",
	};

	snprintf(f->error, sizeof f->error, "%s",
	         (size_t)e < sizeof names / sizeof names[0] && names[e] != NULL ? names[e]
	                                                                        : "request failed");
}

struct evhttp_connection *httpc_connect(struct event_base *base, struct evdns_base *dns,
                                        SSL_CTX *tls, const char *host, int port,
                                        struct bufferevent **bev, char *err, size_t size)
{
	unsigned char ip[sizeof(struct in6_addr)];
	struct evhttp_connection *conn;
	X509_VERIFY_PARAM *param;
	SSL *ssl;
	bool ok;

	*bev = NULL;
	if (tls == NULL) {
		conn = evhttp_connection_base_new(base, dns, host, (unsigned short)port);
		ASSERT(conn != NULL);
		return conn;
	}
	if ((ssl = SSL_new(tls)) == NULL) {
		snprintf(err, size, "TLS is not available");
		return NULL;
	}
	param = SSL_get0_param(ssl);
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1)
		ok = X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1;
	else
		ok = SSL_set1_host(ssl, host) == 1 && SSL_set_tlsext_host_name(ssl, host) == 1;
	if (!ok) {
		SSL_free(ssl);
		snprintf(err, size, "TLS: cannot check the server's name");
		return NULL;
	}
	*bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
	                                      BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (*bev == NULL) {
		SSL_free(ssl);
		snprintf(err, size, "TLS: could not set up the connection");
		return NULL;
	}
	/* servers that close without close_notify are common; the reply is complete anyway */
	bufferevent_openssl_set_allow_dirty_shutdown(*bev, 1);
	conn = evhttp_connection_base_bufferevent_new(base, dns, *bev, host, (unsigned short)port);
	ASSERT(conn != NULL);
	return conn;
}

void httpc_fetch(struct httpc *c, enum evhttp_cmd_type method, const char *url,
                 const char *const *headers, const char *body, const char *content_type,
                 int timeout_ms, httpc_cb *cb, void *arg)
{
	struct fetch *f = xcalloc(1, sizeof *f);
	struct evhttp_request *req;
	struct evkeyvalq *out;
	const char *scheme, *host, *path, *query;
	char target[2048], hostport[300];
	struct bufferevent *bev;
	struct timeval tv;
	bool tls;
	int port;

	snprintf(f->rid, sizeof f->rid, "%s", log_request_id());
	f->c = c;
	f->cb = cb;
	f->arg = arg;
	f->body = evbuffer_new();
	f->uri = evhttp_uri_parse(url);
	scheme = f->uri != NULL ? evhttp_uri_get_scheme(f->uri) : NULL;
	host = f->uri != NULL ? evhttp_uri_get_host(f->uri) : NULL;
	if (scheme == NULL || host == NULL || host[0] == '\0' ||
	    (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
		snprintf(f->error, sizeof f->error, "not an http(s) URL");
		fetch_later(f);
		return;
	}
	tls = strcmp(scheme, "https") == 0;
	port = evhttp_uri_get_port(f->uri);
	if (port <= 0)
		port = tls ? 443 : 80;
	path = evhttp_uri_get_path(f->uri);
	query = evhttp_uri_get_query(f->uri);
	snprintf(target, sizeof target, "%s%s%s", path != NULL && path[0] != '\0' ? path : "/",
	         query != NULL ? "?" : "", query != NULL ? query : "");
	f->conn = httpc_connect(c->base, c->dns, tls ? c->tls : NULL, host, port, &bev, f->error,
	                        sizeof f->error);
	if (f->conn == NULL) {
		fetch_later(f);
		return;
	}
	evhttp_connection_set_retries(f->conn, 0);
	evhttp_connection_set_max_body_size(f->conn, HTTPC_REPLY_MAX);
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evhttp_connection_set_timeout_tv(f->conn, &tv);
	req = evhttp_request_new(fetch_done, f);
	evhttp_request_set_error_cb(req, fetch_error);
	out = evhttp_request_get_output_headers(req);
	if ((tls && port == 443) || (!tls && port == 80))
		snprintf(hostport, sizeof hostport, "%s", host);
	else
		snprintf(hostport, sizeof hostport, "%s:%d", host, port);
	evhttp_add_header(out, "Host", hostport);
	evhttp_add_header(out, "User-Agent", "carebridge/1");
	evhttp_add_header(out, "Accept", "application/json");
	evhttp_add_header(out, "Connection", "close");
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
		const char *colon = strchr(headers[i], ':');
		char name[64];

		if (colon == NULL || (size_t)(colon - headers[i]) >= sizeof name)
			continue;
		snprintf(name, sizeof name, "%.*s", (int)(colon - headers[i]), headers[i]);
		evhttp_add_header(out, name, colon + 1 + strspn(colon + 1, " "));
	}
	if (body != NULL) {
		evhttp_add_header(out, "Content-Type", content_type);
		evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	}
	if (evhttp_make_request(f->conn, req, method, target) != 0) {
		/* libevent freed req without calling fetch_done */
		snprintf(f->error, sizeof f->error, "could not start the request");
		fetch_later(f);
	}
}

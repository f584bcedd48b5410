/*
 * httpc.h - one-shot outbound HTTP(S) requests on the event loop, for talking
 * to the identity provider (discovery, key set, token endpoint).
 *
 * https:// is TLS 1.2 or later with the peer's certificate checked against
 * the configured CA file (or the system's) and the URL's host name; http:// is
 * accepted only where the caller allows it (a loopback provider in
 * development and tests).  Replies are bounded (HTTPC_REPLY_MAX) and every
 * request has a deadline.
 */
#ifndef CB_HTTPC_H
#define CB_HTTPC_H

#include <stddef.h>

#include <event2/event.h>
#include <event2/http.h>

#define HTTPC_REPLY_MAX (256 * 1024) /* largest reply body read */

struct httpc;
struct bufferevent;
struct evdns_base;
typedef struct ssl_ctx_st SSL_CTX;

/*
 * A new connection to host:port on base: plain when tls is NULL, else TLS
 * 1.2+ from tls whose peer certificate must chain to its CAs and name host
 * (as a DNS name with SNI, or as an IP address).  *bev gets the TLS
 * bufferevent (NULL for plain), for the caller's error reporting.  NULL (and
 * why in err) when TLS cannot be set up.  The webhooks and the identity
 * provider client both connect through here.
 */
struct evhttp_connection *httpc_connect(struct event_base *base, struct evdns_base *dns,
                                        SSL_CTX *tls, const char *host, int port,
                                        struct bufferevent **bev, char *err, size_t size);

/*
 * A client on base verifying servers against ca_file ("" for the system's
 * store).  NULL with the reason in err when TLS cannot be set up.
 */
struct httpc *httpc_new(struct event_base *base, const char *ca_file, char *err, size_t size);

/* Free c; requests still in flight are answered with an error first. */
void httpc_free(struct httpc *c);

/*
 * The reply: status (0 when there was none: the error says why), the body
 * (not NUL-terminated beyond len; NULL when none), borrowed for the call.
 */
typedef void httpc_cb(int status, const char *body, size_t len, const char *error, void *arg);

/*
 * Send method (GET or POST) to url with the extra headers ("Name: value",
 * NULL-terminated list, may be NULL) and body of content_type (both NULL for
 * none).  cb is called exactly once, always later from the loop.
 */
void httpc_fetch(struct httpc *c, enum evhttp_cmd_type method, const char *url,
                 const char *const *headers, const char *body, const char *content_type,
                 int timeout_ms, httpc_cb *cb, void *arg);

#endif

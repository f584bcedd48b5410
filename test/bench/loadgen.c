/*
 * loadgen.c - the load generator behind `make bench` (scripts/bench builds and runs it).
 *
 *   loadgen fanout [options]   N event-stream subscribers, then M published events:
 *                              latency from each publish's acknowledgement to each
 *                              subscriber's receipt, events lost, server RSS
 *   loadgen writes [options]   C clients each sending one write after another for S
 *                              seconds: acknowledged writes per second, latency
 *
 * One libevent loop, one thread.  Subscribers are raw nonblocking sockets with a
 * tiny parser (HTTP/1.1 status line, chunked decoding, and a scanner for the
 * marker "bench-<seq>" that every published event carries), so 10,000 of them
 * cost the generator little; publishers and writers use libevent's HTTP client
 * on keep-alive connections.  Each mode prints one line of key=value pairs on
 * stdout for scripts/bench to put in its table; progress goes to stderr.
 *
 * Bounded in count and time: every phase has a deadline, and the generator
 * talks only to the addresses it is given (scripts/bench gives it loopback).
 * It must not depend on the daemon's internals: it speaks HTTP and SSE as any
 * client would, so the same code measures carebridge and nginx + nchan.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "xmalloc.h"

#define LG_MAX_TARGETS 8      /* --sub and --pid values */
#define LG_MAX_HEADERS 8      /* --sub-header / --pub-header / --header values */
#define LG_CONNECT_WINDOW 256 /* subscribers connecting at once */
#define LG_HEAD_MAX 8192      /* longest response head a subscriber accepts */
#define LG_PUB_CONNS 4        /* publisher keep-alive connections */
#define LG_MARKER "bench-"    /* what precedes the sequence number in every event */
#define LG_MARKER_LEN 6       /* strlen(LG_MARKER) */

enum sub_phase { SUB_IDLE, SUB_CONNECTING, SUB_HEAD, SUB_BODY, SUB_CLOSED };
enum chunk_state { CHUNK_SIZE, CHUNK_EXT, CHUNK_DATA, CHUNK_CRLF, CHUNK_END };

struct target {
	char host[64];           /* dotted IPv4 address */
	int port;                /* TCP port */
	struct sockaddr_in addr; /* host:port resolved */
};

struct lg;

struct sub {
	struct lg *lg;           /* the generator */
	int index;               /* position in lg->subs, row in lg->recv */
	int fd;                  /* socket, -1 when closed */
	struct event *ev;        /* read/write readiness; owned */
	enum sub_phase phase;    /* where it is */
	char *head;              /* response head so far (SUB_HEAD only); owned */
	size_t head_len;         /* bytes in head */
	bool chunked;            /* Transfer-Encoding: chunked */
	enum chunk_state cstate; /* chunk decoder state */
	uint64_t cleft;          /* bytes left in the current chunk (or its size being read) */
	int mmatch;              /* marker characters matched so far */
	bool mdigits;            /* reading the digits after the marker */
	int64_t mseq;            /* the digits so far */
	uint32_t got;            /* distinct events received */
};

struct pubconn {
	struct evhttp_connection *conn; /* keep-alive connection; owned */
	int busy;                       /* requests in flight on it */
};

struct lg {
	struct event_base *base; /* the loop */
	/* fanout */
	struct target subt[LG_MAX_TARGETS];      /* --sub targets, subscribers split evenly */
	int nsubt;                               /* how many */
	const char *sub_path;                    /* request path of a subscription */
	const char *sub_headers[LG_MAX_HEADERS]; /* extra request header lines */
	int nsub_headers;                        /* how many */
	struct target pubt;                      /* --pub target */
	const char *pub_method;                  /* PATCH, POST, PUT */
	const char *pub_path; /* path, "{id}" replaced by the next --pub-ids id */
	char **pub_ids;       /* ids used round-robin; owned */
	int npub_ids;         /* how many */
	const char *pub_headers[LG_MAX_HEADERS]; /* extra header lines */
	int npub_headers;                        /* how many */
	const char *pub_body;                    /* body, "{n}" replaced by the sequence number */
	const char *pub_type;                    /* Content-Type of the body */
	int nsubs;                               /* N */
	int nevents;                             /* M */
	double rate;                             /* events per second */
	int pids[LG_MAX_TARGETS];                /* server processes whose RSS is summed */
	int npids;                               /* how many */
	double connect_timeout;                  /* seconds to connect every subscriber */
	double drain_timeout;                    /* seconds to wait for the last receipts */
	const char *label;                       /* first field of the result line */
	struct sub *subs;                        /* nsubs of them; owned */
	int connecting;                          /* subscribers in SUB_CONNECTING or SUB_HEAD */
	int next_sub;                            /* next subscriber to start connecting */
	int connected;                           /* subscribers with a 200 head */
	int failed;                              /* subscribers that could not connect */
	int closed_early;                  /* subscribers the server closed after connecting */
	int64_t *recv_us;                  /* [sub * nevents + seq] receipt time, 0 = none */
	int64_t *ack_us;                   /* [seq] acknowledgement time, 0 = none yet */
	int64_t *sent_us;                  /* [seq] send time */
	bool *pub_ok;                      /* [seq] acknowledged with 2xx */
	int published;                     /* publishes sent */
	int acked;                         /* publish replies received */
	int pub_errors;                    /* publishes without a 2xx reply */
	uint64_t receipts;                 /* distinct receipts */
	uint64_t dups;                     /* receipts of an event already received */
	uint64_t strays;                   /* markers that name no published event */
	struct pubconn pubc[LG_PUB_CONNS]; /* publisher connections */
	struct event *ev_pub;              /* publish timer; owned */
	struct event *ev_check;            /* phase timer; owned */
	/* writes */
	struct target wt;        /* --target */
	int clients;             /* concurrent clients */
	double seconds;          /* measured duration */
	int64_t w_start, w_end;  /* measurement window (monotonic us) */
	uint64_t w_ok, w_err;    /* acknowledged / failed writes in the window */
	uint32_t *w_lat;         /* latencies (us) of the window's writes; owned */
	size_t w_nlat, w_caplat; /* used / allocated */
	int w_active;            /* clients still running */
	int64_t w_seq;           /* sequence for bodies */
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

__attribute__((noreturn)) static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "loadgen: ");
	fprintf(stderr, "%s", fmt);
	if (arg != NULL)
		fprintf(stderr, " \"%s\"", arg);
	fprintf(stderr, "\n");
	exit(2);
}

/* Raise the open-file limit to its hard maximum: 10,000 sockets need it. */
static void raise_nofile(int need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if ((rlim_t)need > rl.rlim_cur)
		fprintf(stderr, "loadgen: open-file limit %llu is below the %d sockets needed\n",
		        (unsigned long long)rl.rlim_cur, need);
}

static void target_parse(struct target *t, const char *s)
{
	const char *colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof t->host)
		die("expected HOST:PORT, not", s);
	memcpy(t->host, s, (size_t)(colon - s));
	t->host[colon - s] = '\0';
	t->port = atoi(colon + 1);
	memset(&t->addr, 0, sizeof t->addr);
	t->addr.sin_family = AF_INET;
	t->addr.sin_port = htons((uint16_t)t->port);
	if (t->port <= 0 || t->port > 65535 || inet_pton(AF_INET, t->host, &t->addr.sin_addr) != 1)
		die("expected an IPv4 HOST:PORT, not", s);
}

/* Sum of VmRSS (KiB) over the given processes; -1 if one cannot be read. */
static long rss_kib(const struct lg *lg)
{
	long total = 0;

	for (int i = 0; i < lg->npids; i++) {
		char path[64], line[256];
		long v = -1;
		FILE *f;

		snprintf(path, sizeof path, "/proc/%d/status", lg->pids[i]);
		if ((f = fopen(path, "r")) == NULL)
			return -1;
		while (fgets(line, sizeof line, f) != NULL)
			if (strncmp(line, "VmRSS:", 6) == 0)
				v = strtol(line + 6, NULL, 10);
		fclose(f);
		if (v < 0)
			return -1;
		total += v;
	}
	return total;
}

/* Sum of user + system CPU time (seconds) over the given processes; -1 if unreadable. */
static double cpu_s(const struct lg *lg)
{
	double total = 0.0;
	long hz = sysconf(_SC_CLK_TCK);

	for (int i = 0; i < lg->npids; i++) {
		char path[64], line[1024], *p;
		unsigned long ut, st;
		FILE *f;

		snprintf(path, sizeof path, "/proc/%d/stat", lg->pids[i]);
		if ((f = fopen(path, "r")) == NULL)
			return -1.0;
		p = fgets(line, sizeof line, f);
		fclose(f);
		/* the command name may hold spaces: count fields after its ')' */
		if (p == NULL || (p = strrchr(line, ')')) == NULL ||
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
		           &st) != 2)
			return -1.0;
		total += (double)(ut + st) / (double)hz;
	}
	return total;
}

/* s with every "{key}" replaced by value; the caller frees it. */
static char *subst(const char *s, const char *key, const char *value)
{
	size_t klen = strlen(key), vlen = strlen(value), n = 0, cap = strlen(s) + 1;
	const char *p;
	char *out;

	for (p = strstr(s, key); p != NULL; p = strstr(p + klen, key))
		cap += vlen;
	out = xmalloc(cap);
	while ((p = strstr(s, key)) != NULL) {
		memcpy(out + n, s, (size_t)(p - s));
		n += (size_t)(p - s);
		memcpy(out + n, value, vlen);
		n += vlen;
		s = p + klen;
	}
	memcpy(out + n, s, strlen(s) + 1);
	return out;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of sorted v[n], in milliseconds. */
static double quantile_ms(const uint32_t *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0.0;
	i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i] / 1000.0;
}

/* ---- subscribers ------------------------------------------------------------------------ */

static void sub_start(struct lg *lg, struct sub *s);

static void sub_close(struct lg *lg, struct sub *s)
{
	if (s->fd >= 0) {
		event_free(s->ev);
		close(s->fd);
		s->fd = -1;
	}
	free(s->head);
	s->head = NULL;
	if (s->phase == SUB_CONNECTING || s->phase == SUB_HEAD)
		lg->connecting--;
	s->phase = SUB_CLOSED;
}

/* Start the next waiting subscribers while the connect window has room. */
static void subs_fill_window(struct lg *lg)
{
	while (lg->connecting < LG_CONNECT_WINDOW && lg->next_sub < lg->nsubs)
		sub_start(lg, &lg->subs[lg->next_sub++]);
}

static void sub_fail(struct lg *lg, struct sub *s, const char *why)
{
	if (lg->failed < 5)
		fprintf(stderr, "loadgen: subscriber %d: %s\n", s->index, why);
	lg->failed++;
	sub_close(lg, s);
	subs_fill_window(lg);
}

/* One event sequence number seen on s at time t. */
static void sub_receipt(struct lg *lg, struct sub *s, int64_t seq, int64_t t)
{
	int64_t *slot;

	if (seq < 0 || seq >= lg->nevents || lg->sent_us[seq] == 0) {
		lg->strays++;
		return;
	}
	slot = &lg->recv_us[(size_t)s->index * (size_t)lg->nevents + (size_t)seq];
	if (*slot != 0) {
		lg->dups++;
		return;
	}
	*slot = t;
	s->got++;
	lg->receipts++;
}

/* Scan decoded body bytes for "bench-<digits>". */
static void sub_scan(struct lg *lg, struct sub *s, const char *p, size_t n, int64_t t)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (s->mdigits) {
			if (c >= '0' && c <= '9') {
				s->mseq = s->mseq * 10 + (c - '0');
				if (s->mseq > INT32_MAX)
					s->mseq = INT32_MAX;
				continue;
			}
			sub_receipt(lg, s, s->mseq, t);
			s->mdigits = false;
			s->mmatch = 0;
		}
		if (c == LG_MARKER[s->mmatch]) {
			if (++s->mmatch == LG_MARKER_LEN) {
				s->mdigits = true;
				s->mseq = 0;
			}
		} else {
			s->mmatch = c == LG_MARKER[0] ? 1 : 0;
		}
	}
}

/* Feed body bytes, decoding chunked transfer coding when the reply uses it. */
static void sub_body(struct lg *lg, struct sub *s, const char *p, size_t n, int64_t t)
{
	if (!s->chunked) {
		sub_scan(lg, s, p, n, t);
		return;
	}
	while (n > 0) {
		char c = *p;

		switch (s->cstate) {
		case CHUNK_SIZE:
			if (c >= '0' && c <= '9')
				s->cleft = s->cleft * 16 + (uint64_t)(c - '0');
			else if (c >= 'a' && c <= 'f')
				s->cleft = s->cleft * 16 + (uint64_t)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				s->cleft = s->cleft * 16 + (uint64_t)(c - 'A' + 10);
			else if (c == '\n')
				s->cstate = s->cleft == 0 ? CHUNK_END : CHUNK_DATA;
			else if (c != '\r')
				s->cstate = CHUNK_EXT;
			p++;
			n--;
			break;
		case CHUNK_EXT:
			if (c == '\n')
				s->cstate = s->cleft == 0 ? CHUNK_END : CHUNK_DATA;
			p++;
			n--;
			break;
		case CHUNK_DATA: {
			size_t take = n < s->cleft ? n : (size_t)s->cleft;

			sub_scan(lg, s, p, take, t);
			p += take;
			n -= take;
			s->cleft -= take;
			if (s->cleft == 0)
				s->cstate = CHUNK_CRLF;
			break;
		}
		case CHUNK_CRLF:
			if (c == '\n') {
				s->cstate = CHUNK_SIZE;
				s->cleft = 0;
			}
			p++;
			n--;
			break;
		case CHUNK_END:
			return;
		}
	}
}

/* Bytes of the response head; moves to SUB_BODY once the head is complete. */
static void sub_head(struct lg *lg, struct sub *s, const char *p, size_t n, int64_t t)
{
	char *end;
	size_t used;
	int status = 0;

	if (s->head_len + n > LG_HEAD_MAX) {
		sub_fail(lg, s, "response head too long");
		return;
	}
	memcpy(s->head + s->head_len, p, n);
	s->head_len += n;
	s->head[s->head_len] = '\0';
	if ((end = strstr(s->head, "\r\n\r\n")) == NULL)
		return;
	*end = '\0';
	used = (size_t)(end + 4 - s->head);
	if (sscanf(s->head, "HTTP/1.%*d %d", &status) != 1 || status != 200) {
		char why[96];

		snprintf(why, sizeof why, "status %d instead of 200", status);
		sub_fail(lg, s, why);
		return;
	}
	s->chunked = strcasestr(s->head, "\ntransfer-encoding: chunked") != NULL;
	s->phase = SUB_BODY;
	lg->connecting--;
	lg->connected++;
	if (s->head_len > used) {
		char rest[LG_HEAD_MAX];
		size_t left = s->head_len - used;

		memcpy(rest, s->head + used, left);
		free(s->head);
		s->head = NULL;
		sub_body(lg, s, rest, left, t);
	} else {
		free(s->head);
		s->head = NULL;
	}
	subs_fill_window(lg);
}

static void sub_send_request(struct lg *lg, struct sub *s)
{
	const struct target *t = &lg->subt[s->index % lg->nsubt];
	char req[2048];
	int n;
	ssize_t w;

	n = snprintf(req, sizeof req,
	             "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n",
	             lg->sub_path, t->host, t->port);
	for (int i = 0; i < lg->nsub_headers && n < (int)sizeof req; i++)
		n += snprintf(req + n, sizeof req - (size_t)n, "%s\r\n", lg->sub_headers[i]);
	if (n < (int)sizeof req)
		n += snprintf(req + n, sizeof req - (size_t)n, "\r\n");
	if (n >= (int)sizeof req)
		die("subscription request too long", NULL);
	w = write(s->fd, req, (size_t)n);
	if (w != n) {
		sub_fail(lg, s, "could not send the request");
		return;
	}
	s->phase = SUB_HEAD;
	s->head = xmalloc(LG_HEAD_MAX + 1);
	s->head_len = 0;
}

static void sub_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sub *s = arg;
	struct lg *lg = s->lg;
	char buf[65536];
	ssize_t n;
	int64_t t;

	if (s->phase == SUB_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof err;

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
			sub_fail(lg, s, err != 0 ? strerror(err) : "connect failed");
			return;
		}
		event_free(s->ev);
		s->ev = event_new(lg->base, fd, EV_READ | EV_PERSIST, sub_cb, s);
		event_add(s->ev, NULL);
		sub_send_request(lg, s);
		return;
	}
	n = read(fd, buf, sizeof buf);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (s->phase == SUB_HEAD) {
			sub_fail(lg, s, n == 0 ? "closed before the head" : strerror(errno));
			return;
		}
		lg->closed_early++;
		if (lg->closed_early <= 5)
			fprintf(stderr, "loadgen: subscriber %d: closed by the server\n", s->index);
		sub_close(lg, s);
		return;
	}
	t = now_us();
	if (s->phase == SUB_HEAD)
		sub_head(lg, s, buf, (size_t)n, t);
	else
		sub_body(lg, s, buf, (size_t)n, t);
}

static void sub_start(struct lg *lg, struct sub *s)
{
	const struct target *t = &lg->subt[s->index % lg->nsubt];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	lg->connecting++;
	s->phase = SUB_CONNECTING;
	if (fd < 0) {
		sub_fail(lg, s, strerror(errno));
		return;
	}
	s->fd = fd;
	if (connect(fd, (const struct sockaddr *)&t->addr, sizeof t->addr) != 0 &&
	    errno != EINPROGRESS) {
		s->ev = event_new(lg->base, fd, 0, sub_cb, s);
		sub_fail(lg, s, strerror(errno));
		return;
	}
	s->ev = event_new(lg->base, fd, EV_WRITE, sub_cb, s);
	event_add(s->ev, NULL);
}

/* ---- publisher --------------------------------------------------------------------------- */

struct pubreq {
	struct lg *lg;      /* the generator */
	int seq;            /* event sequence number */
	struct pubconn *pc; /* its connection */
};

static void pub_done(struct evhttp_request *req, void *arg)
{
	struct pubreq *pr = arg;
	struct lg *lg = pr->lg;
	int code = req != NULL ? evhttp_request_get_response_code(req) : 0;

	lg->ack_us[pr->seq] = now_us();
	lg->acked++;
	pr->pc->busy--;
	if (code >= 200 && code < 300) {
		lg->pub_ok[pr->seq] = true;
	} else {
		lg->pub_errors++;
		if (lg->pub_errors <= 5)
			fprintf(stderr, "loadgen: publish %d: status %d\n", pr->seq, code);
	}
	free(pr);
}

static void add_header_line(struct evkeyvalq *h, const char *line)
{
	const char *colon = strchr(line, ':');
	char name[128];

	if (colon == NULL || (size_t)(colon - line) >= sizeof name)
		die("expected a header \"Name: value\", not", line);
	memcpy(name, line, (size_t)(colon - line));
	name[colon - line] = '\0';
	colon++;
	while (*colon == ' ')
		colon++;
	evhttp_add_header(h, name, colon);
}

static enum evhttp_cmd_type method_parse(const char *m)
{
	if (strcmp(m, "POST") == 0)
		return EVHTTP_REQ_POST;
	if (strcmp(m, "PUT") == 0)
		return EVHTTP_REQ_PUT;
	if (strcmp(m, "PATCH") == 0)
		return EVHTTP_REQ_PATCH;
	die("method must be POST, PUT or PATCH, not", m);
	return EVHTTP_REQ_POST;
}

/*
 * Send one HTTP request on conn: method, path (with "{id}" = id), body (with "{n}" = n).
 * cb runs from the loop with the reply (or NULL on a failure).
 */
static void http_send(struct evhttp_connection *conn, const struct target *t, const char *method,
                      const char *path, const char *id, const char *const *headers, int nheaders,
                      const char *body, const char *type, int64_t n,
                      void (*cb)(struct evhttp_request *, void *), void *arg)
{
	struct evhttp_request *req = evhttp_request_new(cb, arg);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char host[96], num[24], len[24];
	char *p = subst(path, "{id}", id != NULL ? id : ""), *b;

	snprintf(num, sizeof num, "%" PRId64, n);
	b = subst(body, "{n}", num);
	snprintf(host, sizeof host, "%s:%d", t->host, t->port);
	evhttp_add_header(h, "Host", host);
	evhttp_add_header(h, "Content-Type", type);
	/* libevent 2.1 adds Content-Length to POST and PUT only */
	snprintf(len, sizeof len, "%zu", strlen(b));
	evhttp_add_header(h, "Content-Length", len);
	for (int i = 0; i < nheaders; i++)
		add_header_line(h, headers[i]);
	evbuffer_add(evhttp_request_get_output_buffer(req), b, strlen(b));
	if (evhttp_make_request(conn, req, method_parse(method), p) != 0)
		die("could not make a request to", p);
	free(p);
	free(b);
}

static void pub_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lg *lg = arg;
	struct pubconn *pc = &lg->pubc[0];
	struct pubreq *pr;
	int seq = lg->published;

	if (seq >= lg->nevents) {
		event_del(lg->ev_pub);
		return;
	}
	for (int i = 1; i < LG_PUB_CONNS; i++)
		if (lg->pubc[i].busy < pc->busy)
			pc = &lg->pubc[i];
	pr = xcalloc(1, sizeof *pr);
	pr->lg = lg;
	pr->seq = seq;
	pr->pc = pc;
	pc->busy++;
	lg->sent_us[seq] = now_us();
	lg->published++;
	http_send(pc->conn, &lg->pubt, lg->pub_method, lg->pub_path,
	          lg->npub_ids > 0 ? lg->pub_ids[seq % lg->npub_ids] : NULL, lg->pub_headers,
	          lg->npub_headers, lg->pub_body, lg->pub_type, seq, pub_done, pr);
}

/* ---- fanout ------------------------------------------------------------------------------ */

enum fan_phase { FAN_CONNECT, FAN_SETTLE, FAN_PUBLISH, FAN_DRAIN, FAN_DONE };

struct fan {
	struct lg *lg;        /* the generator */
	enum fan_phase phase; /* where the run is */
	int64_t t_phase;      /* when the phase began (us) */
	int64_t connect_us;   /* how long connecting took */
	long rss_base;        /* KiB before subscribers */
	long rss_idle;        /* KiB with every subscriber connected, idle */
	long rss_after;       /* KiB after the events */
	double cpu_start;     /* server CPU seconds when publishing began */
	double cpu_used;      /* server CPU seconds from then to the last receipt */
	uint64_t expected;    /* receipts expected */
};

static uint64_t fan_expected(const struct lg *lg)
{
	uint64_t ok = 0;

	for (int i = 0; i < lg->nevents; i++)
		ok += lg->pub_ok[i];
	return ok * (uint64_t)lg->connected;
}

static void fan_check(evutil_socket_t fd, short what, void *arg)
{
	struct fan *f = arg;
	struct lg *lg = f->lg;
	int64_t t = now_us(), in_phase = t - f->t_phase;

	switch (f->phase) {
	case FAN_CONNECT:
		if (lg->connecting > 0 || lg->next_sub < lg->nsubs) {
			if (in_phase > (int64_t)(lg->connect_timeout * 1e6)) {
				fprintf(stderr,
				        "loadgen: %d of %d subscribers connected in %.0f s\n",
				        lg->connected, lg->nsubs, lg->connect_timeout);
				for (int i = 0; i < lg->nsubs; i++)
					if (lg->subs[i].phase != SUB_BODY &&
					    lg->subs[i].phase != SUB_CLOSED)
						sub_fail(lg, &lg->subs[i], "connect timed out");
				lg->next_sub = lg->nsubs;
			} else {
				return;
			}
		}
		f->connect_us = in_phase;
		fprintf(stderr, "loadgen: %s: %d subscribers connected in %.1f s\n", lg->label,
		        lg->connected, in_phase / 1e6);
		f->phase = FAN_SETTLE;
		f->t_phase = t;
		return;
	case FAN_SETTLE:
		if (in_phase < 2000000)
			return;
		f->rss_idle = rss_kib(lg);
		f->cpu_start = cpu_s(lg);
		f->phase = FAN_PUBLISH;
		f->t_phase = t;
		{
			struct timeval tv;
			double iv = 1.0 / lg->rate;

			tv.tv_sec = (time_t)iv;
			tv.tv_usec = (suseconds_t)((iv - (double)tv.tv_sec) * 1e6);
			lg->ev_pub = event_new(lg->base, -1, EV_PERSIST, pub_cb, lg);
			event_add(lg->ev_pub, &tv);
		}
		return;
	case FAN_PUBLISH:
		if (lg->acked < lg->nevents) {
			/* a publish that never returns must not hold the run forever */
			if (in_phase < (int64_t)((lg->nevents / lg->rate + 30.0) * 1e6))
				return;
			fprintf(stderr, "loadgen: %d publishes never acknowledged\n",
			        lg->nevents - lg->acked);
		}
		fprintf(stderr, "loadgen: %s: %d events published in %.1f s\n", lg->label,
		        lg->acked, in_phase / 1e6);
		f->phase = FAN_DRAIN;
		f->t_phase = t;
		return;
	case FAN_DRAIN:
		f->expected = fan_expected(lg);
		if (lg->receipts < f->expected && lg->connected - lg->closed_early > 0 &&
		    in_phase < (int64_t)(lg->drain_timeout * 1e6))
			return;
		fprintf(stderr, "loadgen: %s: drained in %.1f s\n", lg->label, in_phase / 1e6);
		f->rss_after = rss_kib(lg);
		f->cpu_used = cpu_s(lg) - f->cpu_start;
		f->phase = FAN_DONE;
		event_base_loopexit(lg->base, NULL);
		return;
	case FAN_DONE:
		return;
	}
}

static void fan_report(struct lg *lg, const struct fan *f)
{
	size_t cap = (size_t)lg->nsubs * (size_t)lg->nevents, n = 0;
	uint32_t *lat = xmalloc((cap > 0 ? cap : 1) * sizeof *lat);
	uint32_t *slat = xmalloc((cap > 0 ? cap : 1) * sizeof *slat);
	uint64_t early = 0, lost;
	double per_sub = 0.0;

	for (int i = 0; i < lg->nsubs; i++) {
		for (int e = 0; e < lg->nevents; e++) {
			int64_t r = lg->recv_us[(size_t)i * (size_t)lg->nevents + (size_t)e];
			int64_t d;

			if (r == 0 || !lg->pub_ok[e])
				continue;
			/* a receipt may beat the acknowledgement to the client: count it as 0 */
			d = r - lg->ack_us[e];
			if (d < 0) {
				early++;
				d = 0;
			}
			lat[n] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
			/* from the moment the write was due: what the writer's colleague waits */
			d = r - lg->sent_us[e];
			slat[n++] = d < 0 ? 0 : d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
		}
	}
	qsort(lat, n, sizeof *lat, cmp_u32);
	qsort(slat, n, sizeof *slat, cmp_u32);
	lost = f->expected > n ? f->expected - n : 0;
	if (f->rss_base >= 0 && f->rss_idle >= 0 && lg->connected > 0)
		per_sub = (double)(f->rss_idle - f->rss_base) * 1024.0 / lg->connected;
	printf("fanout label=%s subscribers=%d connected=%d failed=%d closed=%d events=%d "
	       "pub_errors=%d expected=%" PRIu64 " receipts=%zu lost=%" PRIu64 " dups=%" PRIu64
	       " early=%" PRIu64 " p50_ms=%.2f p99_ms=%.2f max_ms=%.2f rss_base_kib=%ld "
	       "sp50_ms=%.2f sp99_ms=%.2f smax_ms=%.2f rss_idle_kib=%ld rss_after_kib=%ld "
	       "bytes_per_sub=%.0f connect_s=%.1f server_cpu_s=%.2f cpu_us_per_receipt=%.2f\n",
	       lg->label, lg->nsubs, lg->connected, lg->failed, lg->closed_early, lg->nevents,
	       lg->pub_errors, f->expected, n, lost, lg->dups, early, quantile_ms(lat, n, 0.50),
	       quantile_ms(lat, n, 0.99), n > 0 ? lat[n - 1] / 1000.0 : 0.0, f->rss_base,
	       quantile_ms(slat, n, 0.50), quantile_ms(slat, n, 0.99),
	       n > 0 ? slat[n - 1] / 1000.0 : 0.0, f->rss_idle, f->rss_after, per_sub,
	       f->connect_us / 1e6, f->cpu_used, n > 0 ? f->cpu_used * 1e6 / (double)n : 0.0);
	fflush(stdout);
	free(lat);
	free(slat);
}

static int run_fanout(struct lg *lg)
{
	struct fan f;
	struct timeval tick = {0, 50000};
	size_t cells = (size_t)lg->nsubs * (size_t)lg->nevents;

	if (lg->nsubt == 0 || lg->sub_path == NULL || lg->pubt.port == 0 || lg->pub_path == NULL)
		die("fanout needs --sub, --sub-path, --pub and --pub-path", NULL);
	raise_nofile(lg->nsubs + 64);
	lg->subs = xcalloc(lg->nsubs > 0 ? (size_t)lg->nsubs : 1, sizeof *lg->subs);
	for (int i = 0; i < lg->nsubs; i++) {
		lg->subs[i].lg = lg;
		lg->subs[i].index = i;
		lg->subs[i].fd = -1;
	}
	lg->recv_us = xcalloc(cells > 0 ? cells : 1, sizeof *lg->recv_us);
	lg->ack_us = xcalloc((size_t)lg->nevents + 1, sizeof *lg->ack_us);
	lg->sent_us = xcalloc((size_t)lg->nevents + 1, sizeof *lg->sent_us);
	lg->pub_ok = xcalloc((size_t)lg->nevents + 1, sizeof *lg->pub_ok);
	for (int i = 0; i < LG_PUB_CONNS; i++) {
		lg->pubc[i].conn = evhttp_connection_base_new(lg->base, NULL, lg->pubt.host,
		                                              (uint16_t)lg->pubt.port);
		evhttp_connection_set_timeout(lg->pubc[i].conn, 30);
	}
	memset(&f, 0, sizeof f);
	f.lg = lg;
	f.rss_base = rss_kib(lg);
	f.phase = FAN_CONNECT;
	f.t_phase = now_us();
	subs_fill_window(lg);
	lg->ev_check = event_new(lg->base, -1, EV_PERSIST, fan_check, &f);
	event_add(lg->ev_check, &tick);
	event_base_dispatch(lg->base);
	fan_report(lg, &f);
	for (int i = 0; i < lg->nsubs; i++)
		if (lg->subs[i].phase != SUB_CLOSED && lg->subs[i].phase != SUB_IDLE)
			sub_close(lg, &lg->subs[i]);
	for (int i = 0; i < LG_PUB_CONNS; i++)
		evhttp_connection_free(lg->pubc[i].conn);
	if (lg->ev_pub != NULL)
		event_free(lg->ev_pub);
	event_free(lg->ev_check);
	free(lg->subs);
	free(lg->recv_us);
	free(lg->ack_us);
	free(lg->sent_us);
	free(lg->pub_ok);
	return 0;
}

/* ---- writes ------------------------------------------------------------------------------ */

struct writer {
	struct lg *lg;                  /* the generator */
	struct evhttp_connection *conn; /* its own keep-alive connection; owned */
	const char *id;                 /* what it writes to */
	int64_t sent;                   /* when the request in flight was sent (us) */
	bool stopped;                   /* past the window: no new request */
};

static void writer_next(struct writer *w);

static void writer_done(struct evhttp_request *req, void *arg)
{
	struct writer *w = arg;
	struct lg *lg = w->lg;
	int64_t t = now_us();
	int code = req != NULL ? evhttp_request_get_response_code(req) : 0;

	if (t <= lg->w_end) {
		if (code >= 200 && code < 300) {
			lg->w_ok++;
			if (lg->w_nlat == lg->w_caplat) {
				lg->w_caplat = lg->w_caplat ? lg->w_caplat * 2 : 4096;
				lg->w_lat = xrealloc(lg->w_lat, lg->w_caplat * sizeof *lg->w_lat);
			}
			lg->w_lat[lg->w_nlat++] = (uint32_t)(t - w->sent);
		} else {
			lg->w_err++;
			if (lg->w_err <= 5)
				fprintf(stderr, "loadgen: write to %s: status %d\n", w->id, code);
		}
	}
	if (t >= lg->w_end) {
		w->stopped = true;
		if (--lg->w_active == 0)
			event_base_loopexit(lg->base, NULL);
		return;
	}
	writer_next(w);
}

static void writer_next(struct writer *w)
{
	struct lg *lg = w->lg;

	w->sent = now_us();
	http_send(w->conn, &lg->wt, lg->pub_method, lg->pub_path, w->id, lg->pub_headers,
	          lg->npub_headers, lg->pub_body, lg->pub_type, lg->w_seq++, writer_done, w);
}

static int run_writes(struct lg *lg)
{
	struct writer *ws;
	double secs;

	if (lg->wt.port == 0 || lg->pub_path == NULL || lg->npub_ids == 0 || lg->clients <= 0)
		die("writes needs --target, --path, --ids and --clients", NULL);
	if (lg->npub_ids < lg->clients)
		fprintf(stderr, "loadgen: %d ids for %d clients: some share a row\n", lg->npub_ids,
		        lg->clients);
	raise_nofile(lg->clients + 64);
	ws = xcalloc((size_t)lg->clients, sizeof *ws);
	lg->w_start = now_us();
	lg->w_end = lg->w_start + (int64_t)(lg->seconds * 1e6);
	lg->w_active = lg->clients;
	for (int i = 0; i < lg->clients; i++) {
		ws[i].lg = lg;
		ws[i].id = lg->pub_ids[i % lg->npub_ids];
		ws[i].conn =
		    evhttp_connection_base_new(lg->base, NULL, lg->wt.host, (uint16_t)lg->wt.port);
		evhttp_connection_set_timeout(ws[i].conn, 30);
		writer_next(&ws[i]);
	}
	event_base_dispatch(lg->base);
	secs = (double)(lg->w_end - lg->w_start) / 1e6;
	qsort(lg->w_lat, lg->w_nlat, sizeof *lg->w_lat, cmp_u32);
	printf("writes label=%s clients=%d seconds=%.1f ok=%" PRIu64 " errors=%" PRIu64
	       " rps=%.1f p50_ms=%.2f p99_ms=%.2f\n",
	       lg->label, lg->clients, secs, lg->w_ok, lg->w_err, (double)lg->w_ok / secs,
	       quantile_ms(lg->w_lat, lg->w_nlat, 0.50), quantile_ms(lg->w_lat, lg->w_nlat, 0.99));
	fflush(stdout);
	for (int i = 0; i < lg->clients; i++)
		evhttp_connection_free(ws[i].conn);
	free(ws);
	free(lg->w_lat);
	return 0;
}

/* ---- main -------------------------------------------------------------------------------- */

__attribute__((noreturn)) static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: loadgen fanout --sub HOST:PORT [--sub ...] --sub-path PATH [--sub-header H]\n"
	    "                      --pub HOST:PORT --pub-path PATH [--pub-method M]\n"
	    "                      [--pub-ids ID,ID..] [--pub-header H] [--pub-body BODY]\n"
	    "                      [--pub-type TYPE] [-n N] [-m M] [--rate R] [--pid PID ...]\n"
	    "                      [--connect-timeout S] [--drain-timeout S] [--label L]\n"
	    "       loadgen writes --target HOST:PORT --path PATH --ids ID,ID.. [--method M]\n"
	    "                      [--header H] [--body BODY] [--type TYPE] [--clients C]\n"
	    "                      [--seconds S] [--label L]\n"
	    "PATH may hold {id} (the next id), BODY {n} (a sequence number); each event\n"
	    "published in fanout mode must carry \"bench-{n}\" for subscribers to find.\n");
	exit(2);
}

static void ids_parse(struct lg *lg, const char *s)
{
	char *copy = xstrdup(s), *save = NULL, *tok;

	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		lg->pub_ids =
		    xrealloc(lg->pub_ids, (size_t)(lg->npub_ids + 1) * sizeof *lg->pub_ids);
		lg->pub_ids[lg->npub_ids++] = xstrdup(tok);
	}
	free(copy);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"sub", required_argument, NULL, 's'},
	    {"sub-path", required_argument, NULL, 'S'},
	    {"sub-header", required_argument, NULL, 'H'},
	    {"pub", required_argument, NULL, 'p'},
	    {"target", required_argument, NULL, 'p'},
	    {"pub-path", required_argument, NULL, 'P'},
	    {"path", required_argument, NULL, 'P'},
	    {"pub-method", required_argument, NULL, 'M'},
	    {"method", required_argument, NULL, 'M'},
	    {"pub-ids", required_argument, NULL, 'i'},
	    {"ids", required_argument, NULL, 'i'},
	    {"pub-header", required_argument, NULL, 'h'},
	    {"header", required_argument, NULL, 'h'},
	    {"pub-body", required_argument, NULL, 'b'},
	    {"body", required_argument, NULL, 'b'},
	    {"pub-type", required_argument, NULL, 't'},
	    {"type", required_argument, NULL, 't'},
	    {"rate", required_argument, NULL, 'r'},
	    {"pid", required_argument, NULL, 'k'},
	    {"connect-timeout", required_argument, NULL, 'c'},
	    {"drain-timeout", required_argument, NULL, 'd'},
	    {"label", required_argument, NULL, 'l'},
	    {"clients", required_argument, NULL, 'C'},
	    {"seconds", required_argument, NULL, 'T'},
	    {NULL, 0, NULL, 0},
	};
	struct lg lg;
	const char *mode;
	int c, rc;

	if (argc < 2)
		usage();
	mode = argv[1];
	memset(&lg, 0, sizeof lg);
	lg.pub_method = "POST";
	lg.pub_body = "{\"note\":\"bench-{n}\"}";
	lg.pub_type = "application/json";
	lg.nsubs = 1000;
	lg.nevents = 200;
	lg.rate = 20.0;
	lg.connect_timeout = 180.0;
	lg.drain_timeout = 60.0;
	lg.label = mode;
	lg.clients = 1;
	lg.seconds = 10.0;
	optind = 2;
	while ((c = getopt_long(argc, argv, "n:m:", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (lg.nsubt == LG_MAX_TARGETS)
				die("too many --sub", NULL);
			target_parse(&lg.subt[lg.nsubt++], optarg);
			break;
		case 'S':
			lg.sub_path = optarg;
			break;
		case 'H':
			if (lg.nsub_headers == LG_MAX_HEADERS)
				die("too many --sub-header", NULL);
			lg.sub_headers[lg.nsub_headers++] = optarg;
			break;
		case 'p':
			target_parse(&lg.pubt, optarg);
			lg.wt = lg.pubt;
			break;
		case 'P':
			lg.pub_path = optarg;
			break;
		case 'M':
			lg.pub_method = optarg;
			method_parse(optarg);
			break;
		case 'i':
			ids_parse(&lg, optarg);
			break;
		case 'h':
			if (lg.npub_headers == LG_MAX_HEADERS)
				die("too many --pub-header", NULL);
			lg.pub_headers[lg.npub_headers++] = optarg;
			break;
		case 'b':
			lg.pub_body = optarg;
			break;
		case 't':
			lg.pub_type = optarg;
			break;
		case 'n':
			lg.nsubs = atoi(optarg);
			break;
		case 'm':
			lg.nevents = atoi(optarg);
			break;
		case 'r':
			lg.rate = atof(optarg);
			break;
		case 'k':
			if (lg.npids == LG_MAX_TARGETS)
				die("too many --pid", NULL);
			lg.pids[lg.npids++] = atoi(optarg);
			break;
		case 'c':
			lg.connect_timeout = atof(optarg);
			break;
		case 'd':
			lg.drain_timeout = atof(optarg);
			break;
		case 'l':
			lg.label = optarg;
			break;
		case 'C':
			lg.clients = atoi(optarg);
			break;
		case 'T':
			lg.seconds = atof(optarg);
			break;
		default:
			usage();
		}
	}
	/* bounded in count and time, whatever the command line says */
	if (lg.nsubs < 0 || lg.nsubs > 50000 || lg.nevents < 1 || lg.nevents > 100000 ||
	    lg.rate <= 0.0 || lg.rate > 10000.0 || lg.clients > 1000 || lg.seconds <= 0.0 ||
	    lg.seconds > 600.0 || lg.connect_timeout > 600.0 || lg.drain_timeout > 600.0)
		die("a count or duration is out of bounds", NULL);
	lg.base = event_base_new();
	if (strcmp(mode, "fanout") == 0)
		rc = run_fanout(&lg);
	else if (strcmp(mode, "writes") == 0)
		rc = run_writes(&lg);
	else
		usage();
	for (int i = 0; i < lg.npub_ids; i++)
		free(lg.pub_ids[i]);
	free(lg.pub_ids);
	event_base_free(lg.base);
	return rc;
}

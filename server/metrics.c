/*
 * metrics.c - HTTP request counters and latency histograms by route, plus
 * whatever other modules report through metrics_add_reporter.
 *
 * Owns: the series (a small array searched linearly: a few dozen routes).
 */
#include "metrics.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static const double buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,   1.0,  2.5,   5.0,  10.0};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

struct counter {
	const char *method; /* static string from http.c */
	const char *route;  /* route pattern, static */
	int status;         /* HTTP status */
	uint64_t count;     /* requests */
};

struct histogram {
	const char *route;             /* route pattern, static */
	uint64_t counts[NBUCKETS + 1]; /* per bucket, last is +Inf (not cumulative) */
	double sum;                    /* seconds */
	uint64_t count;                /* observations */
};

struct reporter {
	metrics_report_cb *cb; /* writes its lines */
	void *arg;             /* its argument */
};

struct metrics {
	struct counter *counters;     /* owned */
	size_t ncounters;             /* used */
	struct histogram *histograms; /* owned */
	size_t nhistograms;           /* used */
	struct reporter *reporters;   /* owned */
	size_t nreporters;            /* used */
};

struct metrics *metrics_new(void)
{
	return xcalloc(1, sizeof(struct metrics));
}

void metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	free(m->counters);
	free(m->histograms);
	free(m->reporters);
	free(m);
}

void metrics_http_done(struct metrics *m, const char *method, const char *route, int status,
                       double seconds)
{
	struct counter *c = NULL;
	struct histogram *h = NULL;
	size_t i;

	for (i = 0; i < m->ncounters; i++) {
		c = &m->counters[i];
		if (c->status == status && strcmp(c->route, route) == 0 &&
		    strcmp(c->method, method) == 0)
			break;
	}
	if (i == m->ncounters) {
		m->counters = xrealloc(m->counters, (m->ncounters + 1) * sizeof *m->counters);
		c = &m->counters[m->ncounters++];
		c->method = method;
		c->route = route;
		c->status = status;
		c->count = 0;
	}
	c->count++;
	for (i = 0; i < m->nhistograms; i++) {
		h = &m->histograms[i];
		if (strcmp(h->route, route) == 0)
			break;
	}
	if (i == m->nhistograms) {
		m->histograms =
		    xrealloc(m->histograms, (m->nhistograms + 1) * sizeof *m->histograms);
		h = &m->histograms[m->nhistograms++];
		memset(h, 0, sizeof *h);
		h->route = route;
	}
	for (i = 0; i < NBUCKETS && seconds > buckets[i]; i++)
		;
	h->counts[i]++;
	h->sum += seconds;
	h->count++;
}

void metrics_add_reporter(struct metrics *m, metrics_report_cb *cb, void *arg)
{
	m->reporters = xrealloc(m->reporters, (m->nreporters + 1) * sizeof *m->reporters);
	m->reporters[m->nreporters].cb = cb;
	m->reporters[m->nreporters].arg = arg;
	m->nreporters++;
}

void metrics_write(struct metrics *m, struct evbuffer *out)
{
	evbuffer_add_printf(out, "# HELP carebridge_http_requests_total HTTP requests by route "
	                         "pattern, method and status.\n"
	                         "# TYPE carebridge_http_requests_total counter\n");
	for (size_t i = 0; i < m->ncounters; i++) {
		const struct counter *c = &m->counters[i];

		evbuffer_add_printf(out,
		                    "carebridge_http_requests_total{method=\"%s\",route=\"%s\","
		                    "status=\"%d\"} %" PRIu64 "\n",
		                    c->method, c->route, c->status, c->count);
	}
	evbuffer_add_printf(out, "# HELP carebridge_http_request_duration_seconds Time from "
	                         "request to reply, by route pattern.\n"
	                         "# TYPE carebridge_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < m->nhistograms; i++) {
		const struct histogram *h = &m->histograms[i];
		uint64_t cum = 0;

		for (size_t b = 0; b < NBUCKETS; b++) {
			cum += h->counts[b];
			evbuffer_add_printf(out,
			                    "carebridge_http_request_duration_seconds_bucket{route="
			                    "\"%s\",le=\"%g\"} %" PRIu64 "\n",
			                    h->route, buckets[b], cum);
		}
		evbuffer_add_printf(
		    out,
		    "carebridge_http_request_duration_seconds_bucket{route=\"%s\","
		    "le=\"+Inf\"} %" PRIu64 "\n"
		    "carebridge_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
		    "carebridge_http_request_duration_seconds_count{route=\"%s\"} "
		    "%" PRIu64 "\n",
		    h->route, h->count, h->route, h->sum, h->route, h->count);
	}
	for (size_t i = 0; i < m->nreporters; i++)
		m->reporters[i].cb(out, m->reporters[i].arg);
}

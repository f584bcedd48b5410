/*
 * metrics.c - HTTP request counters and latency histograms by route, plus
 * whatever other modules report through metrics_add_reporter.
 *
 * Owns: the series (a small array searched linearly: a few dozen routes).
 */
#include "metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static const double buckets[METRICS_NBUCKETS] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                 0.25,  0.5,   1.0,  2.5,   5.0,  10.0};
#define NBUCKETS METRICS_NBUCKETS
#define METRICS_MAX_WARDS 1000 /* ward gauges kept at most (label cardinality) */

/* HL7 results, in label order. */
enum hl7_result { HL7_ACCEPTED, HL7_ERROR, HL7_REJECTED, HL7_DUPLICATE, HL7_NRESULTS };
static const char *const hl7_result_names[] = {"accepted", "error", "rejected", "duplicate"};

struct ward_gauge {
	char code[33]; /* ward code (an admin-set code, not patient data) */
	int nctr;      /* inpatients not meeting the criteria to reside */
	int delayed;   /* of them, delayed past a midnight */
};

struct counter {
	const char *method; /* static string from http.c */
	const char *route;  /* route pattern, static */
	int status;         /* HTTP status */
	uint64_t count;     /* requests */
};

struct histogram {
	const char *route;     /* route pattern, static */
	struct metrics_hist h; /* its latencies */
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
	uint64_t hl7[HL7_NRESULTS];   /* HL7 messages answered, by result */
	struct ward_gauge *wards;     /* owned: the last ward figures read */
	int nwards;                   /* how many */
	int64_t wards_at;             /* unix time they were read, 0 = never */
};

void metrics_hist_observe(struct metrics_hist *h, double seconds)
{
	size_t i;

	for (i = 0; i < NBUCKETS && seconds > buckets[i]; i++)
		;
	h->counts[i]++;
	h->sum += seconds;
	h->count++;
}

void metrics_hist_write(struct evbuffer *out, const char *name, const char *labels,
                        const struct metrics_hist *h)
{
	const char *sep = labels[0] != '\0' ? "," : "";
	uint64_t cum = 0;

	for (size_t b = 0; b < NBUCKETS; b++) {
		cum += h->counts[b];
		evbuffer_add_printf(out, "%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n", name, labels,
		                    sep, buckets[b], cum);
	}
	evbuffer_add_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, labels, sep,
	                    h->count);
	if (labels[0] != '\0')
		evbuffer_add_printf(out, "%s_sum{%s} %.6f\n%s_count{%s} %" PRIu64 "\n", name,
		                    labels, h->sum, name, labels, h->count);
	else
		evbuffer_add_printf(out, "%s_sum %.6f\n%s_count %" PRIu64 "\n", name, h->sum, name,
		                    h->count);
}

void metrics_hl7_done(struct metrics *m, const char *ack_code, bool duplicate)
{
	if (duplicate)
		m->hl7[HL7_DUPLICATE]++;
	else if (strcmp(ack_code, "AA") == 0)
		m->hl7[HL7_ACCEPTED]++;
	else if (strcmp(ack_code, "AE") == 0)
		m->hl7[HL7_ERROR]++;
	else
		m->hl7[HL7_REJECTED]++;
}

void metrics_wards_set(struct metrics *m, int n, const char *const *codes, const int *nctr,
                       const int *delayed, int64_t at)
{
	if (n > METRICS_MAX_WARDS)
		n = METRICS_MAX_WARDS;
	free(m->wards);
	m->wards = n > 0 ? xcalloc((size_t)n, sizeof *m->wards) : NULL;
	m->nwards = n;
	for (int i = 0; i < n; i++) {
		snprintf(m->wards[i].code, sizeof m->wards[i].code, "%s", codes[i]);
		m->wards[i].nctr = nctr[i];
		m->wards[i].delayed = delayed[i];
	}
	m->wards_at = at;
}

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
	free(m->wards);
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
	metrics_hist_observe(&h->h, seconds);
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
		char labels[300];

		snprintf(labels, sizeof labels, "route=\"%s\"", h->route);
		metrics_hist_write(out, "carebridge_http_request_duration_seconds", labels, &h->h);
	}
	evbuffer_add_printf(out, "# HELP carebridge_mllp_messages_total HL7 v2 messages answered, "
	                         "by result (the ACK code; duplicate: a repeat answered from the "
	                         "first).\n"
	                         "# TYPE carebridge_mllp_messages_total counter\n");
	for (int i = 0; i < HL7_NRESULTS; i++)
		evbuffer_add_printf(out,
		                    "carebridge_mllp_messages_total{result=\"%s\"} %" PRIu64 "\n",
		                    hl7_result_names[i], m->hl7[i]);
	evbuffer_add_printf(out, "# HELP carebridge_ward_nctr_patients Inpatients not meeting the "
	                         "criteria to reside, by ward (read periodically).\n"
	                         "# TYPE carebridge_ward_nctr_patients gauge\n");
	for (int i = 0; i < m->nwards; i++)
		evbuffer_add_printf(out, "carebridge_ward_nctr_patients{ward=\"%s\"} %d\n",
		                    m->wards[i].code, m->wards[i].nctr);
	evbuffer_add_printf(out, "# HELP carebridge_ward_delayed_patients Of those, patients "
	                         "delayed past a midnight snapshot, by ward (read periodically).\n"
	                         "# TYPE carebridge_ward_delayed_patients gauge\n");
	for (int i = 0; i < m->nwards; i++)
		evbuffer_add_printf(out, "carebridge_ward_delayed_patients{ward=\"%s\"} %d\n",
		                    m->wards[i].code, m->wards[i].delayed);
	evbuffer_add_printf(out,
	                    "# HELP carebridge_ward_figures_timestamp_seconds When the ward "
	                    "gauges were read (unix time; 0 = not yet).\n"
	                    "# TYPE carebridge_ward_figures_timestamp_seconds gauge\n"
	                    "carebridge_ward_figures_timestamp_seconds %" PRId64 "\n",
	                    m->wards_at);
	for (size_t i = 0; i < m->nreporters; i++)
		m->reporters[i].cb(out, m->reporters[i].arg);
}

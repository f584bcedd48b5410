/*
 * metrics.h - counters and histograms for GET /metrics (Prometheus text
 * format 0.0.4).  Labels are route patterns and status codes, never values
 * from a request.
 */
#ifndef CB_METRICS_H
#define CB_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/buffer.h>

struct metrics;
struct db_stats;

#define METRICS_NBUCKETS 12 /* latency buckets, 1 ms to 10 s (see metrics.c) */

/* A latency histogram a module embeds (counts per bucket, the last is +Inf; not cumulative). */
struct metrics_hist {
	uint64_t counts[METRICS_NBUCKETS + 1]; /* per bucket */
	double sum;                            /* seconds */
	uint64_t count;                        /* observations */
};

/* Count one observation of seconds in h. */
void metrics_hist_observe(struct metrics_hist *h, double seconds);

/*
 * Write h as histogram name (its _bucket, _sum and _count lines); labels is
 * "" or label pairs without braces ("route=\"/x\"").  No HELP/TYPE lines.
 */
void metrics_hist_write(struct evbuffer *out, const char *name, const char *labels,
                        const struct metrics_hist *h);

/*
 * Count one HL7 message answered: its ACK code ("AA", "AE", "AR") or, for a
 * repeat answered from the first one's record, duplicate.
 */
void metrics_hl7_done(struct metrics *m, const char *ack_code, bool duplicate);

/*
 * Replace the per-ward gauges with the n wards of codes (borrowed, copied),
 * nctr and delayed (inpatients not meeting the criteria to reside, and those
 * of them delayed past a midnight), as read at unix time at.
 */
void metrics_wards_set(struct metrics *m, int n, const char *const *codes, const int *nctr,
                       const int *delayed, int64_t at);

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* Count one finished HTTP request: method name, route pattern, status, duration. */
void metrics_http_done(struct metrics *m, const char *method, const char *route, int status,
                       double seconds);

/*
 * Add one named counter or gauge sample (for modules that keep their own
 * numbers): metrics_write calls the registered reporters.
 */
typedef void metrics_report_cb(struct evbuffer *out, void *arg);
void metrics_add_reporter(struct metrics *m, metrics_report_cb *cb, void *arg);

/* Write every metric in text exposition format to out. */
void metrics_write(struct metrics *m, struct evbuffer *out);

#endif

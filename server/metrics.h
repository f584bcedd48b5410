/*
 * metrics.h - counters and histograms for GET /metrics (Prometheus text
 * format 0.0.4).  Labels are route patterns and status codes, never values
 * from a request.
 */
#ifndef CB_METRICS_H
#define CB_METRICS_H

#include <stdint.h>

#include <event2/buffer.h>

struct metrics;
struct db_stats;

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

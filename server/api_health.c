/*
 * api_health.c - GET /healthz (the process is up), GET /readyz (the database
 * answers and its schema is the one this binary expects) and GET /metrics.
 * These routes are public: load balancers and Prometheus call them without a
 * token, and they reveal no patient data.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "api.h"
#include "app.h"
#include "db.h"
#include "metrics.h"
#include "store_migrate.h"

static void healthz(struct http_req *r)
{
	cJSON *body = cJSON_CreateObject();

	cJSON_AddStringToObject(body, "status", "ok");
	http_reply_json(r, 200, body);
}

static void readyz_done(enum status st, int version, void *arg)
{
	struct http_req *r = arg;
	struct err err;
	cJSON *body;

	if (st != ST_OK) {
		err_set(&err, ST_UNAVAILABLE, NULL, "the database is not available");
		http_reply_error(r, ST_UNAVAILABLE, &err);
		return;
	}
	if (version != r->app->migration_latest) {
		err_set(&err, ST_UNAVAILABLE, NULL,
		        "database schema is at version %d; this server needs version %d", version,
		        r->app->migration_latest);
		http_reply_error(r, ST_UNAVAILABLE, &err);
		return;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "status", "ready");
	cJSON_AddNumberToObject(body, "schema_version", version);
	http_reply_json(r, 200, body);
}

static void readyz(struct http_req *r)
{
	struct err err;

	if (r->app->shutting_down) {
		err_set(&err, ST_UNAVAILABLE, NULL, "the server is shutting down");
		http_reply_error(r, ST_UNAVAILABLE, &err);
		return;
	}
	store_schema_version(r->app->db, readyz_done, r);
}

static void metrics(struct http_req *r)
{
	struct evbuffer *out = evbuffer_new();
	struct db_stats ds;
	size_t len;

	metrics_write(r->app->metrics, out);
	db_get_stats(r->app->db, &ds);
	evbuffer_add_printf(
	    out,
	    "# HELP carebridge_db_pool_connections Database connections by state.\n"
	    "# TYPE carebridge_db_pool_connections gauge\n"
	    "carebridge_db_pool_connections{state=\"configured\"} %d\n"
	    "carebridge_db_pool_connections{state=\"connected\"} %d\n"
	    "carebridge_db_pool_connections{state=\"in_use\"} %d\n"
	    "# HELP carebridge_db_pool_queued Requests waiting for a connection.\n"
	    "# TYPE carebridge_db_pool_queued gauge\n"
	    "carebridge_db_pool_queued %d\n"
	    "# HELP carebridge_db_requests_total Database requests by outcome.\n"
	    "# TYPE carebridge_db_requests_total counter\n"
	    "carebridge_db_requests_total{outcome=\"ok\"} %" PRIu64 "\n"
	    "carebridge_db_requests_total{outcome=\"error\"} %" PRIu64 "\n"
	    "# HELP carebridge_db_group_commits_total Shared write transactions "
	    "committed (group commit).\n"
	    "# TYPE carebridge_db_group_commits_total counter\n"
	    "carebridge_db_group_commits_total %" PRIu64 "\n"
	    "# HELP carebridge_db_grouped_requests_total Write requests committed in "
	    "them.\n"
	    "# TYPE carebridge_db_grouped_requests_total counter\n"
	    "carebridge_db_grouped_requests_total %" PRIu64 "\n"
	    "# HELP carebridge_db_group_retries_total Shared transactions that failed "
	    "and were re-run one request at a time.\n"
	    "# TYPE carebridge_db_group_retries_total counter\n"
	    "carebridge_db_group_retries_total %" PRIu64 "\n",
	    ds.size, ds.connected, ds.busy, ds.queued, ds.done - ds.failed, ds.failed,
	    ds.group_commits, ds.grouped, ds.group_retries);
	evbuffer_add_printf(out, "# HELP carebridge_db_query_duration_seconds Time from sending a "
	                         "database request (one transaction) to its COMMIT.\n"
	                         "# TYPE carebridge_db_query_duration_seconds histogram\n");
	metrics_hist_write(out, "carebridge_db_query_duration_seconds", "", &ds.run);
	evbuffer_add_printf(out, "# HELP carebridge_db_pool_wait_seconds Time a database request "
	                         "waited for a pool connection.\n"
	                         "# TYPE carebridge_db_pool_wait_seconds histogram\n");
	metrics_hist_write(out, "carebridge_db_pool_wait_seconds", "", &ds.wait);
	len = evbuffer_get_length(out);
	http_reply_data(r, 200, "text/plain; version=0.0.4; charset=utf-8",
	                evbuffer_pullup(out, -1), len);
	evbuffer_free(out);
}

const struct route health_routes[] = {
    ROUTE_OPEN(EVHTTP_REQ_GET, "/healthz", healthz, ROUTE_ID_NONE),
    ROUTE_OPEN(EVHTTP_REQ_GET, "/readyz", readyz, ROUTE_ID_NONE),
    ROUTE_OPEN(EVHTTP_REQ_GET, "/metrics", metrics, ROUTE_ID_NONE),
    ROUTE_END,
};

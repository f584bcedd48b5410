/*
 * loop.c - the serve command (see loop.h).
 *
 * Start-up order: migrations (blocking, before the loop, if migrate_on_start),
 * the event base, the database pool, the HTTP server, the port file, signals,
 * the 1 s tick.  Shutdown (SIGTERM/SIGINT): stop accepting, let requests in
 * flight finish (at most shutdown_timeout), fail what still waits, close the
 * database, free everything, exit 0.
 */
#include "loop.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "api.h"
#include "app.h"
#include "auth.h"
#include "clock.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "oidc.h"
#include "metrics.h"
#include "sdnotify.h"
#include "mllp.h"
#include "notify_client.h"
#include "signin.h"
#include "store_metrics.h"
#include "store_migrate.h"
#include "task_cache.h"
#include "chase.h"
#include "message_send.h"
#include "hub.h"
#include "listen.h"
#include "webhook.h"
#include "work.h"
#include "xmalloc.h"

extern char **environ;

struct loop {
	struct app app;                 /* the process's state */
	const char *config_path;        /* re-read on SIGHUP; may be NULL */
	struct event *ev_term;          /* SIGTERM; owned */
	struct event *ev_int;           /* SIGINT; owned */
	struct event *ev_hup;           /* SIGHUP; owned */
	struct event *ev_tick;          /* the 1 s tick; owned */
	struct event *ev_drain;         /* checks shutdown progress every 50 ms; owned */
	struct timespec drain_deadline; /* when shutdown stops waiting */
	struct event *ev_probe;         /* the loop-lag probe, every 100 ms; owned */
	int64_t probe_due_us;           /* when the probe should have fired */
	uint64_t lag_buckets[7];        /* probe lateness histogram (see lag_bounds) */
	double lag_sum;                 /* seconds */
	uint64_t lag_count;             /* samples */
	double lag_max;                 /* worst lateness seen, seconds */
	bool notify;                    /* $NOTIFY_SOCKET is set: tell systemd when ready */
	bool ready_sent;                /* READY=1 has been sent */
	bool ready_checking;            /* a readiness check is waiting for the database */
	int ready_last;                 /* schema version last reported in STATUS=, or -1 */
	bool wards_busy;                /* the ward figures are being read */
	int64_t wards_due_ms;           /* monotonic ms to read them next */
};

/* The ward figures arrived (or not): hand them to the metrics. */
static void wards_read(enum status st, const struct err *err, const char *json, void *arg)
{
	struct loop *l = arg;
	cJSON *root = st == ST_OK && json != NULL ? cJSON_Parse(json) : NULL;
	int n = cJSON_IsArray(root) ? cJSON_GetArraySize(root) : 0;
	const char **codes = xcalloc((size_t)n + 1, sizeof *codes);
	int *nctr = xcalloc((size_t)n + 1, sizeof *nctr);
	int *delayed = xcalloc((size_t)n + 1, sizeof *delayed);
	int k = 0;

	l->wards_busy = false;
	if (st != ST_OK)
		log_warning("main", "could not read the ward figures status=%s", status_code(st));
	for (int i = 0; i < n; i++) {
		const cJSON *row = cJSON_GetArrayItem(root, i);
		const cJSON *code = cJSON_GetArrayItem(row, 0);

		if (!cJSON_IsString(code))
			continue;
		codes[k] = code->valuestring;
		nctr[k] = (int)cJSON_GetNumberValue(cJSON_GetArrayItem(row, 1));
		delayed[k] = (int)cJSON_GetNumberValue(cJSON_GetArrayItem(row, 2));
		k++;
	}
	if (root != NULL)
		metrics_wards_set(l->app.metrics, k, codes, nctr, delayed, app_now(&l->app));
	cJSON_Delete(root);
	free(codes);
	free(nctr);
	free(delayed);
}

/* Read the ward figures every metrics_ward_interval (never per scrape: a query per ward). */
static void wards_tick(struct loop *l)
{
	int64_t now = mono_ms();

	if (l->wards_busy || now < l->wards_due_ms || l->app.shutting_down)
		return;
	l->wards_busy = true;
	l->wards_due_ms = now + l->app.cfg->metrics_ward_interval_ms;
	store_ward_figures(l->app.db, app_now(&l->app), wards_read, l);
}

#define PROBE_US 100000
static const double lag_bounds[] = {0.001, 0.005, 0.01, 0.05, 0.1, 1.0};

/*
 * The loop-lag probe: a 100 ms timer that measures how late it fires.  A
 * blocked or overloaded loop shows here (carebridge_loop_lag_seconds).
 */
static void probe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;
	int64_t now = mono_us();
	double lag = (double)(now - l->probe_due_us) / 1e6;
	size_t b;

	if (lag < 0)
		lag = 0;
	for (b = 0; b < 6 && lag > lag_bounds[b]; b++)
		;
	l->lag_buckets[b]++;
	l->lag_sum += lag;
	l->lag_count++;
	if (lag > l->lag_max)
		l->lag_max = lag;
	l->probe_due_us = now + PROBE_US;
}

static void lag_report(struct evbuffer *out, void *arg)
{
	struct loop *l = arg;
	uint64_t cum = 0;

	evbuffer_add_printf(out, "# HELP carebridge_loop_lag_seconds How late a 100 ms timer "
	                         "fires: the event loop's latency.\n"
	                         "# TYPE carebridge_loop_lag_seconds histogram\n");
	for (size_t b = 0; b < 6; b++) {
		cum += l->lag_buckets[b];
		evbuffer_add_printf(out,
		                    "carebridge_loop_lag_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
		                    lag_bounds[b], cum);
	}
	evbuffer_add_printf(out,
	                    "carebridge_loop_lag_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
	                    "carebridge_loop_lag_seconds_sum %.6f\n"
	                    "carebridge_loop_lag_seconds_count %" PRIu64 "\n"
	                    "# HELP carebridge_loop_lag_max_seconds Worst loop lag since start.\n"
	                    "# TYPE carebridge_loop_lag_max_seconds gauge\n"
	                    "carebridge_loop_lag_max_seconds %.6f\n",
	                    l->lag_count, l->lag_sum, l->lag_count, l->lag_max);
}

/* The outbox has news (LISTEN notification or reconnect): tell its readers. */
static void loop_poke(void *arg)
{
	struct app *app = arg;

	hub_poke(app->hub);
	webhooks_poke(app->webhooks);
	chase_poke(app->chase);
}

/* Tokens, users or their wards may have changed: open streams re-check their credentials. */
static void loop_auth_changed(void *arg)
{
	struct app *app = arg;

	hub_auth_changed(app->hub);
}

/*
 * Readiness for systemd (Type=notify): READY=1 once the daemon would answer
 * /readyz with 200, i.e. the database answers and its schema is the one this
 * binary needs.  Until then STATUS= says what it waits for (systemctl status
 * shows it), and the check runs again every tick.
 */
static void ready_done(enum status st, int version, void *arg)
{
	struct loop *l = arg;
	char msg[160];

	l->ready_checking = false;
	if (l->app.shutting_down || l->ready_sent)
		return;
	if (st == ST_OK && version == l->app.migration_latest) {
		snprintf(msg, sizeof msg, "READY=1\nSTATUS=ready: schema version %d", version);
		if (!sdnotify(msg))
			log_warning("main", "could not notify the service manager: %s",
			            strerror(errno));
		l->ready_sent = true;
		log_info("main", "ready schema=%d", version);
		return;
	}
	if (st != ST_OK)
		version = 0;
	if (version == l->ready_last)
		return;
	l->ready_last = version;
	if (st != ST_OK)
		snprintf(msg, sizeof msg, "STATUS=waiting for the database");
	else
		snprintf(msg, sizeof msg,
		         "STATUS=waiting for the schema: version %d, this server needs %d "
		         "(run carebridge migrate)",
		         version, l->app.migration_latest);
	sdnotify(msg);
}

static void ready_check(struct loop *l)
{
	if (!l->notify || l->ready_sent || l->ready_checking || l->app.shutting_down)
		return;
	l->ready_checking = true;
	store_schema_version(l->app.db, ready_done, l);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;

	db_tick(l->app.db);
	http_tick(l->app.http);
	listen_tick(l->app.listen);
	hub_tick(l->app.hub);
	webhooks_tick(l->app.webhooks);
	mllp_tick(l->app.mllp);
	app_clock_refresh(&l->app);
	chase_tick(l->app.chase);
	messenger_tick(l->app.messenger);
	ready_check(l);
	wards_tick(l);
}

static bool deadline_passed(const struct timespec *d)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > d->tv_sec || (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;
	int inflight = http_inflight(l->app.http);

	if (inflight == 0 && db_is_idle(l->app.db)) {
		log_info("main", "shutdown: no request in flight");
		event_base_loopexit(l->app.base, NULL);
		return;
	}
	if (deadline_passed(&l->drain_deadline)) {
		log_warning("main", "shutdown: timeout with requests in flight inflight=%d",
		            inflight);
		event_base_loopexit(l->app.base, NULL);
	}
}

static void term_cb(evutil_socket_t sig, short what, void *arg)
{
	struct loop *l = arg;
	struct timeval tv = {0, 50 * 1000};
	int64_t ms = l->app.cfg->shutdown_timeout_ms;

	if (l->app.shutting_down) {
		log_info("main", "second signal: exiting now");
		event_base_loopexit(l->app.base, NULL);
		return;
	}
	log_info("main", "shutdown requested signal=%d", (int)sig);
	l->app.shutting_down = true;
	if (l->notify)
		sdnotify("STOPPING=1\nSTATUS=stopping");
	http_stop_accepting(l->app.http);
	mllp_stop(l->app.mllp);
	hub_close_all(l->app.hub);
	clock_gettime(CLOCK_MONOTONIC, &l->drain_deadline);
	l->drain_deadline.tv_sec += ms / 1000;
	l->drain_deadline.tv_nsec += (long)(ms % 1000) * 1000000;
	if (l->drain_deadline.tv_nsec >= 1000000000) {
		l->drain_deadline.tv_sec++;
		l->drain_deadline.tv_nsec -= 1000000000;
	}
	l->ev_drain = event_new(l->app.base, -1, EV_PERSIST, drain_cb, l);
	event_add(l->ev_drain, &tv);
	drain_cb(-1, 0, l);
}

/*
 * SIGHUP: build a fresh configuration; swap it in only if it is valid.
 * Settings that need a restart keep their running value (with a warning).
 */
static void hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct loop *l = arg;
	struct config *fresh = xcalloc(1, sizeof *fresh);
	struct config_errors errs = {NULL, 0};
	bool ok = true;

	config_init(fresh);
	if (l->config_path != NULL) {
		FILE *fp = fopen(l->config_path, "rb");
		char buf[65536];
		size_t n;

		if (fp == NULL) {
			log_error("main", "reload: could not read the configuration file");
			ok = false;
		} else {
			n = fread(buf, 1, sizeof buf, fp);
			fclose(fp);
			ok = config_parse(fresh, buf, n, l->config_path, &errs) == ST_OK;
		}
	}
	if (ok)
		ok = config_apply_env(fresh, environ, &errs) == ST_OK;
	if (ok) {
		struct config_errors warnings = {NULL, 0};

		config_deprecations(fresh, &warnings);
		for (size_t i = 0; i < warnings.n; i++)
			log_warning("main", "reload: %s", warnings.lines[i]);
		config_errors_reset(&warnings);
		ok = config_validate(fresh, &errs) == ST_OK;
	}
	for (size_t i = 0; i < errs.n; i++)
		log_error("main", "reload: %s", errs.lines[i]);
	config_errors_reset(&errs);
	if (!ok) {
		log_error("main", "reload: configuration not changed");
		config_free(fresh);
		free(fresh);
		return;
	}
	/* Settings that cannot change while running keep their current value. */
	for (const struct config_entry *e = config_table; e->key != NULL; e++) {
		struct err err;
		char *cur = (char *)l->app.cfg + e->offset, *neu = (char *)fresh + e->offset;

		if ((e->flags & CONFIG_NO_RELOAD) == 0)
			continue;
		if (e->type == CONFIG_STRING || e->type == CONFIG_ENUM) {
			if (strcmp(*(char **)cur, *(char **)neu) != 0) {
				log_warning("main", "reload: setting \"%s\" needs a restart",
				            e->key);
				config_set(fresh, e->key, *(char **)cur, &err);
			}
		} else if (e->type == CONFIG_INT) {
			if (*(int *)cur != *(int *)neu) {
				log_warning("main", "reload: setting \"%s\" needs a restart",
				            e->key);
				*(int *)neu = *(int *)cur;
			}
		}
	}
	config_free(l->app.cfg);
	free(l->app.cfg);
	l->app.cfg = fresh;
	log_set_level_name(fresh->log_level);
	log_set_format_name(fresh->log_format);
	log_info("main", "configuration reloaded");
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

int loop_serve(struct config *cfg, const char *config_path)
{
	struct loop l;
	struct timeval second = {1, 0};
	struct err err;
	int rc = 0;

	memset(&l, 0, sizeof l);
	l.app.cfg = cfg;
	l.app.started_at = (int64_t)time(NULL);
	l.app.migration_latest = migrate_latest_builtin();
	l.config_path = config_path;
	signal(SIGPIPE, SIG_IGN);
	log_info("main", "starting carebridge pid=%ld", (long)getpid());
	if (!auth_init()) {
		log_fatal("main", "could not initialise libsodium");
		config_free(cfg);
		free(cfg);
		return 1;
	}

	if (cfg->migrate_on_start &&
	    migrate_run(config_owner_url(cfg), NULL, MIGRATE_ON_START, &err) != ST_OK) {
		/* Not fatal: /readyz says 503 until someone migrates and the database answers. */
		log_error("main", "could not migrate on start: %s", err.message);
	}

	l.app.base = event_base_new();
	l.app.metrics = metrics_new();
	l.app.db = db_new(l.app.base, cfg);
	l.app.work = work_new(l.app.base, cfg->work_threads, 256);
	l.app.hub = hub_new(&l.app);
	l.app.webhooks = webhooks_new(&l.app);
	if (l.app.webhooks == NULL) {
		rc = 1;
		goto out;
	}
	l.app.chase = chase_new(&l.app);
	l.app.messenger = messenger_new(&l.app);
	{
		char why[256];

		l.app.oidc = oidc_new(&l.app, why, sizeof why);
		if (l.app.oidc == NULL && why[0] != '\0') {
			log_fatal("main", "identity provider: %s", why);
			rc = 1;
			goto out;
		}
	}
	{
		char why[256];

		l.app.notify = notify_new(&l.app, why, sizeof why);
		if (l.app.notify == NULL && why[0] != '\0') {
			log_fatal("main", "GOV.UK Notify: %s", why);
			rc = 1;
			goto out;
		}
	}
	app_clock_refresh(&l.app);
	if (cfg->test_clock_file[0] != '\0')
		log_warning("main", "test clock in use: time is read from test_clock_file");
	l.app.listen = listen_new(l.app.base, cfg, loop_poke, loop_auth_changed, &l.app);
	l.app.auth_cache = auth_cache_new(cfg->auth_cache_ttl_ms);
	metrics_add_reporter(l.app.metrics, auth_cache_report, l.app.auth_cache);
	l.app.task_cache = task_cache_new();
	l.app.signin = signin_limiter_new(SIGNIN_LIMITER_KEYS);
	metrics_add_reporter(l.app.metrics, task_cache_report, l.app.task_cache);
	l.app.http = http_new(&l.app);
	if (l.app.http == NULL) {
		rc = 1;
		goto out;
	}
	for (const struct route *const *t = api_route_tables; *t != NULL; t++)
		http_add_routes(l.app.http, *t);
	if (cfg->port_file[0] != '\0' && !write_port_file(cfg->port_file, http_port(l.app.http))) {
		log_fatal("main", "could not write port file \"%s\"", cfg->port_file);
		rc = 1;
		goto out;
	}
	/* HL7 v2 over MLLP, once the HTTP port file exists */
	l.app.mllp = mllp_new(&l.app);
	if (l.app.mllp == NULL) {
		rc = 1;
		goto out;
	}
	l.ev_term = evsignal_new(l.app.base, SIGTERM, term_cb, &l);
	l.ev_int = evsignal_new(l.app.base, SIGINT, term_cb, &l);
	l.ev_hup = evsignal_new(l.app.base, SIGHUP, hup_cb, &l);
	l.ev_tick = event_new(l.app.base, -1, EV_PERSIST, tick_cb, &l);
	event_add(l.ev_term, NULL);
	event_add(l.ev_int, NULL);
	event_add(l.ev_hup, NULL);
	event_add(l.ev_tick, &second);
	{
		struct timeval probe = {0, PROBE_US};

		l.ev_probe = event_new(l.app.base, -1, EV_PERSIST, probe_cb, &l);
		l.probe_due_us = mono_us() + PROBE_US;
		event_add(l.ev_probe, &probe);
		metrics_add_reporter(l.app.metrics, lag_report, &l);
	}
	log_info("main", "listening addr=%s port=%d schema=%d", l.app.cfg->listen_addr,
	         http_port(l.app.http), l.app.migration_latest);
	l.notify = sdnotify_enabled();
	l.ready_last = -1;
	ready_check(&l);

	event_base_dispatch(l.app.base);
	log_info("main", "stopping");
out:
	/* The pool first: failed requests still reply through the HTTP server. */
	/* Streams end first (clients reconnect elsewhere), then the pool (its failed
	 * requests still reply through HTTP and may touch the hub), then the rest. */
	if (l.app.hub != NULL)
		hub_close_all(l.app.hub);
	listen_free(l.app.listen);
	l.app.listen = NULL; /* the token cache is off from here */
	work_free(l.app.work);
	/* MLLP connections close before the pool: their jobs then finish detached */
	mllp_free(l.app.mllp);
	/* the sends in progress finish and record their outcomes before the pool closes */
	messenger_free(l.app.messenger);
	db_free(l.app.db);
	webhooks_free(l.app.webhooks);
	chase_free(l.app.chase);
	oidc_free(l.app.oidc);
	notify_free(l.app.notify);
	hub_free(l.app.hub);
	http_free(l.app.http);
	auth_cache_free(l.app.auth_cache);
	task_cache_free(l.app.task_cache);
	signin_limiter_free(l.app.signin);
	if (l.ev_term != NULL) {
		event_free(l.ev_term);
		event_free(l.ev_int);
		event_free(l.ev_hup);
		event_free(l.ev_tick);
	}
	if (l.ev_drain != NULL)
		event_free(l.ev_drain);
	if (l.ev_probe != NULL)
		event_free(l.ev_probe);
	metrics_free(l.app.metrics);
	event_base_free(l.app.base);
	libevent_global_shutdown();
	config_free(l.app.cfg);
	free(l.app.cfg);
	log_info("main", "exit code=%d", rc);
	return rc;
}

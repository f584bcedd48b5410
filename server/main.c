/*
 * main.c - the carebridge binary: argument parsing, configuration loading and
 * the subcommands (serve, migrate, check-config, version).
 *
 * Configuration comes from the file named by -c/--config (or $CAREBRIDGE_CONFIG),
 * then CAREBRIDGE_<KEY> environment variables override it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cli.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "mllp.h"
#include "store_migrate.h"
#include "xmalloc.h"

#ifndef CAREBRIDGE_VERSION /* the Makefile passes debian/changelog's version */
#define CAREBRIDGE_VERSION "unknown"
#endif

extern char **environ;

static void usage(FILE *fp)
{
	fprintf(fp,
	        "usage: carebridge <command> [options]\n"
	        "\n"
	        "commands:\n"
	        "  serve         run the daemon (HTTP API, live stream, timers)\n"
	        "  migrate       apply pending database migrations\n"
	        "  check-config  validate the configuration and report every problem\n"
	        "  user          add, list and disable users; issue and revoke API tokens\n"
	        "  ward          add wards\n"
	        "  org           add, list and disable partner organisations\n"
	        "  reasons       import a new list of reasons for delay (CSV)\n"
	        "  rota          import on-call shifts (CSV, London time)\n"
	        "  report        reports as CSV or JSON: delays (the old daily DToC report),\n"
	        "                sitrep (the daily / weekly acute discharge sitrep)\n"
	        "  routes        print the HTTP route table with each route's access (JSON)\n"
	        "  version       print the version\n"
	        "\n"
	        "Run \"carebridge <command> --help\" for a command's options.\n"
	        "Every setting may be overridden by an environment variable CAREBRIDGE_<KEY>.\n");
}

/* Read a whole file; NULL with errno set on failure. */
static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (fp == NULL)
		return NULL;
	do {
		if (n + 4096 > cap) {
			cap = cap != 0 ? cap * 2 : 8192;
			buf = xrealloc(buf, cap);
		}
		r = fread(buf + n, 1, cap - n, fp);
		n += r;
	} while (r > 0);
	if (ferror(fp)) {
		int e = errno;

		fclose(fp);
		free(buf);
		errno = e;
		return NULL;
	}
	fclose(fp);
	*len = n;
	return buf;
}

/*
 * Read notify_api_key_file (if set and no key was given) into notify_api_key,
 * its trailing white space dropped; the copy read is wiped.  Prints why not
 * and returns false when the file cannot be read.  Giving both is reported by
 * config_validate.
 */
static bool notify_key_file_load(struct config *cfg)
{
	size_t len = 0;
	char *text;
	struct err err;

	if (cfg->notify_api_key_file[0] == '\0' || cfg->notify_api_key[0] != '\0')
		return true;
	text = slurp(cfg->notify_api_key_file, &len);
	if (text == NULL) {
		fprintf(stderr, "setting \"notify_api_key_file\": could not read \"%s\": %s\n",
		        cfg->notify_api_key_file, strerror(errno));
		return false;
	}
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ' ||
	                   text[len - 1] == '\t'))
		len--;
	text = xrealloc(text, len + 1);
	text[len] = '\0';
	/* a string setting: config_set cannot refuse it; config_validate checks its form */
	config_set(cfg, "notify_api_key", text, &err);
	explicit_bzero(text, len);
	free(text);
	return true;
}

/*
 * Build the configuration: defaults, then the file (if any), then the
 * environment.  Prints every problem as "where: reason"; false if any.
 */
bool cli_config_load(struct config *cfg, const char *path)
{
	struct config_errors errs = {NULL, 0}, warnings = {NULL, 0};
	bool ok = true;

	config_init(cfg);
	if (path != NULL) {
		size_t len = 0;
		char *text = slurp(path, &len);

		if (text == NULL) {
			fprintf(stderr, "%s: could not read configuration file: %s\n", path,
			        strerror(errno));
			return false;
		}
		if (config_parse(cfg, text, len, path, &errs) != ST_OK)
			ok = false;
		free(text);
	}
	if (config_apply_env(cfg, environ, &errs) != ST_OK)
		ok = false;
	if (!notify_key_file_load(cfg))
		ok = false;
	config_deprecations(cfg, &warnings);
	if (config_validate(cfg, &errs) != ST_OK)
		ok = false;
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.lines[i]);
	for (size_t i = 0; i < warnings.n; i++)
		log_warning("config", "%s", warnings.lines[i]);
	config_errors_reset(&errs);
	config_errors_reset(&warnings);
	return ok;
}

/* The configuration file named by $CAREBRIDGE_CONFIG, or NULL. */
const char *cli_default_config_path(void)
{
	const char *p = getenv("CAREBRIDGE_CONFIG");

	return p != NULL && p[0] != '\0' ? p : NULL;
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"port-file", required_argument, NULL, 'p'},
	                                     {"mllp-port-file", required_argument, NULL, 'm'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *path = cli_default_config_path(), *port_file = NULL, *mllp_port_file = NULL;
	struct config *cfg = xcalloc(1, sizeof *cfg);
	int c;

	while ((c = getopt_long(argc, argv, "c:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'p':
			port_file = optarg;
			break;
		case 'm':
			mllp_port_file = optarg;
			break;
		case 'h':
			printf(
			    "usage: carebridge serve [-c FILE] [--port-file FILE] "
			    "[--mllp-port-file FILE]\n"
			    "\n"
			    "Run the daemon: the HTTP API and pages, the live event stream and\n"
			    "the timers.  Stops gracefully on SIGTERM or SIGINT; SIGHUP re-reads\n"
			    "the configuration.\n"
			    "\n"
			    "  -c, --config FILE   configuration file (default "
			    "$CAREBRIDGE_CONFIG)\n"
			    "  --port-file FILE    write the HTTP port listened on to FILE\n"
			    "  --mllp-port-file FILE\n"
			    "                      write the HL7 (MLLP) port listened on to "
			    "FILE\n");
			free(cfg);
			return 0;
		default:
			free(cfg);
			return 2;
		}
	}
	if (!cli_config_load(cfg, path)) {
		config_free(cfg);
		free(cfg);
		return 1;
	}
	if (port_file != NULL) {
		free(cfg->port_file);
		cfg->port_file = xstrdup(port_file);
	}
	if (mllp_port_file != NULL) {
		free(cfg->mllp_port_file);
		cfg->mllp_port_file = xstrdup(mllp_port_file);
	}
	log_set_level_name(cfg->log_level);
	log_set_format_name(cfg->log_format);
	return loop_serve(cfg, path);
}

static int cmd_migrate(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"dir", required_argument, NULL, 'd'},
	                                     {"status", no_argument, NULL, 's'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *path = cli_default_config_path(), *dir = NULL;
	struct config cfg;
	bool status_only = false;
	enum migrate_mode mode;
	struct err err;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:d:sh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 's':
			status_only = true;
			break;
		case 'h':
			printf(
			    "usage: carebridge migrate [-c FILE] [--status] [--dir DIR]\n"
			    "\n"
			    "Apply the pending database migrations built into this binary, in\n"
			    "order, each in one transaction.  Running it again is a no-op.\n"
			    "Connects as database_owner_url (else database_url): the role\n"
			    "that owns the schema, never the application role.\n"
			    "\n"
			    "  -c, --config FILE   configuration file (default "
			    "$CAREBRIDGE_CONFIG)\n"
			    "  --status            list pending migrations, apply nothing\n"
			    "  --dir DIR           use the *.sql files of DIR instead (testing)\n");
			return 0;
		default:
			return 2;
		}
	}
	if (!cli_config_load(&cfg, path)) {
		config_free(&cfg);
		return 1;
	}
	log_set_level_name(cfg.log_level);
	log_set_format_name(cfg.log_format);
	mode = status_only ? MIGRATE_STATUS : MIGRATE_APPLY;
	rc = migrate_run(config_owner_url(&cfg), dir, mode, &err) == ST_OK ? 0 : 1;
	if (rc != 0)
		log_error("migrate", "%s", err.message);
	config_free(&cfg);
	return rc;
}

static int cmd_check_config(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *path = cli_default_config_path();
	struct config cfg;
	bool ok;
	int c;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			printf("usage: carebridge check-config [-c FILE]\n"
			       "\n"
			       "Validate the configuration file and CAREBRIDGE_* environment\n"
			       "variables; print each problem as \"file:line: reason\" and exit 1\n"
			       "if there is any.\n");
			return 0;
		default:
			return 2;
		}
	}
	ok = cli_config_load(&cfg, path);
	if (ok) {
		/* files named by settings are read as serve would read them */
		char *why = mllp_tls_check(&cfg);

		if (why != NULL) {
			fprintf(stderr, "%s\n", why);
			free(why);
			ok = false;
		}
	}
	config_free(&cfg);
	if (ok)
		printf("configuration is valid%s%s\n", path != NULL ? ": " : "",
		       path != NULL ? path : "");
	return ok ? 0 : 1;
}

/* carebridge routes: the route table and what each route needs, for audits and tests. */
static int cmd_routes(void)
{
	cJSON *all = http_routes_to_json(api_route_tables);
	char *text = cJSON_Print(all);

	printf("%s\n", text);
	cJSON_free(text);
	cJSON_Delete(all);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	argc--;
	argv++;
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc, argv);
	if (strcmp(cmd, "migrate") == 0)
		return cmd_migrate(argc, argv);
	if (strcmp(cmd, "check-config") == 0)
		return cmd_check_config(argc, argv);
	if (strcmp(cmd, "user") == 0)
		return cmd_user(argc, argv);
	if (strcmp(cmd, "report") == 0)
		return cmd_report(argc, argv);
	if (strcmp(cmd, "ward") == 0)
		return cmd_ward(argc, argv);
	if (strcmp(cmd, "reasons") == 0)
		return cmd_reasons(argc, argv);
	if (strcmp(cmd, "org") == 0)
		return cmd_org(argc, argv);
	if (strcmp(cmd, "rota") == 0)
		return cmd_rota(argc, argv);
	if (strcmp(cmd, "routes") == 0)
		return cmd_routes();
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("carebridge %s\n", CAREBRIDGE_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "carebridge: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}

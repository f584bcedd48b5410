/*
 * cmd_report.c - `carebridge report delays`: the daily delayed-transfers-of-care
 * report on stdout, as CSV or JSON, from the database (blocking; command line).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "report.h"
#include "store_delay.h"

enum status report_dates(const char *date, const char *from, const char *to, int64_t now,
                         int32_t *f, int32_t *t, struct err *err);

static int report_usage(FILE *fp)
{
	fprintf(fp,
	        "usage: carebridge report delays [--date YYYY-MM-DD | --from D --to D]\n"
	        "                                [--format csv|json] [-c FILE]\n"
	        "\n"
	        "Patients delayed at the midnight snapshot ending the (last) date, and delayed\n"
	        "days over the period, by reason code, attribution and ward, and the longest\n"
	        "delays.  The default date is yesterday (Europe/London).\n");
	return fp == stdout ? 0 : 2;
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"date", required_argument, NULL, 'd'},
	    {"from", required_argument, NULL, 'f'},
	    {"to", required_argument, NULL, 't'},
	    {"format", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = cli_default_config_path(), *date = NULL, *from = NULL, *to = NULL;
	const char *format = "csv";
	struct report_period *p;
	struct config cfg;
	struct err err;
	int32_t f, t;
	size_t n = 0;
	int c;

	if (argc >= 2 && strcmp(argv[1], "sitrep") == 0)
		return cmd_report_sitrep(argc - 1, argv + 1); /* server/cmd_sitrep.c */
	if (argc < 2 || strcmp(argv[1], "delays") != 0)
		return report_usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			date = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'o':
			format = optarg;
			break;
		case 'h':
			return report_usage(stdout);
		default:
			return report_usage(stderr);
		}
	}
	if (strcmp(format, "csv") != 0 && strcmp(format, "json") != 0) {
		fprintf(stderr, "carebridge: --format must be csv or json\n");
		return 2;
	}
	if (report_dates(date, from, to, (int64_t)time(NULL), &f, &t, &err) != ST_OK) {
		fprintf(stderr, "carebridge: %s\n", err.message);
		return 2;
	}
	if (!cli_config_load(&cfg, path)) {
		config_free(&cfg);
		return 1;
	}
	p = store_report_load_blocking(cfg.database_url, f, t, &n, &err);
	config_free(&cfg);
	if (p == NULL) {
		fprintf(stderr, "carebridge: %s\n", err.message);
		return 1;
	}
	if (strcmp(format, "csv") == 0) {
		char *csv = report_csv(p, n, f, t);

		fputs(csv, stdout);
		free(csv);
	} else {
		cJSON *j = report_json(p, n, f, t, 20);
		char *s = cJSON_Print(j);

		printf("%s\n", s);
		cJSON_free(s);
		cJSON_Delete(j);
	}
	free(p);
	return 0;
}

/*
 * cmd_rota.c - `carebridge rota import FILE.csv`: load on-call shifts from a
 * CSV with London wall times (blocking; command line).  The CSV's form and
 * the conversion to UTC are lib/rota's; the write and its audit row are
 * store_rota's.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "rota.h"
#include "store_rota.h"
#include "xmalloc.h"

#define ROTA_FILE_MAX (4 * 1024 * 1024)

static int rota_usage(FILE *fp)
{
	fprintf(fp, "usage: carebridge rota import FILE.csv [-c FILE]\n"
	            "\n"
	            "Import on-call shifts from a CSV file with the header\n"
	            "  " ROTA_CSV_HEADER "\n"
	            "one shift per line: site is a ward code or * (every ward), role the chase\n"
	            "target held (bed_manager, team_lead, discipline, hub, hub_lead,\n"
	            "nurse_in_charge), user a user name, start and end \"YYYY-MM-DD HH:MM\" in\n"
	            "Europe/London time (a night shift across a clock change keeps its real\n"
	            "length).  A shift already imported (same site, role, user and start) gets\n"
	            "the new end.  All or nothing: one bad line imports none.\n");
	return fp == stdout ? 0 : 2;
}

int cmd_rota(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = cli_default_config_path(), *file;
	struct rota_entry *rows = NULL;
	struct config cfg;
	struct err err;
	char *text;
	size_t len;
	FILE *fp;
	int c, n = 0, rc = 0;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return rota_usage(stdout);
	if (argc < 2 || strcmp(argv[1], "import") != 0)
		return rota_usage(stderr);
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			return rota_usage(stdout);
		default:
			return rota_usage(stderr);
		}
	}
	if (optind != argc - 1)
		return rota_usage(stderr);
	file = argv[optind];
	fp = fopen(file, "rb");
	if (fp == NULL) {
		fprintf(stderr, "carebridge: could not open \"%s\": %s\n", file, strerror(errno));
		return 1;
	}
	text = xmalloc(ROTA_FILE_MAX + 1);
	len = fread(text, 1, ROTA_FILE_MAX + 1, fp);
	if (ferror(fp) || len > ROTA_FILE_MAX) {
		fprintf(stderr, "carebridge: could not read \"%s\"\n", file);
		fclose(fp);
		free(text);
		return 1;
	}
	fclose(fp);
	err_clear(&err);
	if (rota_csv_parse(text, len, &rows, &n, &err) != ST_OK) {
		fprintf(stderr, "carebridge: %s: %s\n", file, err.message);
		free(text);
		return 1;
	}
	free(text);
	if (!cli_config_load(&cfg, path)) {
		config_free(&cfg);
		free(rows);
		return 1;
	}
	if (store_rota_import_blocking(cfg.database_url, rows, n, &err) != ST_OK) {
		fprintf(stderr, "carebridge: %s: %s\n", file, err.message);
		rc = 1;
	} else {
		printf("imported %d shift%s\n", n, n == 1 ? "" : "s");
	}
	config_free(&cfg);
	free(rows);
	return rc;
}

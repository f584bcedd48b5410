/*
 * cmd_reasons.c - `carebridge reasons import FILE`: load a new delay-reason
 * list (NHS England revises it) from CSV without a code change (blocking;
 * command line).  The CSV's form and checks are lib/reference's; the write
 * and its audit row are store_reference's.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "reference.h"
#include "store_reference.h"
#include "xmalloc.h"

#define REASONS_FILE_MAX (4 * 1024 * 1024) /* far above any list's size */

static int reasons_usage(FILE *fp)
{
	fprintf(fp,
	        "usage: carebridge reasons import FILE [--default] [--title TEXT] [-c FILE]\n"
	        "\n"
	        "Import a new list of reasons for delay from a CSV file with the header\n"
	        "  " REFERENCE_CSV_HEADER "\n"
	        "one row per reason, every row naming the same list and version; active_from\n"
	        "is YYYY-MM-DD; older_list and older_key (both or neither) name the reason of an\n"
	        "older list it replaces.  Lists are never changed once imported: a revision is\n"
	        "a new list name.  --default makes it the list new records use.\n");
	return fp == stdout ? 0 : 2;
}

/* The whole file at path (caller frees), or NULL with a message on stderr. */
static char *read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	size_t n;

	if (fp == NULL) {
		fprintf(stderr, "carebridge: could not open \"%s\": %s\n", path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(REASONS_FILE_MAX + 1);
	n = fread(buf, 1, REASONS_FILE_MAX + 1, fp);
	if (ferror(fp) || n > REASONS_FILE_MAX) {
		fprintf(stderr, "carebridge: could not read \"%s\": %s\n", path,
		        ferror(fp) ? strerror(errno) : "file is larger than 4MB");
		fclose(fp);
		free(buf);
		return NULL;
	}
	fclose(fp);
	*len = n;
	return buf;
}

int cmd_reasons(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"default", no_argument, NULL, 'd'},
	    {"title", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = cli_default_config_path(), *title = NULL, *file;
	struct reference_import imp;
	bool make_default = false;
	struct config cfg;
	struct err err;
	char *text;
	size_t len = 0;
	int c, rc;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return reasons_usage(stdout);
	if (argc < 2 || strcmp(argv[1], "import") != 0)
		return reasons_usage(stderr);
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			make_default = true;
			break;
		case 't':
			title = optarg;
			break;
		case 'h':
			return reasons_usage(stdout);
		default:
			return reasons_usage(stderr);
		}
	}
	if (optind != argc - 1)
		return reasons_usage(stderr);
	file = argv[optind];
	if ((text = read_file(file, &len)) == NULL)
		return 1;
	err_clear(&err);
	if (reference_import_from_csv(text, len, &imp, &err) != ST_OK) {
		fprintf(stderr, "carebridge: %s: %s\n", file, err.message);
		free(text);
		return 1;
	}
	free(text);
	imp.make_default = make_default;
	if (title != NULL) {
		if (strlen(title) == 0 || strlen(title) > REFERENCE_TITLE_MAX) {
			fprintf(stderr, "carebridge: --title must be 1 to %d characters\n",
			        REFERENCE_TITLE_MAX);
			reference_import_reset(&imp);
			return 2;
		}
		snprintf(imp.title, sizeof imp.title, "%s", title);
	}
	if (!cli_config_load(&cfg, path)) {
		config_free(&cfg);
		reference_import_reset(&imp);
		return 1;
	}
	if (store_reference_import_blocking(cfg.database_url, &imp, &err) != ST_OK) {
		fprintf(stderr, "carebridge: %s: %s\n", file, err.message);
		rc = 1;
	} else {
		printf("reference list \"%s\" imported: %zu reasons%s\n", imp.name, imp.nitems,
		       make_default ? " (the default)" : "");
		rc = 0;
	}
	reference_import_reset(&imp);
	config_free(&cfg);
	return rc;
}

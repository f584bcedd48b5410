/*
 * cmd_sitrep.c - `carebridge report sitrep`: the daily or weekly acute
 * discharge sitrep on stdout, as CSV or JSON, the same reply as
 * GET /api/v1/reports/sitrep (lib/sitrep), read from the database (blocking;
 * command line).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "figures_doc.h"
#include "sitrep.h"
#include "store_report.h"
#include "store_sitrep.h"

static int sitrep_usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: carebridge report sitrep [--date YYYY-MM-DD | --from D --to D |\n"
	    "                                 --week YYYY-Www] [--format csv|json] [-c FILE]\n"
	    "\n"
	    "The daily acute discharge sitrep of a date (default yesterday, Europe/London):\n"
	    "patients NCTR at the midnight snapshot; of those NCTR during the date, discharged\n"
	    "by pathway 0-3 (or not recorded) and still in hospital; with the date's latest\n"
	    "submission and its amendments.  --from/--to gives one row per date (at most\n"
	    "%d) and totals; --week the weekly sitrep (NCTR patients at the week's last\n"
	    "snapshot by primary reason and length of stay 7+, 14+, 21+).\n",
	    SITREP_MAX_DAYS);
	return fp == stdout ? 0 : 2;
}

/* Print q's reply from the facts document and the submissions (JSON text or NULL). */
static int sitrep_print(const struct sitrep_query *q, const char *facts, const char *submissions)
{
	struct figures_doc doc;
	struct err err;
	cJSON *subs = submissions != NULL ? cJSON_Parse(submissions) : NULL;
	int rc = 0;

	if (figures_doc_parse(facts, strlen(facts), &doc, &err) != ST_OK) {
		fprintf(stderr, "carebridge: could not read the report facts: %s\n", err.message);
		rc = 1;
	} else if (q->csv) {
		char *csv = sitrep_reply_csv(q, &doc, subs);

		fputs(csv, stdout);
		free(csv);
	} else {
		cJSON *j = sitrep_reply_json(q, &doc, subs);
		char *s = cJSON_Print(j);

		printf("%s\n", s);
		cJSON_free(s);
		cJSON_Delete(j);
	}
	figures_doc_free(&doc);
	cJSON_Delete(subs);
	return rc;
}

int cmd_report_sitrep(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"date", required_argument, NULL, 'd'},
	    {"from", required_argument, NULL, 'f'},   {"to", required_argument, NULL, 't'},
	    {"week", required_argument, NULL, 'w'},   {"format", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	const char *path = cli_default_config_path(), *date = NULL, *from = NULL, *to = NULL;
	const char *week = NULL, *format = "csv";
	char *facts, *subs = NULL;
	struct sitrep_query q;
	struct config cfg;
	struct err err;
	int64_t f, t;
	int c, rc;

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
		case 'w':
			week = optarg;
			break;
		case 'o':
			format = optarg;
			break;
		case 'h':
			return sitrep_usage(stdout);
		default:
			return sitrep_usage(stderr);
		}
	}
	if (optind < argc)
		return sitrep_usage(stderr);
	if (sitrep_query_parse(date, from, to, week, format, (int64_t)time(NULL), &q, &err) !=
	    ST_OK) {
		fprintf(stderr, "carebridge: --%s: %s\n", err.field, err.message);
		return 2;
	}
	if (!cli_config_load(&cfg, path)) {
		config_free(&cfg);
		return 1;
	}
	sitrep_query_span(&q, &f, &t);
	facts = store_report_facts_blocking(cfg.database_url, f, t, &err);
	if (facts != NULL && q.kind != SITREP_WEEK)
		subs = store_sitrep_latest_blocking(cfg.database_url, q.from, q.to, &err);
	config_free(&cfg);
	if (facts == NULL || (q.kind != SITREP_WEEK && subs == NULL)) {
		fprintf(stderr, "carebridge: %s\n", err.message);
		free(facts);
		return 1;
	}
	rc = sitrep_print(&q, facts, subs);
	free(facts);
	free(subs);
	return rc;
}

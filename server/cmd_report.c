/*
 * cmd_report.c - `carebridge report <name>`: the reports of issue 14 on
 * stdout, as CSV or JSON, from the database (blocking; command line).  The
 * figures and their CSV are lib/figures_report's, as the daemon serves them
 * (server/api_report.c), so both give the same numbers.
 *
 * "now" is the wall clock, or test_clock_file's time when that is set, as
 * serve reads it: a report run beside a daemon on a test clock agrees with it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cbtime.h"
#include "cli.h"
#include "config.h"
#include "figures_doc.h"
#include "figures_report.h"
#include "store_report.h"

/* The options a report subcommand may take (bits of report_opts.allowed). */
enum {
	OPT_DATES = 1 << 0, /* --date, --from, --to */
	OPT_MONTH = 1 << 1, /* --month */
	OPT_WARD = 1 << 2,  /* --ward */
};

struct report_opts {
	const char *config;           /* -c FILE */
	const char *date, *from, *to; /* delays */
	const char *month;            /* drd */
	const char *ward;             /* long-stay */
	const char *format;           /* --format csv|json, NULL = the report's default */
	struct config cfg;            /* loaded settings */
	int64_t now;                  /* the clock serve would read */
};

static int report_usage(FILE *fp)
{
	fprintf(fp,
	        "usage: carebridge report delays [--date YYYY-MM-DD | --from D --to D]\n"
	        "                                [--format csv|json] [-c FILE]\n"
	        "       carebridge report sitrep [--date D | --from D --to D | --week YYYY-Www]\n"
	        "                                [--format csv|json] [-c FILE]\n"
	        "       carebridge report drd [--month YYYY-MM] [--format csv|json] [-c FILE]\n"
	        "       carebridge report long-stay [--ward CODE] [--format json|csv] [-c FILE]\n"
	        "       carebridge report discharges [--date D | --from D --to D]\n"
	        "                                [--format csv|json] [-c FILE]\n"
	        "\n"
	        "delays: delayed days by date, ward and primary barrier reason (at each\n"
	        "  midnight snapshot), with totals and the patients delayed at the last one;\n"
	        "  the default date is yesterday (Europe/London).  CSV by default.\n"
	        "sitrep: the daily acute discharge sitrep of a date (default yesterday), every\n"
	        "  date of a range, or the weekly one of an ISO week.  CSV by default.\n"
	        "drd: discharges of the month by discharge ready date delay band, delayed bed\n"
	        "  days, average delay and share discharged on their DRD, for the trust and by\n"
	        "  ward; the default month is this one, up to now.  CSV by default.\n"
	        "long-stay: inpatients now with a length of stay of 7+ days, their NCTR state\n"
	        "  and primary barrier (names patients; the read is audited).  JSON by default.\n"
	        "discharges: discharges of a date (default today, so far) or a range, by\n"
	        "  actual pathway and coded destination, with totals.  CSV by default.\n"
	        "See docs/REPORTS.md for every figure's rule.\n");
	return fp == stdout ? 0 : 2;
}

/*
 * Parse argv (argv[0] is the report's name) into o and load the settings: 0,
 * -1 after printing the help, or the exit status of a failure.
 */
static int report_parse(int argc, char **argv, unsigned allowed, struct report_opts *o)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"date", required_argument, NULL, 'd'},
	    {"from", required_argument, NULL, 'f'},
	    {"to", required_argument, NULL, 't'},
	    {"month", required_argument, NULL, 'm'},
	    {"ward", required_argument, NULL, 'w'},
	    {"format", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct app app;
	int c;

	memset(o, 0, sizeof *o);
	optind = 1;
	o->config = cli_default_config_path();
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		unsigned need = c == 'd' || c == 'f' || c == 't' ? OPT_DATES
		                : c == 'm'                       ? OPT_MONTH
		                : c == 'w'                       ? OPT_WARD
		                                                 : 0;

		if (need != 0 && (allowed & need) == 0) {
			fprintf(stderr, "carebridge: report %s takes no --%s\n", argv[0],
			        opts[c == 'd'   ? 1
			             : c == 'f' ? 2
			             : c == 't' ? 3
			             : c == 'm' ? 4
			                        : 5]
			            .name);
			return 2;
		}
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'd':
			o->date = optarg;
			break;
		case 'f':
			o->from = optarg;
			break;
		case 't':
			o->to = optarg;
			break;
		case 'm':
			o->month = optarg;
			break;
		case 'w':
			o->ward = optarg;
			break;
		case 'o':
			o->format = optarg;
			break;
		case 'h':
			report_usage(stdout);
			return -1;
		default:
			return report_usage(stderr);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "carebridge: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (!cli_config_load(&o->cfg, o->config)) {
		config_free(&o->cfg);
		return 1;
	}
	memset(&app, 0, sizeof app);
	app.cfg = &o->cfg;
	app_clock_refresh(&app);
	o->now = app_now(&app);
	return 0;
}

/* Read and parse the facts of [from, to]; false (after saying why) on failure. */
static bool report_facts(struct report_opts *o, int64_t from, int64_t to, struct figures_doc *doc)
{
	struct err err;
	char *json;

	memset(doc, 0, sizeof *doc);
	json = store_report_facts_blocking(o->cfg.database_url, from, to, &err);
	if (json == NULL) {
		fprintf(stderr, "carebridge: %s\n", err.message);
		return false;
	}
	if (figures_doc_parse(json, strlen(json), doc, &err) != ST_OK) {
		fprintf(stderr, "carebridge: could not read the report facts: %s\n", err.message);
		free(json);
		return false;
	}
	free(json); /* the document keeps its own parsed copy */
	return true;
}

/* Print j (owned) as indented JSON, or csv (owned) as is. */
static void report_print(cJSON *j, char *csv)
{
	if (j != NULL) {
		char *s = cJSON_Print(j);

		printf("%s\n", s);
		cJSON_free(s);
		cJSON_Delete(j);
	}
	if (csv != NULL) {
		fputs(csv, stdout);
		free(csv);
	}
}

/* The format asked for, csv_default when none; false (after saying why) on a bad one. */
static bool report_format(const struct report_opts *o, bool csv_default, bool *csv)
{
	struct err err;

	if (o->format == NULL) {
		*csv = csv_default;
		return true;
	}
	if (figures_report_format(o->format, csv, &err) != ST_OK) {
		fprintf(stderr, "carebridge: --format must be csv or json\n");
		return false;
	}
	return true;
}

static int report_delays(int argc, char **argv)
{
	struct report_opts o;
	struct figures_doc doc;
	struct err err;
	int32_t first, last;
	bool csv;
	int rc = report_parse(argc, argv, OPT_DATES, &o);

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	rc = 2;
	if (!report_format(&o, true, &csv))
		goto out;
	if (figures_report_dates(o.date, o.from, o.to, o.now, &first, &last, &err) != ST_OK) {
		fprintf(stderr, "carebridge: %s\n", err.message);
		goto out;
	}
	rc = 1;
	if (!report_facts(&o, london_snapshot(first - 1), london_snapshot(last), &doc))
		goto out;
	if (csv)
		report_print(NULL, figures_delays_csv(&doc, first, last));
	else
		report_print(figures_delays_json(&doc, first, last), NULL);
	figures_doc_free(&doc);
	rc = 0;
out:
	config_free(&o.cfg);
	return rc;
}

static int report_discharges(int argc, char **argv)
{
	struct report_opts o;
	struct figures_doc doc;
	struct err err;
	int32_t first, last;
	int64_t to;
	bool csv;
	int rc = report_parse(argc, argv, OPT_DATES, &o);

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	rc = 2;
	if (!report_format(&o, true, &csv))
		goto out;
	if (figures_report_discharge_dates(o.date, o.from, o.to, o.now, &first, &last, &err) !=
	    ST_OK) {
		fprintf(stderr, "carebridge: %s\n", err.message);
		goto out;
	}
	rc = 1;
	to = london_snapshot(last);
	if (!report_facts(&o, london_snapshot(first - 1), to < o.now ? to : o.now, &doc))
		goto out;
	if (csv)
		report_print(NULL, figures_discharges_csv(&doc, first, last, NULL));
	else
		report_print(figures_discharges_json(&doc, first, last, NULL), NULL);
	figures_doc_free(&doc);
	rc = 0;
out:
	config_free(&o.cfg);
	return rc;
}

static int report_drd(int argc, char **argv)
{
	struct report_opts o;
	struct figures_doc doc;
	struct err err;
	int32_t first, last;
	int64_t to;
	int year, month;
	bool csv;
	cJSON *j;
	int rc = report_parse(argc, argv, OPT_MONTH, &o);

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	rc = 2;
	if (!report_format(&o, true, &csv))
		goto out;
	if (figures_report_month(o.month, o.now, &year, &month, &first, &last, &err) != ST_OK) {
		fprintf(stderr, "carebridge: %s\n", err.message);
		goto out;
	}
	rc = 1;
	to = london_snapshot(last);
	if (!report_facts(&o, london_snapshot(first - 1), to < o.now ? to : o.now, &doc))
		goto out;
	j = figures_drd_json(&doc, year, month, london_date(o.now) - 1);
	if (csv) {
		report_print(NULL, figures_drd_csv(j));
		cJSON_Delete(j);
	} else {
		report_print(j, NULL);
	}
	figures_doc_free(&doc);
	rc = 0;
out:
	config_free(&o.cfg);
	return rc;
}

static int report_long_stay(int argc, char **argv)
{
	struct report_opts o;
	struct figures_doc doc;
	struct err err;
	const char *wards[1];
	char *ids_text, *detail_text, *patients_text;
	cJSON *j, *ids, *detail, *patients, *p;
	bool csv;
	int rc = report_parse(argc, argv, OPT_WARD, &o);

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	rc = 2;
	if (!report_format(&o, false, &csv))
		goto out;
	if (o.ward != NULL && figures_report_ward(o.ward, &err) != ST_OK) {
		fprintf(stderr, "carebridge: %s\n", err.message);
		goto out;
	}
	rc = 1;
	if (!report_facts(&o, o.now, o.now, &doc))
		goto out;
	wards[0] = o.ward;
	j = figures_long_stay_json(&doc, o.now, o.ward != NULL ? wards : NULL, 1);
	figures_doc_free(&doc);
	ids = cJSON_CreateArray();
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(j, "patients"))
	{
		cJSON_AddItemToArray(ids, cJSON_Duplicate(cJSON_GetObjectItem(p, "episode_id"), 1));
	}
	detail = cJSON_CreateObject();
	cJSON_AddStringToObject(detail, "wards", o.ward != NULL ? o.ward : "*");
	cJSON_AddItemToObject(detail, "episodes", cJSON_Duplicate(ids, true));
	cJSON_AddStringToObject(detail, "via", "cli");
	ids_text = cJSON_PrintUnformatted(ids);
	detail_text = cJSON_PrintUnformatted(detail);
	patients_text = store_report_patients_blocking(
	    o.cfg.database_url, ids_text, "report.long_stay", detail_text, "carebridge-cli", &err);
	cJSON_free(ids_text);
	cJSON_free(detail_text);
	cJSON_Delete(ids);
	cJSON_Delete(detail);
	if (patients_text == NULL) {
		fprintf(stderr, "carebridge: %s\n", err.message);
		cJSON_Delete(j);
		goto out;
	}
	patients = cJSON_Parse(patients_text);
	free(patients_text);
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(j, "patients"))
	{
		const char *id = cJSON_GetObjectItem(p, "episode_id")->valuestring;
		cJSON *pt = cJSON_DetachItemFromObjectCaseSensitive(patients, id);

		cJSON_AddItemToObject(p, "patient", pt != NULL ? pt : cJSON_CreateNull());
	}
	cJSON_Delete(patients);
	if (csv) {
		report_print(NULL, figures_long_stay_csv(j));
		cJSON_Delete(j);
	} else {
		report_print(j, NULL);
	}
	rc = 0;
out:
	config_free(&o.cfg);
	return rc;
}

/* The reports, by the name after `carebridge report`. */
static const struct report_cmd {
	const char *name;                  /* argv[1] */
	int (*run)(int argc, char **argv); /* gets argv from the name on */
} report_cmds[] = {
    {"delays", report_delays},
    {"sitrep", cmd_report_sitrep}, /* server/cmd_sitrep.c */
    {"drd", report_drd},
    {"long-stay", report_long_stay},
    {"discharges", report_discharges},
    {NULL, NULL},
};

int cmd_report(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return report_usage(stdout);
	for (const struct report_cmd *c = report_cmds; argc >= 2 && c->name != NULL; c++)
		if (strcmp(argv[1], c->name) == 0)
			return c->run(argc - 1, argv + 1);
	return report_usage(stderr);
}

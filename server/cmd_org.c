/*
 * cmd_org.c - `carebridge org add|list|disable`: the partner organisations
 * (care transfer hubs, councils, providers) from the command line (blocking;
 * never in serve).  What makes one valid is lib/organisation's; the writes
 * and their audit rows (actor "cli") are store_user's.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "config.h"
#include "organisation.h"
#include "store_user.h"
#include "xmalloc.h"

static int org_usage(FILE *fp)
{
	fprintf(fp, "usage: carebridge org add --code CODE --name NAME --kind KIND\n"
	            "                          [--service KIND ...] [--local-authority ORG]\n"
	            "       carebridge org list\n"
	            "       carebridge org disable ORG   (or: --code ORG)\n"
	            "\n"
	            "KIND is local_authority, hub or provider (the trust exists already).  A\n"
	            "provider lists what it provides with --service: home_care, reablement,\n"
	            "intermediate_care_bed, care_home, equipment, other.  --local-authority names\n"
	            "the council a hub or provider works for.  ORG is an organisation's code or\n"
	            "id.  A disabled organisation's users can no longer sign in and its webhooks\n"
	            "deliver nothing.  All take -c FILE for the configuration.\n");
	return fp == stdout ? 0 : 2;
}

static int org_fail(const struct err *err)
{
	fprintf(stderr, "carebridge: %s\n", err->message);
	return 1;
}

/* Validate and add; returns the exit code. */
static int org_add(struct cli_db *db, const char *code, const char *name, const char *kind_name,
                   const char *const *services, int nservices, const char *la)
{
	enum referral_service_kind kinds[REFERRAL_SERVICE_KIND_COUNT];
	struct organisation_fields f = {0};
	struct cli_organisation council;
	enum organisation_kind kind;
	cJSON *arr;
	char *json, id[37];
	struct err err;
	enum status st;

	if (organisation_kind_parse(kind_name, &kind, &err) != ST_OK)
		return org_fail(&err);
	if (kind == ORGANISATION_TRUST) {
		fprintf(stderr, "carebridge: there is one trust; add a local_authority, hub or "
		                "provider\n");
		return 2;
	}
	if (nservices > REFERRAL_SERVICE_KIND_COUNT) {
		fprintf(stderr, "carebridge: a service is listed twice\n");
		return 2;
	}
	for (int i = 0; i < nservices; i++)
		if (referral_service_kind_parse(services[i], &kinds[i], &err) != ST_OK) {
			fprintf(stderr, "carebridge: unknown service \"%s\"\n", services[i]);
			return 2;
		}
	memset(&council, 0, sizeof council);
	if (la != NULL && cli_organisation_find(db, la, &council, &err) != ST_OK)
		return org_fail(&err);
	f.code = code;
	f.name = name;
	f.kind = kind;
	f.services = kinds;
	f.nservices = (size_t)nservices;
	if (la != NULL)
		f.local_authority_kind = council.found && !council.disabled ? council.kind : "";
	if (organisation_validate(&f, &err) != ST_OK)
		return org_fail(&err);
	arr = cJSON_CreateArray();
	for (int i = 0; i < nservices; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(referral_service_kind_name(kinds[i])));
	json = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	st = cli_organisation_add(db, code, name, organisation_kind_name(kind), json,
	                          la != NULL ? council.id : NULL, id, &err);
	cJSON_free(json);
	if (st != ST_OK)
		return org_fail(&err);
	printf("organisation \"%s\" added: id %s\n", code, id);
	return 0;
}

int cmd_org(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"code", required_argument, NULL, 'k'},
	    {"name", required_argument, NULL, 'n'},
	    {"kind", required_argument, NULL, 't'},
	    {"service", required_argument, NULL, 's'},
	    {"local-authority", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = cli_default_config_path(), *code = NULL, *name = NULL, *kind = NULL;
	const char *la = NULL, *sub;
	const char *services[REFERRAL_SERVICE_KIND_COUNT + 1];
	int nservices = 0, c, rc = 1;
	struct cli_organisation o;
	struct cli_db *db = NULL;
	struct config cfg;
	struct err err;

	if (argc < 2)
		return org_usage(stderr);
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)
		return org_usage(stdout);
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'k':
			code = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 't':
			kind = optarg;
			break;
		case 's':
			if (nservices > REFERRAL_SERVICE_KIND_COUNT) {
				fprintf(stderr, "carebridge: a service is listed twice\n");
				return 2;
			}
			services[nservices++] = optarg;
			break;
		case 'l':
			la = optarg;
			break;
		case 'h':
			return org_usage(stdout);
		default:
			return org_usage(stderr);
		}
	}
	if (strcmp(sub, "disable") == 0 && code == NULL && optind < argc)
		code = argv[optind];
	if (strcmp(sub, "add") == 0 && (code == NULL || name == NULL || kind == NULL)) {
		fprintf(stderr, "carebridge: org add needs --code, --name and --kind\n");
		return 2;
	}
	if (strcmp(sub, "disable") == 0 && code == NULL) {
		fprintf(stderr, "carebridge: org disable needs an organisation\n");
		return 2;
	}
	if (strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "disable") != 0)
		return org_usage(stderr);
	if (!cli_config_load(&cfg, path)) {
		config_free(&cfg);
		return 1;
	}
	db = cli_db_open(cfg.database_url, &err);
	if (db == NULL) {
		rc = org_fail(&err);
	} else if (strcmp(sub, "add") == 0) {
		rc = org_add(db, code, name, kind, services, nservices, la);
	} else if (strcmp(sub, "list") == 0) {
		rc = cli_organisation_list(db, stdout, &err) == ST_OK ? 0 : org_fail(&err);
	} else if (cli_organisation_find(db, code, &o, &err) != ST_OK) {
		rc = org_fail(&err);
	} else if (!o.found) {
		fprintf(stderr, "carebridge: organisation \"%s\" does not exist\n", code);
		rc = 1;
	} else if (cli_organisation_disable(db, o.id, &err) != ST_OK) {
		rc = org_fail(&err);
	} else {
		printf("organisation \"%s\" disabled; its users can no longer sign in\n", o.code);
		rc = 0;
	}
	cli_db_close(db);
	config_free(&cfg);
	return rc;
}

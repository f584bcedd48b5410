/*
 * config_test.c - the settings table, INI parsing, environment overrides, and
 * that config/carebridge.conf documents every key with its default.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "xmalloc.h"

static void test_durations(void **state)
{
	static const struct {
		const char *in;
		bool ok;
		int64_t ms;
	} cases[] = {
	    {"500ms", true, 500},    {"30s", true, 30000},
	    {"5min", true, 300000},  {"5m", true, 300000},
	    {"2h", true, 7200000},   {"1d", true, 86400000},
	    {" 10 s", true, 10000},  {"10", false, 0},
	    {"s", false, 0},         {"-5s", false, 0},
	    {"5 parsecs", false, 0}, {"", false, 0},
	    {"1.5s", false, 0},      {"99999999999999999999s", false, 0},
	};

	for (size_t i = 0; i < nitems(cases); i++) {
		int64_t ms = -1;

		assert_int_equal(config_parse_duration(cases[i].in, &ms), cases[i].ok);
		if (cases[i].ok)
			assert_int_equal(ms, cases[i].ms);
	}
}

static void test_sizes(void **state)
{
	static const struct {
		const char *in;
		bool ok;
		int64_t bytes;
	} cases[] = {
	    {"512", true, 512},          {"512B", true, 512},
	    {"16kB", true, 16384},       {"1MB", true, 1048576},
	    {"2GB", true, 2147483648LL}, {"1 MB", true, 1048576},
	    {"1mb", false, 0},           {"MB", false, 0},
	    {"1TB", false, 0},
	};

	for (size_t i = 0; i < nitems(cases); i++) {
		int64_t b = -1;

		assert_int_equal(config_parse_size(cases[i].in, &b), cases[i].ok);
		if (cases[i].ok)
			assert_int_equal(b, cases[i].bytes);
	}
}

static void test_defaults_are_valid(void **state)
{
	struct config cfg;
	struct config_errors errs = {NULL, 0};

	config_init(&cfg);
	assert_string_equal(cfg.listen_addr, "127.0.0.1");
	assert_int_equal(cfg.listen_port, 8080);
	assert_int_equal(cfg.http_timeout_ms, 30000);
	assert_int_equal(cfg.max_body_size, 1048576);
	assert_true(cfg.migrate_on_start);
	assert_int_equal(config_validate(&cfg, &errs), ST_OK);
	assert_int_equal(errs.n, 0);
	config_free(&cfg);
}

static void test_parse_reports_every_error_with_line(void **state)
{
	static const char text[] = "# comment\n"
				   "[server]\n"
				   "listen_port = 70000\n"
				   "http_timeout = 5 parsecs\n"
				   "colour = blue\n"
				   "\n"
				   "[database]\n"
				   "listen_addr = 10.0.0.1\n"
				   "db_pool_size = 8\n"
				   "garbage line\n";
	struct config cfg;
	struct config_errors errs = {NULL, 0};

	config_init(&cfg);
	assert_int_equal(config_parse(&cfg, text, strlen(text), "x.conf", &errs), ST_INVALID);
	assert_int_equal(errs.n, 5);
	assert_string_equal(errs.lines[0], "x.conf:3: invalid value \"70000\" for \"listen_port\": "
	                                   "must be between 0 and 65535");
	assert_non_null(strstr(errs.lines[1], "x.conf:4: "));
	assert_non_null(strstr(errs.lines[1], "not a duration"));
	assert_string_equal(errs.lines[2], "x.conf:5: unknown setting \"colour\"");
	assert_string_equal(errs.lines[3],
	                    "x.conf:8: setting \"listen_addr\" belongs in section [server]");
	assert_string_equal(errs.lines[4], "x.conf:10: expected \"key = value\"");
	/* the valid line still took effect; the invalid ones did not */
	assert_int_equal(cfg.db_pool_size, 8);
	assert_int_equal(cfg.listen_port, 8080);
	config_errors_reset(&errs);
	config_free(&cfg);
}

/* migrate connects as the owner when one is configured, else as database_url's role. */
static void test_owner_url_falls_back_to_database_url(void **state)
{
	struct config cfg;
	struct err err;

	config_init(&cfg);
	assert_int_equal(config_set(&cfg, "database_url", "user=app dbname=cb", &err), ST_OK);
	assert_string_equal(config_owner_url(&cfg), "user=app dbname=cb");
	assert_int_equal(config_set(&cfg, "database_owner_url", "user=owner dbname=cb", &err),
	                 ST_OK);
	assert_string_equal(config_owner_url(&cfg), "user=owner dbname=cb");
	assert_string_equal(cfg.database_url, "user=app dbname=cb");
	config_free(&cfg);
}

static void test_env_overrides(void **state)
{
	static char e0[] = "PATH=/bin", e1[] = "CAREBRIDGE_LISTEN_PORT=9090",
		    e2[] = "CAREBRIDGE_LOG_LEVEL=debug",
		    e3[] = "CAREBRIDGE_CONFIG=/etc/carebridge.conf",
		    e4[] = "CAREBRIDGE_HTTP_TIMEOUT=forever", e5[] = "CAREBRIDGE_NOPE=1";
	char *env[] = {e0, e1, e2, e3, e4, e5, NULL};
	struct config cfg;
	struct config_errors errs = {NULL, 0};

	config_init(&cfg);
	assert_int_equal(config_apply_env(&cfg, env, &errs), ST_INVALID);
	assert_int_equal(cfg.listen_port, 9090);
	assert_string_equal(cfg.log_level, "debug");
	assert_int_equal(errs.n, 2);
	assert_non_null(strstr(errs.lines[0], "environment CAREBRIDGE_HTTP_TIMEOUT: "));
	assert_string_equal(errs.lines[1], "environment CAREBRIDGE_NOPE: unknown setting \"nope\"");
	config_errors_reset(&errs);
	config_free(&cfg);
}

static void test_validate(void **state)
{
	struct config cfg;
	struct config_errors errs = {NULL, 0};
	struct err err;

	config_init(&cfg);
	assert_int_equal(config_set(&cfg, "listen_addr", "::1", &err), ST_OK);
	assert_int_equal(config_validate(&cfg, &errs), ST_OK);
	assert_int_equal(config_set(&cfg, "listen_addr", "example.org", &err), ST_OK);
	assert_int_equal(config_set(&cfg, "database_url", "", &err), ST_OK);
	assert_int_equal(config_validate(&cfg, &errs), ST_INVALID);
	assert_int_equal(errs.n, 2);
	assert_int_equal(config_set(&cfg, "log_level", "loud", &err), ST_INVALID);
	assert_string_equal(err.field, "log_level");
	assert_int_equal(config_set(&cfg, "migrate_on_start", "maybe", &err), ST_INVALID);
	config_errors_reset(&errs);
	config_free(&cfg);
}

static void test_loopback_and_lists(void **state)
{
	static const struct {
		const char *addr;
		bool loopback;
	} cases[] = {
	    {"127.0.0.1", true},  {"127.9.8.7", true},
	    {"::1", true},        {"::ffff:127.0.0.1", true},
	    {"0.0.0.0", false},   {"::", false},
	    {"10.0.0.1", false},  {"::ffff:10.0.0.1", false},
	    {"128.0.0.1", false}, {"localhost", false},
	    {"", false},
	};

	for (size_t i = 0; i < nitems(cases); i++)
		assert_int_equal(config_addr_is_loopback(cases[i].addr), cases[i].loopback);
	assert_true(config_list_contains("pas-engine, adt backup ,x", "adt backup"));
	assert_true(config_list_contains("pas-engine", "pas-engine"));
	assert_false(config_list_contains("pas-engine", "pas"));
	assert_false(config_list_contains("pas-engine", "PAS-ENGINE"));
	assert_false(config_list_contains("", ""));
}

/* Validate text (an [hl7] section); the number of problems, the first in *first (owned). */
static size_t validate_hl7(const char *text, char **first)
{
	struct config cfg;
	struct config_errors errs = {NULL, 0};
	char *conf = xasprintf("[hl7]\n%s", text);
	size_t n;

	config_init(&cfg);
	assert_int_equal(config_parse(&cfg, conf, strlen(conf), "h.conf", &errs), ST_OK);
	config_validate(&cfg, &errs);
	n = errs.n;
	*first = n > 0 ? xstrdup(errs.lines[0]) : NULL;
	config_errors_reset(&errs);
	config_free(&cfg);
	free(conf);
	return n;
}

static void test_validate_mllp(void **state)
{
	static const struct {
		const char *text;
		size_t errors;
		const char *first; /* the start of the first problem */
	} cases[] = {
	    {"mllp_listen_addr = 127.0.0.1\n", 0, NULL},
	    {"mllp_listen_addr = ::1\n", 0, NULL},
	    {"mllp_port = 1\nmllp_listen_addr = 0.0.0.0\n", 1,
	     "h.conf:3: mllp_listen_addr \"0.0.0.0\" is not a loopback address and mllp_allow "
	     "is empty"},
	    {"mllp_listen_addr = 10.0.0.5\nmllp_allow = \" \"\n", 1, "h.conf:3: invalid value"},
	    {"mllp_listen_addr = 10.0.0.5\nmllp_allow = 10.0.0.9\n", 0, NULL},
	    {"mllp_listen_addr = ::\nmllp_allow = any\n", 0, NULL},
	    {"mllp_listen_addr = ::\nmllp_allow =  Any \n", 0, NULL},
	    {"mllp_allow = any, 10.0.0.1\n", 1, "h.conf:2: invalid value"},
	    {"mllp_allow = anywhere\n", 1, "h.conf:2: invalid value"},
	    /* TLS settings belong together */
	    {"mllp_tls = on\n", 2, "h.conf:2: mllp_tls is on: mllp_tls_cert_file"},
	    {"mllp_tls = on\nmllp_tls_cert_file = c\nmllp_tls_key_file = k\n", 1,
	     "h.conf:2: mllp_tls is on and mllp_tls_require_client_cert is on"},
	    {"mllp_tls = on\nmllp_tls_cert_file = c\nmllp_tls_key_file = k\n"
	     "mllp_tls_require_client_cert = off\n",
	     0, NULL},
	    {"mllp_tls = on\nmllp_tls_cert_file = c\nmllp_tls_key_file = k\nmllp_tls_ca_file = a\n"
	     "mllp_tls_allowed_clients = pas, lab\n",
	     0, NULL},
	    {"mllp_tls = on\nmllp_tls_cert_file = c\nmllp_tls_key_file = k\nmllp_tls_ca_file = a\n"
	     "mllp_tls_allowed_clients = pas,,lab\n",
	     1, "h.conf:6: invalid value for \"mllp_tls_allowed_clients\""},
	    {"mllp_tls = on\nmllp_tls_cert_file = c\nmllp_tls_key_file = k\n"
	     "mllp_tls_require_client_cert = off\nmllp_tls_allowed_clients = pas\n",
	     1, "h.conf:6: mllp_tls_allowed_clients needs mllp_tls_require_client_cert = on"},
	    {"mllp_tls_cert_file = c\nmllp_tls_ca_file = a\n", 2,
	     "h.conf:2: mllp_tls_cert_file is set but mllp_tls is off"},
	};

	for (size_t i = 0; i < nitems(cases); i++) {
		char *first = NULL;
		size_t n = validate_hl7(cases[i].text, &first);

		if (n != cases[i].errors)
			fail_msg("case %zu: %zu problems, first \"%s\"", i, n,
			         first != NULL ? first : "");
		if (cases[i].first != NULL &&
		    strncmp(first, cases[i].first, strlen(cases[i].first)) != 0)
			fail_msg("case %zu: \"%s\"", i, first);
		free(first);
	}
}

/* GOV.UK Notify (issue 17): the key's form, one source of it, a secure URL, UUID templates. */
static void test_validate_notify(void **state)
{
#define NK "k-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0"
	static const struct {
		const char *text;
		size_t errors;
		const char *first; /* the start of the first problem */
	} cases[] = {
	    {"", 0, NULL},
	    {"notify_api_key = " NK "\n", 0, NULL},
	    {"notify_api_key = " NK "\nnotify_base_url = http://127.0.0.1:9/\n", 0, NULL},
	    {"notify_api_key = k-3d844edf-8d35-48ac-975b-e847b4f122b0\n", 1,
	     "n.conf:2: GOV.UK Notify API key is too short"},
	    {"notify_api_key = " NK "\nnotify_api_key_file = /etc/k\n", 1,
	     "n.conf:3: give notify_api_key or notify_api_key_file, not both"},
	    {"notify_base_url = http://api.notifications.service.gov.uk\n", 1,
	     "n.conf:2: notify_base_url must be an https:// URL"},
	    {"notify_email_template_id = f33517ff-2a88-4f6e-b855-c550268ce08a\n"
	     "notify_sms_template_id = nope\n",
	     1, "n.conf:3: notify_sms_template_id \"nope\" is not a UUID"},
	};

	for (size_t i = 0; i < nitems(cases); i++) {
		struct config cfg;
		struct config_errors errs = {NULL, 0};
		char *conf = xasprintf("[notify]\n%s", cases[i].text);

		config_init(&cfg);
		assert_int_equal(config_parse(&cfg, conf, strlen(conf), "n.conf", &errs), ST_OK);
		config_validate(&cfg, &errs);
		if (errs.n != cases[i].errors)
			fail_msg("case %zu: %zu problems, first \"%s\"", i, errs.n,
			         errs.n > 0 ? errs.lines[0] : "");
		if (cases[i].first != NULL &&
		    strncmp(errs.lines[0], cases[i].first, strlen(cases[i].first)) != 0)
			fail_msg("case %zu: \"%s\"", i, errs.lines[0]);
		/* the key is never quoted */
		for (size_t j = 0; j < errs.n; j++)
			assert_null(strstr(errs.lines[j], "3d844edf"));
		config_errors_reset(&errs);
		config_free(&cfg);
		free(conf);
	}
#undef NK
}

/* delay_reason_chase_after (issue 14) is read as barrier_chase_after, with a warning. */
static void test_deprecated_alias(void **state)
{
	static const char old[] = "[chase]\ndelay_reason_chase_after = 1h\n";
	static const char both[] = "[chase]\ndelay_reason_chase_after = 1h\n"
				   "barrier_chase_after = 2h\n";
	struct config cfg;
	struct config_errors errs = {NULL, 0}, warns = {NULL, 0};

	/* not written down: nothing said, the default stays */
	config_init(&cfg);
	config_deprecations(&cfg, &warns);
	assert_int_equal(warns.n, 0);
	assert_int_equal(cfg.barrier_chase_after_ms, 4 * 3600 * 1000LL);
	config_free(&cfg);
	/* the old key alone: its value is used */
	config_init(&cfg);
	assert_int_equal(config_parse(&cfg, old, strlen(old), "a.conf", &errs), ST_OK);
	config_deprecations(&cfg, &warns);
	assert_int_equal(cfg.barrier_chase_after_ms, 3600 * 1000LL);
	assert_int_equal(warns.n, 1);
	assert_string_equal(
	    warns.lines[0],
	    "a.conf:2: setting \"delay_reason_chase_after\" is deprecated: its value "
	    "is used for \"barrier_chase_after\"; rename it");
	assert_int_equal(config_validate(&cfg, &errs), ST_OK);
	config_errors_reset(&warns);
	config_free(&cfg);
	/* both: the new one wins */
	config_init(&cfg);
	assert_int_equal(config_parse(&cfg, both, strlen(both), "b.conf", &errs), ST_OK);
	config_deprecations(&cfg, &warns);
	assert_int_equal(cfg.barrier_chase_after_ms, 2 * 3600 * 1000LL);
	assert_int_equal(warns.n, 1);
	assert_string_equal(warns.lines[0],
	                    "b.conf:2: setting \"delay_reason_chase_after\" is "
	                    "deprecated and ignored: \"barrier_chase_after\" is set");
	config_errors_reset(&warns);
	config_errors_reset(&errs);
	config_free(&cfg);
}

/* Issue 15: where HL7 carries the likely pathway, and carebridge's FHIR base. */
static void test_validate_hl7_pathway_and_fhir_base(void **state)
{
	static const struct {
		const char *key, *value, *message; /* message NULL: valid */
	} cases[] = {
	    {"hl7_pathway_field", "ZCB-1", NULL},
	    {"hl7_pathway_field", "PV2-45.2", NULL},
	    {"hl7_pathway_field", "", NULL},
	    {"hl7_pathway_field", "ZCB-?",
	     "setting \"hl7_pathway_field\": invalid value for \"hl7_pathway_field\": \"ZCB-?\" "
	     "is not an HL7 field such as \"ZCB-1\" or \"PV2-45.2\" (segment-field[.component])"},
	    {"hl7_pathway_field", "zcb-1", "\"zcb-1\" is not an HL7 field"},
	    {"fhir_base_url", "", NULL},
	    {"fhir_base_url", "https://rx1.nhs.uk/carebridge/fhir", NULL},
	    {"fhir_base_url", "https://rx1.nhs.uk/fhir/",
	     "setting \"fhir_base_url\": invalid value \"https://rx1.nhs.uk/fhir/\" for "
	     "\"fhir_base_url\": not an absolute http:// or https:// URL without a trailing \"/\", "
	     "query or fragment"},
	    {"fhir_base_url", "rx1.nhs.uk/fhir", "for \"fhir_base_url\": not an absolute"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct config cfg;
		struct config_errors errs = {NULL, 0};
		struct err err;

		config_init(&cfg);
		assert_int_equal(config_set(&cfg, cases[i].key, cases[i].value, &err), ST_OK);
		if (cases[i].message == NULL) {
			assert_int_equal(config_validate(&cfg, &errs), ST_OK);
		} else {
			assert_int_equal(config_validate(&cfg, &errs), ST_INVALID);
			assert_int_equal(errs.n, 1);
			if (strstr(errs.lines[0], cases[i].message) == NULL)
				fail_msg("case %zu: %s", i, errs.lines[0]);
		}
		config_errors_reset(&errs);
		config_free(&cfg);
	}
}

static void test_origin(void **state)
{
	static const char text[] = "[hl7]\nmllp_port = 1\nmllp_port = 2\n";
	static char e1[] = "CAREBRIDGE_MLLP_LISTEN_ADDR=0.0.0.0";
	char *env[] = {e1, NULL};
	struct config cfg;
	struct config_errors errs = {NULL, 0};
	struct err err;

	config_init(&cfg);
	assert_null(config_origin(&cfg, "mllp_port"));
	assert_int_equal(config_parse(&cfg, text, strlen(text), "o.conf", &errs), ST_OK);
	assert_string_equal(config_origin(&cfg, "mllp_port"), "o.conf:3");
	assert_null(config_origin(&cfg, "mllp_allow"));
	assert_null(config_origin(&cfg, "no_such_key"));
	assert_int_equal(config_apply_env(&cfg, env, &errs), ST_OK);
	assert_string_equal(config_origin(&cfg, "mllp_listen_addr"),
	                    "environment CAREBRIDGE_MLLP_LISTEN_ADDR");
	assert_int_equal(config_validate(&cfg, &errs), ST_INVALID);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.lines[0], "environment CAREBRIDGE_MLLP_LISTEN_ADDR: "));
	config_errors_reset(&errs);
	/* set by config_set (no origin): named by its key */
	assert_int_equal(config_set(&cfg, "mllp_allow", "nope", &err), ST_OK);
	assert_int_equal(config_validate(&cfg, &errs), ST_INVALID);
	assert_non_null(strstr(errs.lines[0], "setting \"mllp_allow\": invalid value"));
	config_errors_reset(&errs);
	config_free(&cfg);
	config_free(&cfg); /* twice is fine */
}

/*
 * Sessions in clear text only on loopback: a non-loopback listen_addr needs
 * cookie_secure on and an explicit public_origin; an origin must be one.
 */
static void test_validate_cookie_and_origin(void **state)
{
	static const struct {
		const char *addr, *secure, *origin;
		size_t nerrs; /* problems reported */
		const char *first;
	} cases[] = {
	    {"127.0.0.1", "off", "", 0, NULL},
	    {"127.0.0.2", "off", "", 0, NULL},
	    {"::1", "off", "", 0, NULL},
	    {"127.0.0.1", "on", "", 0, NULL},
	    {"0.0.0.0", "off", "https://cb.example.nhs.uk", 1,
	     "setting \"cookie_secure\": must be on when listen_addr \"0.0.0.0\" is not a "
	     "loopback address (sessions would travel in clear text)"},
	    {"10.1.2.3", "off", "", 2, "setting \"cookie_secure\": must be on"},
	    {"::", "on", "", 1,
	     "setting \"public_origin\": must be set when listen_addr \"::\" is not a loopback "
	     "address"},
	    {"0.0.0.0", "on", "https://cb.example.nhs.uk", 0, NULL},
	    {"127.0.0.1", "on", "https://cb.example.nhs.uk/", 1,
	     "setting \"public_origin\": \"https://cb.example.nhs.uk/\" is not an origin"},
	};

	for (size_t i = 0; i < nitems(cases); i++) {
		struct config cfg;
		struct config_errors errs = {NULL, 0};
		struct err err;

		config_init(&cfg);
		assert_int_equal(config_set(&cfg, "listen_addr", cases[i].addr, &err), ST_OK);
		assert_int_equal(config_set(&cfg, "cookie_secure", cases[i].secure, &err), ST_OK);
		assert_int_equal(config_set(&cfg, "public_origin", cases[i].origin, &err), ST_OK);
		assert_int_equal(config_validate(&cfg, &errs),
		                 cases[i].nerrs == 0 ? ST_OK : ST_INVALID);
		if (errs.n != cases[i].nerrs)
			fail_msg("case %zu: %zu problems, want %zu", i, errs.n, cases[i].nerrs);
		if (cases[i].first != NULL &&
		    strncmp(errs.lines[0], cases[i].first, strlen(cases[i].first)) != 0)
			fail_msg("case %zu: \"%s\"", i, errs.lines[0]);
		config_errors_reset(&errs);
		config_free(&cfg);
	}
}

/*
 * config/carebridge.conf must show every key of the table, in its section,
 * as "# key = default", and nothing the table does not know.
 */
static void test_example_file_matches_table(void **state)
{
	FILE *fp = fopen("config/carebridge.conf", "r");
	char line[512], section[64] = "";
	size_t found = 0, keys = 0;

	assert_non_null(fp);
	for (const struct config_entry *e = config_table; e->key != NULL; e++)
		keys++;
	while (fgets(line, sizeof line, fp) != NULL) {
		char key[64], value[256];
		const struct config_entry *e;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "[%63[^]]]", section) == 1)
			continue;
		if (sscanf(line, "# %63[a-z_0-9] = %255[^\n]", key, value) != 2)
			continue;
		e = config_find(key);
		if (e == NULL)
			fail_msg("config/carebridge.conf shows unknown key \"%s\"", key);
		assert_string_equal(section, e->section);
		if (e->def[0] == '\0')
			assert_string_equal(value, "\"\"");
		else if (strcmp(value, e->def) != 0)
			fail_msg("key \"%s\": example says \"%s\", default is \"%s\"", key, value,
			         e->def);
		found++;
	}
	fclose(fp);
	assert_int_equal(found, keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_defaults_are_valid),
	    cmocka_unit_test(test_parse_reports_every_error_with_line),
	    cmocka_unit_test(test_env_overrides),
	    cmocka_unit_test(test_validate),
	    cmocka_unit_test(test_owner_url_falls_back_to_database_url),
	    cmocka_unit_test(test_loopback_and_lists),
	    cmocka_unit_test(test_validate_mllp),
	    cmocka_unit_test(test_validate_notify),
	    cmocka_unit_test(test_origin),
	    cmocka_unit_test(test_validate_hl7_pathway_and_fhir_base),
	    cmocka_unit_test(test_deprecated_alias),
	    cmocka_unit_test(test_validate_cookie_and_origin),
	    cmocka_unit_test(test_example_file_matches_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

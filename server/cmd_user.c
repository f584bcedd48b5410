/*
 * cmd_user.c - `carebridge user ...` and `carebridge ward ...`: managing users,
 * their API tokens and wards from the command line (blocking; never in serve).
 *
 * A token is printed once, on stdout, alone on its line, so scripts can capture
 * it; only its SHA-256 hash is stored.  Passwords are read from stdin (one
 * line) and stored as argon2id hashes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "access.h"
#include "auth.h"
#include "cli.h"
#include "config.h"
#include "organisation.h"
#include "store_user.h"
#include "totp.h"
#include "xmalloc.h"

#define MAX_WARDS 64

static int user_usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: carebridge user add --name NAME --role ROLE [--ward CODE ...]\n"
	    "                           [--display-name TEXT] [--team-lead] [--password]\n"
	    "                           [--organisation ORG]\n"
	    "       carebridge user list\n"
	    "       carebridge user disable --name NAME\n"
	    "       carebridge user unlock --name NAME   (or: user unlock NAME)\n"
	    "       carebridge user password --name NAME\n"
	    "       carebridge user link --name NAME --subject VALUE | --unlink\n"
	    "       carebridge user totp --name NAME [--remove]\n"
	    "       carebridge user token issue --name NAME --expires DURATION [--label TEXT]\n"
	    "       carebridge user token list --name NAME\n"
	    "       carebridge user token revoke --id TOKEN_ID\n"
	    "\n"
	    "Roles: nurse, social_worker, ot, physio, bed_manager, admin (the trust's), and\n"
	    "hub_coordinator, council_social_worker (a hub or local authority's),\n"
	    "provider_staff (a provider's).  --organisation names the user's organisation\n"
	    "by code or id (default: the trust).  --password and\n"
	    "\"user password\" read the password from the first line of stdin (at least 8\n"
	    "characters).  \"token issue\" prints the new token once on stdout; only its hash\n"
	    "is kept; --expires (90d, 12h; at least 1min, at most token_max_lifetime) is\n"
	    "required.  \"link\" ties the user to the identity provider's sign-in: VALUE\n"
	    "is the ID token's oidc_user_claim (sub or email).  \"totp\" makes a new\n"
	    "one-time code secret and prints it (and an otpauth:// URI for an authenticator\n"
	    "app) once.  All take -c FILE for the configuration (default $CAREBRIDGE_CONFIG).\n");
	return fp == stdout ? 0 : 2;
}

/* Read a password: from the terminal without echo, or the first line of stdin. */
static bool read_password(char *buf, size_t size)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) == 1;
	size_t n;

	if (tty) {
		fprintf(stderr, "password: ");
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	}
	if (fgets(buf, (int)size, stdin) == NULL)
		buf[0] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fprintf(stderr, "\n");
	}
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n < 8) {
		fprintf(stderr, "carebridge: a password needs at least 8 characters\n");
		return false;
	}
	return true;
}

static int fail(const struct err *err)
{
	fprintf(stderr, "carebridge: %s\n", err->message);
	return 1;
}

int cmd_user(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"name", required_argument, NULL, 'n'},
	    {"role", required_argument, NULL, 'r'},
	    {"ward", required_argument, NULL, 'w'},
	    {"display-name", required_argument, NULL, 'd'},
	    {"team-lead", no_argument, NULL, 'l'},
	    {"password", no_argument, NULL, 'p'},
	    {"label", required_argument, NULL, 'L'},
	    {"expires", required_argument, NULL, 'e'},
	    {"id", required_argument, NULL, 'i'},
	    {"subject", required_argument, NULL, 's'},
	    {"unlink", no_argument, NULL, 'u'},
	    {"remove", no_argument, NULL, 'R'},
	    {"organisation", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = cli_default_config_path(), *name = NULL, *role = NULL;
	const char *display = "", *label = "", *expires = NULL, *token_id = NULL;
	const char *wards[MAX_WARDS];
	const char *sub, *sub2 = NULL;
	int nwards = 0, c, rc = 1;
	bool team_lead = false, want_password = false, unlink = false, remove = false;
	const char *subject = NULL, *organisation = ORGANISATION_TRUST_ID;
	struct cli_db *db = NULL;
	struct config cfg;
	struct err err;
	enum role r;

	if (argc < 2)
		return user_usage(stderr);
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)
		return user_usage(stdout);
	argc--;
	argv++;
	if (strcmp(sub, "token") == 0) {
		if (argc < 2)
			return user_usage(stderr);
		sub2 = argv[1];
		argc--;
		argv++;
	}
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'r':
			role = optarg;
			break;
		case 'w':
			if (nwards == MAX_WARDS) {
				fprintf(stderr, "carebridge: at most %d wards\n", MAX_WARDS);
				return 2;
			}
			wards[nwards++] = optarg;
			break;
		case 'd':
			display = optarg;
			break;
		case 'l':
			team_lead = true;
			break;
		case 'p':
			want_password = true;
			break;
		case 'L':
			label = optarg;
			break;
		case 'e':
			expires = optarg;
			break;
		case 'i':
			token_id = optarg;
			break;
		case 's':
			subject = optarg;
			break;
		case 'u':
			unlink = true;
			break;
		case 'R':
			remove = true;
			break;
		case 'o':
			organisation = optarg;
			break;
		case 'h':
			return user_usage(stdout);
		default:
			return user_usage(stderr);
		}
	}
	if (!cli_config_load(&cfg, path)) {
		config_free(&cfg);
		return 1;
	}
	if (!auth_init()) {
		fprintf(stderr, "carebridge: could not initialise libsodium\n");
		goto out;
	}
	db = cli_db_open(cfg.database_url, &err);
	if (db == NULL) {
		rc = fail(&err);
		goto out;
	}
	if (strcmp(sub, "add") == 0) {
		char pw[256], hash[AUTH_PWHASH_SIZE], id[37];
		struct cli_organisation org;

		if (name == NULL || role == NULL) {
			fprintf(stderr, "carebridge: user add needs --name and --role\n");
			rc = 2;
			goto out;
		}
		if (role_parse_user(role, &r, &err) != ST_OK) {
			fprintf(stderr, "carebridge: unknown role \"%s\"\n", role);
			rc = 2;
			goto out;
		}
		if (r == ROLE_NURSE && nwards == 0) {
			fprintf(stderr, "carebridge: a nurse needs at least one --ward\n");
			rc = 2;
			goto out;
		}
		if (role_is_partner(r) && nwards > 0) {
			fprintf(stderr, "carebridge: role \"%s\" has no wards\n", role);
			rc = 2;
			goto out;
		}
		if (cli_organisation_find(db, organisation, &org, &err) != ST_OK) {
			rc = fail(&err);
			goto out;
		}
		if (!org.found || org.disabled) {
			fprintf(stderr, "carebridge: organisation \"%s\" %s\n", organisation,
			        org.found ? "is disabled" : "does not exist");
			rc = 2;
			goto out;
		}
		if (role_fits_organisation(r, org.kind, &err) != ST_OK) {
			rc = fail(&err);
			goto out;
		}
		if (want_password) {
			if (!read_password(pw, sizeof pw) || !auth_password_hash(pw, hash)) {
				sodium_memzero(pw, sizeof pw);
				goto out;
			}
			sodium_memzero(pw, sizeof pw);
		}
		if (cli_user_add(db, name, display, role, team_lead, wards, nwards,
		                 want_password ? hash : NULL, org.id, id, &err) != ST_OK) {
			rc = fail(&err);
			goto out;
		}
		printf("user \"%s\" added: id %s\n", name, id);
		rc = 0;
	} else if (strcmp(sub, "list") == 0) {
		rc = cli_user_list(db, stdout, &err) == ST_OK ? 0 : fail(&err);
	} else if (strcmp(sub, "disable") == 0) {
		if (name == NULL) {
			fprintf(stderr, "carebridge: user disable needs --name\n");
			rc = 2;
			goto out;
		}
		rc = cli_user_disable(db, name, &err) == ST_OK ? 0 : fail(&err);
		if (rc == 0)
			printf("user \"%s\" disabled; their tokens and sessions are revoked\n",
			       name);
	} else if (strcmp(sub, "unlock") == 0) {
		bool was_locked;

		if (name == NULL && optind < argc)
			name = argv[optind];
		if (name == NULL) {
			fprintf(stderr, "carebridge: user unlock needs --name\n");
			rc = 2;
			goto out;
		}
		rc = cli_user_unlock(db, name, &was_locked, &err) == ST_OK ? 0 : fail(&err);
		if (rc == 0)
			printf("user \"%s\" %s; their failed sign-ins are forgotten\n", name,
			       was_locked ? "unlocked" : "was not locked");
	} else if (strcmp(sub, "password") == 0) {
		char pw[256], hash[AUTH_PWHASH_SIZE];

		if (name == NULL) {
			fprintf(stderr, "carebridge: user password needs --name\n");
			rc = 2;
			goto out;
		}
		if (!read_password(pw, sizeof pw) || !auth_password_hash(pw, hash)) {
			sodium_memzero(pw, sizeof pw);
			goto out;
		}
		sodium_memzero(pw, sizeof pw);
		rc = cli_user_set_password(db, name, hash, &err) == ST_OK ? 0 : fail(&err);
	} else if (strcmp(sub, "link") == 0) {
		if (name == NULL || (subject == NULL) == !unlink ||
		    (subject != NULL && (subject[0] == '\0' || strlen(subject) > 255))) {
			fprintf(stderr,
			        "carebridge: user link needs --name and either --subject VALUE "
			        "(1 to 255 characters) or --unlink\n");
			rc = 2;
			goto out;
		}
		rc = cli_user_link(db, name, subject, &err) == ST_OK ? 0 : fail(&err);
		if (rc == 0 && subject != NULL)
			printf("user \"%s\" signs in through the identity provider as \"%s\"\n",
			       name, subject);
		else if (rc == 0)
			printf("user \"%s\" is no longer linked to the identity provider\n", name);
	} else if (strcmp(sub, "totp") == 0) {
		unsigned char secret[TOTP_SECRET_LEN];
		char b32[TOTP_B32_SIZE], hex[2 * TOTP_SECRET_LEN + 3];

		if (name == NULL) {
			fprintf(stderr, "carebridge: user totp needs --name\n");
			rc = 2;
			goto out;
		}
		if (remove) {
			rc = cli_user_totp(db, name, NULL, &err) == ST_OK ? 0 : fail(&err);
			if (rc == 0)
				printf("user \"%s\" no longer has a one-time code\n", name);
			goto out;
		}
		randombytes_buf(secret, sizeof secret);
		hex[0] = '\\';
		hex[1] = 'x';
		sodium_bin2hex(hex + 2, sizeof hex - 2, secret, sizeof secret);
		base32_encode(secret, sizeof secret, b32, sizeof b32);
		rc = cli_user_totp(db, name, hex, &err) == ST_OK ? 0 : fail(&err);
		if (rc == 0) {
			fprintf(stderr, "one-time code secret of \"%s\"; it is shown only once:\n",
			        name);
			printf(
			    "%s\notpauth://totp/carebridge:%s?secret=%s&issuer=carebridge&digits=%d"
			    "&period=%d\n",
			    b32, name, b32, TOTP_DIGITS, TOTP_STEP_S);
		}
		sodium_memzero(secret, sizeof secret);
		sodium_memzero(b32, sizeof b32);
		sodium_memzero(hex, sizeof hex);
	} else if (strcmp(sub, "token") == 0 && strcmp(sub2, "issue") == 0) {
		char token[AUTH_TOKEN_SIZE], hex[AUTH_HASH_HEX_SIZE], id[37];
		int64_t ms = 0;

		if (name == NULL) {
			fprintf(stderr, "carebridge: user token issue needs --name\n");
			rc = 2;
			goto out;
		}
		/* a token that never expires outlives whoever was meant to hold it */
		if (expires == NULL) {
			fprintf(
			    stderr,
			    "carebridge: user token issue needs --expires (a duration such as 90d, "
			    "at most token_max_lifetime: %lld days)\n",
			    (long long)(cfg.token_max_life_ms / 86400000));
			rc = 2;
			goto out;
		}
		if (!config_parse_duration(expires, &ms) || ms < 60000) {
			fprintf(stderr,
			        "carebridge: --expires must be a duration of at least 1min\n");
			rc = 2;
			goto out;
		}
		if (ms > cfg.token_max_life_ms) {
			fprintf(stderr,
			        "carebridge: --expires %s is longer than token_max_lifetime (%lld "
			        "days)\n",
			        expires, (long long)(cfg.token_max_life_ms / 86400000));
			rc = 2;
			goto out;
		}
		auth_token_new(token, hex);
		if (cli_token_issue(db, name, hex, label, (long)(ms / 1000), id, &err) != ST_OK) {
			rc = fail(&err);
			goto out;
		}
		fprintf(stderr, "token %s issued to \"%s\"; it is shown only once:\n", id, name);
		printf("%s\n", token);
		sodium_memzero(token, sizeof token);
		rc = 0;
	} else if (strcmp(sub, "token") == 0 && strcmp(sub2, "list") == 0) {
		if (name == NULL) {
			fprintf(stderr, "carebridge: user token list needs --name\n");
			rc = 2;
			goto out;
		}
		rc = cli_token_list(db, name, stdout, &err) == ST_OK ? 0 : fail(&err);
	} else if (strcmp(sub, "token") == 0 && strcmp(sub2, "revoke") == 0) {
		if (token_id == NULL) {
			fprintf(stderr, "carebridge: user token revoke needs --id\n");
			rc = 2;
			goto out;
		}
		rc = cli_token_revoke(db, token_id, &err) == ST_OK ? 0 : fail(&err);
		if (rc == 0)
			printf("token %s revoked\n", token_id);
	} else {
		rc = user_usage(stderr);
	}
out:
	cli_db_close(db);
	config_free(&cfg);
	return rc;
}

int cmd_ward(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"code", required_argument, NULL, 'k'},
	    {"name", required_argument, NULL, 'n'},
	    {"beds", required_argument, NULL, 'b'},
	    {"pas-code", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = cli_default_config_path(), *code = NULL, *name = NULL, *pas = NULL;
	int beds = 0, c, rc = 1;
	struct cli_db *db;
	struct config cfg;
	struct err err;

	if (argc < 2 || strcmp(argv[1], "add") != 0) {
		fprintf(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr,
		        "usage: carebridge ward add --code CODE --name NAME [--beds N] "
		        "[--pas-code CODE]\n");
		return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
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
		case 'b':
			beds = atoi(optarg);
			break;
		case 'p':
			pas = optarg;
			break;
		default:
			fprintf(stderr, "usage: carebridge ward add --code CODE --name NAME "
			                "[--beds N] [--pas-code CODE]\n");
			return 2;
		}
	}
	if (code == NULL || name == NULL) {
		fprintf(stderr, "carebridge: ward add needs --code and --name\n");
		return 2;
	}
	if (!cli_config_load(&cfg, path)) {
		config_free(&cfg);
		return 1;
	}
	db = cli_db_open(cfg.database_url, &err);
	if (db == NULL) {
		rc = fail(&err);
	} else if (cli_ward_add(db, code, name, beds, pas, &err) != ST_OK) {
		rc = fail(&err);
	} else {
		printf("ward \"%s\" added\n", code);
		rc = 0;
	}
	cli_db_close(db);
	config_free(&cfg);
	return rc;
}

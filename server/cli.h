/*
 * cli.h - what the subcommands share: loading the configuration and the
 * commands implemented outside main.c.
 */
#ifndef CB_CLI_H
#define CB_CLI_H

#include <stdbool.h>

#include "config.h"

/* Defaults, then the file (if path), then CAREBRIDGE_*; prints problems; false if any. */
bool cli_config_load(struct config *cfg, const char *path);

/* The configuration file named by $CAREBRIDGE_CONFIG, or NULL. */
const char *cli_default_config_path(void);

/* carebridge user add|list|disable|password|token issue|token revoke */
int cmd_user(int argc, char **argv);

/* carebridge report delays */
int cmd_report(int argc, char **argv);

/* carebridge report sitrep (argv[0] is "sitrep") */
int cmd_report_sitrep(int argc, char **argv);

/* carebridge reasons import FILE */
int cmd_reasons(int argc, char **argv);

/* carebridge org add|list|disable */
int cmd_org(int argc, char **argv);

/* carebridge rota import FILE.csv */
int cmd_rota(int argc, char **argv);

/* carebridge ward add */
int cmd_ward(int argc, char **argv);

#endif

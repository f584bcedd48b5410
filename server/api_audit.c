/*
 * api_audit.c - placeholder route table, filled by its issue.
 */
#include "api.h"

const struct route audit_routes[] = {
    {0, NULL, NULL, 0},
};

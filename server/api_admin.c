/*
 * api_admin.c - placeholder route table, filled by its issue.
 */
#include "api.h"

const struct route admin_routes[] = {
    {0, NULL, NULL, 0},
};

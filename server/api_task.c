/*
 * api_task.c - placeholder route table, filled by its issue.
 */
#include "api.h"

const struct route task_routes[] = {
    {0, NULL, NULL, 0},
};

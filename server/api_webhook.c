/*
 * api_webhook.c - placeholder route table, filled by the webhook work (issue 4).
 */
#include "api.h"

const struct route webhook_routes[] = {
    {0, NULL, NULL, 0},
};

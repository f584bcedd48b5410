/*
 * api.h - the route tables of the api_*.c modules, registered by main.c.
 */
#ifndef CB_API_H
#define CB_API_H

#include "http.h"

extern const struct route health_routes[];

#endif

/*
 * api.c - the list of route tables serve registers (see api.h).
 */
#include "api.h"

const struct route *const api_route_tables[] = {
    health_routes,    session_routes, admission_routes,
    episode_routes,   task_routes,    assessment_routes,
    admin_routes,     audit_routes,   stream_routes,
    webhook_routes,   static_routes,  delay_routes,
    hl7_routes,       oidc_routes,    review_routes,
    reference_routes, barrier_routes, NULL,
};

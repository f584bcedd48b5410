/*
 * api_assessment.c - the retired Care Act assessment routes (issue 15).
 *
 *   GET   /api/v1/assessments
 *   PATCH /api/v1/assessments/{id}
 *   POST  /api/v1/assessments/{id}/claim
 *   POST  /api/v1/assessments/{id}/release
 *
 * The day-one Care Act assessment became the referral to the care transfer
 * hub (migrations/0028: each assessment is a referral with the same id), so
 * these answer 410 Gone, naming what replaced them, to any signed-in user: a
 * client still written for them learns where to go instead of a bare 404.
 */
#include "api.h"
#include "app.h"

static void assessment_gone(struct http_req *r)
{
	http_reply_gone(r, "the Care Act assessment API is retired: use /api/v1/referrals (the "
	                   "assessment's id is its referral's id; hold and release replace claim "
	                   "and release)");
}

const struct route assessment_routes[] = {
    ROUTE(EVHTTP_REQ_GET, "/api/v1/assessments", assessment_gone, ACCESS_SELF, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_PATCH, "/api/v1/assessments/{id}", assessment_gone, ACCESS_SELF,
          ROUTE_ID_ASSESSMENT),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/assessments/{id}/claim", assessment_gone, ACCESS_SELF,
          ROUTE_ID_ASSESSMENT),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/assessments/{id}/release", assessment_gone, ACCESS_SELF,
          ROUTE_ID_ASSESSMENT),
    ROUTE_END,
};

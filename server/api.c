/*
 * api.c - the list of route tables serve registers, and what handlers share (see api.h).
 */
#include "api.h"

#include <stdlib.h>

#include "app.h"
#include "xmalloc.h"

const struct route *const api_route_tables[] = {
    sitrep_routes,      /* issue 14: the sitrep (api_sitrep.c) */
    involvement_routes, /* issue 15: involvement in discharge planning */
    health_routes,
    session_routes,
    admission_routes,
    episode_routes,
    task_routes,
    assessment_routes,
    admin_routes,
    audit_routes,
    stream_routes,
    webhook_routes,
    static_routes,
    hl7_routes,
    oidc_routes,
    review_routes,
    reference_routes,
    barrier_routes,
    report_routes,
    referral_routes, /* issue 15: referrals (api_referral.c) */
    fhir_routes,     /* issue 15: the FHIR R4 facade (api_fhir.c) */
    message_routes,  /* issue 17: contact details, the message outbox (api_message.c) */
    rota_routes,     /* issue 17: the on-call rota (api_rota.c) */
    notify_routes,   /* issue 17: a GOV.UK Notify test message (api_notify.c) */
    NULL,
};

/* A list read and checked, waiting for its audit row. */
struct list_read {
	struct http_req *r; /* the request */
	char *json;         /* the list, owned */
};

static void list_audited(enum status st, const struct err *err, const char *json, void *arg)
{
	struct list_read *l = arg;

	if (st != ST_OK)
		http_reply_error(l->r, st, err);
	else
		http_reply_json_text(l->r, 200, l->json);
	free(l->json);
	free(l);
}

void api_episode_list_reply(struct http_req *r, enum status st, const char *ward, const char *json,
                            api_list_audit_fn *audit)
{
	struct access_target t = {.ward = ward, .discipline = NULL};
	struct list_read *l;
	struct actor actor;
	struct err err;

	err_clear(&err);
	if (st == ST_NOT_FOUND)
		err_set(&err, st, NULL, "episode not found");
	if (st == ST_OK)
		st = http_access(r, &t, &err);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		return;
	}
	l = xcalloc(1, sizeof *l);
	l->r = r;
	l->json = xstrdup(json);
	actor_from_req(&actor, r);
	audit(r->app->db, r->params[0], &actor, list_audited, l);
}

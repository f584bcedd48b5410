/*
 * api.h - the route tables of the api_*.c modules.  main registers every
 * table listed in api_route_tables (api.c); a new module adds its table there.
 */
#ifndef CB_API_H
#define CB_API_H

#include "http.h"
#include "store.h"

extern const struct route health_routes[];
extern const struct route session_routes[];
extern const struct route admission_routes[];
extern const struct route episode_routes[];
extern const struct route task_routes[];
extern const struct route assessment_routes[];
extern const struct route referral_routes[];
extern const struct route admin_routes[];
extern const struct route audit_routes[];
extern const struct route stream_routes[];
extern const struct route webhook_routes[];
extern const struct route hl7_routes[];
extern const struct route report_routes[];
extern const struct route review_routes[];
extern const struct route barrier_routes[];
extern const struct route involvement_routes[]; /* issue 15: api_involvement.c */
extern const struct route sitrep_routes[];
extern const struct route reference_routes[];
extern const struct route static_routes[];
extern const struct route oidc_routes[];
extern const struct route fhir_routes[];    /* issue 15: the FHIR R4 facade (api_fhir.c) */
extern const struct route message_routes[]; /* issue 17: api_message.c */
extern const struct route rota_routes[];    /* issue 17: api_rota.c */
extern const struct route notify_routes[];  /* issue 17: a GOV.UK Notify test (api_notify.c) */

/*
 * Finish a sign-out whose session is revoked: 200 {"logout_url": ...} when
 * the session was opened through the identity provider and it offers single
 * logout (the page then sends the browser there), else 204.
 */
void oidc_logout_reply(struct http_req *r);

struct actor;
struct db;

/* Audits a read of an episode's list (store_review_audit_list, store_barrier_audit_list). */
typedef void api_list_audit_fn(struct db *db, const char *episode_id, const struct actor *actor,
                               store_json_cb *cb, void *arg);

/*
 * Answer r, a GET of the list of the episode r->params[0], once the store has
 * read it (st; the episode's ward; the list as JSON text): 404 when there is
 * no such episode, the route's action checked against the ward
 * (http_access), then the read audited with audit and the list sent.
 */
void api_episode_list_reply(struct http_req *r, enum status st, const char *ward, const char *json,
                            api_list_audit_fn *audit);

/* Every table above, ending with NULL. */
extern const struct route *const api_route_tables[];

#endif

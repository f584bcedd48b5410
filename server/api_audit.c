/*
 * api_audit.c - reading the audit log.
 *
 *   GET /api/v1/audit?episode=UUID&actor=NAME&entity_id=UUID&limit=N&offset=N
 *
 * Bed managers and administrators (ACCESS_AUDIT_READ) read rows matching every
 * filter given, oldest first; at least one filter is required, so nobody pages
 * through the whole log by accident.  The read is itself audited
 * ("audit.read") in the same transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "admission.h"
#include "api.h"
#include "app.h"
#include "store_audit.h"

#define AUDIT_LIMIT_DEFAULT 100
#define AUDIT_LIMIT_MAX 500
#define AUDIT_OFFSET_MAX 100000000
#define AUDIT_ACTOR_MAX 64 /* a user name, or "system" / "hl7" / "cli" */

/* An optional UUID query parameter into buf (37 bytes); *out is buf or NULL. */
static enum status query_uuid(struct http_req *r, const char *name, char *buf, size_t size,
                              const char **out, struct err *err)
{
	*out = NULL;
	if (http_query(r, name, buf, size) == NULL)
		return ST_OK;
	if (!text_is_uuid(buf))
		return err_set(err, ST_INVALID, name, "\"%s\" must be a UUID", name);
	*out = buf;
	return ST_OK;
}

static void audit_list(struct http_req *r)
{
	char episode[64], entity[64], actor_name[HTTP_PARAM_MAX];
	struct audit_filter f;
	struct actor actor;
	struct err err;
	enum status st;

	memset(&f, 0, sizeof f);
	st = query_uuid(r, "episode", episode, sizeof episode, &f.episode_id, &err);
	if (st == ST_OK)
		st = query_uuid(r, "entity_id", entity, sizeof entity, &f.entity_id, &err);
	if (st == ST_OK && http_query(r, "actor", actor_name, sizeof actor_name) != NULL) {
		size_t n = strlen(actor_name);

		if (n == 0 || n > AUDIT_ACTOR_MAX)
			st = err_set(&err, ST_INVALID, "actor",
			             "\"actor\" must be a user name of 1 to %d characters",
			             AUDIT_ACTOR_MAX);
		f.actor = actor_name;
	}
	if (st == ST_OK && f.episode_id == NULL && f.actor == NULL && f.entity_id == NULL)
		st = err_set(&err, ST_INVALID, "episode",
		             "give at least one filter: \"episode\", \"actor\" or \"entity_id\"");
	if (st == ST_OK)
		st = http_query_int(r, "limit", AUDIT_LIMIT_DEFAULT, 1, AUDIT_LIMIT_MAX, &f.limit,
		                    &err);
	if (st == ST_OK)
		st = http_query_int(r, "offset", 0, 0, AUDIT_OFFSET_MAX, &f.offset, &err);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		return;
	}
	actor_from_req(&actor, r);
	store_audit_list(r->app->db, &f, &actor, http_json_ok, r);
}

const struct route audit_routes[] = {
    ROUTE(EVHTTP_REQ_GET, "/api/v1/audit", audit_list, ACCESS_AUDIT_READ, ROUTE_ID_NONE),
    ROUTE_END,
};

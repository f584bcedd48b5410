/*
 * store_webhook.c - SQL for webhooks (see store_webhook.h).
 *
 * Registering and removing are administrative writes: one transaction with
 * the change and its audit row.  They write no outbox event: a webhook's
 * configuration is no clinical change for the live screens, and an event
 * would hand every other webhook's receiver this one's URL.  The delivery
 * statements check lease_owner, so a process that lost a lease can no longer
 * move the cursor it was working on.
 */
#include "store_webhook.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "db.h"
#include "json.h"
#include "xmalloc.h"

/*
 * Adds webhook $1 (url $2, secret $3, filters $4..$6, format $7, organisation $8) with its
 * cursor at the
 * newest committed event: event ids follow commit order, so every event
 * committed later has a higher id and is delivered.
 */
static const char SQL_WEBHOOK_INSERT[] =
    "INSERT INTO webhooks (id, url, secret, wards, disciplines, types, format,"
    " last_delivered_id, organisation_id)"
    " VALUES ($1::uuid, $2, $3, cb_text_array($4::jsonb), cb_text_array($5::jsonb),"
    " cb_text_array($6::jsonb), $7,"
    " (SELECT coalesce(max(id), 0) FROM events), $8::uuid)";

/* Webhook $1 as JSON text (no secret), with its backlog. */
static const char SQL_WEBHOOK_JSON[] =
    "SELECT (cb_webhook_json(w) || jsonb_build_object('backlog',"
    " (SELECT count(*) FROM events e WHERE e.id > w.last_delivered_id)))::text"
    " FROM webhooks w WHERE w.id = $1::uuid";

/* Every webhook as {"items": [...]} (no secrets), oldest first, each with its backlog. */
static const char SQL_WEBHOOK_LIST[] =
    "SELECT jsonb_build_object('items', coalesce(jsonb_agg(cb_webhook_json(w)"
    " || jsonb_build_object('backlog',"
    "  (SELECT count(*) FROM events e WHERE e.id > w.last_delivered_id))"
    " ORDER BY w.created_at, w.id), '[]'::jsonb))::text FROM webhooks w";

/* Aborts with CB404 unless webhook $1 exists. */
static const char SQL_WEBHOOK_FOUND[] =
    "SELECT cb_expect(EXISTS (SELECT 1 FROM webhooks WHERE id = $1::uuid), 'CB404',"
    " 'webhook not found')";

/* Removes webhook $4 and audits it with its before image (actor $1/$2, action $3, request $5). */
static const char SQL_WEBHOOK_DELETE_AUDIT[] =
    "WITH d AS (DELETE FROM webhooks w WHERE w.id = $4::uuid RETURNING w)"
    " INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before, after,"
    " request_id) SELECT $1::uuid, $2, $3, 'webhook', (d.w).id, NULL, cb_webhook_json(d.w),"
    " NULL, $5::uuid FROM d";

/*
 * Pauses or resumes webhook $4 (active $6) and audits it with before and
 * after images (actor $1/$2, action $3, request $5); returns its JSON.  A
 * resumed webhook's lease is left to expire or be claimed as usual.  Events
 * pruned while it was paused (its cursor below events_pruned.upto) are said
 * in last_error and the cursor moves past them, so the gap is on record.
 */
static const char SQL_WEBHOOK_SET_ACTIVE[] =
    "WITH u AS (UPDATE webhooks w SET active = $6::boolean, version = w.version + 1,"
    " failures = CASE WHEN $6::boolean THEN 0 ELSE w.failures END,"
    " last_error = CASE WHEN $6::boolean AND p.upto > w.last_delivered_id"
    "  THEN format('events %s to %s were pruned while the webhook was paused',"
    "   w.last_delivered_id + 1, p.upto) ELSE w.last_error END,"
    " last_error_at = CASE WHEN $6::boolean AND p.upto > w.last_delivered_id THEN now()"
    "  ELSE w.last_error_at END,"
    " last_delivered_id = CASE WHEN $6::boolean THEN greatest(w.last_delivered_id, p.upto)"
    "  ELSE w.last_delivered_id END"
    " FROM webhooks pre, events_pruned p WHERE w.id = $4::uuid AND pre.id = w.id"
    " RETURNING w, cb_webhook_json(pre) AS before),"
    " a AS (INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before,"
    " after, request_id) SELECT $1::uuid, $2, $3, 'webhook', (u.w).id, NULL, u.before,"
    " cb_webhook_json(u.w), $5::uuid FROM u)"
    " SELECT (cb_webhook_json(u.w) || jsonb_build_object('backlog',"
    " (SELECT count(*) FROM events e WHERE e.id > (u.w).last_delivered_id)))::text FROM u";

/*
 * Claims or renews for owner $1, for $2 milliseconds, every active webhook
 * whose lease is free, expired or already $1's; returns those webhooks: id,
 * url, secret, filters (comma-separated), cursor, organisation ('' for a
 * trust webhook) and its kind ('disabled' for a disabled one), format.
 */
static const char SQL_WEBHOOK_LEASE[] =
    "WITH l AS (UPDATE webhooks SET lease_owner = $1,"
    "  lease_until = now() + make_interval(secs => $2::double precision / 1000)"
    "  WHERE active AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $1)"
    "  RETURNING id, url, secret, wards, disciplines, types, last_delivered_id, created_at,"
    "  organisation_id, format)"
    " SELECT l.id, url, secret, array_to_string(wards, ','),"
    " array_to_string(disciplines, ','), array_to_string(types, ','), last_delivered_id,"
    " coalesce(l.organisation_id::text, ''),"
    " CASE WHEN l.organisation_id IS NULL THEN ''"
    "  WHEN o.disabled_at IS NOT NULL THEN 'disabled' ELSE o.kind END, l.format"
    " FROM l LEFT JOIN organisations o ON o.id = l.organisation_id"
    " ORDER BY l.created_at, l.id";

/*
 * Moves webhook $1's cursor forward to $3 (never back) while owner $2 holds
 * it; a delivery ($4) clears the failure count.  One row when it still does.
 */
static const char SQL_WEBHOOK_ADVANCE[] =
    "UPDATE webhooks SET last_delivered_id = greatest(last_delivered_id, $3::bigint),"
    " failures = CASE WHEN $4::boolean THEN 0 ELSE failures END"
    " WHERE id = $1::uuid AND lease_owner = $2 RETURNING 1";

/* Counts a failed delivery of webhook $1 (owner $2) with error $3; one row when still owned. */
static const char SQL_WEBHOOK_FAILED[] =
    "UPDATE webhooks SET failures = failures + 1, last_error = $3, last_error_at = now()"
    " WHERE id = $1::uuid AND lease_owner = $2 RETURNING 1";

static cJSON *string_array(const char *const *v, int n)
{
	cJSON *a = cJSON_CreateArray();

	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

void store_webhook_add(struct db *db, const struct webhook_input *in, const struct actor *actor,
                       store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	struct store_wait *w = store_wait_new((store_any_fn *)cb, arg, -1, "webhook");
	char id[37];
	char *wards = json_string_array(in->wards, in->nwards);
	char *disciplines = json_string_array(in->disciplines, in->ndisciplines);
	char *types = json_string_array(in->types, in->ntypes);
	cJSON *after = cJSON_CreateObject();
	char *after_json;
	const char *format = in->format != NULL ? in->format : "carebridge-event";
	const char *ins[] = {id,          in->url, in->secret, wards,
	                     disciplines, types,   format,     in->organisation_id};
	const char *one[] = {id};

	store_new_id(id);
	/* the audit image is what was registered, without the secret */
	cJSON_AddStringToObject(after, "id", id);
	cJSON_AddStringToObject(after, "url", in->url);
	cJSON_AddStringToObject(after, "format", format);
	cJSON_AddItemToObject(after, "wards", string_array(in->wards, in->nwards));
	cJSON_AddItemToObject(after, "disciplines",
	                      string_array(in->disciplines, in->ndisciplines));
	cJSON_AddItemToObject(after, "types", string_array(in->types, in->ntypes));
	if (in->organisation_id != NULL)
		cJSON_AddStringToObject(after, "organisation_id", in->organisation_id);
	else
		cJSON_AddNullToObject(after, "organisation_id");
	after_json = cJSON_PrintUnformatted(after);
	ASSERT(after_json != NULL);
	db_req_add(req, SQL_WEBHOOK_INSERT, 8, ins);
	store_add_audit(req, actor, "webhook.add", "webhook", id, NULL, NULL, after_json);
	w->json_stmt = db_req_add(req, SQL_WEBHOOK_JSON, 1, one);
	db_req_submit(db, req, store_json_done, w);
	cJSON_free(after_json);
	cJSON_Delete(after);
	free(wards);
	free(disciplines);
	free(types);
}

void store_webhook_list(struct db *db, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	struct store_wait *w = store_wait_new((store_any_fn *)cb, arg, -1, "webhook");

	w->json_stmt = db_req_add(req, SQL_WEBHOOK_LIST, 0, NULL);
	db_req_submit(db, req, store_json_done, w);
}

void store_webhook_delete(struct db *db, const char *id, const struct actor *actor,
                          store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	struct store_wait *w = store_wait_new((store_any_fn *)cb, arg, -1, "webhook");
	const char *one[] = {id};
	const char *del[] = {actor->id, actor->name, "webhook.delete", id, actor->request_id};

	db_req_add(req, SQL_WEBHOOK_FOUND, 1, one);
	db_req_add(req, SQL_WEBHOOK_DELETE_AUDIT, 5, del);
	db_req_submit(db, req, store_json_done, w);
}

void store_webhook_set_active(struct db *db, const char *id, bool active, const struct actor *actor,
                              store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *one[] = {id};
	const char *v[] = {
	    actor->id, actor->name,       active ? "webhook.resume" : "webhook.pause",
	    id,        actor->request_id, active ? "true" : "false"};
	int json_stmt;

	db_req_add(req, SQL_WEBHOOK_FOUND, 1, one);
	json_stmt = db_req_add(req, SQL_WEBHOOK_SET_ACTIVE, 6, v);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "webhook"));
}

static void lease_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_webhook_lease_cb *cb = (store_webhook_lease_cb *)w->cb;
	struct webhook_row *rows;
	int n;

	if (r->st != ST_OK) {
		cb(r->st, NULL, 0, w->arg);
		free(w);
		return;
	}
	n = db_rows(r->res[0]);
	rows = xcalloc((size_t)(n > 0 ? n : 1), sizeof *rows);
	for (int i = 0; i < n; i++) {
		rows[i].id = db_value(r->res[0], i, 0);
		rows[i].url = db_value(r->res[0], i, 1);
		rows[i].secret = db_value(r->res[0], i, 2);
		rows[i].wards = db_value(r->res[0], i, 3);
		rows[i].disciplines = db_value(r->res[0], i, 4);
		rows[i].types = db_value(r->res[0], i, 5);
		rows[i].last_delivered_id = strtoll(db_value(r->res[0], i, 6), NULL, 10);
		rows[i].organisation_id = db_value(r->res[0], i, 7);
		rows[i].organisation_kind = db_value(r->res[0], i, 8);
		rows[i].format = db_value(r->res[0], i, 9);
	}
	cb(ST_OK, rows, n, w->arg);
	free(rows);
	free(w);
}

void store_webhook_lease(struct db *db, const char *owner, int64_t lease_ms,
                         store_webhook_lease_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	struct store_wait *w = store_wait_new((store_any_fn *)cb, arg, -1, "webhook");
	char ms[32];
	const char *v[] = {owner, ms};

	snprintf(ms, sizeof ms, "%" PRId64, lease_ms);
	db_req_add(req, SQL_WEBHOOK_LEASE, 2, v);
	db_req_submit(db, req, lease_done, w);
}

static void update_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_webhook_done_cb *cb = (store_webhook_done_cb *)w->cb;

	cb(r->st, r->st == ST_OK && db_rows(r->res[0]) == 1, w->arg);
	free(w);
}

void store_webhook_advance(struct db *db, const char *id, const char *owner, int64_t event_id,
                           bool delivered, store_webhook_done_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char ev[32];
	const char *v[] = {id, owner, ev, delivered ? "true" : "false"};

	snprintf(ev, sizeof ev, "%" PRId64, event_id);
	db_req_add(req, SQL_WEBHOOK_ADVANCE, 4, v);
	db_req_submit(db, req, update_done, store_wait_new((store_any_fn *)cb, arg, -1, "webhook"));
}

void store_webhook_failed(struct db *db, const char *id, const char *owner, const char *error,
                          store_webhook_done_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {id, owner, error};

	db_req_add(req, SQL_WEBHOOK_FAILED, 3, v);
	db_req_submit(db, req, update_done, store_wait_new((store_any_fn *)cb, arg, -1, "webhook"));
}

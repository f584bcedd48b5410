/*
 * store_referral.c - SQL for referrals (see store_referral.h).
 */
#include "store_referral.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "db.h"
#include "json.h"
#include "referral.h"
#include "xmalloc.h"

/*
 * Facts and JSON of referral $1: id, episode, ward, state, version,
 * organisation, holder id and name, needs given, the episode's organisations,
 * the kind of enabled organisation $2 (NULL: none or not asked), the JSON
 * forms (plain and with the patient essentials), the service's provider.
 */
static const char SQL_GET[] =
    "SELECT r.id, r.episode_id, e.ward, r.state, r.version, r.organisation_id, r.held_by,"
    " (SELECT u.name FROM users u WHERE u.id = r.held_by), coalesce(r.needs, '') <> '',"
    " (SELECT string_agg(DISTINCT o::text, ',') FROM referrals x,"
    "  unnest(cb_referral_orgs(x)) o WHERE x.episode_id = r.episode_id),"
    " (SELECT o.kind FROM organisations o WHERE o.id = $2::uuid AND o.disabled_at IS NULL),"
    " cb_referral_json(r)::text, cb_referral_view_json(r)::text, r.service_provider_id"
    " FROM referrals r JOIN episodes e ON e.id = r.episode_id WHERE r.id = $1::uuid";

/*
 * User $1 as a referral's would-be holder: role, disabled, attached to the
 * ward of referral $2's episode, name.
 */
static const char SQL_HOLDER[] =
    "SELECT u.role, u.disabled_at IS NOT NULL, EXISTS (SELECT 1 FROM user_wards w"
    " JOIN episodes e ON e.ward = w.ward JOIN referrals r ON r.episode_id = e.id"
    " WHERE w.user_id = u.id AND r.id = $2::uuid), u.name FROM users u WHERE u.id = $1::uuid";

/* The enabled social workers, by display name: who may hold a referral. */
static const char SQL_HOLDERS[] =
    "SELECT jsonb_build_object('items', coalesce(jsonb_agg(jsonb_build_object('id', u.id,"
    " 'name', u.name, 'display_name', u.display_name, 'team_lead', u.team_lead)"
    " ORDER BY coalesce(u.display_name, u.name), u.id), '[]'::jsonb))::text"
    " FROM users u WHERE u.role = 'social_worker' AND u.disabled_at IS NULL";

/*
 * A page of referrals, oldest notified first, and the cursor of the next:
 * wards $1 (NULL: all), states $2 (NULL: all), naming organisation $3 (NULL:
 * any) and $7 (a partner's own; NULL for the trust), open $4 (NULL: either),
 * after referral $5 (NULL: from the start), $6 per page.
 */
static const char SQL_LIST[] =
    "WITH page AS (SELECT r.id, row_number() OVER (ORDER BY r.notified_at, r.id) AS n"
    " FROM referrals r JOIN episodes e ON e.id = r.episode_id"
    " WHERE ($1::jsonb IS NULL OR e.ward = ANY (cb_text_array($1::jsonb)))"
    " AND ($2::jsonb IS NULL OR r.state = ANY (cb_text_array($2::jsonb)))"
    " AND ($3::uuid IS NULL OR $3::uuid = ANY (cb_referral_orgs(r)))"
    " AND ($7::uuid IS NULL OR $7::uuid = ANY (cb_referral_orgs(r)))"
    " AND ($4::boolean IS NULL OR (r.closed_at IS NULL) = $4::boolean)"
    " AND ($5::uuid IS NULL OR (r.notified_at, r.id) >"
    "      (SELECT c.notified_at, c.id FROM referrals c WHERE c.id = $5::uuid))"
    " ORDER BY r.notified_at, r.id LIMIT $6::integer + 1)"
    " SELECT jsonb_build_object('items', coalesce((SELECT jsonb_agg(cb_referral_view_json(r)"
    "   ORDER BY p.n) FROM page p JOIN referrals r ON r.id = p.id WHERE p.n <= $6::integer),"
    "   '[]'::jsonb),"
    "  'next_cursor', (SELECT p.id FROM page p WHERE p.n = $6::integer"
    "   AND EXISTS (SELECT 1 FROM page q WHERE q.n > $6::integer)))::text";

/*
 * Episode $1's ward, the organisations its referrals name, and its referrals
 * (only those naming organisation $2 when given), oldest first.
 */
static const char SQL_EPISODE_LIST[] =
    "SELECT e.ward, (SELECT string_agg(DISTINCT o::text, ',') FROM referrals x,"
    " unnest(cb_referral_orgs(x)) o WHERE x.episode_id = e.id),"
    " jsonb_build_object('items', coalesce((SELECT jsonb_agg(cb_referral_view_json(r)"
    "  ORDER BY r.notified_at, r.created_at, r.id) FROM referrals r"
    "  WHERE r.episode_id = e.id"
    "  AND ($2::uuid IS NULL OR $2::uuid = ANY (cb_referral_orgs(r)))), '[]'::jsonb))::text"
    " FROM episodes e WHERE e.id = $1::uuid";

/*
 * Referral $1's history, oldest first: its steps, and the audit rows of the
 * Care Act assessment it was migrated from (same id; 0028).
 */
static const char SQL_STEPS[] =
    "SELECT jsonb_build_object('items', coalesce(jsonb_agg(x.item ORDER BY x.at, x.k, x.id),"
    " '[]'::jsonb))::text FROM ("
    " SELECT s.at, 1 AS k, s.id, jsonb_build_object('at', cb_ts(s.at), 'from_state',"
    "  s.from_state, 'to_state', s.to_state, 'actor_name', s.actor_name, 'actor_org',"
    "  s.actor_org, 'detail', s.detail) AS item FROM referral_steps s"
    "  WHERE s.referral_id = $1::uuid"
    " UNION ALL"
    " SELECT a.at, 0, a.id, jsonb_build_object('at', cb_ts(a.at), 'from_state',"
    "  a.before->>'state', 'to_state', a.after->>'state', 'actor_name', a.actor,"
    "  'actor_org', NULL, 'detail', jsonb_build_object('assessment_audit', a.action,"
    "  'note', a.after->>'note')) FROM audit a"
    "  WHERE a.entity = 'assessment' AND a.entity_id = $1::uuid) x";

/*
 * Change referral $1 if still at version $2: state $3 by step $4 (NULL: no
 * step); needs $5, contacts $6, organisation $7 (NULL keeps); the step's
 * details $8..$14; hold $15 ("1" take for user $16, "-1" release, else keep).
 */
static const char SQL_WRITE[] =
    "WITH u AS (UPDATE referrals SET state = $3,"
    " needs = coalesce($5, needs), contacts = coalesce($6, contacts),"
    " organisation_id = coalesce($7::uuid, organisation_id),"
    " pathway = CASE WHEN $4 = 'send' THEN (SELECT e.pathway FROM episodes e"
    "   WHERE e.id = referrals.episode_id) ELSE pathway END,"
    " referred_at = CASE WHEN $4 = 'send' THEN now() ELSE referred_at END,"
    " accepted_at = CASE WHEN $4 = 'accept' THEN now() ELSE accepted_at END,"
    " info_request = CASE WHEN $4 = 'request_info' THEN $8 ELSE info_request END,"
    " decline_reason = CASE WHEN $4 = 'decline' THEN $9 ELSE decline_reason END,"
    " withdraw_reason = CASE WHEN $4 = 'withdraw' THEN $10 ELSE withdraw_reason END,"
    " service_kind = CASE WHEN $4 = 'source' THEN $11 ELSE service_kind END,"
    " service_provider_id = CASE WHEN $4 = 'source' THEN $12::uuid"
    "   ELSE service_provider_id END,"
    " service_detail = CASE WHEN $4 = 'source' THEN $13 ELSE service_detail END,"
    " service_start_date = CASE WHEN $4 IN ('source', 'confirm_start') THEN $14::date"
    "   ELSE service_start_date END,"
    " start_confirmed_at = CASE $4 WHEN 'confirm_start' THEN now() WHEN 'source' THEN NULL"
    "   ELSE start_confirmed_at END,"
    " closed_at = CASE WHEN $3 IN ('completed', 'withdrawn') THEN coalesce(closed_at, now())"
    "   END,"
    " held_by = CASE $15 WHEN '1' THEN $16::uuid WHEN '-1' THEN NULL ELSE held_by END,"
    " held_at = CASE $15 WHEN '1' THEN now() WHEN '-1' THEN NULL ELSE held_at END,"
    " version = version + 1, updated_at = now()"
    " WHERE id = $1::uuid AND version = $2::integer RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB412',"
    " 'referral was changed by someone else; reload it and try again') FROM u";

/* Step of referral $1 from $2 to $3 by user $4 (name $5; NULL id: the system), detail $6. */
static const char SQL_STEP[] =
    "INSERT INTO referral_steps (referral_id, at, from_state, to_state, actor_id, actor_name,"
    " actor_org, detail) SELECT r.id, now(), $2, $3, $4::uuid, $5,"
    " (SELECT u.organisation_id FROM users u WHERE u.id = $4::uuid), $6::jsonb"
    " FROM referrals r WHERE r.id = $1::uuid";

/* Audit of referral $1: actor $2/$3, action $4, before $5, request $6 (no row: nothing). */
static const char SQL_AUDIT[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before, after,"
    " request_id) SELECT $2::uuid, $3, $4, 'referral', r.id, r.episode_id, $5::jsonb,"
    " cb_referral_json(r), $6::uuid FROM referrals r WHERE r.id = $1::uuid";

/*
 * Outbox event $1 about referral $2 after step $3 (NULL: none), for its
 * organisations; "ward" as in every event's payload.
 */
static const char SQL_EVENT[] =
    "INSERT INTO events (type, ward, episode_id, discipline, payload, organisations)"
    " SELECT $1, e.ward, e.id, 'social_work', jsonb_build_object('referral',"
    " cb_referral_view_json(r), 'step', $3::text, 'ward', e.ward), cb_referral_orgs(r)"
    " FROM referrals r JOIN episodes e ON e.id = r.episode_id WHERE r.id = $2::uuid";

/* The reply: referral $1 as the view. */
static const char SQL_VIEW[] =
    "SELECT cb_referral_view_json(r)::text FROM referrals r WHERE r.id = $1::uuid";

/*
 * Open referral $1 of episode $2 "notified" at $4 (epoch) to the ward's hub,
 * with needs $3, when the episode is an inpatient with no open referral.
 */
static const char SQL_OPEN[] =
    "INSERT INTO referrals (id, episode_id, organisation_id, state, pathway, needs, notified_at)"
    " SELECT $1::uuid, e.id, w.hub_organisation_id, 'notified', e.pathway, nullif($3, ''),"
    " to_timestamp($4::double precision) FROM episodes e JOIN wards w ON w.code = e.ward"
    " WHERE e.id = $2::uuid AND e.state = 'admitted'"
    " AND NOT EXISTS (SELECT 1 FROM referrals x WHERE x.episode_id = e.id"
    "  AND x.closed_at IS NULL)";

/* The opening step of referral $1 (if this transaction opened it): actor $2/$3, cause $4. */
static const char SQL_OPEN_STEP[] =
    "INSERT INTO referral_steps (referral_id, at, from_state, to_state, actor_id, actor_name,"
    " actor_org, detail) SELECT r.id, r.notified_at, NULL, 'notified', $2::uuid, $3,"
    " (SELECT u.organisation_id FROM users u WHERE u.id = $2::uuid),"
    " jsonb_build_object('cause', $4::text) FROM referrals r WHERE r.id = $1::uuid";

/*
 * The system closes episode $1's open referral: completed when its state is
 * one of $2 (a JSON array), else withdrawn with reason $3; cause $4, request
 * $5.  Each with its step, audit row and event.
 */
static const char SQL_CLOSE[] =
    "WITH u AS (UPDATE referrals r SET"
    " state = CASE WHEN pre.state = ANY (cb_text_array($2::jsonb)) THEN 'completed'"
    "   ELSE 'withdrawn' END,"
    " withdraw_reason = CASE WHEN pre.state = ANY (cb_text_array($2::jsonb))"
    "   THEN r.withdraw_reason ELSE $3 END,"
    " closed_at = now(), version = r.version + 1, updated_at = now()"
    " FROM referrals pre WHERE r.episode_id = $1::uuid AND r.closed_at IS NULL AND pre.id = r.id"
    " RETURNING r.id, r.episode_id, pre.state AS from_state, r.state AS to_state,"
    " CASE WHEN r.state = 'completed' THEN 'complete' ELSE 'withdraw' END AS step,"
    " cb_referral_json(pre) AS before, cb_referral_json(r) AS doc,"
    " cb_referral_view_json(r) AS view, cb_referral_orgs(r) AS orgs),"
    " s AS (INSERT INTO referral_steps (referral_id, at, from_state, to_state, actor_name, detail)"
    "  SELECT u.id, now(), u.from_state, u.to_state, 'system', jsonb_strip_nulls("
    "  jsonb_build_object('step', u.step, 'cause', $4::text, 'reason',"
    "  CASE WHEN u.to_state = 'withdrawn' THEN $3 END)) FROM u),"
    " a AS (INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before,"
    "  after, request_id) SELECT NULL, 'system', 'referral.' || u.step, 'referral', u.id,"
    "  u.episode_id, u.before, u.doc, $5::uuid FROM u)"
    " INSERT INTO events (type, ward, episode_id, discipline, payload, organisations)"
    " SELECT 'referral.updated', e.ward, u.episode_id, 'social_work',"
    " jsonb_build_object('referral', u.view, 'step', u.step, 'ward', e.ward), u.orgs"
    " FROM u JOIN episodes e ON e.id = u.episode_id";

/*
 * An undone discharge: the referral of episode $1 whose latest step is the
 * discharge's goes back to the state before it (when no other is open);
 * request $2.  Its step, audit row and event.
 */
static const char SQL_REOPEN[] =
    "WITH last AS (SELECT DISTINCT ON (s.referral_id) s.referral_id, s.from_state, s.at, s.id,"
    "  s.detail->>'cause' AS cause FROM referral_steps s JOIN referrals x"
    "  ON x.id = s.referral_id WHERE x.episode_id = $1::uuid"
    "  ORDER BY s.referral_id, s.at DESC, s.id DESC),"
    " pick AS (SELECT * FROM last WHERE cause = 'discharge' ORDER BY at DESC, id DESC LIMIT 1),"
    " u AS (UPDATE referrals r SET state = pick.from_state, closed_at = NULL,"
    "  withdraw_reason = CASE WHEN pre.state = 'withdrawn' THEN NULL ELSE r.withdraw_reason END,"
    "  version = r.version + 1, updated_at = now()"
    "  FROM pick, referrals pre WHERE r.id = pick.referral_id AND pre.id = r.id"
    "  AND r.closed_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM referrals o"
    "   WHERE o.episode_id = $1::uuid AND o.closed_at IS NULL)"
    "  RETURNING r.id, r.episode_id, pre.state AS from_state, r.state AS to_state,"
    "  cb_referral_json(pre) AS before, cb_referral_json(r) AS doc,"
    "  cb_referral_view_json(r) AS view, cb_referral_orgs(r) AS orgs),"
    " s AS (INSERT INTO referral_steps (referral_id, at, from_state, to_state, actor_name, detail)"
    "  SELECT u.id, now(), u.from_state, u.to_state, 'system',"
    "  jsonb_build_object('cause', 'reopen') FROM u),"
    " a AS (INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before,"
    "  after, request_id) SELECT NULL, 'system', 'referral.restore', 'referral', u.id,"
    "  u.episode_id, u.before, u.doc, $2::uuid FROM u)"
    " INSERT INTO events (type, ward, episode_id, discipline, payload, organisations)"
    " SELECT 'referral.updated', e.ward, u.episode_id, 'social_work',"
    " jsonb_build_object('referral', u.view, 'step', NULL, 'ward', e.ward), u.orgs"
    " FROM u JOIN episodes e ON e.id = u.episode_id";

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static void get_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_referral_cb *cb = (store_referral_cb *)w->cb;
	const struct pg_result *res = r->res[0];
	struct referral_facts f;
	char *orgs = NULL, *save = NULL;

	if (r->st != ST_OK) {
		cb(r->st, NULL, w->arg);
		free(w);
		return;
	}
	if (db_rows(res) != 1) {
		cb(ST_NOT_FOUND, NULL, w->arg);
		free(w);
		return;
	}
	memset(&f, 0, sizeof f);
	copy(f.id, sizeof f.id, db_value(res, 0, 0));
	copy(f.episode_id, sizeof f.episode_id, db_value(res, 0, 1));
	copy(f.ward, sizeof f.ward, db_value(res, 0, 2));
	copy(f.state, sizeof f.state, db_value(res, 0, 3));
	f.version = atoi(db_value(res, 0, 4));
	copy(f.organisation_id, sizeof f.organisation_id, db_value(res, 0, 5));
	copy(f.held_by, sizeof f.held_by, db_value(res, 0, 6));
	copy(f.held_by_name, sizeof f.held_by_name, db_value(res, 0, 7));
	f.has_needs = db_value(res, 0, 8)[0] == 't';
	if (db_value(res, 0, 9) != NULL) {
		orgs = xstrdup(db_value(res, 0, 9));
		for (char *o = strtok_r(orgs, ",", &save);
		     o != NULL && f.norgs < STORE_REFERRAL_MAX_ORGS; o = strtok_r(NULL, ",", &save))
			f.orgs[f.norgs++] = o;
	}
	f.check_org_found = db_value(res, 0, 10) != NULL;
	copy(f.check_org_kind, sizeof f.check_org_kind, db_value(res, 0, 10));
	f.json = db_value(res, 0, 11);
	f.view_json = db_value(res, 0, 12);
	copy(f.service_provider_id, sizeof f.service_provider_id, db_value(res, 0, 13));
	if (r->n > 1) {
		const struct pg_result *h = r->res[1];
		struct referral_holder_facts *hf = &f.holder;

		hf->asked = true;
		hf->exists =
		    db_rows(h) == 1 && role_parse_user(db_value(h, 0, 0), &hf->role, NULL) == ST_OK;
		if (hf->exists) {
			hf->disabled = db_value(h, 0, 1)[0] == 't';
			hf->on_ward = db_value(h, 0, 2)[0] == 't';
			copy(hf->name, sizeof hf->name, db_value(h, 0, 3));
		}
	}
	cb(ST_OK, &f, w->arg);
	free(orgs);
	free(w);
}

void store_referral_get(struct db *db, const char *id, const char *check_org, store_referral_cb *cb,
                        void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {id, check_org};

	db_req_add(req, SQL_GET, 2, v);
	db_req_submit(db, req, get_done, store_wait_new((store_any_fn *)cb, arg, -1, "referral"));
}

void store_referral_get_holder(struct db *db, const char *id, const char *user_id,
                               store_referral_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {id, NULL};
	const char *h[] = {user_id, id};

	db_req_add(req, SQL_GET, 2, v);
	db_req_add(req, SQL_HOLDER, 2, h);
	db_req_submit(db, req, get_done, store_wait_new((store_any_fn *)cb, arg, -1, "referral"));
}

void store_referral_holders(struct db *db, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	int js = db_req_add(req, SQL_HOLDERS, 0, NULL);

	db_req_submit(db, req, store_json_done, store_wait_new((store_any_fn *)cb, arg, js, NULL));
}

/*
 * One audit row per referral in the list $5 ({"items": [...]}) shown to actor
 * $1/$2 of organisation $4 (request $3).
 */
static const char SQL_AUDIT_SHOWN[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, after,"
    " request_id) SELECT $1::uuid, $2, 'referral.read', 'referral', (x->>'id')::uuid,"
    " (x->>'episode_id')::uuid, jsonb_build_object('list', true, 'organisation', $4::uuid),"
    " $3::uuid FROM jsonb_array_elements($5::jsonb->'items') AS x";

void store_referral_audit_shown(struct db *db, const char *list_json, const struct actor *actor,
                                store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {actor->id, actor->name, actor->request_id, actor->organisation,
	                   list_json};

	db_req_add(req, SQL_AUDIT_SHOWN, 5, v);
	db_req_submit(db, req, store_json_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

void store_referral_audit_read(struct db *db, const struct referral_facts *f, const char *action,
                               const struct actor *actor, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();

	store_add_audit_read(req, actor, action, "referral", f->id, f->episode_id, NULL);
	db_req_submit(db, req, store_json_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

void store_referral_list(struct db *db, const struct referral_filter *f, const struct actor *actor,
                         store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char *wards = f->wards != NULL ? json_string_array(f->wards, f->nwards) : NULL;
	char limit[16], *detail;
	const char *open = f->open < 0 ? NULL : f->open ? "true" : "false";
	/* a partner sees only what names their organisation; none set: nothing at all */
	const char *partner_org = !f->partner ? NULL
	                          : f->organisation != NULL
	                              ? f->organisation
	                              : "00000000-0000-0000-0000-000000000000";
	cJSON *d = cJSON_CreateObject();
	int json_stmt;

	snprintf(limit, sizeof limit, "%d", f->limit);
	{
		const char *v[] = {wards,      f->states, f->partner ? NULL : f->organisation,
		                   open,       f->cursor, limit,
		                   partner_org};

		json_stmt = db_req_add(req, SQL_LIST, 7, v);
	}
	/* what was asked for, not what was seen */
	if (wards != NULL)
		cJSON_AddItemToObject(d, "wards", cJSON_Parse(wards));
	else
		cJSON_AddStringToObject(d, "wards", "*");
	if (f->states != NULL)
		cJSON_AddItemToObject(d, "states", cJSON_Parse(f->states));
	if (f->organisation != NULL)
		cJSON_AddStringToObject(d, "organisation", f->organisation);
	cJSON_AddNumberToObject(d, "limit", f->limit);
	detail = cJSON_PrintUnformatted(d);
	store_add_audit_read(req, actor, "referral.list", "referral", NULL, NULL, detail);
	cJSON_free(detail);
	cJSON_Delete(d);
	free(wards);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "referral"));
}

static void episode_list_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_referral_episode_cb *cb = (store_referral_episode_cb *)w->cb;

	if (r->st != ST_OK)
		cb(r->st, NULL, NULL, NULL, w->arg);
	else if (db_rows(r->res[0]) != 1)
		cb(ST_NOT_FOUND, NULL, NULL, NULL, w->arg);
	else
		cb(ST_OK, db_value(r->res[0], 0, 0), db_value(r->res[0], 0, 1),
		   db_value(r->res[0], 0, 2), w->arg);
	free(w);
}

void store_referral_episode_list(struct db *db, const char *episode_id, const char *organisation,
                                 store_referral_episode_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {episode_id, organisation};

	db_req_add(req, SQL_EPISODE_LIST, 2, v);
	db_req_submit(db, req, episode_list_done,
	              store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

void store_referral_audit_episode_list(struct db *db, const char *episode_id,
                                       const struct actor *actor, store_json_cb *cb, void *arg)
{
	store_audit_list_read(db, actor, "referral.list", "referral", episode_id, cb, arg);
}

void store_referral_steps(struct db *db, const struct referral_facts *f, const struct actor *actor,
                          store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {f->id};
	int js;

	js = db_req_add(req, SQL_STEPS, 1, v);
	store_add_audit_read(req, actor, "referral.steps", "referral", f->id, f->episode_id, NULL);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, js, "referral"));
}

static void add_audit(struct db_req *req, const char *id, const struct actor *a, const char *action,
                      const char *before)
{
	const char *au[] = {id, a->id, a->name, action, before, a->request_id};

	db_req_add(req, SQL_AUDIT, 6, au);
}

static void add_event(struct db_req *req, const char *id, const char *event, const char *step)
{
	const char *ev[] = {event, id, step};

	store_add_events_lock(req);
	db_req_add(req, SQL_EVENT, 3, ev);
}

void store_referral_write(struct db *db, const struct referral_facts *f,
                          const struct referral_write *w, const struct actor *actor,
                          store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *one[] = {f->id};
	char version[16];
	const char *hold = w->hold > 0 ? "1" : w->hold < 0 ? "-1" : "0";
	int js;

	snprintf(version, sizeof version, "%d", w->expected_version);
	{
		const char *v[] = {f->id,
		                   version,
		                   w->to,
		                   w->step,
		                   w->needs,
		                   w->contacts,
		                   w->organisation_id,
		                   w->info_request,
		                   w->decline_reason,
		                   w->withdraw_reason,
		                   w->service_kind,
		                   w->service_provider_id,
		                   w->service_detail,
		                   w->start_date,
		                   hold,
		                   w->assign_to != NULL ? w->assign_to : actor->id};

		db_req_add(req, SQL_WRITE, 16, v);
	}
	if (w->step != NULL) {
		const char *s[] = {f->id, w->from, w->to, actor->id, actor->name, w->detail_json};

		db_req_add(req, SQL_STEP, 6, s);
	}
	add_audit(req, f->id, actor, w->audit_action, f->json);
	add_event(req, f->id, "referral.updated", w->step);
	js = db_req_add(req, SQL_VIEW, 1, one);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, js, "referral"));
}

void store_referral_add_open(struct db_req *req, const char *id, const char *episode_id,
                             const char *needs, int64_t at, const char *cause,
                             const struct actor *actor)
{
	char when[32];
	const char *o[] = {id, episode_id, needs, when};
	const char *s[] = {id, actor->id, actor->name, cause};

	snprintf(when, sizeof when, "%" PRId64, at);
	db_req_add(req, SQL_OPEN, 4, o);
	db_req_add(req, SQL_OPEN_STEP, 4, s);
	/* these select the new row: nothing is written when none was opened */
	add_audit(req, id, actor, "referral.open", NULL);
}

void store_referral_add_created(struct db_req *req, const char *id)
{
	add_event(req, id, "referral.created", NULL);
}

/* The states from which lib/referral.c lets a referral complete, as a JSON array. */
static char *completable_states(void)
{
	const char *names[REFERRAL_STATE_COUNT];
	struct referral_step_input in;
	enum referral_state to;
	int n = 0;

	memset(&in, 0, sizeof in);
	for (int s = 0; s < REFERRAL_STATE_COUNT; s++)
		if (referral_step_check((enum referral_state)s, REFERRAL_STEP_COMPLETE, &in, &to,
		                        NULL) == ST_OK)
			names[n++] = referral_state_name((enum referral_state)s);
	return json_string_array(names, n);
}

static void add_close(struct db_req *req, const char *episode_id, const char *completable,
                      const char *reason, const char *cause, const struct actor *actor)
{
	const char *v[] = {episode_id, completable, reason, cause, actor->request_id};

	store_add_events_lock(req);
	db_req_add(req, SQL_CLOSE, 5, v);
}

void store_referral_add_discharge(struct db_req *req, const char *episode_id,
                                  const struct actor *actor)
{
	char *states = completable_states();

	add_close(req, episode_id, states, "discharged before the service was arranged",
	          "discharge", actor);
	free(states);
}

void store_referral_add_cancel(struct db_req *req, const char *episode_id,
                               const struct actor *actor)
{
	add_close(req, episode_id, "[]", "admission cancelled", "cancel", actor);
}

void store_referral_add_reopen(struct db_req *req, const char *episode_id,
                               const struct actor *actor)
{
	const char *v[] = {episode_id, actor->request_id};

	store_add_events_lock(req);
	db_req_add(req, SQL_REOPEN, 2, v);
}

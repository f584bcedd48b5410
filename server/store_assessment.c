/*
 * store_assessment.c - SQL for Care Act assessments (see store_assessment.h).
 */
#include "store_assessment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "db.h"
#include "json.h"
#include "xmalloc.h"

/*
 * A page of assessments (newest first) with ward, bed, patient and what the
 * queue triages by (the episode's state, admission, expected date, likely
 * pathway, readiness and primary barrier), and the total, filtered by wards
 * $1 (NULL for all), state $2 (NULL for any) and holder $5 (NULL for any).
 */
static const char SQL_ASSESSMENT_LIST[] =
    "WITH f AS (SELECT a.id, a.opened_at, a.created_at FROM assessments a"
    " JOIN episodes e ON e.id = a.episode_id"
    " WHERE ($1::jsonb IS NULL OR e.ward = ANY (cb_text_array($1::jsonb)))"
    " AND ($2::text IS NULL OR a.state = $2)"
    " AND ($5::uuid IS NULL OR a.claimed_by = $5::uuid))"
    " SELECT jsonb_build_object("
    "  'items', coalesce((SELECT jsonb_agg(cb_assessment_json(a) || jsonb_build_object("
    "     'ward', e.ward, 'bed', e.bed, 'episode_id', e.id,"
    "     'episode', jsonb_build_object('state', e.state, 'admitted_at', cb_ts(e.admitted_at),"
    "       'expected_discharge_date', to_char(e.expected_discharge_date, 'YYYY-MM-DD'),"
    "       'pathway', e.pathway, 'ready_at', cb_ts(e.ready_at),"
    "       'discharged_at', cb_ts(e.discharged_at),"
    "       'primary_barrier', (SELECT jsonb_build_object('reason', b.reason,"
    "         'reason_label', i.label, 'owner', b.owner, 'opened_at', cb_ts(b.opened_at))"
    "        FROM barriers b LEFT JOIN reference_items i"
    "        ON i.list = b.reason_list AND i.key = b.reason"
    "        WHERE b.episode_id = e.id AND b.is_primary)),"
    "     'patient', jsonb_build_object('family_name', p.family_name,"
    "       'given_name', p.given_name, 'nhs_number', p.nhs_number,"
    "       'birth_date', to_char(p.birth_date, 'YYYY-MM-DD')))"
    "     ORDER BY a.opened_at DESC, a.created_at DESC, a.id)"
    "    FROM assessments a JOIN episodes e ON e.id = a.episode_id"
    "    JOIN patients p ON p.id = e.patient_id"
    "    WHERE a.id IN (SELECT id FROM f ORDER BY opened_at DESC, created_at DESC, id"
    "                   LIMIT $3 OFFSET $4)), '[]'::jsonb),"
    "  'total', (SELECT count(*) FROM f), 'limit', $3::integer, 'offset', $4::integer)::text";

/* Facts and JSON of assessment $1: id, episode, ward, state, version, holder id and name. */
static const char SQL_ASSESSMENT_GET[] =
    "SELECT a.id, a.episode_id, e.ward, a.state, a.version, a.claimed_by,"
    " (SELECT u.name FROM users u WHERE u.id = a.claimed_by), cb_assessment_json(a)::text"
    " FROM assessments a JOIN episodes e ON e.id = a.episode_id WHERE a.id = $1::uuid";

/*
 * Claims assessment $1 for user $2 if it is unclaimed at this moment; CB409
 * otherwise.  A concurrent claim waits for the row lock and then finds the
 * state changed, so only one of two racing claims updates a row.
 */
static const char SQL_ASSESSMENT_CLAIM[] =
    "WITH u AS (UPDATE assessments SET state = 'claimed', claimed_by = $2::uuid,"
    " claimed_at = now(), version = version + 1, updated_at = now()"
    " WHERE id = $1::uuid AND state = 'unclaimed' RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB409', 'assessment is no longer \"unclaimed\"') FROM u";

/* Applies an assessment change if the version is still $2; CB412 otherwise. */
static const char SQL_ASSESSMENT_UPDATE[] =
    "WITH u AS (UPDATE assessments SET"
    " state = coalesce($3, state),"
    " claimed_by = CASE WHEN $3 = 'unclaimed' THEN NULL ELSE claimed_by END,"
    " claimed_at = CASE WHEN $3 = 'unclaimed' THEN NULL ELSE claimed_at END,"
    " completed_at = CASE WHEN $3 = 'completed' THEN coalesce(completed_at, now())"
    "   ELSE completed_at END,"
    " note = CASE WHEN $4::boolean THEN $5 ELSE note END,"
    " version = version + 1, updated_at = now()"
    " WHERE id = $1::uuid AND version = $2::integer RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB412',"
    " 'assessment was changed by someone else; reload it and try again') FROM u";

/*
 * Reassign: user $2 (the actor) must be an enabled social-work team lead
 * (CB403), user $3 (by name) an enabled social worker (CB400 naming "to"),
 * assessment $1 still open (CB409) and, when $4 is not NULL, at version $4
 * (CB412).  It becomes claimed by $3 from now.
 */
static const char SQL_ASSESSMENT_LEAD[] =
    "SELECT cb_expect(EXISTS (SELECT 1 FROM users WHERE id = $1::uuid AND team_lead"
    " AND role = 'social_worker' AND disabled_at IS NULL), 'CB403',"
    " 'only a social-work team lead may reassign an assessment')";

static const char SQL_ASSESSMENT_REASSIGN[] =
    "WITH t AS (SELECT id FROM users WHERE name = $2 AND role = 'social_worker'"
    "  AND disabled_at IS NULL),"
    " ok AS (SELECT cb_expect(EXISTS (SELECT 1 FROM t), 'CB400',"
    "  '\"to\" names no social worker who can take the case') AS v),"
    " cur AS (SELECT state, version FROM assessments WHERE id = $1::uuid),"
    " open AS (SELECT cb_expect((SELECT state FROM cur) NOT IN ('completed', 'cancelled'),"
    "  'CB409', 'assessment is closed: it cannot be reassigned') AS v),"
    " ver AS (SELECT cb_expect($3::integer IS NULL OR (SELECT version FROM cur) = $3::integer,"
    "  'CB412', 'assessment was changed by someone else; reload it and try again') AS v),"
    " u AS (UPDATE assessments SET claimed_by = (SELECT id FROM t), claimed_at = now(),"
    "  state = CASE WHEN state = 'unclaimed' THEN 'claimed' ELSE state END,"
    "  version = version + 1, updated_at = now()"
    "  WHERE id = $1::uuid AND (SELECT v FROM ok) AND (SELECT v FROM open) AND (SELECT v FROM ver)"
    "  RETURNING 1)"
    " SELECT count(*) FROM u";

/* Assessment $1 as JSON text. */
static const char SQL_ASSESSMENT_JSON[] =
    "SELECT cb_assessment_json(a)::text FROM assessments a WHERE a.id = $1::uuid";

void store_assessment_list(struct db *db, const struct assessment_filter *f,
                           const struct actor *actor, store_assessment_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char *wards = f->wards != NULL ? json_string_array(f->wards, f->nwards) : NULL;
	char limit[16], offset[16], *detail;
	cJSON *d = cJSON_CreateObject();
	int json_stmt;

	snprintf(limit, sizeof limit, "%d", f->limit);
	snprintf(offset, sizeof offset, "%d", f->offset);
	{
		const char *v[] = {wards, f->state, limit, offset, f->claimed_by};

		json_stmt = db_req_add(req, SQL_ASSESSMENT_LIST, 5, v);
	}
	/* what was asked for, not what was seen */
	if (wards != NULL)
		cJSON_AddItemToObject(d, "wards", cJSON_Parse(wards));
	else
		cJSON_AddStringToObject(d, "wards", "*");
	cJSON_AddStringToObject(d, "state", f->state != NULL ? f->state : "*");
	cJSON_AddStringToObject(d, "claimed_by", f->claimed_by != NULL ? f->claimed_by : "*");
	cJSON_AddNumberToObject(d, "limit", f->limit);
	cJSON_AddNumberToObject(d, "offset", f->offset);
	detail = cJSON_PrintUnformatted(d);
	store_add_audit_read(req, actor, "assessment.list", "assessment", NULL, NULL, detail);
	cJSON_free(detail);
	cJSON_Delete(d);
	free(wards);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "assessment"));
}

static void get_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_assessment_cb *cb = (store_assessment_cb *)w->cb;
	const struct pg_result *res = r->res[0];
	struct assessment_facts f;
	const char *by, *name;

	if (r->st != ST_OK) {
		cb(r->st, NULL, w->arg);
	} else if (db_rows(res) != 1) {
		cb(ST_NOT_FOUND, NULL, w->arg);
	} else {
		memset(&f, 0, sizeof f);
		snprintf(f.id, sizeof f.id, "%s", db_value(res, 0, 0));
		snprintf(f.episode_id, sizeof f.episode_id, "%s", db_value(res, 0, 1));
		snprintf(f.ward, sizeof f.ward, "%s", db_value(res, 0, 2));
		snprintf(f.state, sizeof f.state, "%s", db_value(res, 0, 3));
		f.version = atoi(db_value(res, 0, 4));
		by = db_value(res, 0, 5);
		name = db_value(res, 0, 6);
		snprintf(f.claimed_by, sizeof f.claimed_by, "%s", by != NULL ? by : "");
		snprintf(f.claimed_by_name, sizeof f.claimed_by_name, "%s",
		         name != NULL ? name : "");
		f.json = db_value(res, 0, 7);
		cb(ST_OK, &f, w->arg);
	}
	free(w);
}

void store_assessment_get(struct db *db, const char *id, store_assessment_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {id};

	db_req_add(req, SQL_ASSESSMENT_GET, 1, v);
	db_req_submit(db, req, get_done, store_wait_new((store_any_fn *)cb, arg, -1, "assessment"));
}

void store_assessment_claim(struct db *db, const struct assessment_facts *f,
                            const struct actor *actor, store_assessment_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {f->id, actor->id};
	const char *one[] = {f->id};
	int json_stmt;

	db_req_add(req, SQL_ASSESSMENT_CLAIM, 2, v);
	store_add_audit(req, actor, "assessment.claim", "assessment", f->id, f->episode_id, f->json,
	                NULL);
	store_add_events_lock(req);
	store_add_event(req, "assessment.claimed", "assessment", f->id);
	json_stmt = db_req_add(req, SQL_ASSESSMENT_JSON, 1, one);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "assessment"));
}

void store_assessment_change(struct db *db, const struct assessment_facts *f,
                             const struct assessment_change *c, const struct actor *actor,
                             store_assessment_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *one[] = {f->id};
	char version[16];
	int json_stmt;

	snprintf(version, sizeof version, "%d", c->expected_version);
	{
		const char *v[] = {f->id, version, c->state,
		                   c->set_note || c->clear_note ? "true" : "false",
		                   c->set_note ? c->note : NULL};

		db_req_add(req, SQL_ASSESSMENT_UPDATE, 5, v);
	}
	store_add_audit(req, actor, c->audit_action, "assessment", f->id, f->episode_id, f->json,
	                NULL);
	store_add_events_lock(req);
	store_add_event(req, c->event_type, "assessment", f->id);
	json_stmt = db_req_add(req, SQL_ASSESSMENT_JSON, 1, one);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "assessment"));
}

void store_assessment_reassign(struct db *db, const struct assessment_facts *f, const char *to,
                               int expected_version, const struct actor *actor,
                               store_assessment_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *lead[] = {actor->id};
	const char *one[] = {f->id};
	char version[16];
	int json_stmt;

	snprintf(version, sizeof version, "%d", expected_version);
	{
		const char *v[] = {f->id, to, expected_version >= 0 ? version : NULL};

		db_req_add(req, SQL_ASSESSMENT_LEAD, 1, lead);
		db_req_add(req, SQL_ASSESSMENT_REASSIGN, 3, v);
	}
	store_add_audit(req, actor, "assessment.reassign", "assessment", f->id, f->episode_id,
	                f->json, NULL);
	store_add_events_lock(req);
	store_add_event(req, "assessment.claimed", "assessment", f->id);
	json_stmt = db_req_add(req, SQL_ASSESSMENT_JSON, 1, one);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "assessment"));
}

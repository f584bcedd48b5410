/*
 * store_fhir.c - SQL of the FHIR R4 facade (see store_fhir.h).
 */
#include "store_fhir.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "json.h"
#include "xmalloc.h"

/* An instant with microseconds ("2026-12-03T10:00:00.123456Z"): FHIR's meta.lastUpdated. */
#define SQL_INSTANT(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/*
 * A referral r of episode e as lib/fhir reads it (ServiceRequest and the
 * referral's Task): cb_referral_json, its patient, the trust (the requester)
 * and the marker "record": "referral".
 */
#define SQL_REFERRAL_STORED                                                                        \
	"(cb_referral_json(r) || jsonb_build_object('patient_id', e.patient_id,"                   \
	" 'last_updated', " SQL_INSTANT(                                                           \
	    "r.updated_at") ", 'record', 'referral', 'trust',"                                     \
			    "  (SELECT jsonb_build_object('code', o.code, 'name', o.name) FROM "   \
			    "organisations o"                                                      \
			    "   WHERE o.kind = 'trust')))"

/* Patient $1: its JSON, the wards of its episodes, no episode, every organisation referred to. */
static const char SQL_PATIENT_READ[] =
    "SELECT (cb_patient_json(p) || jsonb_build_object('last_updated', " SQL_INSTANT(
	"p.updated_at") "))::text,"
			" coalesce((SELECT jsonb_agg(DISTINCT e.ward) FROM episodes e"
			"  WHERE e.patient_id = p.id), '[]'::jsonb)::text, '',"
			" coalesce((SELECT jsonb_agg(DISTINCT o) FROM episodes e"
			"  JOIN referrals x ON x.episode_id = e.id, unnest(cb_referral_orgs(x)) o"
			"  WHERE e.patient_id = p.id), '[]'::jsonb)::text"
			" FROM patients p WHERE p.id = $1::uuid";

/* Episode $1: its JSON with the ward's name, its ward, itself, its referrals' organisations. */
static const char SQL_ENCOUNTER_READ[] =
    "SELECT (cb_episode_summary_json(e) || jsonb_build_object('ward_name', w.name,"
    " 'last_updated', " SQL_INSTANT(
	"e.updated_at") "))::text,"
			" jsonb_build_array(e.ward)::text, e.id::text,"
			" coalesce((SELECT jsonb_agg(DISTINCT o) FROM referrals x, "
			"unnest(cb_referral_orgs(x)) o"
			"  WHERE x.episode_id = e.id), '[]'::jsonb)::text"
			" FROM episodes e JOIN wards w ON w.code = e.ward WHERE e.id = $1::uuid";

/*
 * Task $1: its JSON with its patient and discipline's title, its episode's
 * ward, its episode, no organisations (a discipline task is the trust's).
 */
static const char SQL_TASK_READ[] =
    "SELECT (cb_task_json(t) || jsonb_build_object('patient_id', e.patient_id,"
    " 'discipline_title', d.title, 'last_updated', " SQL_INSTANT(
	"t.updated_at") "))::text,"
			" jsonb_build_array(e.ward)::text, e.id::text, '[]'"
			" FROM tasks t JOIN episodes e ON e.id = t.episode_id"
			" JOIN disciplines d ON d.name = t.discipline WHERE t.id = $1::uuid";

/*
 * Referral $1 (a ServiceRequest, or the referral's Task): its stored form,
 * its episode's ward, its episode, and the organisations it names (its own,
 * not its episode's other referrals': a partner reads the referrals naming
 * them, as GET /api/v1/referrals/{id}).
 */
static const char SQL_REFERRAL_READ[] =
    "SELECT " SQL_REFERRAL_STORED "::text, jsonb_build_array(e.ward)::text, e.id::text,"
    " to_jsonb(cb_referral_orgs(r))::text"
    " FROM referrals r JOIN episodes e ON e.id = r.episode_id WHERE r.id = $1::uuid";

/*
 * The searches.  Parameters shared by all: $1 the wards readable (a JSON
 * array; NULL: every ward), $2 _id, $3 and $4 the _lastUpdated bounds
 * [from, to), $5 the cursor (the page starts after this id), $6 the page
 * size plus one, $9 a partner's organisation (NULL: the trust's staff): only
 * what is referred to it (cb_referral_orgs, as the JSON API's partner
 * reads), so that the total never counts another organisation's patients.
 * Each returns the total matching and the page (ids in order) as a JSON
 * array of stored JSON objects.
 */
/* Patients: $7 an identifier value, $8 its kind ("nhs", "local", "any"). */
static const char SQL_PATIENT_SEARCH[] =
    "WITH f AS (SELECT p.id FROM patients p"
    " WHERE ($1::jsonb IS NULL OR EXISTS (SELECT 1 FROM episodes e WHERE e.patient_id = p.id"
    "   AND e.ward = ANY (cb_text_array($1::jsonb))))"
    " AND ($2::uuid IS NULL OR p.id = $2::uuid)"
    " AND ($3::timestamptz IS NULL OR p.updated_at >= $3::timestamptz)"
    " AND ($4::timestamptz IS NULL OR p.updated_at < $4::timestamptz)"
    " AND ($7::text IS NULL OR ($8::text IN ('nhs', 'any') AND p.nhs_number::text = $7)"
    "   OR ($8::text IN ('local', 'any') AND p.local_id = $7))"
    " AND ($9::uuid IS NULL OR EXISTS (SELECT 1 FROM episodes e JOIN referrals x"
    "   ON x.episode_id = e.id WHERE e.patient_id = p.id"
    "   AND $9::uuid = ANY (cb_referral_orgs(x))))),"
    " page AS (SELECT id FROM f WHERE $5::uuid IS NULL OR id > $5::uuid ORDER BY id LIMIT $6)"
    " SELECT (SELECT count(*) FROM f),"
    " coalesce((SELECT jsonb_agg(cb_patient_json(p) || "
    "jsonb_build_object('last_updated', " SQL_INSTANT(
	"p.updated_at") ") ORDER BY p.id)"
			"  FROM patients p JOIN page ON page.id = p.id), '[]'::jsonb)::text";

/* Episodes: $7 the patient, $8 the states (a JSON array; NULL: any). */
static const char SQL_ENCOUNTER_SEARCH[] =
    "WITH f AS (SELECT e.id FROM episodes e"
    " WHERE ($1::jsonb IS NULL OR e.ward = ANY (cb_text_array($1::jsonb)))"
    " AND ($2::uuid IS NULL OR e.id = $2::uuid)"
    " AND ($3::timestamptz IS NULL OR e.updated_at >= $3::timestamptz)"
    " AND ($4::timestamptz IS NULL OR e.updated_at < $4::timestamptz)"
    " AND ($7::uuid IS NULL OR e.patient_id = $7::uuid)"
    " AND ($8::jsonb IS NULL OR e.state = ANY (cb_text_array($8::jsonb)))"
    " AND ($9::uuid IS NULL OR EXISTS (SELECT 1 FROM referrals x WHERE x.episode_id = e.id"
    "   AND $9::uuid = ANY (cb_referral_orgs(x))))),"
    " page AS (SELECT id FROM f WHERE $5::uuid IS NULL OR id > $5::uuid ORDER BY id LIMIT $6)"
    " SELECT (SELECT count(*) FROM f),"
    " coalesce((SELECT jsonb_agg(cb_episode_summary_json(e) || jsonb_build_object("
    "  'ward_name', w.name, 'last_updated', " SQL_INSTANT("e.updated_at") ") ORDER BY e.id)"
									  "  FROM episodes e JOIN "
									  "page ON page.id = e.id"
									  " JOIN wards w ON "
									  "w.code = e.ward), "
									  "'[]'::jsonb)::text";

/*
 * Tasks: the discipline tasks (the trust's: none for a partner) and the
 * referrals' Tasks, paged together by FHIR id in byte order (a task's UUID,
 * then "referral-<UUID>"); $2 and $5 are FHIR ids; $7 the patient, $8 the
 * FHIR statuses (a JSON array; NULL: any): a task stores its own, a
 * referral's is cb_referral_task_status() of its state.
 */
static const char SQL_TASK_SEARCH[] =
    "WITH f AS (SELECT t.id, t.id::text AS fid, false AS referral FROM tasks t"
    " JOIN episodes e ON e.id = t.episode_id"
    " WHERE $9::uuid IS NULL"
    " AND ($1::jsonb IS NULL OR e.ward = ANY (cb_text_array($1::jsonb)))"
    " AND ($2::text IS NULL OR t.id ="
    "   (CASE WHEN $2::text NOT LIKE 'referral-%' THEN $2::text END)::uuid)"
    " AND ($3::timestamptz IS NULL OR t.updated_at >= $3::timestamptz)"
    " AND ($4::timestamptz IS NULL OR t.updated_at < $4::timestamptz)"
    " AND ($7::uuid IS NULL OR e.patient_id = $7::uuid)"
    " AND ($8::jsonb IS NULL OR t.status = ANY (cb_text_array($8::jsonb)))"
    " UNION ALL SELECT r.id, 'referral-' || r.id::text, true FROM referrals r"
    " JOIN episodes e ON e.id = r.episode_id"
    " WHERE ($9::uuid IS NULL OR $9::uuid = ANY (cb_referral_orgs(r)))"
    " AND ($1::jsonb IS NULL OR e.ward = ANY (cb_text_array($1::jsonb)))"
    " AND ($2::text IS NULL OR r.id ="
    "   (CASE WHEN $2::text LIKE 'referral-%' THEN substr($2::text, 10) END)::uuid)"
    " AND ($3::timestamptz IS NULL OR r.updated_at >= $3::timestamptz)"
    " AND ($4::timestamptz IS NULL OR r.updated_at < $4::timestamptz)"
    " AND ($7::uuid IS NULL OR e.patient_id = $7::uuid)"
    " AND ($8::jsonb IS NULL OR cb_referral_task_status(r.state) = ANY"
    "   (cb_text_array($8::jsonb)))),"
    " page AS (SELECT id, fid, referral FROM f"
    "  WHERE $5::text IS NULL OR fid COLLATE \"C\" > $5::text"
    "  ORDER BY fid COLLATE \"C\" LIMIT $6)"
    " SELECT (SELECT count(*) FROM f),"
    " coalesce((SELECT jsonb_agg(x.j ORDER BY x.fid COLLATE \"C\") FROM ("
    "  SELECT page.fid, cb_task_json(t) || jsonb_build_object('patient_id', e.patient_id,"
    "   'discipline_title', d.title, 'last_updated', " SQL_INSTANT(
	"t.updated_at") ") AS j"
			"  FROM page JOIN tasks t ON t.id = page.id AND NOT page.referral"
			"  JOIN episodes e ON e.id = t.episode_id JOIN disciplines d ON d.name = "
			"t.discipline"
			"  UNION ALL SELECT page.fid, " SQL_REFERRAL_STORED
			"  FROM page JOIN referrals r ON r.id = page.id AND page.referral"
			"  JOIN episodes e ON e.id = r.episode_id) x), '[]'::jsonb)::text";

/* ServiceRequests (referrals): $7 the patient, $8 the referral states (NULL: any). */
static const char SQL_REFERRAL_SEARCH[] =
    "WITH f AS (SELECT r.id FROM referrals r JOIN episodes e ON e.id = r.episode_id"
    " WHERE ($1::jsonb IS NULL OR e.ward = ANY (cb_text_array($1::jsonb)))"
    " AND ($2::uuid IS NULL OR r.id = $2::uuid)"
    " AND ($3::timestamptz IS NULL OR r.updated_at >= $3::timestamptz)"
    " AND ($4::timestamptz IS NULL OR r.updated_at < $4::timestamptz)"
    " AND ($7::uuid IS NULL OR e.patient_id = $7::uuid)"
    " AND ($8::jsonb IS NULL OR r.state = ANY (cb_text_array($8::jsonb)))"
    " AND ($9::uuid IS NULL OR $9::uuid = ANY (cb_referral_orgs(r)))),"
    " page AS (SELECT id FROM f WHERE $5::uuid IS NULL OR id > $5::uuid ORDER BY id LIMIT $6)"
    " SELECT (SELECT count(*) FROM f),"
    " coalesce((SELECT jsonb_agg(" SQL_REFERRAL_STORED " ORDER BY r.id)"
    "  FROM referrals r JOIN page ON page.id = r.id"
    "  JOIN episodes e ON e.id = r.episode_id), '[]'::jsonb)::text";

/*
 * Audit rows of reads: $1 actor id, $2 actor, $3 the entity read, $4 an
 * array of [entity_id, episode_id, entity (NULL: $3)], $5 detail, $6
 * request id, $7 a partner's organisation (joins the detail, as
 * store_add_audit_read does).  The action is "<entity>.read".
 */
static const char SQL_AUDIT_READS[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, after,"
    " request_id) SELECT $1::uuid, $2, coalesce(x->>2, $3) || '.read', coalesce(x->>2, $3),"
    " (x->>0)::uuid, (x->>1)::uuid,"
    " CASE WHEN $7::uuid IS NULL THEN $5::jsonb"
    "  ELSE $5::jsonb || jsonb_build_object('organisation', $7::uuid) END,"
    " $6::uuid FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS a(x, n) ORDER BY n";

/* carebridge's name of the entity a FHIR type shows (the audit's entity). */
static const char *entity_name(enum fhir_type type)
{
	switch (type) {
	case FHIR_PATIENT:
		return "patient";
	case FHIR_ENCOUNTER:
		return "episode";
	case FHIR_TASK:
		return "task";
	case FHIR_SERVICE_REQUEST:
		return "referral";
	}
	ASSERT(!"unknown FHIR type");
	return NULL;
}

static void read_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_fhir_read_cb *cb = (store_fhir_read_cb *)w->cb;

	if (r->st != ST_OK)
		cb(r->st, NULL, NULL, NULL, NULL, w->arg);
	else if (db_rows(r->res[0]) != 1)
		cb(ST_NOT_FOUND, NULL, NULL, NULL, NULL, w->arg);
	else
		cb(ST_OK, db_value(r->res[0], 0, 0), db_value(r->res[0], 0, 1),
		   db_value(r->res[0], 0, 2), db_value(r->res[0], 0, 3), w->arg);
	free(w);
}

void store_fhir_read(struct db *db, enum fhir_type type, const char *id, store_fhir_read_cb *cb,
                     void *arg)
{
	static const char *const sql[FHIR_TYPE_COUNT] = {
	    [FHIR_PATIENT] = SQL_PATIENT_READ,
	    [FHIR_ENCOUNTER] = SQL_ENCOUNTER_READ,
	    [FHIR_TASK] = SQL_TASK_READ,
	    [FHIR_SERVICE_REQUEST] = SQL_REFERRAL_READ,
	};
	struct db_req *req = db_req_new();
	const char *query;
	char uuid[37];
	const char *v[] = {uuid};

	ASSERT((unsigned)type < FHIR_TYPE_COUNT);
	query = sql[type];
	if (type != FHIR_TASK) {
		snprintf(uuid, sizeof uuid, "%s", id);
	} else {
		/* http.c lets only the two forms of a Task id through */
		enum fhir_task_kind kind = fhir_task_id_parse(id, uuid);

		ASSERT(kind != FHIR_TASK_NONE);
		if (kind == FHIR_TASK_REFERRAL)
			query = SQL_REFERRAL_READ;
	}
	db_req_add(req, query, 1, v);
	db_req_submit(db, req, read_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

static void search_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_fhir_page_cb *cb = (store_fhir_page_cb *)w->cb;

	if (r->st != ST_OK)
		cb(r->st, &r->err, 0, NULL, w->arg);
	else
		cb(ST_OK, NULL, strtoll(db_value(r->res[0], 0, 0), NULL, 10),
		   db_value(r->res[0], 0, 1), w->arg);
	free(w);
}

void store_fhir_search(struct db *db, const struct fhir_search *s, const char *const *wards,
                       int nwards, const char *organisation, store_fhir_page_cb *cb, void *arg)
{
	static const char *const sql[FHIR_TYPE_COUNT] = {
	    [FHIR_PATIENT] = SQL_PATIENT_SEARCH,
	    [FHIR_ENCOUNTER] = SQL_ENCOUNTER_SEARCH,
	    [FHIR_TASK] = SQL_TASK_SEARCH,
	    [FHIR_SERVICE_REQUEST] = SQL_REFERRAL_SEARCH,
	};
	struct db_req *req = db_req_new();
	char *ward_list = NULL, *states = NULL, limit[16];
	const char *p7 = NULL, *p8 = NULL;

	ASSERT((unsigned)s->type < FHIR_TYPE_COUNT);
	if (wards != NULL)
		ward_list = json_string_array(wards, nwards);
	snprintf(limit, sizeof limit, "%d", s->count + 1);
	if (s->type == FHIR_PATIENT) {
		p7 = s->identifier[0] != '\0' ? s->identifier : NULL;
		p8 = s->identifier_kind != NULL ? s->identifier_kind : "any";
	} else {
		p7 = s->patient[0] != '\0' ? s->patient : NULL;
		if (s->has_status)
			p8 = states = json_string_array(s->states, s->nstates);
	}
	{
		const char *v[] = {ward_list,
		                   s->id[0] != '\0' ? s->id : NULL,
		                   s->from[0] != '\0' ? s->from : NULL,
		                   s->to[0] != '\0' ? s->to : NULL,
		                   s->cursor[0] != '\0' ? s->cursor : NULL,
		                   limit,
		                   p7,
		                   p8,
		                   organisation};

		db_req_add(req, sql[s->type], 9, v);
	}
	free(ward_list);
	free(states);
	db_req_submit(db, req, search_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

void store_fhir_audit(struct db *db, const struct actor *actor, enum fhir_type type,
                      const char *reads_json, const char *detail_json, const char *via,
                      store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *entity = entity_name(type);
	cJSON *d = cJSON_CreateObject();
	char *detail;

	cJSON_AddStringToObject(d, "via", via);
	detail = cJSON_PrintUnformatted(d);
	ASSERT(detail != NULL);
	if (detail_json != NULL)
		store_add_audit_read(req, actor, "fhir.search", entity, NULL, NULL, detail_json);
	{
		const char *v[] = {actor->id,          actor->name, entity,
		                   reads_json,         detail,      actor->request_id,
		                   actor->organisation};

		db_req_add(req, SQL_AUDIT_READS, 7, v);
	}
	cJSON_free(detail);
	cJSON_Delete(d);
	db_req_submit(db, req, store_json_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

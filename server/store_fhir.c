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

/* Patient $1: its JSON, the wards of its episodes, no episode. */
static const char SQL_PATIENT_READ[] =
    "SELECT (cb_patient_json(p) || jsonb_build_object('last_updated', " SQL_INSTANT(
	"p.updated_at") "))::text,"
			" coalesce((SELECT jsonb_agg(DISTINCT e.ward) FROM episodes e"
			"  WHERE e.patient_id = p.id), '[]'::jsonb)::text, ''"
			" FROM patients p WHERE p.id = $1::uuid";

/* Episode $1: its JSON with the ward's name, its ward, itself. */
static const char SQL_ENCOUNTER_READ[] =
    "SELECT (cb_episode_summary_json(e) || jsonb_build_object('ward_name', w.name,"
    " 'last_updated', " SQL_INSTANT("e.updated_at") "))::text,"
						    " jsonb_build_array(e.ward)::text, e.id::text"
						    " FROM episodes e JOIN wards w ON w.code = "
						    "e.ward WHERE e.id = $1::uuid";

/* Task $1: its JSON with its patient and discipline's title, its episode's ward, its episode. */
static const char SQL_TASK_READ[] =
    "SELECT (cb_task_json(t) || jsonb_build_object('patient_id', e.patient_id,"
    " 'discipline_title', d.title, 'last_updated', " SQL_INSTANT(
	"t.updated_at") "))::text,"
			" jsonb_build_array(e.ward)::text, e.id::text"
			" FROM tasks t JOIN episodes e ON e.id = t.episode_id"
			" JOIN disciplines d ON d.name = t.discipline WHERE t.id = $1::uuid";

/*
 * The searches.  Parameters shared by all three: $1 the wards readable (a
 * JSON array; NULL: every ward), $2 _id, $3 and $4 the _lastUpdated bounds
 * [from, to), $5 the cursor (the page starts after this id), $6 the page
 * size plus one.  Each returns the total matching and the page (ids in
 * order) as a JSON array of stored JSON objects.
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
    "   OR ($8::text IN ('local', 'any') AND p.local_id = $7))),"
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
    " AND ($8::jsonb IS NULL OR e.state = ANY (cb_text_array($8::jsonb)))),"
    " page AS (SELECT id FROM f WHERE $5::uuid IS NULL OR id > $5::uuid ORDER BY id LIMIT $6)"
    " SELECT (SELECT count(*) FROM f),"
    " coalesce((SELECT jsonb_agg(cb_episode_summary_json(e) || jsonb_build_object("
    "  'ward_name', w.name, 'last_updated', " SQL_INSTANT("e.updated_at") ") ORDER BY e.id)"
									  "  FROM episodes e JOIN "
									  "page ON page.id = e.id"
									  " JOIN wards w ON "
									  "w.code = e.ward), "
									  "'[]'::jsonb)::text";

/* Tasks: $7 the patient, $8 the statuses (a JSON array; NULL: any). */
static const char SQL_TASK_SEARCH[] =
    "WITH f AS (SELECT t.id FROM tasks t JOIN episodes e ON e.id = t.episode_id"
    " WHERE ($1::jsonb IS NULL OR e.ward = ANY (cb_text_array($1::jsonb)))"
    " AND ($2::uuid IS NULL OR t.id = $2::uuid)"
    " AND ($3::timestamptz IS NULL OR t.updated_at >= $3::timestamptz)"
    " AND ($4::timestamptz IS NULL OR t.updated_at < $4::timestamptz)"
    " AND ($7::uuid IS NULL OR e.patient_id = $7::uuid)"
    " AND ($8::jsonb IS NULL OR t.status = ANY (cb_text_array($8::jsonb)))),"
    " page AS (SELECT id FROM f WHERE $5::uuid IS NULL OR id > $5::uuid ORDER BY id LIMIT $6)"
    " SELECT (SELECT count(*) FROM f),"
    " coalesce((SELECT jsonb_agg(cb_task_json(t) || jsonb_build_object("
    "  'patient_id', e.patient_id, 'discipline_title', d.title,"
    "  'last_updated', " SQL_INSTANT("t.updated_at") ") ORDER BY t.id)"
						     "  FROM tasks t JOIN page ON page.id = t.id"
						     " JOIN episodes e ON e.id = t.episode_id"
						     " JOIN disciplines d ON d.name = "
						     "t.discipline), '[]'::jsonb)::text";

/*
 * Audit rows of reads: $1 actor id, $2 actor, $3 action, $4 entity, $5 an
 * array of [entity_id, episode_id], $6 detail, $7 request id.
 */
static const char SQL_AUDIT_READS[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, after,"
    " request_id) SELECT $1::uuid, $2, $3, $4, (x->>0)::uuid, (x->>1)::uuid, $6::jsonb,"
    " $7::uuid FROM jsonb_array_elements($5::jsonb) WITH ORDINALITY AS a(x, n) ORDER BY n";

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
	}
	ASSERT(!"unknown FHIR type");
	return NULL;
}

static void read_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_fhir_read_cb *cb = (store_fhir_read_cb *)w->cb;

	if (r->st != ST_OK)
		cb(r->st, NULL, NULL, NULL, w->arg);
	else if (db_rows(r->res[0]) != 1)
		cb(ST_NOT_FOUND, NULL, NULL, NULL, w->arg);
	else
		cb(ST_OK, db_value(r->res[0], 0, 0), db_value(r->res[0], 0, 1),
		   db_value(r->res[0], 0, 2), w->arg);
	free(w);
}

void store_fhir_read(struct db *db, enum fhir_type type, const char *id, store_fhir_read_cb *cb,
                     void *arg)
{
	static const char *const sql[FHIR_TYPE_COUNT] = {
	    [FHIR_PATIENT] = SQL_PATIENT_READ,
	    [FHIR_ENCOUNTER] = SQL_ENCOUNTER_READ,
	    [FHIR_TASK] = SQL_TASK_READ,
	};
	struct db_req *req = db_req_new();
	const char *v[] = {id};

	ASSERT((unsigned)type < FHIR_TYPE_COUNT);
	db_req_add(req, sql[type], 1, v);
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
                       int nwards, store_fhir_page_cb *cb, void *arg)
{
	static const char *const sql[FHIR_TYPE_COUNT] = {
	    [FHIR_PATIENT] = SQL_PATIENT_SEARCH,
	    [FHIR_ENCOUNTER] = SQL_ENCOUNTER_SEARCH,
	    [FHIR_TASK] = SQL_TASK_SEARCH,
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
		                   p8};

		db_req_add(req, sql[s->type], 8, v);
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
	char *action = xasprintf("%s.read", entity);
	cJSON *d = cJSON_CreateObject();
	char *detail;

	cJSON_AddStringToObject(d, "via", via);
	detail = cJSON_PrintUnformatted(d);
	ASSERT(detail != NULL);
	if (detail_json != NULL)
		store_add_audit_read(req, actor, "fhir.search", entity, NULL, NULL, detail_json);
	{
		const char *v[] = {actor->id,  actor->name, action,           entity,
		                   reads_json, detail,      actor->request_id};

		db_req_add(req, SQL_AUDIT_READS, 7, v);
	}
	cJSON_free(detail);
	cJSON_Delete(d);
	free(action);
	db_req_submit(db, req, store_json_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

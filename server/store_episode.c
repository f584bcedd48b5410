/*
 * store_episode.c - SQL for admissions and episodes (see store_episode.h).
 */
#include "store_episode.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "cbtime.h"
#include "db.h"
#include "json.h"
#include "referral.h"
#include "store_referral.h"
#include "xmalloc.h"

/* Active task templates in their order: id, pathways, discipline, title, anchor, offset. */
static const char SQL_TEMPLATES_ACTIVE[] =
    "SELECT id, min_pathway, max_pathway, discipline, title, anchor, offset_seconds"
    " FROM task_templates WHERE active ORDER BY position, id";

/* One row when ward $1 exists. */
static const char SQL_WARD_EXISTS[] = "SELECT 1 FROM wards WHERE code = $1";

/*
 * An admission retry: the episode that key $2 of scope $1 opened in the last
 * 48 hours, and whether fingerprint $3 is that of the first request.
 */
static const char SQL_IDEMPOTENCY_GET[] =
    "SELECT episode_id, body_hash = sha256(convert_to($3, 'UTF8')) FROM idempotency"
    " WHERE scope = $1 AND key = $2 AND created_at > now() - interval '48 hours'";

/* Aborts with CB409 when an episode already has external_id $1 (anyone's). */
static const char SQL_EXTERNAL_ID_FREE[] =
    "SELECT cb_expect(NOT EXISTS (SELECT 1 FROM episodes WHERE external_id = $1),"
    " 'CB409', '\"external_id\" was already used for another admission')";

/* Aborts with CB409 when the patient with NHS number $1 has an open episode. */
static const char SQL_NO_OPEN_EPISODE[] =
    "SELECT cb_expect(NOT EXISTS (SELECT 1 FROM episodes e JOIN patients p"
    " ON p.id = e.patient_id WHERE p.nhs_number = $1 AND e.state = 'admitted'),"
    " 'CB409', 'patient already has an open episode')";

/* Creates patient $1 (NHS number $2) or updates the demographics of the existing one. */
static const char SQL_PATIENT_UPSERT[] =
    "INSERT INTO patients (id, nhs_number, family_name, given_name, birth_date, sex)"
    " VALUES ($1::uuid, $2, $3, $4, $5::date, $6)"
    " ON CONFLICT (nhs_number) DO UPDATE SET family_name = EXCLUDED.family_name,"
    " given_name = EXCLUDED.given_name, birth_date = EXCLUDED.birth_date,"
    " sex = coalesce(EXCLUDED.sex, patients.sex), updated_at = now(),"
    " version = patients.version + 1";

/* Opens episode $1 for the patient with NHS number $2. */
static const char SQL_EPISODE_INSERT[] =
    "INSERT INTO episodes (id, patient_id, state, ward, bed, admitted_at,"
    " expected_discharge_date, pathway, external_id, created_by)"
    " SELECT $1::uuid, p.id, 'admitted', $3, $4, to_timestamp($5::double precision),"
    " $6::date, $7::smallint, $8, $9::uuid FROM patients p WHERE p.nhs_number = $2";

/*
 * Opens tasks: ids $1, episode $2, templates $3, due times $4 (0 = none), in
 * order; $1, $3 and $4 are JSON arrays of strings.
 */
static const char SQL_TASKS_INSERT[] =
    "INSERT INTO tasks (id, episode_id, template_id, discipline, title, status, due_at,"
    " created_at)"
    " SELECT x.id, $2::uuid, t.id, t.discipline, t.title, 'requested',"
    " to_timestamp(nullif(x.due, 0)::double precision),"
    " now() + (x.n * interval '1 microsecond')"
    " FROM unnest(cb_text_array($1::jsonb)::uuid[], cb_text_array($3::jsonb)::uuid[],"
    " cb_text_array($4::jsonb)::bigint[]) WITH ORDINALITY AS x(id, tpl, due, n)"
    " JOIN task_templates t ON t.id = x.tpl";

/*
 * Remembers that key $2 of scope $1 (creator $3) opened episode $5, with the
 * hash of fingerprint $4: no patient data.
 */
static const char SQL_IDEMPOTENCY_PUT[] =
    "INSERT INTO idempotency (scope, key, creator_id, body_hash, episode_id)"
    " VALUES ($1, $2, $3::uuid, sha256(convert_to($4, 'UTF8')), $5::uuid)";

/* Forgets admission keys older than 48 hours (a retry comes within minutes). */
static const char SQL_IDEMPOTENCY_PRUNE[] =
    "DELETE FROM idempotency WHERE created_at < now() - interval '48 hours'";

/* The whole episode $1 as JSON text. */
static const char SQL_EPISODE_JSON[] =
    "SELECT cb_episode_json(e)::text FROM episodes e WHERE e.id = $1::uuid";

/* Facts and JSON of episode $1. */
static const char SQL_EPISODE_GET[] =
    "SELECT e.id, e.state, e.ward, e.version, e.ready_at IS NOT NULL,"
    " coalesce(extract(epoch FROM e.ready_at)::bigint, 0),"
    " extract(epoch FROM e.admitted_at)::bigint, cb_episode_json(e)::text"
    " FROM episodes e WHERE e.id = $1::uuid";

/* As SQL_EPISODE_GET, for the open (admitted) episode of the patient with NHS number $1. */
static const char SQL_EPISODE_OPEN_OF[] =
    "SELECT e.id, e.state, e.ward, e.version, e.ready_at IS NOT NULL,"
    " coalesce(extract(epoch FROM e.ready_at)::bigint, 0),"
    " extract(epoch FROM e.admitted_at)::bigint, cb_episode_json(e)::text"
    " FROM episodes e JOIN patients p ON p.id = e.patient_id"
    " WHERE p.nhs_number = $1 AND e.state = 'admitted' ORDER BY e.admitted_at DESC LIMIT 1";

/* A page of episode summaries and the total, filtered; see store_episode_list. */
static const char SQL_EPISODE_LIST[] =
    "WITH f AS (SELECT e.id, e.admitted_at FROM episodes e"
    " WHERE ($1::jsonb IS NULL OR e.ward = ANY (cb_text_array($1::jsonb)))"
    " AND ($2::text IS NULL OR e.state = $2)"
    " AND ($3::boolean IS NULL OR ((e.ready_at IS NOT NULL AND e.state = 'admitted') = $3))"
    " AND ($4::boolean IS NULL OR (EXISTS (SELECT 1 FROM delays d WHERE d.episode_id = e.id"
    "      AND d.closed_at IS NULL)) = $4))"
    " SELECT jsonb_build_object("
    "  'items', coalesce((SELECT jsonb_agg(cb_episode_summary_json(e)"
    "                     ORDER BY e.admitted_at DESC, e.id) FROM episodes e"
    "    WHERE e.id IN (SELECT id FROM f ORDER BY admitted_at DESC, id LIMIT $5 OFFSET $6)),"
    "   '[]'::jsonb),"
    "  'total', (SELECT count(*) FROM f), 'limit', $5::integer, 'offset', $6::integer)::text";

/* Aborts with CB400 when ward $1 is given and unknown. */
static const char SQL_WARD_CHECK[] =
    "SELECT cb_expect($1::text IS NULL OR EXISTS (SELECT 1 FROM wards WHERE code = $1),"
    " 'CB400', format('ward \"%s\" does not exist', $1))";

/*
 * Applies an episode change if the version is still $2; CB412 otherwise.  A
 * discharge ($12 'discharged') sets its time $13, destination note $14 (the
 * free-text column), actual pathway $15 and destination code $16; a reopen
 * ($12 'admitted') clears them all.
 */
static const char SQL_EPISODE_UPDATE[] =
    "WITH u AS (UPDATE episodes SET"
    " expected_discharge_date = CASE WHEN $3::boolean THEN $4::date"
    "   ELSE expected_discharge_date END,"
    " pathway = CASE WHEN $5::boolean THEN $6::smallint ELSE pathway END,"
    " bed = CASE WHEN $7::boolean THEN $8 ELSE bed END,"
    " ready_at = CASE $9 WHEN 'set' THEN to_timestamp($10::double precision)"
    "   WHEN 'clear' THEN NULL ELSE ready_at END,"
    " ward = coalesce($11, ward),"
    " state = coalesce($12, state),"
    " discharged_at = CASE $12 WHEN 'discharged' THEN to_timestamp($13::double precision)"
    "   WHEN 'admitted' THEN NULL ELSE discharged_at END,"
    " discharge_destination = CASE $12 WHEN 'discharged' THEN $14"
    "   WHEN 'admitted' THEN NULL ELSE discharge_destination END,"
    " discharge_pathway = CASE $12 WHEN 'discharged' THEN $15::smallint"
    "   WHEN 'admitted' THEN NULL ELSE discharge_pathway END,"
    " discharge_destination_code = CASE $12 WHEN 'discharged' THEN $16"
    "   WHEN 'admitted' THEN NULL ELSE discharge_destination_code END,"
    " version = version + 1, updated_at = now()"
    " WHERE id = $1::uuid AND version = $2::integer RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB412',"
    " 'episode was changed by someone else; reload it and try again') FROM u";

/* Aborts with CB409 if episode $1's patient has been admitted again since (reopen). */
static const char SQL_REOPEN_CHECK[] =
    "SELECT cb_expect(NOT EXISTS (SELECT 1 FROM episodes o WHERE o.patient_id = e.patient_id"
    " AND o.state = 'admitted' AND o.id <> e.id), 'CB409',"
    " 'the patient has been admitted again since this discharge, and that admission is open')"
    " FROM episodes e WHERE e.id = $1::uuid";

/* Closes the open delay of episode $1 at $2 (discharge, or readiness withdrawn). */
static const char SQL_DELAY_CLOSE[] =
    "UPDATE delays SET closed_at = to_timestamp($2::double precision), updated_at = now(),"
    " version = version + 1 WHERE episode_id = $1::uuid AND closed_at IS NULL";

/* delay.closed events for the delays this transaction closed (updated_at = now()). */
static const char SQL_DELAY_CLOSED_EVENTS[] =
    "INSERT INTO events (type, ward, episode_id, discipline, payload)"
    " SELECT 'delay.closed', e.ward, e.id, NULL, cb_delay_json(d)"
    "  || jsonb_build_object('ward', e.ward)"
    " FROM delays d JOIN episodes e ON e.id = d.episode_id"
    " WHERE d.episode_id = $1::uuid AND d.closed_at IS NOT NULL AND d.updated_at = now()";

/*
 * An admission entered in error leaves no work behind: its open tasks ($1 the
 * episode), unless already final, become "cancelled", each audited with the
 * row it replaces ($2 actor id, $3 actor, $4 request id) and announced as an
 * update (its referral is withdrawn: store_referral_add_cancel).
 */
static const char SQL_CANCEL_TASKS[] =
    "WITH u AS (UPDATE tasks t SET status = 'cancelled', version = t.version + 1,"
    " updated_at = now() FROM tasks pre, episodes e"
    " WHERE t.episode_id = $1::uuid AND t.status NOT IN ('completed', 'cancelled')"
    " AND pre.id = t.id AND e.id = t.episode_id"
    " RETURNING t.id, t.episode_id, t.discipline, e.ward, cb_task_json(t) AS doc,"
    " cb_task_json(pre) AS before),"
    " a AS (INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before,"
    "  after, request_id) SELECT $2::uuid, $3, 'task.cancel', 'task', u.id, u.episode_id,"
    "  u.before, u.doc, $4::uuid FROM u)"
    " INSERT INTO events (type, ward, episode_id, discipline, payload)"
    " SELECT 'task.updated', u.ward, u.episode_id, u.discipline,"
    " u.doc || jsonb_build_object('ward', u.ward) FROM u ORDER BY u.id";
/* Ward history (0025): episode $1 arrives on ward $2 at $3, a transfer's instant. */
static const char SQL_WARD_HISTORY[] = "INSERT INTO ward_history (episode_id, at, ward)"
				       " VALUES ($1::uuid, to_timestamp($3::double precision), $2)";

/* Readiness history: a new period, a moved start, or a withdrawal. */
static const char SQL_READINESS_START[] = "INSERT INTO readiness (episode_id, ready_at)"
					  " VALUES ($1::uuid, to_timestamp($2::double precision))";
static const char SQL_READINESS_MOVE[] =
    "UPDATE readiness SET ready_at = to_timestamp($2::double precision)"
    " WHERE episode_id = $1::uuid AND withdrawn_at IS NULL";
static const char SQL_READINESS_WITHDRAW[] =
    "UPDATE readiness SET withdrawn_at = greatest(to_timestamp($2::double precision), ready_at)"
    " WHERE episode_id = $1::uuid AND withdrawn_at IS NULL";

static void context_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_admission_context_cb *cb = (store_admission_context_cb *)w->cb;
	struct admission_context ctx;
	int n;

	memset(&ctx, 0, sizeof ctx);
	if (r->st != ST_OK) {
		cb(r->st, NULL, w->arg);
		free(w);
		return;
	}
	n = db_rows(r->res[0]);
	ctx.templates = xcalloc((size_t)(n > 0 ? n : 1), sizeof *ctx.templates);
	for (int i = 0; i < n; i++) {
		struct task_template *t = &ctx.templates[ctx.ntemplates];
		struct err err;

		snprintf(t->id, sizeof t->id, "%s", db_value(r->res[0], i, 0));
		t->min_pathway = atoi(db_value(r->res[0], i, 1));
		t->max_pathway = atoi(db_value(r->res[0], i, 2));
		snprintf(t->discipline, sizeof t->discipline, "%s", db_value(r->res[0], i, 3));
		snprintf(t->title, sizeof t->title, "%s", db_value(r->res[0], i, 4));
		if (template_anchor_parse(db_value(r->res[0], i, 5), &t->anchor, &err) != ST_OK)
			continue;
		t->offset_seconds = strtoll(db_value(r->res[0], i, 6), NULL, 10);
		t->active = true;
		ctx.ntemplates++;
	}
	ctx.ward_exists = db_rows(r->res[1]) == 1;
	if (r->n > 2 && db_rows(r->res[2]) == 1) {
		snprintf(ctx.replay_episode, sizeof ctx.replay_episode, "%s",
		         db_value(r->res[2], 0, 0));
		ctx.replay_same_body = db_value(r->res[2], 0, 1)[0] == 't';
	}
	cb(ST_OK, &ctx, w->arg);
	free(ctx.templates);
	free(w);
}

/*
 * Whose idempotency keys an actor's are: a user's own ("user:<id>"), or the
 * system's that acts ("hl7").  A new string.
 */
static char *idempotency_scope(const struct actor *actor)
{
	if (actor->id != NULL)
		return xasprintf("user:%s", actor->id);
	return xstrdup(actor->name);
}

void store_admission_context(struct db *db, const struct admission *a, const struct actor *actor,
                             store_admission_context_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *ward[] = {a->ward};

	db_req_add(req, SQL_TEMPLATES_ACTIVE, 0, NULL);
	db_req_add(req, SQL_WARD_EXISTS, 1, ward);
	if (a->external_id[0] != '\0') {
		char *scope = idempotency_scope(actor);
		char *key = xasprintf("admission:%s", a->external_id);
		char *fp = admission_fingerprint(a);
		const char *k[] = {scope, key, fp};

		db_req_add(req, SQL_IDEMPOTENCY_GET, 3, k);
		free(scope);
		free(key);
		free(fp);
	}
	db_req_submit(db, req, context_done,
	              store_wait_new((store_any_fn *)cb, arg, -1, "episode"));
}

void store_admission_keys_prune(struct db *db)
{
	struct db_req *req = db_req_new();

	db_req_add(req, SQL_IDEMPOTENCY_PRUNE, 0, NULL);
	db_req_submit(db, req, store_json_done, store_wait_new(NULL, NULL, -1, NULL));
}

void store_admission_commit(struct db *db, const struct admission *a,
                            const struct planned_task *tasks, size_t ntasks,
                            const struct actor *actor, int64_t now, store_json_cb *cb, void *arg)
{
	store_admission_commit_with(db, a, tasks, ntasks, actor, now, NULL, NULL, cb, arg);
}

void store_admission_commit_with(struct db *db, const struct admission *a,
                                 const struct planned_task *tasks, size_t ntasks,
                                 const struct actor *actor, int64_t now, store_extra_fn *extra,
                                 void *extra_arg, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char patient_id[37], episode_id[37], referral_id[37], bd[DATE_FORMAT_LEN];
	char edd[DATE_FORMAT_LEN], admitted[32], pathway[8];
	/* the day-one notice: lib/referral.h says which pathways are referred */
	bool refer = referral_needed(a->pathway);
	char *ids, *tpls, *dues;
	char(*task_ids)[37] = xcalloc(ntasks + 1, sizeof *task_ids);
	char(*due)[32] = xcalloc(ntasks + 1, sizeof *due);
	const char **id_p = xcalloc(ntasks + 1, sizeof *id_p);
	const char **tpl_p = xcalloc(ntasks + 1, sizeof *tpl_p);
	const char **due_p = xcalloc(ntasks + 1, sizeof *due_p);
	int json_stmt;

	store_new_id(patient_id);
	store_new_id(episode_id);
	store_new_id(referral_id);
	date_format(a->birth_date, bd);
	if (a->has_expected_discharge)
		date_format(a->expected_discharge_date, edd);
	snprintf(admitted, sizeof admitted, "%" PRId64, a->admitted_at);
	snprintf(pathway, sizeof pathway, "%d", a->pathway);
	for (size_t i = 0; i < ntasks; i++) {
		store_new_id(task_ids[i]);
		snprintf(due[i], sizeof due[i], "%" PRId64, tasks[i].due_at);
		id_p[i] = task_ids[i];
		tpl_p[i] = tasks[i].tpl->id;
		due_p[i] = due[i];
	}
	ids = json_string_array(id_p, (int)ntasks);
	tpls = json_string_array(tpl_p, (int)ntasks);
	dues = json_string_array(due_p, (int)ntasks);
	{
		const char *check[] = {a->nhs_number};
		const char *ext[] = {a->external_id};
		const char *pat[] = {patient_id,
		                     a->nhs_number,
		                     a->family_name,
		                     a->given_name,
		                     bd,
		                     a->sex[0] ? a->sex : NULL};
		const char *epi[] = {episode_id,
		                     a->nhs_number,
		                     a->ward,
		                     a->bed,
		                     admitted,
		                     a->has_expected_discharge ? edd : NULL,
		                     a->pathway >= 0 ? pathway : NULL,
		                     a->external_id[0] ? a->external_id : NULL,
		                     actor->id};
		const char *tsk[] = {ids, episode_id, tpls, dues};
		const char *one[] = {episode_id};

		if (a->external_id[0] != '\0')
			db_req_add(req, SQL_EXTERNAL_ID_FREE, 1, ext);
		db_req_add(req, SQL_NO_OPEN_EPISODE, 1, check);
		db_req_add(req, SQL_PATIENT_UPSERT, 6, pat);
		db_req_add(req, SQL_EPISODE_INSERT, 9, epi);
		if (ntasks > 0)
			db_req_add(req, SQL_TASKS_INSERT, 4, tsk);
		if (extra != NULL)
			extra(req, episode_id, extra_arg);
		store_add_audit(req, actor, "episode.admit", "episode", episode_id, episode_id,
		                NULL, NULL);
		/* the day-one notice, audited after the admission it belongs to */
		if (refer)
			store_referral_add_open(req, referral_id, episode_id, a->needs,
			                        a->admitted_at, "admission", actor);
		if (a->external_id[0] != '\0') {
			char *scope = idempotency_scope(actor);
			char *key = xasprintf("admission:%s", a->external_id);
			char *fp = admission_fingerprint(a);
			const char *idem[] = {scope, key, actor->id, fp, episode_id};

			db_req_add(req, SQL_IDEMPOTENCY_PUT, 5, idem);
			free(scope);
			free(key);
			free(fp);
		}
		store_add_events_lock(req);
		store_add_event(req, "episode.admitted", "episode", episode_id);
		if (refer)
			store_referral_add_created(req, referral_id);
		for (size_t i = 0; i < ntasks; i++)
			store_add_event(req, "task.created", "task", task_ids[i]);
		json_stmt = db_req_add(req, SQL_EPISODE_JSON, 1, one);
	}
	free(ids);
	free(tpls);
	free(dues);
	free(task_ids);
	free(due);
	free(id_p);
	free(tpl_p);
	free(due_p);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "episode"));
}

static void get_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_episode_cb *cb = (store_episode_cb *)w->cb;
	struct episode_facts f;
	const struct pg_result *res = r->res[0];

	if (r->st != ST_OK) {
		cb(r->st, NULL, w->arg);
	} else if (db_rows(res) != 1) {
		cb(ST_NOT_FOUND, NULL, w->arg);
	} else {
		memset(&f, 0, sizeof f);
		snprintf(f.id, sizeof f.id, "%s", db_value(res, 0, 0));
		snprintf(f.state, sizeof f.state, "%s", db_value(res, 0, 1));
		snprintf(f.ward, sizeof f.ward, "%s", db_value(res, 0, 2));
		f.version = atoi(db_value(res, 0, 3));
		f.ready = db_value(res, 0, 4)[0] == 't';
		f.ready_at = strtoll(db_value(res, 0, 5), NULL, 10);
		f.admitted_at = strtoll(db_value(res, 0, 6), NULL, 10);
		f.json = db_value(res, 0, 7);
		cb(ST_OK, &f, w->arg);
	}
	free(w);
}

void store_episode_get(struct db *db, const char *id, store_episode_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {id};

	db_req_add(req, SQL_EPISODE_GET, 1, v);
	db_req_submit(db, req, get_done, store_wait_new((store_any_fn *)cb, arg, -1, "episode"));
}

void store_episode_open_of(struct db *db, const char *nhs_number, store_episode_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {nhs_number};

	db_req_add(req, SQL_EPISODE_OPEN_OF, 1, v);
	db_req_submit(db, req, get_done, store_wait_new((store_any_fn *)cb, arg, -1, "episode"));
}

void store_episode_audit_read(struct db *db, const char *id, const struct actor *actor,
                              store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();

	store_add_audit_read(req, actor, "episode.read", "episode", id, id, NULL);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, -1, "episode"));
}

void store_episode_audit_replay(struct db *db, const char *id, const struct actor *actor,
                                store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	cJSON *d = cJSON_CreateObject();
	char *detail;

	/* a read like any other, marked as the answer to a repeated admission */
	cJSON_AddStringToObject(d, "idempotent_replay", "admission");
	detail = cJSON_PrintUnformatted(d);
	ASSERT(detail != NULL);
	store_add_audit_read(req, actor, "episode.read", "episode", id, id, detail);
	cJSON_free(detail);
	cJSON_Delete(d);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, -1, "episode"));
}

void store_episode_list(struct db *db, const struct episode_filter *f, const struct actor *actor,
                        store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char *wards = NULL, limit[16], offset[16], *detail;
	cJSON *d = cJSON_CreateObject();
	int json_stmt;

	if (f->wards != NULL)
		wards = json_string_array(f->wards, f->nwards);
	snprintf(limit, sizeof limit, "%d", f->limit);
	snprintf(offset, sizeof offset, "%d", f->offset);
	{
		const char *v[] = {wards,
		                   f->state,
		                   f->ready < 0 ? NULL : (f->ready ? "true" : "false"),
		                   f->delayed < 0 ? NULL : (f->delayed ? "true" : "false"),
		                   limit,
		                   offset};

		json_stmt = db_req_add(req, SQL_EPISODE_LIST, 6, v);
	}
	/* what was asked for, not what was seen: no patient data */
	if (f->wards != NULL) {
		cJSON *w = cJSON_AddArrayToObject(d, "wards");

		for (int i = 0; i < f->nwards; i++)
			cJSON_AddItemToArray(w, cJSON_CreateString(f->wards[i]));
	} else {
		cJSON_AddStringToObject(d, "wards", "*");
	}
	cJSON_AddStringToObject(d, "state", f->state != NULL ? f->state : "*");
	cJSON_AddNumberToObject(d, "limit", f->limit);
	cJSON_AddNumberToObject(d, "offset", f->offset);
	detail = cJSON_PrintUnformatted(d);
	ASSERT(detail != NULL);
	store_add_audit_read(req, actor, "episode.list", "episode", NULL, NULL, detail);
	cJSON_free(detail);
	cJSON_Delete(d);
	free(wards);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "episode"));
}

void store_episode_change(struct db *db, const struct episode_facts *f,
                          const struct episode_change *c, const struct actor *actor, int64_t now,
                          store_json_cb *cb, void *arg)
{
	store_episode_change_with(db, f, c, actor, now, NULL, NULL, cb, arg);
}

void store_episode_change_with(struct db *db, const struct episode_facts *f,
                               const struct episode_change *c, const struct actor *actor,
                               int64_t now, store_extra_fn *extra, void *extra_arg,
                               store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *one[] = {f->id};
	int json_stmt;

	store_episode_change_add(req, f, c, actor, now, extra, extra_arg);
	json_stmt = db_req_add(req, SQL_EPISODE_JSON, 1, one);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "episode"));
}

void store_episode_change_add(struct db_req *req, const struct episode_facts *f,
                              const struct episode_change *c, const struct actor *actor,
                              int64_t now, store_extra_fn *extra, void *extra_arg)
{
	char version[16], edd[DATE_FORMAT_LEN], pathway[8], ready[32], disc[32], disc_pathway[8];
	char referral_id[37];
	const char *ready_op = c->set_ready ? "set" : c->clear_ready ? "clear" : "keep";
	const char *one[] = {f->id};

	snprintf(version, sizeof version, "%d", c->expected_version);
	if (c->set_edd)
		date_format(c->edd, edd);
	snprintf(pathway, sizeof pathway, "%d", c->pathway);
	snprintf(ready, sizeof ready, "%" PRId64, c->ready_at);
	snprintf(disc, sizeof disc, "%" PRId64, c->discharged_at);
	snprintf(disc_pathway, sizeof disc_pathway, "%d", c->discharge_pathway);
	{
		const char *wc[] = {c->new_ward};
		const char *v[] = {f->id,
		                   version,
		                   c->set_edd || c->clear_edd ? "true" : "false",
		                   c->set_edd ? edd : NULL,
		                   c->set_pathway || c->clear_pathway ? "true" : "false",
		                   c->set_pathway ? pathway : NULL,
		                   c->set_bed ? "true" : "false",
		                   c->set_bed ? c->bed : NULL,
		                   ready_op,
		                   ready,
		                   c->new_ward,
		                   c->new_state,
		                   disc,
		                   c->destination_note,
		                   c->has_discharge_pathway ? disc_pathway : NULL,
		                   c->destination_code};
		const char *rd[] = {f->id, ready};

		if (c->new_ward != NULL)
			db_req_add(req, SQL_WARD_CHECK, 1, wc);
		if (c->new_state != NULL && strcmp(c->new_state, "admitted") == 0)
			db_req_add(req, SQL_REOPEN_CHECK, 1, one);
		db_req_add(req, SQL_EPISODE_UPDATE, 16, v);
		if (c->new_ward != NULL && strcmp(c->new_ward, f->ward) != 0) {
			char nw[32];
			const char *wh[] = {f->id, c->new_ward, nw};

			snprintf(nw, sizeof nw, "%" PRId64, now);
			db_req_add(req, SQL_WARD_HISTORY, 3, wh);
		}
		if (c->set_ready)
			db_req_add(req, c->was_ready ? SQL_READINESS_MOVE : SQL_READINESS_START, 2,
			           rd);
		else if (c->clear_ready) {
			char nw[32];
			const char *wd[] = {f->id, nw};

			snprintf(nw, sizeof nw, "%" PRId64, now);
			db_req_add(req, SQL_READINESS_WITHDRAW, 2, wd);
		}
		if (c->clear_ready || c->new_state != NULL) {
			char at[32];
			const char *cl[] = {f->id, at};

			snprintf(at, sizeof at, "%" PRId64,
			         c->new_state != NULL && strcmp(c->new_state, "discharged") == 0
			             ? c->discharged_at
			             : now);
			db_req_add(req, SQL_DELAY_CLOSE, 2, cl);
		}
	}
	if (extra != NULL)
		extra(req, f->id, extra_arg);
	store_add_audit(req, actor, c->audit_action, "episode", f->id, f->id, f->json, NULL);
	store_add_events_lock(req);
	if (c->new_ward != NULL && strcmp(c->new_ward, f->ward) != 0)
		store_add_episode_event_at(req, c->event_type, f->id, f->ward);
	store_add_event(req, c->event_type, "episode", f->id);
	/*
	 * The referral follows the episode, its events after the episode's own: a
	 * cancelled admission withdraws it, a discharge completes or withdraws it,
	 * an undone discharge puts it back, and a likely pathway that now needs
	 * one (lib/referral.h) opens one when none is open.
	 */
	if (c->cancel_work)
		store_referral_add_cancel(req, f->id, actor);
	else if (c->new_state != NULL && strcmp(c->new_state, "discharged") == 0)
		store_referral_add_discharge(req, f->id, actor);
	else if (c->new_state != NULL && strcmp(c->new_state, "admitted") == 0)
		store_referral_add_reopen(req, f->id, actor);
	if (c->set_pathway && referral_needed(c->pathway) && c->new_state == NULL) {
		store_new_id(referral_id);
		store_referral_add_open(req, referral_id, f->id, NULL, now, "pathway", actor);
		store_referral_add_created(req, referral_id);
	}
	if (c->clear_ready || c->new_state != NULL)
		db_req_add(req, SQL_DELAY_CLOSED_EVENTS, 1, one);
	if (c->cancel_work) {
		const char *cw[] = {f->id, actor->id, actor->name, actor->request_id};

		db_req_add(req, SQL_CANCEL_TASKS, 4, cw);
	}
}

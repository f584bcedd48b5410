/*
 * store_hl7.c - SQL for HL7 v2 messages and the PAS ward map (see store_hl7.h).
 *
 * Text taken from a message may be in any encoding: every such string is made
 * valid UTF-8 here before it becomes a parameter, and the raw bytes and the
 * ACK travel as hex into bytea columns, so no message can fail its own
 * recording.
 */
#include "store_hl7.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "db.h"
#include "xmalloc.h"

/* The code and ACK (hex) of the applied message $3 from sender $1/$2, if any. */
static const char SQL_HL7_PRIOR[] =
    "SELECT ack_code, encode(ack, 'hex') FROM hl7_messages"
    " WHERE sending_app = $1 AND sending_facility = $2 AND control_id = $3"
    " AND NOT duplicate AND ack_code IN ('AA', 'AE') LIMIT 1";

/* One row: the ward PAS location $1 maps to (the HL7 map first, then wards.pas_code) or NULL. */
static const char SQL_HL7_WARD_MAPPED[] =
    "SELECT coalesce((SELECT ward FROM hl7_ward_map WHERE pas_code = $1),"
    " (SELECT code FROM wards WHERE pas_code = $1))";

/* Facts and JSON of the episode with visit number $1, and its patient's NHS number. */
static const char SQL_HL7_EPISODE_BY_VISIT[] =
    "SELECT e.id, e.state, e.ward, e.version, e.ready_at IS NOT NULL,"
    " coalesce(extract(epoch FROM e.ready_at)::bigint, 0),"
    " extract(epoch FROM e.admitted_at)::bigint, cb_episode_json(e)::text,"
    " coalesce(p.nhs_number, '')"
    " FROM episodes e JOIN patients p ON p.id = e.patient_id WHERE e.external_id = $1";

/* A message row; fails with 23505 when the same control id was applied first. */
static const char SQL_HL7_INSERT[] =
    "INSERT INTO hl7_messages (id, peer, sending_app, sending_facility, control_id,"
    " message_type, raw, ack_code, ack, error, episode_id)"
    " VALUES ($1::uuid, $2, $3, $4, $5, $6, decode($7, 'hex'), $8, decode($9, 'hex'), $10,"
    " $11::uuid)";

/* The same, but nothing when the same control id was applied first. */
static const char SQL_HL7_INSERT_ONCE[] =
    "INSERT INTO hl7_messages (id, peer, sending_app, sending_facility, control_id,"
    " message_type, raw, ack_code, ack, error, episode_id)"
    " VALUES ($1::uuid, $2, $3, $4, $5, $6, decode($7, 'hex'), $8, decode($9, 'hex'), $10,"
    " $11::uuid)"
    " ON CONFLICT (sending_app, sending_facility, control_id)"
    " WHERE NOT duplicate AND ack_code IN ('AA', 'AE') DO NOTHING";

/* When row $1 was not written: a duplicate row carrying the applied copy's outcome. */
static const char SQL_HL7_INSERT_DUPLICATE[] =
    "INSERT INTO hl7_messages (id, peer, sending_app, sending_facility, control_id,"
    " message_type, raw, ack_code, ack, error, episode_id, duplicate)"
    " SELECT $1::uuid, $2, o.sending_app, o.sending_facility, o.control_id, $6,"
    " decode($7, 'hex'), o.ack_code, o.ack, o.error, o.episode_id, true"
    " FROM hl7_messages o WHERE o.sending_app = $3 AND o.sending_facility = $4"
    " AND o.control_id = $5 AND NOT o.duplicate AND o.ack_code IN ('AA', 'AE')"
    " AND NOT EXISTS (SELECT 1 FROM hl7_messages WHERE id = $1::uuid) LIMIT 1";

/* The outcome written for row $1: code, ACK (hex), duplicate. */
static const char SQL_HL7_OUTCOME[] =
    "SELECT ack_code, encode(ack, 'hex'), duplicate FROM hl7_messages WHERE id = $1::uuid";

/* Demographics of the patient of episode $1; NULL or "" leaves a field as it is. */
static const char SQL_HL7_PATIENT_UPDATE[] =
    "UPDATE patients p SET family_name = coalesce(nullif($2, ''), p.family_name),"
    " given_name = coalesce(nullif($3, ''), p.given_name),"
    " birth_date = coalesce($4::date, p.birth_date),"
    " sex = coalesce(nullif($5, ''), p.sex), updated_at = now(), version = p.version + 1"
    " FROM episodes e WHERE e.id = $1::uuid AND p.id = e.patient_id";

/* Deletes one batch of messages older than $1 milliseconds. */
static const char SQL_HL7_PRUNE[] =
    "DELETE FROM hl7_messages WHERE id IN (SELECT id FROM hl7_messages"
    " WHERE received_at < now() - $1::bigint * interval '1 millisecond' LIMIT 5000)";

/* A page of messages (ack code $1 or any), newest first, and the total. */
static const char SQL_HL7_LIST[] =
    "WITH f AS (SELECT m.id, m.received_at FROM hl7_messages m"
    " WHERE ($1::text IS NULL OR m.ack_code = $1))"
    " SELECT jsonb_build_object("
    "  'items', coalesce((SELECT jsonb_agg(cb_hl7_message_json(m)"
    "                     ORDER BY m.received_at DESC, m.id) FROM hl7_messages m"
    "    WHERE m.id IN (SELECT id FROM f ORDER BY received_at DESC, id LIMIT $2 OFFSET $3)),"
    "   '[]'::jsonb),"
    "  'total', (SELECT count(*) FROM f), 'limit', $2::integer, 'offset', $3::integer)::text";

/* Every ward mapping, by PAS code. */
static const char SQL_HL7_MAP_LIST[] =
    "SELECT jsonb_build_object('items', coalesce(jsonb_agg(cb_hl7_ward_map_json(w)"
    " ORDER BY w.pas_code), '[]'::jsonb))::text FROM hl7_ward_map w";

/* The mapping of PAS code $1. */
static const char SQL_HL7_MAP_GET[] =
    "SELECT cb_hl7_ward_map_json(w)::text FROM hl7_ward_map w WHERE w.pas_code = $1";

/* Aborts with CB400 unless ward $1 exists. */
static const char SQL_HL7_MAP_WARD_CHECK[] =
    "SELECT cb_expect(EXISTS (SELECT 1 FROM wards WHERE code = $1), 'CB400',"
    " format('ward \"%s\" does not exist', $1))";

/* Maps PAS code $1 to ward $2, replacing an earlier mapping. */
static const char SQL_HL7_MAP_PUT[] =
    "INSERT INTO hl7_ward_map (pas_code, ward) VALUES ($1, $2)"
    " ON CONFLICT (pas_code) DO UPDATE SET ward = EXCLUDED.ward, updated_at = now()";

/* Removes the mapping of PAS code $1; CB404 when there is none. */
static const char SQL_HL7_MAP_DELETE[] =
    "WITH d AS (DELETE FROM hl7_ward_map WHERE pas_code = $1 RETURNING 1)"
    " SELECT cb_expect(count(*) = 1, 'CB404', 'ward mapping not found') FROM d";

/* The length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned min;
	unsigned cp;

	if (s[0] < 0x80)
		return s[0] != 0 ? 1 : 0;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2, min = 0x80, cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, min = 0x800, cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, min = 0x10000, cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A copy of s (NULL stays NULL) that is valid UTF-8: other bytes become '?'. */
static char *text_clean(const char *s)
{
	size_t n, i = 0;
	char *out;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	out = xstrdup(s);
	while (i < n) {
		size_t k = utf8_seq((const unsigned char *)s + i, n - i);

		if (k == 0) {
			out[i++] = '?';
			continue;
		}
		i += k;
	}
	return out;
}

/* len bytes of data as lower-case hex (a new string). */
static char *hex_encode(const char *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *out = xmalloc(len * 2 + 1);

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[(unsigned char)data[i] >> 4];
		out[2 * i + 1] = digits[(unsigned char)data[i] & 0xf];
	}
	out[len * 2] = '\0';
	return out;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 0;
}

/* Hex text from PostgreSQL as a new NUL-terminated string of its bytes. */
static char *hex_decode(const char *hex)
{
	size_t n = strlen(hex) / 2;
	char *out = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++)
		out[i] = (char)(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
	out[n] = '\0';
	return out;
}

/* The parameters of an hl7_messages row, cleaned and encoded; freed with record_params_free. */
struct record_params {
	char *v[11]; /* in SQL_HL7_INSERT order */
};

static void record_params_init(struct record_params *p, const struct hl7_record *rec)
{
	p->v[0] = xstrdup(rec->id);
	p->v[1] = text_clean(rec->peer != NULL ? rec->peer : "");
	p->v[2] = text_clean(rec->sending_app != NULL ? rec->sending_app : "");
	p->v[3] = text_clean(rec->sending_facility != NULL ? rec->sending_facility : "");
	p->v[4] = text_clean(rec->control_id);
	p->v[5] = text_clean(rec->message_type != NULL ? rec->message_type : "");
	p->v[6] = hex_encode(rec->raw, rec->raw_len);
	p->v[7] = xstrdup(rec->ack_code);
	p->v[8] = hex_encode(rec->ack, strlen(rec->ack));
	p->v[9] = text_clean(rec->error);
	p->v[10] = rec->episode_id != NULL ? xstrdup(rec->episode_id) : NULL;
}

static void record_params_free(struct record_params *p)
{
	for (size_t i = 0; i < sizeof p->v / sizeof p->v[0]; i++)
		free(p->v[i]);
}

struct lookup_wait {
	store_hl7_lookup_cb *cb; /* the caller's */
	void *arg;               /* its argument */
	int prior, ward, visit;  /* statement indexes, -1 when not asked */
};

static void lookup_done(const struct db_result *r, void *arg)
{
	struct lookup_wait *w = arg;
	struct hl7_lookup l;

	memset(&l, 0, sizeof l);
	if (r->st != ST_OK) {
		w->cb(r->st, NULL, w->arg);
		free(w);
		return;
	}
	if (db_rows(r->res[w->prior]) == 1) {
		l.replay = true;
		snprintf(l.prior_ack_code, sizeof l.prior_ack_code, "%s",
		         db_value(r->res[w->prior], 0, 0));
		l.prior_ack = hex_decode(db_value(r->res[w->prior], 0, 1));
	}
	if (w->ward >= 0)
		l.ward = db_value(r->res[w->ward], 0, 0);
	if (w->visit >= 0 && db_rows(r->res[w->visit]) == 1) {
		const struct pg_result *res = r->res[w->visit];
		struct episode_facts *f = &l.episode;

		l.has_episode = true;
		snprintf(f->id, sizeof f->id, "%s", db_value(res, 0, 0));
		snprintf(f->state, sizeof f->state, "%s", db_value(res, 0, 1));
		snprintf(f->ward, sizeof f->ward, "%s", db_value(res, 0, 2));
		f->version = atoi(db_value(res, 0, 3));
		f->ready = db_value(res, 0, 4)[0] == 't';
		f->ready_at = strtoll(db_value(res, 0, 5), NULL, 10);
		f->admitted_at = strtoll(db_value(res, 0, 6), NULL, 10);
		f->json = db_value(res, 0, 7);
		l.nhs_number = db_value(res, 0, 8);
	}
	w->cb(ST_OK, &l, w->arg);
	free(l.prior_ack);
	free(w);
}

void store_hl7_lookup(struct db *db, const char *sending_app, const char *sending_facility,
                      const char *control_id, const char *pas_code, const char *visit,
                      store_hl7_lookup_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	struct lookup_wait *w = xcalloc(1, sizeof *w);
	char *app = text_clean(sending_app), *fac = text_clean(sending_facility);
	char *ctl = text_clean(control_id), *pas = text_clean(pas_code), *vis = text_clean(visit);
	const char *key[] = {app, fac, ctl};
	const char *p[] = {pas};
	const char *v[] = {vis};

	w->cb = cb;
	w->arg = arg;
	w->prior = db_req_add(req, SQL_HL7_PRIOR, 3, key);
	w->ward = pas != NULL ? db_req_add(req, SQL_HL7_WARD_MAPPED, 1, p) : -1;
	w->visit = vis != NULL ? db_req_add(req, SQL_HL7_EPISODE_BY_VISIT, 1, v) : -1;
	free(app);
	free(fac);
	free(ctl);
	free(pas);
	free(vis);
	db_req_submit(db, req, lookup_done, w);
}

void store_hl7_add_record(struct db_req *req, const struct hl7_record *rec)
{
	struct record_params p;

	record_params_init(&p, rec);
	db_req_add(req, SQL_HL7_INSERT, 11, (const char *const *)p.v);
	record_params_free(&p);
}

struct record_wait {
	store_hl7_record_cb *cb; /* the caller's */
	void *arg;               /* its argument */
	int outcome;             /* the statement reading the row back */
};

static void record_done(const struct db_result *r, void *arg)
{
	struct record_wait *w = arg;
	const struct pg_result *res = r->st == ST_OK ? r->res[w->outcome] : NULL;

	if (r->st != ST_OK || db_rows(res) != 1) {
		w->cb(r->st != ST_OK ? r->st : ST_INTERNAL, NULL, NULL, false, w->arg);
	} else {
		char *ack = hex_decode(db_value(res, 0, 1));

		w->cb(ST_OK, ack, db_value(res, 0, 0), db_value(res, 0, 2)[0] == 't', w->arg);
		free(ack);
	}
	free(w);
}

void store_hl7_record(struct db *db, const struct hl7_record *rec, store_hl7_record_cb *cb,
                      void *arg)
{
	struct db_req *req = db_req_new();
	struct record_wait *w = xcalloc(1, sizeof *w);
	struct record_params p;
	const char *one[] = {rec->id};

	record_params_init(&p, rec);
	db_req_add(req, SQL_HL7_INSERT_ONCE, 11, (const char *const *)p.v);
	db_req_add(req, SQL_HL7_INSERT_DUPLICATE, 7, (const char *const *)p.v);
	record_params_free(&p);
	w->cb = cb;
	w->arg = arg;
	w->outcome = db_req_add(req, SQL_HL7_OUTCOME, 1, one);
	db_req_submit(db, req, record_done, w);
}

void store_hl7_add_patient_update(struct db_req *req, const char *episode_id, const char *family,
                                  const char *given, const char *birth_date, const char *sex)
{
	char *fam = text_clean(family), *giv = text_clean(given);
	const char *v[] = {episode_id, fam, giv, birth_date, sex};

	db_req_add(req, SQL_HL7_PATIENT_UPDATE, 5, v);
	free(fam);
	free(giv);
}

void store_hl7_prune(struct db *db, int64_t retention_ms, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char ms[32];
	const char *v[] = {ms};

	snprintf(ms, sizeof ms, "%" PRId64, retention_ms);
	db_req_add(req, SQL_HL7_PRUNE, 1, v);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, -1, "message"));
}

void store_hl7_list(struct db *db, const struct hl7_message_filter *f, const struct actor *actor,
                    store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char limit[16], offset[16], *detail;
	const char *v[] = {f->ack_code, limit, offset};
	cJSON *d = cJSON_CreateObject();
	int json_stmt;

	snprintf(limit, sizeof limit, "%d", f->limit);
	snprintf(offset, sizeof offset, "%d", f->offset);
	json_stmt = db_req_add(req, SQL_HL7_LIST, 3, v);
	cJSON_AddStringToObject(d, "ack", f->ack_code != NULL ? f->ack_code : "*");
	cJSON_AddNumberToObject(d, "limit", f->limit);
	cJSON_AddNumberToObject(d, "offset", f->offset);
	detail = cJSON_PrintUnformatted(d);
	ASSERT(detail != NULL);
	store_add_audit_read(req, actor, "hl7.read", "hl7_message", NULL, NULL, detail);
	cJSON_free(detail);
	cJSON_Delete(d);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "message"));
}

void store_hl7_ward_map_list(struct db *db, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	int json_stmt = db_req_add(req, SQL_HL7_MAP_LIST, 0, NULL);

	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "ward mapping"));
}

void store_hl7_ward_map_get(struct db *db, const char *pas_code, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {pas_code};
	int json_stmt = db_req_add(req, SQL_HL7_MAP_GET, 1, v);

	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "ward mapping"));
}

/* The audit image of a mapping, {"pas_code": ..., "ward": ...} (a new string). */
static char *map_image(const char *pas_code, const char *ward)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "pas_code", pas_code);
	if (ward != NULL)
		cJSON_AddStringToObject(o, "ward", ward);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

void store_hl7_ward_map_put(struct db *db, const char *pas_code, const char *ward,
                            const struct actor *actor, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *w[] = {ward};
	const char *v[] = {pas_code, ward};
	const char *one[] = {pas_code};
	char *after = map_image(pas_code, ward);
	int json_stmt;

	db_req_add(req, SQL_HL7_MAP_WARD_CHECK, 1, w);
	db_req_add(req, SQL_HL7_MAP_PUT, 2, v);
	store_add_audit(req, actor, "hl7.ward_map.put", "hl7_ward_map", NULL, NULL, NULL, after);
	json_stmt = db_req_add(req, SQL_HL7_MAP_GET, 1, one);
	cJSON_free(after);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "ward mapping"));
}

void store_hl7_ward_map_delete(struct db *db, const char *pas_code, const struct actor *actor,
                               store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {pas_code};
	char *before = map_image(pas_code, NULL);

	db_req_add(req, SQL_HL7_MAP_DELETE, 1, v);
	store_add_audit(req, actor, "hl7.ward_map.delete", "hl7_ward_map", NULL, NULL, before,
	                NULL);
	cJSON_free(before);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, -1, "ward mapping"));
}

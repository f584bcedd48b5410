/*
 * store_message.c - SQL for the message outbox and contact details (see
 * store_message.h).
 */
#include "store_message.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "store.h"
#include "xmalloc.h"

/* A digest's counts, columns 13..20 of a claimed row (0 for a chase). */
#define SQL_DIGEST_COLUMNS                                                                         \
	", coalesce((u.payload->>'nctr')::integer, 0),"                                            \
	" coalesce((u.payload->>'nctr_0_1')::integer, 0),"                                         \
	" coalesce((u.payload->>'nctr_2_6')::integer, 0),"                                         \
	" coalesce((u.payload->>'nctr_7_20')::integer, 0),"                                        \
	" coalesce((u.payload->>'nctr_21')::integer, 0),"                                          \
	" coalesce((u.payload->>'barriers_no_owner')::integer, 0),"                                \
	" coalesce((u.payload->>'tasks_overdue')::integer, 0),"                                    \
	" coalesce((u.payload->>'referrals_unanswered')::integer, 0)"

/*
 * Claims for $1, for $3 ms, up to $4 messages due at carebridge time $2 and
 * not claimed by a live process; returns each with what its body may say
 * (the bed now and the first letter of each of the patient's names, never more).
 */
static const char SQL_MESSAGE_CLAIM_JOIN[] =
    "WITH c AS (SELECT id FROM messages"
    " WHERE status IN ('queued', 'failed')"
    " AND next_attempt_at <= to_timestamp($2::double precision)"
    " AND not_before <= to_timestamp($2::double precision)"
    " AND (claimed_until IS NULL OR claimed_until < now())"
    " ORDER BY next_attempt_at LIMIT $4::integer FOR UPDATE OF messages SKIP LOCKED),"
    " u AS (UPDATE messages m SET claimed_by = $1,"
    " claimed_until = now() + make_interval(secs => $3::double precision / 1000),"
    " attempts = m.attempts + 1, updated_at = now()"
    " FROM c WHERE m.id = c.id RETURNING m.*)"
    " SELECT u.id, u.channel, u.address, u.chase_kind, coalesce(u.discipline, ''), u.level,"
    " u.ward, coalesce(e.bed, ''), coalesce(left(p.given_name, 1), ''),"
    " coalesce(left(p.family_name, 1), ''), u.attempts, u.target IN ('hub', 'hub_lead'),"
    " u.kind = 'digest'" SQL_DIGEST_COLUMNS " FROM u LEFT JOIN episodes e ON e.id = u.episode_id"
    " LEFT JOIN patients p ON p.id = e.patient_id";

/*
 * Takes the shift digest of slot $1 (epoch seconds; CB409 when another process
 * has) and queues, at carebridge time $4, one message per channel ($2 e-mail,
 * $3 text, '' = off) to each ward's nurse in charge (wards with inpatients)
 * and to the bed manager on duty (every ward), by the rota at the slot, else
 * everyone fitting (cb_target_users), with the counts (cb_digest_counts).
 */
static const char SQL_DIGEST_TAKE[] =
    "WITH claim AS (INSERT INTO digest_runs (slot, messages)"
    " VALUES (to_timestamp($1::double precision), 0) ON CONFLICT DO NOTHING RETURNING slot),"
    " targets AS (SELECT w.code AS ward, 'nurse_in_charge' AS target FROM wards w"
    "  WHERE EXISTS (SELECT 1 FROM episodes e WHERE e.ward = w.code AND e.state = 'admitted')"
    "  UNION ALL SELECT '*', 'bed_manager'),"
    " rcpt AS (SELECT t.ward, t.target, x.id FROM targets t CROSS JOIN LATERAL"
    "  cb_target_users(t.target, t.ward, '', '', to_timestamp($1::double precision)) x(id)),"
    " ins AS (INSERT INTO messages (id, dedupe_key, kind, chase_kind, ward, level, target,"
    "  user_id, channel, address, payload, not_before, next_attempt_at)"
    "  SELECT gen_random_uuid(), concat_ws(':', 'digest', $1::text, r.ward, u.id, ch.channel),"
    "  'digest', 'digest', r.ward, 0, r.target, u.id, ch.channel, ch.address,"
    "  cb_digest_counts(r.ward, to_timestamp($4::double precision)),"
    "  cb_quiet_until(u.quiet_start, u.quiet_end, to_timestamp($4::double precision)),"
    "  to_timestamp($4::double precision)"
    "  FROM rcpt r JOIN users u ON u.id = r.id"
    "  CROSS JOIN LATERAL (VALUES ($2::text, 'email', u.email), ($3::text, 'sms', u.mobile))"
    "   ch(channel, pref, address)"
    "  WHERE EXISTS (SELECT 1 FROM claim) AND ch.channel <> '' AND ch.address IS NOT NULL"
    "  AND ch.pref = ANY (u.message_channels)"
    "  ON CONFLICT (dedupe_key) DO NOTHING RETURNING 1)"
    " SELECT cb_expect(EXISTS (SELECT 1 FROM claim), 'CB409', 'digest already taken'),"
    " (SELECT count(*) FROM ins)";

/* Marks message $1 sent with subject $3 if $2 still holds its claim. */
static const char SQL_MESSAGE_SENT[] =
    "UPDATE messages SET status = 'sent', sent_at = now(), subject = $3, last_error = NULL,"
    " claimed_by = NULL, claimed_until = NULL, updated_at = now()"
    " WHERE id = $1::uuid AND claimed_by = $2";

/*
 * Records a failed attempt of message $1 held by $2 (error $3): permanent when
 * $4 or out of attempts ($5), else retried at carebridge time $6.
 */
static const char SQL_MESSAGE_FAILED[] =
    "UPDATE messages SET status = CASE WHEN $4::boolean OR attempts >= $5::integer"
    "  THEN 'permanent_failure' ELSE 'failed' END,"
    " last_error = $3, next_attempt_at = to_timestamp($6::double precision),"
    " claimed_by = NULL, claimed_until = NULL, updated_at = now()"
    " WHERE id = $1::uuid AND claimed_by = $2";

/* The newest $2 messages (status $1, or any when NULL) as {"items": [...]}. */
static const char SQL_MESSAGE_LIST[] =
    "SELECT jsonb_build_object('items', coalesce(jsonb_agg(cb_message_json(m)"
    " ORDER BY m.created_at DESC, m.id), '[]'::jsonb))::text"
    " FROM (SELECT * FROM messages WHERE $1::text IS NULL OR status = $1"
    " ORDER BY created_at DESC, id LIMIT $2::integer) m";

/* User $1's contact details as JSON text; no row when there is no such user. */
static const char SQL_CONTACT_GET[] = "SELECT cb_contact_json(u)::text FROM users u"
				      " WHERE u.id = $1::uuid";

/* Aborts with CB404 unless user $1 exists. */
static const char SQL_USER_FOUND[] =
    "SELECT cb_expect(EXISTS (SELECT 1 FROM users WHERE id = $1::uuid), 'CB404',"
    " 'user not found')";

/*
 * Sets user $1's contact details ($2 email, $3 mobile, $4 channels as a JSON
 * array, $5/$6 quiet hours) and audits it (actor $7/$8, request $9) with
 * before and after images; returns the new JSON.
 */
static const char SQL_CONTACT_SET[] =
    "WITH pre AS (SELECT cb_contact_json(u) AS j FROM users u WHERE u.id = $1::uuid),"
    " upd AS (UPDATE users u SET email = $2, mobile = $3,"
    "  message_channels = cb_text_array($4::jsonb), quiet_start = $5::time,"
    "  quiet_end = $6::time WHERE u.id = $1::uuid RETURNING u),"
    " a AS (INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before,"
    "  after, request_id) SELECT $7::uuid, $8, 'user.contact', 'user', $1::uuid, NULL,"
    "  (SELECT j FROM pre), cb_contact_json(upd.u), $9::uuid FROM upd)"
    " SELECT cb_contact_json(upd.u)::text FROM upd";

static void copy_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_message_claim_cb *cb = (store_message_claim_cb *)w->cb;
	struct message_row *rows;
	int n;

	if (r->st != ST_OK) {
		cb(r->st, NULL, 0, w->arg);
		free(w);
		return;
	}
	n = db_rows(r->res[0]);
	rows = xcalloc((size_t)n + 1, sizeof *rows);
	for (int i = 0; i < n; i++) {
		const struct pg_result *res = r->res[0];

		rows[i].id = db_value(res, i, 0);
		if (!message_channel_parse(db_value(res, i, 1), &rows[i].channel))
			rows[i].channel =
			    MESSAGE_EMAIL_SMTP; /* the table's CHECK allows no other */
		rows[i].address = db_value(res, i, 2);
		rows[i].chase_kind = db_value(res, i, 3);
		rows[i].discipline = db_value(res, i, 4);
		rows[i].level = atoi(db_value(res, i, 5));
		rows[i].ward = db_value(res, i, 6);
		rows[i].bed = db_value(res, i, 7);
		rows[i].given1 = db_value(res, i, 8);
		rows[i].family1 = db_value(res, i, 9);
		rows[i].attempts = atoi(db_value(res, i, 10));
		rows[i].hub = db_value(res, i, 11)[0] == 't';
		rows[i].digest = db_value(res, i, 12)[0] == 't';
		rows[i].counts[0] = atoi(db_value(res, i, 13));
		for (int k = 1; k < MESSAGE_DIGEST_COUNTS; k++)
			rows[i].counts[k] = atoi(db_value(res, i, 13 + k));
	}
	cb(ST_OK, rows, n, w->arg);
	free(rows);
	free(w);
}

void store_message_claim(struct db *db, const char *owner, int64_t now, int64_t lease_ms, int limit,
                         store_message_claim_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char n[32], l[32], k[16];
	const char *v[] = {owner, n, l, k};

	snprintf(n, sizeof n, "%" PRId64, now);
	snprintf(l, sizeof l, "%" PRId64, lease_ms);
	snprintf(k, sizeof k, "%d", limit);
	db_req_add(req, SQL_MESSAGE_CLAIM_JOIN, 4, v);
	db_req_submit(db, req, copy_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

static void plain_done(const struct db_result *r, void *arg)
{
	struct store_wait *w = arg;
	store_message_done_cb *cb = (store_message_done_cb *)w->cb;

	cb(r->st, w->arg);
	free(w);
}

void store_digest_take(struct db *db, int64_t slot, int64_t now, const char *email, const char *sms,
                       store_message_done_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char sl[32], nw[32];
	const char *v[] = {sl, email, sms, nw};

	snprintf(sl, sizeof sl, "%" PRId64, slot);
	snprintf(nw, sizeof nw, "%" PRId64, now);
	db_req_add(req, SQL_DIGEST_TAKE, 4, v);
	db_req_submit(db, req, plain_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

void store_message_sent(struct db *db, const char *id, const char *owner, const char *subject,
                        store_message_done_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {id, owner, subject};

	db_req_add(req, SQL_MESSAGE_SENT, 3, v);
	db_req_submit(db, req, plain_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

void store_message_failed(struct db *db, const char *id, const char *owner, const char *error,
                          bool permanent, int max_attempts, int64_t next_at,
                          store_message_done_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char m[16], nx[32];
	const char *v[] = {id, owner, error, permanent ? "true" : "false", m, nx};

	snprintf(m, sizeof m, "%d", max_attempts);
	snprintf(nx, sizeof nx, "%" PRId64, next_at);
	db_req_add(req, SQL_MESSAGE_FAILED, 6, v);
	db_req_submit(db, req, plain_done, store_wait_new((store_any_fn *)cb, arg, -1, NULL));
}

void store_message_list(struct db *db, const char *status, int limit, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char l[16];
	const char *v[] = {status, l};

	snprintf(l, sizeof l, "%d", limit);
	db_req_add(req, SQL_MESSAGE_LIST, 2, v);
	db_req_submit(db, req, store_json_done, store_wait_new((store_any_fn *)cb, arg, 0, NULL));
}

void store_contact_get(struct db *db, const char *user_id, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {user_id};

	db_req_add(req, SQL_CONTACT_GET, 1, v);
	db_req_submit(db, req, store_json_done, store_wait_new((store_any_fn *)cb, arg, 0, "user"));
}

void store_contact_set(struct db *db, const char *user_id, const struct contact_input *in,
                       const struct actor *actor, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	const char *chans = in->email_on && in->sms_on ? "[\"email\",\"sms\"]"
	                    : in->email_on             ? "[\"email\"]"
	                    : in->sms_on               ? "[\"sms\"]"
	                                               : "[]";
	const char *one[] = {user_id};
	const char *v[] = {user_id,   in->email,       in->mobile,
	                   chans,     in->quiet_start, in->quiet_end,
	                   actor->id, actor->name,     actor->request_id};
	int json_stmt;

	db_req_add(req, SQL_USER_FOUND, 1, one);
	json_stmt = db_req_add(req, SQL_CONTACT_SET, 9, v);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, json_stmt, "user"));
}

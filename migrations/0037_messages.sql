-- 0037_messages.sql - chases reach a person (issue 17): users' contact details
-- and channel preferences, the on-call rota, and the durable per-recipient
-- message outbox that server/message.c sends from (docs/OPERATIONS.md
-- "Messages", docs/SAFETY.md "What a message may say").
--
-- A chase (store_chase.c) inserts, in the transaction that records it, one
-- messages row per recipient and channel; the row's dedupe_key is unique, so
-- a second process recording the same chase (it cannot: the chase itself is a
-- compare-and-set) or a retried transaction never queues a message twice.
-- Rows hold no patient data: the body is built when the message is sent, from
-- the episode as it is then (lib/message.c decides what it may say).

-- Contact details and preferences, set by the user (PUT /api/v1/me/contact)
-- or an administrator (PUT /api/v1/users/{id}/contact), audited.
ALTER TABLE users
	ADD COLUMN email text CHECK (email IS NULL OR (length(email) <= 254
	                             AND email ~ '^[^@[:space:]<>,;"]+@[A-Za-z0-9.-]+$')),
	ADD COLUMN mobile text CHECK (mobile IS NULL OR mobile ~ '^\+?[0-9]{7,15}$'),
	-- the channels the user wants chases by: 'email' and/or 'sms'
	ADD COLUMN message_channels text[] NOT NULL DEFAULT '{email}'
		CHECK (message_channels <@ ARRAY['email', 'sms']::text[]),
	-- quiet hours, Europe/London wall clock; both or neither; start > end wraps midnight
	ADD COLUMN quiet_start time,
	ADD COLUMN quiet_end time,
	ADD CONSTRAINT users_quiet_both CHECK ((quiet_start IS NULL) = (quiet_end IS NULL));

-- Who holds a chase target on a site at an instant (issue 17 "on-call rota").
-- site: a ward code, or '*' for every ward (a ward's own row wins); role: the
-- chase target held ('bed_manager', 'team_lead', 'discipline', 'hub',
-- 'hub_lead', and 'nurse_in_charge' for shift digests).  Half-open [starts_at, ends_at).
CREATE TABLE rota (
	id          uuid PRIMARY KEY,
	site        text NOT NULL CHECK (site = '*' OR site ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$'),
	role        text NOT NULL CHECK (role IN ('bed_manager', 'team_lead', 'discipline', 'hub',
	                                          'hub_lead', 'nurse_in_charge')),
	user_id     uuid NOT NULL REFERENCES users ON DELETE CASCADE,
	starts_at   timestamptz NOT NULL,
	ends_at     timestamptz NOT NULL,
	created_at  timestamptz NOT NULL DEFAULT now(),
	CHECK (ends_at > starts_at),
	UNIQUE (site, role, user_id, starts_at)
);
CREATE INDEX rota_at ON rota (role, site, starts_at, ends_at);

-- The outbox.  status: queued (waiting: not_before, next_attempt_at), sent,
-- failed (the last attempt failed, another will be made), permanent_failure
-- (refused by the relay, or out of attempts).  A sender process claims a row
-- (claimed_by, claimed_until) with FOR UPDATE SKIP LOCKED before sending it and
-- records the outcome only while its claim holds.
CREATE TABLE messages (
	id               uuid PRIMARY KEY,
	dedupe_key       text NOT NULL UNIQUE,
	kind             text NOT NULL CHECK (kind IN ('chase', 'digest')),
	chase_id         bigint REFERENCES chases,
	chase_kind       text NOT NULL,            -- the chase's kind (task, ...), 'digest'
	entity_id        uuid,                     -- the chased row (NULL: a digest)
	episode_id       uuid,                     -- (NULL: a digest)
	ward             text NOT NULL,            -- a digest: the ward, or '*' (every ward)
	discipline       text,
	level            smallint NOT NULL,
	target           text NOT NULL,
	user_id          uuid NOT NULL REFERENCES users ON DELETE CASCADE,
	channel          text NOT NULL CHECK (channel IN ('email_smtp', 'email_notify', 'sms_notify')),
	address          text NOT NULL,            -- the e-mail address or mobile number used
	payload          jsonb,                    -- a digest: its counts (no patient data)
	status           text NOT NULL DEFAULT 'queued'
		CHECK (status IN ('queued', 'sent', 'failed', 'permanent_failure')),
	subject          text NOT NULL DEFAULT '', -- as sent (no patient identifier)
	attempts         integer NOT NULL DEFAULT 0,
	last_error       text,
	created_at       timestamptz NOT NULL DEFAULT now(),
	not_before       timestamptz NOT NULL,     -- carebridge time: the end of quiet hours
	next_attempt_at  timestamptz NOT NULL,     -- carebridge time of the next attempt
	claimed_by       text,
	claimed_until    timestamptz,              -- real time
	sent_at          timestamptz,
	updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_todo ON messages (next_attempt_at) WHERE status IN ('queued', 'failed');
CREATE INDEX messages_recent ON messages (created_at DESC);

-- Shift digests taken (issue 17): one row per configured local time slot, claimed
-- by the process that queues its messages, so two processes never send it twice.
CREATE TABLE digest_runs (
	slot      timestamptz PRIMARY KEY,
	taken_at  timestamptz NOT NULL DEFAULT now(),
	messages  integer NOT NULL
);

-- The digest counts of ward w ('*': every ward) at instant at: NCTR inpatients,
-- by days since the discharge ready date, their barriers without an owner,
-- overdue tasks, referrals the hub has not answered.  Counts only.
CREATE FUNCTION cb_digest_counts(w text, at timestamptz) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'nctr', count(*) FILTER (WHERE e.ready_at IS NOT NULL),
		'nctr_0_1', count(*) FILTER (WHERE e.ready_at > at - interval '2 days'),
		'nctr_2_6', count(*) FILTER (WHERE e.ready_at <= at - interval '2 days'
		                             AND e.ready_at > at - interval '7 days'),
		'nctr_7_20', count(*) FILTER (WHERE e.ready_at <= at - interval '7 days'
		                              AND e.ready_at > at - interval '21 days'),
		'nctr_21', count(*) FILTER (WHERE e.ready_at <= at - interval '21 days'),
		'barriers_no_owner', (SELECT count(*) FROM barriers b JOIN episodes x ON x.id = b.episode_id
		                      WHERE x.state = 'admitted' AND (w = '*' OR x.ward = w)
		                      AND b.closed_at IS NULL AND b.owner IS NULL),
		'tasks_overdue', (SELECT count(*) FROM tasks t JOIN episodes x ON x.id = t.episode_id
		                  WHERE x.state = 'admitted' AND (w = '*' OR x.ward = w)
		                  AND t.status NOT IN ('completed', 'cancelled') AND t.due_at < at),
		'referrals_unanswered', (SELECT count(*) FROM referrals r
		                         JOIN episodes x ON x.id = r.episode_id
		                         WHERE x.state = 'admitted' AND (w = '*' OR x.ward = w)
		                         AND r.state = 'referred'))
	FROM episodes e WHERE e.state = 'admitted' AND (w = '*' OR e.ward = w)
$$;

-- When a message for a user with quiet hours qs..qe (Europe/London) raised at
-- at may go: at itself outside them, else the end of the quiet period.
CREATE FUNCTION cb_quiet_until(qs time, qe time, at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
		WHEN qs IS NULL OR qe IS NULL OR qs = qe THEN at
		WHEN qs < qe AND (at AT TIME ZONE 'Europe/London')::time >= qs
		     AND (at AT TIME ZONE 'Europe/London')::time < qe
		THEN ((at AT TIME ZONE 'Europe/London')::date + qe) AT TIME ZONE 'Europe/London'
		WHEN qs > qe AND (at AT TIME ZONE 'Europe/London')::time >= qs
		THEN ((at AT TIME ZONE 'Europe/London')::date + 1 + qe) AT TIME ZONE 'Europe/London'
		WHEN qs > qe AND (at AT TIME ZONE 'Europe/London')::time < qe
		THEN ((at AT TIME ZONE 'Europe/London')::date + qe) AT TIME ZONE 'Europe/London'
		ELSE at END
$$;

-- The task discipline a role works in (lib/access.c role_discipline).
CREATE FUNCTION cb_role_discipline(role text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE role WHEN 'nurse' THEN 'ward' WHEN 'social_worker' THEN 'social_work'
	                 WHEN 'ot' THEN 'ot' WHEN 'physio' THEN 'physio' END
$$;

-- Whether user u may hold chase target t of ward w, discipline d ('' = the
-- ward's nurses), organisation o ('' = none): the rota's candidates and the
-- fallback alike.  Nurses cover the wards they are attached to; therapists and
-- social workers those, or every ward when attached to none; bed managers likewise.
CREATE FUNCTION cb_target_fits(u users, t text, w text, d text, o text) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT u.disabled_at IS NULL AND CASE t
		WHEN 'discipline' THEN cb_role_discipline(u.role) = coalesce(nullif(d, ''), 'ward')
		WHEN 'team_lead' THEN u.team_lead
		     AND cb_role_discipline(u.role) = coalesce(nullif(d, ''), 'ward')
		WHEN 'bed_manager' THEN u.role = 'bed_manager'
		WHEN 'nurse_in_charge' THEN u.role = 'nurse'
		WHEN 'hub' THEN u.role = 'hub_coordinator' AND u.organisation_id::text = o
		WHEN 'hub_lead' THEN u.role = 'hub_coordinator' AND u.team_lead
		     AND u.organisation_id::text = o
		ELSE false END
$$;

-- Who gets chase target t of ward w (discipline d, organisation o) at instant
-- at: whoever the rota says is on duty (the ward's own rows, else the '*'
-- rows), else every user who fits the target and covers the ward.
CREATE FUNCTION cb_target_users(t text, w text, d text, o text, at timestamptz)
RETURNS SETOF uuid LANGUAGE sql STABLE AS $$
	WITH on_duty AS (
		SELECT r.user_id, r.site <> '*' AS own FROM rota r JOIN users u ON u.id = r.user_id
		WHERE r.role = t AND r.site IN (w, '*') AND r.starts_at <= at AND r.ends_at > at
		AND cb_target_fits(u, t, w, d, o)
	), picked AS (
		SELECT DISTINCT user_id FROM on_duty
		WHERE own = (SELECT bool_or(own) FROM on_duty)
	)
	SELECT user_id FROM picked
	UNION ALL
	SELECT u.id FROM users u
	WHERE NOT EXISTS (SELECT 1 FROM picked) AND cb_target_fits(u, t, w, d, o)
	AND (t IN ('hub', 'hub_lead')
	     OR EXISTS (SELECT 1 FROM user_wards uw WHERE uw.user_id = u.id AND uw.ward = w)
	     OR (u.role <> 'nurse'
	         AND NOT EXISTS (SELECT 1 FROM user_wards uw WHERE uw.user_id = u.id)))
$$;

-- A message as administrators see it: status, never a body.
CREATE FUNCTION cb_message_json(m messages) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', m.id,
		'kind', m.kind,
		'chase_kind', m.chase_kind,
		'entity_id', m.entity_id,
		'ward', m.ward,
		'level', m.level,
		'target', m.target,
		'user_id', m.user_id,
		'user_name', (SELECT name FROM users WHERE id = m.user_id),
		'channel', m.channel,
		'status', m.status,
		'subject', m.subject,
		'attempts', m.attempts,
		'last_error', m.last_error,
		'created_at', cb_ts(m.created_at),
		'not_before', cb_ts(m.not_before),
		'next_attempt_at', CASE WHEN m.status IN ('queued', 'failed')
		                        THEN cb_ts(m.next_attempt_at) END,
		'sent_at', cb_ts(m.sent_at))
$$;

-- A user's contact details and preferences (their own, or an administrator's view).
CREATE FUNCTION cb_contact_json(u users) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'user_id', u.id,
		'email', u.email,
		'mobile', u.mobile,
		'channels', to_jsonb(u.message_channels),
		'quiet_start', to_char(u.quiet_start, 'HH24:MI'),
		'quiet_end', to_char(u.quiet_end, 'HH24:MI'))
$$;

-- A rota row as administrators see it.
CREATE FUNCTION cb_rota_json(r rota) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', r.id,
		'site', r.site,
		'role', r.role,
		'user_id', r.user_id,
		'user_name', (SELECT name FROM users WHERE id = r.user_id),
		'starts_at', cb_ts(r.starts_at),
		'ends_at', cb_ts(r.ends_at))
$$;

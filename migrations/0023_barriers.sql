-- 0023_barriers.sql - barriers to discharge instead of one delay reason
-- (issue 14; docs/API.md "Barriers").
--
-- An episode has any number of barriers, each with a reason (a key of a
-- delay-reason list, 0022), an owner, a note, opened and closed times; among
-- the open ones exactly one is primary (lib/barrier.h has the rules).
--
-- History is append-only: reports need the primary barrier's reason at any
-- past instant, and a correction must never rewrite a day already reported.
--   barrier_primary_history: from `at`, the episode's primary barrier is
--     barrier_id (NULL: no barrier open);
--   barrier_reason_history: from `at`, the barrier's reason is (list, reason).
-- "The primary barrier's reason at instant T" is cb_primary_reason_at(episode,
-- T): the latest primary row at or before T, then that barrier's latest reason
-- row at or before T.  Ties at the same instant go to the row written last
-- (id).  The barriers table holds the current values only.

CREATE TABLE barriers (
	id           uuid PRIMARY KEY,
	episode_id   uuid NOT NULL REFERENCES episodes,
	reason_list  text NOT NULL,
	reason       text NOT NULL,
	owner        text CHECK (length(owner) BETWEEN 1 AND 100),
	note         text CHECK (length(note) BETWEEN 1 AND 2000),
	opened_at    timestamptz NOT NULL,
	closed_at    timestamptz,
	is_primary   boolean NOT NULL DEFAULT false,
	opened_by    text NOT NULL,                  -- user name, or "migration"
	delay_id     uuid REFERENCES delays,         -- the delay it was migrated from
	created_at   timestamptz NOT NULL DEFAULT now(),
	updated_at   timestamptz NOT NULL DEFAULT now(),
	version      integer NOT NULL DEFAULT 1,
	FOREIGN KEY (reason_list, reason) REFERENCES reference_items (list, key),
	CHECK (closed_at IS NULL OR closed_at >= opened_at),
	CHECK (NOT (is_primary AND closed_at IS NOT NULL))
);
CREATE INDEX barriers_episode ON barriers (episode_id, opened_at);
-- exactly one primary among the open barriers: at most one here, the rules do the rest
CREATE UNIQUE INDEX barriers_one_primary ON barriers (episode_id) WHERE is_primary;

CREATE TABLE barrier_primary_history (
	id          bigserial PRIMARY KEY,
	episode_id  uuid NOT NULL REFERENCES episodes,
	at          timestamptz NOT NULL,
	barrier_id  uuid REFERENCES barriers          -- NULL: no primary from `at`
);
CREATE INDEX barrier_primary_history_at ON barrier_primary_history (episode_id, at, id);

CREATE TABLE barrier_reason_history (
	id           bigserial PRIMARY KEY,
	barrier_id   uuid NOT NULL REFERENCES barriers,
	at           timestamptz NOT NULL,
	reason_list  text NOT NULL,
	reason       text NOT NULL,
	FOREIGN KEY (reason_list, reason) REFERENCES reference_items (list, key)
);
CREATE INDEX barrier_reason_history_at ON barrier_reason_history (barrier_id, at, id);

-- Every serve process guards its barrier decisions on this counter, so two
-- writers deciding the primary from the same state cannot both win.
ALTER TABLE episodes ADD COLUMN barrier_seq integer NOT NULL DEFAULT 0;

-- An NCTR inpatient with no open barrier is chased (barrier_chase_after): the
-- chase state lives on the episode, as a delay's does on the delay (0007), and
-- is reset when a barrier opens.
ALTER TABLE episodes
	ADD COLUMN barrier_chase_level     smallint NOT NULL DEFAULT 0,
	ADD COLUMN barrier_last_chased_at  timestamptz,
	ADD COLUMN barrier_next_chase_at   timestamptz;
ALTER TABLE chases DROP CONSTRAINT chases_kind_check;
ALTER TABLE chases ADD CONSTRAINT chases_kind_check
	CHECK (kind IN ('task', 'assessment', 'delay', 'barrier'));

CREATE FUNCTION cb_history_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'barrier history is append-only: % of % rows refused', TG_OP, TG_TABLE_NAME
		USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER barrier_primary_history_append_only BEFORE UPDATE OR DELETE
	ON barrier_primary_history FOR EACH ROW EXECUTE FUNCTION cb_history_refuse_change();
CREATE TRIGGER barrier_reason_history_append_only BEFORE UPDATE OR DELETE
	ON barrier_reason_history FOR EACH ROW EXECUTE FUNCTION cb_history_refuse_change();
REVOKE UPDATE, DELETE, TRUNCATE ON barrier_primary_history, barrier_reason_history
	FROM carebridge_app;

-- The primary barrier's reason list, key and barrier at instant t (no row: none).
CREATE FUNCTION cb_primary_reason_at(ep uuid, t timestamptz)
RETURNS TABLE (barrier_id uuid, reason_list text, reason text) LANGUAGE sql STABLE AS $$
	SELECT p.barrier_id, r.reason_list, r.reason
	FROM (SELECT h.barrier_id FROM barrier_primary_history h
	      WHERE h.episode_id = ep AND h.at <= t ORDER BY h.at DESC, h.id DESC LIMIT 1) p
	JOIN LATERAL (SELECT rh.reason_list, rh.reason FROM barrier_reason_history rh
	              WHERE rh.barrier_id = p.barrier_id AND rh.at <= t
	              ORDER BY rh.at DESC, rh.id DESC LIMIT 1) r ON true
$$;

CREATE FUNCTION cb_barrier_json(b barriers) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', b.id,
		'episode_id', b.episode_id,
		'reason_list', b.reason_list,
		'reason', b.reason,
		'reason_label', (SELECT i.label FROM reference_items i
		                 WHERE i.list = b.reason_list AND i.key = b.reason),
		'owner', b.owner,
		'note', b.note,
		'opened_at', cb_ts(b.opened_at),
		'closed_at', cb_ts(b.closed_at),
		'open', b.closed_at IS NULL,
		'primary', b.is_primary,
		'opened_by', b.opened_by,
		'delay_id', b.delay_id,
		'updated_at', cb_ts(b.updated_at),
		'version', b.version,
		'reason_history', coalesce((SELECT jsonb_agg(jsonb_build_object(
			'reason_list', rh.reason_list, 'reason', rh.reason, 'from', cb_ts(rh.at))
			ORDER BY rh.at, rh.id) FROM barrier_reason_history rh
			WHERE rh.barrier_id = b.id), '[]'::jsonb),
		'primary_spans', coalesce((SELECT jsonb_agg(jsonb_build_object(
			'from', cb_ts(s.at), 'to', cb_ts(s.until)) ORDER BY s.at, s.id)
			FROM (SELECT h.id, h.at, h.barrier_id,
			             lead(h.at) OVER (ORDER BY h.at, h.id) AS until
			      FROM barrier_primary_history h WHERE h.episode_id = b.episode_id) s
			WHERE s.barrier_id = b.id), '[]'::jsonb))
$$;

-- Old delays become barriers under dtoc-2014, so old rows stay readable: the
-- delay's reason, primary while it was open, opened when the delay opened and
-- closed when it ended.  A delay that never got a reason has no barrier to
-- become (there was nothing recorded to keep).  Attribution stays on the
-- delay row, read-only.
INSERT INTO barriers (id, episode_id, reason_list, reason, opened_at, closed_at, is_primary,
                      opened_by, delay_id, created_at, updated_at)
SELECT d.id, d.episode_id, 'dtoc-2014', d.reason_code, d.opened_at,
       CASE WHEN d.closed_at IS NOT NULL THEN greatest(d.closed_at, d.opened_at) END,
       d.closed_at IS NULL, 'migration', d.id,
       d.created_at, d.updated_at
FROM delays d WHERE d.reason_code IS NOT NULL;

INSERT INTO barrier_reason_history (barrier_id, at, reason_list, reason)
SELECT b.id, b.opened_at, b.reason_list, b.reason FROM barriers b ORDER BY b.opened_at;

INSERT INTO barrier_primary_history (episode_id, at, barrier_id)
SELECT episode_id, at, barrier_id FROM (
	SELECT b.episode_id, b.opened_at AS at, b.id AS barrier_id, 1 AS k FROM barriers b
	UNION ALL
	SELECT b.episode_id, b.closed_at, NULL, 0 FROM barriers b WHERE b.closed_at IS NOT NULL
) x ORDER BY episode_id, at, k;  -- a close before an open at the same instant

-- 0007_delays.sql - delay records, chasing and the midnight snapshot.
--
-- Chase state lives on the chased row (task, assessment, delay) so that it
-- survives a restart and so that several serve processes chase each item
-- once: a chase is a compare-and-set on (chase_level, last_chased_at).

ALTER TABLE tasks
	ADD COLUMN overdue_at      timestamptz,          -- when the chaser first found it overdue
	ADD COLUMN chase_level     smallint NOT NULL DEFAULT 0,
	ADD COLUMN last_chased_at  timestamptz,
	ADD COLUMN next_chase_at   timestamptz;

ALTER TABLE assessments
	ADD COLUMN chase_level     smallint NOT NULL DEFAULT 0,
	ADD COLUMN last_chased_at  timestamptz,
	ADD COLUMN next_chase_at   timestamptz;

ALTER TABLE delays
	ADD COLUMN days            integer NOT NULL DEFAULT 0,  -- delayed days counted so far
	ADD COLUMN chase_level     smallint NOT NULL DEFAULT 0,
	ADD COLUMN last_chased_at  timestamptz,
	ADD COLUMN next_chase_at   timestamptz;
-- one delay per readiness period, whichever process opens it
CREATE UNIQUE INDEX delays_period ON delays (episode_id, ready_at);

-- Who was chased, when, for what.
CREATE TABLE chases (
	id          bigserial PRIMARY KEY,
	at          timestamptz NOT NULL,           -- carebridge's clock (a test clock in tests)
	kind        text NOT NULL CHECK (kind IN ('task', 'assessment', 'delay')),
	entity_id   uuid NOT NULL,
	episode_id  uuid NOT NULL,
	ward        text NOT NULL,
	level       smallint NOT NULL CHECK (level BETWEEN 1 AND 3),
	target      text NOT NULL CHECK (target IN ('discipline', 'team_lead', 'bed_manager')),
	discipline  text,
	process     text NOT NULL                   -- which serve process raised it
);
CREATE INDEX chases_entity ON chases (entity_id, id);

-- Midnight snapshots taken (date D = the midnight ending D, Europe/London).
CREATE TABLE snapshots (
	day       date PRIMARY KEY,
	taken_at  timestamptz NOT NULL DEFAULT now(),
	delayed   integer NOT NULL
);

CREATE OR REPLACE FUNCTION cb_task_json(t tasks) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', t.id,
		'episode_id', t.episode_id,
		'template_id', t.template_id,
		'discipline', t.discipline,
		'title', t.title,
		'status', t.status,
		'assignee', t.assignee,
		'assignee_name', (SELECT u.name FROM users u WHERE u.id = t.assignee),
		'due_at', cb_ts(t.due_at),
		'overdue', t.overdue_at IS NOT NULL AND t.status NOT IN ('completed', 'cancelled'),
		'overdue_at', cb_ts(t.overdue_at),
		'chase_level', t.chase_level,
		'note', t.note,
		'created_at', cb_ts(t.created_at),
		'updated_at', cb_ts(t.updated_at),
		'completed_at', cb_ts(t.completed_at),
		'version', t.version)
$$;

CREATE OR REPLACE FUNCTION cb_delay_json(d delays) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', d.id,
		'episode_id', d.episode_id,
		'ready_at', cb_ts(d.ready_at),
		'opened_at', cb_ts(d.opened_at),
		'closed_at', cb_ts(d.closed_at),
		'reason_code', d.reason_code,
		'attribution', d.attribution,
		'days', d.days,
		'chase_level', d.chase_level,
		'updated_at', cb_ts(d.updated_at),
		'version', d.version)
$$;

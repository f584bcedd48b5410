-- 0008_plpgsql_json.sql - the JSON shapes of 0002/0007, unchanged, as PL/pgSQL.
--
-- A LANGUAGE sql function with a subquery cannot be inlined, and PostgreSQL
-- plans its body again on every call (issue 8's profile: a fifth of the
-- database's CPU on a task update went to re-planning cb_task_json inside the
-- audit, outbox and reply statements).  PL/pgSQL keeps each body's plan for
-- the session.  Its plan cache would still re-plan each call with the row's
-- values folded in as constants (a "custom" plan, chosen because folding
-- cb_ts() makes it look cheaper), so each function asks for the generic plan:
-- planned once per session, about a tenth of the cost of a call.  The output
-- of every function is exactly what it was.

-- cb_ts was declared IMMUTABLE, but to_char() is only STABLE, so PostgreSQL
-- would not inline it: every call ran as its own SQL function, parsed and
-- planned again each time its caller started.  Declared STABLE (what it is),
-- it is inlined into the caller's plan.
CREATE OR REPLACE FUNCTION cb_ts(t timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

CREATE OR REPLACE FUNCTION cb_patient_json(p patients) RETURNS jsonb LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	RETURN jsonb_build_object(
		'id', p.id,
		'nhs_number', p.nhs_number,
		'local_id', p.local_id,
		'family_name', p.family_name,
		'given_name', p.given_name,
		'birth_date', to_char(p.birth_date, 'YYYY-MM-DD'),
		'sex', p.sex,
		'version', p.version);
END
$$;

CREATE OR REPLACE FUNCTION cb_task_json(t tasks) RETURNS jsonb LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	RETURN jsonb_build_object(
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
		'version', t.version);
END
$$;

CREATE OR REPLACE FUNCTION cb_assessment_json(a assessments) RETURNS jsonb LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	RETURN jsonb_build_object(
		'id', a.id,
		'episode_id', a.episode_id,
		'state', a.state,
		'claimed_by', a.claimed_by,
		'claimed_by_name', (SELECT u.name FROM users u WHERE u.id = a.claimed_by),
		'claimed_at', cb_ts(a.claimed_at),
		'opened_at', cb_ts(a.opened_at),
		'completed_at', cb_ts(a.completed_at),
		'note', a.note,
		'updated_at', cb_ts(a.updated_at),
		'version', a.version);
END
$$;

CREATE OR REPLACE FUNCTION cb_delay_json(d delays) RETURNS jsonb LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	RETURN jsonb_build_object(
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
		'version', d.version);
END
$$;

CREATE OR REPLACE FUNCTION cb_episode_summary_json(e episodes) RETURNS jsonb LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	RETURN jsonb_build_object(
		'id', e.id,
		'state', e.state,
		'ward', e.ward,
		'bed', e.bed,
		'admitted_at', cb_ts(e.admitted_at),
		'expected_discharge_date', to_char(e.expected_discharge_date, 'YYYY-MM-DD'),
		'pathway', e.pathway,
		'ready', e.ready_at IS NOT NULL AND e.state = 'admitted',
		'ready_at', cb_ts(e.ready_at),
		'discharged_at', cb_ts(e.discharged_at),
		'discharge_destination', e.discharge_destination,
		'external_id', e.external_id,
		'created_at', cb_ts(e.created_at),
		'updated_at', cb_ts(e.updated_at),
		'version', e.version,
		'patient', (SELECT cb_patient_json(p) FROM patients p WHERE p.id = e.patient_id),
		'assessment', (SELECT cb_assessment_json(a) FROM assessments a WHERE a.episode_id = e.id),
		'delay', (SELECT cb_delay_json(d) FROM delays d WHERE d.episode_id = e.id
		          ORDER BY d.closed_at IS NULL DESC, d.opened_at DESC LIMIT 1));
END
$$;

CREATE OR REPLACE FUNCTION cb_episode_json(e episodes) RETURNS jsonb LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	RETURN cb_episode_summary_json(e) || jsonb_build_object(
		'tasks', coalesce((SELECT jsonb_agg(cb_task_json(t) ORDER BY t.created_at, t.title, t.id)
		                   FROM tasks t WHERE t.episode_id = e.id), '[]'::jsonb));
END
$$;

-- One notification per statement that adds events, not one per event: the
-- LISTEN side carries no payload (it reads the events table in id order), and
-- PostgreSQL folds identical notifications of one transaction into one, so a
-- group-committed transaction of many writes wakes each listener once.
DROP TRIGGER events_notify ON events;
CREATE OR REPLACE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('carebridge_events', '');
	RETURN NULL;
END
$$;
CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH STATEMENT
	EXECUTE FUNCTION events_notify();

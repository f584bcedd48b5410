-- 0002_representations.sql - the JSON form of each object, as the API returns
-- it and as events carry it.
--
-- Building the representation in the database lets a write transaction put
-- exactly the committed state into its outbox event and its audit row, in the
-- same round trip.  These functions only shape data; every rule (who may do
-- what, which moves are legal, which tasks a pathway gets) lives in lib/.

-- An instant as the API writes it: RFC 3339 in UTC, whole seconds.
CREATE FUNCTION cb_ts(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

CREATE FUNCTION cb_patient_json(p patients) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', p.id,
		'nhs_number', p.nhs_number,
		'local_id', p.local_id,
		'family_name', p.family_name,
		'given_name', p.given_name,
		'birth_date', to_char(p.birth_date, 'YYYY-MM-DD'),
		'sex', p.sex,
		'version', p.version)
$$;

CREATE FUNCTION cb_task_json(t tasks) RETURNS jsonb LANGUAGE sql STABLE AS $$
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
		'overdue', t.due_at IS NOT NULL AND t.due_at < now()
		           AND t.status NOT IN ('completed', 'cancelled'),
		'note', t.note,
		'created_at', cb_ts(t.created_at),
		'updated_at', cb_ts(t.updated_at),
		'completed_at', cb_ts(t.completed_at),
		'version', t.version)
$$;

CREATE FUNCTION cb_assessment_json(a assessments) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
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
		'version', a.version)
$$;

CREATE FUNCTION cb_delay_json(d delays) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', d.id,
		'episode_id', d.episode_id,
		'ready_at', cb_ts(d.ready_at),
		'opened_at', cb_ts(d.opened_at),
		'closed_at', cb_ts(d.closed_at),
		'reason_code', d.reason_code,
		'attribution', d.attribution,
		'updated_at', cb_ts(d.updated_at),
		'version', d.version)
$$;

-- An episode without its tasks (for lists and episode events).
CREATE FUNCTION cb_episode_summary_json(e episodes) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
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
		          ORDER BY d.closed_at IS NULL DESC, d.opened_at DESC LIMIT 1))
$$;

-- The whole episode: summary plus its tasks in creation order.
CREATE FUNCTION cb_episode_json(e episodes) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT cb_episode_summary_json(e) || jsonb_build_object(
		'tasks', coalesce((SELECT jsonb_agg(cb_task_json(t) ORDER BY t.created_at, t.title, t.id)
		                   FROM tasks t WHERE t.episode_id = e.id), '[]'::jsonb))
$$;

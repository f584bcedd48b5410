-- 0004_admin.sql - the JSON form of the administered objects (wards, task
-- templates, users) and of audit rows, and indexes for reading the audit log
-- by actor and by entity.
--
-- As in 0002, these functions only shape data: who may change what, and what
-- a valid template is, are decided in lib/.

-- A ward with the number of open episodes on it.
CREATE FUNCTION cb_ward_json(w wards) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'code', w.code,
		'name', w.name,
		'beds', w.beds,
		'pas_code', w.pas_code,
		'occupied', (SELECT count(*) FROM episodes e
		             WHERE e.ward = w.code AND e.state = 'admitted'))
$$;

CREATE FUNCTION cb_template_json(t task_templates) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', t.id,
		'min_pathway', t.min_pathway,
		'max_pathway', t.max_pathway,
		'discipline', t.discipline,
		'title', t.title,
		'anchor', t.anchor,
		'offset_seconds', t.offset_seconds,
		'active', t.active,
		'position', t.position,
		'created_at', cb_ts(t.created_at),
		'updated_at', cb_ts(t.updated_at),
		'version', t.version)
$$;

-- A user as administrators see it: never the password hash or tokens.
CREATE FUNCTION cb_user_json(u users) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', u.id,
		'name', u.name,
		'display_name', u.display_name,
		'role', u.role,
		'team_lead', u.team_lead,
		'wards', coalesce((SELECT jsonb_agg(w.ward ORDER BY w.ward) FROM user_wards w
		                   WHERE w.user_id = u.id), '[]'::jsonb),
		'disabled', u.disabled_at IS NOT NULL,
		'disabled_at', cb_ts(u.disabled_at),
		'created_at', cb_ts(u.created_at),
		'version', u.version)
$$;

CREATE FUNCTION cb_audit_json(a audit) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', a.id,
		'at', cb_ts(a.at),
		'actor', a.actor,
		'action', a.action,
		'entity', a.entity,
		'entity_id', a.entity_id,
		'episode_id', a.episode_id,
		'before', a.before,
		'after', a.after)
$$;

-- GET /api/v1/audit?actor=... and ?entity_id=... (episode_id has audit_episode).
CREATE INDEX audit_actor ON audit (actor, id);
CREATE INDEX audit_entity ON audit (entity_id, id) WHERE entity_id IS NOT NULL;

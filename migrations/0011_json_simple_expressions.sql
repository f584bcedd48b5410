-- 0011_json_simple_expressions.sql - cb_task_json and cb_assessment_json, the
-- same output at a fraction of the cost.
--
-- Each ran one expression that held a subquery (the assignee's or claimant's
-- name), so PL/pgSQL executed it as a full query on every call: executor
-- start-up and shutdown, a memory context, expression compilation.  A task
-- update renders the task twice (audit before and after), inside the one
-- transaction that all concurrent writes share, so this was on the write path's
-- critical section (issue 8).  Now the name is looked up by its own statement,
-- and only when there is someone to name, and the RETURN expression has no
-- subquery: PL/pgSQL evaluates such a "simple expression" directly.  The SET
-- plan_cache_mode of 0008 is dropped with it: neither statement has anything
-- a custom plan could fold, and a SET clause costs a configuration save and
-- restore on every call.

CREATE OR REPLACE FUNCTION cb_task_json(t tasks) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	assignee_name text;
BEGIN
	IF t.assignee IS NOT NULL THEN
		SELECT u.name INTO assignee_name FROM users u WHERE u.id = t.assignee;
	END IF;
	RETURN jsonb_build_object(
		'id', t.id,
		'episode_id', t.episode_id,
		'template_id', t.template_id,
		'discipline', t.discipline,
		'title', t.title,
		'status', t.status,
		'assignee', t.assignee,
		'assignee_name', assignee_name,
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
AS $$
DECLARE
	claimed_by_name text;
BEGIN
	IF a.claimed_by IS NOT NULL THEN
		SELECT u.name INTO claimed_by_name FROM users u WHERE u.id = a.claimed_by;
	END IF;
	RETURN jsonb_build_object(
		'id', a.id,
		'episode_id', a.episode_id,
		'state', a.state,
		'claimed_by', a.claimed_by,
		'claimed_by_name', claimed_by_name,
		'claimed_at', cb_ts(a.claimed_at),
		'opened_at', cb_ts(a.opened_at),
		'completed_at', cb_ts(a.completed_at),
		'note', a.note,
		'updated_at', cb_ts(a.updated_at),
		'version', a.version);
END
$$;

-- 0012_cancelled_admissions_work.sql - no open work left on a cancelled admission.
--
-- Until now HL7 A11 (admission entered in error) cancelled the episode but
-- left its tasks and its Care Act assessment open, so an unclaimed assessment
-- stayed in the social workers' queue for a patient who was never admitted.
-- serve now cancels them in the A11 transaction; this does the same, once, for
-- episodes cancelled before.  Each change is audited as the system, with the
-- row it replaces, and announced on the outbox like any other update (under
-- the outbox lock, so event ids stay in commit order).

SELECT pg_advisory_xact_lock(7262270002);

WITH u AS (
	UPDATE tasks t SET status = 'cancelled', version = t.version + 1, updated_at = now()
	FROM tasks pre, episodes e
	WHERE e.state = 'cancelled' AND t.episode_id = e.id
	AND t.status NOT IN ('completed', 'cancelled') AND pre.id = t.id
	RETURNING t.id, t.episode_id, t.discipline, e.ward, cb_task_json(t) AS doc,
		cb_task_json(pre) AS before
), a AS (
	INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before, after)
	SELECT NULL, 'system', 'task.cancel', 'task', u.id, u.episode_id, u.before, u.doc FROM u
)
INSERT INTO events (type, ward, episode_id, discipline, payload)
SELECT 'task.updated', u.ward, u.episode_id, u.discipline,
	u.doc || jsonb_build_object('ward', u.ward)
FROM u ORDER BY u.episode_id, u.id;

WITH u AS (
	UPDATE assessments a SET state = 'cancelled', version = a.version + 1, updated_at = now()
	FROM assessments pre, episodes e
	WHERE e.state = 'cancelled' AND a.episode_id = e.id
	AND a.state NOT IN ('completed', 'cancelled') AND pre.id = a.id
	RETURNING a.id, a.episode_id, e.ward, cb_assessment_json(a) AS doc,
		cb_assessment_json(pre) AS before
), au AS (
	INSERT INTO audit (actor_id, actor, action, entity, entity_id, episode_id, before, after)
	SELECT NULL, 'system', 'assessment.cancel', 'assessment', u.id, u.episode_id, u.before,
		u.doc FROM u
)
INSERT INTO events (type, ward, episode_id, discipline, payload)
SELECT 'assessment.updated', u.ward, u.episode_id, 'social_work',
	u.doc || jsonb_build_object('ward', u.ward)
FROM u ORDER BY u.episode_id, u.id;

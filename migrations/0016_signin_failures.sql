-- 0016_signin_failures.sql - count failed sign-ins per user name, for back-off and lock-out.
--
-- Keyed by the name as typed, whether or not a user has it: a name nobody has
-- backs off and locks exactly like a real one, so the answers tell an
-- attacker nothing about which names exist.  An attempt is counted when it
-- begins (serve claims it by moving failures from the value it read to the
-- next one), so concurrent guesses cannot slip past the back-off; a
-- successful sign-in or an administrator's unlock deletes the row.  Kept
-- apart from users: writing users notifies carebridge_auth (0009) and would
-- empty every process's token cache on each failed sign-in.

CREATE TABLE signin_failures (
	name       text PRIMARY KEY,                -- the user name as typed
	failures   integer NOT NULL CHECK (failures >= 0),
	last_at    timestamptz NOT NULL,            -- the last attempt counted, or failed: back-off runs from it
	locked_at  timestamptz                      -- locked until an administrator unlocks it
);
CREATE INDEX signin_failures_unlocked ON signin_failures (last_at) WHERE locked_at IS NULL;

-- A user as administrators see it: never the password hash or tokens; now
-- with whether failed sign-ins have locked its name.
CREATE OR REPLACE FUNCTION cb_user_json(u users) RETURNS jsonb LANGUAGE sql STABLE AS $$
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
		'locked', EXISTS (SELECT 1 FROM signin_failures f
		                  WHERE f.name = u.name AND f.locked_at IS NOT NULL),
		'created_at', cb_ts(u.created_at),
		'version', u.version)
$$;

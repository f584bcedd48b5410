-- 0009_auth_notify.sql - tell every serve process when tokens or users change.
--
-- A serve process keeps recent token checks for a short while (auth_cache_ttl)
-- so that each API request does not need its own database lookup.  Any change
-- that could make such a check wrong (a token revoked or deleted, a user
-- disabled, renamed or given another role, a user's wards changed) notifies
-- carebridge_auth at commit, from the API, the CLI or plain SQL alike; every
-- process LISTENs and drops all its cached checks.  A new token needs no
-- notification: it cannot be in any cache yet.

CREATE FUNCTION cb_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('carebridge_auth', '');
	RETURN NULL;
END
$$;

CREATE TRIGGER auth_changed AFTER UPDATE OR DELETE OR TRUNCATE ON tokens
	FOR EACH STATEMENT EXECUTE FUNCTION cb_auth_changed();
CREATE TRIGGER auth_changed AFTER UPDATE OR DELETE OR TRUNCATE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION cb_auth_changed();
CREATE TRIGGER auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON user_wards
	FOR EACH STATEMENT EXECUTE FUNCTION cb_auth_changed();

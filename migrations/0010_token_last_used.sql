-- 0010_token_last_used.sql - record when each token was last used, without
-- flushing every process's token cache each time.
--
-- serve now sets tokens.last_used_at when it looks a token up and the recorded
-- time is over an hour old (so a token in steady use costs one small write an
-- hour), and `carebridge user token list` shows it, so unused tokens can be
-- found and revoked.  0009 notified carebridge_auth on any UPDATE of tokens;
-- that would make each of these writes drop every process's cached token
-- checks.  An update that changes nothing but last_used_at no longer notifies;
-- any other change to a token (revoked, expiry moved, re-hashed) still does,
-- as do deletes and TRUNCATE.

DROP TRIGGER auth_changed ON tokens;
CREATE TRIGGER auth_changed AFTER DELETE OR TRUNCATE ON tokens
	FOR EACH STATEMENT EXECUTE FUNCTION cb_auth_changed();
CREATE TRIGGER auth_changed_update AFTER UPDATE ON tokens
	FOR EACH ROW
	WHEN ((to_jsonb(OLD) - 'last_used_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used_at'))
	EXECUTE FUNCTION cb_auth_changed();

-- 0017_token_expiry.sql - every token expires; web sessions record their use.
--
-- API tokens could be issued without an expiry and then lasted until someone
-- revoked them.  `carebridge user token issue` now requires --expires (at most
-- token_max_lifetime, 365 days by default).  Tokens issued before without one
-- get 365 days from this migration (the default maximum: a migration cannot
-- read the configuration); revoke and reissue any that should end sooner.
-- From now on the column is NOT NULL, so no path (CLI, API, plain SQL) can
-- make an everlasting token again.
--
-- The UPDATE below changes expires_at, so carebridge_auth is notified
-- (0010) and every process drops its cached token checks.

UPDATE tokens SET expires_at = now() + interval '365 days' WHERE expires_at IS NULL;
ALTER TABLE tokens ALTER COLUMN expires_at SET NOT NULL;

-- Web sessions end after session_idle_timeout without use: serve records each
-- use in last_used_at (at most once a minute per session) and compares it, or
-- created_at for a session not used yet, with the timeout at every lookup.
-- The token lookup filters on hash (unique index) first: no new index needed.

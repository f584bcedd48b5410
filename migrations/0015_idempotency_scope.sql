-- 0015_idempotency_scope.sql - admission retries answer only their own caller.
--
-- An idempotency row used to be keyed by external_id alone and to hold the
-- whole first reply (patient JSON), returned to anyone who sent the same
-- external_id; HL7 uses PAS visit numbers, which are guessable.  Now a row
-- belongs to a scope (who sent the first request: "user:<users.id>", or
-- "hl7" for the HL7 interface), records its creator, a SHA-256 of the
-- admission as validated, and the episode it opened - no patient data.  A
-- replay re-reads the episode, after an access check, and is audited.  Rows
-- live 48 hours (the server prunes older ones).
--
-- The old rows hold patient JSON and no creator: they cannot be replayed
-- safely, so they go.  A retry of such an admission now answers 409 (its
-- external_id is taken), which is what any caller but its creator gets too.
--
-- cb_text_array: text[] from a JSON array of strings, so that the server
-- passes arrays as JSON built by cJSON instead of array literals built by
-- hand; NULL stays NULL.

DELETE FROM idempotency;
ALTER TABLE idempotency DROP CONSTRAINT idempotency_pkey;
ALTER TABLE idempotency DROP COLUMN status, DROP COLUMN response;
ALTER TABLE idempotency
	ADD COLUMN creator_id uuid,
	ADD COLUMN body_hash bytea NOT NULL,
	ADD COLUMN episode_id uuid NOT NULL REFERENCES episodes;
ALTER TABLE idempotency ADD PRIMARY KEY (scope, key);
CREATE INDEX idempotency_created ON idempotency (created_at);

CREATE FUNCTION cb_text_array(j jsonb) RETURNS text[]
	LANGUAGE sql IMMUTABLE STRICT
	AS $$ SELECT coalesce(array_agg(x ORDER BY n), '{}') FROM jsonb_array_elements_text(j)
	      WITH ORDINALITY AS t(x, n) $$;

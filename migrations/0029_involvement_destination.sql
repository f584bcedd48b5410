-- 0029_involvement_destination.sql - the involvement of the patient, family
-- or unpaid carer in discharge planning, and the coded destination of a
-- discharge (issue 15, "Involvement and destination"; docs/API.md
-- "Involvement" and "Discharge").

-- Who took part in a conversation about the discharge plan, when, and whether
-- they agreed with it (lib/involvement.h).  Append-only: a later conversation
-- is a new row, so what was recorded at any time stays as recorded.
CREATE TABLE involvements (
	id             uuid PRIMARY KEY,
	episode_id     uuid NOT NULL REFERENCES episodes,
	who            text NOT NULL CHECK (who IN ('patient', 'family', 'unpaid_carer', 'advocate')),
	name           text CHECK (length(name) BETWEEN 1 AND 100),  -- optional; never logged
	discussed_at   timestamptz NOT NULL,          -- when the conversation took place
	agreed         boolean NOT NULL,              -- agreed with the discharge plan
	note           text CHECK (length(note) BETWEEN 1 AND 2000),
	recorded_at    timestamptz NOT NULL,          -- carebridge's clock when it was entered
	recorded_by_id uuid REFERENCES users,         -- from the session; NULL for the system
	recorded_by    text NOT NULL,                 -- name at the time
	recorded_role  text NOT NULL,
	CHECK (discussed_at <= recorded_at)
);
CREATE INDEX involvements_episode ON involvements (episode_id, discussed_at, recorded_at);

CREATE FUNCTION cb_involvement_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'involvements are append-only: % refused', TG_OP
		USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER involvements_append_only BEFORE UPDATE OR DELETE ON involvements
	FOR EACH ROW EXECUTE FUNCTION cb_involvement_refuse_change();
REVOKE UPDATE, DELETE, TRUNCATE ON involvements FROM carebridge_app;

CREATE FUNCTION cb_involvement_json(i involvements) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', i.id,
		'episode_id', i.episode_id,
		'who', i.who,
		'name', i.name,
		'discussed_at', cb_ts(i.discussed_at),
		'agreed', i.agreed,
		'note', i.note,
		'recorded_at', cb_ts(i.recorded_at),
		'recorded_by', i.recorded_by,
		'recorded_role', i.recorded_role)
$$;

-- The coded destination of a discharge (lib/destination.h), beside the actual
-- pathway (0024).  The old free-text column discharge_destination stays as it
-- is and becomes the destination's note: rows written before this migration
-- keep their text there, with no code (NULL, "not recorded"): free text is
-- not guessed into a code.  A reopen clears both, as it clears the pathway.
ALTER TABLE episodes ADD COLUMN discharge_destination_code text
	CONSTRAINT episodes_discharge_destination_code_known CHECK (discharge_destination_code IN
		('usual_residence', 'care_home', 'other_hospital', 'died', 'other'));
ALTER TABLE episodes ADD CONSTRAINT episodes_discharge_destination_code_discharged
	CHECK (discharge_destination_code IS NULL OR state = 'discharged');

-- The label of a destination code, for JSON and reports (NULL for NULL).
CREATE FUNCTION cb_destination_label(code text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE code WHEN 'usual_residence' THEN 'Usual place of residence'
	                 WHEN 'care_home' THEN 'Care home'
	                 WHEN 'other_hospital' THEN 'Other hospital'
	                 WHEN 'died' THEN 'Died'
	                 WHEN 'other' THEN 'Other' END
$$;

-- The episode's JSON: "discharge_destination" is now the code (as the
-- discharge request's "destination" is), with its label, and the free text
-- moves to "discharge_destination_note"; "involvement" sums up the records
-- (how many, and the latest conversation: who, when, agreed) so the ward
-- board shows it without a request per patient.  As in 0024, the summary as
-- it stands is kept under another name and extended, not copied.
ALTER FUNCTION cb_episode_summary_json(episodes) RENAME TO cb_episode_summary_before_0029_json;

CREATE FUNCTION cb_episode_summary_json(e episodes) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN cb_episode_summary_before_0029_json(e) || jsonb_build_object(
		'discharge_destination', e.discharge_destination_code,
		'discharge_destination_label', cb_destination_label(e.discharge_destination_code),
		'discharge_destination_note', e.discharge_destination,
		'involvement', (SELECT jsonb_build_object('count', n.count, 'latest', jsonb_build_object(
				'who', l.who, 'discussed_at', cb_ts(l.discussed_at), 'agreed', l.agreed))
			FROM (SELECT count(*) AS count FROM involvements c WHERE c.episode_id = e.id) n,
			     LATERAL (SELECT i.who, i.discussed_at, i.agreed FROM involvements i
			              WHERE i.episode_id = e.id
			              ORDER BY i.discussed_at DESC, i.recorded_at DESC, i.id DESC
			              LIMIT 1) l));
END
$$;

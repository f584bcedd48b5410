-- 0006_hl7.sql - HL7 v2 ADT messages received over MLLP, and the map from
-- the PAS's location codes (PV1-3.1) to carebridge wards.
--
-- Every message is kept, whatever its outcome, for the integration team:
-- the bytes as received, the acknowledgement sent back (so that a resent
-- control id gets the very same ACK), and what it did.  serve prunes rows
-- older than hl7_retention.  raw and ack are bytea: a PAS may send bytes that
-- are not UTF-8, and the integration team needs exactly what came in.

-- PAS location codes the admins map to wards (checked before wards.pas_code).
CREATE TABLE hl7_ward_map (
	pas_code    text PRIMARY KEY CHECK (pas_code ~ '^[A-Za-z0-9_.-]{1,64}$'),
	ward        text NOT NULL REFERENCES wards (code),
	created_at  timestamptz NOT NULL DEFAULT now(),
	updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hl7_messages (
	id                uuid PRIMARY KEY,             -- also the audit rows' request_id
	received_at       timestamptz NOT NULL DEFAULT now(),
	peer              text NOT NULL DEFAULT '',     -- client IP address
	sending_app       text NOT NULL DEFAULT '',     -- MSH-3.1
	sending_facility  text NOT NULL DEFAULT '',     -- MSH-4.1
	control_id        text,                         -- MSH-10, NULL if unreadable
	message_type      text NOT NULL DEFAULT '',     -- MSH-9 as "ADT^A01^ADT_A01"
	raw               bytea NOT NULL,               -- the message, without MLLP framing
	ack_code          text NOT NULL CHECK (ack_code IN ('AA', 'AE', 'AR')),
	ack               bytea NOT NULL,               -- the acknowledgement sent back
	error             text,                         -- why AE or AR
	episode_id        uuid REFERENCES episodes,     -- the episode it touched
	duplicate         boolean NOT NULL DEFAULT false  -- a resent control id: ACK replayed
);
-- One applied outcome per control id and sender: a duplicate gets the stored
-- ACK, and two copies racing each other cannot both commit.  AR is not final
-- (the message was not understood, or the database failed): a resend retries.
CREATE UNIQUE INDEX hl7_messages_control ON hl7_messages
	(sending_app, sending_facility, control_id)
	WHERE NOT duplicate AND ack_code IN ('AA', 'AE');
CREATE INDEX hl7_messages_received ON hl7_messages (received_at);
CREATE INDEX hl7_messages_episode ON hl7_messages (episode_id) WHERE episode_id IS NOT NULL;

-- Bytes as text for people: UTF-8 when they are, else PostgreSQL's escape form.
CREATE FUNCTION cb_hl7_text(b bytea) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN convert_from(b, 'UTF8');
EXCEPTION WHEN OTHERS THEN
	RETURN encode(b, 'escape');
END
$$;

CREATE FUNCTION cb_hl7_message_json(m hl7_messages) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', m.id,
		'received_at', cb_ts(m.received_at),
		'peer', m.peer,
		'sending_app', m.sending_app,
		'sending_facility', m.sending_facility,
		'control_id', m.control_id,
		'message_type', m.message_type,
		'ack_code', m.ack_code,
		'error', m.error,
		'episode_id', m.episode_id,
		'duplicate', m.duplicate,
		'raw', cb_hl7_text(m.raw),
		'ack', cb_hl7_text(m.ack))
$$;

CREATE FUNCTION cb_hl7_ward_map_json(w hl7_ward_map) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'pas_code', w.pas_code,
		'ward', w.ward,
		'created_at', cb_ts(w.created_at),
		'updated_at', cb_ts(w.updated_at))
$$;

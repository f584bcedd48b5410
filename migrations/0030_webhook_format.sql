-- 0030_webhook_format.sql - a webhook's delivery format.
--
-- 'carebridge-event' (every webhook so far): each matching outbox event POSTed
-- as {"id", "type", "data"}.  'fhir-r4-discharge-status': only the events
-- that change whether a patient is safe for discharge (episode.ready,
-- episode.ready_withdrawn), each sent as the FHIR R4 Encounter of the
-- "update safe for discharge status" use case, PUT to the receiver's FHIR
-- base (url) as a conditional update (docs/API.md, "Outbound FHIR").
-- Signature, order, retries, leases and TLS are the same for both.

ALTER TABLE webhooks ADD COLUMN format text NOT NULL DEFAULT 'carebridge-event'
	CHECK (format IN ('carebridge-event', 'fhir-r4-discharge-status'));

-- A webhook as administrators see it: never the secret; now with its format.
CREATE OR REPLACE FUNCTION cb_webhook_json(w webhooks) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', w.id,
		'url', w.url,
		'format', w.format,
		'wards', to_jsonb(w.wards),
		'disciplines', to_jsonb(w.disciplines),
		'types', to_jsonb(w.types),
		'active', w.active,
		'last_delivered_id', w.last_delivered_id,
		'failures', w.failures,
		'last_error', w.last_error,
		'last_error_at', cb_ts(w.last_error_at),
		'lease_owner', CASE WHEN w.lease_until > now() THEN w.lease_owner END,
		'created_at', cb_ts(w.created_at),
		'version', w.version)
$$;

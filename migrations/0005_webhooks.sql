-- 0005_webhooks.sql - outbound webhooks: where to POST outbox events, the
-- filter, the delivery cursor and the lease that lets one serve process at a
-- time deliver each webhook.
--
-- last_delivered_id is the id of the newest event this webhook is done with
-- (acknowledged with a 2xx, or skipped by the filter); delivery resumes after
-- it, so it only ever moves forward.  lease_owner/lease_until say which serve
-- process delivers the webhook now; a lease that has run out may be taken by
-- any process.  The secret signs each body (HMAC-SHA256) and is never shown.

CREATE TABLE webhooks (
	id                 uuid PRIMARY KEY,
	url                text NOT NULL CHECK (url ~ '^http://' AND length(url) <= 2048),
	secret             text NOT NULL CHECK (length(secret) BETWEEN 16 AND 256),
	wards              text[] NOT NULL DEFAULT '{}',  -- empty: every ward
	disciplines        text[] NOT NULL DEFAULT '{}',  -- empty: every discipline
	types              text[] NOT NULL DEFAULT '{}',  -- empty: every type; "task.*" a family
	active             boolean NOT NULL DEFAULT true, -- false: paused, not delivered
	last_delivered_id  bigint NOT NULL DEFAULT 0,
	lease_owner        text,                          -- "host/pid/random" of the deliverer
	lease_until        timestamptz,
	failures           integer NOT NULL DEFAULT 0,    -- failed attempts since the last success
	last_error         text,                          -- the newest failure, no body content
	last_error_at      timestamptz,
	created_at         timestamptz NOT NULL DEFAULT now(),
	version            integer NOT NULL DEFAULT 1
);

-- A webhook as administrators see it: never the secret.
CREATE FUNCTION cb_webhook_json(w webhooks) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', w.id,
		'url', w.url,
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

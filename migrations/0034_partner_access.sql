-- 0034_partner_access.sql - what a partner organisation's users and systems
-- may reach (issue 15; docs/PARTNERS.md).
--
-- 0028 made organisations and gave every user one; this migration lets a
-- webhook belong to a partner organisation (it is then delivered that
-- organisation's referral events only, filtered as its users' streams are:
-- lib/event_filter.c), and shows the organisation in the JSON forms of users,
-- wards (the care transfer hub their patients are referred to) and webhooks.

-- NULL: a trust webhook (every event its filters match, as before).
ALTER TABLE webhooks ADD COLUMN organisation_id uuid REFERENCES organisations;

CREATE OR REPLACE FUNCTION cb_webhook_json(w webhooks) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', w.id,
		'url', w.url,
		'format', w.format,            -- 0030's
		'wards', to_jsonb(w.wards),
		'disciplines', to_jsonb(w.disciplines),
		'types', to_jsonb(w.types),
		'active', w.active,
		'last_delivered_id', w.last_delivered_id,
		'failures', w.failures,
		'last_error', w.last_error,
		'last_error_at', cb_ts(w.last_error_at),
		'lease_owner', CASE WHEN w.lease_until > now() THEN w.lease_owner END,
		'organisation_id', w.organisation_id,
		'created_at', cb_ts(w.created_at),
		'version', w.version)
$$;

CREATE OR REPLACE FUNCTION cb_ward_json(w wards) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'code', w.code,
		'name', w.name,
		'beds', w.beds,
		'pas_code', w.pas_code,
		'occupied', (SELECT count(*) FROM episodes e
		             WHERE e.ward = w.code AND e.state = 'admitted'),
		'hub_organisation_id', w.hub_organisation_id)
$$;

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
		'organisation', (SELECT jsonb_build_object('id', o.id, 'code', o.code, 'name', o.name,
		                                           'kind', o.kind)
		                 FROM organisations o WHERE o.id = u.organisation_id),
		'created_at', cb_ts(u.created_at),
		'version', u.version)
$$;

-- A token's check now depends on its user's organisation (a disabled one's
-- users are signed out, and the organisation is part of the principal):
-- every process drops its cached checks when an organisation changes, as
-- 0009 does for tokens, users and their wards.
CREATE TRIGGER auth_changed AFTER UPDATE OR DELETE OR TRUNCATE ON organisations
	FOR EACH STATEMENT EXECUTE FUNCTION cb_auth_changed();

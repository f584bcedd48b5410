-- 0028_organisations_referrals.sql - organisations and the day-one referral to
-- the care transfer hub (issue 15; docs/PARTNERS.md, docs/API.md "Referrals").
--
-- Under discharge to assess (DOMAIN.md "Social care: from day one") a patient
-- on pathway 1-3 is referred to the local care transfer hub, and the hub, the
-- council and community providers arrange the service.  Those partners are
-- organisations; every user belongs to one (the trust's own staff to the
-- trust).  The Care Act assessment opened on day one (0001) becomes the
-- referral: each assessment is copied into a referral with the same id, so the
-- audit rows written about it (entity 'assessment') stay the referral's early
-- history, and the assessments table is kept, no longer written.

CREATE TABLE organisations (
	id                  uuid PRIMARY KEY,
	-- the ODS code where there is one, else a local code; stable, shown to users
	code                text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$'),
	name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	-- trust: the hospital; local_authority: a council (adult social care);
	-- hub: a care transfer hub / single point of access; provider: home care,
	-- reablement, intermediate-care beds, care homes, equipment services
	kind                text NOT NULL CHECK (kind IN ('trust', 'local_authority', 'hub', 'provider')),
	-- what a provider provides (lib/referral.h service kinds); empty otherwise
	services            text[] NOT NULL DEFAULT '{}',
	-- the council a hub or provider works for, when known
	local_authority_id  uuid REFERENCES organisations,
	disabled_at         timestamptz,
	created_at          timestamptz NOT NULL DEFAULT now(),
	updated_at          timestamptz NOT NULL DEFAULT now(),
	version             integer NOT NULL DEFAULT 1,
	CHECK (kind = 'provider' OR services = '{}')
);
-- Exactly one trust: the organisation every existing user belongs to.
CREATE UNIQUE INDEX organisations_one_trust ON organisations ((true)) WHERE kind = 'trust';
INSERT INTO organisations (id, code, name, kind)
	VALUES ('00000000-0000-4000-8000-00000000a001', 'TRUST', 'The trust', 'trust');

ALTER TABLE users ADD COLUMN organisation_id uuid NOT NULL
	DEFAULT '00000000-0000-4000-8000-00000000a001' REFERENCES organisations;
CREATE INDEX users_organisation ON users (organisation_id);
-- The partner roles (lib/access.h): hub coordinator, council social worker,
-- provider staff.  That a partner role belongs to a partner organisation and a
-- trust role to the trust is checked where users are written (lib/access.c
-- role_fits_organisation), since a CHECK cannot see the organisation's kind.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
	CHECK (role IN ('nurse', 'social_worker', 'ot', 'physio', 'bed_manager', 'admin',
	                'hub_coordinator', 'council_social_worker', 'provider_staff'));

-- The care transfer hub a ward's patients are referred to (NULL: none
-- configured; the referral is still opened, to no organisation, and the
-- screens say so).
ALTER TABLE wards ADD COLUMN hub_organisation_id uuid REFERENCES organisations;

-- The referral.  States (lib/referral.h has the transitions and the FHIR Task
-- status of each):
--   notified         opened on day one; the ward / hospital social worker
--                    completes it                                 (draft)
--   referred         sent to the hub                              (requested)
--   info_requested   the hub asked for more information           (on-hold)
--   accepted         the hub accepted it                          (accepted)
--   declined         the hub declined it, with a reason           (rejected)
--   sourced          a service was found (provider, kind, detail, proposed
--                    start date)                                  (in-progress)
--   start_confirmed  the start date is confirmed                  (ready)
--   completed        the patient was discharged to the service    (completed)
--   withdrawn        not needed after all, with a reason          (cancelled)
CREATE TABLE referrals (
	id                    uuid PRIMARY KEY,
	episode_id            uuid NOT NULL REFERENCES episodes,
	organisation_id       uuid REFERENCES organisations,  -- referred to (the hub); NULL = none set
	state                 text NOT NULL CHECK (state IN ('notified', 'referred', 'info_requested',
	                          'accepted', 'declined', 'sourced', 'start_confirmed', 'completed',
	                          'withdrawn')),
	pathway               smallint CHECK (pathway BETWEEN 0 AND 3), -- likely pathway when last sent
	needs                 text CHECK (length(needs) <= 4000),       -- the needs summary
	contacts              text CHECK (length(contacts) <= 2000),    -- next of kin, carers, key worker
	held_by               uuid REFERENCES users,  -- the hospital social worker completing it
	held_at               timestamptz,
	notified_at           timestamptz NOT NULL,
	referred_at           timestamptz,
	accepted_at           timestamptz,
	info_request          text CHECK (length(info_request) <= 2000), -- the hub's question
	decline_reason        text CHECK (length(decline_reason) <= 2000),
	service_provider_id   uuid REFERENCES organisations,
	service_kind          text CHECK (service_kind IN ('home_care', 'reablement',
	                          'intermediate_care_bed', 'care_home', 'equipment', 'other')),
	service_detail        text CHECK (length(service_detail) <= 500),  -- hours a week, the bed
	service_start_date    date,          -- proposed when sourced, confirmed when start_confirmed
	start_confirmed_at    timestamptz,
	closed_at             timestamptz,   -- completed or withdrawn
	withdraw_reason       text CHECK (length(withdraw_reason) <= 2000),
	-- chase state (0007's scheme: a compare-and-set on level and last chase)
	chase_level           smallint NOT NULL DEFAULT 0,
	last_chased_at        timestamptz,
	next_chase_at         timestamptz,
	created_at            timestamptz NOT NULL DEFAULT now(),
	updated_at            timestamptz NOT NULL DEFAULT now(),
	version               integer NOT NULL DEFAULT 1,
	CHECK ((closed_at IS NOT NULL) = (state IN ('completed', 'withdrawn')))
);
-- At most one open referral per episode; a new one may follow a closed one.
CREATE UNIQUE INDEX referrals_one_open ON referrals (episode_id)
	WHERE state NOT IN ('completed', 'withdrawn');
CREATE INDEX referrals_episode ON referrals (episode_id, notified_at);
CREATE INDEX referrals_organisation ON referrals (organisation_id, state);

-- Every step of every referral, append-only: who moved it from what to what,
-- when, and the step's details (reason, service, note).  The referral row
-- holds the current values only.
CREATE TABLE referral_steps (
	id            bigserial PRIMARY KEY,
	referral_id   uuid NOT NULL REFERENCES referrals,
	at            timestamptz NOT NULL,
	from_state    text,                      -- NULL for the opening step
	to_state      text NOT NULL,
	actor_id      uuid,                      -- NULL: the system (HL7, migration, discharge)
	actor_name    text NOT NULL,
	actor_org     uuid REFERENCES organisations,
	detail        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX referral_steps_referral ON referral_steps (referral_id, at, id);

-- Which organisations an episode is referred to, for the access decisions on
-- every read by a partner (lib/access.c): the hub of any referral, open or
-- closed, and the provider of its service.
CREATE INDEX referrals_provider ON referrals (service_provider_id)
	WHERE service_provider_id IS NOT NULL;

-- The Care Act assessments become referrals (same id).
--   unclaimed                       -> notified
--   claimed, in-progress, on-hold   -> notified, held by the social worker who claimed it
--   completed                       -> referred (the social-care work was done; the
--                                      hub's answer was never recorded), or completed
--                                      if the patient has left
--   cancelled                       -> withdrawn
INSERT INTO referrals (id, episode_id, organisation_id, state, pathway, held_by, held_at,
                       notified_at, referred_at, closed_at, withdraw_reason, chase_level,
                       last_chased_at, next_chase_at, created_at, updated_at, version)
SELECT a.id, a.episode_id, w.hub_organisation_id,
	CASE
		WHEN a.state = 'cancelled' THEN 'withdrawn'
		WHEN a.state = 'completed' AND e.state = 'discharged' THEN 'completed'
		WHEN a.state = 'completed' THEN 'referred'
		WHEN e.state = 'cancelled' THEN 'withdrawn'
		ELSE 'notified'
	END,
	e.pathway,
	CASE WHEN a.state IN ('claimed', 'in-progress', 'on-hold') THEN a.claimed_by END,
	CASE WHEN a.state IN ('claimed', 'in-progress', 'on-hold') THEN a.claimed_at END,
	a.opened_at,
	CASE WHEN a.state = 'completed' THEN coalesce(a.completed_at, a.updated_at) END,
	CASE
		WHEN a.state = 'cancelled' OR e.state = 'cancelled' THEN coalesce(a.completed_at, a.updated_at)
		WHEN a.state = 'completed' AND e.state = 'discharged' THEN coalesce(e.discharged_at, a.updated_at)
	END,
	CASE WHEN a.state = 'cancelled' OR (e.state = 'cancelled' AND a.state <> 'completed')
	     THEN 'migrated from a cancelled Care Act assessment' END,
	a.chase_level, a.last_chased_at, a.next_chase_at, a.created_at, a.updated_at, a.version
FROM assessments a JOIN episodes e ON e.id = a.episode_id JOIN wards w ON w.code = e.ward;

-- Their history: the opening, then the migration step carrying the
-- assessment as it stood (the audit rows about it keep the steps between).
INSERT INTO referral_steps (referral_id, at, from_state, to_state, actor_name, detail)
SELECT a.id, a.opened_at, NULL, 'notified', 'migration',
	jsonb_build_object('migrated_from', 'assessment')
FROM assessments a;
INSERT INTO referral_steps (referral_id, at, from_state, to_state, actor_name, detail)
SELECT r.id, greatest(r.updated_at, r.notified_at), 'notified', r.state, 'migration',
	jsonb_build_object('migrated_from', 'assessment', 'assessment', cb_assessment_json(a))
FROM referrals r JOIN assessments a ON a.id = r.id;

-- The chase log names referrals from now on.
ALTER TABLE chases DROP CONSTRAINT chases_kind_check;
ALTER TABLE chases ADD CONSTRAINT chases_kind_check
	CHECK (kind IN ('task', 'assessment', 'delay', 'barrier', 'review', 'referral'));

-- The FHIR Task status of a referral state (lib/referral.c has the same table;
-- test_referrals.py checks the two agree).
CREATE FUNCTION cb_referral_task_status(state text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE state
		WHEN 'notified' THEN 'draft'
		WHEN 'referred' THEN 'requested'
		WHEN 'info_requested' THEN 'on-hold'
		WHEN 'accepted' THEN 'accepted'
		WHEN 'declined' THEN 'rejected'
		WHEN 'sourced' THEN 'in-progress'
		WHEN 'start_confirmed' THEN 'ready'
		WHEN 'completed' THEN 'completed'
		WHEN 'withdrawn' THEN 'cancelled'
	END
$$;

CREATE FUNCTION cb_organisation_json(o organisations) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN jsonb_build_object(
		'id', o.id, 'code', o.code, 'name', o.name, 'kind', o.kind,
		'services', to_jsonb(o.services), 'local_authority_id', o.local_authority_id,
		'disabled', o.disabled_at IS NOT NULL, 'created_at', cb_ts(o.created_at),
		'updated_at', cb_ts(o.updated_at), 'version', o.version);
END
$$;

CREATE FUNCTION cb_referral_json(r referrals) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	org jsonb;
	provider jsonb;
	holder text;
BEGIN
	IF r.organisation_id IS NOT NULL THEN
		SELECT jsonb_build_object('id', o.id, 'code', o.code, 'name', o.name, 'kind', o.kind)
			INTO org FROM organisations o WHERE o.id = r.organisation_id;
	END IF;
	IF r.service_provider_id IS NOT NULL THEN
		SELECT jsonb_build_object('id', o.id, 'code', o.code, 'name', o.name)
			INTO provider FROM organisations o WHERE o.id = r.service_provider_id;
	END IF;
	IF r.held_by IS NOT NULL THEN
		SELECT u.name INTO holder FROM users u WHERE u.id = r.held_by;
	END IF;
	RETURN jsonb_build_object(
		'id', r.id,
		'episode_id', r.episode_id,
		'state', r.state,
		'task_status', cb_referral_task_status(r.state),
		'organisation', org,
		'pathway', r.pathway,
		'needs', r.needs,
		'contacts', r.contacts,
		'held_by', r.held_by,
		'held_by_name', holder,
		'held_at', cb_ts(r.held_at),
		'notified_at', cb_ts(r.notified_at),
		'referred_at', cb_ts(r.referred_at),
		'accepted_at', cb_ts(r.accepted_at),
		'info_request', r.info_request,
		'decline_reason', r.decline_reason,
		'service', CASE WHEN r.service_kind IS NULL THEN NULL ELSE jsonb_build_object(
			'provider', provider, 'kind', r.service_kind, 'detail', r.service_detail,
			'start_date', to_char(r.service_start_date, 'YYYY-MM-DD')) END,
		'start_confirmed_at', cb_ts(r.start_confirmed_at),
		'closed_at', cb_ts(r.closed_at),
		'withdraw_reason', r.withdraw_reason,
		'chase_level', r.chase_level,
		'created_at', cb_ts(r.created_at),
		'updated_at', cb_ts(r.updated_at),
		'version', r.version);
END
$$;

-- The episode's JSON gains its referral: the open one, else the latest.  As
-- in 0024, the summary as it stands is kept under another name and extended.
ALTER FUNCTION cb_episode_summary_json(episodes) RENAME TO cb_episode_summary_0027_json;

CREATE FUNCTION cb_episode_summary_json(e episodes) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN cb_episode_summary_0027_json(e) || jsonb_build_object('referral',
		(SELECT cb_referral_json(r) FROM referrals r WHERE r.episode_id = e.id
		 ORDER BY r.closed_at IS NULL DESC, r.notified_at DESC, r.id LIMIT 1));
END
$$;

-- The organisations an event is about (a referral's hub and service
-- provider), so the stream and webhooks can give a partner's users the events
-- of their referrals and nothing else (lib/event_filter.c).  NULL or empty:
-- the event is for the trust's users only.
ALTER TABLE events ADD COLUMN organisations uuid[];

-- What a partner sees of a referral: the referral and the patient essentials
-- it needs (NHS number, name, date of birth, ward, likely and actual pathway,
-- EDD, discharge ready date), never the rest of the episode (bed, tasks,
-- barriers, reviews, notes).  The trust's screens use the same shape.
CREATE FUNCTION cb_referral_view_json(r referrals) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	essentials jsonb;
BEGIN
	SELECT jsonb_build_object(
		'patient', jsonb_build_object('nhs_number', p.nhs_number, 'family_name', p.family_name,
		                              'given_name', p.given_name,
		                              'birth_date', to_char(p.birth_date, 'YYYY-MM-DD')),
		'episode', jsonb_build_object('id', e.id, 'state', e.state, 'ward', e.ward,
		                              'ward_name', w.name,
		                              'admitted_at', cb_ts(e.admitted_at),
		                              'pathway', e.pathway,
		                              'discharge_pathway', e.discharge_pathway,
		                              'expected_discharge_date',
		                              to_char(e.expected_discharge_date, 'YYYY-MM-DD'),
		                              'ready_at', cb_ts(e.ready_at),
		                              'discharged_at', cb_ts(e.discharged_at)))
	INTO essentials
	FROM episodes e JOIN patients p ON p.id = e.patient_id JOIN wards w ON w.code = e.ward
	WHERE e.id = r.episode_id;
	RETURN cb_referral_json(r) || coalesce(essentials, '{}');
END
$$;

-- The organisations a referral is referred to, for events and access checks.
CREATE FUNCTION cb_referral_orgs(r referrals) RETURNS uuid[] LANGUAGE sql IMMUTABLE AS $$
	SELECT array_remove(ARRAY[r.organisation_id, r.service_provider_id], NULL)
$$;

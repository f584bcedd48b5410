-- 0022_reference_reviews.sql - reference lists as versioned data, and
-- criteria-to-reside reviews (issue 14; docs/API.md "Reference lists" and
-- "Criteria-to-reside reviews").
--
-- A reference list (delay reasons, criteria to reside) is a set of rows with a
-- list name and version, never enum literals in C or CHECK constraints: NHS
-- England revises its lists, and a new one is imported without a code change
-- (`carebridge reasons import`, POST /api/v1/reference/delay-reasons).  Lists
-- are immutable once loaded: a revision is a new list, so rows that name an
-- old list's key stay readable.  An item may name the key of an older list it
-- corresponds to (older_list, older_key), for reports across the change.

CREATE TABLE reference_lists (
	id           uuid PRIMARY KEY,
	name         text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9.-]{0,63}$'),
	kind         text NOT NULL CHECK (kind IN ('delay_reason', 'criterion')),
	version      text NOT NULL CHECK (length(version) BETWEEN 1 AND 32),
	title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
	is_default   boolean NOT NULL DEFAULT false,  -- the list new records use
	created_at   timestamptz NOT NULL DEFAULT now(),
	created_by   text NOT NULL DEFAULT 'migration'
);
-- one default list of each kind
CREATE UNIQUE INDEX reference_lists_default ON reference_lists (kind) WHERE is_default;

CREATE TABLE reference_items (
	list         text NOT NULL REFERENCES reference_lists (name),
	key          text NOT NULL CHECK (key ~ '^[A-Za-z0-9][A-Za-z0-9_]{0,63}$'),
	label        text NOT NULL CHECK (length(label) BETWEEN 1 AND 300),
	position     integer NOT NULL,                -- order within the list
	active_from  date NOT NULL,                   -- first date the item is in force
	older_list   text,                            -- the older list's item it replaces
	older_key    text,
	PRIMARY KEY (list, key),
	FOREIGN KEY (older_list, older_key) REFERENCES reference_items (list, key),
	CHECK ((older_list IS NULL) = (older_key IS NULL)),
	CHECK (older_list IS NULL OR older_list <> list)
);

INSERT INTO reference_lists (id, name, kind, version, title, is_default) VALUES
	('6f1d0c4e-2b9a-4d4e-9c61-0d2f7f4a2014', 'dtoc-2014', 'delay_reason', '2014',
	 'Delayed transfers of care return (stopped after February 2020)', false),
	('6f1d0c4e-2b9a-4d4e-9c61-0d2f7f4a2023', 'nhse-acute-2023', 'delay_reason', '2023',
	 'NHS England acute discharge reasons for delay (2023)', true),
	('6f1d0c4e-2b9a-4d4e-9c61-0d2f7f4ac7e2', 'nhse-ctr-2022', 'criterion', '2022',
	 'Clinical criteria to reside (Hospital Discharge Service policy, Annex A)', true);

-- The old DToC codes exactly as lib/delay.c spells and describes them.
INSERT INTO reference_items (list, key, label, position, active_from) VALUES
	('dtoc-2014', 'A', 'Awaiting completion of assessment', 1, '2014-04-01'),
	('dtoc-2014', 'B', 'Awaiting public funding', 2, '2014-04-01'),
	('dtoc-2014', 'C', 'Awaiting further non-acute NHS care (including intermediate care, '
	                   'rehabilitation)', 3, '2014-04-01'),
	('dtoc-2014', 'Di', 'Awaiting residential home placement or availability', 4, '2014-04-01'),
	('dtoc-2014', 'Dii', 'Awaiting nursing home placement or availability', 5, '2014-04-01'),
	('dtoc-2014', 'E', 'Awaiting care package in own home', 6, '2014-04-01'),
	('dtoc-2014', 'F', 'Awaiting community equipment and adaptations', 7, '2014-04-01'),
	('dtoc-2014', 'G', 'Patient or family choice', 8, '2014-04-01'),
	('dtoc-2014', 'H', 'Disputes', 9, '2014-04-01'),
	('dtoc-2014', 'I', 'Housing (patients not covered by the Care Act)', 10, '2014-04-01');

-- The 2023 acute list (DOMAIN.md), in the list's own order.  older_key maps a
-- reason to the DToC code it plainly replaces; reasons with no single
-- counterpart have none.
INSERT INTO reference_items (list, key, label, position, active_from, older_list, older_key) VALUES
	('nhse-acute-2023', 'medical_decision', 'Awaiting a medical decision/intervention including '
	 'writing the discharge summary', 1, '2023-04-01', NULL, NULL),
	('nhse-acute-2023', 'equipment_adaptations', 'Awaiting community equipment and adaptations '
	 'to housing', 2, '2023-04-01', 'dtoc-2014', 'F'),
	('nhse-acute-2023', 'hub_confirmation', 'Awaiting confirmation from the community hub / '
	 'single point of access that the referral was received and actioned', 3, '2023-04-01',
	 NULL, NULL),
	('nhse-acute-2023', 'diagnostic_test', 'Awaiting a diagnostic test', 4, '2023-04-01', NULL,
	 NULL),
	('nhse-acute-2023', 'medicines_tto', 'Awaiting medicines to take home', 5, '2023-04-01', NULL,
	 NULL),
	('nhse-acute-2023', 'referral_to_spa', 'Awaiting referral to the community single point of '
	 'access', 6, '2023-04-01', NULL, NULL),
	('nhse-acute-2023', 'therapy_decision', 'Awaiting a therapy decision to discharge', 7,
	 '2023-04-01', NULL, NULL),
	('nhse-acute-2023', 'transport', 'Awaiting transport', 8, '2023-04-01', NULL, NULL),
	('nhse-acute-2023', 'nctr_then_meets_criteria', 'Declared NCTR at the morning board round but '
	 'later meets criteria, so discharge stopped', 9, '2023-04-01', NULL, NULL),
	('nhse-acute-2023', 'homeless_no_place', 'Homeless / no recourse to public funds / no place '
	 'to discharge to', 10, '2023-04-01', 'dtoc-2014', 'I'),
	('nhse-acute-2023', 'not_in_agreement', 'Individual or family not in agreement with the '
	 'discharge plan', 11, '2023-04-01', 'dtoc-2014', 'G'),
	('nhse-acute-2023', 'no_plan', 'No plan', 12, '2023-04-01', NULL, NULL),
	('nhse-acute-2023', 'p1_awaiting_care', 'Pathway 1: awaiting resource for assessment and '
	 'start of care at home', 13, '2023-04-01', 'dtoc-2014', 'E'),
	('nhse-acute-2023', 'p2_awaiting_rehab_bed', 'Pathway 2: awaiting a rehabilitation bed', 14,
	 '2023-04-01', 'dtoc-2014', 'C'),
	('nhse-acute-2023', 'p3_awaiting_care_home', 'Pathway 3: awaiting a residential or nursing '
	 'home bed, likely permanent', 15, '2023-04-01', NULL, NULL),
	('nhse-acute-2023', 'infection_control', 'Remains in hospital to avoid the spread of '
	 'infectious disease', 16, '2023-04-01', NULL, NULL),
	('nhse-acute-2023', 'repatriation_transfer', 'Repatriation or transfer to another acute trust',
	 17, '2023-04-01', NULL, NULL),
	('nhse-acute-2023', 'safeguarding', 'Safeguarding concern or Court of Protection', 18,
	 '2023-04-01', NULL, NULL);

-- The clinical criteria to reside (DOMAIN.md).
INSERT INTO reference_items (list, key, label, position, active_from) VALUES
	('nhse-ctr-2022', 'itu_hdu', 'Requires ITU or HDU care', 1, '2022-07-01'),
	('nhse-ctr-2022', 'oxygen_niv', 'Requires oxygen therapy or non-invasive ventilation', 2,
	 '2022-07-01'),
	('nhse-ctr-2022', 'iv_fluids', 'Requires intravenous fluids', 3, '2022-07-01'),
	('nhse-ctr-2022', 'news2_above_3', 'NEWS2 above 3 (clinical judgement in atrial '
	 'fibrillation or chronic respiratory disease)', 4, '2022-07-01'),
	('nhse-ctr-2022', 'diminished_consciousness', 'Diminished level of consciousness where '
	 'recovery is realistic', 5, '2022-07-01'),
	('nhse-ctr-2022', 'acute_functional_impairment', 'Acute functional impairment beyond what '
	 'home or community care can provide', 6, '2022-07-01'),
	('nhse-ctr-2022', 'last_hours_of_life', 'Last hours of life', 7, '2022-07-01'),
	('nhse-ctr-2022', 'iv_medication', 'Intravenous medication more than twice daily '
	 '(including analgesia)', 8, '2022-07-01'),
	('nhse-ctr-2022', 'lower_limb_surgery_48h', 'Lower-limb surgery within 48 hours', 9,
	 '2022-07-01'),
	('nhse-ctr-2022', 'thoraco_abdominal_pelvic_surgery_72h', 'Thoraco-abdominal or pelvic '
	 'surgery within 72 hours', 10, '2022-07-01'),
	('nhse-ctr-2022', 'invasive_procedure_24h', 'Within 24 hours of an invasive procedure', 11,
	 '2022-07-01');

-- Board-round reviews against the criteria to reside: who, when decided, which
-- criteria were met, the outcome, and what it did to the discharge ready date.
CREATE TABLE reviews (
	id             uuid PRIMARY KEY,
	episode_id     uuid NOT NULL REFERENCES episodes,
	decided_at     timestamptz NOT NULL,          -- when the MDT decided (the DRD for NCTR)
	recorded_at    timestamptz NOT NULL,          -- carebridge's clock when it was entered
	reviewer_id    uuid REFERENCES users,         -- from the session; NULL for the system
	reviewer       text NOT NULL,                 -- name at the time
	reviewer_role  text NOT NULL,
	outcome        text NOT NULL CHECK (outcome IN ('meets_criteria', 'nctr')),
	criteria_list  text NOT NULL REFERENCES reference_lists (name),
	criteria_met   text[] NOT NULL DEFAULT '{}',  -- keys of criteria_list
	note           text CHECK (length(note) <= 2000),
	ready_change   text NOT NULL CHECK (ready_change IN ('none', 'set', 'reversed')),
	CHECK (outcome = 'meets_criteria' OR cardinality(criteria_met) = 0),
	CHECK (decided_at <= recorded_at)
);
CREATE INDEX reviews_episode ON reviews (episode_id, decided_at);

ALTER TABLE episodes
	ADD COLUMN last_review_at     timestamptz,  -- decided_at of the latest review
	ADD COLUMN review_overdue_at  timestamptz;  -- when the chaser found no review since a round

CREATE FUNCTION cb_review_json(r reviews) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', r.id,
		'episode_id', r.episode_id,
		'decided_at', cb_ts(r.decided_at),
		'recorded_at', cb_ts(r.recorded_at),
		'reviewer_id', r.reviewer_id,
		'reviewer', r.reviewer,
		'reviewer_role', r.reviewer_role,
		'outcome', r.outcome,
		'criteria_list', r.criteria_list,
		'criteria_met', to_jsonb(r.criteria_met),
		'note', r.note,
		'ready_change', r.ready_change)
$$;

CREATE FUNCTION cb_reference_list_json(l reference_lists) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'name', l.name,
		'kind', l.kind,
		'version', l.version,
		'title', l.title,
		'default', l.is_default,
		'created_at', cb_ts(l.created_at),
		'created_by', l.created_by,
		'items', coalesce((SELECT jsonb_agg(jsonb_build_object(
			'key', i.key, 'label', i.label, 'active_from', to_char(i.active_from, 'YYYY-MM-DD'),
			'older_list', i.older_list, 'older_key', i.older_key) ORDER BY i.position, i.key)
			FROM reference_items i WHERE i.list = l.name), '[]'::jsonb))
$$;

-- 0008's summary, plus the review fields (last_review_at, review_overdue).
CREATE OR REPLACE FUNCTION cb_episode_summary_json(e episodes) RETURNS jsonb LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	RETURN jsonb_build_object(
		'id', e.id,
		'state', e.state,
		'ward', e.ward,
		'bed', e.bed,
		'admitted_at', cb_ts(e.admitted_at),
		'expected_discharge_date', to_char(e.expected_discharge_date, 'YYYY-MM-DD'),
		'pathway', e.pathway,
		'ready', e.ready_at IS NOT NULL AND e.state = 'admitted',
		'ready_at', cb_ts(e.ready_at),
		'discharged_at', cb_ts(e.discharged_at),
		'discharge_destination', e.discharge_destination,
		'external_id', e.external_id,
		'created_at', cb_ts(e.created_at),
		'updated_at', cb_ts(e.updated_at),
		'version', e.version,
		'last_review_at', cb_ts(e.last_review_at),
		'review_overdue', e.review_overdue_at IS NOT NULL AND e.state = 'admitted',
		'patient', (SELECT cb_patient_json(p) FROM patients p WHERE p.id = e.patient_id),
		'assessment', (SELECT cb_assessment_json(a) FROM assessments a WHERE a.episode_id = e.id),
		'delay', (SELECT cb_delay_json(d) FROM delays d WHERE d.episode_id = e.id
		          ORDER BY d.closed_at IS NULL DESC, d.opened_at DESC LIMIT 1));
END
$$;

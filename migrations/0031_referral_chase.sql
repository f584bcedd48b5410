-- 0031_referral_chase.sql - chasing referrals on both sides of the boundary
-- (issue 15; docs/OPERATIONS.md "Chasing").
--
-- The Care Act assessment chase (0007) becomes two referral chases, kept on
-- the referral row with 0007's compare-and-set:
--   kind 'referral': a referral still "notified" (not sent to the hub)
--     assessment_chase_after after it was opened, chased to social work, then
--     its team lead, then the bed manager, as the assessment was;
--   kind 'hub': a referral "referred" and not accepted within
--     referral_accept_within, or "start_confirmed" whose start date has passed
--     with the patient still in, chased to the hub's coordinators (target
--     'hub'), then the hub's leads ('hub_lead'), then the trust's bed manager.
-- A referral changes hands at every step, so a change of state restarts its
-- chase from level 0 (the trigger below): a hub that accepted is not chased
-- on for what the ward failed to do.

ALTER TABLE chases DROP CONSTRAINT chases_kind_check;
ALTER TABLE chases ADD CONSTRAINT chases_kind_check
	CHECK (kind IN ('task', 'assessment', 'delay', 'barrier', 'review', 'referral', 'hub'));
ALTER TABLE chases DROP CONSTRAINT chases_target_check;
ALTER TABLE chases ADD CONSTRAINT chases_target_check
	CHECK (target IN ('discipline', 'team_lead', 'bed_manager', 'hub', 'hub_lead'));
-- the organisation chased (kind 'hub')
ALTER TABLE chases ADD COLUMN organisation_id uuid REFERENCES organisations;

CREATE FUNCTION cb_referral_chase_restart() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.state IS DISTINCT FROM OLD.state THEN
		NEW.chase_level := 0;
		NEW.last_chased_at := NULL;
		NEW.next_chase_at := NULL;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER referrals_chase_restart BEFORE UPDATE OF state ON referrals
	FOR EACH ROW EXECUTE FUNCTION cb_referral_chase_restart();

CREATE INDEX referrals_chaseable ON referrals (state, notified_at)
	WHERE state IN ('notified', 'referred', 'start_confirmed');

-- Barriers that follow the referral (issue 15; docs/API.md "Barriers").
--
-- While the patient has no criteria to reside, the open referral's state
-- proposes the primary barrier with the current reason, so most delays are
-- coded without anyone typing them (lib/referral.h referral_proposed_reason
-- has the table; cb_referral_proposed_reason below is the same one, and
-- test_referral_barriers.py checks them against each other):
--   notified, declined -> referral_to_spa; referred, info_requested ->
--   hub_confirmation; accepted, sourced, start_confirmed -> by the likely
--   pathway p1_awaiting_care / p2_awaiting_rehab_bed / p3_awaiting_care_home
--   (0 or none: hub_confirmation); completed, withdrawn -> nothing.
-- The proposal is applied in the transaction of whatever changed it (a
-- referral step, the discharge ready date set, the pathway changed), by the
-- triggers below, so no write path can forget it:
--   - no open barrier: the proposal opens one, primary, marked
--     proposed_by_referral (opened_by "referral");
--   - the open barrier the referral proposed: its reason follows (a reason
--     history row, so the days already reported keep theirs);
--   - any other open barrier: a person has coded the delay, and the person
--     wins; the proposal is only shown (episode JSON "proposed_barrier").
-- A person who changes the proposed barrier's reason makes it theirs
-- (proposed_by_referral is cleared): the referral never overrides it again.
-- When the referral proposes nothing (closed) or the patient meets the
-- criteria again, the proposed barrier closes.
ALTER TABLE barriers ADD COLUMN proposed_by_referral uuid REFERENCES referrals;
CREATE INDEX barriers_proposed ON barriers (episode_id)
	WHERE proposed_by_referral IS NOT NULL AND closed_at IS NULL;

CREATE FUNCTION cb_referral_proposed_reason(state text, pathway smallint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
		WHEN state IN ('notified', 'declined') THEN 'referral_to_spa'
		WHEN state IN ('referred', 'info_requested') THEN 'hub_confirmation'
		WHEN state IN ('accepted', 'sourced', 'start_confirmed') THEN
			CASE pathway WHEN 1 THEN 'p1_awaiting_care' WHEN 2 THEN 'p2_awaiting_rehab_bed'
			             WHEN 3 THEN 'p3_awaiting_care_home' ELSE 'hub_confirmation' END
	END
$$;

-- The proposal for episode ep now: (list, key) in the default delay-reason
-- list, or no row.
CREATE FUNCTION cb_episode_proposed_barrier(ep uuid)
RETURNS TABLE (referral_id uuid, reason_list text, reason text) LANGUAGE sql STABLE AS $$
	SELECT r.id, l.name, i.key
	FROM episodes e
	JOIN referrals r ON r.episode_id = e.id AND r.state NOT IN ('completed', 'withdrawn')
	JOIN reference_lists l ON l.kind = 'delay_reason' AND l.is_default
	JOIN reference_items i ON i.list = l.name
	     AND i.key = cb_referral_proposed_reason(r.state, e.pathway)
	WHERE e.id = ep AND e.state = 'admitted' AND e.ready_at IS NOT NULL
	LIMIT 1
$$;

-- A person changing a proposed barrier's reason makes it theirs.
CREATE FUNCTION cb_barrier_proposal_taken_over() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.proposed_by_referral IS NOT NULL AND NEW.reason IS DISTINCT FROM OLD.reason
	   AND current_setting('carebridge.proposing', true) IS DISTINCT FROM 'on' THEN
		NEW.proposed_by_referral := NULL;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER barriers_proposal_taken_over BEFORE UPDATE OF reason ON barriers
	FOR EACH ROW EXECUTE FUNCTION cb_barrier_proposal_taken_over();

-- Apply the proposal to episode ep at instant t (see above).  Audited as the
-- system ("referral"), announced as barrier events like a person's change.
CREATE FUNCTION cb_apply_referral_proposal(ep uuid, t timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	want record;
	mine barriers;
	other_open boolean;
	before jsonb;
	new_id uuid;
	successor uuid;
	w text;
BEGIN
	SELECT e.ward INTO w FROM episodes e WHERE e.id = ep;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	SELECT * INTO want FROM cb_episode_proposed_barrier(ep);
	SELECT * INTO mine FROM barriers b
		WHERE b.episode_id = ep AND b.proposed_by_referral IS NOT NULL AND b.closed_at IS NULL
		ORDER BY b.opened_at DESC LIMIT 1;
	-- events are handed out in commit order: the writer's lock, taken again (re-entrant)
	PERFORM pg_advisory_xact_lock(7262270002);
	PERFORM set_config('carebridge.proposing', 'on', true);

	IF want.reason IS NULL THEN
		IF mine.id IS NOT NULL THEN
			before := cb_barrier_json(mine);
			UPDATE barriers SET closed_at = greatest(t, opened_at), is_primary = false,
				updated_at = now(), version = version + 1 WHERE id = mine.id;
			IF mine.is_primary THEN
				SELECT b.id INTO successor FROM barriers b
					WHERE b.episode_id = ep AND b.closed_at IS NULL
					ORDER BY b.opened_at, b.id LIMIT 1;
				IF successor IS NOT NULL THEN
					UPDATE barriers SET is_primary = true, updated_at = now(),
						version = version + 1 WHERE id = successor;
				END IF;
				INSERT INTO barrier_primary_history (episode_id, at, barrier_id)
					VALUES (ep, greatest(t, mine.opened_at), successor);
			END IF;
			UPDATE episodes SET barrier_seq = barrier_seq + 1 WHERE id = ep;
			INSERT INTO audit (actor, action, entity, entity_id, episode_id, before, after)
				SELECT 'referral', 'barrier.close', 'barrier', b.id, ep, before, cb_barrier_json(b)
				FROM barriers b WHERE b.id = mine.id;
			INSERT INTO events (type, ward, episode_id, payload)
				SELECT 'barrier.closed', w, ep, cb_barrier_json(b) || jsonb_build_object('ward', w)
				FROM barriers b WHERE b.id = mine.id;
		END IF;
	ELSIF mine.id IS NOT NULL THEN
		IF mine.reason_list <> want.reason_list OR mine.reason <> want.reason THEN
			before := cb_barrier_json(mine);
			UPDATE barriers SET reason_list = want.reason_list, reason = want.reason,
				proposed_by_referral = want.referral_id,
				updated_at = now(), version = version + 1 WHERE id = mine.id;
			INSERT INTO barrier_reason_history (barrier_id, at, reason_list, reason)
				VALUES (mine.id, greatest(t, mine.opened_at), want.reason_list, want.reason);
			UPDATE episodes SET barrier_seq = barrier_seq + 1 WHERE id = ep;
			INSERT INTO audit (actor, action, entity, entity_id, episode_id, before, after)
				SELECT 'referral', 'barrier.update', 'barrier', b.id, ep, before,
				       cb_barrier_json(b)
				FROM barriers b WHERE b.id = mine.id;
			INSERT INTO events (type, ward, episode_id, payload)
				SELECT 'barrier.updated', w, ep, cb_barrier_json(b) || jsonb_build_object('ward', w)
				FROM barriers b WHERE b.id = mine.id;
		END IF;
	ELSE
		SELECT EXISTS (SELECT 1 FROM barriers b WHERE b.episode_id = ep AND b.closed_at IS NULL)
			INTO other_open;
		IF NOT other_open THEN
			new_id := gen_random_uuid();
			INSERT INTO barriers (id, episode_id, reason_list, reason, owner, opened_at,
			                      is_primary, opened_by, proposed_by_referral)
				VALUES (new_id, ep, want.reason_list, want.reason, 'Care transfer hub referral',
				        t, true, 'referral', want.referral_id);
			INSERT INTO barrier_reason_history (barrier_id, at, reason_list, reason)
				VALUES (new_id, t, want.reason_list, want.reason);
			INSERT INTO barrier_primary_history (episode_id, at, barrier_id)
				VALUES (ep, t, new_id);
			UPDATE episodes SET barrier_seq = barrier_seq + 1, barrier_chase_level = 0,
				barrier_last_chased_at = NULL, barrier_next_chase_at = NULL WHERE id = ep;
			INSERT INTO audit (actor, action, entity, entity_id, episode_id, before, after)
				SELECT 'referral', 'barrier.open', 'barrier', b.id, ep, NULL, cb_barrier_json(b)
				FROM barriers b WHERE b.id = new_id;
			INSERT INTO events (type, ward, episode_id, payload)
				SELECT 'barrier.opened', w, ep, cb_barrier_json(b) || jsonb_build_object('ward', w)
				FROM barriers b WHERE b.id = new_id;
		END IF;
	END IF;
	PERFORM set_config('carebridge.proposing', 'off', true);
END
$$;

-- The triggers run at commit (deferred), when the referral's step, the
-- readiness history and everything else of the transaction are written, and
-- take their instant from the facts (the step's time, the discharge ready
-- date, the readiness withdrawn), not from the database clock.
CREATE FUNCTION cb_referral_step_proposal_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM cb_apply_referral_proposal(r.episode_id, NEW.at)
		FROM referrals r WHERE r.id = NEW.referral_id;
	RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER referral_steps_propose_barrier AFTER INSERT ON referral_steps
	DEFERRABLE INITIALLY DEFERRED
	FOR EACH ROW EXECUTE FUNCTION cb_referral_step_proposal_trigger();

CREATE FUNCTION cb_episode_proposal_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz;
BEGIN
	IF NEW.ready_at IS NOT DISTINCT FROM OLD.ready_at AND NEW.pathway IS NOT DISTINCT FROM OLD.pathway THEN
		RETURN NULL;
	END IF;
	SELECT e.ready_at INTO t FROM episodes e WHERE e.id = NEW.id;
	IF t IS NULL THEN
		SELECT max(r.withdrawn_at) INTO t FROM readiness r WHERE r.episode_id = NEW.id;
	ELSIF NEW.ready_at IS NOT DISTINCT FROM OLD.ready_at THEN
		t := NULL; -- a pathway change: from now
	END IF;
	PERFORM cb_apply_referral_proposal(NEW.id, coalesce(t, now()));
	RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER episodes_propose_barrier AFTER UPDATE OF ready_at, pathway ON episodes
	DEFERRABLE INITIALLY DEFERRED
	FOR EACH ROW EXECUTE FUNCTION cb_episode_proposal_trigger();

-- The barrier's JSON says whether the referral proposed it (and still holds
-- it); the episode's JSON carries the proposal in force, applied or not, so a
-- screen can show it beside a person's barrier.
CREATE OR REPLACE FUNCTION cb_barrier_json(b barriers) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', b.id,
		'episode_id', b.episode_id,
		'reason_list', b.reason_list,
		'reason', b.reason,
		'reason_label', (SELECT i.label FROM reference_items i
		                 WHERE i.list = b.reason_list AND i.key = b.reason),
		'owner', b.owner,
		'note', b.note,
		'opened_at', cb_ts(b.opened_at),
		'closed_at', cb_ts(b.closed_at),
		'open', b.closed_at IS NULL,
		'primary', b.is_primary,
		'opened_by', b.opened_by,
		'proposed', b.proposed_by_referral IS NOT NULL,
		'proposed_by_referral', b.proposed_by_referral,
		'delay_id', b.delay_id,
		'updated_at', cb_ts(b.updated_at),
		'version', b.version,
		'reason_history', coalesce((SELECT jsonb_agg(jsonb_build_object(
			'reason_list', rh.reason_list, 'reason', rh.reason, 'from', cb_ts(rh.at))
			ORDER BY rh.at, rh.id) FROM barrier_reason_history rh
			WHERE rh.barrier_id = b.id), '[]'::jsonb),
		'primary_spans', coalesce((SELECT jsonb_agg(jsonb_build_object(
			'from', cb_ts(s.at), 'to', cb_ts(s.until)) ORDER BY s.at, s.id)
			FROM (SELECT h.id, h.at, h.barrier_id,
			             lead(h.at) OVER (ORDER BY h.at, h.id) AS until
			      FROM barrier_primary_history h WHERE h.episode_id = b.episode_id) s
			WHERE s.barrier_id = b.id), '[]'::jsonb))
$$;

ALTER FUNCTION cb_episode_summary_json(episodes) RENAME TO cb_episode_summary_pre0031_json;

CREATE FUNCTION cb_episode_summary_json(e episodes) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN cb_episode_summary_pre0031_json(e) || jsonb_build_object('proposed_barrier',
		(SELECT jsonb_build_object('referral_id', p.referral_id, 'reason_list', p.reason_list,
		                           'reason', p.reason, 'reason_label', i.label,
		                           'applied', EXISTS (SELECT 1 FROM barriers b
		                                              WHERE b.episode_id = e.id
		                                              AND b.is_primary
		                                              AND b.proposed_by_referral IS NOT NULL
		                                              AND b.reason = p.reason))
		 FROM cb_episode_proposed_barrier(e.id) p
		 LEFT JOIN reference_items i ON i.list = p.reason_list AND i.key = p.reason));
END
$$;

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

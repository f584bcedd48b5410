-- 0024_discharge_pathway.sql - the actual discharge pathway, recorded at discharge (issue 14).
--
-- episodes.pathway stays what it has always been: the *likely* pathway, set
-- at admission and edited on the ward, which decides the default tasks.  The
-- pathway the patient actually left on is a separate fact, recorded when the
-- discharge is (the acute discharge sitrep counts discharges by it):
--   0 home, no new or extra support; 1 home with new or extra support;
--   2 short-term rehabilitation or care in a bedded setting;
--   3 new residential or nursing home care, likely long-term.
-- NULL is "not recorded": every discharge before this migration, and an HL7
-- A03 that does not say (PV1-36 is not mapped: see docs/API.md, HL7).  A
-- reopen (A13, POST .../reopen) clears it with the rest of the discharge.
ALTER TABLE episodes ADD COLUMN discharge_pathway smallint
	CONSTRAINT episodes_discharge_pathway_range CHECK (discharge_pathway BETWEEN 0 AND 3);
-- Only a discharged episode has an actual pathway.
ALTER TABLE episodes ADD CONSTRAINT episodes_discharge_pathway_discharged
	CHECK (discharge_pathway IS NULL OR state = 'discharged');

-- The episode's JSON (replies, audit images, event payloads, hence the stream
-- and webhooks) gains "discharge_pathway".  Earlier migrations of this release
-- redefine cb_episode_summary_json with fields of their own; rather than copy
-- one of those bodies here (and silently drop the others' fields), the summary
-- as it stands is kept under another name and extended.  The wrapper's RETURN
-- is a simple expression, so PL/pgSQL evaluates it without an executor start.
ALTER FUNCTION cb_episode_summary_json(episodes) RENAME TO cb_episode_summary_0023_json;

CREATE FUNCTION cb_episode_summary_json(e episodes) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN cb_episode_summary_0023_json(e) || jsonb_build_object('discharge_pathway', e.discharge_pathway);
END
$$;

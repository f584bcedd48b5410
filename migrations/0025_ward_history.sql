-- 0025_ward_history.sql - which ward an inpatient was on, over time; and the
-- primary barrier in the episode's JSON (issue 14; docs/REPORTS.md).
--
-- A delayed day on date D counts for the ward the patient was on at the
-- snapshot of D, so a transfer must not move earlier days to the new ward.
-- episodes.ward holds the current ward only; ward_history holds every ward
-- with the instant the patient arrived on it: the admission (written by the
-- trigger below, at admitted_at) and each transfer (written by the transfer
-- itself, at the transfer's instant, in the same transaction).  The ward at
-- instant T is the latest row at or before T (ties: the row written last);
-- before the first row, the first row's ward.  Append-only, like the barrier
-- history (0023).

CREATE TABLE ward_history (
	id          bigserial PRIMARY KEY,
	episode_id  uuid NOT NULL REFERENCES episodes,
	at          timestamptz NOT NULL,
	ward        text NOT NULL REFERENCES wards (code)
);
CREATE INDEX ward_history_episode ON ward_history (episode_id, at, id);

CREATE TRIGGER ward_history_append_only BEFORE UPDATE OR DELETE ON ward_history
	FOR EACH ROW EXECUTE FUNCTION cb_history_refuse_change();

CREATE FUNCTION cb_ward_history_admitted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO ward_history (episode_id, at, ward) VALUES (NEW.id, NEW.admitted_at, NEW.ward);
	RETURN NULL;
END
$$;
CREATE TRIGGER episodes_ward_history AFTER INSERT ON episodes
	FOR EACH ROW EXECUTE FUNCTION cb_ward_history_admitted();

-- Existing episodes: the transfers the audit trail recorded (episode.transfer,
-- with the episode's image before and after), else the current ward from the
-- admission.  The first ward is the one the first transfer left.
INSERT INTO ward_history (episode_id, at, ward)
SELECT e.id, e.admitted_at,
       coalesce((SELECT a.before->>'ward' FROM audit a
                 WHERE a.episode_id = e.id AND a.action = 'episode.transfer'
                   AND a.before ? 'ward' AND EXISTS (SELECT 1 FROM wards w WHERE w.code = a.before->>'ward')
                 ORDER BY a.at, a.id LIMIT 1), e.ward)
FROM episodes e
ORDER BY e.admitted_at, e.id;
INSERT INTO ward_history (episode_id, at, ward)
SELECT a.episode_id, greatest(a.at, e.admitted_at), a.after->>'ward'
FROM audit a JOIN episodes e ON e.id = a.episode_id
WHERE a.action = 'episode.transfer' AND a.after ? 'ward'
  AND EXISTS (SELECT 1 FROM wards w WHERE w.code = a.after->>'ward')
ORDER BY a.at, a.id;

-- The episode's JSON gains its primary barrier (null when none is open), so a
-- board or dashboard shows it without a request per patient.  As in 0024, the
-- summary as it stands is kept under another name and extended.
ALTER FUNCTION cb_episode_summary_json(episodes) RENAME TO cb_episode_summary_0024_json;

CREATE FUNCTION cb_episode_summary_json(e episodes) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN cb_episode_summary_0024_json(e) || jsonb_build_object('primary_barrier',
		(SELECT jsonb_build_object('id', b.id, 'reason_list', b.reason_list, 'reason', b.reason,
		                           'reason_label', i.label, 'owner', b.owner,
		                           'opened_at', cb_ts(b.opened_at), 'version', b.version)
		 FROM barriers b LEFT JOIN reference_items i ON i.list = b.reason_list AND i.key = b.reason
		 WHERE b.episode_id = e.id AND b.is_primary));
END
$$;

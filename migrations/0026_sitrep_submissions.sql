-- 0026_sitrep_submissions.sql - the daily acute discharge sitrep as submitted
-- (issue 14; docs/REPORTS.md, docs/API.md "Reports: sitrep").
--
-- A bed manager submits the figures of a date as computed at that moment
-- (POST /api/v1/reports/sitrep/{date}/submit).  What was submitted is a fact
-- of its own: a later correction to the history (a readiness or discharge
-- entered late) changes the figures computed now, never the submission, and
-- GET shows the difference as amendments beside it.  Submitting again records
-- a new version; earlier versions stay.  Append-only, like the other history
-- tables (0023, 0025).

CREATE TABLE sitrep_submissions (
	id               uuid PRIMARY KEY,
	date             date NOT NULL,
	version          integer NOT NULL CHECK (version >= 1),
	figures          jsonb NOT NULL CHECK (jsonb_typeof(figures) = 'object'),
	submitted_at     timestamptz NOT NULL,
	submitted_by_id  uuid REFERENCES users,  -- NULL: the system
	submitted_by     text NOT NULL,          -- the user's name when submitted
	note             text,
	UNIQUE (date, version)
);

CREATE TRIGGER sitrep_submissions_append_only BEFORE UPDATE OR DELETE ON sitrep_submissions
	FOR EACH ROW EXECUTE FUNCTION cb_history_refuse_change();
REVOKE UPDATE, DELETE, TRUNCATE ON sitrep_submissions FROM carebridge_app;

-- A submission as the sitrep replies show it (without the amendments, which
-- are computed against the figures of the moment).
CREATE FUNCTION cb_sitrep_submission_json(s sitrep_submissions) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'version', s.version,
		'submitted_at', cb_ts(s.submitted_at),
		'submitted_by', s.submitted_by,
		'note', s.note,
		'figures', s.figures)
$$;

-- 0027_review_chase.sql - an inpatient not reviewed since the last board round is
-- chased like an overdue task (issue 14).
--
-- 0022 only flagged such an inpatient (review_overdue_at).  Now the chaser
-- (server/chase.c) also chases it, with the escalation of a task chase (the
-- ward at level 1, then its team lead, then the bed manager), due from the
-- board round that was missed.  The chase state lives on the episode, as the
-- barrier chase's does (0023), and a review at or after the last round clears
-- the flag and the chase together, so the next missed round starts afresh.
ALTER TABLE episodes
	ADD COLUMN review_due_at          timestamptz,  -- the board round first missed; NULL = not overdue
	ADD COLUMN review_chase_level     smallint NOT NULL DEFAULT 0,
	ADD COLUMN review_last_chased_at  timestamptz,
	ADD COLUMN review_next_chase_at   timestamptz;
-- inpatients already flagged: due from when the chaser found them
UPDATE episodes SET review_due_at = review_overdue_at
	WHERE review_overdue_at IS NOT NULL AND state = 'admitted';
CREATE INDEX episodes_review_chase ON episodes (review_due_at)
	WHERE review_due_at IS NOT NULL AND state = 'admitted';

ALTER TABLE chases DROP CONSTRAINT chases_kind_check;
ALTER TABLE chases ADD CONSTRAINT chases_kind_check
	CHECK (kind IN ('task', 'assessment', 'delay', 'barrier', 'review'));

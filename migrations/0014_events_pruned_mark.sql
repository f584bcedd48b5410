-- 0014_events_pruned_mark.sql - remember how far retention pruning has gone.
--
-- Pruning deletes the oldest events, a contiguous run from the lowest id, and
-- never past the cursor of an active webhook.  A paused webhook does not hold
-- it back, so when it is resumed the events after its cursor may be gone.
-- upto is the highest id pruning has deleted: resuming a webhook whose cursor
-- is below it records the gap (last_error) and moves the cursor to it, instead
-- of skipping the missing events without a word.
--
-- Seeded from what earlier pruning left: everything below the oldest event
-- kept (or, with no event kept, every id the sequence has handed out).

CREATE TABLE events_pruned (
	single  boolean PRIMARY KEY DEFAULT true CHECK (single),
	upto    bigint NOT NULL
);
INSERT INTO events_pruned (upto)
	SELECT coalesce((SELECT min(id) - 1 FROM events),
	                (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM events_id_seq));

-- 0032_fhir_search.sql - indexes for the FHIR R4 facade's searches (issue 15).
--
-- Partner systems poll with _lastUpdated (gt the newest change they have seen)
-- and look up a patient's encounters and tasks: without these, each poll
-- reads every row of the table.  Pages are keyset pages on the primary key,
-- which already has its index.
CREATE INDEX patients_updated ON patients (updated_at);
CREATE INDEX episodes_updated ON episodes (updated_at);
CREATE INDEX episodes_patient ON episodes (patient_id);
CREATE INDEX tasks_updated ON tasks (updated_at);

-- The audit log is append-only, and the application cannot change the schema
-- (issue 20, item 5; docs/OPERATIONS.md, "Database roles").
--
-- Two kinds of role: the owner, who runs these migrations and owns every
-- object, and the application role serve and the CLI run as.  Grants go to the
-- NOLOGIN group role carebridge_app, never to a login name, so they need no
-- configuration and a later migration's tables get them too (the default
-- privileges below); a trust's DBA makes its login role a member.  The group
-- role is cluster-wide: see OPERATIONS.md before running two carebridge
-- databases in one cluster.
--
-- The application role may SELECT, INSERT, UPDATE and DELETE the ordinary
-- tables (pruning deletes events, HL7 messages and idempotency rows), but only
-- SELECT and INSERT audit and only SELECT schema_migrations.  It owns nothing,
-- so it can neither ALTER, DROP nor disable a trigger, and without CREATE on
-- the schema it cannot add objects.
--
-- The trigger refuses UPDATE, DELETE and TRUNCATE of audit rows to everyone,
-- the owner and superusers included: a mistake or a script cannot rewrite
-- history.  The owner can still drop the trigger (ALTER TABLE is an owner's
-- right); keeping the owner's password off the application servers is what
-- stops an intruder there.

DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'carebridge_app') THEN
		IF NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
			RAISE EXCEPTION 'role "carebridge_app" does not exist'
				USING HINT = 'A database administrator creates it: CREATE ROLE carebridge_app '
				             'NOLOGIN; then GRANT carebridge_app TO the application''s login role '
				             '(docs/OPERATIONS.md, "Database roles").';
		END IF;
		CREATE ROLE carebridge_app NOLOGIN;
	END IF;
END
$$;

CREATE FUNCTION cb_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit log is append-only: % of audit rows refused', TG_OP
		USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
	FOR EACH ROW EXECUTE FUNCTION cb_audit_refuse_change();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
	FOR EACH STATEMENT EXECUTE FUNCTION cb_audit_refuse_change();

-- Grants, on the schema the migrations create their objects in (current_schema()).
DO $$
DECLARE
	s text := current_schema();
BEGIN
	EXECUTE format('GRANT USAGE ON SCHEMA %I TO carebridge_app', s);
	EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I'
	               ' TO carebridge_app', s);
	EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO carebridge_app', s);
	-- Tables and sequences later migrations create (as this same owner) get the same.
	EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE'
	               ' ON TABLES TO carebridge_app', s);
	EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES'
	               ' TO carebridge_app', s);
	-- Before PostgreSQL 15 every role could create in public; the owner of the
	-- schema takes that away (a DBA does it otherwise: OPERATIONS.md).
	IF pg_has_role((SELECT nspowner FROM pg_namespace WHERE nspname = s), 'USAGE') THEN
		EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', s);
	END IF;
END
$$;

REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM carebridge_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations FROM carebridge_app;

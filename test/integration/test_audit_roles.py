"""The audit log is append-only (issue 20, item 5).

The database has two roles: an owner that runs migrations, and the application
role serve and the CLI run as, which may only INSERT and SELECT audit rows and
may not change the schema.  A trigger refuses UPDATE, DELETE and TRUNCATE of
audit rows to everyone, the owner too.  scripts/pg creates the roles as a
trust's DBA would (docs/OPERATIONS.md, "Database roles").
"""
import subprocess

import pytest

from conftest import (TOP, admit, make_user, run_bin, start_daemon, stop_daemon_clean)


def refused(db, query, role):
    """Run query as role; returns psql's error text (the test fails if it succeeded)."""
    try:
        db.sql(query, role=role)
    except subprocess.CalledProcessError as e:
        return e.stderr
    pytest.fail(f"{role} could run: {query}")


@pytest.fixture(scope="module")
def audited(daemon, database):
    """An admission, so there are audit rows; returns the episode."""
    nurse = make_user(database, "nurse", wards=["AR1"])
    return admit(daemon, nurse, "AR1")


def audit_rows(db, ep):
    return db.sql(f"SELECT id, action, actor FROM audit WHERE episode_id = '{ep['id']}' ORDER BY id")


CHANGES = [
    "UPDATE audit SET actor = 'someone else' WHERE episode_id = '{id}'",
    "DELETE FROM audit WHERE episode_id = '{id}'",
    "TRUNCATE audit",
    "TRUNCATE audit CASCADE",
]


@pytest.mark.parametrize("change", CHANGES)
def test_app_role_cannot_change_audit_rows(database, audited, change):
    before = audit_rows(database, audited)
    assert before
    err = refused(database, change.format(id=audited["id"]), "app")
    assert "permission denied" in err or "append-only" in err, err
    assert audit_rows(database, audited) == before


@pytest.mark.parametrize("role", ["owner", None])  # None: the cluster's superuser
@pytest.mark.parametrize("change", CHANGES)
def test_trigger_refuses_even_the_owner(database, audited, change, role):
    before = audit_rows(database, audited)
    err = refused(database, change.format(id=audited["id"]), role)
    assert 'audit log is append-only' in err, err
    assert audit_rows(database, audited) == before


def test_app_role_may_insert_and_read_audit_rows(database, audited):
    database.sql("INSERT INTO audit (actor, action, entity) VALUES ('probe', 'probe.insert', 'x')",
                 role="app")
    assert database.sql("SELECT count(*) FROM audit WHERE action = 'probe.insert'",
                        role="app") == [["1"]]


DDL = [
    "CREATE TABLE probe_table (x integer)",
    "CREATE FUNCTION probe_fn() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
    "ALTER TABLE audit DISABLE TRIGGER USER",
    "ALTER TABLE audit ADD COLUMN probe integer",
    "ALTER TABLE episodes ADD COLUMN probe integer",
    "DROP TRIGGER audit_append_only ON audit",
    "DROP TABLE audit",
    "DROP TABLE events",
    "CREATE INDEX probe_idx ON episodes (id)",
]


@pytest.mark.parametrize("ddl", DDL)
def test_app_role_cannot_change_the_schema(database, audited, ddl):
    err = refused(database, ddl, "app")
    assert "must be owner" in err or "permission denied" in err, err


def test_app_role_cannot_write_schema_migrations(database):
    refused(database, "DELETE FROM schema_migrations", "app")
    refused(database, "INSERT INTO schema_migrations (version, name) VALUES (99999, 'x')", "app")


def test_serve_runs_as_the_app_role(database, daemon, audited):
    """Every connection serve holds is the application role's; writes and audit reads work."""
    rows = database.sql("SELECT DISTINCT usename FROM pg_stat_activity"
                        f" WHERE datname = '{database.name}' AND backend_type = 'client backend'"
                        " AND pid <> pg_backend_pid()")
    assert rows == [[database.cluster.user("app")]], rows
    admin = make_user(database, "admin")
    nurse = make_user(database, "nurse", wards=["AR2"])
    ep = admit(daemon, nurse, "AR2")
    r = daemon.get(f"/api/v1/audit?episode={ep['id']}", headers=admin.auth)
    assert r.status_code == 200, r.text
    assert r.json()["items"], r.text


def test_app_role_privileges_on_audit_are_insert_and_select(database):
    app = database.cluster.user("app")
    rows = database.sql("SELECT p, has_table_privilege('" + app + "', 'audit', p)"
                        " FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',"
                        " 'REFERENCES', 'TRIGGER']) p")
    assert dict(rows) == {"SELECT": "t", "INSERT": "t", "UPDATE": "f", "DELETE": "f",
                          "TRUNCATE": "f", "REFERENCES": "f", "TRIGGER": "f"}


def test_migrate_with_the_app_role_fails_clearly(fresh_database):
    """migrate needs the owner's connection string; the application role's is refused,
    whether migrations are pending or not, and says which key to set."""
    for _ in range(2):
        r = run_bin("migrate", env={"CAREBRIDGE_DATABASE_URL": fresh_database.url})
        assert r.returncode != 0
        assert 'cannot migrate as role "carebridge_serve"' in r.stderr, r.stderr
        assert "database_owner_url" in r.stderr, r.stderr
        fresh_database.migrate()  # the second time the schema is current


def test_migrate_status_works_as_the_app_role(database):
    r = run_bin("migrate", "--status", env={"CAREBRIDGE_DATABASE_URL": database.url})
    assert r.returncode == 0, r.stderr


def test_migrate_uses_the_owner_url(fresh_database):
    r = run_bin("migrate", env={"CAREBRIDGE_DATABASE_URL": fresh_database.url,
                                "CAREBRIDGE_DATABASE_OWNER_URL": fresh_database.owner_url})
    assert r.returncode == 0, r.stderr
    owner = fresh_database.cluster.user("owner")
    assert fresh_database.sql("SELECT DISTINCT tableowner FROM pg_tables"
                              " WHERE schemaname = 'public'") == [[owner]]


def test_serve_without_owner_url_on_a_current_schema_is_quiet(database):
    d = start_daemon(database.url)
    try:
        assert d.get("/readyz").status_code == 200
        assert "could not migrate" not in d.log_text(), d.log_text()
    finally:
        stop_daemon_clean(d)


def test_serve_without_owner_url_on_a_pending_schema_says_why(fresh_database):
    from conftest import Daemon
    d = Daemon(fresh_database.url)
    d.wait_ready = lambda timeout=0: None  # it must not become ready
    d.start()
    try:
        assert d.get("/readyz").status_code == 503
        assert 'cannot migrate as role "carebridge_serve"' in d.log_text(), d.log_text()
        fresh_database.migrate()
        assert d.get("/readyz").status_code == 200
    finally:
        stop_daemon_clean(d)


def test_config_file_documents_the_owner_url():
    text = (TOP / "config/carebridge.conf").read_text()
    assert "database_owner_url" in text

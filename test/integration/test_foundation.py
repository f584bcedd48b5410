"""The foundation: health, readiness, metrics, HTTP hygiene, migrations, config, shutdown."""
import os
import re
import shutil
import signal
import subprocess
import time

import pytest
import requests

from conftest import ASAN, BIN, TOP, Cluster, run_bin, start_daemon, stop_daemon_clean


def test_healthz(daemon):
    r = daemon.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert r.headers["Content-Type"] == "application/json"
    assert re.fullmatch(r"[0-9a-f-]{36}", r.headers["X-Request-Id"])


def test_readyz_reports_schema_version(daemon):
    r = daemon.get("/readyz")
    assert r.status_code == 200
    versions = sorted(int(p.name[:4]) for p in (TOP / "migrations").glob("*.sql"))
    assert r.json() == {"status": "ready", "schema_version": versions[-1]}


def test_unknown_route_is_404_with_json_error(daemon):
    r = daemon.get("/no/such/thing")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert "message" in r.json()["error"] and "field" in r.json()["error"]


def test_query_values_are_never_cut_or_dropped(daemon):
    """A value too long, or a name given too often, is 400 naming it, never silently shortened."""
    url = "/api/v1/stream?types=" + ",".join(f"task.t{i:04d}" for i in range(20))  # > 127 bytes
    r = daemon.get(url)
    assert r.status_code == 400 and r.json()["error"]["field"] == "types", r.text
    assert "too long (at most 127 bytes)" in r.json()["error"]["message"]
    r = daemon.get("/api/v1/episodes?" + "&".join(["ward=A1"] * 65))
    assert r.status_code == 400 and r.json()["error"]["field"] == "ward", r.text
    assert "more than 64 times" in r.json()["error"]["message"]
    # both faults: the one met first in the query is named
    many, long_ = "&".join(["ward=A1"] * 65), "types=" + "t" * 128
    assert daemon.get(f"/api/v1/episodes?{many}&{long_}").json()["error"]["field"] == "ward"
    assert daemon.get(f"/api/v1/episodes?{long_}&{many}").json()["error"]["field"] == "types"
    assert daemon.get(f"/api/v1/episodes?x=1&{many}").json()["error"]["field"] == "ward"
    # at the limits: accepted as far as the query goes (then authentication decides)
    assert daemon.get("/api/v1/episodes?" + "&".join(["ward=A1"] * 64)).status_code == 401
    assert daemon.get("/api/v1/stream?types=" + "a" * 127).status_code == 401
    assert daemon.get("/healthz?x=" + "b" * 128).status_code == 400


def test_wrong_method_is_405_with_allow(daemon):
    r = daemon.post("/healthz", json={})
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET"
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_metrics_prometheus_text(daemon):
    for _ in range(3):
        daemon.get("/healthz")
    daemon.get("/nowhere")
    r = daemon.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = r.text
    m = re.search(r'^carebridge_http_requests_total\{method="GET",route="/healthz",status="200"\} (\d+)$',
                  text, re.M)
    assert m and int(m.group(1)) >= 3
    assert re.search(r'route="unmatched",status="404"\} \d+', text)
    assert re.search(r'^carebridge_http_request_duration_seconds_bucket\{route="/healthz",le="\+Inf"\} \d+$',
                     text, re.M)
    assert re.search(r'^carebridge_http_request_duration_seconds_count\{route="/healthz"\} \d+$', text, re.M)
    assert re.search(r'^carebridge_db_pool_connections\{state="in_use"\} \d+$', text, re.M)
    assert re.search(r'^carebridge_db_pool_connections\{state="connected"\} [1-9]\d*$', text, re.M)
    # every non-comment line is "name{labels} value" or "name value"
    for line in text.splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r'[a-z_]+(\{[^}]*\})? [0-9.e+-]+', line), line


def test_oversize_body_is_413_json(daemon):
    limit = 1024 * 1024
    r = daemon.post("/api/v1/session", data=b"x" * (limit + 1),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"


def test_far_oversize_body_is_refused(daemon):
    r = daemon.post("/api/v1/session", data=b"x" * (8 * 1024 * 1024),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_oversize_headers_are_refused(daemon):
    r = daemon.get("/healthz", headers={"X-Big": "a" * (64 * 1024)})
    assert r.status_code in (400, 413, 431)


def test_daemon_still_serves_after_abuse(daemon):
    assert daemon.get("/healthz").status_code == 200


def test_readyz_follows_postgres_down_and_up(tmp_path):
    """A cluster of its own, stopped and restarted under a running daemon."""
    cluster = Cluster(TOP / "build" / f"pg-restart-{os.getpid()}")
    cluster.start()
    try:
        url = cluster.createdb("carebridge")
        assert run_bin("migrate", env={"CAREBRIDGE_DATABASE_URL": url}).returncode == 0
        d = start_daemon(url)
        pid = d.proc.pid
        try:
            assert d.get("/readyz").status_code == 200
            cluster.stop()
            deadline = time.monotonic() + 15
            while d.get("/readyz").status_code != 503:
                assert time.monotonic() < deadline, "readyz never went 503"
                time.sleep(0.1)
            body = d.get("/readyz").json()
            assert body["error"]["code"] == "unavailable"
            assert d.get("/healthz").status_code == 200  # the process itself is fine
            cluster.start()
            deadline = time.monotonic() + 20
            while d.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, "readyz never came back:\n" + d.log_text()
                time.sleep(0.1)
            assert d.proc.pid == pid and d.proc.poll() is None  # same process, no restart
        finally:
            stop_daemon_clean(d)
    finally:
        cluster.stop()
        shutil.rmtree(TOP / "build" / f"pg-restart-{os.getpid()}", ignore_errors=True)


def test_readyz_503_until_migrated(fresh_database):
    from conftest import Daemon
    d = Daemon(fresh_database.url, env={"CAREBRIDGE_MIGRATE_ON_START": "off"})
    d.wait_ready = lambda timeout=0: None  # it must not become ready
    d.start()
    try:
        r = d.get("/readyz")
        assert r.status_code == 503
        fresh_database.migrate()
        r = d.get("/readyz")
        assert r.status_code == 200
    finally:
        stop_daemon_clean(d)


def test_migrate_on_start_applies_schema(fresh_database):
    # serve migrates with the owner's connection string, then serves as the application role
    d = start_daemon(fresh_database.url,
                     env={"CAREBRIDGE_DATABASE_OWNER_URL": fresh_database.owner_url})
    try:
        assert d.get("/readyz").status_code == 200
    finally:
        stop_daemon_clean(d)


def test_migrations_are_idempotent(fresh_database):
    env = {"CAREBRIDGE_DATABASE_URL": fresh_database.owner_url}
    first = run_bin("migrate", env=env)
    assert first.returncode == 0, first.stderr
    n = len(list((TOP / "migrations").glob("*.sql")))
    assert f"applied={n}" in first.stderr
    second = run_bin("migrate", env=env)
    assert second.returncode == 0
    assert "applied=0" in second.stderr
    rows = fresh_database.sql("SELECT count(*) FROM schema_migrations")
    assert rows == [[str(n)]]


def test_broken_migration_rolls_back(fresh_database, tmp_path):
    env = {"CAREBRIDGE_DATABASE_URL": fresh_database.owner_url}
    mig = tmp_path / "migrations"
    shutil.copytree(TOP / "migrations", mig)
    (mig / "9999_broken.sql").write_text(
        "CREATE TABLE broken_probe (x integer);\n"
        "INSERT INTO broken_probe VALUES (1);\n"
        "SELECT 1 / 0;\n")
    r = run_bin("migrate", "--dir", str(mig), env=env)
    assert r.returncode != 0
    assert "9999_broken.sql" in r.stderr and "division by zero" in r.stderr
    # the good migrations before it were applied; nothing of the broken one is left
    assert fresh_database.sql("SELECT to_regclass('broken_probe') IS NULL") == [["t"]]
    assert fresh_database.sql("SELECT count(*) FROM schema_migrations WHERE version = 9999") == [["0"]]
    assert fresh_database.sql("SELECT to_regclass('episodes') IS NOT NULL") == [["t"]]
    # fixing the migration lets it apply
    (mig / "9999_broken.sql").write_text("CREATE TABLE broken_probe (x integer);\n")
    r = run_bin("migrate", "--dir", str(mig), env=env)
    assert r.returncode == 0, r.stderr
    assert fresh_database.sql("SELECT count(*) FROM schema_migrations WHERE version = 9999") == [["1"]]


def test_migration_0012_cancels_the_open_work_of_cancelled_admissions(fresh_database):
    """Episodes cancelled before A11 cancelled their work get it cancelled, audited, announced."""
    from conftest import admit, make_user
    db = fresh_database
    db.migrate()
    nurse = make_user(db, "nurse", wards=["MG1"])
    d = start_daemon(db.url)
    try:
        ep = admit(d, nurse, "MG1")
        kept = admit(d, nurse, "MG1")  # still admitted: left alone
    finally:
        stop_daemon_clean(d)
    # what an A11 before this change left behind, and the schema before 0012; the
    # day-one assessments such an admission opened then (since issue 15 admissions open
    # a referral instead, so they are made here as the code of that time made them)
    for e in (ep, kept):
        db.sql(f"INSERT INTO assessments (id, episode_id, state, opened_at)"
               f" VALUES (gen_random_uuid(), '{e['id']}', 'unclaimed', now())")
    db.sql(f"UPDATE episodes SET state = 'cancelled' WHERE id = '{ep['id']}'")
    db.sql("DELETE FROM schema_migrations WHERE version = 12")
    last = db.sql("SELECT max(id) FROM events")[0][0]
    r = run_bin("migrate", env={"CAREBRIDGE_DATABASE_URL": db.owner_url})
    assert r.returncode == 0 and "applied=1" in r.stderr, r.stderr
    tasks = db.sql(f"SELECT id, status FROM tasks WHERE episode_id = '{ep['id']}'")
    assert tasks and {t[1] for t in tasks} == {"cancelled"}
    assert db.sql(f"SELECT state FROM assessments WHERE episode_id = '{ep['id']}'") == \
        [["cancelled"]]
    assert {r[0] for r in db.sql(f"SELECT status FROM tasks WHERE episode_id = '{kept['id']}'")} \
        == {"requested"}
    assert db.sql(f"SELECT state FROM assessments WHERE episode_id = '{kept['id']}'") == \
        [["unclaimed"]]
    audit = db.sql(f"SELECT action, actor, before->>'status', after->>'status' FROM audit"
                   f" WHERE episode_id = '{ep['id']}' AND action LIKE '%.cancel'")
    assert sorted(a[0] for a in audit) == ["assessment.cancel"] + ["task.cancel"] * len(tasks)
    assert all(a[1] == "system" for a in audit)
    assert all((a[2], a[3]) == ("requested", "cancelled") for a in audit if a[0] == "task.cancel")
    events = db.sql(f"SELECT type FROM events WHERE id > {last} ORDER BY id")
    assert sorted(e[0] for e in events) == ["assessment.updated"] + ["task.updated"] * len(tasks)


def test_migrate_without_database_fails_clearly():
    r = run_bin("migrate", env={"CAREBRIDGE_DATABASE_URL": "host=/nonexistent port=1 dbname=x"})
    assert r.returncode != 0
    assert "could not connect to the database" in r.stderr


@pytest.mark.parametrize("report", ["delays", "sitrep", "drd", "long-stay"])
def test_report_without_database_fails_clearly(report):
    r = run_bin("report", report,
                env={"CAREBRIDGE_DATABASE_URL": "host=/nonexistent port=1 dbname=x"})
    assert r.returncode == 1 and r.stdout == ""
    assert "could not connect to the database" in r.stderr


def write(tmp_path, text):
    p = tmp_path / "carebridge.conf"
    p.write_text(text)
    return str(p)


def test_check_config_accepts_the_example():
    r = run_bin("check-config", "-c", str(TOP / "config/carebridge.conf"))
    assert r.returncode == 0, r.stderr
    assert "configuration is valid" in r.stdout


def test_check_config_reports_every_problem_with_line(tmp_path):
    path = write(tmp_path, "[server]\n"
                           "listen_port = 70000\n"
                           "http_timeout = 5 parsecs\n"
                           "colour = blue\n"
                           "max_body_size = 12 furlongs\n")
    r = run_bin("check-config", "-c", path)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert f'{path}:2: invalid value "70000" for "listen_port": must be between 0 and 65535' in lines
    assert any(l.startswith(f"{path}:3: ") and "http_timeout" in l and "duration" in l for l in lines)
    assert f'{path}:4: unknown setting "colour"' in lines
    assert any(l.startswith(f"{path}:5: ") and "max_body_size" in l for l in lines)


@pytest.mark.parametrize("text,needle", [
    ("[server]\nlisten_port = -1\n", "listen_port"),
    ("[server]\nlisten_port = http\n", "not an integer"),
    ("[server]\nshutdown_timeout = 10\n", "not a duration"),
    ("[server]\nhttp_timeout = 0s\n", "must be between"),
    ("[server]\nlisten_addr = localhost.example\n", "not an IP address"),
    ("[database]\nlisten_port = 80\n", "belongs in section [server]"),
    ("[server\nlisten_port = 80\n", "malformed section header"),
    ("[server]\njust some words\n", 'expected "key = value"'),
    ("[log]\nlog_level = loud\n", "log_level"),
])
def test_check_config_rejects(tmp_path, text, needle):
    r = run_bin("check-config", "-c", write(tmp_path, text))
    assert r.returncode == 1
    assert needle in r.stderr


def test_environment_overrides_file_and_is_checked(tmp_path):
    path = write(tmp_path, "[server]\nlisten_port = 9000\n")
    r = run_bin("check-config", "-c", path, env={"CAREBRIDGE_LISTEN_PORT": "99999"})
    assert r.returncode == 1
    assert "environment CAREBRIDGE_LISTEN_PORT" in r.stderr
    r = run_bin("check-config", "-c", path, env={"CAREBRIDGE_NO_SUCH_KEY": "1"})
    assert r.returncode == 1
    assert 'unknown setting "no_such_key"' in r.stderr
    r = run_bin("check-config", "-c", path, env={"CAREBRIDGE_LISTEN_PORT": "9001"})
    assert r.returncode == 0


def test_missing_config_file_is_an_error(tmp_path):
    r = run_bin("check-config", "-c", str(tmp_path / "nope.conf"))
    assert r.returncode == 1
    assert "could not read configuration file" in r.stderr


@pytest.mark.parametrize("cmd", ["serve", "migrate", "check-config"])
def test_help_for_each_command(cmd):
    r = run_bin(cmd, "--help")
    assert r.returncode == 0
    assert r.stdout.startswith(f"usage: carebridge {cmd}")


def test_version_and_usage():
    r = run_bin("version")
    assert r.returncode == 0 and r.stdout.startswith("carebridge ")
    r = run_bin("frobnicate")
    assert r.returncode == 2 and "unknown command" in r.stderr


def test_serve_refuses_bad_config(tmp_path):
    r = run_bin("serve", "-c", write(tmp_path, "[server]\nlisten_port = nope\n"))
    assert r.returncode == 1
    assert "listen_port" in r.stderr


def test_sigterm_finishes_in_flight_and_exits_zero(database):
    d = start_daemon(database.url)
    s = requests.Session()
    for _ in range(20):
        assert s.get(d.base + "/readyz").status_code == 200
    rc = d.stop(signal.SIGTERM)
    assert rc == 0, d.log_text()
    d.assert_clean_log()
    assert "shutdown requested" in d.log_text()


def test_sigint_exits_zero(database):
    d = start_daemon(database.url)
    assert d.stop(signal.SIGINT) == 0
    d.assert_clean_log()


@pytest.mark.skipif(ASAN, reason="valgrind cannot run an ASan binary; LeakSanitizer covers it")
@pytest.mark.serial
def test_clean_shutdown_under_valgrind(database, tmp_path):
    """SIGTERM after real traffic: valgrind finds no leak and no memory error."""
    if shutil.which("valgrind") is None:
        pytest.fail("valgrind is not installed (scripts/bootstrap installs it)")
    vlog = tmp_path / "valgrind.log"
    wrapper = ["valgrind", "--quiet", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
               "--show-leak-kinds=definite,indirect", "--error-exitcode=99", f"--log-file={vlog}"]
    d = start_daemon(database.url, wrapper=wrapper)
    for path in ("/healthz", "/readyz", "/metrics", "/nope"):
        d.get(path)
    d.post("/healthz", data="{}")
    d.post("/api/v1/session", data=b"{not json")
    rc = d.stop(signal.SIGTERM, timeout=120)
    assert rc == 0, vlog.read_text() + d.log_text()

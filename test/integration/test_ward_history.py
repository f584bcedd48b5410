"""Issue 14: the ward an inpatient was on, over time (migration 0025), so a delayed day
counts for the ward at its snapshot and a transfer never moves earlier days; and the
primary barrier in the episode's JSON.  Times run on a test clock."""
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (Daemon, Database, admit, make_user, run_bin, set_clock,
                      stop_daemon_clean)

TOP = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def db(cluster):
    d = Database(cluster, f"cbtest_{os.getpid()}_wardhist")
    d.migrate()
    return d


@pytest.fixture(scope="module")
def clock(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("clock") / "now")
    set_clock(path, "2026-03-26T10:00:00Z")
    return path


def tick(clock, when):
    """Move the test clock; serve reads it on its 1 s tick and runs on from there."""
    set_clock(clock, when)
    time.sleep(1.5)


def history(db, ep):
    return db.sql("SELECT ward, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')"
                  f" FROM ward_history WHERE episode_id = '{ep['id']}' ORDER BY at, id")


def test_admission_and_each_transfer_are_recorded_at_their_instants(db, clock):
    nurse = make_user(db, "nurse", wards=["WH1", "WH2"])
    set_clock(clock, "2026-03-26T10:00:00Z")
    d = Daemon(db.url, env={"CAREBRIDGE_TEST_CLOCK_FILE": clock}).start()
    try:
        ep = admit(d, nurse, "WH1", admitted_at="2026-03-25T08:30:00Z")
        assert history(db, ep) == [["WH1", "2026-03-25 08:30"]]
        tick(clock, "2026-03-27T14:00:00Z")
        r = d.post(f"/api/v1/episodes/{ep['id']}/transfer", json={"ward": "WH2", "bed": "4"},
                   headers=nurse.auth)
        assert r.status_code == 200, r.text
        tick(clock, "2026-03-28T09:15:00Z")
        r = d.post(f"/api/v1/episodes/{ep['id']}/transfer", json={"ward": "WH1"},
                   headers=nurse.auth)
        assert r.status_code == 200, r.text
        # a refused transfer (same ward) writes nothing
        assert d.post(f"/api/v1/episodes/{ep['id']}/transfer", json={"ward": "WH1"},
                      headers=nurse.auth).status_code == 400
        assert history(db, ep) == [["WH1", "2026-03-25 08:30"], ["WH2", "2026-03-27 14:00"],
                                   ["WH1", "2026-03-28 09:15"]]
        # the history is append-only, even for the application
        with pytest.raises(subprocess.CalledProcessError):
            db.sql(f"DELETE FROM ward_history WHERE episode_id = '{ep['id']}'", role="app")
        assert len(history(db, ep)) == 3
    finally:
        stop_daemon_clean(d)


def test_primary_barrier_is_part_of_the_episode(db, clock):
    nurse = make_user(db, "nurse", wards=["WH3"])
    set_clock(clock, "2026-03-26T10:00:00Z")
    d = Daemon(db.url, env={"CAREBRIDGE_TEST_CLOCK_FILE": clock}).start()
    try:
        ep = admit(d, nurse, "WH3", admitted_at="2026-03-25T08:30:00Z")
        assert d.get(f"/api/v1/episodes/{ep['id']}", headers=nurse.auth).json()[
            "primary_barrier"] is None
        r = d.post(f"/api/v1/episodes/{ep['id']}/barriers",
                   json={"reason": "p1_awaiting_care", "owner": "social work"},
                   headers=nurse.auth)
        assert r.status_code == 201, r.text
        b = r.json()
        pb = d.get(f"/api/v1/episodes/{ep['id']}", headers=nurse.auth).json()["primary_barrier"]
        assert pb["id"] == b["id"] and pb["reason"] == "p1_awaiting_care"
        assert pb["reason_list"] == "nhse-acute-2023" and pb["owner"] == "social work"
        assert pb["reason_label"]
        r = d.patch(f"/api/v1/barriers/{b['id']}", json={"closed": True},
                    headers={**nurse.auth, "If-Match": str(b["version"])})
        assert r.status_code == 200, r.text
        assert d.get(f"/api/v1/episodes/{ep['id']}", headers=nurse.auth).json()[
            "primary_barrier"] is None
    finally:
        stop_daemon_clean(d)


def test_migration_0025_rebuilds_the_history_from_the_audit_trail(fresh_database, tmp_path):
    db = fresh_database
    env = {"CAREBRIDGE_DATABASE_URL": db.url, "CAREBRIDGE_DATABASE_OWNER_URL": db.owner_url}
    before = tmp_path / "migrations"
    shutil.copytree(TOP / "migrations", before)
    for f in before.glob("*.sql"):
        if f.name >= "0025":
            f.unlink()
    assert run_bin("migrate", "--dir", str(before), env=env).returncode == 0
    db.sql("INSERT INTO wards (code, name, beds) VALUES ('MA1', 'A', 10), ('MA2', 'B', 10)")
    moved, stayed = ("aaaa0000-0000-4000-8000-000000000000",
                     "bbbb0000-0000-4000-8000-000000000000")
    for i, ep in zip("ab", (moved, stayed)):
        pid = f"{i}{i}{i}{i}1111-0000-4000-8000-000000000000"
        db.sql("INSERT INTO patients (id, local_id, family_name, given_name, birth_date)"
               f" VALUES ('{pid}', 'MIG{i}', 'Test', 'Patient', '1940-01-01')")
        db.sql("INSERT INTO episodes (id, patient_id, state, ward, admitted_at)"
               f" VALUES ('{ep}', '{pid}', 'admitted', 'MA2', '2026-01-01T10:00:00Z')")
    # the moved patient came in on MA1 and was transferred on 3 January
    db.sql("INSERT INTO audit (at, actor, action, entity, entity_id, episode_id, before, after)"
           " VALUES ('2026-01-03T12:00:00Z', 'nurse', 'episode.transfer', 'episode',"
           f" '{moved}', '{moved}', '{{\"ward\": \"MA1\"}}', '{{\"ward\": \"MA2\"}}')")
    r = run_bin("migrate", env=env)
    assert r.returncode == 0, r.stderr

    def hist(ep):
        return db.sql("SELECT ward, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')"
                      f" FROM ward_history WHERE episode_id = '{ep}' ORDER BY at, id")
    assert hist(moved) == [["MA1", "2026-01-01 10:00"], ["MA2", "2026-01-03 12:00"]]
    assert hist(stayed) == [["MA2", "2026-01-01 10:00"]]


def test_the_test_clock_runs_on_between_writes(db, clock):
    """The test clock is read again only when its file is written again: in between it runs
    on like a real clock, so a later change never gets an earlier (or the same frozen) time."""
    nurse = make_user(db, "nurse", wards=["WH4"])
    set_clock(clock, "2026-03-26T10:00:00Z")
    d = Daemon(db.url, env={"CAREBRIDGE_TEST_CLOCK_FILE": clock}).start()
    try:
        ep = admit(d, nurse, "WH4", admitted_at="2026-03-25T08:30:00Z")
        time.sleep(3.5)
        r = d.post(f"/api/v1/episodes/{ep['id']}/transfer", json={"ward": "WH1"},
                   headers=nurse.auth)
        assert r.status_code == 200, r.text
        at = db.sql("SELECT extract(epoch FROM at)::bigint - extract(epoch FROM"
                    " '2026-03-26T10:00:00Z'::timestamptz)::bigint FROM ward_history"
                    f" WHERE episode_id = '{ep['id']}' AND ward = 'WH1'")
        assert int(at[0][0]) >= 3, at
    finally:
        stop_daemon_clean(d)

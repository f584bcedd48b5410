"""PostgreSQL killed under write load (kill -9 of the postmaster), on a cluster of its own.

The shared session cluster is never touched: every test here runs its own
scripts/pg cluster (CB_PG_DIR) and kills that one.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest
import requests

from conftest import TOP, Cluster, Database, make_user, start_daemon, stop_daemon_clean, admission_body
from sse import SSEClient

# group commits and crash recovery are measured without other test workers beside them
pytestmark = pytest.mark.serial

WARD = "KC"


def postmaster_pid(cluster):
    with open(os.path.join(cluster.pg("datadir"), "postmaster.pid")) as f:
        return int(f.readline())


def kill_postmaster(cluster):
    """SIGKILL the postmaster (its backends are left behind, as after a crash)."""
    pid = postmaster_pid(cluster)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        try:  # a zombie until its parent (pg_ctl's shell is gone: init) reaps it
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(") ", 1)[1].startswith("Z"):
                    break
        except OSError:
            break
        time.sleep(0.01)


@pytest.fixture(scope="module")
def crash_cluster():
    root = tempfile.mkdtemp(prefix="cbpgcrash-")
    os.chmod(root, 0o755)  # the postgres user must reach it
    c = Cluster(root)
    c.start()
    yield c
    try:
        c.stop()
    finally:
        shutil.rmtree(c.pg("datadir").rsplit("/", 1)[0], ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def crash_db(crash_cluster):
    db = Database(crash_cluster, f"cbcrash_{os.getpid()}")
    db.migrate()
    return db


BUSY_SQL = "SELECT count(*) FROM generate_series(1, 3000000000)"


def test_pg_start_recovers_a_killed_cluster_at_once(crash_cluster, crash_db):
    """scripts/pg start right after the postmaster was SIGKILLed with queries running.

    A backend busy in a long query does not notice its postmaster died and holds
    the shared memory on; the dead postmaster may not yet be reaped (a zombie
    with the pid postmaster.pid names).  Neither may stop a start.
    """
    pg = str(TOP / "scripts/pg")
    busy = [subprocess.Popen([pg, "psql", "-d", crash_db.name, "-qtA", "-c", BUSY_SQL],
                             env=crash_cluster.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        deadline = time.monotonic() + 10
        while crash_db.sql("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                           " AND query LIKE 'SELECT count(*) FROM generate_series%'"
                           " AND pid <> pg_backend_pid()") != [["2"]]:
            assert time.monotonic() < deadline, "the busy queries never started"
            time.sleep(0.05)
        kill_postmaster(crash_cluster)
        t0 = time.monotonic()
        crash_cluster.start()
        assert time.monotonic() - t0 < 30  # crash recovery on a busy machine
        assert crash_db.sql("SELECT 1") == [["1"]]
        crash_cluster.start()  # idempotent: it is running
        assert crash_db.sql("SELECT 1") == [["1"]]
    finally:
        for p in busy:
            p.kill()
            p.wait()


class Writers:
    """Threads that admit patients and PATCH their tasks in a loop, ignoring 503s."""

    def __init__(self, base, user, n=4):
        self.base = base
        self.user = user
        self.stop = threading.Event()
        self.ok = 0
        self.failed = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(n)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def count(self, ok):
        with self.lock:
            if ok:
                self.ok += 1
            else:
                self.failed += 1

    def run(self, i):
        s = requests.Session()
        s.headers.update(self.user.auth)
        task = None
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                if task is None or n % 5 == 0:
                    r = s.post(self.base + "/api/v1/admissions", json=admission_body(WARD),
                               timeout=5)
                    if r.status_code == 201 and r.json().get("tasks"):
                        task = r.json()["tasks"][0]["id"]
                else:
                    r = s.patch(self.base + f"/api/v1/tasks/{task}",
                                json={"note": f"w{i} n{n}"}, timeout=5)
                self.count(r.status_code in (200, 201))
                if r.status_code >= 500:
                    time.sleep(0.05)
            except requests.RequestException:
                self.count(False)
                time.sleep(0.05)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


def ward_ids(db, after):
    return [int(r[0]) for r in db.sql(f"SELECT id FROM events WHERE ward = '{WARD}'"
                                       f" AND id > {after} ORDER BY id")]


def open_stream(d, user, headers=None):
    h = dict(user.auth)
    h.update(headers or {})
    c = SSEClient(d.base, f"/api/v1/stream?ward={WARD}", headers=h)
    assert c.wait_connected(), "stream did not open"
    return c


def wait_ids(c, want, timeout):
    want = set(want)
    c.wait_for(lambda ev: want <= {e[0] for e in ev if e[0] is not None}, timeout=timeout)
    return sorted(want - set(c.ids()))


def test_streams_deliver_every_event_after_postgres_is_killed_under_load(crash_cluster,
                                                                         crash_db):
    nurse = make_user(crash_db, "nurse", wards=[WARD])
    bm = make_user(crash_db, "bed_manager")
    d = start_daemon(crash_db.url)
    try:
        live = open_stream(d, bm)
        w = Writers(d.base, nurse).start()
        deadline = time.monotonic() + 20
        while w.ok < 100:
            assert time.monotonic() < deadline, "the writers made no progress"
            time.sleep(0.05)
        start_id = int(crash_db.sql("SELECT coalesce(min(id), 0) FROM events")[0][0]) - 1
        before = int(crash_db.sql("SELECT max(id) FROM events")[0][0])
        kill_postmaster(crash_cluster)
        time.sleep(0.5)  # the writers get 503s
        deadline = time.monotonic() + 120
        while True:
            try:
                crash_cluster.start()
                break
            except Exception:
                assert time.monotonic() < deadline, "scripts/pg start never succeeded"
                time.sleep(0.5)
        d.wait_ready(30)
        ok = w.ok
        deadline = time.monotonic() + 20
        while w.ok < ok + 100:  # writes go on after the recovery
            assert time.monotonic() < deadline, "the writers made no progress after recovery"
            time.sleep(0.05)
        w.finish()
        assert int(crash_db.sql("SELECT max(id) FROM events")[0][0]) > before

        want = ward_ids(crash_db, before)
        # a replay from before the crash, from the same process
        replay = open_stream(d, bm, {"Last-Event-ID": str(before)})
        try:
            missing = wait_ids(replay, want, 10)
            assert missing == [], f"replay lacks {len(missing)} of {len(want)} events"
            ids = replay.ids()
            assert ids == sorted(ids) and len(ids) == len(set(ids))
        finally:
            replay.close()
        # the stream that was open across the crash has every event too
        missing = wait_ids(live, ward_ids(crash_db, start_id), 10)
        assert missing == [], f"the live stream lacks {len(missing)} events"
        # and a new live stream gets new events
        fresh = open_stream(d, bm)
        try:
            r = d.post("/api/v1/admissions", json=admission_body(WARD), headers=nurse.auth)
            assert r.status_code == 201, r.text
            newest = ward_ids(crash_db, before)[-1]
            assert wait_ids(fresh, [newest], 5) == []
            assert wait_ids(live, [newest], 5) == []
        finally:
            fresh.close()
        live.close()
    finally:
        stop_daemon_clean(d)


def test_streams_start_again_when_the_database_comes_back_without_events_they_read(
        crash_cluster, crash_db):
    """PostgreSQL comes back from a kill -9 without the last events a process had read.

    With fsync and synchronous_commit on a crash keeps every committed event; with
    synchronous_commit off (or after a failover to an asynchronous standby, or a
    restore) the newest commits are gone and the sequence hands their ids out again,
    to new events.  The loss is made here around a kill -9 of the postmaster:
    the last events are deleted and the sequence set back just before it, as the
    database would come back.  Before the fix the process read on after the highest id it had seen
    and skipped every new event until the sequence passed it; a new process did not.
    """
    nurse = make_user(crash_db, "nurse", wards=[WARD])
    bm = make_user(crash_db, "bed_manager")
    d = start_daemon(crash_db.url)
    try:
        live = open_stream(d, bm)
        w = Writers(d.base, nurse).start()
        deadline = time.monotonic() + 20
        while w.ok < 60:
            assert time.monotonic() < deadline, "the writers made no progress"
            time.sleep(0.05)
        w.finish()
        before = int(crash_db.sql("SELECT max(id) FROM events")[0][0])
        assert wait_ids(live, [before], 5) == []  # the process has read it
        cut = before - 40
        assert cut > int(crash_db.sql("SELECT min(id) FROM events")[0][0])
        # what a crash with asynchronous commit loses: the last commits, and the
        # sequence with them (under the writers' lock, so no write is half-way;
        # deleting sends no notification, so the process learns of it only
        # when it checks after the restart)
        crash_db.sql(f"SELECT pg_advisory_xact_lock(7262270002);"
                     f" DELETE FROM events WHERE id > {cut};"
                     f" SELECT setval('events_id_seq', {cut})")
        kept = int(crash_db.sql("SELECT max(id) FROM events")[0][0])
        kill_postmaster(crash_cluster)
        crash_cluster.start()
        d.wait_ready(30)
        w = Writers(d.base, nurse).start()
        deadline = time.monotonic() + 20
        while int(crash_db.sql("SELECT max(id) FROM events")[0][0]) < before + 20:
            assert time.monotonic() < deadline, "the writers made no progress after recovery"
            time.sleep(0.05)
        w.finish()
        want = ward_ids(crash_db, cut)
        assert want[0] <= before  # ids the process had seen are handed out again

        # the stream open across the loss is told to reload, then gets every new event
        def after_reset(ev):
            resets = [i for i, e in enumerate(ev) if e[1] == "reset"]
            return [e[0] for e in ev[resets[0] + 1:]] if resets else []
        live.wait_for(lambda ev: set(want) <= set(after_reset(ev)), timeout=10)
        got = after_reset(live.events)
        assert got, "the live stream was never reset"
        reset = [e for e in live.events if e[1] == "reset"][0]
        assert reset[0] == kept  # the newest event the database still has
        assert [i for i in want if i not in got] == []
        # a replay from before the loss gets every event the table has after it
        replay = open_stream(d, bm, {"Last-Event-ID": str(cut - 10)})
        try:
            want = ward_ids(crash_db, cut - 10)
            missing = wait_ids(replay, want, 10)
            assert missing == [], f"replay lacks {len(missing)} of {len(want)} events"
            assert replay.ids() == want
        finally:
            replay.close()
        # one from an id that was lost is told to reload, then gets the new events
        replay = open_stream(d, bm, {"Last-Event-ID": str(before)})
        try:
            assert replay.wait_for(lambda ev: any(e[1] == "reset" for e in ev), timeout=5)
            newest = ward_ids(crash_db, 0)[-1]
            r = d.post("/api/v1/admissions", json=admission_body(WARD), headers=nurse.auth)
            assert r.status_code == 201, r.text
            fresh = ward_ids(crash_db, newest)
            assert wait_ids(replay, fresh, 5) == []
            assert wait_ids(live, fresh, 5) == []
        finally:
            replay.close()
        live.close()
    finally:
        stop_daemon_clean(d)

"""Delays and chasing with a test clock: overdue tasks escalate on schedule, chases happen
exactly once (restarts, two processes), midnight snapshots open delays, the 2014 reason code
and attribution are read-only (issue 14), and the daily report matches a table computed by
hand from DOMAIN.md's rule."""
import json
import os
import time

import pytest
import requests

from conftest import Daemon, admit, make_user, stop_daemon_clean, set_clock
from sse import SSEClient


@pytest.fixture(scope="module")
def db(cluster):
    """A database of its own: the report below counts everything in it."""
    from conftest import Database
    d = Database(cluster, f"cbtest_{os.getpid()}_delays")
    d.migrate()
    return d


@pytest.fixture(scope="module")
def clock(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("clock") / "now")
    set_clock(path, "2026-03-26T08:00:00Z")
    return path


def start(db, clock, **env):
    e = {"CAREBRIDGE_TEST_CLOCK_FILE": clock}
    e.update(env)
    return Daemon(db.url, env=e).start()


@pytest.fixture(scope="module")
def people(db):
    return {
        "nurse": make_user(db, "nurse", wards=["RA", "RB"]),
        "nurse_b": make_user(db, "nurse", wards=["RB"]),
        "bm": make_user(db, "bed_manager"),
        "sw": make_user(db, "social_worker"),
        "ot": make_user(db, "ot"),
    }


def wait_until(pred, timeout=8.0, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def chases(db, entity_id):
    return db.sql(f"SELECT level, target, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI') "
                  f"FROM chases WHERE entity_id = '{entity_id}' ORDER BY id")


def test_overdue_task_is_chased_and_escalates_on_schedule(db, clock, people):
    set_clock(clock, "2026-03-26T08:00:00Z")
    d = start(db, clock)
    try:
        ep = admit(d, people["nurse"], "RA", pathway=1, admitted_at="2026-03-26T07:00:00Z")
        task = [t for t in ep["tasks"] if t["title"] == "Functional assessment"][0]
        assert task["due_at"] == "2026-03-28T07:00:00Z"  # +48 h
        s = SSEClient(d.base, "/api/v1/stream?discipline=ot", headers=people["bm"].auth)
        assert s.wait_connected()
        time.sleep(1.5)
        assert chases(db, task["id"]) == []
        # one minute past due: task.overdue and a level-1 chase to the OT team
        set_clock(clock, "2026-03-28T07:01:00Z")
        assert wait_until(lambda: len(chases(db, task["id"])) == 1)
        assert chases(db, task["id"]) == [["1", "discipline", "2026-03-28T07:01"]]
        assert s.wait_for(lambda ev: any(e[1] == "task.overdue" and json.loads(e[2])["id"] == task["id"]
                                         for e in ev))
        assert s.wait_for(lambda ev: any(e[1] == "chase.task" for e in ev))
        chase_ev = [json.loads(e[2]) for e in s.events if e[1] == "chase.task"][0]
        assert chase_ev["level"] == 1 and chase_ev["target"] == "discipline"
        assert chase_ev["discipline"] == "ot" and chase_ev["entity_id"] == task["id"]
        r = d.get(f"/api/v1/episodes/{ep['id']}", headers=people["bm"].auth).json()
        assert [t for t in r["tasks"] if t["id"] == task["id"]][0]["overdue"] is True
        # nothing more until the repeat interval (4 h)
        set_clock(clock, "2026-03-28T10:00:00Z")
        time.sleep(2.5)
        assert len(chases(db, task["id"])) == 1
        set_clock(clock, "2026-03-28T11:02:00Z")  # 4 h after the first chase: repeat at level 1
        assert wait_until(lambda: len(chases(db, task["id"])) == 2)
        set_clock(clock, "2026-03-28T15:01:00Z")  # 8 h overdue: team lead (level 2)
        assert wait_until(lambda: len(chases(db, task["id"])) == 3)
        assert chases(db, task["id"])[2][:2] == ["2", "team_lead"]
        s.close()
        # a restart in the middle: nothing lost, nothing repeated
        stop_daemon_clean(d)
        set_clock(clock, "2026-03-29T06:02:00Z")  # 23 h overdue, BST now: still level 2, repeat due
        d = start(db, clock)
        assert wait_until(lambda: len(chases(db, task["id"])) == 4)
        time.sleep(2)
        assert len(chases(db, task["id"])) == 4
        assert chases(db, task["id"])[3][:2] == ["2", "team_lead"]
        set_clock(clock, "2026-03-29T07:01:00Z")  # 24 h overdue: bed manager (level 3)
        assert wait_until(lambda: len(chases(db, task["id"])) == 5)
        assert chases(db, task["id"])[4][:2] == ["3", "bed_manager"]
        # completing the task stops the chase
        r = d.patch(f"/api/v1/tasks/{task['id']}", json={"status": "completed"}, headers=people["ot"].auth)
        assert r.status_code == 200, r.text
        set_clock(clock, "2026-03-29T12:00:00Z")
        time.sleep(2.5)
        assert len(chases(db, task["id"])) == 5
    finally:
        stop_daemon_clean(d)


def test_two_processes_chase_each_item_once(db, clock, people):
    set_clock(clock, "2026-03-29T12:00:00Z")
    d1 = start(db, clock)
    d2 = start(db, clock)
    try:
        eps = [admit(d1, people["nurse"], "RB", pathway=0, admitted_at="2026-03-29T11:00:00Z")
               for _ in range(5)]
        ids = [t["id"] for ep in eps for t in ep["tasks"] if t["due_at"]]
        assert len(ids) == 5  # the ward's "confirm EDD" task, due +24 h
        set_clock(clock, "2026-03-30T11:05:00Z")
        assert wait_until(lambda: all(len(chases(db, i)) == 1 for i in ids))
        time.sleep(2.5)  # both processes have had several passes
        for i in ids:
            assert len(chases(db, i)) == 1
        procs = db.sql("SELECT DISTINCT process FROM chases WHERE entity_id IN (%s)" %
                       ",".join(f"'{i}'" for i in ids))
        assert 1 <= len(procs) <= 2
    finally:
        stop_daemon_clean(d1)
        stop_daemon_clean(d2)


def test_day_one_referral_not_sent_is_chased_after_a_day(db, clock, people):
    """The Care Act assessment's chase, now the day-one referral's (issue 15)."""
    set_clock(clock, "2026-03-30T09:00:00Z")
    d = start(db, clock)
    try:
        ep = admit(d, people["nurse"], "RA", pathway=1, admitted_at="2026-03-30T08:00:00Z")
        aid = ep["referral"]["id"]
        time.sleep(1.5)
        assert chases(db, aid) == []
        set_clock(clock, "2026-03-31T09:05:00Z")  # opened 09:00 (clock) + 24 h
        assert wait_until(lambda: len(chases(db, aid)) == 1)
        assert chases(db, aid)[0][:2] == ["1", "discipline"]
        rows = db.sql(f"SELECT discipline FROM chases WHERE entity_id = '{aid}'")
        assert rows == [["social_work"]]
    finally:
        stop_daemon_clean(d)


@pytest.fixture(scope="module")
def rdb(cluster):
    """The report scenario needs a database whose midnights it alone has seen."""
    from conftest import Database
    d = Database(cluster, f"cbtest_{os.getpid()}_report")
    d.migrate()
    return d


def test_midnight_snapshot_opens_delays_and_report_matches_hand_count(rdb, clock):
    """Scenario over the spring-forward night (29 March 2026):

    E1 ward RA: ready 27 Mar 15:00Z (GMT), never leaves.
       snapshot(27)=28T00:00Z, (28)=29T00:00Z, (29)=29T23:00Z (BST), (30)=30T23:00Z
       -> counts on 27, 28, 29, 30 = 4 days.
    E2 ward RA: ready 28 Mar 10:00Z, discharged 30 Mar 11:00Z
       -> 28 (29T00:00Z < discharge), 29 (29T23:00Z < discharge); not 30 = 2 days.
    E3 ward RB: ready 29 Mar 22:30Z (23:30 BST, before that date's 23:00Z? no: 22:30Z <= 23:00Z)
       -> 29 and 30 = 2 days; readiness withdrawn on 31 Mar (after the 30th's snapshot).
    by day: 27:1, 28:2, 29:3, 30:2 -> 8 delayed days; at the snapshot of the 30th: E1, E3.

    The report reads the history (issue 14): E3's barrier p1_awaiting_care is opened on
    30 Mar 12:00, so only its 30th counts under it and every other day stays "no reason
    recorded"; barriers opened on the 31st, and the 2014 reasons put on the old delay rows,
    never move a day.  Length so far at the 30th: E1 27..30 = 4, E3 29..30 = 2; on the
    29th RA's longest is E1's 3 (E2's is 2).
    """
    db = rdb
    people = {"nurse": make_user(db, "nurse", wards=["RA", "RB"]),
              "bm": make_user(db, "bed_manager"), "sw": make_user(db, "social_worker")}
    set_clock(clock, "2026-03-27T06:00:00Z")
    d = start(db, clock)
    n = people["nurse"]
    try:
        e1 = admit(d, n, "RA", pathway=0, admitted_at="2026-03-26T08:00:00Z", bed="1")
        e2 = admit(d, n, "RA", pathway=0, admitted_at="2026-03-27T05:00:00Z", bed="2")
        e3 = admit(d, n, "RB", pathway=0, admitted_at="2026-03-27T05:30:00Z", bed="3")
        set_clock(clock, "2026-03-30T12:00:00Z")
        time.sleep(1.3)  # the daemon reads the clock file once a second
        for ep, ready in ((e1, "2026-03-27T15:00:00Z"), (e2, "2026-03-28T10:00:00Z"),
                          (e3, "2026-03-29T22:30:00Z")):
            r = d.patch(f"/api/v1/episodes/{ep['id']}", json={"ready_at": ready}, headers=n.auth)
            assert r.status_code == 200, r.text
        r = d.post(f"/api/v1/episodes/{e2['id']}/discharge",
                   json={"discharged_at": "2026-03-30T11:00:00Z", "destination": "usual_residence",
                         "pathway": 0}, headers=n.auth)
        assert r.status_code == 200, r.text
        # E3's barrier from 30 Mar 12:00: the reason of its 30th only
        r = d.post(f"/api/v1/episodes/{e3['id']}/barriers", json={"reason": "p1_awaiting_care"},
                   headers=n.auth)
        assert r.status_code == 201, r.text
        # the clock passes the midnight ending the 30th: the snapshot opens E1's and E3's delays
        s = SSEClient(d.base, "/api/v1/stream?types=delay.*", headers=people["bm"].auth)
        assert s.wait_connected()
        set_clock(clock, "2026-03-31T00:30:00Z")
        assert wait_until(lambda: db.sql("SELECT count(*) FROM snapshots WHERE day = '2026-03-30'") == [["1"]])
        delays = dict(db.sql("SELECT episode_id, days FROM delays"))
        assert delays.get(e1["id"]) == "4" and delays.get(e3["id"]) == "2"
        assert e2["id"] not in delays
        assert s.wait_for(lambda ev: len([e for e in ev if e[1] == "delay.opened"]) >= 2)
        s.close()
        # Issue 14: the 2014 reason code and attribution left the write API.  PUT .../delay
        # (once 200 for a bed manager or social worker, 403 for a nurse) is gone for all,
        # with a JSON error, and nothing is written or audited.
        for who in (people["bm"], people["sw"], n):
            r = d.put(f"/api/v1/episodes/{e1['id']}/delay",
                      json={"reason_code": "E", "attribution": "social_care"}, headers=who.auth)
            assert r.status_code in (404, 405), r.text
            assert r.json()["error"]["code"] in ("not_found", "method_not_allowed"), r.text
        assert db.sql("SELECT count(*) FROM delays WHERE reason_code IS NOT NULL") == [["0"]]
        assert db.sql("SELECT count(*) FROM audit WHERE action = 'delay.set_reason'") == [["0"]]
        # the delay row is still read where it was read: the episode's JSON, days included
        r = d.get(f"/api/v1/episodes/{e1['id']}", headers=people["bm"].auth)
        assert r.json()["delay"]["days"] == 4 and r.json()["delay"]["reason_code"] is None
        # the reasons for these delays are barriers now (reason from the current list,
        # recorded by a bed manager or social worker; If-Match on changes; bad reason 400)
        r = d.post(f"/api/v1/episodes/{e1['id']}/barriers", json={"reason": "p1_awaiting_care"},
                   headers=people["bm"].auth)
        assert r.status_code == 201, r.text
        b1 = r.json()
        assert b1["reason"] == "p1_awaiting_care" and b1["primary"] is True
        r = d.patch(f"/api/v1/barriers/{b1['id']}", json={"note": "package sourced"},
                    headers={**people["bm"].auth, "If-Match": f'W/"{b1["version"]}"'})
        assert r.status_code == 200, r.text
        r = d.patch(f"/api/v1/barriers/{b1['id']}", json={"note": "stale"},
                    headers={**people["bm"].auth, "If-Match": str(b1["version"])})
        assert r.status_code == 412 and f"not {b1['version']}" in r.json()["error"]["message"]
        r = d.post(f"/api/v1/episodes/{e3['id']}/barriers", json={"reason": "E"},
                   headers=people["sw"].auth)
        assert r.status_code == 400 and r.json()["error"]["field"] == "reason", r.text
        r = d.post(f"/api/v1/episodes/{e3['id']}/barriers", json={"reason": "medical_decision"},
                   headers=people["sw"].auth)
        assert r.status_code == 201, r.text
        r = d.post(f"/api/v1/episodes/{e2['id']}/barriers", json={"reason": "transport"},
                   headers=people["bm"].auth)
        assert r.status_code == 409, r.text  # discharged: not an inpatient
        # Old rows keep their 2014 reason and attribution, read-only; these are written as
        # the migration left old rows, by the owner role in SQL.  The report below does not
        # read them: its reasons are the barriers' at each snapshot.
        db.sql(f"UPDATE delays SET reason_code = 'E', attribution = 'social_care'"
               f" WHERE episode_id = '{e1['id']}'", role="owner")
        db.sql(f"UPDATE delays SET reason_code = 'A', attribution = 'NHS'"
               f" WHERE episode_id = '{e3['id']}'", role="owner")
        # readiness withdrawn on the 31st closes E3's delay
        set_clock(clock, "2026-03-31T12:00:00Z")
        time.sleep(1.3)
        r = d.patch(f"/api/v1/episodes/{e3['id']}", json={"ready_at": None}, headers=n.auth)
        assert r.status_code == 200, r.text + d.log_text()[-3000:]
        assert db.sql(f"SELECT closed_at IS NOT NULL FROM delays WHERE episode_id = '{e3['id']}'") == [["t"]]

        p1 = ("nhse-acute-2023,p1_awaiting_care,"
              "Pathway 1: awaiting resource for assessment and start of care at home")
        expected_csv = (
            "date,ward,reason_list,reason,reason_label,patients_delayed,longest_so_far\n"
            "2026-03-27,RA,,,No reason recorded,1,1\n"
            "2026-03-28,RA,,,No reason recorded,2,2\n"
            "2026-03-29,RA,,,No reason recorded,2,3\n"
            "2026-03-29,RB,,,No reason recorded,1,1\n"
            "2026-03-30,RA,,,No reason recorded,1,4\n"
            f"2026-03-30,RB,{p1},1,2\n"
            "total,,,,,8,4\n")
        r = d.get("/api/v1/reports/delays?from=2026-03-27&to=2026-03-30&format=csv", headers=people["bm"].auth)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("text/csv")
        assert r.text == expected_csv
        r = d.get("/api/v1/reports/delays?from=2026-03-27&to=2026-03-30", headers=people["bm"].auth)
        j = r.json()
        assert j["patients_delayed"] == 2 and j["delayed_days"] == 8
        assert [(x["date"], x["patients_delayed"]) for x in j["by_day"]] == [
            ("2026-03-27", 1), ("2026-03-28", 2), ("2026-03-29", 3), ("2026-03-30", 2)]
        assert [(x["ward"], x["reason"], x["patients_delayed"], x["longest_so_far"])
                for x in j["by_day"][3]["rows"]] == [("RA", "", 1, 4),
                                                     ("RB", "p1_awaiting_care", 1, 2)]
        by_reason = {(x["reason_list"], x["reason"]): (x["patients_delayed"], x["delayed_days"])
                     for x in j["by_reason"]}
        assert by_reason == {("", ""): (1, 7), ("nhse-acute-2023", "p1_awaiting_care"): (1, 1)}
        assert {x["reason_label"] for x in j["by_reason"]} == {
            "No reason recorded",
            "Pathway 1: awaiting resource for assessment and start of care at home"}
        assert all("attribution" not in x and "reason_code" not in x for x in j["by_reason"])
        assert "by_attribution" not in j
        assert {x["ward"]: (x["patients_delayed"], x["delayed_days"]) for x in j["by_ward"]} == {
            "RA": (1, 6), "RB": (1, 2)}
        assert [(x["episode_id"], x["delayed_days"], x["reason"]) for x in j["longest"]] == [
            (e1["id"], 4, ""), (e3["id"], 2, "p1_awaiting_care")]
        assert j["longest"][0]["ready_at"] == "2026-03-27T15:00:00Z"
        # one date: the snapshot of 29 March (BST): E1, E2, E3
        j = d.get("/api/v1/reports/delays?date=2026-03-29", headers=people["bm"].auth).json()
        assert j["patients_delayed"] == 3 and j["delayed_days"] == 3
        # the command line gives the same CSV
        from conftest import cli
        out = cli(db, "report", "delays", "--from", "2026-03-27", "--to", "2026-03-30").stdout
        assert out == expected_csv
        out = json.loads(cli(db, "report", "delays", "--date", "2026-03-29", "--format", "json").stdout)
        assert out["patients_delayed"] == 3
        # access and validation
        assert d.get("/api/v1/reports/delays?date=2026-03-29", headers=n.auth).status_code == 403
        assert d.get("/api/v1/reports/delays?date=2026-04-30", headers=people["bm"].auth).status_code == 400
        assert d.get("/api/v1/reports/delays?from=2026-03-30&to=2026-03-27",
                     headers=people["bm"].auth).status_code == 400
        assert d.get("/api/v1/reports/delays?date=2026-03-29&format=xml",
                     headers=people["bm"].auth).json()["error"]["field"] == "format"
    finally:
        stop_daemon_clean(d)


def test_nctr_patient_is_chased_for_a_barrier_not_for_a_delay_reason(cluster, clock):
    """Issue 14: a delay's reason is a barrier now, so an NCTR patient with neither is chased
    once, for the barrier (barrier_chase_after), and no longer also for the delay's missing
    2014 reason code (the old delay_reason_chase_after chase, which nothing could answer)."""
    from conftest import Database
    db = Database(cluster, f"cbtest_{os.getpid()}_chase_once")
    db.migrate()
    nurse = make_user(db, "nurse", wards=["RC"])
    bm = make_user(db, "bed_manager")
    # GMT dates: London midnight is 00:00Z
    set_clock(clock, "2026-03-10T09:30:00Z")
    d = start(db, clock)
    try:
        ep = admit(d, nurse, "RC", pathway=0, admitted_at="2026-03-09T20:00:00Z")
        r = d.post(f"/api/v1/episodes/{ep['id']}/reviews",
                   json={"outcome": "nctr", "decided_at": "2026-03-10T09:30:00Z"},
                   headers=nurse.auth)
        assert r.status_code == 201, r.text
        s = SSEClient(d.base, "/api/v1/stream?types=chase.*", headers=bm.auth)
        assert s.wait_connected()
        # the snapshot ending the 10th opens a delay (no reason) at 00:00Z; the old chaser
        # chased it 4 h later (04:00Z), on top of the barrier chase (due 13:30Z the day before)
        set_clock(clock, "2026-03-11T04:30:00Z")
        assert wait_until(lambda: db.sql(f"SELECT count(*) FROM delays "
                                         f"WHERE episode_id = '{ep['id']}'") == [["1"]])
        barrier = lambda: db.sql("SELECT kind, entity_id FROM chases"  # noqa: E731
                                 f" WHERE episode_id = '{ep['id']}' AND kind IN ('barrier', 'delay')")
        assert wait_until(lambda: len(barrier()) >= 1)
        time.sleep(2.5)  # several passes
        assert barrier() == [["barrier", ep["id"]]]
        assert s.wait_for(lambda ev: any(e[1] == "chase.barrier" for e in ev))
        assert not [e for e in s.events if e[1] == "chase.delay"]
        s.close()
    finally:
        stop_daemon_clean(d)


def test_delay_reason_chase_after_is_a_deprecated_alias(cluster, clock, tmp_path):
    """delay_reason_chase_after (replaced by barrier_chase_after) still loads, with a warning
    at start-up naming where it was set, and is read as barrier_chase_after unless that is
    set too."""
    from conftest import Database, cli
    db = Database(cluster, f"cbtest_{os.getpid()}_alias")
    db.migrate()
    conf = tmp_path / "carebridge.conf"
    conf.write_text("[chase]\ndelay_reason_chase_after = 1h\n")
    r = run(db, "check-config", "--config", str(conf))
    assert r.returncode == 0, r.stderr
    assert f'{conf}:2: setting "delay_reason_chase_after" is deprecated' in r.stderr, r.stderr
    assert '"barrier_chase_after"' in r.stderr
    both = tmp_path / "both.conf"
    both.write_text("[chase]\ndelay_reason_chase_after = 1h\nbarrier_chase_after = 2h\n")
    r = run(db, "check-config", "--config", str(both))
    assert r.returncode == 0 and "deprecated and ignored" in r.stderr, r.stderr
    # serve logs the warning, and chases an NCTR patient without a barrier after 1 h, not 4 h
    nurse = make_user(db, "nurse", wards=["RD"])
    set_clock(clock, "2026-03-12T10:00:00Z")
    d = start(db, clock, CAREBRIDGE_DELAY_REASON_CHASE_AFTER="1h")
    try:
        assert 'WARNING config: environment CAREBRIDGE_DELAY_REASON_CHASE_AFTER: setting ' \
               '"delay_reason_chase_after" is deprecated' in d.log_text(), d.log_text()[-2000:]
        ep = admit(d, nurse, "RD", pathway=0, admitted_at="2026-03-12T09:30:00Z")
        r = d.post(f"/api/v1/episodes/{ep['id']}/reviews",
                   json={"outcome": "nctr", "decided_at": "2026-03-12T10:00:00Z"},
                   headers=nurse.auth)
        assert r.status_code == 201, r.text
        set_clock(clock, "2026-03-12T11:01:00Z")
        assert wait_until(lambda: db.sql("SELECT count(*) FROM chases WHERE kind = 'barrier'"
                                         f" AND episode_id = '{ep['id']}'") == [["1"]])
    finally:
        stop_daemon_clean(d)


def run(db, *args):
    from conftest import run_bin
    return run_bin(*args, env={"CAREBRIDGE_DATABASE_URL": db.url})

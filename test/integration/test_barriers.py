"""Issue 14: barriers to discharge instead of one delay reason.  An episode has any number
of barriers, exactly one primary among the open ones; reason changes and primary spans are
kept as append-only history, so "the primary barrier's reason at instant T" is answered from
the history, never from current values.  Old delays become dtoc-2014 barriers (migration
0023).  Times run on a test clock; the expectations are written out by hand."""
import json
import os
import shutil
import time

import pytest

from conftest import (TOP, Daemon, Database, admit, make_user, run_bin, stop_daemon_clean,
                      start_daemon, set_clock)
from sse import SSEClient


@pytest.fixture(scope="module")
def db(cluster):
    d = Database(cluster, f"cbtest_{os.getpid()}_barriers")
    d.migrate()
    return d


@pytest.fixture(scope="module")
def clock(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("clock") / "now")
    set_clock(path, "2026-04-14T09:00:00Z")
    return path


@pytest.fixture(scope="module")
def people(db):
    return {
        "nurse": make_user(db, "nurse", wards=["BR1"]),
        "nurse_b": make_user(db, "nurse", wards=["BR2"]),
        "ot": make_user(db, "ot"),
        "sw": make_user(db, "social_worker"),
        "bm": make_user(db, "bed_manager"),
    }


def tick(clock, when):
    """Move the test clock; serve reads it on its 1 s tick and runs on from there."""
    set_clock(clock, when)
    time.sleep(1.5)


def start(db, clock):
    return Daemon(db.url, env={"CAREBRIDGE_TEST_CLOCK_FILE": clock}).start()


def field_error(r, status, field):
    assert r.status_code == status, r.text
    assert r.json()["error"].get("field") == field, r.text
    return r.json()["error"]["message"]


def reason_at(db, ep, when):
    rows = db.sql("SELECT reason_list || ':' || reason FROM"
                  f" cb_primary_reason_at('{ep['id']}', '{when}')")
    return rows[0][0] if rows else None


def test_barrier_lifecycle_keeps_history(db, clock, people):
    set_clock(clock, "2026-04-14T09:00:00Z")
    d = start(db, clock)
    try:
        nurse, sw, bm = people["nurse"], people["sw"], people["bm"]
        ep = admit(d, nurse, "BR1", admitted_at="2026-04-13T20:00:00Z")
        s = SSEClient(d.base, "/api/v1/stream?ward=BR1", headers=bm.auth)
        assert s.wait_connected()
        url = f"/api/v1/episodes/{ep['id']}/barriers"

        # the first barrier is primary, asked or not; recorded from admission
        r = d.post(url, json={"reason": "transport", "owner": "Ward 1", "note": "booked"},
                   headers=nurse.auth)
        assert r.status_code == 201, r.text
        a = r.json()
        assert a["primary"] is True and a["open"] is True
        assert a["reason_list"] == "nhse-acute-2023" and a["reason"] == "transport"
        assert a["reason_label"] == "Awaiting transport"
        assert a["owner"] == "Ward 1" and a["note"] == "booked"
        assert a["opened_at"][:16] == "2026-04-14T09:00" and a["closed_at"] is None
        assert a["opened_by"] == nurse.name
        assert r.headers["ETag"] == f'"{a["version"]}"'

        # a second one does not take primary
        tick(clock, "2026-04-14T10:00:00Z")
        r = d.post(url, json={"reason": "p1_awaiting_care", "owner": "Social work"},
                   headers=sw.auth)
        assert r.status_code == 201, r.text
        b = r.json()
        assert b["primary"] is False

        # make it primary: the old one stops being primary (and stays open)
        tick(clock, "2026-04-14T11:00:00Z")
        r = d.patch(f"/api/v1/barriers/{b['id']}", json={"primary": True},
                    headers={**sw.auth, "If-Match": f'"{b["version"]}"'})
        assert r.status_code == 200, r.text
        b = r.json()
        assert b["primary"] is True
        got = {i["id"]: i for i in d.get(url, headers=nurse.auth).json()["items"]}
        assert got[a["id"]]["primary"] is False and got[a["id"]]["open"] is True

        # a stale If-Match is 412, and nothing changes
        r = d.patch(f"/api/v1/barriers/{b['id']}", json={"note": "stale"},
                    headers={**bm.auth, "If-Match": '"1"'})
        assert r.status_code == 412, r.text

        # change its reason at 12:00: the earlier reason stays in the history
        tick(clock, "2026-04-14T12:00:00Z")
        r = d.patch(f"/api/v1/barriers/{b['id']}", json={"reason": "p3_awaiting_care_home"},
                    headers={**bm.auth, "If-Match": f'"{b["version"]}"'})
        assert r.status_code == 200, r.text
        b = r.json()
        assert b["reason"] == "p3_awaiting_care_home"
        assert [(h["reason"], h["from"][:16]) for h in b["reason_history"]] == [
            ("p1_awaiting_care", "2026-04-14T10:00"),
            ("p3_awaiting_care_home", "2026-04-14T12:00")]

        # close the primary at 13:00: the oldest open barrier (a) is primary again
        tick(clock, "2026-04-14T13:00:00Z")
        r = d.patch(f"/api/v1/barriers/{b['id']}", json={"closed": True}, headers=bm.auth)
        assert r.status_code == 200, r.text
        b = r.json()
        assert b["open"] is False and b["primary"] is False
        assert b["closed_at"][:16] == "2026-04-14T13:00"
        items = d.get(url, headers=nurse.auth).json()["items"]
        assert [i["id"] for i in items] == [a["id"], b["id"]]
        assert items[0]["primary"] is True
        spans = [[(s["from"] or "")[:16], (s["to"] or "")[:16]] for s in items[0]["primary_spans"]]
        assert spans == [["2026-04-14T09:00", "2026-04-14T11:00"], ["2026-04-14T13:00", ""]]
        spans = [[(s["from"] or "")[:16], (s["to"] or "")[:16]] for s in items[1]["primary_spans"]]
        assert spans == [["2026-04-14T11:00", "2026-04-14T13:00"]]

        # a closed barrier is final
        r = d.patch(f"/api/v1/barriers/{b['id']}", json={"note": "late"}, headers=bm.auth)
        assert r.status_code == 409, r.text
        r = d.patch(f"/api/v1/barriers/{b['id']}", json={"closed": False}, headers=bm.auth)
        field_error(r, 400, "closed")

        # the primary barrier's reason at any instant, from the history
        assert reason_at(db, ep, "2026-04-14T08:59:00Z") is None
        assert reason_at(db, ep, "2026-04-14T09:30:00Z") == "nhse-acute-2023:transport"
        assert reason_at(db, ep, "2026-04-14T11:30:00Z") == "nhse-acute-2023:p1_awaiting_care"
        assert reason_at(db, ep, "2026-04-14T12:30:00Z") == \
            "nhse-acute-2023:p3_awaiting_care_home"
        assert reason_at(db, ep, "2026-04-14T13:30:00Z") == "nhse-acute-2023:transport"

        # closing the last open barrier leaves no primary from then on
        tick(clock, "2026-04-14T14:00:00Z")
        r = d.patch(f"/api/v1/barriers/{a['id']}", json={"closed": True}, headers=nurse.auth)
        assert r.status_code == 200, r.text
        assert reason_at(db, ep, "2026-04-14T14:01:00Z") is None
        assert reason_at(db, ep, "2026-04-14T13:59:00Z") == "nhse-acute-2023:transport"

        # announced on the stream
        want = ["barrier.opened", "barrier.opened", "barrier.updated", "barrier.updated",
                "barrier.updated", "barrier.closed", "barrier.updated", "barrier.closed"]
        assert s.wait_for(lambda ev: [e[1] for e in ev if e[1].startswith("barrier.")] == want), \
            [e[1] for e in s.events]
        closed = [json.loads(e[2]) for e in s.events if e[1] == "barrier.closed"]
        assert closed[0]["id"] == b["id"] and closed[0]["ward"] == "BR1"
        s.close()

        # audited, with before and after images
        rows = db.sql("SELECT action, entity_id, before->>'reason', after->>'reason', actor"
                      f" FROM audit WHERE episode_id = '{ep['id']}' AND entity = 'barrier'"
                      " AND action <> 'barrier.list' ORDER BY id")
        assert [r[0] for r in rows] == [
            "barrier.open", "barrier.open", "barrier.update", "barrier.update",
            "barrier.update", "barrier.close", "barrier.update", "barrier.close"]
        change = rows[4]
        assert change[1] == b["id"] and change[2] == "p1_awaiting_care"
        assert change[3] == "p3_awaiting_care_home" and change[4] == bm.name
        assert db.sql("SELECT count(*) FROM audit WHERE action = 'barrier.list'"
                      f" AND episode_id = '{ep['id']}'") == [["2"]]

        # the history is append-only, for the application role too
        for table in ("barrier_reason_history", "barrier_primary_history"):
            with pytest.raises(Exception):
                db.sql(f"UPDATE {table} SET at = at", role="app")
            with pytest.raises(Exception):
                db.sql(f"DELETE FROM {table}", role="app")
    finally:
        stop_daemon_clean(d)


def test_barrier_refusals(db, clock, people):
    set_clock(clock, "2026-04-15T09:00:00Z")
    d = start(db, clock)
    try:
        nurse = people["nurse"]
        ep = admit(d, nurse, "BR1", admitted_at="2026-04-15T08:00:00Z")
        url = f"/api/v1/episodes/{ep['id']}/barriers"
        # an unknown reason names the field and the list in force
        msg = field_error(d.post(url, json={"reason": "E"}, headers=nurse.auth), 400, "reason")
        assert '"nhse-acute-2023"' in msg and '"E"' in msg
        field_error(d.post(url, json={}, headers=nurse.auth), 400, "reason")
        field_error(d.post(url, json={"reason": "transport", "attribution": "NHS"},
                           headers=nurse.auth), 400, "attribution")
        field_error(d.post(url, json={"reason": "transport", "owner": "x" * 101},
                           headers=nurse.auth), 400, "owner")
        field_error(d.post(url, json={"reason": "transport", "note": 5},
                           headers=nurse.auth), 400, "note")
        b = d.post(url, json={"reason": "transport"}, headers=nurse.auth).json()
        field_error(d.patch(f"/api/v1/barriers/{b['id']}", json={"primary": False},
                            headers=nurse.auth), 400, "primary")
        field_error(d.patch(f"/api/v1/barriers/{b['id']}", json={"reason": "nope"},
                            headers=nurse.auth), 400, "reason")
        r = d.patch(f"/api/v1/barriers/{b['id']}", json={}, headers=nurse.auth)
        assert r.status_code == 400, r.text
        # who: another ward's nurse, an OT
        assert d.post(url, json={"reason": "transport"},
                      headers=people["nurse_b"].auth).status_code == 403
        assert d.patch(f"/api/v1/barriers/{b['id']}", json={"note": "x"},
                       headers=people["nurse_b"].auth).status_code == 403
        assert d.post(url, json={"reason": "transport"},
                      headers=people["ot"].auth).status_code == 403
        # unknown ids
        r = d.patch("/api/v1/barriers/00000000-0000-4000-8000-000000000000", json={"note": "x"},
                    headers=people["bm"].auth)
        assert r.status_code == 404 and "barrier" in r.json()["error"]["message"]
        r = d.post("/api/v1/episodes/00000000-0000-4000-8000-000000000000/barriers",
                   json={"reason": "transport"}, headers=people["bm"].auth)
        assert r.status_code == 404
        # owner and note are cleared with null
        r = d.patch(f"/api/v1/barriers/{b['id']}", json={"owner": "OT", "note": "n"},
                    headers=nurse.auth)
        assert r.status_code == 200 and r.json()["owner"] == "OT"
        r = d.patch(f"/api/v1/barriers/{b['id']}", json={"owner": None}, headers=nurse.auth)
        assert r.status_code == 200 and r.json()["owner"] is None and r.json()["note"] == "n"
    finally:
        stop_daemon_clean(d)


def test_migration_0023_turns_old_delays_into_dtoc_barriers(fresh_database, tmp_path):
    db = fresh_database
    env = {"CAREBRIDGE_DATABASE_URL": db.url, "CAREBRIDGE_DATABASE_OWNER_URL": db.owner_url}
    before = tmp_path / "migrations"
    shutil.copytree(TOP / "migrations", before)
    for f in before.glob("*.sql"):  # the schema as it was before 0023
        if f.name >= "0023":
            f.unlink()
    r = run_bin("migrate", "--dir", str(before), env=env)
    assert r.returncode == 0, r.stderr
    # serve needs the whole schema, so the episodes of the old model are put in directly
    db.sql("INSERT INTO wards (code, name, beds) VALUES ('BM1', 'Ward BM1', 10)")
    old, cur, none = ({"id": f"{i}{i}{i}{i}0000-0000-4000-8000-000000000000"} for i in "abc")
    for i, ep in zip("abc", (old, cur, none)):
        pid = f"{i}{i}{i}{i}1111-0000-4000-8000-000000000000"
        db.sql("INSERT INTO patients (id, local_id, family_name, given_name, birth_date)"
               f" VALUES ('{pid}', 'MIG{i}', 'Test', 'Patient', '1940-01-01')")
        db.sql("INSERT INTO episodes (id, patient_id, state, ward, admitted_at)"
               f" VALUES ('{ep['id']}', '{pid}', 'admitted', 'BM1', '2026-01-01T10:00:00Z')")
    # a delay that ended (reason E) and one still open (Dii), as the old model left them
    db.sql("INSERT INTO delays (id, episode_id, ready_at, opened_at, closed_at, reason_code,"
           " attribution) VALUES ('11111111-1111-4111-8111-111111111111',"
           f" '{old['id']}', '2026-01-04T10:00:00Z', '2026-01-05T00:00:00Z',"
           " '2026-01-09T15:00:00Z', 'E', 'social_care'),"
           " ('22222222-2222-4222-8222-222222222222',"
           f" '{cur['id']}', '2026-02-01T10:00:00Z', '2026-02-02T00:00:00Z', NULL, 'Dii', 'both'),"
           " ('33333333-3333-4333-8333-333333333333',"
           f" '{none['id']}', '2026-02-01T10:00:00Z', '2026-02-02T00:00:00Z', NULL, NULL, NULL)")
    r = run_bin("migrate", env=env)
    assert r.returncode == 0 and "applied migration=0023_barriers.sql" in r.stderr, r.stderr

    rows = db.sql("SELECT episode_id, reason_list, reason, is_primary, closed_at IS NULL,"
                  " to_char(opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
                  " to_char(closed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), delay_id"
                  " FROM barriers ORDER BY opened_at")
    assert rows == [
        [old["id"], "dtoc-2014", "E", "f", "f", "2026-01-05 00:00", "2026-01-09 15:00",
         "11111111-1111-4111-8111-111111111111"],
        [cur["id"], "dtoc-2014", "Dii", "t", "t", "2026-02-02 00:00", "",
         "22222222-2222-4222-8222-222222222222"],
    ]
    # the old rows keep their attribution, untouched
    assert db.sql("SELECT reason_code, attribution FROM delays ORDER BY opened_at, id") == [
        ["E", "social_care"], ["Dii", "both"], ["", ""]]
    # the history answers for the old dates
    assert reason_at(db, old, "2026-01-07T00:00:00Z") == "dtoc-2014:E"
    assert reason_at(db, old, "2026-01-10T00:00:00Z") is None
    assert reason_at(db, cur, "2026-03-01T00:00:00Z") == "dtoc-2014:Dii"
    assert reason_at(db, none, "2026-03-01T00:00:00Z") is None

    # readable through the API; the old delay write API is gone (issue 14), the old row's
    # reason and attribution read-only
    bm = make_user(db, "bed_manager")
    d = start_daemon(db.url)
    try:
        items = d.get(f"/api/v1/episodes/{cur['id']}/barriers", headers=bm.auth).json()["items"]
        assert len(items) == 1
        assert items[0]["reason_label"] == "Awaiting nursing home placement or availability"
        assert items[0]["primary"] is True and items[0]["opened_by"] == "migration"
        r = d.put(f"/api/v1/episodes/{cur['id']}/delay",
                  json={"reason_code": "C", "attribution": "NHS"}, headers=bm.auth)
        assert r.status_code in (404, 405), r.text
        assert db.sql(f"SELECT reason_code, attribution FROM delays"
                      f" WHERE episode_id = '{cur['id']}'") == [["Dii", "both"]]
        # a new barrier takes the current list; editing the old one's reason moves it there,
        # and the dtoc-2014 reason stays in its history
        r = d.patch(f"/api/v1/barriers/{items[0]['id']}", json={"reason": "p3_awaiting_care_home"},
                    headers=bm.auth)
        assert r.status_code == 200, r.text
        assert [(h["reason_list"], h["reason"]) for h in r.json()["reason_history"]] == [
            ("dtoc-2014", "Dii"), ("nhse-acute-2023", "p3_awaiting_care_home")]
    finally:
        stop_daemon_clean(d)


def wait_until(pred, timeout=8.0, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def test_nctr_patient_without_a_barrier_is_chased(db, clock, people):
    """barrier_chase_after (4 h): NCTR and no open barrier since the DRD or the last close."""
    set_clock(clock, "2026-04-16T08:00:00Z")
    d = start(db, clock)
    try:
        nurse = people["nurse"]
        ep = admit(d, nurse, "BR1", pathway=0, admitted_at="2026-04-15T20:00:00Z")
        # (the board rounds missed are chased too, as kind 'review': not this test's matter)
        chases = lambda: db.sql("SELECT kind, level, target,"  # noqa: E731
                                " to_char(at AT TIME ZONE 'UTC', 'HH24:MI') FROM chases"
                                f" WHERE entity_id = '{ep['id']}' AND kind <> 'review'"
                                " ORDER BY id")
        s = SSEClient(d.base, "/api/v1/stream?ward=BR1", headers=people["bm"].auth)
        assert s.wait_connected()
        # NCTR at 08:00 (the board round), no barrier recorded
        r = d.post(f"/api/v1/episodes/{ep['id']}/reviews",
                   json={"outcome": "nctr", "decided_at": "2026-04-16T08:00:00Z"},
                   headers=nurse.auth)
        assert r.status_code == 201, r.text
        tick(clock, "2026-04-16T11:58:00Z")
        time.sleep(1)
        assert chases() == []
        set_clock(clock, "2026-04-16T12:01:00Z")
        assert wait_until(lambda: len(chases()) == 1)
        assert chases() == [["barrier", "1", "discipline", "12:01"]]
        assert s.wait_for(lambda ev: any(e[1] == "chase.barrier" for e in ev))
        ev = [json.loads(e[2]) for e in s.events if e[1] == "chase.barrier"][0]
        assert ev["episode_id"] == ep["id"] and ev["ward"] == "BR1" and ev["level"] == 1
        s.close()
        # a barrier recorded: no more chases, even past the repeat time
        b = d.post(f"/api/v1/episodes/{ep['id']}/barriers", json={"reason": "transport"},
                   headers=nurse.auth).json()
        tick(clock, "2026-04-16T16:05:00Z")
        time.sleep(1.5)
        assert len(chases()) == 1
        # closed at 16:05: chased again 4 h later, afresh at level 1
        r = d.patch(f"/api/v1/barriers/{b['id']}", json={"closed": True}, headers=nurse.auth)
        assert r.status_code == 200, r.text
        tick(clock, "2026-04-16T19:00:00Z")
        time.sleep(1)
        assert len(chases()) == 1
        set_clock(clock, "2026-04-16T20:07:00Z")
        assert wait_until(lambda: len(chases()) == 2)
        assert chases()[1][:3] == ["barrier", "1", "discipline"]
    finally:
        stop_daemon_clean(d)


def test_backdated_barrier_gives_late_entered_days_their_reason(fresh_database, clock):
    """Issue 14, "a readiness entered late leaves a 'no reason' day that can never get a
    reason".  On Tue 19 May 2026 12:00Z the ward enters, late, that the patient (admitted
    10 May) has been NCTR since Sun 17 May 10:00Z, and that transport was what he waited
    for from then: the barrier is opened with opened_at at the DRD.

    Delayed days: 17 May (snapshot 17T23:00Z, BST) and 18 May (18T23:00Z); the 19th's
    snapshot has not happened.  Both are "Awaiting transport", not "No reason recorded".
    The week 2026-W20 ends on Sunday 17 May: one NCTR patient at its snapshot, transport.
    A barrier entered without opened_at would have opened at 19 May 12:00Z and left both
    days without a reason for ever."""
    db = fresh_database
    db.migrate()  # a database of its own: the reports below see only this scenario
    nurse = make_user(db, "nurse", wards=["BL1"])
    bm = make_user(db, "bed_manager")
    set_clock(clock, "2026-05-19T12:00:00Z")
    d = start(db, clock)
    try:
        ep = admit(d, nurse, "BL1", pathway=0, admitted_at="2026-05-10T10:00:00Z")
        other = admit(d, nurse, "BL1", pathway=0, admitted_at="2026-05-18T10:00:00Z", bed="2")
        url = f"/api/v1/episodes/{ep['id']}/barriers"
        r = d.patch(f"/api/v1/episodes/{ep['id']}", json={"ready_at": "2026-05-17T10:00:00Z"},
                    headers=nurse.auth)
        assert r.status_code == 200, r.text
        # NCTR for two days with no barrier: chased at once (4 h after the DRD)
        chases = lambda: db.sql("SELECT count(*) FROM chases WHERE kind = 'barrier'"  # noqa: E731
                                f" AND entity_id = '{ep['id']}'")[0][0]
        assert wait_until(lambda: chases() != "0"), d.log_text()[-2000:]
        assert db.sql("SELECT barrier_chase_level > 0 FROM episodes"
                      f" WHERE id = '{ep['id']}'") == [["t"]]
        chased = chases()

        # refused, each naming opened_at, nothing written: in the future (more than the hour
        # a fast clock is allowed), before the admission
        msg = field_error(d.post(url, json={"reason": "transport",
                                            "opened_at": "2026-05-19T13:30:00Z"},
                                 headers=nurse.auth), 400, "opened_at")
        assert "future" in msg
        msg = field_error(d.post(url, json={"reason": "transport",
                                            "opened_at": "2026-05-10T09:59:59Z"},
                                 headers=nurse.auth), 400, "opened_at")
        assert "before the admission" in msg
        field_error(d.post(url, json={"reason": "transport", "opened_at": "Sunday"},
                           headers=nurse.auth), 400, "opened_at")
        assert db.sql(f"SELECT count(*) FROM barriers WHERE episode_id = '{ep['id']}'") == \
            [["0"]]

        # the barrier from the DRD: the barrier, its first reason row and its primary row
        # all at opened_at
        r = d.post(url, json={"reason": "transport", "owner": "Ward BL1",
                              "opened_at": "2026-05-17T11:00:00+01:00"}, headers=nurse.auth)
        assert r.status_code == 201, r.text
        b = r.json()
        assert b["opened_at"] == "2026-05-17T10:00:00Z" and b["primary"] is True
        assert [(h["reason"], h["from"]) for h in b["reason_history"]] == [
            ("transport", "2026-05-17T10:00:00Z")]
        assert b["primary_spans"] == [{"from": "2026-05-17T10:00:00Z", "to": None}]
        assert reason_at(db, ep, "2026-05-17T23:00:00Z") == "nhse-acute-2023:transport"
        assert reason_at(db, ep, "2026-05-17T09:59:59Z") is None
        # the chase is reset by it, and stays quiet
        assert db.sql("SELECT barrier_chase_level, barrier_next_chase_at IS NULL FROM episodes"
                      f" WHERE id = '{ep['id']}'") == [["0", "t"]]
        tick(clock, "2026-05-19T12:10:00Z")
        assert chases() == chased
        # the audit row is the entry (its own time now, the after image says 17 May); the
        # event carries the same barrier
        rows = db.sql("SELECT action, actor, after->>'opened_at', at > now() - interval '1 hour'"
                      f" FROM audit WHERE entity_id = '{b['id']}'")
        assert rows == [["barrier.open", nurse.name, "2026-05-17T10:00:00Z", "t"]]
        assert db.sql("SELECT payload->>'opened_at', payload->>'ward' FROM events"
                      f" WHERE type = 'barrier.opened' AND payload->>'id' = '{b['id']}'") == \
            [["2026-05-17T10:00:00Z", "BL1"]]

        # history stays in time order: nothing before the episode's latest history row,
        # whether a primary row (17 May 10:00) or the reason row of a non-primary barrier
        msg = field_error(d.post(url, json={"reason": "p1_awaiting_care",
                                            "opened_at": "2026-05-17T09:59:59Z"},
                                 headers=nurse.auth), 400, "opened_at")
        assert "latest change" in msg and "2026-05-17T10:00:00Z" in msg
        r = d.post(url, json={"reason": "p1_awaiting_care", "opened_at": "2026-05-18T09:00:00Z"},
                   headers=nurse.auth)
        assert r.status_code == 201, r.text
        assert r.json()["primary"] is False and r.json()["opened_at"] == "2026-05-18T09:00:00Z"
        msg = field_error(d.post(url, json={"reason": "medical_decision", "primary": True,
                                            "opened_at": "2026-05-18T08:59:00Z"},
                                 headers=nurse.auth), 400, "opened_at")
        assert "2026-05-18T09:00:00Z" in msg
        assert db.sql(f"SELECT count(*) FROM barriers WHERE episode_id = '{ep['id']}'") == \
            [["2"]]

        # without opened_at: opened now, as before
        r = d.post(f"/api/v1/episodes/{other['id']}/barriers", json={"reason": "transport"},
                   headers=nurse.auth)
        assert r.status_code == 201, r.text
        assert r.json()["opened_at"][:16] == "2026-05-19T12:10"
        assert r.json()["reason_history"][0]["from"] == r.json()["opened_at"]

        # the late-entered days now have their reason
        transport = "nhse-acute-2023,transport,Awaiting transport"
        expected_csv = ("date,ward,reason_list,reason,reason_label,patients_delayed,"
                        "longest_so_far\n"
                        f"2026-05-17,BL1,{transport},1,1\n"
                        f"2026-05-18,BL1,{transport},1,2\n"
                        "total,,,,,2,2\n")
        r = d.get("/api/v1/reports/delays?from=2026-05-17&to=2026-05-18&format=csv",
                  headers=bm.auth)
        assert r.status_code == 200, r.text
        assert r.text == expected_csv
        j = d.get("/api/v1/reports/delays?from=2026-05-17&to=2026-05-18", headers=bm.auth).json()
        assert [(x["reason"], x["patients_delayed"], x["delayed_days"])
                for x in j["by_reason"]] == [("transport", 1, 2)]
        from conftest import cli
        assert cli(db, "report", "delays", "--from", "2026-05-17",
                   "--to", "2026-05-18").stdout == expected_csv
        w = d.get("/api/v1/reports/sitrep", params={"week": "2026-W20"}, headers=bm.auth)
        assert w.status_code == 200, w.text
        assert [(x["reason"], x["patients"]) for x in w.json()["by_reason"]] == [("transport", 1)]
    finally:
        stop_daemon_clean(d)

"""Issue 14: the daily acute discharge sitrep, through HTTP and the CLI, on a test clock.

GET /api/v1/reports/sitrep (?date, ?from&to, ?week; JSON and CSV), POST
/api/v1/reports/sitrep/{date}/submit (bed manager), submissions kept as submitted with
a later correction shown as amendments, and `carebridge report sitrep` giving the same
figures.  Every figure below is derived by hand from docs/REPORTS.md's rules; all dates
are GMT dates in November 2026 (UTC = London time), so snapshot(D) = D+1 00:00Z.
"""
import csv
import io
import json
import os
import time

import pytest

from conftest import (Daemon, Database, admit, cli, ensure_ward, make_user, nhs_number,
                      set_clock, stop_daemon_clean)
from hl7_util import Mllp, adt, msa
from sse import SSEClient

WARD, WARD2 = "SR1", "SR2"


@pytest.fixture(scope="module")
def db(cluster):
    d = Database(cluster, f"cbtest_{os.getpid()}_sitrep")
    d.migrate()
    return d


@pytest.fixture(scope="module")
def clock(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("clock") / "now")
    set_clock(path, "2026-11-09T11:30:00Z")
    return path


@pytest.fixture(scope="module")
def people(db):
    ensure_ward(db, WARD2)
    return {
        "nurse": make_user(db, "nurse", wards=[WARD]),
        "ot": make_user(db, "ot"),
        "bm": make_user(db, "bed_manager"),
        "admin": make_user(db, "admin"),
    }


def tick(clock, when):
    """Move the test clock; serve reads it on its 1 s tick and runs on from there."""
    set_clock(clock, when)
    time.sleep(1.5)


def start(db, clock):
    d = Daemon(db.url, env={"CAREBRIDGE_TEST_CLOCK_FILE": clock})
    d.extra_env["CAREBRIDGE_MLLP_PORT_FILE"] = os.path.join(d.tmp.name, "mllp_port")
    d.start()
    with open(d.extra_env["CAREBRIDGE_MLLP_PORT_FILE"]) as f:
        d.mllp_port = int(f.read().strip())
    return d


def field_error(r, status, field):
    assert r.status_code == status, r.text
    assert r.json()["error"]["field"] == field, r.text
    return r.json()["error"]["message"]


def review(d, user, ep, outcome, decided_at, **body):
    r = d.post(f"/api/v1/episodes/{ep['id']}/reviews",
               json={"outcome": outcome, "decided_at": decided_at, **body}, headers=user.auth)
    assert r.status_code == 201, r.text
    return r.json()


def discharge(d, user, ep, pathway, at):
    r = d.post(f"/api/v1/episodes/{ep['id']}/discharge",
               json={"pathway": pathway, "discharged_at": at}, headers=user.auth)
    assert r.status_code == 200, r.text


def barrier(d, user, ep, reason):
    r = d.post(f"/api/v1/episodes/{ep['id']}/barriers", json={"reason": reason},
               headers=user.auth)
    assert r.status_code == 201, r.text


def sitrep(d, user, **params):
    r = d.get("/api/v1/reports/sitrep", params=params, headers=user.auth)
    assert r.status_code == 200, r.text
    return r


def figures(nctr, during, p0, p1, p2, p3, nr, still):
    return {"nctr_at_snapshot": nctr, "nctr_during_day": during,
            "discharged": {"pathway_0": p0, "pathway_1": p1, "pathway_2": p2, "pathway_3": p3,
                           "not_recorded": nr, "total": p0 + p1 + p2 + p3 + nr},
            "still_in_hospital": still}


def only_figures(day):
    return {k: day[k] for k in ("nctr_at_snapshot", "nctr_during_day", "discharged",
                                "still_in_hospital")}


ZERO = figures(0, 0, 0, 0, 0, 0, 0, 0)
# Patients (ready = the NCTR review's decided time):
#   A admitted 2 Nov, ready 9 Nov 11:00, home 10 Nov 14:00 on pathway 1
#   B admitted 5 Nov, ready 10 Nov 09:30, home 10 Nov 16:00 on pathway 0 (NCTR and home
#     within the day)
#   C admitted 20 Oct, ready 9 Nov 10:00, still in; barrier p3_awaiting_care_home
#   D admitted by HL7 A01 9 Nov 08:00, ready 10 Nov 10:00, discharged by HL7 A03 at
#     10 Nov 18:00 with no pathway: "not recorded"
#   E admitted 8 Nov, ready 10 Nov 11:00, moved SR1 -> SR2 10 Nov 15:00, still in;
#     barrier transport
#   F admitted 9 Nov, meets criteria: never counted
#   G admitted 1 Nov, ready 10 Nov 08:30 entered late (at 22:00), still in; no barrier
#   H admitted 4 Nov, ready 9 Nov 15:00; on 11 Nov 10:00, after the sitrep of 10 Nov was
#     submitted, a discharge at 10 Nov 21:00 on pathway 3 is entered late
#
# 9 Nov, snapshot 10 Nov 00:00: NCTR A C H = 3; during the day the same 3; none home; 3 in.
NOV9 = figures(3, 3, 0, 0, 0, 0, 0, 3)
# 10 Nov, snapshot 11 Nov 00:00, as first submitted: NCTR C E G H = 4; NCTR during the
# day A B C D E G H = 7, of them home A (P1) B (P0) D (not recorded) = 3, still in 4.
NOV10_SUBMITTED = figures(4, 7, 1, 1, 0, 0, 1, 4)
# after H's late discharge: NCTR C E G = 3; during 7; home + H (P3) = 4; still in 3.
NOV10 = figures(3, 7, 1, 1, 0, 1, 1, 3)
# 11 Nov, snapshot 12 Nov 00:00: C E G NCTR all day = 3, 3, none home, 3.
NOV11 = figures(3, 3, 0, 0, 0, 0, 0, 3)


def test_daily_sitrep_submission_amendment_week_and_cli(db, clock, people):
    nurse, ot, bm, admin = people["nurse"], people["ot"], people["bm"], people["admin"]
    set_clock(clock, "2026-11-09T11:30:00Z")
    d = start(db, clock)
    streams = []
    try:
        # ---- 9 Nov ----
        r = d.put("/api/v1/hl7/ward-map/SR-PAS", json={"ward": WARD}, headers=admin.auth)
        assert r.status_code == 200, r.text
        a = admit(d, nurse, WARD, pathway=0, admitted_at="2026-11-02T10:00:00Z")
        b = admit(d, nurse, WARD, pathway=0, admitted_at="2026-11-05T09:00:00Z")
        c = admit(d, nurse, WARD, pathway=0, admitted_at="2026-10-20T08:00:00Z")
        e = admit(d, nurse, WARD, pathway=0, admitted_at="2026-11-08T12:00:00Z")
        f = admit(d, nurse, WARD, pathway=0, admitted_at="2026-11-09T09:00:00Z")
        g = admit(d, nurse, WARD, pathway=0, admitted_at="2026-11-01T09:00:00Z")
        h = admit(d, nurse, WARD, pathway=0, admitted_at="2026-11-04T09:00:00Z")
        mllp = Mllp(d.mllp_port)
        visit = f"SR{nhs_number()[:8]}"
        assert msa(mllp.call(adt("A01", visit, nhs_number(), ward="SR-PAS", bed="9",
                                 admit="20261109080000+0000")))[0] == "AA"
        dep = {"id": db.sql(f"SELECT id FROM episodes WHERE external_id = '{visit}'")[0][0]}
        review(d, nurse, a, "nctr", "2026-11-09T11:00:00Z")
        review(d, ot, c, "nctr", "2026-11-09T10:00:00Z")
        barrier(d, bm, c, "p3_awaiting_care_home")
        review(d, nurse, f, "meets_criteria", "2026-11-09T11:15:00Z", criteria_met=["iv_fluids"])
        tick(clock, "2026-11-09T15:30:00Z")
        review(d, nurse, h, "nctr", "2026-11-09T15:00:00Z")

        # ---- 10 Nov ----
        tick(clock, "2026-11-10T11:30:00Z")
        review(d, nurse, b, "nctr", "2026-11-10T09:30:00Z")
        review(d, nurse, dep, "nctr", "2026-11-10T10:00:00Z")
        review(d, nurse, e, "nctr", "2026-11-10T11:00:00Z")
        barrier(d, nurse, e, "transport")
        tick(clock, "2026-11-10T14:30:00Z")
        discharge(d, nurse, a, 1, "2026-11-10T14:00:00Z")
        tick(clock, "2026-11-10T15:00:00Z")
        r = d.post(f"/api/v1/episodes/{e['id']}/transfer", json={"ward": WARD2},
                   headers=nurse.auth)
        assert r.status_code == 200, r.text
        tick(clock, "2026-11-10T16:30:00Z")
        discharge(d, nurse, b, 0, "2026-11-10T16:00:00Z")
        tick(clock, "2026-11-10T18:30:00Z")
        assert msa(mllp.call(adt("A03", visit, ward="SR-PAS", bed="9",
                                 discharge="20261110180000+0000")))[0] == "AA"
        mllp.close()
        # the readiness agreed at the morning board round, entered in the evening
        tick(clock, "2026-11-10T22:00:00Z")
        review(d, nurse, g, "nctr", "2026-11-10T08:30:00Z")
        # 10 Nov's snapshot has not happened: neither shown nor submitted
        field_error(d.get("/api/v1/reports/sitrep", params={"date": "2026-11-10"},
                          headers=bm.auth), 400, "date")
        field_error(d.post("/api/v1/reports/sitrep/2026-11-10/submit", json={},
                           headers=bm.auth), 400, "date")

        # ---- 11 Nov 09:00: yesterday's sitrep, submitted ----
        tick(clock, "2026-11-11T09:00:00Z")
        day = sitrep(d, bm).json()  # default: yesterday
        assert day["date"] == "2026-11-10" and day["snapshot"] == "2026-11-11T00:00:00Z"
        assert only_figures(day) == NOV10_SUBMITTED
        assert day["submission"] is None
        assert only_figures(sitrep(d, admin, date="2026-11-09").json()) == NOV9

        s_bm = SSEClient(d.base, "/api/v1/stream", headers=bm.auth)
        s_admin = SSEClient(d.base, "/api/v1/stream", headers=admin.auth)
        s_nurse = SSEClient(d.base, "/api/v1/stream", headers=nurse.auth)
        streams += [s_bm, s_admin, s_nurse]
        assert all(s.wait_connected() for s in streams)

        # only a bed manager submits
        for who in (nurse, ot, admin):
            r = d.post("/api/v1/reports/sitrep/2026-11-10/submit", json={}, headers=who.auth)
            assert r.status_code == 403, (who.role, r.text)
        field_error(d.post("/api/v1/reports/sitrep/2026-02-30/submit", json={},
                           headers=bm.auth), 400, "date")
        field_error(d.post("/api/v1/reports/sitrep/yesterday/submit", json={},
                           headers=bm.auth), 400, "date")
        field_error(d.post("/api/v1/reports/sitrep/2026-11-10/submit", json={"note": 1},
                           headers=bm.auth), 400, "note")
        field_error(d.post("/api/v1/reports/sitrep/2026-11-10/submit", json={"nctr": 1},
                           headers=bm.auth), 400, "nctr")
        assert db.sql("SELECT count(*) FROM sitrep_submissions") == [["0"]]

        r = d.post("/api/v1/reports/sitrep/2026-11-10/submit",
                   json={"note": "sent to the portal"}, headers=bm.auth)
        assert r.status_code == 201, r.text
        sub1 = r.json()
        assert only_figures(sub1) == NOV10_SUBMITTED
        s = sub1["submission"]
        assert s["version"] == 1 and s["submitted_by"] == bm.name
        assert s["submitted_at"].startswith("2026-11-11T09:0")
        assert s["figures"] == NOV10_SUBMITTED and s["amendments"] == []
        assert s["note"] == "sent to the portal"

        # announced to the bed manager's and the admin's streams (no ward), not the nurse's
        for st in (s_bm, s_admin):
            assert st.wait_for(lambda ev: any(x[1] == "sitrep.submitted" for x in ev)), \
                st.events
            got = [json.loads(x[2]) for x in st.events if x[1] == "sitrep.submitted"]
            assert got == [sub1]
        # the nurse's stream is live (her ward's events reach it) but had no sitrep event
        r = d.patch(f"/api/v1/episodes/{f['id']}", json={"bed": "12"}, headers=nurse.auth)
        assert r.status_code == 200, r.text
        assert s_nurse.wait_for(lambda ev: any(x[1] == "episode.updated" for x in ev))
        assert not [x for x in s_nurse.events if x[1] == "sitrep.submitted"]
        # the outbox row webhooks deliver, and the audit row
        assert db.sql("SELECT ward IS NULL, episode_id IS NULL, payload->'submission'->>'version'"
                      " FROM events WHERE type = 'sitrep.submitted'") == [["t", "t", "1"]]
        assert db.sql("SELECT actor, entity, after->>'version', after->'figures'->>"
                      "'nctr_at_snapshot' FROM audit WHERE action = 'sitrep.submit'") == \
            [[bm.name, "sitrep_submission", "1", "4"]]

        # the same figures again: the submission stands, nothing new is recorded
        r = d.post("/api/v1/reports/sitrep/2026-11-10/submit", json={}, headers=bm.auth)
        assert r.status_code == 200, r.text
        assert r.json()["submission"]["version"] == 1
        assert db.sql("SELECT count(*) FROM sitrep_submissions") == [["1"]]

        # ---- a late correction: H went home at 21:00 on the 10th ----
        tick(clock, "2026-11-11T10:00:00Z")
        discharge(d, nurse, h, 3, "2026-11-10T21:00:00Z")
        day = sitrep(d, bm, date="2026-11-10").json()
        assert only_figures(day) == NOV10
        # never a silent change: the submission as submitted, the differences beside it
        assert day["submission"]["figures"] == NOV10_SUBMITTED
        assert day["submission"]["version"] == 1
        assert day["submission"]["amendments"] == [
            {"field": "nctr_at_snapshot", "submitted": 4, "now": 3},
            {"field": "discharged.pathway_3", "submitted": 0, "now": 1},
            {"field": "discharged.total", "submitted": 3, "now": 4},
            {"field": "still_in_hospital", "submitted": 4, "now": 3},
        ]
        # resubmitted: a new version, the first kept
        r = d.post("/api/v1/reports/sitrep/2026-11-10/submit", json={}, headers=bm.auth)
        assert r.status_code == 201, r.text
        assert r.json()["submission"]["version"] == 2
        assert r.json()["submission"]["figures"] == NOV10
        assert r.json()["submission"]["amendments"] == []
        day = sitrep(d, bm, date="2026-11-10").json()
        assert day["submission"]["version"] == 2 and day["submission"]["amendments"] == []
        assert db.sql("SELECT version, figures->>'nctr_at_snapshot' FROM sitrep_submissions"
                      " ORDER BY version") == [["1", "4"], ["2", "3"]]
        assert s_bm.wait_for(lambda ev: len([x for x in ev if x[1] == "sitrep.submitted"]) == 2)
        # append-only, even for the database owner
        with pytest.raises(Exception):
            db.sql("UPDATE sitrep_submissions SET figures = '{}' WHERE version = 1",
                   role="owner")
        with pytest.raises(Exception):
            db.sql("DELETE FROM sitrep_submissions", role="app")

        # ---- 16 Nov: a range and the week ----
        tick(clock, "2026-11-16T10:00:00Z")
        rng = sitrep(d, bm, **{"from": "2026-11-08", "to": "2026-11-11"}).json()
        assert rng["from"] == "2026-11-08" and rng["to"] == "2026-11-11"
        assert [x["date"] for x in rng["days"]] == ["2026-11-08", "2026-11-09", "2026-11-10",
                                                     "2026-11-11"]
        assert [only_figures(x) for x in rng["days"]] == [ZERO, NOV9, NOV10, NOV11]
        assert [x["submission"] and x["submission"]["version"] for x in rng["days"]] == \
            [None, None, 2, None]
        assert rng["totals"] == figures(0 + 3 + 3 + 3, 0 + 3 + 7 + 3, 1, 1, 0, 1, 1,
                                        0 + 3 + 3 + 3)

        r = sitrep(d, bm, **{"from": "2026-11-08", "to": "2026-11-11", "format": "csv"})
        assert r.headers["Content-Type"].startswith("text/csv")
        api_csv = r.text
        rows = list(csv.reader(io.StringIO(api_csv)))
        assert rows[0] == ["date", "nctr_at_snapshot", "nctr_during_day", "discharged_pathway_0",
                           "discharged_pathway_1", "discharged_pathway_2",
                           "discharged_pathway_3", "discharged_not_recorded",
                           "discharged_total", "still_in_hospital", "submitted_version",
                           "amendments"]
        assert rows[1:] == [
            ["2026-11-08", "0", "0", "0", "0", "0", "0", "0", "0", "0", "", ""],
            ["2026-11-09", "3", "3", "0", "0", "0", "0", "0", "0", "3", "", ""],
            ["2026-11-10", "3", "7", "1", "1", "0", "1", "1", "4", "3", "2", "0"],
            ["2026-11-11", "3", "3", "0", "0", "0", "0", "0", "0", "3", "", ""],
            ["total", "9", "13", "1", "1", "0", "1", "1", "4", "9", "", ""],
        ]

        # Week 2026-W46 = Mon 9 .. Sun 15 Nov, snapshot 16 Nov 00:00; NCTR in hospital then:
        #   C LoS 16 Nov - 20 Oct = 27 (7+, 14+, 21+), p3_awaiting_care_home
        #   E LoS 16 - 8 = 8 (7+), transport (the transfer changes nothing here)
        #   G LoS 16 - 1 = 15 (7+, 14+), no barrier
        week = sitrep(d, bm, week="2026-W46").json()
        assert (week["week"], week["first_day"], week["last_day"], week["snapshot"]) == \
            ("2026-W46", "2026-11-09", "2026-11-15", "2026-11-16T00:00:00Z")
        assert week["total"] == {"patients": 3, "los_7_plus": 3, "los_14_plus": 2,
                                 "los_21_plus": 1}
        assert [(x["reason_list"], x["reason"], x["patients"], x["los_7_plus"],
                 x["los_14_plus"], x["los_21_plus"]) for x in week["by_reason"]] == [
            ("", "", 1, 1, 1, 0),
            ("nhse-acute-2023", "p3_awaiting_care_home", 1, 1, 1, 1),
            ("nhse-acute-2023", "transport", 1, 1, 0, 0),
        ]
        assert week["by_reason"][2]["reason_label"] == "Awaiting transport"
        week_csv = sitrep(d, bm, week="2026-W46", format="csv").text
        rows = list(csv.reader(io.StringIO(week_csv)))
        assert rows[0] == ["week", "reason_list", "reason", "reason_label", "patients",
                           "los_7_plus", "los_14_plus", "los_21_plus"]
        assert [r[:3] + r[4:] for r in rows[1:]] == [
            ["2026-W46", "", "", "1", "1", "1", "0"],
            ["2026-W46", "nhse-acute-2023", "p3_awaiting_care_home", "1", "1", "1", "1"],
            ["2026-W46", "nhse-acute-2023", "transport", "1", "1", "0", "0"],
            ["total", "", "", "3", "3", "2", "1"],
        ]

        # ---- refusals name the field ----
        for params, field in (({"date": "2026-11-31"}, "date"),
                              ({"date": "2026-11-16"}, "date"),  # tonight's midnight
                              ({"week": "2026-W47"}, "week"),    # ends Sunday 22 Nov
                              ({"week": "2026-W54"}, "week"),
                              ({"week": "2026-46"}, "week"),
                              ({"week": "2026-W46", "date": "2026-11-10"}, "week"),
                              ({"format": "xlsx"}, "format"),
                              ({"from": "2026-11-10"}, "to"),
                              ({"from": "2026-11-10", "to": "2026-11-09"}, "to"),
                              ({"from": "2026-09-01", "to": "2026-11-10"}, "from"),
                              ({"date": "2026-11-10", "from": "2026-11-10",
                                "to": "2026-11-10"}, "date")):
            field_error(d.get("/api/v1/reports/sitrep", params=params, headers=bm.auth), 400,
                        field)
        assert d.get("/api/v1/reports/sitrep", headers=nurse.auth).status_code == 403

        # ---- the CLI gives the API's figures ----
        api_day = sitrep(d, bm, date="2026-11-10").json()
        out = cli(db, "report", "sitrep", "--date", "2026-11-10", "--format", "json").stdout
        assert json.loads(out) == api_day
        out = cli(db, "report", "sitrep", "--from", "2026-11-08", "--to", "2026-11-11").stdout
        assert out == api_csv
        out = cli(db, "report", "sitrep", "--week", "2026-W46", "--format", "json").stdout
        assert json.loads(out) == week
        out = cli(db, "report", "sitrep", "--week", "2026-W46", "--format", "csv").stdout
        assert out == week_csv
        r = cli(db, "report", "sitrep", "--week", "2026-W99", check=False)
        assert r.returncode == 2 and "week" in r.stderr
        r = cli(db, "report", "sitrep", "--date", "2026-11-10", "--format", "xml", check=False)
        assert r.returncode == 2 and "format" in r.stderr
    finally:
        for s in streams:
            s.close()
        stop_daemon_clean(d)


def test_submission_reaches_a_webhook(db, clock, people):
    """sitrep.submitted has no ward: a webhook asking for it gets it, signed, with the day
    object and its submission as data (webhooks read as the system)."""
    from test_webhooks import SECRET, Receiver
    from webhook_sig import assert_signed

    admin, bm = people["admin"], people["bm"]
    set_clock(clock, "2026-11-18T09:00:00Z")
    rec = Receiver()
    rec.start()
    d = start(db, clock)
    try:
        r = d.post("/api/v1/webhooks", json={"url": rec.url, "secret": SECRET,
                                             "types": ["sitrep.*"]}, headers=admin.auth)
        assert r.status_code == 201, r.text
        r = d.post("/api/v1/reports/sitrep/2026-11-17/submit", json={}, headers=bm.auth)
        assert r.status_code == 201, r.text
        reply = r.json()
        assert reply["date"] == "2026-11-17" and reply["submission"]["version"] == 1
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline and not rec.received:
            time.sleep(0.1)
        assert len(rec.received) == 1, rec.received
        headers, body, _ = rec.received[0]
        assert_signed(SECRET, headers, body)
        doc = json.loads(body)
        assert doc["type"] == "sitrep.submitted" and doc["data"] == reply
    finally:
        stop_daemon_clean(d)
        rec.stop()

"""Issue 14: the discharge ready date (DRD) metric, the long-stay list and the delays report
computed from the recorded history, through HTTP and the CLI, on a test clock; and the old
model's delays, migrated, still giving the old report's delayed days per date.

Every expected figure is derived by hand in the docstrings from docs/REPORTS.md's rules:
snapshot(D) is the London midnight ending D (GMT throughout November 2026, so 00:00Z of
D+1); a date owns (snapshot(D-1), snapshot(D)]; delayed on D = NCTR and in hospital at
snapshot(D); DRD delay = snapshots S with ready_at <= S < discharged_at.
"""
import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import (BIN, TOP, Daemon, Database, admit, make_user, run_bin, set_clock,
                      stop_daemon_clean)


def tick(clock, when):
    """Move the test clock; serve reads it on its 1 s tick and runs on from there."""
    set_clock(clock, when)
    time.sleep(1.5)


@pytest.fixture
def clock(tmp_path):
    path = str(tmp_path / "now")
    set_clock(path, "2026-11-01T08:00:00Z")
    return path


def own_db(cluster, name):
    d = Database(cluster, f"cbtest_{os.getpid()}_{name}")
    d.migrate()
    return d


def report_cli(db, clock, *args, check=True):
    """`carebridge report ...` against db, on the same test clock as the daemon."""
    env = dict(os.environ, CAREBRIDGE_DATABASE_URL=db.url)
    if clock is not None:
        env["CAREBRIDGE_TEST_CLOCK_FILE"] = clock
    r = subprocess.run([BIN, "report", *args], env=env, capture_output=True, text=True,
                       timeout=60)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def field_error(r, field):
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == field, r.text


def ok(r, code=200):
    assert r.status_code == code, r.text
    return r.json()


P1_LABEL = "Pathway 1: awaiting resource for assessment and start of care at home"
EQ_LABEL = "Awaiting community equipment and adaptations to housing"


def test_drd_month_and_delays_from_history(cluster, clock):
    """November 2026 on wards DA and DB; everyone admitted 1 Nov 07:00Z on DA.

    P1 ready 20 Nov 10:00, discharged 1 Dec 00:00:00 exactly: a November discharge (the
       midnight ending 30 Nov). DRD delay = snapshots 20..29 Nov = 10 -> 7-13. Bed days
       20..29 Nov = 10 (gone at snapshot(30 Nov) = 1 Dec 00:00).
    P2 ready 28 Nov 10:00, discharged 1 Dec 00:00:01: a December discharge, delay 3
       (28, 29, 30 Nov) -> 2-3 in December; 3 bed days in November.
    P3 NCTR 2 Nov 10:00 (review), meets criteria again 3 Nov 14:00, NCTR again 4 Nov 09:00,
       home 6 Nov 11:00: DRD in force 4 Nov -> delay 2 -> 2-3 (not 4); bed days 2, 4, 5 Nov
       = 3 (the reversed period's day counts).
    P4 entered late on 25 Nov: ready 10 Nov 10:00, discharged 12 Nov 09:00 -> delay 2,
       bed days 10, 11 Nov.
    P5 ready 14 Nov 10:00 on DA, barrier p1_awaiting_care from 14 Nov 12:00, its reason
       changed to equipment_adaptations 15 Nov 13:00, moved to DB 16 Nov 15:00, home
       18 Nov 10:00 -> delay 4 -> 4-6, a DB discharge; bed days 14, 15 on DA (14th under
       p1_awaiting_care, 15th under equipment_adaptations), 16, 17 on DB.
    P6 no DRD, home 8 Nov -> "no DRD".
    P7 ready 9 Nov 09:00, home 9 Nov 17:00 -> delay 0 (on the DRD).

    November, trust: 6 discharges (P1 P3 P4 P5 P6 P7), 1 no DRD; bands 0:1, 2-3:2 (P3 P4),
    4-6:1 (P5), 7-13:1 (P1); delays 10+2+2+4+0 = 18 over 5 -> 3.6; on DRD 1/5 = 0.2;
    bed days 10+3+3+2+4 = 22.  DA: 5 discharges (P1 P3 P4 P6 P7), 0:1, 2-3:2, 7-13:1,
    14/4 = 3.5, 1/4 = 0.25, bed days 10+3+3+2+2 = 20.  DB: P5, 4-6:1, 4.0, 0, 2 bed days.
    December (to 2 Dec 12:00): P2 only, 2-3:1, average 3, on DRD 0, no bed day.
    """
    db = own_db(cluster, "drd")
    nurse = make_user(db, "nurse", wards=["DA", "DB"])
    bm = make_user(db, "bed_manager")
    d = Daemon(db.url, env={"CAREBRIDGE_TEST_CLOCK_FILE": clock}).start()
    try:
        eps = {}
        for name in ("P1", "P2", "P3", "P4", "P5", "P6", "P7"):
            eps[name] = admit(d, nurse, "DA", pathway=0, admitted_at="2026-11-01T07:00:00Z", bed=name)

        def patch(name, body):
            ok(d.patch(f"/api/v1/episodes/{eps[name]['id']}", json=body, headers=nurse.auth))

        def discharge(name, when=None, pathway=1):
            body = {"pathway": pathway, "destination": "usual_residence"}
            if when:
                body["discharged_at"] = when
            ok(d.post(f"/api/v1/episodes/{eps[name]['id']}/discharge", json=body,
                      headers=nurse.auth))

        def review(name, **body):
            ok(d.post(f"/api/v1/episodes/{eps[name]['id']}/reviews", json=body,
                      headers=nurse.auth), 201)

        tick(clock, "2026-11-02T10:30:00Z")
        review("P3", outcome="nctr", decided_at="2026-11-02T10:00:00Z")
        tick(clock, "2026-11-03T14:00:00Z")
        review("P3", outcome="meets_criteria", criteria_met=["iv_fluids"])
        tick(clock, "2026-11-04T09:00:00Z")
        review("P3", outcome="nctr")
        tick(clock, "2026-11-06T11:00:00Z")
        discharge("P3")
        tick(clock, "2026-11-08T12:00:00Z")
        discharge("P6", pathway=0)
        tick(clock, "2026-11-09T17:00:00Z")
        patch("P7", {"ready_at": "2026-11-09T09:00:00Z"})
        discharge("P7")
        tick(clock, "2026-11-14T12:00:00Z")
        patch("P5", {"ready_at": "2026-11-14T10:00:00Z"})
        barrier = ok(d.post(f"/api/v1/episodes/{eps['P5']['id']}/barriers",
                            json={"reason": "p1_awaiting_care"}, headers=nurse.auth), 201)
        tick(clock, "2026-11-15T13:00:00Z")
        ok(d.patch(f"/api/v1/barriers/{barrier['id']}", json={"reason": "equipment_adaptations"},
                   headers=nurse.auth))
        tick(clock, "2026-11-16T15:00:00Z")
        ok(d.post(f"/api/v1/episodes/{eps['P5']['id']}/transfer", json={"ward": "DB", "bed": "5"},
                  headers=nurse.auth))
        tick(clock, "2026-11-18T10:00:00Z")
        discharge("P5")
        tick(clock, "2026-11-20T10:30:00Z")
        patch("P1", {"ready_at": "2026-11-20T10:00:00Z"})
        tick(clock, "2026-11-25T09:00:00Z")
        patch("P4", {"ready_at": "2026-11-10T10:00:00Z"})  # late entries
        discharge("P4", "2026-11-12T09:00:00Z")
        tick(clock, "2026-11-28T10:30:00Z")
        patch("P2", {"ready_at": "2026-11-28T10:00:00Z"})
        tick(clock, "2026-12-01T00:00:30Z")
        discharge("P1", "2026-12-01T00:00:00Z")
        discharge("P2", "2026-12-01T00:00:01Z")
        tick(clock, "2026-12-02T12:00:00Z")

        bands = lambda **b: {"0": 0, "1": 0, "2-3": 0, "4-6": 0, "7-13": 0,  # noqa: E731
                             "14-20": 0, "21+": 0, **b}
        nov = ok(d.get("/api/v1/reports/drd?month=2026-11", headers=bm.auth))
        assert (nov["month"], nov["first_day"], nov["last_day"]) == (
            "2026-11", "2026-11-01", "2026-11-30")
        assert nov["trust"] == {
            "discharges": 6, "no_drd": 1,
            "bands": bands(**{"0": 1, "2-3": 2, "4-6": 1, "7-13": 1}),
            "delayed_bed_days": 22, "average_delay_days": 3.6, "on_drd_share": 0.2}
        assert nov["wards"] == [
            {"ward": "DA", "discharges": 5, "no_drd": 1,
             "bands": bands(**{"0": 1, "2-3": 2, "7-13": 1}),
             "delayed_bed_days": 20, "average_delay_days": 3.5, "on_drd_share": 0.25},
            {"ward": "DB", "discharges": 1, "no_drd": 0, "bands": bands(**{"4-6": 1}),
             "delayed_bed_days": 2, "average_delay_days": 4, "on_drd_share": 0}]
        # this month by default, up to now: P2's discharge at 00:00:01 on the 1st
        dec = ok(d.get("/api/v1/reports/drd", headers=bm.auth))
        assert dec["month"] == "2026-12"
        assert dec["trust"] == {
            "discharges": 1, "no_drd": 0, "bands": bands(**{"2-3": 1}),
            "delayed_bed_days": 0, "average_delay_days": 3, "on_drd_share": 0}
        assert [w["ward"] for w in dec["wards"]] == ["DA"]
        oct_ = ok(d.get("/api/v1/reports/drd?month=2026-10", headers=bm.auth))
        assert oct_["trust"]["discharges"] == 0 and oct_["wards"] == []

        csv = ("month,ward,discharges,no_drd,band_0,band_1,band_2_3,band_4_6,band_7_13,"
               "band_14_20,band_21_plus,delayed_bed_days,average_delay_days,on_drd_share\n"
               "2026-11,DA,5,1,1,0,2,0,1,0,0,20,3.50,0.2500\n"
               "2026-11,DB,1,0,0,0,0,1,0,0,0,2,4.00,0.0000\n"
               "2026-11,trust,6,1,1,0,2,1,1,0,0,22,3.60,0.2000\n")
        r = d.get("/api/v1/reports/drd?month=2026-11&format=csv", headers=bm.auth)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
        assert r.text == csv
        # the command line gives the same figures
        assert report_cli(db, clock, "drd", "--month", "2026-11").stdout == csv
        out = json.loads(report_cli(db, clock, "drd", "--month", "2026-11", "--format",
                                    "json").stdout)
        assert out == nov
        assert json.loads(report_cli(db, clock, "drd", "--format", "json").stdout) == dec

        # delayed days by the history at each snapshot: P4's late days land on 10-11 Nov,
        # P5's 14th keeps its first reason and its 14th-15th stay on DA
        delays_csv = (
            "date,ward,reason_list,reason,reason_label,patients_delayed,longest_so_far\n"
            "2026-11-10,DA,,,No reason recorded,1,1\n"
            "2026-11-11,DA,,,No reason recorded,1,2\n"
            "2026-11-12,,,,,0,0\n"
            "2026-11-13,,,,,0,0\n"
            f"2026-11-14,DA,nhse-acute-2023,p1_awaiting_care,{P1_LABEL},1,1\n"
            f"2026-11-15,DA,nhse-acute-2023,equipment_adaptations,{EQ_LABEL},1,2\n"
            f"2026-11-16,DB,nhse-acute-2023,equipment_adaptations,{EQ_LABEL},1,3\n"
            f"2026-11-17,DB,nhse-acute-2023,equipment_adaptations,{EQ_LABEL},1,4\n"
            "total,,,,,6,4\n")
        r = d.get("/api/v1/reports/delays?from=2026-11-10&to=2026-11-17&format=csv",
                  headers=bm.auth)
        assert r.status_code == 200, r.text
        assert r.text == delays_csv
        assert report_cli(db, clock, "delays", "--from", "2026-11-10", "--to",
                          "2026-11-17").stdout == delays_csv
        j = ok(d.get("/api/v1/reports/delays?from=2026-11-10&to=2026-11-17", headers=bm.auth))
        assert [(x["ward"], x["delayed_days"]) for x in j["by_ward"]] == [("DA", 4), ("DB", 2)]
        assert j["patients_delayed"] == 1 and j["longest"][0]["episode_id"] == eps["P5"]["id"]
        assert j["longest"][0]["ward"] == "DB" and j["longest"][0]["bed"] == "5"
        # P3's days: 2, 4 and 5 Nov; the 3rd (reversed before its snapshot) is a zero row
        j = ok(d.get("/api/v1/reports/delays?from=2026-11-02&to=2026-11-05", headers=bm.auth))
        assert [x["patients_delayed"] for x in j["by_day"]] == [1, 0, 1, 1]
        assert [x["rows"] for x in j["by_day"]][1] == []

        # refusals name the field
        field_error(d.get("/api/v1/reports/drd?month=2027-01", headers=bm.auth), "month")
        field_error(d.get("/api/v1/reports/drd?month=2026-13", headers=bm.auth), "month")
        field_error(d.get("/api/v1/reports/drd?month=2026-1", headers=bm.auth), "month")
        field_error(d.get("/api/v1/reports/drd?month=2026-11&format=xml", headers=bm.auth),
                    "format")
        field_error(d.get("/api/v1/reports/delays?date=2026-12-02", headers=bm.auth), "date")
        field_error(d.get("/api/v1/reports/delays?from=2026-11-02", headers=bm.auth), "to")
        assert d.get("/api/v1/reports/drd", headers=nurse.auth).status_code == 403
        r = report_cli(db, clock, "drd", "--month", "2027-01", check=False)
        assert r.returncode == 2 and "not begun" in r.stderr
    finally:
        stop_daemon_clean(d)


def test_long_stay_thresholds_and_ward_scoping(cluster, clock):
    """At Monday 30 Nov 2026 12:00Z, LoS = 30 Nov - the date owning the admission.

    L21 admitted 9 Nov 10:00 on LA: 21 (super-stranded), barrier medical_decision, not NCTR.
    L20 admitted 10 Nov 10:00 on LA: 20.
    L14 admitted 16 Nov 10:00 on LB: 14, NCTR since 25 Nov 10:00, barrier
        p3_awaiting_care_home.
    L13 admitted 17 Nov 10:00 on LB: 13.
    L7  admitted 23 Nov 09:00 on LA: 7.
    L7m admitted 24 Nov 00:00:00 on LA: that midnight ends 23 Nov, so 7 too.
    L6  admitted 24 Nov 00:00:01 on LA: 6, not listed.
    LD  admitted 1 Nov, discharged 29 Nov: not an inpatient.
    Every ward: 7+: 6, 14+: 3, 21+: 1.  LA only: L21 L20 L7 L7m -> 4, 2, 1.
    LB only: L14 L13 -> 2, 1, 0.
    """
    db = own_db(cluster, "longstay")
    set_clock(clock, "2026-11-30T11:00:00Z")
    admitter = make_user(db, "nurse", wards=["LA", "LB"])
    nurse_a = make_user(db, "nurse", wards=["LA"])
    nurse_none = make_user(db, "nurse", wards=["LZ"])  # her only ward is taken away below
    db.sql("DELETE FROM user_wards w USING users u"
           f" WHERE w.user_id = u.id AND u.name = '{nurse_none.name}'")
    bm = make_user(db, "bed_manager")
    d = Daemon(db.url, env={"CAREBRIDGE_TEST_CLOCK_FILE": clock}).start()
    try:
        eps = {}
        for name, ward, when in (("L21", "LA", "2026-11-09T10:00:00Z"),
                                 ("L20", "LA", "2026-11-10T10:00:00Z"),
                                 ("L14", "LB", "2026-11-16T10:00:00Z"),
                                 ("L13", "LB", "2026-11-17T10:00:00Z"),
                                 ("L7", "LA", "2026-11-23T09:00:00Z"),
                                 ("L7m", "LA", "2026-11-24T00:00:00Z"),
                                 ("L6", "LA", "2026-11-24T00:00:01Z"),
                                 ("LD", "LA", "2026-11-01T10:00:00Z")):
            eps[name] = admit(d, admitter, ward, pathway=0, admitted_at=when, bed=name)
        ok(d.post(f"/api/v1/episodes/{eps['LD']['id']}/discharge",
                  json={"pathway": 0, "discharged_at": "2026-11-29T10:00:00Z"},
                  headers=admitter.auth))
        ok(d.patch(f"/api/v1/episodes/{eps['L14']['id']}", json={"ready_at": "2026-11-25T10:00:00Z"},
                   headers=admitter.auth))
        for name, reason in (("L21", "medical_decision"), ("L14", "p3_awaiting_care_home")):
            ok(d.post(f"/api/v1/episodes/{eps[name]['id']}/barriers", json={"reason": reason},
                      headers=admitter.auth), 201)
        tick(clock, "2026-11-30T12:00:00Z")

        ls = ok(d.get("/api/v1/reports/long-stay", headers=bm.auth))
        assert (ls["stranded"], ls["los_14_plus"], ls["super_stranded"]) == (6, 3, 1)
        rows = [(p["episode_id"], p["length_of_stay"]) for p in ls["patients"]]
        names = {e["id"]: n for n, e in eps.items()}
        assert [(names[i], los) for i, los in rows[:4]] == [
            ("L21", 21), ("L20", 20), ("L14", 14), ("L13", 13)]
        assert sorted((names[i], los) for i, los in rows[4:]) == [("L7", 7), ("L7m", 7)]
        by = {names[p["episode_id"]]: p for p in ls["patients"]}
        assert by["L14"]["nctr"] is True and by["L14"]["ready_at"] == "2026-11-25T10:00:00Z"
        assert by["L14"]["primary_barrier"] == {
            "reason_list": "nhse-acute-2023", "reason": "p3_awaiting_care_home",
            "reason_label": "Pathway 3: awaiting a residential or nursing home bed, likely "
                            "permanent"}
        assert by["L21"]["nctr"] is False and by["L21"]["ready_at"] is None
        assert by["L21"]["primary_barrier"]["reason"] == "medical_decision"
        assert by["L7"]["primary_barrier"] is None
        assert (by["L13"]["ward"], by["L13"]["bed"]) == ("LB", "L13")
        # each row carries the episode's patient
        for name, p in by.items():
            assert p["patient"]["nhs_number"] == eps[name]["patient"]["nhs_number"]
            assert p["patient"]["family_name"] == eps[name]["patient"]["family_name"]
        # the read is audited, naming the episodes listed, never the patients
        audit = db.sql("SELECT actor, entity, after::text FROM audit"
                       " WHERE action = 'report.long_stay' ORDER BY id")
        assert len(audit) == 1 and audit[0][0] == bm.name and audit[0][1] == "episode"
        detail = json.loads(audit[0][2])
        assert detail["wards"] == "*" and sorted(detail["episodes"]) == sorted(
            e for e, _ in rows)
        assert eps["L21"]["patient"]["nhs_number"] not in audit[0][2]

        # a nurse sees her wards only, counts included
        mine = ok(d.get("/api/v1/reports/long-stay", headers=nurse_a.auth))
        assert (mine["stranded"], mine["los_14_plus"], mine["super_stranded"]) == (4, 2, 1)
        assert {names[p["episode_id"]] for p in mine["patients"]} == {"L21", "L20", "L7", "L7m"}
        la = ok(d.get("/api/v1/reports/long-stay?ward=LA", headers=nurse_a.auth))
        assert {k: v for k, v in la.items() if k != "at"} == {
            k: v for k, v in mine.items() if k != "at"}
        assert d.get("/api/v1/reports/long-stay?ward=LB",
                     headers=nurse_a.auth).status_code == 403
        # a nurse on no ward sees no one (never every ward)
        none = ok(d.get("/api/v1/reports/long-stay", headers=nurse_none.auth))
        assert (none["stranded"], none["patients"]) == (0, [])
        lb = ok(d.get("/api/v1/reports/long-stay?ward=LB", headers=bm.auth))
        assert (lb["stranded"], lb["los_14_plus"], lb["super_stranded"]) == (2, 1, 0)
        assert {names[p["episode_id"]] for p in lb["patients"]} == {"L14", "L13"}
        field_error(d.get("/api/v1/reports/long-stay?ward=bad*code", headers=bm.auth), "ward")
        field_error(d.get("/api/v1/reports/long-stay?format=xml", headers=bm.auth), "format")

        # the command line: the same list on the same clock, and its read audited too
        out = json.loads(report_cli(db, clock, "long-stay").stdout)
        assert (out["stranded"], out["los_14_plus"], out["super_stranded"]) == (6, 3, 1)
        assert [p["episode_id"] for p in out["patients"]][:4] == [e for e, _ in rows[:4]]
        assert out["patients"][0]["patient"]["nhs_number"] == eps["L21"]["patient"]["nhs_number"]
        csv = report_cli(db, clock, "long-stay", "--ward", "LB", "--format", "csv").stdout
        lines = csv.splitlines()
        assert lines[0] == ("episode_id,ward,bed,nhs_number,family_name,given_name,admitted_at,"
                            "length_of_stay,nctr,ready_at,reason_list,reason,reason_label")
        assert [ln.split(",")[2] for ln in lines[1:]] == ["L14", "L13"]
        assert db.sql("SELECT count(*) FROM audit WHERE action = 'report.long_stay'"
                      " AND actor = 'carebridge-cli'") == [["2"]]
        r = report_cli(db, clock, "long-stay", "--ward", "bad*code", check=False)
        assert r.returncode == 2 and "ward" in r.stderr
    finally:
        stop_daemon_clean(d)


def test_old_dtoc_delays_give_the_same_delayed_days_after_migration(fresh_database, tmp_path):
    """Reports over old dates still give the same numbers (issue 14, "Migration").

    The old model's data, put in at the schema before 0023 (ward OM1, January 2026, GMT):
      A ready 4 Jan 10:00, discharged 9 Jan 15:00; delay reason E (social_care).
      B ready 6 Jan 12:00, readiness withdrawn 8 Jan 09:00; delay reason Dii.
      C ready 7 Jan 20:00, still ready; its delay never got a reason.
      D ready 5 Jan 00:00 exactly (a DRD at the midnight ending 4 Jan); reason B.
    The old report (lib/report.c, DOMAIN.md's rule: ready_at <= snapshot(D) and not
    withdrawn or discharged by it, reason from the period's delay row) gave, 3..9 Jan:
      3: 0 | 4: A D = 2 | 5: A D = 2 | 6: A B D = 3 | 7: A B C D = 4 | 8: A C D = 3
      (B withdrawn 8 Jan 09:00) | 9: C D = 2 (A gone 9 Jan 15:00)  -> 16 delayed days;
      by reason E 5, B 6, Dii 2, unrecorded 3; 2 patients at the last snapshot (C, D).
    After 0023 the delays are dtoc-2014 barriers, primary from the delay's first counted
    midnight to its end, and the report gives the same days per date.  2026 dates report
    in the list in force, nhse-acute-2023: E maps to p1_awaiting_care; B and Dii have no
    successor and are reported as recorded, under dtoc-2014.
    """
    db = fresh_database
    env = {"CAREBRIDGE_DATABASE_URL": db.url, "CAREBRIDGE_DATABASE_OWNER_URL": db.owner_url}
    before = tmp_path / "migrations"
    shutil.copytree(TOP / "migrations", before)
    for f in before.glob("*.sql"):  # the schema as it was before 0023
        if f.name >= "0023":
            f.unlink()
    r = run_bin("migrate", "--dir", str(before), env=env)
    assert r.returncode == 0, r.stderr
    db.sql("INSERT INTO wards (code, name, beds) VALUES ('OM1', 'Ward OM1', 10)")
    ids = {n: f"{i}{i}{i}{i}0000-0000-4000-8000-00000000000{k}" for k, (n, i) in
           enumerate(zip("ABCD", "abcd"))}
    rows = {  # name: (admitted, discharged, ready, withdrawn, delay opened, closed, reason)
        "A": ("2026-01-01T10:00Z", "2026-01-09T15:00Z", "2026-01-04T10:00Z", None,
              "2026-01-05T00:00Z", "2026-01-09T15:00Z", "E"),
        "B": ("2026-01-02T08:00Z", None, "2026-01-06T12:00Z", "2026-01-08T09:00Z",
              "2026-01-07T00:00Z", "2026-01-08T09:00Z", "Dii"),
        "C": ("2026-01-03T08:00Z", None, "2026-01-07T20:00Z", None,
              "2026-01-08T00:00Z", None, None),
        "D": ("2026-01-02T09:00Z", None, "2026-01-05T00:00Z", None,
              "2026-01-05T00:00Z", None, "B"),
    }
    q = lambda v: "NULL" if v is None else f"'{v}'"  # noqa: E731
    for k, (name, (adm, dis, ready, wd, opened, closed, reason)) in enumerate(rows.items()):
        ep = ids[name]
        pid = f"9999{k}111-0000-4000-8000-000000000000"
        db.sql("INSERT INTO patients (id, local_id, family_name, given_name, birth_date)"
               f" VALUES ('{pid}', 'OLD{name}', 'Test', 'Patient', '1940-01-01')")
        db.sql("INSERT INTO episodes (id, patient_id, state, ward, admitted_at, discharged_at,"
               f" ready_at) VALUES ('{ep}', '{pid}', {q('discharged' if dis else 'admitted')},"
               f" 'OM1', '{adm}', {q(dis)}, {q(None if (dis or wd) else ready)})")
        db.sql(f"INSERT INTO readiness (episode_id, ready_at, withdrawn_at)"
               f" VALUES ('{ep}', '{ready}', {q(wd)})")
        db.sql("INSERT INTO delays (id, episode_id, ready_at, opened_at, closed_at, reason_code,"
               f" attribution) VALUES ('{ep}', '{ep}', '{ready}', '{opened}', {q(closed)},"
               f" {q(reason)}, {q('NHS' if reason else None)})")
    r = run_bin("migrate", env=env)
    assert r.returncode == 0 and "applied migration=0023_barriers.sql" in r.stderr, r.stderr

    bm = make_user(db, "bed_manager")
    d = Daemon(db.url).start()
    try:
        j = ok(d.get("/api/v1/reports/delays?from=2026-01-03&to=2026-01-09", headers=bm.auth))
        assert [(x["date"], x["patients_delayed"]) for x in j["by_day"]] == [
            ("2026-01-03", 0), ("2026-01-04", 2), ("2026-01-05", 2), ("2026-01-06", 3),
            ("2026-01-07", 4), ("2026-01-08", 3), ("2026-01-09", 2)]
        assert j["delayed_days"] == 16 and j["patients_delayed"] == 2
        by_reason = {(x["reason_list"], x["reason"]): (x["patients_delayed"], x["delayed_days"])
                     for x in j["by_reason"]}
        assert by_reason == {("nhse-acute-2023", "p1_awaiting_care"): (0, 5),
                             ("dtoc-2014", "B"): (1, 6), ("dtoc-2014", "Dii"): (0, 2),
                             ("", ""): (1, 3)}
        labels = {x["reason"]: x["reason_label"] for x in j["by_reason"]}
        assert labels["Dii"] == "Awaiting nursing home placement or availability"
        assert labels["B"] == "Awaiting public funding"
        # per date and reason, as the old report's by_day[].by_reason gave them
        per_day = {x["date"]: sorted((r["reason"], r["patients_delayed"]) for r in x["rows"])
                   for x in j["by_day"]}
        assert per_day["2026-01-07"] == [("", 1), ("B", 1), ("Dii", 1), ("p1_awaiting_care", 1)]
        assert per_day["2026-01-09"] == [("", 1), ("B", 1)]
        assert {x["ward"] for day in j["by_day"] for x in day["rows"]} == {"OM1"}
        # the longest delays at the last snapshot: D since 4 Jan (6 days), C since 7 Jan (3)
        assert [(x["episode_id"], x["delayed_days"]) for x in j["longest"]] == [
            (ids["D"], 6), (ids["C"], 3)]
        out = report_cli(db, None, "delays", "--from", "2026-01-03", "--to", "2026-01-09",
                         "--format", "json").stdout
        assert json.loads(out) == j
    finally:
        stop_daemon_clean(d)

"""Issue 14: criteria-to-reside reviews, the "not reviewed" flag, and reference lists as
versioned data (GET, admin import, `carebridge reasons import`).  Times run on a test clock;
the expectations come from DOMAIN.md, written out by hand."""
import json
import os
import time

import pytest

from conftest import Daemon, Database, admit, cli, make_user, stop_daemon_clean, set_clock
from sse import SSEClient


@pytest.fixture(scope="module")
def db(cluster):
    d = Database(cluster, f"cbtest_{os.getpid()}_reviews")
    d.migrate()
    return d


@pytest.fixture(scope="module")
def clock(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("clock") / "now")
    set_clock(path, "2026-03-26T10:00:00Z")
    return path


@pytest.fixture(scope="module")
def people(db):
    return {
        "nurse": make_user(db, "nurse", wards=["RV1"]),
        "nurse_b": make_user(db, "nurse", wards=["RV2"]),
        "ot": make_user(db, "ot"),
        "sw": make_user(db, "social_worker"),
        "bm": make_user(db, "bed_manager"),
        "admin": make_user(db, "admin"),
    }


def start(db, clock):
    return Daemon(db.url, env={"CAREBRIDGE_TEST_CLOCK_FILE": clock}).start()


def wait_until(pred, timeout=10.0, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def review(d, user, ep, **body):
    return d.post(f"/api/v1/episodes/{ep['id']}/reviews", json=body, headers=user.auth)


def field_error(r, status, field):
    assert r.status_code == status, r.text
    assert r.json()["error"]["field"] == field, r.text
    return r.json()["error"]["message"]


def test_nctr_sets_the_drd_and_meets_criteria_reverses_it(db, clock, people):
    set_clock(clock, "2026-03-26T10:00:00Z")
    d = start(db, clock)
    try:
        nurse = people["nurse"]
        ep = admit(d, nurse, "RV1", admitted_at="2026-03-25T09:00:00Z")
        s = SSEClient(d.base, "/api/v1/stream?ward=RV1", headers=people["bm"].auth)
        assert s.wait_connected()

        r = review(d, nurse, ep, outcome="meets_criteria", criteria_met=["oxygen_niv"],
                   decided_at="2026-03-26T08:55:00Z", note="on 2 l O2")
        assert r.status_code == 201, r.text
        first = r.json()
        assert first["outcome"] == "meets_criteria" and first["criteria_met"] == ["oxygen_niv"]
        assert first["reviewer"] == nurse.name and first["reviewer_role"] == "nurse"
        assert first["decided_at"] == "2026-03-26T08:55:00Z"
        assert first["recorded_at"].startswith("2026-03-26T10:0")  # the clock runs on
        assert first["criteria_list"] == "nhse-ctr-2022"
        assert first["ready_change"] == "none"
        assert first["episode"]["ready"] is False
        assert first["episode"]["last_review_at"] == "2026-03-26T08:55:00Z"

        # NCTR: the discharge ready date is the time the MDT decided, not the entry time
        r = review(d, nurse, ep, outcome="nctr", decided_at="2026-03-26T09:30:00Z")
        assert r.status_code == 201, r.text
        assert r.json()["ready_change"] == "set"
        assert r.json()["episode"]["ready"] is True
        assert r.json()["episode"]["ready_at"] == "2026-03-26T09:30:00Z"
        got = d.get(f"/api/v1/episodes/{ep['id']}", headers=nurse.auth).json()
        assert got["ready_at"] == "2026-03-26T09:30:00Z"
        # NCTR again keeps the first DRD
        r = review(d, nurse, ep, outcome="nctr", decided_at="2026-03-26T09:40:00Z")
        assert r.status_code == 201 and r.json()["ready_change"] == "none"
        assert r.json()["episode"]["ready_at"] == "2026-03-26T09:30:00Z"

        # the patient deteriorates: meets criteria again, the readiness period ends then
        r = review(d, people["ot"], ep, outcome="meets_criteria", criteria_met=["iv_fluids"],
                   decided_at="2026-03-26T09:45:00Z")
        assert r.status_code == 201, r.text
        assert r.json()["ready_change"] == "reversed"
        assert r.json()["episode"]["ready"] is False
        assert db.sql("SELECT to_char(ready_at AT TIME ZONE 'UTC', 'HH24:MI'),"
                      " to_char(withdrawn_at AT TIME ZONE 'UTC', 'HH24:MI')"
                      f" FROM readiness WHERE episode_id = '{ep['id']}'") == [["09:30", "09:45"]]

        items = d.get(f"/api/v1/episodes/{ep['id']}/reviews", headers=nurse.auth).json()["items"]
        assert [i["decided_at"][11:16] for i in items] == ["09:45", "09:40", "09:30", "08:55"]
        assert [i["ready_change"] for i in items] == ["reversed", "none", "set", "none"]

        # pushed on the stream: every review, and the episode's readiness changes
        assert s.wait_for(lambda ev: len([e for e in ev if e[1] == "review.recorded"]) == 4)
        types = [e[1] for e in s.events]
        assert "episode.ready" in types
        rec = [json.loads(e[2]) for e in s.events if e[1] == "review.recorded"]
        assert rec[1]["outcome"] == "nctr" and rec[1]["ward"] == "RV1"
        s.close()

        # audited, with the decided time
        rows = db.sql("SELECT action, after->>'decided_at', actor FROM audit"
                      f" WHERE episode_id = '{ep['id']}' AND action = 'review.record' ORDER BY id")
        assert [r[1] for r in rows] == ["2026-03-26T08:55:00Z", "2026-03-26T09:30:00Z",
                                        "2026-03-26T09:40:00Z", "2026-03-26T09:45:00Z"]
        assert rows[0][2] == nurse.name
        assert db.sql("SELECT count(*) FROM audit WHERE action = 'review.list'"
                      f" AND episode_id = '{ep['id']}'") == [["1"]]
    finally:
        stop_daemon_clean(d)


def test_review_refusals(db, clock, people):
    # 2026-03-29 is the spring DST change: 00:30 UTC is 00:30 GMT, 23:30 UTC the 28th is still
    # the 28th in London
    set_clock(clock, "2026-03-29T10:00:00Z")
    d = start(db, clock)
    try:
        nurse = people["nurse"]
        ep = admit(d, nurse, "RV1", admitted_at="2026-03-27T09:00:00Z")
        msg = field_error(review(d, nurse, ep, outcome="nctr", decided_at="2026-03-29T10:05:00Z"),
                          400, "decided_at")
        assert "future" in msg
        msg = field_error(review(d, nurse, ep, outcome="nctr", decided_at="2026-03-28T23:30:00Z"),
                          400, "decided_at")
        assert "today" in msg
        # earlier today, across the change to BST, is fine
        r = review(d, nurse, ep, outcome="meets_criteria", criteria_met=["itu_hdu"],
                   decided_at="2026-03-29T00:30:00Z")
        assert r.status_code == 201, r.text
        msg = field_error(review(d, nurse, ep, outcome="meets_criteria",
                                 criteria_met=["not_a_criterion"]), 400, "criteria_met")
        assert "not_a_criterion" in msg
        field_error(review(d, nurse, ep, outcome="nctr", criteria_met=["iv_fluids"]), 400,
                    "criteria_met")
        field_error(review(d, nurse, ep, outcome="maybe"), 400, "outcome")
        field_error(review(d, nurse, ep, outcome="meets_criteria"), 400, "note")
        field_error(review(d, nurse, ep, outcome="nctr", decided_at="2026-03-29T00:10:00Z"), 400,
                    "decided_at")  # before the latest review
        field_error(review(d, nurse, ep, outcome="nctr", colour="red"), 400, "colour")
        # who may record: a nurse of another ward, a social worker, a bed manager may not
        assert review(d, people["nurse_b"], ep, outcome="nctr").status_code == 403
        assert review(d, people["sw"], ep, outcome="nctr").status_code == 403
        assert review(d, people["bm"], ep, outcome="nctr").status_code == 403
        # nothing above changed the episode
        got = d.get(f"/api/v1/episodes/{ep['id']}", headers=nurse.auth).json()
        assert got["ready"] is False
        assert len(d.get(f"/api/v1/episodes/{ep['id']}/reviews",
                         headers=nurse.auth).json()["items"]) == 1
        # a discharged patient is not reviewed
        r = d.post(f"/api/v1/episodes/{ep['id']}/discharge", json={"pathway": 0},
                   headers=nurse.auth)
        assert r.status_code == 200, r.text
        assert review(d, nurse, ep, outcome="nctr").status_code == 409
    finally:
        stop_daemon_clean(d)


def test_not_reviewed_since_the_last_board_round_is_flagged(db, clock, people):
    # 2026-03-27 is a GMT day: rounds at 09:00 and 16:00 UTC
    set_clock(clock, "2026-03-27T07:00:00Z")
    d = start(db, clock)
    try:
        nurse = people["nurse"]
        ep = admit(d, nurse, "RV1", admitted_at="2026-03-27T06:00:00Z")
        assert ep["review_overdue"] is False and ep["last_review_at"] is None
        set_clock(clock, "2026-03-27T09:01:00Z")

        def flagged():
            return d.get(f"/api/v1/episodes/{ep['id']}", headers=nurse.auth).json()["review_overdue"]
        assert wait_until(flagged, timeout=15)
        r = review(d, nurse, ep, outcome="meets_criteria", criteria_met=["news2_above_3"])
        assert r.status_code == 201, r.text
        assert r.json()["episode"]["review_overdue"] is False
        assert r.json()["episode"]["last_review_at"].startswith("2026-03-27T09:0")
    finally:
        stop_daemon_clean(d)


def test_reference_lists(db, clock, people):
    set_clock(clock, "2026-03-27T10:00:00Z")
    d = start(db, clock)
    try:
        nurse, admin = people["nurse"], people["admin"]
        r = d.get("/api/v1/reference/delay-reasons", headers=nurse.auth)
        assert r.status_code == 200, r.text
        assert r.json()["name"] == "nhse-acute-2023" and r.json()["default"] is True
        keys = [i["key"] for i in r.json()["items"]]
        assert len(keys) == 18 and keys[0] == "medical_decision"
        old = d.get("/api/v1/reference/delay-reasons?list=dtoc-2014", headers=nurse.auth).json()
        assert [i["key"] for i in old["items"]] == ["A", "B", "C", "Di", "Dii", "E", "F", "G",
                                                    "H", "I"]
        crit = d.get("/api/v1/reference/criteria", headers=people["ot"].auth).json()
        assert crit["name"] == "nhse-ctr-2022" and len(crit["items"]) == 11
        assert d.get("/api/v1/reference/delay-reasons?list=nope",
                     headers=nurse.auth).status_code == 404
        assert d.get("/api/v1/reference/delay-reasons?list=nhse-ctr-2022",
                     headers=nurse.auth).status_code == 404
        field_error(d.get("/api/v1/reference/delay-reasons?list=Bad%20Name", headers=nurse.auth),
                    400, "list")
        lists = d.get("/api/v1/reference/lists", headers=people["bm"].auth).json()["items"]
        assert {l["name"]: l["count"] for l in lists} == {
            "dtoc-2014": 10, "nhse-acute-2023": 18, "nhse-ctr-2022": 11}

        body = {"list": "test-api-2026", "version": "2026", "items": [
            {"key": "transport", "label": "Awaiting transport", "active_from": "2026-04-01",
             "older_list": "nhse-acute-2023", "older_key": "transport"},
            {"key": "no_plan", "label": "No plan, \"quoted\"", "active_from": "2026-04-01"}]}
        assert d.post("/api/v1/reference/delay-reasons", json=body,
                      headers=nurse.auth).status_code == 403
        r = d.post("/api/v1/reference/delay-reasons", json=body, headers=admin.auth)
        assert r.status_code == 201, r.text
        assert r.json()["items"][0]["older_key"] == "transport"
        assert r.json()["default"] is False
        assert d.post("/api/v1/reference/delay-reasons", json=body,
                      headers=admin.auth).status_code == 409
        bad = dict(body, list="test-api-bad")
        bad["items"] = [dict(body["items"][0], older_key="nope")]
        r = d.post("/api/v1/reference/delay-reasons", json=bad, headers=admin.auth)
        assert r.status_code == 400 and "items[0]" in r.json()["error"]["message"], r.text
        bad["items"] = [{"key": "x y", "label": "l", "active_from": "2026-04-01"}]
        r = d.post("/api/v1/reference/delay-reasons", json=bad, headers=admin.auth)
        assert r.status_code == 400 and "items[0]" in r.json()["error"]["message"], r.text
        bad["items"] = [{"key": "k", "label": "l", "active_from": "2026-13-01"}]
        field_error(d.post("/api/v1/reference/delay-reasons", json=bad, headers=admin.auth),
                    400, "items[0].active_from")
        assert db.sql("SELECT actor, after->>'name' FROM audit"
                      " WHERE action = 'reference.import'") == [[admin.name, "test-api-2026"]]
    finally:
        stop_daemon_clean(d)


def test_reasons_import_cli(db, tmp_path):
    good = tmp_path / "reasons.csv"
    good.write_text(
        "list,version,key,label,active_from,older_list,older_key\r\n"
        "test-cli-2027,2027,medical,\"Awaiting a medical decision, or the summary\",2027-04-01,"
        "nhse-acute-2023,medical_decision\r\n"
        "test-cli-2027,2027,other,\"Other \"\"quoted\"\" reason\",2027-04-01,,\r\n")
    r = cli(db, "reasons", "import", str(good), "--default", "--title", "CLI list")
    assert "test-cli-2027" in r.stdout and "2 reasons" in r.stdout
    rows = db.sql("SELECT key, label, older_key FROM reference_items WHERE list = 'test-cli-2027'"
                  " ORDER BY position")
    assert rows == [["medical", "Awaiting a medical decision, or the summary", "medical_decision"],
                    ["other", "Other \"quoted\" reason", ""]]
    assert db.sql("SELECT name FROM reference_lists WHERE kind = 'delay_reason' AND is_default") \
        == [["test-cli-2027"]]
    assert db.sql("SELECT actor FROM audit WHERE action = 'reference.import'"
                  " AND after->>'name' = 'test-cli-2027'") == [["cli"]]
    # the same list again: lists are never changed
    r = cli(db, "reasons", "import", str(good), check=False)
    assert r.returncode == 1 and "already exists" in r.stderr
    # errors name the line
    bad = tmp_path / "bad.csv"
    bad.write_text("list,version,key,label,active_from,older_list,older_key\n"
                   "test-cli-bad,1,a,A,2027-04-01,,\n"
                   "test-cli-bad,1,b,B,2027-02-30,,\n")
    r = cli(db, "reasons", "import", str(bad), check=False)
    assert r.returncode == 1 and "line 3" in r.stderr and "active_from" in r.stderr, r.stderr
    bad.write_text("list,version,key,label,active_from,older_list,older_key\n"
                   "test-cli-bad,1,a,A,2027-04-01,dtoc-2014,\n")
    r = cli(db, "reasons", "import", str(bad), check=False)
    assert r.returncode == 1 and "line 2" in r.stderr, r.stderr
    bad.write_text("key,label\na,A\n")
    r = cli(db, "reasons", "import", str(bad), check=False)
    assert r.returncode == 1 and "line 1" in r.stderr, r.stderr
    bad.write_text("list,version,key,label,active_from,older_list,older_key\n"
                   "test-cli-bad,1,a,A,2027-04-01,dtoc-2014,ZZ\n")
    r = cli(db, "reasons", "import", str(bad), check=False)
    assert r.returncode == 1 and "line 2" in r.stderr and "ZZ" in r.stderr, r.stderr
    assert db.sql("SELECT count(*) FROM reference_lists WHERE name = 'test-cli-bad'") == [["0"]]
    # put the seeded default back for the other tests of this database
    db.sql("UPDATE reference_lists SET is_default = false WHERE kind = 'delay_reason'")
    db.sql("UPDATE reference_lists SET is_default = true WHERE name = 'nhse-acute-2023'")


def test_not_reviewed_since_the_last_round_is_chased_like_an_overdue_task(db, clock, people):
    """Issue 14: "an inpatient not reviewed since the last board round is ... chased like an
    overdue task".  Due at the round missed (20 March 2026, GMT: 09:00Z), with the task
    chase's defaults (chase_first_after 0, repeat every 4 h, level 2 at 8 h, level 3 at
    24 h); review.overdue once and chase.review each time, on the stream; a review at or
    after the last round ends it, and the next round missed starts afresh at level 1."""
    set_clock(clock, "2026-03-20T08:00:00Z")
    d = start(db, clock)
    try:
        nurse = people["nurse"]
        ep = admit(d, nurse, "RV1", admitted_at="2026-03-20T07:00:00Z")
        chases = lambda: db.sql("SELECT kind, level, target,"  # noqa: E731
                                " to_char(at AT TIME ZONE 'UTC', 'DD HH24:MI') FROM chases"
                                f" WHERE entity_id = '{ep['id']}' ORDER BY id")
        s = SSEClient(d.base, "/api/v1/stream?ward=RV1&types=review.*,chase.*",
                      headers=people["bm"].auth)
        assert s.wait_connected()
        time.sleep(1.2)
        assert chases() == []
        # the 09:00 round passes without a review: flagged, chased at level 1 to the ward
        set_clock(clock, "2026-03-20T09:01:00Z")
        assert wait_until(lambda: len(chases()) == 1)
        assert chases() == [["review", "1", "discipline", "20 09:01"]]
        mine = lambda t: [json.loads(e[2]) for e in s.events  # noqa: E731
                          if e[1] == t and json.loads(e[2])["episode_id" if t.startswith("chase")
                                                            else "id"] == ep["id"]]
        assert s.wait_for(lambda ev: mine("review.overdue") and mine("chase.review"))
        over = mine("review.overdue")[0]
        assert over["ward"] == "RV1" and over["review_overdue"] is True
        ch = mine("chase.review")[0]
        assert (ch["kind"], ch["entity_id"], ch["ward"], ch["level"], ch["target"]) == \
            ("review", ep["id"], "RV1", 1, "discipline")
        r = d.get(f"/api/v1/episodes/{ep['id']}", headers=nurse.auth).json()
        assert r["review_overdue"] is True
        # nothing more before the repeat (4 h after the first chase)
        set_clock(clock, "2026-03-20T12:30:00Z")
        time.sleep(2.5)
        assert len(chases()) == 1
        set_clock(clock, "2026-03-20T13:02:00Z")
        assert wait_until(lambda: len(chases()) == 2)
        assert chases()[1][:3] == ["review", "1", "discipline"]
        # 8 h after the missed round: the team lead (the 16:00 round changes nothing)
        set_clock(clock, "2026-03-20T17:01:00Z")
        assert wait_until(lambda: len(chases()) == 3)
        assert chases()[2][:3] == ["review", "2", "team_lead"]
        # 24 h: the bed manager
        set_clock(clock, "2026-03-21T09:01:00Z")
        assert wait_until(lambda: len(chases()) == 4)
        assert chases()[3][:3] == ["review", "3", "bed_manager"]
        assert s.wait_for(lambda ev: len(mine("chase.review")) == 4)
        assert [c["level"] for c in mine("chase.review")] == [1, 1, 2, 3]
        assert len(mine("review.overdue")) == 1
        # a review now (after the 09:00 round) ends it: no more chases, even at the repeat
        r = review(d, nurse, ep, outcome="meets_criteria", criteria_met=["news2_above_3"])
        assert r.status_code == 201, r.text
        assert r.json()["episode"]["review_overdue"] is False
        set_clock(clock, "2026-03-21T15:30:00Z")
        time.sleep(2.5)
        assert len(chases()) == 4
        # the 16:00 round missed: a new chase from level 1, and review.overdue again
        set_clock(clock, "2026-03-21T16:01:00Z")
        assert wait_until(lambda: len(chases()) == 5)
        assert chases()[4] == ["review", "1", "discipline", "21 16:01"]
        assert s.wait_for(lambda ev: len(mine("review.overdue")) == 2)
        s.close()
    finally:
        stop_daemon_clean(d)

"""Issue 15, barriers that follow the referral: while the patient has no criteria to reside,
the open referral's state proposes the primary barrier with the current reason; a person
who codes the delay wins and the proposal is only shown; the days already passed keep the
reason they had.

The admission opens the day-one referral; its steps are then written with SQL (the referral
row and its referral_steps row in one transaction, as the referral API writes them), so the
proposal is proved for any writer, the partner-side steps included, without a hub set up."""
import os
import time
import uuid

import pytest

from conftest import Daemon, admit, make_user, stop_daemon_clean, set_clock


@pytest.fixture(scope="module")
def db(cluster):
    from conftest import Database
    d = Database(cluster, f"cbtest_{os.getpid()}_refbar")
    d.migrate()
    return d


@pytest.fixture(scope="module")
def clock(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("clock") / "now")
    set_clock(path, "2026-06-01T08:00:00Z")
    return path


@pytest.fixture(scope="module")
def people(db):
    return {"nurse": make_user(db, "nurse", wards=["PB1"]), "bm": make_user(db, "bed_manager")}


@pytest.fixture
def daemon(db, clock):
    d = Daemon(db.url, env={"CAREBRIDGE_TEST_CLOCK_FILE": clock}).start()
    yield d
    stop_daemon_clean(d)


def open_referral(db, ep, at, state="notified"):
    """The day-one referral the admission opened (pathway 1-3), moved to state if asked."""
    rid = ep["referral"]["id"]
    assert ep["referral"]["state"] == "notified"
    if state != "notified":
        step(db, rid, state, at)
    return rid


def step(db, rid, to, at, extra=""):
    closed = f", closed_at = '{at}'" if to in ("completed", "withdrawn") else ""
    db.sql(f"BEGIN; UPDATE referrals SET state = '{to}'{closed}{extra} WHERE id = '{rid}'; "
           f"INSERT INTO referral_steps (referral_id, at, from_state, to_state, actor_name) "
           f"SELECT '{rid}', '{at}', NULL, '{to}', 'test'; COMMIT;")


def barriers(db, ep):
    return db.sql("SELECT reason, is_primary, proposed_by_referral IS NOT NULL, "
                  "closed_at IS NOT NULL, opened_by FROM barriers "
                  f"WHERE episode_id = '{ep['id']}' ORDER BY opened_at, id")


def reason_at(db, ep, when):
    rows = db.sql(f"SELECT reason FROM cb_primary_reason_at('{ep['id']}', '{when}')")
    return rows[0][0] if rows else None


def nctr(d, user, ep, at):
    r = d.post(f"/api/v1/episodes/{ep['id']}/reviews", json={"outcome": "nctr", "decided_at": at},
               headers=user.auth)
    assert r.status_code == 201, r.text


def test_the_proposal_follows_the_referral_and_keeps_the_past(db, clock, people, daemon):
    d, nurse = daemon, people["nurse"]
    set_clock(clock, "2026-06-01T12:00:00Z")
    time.sleep(1.2)
    ep = admit(d, nurse, "PB1", pathway=1, admitted_at="2026-06-01T07:00:00Z")
    rid = open_referral(db, ep, "2026-06-01T07:00:00Z")
    # not NCTR yet: nothing is proposed
    assert barriers(db, ep) == []
    nctr(d, nurse, ep, "2026-06-01T09:00:00Z")
    assert barriers(db, ep) == [["referral_to_spa", "t", "t", "f", "referral"]]
    assert reason_at(db, ep, "2026-06-01T09:00:00Z") == "referral_to_spa"
    e = d.get(f"/api/v1/episodes/{ep['id']}", headers=nurse.auth).json()
    assert e["primary_barrier"]["reason"] == "referral_to_spa"
    assert e["proposed_barrier"]["reason"] == "referral_to_spa"
    assert e["proposed_barrier"]["applied"] is True
    b = d.get(f"/api/v1/episodes/{ep['id']}/barriers", headers=nurse.auth).json()["items"][0]
    assert b["proposed"] is True and b["proposed_by_referral"] == rid
    # sent to the hub on the 2nd, accepted on the 3rd (pathway 1)
    step(db, rid, "referred", "2026-06-02T10:00:00Z", ", referred_at = '2026-06-02T10:00:00Z'")
    assert barriers(db, ep) == [["hub_confirmation", "t", "t", "f", "referral"]]
    step(db, rid, "accepted", "2026-06-03T10:00:00Z", ", accepted_at = '2026-06-03T10:00:00Z'")
    assert barriers(db, ep)[0][0] == "p1_awaiting_care"
    # the days already passed keep their reason
    assert reason_at(db, ep, "2026-06-01T23:00:00Z") == "referral_to_spa"
    assert reason_at(db, ep, "2026-06-02T23:00:00Z") == "hub_confirmation"
    assert reason_at(db, ep, "2026-06-03T23:00:00Z") == "p1_awaiting_care"
    # each change is audited as the referral's and announced
    acts = db.sql(f"SELECT action, actor FROM audit WHERE entity = 'barrier' "
                  f"AND episode_id = '{ep['id']}' AND action <> 'barrier.list' ORDER BY id")
    assert acts == [["barrier.open", "referral"], ["barrier.update", "referral"],
                    ["barrier.update", "referral"]]
    evs = db.sql(f"SELECT type FROM events WHERE episode_id = '{ep['id']}' "
                 "AND type LIKE 'barrier.%' ORDER BY id")
    assert evs == [["barrier.opened"], ["barrier.updated"], ["barrier.updated"]]
    # the referral completes: the proposed barrier closes
    step(db, rid, "withdrawn", "2026-06-04T10:00:00Z")
    assert barriers(db, ep) == [["p1_awaiting_care", "f", "t", "t", "referral"]]
    assert reason_at(db, ep, "2026-06-04T11:00:00Z") is None


@pytest.mark.parametrize("pathway,reason", [(2, "p2_awaiting_rehab_bed"),
                                            (3, "p3_awaiting_care_home")])
def test_accepted_referral_proposes_the_pathway_reason(db, clock, people, daemon, pathway, reason):
    d, nurse = daemon, people["nurse"]
    ep = admit(d, nurse, "PB1", pathway=pathway, admitted_at="2026-06-01T07:00:00Z")
    rid = open_referral(db, ep, "2026-06-01T07:00:00Z", state="accepted")
    nctr(d, nurse, ep, "2026-06-01T09:00:00Z")
    assert barriers(db, ep) == [[reason, "t", "t", "f", "referral"]]
    # the likely pathway changes: so does the proposal
    r = d.patch(f"/api/v1/episodes/{ep['id']}", json={"pathway": 1}, headers=nurse.auth)
    assert r.status_code == 200, r.text
    assert barriers(db, ep)[0][0] == "p1_awaiting_care"
    assert rid


def test_a_person_who_codes_the_delay_wins(db, clock, people, daemon):
    d, nurse = daemon, people["nurse"]
    ep = admit(d, nurse, "PB1", pathway=1, admitted_at="2026-06-01T07:00:00Z")
    rid = open_referral(db, ep, "2026-06-01T07:00:00Z")
    nctr(d, nurse, ep, "2026-06-01T09:00:00Z")
    b = d.get(f"/api/v1/episodes/{ep['id']}/barriers", headers=nurse.auth).json()["items"][0]
    # the nurse recodes the proposed barrier: it is hers now
    r = d.patch(f"/api/v1/barriers/{b['id']}", json={"reason": "transport"},
                headers={**nurse.auth, "If-Match": f'"{b["version"]}"'})
    assert r.status_code == 200, r.text
    assert r.json()["proposed"] is False
    step(db, rid, "referred", "2026-06-02T10:00:00Z", ", referred_at = '2026-06-02T10:00:00Z'")
    assert barriers(db, ep) == [["transport", "t", "f", "f", "referral"]]
    e = d.get(f"/api/v1/episodes/{ep['id']}", headers=nurse.auth).json()
    assert e["primary_barrier"]["reason"] == "transport"
    assert e["proposed_barrier"]["reason"] == "hub_confirmation"
    assert e["proposed_barrier"]["applied"] is False
    # a barrier a person opened before NCTR is never displaced either
    ep2 = admit(d, nurse, "PB1", pathway=1, admitted_at="2026-06-01T07:00:00Z")
    open_referral(db, ep2, "2026-06-01T07:00:00Z")
    r = d.post(f"/api/v1/episodes/{ep2['id']}/barriers", json={"reason": "medicines_tto"},
               headers=nurse.auth)
    assert r.status_code == 201, r.text
    nctr(d, nurse, ep2, "2026-06-01T09:00:00Z")
    assert [x[0] for x in barriers(db, ep2)] == ["medicines_tto"]


def test_meeting_the_criteria_again_closes_the_proposal(db, clock, people, daemon):
    d, nurse = daemon, people["nurse"]
    ep = admit(d, nurse, "PB1", pathway=1, admitted_at="2026-06-01T07:00:00Z")
    open_referral(db, ep, "2026-06-01T07:00:00Z")
    nctr(d, nurse, ep, "2026-06-01T09:00:00Z")
    r = d.post(f"/api/v1/episodes/{ep['id']}/reviews",
               json={"outcome": "meets_criteria", "decided_at": "2026-06-01T11:00:00Z",
                     "criteria_met": ["iv_fluids"]}, headers=nurse.auth)
    assert r.status_code == 201, r.text
    assert barriers(db, ep) == [["referral_to_spa", "f", "t", "t", "referral"]]
    assert db.sql(f"SELECT to_char(closed_at AT TIME ZONE 'UTC', 'HH24:MI') FROM barriers "
                  f"WHERE episode_id = '{ep['id']}'") == [["11:00"]]


def test_sql_table_matches_lib_referral(db):
    """cb_referral_proposed_reason is lib/referral.c referral_proposed_reason's table."""
    lib = {"notified": "referral_to_spa", "declined": "referral_to_spa",
           "referred": "hub_confirmation", "info_requested": "hub_confirmation",
           "completed": None, "withdrawn": None}
    by_pathway = {None: "hub_confirmation", 0: "hub_confirmation", 1: "p1_awaiting_care",
                  2: "p2_awaiting_rehab_bed", 3: "p3_awaiting_care_home"}
    for state in ("notified", "referred", "info_requested", "accepted", "declined", "sourced",
                  "start_confirmed", "completed", "withdrawn"):
        for p in (None, 0, 1, 2, 3):
            want = lib[state] if state in lib else by_pathway[p]
            pv = "NULL" if p is None else str(p)
            got = db.sql(f"SELECT coalesce(cb_referral_proposed_reason('{state}', {pv}::smallint),"
                         " '-')")[0][0]
            assert got == (want or "-"), (state, p)

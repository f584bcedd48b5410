"""Issue 15, chasing across the boundary: a referral not sent to the hub is chased to social
work as the Care Act assessment was; a referral the hub has not accepted within
referral_accept_within, or whose confirmed start date has passed with the patient still in,
is chased to the hub's coordinators, then the hub's leads, then the trust's bed manager;
every step restarts the chase, and each chase happens exactly once across two processes.

The referrals are written with SQL so that these tests depend only on the chase and the
schema (migration 0028), not on the referral API."""
import json
import os
import time
import uuid

import pytest

from conftest import Daemon, admit, make_user, stop_daemon_clean, set_clock
from sse import SSEClient


@pytest.fixture(scope="module")
def db(cluster):
    from conftest import Database
    d = Database(cluster, f"cbtest_{os.getpid()}_refchase")
    d.migrate()
    return d


@pytest.fixture(scope="module")
def clock(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("clock") / "now")
    set_clock(path, "2026-05-04T08:00:00Z")
    return path


def start(db, clock, **env):
    e = {"CAREBRIDGE_TEST_CLOCK_FILE": clock}
    e.update(env)
    return Daemon(db.url, env=e).start()


@pytest.fixture(scope="module")
def people(db):
    return {"nurse": make_user(db, "nurse", wards=["HC1"]), "bm": make_user(db, "bed_manager")}


@pytest.fixture(scope="module")
def hub(db):
    hid = str(uuid.uuid4())
    db.sql(f"INSERT INTO organisations (id, code, name, kind) VALUES ('{hid}', 'HUB{hid[:6]}', "
           f"'North care transfer hub', 'hub')")
    return hid


def wait_until(pred, timeout=8.0, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def chases(db, rid):
    return db.sql("SELECT kind, level, target, coalesce(discipline, ''), "
                  "coalesce(organisation_id::text, ''), "
                  "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI') "
                  f"FROM chases WHERE entity_id = '{rid}' ORDER BY id")


def referral(db, d, nurse, admitted_at, state, org=None, **cols):
    """Admit a pathway-0 patient (no day-one referral of its own) and give it a referral."""
    ep = admit(d, nurse, "HC1", pathway=0, admitted_at=admitted_at)
    rid = str(uuid.uuid4())
    values = {"id": rid, "episode_id": ep["id"], "state": state, "pathway": 1,
              "notified_at": admitted_at, **cols}
    if org:
        values["organisation_id"] = org
    names = ", ".join(values)
    vals = ", ".join("'%s'" % v for v in values.values())
    db.sql(f"INSERT INTO referrals ({names}) VALUES ({vals})")
    return rid


def test_referral_not_sent_is_chased_to_social_work(db, clock, people):
    set_clock(clock, "2026-05-04T09:00:00Z")
    d = start(db, clock)
    try:
        rid = referral(db, d, people["nurse"], "2026-05-04T09:00:00Z", "notified")
        time.sleep(1.5)
        assert chases(db, rid) == []
        set_clock(clock, "2026-05-05T09:05:00Z")  # opened + 24 h (assessment_chase_after)
        assert wait_until(lambda: len(chases(db, rid)) == 1)
        assert chases(db, rid) == [["referral", "1", "discipline", "social_work", "",
                                    "2026-05-05T09:05"]]
        # sending it restarts the chase: the hub has a day of its own from now
        db.sql(f"UPDATE referrals SET state = 'referred', referred_at = '2026-05-05T09:10:00Z' "
               f"WHERE id = '{rid}'")
        assert db.sql(f"SELECT chase_level, last_chased_at IS NULL FROM referrals "
                      f"WHERE id = '{rid}'") == [["0", "t"]]
        set_clock(clock, "2026-05-05T14:00:00Z")
        time.sleep(2.5)
        assert len(chases(db, rid)) == 1  # and no hub chase: the referral has no hub
    finally:
        stop_daemon_clean(d)


def test_referral_not_accepted_is_chased_to_the_hub_and_escalates(db, clock, people, hub):
    set_clock(clock, "2026-05-06T08:00:00Z")
    d = start(db, clock, CAREBRIDGE_REFERRAL_ACCEPT_WITHIN="2h")
    s = SSEClient(d.base, "/api/v1/stream", headers=people["bm"].auth)
    try:
        assert s.wait_connected()
        rid = referral(db, d, people["nurse"], "2026-05-06T07:00:00Z", "referred", org=hub,
                       referred_at="2026-05-06T07:30:00Z")
        time.sleep(1.5)
        assert chases(db, rid) == []
        set_clock(clock, "2026-05-06T09:31:00Z")  # sent + 2 h
        assert wait_until(lambda: len(chases(db, rid)) == 1)
        assert chases(db, rid) == [["hub", "1", "hub", "", hub, "2026-05-06T09:31"]]
        # the chase event is the hub's too, so its users get it on their stream
        assert db.sql(f"SELECT organisations::text FROM events WHERE type = 'chase.hub' "
                      f"AND payload->>'entity_id' = '{rid}'") == [["{%s}" % hub]]
        assert s.wait_for(lambda ev: any(e[1] == "chase.hub" for e in ev))
        ev = [json.loads(e[2]) for e in s.events if e[1] == "chase.hub"][0]
        assert ev["target"] == "hub" and ev["organisation_id"] == hub and ev["entity_id"] == rid
        # 8 h past due: the hub's leads; 24 h: the trust's bed manager
        set_clock(clock, "2026-05-06T17:31:00Z")
        assert wait_until(lambda: any(c[2] == "hub_lead" for c in chases(db, rid)))
        set_clock(clock, "2026-05-07T09:31:00Z")
        assert wait_until(lambda: any(c[2] == "bed_manager" for c in chases(db, rid)))
        assert [c[1:3] for c in chases(db, rid)][-1] == ["3", "bed_manager"]
        n = len(chases(db, rid))
        # the hub accepts: the chase stops
        db.sql(f"UPDATE referrals SET state = 'accepted', accepted_at = '2026-05-07T09:40:00Z' "
               f"WHERE id = '{rid}'")
        set_clock(clock, "2026-05-08T09:40:00Z")
        time.sleep(2.5)
        assert len(chases(db, rid)) == n
    finally:
        s.close()
        stop_daemon_clean(d)


def test_confirmed_start_passed_is_chased_to_the_hub(db, clock, people, hub):
    set_clock(clock, "2026-05-11T08:00:00Z")
    d = start(db, clock)
    try:
        rid = referral(db, d, people["nurse"], "2026-05-08T07:00:00Z", "start_confirmed",
                       org=hub, referred_at="2026-05-08T08:00:00Z",
                       accepted_at="2026-05-08T09:00:00Z", service_kind="reablement",
                       service_start_date="2026-05-11", start_confirmed_at="2026-05-09T10:00:00Z")
        set_clock(clock, "2026-05-11T22:50:00Z")  # 23:50 BST on the start date: not yet
        time.sleep(2.5)
        assert chases(db, rid) == []
        set_clock(clock, "2026-05-11T23:01:00Z")  # 00:01 BST the day after
        assert wait_until(lambda: len(chases(db, rid)) == 1)
        assert chases(db, rid)[0][:5] == ["hub", "1", "hub", "", hub]
        # discharged: no more chasing
        db.sql(f"UPDATE referrals SET state = 'completed', closed_at = '2026-05-12T10:00:00Z' "
               f"WHERE id = '{rid}'")
        set_clock(clock, "2026-05-12T12:00:00Z")
        time.sleep(2.5)
        assert len(chases(db, rid)) == 1
    finally:
        stop_daemon_clean(d)


def test_two_processes_chase_each_referral_once(db, clock, people, hub):
    set_clock(clock, "2026-05-13T08:00:00Z")
    d1 = start(db, clock)
    d2 = start(db, clock)
    try:
        sent = [referral(db, d1, people["nurse"], "2026-05-13T07:00:00Z", "referred", org=hub,
                         referred_at="2026-05-13T07:30:00Z") for _ in range(4)]
        unsent = [referral(db, d1, people["nurse"], "2026-05-13T07:00:00Z", "notified")
                  for _ in range(3)]
        set_clock(clock, "2026-05-14T07:35:00Z")
        assert wait_until(lambda: all(len(chases(db, r)) == 1 for r in sent + unsent))
        time.sleep(2.5)  # both processes have had several passes
        for r in sent + unsent:
            assert len(chases(db, r)) == 1
        assert {chases(db, r)[0][0] for r in sent} == {"hub"}
        assert {chases(db, r)[0][0] for r in unsent} == {"referral"}
    finally:
        stop_daemon_clean(d1)
        stop_daemon_clean(d2)

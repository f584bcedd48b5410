"""A social work team lead sees who holds what and reassigns (issue 16).

POST /api/v1/referrals/{id}/assign {"user_id"} with If-Match gives a notified referral,
held or not, to another social worker: a team lead's step only (403 for anyone else,
a social worker who leads no team included), If-Match checked (412 stale, 428 missing),
the new holder named by a field the error names (400 for an unknown, disabled or
ineligible user), audited with the before and after holders, and announced on the
stream as "referral.updated" so both people's queues change live.
GET /api/v1/social-workers lists who may be given one (id, name, display name) for the
lead's picker.
"""
import json
import time
import uuid

import pytest

from conftest import admit, ensure_ward, make_user
from sse import SSEClient

WARD = "RAS1"


def user_id(database, user):
    return str(database.sql(f"SELECT id FROM users WHERE name = '{user.name}'")[0][0])


@pytest.fixture(scope="module")
def people(database):
    ensure_ward(database, WARD)
    p = {
        "lead": make_user(database, "social_worker", team_lead=True),
        "sw": make_user(database, "social_worker"),
        "sw2": make_user(database, "social_worker"),
        "nurse": make_user(database, "nurse", wards=[WARD]),
        "nurse_lead": make_user(database, "nurse", wards=[WARD], team_lead=True),
        "bm": make_user(database, "bed_manager"),
        "gone": make_user(database, "social_worker"),
    }
    database.sql(f"UPDATE users SET display_name = 'Sam Holder' WHERE name = '{p['sw2'].name}'")
    database.sql(f"UPDATE users SET disabled_at = now() WHERE name = '{p['gone'].name}'")
    for k, u in p.items():
        u.id = user_id(database, u)
    return p


def notified(daemon, people):
    ep = admit(daemon, people["nurse"], WARD, pathway=2)
    return ep, daemon.get(f"/api/v1/referrals/{ep['referral']['id']}",
                          headers=people["lead"].auth).json()


def assign(daemon, who, ref, user, version=None, body=None):
    headers = dict(who.auth)
    if version is not False:
        headers["If-Match"] = f'"{ref["version"] if version is None else version}"'
    return daemon.post(f"/api/v1/referrals/{ref['id']}/assign",
                       json=body if body is not None else {"user_id": user}, headers=headers)


def test_a_lead_reassigns_a_held_referral_audited_and_live(daemon, database, people):
    ep, ref = notified(daemon, people)
    r = daemon.post(f"/api/v1/referrals/{ref['id']}/hold",
                    headers={**people["sw"].auth, "If-Match": f'"{ref["version"]}"'})
    assert r.status_code == 200, r.text
    ref = r.json()
    assert ref["held_by"] == people["sw"].id
    # both social workers watch the stream, as their queues do
    streams = [SSEClient(daemon.base, "/api/v1/stream", headers=people[k].auth)
               for k in ("sw", "sw2")]
    try:
        for s in streams:
            assert s.wait_connected()
        r = assign(daemon, people["lead"], ref, people["sw2"].id)
        assert r.status_code == 200, r.text
        got = r.json()
        assert got["held_by"] == people["sw2"].id and got["held_by_name"] == people["sw2"].name
        assert got["state"] == "notified" and got["version"] == ref["version"] + 1
        assert r.headers["ETag"] == f'"{got["version"]}"'
        for s in streams:
            assert s.wait_for(lambda ev: any(
                t == "referral.updated" and json.loads(d)["referral"]["id"] == ref["id"]
                and json.loads(d)["referral"]["held_by"] == people["sw2"].id
                for _, t, d in ev), timeout=5), s.events
    finally:
        for s in streams:
            s.close()
    # audited: who did it, the holder before and after
    rows = database.sql(
        "SELECT actor, before->>'held_by', after->>'held_by' FROM audit"
        f" WHERE entity = 'referral' AND entity_id = '{ref['id']}' AND action = 'referral.assign'")
    assert rows == [[people["lead"].name, people["sw"].id, people["sw2"].id]], rows
    # the new holder may release it (it is theirs now); the old one may not
    again = daemon.get(f"/api/v1/referrals/{ref['id']}", headers=people["sw"].auth).json()
    r = daemon.post(f"/api/v1/referrals/{ref['id']}/release",
                    headers={**people["sw"].auth, "If-Match": f'"{again["version"]}"'})
    assert r.status_code == 409, r.text
    r = daemon.post(f"/api/v1/referrals/{ref['id']}/release",
                    headers={**people["sw2"].auth, "If-Match": f'"{again["version"]}"'})
    assert r.status_code == 200, r.text


def test_a_lead_gives_an_unheld_referral_and_may_take_one_back(daemon, people):
    _, ref = notified(daemon, people)
    assert ref["held_by"] is None
    r = assign(daemon, people["lead"], ref, people["sw"].id)
    assert r.status_code == 200, r.text
    ref = r.json()
    assert ref["held_by"] == people["sw"].id
    # to the lead themself: a social worker too
    r = assign(daemon, people["lead"], ref, people["lead"].id)
    assert r.status_code == 200, r.text
    assert r.json()["held_by"] == people["lead"].id
    # the same holder again: nothing to change
    r = assign(daemon, people["lead"], r.json(), people["lead"].id)
    assert r.status_code == 409, r.text
    assert r.json()["error"]["field"] == "user_id"


def test_if_match_is_required_and_checked(daemon, people):
    _, ref = notified(daemon, people)
    r = assign(daemon, people["lead"], ref, people["sw"].id, version=False)
    assert r.status_code == 428, r.text
    r = assign(daemon, people["lead"], ref, people["sw"].id, version=ref["version"] + 5)
    assert r.status_code == 412, r.text
    after = daemon.get(f"/api/v1/referrals/{ref['id']}", headers=people["lead"].auth).json()
    assert after["held_by"] is None and after["version"] == ref["version"]


@pytest.mark.parametrize("who", ["sw", "nurse", "nurse_lead", "bm"])
def test_only_a_social_work_team_lead_reassigns(daemon, people, who):
    _, ref = notified(daemon, people)
    r = assign(daemon, people[who], ref, people["sw2"].id)
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "forbidden"
    r = daemon.get("/api/v1/social-workers", headers=people[who].auth)
    assert r.status_code == 403, r.text


@pytest.mark.parametrize("case", ["unknown", "disabled", "nurse", "bed_manager", "not_uuid",
                                  "missing", "extra"])
def test_the_new_holder_is_an_enabled_social_worker(daemon, people, case):
    _, ref = notified(daemon, people)
    body = {
        "unknown": {"user_id": str(uuid.uuid4())},
        "disabled": {"user_id": people["gone"].id},
        "nurse": {"user_id": people["nurse"].id},
        "bed_manager": {"user_id": people["bm"].id},
        "not_uuid": {"user_id": "Sam"},
        "missing": {},
        "extra": {"user_id": people["sw"].id, "note": "x"},
    }[case]
    r = assign(daemon, people["lead"], ref, None, body=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == ("note" if case == "extra" else "user_id"), r.text
    after = daemon.get(f"/api/v1/referrals/{ref['id']}", headers=people["lead"].auth).json()
    assert after["held_by"] is None and after["version"] == ref["version"]


def test_only_a_notified_referral_is_reassigned(daemon, people, database):
    ep, ref = notified(daemon, people)
    r = daemon.post(f"/api/v1/episodes/{ep['id']}/discharge", json={"pathway": 2},
                    headers=people["nurse"].auth)
    assert r.status_code == 200, r.text
    ref = daemon.get(f"/api/v1/referrals/{ref['id']}", headers=people["lead"].auth).json()
    assert ref["state"] == "withdrawn"
    r = assign(daemon, people["lead"], ref, people["sw"].id)
    assert r.status_code == 409, r.text
    assert r.json()["error"]["field"] == "state"
    r = assign(daemon, people["lead"], {"id": str(uuid.uuid4()), "version": 1}, people["sw"].id)
    assert r.status_code == 404, r.text


def test_the_picker_lists_the_enabled_social_workers(daemon, people):
    r = daemon.get("/api/v1/social-workers", headers=people["lead"].auth)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    by_id = {i["id"]: i for i in items}
    for k in ("lead", "sw", "sw2"):
        assert people[k].id in by_id, k
    assert people["gone"].id not in by_id
    assert people["nurse"].id not in by_id and people["bm"].id not in by_id
    assert by_id[people["sw2"].id]["display_name"] == "Sam Holder"
    assert by_id[people["sw2"].id]["name"] == people["sw2"].name
    assert by_id[people["lead"].id]["team_lead"] is True
    assert set(by_id[people["sw"].id]) == {"id", "name", "display_name", "team_lead"}

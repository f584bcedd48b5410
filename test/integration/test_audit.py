"""Reading the audit log: who may, the filters, paging, and that reading it is audited."""
import uuid

import pytest

from conftest import admit, make_user


@pytest.fixture(scope="module")
def people(database):
    return {
        "nurse": make_user(database, "nurse", wards=["AUD1"]),
        "bed_manager": make_user(database, "bed_manager"),
        "admin": make_user(database, "admin"),
        "ot": make_user(database, "ot"),
        "social_worker": make_user(database, "social_worker"),
        "physio": make_user(database, "physio"),
    }


@pytest.fixture(scope="module")
def episode(daemon, people):
    """An admission and one change to it, both by the nurse."""
    nurse = people["nurse"]
    e = admit(daemon, nurse, "AUD1", pathway=2)
    r = daemon.patch(f"/api/v1/episodes/{e['id']}", json={"expected_discharge_date": "2026-12-01"},
                     headers=nurse.auth)
    assert r.status_code == 200, r.text
    return e


def read(daemon, user, **params):
    r = daemon.get("/api/v1/audit", params=params, headers=user.auth)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("role", ["bed_manager", "admin"])
def test_episode_trail_in_order(daemon, people, episode, role):
    reader = people[role]
    nurse = people["nurse"]
    body = read(daemon, reader, episode=episode["id"])
    changes = [i for i in body["items"] if i["action"] != "audit.read"]
    # issue 15: the admission (pathway 2) also opens the day-one referral, audited with it
    assert [(i["actor"], i["action"], i["entity"]) for i in changes] == [
        (nurse.name, "episode.admit", "episode"),
        (nurse.name, "referral.open", "referral"),
        (nurse.name, "episode.update", "episode")]
    admit_row, _, update_row = changes
    assert admit_row["entity_id"] == episode["id"] and admit_row["episode_id"] == episode["id"]
    assert admit_row["before"] is None and admit_row["after"]["id"] == episode["id"]
    assert update_row["before"]["expected_discharge_date"] is None
    assert update_row["after"]["expected_discharge_date"] == "2026-12-01"
    ids = [i["id"] for i in body["items"]]
    assert ids == sorted(ids)
    assert set(body["items"][0]) == {"id", "at", "actor", "action", "entity", "entity_id",
                                     "episode_id", "before", "after"}
    assert body["limit"] == 100 and body["offset"] == 0


def test_reading_the_audit_is_audited(daemon, people, episode):
    bm, admin = people["bed_manager"], people["admin"]
    read(daemon, bm, episode=episode["id"])
    read(daemon, admin, episode=episode["id"], limit=5)
    items = read(daemon, admin, episode=episode["id"])["items"]
    reads = [i for i in items if i["action"] == "audit.read"]
    assert [(i["actor"], i["entity"]) for i in reads[-2:]] == [(bm.name, "audit"),
                                                                (admin.name, "audit")]
    assert reads[-1]["after"] == {"episode": episode["id"], "limit": 5, "offset": 0}
    assert reads[-1]["episode_id"] == episode["id"]
    # the read just made is not in its own page, but in the next one
    last = read(daemon, admin, episode=episode["id"])["items"][-1]
    assert last["action"] == "audit.read" and last["actor"] == admin.name
    assert last["after"] == {"episode": episode["id"], "limit": 100, "offset": 0}


@pytest.mark.parametrize("role", ["nurse", "ot", "social_worker", "physio"])
def test_clinical_roles_may_not_read_the_audit(daemon, people, episode, role):
    r = daemon.get("/api/v1/audit", params={"episode": episode["id"]}, headers=people[role].auth)
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "forbidden"


def test_unauthenticated_is_401(daemon, episode):
    assert daemon.get("/api/v1/audit", params={"episode": episode["id"]}).status_code == 401


@pytest.mark.parametrize("params,field", [
    ({}, "episode"),
    ({"limit": "10"}, "episode"),
    ({"episode": "not-a-uuid"}, "episode"),
    ({"entity_id": "12"}, "entity_id"),
    ({"actor": "x" * 65}, "actor"),
    ({"actor": "someone", "limit": "501"}, "limit"),
    ({"actor": "someone", "limit": "0"}, "limit"),
    ({"actor": "someone", "offset": "-1"}, "offset"),
])
def test_bad_filters_are_400(daemon, people, params, field):
    r = daemon.get("/api/v1/audit", params=params, headers=people["bed_manager"].auth)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == field


def test_missing_filter_message(daemon, people):
    r = daemon.get("/api/v1/audit", headers=people["admin"].auth)
    assert r.status_code == 400
    assert "at least one filter" in r.json()["error"]["message"]


def test_filters_by_actor_and_entity(daemon, database, people):
    nurse = make_user(database, "nurse", wards=["AUD1"])
    e1 = admit(daemon, nurse, "AUD1", pathway=0)
    e2 = admit(daemon, nurse, "AUD1", pathway=1)
    bm = people["bed_manager"]
    mine = read(daemon, bm, actor=nurse.name)["items"]
    # issue 15: pathway 1 also opens the day-one referral, audited with the admission
    assert [(i["action"], i["episode_id"]) for i in mine] == [("episode.admit", e1["id"]),
                                                              ("episode.admit", e2["id"]),
                                                              ("referral.open", e2["id"])]
    assert [i["episode_id"] for i in read(daemon, bm, entity_id=e2["id"])["items"]] == [e2["id"]]
    both = read(daemon, bm, actor=nurse.name, episode=e1["id"])["items"]
    assert [i["episode_id"] for i in both] == [e1["id"]]
    assert read(daemon, bm, actor="nobody-" + uuid.uuid4().hex)["items"] == []
    assert read(daemon, bm, episode=str(uuid.uuid4()))["items"] == []


def test_paging(daemon, database, people):
    nurse = make_user(database, "nurse", wards=["AUD1"])
    for _ in range(5):
        admit(daemon, nurse, "AUD1", pathway=0)
    bm = people["bed_manager"]
    full = read(daemon, bm, actor=nurse.name)["items"]
    assert len(full) == 5
    page1 = read(daemon, bm, actor=nurse.name, limit=2)
    page2 = read(daemon, bm, actor=nurse.name, limit=2, offset=2)
    page3 = read(daemon, bm, actor=nurse.name, limit=2, offset=4)
    assert (page2["limit"], page2["offset"]) == (2, 2)
    assert page1["items"] + page2["items"] + page3["items"] == full
    assert read(daemon, bm, actor=nurse.name, limit=500, offset=5)["items"] == []

"""Care Act assessments: the social-work queue, claiming (and its race), state moves, audit."""
import threading
import uuid

import pytest
import requests

from conftest import admit, make_user

WARD = "AS1"
OTHER_WARD = "AS2"


@pytest.fixture(scope="module")
def people(database):
    return {
        "nurse": make_user(database, "nurse", wards=[WARD]),
        "nurse_b": make_user(database, "nurse", wards=[OTHER_WARD]),
        "sw": make_user(database, "social_worker"),
        "sw2": make_user(database, "social_worker"),
        "ot": make_user(database, "ot"),
        "physio": make_user(database, "physio"),
        "bm": make_user(database, "bed_manager"),
        "admin": make_user(database, "admin"),
    }


def user_id(database, user):
    return database.sql(f"SELECT id FROM users WHERE name = '{user.name}'")[0][0]


def error(r):
    return r.json()["error"]


def new_assessment(daemon, people, ward=WARD, **over):
    """Admit a patient; returns (episode, assessment)."""
    ep = admit(daemon, people["nurse"] if ward == WARD else people["nurse_b"], ward, **over)
    return ep, ep["assessment"]


def claim(daemon, user, aid):
    return daemon.post(f"/api/v1/assessments/{aid}/claim", headers=user.auth)


def patch(daemon, user, aid, body, version=None):
    headers = dict(user.auth)
    if version is not None:
        headers["If-Match"] = str(version)
    return daemon.patch(f"/api/v1/assessments/{aid}", json=body, headers=headers)


def listing(daemon, user, **params):
    return daemon.get("/api/v1/assessments", params=params, headers=user.auth)


# ---- the queue ----------------------------------------------------------------------------

def test_admission_opens_an_unclaimed_assessment_in_the_queue(daemon, people):
    ep, a = new_assessment(daemon, people, family_name="Queueperson", given_name="Ada",
                           birth_date="1938-02-03", bed="7")
    assert a["state"] == "unclaimed" and a["claimed_by"] is None
    r = listing(daemon, people["sw"], state="unclaimed", ward=WARD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] >= 1
    item = body["items"][0]  # newest first
    assert item["id"] == a["id"] and item["episode_id"] == ep["id"]
    assert item["state"] == "unclaimed" and item["ward"] == WARD and item["bed"] == "7"
    assert item["patient"] == {"family_name": "Queueperson", "given_name": "Ada",
                               "nhs_number": ep["patient"]["nhs_number"],
                               "birth_date": "1938-02-03"}


def test_queue_items_carry_what_the_queue_triages_by(daemon, people):
    """Issue 16: each listed assessment carries its episode's state, admission, EDD, likely
    pathway, readiness and primary barrier, so the queue triages without a request per row;
    a discharge shows in the list (the queue leaves such cases out)."""
    n = people["nurse"]
    ep, a = new_assessment(daemon, people, admitted_at="2026-11-20T09:30:00Z", pathway=2,
                           expected_discharge_date="2026-11-27")

    def item():
        r = listing(daemon, people["sw"], ward=WARD, limit=500)
        assert r.status_code == 200, r.text
        return [i for i in r.json()["items"] if i["id"] == a["id"]][0]

    assert item()["episode"] == {
        "state": "admitted", "admitted_at": "2026-11-20T09:30:00Z",
        "expected_discharge_date": "2026-11-27", "pathway": 2, "ready_at": None,
        "discharged_at": None, "primary_barrier": None}
    r = daemon.patch(f"/api/v1/episodes/{ep['id']}", json={"ready_at": "2026-11-21T15:00:00Z"},
                     headers={**n.auth, "If-Match": f'"{ep["version"]}"'})
    assert r.status_code == 200, r.text
    r = daemon.post(f"/api/v1/episodes/{ep['id']}/barriers",
                    json={"reason": "transport", "owner": "Ward 1"}, headers=n.auth)
    assert r.status_code == 201, r.text
    e = item()["episode"]
    assert e["ready_at"] == "2026-11-21T15:00:00Z"
    assert e["primary_barrier"]["reason"] == "transport"
    assert e["primary_barrier"]["reason_label"] == "Awaiting transport"
    assert e["primary_barrier"]["owner"] == "Ward 1"
    r = daemon.post(f"/api/v1/episodes/{ep['id']}/discharge",
                    json={"destination": "usual_residence", "pathway": 1}, headers=n.auth)
    assert r.status_code == 200, r.text
    e = item()["episode"]
    assert e["state"] == "discharged" and e["discharged_at"] is not None
    # the list's access rules are unchanged: a nurse of another ward does not see it
    r = listing(daemon, people["nurse_b"], limit=500)
    assert r.status_code == 200 and a["id"] not in [i["id"] for i in r.json()["items"]]


def test_queue_is_newest_first_and_pages(daemon, people):
    made = [new_assessment(daemon, people, ward=OTHER_WARD)[1]["id"] for _ in range(3)]
    r = listing(daemon, people["sw"], ward=OTHER_WARD, state="unclaimed", limit=2)
    assert r.status_code == 200
    body = r.json()
    assert [i["id"] for i in body["items"]] == made[::-1][:2]
    assert body["total"] >= 3 and body["limit"] == 2 and body["offset"] == 0
    r = listing(daemon, people["sw"], ward=OTHER_WARD, state="unclaimed", limit=1, offset=2)
    assert [i["id"] for i in r.json()["items"]] == [made[0]]


def test_queue_filters_by_state_and_repeated_ward(daemon, people):
    _, a = new_assessment(daemon, people)
    _, b = new_assessment(daemon, people, ward=OTHER_WARD)
    assert claim(daemon, people["sw"], a["id"]).status_code == 200
    ids = {i["id"] for i in listing(daemon, people["sw"], state="unclaimed",
                                    ward=[WARD, OTHER_WARD], limit=500).json()["items"]}
    assert b["id"] in ids and a["id"] not in ids
    claimed = listing(daemon, people["sw"], state="claimed", ward=WARD, limit=500).json()
    assert a["id"] in {i["id"] for i in claimed["items"]}
    assert all(i["state"] == "claimed" for i in claimed["items"])
    every = {i["id"] for i in listing(daemon, people["sw"], ward=WARD, limit=500).json()["items"]}
    assert a["id"] in every


def test_queue_readers(daemon, people):
    _, a = new_assessment(daemon, people)
    for who in ("sw", "ot", "physio", "bm", "admin", "nurse"):
        r = listing(daemon, people[who], state="unclaimed", limit=500)
        assert r.status_code == 200, (who, r.text)
    # a nurse sees her own wards only, and may not ask for another's
    mine = {i["ward"] for i in listing(daemon, people["nurse_b"], limit=500).json()["items"]}
    assert mine <= {OTHER_WARD}
    assert a["id"] not in {i["id"] for i in listing(daemon, people["nurse_b"],
                                                     limit=500).json()["items"]}
    r = listing(daemon, people["nurse_b"], ward=WARD)
    assert r.status_code == 403
    assert listing(daemon, people["nurse"], ward=WARD).status_code == 200


@pytest.mark.parametrize("params,field", [
    ({"state": "done"}, "state"),
    ({"limit": "0"}, "limit"),
    ({"limit": "many"}, "limit"),
    ({"offset": "-1"}, "offset"),
    ({"ward": "no such ward!"}, "ward"),
])
def test_queue_rejects_bad_parameters(daemon, people, params, field):
    r = listing(daemon, people["sw"], **params)
    assert r.status_code == 400
    assert error(r)["field"] == field


def test_queue_read_is_audited(daemon, database, people):
    assert listing(daemon, people["physio"], state="unclaimed").status_code == 200
    rows = database.sql(f"SELECT action, entity, after->>'state' FROM audit"
                        f" WHERE actor = '{people['physio'].name}' ORDER BY id DESC LIMIT 1")
    assert rows == [["assessment.list", "assessment", "unclaimed"]]


def test_queue_needs_authentication(daemon):
    assert daemon.get("/api/v1/assessments").status_code == 401


# ---- claiming -----------------------------------------------------------------------------

def test_claim(daemon, database, people):
    _, a = new_assessment(daemon, people)
    r = claim(daemon, people["sw"], a["id"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "claimed" and body["claimed_by"] == user_id(database, people["sw"])
    assert body["claimed_by_name"] == people["sw"].name and body["claimed_at"] is not None
    assert body["version"] == a["version"] + 1
    assert r.headers["ETag"] == f'"{body["version"]}"'
    # a second claim, by someone else or by the holder, is a conflict naming the holder
    for who in ("sw2", "sw"):
        r = claim(daemon, people[who], a["id"])
        assert r.status_code == 409
        assert error(r)["message"] == f'assessment is already "claimed" by {people["sw"].name}'


@pytest.mark.parametrize("who", ["nurse", "ot", "physio", "bm", "admin"])
def test_only_social_workers_claim(daemon, database, people, who):
    _, a = new_assessment(daemon, people)
    r = claim(daemon, people[who], a["id"])
    assert r.status_code == 403
    assert error(r)["code"] == "forbidden"
    assert database.sql(f"SELECT state FROM assessments WHERE id = '{a['id']}'") == [["unclaimed"]]


@pytest.mark.parametrize("aid", [str(uuid.uuid4()), "not-a-uuid"])
def test_claim_unknown_or_malformed_is_404(daemon, people, aid):
    r = claim(daemon, people["sw"], aid)
    assert r.status_code == 404


def test_claim_race_has_exactly_one_winner(daemon, database, people):
    rounds = 20
    users = [people["sw"], people["sw2"]]
    assessments = [new_assessment(daemon, people)[1]["id"] for _ in range(rounds)]
    winners = {}
    for aid in assessments:
        barrier = threading.Barrier(2)
        results = [None, None]

        def go(i):
            s = requests.Session()
            barrier.wait()
            results[i] = s.post(f"{daemon.base}/api/v1/assessments/{aid}/claim",
                                headers=users[i].auth, timeout=30)

        threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 409], [r.text for r in results]
        winner = users[[r.status_code for r in results].index(200)]
        loser = results[[r.status_code for r in results].index(409)]
        assert loser.json()["error"]["message"] == \
            f'assessment is already "claimed" by {winner.name}'
        winners[aid] = winner.name
    # one holder each, one claim audited and one event each (read back in one go: psql is slow)
    ids = ",".join(f"'{aid}'" for aid in assessments)
    rows = database.sql(
        f"SELECT a.id, u.name, a.state, a.version,"
        f" (SELECT string_agg(actor, ',') FROM audit WHERE entity_id = a.id"
        f"  AND action = 'assessment.claim'),"
        f" (SELECT count(*) FROM events WHERE type = 'assessment.claimed'"
        f"  AND payload->>'id' = a.id::text)"
        f" FROM assessments a LEFT JOIN users u ON u.id = a.claimed_by WHERE a.id IN ({ids})")
    assert len(rows) == rounds
    for aid, name, state, version, audited, nevents in rows:
        assert [name, state, version, audited, nevents] == \
            [winners[aid], "claimed", "2", winners[aid], "1"], aid


# ---- state moves --------------------------------------------------------------------------

def claimed(daemon, people, who="sw"):
    _, a = new_assessment(daemon, people)
    r = claim(daemon, people[who], a["id"])
    assert r.status_code == 200, r.text
    return r.json()


def test_claimed_to_in_progress_to_completed(daemon, people):
    a = claimed(daemon, people)
    r = patch(daemon, people["sw"], a["id"], {"state": "in-progress", "note": "family call"},
              version=a["version"])
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "in-progress" and r.json()["note"] == "family call"
    assert r.headers["ETag"] == f'"{a["version"] + 1}"'
    r = patch(daemon, people["sw"], a["id"], {"state": "completed"},
              version=f'W/"{a["version"] + 1}"')
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "completed" and body["completed_at"] is not None
    assert body["claimed_by_name"] == people["sw"].name and body["note"] == "family call"


@pytest.mark.parametrize("path,to,frm", [
    ([], "completed", "unclaimed"),
    ([], "in-progress", "unclaimed"),
    ([], "on-hold", "unclaimed"),
    (["claim", "in-progress"], "unclaimed", "in-progress"),
    (["claim", "on-hold"], "completed", "on-hold"),
    (["claim", "completed"], "in-progress", "completed"),
    (["claim", "cancelled"], "unclaimed", "cancelled"),
])
def test_illegal_moves_are_409_naming_both(daemon, people, path, to, frm):
    _, a = new_assessment(daemon, people)
    for step in path:
        r = claim(daemon, people["sw"], a["id"]) if step == "claim" else \
            patch(daemon, people["sw"], a["id"], {"state": step})
        assert r.status_code == 200, r.text
    r = patch(daemon, people["sw"], a["id"], {"state": to})
    assert r.status_code == 409, r.text
    assert error(r)["field"] == "state"
    assert error(r)["message"] == f'assessment cannot move from "{frm}" to "{to}"'


def test_patch_cannot_claim(daemon, people):
    _, a = new_assessment(daemon, people)
    r = patch(daemon, people["sw"], a["id"], {"state": "claimed"})
    assert r.status_code == 400
    assert error(r)["field"] == "state" and "/claim" in error(r)["message"]


def test_release_by_patch_clears_the_claim(daemon, database, people):
    a = claimed(daemon, people)
    r = patch(daemon, people["sw"], a["id"], {"state": "unclaimed"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "unclaimed"
    assert r.json()["claimed_by"] is None and r.json()["claimed_at"] is None
    assert claim(daemon, people["sw2"], a["id"]).status_code == 200


def test_release_endpoint(daemon, people):
    a = claimed(daemon, people)
    r = daemon.post(f"/api/v1/assessments/{a['id']}/release", headers=people["sw2"].auth)
    assert r.status_code == 409
    assert people["sw"].name in error(r)["message"]
    r = daemon.post(f"/api/v1/assessments/{a['id']}/release", headers=people["sw"].auth)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "unclaimed" and r.json()["claimed_by"] is None
    r = daemon.post(f"/api/v1/assessments/{a['id']}/release", headers=people["sw"].auth)
    assert r.status_code == 409
    assert daemon.post(f"/api/v1/assessments/{a['id']}/release",
                       headers=people["nurse"].auth).status_code == 403


def test_note_only_and_clearing(daemon, people):
    a = claimed(daemon, people)
    r = patch(daemon, people["sw"], a["id"], {"note": "awaiting family"})
    assert r.status_code == 200 and r.json()["note"] == "awaiting family"
    assert r.json()["state"] == "claimed"
    r = patch(daemon, people["sw"], a["id"], {"note": None})
    assert r.status_code == 200 and r.json()["note"] is None


def test_stale_if_match_is_412(daemon, database, people):
    a = claimed(daemon, people)
    v = a["version"]
    assert patch(daemon, people["sw"], a["id"], {"state": "in-progress"}, v).status_code == 200
    r = patch(daemon, people["sw"], a["id"], {"state": "on-hold"}, v)
    assert r.status_code == 412
    assert f"version {v + 1}" in error(r)["message"]
    assert database.sql(f"SELECT state FROM assessments WHERE id = '{a['id']}'") == \
        [["in-progress"]]
    r = patch(daemon, people["sw"], a["id"], {"state": "on-hold"}, "x1")
    assert r.status_code == 400 and error(r)["field"] == "If-Match"


@pytest.mark.parametrize("body,field", [
    ({"state": "done"}, "state"),
    ({"state": None}, "state"),
    ({"claimed_by": None}, "claimed_by"),
    ({"colour": "red"}, "colour"),
    ({"note": 5}, "note"),
])
def test_patch_rejects_bad_fields(daemon, people, body, field):
    a = claimed(daemon, people)
    r = patch(daemon, people["sw"], a["id"], body)
    assert r.status_code == 400, r.text
    assert error(r)["field"] == field


@pytest.mark.parametrize("who", ["nurse", "ot", "bm"])
def test_only_social_workers_update(daemon, people, who):
    a = claimed(daemon, people)
    assert patch(daemon, people[who], a["id"], {"state": "in-progress"}).status_code == 403


@pytest.mark.parametrize("aid", [str(uuid.uuid4()), "zzz"])
def test_patch_unknown_or_malformed_is_404(daemon, people, aid):
    assert patch(daemon, people["sw"], aid, {"note": "x"}).status_code == 404


# ---- audit and events ---------------------------------------------------------------------

def test_audit_and_events(daemon, database, people):
    ep, a = new_assessment(daemon, people)
    assert claim(daemon, people["sw"], a["id"]).status_code == 200
    assert patch(daemon, people["sw2"], a["id"], {"state": "in-progress"}).status_code == 200
    assert patch(daemon, people["sw"], a["id"], {"state": "completed"}).status_code == 200
    rows = database.sql(f"SELECT actor, action, episode_id, before->>'state', after->>'state'"
                        f" FROM audit WHERE entity_id = '{a['id']}' ORDER BY id")
    assert rows == [
        [people["sw"].name, "assessment.claim", ep["id"], "unclaimed", "claimed"],
        [people["sw2"].name, "assessment.update", ep["id"], "claimed", "in-progress"],
        [people["sw"].name, "assessment.update", ep["id"], "in-progress", "completed"],
    ]
    events = database.sql(f"SELECT type, ward, discipline, episode_id, payload->>'state'"
                          f" FROM events WHERE payload->>'id' = '{a['id']}' ORDER BY id")
    assert events == [
        ["assessment.opened", WARD, "social_work", ep["id"], "unclaimed"],
        ["assessment.claimed", WARD, "social_work", ep["id"], "claimed"],
        ["assessment.updated", WARD, "social_work", ep["id"], "in-progress"],
        ["assessment.updated", WARD, "social_work", ep["id"], "completed"],
    ]


# ---- claimed_by ---------------------------------------------------------------------------

def test_queue_claimed_by_me_shows_only_my_claims(daemon, database, people):
    _, mine = new_assessment(daemon, people)
    _, theirs = new_assessment(daemon, people, ward=OTHER_WARD)
    _, nobodys = new_assessment(daemon, people)
    assert claim(daemon, people["sw"], mine["id"]).status_code == 200
    assert claim(daemon, people["sw2"], theirs["id"]).status_code == 200
    me = user_id(database, people["sw"])

    r = listing(daemon, people["sw"], claimed_by="me", limit=500)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert r.json()["total"] == len(items)
    ids = {i["id"] for i in items}
    assert mine["id"] in ids and theirs["id"] not in ids and nobodys["id"] not in ids
    assert all(i["claimed_by"] == me for i in items)

    # by id, and combined with the other filters
    ids = {i["id"] for i in listing(daemon, people["sw"], claimed_by=me,
                                    limit=500).json()["items"]}
    assert mine["id"] in ids and theirs["id"] not in ids
    sw2 = user_id(database, people["sw2"])
    items = listing(daemon, people["sw"], ward=OTHER_WARD, state="claimed", claimed_by=sw2,
                    limit=500).json()["items"]
    assert theirs["id"] in {i["id"] for i in items}
    assert all(i["claimed_by"] == sw2 and i["ward"] == OTHER_WARD for i in items)
    items = listing(daemon, people["sw"], ward=OTHER_WARD, claimed_by="me",
                    limit=500).json()["items"]
    assert theirs["id"] not in {i["id"] for i in items}
    assert all(i["claimed_by"] == me and i["ward"] == OTHER_WARD for i in items)

    # a released claim leaves the list
    assert daemon.post(f"/api/v1/assessments/{mine['id']}/release",
                       headers=people["sw"].auth).status_code == 200
    ids = {i["id"] for i in listing(daemon, people["sw"], claimed_by="me",
                                    limit=500).json()["items"]}
    assert mine["id"] not in ids


def test_queue_claimed_by_me_for_someone_without_claims_is_empty(daemon, people):
    r = listing(daemon, people["bm"], claimed_by="me")
    assert r.status_code == 200, r.text
    assert r.json()["items"] == [] and r.json()["total"] == 0


@pytest.mark.parametrize("value", ["someone", "ME", "", "1234"])
def test_queue_rejects_a_bad_claimed_by(daemon, people, value):
    r = listing(daemon, people["sw"], claimed_by=value)
    assert r.status_code == 400, r.text
    assert error(r)["field"] == "claimed_by"


def test_queue_claimed_by_is_audited(daemon, database, people):
    assert listing(daemon, people["sw2"], claimed_by="me").status_code == 200
    rows = database.sql(f"SELECT after->>'claimed_by' FROM audit"
                        f" WHERE actor = '{people['sw2'].name}' AND action = 'assessment.list'"
                        f" ORDER BY id DESC LIMIT 1")
    assert rows == [[user_id(database, people["sw2"])]]


def test_only_the_holder_may_unclaim_by_patch(daemon, database):
    from conftest import admit, make_user
    nurse = make_user(database, "nurse", wards=["UH1"])
    holder = make_user(database, "social_worker")
    other = make_user(database, "social_worker")
    ep = admit(daemon, nurse, "UH1")
    aid = ep["assessment"]["id"]
    assert daemon.post(f"/api/v1/assessments/{aid}/claim", headers=holder.auth).status_code == 200
    r = daemon.patch(f"/api/v1/assessments/{aid}", json={"state": "unclaimed"}, headers=other.auth)
    assert r.status_code == 409
    assert holder.name in r.json()["error"]["message"]
    r = daemon.patch(f"/api/v1/assessments/{aid}", json={"state": "unclaimed"}, headers=holder.auth)
    assert r.status_code == 200 and r.json()["state"] == "unclaimed"

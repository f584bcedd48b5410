"""Issue 16, the API parts of "sessions that never lose work", "say what staff say" and the
team lead: what /api/v1/me tells a page (display name, team lead, the session's expiry and
idle timeout), where a duplicate patient already is (only to a caller who may see that
ward).  (The branch's assessment reassign was dropped: issue 15 retired the assessments.)"""
import pytest
import requests

from conftest import admission_body, admit, make_user, nhs_number

WARD = "SS1"
OTHER_WARD = "SS2"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def people(database):
    return {
        "nurse": make_user(database, "nurse", wards=[WARD], password=PASSWORD),
        "nurse_b": make_user(database, "nurse", wards=[OTHER_WARD]),
        "lead": make_user(database, "social_worker", team_lead=True),
        "sw": make_user(database, "social_worker"),
        "sw2": make_user(database, "social_worker"),
        "bm": make_user(database, "bed_manager"),
    }


def test_me_names_the_user_and_the_session(daemon, database, people):
    n = people["nurse"]
    database.sql(f"UPDATE users SET display_name = 'Owen Price' WHERE name = '{n.name}'")
    s = requests.Session()
    r = s.post(daemon.base + "/api/v1/session", json={"name": n.name, "password": PASSWORD},
               headers={"Origin": daemon.base})
    assert r.status_code in (200, 201), r.text
    me = s.get(daemon.base + "/api/v1/me").json()
    assert me["display_name"] == "Owen Price"
    assert me["team_lead"] is False
    sess = me["session"]
    assert sess["kind"] == "session" and sess["signed_in_with"] == "password"
    assert sess["expires_at"].endswith("Z")
    assert sess["idle_timeout"] == 30 * 60  # the default session_idle_timeout
    assert 0 < sess["idle_margin"] <= 120
    # an API token: its expiry, no idle timeout
    me = daemon.get("/api/v1/me", headers=people["lead"].auth).json()
    assert me["team_lead"] is True
    assert me["session"]["kind"] == "api" and me["session"]["signed_in_with"] == "token"
    assert me["session"]["idle_timeout"] is None


def test_duplicate_patient_says_where_the_patient_is(daemon, database, people):
    nhs = nhs_number()
    ep = admit(daemon, people["nurse"], WARD, nhs_number=nhs, bed="7B")
    r = daemon.post("/api/v1/admissions", json=admission_body(WARD, nhs_number=nhs),
                    headers=people["nurse"].auth)
    assert r.status_code == 409, r.text
    e = r.json()["error"]
    assert "open episode" in e["message"] and f"ward {WARD}" in e["message"] and "bed 7B" in e["message"]
    assert e["field"] == "nhs_number"
    assert e["admitted"] == {"episode_id": ep["id"], "ward": WARD, "bed": "7B"}
    n = database.sql(f"SELECT count(*) FROM audit WHERE action = 'episode.read' "
                     f"AND entity_id = '{ep['id']}'")
    assert int(n[0][0]) >= 1  # telling where the patient is, is a read


def test_duplicate_patient_on_a_ward_the_caller_cannot_see_says_no_more(daemon, people):
    nhs = nhs_number()
    admit(daemon, people["nurse"], WARD, nhs_number=nhs, bed="3")
    r = daemon.post("/api/v1/admissions", json=admission_body(OTHER_WARD, nhs_number=nhs),
                    headers=people["nurse_b"].auth)
    assert r.status_code == 409, r.text
    e = r.json()["error"]
    assert "open episode" in e["message"]
    assert "admitted" not in e and WARD not in r.text and "bed 3" not in r.text


def uid(database, user):
    return database.sql(f"SELECT id FROM users WHERE name = '{user.name}'")[0][0]

"""Arrays and audit details reach PostgreSQL as JSON built by cJSON, not as hand-built text.

PostgreSQL array literals ("{A,B}") and audit detail JSON used to be put together by string
concatenation; a value with a quote, comma, brace or backslash would have changed their
meaning.  Arrays now travel as one JSON parameter turned into text[] by cb_text_array, and
audit details are cJSON objects.
"""
import json

import pytest

from conftest import admit, make_user

AWKWARD = ['plain', 'a"b', 'c,d', '{e}', 'f\\g', '\\"}', ' sp ace ', 'NULL', '', '{}']


def test_cb_text_array_round_trips_awkward_values(database):
    doc = json.dumps(AWKWARD).replace("'", "''")
    rows = database.sql(f"SELECT x, n FROM unnest(cb_text_array('{doc}'::jsonb))"
                        " WITH ORDINALITY AS t(x, n) ORDER BY n")
    assert [r[0] for r in rows] == AWKWARD
    assert database.sql("SELECT cb_text_array(NULL) IS NULL,"
                        " cardinality(cb_text_array('[]'))") == [["t", "0"]]


@pytest.fixture(scope="module")
def nurse(database):
    return make_user(database, "nurse", wards=["TA1", "TA2"])


def last_detail(database, user, action):
    rows = database.sql(f"SELECT after::text FROM audit WHERE actor = '{user.name}'"
                        f" AND action = '{action}' ORDER BY id DESC LIMIT 1")
    assert len(rows) == 1
    return json.loads(rows[0][0])


def test_list_audit_details_carry_ward_lists_as_json(daemon, database, nurse):
    """What a list read asked for is recorded as a JSON array, one element per ward."""
    admit(daemon, nurse, "TA2")
    r = daemon.get("/api/v1/episodes", headers=nurse.auth)
    assert r.status_code == 200, r.text
    assert {e["ward"] for e in r.json()["items"]} == {"TA2"}
    assert last_detail(database, nurse, "episode.list")["wards"] == ["TA1", "TA2"]
    r = daemon.get("/api/v1/episodes?ward=TA2&ward=TA1", headers=nurse.auth)
    assert r.status_code == 200, r.text
    assert last_detail(database, nurse, "episode.list")["wards"] == ["TA2", "TA1"]
    # issue 15: the referral list replaced the assessment list (now 410)
    r = daemon.get("/api/v1/referrals", headers=nurse.auth)
    assert r.status_code == 200, r.text
    assert last_detail(database, nurse, "referral.list")["wards"] == ["TA1", "TA2"]


def test_task_list_filters_by_json_arrays(daemon, database, nurse):
    ep = admit(daemon, nurse, "TA1", pathway=2)
    r = daemon.get(f"/api/v1/tasks?ward=TA1&discipline=ot&discipline=physio&episode={ep['id']}",
                   headers=nurse.auth)
    assert r.status_code == 200, r.text
    assert {t["discipline"] for t in r.json()["items"]} == {"ot", "physio"}
    detail = last_detail(database, nurse, "task.list")
    assert detail["disciplines"] == ["ot", "physio"]

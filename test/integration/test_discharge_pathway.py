"""The actual discharge pathway (0-3), recorded at discharge (issue 14).

The episode's `pathway` is the likely one, set at admission; `discharge_pathway`
is the one the patient actually left on, required of a person recording a
discharge, stored, returned, audited and announced, cleared by a reopen.  HL7
A03 may omit it (not recorded, NULL): see test_hl7.py.
"""
import json
import subprocess

import pytest

from conftest import admit, make_user
from sse import SSEClient


@pytest.fixture(scope="module")
def people(database):
    return {
        "nurse": make_user(database, "nurse", wards=["DP1"]),
        "bm": make_user(database, "bed_manager"),
    }


def discharge(daemon, user, ep, body):
    return daemon.post(f"/api/v1/episodes/{ep['id']}/discharge", json=body, headers=user.auth)


@pytest.mark.parametrize("body", [
    {},
    {"destination": "usual_residence"},
    {"pathway": None},
    {"pathway": 4},
    {"pathway": -1},
    {"pathway": 1.5},
    {"pathway": "1"},
    {"pathway": True},
])
def test_discharge_without_a_valid_pathway_is_refused(daemon, database, people, body):
    n = people["nurse"]
    ep = admit(daemon, n, "DP1")
    r = discharge(daemon, n, ep, body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == "pathway", r.text
    assert '"pathway"' in r.json()["error"]["message"]
    # nothing was written
    assert database.sql(f"SELECT state, discharge_pathway IS NULL, version FROM episodes"
                        f" WHERE id = '{ep['id']}'") == [["admitted", "t", str(ep["version"])]]
    assert database.sql(f"SELECT count(*) FROM audit WHERE entity_id = '{ep['id']}'"
                        f" AND action = 'episode.discharge'") == [["0"]]


def test_pathway_stored_returned_audited_and_announced(daemon, database, people):
    n = people["nurse"]
    ep = admit(daemon, n, "DP1", pathway=1)
    assert ep["discharge_pathway"] is None  # an inpatient has none
    stream = SSEClient(daemon.base, f"/api/v1/stream?episode={ep['id']}&types=episode.discharged",
                       headers=n.auth)
    try:
        assert stream.wait_connected(), "stream did not open"
        r = discharge(daemon, n, ep, {"pathway": 3, "destination": "care_home",
                                      "destination_note": "Nursing home"})
        assert r.status_code == 200, r.text
        body = r.json()
        # the actual pathway beside the likely one, which stays as planned
        assert body["state"] == "discharged"
        assert body["discharge_pathway"] == 3 and body["pathway"] == 1
        got = daemon.get(f"/api/v1/episodes/{ep['id']}", headers=n.auth).json()
        assert got["discharge_pathway"] == 3 and got["pathway"] == 1
        listed = [e for e in daemon.get("/api/v1/episodes?ward=DP1&state=discharged",
                                        headers=n.auth).json()["items"] if e["id"] == ep["id"]]
        assert listed[0]["discharge_pathway"] == 3
        assert database.sql(f"SELECT pathway, discharge_pathway FROM episodes"
                            f" WHERE id = '{ep['id']}'") == [["1", "3"]]
        # audited: the image before has none, the one after has it
        assert database.sql(
            f"SELECT actor, before->'discharge_pathway', after->'discharge_pathway'"
            f" FROM audit WHERE entity_id = '{ep['id']}' AND action = 'episode.discharge'") == \
            [[n.name, "null", "3"]]
        # announced: the outbox row (which webhooks deliver) and the live stream
        assert database.sql(f"SELECT payload->>'discharge_pathway' FROM events"
                            f" WHERE episode_id = '{ep['id']}' AND type = 'episode.discharged'") \
            == [["3"]]
        assert stream.wait_for(lambda ev: any(t == "episode.discharged" for _, t, _ in ev)), \
            stream.events
        data = json.loads([d for _, t, d in stream.events if t == "episode.discharged"][0])
        assert data["id"] == ep["id"] and data["discharge_pathway"] == 3
        assert data["pathway"] == 1
    finally:
        stream.close()


@pytest.mark.parametrize("pathway", [0, 1, 2, 3])
def test_every_pathway_is_accepted(daemon, people, pathway):
    n = people["nurse"]
    ep = admit(daemon, n, "DP1")
    r = discharge(daemon, n, ep, {"pathway": pathway})
    assert r.status_code == 200, r.text
    assert r.json()["discharge_pathway"] == pathway


def test_reopen_clears_the_actual_pathway(daemon, database, people):
    n = people["nurse"]
    ep = admit(daemon, n, "DP1", pathway=2)
    r = discharge(daemon, n, ep, {"pathway": 2})
    assert r.status_code == 200 and r.json()["discharge_pathway"] == 2, r.text
    r = daemon.post(f"/api/v1/episodes/{ep['id']}/reopen", json={}, headers=n.auth)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "admitted" and r.json()["discharge_pathway"] is None
    assert r.json()["pathway"] == 2  # the likely pathway is untouched
    assert database.sql(f"SELECT discharge_pathway IS NULL FROM episodes"
                        f" WHERE id = '{ep['id']}'") == [["t"]]
    assert database.sql(
        f"SELECT before->'discharge_pathway', after->'discharge_pathway' FROM audit"
        f" WHERE entity_id = '{ep['id']}' AND action = 'episode.reopen'") == [["2", "null"]]
    # discharged again on another pathway: the new one is recorded
    r = discharge(daemon, n, ep, {"pathway": 0})
    assert r.status_code == 200 and r.json()["discharge_pathway"] == 0, r.text


def test_the_column_keeps_its_rules(daemon, database, people):
    """Migration 0024: 0..3 or NULL (not recorded), and only on a discharged episode."""
    n = people["nurse"]
    ep = admit(daemon, n, "DP1")
    with pytest.raises(subprocess.CalledProcessError) as e:
        database.sql(f"UPDATE episodes SET discharge_pathway = 1 WHERE id = '{ep['id']}'")
    assert "episodes_discharge_pathway_discharged" in e.value.stderr
    assert discharge(daemon, n, ep, {"pathway": 1}).status_code == 200
    with pytest.raises(subprocess.CalledProcessError) as e:
        database.sql(f"UPDATE episodes SET discharge_pathway = 4 WHERE id = '{ep['id']}'")
    assert "episodes_discharge_pathway_range" in e.value.stderr
    # NULL is allowed on a discharged episode: "not recorded" (HL7 A03, older discharges)
    database.sql(f"UPDATE episodes SET discharge_pathway = NULL WHERE id = '{ep['id']}'")

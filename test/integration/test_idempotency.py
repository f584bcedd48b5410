"""Admission retries (external_id): answered only to their own caller, re-read, audited, pruned.

A repeated external_id used to return the stored first reply (the whole patient) to anyone who
sent it, unaudited; HL7 uses PAS visit numbers, which are guessable.  Keys are now scoped by
who sent them, compared by a hash of the admission, and a replay re-reads the episode after
an access check and audits the read.
"""
import os
import time
import uuid

import pytest

from conftest import (Daemon, admission_body, ensure_ward, make_user, nhs_number,
                      start_daemon, stop_daemon_clean)
from hl7_util import Mllp, adt, frame, msa


@pytest.fixture(scope="module")
def people(database):
    return {
        "nurse_a": make_user(database, "nurse", wards=["IA1"]),
        "nurse_a2": make_user(database, "nurse", wards=["IA1"]),
        "nurse_b": make_user(database, "nurse", wards=["IB2"]),
        "admin": make_user(database, "admin"),
    }


def new_key():
    return f"PAS-{uuid.uuid4().hex[:12]}"


def assert_no_patient(r, body, episode_id=None):
    """Nothing of the patient in a refusal: identifiers, names, the episode."""
    for secret in (body["nhs_number"], body["family_name"], body["given_name"],
                   body["birth_date"]):
        assert secret not in r.text, r.text
    if episode_id:
        assert episode_id not in r.text, r.text
    assert "Idempotent-Replayed" not in r.headers


def test_other_wards_nurse_cannot_replay_an_external_id(daemon, database, people):
    """Ward B's nurse sending ward A's external_id gets no patient data, whatever she sends."""
    key = new_key()
    body = admission_body("IA1", external_id=key, family_name="Wardaperson",
                          given_name="Secretia")
    first = daemon.post("/api/v1/admissions", json=body, headers=people["nurse_a"].auth)
    assert first.status_code == 201, first.text
    eid = first.json()["id"]
    # the very same body: her role may not admit to ward A
    r = daemon.post("/api/v1/admissions", json=body, headers=people["nurse_b"].auth)
    assert r.status_code == 403, r.text
    assert_no_patient(r, body, eid)
    # the same key on an admission to her own ward (this used to answer ward A's patient)
    for other in (dict(body, ward="IB2"), admission_body("IB2", external_id=key)):
        r = daemon.post("/api/v1/admissions", json=other, headers=people["nurse_b"].auth)
        assert r.status_code == 409, r.text
        assert r.json()["error"]["message"] == \
            '"external_id" was already used for another admission'
        assert_no_patient(r, body, eid)
    # keys are the caller's own: a colleague on the same ward does not replay it either
    r = daemon.post("/api/v1/admissions", json=body, headers=people["nurse_a2"].auth)
    assert r.status_code == 409, r.text
    assert_no_patient(r, body, eid)
    assert database.sql(f"SELECT count(*) FROM episodes WHERE external_id = '{key}'") == [["1"]]
    # and nobody else read it
    assert database.sql(f"SELECT count(*) FROM audit WHERE entity_id = '{eid}'"
                        " AND action = 'episode.read'") == [["0"]]


def test_same_key_with_a_different_body_is_409(daemon, database, people):
    key = new_key()
    body = admission_body("IA1", external_id=key)
    first = daemon.post("/api/v1/admissions", json=body, headers=people["nurse_a"].auth)
    assert first.status_code == 201, first.text
    for change in ({"bed": "7"}, {"pathway": 3}, {"nhs_number": nhs_number()},
                   {"admitted_at": "2026-11-20T09:31:00Z"}):
        r = daemon.post("/api/v1/admissions", json=dict(body, **change),
                        headers=people["nurse_a"].auth)
        assert r.status_code == 409, (change, r.text)
        assert r.json()["error"]["field"] == "external_id"
        assert_no_patient(r, body, first.json()["id"])
    assert database.sql(f"SELECT count(*) FROM episodes WHERE external_id = '{key}'") == [["1"]]


def test_replay_answers_the_current_episode_and_audits_the_read(daemon, database, people):
    """Same caller, same admission (key order and spacing aside): the episode as it is now."""
    key = new_key()
    body = admission_body("IA1", external_id=key)
    nurse = people["nurse_a"]
    first = daemon.post("/api/v1/admissions", json=body, headers=nurse.auth)
    assert first.status_code == 201, first.text
    eid = first.json()["id"]
    r = daemon.patch(f"/api/v1/episodes/{eid}", json={"bed": "12"}, headers=nurse.auth)
    assert r.status_code == 200, r.text
    reordered = dict(reversed(list(body.items())))
    nhs = body["nhs_number"]
    reordered["nhs_number"] = f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"  # the same number
    again = daemon.post("/api/v1/admissions", json=reordered, headers=nurse.auth)
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == eid
    assert again.json()["bed"] == "12"  # re-read, not the stored reply of admission time
    assert again.json()["version"] == r.json()["version"]
    assert again.headers["ETag"] == r.headers["ETag"]
    rows = database.sql("SELECT a.actor, a.after->>'idempotent_replay' FROM audit a"
                        f" WHERE a.entity_id = '{eid}' AND a.action = 'episode.read'")
    assert rows == [[nurse.name, "admission"]]
    assert database.sql(f"SELECT count(*) FROM episodes WHERE external_id = '{key}'") == [["1"]]


def test_replay_is_refused_once_the_caller_may_not_read_the_episode(daemon, database, people):
    """Transferred to a ward the admitting nurse does not have: no replay for her."""
    ensure_ward(database, "IB2")
    key = new_key()
    body = admission_body("IA1", external_id=key)
    nurse = make_user(database, "nurse", wards=["IA1"])
    first = daemon.post("/api/v1/admissions", json=body, headers=nurse.auth)
    assert first.status_code == 201, first.text
    eid = first.json()["id"]
    both = make_user(database, "nurse", wards=["IA1", "IB2"])
    r = daemon.post(f"/api/v1/episodes/{eid}/transfer", json={"ward": "IB2", "bed": "1"},
                    headers=both.auth)
    assert r.status_code == 200, r.text
    r = daemon.post("/api/v1/admissions", json=body, headers=nurse.auth)
    assert r.status_code == 409, r.text
    assert_no_patient(r, body, eid)


def test_keys_are_pruned_after_48_hours(daemon, database, people):
    """Back-dated rows go at the next pruning round (one runs soon after start); newer stay.
    A key past 48 hours is not honoured even before it is pruned."""
    old_key, new_key_ = new_key(), new_key()
    old_body = admission_body("IA1", external_id=old_key)
    for b in (old_body, admission_body("IA1", external_id=new_key_)):
        r = daemon.post("/api/v1/admissions", json=b, headers=people["nurse_a"].auth)
        assert r.status_code == 201, r.text
    database.sql("UPDATE idempotency SET created_at = now() - interval '49 hours'"
                 f" WHERE key = 'admission:{old_key}'")
    database.sql("UPDATE idempotency SET created_at = now() - interval '47 hours'"
                 f" WHERE key = 'admission:{new_key_}'")
    r = daemon.post("/api/v1/admissions", json=old_body, headers=people["nurse_a"].auth)
    assert r.status_code == 409, r.text
    assert_no_patient(r, old_body)
    d = start_daemon(database.url)
    try:
        deadline = time.monotonic() + 20
        while database.sql(f"SELECT count(*) FROM idempotency WHERE key = 'admission:{old_key}'") \
                != [["0"]] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert database.sql(f"SELECT count(*) FROM idempotency"
                            f" WHERE key = 'admission:{old_key}'") == [["0"]]
        assert database.sql(f"SELECT count(*) FROM idempotency"
                            f" WHERE key = 'admission:{new_key_}'") == [["1"]]
    finally:
        stop_daemon_clean(d)


def test_stored_keys_hold_no_patient_data(daemon, database, people):
    key = new_key()
    body = admission_body("IA1", external_id=key, family_name="Storedperson")
    r = daemon.post("/api/v1/admissions", json=body, headers=people["nurse_a"].auth)
    assert r.status_code == 201, r.text
    row = database.sql(f"SELECT row_to_json(i)::text FROM idempotency i"
                       f" WHERE key = 'admission:{key}'")
    assert len(row) == 1
    for secret in (body["nhs_number"], "Storedperson", body["given_name"], body["birth_date"]):
        assert secret not in row[0][0]


# ---- HL7: visit numbers are guessable ------------------------------------------------

def test_nurse_cannot_read_an_hl7_admission_by_its_visit_number(cluster, database, people):
    d = Daemon(database.url)
    d.extra_env["CAREBRIDGE_MLLP_PORT_FILE"] = os.path.join(d.tmp.name, "mllp_port")
    d.start()
    try:
        with open(d.extra_env["CAREBRIDGE_MLLP_PORT_FILE"]) as f:
            mllp_port = int(f.read().strip())
        r = d.put("/api/v1/hl7/ward-map/PAS-IA1", json={"ward": "IA1"},
                  headers=people["admin"].auth)
        assert r.status_code == 200, r.text
        visit, nhs = f"V{uuid.uuid4().hex[:12]}", nhs_number()
        c = Mllp(mllp_port)
        c.sock.sendall(frame(adt("A01", visit, nhs, ward="PAS-IA1", family="Hlsevenperson")))
        assert msa(c.ack())[0] == "AA"
        c.close()
        eid = database.sql(f"SELECT id FROM episodes WHERE external_id = '{visit}'")[0][0]
        body = admission_body("IB2", external_id=visit)
        r = d.post("/api/v1/admissions", json=body, headers=people["nurse_b"].auth)
        assert r.status_code == 409, r.text
        for secret in (nhs, "Hlsevenperson", eid):
            assert secret not in r.text
    finally:
        stop_daemon_clean(d)

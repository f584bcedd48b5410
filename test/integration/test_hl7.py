"""HL7 v2 ADT over MLLP (issue 7): a real TCP client against `carebridge serve`.

Every event type end to end (A01 admits with the pathway's tasks (the
day-one referral opens once a likely pathway is set), A02 moves, A03 discharges, A08 updates, A11 cancels, A13 reopens), the
ACK codes, duplicate control ids, frames split across writes, 100 messages
pipelined on one connection, garbage bytes, the allow-list, the admin API
(messages, ward map), and Debian's `mllp_send` as a client nobody here wrote.
The module has a database of its own, so visit numbers may be fixed.
"""
import os
import pathlib
import re
import socket
import subprocess
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import (TOP, Daemon, Database, ensure_ward, make_user, nhs_number,
                      stop_daemon_clean)
from hl7_util import SB, Mllp, adt, frame, hl7_now, msa

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- fixtures -----------------------------------------------------------------

@pytest.fixture(scope="module")
def hl7db(cluster):
    db = Database(cluster, f"cbtest_{os.getpid()}_hl7")
    db.migrate()
    return db


def start_hl7_daemon(db, env=None):
    d = Daemon(db.url, env=dict(env or {}))
    d.extra_env["CAREBRIDGE_MLLP_PORT_FILE"] = os.path.join(d.tmp.name, "mllp_port")
    d.start()
    with open(d.extra_env["CAREBRIDGE_MLLP_PORT_FILE"]) as f:
        d.mllp_port = int(f.read().strip())
    return d


@pytest.fixture(scope="module")
def daemon(hl7db):
    d = start_hl7_daemon(hl7db)
    yield d
    stop_daemon_clean(d)


@pytest.fixture(scope="module")
def admin(hl7db):
    return make_user(hl7db, "admin")


@pytest.fixture(scope="module")
def wards(daemon, hl7db, admin):
    """Wards HA and HB, reached from the PAS codes PAS-A / PAS-B (and the mllp_send file's)."""
    ensure_ward(hl7db, "HA")
    ensure_ward(hl7db, "HB")
    for pas, ward in (("PAS-A", "HA"), ("PAS-B", "HB"), ("MS-PAS-A", "HA"), ("MS-PAS-B", "HB")):
        r = daemon.put(f"/api/v1/hl7/ward-map/{pas}", json={"ward": ward}, headers=admin.auth)
        assert r.status_code == 200, r.text
    return ("HA", "HB")


def episode_of(hl7db, visit):
    rows = hl7db.sql(f"SELECT id FROM episodes WHERE external_id = '{visit}'")
    return rows[0][0] if rows else None


def get_episode(daemon, admin, visit, hl7db):
    eid = episode_of(hl7db, visit)
    assert eid is not None, f"no episode for visit {visit}"
    r = daemon.get(f"/api/v1/episodes/{eid}", headers=admin.auth)
    assert r.status_code == 200, r.text
    return r.json()


def new_visit():
    return f"V{uuid.uuid4().hex[:12]}"


# ---- the admin API ---------------------------------------------------------------

def test_ward_map_api(daemon, hl7db, admin, wards):
    r = daemon.get("/api/v1/hl7/ward-map", headers=admin.auth)
    assert r.status_code == 200
    assert {"pas_code": "PAS-A", "ward": "HA"}.items() <= \
        next(i for i in r.json()["items"] if i["pas_code"] == "PAS-A").items()
    assert daemon.get("/api/v1/hl7/ward-map/PAS-B", headers=admin.auth).json()["ward"] == "HB"
    r = daemon.put("/api/v1/hl7/ward-map/TMP-1", json={"ward": "NOPE"}, headers=admin.auth)
    assert r.status_code == 400 and "does not exist" in r.text
    r = daemon.put("/api/v1/hl7/ward-map/TMP-1", json={"ward": "HA", "x": 1}, headers=admin.auth)
    assert r.status_code == 400
    assert daemon.put("/api/v1/hl7/ward-map/TMP-1", json={"ward": "HA"},
                      headers=admin.auth).status_code == 200
    assert daemon.delete("/api/v1/hl7/ward-map/TMP-1", headers=admin.auth).status_code == 204
    assert daemon.delete("/api/v1/hl7/ward-map/TMP-1", headers=admin.auth).status_code == 404
    assert daemon.get("/api/v1/hl7/ward-map/TMP-1", headers=admin.auth).status_code == 404
    nurse = make_user(hl7db, "nurse", wards=["HA"])
    assert daemon.put("/api/v1/hl7/ward-map/TMP-2", json={"ward": "HA"},
                      headers=nurse.auth).status_code == 403
    assert daemon.get("/api/v1/hl7/messages", headers=nurse.auth).status_code == 403
    rows = hl7db.sql("SELECT count(*) FROM audit WHERE action = 'hl7.ward_map.put'")
    assert int(rows[0][0]) >= 5


def test_ward_pas_code_maps_too(daemon, hl7db, admin, wards):
    """wards.pas_code is the other way to map a PAS location (the HL7 map wins)."""
    ensure_ward(hl7db, "HC")
    hl7db.sql("UPDATE wards SET pas_code = 'PAS-C' WHERE code = 'HC'")
    visit = new_visit()
    c = Mllp(daemon.mllp_port)
    assert msa(c.call(adt("A01", visit, nhs_number(), ward="PAS-C")))[0] == "AA"
    c.close()
    assert get_episode(daemon, admin, visit, hl7db)["ward"] == "HC"


# ---- every event type --------------------------------------------------------------

def test_a01_admits_like_the_api(daemon, hl7db, admin, wards):
    visit, nhs = new_visit(), nhs_number()
    c = Mllp(daemon.mllp_port)
    ack = c.call(adt("A01", visit, nhs, bed="12", admit="202611230815",
                     family="O'Brien", given="Siobhan"))
    code, ctl, _ = msa(ack)
    assert code == "AA", ack
    assert ack.startswith("MSH|^~\\&|CAREBRIDGE|RVJ|PAS|RVJ|"), ack
    assert "|ACK^A01^ACK|" in ack
    ep = get_episode(daemon, admin, visit, hl7db)
    assert ep["state"] == "admitted" and ep["ward"] == "HA" and ep["bed"] == "12"
    assert ep["external_id"] == visit
    assert ep["patient"]["family_name"] == "O'Brien"
    # 08:15 London time in November is 08:15 UTC
    assert ep["admitted_at"].startswith("2026-11-23T08:15:00")
    # issue 15: this A01 carries no likely pathway (no hl7_pathway_field, ZCB-1), so, like the
    # API twin below with the same (unknown) pathway, no day-one referral yet (the pathway, once set, opens it:
    # test_referrals.py); and no Care Act assessment any more
    assert ep["referral"] is None and ep["assessment"] is None
    # the same tasks as an admission through the API with the same (unknown) pathway
    body = {"nhs_number": nhs_number(), "family_name": "Api", "given_name": "Twin",
            "birth_date": "1941-05-06", "ward": "HA", "admitted_at": "2026-11-23T08:15:00Z"}
    nurse = make_user(hl7db, "nurse", wards=["HA"])
    r = daemon.post("/api/v1/admissions", json=body, headers=nurse.auth)
    assert r.status_code == 201, r.text
    api_tasks = sorted((t["discipline"], t["title"], t["due_at"]) for t in r.json()["tasks"])
    hl7_tasks = sorted((t["discipline"], t["title"], t["due_at"]) for t in ep["tasks"])
    assert hl7_tasks == api_tasks and hl7_tasks
    assert r.json()["referral"] is None
    rows = hl7db.sql(f"SELECT actor, actor_id IS NULL FROM audit WHERE episode_id = '{ep['id']}'"
                     " AND action = 'episode.admit'")
    assert rows == [["hl7", "t"]]
    rows = hl7db.sql(f"SELECT type FROM events WHERE episode_id = '{ep['id']}' ORDER BY id")
    assert ["episode.admitted"] == [r[0] for r in rows][:1]
    assert "assessment.opened" not in [r[0] for r in rows]
    c.close()


def test_transfer_update_discharge_reopen_cancel(daemon, hl7db, admin, wards):
    visit, nhs = new_visit(), nhs_number()
    c = Mllp(daemon.mllp_port)
    assert msa(c.call(adt("A01", visit, nhs, bed="1", admit=hl7_now(-timedelta(hours=5)))))[0] \
        == "AA"
    # A02: to ward HB, bed 7
    ack = c.call(adt("A02", visit, nhs, ward="PAS-B", bed="7", prior="PAS-A^^1"))
    assert msa(ack)[0] == "AA", ack
    ep = get_episode(daemon, admin, visit, hl7db)
    assert (ep["ward"], ep["bed"]) == ("HB", "7")
    # A08: new family name, birth date, bed
    ack = c.call(adt("A08", visit, nhs, ward="PAS-B", bed="8", family="Renamed",
                     birth="19420101"))
    assert msa(ack)[0] == "AA", ack
    ep = get_episode(daemon, admin, visit, hl7db)
    assert ep["patient"]["family_name"] == "Renamed" and ep["bed"] == "8"
    assert ep["patient"]["birth_date"] == "1942-01-01"
    # A03: discharged at PV1-45 to PV1-37
    when = datetime.now(timezone.utc) - timedelta(minutes=30)
    ack = c.call(adt("A03", visit, nhs, ward="PAS-B", bed="8",
                     discharge=when.strftime("%Y%m%d%H%M%S+0000"), dest="Home"))
    assert msa(ack)[0] == "AA", ack
    ep = get_episode(daemon, admin, visit, hl7db)
    # "Home" is no discharge destination code: not recorded, kept as the note
    assert ep["state"] == "discharged" and ep["discharge_destination"] is None
    assert ep["discharge_destination_note"] == "Home"
    assert ep["discharged_at"].startswith(when.strftime("%Y-%m-%dT%H:%M"))
    assert ep["discharge_pathway"] is None  # A03 carries no pathway: not recorded
    # A02 on a discharged episode: lib/episode says no -> AE with the reason
    code, _, text = msa(c.call(adt("A02", visit, nhs, ward="PAS-A")))
    assert code == "AE" and "cannot" in text, text
    # A13: reopened
    assert msa(c.call(adt("A13", visit, nhs, ward="PAS-B")))[0] == "AA"
    ep = get_episode(daemon, admin, visit, hl7db)
    assert ep["state"] == "admitted" and ep["discharged_at"] is None
    # A11: cancelled, and then nothing more
    assert msa(c.call(adt("A11", visit, nhs, ward="PAS-B")))[0] == "AA"
    assert get_episode(daemon, admin, visit, hl7db)["state"] == "cancelled"
    code, _, text = msa(c.call(adt("A13", visit, nhs, ward="PAS-B")))
    assert code == "AE" and "cancelled" in text, text
    actions = [r[0] for r in hl7db.sql(
        f"SELECT action FROM audit WHERE episode_id = '{ep['id']}' AND actor = 'hl7'"
        f" AND entity = 'episode' ORDER BY id")]
    assert actions == ["episode.admit", "episode.transfer", "episode.update",
                       "episode.discharge", "episode.reopen", "episode.cancel"]
    c.close()


def test_a03_without_a_pathway_is_accepted_as_not_recorded(daemon, hl7db, admin, wards):
    """The API requires the actual discharge pathway; HL7 A03 may omit it (issue 14): AA, and
    the pathway is NULL, "not recorded".  PV1-36 (discharge disposition) says where the patient
    went, not with what support, so it is not mapped to a pathway either."""
    c = Mllp(daemon.mllp_port)
    for disposition in ("", "01", "19"):
        visit, nhs = new_visit(), nhs_number()
        assert msa(c.call(adt("A01", visit, nhs)))[0] == "AA"
        ack = c.call(adt("A03", visit, nhs, disposition=disposition, dest="Home"))
        assert msa(ack)[0] == "AA", ack
        ep = get_episode(daemon, admin, visit, hl7db)
        assert ep["state"] == "discharged" and ep["discharge_pathway"] is None, disposition
        assert hl7db.sql(f"SELECT discharge_pathway IS NULL FROM episodes"
                         f" WHERE id = '{ep['id']}'") == [["t"]]
        assert hl7db.sql(f"SELECT payload->'discharge_pathway' FROM events"
                         f" WHERE episode_id = '{ep['id']}' AND type = 'episode.discharged'") == \
            [["null"]]
        # A13 reopens: still none
        assert msa(c.call(adt("A13", visit, nhs)))[0] == "AA"
        assert get_episode(daemon, admin, visit, hl7db)["discharge_pathway"] is None
    # discharged on the ward screen with a pathway, then reopened by the PAS (A13): cleared
    visit, nhs = new_visit(), nhs_number()
    assert msa(c.call(adt("A01", visit, nhs)))[0] == "AA"
    nurse = make_user(hl7db, "nurse", wards=["HA"])
    eid = episode_of(hl7db, visit)
    r = daemon.post(f"/api/v1/episodes/{eid}/discharge", json={"pathway": 2}, headers=nurse.auth)
    assert r.status_code == 200 and r.json()["discharge_pathway"] == 2, r.text
    assert msa(c.call(adt("A13", visit, nhs)))[0] == "AA"
    ep = get_episode(daemon, admin, visit, hl7db)
    assert ep["state"] == "admitted" and ep["discharge_pathway"] is None
    c.close()


def test_cancel_admission_cancels_its_open_work(daemon, hl7db, admin, wards):
    """A11: an admission entered in error leaves no tasks or referral open (issue 15: the
    referral replaced the assessment; HL7 gives no pathway, so the ward sets one)."""
    visit, nhs = new_visit(), nhs_number()
    c = Mllp(daemon.mllp_port)
    assert msa(c.call(adt("A01", visit, nhs)))[0] == "AA"
    ep = get_episode(daemon, admin, visit, hl7db)
    nurse = make_user(hl7db, "nurse", wards=["HA"])
    sw = make_user(hl7db, "social_worker")
    tasks = daemon.get(f"/api/v1/tasks?episode={ep['id']}", headers=nurse.auth).json()["items"]
    assert len(tasks) >= 2, tasks
    done = tasks[0]
    r = daemon.patch(f"/api/v1/tasks/{done['id']}", json={"status": "completed"},
                     headers=nurse.auth)
    assert r.status_code == 200, r.text
    r = daemon.patch(f"/api/v1/episodes/{ep['id']}", json={"pathway": 1},
                     headers={**nurse.auth, "If-Match": f'"{ep["version"]}"'})
    assert r.status_code == 200, r.text
    ref = r.json()["referral"]
    aid = ref["id"]
    r = daemon.post(f"/api/v1/referrals/{aid}/hold",
                    headers={**sw.auth, "If-Match": f'"{ref["version"]}"'})
    assert r.status_code == 200, r.text
    last = hl7db.sql("SELECT coalesce(max(id), 0) FROM events")[0][0]

    assert msa(c.call(adt("A11", visit, nhs)))[0] == "AA"
    c.close()
    status = dict(hl7db.sql(f"SELECT id, status FROM tasks WHERE episode_id = '{ep['id']}'"))
    assert status.pop(done["id"]) == "completed"  # finished work stays as it was
    assert set(status.values()) == {"cancelled"}, status
    assert hl7db.sql(f"SELECT state, withdraw_reason FROM referrals WHERE id = '{aid}'") == \
        [["withdrawn", "admission cancelled"]]
    # each cancellation audited with the row it replaced, and announced
    audit = hl7db.sql(
        f"SELECT entity_id, action, before->>'status', after->>'status', before->>'state',"
        f" after->>'state' FROM audit WHERE episode_id = '{ep['id']}'"
        f" AND actor IN ('hl7', 'system') AND entity <> 'episode' ORDER BY id")
    assert sorted((r[0], r[1], r[3]) for r in audit if r[1] == "task.cancel") == \
        sorted((t, "task.cancel", "cancelled") for t in status)
    assert all(r[2] in ("requested", "accepted", "in-progress", "on-hold")
               for r in audit if r[1] == "task.cancel")
    assert [(r[0], r[1], r[4], r[5]) for r in audit if r[1] == "referral.withdraw"] == \
        [(aid, "referral.withdraw", "notified", "withdrawn")]
    events = hl7db.sql(f"SELECT type, coalesce(payload->>'id', payload->'referral'->>'id'),"
                       f" payload->>'status', coalesce(payload->>'state',"
                       f" payload->'referral'->>'state') FROM events WHERE id > {last} AND episode_id = '{ep['id']}' ORDER BY id")
    assert events[0][0] == "episode.cancelled"
    assert sorted(e[1] for e in events if e[0] == "task.updated" and e[2] == "cancelled") == \
        sorted(status)
    assert [e[1] for e in events if e[0] == "referral.updated" and e[3] == "withdrawn"] == [aid]
    # nothing of it is left for anyone to work on
    r = daemon.get("/api/v1/referrals?open=true&limit=500", headers=sw.auth)
    assert aid not in [a["id"] for a in r.json()["items"]]
    open_ids = [t["id"] for t in daemon.get("/api/v1/tasks?ward=HA&status=open&limit=500",
                                            headers=nurse.auth).json()["items"]]
    assert not set(open_ids) & set(status)
    r = daemon.patch(f"/api/v1/tasks/{next(iter(status))}", json={"status": "in-progress"},
                     headers=nurse.auth)
    assert r.status_code == 409, r.text


def test_cancel_discharge_after_a_new_admission_is_refused(daemon, hl7db, admin, wards):
    """A13 for a stay whose patient has been admitted again since: AE naming why, no change."""
    old, new, nhs = new_visit(), new_visit(), nhs_number()
    c = Mllp(daemon.mllp_port)
    assert msa(c.call(adt("A01", old, nhs)))[0] == "AA"
    assert msa(c.call(adt("A03", old, nhs, discharge=hl7_now())))[0] == "AA"
    assert msa(c.call(adt("A01", new, nhs)))[0] == "AA"
    code, _, text = msa(c.call(adt("A13", old, nhs)))
    c.close()
    assert code == "AE" and "admitted again" in text, text
    assert get_episode(daemon, admin, old, hl7db)["state"] == "discharged"
    assert get_episode(daemon, admin, new, hl7db)["state"] == "admitted"


# ---- ACK codes ----------------------------------------------------------------------

def test_ack_codes(daemon, hl7db, admin, wards):
    c = Mllp(daemon.mllp_port)
    # unknown ward
    visit = new_visit()
    code, _, text = msa(c.call(adt("A01", visit, nhs_number(), ward="NOWHERE")))
    assert code == "AE" and 'unknown ward "NOWHERE"' in text, text
    assert "ERR|" in c.call(adt("A01", new_visit(), nhs_number(), ward="NOWHERE"))
    # a bad NHS number check digit (the number itself is never echoed)
    good = nhs_number()
    bad = good[:9] + str((int(good[9]) + 1) % 10)
    code, _, text = msa(c.call(adt("A01", new_visit(), bad)))
    assert code == "AE" and "NHS number" in text and bad not in text, text
    # no such visit
    code, _, text = msa(c.call(adt("A03", "NO-SUCH-VISIT", good)))
    assert code == "AE" and "NO-SUCH-VISIT" in text, text
    # unsupported event: AR
    ack = c.call(adt("A40", new_visit(), good))
    assert msa(ack)[0] == "AR", ack
    # not HL7 at all, but framed: AR on the same connection
    ack = c.call("this is not HL7")
    assert msa(ack)[0] == "AR", ack
    # the connection still works
    assert msa(c.call(adt("A01", new_visit(), nhs_number())))[0] == "AA"
    assert episode_of(hl7db, visit) is None
    c.close()
    # all kept for the integration team; raw text included, for admins only
    r = daemon.get("/api/v1/hl7/messages?ack=AE&limit=500", headers=admin.auth)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert items and all(i["ack_code"] == "AE" for i in items)
    mine = [i for i in items if "NOWHERE" in (i["error"] or "")]
    assert mine and mine[0]["raw"].startswith("MSH|") and "MSA|AE|" in mine[0]["ack"]
    r = daemon.get("/api/v1/hl7/messages?ack=AR", headers=admin.auth)
    assert any(i["raw"] == "this is not HL7" for i in r.json()["items"])
    assert daemon.get("/api/v1/hl7/messages?ack=XX", headers=admin.auth).status_code == 400
    assert hl7db.sql("SELECT count(*) FROM audit WHERE action = 'hl7.read'")[0][0] != "0"


def test_duplicate_control_id(daemon, hl7db, admin, wards):
    visit, nhs = new_visit(), nhs_number()
    msg = adt("A01", visit, nhs, control="DUP-1")
    c = Mllp(daemon.mllp_port)
    first = c.call(msg)
    assert msa(first)[0] == "AA"
    c.close()
    c = Mllp(daemon.mllp_port)
    again = c.call(msg)
    assert again == first
    # a duplicate of an AE is the same AE, even after the ward map is fixed
    bad = adt("A01", new_visit(), nhs_number(), ward="LATER", control="DUP-2")
    ae = c.call(bad)
    assert msa(ae)[0] == "AE"
    assert c.call(bad) == ae
    # a second A01 of the same visit (new control id): nothing new
    code, _, text = msa(c.call(adt("A01", visit, nhs)))
    assert code == "AA" and "already" in text
    c.close()
    assert hl7db.sql(f"SELECT count(*) FROM episodes WHERE external_id = '{visit}'") == [["1"]]
    rows = hl7db.sql("SELECT duplicate, ack_code FROM hl7_messages WHERE control_id = 'DUP-1'"
                     " ORDER BY received_at")
    assert rows == [["f", "AA"], ["t", "AA"]]


def test_frame_split_across_writes(daemon, hl7db, wards):
    visit = new_visit()
    data = frame(adt("A01", visit, nhs_number()))
    s = socket.create_connection(("127.0.0.1", daemon.mllp_port), timeout=20)
    cuts = [0, 1, 7, 60, 61, len(data) - 2, len(data) - 1, len(data)]
    for a, b in zip(cuts, cuts[1:]):
        s.sendall(data[a:b])
        time.sleep(0.05)
    c = Mllp.__new__(Mllp)
    c.sock, c.buf = s, b""
    assert msa(c.ack())[0] == "AA"
    assert episode_of(hl7db, visit) is not None
    s.close()


def test_hundred_pipelined(daemon, hl7db, wards):
    prefix = f"P{uuid.uuid4().hex[:8]}-"
    msgs = [adt("A01", f"{prefix}{i:03d}", nhs_number(), control=f"{prefix}C{i:03d}")
            for i in range(100)]
    c = Mllp(daemon.mllp_port, timeout=60)
    t0 = time.monotonic()
    c.sock.sendall(b"".join(frame(m) for m in msgs))
    acks = [c.ack() for _ in range(100)]
    elapsed = time.monotonic() - t0
    c.close()
    assert [msa(a)[1] for a in acks] == [f"{prefix}C{i:03d}" for i in range(100)]
    assert all(msa(a)[0] == "AA" for a in acks), [a for a in acks if msa(a)[0] != "AA"][:1]
    rows = hl7db.sql(f"SELECT count(*) FROM episodes WHERE external_id LIKE '{prefix}%'")
    assert rows == [["100"]]
    print(f"\nhl7: 100 pipelined A01 in {elapsed:.3f}s = {100 / elapsed:.0f} messages/s")


def test_garbage_bytes(daemon, hl7db, wards):
    s = socket.create_connection(("127.0.0.1", daemon.mllp_port), timeout=10)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n\x00\xff\xfe garbage")
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    assert data == b""  # not MLLP: closed without an answer
    s.close()
    # a frame start inside a frame, after a good message: answered, then closed
    s = socket.create_connection(("127.0.0.1", daemon.mllp_port), timeout=10)
    s.sendall(frame(adt("A01", new_visit(), nhs_number())) + SB + b"MSH|" + SB)
    c = Mllp.__new__(Mllp)
    c.sock, c.buf = s, b""
    assert msa(c.ack())[0] == "AA"
    assert c.ack() is None
    s.close()
    # too large
    s = socket.create_connection(("127.0.0.1", daemon.mllp_port), timeout=10)
    try:
        s.sendall(SB + b"MSH|" + b"A" * (1024 * 1024 + 10))
    except OSError:
        pass
    c = Mllp.__new__(Mllp)
    c.sock, c.buf = s, b""
    try:
        assert c.ack() is None
    except ConnectionResetError:
        pass
    s.close()
    # the daemon keeps serving
    c = Mllp(daemon.mllp_port)
    assert msa(c.call(adt("A01", new_visit(), nhs_number())))[0] == "AA"
    c.close()
    assert daemon.get("/healthz").status_code == 200


def test_mllp_send(daemon, hl7db, admin, wards):
    """Debian's python3-hl7 `mllp_send` sends the file; we check its ACKs and the episodes."""
    path = os.path.join(HERE, "data", "adt_messages.hl7")
    r = subprocess.run(["mllp_send", "--loose", "--file", path, "--port",
                        str(daemon.mllp_port), "127.0.0.1"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    acks = [a for a in r.stdout.split(SB) if a.strip()]
    got = [(msa(a.decode())[0], msa(a.decode())[1]) for a in acks]
    assert got == [("AA", "MS-0001"), ("AA", "MS-0002"), ("AA", "MS-0003"), ("AA", "MS-0004"),
                   ("AE", "MS-0005")], r.stdout
    ada = get_episode(daemon, admin, "MS-V1001", hl7db)
    assert (ada["state"], ada["ward"], ada["bed"]) == ("admitted", "HB", "4")
    assert ada["admitted_at"].startswith("2026-11-20T08:25:00")
    bert = get_episode(daemon, admin, "MS-V1002", hl7db)
    assert bert["state"] == "discharged" and bert["discharge_destination"] is None
    assert bert["discharge_destination_note"] == "Home"
    assert bert["discharged_at"].startswith("2026-11-21T15:55:00")
    assert episode_of(hl7db, "MS-V1003") is None
    # sent again: the original ACKs, nothing applied twice
    r2 = subprocess.run(["mllp_send", "--loose", "--file", path, "--port",
                         str(daemon.mllp_port), "127.0.0.1"],
                        capture_output=True, timeout=60)
    assert r2.stdout == r.stdout


def test_allow_list(hl7db):
    d = start_hl7_daemon(hl7db, env={"CAREBRIDGE_MLLP_ALLOW": "10.11.12.13, ::2"})
    try:
        s = socket.create_connection(("127.0.0.1", d.mllp_port), timeout=10)
        s.sendall(frame("MSH|^~\\&|X"))
        try:
            assert s.recv(4096) == b""
        except ConnectionResetError:
            pass
        s.close()
        assert "connection refused addr=127.0.0.1" in d.log_text()
    finally:
        stop_daemon_clean(d)
    d = start_hl7_daemon(hl7db, env={"CAREBRIDGE_MLLP_ALLOW": "127.0.0.1"})
    try:
        c = Mllp(d.mllp_port)
        assert msa(c.call("garbage"))[0] == "AR"
        c.close()
    finally:
        stop_daemon_clean(d)


def closed_by_server(s, timeout=10):
    """True once the server has closed socket s (EOF or reset) within timeout."""
    s.settimeout(timeout)
    try:
        return s.recv(4096) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_connection_cap_and_idle_timeout(hl7db, wards):
    d = start_hl7_daemon(hl7db, env={"CAREBRIDGE_MLLP_MAX_CONNECTIONS": "2",
                                     "CAREBRIDGE_MLLP_IDLE_TIMEOUT": "1500ms"})
    try:
        a, b = Mllp(d.mllp_port), Mllp(d.mllp_port)
        # a third is refused while two are open, and logged
        third = socket.create_connection(("127.0.0.1", d.mllp_port), timeout=10)
        assert closed_by_server(third, timeout=5)
        third.close()
        assert 'connection refused addr=127.0.0.1 reason="2 connections are open"' in d.log_text()
        # one that keeps talking is served past the timeout; one that says nothing is closed
        for _ in range(4):
            assert msa(a.call(adt("A01", new_visit(), nhs_number())))[0] == "AA"
            time.sleep(0.6)
        assert closed_by_server(b.sock, timeout=1)
        assert "reason=idle timeout" in d.log_text()
        # its place is free again
        c = Mllp(d.mllp_port)
        assert msa(c.call(adt("A01", new_visit(), nhs_number())))[0] == "AA"
        # a half-sent frame does not hold the connection either
        c.sock.sendall(SB + b"MSH|^~\\&|")
        assert closed_by_server(c.sock, timeout=5)
        for x in (a, b, c):
            x.close()
        assert d.get("/healthz").status_code == 200
    finally:
        stop_daemon_clean(d)


def test_no_patient_data_in_log(daemon):
    text = daemon.log_text()
    assert "hl7: message done" in text
    assert "Hl7person" not in text and "O'Brien" not in text and "NOWHERE" not in text


def test_client_gone_and_shutdown_in_flight(hl7db, wards):
    """A client that leaves mid-message, and SIGTERM with messages in flight: clean exit."""
    d = start_hl7_daemon(hl7db)
    try:
        gone = new_visit()
        s = socket.create_connection(("127.0.0.1", d.mllp_port), timeout=10)
        s.sendall(frame(adt("A01", gone, nhs_number())))
        s.close()
        c = Mllp(d.mllp_port)
        c.sock.sendall(b"".join(frame(adt("A01", new_visit(), nhs_number())) for _ in range(30)))
        first = c.ack()
        assert msa(first)[0] == "AA"
        time.sleep(0.02)
    finally:
        stop_daemon_clean(d)
    # whatever was answered before the end is applied; the rest is not half-done
    rest = 0
    try:
        while c.ack() is not None:
            rest += 1
    except ConnectionResetError:
        pass  # closed with our unread messages still in its socket
    c.close()
    assert rest < 29
    deadline = time.monotonic() + 5
    while episode_of(hl7db, gone) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert episode_of(hl7db, gone) is not None  # the change in flight still committed


def test_retention_prunes_old_messages(hl7db):
    """Rows older than hl7_retention go, on the tick (the first prune runs soon after start)."""
    old, new = str(uuid.uuid4()), str(uuid.uuid4())
    hl7db.sql("INSERT INTO hl7_messages (id, received_at, raw, ack_code, ack) VALUES"
              f" ('{old}', now() - interval '31 days', 'MSH|old', 'AR', 'MSA|AR'),"
              f" ('{new}', now() - interval '29 days', 'MSH|new', 'AR', 'MSA|AR')")
    d = start_hl7_daemon(hl7db)
    try:
        deadline = time.monotonic() + 15
        while hl7db.sql(f"SELECT 1 FROM hl7_messages WHERE id = '{old}'") and \
                time.monotonic() < deadline:
            time.sleep(0.2)
        assert hl7db.sql(f"SELECT 1 FROM hl7_messages WHERE id = '{old}'") == []
        assert hl7db.sql(f"SELECT 1 FROM hl7_messages WHERE id = '{new}'") == [["1"]]
    finally:
        stop_daemon_clean(d)


# ---- privacy of the log --------------------------------------------------------------

def test_no_patient_identifier_reaches_the_log(hl7db, admin, wards):
    """At debug level, through the API and HL7, good and bad input: the identifiers stay out.

    carebridge's own log and the PostgreSQL server log are read for the patient's NHS number
    (and a wrong-check-digit variant), visit number, names and birth date after admissions,
    updates, transfers, refusals, HL7 AE/AR answers and webhook deliveries to a dead receiver.
    """
    nhs, visit = nhs_number(), new_visit()
    bad_nhs = nhs[:9] + str((int(nhs[9]) + 1) % 10)
    family, given = "Zyxwvutska", "Qwertinella"
    secrets = [nhs, bad_nhs, visit, family, given, "1933-02-03", "19330203",
               f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"]
    d = start_hl7_daemon(hl7db, env={"CAREBRIDGE_LOG_LEVEL": "debug"})
    try:
        nurse = make_user(hl7db, "nurse", wards=["HA", "HB"])
        sw = make_user(hl7db, "social_worker")
        with socket.socket() as s:  # a receiver that is not there
            s.bind(("127.0.0.1", 0))
            dead = s.getsockname()[1]
        r = d.post("/api/v1/webhooks", json={"url": f"http://127.0.0.1:{dead}/hook",
                                             "secret": "s" * 20}, headers=admin.auth)
        assert r.status_code == 201, r.text
        c = Mllp(d.mllp_port)
        assert msa(c.call(adt("A01", visit, nhs, family=family, given=given,
                              birth="19330203")))[0] == "AA"
        # HL7 refusals that concern this patient: a wrong NHS number on the visit, a repeat
        code, _, _ = msa(c.call(adt("A08", visit, bad_nhs, family=family)))
        assert code == "AE"
        code, _, _ = msa(c.call(adt("A01", new_visit(), bad_nhs, family=family, given=given)))
        assert code == "AE"
        assert msa(c.call(adt("A02", visit, nhs, ward="PAS-B", prior="PAS-A^^3")))[0] == "AA"
        assert c.call(f"MSH|^~\\&|PAS|RVJ\rPID|1||{nhs}^^^NHS^NH||{family}^{given}\r") \
            is not None  # AR: not a message we can use
        c.close()
        eid = episode_of(hl7db, visit)
        # the API: reads, searches, good and bad writes with the identifiers in them
        assert d.get(f"/api/v1/episodes/{eid}", headers=nurse.auth).status_code == 200
        d.get(f"/api/v1/episodes?ward=HB&nhs_number={nhs}&q={family}", headers=nurse.auth)
        r = d.post("/api/v1/admissions", headers=nurse.auth, json={
            "nhs_number": bad_nhs, "family_name": family, "given_name": given,
            "birth_date": "1933-02-03", "ward": "HA", "bed": "1",
            "admitted_at": "2026-11-20T09:30:00Z"})
        assert r.status_code == 400
        r = d.post("/api/v1/admissions", headers=nurse.auth, json={
            "nhs_number": nhs, "family_name": family, "given_name": given,
            "birth_date": "1933-02-03", "ward": "HA", "bed": "1",
            "admitted_at": "2026-11-20T09:30:00Z"})
        assert r.status_code == 409, r.text  # already admitted
        r = d.patch(f"/api/v1/episodes/{eid}", json={"bed": family, "nhs_number": nhs},
                    headers=nurse.auth)
        assert r.status_code == 400
        assert d.patch(f"/api/v1/episodes/{eid}", json={"bed": "4"},
                       headers=nurse.auth).status_code == 200
        r = d.post("/api/v1/admissions", data=f'{{"nhs_number": "{nhs}", "family_name": "{family}"',
                   headers={**nurse.auth, "Content-Type": "application/json"})
        assert r.status_code == 400  # not JSON
        # a referral's steps (issue 15: the referral replaced the claimed assessment)
        ep = d.get(f"/api/v1/episodes/{eid}", headers=nurse.auth).json()
        r = d.patch(f"/api/v1/episodes/{eid}", json={"pathway": 1},
                    headers={**nurse.auth, "If-Match": f'"{ep["version"]}"'})
        assert r.status_code == 200, r.text
        ref = r.json()["referral"]
        r = d.post(f"/api/v1/referrals/{ref['id']}/hold",
                   headers={**sw.auth, "If-Match": f'"{ref["version"]}"'})
        assert r.status_code == 200, r.text
        r = d.post(f"/api/v1/referrals/{ref['id']}/steps",
                   json={"step": "send", "needs": f"{family} {nhs}"},
                   headers={**sw.auth, "If-Match": f'"{ref["version"] + 1}"'})
        assert r.status_code == 400, r.text  # no hub configured for the ward
        # let the webhook fail a few times
        deadline = time.monotonic() + 10
        while "webhook" not in d.log_text() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop_daemon_clean(d)
    log = d.log_text()
    assert "DEBUG" in log and "hl7" in log and "webhook" in log, log[-2000:]
    leaked = [s for s in secrets if s in log]
    assert not leaked, f"patient identifiers in carebridge's log: {leaked}"
    pg_log = pathlib.Path(os.environ.get("CB_PG_DIR", TOP / "build/pg")) / "postgresql.log"
    if pg_log.exists():
        text = pg_log.read_text(errors="replace")
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"patient identifiers in PostgreSQL's log: {leaked}"

"""Issue 15, "Involvement and destination": who was involved in discharge planning,
and where the patient went, coded, beside the actual pathway; and the report of
discharges by pathway x destination.

- POST/GET /api/v1/episodes/{id}/involvements: append-only records, audited,
  announced (involvement.recorded on the stream; the outbox row is what the
  webhooks deliver), refused in the future (400 naming discussed_at), allowed by
  role as lib/access.c says (nurse on own wards, social_worker, ot, physio).
- POST .../discharge {"destination": code, "destination_note": text}: the code is
  validated (400 naming "destination"), stored beside the pathway, cleared by a
  reopen; an HL7 A03 maps the NHS Data Dictionary code in PV1-37.
- GET /api/v1/reports/discharges (JSON, CSV) and `carebridge report discharges`.

The module has a database of its own, so the report counts only its discharges.
"""
import csv
import io
import json
import os
from datetime import datetime, timedelta, timezone

import pytest

from conftest import (Daemon, Database, admit, cli, ensure_ward, make_user, nhs_number,
                      stop_daemon_clean)
from hl7_util import Mllp, adt, msa
from sse import SSEClient

WARD = "ID1"
OTHER = "ID2"


@pytest.fixture(scope="module")
def idb(cluster):
    db = Database(cluster, f"cbtest_{os.getpid()}_invdest")
    db.migrate()
    return db


@pytest.fixture(scope="module")
def daemon(idb):
    d = Daemon(idb.url, env={})
    d.extra_env["CAREBRIDGE_MLLP_PORT_FILE"] = os.path.join(d.tmp.name, "mllp_port")
    d.start()
    with open(d.extra_env["CAREBRIDGE_MLLP_PORT_FILE"]) as f:
        d.mllp_port = int(f.read().strip())
    yield d
    stop_daemon_clean(d)


@pytest.fixture(scope="module")
def people(idb):
    return {
        "nurse": make_user(idb, "nurse", wards=[WARD]),
        "nurse_other": make_user(idb, "nurse", wards=[OTHER]),
        "social_worker": make_user(idb, "social_worker"),
        "ot": make_user(idb, "ot"),
        "physio": make_user(idb, "physio"),
        "bed_manager": make_user(idb, "bed_manager"),
        "admin": make_user(idb, "admin"),
    }


def involve(daemon, user, ep, body):
    return daemon.post(f"/api/v1/episodes/{ep['id']}/involvements", json=body, headers=user.auth)


def discharge(daemon, user, ep, body):
    return daemon.post(f"/api/v1/episodes/{ep['id']}/discharge", json=body, headers=user.auth)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- involvement -----------------------------------------------------------------------

def test_involvement_recorded_listed_audited_and_announced(daemon, idb, people):
    n = people["nurse"]
    ep = admit(daemon, n, WARD)
    assert ep["involvement"] is None  # none recorded yet
    stream = SSEClient(daemon.base, f"/api/v1/stream?episode={ep['id']}"
                       "&types=involvement.recorded", headers=n.auth)
    try:
        assert stream.wait_connected(), "stream did not open"
        earlier = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
        r = involve(daemon, n, ep, {"who": "family", "name": "Sam Daughter", "agreed": False,
                                    "discussed_at": iso(earlier),
                                    "note": "would rather a care home"})
        assert r.status_code == 201, r.text
        rec = r.json()
        assert (rec["who"], rec["name"], rec["agreed"], rec["note"]) == \
            ("family", "Sam Daughter", False, "would rather a care home")
        assert rec["discussed_at"] == iso(earlier) and rec["episode_id"] == ep["id"]
        assert rec["recorded_by"] == n.name and rec["recorded_role"] == "nurse"
        # discussed_at defaults to now
        r = involve(daemon, people["social_worker"], ep, {"who": "patient", "agreed": True})
        assert r.status_code == 201, r.text
        latest = r.json()
        assert latest["name"] is None and latest["note"] is None
        assert abs(datetime.fromisoformat(latest["discussed_at"].replace("Z", "+00:00"))
                   - datetime.now(timezone.utc)) < timedelta(minutes=5)
        # announced on the stream, with the ward for subscribers' filters
        assert stream.wait_for(lambda ev: len([e for e in ev
                                               if e[1] == "involvement.recorded"]) >= 2)
        payloads = [json.loads(e[2]) for e in stream.events if e[1] == "involvement.recorded"]
        assert [p["id"] for p in payloads] == [rec["id"], latest["id"]]
        assert payloads[0]["ward"] == WARD
    finally:
        stream.close()
    # the outbox rows the webhooks deliver
    assert idb.sql(f"SELECT count(*) FROM events WHERE type = 'involvement.recorded'"
                   f" AND episode_id = '{ep['id']}' AND ward = '{WARD}'") == [["2"]]
    # listed, latest conversation first
    r = daemon.get(f"/api/v1/episodes/{ep['id']}/involvements", headers=n.auth)
    assert r.status_code == 200, r.text
    assert [i["id"] for i in r.json()["items"]] == [latest["id"], rec["id"]]
    # the episode sums it up: how many, and the latest
    got = daemon.get(f"/api/v1/episodes/{ep['id']}", headers=n.auth).json()
    assert got["involvement"]["count"] == 2
    assert got["involvement"]["latest"]["who"] == "patient"
    assert got["involvement"]["latest"]["agreed"] is True
    # audited: the record, and the read of the list
    assert idb.sql(f"SELECT actor, after->>'who', after->>'agreed' FROM audit"
                   f" WHERE episode_id = '{ep['id']}' AND action = 'involvement.record'"
                   f" ORDER BY id") == [[n.name, "family", "false"],
                                        [people["social_worker"].name, "patient", "true"]]
    assert idb.sql(f"SELECT count(*) FROM audit WHERE episode_id = '{ep['id']}'"
                   f" AND action = 'involvement.list'") == [["1"]]
    # the name is never in the log
    assert "Sam Daughter" not in daemon.log_text()
    assert "care home" not in daemon.log_text()


def test_involvement_rows_are_append_only(daemon, idb, people):
    ep = admit(daemon, people["nurse"], WARD)
    assert involve(daemon, people["nurse"], ep, {"who": "patient", "agreed": True}) \
        .status_code == 201
    for q in (f"UPDATE involvements SET agreed = false WHERE episode_id = '{ep['id']}'",
              f"DELETE FROM involvements WHERE episode_id = '{ep['id']}'"):
        with pytest.raises(Exception):
            idb.sql(q, role="app")
    assert idb.sql(f"SELECT agreed FROM involvements WHERE episode_id = '{ep['id']}'") == [["t"]]


@pytest.mark.parametrize("body,field", [
    ({"who": "patient", "agreed": True, "discussed_at": "FUTURE"}, "discussed_at"),
    ({"who": "patient", "agreed": True, "discussed_at": "2020-01-01T00:00:00Z"},
     "discussed_at"),   # before admission
    ({"who": "patient", "agreed": True, "discussed_at": "yesterday"}, "discussed_at"),
    ({"agreed": True}, "who"),
    ({"who": "neighbour", "agreed": True}, "who"),
    ({"who": "patient"}, "agreed"),
    ({"who": "patient", "agreed": "yes"}, "agreed"),
    ({"who": "patient", "agreed": True, "name": "x" * 101}, "name"),
    ({"who": "patient", "agreed": True, "note": "x" * 2001}, "note"),
    ({"who": "patient", "agreed": True, "extra": 1}, "extra"),
])
def test_involvement_bad_input_is_400_naming_the_field(daemon, idb, people, body, field):
    ep = admit(daemon, people["nurse"], WARD)
    if body.get("discussed_at") == "FUTURE":
        body = dict(body, discussed_at=iso(datetime.now(timezone.utc) + timedelta(minutes=5)))
    r = involve(daemon, people["nurse"], ep, body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == field, r.text
    assert idb.sql(f"SELECT count(*) FROM involvements WHERE episode_id = '{ep['id']}'") == \
        [["0"]]


def test_involvement_after_discharge_and_of_a_cancelled_admission(daemon, idb, people):
    n = people["nurse"]
    ep = admit(daemon, n, WARD)
    left = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    assert discharge(daemon, n, ep, {"pathway": 0, "discharged_at": iso(left)}).status_code == 200
    # entered afterwards, about a conversation before the discharge
    r = involve(daemon, n, ep, {"who": "unpaid_carer", "agreed": True,
                                "discussed_at": iso(left - timedelta(hours=3))})
    assert r.status_code == 201, r.text
    r = involve(daemon, n, ep, {"who": "unpaid_carer", "agreed": True})  # now: after it
    assert r.status_code == 400 and r.json()["error"]["field"] == "discussed_at", r.text
    assert daemon.get("/api/v1/episodes/00000000-0000-4000-8000-000000000000/involvements",
                      headers=n.auth).status_code == 404
    r = daemon.post("/api/v1/episodes/00000000-0000-4000-8000-000000000000/involvements",
                    json={"who": "patient", "agreed": True}, headers=n.auth)
    assert r.status_code == 404, r.text


@pytest.mark.parametrize("who,status", [
    ("nurse", 201), ("nurse_other", 403), ("social_worker", 201), ("ot", 201),
    ("physio", 201), ("bed_manager", 403), ("admin", 403),
])
def test_involvement_access_by_role(daemon, idb, people, who, status):
    ep = admit(daemon, people["nurse"], WARD)
    r = involve(daemon, people[who], ep, {"who": "advocate", "agreed": True})
    assert r.status_code == status, r.text
    if status == 403:
        assert r.json()["error"]["code"] == "forbidden"
    # reading follows episode reading: a nurse of another ward may not
    r = daemon.get(f"/api/v1/episodes/{ep['id']}/involvements", headers=people[who].auth)
    assert r.status_code == (403 if who == "nurse_other" else 200), r.text


def test_involvement_unauthenticated(daemon, people):
    ep = admit(daemon, people["nurse"], WARD)
    r = daemon.post(f"/api/v1/episodes/{ep['id']}/involvements",
                    json={"who": "patient", "agreed": True})
    assert r.status_code == 401


# ---- destination at discharge --------------------------------------------------------

@pytest.mark.parametrize("code", ["usual_residence", "care_home", "other_hospital", "died",
                                  "other"])
def test_every_destination_code_is_stored(daemon, idb, people, code):
    ep = admit(daemon, people["nurse"], WARD)
    r = discharge(daemon, people["nurse"], ep, {"pathway": 1, "destination": code})
    assert r.status_code == 200, r.text
    assert r.json()["discharge_destination"] == code
    assert r.json()["discharge_destination_label"]
    assert idb.sql(f"SELECT discharge_destination_code, discharge_pathway FROM episodes"
                   f" WHERE id = '{ep['id']}'") == [[code, "1"]]


def test_destination_with_note_audited_announced_and_cleared_by_reopen(daemon, idb, people):
    n = people["nurse"]
    ep = admit(daemon, n, WARD)
    stream = SSEClient(daemon.base, f"/api/v1/stream?episode={ep['id']}"
                       "&types=episode.discharged", headers=n.auth)
    try:
        assert stream.wait_connected()
        r = discharge(daemon, n, ep, {"pathway": 3, "destination": "care_home",
                                      "destination_note": "Oak Lodge"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["discharge_pathway"], body["discharge_destination"],
                body["discharge_destination_label"], body["discharge_destination_note"]) == \
            (3, "care_home", "Care home", "Oak Lodge")
        assert stream.wait_for(lambda ev: any(e[1] == "episode.discharged" for e in ev))
        ev = json.loads([e for e in stream.events if e[1] == "episode.discharged"][0][2])
        assert ev["discharge_destination"] == "care_home"
    finally:
        stream.close()
    assert idb.sql(f"SELECT before->>'discharge_destination', after->>'discharge_destination',"
                   f" after->>'discharge_destination_note' FROM audit"
                   f" WHERE entity_id = '{ep['id']}' AND action = 'episode.discharge'") == \
        [["", "care_home", "Oak Lodge"]]
    # reopen: the destination goes with the rest of the discharge
    r = daemon.post(f"/api/v1/episodes/{ep['id']}/reopen", json={}, headers=n.auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["discharge_destination"] is None and body["discharge_destination_note"] is None
    assert body["discharge_pathway"] is None
    assert idb.sql(f"SELECT discharge_destination_code IS NULL, discharge_destination IS NULL"
                   f" FROM episodes WHERE id = '{ep['id']}'") == [["t", "t"]]


def test_destination_is_optional(daemon, idb, people):
    ep = admit(daemon, people["nurse"], WARD)
    r = discharge(daemon, people["nurse"], ep, {"pathway": 0, "destination": None})
    assert r.status_code == 200, r.text
    assert r.json()["discharge_destination"] is None  # not recorded


@pytest.mark.parametrize("body,field", [
    ({"pathway": 0, "destination": "home"}, "destination"),          # the old free text
    ({"pathway": 0, "destination": "Care_home"}, "destination"),
    ({"pathway": 0, "destination": 19}, "destination"),
    ({"pathway": 0, "destination": ""}, "destination"),
    ({"pathway": 0, "destination": "care_home", "destination_note": "x" * 201},
     "destination_note"),
])
def test_bad_destination_is_400_naming_the_field(daemon, idb, people, body, field):
    ep = admit(daemon, people["nurse"], WARD)
    r = discharge(daemon, people["nurse"], ep, body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == field, r.text
    assert idb.sql(f"SELECT state FROM episodes WHERE id = '{ep['id']}'") == [["admitted"]]


def test_old_free_text_rows_stay_readable(daemon, idb, people):
    # a discharge written before 0029: free text in the old column, no code
    ep = admit(daemon, people["nurse"], WARD)
    assert discharge(daemon, people["nurse"], ep, {"pathway": 0}).status_code == 200
    idb.sql(f"UPDATE episodes SET discharge_destination = 'Home with daughter'"
            f" WHERE id = '{ep['id']}'")
    got = daemon.get(f"/api/v1/episodes/{ep['id']}", headers=people["nurse"].auth).json()
    assert got["discharge_destination"] is None
    assert got["discharge_destination_note"] == "Home with daughter"


def test_the_code_column_keeps_its_rules(daemon, idb, people):
    ep = admit(daemon, people["nurse"], WARD)
    with pytest.raises(Exception):  # only a discharged episode has a destination
        idb.sql(f"UPDATE episodes SET discharge_destination_code = 'died'"
                f" WHERE id = '{ep['id']}'")
    assert discharge(daemon, people["nurse"], ep, {"pathway": 0}).status_code == 200
    with pytest.raises(Exception):  # only known codes
        idb.sql(f"UPDATE episodes SET discharge_destination_code = 'home'"
                f" WHERE id = '{ep['id']}'")


# ---- HL7 A03 ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pas_ward(daemon, idb, people):
    ensure_ward(idb, WARD)
    r = daemon.put("/api/v1/hl7/ward-map/PAS-ID1", json={"ward": WARD},
                   headers=people["admin"].auth)
    assert r.status_code == 200, r.text
    return "PAS-ID1"


def hl7_episode(daemon, idb, people, visit):
    eid = idb.sql(f"SELECT id FROM episodes WHERE external_id = '{visit}'")[0][0]
    return daemon.get(f"/api/v1/episodes/{eid}", headers=people["admin"].auth).json()


@pytest.mark.parametrize("pv1_37,code,note", [
    ("19", "usual_residence", None),
    ("54", "care_home", None),
    ("85", "care_home", None),
    ("51", "other_hospital", None),
    ("79", "died", None),
    ("29", "other", None),
    ("88", "other", None),
    ("care_home", "care_home", None),   # our own code, as spelt
    ("99", None, "99"),                 # "not known": not recorded, kept as the note
    ("HOME", None, "HOME"),             # a local value: not recorded, kept as the note, AA
    ("", None, None),
])
def test_hl7_a03_maps_the_discharge_destination(daemon, idb, people, pas_ward, pv1_37, code,
                                                note):
    visit = f"VD{nhs_number()[:8]}"
    nhs = nhs_number()
    admitted = (datetime.now(timezone.utc) - timedelta(days=2)).strftime("%Y%m%d%H%M%S+0000")
    c = Mllp(daemon.mllp_port)
    try:
        ack = c.call(adt("A01", visit, nhs, ward=pas_ward, admit=admitted))
        assert msa(ack)[0] == "AA", ack
        ack = c.call(adt("A03", visit, nhs, ward=pas_ward, dest=pv1_37))
        assert msa(ack)[0] == "AA", ack
        ep = hl7_episode(daemon, idb, people, visit)
        assert ep["state"] == "discharged"
        assert ep["discharge_destination"] == code
        assert ep["discharge_destination_note"] == note
        assert ep["discharge_pathway"] is None  # still not recorded by an A03
        # A13 clears it, as it clears the pathway
        ack = c.call(adt("A13", visit, nhs, ward=pas_ward))
        assert msa(ack)[0] == "AA", ack
        ep = hl7_episode(daemon, idb, people, visit)
        assert ep["state"] == "admitted" and ep["discharge_destination"] is None
        assert ep["discharge_destination_note"] is None
    finally:
        c.close()


# ---- the report ------------------------------------------------------------------------

REPORT_DAY = "2026-11-25"


@pytest.fixture(scope="module")
def reported(daemon, idb, people):
    """Discharges on 2026-11-25 (London = UTC in November), and one either side."""
    n = people["nurse"]
    plan = [
        # (pathway, destination, discharged_at)
        (0, "usual_residence", "2026-11-25T10:00:00Z"),
        (0, "usual_residence", "2026-11-25T11:00:00Z"),
        (1, "usual_residence", "2026-11-25T12:00:00Z"),
        (3, "care_home", "2026-11-25T13:00:00Z"),
        (2, "other_hospital", "2026-11-25T14:00:00Z"),
        (0, "died", "2026-11-25T15:00:00Z"),
        (1, None, "2026-11-26T00:00:00Z"),          # midnight: the date it ends, the 25th
        (1, "care_home", "2026-11-25T00:00:00Z"),   # midnight: the 24th
        (2, "other", "2026-11-26T00:00:01Z"),       # the 26th
    ]
    for pathway, dest, when in plan:
        ep = admit(daemon, n, WARD, admitted_at="2026-11-20T09:30:00Z")
        body = {"pathway": pathway, "discharged_at": when}
        if dest is not None:
            body["destination"] = dest
        r = discharge(daemon, n, ep, body)
        assert r.status_code == 200, r.text
    # a reopened discharge counts no more
    ep = admit(daemon, n, WARD, admitted_at="2026-11-20T09:30:00Z")
    assert discharge(daemon, n, ep, {"pathway": 0, "destination": "other",
                                     "discharged_at": "2026-11-25T16:00:00Z"}).status_code == 200
    assert daemon.post(f"/api/v1/episodes/{ep['id']}/reopen", json={},
                       headers=n.auth).status_code == 200
    return plan


def test_discharges_report_json(daemon, people, reported):
    r = daemon.get("/api/v1/reports/discharges", params={"date": REPORT_DAY},
                   headers=people["bed_manager"].auth)
    assert r.status_code == 200, r.text
    rep = r.json()
    assert (rep["from"], rep["to"], rep["total"]) == (REPORT_DAY, REPORT_DAY, 7)
    cells = {(row["pathway"], row["destination"]): row["discharges"] for row in rep["rows"]}
    assert cells == {(0, "usual_residence"): 2, (0, "died"): 1, (1, "usual_residence"): 1,
                     (1, None): 1, (2, "other_hospital"): 1, (3, "care_home"): 1}
    assert rep["by_pathway"] == {"pathway_0": 3, "pathway_1": 2, "pathway_2": 1, "pathway_3": 1,
                                 "not_recorded": 0, "total": 7}
    assert rep["by_destination"] == {"usual_residence": 3, "care_home": 1, "other_hospital": 1,
                                     "died": 1, "other": 0, "not_recorded": 1, "total": 7}
    # a range: the 24th..26th
    rep = daemon.get("/api/v1/reports/discharges",
                     params={"from": "2026-11-24", "to": "2026-11-26"},
                     headers=people["admin"].auth).json()
    assert rep["total"] == 9
    assert rep["by_destination"]["care_home"] == 2 and rep["by_destination"]["other"] == 1


def test_discharges_report_csv_and_cli(daemon, idb, people, reported):
    r = daemon.get("/api/v1/reports/discharges", params={"date": REPORT_DAY, "format": "csv"},
                   headers=people["bed_manager"].auth)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["pathway", "destination", "destination_label", "discharges"]
    assert ["0", "usual_residence", "Usual place of residence", "2"] in rows
    assert ["1", "not_recorded", "Not recorded", "1"] in rows
    assert ["3", "total", "", "1"] in rows
    assert ["total", "died", "Died", "1"] in rows
    assert rows[-1] == ["total", "total", "", "7"]
    # the command line gives the same
    out = cli(idb, "report", "discharges", "--date", REPORT_DAY).stdout
    assert list(csv.reader(io.StringIO(out))) == rows
    out = cli(idb, "report", "discharges", "--date", REPORT_DAY, "--format", "json").stdout
    assert json.loads(out) == daemon.get("/api/v1/reports/discharges",
                                         params={"date": REPORT_DAY},
                                         headers=people["bed_manager"].auth).json()


def test_discharges_report_today_and_refusals(daemon, people, reported):
    bm = people["bed_manager"]
    ep = admit(daemon, people["nurse"], WARD)
    assert discharge(daemon, people["nurse"], ep, {"pathway": 2, "destination": "other"}) \
        .status_code == 200
    rep = daemon.get("/api/v1/reports/discharges", headers=bm.auth).json()  # today, so far
    assert rep["from"] == rep["to"] == datetime.now(timezone.utc).strftime("%Y-%m-%d") or \
        rep["from"] == rep["to"]  # (London date; equal to UTC's outside the last hour of BST)
    assert rep["total"] >= 1 and rep["by_destination"]["other"] >= 1
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=2)).strftime("%Y-%m-%d")
    for params, field in (({"date": tomorrow}, "date"), ({"date": "2026-13-01"}, "date"),
                          ({"from": "2026-11-25"}, "to"),
                          ({"from": "2026-11-26", "to": "2026-11-25"}, "to"),
                          ({"from": "2020-01-01", "to": "2026-11-25"}, "from"),
                          ({"date": REPORT_DAY, "format": "xml"}, "format")):
        r = daemon.get("/api/v1/reports/discharges", params=params, headers=bm.auth)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["error"]["field"] == field, (params, r.text)
    for who in ("nurse", "social_worker", "ot", "physio"):
        r = daemon.get("/api/v1/reports/discharges", headers=people[who].auth)
        assert r.status_code == 403, (who, r.text)

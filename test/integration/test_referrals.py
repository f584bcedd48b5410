"""Referrals to the care transfer hub (issue 15): the day-one notice at admission (form, API,
HL7), every step of the lifecycle with If-Match, who may take which step, the history, audit,
events on the stream and webhooks, what discharge / cancel / reopen do, and the retired
Care Act assessment API.  The claiming behaviours test_assessments.py proved (one winner of a
race, the holder named, only the holder lets go, the queue's filters) are proved here for the
referral's hold."""
import json
import os
import threading
import time
import uuid

import pytest
import requests

from conftest import (Daemon, admit, admission_body, ensure_ward, make_user, nhs_number,
                      stop_daemon_clean)
from hl7_util import Mllp, adt, hl7_now, msa
from sse import SSEClient

WARD = "RF1"
OTHER_WARD = "RF2"
BARE_WARD = "RF3"  # no hub configured

HUB = "00000000-0000-4000-8000-0000000f0001"
OTHER_HUB = "00000000-0000-4000-8000-0000000f0002"
PROVIDER = "00000000-0000-4000-8000-0000000f0003"
COUNCIL = "00000000-0000-4000-8000-0000000f0004"

# lib/referral.c referral_task_status(), the FHIR Task.status of each state
TASK_STATUS = {"notified": "draft", "referred": "requested", "info_requested": "on-hold",
               "accepted": "accepted", "declined": "rejected", "sourced": "in-progress",
               "start_confirmed": "ready", "completed": "completed", "withdrawn": "cancelled"}

ENV = {"CAREBRIDGE_WEBHOOK_MAX_BACKOFF": "2s", "CAREBRIDGE_WEBHOOK_LEASE": "3s"}


@pytest.fixture(scope="module")
def daemon(database):
    d = Daemon(database.url, env=dict(ENV))
    d.extra_env["CAREBRIDGE_MLLP_PORT_FILE"] = os.path.join(d.tmp.name, "mllp_port")
    d.start()
    with open(d.extra_env["CAREBRIDGE_MLLP_PORT_FILE"]) as f:
        d.mllp_port = int(f.read().strip())
    yield d
    stop_daemon_clean(d)


@pytest.fixture(scope="module")
def orgs(database):
    database.sql(
        "INSERT INTO organisations (id, code, name, kind, services) VALUES"
        f" ('{HUB}', 'RFHUB', 'Referral test hub', 'hub', '{{}}'),"
        f" ('{OTHER_HUB}', 'RFHUB2', 'Another hub', 'hub', '{{}}'),"
        f" ('{PROVIDER}', 'RFPROV', 'Home care provider', 'provider', '{{home_care}}'),"
        f" ('{COUNCIL}', 'RFLA', 'The council', 'local_authority', '{{}}')"
        " ON CONFLICT DO NOTHING")
    for w in (WARD, OTHER_WARD, BARE_WARD):
        ensure_ward(database, w)
    database.sql(f"UPDATE wards SET hub_organisation_id = '{HUB}'"
                 f" WHERE code IN ('{WARD}', '{OTHER_WARD}')")
    return True


def partner(database, role, org):
    """A partner user of organisation org (an id or a code)."""
    return make_user(database, role, organisation=org)


@pytest.fixture(scope="module")
def people(database, orgs):
    return {
        "nurse": make_user(database, "nurse", wards=[WARD, BARE_WARD]),
        "nurse_b": make_user(database, "nurse", wards=[OTHER_WARD]),
        "sw": make_user(database, "social_worker"),
        "sw2": make_user(database, "social_worker"),
        "ot": make_user(database, "ot"),
        "physio": make_user(database, "physio"),
        "bm": make_user(database, "bed_manager"),
        "admin": make_user(database, "admin"),
        "hub": partner(database, "hub_coordinator", HUB),
        "other_hub": partner(database, "hub_coordinator", OTHER_HUB),
        "council": partner(database, "council_social_worker", HUB),
        "provider": partner(database, "provider_staff", PROVIDER),
    }


def error(r):
    return r.json()["error"]


def user_id(database, user):
    return database.sql(f"SELECT id FROM users WHERE name = '{user.name}'")[0][0]


def referrals_of(daemon, user, episode_id):
    r = daemon.get(f"/api/v1/episodes/{episode_id}/referrals", headers=user.auth)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def new_referral(daemon, people, ward=WARD, **over):
    """Admit a patient (pathway 1 unless told); returns (episode, its open referral)."""
    nurse = people["nurse_b"] if ward == OTHER_WARD else people["nurse"]
    ep = admit(daemon, nurse, ward, **over)
    items = referrals_of(daemon, people["sw"], ep["id"])
    assert len(items) == 1, items
    return ep, items[0]


def get(daemon, user, rid):
    return daemon.get(f"/api/v1/referrals/{rid}", headers=user.auth)


def step(daemon, user, ref, name, version=None, **details):
    """Take step name on ref (its version unless told; version=False: no If-Match)."""
    headers = dict(user.auth)
    if version is not False:
        headers["If-Match"] = f'"{ref["version"] if version is None else version}"'
    return daemon.post(f"/api/v1/referrals/{ref['id']}/steps", json={"step": name, **details},
                       headers=headers)


def ok(r, code=200):
    assert r.status_code == code, r.text
    body = r.json()
    assert body["task_status"] == TASK_STATUS[body["state"]]
    assert r.headers["ETag"] == f'"{body["version"]}"'
    return body


def partners_loaded(daemon, people, ref):
    """Whether the daemon knows a partner's organisation (principal.organisation, loaded by
    the partners branch's auth): until it does, partners fail closed and see nothing."""
    return get(daemon, people["hub"], ref["id"]).status_code == 200


def needs_partners(daemon, people, ref):
    if not partners_loaded(daemon, people, ref):
        pytest.skip("principal.organisation is not loaded yet (the partners branch does it); "
                    "partners fail closed")


def sent(daemon, people, **over):
    ep, ref = new_referral(daemon, people, needs="help with washing and dressing", **over)
    return ep, ok(step(daemon, people["sw"], ref, "send"))


# ---- the day-one notice ------------------------------------------------------------------

@pytest.mark.parametrize("pathway", [1, 2, 3])
def test_admission_by_api_opens_the_day_one_referral(daemon, database, people, pathway):
    ep = admit(daemon, people["nurse"], WARD, pathway=pathway, needs="lives alone; stairs",
               admitted_at="2026-11-20T09:30:00Z")
    ref = ep["referral"]
    assert ref is not None
    assert ref["state"] == "notified" and ref["task_status"] == "draft"
    assert ref["organisation"]["id"] == HUB and ref["organisation"]["kind"] == "hub"
    assert ref["pathway"] == pathway and ref["needs"] == "lives alone; stairs"
    assert ref["notified_at"] == "2026-11-20T09:30:00Z"  # the admission's time: day one
    assert ref["episode_id"] == ep["id"] and ref["version"] == 1
    # new admissions open no Care Act assessment any more
    assert database.sql(f"SELECT count(*) FROM assessments WHERE episode_id = '{ep['id']}'") \
        == [["0"]]
    # the first step, by who admitted
    r = daemon.get(f"/api/v1/referrals/{ref['id']}/steps", headers=people["sw"].auth)
    assert r.status_code == 200, r.text
    [first] = r.json()["items"]
    assert first["from_state"] is None and first["to_state"] == "notified"
    assert first["actor_name"] == people["nurse"].name
    assert first["detail"] == {"cause": "admission"}
    # its event, for the hub
    rows = database.sql(f"SELECT type, ward, discipline, episode_id, organisations::text,"
                        f" payload->'referral'->>'state', payload->>'step' FROM events"
                        f" WHERE payload->'referral'->>'id' = '{ref['id']}'"
                        f" AND type LIKE 'referral.%' ORDER BY id")
    assert rows == [["referral.created", WARD, "social_work", ep["id"], "{" + HUB + "}",
                     "notified", ""]]
    rows = database.sql(f"SELECT actor, action, before IS NULL, after->>'state' FROM audit"
                        f" WHERE entity = 'referral' AND entity_id = '{ref['id']}'"
                        f" AND action NOT IN ('referral.read', 'referral.steps')")
    assert rows == [[people["nurse"].name, "referral.open", "t", "notified"]]


@pytest.mark.parametrize("over", [{"pathway": 0}, {"pathway": None}])
def test_pathway_0_or_unknown_gets_no_referral(daemon, database, people, over):
    body = admission_body(WARD, **over)
    if body["pathway"] is None:
        del body["pathway"]
    r = daemon.post("/api/v1/admissions", json=body, headers=people["nurse"].auth)
    assert r.status_code == 201, r.text
    ep = r.json()
    assert ep["referral"] is None
    assert referrals_of(daemon, people["sw"], ep["id"]) == []
    assert database.sql(f"SELECT count(*) FROM events WHERE type = 'referral.created'"
                        f" AND episode_id = '{ep['id']}'") == [["0"]]


def test_admission_form_body_with_needs(daemon, people):
    """The ward board's admit form posts this body (server/static/ward.js) with its new
    'needs' box; a ward without a hub still gets the notice, to no organisation."""
    body = {"nhs_number": nhs_number(), "family_name": "Formperson", "given_name": "Fay",
            "birth_date": "1940-01-02", "ward": BARE_WARD, "bed": "4",
            "admitted_at": "2026-11-21T08:00:00.000Z", "pathway": 2,
            "needs": "hoist transfers"}
    r = daemon.post("/api/v1/admissions", json=body, headers=people["nurse"].auth)
    assert r.status_code == 201, r.text
    ref = r.json()["referral"]
    assert ref["state"] == "notified" and ref["needs"] == "hoist transfers"
    assert ref["organisation"] is None


@pytest.mark.parametrize("needs,field", [("x" * 4001, "needs"), (5, "needs")])
def test_admission_rejects_bad_needs(daemon, people, needs, field):
    r = daemon.post("/api/v1/admissions", json=admission_body(WARD, needs=needs),
                    headers=people["nurse"].auth)
    assert r.status_code == 400 and error(r)["field"] == field


def test_admission_by_hl7_shares_the_path(daemon, database, people):
    """A01 admits through the same store path: this one carries no likely pathway (no ZCB
    segment), so the notice opens when the ward sets one (a pathway change opens the referral); A03 then
    withdraws it, A13 puts it back, A11 withdraws it."""
    admin = people["admin"]
    r = daemon.put("/api/v1/hl7/ward-map/RF-PAS", json={"ward": WARD}, headers=admin.auth)
    assert r.status_code == 200, r.text
    visit = f"V{uuid.uuid4().hex[:10]}"
    c = Mllp(daemon.mllp_port)
    code, _, text = msa(c.call(adt("A01", visit, nhs=nhs_number(), ward="RF-PAS")))
    assert code == "AA", text
    eid = database.sql(f"SELECT id FROM episodes WHERE external_id = '{visit}'")[0][0]
    assert referrals_of(daemon, people["sw"], eid) == []
    ep = daemon.get(f"/api/v1/episodes/{eid}", headers=people["nurse"].auth).json()
    r = daemon.patch(f"/api/v1/episodes/{eid}", json={"pathway": 2},
                     headers={**people["nurse"].auth, "If-Match": f'"{ep["version"]}"'})
    assert r.status_code == 200, r.text
    [ref] = referrals_of(daemon, people["sw"], eid)
    assert ref["state"] == "notified" and ref["organisation"]["id"] == HUB
    assert r.json()["referral"]["id"] == ref["id"]
    # A03: nothing was arranged, so the referral is withdrawn
    code, _, text = msa(c.call(adt("A03", visit, ward="RF-PAS", discharge=hl7_now())))
    assert code == "AA", text
    [ref] = referrals_of(daemon, people["sw"], eid)
    assert ref["state"] == "withdrawn"
    assert ref["withdraw_reason"] == "discharged before the service was arranged"
    # A13 undoes the discharge: the referral is open again as it was
    code, _, text = msa(c.call(adt("A13", visit, ward="RF-PAS")))
    assert code == "AA", text
    [ref] = referrals_of(daemon, people["sw"], eid)
    assert ref["state"] == "notified" and ref["withdraw_reason"] is None
    # A11 cancels the admission: withdrawn, saying so
    code, _, text = msa(c.call(adt("A11", visit, ward="RF-PAS")))
    assert code == "AA", text
    [ref] = referrals_of(daemon, people["sw"], eid)
    assert ref["state"] == "withdrawn" and ref["withdraw_reason"] == "admission cancelled"
    c.close()
    steps = daemon.get(f"/api/v1/referrals/{ref['id']}/steps", headers=people["sw"].auth)
    assert [(s["from_state"], s["to_state"], s["actor_name"], s["detail"].get("cause"))
            for s in steps.json()["items"]] == [
        (None, "notified", people["nurse"].name, "pathway"),
        ("notified", "withdrawn", "system", "discharge"),
        ("withdrawn", "notified", "system", "reopen"),
        ("notified", "withdrawn", "system", "cancel")]


def hl7_ward(daemon, people):
    r = daemon.put("/api/v1/hl7/ward-map/RF-PAS", json={"ward": WARD},
                   headers=people["admin"].auth)
    assert r.status_code == 200, r.text
    return "RF-PAS"


def test_hl7_a01_with_a_likely_pathway_opens_the_day_one_referral(daemon, database, people):
    """hl7_pathway_field (default ZCB-1) carries the likely pathway: an A01 with ZCB|2 gets the
    same notified referral to the ward's hub as the form / API, on admission; PV2-8 is the
    EDD; an A01 without it gets none."""
    pas = hl7_ward(daemon, people)
    c = Mllp(daemon.mllp_port)
    visit = f"V{uuid.uuid4().hex[:10]}"
    code, _, text = msa(c.call(adt("A01", visit, nhs=nhs_number(), ward=pas,
                                   admit="202611200930+0000",
                                   segments=["PV2||||||||20261127", "ZCB|2"])))
    assert code == "AA", text
    eid = database.sql(f"SELECT id FROM episodes WHERE external_id = '{visit}'")[0][0]
    ep = daemon.get(f"/api/v1/episodes/{eid}", headers=people["nurse"].auth).json()
    assert ep["pathway"] == 2 and ep["expected_discharge_date"] == "2026-11-27"
    [ref] = referrals_of(daemon, people["sw"], eid)
    twin = admit(daemon, people["nurse"], WARD, pathway=2,
                 admitted_at="2026-11-20T09:30:00Z")["referral"]
    for key in ("state", "task_status", "pathway", "notified_at", "needs"):
        assert ref[key] == twin[key], key
    assert ref["state"] == "notified" and ref["organisation"]["id"] == HUB
    assert ref["notified_at"] == "2026-11-20T09:30:00Z"
    assert ep["referral"]["id"] == ref["id"]
    steps = daemon.get(f"/api/v1/referrals/{ref['id']}/steps", headers=people["sw"].auth)
    assert [(s["to_state"], s["actor_name"]) for s in steps.json()["items"]] == \
        [("notified", "hl7")]
    # without the segment: no pathway, no referral (and a PV2-8 that is no date is ignored)
    visit = f"V{uuid.uuid4().hex[:10]}"
    code, _, text = msa(c.call(adt("A01", visit, nhs=nhs_number(), ward=pas,
                                   segments=["PV2||||||||tomorrow"])))
    assert code == "AA", text
    eid = database.sql(f"SELECT id FROM episodes WHERE external_id = '{visit}'")[0][0]
    assert referrals_of(daemon, people["sw"], eid) == []
    ep = daemon.get(f"/api/v1/episodes/{eid}", headers=people["nurse"].auth).json()
    assert ep["pathway"] is None and ep["expected_discharge_date"] is None
    # pathway 0 is sent and stored, and refers nobody
    visit = f"V{uuid.uuid4().hex[:10]}"
    code, _, text = msa(c.call(adt("A01", visit, nhs=nhs_number(), ward=pas,
                                   segments=["ZCB|0"])))
    assert code == "AA", text
    eid = database.sql(f"SELECT id FROM episodes WHERE external_id = '{visit}'")[0][0]
    assert referrals_of(daemon, people["sw"], eid) == []
    c.close()


def test_hl7_a08_setting_the_pathway_opens_the_referral(daemon, database, people):
    pas = hl7_ward(daemon, people)
    c = Mllp(daemon.mllp_port)
    visit, nhs = f"V{uuid.uuid4().hex[:10]}", nhs_number()
    assert msa(c.call(adt("A01", visit, nhs=nhs, ward=pas)))[0] == "AA"
    eid = database.sql(f"SELECT id FROM episodes WHERE external_id = '{visit}'")[0][0]
    assert referrals_of(daemon, people["sw"], eid) == []
    # an A08 without the field leaves the pathway alone
    assert msa(c.call(adt("A08", visit, nhs=nhs, ward=pas)))[0] == "AA"
    assert referrals_of(daemon, people["sw"], eid) == []
    code, _, text = msa(c.call(adt("A08", visit, nhs=nhs, ward=pas, segments=["ZCB|1"])))
    assert code == "AA", text
    [ref] = referrals_of(daemon, people["sw"], eid)
    assert ref["state"] == "notified" and ref["organisation"]["id"] == HUB
    assert ref["pathway"] == 1
    steps = daemon.get(f"/api/v1/referrals/{ref['id']}/steps", headers=people["sw"].auth)
    assert [(s["to_state"], s["actor_name"], s["detail"].get("cause"))
            for s in steps.json()["items"]] == [("notified", "hl7", "pathway")]
    # a change of pathway keeps the one open referral, as a PATCH does
    assert msa(c.call(adt("A08", visit, nhs=nhs, ward=pas, segments=["ZCB|3"])))[0] == "AA"
    assert len(referrals_of(daemon, people["sw"], eid)) == 1
    ep = daemon.get(f"/api/v1/episodes/{eid}", headers=people["nurse"].auth).json()
    assert ep["pathway"] == 3
    c.close()


@pytest.mark.parametrize("event", ["A01", "A08"])
@pytest.mark.parametrize("value", ["4", "12", "P2", "-1"])
def test_hl7_bad_pathway_is_an_ae_naming_the_field(daemon, database, people, event, value):
    pas = hl7_ward(daemon, people)
    c = Mllp(daemon.mllp_port)
    visit, nhs = f"V{uuid.uuid4().hex[:10]}", nhs_number()
    if event == "A08":
        assert msa(c.call(adt("A01", visit, nhs=nhs, ward=pas, family="Before")))[0] == "AA"
    code, _, text = msa(c.call(adt(event, visit, nhs=nhs, ward=pas, family="After",
                                   segments=[f"ZCB|{value}"])))
    c.close()
    assert code == "AE"
    assert "ZCB-1" in text and "pathway must be 0, 1, 2 or 3" in text, text
    rows = database.sql(f"SELECT id, pathway FROM episodes WHERE external_id = '{visit}'")
    if event == "A01":
        assert rows == []  # nothing applied
    else:
        [[eid, pathway]] = rows
        assert pathway in (None, "") and referrals_of(daemon, people["sw"], eid) == []
        ep = daemon.get(f"/api/v1/episodes/{eid}", headers=people["nurse"].auth).json()
        assert ep["patient"]["family_name"] == "Before"  # nothing of the A08 applied


def test_pathway_change_opens_one_only_when_none_is_open(daemon, people):
    ep = admit(daemon, people["nurse"], WARD, pathway=0)
    assert ep["referral"] is None
    r = daemon.patch(f"/api/v1/episodes/{ep['id']}", json={"pathway": 3},
                     headers={**people["nurse"].auth, "If-Match": f'"{ep["version"]}"'})
    assert r.status_code == 200, r.text
    ep = r.json()
    assert ep["referral"]["state"] == "notified" and ep["referral"]["pathway"] == 3
    r = daemon.patch(f"/api/v1/episodes/{ep['id']}", json={"pathway": 1},
                     headers={**people["nurse"].auth, "If-Match": f'"{ep["version"]}"'})
    assert r.status_code == 200, r.text
    assert len(referrals_of(daemon, people["sw"], ep["id"])) == 1
    # after a withdrawal a new one may follow
    ref = referrals_of(daemon, people["sw"], ep["id"])[0]
    ok(step(daemon, people["sw"], ref, "withdraw", reason="family will arrange care"))
    ep = r.json()
    r = daemon.patch(f"/api/v1/episodes/{ep['id']}", json={"pathway": 2},
                     headers={**people["nurse"].auth, "If-Match": f'"{ep["version"]}"'})
    assert r.status_code == 200, r.text
    states = [x["state"] for x in referrals_of(daemon, people["sw"], ep["id"])]
    assert states == ["withdrawn", "notified"]


# ---- the lifecycle -----------------------------------------------------------------------

def test_send_needs_an_organisation_and_needs(daemon, people):
    _, ref = new_referral(daemon, people, ward=BARE_WARD)
    r = step(daemon, people["sw"], ref, "send", needs="help at home")
    assert r.status_code == 400 and error(r)["field"] == "organisation"
    r = daemon.patch(f"/api/v1/referrals/{ref['id']}", json={"organisation_id": HUB},
                     headers={**people["sw"].auth, "If-Match": f'"{ref["version"]}"'})
    ref = ok(r)
    assert ref["organisation"]["id"] == HUB
    r = step(daemon, people["sw"], ref, "send")
    assert r.status_code == 400 and error(r)["field"] == "needs"
    ref = ok(step(daemon, people["sw"], ref, "send", needs="help at home", contacts="son"))
    assert ref["state"] == "referred" and ref["needs"] == "help at home"
    assert ref["contacts"] == "son" and ref["referred_at"] is not None


def test_whole_lifecycle_with_if_match(daemon, database, people):
    ep, ref = new_referral(daemon, people, needs="help with meals")
    needs_partners(daemon, people, ref)
    hub, sw = people["hub"], people["sw"]
    moves = [
        (sw, "send", {}, "referred"),
        (hub, "request_info", {"info_request": "who is the next of kin?"}, "info_requested"),
        (sw, "send", {"contacts": "daughter 07700 900123"}, "referred"),
        (hub, "accept", {"note": "taken on"}, "accepted"),
        (hub, "source", {"service_kind": "home_care", "service_provider_id": PROVIDER,
                         "service_detail": "4 calls a day", "start_date": "2099-01-10"},
         "sourced"),
        (people["provider"], "confirm_start", {"start_date": "2099-01-11"}, "start_confirmed"),
        (sw, "complete", {}, "completed"),
    ]
    for who, name, details, to in moves:
        stale = ref["version"] - 1
        r = step(daemon, who, ref, name, version=stale, **details)
        assert r.status_code == 412, (name, r.text)
        assert f"version {ref['version']}" in error(r)["message"]
        r = step(daemon, who, ref, name, version=False, **details)
        assert r.status_code == 428, (name, r.text)
        assert error(r)["field"] == "If-Match"
        new = ok(step(daemon, who, ref, name, **details))
        assert new["state"] == to and new["version"] == ref["version"] + 1, name
        ref = new
    assert ref["info_request"] == "who is the next of kin?"
    assert ref["contacts"] == "daughter 07700 900123"
    assert ref["service"] == {"provider": {"id": PROVIDER, "code": "RFPROV",
                                           "name": "Home care provider"},
                              "kind": "home_care", "detail": "4 calls a day",
                              "start_date": "2099-01-11"}
    assert ref["start_confirmed_at"] is not None and ref["closed_at"] is not None
    steps = daemon.get(f"/api/v1/referrals/{ref['id']}/steps", headers=sw.auth).json()["items"]
    assert [(s["from_state"], s["to_state"]) for s in steps] == [
        (None, "notified"), ("notified", "referred"), ("referred", "info_requested"),
        ("info_requested", "referred"), ("referred", "accepted"), ("accepted", "sourced"),
        ("sourced", "start_confirmed"), ("start_confirmed", "completed")]
    assert steps[4]["actor_name"] == hub.name and steps[4]["actor_org"] == HUB
    assert steps[4]["detail"] == {"step": "accept", "note": "taken on"}
    assert steps[1]["actor_org"] == "00000000-0000-4000-8000-00000000a001"
    # each step audited with before and after, each announced for the hub and the provider
    rows = database.sql(f"SELECT before->>'state', after->>'state' FROM audit"
                        f" WHERE entity = 'referral' AND entity_id = '{ref['id']}'"
                        f" AND before IS NOT NULL ORDER BY id")
    assert rows == [[f, t] for f, t in [(s["from_state"], s["to_state"]) for s in steps[1:]]]
    rows = database.sql(f"SELECT type, payload->>'step', organisations::text FROM events"
                        f" WHERE payload->'referral'->>'id' = '{ref['id']}'"
                        f" AND type LIKE 'referral.%' ORDER BY id")
    assert [r[1] for r in rows] == ["", "send", "request_info", "send", "accept", "source",
                                    "confirm_start", "complete"]
    assert rows[-1] == ["referral.updated", "complete", "{" + HUB + "," + PROVIDER + "}"]


def test_decline_and_resend_and_withdraw(daemon, people):
    _, ref = sent(daemon, people)
    needs_partners(daemon, people, ref)
    r = step(daemon, people["hub"], ref, "decline")
    assert r.status_code == 400 and error(r)["field"] == "reason"
    ref = ok(step(daemon, people["hub"], ref, "decline", reason="out of area"))
    assert ref["state"] == "declined" and ref["decline_reason"] == "out of area"
    # the ward may change it while declined, then send it again (to another hub)
    r = daemon.patch(f"/api/v1/referrals/{ref['id']}", json={"organisation_id": OTHER_HUB},
                     headers={**people["sw"].auth, "If-Match": f'"{ref["version"]}"'})
    ref = ok(r)
    ref = ok(step(daemon, people["sw"], ref, "send"))
    assert ref["state"] == "referred" and ref["organisation"]["id"] == OTHER_HUB
    ref = ok(step(daemon, people["sw"], ref, "withdraw", reason="patient declined support"))
    assert ref["state"] == "withdrawn" and ref["withdraw_reason"] == "patient declined support"


@pytest.mark.parametrize("name,details", [
    ("accept", {}), ("source", {"service_kind": "home_care", "start_date": "2099-01-01"}),
    ("complete", {}), ("confirm_start", {"start_date": "2099-01-01"}),
])
def test_illegal_steps_are_409(daemon, people, name, details):
    _, ref = new_referral(daemon, people)  # notified
    who = people["sw"] if name == "complete" else people["hub"]
    if who is people["hub"]:
        needs_partners(daemon, people, ref)
    r = step(daemon, who, ref, name, **details)
    assert r.status_code == 409, r.text
    assert error(r)["field"] == "state" and '"notified"' in error(r)["message"]


def test_a_closed_referral_takes_no_step(daemon, people):
    _, ref = new_referral(daemon, people)
    ref = ok(step(daemon, people["sw"], ref, "withdraw", reason="not needed"))
    for name, details in (("send", {"needs": "x"}), ("withdraw", {"reason": "again"})):
        r = step(daemon, people["sw"], ref, name, **details)
        assert r.status_code == 409, r.text
    r = daemon.patch(f"/api/v1/referrals/{ref['id']}", json={"needs": "y"},
                     headers={**people["sw"].auth, "If-Match": f'"{ref["version"]}"'})
    assert r.status_code == 409 and error(r)["field"] == "state"


@pytest.mark.parametrize("body,field", [
    ({"step": "fly"}, "step"),
    ({}, "step"),
    ({"step": "send", "colour": "red"}, "colour"),
    ({"step": "send", "needs": 5}, "needs"),
    ({"step": "send", "needs": "x" * 4001}, "needs"),
    ({"step": "send", "reason": "because"}, "reason"),
    ({"step": "withdraw"}, "reason"),
    ({"step": "withdraw", "reason": "x" * 2001}, "reason"),
    ({"step": "source", "service_kind": "spa_day", "start_date": "2099-01-01"},
     "service_kind"),
    ({"step": "source", "service_kind": "home_care", "start_date": "31/01/2099"},
     "start_date"),
    ({"step": "send", "service_provider_id": PROVIDER}, "service_provider_id"),
    ({"step": "source", "service_kind": "home_care", "start_date": "2099-01-01",
      "service_provider_id": "nope"}, "service_provider_id"),
    ({"step": "send", "note": "x" * 2001}, "note"),
])
def test_bad_details_are_400_naming_the_field(daemon, people, body, field):
    _, ref = new_referral(daemon, people)
    r = daemon.post(f"/api/v1/referrals/{ref['id']}/steps", json=body,
                    headers={**people["sw"].auth, "If-Match": f'"{ref["version"]}"'})
    assert r.status_code == 400, r.text
    assert error(r)["field"] == field


def test_source_needs_a_real_provider(daemon, people):
    _, ref = sent(daemon, people)
    needs_partners(daemon, people, ref)
    ref = ok(step(daemon, people["hub"], ref, "accept"))
    r = step(daemon, people["hub"], ref, "source", service_kind="home_care",
             start_date="2099-02-01", service_provider_id=OTHER_HUB)
    assert r.status_code == 400 and error(r)["field"] == "service_provider_id"
    r = step(daemon, people["hub"], ref, "confirm_start", start_date="2000-01-01")
    assert r.status_code == 409


@pytest.mark.parametrize("body,field", [
    ({}, None), ({"state": "referred"}, "state"), ({"organisation_id": "x"}, "organisation_id"),
    ({"organisation_id": PROVIDER}, "organisation_id"),
    ({"organisation_id": str(uuid.uuid4())}, "organisation_id"),
    ({"contacts": "x" * 2001}, "contacts"),
])
def test_patch_rejects_bad_fields(daemon, people, body, field):
    _, ref = new_referral(daemon, people)
    r = daemon.patch(f"/api/v1/referrals/{ref['id']}", json=body,
                     headers={**people["sw"].auth, "If-Match": f'"{ref["version"]}"'})
    assert r.status_code == 400, r.text
    assert error(r)["field"] == field


def test_patch_needs_if_match(daemon, people):
    _, ref = new_referral(daemon, people)
    r = daemon.patch(f"/api/v1/referrals/{ref['id']}", json={"needs": "a"},
                     headers=people["sw"].auth)
    assert r.status_code == 428
    r = daemon.patch(f"/api/v1/referrals/{ref['id']}", json={"needs": "a"},
                     headers={**people["sw"].auth, "If-Match": '"99"'})
    assert r.status_code == 412
    r = daemon.patch(f"/api/v1/referrals/{ref['id']}", json={"needs": "a"},
                     headers={**people["sw"].auth, "If-Match": "x1"})
    assert r.status_code == 400 and error(r)["field"] == "If-Match"


# ---- who may do what ---------------------------------------------------------------------

def test_readers_and_ward_scoping(daemon, people):
    ep, ref = new_referral(daemon, people)
    for who in ("sw", "ot", "physio", "bm", "admin", "nurse"):
        assert get(daemon, people[who], ref["id"]).status_code == 200, who
    # a nurse of another ward: refused, and not in her list
    assert get(daemon, people["nurse_b"], ref["id"]).status_code == 403
    r = daemon.get(f"/api/v1/episodes/{ep['id']}/referrals", headers=people["nurse_b"].auth)
    assert r.status_code == 403
    ids = {i["id"] for i in daemon.get("/api/v1/referrals", params={"limit": 500},
                                       headers=people["nurse_b"].auth).json()["items"]}
    assert ref["id"] not in ids
    r = daemon.get("/api/v1/referrals", params={"ward": WARD}, headers=people["nurse_b"].auth)
    assert r.status_code == 403
    r = step(daemon, people["nurse_b"], ref, "withdraw", reason="x")
    assert r.status_code == 403


def test_sides(daemon, people):
    _, ref = new_referral(daemon, people, needs="meals")
    # the nurse on her own ward sends; ot, physio, bed manager and admin may not
    for who in ("ot", "physio", "bm", "admin"):
        r = step(daemon, people[who], ref, "send")
        assert r.status_code == 403, (who, r.text)
    ref = ok(step(daemon, people["nurse"], ref, "send"))
    # the trust does not take the partner's steps
    for who in ("sw", "nurse"):
        r = step(daemon, people[who], ref, "accept")
        assert r.status_code == 403, (who, r.text)
    needs_partners(daemon, people, ref)
    # the partner does not take the trust's; provider staff only confirm a start
    r = step(daemon, people["hub"], ref, "withdraw", reason="x")
    assert r.status_code == 403
    r = step(daemon, people["provider"], ref, "accept")
    assert r.status_code in (403, 404)
    ref = ok(step(daemon, people["council"], ref, "accept"))
    ref = ok(step(daemon, people["hub"], ref, "source", service_kind="reablement",
                  service_provider_id=PROVIDER, start_date="2099-03-01"))
    r = step(daemon, people["provider"], ref, "source", service_kind="reablement",
             start_date="2099-03-02")
    assert r.status_code == 403
    ok(step(daemon, people["provider"], ref, "confirm_start", start_date="2099-03-01"))


def test_partners_see_only_what_is_referred_to_them(daemon, people):
    ep, ref = new_referral(daemon, people, ward=BARE_WARD)  # to no organisation
    for who in ("hub", "other_hub", "council", "provider"):
        assert get(daemon, people[who], ref["id"]).status_code == 404, who
        r = daemon.get(f"/api/v1/referrals/{ref['id']}/steps", headers=people[who].auth)
        assert r.status_code == 404, who
        r = daemon.get(f"/api/v1/episodes/{ep['id']}/referrals", headers=people[who].auth)
        assert r.status_code == 404, who
        r = step(daemon, people[who], ref, "accept")
        assert r.status_code == 404, who
        ids = {i["id"] for i in daemon.get("/api/v1/referrals", params={"limit": 500},
                                           headers=people[who].auth).json()["items"]}
        assert ref["id"] not in ids
        # nor may they change it the trust's way, nor read the episode
        r = daemon.patch(f"/api/v1/referrals/{ref['id']}", json={"needs": "x"},
                         headers={**people[who].auth, "If-Match": '"1"'})
        assert r.status_code == 403
        assert daemon.get(f"/api/v1/episodes/{ep['id']}",
                          headers=people[who].auth).status_code == 403
    # referred to the hub: the other hub still sees nothing
    _, mine = new_referral(daemon, people)
    assert get(daemon, people["other_hub"], mine["id"]).status_code == 404
    ids = {i["id"] for i in daemon.get("/api/v1/referrals", params={"limit": 500},
                                       headers=people["other_hub"].auth).json()["items"]}
    assert mine["id"] not in ids
    needs_partners(daemon, people, mine)
    r = daemon.get("/api/v1/referrals", params={"limit": 500}, headers=people["hub"].auth)
    items = r.json()["items"]
    assert mine["id"] in {i["id"] for i in items}
    assert all(i["organisation"]["id"] == HUB or (i["service"] or {}).get("provider", {})
               .get("id") == HUB for i in items)
    view = get(daemon, people["hub"], mine["id"]).json()
    assert set(view["patient"]) == {"nhs_number", "family_name", "given_name", "birth_date"}
    assert "bed" not in view["episode"] and "tasks" not in view


@pytest.mark.parametrize("rid", ["3f1c9a52-8e0b-4d6a-9c1e-5b7a2d4e6f80", "not-a-uuid"])  # fixed: xdist workers must collect the same ids
def test_unknown_or_malformed_is_404(daemon, people, rid):
    assert get(daemon, people["sw"], rid).status_code == 404
    r = daemon.post(f"/api/v1/referrals/{rid}/steps", json={"step": "send"},
                    headers={**people["sw"].auth, "If-Match": '"1"'})
    assert r.status_code == 404


def test_needs_authentication(daemon):
    assert daemon.get("/api/v1/referrals").status_code == 401


# ---- the list ----------------------------------------------------------------------------

def test_list_is_oldest_first_with_a_cursor(daemon, people):
    made = [new_referral(daemon, people, ward=OTHER_WARD,
                         admitted_at=f"2026-10-0{i + 1}T10:00:00Z")[1]["id"] for i in range(3)]
    seen, cursor = [], None
    while True:
        params = {"ward": OTHER_WARD, "state": "notified", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = daemon.get("/api/v1/referrals", params=params, headers=people["sw"].auth)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["items"]) <= 2
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [x for x in seen if x in made] == made
    notified = [i for i in seen]
    assert len(notified) == len(set(notified))


def test_list_filters(daemon, people):
    _, a = new_referral(daemon, people)
    _, b = sent(daemon, people)
    _, c = new_referral(daemon, people)
    ok(step(daemon, people["sw"], c, "withdraw", reason="no longer needed"))

    def ids(**params):
        r = daemon.get("/api/v1/referrals", params={"limit": 500, **params},
                       headers=people["sw"].auth)
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["items"]}

    assert a["id"] in ids(state="notified") and b["id"] not in ids(state="notified")
    assert {a["id"], b["id"]} <= ids(state="notified,referred")
    assert c["id"] not in ids(open="true") and c["id"] in ids(open="false")
    assert a["id"] in ids(organisation=HUB) and a["id"] not in ids(organisation=OTHER_HUB)
    assert a["id"] in ids(ward=[WARD, OTHER_WARD]) and a["id"] not in ids(ward=OTHER_WARD)


@pytest.mark.parametrize("params,field", [
    ({"state": "done"}, "state"), ({"state": ","}, "state"), ({"limit": "0"}, "limit"),
    ({"open": "maybe"}, "open"), ({"organisation": "x"}, "organisation"),
    ({"cursor": "x"}, "cursor"), ({"ward": "no such ward!"}, "ward"),
])
def test_list_rejects_bad_parameters(daemon, people, params, field):
    r = daemon.get("/api/v1/referrals", params=params, headers=people["sw"].auth)
    assert r.status_code == 400, r.text
    assert error(r)["field"] == field


def test_reads_are_audited(daemon, database, people):
    _, ref = new_referral(daemon, people)
    assert get(daemon, people["physio"], ref["id"]).status_code == 200
    assert daemon.get("/api/v1/referrals", params={"state": "notified"},
                      headers=people["physio"].auth).status_code == 200
    rows = database.sql(f"SELECT action, entity, entity_id FROM audit"
                        f" WHERE actor = '{people['physio'].name}' ORDER BY id")
    assert ["referral.read", "referral", ref["id"]] in rows
    assert rows[-1][:2] == ["referral.list", "referral"]


# ---- hold and release (the queue's claim) ------------------------------------------------

def hold(daemon, user, ref, version=None, what="hold"):
    headers = {**user.auth, "If-Match": f'"{ref["version"] if version is None else version}"'}
    return daemon.post(f"/api/v1/referrals/{ref['id']}/{what}", headers=headers)


def test_hold_and_release(daemon, database, people):
    _, ref = new_referral(daemon, people)
    body = ok(hold(daemon, people["sw"], ref))
    assert body["held_by"] == user_id(database, people["sw"])
    assert body["held_by_name"] == people["sw"].name and body["held_at"] is not None
    assert body["state"] == "notified"
    for who in ("sw2", "sw"):  # someone else or the holder again: a conflict naming the holder
        r = hold(daemon, people[who], body)
        assert r.status_code == 409
        assert error(r)["message"] == f"referral is already held by {people['sw'].name}"
    r = hold(daemon, people["sw2"], body, what="release")
    assert r.status_code == 409 and people["sw"].name in error(r)["message"]
    r = hold(daemon, people["ot"], body, what="release")
    assert r.status_code == 403
    body = ok(hold(daemon, people["sw"], body, what="release"))
    assert body["held_by"] is None and body["held_at"] is None
    r = hold(daemon, people["sw"], body, what="release")
    assert r.status_code == 409
    assert daemon.post(f"/api/v1/referrals/{ref['id']}/hold",
                       headers=people["sw2"].auth).status_code == 428
    body = ok(hold(daemon, people["sw2"], body))
    # the queue's "held by me"... is the list's held_by in each item
    sent_ref = ok(step(daemon, people["sw2"], body, "send", needs="x"))
    r = hold(daemon, people["sw"], sent_ref)
    assert r.status_code == 409 and '"referred"' in error(r)["message"]
    rows = database.sql(f"SELECT actor, action FROM audit WHERE entity_id = '{ref['id']}'"
                        f" AND action LIKE 'referral.%' AND action NOT IN"
                        f" ('referral.read', 'referral.steps') ORDER BY id")
    assert rows == [[people["nurse"].name, "referral.open"], [people["sw"].name, "referral.hold"],
                    [people["sw"].name, "referral.release"], [people["sw2"].name, "referral.hold"],
                    [people["sw2"].name, "referral.send"]]


@pytest.mark.parametrize("who", ["ot", "physio", "bm", "admin"])
def test_only_the_referring_side_holds(daemon, people, who):
    _, ref = new_referral(daemon, people)
    assert hold(daemon, people[who], ref).status_code == 403


def test_hold_race_has_exactly_one_winner(daemon, database, people):
    users = [people["sw"], people["sw2"]]
    for _ in range(8):
        _, ref = new_referral(daemon, people)
        barrier = threading.Barrier(2)
        results = [None, None]

        def go(i):
            s = requests.Session()
            barrier.wait()
            results[i] = s.post(f"{daemon.base}/api/v1/referrals/{ref['id']}/hold",
                                headers={**users[i].auth, "If-Match": '"1"'}, timeout=30)

        threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 409], [r.text for r in results]
        winner = users[[r.status_code for r in results].index(200)]
        loser = results[[r.status_code for r in results].index(409)]
        assert winner.name in loser.json()["error"]["message"]
        rows = database.sql(f"SELECT count(*) FROM audit WHERE entity_id = '{ref['id']}'"
                            f" AND action = 'referral.hold'")
        assert rows == [["1"]]


# ---- events on the stream and webhooks ---------------------------------------------------

def test_events_on_the_stream_and_webhooks(daemon, database, people):
    from test_webhooks import SECRET, Receiver
    from webhook_sig import assert_signed
    rec = Receiver()
    rec.start()
    try:
        r = daemon.post("/api/v1/webhooks", json={"url": rec.url, "secret": SECRET},
                        headers=people["admin"].auth)
        assert r.status_code == 201, r.text
        s = SSEClient(daemon.base, f"/api/v1/stream?ward={OTHER_WARD}",
                      headers=people["sw"].auth)
        try:
            time.sleep(0.5)
            ep, ref = new_referral(daemon, people, ward=OTHER_WARD, needs="n")
            ref = ok(step(daemon, people["sw"], ref, "send"))
            want = [("referral.created", None, "notified"), ("referral.updated", "send", "referred")]
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                got = [(t, json.loads(d)["step"], json.loads(d)["referral"]["state"])
                       for _, t, d in s.events if t.startswith("referral.")
                       and json.loads(d)["referral"]["id"] == ref["id"]]
                if got == want:
                    break
                time.sleep(0.1)
            assert got == want
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with rec.lock:
                    hooks = [(json.loads(b)["type"], json.loads(b)["data"]["step"], h, b)
                             for h, b, _ in rec.received if json.loads(b)["type"]
                             .startswith("referral.") and json.loads(b)["data"]["referral"]
                             ["id"] == ref["id"]]
                if len(hooks) == 2:
                    break
                time.sleep(0.1)
            assert [(t, st) for t, st, _, _ in hooks] == [("referral.created", None),
                                                          ("referral.updated", "send")]
            for _, _, h, b in hooks:
                assert_signed(SECRET, h, b)
        finally:
            s.close()
    finally:
        rec.stop()


# ---- discharge, cancel and undo ----------------------------------------------------------

def discharge(daemon, people, ep):
    r = daemon.post(f"/api/v1/episodes/{ep['id']}/discharge",
                    json={"destination": "usual_residence", "pathway": 1}, headers=people["nurse"].auth)
    assert r.status_code == 200, r.text
    return r.json()


def test_discharge_completes_an_arranged_referral_and_reopen_restores_it(daemon, database,
                                                                         people):
    ep, ref = sent(daemon, people)
    needs_partners(daemon, people, ref)
    ref = ok(step(daemon, people["hub"], ref, "accept"))
    out = discharge(daemon, people, ep)
    assert out["referral"]["state"] == "completed" and out["referral"]["closed_at"]
    steps = daemon.get(f"/api/v1/referrals/{ref['id']}/steps",
                       headers=people["sw"].auth).json()["items"]
    assert steps[-1]["from_state"] == "accepted" and steps[-1]["to_state"] == "completed"
    assert steps[-1]["actor_name"] == "system"
    assert steps[-1]["detail"] == {"step": "complete", "cause": "discharge"}
    r = daemon.post(f"/api/v1/episodes/{ep['id']}/reopen", json={},
                    headers=people["nurse"].auth)
    assert r.status_code == 200, r.text
    assert r.json()["referral"]["state"] == "accepted"
    assert r.json()["referral"]["closed_at"] is None


@pytest.mark.parametrize("path", [[], ["send"]])
def test_discharge_withdraws_a_referral_not_yet_arranged(daemon, database, people, path):
    ep, ref = new_referral(daemon, people, needs="n")
    for name in path:
        ref = ok(step(daemon, people["sw"], ref, name))
    out = discharge(daemon, people, ep)
    assert out["referral"]["state"] == "withdrawn"
    assert out["referral"]["withdraw_reason"] == "discharged before the service was arranged"
    rows = database.sql(f"SELECT actor, action, before->>'state', after->>'state' FROM audit"
                        f" WHERE entity_id = '{ref['id']}' AND action = 'referral.withdraw'")
    assert rows == [["system", "referral.withdraw", ref["state"], "withdrawn"]]
    r = daemon.post(f"/api/v1/episodes/{ep['id']}/reopen", json={},
                    headers=people["nurse"].auth)
    assert r.status_code == 200, r.text
    assert r.json()["referral"]["state"] == ref["state"]
    assert r.json()["referral"]["withdraw_reason"] is None


def test_reopen_leaves_a_referral_closed_before_the_discharge(daemon, people):
    ep, ref = new_referral(daemon, people)
    ref = ok(step(daemon, people["sw"], ref, "withdraw", reason="family arranging"))
    discharge(daemon, people, ep)
    r = daemon.post(f"/api/v1/episodes/{ep['id']}/reopen", json={},
                    headers=people["nurse"].auth)
    assert r.status_code == 200, r.text
    [again] = referrals_of(daemon, people["sw"], ep["id"])
    assert again["state"] == "withdrawn" and again["version"] == ref["version"]


# ---- the task_status mapping -------------------------------------------------------------

def test_task_status_of_every_state_is_libs(database):
    """cb_referral_task_status (0028, in every JSON form) agrees with lib's table."""
    for state, status in TASK_STATUS.items():
        assert database.sql(f"SELECT cb_referral_task_status('{state}')") == [[status]]


# ---- the retired assessment API ----------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v1/assessments"),
    ("PATCH", "/api/v1/assessments/5d0e8f3a-2b71-4c96-8e4d-a1f7b3c9e260"),
    ("POST", "/api/v1/assessments/5d0e8f3a-2b71-4c96-8e4d-a1f7b3c9e260/claim"),
    ("POST", "/api/v1/assessments/5d0e8f3a-2b71-4c96-8e4d-a1f7b3c9e260/release"),
])
def test_assessment_routes_are_gone(daemon, people, method, path):
    r = daemon.request(method, path, json={}, headers=people["sw"].auth)
    assert r.status_code == 410, r.text
    assert error(r)["code"] == "gone" and "/api/v1/referrals" in error(r)["message"]
    assert daemon.request(method, path, json={}).status_code == 401


# ---- the migration of the Care Act assessments (0028) ------------------------------------

def test_assessments_at_schema_27_become_referrals_with_their_history(fresh_database,
                                                                      tmp_path):
    """A database at schema 27 with an assessment in each state migrates: each becomes a
    referral with the same id, the mapped state and holder, and GET .../steps gives its
    history: the opening, the assessment's own audit rows, the migration step."""
    import shutil
    from conftest import TOP, run_bin, start_daemon
    db = fresh_database
    env = {"CAREBRIDGE_DATABASE_URL": db.url, "CAREBRIDGE_DATABASE_OWNER_URL": db.owner_url}
    before = tmp_path / "migrations"
    shutil.copytree(TOP / "migrations", before)
    for f in before.glob("*.sql"):  # the schema as it was before 0028
        if f.name >= "0028":
            f.unlink()
    r = run_bin("migrate", "--dir", str(before), env=env)
    assert r.returncode == 0, r.stderr
    db.sql("INSERT INTO wards (code, name, beds) VALUES ('MR1', 'Ward MR1', 10)")
    holder = "99999999-0000-4000-8000-000000000001"
    db.sql(f"INSERT INTO users (id, name, role) VALUES ('{holder}', 'old.sw', 'social_worker')")
    # (assessment state, episode state) -> (referral state, held)
    cases = {
        ("unclaimed", "admitted"): ("notified", False),
        ("claimed", "admitted"): ("notified", True),
        ("in-progress", "admitted"): ("notified", True),
        ("on-hold", "admitted"): ("notified", True),
        ("completed", "admitted"): ("referred", False),
        ("completed", "discharged"): ("completed", False),
        ("cancelled", "admitted"): ("withdrawn", False),
        ("unclaimed", "cancelled"): ("withdrawn", False),
    }
    ids = {}
    for n, (astate, estate) in enumerate(cases):
        pid = f"{n:08d}-1111-4000-8000-000000000000"
        eid = f"{n:08d}-2222-4000-8000-000000000000"
        aid = f"{n:08d}-3333-4000-8000-000000000000"
        ids[(astate, estate)] = (eid, aid)
        db.sql("INSERT INTO patients (id, local_id, family_name, given_name, birth_date)"
               f" VALUES ('{pid}', 'MIG{n}', 'Test', 'Patient', '1940-01-01')")
        disc = "'2026-01-05T10:00:00Z'" if estate == "discharged" else "NULL"
        db.sql("INSERT INTO episodes (id, patient_id, state, ward, admitted_at, pathway,"
               f" discharged_at) VALUES ('{eid}', '{pid}', '{estate}', 'MR1',"
               f" '2026-01-01T10:00:00Z', 1, {disc})")
        claimed = astate in ("claimed", "in-progress", "on-hold", "completed")
        by = f"'{holder}'" if claimed else "NULL"
        at = "'2026-01-02T09:00:00Z'" if claimed else "NULL"
        done = "'2026-01-03T12:00:00Z'" if astate in ("completed", "cancelled") else "NULL"
        db.sql("INSERT INTO assessments (id, episode_id, state, claimed_by, claimed_at,"
               " opened_at, completed_at, note, updated_at) VALUES"
               f" ('{aid}', '{eid}', '{astate}', {by}, {at}, '2026-01-01T10:00:00Z',"
               f" {done}, 'old note', '2026-01-03T12:00:00Z')")
    # the claimed one's audit trail, as the assessment API wrote it
    _, aid = ids[("in-progress", "admitted")]
    eid = ids[("in-progress", "admitted")][0]
    db.sql("INSERT INTO audit (at, actor_id, actor, action, entity, entity_id, episode_id,"
           " before, after) VALUES"
           f" ('2026-01-02T09:00:00Z', '{holder}', 'old.sw', 'assessment.claim', 'assessment',"
           f" '{aid}', '{eid}', '{{\"state\": \"unclaimed\"}}', '{{\"state\": \"claimed\"}}'),"
           f" ('2026-01-02T11:00:00Z', '{holder}', 'old.sw', 'assessment.update', 'assessment',"
           f" '{aid}', '{eid}', '{{\"state\": \"claimed\"}}',"
           " '{\"state\": \"in-progress\", \"note\": \"spoke to daughter\"}')")
    r = run_bin("migrate", env=env)
    assert r.returncode == 0, r.stderr
    for (astate, estate), (state, held) in cases.items():
        eid, aid = ids[(astate, estate)]
        row = db.sql(f"SELECT episode_id, state, held_by FROM referrals WHERE id = '{aid}'")
        assert row == [[eid, state, holder if held else ""]], (astate, estate, row)
    bm = make_user(db, "bed_manager")
    d = start_daemon(db.url)
    try:
        for (astate, estate), (state, held) in cases.items():
            _, aid = ids[(astate, estate)]
            r = d.get(f"/api/v1/referrals/{aid}", headers=bm.auth)
            assert r.status_code == 200, r.text
            ref = r.json()
            assert ref["state"] == state and ref["task_status"] == TASK_STATUS[state]
            assert ref["held_by_name"] == ("old.sw" if held else None)
        _, aid = ids[("in-progress", "admitted")]
        steps = d.get(f"/api/v1/referrals/{aid}/steps", headers=bm.auth).json()["items"]
        assert [(s["at"], s["from_state"], s["to_state"], s["actor_name"]) for s in steps] == [
            ("2026-01-01T10:00:00Z", None, "notified", "migration"),
            ("2026-01-02T09:00:00Z", "unclaimed", "claimed", "old.sw"),
            ("2026-01-02T11:00:00Z", "claimed", "in-progress", "old.sw"),
            (steps[3]["at"], "notified", "notified", "migration"),
        ]
        assert steps[2]["detail"] == {"assessment_audit": "assessment.update",
                                      "note": "spoke to daughter"}
        assert steps[3]["detail"]["migrated_from"] == "assessment"
        assert steps[3]["detail"]["assessment"]["state"] == "in-progress"
        # and it moves on as any referral does
        sw = make_user(db, "social_worker")
        r = d.post(f"/api/v1/referrals/{aid}/steps", json={"step": "withdraw", "reason": "x"},
                   headers={**sw.auth, "If-Match": '"1"'})
        assert r.status_code == 200, r.text
    finally:
        stop_daemon_clean(d)

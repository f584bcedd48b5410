"""Issue 15, FHIR for the partners' systems: the referral as a ServiceRequest and its Task,
and a partner (hub, council, provider) reading the FHIR facade under the JSON API's rules.

Two hubs: ward FPA's patients are referred to hub A, ward FPB's to hub B; a provider is
brought in by hub A's "source" step; a council has nothing referred to it.  A partner
reads and finds exactly the patients, encounters, ServiceRequests and referral Tasks
referred to their organisation (searches filtered in SQL: totals count nothing else),
sees the minimum necessary of the patient and the episode, never a discipline task, and
gets 404 for anything else; every read is audited with the organisation.  Every resource
and Bundle answered is checked by the npm FHIR validator (test_fhir.Validator).
"""
import json
import uuid

import pytest

from conftest import admit, ensure_ward, make_user
from test_fhir import NHS, Validator, canon, get, ids, ok, outcome, sd, search

WARD_A, WARD_B = "FPA1", "FPB1"
# what a partner may see of a Patient and an Encounter (fhir_partner_cut)
PATIENT_KEYS = {"resourceType", "id", "meta", "identifier", "name", "gender", "birthDate"}
ENCOUNTER_KEYS = {"resourceType", "id", "meta", "extension", "status", "class", "subject",
                  "period", "location"}
PLAN_EXTENSIONS = ("no-criteria-to-reside", "discharge-ready-date", "expected-discharge-date",
                   "likely-discharge-pathway", "discharge-pathway")


@pytest.fixture(scope="module")
def fhir():
    v = Validator()
    yield v
    v.close()


@pytest.fixture(scope="module")
def world(daemon, database):
    w = {"admin": make_user(database, "admin"), "sw": make_user(database, "social_worker"),
         "bm": make_user(database, "bed_manager")}
    adm = w["admin"].auth
    sfx = uuid.uuid4().hex[:6]

    def org(body):
        r = daemon.post("/api/v1/organisations", json=body, headers=adm)
        assert r.status_code == 201, r.text
        return r.json()

    w["la"] = org({"code": f"FLA{sfx}", "name": "Council F", "kind": "local_authority"})
    w["hub_a"] = org({"code": f"FHA{sfx}", "name": "Hub FA", "kind": "hub"})
    w["hub_b"] = org({"code": f"FHB{sfx}", "name": "Hub FB", "kind": "hub"})
    w["prov"] = org({"code": f"FPR{sfx}", "name": "Home care F", "kind": "provider",
                     "services": ["home_care"]})
    for ward, hub in ((WARD_A, "hub_a"), (WARD_B, "hub_b")):
        ensure_ward(database, ward)
        r = daemon.patch(f"/api/v1/wards/{ward}", json={"hub_organisation_id": w[hub]["id"]},
                         headers=adm)
        assert r.status_code == 200, r.text
    w["nurse"] = make_user(database, "nurse", wards=[WARD_A, WARD_B])
    w["hub_a_user"] = make_user(database, "hub_coordinator", organisation=w["hub_a"]["code"])
    w["hub_b_user"] = make_user(database, "hub_coordinator", organisation=w["hub_b"]["code"])
    w["prov_user"] = make_user(database, "provider_staff", organisation=w["prov"]["code"])
    w["la_user"] = make_user(database, "council_social_worker", organisation=w["la"]["code"])
    w["trust"] = database.sql("SELECT code, name FROM organisations WHERE kind = 'trust'")[0]
    return w


def referral_of(daemon, w, ep):
    r = daemon.get(f"/api/v1/episodes/{ep['id']}/referrals", headers=w["sw"].auth)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == 1, items
    return items[0]


def step(daemon, user, ref, name, **details):
    r = daemon.post(f"/api/v1/referrals/{ref['id']}/steps", json={"step": name, **details},
                    headers={**user.auth, "If-Match": f'"{ref["version"]}"'})
    assert r.status_code == 200, r.text
    return r.json()


def admit_referred(daemon, w, ward, **over):
    """A patient admitted on ward (pathway 1), its day-one referral sent to the ward's hub."""
    ep = admit(daemon, w["nurse"], ward, sex="female", **over)
    ref = step(daemon, w["sw"], referral_of(daemon, w, ep), "send",
               needs="Help with washing and dressing twice a day")
    return ep, ref


@pytest.fixture(scope="module")
def cases(daemon, database, world):
    """p_a: referred to hub A, accepted and sourced from the provider; p_b: referred to hub
    B; p_none: pathway 0 on hub A's ward (no referral); p_declined: declined by hub A."""
    w = world
    c = {}
    c["ep_a"], ref = admit_referred(daemon, w, WARD_A)
    ref = step(daemon, w["hub_a_user"], ref, "accept")
    c["ref_a"] = step(daemon, w["hub_a_user"], ref, "source", service_kind="home_care",
                      service_provider_id=w["prov"]["id"], service_detail="4 calls a day",
                      start_date="2030-01-07")
    c["ep_b"], c["ref_b"] = admit_referred(daemon, w, WARD_B)
    c["ep_none"] = admit(daemon, w["nurse"], WARD_A, pathway=0)
    c["ep_declined"], ref = admit_referred(daemon, w, WARD_A)
    c["ref_declined"] = step(daemon, w["hub_a_user"], ref, "decline",
                             reason="out of area: refer to the council")
    return c


# ---- the mapping ------------------------------------------------------------------------

def test_service_request_is_the_referral(daemon, world, cases, fhir):
    w, ref, ep = world, cases["ref_a"], cases["ep_a"]
    sr = ok(get(daemon, w["sw"], f"/fhir/R4/ServiceRequest/{ref['id']}"), fhir)
    assert sr["resourceType"] == "ServiceRequest" and sr["id"] == ref["id"]
    assert sr["meta"]["versionId"] == str(ref["version"])
    assert sr["status"] == "active" and sr["intent"] == "order"        # sourced
    assert sr["category"][0]["coding"][0] == {
        "system": f"{canon(daemon)}/CodeSystem/referral-category", "code": "social-care",
        "display": "Social care referral"}
    assert sr["code"]["coding"][0] == {"system": f"{canon(daemon)}/CodeSystem/service-kind",
                                       "code": "home_care"}
    assert sr["code"]["text"] == "4 calls a day"
    assert sr["subject"] == {"reference": f"Patient/{ep['patient']['id']}"}
    assert sr["encounter"] == {"reference": f"Encounter/{ep['id']}"}
    assert sr["authoredOn"] == ref["referred_at"]
    assert sr["occurrenceDateTime"] == "2030-01-07"
    trust_code, trust_name = w["trust"]
    assert sr["requester"] == {"type": "Organization",
                               "identifier": {"system": f"{canon(daemon)}/Id/organisation", "value": trust_code},
                               "display": trust_name}
    assert [p["identifier"]["value"] for p in sr["performer"]] == [w["hub_a"]["code"],
                                                                  w["prov"]["code"]]
    assert sr["note"] == [{"text": "Help with washing and dressing twice a day"}]


def test_referral_task_follows_the_referral_state(daemon, world, cases, fhir):
    w, ref, ep = world, cases["ref_a"], cases["ep_a"]
    t = ok(get(daemon, w["sw"], f"/fhir/R4/Task/referral-{ref['id']}"), fhir)
    assert t["id"] == f"referral-{ref['id']}"
    assert t["status"] == "in-progress" == ref["task_status"]      # sourced
    assert t["businessStatus"]["coding"][0] == {"system": f"{canon(daemon)}/CodeSystem/referral-state",
                                                "code": "sourced"}
    assert t["intent"] == "order"
    assert t["code"]["coding"][0]["code"] == "fulfill"
    assert t["focus"] == {"reference": f"ServiceRequest/{ref['id']}"}
    assert t["for"] == {"reference": f"Patient/{ep['patient']['id']}"}
    assert t["encounter"] == {"reference": f"Encounter/{ep['id']}"}
    assert t["owner"]["identifier"] == {"system": f"{canon(daemon)}/Id/organisation", "value": w["hub_a"]["code"]}
    assert t["requester"]["identifier"]["value"] == w["trust"][0]
    assert t["authoredOn"] == ref["notified_at"] and t["lastModified"] == ref["updated_at"]
    assert t["executionPeriod"] == {"start": ref["accepted_at"]}
    # declined: the request is revoked, its Task rejected, with the hub's reason
    d = cases["ref_declined"]
    sr = ok(get(daemon, w["sw"], f"/fhir/R4/ServiceRequest/{d['id']}"), fhir)
    assert sr["status"] == "revoked" and sr["authoredOn"] == d["referred_at"]
    t = ok(get(daemon, w["sw"], f"/fhir/R4/Task/referral-{d['id']}"), fhir)
    assert t["status"] == "rejected" and t["businessStatus"]["coding"][0]["code"] == "declined"
    assert t["statusReason"] == {"text": "out of area: refer to the council"}
    # a notified one (never sent) is a draft
    ep = admit(daemon, w["nurse"], WARD_B)
    n = referral_of(daemon, w, ep)
    sr = ok(get(daemon, w["sw"], f"/fhir/R4/ServiceRequest/{n['id']}"), fhir)
    assert sr["status"] == "draft" and sr["authoredOn"] == n["notified_at"]
    assert "note" not in sr and "code" not in sr
    b = search(daemon, w["sw"], "Task", fhir, _id=f"referral-{n['id']}")
    assert ids(b) == [f"referral-{n['id']}"]
    assert b["entry"][0]["resource"]["status"] == "draft"


def test_service_request_search_by_patient_status_and_last_updated(daemon, world, cases, fhir):
    w, c = world, cases
    pid = c["ep_a"]["patient"]["id"]
    b = search(daemon, w["sw"], "ServiceRequest", fhir, patient=f"Patient/{pid}")
    assert ids(b) == [c["ref_a"]["id"]] and b["total"] == 1
    assert ids(search(daemon, w["sw"], "ServiceRequest", fhir, patient=pid,
                      status="active")) == [c["ref_a"]["id"]]
    assert search(daemon, w["sw"], "ServiceRequest", fhir, patient=pid,
                  status="draft,revoked")["total"] == 0
    pid_d = c["ep_declined"]["patient"]["id"]
    assert ids(search(daemon, w["sw"], "ServiceRequest", fhir, patient=pid_d,
                      status="revoked")) == [c["ref_declined"]["id"]]
    assert search(daemon, w["sw"], "ServiceRequest", fhir, patient=pid,
                  _lastUpdated="gt2100-01-01")["total"] == 0
    assert search(daemon, w["sw"], "ServiceRequest", fhir, patient=pid,
                  _lastUpdated="ge2026-01-01")["total"] == 1
    outcome(get(daemon, w["sw"], "/fhir/R4/ServiceRequest", status="requested"), 400, fhir,
            "invalid", "status")
    # the referral Task by its status
    assert f"referral-{c['ref_a']['id']}" in ids(
        search(daemon, w["sw"], "Task", fhir, patient=pid, status="in-progress"))


# ---- partners ----------------------------------------------------------------------------

def test_a_hub_reads_exactly_its_referred_patients(daemon, world, cases, fhir):
    w, c = world, cases
    hub = w["hub_a_user"]
    mine = {c["ep_a"]["patient"]["id"], c["ep_declined"]["patient"]["id"]}
    b = search(daemon, hub, "Patient", fhir, _count="200")
    assert set(ids(b)) == mine and b["total"] == len(mine)
    b = search(daemon, hub, "Encounter", fhir, _count="200")
    assert set(ids(b)) == {c["ep_a"]["id"], c["ep_declined"]["id"]} and b["total"] == 2
    b = search(daemon, hub, "ServiceRequest", fhir, _count="200")
    assert set(ids(b)) == {c["ref_a"]["id"], c["ref_declined"]["id"]} and b["total"] == 2
    # only the referrals' Tasks, never a discipline task
    b = search(daemon, hub, "Task", fhir, _count="200")
    assert set(ids(b)) == {f"referral-{c['ref_a']['id']}",
                           f"referral-{c['ref_declined']['id']}"} and b["total"] == 2
    assert search(daemon, hub, "Task", fhir, patient=c["ep_a"]["patient"]["id"])["total"] == 1

    # the minimum necessary of the patient and the episode
    p = ok(get(daemon, hub, f"/fhir/R4/Patient/{c['ep_a']['patient']['id']}"), fhir)
    assert set(p) <= PATIENT_KEYS
    assert p["identifier"] == [{"system": NHS, "value": c["ep_a"]["patient"]["nhs_number"]}]
    assert p["gender"] == "female" and p["birthDate"] == "1941-05-06"
    assert p["name"][0]["family"] == "Testperson"
    e = ok(get(daemon, hub, f"/fhir/R4/Encounter/{c['ep_a']['id']}"), fhir)
    assert set(e) <= ENCOUNTER_KEYS and "hospitalization" not in e
    assert {x["url"] for x in e["extension"]} <= {sd(daemon) + x for x in PLAN_EXTENSIONS}
    assert sd(daemon) + "no-criteria-to-reside" in {x["url"] for x in e["extension"]}
    assert [x["location"]["identifier"]["value"] for x in e["location"]] == [WARD_A]
    assert "bed" not in json.dumps(e["location"])       # the ward, not the bed
    trust = ok(get(daemon, w["sw"], f"/fhir/R4/Encounter/{c['ep_a']['id']}"), fhir)
    assert len(trust["location"]) == 2                  # the trust sees the bed
    ok(get(daemon, hub, f"/fhir/R4/ServiceRequest/{c['ref_a']['id']}"), fhir)
    ok(get(daemon, hub, f"/fhir/R4/Task/referral-{c['ref_a']['id']}"), fhir)

    # anything else: 404, as for a record that does not exist
    disc_task = c["ep_a"]["tasks"][0]["id"]
    for path in (f"/fhir/R4/Patient/{c['ep_b']['patient']['id']}",
                 f"/fhir/R4/Patient/{c['ep_none']['patient']['id']}",
                 f"/fhir/R4/Encounter/{c['ep_b']['id']}",
                 f"/fhir/R4/Encounter/{c['ep_none']['id']}",
                 f"/fhir/R4/ServiceRequest/{c['ref_b']['id']}",
                 f"/fhir/R4/Task/referral-{c['ref_b']['id']}",
                 f"/fhir/R4/Task/{disc_task}"):
        outcome(get(daemon, hub, path), 404, fhir, "not-found", "id")
    for rtype, params in (("Patient", {"_id": c["ep_b"]["patient"]["id"]}),
                          ("Patient", {"identifier": f"{NHS}|{c['ep_b']['patient']['nhs_number']}"}),
                          ("Encounter", {"patient": c["ep_b"]["patient"]["id"]}),
                          ("ServiceRequest", {"patient": c["ep_b"]["patient"]["id"]}),
                          ("Task", {"patient": c["ep_b"]["patient"]["id"]}),
                          ("Task", {"_id": disc_task})):
        assert search(daemon, hub, rtype, fhir, **params)["total"] == 0, (rtype, params)

    # hub B: its own, not hub A's
    b = search(daemon, w["hub_b_user"], "ServiceRequest", fhir, _count="200")
    assert c["ref_b"]["id"] in ids(b) and c["ref_a"]["id"] not in ids(b)
    outcome(get(daemon, w["hub_b_user"], f"/fhir/R4/Patient/{c['ep_a']['patient']['id']}"),
            404, fhir, "not-found", "id")


def test_a_provider_reads_through_the_service_it_provides(daemon, world, cases, fhir):
    w, c = world, cases
    prov = w["prov_user"]
    b = search(daemon, prov, "Patient", fhir)
    assert ids(b) == [c["ep_a"]["patient"]["id"]] and b["total"] == 1
    assert ids(search(daemon, prov, "ServiceRequest", fhir)) == [c["ref_a"]["id"]]
    assert ids(search(daemon, prov, "Encounter", fhir)) == [c["ep_a"]["id"]]
    ok(get(daemon, prov, f"/fhir/R4/Encounter/{c['ep_a']['id']}"), fhir)
    outcome(get(daemon, prov, f"/fhir/R4/ServiceRequest/{c['ref_declined']['id']}"), 404,
            fhir, "not-found", "id")
    # a council with nothing referred to it finds nothing at all
    for rtype in ("Patient", "Encounter", "ServiceRequest", "Task"):
        assert search(daemon, w["la_user"], rtype, fhir)["total"] == 0, rtype


def test_every_partner_read_is_audited_with_the_organisation(daemon, database, world, cases,
                                                              fhir):
    w, c = world, cases
    hub, org = w["hub_a_user"], w["hub_a"]["id"]
    pid, rid = c["ep_a"]["patient"]["id"], c["ref_a"]["id"]
    before = int(database.sql("SELECT max(id) FROM audit")[0][0])
    ok(get(daemon, hub, f"/fhir/R4/Patient/{pid}"), fhir)
    ok(get(daemon, hub, f"/fhir/R4/Task/referral-{rid}"), fhir)
    b = search(daemon, hub, "ServiceRequest", fhir, patient=pid)
    rows = database.sql(f"SELECT action, entity, coalesce(entity_id::text, ''),"
                        f" coalesce(episode_id::text, ''), after->>'via',"
                        f" after->>'organisation' FROM audit"
                        f" WHERE id > {before} AND actor = '{hub.name}' ORDER BY id")
    assert rows == [
        ["patient.read", "patient", pid, "", "fhir.read", org],
        ["referral.read", "referral", rid, c["ep_a"]["id"], "fhir.read", org],
        ["fhir.search", "referral", "", "", "", org],
        ["referral.read", "referral", rid, c["ep_a"]["id"], "fhir.search", org],
    ], rows
    assert ids(b) == [rid]
    # the trust's reads carry no organisation, as before
    before = int(database.sql("SELECT max(id) FROM audit")[0][0])
    ok(get(daemon, w["sw"], f"/fhir/R4/ServiceRequest/{rid}"), fhir)
    rows = database.sql(f"SELECT action, after::text FROM audit WHERE id > {before}"
                        f" AND actor = '{w['sw'].name}'")
    assert rows == [["referral.read", '{"via": "fhir.read"}']]


def test_every_answer_was_validated(fhir):
    assert fhir.count > 40

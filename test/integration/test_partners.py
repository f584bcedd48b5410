"""Issue 15, partners: a partner organisation's users see exactly the patients referred to
their organisation and the referral's fields, and nothing else -- through the API (lists,
GETs: another organisation's referral is 404), the live stream (their referrals' events
only, never a ward's), a webhook of their organisation, and every trust route (403);
every read of a patient by a partner is audited with its organisation.  Also the
organisation admin API and CLI, users' and wards' organisations.

Two hubs (A, B) and two councils (A, B): ward PA's patients are referred to hub A, ward
PB's to hub B, ward PC's to council A (a council may run its own hub); a provider is
brought in by hub A's "source" step.
"""
import json
import time
import uuid

import pytest

from conftest import (admission_body, admit, cli, ensure_ward, make_organisation, make_user,
                      start_daemon, stop_daemon_clean)
from sse import SSEClient
from test_webhooks import Receiver

WARD_A, WARD_B, WARD_C = "PTA1", "PTB1", "PTC1"
SECRET = "partner-webhook-secret-0123456789"
# what a partner never sees of a patient: the rest of the episode and the trust's work
FORBIDDEN_KEYS = {"bed", "tasks", "barriers", "reviews", "notes", "note", "mrn",
                  "visit_number", "assessment", "delay", "readiness", "involvement"}


def keys_of(obj):
    """Every key anywhere in a JSON value."""
    if isinstance(obj, dict):
        out = set(obj)
        for v in obj.values():
            out |= keys_of(v)
        return out
    if isinstance(obj, list):
        out = set()
        for v in obj:
            out |= keys_of(v)
        return out
    return set()


@pytest.fixture(scope="module")
def daemon(database):
    d = start_daemon(database.url, env={"CAREBRIDGE_WEBHOOK_MAX_BACKOFF": "2s",
                                        "CAREBRIDGE_WEBHOOK_LEASE": "3s"})
    yield d
    stop_daemon_clean(d)


@pytest.fixture(scope="module")
def world(daemon, database):
    """Organisations (by the admin API), wards with hubs, partner users (by the CLI)."""
    w = {"admin": make_user(database, "admin"), "sw": make_user(database, "social_worker")}
    adm = w["admin"].auth

    def org(body):
        r = daemon.post("/api/v1/organisations", json=body, headers=adm)
        assert r.status_code == 201, r.text
        return r.json()

    sfx = uuid.uuid4().hex[:6]
    w["la_a"] = org({"code": f"LAA{sfx}", "name": "Council A", "kind": "local_authority"})
    w["la_b"] = org({"code": f"LAB{sfx}", "name": "Council B", "kind": "local_authority"})
    w["hub_a"] = org({"code": f"HUBA{sfx}", "name": "Hub A", "kind": "hub",
                      "local_authority_id": w["la_a"]["id"]})
    w["hub_b"] = org({"code": f"HUBB{sfx}", "name": "Hub B", "kind": "hub",
                      "local_authority_id": w["la_b"]["code"]})
    w["prov"] = org({"code": f"PRV{sfx}", "name": "Home care", "kind": "provider",
                     "services": ["home_care", "reablement"]})
    for ward, hub in ((WARD_A, "hub_a"), (WARD_B, "hub_b"), (WARD_C, "la_a")):
        ensure_ward(database, ward)
        r = daemon.patch(f"/api/v1/wards/{ward}", json={"hub_organisation_id": w[hub]["id"]},
                         headers=adm)
        assert r.status_code == 200, r.text
        assert r.json()["hub_organisation_id"] == w[hub]["id"]
    w["nurse"] = make_user(database, "nurse", wards=[WARD_A, WARD_B, WARD_C])
    w["hub_a_user"] = make_user(database, "hub_coordinator", organisation=w["hub_a"]["code"])
    w["hub_b_user"] = make_user(database, "hub_coordinator", organisation=w["hub_b"]["id"])
    w["la_a_user"] = make_user(database, "council_social_worker",
                               organisation=w["la_a"]["code"])
    w["la_b_user"] = make_user(database, "council_social_worker",
                               organisation=w["la_b"]["code"])
    w["prov_user"] = make_user(database, "provider_staff", organisation=w["prov"]["code"])
    return w


def admit_referred(daemon, w, ward):
    """Admit a pathway-1 patient on ward and send the day-one referral; returns
    (episode, referral as sent)."""
    ep = admit(daemon, w["nurse"], ward, needs="help with washing and dressing")
    r = daemon.get(f"/api/v1/episodes/{ep['id']}/referrals", headers=w["sw"].auth)
    assert r.status_code == 200, r.text
    (ref,) = r.json()["items"]
    r = daemon.post(f"/api/v1/referrals/{ref['id']}/steps", json={"step": "send"},
                    headers={**w["sw"].auth, "If-Match": f'"{ref["version"]}"'})
    assert r.status_code == 200, r.text
    return ep, r.json()


def step(daemon, user, ref, name, **details):
    r = daemon.post(f"/api/v1/referrals/{ref['id']}/steps", json={"step": name, **details},
                    headers={**user.auth, "If-Match": f'"{ref["version"]}"'})
    return r


def listed(daemon, user, **params):
    r = daemon.get("/api/v1/referrals", params={"limit": 500, **params}, headers=user.auth)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def audit_reads(database, user, referral_id):
    return database.sql(
        "SELECT a.action, a.after->>'organisation' FROM audit a JOIN users u ON u.id = a.actor_id"
        f" WHERE u.name = '{user.name}' AND a.entity = 'referral'"
        f" AND a.entity_id = '{referral_id}' ORDER BY a.id")


# ---- what a partner sees through the API -------------------------------------------------

def test_hub_sees_exactly_its_referred_patients_and_the_view(daemon, database, world):
    w = world
    ep_a1, ref_a1 = admit_referred(daemon, w, WARD_A)
    ep_a2, ref_a2 = admit_referred(daemon, w, WARD_A)
    ep_b1, ref_b1 = admit_referred(daemon, w, WARD_B)

    mine = listed(daemon, w["hub_a_user"])
    ids = {x["id"] for x in mine}
    assert {ref_a1["id"], ref_a2["id"]} <= ids
    assert ref_b1["id"] not in ids
    # nothing in the list names another organisation
    for item in mine:
        orgs = {item["organisation"]["id"]} if item["organisation"] else set()
        if item["service"] and item["service"]["provider"]:
            orgs.add(item["service"]["provider"]["id"])
        assert w["hub_a"]["id"] in orgs, item
        assert not keys_of(item) & FORBIDDEN_KEYS, keys_of(item) & FORBIDDEN_KEYS
        assert item["episode"]["ward"] == WARD_A
    # the view: the referral and the patient essentials, nothing else of the episode
    r = daemon.get(f"/api/v1/referrals/{ref_a1['id']}", headers=w["hub_a_user"].auth)
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["episode"]["id"] == ep_a1["id"] and view["patient"]["nhs_number"]
    assert view["needs"] == "help with washing and dressing"
    assert set(view["episode"]) <= {"id", "state", "ward", "ward_name", "admitted_at",
                                    "pathway", "discharge_pathway", "expected_discharge_date",
                                    "ready_at", "discharged_at"}
    assert not keys_of(view) & FORBIDDEN_KEYS
    # hub B sees the other patient and never hub A's
    theirs = {x["id"] for x in listed(daemon, w["hub_b_user"])}
    assert ref_b1["id"] in theirs and not theirs & {ref_a1["id"], ref_a2["id"]}
    # another organisation's referral does not exist for them
    for user, ref in ((w["hub_b_user"], ref_a1), (w["hub_a_user"], ref_b1),
                      (w["la_b_user"], ref_a1), (w["prov_user"], ref_a1)):
        r = daemon.get(f"/api/v1/referrals/{ref['id']}", headers=user.auth)
        assert r.status_code == 404, (user.name, r.text)
        r = daemon.get(f"/api/v1/referrals/{ref['id']}/steps", headers=user.auth)
        assert r.status_code == 404, (user.name, r.text)
        r = daemon.get(f"/api/v1/episodes/{ep_a1['id'] if ref is ref_a1 else ep_b1['id']}"
                       "/referrals", headers=user.auth)
        assert r.status_code == 404 or r.json()["items"] == [], (user.name, r.text)
        r = step(daemon, user, ref, "accept")
        assert r.status_code == 404, (user.name, r.text)
    # asking for another organisation's list gives nothing
    assert listed(daemon, w["hub_a_user"], organisation=w["hub_b"]["id"]) == []


def test_partners_are_refused_every_trust_route(daemon, world):
    w = world
    ep, ref = admit_referred(daemon, w, WARD_A)
    task = daemon.get(f"/api/v1/episodes/{ep['id']}/tasks", headers=w["nurse"].auth).json()
    task_id = task["items"][0]["id"] if task.get("items") else str(uuid.uuid4())
    calls = [
        ("GET", "/api/v1/episodes", None), ("GET", f"/api/v1/episodes/{ep['id']}", None),
        ("GET", "/api/v1/episodes", {"ward": WARD_A}),
        ("PATCH", f"/api/v1/episodes/{ep['id']}", {"bed": "2"}),
        ("GET", f"/api/v1/episodes/{ep['id']}/tasks", None),
        ("POST", f"/api/v1/episodes/{ep['id']}/tasks", {"discipline": "ward", "title": "x"}),
        ("PATCH", f"/api/v1/tasks/{task_id}", {"note": "x"}),
        ("GET", "/api/v1/tasks", None),
        ("GET", f"/api/v1/episodes/{ep['id']}/barriers", None),
        ("POST", f"/api/v1/episodes/{ep['id']}/barriers", {"reason": "transport"}),
        ("GET", f"/api/v1/episodes/{ep['id']}/reviews", None),
        ("POST", f"/api/v1/episodes/{ep['id']}/reviews", {"outcome": "meets_criteria"}),
        ("POST", "/api/v1/admissions", admission_body(WARD_A)),
        ("GET", "/api/v1/reports/delays", None), ("GET", "/api/v1/reports/sitrep", None),
        ("GET", "/api/v1/reports/drd", None), ("GET", "/api/v1/reports/long-stay", None),
        ("GET", "/api/v1/audit", None), ("GET", "/api/v1/users", None),
        ("GET", "/api/v1/webhooks", None),
        ("GET", "/api/v1/hl7/messages", None),
        ("PATCH", f"/api/v1/referrals/{ref['id']}", {"needs": "x"}),
        ("POST", f"/api/v1/referrals/{ref['id']}/hold", {}),
    ]
    for who in ("hub_a_user", "la_a_user", "prov_user"):
        for method, path, body in calls:
            kw = {"params": body} if method == "GET" and body else {"json": body}
            r = daemon.request(method, path, headers=w[who].auth, **kw)
            assert r.status_code == 403, (who, method, path, r.status_code, r.text)
            assert r.json()["error"]["code"] == "forbidden"


PUBLIC_ORG_KEYS = {"id", "code", "name", "kind", "services", "local_authority_id"}


def test_organisations_readable_by_those_who_pick_them(daemon, database, world):
    """The hub's provider picker and the social workers' hub picker list organisations:
    hub coordinators, council social workers, social workers and bed managers read the
    public fields of the enabled ones (the admin reads everything); provider staff,
    nurses and therapists pick nothing (403)."""
    w = world
    off = daemon.post("/api/v1/organisations", headers=w["admin"].auth, json={
        "code": f"OFF{uuid.uuid4().hex[:6]}", "name": "Closed provider", "kind": "provider"})
    assert off.status_code == 201, off.text
    off = off.json()
    r = daemon.post(f"/api/v1/organisations/{off['id']}/disable", headers=w["admin"].auth)
    assert r.status_code == 200, r.text
    full = daemon.get("/api/v1/organisations", headers=w["admin"].auth).json()["items"]
    assert {"disabled", "version", "created_at"} <= set(full[0])
    assert off["id"] in {o["id"] for o in full}
    bm = make_user(database, "bed_manager")
    for who in (w["hub_a_user"], w["la_a_user"], w["sw"], bm):
        r = daemon.get("/api/v1/organisations", headers=who.auth)
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert all(set(o) == PUBLIC_ORG_KEYS for o in items), items
        ids = {o["id"] for o in items}
        assert {w["prov"]["id"], w["hub_a"]["id"], w["hub_b"]["id"]} <= ids
        assert off["id"] not in ids  # a disabled one cannot be picked
        prov = next(o for o in items if o["id"] == w["prov"]["id"])
        assert prov["services"] == ["home_care", "reablement"] and prov["kind"] == "provider"
        # ?kind= narrows, for either view
        r = daemon.get("/api/v1/organisations", params={"kind": "provider"}, headers=who.auth)
        assert {o["kind"] for o in r.json()["items"]} == {"provider"}
        r = daemon.get(f"/api/v1/organisations/{w['hub_a']['id']}", headers=who.auth)
        assert r.status_code == 200 and set(r.json()) == PUBLIC_ORG_KEYS, r.text
        r = daemon.get(f"/api/v1/organisations/{off['id']}", headers=who.auth)
        assert r.status_code == 404, r.text
    r = daemon.get("/api/v1/organisations", params={"kind": "castle"}, headers=w["sw"].auth)
    assert r.status_code == 400 and r.json()["error"]["field"] == "kind"
    r = daemon.get("/api/v1/organisations", params={"kind": "provider"},
                   headers=w["admin"].auth)
    assert {o["kind"] for o in r.json()["items"]} == {"provider"}
    assert off["id"] in {o["id"] for o in r.json()["items"]}
    for who in (w["prov_user"], w["nurse"]):
        for path in ("/api/v1/organisations", f"/api/v1/organisations/{w['hub_a']['id']}"):
            r = daemon.get(path, headers=who.auth)
            assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", r.text


def test_council_and_provider_see_only_theirs(daemon, database, world):
    w = world
    ep_c, ref_c = admit_referred(daemon, w, WARD_C)       # council A runs this ward's hub
    ep_a, ref_a = admit_referred(daemon, w, WARD_A)
    assert ref_c["organisation"]["id"] == w["la_a"]["id"]
    assert ref_c["id"] in {x["id"] for x in listed(daemon, w["la_a_user"])}
    assert ref_c["id"] not in {x["id"] for x in listed(daemon, w["la_b_user"])}
    assert ref_a["id"] not in {x["id"] for x in listed(daemon, w["la_a_user"])}
    # the provider is brought in by hub A's sourcing: not before
    assert ref_a["id"] not in {x["id"] for x in listed(daemon, w["prov_user"])}
    assert daemon.get(f"/api/v1/referrals/{ref_a['id']}",
                      headers=w["prov_user"].auth).status_code == 404
    r = step(daemon, w["hub_a_user"], ref_a, "accept")
    assert r.status_code == 200, r.text
    r = step(daemon, w["hub_a_user"], r.json(), "source", service_kind="home_care",
             service_provider_id=w["prov"]["id"], service_detail="4 calls a day",
             start_date="2030-01-07")
    assert r.status_code == 200, r.text
    sourced = r.json()
    r = daemon.get(f"/api/v1/referrals/{ref_a['id']}", headers=w["prov_user"].auth)
    assert r.status_code == 200, r.text
    assert not keys_of(r.json()) & FORBIDDEN_KEYS
    assert ref_a["id"] in {x["id"] for x in listed(daemon, w["prov_user"])}
    # provider staff confirm the start; they take no other step
    assert step(daemon, w["prov_user"], sourced, "decline", reason="x").status_code == 403
    r = step(daemon, w["prov_user"], sourced, "confirm_start", start_date="2030-01-07")
    assert r.status_code == 200, r.text
    # the trust routes stay shut for both
    for who in ("la_a_user", "prov_user"):
        assert daemon.get(f"/api/v1/episodes/{ep_a['id']}",
                          headers=w[who].auth).status_code == 403


def test_every_partner_read_is_audited_with_the_organisation(daemon, database, world):
    w = world
    ep, ref = admit_referred(daemon, w, WARD_A)
    user = make_user(database, "hub_coordinator", organisation=w["hub_a"]["code"])
    assert audit_reads(database, user, ref["id"]) == []
    items = listed(daemon, user)
    shown = [x["id"] for x in items]
    assert ref["id"] in shown
    rows = database.sql(
        "SELECT a.entity_id::text, a.after->>'organisation', a.episode_id::text FROM audit a"
        f" JOIN users u ON u.id = a.actor_id WHERE u.name = '{user.name}'"
        " AND a.action = 'referral.read' AND a.entity = 'referral'")
    # one row per patient shown, each with the organisation
    assert sorted(r[0] for r in rows) == sorted(shown)
    assert {r[1] for r in rows} == {w["hub_a"]["id"]}
    assert daemon.get(f"/api/v1/referrals/{ref['id']}", headers=user.auth).status_code == 200
    assert daemon.get(f"/api/v1/referrals/{ref['id']}/steps",
                      headers=user.auth).status_code == 200
    got = audit_reads(database, user, ref["id"])
    assert [a for a, _ in got] == ["referral.read", "referral.read", "referral.steps"]
    assert {o for _, o in got} == {w["hub_a"]["id"]}
    # a trust user's read stays as it was: no organisation in its row
    daemon.get(f"/api/v1/referrals/{ref['id']}", headers=w["sw"].auth)
    (row,) = audit_reads(database, w["sw"], ref["id"])[-1:]
    assert list(row) == ["referral.read", ""]    # NULL


# ---- the live stream and webhooks ---------------------------------------------------------

def test_stream_gives_a_partner_only_its_referrals_events(daemon, world):
    w = world
    base = daemon.base
    hub_a = SSEClient(base, "/api/v1/stream", headers=w["hub_a_user"].auth)
    prov = SSEClient(base, "/api/v1/stream?ward=" + WARD_A, headers=w["prov_user"].auth)
    nurse = SSEClient(base, "/api/v1/stream", headers=w["nurse"].auth)
    time.sleep(0.5)
    ep_a, ref_a = admit_referred(daemon, w, WARD_A)
    ep_b, ref_b = admit_referred(daemon, w, WARD_B)
    daemon.patch(f"/api/v1/episodes/{ep_a['id']}", json={"bed": "9"}, headers=w["nurse"].auth)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if any(json.loads(d).get("referral", {}).get("id") == ref_b["id"]
               for _, t, d in nurse.events if t.startswith("referral.")):
            break
        time.sleep(0.1)
    time.sleep(1)
    try:
        assert hub_a.status == 200 and prov.status == 200
        # the trust's nurse saw ward events and both referrals (its wards)
        assert any(t.startswith("episode.") for _, t, _ in nurse.events)
        got = [(t, json.loads(d)) for _, t, d in hub_a.events]
        assert got, "hub A received nothing"
        for t, d in got:
            assert t.startswith("referral."), t            # never a ward's other events
            assert d["referral"]["organisation"]["id"] == w["hub_a"]["id"], d
            assert not keys_of(d) & FORBIDDEN_KEYS
        assert ref_a["id"] in {d["referral"]["id"] for _, d in got}
        assert ref_b["id"] not in {d["referral"]["id"] for _, d in got}
        # the provider is on no referral yet: nothing at all
        assert prov.events == []
    finally:
        for c in (hub_a, prov, nurse):
            c.close()


def test_webhook_of_an_organisation_gets_only_its_referral_events(daemon, database, world):
    w = world
    rec = Receiver()
    rec.start()
    try:
        r = daemon.post("/api/v1/webhooks", json={"url": rec.url, "secret": SECRET,
                                                  "organisation_id": w["hub_b"]["code"]},
                        headers=w["admin"].auth)
        assert r.status_code == 201, r.text
        hook = r.json()
        assert hook["organisation_id"] == w["hub_b"]["id"]
        ep_a, ref_a = admit_referred(daemon, w, WARD_A)
        ep_b, ref_b = admit_referred(daemon, w, WARD_B)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with rec.lock:
                bodies = [json.loads(b) for _, b, _ in rec.received]
            if any(b["type"] == "referral.updated" and b["data"]["referral"]["id"] == ref_b["id"]
                   for b in bodies if "data" in b) or \
               any(ref_b["id"] in json.dumps(b) and "send" in json.dumps(b) for b in bodies):
                break
            time.sleep(0.2)
        time.sleep(1)
        with rec.lock:
            bodies = [json.loads(b) for _, b, _ in rec.received]
        assert bodies, "the hub's webhook got nothing"
        text = json.dumps(bodies)
        assert ref_b["id"] in text
        assert ref_a["id"] not in text and ep_a["id"] not in text
        for b in bodies:
            assert b["type"].startswith("referral."), b["type"]
            assert not keys_of(b) & FORBIDDEN_KEYS
        # only a partner's organisation owns one
        for org, code in (("TRUST", 400), (str(uuid.uuid4()), 400), ("no such", 400)):
            r = daemon.post("/api/v1/webhooks", json={"url": rec.url, "secret": SECRET,
                                                      "organisation_id": org},
                            headers=w["admin"].auth)
            assert r.status_code == code, r.text
            assert r.json()["error"]["field"] == "organisation_id"
        daemon.delete(f"/api/v1/webhooks/{hook['id']}", headers=w["admin"].auth)
    finally:
        rec.stop()


# ---- organisations: admin API, users, wards, CLI ---------------------------------------

@pytest.mark.parametrize("body,field", [
    ({"name": "x", "kind": "hub"}, "code"),
    ({"code": "bad code!", "name": "x", "kind": "hub"}, "code"),
    ({"code": "-lead", "name": "x", "kind": "hub"}, "code"),
    ({"code": "OKC1", "kind": "hub"}, "name"),
    ({"code": "OKC2", "name": "", "kind": "hub"}, "name"),
    ({"code": "OKC3", "name": "x"}, "kind"),
    ({"code": "OKC4", "name": "x", "kind": "council"}, "kind"),
    ({"code": "OKC5", "name": "x", "kind": "trust"}, "kind"),
    ({"code": "OKC6", "name": "x", "kind": "hub", "services": ["home_care"]}, "services"),
    ({"code": "OKC7", "name": "x", "kind": "provider", "services": ["massage"]}, "services"),
    ({"code": "OKC8", "name": "x", "kind": "provider", "services": "home_care"}, "services"),
    ({"code": "OKC9", "name": "x", "kind": "provider",
      "services": ["home_care", "home_care"]}, "services"),
    ({"code": "OKCA", "name": "x", "kind": "hub", "local_authority_id": "TRUST"},
     "local_authority_id"),
    ({"code": "OKCB", "name": "x", "kind": "hub", "local_authority_id": "NOSUCH"},
     "local_authority_id"),
    ({"code": "OKCC", "name": "x", "kind": "local_authority", "local_authority_id": "TRUST"},
     "local_authority_id"),
    ({"code": "OKCD", "name": "x", "kind": "hub", "colour": "red"}, "colour"),
])
def test_organisation_validation_names_the_field(daemon, world, body, field):
    r = daemon.post("/api/v1/organisations", json=body, headers=world["admin"].auth)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == field, r.text


def test_organisation_admin_lifecycle(daemon, database, world):
    w = world
    adm = w["admin"].auth
    code = f"ORG{uuid.uuid4().hex[:6]}"
    r = daemon.post("/api/v1/organisations", json={
        "code": code, "name": "Reablement Co", "kind": "provider", "services": ["reablement"],
        "local_authority_id": w["la_a"]["id"]}, headers=adm)
    assert r.status_code == 201, r.text
    o = r.json()
    assert (o["kind"], o["services"], o["local_authority_id"], o["disabled"]) == \
        ("provider", ["reablement"], w["la_a"]["id"], False)
    assert r.headers["ETag"] == f'"{o["version"]}"'
    r = daemon.post("/api/v1/organisations", json={"code": code, "name": "x", "kind": "hub"},
                    headers=adm)
    assert r.status_code == 409 and r.json()["error"]["field"] == "code"
    assert daemon.get(f"/api/v1/organisations/{o['id']}", headers=adm).json()["code"] == code
    assert daemon.get(f"/api/v1/organisations/{uuid.uuid4()}", headers=adm).status_code == 404
    assert code in {x["code"] for x in daemon.get("/api/v1/organisations",
                                                  headers=adm).json()["items"]}
    # changes: If-Match, code and kind fixed, the same validation
    r = daemon.patch(f"/api/v1/organisations/{o['id']}", json={"name": "Renamed"},
                     headers={**adm, "If-Match": '"99"'})
    assert r.status_code == 412, r.text
    for body, field in (({"code": "NEW"}, "code"), ({"kind": "hub"}, "kind"),
                        ({"services": ["spa"]}, "services"),
                        ({"local_authority_id": w["hub_a"]["id"]}, "local_authority_id"),
                        ({"name": None}, "name")):
        r = daemon.patch(f"/api/v1/organisations/{o['id']}", json=body, headers=adm)
        assert r.status_code == 400 and r.json()["error"]["field"] == field, (body, r.text)
    r = daemon.patch(f"/api/v1/organisations/{o['id']}",
                     json={"name": "Renamed", "services": ["reablement", "equipment"],
                           "local_authority_id": None},
                     headers={**adm, "If-Match": f'"{o["version"]}"'})
    assert r.status_code == 200, r.text
    o2 = r.json()
    assert (o2["name"], o2["services"], o2["local_authority_id"], o2["version"]) == \
        ("Renamed", ["reablement", "equipment"], None, o["version"] + 1)
    # its users; then disabling it signs them out
    u = make_user(database, "provider_staff", organisation=code)
    me = daemon.get("/api/v1/me", headers=u.auth).json()
    assert me["organisation"] == {"id": o["id"], "code": code, "name": "Renamed",
                                  "kind": "provider"}
    r = daemon.post(f"/api/v1/organisations/{o['id']}/disable", headers=adm)
    assert r.status_code == 200 and r.json()["disabled"] is True, r.text
    assert daemon.get("/api/v1/me", headers=u.auth).status_code == 401
    assert daemon.post(f"/api/v1/organisations/{o['id']}/disable",
                       headers=adm).status_code == 409
    trust = "00000000-0000-4000-8000-00000000a001"
    assert daemon.post(f"/api/v1/organisations/{trust}/disable", headers=adm).status_code == 409
    # audited, announced to admins
    acts = [a for (a,) in database.sql(
        f"SELECT action FROM audit WHERE entity = 'organisation' AND entity_id = '{o['id']}'"
        " ORDER BY id")]
    assert acts == ["organisation.add", "organisation.update", "organisation.disable"]
    types = [t for (t,) in database.sql(
        f"SELECT type FROM events WHERE payload->>'id' = '{o['id']}' ORDER BY id")]
    assert types == ["organisation.created", "organisation.updated", "organisation.disabled"]
    # the trust's own /me
    me = daemon.get("/api/v1/me", headers=w["sw"].auth).json()
    assert me["organisation"]["kind"] == "trust" and me["organisation"]["id"] == trust


def test_users_and_wards_name_fitting_organisations(daemon, world):
    w = world
    adm = w["admin"].auth
    for body, field in (
            ({"role": "nurse", "wards": [WARD_A], "organisation": w["hub_a"]["code"]},
             "organisation"),
            ({"role": "hub_coordinator"}, "organisation"),           # default: the trust
            ({"role": "hub_coordinator", "organisation": w["prov"]["id"]}, "organisation"),
            ({"role": "provider_staff", "organisation": w["hub_a"]["id"]}, "organisation"),
            ({"role": "ot", "organisation": "NOSUCHORG"}, "organisation"),
            ({"role": "hub_coordinator", "organisation": w["hub_a"]["id"],
              "wards": [WARD_A]}, "wards")):
        r = daemon.post("/api/v1/users", json={"name": f"pt.{uuid.uuid4().hex[:8]}", **body},
                        headers=adm)
        assert r.status_code == 400 and r.json()["error"]["field"] == field, (body, r.text)
    for role, org in (("hub_coordinator", "hub_a"), ("hub_coordinator", "la_a"),
                      ("council_social_worker", "la_b"), ("council_social_worker", "hub_b"),
                      ("provider_staff", "prov")):
        r = daemon.post("/api/v1/users", json={"name": f"pt.{uuid.uuid4().hex[:8]}",
                                               "role": role, "organisation": w[org]["code"]},
                        headers=adm)
        assert r.status_code == 201, r.text
        assert r.json()["organisation"]["id"] == w[org]["id"]
    r = daemon.post("/api/v1/users", json={"name": f"pt.{uuid.uuid4().hex[:8]}", "role": "ot"},
                    headers=adm)
    assert r.status_code == 201 and r.json()["organisation"]["kind"] == "trust", r.text
    # a ward's hub is a hub or a council
    for hub in (w["prov"]["id"], "TRUST", str(uuid.uuid4())):
        r = daemon.patch(f"/api/v1/wards/{WARD_A}", json={"hub_organisation_id": hub},
                         headers=adm)
        assert r.status_code == 400 and r.json()["error"]["field"] == "hub_organisation_id", \
            r.text
    code = f"PTW{uuid.uuid4().hex[:5]}"
    r = daemon.post("/api/v1/wards", json={"code": code, "name": "New",
                                           "hub_organisation_id": w["la_b"]["code"]},
                    headers=adm)
    assert r.status_code == 201 and r.json()["hub_organisation_id"] == w["la_b"]["id"], r.text
    r = daemon.patch(f"/api/v1/wards/{code}", json={"hub_organisation_id": None}, headers=adm)
    assert r.status_code == 200 and r.json()["hub_organisation_id"] is None, r.text


def test_org_cli(database):
    code = f"CLI{uuid.uuid4().hex[:6]}"
    r = cli(database, "org", "add", "--code", code, "--name", "CLI hub", "--kind", "hub")
    assert "added" in r.stdout
    listing = cli(database, "org", "list").stdout
    assert code in listing and "TRUST" in listing
    for args, msg in ((["--code", "bad code", "--name", "x", "--kind", "hub"], "code"),
                      (["--code", code, "--name", "x", "--kind", "hub"], "already exists"),
                      (["--code", "X1", "--name", "x", "--kind", "hub", "--service",
                        "home_care"], "provider"),
                      (["--code", "X2", "--name", "x", "--kind", "provider",
                        "--local-authority", code], "local authority"),
                      (["--code", "X3", "--name", "x", "--kind", "trust"], "one trust")):
        r = cli(database, "org", "add", *args, check=False)
        assert r.returncode != 0 and msg in r.stderr, (args, r.stderr)
    # users belong to a fitting organisation
    r = cli(database, "user", "add", "--name", f"c{uuid.uuid4().hex[:8]}", "--role", "nurse",
            "--ward", "PTA1", "--organisation", code, check=False)
    assert r.returncode != 0 and "organisation" not in r.stdout and "trust" in r.stderr, r.stderr
    name = f"c{uuid.uuid4().hex[:8]}"
    cli(database, "user", "add", "--name", name, "--role", "hub_coordinator",
        "--organisation", code)
    assert code in [l for l in cli(database, "user", "list").stdout.splitlines()
                    if l.startswith(name)][0]
    r = cli(database, "org", "disable", code)
    assert "disabled" in r.stdout
    assert "disabled" in [l for l in cli(database, "org", "list").stdout.splitlines()
                          if l.startswith(code)][0]
    assert cli(database, "org", "disable", "TRUST", check=False).returncode != 0

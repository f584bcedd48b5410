"""Issue 15: the FHIR R4 read/search facade under /fhir/R4.

Every resource and Bundle the daemon answers here is checked by a FHIR R4 validator from
the package registry (the npm package fhir, test/fhir/validate.js, one node process for
the module), and the tests assert the values that matter besides: identifier systems,
status mapping, references, paging, the access rules of the JSON API (a nurse never sees
another ward's patient: 404 on a read, filtered out of a search) and the audit.
"""
import json
import pathlib
import subprocess
import uuid
from urllib.parse import parse_qs, urlparse

import pytest

from conftest import (admit, make_user, nhs_number, run_bin, start_daemon,
                      stop_daemon_clean)

TOP = pathlib.Path(__file__).resolve().parents[2]
NHS = "https://fhir.nhs.uk/Id/nhs-number"


def canon(daemon):
    """The base of carebridge's own FHIR names (identifier and code systems, extensions):
    config fhir_base_url, which these daemons leave unset: the public origin's /fhir."""
    return f"{daemon.base}/fhir"


def local_system(daemon):
    return canon(daemon) + "/Id/hospital-number"


def sd(daemon):
    return canon(daemon) + "/StructureDefinition/"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
FHIR_JSON = "application/fhir+json"

WARD = "FHA1"      # nurse's ward
OTHER = "FHB1"     # the other nurse's ward
PAGED = "FHP1"     # the paging ward: nothing else is admitted there


# FHIR.js warns about any code outside an element's value set, whatever the binding's
# strength.  R4 binds Task.code (TaskCode) as an *example* and Task.performerType
# (ProcedurePerformerRole) as *preferred*, and ServiceRequest.category (Service request
# category codes), ServiceRequest.code (Procedure codes) and
# Encounter.hospitalization.dischargeDisposition (DischargeDisposition) as *example*:
# carebridge's own code systems there are conformant, so that warning, at those elements
# only, is not a failure.
NON_REQUIRED_BINDINGS = ("Task.code", "Task.performerType", "ServiceRequest.category",
                         "ServiceRequest.code", "Encounter.hospitalization.dischargeDisposition")


def _tolerated(m):
    return (m["severity"] == "warning" and "not found in value set" in m["message"]
            and any(e in m.get("location", "") for e in NON_REQUIRED_BINDINGS))


class Validator:
    """test/fhir/validate.js: one line of resources in, one line of results out."""

    def __init__(self):
        if not (TOP / "test/fhir/node_modules/fhir").is_dir():
            raise RuntimeError("the FHIR validator is not installed: run scripts/bootstrap"
                               " (make check does)")
        self.proc = subprocess.Popen(["node", str(TOP / "test/fhir/validate.js")],
                                     cwd=str(TOP / "test/fhir"), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"
        self.count = 0

    def check(self, *resources):
        """Validate resources; fail on any error or warning (information is allowed)."""
        self.proc.stdin.write(json.dumps(list(resources)) + "\n")
        self.proc.stdin.flush()
        results = json.loads(self.proc.stdout.readline())
        assert isinstance(results, list), results
        for res, out in zip(resources, results):
            bad = [m for m in out["messages"]
                   if m["severity"] in ("error", "warning") and not _tolerated(m)]
            assert out["valid"] and not bad, (res.get("resourceType"), bad, res)
        self.count += len(resources)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def fhir():
    v = Validator()
    yield v
    v.close()


@pytest.fixture(scope="module")
def users(database):
    return {
        "nurse": make_user(database, "nurse", wards=[WARD]),
        "other": make_user(database, "nurse", wards=[OTHER]),
        "paged": make_user(database, "nurse", wards=[PAGED]),
        "bm": make_user(database, "bed_manager"),
        "ot": make_user(database, "ot"),
    }


def get(daemon, user, path, **params):
    headers = user.auth if user is not None else {}
    return daemon.get(path, params=params or None, headers=headers)


def ok(r, fhir=None):
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith(FHIR_JSON), r.headers
    body = r.json()
    if fhir is not None:
        fhir.check(body)
    return body


def outcome(r, code, fhir, issue=None, field=None):
    """An OperationOutcome with HTTP code (and issue code, expression field)."""
    assert r.status_code == code, r.text
    assert r.headers["Content-Type"].startswith(FHIR_JSON), r.headers
    body = r.json()
    assert body["resourceType"] == "OperationOutcome", body
    fhir.check(body)
    i = body["issue"][0]
    assert i["severity"] == "error" and i.get("diagnostics"), body
    if issue is not None:
        assert i["code"] == issue, body
    if field is not None:
        assert i.get("expression") == [field], body
    return body


def search(daemon, user, rtype, fhir, **params):
    b = ok(get(daemon, user, f"/fhir/R4/{rtype}", **params), fhir)
    assert b["resourceType"] == "Bundle" and b["type"] == "searchset", b
    for e in b["entry"]:
        assert e["search"]["mode"] == "match"
        assert e["fullUrl"] == f"{daemon.base}/fhir/R4/{rtype}/{e['resource']['id']}"
        assert e["resource"]["resourceType"] == rtype
    return b


def ids(bundle):
    return [e["resource"]["id"] for e in bundle["entry"]]


def referral_tasks(database, ep):
    """The FHIR ids of the Tasks of the episode's referrals (the day-one referral of a
    pathway 1-3 admission): a patient's Tasks are its discipline tasks and these."""
    return [f"referral-{r[0]}" for r in
            database.sql(f"SELECT id FROM referrals WHERE episode_id = '{ep['id']}'")]


# ---- metadata --------------------------------------------------------------------------

def test_metadata_is_a_capability_statement(daemon, fhir):
    r = daemon.get("/fhir/R4/metadata")          # public, as FHIR clients expect
    c = ok(r, fhir)
    assert c["resourceType"] == "CapabilityStatement"
    assert c["fhirVersion"] == "4.0.1" and c["kind"] == "instance" and c["status"] == "active"
    assert "json" in c["format"] and c["date"]
    assert c["implementation"]["url"] == f"{daemon.base}/fhir/R4"
    res = {x["type"]: x for x in c["rest"][0]["resource"]}
    assert set(res) == {"Patient", "Encounter", "Task", "ServiceRequest"}
    for x in res.values():
        assert {i["code"] for i in x["interaction"]} == {"read", "search-type"}
    params = {t: {p["name"] for p in x["searchParam"]} for t, x in res.items()}
    assert params["Patient"] == {"_id", "_lastUpdated", "identifier"}
    assert params["Encounter"] == params["Task"] == {"_id", "_lastUpdated", "patient", "status"}
    assert params["ServiceRequest"] == params["Task"]


# ---- Patient ---------------------------------------------------------------------------

def test_patient_read_maps_identifiers_name_birth_date_and_gender(daemon, database, users, fhir):
    ep = admit(daemon, users["nurse"], WARD, sex="female", family_name="Okafor",
               given_name="Ngozi", birth_date="1938-02-11")
    pid = ep["patient"]["id"]
    database.sql(f"UPDATE patients SET local_id = 'RX{pid[:6]}' WHERE id = '{pid}'")
    r = get(daemon, users["nurse"], f"/fhir/R4/Patient/{pid}")
    p = ok(r, fhir)
    assert r.headers["ETag"] == f'W/"{p["meta"]["versionId"]}"'
    assert p["resourceType"] == "Patient" and p["id"] == pid
    assert {"system": NHS, "value": ep["patient"]["nhs_number"]} in p["identifier"]
    assert {"system": local_system(daemon), "value": f"RX{pid[:6]}"} in p["identifier"]
    assert p["name"] == [{"use": "official", "family": "Okafor", "given": ["Ngozi"]}]
    assert p["birthDate"] == "1938-02-11" and p["gender"] == "female"
    assert p["meta"]["lastUpdated"].endswith("Z")


def test_patient_search_by_identifier_and_id(daemon, users, fhir):
    ep = admit(daemon, users["nurse"], WARD)
    pid, nhs = ep["patient"]["id"], ep["patient"]["nhs_number"]
    for value in (f"{NHS}|{nhs}", f"|{nhs}", nhs):
        b = search(daemon, users["nurse"], "Patient", fhir, identifier=value)
        assert b["total"] == 1 and ids(b) == [pid], (value, b)
    b = search(daemon, users["nurse"], "Patient", fhir, identifier=f"{local_system(daemon)}|{nhs}")
    assert b["total"] == 0 and b["entry"] == []
    b = search(daemon, users["nurse"], "Patient", fhir, _id=pid)
    assert ids(b) == [pid]
    b = search(daemon, users["nurse"], "Patient", fhir, _id="not-one-of-ours")
    assert b["total"] == 0
    outcome(get(daemon, users["nurse"], "/fhir/R4/Patient", identifier=f"urn:other|{nhs}"),
            400, fhir, "invalid", "identifier")


# ---- Encounter -------------------------------------------------------------------------

def test_encounter_read_maps_status_class_period_location_and_nctr(daemon, database, users,
                                                                   fhir):
    n, SD = users["nurse"], sd(daemon)
    ep = admit(daemon, n, WARD, bed="12", expected_discharge_date="2026-11-25", pathway=2)
    e = ok(get(daemon, n, f"/fhir/R4/Encounter/{ep['id']}"), fhir)
    assert e["status"] == "in-progress"
    assert e["class"]["system"] == ACT and e["class"]["code"] == "IMP"
    assert e["subject"] == {"reference": f"Patient/{ep['patient']['id']}"}
    assert e["period"] == {"start": "2026-11-20T09:30:00Z"}
    ward, bed = e["location"]
    assert ward["location"]["identifier"]["value"] == WARD and ward["status"] == "active"
    assert ward["physicalType"]["coding"][0]["code"] == "wa"
    assert bed["physicalType"]["coding"][0]["code"] == "bd" and "12" in bed["location"]["display"]
    ext = {x["url"]: x for x in e["extension"]}
    assert ext[SD + "no-criteria-to-reside"]["valueBoolean"] is False
    assert SD + "discharge-ready-date" not in ext
    assert ext[SD + "expected-discharge-date"]["valueDate"] == "2026-11-25"
    assert ext[SD + "likely-discharge-pathway"]["valueInteger"] == 2

    # NCTR: the discharge ready date is an extension
    r = daemon.patch(f"/api/v1/episodes/{ep['id']}", json={"ready_at": "2026-11-21T15:00:00Z"},
                     headers=n.auth)
    assert r.status_code == 200, r.text
    e = ok(get(daemon, n, f"/fhir/R4/Encounter/{ep['id']}"), fhir)
    ext = {x["url"]: x for x in e["extension"]}
    assert ext[SD + "no-criteria-to-reside"]["valueBoolean"] is True
    assert ext[SD + "discharge-ready-date"]["valueDateTime"] == "2026-11-21T15:00:00Z"

    # discharged: finished, the period ends, the destination is the disposition
    r = daemon.post(f"/api/v1/episodes/{ep['id']}/discharge",
                    json={"pathway": 1, "discharged_at": "2026-11-22T11:00:00Z",
                          "destination": "usual_residence",
                          "destination_note": "home with reablement"}, headers=n.auth)
    assert r.status_code == 200, r.text
    e = ok(get(daemon, n, f"/fhir/R4/Encounter/{ep['id']}"), fhir)
    assert e["status"] == "finished"
    assert e["period"] == {"start": "2026-11-20T09:30:00Z", "end": "2026-11-22T11:00:00Z"}
    disp = e["hospitalization"]["dischargeDisposition"]
    assert disp["coding"] == [{"system": canon(daemon) + "/CodeSystem/"
                                         "discharge-destination", "code": "usual_residence",
                               "display": disp["text"]}]
    assert disp["text"]  # the code's label
    assert all(loc["status"] == "completed" for loc in e["location"])
    ext = {x["url"]: x for x in e["extension"]}
    assert ext[SD + "discharge-pathway"]["valueInteger"] == 1
    assert ext[SD + "no-criteria-to-reside"]["valueBoolean"] is False

    # an admission cancelled (recorded in error)
    ep2 = admit(daemon, n, WARD)
    database.sql(f"UPDATE episodes SET state = 'cancelled' WHERE id = '{ep2['id']}'")
    e = ok(get(daemon, n, f"/fhir/R4/Encounter/{ep2['id']}"), fhir)
    assert e["status"] == "entered-in-error"


def test_encounter_search_by_patient_and_status(daemon, users, fhir):
    n = users["nurse"]
    ep = admit(daemon, n, WARD)
    pid = ep["patient"]["id"]
    for ref in (f"Patient/{pid}", pid):
        b = search(daemon, n, "Encounter", fhir, patient=ref)
        assert b["total"] == 1 and ids(b) == [ep["id"]], b
    assert ids(search(daemon, n, "Encounter", fhir, patient=pid, status="in-progress")) \
        == [ep["id"]]
    assert search(daemon, n, "Encounter", fhir, patient=pid, status="finished")["total"] == 0
    assert ids(search(daemon, n, "Encounter", fhir, patient=pid,
                      status="finished,in-progress")) == [ep["id"]]
    # a valid FHIR code carebridge never stores matches nothing; an invalid one is refused
    assert search(daemon, n, "Encounter", fhir, patient=pid, status="planned")["total"] == 0
    outcome(get(daemon, n, "/fhir/R4/Encounter", status="admitted"), 400, fhir, "invalid",
            "status")


# ---- Task ------------------------------------------------------------------------------

def test_task_read_and_search(daemon, database, users, fhir):
    n = users["nurse"]
    ep = admit(daemon, n, WARD, pathway=1)
    pid = ep["patient"]["id"]
    ward_task = next(t for t in ep["tasks"] if t["discipline"] == "ward")
    ot_task = next(t for t in ep["tasks"] if t["discipline"] == "ot")
    t = ok(get(daemon, n, f"/fhir/R4/Task/{ward_task['id']}"), fhir)
    assert t["status"] == "requested" and t["intent"] == "order"
    assert t["for"] == {"reference": f"Patient/{pid}"}
    assert t["encounter"] == {"reference": f"Encounter/{ep['id']}"}
    assert t["description"] == ward_task["title"] and t["code"]["text"] == ward_task["title"]
    assert t["performerType"][0]["coding"][0]["code"] == "ward"
    assert t["restriction"]["period"]["end"] == ward_task["due_at"]
    assert t["authoredOn"] == ward_task["created_at"]
    assert t["lastModified"] == ward_task["updated_at"]

    # the OT accepts theirs: FHIR's Task status, spelt the same
    r = daemon.patch(f"/api/v1/tasks/{ot_task['id']}", json={"status": "accepted"},
                     headers=users["ot"].auth)
    assert r.status_code == 200, r.text
    # the patient's Tasks: its discipline tasks and its day-one referral's (issue 15)
    referral = referral_tasks(database, ep)
    assert len(referral) == 1
    b = search(daemon, n, "Task", fhir, patient=f"Patient/{pid}")
    assert b["total"] == len(ep["tasks"]) + 1
    assert set(ids(b)) == {x["id"] for x in ep["tasks"]} | set(referral)
    b = search(daemon, n, "Task", fhir, patient=pid, status="accepted")
    assert ids(b) == [ot_task["id"]]
    assert b["entry"][0]["resource"]["performerType"][0]["coding"][0]["code"] == "ot"
    # the referral is notified: its Task is a draft
    b = search(daemon, n, "Task", fhir, patient=pid, status="requested,in-progress")
    assert b["total"] == len(ep["tasks"]) - 1
    outcome(get(daemon, n, "/fhir/R4/Task", status="open"), 400, fhir, "invalid", "status")


# ---- paging ----------------------------------------------------------------------------

BASE = "https://fhir.rx1.example.nhs.uk/carebridge"


def test_fhir_base_url_names_everything(database, users, fhir):
    """config fhir_base_url: the API's base (fullUrl, Bundle links, the CapabilityStatement)
    is <it>/R4 and carebridge's own systems and extensions sit under it; no placeholder
    domain is left in what is served, and the hospital number is searched by its system."""
    d = start_daemon(database.url, env={"CAREBRIDGE_FHIR_BASE_URL": BASE})
    try:
        n = users["nurse"]
        ep = admit(d, n, WARD, pathway=2)
        pid = ep["patient"]["id"]
        database.sql(f"UPDATE patients SET local_id = 'RB{pid[:6]}' WHERE id = '{pid}'")
        c = ok(d.get("/fhir/R4/metadata"), fhir)
        assert c["implementation"]["url"] == f"{BASE}/R4"
        p = ok(get(d, n, f"/fhir/R4/Patient/{pid}"), fhir)
        assert {"system": f"{BASE}/Id/hospital-number", "value": f"RB{pid[:6]}"} \
            in p["identifier"]
        e = ok(get(d, n, f"/fhir/R4/Encounter/{ep['id']}"), fhir)
        assert f"{BASE}/StructureDefinition/likely-discharge-pathway" in \
            {x["url"] for x in e["extension"]}
        assert e["location"][0]["location"]["identifier"]["system"] == f"{BASE}/Id/ward"
        b = ok(get(d, n, "/fhir/R4/Patient", identifier=f"{BASE}/Id/hospital-number|RB{pid[:6]}"),
               fhir)
        assert ids(b) == [pid]
        assert b["entry"][0]["fullUrl"] == f"{BASE}/R4/Patient/{pid}"
        assert b["link"][0]["url"].startswith(f"{BASE}/R4/Patient?")
        outcome(get(d, n, "/fhir/R4/Patient", identifier=f"{canon(d)}/Id/hospital-number|x"),
                400, fhir, "invalid", "identifier")
        for r in (c, p, e, b):
            assert "carebridge.example" not in json.dumps(r)
    finally:
        stop_daemon_clean(d)


@pytest.mark.parametrize("value,good", [
    (BASE, True), ("http://127.0.0.1:8080/fhir", True),
    (BASE + "/", False), ("ftp://x/fhir", False), ("/fhir", False), ("https://x/fhir?y=1", False),
    ("https://u@x/fhir", False)])
def test_fhir_base_url_is_checked(tmp_path, value, good):
    conf = tmp_path / "carebridge.conf"
    conf.write_text(f"[server]\nfhir_base_url = {value}\n")
    r = run_bin("check-config", "-c", str(conf))
    if good:
        assert r.returncode == 0, r.stderr
    else:
        assert r.returncode == 1
        assert f'{conf}:2: invalid value "{value}" for "fhir_base_url": not an absolute' \
            in r.stderr, \
            r.stderr


def test_paging_walks_every_match_once(daemon, users, fhir):
    n = users["paged"]
    made = {admit(daemon, n, PAGED)["id"] for _ in range(7)}
    seen, pages = [], 0
    b = search(daemon, n, "Encounter", fhir, _count="3", status="in-progress")
    while True:
        pages += 1
        assert b["total"] == 7
        links = {l["relation"]: l["url"] for l in b["link"]}
        assert links["self"].startswith(f"{daemon.base}/fhir/R4/Encounter?")
        seen += ids(b)
        if "next" not in links:
            break
        q = parse_qs(urlparse(links["next"]).query)
        assert q["_count"] == ["3"] and q["status"] == ["in-progress"], links["next"]
        r = daemon.get(links["next"][len(daemon.base):], headers=n.auth)
        b = ok(r, fhir)
        assert pages < 10
    assert pages == 3 and len(seen) == 7 and set(seen) == made
    assert seen == sorted(seen)                      # a stable order: the id
    # _count is capped at 200; the default is 50
    b = search(daemon, n, "Encounter", fhir, _count="5000")
    assert parse_qs(urlparse(b["link"][0]["url"]).query)["_count"] == ["200"]
    b = search(daemon, n, "Encounter", fhir)
    assert parse_qs(urlparse(b["link"][0]["url"]).query)["_count"] == ["50"]
    assert len(b["entry"]) == 7 and "next" not in {l["relation"] for l in b["link"]}


# ---- _lastUpdated ----------------------------------------------------------------------

def test_last_updated_filters_with_prefixes(daemon, database, users, fhir):
    n = users["nurse"]
    a, b = admit(daemon, n, WARD), admit(daemon, n, WARD)
    database.sql(f"UPDATE episodes SET updated_at = '2025-01-10T10:00:00Z' WHERE id = '{a['id']}'")
    database.sql(f"UPDATE episodes SET updated_at = '2025-01-12T10:00:00.5Z'"
                 f" WHERE id = '{b['id']}'")
    both = sorted([a["id"], b["id"]])

    def found(*values):
        params = [("_lastUpdated", v) for v in values]
        r = daemon.get("/fhir/R4/Encounter", params=params, headers=n.auth)
        return {i for i in ids(ok(r, fhir)) if i in both}

    assert found("ge2025-01-11") == {b["id"]}
    assert found("lt2025-01-11") == {a["id"]}
    assert found("2025-01-10") == {a["id"]}                    # eq is the default prefix
    assert found("eq2025-01") == set(both)
    assert found("gt2025-01-10T10:00:00Z") == {b["id"]}        # the whole second is passed
    assert found("ge2025-01-10T10:00:00Z", "le2025-01-12T10:00:00.5Z") == set(both)
    assert found("ge2025-01-10T10:00:00Z", "lt2025-01-12T10:00:00.5Z") == {a["id"]}
    assert found("ge2025-01-12T11:00:00+01:00") == {b["id"]}   # 10:00:00Z, to the second
    assert found("gt2025-01-12T11:00:00+01:00") == set()       # 10:00:00.5 is in that second
    assert found("gt2025-01-12T10:00:00.4Z") == {b["id"]}
    assert found("gt2025-01-12T10:00:00.5Z") == set()
    b_enc = ok(get(daemon, n, f"/fhir/R4/Encounter/{b['id']}"), fhir)
    assert b_enc["meta"]["lastUpdated"] == "2025-01-12T10:00:00.500000Z"
    for bad in ("yesterday", "2025-13-01", "2025-01-10T10:00", "ne2025-01-10", "2025-01-10T25:00Z"):
        outcome(get(daemon, n, "/fhir/R4/Encounter", _lastUpdated=bad), 400, fhir, "invalid",
                "_lastUpdated")


# ---- access ----------------------------------------------------------------------------

def test_nurse_of_another_ward_gets_404_and_empty_searches(daemon, database, users, fhir):
    ep = admit(daemon, users["nurse"], WARD)
    pid, task = ep["patient"]["id"], ep["tasks"][0]["id"]
    other = users["other"]
    for path in (f"/fhir/R4/Patient/{pid}", f"/fhir/R4/Encounter/{ep['id']}",
                 f"/fhir/R4/Task/{task}"):
        body = outcome(get(daemon, other, path), 404, fhir, "not-found", "id")
        # the same answer as for a record that does not exist
        missing = outcome(get(daemon, other, path.rsplit("/", 1)[0] + f"/{uuid.uuid4()}"), 404,
                          fhir, "not-found", "id")
        assert body["issue"][0]["code"] == missing["issue"][0]["code"]
    assert search(daemon, other, "Patient", fhir, _id=pid)["total"] == 0
    assert search(daemon, other, "Patient", fhir,
                  identifier=f"{NHS}|{ep['patient']['nhs_number']}")["total"] == 0
    assert search(daemon, other, "Encounter", fhir, patient=pid)["total"] == 0
    assert search(daemon, other, "Task", fhir, patient=pid)["total"] == 0
    # nothing of WARD in the other nurse's unfiltered searches
    for rtype in ("Encounter", "Task"):
        b = search(daemon, other, rtype, fhir, _count="200")
        assert ep["id"] not in ids(b) and task not in ids(b)
    # roles that read every ward see it, as in the JSON API
    for who in ("bm", "ot"):
        assert ok(get(daemon, users[who], f"/fhir/R4/Patient/{pid}"), fhir)["id"] == pid
        assert search(daemon, users[who], "Task", fhir, patient=pid)["total"] == \
            len(ep["tasks"]) + len(referral_tasks(database, ep))


def test_a_nurse_sees_a_patient_through_any_of_her_wards_episodes(daemon, users, fhir):
    """A patient is readable where one of its episodes is: after a discharge from WARD and
    a new admission on OTHER, each nurse reads the patient but only her ward's episode."""
    n, other = users["nurse"], users["other"]
    ep = admit(daemon, n, WARD)
    r = daemon.post(f"/api/v1/episodes/{ep['id']}/discharge", json={"pathway": 0},
                    headers=n.auth)
    assert r.status_code == 200, r.text
    ep2 = admit(daemon, other, OTHER, nhs_number=ep["patient"]["nhs_number"])
    pid = ep["patient"]["id"]
    assert ep2["patient"]["id"] == pid
    for who, mine in ((n, ep["id"]), (other, ep2["id"])):
        assert ok(get(daemon, who, f"/fhir/R4/Patient/{pid}"), fhir)["id"] == pid
        assert ids(search(daemon, who, "Encounter", fhir, patient=pid)) == [mine]


@pytest.mark.parametrize("path", ["/fhir/R4/Patient", "/fhir/R4/Encounter", "/fhir/R4/Task",
                                  f"/fhir/R4/Patient/{uuid.UUID(int=1)}",
                                  f"/fhir/R4/Encounter/{uuid.UUID(int=1)}",
                                  f"/fhir/R4/Task/{uuid.UUID(int=1)}"])
def test_unauthenticated_is_401(daemon, fhir, path):
    r = daemon.get(path)
    outcome(r, 401, fhir, "login")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    outcome(daemon.get(path, headers={"Authorization": "Bearer nonsense"}), 401, fhir, "login")


# ---- errors ----------------------------------------------------------------------------

@pytest.mark.parametrize("rtype,params,field", [
    ("Patient", {"name": "Smith"}, "name"),
    ("Patient", {"patient": str(uuid.UUID(int=1))}, "patient"),
    ("Encounter", {"identifier": "x"}, "identifier"),
    ("Task", {"subject": "Patient/x"}, "subject"),
    ("Task", {"status:not": "completed"}, "status:not"),
    ("Encounter", {"_count": "0"}, "_count"),
    ("Encounter", {"_count": "many"}, "_count"),
    ("Encounter", {"_cursor": "page-2"}, "_cursor"),
    ("Patient", {"_format": "xml"}, "_format"),
    ("Task", {"_lastUpdated": "2025-01-10T10:00:00"}, "_lastUpdated"),
])
def test_bad_parameters_are_400_naming_them(daemon, users, fhir, rtype, params, field):
    outcome(get(daemon, users["bm"], f"/fhir/R4/{rtype}", **params), 400, fhir, "invalid", field)


def test_unknown_ids_and_paths_are_404(daemon, users, fhir):
    bm = users["bm"]
    for rtype in ("Patient", "Encounter", "Task"):
        outcome(get(daemon, bm, f"/fhir/R4/{rtype}/{uuid.uuid4()}"), 404, fhir, "not-found", "id")
        outcome(get(daemon, bm, f"/fhir/R4/{rtype}/not-a-uuid"), 404, fhir, "not-found", "id")
    outcome(get(daemon, bm, "/fhir/R4/Observation"), 404, fhir, "not-found")
    outcome(daemon.post("/fhir/R4/Patient", json={}, headers=bm.auth), 405, fhir)


# ---- audit -----------------------------------------------------------------------------

def test_reads_and_searches_are_audited(daemon, database, users, fhir):
    n = users["nurse"]
    ep = admit(daemon, n, WARD)
    pid = ep["patient"]["id"]
    ok(get(daemon, n, f"/fhir/R4/Patient/{pid}"), fhir)
    ok(get(daemon, n, f"/fhir/R4/Encounter/{ep['id']}"), fhir)
    rows = database.sql(f"SELECT action, entity, entity_id, coalesce(episode_id::text, ''),"
                        f" after->>'via' FROM audit WHERE entity_id IN ('{pid}', '{ep['id']}')"
                        f" AND action LIKE '%.read' ORDER BY id")
    assert ["patient.read", "patient", pid, "", "fhir.read"] in rows
    assert ["episode.read", "episode", ep["id"], ep["id"], "fhir.read"] in rows
    before = int(database.sql("SELECT max(id) FROM audit")[0][0])
    b = search(daemon, n, "Task", fhir, patient=pid)
    rows = database.sql(f"SELECT action, entity, coalesce(entity_id::text, ''),"
                        f" coalesce(episode_id::text, ''), after::text FROM audit"
                        f" WHERE id > {before} AND actor = '{n.name}' ORDER BY id")
    assert rows[0][:4] == ["fhir.search", "task", "", ""]
    detail = json.loads(rows[0][4])
    assert detail["resource"] == "Task" and detail["params"] == ["patient"]
    assert ep["patient"]["nhs_number"] not in rows[0][4]
    # one row per Task shown: a discipline task's as "task.read", a referral's Task as a
    # read of the referral (its id without the "referral-" prefix)
    assert sorted(r[2] for r in rows[1:]) == sorted(i.removeprefix("referral-") for i in ids(b))
    for r in rows[1:]:
        kind = "referral" if f"referral-{r[2]}" in ids(b) else "task"
        assert r[:2] == [f"{kind}.read", kind] and r[3] == ep["id"], r


def test_every_answer_was_validated(fhir):
    """The module's answers went through the validator (it ran, it saw many)."""
    assert fhir.count > 50

"""Issue 15, outbound FHIR: a webhook with format "fhir-r4-discharge-status" sends the partner
the "update safe for discharge status" Encounter (Supported Hospital Discharge to Social Care)
when a patient becomes NCTR, and again when that is reversed: one PUT per change to
<url>/Encounter?identifier=..., application/fhir+json, signed, retried, over TLS.  Every
Encounter received is checked by the npm FHIR R4 validator (test/fhir), not only by hand."""
import http.server
import json
import pathlib
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse

import conftest
import pytest

import test_webhooks_tls as tls
from conftest import admit, make_user, start_daemon, stop_daemon_clean
from webhook_sig import assert_signed

TOP = pathlib.Path(__file__).resolve().parents[2]
VALIDATOR = TOP / "test" / "fhir" / "validate-one.js"
SECRET = "s3cret-for-fhir-outbound-0123456789"
ENV = {"CAREBRIDGE_WEBHOOK_MAX_BACKOFF": "2s", "CAREBRIDGE_WEBHOOK_LEASE": "3s"}
FORMAT = "fhir-r4-discharge-status"
EXT = "https://fhir.nottinghamshire.gov.uk/STU3/StructureDefinition/Extension-SHD-MedicallyFitDetails"
STATUS_SYSTEM = "https://fhir.nottinghamshire.gov.uk/STU3/codesystem/SHD-MedicallyFitStatus"

pki = tls.pki  # the module's CA and certificates (a fixture)


def fhir_validate(resource):
    """The npm package fhir's verdict on resource: (valid, messages)."""
    assert (TOP / "test" / "fhir" / "node_modules" / "fhir").is_dir(), \
        "the FHIR validator is missing: run scripts/bootstrap"
    p = subprocess.run(["node", str(VALIDATOR)], input=json.dumps(resource), text=True,
                       capture_output=True, timeout=60)
    assert p.returncode in (0, 1), p.stderr
    out = json.loads(p.stdout)
    return out["valid"], out["messages"]


def assert_valid_r4(resource):
    valid, messages = fhir_validate(resource)
    errors = [m for m in messages if m["severity"] in ("error", "fatal")]
    assert valid and not errors, messages


def free_port():
    return conftest.free_port()  # a port no daemon or worker takes meanwhile


class FhirReceiver:
    """A FHIR endpoint on 127.0.0.1 (https with a certificate from pki, or plain) that records
    every request and answers with the next status of `answers` (200 once they run out)."""

    def __init__(self, pki_dir=None, answers=()):
        self.requests = []  # (method, path, headers, body bytes, status answered)
        self.answers = list(answers)
        self.lock = threading.Lock()
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with rec.lock:
                    code = rec.answers.pop(0) if rec.answers else 200
                    rec.requests.append((self.command, self.path, dict(self.headers), body,
                                         code))
                out = b"" if code < 300 else json.dumps({
                    "resourceType": "OperationOutcome",
                    "issue": [{"severity": "error", "code": "exception"}]}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_PUT = do_POST = handle_any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.scheme = "http"
        if pki_dir is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(pki_dir / "good.pem"), str(pki_dir / "good.key"))
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.port = self.server.server_address[1]
        self.url = f"{self.scheme}://127.0.0.1:{self.port}/council/fhir/R4"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def got(self):
        with self.lock:
            return list(self.requests)

    def wait_for(self, n, timeout=20):
        deadline = time.monotonic() + timeout
        while len(self.got()) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.7)  # a duplicate or a stray delivery would show up now
        return self.got()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def db(fresh_database):
    fresh_database.migrate()
    return fresh_database


def register(d, admin, url, **extra):
    r = d.post("/api/v1/webhooks", json={"url": url, "secret": SECRET, "format": FORMAT,
                                         **extra}, headers=admin.auth)
    assert r.status_code == 201, r.text
    assert r.json()["format"] == FORMAT and "secret" not in r.json()
    return r.json()


def review(d, user, ep, outcome, **body):
    r = d.post(f"/api/v1/episodes/{ep['id']}/reviews", json={"outcome": outcome, **body},
               headers=user.auth)
    assert r.status_code == 201, r.text
    return r.json()


def state_of(d, admin, wid):
    return next(w for w in d.get("/api/v1/webhooks", headers=admin.auth).json()["items"]
                if w["id"] == wid)


def check_request(req, ep, event_type, base="/council/fhir/R4"):
    """One delivery as the guide's use case has it; returns the Encounter."""
    method, path, headers, body, _ = req
    assert method == "PUT"
    u = urllib.parse.urlsplit(path)
    assert u.path == f"{base}/Encounter"
    assert urllib.parse.parse_qs(u.query) == {
        "identifier": [f"urn:ietf:rfc:3986|urn:uuid:{ep['id']}"]}
    assert headers["Content-Type"] == "application/fhir+json"
    assert headers["Accept"] == "application/fhir+json"
    assert headers["X-Carebridge-Event"] == event_type
    assert_signed(SECRET, headers, body)
    enc = json.loads(body)
    assert_valid_r4(enc)
    assert enc["resourceType"] == "Encounter"
    assert enc["identifier"] == [{"system": "urn:ietf:rfc:3986",
                                  "value": f"urn:uuid:{ep['id']}"}]
    assert enc["status"] == "in-progress"
    assert enc["subject"] == {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number",
                                             "value": ep["patient"]["nhs_number"]}}
    assert enc["period"] == {"start": ep["admitted_at"]}
    # minimum necessary: no name, no date of birth
    assert ep["patient"]["family_name"] not in body.decode()
    assert ep["patient"]["birth_date"] not in body.decode()
    [ext] = enc["extension"]
    assert ext["url"] == EXT
    return enc, ext["extension"]


def test_nctr_sends_one_update_and_reversal_sends_the_status_back(db):
    admin, nurse = make_user(db, "admin"), make_user(db, "nurse", wards=["FHR1", "FHR2"])
    rec, other = FhirReceiver(), FhirReceiver()
    d = start_daemon(db.url, env=ENV)
    try:
        hook = register(d, admin, rec.url, wards=["FHR1"])
        register(d, admin, other.url, wards=["FHR2"])  # another council's wards
        ep = admit(d, nurse, "FHR1")
        # nothing about readiness yet: admission, a bed move, a "meets criteria" review
        assert d.patch(f"/api/v1/episodes/{ep['id']}", json={"bed": "7"},
                       headers=nurse.auth).status_code == 200
        review(d, nurse, ep, "meets_criteria", criteria_met=["oxygen_niv"])
        assert rec.wait_for(1, timeout=3) == []

        rv = review(d, nurse, ep, "nctr")
        assert rv["ready_change"] == "set"
        ready_at = rv["episode"]["ready_at"]
        got = rec.wait_for(1)
        assert len(got) == 1, got  # exactly one delivery for the NCTR review
        ep_now = d.get(f"/api/v1/episodes/{ep['id']}", headers=nurse.auth).json()
        enc, parts = check_request(got[0], ep_now, "episode.ready")
        assert parts == [
            {"url": "medicallyFitStatus",
             "valueCoding": {"system": STATUS_SYSTEM, "code": "01", "display": "Medically Fit"}},
            {"url": "dateDeemedMedicallyFit", "valueDateTime": ready_at}]
        assert enc["location"] == [{"location": {"display": "FHR1"}}]

        # NCTR again changes nothing for the partner: no second message
        rv = review(d, nurse, ep, "nctr")
        assert rv["ready_change"] == "none"
        assert len(rec.wait_for(2, timeout=3)) == 1

        # reversed: the status goes back, without a date (the guide's MedFit-1)
        rv = review(d, nurse, ep, "meets_criteria", criteria_met=["iv_fluids"])
        assert rv["ready_change"] == "reversed"
        got = rec.wait_for(2)
        assert len(got) == 2, got
        ep_now = d.get(f"/api/v1/episodes/{ep['id']}", headers=nurse.auth).json()
        enc, parts = check_request(got[1], ep_now, "episode.ready_withdrawn")
        assert parts == [
            {"url": "medicallyFitStatus",
             "valueCoding": {"system": STATUS_SYSTEM, "code": "02",
                             "display": "Medically Unfit"}}]

        # readiness set and withdrawn by hand (PATCH) is the same change for the partner
        assert d.patch(f"/api/v1/episodes/{ep['id']}", json={"ready_at": ready_at},
                       headers=nurse.auth).status_code == 200
        assert d.patch(f"/api/v1/episodes/{ep['id']}", json={"ready_at": None},
                       headers=nurse.auth).status_code == 200
        got = rec.wait_for(4)
        assert [r[2]["X-Carebridge-Event"] for r in got] == [
            "episode.ready", "episode.ready_withdrawn", "episode.ready",
            "episode.ready_withdrawn"]
        for r in got:
            assert_valid_r4(json.loads(r[3]))
        # in event order, each once
        ids = [int(r[2]["X-Carebridge-Event-Id"]) for r in got]
        assert ids == sorted(set(ids))
        assert other.got() == []  # the other council's wards only
        s = state_of(d, admin, hook["id"])
        assert s["failures"] == 0 and s["format"] == FORMAT
        # no patient identifier in the log
        log = d.log_text()
        assert ep["patient"]["nhs_number"] not in log
        assert ep["patient"]["family_name"] not in log
    finally:
        stop_daemon_clean(d)
        rec.stop()
        other.stop()


def test_a_failed_delivery_is_retried_until_acknowledged(db):
    admin, nurse = make_user(db, "admin"), make_user(db, "nurse", wards=["FHR1"])
    rec = FhirReceiver(answers=[500])
    d = start_daemon(db.url, env=ENV)
    try:
        hook = register(d, admin, rec.url)
        ep = admit(d, nurse, "FHR1")
        review(d, nurse, ep, "nctr")
        got = rec.wait_for(2)
        assert [r[4] for r in got] == [500, 200], got  # refused, then taken on the retry
        # the same message, signed afresh each time
        assert got[0][3] == got[1][3] and got[0][1] == got[1][1]
        assert got[0][2]["X-Carebridge-Event-Id"] == got[1][2]["X-Carebridge-Event-Id"]
        ep_now = d.get(f"/api/v1/episodes/{ep['id']}", headers=nurse.auth).json()
        for r in got:
            check_request(r, ep_now, "episode.ready")
        s = state_of(d, admin, hook["id"])
        assert s["failures"] == 0
        assert s["last_delivered_id"] >= int(got[1][2]["X-Carebridge-Event-Id"])
        assert "receiver replied with status 500" in (s["last_error"] or "")
        assert ep["patient"]["nhs_number"] not in d.log_text()
    finally:
        stop_daemon_clean(d)
        rec.stop()


def test_https_receiver(db, pki):
    admin, nurse = make_user(db, "admin"), make_user(db, "nurse", wards=["FHR1"])
    rec = FhirReceiver(pki_dir=pki)
    d = start_daemon(db.url, env={**ENV, "CAREBRIDGE_WEBHOOK_CA_FILE": str(pki / "ca.pem")})
    try:
        register(d, admin, rec.url + "/")  # a trailing slash on the base is not doubled
        ep = admit(d, nurse, "FHR1")
        review(d, nurse, ep, "nctr")
        got = rec.wait_for(1)
        assert len(got) == 1, got
        ep_now = d.get(f"/api/v1/episodes/{ep['id']}", headers=nurse.auth).json()
        enc, parts = check_request(got[0], ep_now, "episode.ready")
        assert parts[0]["valueCoding"]["code"] == "01"
        assert got[0][2]["Host"] == f"127.0.0.1:{rec.port}"
    finally:
        stop_daemon_clean(d)
        rec.stop()


def test_registration_checks_the_format(db):
    admin = make_user(db, "admin")
    d = start_daemon(db.url, env=ENV)
    try:
        def post(**body):
            return d.post("/api/v1/webhooks", json={"url": "https://council.example/fhir",
                                                    "secret": SECRET, **body},
                          headers=admin.auth)

        for body, field in (({"format": "fhir"}, "format"), ({"format": 3}, "format"),
                            ({"format": FORMAT, "types": ["episode.ready"]}, "types"),
                            ({"format": FORMAT, "disciplines": ["ot"]}, "disciplines"),
                            ({"format": FORMAT, "url": "https://council.example/fhir?x=1"},
                             "url")):
            r = post(**body)
            assert r.status_code == 400, (body, r.text)
            assert r.json()["error"]["field"] == field, (body, r.text)
        # the default is the carebridge event envelope, as before
        r = post()
        assert r.status_code == 201 and r.json()["format"] == "carebridge-event", r.text
        r = post(format="carebridge-event", types=["episode.ready"])
        assert r.status_code == 201 and r.json()["format"] == "carebridge-event", r.text
        r = post(format=FORMAT, wards=["FHR1"])
        assert r.status_code == 201, r.text
        items = d.get("/api/v1/webhooks", headers=admin.auth).json()["items"]
        assert [w["format"] for w in items] == ["carebridge-event", "carebridge-event", FORMAT]
        # the audit image says which format was registered
        assert db.sql("SELECT after->>'format' FROM audit WHERE action = 'webhook.add'"
                      " ORDER BY id") == [["carebridge-event"], ["carebridge-event"], [FORMAT]]
    finally:
        stop_daemon_clean(d)


def test_the_validator_is_real():
    """Guard: the validator refuses what R4 forbids, so a pass above means something."""
    ok = {"resourceType": "Encounter", "status": "in-progress",
          "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"}}
    assert fhir_validate(ok)[0]
    assert not fhir_validate({**ok, "status": "ready"})[0]  # not an encounter-status code
    assert not fhir_validate({**ok, "nctr": True})[0]       # not an Encounter element
    assert not fhir_validate({k: v for k, v in ok.items() if k != "class"})[0]

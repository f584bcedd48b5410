"""Request ids and log lines (issue 18): every reply names its request in X-Request-Id, a
trusted proxy's id is kept (a sane one only), and every log line (text or JSON) carries the id
of the request it was written for, "-" outside any request."""
import json
import re
import time
import uuid

import pytest
import requests

from conftest import admission_body, make_user, start_daemon, stop_daemon_clean

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def proxied(database):
    """A daemon behind a "proxy" on loopback: 127.0.0.0/8 is trusted; JSON logs at debug."""
    d = start_daemon(database.url, env={"CAREBRIDGE_TRUSTED_PROXIES": "10.9.9.9, 127.0.0.0/8",
                                        "CAREBRIDGE_LOG_FORMAT": "json",
                                        "CAREBRIDGE_LOG_LEVEL": "debug"})
    yield d
    stop_daemon_clean(d)


def test_every_reply_names_its_request(daemon):
    ids = set()
    for path in ("/healthz", "/readyz", "/no/such/path", "/api/v1/episodes"):
        r = daemon.get(path)
        rid = r.headers.get("X-Request-Id")
        assert rid is not None and UUID_RE.match(rid), (path, r.headers)
        ids.add(rid)
    assert len(ids) == 4  # one per request


def test_an_untrusted_peer_cannot_choose_the_request_id(daemon):
    r = daemon.get("/healthz", headers={"X-Request-Id": "chosen-by-client"})
    assert r.headers["X-Request-Id"] != "chosen-by-client"
    assert UUID_RE.match(r.headers["X-Request-Id"])


def test_a_trusted_proxy_names_the_request(proxied):
    r = proxied.get("/healthz", headers={"X-Request-Id": "lb1.Req_42-x"})
    assert r.headers["X-Request-Id"] == "lb1.Req_42-x"
    longest = "a" * 64
    assert proxied.get("/healthz", headers={"X-Request-Id": longest}).headers[
        "X-Request-Id"] == longest


@pytest.mark.parametrize("bad", ["a" * 65, "has space", "quote\"d", "semi;colon", "caf\u00e9",
                                 "new\\nline", "{json}"])
def test_a_malformed_id_from_a_trusted_proxy_is_replaced(proxied, bad):
    r = requests.get(proxied.base + "/healthz",
                     headers={"X-Request-Id": bad.encode("utf-8")}, timeout=10)
    got = r.headers["X-Request-Id"]
    assert got != bad and UUID_RE.match(got), got
    assert bad not in proxied.log_text()


def test_a_proxys_uuid_is_the_audit_rows_request_id(proxied, database):
    nurse = make_user(database, "nurse", wards=["RQ1"])
    rid = str(uuid.uuid4())
    r = proxied.post("/api/v1/admissions", json=admission_body("RQ1"),
                     headers={**nurse.auth, "X-Request-Id": rid.upper()})
    assert r.status_code == 201, r.text
    assert r.headers["X-Request-Id"] == rid.upper()
    rows = database.sql(f"SELECT count(*) FROM audit WHERE request_id = '{rid}'")
    assert int(rows[0][0]) >= 1


def json_lines(d):
    lines = [ln for ln in d.log_text().splitlines() if ln.strip()]
    out = []
    for ln in lines:
        obj = json.loads(ln)  # every line is one JSON object
        assert isinstance(obj, dict), ln
        for key in ("ts", "level", "module", "pid", "request_id", "msg"):
            assert key in obj, ln
        assert obj["level"] in ("FATAL", "ERROR", "WARNING", "LOG", "DEBUG"), ln
        assert isinstance(obj["pid"], int), ln
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", obj["ts"]), ln
        out.append(obj)
    return out


def test_json_lines_carry_the_request_id_across_callbacks(proxied, database):
    name = "jsonlog_" + uuid.uuid4().hex[:8]
    make_user(database, "social_worker", name=name, password="right password 1")
    r = requests.post(proxied.base + "/api/v1/session",
                      json={"name": name, "password": "wrong password"}, timeout=30)
    assert r.status_code == 401, r.text
    rid = r.headers["X-Request-Id"]
    deadline = time.monotonic() + 10
    while True:
        lines = json_lines(proxied)
        mine = [o for o in lines if o["request_id"] == rid]
        # "login refused" is written after the password check (a worker thread) and
        # the account's lookups (database callbacks): resumptions of this request
        refused = [o for o in mine if o["msg"] == "login refused"]
        if refused or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert refused, [o for o in lines if o["module"] == "auth"]
    assert refused[0]["module"] == "auth" and refused[0]["level"] == "LOG"
    assert refused[0]["reason"]  # key=value words became fields
    assert refused[0]["req"] == rid
    # the request's own "request done" line, with its fields
    done = [o for o in mine if o["msg"] == "request done"]
    assert done and done[0]["route"] == "/api/v1/session" and done[0]["status"] == "401"
    # lines written outside any request say "-"
    assert any(o["request_id"] == "-" and o["module"] == "main" for o in lines), lines[:5]
    assert name not in proxied.log_text()


def test_text_lines_carry_level_module_and_request_id(daemon):
    r = daemon.get("/healthz")
    assert r.status_code == 200
    text = daemon.log_text()
    line_re = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC \[\d+\] \[([^\]]+)\] "
                         r"(FATAL|ERROR|WARNING|LOG|DEBUG) [a-z0-9_]+: ")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert lines
    for ln in lines:
        assert line_re.match(ln), ln
    assert any(line_re.match(ln).group(1) == "-" for ln in lines)


def test_log_format_is_checked(database):
    from conftest import run_bin
    r = run_bin("check-config", env={"CAREBRIDGE_DATABASE_URL": database.url,
                                     "CAREBRIDGE_LOG_FORMAT": "xml"})
    assert r.returncode != 0
    assert "log_format" in r.stderr

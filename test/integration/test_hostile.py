"""Hostile input (issue 20, item 9): requests an attacker would send.

The committed corpus, test/integration/data/hostile/, holds one request per
file: a first line "METHOD PATH AS STATUS FIELD" (AS: nurse, admin or anon;
FIELD: the field the error must name, "-" for none), then the body, bytes as
sent.  In the path and body, {ward}, {episode}, {nhs}, {user}, {password} and
{uniq} are filled in.  Every file must get its 4xx with the JSON error body,
never a 5xx, never a hang, and nothing stored (no value cut short at a NUL).
The classes the corpus covers are invalid UTF-8 (overlong, truncated,
surrogate, FF FE, 5-byte) in a text field, a NUL raw or as \\u0000, bytes
after the JSON object, and unknown sign-in fields, each across request types.

The tests below cover what a file cannot say: a NUL in a sign-in name must
not sign in, HEAD on the event stream is answered and not held open, unknown
methods get the JSON error body, and a client trickling its header lines is
cut off by http_header_timeout.
"""
import pathlib
import socket
import time
import uuid

import pytest

from conftest import admit, make_user, nhs_number, start_daemon, stop_daemon_clean

CORPUS = pathlib.Path(__file__).resolve().parent / "data" / "hostile"
FILES = sorted(p for p in CORPUS.iterdir() if p.is_file() and not p.name.endswith(".md"))


@pytest.fixture(scope="module")
def world(daemon, database):
    ward = "HX" + uuid.uuid4().hex[:4].upper()
    nurse = make_user(database, "nurse", wards=[ward])
    admin = make_user(database, "admin")
    password = "correct horse battery staple"
    signer = make_user(database, "nurse", wards=[ward], password=password,
                       name="nurse_amu_" + uuid.uuid4().hex[:6])
    episode = admit(daemon, nurse, ward)
    return {"ward": ward, "nurse": nurse, "admin": admin, "signer": signer,
            "password": password, "episode": episode["id"]}


def fill(data, w, uniq):
    subs = {b"{ward}": w["ward"], b"{episode}": w["episode"], b"{nhs}": nhs_number(),
            b"{user}": w["signer"].name, b"{password}": w["password"], b"{uniq}": uniq}
    for k, v in subs.items():
        data = data.replace(k, v.encode())
    return data


def assert_json_error(r, status, field=None):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    err = r.json()["error"]
    assert err["message"]
    if field is not None:
        assert err["field"] == field, err
    return err


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_file_gets_its_json_error(daemon, database, world, path):
    raw = path.read_bytes()
    line, body = raw.split(b"\n", 1)
    method, target, who, status, field = line.decode().split(" ")
    uniq = uuid.uuid4().hex[:8].upper()
    target = fill(target.encode(), world, uniq).decode()
    body = fill(body, world, uniq)
    headers = {"Content-Type": "application/json"}
    if who != "anon":
        headers.update(world[who].auth)
    r = daemon.request(method, target, data=body, headers=headers, timeout=10)
    assert_json_error(r, int(status), None if field == "-" else field)
    assert "Set-Cookie" not in r.headers
    # nothing was stored under the value, whole or cut short at its NUL
    like = f"'%Hostile{uniq}%'"
    stored = " + ".join(f"(SELECT count(*) FROM {t} WHERE {c} LIKE {like})"
                        for t, c in (("patients", "family_name"), ("tasks", "title"),
                                     ("episodes", "bed"), ("users", "display_name"),
                                     ("wards", "name")))
    stored += f" + (SELECT count(*) FROM users WHERE lower(name) = 'hostile_{uniq.lower()}')"
    assert database.sql("SELECT " + stored) == [["0"]]


def test_corpus_covers_every_class():
    names = {p.name for p in FILES}
    for kind in ("overlong2", "overlong3", "truncated", "surrogate", "fffe", "5byte",
                 "nul-raw", "nul-escape", "trailing-object", "trailing-garbage"):
        for req in ("admission", "task", "episode-patch", "user", "ward", "sign-in"):
            assert f"{req}--{kind}" in names
    assert "sign-in--unknown-field" in names


@pytest.mark.parametrize("name", ["{user}\\u0000x", "{user}\u0000x"], ids=["escaped", "raw"])
def test_sign_in_with_nul_does_not_sign_in(daemon, world, name):
    """nurse.amu\\u0000x must not sign in as nurse.amu."""
    name = name.replace("{user}", world["signer"].name)
    body = ('{"name":"%s","password":"%s"}' % (name, world["password"])).encode()
    r = daemon.post("/api/v1/session", data=body, headers={"Content-Type": "application/json"},
                    cookies={})
    assert r.status_code in (400, 401), r.text
    assert_json_error(r, r.status_code)
    assert "Set-Cookie" not in r.headers
    assert "cb_session" not in daemon.session.cookies
    # the real name still signs in (the test is about the NUL, not the account)
    ok = daemon.post("/api/v1/session",
                     json={"name": world["signer"].name, "password": world["password"]})
    assert ok.status_code == 200, ok.text
    daemon.session.cookies.clear()


def test_sign_in_refuses_unknown_fields(daemon, world):
    r = daemon.post("/api/v1/session", json={"name": world["signer"].name,
                                             "password": world["password"], "remember": True})
    err = assert_json_error(r, 400, "remember")
    assert "remember" in err["message"]
    assert "Set-Cookie" not in r.headers
    daemon.session.cookies.clear()


def raw_http(daemon, data, timeout=5.0):
    """Send data on a fresh connection; read until the server closes it (or timeout)."""
    s = socket.create_connection(("127.0.0.1", daemon.port), timeout=timeout)
    s.sendall(data)
    got = b""
    deadline = time.monotonic() + timeout
    closed = False
    try:
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                closed = True
                break
            got += chunk
    finally:
        s.close()
    return got, closed


def test_head_stream_is_answered_not_held_open(daemon, world):
    t0 = time.monotonic()
    req = ("HEAD /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
           "Connection: close\r\n\r\n" % world["nurse"].token).encode()
    got, closed = raw_http(daemon, req, timeout=5)
    assert closed, got
    assert time.monotonic() - t0 < 3
    head, _, rest = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), got
    assert b"text/event-stream" in head
    assert rest == b"", "a HEAD reply carries no body"


def test_head_stream_leaves_connection_usable(daemon, world):
    """On a kept-alive connection the next request is answered after the HEAD."""
    auth = "Authorization: Bearer %s\r\n" % world["nurse"].token
    req = ("HEAD /api/v1/stream HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n"
           "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode()
    got, closed = raw_http(daemon, req, timeout=5)
    assert closed, got
    assert got.count(b"HTTP/1.1 200") == 2, got


@pytest.mark.parametrize("method", ["FOO", "TRACE", "PROPFIND", "CONNECT"])
def test_unknown_method_gets_json_error(daemon, method):
    target = "127.0.0.1:1" if method == "CONNECT" else "/api/v1/episodes"
    got, closed = raw_http(daemon, ("%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                                    % (method, target)).encode())
    head, _, body = got.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    assert status in (405, 501), got
    assert b"application/json" in head.lower(), got
    assert b"<HTML>" not in body.upper()
    import json
    err = json.loads(body)["error"]
    assert err["code"] in ("not_implemented", "method_not_allowed") and err["message"]
    # the daemon still serves
    assert daemon.get("/healthz").status_code == 200


@pytest.fixture(scope="module")
def short_deadline(database):
    d = start_daemon(database.url, env={"CAREBRIDGE_HTTP_HEADER_TIMEOUT": "2s",
                                        "CAREBRIDGE_SSE_HEARTBEAT": "1s"})
    yield d
    stop_daemon_clean(d)


def trickle(port, lines, gap, limit):
    """Send lines one every gap seconds; seconds until the server closed, or None."""
    s = socket.create_connection(("127.0.0.1", port), timeout=limit)
    t0 = time.monotonic()
    try:
        for line in lines:
            try:
                s.sendall(line)
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - t0
            s.settimeout(gap)
            try:
                if s.recv(4096) == b"":
                    return time.monotonic() - t0
            except socket.timeout:
                pass
            except ConnectionResetError:
                return time.monotonic() - t0
            if time.monotonic() - t0 > limit:
                return None
        return None
    finally:
        s.close()


def test_header_trickle_is_cut_off(short_deadline):
    lines = [b"GET /healthz HTTP/1.1\r\n"] + [b"X-Slow-%d: 1\r\n" % i for i in range(15)]
    took = trickle(short_deadline.port, lines, 1.0, 12)
    assert took is not None, "one header line a second was never timed out"
    assert took < 6, took
    assert short_deadline.get("/healthz").status_code == 200


def test_silent_connection_is_cut_off(short_deadline):
    s = socket.create_connection(("127.0.0.1", short_deadline.port), timeout=8)
    t0 = time.monotonic()
    assert s.recv(10) == b""
    assert time.monotonic() - t0 < 6
    s.close()


def test_header_deadline_spares_idle_keepalive_and_streams(short_deadline, database):
    """The deadline times a request arriving, not a connection resting or streaming."""
    s = socket.create_connection(("127.0.0.1", short_deadline.port), timeout=5)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert s.recv(4096).startswith(b"HTTP/1.1 200")
    time.sleep(3.5)  # idle between requests, longer than the deadline
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert s.recv(4096).startswith(b"HTTP/1.1 200")
    s.close()

    ward = "HS" + uuid.uuid4().hex[:4].upper()
    nurse = make_user(database, "nurse", wards=[ward])
    r = short_deadline.get("/api/v1/stream?ward=" + ward, headers=nurse.auth, stream=True,
                           timeout=10)
    assert r.status_code == 200
    t0 = time.monotonic()
    seen = b""
    for chunk in r.iter_content(chunk_size=None):
        seen += chunk
        if time.monotonic() - t0 > 4.5:
            break
    r.close()
    assert time.monotonic() - t0 > 4.5, "the stream was closed early"
    assert seen.count(b":") >= 3, seen  # heartbeats kept coming

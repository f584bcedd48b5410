"""Webhooks to https:// receivers: TLS 1.2+, the certificate checked against webhook_ca_file
(or the system's CAs) and against the URL's host name or address; plain http:// only to the
loopback.  Certificates are made here with the openssl command, for a CA of the test's own."""
import http.server
import json
import ssl
import subprocess
import threading
import time

import pytest

from conftest import Daemon, admit, make_user, start_daemon, stop_daemon_clean
from webhook_sig import assert_signed

SECRET = "s3cret-for-webhook-tls-tests-0123456789"
ENV = {"CAREBRIDGE_WEBHOOK_MAX_BACKOFF": "2s", "CAREBRIDGE_WEBHOOK_LEASE": "3s"}


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, a certificate for 127.0.0.1/localhost from it, and one for another name."""
    d = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=carebridge test CA", "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    for name, san in (("good", "IP:127.0.0.1,DNS:localhost"), ("wrong", "DNS:other.example")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout",
                f"{name}.key", "-out", f"{name}.csr", cwd=d)
        (d / f"{name}.ext").write_text(f"subjectAltName={san}\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out",
                f"{name}.pem", cwd=d)
    return d


class TlsReceiver:
    """An https endpoint on 127.0.0.1 that records every POST and answers 200."""

    def __init__(self, pki, cert="good", port=0):
        self.received = []
        self.lock = threading.Lock()
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with rec.lock:
                    rec.received.append((dict(self.headers), body, self.path))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(pki / f"{cert}.pem"), str(pki / f"{cert}.key"))
        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, host="127.0.0.1"):
        return f"https://{host}:{self.port}/hook/{host}"

    def ids(self, host=None):
        with self.lock:
            return [json.loads(b)["id"] for _, b, path in self.received
                    if host is None or path == f"/hook/{host}"]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def db(fresh_database):
    fresh_database.migrate()
    return fresh_database


def register(d, admin, url):
    r = d.post("/api/v1/webhooks", json={"url": url, "secret": SECRET, "wards": ["TLS1"]},
               headers=admin.auth)
    assert r.status_code == 201, r.text
    return r.json()


def state_of(d, admin, wid):
    return next(w for w in d.get("/api/v1/webhooks", headers=admin.auth).json()["items"]
                if w["id"] == wid)


def wait(pred, timeout=20):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_https_receiver_gets_every_event_signed(db, pki):
    admin, nurse = make_user(db, "admin"), make_user(db, "nurse", wards=["TLS1"])
    rec = TlsReceiver(pki)
    d = start_daemon(db.url, env={**ENV, "CAREBRIDGE_WEBHOOK_CA_FILE": str(pki / "ca.pem")})
    try:
        hooks = [register(d, admin, rec.url()), register(d, admin, rec.url("localhost"))]
        ep = admit(d, nurse, "TLS1")
        for i in range(5):
            assert d.patch(f"/api/v1/episodes/{ep['id']}", json={"bed": f"T{i}"},
                           headers=nurse.auth).status_code == 200
        last = int(db.sql("SELECT max(id) FROM events")[0][0])
        # each webhook (one by address, one by name) is done with every event so far
        assert wait(lambda: all(state_of(d, admin, h["id"])["last_delivered_id"] >= last
                                for h in hooks)), [state_of(d, admin, h["id"]) for h in hooks]
        want = [int(r[0]) for r in db.sql(
            f"SELECT id FROM events WHERE ward = 'TLS1' AND id <= {last} ORDER BY id")]
        for host in ("127.0.0.1", "localhost"):
            got = [i for i in rec.ids(host) if i <= last]
            assert got == want, host  # every one, once, in order
        with rec.lock:
            for headers, body, path in rec.received:
                assert_signed(SECRET, headers, body)
                host = path.rsplit("/", 1)[1]
                assert headers["Host"] == f"{host}:{rec.port}"
        for h in hooks:
            assert state_of(d, admin, h["id"])["failures"] == 0
    finally:
        stop_daemon_clean(d)
        rec.stop()


def test_receiver_with_an_unknown_ca_or_another_name_gets_nothing(db, pki):
    admin, nurse = make_user(db, "admin"), make_user(db, "nurse", wards=["TLS1"])
    wrong = TlsReceiver(pki, cert="wrong")  # signed by the CA, but for other.example
    good = TlsReceiver(pki)
    # the system's CAs only: the test CA is unknown, so even the right name is refused
    d = start_daemon(db.url, env=ENV)
    try:
        unknown_ca = register(d, admin, good.url())
        ep = admit(d, nurse, "TLS1")
        assert wait(lambda: state_of(d, admin, unknown_ca["id"])["failures"] >= 1)
        s = state_of(d, admin, unknown_ca["id"])
        assert "TLS: certificate refused" in s["last_error"], s
        assert good.ids() == []
        d.delete(f"/api/v1/webhooks/{unknown_ca['id']}", headers=admin.auth)
    finally:
        stop_daemon_clean(d)
    d = start_daemon(db.url, env={**ENV, "CAREBRIDGE_WEBHOOK_CA_FILE": str(pki / "ca.pem")})
    try:
        misnamed = register(d, admin, wrong.url())
        assert d.patch(f"/api/v1/episodes/{ep['id']}", json={"bed": "W"},
                       headers=nurse.auth).status_code == 200
        assert wait(lambda: state_of(d, admin, misnamed["id"])["failures"] >= 1)
        s = state_of(d, admin, misnamed["id"])
        assert "TLS: certificate refused" in s["last_error"] and "mismatch" in s["last_error"], s
        assert wrong.ids() == []
        assert s["last_delivered_id"] < int(db.sql("SELECT max(id) FROM events")[0][0])
        # the receiver gets a proper certificate on the same port: delivery recovers by itself
        port = wrong.port
        wrong.stop()
        wrong = TlsReceiver(pki, cert="good", port=port)
        last = int(db.sql("SELECT max(id) FROM events")[0][0])
        assert wait(lambda: state_of(d, admin, misnamed["id"])["last_delivered_id"] >= last), \
            state_of(d, admin, misnamed["id"])
        assert wrong.ids() and state_of(d, admin, misnamed["id"])["failures"] == 0
    finally:
        stop_daemon_clean(d)
        wrong.stop()
        good.stop()


def test_plain_http_only_to_the_loopback(db):
    admin = make_user(db, "admin")
    d = start_daemon(db.url, env=ENV)
    try:
        for url, ok in (("http://127.0.0.1:9/x", True), ("http://localhost:9/x", False),
                        ("http://[::1]:9/x", True), ("https://example.org/x", True),
                        ("http://example.org/x", False), ("http://192.168.1.10/x", False),
                        ("http://127.0.0.1.nip.io/x", False)):
            r = d.post("/api/v1/webhooks", json={"url": url, "secret": SECRET},
                       headers=admin.auth)
            assert (r.status_code == 201) == ok, (url, r.text)
            if not ok:
                assert r.json()["error"]["field"] == "url" and "https://" in \
                    r.json()["error"]["message"]
    finally:
        stop_daemon_clean(d)


def test_serve_refuses_to_start_with_an_unreadable_ca_file(db, tmp_path):
    d = Daemon(db.url, env={"CAREBRIDGE_WEBHOOK_CA_FILE": str(tmp_path / "missing.pem")})
    with pytest.raises(RuntimeError, match="exited early"):
        d.start()
    assert d.proc.wait(timeout=20) == 1
    assert 'could not load webhook_ca_file "' in d.log_text()

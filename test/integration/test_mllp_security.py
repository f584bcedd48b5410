"""The HL7 listener does not trust the network (issue 20, item 6).

A listener on a non-loopback address needs an allow-list, or an explicit
`mllp_allow = any`: check-config and serve both refuse it otherwise, naming the
file and line.  MLLP over TLS with client certificates: a throw-away CA, server
and client certificates are made here with the openssl command; an interface
engine with a certificate of that CA is answered, one without a certificate, with
a certificate of another CA, with a name outside mllp_tls_allowed_clients, or
speaking plain MLLP to the TLS port is refused at the handshake and nothing is
applied.
"""
import os
import socket
import ssl
import subprocess
import time
import uuid

import pytest

from conftest import Daemon, Database, ensure_ward, make_user, nhs_number, run_bin, \
    stop_daemon_clean
from hl7_util import Mllp, adt, frame, msa


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.pem", cwd=d)


def make_cert(d, ca, name, cn, ext):
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/O=Test Trust/CN={cn}",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
    (d / f"{name}.ext").write_text(ext)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem",
            cwd=d)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """The trust's CA with a server certificate for 127.0.0.1 and two client certificates
    (pas-engine, lab-engine); a rogue CA with a client certificate also named pas-engine."""
    d = tmp_path_factory.mktemp("mllp-pki")
    make_ca(d, "ca")
    make_ca(d, "rogue-ca")
    make_cert(d, "ca", "server", "carebridge", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
              "extendedKeyUsage=serverAuth\n")
    client = "extendedKeyUsage=clientAuth\n"
    make_cert(d, "ca", "engine", "pas-engine", client)
    make_cert(d, "ca", "lab", "lab-engine", client)
    make_cert(d, "rogue-ca", "rogue", "pas-engine", client)
    return d


@pytest.fixture(scope="module")
def db(cluster):
    db = Database(cluster, f"cbtest_{os.getpid()}_mllpsec")
    db.migrate()
    return db


def start(db, env):
    d = Daemon(db.url, env=dict(env))
    d.extra_env["CAREBRIDGE_MLLP_PORT_FILE"] = os.path.join(d.tmp.name, "mllp_port")
    d.start()
    with open(d.extra_env["CAREBRIDGE_MLLP_PORT_FILE"]) as f:
        d.mllp_port = int(f.read().strip())
    return d


def start_fails(db, env):
    """serve with env must exit non-zero without serving; returns its output."""
    d = Daemon(db.url, env=dict(env))
    with pytest.raises(RuntimeError, match="serve (exited early|never became ready)"):
        d.start(timeout=10)
    assert d.proc.wait(timeout=10) == 1
    text = d.log_text()
    d.stop()
    return text


def write_conf(tmp_path, text):
    p = tmp_path / "carebridge.conf"
    p.write_text(text)
    return str(p)


@pytest.fixture(scope="module")
def ward(db):
    ensure_ward(db, "MS1")
    db.sql("UPDATE wards SET pas_code = 'PAS-MS1' WHERE code = 'MS1'")
    return "MS1"


def admitted(db, visit):
    return db.sql(f"SELECT count(*) FROM episodes WHERE external_id = '{visit}'")[0][0] == "1"


# ---- the allow-list ----------------------------------------------------------------

NEEDLE = 'mllp_listen_addr "0.0.0.0" is not a loopback address and mllp_allow is empty'


def test_check_config_refuses_open_listener_without_allow_list(tmp_path):
    path = write_conf(tmp_path, "[hl7]\nmllp_port = 2575\nmllp_listen_addr = 0.0.0.0\n")
    r = run_bin("check-config", "-c", path)
    assert r.returncode == 1
    assert any(l.startswith(f"{path}:3: ") and NEEDLE in l and '"any"' in l
               for l in r.stderr.splitlines()), r.stderr
    # the environment is named the same way
    r = run_bin("check-config", env={"CAREBRIDGE_MLLP_LISTEN_ADDR": "::"})
    assert r.returncode == 1
    assert "environment CAREBRIDGE_MLLP_LISTEN_ADDR: " in r.stderr, r.stderr
    assert 'mllp_listen_addr "::" is not a loopback address' in r.stderr
    # loopback needs no list; an address list or "any" opens the others
    for text in ("mllp_listen_addr = 127.0.0.2\n", "mllp_listen_addr = ::1\n",
                 "mllp_listen_addr = 0.0.0.0\nmllp_allow = 10.1.2.3, 10.1.2.4\n",
                 "mllp_listen_addr = 0.0.0.0\nmllp_allow = any\n",
                 "mllp_listen_addr = ::\nmllp_allow = ANY\n"):
        r = run_bin("check-config", "-c", write_conf(tmp_path, "[hl7]\n" + text))
        assert r.returncode == 0, (text, r.stderr)
    # "any" stands alone
    r = run_bin("check-config", "-c", write_conf(tmp_path, "[hl7]\nmllp_allow = any, 10.1.2.3\n"))
    assert r.returncode == 1 and "mllp_allow" in r.stderr


def test_serve_refuses_open_listener_without_allow_list(db, tmp_path):
    path = write_conf(tmp_path, "[hl7]\nmllp_listen_addr = 0.0.0.0\n")
    out = start_fails(db, {"CAREBRIDGE_CONFIG": path})
    assert f"{path}:2: {NEEDLE}" in out, out
    out = start_fails(db, {"CAREBRIDGE_MLLP_LISTEN_ADDR": "0.0.0.0"})
    assert f"environment CAREBRIDGE_MLLP_LISTEN_ADDR: {NEEDLE}" in out, out


def test_serve_starts_open_listener_with_any(db, ward):
    d = start(db, {"CAREBRIDGE_MLLP_LISTEN_ADDR": "0.0.0.0", "CAREBRIDGE_MLLP_ALLOW": "any"})
    try:
        visit = f"MS{uuid.uuid4().hex[:10]}"
        c = Mllp(d.mllp_port)
        assert msa(c.call(adt("A01", visit, nhs_number(), ward="PAS-MS1")))[0] == "AA"
        c.close()
        assert admitted(db, visit)
        assert "listening addr=0.0.0.0" in d.log_text()
    finally:
        stop_daemon_clean(d)


# ---- TLS ---------------------------------------------------------------------------

def tls_env(pki, **over):
    env = {"CAREBRIDGE_MLLP_TLS": "on",
           "CAREBRIDGE_MLLP_TLS_CERT_FILE": str(pki / "server.pem"),
           "CAREBRIDGE_MLLP_TLS_KEY_FILE": str(pki / "server.key"),
           "CAREBRIDGE_MLLP_TLS_CA_FILE": str(pki / "ca.pem")}
    env.update({f"CAREBRIDGE_{k.upper()}": v for k, v in over.items()})
    return env


def client_ctx(pki, cert=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(pki / "ca.pem"))
    if cert is not None:
        ctx.load_cert_chain(str(pki / f"{cert}.pem"), str(pki / f"{cert}.key"))
    return ctx


@pytest.fixture(scope="module")
def tls_daemon(db, pki, ward):
    d = start(db, tls_env(pki))
    yield d
    stop_daemon_clean(d)


def refused(port, ctx, visit):
    """Connect with ctx, send an A01: the handshake (or, in TLS 1.3, the first read after it,
    as the client's certificate is checked after the client's side finished) fails, no ACK."""
    try:
        c = Mllp(port, tls=ctx, timeout=10)
    except (ssl.SSLError, ConnectionError):
        return True
    try:
        c.send(adt("A01", visit, nhs_number(), ward="PAS-MS1"))
        return c.ack() is None
    except (ssl.SSLError, ConnectionError):
        return True
    finally:
        c.close()


def test_tls_client_with_certificate_admits(tls_daemon, db, pki):
    visit = f"MS{uuid.uuid4().hex[:10]}"
    c = Mllp(tls_daemon.mllp_port, tls=client_ctx(pki, "engine"))
    assert c.sock.version() in ("TLSv1.2", "TLSv1.3")
    ack = c.call(adt("A01", visit, nhs_number(), ward="PAS-MS1"))
    assert msa(ack)[0] == "AA", ack
    # several messages on one TLS connection
    visit2 = f"MS{uuid.uuid4().hex[:10]}"
    assert msa(c.call(adt("A01", visit2, nhs_number(), ward="PAS-MS1")))[0] == "AA"
    c.close()
    assert admitted(db, visit) and admitted(db, visit2)
    assert "tls=on" in tls_daemon.log_text()
    assert "client=\"pas-engine\"" in tls_daemon.log_text()
    # an engine closing without close_notify is an ordinary end, not an error
    deadline = time.monotonic() + 10
    while "messages=2 reason=closed by peer" not in tls_daemon.log_text():
        assert time.monotonic() < deadline, tls_daemon.log_text()
        time.sleep(0.05)


def test_tls_refuses_client_without_certificate(tls_daemon, db, pki):
    visit = f"MS{uuid.uuid4().hex[:10]}"
    assert refused(tls_daemon.mllp_port, client_ctx(pki), visit)
    assert not admitted(db, visit)
    assert "TLS handshake failed" in tls_daemon.log_text()


def test_tls_refuses_certificate_of_another_ca(tls_daemon, db, pki):
    visit = f"MS{uuid.uuid4().hex[:10]}"
    assert refused(tls_daemon.mllp_port, client_ctx(pki, "rogue"), visit)
    assert not admitted(db, visit)


def test_tls_refuses_plain_mllp(tls_daemon, db):
    visit = f"MS{uuid.uuid4().hex[:10]}"
    s = socket.create_connection(("127.0.0.1", tls_daemon.mllp_port), timeout=10)
    s.sendall(frame(adt("A01", visit, nhs_number(), ward="PAS-MS1")))
    got = b""
    try:
        while True:
            data = s.recv(4096)
            if not data:
                break
            got += data
    except ConnectionResetError:
        pass
    s.close()
    assert b"MSA|" not in got
    assert not admitted(db, visit)


def test_tls_allowed_clients(db, pki, ward):
    d = start(db, tls_env(pki, mllp_tls_allowed_clients="pas-engine, adt-backup"))
    try:
        visit = f"MS{uuid.uuid4().hex[:10]}"
        assert refused(d.mllp_port, client_ctx(pki, "lab"), visit)
        assert not admitted(db, visit)
        assert "not in mllp_tls_allowed_clients" in d.log_text()
        assert refused(d.mllp_port, client_ctx(pki, "rogue"), visit)
        c = Mllp(d.mllp_port, tls=client_ctx(pki, "engine"))
        assert msa(c.call(adt("A01", visit, nhs_number(), ward="PAS-MS1")))[0] == "AA"
        c.close()
        assert admitted(db, visit)
    finally:
        stop_daemon_clean(d)


def test_tls_client_certificate_optional(db, pki, ward):
    """mllp_tls_require_client_cert = off: TLS without a certificate is served; a certificate
    that is presented must still be of the CA."""
    d = start(db, tls_env(pki, mllp_tls_require_client_cert="off"))
    try:
        visit = f"MS{uuid.uuid4().hex[:10]}"
        c = Mllp(d.mllp_port, tls=client_ctx(pki))
        assert msa(c.call(adt("A01", visit, nhs_number(), ward="PAS-MS1")))[0] == "AA"
        c.close()
        assert refused(d.mllp_port, client_ctx(pki, "rogue"), f"MS{uuid.uuid4().hex[:10]}")
    finally:
        stop_daemon_clean(d)


def test_tls_configuration_checked(db, pki, tmp_path):
    # TLS on without a certificate or a client CA
    path = write_conf(tmp_path, "[hl7]\nmllp_tls = on\n")
    r = run_bin("check-config", "-c", path)
    assert r.returncode == 1
    assert f"{path}:2: " in r.stderr and "mllp_tls_cert_file" in r.stderr, r.stderr
    assert "mllp_tls_ca_file" in r.stderr
    # certificate settings while TLS is off: a mistake, not silently plain text
    r = run_bin("check-config", env={"CAREBRIDGE_MLLP_TLS_CERT_FILE": str(pki / "server.pem")})
    assert r.returncode == 1 and "mllp_tls is off" in r.stderr, r.stderr
    # names allowed without a required certificate would let anyone in
    r = run_bin("check-config", env=tls_env(pki, mllp_tls_require_client_cert="off",
                                            mllp_tls_allowed_clients="pas-engine"))
    assert r.returncode == 1 and "mllp_tls_allowed_clients" in r.stderr, r.stderr
    # the files are loaded by check-config and serve alike
    r = run_bin("check-config", env=tls_env(pki))
    assert r.returncode == 0, r.stderr
    bad = tls_env(pki, mllp_tls_key_file=str(pki / "engine.key"))
    r = run_bin("check-config", env=bad)
    assert r.returncode == 1
    assert "environment CAREBRIDGE_MLLP_TLS_KEY_FILE: " in r.stderr, r.stderr
    out = start_fails(db, bad)
    assert "mllp_tls_key_file" in out, out
    missing = tls_env(pki, mllp_tls_ca_file=str(tmp_path / "nope.pem"))
    r = run_bin("check-config", env=missing)
    assert r.returncode == 1 and "could not load" in r.stderr and "nope.pem" in r.stderr

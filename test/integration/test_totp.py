"""Issue 20: local accounts that remain can require a TOTP second factor (RFC 6238).

`carebridge user totp` enrols a secret (printed once, with an otpauth:// URI); password
sign-in then needs the current code, each code works once, and `totp_required` refuses
password sign-in to any account without a secret.
"""
import base64
import hashlib
import hmac
import struct
import time

import requests

from conftest import cli, make_user, start_daemon, stop_daemon_clean

PASSWORD = "correct horse battery"


def code(secret_b32, at=None, step=30):
    """RFC 6238 (HMAC-SHA-1, 6 digits), written here independently of carebridge."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((at if at is not None else time.time()) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def enrol(database, name):
    out = cli(database, "user", "totp", "--name", name).stdout.splitlines()
    secret, uri = out[0], out[1]
    assert uri.startswith("otpauth://totp/carebridge:") and f"secret={secret}" in uri
    return secret


def sign_in(d, name, totp=None):
    body = {"name": name, "password": PASSWORD}
    if totp is not None:
        body["totp"] = totp
    return requests.post(d.base + "/api/v1/session", json=body, timeout=30)


def test_enrolled_user_needs_the_current_code_once(daemon, database):
    u = make_user(database, "admin", password=PASSWORD)
    secret = enrol(database, u.name)
    r = sign_in(daemon, u.name)
    assert r.status_code == 401 and r.json()["error"]["field"] == "totp", r.text
    assert "cb_session" not in r.cookies
    now = time.time()
    wrong = code(secret, now + 3600)
    r = sign_in(daemon, u.name, wrong)
    assert r.status_code == 401 and r.json()["error"]["field"] == "totp", r.text
    rows = database.sql("SELECT after->>'reason' FROM audit WHERE action = 'session.login_failed'"
                        f" AND after->>'name' = '{u.name}' ORDER BY id")
    assert ["totp"] in rows, rows
    good = code(secret)
    r = sign_in(daemon, u.name, good)
    assert r.status_code == 200, r.text
    assert "cb_session" in r.cookies
    # the same code again: refused, it was used
    r = sign_in(daemon, u.name, good)
    assert r.status_code == 401 and r.json()["error"]["field"] == "totp", r.text
    # a malformed code is refused without a session
    r = sign_in(daemon, u.name, "12ab56")
    assert r.status_code == 401 and "cb_session" not in r.cookies


def test_wrong_password_says_nothing_about_the_code(daemon, database):
    u = make_user(database, "admin", password=PASSWORD)
    enrol(database, u.name)
    r = requests.post(daemon.base + "/api/v1/session",
                      json={"name": u.name, "password": "wrong password"}, timeout=30)
    assert r.status_code == 401 and r.json()["error"]["field"] is None, r.text


def test_removed_secret_means_password_alone(daemon, database):
    u = make_user(database, "admin", password=PASSWORD)
    enrol(database, u.name)
    cli(database, "user", "totp", "--name", u.name, "--remove")
    assert sign_in(daemon, u.name).status_code == 200


def test_totp_required_refuses_accounts_without_a_secret(database):
    d = start_daemon(database.url, env={"CAREBRIDGE_TOTP_REQUIRED": "on"})
    try:
        plain = make_user(database, "admin", password=PASSWORD)
        r = sign_in(d, plain.name)
        assert r.status_code == 403 and r.json()["error"]["field"] == "totp", r.text
        u = make_user(database, "admin", password=PASSWORD)
        secret = enrol(database, u.name)
        assert sign_in(d, u.name, code(secret)).status_code == 200
        assert requests.get(d.base + "/api/v1/auth/methods", timeout=10).json()[
            "totp_required"] is True
    finally:
        stop_daemon_clean(d)

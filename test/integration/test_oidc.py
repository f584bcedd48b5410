"""Issue 20: signing in through the trust's identity provider (OpenID Connect).

A real OpenID provider (the npm package oidc-provider, test/oidc/provider.mjs) runs on
loopback beside the daemon.  The tests walk the authorization code flow the way a browser
does (carebridge -> provider login form -> callback) and check that carebridge opens a
session only for a good ID token of a linked, enabled user, and refuses a forged token, a
wrong audience, an expired token, a replayed nonce, a replayed or foreign callback, and an
unknown user, each audited.  Single logout sends the browser to the provider's end-session
endpoint with the ID token as hint.
"""
import re
import urllib.parse

import pytest
import requests

from conftest import cli, make_user, start_daemon, stop_daemon_clean, uuid_hex
from oidc_util import SECRET, Provider, daemon_env, free_port

@pytest.fixture(scope="module")
def idp_and_daemon(database):
    cb_port, idp_port, email_port = free_port(), free_port(), free_port()
    bases = [f"http://127.0.0.1:{p}" for p in (cb_port, email_port)]
    idp = Provider(idp_port, ",".join(f"{b}/api/v1/oidc/callback" for b in bases),
                   ",".join(f"{b}/login" for b in bases))
    idp.email_port = email_port  # for the daemon that matches users by e-mail
    d = start_daemon(database.url, env=daemon_env(idp, cb_port))
    yield idp, d
    stop_daemon_clean(d)
    idp.stop()


@pytest.fixture
def idp(idp_and_daemon):
    return idp_and_daemon[0]


@pytest.fixture
def d(idp_and_daemon):
    return idp_and_daemon[1]


def linked_user(database, role="nurse", wards=("OIDC1",)):
    """A carebridge user linked to a fresh provider subject; returns (user, subject)."""
    u = make_user(database, role, wards=wards if role == "nurse" else ())
    subject = f"staff-{uuid_hex()}"
    cli(database, "user", "link", "--name", u.name, "--subject", subject)
    return u, subject


class Flow:
    """One browser's sign-in: the carebridge reply to the callback, and the callback URL."""

    def __init__(self, session, reply, callback_url):
        self.s = session
        self.reply = reply
        self.callback_url = callback_url

    @property
    def location(self):
        return self.reply.headers.get("Location", "")


def sign_in(d, login, session=None):
    """Walk the code flow as a browser would; stop at carebridge's answer to the callback."""
    s = session or requests.Session()
    r = s.get(d.base + "/api/v1/oidc/login", allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    url = r.headers["Location"]
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert q["code_challenge_method"] == ["S256"] and len(q["code_challenge"][0]) == 43
    assert q["response_type"] == ["code"] and "openid" in q["scope"][0].split()
    for _ in range(20):
        if url.startswith(d.base + "/api/v1/oidc/callback"):
            reply = s.get(url, allow_redirects=False, timeout=30)
            return Flow(s, reply, url)
        r = s.get(url, allow_redirects=False, timeout=10)
        if r.status_code in (302, 303):
            url = urllib.parse.urljoin(url, r.headers["Location"])
            continue
        assert r.status_code == 200, r.text
        form = re.search(r'<form[^>]*action="([^"]+)"', r.text)
        assert form, r.text
        action = urllib.parse.urljoin(url, form.group(1).replace("&amp;", "&"))
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', r.text))
        if 'name="login"' in r.text:
            fields.update({"login": login, "password": "any"})
        r = s.post(action, data=fields, allow_redirects=False, timeout=10)
        assert r.status_code in (302, 303), r.text
        url = urllib.parse.urljoin(action, r.headers["Location"])
    raise AssertionError("the sign-in never came back to carebridge")


def session_cookie(flow):
    return flow.s.cookies.get("cb_session")


def audit_rows(database, action, after_key, value):
    return database.sql(
        f"SELECT actor, after::text FROM audit WHERE action = '{action}'"
        f" AND after->>'{after_key}' = '{value}' ORDER BY id")


def test_sign_in_page_offers_the_provider(d):
    r = requests.get(d.base + "/api/v1/auth/methods", timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["oidc"] == {"label": "Sign in with NHS Care Identity",
                            "login_url": "/api/v1/oidc/login"}
    assert body["password_login"] is True


def test_signs_in_a_linked_user(d, idp, database):
    u, subject = linked_user(database)
    f = sign_in(d, subject)
    assert f.reply.status_code == 302 and f.location == "/", f.reply.text
    assert session_cookie(f)
    me = f.s.get(d.base + "/api/v1/me", timeout=10)
    assert me.status_code == 200 and me.json()["name"] == u.name
    assert me.json()["role"] == "nurse" and me.json()["wards"] == ["OIDC1"]
    # issue 16: a page knows to offer the provider when this session ends
    assert me.json()["session"]["signed_in_with"] == "oidc"
    rows = database.sql(
        "SELECT a.after->>'method' FROM audit a JOIN users u ON u.id = a.actor_id"
        f" WHERE a.action = 'session.login' AND u.name = '{u.name}'")
    assert rows == [["oidc"]]


def test_es256_token_is_accepted(d, idp, database):
    u, subject = linked_user(database)
    idp.next_token("es256")
    f = sign_in(d, subject)
    assert f.location == "/", f.reply.text
    assert f.s.get(d.base + "/api/v1/me", timeout=10).json()["name"] == u.name


def test_rotated_signing_key_is_fetched(d, idp, database):
    u, subject = linked_user(database)
    sign_in(d, subject)  # the key set is cached now
    idp.next_token("rotated")
    f = sign_in(d, subject)
    assert f.location == "/", f.reply.text


@pytest.mark.parametrize("mode", ["forged", "wrong_aud", "expired", "replay"])
def test_bad_id_token_is_refused(d, idp, database, mode):
    u, subject = linked_user(database)
    sign_in(d, subject)  # a first, good sign-in: "replay" reuses its nonce
    idp.next_token(mode)
    f = sign_in(d, subject)
    assert f.reply.status_code == 302
    assert f.location == "/login?error=bad_token", f.location
    assert not session_cookie(f)
    assert f.s.get(d.base + "/api/v1/me", timeout=10).status_code == 401
    rows = audit_rows(database, "session.login_failed", "reason", "bad_token")
    assert rows, "a refused sign-in is audited"


def test_callback_is_used_once(d, idp, database):
    u, subject = linked_user(database)
    f = sign_in(d, subject)
    assert f.location == "/"
    again = f.s.get(f.callback_url, allow_redirects=False, timeout=10)
    assert again.headers["Location"] == "/login?error=state"


def test_callback_from_another_browser_is_refused(d, idp, database):
    """Login CSRF: a callback URL carried to a browser that did not begin the sign-in."""
    u, subject = linked_user(database)
    s = requests.Session()
    r = s.get(d.base + "/api/v1/oidc/login", allow_redirects=False, timeout=10)
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers["Location"]).query)["state"][0]
    other = requests.get(d.base + "/api/v1/oidc/callback",
                         params={"state": state, "code": "stolen"}, allow_redirects=False,
                         timeout=10)
    assert other.headers["Location"] == "/login?error=state"
    assert "cb_session" not in other.cookies


def test_unknown_and_disabled_users_are_refused(d, idp, database):
    stranger = f"stranger-{uuid_hex()}"
    f = sign_in(d, stranger)
    assert f.location == "/login?error=unknown_user"
    assert audit_rows(database, "session.login_failed", "subject", stranger)
    u, subject = linked_user(database)
    cli(database, "user", "disable", "--name", u.name)
    f = sign_in(d, subject)
    assert f.location == "/login?error=unknown_user"


def test_single_logout(d, idp, database):
    u, subject = linked_user(database)
    f = sign_in(d, subject)
    r = f.s.delete(d.base + "/api/v1/session", timeout=10,
                   headers={"Origin": d.base, "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 200, r.text
    url = r.json()["logout_url"]
    assert url.startswith(idp.issuer + "/session/end?")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert q["client_id"] == ["carebridge"]
    assert q["post_logout_redirect_uri"] == [d.base + "/login"]
    assert q["id_token_hint"][0].count(".") == 2
    assert f.s.get(d.base + "/api/v1/me", timeout=10).status_code == 401
    page = f.s.get(url, timeout=10)
    assert page.status_code == 200  # the provider's own sign-out page


def test_link_cli_validates(database):
    u = make_user(database, "ot")
    assert cli(database, "user", "link", "--name", u.name, check=False).returncode == 2
    subject = f"dup-{uuid_hex()}"
    cli(database, "user", "link", "--name", u.name, "--subject", subject)
    other = make_user(database, "ot")
    r = cli(database, "user", "link", "--name", other.name, "--subject", subject, check=False)
    assert r.returncode != 0
    cli(database, "user", "link", "--name", u.name, "--unlink")
    cli(database, "user", "link", "--name", other.name, "--subject", subject)


def test_no_provider_configured(daemon):
    r = requests.get(daemon.base + "/api/v1/auth/methods", timeout=10)
    assert r.json()["oidc"] is None
    r = requests.get(daemon.base + "/api/v1/oidc/login", allow_redirects=False, timeout=10)
    assert r.status_code == 404


def test_passwords_can_be_switched_off(idp, database):
    """password_login = off: the form goes and POST /api/v1/session is refused."""
    u = make_user(database, "admin", password="correct horse battery")
    cb_port = free_port()
    env = daemon_env(idp, cb_port)
    env["CAREBRIDGE_PASSWORD_LOGIN"] = "off"
    d2 = start_daemon(database.url, env=env)
    try:
        assert requests.get(d2.base + "/api/v1/auth/methods", timeout=10).json()[
            "password_login"] is False
        r = requests.post(d2.base + "/api/v1/session",
                          json={"name": u.name, "password": "correct horse battery"}, timeout=10)
        assert r.status_code == 403, r.text
        assert "switched off" in r.json()["error"]["message"]
        assert "cb_session" not in r.cookies
    finally:
        stop_daemon_clean(d2)


def test_check_config_needs_a_provider_without_passwords(database):
    from conftest import run_bin
    r = run_bin("check-config", env={"CAREBRIDGE_PASSWORD_LOGIN": "off",
                                     "CAREBRIDGE_DATABASE_URL": database.url})
    assert r.returncode != 0 and "password_login" in r.stderr
    r = run_bin("check-config", env={"CAREBRIDGE_OIDC_ISSUER": "http://idp.example.org",
                                     "CAREBRIDGE_OIDC_CLIENT_ID": "c",
                                     "CAREBRIDGE_OIDC_REDIRECT_URI": "https://x/cb",
                                     "CAREBRIDGE_DATABASE_URL": database.url})
    assert r.returncode != 0 and "oidc_issuer" in r.stderr


def test_users_matched_by_verified_email(idp, database):
    """oidc_user_claim = email: the provider's verified e-mail names the user."""
    env = daemon_env(idp, idp.email_port)
    env["CAREBRIDGE_OIDC_USER_CLAIM"] = "email"
    d2 = start_daemon(database.url, env=env)
    try:
        u = make_user(database, "physio")
        login = f"p-{uuid_hex()}"
        # the test provider gives every login the verified e-mail <login>@example.nhs.uk
        cli(database, "user", "link", "--name", u.name, "--subject", f"{login}@example.nhs.uk")
        f = sign_in(d2, login)
        assert f.location == "/", f.reply.text
        assert f.s.get(d2.base + "/api/v1/me", timeout=10).json()["name"] == u.name
        # the provider's subject alone does not match: the e-mail is what is linked
        other = make_user(database, "physio")
        cli(database, "user", "link", "--name", other.name, "--subject", f"sub-{uuid_hex()}")
        f = sign_in(d2, f"q-{uuid_hex()}")
        assert f.location == "/login?error=unknown_user"
    finally:
        stop_daemon_clean(d2)

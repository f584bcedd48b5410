"""Web sessions and tokens against an attacker (issue 20, items 4 and 7).

Item 4, CSRF: a change signed by the session cookie must carry our Origin (or
Sec-Fetch-Site: same-origin) and, with a body, Content-Type application/json;
bearer tokens are not affected.  The cookie is __Host- and Secure by default,
and serve refuses to put clear-text cookies on a non-loopback address.
"""
import os
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import (BIN, admission_body, cli, make_user, run_bin, start_daemon,
                      stop_daemon_clean)

PASSWORD = "correct horse 20"


@pytest.fixture(scope="module")
def nurse(database):
    return make_user(database, "nurse", wards=["CSR1"], password=PASSWORD)


def sign_in(daemon, user):
    s = requests.Session()
    r = s.post(daemon.base + "/api/v1/session", json={"name": user.name, "password": user.password})
    assert r.status_code == 200, r.text
    return s


# ---- item 4: CSRF --------------------------------------------------------------------

def test_cookie_change_without_origin_is_refused(daemon, nurse):
    s = sign_in(daemon, nurse)
    r = s.post(daemon.base + "/api/v1/admissions", json=admission_body("CSR1"))
    assert r.status_code == 403, r.text
    assert r.json()["error"]["field"] == "Origin"
    assert "Origin" in r.json()["error"]["message"]


def test_cookie_change_with_wrong_origin_is_refused(daemon, nurse):
    s = sign_in(daemon, nurse)
    for origin in ("https://evil.example", "null", daemon.base + "/",
                   daemon.base.replace("127.0.0.1", "localhost")):
        r = s.post(daemon.base + "/api/v1/admissions", json=admission_body("CSR1"),
                   headers={"Origin": origin})
        assert r.status_code == 403, (origin, r.text)
        assert r.json()["error"]["field"] == "Origin"
    r = s.post(daemon.base + "/api/v1/admissions", json=admission_body("CSR1"),
               headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403


def test_cookie_change_with_our_origin_is_accepted(daemon, nurse):
    s = sign_in(daemon, nurse)
    r = s.post(daemon.base + "/api/v1/admissions", json=admission_body("CSR1"),
               headers={"Origin": daemon.base})
    assert r.status_code == 201, r.text


def test_cookie_change_marked_same_origin_is_accepted(daemon, nurse):
    s = sign_in(daemon, nurse)
    r = s.post(daemon.base + "/api/v1/admissions", json=admission_body("CSR1"),
               headers={"Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 201, r.text


def test_cookie_change_with_a_form_or_text_body_is_refused(daemon, nurse):
    """A cross-site form can send text/plain or urlencoded bodies without a preflight."""
    import json
    s = sign_in(daemon, nurse)
    body = json.dumps(admission_body("CSR1"))
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                  None):
        headers = {"Origin": daemon.base}
        if ctype is not None:
            headers["Content-Type"] = ctype
        r = s.post(daemon.base + "/api/v1/admissions", data=body, headers=headers)
        assert r.status_code == 403, (ctype, r.text)
        assert r.json()["error"]["field"] == "Content-Type"
    r = s.post(daemon.base + "/api/v1/admissions", data=body,
               headers={"Origin": daemon.base, "Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 201, r.text


def test_cookie_reads_need_no_origin(daemon, nurse):
    s = sign_in(daemon, nurse)
    assert s.get(daemon.base + "/api/v1/me").status_code == 200


def test_cookie_logout_needs_origin(daemon, nurse):
    s = sign_in(daemon, nurse)
    r = s.delete(daemon.base + "/api/v1/session")
    assert r.status_code == 403 and r.json()["error"]["field"] == "Origin"
    assert s.get(daemon.base + "/api/v1/me").status_code == 200
    assert s.delete(daemon.base + "/api/v1/session",
                    headers={"Origin": daemon.base}).status_code == 204
    assert s.get(daemon.base + "/api/v1/me").status_code == 401


def test_bearer_requests_are_unaffected(daemon, nurse):
    """Browsers never attach a bearer token on their own: no Origin or JSON type needed."""
    import json
    r = requests.post(daemon.base + "/api/v1/admissions", data=json.dumps(admission_body("CSR1")),
                      headers={**nurse.auth, "Content-Type": "text/plain"})
    assert r.status_code == 201, r.text
    r = requests.post(daemon.base + "/api/v1/admissions", json=admission_body("CSR1"),
                      headers={**nurse.auth, "Origin": "https://evil.example"})
    assert r.status_code == 201, r.text


def test_cookie_is_host_prefixed_and_secure_by_default(database, nurse):
    d = start_daemon(database.url, env={"CAREBRIDGE_COOKIE_SECURE": None})
    try:
        r = requests.post(d.base + "/api/v1/session",
                          json={"name": nurse.name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        cookie = r.headers["Set-Cookie"]
        name, _, rest = cookie.partition("=")
        assert name == "__Host-cb_session", cookie
        attrs = [a.strip() for a in rest.split(";")[1:]]
        assert "Secure" in attrs and "Path=/" in attrs and "HttpOnly" in attrs, cookie
        assert not any(a.lower().startswith("domain") for a in attrs), cookie
        value = rest.split(";")[0]
        # the browser sends it back under the same name (here by hand: requests keeps
        # Secure cookies for https); a plain cb_session is not accepted in its place
        me = requests.get(d.base + "/api/v1/me", headers={"Cookie": f"__Host-cb_session={value}"})
        assert me.status_code == 200 and me.json()["name"] == nurse.name
        me = requests.get(d.base + "/api/v1/me", headers={"Cookie": f"cb_session={value}"})
        assert me.status_code == 401
        r = requests.delete(d.base + "/api/v1/session",
                            headers={"Cookie": f"__Host-cb_session={value}", "Origin": d.base})
        assert r.status_code == 204
        assert r.headers["Set-Cookie"].startswith("__Host-cb_session=;")
        assert "Secure" in r.headers["Set-Cookie"]
    finally:
        stop_daemon_clean(d)


def test_plain_cookie_only_when_secure_is_off(daemon, nurse):
    r = requests.post(daemon.base + "/api/v1/session",
                      json={"name": nurse.name, "password": PASSWORD})
    assert r.status_code == 200
    assert r.headers["Set-Cookie"].startswith("cb_session=")
    assert "Secure" not in r.headers["Set-Cookie"]


def test_public_origin_setting_is_the_origin_checked(database, nurse):
    d = start_daemon(database.url, env={"CAREBRIDGE_PUBLIC_ORIGIN": "https://cb.example.nhs.uk"})
    try:
        s = sign_in(d, nurse)
        r = s.post(d.base + "/api/v1/admissions", json=admission_body("CSR1"),
                   headers={"Origin": d.base})
        assert r.status_code == 403
        r = s.post(d.base + "/api/v1/admissions", json=admission_body("CSR1"),
                   headers={"Origin": "https://cb.example.nhs.uk"})
        assert r.status_code == 201, r.text
    finally:
        stop_daemon_clean(d)


def test_serve_refuses_clear_text_cookies_off_loopback(database):
    env = {"CAREBRIDGE_DATABASE_URL": database.url, "CAREBRIDGE_LISTEN_ADDR": "0.0.0.0",
           "CAREBRIDGE_LISTEN_PORT": "0", "CAREBRIDGE_MLLP_PORT": "0",
           "CAREBRIDGE_COOKIE_SECURE": "false",
           "CAREBRIDGE_PUBLIC_ORIGIN": "https://cb.example.nhs.uk"}
    r = run_bin("check-config", env=env)
    assert r.returncode == 1, r.stdout
    assert 'setting "cookie_secure": must be on when listen_addr "0.0.0.0"' in r.stderr
    with tempfile.TemporaryDirectory() as tmp:
        port_file = os.path.join(tmp, "port")
        e = dict(os.environ)
        e.update(env)
        p = subprocess.Popen([BIN, "serve", "--port-file", port_file], env=e,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            out, _ = p.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            pytest.fail("serve started on 0.0.0.0 with cookie_secure off")
        assert p.returncode != 0
        assert "cookie_secure" in out
        assert not os.path.exists(port_file)
    # the same address with Secure cookies and a public origin is fine
    env["CAREBRIDGE_COOKIE_SECURE"] = "on"
    r = run_bin("check-config", env=env)
    assert r.returncode == 0, r.stderr
    del env["CAREBRIDGE_PUBLIC_ORIGIN"]
    r = run_bin("check-config", env=env)
    assert r.returncode == 1
    assert 'setting "public_origin": must be set' in r.stderr


# ---- item 7a: a user's ward list of any length ---------------------------------------

def test_ward_list_over_2kb_is_whole(daemon, database):
    """Ward codes were cut at 2 kB (a fixed buffer): the last wards were lost, or half a code."""
    n = make_user(database, "nurse", wards=["CSR1"])
    codes = [f"CSRW{i:03d}" + "x" * 24 for i in range(80)]  # 32 characters each: 2.6 kB
    values = ", ".join(f"('{c}', 'Ward {c}', 4)" for c in codes)
    database.sql(f"INSERT INTO wards (code, name, beds) VALUES {values} ON CONFLICT DO NOTHING")
    database.sql("INSERT INTO user_wards (user_id, ward)"
                 f" SELECT u.id, w FROM users u, unnest(ARRAY[{', '.join(repr(c) for c in codes)}]) w"
                 f" WHERE u.name = '{n.name}'")
    assert len(",".join(["CSR1"] + codes)) > 2048
    want = sorted(["CSR1"] + codes)
    for _ in range(2):  # the database's answer, then the cached one
        me = daemon.get("/api/v1/me", headers=n.auth)
        assert me.status_code == 200, me.text
        assert me.json()["wards"] == want
    last = want[-1]
    r = daemon.post("/api/v1/admissions", json=admission_body(last), headers=n.auth)
    assert r.status_code == 201, r.text


# ---- item 7b: refused token checks are cached too ------------------------------------

def metric(daemon, name):
    import re
    text = daemon.get("/metrics").text
    m = re.search(r"^" + re.escape(name) + r" (\d+)$", text, re.M)
    assert m, f"{name} not in /metrics"
    return int(m.group(1))


MISS = 'carebridge_auth_cache_total{result="miss"}'
REFUSED = 'carebridge_auth_cache_total{result="refused"}'


def wait_for_cache(daemon, timeout=10):
    """The caches work only once the daemon's LISTEN connection is up (just after a start
    it may not be): wait until a refused token is answered from the refusal cache."""
    import secrets
    probe = "cb_" + secrets.token_urlsafe(32)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = metric(daemon, REFUSED)
        daemon.get("/api/v1/me", headers={"Authorization": f"Bearer {probe}"})
        daemon.get("/api/v1/me", headers={"Authorization": f"Bearer {probe}"})
        if metric(daemon, REFUSED) > before:
            return
        time.sleep(0.1)
    raise AssertionError("the token cache never came into use")


def test_a_refused_token_retried_costs_one_lookup(daemon):
    import secrets
    wait_for_cache(daemon)
    bogus = "cb_" + secrets.token_urlsafe(32)  # well-formed, unknown
    assert len(bogus) == 46
    misses0, refused0 = metric(daemon, MISS), metric(daemon, REFUSED)
    for _ in range(5):
        r = daemon.get("/api/v1/me", headers={"Authorization": f"Bearer {bogus}"})
        assert r.status_code == 401
        assert r.json()["error"]["message"] == "the token or session is not valid"
    assert metric(daemon, MISS) == misses0 + 1
    assert metric(daemon, REFUSED) == refused0 + 4


def test_a_malformed_secret_costs_no_lookup(daemon):
    misses0 = metric(daemon, MISS)
    for bad in ("nonsense", "cb_short", "cb_" + "!" * 43, "cb_" + "a" * 44):
        r = daemon.get("/api/v1/me", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401
        r = requests.get(daemon.base + "/api/v1/me", headers={"Cookie": f"cb_session={bad}"})
        assert r.status_code == 401
    assert metric(daemon, MISS) == misses0
    assert metric(daemon, 'carebridge_auth_cache_total{result="malformed"}') >= 8


def test_a_refusal_is_dropped_when_the_token_changes(daemon, database):
    """The refusal cache ends with the same generations as the token cache."""
    wait_for_cache(daemon)
    u = make_user(database, "nurse", wards=["CSR1"])
    database.sql(f"UPDATE tokens SET revoked_at = now() WHERE user_id ="
                 f" (SELECT id FROM users WHERE name = '{u.name}')")
    deadline = time.monotonic() + 2
    while daemon.get("/api/v1/me", headers=u.auth).status_code != 401:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    refused0 = metric(daemon, REFUSED)
    assert daemon.get("/api/v1/me", headers=u.auth).status_code == 401
    assert metric(daemon, REFUSED) == refused0 + 1  # answered from the refusal cache
    database.sql(f"UPDATE tokens SET revoked_at = NULL WHERE user_id ="
                 f" (SELECT id FROM users WHERE name = '{u.name}')")
    deadline = time.monotonic() + 2
    while daemon.get("/api/v1/me", headers=u.auth).status_code != 200:
        assert time.monotonic() < deadline, "un-revoked token still refused after 2 s"
        time.sleep(0.02)


# ---- item 7c: every API token expires --------------------------------------------------

def test_token_issue_requires_an_expiry_within_the_maximum(database):
    u = make_user(database, "ot")
    r = cli(database, "user", "token", "issue", "--name", u.name, check=False)
    assert r.returncode == 2 and r.stdout == ""
    assert "user token issue needs --expires" in r.stderr
    assert "365 days" in r.stderr
    r = cli(database, "user", "token", "issue", "--name", u.name, "--expires", "366d", check=False)
    assert r.returncode == 2 and r.stdout == ""
    assert "--expires 366d is longer than token_max_lifetime (365 days)" in r.stderr
    r = cli(database, "user", "token", "issue", "--name", u.name, "--expires", "365d")
    assert r.stdout.strip().startswith("cb_")
    # the maximum is a setting
    env = {"CAREBRIDGE_DATABASE_URL": database.url, "CAREBRIDGE_TOKEN_MAX_LIFETIME": "30d"}
    r = run_bin("user", "token", "issue", "--name", u.name, "--expires", "31d", env=env)
    assert r.returncode == 2 and "token_max_lifetime (30 days)" in r.stderr
    r = run_bin("user", "token", "issue", "--name", u.name, "--expires", "30d", env=env)
    assert r.returncode == 0, r.stderr
    rows = database.sql("SELECT count(*) FROM tokens t JOIN users u ON u.id = t.user_id"
                        f" WHERE u.name = '{u.name}' AND t.expires_at IS NULL")
    assert rows == [["0"]]


def test_migration_gives_everlasting_tokens_an_expiry(fresh_database):
    """Tokens issued before expiries were required get 365 days, and none can be made again."""
    import glob
    import shutil
    from conftest import TOP
    db = fresh_database
    with tempfile.TemporaryDirectory() as old:
        for f in sorted(glob.glob(str(TOP / "migrations/*.sql"))):
            if int(os.path.basename(f)[:4]) < 17:
                shutil.copy(f, old)
        r = run_bin("migrate", "--dir", old, env={"CAREBRIDGE_DATABASE_URL": db.url,
                                                   "CAREBRIDGE_DATABASE_OWNER_URL": db.owner_url})
        assert r.returncode == 0, r.stderr
    db.sql("INSERT INTO users (id, name, display_name, role)"
           " VALUES ('00000000-0000-4000-8000-0000000000aa', 'legacy', '', 'ot')")
    db.sql("INSERT INTO tokens (id, user_id, hash, kind, label) VALUES"
           " ('00000000-0000-4000-8000-0000000000ab', '00000000-0000-4000-8000-0000000000aa',"
           "  decode(repeat('ab', 32), 'hex'), 'api', 'forever')")
    db.migrate()
    rows = db.sql("SELECT expires_at > now() + interval '364 days',"
                  " expires_at < now() + interval '366 days' FROM tokens")
    assert rows == [["t", "t"]]
    with pytest.raises(subprocess.CalledProcessError):
        db.sql("INSERT INTO tokens (id, user_id, hash, kind, label) VALUES"
               " ('00000000-0000-4000-8000-0000000000ac', '00000000-0000-4000-8000-0000000000aa',"
               "  decode(repeat('cd', 32), 'hex'), 'api', 'forever')")


# ---- item 7d: sessions idle out ------------------------------------------------------

IDLE = 3.0  # seconds; the default is 30 min


@pytest.fixture(scope="module")
def idle_daemon(database):
    # auth_cache_ttl stays at its 60 s default: the cache must not keep an idle session alive
    d = start_daemon(database.url, env={"CAREBRIDGE_SESSION_IDLE_TIMEOUT": f"{int(IDLE)}s"})
    yield d
    stop_daemon_clean(d)


def test_an_idle_session_is_refused(idle_daemon, nurse):
    import time
    s = sign_in(idle_daemon, nurse)
    for _ in range(3):  # in the token cache from here on
        assert s.get(idle_daemon.base + "/api/v1/me").status_code == 200
    time.sleep(IDLE + 0.5)
    r = s.get(idle_daemon.base + "/api/v1/me")
    assert r.status_code == 401, r.text
    # refused for good: a later request does not revive it
    assert s.get(idle_daemon.base + "/api/v1/me").status_code == 401
    # and a session never used after sign-in idles out too
    s = sign_in(idle_daemon, nurse)
    time.sleep(IDLE + 0.5)
    assert s.get(idle_daemon.base + "/api/v1/me").status_code == 401


def test_a_session_in_use_slides(idle_daemon, nurse):
    import time
    s = sign_in(idle_daemon, nurse)
    start = time.monotonic()
    while time.monotonic() - start < 2 * IDLE:
        assert s.get(idle_daemon.base + "/api/v1/me").status_code == 200
        time.sleep(IDLE / 3)
    time.sleep(IDLE + 0.5)
    assert s.get(idle_daemon.base + "/api/v1/me").status_code == 401


def test_api_tokens_do_not_idle_out(idle_daemon, nurse):
    import time
    assert idle_daemon.get("/api/v1/me", headers=nurse.auth).status_code == 200
    time.sleep(IDLE + 0.5)
    assert idle_daemon.get("/api/v1/me", headers=nurse.auth).status_code == 200

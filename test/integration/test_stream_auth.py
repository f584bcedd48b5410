"""An open event stream lives no longer than the credentials it was opened with.

Logout, the session's expiry, revoking the token, disabling the user and (for
ward changes) removing a ward from a nurse must end the stream, or narrow it,
within 2 s, also when the change reaches a different serve process than the
one holding the stream (issue 20, item 2).
"""
import hashlib
import json
import secrets
import time

import pytest
import requests

from conftest import admit, cli, ensure_ward, make_user, start_daemon, stop_daemon_clean
from sse import SSEClient

DEADLINE = 2.0  # seconds from the change to the stream's end


def login(d, user):
    s = requests.Session()
    r = s.post(d.base + "/api/v1/session", json={"name": user.name, "password": user.password},
               timeout=30)
    assert r.status_code == 200, r.text
    return s, s.cookies["cb_session"]


def open_stream(d, headers, query=""):
    c = SSEClient(d.base, "/api/v1/stream" + query, headers=headers)
    assert c.wait_connected(), "stream did not open"
    assert c.status == 200
    return c


def wait_closed(c, timeout):
    """True when the server ended the stream within timeout seconds."""
    deadline = time.monotonic() + timeout
    with c.cond:
        while not c.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            c.cond.wait(left)
        return c.closed


def user_id(d, user):
    r = d.get("/api/v1/me", headers=user.auth)
    assert r.status_code == 200, r.text
    return r.json()["id"]


def has_episode(c, ep_id):
    return any(e[2] and json.loads(e[2]).get("id") == ep_id for e in c.events)


@pytest.fixture(scope="module")
def admin(database):
    ensure_ward(database, "AU1")
    ensure_ward(database, "AU2")
    return make_user(database, "admin")


def test_logout_ends_the_session_stream(daemon, database, admin):
    nurse = make_user(database, "nurse", wards=["AU1"], password="correct horse 1")
    s, cookie = login(daemon, nurse)
    c = open_stream(daemon, {"Cookie": f"cb_session={cookie}"})
    try:
        # the stream works until then
        ep = admit(daemon, nurse, "AU1")
        assert c.wait_for(lambda ev: has_episode(c, ep["id"]))
        # a cookie-signed change carries our Origin (CSRF rule, issue 20 item 4)
        assert s.delete(daemon.base + "/api/v1/session",
                        headers={"Origin": daemon.base}).status_code == 204
        t0 = time.monotonic()
        assert wait_closed(c, DEADLINE), "stream still open after logout"
        assert time.monotonic() - t0 < DEADLINE
    finally:
        c.close()


def test_session_expiry_ends_the_stream(daemon, database):
    """A session that expires at T ends its stream by T (no notification involved).

    session_ttl cannot be set below 5 minutes, so the session row is written
    directly, as the daemon writes it, with a lifetime of 3 seconds; an insert
    notifies no process, so only the stream's own expiry can end it.
    """
    nurse = make_user(database, "nurse", wards=["AU1"])
    uid = user_id(daemon, nurse)
    secret = "cb_" + secrets.token_urlsafe(32)
    digest = hashlib.sha256(secret.encode()).hexdigest()
    rows = database.sql(
        "INSERT INTO tokens (id, user_id, hash, kind, label, expires_at)"
        f" VALUES (gen_random_uuid(), '{uid}', '\\x{digest}'::bytea, 'session', 'web session',"
        "         now() + interval '3 seconds')"
        " RETURNING extract(epoch FROM expires_at)")
    expires_at = float(rows[0][0])
    c = open_stream(daemon, {"Cookie": f"cb_session={secret}"})
    try:
        time.sleep(0.5)
        assert not c.closed, "stream ended long before its session expired"
        left = expires_at - time.time()
        assert wait_closed(c, left + 0.3), "stream outlived its session"
        assert time.time() <= expires_at + 0.3
        time.sleep(max(0.0, expires_at - time.time()) + 0.1)
        r = requests.get(daemon.base + "/api/v1/me", cookies={"cb_session": secret}, timeout=5)
        assert r.status_code == 401
    finally:
        c.close()


def test_token_revoked_by_cli_ends_the_stream(daemon, database):
    bm = make_user(database, "bed_manager")
    c = open_stream(daemon, bm.auth)
    try:
        token_id = database.sql(
            "SELECT t.id FROM tokens t JOIN users u ON u.id = t.user_id"
            f" WHERE u.name = '{bm.name}' AND t.kind = 'api'")[0][0]
        cli(database, "user", "token", "revoke", "--id", token_id)
        t0 = time.monotonic()
        assert wait_closed(c, DEADLINE), "stream still open after its token was revoked"
        assert time.monotonic() - t0 < DEADLINE
    finally:
        c.close()


def test_token_revoked_by_api_ends_the_stream(daemon, database):
    """DELETE /api/v1/session with a bearer token revokes that token."""
    sw = make_user(database, "social_worker")
    c = open_stream(daemon, sw.auth)
    try:
        assert daemon.delete("/api/v1/session", headers=sw.auth).status_code == 204
        t0 = time.monotonic()
        assert wait_closed(c, DEADLINE), "stream still open after its token was revoked"
        assert time.monotonic() - t0 < DEADLINE
    finally:
        c.close()


def test_disabled_user_stream_ends(daemon, database, admin):
    nurse = make_user(database, "nurse", wards=["AU1"], password="correct horse 2")
    _, cookie = login(daemon, nurse)
    by_token = open_stream(daemon, nurse.auth)
    by_session = open_stream(daemon, {"Cookie": f"cb_session={cookie}"})
    other = make_user(database, "nurse", wards=["AU1"])
    bystander = open_stream(daemon, other.auth)
    try:
        r = daemon.post(f"/api/v1/users/{user_id(daemon, nurse)}/disable", headers=admin.auth)
        assert r.status_code in (200, 204), r.text
        t0 = time.monotonic()
        assert wait_closed(by_token, DEADLINE), "token stream still open after disable"
        assert wait_closed(by_session, DEADLINE), "session stream still open after disable"
        assert time.monotonic() - t0 < DEADLINE
        # someone else's stream is not touched
        ep = admit(daemon, other, "AU1")
        assert bystander.wait_for(lambda ev: has_episode(bystander, ep["id"]))
        assert not bystander.closed
    finally:
        for c in (by_token, by_session, bystander):
            c.close()


def test_ward_removed_from_nurse_narrows_her_stream(daemon, database):
    """There is no API or CLI to change a user's wards yet: plain SQL, which notifies too."""
    nurse = make_user(database, "nurse", wards=["AU1", "AU2"])
    writer = make_user(database, "nurse", wards=["AU1", "AU2"])
    c = open_stream(daemon, nurse.auth)
    try:
        before = admit(daemon, writer, "AU1")
        assert c.wait_for(lambda ev: has_episode(c, before["id"]))
        database.sql("DELETE FROM user_wards w USING users u"
                     f" WHERE w.user_id = u.id AND u.name = '{nurse.name}' AND w.ward = 'AU1'")
        time.sleep(DEADLINE)
        gone = admit(daemon, writer, "AU1")
        kept = admit(daemon, writer, "AU2")
        assert c.wait_for(lambda ev: has_episode(c, kept["id"])), "stream stopped altogether"
        time.sleep(0.3)
        assert not has_episode(c, gone["id"]), "event of a ward she no longer has was sent"
        assert not c.closed
    finally:
        c.close()


def test_change_on_one_process_ends_stream_on_another(daemon, database):
    """Logout on process A ends the stream held by process B."""
    other = start_daemon(database.url)
    try:
        nurse = make_user(database, "nurse", wards=["AU1"], password="correct horse 3")
        s, cookie = login(daemon, nurse)
        c = open_stream(other, {"Cookie": f"cb_session={cookie}"})
        bystander = open_stream(other, make_user(database, "bed_manager").auth)
        try:
            ep = admit(daemon, nurse, "AU1")
            assert c.wait_for(lambda ev: has_episode(c, ep["id"]))
            assert s.delete(daemon.base + "/api/v1/session",
                            headers={"Origin": daemon.base}).status_code == 204
            t0 = time.monotonic()
            assert wait_closed(c, DEADLINE), "stream on B still open after logout on A"
            assert time.monotonic() - t0 < DEADLINE
            assert not bystander.closed
        finally:
            c.close()
            bystander.close()
    finally:
        stop_daemon_clean(other)

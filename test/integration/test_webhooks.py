"""Outbound webhooks: registration (admin only, no secret echoed), signed delivery in event
order, exactly once per acknowledged event, retries while the receiver is down, ward filter,
and resuming from the stored cursor after a daemon restart."""
import http.server
import json
import socket
import threading
import time

import conftest
import pytest

from conftest import admit, make_user, start_daemon, stop_daemon_clean
from sse import SSEClient
from webhook_sig import assert_signed

SECRET = "s3cret-for-webhook-tests-0123456789"
# short back-off and lease so that retries and the take-over after a restart are quick
ENV = {"CAREBRIDGE_WEBHOOK_MAX_BACKOFF": "2s", "CAREBRIDGE_WEBHOOK_LEASE": "3s"}


def free_port():
    return conftest.free_port()  # a port no daemon or worker takes meanwhile


class Receiver:
    """An HTTP endpoint on a fixed local port that records every POST and answers 200."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks/carebridge?src=test"
        self.received = []  # (headers dict, raw body bytes, path)
        self.lock = threading.Lock()
        self.server = None
        self.thread = None

    def start(self):
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with rec.lock:
                    rec.received.append((dict(self.headers), body, self.path))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()
            self.server = None

    def ids(self):
        with self.lock:
            return [json.loads(b)["id"] for _, b, _ in self.received]

    def wait_for(self, expected, timeout=25):
        """Wait until the ids received are expected() (re-read: the outbox may grow meanwhile,
        for example by chase jobs) and stay so for a moment; returns (received, expected)."""
        deadline = time.monotonic() + timeout
        while True:
            want = expected()
            if self.ids() == want:
                time.sleep(0.5)  # a duplicate or a stray event would show up now
                want = expected()
                if self.ids() == want or time.monotonic() > deadline:
                    return self.ids(), want
            elif time.monotonic() > deadline:
                return self.ids(), want
            time.sleep(0.05)


class Holder:
    """The module's daemon, replaceable by a restart."""
    d = None


@pytest.fixture(scope="module")
def holder(database):
    h = Holder()
    h.d = start_daemon(database.url, env=ENV)
    yield h
    stop_daemon_clean(h.d)


@pytest.fixture(scope="module")
def people(database):
    return {
        "admin": make_user(database, "admin"),
        "nurse": make_user(database, "nurse", wards=["WHK1", "WHK2", "WHK3"]),
        "bm": make_user(database, "bed_manager"),
    }


def register(d, admin, url, **extra):
    r = d.post("/api/v1/webhooks", json={"url": url, "secret": SECRET, **extra},
               headers=admin.auth)
    assert r.status_code == 201, r.text
    assert SECRET not in r.text and "secret" not in r.json()
    return r.json()


def expected_ids(database, after, ward, types="%"):
    rows = database.sql(f"SELECT id FROM events WHERE id > {after} AND ward = '{ward}'"
                        f" AND type LIKE '{types}' ORDER BY id")
    return [int(x[0]) for x in rows]


def patch_beds(d, user, ep, n, prefix):
    for i in range(n):
        r = d.patch(f"/api/v1/episodes/{ep['id']}", json={"bed": f"{prefix}{i}"}, headers=user.auth)
        assert r.status_code == 200, r.text


def check_delivery(rec, database, ids):
    """Every body is signed, well formed and agrees with its headers and the outbox."""
    with rec.lock:
        got = list(rec.received)
    for headers, body, path in got:
        assert path == "/hooks/carebridge?src=test"
        assert headers["Content-Type"] == "application/json"
        assert_signed(SECRET, headers, body)
        doc = json.loads(body)
        assert set(doc) == {"id", "type", "data"}
        assert headers["X-Carebridge-Event-Id"] == str(doc["id"])
        assert headers["X-Carebridge-Event"] == doc["type"]
    first = json.loads(got[0][1])
    row = database.sql(f"SELECT type, payload::text FROM events WHERE id = {first['id']}")[0]
    assert first["type"] == row[0] and first["data"] == json.loads(row[1])


def webhook_of(d, admin, wid):
    r = d.get("/api/v1/webhooks", headers=admin.auth)
    assert r.status_code == 200
    assert SECRET not in r.text
    return next(w for w in r.json()["items"] if w["id"] == wid)


def test_only_admins_manage_webhooks(holder, people):
    d = holder.d
    for who in ("nurse", "bm"):
        auth = people[who].auth
        assert d.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/x", "secret": SECRET},
                      headers=auth).status_code == 403
        assert d.get("/api/v1/webhooks", headers=auth).status_code == 403
        assert d.delete("/api/v1/webhooks/00000000-0000-4000-8000-000000000000",
                        headers=auth).status_code == 403
    assert d.get("/api/v1/webhooks").status_code == 401


@pytest.mark.parametrize("body,field", [
    ({"url": "http://example.org/x"}, "url"),  # plain http only to the loopback
    ({"url": "http://127.attacker.example/x"}, "url"),
    ({"url": "http://10.1.2.3:8080/x"}, "url"),
    ({"url": "ftp://example.org/x"}, "url"),
    ({"url": "http:///nohost"}, "url"),
    ({"url": "http://u:p@127.0.0.1:8/x"}, "url"),
    ({"url": "http://127.0.0.1:99999/x"}, "url"),
    ({"url": "not a url"}, "url"),
    ({"secret": "short"}, "secret"),
    ({"wards": "WHK1"}, "wards"),
    ({"wards": ["bad ward"]}, "wards"),
    ({"types": [1]}, "types"),
    ({"colour": "red"}, "colour"),
])
def test_registration_is_validated(holder, people, body, field):
    full = {"url": "http://127.0.0.1:9/x", "secret": SECRET, **body}
    r = holder.d.post("/api/v1/webhooks", json=full, headers=people["admin"].auth)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == field
    assert SECRET not in r.text


def test_register_list_delete_audited_without_secret(holder, database, people):
    d, admin = holder.d, people["admin"]
    w = register(d, admin, "http://127.0.0.1:9/gone", types=["episode.*"], wards=["WHK3"])
    assert w["types"] == ["episode.*"] and w["wards"] == ["WHK3"] and w["disciplines"] == []
    assert w["backlog"] == 0 and w["failures"] == 0
    assert w["last_delivered_id"] == int(database.sql("SELECT coalesce(max(id), 0) FROM events")[0][0])
    assert webhook_of(d, admin, w["id"])["url"] == "http://127.0.0.1:9/gone"
    assert d.delete(f"/api/v1/webhooks/{w['id']}", headers=admin.auth).status_code == 204
    assert all(x["id"] != w["id"] for x in d.get("/api/v1/webhooks", headers=admin.auth).json()["items"])
    assert d.delete(f"/api/v1/webhooks/{w['id']}", headers=admin.auth).status_code == 404
    assert d.delete("/api/v1/webhooks/not-a-uuid", headers=admin.auth).status_code == 404
    rows = database.sql(f"SELECT action, coalesce(after::text, ''), coalesce(before::text, '')"
                        f" FROM audit WHERE entity = 'webhook' AND entity_id = '{w['id']}' ORDER BY id")
    assert [r[0] for r in rows] == ["webhook.add", "webhook.delete"]
    assert json.loads(rows[0][1])["url"] == "http://127.0.0.1:9/gone"
    assert json.loads(rows[1][2])["id"] == w["id"]
    assert all(SECRET not in r[1] and SECRET not in r[2] for r in rows)


def test_delivery_while_receiver_down_then_up(holder, database, people):
    """Events made while the receiver is down arrive once each, in id order, when it is up."""
    d, admin, nurse = holder.d, people["admin"], people["nurse"]
    rec = Receiver()
    w = register(d, admin, rec.url, wards=["WHK1"])
    start = w["last_delivered_id"]
    ep = admit(d, nurse, "WHK1")
    other = admit(d, nurse, "WHK2")  # another ward: filtered out
    patch_beds(d, nurse, ep, 30, "A")
    patch_beds(d, nurse, other, 5, "B")
    time.sleep(3)  # the receiver's port is closed: attempts fail and back off
    state = webhook_of(d, admin, w["id"])
    assert state["failures"] >= 1 and state["last_error"], state
    # nothing of WHK1 acknowledged yet (the cursor may pass events of other wards,
    # such as the chase subsystem's, that the filter skips)
    assert start <= state["last_delivered_id"] < expected_ids(database, start, "WHK1")[0]
    assert state["backlog"] > 0
    rec.start()
    try:
        got, want = rec.wait_for(lambda: expected_ids(database, start, "WHK1"))
        assert got == want  # every one, once, in id order; nothing from WHK2
        assert len(want) >= 31  # the admission's events and 30 bed changes
        check_delivery(rec, database, want)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            state = webhook_of(d, admin, w["id"])
            if state["last_delivered_id"] >= want[-1]:
                break
            time.sleep(0.1)
        assert state["last_delivered_id"] >= want[-1] and state["failures"] == 0
        m = d.get("/metrics").text
        assert 'carebridge_webhook_deliveries_total{outcome="ok"}' in m
        assert 'carebridge_webhook_deliveries_total{outcome="error"}' in m
        assert "carebridge_webhook_backlog" in m
    finally:
        rec.stop()
        d.delete(f"/api/v1/webhooks/{w['id']}", headers=admin.auth)


def test_restart_resumes_from_last_delivered(holder, database, people):
    """A new daemon on the same database continues after the stored cursor: no repeats."""
    admin, nurse = people["admin"], people["nurse"]
    rec = Receiver()
    rec.start()
    w = register(holder.d, admin, rec.url, wards=["WHK3"], types=["episode.*"])
    start = w["last_delivered_id"]
    try:
        ep = admit(holder.d, nurse, "WHK3")
        patch_beds(holder.d, nurse, ep, 10, "C")
        got, want_first = rec.wait_for(lambda: expected_ids(database, start, "WHK3", "episode.%"))
        assert got == want_first and len(want_first) == 11  # admitted and 10 updates
        # the receiver goes away, more changes queue up, the daemon is restarted
        rec.stop()
        patch_beds(holder.d, nurse, ep, 10, "D")
        stop_daemon_clean(holder.d)
        holder.d = start_daemon(database.url, env=ENV)
        patch_beds(holder.d, nurse, ep, 5, "E")
        rec.start()
        got, want = rec.wait_for(lambda: expected_ids(database, start, "WHK3", "episode.%"))
        assert got == want  # nothing delivered twice across the restart
        assert len(want) == len(want_first) + 15
        check_delivery(rec, database, want)
    finally:
        rec.stop()
        holder.d.delete(f"/api/v1/webhooks/{w['id']}", headers=admin.auth)


def test_deleted_webhook_stops_delivering(holder, database, people):
    d, admin, nurse = holder.d, people["admin"], people["nurse"]
    rec = Receiver()
    rec.start()
    try:
        w = register(d, admin, rec.url, wards=["WHK2"])
        assert d.delete(f"/api/v1/webhooks/{w['id']}", headers=admin.auth).status_code == 204
        admit(d, nurse, "WHK2")
        time.sleep(2)
        assert rec.ids() == []
    finally:
        rec.stop()


def test_pause_and_resume(holder, database, people):
    """A paused webhook delivers nothing; resumed, it delivers what was made meanwhile, in order."""
    d, admin, nurse = holder.d, people["admin"], people["nurse"]
    rec = Receiver()
    rec.start()
    try:
        w = register(d, admin, rec.url, wards=["WHK3"])
        url = f"/api/v1/webhooks/{w['id']}"
        start = w["last_delivered_id"]
        for body, field in (({"active": "no"}, "active"), ({}, "active"),
                            ({"active": False, "url": "x"}, "url")):
            r = d.patch(url, json=body, headers=admin.auth)
            assert r.status_code == 400 and r.json()["error"]["field"] == field, r.text
        assert d.patch(url, json={"active": False}, headers=nurse.auth).status_code == 403
        assert d.patch("/api/v1/webhooks/00000000-0000-4000-8000-000000000000",
                       json={"active": False}, headers=admin.auth).status_code == 404
        r = d.patch(url, json={"active": False}, headers=admin.auth)
        assert r.status_code == 200, r.text
        assert r.json()["active"] is False and SECRET not in r.text
        ep = admit(d, nurse, "WHK3")
        patch_beds(d, nurse, ep, 3, "Q")
        time.sleep(2.5)  # a lease tick or two: a paused webhook is not delivered
        assert rec.ids() == []
        r = d.patch(url, json={"active": True}, headers=admin.auth)
        assert r.status_code == 200 and r.json()["active"] is True
        assert r.json()["last_error"] is None  # nothing was pruned meanwhile: no gap
        got, want = rec.wait_for(lambda: expected_ids(database, start, "WHK3"))
        assert got == want and len(want) >= 4
        rows = database.sql(f"SELECT action, before->>'active', after->>'active', actor FROM audit"
                            f" WHERE entity_id = '{w['id']}' AND action LIKE 'webhook.%'"
                            f" ORDER BY id")
        assert [r[:3] for r in rows][1:] == [["webhook.pause", "true", "false"],
                                             ["webhook.resume", "false", "true"]], rows
        assert rows[0][0] == "webhook.add"
        assert all(SECRET not in str(r) for r in rows)
    finally:
        rec.stop()
        d.delete(f"/api/v1/webhooks/{w['id']}", headers=admin.auth)


# ---- retention: pruning never drops what an active webhook has yet to deliver ----
#
# Each test has a database of its own: it ages every event past event_retention (7 days by
# default) while the daemon is stopped, and the daemon prunes a few seconds after it starts.

HELD = "carebridge_events_held_for_webhooks"
HELD_AGE = "carebridge_events_held_for_webhooks_oldest_seconds"
PRUNED = "carebridge_events_pruned_total"
HELD_LOG = "events past event_retention kept for webhooks"


def metric(d, name):
    for line in d.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no metric {name}")


def wait_until(pred, timeout=20, what="condition"):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def event_ids(database, after=0):
    return [int(r[0]) for r in database.sql(f"SELECT id FROM events WHERE id > {after} ORDER BY id")]


def count_upto(database, last):
    return int(database.sql(f"SELECT count(*) FROM events WHERE id <= {last}")[0][0])


def cursor_of(database, wid):
    return int(database.sql(f"SELECT last_delivered_id FROM webhooks WHERE id = '{wid}'")[0][0])


def stop_if_running(d):
    if d.proc is not None:
        stop_daemon_clean(d)


def age_every_event(database):
    """What a long outage does to the outbox: every event becomes older than event_retention."""
    database.sql("UPDATE events SET at = at - interval '8 days'")


def own_database(db):
    db.migrate()
    return db, make_user(db, "admin"), make_user(db, "nurse", wards=["WHR1"])


def test_receiver_down_past_retention_gets_every_event(fresh_database):
    """A receiver down for longer than event_retention: pruning keeps every event after the
    webhook's cursor (and says so in a metric and a WARNING), takes the ones before it, and on
    its return the receiver gets every event, once, in id order; then they can go."""
    database, admin, nurse = own_database(fresh_database)
    bm = make_user(database, "bed_manager")
    rec = Receiver()
    d = start_daemon(database.url, env=ENV)
    try:
        admit(d, nurse, "WHR1")  # before the webhook: no webhook needs these events
        w = register(d, admin, rec.url)
        start = w["last_delivered_id"]
        ep = admit(d, nurse, "WHR1")
        patch_beds(d, nurse, ep, 20, "R")
        wait_until(lambda: webhook_of(d, admin, w["id"])["failures"] >= 1, what="a failed attempt")
        stop_daemon_clean(d)
        owed = event_ids(database, start)
        assert len(owed) >= 21 and event_ids(database)[0] <= start
        age_every_event(database)

        d = start_daemon(database.url, env=ENV)
        wait_until(lambda: metric(d, PRUNED) > 0, what="the first pruning")
        kept = event_ids(database)
        assert [i for i in kept if i <= owed[-1]] == owed  # all owed kept, what none needs gone
        assert metric(d, HELD) == len(owed)
        assert metric(d, HELD_AGE) >= 8 * 86400
        warnings = [line for line in d.log_text().splitlines() if HELD_LOG in line]
        assert len(warnings) == 1 and " WARNING " in warnings[0], warnings
        assert f"webhook={w['id']}" in warnings[0] and f"events={len(owed)}" in warnings[0]
        assert f"cursor={start}" in warnings[0]

        # the live stream replays the kept events, and resets an id that was pruned
        c = SSEClient(d.base, "/api/v1/stream", headers={**bm.auth, "Last-Event-ID": str(start)})
        try:
            assert c.wait_for(lambda ev: owed[-1] in [e[0] for e in ev])
            assert c.ids()[0] == owed[0] and all(e[1] != "reset" for e in c.events)
        finally:
            c.close()
        c = SSEClient(d.base, "/api/v1/stream", headers={**bm.auth, "Last-Event-ID": "1"})
        try:
            assert c.wait_for(lambda ev: any(e[1] == "reset" for e in ev))
        finally:
            c.close()

        rec.start()
        got, want = rec.wait_for(lambda: event_ids(database, start))
        assert got == want  # every one, once, in id order
        assert got[:len(owed)] == owed  # none of those kept past retention skipped
        check_delivery(rec, database, want)
        wait_until(lambda: webhook_of(d, admin, w["id"])["last_delivered_id"] >= owed[-1],
                   what="the cursor")

        # delivered: the next pruning takes them, and nothing is held any more
        stop_daemon_clean(d)
        d = start_daemon(database.url, env=ENV)
        wait_until(lambda: metric(d, PRUNED) > 0, what="the second pruning")
        assert count_upto(database, owed[-1]) == 0
        assert metric(d, HELD) == 0 and metric(d, HELD_AGE) == 0
        assert HELD_LOG not in d.log_text()
    finally:
        rec.stop()
        stop_if_running(d)


def test_disabled_or_deleted_webhook_does_not_hold_pruning(fresh_database):
    """A paused (active = false) or deleted webhook holds nothing back: old events are pruned,
    in batches until none is left, however far behind those webhooks were."""
    database, admin, nurse = own_database(fresh_database)
    d = start_daemon(database.url, env=ENV)
    try:
        paused = register(d, admin, "http://127.0.0.1:9/paused")
        deleted = register(d, admin, "http://127.0.0.1:9/deleted")
        ep = admit(d, nurse, "WHR1")
        patch_beds(d, nurse, ep, 5, "P")
        r = d.patch(f"/api/v1/webhooks/{paused['id']}", json={"active": False},
                    headers=admin.auth)
        assert r.status_code == 200 and r.json()["active"] is False, r.text
        assert d.delete(f"/api/v1/webhooks/{deleted['id']}", headers=admin.auth).status_code == 204
        stop_daemon_clean(d)
        # more old events than one pruning statement takes (HUB_PRUNE_BATCH)
        database.sql("INSERT INTO events (type, payload) SELECT 'test.filler', '{}'::jsonb"
                     " FROM generate_series(1, 25000)")
        last = event_ids(database)[-1]
        age_every_event(database)
        assert cursor_of(database, paused["id"]) < last

        d = start_daemon(database.url, env=ENV)
        wait_until(lambda: count_upto(database, last) == 0, what="every old event to be pruned")
        assert metric(d, PRUNED) >= 25000
        assert metric(d, HELD) == 0 and metric(d, HELD_AGE) == 0
        assert HELD_LOG not in d.log_text()
    finally:
        stop_if_running(d)


def test_two_processes_share_one_webhook(fresh_database):
    """Two serve processes on one database: one holds the webhook's lease and delivers each event
    once, in order; when it stops, the other takes the lease over and carries on from the cursor."""
    database, admin, nurse = own_database(fresh_database)
    rec = Receiver()
    rec.start()
    d1 = start_daemon(database.url, env=ENV)
    d2 = start_daemon(database.url, env=ENV)
    try:
        w = register(d1, admin, rec.url, wards=["WHR1"])
        start = w["last_delivered_id"]
        ep = admit(d1, nurse, "WHR1")
        patch_beds(d1, nurse, ep, 10, "A")
        patch_beds(d2, nurse, ep, 10, "B")  # written through either process
        got, want = rec.wait_for(lambda: expected_ids(database, start, "WHR1"))
        assert got == want and len(want) >= 21  # once each, in order, by one of them
        held = [metric(d, "carebridge_webhooks_held") for d in (d1, d2)]
        assert sorted(held) == [0, 1], held
        holder, other = (d1, d2) if held[0] == 1 else (d2, d1)
        stop_daemon_clean(holder)  # its lease runs out (webhook_lease 3 s); the other takes over
        patch_beds(other, nurse, ep, 5, "C")
        got, want = rec.wait_for(lambda: expected_ids(database, start, "WHR1"), timeout=30)
        assert got == want  # nothing lost, nothing twice across the take-over
        wait_until(lambda: metric(other, "carebridge_webhooks_held") == 1, what="the take-over")
        check_delivery(rec, database, want)
    finally:
        stop_if_running(d1)
        stop_if_running(d2)
        rec.stop()


def test_resumed_webhook_is_told_what_was_pruned_while_paused(fresh_database):
    """A webhook paused for longer than event_retention: pruning takes what it had not delivered;
    resuming it puts the gap on record (last_error, cursor moved past it) instead of skipping
    the missing events without a word, and delivery goes on from there."""
    database, admin, nurse = own_database(fresh_database)
    rec = Receiver()
    d = start_daemon(database.url, env=ENV)
    try:
        w = register(d, admin, rec.url, wards=["WHR1"])
        cursor = w["last_delivered_id"]
        r = d.patch(f"/api/v1/webhooks/{w['id']}", json={"active": False}, headers=admin.auth)
        assert r.status_code == 200, r.text
        ep = admit(d, nurse, "WHR1")
        patch_beds(d, nurse, ep, 3, "G")
        stop_daemon_clean(d)
        missed = event_ids(database, cursor)
        age_every_event(database)

        d = start_daemon(database.url, env=ENV)
        wait_until(lambda: count_upto(database, missed[-1]) == 0, what="pruning of the paused")
        r = d.patch(f"/api/v1/webhooks/{w['id']}", json={"active": True}, headers=admin.auth)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["last_delivered_id"] >= missed[-1]
        assert body["last_error"] == (f"events {cursor + 1} to {body['last_delivered_id']} were"
                                      f" pruned while the webhook was paused"), body
        audit = database.sql(f"SELECT after->>'last_error' FROM audit WHERE entity_id ="
                             f" '{w['id']}' AND action = 'webhook.resume'")
        assert audit == [[body["last_error"]]]
        rec.start()
        start = body["last_delivered_id"]
        patch_beds(d, nurse, ep, 2, "H")
        got, want = rec.wait_for(lambda: expected_ids(database, start, "WHR1"))
        assert got == want and len(want) >= 2  # delivery goes on after the gap
    finally:
        stop_if_running(d)
        rec.stop()


def test_http_localhost_is_not_trusted_by_name(fresh_database):
    """Plain http:// goes only to a loopback address written as one.  "localhost" is a name:
    the API refuses it, and one stored before that rule is not delivered to (it would go
    wherever the name resolves when the delivery connects)."""
    database, admin, nurse = own_database(fresh_database)
    rec = Receiver()
    rec.start()
    d = start_daemon(database.url, env=ENV)
    try:
        r = d.post("/api/v1/webhooks", json={"url": f"http://localhost:{rec.port}/hooks",
                                             "secret": SECRET}, headers=admin.auth)
        assert r.status_code == 400, r.text
        assert r.json()["error"]["field"] == "url"
        w = register(d, admin, rec.url, wards=["WHR1"])
        stop_daemon_clean(d)
        # as registered by an earlier version
        database.sql(f"UPDATE webhooks SET url = 'http://localhost:{rec.port}/hooks/carebridge'"
                     f" WHERE id = '{w['id']}'")
        d = start_daemon(database.url, env=ENV)
        ep = admit(d, nurse, "WHR1")
        patch_beds(d, nurse, ep, 2, "L")
        wait_until(lambda: webhook_of(d, admin, w["id"])["failures"] > 0, what="a failure")
        time.sleep(1)
        assert rec.ids() == []
        assert webhook_of(d, admin, w["id"])["last_error"] == \
            "http:// is allowed only to a loopback address written as one"
    finally:
        stop_if_running(d)
        rec.stop()

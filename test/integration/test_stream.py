"""Live push: SSE delivery, filters, access, Last-Event-ID replay, two processes, crash, slow clients."""
import json
import re
import selectors
import signal
import socket
import time

import pytest
import requests

from conftest import admit, make_user, start_daemon, stop_daemon_clean
from sse import SSEClient


@pytest.fixture(scope="module")
def people(database):
    return {
        "nurse_a": make_user(database, "nurse", wards=["SA"]),
        "nurse_b": make_user(database, "nurse", wards=["SB"]),
        "bm": make_user(database, "bed_manager"),
        "sw": make_user(database, "social_worker"),
    }


def stream(d, user, query="", **kw):
    headers = dict(user.auth)
    headers.update(kw.pop("headers", {}))
    c = SSEClient(d.base, "/api/v1/stream" + query, headers=headers, **kw)
    assert c.wait_connected(), "stream did not open"
    return c


def patch_bed(d, user, ep_id, bed):
    r = d.patch(f"/api/v1/episodes/{ep_id}", json={"bed": bed}, headers=user.auth)
    assert r.status_code == 200, r.text
    return r.json()


def test_stream_requires_auth(daemon):
    r = requests.get(daemon.base + "/api/v1/stream", timeout=5)
    assert r.status_code == 401


def test_update_reaches_subscriber_within_a_second(daemon, people):
    ep = admit(daemon, people["nurse_a"], "SA")
    c = stream(daemon, people["bm"], f"?episode={ep['id']}")
    try:
        t0 = time.monotonic()
        patch_bed(daemon, people["nurse_a"], ep["id"], "9")
        assert c.wait_for(lambda ev: any(e[1] == "episode.updated" for e in ev), timeout=1.0)
        assert time.monotonic() - t0 < 1.0
        eid, etype, data = [e for e in c.events if e[1] == "episode.updated"][0]
        body = json.loads(data)
        assert body["id"] == ep["id"] and body["bed"] == "9"
        assert c.status == 200
    finally:
        c.close()


def test_filters_and_access_hold(daemon, people):
    a = stream(daemon, people["bm"], "?ward=SA")
    nurse_a = stream(daemon, people["nurse_a"])          # no filter: only her own ward
    tasks = stream(daemon, people["bm"], "?discipline=ot&types=task.created")
    try:
        ep_b = admit(daemon, people["nurse_b"], "SB", pathway=1)
        ep_a = admit(daemon, people["nurse_a"], "SA", pathway=1)
        assert a.wait_for(lambda ev: any(json.loads(e[2]).get("id") == ep_a["id"] for e in ev))
        assert nurse_a.wait_for(lambda ev: any(json.loads(e[2]).get("id") == ep_a["id"] for e in ev))
        assert tasks.wait_for(lambda ev: len(ev) >= 2)
        time.sleep(0.3)
        for c in (a, nurse_a):
            for _, etype, data in c.events:
                body = json.loads(data)
                assert body.get("ward") == "SA", (etype, body)
        assert all(e[1] == "task.created" and json.loads(e[2])["discipline"] == "ot"
                   for e in tasks.events)
    finally:
        for c in (a, nurse_a, tasks):
            c.close()


def test_nurse_cannot_subscribe_to_another_ward(daemon, people):
    r = requests.get(daemon.base + "/api/v1/stream?ward=SB", headers=people["nurse_a"].auth, timeout=5)
    assert r.status_code == 403
    r = requests.get(daemon.base + "/api/v1/stream?since=abc", headers=people["bm"].auth, timeout=5)
    assert r.status_code == 400
    r = requests.get(daemon.base + "/api/v1/stream?episode=nope", headers=people["bm"].auth, timeout=5)
    assert r.status_code == 400


def test_opening_a_stream_is_audited(daemon, database, people):
    """The stream carries patient data: who opened it, and what they asked for, is audited."""
    user = people["bm"]
    ep = admit(daemon, people["nurse_a"], "SA")
    before = database.sql("SELECT coalesce(max(id), 0) FROM audit")[0][0]
    c = stream(daemon, user, f"?ward=SA&types=task.updated,episode.updated&episode={ep['id']}",
               headers={"Last-Event-ID": "1"})
    c.close()
    rows = database.sql("SELECT actor, entity, episode_id, after FROM audit"
                        f" WHERE action = 'stream.open' AND id > {before}")
    assert len(rows) == 1, rows
    actor, entity, episode_id, detail = rows[0]
    assert (actor, entity, episode_id) == (user.name, "stream", ep["id"])
    assert json.loads(detail) == {"ward": ["SA"], "discipline": [],
                                  "types": ["task.updated,episode.updated"],
                                  "episode": ep["id"], "since": 1}
    # refused streams open nothing, and are not audited as opened
    r = requests.get(daemon.base + "/api/v1/stream?ward=SB", headers=people["nurse_a"].auth,
                     timeout=5)
    assert r.status_code == 403
    assert database.sql("SELECT count(*) FROM audit WHERE action = 'stream.open'"
                        f" AND id > {before}") == [["1"]]


def test_reconnect_with_last_event_id_gets_exactly_the_missed_100(daemon, people):
    ep = admit(daemon, people["nurse_a"], "SA")
    q = f"?episode={ep['id']}&types=episode.updated"
    c = stream(daemon, people["bm"], q)
    patch_bed(daemon, people["nurse_a"], ep["id"], "0")
    assert c.wait_count(1)
    last = c.ids()[-1]
    c.close()
    for i in range(1, 101):
        patch_bed(daemon, people["nurse_a"], ep["id"], str(i))
    c2 = stream(daemon, people["bm"], q, headers={"Last-Event-ID": str(last)})
    try:
        assert c2.wait_count(100, timeout=10)
        time.sleep(0.3)
        ids = c2.ids()
        assert len(ids) == 100 and ids == sorted(ids) and len(set(ids)) == 100
        beds = [json.loads(e[2])["bed"] for e in c2.events if e[0] is not None]
        assert beds == [str(i) for i in range(1, 101)]
        # and then it is live
        patch_bed(daemon, people["nurse_a"], ep["id"], "live")
        assert c2.wait_count(101)
    finally:
        c2.close()


def test_since_query_parameter_and_ring_miss(database, people):
    """A tiny ring forces replay from the table; ?since= works like Last-Event-ID."""
    d = start_daemon(database.url, env={"CAREBRIDGE_SSE_RING_SIZE": "16"})
    try:
        ep = admit(d, people["nurse_a"], "SA")
        first = int(database.sql("SELECT max(id) FROM events")[0][0])
        for i in range(40):
            patch_bed(d, people["nurse_a"], ep["id"], f"r{i}")
        c = stream(d, people["bm"], f"?episode={ep['id']}&types=episode.updated&since={first}")
        try:
            assert c.wait_count(40)
            assert [json.loads(e[2])["bed"] for e in c.events if e[0]] == [f"r{i}" for i in range(40)]
        finally:
            c.close()
    finally:
        stop_daemon_clean(d)


def test_too_old_id_gets_reset(database, people):
    d = start_daemon(database.url, env={"CAREBRIDGE_SSE_RING_SIZE": "16"})
    try:
        ep = admit(d, people["nurse_a"], "SA")
        for i in range(20):  # more than the ring holds, so id 1 is neither there nor stored
            patch_bed(d, people["nurse_a"], ep["id"], f"b{i}")
        database.sql("DELETE FROM events WHERE id < (SELECT max(id) - 5 FROM events)")
        c = stream(d, people["bm"], f"?episode={ep['id']}", headers={"Last-Event-ID": "1"})
        try:
            assert c.wait_for(lambda ev: any(e[1] == "reset" for e in ev))
            reset = [e for e in c.events if e[1] == "reset"][0]
            # the frame carries the newest id, as an EventSource would keep it for a reconnect
            newest = json.loads(reset[2])["last_id"]
            assert reset[0] == newest and newest > 1
            patch_bed(d, people["nurse_a"], ep["id"], "after-reset")
            assert c.wait_for(lambda ev: any(e[1] == "episode.updated" for e in ev))
        finally:
            c.close()
        # a client that reconnects with the reset's id, before any new event, resumes from there
        c = stream(d, people["bm"], f"?episode={ep['id']}",
                   headers={"Last-Event-ID": str(newest)})
        try:
            assert c.wait_for(lambda ev: any(e[1] == "episode.updated" for e in ev))
            assert not any(e[1] == "reset" for e in c.events)
        finally:
            c.close()
    finally:
        stop_daemon_clean(d)


def test_write_through_one_process_reaches_subscriber_of_another(database, people):
    d1 = start_daemon(database.url)
    d2 = start_daemon(database.url)
    try:
        ep = admit(d1, people["nurse_a"], "SA")
        c = stream(d2, people["bm"], f"?episode={ep['id']}")
        try:
            t0 = time.monotonic()
            patch_bed(d1, people["nurse_a"], ep["id"], "via-1")
            assert c.wait_for(lambda ev: any(json.loads(e[2]).get("bed") == "via-1" for e in ev), 2)
            assert time.monotonic() - t0 < 1.0
        finally:
            c.close()
    finally:
        stop_daemon_clean(d1)
        stop_daemon_clean(d2)


def test_kill_9_and_restart_resumes_without_gap(database, people):
    d = start_daemon(database.url)
    ep = admit(d, people["nurse_a"], "SA")
    q = f"?episode={ep['id']}&types=episode.updated"
    c = stream(d, people["bm"], q)
    for i in range(5):
        patch_bed(d, people["nurse_a"], ep["id"], f"k{i}")
    assert c.wait_count(5)
    d.kill()  # the process holding the subscriber dies
    c.wait_for(lambda ev: False, timeout=0.5)
    last = c.ids()[-1]
    c.close()
    d2 = start_daemon(database.url)
    try:
        for i in range(5, 12):  # writes while the client is away
            patch_bed(d2, people["nurse_a"], ep["id"], f"k{i}")
        c2 = stream(d2, people["bm"], q, headers={"Last-Event-ID": str(last)})
        try:
            assert c2.wait_count(7)
            beds = [json.loads(e[2])["bed"] for e in c2.events if e[0]]
            assert beds == [f"k{i}" for i in range(5, 12)]
        finally:
            c2.close()
    finally:
        stop_daemon_clean(d2)


@pytest.mark.serial
def test_slow_subscriber_is_dropped_others_keep_receiving(database, people):
    d = start_daemon(database.url, env={"CAREBRIDGE_SSE_MAX_BUFFER": "64kB"})
    try:
        ep = admit(d, people["nurse_a"], "SA")
        stuck = SSEClient(d.base, "/api/v1/stream", headers=people["bm"].auth, rcvbuf=1024, read=False)
        good = stream(d, people["bm"], f"?episode={ep['id']}&types=episode.updated")
        try:
            n = 0
            deadline = time.monotonic() + 60
            dropped = 0
            while time.monotonic() < deadline:
                for _ in range(20):
                    n += 1
                    patch_bed(d, people["nurse_a"], ep["id"], f"s{n}")
                m = re.search(r"^carebridge_stream_subscribers_dropped_total (\d+)$",
                              d.get("/metrics").text, re.M)
                dropped = int(m.group(1))
                if dropped >= 1:
                    break
            assert dropped >= 1
            assert good.wait_count(n, timeout=10)
            assert len(good.ids()) == n
            m = re.search(r"^carebridge_stream_subscribers (\d+)$", d.get("/metrics").text, re.M)
            assert int(m.group(1)) == 1
            assert d.get("/healthz").status_code == 200
        finally:
            stuck.close()
            good.close()
    finally:
        stop_daemon_clean(d)


def test_slow_subscribers_together_are_bounded_by_the_process_limit(database, people):
    """Three stuck clients, each far under sse_max_buffer, together over
    sse_max_total_buffer: the slowest are dropped until the process is under it, and a
    client that keeps up is never touched and misses nothing."""
    d = start_daemon(database.url, env={"CAREBRIDGE_SSE_MAX_BUFFER": "64MB",
                                        "CAREBRIDGE_SSE_MAX_TOTAL_BUFFER": "2MB"})

    def gauge(name):
        m = re.search(rf"^{name} (\d+)$", d.get("/metrics").text, re.M)
        return int(m.group(1))

    try:
        stuck = [SSEClient(d.base, "/api/v1/stream?ward=SA", headers=people["bm"].auth,
                           rcvbuf=1024, read=False) for _ in range(3)]
        good = stream(d, people["bm"], "?ward=SA&types=episode.updated")
        try:
            deadline = time.monotonic() + 10
            while gauge("carebridge_stream_subscribers") < 4:
                assert time.monotonic() < deadline, "subscribers did not connect"
                time.sleep(0.05)
            # 60 events of about 100 kB each (6 MB per subscriber), written straight to the
            # outbox: the daemon hears of them by NOTIFY like any others
            database.sql("INSERT INTO events (type, ward, payload) SELECT 'episode.updated',"
                         " 'SA', jsonb_build_object('n', g, 'pad', repeat('x', 100000))"
                         " FROM generate_series(1, 60) g")
            assert good.wait_count(60, timeout=30)
            assert len(good.ids()) == 60
            deadline = time.monotonic() + 10
            while gauge("carebridge_stream_subscribers") > 1:
                assert time.monotonic() < deadline, ("stuck subscribers not dropped", [
                    ln for ln in d.get("/metrics").text.splitlines()
                    if ln.startswith("carebridge_stream")])
                time.sleep(0.05)
            assert gauge("carebridge_stream_subscribers_dropped_total") == 3
            assert gauge("carebridge_stream_queued_bytes") < 2 * 1024 * 1024
            assert "limit=sse_max_total_buffer" in d.log_text()
            assert d.get("/healthz").status_code == 200
        finally:
            for c in stuck:
                c.close()
            good.close()
        deadline = time.monotonic() + 5
        while gauge("carebridge_stream_queued_bytes") != 0:
            assert time.monotonic() < deadline, "queued bytes not released with the streams"
            time.sleep(0.05)
    finally:
        stop_daemon_clean(d)


def test_heartbeat_keeps_idle_stream_open_past_http_timeout(database, people):
    d = start_daemon(database.url, env={"CAREBRIDGE_HTTP_TIMEOUT": "2s", "CAREBRIDGE_SSE_HEARTBEAT": "1s"})
    try:
        c = stream(d, people["bm"])
        try:
            time.sleep(5)
            assert not c.closed
            assert c.comments >= 3  # "connected" plus heartbeats
            ep = admit(d, people["nurse_a"], "SA")
            assert c.wait_for(lambda ev: any(json.loads(e[2]).get("id") == ep["id"] for e in ev))
        finally:
            c.close()
    finally:
        stop_daemon_clean(d)


def test_heartbeats_go_to_idle_streams_only(database, people):
    """A stream that is getting events needs no heartbeat; an idle one gets one per interval."""
    d = start_daemon(database.url, env={"CAREBRIDGE_SSE_HEARTBEAT": "1s"})
    try:
        ep = admit(d, people["nurse_a"], "SA")
        busy = stream(d, people["bm"], f"?episode={ep['id']}")
        idle = stream(d, people["bm"], "?ward=SB")
        try:
            c0 = busy.comments
            for k in range(16):  # an update every 0.25 s for 4 s
                r = d.patch(f"/api/v1/episodes/{ep['id']}", json={"bed": f"B{k}"},
                            headers=people["nurse_a"].auth)
                assert r.status_code == 200, r.text
                time.sleep(0.25)
            assert busy.wait_for(lambda ev: len(ev) >= 16)
            assert busy.comments == c0, "a stream getting events was sent heartbeats"
            assert idle.comments >= 1 + 2, "an idle stream missed its heartbeats"
        finally:
            busy.close()
            idle.close()
    finally:
        stop_daemon_clean(d)


def test_stream_metrics_and_clean_shutdown_with_subscribers(database, people):
    d = start_daemon(database.url)
    clients = [stream(d, people["bm"]) for _ in range(5)]
    text = d.get("/metrics").text
    assert re.search(r"^carebridge_stream_subscribers 5$", text, re.M)
    assert "carebridge_stream_events_fanned_out_total" in text
    rc = d.stop(signal.SIGTERM)
    assert rc == 0
    d.assert_clean_log()
    for c in clients:
        assert c.wait_for(lambda ev: False, timeout=0.1) is False
        c.close()


def _raw_stream(d, user, method="GET", version="1.1", query=""):
    host, port = d.base.replace("http://", "").split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    lines = [f"{method} /api/v1/stream{query} HTTP/{version}", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in user.auth.items()]
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return s


def _read_until(s, pred, timeout=10):
    buf = b""
    deadline = time.monotonic() + timeout
    while not pred(buf) and time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        if not data:
            break
        buf += data
    return buf


def _dechunk(body):
    """Exact chunked decoding: (frames, rest); fails on a malformed chunk."""
    out = []
    while b"\r\n" in body:
        size_line, rest = body.split(b"\r\n", 1)
        size = int(size_line, 16)
        assert size > 0, "the stream must not end"
        if len(rest) < size + 2:
            break
        assert rest[size:size + 2] == b"\r\n", "chunk not followed by CRLF"
        out.append(rest[:size])
        body = rest[size + 2:]
    return out, body


def test_stream_framing_chunked_http10_and_head(daemon, people):
    ep = admit(daemon, people["nurse_a"], "SA")
    q = f"?episode={ep['id']}&types=episode.updated"
    c11 = _raw_stream(daemon, people["bm"], query=q)
    c10 = _raw_stream(daemon, people["bm"], version="1.0", query=q)
    head = _raw_stream(daemon, people["bm"], method="HEAD", query=q)
    pending, headers = {}, {}
    try:
        for s in (c11, c10, head):
            got = _read_until(s, lambda b: b"\r\n\r\n" in b)
            assert got.startswith(b"HTTP/1.1 200") or got.startswith(b"HTTP/1.0 200"), got
            headers[s], pending[s] = got.split(b"\r\n\r\n", 1)
        assert b"transfer-encoding: chunked" in headers[c11].lower()
        assert b"transfer-encoding" not in headers[c10].lower()
        for i in range(5):
            patch_bed(daemon, people["nurse_a"], ep["id"], f"f{i}")

        def five(b):
            return b.count(b"event: episode.updated") >= 5

        body11 = pending[c11] + _read_until(c11, lambda b: five(pending[c11] + b))
        frames, rest = _dechunk(body11)
        text = b"".join(frames).decode()
        assert text.startswith("retry: ")
        assert text.count("event: episode.updated") == 5 and rest == b""
        beds = [json.loads(m)["bed"] for m in re.findall(r"^data: (.*)$", text, re.M)]
        assert beds == [f"f{i}" for i in range(5)]
        body10 = (pending[c10] + _read_until(c10, lambda b: five(pending[c10] + b))).decode()
        assert body10.startswith("retry: ") and body10.count("event: episode.updated") == 5
        assert not re.search(r"^[0-9a-f]+\r$", body10, re.M), "HTTP/1.0 must not be chunked"
        assert pending[head] + _read_until(head, lambda b: b != b"", timeout=1) == b""
    finally:
        for s in (c11, c10, head):
            s.close()


def test_fan_out_over_many_subscribers_keeps_order(daemon, people):
    """More subscribers than one loop turn serves: every one gets every event, in order."""
    ep = admit(daemon, people["nurse_a"], "SA")
    q = f"?episode={ep['id']}&types=episode.updated"
    n_subs, n_events = 700, 30
    subs = [_raw_stream(daemon, people["bm"], query=q) for _ in range(n_subs)]
    sel = selectors.DefaultSelector()
    bufs = {}
    try:
        for s in subs:
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
            bufs[s] = b""

        def pump(until, timeout):
            deadline = time.monotonic() + timeout
            while not until() and time.monotonic() < deadline:
                for key, _ in sel.select(0.2):
                    data = key.fileobj.recv(65536)
                    assert data, "a subscriber was disconnected"
                    bufs[key.fileobj] += data

        pump(lambda: all(b": connected" in b for b in bufs.values()), 30)
        for i in range(n_events):
            patch_bed(daemon, people["nurse_a"], ep["id"], f"m{i}")
        pump(lambda: all(b.count(b"event: episode.updated") >= n_events
                         for b in bufs.values()), 60)
        want = [f"m{i}" for i in range(n_events)]
        for b in bufs.values():
            frames, _ = _dechunk(b.split(b"\r\n\r\n", 1)[1])
            text = b"".join(frames).decode()
            beds = [json.loads(m)["bed"] for m in re.findall(r"^data: (.*)$", text, re.M)]
            assert beds == want
    finally:
        sel.close()
        for s in subs:
            s.close()

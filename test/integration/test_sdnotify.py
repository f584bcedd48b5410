"""systemd readiness (Type=notify): serve speaks sd_notify(3) on $NOTIFY_SOCKET.

The packaged unit (debian/carebridge.service) is Type=notify: systemd counts the
service started only when READY=1 arrives, and that must mean what /readyz means
(the database answers with the schema this binary needs), not merely "the port is
open".  STOPPING=1 arrives when SIGTERM starts the graceful shutdown.  Each test
binds the datagram socket itself, as systemd would, and reads what serve sends.
"""
import os
import socket
import time

import requests

from conftest import Daemon, stop_daemon_clean


class NotifySocket:
    """A unix datagram socket standing in for systemd's notification socket."""

    def __init__(self, path, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = "cbtest-notify-%d-%d" % (os.getpid(), time.monotonic_ns())
            self.sock.bind("\0" + name)
            self.env = "@" + name
        else:
            self.sock.bind(path)
            self.env = path
        self.messages = []

    def wait_for(self, key, timeout):
        """The first message holding line key (e.g. "READY=1"), or None after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            for m in self.messages:
                if key in m.split("\n"):
                    return m
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                return None

    def close(self):
        self.sock.close()


class NoWaitDaemon(Daemon):
    """serve started without waiting for /readyz: the test watches readiness itself."""

    def wait_ready(self, timeout=30):
        pass


def readyz(d):
    return requests.get(d.base + "/readyz", timeout=5).status_code


def test_ready_after_readyz_and_stopping_at_sigterm(fresh_database, tmp_path):
    ns = NotifySocket(str(tmp_path / "notify"))
    # Not migrated yet, and serve may not migrate (the application role; no owner URL).
    d = NoWaitDaemon(fresh_database.url, env={"NOTIFY_SOCKET": ns.env,
                                             "CAREBRIDGE_MIGRATE_ON_START": "off"}).start()
    try:
        status = ns.wait_for("STATUS=waiting for the database", 10)
        assert status is not None, ns.messages
        # Listening, but not ready: no READY=1 while /readyz says 503.
        assert readyz(d) == 503
        assert ns.wait_for("READY=1", 2.5) is None, ns.messages
        assert readyz(d) == 503

        fresh_database.migrate()
        ready = ns.wait_for("READY=1", 15)
        assert ready is not None, ns.messages + [d.log_text()]
        assert "STATUS=ready: schema version" in ready
        assert readyz(d) == 200  # READY=1 means what /readyz means
        assert "ready schema=" in d.log_text()
        assert ns.wait_for("STOPPING=1", 0.3) is None
    finally:
        d.proc.send_signal(15)
        stopping = ns.wait_for("STOPPING=1", 10)
        stop_daemon_clean(d)
        ns.close()
    assert stopping is not None, ns.messages
    # READY=1 is sent once; nothing after STOPPING=1 says ready again.
    assert sum("READY=1" in m.split("\n") for m in ns.messages) == 1
    assert not any("READY=1" in m.split("\n")
                   for m in ns.messages[ns.messages.index(stopping):])


def test_ready_at_once_on_a_current_schema_abstract_socket(database):
    ns = NotifySocket(None, abstract=True)
    d = NoWaitDaemon(database.url, env={"NOTIFY_SOCKET": ns.env}).start()
    try:
        ready = ns.wait_for("READY=1", 15)
        assert ready is not None, ns.messages + [d.log_text()]
        assert readyz(d) == 200
    finally:
        d.proc.send_signal(15)
        stopping = ns.wait_for("STOPPING=1", 10)
        stop_daemon_clean(d)
        ns.close()
    assert stopping is not None, ns.messages


def test_without_notify_socket_serve_says_nothing_and_runs(database, tmp_path):
    # A socket exists but serve is not told about it: nothing is sent.
    ns = NotifySocket(str(tmp_path / "notify"))
    d = Daemon(database.url, env={"NOTIFY_SOCKET": None}).start()
    try:
        assert readyz(d) == 200
        assert ns.wait_for("READY=1", 1.5) is None
        assert "ready schema=" not in d.log_text()
    finally:
        stop_daemon_clean(d)
        ns.close()
    assert ns.messages == []

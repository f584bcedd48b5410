"""Fixtures for carebridge's black-box tests (in the manner of PgBouncer's test/conftest.py).

A private PostgreSQL cluster (scripts/pg) serves the whole session; each test
session gets a fresh database, migrated by the real binary; each test module
gets its own `carebridge serve` on a free port.  Teardown sends SIGTERM and
expects exit 0 and no sanitizer report.  Only the Python standard library and
Debian's python3-requests are used.
"""
import os
import pathlib
import signal
import subprocess
import tempfile
import time

import pytest
import requests

TOP = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("CB_BIN", str(TOP / "build/release/carebridge"))
ASAN = os.environ.get("CB_TEST_ASAN") == "1"
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


class Cluster:
    """A private PostgreSQL cluster driven through scripts/pg."""

    def __init__(self, directory=None):
        self.env = dict(os.environ)
        if directory is not None:
            self.env["CB_PG_DIR"] = str(directory)

    def pg(self, *args):
        out = subprocess.run([str(TOP / "scripts/pg"), *args], env=self.env, check=True,
                             capture_output=True, text=True)
        return out.stdout.strip()

    def start(self):
        self.pg("start")

    def stop(self):
        self.pg("stop")

    def url(self, db):
        return self.pg("url", db)

    def createdb(self, db):
        self.pg("createdb", db)
        return self.url(db)

    def sql(self, db, query):
        """Run SQL with psql; returns rows as lists of strings."""
        out = subprocess.run([str(TOP / "scripts/pg"), "psql", "-d", db, "-qtA", "-F", "\t",
                              "-v", "ON_ERROR_STOP=1", "-c", query],
                             env=self.env, check=True, capture_output=True, text=True)
        return [line.split("\t") for line in out.stdout.splitlines() if line != ""]


def run_bin(*args, env=None, check=False, timeout=60):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([BIN, *args], env=e, capture_output=True, text=True, check=check,
                          timeout=timeout)


class Daemon:
    """One `carebridge serve` process on a free port."""

    def __init__(self, url, env=None, wrapper=None):
        self.url = url
        self.extra_env = env or {}
        self.wrapper = wrapper or []
        self.proc = None
        self.tmp = tempfile.TemporaryDirectory(prefix="cbd-")
        self.port_file = os.path.join(self.tmp.name, "port")
        self.log_path = os.path.join(self.tmp.name, "serve.log")
        self.base = None
        self.session = requests.Session()

    def start(self, timeout=30):
        env = dict(os.environ)
        env.update({
            "CAREBRIDGE_DATABASE_URL": self.url,
            "CAREBRIDGE_LISTEN_PORT": "0",
            "CAREBRIDGE_DB_RETRY_INTERVAL": "200ms",
        })
        env.update(self.extra_env)
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([*self.wrapper, BIN, "serve", "--port-file", self.port_file],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None:
                raise RuntimeError("serve exited early:\n" + self.log_text())
            if time.monotonic() > deadline:
                raise RuntimeError("serve did not write its port file:\n" + self.log_text())
            time.sleep(0.02)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())
        self.base = f"http://127.0.0.1:{self.port}"
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("serve never became ready:\n" + self.log_text())
            time.sleep(0.05)

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Stop the daemon; returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.close()
        self.proc = None
        return rc

    def kill(self):
        """kill -9, as a crash would."""
        return self.stop(sig=signal.SIGKILL)

    def assert_clean_log(self):
        text = self.log_text()
        for mark in SANITIZER_MARKS:
            assert mark not in text, text

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 30)
        return self.session.request(method, self.base + path, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


@pytest.fixture(scope="session")
def cluster():
    c = Cluster()
    c.start()
    return c


class Database:
    def __init__(self, cluster, name):
        self.cluster = cluster
        self.name = name
        self.url = cluster.createdb(name)

    def migrate(self):
        r = run_bin("migrate", env={"CAREBRIDGE_DATABASE_URL": self.url})
        assert r.returncode == 0, r.stderr
        return r

    def sql(self, query):
        return self.cluster.sql(self.name, query)


@pytest.fixture(scope="session")
def database(cluster):
    """A fresh, migrated database for this test session."""
    db = Database(cluster, f"cbtest_{os.getpid()}")
    db.migrate()
    return db


@pytest.fixture
def fresh_database(cluster, request):
    """An empty database of its own, not migrated."""
    name = f"cbtest_{os.getpid()}_{request.node.name[:30].lower()}"
    name = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)
    return Database(cluster, name)


def start_daemon(url, env=None, wrapper=None):
    return Daemon(url, env=env, wrapper=wrapper).start()


def stop_daemon_clean(d, expect_rc=0):
    rc = d.stop()
    assert rc == expect_rc, f"serve exited {rc}:\n" + d.log_text()[-4000:]
    d.assert_clean_log()


@pytest.fixture(scope="module")
def daemon(database):
    d = start_daemon(database.url)
    yield d
    stop_daemon_clean(d)

"""Fixtures for carebridge's black-box tests (in the manner of PgBouncer's test/conftest.py).

A private PostgreSQL cluster (scripts/pg) serves the whole session; each test
session gets a fresh database, migrated by the real binary; each test module
gets its own `carebridge serve` on a free port.  Teardown sends SIGTERM and
expects exit 0 and no sanitizer report.  Only the Python standard library and
Debian's python3-requests are used.
"""
import importlib.util
import os
import pathlib
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import requests

TOP = pathlib.Path(__file__).resolve().parents[2]


def _load_idlog():
    """idlog.py, one copy per process (the browser suite loads this file under another name)."""
    mod = sys.modules.get("cb_idlog")
    if mod is None:
        spec = importlib.util.spec_from_file_location(
            "cb_idlog", pathlib.Path(__file__).resolve().with_name("idlog.py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules["cb_idlog"] = mod
        spec.loader.exec_module(mod)
    return mod


idlog = _load_idlog()

# Every body a test sends through python3-requests has its patient identifiers recorded, so
# log_scan.py can look for them in the logs (issue 18).
if not getattr(requests.Session.request, "cb_records", False):
    _session_request = requests.Session.request

    def _recording_request(self, method, url, **kw):
        idlog.record_body(kw)
        return _session_request(self, method, url, **kw)

    _recording_request.cb_records = True
    requests.Session.request = _recording_request


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    """A fresh log directory for this run (scripts/check empties it itself and keeps it
    across its pytest runs: CB_TEST_LOG_KEEP=1); xdist workers leave it to the controller."""
    if not hasattr(session.config, "workerinput") and os.environ.get("CB_TEST_LOG_KEEP") != "1":
        idlog.clear()


def pytest_sessionfinish(session, exitstatus):
    """The controller scans every worker's logs for the identifiers the tests sent."""
    if hasattr(session.config, "workerinput") or os.environ.get("CB_TEST_LOG_KEEP") == "1":
        return  # scripts/check scans once after all its runs
    spec = importlib.util.spec_from_file_location(
        "cb_log_scan", pathlib.Path(__file__).resolve().with_name("log_scan.py"))
    scan = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scan)
    findings, files, nlines, nhs, names = scan.scan(str(idlog.LOG_DIR))
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    for f in findings[:50]:
        if tr is not None:
            tr.write_line("log scan: " + f, red=True)
    if tr is not None:
        tr.write_line(f"log scan: {len(files)} logs, {nlines} lines, {len(nhs)} NHS numbers and "
                      f"{len(names)} names sought: {len(findings)} found")
    if findings:
        session.exitstatus = 1
BIN = os.environ.get("CB_BIN", str(TOP / "build/release/carebridge"))
ASAN = os.environ.get("CB_TEST_ASAN") == "1"
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "serial: measures what parallel test workers or a loaded machine would disturb"
        " (timing, shared commits, valgrind); scripts/check runs these one at a time, last")



def free_port():
    """A local TCP port nothing listens on, that a test may bind (and close, and bind again)
    later. It is taken below the kernel's ephemeral range (32768-60999), from a band of its
    own for each pytest-xdist worker, so no daemon's port 0, no client socket and no other
    worker can take it in between."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    band = int(worker[2:]) if worker[2:].isdigit() else 0
    low = 20000 + (band % 6) * 2000
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(low, low + 2000)
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in the band " + str(low))

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

    def url(self, db, role=None):
        """db's connection string as the superuser, or role "owner" or "app" (scripts/pg)."""
        return self.pg("url", db, *([role] if role else []))

    def createdb(self, db):
        self.pg("createdb", db)
        return self.url(db)

    def user(self, role):
        """The login name of role "owner" or "app"."""
        return dict(kv.split("=", 1) for kv in self.url("postgres", role).split())["user"]

    def sql(self, db, query, role=None):
        """Run SQL with psql (as the superuser, or role); returns rows as lists of strings."""
        user = ["-U", self.user(role)] if role else []
        out = subprocess.run([str(TOP / "scripts/pg"), "psql", *user, "-d", db, "-qtA", "-F",
                              "\t", "-v", "ON_ERROR_STOP=1", "-c", query],
                             env=self.env, check=True, capture_output=True, text=True)
        return [line.split("\t") for line in out.stdout.splitlines() if line != ""]


def keep_cli_log(args, r):
    """Append a CLI run's stderr (its log lines) to this process's CLI log (issue 18)."""
    if r.stderr:
        path = getattr(keep_cli_log, "path", None) or idlog.log_path("cli")
        keep_cli_log.path = path
        with open(path, "a", encoding="utf-8") as f:
            f.write(r.stderr if r.stderr.endswith("\n") else r.stderr + "\n")


def run_bin(*args, env=None, check=False, timeout=60):
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run([BIN, *args], env=e, capture_output=True, text=True, check=check,
                       timeout=timeout)
    keep_cli_log(args, r)
    return r


class Daemon:
    """One `carebridge serve` process on a free port."""

    def __init__(self, url, env=None, wrapper=None):
        self.url = url
        self.extra_env = env or {}
        self.wrapper = wrapper or []
        self.proc = None
        self.tmp = tempfile.TemporaryDirectory(prefix="cbd-")
        self.port_file = os.path.join(self.tmp.name, "port")
        # kept after the run, for log_scan.py (issue 18)
        self.log_path = idlog.log_path("serve")
        self.base = None
        self.session = requests.Session()

    def start(self, timeout=30):
        env = dict(os.environ)
        env.update({
            "CAREBRIDGE_DATABASE_URL": self.url,
            "CAREBRIDGE_LISTEN_PORT": "0",
            "CAREBRIDGE_MLLP_PORT": "0",  # HL7: a free port too (see test_hl7.py)
            "CAREBRIDGE_DB_RETRY_INTERVAL": "200ms",
            "CAREBRIDGE_MLLP_PORT": "0",  # several daemons run at once in the tests
            # plain HTTP on loopback: the session cookie cannot be Secure (__Host-) here
            "CAREBRIDGE_COOKIE_SECURE": "off",
        })
        env.update(self.extra_env)
        for k in [k for k, v in env.items() if v is None]:
            del env[k]  # extra_env may remove a setting (None): serve's default then
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
    """A database owned by the owner role: migrate runs as the owner, and serve and the
    CLI as the application role (url), as in production (docs/OPERATIONS.md)."""

    def __init__(self, cluster, name):
        self.cluster = cluster
        self.name = name
        cluster.createdb(name)
        self.owner_url = cluster.url(name, "owner")
        self.url = cluster.url(name, "app")

    def migrate(self):
        r = run_bin("migrate", env={"CAREBRIDGE_DATABASE_URL": self.url,
                                    "CAREBRIDGE_DATABASE_OWNER_URL": self.owner_url})
        assert r.returncode == 0, r.stderr
        return r

    def sql(self, query, role=None):
        """As the cluster's superuser, or role "owner" / "app"."""
        return self.cluster.sql(self.name, query, role=role)


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



def set_clock(path, when):
    """Move a daemon's test clock (test_clock_file) to when (RFC 3339), atomically."""
    with open(path + ".tmp", "w") as f:
        f.write(when + "\n")
    os.replace(path + ".tmp", path)


# ---- people and places -------------------------------------------------------

def cli(database, *args, input=None, check=True):
    """Run a carebridge subcommand against database; returns CompletedProcess."""
    e = dict(os.environ)
    e["CAREBRIDGE_DATABASE_URL"] = database.url
    r = subprocess.run([BIN, *args], env=e, capture_output=True, text=True, input=input,
                       timeout=60)
    keep_cli_log(args, r)
    if check:
        assert r.returncode == 0, f"{args}: {r.stderr}"
    return r


_ward_seen = set()


def ensure_ward(database, code, name=None, beds=20):
    """Create ward code once per database."""
    key = (database.name, code)
    if key not in _ward_seen:
        r = cli(database, "ward", "add", "--code", code, "--name", name or f"Ward {code}",
                "--beds", str(beds), check=False)
        assert r.returncode == 0 or "already exists" in r.stderr or "duplicate" in r.stderr, r.stderr
        _ward_seen.add(key)
    return code


class User:
    def __init__(self, name, role, token, wards, password=None):
        self.name = name
        self.role = role
        self.token = token
        self.wards = wards
        self.password = password

    @property
    def auth(self):
        return {"Authorization": f"Bearer {self.token}"}


def make_user(database, role, wards=(), password=None, team_lead=False, name=None,
              organisation=None):
    """A new user with an API token (and a password if given); unique name each call.
    organisation: the code or id of a partner organisation (default: the trust)."""
    name = name or f"{role}_{uuid_hex()}"
    for w in wards:
        ensure_ward(database, w)
    args = ["user", "add", "--name", name, "--role", role]
    if organisation is not None:
        args += ["--organisation", organisation]
    for w in wards:
        args += ["--ward", w]
    if team_lead:
        args.append("--team-lead")
    if password is not None:
        args.append("--password")
    cli(database, *args, input=(password + "\n") if password else None)
    token = cli(database, "user", "token", "issue", "--name", name, "--expires", "30d").stdout.strip()
    return User(name, role, token, list(wards), password)


def make_organisation(database, kind, code=None, name=None, services=(), local_authority=None):
    """A new partner organisation through the CLI; returns (id, code)."""
    code = code or f"{kind[:3].upper()}{uuid_hex()[:8]}"
    args = ["org", "add", "--code", code, "--name", name or f"Org {code}", "--kind", kind]
    for s in services:
        args += ["--service", s]
    if local_authority is not None:
        args += ["--local-authority", local_authority]
    out = cli(database, *args).stdout
    return out.strip().rsplit(" ", 1)[-1], code


def uuid_hex():
    import uuid
    return uuid.uuid4().hex[:10]


_nhs_counter = [0]


def nhs_number(seed=None):
    """A fresh valid NHS number (modulus 11), different on each call."""
    import random
    rnd = random.Random(seed) if seed is not None else random
    while True:
        digits = [rnd.randint(0, 9) for _ in range(9)]
        total = sum(d * w for d, w in zip(digits, range(10, 1, -1)))
        check = 11 - total % 11
        if check == 11:
            check = 0
        if check == 10:
            continue
        number = "".join(map(str, digits)) + str(check)
        idlog.record("nhs", number)
        return number


def admission_body(ward, **over):
    body = {
        "nhs_number": nhs_number(),
        "family_name": "Testperson",
        "given_name": "Alex",
        "birth_date": "1941-05-06",
        "ward": ward,
        "bed": "1",
        "admitted_at": "2026-11-20T09:30:00Z",
        "pathway": 1,
    }
    body.update(over)
    idlog.record_json(body)
    return body


def admit(daemon, user, ward, **over):
    """Admit a new patient through the API; returns the episode JSON."""
    r = daemon.post("/api/v1/admissions", json=admission_body(ward, **over), headers=user.auth)
    assert r.status_code == 201, r.text
    return r.json()

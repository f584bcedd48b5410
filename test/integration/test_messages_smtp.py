"""Chases reach a person by e-mail (issue 17): a real SMTP relay (Debian's python3-aiosmtpd)
started here, with STARTTLS (a certificate of the test's own CA) and AUTH; the message
outbox delivers every chase exactly once when the relay is down and comes back and when two
daemons share the database; the e-mail carries ward, bed and initials, never the NHS number
or the name; contact details are the user's own (and an administrator's), audited; delivery
status is the administrator's to read."""
import email
import email.header
import os
import socket
import ssl
import subprocess
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from conftest import Daemon, Database, admit, make_user, set_clock, stop_daemon_clean

SMTP_USER = "cbrelay"
SMTP_PASSWORD = "relay-pass-0123"
FROM = "carebridge@trust.example.nhs.uk"
T0 = "2026-03-26T08:00:00Z"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA of the test's own and a certificate for localhost from it."""
    d = tmp_path_factory.mktemp("smtppki")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=carebridge smtp test CA", "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout",
            "relay.key", "-out", "relay.csr", cwd=d)
    (d / "relay.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "relay.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "relay.ext", "-out", "relay.pem", cwd=d)
    return d


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Relay:
    """An SMTP relay on 127.0.0.1 that insists on STARTTLS, then AUTH, and keeps every
    message it accepts.  stop() and start() again on the same port: a relay that is down."""

    def __init__(self, pki, port=None):
        self.port = port or free_port()
        self.received = []   # (envelope sender, recipients, raw message bytes)
        self.auth_seen = []  # mechanisms used
        self.lock = threading.Lock()
        self.pki = pki
        self.controller = None

    def start(self):
        relay = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with relay.lock:
                    relay.received.append((envelope.mail_from, list(envelope.rcpt_tos),
                                           envelope.original_content or envelope.content))
                return "250 OK queued"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_USER.encode()
                  and auth_data.password == SMTP_PASSWORD.encode())
            with relay.lock:
                relay.auth_seen.append((mechanism, ok, session.ssl is not None))
            return AuthResult(success=ok)

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(self.pki / "relay.pem"), str(self.pki / "relay.key"))
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port,
                                     tls_context=ctx, require_starttls=True,
                                     authenticator=authenticator, auth_require_tls=True,
                                     server_hostname="localhost")
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self):
        with self.lock:
            return [(f, r, email.message_from_bytes(raw)) for f, r, raw in self.received]


@pytest.fixture(scope="module")
def db(cluster):
    """A database of its own: every chase here is counted."""
    d = Database(cluster, f"cbtest_{os.getpid()}_msgsmtp")
    d.migrate()
    return d


@pytest.fixture(scope="module")
def clock(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("clock") / "now")
    set_clock(path, T0)
    return path


@pytest.fixture(scope="module")
def relay(pki):
    r = Relay(pki).start()
    yield r
    r.stop()


def smtp_env(pki, relay, clock, **over):
    e = {
        "CAREBRIDGE_TEST_CLOCK_FILE": clock,
        "CAREBRIDGE_SMTP_HOST": "localhost",
        "CAREBRIDGE_SMTP_PORT": str(relay.port),
        "CAREBRIDGE_SMTP_CA_FILE": str(pki / "ca.pem"),
        "CAREBRIDGE_SMTP_USERNAME": SMTP_USER,
        "CAREBRIDGE_SMTP_PASSWORD": SMTP_PASSWORD,
        "CAREBRIDGE_SMTP_FROM": FROM,
        "CAREBRIDGE_SMTP_TIMEOUT": "3s",
        "CAREBRIDGE_MESSAGE_RETRY_MIN": "1s",
        "CAREBRIDGE_MESSAGE_RETRY_MAX": "2s",
        "CAREBRIDGE_MESSAGE_LEASE": "20s",
    }
    e.update(over)
    return e


@pytest.fixture(scope="module")
def people(db):
    p = {
        "nurse": make_user(db, "nurse", wards=["MS1"]),
        "ot": make_user(db, "ot"),
        "admin": make_user(db, "admin"),
        "bm": make_user(db, "bed_manager"),
    }
    return p


def wait_until(pred, timeout=30.0, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def task_messages(db, task_id):
    return db.sql(f"SELECT id, status, attempts, channel, level FROM messages"
                  f" WHERE entity_id = '{task_id}' ORDER BY created_at")


def admit_ot_task(d, people, admitted_at, bed="12"):
    ep = admit(d, people["nurse"], "MS1", pathway=1, admitted_at=admitted_at, bed=bed,
               given_name="Alexandra", family_name="Quigley")
    task = [t for t in ep["tasks"] if t["title"] == "Functional assessment"][0]
    return ep, task


def body_text(msg):
    return msg.get_payload(decode=True).decode("utf-8")


def subject_text(msg):
    return str(email.header.make_header(email.header.decode_header(msg["Subject"])))


def by_message_id(relay, mid):
    return [m for _, _, m in relay.messages() if m["Message-ID"].startswith(f"<{mid}@")]


def test_contact_details_own_and_admin_audited(db, clock, pki, relay, people):
    d = Daemon(db.url, env=smtp_env(pki, relay, clock)).start()
    try:
        ot = people["ot"]
        r = d.put("/api/v1/me/contact", json={"email": "ot.person@nhs.example.net",
                                              "channels": ["email"]}, headers=ot.auth)
        assert r.status_code == 200, r.text
        assert r.json()["email"] == "ot.person@nhs.example.net"
        assert r.json()["channels"] == ["email"]
        got = d.get("/api/v1/me/contact", headers=ot.auth).json()
        assert got["email"] == "ot.person@nhs.example.net" and got["mobile"] is None
        # bad input: 400 naming the field
        for body, field in (({"email": "not an address"}, "email"),
                            ({"email": "a@b.example\r\nBcc: x@y.example"}, "email"),
                            ({"mobile": "12ab"}, "mobile"),
                            ({"channels": ["pager"]}, "channels"),
                            ({"channels": ["sms"]}, "mobile"),
                            ({"quiet_start": "22:00"}, "quiet_end"),
                            ({"quiet_start": "25:00", "quiet_end": "07:00"}, "quiet_start"),
                            ({"colour": "blue"}, "colour")):
            r = d.put("/api/v1/me/contact", json=body, headers=ot.auth)
            assert r.status_code == 400, (body, r.text)
            assert r.json()["error"]["field"] == field, (body, r.text)
        # an administrator sets the bed manager's
        bm_id = d.get("/api/v1/me", headers=people["bm"].auth).json()["id"]
        r = d.put(f"/api/v1/users/{bm_id}/contact",
                  json={"email": "bm@nhs.example.net", "channels": ["email"]},
                  headers=people["admin"].auth)
        assert r.status_code == 200, r.text
        assert d.get(f"/api/v1/users/{bm_id}/contact",
                     headers=people["admin"].auth).json()["email"] == "bm@nhs.example.net"
        # ... which nobody else may
        r = d.put(f"/api/v1/users/{bm_id}/contact", json={"email": "x@nhs.example.net"},
                  headers=people["ot"].auth)
        assert r.status_code == 403
        missing = "00000000-0000-4000-8000-000000000999"
        r = d.put(f"/api/v1/users/{missing}/contact", json={}, headers=people["admin"].auth)
        assert r.status_code == 404
        audit = db.sql(f"SELECT actor, before->>'email', after->>'email' FROM audit"
                       f" WHERE action = 'user.contact' AND entity_id = '{bm_id}'")
        assert audit == [[people["admin"].name, "", "bm@nhs.example.net"]]
        # the bed manager takes e-mail off again: the bed manager's escalations are not
        # part of these tests
        r = d.put("/api/v1/me/contact", json={"email": "bm@nhs.example.net", "channels": []},
                  headers=people["bm"].auth)
        assert r.status_code == 200 and r.json()["channels"] == []
    finally:
        stop_daemon_clean(d)


def test_chase_is_emailed_over_starttls_with_auth_and_minimum_content(db, clock, pki, relay,
                                                                       people):
    set_clock(clock, T0)
    d = Daemon(db.url, env=smtp_env(pki, relay, clock)).start()
    try:
        ep, task = admit_ot_task(d, people, "2026-03-26T07:00:00Z", bed="12")
        nhs = db.sql(f"SELECT p.nhs_number FROM episodes e JOIN patients p ON p.id = e.patient_id"
                     f" WHERE e.id = '{ep['id']}'")[0][0]
        set_clock(clock, "2026-03-28T07:01:00Z")  # the OT task is overdue: level 1, OT
        rows = wait_until(lambda: [m for m in task_messages(db, task["id"]) if m[1] == "sent"])
        assert len(rows) == 1, task_messages(db, task["id"])
        mid = rows[0][0]
        assert rows[0][3] == "email_smtp" and rows[0][4] == "1"
        got = wait_until(lambda: by_message_id(relay, mid))
        assert len(got) == 1
        msg = got[0]
        sender, rcpts, _ = [x for x in relay.messages() if x[2] is not None
                            and x[2]["Message-ID"] == msg["Message-ID"]][0]
        assert sender == FROM and rcpts == ["ot.person@nhs.example.net"]
        assert msg["From"] == f"<{FROM}>" and msg["To"] == "<ot.person@nhs.example.net>"
        assert msg["Date"] and msg["MIME-Version"] == "1.0"
        assert msg.get_content_charset() == "utf-8"
        # AUTH went over TLS (the relay refuses it otherwise) with the right password
        assert relay.auth_seen and all(tls for _, ok, tls in relay.auth_seen)
        assert any(ok for _, ok, _ in relay.auth_seen)
        text, subject = body_text(msg), subject_text(msg)
        assert "MS1" in text and "bed 12" in text and "A.Q." in text
        assert "OT task overdue" in subject and "MS1" in subject and "A.Q." not in subject
        assert "/ward?ward=MS1" in text
        for secret in (nhs, "Alexandra", "Quigley", "Functional assessment"):
            assert secret not in text and secret not in subject and secret not in str(msg)
        # the administrator sees the delivery, with its subject and no body
        listing = d.get("/api/v1/messages", headers=people["admin"].auth)
        assert listing.status_code == 200
        item = [m for m in listing.json()["items"] if m["id"] == mid][0]
        assert item["status"] == "sent" and item["attempts"] == 1
        assert item["subject"] == subject and item["channel"] == "email_smtp"
        assert "body" not in item and item["user_name"] == people["ot"].name
        assert d.get("/api/v1/messages?status=sent",
                     headers=people["admin"].auth).status_code == 200
        r = d.get("/api/v1/messages?status=lost", headers=people["admin"].auth)
        assert r.status_code == 400 and r.json()["error"]["field"] == "status"
        assert d.get("/api/v1/messages", headers=people["bm"].auth).status_code == 403
        # no address, subject or body in the log
        log = d.log_text()
        assert "ot.person@" not in log and "A.Q." not in log and nhs not in log
        assert f"message sent message={mid} channel=email_smtp" in log
    finally:
        stop_daemon_clean(d)


def test_relay_down_then_back_every_chase_delivered_once(db, clock, pki, relay, people):
    set_clock(clock, "2026-04-01T08:00:00Z")
    d = Daemon(db.url, env=smtp_env(pki, relay, clock)).start()
    try:
        tasks = [admit_ot_task(d, people, "2026-04-01T07:00:00Z", bed=str(20 + i))[1]
                 for i in range(3)]
        relay.stop()
        set_clock(clock, "2026-04-03T07:01:00Z")
        # every chase queued and tried while the relay is down: failed, not lost
        assert wait_until(lambda: all(
            any(m[1] == "failed" and int(m[2]) >= 1 for m in task_messages(db, t["id"]))
            for t in tasks)), [task_messages(db, t["id"]) for t in tasks]
        err = db.sql(f"SELECT last_error FROM messages WHERE entity_id = '{tasks[0]['id']}'")
        assert "could not connect" in err[0][0]
        relay.start()  # back, on the same port
        assert wait_until(lambda: all(
            [m[1] for m in task_messages(db, t["id"])] == ["sent"] for t in tasks), timeout=20)
        time.sleep(3)  # a repeat would arrive within the retry interval
        for t in tasks:
            mid = task_messages(db, t["id"])[0][0]
            assert len(by_message_id(relay, mid)) == 1
    finally:
        relay.stop()
        relay.start()
        stop_daemon_clean(d)


def test_two_daemons_on_one_database_never_send_twice(db, clock, pki, relay, people):
    set_clock(clock, "2026-04-10T08:00:00Z")
    env = smtp_env(pki, relay, clock)
    a = Daemon(db.url, env=env).start()
    b = Daemon(db.url, env=env).start()
    try:
        tasks = [admit_ot_task(a, people, "2026-04-10T07:00:00Z", bed=str(40 + i))[1]
                 for i in range(8)]
        set_clock(clock, "2026-04-12T07:01:00Z")
        assert wait_until(lambda: all(
            [m[1] for m in task_messages(db, t["id"])] == ["sent"] for t in tasks), timeout=30)
        time.sleep(2)
        mids = [task_messages(db, t["id"])[0][0] for t in tasks]
        for mid in mids:
            assert len(by_message_id(relay, mid)) == 1, mid
        # one message row per task: the chase is recorded once, whichever daemon did it
        assert [len(task_messages(db, t["id"])) for t in tasks] == [1] * len(tasks)
    finally:
        stop_daemon_clean(a)
        stop_daemon_clean(b)


def test_quiet_hours_hold_a_chase_until_they_end_but_not_an_urgent_one(db, clock, pki, relay,
                                                                       people):
    """The OT's quiet hours 22:00-07:00 London: a level-1 chase at 23:01 BST waits till
    07:00 BST (06:00Z); the bed manager's urgent (level 3) chase in quiet hours goes at once."""
    set_clock(clock, "2026-05-04T21:00:00Z")
    d = Daemon(db.url, env=smtp_env(pki, relay, clock)).start()
    try:
        r = d.put("/api/v1/me/contact", json={"email": "ot.person@nhs.example.net",
                                              "channels": ["email"], "quiet_start": "22:00",
                                              "quiet_end": "07:00"}, headers=people["ot"].auth)
        assert r.status_code == 200, r.text
        r = d.put("/api/v1/me/contact", json={"email": "bm@nhs.example.net",
                                              "channels": ["email"], "quiet_start": "00:00",
                                              "quiet_end": "23:59"}, headers=people["bm"].auth)
        assert r.status_code == 200, r.text
        _, task = admit_ot_task(d, people, "2026-05-04T20:00:00Z", bed="7")
        set_clock(clock, "2026-05-06T20:01:00Z")  # 48 h + 1 min: level 1, 21:01 BST
        # not quiet yet at 21:01 BST: sent
        assert wait_until(lambda: [m[1] for m in task_messages(db, task["id"])] == ["sent"])
        _, late = admit_ot_task(d, people, "2026-05-04T22:00:00Z", bed="8")
        set_clock(clock, "2026-05-06T22:01:00Z")  # 23:01 BST: quiet
        assert wait_until(lambda: len(task_messages(db, late["id"])) == 1)
        time.sleep(2.5)
        assert [m[1] for m in task_messages(db, late["id"])] == ["queued"]
        nb = db.sql(f"SELECT to_char(not_before AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')"
                    f" FROM messages WHERE entity_id = '{late['id']}'")
        assert nb == [["2026-05-07 06:00"]]
        set_clock(clock, "2026-05-07T06:00:30Z")  # 07:00 BST: quiet hours over
        assert wait_until(lambda: [m[1] for m in task_messages(db, late["id"])] == ["sent"])
        # 24 h overdue: level 3 to the bed manager, whose quiet hours cover the whole day
        set_clock(clock, "2026-05-07T22:02:00Z")
        rows = wait_until(lambda: [m for m in task_messages(db, late["id"]) if m[4] == "3"])
        assert rows and wait_until(lambda: [m[1] for m in task_messages(db, late["id"])
                                            if m[4] == "3"] == ["sent"])
        d.put("/api/v1/me/contact", json={"email": "bm@nhs.example.net", "channels": []},
              headers=people["bm"].auth)
    finally:
        stop_daemon_clean(d)


def test_shift_digest_at_the_configured_times_once_across_two_daemons(db, clock, pki, relay,
                                                                       people):
    """digest_times 07:30,19:30 (the default), London time: at 07:30 BST each ward's nurse in
    charge (no rota: the ward's nurses) and the bed manager get one digest of counts, however
    many daemons run; nothing in between; the next at 19:30."""
    set_clock(clock, "2026-06-01T06:00:00Z")  # 07:00 BST
    env = smtp_env(pki, relay, clock)
    a = Daemon(db.url, env=env).start()
    b = Daemon(db.url, env=env).start()
    nurse, bm = people["nurse"], people["bm"]
    try:
        for who, addr in ((nurse, "ward.nurse@nhs.example.net"), (bm, "bm@nhs.example.net")):
            r = a.put("/api/v1/me/contact", json={"email": addr, "channels": ["email"]},
                      headers=who.auth)
            assert r.status_code == 200, r.text

        # digests of earlier slots (the contact test ran at 08:00 GMT) are not counted
        before = len(relay.messages())

        def digests(to):
            return [m for _, rcpts, m in relay.messages()[before:]
                    if rcpts == [to] and "shift digest" in subject_text(m)]

        admit_ot_task(a, people, "2026-05-31T09:00:00Z", bed="3")  # MS1 has an inpatient
        time.sleep(2)
        assert digests("ward.nurse@nhs.example.net") == []
        set_clock(clock, "2026-06-01T06:30:30Z")  # 07:30:30 BST
        got = wait_until(lambda: digests("ward.nurse@nhs.example.net"))
        assert len(got) == 1, db.sql("SELECT kind, ward, status, last_error FROM messages"
                                     " WHERE kind = 'digest'")
        assert subject_text(got[0]) == "carebridge shift digest - Ward MS1"
        text = body_text(got[0])
        overdue = db.sql("SELECT count(*) FROM tasks t JOIN episodes e ON e.id = t.episode_id"
                         " WHERE e.state = 'admitted' AND e.ward = 'MS1' AND t.status NOT IN"
                         " ('completed', 'cancelled') AND t.due_at < '2026-06-01T06:30:30Z'")
        assert f"Overdue tasks: {overdue[0][0]}\n" in text.replace("\r\n", "\n")
        assert "NCTR patients: " in text and "/ward?ward=MS1" in text
        for secret in ("Alexandra", "Quigley"):
            assert secret not in text
        allw = wait_until(lambda: digests("bm@nhs.example.net"))
        assert len(allw) == 1
        assert subject_text(allw[0]) == "carebridge shift digest - all wards"
        assert "/dashboard" in body_text(allw[0])
        time.sleep(3)  # both daemons ticked many times: still one each
        assert len(digests("ward.nurse@nhs.example.net")) == 1
        assert len(digests("bm@nhs.example.net")) == 1
        assert db.sql("SELECT count(*) FROM digest_runs WHERE slot = '2026-06-01T06:30:00Z'")\
            == [["1"]]
        set_clock(clock, "2026-06-01T12:00:00Z")  # midday: nothing
        time.sleep(2.5)
        assert len(digests("ward.nurse@nhs.example.net")) == 1
        set_clock(clock, "2026-06-01T18:30:30Z")  # 19:30:30 BST: the evening digest
        assert wait_until(lambda: len(digests("ward.nurse@nhs.example.net")) == 2)
        assert wait_until(lambda: len(digests("bm@nhs.example.net")) == 2)
    finally:
        for who in (nurse, bm):
            a.put("/api/v1/me/contact", json={"channels": []}, headers=who.auth)
        stop_daemon_clean(a)
        stop_daemon_clean(b)

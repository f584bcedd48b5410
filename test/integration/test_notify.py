"""Issue 17: the GOV.UK Notify channel, through the administrators' test message.

POST /api/v1/admin/notify-test sends one message through server/notify_client.c, the
sender the outbox uses, to a Notify stand-in (notify_receiver.py) that checks the JWT's
signature with the service's secret key, its claims (iss = the service id, iat within
30 s), the content type and the payload against Notify's published schema, and answers
as Notify does.  Proven here: a valid request is accepted (email and sms); a 500 is
retried with a fresh token and then accepted; a 400 is permanent and not retried; 429 is
retried until the attempts run out; bad input is 400 naming the field; an unconfigured
channel is 409; the key can come from notify_api_key_file; and neither the key, the
tokens nor the recipients ever appear in the daemon's log or the audit row.
"""
import json
import os
import tempfile
import uuid

import pytest

from conftest import make_user, run_bin, start_daemon, stop_daemon_clean
from notify_receiver import NotifyReceiver

EMAIL_TEMPLATE = str(uuid.uuid4())
SMS_TEMPLATE = str(uuid.uuid4())
TO_EMAIL = "ward12.nurse.in.charge@nhs.net"
TO_PHONE = "07700 900123"
PATH = "/api/v1/admin/notify-test"


def notify_env(recv, **over):
    env = {
        "CAREBRIDGE_NOTIFY_API_KEY": recv.api_key,
        "CAREBRIDGE_NOTIFY_BASE_URL": recv.url,
        "CAREBRIDGE_NOTIFY_EMAIL_TEMPLATE_ID": EMAIL_TEMPLATE,
        "CAREBRIDGE_NOTIFY_SMS_TEMPLATE_ID": SMS_TEMPLATE,
    }
    env.update(over)
    return env


@pytest.fixture(scope="module")
def recv():
    r = NotifyReceiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def nd(database, recv):
    d = start_daemon(database.url, env=notify_env(recv))
    yield d
    stop_daemon_clean(d)
    # nothing secret or personal in the whole log of the module's daemon
    assert_log_clean(d.log_text(), recv)


@pytest.fixture(scope="module")
def admin(database):
    return make_user(database, "admin")


@pytest.fixture(autouse=True)
def fresh(recv):
    recv.reset()


def assert_log_clean(text, recv):
    assert recv.secret not in text
    assert recv.api_key not in text
    for token in recv.tokens:
        assert token not in text
        assert token.split(".")[2] not in text   # not even the signature
    assert TO_EMAIL not in text
    assert TO_PHONE not in text
    assert TO_PHONE.replace(" ", "") not in text


def send(d, admin, **body):
    return d.post(PATH, json=body, headers=admin.auth)


def test_email_accepted_with_valid_jwt_and_payload(nd, recv, admin, database):
    r = send(nd, admin, kind="email", to=TO_EMAIL, personalisation={"bed": "12"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["outcome"] == "sent"
    assert out["attempts"] == 1
    assert out["status"] == 201
    assert out["error"] is None
    assert len(recv.requests) == 1
    req = recv.requests[0]
    assert req["problems"] == []
    assert out["notification_id"] == req["id"]
    assert req["path"] == "/v2/notifications/email"
    assert req["content_type"] == "application/json"
    assert req["claims"]["iss"] == recv.service_id
    assert set(req["claims"]) == {"iss", "iat"}
    assert req["body"] == {
        "email_address": TO_EMAIL,
        "template_id": EMAIL_TEMPLATE,          # the configured template
        "personalisation": {"bed": "12"},
        "reference": r.headers["X-Request-Id"],  # our request id, no personal data
    }
    # audited, with the outcome and never the recipient
    rows = database.sql("SELECT actor, after::text FROM audit WHERE action = 'notify.test'"
                        f" AND request_id = '{r.headers['X-Request-Id']}'")
    assert len(rows) == 1
    assert rows[0][0] == admin.name
    detail = json.loads(rows[0][1])
    assert detail == {"kind": "email", "template_id": EMAIL_TEMPLATE, "outcome": "sent",
                      "attempts": 1, "status": 201, "notification_id": req["id"]}
    assert TO_EMAIL not in rows[0][1]


def test_sms_accepted_with_given_template(nd, recv, admin):
    template = str(uuid.uuid4())
    r = send(nd, admin, kind="sms", to=TO_PHONE, template_id=template)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "sent"
    req = recv.requests[0]
    assert req["problems"] == []
    assert req["path"] == "/v2/notifications/sms"
    assert req["body"]["phone_number"] == TO_PHONE
    assert req["body"]["template_id"] == template
    assert "personalisation" not in req["body"]


def test_500_is_retried_with_a_fresh_token(nd, recv, admin):
    recv.plan(500)
    r = send(nd, admin, kind="email", to=TO_EMAIL)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["outcome"] == "sent"
    assert out["attempts"] == 2
    assert [q.get("status") for q in recv.requests] == [500, 201]
    assert all(q["problems"] == [] for q in recv.requests)
    # each attempt signs its own token (iat is the time of sending)
    assert recv.requests[1]["claims"]["iat"] >= recv.requests[0]["claims"]["iat"] + 1
    assert out["notification_id"] == recv.requests[1]["id"]


def test_400_is_permanent_and_not_retried(nd, recv, admin, database):
    recv.plan(400)
    r = send(nd, admin, kind="sms", to=TO_PHONE)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["outcome"] == "permanent"
    assert out["attempts"] == 1
    assert out["status"] == 400
    assert out["error"] == "BadRequestError"
    assert out["notification_id"] is None
    assert len(recv.requests) == 1
    rows = database.sql("SELECT after->>'outcome', after->>'error' FROM audit"
                        f" WHERE request_id = '{r.headers['X-Request-Id']}'")
    assert rows == [["permanent", "BadRequestError"]]


def test_429_is_retried_until_the_attempts_run_out(nd, recv, admin):
    recv.plan(429, 429, 429)
    r = send(nd, admin, kind="email", to=TO_EMAIL)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["outcome"] == "retry"
    assert out["attempts"] == 3
    assert out["error"] == "RateLimitError"
    assert len(recv.requests) == 3


def test_bad_input_names_the_field(nd, recv, admin):
    cases = [
        ({"kind": "letter", "to": TO_EMAIL}, "kind"),
        ({"to": TO_EMAIL}, "kind"),
        ({"kind": "email"}, "to"),
        ({"kind": "email", "to": "not an address"}, "to"),
        ({"kind": "sms", "to": "call me"}, "to"),
        ({"kind": "email", "to": TO_EMAIL, "template_id": "welcome"}, "template_id"),
        ({"kind": "email", "to": TO_EMAIL, "personalisation": ["x"]}, "personalisation"),
        ({"kind": "email", "to": TO_EMAIL, "cc": "someone@nhs.net"}, "cc"),
    ]
    for body, field in cases:
        r = nd.post(PATH, json=body, headers=admin.auth)
        assert r.status_code == 400, (body, r.text)
        err = r.json()["error"]
        assert err["field"] == field, (body, err)
        assert "not an address" not in err["message"]
        if field == "to" and "to" in body:
            assert err["message"].startswith('"to" is not a valid'), err
    assert recv.requests == []


def test_not_configured_is_409(daemon, database):
    admin = make_user(database, "admin")
    r = daemon.post(PATH, json={"kind": "email", "to": TO_EMAIL,
                                "template_id": EMAIL_TEMPLATE}, headers=admin.auth)
    assert r.status_code == 409, r.text
    assert "notify_api_key" in r.json()["error"]["message"]
    # no configured template and none given: the field is named first
    r = daemon.post(PATH, json={"kind": "sms", "to": TO_PHONE}, headers=admin.auth)
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "template_id"


def test_key_from_file(database, recv, admin):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "notify.key")
        with open(path, "w") as f:
            f.write(recv.api_key + "\n")
        env = notify_env(recv, CAREBRIDGE_NOTIFY_API_KEY=None,
                         CAREBRIDGE_NOTIFY_API_KEY_FILE=path)
        d = start_daemon(database.url, env=env)
        try:
            r = send(d, admin, kind="email", to=TO_EMAIL)
            assert r.status_code == 200, r.text
            assert r.json()["outcome"] == "sent"
            assert recv.requests[-1]["problems"] == []
        finally:
            stop_daemon_clean(d)
        assert_log_clean(d.log_text(), recv)


def test_bad_key_refused_at_start_without_quoting_it(database):
    secret = str(uuid.uuid4())
    for bad in (f"k-not-a-service-id-{secret}", f"k-{'x' * 36}-{secret}"):
        r = run_bin("check-config", env={"CAREBRIDGE_DATABASE_URL": database.url,
                                         "CAREBRIDGE_NOTIFY_API_KEY": bad})
        assert r.returncode != 0
        assert "CAREBRIDGE_NOTIFY_API_KEY" in r.stderr
        assert "GOV.UK Notify API key" in r.stderr
        assert secret not in r.stderr + r.stdout

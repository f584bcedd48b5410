"""A GOV.UK Notify stand-in for the tests (issue 17): checks each request the way
Notify's published REST API says it is checked, and answers the way Notify answers.

Authentication (docs.notifications.service.gov.uk, "Headers"): "Authorization: Bearer
<JWT>", the JWT's header {"typ": "JWT", "alg": "HS256"}, signed with HMAC-SHA-256 under
the API key's secret key (the key's last UUID), claims "iss" = the service id (the key's
middle UUID) and "iat" = epoch seconds, refused when more than 30 seconds from the
receiver's clock.  A token that fails any of these gets 403 AuthError, as from Notify.

Payload ("Send an email" / "Send a text message"): Content-Type application/json; a JSON
object with email_address (or phone_number) and template_id (a UUID) required,
personalisation an object if present, reference a string if present, and no field the
schema does not list; otherwise 400 ValidationError.

The JWT is checked here with hmac and base64 directly (no JWT library), so it is a second,
independent implementation of what lib/notify.c signs.

Replies: by default 201 with {"id", "reference", "content", "uri", "template"}; a test
queues other statuses with .plan(400, 500, ...) (one per coming request), answered with
Notify's error bodies: 400 BadRequestError, 403 AuthError, 429 RateLimitError, 500
Exception.  Every request is kept in .requests with its checks' problems (empty when it
passed).
"""
import base64
import hashlib
import hmac
import http.server
import json
import re
import threading
import time
import uuid

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                     r"[0-9a-fA-F]{12}$")
EMAIL_FIELDS = {"email_address", "template_id", "personalisation", "reference",
                "email_reply_to_id", "one_click_unsubscribe_url"}
SMS_FIELDS = {"phone_number", "template_id", "personalisation", "reference", "sms_sender_id"}

ERRORS = {
    400: ("BadRequestError", "Can't send to this recipient using a team-only API key"),
    403: ("AuthError", "Invalid token: signature, api token not found"),
    429: ("RateLimitError", "Exceeded rate limit for key type LIVE of 3000 requests per 60 "
                            "seconds"),
    500: ("Exception", "Internal server error"),
}


def _b64url_decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def check_jwt(token, service_id, secret, now=None):
    """Problems with token as Notify would see them (empty list: valid); and its claims."""
    parts = token.split(".")
    if len(parts) != 3:
        return ["not a compact JWS"], None
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
        sig = _b64url_decode(parts[2])
    except ValueError as e:
        return [f"undecodable token: {e}"], None
    problems = []
    if header.get("alg") != "HS256":
        problems.append(f"alg {header.get('alg')!r} is not HS256")
    if header.get("typ") not in (None, "JWT"):
        problems.append(f"typ {header.get('typ')!r}")
    want = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(sig, want):
        problems.append("signature does not verify with the service's secret key")
    if claims.get("iss") != service_id:
        problems.append(f"iss {claims.get('iss')!r} is not the service id")
    iat = claims.get("iat")
    now = time.time() if now is None else now
    if not isinstance(iat, int) or isinstance(iat, bool):
        problems.append(f"iat {iat!r} is not an integer")
    elif abs(now - iat) > 30:
        problems.append(f"iat {iat} is {now - iat:.0f} s from now (more than 30 s)")
    return problems, claims


def check_payload(kind, body):
    """Problems with a request body against Notify's schema for kind (email or sms)."""
    if not isinstance(body, dict):
        return ["body is not a JSON object"]
    problems = []
    recipient = "email_address" if kind == "email" else "phone_number"
    allowed = EMAIL_FIELDS if kind == "email" else SMS_FIELDS
    for f in (recipient, "template_id"):
        if f not in body:
            problems.append(f"{f} is a required property")
    for f in body:
        if f not in allowed:
            problems.append(f"Additional properties are not allowed ({f} was unexpected)")
    if recipient in body and (not isinstance(body[recipient], str) or not body[recipient]):
        problems.append(f"{recipient} must be a non-empty string")
    if "template_id" in body and (not isinstance(body["template_id"], str)
                                  or not UUID_RE.match(body["template_id"])):
        problems.append("template_id is not a valid UUID")
    if "personalisation" in body and not isinstance(body["personalisation"], dict):
        problems.append("personalisation should contain key value pairs")
    if "reference" in body and not isinstance(body["reference"], str):
        problems.append("reference must be a string")
    return problems


class NotifyReceiver:
    """A Notify API on 127.0.0.1 for one service (service_id, secret_key)."""

    def __init__(self, service_id=None, secret=None):
        self.service_id = service_id or str(uuid.uuid4())
        self.secret = secret or str(uuid.uuid4())
        self.requests = []      # one dict per request received
        self.tokens = []        # every bearer token seen (for the log checks)
        self._plan = []
        self._lock = threading.Lock()
        recv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, body = recv._handle(self.path, self.headers, raw)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def api_key(self):
        return f"carebridge_test-{self.service_id}-{self.secret}"

    def plan(self, *statuses):
        """Answer the next requests with these statuses (then 201 again)."""
        with self._lock:
            self._plan = list(statuses)

    def reset(self):
        with self._lock:
            self._plan = []
            self.requests = []

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, path, headers, raw):
        rec = {"path": path, "content_type": headers.get("Content-Type"), "problems": [],
               "claims": None, "body": None, "at": time.time()}
        with self._lock:
            self.requests.append(rec)
        m = re.fullmatch(r"/v2/notifications/(email|sms)", path)
        if m is None:
            rec["problems"].append(f"no such endpoint {path}")
            return 404, self._error(404, "ResourceNotFound", "The requested URL was not found")
        kind = m.group(1)
        auth = headers.get("Authorization") or ""
        if not auth.startswith("Bearer "):
            rec["problems"].append("no bearer token")
            return 401, self._error(401, "AuthError",
                                    "Unauthorized: authentication token must be provided")
        token = auth[len("Bearer "):]
        with self._lock:
            self.tokens.append(token)
        problems, rec["claims"] = check_jwt(token, self.service_id, self.secret)
        if problems:
            rec["problems"] += problems
            return 403, self._error(403, "AuthError", "Invalid token: " + "; ".join(problems))
        if (rec["content_type"] or "").split(";")[0].strip() != "application/json":
            rec["problems"].append(f"content type {rec['content_type']!r}")
            return 400, self._error(400, "BadRequestError", "Content-Type must be JSON")
        try:
            body = json.loads(raw)
        except ValueError:
            rec["problems"].append("body is not JSON")
            return 400, self._error(400, "BadRequestError", "Invalid JSON supplied in POST data")
        rec["body"] = body
        problems = check_payload(kind, body)
        if problems:
            rec["problems"] += problems
            return 400, self._error(400, "ValidationError", problems[0])
        with self._lock:
            status = self._plan.pop(0) if self._plan else 201
        rec["status"] = status
        if status != 201:
            return status, self._error(status, *ERRORS[status])
        nid = str(uuid.uuid4())
        rec["id"] = nid
        content = ({"subject": "carebridge test", "body": "A test message from carebridge",
                    "from_email": "carebridge@notifications.service.gov.uk"}
                   if kind == "email" else
                   {"body": "A test message from carebridge", "from_number": "GOVUK"})
        return 201, {
            "id": nid,
            "reference": body.get("reference"),
            "content": content,
            "uri": f"{self.url}/v2/notifications/{nid}",
            "template": {"id": body["template_id"], "version": 1,
                         "uri": f"{self.url}/services/{self.service_id}/templates/"
                                f"{body['template_id']}"},
        }

    @staticmethod
    def _error(status, error, message):
        return {"status_code": status, "errors": [{"error": error, "message": message}]}

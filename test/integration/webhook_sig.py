"""Verifying X-Carebridge-Signature the way a receiver should (docs/API.md, Webhooks).

The header is "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>".  A receiver
recomputes the MAC over the time and the raw body, compares in constant time, and refuses a t
more than REPLAY_WINDOW seconds away from its own clock, so a recorded delivery cannot be
played to it again later.
"""
import hashlib
import hmac
import re
import time

REPLAY_WINDOW = 300  # seconds, as docs/API.md recommends

_HEADER = re.compile(r"^t=(\d+),v1=([0-9a-f]{64})$")


def verify(secret, header, body, now=None, window=REPLAY_WINDOW):
    """True if header signs body with secret at a time within window of now."""
    m = _HEADER.match(header or "")
    if m is None:
        return False
    t, mac = int(m.group(1)), m.group(2)
    now = time.time() if now is None else now
    if abs(now - t) > window:
        return False
    want = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, mac)


def assert_signed(secret, headers, body):
    header = headers.get("X-Carebridge-Signature", "")
    assert verify(secret, header, body), header
    t = int(_HEADER.match(header).group(1))
    # the time is inside the MAC: the same body under another time, or no time, does not verify
    assert not verify(secret, header.replace(f"t={t},", f"t={t + 1},"), body)
    old = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert old != _HEADER.match(header).group(2)
    # and a delivery recorded now is refused once it is older than the window
    assert not verify(secret, header, body, now=t + REPLAY_WINDOW + 1)

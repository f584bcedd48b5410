"""HL7 v2 over MLLP for the tests: a small client and an ADT message builder.

Shared by test_hl7.py and the browser tests (test/browser/test_screens.py loads
it by path); only the Python standard library.
"""
import importlib.util
import pathlib
import socket
import sys
import uuid
from datetime import datetime, timedelta, timezone


def _load_idlog():
    """idlog.py (records the identifiers the tests send), one copy per process."""
    mod = sys.modules.get("cb_idlog")
    if mod is None:
        spec = importlib.util.spec_from_file_location(
            "cb_idlog", pathlib.Path(__file__).resolve().with_name("idlog.py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules["cb_idlog"] = mod
        spec.loader.exec_module(mod)
    return mod


idlog = _load_idlog()

SB, EB, CR = b"\x0b", b"\x1c", b"\x0d"


class Mllp:
    def __init__(self, port, timeout=20, tls=None):
        """A connection to 127.0.0.1:port; tls, an ssl.SSLContext, makes it MLLP over TLS."""
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock, server_hostname="127.0.0.1")
        self.buf = b""

    def send(self, msg):
        self.sock.sendall(frame(msg))

    def ack(self):
        """The next ACK (without framing) as text; None when the server closed."""
        while EB + CR not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data
        raw, self.buf = self.buf.split(EB + CR, 1)
        assert raw.startswith(SB), raw
        return raw[1:].decode("utf-8", "replace")

    def call(self, msg):
        self.send(msg)
        return self.ack()

    def close(self):
        self.sock.close()


def frame(msg):
    idlog.record_hl7(msg)  # what is sent is recorded for log_scan.py (issue 18)
    if isinstance(msg, str):
        msg = msg.encode()
    return SB + msg + EB + CR


def msa(ack):
    """(code, control id, text) of an ACK's MSA segment."""
    for seg in ack.split("\r"):
        if seg.startswith("MSA|"):
            f = seg.split("|") + ["", "", ""]
            return f[1], f[2], f[3]
    raise AssertionError(f"no MSA in {ack!r}")


def hl7_now(delta=timedelta(0)):
    return (datetime.now(timezone.utc) + delta).strftime("%Y%m%d%H%M%S+0000")


def adt(event, visit, nhs=None, ward="PAS-A", bed="3", control=None, family="Hl7person",
        given="Alex", birth="19410506", sex="F", admit=None, discharge=None, dest="",
        msg_type=None, prior="", disposition="", segments=()):
    """An ADT message with \\r segment ends; fields by HL7 position; segments: more segments
    (without their \\r) after PV1, such as "PV2||||||||20261130" or "ZCB|2"."""
    idlog.record("nhs", nhs or "")
    idlog.record("name", family)
    idlog.record("name", given)
    control = control or f"C{uuid.uuid4().hex[:16]}"
    ids = f"{nhs}^^^NHS^NH~MRN{visit}^^^RVJ^MR" if nhs else f"MRN{visit}^^^RVJ^MR"
    pv1 = {1: "1", 2: "I", 3: f"{ward}^^{bed}^RVJ" if ward else "", 6: prior, 19: visit,
           36: disposition, 37: dest, 44: admit or "", 45: discharge or ""}
    return "\r".join([
        f"MSH|^~\\&|PAS|RVJ|CAREBRIDGE|RVJ|{hl7_now()}||{msg_type or f'ADT^{event}^ADT_{event}'}"
        f"|{control}|P|2.5",
        f"EVN|{event}|{hl7_now()}",
        f"PID|1||{ids}||{family}^{given}||{birth}|{sex}",
        "PV1|" + "|".join(pv1.get(i, "") for i in range(1, 46)),
        *segments,
    ]) + "\r"

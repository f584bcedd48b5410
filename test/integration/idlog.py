"""Where the tests keep their logs and the patient identifiers they send (issue 18).

Every daemon's log and the CLI's stderr go to one shared directory, LOG_DIR
($CB_TEST_LOG_DIR, default build/test-logs), that outlives the test run; every NHS number and
family/given name a test sends (JSON bodies through python3-requests, HL7 PID segments through
hl7_util.Mllp) is appended to ids-<pid>.txt there, one file per test process, so the logs and
identifiers of all pytest-xdist workers and of the browser run meet in one place.
log_scan.py reads them all at the end of a run.  conftest.py and hl7_util.py load it by path as
module cb_idlog, so a process has one copy whoever loads it.
"""
import json
import os
import pathlib
import re

TOP = pathlib.Path(__file__).resolve().parents[2]
LOG_DIR = pathlib.Path(os.environ.get("CB_TEST_LOG_DIR") or (TOP / "build" / "test-logs"))
PATIENT_KEYS = {"nhs_number": "nhs", "family_name": "name", "given_name": "name",
                "family": "name", "given": "name"}

_seen = set()
_file = None


def _out():
    global _file
    if _file is None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        _file = open(LOG_DIR / f"ids-{os.getpid()}.txt", "a", encoding="utf-8", buffering=1)
    return _file


def record(kind, value):
    """Remember an identifier ("nhs" or "name") a test sends; written at once."""
    if not isinstance(value, str):
        return
    value = value.strip()
    if kind == "nhs":
        value = value.replace(" ", "")
        if not re.fullmatch(r"[0-9]{10}", value):
            return
    if not value or "\n" in value or "\t" in value or (kind, value) in _seen:
        return
    _seen.add((kind, value))
    _out().write(f"{kind}\t{value}\n")


def record_json(obj):
    """Record the patient identifiers anywhere in a JSON value (bodies the tests send)."""
    if isinstance(obj, dict):
        if "nhs-number" in str(obj.get("system", "")):  # a FHIR identifier
            record("nhs", obj.get("value"))
        for k, v in obj.items():
            kind = PATIENT_KEYS.get(k)
            if kind is not None:
                for item in (v if isinstance(v, list) else [v]):
                    record(kind, item)
            if isinstance(v, (dict, list)):
                record_json(v)
    elif isinstance(obj, list):
        for v in obj:
            record_json(v)


def record_hl7(msg):
    """Record the NHS numbers (PID-3 with type NH) and names (PID-5) of an HL7 message."""
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    for seg in re.split(r"[\r\n]+", msg):
        if not seg.startswith("PID|"):
            continue
        f = seg.split("|")
        if len(f) > 3:
            for rep in f[3].split("~"):
                c = rep.split("^")
                if len(c) > 4 and c[4] == "NH":
                    record("nhs", c[0])
        if len(f) > 5:
            for rep in f[5].split("~"):
                for part in rep.split("^")[:2]:
                    record("name", part)


def record_body(kwargs):
    """Record what a requests call is about to send (json=, or data= holding JSON)."""
    if kwargs.get("json") is not None:
        record_json(kwargs["json"])
    data = kwargs.get("data")
    if isinstance(data, (str, bytes)) and data[:1] in ("{", "[", b"{", b"["):
        try:
            record_json(json.loads(data))
        except ValueError:
            pass


def log_path(kind):
    """A new log file's path in LOG_DIR for this process ("serve", "cli")."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    record.counter = getattr(record, "counter", 0) + 1
    return str(LOG_DIR / f"{kind}-{os.getpid()}-{record.counter}.log")


def clear():
    """Empty LOG_DIR of an earlier run's logs and identifiers."""
    if LOG_DIR.is_dir():
        for p in list(LOG_DIR.glob("*.log")) + list(LOG_DIR.glob("ids-*.txt")):
            p.unlink(missing_ok=True)


"""No patient identifier in any log (issue 18): the NHS numbers and names the tests send are
recorded (conftest.py: record_identifier, one ids-<pid>.txt per test process) next to every
daemon's log and the CLI's stderr (serve-*.log, cli-*.log) in one shared directory, so the
logs of every pytest-xdist worker and of the browser run are there; at the end of a run this
scan reads them all and fails if any identifier appears in any log line.

    /usr/bin/python3 test/integration/log_scan.py [DIR]     (default: $CB_TEST_LOG_DIR)

Exit 0 when clean, 1 when an identifier was found (each named with file:line), 2 when there
was nothing to scan.
"""
import glob
import os
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
DIGITS10 = re.compile(r"(?<![0-9])([0-9]{3}) ?([0-9]{3}) ?([0-9]{4})(?![0-9])")
WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")


def pid_identifiers(text):
    """NHS numbers and names in the PID segments of HL7 text: (set, set)."""
    nhs, names = set(), set()
    for seg in re.split(r"[\r\n]+", text):
        if not seg.startswith("PID|"):
            continue
        f = seg.split("|")
        if len(f) > 3:
            for rep in f[3].split("~"):
                c = rep.split("^")
                if len(c) > 4 and c[4] == "NH" and c[0].isdigit():
                    nhs.add(c[0])
        if len(f) > 5:
            for rep in f[5].split("~"):
                for part in rep.split("^")[:2]:
                    if part.strip():
                        names.add(part.strip())
    return nhs, names


def load_identifiers(directory):
    nhs, names = set(), set()
    for path in glob.glob(os.path.join(directory, "ids-*.txt")):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                kind, _, val = line.rstrip("\n").partition("\t")
                if kind == "nhs" and val:
                    nhs.add(val)
                elif kind == "name" and val:
                    names.add(val)
    # messages sent from files (Debian's mllp_send in test_hl7.py)
    for path in glob.glob(str(HERE / "data" / "*.hl7")):
        n, m = pid_identifiers(pathlib.Path(path).read_text(errors="replace"))
        nhs |= n
        names |= m
    return nhs, names


def scan(directory):
    """(findings, files, lines, nhs, names): findings as "file:line: what" strings."""
    nhs, names = load_identifiers(directory)
    # a name shorter than 3 letters would match words that name nobody
    names = {n for n in names if len(n) >= 3}
    single = {n for n in names if WORD.fullmatch(n)}
    multi = [n for n in names if n not in single]
    findings = []
    files = sorted(glob.glob(os.path.join(directory, "*.log")))
    nlines = 0
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            for no, line in enumerate(f, 1):
                nlines += 1
                where = f"{os.path.basename(path)}:{no}"
                for m in DIGITS10.finditer(line):
                    if "".join(m.groups()) in nhs:
                        findings.append(f"{where}: NHS number {''.join(m.groups())}: "
                                        f"{line.strip()[:300]}")
                for w in WORD.findall(line):
                    if w in single:
                        findings.append(f"{where}: name {w!r}: {line.strip()[:300]}")
                for n in multi:
                    if n in line:
                        findings.append(f"{where}: name {n!r}: {line.strip()[:300]}")
    return findings, files, nlines, nhs, names


def main(argv):
    directory = argv[1] if len(argv) > 1 else os.environ.get("CB_TEST_LOG_DIR", "")
    if not directory or not os.path.isdir(directory):
        print(f"log scan: no log directory {directory!r}", file=sys.stderr)
        return 2
    findings, files, nlines, nhs, names = scan(directory)
    if not files or not nhs:
        print(f"log scan: nothing to scan in {directory} ({len(files)} logs, {len(nhs)} NHS "
              "numbers recorded)", file=sys.stderr)
        return 2
    for f in findings[:50]:
        print("log scan: " + f, file=sys.stderr)
    print(f"log scan: {len(files)} logs, {nlines} lines, {len(nhs)} NHS numbers and "
          f"{len(names)} names sought: {len(findings)} found")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

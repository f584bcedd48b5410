"""Who gets a chase (issue 17): the on-call rota, imported from CSV in London time
(`carebridge rota import`) and added by an administrator (POST /api/v1/rota), gives an
escalation to the bed manager on duty at that instant -- across a shift change on the
night the clocks go forward -- a ward's own rota row wins over the site-wide one, and with
nobody on the rota every bed manager is chased."""
import os
import socket
import time

import pytest

from conftest import Daemon, Database, admit, cli, make_user, set_clock, stop_daemon_clean


@pytest.fixture(scope="module")
def db(cluster):
    d = Database(cluster, f"cbtest_{os.getpid()}_msgrota")
    d.migrate()
    return d


@pytest.fixture(scope="module")
def clock(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("clock") / "now")
    set_clock(path, "2026-03-26T08:00:00Z")
    return path


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def env(clock):
    # chases escalate to the bed manager 2 minutes overdue; e-mail goes to a relay that is
    # not there (the rows are what is looked at here)
    return {"CAREBRIDGE_TEST_CLOCK_FILE": clock,
            "CAREBRIDGE_CHASE_LEVEL2_AFTER": "1min", "CAREBRIDGE_CHASE_LEVEL3_AFTER": "2min",
            "CAREBRIDGE_SMTP_HOST": "127.0.0.1", "CAREBRIDGE_SMTP_PORT": str(closed_port()),
            "CAREBRIDGE_SMTP_STARTTLS": "off", "CAREBRIDGE_SMTP_FROM": "cb@trust.example",
            "CAREBRIDGE_MESSAGE_RETRY_MIN": "1h", "CAREBRIDGE_MESSAGE_RETRY_MAX": "1h"}


@pytest.fixture(scope="module")
def people(db):
    p = {"nurse": make_user(db, "nurse", wards=["RT0", "RT1"])}
    for k in ("bm_day", "bm_night", "bm_ward"):
        p[k] = make_user(db, "bed_manager", name=f"{k}.{os.getpid()}")
    db.sql("UPDATE users SET email = replace(name, '.', '-') || '@nhs.example.net'"
           " WHERE role = 'bed_manager'")
    return p


def wait_until(pred, timeout=30.0, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def recipients(db, task_id, level="3"):
    return sorted(r[0] for r in db.sql(
        f"SELECT u.name FROM messages m JOIN users u ON u.id = m.user_id"
        f" WHERE m.entity_id = '{task_id}' AND m.level = {level}"))


def ot_task(d, people, ward, admitted_at):
    ep = admit(d, people["nurse"], ward, pathway=1, admitted_at=admitted_at)
    return [t for t in ep["tasks"] if t["title"] == "Functional assessment"][0]


def test_rota_import_rejects_bad_files(db, tmp_path, people):
    bad = tmp_path / "bad.csv"
    bad.write_text("site,role,user,start,end\n*,chef,x,2026-03-28 20:00,2026-03-29 08:00\n")
    r = cli(db, "rota", "import", str(bad), check=False)
    assert r.returncode == 1 and "line 2" in r.stderr and "role" in r.stderr
    bad.write_text("site,role,user,start,end\n*,bed_manager,nobody.here,2026-03-28 20:00,"
                   "2026-03-29 08:00\n")
    r = cli(db, "rota", "import", str(bad), check=False)
    assert r.returncode == 1 and 'no user "nobody.here"' in r.stderr
    assert db.sql("SELECT count(*) FROM rota") == [["0"]]  # all or nothing


def test_bed_manager_on_duty_across_the_spring_night(db, clock, tmp_path, people):
    day, night, ward = (people[k].name for k in ("bm_day", "bm_night", "bm_ward"))
    csv = tmp_path / "rota.csv"
    csv.write_text("site,role,user,start,end\n"
                   f"*,bed_manager,{day},2026-03-28 08:00,2026-03-28 20:00\n"
                   f"*,bed_manager,{night},2026-03-28 20:00,2026-03-29 08:00\n"
                   f"*,bed_manager,{day},2026-03-29 08:00,2026-03-29 20:00\n")
    r = cli(db, "rota", "import", str(csv))
    assert "imported 3 shifts" in r.stdout
    cli(db, "rota", "import", str(csv))  # again: the same shifts, not twice
    rows = db.sql("SELECT u.name, to_char(r.starts_at AT TIME ZONE 'UTC', 'MM-DD HH24:MI'),"
                  " to_char(r.ends_at AT TIME ZONE 'UTC', 'MM-DD HH24:MI') FROM rota r"
                  " JOIN users u ON u.id = r.user_id ORDER BY r.starts_at")
    # 20:00 GMT to 08:00 BST is 20:00Z to 07:00Z: eleven hours
    assert rows == [[day, "03-28 08:00", "03-28 20:00"], [night, "03-28 20:00", "03-29 07:00"],
                    [day, "03-29 07:00", "03-29 19:00"]]
    assert db.sql("SELECT count(*) FROM audit WHERE action = 'rota.import'") == [["2"]]

    set_clock(clock, "2026-03-27T06:00:00Z")
    d = Daemon(db.url, env=env(clock)).start()
    try:
        # admin API: who is on duty at an instant
        admin = make_user(db, "admin")
        on = d.get("/api/v1/rota", params={"at": "2026-03-29T06:50:00Z"}, headers=admin.auth)
        assert on.status_code == 200
        assert [i["user_name"] for i in on.json()["items"]] == [night]
        assert d.get("/api/v1/rota", params={"at": "soon"},
                     headers=admin.auth).json()["error"]["field"] == "at"

        early = ot_task(d, people, "RT0", "2026-03-27T06:45:00Z")  # due 03-29 06:45Z
        late = ot_task(d, people, "RT0", "2026-03-27T07:05:00Z")   # due 03-29 07:05Z
        # 07:50 BST: the night bed manager is still on
        set_clock(clock, "2026-03-29T06:50:00Z")
        assert wait_until(lambda: recipients(db, early["id"])) == [night]
        # 08:10 BST: the day bed manager took over at 08:00 BST (07:00Z)
        set_clock(clock, "2026-03-29T07:10:00Z")
        assert wait_until(lambda: recipients(db, late["id"])) == [day]
        assert recipients(db, early["id"]) == [night]

        # a ward's own rota row wins over the site-wide one (added through the API)
        ward_id = d.get("/api/v1/me", headers=people["bm_ward"].auth).json()["id"]
        day_id = d.get("/api/v1/me", headers=people["bm_day"].auth).json()["id"]
        for uid, site in ((ward_id, "RT1"), (day_id, "*")):
            r = d.post("/api/v1/rota", json={"site": site, "role": "bed_manager",
                                             "user_id": uid,
                                             "starts_at": "2026-03-30T12:30:00Z",
                                             "ends_at": "2026-03-30T14:00:00Z"},
                       headers=admin.auth)
            assert r.status_code == 201, r.text
        r = d.post("/api/v1/rota", json={"site": "RT1", "role": "bed_manager",
                                         "user_id": ward_id, "starts_at": "2026-03-30T14:00:00Z",
                                         "ends_at": "2026-03-30T13:00:00Z"}, headers=admin.auth)
        assert r.status_code == 400 and r.json()["error"]["field"] == "ends_at"
        on_ward = ot_task(d, people, "RT1", "2026-03-28T13:00:00Z")  # due 03-30 13:00Z
        elsewhere = ot_task(d, people, "RT0", "2026-03-28T13:00:00Z")
        # nobody on the rota at 12:00Z: every bed manager
        nobody = ot_task(d, people, "RT0", "2026-03-28T12:00:00Z")   # due 03-30 12:00Z
        set_clock(clock, "2026-03-30T12:05:00Z")
        assert wait_until(lambda: recipients(db, nobody["id"])) == sorted([day, night, ward])
        set_clock(clock, "2026-03-30T13:05:00Z")
        assert wait_until(lambda: recipients(db, on_ward["id"])) == [ward]
        assert wait_until(lambda: recipients(db, elsewhere["id"])) == [day]
    finally:
        stop_daemon_clean(d)

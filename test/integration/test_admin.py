"""Administration through the API: wards, task templates, users; and the demo data script."""
import os
import stat
import subprocess

import pytest

from conftest import BIN, TOP, admit, cli, ensure_ward, make_user, uuid_hex

TEMPLATE = {
    "min_pathway": 1,
    "max_pathway": 3,
    "discipline": "physio",
    "title": "Falls risk review",
    "anchor": "after_admission",
    "offset_seconds": 3600,
    "active": False,
}


@pytest.fixture(scope="module")
def admin(database):
    return make_user(database, "admin")


@pytest.fixture(scope="module")
def nurse(database):
    return make_user(database, "nurse", wards=["ADM1"])


def error_of(r, status, field=None):
    assert r.status_code == status, r.text
    e = r.json()["error"]
    if field is not None:
        assert e["field"] == field, e
    return e


def audit_actions(daemon, reader, **params):
    r = daemon.get("/api/v1/audit", params=params, headers=reader.auth)
    assert r.status_code == 200, r.text
    return r.json()["items"]


# ---- wards -------------------------------------------------------------------

def test_wards_list_for_any_user_counts_open_episodes(daemon, database, nurse):
    code = f"W{uuid_hex()[:6]}"
    ensure_ward(database, code, "Occupancy ward", beds=12)
    n = make_user(database, "nurse", wards=[code])
    admit(daemon, n, code)
    admit(daemon, n, code)
    for user in (n, make_user(database, "ot"), make_user(database, "bed_manager")):
        r = daemon.get("/api/v1/wards", headers=user.auth)
        assert r.status_code == 200, r.text
        ward = {w["code"]: w for w in r.json()["items"]}[code]
        assert ward == {"code": code, "name": "Occupancy ward", "beds": 12, "pas_code": None,
                        "occupied": 2, "hub_organisation_id": None}
    assert daemon.get("/api/v1/wards").status_code == 401


@pytest.mark.parametrize("role", ["nurse", "social_worker", "ot", "physio", "bed_manager"])
def test_ward_create_refused_to_non_admins(daemon, database, role):
    user = make_user(database, role, wards=["ADM1"] if role == "nurse" else [])
    r = daemon.post("/api/v1/wards", json={"code": f"X{uuid_hex()[:6]}", "name": "No"},
                    headers=user.auth)
    error_of(r, 403)


def test_ward_create_and_duplicate(daemon, admin):
    code = f"N{uuid_hex()[:6]}"
    body = {"code": code, "name": "New ward", "beds": 24, "pas_code": f"PAS{code}"}
    r = daemon.post("/api/v1/wards", json=body, headers=admin.auth)
    assert r.status_code == 201, r.text
    assert r.json() == {**body, "occupied": 0, "hub_organisation_id": None}
    e = error_of(daemon.post("/api/v1/wards", json=body, headers=admin.auth), 409, "code")
    assert e["message"] == f'ward "{code}" already exists'
    # another ward with the same PAS code
    other = {"code": f"O{uuid_hex()[:6]}", "name": "Other", "pas_code": f"PAS{code}"}
    error_of(daemon.post("/api/v1/wards", json=other, headers=admin.auth), 409, "pas_code")


@pytest.mark.parametrize("body,field", [
    ({"name": "No code"}, "code"),
    ({"code": "", "name": "Empty"}, "code"),
    ({"code": "bad code", "name": "Space"}, "code"),
    ({"code": "-lead", "name": "Dash"}, "code"),
    ({"code": "A" * 33, "name": "Long"}, "code"),
    ({"code": "OKW1"}, "name"),
    ({"code": "OKW1", "name": "Beds", "beds": 1001}, "beds"),
    ({"code": "OKW1", "name": "Beds", "beds": "ten"}, "beds"),
    ({"code": "OKW1", "name": "Typo", "bedz": 3}, "bedz"),
])
def test_ward_create_validation_names_the_field(daemon, admin, body, field):
    e = error_of(daemon.post("/api/v1/wards", json=body, headers=admin.auth), 400, field)
    assert field in e["message"]


def test_ward_patch(daemon, database, admin, nurse):
    code = f"P{uuid_hex()[:6]}"
    r = daemon.post("/api/v1/wards", json={"code": code, "name": "Before", "beds": 10},
                    headers=admin.auth)
    assert r.status_code == 201, r.text
    r = daemon.patch(f"/api/v1/wards/{code}", json={"name": "After", "beds": 14,
                                                    "pas_code": f"Q{code}"}, headers=admin.auth)
    assert r.status_code == 200, r.text
    assert r.json() == {"code": code, "name": "After", "beds": 14, "pas_code": f"Q{code}",
                        "occupied": 0, "hub_organisation_id": None}
    r = daemon.patch(f"/api/v1/wards/{code}", json={"pas_code": None}, headers=admin.auth)
    assert r.status_code == 200 and r.json()["pas_code"] is None and r.json()["beds"] == 14
    error_of(daemon.patch(f"/api/v1/wards/{code}", json={"beds": 5}, headers=nurse.auth), 403)
    error_of(daemon.patch("/api/v1/wards/NOPE404", json={"beds": 5}, headers=admin.auth), 404)
    error_of(daemon.patch(f"/api/v1/wards/{code}", json={}, headers=admin.auth), 400)
    error_of(daemon.patch(f"/api/v1/wards/{code}", json={"code": "Z"}, headers=admin.auth), 400,
             "code")
    error_of(daemon.patch(f"/api/v1/wards/{code}", json={"name": None}, headers=admin.auth), 400,
             "name")
    rows = database.sql("SELECT action, before->>'name', after->>'name', after->>'beds',"
                        " entity_id IS NULL FROM audit WHERE entity = 'ward'"
                        f" AND after->>'code' = '{code}' ORDER BY id")
    assert rows == [["ward.add", "", "Before", "10", "t"],
                    ["ward.update", "Before", "After", "14", "t"],
                    ["ward.update", "After", "After", "14", "t"]]


# ---- task templates ----------------------------------------------------------

def test_templates_list_for_any_user(daemon, database):
    ot = make_user(database, "ot")
    r = daemon.get("/api/v1/task-templates", headers=ot.auth)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    seeded = [t for t in items if t["id"].startswith("00000000-0000-4000-8000-00000000000")]
    assert [t["title"] for t in seeded][:2] == ["Confirm EDD and clinical criteria for discharge",
                                                "Medicines to take out (TTO) ready"]
    t = seeded[0]
    assert set(t) >= {"id", "min_pathway", "max_pathway", "discipline", "title", "anchor",
                      "offset_seconds", "active", "position", "version"}


@pytest.mark.parametrize("role", ["nurse", "social_worker", "ot", "physio", "bed_manager"])
def test_template_create_refused_to_non_admins(daemon, database, role):
    user = make_user(database, role, wards=["ADM1"] if role == "nurse" else [])
    error_of(daemon.post("/api/v1/task-templates", json=TEMPLATE, headers=user.auth), 403)


def test_template_create(daemon, admin):
    r = daemon.post("/api/v1/task-templates", json=TEMPLATE, headers=admin.auth)
    assert r.status_code == 201, r.text
    t = r.json()
    for k, v in TEMPLATE.items():
        assert t[k] == v
    assert t["version"] == 1 and t["position"] > 7
    listed = daemon.get("/api/v1/task-templates", headers=admin.auth).json()["items"]
    assert t["id"] in [x["id"] for x in listed]


@pytest.mark.parametrize("over,field", [
    ({"min_pathway": 4}, "min_pathway"),
    ({"max_pathway": -1}, "max_pathway"),
    ({"min_pathway": 3, "max_pathway": 2}, "max_pathway"),
    ({"discipline": "Physio"}, "discipline"),
    ({"discipline": "dietetics"}, "discipline"),
    ({"title": ""}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"anchor": "at_midnight"}, "anchor"),
    ({"offset_seconds": -1}, "offset_seconds"),
    ({"offset_seconds": 90 * 86400 + 1}, "offset_seconds"),
    ({"active": "yes"}, "active"),
    ({"colour": "red"}, "colour"),
])
def test_template_validation_names_the_field(daemon, admin, over, field):
    body = {**TEMPLATE, **over}
    e = error_of(daemon.post("/api/v1/task-templates", json=body, headers=admin.auth), 400, field)
    assert field in e["message"]


@pytest.mark.parametrize("missing", ["min_pathway", "max_pathway", "discipline", "title", "anchor",
                                     "offset_seconds"])
def test_template_required_fields(daemon, admin, missing):
    body = {k: v for k, v in TEMPLATE.items() if k != missing}
    e = error_of(daemon.post("/api/v1/task-templates", json=body, headers=admin.auth), 400, missing)
    assert "missing required field" in e["message"]


def titles(episode):
    return [t["title"] for t in episode["tasks"]]


def test_template_drives_admissions_until_deactivated(daemon, database, admin, nurse):
    title = f"Continuing healthcare checklist {uuid_hex()}"
    body = {"min_pathway": 3, "max_pathway": 3, "discipline": "social_work", "title": title,
            "anchor": "after_admission", "offset_seconds": 2 * 86400}
    r = daemon.post("/api/v1/task-templates", json=body, headers=admin.auth)
    assert r.status_code == 201, r.text
    tpl = r.json()
    assert tpl["active"] is True
    try:
        e3 = admit(daemon, nurse, "ADM1", pathway=3, admitted_at="2026-11-20T09:30:00Z")
        assert title in titles(e3)
        task = [t for t in e3["tasks"] if t["title"] == title][0]
        assert task["discipline"] == "social_work" and task["template_id"] == tpl["id"]
        assert task["due_at"] == "2026-11-22T09:30:00Z"
        assert title not in titles(admit(daemon, nurse, "ADM1", pathway=2))

        # a stale If-Match is refused, a malformed one is a bad request
        r = daemon.patch(f"/api/v1/task-templates/{tpl['id']}", json={"active": False},
                         headers={**admin.auth, "If-Match": '"7"'})
        error_of(r, 412)
        r = daemon.patch(f"/api/v1/task-templates/{tpl['id']}", json={"active": False},
                         headers={**admin.auth, "If-Match": "soon"})
        error_of(r, 400, "If-Match")
        r = daemon.patch(f"/api/v1/task-templates/{tpl['id']}", json={"active": False},
                         headers={**admin.auth, "If-Match": f'"{tpl["version"]}"'})
        assert r.status_code == 200, r.text
        assert r.json()["active"] is False and r.json()["version"] == tpl["version"] + 1
        assert r.headers["ETag"] == f'"{tpl["version"] + 1}"'
        assert title not in titles(admit(daemon, nurse, "ADM1", pathway=3))
    finally:
        # leave the shared database's templates as they were for the other modules
        daemon.patch(f"/api/v1/task-templates/{tpl['id']}", json={"active": False},
                     headers=admin.auth)


def test_template_patch(daemon, database, admin, nurse):
    r = daemon.post("/api/v1/task-templates", json=TEMPLATE, headers=admin.auth)
    tid = r.json()["id"]
    r = daemon.patch(f"/api/v1/task-templates/{tid}",
                     json={"title": "Falls risk review (renamed)", "offset_seconds": 7200,
                           "position": 99},
                     headers=admin.auth)
    assert r.status_code == 200, r.text
    t = r.json()
    assert (t["title"], t["offset_seconds"], t["position"], t["version"], t["active"]) == \
        ("Falls risk review (renamed)", 7200, 99, 2, False)
    # merged with the stored fields before validation
    error_of(daemon.patch(f"/api/v1/task-templates/{tid}", json={"min_pathway": 0,
                                                                 "max_pathway": 0,
                                                                 "anchor": "later"},
                          headers=admin.auth), 400, "anchor")
    error_of(daemon.patch(f"/api/v1/task-templates/{tid}", json={"max_pathway": 0},
                          headers=admin.auth), 400, "max_pathway")
    error_of(daemon.patch(f"/api/v1/task-templates/{tid}", json={"discipline": "dietetics"},
                          headers=admin.auth), 400, "discipline")
    error_of(daemon.patch(f"/api/v1/task-templates/{tid}", json={"title": None},
                          headers=admin.auth), 400, "title")
    error_of(daemon.patch(f"/api/v1/task-templates/{tid}", json={}, headers=admin.auth), 400)
    error_of(daemon.patch(f"/api/v1/task-templates/{tid}", json={"title": "x"},
                          headers=nurse.auth), 403)
    error_of(daemon.patch("/api/v1/task-templates/00000000-0000-4000-8000-0000000000ff",
                          json={"title": "x"}, headers=admin.auth), 404)
    error_of(daemon.patch("/api/v1/task-templates/not-a-uuid", json={"title": "x"},
                          headers=admin.auth), 404)
    # nothing of the refused changes was stored
    t2 = [x for x in daemon.get("/api/v1/task-templates", headers=admin.auth).json()["items"]
          if x["id"] == tid][0]
    assert t2 == t


# ---- users -------------------------------------------------------------------

def test_users_list_admin_only(daemon, database, admin, nurse):
    r = daemon.get("/api/v1/users", headers=admin.auth)
    assert r.status_code == 200, r.text
    users = {u["name"]: u for u in r.json()["items"]}
    n = users[nurse.name]
    assert set(n) >= {"id", "name", "display_name", "role", "team_lead", "wards", "disabled"}
    assert (n["role"], n["wards"], n["disabled"], n["team_lead"]) == ("nurse", ["ADM1"], False,
                                                                      False)
    assert "password_hash" not in n
    for role in ("nurse", "bed_manager", "social_worker"):
        user = nurse if role == "nurse" else make_user(database, role)
        error_of(daemon.get("/api/v1/users", headers=user.auth), 403)


def test_user_create(daemon, database, admin, nurse):
    ensure_ward(database, "ADM2")
    name = f"sam.{uuid_hex()}"
    body = {"name": name, "role": "nurse", "wards": ["ADM2", "ADM1"],
            "display_name": "Sam Okafor", "team_lead": True}
    error_of(daemon.post("/api/v1/users", json=body, headers=nurse.auth), 403)
    r = daemon.post("/api/v1/users", json=body, headers=admin.auth)
    assert r.status_code == 201, r.text
    u = r.json()
    assert (u["name"], u["role"], u["wards"], u["display_name"], u["team_lead"], u["disabled"]) \
        == (name, "nurse", ["ADM1", "ADM2"], "Sam Okafor", True, False)
    e = error_of(daemon.post("/api/v1/users", json=body, headers=admin.auth), 409, "name")
    assert name in e["message"]
    # the command line sees the user, and can give it a token that works
    assert name in cli(database, "user", "list").stdout
    token = cli(database, "user", "token", "issue", "--name", name, "--expires", "1d").stdout.strip()
    r = daemon.get("/api/v1/episodes", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("body,field", [
    ({"role": "ot"}, "name"),
    ({"name": "has space", "role": "ot"}, "name"),
    ({"name": "x" * 65, "role": "ot"}, "name"),
    ({"name": "ok.name", "role": "system"}, "role"),
    ({"name": "ok.name", "role": "surgeon"}, "role"),
    ({"name": "ok.name"}, "role"),
    ({"name": "ok.name", "role": "nurse"}, "wards"),
    ({"name": "ok.name", "role": "nurse", "wards": []}, "wards"),
    ({"name": "ok.name", "role": "nurse", "wards": ["NOSUCHWARD"]}, "wards"),
    ({"name": "ok.name", "role": "nurse", "wards": "ADM1"}, "wards"),
    ({"name": "ok.name", "role": "nurse", "wards": ["ADM1", "ADM1"]}, "wards"),
    ({"name": "ok.name", "role": "ot", "team_lead": "yes"}, "team_lead"),
    ({"name": "ok.name", "role": "ot", "password": "secret-123"}, "password"),
])
def test_user_create_validation_names_the_field(daemon, database, admin, body, field):
    error_of(daemon.post("/api/v1/users", json=body, headers=admin.auth), 400, field)
    assert database.sql("SELECT count(*) FROM users WHERE name = 'ok.name'") == [["0"]]


def test_user_disable_revokes_tokens(daemon, database, admin, nurse):
    victim = make_user(database, "physio")
    assert daemon.get("/api/v1/wards", headers=victim.auth).status_code == 200
    uid = database.sql(f"SELECT id FROM users WHERE name = '{victim.name}'")[0][0]
    error_of(daemon.post(f"/api/v1/users/{uid}/disable", headers=nurse.auth), 403)
    r = daemon.post(f"/api/v1/users/{uid}/disable", headers=admin.auth)
    assert r.status_code == 200, r.text
    assert r.json()["disabled"] is True and r.json()["name"] == victim.name
    error_of(daemon.get("/api/v1/wards", headers=victim.auth), 401)
    assert database.sql(f"SELECT count(*) FROM tokens WHERE user_id = '{uid}'"
                        " AND revoked_at IS NULL") == [["0"]]
    error_of(daemon.post(f"/api/v1/users/{uid}/disable", headers=admin.auth), 409)
    error_of(daemon.post("/api/v1/users/00000000-0000-4000-8000-0000000000ff/disable",
                         headers=admin.auth), 404)
    error_of(daemon.post("/api/v1/users/nobody/disable", headers=admin.auth), 404)
    users = {u["name"]: u for u in daemon.get("/api/v1/users", headers=admin.auth).json()["items"]}
    assert users[victim.name]["disabled"] is True


def test_admin_cannot_disable_themselves(daemon, database):
    a = make_user(database, "admin")
    uid = database.sql(f"SELECT id FROM users WHERE name = '{a.name}'")[0][0]
    error_of(daemon.post(f"/api/v1/users/{uid}/disable", headers=a.auth), 409, "id")
    assert daemon.get("/api/v1/users", headers=a.auth).status_code == 200


def test_every_admin_change_is_audited(daemon, database):
    a = make_user(database, "admin")
    code = f"AU{uuid_hex()[:6]}"
    assert daemon.post("/api/v1/wards", json={"code": code, "name": "Audited"},
                       headers=a.auth).status_code == 201
    assert daemon.patch(f"/api/v1/wards/{code}", json={"beds": 3},
                        headers=a.auth).status_code == 200
    t = daemon.post("/api/v1/task-templates", json=TEMPLATE, headers=a.auth).json()
    assert daemon.patch(f"/api/v1/task-templates/{t['id']}", json={"title": "Renamed"},
                        headers=a.auth).status_code == 200
    u = daemon.post("/api/v1/users", json={"name": f"aud.{uuid_hex()}", "role": "ot"},
                    headers=a.auth).json()
    assert daemon.post(f"/api/v1/users/{u['id']}/disable", headers=a.auth).status_code == 200
    # refused changes leave nothing behind
    assert daemon.post("/api/v1/wards", json={"code": code, "name": "Again"},
                       headers=a.auth).status_code == 409
    items = audit_actions(daemon, a, actor=a.name)
    assert [(i["action"], i["entity"]) for i in items] == [
        ("ward.add", "ward"), ("ward.update", "ward"),
        ("task_template.add", "task_template"), ("task_template.update", "task_template"),
        ("user.add", "user"), ("user.disable", "user")]
    assert {i["actor"] for i in items} == {a.name}
    ward_upd, tpl_add, tpl_upd, user_add, user_dis = items[1:]
    assert ward_upd["before"]["beds"] == 0 and ward_upd["after"]["beds"] == 3
    assert ward_upd["entity_id"] is None
    assert tpl_add["entity_id"] == t["id"] and tpl_add["before"] is None
    assert tpl_upd["before"]["title"] == TEMPLATE["title"] and tpl_upd["after"]["title"] == "Renamed"
    assert user_add["entity_id"] == u["id"] and user_add["after"]["role"] == "ot"
    assert user_dis["before"]["disabled"] is False and user_dis["after"]["disabled"] is True
    # the outbox carries the changes too (no ward: administrators only)
    rows = database.sql("SELECT type FROM events WHERE ward IS NULL AND episode_id IS NULL"
                        f" AND payload->>'id' = '{u['id']}' ORDER BY id")
    assert rows == [["user.created"], ["user.disabled"]]


# ---- demo data ---------------------------------------------------------------

def test_demo_data_loads_once(fresh_database, tmp_path):
    fresh_database.migrate()
    creds = tmp_path / "demo-credentials.txt"
    env = dict(os.environ)
    env.update({"CAREBRIDGE_DATABASE_URL": fresh_database.url, "CB_BIN": BIN,
                "CB_DEMO_CREDENTIALS": str(creds)})
    run = subprocess.run([str(TOP / "scripts/demo-data"), BIN], env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    text = creds.read_text()
    assert "admin" in text and "nurse.amu" in text and "bed.manager" in text
    sql = fresh_database.sql
    assert sql("SELECT count(*) FROM wards") == [["4"]]
    assert int(sql("SELECT count(*) FROM episodes")[0][0]) >= 10
    assert int(sql("SELECT count(*) FROM episodes WHERE state = 'discharged'")[0][0]) >= 1
    # every demo discharge records its actual pathway (issue 14)
    assert sql("SELECT count(*) FROM episodes WHERE state = 'discharged'"
               " AND discharge_pathway IS NULL") == [["0"]]
    assert int(sql("SELECT count(*) FROM episodes WHERE ready_at IS NOT NULL"
                   " AND state = 'admitted'")[0][0]) >= 2
    assert sorted(p for (p,) in sql("SELECT DISTINCT pathway FROM episodes")) == ["0", "1", "2",
                                                                                  "3"]
    assert int(sql("SELECT count(*) FROM tokens WHERE revoked_at IS NULL")[0][0]) >= 10
    # ---- the current NHS model (issue 14), and nothing of the 2014 one
    # criteria-to-reside reviews: some meet the criteria, some NCTR
    outcomes = dict(sql("SELECT outcome, count(*) FROM reviews GROUP BY outcome"))
    assert int(outcomes.get("meets_criteria", 0)) >= 2 and int(outcomes.get("nctr", 0)) >= 4
    assert sql("SELECT count(*) FROM reviews WHERE outcome = 'meets_criteria'"
               " AND cardinality(criteria_met) = 0") == [["0"]]
    # NCTR inpatients whose DRD is before the last midnight, so delayed days exist
    assert int(sql("SELECT count(*) FROM episodes WHERE state = 'admitted'"
                   " AND ready_at < date_trunc('day', now() AT TIME ZONE 'Europe/London')"
                   "  AT TIME ZONE 'Europe/London'")[0][0]) >= 2
    # barriers with the current list's reasons: a primary on each NCTR patient that has
    # any, one closed, and one NCTR inpatient with none (the barrier chase's case)
    assert sql("SELECT DISTINCT reason_list FROM barriers") == [["nhse-acute-2023"]]
    assert int(sql("SELECT count(*) FROM barriers")[0][0]) >= 6
    assert int(sql("SELECT count(*) FROM barriers WHERE closed_at IS NOT NULL")[0][0]) >= 1
    assert sql("SELECT count(*) FROM episodes e WHERE EXISTS (SELECT 1 FROM barriers b"
               " WHERE b.episode_id = e.id AND b.closed_at IS NULL) AND NOT EXISTS"
               " (SELECT 1 FROM barriers b WHERE b.episode_id = e.id AND b.closed_at IS NULL"
               "  AND b.is_primary)") == [["0"]]
    assert int(sql("SELECT count(*) FROM episodes e WHERE e.state = 'admitted'"
                   " AND e.ready_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM barriers b"
                   " WHERE b.episode_id = e.id AND b.closed_at IS NULL)")[0][0]) == 1
    # discharges on every actual pathway 0-3, with a DRD (the DRD month is not empty)
    assert sorted(p for (p,) in sql("SELECT DISTINCT discharge_pathway FROM episodes"
                                    " WHERE state = 'discharged'")) == ["0", "1", "2", "3"]
    assert sql("SELECT count(*) FROM episodes WHERE state = 'discharged'"
               " AND ready_at IS NULL") == [["0"]]
    # long stays: 7+, 14+ and 21+ days (stranded and super-stranded)
    los = [int(d) for (d,) in sql("SELECT extract(day FROM now() - admitted_at)::int"
                                   " FROM episodes WHERE state = 'admitted'")]
    assert any(7 <= d < 14 for d in los) and any(14 <= d < 21 for d in los)
    assert any(d >= 21 for d in los)
    # no 2014 reason code nor attribution anywhere
    assert sql("SELECT count(*) FROM delays WHERE reason_code IS NOT NULL"
               " OR attribution IS NOT NULL") == [["0"]]
    assert sql("SELECT count(*) FROM barriers WHERE reason_list = 'dtoc-2014'") == [["0"]]
    # the credentials work against a daemon of our own
    from conftest import start_daemon, stop_daemon_clean
    token = [line.split()[-1] for line in text.splitlines() if line.startswith("bed.manager")][0]
    d = start_daemon(fresh_database.url)
    try:
        r = d.get("/api/v1/episodes?limit=100", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and len(r.json()["items"]) >= 9, r.text
    finally:
        stop_daemon_clean(d)
    # no patient names or NHS numbers in what the script printed
    names = [row[0] for row in sql("SELECT family_name FROM patients")]
    nhs = [row[0] for row in sql("SELECT nhs_number FROM patients")]
    for secret in names + nhs:
        assert secret not in run.stdout and secret not in run.stderr

    # a second run changes nothing and prints the saved credentials
    before = sql("SELECT (SELECT count(*) FROM episodes), (SELECT count(*) FROM users),"
                 " (SELECT count(*) FROM tokens)")
    r2 = subprocess.run([str(TOP / "scripts/demo-data"), BIN], env=env, capture_output=True,
                        text=True, timeout=120)
    assert r2.returncode == 0, r2.stdout + r2.stderr
    assert "nurse.amu" in r2.stdout
    assert sql("SELECT (SELECT count(*) FROM episodes), (SELECT count(*) FROM users),"
               " (SELECT count(*) FROM tokens)") == before

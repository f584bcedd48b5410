"""Today's discharges for one ward (issue 15, the dashboard's panel, issue 16's ward filter).

GET /api/v1/reports/discharges?ward=CODE counts the discharges from that ward (the ward the
patient left from, a transfer before counting for the ward it went to) by actual pathway
and coded destination; today by default, so far; an undone discharge no longer counts; a
malformed ward code is refused naming "ward".  Wards of this module's own, so the counts
are this module's whatever else the shared database holds.
"""
import csv
import io
import uuid

from conftest import admit, ensure_ward, make_user


def ward_code():
    return "DW" + uuid.uuid4().hex[:5].upper()


def report(daemon, user, **params):
    r = daemon.get("/api/v1/reports/discharges", params=params, headers=user.auth)
    assert r.status_code == 200, r.text
    return r.json()


def test_todays_discharges_of_one_ward(daemon, database):
    wa, wb = ward_code(), ward_code()
    ensure_ward(database, wa)
    ensure_ward(database, wb)
    nurse = make_user(database, "nurse", wards=[wa, wb])
    bm = make_user(database, "bed_manager")

    assert report(daemon, bm, ward=wa)["total"] == 0
    home = admit(daemon, nurse, wa)
    care = admit(daemon, nurse, wa)
    moved = admit(daemon, nurse, wb)
    other = admit(daemon, nurse, wb)
    # moved to A before leaving: counts for A
    r = daemon.post(f"/api/v1/episodes/{moved['id']}/transfer", json={"ward": wa},
                    headers=nurse.auth)
    assert r.status_code == 200, r.text
    for ep, body in ((home, {"pathway": 0, "destination": "usual_residence"}),
                     (care, {"pathway": 3, "destination": "care_home"}),
                     (moved, {"pathway": 1, "destination": "usual_residence"}),
                     (other, {"pathway": 2, "destination": "other_hospital"})):
        r = daemon.post(f"/api/v1/episodes/{ep['id']}/discharge", json=body, headers=nurse.auth)
        assert r.status_code == 200, r.text

    rep = report(daemon, bm, ward=wa)
    assert rep["ward"] == wa and rep["total"] == 3
    assert rep["by_pathway"] == {"pathway_0": 1, "pathway_1": 1, "pathway_2": 0, "pathway_3": 1,
                                 "not_recorded": 0, "total": 3}
    assert rep["by_destination"] == {"usual_residence": 2, "care_home": 1, "other_hospital": 0,
                                     "died": 0, "other": 0, "not_recorded": 0, "total": 3}
    rep = report(daemon, bm, ward=wb)
    assert rep["total"] == 1 and rep["by_destination"]["other_hospital"] == 1
    # the whole trust still counts every ward
    assert report(daemon, bm)["total"] >= 4 and "ward" not in report(daemon, bm)

    # undone: counts no more
    r = daemon.post(f"/api/v1/episodes/{care['id']}/reopen", json={}, headers=nurse.auth)
    assert r.status_code == 200, r.text
    rep = report(daemon, bm, ward=wa)
    assert rep["total"] == 2 and rep["by_pathway"]["pathway_3"] == 0
    assert rep["by_destination"]["care_home"] == 0

    # the CSV too
    r = daemon.get("/api/v1/reports/discharges", params={"ward": wa, "format": "csv"},
                   headers=bm.auth)
    assert r.status_code == 200, r.text
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[-1] == ["total", "total", "", "2"]


def test_a_malformed_ward_is_refused_naming_it(daemon, database):
    bm = make_user(database, "bed_manager")
    for bad in ("bad*code", "x" * 40):
        r = daemon.get("/api/v1/reports/discharges", params={"ward": bad}, headers=bm.auth)
        assert r.status_code == 400, r.text
        assert r.json()["error"]["field"] == "ward", r.text

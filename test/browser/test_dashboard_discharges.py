"""Today's discharges on the dashboard, by pathway and destination (issue 15), in real Chromium.

The panel reads the discharges report (GET /api/v1/reports/discharges, today so far; with
?ward= when the dashboard's ward filter is set).  Patients discharged through the API while
the dashboard is open move the counts without a reload; an undone discharge (a reopen) takes
its count back; the ward filter narrows the panel to the ward the patients left from.  The
panel fits a phone (no sideways scroll) and axe-core finds no violation in it.
"""
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser_util import browser_errors, itg, screenshot, wait_for
from test_dashboard import open_dashboard
from test_devices import assert_fits, axe_violations, set_viewport
from test_screens import PASSWORD, rand


def count(b, kind, key):
    els = b.find_elements(By.CSS_SELECTOR,
                          f"#dis-{kind}-body tr[data-{'pathway' if kind == 'pathway' else 'destination'}"
                          f"='{key}'] [data-col='count']")
    return int(els[0].text) if els else None


def counts(b):
    return ({k: count(b, "pathway", k) for k in
             ("pathway_0", "pathway_1", "pathway_2", "pathway_3", "not_recorded", "total")},
            {k: count(b, "dest", k) for k in
             ("usual_residence", "care_home", "other_hospital", "died", "other", "not_recorded",
              "total")})


def test_todays_discharges_move_live_and_follow_the_ward_filter(site, database, browsers):
    d = site.daemon
    wa, wb = "DD" + rand(4).upper(), "DE" + rand(4).upper()
    itg.ensure_ward(database, wa, beds=10)
    itg.ensure_ward(database, wb, beds=10)
    nurse = itg.make_user(database, "nurse", [wa, wb])
    bm = itg.make_user(database, "bed_manager", password=PASSWORD)
    p1 = itg.admit(d, nurse, wa, bed="1", pathway=1)
    p2 = itg.admit(d, nurse, wa, bed="2", pathway=3)
    p3 = itg.admit(d, nurse, wb, bed="3", pathway=2)

    b = open_dashboard(browsers, site, bm)
    wait_for(lambda: count(b, "pathway", "total") is not None, message="the panel drawn")
    base_p, base_d = counts(b)
    assert "(all wards)" in b.find_element(By.ID, "dis-which").text

    def expect(dp, dd, what):
        def now():
            p, q = counts(b)
            return (all(p[k] == base_p[k] + dp.get(k, 0) for k in p)
                    and all(q[k] == base_d[k] + dd.get(k, 0) for k in q))
        wait_for(now, timeout=5, message=what, detail=lambda: counts(b))

    def discharge(ep, pathway, dest):
        r = d.post(f"/api/v1/episodes/{ep['id']}/discharge",
                   json={"pathway": pathway, "destination": dest}, headers=nurse.auth)
        assert r.status_code == 200, r.text

    # two patients with different pathways and destinations: the counts move, no reload
    discharge(p1, 1, "usual_residence")
    expect({"pathway_1": 1, "total": 1}, {"usual_residence": 1, "total": 1}, "first discharge")
    discharge(p2, 3, "care_home")
    expect({"pathway_1": 1, "pathway_3": 1, "total": 2},
           {"usual_residence": 1, "care_home": 1, "total": 2}, "second discharge")
    discharge(p3, 2, "other_hospital")
    expect({"pathway_1": 1, "pathway_2": 1, "pathway_3": 1, "total": 3},
           {"usual_residence": 1, "care_home": 1, "other_hospital": 1, "total": 3},
           "a third, on another ward")

    # the ward filter: ward A's discharges only
    Select(b.find_element(By.ID, "ward-filter")).select_by_value(wa)
    want_a = ({"pathway_0": 0, "pathway_1": 1, "pathway_2": 0, "pathway_3": 1, "not_recorded": 0,
               "total": 2},
              {"usual_residence": 1, "care_home": 1, "other_hospital": 0, "died": 0, "other": 0,
               "not_recorded": 0, "total": 2})
    wait_for(lambda: counts(b) == want_a, message="ward A's discharges", detail=lambda: counts(b))
    assert f"(ward {wa})" in b.find_element(By.ID, "dis-which").text
    assert "2 patients discharged today so far" in b.find_element(By.ID, "dis-total").text
    screenshot(b, "dashboard-discharges")

    # undo: the care-home discharge is taken back, live
    r = d.post(f"/api/v1/episodes/{p2['id']}/reopen", json={}, headers=nurse.auth)
    assert r.status_code == 200, r.text
    want_a[0].update(pathway_3=0, total=1)
    want_a[1].update(care_home=0, total=1)
    wait_for(lambda: counts(b) == want_a, timeout=5, message="undo decrements",
             detail=lambda: counts(b))
    # back to every ward: the undo shows there too
    Select(b.find_element(By.ID, "ward-filter")).select_by_value("")
    expect({"pathway_1": 1, "pathway_2": 1, "total": 2},
           {"usual_residence": 1, "other_hospital": 1, "total": 2}, "all wards after the undo")

    v = axe_violations(b, "#discharges-report")
    assert v == [], ("today's discharges panel", v)

    # a phone: no sideways scroll with the panel
    set_viewport(b, "phone")
    b.execute_script("document.getElementById('discharges-report').scrollIntoView();")
    assert_fits(b, "/dashboard (today's discharges)", "phone")
    screenshot(b, "dashboard-discharges-390")
    b.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    assert b.execute_script("return window.cbNotReloaded === true;"), "the dashboard reloaded"
    errors = [e for e in browser_errors(b)
              if "Content Security Policy" in e["message"] or "Uncaught" in e["message"]]
    assert not errors, errors

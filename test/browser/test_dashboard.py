"""The bed managers' dashboard in today's discharge model (issue 14), in real headless Chromium.

NCTR patients by name from the moment a review records it, with their discharge ready date
and primary barrier, live from the stream; NCTR patients by primary barrier reason; long stays
(stranded 7+, super-stranded 21+); this month's discharges by days from the DRD; yesterday's
sitrep with its submit button and amendments.  No DToC reason code, attribution or legend.

The report parts read GET /api/v1/reports/{long-stay,drd,sitrep} (docs/API.md, "Reports");
`needs_report(...)` checks each answers first.  Nothing here stubs the server.
"""
import datetime
import time
from zoneinfo import ZoneInfo

import pytest
import requests
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from browser_util import browser_errors, itg, screenshot, wait_for
from test_screens import PASSWORD, login, rand

LONDON = ZoneInfo("Europe/London")
P1 = "nhse-acute-2023:p1_awaiting_care"
TRANSPORT = "nhse-acute-2023:transport"


def iso(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(**kw):
    return iso(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(**kw))


def report_status(site, user, path):
    return requests.get(site.base + path, headers=user.auth, timeout=10).status_code


def needs_report(site, user, path):
    """The report the panel reads answers for this user (the pages and the reports ship in one
    binary, so a 404 here is a regression, not a server without the report)."""
    assert report_status(site, user, path) == 200, path


def open_dashboard(browsers, site, user):
    b = browsers.new(1920, 1080)
    login(b, site.base, user, "/dashboard")
    wait_for(lambda: b.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "true",
             timeout=15, message="dashboard loaded")
    b.execute_script("window.cbNotReloaded = true;")
    return b


def text(b, css):
    """The text of the first match, or None; read again if a render replaced the element."""
    for _ in range(20):
        try:
            els = b.find_elements(By.CSS_SELECTOR, css)
            return els[0].text if els else None
        except StaleElementReferenceException:
            time.sleep(0.05)
    raise AssertionError(f"{css} kept being replaced")


def attr(b, css, name):
    for _ in range(20):
        try:
            return b.find_element(By.CSS_SELECTOR, css).get_attribute(name) or ""
        except StaleElementReferenceException:
            time.sleep(0.05)
    raise AssertionError(f"{css} kept being replaced")


def nctr_row(b, eid):
    return text(b, f"#nctr-body tr[data-id='{eid}']")


def reason_count(b, key):
    t = text(b, f"#barriers-body tr[data-reason='{key}'] td")
    return int(t) if t else 0


def row_ids(b, body):
    return b.execute_script("return Array.from(document.getElementById(arguments[0]).rows,"
                            " r => r.getAttribute('data-id'));", body)


def kpi(b, id_):
    return int(b.find_element(By.ID, id_).text)


def no_errors(b):
    assert b.execute_script("return window.cbNotReloaded === true;"), "the page reloaded"
    errors = [e for e in browser_errors(b)
              if "Content Security Policy" in e["message"] or "Uncaught" in e["message"]]
    assert not errors, errors


def review(site, nurse, eid, outcome="nctr", **kw):
    body = {"outcome": outcome, **kw}
    if outcome == "meets_criteria" and "criteria_met" not in body:
        body["note"] = "further acute treatment"
    r = site.daemon.post(f"/api/v1/episodes/{eid}/reviews", json=body, headers=nurse.auth)
    assert r.status_code == 201, r.text
    return r.json()


def add_barrier(site, user, eid, reason, **kw):
    r = site.daemon.post(f"/api/v1/episodes/{eid}/barriers", json={"reason": reason, **kw},
                         headers=user.auth)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def people(database):
    ward = "DB" + rand(4).upper()
    itg.ensure_ward(database, ward, name="Dashboard ward", beds=30)
    return {
        "ward": ward,
        "nurse": itg.make_user(database, "nurse", [ward]),
        "bm": itg.make_user(database, "bed_manager", password=PASSWORD),
        "admin": itg.make_user(database, "admin", password=PASSWORD),
    }


# ---- NCTR patients, live ---------------------------------------------------------------------

def test_nctr_patient_appears_live_with_primary_barrier(site, database, browsers, people):
    ward, nurse, bm = people["ward"], people["nurse"], people["bm"]
    # pathway 0: no day-one referral, whose proposed barrier would code the delay (issue 15)
    a = itg.admit(site.daemon, nurse, ward, family_name="Nctr" + rand(), given_name="Ann",
                  bed="4", admitted_at=ago(days=3), pathway=0)
    c = itg.admit(site.daemon, nurse, ward, family_name="Other" + rand(), given_name="Cy",
                  bed="5", admitted_at=ago(days=2), pathway=0)
    b = open_dashboard(browsers, site, bm)
    assert nctr_row(b, a["id"]) is None  # meets criteria until a review says otherwise
    nctr0, none0 = kpi(b, "k-nctr"), reason_count(b, "")
    p10, tr0 = reason_count(b, P1), reason_count(b, TRANSPORT)

    # -- the board round records "no criteria to reside": on the dashboard at once, by name,
    # -- with no barrier recorded (highlighted), the DRD and 0 days since it
    t0 = time.monotonic()
    rv = review(site, nurse, a["id"])
    row = wait_for(lambda: nctr_row(b, a["id"]), timeout=2.0, message="NCTR patient listed")
    assert time.monotonic() - t0 < 2.5
    assert a["patient"]["family_name"].upper() + ", Ann" in row
    tr = f"#nctr-body tr[data-id='{a['id']}']"
    assert text(b, tr + " td[data-col='ward']") == ward
    assert text(b, tr + " td[data-col='bed']") == "4"
    assert text(b, tr + " td[data-col='days']") == "0"
    assert attr(b, tr + " td[data-col='drd'] time", "datetime") == rv["episode"]["ready_at"]
    assert text(b, tr + " td[data-col='barrier']") == "No barrier recorded"
    assert "no-barrier" in attr(b, tr, "class")
    wait_for(lambda: kpi(b, "k-nctr") == nctr0 + 1 and reason_count(b, "") == none0 + 1,
             message="NCTR and no-barrier counts")
    assert text(b, f"#wards-body tr[data-ward='{ward}'] td[data-col='no_barrier']") == "1"
    assert "No criteria to reside: " + a["patient"]["family_name"].upper() in \
        b.find_element(By.ID, "nctr-news").get_attribute("textContent")

    # -- a barrier is recorded: it is the primary one, shown with its owner; counted by reason
    bar = add_barrier(site, nurse, a["id"], "p1_awaiting_care", owner="Social work")
    wait_for(lambda: "Pathway 1: awaiting" in (text(b, tr + " td[data-col='barrier']") or ""),
             timeout=2.0, message="primary barrier on the row",
             detail=lambda: text(b, tr))
    assert "Social work" in text(b, tr + " td[data-col='barrier']")
    assert "no-barrier" not in attr(b, tr, "class")
    wait_for(lambda: reason_count(b, P1) == p10 + 1 and reason_count(b, "") == none0,
             message="barriers by reason", detail=lambda: b.find_element(By.ID, "barriers").text)
    assert "Pathway 1: awaiting" in text(b, f"#barriers-body tr[data-reason='{P1}'] th")

    # -- a second NCTR patient (declared by PATCH ready_at two days ago), a transport barrier,
    # -- then made primary over a second barrier: counts follow the primary reason only
    r = site.daemon.patch(f"/api/v1/episodes/{c['id']}", json={"ready_at": ago(days=2)},
                          headers=nurse.auth)
    assert r.status_code == 200, r.text
    wait_for(lambda: text(b, f"#nctr-body tr[data-id='{c['id']}'] td[data-col='days']") == "2",
             message="second NCTR patient, 2 days since DRD")
    add_barrier(site, nurse, c["id"], "transport")
    wait_for(lambda: reason_count(b, TRANSPORT) == tr0 + 1, message="transport primary")
    t2 = add_barrier(site, nurse, c["id"], "p1_awaiting_care", primary=True)
    wait_for(lambda: reason_count(b, P1) == p10 + 2 and reason_count(b, TRANSPORT) == tr0,
             message="second p1 primary, transport no longer",
             detail=lambda: b.find_element(By.ID, "barriers").text)
    # the NCTR list is longest since DRD first
    ids = row_ids(b, "nctr-body")
    assert ids.index(c["id"]) < ids.index(a["id"])

    # -- closing the primary: the oldest open barrier (transport) becomes primary
    r = site.daemon.patch(f"/api/v1/barriers/{t2['id']}", json={"closed": True}, headers=nurse.auth)
    assert r.status_code == 200, r.text
    wait_for(lambda: "Awaiting transport" in
             (text(b, f"#nctr-body tr[data-id='{c['id']}'] td[data-col='barrier']") or ""),
             message="the remaining barrier is primary")
    wait_for(lambda: reason_count(b, P1) == p10 + 1 and reason_count(b, TRANSPORT) == tr0 + 1,
             message="counts after close")
    screenshot(b, "dashboard-nctr")

    # -- closing the last barrier: "no barrier recorded" again
    r = site.daemon.patch(f"/api/v1/barriers/{bar['id']}", json={"closed": True},
                          headers=nurse.auth)
    assert r.status_code == 200, r.text
    wait_for(lambda: text(b, tr + " td[data-col='barrier']") == "No barrier recorded",
             message="no barrier after the last one closed")

    # -- a later review finds a criterion to reside: off the NCTR list
    review(site, nurse, a["id"], outcome="meets_criteria", criteria_met=["iv_fluids"])
    wait_for(lambda: nctr_row(b, a["id"]) is None, timeout=2.0, message="NCTR reversed")
    # -- a discharge takes the other off
    r = site.daemon.post(f"/api/v1/episodes/{c['id']}/discharge", json={"pathway": 1},
                         headers=nurse.auth)
    assert r.status_code == 200, r.text
    wait_for(lambda: nctr_row(b, c["id"]) is None, timeout=2.0, message="discharged leaves")
    wait_for(lambda: kpi(b, "k-nctr") == nctr0, message="NCTR count back")
    no_errors(b)


def test_no_dtoc_legend_reason_codes_or_attribution(site, browsers, people):
    b = open_dashboard(browsers, site, people["bm"])
    page = b.find_element(By.TAG_NAME, "body").text
    for gone in ("Attribution", "Attributed", "Social care", "Delayed days per day",
                 "Awaiting residential home placement", "Awaiting public funding",
                 "Disputes", "No reason"):
        assert gone not in page, gone
    assert not b.find_elements(By.CSS_SELECTOR, "select.reason, select.attribution, #legend, "
                                                "#chart, .legend, button.save")
    # nothing edits here: the only choice is the ward filter (issue 16), no reason or attribution
    assert [e.get_attribute("id") for e in b.find_elements(By.TAG_NAME, "select")] == ["ward-filter"]
    assert b.execute_script("return CB.REASONS === undefined && CB.ATTRIBUTIONS === undefined;")
    # the headings and table semantics the other screens have
    for t in ("nctr", "barriers", "longstay", "drd-bands", "sitrep", "wards"):
        table = b.find_element(By.ID, t)
        assert table.find_element(By.TAG_NAME, "caption").get_attribute("textContent"), t
        assert table.find_elements(By.CSS_SELECTOR, "thead th[scope='col']"), t
    heads = [h.text for h in b.find_elements(By.TAG_NAME, "h2")]
    assert any("No criteria to reside" in h for h in heads), heads
    assert any("primary barrier" in h for h in heads), heads
    assert any("Long stays" in h for h in heads), heads
    no_errors(b)


# ---- the reports -----------------------------------------------------------------------------

REPORTS = {"long-stay": "/api/v1/reports/long-stay",
           "drd": "/api/v1/reports/drd",
           "sitrep": "/api/v1/reports/sitrep"}
PANELS = {"long-stay": ("longstay-msg", "longstay-report"),
          "drd": ("drd-msg", "drd-report"),
          "sitrep": ("sitrep-msg", "sitrep-report")}


def test_stranded_list_with_a_22_day_stay(site, browsers, people):
    ward, nurse, bm = people["ward"], people["nurse"], people["bm"]
    needs_report(site, bm, REPORTS["long-stay"])
    long8 = itg.admit(site.daemon, nurse, ward, family_name="Eight" + rand(), bed="11",
                      admitted_at=ago(days=8, hours=1))
    b = open_dashboard(browsers, site, bm)
    row8 = f"#longstay-body tr[data-id='{long8['id']}']"
    wait_for(lambda: text(b, row8), message="8-day stay listed")
    assert text(b, row8 + " td[data-col='los']").startswith("8")
    assert "super-stranded" not in attr(b, row8, "class")
    s0, ss0 = kpi(b, "k-stranded"), kpi(b, "k-super")

    # admitted (entered late) 22 days ago while the page is open: on the list without a reload
    long22 = itg.admit(site.daemon, nurse, ward, family_name="Twentytwo" + rand(), bed="12",
                       admitted_at=ago(days=22, hours=1), pathway=0)  # no referral barrier
    row22 = f"#longstay-body tr[data-id='{long22['id']}']"
    wait_for(lambda: text(b, row22), timeout=5, message="22-day stay listed live")
    assert text(b, row22 + " td[data-col='los']").startswith("22")
    assert "super-stranded" in attr(b, row22, "class")
    assert long22["patient"]["family_name"].upper() in text(b, row22)
    wait_for(lambda: kpi(b, "k-stranded") == s0 + 1 and kpi(b, "k-super") == ss0 + 1,
             message="stranded and super-stranded counts")
    assert int(b.find_element(By.ID, "ls-21").text) == kpi(b, "k-super")
    # longest first
    ids = row_ids(b, "longstay-body")
    assert ids.index(long22["id"]) < ids.index(long8["id"])
    # its NCTR state and primary barrier follow the stream
    review(site, nurse, long22["id"])
    wait_for(lambda: "NCTR" in text(b, row22 + " td[data-col='nctr']"), message="NCTR on long stay")
    wait_for(lambda: "No barrier recorded" in text(b, row22), message="no barrier on long stay")
    add_barrier(site, nurse, long22["id"], "p3_awaiting_care_home")
    wait_for(lambda: "Pathway 3" in text(b, row22), message="barrier on long stay")
    screenshot(b, "dashboard-long-stay")
    # discharged: off the list and the counts
    r = site.daemon.post(f"/api/v1/episodes/{long22['id']}/discharge", json={"pathway": 3},
                         headers=nurse.auth)
    assert r.status_code == 200, r.text
    wait_for(lambda: text(b, row22) is None and kpi(b, "k-super") == ss0, timeout=3,
             message="discharged long stay leaves")
    no_errors(b)


def drd_band(b, band):
    return int(text(b, f"#drd-body tr[data-band='{band}'] td"))


def test_drd_bands_for_a_discharge(site, browsers, people):
    ward, nurse, bm = people["ward"], people["nurse"], people["bm"]
    needs_report(site, bm, REPORTS["drd"])
    now = datetime.datetime.now(LONDON)
    if now.day == 1 and now.hour < 1:
        pytest.skip("too close to the month's first midnight for a dated discharge")
    b = open_dashboard(browsers, site, bm)
    wait_for(lambda: b.find_element(By.ID, "drd-report").is_displayed(), message="DRD report")
    zero0, disc0 = drd_band(b, "0"), int(b.find_element(By.ID, "drd-discharges").text)

    # NCTR at the board round and discharged the same day: 0 days from the DRD
    ep = itg.admit(site.daemon, nurse, ward, family_name="Drd" + rand(), bed="14",
                   admitted_at=ago(days=4))
    review(site, nurse, ep["id"])
    r = site.daemon.post(f"/api/v1/episodes/{ep['id']}/discharge", json={"pathway": 0},
                         headers=nurse.auth)
    assert r.status_code == 200, r.text
    wait_for(lambda: drd_band(b, "0") == zero0 + 1, timeout=5, message="band 0 moves live",
             detail=lambda: b.find_element(By.ID, "drd-report").text)
    assert int(b.find_element(By.ID, "drd-discharges").text) == disc0 + 1
    assert b.find_element(By.ID, "drd-share").text.endswith("%")
    assert b.find_element(By.ID, "drd-average").text.endswith("days")

    # ready since the month's first day (00:30 London) and discharged now: its band by midnights
    first = now.replace(day=1, hour=0, minute=30, second=0, microsecond=0)
    days = (now.date() - first.date()).days
    band = ("0" if days == 0 else "1" if days == 1 else "2-3" if days <= 3 else "4-6" if days <= 6
            else "7-13" if days <= 13 else "14-20" if days <= 20 else "21+")
    before = drd_band(b, band)
    ep2 = itg.admit(site.daemon, nurse, ward, family_name="Drdb" + rand(), bed="15",
                    admitted_at=iso(first - datetime.timedelta(days=1)))
    r = site.daemon.patch(f"/api/v1/episodes/{ep2['id']}", json={"ready_at": iso(first)},
                          headers=nurse.auth)
    assert r.status_code == 200, r.text
    r = site.daemon.post(f"/api/v1/episodes/{ep2['id']}/discharge", json={"pathway": 2},
                         headers=nurse.auth)
    assert r.status_code == 200, r.text
    wait_for(lambda: drd_band(b, band) == before + 1, timeout=5, message=f"band {band} moves",
             detail=lambda: b.find_element(By.ID, "drd-report").text)
    screenshot(b, "dashboard-drd")
    no_errors(b)


def sitrep_cells(b, field):
    row = f"#sitrep-body tr[data-field='{field}']"
    return (text(b, row + " td.now"), text(b, row + " td.submitted"),
            text(b, row + " td.amendment"))


def test_sitrep_submit_shows_figures_and_a_late_correction_as_an_amendment(
        site, browsers, people):
    ward, nurse, bm, admin = people["ward"], people["nurse"], people["bm"], people["admin"]
    needs_report(site, bm, REPORTS["sitrep"])
    today = datetime.datetime.now(LONDON).date()
    yesterday = today - datetime.timedelta(days=1)
    if datetime.datetime.now(LONDON).hour < 1:
        pytest.skip("too close to midnight: 'yesterday' may move during the test")
    # NCTR since the day before yesterday, still in hospital at yesterday's snapshot
    ep = itg.admit(site.daemon, nurse, ward, family_name="Sitrep" + rand(), bed="16",
                   admitted_at=ago(days=5))
    ready = datetime.datetime.combine(yesterday - datetime.timedelta(days=1),
                                      datetime.time(10, 0), LONDON)
    r = site.daemon.patch(f"/api/v1/episodes/{ep['id']}", json={"ready_at": iso(ready)},
                          headers=nurse.auth)
    assert r.status_code == 200, r.text

    # an admin sees the sitrep but no submit button
    ab = open_dashboard(browsers, site, admin)
    wait_for(lambda: ab.find_element(By.ID, "sitrep-report").is_displayed(), message="sitrep (admin)")
    assert not ab.find_element(By.ID, "sitrep-submit").is_displayed()
    assert ab.find_element(By.ID, "sitrep-role").is_displayed()

    b = open_dashboard(browsers, site, bm)
    wait_for(lambda: b.find_element(By.ID, "sitrep-report").is_displayed(), message="sitrep")
    assert yesterday.strftime("%-d") in b.find_element(By.ID, "sitrep-date").text
    assert "Not submitted" in b.find_element(By.ID, "sitrep-submission").text
    nctr_now = sitrep_cells(b, "nctr_at_snapshot")[0]
    assert int(nctr_now) >= 1
    # the CSV link is yesterday's sitrep, as CSV
    href = b.find_element(By.ID, "csv").get_attribute("href")
    assert href.endswith(f"/api/v1/reports/sitrep?date={yesterday.isoformat()}&format=csv"), href
    r = requests.get(href, headers=bm.auth, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv"), r.text
    button = b.find_element(By.ID, "sitrep-submit")
    assert button.is_displayed() and button.is_enabled()
    button.click()
    wait_for(lambda: "Submitted by " + bm.name in b.find_element(By.ID, "sitrep-submission").text,
             timeout=5, message="submission shown",
             detail=lambda: b.find_element(By.ID, "sitrep-status").text)
    assert "Submitted" in b.find_element(By.ID, "sitrep-status").text
    for field in ("nctr_at_snapshot", "nctr_during_day", "discharged.total", "still_in_hospital"):
        now_, sub, amend = sitrep_cells(b, field)
        assert now_ == sub and amend == "", (field, now_, sub, amend)
    # the admin's page hears of it too
    wait_for(lambda: "Submitted by " + bm.name in ab.find_element(By.ID, "sitrep-submission").text,
             timeout=5, message="submission reaches the other page")
    total0 = int(sitrep_cells(b, "discharged.total")[1])
    p2_0 = int(sitrep_cells(b, "discharged.pathway_2")[1])

    # -- a late correction: the patient was in fact discharged yesterday afternoon (pathway 2)
    gone = datetime.datetime.combine(yesterday, datetime.time(15, 0), LONDON)
    r = site.daemon.post(f"/api/v1/episodes/{ep['id']}/discharge",
                         json={"pathway": 2, "discharged_at": iso(gone)}, headers=nurse.auth)
    assert r.status_code == 200, r.text
    wait_for(lambda: sitrep_cells(b, "discharged.total")[0] == str(total0 + 1), timeout=5,
             message="sitrep figures move after the late discharge",
             detail=lambda: b.find_element(By.ID, "sitrep").text)
    now_, sub, amend = sitrep_cells(b, "discharged.pathway_2")
    assert (now_, sub) == (str(p2_0 + 1), str(p2_0))
    assert f"submitted {p2_0}, now {p2_0 + 1}" in amend
    now_, sub, amend = sitrep_cells(b, "discharged.total")
    assert sub == str(total0) and "amended" in amend
    assert "amended" in attr(b, "#sitrep-body tr[data-field='discharged.total']", "class")
    screenshot(b, "dashboard-sitrep-amended")
    # submitting again records the corrected figures as a new version
    b.find_element(By.ID, "sitrep-submit").click()
    wait_for(lambda: "version 2" in b.find_element(By.ID, "sitrep-submission").text, timeout=5,
             message="second version submitted")
    assert sitrep_cells(b, "discharged.total")[2] == ""
    no_errors(b)
    no_errors(ab)

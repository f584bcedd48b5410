"""The social-work queue triages (issue 16), in real headless Chromium.

Each case shows its likely pathway, EDD, NCTR state, primary barrier, days
since admission and time waiting (hours on day one), longest waiting first;
ward and pathway filters survive a reload; a discharge takes an unclaimed
case off the queue live and marks a held one; completing asks first, naming
the patient; the team's held cases show who holds them; and the ward board's
social-work chip names the assessment's state as the queue does.
"""
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser_util import browser_errors, itg, screenshot, wait_for
from test_screens import PASSWORD, login, rand


def iso(seconds_ago):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds_ago))


def opened_hours_ago(database, assessment_id, hours):
    database.sql(f"UPDATE assessments SET opened_at = now() - interval '{hours} hours'"
                 f" WHERE id = '{assessment_id}'")


def rows(driver, body="queue-body"):
    return driver.find_elements(By.CSS_SELECTOR, f"#{body} tr[data-id]")


def row_ids(driver, body="queue-body"):
    return [r.get_attribute("data-id") for r in rows(driver, body)]


def cell(driver, aid, col, body="queue-body"):
    return driver.find_element(By.CSS_SELECTOR, f"#{body} tr[data-id='{aid}'] [data-col='{col}']").text


def test_queue_triages_filters_and_confirms(site, database, browsers):
    wa, wb = "QA" + rand(3).upper(), "QB" + rand(3).upper()
    itg.ensure_ward(database, wa, beds=20)
    itg.ensure_ward(database, wb, beds=20)
    na = itg.make_user(database, "nurse", [wa], password=PASSWORD)
    nb_ = itg.make_user(database, "nurse", [wb])
    lead = itg.make_user(database, "social_worker", password=PASSWORD, team_lead=True)
    sw2 = itg.make_user(database, "social_worker")
    d = site.daemon

    edd_t = time.gmtime(time.time() + 5 * 86400)
    edd = time.strftime("%Y-%m-%d", edd_t)
    # three patients: waiting 50 h (A, pathway 3), 30 h (A, pathway 1, NCTR, barrier), 5 h (B)
    old = itg.admit(d, na, wa, family_name="Oldest" + rand(), bed="1", pathway=3,
                    admitted_at=iso(3 * 86400))
    mid = itg.admit(d, na, wa, family_name="Middle" + rand(), bed="2", pathway=1,
                    admitted_at=iso(2 * 86400), expected_discharge_date=edd)
    new = itg.admit(d, nb_, wb, family_name="Newest" + rand(), bed="3", pathway=2,
                    admitted_at=iso(3600))
    a_old, a_mid, a_new = (e["assessment"]["id"] for e in (old, mid, new))
    opened_hours_ago(database, a_old, 50)
    opened_hours_ago(database, a_mid, 30)
    opened_hours_ago(database, a_new, 5)
    r = d.patch(f"/api/v1/episodes/{mid['id']}", json={"ready_at": iso(86400)},
                headers={**na.auth, "If-Match": f'"{mid["version"]}"'})
    assert r.status_code == 200, r.text
    r = d.post(f"/api/v1/episodes/{mid['id']}/barriers",
               json={"reason": "transport", "owner": "Ward 1"}, headers=na.auth)
    assert r.status_code == 201, r.text

    sb = browsers.new()
    login(sb, site.base, lead, "/queue")
    mine = [a_old, a_mid, a_new]
    wait_for(lambda: set(mine) <= set(row_ids(sb)), message="the three cases in the queue",
             detail=lambda: sb.find_element(By.ID, "queue-body").text)

    # -- longest waiting first, the waiting time in hours on day one
    order = [i for i in row_ids(sb) if i in mine]
    assert order == [a_old, a_mid, a_new], order
    assert cell(sb, a_new, "waiting") == "5 h"
    assert cell(sb, a_mid, "waiting") == "1 d 6 h"
    assert cell(sb, a_old, "waiting") == "2 d 2 h"

    # -- the fields: pathway, EDD, NCTR, primary barrier, days since admission
    assert cell(sb, a_mid, "pathway") == "1"
    assert cell(sb, a_mid, "edd") == f"{edd_t.tm_mday} {time.strftime('%b', edd_t)}"
    assert cell(sb, a_mid, "nctr").startswith("NCTR since ")
    assert cell(sb, a_mid, "barrier") == "Awaiting transport (Ward 1)"
    assert cell(sb, a_mid, "admitted") == "2 d"
    assert cell(sb, a_mid, "ward") == f"{wa} · 2"
    assert cell(sb, a_new, "nctr") == "Not NCTR"
    assert cell(sb, a_new, "barrier") == "None recorded"
    assert cell(sb, a_new, "edd") == "—"
    assert cell(sb, a_old, "pathway") == "3"
    screenshot(sb, "queue-triage")

    # -- filters: ward, then pathway; kept in the URL, so a reload keeps them
    Select(sb.find_element(By.ID, "f-ward")).select_by_value(wa)
    wait_for(lambda: [i for i in row_ids(sb)] == [a_old, a_mid], message="ward filter",
             detail=lambda: row_ids(sb))
    Select(sb.find_element(By.ID, "f-pathway")).select_by_value("1")
    wait_for(lambda: row_ids(sb) == [a_mid], message="ward and pathway filter")
    assert f"ward={wa}" in sb.current_url and "pathway=1" in sb.current_url
    assert "hidden by the filters" in sb.find_element(By.ID, "filter-note").text
    sb.refresh()
    wait_for(lambda: row_ids(sb) == [a_mid], message="filters survive a reload",
             detail=lambda: row_ids(sb))
    assert Select(sb.find_element(By.ID, "f-ward")).first_selected_option.get_attribute("value") == wa
    assert Select(sb.find_element(By.ID, "f-pathway")).first_selected_option.get_attribute("value") == "1"
    screenshot(sb, "queue-filtered")
    Select(sb.find_element(By.ID, "f-pathway")).select_by_value("")
    Select(sb.find_element(By.ID, "f-ward")).select_by_value("")
    wait_for(lambda: set(mine) <= set(row_ids(sb)), message="filters cleared")
    assert "?" not in sb.current_url

    # -- a discharge takes an unclaimed case off the queue, live
    sb.execute_script("window.cbNotReloaded = true;")
    r = d.post(f"/api/v1/episodes/{new['id']}/discharge", json={"pathway": 2, "destination": "usual_residence"},
               headers=nb_.auth)
    assert r.status_code == 200, r.text
    wait_for(lambda: a_new not in row_ids(sb), timeout=3, message="discharged case leaves the queue")

    # -- the team's held cases, with who holds each; and the ward board's chip says the same
    r = d.post(f"/api/v1/assessments/{a_old}/claim", headers=sw2.auth)
    assert r.status_code == 200, r.text
    wait_for(lambda: a_old in row_ids(sb, "held-body"), timeout=3, message="held by the team")
    assert a_old not in row_ids(sb)
    assert cell(sb, a_old, "holder", "held-body") == sw2.name
    assert "Claimed" in sb.find_element(By.CSS_SELECTOR, f"#held-body tr[data-id='{a_old}']").text
    wb_ = browsers.new()
    login(wb_, site.base, na, "/ward")
    chip = f"#board-body tr[data-id='{old['id']}'] .chip-group .chip:not([data-task])"
    wait_for(lambda: wb_.find_element(By.CSS_SELECTOR, chip).text == "Care Act: Claimed",
             message="the board's chip in the queue's words",
             detail=lambda: wb_.find_element(By.CSS_SELECTOR, chip).text)
    chip_mid = f"#board-body tr[data-id='{mid['id']}'] .chip-group .chip:not([data-task])"
    assert wb_.find_element(By.CSS_SELECTOR, chip_mid).text == "Care Act: Unclaimed"

    # -- the lead claims the middle case; its patient is discharged: marked, sorted last
    sb.find_element(By.CSS_SELECTOR, f"#queue-body tr[data-id='{a_mid}'] button.claim").click()
    wait_for(lambda: sb.find_elements(By.CSS_SELECTOR, f"#mine-body tr[data-id='{a_mid}']"),
             message="claimed into my cases")
    wait_for(lambda: wb_.find_element(By.CSS_SELECTOR, chip_mid).text == "Care Act: Claimed",
             timeout=3, message="the board follows the claim")
    # (it has now waited longer than the held case above it will be)
    opened_hours_ago(database, a_mid, 60)
    r = d.post(f"/api/v1/episodes/{mid['id']}/discharge", json={"pathway": 1}, headers=na.auth)
    assert r.status_code == 200, r.text
    wait_for(lambda: "Discharged" in sb.find_element(By.CSS_SELECTOR,
                                                      f"#mine-body tr[data-id='{a_mid}']").text,
             timeout=3, message="a held case of a discharged patient is marked")
    held = [i for i in row_ids(sb, "held-body") if i in mine]
    assert held == [a_old, a_mid], held  # the discharged one last, though it waited longer
    assert "Discharged" in sb.find_element(By.CSS_SELECTOR, f"#held-body tr[data-id='{a_mid}']").text
    screenshot(sb, "queue-held")

    # -- completing asks first, naming the patient; cancelling changes nothing
    name = mid["patient"]["family_name"].upper() + ", " + mid["patient"]["given_name"]
    complete = f"#mine-body tr[data-id='{a_mid}'] button[aria-label^='Complete']"
    sb.find_element(By.CSS_SELECTOR, complete).click()
    dlg = sb.find_element(By.ID, "complete")
    wait_for(lambda: dlg.get_attribute("open") is not None, message="confirmation dialog")
    assert name in sb.find_element(By.ID, "complete-text").text
    screenshot(sb, "queue-complete-confirm")
    sb.find_element(By.ID, "complete-no").click()
    wait_for(lambda: dlg.get_attribute("open") is None, message="dialog closed")
    got = d.get("/api/v1/assessments", params={"claimed_by": "me", "limit": 500},
                headers=lead.auth).json()["items"]
    assert [a["state"] for a in got if a["id"] == a_mid] == ["claimed"]
    sb.find_element(By.CSS_SELECTOR, complete).click()
    wait_for(lambda: dlg.get_attribute("open") is not None, message="confirmation dialog again")
    sb.find_element(By.ID, "complete-yes").click()
    wait_for(lambda: not sb.find_elements(By.CSS_SELECTOR, f"#mine-body tr[data-id='{a_mid}']"),
             message="completed case leaves my cases")
    assert name in sb.find_element(By.ID, "claim-msg").text
    got = database.sql(f"SELECT state FROM assessments WHERE id = '{a_mid}'")
    assert got == [["completed"]]

    # -- the wider rows scroll inside their table, never the page, on a tablet and a phone
    for w, h in ((768, 1024), (390, 844)):
        sb.set_window_size(w, h)
        wait_for(lambda: sb.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth;"),
            message=f"no sideways page scroll at {w} px",
            detail=lambda: sb.execute_script(
                "return [document.documentElement.scrollWidth, window.innerWidth, Array.from("
                "document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right"
                " > window.innerWidth + 1).slice(0, 8).map(e => e.tagName + '#' + e.id + '.' +"
                " e.className + ':' + Math.round(e.getBoundingClientRect().right))];"))
    screenshot(sb, "queue-390")

    assert sb.execute_script("return window.cbNotReloaded === true;"), "the queue reloaded"
    for b in (sb, wb_):
        errors = [e for e in browser_errors(b)
                  if "Content Security Policy" in e["message"] or "Uncaught" in e["message"]]
        assert not errors, errors

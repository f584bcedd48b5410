"""The social-work queue triages (issue 16), in real headless Chromium.

Since issue 15 the queue's cases are the day-one referrals to the care
transfer hub (they were Care Act assessments; holding is the old claiming).
Each case shows its likely pathway, EDD, NCTR state, primary barrier, days
since admission and time waiting (hours on day one), longest waiting first;
ward and pathway filters survive a reload; a discharge takes a case off the
queue live (it withdraws the referral, held or not); sending asks first,
naming the patient, with the needs and contacts; the hub's answers show
(information requested: answer and send again; declined: the reason); the
team's held cases show who holds them; and the ward board's social-work chip
names the referral's state as the queue does.
"""
import time
import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser_util import browser_errors, itg, screenshot, wait_for
from test_screens import PASSWORD, login, rand


def iso(seconds_ago):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds_ago))


def opened_hours_ago(database, referral_id, hours):
    database.sql(f"UPDATE referrals SET notified_at = now() - interval '{hours} hours'"
                 f" WHERE id = '{referral_id}'")


def make_hub(database, wards):
    """A care transfer hub for the wards, and one coordinator of it (by SQL: the CLI of
    this branch may not know organisations)."""
    oid = str(uuid.uuid4())
    database.sql(f"INSERT INTO organisations (id, code, name, kind)"
                 f" VALUES ('{oid}', 'QH{rand(6).upper()}', 'Queue Hub', 'hub')")
    for w in wards:
        database.sql(f"UPDATE wards SET hub_organisation_id = '{oid}' WHERE code = '{w}'")
    u = itg.make_user(database, "social_worker")
    database.sql(f"UPDATE users SET role = 'hub_coordinator', organisation_id = '{oid}'"
                 f" WHERE name = '{u.name}'")
    return u


def hub_step(d, user, rid, name, **body):
    cur = d.get(f"/api/v1/referrals/{rid}", headers=user.auth).json()
    r = d.post(f"/api/v1/referrals/{rid}/steps", json={"step": name, **body},
               headers={**user.auth, "If-Match": f'"{cur["version"]}"'})
    assert r.status_code == 200, r.text
    return r.json()


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
    hub = make_hub(database, [wa, wb])
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
    a_old, a_mid, a_new = (e["referral"]["id"] for e in (old, mid, new))
    opened_hours_ago(database, a_old, 50)
    opened_hours_ago(database, a_mid, 30)
    opened_hours_ago(database, a_new, 5)
    # the ward codes the delay first, so the referral's proposed barrier (issue 15) is only
    # proposed and the ward's stays the primary one
    r = d.post(f"/api/v1/episodes/{mid['id']}/barriers",
               json={"reason": "transport", "owner": "Ward 1", "primary": True}, headers=na.auth)
    assert r.status_code == 201, r.text
    mid = d.get(f"/api/v1/episodes/{mid['id']}", headers=na.auth).json()
    r = d.patch(f"/api/v1/episodes/{mid['id']}", json={"ready_at": iso(86400)},
                headers={**na.auth, "If-Match": f'"{mid["version"]}"'})
    assert r.status_code == 200, r.text

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
    cur = d.get(f"/api/v1/referrals/{a_old}", headers=sw2.auth).json()
    r = d.post(f"/api/v1/referrals/{a_old}/hold", headers={**sw2.auth, "If-Match": f'"{cur["version"]}"'})
    assert r.status_code == 200, r.text
    wait_for(lambda: a_old in row_ids(sb, "held-body"), timeout=3, message="held by the team")
    assert a_old not in row_ids(sb)
    assert cell(sb, a_old, "holder", "held-body") == sw2.name
    assert cell(sb, a_old, "referral", "held-body") == "Hub: not sent"
    wb_ = browsers.new()
    login(wb_, site.base, na, "/ward")
    chip = f"#board-body tr[data-id='{old['id']}'] .chip-group .chip:not([data-task])"
    wait_for(lambda: wb_.find_element(By.CSS_SELECTOR, chip).text == "Hub: not sent",
             message="the board's chip in the queue's words",
             detail=lambda: wb_.find_element(By.CSS_SELECTOR, chip).text)
    chip_mid = f"#board-body tr[data-id='{mid['id']}'] .chip-group .chip:not([data-task])"
    assert wb_.find_element(By.CSS_SELECTOR, chip_mid).text == "Hub: not sent"
    # one state on the board: one referral chip per patient, never two words for it
    assert len(wb_.find_elements(By.CSS_SELECTOR, f"#board-body tr[data-id='{mid['id']}'] .chip[data-referral]")) == 1

    # -- the lead holds the middle case; sending asks first, naming the patient; cancelling
    #    changes nothing; sending with the needs and contacts moves it to "sent", live on the board
    sb.find_element(By.CSS_SELECTOR, f"#queue-body tr[data-id='{a_mid}'] button.claim").click()
    wait_for(lambda: sb.find_elements(By.CSS_SELECTOR, f"#mine-body tr[data-id='{a_mid}']"),
             message="held into my cases")
    name = mid["patient"]["family_name"].upper() + ", " + mid["patient"]["given_name"]
    send = f"#mine-body tr[data-id='{a_mid}'] button[data-step='send']"
    sb.find_element(By.CSS_SELECTOR, send).click()
    dlg = sb.find_element(By.ID, "complete")
    wait_for(lambda: dlg.get_attribute("open") is not None, message="confirmation dialog")
    assert name in sb.find_element(By.ID, "complete-text").text
    screenshot(sb, "queue-send-confirm")
    sb.find_element(By.ID, "complete-no").click()
    wait_for(lambda: dlg.get_attribute("open") is None, message="dialog closed")
    got = d.get(f"/api/v1/referrals/{a_mid}", headers=lead.auth).json()
    assert got["state"] == "notified" and got["held_by_name"] == lead.name
    sb.find_element(By.CSS_SELECTOR, send).click()
    wait_for(lambda: dlg.get_attribute("open") is not None, message="confirmation dialog again")
    sb.find_element(By.ID, "c-needs").clear()
    sb.find_element(By.ID, "complete-yes").click()  # no needs: said beside the field, not sent
    wait_for(lambda: sb.find_element(By.ID, "c-needs-error").text, message="needs required")
    sb.find_element(By.ID, "c-needs").send_keys("Carer twice a day")
    sb.find_element(By.ID, "c-contacts").send_keys("Son 07700 900456")
    sb.find_element(By.ID, "complete-yes").click()
    wait_for(lambda: not sb.find_elements(By.CSS_SELECTOR, f"#mine-body tr[data-id='{a_mid}']"),
             message="sent case leaves my cases")
    assert name in sb.find_element(By.ID, "claim-msg").text
    wait_for(lambda: cell(sb, a_mid, "referral", "sent-body") == "Hub: waiting", timeout=3,
             message="sent, waiting for the hub")
    got = d.get(f"/api/v1/referrals/{a_mid}", headers=lead.auth).json()
    assert got["state"] == "referred" and got["needs"] == "Carer twice a day"
    assert got["contacts"] == "Son 07700 900456"
    wait_for(lambda: wb_.find_element(By.CSS_SELECTOR, chip_mid).text == "Hub: waiting",
             timeout=3, message="the board follows the referral")

    # -- the hub asks for information: shown; answered and sent again from the queue
    hub_step(d, hub, a_mid, "request_info", info_request="Does he have stairs?")
    wait_for(lambda: cell(sb, a_mid, "referral", "sent-body") == "Hub: info requested", timeout=3,
             message="information requested, live")
    assert "Does he have stairs?" in cell(sb, a_mid, "hub", "sent-body")
    wait_for(lambda: wb_.find_element(By.CSS_SELECTOR, chip_mid).text == "Hub: info requested",
             timeout=3, message="the board says the same")
    sb.find_element(By.CSS_SELECTOR, f"#sent-body tr[data-id='{a_mid}'] button[data-step='send']").click()
    wait_for(lambda: dlg.get_attribute("open") is not None, message="answer dialog")
    assert "Does he have stairs?" in sb.find_element(By.ID, "c-info").text
    assert sb.find_element(By.ID, "c-needs").get_attribute("value") == "Carer twice a day"
    sb.find_element(By.ID, "c-needs").send_keys("; no stairs")
    sb.find_element(By.ID, "complete-yes").click()
    wait_for(lambda: cell(sb, a_mid, "referral", "sent-body") == "Hub: waiting", timeout=3,
             message="sent again")
    assert d.get(f"/api/v1/referrals/{a_mid}", headers=lead.auth).json()["needs"] == \
        "Carer twice a day; no stairs"

    # -- the hub declines: the reason shows, and it can be sent again or withdrawn
    hub_step(d, hub, a_mid, "decline", reason="Needs a nursing home")
    wait_for(lambda: cell(sb, a_mid, "referral", "sent-body") == "Hub: declined", timeout=3,
             message="declined, live")
    assert "Needs a nursing home" in cell(sb, a_mid, "hub", "sent-body")
    wait_for(lambda: wb_.find_element(By.CSS_SELECTOR, chip_mid).text == "Hub: declined",
             timeout=3, message="the board says declined")
    screenshot(sb, "queue-declined")
    sb.find_element(By.CSS_SELECTOR, f"#sent-body tr[data-id='{a_mid}'] button[data-step='withdraw']").click()
    wait_for(lambda: dlg.get_attribute("open") is not None, message="withdraw dialog")
    assert name in sb.find_element(By.ID, "complete-text").text
    sb.find_element(By.ID, "c-reason").send_keys("Family will care for him")
    sb.find_element(By.ID, "complete-yes").click()
    wait_for(lambda: a_mid not in row_ids(sb, "sent-body"), message="withdrawn leaves the queue")
    got = d.get(f"/api/v1/referrals/{a_mid}", headers=lead.auth).json()
    assert got["state"] == "withdrawn" and got["withdraw_reason"] == "Family will care for him"
    wait_for(lambda: wb_.find_element(By.CSS_SELECTOR, chip_mid).text == "Referral closed",
             timeout=3, message="the board says closed")

    # -- a held case's patient is discharged: the referral is withdrawn and leaves the team's list
    r = d.post(f"/api/v1/episodes/{old['id']}/discharge", json={"pathway": 3}, headers=na.auth)
    assert r.status_code == 200, r.text
    wait_for(lambda: a_old not in row_ids(sb, "held-body"), timeout=3,
             message="a held case of a discharged patient leaves")
    screenshot(sb, "queue-held")

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

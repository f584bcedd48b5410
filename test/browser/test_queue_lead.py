"""A team lead sees who holds what and reassigns, in real headless Chromium (issue 16).

The lead's queue shows each held case's holder (by display name) with a Reassign button,
and an Assign button beside Hold on cases nobody holds; the confirmation names the patient
and bed, who holds it now and who would take it over; cancelling changes nothing;
confirming gives it away, and both social workers' queues follow live (the old holder's
"my cases" loses it, the new one's gains it) without a reload.  A social worker who leads
no team sees no such buttons.  Completing (sending to the hub) still asks first.  The
dialog fits a phone, and axe-core finds no violation with it open.
"""
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser_util import browser_errors, itg, screenshot, wait_for
from test_devices import assert_fits, assert_in_viewport, axe_violations, set_viewport
from test_screens import PASSWORD, login, rand


def ids(driver, body):
    return [r.get_attribute("data-id") for r in
            driver.find_elements(By.CSS_SELECTOR, f"#{body} tr[data-id]")]


def holder_cell(driver, rid):
    return driver.find_element(
        By.CSS_SELECTOR, f"#held-body tr[data-id='{rid}'] [data-col='holder']").text


def user_id(database, user):
    return str(database.sql(f"SELECT id FROM users WHERE name = '{user.name}'")[0][0])


def test_lead_reassigns_live_with_confirmation(site, database, browsers):
    d = site.daemon
    ward = "QL" + rand(4).upper()
    itg.ensure_ward(database, ward, beds=20)
    nurse = itg.make_user(database, "nurse", [ward])
    lead = itg.make_user(database, "social_worker", password=PASSWORD, team_lead=True)
    sw1 = itg.make_user(database, "social_worker", password=PASSWORD)
    sw2 = itg.make_user(database, "social_worker", password=PASSWORD)
    database.sql(f"UPDATE users SET display_name = 'Alex Jones' WHERE name = '{sw1.name}'")
    database.sql(f"UPDATE users SET display_name = 'Sam Holder' WHERE name = '{sw2.name}'")
    sw1_id, sw2_id = user_id(database, sw1), user_id(database, sw2)

    held_ep = itg.admit(d, nurse, ward, family_name="Heldcase" + rand(), bed="4", pathway=2)
    free_ep = itg.admit(d, nurse, ward, family_name="Freecase" + rand(), bed="5", pathway=1)
    a, b = held_ep["referral"]["id"], free_ep["referral"]["id"]
    cur = d.get(f"/api/v1/referrals/{a}", headers=sw1.auth).json()
    r = d.post(f"/api/v1/referrals/{a}/hold", headers={**sw1.auth, "If-Match": f'"{cur["version"]}"'})
    assert r.status_code == 200, r.text
    held_name = held_ep["patient"]["family_name"].upper() + ", " + held_ep["patient"]["given_name"]
    free_name = free_ep["patient"]["family_name"].upper() + ", " + free_ep["patient"]["given_name"]

    lb, b1, b2 = browsers.new(), browsers.new(), browsers.new()
    login(lb, site.base, lead, "/queue")
    login(b1, site.base, sw1, "/queue")
    login(b2, site.base, sw2, "/queue")
    for x in (lb, b1, b2):
        x.execute_script("window.cbNotReloaded = true;")
    wait_for(lambda: a in ids(lb, "held-body") and b in ids(lb, "queue-body"),
             message="the lead's lists", detail=lambda: (ids(lb, "held-body"), ids(lb, "queue-body")))
    wait_for(lambda: a in ids(b1, "mine-body"), message="sw1 holds it")
    # who holds what, by the name people know
    wait_for(lambda: holder_cell(lb, a) == "Alex Jones", message="holder by display name",
             detail=lambda: holder_cell(lb, a))

    # a social worker who leads no team: no reassigning
    assert not b1.find_elements(By.CSS_SELECTOR, "button[data-action='assign']")
    assert not b2.find_elements(By.CSS_SELECTOR, "#held-body button")

    # -- reassign a held case: the confirmation names the patient, the bed and both people
    btn = f"#held-body tr[data-id='{a}'] button[data-action='assign']"
    lb.find_element(By.CSS_SELECTOR, btn).click()
    dlg = lb.find_element(By.ID, "assign")
    wait_for(lambda: dlg.get_attribute("open") is not None, message="reassign dialog")
    text = lb.find_element(By.ID, "assign-text").text
    assert held_name in text and "Alex Jones" in text and f"{ward} · bed 4" in text, text
    opts = [o.text for o in Select(lb.find_element(By.ID, "a-user")).options]
    assert "Sam Holder" in opts and "Alex Jones" not in opts, opts  # not to the holder again
    # no choice: said beside the field, nothing sent
    lb.find_element(By.ID, "assign-yes").click()
    wait_for(lambda: lb.find_element(By.ID, "a-user-error").text, message="choose someone")
    Select(lb.find_element(By.ID, "a-user")).select_by_value(sw2_id)
    wait_for(lambda: "Sam Holder" in lb.find_element(By.ID, "assign-text").text,
             message="the confirmation names the new holder")
    text = lb.find_element(By.ID, "assign-text").text
    assert text == f"Give the referral of {held_name} ({ward} · bed 4) from Alex Jones to Sam Holder?", text
    screenshot(lb, "queue-reassign-confirm")
    v = axe_violations(lb)
    assert v == [], ("reassign dialog", v)
    # cancel: nothing changes
    lb.find_element(By.ID, "assign-no").click()
    wait_for(lambda: dlg.get_attribute("open") is None, message="dialog closed")
    assert d.get(f"/api/v1/referrals/{a}", headers=lead.auth).json()["held_by"] == sw1_id
    # again, and confirm
    lb.find_element(By.CSS_SELECTOR, btn).click()
    wait_for(lambda: dlg.get_attribute("open") is not None, message="reassign dialog again")
    Select(lb.find_element(By.ID, "a-user")).select_by_value(sw2_id)
    lb.find_element(By.ID, "assign-yes").click()
    wait_for(lambda: dlg.get_attribute("open") is None, message="dialog closed after reassigning")
    wait_for(lambda: holder_cell(lb, a) == "Sam Holder", message="the lead's list says the new holder")
    assert held_name in lb.find_element(By.ID, "claim-msg").text
    assert d.get(f"/api/v1/referrals/{a}", headers=lead.auth).json()["held_by"] == sw2_id
    # both people's queues follow, live
    wait_for(lambda: a not in ids(b1, "mine-body"), timeout=3, message="the old holder loses it")
    wait_for(lambda: a in ids(b2, "mine-body"), timeout=3, message="the new holder gets it")

    # -- a case nobody holds, from the queue: Assign beside Hold
    lb.find_element(By.CSS_SELECTOR, f"#queue-body tr[data-id='{b}'] button[data-action='assign']").click()
    wait_for(lambda: dlg.get_attribute("open") is not None, message="assign dialog")
    text = lb.find_element(By.ID, "assign-text").text
    assert free_name in text and "not held by anyone" in text, text
    Select(lb.find_element(By.ID, "a-user")).select_by_value(sw1_id)
    assert lb.find_element(By.ID, "assign-text").text == \
        f"Give the referral of {free_name} ({ward} · bed 5) to Alex Jones?"
    lb.find_element(By.ID, "assign-yes").click()
    wait_for(lambda: b in ids(lb, "held-body") and b not in ids(lb, "queue-body"),
             message="assigned: held by the team")
    wait_for(lambda: b in ids(b1, "mine-body"), timeout=3, message="sw1 gets it live")
    wait_for(lambda: b not in ids(b2, "queue-body"), timeout=3, message="off sw2's queue live")

    # -- completing still asks first, naming the patient (sw2 now holds the first case)
    b2.find_element(By.CSS_SELECTOR, f"#mine-body tr[data-id='{a}'] button[data-step='send']").click()
    cdlg = b2.find_element(By.ID, "complete")
    wait_for(lambda: cdlg.get_attribute("open") is not None, message="send confirmation")
    assert held_name in b2.find_element(By.ID, "complete-text").text
    b2.find_element(By.ID, "complete-no").click()

    # -- on a phone: the dialog on screen, no sideways scroll, no axe violation
    set_viewport(lb, "phone")
    lb.find_element(By.CSS_SELECTOR, f"#held-body tr[data-id='{b}'] button[data-action='assign']").click()
    wait_for(lambda: dlg.get_attribute("open") is not None, message="dialog on a phone")
    Select(lb.find_element(By.ID, "a-user")).select_by_value(sw2_id)
    assert_in_viewport(lb, "#assign", "phone")
    assert_fits(lb, "/queue #assign", "phone")
    v = axe_violations(lb)
    assert v == [], ("reassign dialog on a phone", v)
    screenshot(lb, "queue-reassign-390")
    lb.find_element(By.ID, "assign-no").click()
    assert_fits(lb, "/queue (lead)", "phone")
    v = axe_violations(lb)
    assert v == [], ("the lead's queue on a phone", v)
    lb.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    for x in (lb, b1, b2):
        assert x.execute_script("return window.cbNotReloaded === true;"), "a queue reloaded"
        errors = [e for e in browser_errors(x)
                  if "Content Security Policy" in e["message"] or "Uncaught" in e["message"]]
        assert not errors, errors

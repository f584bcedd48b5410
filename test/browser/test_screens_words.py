"""Issue 16: "one way to save", "say what staff say", "no contradictions" and the team lead, on
the ward board and the social-work queue in headless Chromium."""
import datetime

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from browser_util import browser_errors, itg, screenshot, wait_for
from test_screens import PASSWORD, login, rand, set_value

CONFIRM = "Confirm EDD and clinical criteria for discharge"


def now_minus(hours):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def chip(b, eid, title):
    for c in b.find_elements(By.CSS_SELECTOR, f"#board-body tr[data-id='{eid}'] .chip[data-task]"):
        if c.text.startswith(title):
            return c
    return None


def no_script_errors(b):
    errors = [e for e in browser_errors(b)
              if "Content Security Policy" in e["message"] or "Uncaught" in e["message"]]
    assert not errors, errors


def test_board_words_chips_and_one_save(site, database, browsers):
    ward = "BSW" + rand(3).upper()
    itg.ensure_ward(database, ward)
    nurse = itg.make_user(database, "nurse", [ward], password=PASSWORD)
    d = site.daemon
    ep = itg.admit(d, nurse, ward, bed="4", pathway=2, admitted_at=now_minus(2),
                   expected_discharge_date=(datetime.date.today() + datetime.timedelta(days=3)).isoformat())
    eid = ep["id"]
    b = browsers.new()
    login(b, site.base, nurse, "/ward")
    wait_for(lambda: chip(b, eid, CONFIRM), message="the task chips")

    # -- full task names, plain statuses and the due time on the chip itself
    c = chip(b, eid, CONFIRM)
    assert c.text.startswith(CONFIRM + " · Requested · due "), c.text
    assert "requested" not in c.text  # the status as staff say it, not the API's word
    # -- one social-work state: the referral's (the queue's; the Care Act assessment became the
    # -- referral to the hub, issue 15), no "Care Act assessment" task chip beside it
    row = b.find_element(By.CSS_SELECTOR, f"#board-body tr[data-id='{eid}']")
    sw = [e.text for e in row.find_elements(By.CSS_SELECTOR, ".chip")]
    assert "Hub: not sent" in sw, sw
    assert not [t for t in sw if t.startswith("Care Act assessment")], sw
    assert any(t.startswith("Placement and funding search") for t in sw), sw
    screenshot(b, "ward-chips")

    # -- a task moves on from its chip in two clicks
    c.click()
    menu = wait_for(lambda: b.find_element(By.CSS_SELECTOR, ".chip-menu"), message="chip menu")
    assert b.switch_to.active_element.get_attribute("data-to") == "accepted"  # focus on the first move
    screenshot(b, "ward-chip-menu")
    menu.find_element(By.CSS_SELECTOR, "button[data-to='in-progress']").click()
    wait_for(lambda: chip(b, eid, CONFIRM).get_attribute("data-status") == "in-progress", timeout=5,
             message="moved on from the chip")
    assert " · In progress · " in chip(b, eid, CONFIRM).text
    # ... and in two keys: Enter opens the menu on its first move, Enter makes it
    wait_for(lambda: b.switch_to.active_element.get_attribute("data-task"), timeout=3,
             message="focus back on the chip")
    b.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(lambda: b.switch_to.active_element.get_attribute("data-to") == "completed",
             message="menu open on its first move")
    b.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(lambda: database.sql(
        f"SELECT status FROM tasks WHERE episode_id = '{eid}' AND title = '{CONFIRM}'") == [["completed"]],
        timeout=5, message="completed by keyboard")

    # -- the patient dialog: NHS words, one Save for everything, a warning before dropping changes
    row = b.find_element(By.CSS_SELECTOR, f"#board-body tr[data-id='{eid}']")
    row.find_element(By.CSS_SELECTOR, ".row-actions button").click()
    dlg = b.find_element(By.ID, "edit")
    wait_for(lambda: dlg.get_attribute("open") is not None, message="patient dialog")
    assert "No criteria to reside" in b.find_element(By.CSS_SELECTOR, "label[for='x-ready']").text
    assert "discharge ready date" in b.find_element(By.ID, "xh-ready").text
    assert not b.find_elements(By.CSS_SELECTOR, "#edit-tasks button")  # no per-task "Set"
    new_edd = (datetime.date.today() + datetime.timedelta(days=5)).isoformat()
    set_value(b, "x-expected_discharge_date", new_edd)
    tts = [t for t in d.get(f"/api/v1/episodes/{eid}/tasks", headers=nurse.auth).json()["items"]
           if t["title"].startswith("Medicines")][0]
    Select(b.find_element(By.ID, f"ts-{tts['id']}")).select_by_visible_text("Accepted")
    b.find_element(By.ID, "edit-close").click()
    wait_for(lambda: b.find_element(By.ID, "edit-unsaved").is_displayed(), message="unsaved warning")
    assert dlg.get_attribute("open") is not None
    assert "did not save" in b.find_element(By.ID, "edit-unsaved").text
    screenshot(b, "ward-unsaved-warning")
    b.find_element(By.ID, "edit-keep").click()
    b.find_element(By.ID, "edit-save").click()
    wait_for(lambda: dlg.get_attribute("open") is None, timeout=5, message="saved and closed",
             detail=lambda: b.find_element(By.ID, "edit-error").text)
    assert database.sql(f"SELECT expected_discharge_date::text FROM episodes WHERE id = '{eid}'") == [[new_edd]]
    assert database.sql(f"SELECT status FROM tasks WHERE id = '{tts['id']}'") == [["accepted"]]
    # Escape with a change asks too; "Discard changes" drops it
    row = b.find_element(By.CSS_SELECTOR, f"#board-body tr[data-id='{eid}']")
    row.find_element(By.CSS_SELECTOR, ".row-actions button").click()
    wait_for(lambda: dlg.get_attribute("open") is not None, message="patient dialog again")
    Select(b.find_element(By.ID, "x-pathway")).select_by_value("3")
    b.find_element(By.ID, "x-pathway").send_keys(Keys.ESCAPE)
    wait_for(lambda: b.find_element(By.ID, "edit-unsaved").is_displayed(), message="warning on Escape")
    assert dlg.get_attribute("open") is not None
    b.find_element(By.ID, "edit-discard").click()
    wait_for(lambda: dlg.get_attribute("open") is None, message="discarded")
    assert database.sql(f"SELECT pathway FROM episodes WHERE id = '{eid}'") == [["2"]]

    # -- a duplicate patient: where the patient is, in words (no JSON field names)
    b.find_element(By.ID, "flag-toggle").click()
    b.find_element(By.ID, "f-nhs_number").send_keys(ep["patient"]["nhs_number"])
    b.find_element(By.ID, "f-family_name").send_keys("Dup")
    b.find_element(By.ID, "f-given_name").send_keys("Lee")
    set_value(b, "f-birth_date", "1940-01-01")
    b.find_element(By.ID, "f-bed").send_keys("9")
    Select(b.find_element(By.ID, "f-pathway")).select_by_value("1")
    b.find_element(By.ID, "flag-submit").click()
    wait_for(lambda: f"ward {ward}" in b.find_element(By.ID, "e-nhs_number").text, timeout=5,
             message="where the patient already is",
             detail=lambda: b.find_element(By.ID, "flag-form").text)
    text = b.find_element(By.ID, "e-nhs_number").text
    assert "bed 4" in text and '"' not in text and "nhs_number" not in text, text

    # -- offline: the change was not saved, and can be sent again
    nhs = itg.nhs_number()
    b.find_element(By.ID, "f-nhs_number").clear()
    b.find_element(By.ID, "f-nhs_number").send_keys(nhs)
    b.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
    try:
        b.find_element(By.ID, "flag-submit").click()
        wait_for(lambda: "not saved" in b.find_element(By.ID, "flag-error").text, timeout=5,
                 message="offline message")
        screenshot(b, "ward-offline")
        retry = b.find_element(By.CSS_SELECTOR, "#flag-error button.retry")
    finally:
        b.set_network_conditions(offline=False, latency=0, download_throughput=-1, upload_throughput=-1)
    retry.click()
    wait_for(lambda: "DUP" in b.find_element(By.ID, "flag-ok").text, timeout=10,
             message="sent on retry", detail=lambda: b.find_element(By.ID, "flag-error").text)
    assert database.sql(f"SELECT count(*) FROM patients WHERE nhs_number = '{nhs}'") == [["1"]]
    no_script_errors(b)

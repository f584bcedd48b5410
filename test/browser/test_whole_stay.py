"""The whole stay on the ward board, in real headless Chromium (issue 16).

A nurse transfers a patient to another ward (the row leaves her board and appears, live, on the
other ward's board), moves a patient to another bed (a change made meanwhile by someone else is
refused by If-Match and said in plain words), and undoes a discharge made in error, from the
confirmation shown right after it and from "Recently discharged". Each action asks a question
naming the patient and bed first; the API's refusals are shown in the dialog without JSON field
names. Everything is read back from the database.
"""
import datetime
import random
import string
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from browser_util import browser_errors, itg, screenshot, wait_for
from test_screens import PASSWORD, login, set_value


def rand(n=6):
    return "".join(random.choice(string.ascii_lowercase) for _ in range(n))


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def hours_ago(h):
    return rfc3339(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=h))


def row_sel(eid):
    return f"#board-body tr[data-id='{eid}']"


def has_row(driver, eid):
    return bool(driver.find_elements(By.CSS_SELECTOR, row_sel(eid)))


def bed_of(driver, eid):
    return driver.find_element(By.CSS_SELECTOR, row_sel(eid) + " td").text


def is_open(driver, dialog):
    return driver.find_element(By.ID, dialog).get_attribute("open") is not None


def active(driver):
    return driver.switch_to.active_element


def text(driver, id_):
    return driver.find_element(By.ID, id_).text


def patient(site, nurse, ward, bed, given="Alex"):
    family = "Stay" + rand()
    ep = itg.admit(site.daemon, nurse, ward, family_name=family, given_name=given, bed=bed,
                   admitted_at=hours_ago(30))
    ep["spoken"] = f"{given} {family.upper()}"
    return ep


def no_script_errors(*drivers):
    for b in drivers:
        errors = [e for e in browser_errors(b)
                  if "Content Security Policy" in e["message"] or "Uncaught" in e["message"]]
        assert not errors, errors


def test_transfer_end_to_end(site, database, browsers):
    ward_a, ward_b = "TA" + rand(4).upper(), "TB" + rand(4).upper()
    itg.ensure_ward(database, ward_a, name="Ash ward")
    itg.ensure_ward(database, ward_b, name="Birch ward")
    nurse_a = itg.make_user(database, "nurse", [ward_a], password=PASSWORD)
    nurse_b = itg.make_user(database, "nurse", [ward_b], password=PASSWORD)
    ep = patient(site, nurse_a, ward_a, "4")

    a = browsers.new(1366, 900)
    login(a, site.base, nurse_a, "/ward")
    b = browsers.new(1366, 900)
    login(b, site.base, nurse_b, "/ward")
    wait_for(lambda: a.find_elements(By.CSS_SELECTOR, row_sel(ep["id"]) + " [data-task]"),
             message="the patient on ward A's board with its tasks")
    assert not has_row(b, ep["id"])
    b.execute_script("window.cbNotReloaded = true;")

    # -- the dialog: the focus goes in, the wards are the API's (not the patient's own)
    a.find_element(By.CSS_SELECTOR, row_sel(ep["id"]) + " button.transfer").click()
    wait_for(lambda: is_open(a, "transfer"), message="transfer dialog open")
    assert text(a, "transfer-title") == f"Transfer {ep['spoken']} — bed 4"
    wait_for(lambda: len(Select(a.find_element(By.ID, "t-ward")).options) > 1,
             message="the ward list from GET /api/v1/wards")
    wait_for(lambda: active(a).get_attribute("id") == "t-ward", message="focus on the ward")
    codes = [o.get_attribute("value") for o in Select(a.find_element(By.ID, "t-ward")).options]
    assert ward_b in codes and ward_a not in codes and codes[0] == ""
    # nothing is sent without a ward
    a.find_element(By.ID, "transfer-save").click()
    wait_for(lambda: "Choose the ward" in text(a, "te-ward"), message="ward required")
    assert a.find_element(By.ID, "t-ward").get_attribute("aria-invalid") == "true"
    Select(a.find_element(By.ID, "t-ward")).select_by_value(ward_b)
    a.find_element(By.ID, "t-bed").send_keys("3")
    assert text(a, "transfer-question") == \
        f"Transfer {ep['spoken']} from bed 4 on ward {ward_a} to ward {ward_b} (Birch ward), bed 3?"
    screenshot(a, "ward-transfer")
    a.find_element(By.ID, "transfer-save").click()

    # -> it leaves A's board and appears, live, on B's, tasks and all
    wait_for(lambda: not has_row(a, ep["id"]), timeout=3, message="the row leaves ward A's board",
             detail=lambda: text(a, "transfer-error"))
    wait_for(lambda: b.find_elements(By.CSS_SELECTOR, row_sel(ep["id"]) + " [data-task]"), timeout=3,
             message="the row appears on ward B's board, live, with its tasks")
    assert bed_of(b, ep["id"]) == "3"
    assert b.execute_script("return window.cbNotReloaded === true;"), "ward B's board reloaded"
    assert not is_open(a, "transfer")
    assert text(a, "stay-ok") == f"Transferred {ep['spoken']} to ward {ward_b}, bed 3."
    assert active(a).get_attribute("id") == "board-title"
    screenshot(b, "ward-transferred-in")

    assert database.sql(f"SELECT ward, bed, state FROM episodes WHERE id = '{ep['id']}'") == \
        [[ward_b, "3", "admitted"]]
    assert database.sql(f"SELECT actor, before->>'ward', after->>'ward' FROM audit"
                        f" WHERE entity_id = '{ep['id']}' AND action = 'episode.transfer'") == \
        [[nurse_a.name, ward_a, ward_b]]
    no_script_errors(a, b)


def test_refusal_in_plain_words(site, database, browsers):
    """The API's 403 is shown in the dialog in plain words; a 400 naming a field lands beside
    that field under its label, never the JSON field name."""
    ward_a, ward_b, ward_c = "RA" + rand(4).upper(), "RB" + rand(4).upper(), "RC" + rand(4).upper()
    for w in (ward_a, ward_b, ward_c):
        itg.ensure_ward(database, w)
    nurse = itg.make_user(database, "nurse", [ward_a], password=PASSWORD)
    colleague = itg.make_user(database, "nurse", [ward_a])
    ep = patient(site, nurse, ward_a, "6", given="Jo")

    a = browsers.new(1366, 900)
    login(a, site.base, nurse, "/ward")
    wait_for(lambda: has_row(a, ep["id"]), message="the patient on the board")

    # -- a 400 naming "bed": beside the bed field, as "Bed"
    a.find_element(By.CSS_SELECTOR, row_sel(ep["id"]) + " button.move-bed").click()
    wait_for(lambda: is_open(a, "move"), message="bed move dialog open")
    set_value(a, "m-bed", "B" * 40)  # past the input's maxlength, as a pasted value could be
    a.find_element(By.ID, "move-save").click()
    wait_for(lambda: text(a, "me-bed"), message="the API's error beside the bed")
    assert text(a, "me-bed") == "Bed is longer than 32 characters."
    assert a.find_element(By.ID, "m-bed").get_attribute("aria-invalid") == "true"
    a.find_element(By.ID, "m-bed").send_keys(Keys.ESCAPE)
    wait_for(lambda: not is_open(a, "move"), message="Escape closes the dialog")
    wait_for(lambda: "move-bed" in (active(a).get_attribute("class") or ""),
             message="the focus back on the row's button")

    # -- a 403: a colleague sent the patient to a ward that is not the nurse's meanwhile
    a.find_element(By.CSS_SELECTOR, row_sel(ep["id"]) + " button.transfer").click()
    wait_for(lambda: len(Select(a.find_element(By.ID, "t-ward")).options) > 1,
             message="the ward list")
    Select(a.find_element(By.ID, "t-ward")).select_by_value(ward_b)
    r = site.daemon.post(f"/api/v1/episodes/{ep['id']}/transfer", json={"ward": ward_c},
                         headers=colleague.auth)
    assert r.status_code == 200, r.text
    wait_for(lambda: not has_row(a, ep["id"]), timeout=3, message="the row leaves, live")
    a.find_element(By.ID, "transfer-save").click()
    wait_for(lambda: text(a, "transfer-error"), message="the refusal in the dialog")
    refusal = text(a, "transfer-error")
    assert refusal == f'Could not transfer {ep["spoken"]}: ward "{ward_c}" is not one of your wards.'
    assert is_open(a, "transfer")
    screenshot(a, "ward-transfer-refused")
    a.find_element(By.ID, "transfer-close").click()
    wait_for(lambda: active(a).get_attribute("id") == "board-title",
             message="focus on the board once the patient's row is gone")
    assert database.sql(f"SELECT ward FROM episodes WHERE id = '{ep['id']}'") == [[ward_c]]
    no_script_errors(a)


def test_bed_move_and_conflict(site, database, browsers):
    ward = "BM" + rand(4).upper()
    itg.ensure_ward(database, ward)
    nurse = itg.make_user(database, "nurse", [ward], password=PASSWORD)
    colleague = itg.make_user(database, "nurse", [ward])
    ep = patient(site, nurse, ward, "4")
    other = patient(site, nurse, ward, "12", given="Sam")

    a = browsers.new(1366, 900)
    login(a, site.base, nurse, "/ward")
    wait_for(lambda: has_row(a, ep["id"]) and has_row(a, other["id"]), message="the patients")

    # -- keyboard only: the focus goes into the field, Enter asks nothing more than shown
    a.find_element(By.CSS_SELECTOR, row_sel(ep["id"]) + " button.move-bed").click()
    wait_for(lambda: is_open(a, "move"), message="bed move dialog open")
    assert active(a).get_attribute("id") == "m-bed"
    assert text(a, "move-title") == f"Move {ep['spoken']} — bed 4"
    assert a.find_element(By.CSS_SELECTOR, "label[for='m-bed']").text == "New bed *"
    active(a).send_keys("4")
    active(a).send_keys(Keys.ENTER)
    wait_for(lambda: text(a, "me-bed") == f"{ep['spoken']} is already in bed 4.",
             message="the same bed is refused before sending")
    a.find_element(By.ID, "m-bed").clear()
    a.find_element(By.ID, "m-bed").send_keys("7")
    assert text(a, "move-question") == f"Move {ep['spoken']} from bed 4 to bed 7?"
    screenshot(a, "ward-bed-move")
    active(a).send_keys(Keys.ENTER)
    wait_for(lambda: has_row(a, ep["id"]) and bed_of(a, ep["id"]) == "7", timeout=3,
             message="the row shows the new bed", detail=lambda: text(a, "move-error"))
    assert not is_open(a, "move")
    assert text(a, "stay-ok") == f"Moved {ep['spoken']} from bed 4 to bed 7."
    wait_for(lambda: active(a).get_attribute("class") == "secondary move-bed"
             and active(a).find_element(By.XPATH, "./ancestor::tr").get_attribute("data-id") == ep["id"],
             message="the focus back on the row's 'Move bed'")
    assert database.sql(f"SELECT bed FROM episodes WHERE id = '{ep['id']}'") == [["7"]]
    assert database.sql(f"SELECT count(*) FROM audit WHERE entity_id = '{ep['id']}'"
                        f" AND action = 'episode.update' AND after->>'bed' = '7'") == [["1"]]

    # -- a bed already shown for another patient is named in the question
    a.find_element(By.CSS_SELECTOR, row_sel(ep["id"]) + " button.move-bed").click()
    wait_for(lambda: is_open(a, "move"), message="bed move dialog open again")
    a.find_element(By.ID, "m-bed").send_keys("12")
    assert text(a, "move-question") == \
        f"Move {ep['spoken']} from bed 7 to bed 12? Bed 12 is also shown for {other['spoken']}."
    a.find_element(By.ID, "m-bed").clear()

    # -- someone moves the patient while the dialog is open: If-Match refuses, said plainly
    r = site.daemon.patch(f"/api/v1/episodes/{ep['id']}", json={"bed": "9"}, headers=colleague.auth)
    assert r.status_code == 200, r.text
    wait_for(lambda: bed_of(a, ep["id"]) == "9", timeout=3, message="the board follows, live")
    a.find_element(By.ID, "m-bed").send_keys("10")
    assert text(a, "move-question") == f"Move {ep['spoken']} from bed 7 to bed 10?"  # as opened
    a.find_element(By.ID, "move-save").click()
    wait_for(lambda: text(a, "move-error"), message="the conflict message")
    assert text(a, "move-error") == (
        f"Someone else changed {ep['spoken']} while this was open: now bed 9 on ward {ward}. "
        "Nothing was saved. Check the question below and move again if it is still right.")
    assert text(a, "move-question") == f"Move {ep['spoken']} from bed 9 to bed 10?"
    assert database.sql(f"SELECT bed FROM episodes WHERE id = '{ep['id']}'") == [["9"]]
    screenshot(a, "ward-bed-move-conflict")
    a.find_element(By.ID, "move-save").click()
    wait_for(lambda: bed_of(a, ep["id"]) == "10", timeout=3, message="moved once confirmed again",
             detail=lambda: text(a, "move-error"))
    assert database.sql(f"SELECT bed FROM episodes WHERE id = '{ep['id']}'") == [["10"]]
    no_script_errors(a)


def test_discharge_then_undo(site, database, browsers):
    ward = "UD" + rand(4).upper()
    itg.ensure_ward(database, ward)
    nurse = itg.make_user(database, "nurse", [ward], password=PASSWORD)
    colleague = itg.make_user(database, "nurse", [ward], password=PASSWORD)
    ep = patient(site, nurse, ward, "5")
    second = patient(site, nurse, ward, "6", given="Kim")
    by_api = patient(site, nurse, ward, "8", given="Lee")
    old = patient(site, nurse, ward, "2", given="Max")
    # discharged yesterday (before midnight in London): not in today's list
    yesterday = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=27)
    r = site.daemon.post(f"/api/v1/episodes/{old['id']}/discharge",
                         json={"pathway": 0, "discharged_at": rfc3339(yesterday)},
                         headers=nurse.auth)
    assert r.status_code == 200, r.text

    a = browsers.new(1366, 900)
    login(a, site.base, nurse, "/ward")
    c = browsers.new(1366, 900)  # a colleague's board on the same ward
    login(c, site.base, colleague, "/ward")
    for b in (a, c):
        wait_for(lambda: b.find_elements(By.CSS_SELECTOR, row_sel(ep["id"]) + " [data-task]"),
                 message="the patient with tasks")
        b.execute_script("window.cbNotReloaded = true;")

    def discharge(e, pathway):
        a.find_element(By.CSS_SELECTOR, row_sel(e["id"]) + " button.discharge").click()
        wait_for(lambda: is_open(a, "discharge"), message="discharge dialog open")
        Select(a.find_element(By.ID, "d-pathway")).select_by_value(pathway)
        # the board asks where the patient went every time (issue 15)
        Select(a.find_element(By.ID, "d-destination")).select_by_value("usual_residence")
        a.find_element(By.ID, "discharge-save").click()
        wait_for(lambda: not has_row(a, e["id"]), timeout=3, message="the row leaves",
                 detail=lambda: text(a, "discharge-error"))
        wait_for(lambda: not has_row(c, e["id"]), timeout=3, message="the colleague's row leaves")

    # -- discharge, then Undo from the confirmation
    discharge(ep, "1")
    assert text(a, "discharge-ok").startswith(f"Discharged {ep['spoken']} (bed 5) on pathway 1")
    undo = a.find_element(By.ID, "discharge-undo")
    assert undo.get_attribute("aria-label") == f"Undo the discharge of {ep['spoken']}, bed 5"
    screenshot(a, "ward-discharged-undo")
    undo.click()
    wait_for(lambda: is_open(a, "reopen"), message="the undo question")
    assert active(a).get_attribute("id") == "reopen-save"
    q = text(a, "reopen-question")
    assert q.startswith(f"Undo the discharge of {ep['spoken']} from bed 5 (left ") and "?" in q
    screenshot(a, "ward-undo")
    active(a).send_keys(Keys.ENTER)
    wait_for(lambda: a.find_elements(By.CSS_SELECTOR, row_sel(ep["id"]) + " [data-task]"), timeout=3,
             message="the patient back on the board with its tasks",
             detail=lambda: text(a, "reopen-error"))
    wait_for(lambda: c.find_elements(By.CSS_SELECTOR, row_sel(ep["id"]) + " [data-task]"), timeout=3,
             message="back on the colleague's board too, live")
    assert text(a, "discharge-ok") == f"Discharge undone: {ep['spoken']} is back on the board, bed 5."
    assert not a.find_elements(By.ID, "discharge-undo")
    assert database.sql(f"SELECT state, bed, discharged_at IS NULL, discharge_pathway IS NULL"
                        f" FROM episodes WHERE id = '{ep['id']}'") == [["admitted", "5", "t", "t"]]
    assert database.sql(f"SELECT actor, before->>'state', after->>'state' FROM audit"
                        f" WHERE entity_id = '{ep['id']}' AND action = 'episode.reopen'") == \
        [[nurse.name, "discharged", "admitted"]]

    # -- the Undo stays for at least 30 s; meanwhile "Recently discharged" lists today's
    discharge(second, "2")
    t0 = time.monotonic()
    r = site.daemon.post(f"/api/v1/episodes/{by_api['id']}/discharge", json={"pathway": 3,
                         "destination": "care_home", "destination_note": "Oak Lodge"}, headers=colleague.auth)
    assert r.status_code == 200, r.text
    wait_for(lambda: not has_row(a, by_api["id"]), timeout=3, message="discharged elsewhere: leaves")
    a.find_element(By.ID, "recent-summary").click()
    wait_for(lambda: text(a, "recent-summary") == "Recently discharged (2 today)",
             message="today's discharges", detail=lambda: text(a, "recent"))
    items = a.find_elements(By.CSS_SELECTOR, "#recent-list li[data-id]")
    assert [i.get_attribute("data-id") for i in items] == [by_api["id"], second["id"]]  # latest first
    assert "pathway 3 · Care home · Oak Lodge" in items[0].text and by_api["spoken"] in items[0].text
    assert old["id"] not in [i.get_attribute("data-id") for i in items]  # yesterday's
    # live: a discharge made elsewhere joins the open list
    third = patient(site, colleague, ward, "9", given="Ros")
    r = site.daemon.post(f"/api/v1/episodes/{third['id']}/discharge", json={"pathway": 0},
                         headers=colleague.auth)
    assert r.status_code == 200, r.text
    wait_for(lambda: text(a, "recent-summary") == "Recently discharged (3 today)", timeout=3,
             message="a discharge made elsewhere joins the list, live")
    wait_for(lambda: not has_row(a, third["id"]), timeout=3, message="and leaves the board")
    screenshot(a, "ward-recently-discharged")

    # Undo from the list, keyboard only: the button, Enter, the question, Enter
    btn = a.find_element(By.CSS_SELECTOR, f"#recent-list li[data-id='{by_api['id']}'] button.undo")
    assert btn.get_attribute("aria-label") == f"Undo the discharge of {by_api['spoken']}, bed 8"
    btn.send_keys(Keys.ENTER)
    wait_for(lambda: is_open(a, "reopen"), message="the undo question")
    assert text(a, "reopen-title") == f"Undo the discharge of {by_api['spoken']} — bed 8"
    active(a).send_keys(Keys.ENTER)
    wait_for(lambda: has_row(a, by_api["id"]), timeout=3, message="back on the board")
    wait_for(lambda: text(a, "recent-summary") == "Recently discharged (2 today)", timeout=3,
             message="and off the list")
    assert database.sql(f"SELECT state FROM episodes WHERE id = '{by_api['id']}'") == [["admitted"]]
    assert text(a, "stay-ok") == f"Discharge undone: {by_api['spoken']} is back on the board, bed 8."

    # Cancel and Escape undo nothing
    a.find_element(By.CSS_SELECTOR, f"#recent-list li[data-id='{third['id']}'] button.undo").click()
    wait_for(lambda: is_open(a, "reopen"), message="the undo question")
    active(a).send_keys(Keys.ESCAPE)
    wait_for(lambda: not is_open(a, "reopen"), message="Escape closes it")
    assert active(a).get_attribute("data-key") == f"undo-{third['id']}"
    assert database.sql(f"SELECT state FROM episodes WHERE id = '{third['id']}'") == [["discharged"]]

    # the confirmation's Undo is still there 30 s after the discharge
    time.sleep(max(0, 31 - (time.monotonic() - t0)))
    undo = a.find_element(By.ID, "discharge-undo")
    assert undo.get_attribute("aria-label") == f"Undo the discharge of {second['spoken']}, bed 6"
    undo.click()
    wait_for(lambda: is_open(a, "reopen"), message="the undo question")
    a.find_element(By.ID, "reopen-save").click()
    wait_for(lambda: has_row(a, second["id"]) and has_row(c, second["id"]), timeout=3,
             message="back on both boards")
    assert text(a, "discharge-ok") == \
        f"Discharge undone: {second['spoken']} is back on the board, bed 6."
    assert database.sql(f"SELECT state FROM episodes WHERE id = '{second['id']}'") == [["admitted"]]
    for b in (a, c):
        assert b.execute_script("return window.cbNotReloaded === true;"), "a board reloaded"
    no_script_errors(a, c)

"""Involvement in discharge planning on the ward board's patient dialog (issue 15), in real
headless Chromium.

A nurse opens a patient's Update dialog, is told nothing is recorded yet, is stopped
before sending a record without "who", records that the family took part and did not agree,
sees the server's refusal of a time in the future next to the field, and sees a record made
by a social worker in another session appear without a reload.  The records are then read
back through the API.
"""
import datetime
import random
import string

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser_util import itg, screenshot, wait_for
from test_screens import PASSWORD, login, set_value


def rand(n=6):
    return "".join(random.choice(string.ascii_lowercase) for _ in range(n))


def text(driver, id_):
    return driver.find_element(By.ID, id_).text


def test_involvement_on_the_patient_dialog(site, database, browsers):
    d = site.daemon
    ward = "IV" + rand(4).upper()
    itg.ensure_ward(database, ward, name="Involvement ward", beds=20)
    nurse = itg.make_user(database, "nurse", [ward], password=PASSWORD)
    sw = itg.make_user(database, "social_worker")
    admitted = (datetime.datetime.now(datetime.timezone.utc)
                - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ep = itg.admit(d, nurse, ward, family_name="Inv" + rand(), bed="3", admitted_at=admitted)

    b = browsers.new(1366, 900)
    login(b, site.base, nurse, "/ward")
    sel = f"#board-body tr[data-id='{ep['id']}'] .row-actions button"
    wait_for(lambda: b.find_elements(By.CSS_SELECTOR, sel), message="the patient on the board")
    b.execute_script("window.cbNotReloaded = true;")
    b.find_element(By.CSS_SELECTOR, sel).click()
    wait_for(lambda: b.find_element(By.ID, "edit").get_attribute("open") is not None,
             message="patient dialog open")
    wait_for(lambda: text(b, "inv-summary") == "No involvement recorded yet.",
             message="nothing recorded yet")

    # "who" is asked for before anything is sent
    b.find_element(By.ID, "inv-save").click()
    wait_for(lambda: "Choose who" in text(b, "ie-who"), message="who required")
    assert b.find_element(By.ID, "i-who").get_attribute("aria-invalid") == "true"
    assert database.sql(f"SELECT count(*) FROM involvements WHERE episode_id = '{ep['id']}'") \
        == [["0"]]

    # the family took part and did not agree
    Select(b.find_element(By.ID, "i-who")).select_by_value("family")
    Select(b.find_element(By.ID, "i-agreed")).select_by_value("false")
    b.find_element(By.ID, "i-name").send_keys("Robin Son")
    b.find_element(By.ID, "i-note").send_keys("wants a care home near them")
    b.find_element(By.ID, "inv-save").click()
    wait_for(lambda: len(b.find_elements(By.CSS_SELECTOR, "#inv-list li")) == 1,
             message="the record listed", detail=lambda: text(b, "inv-error"))
    item = b.find_element(By.CSS_SELECTOR, "#inv-list li").text
    assert "Family (Robin Son)" in item and "did not agree" in item
    assert "wants a care home near them" in item and nurse.name in item
    wait_for(lambda: text(b, "inv-summary").startswith("1 conversation recorded; latest Family"),
             message="summary follows", detail=lambda: text(b, "inv-summary"))
    assert "did not agree with the plan" in text(b, "inv-summary")
    assert b.find_element(By.ID, "i-who").get_attribute("value") == ""  # the form is reset

    # a time in the future: the server's refusal, next to the field
    Select(b.find_element(By.ID, "i-who")).select_by_value("patient")
    Select(b.find_element(By.ID, "i-agreed")).select_by_value("true")
    tomorrow = datetime.datetime.now() + datetime.timedelta(days=1)
    set_value(b, "i-discussed_at", tomorrow.strftime("%Y-%m-%dT%H:%M"))
    b.find_element(By.ID, "inv-save").click()
    wait_for(lambda: "future" in text(b, "ie-discussed_at"),
             message="the API's discussed_at error by the field")
    assert b.find_element(By.ID, "i-discussed_at").get_attribute("aria-invalid") == "true"
    assert len(b.find_elements(By.CSS_SELECTOR, "#inv-list li")) == 1
    screenshot(b, "ward-involvement")

    # a social worker records the patient's own view elsewhere: it appears live
    r = d.post(f"/api/v1/episodes/{ep['id']}/involvements",
               json={"who": "patient", "agreed": True}, headers=sw.auth)
    assert r.status_code == 201, r.text
    wait_for(lambda: len(b.find_elements(By.CSS_SELECTOR, "#inv-list li")) == 2, timeout=10,
             message="the other session's record, live (involvement.recorded)")
    assert b.find_elements(By.CSS_SELECTOR, "#inv-list li")[0].text.startswith("The patient")
    wait_for(lambda: text(b, "inv-summary").startswith("2 conversations recorded; latest The "
                                                       "patient"),
             message="summary follows the stream", detail=lambda: text(b, "inv-summary"))
    assert b.execute_script("return window.cbNotReloaded === true;"), "the page reloaded"

    # read back through the API
    items = d.get(f"/api/v1/episodes/{ep['id']}/involvements", headers=nurse.auth).json()["items"]
    assert [(i["who"], i["agreed"], i["name"]) for i in items] == \
        [("patient", True, None), ("family", False, "Robin Son")]

"""Issue 20: a page whose session ends (user disabled, signed out elsewhere, expired) stops
retrying its event stream for ever.  Issue 16: it says so at once and asks to sign in again
over the page (which keeps what was typed) instead of going to the sign-in page."""
from selenium.webdriver.common.by import By

from browser_util import itg, wait_for

PASSWORD = "correct horse battery"


def test_page_goes_to_sign_in_when_its_session_ends(site, database, browsers):
    itg.ensure_ward(database, "BSE1")
    nurse = itg.make_user(database, "nurse", ["BSE1"], password=PASSWORD)
    admin = itg.make_user(database, "admin")
    b = browsers.new()
    b.get(site.base + "/login")
    wait_for(lambda: b.find_element(By.ID, "name").is_displayed(), message="login form")
    b.find_element(By.ID, "name").send_keys(nurse.name)
    b.find_element(By.ID, "password").send_keys(PASSWORD)
    b.find_element(By.ID, "login-submit").click()
    wait_for(lambda: b.current_url.endswith("/ward"), message="ward after login")
    wait_for(lambda: b.find_element(By.ID, "live").get_attribute("data-state") == "live",
             timeout=10, message="stream live")
    uid = next(u["id"] for u in site.daemon.get("/api/v1/users", headers=admin.auth).json()["items"]
               if u["name"] == nurse.name)
    r = site.daemon.post(f"/api/v1/users/{uid}/disable", headers=admin.auth)
    assert r.status_code == 200, r.text
    # the server ends the stream (within 2 s); the page finds its session gone and says so
    wait_for(lambda: b.find_element(By.ID, "live").get_attribute("data-state") == "signed-out",
             timeout=20, message="signed out, not reconnecting",
             detail=lambda: b.find_element(By.ID, "live").text)
    dlg = b.find_element(By.ID, "signin-dialog")
    assert dlg.get_attribute("open") is not None
    assert b.current_url.endswith("/ward")  # the page and what was typed on it stay

"""Issue 16, "sessions that never lose work": a page whose session ends says so at once and asks
to sign in again over the page, keeping what was typed; a save made while signed out is sent
once the same user has signed in again; an idle page warns before it is signed out."""
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser_util import Site, browser_errors, itg, screenshot, wait_for
from test_screens import PASSWORD, live_state, login, rand, set_value  # noqa: F401


@pytest.fixture(scope="module")
def nocache_site(database):
    """No auth cache: a revoked session is refused by the very next request."""
    s = Site(database.url, {"CAREBRIDGE_SSE_RETRY": "300ms", "CAREBRIDGE_SSE_HEARTBEAT": "5s",
                            "CAREBRIDGE_MLLP_PORT": "0", "CAREBRIDGE_AUTH_CACHE_TTL": "0s"})
    yield s
    s.close()


@pytest.fixture(scope="module")
def idle_site(database):
    """Sessions idle out after 20 s (the default is 30 min)."""
    s = Site(database.url, {"CAREBRIDGE_SSE_RETRY": "300ms", "CAREBRIDGE_SSE_HEARTBEAT": "5s",
                            "CAREBRIDGE_MLLP_PORT": "0", "CAREBRIDGE_SESSION_IDLE_TIMEOUT": "20s"})
    yield s
    s.close()


def dialog_open(b):
    d = b.find_elements(By.ID, "signin-dialog")
    return bool(d) and d[0].get_attribute("open") is not None


def revoke_sessions(database, user):
    database.sql(f"UPDATE tokens SET revoked_at = now() WHERE kind = 'session' AND revoked_at IS NULL"
                 f" AND user_id = (SELECT id FROM users WHERE name = '{user.name}')")


def test_revoked_session_keeps_and_then_sends_the_typed_admission(nocache_site, database, browsers):
    site = nocache_site
    ward = "BSK" + rand(3).upper()
    itg.ensure_ward(database, ward)
    nurse = itg.make_user(database, "nurse", [ward], password=PASSWORD)
    database.sql(f"UPDATE users SET display_name = 'Nia Evans' WHERE name = '{nurse.name}'")
    b = browsers.new()
    login(b, site.base, nurse, "/ward")
    # the header names the person, not the account
    assert b.find_element(By.ID, "who").text.startswith("Nia Evans")

    # -- half an admission typed in
    family = "Keep" + rand()
    nhs = itg.nhs_number()
    b.find_element(By.ID, "flag-toggle").click()
    b.find_element(By.ID, "f-nhs_number").send_keys(nhs)
    b.find_element(By.ID, "f-family_name").send_keys(family)
    b.find_element(By.ID, "f-given_name").send_keys("Sam")
    set_value(b, "f-birth_date", "1938-04-05")
    b.find_element(By.ID, "f-bed").send_keys("12")
    Select(b.find_element(By.ID, "f-pathway")).select_by_value("2")

    # -- the session is revoked: the page says so at once, over the page, not "Live"
    revoke_sessions(database, nurse)
    t0 = time.monotonic()
    wait_for(lambda: dialog_open(b), timeout=10, message="sign-in dialog")
    assert time.monotonic() - t0 < 10
    assert live_state(b) == "signed-out"
    assert b.find_element(By.ID, "live").text == "Signed out"
    assert "signed out" in b.find_element(By.ID, "signin-title").text.lower()
    assert b.current_url.endswith("/ward")  # not sent away
    screenshot(b, "ward-signed-out")
    # what was typed is still there
    assert b.find_element(By.ID, "f-family_name").get_attribute("value") == family
    assert b.find_element(By.ID, "f-nhs_number").get_attribute("value") == nhs

    # -- the nurse saves as it happens: refused (401), kept, and said to be waiting
    b.execute_script("document.getElementById('flag-form').requestSubmit();")
    wait_for(lambda: "waiting" in b.find_element(By.ID, "signin-text").text, timeout=5,
             message="the change is said to be waiting",
             detail=lambda: b.find_element(By.ID, "signin-text").text)
    assert database.sql(f"SELECT count(*) FROM patients WHERE nhs_number = '{nhs}'") == [["0"]]

    # -- a wrong password is said plainly; the right one signs in and sends the admission
    assert b.find_element(By.ID, "signin-name").get_attribute("value") == nurse.name
    b.find_element(By.ID, "signin-password").send_keys("wrong password")
    b.find_element(By.ID, "signin-submit").click()
    wait_for(lambda: "wrong" in b.find_element(By.ID, "signin-error").text, message="wrong password")
    assert dialog_open(b)
    b.find_element(By.ID, "signin-password").send_keys(PASSWORD)
    b.find_element(By.ID, "signin-submit").click()
    wait_for(lambda: not dialog_open(b), timeout=10, message="dialog closed after signing in")
    wait_for(lambda: family.upper() in b.find_element(By.ID, "flag-ok").text, timeout=10,
             message="the kept admission was sent",
             detail=lambda: b.find_element(By.ID, "flag-form").text)
    got = database.sql(f"SELECT e.ward, e.bed FROM episodes e JOIN patients p ON p.id = e.patient_id"
                       f" WHERE p.nhs_number = '{nhs}'")
    assert got == [[ward, "12"]]
    wait_for(lambda: live_state(b) == "live", timeout=10, message="live again")
    wait_for(lambda: b.find_elements(By.CSS_SELECTOR, "#board-body tr"), message="the row")
    assert family.upper() in b.find_element(By.ID, "board-body").text
    errors = [e for e in browser_errors(b)
              if "Content Security Policy" in e["message"] or "Uncaught" in e["message"]]
    assert not errors, errors


def test_someone_else_signing_in_sends_nothing(nocache_site, database, browsers):
    site = nocache_site
    ward = "BSK" + rand(3).upper()
    itg.ensure_ward(database, ward)
    nurse = itg.make_user(database, "nurse", [ward], password=PASSWORD)
    other = itg.make_user(database, "nurse", [ward], password=PASSWORD)
    b = browsers.new()
    login(b, site.base, nurse, "/ward")
    nhs = itg.nhs_number()
    b.find_element(By.ID, "flag-toggle").click()
    b.find_element(By.ID, "f-nhs_number").send_keys(nhs)
    b.find_element(By.ID, "f-family_name").send_keys("Other" + rand())
    b.find_element(By.ID, "f-given_name").send_keys("Jo")
    set_value(b, "f-birth_date", "1950-01-02")
    b.find_element(By.ID, "f-bed").send_keys("3")
    Select(b.find_element(By.ID, "f-pathway")).select_by_value("0")
    revoke_sessions(database, nurse)
    b.execute_script("document.getElementById('flag-form').requestSubmit();")
    wait_for(lambda: dialog_open(b), timeout=10, message="sign-in dialog")
    b.find_element(By.ID, "signin-name").clear()
    b.find_element(By.ID, "signin-name").send_keys(other.name)
    b.find_element(By.ID, "signin-password").send_keys(PASSWORD)
    b.find_element(By.ID, "signin-submit").click()
    wait_for(lambda: "not sent" in b.find_element(By.ID, "signin-error").text, message="not sent")
    wait_for(lambda: b.find_elements(By.ID, "f-nhs_number")
             and b.find_element(By.ID, "f-nhs_number").get_attribute("value") == "",
             timeout=10, message="the page starts afresh for the other nurse")
    assert database.sql(f"SELECT count(*) FROM patients WHERE nhs_number = '{nhs}'") == [["0"]]


def test_idle_page_warns_then_signs_out(idle_site, database, browsers):
    site = idle_site
    ward = "BSI" + rand(3).upper()
    itg.ensure_ward(database, ward)
    nurse = itg.make_user(database, "nurse", [ward], password=PASSWORD)
    b = browsers.new()
    login(b, site.base, nurse, "/ward")

    def warning():
        w = b.find_elements(By.ID, "session-warning")
        return w[0] if w and w[0].is_displayed() else None

    # -- before the session can idle out, the page warns, with a way to stay
    wait_for(warning, timeout=15, message="idle warning")
    assert "signed out in" in warning().text
    assert live_state(b) == "live"
    screenshot(b, "ward-idle-warning")
    b.find_element(By.ID, "session-stay").click()
    wait_for(lambda: warning() is None, timeout=5, message="warning gone after staying")
    # -- left alone: warned again, then signed out (said at once, over the page)
    wait_for(warning, timeout=15, message="idle warning again")
    wait_for(lambda: dialog_open(b), timeout=30, message="signed out after idling")
    assert "not used" in b.find_element(By.ID, "signin-text").text
    assert live_state(b) == "signed-out"
    r = site.daemon.get("/api/v1/me", cookies={c["name"]: c["value"] for c in b.get_cookies()})
    assert r.status_code == 401  # the server agrees: the session has ended

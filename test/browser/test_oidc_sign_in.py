"""Issue 20: a person signs in through the trust's identity provider in a real browser.

The sign-in page shows the provider's button; clicking it goes to the provider (the test
OpenID provider, test/oidc/provider.mjs), whose login form the person fills in; the
browser comes back signed in to the user's own screen.  Signing out sends the browser
through the provider's end-session page.
"""
import pytest
from selenium.webdriver.common.by import By

from browser_util import _load, TOP, itg, screenshot, wait_for

oidc = _load("cb_oidc_util", TOP / "test" / "integration" / "oidc_util.py")


@pytest.fixture(scope="module")
def idp_site(database):
    cb_port, idp_port = oidc.free_port(), oidc.free_port()
    base = f"http://127.0.0.1:{cb_port}"
    idp = oidc.Provider(idp_port, f"{base}/api/v1/oidc/callback", f"{base}/login")
    d = itg.start_daemon(database.url, env=oidc.daemon_env(idp, cb_port))
    yield idp, d
    itg.stop_daemon_clean(d)
    idp.stop()


def test_sign_in_through_the_provider(idp_site, database, browsers):
    idp, d = idp_site
    nurse = itg.make_user(database, "nurse", wards=["OIDCB1"])
    subject = f"nurse-{itg.uuid_hex()}"
    itg.cli(database, "user", "link", "--name", nurse.name, "--subject", subject)

    b = browsers.new()
    b.get(d.base + "/login")
    button = wait_for(lambda: b.find_element(By.ID, "oidc-login"), message="provider button")
    wait_for(lambda: button.is_displayed(), message="provider button shown")
    assert button.text == "Sign in with NHS Care Identity"
    screenshot(b, "login-with-provider")
    button.click()
    # the provider's own login form
    wait_for(lambda: b.current_url.startswith(idp.issuer), message="at the provider")
    field = wait_for(lambda: b.find_element(By.NAME, "login"), message="provider login form")
    field.send_keys(subject)
    b.find_element(By.NAME, "password").send_keys("any password")
    b.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(lambda: b.current_url == d.base + "/ward", timeout=15, message="back on the ward",
             detail=lambda: b.current_url)
    wait_for(lambda: nurse.name in b.find_element(By.ID, "who").text, message="signed in")
    screenshot(b, "ward-after-provider-sign-in")

    # sign out: through the provider's end-session page
    b.find_element(By.ID, "logout").click()
    wait_for(lambda: b.current_url.startswith(idp.issuer + "/session/end"), timeout=10,
             message="provider sign-out page", detail=lambda: b.current_url)
    b.get(d.base + "/ward")
    wait_for(lambda: b.current_url.endswith("/login"), message="signed out of carebridge")


def test_refused_sign_in_is_explained(idp_site, database, browsers):
    idp, d = idp_site
    b = browsers.new()
    b.get(d.base + "/login?error=unknown_user")
    msg = wait_for(lambda: b.find_element(By.ID, "login-error"), message="error shown")
    wait_for(lambda: msg.is_displayed() and "not set up in carebridge" in msg.text,
             message="reason explained")


def test_provider_user_signs_in_again_in_a_popup(idp_site, database, browsers):
    """Issue 16: a provider user's session ends mid-work; the page keeps what was typed and
    offers the provider's sign-in in a window of its own; once back, the page carries on."""
    idp, d = idp_site
    nurse = itg.make_user(database, "nurse", wards=["OIDCB2"])
    subject = f"nurse-{itg.uuid_hex()}"
    itg.cli(database, "user", "link", "--name", nurse.name, "--subject", subject)
    b = browsers.new()
    b.get(d.base + "/login")
    button = wait_for(lambda: b.find_element(By.ID, "oidc-login"), message="provider button")
    wait_for(lambda: button.is_displayed(), message="provider button shown")
    button.click()
    field = wait_for(lambda: b.find_element(By.NAME, "login"), message="provider login form")
    field.send_keys(subject)
    b.find_element(By.NAME, "password").send_keys("any password")
    b.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(lambda: b.current_url == d.base + "/ward", timeout=15, message="on the ward")
    wait_for(lambda: b.find_element(By.ID, "live").get_attribute("data-state") == "live",
             timeout=10, message="live")
    b.find_element(By.ID, "flag-toggle").click()
    b.find_element(By.ID, "f-family_name").send_keys("Halfway")
    main = b.current_window_handle

    database.sql("UPDATE tokens SET revoked_at = now() WHERE kind = 'session' AND revoked_at IS NULL"
                 f" AND user_id = (SELECT id FROM users WHERE name = '{nurse.name}')")
    dlg = wait_for(lambda: b.find_element(By.ID, "signin-dialog"), timeout=15, message="dialog")
    wait_for(lambda: dlg.get_attribute("open") is not None, message="dialog open")
    oidc_button = wait_for(lambda: b.find_element(By.ID, "signin-oidc-button"), message="provider")
    wait_for(lambda: oidc_button.is_displayed(), message="provider button in the dialog")
    screenshot(b, "ward-signed-out-provider")
    oidc_button.click()
    wait_for(lambda: len(b.window_handles) == 2 or dlg.get_attribute("open") is None, timeout=10,
             message="the sign-in window")
    # the provider may remember the person (the window signs in and is closed by itself at once),
    # or show its form again
    others = [h for h in b.window_handles if h != main]
    if others:
        try:
            b.switch_to.window(others[0])
            field = wait_for(lambda: b.find_element(By.NAME, "login"), timeout=5, message="login")
            field.send_keys(subject)
            b.find_element(By.NAME, "password").send_keys("any password")
            b.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        except Exception:
            pass  # the window was closed once signed in
    b.switch_to.window(main)
    wait_for(lambda: dlg.get_attribute("open") is None, timeout=20, message="signed in again",
             detail=lambda: b.find_element(By.ID, "signin-dialog").text)
    wait_for(lambda: len(b.window_handles) == 1, timeout=5, message="the sign-in window closed")
    assert b.find_element(By.ID, "f-family_name").get_attribute("value") == "Halfway"
    wait_for(lambda: b.find_element(By.ID, "live").get_attribute("data-state") == "live",
             timeout=10, message="live again")

"""Helpers for the browser tests: the pages in real headless Chromium.

The daemon and the private PostgreSQL come from test/integration/conftest.py
(loaded here under another module name, so both suites can run in one pytest
session), the HL7 client from test/integration/hl7_util.py.  Browsers are Debian's chromium driven by Debian's chromium-driver
through python3-selenium; each one gets a fresh profile, so each has its own
session cookie.  Screenshots go to build/screenshots/.
"""
import importlib.util
import os
import pathlib
import shutil
import tempfile
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
TOP = HERE.parents[1]
SCREENSHOTS = TOP / "build" / "screenshots"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


itg = _load("cb_integration_conftest", TOP / "test" / "integration" / "conftest.py")
hl7 = _load("cb_hl7_util", TOP / "test" / "integration" / "hl7_util.py")  # MLLP client, ADT builder

CHROMIUM = os.environ.get("CB_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CB_CHROMEDRIVER", "/usr/bin/chromedriver")

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    HAVE_SELENIUM = True
except ImportError:  # pragma: no cover - scripts/bootstrap installs it
    HAVE_SELENIUM = False


def _require_browser():
    if not HAVE_SELENIUM:
        pytest.skip("python3-selenium is not installed (scripts/bootstrap installs it)")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            pytest.skip(f"{path} is missing (scripts/bootstrap installs chromium and chromium-driver)")


class Browsers:
    """Start headless Chromium instances; quits them all at teardown."""

    def __init__(self):
        self.drivers = []
        self.dirs = []

    def new(self, width=1366, height=768):
        _require_browser()
        profile = tempfile.mkdtemp(prefix="cb-chromium-")
        self.dirs.append(profile)
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--no-first-run", "--disable-sync", "--disable-extensions",
                    "--disable-features=Translate,MediaRouter,OptimizationHints",
                    "--disable-background-timer-throttling",
                    "--disable-renderer-backgrounding",
                    "--disable-backgrounding-occluded-windows",
                    f"--window-size={width},{height}", f"--user-data-dir={profile}"):
            opts.add_argument(arg)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
        driver.set_page_load_timeout(30)
        driver.set_script_timeout(60)
        self.drivers.append(driver)
        return driver

    def close(self):
        for d in self.drivers:
            try:
                d.quit()
            except Exception:
                pass
        for p in self.dirs:
            shutil.rmtree(p, ignore_errors=True)


class Site:
    def __init__(self, url, env):
        self.url = url
        self.env = dict(env)
        self.tmp = tempfile.mkdtemp(prefix="cb-site-")
        self.env["CAREBRIDGE_MLLP_PORT_FILE"] = os.path.join(self.tmp, "mllp_port")
        self.daemon = itg.start_daemon(url, env=self.env)

    @property
    def base(self):
        return self.daemon.base

    @property
    def mllp_port(self):
        """The HL7 listener's port (a free one, written at start like the HTTP port)."""
        with open(self.env["CAREBRIDGE_MLLP_PORT_FILE"]) as f:
            return int(f.read().strip())

    def restart(self):
        """Stop the daemon cleanly and start a new one on the same port."""
        port = self.daemon.port
        itg.stop_daemon_clean(self.daemon)
        env = dict(self.env)
        env["CAREBRIDGE_LISTEN_PORT"] = str(port)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.daemon = itg.start_daemon(self.url, env=env)
                return
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def close(self):
        if self.daemon is not None:
            itg.stop_daemon_clean(self.daemon)
            self.daemon = None
        shutil.rmtree(self.tmp, ignore_errors=True)


def screenshot(driver, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def wait_for(fn, timeout=5.0, interval=0.05, message="condition", detail=None):
    """Poll fn until it returns a true value; returns it, or fails the test."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # stale elements while the page re-renders
            last_exc = e
        time.sleep(interval)
    extra = ""
    if detail is not None:
        try:
            extra = "; " + str(detail())
        except Exception as e:
            extra = f"; (detail failed: {e!r})"
    raise AssertionError(f"timed out after {timeout}s waiting for {message}"
                         + (f" (last error: {last_exc!r})" if last_exc else "") + extra)


def browser_errors(driver):
    """Severe console messages (CSP violations and script errors appear here)."""
    try:
        return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    except Exception:
        return []

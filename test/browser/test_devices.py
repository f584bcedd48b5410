"""Every page on a phone, a tablet and a desktop (issue 16, "Phones and tablets"), checked by
measuring the page in real headless Chromium, and by axe-core for accessibility.

Each page is shown at 390x844 (a phone), 768x1024 (a tablet, portrait) and 1366x768 (a desktop),
with a ward of realistic data: long names, beds like "Bay 3 Bed 12", every task chip, a patient
with no criteria to reside, delayed, with a barrier and an overdue task, held and not yet held
referrals to the care transfer hub (issue 15; they were Care Act assessments), and the hub's own
page for a partner (a hub coordinator).  The viewport is set through the DevTools protocol
(Emulation.setDeviceMetricsOverride, as a phone: mobile=true), so the page's meta viewport
applies as on the device.

Measured on every page: no sideways page scroll (document.documentElement.scrollWidth is at most
the viewport's width), no table scrolling sideways inside its box on a phone (rows are cards
there), buttons and form controls at least 44 px each way (touch targets), body text on the ward
board and the queue at least 16 px and the task chips too (readable from a step back), the
dialogs inside the viewport with their buttons.  axe-core (test/axe, installed by
scripts/bootstrap from npm) is injected and must report no violation, on every page, at each of
the three sizes, and with the update dialog open.
"""
import datetime
import pathlib
import uuid

import pytest
from selenium.webdriver.common.by import By

from browser_util import TOP, itg, screenshot, wait_for
from test_screens import PASSWORD, login, make_delayed, rand

AXE = TOP / "test" / "axe" / "node_modules" / "axe-core" / "axe.min.js"

VIEWPORTS = {
    "phone": (390, 844, True),
    "tablet": (768, 1024, True),
    "desktop": (1366, 768, False),
}

LONG_NAMES = [("Featherstonehaugh-Cholmondeley", "Marjorie-Anne"), ("Okonkwo-Abernethy", "Chukwuemeka"),
              ("Smith", "Jo"), ("Llewellyn-Bowen", "Gwendolyn"), ("Van der Westhuizen", "Pieter"),
              ("Nguyen", "Thi Thu Huong")]


def iso_days_ago(days):
    return (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")


def set_viewport(driver, name):
    w, h, mobile = VIEWPORTS[name]
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": mobile})
    return w, h


def loaded(driver, page):
    """Wait until the page has drawn its data."""
    if page == "/dashboard":
        wait_for(lambda: driver.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "true",
                 timeout=15, message="dashboard loaded")
    elif page == "/ward":
        wait_for(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#board-body tr [data-task]")) > 3,
                 timeout=10, message="ward board rows with their tasks")
    elif page == "/hub":
        wait_for(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#lanes article.ref-card")) > 3,
                 timeout=10, message="the hub's referral cards")
    elif page == "/queue":
        wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#queue-body tr")
                 and driver.find_elements(By.CSS_SELECTOR, "#held-body tr"),
                 timeout=10, message="queue rows")
    else:
        wait_for(lambda: driver.find_element(By.ID, "name").is_displayed(), message="login form")


def show(driver, base, page, viewport):
    w, h = set_viewport(driver, viewport)
    driver.get(base + page)
    loaded(driver, page)
    return w, h


MEASURE = """
const w = arguments[0];
const de = document.documentElement;
const out = {scrollWidth: de.scrollWidth, innerWidth: window.innerWidth, clientWidth: de.clientWidth,
             wideBoxes: [], smallTargets: [], offscreen: []};
function visible(e) {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden';
}
function name(e) {
    return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
        (e.className && typeof e.className === 'string' ? '.' + e.className.trim().replace(/\\s+/g, '.') : '') +
        ' "' + (e.textContent || e.value || '').trim().slice(0, 30) + '"';
}
/* boxes that scroll sideways inside themselves (a table wider than its panel) */
for (const e of document.querySelectorAll('.table-wrap, section.panel, dialog[open], main')) {
    if (visible(e) && e.scrollWidth > e.clientWidth + 1)
        out.wideBoxes.push(name(e) + ' ' + e.scrollWidth + '>' + e.clientWidth);
}
/* touch targets: buttons, button-like links, form controls (not check boxes and radios,
   whose label is the target) */
const targets = document.querySelectorAll(
    'main button, header button, a.button, select, textarea, ' +
    'input:not([type=checkbox]):not([type=radio]):not([type=hidden]), dialog[open] button');
for (const e of targets) {
    if (!visible(e) || e.closest('dialog:not([open])'))
        continue;
    const r = e.getBoundingClientRect();
    if (r.height < 43.5 || r.width < 43.5)
        out.smallTargets.push(name(e) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
}
/* anything visible that starts or ends outside the page's width */
for (const e of document.querySelectorAll('main *, header *')) {
    if (!visible(e) || e.closest('.table-wrap') && getComputedStyle(e.closest('.table-wrap')).overflowX !== 'visible'
        && e.closest('.table-wrap').scrollWidth > e.closest('.table-wrap').clientWidth)
        continue;
    if (e.classList.contains('visually-hidden') || e.closest('.visually-hidden, .skip'))
        continue;
    /* a card table's head, kept (clipped to 1 px) for screen readers */
    const head = e.closest('thead');
    if (head && getComputedStyle(head).position === 'absolute' && getComputedStyle(head).clip !== 'auto')
        continue;
    const r = e.getBoundingClientRect();
    if (r.right > w + 0.5 || r.left < -0.5)
        out.offscreen.push(name(e) + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
}
out.offscreen = out.offscreen.slice(0, 10);
return out;
"""


def assert_fits(driver, page, viewport):
    w = VIEWPORTS[viewport][0]
    m = driver.execute_script(MEASURE, w)
    where = f"{page} at {viewport}"
    assert m["scrollWidth"] <= w and m["scrollWidth"] <= m["innerWidth"], (where, m)
    assert not m["offscreen"], (where, m["offscreen"])
    if viewport != "desktop":
        assert not m["wideBoxes"], (where, m["wideBoxes"])
    assert not m["smallTargets"], (where, m["smallTargets"])


def font_px(driver, css):
    """The computed font sizes (px) of every visible element matching css."""
    return driver.execute_script("""
        return Array.from(document.querySelectorAll(arguments[0]))
            .filter(e => e.getBoundingClientRect().height > 0)
            .map(e => [e.className || e.tagName, parseFloat(getComputedStyle(e).fontSize)]);
    """, css)


def assert_text_16(driver, page, viewport, css):
    sizes = font_px(driver, css)
    assert sizes, (page, css)
    small = [s for s in sizes if s[1] < 16]
    assert not small, (page, viewport, css, small[:5])


def assert_in_viewport(driver, css, viewport):
    w, h, _ = VIEWPORTS[viewport]
    r = driver.execute_script("""
        const d = document.querySelector(arguments[0]);
        const r = d.getBoundingClientRect();
        const buttons = Array.from(d.querySelectorAll('button')).filter(b => b.getBoundingClientRect().height > 0)
            .map(b => { b.scrollIntoView({block: 'nearest'}); const x = b.getBoundingClientRect();
                        return [b.id || b.textContent, x.left, x.top, x.right, x.bottom]; });
        return {left: r.left, top: r.top, right: r.right, bottom: r.bottom,
                innerWidth: innerWidth, innerHeight: innerHeight, buttons: buttons};
    """, css)
    assert r["left"] >= 0 and r["top"] >= 0 and r["right"] <= w and r["bottom"] <= h, (css, viewport, r)
    for name, left, top, right, bottom in r["buttons"]:
        assert left >= 0 and top >= 0 and right <= w and bottom <= h, (css, viewport, name, r)


def axe_violations(driver, context=None):
    """Run axe-core in the page; the violations as (rule, impact, [targets])."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run scripts/bootstrap (npm ci in test/axe)")
    if not driver.execute_script("return typeof window.axe === 'object';"):
        driver.execute_script(AXE.read_text())
    res = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(arguments[0] || document, {resultTypes: ['violations']})
            .then(r => done(r.violations.map(v => [v.id, v.impact, v.nodes.map(n => n.target.join(' ')).slice(0, 5)])))
            .catch(e => done([['axe-error', String(e), []]]));
    """, context)
    return res


# ---- the data: a ward as it is mid-morning -----------------------------------------------------

@pytest.fixture(scope="module")
def ward_data(site, database):
    ward = "DV" + rand(4).upper()
    itg.ensure_ward(database, ward, name="Elderly care (Featherstone wing)", beds=28)
    nurse = itg.make_user(database, "nurse", [ward], password=PASSWORD)
    sw = itg.make_user(database, "social_worker", password=PASSWORD)
    bm = itg.make_user(database, "bed_manager", password=PASSWORD)
    # the ward's care transfer hub (issue 15), and one of its coordinators: a partner user
    # (made as a trust user by the CLI, then moved, as test_hub.py does)
    hub_id = str(uuid.uuid4())
    database.sql(f"INSERT INTO organisations (id, code, name, kind)"
                 f" VALUES ('{hub_id}', 'DVH{rand(6).upper()}', 'North and West Care Transfer Hub', 'hub')")
    database.sql(f"UPDATE wards SET hub_organisation_id = '{hub_id}' WHERE code = '{ward}'")
    hub = itg.make_user(database, "social_worker", password=PASSWORD)
    database.sql(f"UPDATE users SET role = 'hub_coordinator', organisation_id = '{hub_id}'"
                 f" WHERE name = '{hub.name}'")
    hub.role = "hub_coordinator"
    eps = []
    for i, (family, given) in enumerate(LONG_NAMES):
        eps.append(itg.admit(site.daemon, nurse, ward, family_name=family, given_name=given,
                             bed=f"Bay {i % 3 + 1} Bed {10 + i}", admitted_at=iso_days_ago(2 + 4 * i),
                             expected_discharge_date=(datetime.date.today()
                                                      + datetime.timedelta(days=i)).isoformat(),
                             pathway=i % 4))
    # one NCTR and delayed, with a barrier and an overdue ward task
    make_delayed(database, eps[0]["id"], days=3)
    r = site.daemon.post(f"/api/v1/episodes/{eps[0]['id']}/barriers",
                         json={"reason": "p3_awaiting_care_home", "owner": "Social work"},
                         headers=nurse.auth)
    assert r.status_code == 201, r.text
    make_delayed(database, eps[3]["id"], days=9)
    database.sql(f"""UPDATE tasks SET due_at = now() - interval '5 hours',
                                      overdue_at = now() - interval '4 hours'
                      WHERE episode_id IN ('{eps[0]['id']}', '{eps[3]['id']}')
                        AND discipline IN ('ward', 'ot')""")
    # two referrals held by the social worker: "my cases" and "held by the team"
    for ep in eps[1:3]:
        rid = ep["referral"]["id"]
        cur = site.daemon.get(f"/api/v1/referrals/{rid}", headers=sw.auth).json()
        r = site.daemon.post(f"/api/v1/referrals/{rid}/hold",
                             headers={**sw.auth, "If-Match": f'"{cur["version"]}"'})
        assert r.status_code == 200, r.text
    return {"ward": ward, "nurse": nurse, "sw": sw, "bm": bm, "hub": hub, "eps": eps}


@pytest.fixture(scope="module")
def signed_in(site, browsers, ward_data):
    """One browser per role, signed in; one never signed in for /login."""
    out = {"/login": browsers.new()}
    for page, who in (("/ward", "nurse"), ("/queue", "sw"), ("/dashboard", "bm"), ("/hub", "hub")):
        b = browsers.new()
        login(b, site.base, ward_data[who], page)
        out[page] = b
    return out


PAGES = ["/login", "/ward", "/queue", "/dashboard", "/hub"]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("page", PAGES)
def test_page_fits_the_screen(site, signed_in, page, viewport):
    b = signed_in[page]
    show(b, site.base, page, viewport)
    assert_fits(b, page, viewport)
    if page in ("/ward", "/queue"):
        assert_text_16(b, page, viewport, "tbody td, tbody th")
    if page == "/ward":
        assert_text_16(b, page, viewport, "#board-body .chip")
    screenshot(b, f"{page.strip('/')}-{viewport}")


@pytest.mark.parametrize("viewport", ["phone", "tablet"])
def test_rows_become_cards_on_narrow_screens(site, signed_in, viewport):
    for page, body in (("/ward", "board-body"), ("/queue", "queue-body"), ("/dashboard", "nctr-body")):
        b = signed_in[page]
        show(b, site.base, page, viewport)
        wait_for(lambda: b.find_elements(By.CSS_SELECTOR, f"#{body} tr"), message=f"{body} rows")
        info = b.execute_script("""
            const tr = document.querySelector('#' + arguments[0] + ' tr');
            const cells = Array.from(tr.children).filter(c => c.getBoundingClientRect().height > 0);
            return {display: getComputedStyle(tr).display, width: tr.getBoundingClientRect().width,
                    labels: cells.map(c => getComputedStyle(c, '::before').content)};
        """, body)
        narrow = viewport == "phone" or page == "/ward"
        if narrow:
            # a card: the row is a block, each cell says what it is (its column's heading)
            assert info["display"] != "table-row", (page, viewport, info)
            labelled = [x for x in info["labels"] if x not in ("none", "normal", '""')]
            assert len(labelled) >= 3, (page, viewport, info)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_dialogs_are_on_screen(site, signed_in, ward_data, viewport):
    b = signed_in["/ward"]
    show(b, site.base, "/ward", viewport)
    eid = ward_data["eps"][0]["id"]
    # the row's Update button (task chips are buttons too since the chip menu, issue 16)
    for button, dialog in ((".row-actions button:not(.move-bed):not(.transfer):not(.discharge)", "#edit"),
                           ("button.discharge", "#discharge"), ("button.move-bed", "#move")):
        btn = b.find_element(By.CSS_SELECTOR, f"#board-body tr[data-id='{eid}'] {button}")
        b.execute_script("arguments[0].scrollIntoView({block: 'center'});", btn)
        btn.click()
        wait_for(lambda: b.find_element(By.CSS_SELECTOR, dialog).get_attribute("open") is not None,
                 message=f"{dialog} open")
        wait_for(lambda: b.find_elements(By.CSS_SELECTOR, "#edit-tasks tr") or dialog != "#edit",
                 message="the dialog's tasks")
        assert_in_viewport(b, dialog, viewport)
        assert_fits(b, "/ward " + dialog, viewport)
        if dialog == "#edit":
            screenshot(b, f"ward-update-{viewport}")
            v = axe_violations(b)
            assert v == [], ("/ward update dialog", viewport, v)
        b.execute_script("document.querySelector(arguments[0]).close();", dialog)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("page", PAGES)
def test_axe_finds_no_violation(site, signed_in, page, viewport):
    b = signed_in[page]
    show(b, site.base, page, viewport)
    v = axe_violations(b)
    assert v == [], (page, viewport, v)

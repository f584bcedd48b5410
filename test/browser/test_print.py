"""The printable board-round sheet (issue 16): the ward's patients, their criteria-to-reside
state, open barriers and the tasks due, with the time it was printed, on A4, for the handover
when the network is down.  Checked on screen (/ward?print=1), under print media (CDP
Emulation.setEmulatedMedia) where no control shows and the sheet fits the width of an A4
landscape page, and from the board's "Print board-round sheet" button.
"""
import base64

from selenium.webdriver.common.by import By

from browser_util import itg, screenshot, wait_for
from test_dashboard import add_barrier, ago, review
from test_screens import PASSWORD, login, make_delayed, rand

# A4 landscape, less 10 mm margins each side, at 96 px to the inch
A4_WIDTH_PX = round((297 - 20) / 25.4 * 96)


def visible_controls(b):
    return b.execute_script("""
        return Array.from(document.querySelectorAll('button, a.button, select, input, .topbar .live'))
            .filter(e => e.getBoundingClientRect().width > 0 && getComputedStyle(e).visibility !== 'hidden')
            .map(e => e.id || e.textContent.trim());
    """)


def test_board_round_sheet(site, database, browsers):
    ward = "PR" + rand(4).upper()
    itg.ensure_ward(database, ward, name="Print ward", beds=20)
    nurse = itg.make_user(database, "nurse", [ward], password=PASSWORD)
    a = itg.admit(site.daemon, nurse, ward, family_name="Sheet" + rand(), given_name="Ann", bed="3",
                  admitted_at=ago(days=5), pathway=0)  # no referral: its barriers are the ward's (issue 15)
    c = itg.admit(site.daemon, nurse, ward, family_name="Calm" + rand(), given_name="Cy", bed="12",
                  admitted_at=ago(days=1))
    review(site, nurse, a["id"])
    make_delayed(database, a["id"], days=2)
    add_barrier(site, nurse, a["id"], "p3_awaiting_care_home", owner="Social work")
    add_barrier(site, nurse, a["id"], "transport")
    task = database.sql(f"""UPDATE tasks SET due_at = now() - interval '3 hours',
                                             overdue_at = now() - interval '2 hours'
                             WHERE id = (SELECT id FROM tasks WHERE episode_id = '{a['id']}'
                                          AND discipline = 'ward' ORDER BY id LIMIT 1)
                             RETURNING title""")[0][0]

    b = browsers.new()
    login(b, site.base, nurse, "/ward")
    b.get(site.base + "/ward?print=1")
    wait_for(lambda: b.find_element(By.TAG_NAME, "body").get_attribute("data-sheet") == "ready",
             timeout=10, message="sheet built")
    sheet = b.find_element(By.ID, "print-sheet")
    assert sheet.is_displayed()
    assert not b.find_element(By.ID, "board").is_displayed()  # the sheet instead of the board
    assert ward in b.find_element(By.ID, "ps-title").text
    printed = b.find_element(By.ID, "ps-printed")
    assert printed.get_attribute("datetime") and printed.text
    assert "Printed" in b.find_element(By.CSS_SELECTOR, ".ps-stamp").text
    rows = b.find_elements(By.CSS_SELECTOR, "#ps-body tr")
    assert [r.get_attribute("data-id") for r in rows] == [a["id"], c["id"]]  # bed order
    row = f"#ps-body tr[data-id='{a['id']}']"
    t = b.find_element(By.CSS_SELECTOR, row).text
    assert a["patient"]["family_name"].upper() + ", Ann" in t
    nctr = b.find_element(By.CSS_SELECTOR, row + " td[data-col='nctr']").text
    assert "NCTR" in nctr and "since " in nctr and "delayed 1 day" in nctr  # as the board counts it
    barriers = b.find_element(By.CSS_SELECTOR, row + " td[data-col='barriers']").text
    assert "★ Pathway 3: awaiting" in barriers and "Social work" in barriers
    assert "transport" in barriers.lower()
    tasks = b.find_element(By.CSS_SELECTOR, row + " td[data-col='tasks']").text
    assert task in tasks and "OVERDUE" in tasks and "due " in tasks
    assert "Meets criteria" in b.find_element(
        By.CSS_SELECTOR, f"#ps-body tr[data-id='{c['id']}'] td[data-col='nctr']").text
    screenshot(b, "ward-print-sheet")

    # -- on paper: no control, no header, the sheet alone, as wide as A4 landscape at most
    b.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    b.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": A4_WIDTH_PX, "height": 700, "deviceScaleFactor": 1, "mobile": False})
    assert b.execute_script("return matchMedia('print').matches;")
    assert visible_controls(b) == [], visible_controls(b)
    assert not b.find_element(By.CSS_SELECTOR, ".topbar").is_displayed()
    assert sheet.is_displayed() and task in sheet.text
    fit = b.execute_script("""
        const s = document.getElementById('print-sheet');
        return [document.documentElement.scrollWidth, s.getBoundingClientRect().right];""")
    assert fit[0] <= A4_WIDTH_PX and fit[1] <= A4_WIDTH_PX, fit
    pdf = b.execute_cdp_cmd("Page.printToPDF", {"paperWidth": 11.69, "paperHeight": 8.27,
                                                "preferCSSPageSize": True})
    assert base64.b64decode(pdf["data"]).startswith(b"%PDF")
    b.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    b.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})

    # -- from the board: the button builds the sheet and opens the print dialog
    b.get(site.base + "/ward")
    wait_for(lambda: b.find_elements(By.CSS_SELECTOR, f"#board-body tr[data-id='{a['id']}']"),
             message="the board")
    assert not b.find_element(By.ID, "print-sheet").is_displayed()
    # the stand-in for the print dialog notes what would be printed: the sheet alone
    b.execute_script("""window.cbPrinted = null; window.print = function () {
        window.cbPrinted = [document.body.getAttribute('data-sheet'),
                            document.getElementById('ps-body').textContent]; };""")
    b.find_element(By.ID, "print-open").click()
    printed = wait_for(lambda: b.execute_script("return window.cbPrinted;"), message="print opened")
    assert printed[0] == "ready" and a["patient"]["family_name"].upper() in printed[1]
    # afterwards the board is as it was; printed with Ctrl+P it shows no control either
    assert b.find_element(By.ID, "board").is_displayed()
    assert not b.find_element(By.ID, "print-sheet").is_displayed()
    b.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert visible_controls(b) == [], visible_controls(b)
    assert b.find_element(By.ID, "board").is_displayed()
    b.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})

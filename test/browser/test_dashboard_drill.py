"""The dashboard drills down (issue 16): overdue tasks open to the patients, wards and tasks to
chase; the NCTR (delayed) rows show the expected discharge date, pathway, ready since, a
referral column (empty until referrals exist) and the open tasks; a ward filter; a wall display
(/dashboard?wall=1) with large type and no controls that still updates live.
"""
import datetime

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser_util import itg, screenshot, wait_for
from test_dashboard import ago, kpi, no_errors, open_dashboard, review, text
from test_screens import PASSWORD, login, rand


@pytest.fixture(scope="module")
def two_wards(site, database):
    a, b = "DA" + rand(4).upper(), "DB" + rand(4).upper()
    itg.ensure_ward(database, a, name="Acute medicine", beds=20)
    itg.ensure_ward(database, b, name="Surgery", beds=20)
    nurse = itg.make_user(database, "nurse", [a, b])
    bm = itg.make_user(database, "bed_manager", password=PASSWORD)
    edd = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    pa = itg.admit(site.daemon, nurse, a, family_name="Chase" + rand(), given_name="Ada", bed="7",
                   admitted_at=ago(days=6), pathway=2, expected_discharge_date=edd)
    pb = itg.admit(site.daemon, nurse, b, family_name="Other" + rand(), given_name="Bo", bed="2",
                   admitted_at=ago(days=4), pathway=1)
    review(site, nurse, pa["id"])
    review(site, nurse, pb["id"])
    # one ward task of the first patient overdue, as the chaser would have marked it
    task = database.sql(f"""UPDATE tasks SET due_at = now() - interval '3 hours',
                                             overdue_at = now() - interval '2 hours'
                             WHERE id = (SELECT id FROM tasks WHERE episode_id = '{pa['id']}'
                                          AND discipline = 'ward' ORDER BY id LIMIT 1)
                             RETURNING id, title""")[0]
    ntasks = int(database.sql(f"SELECT count(*) FROM tasks WHERE episode_id = '{pa['id']}'"
                              f" AND status NOT IN ('completed', 'cancelled')")[0][0])
    return {"a": a, "b": b, "nurse": nurse, "bm": bm, "pa": pa, "pb": pb, "edd": edd,
            "task": task, "ntasks": ntasks}


def test_overdue_tasks_open_to_the_list_to_chase(site, browsers, two_wards):
    d = two_wards
    b = open_dashboard(browsers, site, d["bm"])
    assert b.find_element(By.ID, "chase-panel").get_attribute("hidden") is not None
    btn = wait_for(lambda: b.find_element(By.CSS_SELECTOR,
                                          "#overdue-body tr[data-discipline='ward'] button.drill"),
                   message="the ward nursing count is a button")
    btn.click()
    row = f"#chase-body tr[data-task='{d['task'][0]}']"
    wait_for(lambda: b.find_elements(By.CSS_SELECTOR, row), message="the overdue task listed")
    assert b.switch_to.active_element.get_attribute("id") == "chase-title"
    t = text(b, row)
    assert d["pa"]["patient"]["family_name"].upper() + ", Ada" in t
    assert text(b, row + " td[data-col='ward']") == d["a"] + " · 7"
    assert text(b, row + " td[data-col='task']") == d["task"][1]
    assert "overdue" in text(b, row + " td[data-col='due']")
    assert "Ward nursing" in text(b, "#chase-which")
    # every discipline from the KPI tile; closing returns the focus to it
    b.find_element(By.ID, "chase-all").click()
    wait_for(lambda: "every discipline" in text(b, "#chase-which"), message="every discipline")
    assert b.find_elements(By.CSS_SELECTOR, row)
    screenshot(b, "dashboard-chase")
    b.find_element(By.ID, "chase-close").click()
    assert b.find_element(By.ID, "chase-panel").get_attribute("hidden") is not None
    assert b.switch_to.active_element.get_attribute("id") == "chase-all"
    no_errors(b)


def test_nctr_rows_show_edd_pathway_ready_since_and_open_tasks(site, database, browsers, two_wards):
    d = two_wards
    b = open_dashboard(browsers, site, d["bm"])
    tr = f"#nctr-body tr[data-id='{d['pa']['id']}']"
    wait_for(lambda: text(b, tr), message="NCTR row")
    edd = datetime.date.fromisoformat(d["edd"])
    assert text(b, tr + " td[data-col='edd']") == f"{edd.day} {edd.strftime('%b')}"
    assert text(b, tr + " td[data-col='pathway']") == "2"
    assert b.find_element(By.CSS_SELECTOR, tr + " td[data-col='drd'] time").get_attribute("datetime")
    # the referral to the care transfer hub (issue 15): the one chip every screen shows
    assert b.find_element(By.CSS_SELECTOR, tr + " td[data-col='referral']").text == "Hub: not sent"
    heads = [h.get_attribute("textContent") for h in b.find_elements(By.CSS_SELECTOR, "#nctr thead th")]
    assert "Referral to the hub" in heads and "Open tasks" in heads and "Expected discharge" in heads
    # "N (M overdue)": every open task of the patient, counting those past their due time
    wait_for(lambda: text(b, tr + " td[data-col='open_tasks']").startswith(f"{d['ntasks']} ("),
             message="open tasks", detail=lambda: text(b, tr + " td[data-col='open_tasks']"))
    # a task completed elsewhere: one fewer, live (not the overdue one: the wall display's
    # test counts it)
    tid = database.sql(f"SELECT id FROM tasks WHERE episode_id = '{d['pa']['id']}'"
                       f" AND status NOT IN ('completed', 'cancelled') AND discipline = 'ward'"
                       f" AND id <> '{d['task'][0]}'"
                       f" ORDER BY id LIMIT 1")[0][0]
    r = site.daemon.patch(f"/api/v1/tasks/{tid}", json={"status": "completed"},
                          headers=d["nurse"].auth)
    assert r.status_code == 200, r.text
    wait_for(lambda: text(b, tr + " td[data-col='open_tasks']").split(" ")[0] == str(d["ntasks"] - 1),
             timeout=3, message="open tasks after one is completed",
             detail=lambda: text(b, tr + " td[data-col='open_tasks']"))
    no_errors(b)


def test_ward_filter(site, browsers, two_wards):
    d = two_wards
    b = open_dashboard(browsers, site, d["bm"])
    wait_for(lambda: b.find_elements(By.CSS_SELECTOR, f"#nctr-body tr[data-id='{d['pb']['id']}']"),
             message="both wards' patients")
    Select(b.find_element(By.ID, "ward-filter")).select_by_value(d["a"])
    wait_for(lambda: not b.find_elements(By.CSS_SELECTOR, f"#nctr-body tr[data-id='{d['pb']['id']}']"),
             message="the other ward's patient filtered out")
    assert b.find_elements(By.CSS_SELECTOR, f"#nctr-body tr[data-id='{d['pa']['id']}']")
    wards = [r.get_attribute("data-ward") for r in b.find_elements(By.CSS_SELECTOR, "#wards-body tr")]
    assert wards == [d["a"]]
    assert kpi(b, "k-nctr") == 1
    assert b.find_element(By.ID, "k-occupied").text == "1 / 20"
    assert b.current_url.endswith(f"/dashboard?ward={d['a']}")
    assert f"ward={d['a']}" in b.find_element(By.ID, "wall-link").get_attribute("href")
    # a reload keeps the ward
    b.refresh()
    wait_for(lambda: b.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "true",
             message="reloaded")
    assert b.find_element(By.ID, "ward-filter").get_attribute("value") == d["a"]
    assert kpi(b, "k-nctr") == 1
    Select(b.find_element(By.ID, "ward-filter")).select_by_value("")
    wait_for(lambda: b.find_elements(By.CSS_SELECTOR, f"#nctr-body tr[data-id='{d['pb']['id']}']"),
             message="all wards again")
    assert b.current_url.endswith("/dashboard")


def test_wall_display_large_no_controls_and_live(site, database, browsers, two_wards):
    d = two_wards
    b = browsers.new(1920, 1080)
    login(b, site.base, d["bm"], "/dashboard")
    b.get(site.base + f"/dashboard?wall=1&ward={d['a']}")
    wait_for(lambda: b.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "true",
             timeout=15, message="wall display loaded")
    wait_for(lambda: b.find_element(By.ID, "live").get_attribute("data-state") == "live",
             timeout=10, message="live")
    # nothing to press: no visible button, link, select or input
    controls = b.execute_script("""
        return Array.from(document.querySelectorAll('button, a, select, input'))
            .filter(e => e.getBoundingClientRect().width > 0)
            .map(e => e.id || e.textContent.trim());
    """)
    assert controls == [], controls
    assert b.find_element(By.ID, "wall-title").text == "Ward " + d["a"]
    # the overdue counts still read as numbers
    assert int(text(b, "#overdue-body tr[data-discipline='ward'] td.num")) >= 1
    size = lambda css: b.execute_script(  # noqa: E731
        "return parseFloat(getComputedStyle(document.querySelector(arguments[0])).fontSize);", css)
    assert size("#k-nctr") >= 48
    assert size(f"#nctr-body tr th") >= 24
    # still live: a new NCTR patient on the ward appears without a reload
    b.execute_script("window.cbNotReloaded = true;")
    pc = itg.admit(site.daemon, d["nurse"], d["a"], family_name="Wall" + rand(), given_name="Cy",
                   bed="9", admitted_at=ago(days=1))
    review(site, d["nurse"], pc["id"])
    wait_for(lambda: b.find_elements(By.CSS_SELECTOR, f"#nctr-body tr[data-id='{pc['id']}']"),
             timeout=3, message="new NCTR patient on the wall display")
    wait_for(lambda: kpi(b, "k-nctr") == 2, message="NCTR count on the wall")
    screenshot(b, "dashboard-wall")
    no_errors(b)

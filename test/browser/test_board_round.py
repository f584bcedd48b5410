"""The board round on the ward board, in real headless Chromium (issue 14).

A nurse walks her ward's patients in bed order (natural order: bed 2, 9, 10), records a
"meets criteria" review in two clicks, declares a patient NCTR and adds a barrier that she
makes primary, skips the third; the reviews and barriers are then read back through the API.
The rows show the NCTR state, the primary barrier and the "not reviewed since the last round"
marker, and the marker and barrier follow changes made in another session without a reload.

The daemon runs on a test clock that starts at the real time (so the browser's "today" is the
daemon's) with one board round three minutes later; moving the clock past it flags the
patients, as the chaser does at a real round.
"""
import datetime
import random
import string
import time
import zoneinfo

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from browser_util import Site, browser_errors, itg, screenshot, wait_for
from test_screens import PASSWORD, login, set_value

LONDON = zoneinfo.ZoneInfo("Europe/London")


def rand(n=6):
    return "".join(random.choice(string.ascii_lowercase) for _ in range(n))


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def clock(tmp_path_factory):
    """The test clock file and the one board round, a few minutes after the real time."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    round_at = (now + datetime.timedelta(minutes=3)).replace(second=0)
    path = str(tmp_path_factory.mktemp("clock") / "now")
    itg.set_clock(path, rfc3339(now))
    return {"path": path, "now": now, "round": round_at}


@pytest.fixture(scope="module")
def round_site(database, clock):
    env = {"CAREBRIDGE_SSE_RETRY": "300ms", "CAREBRIDGE_SSE_HEARTBEAT": "5s",
           "CAREBRIDGE_MLLP_PORT": "0",
           "CAREBRIDGE_TEST_CLOCK_FILE": clock["path"],
           "CAREBRIDGE_BOARD_ROUND_TIMES": clock["round"].astimezone(LONDON).strftime("%H:%M")}
    s = Site(database.url, env)
    yield s
    s.close()


def row(driver, eid):
    return driver.find_element(By.CSS_SELECTOR, f"#board-body tr[data-id='{eid}']")


def marked(driver, eid):
    return bool(row(driver, eid).find_elements(By.CSS_SELECTOR, "[data-review='overdue']"))


def tick(clock, seconds=3):
    """Move the test clock on.  The daemon re-reads the file every tick, so its "now" stays
    within a second after the file's time and may step back by one second: changes that must
    come later than earlier ones (a review after a review, a barrier closed after it opened)
    are made after the clock has moved on past them."""
    # The daemon's clock has run on from the last time written, by the real time since: on a
    # loaded machine that can be more than `seconds`, so step past it, never back before it.
    ran = time.monotonic() - clock.get("set", time.monotonic())
    clock["at"] += datetime.timedelta(seconds=max(seconds, int(ran) + 2))
    itg.set_clock(clock["path"], rfc3339(clock["at"]))
    clock["set"] = time.monotonic()
    time.sleep(1.5)


def round_title(driver):
    return driver.find_element(By.ID, "round-title").text


def test_board_round(round_site, database, clock, browsers):
    d = round_site.daemon
    ward = "BR" + rand(4).upper()
    itg.ensure_ward(database, ward, name="Board round ward", beds=20)
    nurse = itg.make_user(database, "nurse", [ward], password=PASSWORD)
    other = itg.make_user(database, "nurse", [ward])  # another session, through the API
    admitted = rfc3339(clock["now"] - datetime.timedelta(hours=2))
    # beds in natural order 2, 9, 10 (as text "10" < "2" < "9")
    pats = {}
    for key, bed in (("skip", "10"), ("meets", "2"), ("nctr", "9")):
        family = key.capitalize() + rand()
        pats[key] = itg.admit(d, nurse, ward, family_name=family, given_name="Pat", bed=bed,
                              admitted_at=admitted)
        pats[key]["name"] = family.upper() + ", Pat"
    reasons = d.get("/api/v1/reference/delay-reasons", headers=nurse.auth).json()["items"]
    criteria = d.get("/api/v1/reference/criteria", headers=nurse.auth).json()["items"]
    first, second = reasons[0], reasons[1]
    # the NCTR patient already waits on something: that barrier is primary
    r = d.post(f"/api/v1/episodes/{pats['nctr']['id']}/barriers",
               json={"reason": first["key"], "owner": "Ward"}, headers=other.auth)
    assert r.status_code == 201, r.text
    old_barrier = r.json()
    assert old_barrier["primary"] is True

    b = browsers.new(1366, 900)
    login(b, round_site.base, nurse, "/ward")
    for p in pats.values():
        wait_for(lambda: b.find_elements(By.CSS_SELECTOR, f"#board-body tr[data-id='{p['id']}']"),
                 message="the patients on the board")
        assert not marked(b, p["id"])
    b.execute_script("window.cbNotReloaded = true;")

    # -- the board round passes: every patient is flagged "not reviewed", on the open page too
    clock["at"] = clock["round"] + datetime.timedelta(minutes=1)
    itg.set_clock(clock["path"], rfc3339(clock["at"]))
    clock["set"] = time.monotonic()

    def flagged():
        return all(d.get(f"/api/v1/episodes/{p['id']}", headers=nurse.auth).json()["review_overdue"]
                   for p in pats.values())
    wait_for(flagged, timeout=30, interval=0.3, message="the chaser flags the patients")
    for p in pats.values():
        wait_for(lambda: marked(b, p["id"]), timeout=10,
                 message="the 'not reviewed' marker on each row, live (review.overdue)")
    assert b.execute_script("return window.cbNotReloaded === true;"), "the page reloaded"
    nrow = row(b, pats["nctr"]["id"])
    assert "Not NCTR" in nrow.find_element(By.CSS_SELECTOR, "td[data-col='nctr']").text
    # the primary barrier from the episode summary: reason and owner
    assert nrow.find_element(By.CSS_SELECTOR, f"[data-barrier='{old_barrier['id']}']").text == \
        f"Barrier: {first['label']} · Ward"
    screenshot(b, "ward-round-due")

    # -- the round: bed 2 first
    b.find_element(By.ID, "round-start").click()
    wait_for(lambda: b.find_element(By.ID, "round").get_attribute("open") is not None,
             message="board round open")
    wait_for(lambda: pats["meets"]["name"] in round_title(b) and "bed 2" in round_title(b),
             message="bed 2 first", detail=lambda: round_title(b))
    assert b.switch_to.active_element.get_attribute("id") == "round-title"
    assert "Patient 1 of 3" in b.find_element(By.ID, "round-progress").text
    facts = b.find_element(By.ID, "round-facts").text
    assert "Not NCTR" in facts and "Never reviewed" in facts and "Not reviewed since" in facts
    labels = [e.text for e in b.find_elements(By.CSS_SELECTOR, "#round-criteria label")]
    assert labels == [c["label"] for c in criteria]
    # two clicks: tick a criterion (which means "meets criteria"), save and next
    b.find_element(By.ID, f"rc-{criteria[0]['key']}").click()
    assert b.find_element(By.ID, "rv-meets").is_selected()
    b.find_element(By.ID, "round-save").click()

    # -- bed 9: NCTR, a new barrier made primary
    wait_for(lambda: pats["nctr"]["name"] in round_title(b), message="bed 9 next",
             detail=lambda: (round_title(b), b.find_element(By.ID, "round-error").text))
    assert "Patient 2 of 3" in b.find_element(By.ID, "round-progress").text
    wait_for(lambda: b.find_elements(By.CSS_SELECTOR,
                                     f"#round-barriers tr[data-barrier='{old_barrier['id']}']"
                                     "[data-primary='yes']"),
             message="the existing barrier, primary")
    b.find_element(By.ID, "rv-nctr").click()
    # a time later today is refused by the server, whose message is shown by the field
    if datetime.datetime.now().strftime("%H:%M") < "23:50":
        set_value(b, "rv-decided_at", "23:59")
        b.find_element(By.ID, "round-save").click()
        wait_for(lambda: "decided_at" in b.find_element(By.ID, "rve-decided_at").text,
                 message="the API's decided_at error next to the field")
        assert b.find_element(By.ID, "rv-decided_at").get_attribute("aria-invalid") == "true"
        assert pats["nctr"]["name"] in round_title(b)
        set_value(b, "rv-decided_at", "")  # back to "now"
    Select(b.find_element(By.ID, "bf-reason")).select_by_value(second["key"])
    b.find_element(By.ID, "bf-owner").send_keys("Social work")
    b.find_element(By.ID, "bf-note").send_keys("assessment booked")
    b.find_element(By.ID, "barrier-add").click()
    # the list is re-read after each change, so rows are found again rather than kept
    new_id, primary = wait_for(lambda: [(e.get_attribute("data-barrier"),
                                         e.get_attribute("data-primary"))
                                        for e in b.find_elements(By.CSS_SELECTOR, "#round-barriers tr")
                                        if second["label"] in e.text][0],
                               message="the new barrier listed")
    assert primary == "no"
    wait_for(lambda: b.find_element(
        By.CSS_SELECTOR, f"#round-barriers tr[data-barrier='{new_id}'] button.make-primary"
    ).click() or True, message="Make primary clicked")
    wait_for(lambda: b.find_elements(By.CSS_SELECTOR, f"#round-barriers tr[data-barrier='{new_id}']"
                                     "[data-primary='yes']"),
             message="the new barrier made primary",
             detail=lambda: b.find_element(By.ID, "barrier-error").text)
    assert b.find_element(By.ID, "rv-nctr").is_selected()
    screenshot(b, "ward-round")
    tick(clock)
    b.find_element(By.ID, "round-save").click()

    # -- bed 10: back once (Previous), then skip to the end
    wait_for(lambda: pats["skip"]["name"] in round_title(b), message="bed 10 last",
             detail=lambda: (round_title(b), b.find_element(By.ID, "round-error").text))
    assert b.find_element(By.ID, "round-save").text == "Save and finish"
    b.find_element(By.ID, "round-prev").click()
    wait_for(lambda: pats["nctr"]["name"] in round_title(b), message="Previous goes back")
    wait_for(lambda: "NCTR since" in b.find_element(By.ID, "round-facts").text,
             message="the NCTR state in the panel")
    b.find_element(By.ID, "round-skip").click()  # already reviewed: not counted as skipped
    wait_for(lambda: pats["skip"]["name"] in round_title(b), message="bed 10 again")
    b.find_element(By.ID, "round-skip").click()
    wait_for(lambda: b.find_element(By.ID, "round").get_attribute("open") is None,
             message="the round ends after the last patient")
    assert b.find_element(By.ID, "round-summary").text == \
        "Board round ended: 2 of 3 patients reviewed, 1 skipped."
    assert b.switch_to.active_element.get_attribute("id") == "round-start"

    # -- recorded through the API as chosen
    def reviews(key):
        r = d.get(f"/api/v1/episodes/{pats[key]['id']}/reviews", headers=other.auth)
        assert r.status_code == 200, r.text
        return r.json()["items"]
    meets, nctr = reviews("meets"), reviews("nctr")
    assert [(x["outcome"], x["criteria_met"], x["reviewer"]) for x in meets] == \
        [("meets_criteria", [criteria[0]["key"]], nurse.name)]
    assert [(x["outcome"], x["criteria_met"], x["ready_change"]) for x in nctr] == \
        [("nctr", [], "set")]
    assert reviews("skip") == []
    ep = d.get(f"/api/v1/episodes/{pats['nctr']['id']}", headers=other.auth).json()
    assert ep["ready"] is True and ep["ready_at"] == nctr[0]["decided_at"]
    assert ep["review_overdue"] is False
    barriers = d.get(f"/api/v1/episodes/{pats['nctr']['id']}/barriers", headers=other.auth).json()
    assert sorted((x["reason"], x["owner"], x["note"], x["open"], x["primary"])
                  for x in barriers["items"]) == \
        sorted([(first["key"], "Ward", None, True, False),
                (second["key"], "Social work", "assessment booked", True, True)])

    # -- the rows: NCTR state, primary barrier, marker only on the skipped patient
    b.execute_script("window.cbNotReloaded = true;")
    nrow = row(b, pats["nctr"]["id"])
    wait_for(lambda: row(b, pats["nctr"]["id"]).find_element(
        By.CSS_SELECTOR, "[data-nctr='yes']").text.startswith("NCTR since"),
        message="NCTR since <time> on the row")
    assert row(b, pats["nctr"]["id"]).find_element(By.CSS_SELECTOR, f"[data-barrier='{new_id}']") \
        .text == f"Barrier: {second['label']} · Social work"
    assert not marked(b, pats["meets"]["id"]) and not marked(b, pats["nctr"]["id"])
    assert marked(b, pats["skip"]["id"])
    assert "Not NCTR" in row(b, pats["meets"]["id"]).text
    # bed order on the board too
    order = [e.get_attribute("data-id") for e in b.find_elements(By.CSS_SELECTOR, "#board-body tr")]
    assert order == [pats["meets"]["id"], pats["nctr"]["id"], pats["skip"]["id"]]
    screenshot(b, "ward-after-round")

    # -- another session reviews the skipped patient: the marker goes, live
    tick(clock)
    r = d.post(f"/api/v1/episodes/{pats['skip']['id']}/reviews",
               json={"outcome": "meets_criteria", "criteria_met": [criteria[1]["key"]]},
               headers=other.auth)
    assert r.status_code == 201, r.text
    wait_for(lambda: not marked(b, pats["skip"]["id"]), timeout=3,
             message="the marker leaves when a review is recorded elsewhere")
    # ... and closes the primary barrier: the older one becomes primary on the row, live
    r = d.patch(f"/api/v1/barriers/{new_id}", json={"closed": True},
                headers={**other.auth, "If-Match": '"%d"' % barriers_version(barriers, new_id)})
    assert r.status_code == 200, r.text
    wait_for(lambda: row(b, pats["nctr"]["id"]).find_elements(
        By.CSS_SELECTOR, f"[data-barrier='{old_barrier['id']}']"), timeout=3,
        message="the primary barrier follows a close made elsewhere",
        detail=lambda: row(b, pats["nctr"]["id"]).text)
    assert not row(b, pats["nctr"]["id"]).find_elements(By.CSS_SELECTOR, f"[data-barrier='{new_id}']")
    assert b.execute_script("return window.cbNotReloaded === true;"), "the page reloaded"

    tick(clock)
    # -- keyboard only: Tab to a criterion, Space, Ctrl+Enter saves; Escape ends the round and
    # gives the focus back
    b.find_element(By.ID, "round-start").click()
    wait_for(lambda: pats["meets"]["name"] in round_title(b), message="a second round opens")
    assert b.switch_to.active_element.get_attribute("id") == "round-title"
    b.switch_to.active_element.send_keys(Keys.TAB)
    assert b.switch_to.active_element.get_attribute("id") == f"rc-{criteria[0]['key']}"
    b.switch_to.active_element.send_keys(Keys.SPACE)
    b.switch_to.active_element.send_keys(Keys.CONTROL, Keys.ENTER)
    wait_for(lambda: pats["nctr"]["name"] in round_title(b), message="Ctrl+Enter saved and moved on",
             detail=lambda: (round_title(b), b.find_element(By.ID, "round-error").text))
    assert len(reviews("meets")) == 2
    b.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait_for(lambda: b.find_element(By.ID, "round").get_attribute("open") is None,
             message="Escape closes the round")
    assert b.find_element(By.ID, "round-summary").text == \
        "Board round ended: 1 of 3 patients reviewed."
    assert b.switch_to.active_element.get_attribute("id") == "round-start"

    errors = [e for e in browser_errors(b)
              if "Content Security Policy" in e["message"] or "Uncaught" in e["message"]]
    assert not errors, errors


def barriers_version(doc, bid):
    return [x["version"] for x in doc["items"] if x["id"] == bid][0]

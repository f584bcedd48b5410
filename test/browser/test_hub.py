"""The care transfer hub's screen /hub (issue 15), in real headless Chromium.

A hub coordinator sees the referrals of their organisation only, by state,
with the patient essentials; takes each step (accept, ask for information,
decline with a reason, record the service sourced); sees the ward's sending
live; a stale version is refused with a plain message and the card reloaded.
A provider's staff see the referral whose service they provide and can only
confirm its start.  A trust user opening /hub goes to their own page.  The
referral chip on the ward board, the queue and the dashboard names the same
state at every step.
"""
import time
import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser_util import browser_errors, itg, screenshot, wait_for
from test_screens import PASSWORD, login, rand, set_value


def make_org(database, kind, name, services=()):
    oid = str(uuid.uuid4())
    code = (kind[:3] + rand(6)).upper()
    svc = "ARRAY[" + ",".join(f"'{s}'" for s in services) + "]::text[]" if services else "'{}'"
    database.sql(f"INSERT INTO organisations (id, code, name, kind, services)"
                 f" VALUES ('{oid}', '{code}', '{name}', '{kind}', {svc})")
    return {"id": oid, "code": code, "name": name}


def make_partner(database, role, org):
    """A partner user of org: made as a trust user by the CLI, then moved (the CLI of
    this branch may not know organisations yet)."""
    u = itg.make_user(database, "social_worker", password=PASSWORD)
    database.sql(f"UPDATE users SET role = '{role}', organisation_id = '{org['id']}'"
                 f" WHERE name = '{u.name}'")
    u.role = role
    return u


def set_hub(database, ward, org):
    database.sql(f"UPDATE wards SET hub_organisation_id = '{org['id']}' WHERE code = '{ward}'")


def iso(seconds_ago):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds_ago))


def referral(d, user, rid):
    r = d.get(f"/api/v1/referrals/{rid}", headers=user.auth)
    assert r.status_code == 200, r.text
    return r.json()


def step(d, user, rid, name, **body):
    cur = referral(d, user, rid)
    r = d.post(f"/api/v1/referrals/{rid}/steps", json={"step": name, **body},
               headers={**user.auth, "If-Match": f'"{cur["version"]}"'})
    assert r.status_code == 200, r.text
    return r.json()


def card(b, rid):
    return b.find_element(By.CSS_SELECTOR, f"article.ref-card[data-id='{rid}']")


def lane_of(b, rid):
    els = b.find_elements(By.CSS_SELECTOR, f"article.ref-card[data-id='{rid}']")
    if not els:
        return None
    return b.execute_script("return arguments[0].closest('section.lane').getAttribute('data-lane');",
                            els[0])


def card_ids(b):
    return [e.get_attribute("data-id") for e in b.find_elements(By.CSS_SELECTOR, "article.ref-card")]


def show_date(ymd):
    t = time.strptime(ymd, "%Y-%m-%d")
    return f"{t.tm_mday} {time.strftime('%b', t)}"


def test_hub_screen_steps_live_and_chips(site, database, browsers):
    d = site.daemon
    w1, w2 = "HB" + rand(3).upper(), "HC" + rand(3).upper()
    itg.ensure_ward(database, w1, beds=20)
    itg.ensure_ward(database, w2, beds=20)
    hub = make_org(database, "hub", "North Hub " + rand(4))
    other = make_org(database, "hub", "South Hub " + rand(4))
    prov = make_org(database, "provider", "Homecare " + rand(4), services=("home_care",))
    set_hub(database, w1, hub)
    set_hub(database, w2, other)
    nurse = itg.make_user(database, "nurse", [w1], password=PASSWORD)
    nurse2 = itg.make_user(database, "nurse", [w2])
    sw = itg.make_user(database, "social_worker", password=PASSWORD)
    bm = itg.make_user(database, "bed_manager", password=PASSWORD)
    hu = make_partner(database, "hub_coordinator", hub)
    pu = make_partner(database, "provider_staff", prov)
    ou = make_partner(database, "hub_coordinator", other)

    a = itg.admit(d, nurse, w1, family_name="Alpha" + rand(), bed="1", pathway=1,
                  admitted_at=iso(2 * 86400), needs="Two carers, hoist")
    b_ = itg.admit(d, nurse, w1, family_name="Bravo" + rand(), bed="2", pathway=2,
                   admitted_at=iso(86400))
    c = itg.admit(d, nurse2, w2, family_name="Charlie" + rand(), bed="3", pathway=3)
    ra, rb, rc = (e["referral"]["id"] for e in (a, b_, c))
    # the first patient is NCTR, so the dashboard lists them
    r = d.patch(f"/api/v1/episodes/{a['id']}", json={"ready_at": iso(3600)},
                headers={**nurse.auth, "If-Match": f'"{a["version"]}"'})
    assert r.status_code == 200, r.text

    # -- a trust user opening /hub goes to their own page
    tb = browsers.new()
    login(tb, site.base, sw, "/queue")
    tb.get(site.base + "/hub")
    wait_for(lambda: tb.current_url.endswith("/queue"), message="a social worker sent from /hub to /queue")

    # -- the hub coordinator: their organisation's referrals, not sent yet, on day one
    hb = browsers.new()
    login(hb, site.base, hu, "/hub")
    wait_for(lambda: {ra, rb} <= set(card_ids(hb)), message="the hub's two referrals",
             detail=lambda: hb.find_element(By.ID, "lanes").text)
    assert rc not in card_ids(hb), "another hub's referral shown"
    assert hb.find_element(By.ID, "org-name").text == hub["name"]
    assert lane_of(hb, ra) == "notified"
    txt = card(hb, ra).text
    nhs = a["patient"]["nhs_number"]
    assert f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}" in txt
    assert "6 May 1941" in txt and w1 in txt and "Pathway 1" in txt and "Two carers, hoist" in txt
    assert "Since " in card(hb, ra).find_element(By.CSS_SELECTOR, "[data-col='nctr']").text
    assert not card(hb, ra).find_elements(By.CSS_SELECTOR, "button"), "a day-one notice has no steps"

    # the ward board and the dashboard before anything is sent
    nb = browsers.new()
    login(nb, site.base, nurse, "/ward")
    board_chip = f"#board-body tr[data-id='{a['id']}'] .chip[data-referral]"
    wait_for(lambda: nb.find_element(By.CSS_SELECTOR, board_chip).text == "Hub: not sent",
             message="board chip: not sent")
    db_ = browsers.new()
    login(db_, site.base, bm, "/dashboard")
    dash_chip = f"#nctr-body tr[data-id='{a['id']}'] td[data-col='referral']"
    wait_for(lambda: db_.find_element(By.CSS_SELECTOR, dash_chip).text == "Hub: not sent",
             message="dashboard chip: not sent")

    def chips_say(text, queue=True):
        wait_for(lambda: nb.find_element(By.CSS_SELECTOR, board_chip).text == text, timeout=4,
                 message=f"board chip {text!r}",
                 detail=lambda: nb.find_element(By.CSS_SELECTOR, board_chip).text)
        wait_for(lambda: db_.find_element(By.CSS_SELECTOR, dash_chip).text == text, timeout=4,
                 message=f"dashboard chip {text!r}",
                 detail=lambda: db_.find_element(By.CSS_SELECTOR, dash_chip).text)
        if queue:
            q = f"#sent-body tr[data-id='{ra}'] td[data-col='referral']"
            wait_for(lambda: tb.find_element(By.CSS_SELECTOR, q).text == text, timeout=4,
                     message=f"queue chip {text!r}",
                     detail=lambda: tb.find_element(By.ID, "sent-body").text)

    # -- the ward sends one: it arrives live, as new
    hb.execute_script("window.cbNotReloaded = true;")
    step(d, sw, ra, "send", needs="Two carers, hoist; lives alone", contacts="Daughter 07700 900123")
    wait_for(lambda: lane_of(hb, ra) == "referred", timeout=3, message="sent referral arrives live")
    assert "lives alone" in card(hb, ra).text and "07700 900123" in card(hb, ra).text
    assert "Referred " in card(hb, ra).find_element(By.CSS_SELECTOR, "[data-col='age']").text
    chips_say("Hub: waiting")
    screenshot(hb, "hub-new-referral")

    # -- accept
    card(hb, ra).find_element(By.CSS_SELECTOR, "button[data-step='accept']").click()
    wait_for(lambda: lane_of(hb, ra) == "accepted", message="accepted")
    assert referral(d, sw, ra)["state"] == "accepted"
    chips_say("Hub: accepted")

    # -- ask for information, then the ward answers, then decline with a reason
    step(d, sw, rb, "send", needs="Rehabilitation bed")
    wait_for(lambda: lane_of(hb, rb) == "referred", timeout=3, message="second referral live")
    card(hb, rb).find_element(By.CSS_SELECTOR, "button[data-step='request_info']").click()
    dlg = hb.find_element(By.ID, "step")
    wait_for(lambda: dlg.get_attribute("open") is not None, message="information dialog")
    assert b_["patient"]["family_name"].upper() in hb.find_element(By.ID, "step-text").text
    hb.find_element(By.ID, "step-yes").click()  # nothing typed: said beside the field, not sent
    wait_for(lambda: hb.find_element(By.ID, "sf-text-error").text, message="empty question refused")
    assert referral(d, sw, rb)["state"] == "referred"
    hb.find_element(By.ID, "sf-text").send_keys("Is there a key safe?")
    hb.find_element(By.ID, "step-yes").click()
    wait_for(lambda: lane_of(hb, rb) == "info_requested", message="information requested")
    got = referral(d, sw, rb)
    assert got["state"] == "info_requested" and got["info_request"] == "Is there a key safe?"
    step(d, sw, rb, "send", needs="Rehabilitation bed; key safe fitted")
    wait_for(lambda: lane_of(hb, rb) == "referred", timeout=3, message="sent again live")
    card(hb, rb).find_element(By.CSS_SELECTOR, "button[data-step='decline']").click()
    wait_for(lambda: dlg.get_attribute("open") is not None, message="decline dialog")
    hb.find_element(By.ID, "sf-text").send_keys("Out of area")
    hb.find_element(By.ID, "step-yes").click()
    wait_for(lambda: lane_of(hb, rb) == "closed", message="declined")
    assert "Out of area" in card(hb, rb).text
    assert referral(d, sw, rb)["decline_reason"] == "Out of area"

    # -- record the service sourced: kind, provider, detail, start date
    start = time.strftime("%Y-%m-%d", time.localtime(time.time() + 3 * 86400))
    card(hb, ra).find_element(By.CSS_SELECTOR, "button[data-step='source']").click()
    wait_for(lambda: dlg.get_attribute("open") is not None, message="service dialog")
    Select(hb.find_element(By.ID, "sf-kind")).select_by_value("home_care")
    # the hub coordinator may list the providers (GET /api/v1/organisations, public fields)
    wait_for(lambda: prov["id"] in [o.get_attribute("value") for o in
                                    hb.find_elements(By.CSS_SELECTOR, "#sf-provider option")],
             message="the provider picker lists the providers")
    Select(hb.find_element(By.ID, "sf-provider")).select_by_value(prov["id"])
    hb.find_element(By.ID, "sf-detail").send_keys("4 visits a day")
    set_value(hb, "sf-date", start)
    hb.find_element(By.ID, "step-yes").click()
    wait_for(lambda: lane_of(hb, ra) == "sourced", message="sourced")
    assert "Home care" in card(hb, ra).text and "4 visits a day" in card(hb, ra).text
    chips_say("Service found")
    assert referral(d, sw, ra)["service"]["provider"]["id"] == prov["id"]
    screenshot(hb, "hub-lanes")

    # -- the provider's staff: only that referral, only "confirm start"
    pb = browsers.new()
    login(pb, site.base, pu, "/hub")
    wait_for(lambda: ra in card_ids(pb), message="provider sees its referral",
             detail=lambda: pb.find_element(By.ID, "lanes").text)
    assert set(card_ids(pb)) == {ra}, card_ids(pb)
    assert pb.find_element(By.ID, "org-name").text == prov["name"]
    steps = [e.get_attribute("data-step") for e in pb.find_elements(By.CSS_SELECTOR, "button[data-step]")]
    assert steps == ["confirm_start"], steps
    screenshot(pb, "hub-provider")

    # -- a stale version: refused in plain words, the card reloaded, nothing changed
    database.sql(f"UPDATE referrals SET version = version + 1 WHERE id = '{ra}'")
    pb.find_element(By.CSS_SELECTOR, f"article[data-id='{ra}'] button[data-step='confirm_start']").click()
    pdlg = pb.find_element(By.ID, "step")
    wait_for(lambda: pdlg.get_attribute("open") is not None, message="confirm dialog")
    set_value(pb, "sf-date", start)
    pb.find_element(By.ID, "step-yes").click()
    wait_for(lambda: "someone else changed this referral; reloaded" in pb.find_element(By.ID, "act-msg").text.lower(),
             message="stale version said plainly",
             detail=lambda: pb.find_element(By.ID, "act-msg").text)
    assert "{" not in pb.find_element(By.ID, "act-msg").text
    assert referral(d, sw, ra)["state"] == "sourced"
    # the reloaded card acts on the version now stored
    pb.find_element(By.CSS_SELECTOR, f"article[data-id='{ra}'] button[data-step='confirm_start']").click()
    wait_for(lambda: pdlg.get_attribute("open") is not None, message="confirm dialog again")
    set_value(pb, "sf-date", start)
    pb.find_element(By.ID, "step-yes").click()
    wait_for(lambda: lane_of(pb, ra) == "start_confirmed", message="start confirmed")
    assert referral(d, sw, ra)["state"] == "start_confirmed"
    # the hub sees it live; every screen names the date
    wait_for(lambda: lane_of(hb, ra) == "start_confirmed", timeout=3, message="hub sees the start live")
    chips_say("Start " + show_date(start))
    screenshot(nb, "hub-board-chip")

    # -- another hub never sees these; the hub never saw the other one
    ob = browsers.new()
    login(ob, site.base, ou, "/hub")
    wait_for(lambda: rc in card_ids(ob), message="the other hub's referral")
    assert ra not in card_ids(ob) and rb not in card_ids(ob)
    step(d, sw, rc, "send", needs="Nursing home")
    wait_for(lambda: lane_of(ob, rc) == "referred", timeout=3, message="other hub live")
    time.sleep(0.5)
    assert rc not in card_ids(hb), "another organisation's referral reached the hub's page"
    assert rc not in hb.page_source

    assert hb.execute_script("return window.cbNotReloaded === true;"), "the hub page reloaded"
    for br in (hb, pb, nb, db_, tb, ob):
        errors = [e for e in browser_errors(br)
                  if "Content Security Policy" in e["message"] or "Uncaught" in e["message"]]
        assert not errors, errors

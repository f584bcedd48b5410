"""Issue 3: every role x every /api/v1 endpoint gets the right 2xx/401/403.

One row per (method, path template) of the route tables in server/api_*.c (POST
/api/v1/session, the public sign-in, is left out), plus a few variants where the
answer depends on the target (a ward filter, a task's discipline).  Each row has
a request factory that builds a request which succeeds for an allowed role (fresh
objects where the call consumes state) and the expected outcome for every caller,
written out by hand from lib/access.c's table and the handlers' access_check
calls -- never computed from the code under test:

  anon         no credentials at all                          -> 401
  bad_token    "Authorization: Bearer <garbage>"              -> 401
  nurse_own    nurse attached to the episode's ward (WARD)
  nurse_other  nurse attached to another ward (OTHER) only
  social_worker, ot, physio, bed_manager, admin
  sw_lead      a social worker who is a team lead (users.team_lead): as social_worker,
               unless a row says otherwise (reassigning a referral's holder, issue 16)

OK means any 2xx; 403 means exactly 403 with error code "forbidden"; 401 means
exactly 401 with the JSON error shape (under /fhir/, an OperationOutcome with issue
"login"); 404 (FHIR reads only) means the record is answered as not found, the FHIR
facade's refusal of another ward's record.  pytest runs each (route, caller) pair as
its own test.
"""
import json
import re
import secrets
import uuid

import pytest
import requests

from conftest import (admission_body, admit, cli, ensure_ward, make_organisation, make_user,
                      run_bin, start_daemon, stop_daemon_clean, uuid_hex)
from notify_receiver import NotifyReceiver

OK = "ok"
F = 403
U = 401
N = 404   # not yours = does not exist: a partner asking about a patient not referred
          # to them; the FHIR facade answering a record of another ward (no oracle)
G = 410   # a retired route (the assessments, replaced by referrals): gone, for everyone

WARD = "AXM1"      # the episodes' ward; nurse_own's ward
OTHER = "AXM2"     # nurse_other's ward; transfer target
SECRET = "matrix-webhook-secret-0123456789"
# a webhook filter no event matches: registrations made here never deliver anything
HOOK_FILTER = {"wards": ["AXMNOWHERE"]}
TEMPLATE = {
    "min_pathway": 1,
    "max_pathway": 3,
    "discipline": "physio",
    "title": "Access matrix template",
    "anchor": "after_admission",
    "offset_seconds": 3600,
    "active": False,   # never planned into anyone's admission
}

# Partner roles (issue 15), each of an organisation the shared episode is referred to:
# they reach their own session, reference data and the events of their referrals, and
# nothing of the trust's (episodes, tasks, barriers, reviews, boards, reports, audit, admin).
PARTNERS = ["hub_coordinator", "council_social_worker", "provider_staff"]

CALLERS = ["anon", "bad_token", "nurse_own", "nurse_other", "social_worker", "sw_lead", "ot",
           "physio", "bed_manager", "admin"] + PARTNERS


class Req:
    def __init__(self, method, path, json=None, params=None, auth=None, stream=False,
                 headers=None):
        self.headers = headers    # added to the caller's own (If-Match)
        self.method = method
        self.path = path
        self.json = json
        self.params = params
        self.auth = auth          # headers replacing the caller's own (DELETE /session)
        self.stream = stream      # SSE: read the status line only


class Ctx:
    """Users and shared objects for the whole module; helpers for fresh ones."""

    def __init__(self, daemon, database):
        self.d = daemon
        self.db = database
        ensure_ward(database, WARD)
        ensure_ward(database, OTHER)
        self.hub_id, self.hub_code = make_organisation(database, "hub")
        self.la_id, self.la_code = make_organisation(database, "local_authority")
        self.provider_id, self.provider_code = make_organisation(
            database, "provider", services=["home_care"], local_authority=self.la_code)
        self.users = {
            "hub_coordinator": make_user(database, "hub_coordinator",
                                         organisation=self.hub_code),
            "council_social_worker": make_user(database, "council_social_worker",
                                               organisation=self.la_code),
            "provider_staff": make_user(database, "provider_staff",
                                        organisation=self.provider_code),
            "nurse_own": make_user(database, "nurse", wards=[WARD]),
            "nurse_other": make_user(database, "nurse", wards=[OTHER]),
            "social_worker": make_user(database, "social_worker"),
            "sw_lead": make_user(database, "social_worker", team_lead=True),
            "ot": make_user(database, "ot"),
            "physio": make_user(database, "physio"),
            "bed_manager": make_user(database, "bed_manager"),
            "admin": make_user(database, "admin"),
        }
        # set-up actors, never the caller under test
        self.setup_nurse = make_user(database, "nurse", wards=[WARD])
        self.setup_admin = make_user(database, "admin")
        self.webhooks = []   # created here, deleted at teardown
        self.pas_codes = []  # mapped here, deleted at teardown

        # the shared episode: reads, PATCH, tasks, its assessment
        self.ep = self.admit()
        # the day-one referral the admission opened (issue 15), referred to the partners
        self.assessment_id = str(uuid.uuid4())   # the retired routes answer 410 whatever
        # referred to every partner caller's organisation: what they are refused below
        # is refused by role, not for want of a referral (the hub and the provider on
        # one referral, the council on another, closed one)
        self.refer(self.ep["id"], self.hub_id, self.provider_id)
        self.tasks = {}
        for disc in ("ward", "social_work", "ot", "physio"):
            r = self.setup_call("POST", f"/api/v1/episodes/{self.ep['id']}/tasks",
                                {"discipline": disc, "title": f"Matrix {disc} task"},
                                self.setup_nurse)
            self.tasks[disc] = r.json()["id"]

        # an episode with an open delay (a delay opens only at a midnight snapshot,
        # so the row is put in directly): PUT .../delay is gone for every role (issue 14)
        self.delay_ep = self.admit()
        database.sql(
            "INSERT INTO delays (id, episode_id, ready_at, opened_at, reason_code, attribution)"
            f" VALUES ('{uuid.uuid4()}', '{self.delay_ep['id']}',"
            " now() - interval '2 days', now() - interval '1 day', 'A', 'NHS')")

        # admin objects changed in place
        self.patch_ward = f"AXP{uuid_hex()[:6]}"
        self.setup_call("POST", "/api/v1/wards", {"code": self.patch_ward, "name": "Matrix"},
                        self.setup_admin)
        self.template_id = self.setup_call("POST", "/api/v1/task-templates", TEMPLATE,
                                           self.setup_admin).json()["id"]
        self.pas_get = self.new_mapping()
        self.pas_put = f"AXMPAS{uuid_hex()[:6]}"
        self.pas_codes.append(self.pas_put)

    def refer(self, episode_id, org, provider=None):
        """Refer the episode to org (and provider) directly in the database: the
        referral API's own rows are its tests' business; here only the facts matter."""
        prov = f"'{provider}'::uuid" if provider else "NULL::uuid"
        self.db.sql(
            f"WITH u AS (UPDATE referrals SET organisation_id = '{org}', state = 'referred',"
            f" referred_at = now(), service_provider_id = {prov}"
            f" WHERE episode_id = '{episode_id}' AND closed_at IS NULL RETURNING 1)"
            " INSERT INTO referrals (id, episode_id, organisation_id, state, notified_at,"
            "  referred_at, service_provider_id)"
            f" SELECT '{uuid.uuid4()}', '{episode_id}', '{org}', 'referred', now(), now(), {prov}"
            " WHERE NOT EXISTS (SELECT 1 FROM u)")
        self.db.sql(
            "INSERT INTO referrals (id, episode_id, organisation_id, state, notified_at,"
            " closed_at, withdraw_reason) VALUES ('%s', '%s', '%s', 'withdrawn', now(), now(),"
            " 'matrix')" % (uuid.uuid4(), episode_id, self.la_id))

    def referral_of_id(self, rid):
        version = self.db.sql(f"SELECT version FROM referrals WHERE id = '{rid}'")[0][0]
        return {"id": rid, "version": int(version)}

    def setup_call(self, method, path, body, user, headers=None):
        r = self.d.request(method, path, json=body, headers={**user.auth, **(headers or {})})
        assert 200 <= r.status_code < 300, f"set-up {method} {path}: {r.status_code} {r.text}"
        return r

    # ---- fresh objects ----

    def admit(self):
        return admit(self.d, self.setup_nurse, WARD)

    def new_assessment(self):
        return str(uuid.uuid4())

    def claimed_by_social_worker(self):
        return str(uuid.uuid4())

    def referral_of(self, episode_id):
        """The episode's open referral, as the database has it (id, version)."""
        rid, version = self.db.sql(
            f"SELECT id, version FROM referrals WHERE episode_id = '{episode_id}'"
            " AND closed_at IS NULL")[0]
        return {"id": str(rid), "version": int(version)}

    def referred(self):
        """A fresh episode whose open referral is referred to the hub (and provider)."""
        ep = self.admit()
        self.refer(ep["id"], self.hub_id, self.provider_id)
        return self.referral_of(ep["id"])

    def user_id(self, who):
        return str(self.db.sql(f"SELECT id FROM users WHERE name = '{self.users[who].name}'")[0][0])

    def notified(self):
        """A fresh episode's day-one referral, still notified (the trust's to complete)."""
        return self.referral_of(self.admit()["id"])

    def new_ward_code(self):
        return f"AXN{uuid_hex()[:6]}"

    def new_user_id(self):
        return self.setup_call("POST", "/api/v1/users",
                               {"name": f"axm.{uuid_hex()}", "role": "ot"},
                               self.setup_admin).json()["id"]

    def new_organisation(self):
        return make_organisation(self.db, "provider", services=["equipment"])[0]

    def new_mapping(self):
        code = f"AXMPAS{uuid_hex()[:6]}"
        self.setup_call("PUT", f"/api/v1/hl7/ward-map/{code}", {"ward": WARD}, self.setup_admin)
        self.pas_codes.append(code)
        return code

    def new_webhook(self):
        wid = self.setup_call("POST", "/api/v1/webhooks", self.webhook_body(),
                              self.setup_admin).json()["id"]
        self.webhooks.append(wid)
        return wid

    def webhook_body(self):
        return {"url": f"http://127.0.0.1:9/axm/{uuid_hex()}", "secret": SECRET, **HOOK_FILTER}

    def fresh_token_auth(self, who):
        """A new API token of caller who (DELETE /session revokes the one used)."""
        token = cli(self.db, "user", "token", "issue", "--name", self.users[who].name,
                    "--expires", "1d").stdout.strip()
        return {"Authorization": f"Bearer {token}"}

    def cleanup(self):
        for wid in self.webhooks:
            self.d.delete(f"/api/v1/webhooks/{wid}", headers=self.setup_admin.auth)
        for code in self.pas_codes:
            self.d.delete(f"/api/v1/hl7/ward-map/{code}", headers=self.setup_admin.auth)


# ---- request factories: (ctx, caller) -> Req ------------------------------------------

def f_admission(c, who):
    return Req("POST", "/api/v1/admissions", admission_body(WARD))


def f_episodes_list(c, who):
    return Req("GET", "/api/v1/episodes")


def f_episodes_list_ward(c, who):
    return Req("GET", "/api/v1/episodes", params={"ward": WARD})


def f_episode_get(c, who):
    return Req("GET", f"/api/v1/episodes/{c.ep['id']}")


def f_episode_patch(c, who):
    return Req("PATCH", f"/api/v1/episodes/{c.ep['id']}", {"bed": "7"})


def f_episode_transfer(c, who):
    return Req("POST", f"/api/v1/episodes/{c.admit()['id']}/transfer", {"ward": OTHER, "bed": "3"})


def f_episode_discharge(c, who):
    return Req("POST", f"/api/v1/episodes/{c.admit()['id']}/discharge",
               {"pathway": 0, "destination": "usual_residence"})


def f_episode_reopen(c, who):
    ep = c.admit()
    c.setup_call("POST", f"/api/v1/episodes/{ep['id']}/discharge", {"pathway": 0}, c.setup_nurse)
    return Req("POST", f"/api/v1/episodes/{ep['id']}/reopen", {})


def f_report(c, who):
    return Req("GET", "/api/v1/reports/delays")


def f_sitrep(c, who):
    return Req("GET", "/api/v1/reports/sitrep")


def f_sitrep_submit(c, who):
    # yesterday in London (the daemon runs on the real clock here): its snapshot has happened
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo
    day = (datetime.now(ZoneInfo("Europe/London")) - timedelta(days=1)).strftime("%Y-%m-%d")
    return Req("POST", f"/api/v1/reports/sitrep/{day}/submit", {"note": f"matrix {who}"})
def f_report_drd(c, who):
    return Req("GET", "/api/v1/reports/drd")


def f_report_long_stay(c, who):
    return Req("GET", "/api/v1/reports/long-stay")


def f_report_long_stay_ward(c, who):
    return Req("GET", "/api/v1/reports/long-stay", params={"ward": WARD})


def f_review_post(c, who):
    # "meets criteria" never changes readiness, so the shared episode takes any number
    return Req("POST", f"/api/v1/episodes/{c.ep['id']}/reviews",
               {"outcome": "meets_criteria", "criteria_met": ["iv_fluids"]})


def f_review_list(c, who):
    return Req("GET", f"/api/v1/episodes/{c.ep['id']}/reviews")


def f_barrier_post(c, who):
    return Req("POST", f"/api/v1/episodes/{c.ep['id']}/barriers",
               {"reason": "transport", "owner": "Matrix"})


def f_barrier_list(c, who):
    return Req("GET", f"/api/v1/episodes/{c.ep['id']}/barriers")


def f_barrier_patch(c, who):
    # a fresh barrier each time: an edit of its note
    bid = c.setup_call("POST", f"/api/v1/episodes/{c.ep['id']}/barriers",
                       {"reason": "no_plan"}, c.setup_nurse).json()["id"]
    return Req("PATCH", f"/api/v1/barriers/{bid}", {"note": f"matrix {who}"})


def f_reference_lists(c, who):
    return Req("GET", "/api/v1/reference/lists")


def f_delay_reasons(c, who):
    return Req("GET", "/api/v1/reference/delay-reasons", params={"list": "dtoc-2014"})


def f_delay_reasons_post(c, who):
    return Req("POST", "/api/v1/reference/delay-reasons",
               {"list": f"axm-{uuid_hex()}", "version": "1",
                "items": [{"key": "k", "label": "Matrix reason", "active_from": "2026-01-01"}]})


def f_criteria(c, who):
    return Req("GET", "/api/v1/reference/criteria")


def f_tasks_all(c, who):
    return Req("GET", "/api/v1/tasks")


def f_tasks_all_ward(c, who):
    return Req("GET", "/api/v1/tasks", params={"ward": WARD})


def f_tasks_list(c, who):
    return Req("GET", f"/api/v1/episodes/{c.ep['id']}/tasks")


def f_task_create(disc):
    def f(c, who):
        return Req("POST", f"/api/v1/episodes/{c.ep['id']}/tasks",
                   {"discipline": disc, "title": "Matrix created"})
    return f


def f_task_patch(disc):
    def f(c, who):
        return Req("PATCH", f"/api/v1/tasks/{c.tasks[disc]}", {"note": f"matrix {who}"})
    return f


def f_assessments_list(c, who):
    return Req("GET", "/api/v1/assessments")


def f_assessments_list_ward(c, who):
    return Req("GET", "/api/v1/assessments", params={"ward": WARD})


def f_assessment_patch(c, who):
    return Req("PATCH", f"/api/v1/assessments/{c.assessment_id}", {"note": f"matrix {who}"})


def f_assessment_claim(c, who):
    return Req("POST", f"/api/v1/assessments/{c.new_assessment()}/claim")


def f_assessment_release(c, who):
    # claimed by the social_worker caller: theirs to release, refused to everyone else
    return Req("POST", f"/api/v1/assessments/{c.claimed_by_social_worker()}/release")


def f_referrals_list(c, who):
    return Req("GET", "/api/v1/referrals")


def f_referral_get(c, who):
    return Req("GET", f"/api/v1/referrals/{c.referral_of(c.ep['id'])['id']}")


def f_referral_patch(c, who):
    ref = c.notified()
    return Req("PATCH", f"/api/v1/referrals/{ref['id']}", {"needs": f"matrix {who}"},
               headers={"If-Match": f'"{ref["version"]}"'})


def f_referral_steps_get(c, who):
    return Req("GET", f"/api/v1/referrals/{c.referral_of(c.ep['id'])['id']}/steps")


def f_referral_step(c, who):
    # the hub's answer to a fresh referral: "accept" (provider staff may only confirm a start)
    ref = c.referred()
    return Req("POST", f"/api/v1/referrals/{ref['id']}/steps", {"step": "accept"},
               headers={"If-Match": f'"{ref["version"]}"'})


def f_referral_hold(c, who):
    ref = c.notified()
    return Req("POST", f"/api/v1/referrals/{ref['id']}/hold", {},
               headers={"If-Match": f'"{ref["version"]}"'})


def f_referral_release(c, who):
    # held by the caller when it may hold one (a release is the holder's), else by a
    # social worker
    ref = c.notified()
    holder = (c.users[who] if who in ("nurse_own", "social_worker", "sw_lead")
              else c.users["social_worker"])
    c.setup_call("POST", f"/api/v1/referrals/{ref['id']}/hold", {}, holder,
                 headers={"If-Match": f'"{ref["version"]}"'})
    ref = c.referral_of_id(ref["id"])
    return Req("POST", f"/api/v1/referrals/{ref['id']}/release", {},
               headers={"If-Match": f'"{ref["version"]}"'})


def f_referral_assign(c, who):
    # a fresh notified referral, given to a social worker (a lead's reassignment)
    ref = c.notified()
    return Req("POST", f"/api/v1/referrals/{ref['id']}/assign",
               {"user_id": c.user_id("social_worker")},
               headers={"If-Match": f'"{ref["version"]}"'})


def f_social_workers(c, who):
    return Req("GET", "/api/v1/social-workers")


def f_episode_referrals(c, who):
    return Req("GET", f"/api/v1/episodes/{c.ep['id']}/referrals")


def f_audit(c, who):
    return Req("GET", "/api/v1/audit", params={"episode": c.ep["id"]})


def f_wards_list(c, who):
    return Req("GET", "/api/v1/wards")


def f_ward_post(c, who):
    return Req("POST", "/api/v1/wards", {"code": c.new_ward_code(), "name": "Matrix new"})


def f_ward_patch(c, who):
    return Req("PATCH", f"/api/v1/wards/{c.patch_ward}", {"beds": 5})


def f_templates_list(c, who):
    return Req("GET", "/api/v1/task-templates")


def f_template_post(c, who):
    return Req("POST", "/api/v1/task-templates", TEMPLATE)


def f_template_patch(c, who):
    return Req("PATCH", f"/api/v1/task-templates/{c.template_id}",
               {"title": "Access matrix renamed"})


def f_users_list(c, who):
    return Req("GET", "/api/v1/users")


def f_user_post(c, who):
    return Req("POST", "/api/v1/users", {"name": f"axm.{uuid_hex()}", "role": "physio"})


def f_user_disable(c, who):
    return Req("POST", f"/api/v1/users/{c.new_user_id()}/disable")


def f_user_unlock(c, who):
    return Req("POST", f"/api/v1/users/{c.new_user_id()}/unlock")


def f_me_contact_get(c, who):
    return Req("GET", "/api/v1/me/contact")


def f_me_contact_put(c, who):
    return Req("PUT", "/api/v1/me/contact", {"channels": []})


def f_user_contact_get(c, who):
    return Req("GET", f"/api/v1/users/{c.new_user_id()}/contact")


def f_user_contact_put(c, who):
    return Req("PUT", f"/api/v1/users/{c.new_user_id()}/contact",
               {"email": "axm@nhs.example.net", "channels": ["email"]})


def f_messages_list(c, who):
    return Req("GET", "/api/v1/messages")


def f_rota_list(c, who):
    return Req("GET", "/api/v1/rota")


def f_rota_post(c, who):
    return Req("POST", "/api/v1/rota",
               {"site": "*", "role": "bed_manager", "user_id": c.new_user_id(),
                "starts_at": "2030-01-01T08:00:00Z", "ends_at": "2030-01-01T20:00:00Z"})


def f_orgs_list(c, who):
    return Req("GET", "/api/v1/organisations")


def f_org_post(c, who):
    return Req("POST", "/api/v1/organisations",
               {"code": f"AXO{uuid_hex()[:8]}", "name": "Matrix hub", "kind": "hub"})


def f_org_get(c, who):
    return Req("GET", f"/api/v1/organisations/{c.hub_id}")


def f_org_patch(c, who):
    return Req("PATCH", f"/api/v1/organisations/{c.new_organisation()}",
               {"name": f"Matrix renamed {who}"})


def f_org_disable(c, who):
    return Req("POST", f"/api/v1/organisations/{c.new_organisation()}/disable")


def f_hl7_messages(c, who):
    return Req("GET", "/api/v1/hl7/messages")


def f_ward_map_list(c, who):
    return Req("GET", "/api/v1/hl7/ward-map")


def f_ward_map_get(c, who):
    return Req("GET", f"/api/v1/hl7/ward-map/{c.pas_get}")


def f_ward_map_put(c, who):
    return Req("PUT", f"/api/v1/hl7/ward-map/{c.pas_put}", {"ward": WARD})


def f_ward_map_delete(c, who):
    return Req("DELETE", f"/api/v1/hl7/ward-map/{c.new_mapping()}")


def f_webhooks_list(c, who):
    return Req("GET", "/api/v1/webhooks")


def f_webhook_post(c, who):
    return Req("POST", "/api/v1/webhooks", c.webhook_body())


def f_webhook_patch(c, who):
    return Req("PATCH", f"/api/v1/webhooks/{c.new_webhook()}", {"active": False})


def f_webhook_delete(c, who):
    return Req("DELETE", f"/api/v1/webhooks/{c.new_webhook()}")


def f_notify_test(c, who):
    # the daemon's Notify channel points at a stand-in (the daemon fixture below)
    return Req("POST", "/api/v1/admin/notify-test",
               {"kind": "email", "to": "matrix@nhs.net", "template_id": str(uuid.uuid4())})


def f_session_delete(c, who):
    if who in c.users:
        return Req("DELETE", "/api/v1/session", auth=c.fresh_token_auth(who))
    return Req("DELETE", "/api/v1/session")


def f_me(c, who):
    return Req("GET", "/api/v1/me")


def f_stream(c, who):
    return Req("GET", "/api/v1/stream", stream=True)


def f_stream_ward(c, who):
    return Req("GET", "/api/v1/stream", params={"ward": WARD}, stream=True)


# the FHIR R4 facade (server/api_fhir.c, issue 15)
def f_fhir_patient_search(c, who):
    return Req("GET", "/fhir/R4/Patient")


def f_fhir_patient_read(c, who):
    return Req("GET", f"/fhir/R4/Patient/{c.ep['patient']['id']}")


def f_fhir_encounter_search(c, who):
    return Req("GET", "/fhir/R4/Encounter", params={"patient": c.ep["patient"]["id"]})


def f_fhir_encounter_read(c, who):
    return Req("GET", f"/fhir/R4/Encounter/{c.ep['id']}")


def f_fhir_task_search(c, who):
    return Req("GET", "/fhir/R4/Task", params={"status": "requested"})


def f_fhir_task_read(c, who):
    return Req("GET", f"/fhir/R4/Task/{c.tasks['physio']}")


def f_fhir_referral_task_read(c, who):
    return Req("GET", f"/fhir/R4/Task/referral-{c.referral_of(c.ep['id'])['id']}")


def f_fhir_service_request_search(c, who):
    return Req("GET", "/fhir/R4/ServiceRequest", params={"patient": c.ep["patient"]["id"]})


def f_fhir_service_request_read(c, who):
    return Req("GET", f"/fhir/R4/ServiceRequest/{c.referral_of(c.ep['id'])['id']}")


# ---- the table ------------------------------------------------------------------------
#
# (method, path template [variant], factory, expectations).  Every expectation is
# written out; the rules they come from (lib/access.c):
#   nurse: episode read/admit/write, task create (any discipline), task update ("ward"
#     only), events -- all on own wards only
#   social_worker / ot / physio: episode read anywhere; task create+update of own
#     discipline; social_worker also assessment claim/update
#   bed_manager: episode read, audit, reports
#   admin: users, templates, wards (incl. HL7 ward map), webhooks, HL7 read, audit,
#     reports, episode read, reference list import
#   criteria-to-reside reviews: nurse on own wards, ot and physio anywhere
#   barriers: social_worker and bed_manager anywhere, nurse on own wards
#   the daily sitrep's submission: bed_manager only
#   list handlers without a ward filter show a nurse her own wards and other roles every
#   ward; GET /wards and GET /task-templates (reference_read) and GET /me and DELETE
#   /session (self) are allowed to every signed-in role.
#   partners (hub_coordinator, council_social_worker, provider_staff): reference data,
#   their own session, the stream (filtered to their referrals' events, whatever the ward
#   filter); every route about a patient, a report, the audit log or administration is
#   refused by role (403) before any handler runs.

def f_involvement_post(c, who):
    return Req("POST", f"/api/v1/episodes/{c.ep['id']}/involvements",
               {"who": "patient", "agreed": True})


def f_involvement_list(c, who):
    return Req("GET", f"/api/v1/episodes/{c.ep['id']}/involvements")


def f_report_discharges(c, who):
    return Req("GET", "/api/v1/reports/discharges")


def row(method, path, factory, *, anon, bad_token, nurse_own, nurse_other, social_worker, ot,
        physio, bed_manager, admin, partners, sw_lead=None):
    """partners: the expectation for each of PARTNERS (a hub coordinator, a council
    social worker, provider staff; the shared episode is referred to their organisations),
    or a dict naming each.  sw_lead: a social work team lead's, when it differs from any
    social worker's."""
    if sw_lead is None:
        sw_lead = social_worker
    if not isinstance(partners, dict):
        partners = {p: partners for p in PARTNERS}
    assert sorted(partners) == sorted(PARTNERS), (method, path)
    return (method, path, factory, {
        "anon": anon, "bad_token": bad_token, "nurse_own": nurse_own,
        "nurse_other": nurse_other, "social_worker": social_worker, "sw_lead": sw_lead, "ot": ot,
        "physio": physio, "bed_manager": bed_manager, "admin": admin, **partners})


ORG_READERS = {"hub_coordinator": OK, "council_social_worker": OK, "provider_staff": F}

TABLE = [
    # ---- admissions and episodes (server/api_episode.c) ----
    row("POST", "/api/v1/admissions", f_admission,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=F, partners=F),
    row("GET", "/api/v1/episodes", f_episodes_list,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=OK, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=F),
    row("GET", "/api/v1/episodes [?ward=WARD]", f_episodes_list_ward,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=F),
    row("GET", "/api/v1/episodes/{id}", f_episode_get,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=F),
    row("PATCH", "/api/v1/episodes/{id}", f_episode_patch,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=F, partners=F),
    row("POST", "/api/v1/episodes/{id}/transfer", f_episode_transfer,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=F, partners=F),
    row("POST", "/api/v1/episodes/{id}/discharge", f_episode_discharge,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=F, partners=F),
    row("POST", "/api/v1/episodes/{id}/reopen", f_episode_reopen,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=F, partners=F),
    # ---- the delays report (server/api_report.c) ----
    row("GET", "/api/v1/reports/delays", f_report,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=OK, admin=OK, partners=F),
    # ---- the daily sitrep (server/api_sitrep.c): reports are read by bed_manager and
    # admin; only bed_manager submits ----
    row("GET", "/api/v1/reports/sitrep", f_sitrep,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=OK, admin=OK, partners=F),
    row("POST", "/api/v1/reports/sitrep/{date}/submit", f_sitrep_submit,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=OK, admin=F, partners=F),
    # ---- reports of issue 14 (server/api_report.c) ----
    row("GET", "/api/v1/reports/drd", f_report_drd,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=OK, admin=OK, partners=F),
    # the long-stay list names patients: whoever reads episodes, a nurse her wards only
    row("GET", "/api/v1/reports/long-stay", f_report_long_stay,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=OK, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=F),
    row("GET", "/api/v1/reports/long-stay [?ward=WARD]", f_report_long_stay_ward,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=F),
    # ---- criteria-to-reside reviews (server/api_review.c) ----
    # review_record: nurse on own wards; ot and physio (clinical MDT members) anywhere
    row("POST", "/api/v1/episodes/{id}/reviews", f_review_post,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=F, ot=OK, physio=OK,
        bed_manager=F, admin=F, partners=F),
    row("GET", "/api/v1/episodes/{id}/reviews", f_review_list,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=F),
    # ---- barriers to discharge (server/api_barrier.c) ----
    # barrier_record: social_worker and bed_manager (who set the old delay reasons) anywhere,
    # nurse on own wards
    row("POST", "/api/v1/episodes/{id}/barriers", f_barrier_post,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=F, physio=F,
        bed_manager=OK, admin=F, partners=F),
    row("GET", "/api/v1/episodes/{id}/barriers", f_barrier_list,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=F),
    row("PATCH", "/api/v1/barriers/{id}", f_barrier_patch,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=F, physio=F,
        bed_manager=OK, admin=F, partners=F),
    # ---- reference lists (server/api_reference.c) ----
    row("GET", "/api/v1/reference/lists", f_reference_lists,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=OK, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    row("GET", "/api/v1/reference/delay-reasons", f_delay_reasons,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=OK, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    row("POST", "/api/v1/reference/delay-reasons", f_delay_reasons_post,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("GET", "/api/v1/reference/criteria", f_criteria,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=OK, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    # ---- tasks (server/api_task.c) ----
    row("GET", "/api/v1/tasks", f_tasks_all,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=OK, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=F),
    row("GET", "/api/v1/tasks [?ward=WARD]", f_tasks_all_ward,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=F),
    row("GET", "/api/v1/episodes/{id}/tasks", f_tasks_list,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=F),
    row("POST", "/api/v1/episodes/{id}/tasks [ward]", f_task_create("ward"),
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=F, partners=F),
    row("POST", "/api/v1/episodes/{id}/tasks [social_work]", f_task_create("social_work"),
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=F, physio=F,
        bed_manager=F, admin=F, partners=F),
    row("POST", "/api/v1/episodes/{id}/tasks [ot]", f_task_create("ot"),
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=F, ot=OK, physio=F,
        bed_manager=F, admin=F, partners=F),
    row("POST", "/api/v1/episodes/{id}/tasks [physio]", f_task_create("physio"),
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=F, ot=F, physio=OK,
        bed_manager=F, admin=F, partners=F),
    row("PATCH", "/api/v1/tasks/{id} [ward]", f_task_patch("ward"),
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=F, partners=F),
    row("PATCH", "/api/v1/tasks/{id} [social_work]", f_task_patch("social_work"),
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=OK, ot=F, physio=F,
        bed_manager=F, admin=F, partners=F),
    row("PATCH", "/api/v1/tasks/{id} [ot]", f_task_patch("ot"),
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=OK, physio=F,
        bed_manager=F, admin=F, partners=F),
    row("PATCH", "/api/v1/tasks/{id} [physio]", f_task_patch("physio"),
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=OK,
        bed_manager=F, admin=F, partners=F),
    # ---- assessments (server/api_assessment.c): retired by the referrals (issue 15), 410
    # naming /api/v1/referrals to every signed-in caller ----
    row("GET", "/api/v1/assessments", f_assessments_list,
        anon=U, bad_token=U, nurse_own=G, nurse_other=G, social_worker=G, ot=G, physio=G,
        bed_manager=G, admin=G, partners=G),
    row("GET", "/api/v1/assessments [?ward=WARD]", f_assessments_list_ward,
        anon=U, bad_token=U, nurse_own=G, nurse_other=G, social_worker=G, ot=G, physio=G,
        bed_manager=G, admin=G, partners=G),
    row("PATCH", "/api/v1/assessments/{id}", f_assessment_patch,
        anon=U, bad_token=U, nurse_own=G, nurse_other=G, social_worker=G, ot=G, physio=G,
        bed_manager=G, admin=G, partners=G),
    row("POST", "/api/v1/assessments/{id}/claim", f_assessment_claim,
        anon=U, bad_token=U, nurse_own=G, nurse_other=G, social_worker=G, ot=G, physio=G,
        bed_manager=G, admin=G, partners=G),
    row("POST", "/api/v1/assessments/{id}/release", f_assessment_release,
        anon=U, bad_token=U, nurse_own=G, nurse_other=G, social_worker=G, ot=G, physio=G,
        bed_manager=G, admin=G, partners=G),
    # ---- referrals (server/api_referral.c; issue 15).  The shared episode's open referral
    # names the hub and the provider; its closed one the council.  A partner asking after a
    # referral that does not name their organisation is told it does not exist (404). ----
    row("GET", "/api/v1/referrals", f_referrals_list,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=OK, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    row("GET", "/api/v1/referrals/{id}", f_referral_get,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK,
        partners={"hub_coordinator": OK, "council_social_worker": N, "provider_staff": OK}),
    row("PATCH", "/api/v1/referrals/{id}", f_referral_patch,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=F, physio=F,
        bed_manager=F, admin=F, partners=F),
    row("GET", "/api/v1/referrals/{id}/steps", f_referral_steps_get,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK,
        partners={"hub_coordinator": OK, "council_social_worker": N, "provider_staff": OK}),
    # "accept" is the partner's: trust roles may not take it, provider staff only confirm
    row("POST", "/api/v1/referrals/{id}/steps", f_referral_step,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=F,
        partners={"hub_coordinator": OK, "council_social_worker": N, "provider_staff": F}),
    row("POST", "/api/v1/referrals/{id}/hold", f_referral_hold,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=F, physio=F,
        bed_manager=F, admin=F, partners=F),
    row("POST", "/api/v1/referrals/{id}/release", f_referral_release,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=F, physio=F,
        bed_manager=F, admin=F, partners=F),
    # reassigning a referral's holder, and the picker of social workers for it: a social
    # work team lead's only (issue 16)
    row("POST", "/api/v1/referrals/{id}/assign", f_referral_assign,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, sw_lead=OK, ot=F,
        physio=F, bed_manager=F, admin=F, partners=F),
    row("GET", "/api/v1/social-workers", f_social_workers,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, sw_lead=OK, ot=F,
        physio=F, bed_manager=F, admin=F, partners=F),
    row("GET", "/api/v1/episodes/{id}/referrals", f_episode_referrals,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    # ---- audit (server/api_audit.c) ----
    row("GET", "/api/v1/audit", f_audit,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=OK, admin=OK, partners=F),
    # ---- administration (server/api_admin.c) ----
    row("GET", "/api/v1/wards", f_wards_list,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=OK, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    row("POST", "/api/v1/wards", f_ward_post,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("PATCH", "/api/v1/wards/{code}", f_ward_patch,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("GET", "/api/v1/task-templates", f_templates_list,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=OK, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    row("POST", "/api/v1/task-templates", f_template_post,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("PATCH", "/api/v1/task-templates/{id}", f_template_patch,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("GET", "/api/v1/users", f_users_list,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("POST", "/api/v1/users", f_user_post,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("POST", "/api/v1/users/{id}/disable", f_user_disable,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("POST", "/api/v1/users/{id}/unlock", f_user_unlock,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    # ---- messages (server/api_message.c; issue 17): one's own contact details; a user's
    # and the outbox's delivery status are the admin's ----
    row("GET", "/api/v1/me/contact", f_me_contact_get,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=OK, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    row("PUT", "/api/v1/me/contact", f_me_contact_put,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=OK, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    row("GET", "/api/v1/users/{id}/contact", f_user_contact_get,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("PUT", "/api/v1/users/{id}/contact", f_user_contact_put,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("GET", "/api/v1/messages", f_messages_list,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("GET", "/api/v1/rota", f_rota_list,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("POST", "/api/v1/rota", f_rota_post,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    # ---- organisations (server/api_admin.c; issue 15): the admin manages them; those who
    # pick one read the list (organisation_read: a hub coordinator or council social worker
    # picks a provider, a social worker or bed manager sees the hubs; non-admins get the
    # public fields of enabled ones); provider staff pick nothing ----
    row("GET", "/api/v1/organisations", f_orgs_list,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=OK, ot=F, physio=F,
        bed_manager=OK, admin=OK, partners=ORG_READERS),
    row("POST", "/api/v1/organisations", f_org_post,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("GET", "/api/v1/organisations/{id}", f_org_get,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=OK, ot=F, physio=F,
        bed_manager=OK, admin=OK, partners=ORG_READERS),
    row("PATCH", "/api/v1/organisations/{id}", f_org_patch,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("POST", "/api/v1/organisations/{id}/disable", f_org_disable,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    # ---- HL7 (server/api_hl7.c) ----
    row("GET", "/api/v1/hl7/messages", f_hl7_messages,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("GET", "/api/v1/hl7/ward-map", f_ward_map_list,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("GET", "/api/v1/hl7/ward-map/{pas_code}", f_ward_map_get,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("PUT", "/api/v1/hl7/ward-map/{pas_code}", f_ward_map_put,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("DELETE", "/api/v1/hl7/ward-map/{pas_code}", f_ward_map_delete,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    # ---- webhooks (server/api_webhook.c) ----
    row("GET", "/api/v1/webhooks", f_webhooks_list,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("POST", "/api/v1/webhooks", f_webhook_post,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("PATCH", "/api/v1/webhooks/{id}", f_webhook_patch,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    row("DELETE", "/api/v1/webhooks/{id}", f_webhook_delete,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    # ---- GOV.UK Notify (server/api_notify.c; issue 17): the admin's test message ----
    row("POST", "/api/v1/admin/notify-test", f_notify_test,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=F, admin=OK, partners=F),
    # ---- session (server/api_session.c; POST /api/v1/session is public) ----
    row("DELETE", "/api/v1/session", f_session_delete,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=OK, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    row("GET", "/api/v1/me", f_me,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=OK, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    # ---- live events (server/api_stream.c) ----
    row("GET", "/api/v1/stream", f_stream,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=OK, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    row("GET", "/api/v1/stream [?ward=WARD]", f_stream_ward,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    # ---- the FHIR R4 facade (server/api_fhir.c): the JSON API's rules.  Trust roles read
    # as episodes (referrals too); a search narrows to a nurse's wards (200, filtered:
    # test_fhir.py checks the content); a read of another ward's record is 404, as for a
    # record that does not exist.  Partners read what is referred to their organisation
    # (the shared episode: the hub and the provider on its open referral, the council on
    # a closed one), searches filtered to it (test_fhir_partners.py checks the content);
    # a discipline task is never theirs (404), nor a referral naming someone else ----
    row("GET", "/fhir/R4/Patient", f_fhir_patient_search,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=OK, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    row("GET", "/fhir/R4/Patient/{id}", f_fhir_patient_read,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=N, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    row("GET", "/fhir/R4/Encounter", f_fhir_encounter_search,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=OK, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    row("GET", "/fhir/R4/Encounter/{id}", f_fhir_encounter_read,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=N, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    row("GET", "/fhir/R4/Task", f_fhir_task_search,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=OK, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    row("GET", "/fhir/R4/Task/{id}", f_fhir_task_read,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=N, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=N),
    row("GET", "/fhir/R4/Task/{id} [referral-{referral id}]", f_fhir_referral_task_read,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=N, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK,
        partners={"hub_coordinator": OK, "council_social_worker": N, "provider_staff": OK}),
    row("GET", "/fhir/R4/ServiceRequest", f_fhir_service_request_search,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=OK, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=OK),
    row("GET", "/fhir/R4/ServiceRequest/{id}", f_fhir_service_request_read,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=N, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK,
        partners={"hub_coordinator": OK, "council_social_worker": N, "provider_staff": OK}),
    # ---- involvement in discharge planning (server/api_involvement.c) ----
    # involvement_record: nurse on own wards; social_worker, ot, physio anywhere
    row("POST", "/api/v1/episodes/{id}/involvements", f_involvement_post,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=OK, physio=OK,
        bed_manager=F, admin=F, partners=F),
    row("GET", "/api/v1/episodes/{id}/involvements", f_involvement_list,
        anon=U, bad_token=U, nurse_own=OK, nurse_other=F, social_worker=OK, ot=OK, physio=OK,
        bed_manager=OK, admin=OK, partners=F),
    row("GET", "/api/v1/reports/discharges", f_report_discharges,
        anon=U, bad_token=U, nurse_own=F, nurse_other=F, social_worker=F, ot=F, physio=F,
        bed_manager=OK, admin=OK, partners=F),
]

# Every authenticated route of the route tables, as (method, template): (the access
# action it declares, the kind of its {param}), written out by hand from the access rules
# above.  The TABLE must cover each one, and `carebridge routes` (the route table the
# daemon dispatches by) must declare exactly these: a new route without a declared action
# or without a row here fails test_route_table_declares_access.
ROUTES = {
    ("POST", "/api/v1/admissions"): ("episode_admit", "none"),
    ("GET", "/api/v1/episodes"): ("episode_read", "none"),
    ("GET", "/api/v1/episodes/{id}"): ("episode_read", "episode"),
    ("POST", "/api/v1/episodes/{id}/involvements"): ("involvement_record", "episode"),
    ("GET", "/api/v1/episodes/{id}/involvements"): ("episode_read", "episode"),
    ("GET", "/api/v1/reports/discharges"): ("report_read", "none"),
    ("PATCH", "/api/v1/episodes/{id}"): ("episode_write", "episode"),
    ("POST", "/api/v1/episodes/{id}/transfer"): ("episode_write", "episode"),
    ("POST", "/api/v1/episodes/{id}/discharge"): ("episode_write", "episode"),
    ("POST", "/api/v1/episodes/{id}/reopen"): ("episode_write", "episode"),
    ("GET", "/api/v1/reports/delays"): ("report_read", "none"),
    ("GET", "/api/v1/reports/sitrep"): ("report_read", "none"),
    ("POST", "/api/v1/reports/sitrep/{date}/submit"): ("sitrep_submit", "date"),
    ("GET", "/api/v1/reports/drd"): ("report_read", "none"),
    ("GET", "/api/v1/reports/long-stay"): ("episode_read", "none"),
    ("POST", "/api/v1/episodes/{id}/reviews"): ("review_record", "episode"),
    ("GET", "/api/v1/episodes/{id}/reviews"): ("episode_read", "episode"),
    ("POST", "/api/v1/episodes/{id}/barriers"): ("barrier_record", "episode"),
    ("GET", "/api/v1/episodes/{id}/barriers"): ("episode_read", "episode"),
    ("PATCH", "/api/v1/barriers/{id}"): ("barrier_record", "barrier"),
    ("GET", "/api/v1/reference/lists"): ("reference_read", "none"),
    ("GET", "/api/v1/reference/delay-reasons"): ("reference_read", "none"),
    ("POST", "/api/v1/reference/delay-reasons"): ("reference_manage", "none"),
    ("GET", "/api/v1/reference/criteria"): ("reference_read", "none"),
    ("GET", "/api/v1/tasks"): ("episode_read", "none"),
    ("GET", "/api/v1/episodes/{id}/tasks"): ("episode_read", "episode"),
    ("POST", "/api/v1/episodes/{id}/tasks"): ("task_create", "episode"),
    ("PATCH", "/api/v1/tasks/{id}"): ("task_update", "task"),
    ("GET", "/api/v1/assessments"): ("self", "none"),
    ("PATCH", "/api/v1/assessments/{id}"): ("self", "assessment"),
    ("POST", "/api/v1/assessments/{id}/claim"): ("self", "assessment"),
    ("POST", "/api/v1/assessments/{id}/release"): ("self", "assessment"),
    ("GET", "/api/v1/referrals"): ("referral_read", "none"),
    ("GET", "/api/v1/referrals/{id}"): ("referral_read", "referral"),
    ("PATCH", "/api/v1/referrals/{id}"): ("referral_send", "referral"),
    ("GET", "/api/v1/referrals/{id}/steps"): ("referral_read", "referral"),
    ("POST", "/api/v1/referrals/{id}/steps"): ("referral_read", "referral"),
    ("POST", "/api/v1/referrals/{id}/hold"): ("referral_send", "referral"),
    ("POST", "/api/v1/referrals/{id}/release"): ("referral_send", "referral"),
    ("POST", "/api/v1/referrals/{id}/assign"): ("referral_assign", "referral"),
    ("GET", "/api/v1/social-workers"): ("referral_assign", "none"),
    ("GET", "/api/v1/episodes/{id}/referrals"): ("referral_read", "episode"),
    ("GET", "/api/v1/audit"): ("audit_read", "none"),
    ("GET", "/api/v1/wards"): ("reference_read", "none"),
    ("POST", "/api/v1/wards"): ("ward_manage", "none"),
    ("PATCH", "/api/v1/wards/{code}"): ("ward_manage", "ward"),
    ("GET", "/api/v1/task-templates"): ("reference_read", "none"),
    ("POST", "/api/v1/task-templates"): ("template_manage", "none"),
    ("PATCH", "/api/v1/task-templates/{id}"): ("template_manage", "task_template"),
    ("GET", "/api/v1/users"): ("user_manage", "none"),
    ("POST", "/api/v1/users"): ("user_manage", "none"),
    ("POST", "/api/v1/users/{id}/disable"): ("user_manage", "user"),
    ("POST", "/api/v1/users/{id}/unlock"): ("user_manage", "user"),
    ("GET", "/api/v1/me/contact"): ("self", "none"),
    ("PUT", "/api/v1/me/contact"): ("self", "none"),
    ("GET", "/api/v1/users/{id}/contact"): ("user_manage", "user"),
    ("PUT", "/api/v1/users/{id}/contact"): ("user_manage", "user"),
    ("GET", "/api/v1/messages"): ("user_manage", "none"),
    ("GET", "/api/v1/rota"): ("user_manage", "none"),
    ("POST", "/api/v1/rota"): ("user_manage", "none"),
    ("GET", "/api/v1/organisations"): ("organisation_read", "none"),
    ("POST", "/api/v1/organisations"): ("organisation_manage", "none"),
    ("GET", "/api/v1/organisations/{id}"): ("organisation_read", "organisation"),
    ("PATCH", "/api/v1/organisations/{id}"): ("organisation_manage", "organisation"),
    ("POST", "/api/v1/organisations/{id}/disable"): ("organisation_manage", "organisation"),
    ("GET", "/api/v1/hl7/messages"): ("hl7_read", "none"),
    ("GET", "/api/v1/hl7/ward-map"): ("hl7_read", "none"),
    ("GET", "/api/v1/hl7/ward-map/{pas_code}"): ("hl7_read", "pas_code"),
    ("PUT", "/api/v1/hl7/ward-map/{pas_code}"): ("ward_manage", "pas_code"),
    ("DELETE", "/api/v1/hl7/ward-map/{pas_code}"): ("ward_manage", "pas_code"),
    ("GET", "/api/v1/webhooks"): ("webhook_manage", "none"),
    ("POST", "/api/v1/webhooks"): ("webhook_manage", "none"),
    ("PATCH", "/api/v1/webhooks/{id}"): ("webhook_manage", "webhook"),
    ("DELETE", "/api/v1/webhooks/{id}"): ("webhook_manage", "webhook"),
    ("POST", "/api/v1/admin/notify-test"): ("webhook_manage", "none"),
    ("DELETE", "/api/v1/session"): ("self", "none"),
    ("GET", "/api/v1/me"): ("self", "none"),
    ("GET", "/api/v1/stream"): ("event_read", "none"),
    # referral reading: the trust's readers by ward (and episode reading beyond referrals,
    # checked in the handler), partners by referral
    ("GET", "/fhir/R4/Patient"): ("referral_read", "none"),
    ("GET", "/fhir/R4/Patient/{id}"): ("referral_read", "patient"),
    ("GET", "/fhir/R4/Encounter"): ("referral_read", "none"),
    ("GET", "/fhir/R4/Encounter/{id}"): ("referral_read", "episode"),
    ("GET", "/fhir/R4/Task"): ("referral_read", "none"),
    ("GET", "/fhir/R4/Task/{id}"): ("referral_read", "fhir_task"),
    ("GET", "/fhir/R4/ServiceRequest"): ("referral_read", "none"),
    ("GET", "/fhir/R4/ServiceRequest/{id}"): ("referral_read", "referral"),
}

# The routes anyone may call without credentials: health, sign-in, the pages.
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("POST", "/api/v1/session"),
    ("GET", "/"),
    ("GET", "/login"),
    ("GET", "/ward"),
    ("GET", "/queue"),
    ("GET", "/dashboard"),
    ("GET", "/static/{file}"),
    ("GET", "/api/v1/auth/methods"),
    ("GET", "/api/v1/oidc/login"),
    ("GET", "/api/v1/oidc/callback"),
    ("GET", "/fhir/R4/metadata"),   # FHIR clients read the CapabilityStatement first
    ("GET", "/hub"),                # the partners' page (issue 15)
}

# The {param} kinds that name a patient's record: their handlers check the ward.
WARD_SCOPED_IDS = {"episode", "task", "assessment", "barrier", "referral", "patient",
                   "fhir_task"}

CASES = [pytest.param(method, path, factory, who, expect[who], id=f"{method} {path} | {who}")
         for method, path, factory, expect in TABLE for who in CALLERS]


def _template(path):
    return path.split(" [")[0]


def test_table_covers_every_route_once_per_caller():
    covered = {(m, _template(p)) for m, p, _, _ in TABLE}
    assert covered == set(ROUTES)
    for m, p, _, expect in TABLE:
        assert sorted(expect) == sorted(CALLERS), (m, p)
        assert expect["anon"] == U and expect["bad_token"] == U, (m, p)
        for who, e in expect.items():
            assert e in (OK, F, U, N, G), (m, p, who, e)
            # "not found" for "not yours": only the FHIR facade, and partners (a patient
            # not referred to their organisation does not exist for them)
            assert e != N or p.startswith("/fhir/") or who in PARTNERS, (m, p, who, e)


def route_table():
    """The daemon's route table, as `carebridge routes` prints it."""
    out = run_bin("routes", check=True)
    return json.loads(out.stdout)


def test_route_table_declares_access():
    """Every route of the table the daemon dispatches by declares its access (issue 20 #8).

    Public routes are exactly PUBLIC; every other route names an access action and the
    kind of its {param}, and they are the ones written out in ROUTES.
    """
    routes = route_table()
    public = {(r["method"], r["pattern"]) for r in routes if r["public"]}
    assert public == PUBLIC
    declared = {}
    for r in routes:
        if r["public"]:
            continue
        assert r["action"], f"{r['method']} {r['pattern']} declares no access action"
        declared[(r["method"], r["pattern"])] = (r["action"], r["id"])
        assert r["ward_scoped"] == (r["id"] in WARD_SCOPED_IDS), r
        assert (r["id"] == "none") == ("{" not in r["pattern"]), r
    assert declared == ROUTES


def _bad_param(kind):
    return "not-a-uuid" if kind not in ("ward", "pas_code") else "bad*code"


@pytest.mark.parametrize("method,path", sorted(p for p, (_, k) in ROUTES.items() if k != "none"))
def test_malformed_param_is_404_before_the_handler(ctx, method, path):
    """http.c checks each {param}'s declared kind: a malformed one names nothing (404).
    A {date} names no record: its handler refuses a malformed one as bad input (400),
    as the report contract has it, still naming the parameter."""
    kind = ROUTES[(method, path)][1]
    who = next(w for m, p, _, expect in TABLE if m == method and _template(p) == path
               for w in CALLERS if expect[w] in (OK, G))
    name = re.search(r"\{(\w+)\}", path).group(1)
    url = re.sub(r"\{\w+\}", _bad_param(kind), path)
    r = ctx.d.request(method, url, json={}, headers=ctx.users[who].auth)
    assert r.status_code == (400 if kind == "date" else 404), r.text
    if path.startswith("/fhir/"):
        # the FHIR facade's errors are OperationOutcomes, naming the parameter the same way
        assert r.json()["resourceType"] == "OperationOutcome", r.text
        assert r.json()["issue"][0]["expression"] == [name], r.text
        return
    assert r.json()["error"]["field"] == name, r.text


def test_forbidden_role_is_refused_before_the_lookup(ctx):
    """A role that may never do a route's action is refused before its {id} is looked up:
    the same 403 for a record that exists and one that does not (no existence oracle)."""
    ot = ctx.users["ot"].auth
    for eid in (ctx.ep["id"], str(uuid.uuid4())):
        r = ctx.d.request("PATCH", f"/api/v1/episodes/{eid}", json={"bed": "1"}, headers=ot)
        assert r.status_code == 403, r.text
        assert r.json()["error"]["message"] == 'role "ot" may not change episodes', r.text


@pytest.mark.parametrize("who", ["social_worker", "bed_manager", "nurse_own", "admin"])
def test_the_delay_reason_write_route_is_gone(ctx, who):
    """Issue 14: a delay's reason is a barrier now, and the 2014 reason code and the NHS /
    social care attribution are read-only.  PUT .../delay (once 200 for social workers and
    bed managers) answers a JSON 404 or 405 for everyone, and the old row is unchanged."""
    ep = ctx.delay_ep["id"]
    r = ctx.d.request("PUT", f"/api/v1/episodes/{ep}/delay",
                      json={"reason_code": "E", "attribution": "social_care"},
                      headers=ctx.users[who].auth)
    assert r.status_code in (404, 405), r.text
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    assert r.json()["error"]["code"] in ("not_found", "method_not_allowed"), r.text
    assert ctx.db.sql(f"SELECT reason_code, attribution FROM delays WHERE episode_id = '{ep}'") \
        == [["A", "NHS"]]
    # and it is read where it was: the episode's JSON still shows the old delay, read-only
    d = ctx.d.get(f"/api/v1/episodes/{ep}", headers=ctx.users["bed_manager"].auth).json()
    assert d["delay"]["reason_code"] == "A" and d["delay"]["attribution"] == "NHS", d


@pytest.fixture(scope="module")
def daemon(database):
    """This module's daemon has a GOV.UK Notify channel (to a stand-in), so that the
    admin's test message succeeds where it is allowed."""
    recv = NotifyReceiver()
    d = start_daemon(database.url, env={"CAREBRIDGE_NOTIFY_API_KEY": recv.api_key,
                                        "CAREBRIDGE_NOTIFY_BASE_URL": recv.url})
    yield d
    stop_daemon_clean(d)
    recv.close()


@pytest.fixture(scope="module")
def ctx(daemon, database):
    c = Ctx(daemon, database)
    yield c
    c.cleanup()


def _send(c, req, who):
    if who == "anon":
        headers = {}
    elif who == "bad_token":
        headers = {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}
    else:
        headers = req.auth if req.auth is not None else c.users[who].auth
    if req.headers:
        headers = {**headers, **req.headers}
    if req.stream:
        r = requests.request(req.method, c.d.base + req.path, params=req.params, headers=headers,
                             stream=True, timeout=10)
        if r.status_code >= 300:
            r.content  # an error reply is a finite JSON body
        return r
    return c.d.request(req.method, req.path, json=req.json, params=req.params, headers=headers)


@pytest.mark.parametrize("method,path,factory,who,expected", CASES)
def test_access(ctx, method, path, factory, who, expected):
    req = factory(ctx, who)
    assert req.method == method
    r = _send(ctx, req, who)
    try:
        where = f"{method} {path} as {who}: {r.status_code}"
        if expected == OK:
            text = "" if req.stream else r.text
            assert 200 <= r.status_code < 300, f"{where}, expected 2xx: {text}"
        elif expected == U and path.startswith("/fhir/"):
            # the FHIR facade refuses with an OperationOutcome, issue "login"
            assert r.status_code == 401, f"{where}, expected 401: {r.text}"
            assert r.headers.get("Content-Type", "").startswith("application/fhir+json")
            body = r.json()
            assert body["resourceType"] == "OperationOutcome", body
            assert body["issue"][0]["code"] == "login" and body["issue"][0]["diagnostics"], body
        elif expected in (N, F) and path.startswith("/fhir/"):
            # the FHIR facade's refusals are OperationOutcomes: "not-found" (no oracle of
            # what exists), "forbidden" for a role that may not read records at all
            assert r.status_code == expected, f"{where}, expected {expected}: {r.text}"
            assert r.headers.get("Content-Type", "").startswith("application/fhir+json")
            body = r.json()
            assert body["resourceType"] == "OperationOutcome", body
            issue = body["issue"][0]
            assert issue["code"] == ("not-found" if expected == N else "forbidden"), body
            assert issue["diagnostics"], body
        elif expected == U:
            assert r.status_code == 401, f"{where}, expected 401: {r.text}"
            assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
            body = r.json()
            assert set(body) == {"error"}, body
            err = body["error"]
            assert err["code"] == "unauthorized", body
            assert isinstance(err["message"], str) and err["message"], body
            assert "field" in err, body
        elif expected in (N, G):
            assert r.status_code == expected, f"{where}, expected {expected}: {r.text}"
            assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
            assert r.json()["error"]["message"], r.text
        else:
            assert r.status_code == 403, f"{where}, expected 403: {r.text}"
            assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
            err = r.json()["error"]
            assert err["code"] == "forbidden", err
            assert isinstance(err["message"], str) and err["message"], err
    finally:
        r.close()

/*
 * access.h - who may do what: roles, the principal acting, and the one
 * access decision every handler and the event hub asks for.
 *
 * This module owns the role names and the whole permission table.  It never
 * looks anything up: the caller loads the principal (with the wards the user
 * is attached to) and the target (the episode's ward, the task's discipline)
 * and passes them in.  Anything the table does not allow is refused.
 */
#ifndef CB_ACCESS_H
#define CB_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

enum role {
	ROLE_NURSE,         /* "nurse": episodes and ward tasks on their own wards */
	ROLE_SOCIAL_WORKER, /* "social_worker": social work tasks, assessments, delays */
	ROLE_OT,            /* "ot": occupational therapy tasks */
	ROLE_PHYSIO,        /* "physio": physiotherapy tasks */
	ROLE_BED_MANAGER,   /* "bed_manager": reads everything, sets delays, reports */
	ROLE_ADMIN,         /* "admin": users, templates, wards, webhooks; no clinical writes */
	ROLE_SYSTEM,        /* "system": the HL7 interface and internal jobs; never a user's */
	/* Partner roles: users of a hub, council or provider organisation (0028). */
	ROLE_HUB_COORDINATOR,       /* "hub_coordinator": runs the care transfer hub's referrals */
	ROLE_COUNCIL_SOCIAL_WORKER, /* "council_social_worker": the council's adult social care */
	ROLE_PROVIDER_STAFF,        /* "provider_staff": a home care, reablement, bed or equipment
	                               provider's staff */
};

#define ROLE_COUNT 10

enum access_action {
	ACCESS_EPISODE_READ,        /* read an episode (target: its ward) */
	ACCESS_EPISODE_ADMIT,       /* admit a patient (target: the ward admitted to) */
	ACCESS_EPISODE_WRITE,       /* patch, ready, transfer, discharge an episode */
	ACCESS_TASK_CREATE,         /* open a task (target: ward and discipline) */
	ACCESS_TASK_UPDATE,         /* change a task (target: ward and discipline) */
	ACCESS_ASSESSMENT_CLAIM,    /* claim or release a Care Act assessment */
	ACCESS_ASSESSMENT_UPDATE,   /* move an assessment on */
	ACCESS_AUDIT_READ,          /* read the audit log */
	ACCESS_REPORT_READ,         /* read delay and flow reports */
	ACCESS_USER_MANAGE,         /* create, change, disable users */
	ACCESS_TEMPLATE_MANAGE,     /* edit task templates */
	ACCESS_WARD_MANAGE,         /* edit wards */
	ACCESS_WEBHOOK_MANAGE,      /* edit webhooks */
	ACCESS_HL7_READ,            /* read stored HL7 messages */
	ACCESS_EVENT_READ,          /* receive a live event (target: its ward, NULL if none) */
	ACCESS_SELF,                /* one's own session and profile (sign out, "me") */
	ACCESS_REFERENCE_READ,      /* read reference data: wards, templates, reference lists */
	ACCESS_REVIEW_RECORD,       /* record a criteria-to-reside review (target: the ward) */
	ACCESS_REFERENCE_MANAGE,    /* import reference lists (delay reasons) */
	ACCESS_BARRIER_RECORD,      /* record or change barriers to discharge (target: the ward) */
	ACCESS_SITREP_SUBMIT,       /* submit the daily acute discharge sitrep of a date */
	ACCESS_REFERRAL_READ,       /* read a referral (target: ward, organisations referred to) */
	ACCESS_REFERRAL_SEND,       /* the referring side's steps: complete, send, withdraw, hold */
	ACCESS_REFERRAL_RESPOND,    /* the partner's steps: accept, decline, ask, source, confirm */
	ACCESS_ORGANISATION_MANAGE, /* create and change organisations */
	ACCESS_INVOLVEMENT_RECORD,  /* record the patient's, family's or carer's involvement */
	ACCESS_ORGANISATION_READ,   /* list organisations to pick one (a hub, a provider) */
	ACCESS_REFERRAL_ASSIGN,     /* reassign a referral being completed to another holder,
	                               and list who may hold one: a social work team lead */
};

#define ACCESS_ACTION_COUNT 28

/* Sizes of the principal's fixed strings, NUL included. */
#define PRINCIPAL_ID_SIZE 37   /* a UUID in text form */
#define PRINCIPAL_NAME_SIZE 65 /* a user's display name */

/* Who is acting: a signed-in user, or the system itself. */
struct principal {
	char id[PRINCIPAL_ID_SIZE];           /* the user's UUID; "" for the system */
	char name[PRINCIPAL_NAME_SIZE];       /* display name, for audit */
	enum role role;                       /* what the principal may do */
	const char *const *wards;             /* ward codes the user is attached to; borrowed */
	size_t nwards;                        /* entries in wards */
	char organisation[PRINCIPAL_ID_SIZE]; /* the user's organisation's UUID; "" = the trust */
	bool team_lead;                       /* users.team_lead: leads their discipline's team */
};

/* What an action is about. */
struct access_target {
	const char *ward;       /* the episode's (or event's) ward code, NULL if none; borrowed */
	const char *discipline; /* the task's discipline, NULL if none; borrowed */
	/* The organisations the episode is referred to (each referral's hub and
	 * service provider, open or closed), for partner roles; borrowed. */
	const char *const *orgs;
	size_t norgs;
};

/*
 * Whether role is a partner's (hub coordinator, council social worker,
 * provider staff): a user of an organisation outside the trust, who sees only
 * the patients referred to that organisation.
 */
bool role_is_partner(enum role role);

/*
 * Whether a user of role may belong to an organisation of kind org_kind
 * ("trust", "local_authority", "hub", "provider"): trust roles to the trust;
 * hub_coordinator to a hub or a local authority (councils run hubs);
 * council_social_worker to a local authority or a hub; provider_staff to a
 * provider.  Returns ST_OK, or ST_INVALID with field "organisation" and a
 * message such as: role "nurse" belongs to the trust, not to a "hub"
 */
enum status role_fits_organisation(enum role role, const char *org_kind, struct err *err);

/* Whether the target is referred to p's organisation (one of t->orgs). */
bool principal_is_referred(const struct principal *p, const struct access_target *t);

/* The name of role ("social_worker", ...); a static string. */
const char *role_name(enum role role);

/*
 * Set *out to the role named in, "system" included: for names the daemon
 * wrote itself, such as an audit row's actor role.  Returns ST_OK, or
 * ST_INVALID with field "role" when in is NULL or names no role.
 */
enum status role_parse(const char *in, enum role *out, struct err *err);

/*
 * As role_parse(), but for a role to give a user: "system" is refused with
 * ST_INVALID (field "role"), since only the daemon acts as the system.  Use
 * this for anything a client sends.
 */
enum status role_parse_user(const char *in, enum role *out, struct err *err);

/*
 * The task discipline a role works in: nurse "ward", social_worker
 * "social_work", ot "ot", physio "physio"; NULL for the other roles.
 */
const char *role_discipline(enum role role);

/* A short name for action ("episode_read", ...), for logs; a static string. */
const char *access_action_name(enum access_action action);

/* Whether ward (NULL gives false) is one of p's wards; exact comparison. */
bool principal_has_ward(const struct principal *p, const char *ward);

/*
 * Whether p may perform action a on target t (NULL means no ward and no
 * discipline).  The rules:
 *   nurse: read, admit and write episodes, create tasks of any discipline and
 *     update "ward" tasks, all only on the user's own wards; live events of
 *     its own wards.
 *   social_worker, ot, physio: read episodes on every ward; create and update
 *     tasks of their own discipline (role_discipline()) on every ward;
 *     social_worker also claims and updates assessments and sets delays.
 *   bed_manager: read episodes on every ward, set delays, read the audit log
 *     and reports.
 *   admin: manage users, templates, wards and webhooks, read HL7 messages,
 *     the audit log, reports and episodes on every ward.
 *   criteria-to-reside reviews (ACCESS_REVIEW_RECORD): nurse on the user's own
 *     wards; ot and physio, clinical members of the MDT who cover every ward,
 *     anywhere; not social_worker, bed_manager nor admin (not a clinical
 *     decision of theirs).  Importing reference lists: admin.
 *   barriers to discharge (ACCESS_BARRIER_RECORD): those who set delays
 *     (social_worker, bed_manager) on every ward, and nurse on the user's own
 *     wards; not ot, physio nor admin.
 *   the daily sitrep's submission (ACCESS_SITREP_SUBMIT): bed_manager, whose
 *     return it is; not admin (reads reports, submits nothing clinical).
 *   the involvement of the patient, family or carer in discharge planning
 *     (ACCESS_INVOLVEMENT_RECORD): those who hold those conversations on the
 *     ward: nurse on the user's own wards, social_worker, ot and physio on
 *     every ward; not bed_manager (plans beds, not with families) nor admin.
 *   system: everything.
 *   referrals (0028): reading them follows episode reading for trust roles
 *     (ACCESS_REFERRAL_READ); the referring side's steps (ACCESS_REFERRAL_SEND:
 *     complete, send, withdraw, hold) are the nurse's on her own wards and the
 *     social worker's on every ward; organisations are the admin's to manage.
 *   partner roles (hub_coordinator, council_social_worker, provider_staff):
 *     only targets referred to their own organisation (principal_is_referred),
 *     whatever the ward: read referrals, take the partner's steps
 *     (ACCESS_REFERRAL_RESPOND; lib/referral.h says which steps are the
 *     partner's, the handler which of them provider staff may take), receive
 *     the events of those referrals; their own session and reference data.
 *     Nothing else: not episodes, boards, tasks, reports, the audit log.
 *   reassigning who holds a referral being completed (ACCESS_REFERRAL_ASSIGN):
 *     a social worker who is a team lead (p->team_lead), on every ward; no one
 *     else (a social worker who is not a lead is refused as the role is).
 * Live events (ACCESS_EVENT_READ) follow episode reading for the event's
 * ward; events without a ward (user changes, ...) go to admin and system only
 * (lib/event_filter.c lets report events such as "sitrep.submitted" follow
 * ACCESS_REPORT_READ instead).
 * A nurse is refused any action on a target without a ward; list handlers
 * filter by p->wards instead.  p and t are borrowed.  Returns ST_OK, or
 * ST_FORBIDDEN with a message such as: role "ot" may not update "ward" tasks
 */
enum status access_check(const struct principal *p, enum access_action a,
                         const struct access_target *t, struct err *err);

/*
 * Whether p's role may perform action a on some target at all: the part of
 * access_check() that does not depend on the target, for the dispatcher to
 * apply before any handler runs.  A nurse may read episodes (on her wards),
 * so ACCESS_EPISODE_READ passes here and access_check() decides per ward.
 * Returns ST_OK, or ST_FORBIDDEN with access_check()'s message.
 */
enum status access_role_may(const struct principal *p, enum access_action a, struct err *err);

/*
 * Whether p may perform a on every ward, not only on its own: what a list
 * without a ward filter may show.  False for a role confined to its wards
 * (a nurse) and for a role that may not perform a at all, so a list handler
 * that narrows to p->wards unless this holds fails closed for any new role.
 */
bool access_reaches_every_ward(const struct principal *p, enum access_action a);

/*
 * Whether a user of role, attached to t's ward or not (on_ward), may be made
 * the assignee of a task with target t: only someone who may update the task
 * (access_check's ACCESS_TASK_UPDATE) can be given it.  t is borrowed.
 * Returns ST_OK, or ST_INVALID with field "assignee" and a message such as:
 * the assignee may not work on this task: role "ot" may not update "physio" tasks
 */
enum status access_check_assignee(enum role role, bool on_ward, const struct access_target *t,
                                  struct err *err);

/*
 * Whether a user of role, attached to t's ward or not (on_ward), may be made
 * the holder of a referral with target t (a team lead's reassignment): a
 * social worker who may take the referring side's steps there
 * (ACCESS_REFERRAL_SEND).  t is borrowed.  Returns ST_OK, or ST_INVALID with
 * field "user_id" and a message such as:
 * the new holder must be a social worker, not "nurse"
 */
enum status access_check_holder(enum role role, bool on_ward, const struct access_target *t,
                                struct err *err);

#endif

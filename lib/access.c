/*
 * access.c - role names and the permission table.
 *
 * The table below is the whole policy: one row per role, one entry per
 * action, each entry a set of conditions on the target.  An entry of 0 means
 * refused; the checks in access_check() only ever narrow what a row allows.
 */
#include "access.h"

#include <string.h>

#include "xmalloc.h"

/* Conditions on an access_rules[] entry. */
#define ACCESS_RULE_ALLOW 0x1    /* the role may do this at all */
#define ACCESS_RULE_OWN_WARD 0x2 /* the target's ward must be one of the principal's */
#define ACCESS_RULE_A_WARD 0x4   /* the target must have a ward (any) */
#define ACCESS_RULE_OWN_DISC 0x8 /* the target's discipline must be the role's */
#define ACCESS_RULE_REFERRED                                                                       \
	0x10 /* the target must be referred to the principal's organisation                        \
	      */

#define ACCESS_RULE_TEAM_LEAD 0x20 /* the principal must be a team lead (p->team_lead) */

#define ACCESS_RULE_ANY ACCESS_RULE_ALLOW
#define ACCESS_RULE_WARD_SCOPED (ACCESS_RULE_ALLOW | ACCESS_RULE_OWN_WARD)
#define ACCESS_RULE_PARTNER (ACCESS_RULE_ALLOW | ACCESS_RULE_REFERRED)

static const char *const role_names[ROLE_COUNT] = {
    [ROLE_NURSE] = "nurse",
    [ROLE_SOCIAL_WORKER] = "social_worker",
    [ROLE_OT] = "ot",
    [ROLE_PHYSIO] = "physio",
    [ROLE_BED_MANAGER] = "bed_manager",
    [ROLE_ADMIN] = "admin",
    [ROLE_SYSTEM] = "system",
    [ROLE_HUB_COORDINATOR] = "hub_coordinator",
    [ROLE_COUNCIL_SOCIAL_WORKER] = "council_social_worker",
    [ROLE_PROVIDER_STAFF] = "provider_staff",
};

static const char *const role_disciplines[ROLE_COUNT] = {
    [ROLE_NURSE] = "ward",
    [ROLE_SOCIAL_WORKER] = "social_work",
    [ROLE_OT] = "ot",
    [ROLE_PHYSIO] = "physio",
};

static const char *const access_action_names[ACCESS_ACTION_COUNT] = {
    [ACCESS_EPISODE_READ] = "episode_read",
    [ACCESS_EPISODE_ADMIT] = "episode_admit",
    [ACCESS_EPISODE_WRITE] = "episode_write",
    [ACCESS_TASK_CREATE] = "task_create",
    [ACCESS_TASK_UPDATE] = "task_update",
    [ACCESS_ASSESSMENT_CLAIM] = "assessment_claim",
    [ACCESS_ASSESSMENT_UPDATE] = "assessment_update",
    [ACCESS_AUDIT_READ] = "audit_read",
    [ACCESS_REPORT_READ] = "report_read",
    [ACCESS_USER_MANAGE] = "user_manage",
    [ACCESS_TEMPLATE_MANAGE] = "template_manage",
    [ACCESS_WARD_MANAGE] = "ward_manage",
    [ACCESS_WEBHOOK_MANAGE] = "webhook_manage",
    [ACCESS_HL7_READ] = "hl7_read",
    [ACCESS_EVENT_READ] = "event_read",
    [ACCESS_SELF] = "self",
    [ACCESS_REFERENCE_READ] = "reference_read",
    [ACCESS_REVIEW_RECORD] = "review_record",
    [ACCESS_REFERENCE_MANAGE] = "reference_manage",
    [ACCESS_BARRIER_RECORD] = "barrier_record",
    [ACCESS_SITREP_SUBMIT] = "sitrep_submit",
    [ACCESS_REFERRAL_READ] = "referral_read",
    [ACCESS_REFERRAL_SEND] = "referral_send",
    [ACCESS_REFERRAL_RESPOND] = "referral_respond",
    [ACCESS_ORGANISATION_MANAGE] = "organisation_manage",
    [ACCESS_INVOLVEMENT_RECORD] = "involvement_record",
    [ACCESS_ORGANISATION_READ] = "organisation_read",
    [ACCESS_REFERRAL_ASSIGN] = "referral_assign",
};

/* What a refusal says may not be done: role "x" may not <phrase>. */
static const char *const access_action_phrases[ACCESS_ACTION_COUNT] = {
    [ACCESS_EPISODE_READ] = "read episodes",
    [ACCESS_EPISODE_ADMIT] = "admit patients",
    [ACCESS_EPISODE_WRITE] = "change episodes",
    [ACCESS_TASK_CREATE] = "create tasks",
    [ACCESS_TASK_UPDATE] = "update tasks",
    [ACCESS_ASSESSMENT_CLAIM] = "claim assessments",
    [ACCESS_ASSESSMENT_UPDATE] = "update assessments",
    [ACCESS_AUDIT_READ] = "read the audit log",
    [ACCESS_REPORT_READ] = "read reports",
    [ACCESS_USER_MANAGE] = "manage users",
    [ACCESS_TEMPLATE_MANAGE] = "manage task templates",
    [ACCESS_WARD_MANAGE] = "manage wards",
    [ACCESS_WEBHOOK_MANAGE] = "manage webhooks",
    [ACCESS_HL7_READ] = "read HL7 messages",
    [ACCESS_EVENT_READ] = "receive events",
    [ACCESS_SELF] = "use their own session",
    [ACCESS_REFERENCE_READ] = "read reference data",
    [ACCESS_REVIEW_RECORD] = "record criteria-to-reside reviews",
    [ACCESS_REFERENCE_MANAGE] = "import reference lists",
    [ACCESS_BARRIER_RECORD] = "record barriers",
    [ACCESS_SITREP_SUBMIT] = "submit the daily sitrep",
    [ACCESS_REFERRAL_READ] = "read referrals",
    [ACCESS_REFERRAL_SEND] = "send or withdraw referrals",
    [ACCESS_REFERRAL_RESPOND] = "answer referrals",
    [ACCESS_ORGANISATION_MANAGE] = "manage organisations",
    [ACCESS_INVOLVEMENT_RECORD] = "record involvement in discharge planning",
    [ACCESS_ORGANISATION_READ] = "list organisations",
    [ACCESS_REFERRAL_ASSIGN] = "reassign referrals",
};

/*
 * The policy.  Therapists and social workers cover every ward, so their
 * reach is bounded by discipline; nurses belong to wards, so theirs is
 * bounded by ward.  Nobody but the system both reads and writes everywhere.
 */
static const unsigned char access_rules[ROLE_COUNT][ACCESS_ACTION_COUNT] = {
    [ROLE_NURSE] =
	{
	    [ACCESS_REFERRAL_READ] = ACCESS_RULE_WARD_SCOPED,
	    [ACCESS_REFERRAL_SEND] = ACCESS_RULE_WARD_SCOPED,
	    [ACCESS_EPISODE_READ] = ACCESS_RULE_WARD_SCOPED,
	    [ACCESS_EPISODE_ADMIT] = ACCESS_RULE_WARD_SCOPED,
	    [ACCESS_EPISODE_WRITE] = ACCESS_RULE_WARD_SCOPED,
	    [ACCESS_TASK_CREATE] = ACCESS_RULE_WARD_SCOPED,
	    [ACCESS_TASK_UPDATE] = ACCESS_RULE_WARD_SCOPED | ACCESS_RULE_OWN_DISC,
	    [ACCESS_EVENT_READ] = ACCESS_RULE_WARD_SCOPED,
	    [ACCESS_SELF] = ACCESS_RULE_ANY,
	    [ACCESS_REFERENCE_READ] = ACCESS_RULE_ANY,
	    [ACCESS_REVIEW_RECORD] = ACCESS_RULE_WARD_SCOPED,
	    [ACCESS_BARRIER_RECORD] = ACCESS_RULE_WARD_SCOPED,
	    [ACCESS_INVOLVEMENT_RECORD] = ACCESS_RULE_WARD_SCOPED,
	},
    [ROLE_SOCIAL_WORKER] =
	{
	    [ACCESS_REFERRAL_READ] = ACCESS_RULE_ANY,
	    [ACCESS_REFERRAL_SEND] = ACCESS_RULE_ANY,
	    [ACCESS_EPISODE_READ] = ACCESS_RULE_ANY,
	    [ACCESS_TASK_CREATE] = ACCESS_RULE_ALLOW | ACCESS_RULE_OWN_DISC,
	    [ACCESS_TASK_UPDATE] = ACCESS_RULE_ALLOW | ACCESS_RULE_OWN_DISC,
	    [ACCESS_ASSESSMENT_CLAIM] = ACCESS_RULE_ANY,
	    [ACCESS_ASSESSMENT_UPDATE] = ACCESS_RULE_ANY,
	    [ACCESS_BARRIER_RECORD] = ACCESS_RULE_ANY,
	    [ACCESS_EVENT_READ] = ACCESS_RULE_ALLOW | ACCESS_RULE_A_WARD,
	    [ACCESS_SELF] = ACCESS_RULE_ANY,
	    [ACCESS_REFERENCE_READ] = ACCESS_RULE_ANY,
	    [ACCESS_ORGANISATION_READ] = ACCESS_RULE_ANY,
	    [ACCESS_INVOLVEMENT_RECORD] = ACCESS_RULE_ALLOW | ACCESS_RULE_A_WARD,
	    [ACCESS_REFERRAL_ASSIGN] = ACCESS_RULE_ALLOW | ACCESS_RULE_TEAM_LEAD,
	},
    [ROLE_OT] =
	{
	    [ACCESS_REFERRAL_READ] = ACCESS_RULE_ANY,
	    [ACCESS_EPISODE_READ] = ACCESS_RULE_ANY,
	    [ACCESS_TASK_CREATE] = ACCESS_RULE_ALLOW | ACCESS_RULE_OWN_DISC,
	    [ACCESS_TASK_UPDATE] = ACCESS_RULE_ALLOW | ACCESS_RULE_OWN_DISC,
	    [ACCESS_EVENT_READ] = ACCESS_RULE_ALLOW | ACCESS_RULE_A_WARD,
	    [ACCESS_SELF] = ACCESS_RULE_ANY,
	    [ACCESS_REFERENCE_READ] = ACCESS_RULE_ANY,
	    [ACCESS_REVIEW_RECORD] = ACCESS_RULE_ALLOW | ACCESS_RULE_A_WARD,
	    [ACCESS_INVOLVEMENT_RECORD] = ACCESS_RULE_ALLOW | ACCESS_RULE_A_WARD,
	},
    [ROLE_PHYSIO] =
	{
	    [ACCESS_REFERRAL_READ] = ACCESS_RULE_ANY,
	    [ACCESS_EPISODE_READ] = ACCESS_RULE_ANY,
	    [ACCESS_TASK_CREATE] = ACCESS_RULE_ALLOW | ACCESS_RULE_OWN_DISC,
	    [ACCESS_TASK_UPDATE] = ACCESS_RULE_ALLOW | ACCESS_RULE_OWN_DISC,
	    [ACCESS_EVENT_READ] = ACCESS_RULE_ALLOW | ACCESS_RULE_A_WARD,
	    [ACCESS_SELF] = ACCESS_RULE_ANY,
	    [ACCESS_REFERENCE_READ] = ACCESS_RULE_ANY,
	    [ACCESS_REVIEW_RECORD] = ACCESS_RULE_ALLOW | ACCESS_RULE_A_WARD,
	    [ACCESS_INVOLVEMENT_RECORD] = ACCESS_RULE_ALLOW | ACCESS_RULE_A_WARD,
	},
    [ROLE_BED_MANAGER] =
	{
	    [ACCESS_REFERRAL_READ] = ACCESS_RULE_ANY,
	    [ACCESS_EPISODE_READ] = ACCESS_RULE_ANY,
	    [ACCESS_BARRIER_RECORD] = ACCESS_RULE_ANY,
	    [ACCESS_AUDIT_READ] = ACCESS_RULE_ANY,
	    [ACCESS_REPORT_READ] = ACCESS_RULE_ANY,
	    [ACCESS_SITREP_SUBMIT] = ACCESS_RULE_ANY,
	    [ACCESS_EVENT_READ] = ACCESS_RULE_ALLOW | ACCESS_RULE_A_WARD,
	    [ACCESS_SELF] = ACCESS_RULE_ANY,
	    [ACCESS_REFERENCE_READ] = ACCESS_RULE_ANY,
	    [ACCESS_ORGANISATION_READ] = ACCESS_RULE_ANY,
	},
    [ROLE_ADMIN] =
	{
	    [ACCESS_REFERRAL_READ] = ACCESS_RULE_ANY,
	    [ACCESS_ORGANISATION_MANAGE] = ACCESS_RULE_ANY,
	    [ACCESS_EPISODE_READ] = ACCESS_RULE_ANY,
	    [ACCESS_AUDIT_READ] = ACCESS_RULE_ANY,
	    [ACCESS_REPORT_READ] = ACCESS_RULE_ANY,
	    [ACCESS_USER_MANAGE] = ACCESS_RULE_ANY,
	    [ACCESS_TEMPLATE_MANAGE] = ACCESS_RULE_ANY,
	    [ACCESS_WARD_MANAGE] = ACCESS_RULE_ANY,
	    [ACCESS_WEBHOOK_MANAGE] = ACCESS_RULE_ANY,
	    [ACCESS_HL7_READ] = ACCESS_RULE_ANY,
	    [ACCESS_EVENT_READ] = ACCESS_RULE_ANY,
	    [ACCESS_SELF] = ACCESS_RULE_ANY,
	    [ACCESS_REFERENCE_READ] = ACCESS_RULE_ANY,
	    [ACCESS_ORGANISATION_READ] = ACCESS_RULE_ANY,
	    [ACCESS_REFERENCE_MANAGE] = ACCESS_RULE_ANY,
	},
    [ROLE_SYSTEM] =
	{
	    [ACCESS_REFERRAL_READ] = ACCESS_RULE_ANY,
	    [ACCESS_REFERRAL_SEND] = ACCESS_RULE_ANY,
	    [ACCESS_REFERRAL_RESPOND] = ACCESS_RULE_ANY,
	    [ACCESS_ORGANISATION_MANAGE] = ACCESS_RULE_ANY,
	    [ACCESS_EPISODE_READ] = ACCESS_RULE_ANY,
	    [ACCESS_EPISODE_ADMIT] = ACCESS_RULE_ANY,
	    [ACCESS_EPISODE_WRITE] = ACCESS_RULE_ANY,
	    [ACCESS_TASK_CREATE] = ACCESS_RULE_ANY,
	    [ACCESS_TASK_UPDATE] = ACCESS_RULE_ANY,
	    [ACCESS_ASSESSMENT_CLAIM] = ACCESS_RULE_ANY,
	    [ACCESS_ASSESSMENT_UPDATE] = ACCESS_RULE_ANY,
	    [ACCESS_BARRIER_RECORD] = ACCESS_RULE_ANY,
	    [ACCESS_AUDIT_READ] = ACCESS_RULE_ANY,
	    [ACCESS_REPORT_READ] = ACCESS_RULE_ANY,
	    [ACCESS_USER_MANAGE] = ACCESS_RULE_ANY,
	    [ACCESS_TEMPLATE_MANAGE] = ACCESS_RULE_ANY,
	    [ACCESS_WARD_MANAGE] = ACCESS_RULE_ANY,
	    [ACCESS_WEBHOOK_MANAGE] = ACCESS_RULE_ANY,
	    [ACCESS_HL7_READ] = ACCESS_RULE_ANY,
	    [ACCESS_EVENT_READ] = ACCESS_RULE_ANY,
	    [ACCESS_SELF] = ACCESS_RULE_ANY,
	    [ACCESS_REFERENCE_READ] = ACCESS_RULE_ANY,
	    [ACCESS_ORGANISATION_READ] = ACCESS_RULE_ANY,
	    [ACCESS_REVIEW_RECORD] = ACCESS_RULE_ANY,
	    [ACCESS_REFERENCE_MANAGE] = ACCESS_RULE_ANY,
	    [ACCESS_SITREP_SUBMIT] = ACCESS_RULE_ANY,
	    [ACCESS_INVOLVEMENT_RECORD] = ACCESS_RULE_ANY,
	    [ACCESS_REFERRAL_ASSIGN] = ACCESS_RULE_ANY,
	},
    /* Partners see what is referred to their organisation and nothing else. */
    [ROLE_HUB_COORDINATOR] =
	{
	    [ACCESS_REFERRAL_READ] = ACCESS_RULE_PARTNER,
	    [ACCESS_REFERRAL_RESPOND] = ACCESS_RULE_PARTNER,
	    [ACCESS_EVENT_READ] = ACCESS_RULE_PARTNER,
	    [ACCESS_SELF] = ACCESS_RULE_ANY,
	    [ACCESS_REFERENCE_READ] = ACCESS_RULE_ANY,
	    [ACCESS_ORGANISATION_READ] = ACCESS_RULE_ANY,
	},
    [ROLE_COUNCIL_SOCIAL_WORKER] =
	{
	    [ACCESS_REFERRAL_READ] = ACCESS_RULE_PARTNER,
	    [ACCESS_REFERRAL_RESPOND] = ACCESS_RULE_PARTNER,
	    [ACCESS_EVENT_READ] = ACCESS_RULE_PARTNER,
	    [ACCESS_SELF] = ACCESS_RULE_ANY,
	    [ACCESS_REFERENCE_READ] = ACCESS_RULE_ANY,
	    [ACCESS_ORGANISATION_READ] = ACCESS_RULE_ANY,
	},
    [ROLE_PROVIDER_STAFF] =
	{
	    [ACCESS_REFERRAL_READ] = ACCESS_RULE_PARTNER,
	    [ACCESS_REFERRAL_RESPOND] = ACCESS_RULE_PARTNER,
	    [ACCESS_EVENT_READ] = ACCESS_RULE_PARTNER,
	    [ACCESS_SELF] = ACCESS_RULE_ANY,
	    [ACCESS_REFERENCE_READ] = ACCESS_RULE_ANY,
	},
};

const char *role_name(enum role role)
{
	ASSERT((unsigned)role < ROLE_COUNT);
	return role_names[role];
}

enum status role_parse(const char *in, enum role *out, struct err *err)
{
	ASSERT(out != NULL);
	for (size_t i = 0; in != NULL && i < ROLE_COUNT; i++) {
		if (strcmp(in, role_names[i]) == 0) {
			*out = (enum role)i;
			return ST_OK;
		}
	}
	return err_set(err, ST_INVALID, "role",
	               "role must be \"nurse\", \"social_worker\", \"ot\", \"physio\", "
	               "\"bed_manager\", \"admin\", \"hub_coordinator\", "
	               "\"council_social_worker\" or \"provider_staff\"");
}

enum status role_parse_user(const char *in, enum role *out, struct err *err)
{
	enum role r;
	enum status st;

	ASSERT(out != NULL);
	st = role_parse(in, &r, err);
	if (st != ST_OK)
		return st;
	if (r == ROLE_SYSTEM)
		return err_set(err, ST_INVALID, "role",
		               "role \"system\" cannot be given to a user");
	*out = r;
	return ST_OK;
}

bool role_is_partner(enum role role)
{
	ASSERT((unsigned)role < ROLE_COUNT);
	return role == ROLE_HUB_COORDINATOR || role == ROLE_COUNCIL_SOCIAL_WORKER ||
	       role == ROLE_PROVIDER_STAFF;
}

enum status role_fits_organisation(enum role role, const char *org_kind, struct err *err)
{
	bool fits;

	ASSERT((unsigned)role < ROLE_COUNT);
	if (org_kind == NULL)
		return err_set(err, ST_INVALID, "organisation", "the organisation has no kind");
	switch (role) {
	case ROLE_HUB_COORDINATOR:
	case ROLE_COUNCIL_SOCIAL_WORKER:
		fits = strcmp(org_kind, "hub") == 0 || strcmp(org_kind, "local_authority") == 0;
		break;
	case ROLE_PROVIDER_STAFF:
		fits = strcmp(org_kind, "provider") == 0;
		break;
	default:
		fits = strcmp(org_kind, "trust") == 0;
		break;
	}
	if (fits)
		return ST_OK;
	if (!role_is_partner(role))
		return err_set(err, ST_INVALID, "organisation",
		               "role \"%s\" belongs to the trust, not to a \"%s\"",
		               role_names[role], org_kind);
	return err_set(err, ST_INVALID, "organisation", "role \"%s\" does not belong to a \"%s\"",
	               role_names[role], org_kind);
}

bool principal_is_referred(const struct principal *p, const struct access_target *t)
{
	ASSERT(p != NULL);
	if (t == NULL || p->organisation[0] == '\0')
		return false;
	ASSERT(t->norgs == 0 || t->orgs != NULL);
	for (size_t i = 0; i < t->norgs; i++) {
		if (t->orgs[i] != NULL && strcmp(t->orgs[i], p->organisation) == 0)
			return true;
	}
	return false;
}

const char *role_discipline(enum role role)
{
	ASSERT((unsigned)role < ROLE_COUNT);
	return role_disciplines[role];
}

const char *access_action_name(enum access_action action)
{
	ASSERT((unsigned)action < ACCESS_ACTION_COUNT);
	return access_action_names[action];
}

bool principal_has_ward(const struct principal *p, const char *ward)
{
	ASSERT(p != NULL);
	ASSERT(p->nwards == 0 || p->wards != NULL);
	if (ward == NULL)
		return false;
	for (size_t i = 0; i < p->nwards; i++) {
		if (p->wards[i] != NULL && strcmp(p->wards[i], ward) == 0)
			return true;
	}
	return false;
}

enum status access_role_may(const struct principal *p, enum access_action a, struct err *err)
{
	ASSERT(p != NULL);
	ASSERT((unsigned)p->role < ROLE_COUNT);
	ASSERT((unsigned)a < ACCESS_ACTION_COUNT);
	if ((access_rules[p->role][a] & ACCESS_RULE_ALLOW) == 0)
		return err_set(err, ST_FORBIDDEN, NULL, "role \"%s\" may not %s",
		               role_names[p->role], access_action_phrases[a]);
	if ((access_rules[p->role][a] & ACCESS_RULE_TEAM_LEAD) != 0 && !p->team_lead)
		return err_set(err, ST_FORBIDDEN, NULL, "only a team lead may %s",
		               access_action_phrases[a]);
	return ST_OK;
}

bool access_reaches_every_ward(const struct principal *p, enum access_action a)
{
	unsigned rule;

	ASSERT(p != NULL);
	ASSERT((unsigned)p->role < ROLE_COUNT);
	ASSERT((unsigned)a < ACCESS_ACTION_COUNT);
	rule = access_rules[p->role][a];
	if ((rule & ACCESS_RULE_TEAM_LEAD) != 0 && !p->team_lead)
		return false;
	return (rule & ACCESS_RULE_ALLOW) != 0 && (rule & ACCESS_RULE_OWN_WARD) == 0;
}

enum status access_check(const struct principal *p, enum access_action a,
                         const struct access_target *t, struct err *err)
{
	static const struct access_target none = {NULL, NULL, NULL, 0};
	const char *role;
	const char *own;
	unsigned rule;

	ASSERT(p != NULL);
	ASSERT((unsigned)p->role < ROLE_COUNT);
	ASSERT((unsigned)a < ACCESS_ACTION_COUNT);
	if (t == NULL)
		t = &none;
	role = role_names[p->role];
	rule = access_rules[p->role][a];

	if ((rule & ACCESS_RULE_ALLOW) == 0)
		return err_set(err, ST_FORBIDDEN, NULL, "role \"%s\" may not %s", role,
		               access_action_phrases[a]);

	if ((rule & ACCESS_RULE_TEAM_LEAD) != 0 && !p->team_lead)
		return err_set(err, ST_FORBIDDEN, NULL, "only a team lead may %s",
		               access_action_phrases[a]);

	if ((rule & (ACCESS_RULE_OWN_WARD | ACCESS_RULE_A_WARD)) != 0 && t->ward == NULL)
		return err_set(err, ST_FORBIDDEN, NULL, "role \"%s\" may not %s without a ward",
		               role, access_action_phrases[a]);
	if ((rule & ACCESS_RULE_OWN_WARD) != 0 && !principal_has_ward(p, t->ward))
		return err_set(err, ST_FORBIDDEN, NULL,
		               "ward \"%s\" is not one of this user's wards", t->ward);

	if ((rule & ACCESS_RULE_REFERRED) != 0 && !principal_is_referred(p, t))
		return err_set(err, ST_FORBIDDEN, NULL,
		               "this patient is not referred to this user's organisation");

	if ((rule & ACCESS_RULE_OWN_DISC) != 0) {
		own = role_disciplines[p->role];
		/* Only roles with a discipline and only task actions carry this rule. */
		ASSERT(own != NULL);
		ASSERT(a == ACCESS_TASK_CREATE || a == ACCESS_TASK_UPDATE);
		if (t->discipline == NULL)
			return err_set(err, ST_FORBIDDEN, NULL,
			               "role \"%s\" may not %s without a discipline", role,
			               access_action_phrases[a]);
		if (strcmp(t->discipline, own) != 0)
			return err_set(
			    err, ST_FORBIDDEN, NULL, "role \"%s\" may not %s \"%s\" tasks", role,
			    a == ACCESS_TASK_CREATE ? "create" : "update", t->discipline);
	}
	return ST_OK;
}

enum status access_check_assignee(enum role role, bool on_ward, const struct access_target *t,
                                  struct err *err)
{
	const char *wards[1];
	struct principal p;
	struct err why;

	ASSERT(t != NULL);
	ASSERT((unsigned)role < ROLE_COUNT);
	memset(&p, 0, sizeof p);
	p.role = role;
	wards[0] = t->ward;
	p.wards = wards;
	p.nwards = on_ward && t->ward != NULL ? 1 : 0;
	err_clear(&why);
	if (access_check(&p, ACCESS_TASK_UPDATE, t, &why) == ST_OK)
		return ST_OK;
	/* access_check speaks of "this user": here it is the assignee, not the caller */
	if (role == ROLE_NURSE && !on_ward && t->ward != NULL)
		return err_set(err, ST_INVALID, "assignee",
		               "the assignee may not work on this task: ward \"%s\" is not one of "
		               "the assignee's wards",
		               t->ward);
	return err_set(err, ST_INVALID, "assignee", "the assignee may not work on this task: %s",
	               why.message);
}

enum status access_check_holder(enum role role, bool on_ward, const struct access_target *t,
                                struct err *err)
{
	const char *wards[1];
	struct principal p;
	struct err why;

	ASSERT(t != NULL);
	ASSERT((unsigned)role < ROLE_COUNT);
	/* the queue is the social work team's: a nurse may hold her ward's, but not be given one */
	if (role != ROLE_SOCIAL_WORKER)
		return err_set(err, ST_INVALID, "user_id",
		               "the new holder must be a social worker, not \"%s\"",
		               role_names[role]);
	memset(&p, 0, sizeof p);
	p.role = role;
	wards[0] = t->ward;
	p.wards = wards;
	p.nwards = on_ward && t->ward != NULL ? 1 : 0;
	err_clear(&why);
	if (access_check(&p, ACCESS_REFERRAL_SEND, t, &why) == ST_OK)
		return ST_OK;
	return err_set(err, ST_INVALID, "user_id",
	               "the new holder may not complete this referral: %s", why.message);
}

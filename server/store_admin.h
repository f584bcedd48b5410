/*
 * store_admin.h - SQL for what administrators edit through the API: wards,
 * task templates and users (asynchronous, on the pool).
 *
 * Each write is one transaction: checks that abort it with a message for the
 * client (a duplicate code, an unknown discipline, a stale version), the
 * change, its audit row (before and after images of the object), an outbox
 * event without a ward (admins only), and the object's new JSON form to reply
 * with.  Nothing here decides who may do what or what is valid: the handlers
 * ask lib/ first.  The blocking command-line equivalents are in store_user.c.
 */
#ifndef CB_STORE_ADMIN_H
#define CB_STORE_ADMIN_H

#include <stdbool.h>

#include "status.h"
#include "store.h"
#include "store_episode.h"
#include "template.h"

struct db;

/* ---- wards ---------------------------------------------------------------- */

/* A new ward, or a change to one (the set_* flags say which fields a change has). */
struct ward_input {
	const char *code;     /* the ward code (checked by the caller); borrowed */
	const char *name;     /* the name, NULL to keep (change); borrowed */
	bool set_beds;        /* beds given */
	int beds;             /* 0..1000 */
	bool set_pas_code;    /* pas_code given (NULL clears it) */
	const char *pas_code; /* the PAS location code or NULL; borrowed */
	bool set_hub;         /* hub_organisation_id given (NULL clears it) */
	/* the care transfer hub its patients are referred to (checked by the
	 * caller: a hub or local authority), or NULL; borrowed */
	const char *hub_organisation_id;
};

/* Every ward as {"items": [...]}, each with its open episodes ("occupied"). */
void store_ward_list(struct db *db, store_json_cb *cb, void *arg);

/*
 * Add ward w; replies with its JSON.  ST_CONFLICT (field "code") when the code
 * exists, (field "pas_code") when another ward has the PAS code.
 */
void store_ward_add(struct db *db, const struct ward_input *w, const struct actor *actor,
                    store_json_cb *cb, void *arg);

/*
 * Change ward w->code (name, beds, pas_code as flagged); replies with its new
 * JSON.  ST_NOT_FOUND when there is no such ward, ST_CONFLICT (field
 * "pas_code") when another ward has the PAS code.
 */
void store_ward_update(struct db *db, const struct ward_input *w, const struct actor *actor,
                       store_json_cb *cb, void *arg);

/* ---- task templates ------------------------------------------------------- */

/* Every template, active or not, in order, as {"items": [...]}. */
void store_template_list(struct db *db, store_json_cb *cb, void *arg);

/* A template as read, for a change to be decided on. */
struct template_facts {
	struct task_template t; /* its fields (t.active included) */
	int position;           /* its place in the order */
	int version;            /* row version */
	const char *json;       /* its JSON form; valid during the callback only */
};

typedef void store_template_cb(enum status st, const struct template_facts *f, void *arg);

/* Read template id (a UUID); ST_NOT_FOUND when there is none. */
void store_template_get(struct db *db, const char *id, store_template_cb *cb, void *arg);

/*
 * Add template t (validated by the caller; its id is generated here) at
 * position (NULL: after the last); replies with its JSON.  ST_INVALID (field
 * "discipline") when the discipline does not exist.
 */
void store_template_add(struct db *db, const struct task_template *t, const int *position,
                        const struct actor *actor, store_json_cb *cb, void *arg);

/*
 * Replace every field of template f->t.id with t and position, if it is still
 * at f->version (ST_PRECONDITION otherwise); f->json is the audit's before
 * image.  Replies with the new JSON.
 */
void store_template_update(struct db *db, const struct template_facts *f,
                           const struct task_template *t, int position, const struct actor *actor,
                           store_json_cb *cb, void *arg);

/* ---- users ---------------------------------------------------------------- */

#define USER_MAX_WARDS 64

/* A user created through the API (no password: set one with the command line). */
struct user_input {
	const char *name;            /* login name (checked by the caller); borrowed */
	const char *display_name;    /* "" for none; borrowed */
	const char *role;            /* a user role's name (role_parse_user); borrowed */
	bool team_lead;              /* escalation level 2 of their discipline */
	const char *const *wards;    /* nwards ward codes; borrowed */
	int nwards;                  /* 0..USER_MAX_WARDS */
	const char *organisation_id; /* the organisation's UUID (role_fits_organisation) */
};

/* Every user as {"items": [...]} (no password hashes, no tokens). */
void store_user_list(struct db *db, store_json_cb *cb, void *arg);

/*
 * Add user u; replies with its JSON.  ST_CONFLICT (field "name") when the
 * name is taken, ST_INVALID (field "wards") when a ward does not exist.
 */
void store_user_add(struct db *db, const struct user_input *u, const struct actor *actor,
                    store_json_cb *cb, void *arg);

/*
 * Forget the failed sign-ins of user id's name (a UUID), unlocking it, audited;
 * replies with its JSON.  ST_NOT_FOUND when there is no such user.
 */
void store_user_unlock(struct db *db, const char *id, const struct actor *actor, store_json_cb *cb,
                       void *arg);

/*
 * Disable user id (a UUID) and revoke every token and session it has; replies
 * with its JSON.  ST_NOT_FOUND when there is no such user, ST_CONFLICT when
 * it is disabled already.
 */
void store_user_disable(struct db *db, const char *id, const struct actor *actor, store_json_cb *cb,
                        void *arg);

/* ---- organisations ------------------------------------------------------- */

/* Every organisation as {"items": [...]}. */
void store_organisation_list(struct db *db, const char *kind, store_json_cb *cb, void *arg);

/* An organisation as read (strings valid during the callback only). */
struct organisation_facts {
	bool found;                  /* the name matched an organisation */
	char id[37];                 /* its UUID */
	char code[33];               /* its code */
	const char *name;            /* its name */
	char kind[16];               /* "trust", "local_authority", "hub", "provider" */
	bool disabled;               /* disabled_at is set */
	const char *services;        /* comma-separated service kinds, "" if none */
	char local_authority_id[37]; /* the council it works for, "" if none */
	int version;                 /* row version */
	const char *json;            /* cb_organisation_json, for replies and audit */
};

/* a and b answer the two names asked for (found false: none, or not asked). */
typedef void store_organisation_cb(enum status st, const struct organisation_facts *a,
                                   const struct organisation_facts *b, void *arg);

/*
 * Look up the organisations ref and other name (each an id or a code; NULL:
 * not asked), in one read.  cb runs later from the loop.
 */
void store_organisation_get(struct db *db, const char *ref, const char *other,
                            store_organisation_cb *cb, void *arg);

/* An organisation to write, validated by the caller (lib/organisation.h); all borrowed. */
struct organisation_write {
	const char *code;               /* new only */
	const char *name;               /* its name */
	const char *kind;               /* new only: the kind's name */
	const char *const *services;    /* service kind names */
	size_t nservices;               /* how many */
	const char *local_authority_id; /* UUID, or NULL for none */
};

/*
 * Add organisation o with a new id, audited ("organisation.add"), announced
 * ("organisation.created", no ward); replies with its JSON.  ST_CONFLICT
 * (field "code") when the code is taken.
 */
void store_organisation_add(struct db *db, const struct organisation_write *o,
                            const struct actor *actor, store_json_cb *cb, void *arg);

/*
 * Replace name, services and local authority of organisation f->id with o's
 * if it is still at f->version (ST_PRECONDITION otherwise), audited with
 * f->json as the before image; replies with its new JSON.
 */
void store_organisation_update(struct db *db, const struct organisation_facts *f,
                               const struct organisation_write *o, const struct actor *actor,
                               store_json_cb *cb, void *arg);

/*
 * Disable organisation id (a UUID): its users can no longer sign in or use
 * their tokens, its webhooks deliver nothing.  ST_NOT_FOUND, or ST_CONFLICT
 * for the trust or one disabled already.
 */
void store_organisation_disable(struct db *db, const char *id, const struct actor *actor,
                                store_json_cb *cb, void *arg);

#endif

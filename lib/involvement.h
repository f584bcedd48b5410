/*
 * involvement.h - the involvement of the patient, family or unpaid carer in
 * discharge planning (DOMAIN.md: "Patients, families and unpaid carers must
 * be involved and that involvement recorded"; issue 15).
 *
 * An involvement is one conversation about the discharge plan: who took part
 * (the patient, family, an unpaid carer, or an advocate speaking for the
 * patient), optionally their name, when it happened, whether they agreed
 * with the plan, and a note.  Records are only ever added: a later
 * conversation that changes the answer is a new record.
 *
 * Owns the form of a record and when it may have happened; pure code (the
 * caller passes now and the episode's times).
 */
#ifndef CB_INVOLVEMENT_H
#define CB_INVOLVEMENT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "status.h"

#define INVOLVEMENT_NAME_MAX 100  /* a name's length in bytes */
#define INVOLVEMENT_NOTE_MAX 2000 /* a note's length in bytes */

/*
 * Who was involved.  Kept small on purpose: the four people DOMAIN.md and the
 * Care Act name.  Professionals (a social worker, the hub) are not "involved"
 * in this sense: their work is recorded as tasks, barriers and referrals.
 */
enum involvement_who {
	INVOLVEMENT_PATIENT,      /* "patient" */
	INVOLVEMENT_FAMILY,       /* "family": a relative or friend */
	INVOLVEMENT_UNPAID_CARER, /* "unpaid_carer": looks after the patient, unpaid */
	INVOLVEMENT_ADVOCATE,     /* "advocate": an independent advocate, or an attorney */
};

#define INVOLVEMENT_WHO_COUNT 4

/* A record as the client sent it, checked for form (involvement_parse). */
struct involvement {
	enum involvement_who who;            /* who took part */
	char name[INVOLVEMENT_NAME_MAX + 1]; /* "" when not given; never logged */
	int64_t discussed_at;                /* when (now when not given) */
	bool agreed;                         /* agreed with the discharge plan */
	char note[INVOLVEMENT_NOTE_MAX + 1]; /* "" when none; never logged */
};

/* The episode as the time check needs it. */
struct involvement_episode {
	const char *state;     /* "admitted", "discharged", "cancelled"; borrowed */
	int64_t admitted_at;   /* Unix seconds */
	int64_t discharged_at; /* Unix seconds, when discharged */
};

/* "patient" / "family" / "unpaid_carer" / "advocate" (static strings). */
const char *involvement_who_name(enum involvement_who w);

/* Parse a "who"; ST_INVALID naming field "who" and the values allowed otherwise. */
enum status involvement_who_parse(const char *s, enum involvement_who *out, struct err *err);

/*
 * Read {"who", "name", "discussed_at", "agreed", "note"} into *out: unknown
 * fields, a missing or unknown "who", a missing or non-boolean "agreed", a
 * name or note too long or with control characters, and a "discussed_at"
 * after now are refused (ST_INVALID naming the field).  discussed_at defaults
 * to now; an earlier time is allowed (a conversation entered afterwards).
 */
enum status involvement_parse(const cJSON *body, int64_t now, struct involvement *out,
                              struct err *err);

/*
 * Whether in may be recorded against episode e: not for a cancelled
 * admission (ST_CONFLICT), and discussed during the stay: not before the
 * admission, and, once discharged, not after the discharge (ST_INVALID,
 * field "discussed_at").
 */
enum status involvement_check_episode(const struct involvement *in,
                                      const struct involvement_episode *e, struct err *err);

#endif

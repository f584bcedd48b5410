/*
 * admission.h - what an admission request must say, and what opening an
 * episode creates on day one: the referral's needs (lib/referral.h) and the
 * pathway's tasks.
 *
 * Used by POST /api/v1/admissions and by HL7 A01 messages alike, so both paths
 * apply the same rules.  Pure: the caller passes now and the templates.
 */
#ifndef CB_ADMISSION_H
#define CB_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "status.h"
#include "template.h"

#define ADMISSION_NAME_MAX 100     /* family or given name, bytes */
#define ADMISSION_WARD_MAX 32      /* ward code */
#define ADMISSION_BED_MAX 32       /* bed label */
#define ADMISSION_EXTERNAL_MAX 100 /* idempotency key / visit number */
#define ADMISSION_NEEDS_MAX 4000   /* the needs summary, bytes (lib/referral.h's limit) */

struct admission {
	char nhs_number[11];                      /* 10 digits, check digit valid */
	char family_name[ADMISSION_NAME_MAX + 1]; /* required */
	char given_name[ADMISSION_NAME_MAX + 1];  /* required */
	int32_t birth_date;                       /* day number, not in the future */
	char sex[16]; /* optional: "female", "male", "other", "unknown" or "" */
	char ward[ADMISSION_WARD_MAX + 1];            /* ward code, required */
	char bed[ADMISSION_BED_MAX + 1];              /* optional */
	int64_t admitted_at;                          /* Unix seconds, not more than a day ahead */
	bool has_expected_discharge;                  /* expected_discharge_date given */
	int32_t expected_discharge_date;              /* day number, not before admission */
	int pathway;                                  /* 0..3, or -1 when not known yet */
	char external_id[ADMISSION_EXTERNAL_MAX + 1]; /* optional idempotency key */
	char needs[ADMISSION_NEEDS_MAX + 1]; /* optional: what is known of the needs, for the
	                                        day-one referral; "" if none */
};

/*
 * Read and validate an admission request body.  Unknown fields are refused.
 * Returns ST_OK or ST_INVALID naming the field (nhs_number with a wrong check
 * digit included).
 */
enum status admission_parse(const cJSON *body, int64_t now, struct admission *out, struct err *err);

/*
 * The admission as one canonical text: a JSON array of its validated fields in
 * a fixed order.  Two bodies that mean the same admission (whatever their key
 * order, spacing, or the spacing of the NHS number) give the same text, so a
 * retry can be told from a different request with the same external_id.  It
 * holds patient data: hash it, never store or log it.  A new string.
 */
char *admission_fingerprint(const struct admission *a);

/* The instant used for "before discharge" due times: 12:00 London time on the date. */
int64_t admission_expected_discharge_at(int32_t day);

struct planned_task {
	const struct task_template *tpl; /* borrowed from the caller's array */
	int64_t due_at;                  /* Unix seconds, 0 = no due time yet */
};

/*
 * The tasks to open for a: the applicable templates in order, each with its
 * due time.  out must have room for n entries; returns how many were written.
 */
size_t admission_plan(const struct admission *a, const struct task_template *templates, size_t n,
                      struct planned_task *out);

/* True if s is a UUID in canonical text form (36 characters, hex and dashes). */
bool text_is_uuid(const char *s);

#endif

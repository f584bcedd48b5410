/*
 * destination.h - the coded destination of a discharge: where the patient
 * went (issue 15, "Involvement and destination"), recorded beside the actual
 * pathway (with what support).
 *
 * A small fixed code set, not a reference list (migration 0022): carebridge
 * reports by these five codes and maps the NHS Data Dictionary's discharge
 * destination codes (HL7 A03 PV1-37) onto them in code, so a new version of
 * the set is a code change either way.  The database holds the same codes in
 * a CHECK (migration 0029); a code added here needs a migration there.
 *
 * Pure code: no storage, no logging.
 */
#ifndef CB_DESTINATION_H
#define CB_DESTINATION_H

#include <stdbool.h>

#include "status.h"

enum destination {
	DESTINATION_USUAL_RESIDENCE, /* "usual_residence": home, or wherever the patient lives */
	DESTINATION_CARE_HOME,       /* "care_home": residential or nursing home */
	DESTINATION_OTHER_HOSPITAL,  /* "other_hospital": another hospital (NHS or not) */
	DESTINATION_DIED,            /* "died": the patient died in hospital */
	DESTINATION_OTHER,           /* "other": anywhere else (hospice, prison, temporary) */
};

#define DESTINATION_COUNT 5
/* A discharge with no destination recorded (old rows, an A03 that does not say). */
#define DESTINATION_NOT_RECORDED (-1)

/* The code of d ("usual_residence", ...); a static string. */
const char *destination_name(enum destination d);

/* A label for people ("Usual place of residence", ...); a static string. */
const char *destination_label(enum destination d);

/*
 * Set *out to the destination coded s.  ST_OK, or ST_INVALID naming field
 * (the caller's name for it, "destination" in the API) and the codes allowed
 * when s is NULL or not one of them.  Codes are exact (lower case).
 */
enum status destination_parse(const char *s, const char *field, enum destination *out,
                              struct err *err);

/*
 * The destination an HL7 PV1-37 value names: one of our own codes as they
 * are spelt, or an NHS Data Dictionary "discharge destination code (hospital
 * provider spell)" (two digits, 19 to 99; the table is in destination.c
 * and docs/API.md).  Sets *out and returns true;
 * false when the value maps to nothing (empty, unknown, or 98 "not
 * applicable, spell not finished" and 99 "not known"), so the caller leaves
 * the destination not recorded.
 */
bool destination_from_hl7(const char *value, enum destination *out);

#endif

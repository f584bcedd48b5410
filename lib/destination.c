/*
 * destination.c - discharge destination codes and the NHS Data Dictionary
 * mapping (see destination.h).
 */
#include "destination.h"

#include <stddef.h>
#include <string.h>

#include "xmalloc.h"

static const char *const destination_names[DESTINATION_COUNT] = {
    [DESTINATION_USUAL_RESIDENCE] = "usual_residence",
    [DESTINATION_CARE_HOME] = "care_home",
    [DESTINATION_OTHER_HOSPITAL] = "other_hospital",
    [DESTINATION_DIED] = "died",
    [DESTINATION_OTHER] = "other",
};

static const char *const destination_labels[DESTINATION_COUNT] = {
    [DESTINATION_USUAL_RESIDENCE] = "Usual place of residence",
    [DESTINATION_CARE_HOME] = "Care home",
    [DESTINATION_OTHER_HOSPITAL] = "Other hospital",
    [DESTINATION_DIED] = "Died",
    [DESTINATION_OTHER] = "Other",
};

/*
 * NHS Data Dictionary, DISCHARGE DESTINATION CODE (HOSPITAL PROVIDER SPELL).
 * Where the patient lives is "usual residence" only for 19; a temporary
 * residence (29) is somewhere else.  Care homes run by the NHS, a local
 * authority or others (54, 65, 85) are care homes; every hospital, secure
 * unit included (48-53, 84, 87), is another hospital; 79 is death.  Courts,
 * prisons, foster care, hospices and repatriation (30, 37, 38, 66, 88) are
 * "other".  98 (spell not finished) and 99 (not known) map to nothing.
 */
static const struct {
	const char *code;      /* two digits */
	enum destination dest; /* ours */
} nhs_destinations[] = {
    {"19", DESTINATION_USUAL_RESIDENCE},
    {"29", DESTINATION_OTHER},
    {"30", DESTINATION_OTHER},
    {"37", DESTINATION_OTHER},
    {"38", DESTINATION_OTHER},
    {"48", DESTINATION_OTHER_HOSPITAL},
    {"49", DESTINATION_OTHER_HOSPITAL},
    {"50", DESTINATION_OTHER_HOSPITAL},
    {"51", DESTINATION_OTHER_HOSPITAL},
    {"52", DESTINATION_OTHER_HOSPITAL},
    {"53", DESTINATION_OTHER_HOSPITAL},
    {"54", DESTINATION_CARE_HOME},
    {"65", DESTINATION_CARE_HOME},
    {"66", DESTINATION_OTHER},
    {"79", DESTINATION_DIED},
    {"84", DESTINATION_OTHER_HOSPITAL},
    {"85", DESTINATION_CARE_HOME},
    {"87", DESTINATION_OTHER_HOSPITAL},
    {"88", DESTINATION_OTHER},
};

const char *destination_name(enum destination d)
{
	ASSERT((unsigned)d < DESTINATION_COUNT);
	return destination_names[d];
}

const char *destination_label(enum destination d)
{
	ASSERT((unsigned)d < DESTINATION_COUNT);
	return destination_labels[d];
}

/* The destination named exactly s, or -1. */
static int destination_find(const char *s)
{
	for (int i = 0; s != NULL && i < DESTINATION_COUNT; i++)
		if (strcmp(s, destination_names[i]) == 0)
			return i;
	return -1;
}

enum status destination_parse(const char *s, const char *field, enum destination *out,
                              struct err *err)
{
	int i = destination_find(s);

	ASSERT(out != NULL);
	if (i < 0)
		return err_set(err, ST_INVALID, field,
		               "\"%s\" must be \"usual_residence\", \"care_home\", "
		               "\"other_hospital\", \"died\" or \"other\"",
		               field);
	*out = (enum destination)i;
	return ST_OK;
}

bool destination_from_hl7(const char *value, enum destination *out)
{
	int i = destination_find(value);

	ASSERT(out != NULL);
	if (i >= 0) {
		*out = (enum destination)i;
		return true;
	}
	for (size_t k = 0;
	     value != NULL && k < sizeof nhs_destinations / sizeof nhs_destinations[0]; k++) {
		if (strcmp(value, nhs_destinations[k].code) == 0) {
			*out = nhs_destinations[k].dest;
			return true;
		}
	}
	return false;
}

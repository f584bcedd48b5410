/*
 * template.h - task templates: which default tasks an admission opens, and
 * when each is due.
 *
 * Templates are data, stored in the database and edited by administrators;
 * this module decides which apply to a pathway and computes due times.  It
 * holds no templates itself.
 *
 * The migration seeds exactly this default set (DOMAIN.md, "Discharge
 * pathways"); offsets are in hours:
 *
 *   pathways  discipline   title                                            anchor            h
 *   0-3       ward         Confirm EDD and clinical criteria for discharge  after_admission   24
 *   0-3       ward         Medicines to take out (TTO) ready                before_discharge  24
 *   1-3       social_work  Care Act assessment                              after_admission   24
 *   1-3       ot           Functional assessment                            after_admission   48
 *   1-3       physio       Mobility assessment                              after_admission   48
 *   2-3       social_work  Placement and funding search                     after_admission   72
 *   2-3       ot           Home visit or equipment order                    after_admission   72
 *
 * so pathway 0 (and an unknown pathway) opens 2 tasks, pathway 1 opens 5 and
 * pathways 2 and 3 open all 7.
 */
#ifndef CB_TEMPLATE_H
#define CB_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "task.h"

enum template_anchor {
	TEMPLATE_AFTER_ADMISSION,  /* "after_admission": due offset after admission */
	TEMPLATE_BEFORE_DISCHARGE, /* "before_discharge": due offset before the EDD */
};

#define TEMPLATE_ANCHOR_COUNT 2

/* Limits on a template's fields. */
#define TEMPLATE_TITLE_MAX 200               /* bytes, without the NUL */
#define TEMPLATE_OFFSET_MAX (90 * 24 * 3600) /* seconds: 90 days */

struct task_template {
	char id[37];                              /* UUID in text form */
	int min_pathway;                          /* lowest pathway it applies to, 0..3 */
	int max_pathway;                          /* highest pathway it applies to, min..3 */
	char discipline[DISCIPLINE_NAME_MAX + 1]; /* the task's discipline (discipline_validate) */
	char title[TEMPLATE_TITLE_MAX + 1];       /* the task's title, 1..200 bytes */
	enum template_anchor anchor;              /* what the due time counts from */
	int64_t offset_seconds;                   /* how far from the anchor, 0..90 days */
	bool active;                              /* false: kept for history, never applied */
};

/* The stored name of anchor ("after_admission", ...); a static string. */
const char *template_anchor_name(enum template_anchor anchor);

/*
 * Set *out to the anchor named in.  Returns ST_OK, or ST_INVALID with field
 * "anchor" when in is NULL or names no anchor.
 */
enum status template_anchor_parse(const char *in, enum template_anchor *out, struct err *err);

/*
 * Whether t opens a task for an episode on pathway (-1 when not known yet):
 * t is active and min_pathway <= pathway <= max_pathway.  An unknown pathway
 * counts as pathway 0, so only the every-pathway templates apply until the
 * pathway is set.
 */
bool template_applies(const struct task_template *t, int pathway);

/*
 * Set *due_at (unix seconds) to when a task from t is due for an episode
 * admitted at admitted_at whose expected discharge is expected_discharge_at
 * (0 for none): after_admission gives admitted_at + offset, before_discharge
 * expected_discharge_at - offset, or 0 (no due time yet) without an expected
 * discharge.  The due time is not clamped: a before_discharge task whose
 * EDD is close is due at once, or already overdue.  Returns ST_OK, or
 * ST_INVALID (with *due_at 0) when t's anchor or offset is out of range.
 */
enum status template_due_at(const struct task_template *t, int64_t admitted_at,
                            int64_t expected_discharge_at, int64_t *due_at);

/*
 * Check t before it is stored: pathways 0..3 with min <= max, a valid
 * discipline, a title of 1..200 bytes, a known anchor, an offset of 0..90
 * days.  Returns ST_OK or ST_INVALID naming the first bad field:
 * "min_pathway", "max_pathway", "discipline", "title", "anchor" or
 * "offset_seconds".
 */
enum status template_validate(const struct task_template *t, struct err *err);

/*
 * Put into out (room for n pointers) the templates of all[0..n) that apply
 * to pathway (see template_applies()), in input order, and return how many.
 * The pointers borrow from all.
 */
size_t template_select(const struct task_template *all, size_t n, int pathway,
                       const struct task_template **out);

#endif

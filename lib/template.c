/*
 * template.c - which task templates apply, when their tasks are due, and
 * what a storable template looks like.
 */
#include "template.h"

#include <string.h>

#include "episode.h"
#include "task.h"
#include "xmalloc.h"

static const char *const template_anchor_names[TEMPLATE_ANCHOR_COUNT] = {
    [TEMPLATE_AFTER_ADMISSION] = "after_admission",
    [TEMPLATE_BEFORE_DISCHARGE] = "before_discharge",
};

const char *template_anchor_name(enum template_anchor anchor)
{
	ASSERT((unsigned)anchor < TEMPLATE_ANCHOR_COUNT);
	return template_anchor_names[anchor];
}

enum status template_anchor_parse(const char *in, enum template_anchor *out, struct err *err)
{
	ASSERT(out != NULL);
	for (size_t i = 0; in != NULL && i < TEMPLATE_ANCHOR_COUNT; i++) {
		if (strcmp(in, template_anchor_names[i]) == 0) {
			*out = (enum template_anchor)i;
			return ST_OK;
		}
	}
	return err_set(err, ST_INVALID, "anchor",
	               "anchor must be \"after_admission\" or \"before_discharge\"");
}

bool template_applies(const struct task_template *t, int pathway)
{
	ASSERT(t != NULL);
	if (pathway < 0)
		pathway = PATHWAY_MIN;
	return t->active && t->min_pathway <= pathway && pathway <= t->max_pathway;
}

enum status template_due_at(const struct task_template *t, int64_t admitted_at,
                            int64_t expected_discharge_at, int64_t *due_at)
{
	ASSERT(t != NULL);
	ASSERT(due_at != NULL);
	*due_at = 0;
	/* Bounding the offset also keeps the arithmetic below from overflowing. */
	if (t->offset_seconds < 0 || t->offset_seconds > TEMPLATE_OFFSET_MAX)
		return ST_INVALID;
	switch (t->anchor) {
	case TEMPLATE_AFTER_ADMISSION:
		*due_at = admitted_at + t->offset_seconds;
		return ST_OK;
	case TEMPLATE_BEFORE_DISCHARGE:
		if (expected_discharge_at != 0)
			*due_at = expected_discharge_at - t->offset_seconds;
		return ST_OK;
	}
	return ST_INVALID;
}

enum status template_validate(const struct task_template *t, struct err *err)
{
	size_t len;

	ASSERT(t != NULL);
	if (!pathway_is_valid(t->min_pathway))
		return err_set(err, ST_INVALID, "min_pathway", "min_pathway must be 0, 1, 2 or 3");
	if (!pathway_is_valid(t->max_pathway))
		return err_set(err, ST_INVALID, "max_pathway", "max_pathway must be 0, 1, 2 or 3");
	if (t->max_pathway < t->min_pathway)
		return err_set(err, ST_INVALID, "max_pathway",
		               "max_pathway must not be less than min_pathway");
	/* The fixed arrays might come unterminated from a careless copy. */
	if (memchr(t->discipline, '\0', sizeof t->discipline) == NULL)
		return err_set(err, ST_INVALID, "discipline",
		               "discipline must be at most %d characters", DISCIPLINE_NAME_MAX);
	if (discipline_validate(t->discipline, err) != ST_OK)
		return ST_INVALID;
	len = strnlen(t->title, sizeof t->title);
	if (len == 0)
		return err_set(err, ST_INVALID, "title", "title must not be empty");
	if (len > TEMPLATE_TITLE_MAX)
		return err_set(err, ST_INVALID, "title", "title must be at most %d characters",
		               TEMPLATE_TITLE_MAX);
	if ((unsigned)t->anchor >= TEMPLATE_ANCHOR_COUNT)
		return err_set(err, ST_INVALID, "anchor",
		               "anchor must be \"after_admission\" or \"before_discharge\"");
	if (t->offset_seconds < 0 || t->offset_seconds > TEMPLATE_OFFSET_MAX)
		return err_set(err, ST_INVALID, "offset_seconds",
		               "offset_seconds must be between 0 and %d (90 days)",
		               TEMPLATE_OFFSET_MAX);
	return ST_OK;
}

size_t template_select(const struct task_template *all, size_t n, int pathway,
                       const struct task_template **out)
{
	size_t k = 0;

	ASSERT(n == 0 || (all != NULL && out != NULL));
	for (size_t i = 0; i < n; i++) {
		if (template_applies(&all[i], pathway))
			out[k++] = &all[i];
	}
	return k;
}

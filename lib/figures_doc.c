/*
 * figures_doc.c - read the store's facts document into lib/figures facts
 * (see figures_doc.h for the document's form).
 *
 * Two passes: the first checks the shape and counts every array, the second
 * fills arrays allocated once from those counts, so the facts are a handful
 * of flat arrays whatever the number of episodes.
 */
#include "figures_doc.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cbtime.h"
#include "xmalloc.h"

struct counts {
	size_t episodes, stays, readiness, barriers, changes, spans, lists, mappings, labels;
};

/* An instant: a whole number of seconds, or 0 for null when nullable. */
static bool instant(const cJSON *v, bool nullable, int64_t *out)
{
	if (nullable && (v == NULL || cJSON_IsNull(v))) {
		*out = 0;
		return true;
	}
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 1 ||
	    v->valuedouble > 253402300799.0)
		return false;
	*out = (int64_t)v->valuedouble;
	return true;
}

static const char *string_at(const cJSON *arr, int i)
{
	const cJSON *v = cJSON_GetArrayItem(arr, i);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool is_tuple(const cJSON *v, int n)
{
	return cJSON_IsArray(v) && cJSON_GetArraySize(v) == n;
}

/* An optional array member: absent or null reads as empty. */
static const cJSON *array_member(const cJSON *obj, const char *key, bool *ok)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (v == NULL || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsArray(v))
		*ok = false;
	return v;
}

static enum status bad(struct err *err, const char *what)
{
	return err_set(err, ST_INVALID, NULL, "the report facts are malformed: %s", what);
}

static enum status count_barrier(const cJSON *b, struct counts *c, struct err *err)
{
	bool ok = true;
	const cJSON *ch, *pr, *x;

	if (!cJSON_IsObject(b) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(b, "list")) ||
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(b, "key")))
		return bad(err, "a barrier without list and key");
	ch = array_member(b, "changes", &ok);
	pr = array_member(b, "primary", &ok);
	if (!ok)
		return bad(err, "a barrier's changes or primary is not an array");
	cJSON_ArrayForEach(x, ch)
	{
		if (!is_tuple(x, 3) || string_at(x, 1) == NULL || string_at(x, 2) == NULL)
			return bad(err, "a barrier change is not [at, list, key]");
		c->changes++;
	}
	cJSON_ArrayForEach(x, pr)
	{
		if (!is_tuple(x, 2))
			return bad(err, "a primary span is not [from, to]");
		c->spans++;
	}
	c->barriers++;
	return ST_OK;
}

static enum status count_all(const cJSON *root, struct counts *c, struct err *err)
{
	bool ok = true;
	const cJSON *eps, *e, *x, *lists, *maps, *labels;
	enum status st;

	if (!cJSON_IsObject(root))
		return bad(err, "not an object");
	eps = array_member(root, "episodes", &ok);
	lists = array_member(root, "lists", &ok);
	maps = array_member(root, "mappings", &ok);
	labels = array_member(root, "labels", &ok);
	if (!ok)
		return bad(err, "episodes, lists, mappings or labels is not an array");
	cJSON_ArrayForEach(e, eps)
	{
		const cJSON *stays, *rd, *bs;

		if (!cJSON_IsObject(e) ||
		    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "id")))
			return bad(err, "an episode without an id");
		stays = array_member(e, "stays", &ok);
		rd = array_member(e, "readiness", &ok);
		bs = array_member(e, "barriers", &ok);
		if (!ok)
			return bad(err,
			           "an episode's stays, readiness or barriers is not an array");
		cJSON_ArrayForEach(x, stays)
		{
			if (!is_tuple(x, 3) || string_at(x, 0) == NULL)
				return bad(err, "a stay is not [ward, from, to]");
			c->stays++;
		}
		cJSON_ArrayForEach(x, rd)
		{
			if (!is_tuple(x, 2))
				return bad(err,
				           "a readiness period is not [ready_at, reversed_at]");
			c->readiness++;
		}
		cJSON_ArrayForEach(x, bs)
		{
			if ((st = count_barrier(x, c, err)) != ST_OK)
				return st;
		}
		c->episodes++;
	}
	cJSON_ArrayForEach(x, lists)
	{
		if (!is_tuple(x, 2) || string_at(x, 0) == NULL || string_at(x, 1) == NULL)
			return bad(err, "a list is not [name, active_from]");
		c->lists++;
	}
	cJSON_ArrayForEach(x, maps)
	{
		if (!is_tuple(x, 4) || string_at(x, 0) == NULL || string_at(x, 1) == NULL ||
		    string_at(x, 2) == NULL || string_at(x, 3) == NULL)
			return bad(err, "a mapping is not [older list, older key, list, key]");
		c->mappings++;
	}
	cJSON_ArrayForEach(x, labels)
	{
		if (!is_tuple(x, 3) || string_at(x, 0) == NULL || string_at(x, 1) == NULL ||
		    string_at(x, 2) == NULL)
			return bad(err, "a label is not [list, key, label]");
		c->labels++;
	}
	return ST_OK;
}

/* Fill barrier *b from its JSON; the arrays advance by what it used. */
static enum status fill_barrier(const cJSON *j, struct figures_barrier *b, struct figures_doc *d,
                                struct counts *used, struct err *err)
{
	bool ok = true;
	const cJSON *ch = array_member(j, "changes", &ok), *pr = array_member(j, "primary", &ok),
		    *x;

	b->reason.list = cJSON_GetObjectItemCaseSensitive(j, "list")->valuestring;
	b->reason.key = cJSON_GetObjectItemCaseSensitive(j, "key")->valuestring;
	if (!instant(cJSON_GetObjectItemCaseSensitive(j, "opened_at"), false, &b->opened_at) ||
	    !instant(cJSON_GetObjectItemCaseSensitive(j, "closed_at"), true, &b->closed_at))
		return bad(err, "a barrier's opened_at or closed_at");
	b->changes = d->changes + used->changes;
	cJSON_ArrayForEach(x, ch)
	{
		struct figures_reason_change *rc = &d->changes[used->changes++];

		if (!instant(cJSON_GetArrayItem(x, 0), false, &rc->at))
			return bad(err, "a barrier change's instant");
		rc->reason.list = string_at(x, 1);
		rc->reason.key = string_at(x, 2);
		b->nchanges++;
	}
	b->primary = d->spans + used->spans;
	cJSON_ArrayForEach(x, pr)
	{
		struct figures_span *s = &d->spans[used->spans++];

		if (!instant(cJSON_GetArrayItem(x, 0), false, &s->from) ||
		    !instant(cJSON_GetArrayItem(x, 1), true, &s->to))
			return bad(err, "a primary span's instants");
		b->nprimary++;
	}
	return ST_OK;
}

static enum status fill_episode(const cJSON *j, struct figures_episode *e, size_t index,
                                struct figures_doc *d, struct counts *used, struct err *err)
{
	bool ok = true;
	const cJSON *stays = array_member(j, "stays", &ok), *rd = array_member(j, "readiness", &ok);
	const cJSON *bs = array_member(j, "barriers", &ok), *pw, *bed, *x;
	enum status st;

	e->id = cJSON_GetObjectItemCaseSensitive(j, "id")->valuestring;
	if (!instant(cJSON_GetObjectItemCaseSensitive(j, "admitted_at"), false, &e->admitted_at) ||
	    !instant(cJSON_GetObjectItemCaseSensitive(j, "discharged_at"), true, &e->discharged_at))
		return bad(err, "an episode's admitted_at or discharged_at");
	pw = cJSON_GetObjectItemCaseSensitive(j, "pathway");
	if (pw == NULL || cJSON_IsNull(pw))
		e->pathway = FIGURES_PATHWAY_NOT_RECORDED;
	else if (cJSON_IsNumber(pw) && pw->valuedouble >= 0 && pw->valuedouble <= 3 &&
	         pw->valuedouble == (int)pw->valuedouble)
		e->pathway = (int)pw->valuedouble;
	else
		return bad(err, "an episode's pathway");
	x = cJSON_GetObjectItemCaseSensitive(j, "destination");
	if (x != NULL && !cJSON_IsNull(x) && !cJSON_IsString(x))
		return bad(err, "an episode's destination");
	e->destination = cJSON_IsString(x) ? x->valuestring : NULL;
	bed = cJSON_GetObjectItemCaseSensitive(j, "bed");
	d->beds[index] = cJSON_IsString(bed) ? bed->valuestring : "";

	e->stays = d->stays + used->stays;
	cJSON_ArrayForEach(x, stays)
	{
		struct figures_stay *s = &d->stays[used->stays++];

		s->ward = string_at(x, 0);
		if (!instant(cJSON_GetArrayItem(x, 1), false, &s->from) ||
		    !instant(cJSON_GetArrayItem(x, 2), true, &s->to))
			return bad(err, "a stay's instants");
		e->nstays++;
	}
	e->readiness = d->readiness + used->readiness;
	cJSON_ArrayForEach(x, rd)
	{
		struct figures_readiness *r = &d->readiness[used->readiness++];

		if (!instant(cJSON_GetArrayItem(x, 0), false, &r->ready_at) ||
		    !instant(cJSON_GetArrayItem(x, 1), true, &r->reversed_at))
			return bad(err, "a readiness period's instants");
		e->nreadiness++;
	}
	e->barriers = d->barriers + used->barriers;
	cJSON_ArrayForEach(x, bs)
	{
		struct figures_barrier *b = &d->barriers[used->barriers++];

		if ((st = fill_barrier(x, b, d, used, err)) != ST_OK)
			return st;
		e->nbarriers++;
	}
	return ST_OK;
}

static enum status fill_all(const cJSON *root, struct figures_doc *d, struct err *err)
{
	struct counts used = {0};
	bool ok = true;
	const cJSON *x;
	enum status st;
	size_t i = 0;

	cJSON_ArrayForEach(x, array_member(root, "episodes", &ok))
	{
		if ((st = fill_episode(x, &d->episodes[i], i, d, &used, err)) != ST_OK)
			return st;
		i++;
	}
	i = 0;
	cJSON_ArrayForEach(x, array_member(root, "lists", &ok))
	{
		struct err derr;

		d->lists[i].name = string_at(x, 0);
		if (date_parse(string_at(x, 1), &d->lists[i].active_from, "active_from", &derr) !=
		    ST_OK)
			return bad(err, "a list's active_from is not a date");
		i++;
	}
	i = 0;
	cJSON_ArrayForEach(x, array_member(root, "mappings", &ok))
	{
		d->mappings[i].older.list = string_at(x, 0);
		d->mappings[i].older.key = string_at(x, 1);
		d->mappings[i].newer.list = string_at(x, 2);
		d->mappings[i].newer.key = string_at(x, 3);
		i++;
	}
	i = 0;
	cJSON_ArrayForEach(x, array_member(root, "labels", &ok))
	{
		for (int k = 0; k < 3; k++)
			d->labels[3 * i + (size_t)k] = string_at(x, k);
		i++;
	}
	return ST_OK;
}

/* calloc of n (at least one, so a NULL means nothing) elements of size. */
static void *array_of(size_t n, size_t size)
{
	return xcalloc(n > 0 ? n : 1, size);
}

enum status figures_doc_parse(const char *json, size_t len, struct figures_doc *doc,
                              struct err *err)
{
	struct counts c = {0};
	cJSON *root;
	enum status st;

	memset(doc, 0, sizeof *doc);
	root = cJSON_ParseWithLength(json, len);
	if (root == NULL)
		return bad(err, "not JSON");
	if ((st = count_all(root, &c, err)) != ST_OK) {
		cJSON_Delete(root);
		return st;
	}
	doc->root = root;
	doc->episodes = array_of(c.episodes, sizeof *doc->episodes);
	doc->beds = array_of(c.episodes, sizeof *doc->beds);
	doc->stays = array_of(c.stays, sizeof *doc->stays);
	doc->readiness = array_of(c.readiness, sizeof *doc->readiness);
	doc->barriers = array_of(c.barriers, sizeof *doc->barriers);
	doc->changes = array_of(c.changes, sizeof *doc->changes);
	doc->spans = array_of(c.spans, sizeof *doc->spans);
	doc->lists = array_of(c.lists, sizeof *doc->lists);
	doc->mappings = array_of(c.mappings, sizeof *doc->mappings);
	doc->labels = array_of(3 * c.labels, sizeof *doc->labels);
	if ((st = fill_all(root, doc, err)) != ST_OK) {
		figures_doc_free(doc);
		return st;
	}
	doc->nlabels = c.labels;
	doc->facts.episodes = doc->episodes;
	doc->facts.nepisodes = c.episodes;
	doc->facts.lists = doc->lists;
	doc->facts.nlists = c.lists;
	doc->facts.mappings = doc->mappings;
	doc->facts.nmappings = c.mappings;
	return ST_OK;
}

void figures_doc_free(struct figures_doc *doc)
{
	cJSON_Delete(doc->root);
	free(doc->episodes);
	free(doc->beds);
	free(doc->stays);
	free(doc->readiness);
	free(doc->barriers);
	free(doc->changes);
	free(doc->spans);
	free(doc->lists);
	free(doc->mappings);
	free(doc->labels);
	memset(doc, 0, sizeof *doc);
}

const char *figures_doc_label(const struct figures_doc *doc, const char *list, const char *key)
{
	if (list == NULL || key == NULL)
		return NULL;
	for (size_t i = 0; i < doc->nlabels; i++) {
		if (strcmp(doc->labels[3 * i], list) == 0 &&
		    strcmp(doc->labels[3 * i + 1], key) == 0)
			return doc->labels[3 * i + 2];
	}
	return NULL;
}

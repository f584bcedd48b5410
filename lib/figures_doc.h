/*
 * figures_doc.h - the facts of lib/figures read from the JSON document the
 * store builds (server/store_report.c, SQL_FACTS), so the daemon and the
 * command line share one reader and it is tested without a database.
 *
 * The document (instants are Unix seconds, null = not happened):
 *   {"episodes": [{"id": "uuid", "admitted_at": N, "discharged_at": N|null,
 *                  "pathway": 0..3|null, "destination": "code"|null, "bed": "..",
 *                  "stays": [["WARD", from, to|null], ...],
 *                  "readiness": [[ready_at, reversed_at|null], ...],
 *                  "barriers": [{"list": "..", "key": "..", "opened_at": N,
 *                                "closed_at": N|null,
 *                                "changes": [[at, "list", "key"], ...],
 *                                "primary": [[from, to|null], ...]}, ...]}, ...],
 *    "lists": [["nhse-acute-2023", "YYYY-MM-DD"], ...],
 *    "mappings": [["older list", "older key", "newer list", "newer key"], ...],
 *    "labels": [["list", "key", "label"], ...]}
 *
 * Every string in the facts is borrowed from the parsed document, which the
 * figures_doc owns: keep it alive while the facts or any result is used.
 */
#ifndef CB_FIGURES_DOC_H
#define CB_FIGURES_DOC_H

#include <stddef.h>

#include "figures.h"
#include "status.h"

struct figures_doc {
	struct figures_facts facts; /* what the figures read */
	void *root;                 /* the parsed document (cJSON), owned */
	const char **labels;        /* list, key, label triples (3 per label), owned array */
	size_t nlabels;             /* triples in labels */
	const char **beds;          /* per episode, its current bed ("" when none), owned array */
	/* the arrays the facts point into, owned */
	struct figures_episode *episodes;
	struct figures_stay *stays;
	struct figures_readiness *readiness;
	struct figures_barrier *barriers;
	struct figures_reason_change *changes;
	struct figures_span *spans;
	struct figures_list *lists;
	struct figures_mapping *mappings;
};

/*
 * Parse json (length len) into *doc.  ST_OK, or ST_INVALID with a message
 * naming the part that is wrong (the store wrote it, so that is a bug).
 * On failure *doc is left empty; figures_doc_free() is safe either way.
 */
enum status figures_doc_parse(const char *json, size_t len, struct figures_doc *doc,
                              struct err *err);

/* Free what doc owns and zero it. */
void figures_doc_free(struct figures_doc *doc);

/* The label of (list, key), or NULL when the document names none. */
const char *figures_doc_label(const struct figures_doc *doc, const char *list, const char *key);

#endif

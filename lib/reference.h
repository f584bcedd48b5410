/*
 * reference.h - a reference list to import (delay reasons), read from CSV or
 * JSON and validated, before any of it is stored.
 *
 * Reference lists are versioned data (migrations/0022_reference_reviews.sql):
 * a list has a name ("nhse-acute-2023"), a version and items with stable
 * keys, labels, an active-from date and optionally the key of an older list
 * each replaces.  This module owns the import formats and their checks; that
 * an older list and key exist is the store's to check.
 *
 * The CSV (RFC 4180: comma-separated, fields may be double-quoted, "" inside
 * quotes is one quote, CRLF or LF line ends) has this header, exactly:
 *
 *	list,version,key,label,active_from,older_list,older_key
 *
 * one row per item, every row naming the same list and version; active_from
 * is YYYY-MM-DD; older_list and older_key are both empty or both given.
 * Errors name the line: `line 4: "key" ...`.
 *
 * Pure code: no files, no storage, no logging.
 */
#ifndef CB_REFERENCE_H
#define CB_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "status.h"

#define REFERENCE_NAME_MAX 64    /* list name */
#define REFERENCE_VERSION_MAX 32 /* list version */
#define REFERENCE_TITLE_MAX 200  /* list title */
#define REFERENCE_KEY_MAX 64     /* item key */
#define REFERENCE_LABEL_MAX 300  /* item label */
#define REFERENCE_ITEMS_MAX 500  /* items in one list */

/* The CSV header, exactly. */
#define REFERENCE_CSV_HEADER "list,version,key,label,active_from,older_list,older_key"

struct reference_item {
	char key[REFERENCE_KEY_MAX + 1];         /* stable key */
	char label[REFERENCE_LABEL_MAX + 1];     /* shown to people */
	int32_t active_from;                     /* first date in force (day number) */
	char older_list[REFERENCE_NAME_MAX + 1]; /* "" when it replaces nothing */
	char older_key[REFERENCE_KEY_MAX + 1];   /* "" when it replaces nothing */
	char where[24];                          /* "line 4" or "items[2]", for errors */
};

struct reference_import {
	char name[REFERENCE_NAME_MAX + 1];       /* "nhse-acute-2025" */
	char version[REFERENCE_VERSION_MAX + 1]; /* "2025" */
	char title[REFERENCE_TITLE_MAX + 1];     /* the name when not given */
	bool make_default;                       /* becomes the default list of its kind */
	struct reference_item *items;            /* owned */
	size_t nitems;                           /* entries in items */
};

/* Free what *imp owns (not imp itself); safe on a zeroed struct. */
void reference_import_reset(struct reference_import *imp);

/*
 * Read a list from the CSV text (len bytes, need not be NUL-terminated) into
 * *out (reset it after, on success or failure).  ST_INVALID with field
 * "file" and a message starting with the line number on any problem.
 */
enum status reference_import_from_csv(const char *text, size_t len, struct reference_import *out,
                                      struct err *err);

/*
 * Read a list from a JSON body {"list", "version", "title"?, "default"?,
 * "items": [{"key", "label", "active_from", "older_list"?, "older_key"?}]}
 * into *out (reset it after).  ST_INVALID naming the field ("items[2].key").
 */
enum status reference_import_from_json(const cJSON *body, struct reference_import *out,
                                       struct err *err);

/* Whether s has the form of a list name: [a-z0-9][a-z0-9.-]{0,63}. */
bool reference_name_is_valid(const char *s);

/* Whether s has the form of an item key: [A-Za-z0-9][A-Za-z0-9_]{0,63}. */
bool reference_key_is_valid(const char *s);

#endif

/*
 * store_reference.c - SQL for reference lists (see store_reference.h).
 *
 * An import travels as one JSON document ($1, built with cJSON), unpacked by
 * jsonb_to_recordset, so that labels with commas and quotes need no quoting
 * of ours.  The same statements run on the pool and on the command line.
 */
#include "store_reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "cbtime.h"
#include "db.h"
#include "xmalloc.h"

/* The list of kind $1 named $2 (the default one when $2 is NULL). */
static const char SQL_REFERENCE_GET[] =
    "SELECT cb_reference_list_json(l)::text FROM reference_lists l"
    " WHERE l.kind = $1 AND (CASE WHEN $2::text IS NULL THEN l.is_default ELSE l.name = $2 END)";

/* Every list, without items. */
static const char SQL_REFERENCE_LISTS[] =
    "SELECT jsonb_build_object('items', coalesce(jsonb_agg(cb_reference_list_json(l) - 'items'"
    " || jsonb_build_object('count', (SELECT count(*) FROM reference_items i"
    "  WHERE i.list = l.name)) ORDER BY l.kind, l.name), '[]'::jsonb))::text"
    " FROM reference_lists l";

/* Import document $1: {"name", "version", "title", "default", "items": [...]}. */
static const char SQL_IMPORT_NAME_FREE[] =
    "SELECT cb_expect(NOT EXISTS (SELECT 1 FROM reference_lists WHERE name = $1::jsonb->>'name'),"
    " 'CB409', format('reference list \"%s\" already exists: lists are never changed,"
    " import a revision under a new name', $1::jsonb->>'name'))";
static const char SQL_IMPORT_OLDER_CHECK[] =
    "SELECT cb_expect(false, 'CB400', format('%s: older list \"%s\" has no key \"%s\"',"
    " x.\"where\", x.older_list, x.older_key))"
    " FROM jsonb_to_recordset($1::jsonb->'items') AS x(\"where\" text, older_list text,"
    "  older_key text)"
    " WHERE x.older_list IS NOT NULL AND NOT EXISTS (SELECT 1 FROM reference_items i"
    "  WHERE i.list = x.older_list AND i.key = x.older_key) LIMIT 1";
static const char SQL_IMPORT_UNDEFAULT[] =
    "UPDATE reference_lists SET is_default = false"
    " WHERE kind = 'delay_reason' AND is_default AND ($1::jsonb->>'default')::boolean";
static const char SQL_IMPORT_LIST[] =
    "INSERT INTO reference_lists (id, name, kind, version, title, is_default, created_by)"
    " SELECT $2::uuid, d->>'name', 'delay_reason', d->>'version', d->>'title',"
    " (d->>'default')::boolean, $3 FROM (SELECT $1::jsonb AS d) s";
static const char SQL_IMPORT_ITEMS[] =
    "INSERT INTO reference_items (list, key, label, position, active_from, older_list,"
    " older_key)"
    " SELECT $1::jsonb->>'name', x.key, x.label, x.position, x.active_from, x.older_list,"
    " x.older_key FROM jsonb_to_recordset($1::jsonb->'items') AS x(key text, label text,"
    " position integer, active_from date, older_list text, older_key text)";
/* The audit row of import $2 ($3 actor id, $4 actor, $5 request id). */
static const char SQL_IMPORT_AUDIT[] =
    "INSERT INTO audit (actor_id, actor, action, entity, entity_id, after, request_id)"
    " SELECT $3::uuid, $4, 'reference.import', 'reference_list', l.id,"
    " cb_reference_list_json(l), $5::uuid FROM reference_lists l WHERE l.id = $2::uuid"
    " AND $1::jsonb IS NOT NULL";
static const char SQL_IMPORT_REPLY[] =
    "SELECT cb_reference_list_json(l)::text FROM reference_lists l WHERE l.id = $1::uuid";

/* The import as the JSON document the statements read; caller frees. */
static char *import_doc(const struct reference_import *imp)
{
	cJSON *d = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(d, "items");
	char *s;

	cJSON_AddStringToObject(d, "name", imp->name);
	cJSON_AddStringToObject(d, "version", imp->version);
	cJSON_AddStringToObject(d, "title", imp->title);
	cJSON_AddBoolToObject(d, "default", imp->make_default);
	for (size_t i = 0; i < imp->nitems; i++) {
		const struct reference_item *it = &imp->items[i];
		cJSON *o = cJSON_CreateObject();
		char day[DATE_FORMAT_LEN];

		date_format(it->active_from, day);
		cJSON_AddStringToObject(o, "key", it->key);
		cJSON_AddStringToObject(o, "label", it->label);
		cJSON_AddNumberToObject(o, "position", (double)(i + 1));
		cJSON_AddStringToObject(o, "active_from", day);
		if (it->older_list[0] != '\0') {
			cJSON_AddStringToObject(o, "older_list", it->older_list);
			cJSON_AddStringToObject(o, "older_key", it->older_key);
		}
		cJSON_AddStringToObject(o, "where", it->where);
		cJSON_AddItemToArray(items, o);
	}
	s = cJSON_PrintUnformatted(d);
	ASSERT(s != NULL);
	cJSON_Delete(d);
	return s;
}

void store_reference_get(struct db *db, const char *kind, const char *name, store_json_cb *cb,
                         void *arg)
{
	struct db_req *req = db_req_new();
	const char *v[] = {kind, name};
	int stmt = db_req_add(req, SQL_REFERENCE_GET, 2, v);

	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, stmt, "reference list"));
}

void store_reference_lists(struct db *db, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	int stmt = db_req_add(req, SQL_REFERENCE_LISTS, 0, NULL);

	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, stmt, NULL));
}

void store_reference_import(struct db *db, const struct reference_import *imp,
                            const struct actor *actor, store_json_cb *cb, void *arg)
{
	struct db_req *req = db_req_new();
	char id[37], *doc = import_doc(imp);
	const char *one[] = {doc};
	const char *list[] = {doc, id, actor->name};
	const char *audit[] = {doc, id, actor->id, actor->name, actor->request_id};
	const char *reply[] = {id};
	int stmt;

	store_new_id(id);
	db_req_add(req, SQL_IMPORT_NAME_FREE, 1, one);
	db_req_add(req, SQL_IMPORT_OLDER_CHECK, 1, one);
	db_req_add(req, SQL_IMPORT_UNDEFAULT, 1, one);
	db_req_add(req, SQL_IMPORT_LIST, 3, list);
	db_req_add(req, SQL_IMPORT_ITEMS, 1, one);
	db_req_add(req, SQL_IMPORT_AUDIT, 5, audit);
	stmt = db_req_add(req, SQL_IMPORT_REPLY, 1, reply);
	free(doc);
	db_req_submit(db, req, store_json_done,
	              store_wait_new((store_any_fn *)cb, arg, stmt, "reference list"));
}

/* One statement on the command line's connection, unless *st already failed. */
static void run(PGconn *pg, const char *sql, int n, const char *const *v, enum status *st,
                struct err *err)
{
	if (*st != ST_OK)
		return;
	{
		PGresult *res = PQexecParams(pg, sql, n, NULL, v, NULL, NULL, 0);
		ExecStatusType s = PQresultStatus(res);
		bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;

		if (!ok) {
			const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

			*st = db_status_from_sqlstate(state);
			if (state != NULL && strncmp(state, "CB", 2) == 0)
				err_set(err, *st, NULL, "%s", msg != NULL ? msg : "");
			else
				err_set(err, *st, NULL, "could not import the list (SQLSTATE %s)",
				        state != NULL ? state : "?");
		}
		PQclear(res);
	}
}

enum status store_reference_import_blocking(const char *conninfo,
                                            const struct reference_import *imp, struct err *err)
{
	char id[37], *doc;
	PGconn *pg = store_connect_blocking(conninfo, "carebridge-cli", err);
	enum status st = ST_OK;

	if (pg == NULL)
		return ST_UNAVAILABLE;
	store_new_id(id);
	doc = import_doc(imp);
	{
		const char *one[] = {doc};
		const char *list[] = {doc, id, "cli"};
		const char *audit[] = {doc, id, NULL, "cli", NULL};

		run(pg, "BEGIN", 0, NULL, &st, err);
		run(pg, SQL_IMPORT_NAME_FREE, 1, one, &st, err);
		run(pg, SQL_IMPORT_OLDER_CHECK, 1, one, &st, err);
		run(pg, SQL_IMPORT_UNDEFAULT, 1, one, &st, err);
		run(pg, SQL_IMPORT_LIST, 3, list, &st, err);
		run(pg, SQL_IMPORT_ITEMS, 1, one, &st, err);
		run(pg, SQL_IMPORT_AUDIT, 5, audit, &st, err);
		run(pg, "COMMIT", 0, NULL, &st, err);
	}
	free(doc);
	PQfinish(pg); /* an open transaction is rolled back with the connection */
	return st;
}

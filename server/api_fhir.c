/*
 * api_fhir.c - the FHIR R4 read/search facade (issue 15).
 *
 *   GET /fhir/R4/metadata            the CapabilityStatement (public, as FHIR clients expect)
 *   GET /fhir/R4/Patient[/{id}]      search / read
 *   GET /fhir/R4/Encounter[/{id}]    the episode: search / read
 *   GET /fhir/R4/Task[/{id}]         discipline tasks: search / read
 *
 * The caller's normal token or session and the JSON API's access rules: each
 * route declares ACCESS_EPISODE_READ; a read checks the record's ward (a
 * patient: the wards of its episodes) and answers 404, never 403, for a
 * record the caller may not see, so the facade is no oracle of what exists;
 * a search narrows to the caller's wards in SQL for a role confined to them
 * (a nurse).  Every record answered is audited before the reply.  Parsing and
 * the mapping to FHIR are lib/fhir.c's; errors become an OperationOutcome in
 * http.c (http_is_fhir).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "api.h"
#include "app.h"
#include "fhir.h"
#include "store_fhir.h"
#include "xmalloc.h"

/* More parameters than lib/fhir accepts, so that it names the one too many. */
#define FHIR_QUERY_MAX (FHIR_SEARCH_MAX + 8)

/* The service base, "<public origin>/fhir/R4", into buf. */
static const char *fhir_base(struct http_req *r, char *buf, size_t size)
{
	char origin[256];

	snprintf(buf, size, "%s/fhir/R4", http_public_origin(r->app->http, origin, sizeof origin));
	return buf;
}

static void metadata_get(struct http_req *r)
{
	char base[320];

	http_reply_fhir(
	    r, 200, fhir_capability_statement(fhir_base(r, base, sizeof base), app_now(r->app)));
}

/* ---- read ---------------------------------------------------------------------------- */

struct fhir_read {
	struct http_req *r;  /* the request */
	enum fhir_type type; /* what is read */
	cJSON *resource;     /* the answer, owned */
};

static void read_audited(enum status st, const struct err *err, const char *json, void *arg)
{
	struct fhir_read *rd = arg;
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(rd->resource, "meta");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, "versionId");

	if (st != ST_OK) {
		http_reply_error(rd->r, st, err);
		cJSON_Delete(rd->resource);
	} else {
		if (cJSON_IsString(v)) {
			char etag[32];

			snprintf(etag, sizeof etag, "W/\"%s\"", v->valuestring);
			http_add_header(rd->r, "ETag", etag);
		}
		http_reply_fhir(rd->r, 200, rd->resource);
	}
	free(rd);
}

/* A refusal that says no more than a missing record would. */
static void reply_not_found(struct http_req *r, enum fhir_type type)
{
	struct err err;

	err_set(&err, ST_NOT_FOUND, "id", "%s \"%s\" not found", fhir_type_name(type),
	        r->params[0]);
	http_reply_error(r, ST_NOT_FOUND, &err);
}

static void read_got(enum status st, const char *json, const char *wards, const char *episode_id,
                     void *arg)
{
	struct fhir_read *rd = arg;
	struct http_req *r = rd->r;
	cJSON *ward_list = NULL, *stored = NULL, *reads, *one, *w;
	bool allowed = false;
	struct actor actor;
	struct err err;
	char *text;

	if (st != ST_OK) {
		if (st == ST_NOT_FOUND)
			reply_not_found(r, rd->type);
		else
			http_reply_error(r, st, NULL);
		free(rd);
		return;
	}
	/* readable on any of its wards (a patient's episodes may be on several) */
	ward_list = cJSON_Parse(wards);
	cJSON_ArrayForEach(w, ward_list)
	{
		struct access_target t = {
		    .ward = w->valuestring, .discipline = NULL, .orgs = NULL, .norgs = 0};

		if (!cJSON_IsString(w))
			continue;
		if (access_check(&r->principal, r->route->action, &t, NULL) == ST_OK &&
		    http_access(r, &t, &err) == ST_OK) {
			allowed = true;
			break;
		}
	}
	cJSON_Delete(ward_list);
	if (!allowed || (stored = cJSON_Parse(json)) == NULL) {
		if (allowed)
			http_reply_error(r, ST_INTERNAL, NULL);
		else
			reply_not_found(r, rd->type);
		free(rd);
		return;
	}
	rd->resource = fhir_resource_from_json(rd->type, stored);
	cJSON_Delete(stored);
	reads = cJSON_CreateArray();
	one = cJSON_CreateArray();
	cJSON_AddItemToArray(one, cJSON_CreateString(r->params[0]));
	if (episode_id[0] != '\0')
		cJSON_AddItemToArray(one, cJSON_CreateString(episode_id));
	else
		cJSON_AddItemToArray(one, cJSON_CreateNull());
	cJSON_AddItemToArray(reads, one);
	text = cJSON_PrintUnformatted(reads);
	ASSERT(text != NULL);
	cJSON_Delete(reads);
	actor_from_req(&actor, r);
	store_fhir_audit(r->app->db, &actor, rd->type, text, NULL, "fhir.read", read_audited, rd);
	cJSON_free(text);
}

static void fhir_read(struct http_req *r, enum fhir_type type)
{
	struct fhir_read *rd = xcalloc(1, sizeof *rd);

	rd->r = r;
	rd->type = type;
	store_fhir_read(r->app->db, type, r->params[0], read_got, rd);
}

static void patient_read(struct http_req *r)
{
	fhir_read(r, FHIR_PATIENT);
}

static void encounter_read(struct http_req *r)
{
	fhir_read(r, FHIR_ENCOUNTER);
}

static void task_read(struct http_req *r)
{
	fhir_read(r, FHIR_TASK);
}

/* ---- search -------------------------------------------------------------------------- */

struct fhir_find {
	struct http_req *r;   /* the request */
	struct fhir_search s; /* the parsed search */
	cJSON *bundle;        /* the answer, owned */
};

static void search_audited(enum status st, const struct err *err, const char *json, void *arg)
{
	struct fhir_find *f = arg;

	if (st != ST_OK) {
		http_reply_error(f->r, st, err);
		cJSON_Delete(f->bundle);
	} else {
		http_reply_fhir(f->r, 200, f->bundle);
	}
	free(f);
}

/* The episode a stored record belongs to (NULL for a patient). */
static const char *record_episode(enum fhir_type type, const cJSON *stored)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(stored, type == FHIR_ENCOUNTER ? "id"
	                                                          : type == FHIR_TASK ? "episode_id"
	                                                                              : "");

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void page_got(enum status st, const struct err *err, int64_t total, const char *page,
                     void *arg)
{
	struct fhir_find *f = arg;
	struct fhir_search *s = &f->s;
	struct http_req *r = f->r;
	cJSON *items, *item, *reads, *detail, *names;
	char base[320], *self, *next = NULL, *reads_text, *detail_text;
	struct actor actor;
	int shown = 0;

	if (st != ST_OK || (items = cJSON_Parse(page)) == NULL) {
		http_reply_error(r, st != ST_OK ? st : ST_INTERNAL, err);
		free(f);
		return;
	}
	fhir_base(r, base, sizeof base);
	reads = cJSON_CreateArray();
	/* the store read one more than a page: its presence means there is a next page */
	if (cJSON_GetArraySize(items) > s->count) {
		const cJSON *last = cJSON_GetArrayItem(items, s->count - 1);

		next = fhir_search_link(s, base,
		                        cJSON_GetObjectItemCaseSensitive(last, "id")->valuestring);
	}
	self = fhir_search_link(s, base, s->cursor[0] != '\0' ? s->cursor : NULL);
	f->bundle = fhir_bundle_new(total, self, next, app_now(r->app));
	free(self);
	free(next);
	cJSON_ArrayForEach(item, items)
	{
		const char *ep = record_episode(s->type, item);
		cJSON *one = cJSON_CreateArray();

		if (shown++ == s->count)
			break;
		cJSON_AddItemToArray(
		    one,
		    cJSON_CreateString(cJSON_GetObjectItemCaseSensitive(item, "id")->valuestring));
		cJSON_AddItemToArray(one, ep != NULL ? cJSON_CreateString(ep) : cJSON_CreateNull());
		cJSON_AddItemToArray(reads, one);
		fhir_bundle_add(f->bundle, base, fhir_resource_from_json(s->type, item));
	}
	cJSON_Delete(items);
	/* what was asked for (parameter names: values may be NHS numbers) and how much was seen */
	detail = cJSON_CreateObject();
	cJSON_AddStringToObject(detail, "resource", fhir_type_name(s->type));
	names = cJSON_AddArrayToObject(detail, "params");
	for (int i = 0; i < s->nkept; i++)
		cJSON_AddItemToArray(names, cJSON_CreateString(s->kept_names[i]));
	cJSON_AddNumberToObject(detail, "total", (double)total);
	cJSON_AddNumberToObject(detail, "returned", cJSON_GetArraySize(reads));
	detail_text = cJSON_PrintUnformatted(detail);
	reads_text = cJSON_PrintUnformatted(reads);
	ASSERT(detail_text != NULL && reads_text != NULL);
	cJSON_Delete(detail);
	cJSON_Delete(reads);
	actor_from_req(&actor, r);
	store_fhir_audit(r->app->db, &actor, s->type, reads_text, detail_text, "fhir.search",
	                 search_audited, f);
	cJSON_free(detail_text);
	cJSON_free(reads_text);
}

static void fhir_find(struct http_req *r, enum fhir_type type)
{
	char names[FHIR_QUERY_MAX][HTTP_PARAM_MAX], values[FHIR_QUERY_MAX][HTTP_PARAM_MAX];
	static const char *const no_wards[1] = {NULL};
	const char *np[FHIR_QUERY_MAX], *vp[FHIR_QUERY_MAX];
	const char *const *wards = NULL;
	struct fhir_find *f = xcalloc(1, sizeof *f);
	struct err err;
	enum status st;
	int n, nwards = 0;

	n = http_query_params(r, names, values, FHIR_QUERY_MAX);
	if (n < 0) {
		err_set(&err, ST_INVALID, NULL, "more than %d search parameters", FHIR_SEARCH_MAX);
		http_reply_error(r, ST_INVALID, &err);
		free(f);
		return;
	}
	for (int i = 0; i < n; i++) {
		np[i] = names[i];
		vp[i] = values[i];
	}
	st = fhir_search_parse(type, np, vp, n, &f->s, &err);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(f);
		return;
	}
	f->r = r;
	if (f->s.matches_nothing) {
		page_got(ST_OK, NULL, 0, "[]", f);
		return;
	}
	if (!access_reaches_every_ward(&r->principal, r->route->action)) {
		/* a role confined to its wards (a nurse) finds theirs, none if none */
		wards = r->principal.nwards > 0 ? r->principal.wards : no_wards;
		nwards = (int)r->principal.nwards;
	}
	store_fhir_search(r->app->db, &f->s, wards, nwards, page_got, f);
}

static void patient_search(struct http_req *r)
{
	fhir_find(r, FHIR_PATIENT);
}

static void encounter_search(struct http_req *r)
{
	fhir_find(r, FHIR_ENCOUNTER);
}

static void task_search(struct http_req *r)
{
	fhir_find(r, FHIR_TASK);
}

const struct route fhir_routes[] = {
    ROUTE_OPEN(EVHTTP_REQ_GET, "/fhir/R4/metadata", metadata_get, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/fhir/R4/Patient", patient_search, ACCESS_EPISODE_READ, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/fhir/R4/Patient/{id}", patient_read, ACCESS_EPISODE_READ,
          ROUTE_ID_PATIENT),
    ROUTE(EVHTTP_REQ_GET, "/fhir/R4/Encounter", encounter_search, ACCESS_EPISODE_READ,
          ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/fhir/R4/Encounter/{id}", encounter_read, ACCESS_EPISODE_READ,
          ROUTE_ID_EPISODE),
    ROUTE(EVHTTP_REQ_GET, "/fhir/R4/Task", task_search, ACCESS_EPISODE_READ, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/fhir/R4/Task/{id}", task_read, ACCESS_EPISODE_READ, ROUTE_ID_TASK),
    ROUTE_END,
};

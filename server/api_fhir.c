/*
 * api_fhir.c - the FHIR R4 read/search facade (issue 15).
 *
 *   GET /fhir/R4/metadata            the CapabilityStatement (public, as FHIR clients expect)
 *   GET /fhir/R4/Patient[/{id}]      search / read
 *   GET /fhir/R4/Encounter[/{id}]    the episode: search / read
 *   GET /fhir/R4/Task[/{id}]         discipline tasks and referrals' Tasks: search / read
 *   GET /fhir/R4/ServiceRequest[/{id}]  referrals: search / read
 *
 * The caller's normal token or session and the JSON API's access rules.
 * Each route declares ACCESS_REFERRAL_READ, the one action both the trust's
 * readers and the partners hold: a trust user reads by ward, as the JSON
 * API, and needs ACCESS_EPISODE_READ besides for anything but a referral (a
 * patient's record, an episode, a discipline task); a partner (hub, council,
 * provider) reads only what is referred to their organisation
 * (cb_referral_orgs, the decision GET /api/v1/referrals/{id} makes), sees the
 * minimum necessary of it (fhir_partner_cut) and never a discipline task.  A
 * read the caller may not make is answered 404, never 403, so the facade is
 * no oracle of what exists; a search is narrowed in SQL (a nurse's wards, a
 * partner's organisation), so totals never count what the caller may not
 * see.  Every record answered is audited before the reply, a partner's with
 * their organisation.  Parsing and the mapping to FHIR are lib/fhir.c's;
 * errors become an OperationOutcome in http.c (http_is_fhir).
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
#define FHIR_READ_MAX_ORGS 64 /* organisations one record is referred to, at most looked at */

/* A partner whose organisation is not known finds nothing (fail closed). */
static const char NO_ORGANISATION[] = "00000000-0000-0000-0000-000000000000";

static bool is_partner(const struct http_req *r)
{
	return role_is_partner(r->principal.role);
}

/* Whether stored (a record as store_fhir read it) is a referral (a ServiceRequest or its Task). */
static bool is_referral(enum fhir_type type, const cJSON *stored)
{
	const cJSON *record = cJSON_GetObjectItemCaseSensitive(stored, "record");

	return type == FHIR_SERVICE_REQUEST ||
	       (cJSON_IsString(record) && strcmp(record->valuestring, "referral") == 0);
}

/* carebridge's FHIR base: fhir_base_url, else "<public origin>/fhir", into buf. */
static const char *fhir_canonical(struct http_req *r, char *buf, size_t size)
{
	char origin[256];

	if (r->app->cfg->fhir_base_url[0] != '\0')
		snprintf(buf, size, "%s", r->app->cfg->fhir_base_url);
	else
		snprintf(buf, size, "%s/fhir",
		         http_public_origin(r->app->http, origin, sizeof origin));
	return buf;
}

/* The service base, "<carebridge's FHIR base>/R4", into buf. */
static const char *fhir_base(struct http_req *r, char *buf, size_t size)
{
	char canonical[FHIR_BASE_MAX + 64];

	snprintf(buf, size, "%s/R4", fhir_canonical(r, canonical, sizeof canonical));
	return buf;
}

/* A resource as it leaves: carebridge's own names under this installation's base. */
static cJSON *fhir_out(struct http_req *r, cJSON *res)
{
	char canonical[FHIR_BASE_MAX + 64];

	fhir_rebase(res, fhir_canonical(r, canonical, sizeof canonical));
	return res;
}

static void metadata_get(struct http_req *r)
{
	char base[FHIR_BASE_MAX + 80];

	http_reply_fhir(r, 200,
	                fhir_out(r, fhir_capability_statement(fhir_base(r, base, sizeof base),
	                                                      app_now(r->app))));
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

/*
 * Whether a trust user may read stored on one of wards (a JSON array): the
 * route's action (referral reading, by ward) and, for anything but a
 * referral, episode reading on the same ward.
 */
static bool trust_may_read(struct http_req *r, enum fhir_type type, const cJSON *stored,
                           const char *wards)
{
	cJSON *ward_list = cJSON_Parse(wards), *w;
	bool allowed = false;

	cJSON_ArrayForEach(w, ward_list)
	{
		struct access_target t = {
		    .ward = NULL, .discipline = NULL, .orgs = NULL, .norgs = 0};

		if (!cJSON_IsString(w))
			continue;
		t.ward = w->valuestring;
		if (http_access(r, &t, NULL) == ST_OK &&
		    (is_referral(type, stored) ||
		     access_check(&r->principal, ACCESS_EPISODE_READ, &t, NULL) == ST_OK)) {
			allowed = true;
			break;
		}
	}
	cJSON_Delete(ward_list);
	return allowed;
}

/* Whether a partner may read a record referred to orgs (a JSON array of UUIDs). */
static bool partner_may_read(struct http_req *r, const char *orgs)
{
	cJSON *org_list = cJSON_Parse(orgs), *o;
	const char *ptrs[FHIR_READ_MAX_ORGS];
	struct access_target t = {.ward = NULL, .discipline = NULL, .orgs = ptrs, .norgs = 0};
	bool allowed;

	cJSON_ArrayForEach(o, org_list)
	{
		if (cJSON_IsString(o) && t.norgs < FHIR_READ_MAX_ORGS)
			ptrs[t.norgs++] = o->valuestring;
	}
	allowed = http_access(r, &t, NULL) == ST_OK;
	cJSON_Delete(org_list);
	return allowed;
}

static void read_got(enum status st, const char *json, const char *wards, const char *episode_id,
                     const char *orgs, void *arg)
{
	struct fhir_read *rd = arg;
	struct http_req *r = rd->r;
	cJSON *stored, *reads, *one;
	const cJSON *id;
	struct actor actor;
	bool allowed;
	char *text;

	if (st != ST_OK) {
		if (st == ST_NOT_FOUND)
			reply_not_found(r, rd->type);
		else
			http_reply_error(r, st, NULL);
		free(rd);
		return;
	}
	if ((stored = cJSON_Parse(json)) == NULL) {
		http_reply_error(r, ST_INTERNAL, NULL);
		free(rd);
		return;
	}
	/* a trust user: readable on any of its wards (a patient's episodes may be on several) */
	allowed =
	    is_partner(r) ? partner_may_read(r, orgs) : trust_may_read(r, rd->type, stored, wards);
	if (allowed)
		rd->resource = fhir_out(
		    r, fhir_resource_from_json(
			   rd->type, stored, is_partner(r) ? FHIR_VIEW_PARTNER : FHIR_VIEW_TRUST));
	/* a partner's cut of a discipline task is nothing: not theirs, so not found */
	if (rd->resource == NULL) {
		cJSON_Delete(stored);
		reply_not_found(r, rd->type);
		free(rd);
		return;
	}
	reads = cJSON_CreateArray();
	one = cJSON_CreateArray();
	id = cJSON_GetObjectItemCaseSensitive(stored, "id");
	cJSON_AddItemToArray(one, cJSON_CreateString(cJSON_IsString(id) ? id->valuestring : ""));
	if (episode_id[0] != '\0')
		cJSON_AddItemToArray(one, cJSON_CreateString(episode_id));
	else
		cJSON_AddItemToArray(one, cJSON_CreateNull());
	/* a referral's Task is read as the referral */
	cJSON_AddItemToArray(one, is_referral(rd->type, stored) ? cJSON_CreateString("referral")
	                                                        : cJSON_CreateNull());
	cJSON_AddItemToArray(reads, one);
	cJSON_Delete(stored);
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

static void service_request_read(struct http_req *r)
{
	fhir_read(r, FHIR_SERVICE_REQUEST);
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
	const cJSON *v =
	    cJSON_GetObjectItemCaseSensitive(stored, type == FHIR_ENCOUNTER ? "id"
	                                             : type == FHIR_PATIENT ? ""
	                                                                    : "episode_id");

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The FHIR id of a stored record (a referral's Task: prefixed), into buf. */
static const char *record_fhir_id(enum fhir_type type, const cJSON *stored, char *buf, size_t size)
{
	const char *id = cJSON_GetObjectItemCaseSensitive(stored, "id")->valuestring;

	if (type == FHIR_TASK && is_referral(type, stored))
		snprintf(buf, size, FHIR_REFERRAL_TASK_PREFIX "%s", id);
	else
		snprintf(buf, size, "%s", id);
	return buf;
}

static void page_got(enum status st, const struct err *err, int64_t total, const char *page,
                     void *arg)
{
	struct fhir_find *f = arg;
	struct fhir_search *s = &f->s;
	struct http_req *r = f->r;
	cJSON *items, *item, *reads, *detail, *names;
	char base[FHIR_BASE_MAX + 80], *self, *next = NULL, *reads_text, *detail_text;
	char fid[FHIR_ID_MAX];
	enum fhir_view view = is_partner(r) ? FHIR_VIEW_PARTNER : FHIR_VIEW_TRUST;
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

		next = fhir_search_link(s, base, record_fhir_id(s->type, last, fid, sizeof fid));
	}
	self = fhir_search_link(s, base, s->cursor[0] != '\0' ? s->cursor : NULL);
	f->bundle = fhir_bundle_new(total, self, next, app_now(r->app));
	free(self);
	free(next);
	cJSON_ArrayForEach(item, items)
	{
		const char *ep = record_episode(s->type, item);
		cJSON *one, *res;

		if (shown++ == s->count)
			break;
		/* the store found only what the caller may see; a partner's cut of it is never
		 * empty */
		res = fhir_resource_from_json(s->type, item, view);
		ASSERT(res != NULL);
		fhir_out(r, res);
		one = cJSON_CreateArray();
		cJSON_AddItemToArray(
		    one,
		    cJSON_CreateString(cJSON_GetObjectItemCaseSensitive(item, "id")->valuestring));
		cJSON_AddItemToArray(one, ep != NULL ? cJSON_CreateString(ep) : cJSON_CreateNull());
		cJSON_AddItemToArray(one, is_referral(s->type, item)
		                              ? cJSON_CreateString("referral")
		                              : cJSON_CreateNull());
		cJSON_AddItemToArray(reads, one);
		fhir_bundle_add(f->bundle, base, res);
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
	char canonical[FHIR_BASE_MAX + 64];
	const char *const *wards = NULL;
	const char *org = NULL;
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
	st = fhir_search_parse(type, np, vp, n, fhir_canonical(r, canonical, sizeof canonical),
	                       &f->s, &err);
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
	if (is_partner(r)) {
		/* what is referred to their organisation, whatever the ward (the store) */
		org = r->principal.organisation[0] != '\0' ? r->principal.organisation
		                                           : NO_ORGANISATION;
	} else {
		bool episodes = type != FHIR_SERVICE_REQUEST;

		/* beyond referrals, the trust's records are episode reading */
		if (episodes &&
		    access_role_may(&r->principal, ACCESS_EPISODE_READ, &err) != ST_OK) {
			http_reply_error(r, ST_FORBIDDEN, &err);
			free(f);
			return;
		}
		if (!access_reaches_every_ward(&r->principal, r->route->action) ||
		    (episodes && !access_reaches_every_ward(&r->principal, ACCESS_EPISODE_READ))) {
			/* a role confined to its wards (a nurse) finds theirs, none if none */
			wards = r->principal.nwards > 0 ? r->principal.wards : no_wards;
			nwards = (int)r->principal.nwards;
		}
	}
	store_fhir_search(r->app->db, &f->s, wards, nwards, org, page_got, f);
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

static void service_request_search(struct http_req *r)
{
	fhir_find(r, FHIR_SERVICE_REQUEST);
}

const struct route fhir_routes[] = {
    ROUTE_OPEN(EVHTTP_REQ_GET, "/fhir/R4/metadata", metadata_get, ROUTE_ID_NONE),
    /* referral reading: held by the trust's readers (by ward) and partners (by referral) */
    ROUTE(EVHTTP_REQ_GET, "/fhir/R4/Patient", patient_search, ACCESS_REFERRAL_READ, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/fhir/R4/Patient/{id}", patient_read, ACCESS_REFERRAL_READ,
          ROUTE_ID_PATIENT),
    ROUTE(EVHTTP_REQ_GET, "/fhir/R4/Encounter", encounter_search, ACCESS_REFERRAL_READ,
          ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/fhir/R4/Encounter/{id}", encounter_read, ACCESS_REFERRAL_READ,
          ROUTE_ID_EPISODE),
    ROUTE(EVHTTP_REQ_GET, "/fhir/R4/Task", task_search, ACCESS_REFERRAL_READ, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/fhir/R4/Task/{id}", task_read, ACCESS_REFERRAL_READ,
          ROUTE_ID_FHIR_TASK),
    ROUTE(EVHTTP_REQ_GET, "/fhir/R4/ServiceRequest", service_request_search, ACCESS_REFERRAL_READ,
          ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/fhir/R4/ServiceRequest/{id}", service_request_read,
          ACCESS_REFERRAL_READ, ROUTE_ID_REFERRAL),
    ROUTE_END,
};

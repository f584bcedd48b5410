/*
 * api_task.c - discharge tasks.
 *
 *   GET   /api/v1/tasks                  list for the web pages (ward, discipline, status,
 *                                        overdue, episode, limit, offset)
 *   GET   /api/v1/episodes/{id}/tasks    the episode's tasks, in creation order
 *   POST  /api/v1/episodes/{id}/tasks    open a task {discipline, title, due_at, assignee, note}
 *   PATCH /api/v1/tasks/{id}             {status, assignee, due_at, note}; If-Match: version
 *
 * Thin handlers: parse and validate with lib/, read the facts, authorise with
 * lib/access on {episode ward, task discipline}, decide the status move with
 * lib/task, then one store_task call whose transaction writes the change, the
 * audit row and the outbox event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "admission.h"
#include "api.h"
#include "app.h"
#include "episode.h"
#include "json.h"
#include "store_task.h"
#include "task.h"
#include "task_cache.h"
#include "xmalloc.h"

#define TASK_TITLE_MAX 200 /* bytes, as the tasks table checks */
#define TASK_NOTE_MAX 2000 /* bytes */

/* An optional "assignee": a user id (UUID) into out ("" when absent). */
static enum status get_assignee(const cJSON *body, char out[37], struct err *err)
{
	enum status st;

	out[0] = '\0';
	if (!json_has(body, "assignee"))
		return ST_OK;
	st = json_get_string(body, "assignee", false, out, 37, err);
	if (st != ST_OK || !text_is_uuid(out))
		return err_set(err, ST_INVALID, "assignee",
		               "\"assignee\" must be a user id (UUID)");
	return ST_OK;
}

/* ---- GET /api/v1/episodes/{id}/tasks ------------------------------------------------ */

static void list_got(enum status st, const struct task_list *tl, void *arg)
{
	api_episode_list_reply(arg, st, st == ST_OK ? tl->ward : NULL,
	                       st == ST_OK ? tl->json : NULL, store_task_audit_list);
}

static void tasks_list(struct http_req *r)
{
	store_task_list(r->app->db, r->params[0], list_got, r);
}

/* ---- GET /api/v1/tasks -------------------------------------------------------------- */

#define LIST_MAX_FILTERS                                                                           \
	HTTP_QUERY_REPEAT_MAX /* ward or discipline values: http.c refuses more                    \
	                       */

static bool ward_code_ok(const char *w)
{
	return w[0] != '\0' && strlen(w) <= ADMISSION_WARD_MAX &&
	       strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") ==
	           strlen(w);
}

/* The request's filters, parsed in place (the pointers of f point into it). */
struct list_query {
	char wards[LIST_MAX_FILTERS][HTTP_PARAM_MAX];       /* ward= values */
	const char *ward_ptrs[LIST_MAX_FILTERS];            /* into wards */
	char disciplines[LIST_MAX_FILTERS][HTTP_PARAM_MAX]; /* discipline= values */
	const char *discipline_ptrs[LIST_MAX_FILTERS];      /* into disciplines */
	char status[16];                                    /* "open" or a status */
	char episode[HTTP_PARAM_MAX];                       /* episode= */
	struct task_filter f;                               /* what the store is asked */
};

/* The ward filter: the wards asked for (each one readable), else a nurse's own wards. */
static enum status list_wards(struct http_req *r, struct list_query *q, struct err *err)
{
	struct task_filter *f = &q->f;
	int n = http_query_all(r, "ward", q->wards, LIST_MAX_FILTERS);
	enum status st;

	for (int i = 0; i < n; i++) {
		struct access_target t = {.ward = q->wards[i], .discipline = NULL};

		if (!ward_code_ok(q->wards[i]))
			return err_set(err, ST_INVALID, "ward",
			               "\"ward\" is not a valid ward code");
		if ((st = access_check(&r->principal, ACCESS_EPISODE_READ, &t, err)) != ST_OK)
			return st;
		q->ward_ptrs[i] = q->wards[i];
	}
	if (n > 0) {
		f->wards = q->ward_ptrs;
		f->nwards = n;
		f->restrict_wards = true;
	} else if (!access_reaches_every_ward(&r->principal, ACCESS_EPISODE_READ)) {
		/* a role confined to its wards (a nurse) sees their tasks (none if none) */
		f->wards = r->principal.wards;
		f->nwards = (int)r->principal.nwards;
		f->restrict_wards = true;
	}
	return ST_OK;
}

static enum status list_parse(struct http_req *r, struct list_query *q, struct err *err)
{
	struct task_filter *f = &q->f;
	enum task_status ts;
	enum status st;
	int n;

	if ((st = list_wards(r, q, err)) != ST_OK)
		return st;
	n = http_query_all(r, "discipline", q->disciplines, LIST_MAX_FILTERS);
	for (int i = 0; i < n; i++) {
		if ((st = discipline_validate(q->disciplines[i], err)) != ST_OK)
			return st;
		q->discipline_ptrs[i] = q->disciplines[i];
	}
	if (n > 0) {
		f->disciplines = q->discipline_ptrs;
		f->ndisciplines = n;
	}
	if (http_query(r, "status", q->status, sizeof q->status) != NULL) {
		if (strcmp(q->status, "open") == 0)
			f->status = "open";
		else if ((st = task_status_parse(q->status, &ts, err)) != ST_OK)
			return err_set(err, ST_INVALID, "status",
			               "\"status\" must be \"open\" or a task status");
		else
			f->status = task_status_name(ts);
	}
	if ((st = http_query_bool(r, "overdue", &f->overdue, err)) != ST_OK)
		return st;
	if (http_query(r, "episode", q->episode, sizeof q->episode) != NULL) {
		if (!text_is_uuid(q->episode))
			return err_set(err, ST_INVALID, "episode",
			               "\"episode\" must be an episode id (UUID)");
		f->episode_id = q->episode;
	}
	if ((st = http_query_int(r, "limit", 500, 1, 2000, &f->limit, err)) != ST_OK)
		return st;
	return http_query_int(r, "offset", 0, 0, 10000000, &f->offset, err);
}

static void tasks_list_all(struct http_req *r)
{
	struct list_query *q = xcalloc(1, sizeof *q);
	struct actor actor;
	struct err err;
	enum status st;

	err_clear(&err);
	q->f.overdue = -1;
	st = list_parse(r, q, &err);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
	} else {
		actor_from_req(&actor, r);
		/* the store copies what it needs before returning */
		store_task_list_all(r->app->db, &q->f, &actor, http_json_ok, r);
	}
	free(q);
}

/* ---- POST /api/v1/episodes/{id}/tasks ----------------------------------------------- */

struct create {
	struct http_req *r;                       /* the request */
	char discipline[DISCIPLINE_NAME_MAX + 1]; /* validated name */
	char title[TASK_TITLE_MAX + 1];           /* required */
	char assignee[37];                        /* user UUID or "" */
	bool has_due;                             /* due_at given */
	int64_t due_at;                           /* Unix seconds */
	bool has_note;                            /* note given */
	char note[TASK_NOTE_MAX + 1];             /* the note */
};

static const char *const create_fields[] = {"discipline", "title", "due_at",
                                            "assignee",   "note",  NULL};

static enum status create_parse(const cJSON *b, struct create *c, struct err *err)
{
	enum status st;

	if ((st = json_only_keys(b, create_fields, err)) != ST_OK)
		return st;
	if ((st = json_get_string(b, "discipline", true, c->discipline, sizeof c->discipline,
	                          err)) != ST_OK)
		return st;
	if ((st = discipline_validate(c->discipline, err)) != ST_OK)
		return st;
	if ((st = json_get_string(b, "title", true, c->title, sizeof c->title, err)) != ST_OK)
		return st;
	if ((st = json_get_time(b, "due_at", false, &c->due_at, &c->has_due, err)) != ST_OK)
		return st;
	if ((st = get_assignee(b, c->assignee, err)) != ST_OK)
		return st;
	if ((st = json_get_string(b, "note", false, c->note, sizeof c->note, err)) != ST_OK)
		return st;
	c->has_note = json_has(b, "note");
	return ST_OK;
}

/*
 * Whether user id, of whom the read found a, may be given the task with
 * target t: an existing, enabled user who may update it.
 */
static enum status assignee_check(const struct assignee_facts *a, const char *id,
                                  const struct access_target *t, struct err *err)
{
	if (!a->exists)
		return err_set(err, ST_INVALID, "assignee", "user \"%s\" does not exist", id);
	if (a->disabled)
		return err_set(err, ST_INVALID, "assignee", "user \"%s\" is disabled", id);
	return access_check_assignee(a->role, a->on_ward, t, err);
}

static void create_done(enum status st, const struct err *err, const char *json, void *arg)
{
	struct create *c = arg;

	if (st != ST_OK) {
		http_reply_error(c->r, st, err);
	} else {
		http_reply_json_versioned(c->r, 201, json);
	}
	free(c);
}

static enum status create_decide(struct create *c, const struct task_create_context *ctx,
                                 struct err *err)
{
	struct access_target target = {.ward = ctx->ward, .discipline = c->discipline};
	enum episode_state es;
	enum status st;

	if ((st = http_access(c->r, &target, err)) != ST_OK)
		return st;
	if (!ctx->discipline_exists)
		return err_set(err, ST_INVALID, "discipline", "discipline \"%s\" does not exist",
		               c->discipline);
	if (c->assignee[0] != '\0' &&
	    (st = assignee_check(&ctx->assignee, c->assignee, &target, err)) != ST_OK)
		return st;
	if (episode_state_parse(ctx->episode_state, &es, err) != ST_OK)
		return err_set(err, ST_INTERNAL, NULL, "episode has an unknown state");
	/* a new task changes the episode: only an admitted one takes it */
	if (episode_can(es, EPISODE_UPDATE, NULL) != ST_OK)
		return err_set(err, ST_CONFLICT, "state", "episode is \"%s\"; cannot add tasks",
		               ctx->episode_state);
	return ST_OK;
}

static void create_context(enum status st, const struct task_create_context *ctx, void *arg)
{
	struct create *c = arg;
	struct task_new t;
	struct actor actor;
	struct err err;

	err_clear(&err);
	if (st == ST_NOT_FOUND)
		err_set(&err, st, NULL, "episode not found");
	if (st == ST_OK)
		st = create_decide(c, ctx, &err);
	if (st != ST_OK) {
		http_reply_error(c->r, st, &err);
		free(c);
		return;
	}
	memset(&t, 0, sizeof t);
	t.episode_id = c->r->params[0];
	t.discipline = c->discipline;
	t.title = c->title;
	t.assignee = c->assignee[0] != '\0' ? c->assignee : NULL;
	t.has_due = c->has_due;
	t.due_at = c->due_at;
	t.note = c->has_note ? c->note : NULL;
	actor_from_req(&actor, c->r);
	store_task_create(c->r->app->db, &t, &actor, create_done, c);
}

static void tasks_create(struct http_req *r)
{
	struct create *c;
	struct err err;
	enum status st;
	cJSON *body = NULL;

	c = xcalloc(1, sizeof *c);
	c->r = r;
	st = http_body_json(r, &body, &err);
	if (st == ST_OK)
		st = create_parse(body, c, &err);
	cJSON_Delete(body);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(c);
		return;
	}
	store_task_create_context(r->app->db, r->params[0], c->discipline,
	                          c->assignee[0] != '\0' ? c->assignee : NULL, create_context, c);
}

/* ---- PATCH /api/v1/tasks/{id} -------------------------------------------------------- */

#define CHANGE_ATTEMPTS 4

struct change {
	struct http_req *r;           /* the request */
	int if_match;                 /* -1 when no If-Match */
	struct task_change c;         /* the decided change */
	bool has_status;              /* a status was asked for */
	enum task_status to;          /* the asked status */
	char assignee[37];            /* user UUID or "" */
	bool clear_assignee;          /* "assignee": null */
	char note[TASK_NOTE_MAX + 1]; /* new note */
	int attempts;                 /* writes lost to a concurrent change so far */
	struct task_facts f;          /* the facts the change was decided on */
	bool cached;                  /* ... and they came from the task cache */
};

static const char *const patch_fields[] = {"status", "assignee", "due_at", "note", NULL};

/* Parse a PATCH body into ch (what to change; the status move is decided later). */
static enum status change_parse(const cJSON *b, struct change *ch, struct err *err)
{
	struct task_change *c = &ch->c;
	char status[16];
	enum status st;

	if ((st = json_only_keys(b, patch_fields, err)) != ST_OK)
		return st;
	if (cJSON_GetArraySize(b) == 0)
		return err_set(err, ST_INVALID, NULL, "nothing to change: give at least one field");
	if (json_is_null(b, "status"))
		return err_set(err, ST_INVALID, "status", "\"status\" cannot be null");
	ch->has_status = json_has(b, "status");
	if (ch->has_status) {
		/* a string too long to be a status is not one either */
		if (json_get_string(b, "status", true, status, sizeof status, NULL) != ST_OK)
			status[0] = '\0';
		if ((st = task_status_parse(status, &ch->to, err)) != ST_OK)
			return st;
	}
	if (json_is_null(b, "assignee"))
		ch->clear_assignee = true;
	else if ((st = get_assignee(b, ch->assignee, err)) != ST_OK)
		return st;
	c->set_assignee = ch->clear_assignee || ch->assignee[0] != '\0';
	c->assignee = ch->assignee[0] != '\0' ? ch->assignee : NULL;
	if (json_is_null(b, "due_at"))
		c->clear_due = true;
	else if ((st = json_get_time(b, "due_at", false, &c->due_at, &c->set_due, err)) != ST_OK)
		return st;
	if (json_is_null(b, "note")) {
		c->clear_note = true;
	} else {
		if ((st = json_get_string(b, "note", false, ch->note, sizeof ch->note, err)) !=
		    ST_OK)
			return st;
		c->set_note = json_has(b, "note");
		c->note = ch->note;
	}
	return ST_OK;
}

static void change_got(enum status st, const struct task_facts *f, void *arg);

/* Read the task (and whether the assignee exists), then decide in change_got. */
static void change_read(struct change *ch)
{
	store_task_get(ch->r->app->db, ch->r->params[0],
	               ch->assignee[0] != '\0' ? ch->assignee : NULL, change_got, ch);
}

static void change_done(enum status st, const struct err *err, const char *json, void *arg)
{
	struct change *ch = arg;
	struct task_cache *tc = ch->r->app->task_cache;

	/* the cached facts were out of date: read, and decide again on what is there */
	if (st == ST_PRECONDITION && ch->cached) {
		ch->cached = false;
		task_cache_count(tc, TASK_CACHE_REREAD);
		task_cache_forget(tc, ch->f.id);
		change_read(ch);
		return;
	}
	/*
	 * Without If-Match the client asked for "this change on the current
	 * task": when another write slipped in between our read and our write,
	 * decide again on the new state (a few times) rather than answer 412.
	 */
	if (st == ST_PRECONDITION && ch->if_match < 0 && ++ch->attempts < CHANGE_ATTEMPTS) {
		change_read(ch);
		return;
	}
	if (st != ST_OK) {
		task_cache_forget(tc, ch->f.id);
		http_reply_error(ch->r, st, err);
	} else {
		if (ch->cached)
			task_cache_count(tc, TASK_CACHE_HIT);
		/* the write checked version and ward: these are the task's facts now */
		ch->f.version = ch->c.expected_version + 1;
		if (ch->c.status != NULL)
			snprintf(ch->f.status, sizeof ch->f.status, "%s", ch->c.status);
		task_cache_put(tc, &ch->f);
		http_add_etag(ch->r, ch->f.version); /* no need to parse the reply for it */
		http_reply_json_text(ch->r, 200, json);
	}
	free(ch);
}

static enum status change_decide(struct change *ch, const struct task_facts *f, struct err *err)
{
	struct access_target target = {.ward = f->ward, .discipline = f->discipline};
	enum task_status from;
	enum status st;

	if ((st = http_access(ch->r, &target, err)) != ST_OK)
		return st;
	if (ch->if_match >= 0 && ch->if_match != f->version)
		return err_set(err, ST_PRECONDITION, NULL,
		               "task is at version %d, not %d: reload it and try again", f->version,
		               ch->if_match);
	if (ch->assignee[0] != '\0' &&
	    (st = assignee_check(&f->assignee, ch->assignee, &target, err)) != ST_OK)
		return st;
	if (task_status_parse(f->status, &from, err) != ST_OK)
		return err_set(err, ST_INTERNAL, NULL, "task has an unknown status");
	ch->c.status = NULL;
	if (ch->has_status) {
		if ((st = task_can_transition(from, ch->to, err)) != ST_OK)
			return st;
		ch->c.status = task_status_name(ch->to);
	}
	ch->c.expected_version = f->version;
	return ST_OK;
}

static void change_write(struct change *ch)
{
	struct actor actor;

	actor_from_req(&actor, ch->r);
	store_task_change(ch->r->app->db, &ch->f, &ch->c, &actor, change_done, ch);
}

static void change_got(enum status st, const struct task_facts *f, void *arg)
{
	struct change *ch = arg;
	struct task_cache *tc = ch->r->app->task_cache;
	struct err err;

	err_clear(&err);
	if (st == ST_NOT_FOUND) {
		task_cache_forget(tc, ch->r->params[0]);
		err_set(&err, st, NULL, "task not found");
	}
	if (st == ST_OK) {
		ch->f = *f;
		task_cache_put(tc, f);
		st = change_decide(ch, &ch->f, &err);
	}
	if (st != ST_OK) {
		http_reply_error(ch->r, st, &err);
		free(ch);
		return;
	}
	change_write(ch);
}

/*
 * Decide the change on the task's cached facts and write it, if this process
 * knows them and the change needs nothing else (an assignee must be looked
 * up).  Only a change the facts allow is written, with them as the write's
 * conditions; anything else is decided again on a fresh read, so the cache
 * never gives an answer the database would not.
 */
static bool change_from_cache(struct change *ch)
{
	struct task_cache *tc = ch->r->app->task_cache;
	struct err err;

	if (ch->assignee[0] != '\0' || !task_cache_get(tc, ch->r->params[0], &ch->f)) {
		task_cache_count(tc, TASK_CACHE_MISS);
		return false;
	}
	err_clear(&err);
	if (change_decide(ch, &ch->f, &err) != ST_OK) {
		task_cache_count(tc, TASK_CACHE_REREAD);
		return false;
	}
	ch->cached = true;
	change_write(ch);
	return true;
}

static void task_patch(struct http_req *r)
{
	struct change *ch;
	struct err err;
	enum status st;
	cJSON *body = NULL;

	ch = xcalloc(1, sizeof *ch);
	ch->r = r;
	st = http_body_json(r, &body, &err);
	if (st == ST_OK)
		st = http_if_match(r, &ch->if_match, &err);
	if (st == ST_OK)
		st = change_parse(body, ch, &err);
	cJSON_Delete(body);
	if (st != ST_OK) {
		http_reply_error(r, st, &err);
		free(ch);
		return;
	}
	if (!change_from_cache(ch))
		change_read(ch);
}

const struct route task_routes[] = {
    ROUTE(EVHTTP_REQ_GET, "/api/v1/tasks", tasks_list_all, ACCESS_EPISODE_READ, ROUTE_ID_NONE),
    ROUTE(EVHTTP_REQ_GET, "/api/v1/episodes/{id}/tasks", tasks_list, ACCESS_EPISODE_READ,
          ROUTE_ID_EPISODE),
    ROUTE(EVHTTP_REQ_POST, "/api/v1/episodes/{id}/tasks", tasks_create, ACCESS_TASK_CREATE,
          ROUTE_ID_EPISODE),
    ROUTE(EVHTTP_REQ_PATCH, "/api/v1/tasks/{id}", task_patch, ACCESS_TASK_UPDATE, ROUTE_ID_TASK),
    ROUTE_END,
};

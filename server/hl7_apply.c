/*
 * hl7_apply.c - HL7 v2 ADT messages into carebridge actions (see hl7_apply.h).
 *
 * A job moves through: parse -> lookup (earlier ACK of the control id, ward
 * map, episode of the visit) -> decide -> commit (with the message's row) ->
 * ACK.  Anything that stops it on the way is recorded on its own with its AE
 * or AR.  The ACK code of a status is mllp_ack_code()'s to say.
 *
 * Field choices: NHS number from PID-3 of type NH (required to admit,
 * otherwise checked against the visit's patient when present); the visit
 * number PV1-19 is the episode's external_id; the ward is PV1-3.1 through the
 * ward map, the bed PV1-3.3; admission time PV1-44, else EVN-2, else MSH-7;
 * discharge time PV1-45, else EVN-2, else MSH-7, else now.  A time without a
 * zone is London wall time.  An A03 records no actual discharge pathway (it
 * is "not recorded"): PV1-36, the discharge disposition, is a locally defined
 * table (HL7 0112) whose codes, like the NHS discharge destinations, say where
 * the patient went, not with what support, so none maps to one pathway 0-3.
 * Where it went is PV1-37.1, the discharge destination: an NHS Data
 * Dictionary code (or one of ours) becomes the coded destination
 * (lib/destination.h); a value that maps to nothing leaves it not recorded
 * and is kept as the destination's note, never a reason to refuse the A03.
 * The likely discharge pathway comes from the field config hl7_pathway_field
 * names (default ZCB-1, a site Z-segment): on A01 it is the admission's
 * pathway, so 1-3 opens the day-one referral through the admission's one
 * store path; on A08 it sets the pathway as PATCH /api/v1/episodes/{id}
 * does (opening a referral when one is needed and none is open); a value
 * other than 0-3 is an AE naming the field.  PV2-8, the expected discharge
 * date, is the admission's EDD when it is a date not before the admission
 * (else ignored: it is an estimate, never a reason to refuse an admission).
 */
#include "hl7_apply.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "access.h"
#include "admission.h"
#include "app.h"
#include "cbtime.h"
#include "destination.h"
#include "episode.h"
#include "hl7.h"
#include "log.h"
#include "metrics.h"
#include "mllp.h"
#include "nhs.h"
#include "store_episode.h"
#include "store_hl7.h"
#include "xmalloc.h"

#define HL7_ACK_CONTROL_LEN 20 /* MSH-10 is 20 characters in v2.5 */

struct hl7_job {
	struct app *app;                           /* the process */
	hl7_apply_cb *cb;                          /* the caller's; NULL once detached */
	void *arg;                                 /* its argument */
	char *raw;                                 /* the message as received; owned */
	size_t raw_len;                            /* its length */
	char peer[64];                             /* client address */
	char id[37];                               /* the message's row (audit request_id) */
	char ack_control[HL7_ACK_CONTROL_LEN + 1]; /* MSH-10 of our ACK */
	char timestamp[32];                        /* MSH-7 of our ACK */
	struct timespec started;                   /* for the duration logged */
	struct hl7_msg *msg;                       /* parsed message, NULL if unparseable; owned */
	struct hl7_adt adt;                        /* what carebridge reads, valid if have_adt */
	bool have_adt;                             /* adt was extracted */
	char sending_app[228];                     /* MSH-3.1, for the record */
	char sending_facility[228];                /* MSH-4.1 */
	char control_id[200];                      /* MSH-10, "" if absent */
	char message_type[64];                     /* MSH-9 joined with '^' */
	char *ack_aa;                              /* the AA prepared before a commit; owned */
	char episode_id[37];                       /* the episode concerned, "" if none */
	struct admission adm;                      /* A01: the admission */
	struct episode_change change;              /* other events: the change */
	char ward[ADMISSION_WARD_MAX + 1];         /* transfer: ward moved to */
	char bed[ADMISSION_BED_MAX + 1];           /* transfer, update: bed */
	char destination[201];                     /* discharge: PV1-37.1 when unmapped */
	char family[ADMISSION_NAME_MAX + 1];       /* update: PID-5.1 */
	char given[ADMISSION_NAME_MAX + 1];        /* update: PID-5.2 */
	char birth_date[DATE_FORMAT_LEN];          /* update: PID-7, "" if not sent */
	char sex[16];                              /* update: PID-8 as carebridge names it */
};

/* The HL7 interface acting: a system principal, audited as "hl7". */
static const struct principal hl7_principal = {.name = "hl7", .role = ROLE_SYSTEM};

static void job_free(struct hl7_job *job)
{
	hl7_msg_free(job->msg);
	free(job->raw);
	free(job->ack_aa);
	free(job);
}

/* Copy src into dst of size bytes (lengths are checked before: this only cannot overflow). */
static void copy_text(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* A copy of s fit for a log line: printable ASCII only, at most 64 bytes. */
static void log_safe(const char *s, char *out, size_t size)
{
	size_t i = 0;

	for (; s[i] != '\0' && i + 1 < size && i < 64; i++)
		out[i] = s[i] >= 0x21 && s[i] <= 0x7e ? s[i] : '?';
	out[i] = '\0';
}

/* Hand the ACK to the caller (unless detached), log the outcome, free the job. */
static void job_done(struct hl7_job *job, const char *ack, const char *code, bool duplicate)
{
	struct timespec now;
	char ctl[72];
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - job->started.tv_sec) * 1000 +
	     (now.tv_nsec - job->started.tv_nsec) / 1000000;
	log_safe(job->control_id, ctl, sizeof ctl);
	metrics_hl7_done(job->app->metrics, code, duplicate);
	log_info("hl7", "message done id=%s event=%s ack=%s duplicate=%s control_id=%s ms=%ld",
	         job->id, job->have_adt ? job->adt.trigger : "-", code, duplicate ? "yes" : "no",
	         ctl[0] != '\0' ? ctl : "-", ms);
	if (job->cb != NULL)
		job->cb(ack, code, job->arg);
	job_free(job);
}

/* The row of this message, with outcome code/ack/error. */
static void job_record(const struct hl7_job *job, struct hl7_record *rec, const char *code,
                       const char *ack, const char *error)
{
	memset(rec, 0, sizeof *rec);
	rec->id = job->id;
	rec->peer = job->peer;
	rec->sending_app = job->sending_app;
	rec->sending_facility = job->sending_facility;
	rec->control_id = job->control_id[0] != '\0' ? job->control_id : NULL;
	rec->message_type = job->message_type;
	rec->raw = job->raw;
	rec->raw_len = job->raw_len;
	rec->ack_code = code;
	rec->ack = ack;
	rec->error = error;
	rec->episode_id = job->episode_id[0] != '\0' ? job->episode_id : NULL;
}

struct record_wait {
	struct hl7_job *job; /* the job */
	char *ack;           /* the ACK we meant to send; owned */
	char code[3];        /* and its code */
};

static void recorded(enum status st, const char *ack, const char *code, bool duplicate, void *arg)
{
	struct record_wait *w = arg;

	if (st != ST_OK) {
		/* not kept, but the sender still gets its answer */
		log_warning("hl7", "could not record message id=%s status=%s", w->job->id,
		            status_code(st));
		job_done(w->job, w->ack, w->code, false);
	} else {
		job_done(w->job, ack, code, duplicate);
	}
	free(w->ack);
	free(w);
}

/* Record the message with ack (taking ownership) and then answer: AE, AR, no-op AA. */
static void finish_with(struct hl7_job *job, const char *code, char *ack, const char *text)
{
	struct record_wait *w = xcalloc(1, sizeof *w);
	struct hl7_record rec;

	if (job->cb == NULL) {
		free(ack);
		free(w);
		job_free(job);
		return;
	}
	w->job = job;
	w->ack = ack;
	snprintf(w->code, sizeof w->code, "%s", code);
	job_record(job, &rec, code, ack, text);
	store_hl7_record(job->app->db, &rec, recorded, w);
}

/* Answer code with text (AE, AR or an AA that changed nothing). */
static void finish(struct hl7_job *job, const char *code, const char *text)
{
	char *ack = hl7_ack_build(job->msg, code, text, job->ack_control, job->timestamp);

	finish_with(job, code, ack, text);
}

/* Answer a failed status: AE if the message was wrong, AR if we could not apply it now. */
static void finish_status(struct hl7_job *job, enum status st, const struct err *err)
{
	char text[ERR_MESSAGE_MAX + ERR_FIELD_MAX + 8];

	if (err != NULL && err->message[0] != '\0')
		snprintf(text, sizeof text, "%s", err->message);
	else
		snprintf(text, sizeof text, "could not apply the message (%s)", status_code(st));
	finish(job, mllp_ack_code(st), text);
}

/* An AE for a message that is understood but wrong. */
static void finish_error(struct hl7_job *job, enum status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void finish_error(struct hl7_job *job, enum status st, const char *fmt, ...)
{
	char text[ERR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	finish(job, mllp_ack_code(st), text);
}

/* An HL7 time as a Unix instant: its zone if sent, else London wall time. */
static enum status ts_to_unix(const struct hl7_ts *t, int64_t *out)
{
	if (t->has_zone) {
		*out = (int64_t)date_from_ymd(t->year, t->month, t->day) * CBTIME_DAY_SECONDS +
		       t->hour * 3600 + t->minute * 60 + t->second - (int64_t)t->zone_minutes * 60;
		return ST_OK;
	}
	return london_local_to_utc(t->year, t->month, t->day, t->hour, t->minute, t->second, out);
}

/* The first of PV1-x / EVN-2 / MSH-7 that was sent, as an instant; false if none. */
static bool event_time(const struct hl7_job *job, const struct hl7_ts *pv1, bool has_pv1,
                       int64_t *out)
{
	struct hl7_ts msh;
	struct err err;

	if (has_pv1)
		return ts_to_unix(pv1, out) == ST_OK;
	if (job->adt.has_recorded)
		return ts_to_unix(&job->adt.recorded, out) == ST_OK;
	if (hl7_ts_parse(hl7_get(job->msg, "MSH", 0, 7, 0, 1, 1), &msh, &err) == ST_OK)
		return ts_to_unix(&msh, out) == ST_OK;
	return false;
}

/* PID-8 as carebridge names it; "" when not sent. */
static const char *sex_name(const char *hl7)
{
	if (hl7[0] == '\0')
		return "";
	if (strcmp(hl7, "F") == 0)
		return "female";
	if (strcmp(hl7, "M") == 0)
		return "male";
	if (strcmp(hl7, "O") == 0 || strcmp(hl7, "A") == 0 || strcmp(hl7, "N") == 0 ||
	    strcmp(hl7, "X") == 0)
		return "other";
	return "unknown";
}

/* The HL7 field an admission field comes from, for AE texts. */
static const char *admission_field_hl7(const char *field)
{
	static const char *const map[][2] = {
	    {"nhs_number", "PID-3"}, {"family_name", "PID-5.1"}, {"given_name", "PID-5.2"},
	    {"birth_date", "PID-7"}, {"sex", "PID-8"},           {"ward", "PV1-3.1"},
	    {"bed", "PV1-3.3"},      {"admitted_at", "PV1-44"},  {"external_id", "PV1-19"},
	};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(field, map[i][0]) == 0)
			return map[i][1];
	return "message";
}

/* The extra statements of a commit: the message's row, as applied (AA). */
static void add_record_applied(struct db_req *req, const char *episode_id, void *arg)
{
	struct hl7_job *job = arg;
	struct hl7_record rec;

	snprintf(job->episode_id, sizeof job->episode_id, "%s", episode_id);
	job_record(job, &rec, "AA", job->ack_aa, NULL);
	store_hl7_add_record(req, &rec);
}

/* A08: the patient's demographics too, then the row. */
static void add_update_applied(struct db_req *req, const char *episode_id, void *arg)
{
	struct hl7_job *job = arg;

	store_hl7_add_patient_update(req, episode_id, job->family, job->given,
	                             job->birth_date[0] != '\0' ? job->birth_date : NULL, job->sex);
	add_record_applied(req, episode_id, arg);
}

/* The commit is over: AA, or the failure answered and recorded on its own. */
static void committed(enum status st, const struct err *err, const char *json, void *arg)
{
	struct hl7_job *job = arg;

	if (st == ST_OK) {
		job_done(job, job->ack_aa, "AA", false);
		return;
	}
	/* nothing of the change is left: the message row is written on its own */
	job->episode_id[0] = '\0';
	if (job->cb == NULL) {
		job_free(job);
		return;
	}
	finish_status(job, st, err);
}

static void actor_hl7(const struct hl7_job *job, struct actor *actor)
{
	actor->id = NULL;
	actor->name = "hl7";
	actor->request_id = job->id;
	actor->organisation = NULL;
}

/* A01 after store_admission_context: plan the day-one work and commit. */
static void admit_context(enum status st, const struct admission_context *ctx, void *arg)
{
	struct hl7_job *job = arg;
	struct planned_task *plan;
	struct actor actor;
	size_t n;

	if (job->cb == NULL) {
		job_free(job);
		return;
	}
	if (st != ST_OK) {
		finish_status(job, st, NULL);
		return;
	}
	if (ctx->replay_episode[0] != '\0') {
		/* another A01 of the visit committed since the lookup (as there: body not compared)
		 */
		snprintf(job->episode_id, sizeof job->episode_id, "%s", ctx->replay_episode);
		finish(job, "AA", "visit already admitted; nothing changed");
		return;
	}
	if (!ctx->ward_exists) {
		finish_error(job, ST_INVALID, "unknown ward \"%s\" (PV1-3.1 \"%s\")", job->adm.ward,
		             job->adt.ward);
		return;
	}
	plan = xcalloc(ctx->ntemplates + 1, sizeof *plan);
	n = admission_plan(&job->adm, ctx->templates, ctx->ntemplates, plan);
	actor_hl7(job, &actor);
	job->ack_aa = hl7_ack_build(job->msg, "AA", NULL, job->ack_control, job->timestamp);
	/* plan points into ctx->templates, valid only now: the store copies what it needs */
	store_admission_commit_with(job->app->db, &job->adm, plan, n, &actor, app_now(job->app),
	                            add_record_applied, job, committed, job);
	free(plan);
}

/* Check PID-3's NHS number (if sent) against the patient of the visit. */
static bool nhs_matches(struct hl7_job *job, const struct hl7_lookup *l)
{
	char nhs[NHS_NUMBER_SIZE];
	struct err err;

	if (job->adt.nhs_number[0] == '\0')
		return true;
	if (nhs_number_parse(job->adt.nhs_number, nhs, &err) != ST_OK) {
		finish_error(job, ST_INVALID, "PID-3: NHS number is not valid (check digit)");
		return false;
	}
	if (l->nhs_number == NULL || strcmp(nhs, l->nhs_number) != 0) {
		finish_error(job, ST_CONFLICT,
		             "PID-3: NHS number is not that of the patient of visit \"%s\"",
		             job->adt.visit_number);
		return false;
	}
	return true;
}

/* The likely pathway the PAS sent (-1 if none); false after answering an AE. */
static bool pathway_of(struct hl7_job *job, int *out)
{
	struct hl7_field_ref ref;
	struct err err;

	/* validated at start-up and reload: a bad value here reads nothing */
	if (hl7_field_ref_parse(job->app->cfg->hl7_pathway_field, &ref, NULL) != ST_OK)
		ref.seg[0] = '\0';
	if (hl7_pathway_from_msg(job->msg, &ref, out, &err) != ST_OK) {
		finish_error(job, ST_INVALID, "%s", err.message);
		return false;
	}
	return true;
}

/* A01: build the admission as POST /api/v1/admissions would receive it. */
static void decide_admit(struct hl7_job *job, const struct hl7_lookup *l)
{
	const struct hl7_adt *a = &job->adt;
	struct access_target target = {.ward = NULL, .discipline = NULL};
	char birth[DATE_FORMAT_LEN], edd_text[DATE_FORMAT_LEN], admitted[TIME_FORMAT_LEN];
	struct actor actor;
	cJSON *body;
	struct err err;
	enum status st;
	int64_t at;
	int pathway;

	if (a->visit_number[0] == '\0') {
		finish_error(job, ST_INVALID, "PV1-19: visit number is required");
		return;
	}
	if (!pathway_of(job, &pathway))
		return;
	if (l->has_episode) {
		snprintf(job->episode_id, sizeof job->episode_id, "%s", l->episode.id);
		if (!nhs_matches(job, l))
			return;
		if (strcmp(l->episode.state, "admitted") != 0) {
			finish_error(job, ST_CONFLICT,
			             "visit \"%s\" is already %s; cannot admit it", a->visit_number,
			             l->episode.state);
			return;
		}
		finish(job, "AA", "visit already admitted; nothing changed");
		return;
	}
	if (a->nhs_number[0] == '\0') {
		finish_error(job, ST_INVALID, "PID-3: no NHS number (identifier type NH)");
		return;
	}
	if (a->ward[0] == '\0') {
		finish_error(job, ST_INVALID, "PV1-3.1: location is required");
		return;
	}
	if (l->ward == NULL) {
		finish_error(job, ST_INVALID, "unknown ward \"%s\" (PV1-3.1): no ward mapping",
		             a->ward);
		return;
	}
	if (!a->has_birth_date) {
		finish_error(job, ST_INVALID, "PID-7: birth date is required");
		return;
	}
	if (!event_time(job, &a->admit_time, a->has_admit_time, &at)) {
		finish_error(job, ST_INVALID, "PV1-44: no admission time (nor EVN-2, MSH-7)");
		return;
	}
	snprintf(birth, sizeof birth, "%04d-%02d-%02d", a->birth_date.year, a->birth_date.month,
	         a->birth_date.day);
	time_format(at, admitted);
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "nhs_number", a->nhs_number);
	cJSON_AddStringToObject(body, "family_name", a->family);
	cJSON_AddStringToObject(body, "given_name", a->given);
	cJSON_AddStringToObject(body, "birth_date", birth);
	if (sex_name(a->sex)[0] != '\0')
		cJSON_AddStringToObject(body, "sex", sex_name(a->sex));
	cJSON_AddStringToObject(body, "ward", l->ward);
	cJSON_AddStringToObject(body, "bed", a->bed);
	cJSON_AddStringToObject(body, "admitted_at", admitted);
	cJSON_AddStringToObject(body, "external_id", a->visit_number);
	if (pathway >= 0)
		cJSON_AddNumberToObject(body, "pathway", pathway);
	if (a->has_expected_discharge) {
		int32_t edd = date_from_ymd(a->expected_discharge.year, a->expected_discharge.month,
		                            a->expected_discharge.day);

		if (edd >= london_date(at)) {
			date_format(edd, edd_text);
			cJSON_AddStringToObject(body, "expected_discharge_date", edd_text);
		}
	}
	/* the very rules of the HTTP admission path */
	st = admission_parse(body, app_now(job->app), &job->adm, &err);
	cJSON_Delete(body);
	if (st == ST_OK) {
		target.ward = job->adm.ward;
		st = access_check(&hl7_principal, ACCESS_EPISODE_ADMIT, &target, &err);
	}
	if (st != ST_OK) {
		if (strcmp(err.field, "nhs_number") == 0)
			finish_error(job, st, "PID-3: NHS number is not valid (check digit)");
		else
			finish_error(job, st, "%s: %s", admission_field_hl7(err.field),
			             err.message);
		return;
	}
	actor_hl7(job, &actor);
	store_admission_context(job->app->db, &job->adm, &actor, admit_context, job);
}

/* A02: the new ward (through the map) and bed. */
static bool decide_transfer(struct hl7_job *job, const struct hl7_lookup *l)
{
	const struct hl7_adt *a = &job->adt;
	struct episode_change *c = &job->change;

	if (a->ward[0] == '\0') {
		finish_error(job, ST_INVALID, "PV1-3.1: location is required");
		return false;
	}
	if (l->ward == NULL) {
		finish_error(job, ST_INVALID, "unknown ward \"%s\" (PV1-3.1): no ward mapping",
		             a->ward);
		return false;
	}
	if (strlen(a->bed) > ADMISSION_BED_MAX) {
		finish_error(job, ST_INVALID, "PV1-3.3: bed is longer than %d characters",
		             ADMISSION_BED_MAX);
		return false;
	}
	copy_text(job->ward, sizeof job->ward, l->ward);
	copy_text(job->bed, sizeof job->bed, a->bed);
	c->set_bed = true;
	c->bed = job->bed;
	if (strcmp(job->ward, l->episode.ward) == 0) {
		/* a bed move on the same ward */
		c->event_type = "episode.updated";
		c->audit_action = "episode.update";
		return true;
	}
	c->new_ward = job->ward;
	c->event_type = "episode.transferred";
	c->audit_action = "episode.transfer";
	return true;
}

/* A03: when (PV1-45) and where to (PV1-37); the actual pathway stays not recorded. */
static bool decide_discharge(struct hl7_job *job, const struct hl7_lookup *l)
{
	const struct hl7_adt *a = &job->adt;
	enum destination dest;
	struct episode_change *c = &job->change;
	int64_t now = app_now(job->app);

	if (!event_time(job, &a->discharge_time, a->has_discharge_time, &c->discharged_at))
		c->discharged_at = now;
	if (c->discharged_at < l->episode.admitted_at) {
		finish_error(job, ST_INVALID, "PV1-45: discharge time is before admission");
		return false;
	}
	if (c->discharged_at > now + 3600) {
		finish_error(job, ST_INVALID, "PV1-45: discharge time is in the future");
		return false;
	}
	if (destination_from_hl7(a->discharged_to, &dest))
		c->destination_code = destination_name(dest);
	else
		snprintf(job->destination, sizeof job->destination, "%s", a->discharged_to);
	c->new_state = "discharged";
	c->destination_note = job->destination[0] != '\0' ? job->destination : NULL;
	c->event_type = "episode.discharged";
	c->audit_action = "episode.discharge";
	return true;
}

/* A08: demographics (PID-5, PID-7, PID-8) and, when PV1 says, the bed. */
static bool decide_update(struct hl7_job *job)
{
	const struct hl7_adt *a = &job->adt;
	struct episode_change *c = &job->change;
	int32_t birth;
	int pathway;

	if (!pathway_of(job, &pathway))
		return false;
	if (pathway >= 0) {
		c->set_pathway = true;
		c->pathway = pathway;
	}
	if (strlen(a->family) > ADMISSION_NAME_MAX || strlen(a->given) > ADMISSION_NAME_MAX) {
		finish_error(job, ST_INVALID, "PID-5: a name is longer than %d characters",
		             ADMISSION_NAME_MAX);
		return false;
	}
	if (strlen(a->bed) > ADMISSION_BED_MAX) {
		finish_error(job, ST_INVALID, "PV1-3.3: bed is longer than %d characters",
		             ADMISSION_BED_MAX);
		return false;
	}
	copy_text(job->family, sizeof job->family, a->family);
	copy_text(job->given, sizeof job->given, a->given);
	snprintf(job->sex, sizeof job->sex, "%s", sex_name(a->sex));
	if (a->has_birth_date) {
		birth = date_from_ymd(a->birth_date.year, a->birth_date.month, a->birth_date.day);
		if (birth > london_date(app_now(job->app)) || birth < date_from_ymd(1880, 1, 1)) {
			finish_error(job, ST_INVALID, "PID-7: birth date is not plausible");
			return false;
		}
		date_format(birth, job->birth_date);
	}
	if (a->bed[0] != '\0') {
		copy_text(job->bed, sizeof job->bed, a->bed);
		c->set_bed = true;
		c->bed = job->bed;
	}
	c->event_type = "episode.updated";
	c->audit_action = "episode.update";
	return true;
}

/* A02, A03, A08, A11, A13: find the visit's episode, ask lib/episode, commit. */
static void decide_change(struct hl7_job *job, const struct hl7_lookup *l)
{
	static const enum episode_action actions[] = {
	    [HL7_A02] = EPISODE_TRANSFER, [HL7_A03] = EPISODE_DISCHARGE, [HL7_A08] = EPISODE_UPDATE,
	    [HL7_A11] = EPISODE_CANCEL,   [HL7_A13] = EPISODE_REOPEN,
	};
	struct episode_change *c = &job->change;
	struct access_target target = {.ward = NULL, .discipline = NULL};
	enum episode_action action = actions[job->adt.event];
	enum episode_state state;
	store_extra_fn *extra = add_record_applied;
	struct actor actor;
	struct err err;
	bool ok = false;

	if (job->adt.visit_number[0] == '\0') {
		finish_error(job, ST_INVALID, "PV1-19: visit number is required");
		return;
	}
	if (!l->has_episode) {
		finish_error(job, ST_NOT_FOUND, "no episode with visit number \"%s\" (PV1-19)",
		             job->adt.visit_number);
		return;
	}
	snprintf(job->episode_id, sizeof job->episode_id, "%s", l->episode.id);
	if (!nhs_matches(job, l))
		return;
	if (episode_state_parse(l->episode.state, &state, &err) != ST_OK) {
		finish_status(job, ST_INTERNAL, NULL);
		return;
	}
	if (episode_can(state, action, &err) != ST_OK) {
		finish_error(job, ST_CONFLICT, "%s", err.message);
		return;
	}
	target.ward = l->episode.ward;
	if (access_check(&hl7_principal, ACCESS_EPISODE_WRITE, &target, &err) != ST_OK) {
		finish_error(job, ST_FORBIDDEN, "%s", err.message);
		return;
	}
	memset(c, 0, sizeof *c);
	c->expected_version = l->episode.version;
	switch (job->adt.event) {
	case HL7_A02:
		ok = decide_transfer(job, l);
		break;
	case HL7_A03:
		ok = decide_discharge(job, l);
		break;
	case HL7_A08:
		ok = decide_update(job);
		extra = add_update_applied;
		break;
	case HL7_A11:
		c->new_state = episode_state_name(episode_next_state(state, action));
		c->event_type = "episode.cancelled";
		c->audit_action = "episode.cancel";
		c->cancel_work = true;
		ok = true;
		break;
	case HL7_A13:
		c->new_state = episode_state_name(episode_next_state(state, action));
		c->event_type = "episode.reopened";
		c->audit_action = "episode.reopen";
		ok = true;
		break;
	case HL7_A01:
		ASSERT(!"A01 is an admission");
	}
	if (!ok)
		return;
	actor_hl7(job, &actor);
	job->ack_aa = hl7_ack_build(job->msg, "AA", NULL, job->ack_control, job->timestamp);
	store_episode_change_with(job->app->db, &l->episode, c, &actor, app_now(job->app), extra,
	                          job, committed, job);
}

static void looked_up(enum status st, const struct hl7_lookup *l, void *arg)
{
	struct hl7_job *job = arg;

	if (job->cb == NULL) {
		job_free(job);
		return;
	}
	if (st != ST_OK) {
		finish_status(job, st, NULL);
		return;
	}
	if (l->replay) {
		/* a resent control id: its first ACK again, recorded as a duplicate */
		finish_with(job, l->prior_ack_code, xstrdup(l->prior_ack), NULL);
		return;
	}
	if (job->adt.event == HL7_A01)
		decide_admit(job, l);
	else
		decide_change(job, l);
}

/* MSH-9's components joined with '^', read directly (for messages we cannot use). */
static void message_type_of(const struct hl7_msg *m, char *out, size_t size)
{
	snprintf(out, size, "%s", hl7_get(m, "MSH", 0, 9, 0, 1, 1));
	for (int comp = 2; comp <= 3; comp++) {
		const char *v = hl7_get(m, "MSH", 0, 9, 0, comp, 1);

		if (v[0] != '\0' && strlen(out) + strlen(v) + 2 <= size) {
			strcat(out, "^");
			strcat(out, v);
		}
	}
}

static void job_start(struct hl7_job *job, const char *data, size_t len);

struct hl7_job *hl7_apply(struct app *app, const char *data, size_t len, const char *peer,
                          hl7_apply_cb *cb, void *arg)
{
	struct hl7_job *job = xcalloc(1, sizeof *job);
	char ts[TIME_FORMAT_LEN], rid[LOG_REQUEST_ID_SIZE], prev[LOG_REQUEST_ID_SIZE];
	int64_t now = app_now(app);

	job->app = app;
	job->cb = cb;
	job->arg = arg;
	job->raw = xmalloc(len + 1);
	memcpy(job->raw, data, len);
	job->raw[len] = '\0';
	job->raw_len = len;
	snprintf(job->peer, sizeof job->peer, "%s", peer);
	clock_gettime(CLOCK_MONOTONIC, &job->started);
	store_new_id(job->id);
	for (size_t i = 0, k = 0; job->id[i] != '\0' && k < HL7_ACK_CONTROL_LEN; i++)
		if (job->id[i] != '-')
			job->ack_control[k++] = job->id[i];
	time_format(now, ts);
	/* "2026-11-23T10:00:00Z" -> "20261123100000+0000" */
	snprintf(job->timestamp, sizeof job->timestamp, "%.4s%.2s%.2s%.2s%.2s%.2s+0000", ts, ts + 5,
	         ts + 8, ts + 11, ts + 14, ts + 17);
	/* an MLLP message's lines (and its queries' callbacks) carry the message's id */
	snprintf(rid, sizeof rid, "%s", log_request_id()[0] != '\0' ? log_request_id() : job->id);
	log_request_begin(rid, prev);
	job_start(job, data, len);
	log_request_end(prev);
	return job;
}

/* Parse job's message and look up what applying it needs (the lookup's callback goes on). */
static void job_start(struct hl7_job *job, const char *data, size_t len)
{
	const char *pas = NULL, *visit = NULL;
	struct err err;

	job->msg = hl7_parse(data, len, &err);
	if (job->msg == NULL) {
		finish(job, "AR", err.message);
		return;
	}
	snprintf(job->sending_app, sizeof job->sending_app, "%s",
	         hl7_get(job->msg, "MSH", 0, 3, 0, 1, 1));
	snprintf(job->sending_facility, sizeof job->sending_facility, "%s",
	         hl7_get(job->msg, "MSH", 0, 4, 0, 1, 1));
	snprintf(job->control_id, sizeof job->control_id, "%s",
	         hl7_get(job->msg, "MSH", 0, 10, 0, 1, 1));
	message_type_of(job->msg, job->message_type, sizeof job->message_type);
	if (hl7_adt_from_msg(job->msg, &job->adt, &err) != ST_OK) {
		char text[ERR_MESSAGE_MAX + ERR_FIELD_MAX + 4];

		if (err.field[0] != '\0' && strstr(err.message, err.field) == NULL)
			snprintf(text, sizeof text, "%s: %s", err.field, err.message);
		else
			snprintf(text, sizeof text, "%s", err.message);
		finish(job, "AR", text);
		return;
	}
	job->have_adt = true;
	if (job->adt.event == HL7_A01 || job->adt.event == HL7_A02)
		pas = job->adt.ward;
	if (job->adt.visit_number[0] != '\0')
		visit = job->adt.visit_number;
	store_hl7_lookup(job->app->db, job->sending_app, job->sending_facility, job->control_id,
	                 pas, visit, looked_up, job);
}

void hl7_job_detach(struct hl7_job *job)
{
	job->cb = NULL;
}

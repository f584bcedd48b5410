/*
 * message.c - the messenger: claims queued messages and sends them on its
 * own worker threads (see message.h).
 *
 * Owns: the worker pool, the jobs in flight (each freed by the callback of
 * the store call recording its outcome, which never touches the messenger),
 * and this process's claim owner id.  Must not: send on the event loop, log
 * an address, a subject or a body (messages are logged by id and channel),
 * or record an outcome for a message it no longer holds (the store checks
 * the claim).
 */
#include "message_send.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "app.h"
#include "clock.h"
#include "http.h"
#include "log.h"
#include "review.h"
#include "store.h"
#include "store_message.h"
#include "work.h"
#include "xmalloc.h"

#define MESSAGE_QUEUE_PER_THREAD 4 /* jobs claimed per worker thread at most */
#define MESSAGE_POLL_MS 1000       /* look for due messages this often */
#define DIGEST_LATE_MAX 3600       /* a digest slot missed by more (seconds) is skipped */

struct messenger {
	struct app *app;     /* the process */
	struct work *work;   /* the sending threads; owned */
	char owner[96];      /* claim owner id: "host/pid/random" */
	int slots;           /* jobs that may be in flight at once */
	int inflight;        /* jobs queued or running */
	bool claiming;       /* a claim is out */
	bool poked;          /* claim at the next tick */
	bool digesting;      /* a digest is being taken */
	int64_t digest_slot; /* the slot being taken, or the last one done (carebridge time) */
	int64_t digest_done; /* the last slot taken here or found taken */
	bool gone;           /* freed while a query was out: the last callback frees */
	int64_t next_poll;   /* monotonic ms of the next unprompted claim */
	uint64_t sent;       /* messages sent by this process */
	uint64_t failed;     /* failed attempts */
};

static char *read_first_line(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[512];

	if (f == NULL)
		return NULL;
	if (fgets(buf, sizeof buf, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return xstrdup(buf);
}

/* The GOV.UK Notify channels: the Notify client plugs in here (issue 17). */
static enum message_outcome notify_send(struct message_job *job)
{
	snprintf(job->error, sizeof job->error, "notify channel not available");
	return MESSAGE_OUTCOME_PERMANENT;
}

enum message_outcome message_channel_send(struct message_job *job)
{
	enum smtp_result r;
	char *pw = NULL;

	job->error[0] = '\0';
	switch (job->channel) {
	case MESSAGE_EMAIL_SMTP:
		if (job->smtp_host[0] == '\0') {
			snprintf(job->error, sizeof job->error, "smtp_host is not set");
			return MESSAGE_OUTCOME_RETRY;
		}
		if (job->smtp_password_file[0] != '\0') {
			pw = read_first_line(job->smtp_password_file);
			if (pw == NULL) {
				snprintf(job->error, sizeof job->error,
				         "could not read smtp_password_file");
				return MESSAGE_OUTCOME_RETRY;
			}
			job->smtp.password = pw;
		}
		r = smtp_send(&job->smtp, job->to, job->mail, job->error, sizeof job->error);
		if (pw != NULL) {
			sodium_memzero(pw, strlen(pw));
			free(pw);
			job->smtp.password = job->smtp_password;
		}
		return r == SMTP_SENT        ? MESSAGE_OUTCOME_SENT
		       : r == SMTP_PERMANENT ? MESSAGE_OUTCOME_PERMANENT
		                             : MESSAGE_OUTCOME_RETRY;
	case MESSAGE_EMAIL_NOTIFY:
	case MESSAGE_SMS_NOTIFY:
		return notify_send(job);
	}
	snprintf(job->error, sizeof job->error, "unknown channel");
	return MESSAGE_OUTCOME_PERMANENT;
}

static void job_free(struct message_job *job)
{
	free(job->to);
	free(job->subject);
	free(job->body);
	free(job->mail);
	free(job->smtp_host);
	free(job->smtp_ca_file);
	free(job->smtp_username);
	if (job->smtp_password != NULL)
		sodium_memzero(job->smtp_password, strlen(job->smtp_password));
	free(job->smtp_password);
	free(job->smtp_password_file);
	free(job->smtp_helo);
	free(job->smtp_from);
	free(job);
}

static void job_run(void *arg)
{
	struct message_job *job = arg;

	job->outcome = message_channel_send(job);
}

static void recorded(enum status st, void *arg)
{
	struct message_job *job = arg;

	if (st != ST_OK)
		log_warning("message", "could not record a message outcome message=%s status=%s",
		            job->id, status_code(st));
	job_free(job);
}

/* Back on the loop: record the outcome (the job is freed by that store call). */
static void job_done(void *arg)
{
	struct message_job *job = arg;
	struct messenger *m = job->m;
	const struct config *cfg = m->app->cfg;

	m->inflight--;
	if (job->outcome == MESSAGE_OUTCOME_SENT) {
		m->sent++;
		log_info("message", "message sent message=%s channel=%s attempt=%d", job->id,
		         message_channel_name(job->channel), job->attempts);
		store_message_sent(m->app->db, job->id, m->owner, job->subject, recorded, job);
	} else {
		int64_t wait = cfg->message_retry_min_ms;
		bool permanent = job->outcome == MESSAGE_OUTCOME_PERMANENT;

		for (int i = 1; i < job->attempts && wait < cfg->message_retry_max_ms; i++)
			wait *= 2;
		if (wait > cfg->message_retry_max_ms)
			wait = cfg->message_retry_max_ms;
		m->failed++;
		log_warning("message",
		            "could not send a message message=%s channel=%s attempt=%d "
		            "permanent=%s: %s",
		            job->id, message_channel_name(job->channel), job->attempts,
		            permanent || job->attempts >= cfg->message_max_attempts ? "yes" : "no",
		            job->error);
		store_message_failed(m->app->db, job->id, m->owner, job->error, permanent,
		                     cfg->message_max_attempts, app_now(m->app) + wait / 1000,
		                     recorded, job);
	}
	if (m->inflight < m->slots)
		m->poked = true; /* room again: more may be due */
}

void messenger_channels(const struct config *cfg, const char **email, const char **sms)
{
	*email = strcmp(cfg->message_email, "smtp") == 0 && cfg->smtp_host[0] != '\0' ? "email_smtp"
	         : strcmp(cfg->message_email, "notify") == 0 ? "email_notify"
	                                                     : "";
	*sms = strcmp(cfg->message_sms, "notify") == 0 ? "sms_notify" : "";
}

static char *link_for(const struct messenger *m, const struct message_row *row)
{
	const struct config *cfg = m->app->cfg;
	const char *path = row->hub ? "/hub" : "/ward";

	if (row->digest && strcmp(row->ward, "*") == 0)
		return cfg->public_origin[0] != '\0'
		           ? xasprintf("%s/dashboard", cfg->public_origin)
		           : xasprintf("http://%s:%d/dashboard", cfg->listen_addr,
		                       http_port(m->app->http));

	if (cfg->public_origin[0] != '\0')
		return row->hub ? xasprintf("%s%s", cfg->public_origin, path)
		                : xasprintf("%s%s?ward=%s", cfg->public_origin, path, row->ward);
	return row->hub
	           ? xasprintf("http://%s:%d%s", cfg->listen_addr, http_port(m->app->http), path)
	           : xasprintf("http://%s:%d%s?ward=%s", cfg->listen_addr, http_port(m->app->http),
	                       path, row->ward);
}

static struct message_job *job_new(struct messenger *m, const struct message_row *row)
{
	const struct config *cfg = m->app->cfg;
	struct message_job *job = xcalloc(1, sizeof *job);
	char ini[MESSAGE_INITIALS_MAX];
	char *link = link_for(m, row);
	struct message_content c;
	const char *at;

	message_initials(row->given1, row->family1, ini);
	c.chase_kind = row->chase_kind;
	c.discipline = row->discipline;
	c.level = row->level;
	c.ward = row->ward;
	c.bed = row->bed;
	c.initials = ini;
	c.link = link;
	job->m = m;
	snprintf(job->id, sizeof job->id, "%s", row->id);
	job->channel = row->channel;
	job->to = xstrdup(row->address);
	job->attempts = row->attempts;
	if (row->digest) {
		struct message_digest dg = {
		    row->ward,      row->counts[0], row->counts[1], row->counts[2], row->counts[3],
		    row->counts[4], row->counts[5], row->counts[6], row->counts[7], link};

		job->subject = message_digest_subject(&dg);
		job->body = message_digest_body(&dg, row->channel == MESSAGE_SMS_NOTIFY);
	} else {
		job->subject = message_subject(&c);
		job->body = row->channel == MESSAGE_SMS_NOTIFY ? message_sms_body(&c)
		                                               : message_email_body(&c);
	}
	free(link);
	job->smtp_host = xstrdup(cfg->smtp_host);
	job->smtp_ca_file = xstrdup(cfg->smtp_ca_file);
	job->smtp_username = xstrdup(cfg->smtp_username);
	job->smtp_password = xstrdup(cfg->smtp_password);
	job->smtp_password_file = xstrdup(cfg->smtp_password_file);
	job->smtp_from = xstrdup(cfg->smtp_from);
	at = strchr(cfg->smtp_from, '@');
	job->smtp_helo = xstrdup(cfg->smtp_helo[0] != '\0'     ? cfg->smtp_helo
	                         : at != NULL && at[1] != '\0' ? at + 1
	                                                       : "localhost");
	job->smtp = (struct smtp_settings){
	    .host = job->smtp_host,
	    .port = cfg->smtp_port,
	    .starttls = strcmp(cfg->smtp_starttls, "required") == 0,
	    .ca_file = job->smtp_ca_file,
	    .username = job->smtp_username,
	    .password = job->smtp_password,
	    .helo = job->smtp_helo,
	    .from = job->smtp_from,
	    .timeout_ms = cfg->smtp_timeout_ms,
	};
	if (row->channel == MESSAGE_EMAIL_SMTP) {
		struct mail mail = {cfg->smtp_from, job->to, job->subject,
		                    job->body,      job->id, NULL};

		job->mail = mail_format(&mail, app_now(m->app));
	}
	return job;
}

static void claimed(enum status st, const struct message_row *rows, int n, void *arg)
{
	struct messenger *m = arg;

	m->claiming = false;
	if (m->gone) {
		if (!m->digesting)
			free(m);
		return;
	}
	if (st != ST_OK) {
		log_warning("message", "could not claim messages status=%s", status_code(st));
		return;
	}
	for (int i = 0; i < n; i++) {
		struct message_job *job = job_new(m, &rows[i]);

		if (job->channel == MESSAGE_EMAIL_SMTP && job->mail == NULL) {
			/* an address with CR or LF: the table's CHECK should have kept it out */
			snprintf(job->error, sizeof job->error,
			         "address cannot be written in a header");
			job->outcome = MESSAGE_OUTCOME_PERMANENT;
			m->inflight++;
			job_done(job);
			continue;
		}
		if (work_submit(m->work, job_run, job_done, job) != 0) {
			/* cannot happen (slots bound the queue); the claim runs out and it is
			 * retried */
			job_free(job);
			continue;
		}
		m->inflight++;
	}
	if (n > 0)
		m->poked = true; /* there may be more */
}

static void digest_taken(enum status st, void *arg)
{
	struct messenger *m = arg;

	m->digesting = false;
	if (m->gone) {
		if (!m->claiming)
			free(m);
		return;
	}
	if (st == ST_OK || st == ST_CONFLICT) {
		if (st == ST_OK)
			log_info("message", "shift digest queued slot=%" PRId64, m->digest_slot);
		m->digest_done = m->digest_slot;
		m->poked = true;
	} else {
		log_warning("message", "could not take the shift digest status=%s",
		            status_code(st));
	}
}

/*
 * Take the latest digest slot (digest_times) once it has come, unless it was
 * more than an hour ago (a process starting late does not send an old digest).
 */
static void digest_tick(struct messenger *m)
{
	const struct config *cfg = m->app->cfg;
	int64_t now = app_now(m->app), slot;
	const char *email, *sms;
	struct board_rounds br;

	if (m->digesting || cfg->digest_times[0] == '\0' ||
	    board_rounds_parse(cfg->digest_times, &br, NULL) != ST_OK)
		return;
	slot = board_round_last(&br, now);
	if (slot <= m->digest_done || now - slot > DIGEST_LATE_MAX)
		return;
	messenger_channels(cfg, &email, &sms);
	if (email[0] == '\0' && sms[0] == '\0')
		return;
	m->digesting = true;
	m->digest_slot = slot;
	store_digest_take(m->app->db, slot, now, email, sms, digest_taken, m);
}

void messenger_tick(struct messenger *m)
{
	int64_t now = mono_ms();
	int room = m->slots - m->inflight;

	if (!m->app->shutting_down)
		digest_tick(m);

	if (m->claiming || room <= 0 || m->app->shutting_down)
		return;
	if (!m->poked && now < m->next_poll)
		return;
	m->poked = false;
	m->next_poll = now + MESSAGE_POLL_MS;
	m->claiming = true;
	store_message_claim(m->app->db, m->owner, app_now(m->app), m->app->cfg->message_lease_ms,
	                    room, claimed, m);
}

void messenger_poke(struct messenger *m)
{
	m->poked = true;
}

struct messenger *messenger_new(struct app *app)
{
	struct messenger *m = xcalloc(1, sizeof *m);
	char host[64] = "", id[37];

	m->app = app;
	m->slots = app->cfg->message_threads * MESSAGE_QUEUE_PER_THREAD;
	m->work = work_new(app->base, app->cfg->message_threads, m->slots + 1);
	gethostname(host, sizeof host - 1);
	store_new_id(id);
	snprintf(m->owner, sizeof m->owner, "%.40s/%ld/%.8s", host, (long)getpid(), id);
	return m;
}

void messenger_free(struct messenger *m)
{
	if (m == NULL)
		return;
	work_free(m->work); /* the sends in progress finish; their outcomes are recorded */
	if (m->claiming || m->digesting)
		m->gone = true;
	else
		free(m);
}

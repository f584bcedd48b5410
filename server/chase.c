/*
 * chase.c - driving chases and snapshots from the database's due times.
 *
 * One pass at a time: (1) take any midnight snapshot that is due (the one
 * ending yesterday, London time, and ones missed while down, at most a week
 * back); (2) flag the inpatients not reviewed since the last board round
 * (once per round: lib/review), which makes them due for a review chase from
 * that round; (3) read what is due for a chase, let lib/chase_rule decide level
 * and next time, and record each chase in its own transaction; (4) read the earliest next due time
 * (or the next board round, if sooner) and sleep until then (re-checking every 30 s and whenever
 * poked).  No thread, no timer per task: the 1 s tick looks at one number unless something is due.
 */
#include "chase.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "cbtime.h"
#include "chase_rule.h"
#include "clock.h"
#include "delay.h"
#include "log.h"
#include "message_send.h"
#include "metrics.h"
#include "review.h"
#include "store.h"
#include "store_chase.h"
#include "store_review.h"
#include "xmalloc.h"

#define CHASE_BATCH 200
#define CHASE_RECHECK 30 /* seconds between passes when nothing is known to be due */
#define SNAPSHOT_BACKFILL 7

/* The kinds of chase, as store_chase names them, for the metrics' label. */
static const char *const chase_kinds[] = {"task", "referral", "hub", "barrier", "review", "other"};
#define CHASE_NKINDS 6

struct chase {
	struct app *app;               /* the process */
	char process[48];              /* this process's name in chase records */
	bool busy;                     /* a pass is running */
	bool poked;                    /* run a pass soon */
	int64_t next_wake;             /* carebridge time of the next due item, 0 = unknown */
	int64_t last_pass;             /* monotonic seconds of the last pass */
	bool snapshot_known;           /* last_snapshot is read */
	bool snapshot_any;             /* some snapshot exists */
	int32_t last_snapshot;         /* newest snapshot day */
	int pending;                   /* chase writes in flight */
	int64_t pass_now;              /* the time the pass runs at */
	int due_count;                 /* items read in this batch */
	uint64_t chased;               /* chases recorded by this process (the "sent" metric) */
	uint64_t raised[CHASE_NKINDS]; /* chases decided by this process, by kind */
	uint64_t lost;                 /* of those, recorded first by another process */
	uint64_t failed;               /* of those, not recorded (database error) */
	int64_t flagged_round; /* the board round whose "not reviewed" flags are set, 0 = none */
};

static void pass_due(struct chase *c);
static void pass_snapshot(struct chase *c);

static void policy_for(const struct chase *c, const char *kind, struct chase_policy *p)
{
	const struct config *cfg = c->app->cfg;

	chase_policy_default(p);
	/* a missed review is chased as an overdue task is, due at the round missed */
	p->first_after = strcmp(kind, "task") == 0 || strcmp(kind, "review") == 0
	                     ? cfg->chase_first_after_ms / 1000
	                     : 0;
	p->repeat_every = cfg->chase_repeat_ms / 1000;
	p->level_after[1] = 0;
	p->level_after[2] = cfg->chase_level2_after_ms / 1000;
	p->level_after[3] = cfg->chase_level3_after_ms / 1000;
}

/*
 * Whom a chase of kind at level goes to: lib/chase_rule's ladder (the
 * discipline, its team lead, the bed manager), except that a referral waiting
 * on the hub goes to the hub's coordinators, then the hub's leads, and only
 * then to the trust's bed manager.
 */
static const char *chase_target_for(const char *kind, int level)
{
	if (strcmp(kind, "hub") == 0 && level == CHASE_LEVEL_DISCIPLINE)
		return "hub";
	if (strcmp(kind, "hub") == 0 && level == CHASE_LEVEL_TEAM_LEAD)
		return "hub_lead";
	return chase_level_target(level);
}

static void delays_for(const struct chase *c, struct chase_delays *cd)
{
	cd->first_after = c->app->cfg->chase_first_after_ms / 1000;
	cd->assessment_after = c->app->cfg->assessment_chase_after_ms / 1000;
	cd->accept_within = c->app->cfg->referral_accept_within_ms / 1000;
	cd->barrier_after = c->app->cfg->barrier_chase_after_ms / 1000;
}

static void pass_end(struct chase *c)
{
	c->busy = false;
	c->last_pass = mono_s();
}

/* The board rounds configured (validated at load, so they parse). */
static bool rounds_for(const struct chase *c, struct board_rounds *br)
{
	return board_rounds_parse(c->app->cfg->board_round_times, br, NULL) == ST_OK;
}

static void next_done(enum status st, int64_t next_at, void *arg)
{
	struct chase *c = arg;
	struct board_rounds br;

	c->next_wake = st == ST_OK && next_at > 0 ? next_at : 0;
	if (rounds_for(c, &br)) {
		int64_t round = board_round_next(&br, c->pass_now);

		if (c->next_wake == 0 || round < c->next_wake)
			c->next_wake = round;
	}
	pass_end(c);
}

/* After a batch: read more if the batch was full, else find the next wake-up. */
static void batch_done(struct chase *c)
{
	struct chase_delays cd;

	if (c->due_count == CHASE_BATCH) {
		pass_due(c);
		return;
	}
	delays_for(c, &cd);
	store_chase_next(c->app->db, &cd, next_done, c);
}

static void record_done(enum status st, void *arg)
{
	struct chase *c = arg;

	if (st == ST_OK) {
		c->chased++;
		messenger_poke(c->app->messenger);
	} else if (st == ST_CONFLICT) { /* another process chased it first */
		c->lost++;
	} else {
		c->failed++;
	}
	if (st != ST_OK && st != ST_CONFLICT)
		log_warning("chase", "could not record a chase status=%s", status_code(st));
	if (--c->pending == 0)
		batch_done(c);
}

/* The channels chases are queued on, from message_email and message_sms. */
static void channels_for(const struct chase *c, struct chase_channels *ch)
{
	messenger_channels(c->app->cfg, &ch->email, &ch->sms);
}

static void due_read(enum status st, const struct chase_item *items, int n, void *arg)
{
	struct chase *c = arg;
	struct chase_channels ch;
	struct chase_policy p;
	int levels[CHASE_BATCH];
	int64_t nexts[CHASE_BATCH];
	int todo = 0;

	if (st != ST_OK) {
		pass_end(c);
		return;
	}
	c->due_count = n;
	for (int i = 0; i < n && i < CHASE_BATCH; i++) {
		struct chase_state s = {items[i].level, items[i].last_chased_at};

		levels[i] = 0;
		policy_for(c, items[i].kind, &p);
		if (!chase_due(&p, items[i].due_at, &s, c->pass_now, &levels[i])) {
			levels[i] = 0; /* not yet: the stored next time was early */
			continue;
		}
		s.last_level = levels[i];
		s.last_chased_at = c->pass_now;
		nexts[i] = chase_next_at(&p, items[i].due_at, &s);
		todo++;
	}
	if (todo == 0) {
		batch_done(c);
		return;
	}
	c->pending = todo;
	channels_for(c, &ch);
	for (int i = 0; i < n && i < CHASE_BATCH; i++) {
		if (levels[i] == 0)
			continue;
		const char *target = chase_target_for(items[i].kind, levels[i]);
		int k = 0;

		while (k < CHASE_NKINDS - 1 && strcmp(chase_kinds[k], items[i].kind) != 0)
			k++;
		c->raised[k]++;

		log_info("chase", "chase kind=%s id=%s level=%d target=%s", items[i].kind,
		         items[i].id, levels[i], target);
		store_chase_record(c->app->db, &items[i], levels[i], target, c->pass_now, nexts[i],
		                   c->process, &ch, record_done, c);
	}
}

static void pass_due(struct chase *c)
{
	struct chase_delays cd;

	delays_for(c, &cd);
	store_chase_due(c->app->db, c->pass_now, &cd, CHASE_BATCH, due_read, c);
}

struct snap {
	struct chase *c; /* owner */
	int32_t day;     /* the date whose ending midnight is counted */
};

static void snapshot_taken(enum status st, void *arg)
{
	struct snap *s = arg;
	struct chase *c = s->c;

	if (st == ST_OK || st == ST_CONFLICT) {
		if (st == ST_OK) {
			char d[DATE_FORMAT_LEN];

			date_format(s->day, d);
			log_info("chase", "midnight snapshot taken day=%s", d);
		}
		c->last_snapshot = s->day;
		c->snapshot_any = true;
		free(s);
		pass_snapshot(c);
		return;
	}
	free(s);
	pass_end(c);
}

static void snapshot_periods(enum status st, const struct snapshot_period *p, int n, void *arg)
{
	struct snap *s = arg;
	struct snapshot_delay *d;
	int k = 0;

	if (st != ST_OK) {
		pass_end(s->c);
		free(s);
		return;
	}
	d = xcalloc((size_t)n + 1, sizeof *d);
	for (int i = 0; i < n; i++) {
		struct readiness r = {p[i].ready_at, p[i].withdrawn_at, p[i].left_at};
		int32_t first;

		if (!delay_counts_on(&r, s->day))
			continue;
		first = london_date(r.ready_at - 1);
		d[k].p = &p[i];
		d[k].days = delay_days(&r, 1, first, s->day);
		if (p[i].delay_id[0] == '\0')
			store_new_id(d[k].new_id);
		k++;
	}
	store_snapshot_take(s->c->app->db, s->day, london_snapshot(s->day), d, k, snapshot_taken,
	                    s);
	free(d);
}

static void review_flagged(enum status st, void *arg)
{
	struct chase *c = arg;
	struct board_rounds br;

	if (st != ST_OK) {
		log_warning("chase", "could not flag episodes not reviewed status=%s",
		            status_code(st));
		pass_end(c);
		return;
	}
	if (rounds_for(c, &br))
		c->flagged_round = board_round_last(&br, c->pass_now);
	pass_due(c);
}

/*
 * Once per board round: flag the inpatients not reviewed since it.  Only once,
 * because the flags change only when a round passes (a review clears its own).
 */
static void pass_review(struct chase *c)
{
	struct board_rounds br;
	int64_t round;

	if (!rounds_for(c, &br)) {
		pass_due(c);
		return;
	}
	round = board_round_last(&br, c->pass_now);
	if (round == c->flagged_round) {
		pass_due(c);
		return;
	}
	store_review_flag_overdue(c->app->db, round, c->pass_now, review_flagged, c);
}

/* Take the next missing snapshot, or go on to chasing. */
static void pass_snapshot(struct chase *c)
{
	int32_t yesterday = london_date(c->pass_now) - 1;
	struct snap *s;

	if (c->snapshot_any && c->last_snapshot >= yesterday) {
		pass_review(c);
		return;
	}
	s = xmalloc(sizeof *s);
	s->c = c;
	s->day = c->snapshot_any && c->last_snapshot >= yesterday - SNAPSHOT_BACKFILL
	             ? c->last_snapshot + 1
	             : yesterday;
	store_snapshot_periods(c->app->db, london_snapshot(s->day), snapshot_periods, s);
}

static void snapshot_last(enum status st, int32_t day, bool any, void *arg)
{
	struct chase *c = arg;

	if (st != ST_OK) {
		pass_end(c);
		return;
	}
	c->snapshot_known = true;
	c->snapshot_any = any;
	c->last_snapshot = day;
	pass_snapshot(c);
}

void chase_tick(struct chase *c)
{
	int64_t now;

	if (c->busy)
		return;
	now = app_now(c->app);
	if (!c->poked && c->snapshot_known && (c->next_wake == 0 || now < c->next_wake) &&
	    london_date(now) - 1 <= c->last_snapshot && mono_s() - c->last_pass < CHASE_RECHECK)
		return;
	c->poked = false;
	c->busy = true;
	c->pass_now = now;
	if (!c->snapshot_known)
		store_snapshot_last(c->app->db, snapshot_last, c);
	else
		pass_snapshot(c);
}

void chase_poke(struct chase *c)
{
	c->poked = true;
}

/* The chase counters for /metrics. */
static void chase_report(struct evbuffer *out, void *arg)
{
	const struct chase *c = arg;

	evbuffer_add_printf(out, "# HELP carebridge_chases_raised_total Chases this process found "
	                         "due and raised, by kind.\n"
	                         "# TYPE carebridge_chases_raised_total counter\n");
	for (int k = 0; k < CHASE_NKINDS; k++)
		evbuffer_add_printf(out,
		                    "carebridge_chases_raised_total{kind=\"%s\"} %" PRIu64 "\n",
		                    chase_kinds[k], c->raised[k]);
	evbuffer_add_printf(out,
	                    "# HELP carebridge_chases_sent_total Chases recorded, their event in "
	                    "the outbox for streams and webhooks.\n"
	                    "# TYPE carebridge_chases_sent_total counter\n"
	                    "carebridge_chases_sent_total %" PRIu64 "\n"
	                    "# HELP carebridge_chases_not_sent_total Chases raised and not "
	                    "recorded: another process sent it first, or the database failed.\n"
	                    "# TYPE carebridge_chases_not_sent_total counter\n"
	                    "carebridge_chases_not_sent_total{reason=\"other_process\"} %" PRIu64
	                    "\n"
	                    "carebridge_chases_not_sent_total{reason=\"error\"} %" PRIu64 "\n",
	                    c->chased, c->lost, c->failed);
}

struct chase *chase_new(struct app *app)
{
	struct chase *c = xcalloc(1, sizeof *c);
	char id[37];

	c->app = app;
	store_new_id(id);
	snprintf(c->process, sizeof c->process, "pid%ld-%.8s", (long)getpid(), id);
	metrics_add_reporter(app->metrics, chase_report, c);
	return c;
}

void chase_free(struct chase *c)
{
	free(c);
}

/*
 * chase.h - the chase subsystem: overdue tasks, unclaimed day-one assessments
 * and delays without a reason are chased on timers and escalated (level 1 the
 * discipline, 2 its team lead, 3 the bed manager); at each local midnight the
 * snapshot opens and counts delays.  All state is in the database: a restart
 * neither loses nor repeats a chase, and with several serve processes each
 * chase and each snapshot happens once (compare-and-set / claim rows).
 */
#ifndef CB_CHASE_H
#define CB_CHASE_H

struct app;
struct chase;

struct chase *chase_new(struct app *app);
void chase_free(struct chase *c);

/* Once a second: run what is due (by carebridge's clock). */
void chase_tick(struct chase *c);

/* Something changed (new tasks, new events): look for due work soon. */
void chase_poke(struct chase *c);

#endif

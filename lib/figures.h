/*
 * figures.h - the figures of today's NHS discharge reports (issue 14), derived
 * from recorded history: delayed days by ward and primary reason, the daily
 * and weekly acute discharge sitrep, the discharge ready date (DRD) metric and
 * the long-stay (stranded) list.  docs/REPORTS.md states every figure and its
 * rule with a worked example.
 *
 * The input is a set of append-only facts with their instants, as the
 * database holds them: per episode the admission, the ward stays, the
 * readiness (NCTR) periods, the barriers with the intervals during which each
 * was primary, and the discharge with its actual pathway; plus the delay
 * reason lists in force by date.  Every figure for a date is decided by what
 * the history says was true at that date's snapshot, never by current values,
 * so a late entry (a readiness, barrier or discharge recorded afterwards with
 * its real instant) lands on the dates it belongs to.
 *
 * Conventions (DOMAIN.md, "Criteria to reside, the discharge ready date and
 * delays"):
 * - snapshot(D) = london_snapshot(D), the Europe/London midnight ending D.
 * - A date D owns the instants (snapshot(D - 1), snapshot(D)]: the "date of"
 *   an instant t is london_date(t - 1) (figures_date_of()).  So a patient
 *   discharged at exactly 00:00 local was gone at the snapshot of the date
 *   that midnight ends: that date does not count as delayed, and the
 *   discharge is a discharge of that date (00:00 on 1 April is a March
 *   discharge).  A DRD at exactly 00:00 likewise belongs to the date that
 *   midnight ends, whose snapshot counts it.
 * - An instant of 0 means "not (yet) happened": no reversal, no discharge,
 *   still open.  Intervals are [from, to): open at from, closed at to.
 *
 * Pure code: no clock (every function takes the date or instant it reports
 * on), no storage, no logging.  Strings in the facts are borrowed, and the
 * results borrow them too: keep the facts alive while a result is used.
 */
#ifndef CB_FIGURES_H
#define CB_FIGURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "destination.h"

/* The actual pathway of a discharge when none was recorded (HL7 A03 may omit it). */
#define FIGURES_PATHWAY_NOT_RECORDED (-1)
/* Discharge counts by pathway: indexes 0..3, then "not recorded". */
#define FIGURES_PATHWAY_SLOTS 5
#define FIGURES_PATHWAY_SLOT_NOT_RECORDED 4

/* The DRD delay bands 0, 1, 2-3, 4-6, 7-13, 14-20, 21+ days. */
#define FIGURES_BANDS 7

/* Band names as the metric prints them, "0" .. "21+", in band order. */
extern const char *const figures_band_names[FIGURES_BANDS];

/* ---- facts ---------------------------------------------------------------- */

/* An interval of time [from, to). */
struct figures_span {
	int64_t from; /* first instant in the interval */
	int64_t to;   /* first instant after it; 0 = still open */
};

/* The patient was on ward from "from" until "to" (a transfer closes one stay and opens the next).
 */
struct figures_stay {
	const char *ward; /* ward code or id, borrowed */
	int64_t from;     /* arrived on the ward */
	int64_t to;       /* left it (transfer or discharge); 0 = still there */
};

/* One readiness period: the MDT declared the patient NCTR; the DRD is ready_at. */
struct figures_readiness {
	int64_t ready_at; /* the discharge ready date and time (the decided time, not entry time) */
	int64_t reversed_at; /* NCTR reversed (patient meets criteria again); 0 = not reversed */
};

/* A delay reason: a key of a versioned reference list. */
struct figures_reason {
	const char *list; /* "nhse-acute-2023", "dtoc-2014"; NULL or "" = no reason recorded */
	const char *key;  /* "p1_awaiting_care", "E"; borrowed */
};

/* A barrier's reason edited at an instant: the new reason holds from then on. */
struct figures_reason_change {
	int64_t at;                   /* when the change took effect */
	struct figures_reason reason; /* the reason from then on */
};

/*
 * A barrier to discharge with the intervals during which it was the primary
 * one.  Its reason at instant t is the reason of the latest change with
 * at <= t, or the reason it was opened with: an edit never moves the days
 * before it.
 */
struct figures_barrier {
	struct figures_reason reason;                /* reason when opened */
	const struct figures_reason_change *changes; /* later reason edits, any order; borrowed */
	size_t nchanges;                             /* entries in changes */
	int64_t opened_at;                           /* opened */
	int64_t closed_at;                           /* closed; 0 = still open */
	const struct figures_span *primary;          /* when it was primary, borrowed */
	size_t nprimary;                             /* entries in primary */
};

/* One inpatient episode's history. */
struct figures_episode {
	const char *id;                            /* episode id, borrowed */
	int64_t admitted_at;                       /* admitted */
	const struct figures_stay *stays;          /* ward stays, any order */
	size_t nstays;                             /* entries in stays */
	const struct figures_readiness *readiness; /* readiness periods, any order */
	size_t nreadiness;                         /* entries in readiness */
	const struct figures_barrier *barriers;    /* barriers, any order */
	size_t nbarriers;                          /* entries in barriers */
	int64_t discharged_at;                     /* discharged; 0 = still in hospital */
	int pathway;                               /* actual pathway 0..3, or
	                                              FIGURES_PATHWAY_NOT_RECORDED */
	const char *destination;                   /* coded destination (lib/destination.h),
	                                              NULL = not recorded; borrowed */
};

/*
 * A delay reason list and the first date it is in force (reference data).
 * The name identifies the list and its version ("nhse-acute-2023"), as the
 * reference lists of migrations name them; the list in force on a date is
 * the one with the latest active_from on or before it.
 */
struct figures_list {
	const char *name;    /* "nhse-acute-2023" */
	int32_t active_from; /* day number of its first date in force */
};

/* A key of a newer list that replaces a key of an older list ("older_list/older_key"). */
struct figures_mapping {
	struct figures_reason older; /* "dtoc-2014" / "E" */
	struct figures_reason newer; /* "nhse-acute-2023" / "p1_awaiting_care" */
};

/* Everything a figure is derived from; all borrowed. */
struct figures_facts {
	const struct figures_episode *episodes; /* every episode that may count */
	size_t nepisodes;                       /* entries in episodes */
	const struct figures_list *lists; /* reason lists; none = report reasons as recorded */
	size_t nlists;                    /* entries in lists */
	const struct figures_mapping *mappings; /* older -> newer reason keys */
	size_t nmappings;                       /* entries in mappings */
};

/* ---- rules at one date or instant ----------------------------------------- */

/* The date that owns instant t: london_date(t - 1), see the conventions above. */
int32_t figures_date_of(int64_t t);

/*
 * Length of stay at instant at, in days: the local midnights (snapshots) the
 * patient has spent in hospital, i.e. snapshots S with admitted_at <= S <= at,
 * which is london_date(at) - figures_date_of(admitted_at).  Admitted Monday
 * 10:00: 0 until Monday's snapshot, 1 at it; 7 at the snapshot of the next
 * Sunday.  0 when at is before the admission.
 */
int figures_length_of_stay(int64_t admitted_at, int64_t at);

/* The name of the reason list in force on day (latest active_from <= day), or NULL if none. */
const char *figures_list_in_force(const struct figures_facts *f, int32_t day);

/*
 * The reason a barrier recorded as recorded is reported under on day: itself
 * when its list is the list in force on day (or no list is known), else the
 * key it maps to in the list in force, following mappings older -> newer (at
 * most 8 steps, the first mapping of a key wins).  When no mapping reaches
 * the list in force the reason is reported as recorded (a dtoc-2014 "B" stays
 * "dtoc-2014"/"B"): an old reason is never dropped.  No reason in, none out.
 */
struct figures_reason figures_reason_on(const struct figures_facts *f,
                                        struct figures_reason recorded, int32_t day);

/* The ward e was on at instant t (the stay with from <= t < to), or "" when unknown. */
const char *figures_ward_at(const struct figures_episode *e, int64_t t);

/*
 * The primary barrier of e at instant t: among the barriers open at t
 * (opened_at <= t < closed_at), the one with a primary span containing t.
 * Should two be primary at once (the store keeps exactly one), the one made
 * primary last wins, then the first in the array.  NULL when none.
 */
const struct figures_barrier *figures_primary_at(const struct figures_episode *e, int64_t t);

/* The reason of barrier b at instant t (its reason history above). */
struct figures_reason figures_barrier_reason_at(const struct figures_barrier *b, int64_t t);

/*
 * True when e is NCTR and in hospital at instant t: admitted_at <= t, not
 * discharged at or before t, and a readiness period with ready_at <= t not
 * reversed at or before t.  At t = snapshot(D) this is DOMAIN.md's delayed
 * day rule.
 */
bool figures_nctr_at(const struct figures_episode *e, int64_t t);

/*
 * The readiness period in force at instant t when e is NCTR then
 * (figures_nctr_at), the one with the latest DRD; NULL when not NCTR at t.
 */
const struct figures_readiness *figures_readiness_at(const struct figures_episode *e, int64_t t);

/* What one delayed day was counted against. */
struct figures_day {
	const char *ward;               /* ward at the snapshot; "" = unknown */
	struct figures_reason recorded; /* primary barrier's reason at the snapshot, as recorded;
	                                   list "" = no reason recorded */
	struct figures_reason reported; /* the same as reported on that date (figures_reason_on) */
};

/*
 * True when day is a delayed day of e (figures_nctr_at at snapshot(day)), and
 * then, when out is not NULL, what it counts against: the ward and the
 * primary barrier's reason at snapshot(day).
 */
bool figures_delayed_on(const struct figures_facts *f, const struct figures_episode *e, int32_t day,
                        struct figures_day *out);

/*
 * The DRD delay of e's discharge: the snapshots from the DRD in force at
 * discharge to the discharge, ready_at <= S < discharged_at (discharged on
 * the DRD's date = 0).  The DRD in force is the latest ready_at <=
 * discharged_at of a period not reversed before the discharge (reversed_at 0
 * or >= discharged_at).  Returns true and sets *days and (if not NULL)
 * *ready_at; false when e is not discharged or had no DRD in force.
 */
bool figures_drd_delay(const struct figures_episode *e, int *days, int64_t *ready_at);

/* The band index (0..FIGURES_BANDS-1) of a DRD delay of days >= 0. */
int figures_band(int days);

/* ---- delayed days over a range of dates ----------------------------------- */

struct figures_delay_row {
	int32_t day;                  /* the date */
	const char *ward;             /* ward at its snapshot; "" = unknown */
	struct figures_reason reason; /* reported reason; list "" = no reason recorded */
	int patients;                 /* patients delayed = delayed days of this row */
};

struct figures_delays {
	struct figures_delay_row *rows; /* owned; sorted by day, ward, list, key */
	size_t nrows;                   /* entries in rows */
	size_t cap;                     /* allocated entries (internal) */
	int total;                      /* delayed days of all rows */
};

/*
 * Every delayed day of every episode on the dates from..to (inclusive), one
 * row per date x ward x reported reason with a non-zero count.  Resets *out
 * first; free with figures_delays_reset().  Dates whose snapshot is after the
 * caller's now must not be asked for (an open readiness counts on them).
 */
void figures_delays_count(const struct figures_facts *f, int32_t from, int32_t to,
                          struct figures_delays *out);

/* Free what d owns and zero it; safe on a zeroed struct. */
void figures_delays_reset(struct figures_delays *d);

/* ---- the daily and weekly sitrep ------------------------------------------- */

struct figures_sitrep_day {
	int32_t day;                           /* the date reported */
	int nctr;                              /* NCTR (and in hospital) at snapshot(day) */
	int nctr_during;                       /* NCTR and in hospital at some instant of day */
	int discharged[FIGURES_PATHWAY_SLOTS]; /* of nctr_during, discharged on day, by
	                                          pathway 0..3 and not recorded */
	int discharged_total;                  /* sum of discharged */
	int still_in_hospital;                 /* of nctr_during, in hospital at snapshot(day) */
};

/*
 * The daily sitrep of day.  "At some instant of day" means an instant t in
 * (snapshot(day - 1), snapshot(day)] with NCTR at t (ready_at <= t, not
 * reversed at or before t) and admitted_at <= t <= discharged_at: the
 * discharge instant itself still counts, so a patient declared NCTR and sent
 * home within the day is counted.  Every such patient is either discharged on
 * day or still in hospital at its snapshot, so nctr_during =
 * discharged_total + still_in_hospital, and nctr <= still_in_hospital.
 */
void figures_sitrep_day(const struct figures_facts *f, int32_t day, struct figures_sitrep_day *out);

struct figures_week_row {
	struct figures_reason reason; /* reported primary reason at the snapshot; list "" = none */
	int patients;                 /* NCTR patients in hospital at the snapshot */
	int los7;                     /* of them, length of stay 7+ days */
	int los14;                    /* 14+ (included in los7) */
	int los21;                    /* 21+ (included in los14) */
};

struct figures_sitrep_week {
	int32_t first_day;             /* last_day - 6 */
	int32_t last_day;              /* the week's last date, whose snapshot is reported */
	struct figures_week_row total; /* all reasons (reason.list NULL) */
	struct figures_week_row *rows; /* owned; by reason, sorted by list, key ("" first) */
	size_t nrows;                  /* entries in rows */
	size_t cap;                    /* allocated entries (internal) */
};

/*
 * The weekly sitrep of the week ending last_day: NCTR patients in hospital at
 * snapshot(last_day), by the reported reason of their primary barrier at that
 * snapshot and by length of stay at that snapshot (figures_length_of_stay).
 * Resets *out first; free with figures_sitrep_week_reset().
 */
void figures_sitrep_week(const struct figures_facts *f, int32_t last_day,
                         struct figures_sitrep_week *out);

void figures_sitrep_week_reset(struct figures_sitrep_week *w);

/* ---- the discharge ready date metric ---------------------------------------- */

struct figures_drd {
	const char *ward;         /* NULL for the trust; "" = unknown ward */
	int discharges;           /* discharges in the month, with or without a DRD */
	int no_drd;               /* of them, with no DRD in force at discharge */
	int bands[FIGURES_BANDS]; /* discharges with a DRD by DRD delay band */
	long delay_sum;           /* sum of their DRD delays, days */
	int delayed_bed_days;     /* delayed days on the month's dates (daily rule, reversed
	                             periods included), by ward at each snapshot */
};

struct figures_drd_month {
	int32_t first_day, last_day; /* the month's dates */
	struct figures_drd trust;    /* the whole trust */
	struct figures_drd *wards;   /* owned; one per ward with a figure, sorted by ward */
	size_t nwards;               /* entries in wards */
	size_t cap;                  /* allocated entries (internal) */
};

/*
 * The DRD metric of month (1..12) of year: discharges whose date
 * (figures_date_of(discharged_at)) is in the month, by the band of their DRD
 * delay (figures_drd_delay), those with no DRD apart; and the delayed bed
 * days of the month's dates.  Discharges count for the ward at discharge (the
 * ward at discharged_at - 1), delayed bed days for the ward at each snapshot.
 * Resets *out first; free with figures_drd_month_reset().
 */
void figures_drd_month(const struct figures_facts *f, int year, int month,
                       struct figures_drd_month *out);

/*
 * The same, counting delayed bed days only on the month's dates up to and
 * including through (a month still running: the last date whose snapshot has
 * happened).  figures_drd_month() is this with no limit.
 */
void figures_drd_month_to(const struct figures_facts *f, int year, int month, int32_t through,
                          struct figures_drd_month *out);

void figures_drd_month_reset(struct figures_drd_month *m);

/* Average DRD delay in days: delay_sum / (discharges - no_drd); 0 when none had a DRD. */
double figures_drd_average(const struct figures_drd *d);

/* Share discharged on their DRD (band 0) of the discharges with a DRD, 0..1; 0 when none. */
double figures_drd_on_time_share(const struct figures_drd *d);

/* ---- long stays --------------------------------------------------------------- */

struct figures_long_stay_row {
	const char *episode_id; /* borrowed */
	const char *ward;       /* ward at the instant; "" = unknown */
	int los;                /* length of stay, days (7+) */
	bool nctr;              /* NCTR at the instant */
	int64_t ready_at;       /* DRD of the readiness in force; 0 when not NCTR */
	struct figures_reason
	    recorded; /* primary barrier's reason at the instant; list "" = none */
	struct figures_reason reported; /* the same in the list in force on the instant's date */
};

struct figures_long_stay {
	int64_t at;                         /* the instant reported */
	int los7, los14, los21;             /* inpatients with length of stay 7+, 14+, 21+ */
	struct figures_long_stay_row *rows; /* owned; the 7+ ones, longest first, then by id */
	size_t nrows;                       /* entries in rows */
};

/*
 * Inpatients at instant at (admitted_at <= at, not discharged at or before
 * at) with a length of stay of 7 days or more (stranded; 21+ super-stranded),
 * their NCTR state and primary barrier at that instant.  Resets *out first;
 * free with figures_long_stay_reset().
 */
void figures_long_stay(const struct figures_facts *f, int64_t at, struct figures_long_stay *out);

void figures_long_stay_reset(struct figures_long_stay *l);

/* ---- discharges by actual pathway and destination (issue 15) ------------------ */

/* Discharge counts by destination: the codes of lib/destination.h, then "not recorded". */
#define FIGURES_DESTINATION_SLOTS (DESTINATION_COUNT + 1)
#define FIGURES_DESTINATION_SLOT_NOT_RECORDED DESTINATION_COUNT

struct figures_discharges {
	int32_t first_day, last_day;                                  /* the dates counted */
	int counts[FIGURES_PATHWAY_SLOTS][FIGURES_DESTINATION_SLOTS]; /* by pathway x destination */
	int by_pathway[FIGURES_PATHWAY_SLOTS];                        /* row totals */
	int by_destination[FIGURES_DESTINATION_SLOTS];                /* column totals */
	int total;                                                    /* every discharge counted */
};

/*
 * The discharges whose date (figures_date_of(discharged_at)) is in
 * first..last, by actual pathway (0..3, not recorded) and coded destination
 * (lib/destination.h order, then not recorded; a code this build does not
 * know counts as not recorded).  A date still running counts the discharges
 * recorded so far.  ward: only the discharges from that ward (the ward of
 * the latest stay begun at or before the discharge), NULL for every ward.
 */
void figures_discharges_count(const struct figures_facts *f, int32_t first, int32_t last,
                              const char *ward, struct figures_discharges *out);

#endif

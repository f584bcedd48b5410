/*
 * barrier.h - barriers to discharge: what a barrier may say, and which open
 * barrier is the primary one.
 *
 * An episode has any number of barriers (DOMAIN.md, "Barriers"): a reason (a
 * key of the delay-reason list in force), an owner (discipline or team, free
 * text), a note, opened and closed times.  Among the open barriers exactly
 * one is primary:
 *   - the first barrier opened (none open before it) becomes primary;
 *   - a barrier opened or patched with "primary": true becomes primary and
 *     the old primary stops being primary (it stays open);
 *   - closing the primary makes the oldest remaining open barrier primary
 *     (opened_at, then id, so the choice is stable), or leaves none when no
 *     barrier remains open;
 *   - closing any other barrier leaves the primary as it is.
 * A closed barrier is final: it cannot be edited, reopened nor made primary.
 * A new barrier may be backdated ("opened_at", barrier_opened_at): the
 * decision above is then taken as at that instant, which is never before the
 * episode's latest barrier history row, so the history stays in time order.
 * "primary": false is refused: a barrier stops being primary only when
 * another one is made primary or it is closed.
 *
 * Pure code: no clock, no storage, no logging.  Which reasons exist is
 * reference data the caller loads and passes in.
 */
#ifndef CB_BARRIER_H
#define CB_BARRIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "status.h"

#define BARRIER_KEY_MAX 64    /* a reason key's length, NUL excluded */
#define BARRIER_OWNER_MAX 100 /* an owner's length in bytes */
#define BARRIER_NOTE_MAX 2000 /* a note's length in bytes */
/* seconds a given opened_at may be ahead of carebridge's clock (as PATCH ready_at allows) */
#define BARRIER_CLOCK_SKEW_S 3600

/* A barrier body as the client sent it, validated for form. */
struct barrier_input {
	bool has_reason;                  /* "reason" given */
	char reason[BARRIER_KEY_MAX + 1]; /* a key of the reason list in force */
	bool has_owner;                   /* "owner" given ("" clears it on PATCH) */
	char owner[BARRIER_OWNER_MAX + 1];
	bool has_note; /* "note" given ("" clears it on PATCH) */
	char note[BARRIER_NOTE_MAX + 1];
	bool make_primary;  /* "primary": true */
	bool close;         /* "closed": true (PATCH only) */
	bool has_opened_at; /* "opened_at" given (POST only) */
	int64_t opened_at;  /* it, Unix seconds, unchecked (barrier_opened_at) */
};

/*
 * Read a new barrier {"reason", "owner"?, "note"?, "primary"?, "opened_at"?}
 * into *out: unknown fields, a missing or malformed reason, an owner or note
 * too long, an opened_at that is not an RFC 3339 time are refused
 * (ST_INVALID naming the field).  "primary": false is allowed here (the
 * first barrier is primary anyway).  Whether opened_at is allowed is
 * barrier_opened_at's to decide.
 */
enum status barrier_parse_create(const cJSON *body, struct barrier_input *out, struct err *err);

/*
 * Read a change {"reason"?, "owner"?, "note"?, "primary"?: true,
 * "closed"?: true} into *out: an empty change, "primary": false, "closed":
 * false, and "primary" with "closed" together are refused (ST_INVALID naming
 * the field).  owner and note may be "" or null to clear them.
 */
enum status barrier_parse_patch(const cJSON *body, struct barrier_input *out, struct err *err);

/*
 * reason is one of known[0..nknown-1], the keys of list (the delay-reason
 * list in force).  ST_INVALID naming "reason" and the list otherwise.
 */
enum status barrier_check_reason(const char *reason, const char *list, const char *const *known,
                                 size_t nknown, struct err *err);

/* What deciding a new barrier's opened_at needs. */
struct barrier_times {
	int64_t now;            /* carebridge's clock */
	int64_t admitted_at;    /* the episode's admission */
	int64_t latest_history; /* the episode's latest barrier history row (primary or
	                           reason), 0 when it has none */
};

/*
 * The instant a new barrier opens (*out): now when in gave no opened_at
 * (unchecked, as before opened_at existed); else in->opened_at, which must
 * not be in the future (up to BARRIER_CLOCK_SKEW_S ahead is a clock running
 * fast and is taken as now), nor before the admission, nor before the
 * episode's latest barrier history row (history is append-only and in time
 * order: an earlier primary or reason decision is never rewritten).  Each
 * refusal is ST_INVALID naming "opened_at".
 */
enum status barrier_opened_at(const struct barrier_input *in, const struct barrier_times *t,
                              int64_t *out, struct err *err);

/* An open barrier, as the primary rule needs it. */
struct barrier_open {
	const char *id;    /* its UUID (ties between equal opened_at); borrowed */
	int64_t opened_at; /* Unix seconds */
	bool primary;      /* primary now */
};

/*
 * Which of open[0..n-1] is primary after barrier open[target] (a new barrier
 * the caller has appended, or an existing open one) is opened or changed:
 * make_primary as the input asks, close when it is being closed.  Returns the
 * index of the new primary, or -1 when no barrier stays open.  Follows the
 * rules above; with no primary among the others (which the store prevents),
 * the oldest open one becomes primary, so the invariant is restored.
 */
int barrier_primary_after(const struct barrier_open *open, size_t n, size_t target,
                          bool make_primary, bool close);

/*
 * Whether a change may be made to a barrier that is closed (closed) or open:
 * a closed barrier takes no change (ST_CONFLICT).
 */
enum status barrier_check_change(bool closed, const char *id, struct err *err);

#endif

/*
 * rota.h - the on-call rota (issue 17): who holds a chase target on a site
 * from one instant to another, and its CSV form with Europe/London wall
 * times (what a rota coordinator writes), turned into UTC instants here so
 * that a shift across a clock change is as long as it really is.
 *
 * Pure code: the caller reads the file and looks the users up.
 */
#ifndef CB_ROTA_H
#define CB_ROTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define ROTA_CSV_HEADER "site,role,user,start,end"
#define ROTA_MAX_ROWS 10000 /* rows one import may hold */

/* One shift: site (a ward code or "*"), role (a chase target), user name, [start, end). */
struct rota_entry {
	char site[33];     /* ward code, or "*" for every ward */
	char role[20];     /* "bed_manager", "team_lead", "discipline", "hub", "hub_lead",
	                      "nurse_in_charge" */
	char user[65];     /* the user's name (CSV) or UUID (API) */
	int64_t starts_at; /* UTC seconds */
	int64_t ends_at;   /* UTC seconds, after starts_at */
};

/* Whether role is one a rota row may hold. */
bool rota_role_is_valid(const char *role);

/* Whether site is "*" or a ward code's form. */
bool rota_site_is_valid(const char *site);

/*
 * "YYYY-MM-DD HH:MM" (or with a "T"), Europe/London wall time, as a UTC
 * instant (lib/cbtime london_local_to_utc: a time in the spring gap is read
 * an hour on, an autumn time that happens twice as its first, BST, one).
 * ST_INVALID names field.
 */
enum status rota_local_parse(const char *s, int64_t *out, const char *field, struct err *err);

/* Check e: site, role, a user, end after start, a shift of at most 7 days. */
enum status rota_entry_check(const struct rota_entry *e, struct err *err);

/*
 * Parse a rota CSV (len bytes, not NUL-terminated): the header
 * ROTA_CSV_HEADER, then one shift per line, times in London wall time.
 * Blank lines are skipped; no quoting (no field may hold a comma).  *out (a
 * new array, free()) and *n get the rows; ST_INVALID says "line N: ...".
 */
enum status rota_csv_parse(const char *text, size_t len, struct rota_entry **out, int *n,
                           struct err *err);

#endif

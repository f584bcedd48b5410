/*
 * rota.c - the on-call rota's rules and CSV form (see rota.h).
 *
 * Owns nothing between calls.  Must not: read a clock or a file.
 */
#include "rota.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbtime.h"
#include "xmalloc.h"

#define ROTA_SHIFT_MAX (7 * 86400) /* the longest shift one row may hold */

static const char *const rota_roles[] = {"bed_manager", "team_lead",       "discipline", "hub",
                                         "hub_lead",    "nurse_in_charge", NULL};

bool rota_role_is_valid(const char *role)
{
	for (int i = 0; rota_roles[i] != NULL; i++)
		if (strcmp(role, rota_roles[i]) == 0)
			return true;
	return false;
}

bool rota_site_is_valid(const char *site)
{
	size_t n = strlen(site);

	if (strcmp(site, "*") == 0)
		return true;
	if (n < 1 || n > 32 ||
	    strspn(site, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                 "0123456789_-") != n)
		return false;
	return site[0] != '_' && site[0] != '-';
}

enum status rota_local_parse(const char *s, int64_t *out, const char *field, struct err *err)
{
	int y, mo, d, h, mi, used = 0;

	if (strlen(s) != 16 || (s[10] != ' ' && s[10] != 'T') ||
	    sscanf(s, "%4d-%2d-%2d%*c%2d:%2d%n", &y, &mo, &d, &h, &mi, &used) != 5 || used != 16 ||
	    london_local_to_utc(y, mo, d, h, mi, 0, out) != ST_OK)
		return err_set(err, ST_INVALID, field,
		               "\"%s\" must be a London time \"YYYY-MM-DD HH:MM\"", field);
	return ST_OK;
}

enum status rota_entry_check(const struct rota_entry *e, struct err *err)
{
	if (!rota_site_is_valid(e->site))
		return err_set(err, ST_INVALID, "site", "\"site\" must be a ward code or \"*\"");
	if (!rota_role_is_valid(e->role))
		return err_set(err, ST_INVALID, "role",
		               "\"role\" must be bed_manager, team_lead, discipline, hub, hub_lead "
		               "or nurse_in_charge");
	if (e->user[0] == '\0')
		return err_set(err, ST_INVALID, "user", "missing required field \"user\"");
	if (e->ends_at <= e->starts_at)
		return err_set(err, ST_INVALID, "end", "\"end\" must be after \"start\"");
	if (e->ends_at - e->starts_at > ROTA_SHIFT_MAX)
		return err_set(err, ST_INVALID, "end", "a shift may last 7 days at most");
	return ST_OK;
}

/* Copy field [p, q) into out (size), trimmed of spaces; false when too long. */
static bool field_copy(const char *p, const char *q, char *out, size_t size)
{
	while (p < q && *p == ' ')
		p++;
	while (q > p && (q[-1] == ' ' || q[-1] == '\r'))
		q--;
	if ((size_t)(q - p) >= size)
		return false;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return true;
}

enum status rota_csv_parse(const char *text, size_t len, struct rota_entry **out, int *n,
                           struct err *err)
{
	const char *p = text, *end = text + len;
	struct rota_entry *rows = NULL;
	int line = 0, k = 0, cap = 0;
	bool header = false;

	*out = NULL;
	*n = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *q = nl != NULL ? nl : end;
		char fields[5][40], start[40], stop[40];
		const char *f = p;
		int nf = 0;
		struct rota_entry e;
		struct err fe;

		line++;
		while (q > p && (q[-1] == '\r' || q[-1] == ' '))
			q--;
		if (q == p) {
			p = nl != NULL ? nl + 1 : end;
			continue;
		}
		if (!header) {
			char h[64];

			if (!field_copy(p, q, h, sizeof h) || strcmp(h, ROTA_CSV_HEADER) != 0) {
				free(rows);
				return err_set(
				    err, ST_INVALID, NULL,
				    "line %d: the header must be \"" ROTA_CSV_HEADER "\"", line);
			}
			header = true;
			p = nl != NULL ? nl + 1 : end;
			continue;
		}
		for (const char *c = p; c <= q && nf <= 5; c++) {
			if (c == q || *c == ',') {
				if (nf == 5 || !field_copy(f, c, fields[nf], sizeof fields[nf])) {
					nf = 6;
					break;
				}
				nf++;
				f = c + 1;
			}
		}
		if (nf != 5) {
			free(rows);
			return err_set(err, ST_INVALID, NULL,
			               "line %d: expected 5 fields: " ROTA_CSV_HEADER, line);
		}
		memset(&e, 0, sizeof e);
		if (strlen(fields[0]) >= sizeof e.site || strlen(fields[1]) >= sizeof e.role ||
		    strlen(fields[2]) >= sizeof e.user) {
			free(rows);
			return err_set(err, ST_INVALID, NULL, "line %d: a field is too long", line);
		}
		snprintf(e.site, sizeof e.site, "%s", fields[0]);
		snprintf(e.role, sizeof e.role, "%s", fields[1]);
		snprintf(e.user, sizeof e.user, "%s", fields[2]);
		snprintf(start, sizeof start, "%s", fields[3]);
		snprintf(stop, sizeof stop, "%s", fields[4]);
		if (rota_local_parse(start, &e.starts_at, "start", &fe) != ST_OK ||
		    rota_local_parse(stop, &e.ends_at, "end", &fe) != ST_OK ||
		    rota_entry_check(&e, &fe) != ST_OK) {
			free(rows);
			return err_set(err, ST_INVALID, fe.field, "line %d: %s", line, fe.message);
		}
		if (k == ROTA_MAX_ROWS) {
			free(rows);
			return err_set(err, ST_INVALID, NULL, "line %d: more than %d shifts", line,
			               ROTA_MAX_ROWS);
		}
		if (k == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			rows = xrealloc(rows, (size_t)cap * sizeof *rows);
		}
		rows[k++] = e;
		p = nl != NULL ? nl + 1 : end;
	}
	if (!header)
		return err_set(err, ST_INVALID, NULL,
		               "line 1: the header must be \"" ROTA_CSV_HEADER "\"");
	*out = rows;
	*n = k;
	return ST_OK;
}

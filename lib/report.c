/*
 * report.c - delayed-transfers-of-care figures (see report.h).
 */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbtime.h"
#include "xmalloc.h"

static const char *const attributions[] = {"NHS", "social_care", "both", "", NULL};

/* Index of a reason code in delay_reason_codes, or the "unrecorded" slot after them. */
static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int reason_index(const char *code)
{
	int i;

	for (i = 0; delay_reason_codes[i] != NULL; i++)
		if (strcmp(delay_reason_codes[i], code) == 0)
			return i;
	return i;
}

static int nreasons(void)
{
	int i = 0;

	while (delay_reason_codes[i] != NULL)
		i++;
	return i + 1; /* + unrecorded */
}

static const char *reason_code_at(int i)
{
	return i < nreasons() - 1 ? delay_reason_codes[i] : "unrecorded";
}

static int attribution_index(const char *a)
{
	for (int i = 0; attributions[i] != NULL; i++)
		if (strcmp(attributions[i], a) == 0)
			return i;
	return 3;
}

static const char *attribution_at(int i)
{
	return i < 3 ? attributions[i] : "unrecorded";
}

/* Delayed days of p from its first counted date to day to. */
static int period_length(const struct report_period *p, int32_t to)
{
	int32_t first = london_date(p->r.ready_at - 1);

	return delay_days(&p->r, 1, first, to);
}

struct longest {
	const struct report_period *p; /* borrowed */
	int days;                      /* its length up to the report's end */
};

static int longest_cmp(const void *a, const void *b)
{
	const struct longest *x = a, *y = b;

	if (x->days != y->days)
		return y->days - x->days;
	return strcmp(x->p->episode_id, y->p->episode_id);
}

cJSON *report_json(const struct report_period *p, size_t n, int32_t from, int32_t to,
                   int longest_max)
{
	int nr = nreasons(), na = 4;
	int *days_r = xcalloc((size_t)nr, sizeof(int)), *pat_r = xcalloc((size_t)nr, sizeof(int));
	int days_a[4] = {0}, pat_a[4] = {0};
	int total_days = 0, total_pat = 0;
	cJSON *root = cJSON_CreateObject(), *arr, *by_day, *wards;
	struct longest *lg = xcalloc(n + 1, sizeof *lg);
	size_t nlg = 0;
	char buf[TIME_FORMAT_LEN], d[DATE_FORMAT_LEN];

	date_format(from, d);
	cJSON_AddStringToObject(root, "from", d);
	date_format(to, d);
	cJSON_AddStringToObject(root, "to", d);
	time_format(london_snapshot(to), buf);
	cJSON_AddStringToObject(root, "snapshot_at", buf);
	by_day = cJSON_CreateArray();
	for (int32_t day = from; day <= to; day++) {
		cJSON *o = cJSON_CreateObject(), *br = cJSON_CreateObject();
		int count = 0;
		int *per = xcalloc((size_t)nr, sizeof(int));

		for (size_t i = 0; i < n; i++) {
			if (!delay_counts_on(&p[i].r, day))
				continue;
			int ri = reason_index(p[i].reason_code);
			int ai = attribution_index(p[i].attribution);

			count++;
			per[ri]++;
			days_r[ri]++;
			days_a[ai]++;
			total_days++;
			if (day == to) {
				pat_r[ri]++;
				pat_a[ai]++;
				total_pat++;
			}
		}
		date_format(day, d);
		cJSON_AddStringToObject(o, "date", d);
		cJSON_AddNumberToObject(o, "patients_delayed", count);
		for (int r = 0; r < nr; r++)
			if (per[r] > 0)
				cJSON_AddNumberToObject(br, reason_code_at(r), per[r]);
		cJSON_AddItemToObject(o, "by_reason", br);
		cJSON_AddItemToArray(by_day, o);
		free(per);
	}
	cJSON_AddNumberToObject(root, "patients_delayed", total_pat);
	cJSON_AddNumberToObject(root, "delayed_days", total_days);
	arr = cJSON_AddArrayToObject(root, "by_reason");
	for (int r = 0; r < nr; r++) {
		cJSON *o = cJSON_CreateObject();
		const char *text =
		    r < nr - 1 ? delay_reason_text(reason_code_at(r)) : "No reason recorded";

		cJSON_AddStringToObject(o, "reason_code", reason_code_at(r));
		cJSON_AddStringToObject(o, "reason", text != NULL ? text : "");
		cJSON_AddNumberToObject(o, "patients_delayed", pat_r[r]);
		cJSON_AddNumberToObject(o, "delayed_days", days_r[r]);
		cJSON_AddItemToArray(arr, o);
	}
	arr = cJSON_AddArrayToObject(root, "by_attribution");
	for (int a = 0; a < na; a++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "attribution", attribution_at(a));
		cJSON_AddNumberToObject(o, "patients_delayed", pat_a[a]);
		cJSON_AddNumberToObject(o, "delayed_days", days_a[a]);
		cJSON_AddItemToArray(arr, o);
	}
	/* by ward: wards in order of first appearance, sorted by code */
	wards = cJSON_AddArrayToObject(root, "by_ward");
	{
		char(*names)[33] = xcalloc(n + 1, sizeof *names);
		size_t nw = 0;

		for (size_t i = 0; i < n; i++) {
			size_t k;

			for (k = 0; k < nw && strcmp(names[k], p[i].ward) != 0; k++)
				;
			if (k == nw)
				snprintf(names[nw++], sizeof names[0], "%s", p[i].ward);
		}
		qsort(names, nw, sizeof names[0], name_cmp);
		for (size_t k = 0; k < nw; k++) {
			int wd = 0, wp = 0;
			cJSON *o;

			for (size_t i = 0; i < n; i++) {
				if (strcmp(p[i].ward, names[k]) != 0)
					continue;
				wd += delay_days(&p[i].r, 1, from, to);
				wp += delay_counts_on(&p[i].r, to);
			}
			if (wd == 0 && wp == 0)
				continue;
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "ward", names[k]);
			cJSON_AddNumberToObject(o, "patients_delayed", wp);
			cJSON_AddNumberToObject(o, "delayed_days", wd);
			cJSON_AddItemToArray(wards, o);
		}
		free(names);
	}
	cJSON_AddItemToObject(root, "by_day", by_day);
	for (size_t i = 0; i < n; i++) {
		if (!delay_counts_on(&p[i].r, to))
			continue;
		lg[nlg].p = &p[i];
		lg[nlg].days = period_length(&p[i], to);
		nlg++;
	}
	qsort(lg, nlg, sizeof *lg, longest_cmp);
	arr = cJSON_AddArrayToObject(root, "longest");
	for (size_t i = 0; i < nlg && (int)i < longest_max; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "episode_id", lg[i].p->episode_id);
		cJSON_AddStringToObject(o, "ward", lg[i].p->ward);
		cJSON_AddStringToObject(o, "bed", lg[i].p->bed);
		time_format(lg[i].p->r.ready_at, buf);
		cJSON_AddStringToObject(o, "ready_at", buf);
		cJSON_AddNumberToObject(o, "delayed_days", lg[i].days);
		cJSON_AddStringToObject(o, "reason_code",
		                        lg[i].p->reason_code[0] ? lg[i].p->reason_code
		                                                : "unrecorded");
		cJSON_AddStringToObject(o, "attribution",
		                        lg[i].p->attribution[0] ? lg[i].p->attribution
		                                                : "unrecorded");
		cJSON_AddItemToArray(arr, o);
	}
	free(lg);
	free(days_r);
	free(pat_r);
	return root;
}

/* Append a CSV field, quoted when it needs to be. */
static void csv_field(char **out, size_t *len, size_t *cap, const char *s, bool last)
{
	bool quote = strpbrk(s, ",\"\n") != NULL;
	size_t need = strlen(s) * 2 + 4;

	if (*len + need >= *cap) {
		*cap = (*cap + need) * 2;
		*out = xrealloc(*out, *cap);
	}
	if (quote)
		(*out)[(*len)++] = '"';
	for (const char *c = s; *c; c++) {
		if (*c == '"')
			(*out)[(*len)++] = '"';
		(*out)[(*len)++] = *c;
	}
	if (quote)
		(*out)[(*len)++] = '"';
	(*out)[(*len)++] = last ? '\n' : ',';
	(*out)[*len] = '\0';
}

static void csv_row(char **out, size_t *len, size_t *cap, const char *from, const char *to,
                    const char *ward, int r, int a, int pat, int days)
{
	char np[16], nd[16];
	const char *text = delay_reason_text(reason_code_at(r));

	snprintf(np, sizeof np, "%d", pat);
	snprintf(nd, sizeof nd, "%d", days);
	csv_field(out, len, cap, from, false);
	csv_field(out, len, cap, to, false);
	csv_field(out, len, cap, ward, false);
	csv_field(out, len, cap, reason_code_at(r), false);
	csv_field(out, len, cap, text != NULL ? text : "No reason recorded", false);
	csv_field(out, len, cap, attribution_at(a), false);
	csv_field(out, len, cap, np, false);
	csv_field(out, len, cap, nd, true);
}

char *report_csv(const struct report_period *p, size_t n, int32_t from, int32_t to)
{
	static const char header[] = "period_start,period_end,ward,reason_code,reason,attribution,"
				     "patients_delayed,delayed_days\n";
	size_t cap = 4096, len = sizeof header - 1;
	char *out = xmalloc(cap), f[DATE_FORMAT_LEN], t[DATE_FORMAT_LEN];
	char(*names)[33] = xcalloc(n + 2, sizeof *names);
	size_t nw = 0;
	int nr = nreasons();

	memcpy(out, header, sizeof header);
	date_format(from, f);
	date_format(to, t);
	for (size_t i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < nw && strcmp(names[k], p[i].ward) != 0; k++)
			;
		if (k == nw)
			snprintf(names[nw++], sizeof names[0], "%s", p[i].ward);
	}
	qsort(names, nw, sizeof names[0], name_cmp);
	snprintf(names[nw++], sizeof names[0], "ALL");
	for (size_t k = 0; k < nw; k++) {
		bool all = k == nw - 1;

		for (int r = 0; r < nr; r++) {
			for (int a = 0; a < 4; a++) {
				int pat = 0, days = 0;

				for (size_t i = 0; i < n; i++) {
					if (!all && strcmp(p[i].ward, names[k]) != 0)
						continue;
					if (reason_index(p[i].reason_code) != r ||
					    attribution_index(p[i].attribution) != a)
						continue;
					days += delay_days(&p[i].r, 1, from, to);
					pat += delay_counts_on(&p[i].r, to);
				}
				if (pat != 0 || days != 0)
					csv_row(&out, &len, &cap, f, t, names[k], r, a, pat, days);
			}
		}
	}
	free(names);
	return out;
}

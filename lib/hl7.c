/*
 * hl7.c - a strict HL7 v2.x parser, ADT extraction and ACK building.
 *
 * A parsed message owns one text buffer holding every decoded value, each
 * NUL-terminated, and five flat arrays (segments, fields, repetitions,
 * components, sub-components) in document order: the children of one node
 * are consecutive in the next array, so a node is just "first child, count".
 * Everything is decoded at parse time, so a bad escape rejects the message
 * and hl7_get() never allocates.  Decoding never lengthens a value, so the
 * text buffer is sized once from the input length; memory is O(input).
 * No I/O, no clock, no logging.
 */
#include "hl7.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* The delimiters of one message. */
struct hl7_delims {
	char fs; /* field separator, MSH-1 */
	char cs; /* component separator, MSH-2[0] */
	char rs; /* repetition separator, MSH-2[1] */
	char es; /* escape character, MSH-2[2] */
	char ss; /* sub-component separator, MSH-2[3] */
	char tc; /* truncation character, MSH-2[4] (v2.7), '\0' if none */
};

/* A node: its children are first .. first + n - 1 in the next array. */
struct hl7_span {
	int first; /* index of the first child */
	int n;     /* number of children; 0 for an empty value */
};

struct hl7_seg {
	char id[4];             /* "PID", NUL-terminated */
	struct hl7_span fields; /* into msg->fields; field k is first + k - 1 */
};

struct hl7_msg {
	struct hl7_delims d;     /* delimiters from MSH-1/MSH-2 */
	char enc[6];             /* MSH-2 as received, NUL-terminated */
	char *text;              /* every decoded value, NUL-terminated; owned */
	size_t text_len;         /* bytes used in text */
	size_t text_cap;         /* bytes allocated for text */
	struct hl7_seg *segs;    /* owned */
	int nsegs, segs_cap;     /* used and allocated in segs */
	struct hl7_span *fields; /* children are reps; owned */
	int nfields, fields_cap; /* used and allocated in fields */
	struct hl7_span *reps;   /* children are comps; owned */
	int nreps, reps_cap;     /* used and allocated in reps */
	struct hl7_span *comps;  /* children are subs; owned */
	int ncomps, comps_cap;   /* used and allocated in comps */
	int *subs;               /* offsets of values in text; owned */
	int nsubs, subs_cap;     /* used and allocated in subs */
};

/* Where the parser is, for error messages. */
struct hl7_parser {
	struct hl7_msg *m; /* being built */
	struct err *err;   /* the caller's, may be NULL */
	char field[16];    /* "PID-5" while a field is parsed */
};

/* Make room for one more element of size in *p, which holds n of *cap. */
static void *array_grow(void *p, int n, int *cap, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap == 0 ? 16 : *cap * 2;
	return xrealloc(p, (size_t)*cap * size);
}

static int span_push(struct hl7_span **a, int *n, int *cap, int first)
{
	*a = array_grow(*a, *n, cap, sizeof **a);
	(*a)[*n].first = first;
	(*a)[*n].n = 0;
	return (*n)++;
}

static void text_putc(struct hl7_msg *m, char c)
{
	ASSERT(m->text_len < m->text_cap);
	m->text[m->text_len++] = c;
}

/* A delimiter must be printable ASCII punctuation: never a letter, digit, space or CR/LF. */
static bool delim_is_valid(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !(c >= '0' && c <= '9') && !(c >= 'A' && c <= 'Z') &&
	       !(c >= 'a' && c <= 'z');
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Decode the escape sequence s[0..n) (between the escape characters) into
 * the text buffer.
 */
static enum status escape_decode(struct hl7_parser *p, const char *s, size_t n)
{
	const struct hl7_delims *d = &p->m->d;

	if (n == 0)
		return err_set(p->err, ST_INVALID, p->field, "%s has an empty escape sequence",
		               p->field);
	if (s[0] == 'X') {
		if (n < 3 || (n - 1) % 2 != 0)
			return err_set(p->err, ST_INVALID, p->field,
			               "%s has a hexadecimal escape with an odd or zero number of "
			               "digits",
			               p->field);
		for (size_t i = 1; i < n; i += 2) {
			int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);

			if (hi < 0 || lo < 0)
				return err_set(p->err, ST_INVALID, p->field,
				               "%s has an invalid hexadecimal escape", p->field);
			if (hi == 0 && lo == 0)
				return err_set(p->err, ST_INVALID, p->field,
				               "%s has an escape that decodes to a NUL byte",
				               p->field);
			text_putc(p->m, (char)(hi * 16 + lo));
		}
		return ST_OK;
	}
	if (n == 1) {
		switch (s[0]) {
		case 'F':
			text_putc(p->m, d->fs);
			return ST_OK;
		case 'S':
			text_putc(p->m, d->cs);
			return ST_OK;
		case 'T':
			text_putc(p->m, d->ss);
			return ST_OK;
		case 'R':
			text_putc(p->m, d->rs);
			return ST_OK;
		case 'E':
			text_putc(p->m, d->es);
			return ST_OK;
		case 'P':
			if (d->tc != '\0')
				text_putc(p->m, d->tc);
			return ST_OK;
		default:
			break;
		}
	}
	/* Highlighting (\H\ \N\), formatting (\.br\) and character sets: dropped. */
	return ST_OK;
}

/* Decode one sub-component s[0..n) into the text buffer and push its offset. */
static enum status value_decode(struct hl7_parser *p, const char *s, size_t n)
{
	struct hl7_msg *m = p->m;
	size_t start = m->text_len;
	size_t i = 0;

	while (i < n) {
		const char *end;

		if (s[i] != m->d.es) {
			text_putc(m, s[i++]);
			continue;
		}
		end = memchr(s + i + 1, m->d.es, n - i - 1);
		if (end == NULL)
			return err_set(p->err, ST_INVALID, p->field,
			               "%s has an unterminated escape sequence", p->field);
		if (escape_decode(p, s + i + 1, (size_t)(end - (s + i + 1))) != ST_OK)
			return ST_INVALID;
		i = (size_t)(end - s) + 1;
	}
	text_putc(m, '\0');
	m->subs = array_grow(m->subs, m->nsubs, &m->subs_cap, sizeof *m->subs);
	m->subs[m->nsubs++] = (int)start;
	return ST_OK;
}

/* Push a value that is not decoded (MSH-1, MSH-2) as one field of one repetition. */
static void field_push_literal(struct hl7_msg *m, const char *s)
{
	int f = span_push(&m->fields, &m->nfields, &m->fields_cap, m->nreps);
	int r = span_push(&m->reps, &m->nreps, &m->reps_cap, m->ncomps);
	int c = span_push(&m->comps, &m->ncomps, &m->comps_cap, m->nsubs);

	m->fields[f].n = 1;
	m->reps[r].n = 1;
	m->comps[c].n = 1;
	m->subs = array_grow(m->subs, m->nsubs, &m->subs_cap, sizeof *m->subs);
	m->subs[m->nsubs++] = (int)m->text_len;
	for (; *s != '\0'; s++)
		text_putc(m, *s);
	text_putc(m, '\0');
}

/* Parse one component s[0..n) into sub-components. */
static enum status comp_parse(struct hl7_parser *p, const char *s, size_t n)
{
	struct hl7_msg *m = p->m;
	int c = span_push(&m->comps, &m->ncomps, &m->comps_cap, m->nsubs);
	size_t start = 0;

	if (n == 0)
		return ST_OK;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != m->d.ss)
			continue;
		if (value_decode(p, s + start, i - start) != ST_OK)
			return ST_INVALID;
		m->comps[c].n++;
		start = i + 1;
	}
	return ST_OK;
}

/* Parse one repetition s[0..n) into components. */
static enum status rep_parse(struct hl7_parser *p, const char *s, size_t n)
{
	struct hl7_msg *m = p->m;
	int r = span_push(&m->reps, &m->nreps, &m->reps_cap, m->ncomps);
	size_t start = 0;

	if (n == 0)
		return ST_OK;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != m->d.cs)
			continue;
		if (comp_parse(p, s + start, i - start) != ST_OK)
			return ST_INVALID;
		m->reps[r].n++;
		start = i + 1;
	}
	return ST_OK;
}

/* Parse one field s[0..n) into repetitions. */
static enum status field_parse(struct hl7_parser *p, const char *s, size_t n)
{
	struct hl7_msg *m = p->m;
	int f = span_push(&m->fields, &m->nfields, &m->fields_cap, m->nreps);
	size_t start = 0;

	if (n == 0)
		return ST_OK;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != m->d.rs)
			continue;
		if (m->fields[f].n == HL7_MAX_REPS)
			return err_set(p->err, ST_INVALID, p->field,
			               "%s has more than %d repetitions", p->field, HL7_MAX_REPS);
		if (rep_parse(p, s + start, i - start) != ST_OK)
			return ST_INVALID;
		m->fields[f].n++;
		start = i + 1;
	}
	return ST_OK;
}

static bool seg_id_is_valid(const char *s, size_t n)
{
	if (n < 3)
		return false;
	for (int i = 0; i < 3; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

/*
 * Read the delimiters from the MSH segment s[0..n) (already known to start
 * with "MSH") and return the offset of what follows MSH-2.
 */
static enum status delims_parse(struct hl7_parser *p, const char *s, size_t n, size_t *after)
{
	struct hl7_msg *m = p->m;
	char all[6];
	size_t k = 4;

	if (n < 4)
		return err_set(p->err, ST_INVALID, "MSH-1", "segment \"MSH\" is too short");
	if (!delim_is_valid((unsigned char)s[3]))
		return err_set(p->err, ST_INVALID, "MSH-1",
		               "MSH-1 field separator 0x%02x is not ASCII punctuation",
		               (unsigned char)s[3]);
	m->d.fs = s[3];
	while (k < n && s[k] != m->d.fs && k - 4 < 5)
		k++;
	if (k - 4 < 4 || (k < n && s[k] != m->d.fs))
		return err_set(p->err, ST_INVALID, "MSH-2",
		               "MSH-2 encoding characters must be 4 or 5 characters");
	all[0] = m->d.fs;
	for (size_t i = 4; i < k; i++) {
		if (!delim_is_valid((unsigned char)s[i]))
			return err_set(p->err, ST_INVALID, "MSH-2",
			               "MSH-2 encoding character 0x%02x is not ASCII punctuation",
			               (unsigned char)s[i]);
		for (size_t j = 0; j < i - 3; j++)
			if (all[j] == s[i])
				return err_set(p->err, ST_INVALID, "MSH-2",
				               "MSH-2 encoding characters repeat \"%c\"", s[i]);
		all[i - 3] = s[i];
		m->enc[i - 4] = s[i];
	}
	m->enc[k - 4] = '\0';
	m->d.cs = s[4];
	m->d.rs = s[5];
	m->d.es = s[6];
	m->d.ss = s[7];
	m->d.tc = k - 4 == 5 ? s[8] : '\0';
	*after = k;
	return ST_OK;
}

/* Parse one non-empty segment s[0..n), the seg_no-th (1-based). */
static enum status segment_parse(struct hl7_parser *p, const char *s, size_t n, int seg_no)
{
	struct hl7_msg *m = p->m;
	struct hl7_seg *seg;
	size_t pos = 0, start;
	int nfields = 0;
	bool is_msh = seg_no == 1;

	if (!seg_id_is_valid(s, n) || (n > 3 && s[3] != m->d.fs && !is_msh))
		return err_set(p->err, ST_INVALID, NULL,
		               "segment %d does not start with an id of 3 upper-case letters or "
		               "digits and a field separator",
		               seg_no);
	if (!is_msh && memcmp(s, "MSH", 3) == 0)
		return err_set(p->err, ST_INVALID, NULL, "segment \"MSH\" occurs more than once");
	if (m->nsegs == HL7_MAX_SEGMENTS)
		return err_set(p->err, ST_INVALID, NULL, "message has more than %d segments",
		               HL7_MAX_SEGMENTS);
	m->segs = array_grow(m->segs, m->nsegs, &m->segs_cap, sizeof *m->segs);
	seg = &m->segs[m->nsegs++];
	memcpy(seg->id, s, 3);
	seg->id[3] = '\0';
	seg->fields.first = m->nfields;
	seg->fields.n = 0;

	if (is_msh) {
		char fs[2] = {'\0', '\0'};

		if (delims_parse(p, s, n, &pos) != ST_OK)
			return ST_INVALID;
		fs[0] = m->d.fs;
		field_push_literal(m, fs);
		field_push_literal(m, m->enc);
		nfields = 2;
	} else {
		pos = 3;
	}
	/* pos is at a field separator (fields follow) or at the end of the segment. */
	if (pos >= n) {
		m->segs[m->nsegs - 1].fields.n = nfields;
		return ST_OK;
	}
	start = ++pos;
	for (; pos <= n; pos++) {
		if (pos < n && s[pos] != m->d.fs)
			continue;
		if (nfields == HL7_MAX_FIELDS)
			return err_set(p->err, ST_INVALID, NULL,
			               "segment %d (\"%s\") has more than %d fields", seg_no,
			               m->segs[m->nsegs - 1].id, HL7_MAX_FIELDS);
		nfields++;
		snprintf(p->field, sizeof p->field, "%s-%d", m->segs[m->nsegs - 1].id, nfields);
		if (field_parse(p, s + start, pos - start) != ST_OK)
			return ST_INVALID;
		start = pos + 1;
	}
	m->segs[m->nsegs - 1].fields.n = nfields;
	return ST_OK;
}

struct hl7_msg *hl7_parse(const char *data, size_t len, struct err *err)
{
	struct hl7_parser p = {.err = err};
	struct hl7_msg *m;
	size_t pos = 0;
	int seg_no = 0;

	ASSERT(data != NULL || len == 0);
	if (len == 0) {
		err_set(err, ST_INVALID, NULL, "message is empty");
		return NULL;
	}
	if (len > HL7_MAX_MESSAGE) {
		err_set(err, ST_INVALID, NULL, "message is longer than %d bytes", HL7_MAX_MESSAGE);
		return NULL;
	}
	if (memchr(data, '\0', len) != NULL) {
		err_set(err, ST_INVALID, NULL, "message contains a NUL byte");
		return NULL;
	}
	if (len < 3 || memcmp(data, "MSH", 3) != 0) {
		err_set(err, ST_INVALID, NULL, "message does not start with segment \"MSH\"");
		return NULL;
	}

	m = xcalloc(1, sizeof *m);
	/* Each value shrinks or keeps its length, plus one NUL per value (at most len + 1). */
	m->text_cap = 2 * len + 16;
	m->text = xmalloc(m->text_cap);
	p.m = m;

	while (pos < len) {
		const char *s = data + pos;
		size_t n = 0;

		while (pos + n < len && s[n] != '\r' && s[n] != '\n')
			n++;
		pos += n + 1; /* past the terminator; \r\n is an empty segment, skipped */
		if (n == 0)
			continue;
		if (segment_parse(&p, s, n, ++seg_no) != ST_OK) {
			hl7_msg_free(m);
			return NULL;
		}
	}
	return m;
}

void hl7_msg_free(struct hl7_msg *m)
{
	if (m == NULL)
		return;
	free(m->text);
	free(m->segs);
	free(m->fields);
	free(m->reps);
	free(m->comps);
	free(m->subs);
	free(m);
}

static const struct hl7_seg *seg_find(const struct hl7_msg *m, const char *id, int index)
{
	ASSERT(m != NULL && id != NULL);
	if (index < 0)
		return NULL;
	for (int i = 0; i < m->nsegs; i++)
		if (strcmp(m->segs[i].id, id) == 0 && index-- == 0)
			return &m->segs[i];
	return NULL;
}

/* The field span of seg-field, or NULL. */
static const struct hl7_span *field_find(const struct hl7_msg *m, const char *seg, int seg_index,
                                         int field)
{
	const struct hl7_seg *s = seg_find(m, seg, seg_index);

	if (s == NULL || field < 1 || field > s->fields.n)
		return NULL;
	return &m->fields[s->fields.first + field - 1];
}

const char *hl7_get(const struct hl7_msg *m, const char *seg, int seg_index, int field, int rep,
                    int comp, int sub)
{
	const struct hl7_span *f = field_find(m, seg, seg_index, field);
	const struct hl7_span *r, *c;

	if (f == NULL || rep < 0 || rep >= f->n)
		return "";
	r = &m->reps[f->first + rep];
	if (comp < 1 || comp > r->n)
		return "";
	c = &m->comps[r->first + comp - 1];
	if (sub < 1 || sub > c->n)
		return "";
	return m->text + m->subs[c->first + sub - 1];
}

int hl7_count(const struct hl7_msg *m, const char *seg)
{
	int n = 0;

	ASSERT(m != NULL && seg != NULL);
	for (int i = 0; i < m->nsegs; i++)
		if (strcmp(m->segs[i].id, seg) == 0)
			n++;
	return n;
}

int hl7_reps(const struct hl7_msg *m, const char *seg, int seg_index, int field)
{
	const struct hl7_span *f = field_find(m, seg, seg_index, field);

	return f == NULL ? 0 : f->n;
}

/* ------------------------------------------------------------------ */
/* Events and timestamps                                                */

static const char *const event_names[] = {
    [HL7_A01] = "A01", [HL7_A02] = "A02", [HL7_A03] = "A03",
    [HL7_A08] = "A08", [HL7_A11] = "A11", [HL7_A13] = "A13",
};

const char *hl7_event_name(enum hl7_event ev)
{
	ASSERT((size_t)ev < nitems(event_names));
	return event_names[ev];
}

enum status hl7_event_parse(const char *s, enum hl7_event *out, struct err *err)
{
	for (size_t i = 0; i < nitems(event_names); i++) {
		if (strcmp(s, event_names[i]) == 0) {
			*out = (enum hl7_event)i;
			return ST_OK;
		}
	}
	return err_set(err, ST_INVALID, NULL, "event \"%.20s\" is not supported", s);
}

/* Read n digits at s; -1 if any is not a digit. */
static int digits_read(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int days_in_month(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

enum status hl7_ts_parse(const char *s, struct hl7_ts *out, struct err *err)
{
	size_t n = 0, len;

	ASSERT(s != NULL && out != NULL);
	memset(out, 0, sizeof *out);
	/* The digits before a fraction or zone. */
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n != 8 && n != 10 && n != 12 && n != 14)
		return err_set(err, ST_INVALID, NULL,
		               "date/time must be YYYYMMDD[HH[MM[SS]]] with an optional fraction "
		               "and offset");
	out->year = digits_read(s, 4);
	out->month = digits_read(s + 4, 2);
	out->day = digits_read(s + 6, 2);
	if (out->year < 1)
		return err_set(err, ST_INVALID, NULL, "year 0 is out of range");
	if (out->month < 1 || out->month > 12)
		return err_set(err, ST_INVALID, NULL, "month %d is out of range", out->month);
	if (out->day < 1 || out->day > days_in_month(out->year, out->month))
		return err_set(err, ST_INVALID, NULL, "day %d is out of range for %04d-%02d",
		               out->day, out->year, out->month);
	if (n >= 10) {
		out->has_time = true;
		out->hour = digits_read(s + 8, 2);
		if (out->hour > 23)
			return err_set(err, ST_INVALID, NULL, "hour %d is out of range", out->hour);
	}
	if (n >= 12) {
		out->minute = digits_read(s + 10, 2);
		if (out->minute > 59)
			return err_set(err, ST_INVALID, NULL, "minute %d is out of range",
			               out->minute);
	}
	if (n >= 14) {
		out->second = digits_read(s + 12, 2);
		if (out->second > 59)
			return err_set(err, ST_INVALID, NULL, "second %d is out of range",
			               out->second);
	}
	s += n;
	if (*s == '.') {
		if (n != 14)
			return err_set(err, ST_INVALID, NULL,
			               "a fraction of a second needs the seconds");
		for (len = 1; s[len] >= '0' && s[len] <= '9'; len++)
			;
		if (len < 2 || len > 5)
			return err_set(err, ST_INVALID, NULL,
			               "a fraction of a second must have 1 to 4 digits");
		s += len;
	}
	if (*s == '+' || *s == '-') {
		int hh = digits_read(s + 1, 2), mm = hh < 0 ? -1 : digits_read(s + 3, 2);
		int sign = *s == '-' ? -1 : 1;

		if (hh < 0 || mm < 0 || s[5] != '\0')
			return err_set(err, ST_INVALID, NULL,
			               "time zone offset must be +HHMM or -HHMM");
		if (mm > 59 || hh * 60 + mm > (sign > 0 ? 14 * 60 : 12 * 60))
			return err_set(err, ST_INVALID, NULL, "time zone offset is out of range");
		out->has_zone = true;
		out->zone_minutes = sign * (hh * 60 + mm);
		s += 5;
	}
	if (*s != '\0')
		return err_set(err, ST_INVALID, NULL, "date/time has unexpected characters");
	return ST_OK;
}

/* ------------------------------------------------------------------ */
/* ADT extraction                                                       */

/* A string member of struct hl7_adt and where it comes from. */
struct adt_str {
	const char *seg;  /* segment id */
	int field;        /* HL7 field number */
	int comp, sub;    /* 1-based */
	size_t offset;    /* of the char array in struct hl7_adt */
	size_t size;      /* of that array */
	const char *name; /* "PV1-3.1" for messages */
};

#define ADT_STR(seg, field, comp, sub, member)                                                     \
	{                                                                                          \
		seg, field, comp, sub, offsetof(struct hl7_adt, member),                           \
		    sizeof(((struct hl7_adt *)0)->member), #member                                 \
	}

static const struct adt_str adt_strs[] = {
    ADT_STR("MSH", 3, 1, 1, sending_app),
    ADT_STR("MSH", 4, 1, 1, sending_facility),
    ADT_STR("MSH", 5, 1, 1, receiving_app),
    ADT_STR("MSH", 6, 1, 1, receiving_facility),
    ADT_STR("MSH", 11, 1, 1, processing_id),
    ADT_STR("MSH", 12, 1, 1, version),
    ADT_STR("PID", 8, 1, 1, sex),
    ADT_STR("PV1", 2, 1, 1, patient_class),
    ADT_STR("PV1", 3, 1, 1, ward),
    ADT_STR("PV1", 3, 2, 1, room),
    ADT_STR("PV1", 3, 3, 1, bed),
    ADT_STR("PV1", 3, 4, 1, facility),
    ADT_STR("PV1", 6, 1, 1, prior_ward),
    ADT_STR("PV1", 6, 3, 1, prior_bed),
    ADT_STR("PV1", 19, 1, 1, visit_number),
    ADT_STR("PV1", 36, 1, 1, discharge_disposition),
    ADT_STR("PV1", 37, 1, 1, discharged_to),
};

/* A timestamp member of struct hl7_adt and where it comes from (component 1). */
struct adt_ts {
	const char *seg;  /* segment id */
	int field;        /* HL7 field number */
	size_t offset;    /* of the struct hl7_ts */
	size_t has;       /* of its bool */
	const char *what; /* for messages */
};

#define ADT_TS(seg, field, member, what)                                                           \
	{                                                                                          \
		seg, field, offsetof(struct hl7_adt, member),                                      \
		    offsetof(struct hl7_adt, has_##member), what                                   \
	}

static const struct adt_ts adt_tss[] = {
    ADT_TS("EVN", 2, recorded, "recorded date/time"),
    ADT_TS("EVN", 6, occurred, "event occurred"),
    ADT_TS("PID", 7, birth_date, "birth date"),
    ADT_TS("PV1", 44, admit_time, "admit date/time"),
    ADT_TS("PV1", 45, discharge_time, "discharge date/time"),
};

/* The value, with HL7's explicit null ("") read as empty. */
static const char *adt_value(const struct hl7_msg *m, const char *seg, int field, int rep, int comp,
                             int sub)
{
	const char *v = hl7_get(m, seg, 0, field, rep, comp, sub);

	return strcmp(v, "\"\"") == 0 ? "" : v;
}

/* Copy v into dst[size], or fail naming seg-field. */
static enum status adt_copy(char *dst, size_t size, const char *v, const char *seg, int field,
                            const char *what, struct err *err)
{
	size_t len = strlen(v);
	char name[16];

	snprintf(name, sizeof name, "%s-%d", seg, field);
	if (len >= size)
		return err_set(err, ST_INVALID, name, "%s (%s) is too long: %zu bytes, at most %zu",
		               name, what, len, size - 1);
	memcpy(dst, v, len + 1);
	return ST_OK;
}

/* The repetition of PID-5 to read: the legal name (PID-5.7 "L") if any, else the first. */
static int adt_name_rep(const struct hl7_msg *m)
{
	int n = hl7_reps(m, "PID", 0, 5);

	for (int r = 0; r < n; r++)
		if (strcmp(hl7_get(m, "PID", 0, 5, r, 7, 1), "L") == 0)
			return r;
	return 0;
}

static enum status adt_ids(const struct hl7_msg *m, struct hl7_adt *out, struct err *err)
{
	int n = hl7_reps(m, "PID", 0, 3);
	bool have_nhs = false, have_mrn = false;

	for (int r = 0; r < n; r++) {
		const char *id = adt_value(m, "PID", 3, r, 1, 1);
		bool is_nhs = strcmp(hl7_get(m, "PID", 0, 3, r, 5, 1), "NH") == 0;

		if (*id == '\0')
			continue;
		if (is_nhs && !have_nhs) {
			if (adt_copy(out->nhs_number, sizeof out->nhs_number, id, "PID", 3,
			             "NHS number", err) != ST_OK)
				return ST_INVALID;
			have_nhs = true;
		} else if (!is_nhs && !have_mrn) {
			if (adt_copy(out->mrn, sizeof out->mrn, id, "PID", 3, "patient identifier",
			             err) != ST_OK)
				return ST_INVALID;
			have_mrn = true;
		}
	}
	return ST_OK;
}

/* Fill family, given and middle from the chosen repetition of PID-5. */
static enum status adt_name(const struct hl7_msg *m, struct hl7_adt *out, struct err *err)
{
	static const char *const what[] = {"family name", "given name", "middle name"};
	char *dst[] = {out->family, out->given, out->middle};
	int r = adt_name_rep(m);

	_Static_assert(sizeof out->given == sizeof out->family &&
	                   sizeof out->middle == sizeof out->family,
	               "name parts share one size");
	for (int c = 0; c < 3; c++) {
		const char *v = adt_value(m, "PID", 5, r, c + 1, 1);

		if (adt_copy(dst[c], sizeof out->family, v, "PID", 5, what[c], err) != ST_OK)
			return ST_INVALID;
	}
	return ST_OK;
}

/* Check MSH-9 and fill event, trigger and message_type. */
static enum status adt_type(const struct hl7_msg *m, struct hl7_adt *out, struct err *err)
{
	const char *code = hl7_get(m, "MSH", 0, 9, 0, 1, 1);
	const char *trigger = hl7_get(m, "MSH", 0, 9, 0, 2, 1);
	const char *structure = hl7_get(m, "MSH", 0, 9, 0, 3, 1);
	char type[128];

	if (*structure != '\0')
		snprintf(type, sizeof type, "%s^%s^%s", code, trigger, structure);
	else if (*trigger != '\0')
		snprintf(type, sizeof type, "%s^%s", code, trigger);
	else
		snprintf(type, sizeof type, "%s", code);
	if (*code == '\0')
		return err_set(err, ST_INVALID, "MSH-9", "MSH-9 message type is missing");
	if (strcmp(code, "ADT") != 0 || hl7_event_parse(trigger, &out->event, NULL) != ST_OK)
		return err_set(err, ST_INVALID, "MSH-9",
		               "MSH-9 message type \"%.40s\" is not supported", type);
	if (adt_copy(out->message_type, sizeof out->message_type, type, "MSH", 9, "message type",
	             err) != ST_OK)
		return ST_INVALID;
	snprintf(out->trigger, sizeof out->trigger, "%s", hl7_event_name(out->event));
	return ST_OK;
}

enum status hl7_adt_from_msg(const struct hl7_msg *m, struct hl7_adt *out, struct err *err)
{
	const char *v;

	ASSERT(m != NULL && out != NULL);
	memset(out, 0, sizeof *out);
	if (adt_type(m, out, err) != ST_OK)
		return ST_INVALID;
	v = hl7_get(m, "MSH", 0, 10, 0, 1, 1);
	if (*v == '\0')
		return err_set(err, ST_INVALID, "MSH-10", "MSH-10 message control id is missing");
	if (adt_copy(out->control_id, sizeof out->control_id, v, "MSH", 10, "message control id",
	             err) != ST_OK)
		return ST_INVALID;
	if (hl7_count(m, "PID") == 0)
		return err_set(err, ST_INVALID, "PID", "segment \"PID\" is missing");
	if (out->event != HL7_A08 && hl7_count(m, "PV1") == 0)
		return err_set(err, ST_INVALID, "PV1", "segment \"PV1\" is missing");

	for (size_t i = 0; i < nitems(adt_strs); i++) {
		const struct adt_str *a = &adt_strs[i];

		v = adt_value(m, a->seg, a->field, 0, a->comp, a->sub);
		if (adt_copy((char *)out + a->offset, a->size, v, a->seg, a->field, a->name, err) !=
		    ST_OK)
			return ST_INVALID;
	}
	for (size_t i = 0; i < nitems(adt_tss); i++) {
		const struct adt_ts *a = &adt_tss[i];
		struct err inner;
		char name[16];

		v = adt_value(m, a->seg, a->field, 0, 1, 1);
		if (*v == '\0')
			continue;
		if (hl7_ts_parse(v, (struct hl7_ts *)((char *)out + a->offset), &inner) != ST_OK) {
			snprintf(name, sizeof name, "%s-%d", a->seg, a->field);
			return err_set(err, ST_INVALID, name,
			               "%s (%s) is not a valid date/time: %s", name, a->what,
			               inner.message);
		}
		*(bool *)((char *)out + a->has) = true;
	}

	/* PV2-8: an estimate the admission may do without, so never a reason to refuse it */
	v = adt_value(m, "PV2", 8, 0, 1, 1);
	if (*v != '\0' && hl7_ts_parse(v, &out->expected_discharge, NULL) == ST_OK)
		out->has_expected_discharge = true;

	if (adt_ids(m, out, err) != ST_OK)
		return ST_INVALID;
	return adt_name(m, out, err);
}

/* A decimal number lo..hi without sign or leading zero at s[0..n); -1 if not. */
static int number_read(const char *s, size_t n, int lo, int hi)
{
	int v = 0;

	if (n == 0 || n > 4 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v >= lo && v <= hi ? v : -1;
}

enum status hl7_field_ref_parse(const char *s, struct hl7_field_ref *out, struct err *err)
{
	const char *dot;
	size_t flen;

	memset(out, 0, sizeof *out);
	if (*s == '\0')
		return ST_OK;
	if (strlen(s) < 5 || !seg_id_is_valid(s, 3) || s[3] != '-')
		goto bad;
	dot = strchr(s + 4, '.');
	flen = dot != NULL ? (size_t)(dot - (s + 4)) : strlen(s + 4);
	out->field = number_read(s + 4, flen, 1, HL7_MAX_FIELDS);
	out->comp = dot != NULL ? number_read(dot + 1, strlen(dot + 1), 1, 99) : 1;
	if (out->field < 0 || out->comp < 0)
		goto bad;
	memcpy(out->seg, s, 3);
	return ST_OK;
bad:
	memset(out, 0, sizeof *out);
	return err_set(err, ST_INVALID, NULL,
	               "\"%.40s\" is not an HL7 field such as \"ZCB-1\" or \"PV2-45.2\" "
	               "(segment-field[.component])",
	               s);
}

enum status hl7_pathway_from_msg(const struct hl7_msg *m, const struct hl7_field_ref *ref, int *out,
                                 struct err *err)
{
	const char *v;
	char name[24];

	*out = -1;
	if (ref->seg[0] == '\0')
		return ST_OK;
	v = adt_value(m, ref->seg, ref->field, 0, ref->comp, 1);
	if (*v == '\0')
		return ST_OK;
	if (ref->comp > 1)
		snprintf(name, sizeof name, "%s-%d.%d", ref->seg, ref->field, ref->comp);
	else
		snprintf(name, sizeof name, "%s-%d", ref->seg, ref->field);
	if (v[0] < '0' || v[0] > '3' || v[1] != '\0')
		return err_set(err, ST_INVALID, name,
		               "%s: likely discharge pathway must be 0, 1, 2 or 3", name);
	*out = v[0] - '0';
	return ST_OK;
}

/* ------------------------------------------------------------------ */
/* ACK                                                                  */

/* A growing NUL-terminated string. */
struct sbuf {
	char *p;    /* owned */
	size_t len; /* bytes before the NUL */
	size_t cap; /* bytes allocated */
};

static void sbuf_putc(struct sbuf *b, char c)
{
	if (b->len + 2 > b->cap) {
		b->cap = b->cap == 0 ? 256 : b->cap * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

static void sbuf_puts(struct sbuf *b, const char *s)
{
	for (; *s != '\0'; s++)
		sbuf_putc(b, *s);
}

/* Append s escaped for the delimiters d: no byte of it can end a value. */
static void sbuf_put_escaped(struct sbuf *b, const struct hl7_delims *d, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char e = '\0';

		if (c == (unsigned char)d->fs)
			e = 'F';
		else if (c == (unsigned char)d->cs)
			e = 'S';
		else if (c == (unsigned char)d->ss)
			e = 'T';
		else if (c == (unsigned char)d->rs)
			e = 'R';
		else if (c == (unsigned char)d->es)
			e = 'E';
		else if (d->tc != '\0' && c == (unsigned char)d->tc)
			e = 'P';
		if (e != '\0') {
			sbuf_putc(b, d->es);
			sbuf_putc(b, e);
			sbuf_putc(b, d->es);
		} else if (c < 0x20 || c == 0x7f) {
			sbuf_putc(b, d->es);
			sbuf_putc(b, 'X');
			sbuf_putc(b, hex[c >> 4]);
			sbuf_putc(b, hex[c & 0xf]);
			sbuf_putc(b, d->es);
		} else {
			sbuf_putc(b, (char)c);
		}
	}
}

/* Append field seg-field of m re-encoded with m's delimiters, or dflt (escaped) if empty. */
static void sbuf_put_field(struct sbuf *b, const struct hl7_delims *d, const struct hl7_msg *m,
                           const char *seg, int field, const char *dflt)
{
	const struct hl7_span *f = m != NULL ? field_find(m, seg, 0, field) : NULL;

	if (f == NULL || f->n == 0) {
		if (dflt != NULL)
			sbuf_put_escaped(b, d, dflt);
		return;
	}
	for (int r = 0; r < f->n; r++) {
		const struct hl7_span *rep = &m->reps[f->first + r];

		if (r > 0)
			sbuf_putc(b, m->d.rs);
		for (int c = 0; c < rep->n; c++) {
			const struct hl7_span *comp = &m->comps[rep->first + c];

			if (c > 0)
				sbuf_putc(b, m->d.cs);
			for (int s = 0; s < comp->n; s++) {
				if (s > 0)
					sbuf_putc(b, m->d.ss);
				sbuf_put_escaped(b, &m->d, m->text + m->subs[comp->first + s]);
			}
		}
	}
}

/* The HL7 table 0357 error code and text for a negative ACK of in. */
static void ack_error_code(const struct hl7_msg *in, int *code, const char **text)
{
	enum hl7_event ev;

	*code = 207;
	*text = "Application internal error";
	if (in == NULL)
		return;
	if (strcmp(hl7_get(in, "MSH", 0, 9, 0, 1, 1), "ADT") != 0) {
		*code = 200;
		*text = "Unsupported message type";
	} else if (hl7_event_parse(hl7_get(in, "MSH", 0, 9, 0, 2, 1), &ev, NULL) != ST_OK) {
		*code = 201;
		*text = "Unsupported event code";
	}
}

char *hl7_ack_build(const struct hl7_msg *in, const char *ack_code, const char *text,
                    const char *control_id, const char *timestamp)
{
	static const struct hl7_delims dflt = {'|', '^', '~', '\\', '&', '\0'};
	const struct hl7_delims *d = in != NULL ? &in->d : &dflt;
	const char *trigger = in != NULL ? hl7_get(in, "MSH", 0, 9, 0, 2, 1) : "";
	struct sbuf b = {0};
	char code_str[8];

	ASSERT(ack_code != NULL && control_id != NULL && timestamp != NULL);
	ASSERT(strcmp(ack_code, "AA") == 0 || strcmp(ack_code, "AE") == 0 ||
	       strcmp(ack_code, "AR") == 0);

	/* MSH|^~\&|<in MSH-5>|<in MSH-6>|<in MSH-3>|<in MSH-4>|ts||ACK^trigger^ACK|id|P|2.5 */
	sbuf_puts(&b, "MSH");
	sbuf_putc(&b, d->fs);
	sbuf_puts(&b, in != NULL ? in->enc : "^~\\&");
	sbuf_putc(&b, d->fs);
	sbuf_put_field(&b, d, in, "MSH", 5, NULL);
	sbuf_putc(&b, d->fs);
	sbuf_put_field(&b, d, in, "MSH", 6, NULL);
	sbuf_putc(&b, d->fs);
	sbuf_put_field(&b, d, in, "MSH", 3, NULL);
	sbuf_putc(&b, d->fs);
	sbuf_put_field(&b, d, in, "MSH", 4, NULL);
	sbuf_putc(&b, d->fs);
	sbuf_put_escaped(&b, d, timestamp);
	sbuf_putc(&b, d->fs);
	sbuf_putc(&b, d->fs);
	sbuf_puts(&b, "ACK");
	if (*trigger != '\0') {
		sbuf_putc(&b, d->cs);
		sbuf_put_escaped(&b, d, trigger);
		sbuf_putc(&b, d->cs);
		sbuf_puts(&b, "ACK");
	}
	sbuf_putc(&b, d->fs);
	sbuf_put_escaped(&b, d, control_id);
	sbuf_putc(&b, d->fs);
	sbuf_put_field(&b, d, in, "MSH", 11, "P");
	sbuf_putc(&b, d->fs);
	sbuf_put_field(&b, d, in, "MSH", 12, "2.5");
	sbuf_putc(&b, '\r');

	/* MSA|code|<in MSH-10>|text */
	sbuf_puts(&b, "MSA");
	sbuf_putc(&b, d->fs);
	sbuf_puts(&b, ack_code);
	sbuf_putc(&b, d->fs);
	sbuf_put_field(&b, d, in, "MSH", 10, NULL);
	if (text != NULL && *text != '\0') {
		sbuf_putc(&b, d->fs);
		sbuf_put_escaped(&b, d, text);
	}
	sbuf_putc(&b, '\r');

	/* ERR|||code^text^HL70357|E||||text */
	if (strcmp(ack_code, "AA") != 0) {
		int code;
		const char *code_text;

		ack_error_code(in, &code, &code_text);
		snprintf(code_str, sizeof code_str, "%d", code);
		sbuf_puts(&b, "ERR");
		sbuf_putc(&b, d->fs);
		sbuf_putc(&b, d->fs);
		sbuf_putc(&b, d->fs);
		sbuf_puts(&b, code_str);
		sbuf_putc(&b, d->cs);
		sbuf_puts(&b, code_text);
		sbuf_putc(&b, d->cs);
		sbuf_puts(&b, "HL70357");
		sbuf_putc(&b, d->fs);
		sbuf_putc(&b, 'E');
		if (text != NULL && *text != '\0') {
			for (int i = 0; i < 4; i++)
				sbuf_putc(&b, d->fs);
			sbuf_put_escaped(&b, d, text);
		}
		sbuf_putc(&b, '\r');
	}
	return b.p;
}

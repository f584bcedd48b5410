/*
 * hl7.h - a strict HL7 v2.x parser, ADT extraction and ACK building.
 *
 * The parser copies and decodes a whole message into a struct hl7_msg that
 * owns every string it hands out.  hl7_adt_from_msg() turns an ADT message
 * into the fixed-size struct hl7_adt the server works with, and
 * hl7_ack_build() writes the acknowledgement.  This module knows HL7 syntax
 * and the ADT fields carebridge reads; it does not judge business meaning
 * (NHS number check digit, known wards: the server does that and answers AE),
 * and it does no I/O and no MLLP framing (see mllp_frame.h).
 */
#ifndef CB_HL7_H
#define CB_HL7_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

#define HL7_MAX_MESSAGE (1024 * 1024) /* bytes in one message */
#define HL7_MAX_SEGMENTS 1000         /* segments in one message */
#define HL7_MAX_FIELDS 1000           /* fields in one segment (MSH-1 and MSH-2 count) */
#define HL7_MAX_REPS 100              /* repetitions in one field */

struct hl7_msg;

/*
 * Parse len bytes of one HL7 v2 message (no MLLP framing; data need not be
 * NUL-terminated and is not kept).  The message must start with "MSH"; the
 * field separator is MSH-1 and MSH-2 holds 4 or 5 encoding characters
 * (component, repetition, escape, sub-component, optional v2.7 truncation),
 * all distinct printable ASCII punctuation.  Segments end with \r, \n or
 * \r\n; empty segments are skipped; a segment id is 3 upper-case letters or
 * digits, and MSH occurs only once.  Every value is unescaped here: \F\ \S\
 * \T\ \R\ \E\ (and \P\ with a truncation character) give the delimiter,
 * \Xhh..\ gives the bytes, other escapes (\H\ \N\ \.br\ ...) are dropped.
 * A NUL byte anywhere, \X00\, bad hex, an empty or unterminated escape and
 * anything over the HL7_MAX_* limits make the message invalid.
 *
 * Returns a new message the caller frees with hl7_msg_free(), or NULL with
 * ST_INVALID in err.
 */
struct hl7_msg *hl7_parse(const char *data, size_t len, struct err *err);

/* Free m and every string it handed out; NULL does nothing. */
void hl7_msg_free(struct hl7_msg *m);

/*
 * The decoded value of segment seg (its seg_index-th occurrence, 0 = first),
 * field field (1-based, HL7 numbering: MSH-1 is the field separator and MSH-2
 * the encoding characters, both returned as received), repetition rep
 * (0-based), component comp and sub-component sub (both 1-based).  Returns ""
 * when the value is absent or empty, never NULL; the string belongs to m and
 * lives until hl7_msg_free().  HL7's explicit null ("") is returned as is.
 */
const char *hl7_get(const struct hl7_msg *m, const char *seg, int seg_index, int field, int rep,
                    int comp, int sub);

/* The number of segments with id seg in m. */
int hl7_count(const struct hl7_msg *m, const char *seg);

/*
 * The number of repetitions in a field: 0 when the segment or field is
 * absent or the field is empty, otherwise 1 + the repetition separators.
 */
int hl7_reps(const struct hl7_msg *m, const char *seg, int seg_index, int field);

/* The ADT trigger events carebridge handles. */
enum hl7_event {
	HL7_A01, /* admit */
	HL7_A02, /* transfer */
	HL7_A03, /* discharge */
	HL7_A08, /* update patient information */
	HL7_A11, /* cancel admit */
	HL7_A13, /* cancel discharge */
};

/* The trigger code of ev: "A01", "A02", ... */
const char *hl7_event_name(enum hl7_event ev);

/*
 * Find the event whose name is s ("A01" ...).  Returns ST_OK, or
 * ST_INVALID (with err) for an event carebridge does not handle.
 */
enum status hl7_event_parse(const char *s, enum hl7_event *out, struct err *err);

/* An HL7 DTM value; fields not sent are 0 (the fraction of a second is dropped). */
struct hl7_ts {
	int year, month, day;     /* always present */
	int hour, minute, second; /* 0 unless has_time */
	bool has_time;            /* at least the hour was sent */
	bool has_zone;            /* a +/-ZZZZ offset was sent */
	int zone_minutes;         /* offset east of UTC: +60 for +0100 */
};

/*
 * Parse an HL7 DTM "YYYYMMDD[HH[MM[SS[.S[S[S[S]]]]]]][+/-ZZZZ]" (a date is
 * required: carebridge has no use for a bare year or month).  Ranges are
 * checked, day of month with leap years; the offset must lie within
 * -1200..+1400.  Returns ST_OK, or ST_INVALID with err (no field set; the
 * message does not repeat the value).
 */
enum status hl7_ts_parse(const char *s, struct hl7_ts *out, struct err *err);

/* What carebridge reads from an ADT message; every string is decoded and NUL-terminated. */
struct hl7_adt {
	enum hl7_event event;         /* MSH-9.2 */
	char control_id[200];         /* MSH-10, never empty */
	char sending_app[228];        /* MSH-3.1 (HD namespace id) */
	char sending_facility[228];   /* MSH-4.1 */
	char receiving_app[228];      /* MSH-5.1 */
	char receiving_facility[228]; /* MSH-6.1 */
	char processing_id[8];        /* MSH-11.1: P, T, D */
	char version[16];             /* MSH-12.1: "2.5" */
	char message_type[32];        /* MSH-9 components joined with '^': "ADT^A01^ADT_A01" */
	char trigger[8];              /* MSH-9.2: "A01" */
	struct hl7_ts recorded;       /* EVN-2 */
	bool has_recorded;            /* EVN-2 was sent */
	struct hl7_ts occurred;       /* EVN-6 */
	bool has_occurred;            /* EVN-6 was sent */
	char nhs_number[16];      /* PID-3.1 of the first repetition of type NH, as sent, or "" */
	char mrn[64];             /* PID-3.1 of the first other repetition with an id, or "" */
	char family[128];         /* PID-5.1.1 of the legal name (PID-5.7 "L") or the first one */
	char given[128];          /* PID-5.2 of that name */
	char middle[128];         /* PID-5.3 of that name */
	struct hl7_ts birth_date; /* PID-7 */
	bool has_birth_date;      /* PID-7 was sent */
	char sex[8];              /* PID-8 */
	char patient_class[8];    /* PV1-2: I, E, O ... */
	char ward[64];            /* PV1-3.1 */
	char room[64];            /* PV1-3.2 */
	char bed[64];             /* PV1-3.3 */
	char facility[64];        /* PV1-3.4.1 */
	char prior_ward[64];      /* PV1-6.1 (transfers) */
	char prior_bed[64];       /* PV1-6.3 */
	char visit_number[64];    /* PV1-19.1 */
	char discharge_disposition[64];   /* PV1-36 */
	char discharged_to[128];          /* PV1-37.1.1 */
	struct hl7_ts admit_time;         /* PV1-44 */
	bool has_admit_time;              /* PV1-44 was sent */
	struct hl7_ts discharge_time;     /* PV1-45 (first repetition) */
	bool has_discharge_time;          /* PV1-45 was sent */
	struct hl7_ts expected_discharge; /* PV2-8, the expected discharge date */
	bool has_expected_discharge;      /* PV2-8 was sent and is a valid date (an optional
	                                     estimate: one that does not parse is ignored) */
};

/*
 * Fill out from an ADT message m.  MSH-9 must be ADT^<event> with an event
 * of enum hl7_event, MSH-10 must be present, PID must be present and PV1
 * too except for A08.  A value longer than its field in struct hl7_adt or a
 * timestamp that does not parse is an error naming the HL7 field (err->field
 * "PID-5"), never truncated.  An HL7 explicit null ("") counts as empty.
 *
 * Returns ST_OK, or ST_INVALID with err: the message is unsupported (field
 * "MSH-9") or malformed, and the caller answers AR.  Business checks (NHS
 * number check digit, known ward) are left to the caller, which answers AE.
 * out is unspecified after an error.
 */
enum status hl7_adt_from_msg(const struct hl7_msg *m, struct hl7_adt *out, struct err *err);

/*
 * A site-configured place of one value in a message (config hl7_pathway_field):
 * the first occurrence of segment seg, field field, first repetition,
 * component comp.
 */
struct hl7_field_ref {
	char seg[4]; /* segment id; "" = not configured */
	int field;   /* 1..HL7_MAX_FIELDS */
	int comp;    /* 1.., 1 when not given */
};

/*
 * Parse "SEG-F" or "SEG-F.C" ("ZCB-1", "PV2-45.2"): a segment id of 3 upper
 * case letters or digits, a field number 1..HL7_MAX_FIELDS and an optional
 * component 1..99, in decimal without leading zeros.  "" is valid and means
 * not configured (out->seg is "").  Returns ST_OK, or ST_INVALID with err.
 */
enum status hl7_field_ref_parse(const char *s, struct hl7_field_ref *out, struct err *err);

/*
 * The likely discharge pathway (0..3) sent at ref in m: *out is -1 when ref
 * is not configured or the value is absent, empty or HL7's explicit null.
 * Any other value than one digit 0-3 is ST_INVALID with err naming the field
 * ("ZCB-1"), for an AE: the value is not repeated in the message.
 */
enum status hl7_pathway_from_msg(const struct hl7_msg *m, const struct hl7_field_ref *ref, int *out,
                                 struct err *err);

/*
 * Build the acknowledgement of in (NULL when it could not be parsed) as a
 * new NUL-terminated string the caller frees: segments end with \r, no MLLP
 * framing.  It uses in's delimiters (else |^~\&), swaps MSH-3/4 and MSH-5/6,
 * sets MSH-7 to timestamp, MSH-9 to ACK^<trigger>^ACK (ACK alone when the
 * trigger is unknown), MSH-10 to control_id, copies MSH-11/12 (default P and
 * 2.5), then MSA|ack_code|<in MSH-10>|text.  For AE and AR an ERR segment
 * follows: ERR-3 is 200 (unsupported message type) or 201 (unsupported
 * event) when in's MSH-9 is not an ADT event carebridge handles, else 207
 * (application error); ERR-4 is E; ERR-8 carries text.  ack_code is "AA",
 * "AE" or "AR"; text may be NULL.  Every value written is HL7-escaped
 * (control characters as \Xhh\), so no input can break the ACK's structure.
 */
char *hl7_ack_build(const struct hl7_msg *in, const char *ack_code, const char *text,
                    const char *control_id, const char *timestamp);

#endif

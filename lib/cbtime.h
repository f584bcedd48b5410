/*
 * cbtime.h - instants, calendar dates and Europe/London local time.
 *
 * An instant is an int64_t count of Unix seconds (UTC); a calendar date is an
 * int32_t "day number", days since 1970-01-01.  This module owns the civil
 * calendar arithmetic (proleptic Gregorian, Howard Hinnant's days-from-civil
 * algorithm), RFC 3339 parsing and formatting, and the Europe/London rules
 * that decide where a local midnight falls.
 *
 * It must not read a clock, the environment or the system time-zone database:
 * no time(), localtime(), mktime(), tzset() or TZ.  Callers pass instants in.
 *
 * Europe/London is coded as the UK/EU summer-time rule in force since 1996:
 * GMT (UTC+0) in winter, BST (UTC+1) from 01:00 UTC on the last Sunday of
 * March to 01:00 UTC on the last Sunday of October.  The code applies this
 * rule to every year, including years before 1996 when the UK used other
 * rules; carebridge never deals with such dates.
 *
 * Years are limited to 0000..9999: parsers reject others, and functions that
 * take an arbitrary instant clamp it to that range (see CBTIME_MIN/MAX).
 */
#ifndef CB_CBTIME_H
#define CB_CBTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "status.h"

/* "2026-11-23T10:00:00+00:00" and its NUL; also fits "2026-11-23T10:00:00Z". */
#define TIME_FORMAT_LEN 26
/* "2026-11-23" and its NUL. */
#define DATE_FORMAT_LEN 11

/* Seconds in a calendar day of UTC (a London day has 23, 24 or 25 hours). */
#define CBTIME_DAY_SECONDS 86400

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the instants we handle. */
#define CBTIME_MIN INT64_C(-62167219200)
#define CBTIME_MAX INT64_C(253402300799)

/*
 * Parse an RFC 3339 / ISO 8601 date-time into *out (Unix seconds):
 * "YYYY-MM-DD" then "T", "t" or one space, "hh:mm" with optional ":ss" and an
 * optional fraction (".123", dropped: instants are whole seconds), then an
 * optional zone: "Z"/"z", "+hh:mm", "+hhmm" or "+hh" (or "-").  A date-time
 * without a zone is London wall time, converted as london_local_to_utc() does.
 * Impossible values (2026-02-30, month 13, hour 24, second 60) are rejected.
 * Returns ST_OK, or ST_INVALID with err naming field ("admitted_at is not a
 * valid date-time"); *out is left alone on failure.
 */
enum status time_parse(const char *s, int64_t *out, const char *field, struct err *err);

/* Write t as UTC, "2026-11-23T10:00:00Z", into out (NUL-terminated). */
void time_format(int64_t t, char out[TIME_FORMAT_LEN]);

/* Write t as London wall time with its offset, "2026-07-01T11:00:00+01:00". */
void time_format_local(int64_t t, char out[TIME_FORMAT_LEN]);

/*
 * Parse a strict "YYYY-MM-DD" calendar date into *day.  Returns ST_OK, or
 * ST_INVALID with err naming field ("discharge_ready_date is not a valid
 * date"); *day is left alone on failure.
 */
enum status date_parse(const char *s, int32_t *day, const char *field, struct err *err);

/* Write day as "YYYY-MM-DD" into out (NUL-terminated). */
void date_format(int32_t day, char out[DATE_FORMAT_LEN]);

/* True when y-m-d is a real date of the Gregorian calendar, year 0..9999. */
bool date_is_valid(int y, int m, int d);

/*
 * The day number of y-m-d.  m must be 1..12 (asserted); d may run past the
 * month's end or below 1, which counts on from the month's first day.
 */
int32_t date_from_ymd(int y, int m, int d);

/* Split a day number into year, month (1..12) and day of month (1..31). */
void date_to_ymd(int32_t day, int *y, int *m, int *d);

/* The day of the week of day: 0 = Sunday, 1 = Monday, ... 6 = Saturday. */
int date_weekday(int32_t day);

/* London's offset from UTC at instant utc, in seconds: 0 (GMT) or 3600 (BST). */
int london_offset(int64_t utc);

/* The London calendar date on which instant utc falls. */
int32_t london_date(int64_t utc);

/* The instant of London's 00:00 that starts day (never in a DST gap). */
int64_t london_midnight_start(int32_t day);

/*
 * The instant of London's midnight that ends day, i.e. 24:00 of day, which is
 * london_midnight_start(day + 1): 23:00 UTC on BST dates, 24:00 UTC on GMT
 * dates.  This is the delay-counting "snapshot" of day.
 */
int64_t london_snapshot(int32_t day);

/*
 * Convert London wall time y-mo-d h:mi:s to the instant *out.  Two choices:
 * - spring-forward gap (01:00-01:59:59 on the last Sunday of March does not
 *   exist): the time is moved forward by one hour, so 01:30 is read as 02:30
 *   BST = 01:30 UTC, as if the clock had not yet been put forward;
 * - fall-back overlap (01:00-01:59:59 on the last Sunday of October happens
 *   twice): the first occurrence, in BST, is chosen, so 01:30 is 00:30 UTC.
 * Returns ST_OK, or ST_INVALID when a field is out of range (not a real date,
 * hour > 23, minute > 59, second > 59, year outside 0..9999).
 */
enum status london_local_to_utc(int y, int mo, int d, int h, int mi, int s, int64_t *out);

#endif

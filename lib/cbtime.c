/*
 * cbtime.c - civil-calendar arithmetic, RFC 3339 text and Europe/London time.
 *
 * Pure code: no clock, no libc time zone functions (see cbtime.h for why and
 * for the London rule used).  Dates are converted with Howard Hinnant's
 * days_from_civil / civil_from_days algorithms, which are exact for the
 * proleptic Gregorian calendar and need no tables.
 */
#include "cbtime.h"

#include "xmalloc.h"

/* Hinnant's constants: days from 0000-03-01 to 1970-01-01, and per 400 years. */
#define DAYS_0000_03_01_TO_EPOCH 719468
#define DAYS_PER_ERA 146097

/* The first and last day numbers of years 0000..9999. */
#define DAY_MIN ((int32_t)(CBTIME_MIN / CBTIME_DAY_SECONDS))
#define DAY_MAX ((int32_t)(CBTIME_MAX / CBTIME_DAY_SECONDS))

#define HOUR_SECONDS 3600
#define BST_OFFSET HOUR_SECONDS

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int64_t clamp_instant(int64_t t)
{
	if (t < CBTIME_MIN)
		return CBTIME_MIN;
	if (t > CBTIME_MAX)
		return CBTIME_MAX;
	return t;
}

static int32_t clamp_day(int64_t day)
{
	if (day < DAY_MIN)
		return DAY_MIN;
	if (day > DAY_MAX)
		return DAY_MAX;
	return (int32_t)day;
}

static bool year_is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	ASSERT(m >= 1 && m <= 12);
	if (m == 2 && year_is_leap(y))
		return 29;
	return days[m - 1];
}

/* Hinnant's days_from_civil in 64 bits, so that no int32 input overflows. */
static int64_t days_from_civil(int64_t y, int m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * DAYS_PER_ERA + doe - DAYS_0000_03_01_TO_EPOCH;
}

bool date_is_valid(int y, int m, int d)
{
	if (y < 0 || y > 9999 || m < 1 || m > 12 || d < 1)
		return false;
	return d <= month_days(y, m);
}

int32_t date_from_ymd(int y, int m, int d)
{
	ASSERT(m >= 1 && m <= 12);
	return (int32_t)days_from_civil(y, m, d);
}

void date_to_ymd(int32_t day, int *y, int *m, int *d)
{
	int64_t z = (int64_t)day + DAYS_0000_03_01_TO_EPOCH;
	int64_t era = (z >= 0 ? z : z - (DAYS_PER_ERA - 1)) / DAYS_PER_ERA;
	int64_t doe = z - era * DAYS_PER_ERA;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int month = (int)(mp < 10 ? mp + 3 : mp - 9);

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = month;
	*y = (int)(yoe + era * 400 + (month <= 2));
}

int date_weekday(int32_t day)
{
	/* 1970-01-01 was a Thursday (4). */
	return (int)(((int64_t)day % 7 + 7 + 4) % 7);
}

/* The last Sunday of month m (1..11) of year y. */
static int32_t last_sunday(int y, int m)
{
	int32_t last = date_from_ymd(y, m + 1, 1) - 1;

	return last - date_weekday(last);
}

int london_offset(int64_t utc)
{
	int64_t t = clamp_instant(utc);
	int y, m, d;
	int64_t start, end;

	/* Transitions are at 01:00 UTC in March and October, far from New Year,
	 * so the UTC year is the year whose rule applies. */
	date_to_ymd((int32_t)floor_div(t, CBTIME_DAY_SECONDS), &y, &m, &d);
	start = (int64_t)last_sunday(y, 3) * CBTIME_DAY_SECONDS + HOUR_SECONDS;
	end = (int64_t)last_sunday(y, 10) * CBTIME_DAY_SECONDS + HOUR_SECONDS;
	return (t >= start && t < end) ? BST_OFFSET : 0;
}

int32_t london_date(int64_t utc)
{
	int64_t t = clamp_instant(utc);

	return clamp_day(floor_div(t + london_offset(t), CBTIME_DAY_SECONDS));
}

/*
 * Wall time (as seconds since the epoch, read as if it were UTC) to the
 * instant, with the gap and overlap choices documented in cbtime.h.
 */
static int64_t london_wall_to_utc(int64_t wall)
{
	/* BST first: in the overlap both readings are valid and BST comes first. */
	if (london_offset(wall - BST_OFFSET) == BST_OFFSET)
		return wall - BST_OFFSET;
	/* Either a valid GMT time or, if GMT is not in force at that instant
	 * either, a time in the spring gap: read it as GMT, which is the same as
	 * moving it forward an hour into BST. */
	return wall;
}

static int64_t midnight_start(int64_t day)
{
	return london_wall_to_utc(day * CBTIME_DAY_SECONDS);
}

int64_t london_midnight_start(int32_t day)
{
	return midnight_start(day);
}

int64_t london_snapshot(int32_t day)
{
	return midnight_start((int64_t)day + 1);
}

enum status london_local_to_utc(int y, int mo, int d, int h, int mi, int s, int64_t *out)
{
	if (!date_is_valid(y, mo, d))
		return ST_INVALID;
	if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59)
		return ST_INVALID;
	*out = london_wall_to_utc(days_from_civil(y, mo, d) * CBTIME_DAY_SECONDS +
	                          h * HOUR_SECONDS + mi * 60 + s);
	return ST_OK;
}

/* Read exactly n ASCII digits at s into *v. */
static bool digits_read(const char *s, int n, int *v)
{
	int acc = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		acc = acc * 10 + (s[i] - '0');
	}
	*v = acc;
	return true;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "YYYY-MM-DD" at s (not necessarily at the string's end). */
static bool ymd_read(const char *s, int *y, int *m, int *d)
{
	if (!digits_read(s, 4, y) || s[4] != '-' || !digits_read(s + 5, 2, m) || s[7] != '-' ||
	    !digits_read(s + 8, 2, d))
		return false;
	return date_is_valid(*y, *m, *d);
}

/*
 * The grammar of time_parse().  Returns false on any syntax or range error;
 * on success *out is the instant.
 */
static bool date_time_read(const char *s, int64_t *out)
{
	const char *p = s;
	int y, mo, d, h, mi, sec = 0, zh, zm = 0;
	int64_t wall, t;

	if (!ymd_read(p, &y, &mo, &d))
		return false;
	p += 10;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return false;
	p++;
	if (!digits_read(p, 2, &h) || p[2] != ':' || !digits_read(p + 3, 2, &mi))
		return false;
	p += 5;
	if (*p == ':') {
		if (!digits_read(p + 1, 2, &sec))
			return false;
		p += 3;
		if (*p == '.') {
			p++;
			if (!is_digit(*p))
				return false;
			while (is_digit(*p))
				p++;
		}
	}
	if (h > 23 || mi > 59 || sec > 59)
		return false;
	wall = days_from_civil(y, mo, d) * CBTIME_DAY_SECONDS + h * HOUR_SECONDS + mi * 60 + sec;

	if (*p == '\0') {
		/* No zone: London wall time. */
		*out = london_wall_to_utc(wall);
		return true;
	}
	if (*p == 'Z' || *p == 'z') {
		if (p[1] != '\0')
			return false;
		t = wall;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;

		if (!digits_read(p + 1, 2, &zh))
			return false;
		p += 3;
		if (*p == ':') {
			if (!digits_read(p + 1, 2, &zm))
				return false;
			p += 3;
		} else if (is_digit(*p)) {
			if (!digits_read(p, 2, &zm))
				return false;
			p += 2;
		}
		if (*p != '\0' || zh > 23 || zm > 59)
			return false;
		t = wall - sign * (zh * HOUR_SECONDS + zm * 60);
	} else {
		return false;
	}
	if (t < CBTIME_MIN || t > CBTIME_MAX)
		return false;
	*out = t;
	return true;
}

enum status time_parse(const char *s, int64_t *out, const char *field, struct err *err)
{
	const char *name = field != NULL ? field : "value";

	if (s == NULL || !date_time_read(s, out))
		return err_set(err, ST_INVALID, field, "%s is not a valid date-time", name);
	return ST_OK;
}

/*
 * Write v (0 <= v < 10^width) as width digits at p.  Written by hand rather
 * than with snprintf so that the compiler can see the buffers are big enough.
 */
static void digits_write(char *p, int v, int width)
{
	ASSERT(v >= 0);
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Write day (clamped to years 0000..9999) as "YYYY-MM-DD" at p, no NUL. */
static void ymd_write(char *p, int32_t day)
{
	int y, m, d;

	date_to_ymd(clamp_day(day), &y, &m, &d);
	digits_write(p, y, 4);
	p[4] = '-';
	digits_write(p + 5, m, 2);
	p[7] = '-';
	digits_write(p + 8, d, 2);
}

/* Write instant t, shifted by offset seconds, as "YYYY-MM-DDThh:mm:ss", no NUL. */
static void wall_write(char *p, int64_t t, int offset)
{
	int64_t wall = clamp_instant(t) + offset;
	int64_t day = floor_div(wall, CBTIME_DAY_SECONDS);
	int secs = (int)(wall - day * CBTIME_DAY_SECONDS);

	ymd_write(p, clamp_day(day));
	p[10] = 'T';
	digits_write(p + 11, secs / HOUR_SECONDS, 2);
	p[13] = ':';
	digits_write(p + 14, secs / 60 % 60, 2);
	p[16] = ':';
	digits_write(p + 17, secs % 60, 2);
}

void time_format(int64_t t, char out[TIME_FORMAT_LEN])
{
	wall_write(out, t, 0);
	out[19] = 'Z';
	out[20] = '\0';
}

void time_format_local(int64_t t, char out[TIME_FORMAT_LEN])
{
	int offset = london_offset(t);

	wall_write(out, t, offset);
	out[19] = '+';
	digits_write(out + 20, offset / HOUR_SECONDS, 2);
	out[22] = ':';
	out[23] = '0';
	out[24] = '0';
	out[25] = '\0';
}

enum status date_parse(const char *s, int32_t *day, const char *field, struct err *err)
{
	const char *name = field != NULL ? field : "value";
	int y, m, d;

	if (s == NULL || !ymd_read(s, &y, &m, &d) || s[10] != '\0')
		return err_set(err, ST_INVALID, field, "%s is not a valid date", name);
	*day = date_from_ymd(y, m, d);
	return ST_OK;
}

void date_format(int32_t day, char out[DATE_FORMAT_LEN])
{
	ymd_write(out, day);
	out[10] = '\0';
}

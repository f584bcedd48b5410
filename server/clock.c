/*
 * clock.c - carebridge's notion of "now": the system clock, or in tests a
 * clock read from test_clock_file (so midnights, DST changes and overdue
 * timers can be tested without waiting).  Stored instants are UTC seconds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app.h"
#include "cbtime.h"
#include "clock.h"
#include "log.h"

int64_t app_now(const struct app *app)
{
	return (int64_t)time(NULL) + app->clock_offset;
}

/*
 * The test clock runs on from the time written in the file, like a real
 * clock: the offset is set again only when the file is written again (a new
 * inode or modification time), so "now" never stands still or steps back
 * between two writes.
 */
void app_clock_refresh(struct app *app)
{
	const char *path = app->cfg->test_clock_file;
	char buf[64], stamp[sizeof app->clock_stamp];
	struct stat st;
	int64_t t;
	FILE *fp;
	size_t n;

	if (path == NULL || path[0] == '\0' || stat(path, &st) != 0)
		return;
	snprintf(stamp, sizeof stamp, "%ju:%ju:%jd.%09ld", (uintmax_t)st.st_dev,
	         (uintmax_t)st.st_ino, (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	if (strcmp(stamp, app->clock_stamp) == 0)
		return;
	fp = fopen(path, "r");
	if (fp == NULL)
		return;
	n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (time_parse(buf, &t, "test_clock", NULL) != ST_OK) {
		log_warning("clock", "test clock file holds no valid time");
		return;
	}
	app->clock_offset = t - (int64_t)time(NULL);
	memcpy(app->clock_stamp, stamp, sizeof stamp);
}

static struct timespec mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

int64_t mono_s(void)
{
	return mono_now().tv_sec;
}

int64_t mono_ms(void)
{
	struct timespec ts = mono_now();

	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mono_us(void)
{
	struct timespec ts = mono_now();

	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

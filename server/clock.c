/*
 * clock.c - carebridge's notion of "now": the system clock, or in tests a
 * clock read from test_clock_file (so midnights, DST changes and overdue
 * timers can be tested without waiting).  Stored instants are UTC seconds.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "cbtime.h"
#include "clock.h"
#include "log.h"

int64_t app_now(const struct app *app)
{
	return (int64_t)time(NULL) + app->clock_offset;
}

void app_clock_refresh(struct app *app)
{
	const char *path = app->cfg->test_clock_file;
	char buf[64];
	int64_t t;
	FILE *fp;
	size_t n;

	if (path == NULL || path[0] == '\0')
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

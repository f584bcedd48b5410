/*
 * log.c - the daemon's log lines (see log.h for the format and the rules on
 * what may be logged).  Each line is formatted into one buffer and written with
 * a single write(2), so lines from several processes do not interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_level = LOG_LOG;

static const char *const log_names[] = {"FATAL", "ERROR", "WARNING", "LOG", "DEBUG"};

bool log_set_level_name(const char *name)
{
	static const char *const lower[] = {"fatal", "error", "warning", "log", "debug"};

	for (int i = 0; i <= LOG_DEBUG; i++) {
		if (strcmp(name, lower[i]) == 0) {
			log_level = (enum log_level)i;
			return true;
		}
	}
	return false;
}

bool log_enabled(enum log_level level)
{
	return level <= log_level;
}

void log_write(enum log_level level, const char *module, const char *fmt, ...)
{
	char line[2048];
	struct timeval tv;
	struct tm tm;
	size_t n;
	int r;
	va_list ap;

	if (!log_enabled(level))
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
	r = snprintf(line + n, sizeof line - n,
	             ".%03ld UTC [%ld] %s %s: ", (long)(tv.tv_usec / 1000), (long)getpid(),
	             log_names[level], module);
	if (r > 0)
		n += (size_t)r;
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof line - n, fmt, ap);
	va_end(ap);
	if (r > 0)
		n += (size_t)r < sizeof line - n ? (size_t)r : sizeof line - n - 1;
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\0'))
		n--;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nowhere left to report it. */
	}
}

/*
 * log.h - one line per event on stderr:
 *
 *   2026-11-22 16:30:00.123 UTC [4711] LOG http: request done method=POST ...
 *
 * Log route patterns, our UUIDs, counts and durations; never request bodies,
 * query parameters, NHS numbers, names or other free text a user typed.
 */
#ifndef CB_LOG_H
#define CB_LOG_H

#include <stdbool.h>

enum log_level { LOG_FATAL, LOG_ERROR, LOG_WARNING, LOG_LOG, LOG_DEBUG };

/* Set the least severe level written ("debug" ... "fatal"); false if unknown. */
bool log_set_level_name(const char *name);

/* True if messages at level are written (test before building costly ones). */
bool log_enabled(enum log_level level);

/* Write one line at level with the module name; a trailing newline in fmt is dropped. */
void log_write(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_fatal(mod, ...) log_write(LOG_FATAL, mod, __VA_ARGS__)
#define log_error(mod, ...) log_write(LOG_ERROR, mod, __VA_ARGS__)
#define log_warning(mod, ...) log_write(LOG_WARNING, mod, __VA_ARGS__)
#define log_info(mod, ...) log_write(LOG_LOG, mod, __VA_ARGS__)
#define log_debug(mod, ...)                                                                        \
	do {                                                                                       \
		if (log_enabled(LOG_DEBUG))                                                        \
			log_write(LOG_DEBUG, mod, __VA_ARGS__);                                    \
	} while (0)

#endif

/*
 * log.h - one line per event on stderr, as text (log_format = text):
 *
 *   2026-11-22 16:30:00.123 UTC [4711] [<request id>] LOG http: request done method=POST ...
 *
 * or as one JSON object per line (log_format = json):
 *
 *   {"ts":"2026-11-22T16:30:00.123Z","level":"LOG","module":"http","pid":4711,
 *    "request_id":"<request id>","msg":"request done","method":"POST",...}
 *
 * where the trailing key=value words of the message become fields of their
 * own (values as strings) and msg keeps the text before them.  Every line
 * carries the id of the request it was written for, "-" outside any request:
 * the HTTP layer sets it around each handler (log_request_begin/end) and db.c
 * carries it across each query to the callback that resumes the request.
 * When stderr is the systemd journal (JOURNAL_STREAM), each line starts with
 * its syslog priority ("<3>") so journald files it at the right level.
 *
 * Log route patterns, our UUIDs, counts and durations; never request bodies,
 * query parameters, NHS numbers, names or other free text a user typed.
 */
#ifndef CB_LOG_H
#define CB_LOG_H

#include <stdbool.h>

enum log_level { LOG_FATAL, LOG_ERROR, LOG_WARNING, LOG_LOG, LOG_DEBUG };

/* A request id's size with its NUL: at most 64 characters of [A-Za-z0-9._-]. */
#define LOG_REQUEST_ID_SIZE 65

/* Set the least severe level written ("debug" ... "fatal"); false if unknown. */
bool log_set_level_name(const char *name);

/* Set the line format, "text" or "json"; false if unknown. */
bool log_set_format_name(const char *name);

/* True if messages at level are written (test before building costly ones). */
bool log_enabled(enum log_level level);

/*
 * Make id (copied; NULL or "" for none) the request id of the lines written
 * until log_request_end(prev), saving the one in force into prev so that
 * begin/end pairs nest.
 */
void log_request_begin(const char *id, char prev[LOG_REQUEST_ID_SIZE]);
void log_request_end(const char prev[LOG_REQUEST_ID_SIZE]);

/* The request id lines are written for now, "" outside any request (borrowed). */
const char *log_request_id(void);

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

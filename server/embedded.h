/*
 * embedded.h - files compiled into the binary by scripts/embed: the SQL
 * migrations (migrations/NNNN_name.sql) and the web pages (server/static/).
 */
#ifndef CB_EMBEDDED_H
#define CB_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *path;          /* as given to scripts/embed, e.g. "migrations/0001_init.sql" */
	const unsigned char *data; /* the bytes, followed by a NUL not counted in len */
	size_t len;                /* the file's length in bytes */
};

/* Ends with an entry whose path is NULL. */
extern const struct embedded_file embedded_files[];

#endif

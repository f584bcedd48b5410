/*
 * xmalloc.h - allocation that never returns NULL, and ASSERT.
 *
 * Running out of memory is not an expected failure for carebridge: these
 * functions print one line to stderr and abort, so callers never check for
 * NULL.  ASSERT() is for broken invariants (bugs), never for bad input.
 */
#ifndef CB_XMALLOC_H
#define CB_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A new string formatted as by printf; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print file:line and the expression to stderr, then abort. */
void assert_fail(const char *file, int line, const char *expr) __attribute__((noreturn));

#define ASSERT(e) ((e) ? (void)0 : assert_fail(__FILE__, __LINE__, #e))

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

#endif

/*
 * list.h - what glibc's <sys/queue.h> lacks: the _SAFE iterators, which allow
 * the current element to be removed (and freed) while walking the list.
 */
#ifndef CB_LIST_H
#define CB_LIST_H

#include <sys/queue.h>

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)                                                 \
	for ((var) = TAILQ_FIRST((head)); (var) && ((tvar) = TAILQ_NEXT((var), field), 1);         \
	     (var) = (tvar))
#endif

#ifndef LIST_FOREACH_SAFE
#define LIST_FOREACH_SAFE(var, head, field, tvar)                                                  \
	for ((var) = LIST_FIRST((head)); (var) && ((tvar) = LIST_NEXT((var), field), 1);           \
	     (var) = (tvar))
#endif

#endif

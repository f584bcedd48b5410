/*
 * status.c - filling struct err and naming statuses.
 */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum status err_set(struct err *err, enum status st, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return st;
	snprintf(err->field, sizeof err->field, "%s", field != NULL ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return st;
}

void err_clear(struct err *err)
{
	if (err == NULL)
		return;
	err->field[0] = '\0';
	err->message[0] = '\0';
}

const char *status_code(enum status st)
{
	switch (st) {
	case ST_OK:
		return "ok";
	case ST_INVALID:
		return "invalid";
	case ST_UNAUTHORIZED:
		return "unauthorized";
	case ST_FORBIDDEN:
		return "forbidden";
	case ST_NOT_FOUND:
		return "not_found";
	case ST_CONFLICT:
		return "conflict";
	case ST_PRECONDITION:
		return "precondition_failed";
	case ST_TOO_LARGE:
		return "too_large";
	case ST_LOCKED:
		return "locked";
	case ST_TOO_MANY:
		return "too_many_requests";
	case ST_PRECONDITION_REQUIRED:
		return "precondition_required";
	case ST_UNAVAILABLE:
		return "unavailable";
	case ST_INTERNAL:
		break;
	}
	return "internal";
}

/*
 * csrf.c - the cross-site request forgery rule (see csrf.h).
 *
 * Owns: the decision only.  Must not: look at cookies or tokens (the caller
 * applies it to cookie-authenticated requests alone) or read configuration.
 */
#include "csrf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Whether t's media type (before any ';' parameter) is application/json. */
static bool is_json_type(const char *t)
{
	static const char json[] = "application/json";
	size_t n = sizeof json - 1;

	while (*t == ' ' || *t == '\t')
		t++;
	if (strncasecmp(t, json, n) != 0)
		return false;
	t += n;
	while (*t == ' ' || *t == '\t')
		t++;
	return *t == '\0' || *t == ';';
}

enum status csrf_check(const struct csrf_request *q, const char *public_origin, struct err *err)
{
	bool same_site;

	if (strcmp(q->method, "GET") == 0 || strcmp(q->method, "HEAD") == 0)
		return ST_OK;
	same_site = (q->origin != NULL && strcasecmp(q->origin, public_origin) == 0) ||
	            (q->fetch_site != NULL && strcasecmp(q->fetch_site, "same-origin") == 0);
	if (!same_site)
		return err_set(err, ST_FORBIDDEN, "Origin",
		               "a change signed in by the session cookie needs an Origin header of "
		               "\"%.100s\" (or Sec-Fetch-Site: same-origin)",
		               public_origin);
	if (q->has_body && (q->content_type == NULL || !is_json_type(q->content_type)))
		return err_set(err, ST_FORBIDDEN, "Content-Type",
		               "a change signed in by the session cookie must send Content-Type "
		               "application/json");
	return ST_OK;
}

bool csrf_origin_is_valid(const char *s)
{
	const char *host, *end;

	if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else
		return false;
	if (*host == '[') {
		end = strchr(host, ']');
		if (end == NULL || end == host + 1)
			return false;
		for (const char *p = host + 1; p < end; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				return false;
		end++;
	} else {
		end = host;
		while (isalnum((unsigned char)*end) || *end == '-' || *end == '.')
			end++;
		if (end == host)
			return false;
	}
	if (*end == ':') {
		char *stop;
		long port;

		if (!isdigit((unsigned char)end[1]))
			return false;
		port = strtol(end + 1, &stop, 10);
		if (port < 1 || port > 65535)
			return false;
		end = stop;
	}
	return *end == '\0';
}

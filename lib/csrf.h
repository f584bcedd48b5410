/*
 * csrf.h - the cross-site request forgery rule for requests a browser signs
 * with the session cookie.
 *
 * A page of another site can make a browser send a request carrying our
 * session cookie (a form post, an image, a fetch in no-cors mode), but it
 * cannot make the browser claim our origin, and it cannot send a JSON
 * content type without a CORS preflight we never grant.  So a state change
 * authenticated by the cookie must say where it comes from (Origin equal to
 * the public origin, or Sec-Fetch-Site: same-origin) and, with a body, that
 * the body is JSON.  Bearer tokens are never sent by a browser on its own and
 * need none of this.  Pure: the caller passes the headers and the origin.
 */
#ifndef CB_CSRF_H
#define CB_CSRF_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

/* What the rule looks at in one request (every string borrowed, NULL when absent). */
struct csrf_request {
	const char *method;       /* "GET", "POST", ... */
	const char *origin;       /* the Origin header */
	const char *fetch_site;   /* the Sec-Fetch-Site header */
	const char *content_type; /* the Content-Type header */
	bool has_body;            /* the request carries a body (length > 0) */
};

/*
 * Whether a request authenticated by the session cookie may go on: GET and
 * HEAD always; anything else needs Origin equal to public_origin (scheme,
 * host and port, compared without case) or Sec-Fetch-Site: same-origin, and,
 * when it has a body, Content-Type application/json (parameters such as
 * charset allowed).  ST_FORBIDDEN naming the header at fault otherwise.
 */
enum status csrf_check(const struct csrf_request *q, const char *public_origin, struct err *err);

/*
 * Whether s is an origin as a browser sends it: "http://" or "https://", a
 * host (name, IPv4 address or [IPv6] address) and an optional port, nothing
 * after (no path, no trailing slash).
 */
bool csrf_origin_is_valid(const char *s);

#endif

/*
 * signin.h - the rules that slow down password guessing (pure, I/O-free).
 *
 * Three pieces, each handed its inputs (the time included) by server/:
 *  - the per-account policy: after a few failed sign-ins each new attempt
 *    waits longer (doubling), and after more the account (or the name, known
 *    to carebridge or not) is locked until an administrator unlocks it;
 *  - the client address a request is counted against: the socket peer, or
 *    the client named in X-Forwarded-For when the peer is a trusted proxy;
 *  - a per-address limiter (a token bucket per address) whose state this
 *    module owns and bounds.
 */
#ifndef CB_SIGNIN_H
#define CB_SIGNIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The per-account thresholds, from the configuration. */
struct signin_policy {
	int backoff_after;       /* failures allowed before back-off starts */
	int64_t backoff_base_ms; /* the first wait; doubles with each further failure */
	int64_t backoff_max_ms;  /* the longest wait */
	int lock_after;          /* failures that lock the name; 0 = never */
	int64_t forget_ms;       /* unlocked failures are forgotten after this long quiet */
};

/* What the database holds about a name's failed sign-ins. */
struct signin_state {
	int failures;          /* failed (or begun) attempts counted, 0 if none */
	bool locked;           /* locked until an administrator unlocks it */
	int64_t since_last_ms; /* since the last counted attempt; ignored when failures is 0 */
};

enum signin_verdict {
	SIGNIN_TRY,    /* check the password */
	SIGNIN_WAIT,   /* too soon after the last failure: *wait_ms to go */
	SIGNIN_LOCKED, /* refused until an administrator unlocks the name */
};

/*
 * Whether an attempt on a name in state s may go ahead.  *count gets the
 * failures to count once this attempt has begun (forgotten ones dropped),
 * *wait_ms the time still to wait for SIGNIN_WAIT (else 0).
 */
enum signin_verdict signin_decide(const struct signin_policy *p, const struct signin_state *s,
                                  int *count, int64_t *wait_ms);

/* The wait imposed after failures counted failures (0 below backoff_after). */
int64_t signin_backoff_ms(const struct signin_policy *p, int failures);

/* Whether an attempt that failed as number count locks the name. */
bool signin_locks(const struct signin_policy *p, int count);

#define SIGNIN_ADDR_SIZE 64 /* an address key: IPv4 dotted quad or an IPv6 /64 */

/*
 * The key a request is counted under: the socket peer's address, unless the
 * peer is one of trusted (a comma-separated list of IP addresses and networks), in which
 * case X-Forwarded-For (xff, may be NULL) is read from the right, skipping
 * trusted proxies, and the first other address is the client.  A malformed
 * entry stops the walk: the last trusted hop is then the client.  IPv4-mapped
 * IPv6 addresses become IPv4; other IPv6 addresses are cut to their /64 (one
 * host usually holds a whole /64).  Returns false (out = "unknown") when the
 * peer address is not an IP address.
 */
bool signin_client_address(const char *peer, const char *xff, const char *trusted,
                           char out[SIGNIN_ADDR_SIZE]);

/* Whether s is empty or a comma-separated list of IP addresses and networks ("10.0.0.0/8"). */
bool signin_address_list_is_valid(const char *s);

/* Whether address text peer is in trusted (addresses and networks, as above). */
bool signin_peer_is_trusted(const char *peer, const char *trusted);

#define SIGNIN_REQUEST_ID_MAX 64 /* characters of a request id a trusted proxy may send */

/*
 * Whether s may be used as a request id taken from a proxy's X-Request-Id: 1 to
 * SIGNIN_REQUEST_ID_MAX characters of [A-Za-z0-9._-] (safe in a log line and a
 * header).
 */
bool signin_request_id_is_valid(const char *s);

struct signin_limiter;

#define SIGNIN_LIMITER_KEYS 100000 /* addresses a serve process remembers at most */

/* A limiter remembering at most max_keys addresses at once. */
struct signin_limiter *signin_limiter_new(size_t max_keys);
void signin_limiter_free(struct signin_limiter *l);

/*
 * Take one attempt from key's bucket (limit attempts, refilled evenly over
 * window_ms) at monotonic time now_ms.  true if there was one; false and
 * *retry_ms (at least 1) until there will be.  When max_keys addresses are
 * already remembered and none can be forgotten yet, a new key is refused
 * (fail closed) with a retry of one second.
 */
bool signin_limiter_take(struct signin_limiter *l, const char *key, int64_t now_ms, int limit,
                         int64_t window_ms, int64_t *retry_ms);

/* Give back an attempt taken from key (a sign-in that succeeded counts for nothing). */
void signin_limiter_give_back(struct signin_limiter *l, const char *key, int limit);

/* Addresses remembered now (for tests and metrics). */
size_t signin_limiter_size(const struct signin_limiter *l);

#endif

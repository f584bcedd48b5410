/*
 * signin.c - back-off, lock-out, client address and per-address limit rules
 * for signing in (see signin.h).
 *
 * Owns: the limiter's table (a chained hash table of token buckets, swept of
 * full buckets at most once a second, since a full bucket is the same as none).
 * Must not: read the clock, log or touch the network; callers pass the time.
 */
#include "signin.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

int64_t signin_backoff_ms(const struct signin_policy *p, int failures)
{
	int64_t wait = p->backoff_base_ms;

	if (failures < p->backoff_after || p->backoff_base_ms <= 0)
		return 0;
	for (int i = p->backoff_after; i < failures && wait < p->backoff_max_ms; i++)
		wait *= 2;
	return wait < p->backoff_max_ms ? wait : p->backoff_max_ms;
}

bool signin_locks(const struct signin_policy *p, int count)
{
	return p->lock_after > 0 && count >= p->lock_after;
}

enum signin_verdict signin_decide(const struct signin_policy *p, const struct signin_state *s,
                                  int *count, int64_t *wait_ms)
{
	int failures = s->failures;
	int64_t wait;

	*wait_ms = 0;
	if (s->locked) {
		*count = failures;
		return SIGNIN_LOCKED;
	}
	/* an unlocked count goes stale: a nurse's typo last month is not held against her */
	if (failures > 0 && p->forget_ms > 0 && s->since_last_ms >= p->forget_ms)
		failures = 0;
	*count = failures + 1;
	/* the attempt that would lock is still running (begun attempts count at once) */
	if (signin_locks(p, failures))
		return SIGNIN_LOCKED;
	wait = signin_backoff_ms(p, failures);
	if (failures > 0 && wait > s->since_last_ms) {
		*wait_ms = wait - (s->since_last_ms > 0 ? s->since_last_ms : 0);
		*count = failures;
		return SIGNIN_WAIT;
	}
	return SIGNIN_TRY;
}

/* Trim spaces at both ends of s in place; returns the start. */
static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

/* The canonical key of address text s (see signin_client_address); false if not an address. */
static bool address_key(const char *s, char out[SIGNIN_ADDR_SIZE])
{
	unsigned char a[16];
	char text[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET, s, a) == 1)
		return inet_ntop(AF_INET, a, out, SIGNIN_ADDR_SIZE) != NULL;
	if (inet_pton(AF_INET6, s, a) != 1)
		return false;
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
		return inet_ntop(AF_INET, a + 12, out, SIGNIN_ADDR_SIZE) != NULL;
	memset(a + 8, 0, 8);
	if (inet_ntop(AF_INET6, a, text, sizeof text) == NULL)
		return false;
	snprintf(out, SIGNIN_ADDR_SIZE, "%s/64", text);
	return true;
}

/* Address text s (an IPv4 one as IPv4-mapped IPv6) into a[16]; false if not an address. */
static bool address_bytes(const char *s, unsigned char a[16], bool *v4)
{
	unsigned char b[4];

	*v4 = inet_pton(AF_INET, s, b) == 1;
	if (*v4) {
		memcpy(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
		memcpy(a + 12, b, 4);
		return true;
	}
	return inet_pton(AF_INET6, s, a) == 1;
}

/*
 * Network "address/bits" into a[16] and its prefix length counted on the
 * IPv6 form (an IPv4 /8 is a /104); false if malformed.
 */
static bool cidr_parse(const char *s, unsigned char a[16], int *bits)
{
	char text[INET6_ADDRSTRLEN + 8], *slash, *end;
	bool v4;
	long n;

	if (strlen(s) >= sizeof text)
		return false;
	snprintf(text, sizeof text, "%s", s);
	slash = strchr(text, '/');
	if (slash == NULL || slash[1] == '\0')
		return false;
	*slash = '\0';
	n = strtol(slash + 1, &end, 10);
	if (*end != '\0' || n < 0 || !address_bytes(text, a, &v4) || n > (v4 ? 32 : 128))
		return false;
	*bits = (int)n + (v4 ? 96 : 0);
	return true;
}

/* Whether the first bits bits of a and b are equal. */
static bool prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)whole) != 0)
		return false;
	return rest == 0 || ((a[whole] ^ b[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/*
 * Whether address key (see address_key) is item: the same address, or inside
 * the network item names.  An IPv6 key keeps only its /64, so a network
 * longer than /64 matches as if it were that /64.
 */
static bool item_matches(const char *item, const char *key)
{
	char k[SIGNIN_ADDR_SIZE], *slash;
	unsigned char net[16], addr[16];
	int bits;
	bool v4;

	if (strchr(item, '/') == NULL)
		return address_key(item, k) && strcmp(k, key) == 0;
	if (!cidr_parse(item, net, &bits))
		return false;
	snprintf(k, sizeof k, "%s", key);
	slash = strchr(k, '/');
	if (slash != NULL)
		*slash = '\0';
	if (!address_bytes(k, addr, &v4))
		return false;
	if (slash != NULL && bits > 64)
		bits = 64;
	return prefix_equal(net, addr, bits);
}

/* Whether address s (already a key) is in the trusted list. */
static bool is_trusted(const char *key, const char *trusted)
{
	char *copy = xstrdup(trusted), *save = NULL;
	bool found = false;

	for (char *item = strtok_r(copy, ",", &save); item != NULL && !found;
	     item = strtok_r(NULL, ",", &save))
		found = item_matches(trim(item), key);
	free(copy);
	return found;
}

bool signin_peer_is_trusted(const char *peer, const char *trusted)
{
	char key[SIGNIN_ADDR_SIZE];

	if (peer == NULL || trusted == NULL || trusted[0] == '\0' || !address_key(peer, key))
		return false;
	return is_trusted(key, trusted);
}

bool signin_request_id_is_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n] != '\0'; n++) {
		char ch = s[n];

		if (n >= SIGNIN_REQUEST_ID_MAX)
			return false;
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return n > 0;
}

bool signin_address_list_is_valid(const char *s)
{
	char *copy = xstrdup(s), *save = NULL;
	char k[SIGNIN_ADDR_SIZE];
	bool ok = true;

	for (char *item = strtok_r(copy, ",", &save); item != NULL && ok;
	     item = strtok_r(NULL, ",", &save)) {
		unsigned char net[16];
		int bits;

		item = trim(item);
		ok =
		    strchr(item, '/') != NULL ? cidr_parse(item, net, &bits) : address_key(item, k);
	}
	free(copy);
	return ok;
}

bool signin_client_address(const char *peer, const char *xff, const char *trusted,
                           char out[SIGNIN_ADDR_SIZE])
{
	char *copy, *end;

	if (peer == NULL || !address_key(peer, out)) {
		snprintf(out, SIGNIN_ADDR_SIZE, "unknown");
		return false;
	}
	if (xff == NULL || trusted == NULL || trusted[0] == '\0' || !is_trusted(out, trusted))
		return true;
	/* each proxy appends the address it heard from: read from the right */
	copy = xstrdup(xff);
	end = copy + strlen(copy);
	for (;;) {
		char *comma, *item, k[SIGNIN_ADDR_SIZE];

		*end = '\0';
		comma = strrchr(copy, ',');
		item = trim(comma != NULL ? comma + 1 : copy);
		if (!address_key(item, k))
			break; /* forged or garbled: trust no further than the last proxy */
		snprintf(out, SIGNIN_ADDR_SIZE, "%s", k);
		if (!is_trusted(k, trusted) || comma == NULL)
			break;
		end = comma;
	}
	free(copy);
	return true;
}

/* ---- the per-address limiter ------------------------------------------------ */

#define LIMITER_BUCKETS 4096
#define MILLI 1000 /* tokens are kept in thousandths of an attempt */

struct limiter_entry {
	struct limiter_entry *next; /* in its hash chain */
	char key[SIGNIN_ADDR_SIZE]; /* the address */
	int64_t milli;              /* attempts left, in thousandths */
	int64_t last_ms;            /* when milli was last brought up to date */
};

struct signin_limiter {
	struct limiter_entry *buckets[LIMITER_BUCKETS]; /* owned chains */
	size_t n, max;                                  /* entries now, at most */
	int64_t swept_ms;                               /* last sweep */
};

struct signin_limiter *signin_limiter_new(size_t max_keys)
{
	struct signin_limiter *l = xcalloc(1, sizeof *l);

	l->max = max_keys;
	l->swept_ms = 0;
	return l;
}

void signin_limiter_free(struct signin_limiter *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < LIMITER_BUCKETS; i++) {
		struct limiter_entry *e = l->buckets[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(l);
}

size_t signin_limiter_size(const struct signin_limiter *l)
{
	return l->n;
}

static uint32_t key_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % LIMITER_BUCKETS;
}

/* Bring e's bucket up to now. */
static void refill(struct limiter_entry *e, int64_t now_ms, int limit, int64_t window_ms)
{
	int64_t cap = (int64_t)limit * MILLI, dt = now_ms - e->last_ms;

	if (dt >= window_ms) {
		e->milli = cap;
		e->last_ms = now_ms;
	} else if (dt > 0) {
		int64_t add = dt * cap / window_ms;

		/* only the time turned into thousandths is used up: the rest carries */
		e->milli += add;
		e->last_ms += add * window_ms / cap;
	}
	if (e->milli > cap)
		e->milli = cap;
}

/* Forget every full bucket (the same as no bucket at all). */
static void sweep(struct signin_limiter *l, int64_t now_ms, int limit, int64_t window_ms)
{
	for (size_t i = 0; i < LIMITER_BUCKETS; i++) {
		struct limiter_entry **pp = &l->buckets[i];

		while (*pp != NULL) {
			struct limiter_entry *e = *pp;

			refill(e, now_ms, limit, window_ms);
			if (e->milli >= (int64_t)limit * MILLI) {
				*pp = e->next;
				free(e);
				l->n--;
			} else {
				pp = &e->next;
			}
		}
	}
	l->swept_ms = now_ms;
}

static struct limiter_entry *find(struct signin_limiter *l, const char *key)
{
	for (struct limiter_entry *e = l->buckets[key_hash(key)]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

bool signin_limiter_take(struct signin_limiter *l, const char *key, int64_t now_ms, int limit,
                         int64_t window_ms, int64_t *retry_ms)
{
	struct limiter_entry *e;

	if (limit < 1)
		limit = 1;
	if (window_ms < 1)
		window_ms = 1;
	if (now_ms - l->swept_ms >= 1000)
		sweep(l, now_ms, limit, window_ms);
	e = find(l, key);
	if (e == NULL) {
		uint32_t h = key_hash(key);

		if (l->n >= l->max)
			sweep(l, now_ms, limit, window_ms);
		if (l->n >= l->max) {
			*retry_ms = 1000;
			return false;
		}
		e = xcalloc(1, sizeof *e);
		snprintf(e->key, sizeof e->key, "%s", key);
		e->milli = (int64_t)limit * MILLI;
		e->last_ms = now_ms;
		e->next = l->buckets[h];
		l->buckets[h] = e;
		l->n++;
	}
	refill(e, now_ms, limit, window_ms);
	if (e->milli >= MILLI) {
		e->milli -= MILLI;
		return true;
	}
	/* time for the missing thousandths to come back, rounded up */
	*retry_ms = ((MILLI - e->milli) * window_ms + (int64_t)limit * MILLI - 1) /
	            ((int64_t)limit * MILLI);
	if (*retry_ms < 1)
		*retry_ms = 1;
	return false;
}

void signin_limiter_give_back(struct signin_limiter *l, const char *key, int limit)
{
	struct limiter_entry *e = find(l, key);

	if (e == NULL)
		return;
	e->milli += MILLI;
	if (e->milli > (int64_t)limit * MILLI)
		e->milli = (int64_t)limit * MILLI;
}

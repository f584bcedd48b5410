/*
 * signin_test.c - back-off, lock-out, client address and per-address limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "signin.h"

#define SEC 1000
#define MIN (60 * SEC)

static const struct signin_policy policy = {
    .backoff_after = 5,
    .backoff_base_ms = 1 * SEC,
    .backoff_max_ms = 15 * MIN,
    .lock_after = 10,
    .forget_ms = 24 * 60 * MIN,
};

struct decide_case {
	int failures;             /* counted so far */
	bool locked;              /* locked by an earlier failure */
	int64_t since_ms;         /* since the last one */
	enum signin_verdict want; /* verdict */
	int count;                /* failures once the attempt begins (or as they stay) */
	int64_t wait_ms;          /* for SIGNIN_WAIT */
};

static const struct decide_case decide_cases[] = {
    {0, false, 0, SIGNIN_TRY, 1, 0},
    {4, false, 0, SIGNIN_TRY, 5, 0},              /* the free attempts need no wait */
    {5, false, 0, SIGNIN_WAIT, 5, 1 * SEC},       /* the sixth waits 1 s after the fifth */
    {5, false, 400, SIGNIN_WAIT, 5, 600},         /* less what has passed */
    {5, false, 1 * SEC, SIGNIN_TRY, 6, 0},        /* and then may go */
    {6, false, 1 * SEC, SIGNIN_WAIT, 6, 1 * SEC}, /* doubling: 2 s */
    {9, false, 16 * SEC, SIGNIN_TRY, 10, 0},      /* 16 s after the ninth, the tenth may go */
    {10, false, 60 * MIN, SIGNIN_LOCKED, 11, 0},  /* the tenth is running: locked meanwhile */
    {10, true, 0, SIGNIN_LOCKED, 10, 0},
    {3, true, 48 * 60 * MIN, SIGNIN_LOCKED, 3, 0}, /* a lock is never forgotten */
    {9, false, 24 * 60 * MIN, SIGNIN_TRY, 1, 0},   /* an old count is */
};

static void test_decide(void **state)
{
	for (size_t i = 0; i < sizeof decide_cases / sizeof decide_cases[0]; i++) {
		const struct decide_case *c = &decide_cases[i];
		struct signin_state s = {c->failures, c->locked, c->since_ms};
		int count = -1;
		int64_t wait = -1;
		enum signin_verdict v = signin_decide(&policy, &s, &count, &wait);

		if (v != c->want || count != c->count || wait != c->wait_ms)
			fail_msg("case %zu: verdict %d count %d wait %lld, want %d %d %lld", i, v,
			         count, (long long)wait, c->want, c->count, (long long)c->wait_ms);
	}
}

static void test_backoff_doubles_up_to_the_maximum(void **state)
{
	assert_int_equal(signin_backoff_ms(&policy, 4), 0);
	assert_int_equal(signin_backoff_ms(&policy, 5), 1 * SEC);
	assert_int_equal(signin_backoff_ms(&policy, 7), 4 * SEC);
	assert_int_equal(signin_backoff_ms(&policy, 14), 512 * SEC);
	assert_int_equal(signin_backoff_ms(&policy, 15), 15 * MIN);
	assert_int_equal(signin_backoff_ms(&policy, 1000000), 15 * MIN);
}

static void test_locks(void **state)
{
	struct signin_policy never = policy;

	never.lock_after = 0;
	assert_false(signin_locks(&policy, 9));
	assert_true(signin_locks(&policy, 10));
	assert_true(signin_locks(&policy, 11));
	assert_false(signin_locks(&never, 1000));
}

struct address_case {
	const char *peer, *xff, *trusted; /* inputs */
	const char *want;                 /* the key */
};

static const struct address_case address_cases[] = {
    {"10.0.0.5", NULL, "", "10.0.0.5"},
    {"10.0.0.5", "1.2.3.4", "", "10.0.0.5"},                 /* no trusted proxy: ignored */
    {"10.0.0.5", "1.2.3.4", "10.0.0.6", "10.0.0.5"},         /* from an untrusted peer */
    {"10.0.0.6", "1.2.3.4", "10.0.0.6", "1.2.3.4"},          /* from the proxy */
    {"10.0.0.6", "9.9.9.9, 1.2.3.4", "10.0.0.6", "1.2.3.4"}, /* the client's own entry */
    {"10.0.0.6", "1.2.3.4, 10.0.0.7", " 10.0.0.6 , 10.0.0.7", "1.2.3.4"}, /* two proxies */
    {"10.0.0.6", "garbage, 1.2.3.4", "10.0.0.6", "1.2.3.4"},
    {"10.0.0.6", "1.2.3.4, garbage", "10.0.0.6", "10.0.0.6"}, /* stop at the garbled hop */
    {"10.0.0.6", "", "10.0.0.6", "10.0.0.6"},
    {"10.0.0.6", "10.0.0.6", "10.0.0.6", "10.0.0.6"}, /* all proxies: the leftmost */
    {"::ffff:10.0.0.5", NULL, "", "10.0.0.5"},        /* IPv4-mapped */
    {"2001:db8:1:2:3:4:5:6", NULL, "", "2001:db8:1:2::/64"},
    {"2001:db8:1:2::9", NULL, "", "2001:db8:1:2::/64"}, /* same /64: same client */
    {"::1", "1.2.3.4", "::1", "1.2.3.4"},
    {"not an address", NULL, "", "unknown"},
    {"10.1.2.3", "1.2.3.4", "10.0.0.0/8", "1.2.3.4"},  /* a trusted network */
    {"11.1.2.3", "1.2.3.4", "10.0.0.0/8", "11.1.2.3"}, /* outside it */
    {"10.0.0.6", "1.2.3.4, 172.16.9.9", "10.0.0.6, 172.16.0.0/12", "1.2.3.4"},
    {"2001:db8:1:2::9", "1.2.3.4", "2001:db8::/32", "1.2.3.4"}, /* an IPv6 network */
    {"2001:db9::1", "1.2.3.4", "2001:db8::/32", "2001:db9::/64"},
};

static void test_client_address(void **state)
{
	for (size_t i = 0; i < sizeof address_cases / sizeof address_cases[0]; i++) {
		const struct address_case *c = &address_cases[i];
		char out[SIGNIN_ADDR_SIZE];

		signin_client_address(c->peer, c->xff, c->trusted, out);
		if (strcmp(out, c->want) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, out, c->want);
	}
}

static void test_address_list(void **state)
{
	assert_true(signin_address_list_is_valid(""));
	assert_true(signin_address_list_is_valid("127.0.0.1, ::1,10.0.0.1"));
	assert_true(signin_address_list_is_valid("10.0.0.0/8, fd00::/8, 127.0.0.1/32"));
	assert_false(signin_address_list_is_valid("10.0.0.0/33"));
	assert_false(signin_address_list_is_valid("10.0.0.0/"));
	assert_false(signin_address_list_is_valid("10.0.0.0/8x"));
	assert_false(signin_address_list_is_valid("proxy.example"));
}

static void test_peer_is_trusted(void **state)
{
	assert_false(signin_peer_is_trusted("10.0.0.1", ""));
	assert_false(signin_peer_is_trusted(NULL, "10.0.0.1"));
	assert_true(signin_peer_is_trusted("10.0.0.1", "10.0.0.1"));
	assert_true(signin_peer_is_trusted("::ffff:10.0.0.1", "10.0.0.0/24"));
	assert_false(signin_peer_is_trusted("10.0.1.1", "10.0.0.0/24"));
	assert_true(signin_peer_is_trusted("127.0.0.1", "::1, 127.0.0.0/8"));
	assert_true(signin_peer_is_trusted("10.0.0.1", "0.0.0.0/0"));
}

static void test_request_id(void **state)
{
	char longest[SIGNIN_REQUEST_ID_MAX + 2];

	assert_true(signin_request_id_is_valid("3f2a9c1e-0b6d-4c7e-9a51-8d2f0e4b7c13"));
	assert_true(signin_request_id_is_valid("lb1.abc_DEF-42"));
	assert_false(signin_request_id_is_valid(""));
	assert_false(signin_request_id_is_valid(NULL));
	assert_false(signin_request_id_is_valid("a b"));
	assert_false(signin_request_id_is_valid("a\"b"));
	assert_false(signin_request_id_is_valid("caf\xc3\xa9"));
	memset(longest, 'a', SIGNIN_REQUEST_ID_MAX);
	longest[SIGNIN_REQUEST_ID_MAX] = '\0';
	assert_true(signin_request_id_is_valid(longest));
	longest[SIGNIN_REQUEST_ID_MAX] = 'a';
	longest[SIGNIN_REQUEST_ID_MAX + 1] = '\0';
	assert_false(signin_request_id_is_valid(longest));
}

static void test_limiter(void **state)
{
	struct signin_limiter *l = signin_limiter_new(2);
	int64_t retry = 0, now = 10 * SEC;

	/* 3 per minute: one back every 20 s */
	for (int i = 0; i < 3; i++)
		assert_true(signin_limiter_take(l, "a", now, 3, MIN, &retry));
	assert_false(signin_limiter_take(l, "a", now, 3, MIN, &retry));
	assert_int_equal(retry, 20 * SEC);
	assert_false(signin_limiter_take(l, "a", now + 19 * SEC, 3, MIN, &retry));
	assert_int_equal(retry, 1 * SEC);
	assert_true(signin_limiter_take(l, "a", now + 20 * SEC, 3, MIN, &retry));
	/* other addresses have their own */
	assert_true(signin_limiter_take(l, "b", now + 20 * SEC, 3, MIN, &retry));
	/* a success given back */
	signin_limiter_give_back(l, "a", 3);
	assert_true(signin_limiter_take(l, "a", now + 20 * SEC, 3, MIN, &retry));
	/* full: a third address is refused until one can be forgotten */
	assert_int_equal(signin_limiter_size(l), 2);
	assert_false(signin_limiter_take(l, "c", now + 20 * SEC, 3, MIN, &retry));
	assert_int_equal(retry, 1 * SEC);
	/* a minute later every bucket is full again, i.e. forgotten */
	assert_true(signin_limiter_take(l, "c", now + 90 * SEC, 3, MIN, &retry));
	assert_int_equal(signin_limiter_size(l), 1);
	signin_limiter_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decide),
	    cmocka_unit_test(test_backoff_doubles_up_to_the_maximum),
	    cmocka_unit_test(test_locks),
	    cmocka_unit_test(test_client_address),
	    cmocka_unit_test(test_address_list),
	    cmocka_unit_test(test_peer_is_trusted),
	    cmocka_unit_test(test_request_id),
	    cmocka_unit_test(test_limiter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

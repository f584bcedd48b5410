/*
 * totp_test.c - RFC 6238 codes against the RFC's own test vectors (SHA-1),
 * the verification window and replay refusal, and base32.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "totp.h"

static const unsigned char rfc_key[] = "12345678901234567890";

/* RFC 6238 appendix B, SHA-1 column, 8 digits. */
static void test_rfc6238_vectors(void **state)
{
	static const struct {
		int64_t t;
		uint32_t code;
	} cases[] = {
	    {59, 94287082},         {1111111109, 7081804},  {1111111111, 14050471},
	    {1234567890, 89005924}, {2000000000, 69279037}, {20000000000, 65353130},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(totp_code(rfc_key, 20, (uint64_t)(cases[i].t / TOTP_STEP_S), 8),
		                 cases[i].code);
}

static void code_at(int64_t t, char out[TOTP_DIGITS + 1])
{
	snprintf(out, TOTP_DIGITS + 1, "%0*u", TOTP_DIGITS,
	         totp_code(rfc_key, 20, (uint64_t)(t / TOTP_STEP_S), TOTP_DIGITS));
}

static void test_verify_window_and_replay(void **state)
{
	const int64_t now = 1234567890; /* step 41152263 */
	char code[TOTP_DIGITS + 1];
	int64_t used = -1;
	struct err err;

	code_at(now, code);
	assert_int_equal(totp_verify(rfc_key, 20, code, now, -1, &used, &err), ST_OK);
	assert_int_equal(used, now / TOTP_STEP_S);
	/* the same code again: that step is used */
	assert_int_equal(totp_verify(rfc_key, 20, code, now, used, &used, &err), ST_UNAUTHORIZED);
	assert_string_equal(err.field, "totp");
	/* one step of clock difference either way is accepted, two are not */
	code_at(now - TOTP_STEP_S, code);
	assert_int_equal(totp_verify(rfc_key, 20, code, now, -1, &used, NULL), ST_OK);
	code_at(now + TOTP_STEP_S, code);
	assert_int_equal(totp_verify(rfc_key, 20, code, now, -1, &used, NULL), ST_OK);
	code_at(now - 2 * TOTP_STEP_S, code);
	assert_int_equal(totp_verify(rfc_key, 20, code, now, -1, &used, NULL), ST_UNAUTHORIZED);
	code_at(now + 2 * TOTP_STEP_S, code);
	assert_int_equal(totp_verify(rfc_key, 20, code, now, -1, &used, NULL), ST_UNAUTHORIZED);
	/* malformed codes */
	assert_int_equal(totp_verify(rfc_key, 20, "12345", now, -1, &used, NULL), ST_UNAUTHORIZED);
	assert_int_equal(totp_verify(rfc_key, 20, "1234567", now, -1, &used, NULL),
	                 ST_UNAUTHORIZED);
	assert_int_equal(totp_verify(rfc_key, 20, "12a456", now, -1, &used, NULL), ST_UNAUTHORIZED);
	assert_int_equal(totp_verify(rfc_key, 20, NULL, now, -1, &used, NULL), ST_UNAUTHORIZED);
}

static void test_base32(void **state)
{
	char text[TOTP_B32_SIZE];
	unsigned char raw[32];

	assert_true(base32_encode(rfc_key, 20, text, sizeof text));
	assert_string_equal(text, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	assert_int_equal(base32_decode("gezdgnbvgy3tqojqgezdgnbvgy3tqojq", raw, sizeof raw), 20);
	assert_memory_equal(raw, rfc_key, 20);
	assert_int_equal(base32_decode("GEZ1", raw, sizeof raw), -1);
	assert_false(base32_encode(rfc_key, 20, text, 10));
	assert_true(base32_encode((const unsigned char *)"f", 1, text, sizeof text));
	assert_string_equal(text, "MY");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc6238_vectors),
	    cmocka_unit_test(test_verify_window_and_replay),
	    cmocka_unit_test(test_base32),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

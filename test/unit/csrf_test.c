/*
 * csrf_test.c - the cross-site request forgery rule for cookie-signed requests
 * and the origin syntax public_origin must have.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "csrf.h"

#define ORIGIN "https://carebridge.example.nhs.uk"

struct check_case {
	struct csrf_request q; /* the request */
	enum status st;        /* expected status */
	const char *field;     /* expected field at fault ("" when none) */
};

static void test_check(void **state)
{
	static const struct check_case cases[] = {
	    /* reads need nothing */
	    {{"GET", NULL, NULL, NULL, false}, ST_OK, ""},
	    {{"HEAD", "https://evil.example", "cross-site", NULL, false}, ST_OK, ""},
	    /* a change needs our origin ... */
	    {{"POST", NULL, NULL, "application/json", true}, ST_FORBIDDEN, "Origin"},
	    {{"POST", "https://evil.example", NULL, "application/json", true},
	     ST_FORBIDDEN,
	     "Origin"},
	    {{"POST", "null", NULL, "application/json", true}, ST_FORBIDDEN, "Origin"},
	    {{"POST", ORIGIN "/", NULL, "application/json", true}, ST_FORBIDDEN, "Origin"},
	    {{"POST", "http://carebridge.example.nhs.uk", NULL, "application/json", true},
	     ST_FORBIDDEN,
	     "Origin"},
	    {{"POST", ORIGIN, NULL, "application/json", true}, ST_OK, ""},
	    {{"POST", "HTTPS://CareBridge.Example.NHS.uk", NULL, "application/json", true},
	     ST_OK,
	     ""},
	    /* ... or the browser's word that it is same-origin */
	    {{"PATCH", NULL, "same-origin", "application/json", true}, ST_OK, ""},
	    {{"PATCH", NULL, "same-site", "application/json", true}, ST_FORBIDDEN, "Origin"},
	    {{"PATCH", "https://evil.example", "cross-site", "application/json", true},
	     ST_FORBIDDEN,
	     "Origin"},
	    /* a body must be JSON */
	    {{"POST", ORIGIN, NULL, "text/plain", true}, ST_FORBIDDEN, "Content-Type"},
	    {{"POST", ORIGIN, NULL, "application/x-www-form-urlencoded", true},
	     ST_FORBIDDEN,
	     "Content-Type"},
	    {{"POST", ORIGIN, NULL, NULL, true}, ST_FORBIDDEN, "Content-Type"},
	    {{"POST", ORIGIN, NULL, "application/jsonx", true}, ST_FORBIDDEN, "Content-Type"},
	    {{"POST", ORIGIN, NULL, "application/json; charset=utf-8", true}, ST_OK, ""},
	    {{"POST", ORIGIN, NULL, "Application/JSON", true}, ST_OK, ""},
	    /* without a body, no content type is needed */
	    {{"DELETE", ORIGIN, NULL, NULL, false}, ST_OK, ""},
	    {{"DELETE", NULL, NULL, NULL, false}, ST_FORBIDDEN, "Origin"},
	    {{"PUT", NULL, "same-origin", "text/plain", true}, ST_FORBIDDEN, "Content-Type"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct err err;
		enum status st;

		err_clear(&err);
		st = csrf_check(&cases[i].q, ORIGIN, &err);
		if (st != cases[i].st)
			fail_msg("case %zu: status %d, want %d", i, st, cases[i].st);
		if (strcmp(err.field, cases[i].field) != 0)
			fail_msg("case %zu: field \"%s\", want \"%s\"", i, err.field,
			         cases[i].field);
	}
}

static void test_origin_syntax(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
	    {"http://127.0.0.1:8080", true},
	    {"https://carebridge.example.nhs.uk", true},
	    {"https://carebridge.example.nhs.uk:8443", true},
	    {"http://[::1]:8080", true},
	    {"https://carebridge.example.nhs.uk/", false},
	    {"https://carebridge.example.nhs.uk/app", false},
	    {"carebridge.example.nhs.uk", false},
	    {"ftp://carebridge.example.nhs.uk", false},
	    {"http://", false},
	    {"http://host:", false},
	    {"http://host:0", false},
	    {"http://host:70000", false},
	    {"http://[]:80", false},
	    {"", false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (csrf_origin_is_valid(cases[i].s) != cases[i].ok)
			fail_msg("case %zu: \"%s\" should be %s", i, cases[i].s,
			         cases[i].ok ? "valid" : "refused");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_origin_syntax),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * notify_test.c - GOV.UK Notify without the network: the combined API key
 * (Notify's documented example), the JWT against a token computed apart
 * (Python's hmac over the same input), request bodies and their refusals, and
 * the classification of Notify's published replies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "notify.h"

#define SERVICE "26785a09-ab16-4eb0-8407-a37497a57506"
#define SECRET "3d844edf-8d35-48ac-975b-e847b4f122b0"
#define TEMPLATE "f33517ff-2a88-4f6e-b855-c550268ce08a"
#define NOW 1800000000

static void test_key_parse(void **state)
{
	static const char *const good[] = {
	    "my_test_key-" SERVICE "-" SECRET, "key-with-hyphens-" SERVICE "-" SECRET,
	    "  k-" SERVICE "-" SECRET "\n", /* a key file's newline */
	};
	static const char *const bad[] = {
	    "",
	    SERVICE "-" SECRET,                               /* no name */
	    "-" SERVICE "-" SECRET,                           /* an empty name */
	    "k-" SERVICE SECRET "xx",                         /* no separator */
	    "k-" SERVICE "-" SECRET "0",                      /* too long a secret */
	    "k-26785a09-ab16-4eb0-8407-a37497a5750g-" SECRET, /* not hex */
	    "k-" SERVICE "-3d844edf_8d35-48ac-975b-e847b4f122b0",
	};
	struct notify_key k;
	struct err err;

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_int_equal(notify_key_parse(good[i], &k, &err), ST_OK);
		assert_string_equal(k.service_id, SERVICE);
		assert_string_equal(k.secret, SECRET);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(notify_key_parse(bad[i], &k, &err), ST_INVALID);
		assert_string_equal(err.field, "notify_api_key");
		/* the key is never echoed */
		assert_null(strstr(err.message, "3d844edf"));
		assert_null(strstr(err.message, "26785a09"));
		assert_string_equal(k.secret, "");
	}
	assert_int_equal(notify_key_parse(NULL, &k, &err), ST_INVALID);
}

static void test_jwt(void **state)
{
	/* base64url({"typ":"JWT","alg":"HS256"}) . base64url({"iss":SERVICE,"iat":NOW}) .
	 * base64url(HMAC-SHA-256(SECRET, those two)), computed with Python's hmac */
	static const char expect[] =
	    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."
	    "eyJpc3MiOiIyNjc4NWEwOS1hYjE2LTRlYjAtODQwNy1hMzc0OTdhNTc1MDYiLCJpYXQiOjE4MDAwMDAwMDB9."
	    "-n3V_jCNxY5fq4QekNxz4hhweZ__onjr4g_Bkz1F98s";
	struct notify_key k;
	char *token, *other;

	assert_int_equal(notify_key_parse("carebridge-" SERVICE "-" SECRET, &k, NULL), ST_OK);
	token = notify_jwt(&k, NOW);
	assert_string_equal(token, expect);
	/* a second later, another token: each request gets a fresh iat */
	other = notify_jwt(&k, NOW + 1);
	assert_string_not_equal(token, other);
	free(token);
	free(other);
}

static void test_body_email(void **state)
{
	cJSON *pers = cJSON_Parse("{\"bed\":\"12\",\"count\":3,\"items\":[\"a\",\"b\"]}");
	struct err err;
	char *text =
	    notify_request_body(NOTIFY_EMAIL, "nurse@nhs.net", TEMPLATE, pers, "ref-1", &err);
	cJSON *b;

	assert_non_null(text);
	b = cJSON_Parse(text);
	assert_string_equal(cJSON_GetObjectItem(b, "email_address")->valuestring, "nurse@nhs.net");
	assert_string_equal(cJSON_GetObjectItem(b, "template_id")->valuestring, TEMPLATE);
	assert_string_equal(cJSON_GetObjectItem(b, "reference")->valuestring, "ref-1");
	assert_true(cJSON_Compare(cJSON_GetObjectItem(b, "personalisation"), pers, 1));
	assert_null(cJSON_GetObjectItem(b, "phone_number"));
	cJSON_Delete(b);
	free(text);
	/* no personalisation, no reference: neither is sent */
	text = notify_request_body(NOTIFY_EMAIL, "nurse@nhs.net", TEMPLATE, NULL, "", &err);
	b = cJSON_Parse(text);
	assert_null(cJSON_GetObjectItem(b, "personalisation"));
	assert_null(cJSON_GetObjectItem(b, "reference"));
	cJSON_Delete(b);
	free(text);
	cJSON_Delete(pers);
}

static void test_body_sms(void **state)
{
	struct err err;
	char *text = notify_request_body(NOTIFY_SMS, "+44 7700 900123", TEMPLATE, NULL, NULL, &err);
	cJSON *b = cJSON_Parse(text);

	assert_string_equal(cJSON_GetObjectItem(b, "phone_number")->valuestring, "+44 7700 900123");
	assert_null(cJSON_GetObjectItem(b, "email_address"));
	cJSON_Delete(b);
	free(text);
}

static void test_body_refused(void **state)
{
	static const struct {
		enum notify_kind kind;
		const char *recipient, *template_id, *pers, *reference, *field;
	} cases[] = {
	    {NOTIFY_EMAIL, "", TEMPLATE, NULL, NULL, "email_address"},
	    {NOTIFY_EMAIL, "no-at-sign", TEMPLATE, NULL, NULL, "email_address"},
	    {NOTIFY_EMAIL, "a@b@c", TEMPLATE, NULL, NULL, "email_address"},
	    {NOTIFY_EMAIL, "a b@c", TEMPLATE, NULL, NULL, "email_address"},
	    {NOTIFY_EMAIL, "@nhs.net", TEMPLATE, NULL, NULL, "email_address"},
	    {NOTIFY_SMS, "07700 90012x", TEMPLATE, NULL, NULL, "phone_number"},
	    {NOTIFY_SMS, "12345", TEMPLATE, NULL, NULL, "phone_number"},
	    {NOTIFY_SMS, "1234567890123456", TEMPLATE, NULL, NULL, "phone_number"},
	    {NOTIFY_SMS, NULL, TEMPLATE, NULL, NULL, "phone_number"},
	    {NOTIFY_EMAIL, "a@b", "", NULL, NULL, "template_id"},
	    {NOTIFY_EMAIL, "a@b", "not-a-uuid", NULL, NULL, "template_id"},
	    {NOTIFY_EMAIL, "a@b", TEMPLATE, "[1]", NULL, "personalisation"},
	    {NOTIFY_EMAIL, "a@b", TEMPLATE, "{\"x\":{\"y\":1}}", NULL, "personalisation"},
	    {NOTIFY_EMAIL, "a@b", TEMPLATE, "{\"x\":[1]}", NULL, "personalisation"},
	    {NOTIFY_EMAIL, "a@b", TEMPLATE, "{\"x\":null}", NULL, "personalisation"},
	};
	char long_ref[NOTIFY_REFERENCE_MAX + 2];
	struct err err;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *p = cases[i].pers != NULL ? cJSON_Parse(cases[i].pers) : NULL;

		assert_null(notify_request_body(cases[i].kind, cases[i].recipient,
		                                cases[i].template_id, p, cases[i].reference, &err));
		assert_string_equal(err.field, cases[i].field);
		if (cases[i].recipient != NULL && cases[i].recipient[0] != '\0')
			assert_null(strstr(err.message, cases[i].recipient));
		cJSON_Delete(p);
	}
	memset(long_ref, 'r', sizeof long_ref - 1);
	long_ref[sizeof long_ref - 1] = '\0';
	assert_null(notify_request_body(NOTIFY_EMAIL, "a@b", TEMPLATE, NULL, long_ref, &err));
	assert_string_equal(err.field, "reference");
}

static void test_kind(void **state)
{
	enum notify_kind k;

	assert_int_equal(notify_kind_parse("sms", &k, NULL), ST_OK);
	assert_int_equal(k, NOTIFY_SMS);
	assert_string_equal(notify_path(k), "/v2/notifications/sms");
	assert_int_equal(notify_kind_parse("email", &k, NULL), ST_OK);
	assert_string_equal(notify_path(k), "/v2/notifications/email");
	assert_string_equal(notify_kind_name(k), "email");
	assert_int_equal(notify_kind_parse("letter", &k, NULL), ST_INVALID);
	assert_int_equal(notify_kind_parse(NULL, &k, NULL), ST_INVALID);
}

static void test_classify(void **state)
{
	static const struct {
		int status;
		const char *body;
		enum notify_outcome outcome;
		const char *id, *error, *message;
	} cases[] = {
	    {201,
	     "{\"id\":\"740e5834-3a29-46b4-9a6f-16142fde533a\",\"reference\":null,"
	     "\"content\":{\"subject\":\"s\",\"body\":\"b\"},\"uri\":\"u\",\"template\":{}}",
	     NOTIFY_SENT, "740e5834-3a29-46b4-9a6f-16142fde533a", "", ""},
	    {201, "not json", NOTIFY_SENT, "", "", ""},
	    {201, "{\"id\":\"<script>\"}", NOTIFY_SENT, "", "", ""},
	    {400,
	     "{\"status_code\":400,\"errors\":[{\"error\":\"BadRequestError\","
	     "\"message\":\"Can't send to this recipient using a team-only API key\"}]}",
	     NOTIFY_PERMANENT, "", "BadRequestError",
	     "Can't send to this recipient using a team-only API key"},
	    {400,
	     "{\"status_code\":400,\"errors\":[{\"error\":\"ValidationError\","
	     "\"message\":\"template_id is not a valid UUID\"}]}",
	     NOTIFY_PERMANENT, "", "ValidationError", "template_id is not a valid UUID"},
	    {403,
	     "{\"status_code\":403,\"errors\":[{\"error\":\"AuthError\","
	     "\"message\":\"Error: Your system clock must be accurate to within 30 seconds\"}]}",
	     NOTIFY_RETRY, "", "AuthError",
	     "Error: Your system clock must be accurate to within 30 seconds"},
	    {429,
	     "{\"status_code\":429,\"errors\":[{\"error\":\"RateLimitError\","
	     "\"message\":\"Exceeded rate limit for key type LIVE of 3000 requests per 60 "
	     "seconds\"}]}",
	     NOTIFY_RETRY, "", "RateLimitError",
	     "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds"},
	    {429,
	     "{\"status_code\":429,\"errors\":[{\"error\":\"TooManyRequestsError\","
	     "\"message\":\"Exceeded send limits (1000) for today\"}]}",
	     NOTIFY_RETRY, "", "TooManyRequestsError", "Exceeded send limits (1000) for today"},
	    {500,
	     "{\"status_code\":500,\"errors\":[{\"error\":\"Exception\","
	     "\"message\":\"Internal server error\"}]}",
	     NOTIFY_RETRY, "", "Exception", "Internal server error"},
	    {502, NULL, NOTIFY_RETRY, "", "ServerError", "HTTP status 502"},
	    {0, NULL, NOTIFY_RETRY, "", "NoReply", ""},
	    {404, "<html>", NOTIFY_RETRY, "", "BadRequestError", "HTTP status 404"},
	    {413, NULL, NOTIFY_PERMANENT, "", "BadRequestError", "HTTP status 413"},
	    {301, NULL, NOTIFY_RETRY, "", "UnexpectedStatus", "HTTP status 301"},
	    /* a class name that is not one is not copied */
	    {400, "{\"errors\":[{\"error\":\"Bad Request\\nX\",\"message\":\"m\\u0001\"}]}",
	     NOTIFY_PERMANENT, "", "BadRequestError", "m?"},
	};
	struct notify_result r;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		notify_classify(cases[i].status, cases[i].body,
		                cases[i].body != NULL ? strlen(cases[i].body) : 0, &r);
		assert_int_equal(r.outcome, cases[i].outcome);
		assert_int_equal(r.status, cases[i].status);
		assert_string_equal(r.id, cases[i].id);
		assert_string_equal(r.error, cases[i].error);
		assert_string_equal(r.message, cases[i].message);
	}
	assert_string_equal(notify_outcome_name(NOTIFY_SENT), "sent");
	assert_string_equal(notify_outcome_name(NOTIFY_RETRY), "retry");
	assert_string_equal(notify_outcome_name(NOTIFY_PERMANENT), "permanent");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_parse),    cmocka_unit_test(test_jwt),
	    cmocka_unit_test(test_body_email),   cmocka_unit_test(test_body_sms),
	    cmocka_unit_test(test_body_refused), cmocka_unit_test(test_kind),
	    cmocka_unit_test(test_classify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * message_test.c - chase message content (no NHS number, no full name, no
 * free text in an SMS or an e-mail), contact checks, and the e-mail's text:
 * headers, base64 body, header injection refused, dot-stuffing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "message.h"
#include "status.h"

#define NOW 1796310000 /* 2026-12-03T15:00:00Z, a Thursday */

/* A patient as the database has it: only initials may reach a message. */
#define GIVEN "Alexandra"
#define FAMILY "Testperson-Smythe"
#define NHS "9434765919"

static void test_channels(void **state)
{
	enum message_channel c;

	assert_string_equal(message_channel_name(MESSAGE_EMAIL_SMTP), "email_smtp");
	assert_string_equal(message_channel_name(MESSAGE_EMAIL_NOTIFY), "email_notify");
	assert_string_equal(message_channel_name(MESSAGE_SMS_NOTIFY), "sms_notify");
	assert_true(message_channel_parse("sms_notify", &c));
	assert_int_equal(c, MESSAGE_SMS_NOTIFY);
	assert_false(message_channel_parse("sms", &c));
}

static void test_initials(void **state)
{
	static const struct {
		const char *given, *family, *want;
	} cases[] = {
	    {"alex", "testperson", "A.T."},
	    {"Éloïse", "Ødegård", "É.Ø."},
	    {"", "Smith", "S."},
	    {NULL, NULL, ""},
	    {"  bob", "1x", "B."},
	    {"\xff\xfe", "Jones", "J."}, /* malformed UTF-8 gives no letter */
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[MESSAGE_INITIALS_MAX];

		message_initials(cases[i].given, cases[i].family, out);
		assert_string_equal(out, cases[i].want);
	}
}

/* Every kind, every level: the SMS and e-mail carry ward, bed, initials, link and
 * what is overdue, and never the NHS number, a name, or a name's first letters
 * spelled out beyond the initial. */
static void test_bodies_minimum_content(void **state)
{
	static const char *const kinds[] = {"task", "referral", "hub", "barrier", "review"};
	char ini[MESSAGE_INITIALS_MAX];

	message_initials(GIVEN, FAMILY, ini);
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		for (int level = 1; level <= 3; level++) {
			struct message_content c = {kinds[k],
			                            "ot",
			                            level,
			                            "A3",
			                            "12",
			                            ini,
			                            "https://cb.trust.nhs.uk/ward?ward=A3"};
			char *bodies[3] = {message_sms_body(&c), message_email_body(&c),
			                   message_subject(&c)};

			for (int b = 0; b < 3; b++) {
				assert_null(strstr(bodies[b], NHS));
				assert_null(strstr(bodies[b], "Alex"));
				assert_null(strstr(bodies[b], "Testperson"));
				assert_null(strstr(bodies[b], "Smythe"));
				assert_non_null(strstr(bodies[b], "A3"));
				assert_non_null(strstr(bodies[b], "12"));
				assert_non_null(strstr(bodies[b], message_what(&c)));
			}
			/* the subject is seen in lists and lock screens: no initials */
			assert_null(strstr(bodies[2], "A.T."));
			assert_non_null(strstr(bodies[0], "A.T."));
			assert_non_null(strstr(bodies[1], "A.T."));
			assert_non_null(strstr(bodies[0], "https://cb.trust.nhs.uk/ward?ward=A3"));
			assert_non_null(strstr(bodies[1], "https://cb.trust.nhs.uk/ward?ward=A3"));
			assert_true(strlen(bodies[0]) <= 160 * 2); /* two SMS fragments at most */
			for (int b = 0; b < 3; b++)
				free(bodies[b]);
		}
	}
}

static void test_what(void **state)
{
	struct message_content c = {"task", "physio", 2, "W1", "", "", ""};
	char *s;

	assert_string_equal(message_what(&c), "Physiotherapy task overdue");
	c.chase_kind = "barrier";
	assert_string_equal(message_what(&c), "NCTR with no barrier recorded");
	s = message_sms_body(&c);
	assert_string_equal(s, "carebridge: NCTR with no barrier recorded. Ward W1. Level 2 (team "
	                       "lead).");
	free(s);
}

static void test_digest(void **state)
{
	struct message_digest d = {"A3", 5, 1, 2, 1, 1, 3, 7, 2, "https://cb.example/ward?ward=A3"};
	char *subj = message_digest_subject(&d), *mail = message_digest_body(&d, false),
	     *sms = message_digest_body(&d, true);

	assert_string_equal(subj, "carebridge shift digest - Ward A3");
	assert_non_null(strstr(mail, "NCTR patients: 5\n"));
	assert_non_null(strstr(mail, "ready 21 days or more: 1\n"));
	assert_non_null(strstr(mail, "Barriers without an owner: 3\n"));
	assert_non_null(strstr(mail, "Overdue tasks: 7\n"));
	assert_non_null(strstr(mail, "Referrals the hub has not answered: 2\n"));
	assert_non_null(strstr(mail, "https://cb.example/ward?ward=A3"));
	assert_string_equal(sms,
	                    "carebridge digest: Ward A3. NCTR 5 (21+ days 1). Barriers "
	                    "without owner 3. Overdue tasks 7. Referrals unanswered 2. Sign in: "
	                    "https://cb.example/ward?ward=A3");
	free(subj);
	free(mail);
	free(sms);
	d.ward = "*";
	subj = message_digest_subject(&d);
	assert_string_equal(subj, "carebridge shift digest - all wards");
	free(subj);
}

static void test_contact_check(void **state)
{
	struct err err;

	assert_int_equal(
	    message_contact_check("a.b@nhs.net", "+447700900123", "22:00", "07:00", &err), ST_OK);
	assert_int_equal(message_contact_check(NULL, NULL, NULL, NULL, &err), ST_OK);
	assert_int_equal(message_contact_check("no-at", NULL, NULL, NULL, &err), ST_INVALID);
	assert_string_equal(err.field, "email");
	assert_int_equal(message_contact_check("a@b@c.uk", NULL, NULL, NULL, &err), ST_INVALID);
	assert_int_equal(message_contact_check("a@b.uk\r\nBcc: x@y.uk", NULL, NULL, NULL, &err),
	                 ST_INVALID);
	assert_int_equal(message_contact_check("a@localhost", NULL, NULL, NULL, &err), ST_INVALID);
	assert_int_equal(message_contact_check(NULL, "0770 090", NULL, NULL, &err), ST_INVALID);
	assert_string_equal(err.field, "mobile");
	assert_int_equal(message_contact_check(NULL, NULL, "24:00", "07:00", &err), ST_INVALID);
	assert_string_equal(err.field, "quiet_start");
	assert_int_equal(message_contact_check(NULL, NULL, "22:00", NULL, &err), ST_INVALID);
	assert_string_equal(err.field, "quiet_end");
}

static void test_base64(void **state)
{
	static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const out[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
	                                  "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

	for (int i = 0; i < 7; i++) {
		char *s = base64_encode((const unsigned char *)in[i], strlen(in[i]));

		assert_string_equal(s, out[i]);
		free(s);
	}
}

static void test_mail_format(void **state)
{
	struct mail m = {"cb@trust.nhs.uk",       "nurse@nhs.net", "Overdue – ward A3",
	                 "line one\n.line two\n", "0b7f",          NULL};
	char *t = mail_format(&m, NOW), *stuffed;

	assert_non_null(t);
	assert_non_null(strstr(t, "Date: Thu, 03 Dec 2026 15:00:00 +0000\r\n"));
	assert_non_null(strstr(t, "Message-ID: <0b7f@trust.nhs.uk>\r\n"));
	assert_non_null(strstr(t, "From: <cb@trust.nhs.uk>\r\nTo: <nurse@nhs.net>\r\n"));
	/* a non-ASCII subject is an RFC 2047 encoded word */
	assert_non_null(strstr(t, "Subject: =?UTF-8?B?"));
	assert_non_null(strstr(t, "Content-Type: text/plain; charset=UTF-8\r\n"));
	/* body: base64 of "line one\r\n.line two\r\n" */
	assert_non_null(strstr(t, "\r\n\r\nbGluZSBvbmUNCi5saW5lIHR3bw0K\r\n"));
	stuffed = mail_dot_stuff(t);
	assert_non_null(strstr(stuffed, "\r\n.\r\n"));
	assert_int_equal(strlen(stuffed), strlen(t) + 3);
	free(stuffed);
	free(t);
	m.subject = "x\r\nBcc: evil@example.com";
	assert_null(mail_format(&m, NOW));
	m.subject = "ok";
	m.to = "a@b.uk\nBcc: evil@example.com";
	assert_null(mail_format(&m, NOW));
}

static void test_dot_stuff(void **state)
{
	char *s = mail_dot_stuff(".a\r\nb\r\n..c\r\n.");

	assert_string_equal(s, "..a\r\nb\r\n...c\r\n..\r\n.\r\n");
	free(s);
	s = mail_dot_stuff("");
	assert_string_equal(s, ".\r\n");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_channels),
	    cmocka_unit_test(test_initials),
	    cmocka_unit_test(test_bodies_minimum_content),
	    cmocka_unit_test(test_what),
	    cmocka_unit_test(test_digest),
	    cmocka_unit_test(test_contact_check),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_mail_format),
	    cmocka_unit_test(test_dot_stuff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

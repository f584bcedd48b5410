/*
 * notify.c - GOV.UK Notify's API key, JWT, request bodies and reply
 * classification (see notify.h).
 *
 * Owns nothing beyond each call.  Must not: put the secret key, a recipient
 * or a token into an error message or a result.
 */
#include "notify.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "admission.h"
#include "jwt.h"
#include "xmalloc.h"

/* The JOSE header Notify's own clients send. */
static const char NOTIFY_JWT_HEADER[] = "{\"typ\":\"JWT\",\"alg\":\"HS256\"}";

enum status notify_key_parse(const char *combined, struct notify_key *out, struct err *err)
{
	const char *start = combined, *end;
	size_t len;

	memset(out, 0, sizeof *out);
	if (combined == NULL)
		return err_set(err, ST_INVALID, "notify_api_key", "missing GOV.UK Notify API key");
	while (isspace((unsigned char)*start))
		start++;
	end = start + strlen(start);
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	len = (size_t)(end - start);
	/* name (1+) "-" service id (36) "-" secret (36) */
	if (len < 1 + 1 + NOTIFY_UUID_LEN + 1 + NOTIFY_UUID_LEN)
		return err_set(err, ST_INVALID, "notify_api_key",
		               "GOV.UK Notify API key is too short: expected "
		               "\"{key_name}-{service_id}-{secret_key}\"");
	if (end[-NOTIFY_UUID_LEN - 1] != '-' || end[-2 * NOTIFY_UUID_LEN - 2] != '-')
		return err_set(
		    err, ST_INVALID, "notify_api_key",
		    "GOV.UK Notify API key is not \"{key_name}-{service_id}-{secret_key}\"");
	memcpy(out->secret, end - NOTIFY_UUID_LEN, NOTIFY_UUID_LEN);
	memcpy(out->service_id, end - 2 * NOTIFY_UUID_LEN - 1, NOTIFY_UUID_LEN);
	if (!text_is_uuid(out->service_id) || !text_is_uuid(out->secret)) {
		sodium_memzero(out, sizeof *out);
		return err_set(err, ST_INVALID, "notify_api_key",
		               "GOV.UK Notify API key does not end in two UUIDs (service id, then "
		               "secret key)");
	}
	return ST_OK;
}

/* base64url of len bytes, a new string. */
static char *b64url_new(const void *in, size_t len)
{
	size_t size = 4 * ((len + 2) / 3) + 1;
	char *out = xmalloc(size);

	b64url_encode(in, len, out, size);
	return out;
}

char *notify_jwt(const struct notify_key *key, int64_t now)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	cJSON *claims = cJSON_CreateObject();
	char *claims_text, *header64, *claims64, *input, *sig64, *token;

	cJSON_AddStringToObject(claims, "iss", key->service_id);
	cJSON_AddNumberToObject(claims, "iat", (double)now);
	claims_text = cJSON_PrintUnformatted(claims);
	ASSERT(claims_text != NULL);
	cJSON_Delete(claims);
	header64 = b64url_new(NOTIFY_JWT_HEADER, sizeof NOTIFY_JWT_HEADER - 1);
	claims64 = b64url_new(claims_text, strlen(claims_text));
	cJSON_free(claims_text);
	input = xasprintf("%s.%s", header64, claims64);
	/* the secret key is used as text, as Notify's own clients do */
	ASSERT(HMAC(EVP_sha256(), key->secret, (int)strlen(key->secret),
	            (const unsigned char *)input, strlen(input), mac, &mac_len) != NULL);
	sig64 = b64url_new(mac, mac_len);
	token = xasprintf("%s.%s", input, sig64);
	sodium_memzero(mac, sizeof mac);
	free(header64);
	free(claims64);
	free(input);
	free(sig64);
	return token;
}

const char *notify_path(enum notify_kind kind)
{
	return kind == NOTIFY_SMS ? "/v2/notifications/sms" : "/v2/notifications/email";
}

const char *notify_kind_name(enum notify_kind kind)
{
	return kind == NOTIFY_SMS ? "sms" : "email";
}

enum status notify_kind_parse(const char *name, enum notify_kind *out, struct err *err)
{
	if (name != NULL && strcmp(name, "email") == 0)
		*out = NOTIFY_EMAIL;
	else if (name != NULL && strcmp(name, "sms") == 0)
		*out = NOTIFY_SMS;
	else
		return err_set(err, ST_INVALID, "kind", "kind must be \"email\" or \"sms\"");
	return ST_OK;
}

const char *notify_outcome_name(enum notify_outcome outcome)
{
	switch (outcome) {
	case NOTIFY_SENT:
		return "sent";
	case NOTIFY_RETRY:
		return "retry";
	case NOTIFY_PERMANENT:
		return "permanent";
	}
	ASSERT(!"unknown notify outcome");
}

/* An address with exactly one "@", text on both sides, no space or control character. */
static bool email_is_plausible(const char *s)
{
	const char *at = strchr(s, '@');

	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

/* Digits, spaces, "+-()" only, 7 to 15 digits (E.164's longest). */
static bool phone_is_plausible(const char *s)
{
	int digits = 0;

	for (const char *p = s; *p != '\0'; p++) {
		if (isdigit((unsigned char)*p))
			digits++;
		else if (strchr(" +-()", *p) == NULL)
			return false;
	}
	return digits >= 7 && digits <= 15;
}

/* Whether v is a personalisation value Notify takes: text, a number, or a list of text. */
static bool personalisation_value_ok(const cJSON *v)
{
	const cJSON *item;

	if (cJSON_IsString(v) || cJSON_IsNumber(v))
		return true;
	if (!cJSON_IsArray(v))
		return false;
	cJSON_ArrayForEach(item, v)
	{
		if (!cJSON_IsString(item))
			return false;
	}
	return true;
}

/* Check each part of a request (notify_request_body's rules). */
static enum status request_check(enum notify_kind kind, const char *recipient,
                                 const char *template_id, const cJSON *personalisation,
                                 const char *reference, struct err *err)
{
	const char *field = kind == NOTIFY_SMS ? "phone_number" : "email_address";
	const cJSON *item;

	if (recipient == NULL || recipient[0] == '\0')
		return err_set(err, ST_INVALID, field, "missing required field \"%s\"", field);
	if (strlen(recipient) > NOTIFY_RECIPIENT_MAX ||
	    !(kind == NOTIFY_SMS ? phone_is_plausible(recipient) : email_is_plausible(recipient)))
		return err_set(err, ST_INVALID, field, "\"%s\" is not a valid %s", field,
		               kind == NOTIFY_SMS ? "phone number" : "e-mail address");
	if (template_id == NULL || template_id[0] == '\0')
		return err_set(err, ST_INVALID, "template_id",
		               "missing required field \"template_id\"");
	if (!text_is_uuid(template_id))
		return err_set(err, ST_INVALID, "template_id", "\"template_id\" is not a UUID");
	if (personalisation != NULL && !cJSON_IsObject(personalisation))
		return err_set(err, ST_INVALID, "personalisation",
		               "\"personalisation\" must be an object");
	cJSON_ArrayForEach(item, personalisation)
	{
		if (!personalisation_value_ok(item))
			return err_set(err, ST_INVALID, "personalisation",
			               "each \"personalisation\" value must be text, a number or a "
			               "list of text");
	}
	if (reference != NULL && strlen(reference) > NOTIFY_REFERENCE_MAX)
		return err_set(err, ST_INVALID, "reference",
		               "\"reference\" is longer than %d bytes", NOTIFY_REFERENCE_MAX);
	return ST_OK;
}

char *notify_request_body(enum notify_kind kind, const char *recipient, const char *template_id,
                          const cJSON *personalisation, const char *reference, struct err *err)
{
	const char *field = kind == NOTIFY_SMS ? "phone_number" : "email_address";
	cJSON *body;
	char *text;

	if (request_check(kind, recipient, template_id, personalisation, reference, err) != ST_OK)
		return NULL;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, field, recipient);
	cJSON_AddStringToObject(body, "template_id", template_id);
	if (personalisation != NULL)
		cJSON_AddItemToObject(body, "personalisation", cJSON_Duplicate(personalisation, 1));
	if (reference != NULL && reference[0] != '\0')
		cJSON_AddStringToObject(body, "reference", reference);
	text = cJSON_PrintUnformatted(body);
	ASSERT(text != NULL);
	cJSON_Delete(body);
	return text;
}

/* Copy s into out (size), keeping only letters: an error class name. */
static void copy_class(char *out, size_t size, const char *s)
{
	size_t n = 0;

	while (s[n] != '\0' && isalpha((unsigned char)s[n]) && n + 1 < size)
		n++;
	if (s[n] != '\0') /* anything else is not a class name */
		n = 0;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* Copy s into out (size), printable ASCII only (others become "?"), cut to fit. */
static void copy_message(char *out, size_t size, const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0' && n + 1 < size; n++)
		out[n] = (unsigned char)s[n] >= ' ' && (unsigned char)s[n] < 0x7f ? s[n] : '?';
	out[n] = '\0';
}

/* The outcome of an HTTP status, as notify.h's table says. */
static enum notify_outcome status_outcome(int status)
{
	if (status >= 200 && status < 300)
		return NOTIFY_SENT;
	if (status == 401 || status == 403 || status == 404 || status == 408 || status == 429)
		return NOTIFY_RETRY;
	if (status >= 400 && status < 500)
		return NOTIFY_PERMANENT;
	return NOTIFY_RETRY;
}

/* Our words for a status whose body said nothing. */
static const char *status_class(int status)
{
	if (status == 0)
		return "NoReply";
	if (status >= 200 && status < 300)
		return "";
	if (status == 429)
		return "RateLimitError";
	if (status == 401 || status == 403)
		return "AuthError";
	if (status >= 400 && status < 500)
		return "BadRequestError";
	if (status >= 500)
		return "ServerError";
	return "UnexpectedStatus";
}

void notify_classify(int status, const char *body, size_t len, struct notify_result *out)
{
	cJSON *root = body != NULL && len > 0 ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
	const cJSON *errors = cJSON_GetObjectItemCaseSensitive(root, "errors");
	const cJSON *first = cJSON_IsArray(errors) ? cJSON_GetArrayItem(errors, 0) : NULL;
	const cJSON *cls = cJSON_GetObjectItemCaseSensitive(first, "error");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(first, "message");

	memset(out, 0, sizeof *out);
	out->status = status;
	out->outcome = status_outcome(status);
	if (out->outcome == NOTIFY_SENT && cJSON_IsString(id) && text_is_uuid(id->valuestring))
		snprintf(out->id, sizeof out->id, "%s", id->valuestring);
	if (out->outcome != NOTIFY_SENT) {
		if (cJSON_IsString(cls))
			copy_class(out->error, sizeof out->error, cls->valuestring);
		if (out->error[0] == '\0')
			snprintf(out->error, sizeof out->error, "%s", status_class(status));
		if (cJSON_IsString(msg))
			copy_message(out->message, sizeof out->message, msg->valuestring);
		else if (status != 0)
			snprintf(out->message, sizeof out->message, "HTTP status %d", status);
	}
	cJSON_Delete(root);
}

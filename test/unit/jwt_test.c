/*
 * jwt_test.c - ID token checks: RS256 and ES256 signatures against a JWK set
 * built here from fresh keys, refused algorithms, forged and tampered tokens,
 * and each claim rule; PKCE against RFC 7636's own example.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include "jwt.h"
#include "xmalloc.h"

#define NOW 1800000000
#define ISS "https://idp.example.nhs.uk"
#define CLIENT "carebridge"
#define NONCE "n-0S6_WzA2Mj"

static EVP_PKEY *rsa_a, *rsa_b, *ec_a;

static int setup(void **state)
{
	rsa_a = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	rsa_b = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec_a = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return rsa_a == NULL || rsa_b == NULL || ec_a == NULL;
}

static int teardown(void **state)
{
	EVP_PKEY_free(rsa_a);
	EVP_PKEY_free(rsa_b);
	EVP_PKEY_free(ec_a);
	return 0;
}

static char *b64(const unsigned char *in, size_t len)
{
	char *out = xmalloc(len * 4 / 3 + 4);

	b64url_encode(in, len, out, len * 4 / 3 + 4);
	return out;
}

static char *bn_b64(const EVP_PKEY *k, const char *name)
{
	BIGNUM *bn = NULL;
	unsigned char buf[512];
	int n;

	assert_int_equal(EVP_PKEY_get_bn_param(k, name, &bn), 1);
	n = BN_bn2bin(bn, buf);
	BN_free(bn);
	return b64(buf, (size_t)n);
}

/* A JWK of k's public half with kid. */
static cJSON *jwk_of(EVP_PKEY *k, const char *kid)
{
	cJSON *j = cJSON_CreateObject();
	char *a, *b;

	cJSON_AddStringToObject(j, "kid", kid);
	cJSON_AddStringToObject(j, "use", "sig");
	if (EVP_PKEY_is_a(k, "RSA")) {
		a = bn_b64(k, OSSL_PKEY_PARAM_RSA_N);
		b = bn_b64(k, OSSL_PKEY_PARAM_RSA_E);
		cJSON_AddStringToObject(j, "kty", "RSA");
		cJSON_AddStringToObject(j, "n", a);
		cJSON_AddStringToObject(j, "e", b);
	} else {
		unsigned char pt[65];
		size_t len = 0;

		assert_int_equal(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt,
		                                                 sizeof pt, &len),
		                 1);
		assert_int_equal(len, 65);
		a = b64(pt + 1, 32);
		b = b64(pt + 33, 32);
		cJSON_AddStringToObject(j, "kty", "EC");
		cJSON_AddStringToObject(j, "crv", "P-256");
		cJSON_AddStringToObject(j, "x", a);
		cJSON_AddStringToObject(j, "y", b);
	}
	free(a);
	free(b);
	return j;
}

/* The provider's published set: rsa_a as "r1", ec_a as "e1". */
static cJSON *jwks(void)
{
	cJSON *set = cJSON_CreateObject();
	cJSON *keys = cJSON_AddArrayToObject(set, "keys");

	cJSON_AddItemToArray(keys, jwk_of(rsa_a, "r1"));
	cJSON_AddItemToArray(keys, jwk_of(ec_a, "e1"));
	return set;
}

/* Sign header.claims with k (RS256 or ES256 by key type); a new compact token. */
static char *sign(EVP_PKEY *k, const char *header, const char *claims)
{
	char *h = b64((const unsigned char *)header, strlen(header));
	char *c = b64((const unsigned char *)claims, strlen(claims));
	char *input = xasprintf("%s.%s", h, c), *s, *tok;
	unsigned char sig[512], raw[64];
	size_t len = sizeof sig;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &len, (const unsigned char *)input, strlen(input)),
	                 1);
	EVP_MD_CTX_free(md);
	if (EVP_PKEY_is_a(k, "EC")) {
		/* JOSE wants r||s, not DER */
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
		const BIGNUM *r, *ss;

		ECDSA_SIG_get0(es, &r, &ss);
		BN_bn2binpad(r, raw, 32);
		BN_bn2binpad(ss, raw + 32, 32);
		ECDSA_SIG_free(es);
		s = b64(raw, 64);
	} else {
		s = b64(sig, len);
	}
	tok = xasprintf("%s.%s", input, s);
	free(h);
	free(c);
	free(input);
	free(s);
	return tok;
}

static char *claims_with(const char *extra)
{
	return xasprintf("{\"iss\":\"" ISS "\",\"aud\":\"" CLIENT "\",\"sub\":\"u-42\","
	                 "\"nonce\":\"" NONCE "\",\"iat\":%d,\"exp\":%d%s}",
	                 NOW - 10, NOW + 300, extra);
}

/* Decode, verify and check tok; the status and the field at fault. */
static enum status check(const char *tok, struct err *err)
{
	struct jwt j;
	struct jwt_expect e = {ISS, CLIENT, NONCE, NOW};
	cJSON *set = jwks();
	enum status st = jwt_decode(tok, &j, err);

	if (st == ST_OK)
		st = jwt_verify(&j, set, err);
	if (st == ST_OK)
		st = jwt_check_claims(&j, &e, err);
	jwt_reset(&j);
	cJSON_Delete(set);
	return st;
}

static void test_valid_rs256_and_es256(void **state)
{
	char *c = claims_with("");
	char *t1 = sign(rsa_a, "{\"alg\":\"RS256\",\"kid\":\"r1\"}", c);
	char *t2 = sign(ec_a, "{\"alg\":\"ES256\",\"kid\":\"e1\"}", c);
	struct err err = {"", ""};
	struct jwt j;

	assert_int_equal(check(t1, &err), ST_OK);
	assert_int_equal(check(t2, &err), ST_OK);
	assert_int_equal(jwt_decode(t1, &j, NULL), ST_OK);
	assert_string_equal(jwt_claim_string(&j, "sub"), "u-42");
	assert_null(jwt_claim_string(&j, "iat"));
	jwt_reset(&j);
	free(c);
	free(t1);
	free(t2);
}

static void test_forged_and_tampered(void **state)
{
	char *c = claims_with("");
	char *forged = sign(rsa_b, "{\"alg\":\"RS256\",\"kid\":\"r1\"}", c);
	char *unknown = sign(rsa_b, "{\"alg\":\"RS256\",\"kid\":\"r9\"}", c);
	char *good = sign(rsa_a, "{\"alg\":\"RS256\",\"kid\":\"r1\"}", c);
	char *wrong_type = sign(rsa_a, "{\"alg\":\"RS256\",\"kid\":\"e1\"}", c);
	char *other = claims_with(",\"email\":\"x@y\"");
	char *other_b64 = b64((const unsigned char *)other, strlen(other));
	char *dot1 = strchr(good, '.'), *dot2 = strchr(dot1 + 1, '.');
	char *tampered = xasprintf("%.*s.%s%s", (int)(dot1 - good), good, other_b64, dot2);
	struct err err;

	assert_int_equal(check(forged, &err), ST_UNAUTHORIZED);
	assert_string_equal(err.message, "ID token signature is not valid");
	assert_int_equal(check(unknown, &err), ST_UNAUTHORIZED);
	assert_string_equal(err.message,
	                    "ID token is signed with a key the provider does not publish");
	assert_int_equal(check(wrong_type, &err), ST_UNAUTHORIZED);
	assert_int_equal(check(tampered, &err), ST_UNAUTHORIZED);
	assert_string_equal(err.message, "ID token signature is not valid");
	free(c);
	free(forged);
	free(unknown);
	free(good);
	free(wrong_type);
	free(other);
	free(other_b64);
	free(tampered);
}

static void test_refused_algorithms_and_shapes(void **state)
{
	char *c = claims_with("");
	char *cb = b64((const unsigned char *)c, strlen(c));
	static const char *const headers[] = {
	    "{\"alg\":\"none\"}",
	    "{\"alg\":\"HS256\",\"kid\":\"r1\"}",
	    "{\"alg\":\"RS512\"}",
	    "{\"kid\":\"r1\"}",
	    "[1]",
	};
	struct err err;
	struct jwt j;

	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
		char *hb = b64((const unsigned char *)headers[i], strlen(headers[i]));
		char *tok = xasprintf("%s.%s.c2ln", hb, cb);

		assert_int_equal(jwt_decode(tok, &j, &err), ST_UNAUTHORIZED);
		free(hb);
		free(tok);
	}
	assert_int_equal(jwt_decode("abc", &j, &err), ST_UNAUTHORIZED);
	assert_int_equal(jwt_decode("a.b.c.d", &j, &err), ST_UNAUTHORIZED);
	assert_int_equal(jwt_decode("!!.??.**", &j, &err), ST_UNAUTHORIZED);
	assert_int_equal(jwt_decode("", &j, &err), ST_UNAUTHORIZED);
	assert_int_equal(jwt_decode(NULL, &j, &err), ST_UNAUTHORIZED);
	free(c);
	free(cb);
}

static void test_claims(void **state)
{
	static const struct {
		const char *claims; /* iat NOW - 10, exp NOW + 300 */
		const char *field;  /* "" when valid */
	} cases[] = {
	    {"{\"iss\":\"https://evil\",\"aud\":\"" CLIENT "\",\"sub\":\"s\",\"nonce\":\"" NONCE
	     "\",\"iat\":1799999990,\"exp\":1800000300}",
	     "iss"},
	    {"{\"iss\":\"" ISS "\",\"aud\":\"other\",\"sub\":\"s\",\"nonce\":\"" NONCE
	     "\",\"iat\":1799999990,\"exp\":1800000300}",
	     "aud"},
	    {"{\"iss\":\"" ISS "\",\"aud\":[\"other\",\"" CLIENT "\"],\"azp\":\"" CLIENT
	     "\",\"sub\":\"s\",\"nonce\":\"" NONCE "\",\"iat\":1799999990,\"exp\":1800000300}",
	     ""},
	    {"{\"iss\":\"" ISS "\",\"aud\":[\"other\",\"" CLIENT "\"],\"azp\":\"other\","
	     "\"sub\":\"s\",\"nonce\":\"" NONCE "\",\"iat\":1799999990,\"exp\":1800000300}",
	     "aud"},
	    {"{\"iss\":\"" ISS "\",\"aud\":\"" CLIENT "\",\"sub\":\"s\",\"nonce\":\"replayed\","
	     "\"iat\":1799999990,\"exp\":1800000300}",
	     "nonce"},
	    {"{\"iss\":\"" ISS "\",\"aud\":\"" CLIENT
	     "\",\"sub\":\"s\",\"iat\":1799999990,\"exp\":1800000300}",
	     "nonce"},
	    {"{\"iss\":\"" ISS "\",\"aud\":\"" CLIENT "\",\"nonce\":\"" NONCE
	     "\",\"iat\":1799999990,\"exp\":1800000300}",
	     "sub"},
	};
	struct err err;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *t = sign(rsa_a, "{\"alg\":\"RS256\",\"kid\":\"r1\"}", cases[i].claims);
		enum status st = check(t, &err);

		if (cases[i].field[0] == '\0') {
			assert_int_equal(st, ST_OK);
		} else {
			assert_int_equal(st, ST_UNAUTHORIZED);
			assert_string_equal(err.field, cases[i].field);
		}
		free(t);
	}
}

/* exp, iat and nbf with JWT_SKEW_S of tolerance, at the boundaries. */
static void test_times(void **state)
{
	static const struct {
		int iat, exp, nbf; /* relative to NOW; nbf 0 = absent */
		const char *field;
	} cases[] = {
	    {-600, -JWT_SKEW_S + 1, 0, ""},    /* expired, but within the skew */
	    {-600, -JWT_SKEW_S, 0, "exp"},     /* expired by the skew exactly */
	    {-600, -3600, 0, "exp"},           /* long expired */
	    {JWT_SKEW_S, 600, 0, ""},          /* issued a little in the future */
	    {JWT_SKEW_S + 1, 600, 0, "iat"},   /* issued too far in the future */
	    {-10, 600, JWT_SKEW_S + 5, "nbf"}, /* not valid yet */
	    {-10, 600, 5, ""},                 /* nbf within the skew */
	};
	struct err err;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char nbf[32] = "";
		char *c, *t;
		enum status st;

		if (cases[i].nbf != 0)
			snprintf(nbf, sizeof nbf, ",\"nbf\":%d", NOW + cases[i].nbf);
		c = xasprintf("{\"iss\":\"" ISS "\",\"aud\":\"" CLIENT "\",\"sub\":\"s\","
		              "\"nonce\":\"" NONCE "\",\"iat\":%d,\"exp\":%d%s}",
		              NOW + cases[i].iat, NOW + cases[i].exp, nbf);
		t = sign(ec_a, "{\"alg\":\"ES256\",\"kid\":\"e1\"}", c);
		st = check(t, &err);
		if (cases[i].field[0] == '\0') {
			if (st != ST_OK)
				fail_msg("case %zu: %s", i, err.message);
		} else {
			assert_int_equal(st, ST_UNAUTHORIZED);
			assert_string_equal(err.field, cases[i].field);
		}
		free(c);
		free(t);
	}
}

/* RFC 7636 appendix B. */
static void test_pkce(void **state)
{
	char out[44];

	pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", out);
	assert_string_equal(out, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_rs256_and_es256),
	    cmocka_unit_test(test_forged_and_tampered),
	    cmocka_unit_test(test_refused_algorithms_and_shapes),
	    cmocka_unit_test(test_claims),
	    cmocka_unit_test(test_times),
	    cmocka_unit_test(test_pkce),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

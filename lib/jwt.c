/*
 * jwt.c - ID token decoding, signature and claim checks (see jwt.h).
 *
 * Keys are built from their JWK parameters with OpenSSL 3's EVP_PKEY_fromdata
 * and thrown away after each check: the key set is small and a sign-in is
 * rare, so nothing is cached here.
 */
#include "jwt.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>
#include <sodium.h>

#include "xmalloc.h"

void b64url_encode(const unsigned char *in, size_t len, char *out, size_t size)
{
	sodium_bin2base64(out, size, in, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void pkce_challenge(const char *verifier, char out[44])
{
	unsigned char hash[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)verifier, strlen(verifier), hash);
	b64url_encode(hash, sizeof hash, out, 44);
}

/* Decode len bytes of base64url (no padding) into a new buffer; NULL if malformed. */
static unsigned char *b64url_decode(const char *in, size_t len, size_t *out_len)
{
	unsigned char *out = xmalloc(len * 3 / 4 + 3);

	if (sodium_base642bin(out, len * 3 / 4 + 3, in, len, NULL, out_len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Decode a base64url part holding a JSON object; NULL if it is not one. */
static cJSON *part_json(const char *in, size_t len)
{
	size_t n;
	unsigned char *raw = b64url_decode(in, len, &n);
	cJSON *obj;

	if (raw == NULL)
		return NULL;
	obj = cJSON_ParseWithLength((const char *)raw, n);
	free(raw);
	if (obj != NULL && !cJSON_IsObject(obj)) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

void jwt_reset(struct jwt *j)
{
	cJSON_Delete(j->header);
	cJSON_Delete(j->claims);
	free(j->sig);
	free(j->signing_input);
	memset(j, 0, sizeof *j);
}

enum status jwt_decode(const char *token, struct jwt *out, struct err *err)
{
	const char *dot1, *dot2;
	const cJSON *alg, *kid;
	size_t len;

	memset(out, 0, sizeof *out);
	len = token != NULL ? strlen(token) : 0;
	if (len == 0 || len > JWT_MAX_LEN)
		return err_set(err, ST_UNAUTHORIZED, "id_token", "ID token is missing or too long");
	dot1 = strchr(token, '.');
	dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
	if (dot1 == NULL || dot2 == NULL || strchr(dot2 + 1, '.') != NULL)
		return err_set(err, ST_UNAUTHORIZED, "id_token",
		               "ID token is not a signed JWT in compact form");
	out->header = part_json(token, (size_t)(dot1 - token));
	out->claims = part_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	out->sig = b64url_decode(dot2 + 1, strlen(dot2 + 1), &out->sig_len);
	if (out->header == NULL || out->claims == NULL || out->sig == NULL) {
		jwt_reset(out);
		return err_set(err, ST_UNAUTHORIZED, "id_token", "ID token does not decode");
	}
	alg = cJSON_GetObjectItemCaseSensitive(out->header, "alg");
	if (!cJSON_IsString(alg) ||
	    (strcmp(alg->valuestring, "RS256") != 0 && strcmp(alg->valuestring, "ES256") != 0)) {
		jwt_reset(out);
		return err_set(err, ST_UNAUTHORIZED, "id_token",
		               "ID token algorithm must be RS256 or ES256");
	}
	snprintf(out->alg, sizeof out->alg, "%s", alg->valuestring);
	kid = cJSON_GetObjectItemCaseSensitive(out->header, "kid");
	if (cJSON_IsString(kid) && strlen(kid->valuestring) < sizeof out->kid)
		snprintf(out->kid, sizeof out->kid, "%s", kid->valuestring);
	out->signing_len = (size_t)(dot2 - token);
	out->signing_input = xmalloc(out->signing_len + 1);
	memcpy(out->signing_input, token, out->signing_len);
	out->signing_input[out->signing_len] = '\0';
	return ST_OK;
}

/* A JWK's base64url member as a BIGNUM; NULL if absent or malformed. */
static BIGNUM *jwk_bn(const cJSON *jwk, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(jwk, name);
	unsigned char *raw;
	size_t n;
	BIGNUM *bn;

	if (!cJSON_IsString(v))
		return NULL;
	raw = b64url_decode(v->valuestring, strlen(v->valuestring), &n);
	if (raw == NULL)
		return NULL;
	bn = BN_bin2bn(raw, (int)n, NULL);
	free(raw);
	return bn;
}

/* An RSA public key from a JWK's n and e; NULL if malformed. */
static EVP_PKEY *rsa_key(const cJSON *jwk)
{
	BIGNUM *n = jwk_bn(jwk, "n"), *e = jwk_bn(jwk, "e");
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;

	if (n == NULL || e == NULL || bld == NULL || BN_num_bits(n) < 2048)
		goto out;
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		key = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return key;
}

/* Copy a JWK's base64url member of exactly len bytes into out; false otherwise. */
static bool jwk_fixed(const cJSON *jwk, const char *name, unsigned char *out, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(jwk, name);
	unsigned char *raw;
	size_t n;

	if (!cJSON_IsString(v))
		return false;
	raw = b64url_decode(v->valuestring, strlen(v->valuestring), &n);
	if (raw == NULL)
		return false;
	if (n == len)
		memcpy(out, raw, len);
	free(raw);
	return n == len;
}

/* A P-256 public key from a JWK's x and y; NULL if malformed or not on the curve. */
static EVP_PKEY *ec_key(const cJSON *jwk)
{
	const cJSON *crv = cJSON_GetObjectItemCaseSensitive(jwk, "crv");
	unsigned char point[65];
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *key = NULL;
	char group[] = "prime256v1";

	if (!cJSON_IsString(crv) || strcmp(crv->valuestring, "P-256") != 0)
		return NULL;
	point[0] = 0x04; /* uncompressed */
	if (!jwk_fixed(jwk, "x", point + 1, 32) || !jwk_fixed(jwk, "y", point + 33, 32))
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	if (key != NULL) {
		/* a point not on the curve must not verify anything */
		EVP_PKEY_CTX *check = EVP_PKEY_CTX_new(key, NULL);

		if (check == NULL || EVP_PKEY_public_check(check) != 1) {
			EVP_PKEY_free(key);
			key = NULL;
		}
		EVP_PKEY_CTX_free(check);
	}
	return key;
}

/* The JWK of jwks that verifies j: its kid, else the only key of its type. */
static const cJSON *find_key(const struct jwt *j, const cJSON *jwks)
{
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(jwks, "keys");
	const char *kty = strcmp(j->alg, "RS256") == 0 ? "RSA" : "EC";
	const cJSON *k, *found = NULL;
	int candidates = 0;

	if (!cJSON_IsArray(keys))
		return NULL;
	cJSON_ArrayForEach(k, keys)
	{
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(k, "kty");
		const cJSON *kid = cJSON_GetObjectItemCaseSensitive(k, "kid");
		const cJSON *use = cJSON_GetObjectItemCaseSensitive(k, "use");
		const cJSON *alg = cJSON_GetObjectItemCaseSensitive(k, "alg");

		if (!cJSON_IsString(t) || strcmp(t->valuestring, kty) != 0)
			continue;
		if (cJSON_IsString(use) && strcmp(use->valuestring, "sig") != 0)
			continue;
		if (cJSON_IsString(alg) && strcmp(alg->valuestring, j->alg) != 0)
			continue;
		if (j->kid[0] != '\0') {
			if (cJSON_IsString(kid) && strcmp(kid->valuestring, j->kid) == 0)
				return k;
			continue;
		}
		found = k;
		candidates++;
	}
	return candidates == 1 ? found : NULL;
}

/* ES256's raw r||s signature as DER for OpenSSL; NULL if not 64 bytes. */
static unsigned char *es256_der(const unsigned char *sig, size_t len, size_t *der_len)
{
	ECDSA_SIG *s;
	BIGNUM *r, *ss;
	unsigned char *der = NULL, *p;
	int n;

	if (len != 64)
		return NULL;
	s = ECDSA_SIG_new();
	r = BN_bin2bn(sig, 32, NULL);
	ss = BN_bin2bn(sig + 32, 32, NULL);
	if (s == NULL || r == NULL || ss == NULL || ECDSA_SIG_set0(s, r, ss) != 1) {
		BN_free(r);
		BN_free(ss);
		ECDSA_SIG_free(s);
		return NULL;
	}
	n = i2d_ECDSA_SIG(s, NULL);
	if (n > 0) {
		der = xmalloc((size_t)n);
		p = der;
		*der_len = (size_t)i2d_ECDSA_SIG(s, &p);
	}
	ECDSA_SIG_free(s);
	return der;
}

enum status jwt_verify(const struct jwt *j, const cJSON *jwks, struct err *err)
{
	const cJSON *jwk = find_key(j, jwks);
	bool rsa = strcmp(j->alg, "RS256") == 0;
	EVP_PKEY *key;
	EVP_MD_CTX *md = NULL;
	unsigned char *der = NULL;
	const unsigned char *sig = j->sig;
	size_t sig_len = j->sig_len;
	int ok = 0;

	if (jwk == NULL)
		return err_set(err, ST_UNAUTHORIZED, "id_token",
		               "ID token is signed with a key the provider does not publish");
	key = rsa ? rsa_key(jwk) : ec_key(jwk);
	if (key == NULL)
		return err_set(err, ST_UNAUTHORIZED, "id_token",
		               "the provider's signing key is not usable");
	if (!rsa) {
		der = es256_der(j->sig, j->sig_len, &sig_len);
		sig = der;
	}
	md = EVP_MD_CTX_new();
	if (sig != NULL && md != NULL &&
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1)
		ok = EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)j->signing_input,
		                      j->signing_len);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	free(der);
	if (ok != 1)
		return err_set(err, ST_UNAUTHORIZED, "id_token", "ID token signature is not valid");
	return ST_OK;
}

const char *jwt_claim_string(const struct jwt *j, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j->claims, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A numeric date claim into *out; false if absent or not a number. */
static bool claim_time(const struct jwt *j, const char *name, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j->claims, name);

	if (!cJSON_IsNumber(v))
		return false;
	*out = (int64_t)v->valuedouble;
	return true;
}

/* Whether "aud" is client_id or an array holding it. */
static bool audience_ok(const struct jwt *j, const char *client_id)
{
	const cJSON *aud = cJSON_GetObjectItemCaseSensitive(j->claims, "aud");
	const cJSON *a;

	if (cJSON_IsString(aud))
		return strcmp(aud->valuestring, client_id) == 0;
	if (!cJSON_IsArray(aud))
		return false;
	cJSON_ArrayForEach(a, aud)
	{
		if (cJSON_IsString(a) && strcmp(a->valuestring, client_id) == 0)
			return true;
	}
	return false;
}

enum status jwt_check_claims(const struct jwt *j, const struct jwt_expect *e, struct err *err)
{
	const char *iss = jwt_claim_string(j, "iss");
	const char *azp = jwt_claim_string(j, "azp");
	const char *nonce = jwt_claim_string(j, "nonce");
	const char *sub = jwt_claim_string(j, "sub");
	int64_t exp, iat, nbf;

	if (iss == NULL || strcmp(iss, e->issuer) != 0)
		return err_set(err, ST_UNAUTHORIZED, "iss", "ID token is from another issuer");
	if (!audience_ok(j, e->client_id) || (azp != NULL && strcmp(azp, e->client_id) != 0))
		return err_set(err, ST_UNAUTHORIZED, "aud", "ID token is for another client");
	if (!claim_time(j, "exp", &exp) || exp + JWT_SKEW_S <= e->now)
		return err_set(err, ST_UNAUTHORIZED, "exp", "ID token has expired");
	if (!claim_time(j, "iat", &iat) || iat - JWT_SKEW_S > e->now)
		return err_set(err, ST_UNAUTHORIZED, "iat", "ID token is issued in the future");
	if (claim_time(j, "nbf", &nbf) && nbf - JWT_SKEW_S > e->now)
		return err_set(err, ST_UNAUTHORIZED, "nbf", "ID token is not valid yet");
	if (nonce == NULL || e->nonce == NULL || e->nonce[0] == '\0' ||
	    strcmp(nonce, e->nonce) != 0)
		return err_set(err, ST_UNAUTHORIZED, "nonce",
		               "ID token does not answer this sign-in (nonce)");
	if (sub == NULL || sub[0] == '\0')
		return err_set(err, ST_UNAUTHORIZED, "sub", "ID token names no subject");
	return ST_OK;
}

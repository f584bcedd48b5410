/*
 * jwt.h - checking an OpenID Connect ID token: a JWS in compact form signed
 * with RS256 or ES256, verified against the provider's JSON Web Key Set, and
 * its claims checked against what the sign-in expects.
 *
 * Pure: no I/O and no clock (callers pass now).  The key set and the token
 * come from the network through server/oidc.c; this module trusts neither.
 * Only "RS256" and "ES256" are accepted: "none", HMAC algorithms (whose key
 * an attacker could take from the public key set) and everything else are
 * refused before any key is looked at.
 */
#ifndef CB_JWT_H
#define CB_JWT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "status.h"

#define JWT_MAX_LEN 16384 /* bytes of a compact token carebridge will look at */
#define JWT_SKEW_S 60     /* seconds of clock difference tolerated on exp, iat, nbf */

/* A decoded token: its parts, not yet trusted. */
struct jwt {
	cJSON *header;       /* owned: the JOSE header */
	cJSON *claims;       /* owned: the payload */
	char alg[8];         /* "RS256" or "ES256" */
	char kid[128];       /* the key id, "" if none */
	unsigned char *sig;  /* owned: the signature bytes */
	size_t sig_len;      /* their length */
	char *signing_input; /* owned: "<header>.<payload>" as received */
	size_t signing_len;  /* its length */
};

/* What the sign-in expects of the token's claims. */
struct jwt_expect {
	const char *issuer;    /* "iss" must equal this exactly */
	const char *client_id; /* "aud" must be or contain it; "azp", if present, equal it */
	const char *nonce;     /* "nonce" must equal this exactly */
	int64_t now;           /* seconds since the epoch */
};

/*
 * Decode a compact JWS (three base64url parts) into out (caller frees with
 * jwt_reset).  ST_UNAUTHORIZED with a reason for anything malformed, an
 * algorithm other than RS256/ES256, or a token over JWT_MAX_LEN.
 */
enum status jwt_decode(const char *token, struct jwt *out, struct err *err);

/*
 * Verify j's signature with the key of jwks (a JWK Set: {"keys": [...]})
 * that matches its kid (or, without a kid, the only key of its type).
 * RSA keys need n and e; EC keys crv "P-256", x and y.  ST_UNAUTHORIZED when
 * no key matches or the signature is wrong.
 */
enum status jwt_verify(const struct jwt *j, const cJSON *jwks, struct err *err);

/*
 * Check iss, aud (and azp), exp, iat, nbf (JWT_SKEW_S of tolerance) and
 * nonce.  ST_UNAUTHORIZED naming the claim at fault.
 */
enum status jwt_check_claims(const struct jwt *j, const struct jwt_expect *e, struct err *err);

/* A string claim of j ("sub", "email", ...), or NULL if absent or not a string. */
const char *jwt_claim_string(const struct jwt *j, const char *name);

/* Free what j owns and zero it. */
void jwt_reset(struct jwt *j);

/*
 * Base64url without padding of len bytes into out (size at least
 * 4 * ((len + 2) / 3) + 1).
 */
void b64url_encode(const unsigned char *in, size_t len, char *out, size_t size);

/*
 * The PKCE S256 code challenge of verifier: base64url(SHA-256(verifier)),
 * 43 characters and a NUL (RFC 7636).
 */
void pkce_challenge(const char *verifier, char out[44]);

#endif

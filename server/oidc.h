/*
 * oidc.h - the trust's OpenID Connect provider as carebridge sees it: its
 * discovery document and signing keys (fetched, checked and cached) and the
 * token endpoint.  The sign-in flow itself (state, nonce, PKCE, sessions) is
 * api_oidc.c's; the token checks are lib/jwt.c's.
 */
#ifndef CB_OIDC_H
#define CB_OIDC_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "status.h"

struct app;
struct oidc;

#define OIDC_URL_MAX 512

/* What discovery said, checked: every endpoint https:// (or loopback http://). */
struct oidc_meta {
	char issuer[OIDC_URL_MAX];                 /* equal to the configured issuer */
	char authorization_endpoint[OIDC_URL_MAX]; /* where the browser signs in */
	char token_endpoint[OIDC_URL_MAX];         /* where codes become tokens */
	char end_session_endpoint[OIDC_URL_MAX];   /* single logout; "" if none */
	const cJSON *jwks;                         /* the key set; borrowed until the next fetch */
};

/*
 * The provider of app's configuration, or NULL when none is configured
 * (oidc_issuer empty) or TLS cannot be set up (then err says why).
 */
struct oidc *oidc_new(struct app *app, char *err, size_t size);

/* Free o (NULL does nothing); waiters are answered ST_UNAVAILABLE first. */
void oidc_free(struct oidc *o);

typedef void oidc_meta_cb(enum status st, const struct err *err, const struct oidc_meta *m,
                          void *arg);

/*
 * The provider's metadata, fetched when there is none, when it is over an
 * hour old, or (refresh_keys) to pick up a rotated signing key (at most
 * once a minute, the first time at once).  cb runs later from the loop: ST_OK, or ST_UNAVAILABLE
 * when the provider cannot be reached or its answer is not acceptable.
 */
void oidc_meta_get(struct oidc *o, bool refresh_keys, oidc_meta_cb *cb, void *arg);

typedef void oidc_token_cb(enum status st, const struct err *err, const char *id_token, void *arg);

/*
 * Exchange an authorization code (with its PKCE verifier) at the token
 * endpoint for an ID token, not yet checked.  cb runs later from the loop.
 */
void oidc_exchange(struct oidc *o, const struct oidc_meta *m, const char *code,
                   const char *verifier, oidc_token_cb *cb, void *arg);

#endif

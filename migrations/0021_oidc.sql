-- Sign-in through the trust's identity provider (OpenID Connect) and a
-- second factor for the local accounts that remain (issue 20).
--
-- users.oidc_subject: the value of the configured claim (oidc_user_claim:
--   "sub" or "email") that identifies this carebridge user at the provider.
--   Roles and wards stay carebridge's.
-- users.totp_secret / totp_last_step: an RFC 6238 shared secret and the last
--   time step accepted, so a code is never accepted twice.
-- tokens.id_token: the provider's ID token of a session signed in through it,
--   sent back as id_token_hint when the user signs out (single logout).
-- oidc_logins: sign-ins in flight between the redirect to the provider and
--   its callback: state, nonce and PKCE verifier, each used once, within
--   10 minutes.
ALTER TABLE users ADD COLUMN oidc_subject text UNIQUE
	CHECK (oidc_subject IS NULL OR length(oidc_subject) BETWEEN 1 AND 255);
ALTER TABLE users ADD COLUMN totp_secret bytea CHECK (totp_secret IS NULL OR length(totp_secret) = 20);
ALTER TABLE users ADD COLUMN totp_last_step bigint;
ALTER TABLE tokens ADD COLUMN id_token text;

CREATE TABLE oidc_logins (
	state       text PRIMARY KEY CHECK (length(state) BETWEEN 32 AND 64),
	nonce       text NOT NULL CHECK (length(nonce) BETWEEN 32 AND 64),
	verifier    text NOT NULL CHECK (length(verifier) BETWEEN 43 AND 128),
	created_at  timestamptz NOT NULL DEFAULT now()
);

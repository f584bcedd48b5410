/*
 * store_user.h - users, wards and API tokens for the command line (`carebridge
 * user ...`, `carebridge ward ...`).  BLOCKING libpq: command-line only, never
 * called from the event loop.  Every change is audited with actor "cli".
 */
#ifndef CB_STORE_USER_H
#define CB_STORE_USER_H

#include <stdbool.h>
#include <stdio.h>

#include "status.h"

struct cli_db;

/* Connect (blocking); NULL and err filled on failure. */
struct cli_db *cli_db_open(const char *conninfo, struct err *err);
void cli_db_close(struct cli_db *db);

/*
 * Add a user of organisation organisation_id (checked by the caller:
 * role_fits_organisation); wards (n of them) must exist.  Writes the new id
 * into id_out[37].
 */
enum status cli_user_add(struct cli_db *db, const char *name, const char *display_name,
                         const char *role, bool team_lead, const char *const *wards, int nwards,
                         const char *password_hash, const char *organisation_id, char id_out[37],
                         struct err *err);

/* Print every user, one per line, to out. */
enum status cli_user_list(struct cli_db *db, FILE *out, struct err *err);

/* Disable a user and revoke their tokens and sessions. */
enum status cli_user_disable(struct cli_db *db, const char *name, struct err *err);

/*
 * Forget a user's failed sign-ins, unlocking its name (audited); *was_locked
 * says whether it was locked.  ST_NOT_FOUND when there is no such user.
 */
enum status cli_user_unlock(struct cli_db *db, const char *name, bool *was_locked, struct err *err);

/* Set or replace a user's password hash. */
enum status cli_user_set_password(struct cli_db *db, const char *name, const char *hash,
                                  struct err *err);

/* Store a new API token (hash only) for the user; id_out[37] gets its id. */
/*
 * Link the user called name to the identity provider's subject (the value of
 * oidc_user_claim), or unlink it (subject NULL); audited.  ST_CONFLICT when
 * another user has that subject, ST_NOT_FOUND when there is no such user.
 */
enum status cli_user_link(struct cli_db *db, const char *name, const char *subject,
                          struct err *err);

/* Set (secret_hex "\\x..." of 20 bytes) or remove (NULL) the user's TOTP secret; audited. */
enum status cli_user_totp(struct cli_db *db, const char *name, const char *secret_hex,
                          struct err *err);

enum status cli_token_issue(struct cli_db *db, const char *name, const char *hash_hex,
                            const char *label, long expires_seconds, char id_out[37],
                            struct err *err);

/*
 * Print user name's tokens and web sessions, one per line, to out: id, kind,
 * state (live, expired, revoked), created, expires, last used (to the hour:
 * serve records a use when the recorded one is over an hour old), label.
 */
enum status cli_token_list(struct cli_db *db, const char *name, FILE *out, struct err *err);

/* Revoke one token by id. */
enum status cli_token_revoke(struct cli_db *db, const char *token_id, struct err *err);

/* Add a ward. */
enum status cli_ward_add(struct cli_db *db, const char *code, const char *name, int beds,
                         const char *pas_code, struct err *err);

/* An organisation as the command line looks it up. */
struct cli_organisation {
	bool found;    /* the name matched one */
	char id[37];   /* its UUID */
	char code[33]; /* its code */
	char kind[16]; /* "trust", "local_authority", "hub", "provider" */
	bool disabled; /* disabled_at is set */
};

/* The organisation ref names (its id or its code); out->found false when none. */
enum status cli_organisation_find(struct cli_db *db, const char *ref, struct cli_organisation *out,
                                  struct err *err);

/*
 * Add an organisation (validated by the caller: lib/organisation.h);
 * services_json is a JSON array of service kinds, local_authority_id NULL for
 * none.  ST_CONFLICT when the code is taken.  Audited; id_out[37] gets its id.
 */
enum status cli_organisation_add(struct cli_db *db, const char *code, const char *name,
                                 const char *kind, const char *services_json,
                                 const char *local_authority_id, char id_out[37], struct err *err);

/* Print every organisation, one per line, to out. */
enum status cli_organisation_list(struct cli_db *db, FILE *out, struct err *err);

/* Disable organisation id; ST_CONFLICT for the trust or one disabled already.  Audited. */
enum status cli_organisation_disable(struct cli_db *db, const char *id, struct err *err);

#endif

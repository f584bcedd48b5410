/*
 * config.h - carebridge's settings: one table, parsed from an INI-style file and
 * overridden by CAREBRIDGE_<KEY> environment variables.
 *
 * The table (config.c) is the single source of truth: section, key, type,
 * default, bounds and help text.  config/carebridge.conf documents every key and
 * a unit test checks that it matches the table.  This module does no I/O: the
 * caller reads the file and passes the environment.
 */
#ifndef CB_CONFIG_H
#define CB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct config {
	/* [server] */
	char *listen_addr;           /* HTTP listen address */
	int listen_port;             /* HTTP port; 0 = any free port (tests) */
	int64_t http_timeout_ms;     /* read/write timeout of an HTTP connection */
	int64_t header_timeout_ms;   /* a request must arrive in full within this */
	int64_t max_body_size;       /* largest accepted request body, bytes */
	int64_t max_header_size;     /* largest accepted request headers, bytes */
	int64_t shutdown_timeout_ms; /* how long SIGTERM waits for in-flight requests */
	bool migrate_on_start;       /* serve applies pending migrations before listening */
	char *port_file;             /* where serve writes its real port ("" = nowhere) */
	int64_t session_ttl_ms;      /* how long a web session lasts */
	int64_t auth_cache_ttl_ms;   /* how long a token check may be reused */
	int64_t session_idle_ms;     /* a web session unused this long is refused */
	bool cookie_secure;          /* Secure, __Host- prefixed session cookie (behind HTTPS) */
	char *public_origin;         /* origin users' browsers reach us at ("" = derived) */
	char *fhir_base_url;         /* base of our FHIR names; the API at <it>/R4 ("" = derived) */
	int64_t token_max_life_ms;   /* longest expiry an API token may be issued with */
	int work_threads;            /* worker threads for password hashing */
	/* [signin] */
	int signin_backoff_after;       /* failures of one name before attempts must wait */
	int64_t signin_backoff_base_ms; /* the first wait; doubles with each failure */
	int64_t signin_backoff_max_ms;  /* the longest wait */
	int signin_lock_after;          /* failures that lock a name; 0 = never */
	int64_t signin_forget_after_ms; /* unlocked failures forgotten after this quiet; 0 never */
	int signin_address_limit;       /* attempts per client address per window */
	int64_t signin_address_window_ms; /* the window of signin_address_limit */
	int signin_queue_per_address;     /* password checks one address may have queued */
	char *trusted_proxies;            /* addresses whose X-Forwarded-For is believed */
	/* [database] */
	char *database_url;            /* libpq connection string or URI (application role) */
	char *database_owner_url;      /* the schema owner's, for migrations ("" = database_url) */
	int db_pool_size;              /* connections in the async pool */
	int db_queue_max;              /* requests waiting for a connection before 503 */
	int64_t db_connect_timeout_ms; /* connection attempt limit */
	int64_t db_statement_timeout_ms; /* server-side statement_timeout */
	int64_t db_retry_interval_ms;    /* wait between reconnection attempts */
	/* [stream] */
	int64_t sse_heartbeat_ms;     /* comment line sent to every stream this often */
	int64_t sse_retry_ms;         /* reconnection delay suggested to clients (retry:) */
	int sse_ring_size;            /* recent events kept in memory for replay */
	int64_t sse_max_buffer;       /* unsent bytes after which a subscriber is dropped */
	int64_t sse_max_total_buffer; /* unsent bytes of all subscribers: beyond, the slowest go */
	int sse_max_subscribers;      /* streams per process */
	int64_t event_retention_ms;   /* how long events stay in the table for replay */
	/* [stream], outbound webhooks */
	int64_t webhook_timeout_ms;     /* limit of one webhook delivery (connect to reply) */
	int64_t webhook_max_backoff_ms; /* longest wait between retries of a failed delivery */
	int64_t webhook_lease_ms;       /* how long a process holds a webhook without renewing */
	char *webhook_ca_file;          /* CA certificates for https receivers ("" = system's) */
	/* [chase] */
	int64_t chase_first_after_ms;        /* overdue this long before the first chase */
	int64_t chase_repeat_ms;             /* between chases at one level */
	int64_t chase_level2_after_ms;       /* overdue this long: escalate to the team lead */
	int64_t chase_level3_after_ms;       /* overdue this long: escalate to the bed manager */
	int64_t assessment_chase_after_ms;   /* a referral not sent is chased after this */
	int64_t referral_accept_within_ms;   /* a referral not accepted is chased after this */
	int64_t delay_reason_chase_after_ms; /* deprecated: read as barrier_chase_after_ms */
	int64_t barrier_chase_after_ms; /* an NCTR patient without an open barrier, after this */
	char *test_clock_file;          /* tests only: read "now" from this file */
	char *board_round_times; /* "09:00,16:00": board rounds, London time (lib/review.h) */
	/* [messages] (issue 17: chases by e-mail and text message) */
	char *message_email;          /* "smtp", "notify" or "off" */
	char *message_sms;            /* "notify" or "off" */
	int message_max_attempts;     /* attempts before a permanent failure */
	int64_t message_retry_min_ms; /* first wait after a failed attempt (doubling) */
	int64_t message_retry_max_ms; /* longest wait between attempts */
	int64_t message_lease_ms;     /* a claimed message is another process's after this */
	int message_threads;          /* worker threads that send (blocking SMTP) */
	char *digest_times;           /* "07:30,19:30": shift digests, London time ("" = none) */
	char *smtp_host;              /* the relay ("" = no e-mail over SMTP) */
	int smtp_port;                /* its port */
	char *smtp_starttls;          /* "required" or "off" */
	char *smtp_username;          /* AUTH user ("" = no AUTH) */
	char *smtp_password;          /* its password (secret) */
	char *smtp_password_file;     /* or a file holding it */
	char *smtp_from;              /* From: and MAIL FROM address */
	char *smtp_helo;              /* our name in EHLO ("" = smtp_from's domain) */
	char *smtp_ca_file;           /* CAs for the relay's certificate ("" = system's) */
	int64_t smtp_timeout_ms;      /* connect and each reply */
	/* [hl7] */
	char *mllp_listen_addr;       /* MLLP (HL7 v2) listen address */
	int mllp_port;                /* MLLP port; 0 = any free port (tests) */
	char *mllp_port_file;         /* where serve writes its real MLLP port ("" = nowhere) */
	char *mllp_allow;             /* client IP addresses, or "any"; "" = any on loopback */
	int64_t mllp_max_message;     /* largest HL7 message accepted, bytes */
	int mllp_max_connections;     /* open MLLP connections allowed at once */
	int64_t mllp_idle_timeout_ms; /* close an MLLP connection silent this long; 0 never */
	int64_t hl7_retention_ms;     /* how long received HL7 messages are kept */
	char *hl7_pathway_field;      /* where A01/A08 carry the likely pathway ("" = nowhere) */
	/* [hl7], MLLP over TLS */
	bool mllp_tls;                     /* the MLLP listener speaks TLS only */
	char *mllp_tls_cert_file;          /* PEM server certificate chain */
	char *mllp_tls_key_file;           /* PEM private key of mllp_tls_cert_file */
	char *mllp_tls_ca_file;            /* PEM CA certificates client certificates chain to */
	bool mllp_tls_require_client_cert; /* refuse a TLS client without a certificate */
	char *mllp_tls_allowed_clients;    /* comma-separated client certificate CNs; "" = any */
	/* [auth] */
	bool password_login;                 /* sign-in by user name and password allowed */
	bool totp_required;                  /* password sign-in also needs a TOTP code */
	char *oidc_issuer;                   /* OpenID Connect issuer ("" = none) */
	char *oidc_client_id;                /* our client id at the provider */
	char *oidc_client_secret;            /* and its secret */
	char *oidc_redirect_uri;             /* our callback URL, as registered */
	char *oidc_user_claim;               /* "sub" or "email": matched to users.oidc_subject */
	char *oidc_scopes;                   /* scopes asked for */
	char *oidc_button_label;             /* the sign-in page's button text */
	char *oidc_post_logout_redirect_uri; /* after single logout ("" = provider's page) */
	char *oidc_ca_file;                  /* CAs for the provider's https:// ("" = system's) */
	/* [notify] */
	char *notify_api_key;           /* GOV.UK Notify API key ("" = channel off); secret */
	char *notify_api_key_file;      /* file the key was read from ("" = none) */
	char *notify_base_url;          /* Notify's API, no trailing path */
	char *notify_email_template_id; /* e-mail template (UUID, "" = none) */
	char *notify_sms_template_id;   /* text message template (UUID, "" = none) */
	/* [log] */
	char *log_level;                  /* fatal, error, warning, log, debug */
	int64_t metrics_ward_interval_ms; /* how often the ward gauges are read */
	char *log_format;                 /* text, json */
	/* where each setting came from, for messages about it (config_origin) */
	char **origin; /* one per config_table entry, NULL = default; owned, NULL until set */
};

enum config_type {
	CONFIG_STRING,   /* any text */
	CONFIG_INT,      /* integer within min..max */
	CONFIG_BOOL,     /* true/false, on/off, yes/no, 1/0 */
	CONFIG_DURATION, /* 500ms, 30s, 5m, 1h, 2d; stored in milliseconds */
	CONFIG_SIZE,     /* 512, 16kB, 1MB (powers of 1024, as PostgreSQL); stored in bytes */
	CONFIG_ENUM,     /* one of the words in choices */
};

#define CONFIG_NO_RELOAD 0x1 /* takes effect only on restart */
#define CONFIG_SECRET 0x2    /* never printed */

struct config_entry {
	const char *section;        /* INI section without brackets */
	const char *key;            /* key; CAREBRIDGE_<KEY upper-cased> overrides it */
	enum config_type type;      /* how the value is parsed */
	size_t offset;              /* offsetof(struct config, field) */
	const char *def;            /* default, as it would be written in the file */
	int64_t min, max;           /* bounds for INT, DURATION (ms) and SIZE (bytes) */
	const char *const *choices; /* NULL-terminated words for CONFIG_ENUM */
	unsigned flags;             /* CONFIG_NO_RELOAD, CONFIG_SECRET */
	const char *help;           /* one line for the example file and --help */
};

/* The table, ending with an entry whose key is NULL. */
extern const struct config_entry config_table[];

/* Problems found while loading: each "where: reason", in order. */
struct config_errors {
	char **lines; /* owned */
	size_t n;     /* how many */
};

/* Fill cfg with every default.  Free it with config_free. */
void config_init(struct config *cfg);

/* Free what cfg owns (not cfg itself); config_free of a zeroed struct is fine. */
void config_free(struct config *cfg);

/*
 * The connection string migrations run with: database_owner_url, or
 * database_url when that is empty (one role for everything, as before the
 * roles were split).  Borrowed from cfg.
 */
const char *config_owner_url(const struct config *cfg);

/*
 * Parse INI text (not NUL-terminated, len bytes) into cfg.  Every problem is
 * appended to errs as "filename:line: reason"; parsing goes on after an error
 * so that all are reported.  Returns ST_OK or ST_INVALID.
 */
enum status config_parse(struct config *cfg, const char *text, size_t len, const char *filename,
                         struct config_errors *errs);

/*
 * Apply CAREBRIDGE_<KEY>=value overrides from envp (a NULL-terminated array as
 * environ).  Unknown CAREBRIDGE_ variables are errors, so typos are seen.
 * Returns ST_OK or ST_INVALID with errs filled ("environment CAREBRIDGE_X: ...").
 */
enum status config_apply_env(struct config *cfg, char *const *envp, struct config_errors *errs);

/*
 * Checks that involve more than one value or more than its type: the listen
 * address is an IP address, the database URL is not empty, an MLLP listener
 * off the loopback has an allow-list (or "any"), TLS settings go together.
 * Problems are appended to errs as "setting "x": reason", or as
 * "where: reason" (config_origin) when the setting at fault was written down.
 */
enum status config_validate(const struct config *cfg, struct config_errors *errs);

/*
 * Read the deprecated settings that were written down (file or environment) as
 * the settings that replaced them (delay_reason_chase_after as
 * barrier_chase_after, unless that is set too), and append a warning for each
 * to warnings ("where: setting "old" is deprecated ...").  Call after
 * config_apply_env; the caller logs the warnings, which are never errors.
 */
void config_deprecations(struct config *cfg, struct config_errors *warnings);

/* Set one key from text, as the file would; err gets the reason on failure. */
enum status config_set(struct config *cfg, const char *key, const char *value, struct err *err);

/*
 * Where key got its value: "file:line" or "environment CAREBRIDGE_KEY"; NULL
 * if it has its default (or was set by config_set).  Borrowed from cfg.
 */
const char *config_origin(const struct config *cfg, const char *key);

/* Whether addr is an IP address of the loopback (127.0.0.0/8, ::1, ::ffff:127.x.x.x). */
bool config_addr_is_loopback(const char *addr);

/* Whether the comma-separated list (items trimmed of spaces) holds name exactly. */
bool config_list_contains(const char *list, const char *name);

/* Find a key's table entry, or NULL. */
const struct config_entry *config_find(const char *key);

/* Free the lines of errs and empty it. */
void config_errors_reset(struct config_errors *errs);

/* Parse a duration ("30s") into milliseconds; false if it is not one. */
bool config_parse_duration(const char *s, int64_t *ms);

/* Parse a size ("16kB") into bytes; false if it is not one. */
bool config_parse_size(const char *s, int64_t *bytes);

/*
 * Whether url may carry sign-in traffic: https://, or http:// to a loopback
 * host (127.0.0.1, localhost, [::1]) for development and tests.
 */
bool config_url_is_secure(const char *url);

#endif

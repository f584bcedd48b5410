/*
 * config.c - the settings table and its parsers.
 *
 * Owns: config_table (every key carebridge knows), INI parsing, environment
 * overrides and value validation.  Must not: read files or the environment
 * itself, or log; callers hand in text and envp, and print the errors.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admission.h"
#include "csrf.h"
#include "notify.h"
#include "signin.h"
#include "review.h"
#include "fhir.h"
#include "hl7.h"
#include "xmalloc.h"

#define OFF(f) offsetof(struct config, f)
#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define KB 1024LL
#define MB (1024 * KB)

static const char *const log_levels[] = {"fatal", "error", "warning", "log", "debug", NULL};
static const char *const log_formats[] = {"text", "json", NULL};
static const char *const oidc_claims[] = {"sub", "email", NULL};
static const char *const message_email_kinds[] = {"smtp", "notify", "off", NULL};
static const char *const message_sms_kinds[] = {"notify", "off", NULL};
static const char *const smtp_tls_modes[] = {"required", "off", NULL};

const struct config_entry config_table[] = {
    {"server", "listen_addr", CONFIG_STRING, OFF(listen_addr), "127.0.0.1", 0, 0, NULL,
     CONFIG_NO_RELOAD, "IP address the HTTP API and pages listen on"},
    {"server", "listen_port", CONFIG_INT, OFF(listen_port), "8080", 0, 65535, NULL,
     CONFIG_NO_RELOAD, "TCP port of the HTTP API; 0 picks a free port (see port_file)"},
    {"server", "http_timeout", CONFIG_DURATION, OFF(http_timeout_ms), "30s", 1 * SEC, 1 * HOUR,
     NULL, CONFIG_NO_RELOAD, "read and write timeout of an HTTP connection"},
    {"server", "http_header_timeout", CONFIG_DURATION, OFF(header_timeout_ms), "10s", 1 * SEC,
     1 * HOUR, NULL, 0,
     "a request (line, headers and body) must arrive in full within this time of its first byte "
     "(or of the connection), else the connection is closed"},
    {"server", "max_body_size", CONFIG_SIZE, OFF(max_body_size), "1MB", 1 * KB, 64 * MB, NULL, 0,
     "largest request body accepted; larger ones get 413"},
    {"server", "max_header_size", CONFIG_SIZE, OFF(max_header_size), "16kB", 1 * KB, 1 * MB, NULL,
     CONFIG_NO_RELOAD, "largest request header block accepted"},
    {"server", "shutdown_timeout", CONFIG_DURATION, OFF(shutdown_timeout_ms), "10s", 0, 10 * MIN,
     NULL, 0, "how long SIGTERM waits for requests in flight before exiting"},
    {"server", "migrate_on_start", CONFIG_BOOL, OFF(migrate_on_start), "on", 0, 0, NULL, 0,
     "apply pending database migrations when serve starts (as database_owner_url's role if set; "
     "the application role cannot: it only checks the schema is current)"},
    {"server", "port_file", CONFIG_STRING, OFF(port_file), "", 0, 0, NULL, CONFIG_NO_RELOAD,
     "if set, serve writes the HTTP port it listens on to this file"},
    {"server", "session_ttl", CONFIG_DURATION, OFF(session_ttl_ms), "12h", 5 * MIN, 30 * DAY, NULL,
     0, "how long a web session (sign-in) lasts"},
    {"server", "auth_cache_ttl", CONFIG_DURATION, OFF(auth_cache_ttl_ms), "60s", 0, 1 * HOUR, NULL,
     CONFIG_NO_RELOAD,
     "how long a token check is reused without asking the database; any change to tokens or users "
     "ends it at once (0s = ask every time)"},
    {"server", "session_idle_timeout", CONFIG_DURATION, OFF(session_idle_ms), "30min", 1 * SEC,
     30 * DAY, NULL, 0,
     "a web session unused this long is signed out (shared ward computers); use extends it"},
    {"server", "cookie_secure", CONFIG_BOOL, OFF(cookie_secure), "on", 0, 0, NULL, 0,
     "send the session cookie as __Host-cb_session, Secure (HTTPS only); off only for plain-HTTP "
     "development on a loopback listen_addr"},
    {"server", "public_origin", CONFIG_STRING, OFF(public_origin), "", 0, 0, NULL, 0,
     "the origin browsers reach carebridge at (https://host[:port]); cookie-signed changes must "
     "come from it; empty: http://listen_addr:port, only allowed on a loopback listen_addr"},
    {"server", "fhir_base_url", CONFIG_STRING, OFF(fhir_base_url), "", 0, 0, NULL, 0,
     "the base of carebridge's FHIR names as partners know them (https://host[/path], no trailing "
     "/): the FHIR API answers at <base>/R4 (fullUrl, Bundle links) and its own identifier and "
     "code "
     "systems and extensions sit under <base>/Id, /CodeSystem, /StructureDefinition; empty: "
     "public_origin/fhir"},
    {"server", "token_max_lifetime", CONFIG_DURATION, OFF(token_max_life_ms), "365d", 1 * DAY,
     3650 * DAY, NULL, 0,
     "longest expiry an API token may be issued with (user token issue --expires)"},
    {"server", "work_threads", CONFIG_INT, OFF(work_threads), "2", 1, 16, NULL, CONFIG_NO_RELOAD,
     "worker threads for password hashing (kept off the event loop)"},
    {"signin", "signin_backoff_after", CONFIG_INT, OFF(signin_backoff_after), "5", 1, 1000, NULL, 0,
     "failed sign-ins of one user name before each further attempt has to wait"},
    {"signin", "signin_backoff_base", CONFIG_DURATION, OFF(signin_backoff_base_ms), "1s", 0,
     1 * HOUR, NULL, 0,
     "the first such wait; it doubles with each further failure (0s = no back-off)"},
    {"signin", "signin_backoff_max", CONFIG_DURATION, OFF(signin_backoff_max_ms), "15min", 1 * SEC,
     1 * DAY, NULL, 0, "the longest wait between attempts on one user name"},
    {"signin", "signin_lock_after", CONFIG_INT, OFF(signin_lock_after), "10", 0, 10000, NULL, 0,
     "failed sign-ins that lock a user name until an administrator unlocks it (0 = never lock)"},
    {"signin", "signin_forget_after", CONFIG_DURATION, OFF(signin_forget_after_ms), "24h", 0,
     365 * DAY, NULL, 0,
     "failed sign-ins of a name not locked are forgotten after this long without another "
     "(0s = kept until a successful sign-in)"},
    {"signin", "signin_address_limit", CONFIG_INT, OFF(signin_address_limit), "30", 1, 1000000,
     NULL, 0,
     "sign-in attempts one client address may make per signin_address_window (successful ones "
     "are given back); more get 429"},
    {"signin", "signin_address_window", CONFIG_DURATION, OFF(signin_address_window_ms), "10min",
     1 * SEC, 1 * DAY, NULL, 0, "the window over which signin_address_limit is refilled evenly"},
    {"signin", "signin_queue_per_address", CONFIG_INT, OFF(signin_queue_per_address), "4", 1, 256,
     NULL, 0,
     "password checks one client address may have waiting at once; the queue serves addresses "
     "in turn"},
    {"signin", "trusted_proxies", CONFIG_STRING, OFF(trusted_proxies), "", 0, 0, NULL, 0,
     "comma-separated IP addresses or networks (10.0.0.0/8) of reverse proxies whose "
     "X-Forwarded-For names the client and whose X-Request-Id is kept; "
     "empty = the socket peer is the client"},
    {"database", "database_url", CONFIG_STRING, OFF(database_url), "dbname=carebridge", 0, 0, NULL,
     CONFIG_NO_RELOAD | CONFIG_SECRET,
     "libpq connection string or URI of the PostgreSQL database, as the application role (which "
     "may not change the schema or the audit log)"},
    {"database", "database_owner_url", CONFIG_STRING, OFF(database_owner_url), "", 0, 0, NULL,
     CONFIG_NO_RELOAD | CONFIG_SECRET,
     "connection string of the role that owns the schema: migrate (and serve's "
     "migrate_on_start) use it; empty = database_url.  Keep it out of serve's configuration "
     "where you can"},
    {"database", "db_pool_size", CONFIG_INT, OFF(db_pool_size), "4", 1, 64, NULL, CONFIG_NO_RELOAD,
     "database connections per serve process"},
    {"database", "db_queue_max", CONFIG_INT, OFF(db_queue_max), "1024", 1, 1000000, NULL,
     CONFIG_NO_RELOAD, "requests that may wait for a free connection before new ones get 503"},
    {"database", "db_connect_timeout", CONFIG_DURATION, OFF(db_connect_timeout_ms), "5s", 1 * SEC,
     5 * MIN, NULL, CONFIG_NO_RELOAD, "how long one connection attempt may take"},
    {"database", "db_statement_timeout", CONFIG_DURATION, OFF(db_statement_timeout_ms), "30s", 0,
     1 * HOUR, NULL, CONFIG_NO_RELOAD, "PostgreSQL statement_timeout for every query; 0 = none"},
    {"database", "db_retry_interval", CONFIG_DURATION, OFF(db_retry_interval_ms), "1s", 100,
     5 * MIN, NULL, CONFIG_NO_RELOAD, "wait between attempts to reconnect to the database"},
    {"stream", "sse_heartbeat", CONFIG_DURATION, OFF(sse_heartbeat_ms), "15s", 1 * SEC, 5 * MIN,
     NULL, 0, "a comment line is sent on every event stream idle this long (keeps proxies open)"},
    {"stream", "sse_retry", CONFIG_DURATION, OFF(sse_retry_ms), "3s", 100, 5 * MIN, NULL, 0,
     "reconnection delay suggested to clients (the SSE retry: field)"},
    {"stream", "sse_ring_size", CONFIG_INT, OFF(sse_ring_size), "10000", 16, 10000000, NULL,
     CONFIG_NO_RELOAD, "recent events kept in memory to replay to reconnecting clients"},
    {"stream", "sse_max_buffer", CONFIG_SIZE, OFF(sse_max_buffer), "1MB", 4 * KB, 256 * MB, NULL, 0,
     "unsent bytes after which a slow subscriber is dropped (it resumes with Last-Event-ID)"},
    {"stream", "sse_max_total_buffer", CONFIG_SIZE, OFF(sse_max_total_buffer), "256MB", 1 * MB,
     (int64_t)64 * 1024 * MB, NULL, 0,
     "unsent bytes of all subscribers together; beyond it the slowest are dropped first"},
    {"stream", "sse_max_subscribers", CONFIG_INT, OFF(sse_max_subscribers), "20000", 1, 1000000,
     NULL, 0, "event streams one serve process accepts"},
    {"stream", "event_retention", CONFIG_DURATION, OFF(event_retention_ms), "7d", 1 * HOUR,
     3650 * DAY, NULL, 0,
     "how long events stay in the database for replay; older ids get reset (events an active"
     " webhook has not delivered yet are kept until it has)"},
    {"stream", "webhook_timeout", CONFIG_DURATION, OFF(webhook_timeout_ms), "10s", 1 * SEC, 5 * MIN,
     NULL, 0, "a webhook delivery fails when the receiver is silent this long (connecting too)"},
    {"stream", "webhook_max_backoff", CONFIG_DURATION, OFF(webhook_max_backoff_ms), "60s", 1 * SEC,
     1 * HOUR, NULL, 0,
     "longest wait between retries of a failed webhook delivery (doubling from 1s)"},
    {"stream", "webhook_lease", CONFIG_DURATION, OFF(webhook_lease_ms), "30s", 3 * SEC, 10 * MIN,
     NULL, 0, "a webhook is delivered by one process, which renews this lease every second"},
    {"stream", "webhook_ca_file", CONFIG_STRING, OFF(webhook_ca_file), "", 0, 0, NULL,
     CONFIG_NO_RELOAD,
     "PEM file of the CA certificates https:// webhook receivers are checked against; empty: "
     "the system's (/etc/ssl/certs)"},
    {"chase", "chase_first_after", CONFIG_DURATION, OFF(chase_first_after_ms), "0s", 0, 30 * DAY,
     NULL, 0, "how long a task may be overdue before it is first chased"},
    {"chase", "chase_repeat", CONFIG_DURATION, OFF(chase_repeat_ms), "4h", 1 * MIN, 30 * DAY, NULL,
     0, "how often a chase repeats at the same level"},
    {"chase", "chase_level2_after", CONFIG_DURATION, OFF(chase_level2_after_ms), "8h", 1 * MIN,
     60 * DAY, NULL, 0, "overdue this long: escalate to the discipline's team lead (level 2)"},
    {"chase", "chase_level3_after", CONFIG_DURATION, OFF(chase_level3_after_ms), "24h", 1 * MIN,
     90 * DAY, NULL, 0, "overdue this long: escalate to the bed manager (level 3)"},
    {"chase", "assessment_chase_after", CONFIG_DURATION, OFF(assessment_chase_after_ms), "24h",
     1 * MIN, 30 * DAY, NULL, 0,
     "a referral still not sent to the hub this long after admission is chased to social work"},
    {"chase", "referral_accept_within", CONFIG_DURATION, OFF(referral_accept_within_ms), "24h",
     1 * MIN, 30 * DAY, NULL, 0,
     "a referral the hub has not accepted this long after it was sent is chased to the hub"},
    {"chase", "delay_reason_chase_after", CONFIG_DURATION, OFF(delay_reason_chase_after_ms), "4h",
     1 * MIN, 30 * DAY, NULL, 0,
     "DEPRECATED, use barrier_chase_after: read as barrier_chase_after when that is not set"},
    {"chase", "barrier_chase_after", CONFIG_DURATION, OFF(barrier_chase_after_ms), "4h", 1 * MIN,
     30 * DAY, NULL, 0,
     "an NCTR inpatient with no open barrier this long (since the DRD or the last barrier closed) "
     "is chased"},
    {"chase", "board_round_times", CONFIG_STRING, OFF(board_round_times), "09:00,16:00", 0, 0, NULL,
     0,
     "board rounds, HH:MM Europe/London, comma-separated; an inpatient not reviewed since the "
     "last one that has passed is flagged review_overdue and chased like an overdue task"},
    {"chase", "test_clock_file", CONFIG_STRING, OFF(test_clock_file), "", 0, 0, NULL,
     CONFIG_NO_RELOAD,
     "TESTS ONLY: carebridge reads its clock from this file (an RFC 3339 instant), each second"},
    {"messages", "message_email", CONFIG_ENUM, OFF(message_email), "smtp", 0, 0,
     message_email_kinds, 0,
     "how chases reach people by e-mail: smtp (smtp_host; nothing is sent while it is empty), "
     "notify (GOV.UK Notify) or off"},
    {"messages", "message_sms", CONFIG_ENUM, OFF(message_sms), "off", 0, 0, message_sms_kinds, 0,
     "how chases reach people by text message: notify (GOV.UK Notify) or off"},
    {"messages", "message_max_attempts", CONFIG_INT, OFF(message_max_attempts), "10", 1, 1000, NULL,
     0, "attempts to send one message before it is a permanent failure"},
    {"messages", "message_retry_min", CONFIG_DURATION, OFF(message_retry_min_ms), "30s", 1 * SEC,
     1 * HOUR, NULL, 0, "wait after the first failed attempt; it doubles with each further one"},
    {"messages", "message_retry_max", CONFIG_DURATION, OFF(message_retry_max_ms), "1h", 1 * SEC,
     1 * DAY, NULL, 0, "longest wait between attempts to send one message"},
    {"messages", "message_lease", CONFIG_DURATION, OFF(message_lease_ms), "5min", 10 * SEC,
     1 * HOUR, NULL, 0,
     "a process sending a message holds it this long; after a crash another process sends it "
     "then (keep it longer than smtp_timeout times the steps of a conversation)"},
    {"messages", "message_threads", CONFIG_INT, OFF(message_threads), "2", 1, 16, NULL,
     CONFIG_NO_RELOAD, "worker threads that send messages (kept off the event loop)"},
    {"messages", "digest_times", CONFIG_STRING, OFF(digest_times), "07:30,19:30", 0, 0, NULL, 0,
     "shift digests, HH:MM Europe/London, comma-separated: each ward's nurse in charge and the "
     "bed manager on duty get one message of counts; empty = none"},
    {"messages", "smtp_host", CONFIG_STRING, OFF(smtp_host), "", 0, 0, NULL, 0,
     "the SMTP relay (the trust's relay, or send.nhs.net for NHSmail); empty: no e-mail"},
    {"messages", "smtp_port", CONFIG_INT, OFF(smtp_port), "587", 1, 65535, NULL, 0,
     "its port (587: submission with STARTTLS)"},
    {"messages", "smtp_starttls", CONFIG_ENUM, OFF(smtp_starttls), "required", 0, 0, smtp_tls_modes,
     0,
     "required: STARTTLS before anything else, the relay's certificate and name checked; off "
     "only for a relay on this machine's loopback"},
    {"messages", "smtp_username", CONFIG_STRING, OFF(smtp_username), "", 0, 0, NULL, 0,
     "user name for SMTP AUTH (PLAIN or LOGIN); empty: no AUTH"},
    {"messages", "smtp_password", CONFIG_STRING, OFF(smtp_password), "", 0, 0, NULL, CONFIG_SECRET,
     "its password (or smtp_password_file)"},
    {"messages", "smtp_password_file", CONFIG_STRING, OFF(smtp_password_file), "", 0, 0, NULL, 0,
     "a file holding the SMTP password (its first line), read when messages are sent"},
    {"messages", "smtp_from", CONFIG_STRING, OFF(smtp_from), "", 0, 0, NULL, 0,
     "the sender address (From: and MAIL FROM), e.g. carebridge@trust.nhs.uk"},
    {"messages", "smtp_helo", CONFIG_STRING, OFF(smtp_helo), "", 0, 0, NULL, 0,
     "our name in EHLO; empty: smtp_from's domain"},
    {"messages", "smtp_ca_file", CONFIG_STRING, OFF(smtp_ca_file), "", 0, 0, NULL, 0,
     "PEM file of the CA certificates the relay's certificate is checked against; empty: the "
     "system's"},
    {"messages", "smtp_timeout", CONFIG_DURATION, OFF(smtp_timeout_ms), "30s", 1 * SEC, 5 * MIN,
     NULL, 0, "limit on connecting to the relay and on each of its replies"},
    {"hl7", "mllp_listen_addr", CONFIG_STRING, OFF(mllp_listen_addr), "127.0.0.1", 0, 0, NULL,
     CONFIG_NO_RELOAD, "IP address the HL7 v2 (MLLP) listener binds to"},
    {"hl7", "mllp_port", CONFIG_INT, OFF(mllp_port), "2575", 0, 65535, NULL, CONFIG_NO_RELOAD,
     "TCP port of the HL7 v2 (MLLP) listener; 0 picks a free port (see mllp_port_file)"},
    {"hl7", "mllp_port_file", CONFIG_STRING, OFF(mllp_port_file), "", 0, 0, NULL, CONFIG_NO_RELOAD,
     "if set, serve writes the MLLP port it listens on to this file"},
    {"hl7", "mllp_allow", CONFIG_STRING, OFF(mllp_allow), "", 0, 0, NULL, CONFIG_NO_RELOAD,
     "comma-separated IP addresses allowed to connect to the MLLP port, or \"any\"; empty = any "
     "on a loopback mllp_listen_addr, refused on any other"},
    {"hl7", "mllp_tls", CONFIG_BOOL, OFF(mllp_tls), "off", 0, 0, NULL, CONFIG_NO_RELOAD,
     "MLLP over TLS (1.2 or later): the listener speaks only TLS, with the certificate below"},
    {"hl7", "mllp_tls_cert_file", CONFIG_STRING, OFF(mllp_tls_cert_file), "", 0, 0, NULL,
     CONFIG_NO_RELOAD,
     "PEM file of the MLLP server certificate (then any intermediate CA certificates)"},
    {"hl7", "mllp_tls_key_file", CONFIG_STRING, OFF(mllp_tls_key_file), "", 0, 0, NULL,
     CONFIG_NO_RELOAD, "PEM file of the private key of mllp_tls_cert_file (unencrypted)"},
    {"hl7", "mllp_tls_ca_file", CONFIG_STRING, OFF(mllp_tls_ca_file), "", 0, 0, NULL,
     CONFIG_NO_RELOAD, "PEM file of the CA certificates that client certificates must chain to"},
    {"hl7", "mllp_tls_require_client_cert", CONFIG_BOOL, OFF(mllp_tls_require_client_cert), "on", 0,
     0, NULL, CONFIG_NO_RELOAD,
     "a client without a certificate of mllp_tls_ca_file is refused at the handshake; off: a "
     "certificate is optional (one that is sent must still be valid)"},
    {"hl7", "mllp_tls_allowed_clients", CONFIG_STRING, OFF(mllp_tls_allowed_clients), "", 0, 0,
     NULL, CONFIG_NO_RELOAD,
     "comma-separated subject common names (CN) of the client certificates accepted; empty = "
     "any certificate of mllp_tls_ca_file"},
    /* no more than HL7_MAX_MESSAGE, the parser's own limit */
    {"hl7", "mllp_max_message", CONFIG_SIZE, OFF(mllp_max_message), "1MB", 1 * KB, 1 * MB, NULL, 0,
     "largest HL7 message accepted; a larger frame closes the connection"},
    {"hl7", "mllp_max_connections", CONFIG_INT, OFF(mllp_max_connections), "64", 1, 10000, NULL, 0,
     "MLLP connections open at once at most; more are refused (and logged)"},
    {"hl7", "mllp_idle_timeout", CONFIG_DURATION, OFF(mllp_idle_timeout_ms), "30m", 0, 7 * DAY,
     NULL, 0,
     "an MLLP connection that sends nothing for this long is closed (new connections); 0 = "
     "never"},
    {"hl7", "hl7_retention", CONFIG_DURATION, OFF(hl7_retention_ms), "30d", 1 * HOUR, 3650 * DAY,
     NULL, 0, "how long received HL7 messages and their ACKs are kept"},
    {"hl7", "hl7_pathway_field", CONFIG_STRING, OFF(hl7_pathway_field), "ZCB-1", 0, 0, NULL, 0,
     "the HL7 field (segment-field[.component]) where the PAS sends the likely discharge pathway "
     "0-3 on A01 and A08 (ZCB-1: a site segment \"ZCB|2\"); pathway 1-3 opens the day-one "
     "referral; empty = not read"},
    {"auth", "password_login", CONFIG_BOOL, OFF(password_login), "on", 0, 0, NULL, 0,
     "sign-in with a carebridge user name and password; turn off once everyone signs in through "
     "the identity provider (API tokens keep working)"},
    {"auth", "totp_required", CONFIG_BOOL, OFF(totp_required), "off", 0, 0, NULL, 0,
     "password sign-in also needs a one-time code (RFC 6238); a user without a TOTP secret "
     "(carebridge user totp) cannot sign in with a password"},
    {"auth", "oidc_issuer", CONFIG_STRING, OFF(oidc_issuer), "", 0, 0, NULL, CONFIG_NO_RELOAD,
     "OpenID Connect issuer URL of the trust's identity provider (NHS CIS2, Entra ID); empty: "
     "no sign-in through a provider"},
    {"auth", "oidc_client_id", CONFIG_STRING, OFF(oidc_client_id), "", 0, 0, NULL, CONFIG_NO_RELOAD,
     "client id carebridge is registered under at the provider"},
    {"auth", "oidc_client_secret", CONFIG_STRING, OFF(oidc_client_secret), "", 0, 0, NULL,
     CONFIG_NO_RELOAD | CONFIG_SECRET,
     "client secret for the provider's token endpoint (sent as HTTP Basic)"},
    {"auth", "oidc_redirect_uri", CONFIG_STRING, OFF(oidc_redirect_uri), "", 0, 0, NULL,
     CONFIG_NO_RELOAD,
     "the callback URL registered at the provider: https://<carebridge>/api/v1/oidc/callback"},
    {"auth", "oidc_user_claim", CONFIG_ENUM, OFF(oidc_user_claim), "sub", 0, 0, oidc_claims,
     CONFIG_NO_RELOAD,
     "ID token claim matched to a user's oidc_subject: sub or email (a verified e-mail)"},
    {"auth", "oidc_scopes", CONFIG_STRING, OFF(oidc_scopes), "openid email profile", 0, 0, NULL,
     CONFIG_NO_RELOAD, "scopes asked for (openid is required)"},
    {"auth", "oidc_button_label", CONFIG_STRING, OFF(oidc_button_label),
     "Sign in with your organisation account", 0, 0, NULL, 0,
     "text of the sign-in page's button for the provider"},
    {"auth", "oidc_post_logout_redirect_uri", CONFIG_STRING, OFF(oidc_post_logout_redirect_uri), "",
     0, 0, NULL, CONFIG_NO_RELOAD,
     "where the provider sends the browser after single logout (registered at the provider); "
     "empty: the provider's own page"},
    {"auth", "oidc_ca_file", CONFIG_STRING, OFF(oidc_ca_file), "", 0, 0, NULL, CONFIG_NO_RELOAD,
     "PEM file of the CA certificates the provider's https:// endpoints are checked against; "
     "empty: the system's"},
    {"notify", "notify_api_key", CONFIG_STRING, OFF(notify_api_key), "", 0, 0, NULL,
     CONFIG_NO_RELOAD | CONFIG_SECRET,
     "GOV.UK Notify API key, \"{key_name}-{service_id}-{secret_key}\"; empty (and no "
     "notify_api_key_file): the Notify channel is off"},
    {"notify", "notify_api_key_file", CONFIG_STRING, OFF(notify_api_key_file), "", 0, 0, NULL,
     CONFIG_NO_RELOAD,
     "file holding the GOV.UK Notify API key instead (one line; keep it readable by carebridge "
     "alone); not with notify_api_key"},
    {"notify", "notify_base_url", CONFIG_STRING, OFF(notify_base_url),
     "https://api.notifications.service.gov.uk", 0, 0, NULL, CONFIG_NO_RELOAD,
     "GOV.UK Notify's API (https://; http:// only on a loopback address, for tests); TLS, CA "
     "file (webhook_ca_file) and timeout (webhook_timeout) are the webhooks'"},
    {"notify", "notify_email_template_id", CONFIG_STRING, OFF(notify_email_template_id), "", 0, 0,
     NULL, 0, "id (UUID) of the Notify e-mail template chases are sent with"},
    {"notify", "notify_sms_template_id", CONFIG_STRING, OFF(notify_sms_template_id), "", 0, 0, NULL,
     0, "id (UUID) of the Notify text message template chases are sent with"},
    {"log", "metrics_ward_interval", CONFIG_DURATION, OFF(metrics_ward_interval_ms), "30s", 1 * SEC,
     1 * HOUR, NULL, 0,
     "how often the per-ward NCTR and delayed gauges of /metrics are read from the database"},
    {"log", "log_level", CONFIG_ENUM, OFF(log_level), "log", 0, 0, log_levels, 0,
     "least severe level written: fatal, error, warning, log or debug"},
    {"log", "log_format", CONFIG_ENUM, OFF(log_format), "text", 0, 0, log_formats, 0,
     "text: one readable line per event; json: one JSON object per line (keys ts, level, "
     "module, pid, request_id, msg and the line's key=value fields)"},
    {NULL, NULL, CONFIG_STRING, 0, NULL, 0, 0, NULL, 0, NULL},
};

static void errs_add(struct config_errors *errs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void errs_add(struct config_errors *errs, const char *fmt, ...)
{
	va_list ap;
	char *line;

	if (errs == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) == -1)
		line = xstrdup("out of memory");
	va_end(ap);
	errs->lines = xrealloc(errs->lines, (errs->n + 1) * sizeof *errs->lines);
	errs->lines[errs->n++] = line;
}

void config_errors_reset(struct config_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		free(errs->lines[i]);
	free(errs->lines);
	errs->lines = NULL;
	errs->n = 0;
}

const struct config_entry *config_find(const char *key)
{
	for (const struct config_entry *e = config_table; e->key != NULL; e++)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

/* Remember that e got its value at where (taken over). */
static void origin_set(struct config *cfg, const struct config_entry *e, char *where)
{
	size_t i = (size_t)(e - config_table);

	if (cfg->origin == NULL) {
		size_t n = 0;

		while (config_table[n].key != NULL)
			n++;
		cfg->origin = xcalloc(n, sizeof *cfg->origin);
	}
	free(cfg->origin[i]);
	cfg->origin[i] = where;
}

const char *config_origin(const struct config *cfg, const char *key)
{
	const struct config_entry *e = config_find(key);

	if (e == NULL || cfg->origin == NULL)
		return NULL;
	return cfg->origin[e - config_table];
}

/* Parse a number followed by a unit from units[] (suffix, multiplier); "" is the bare unit. */
static bool parse_with_units(const char *s, const char *const *suffixes, const int64_t *mults,
                             int64_t *out)
{
	char *end;
	long long v;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v < 0)
		return false;
	while (isspace((unsigned char)*end))
		end++;
	for (size_t i = 0; suffixes[i] != NULL; i++) {
		if (strcmp(end, suffixes[i]) == 0) {
			if (v > INT64_MAX / mults[i])
				return false;
			*out = (int64_t)v * mults[i];
			return true;
		}
	}
	return false;
}

bool config_parse_duration(const char *s, int64_t *ms)
{
	static const char *const suffixes[] = {"ms", "s", "min", "m", "h", "d", NULL};
	static const int64_t mults[] = {1, SEC, MIN, MIN, HOUR, DAY};

	return parse_with_units(s, suffixes, mults, ms);
}

bool config_parse_size(const char *s, int64_t *bytes)
{
	static const char *const suffixes[] = {"", "B", "kB", "KB", "MB", "GB", NULL};
	static const int64_t mults[] = {1, 1, KB, KB, MB, 1024 * MB};

	return parse_with_units(s, suffixes, mults, bytes);
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"on", "true", "yes", "1"};
	static const char *const no[] = {"off", "false", "no", "0"};

	for (size_t i = 0; i < nitems(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Check v against e's bounds and describe a failure in err. */
static enum status check_bounds(const struct config_entry *e, int64_t v, const char *value,
                                struct err *err)
{
	if (v < e->min || v > e->max)
		return err_set(err, ST_INVALID, e->key,
		               "invalid value \"%s\" for \"%s\": must be between %" PRId64
		               " and %" PRId64 "%s",
		               value, e->key, e->min, e->max,
		               e->type == CONFIG_DURATION ? " milliseconds"
		               : e->type == CONFIG_SIZE   ? " bytes"
		                                          : "");
	return ST_OK;
}

static enum status entry_set(struct config *cfg, const struct config_entry *e, const char *value,
                             struct err *err)
{
	char *field = (char *)cfg + e->offset;
	int64_t v;
	char *end;
	bool b;

	switch (e->type) {
	case CONFIG_STRING:
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return ST_OK;
	case CONFIG_INT:
		errno = 0;
		v = strtoll(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0')
			return err_set(err, ST_INVALID, e->key,
			               "invalid value \"%s\" for \"%s\": not an integer", value,
			               e->key);
		if (check_bounds(e, v, value, err) != ST_OK)
			return ST_INVALID;
		*(int *)field = (int)v;
		return ST_OK;
	case CONFIG_BOOL:
		if (!parse_bool(value, &b))
			return err_set(err, ST_INVALID, e->key,
			               "invalid value \"%s\" for \"%s\": expected on or off", value,
			               e->key);
		*(bool *)field = b;
		return ST_OK;
	case CONFIG_DURATION:
		if (!config_parse_duration(value, &v))
			return err_set(
			    err, ST_INVALID, e->key,
			    "invalid value \"%s\" for \"%s\": not a duration (use ms, s, "
			    "min, h or d, as in \"30s\")",
			    value, e->key);
		if (check_bounds(e, v, value, err) != ST_OK)
			return ST_INVALID;
		*(int64_t *)field = v;
		return ST_OK;
	case CONFIG_SIZE:
		if (!config_parse_size(value, &v))
			return err_set(err, ST_INVALID, e->key,
			               "invalid value \"%s\" for \"%s\": not a size (use B, kB, MB "
			               "or GB, as in \"16kB\")",
			               value, e->key);
		if (check_bounds(e, v, value, err) != ST_OK)
			return ST_INVALID;
		*(int64_t *)field = v;
		return ST_OK;
	case CONFIG_ENUM:
		for (size_t i = 0; e->choices[i] != NULL; i++) {
			if (strcmp(value, e->choices[i]) == 0) {
				free(*(char **)field);
				*(char **)field = xstrdup(value);
				return ST_OK;
			}
		}
		return err_set(err, ST_INVALID, e->key, "invalid value \"%s\" for \"%s\"", value,
		               e->key);
	}
	ASSERT(!"unknown config type");
}

enum status config_set(struct config *cfg, const char *key, const char *value, struct err *err)
{
	const struct config_entry *e = config_find(key);

	if (e == NULL)
		return err_set(err, ST_INVALID, key, "unknown setting \"%s\"", key);
	return entry_set(cfg, e, value, err);
}

void config_init(struct config *cfg)
{
	struct err err;

	memset(cfg, 0, sizeof *cfg);
	for (const struct config_entry *e = config_table; e->key != NULL; e++)
		if (entry_set(cfg, e, e->def, &err) != ST_OK)
			assert_fail(__FILE__, __LINE__, err.message);
}

void config_free(struct config *cfg)
{
	for (const struct config_entry *e = config_table; e->key != NULL; e++) {
		if (e->type == CONFIG_STRING || e->type == CONFIG_ENUM) {
			char **p = (char **)((char *)cfg + e->offset);

			free(*p);
			*p = NULL;
		}
		if (cfg->origin != NULL)
			free(cfg->origin[e - config_table]);
	}
	free(cfg->origin);
	cfg->origin = NULL;
}

const char *config_owner_url(const struct config *cfg)
{
	return cfg->database_owner_url[0] != '\0' ? cfg->database_owner_url : cfg->database_url;
}

/* Trim spaces at both ends of s in place; returns the start. */
static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

enum status config_parse(struct config *cfg, const char *text, size_t len, const char *filename,
                         struct config_errors *errs)
{
	char *copy = xstrndup(text, len);
	char *line, *next, *section = NULL;
	enum status st = ST_OK;
	int lineno = 0;

	for (line = copy; line != NULL; line = next) {
		char *eq, *key, *value;
		const struct config_entry *e;
		struct err err;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		line = trim(line);
		if (*line == '\0' || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			char *close = strchr(line, ']');

			if (close == NULL || close[1] != '\0') {
				errs_add(errs, "%s:%d: malformed section header", filename, lineno);
				st = ST_INVALID;
				section = NULL;
				continue;
			}
			*close = '\0';
			section = trim(line + 1);
			continue;
		}
		eq = strchr(line, '=');
		if (eq == NULL) {
			errs_add(errs, "%s:%d: expected \"key = value\"", filename, lineno);
			st = ST_INVALID;
			continue;
		}
		*eq = '\0';
		key = trim(line);
		value = trim(eq + 1);
		/* Optional double quotes keep leading or trailing spaces. */
		if (value[0] == '"' && strlen(value) >= 2 && value[strlen(value) - 1] == '"') {
			value[strlen(value) - 1] = '\0';
			value++;
		}
		e = config_find(key);
		if (e == NULL) {
			errs_add(errs, "%s:%d: unknown setting \"%s\"", filename, lineno, key);
			st = ST_INVALID;
			continue;
		}
		if (section == NULL || strcmp(section, e->section) != 0) {
			errs_add(errs, "%s:%d: setting \"%s\" belongs in section [%s]", filename,
			         lineno, key, e->section);
			st = ST_INVALID;
			continue;
		}
		if (entry_set(cfg, e, value, &err) != ST_OK) {
			errs_add(errs, "%s:%d: %s", filename, lineno, err.message);
			st = ST_INVALID;
			continue;
		}
		origin_set(cfg, e, xasprintf("%s:%d", filename, lineno));
	}
	free(copy);
	return st;
}

enum status config_apply_env(struct config *cfg, char *const *envp, struct config_errors *errs)
{
	static const char prefix[] = "CAREBRIDGE_";
	enum status st = ST_OK;

	for (size_t i = 0; envp != NULL && envp[i] != NULL; i++) {
		const char *var = envp[i], *eq;
		char key[64];
		size_t klen;
		const struct config_entry *e;
		struct err err;

		if (strncmp(var, prefix, sizeof prefix - 1) != 0)
			continue;
		eq = strchr(var, '=');
		if (eq == NULL)
			continue;
		klen = (size_t)(eq - var) - (sizeof prefix - 1);
		if (klen == 0 || klen >= sizeof key) {
			errs_add(errs, "environment %.*s: unknown setting", (int)(eq - var), var);
			st = ST_INVALID;
			continue;
		}
		for (size_t j = 0; j < klen; j++)
			key[j] = (char)tolower((unsigned char)var[sizeof prefix - 1 + j]);
		key[klen] = '\0';
		/* CAREBRIDGE_CONFIG names the file; it is not a setting. */
		if (strcmp(key, "config") == 0)
			continue;
		e = config_find(key);
		if (e == NULL) {
			errs_add(errs, "environment %.*s: unknown setting \"%s\"", (int)(eq - var),
			         var, key);
			st = ST_INVALID;
			continue;
		}
		if (entry_set(cfg, e, eq + 1, &err) != ST_OK) {
			errs_add(errs, "environment %.*s: %s", (int)(eq - var), var, err.message);
			st = ST_INVALID;
			continue;
		}
		origin_set(cfg, e, xasprintf("environment %.*s", (int)(eq - var), var));
	}
	return st;
}

/* Whether s is "any" (any case, spaces around allowed). */
static bool allow_list_is_any(const char *s)
{
	char *copy = xstrdup(s);
	bool any = strcasecmp(trim(copy), "any") == 0;

	free(copy);
	return any;
}

/* Whether s is empty, "any", or a comma-separated list of IP addresses (spaces allowed). */
static bool allow_list_is_valid(const char *s)
{
	char *copy = xstrdup(s), *save = NULL;
	unsigned char buf[16];
	bool ok = true;

	if (allow_list_is_any(s)) {
		free(copy);
		return true;
	}
	for (char *item = strtok_r(copy, ",", &save); item != NULL && ok;
	     item = strtok_r(NULL, ",", &save)) {
		item = trim(item);
		ok = inet_pton(AF_INET, item, buf) == 1 || inet_pton(AF_INET6, item, buf) == 1;
	}
	free(copy);
	return ok;
}

bool config_addr_is_loopback(const char *addr)
{
	struct in6_addr a6;
	unsigned char a4[4];

	if (inet_pton(AF_INET, addr, a4) == 1)
		return a4[0] == 127;
	if (inet_pton(AF_INET6, addr, &a6) != 1)
		return false;
	return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
}

bool config_list_contains(const char *list, const char *name)
{
	char *copy = xstrdup(list), *save = NULL;
	bool found = false;

	for (char *item = strtok_r(copy, ",", &save); item != NULL && !found;
	     item = strtok_r(NULL, ",", &save))
		found = strcmp(trim(item), name) == 0;
	free(copy);
	return found;
}

/* Whether s is a comma-separated list of names, none empty, none longer than 64 (a CN's limit). */
static bool name_list_is_valid(const char *s)
{
	char *copy = xstrdup(s), *p = copy;
	bool ok = true;

	/* not strtok_r: it would skip the empty item of "a,,b" */
	for (char *item = strsep(&p, ","); item != NULL && ok; item = strsep(&p, ",")) {
		size_t n = strlen(trim(item));

		ok = n > 0 && n <= 64;
	}
	free(copy);
	return ok;
}

/* Append "where: message" for key, where it was written, or "setting "key": message". */
static void errs_add_at(struct config_errors *errs, const struct config *cfg, const char *key,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void errs_add_at(struct config_errors *errs, const struct config *cfg, const char *key,
                        const char *fmt, ...)
{
	const char *where = config_origin(cfg, key);
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = xstrdup("out of memory");
	va_end(ap);
	if (where != NULL)
		errs_add(errs, "%s: %s", where, msg);
	else
		errs_add(errs, "setting \"%s\": %s", key, msg);
	free(msg);
}

/*
 * Settings renamed: an old file or environment may still set the old key,
 * which stays in the table (so it parses and is checked) and is read as the
 * new one here.
 */
static const struct {
	const char *old_key; /* deprecated */
	const char *new_key; /* what replaced it; the same type */
} config_renamed[] = {
    /* issue 14: a delay's reason is a barrier now, chased when none is open */
    {"delay_reason_chase_after", "barrier_chase_after"},
};

void config_deprecations(struct config *cfg, struct config_errors *warnings)
{
	for (size_t i = 0; i < nitems(config_renamed); i++) {
		const struct config_entry *o = config_find(config_renamed[i].old_key);
		const struct config_entry *n = config_find(config_renamed[i].new_key);
		const char *key = config_renamed[i].old_key;

		ASSERT(o != NULL && n != NULL && o->type == CONFIG_DURATION && n->type == o->type);
		if (config_origin(cfg, key) == NULL)
			continue; /* not written down: nothing to say */
		if (config_origin(cfg, n->key) != NULL) {
			errs_add_at(warnings, cfg, key,
			            "setting \"%s\" is deprecated and ignored: \"%s\" is set", key,
			            n->key);
			continue;
		}
		*(int64_t *)(void *)((char *)cfg + n->offset) =
		    *(const int64_t *)(const void *)((const char *)cfg + o->offset);
		errs_add_at(warnings, cfg, key,
		            "setting \"%s\" is deprecated: its value is used for \"%s\"; rename it",
		            key, n->key);
	}
}

/*
 * The HL7 listener must not trust the network: off the loopback it needs an
 * allow-list or an explicit "any"; TLS settings must make a whole.
 */
static enum status validate_mllp(const struct config *cfg, struct config_errors *errs)
{
	static const char *const tls_keys[] = {"mllp_tls_cert_file", "mllp_tls_key_file",
	                                       "mllp_tls_ca_file", "mllp_tls_allowed_clients"};
	enum status st = ST_OK;

	if (!allow_list_is_valid(cfg->mllp_allow)) {
		errs_add_at(errs, cfg, "mllp_allow",
		            "invalid value \"%s\" for \"mllp_allow\": not \"any\" nor a "
		            "comma-separated list of IP addresses",
		            cfg->mllp_allow);
		st = ST_INVALID;
	} else if (cfg->mllp_allow[0] == '\0' && !config_addr_is_loopback(cfg->mllp_listen_addr)) {
		errs_add_at(
		    errs, cfg, "mllp_listen_addr",
		    "mllp_listen_addr \"%s\" is not a loopback address and mllp_allow is "
		    "empty: list the interface engines' IP addresses in mllp_allow, or write "
		    "mllp_allow = \"any\" to accept every address",
		    cfg->mllp_listen_addr);
		st = ST_INVALID;
	}
	if (!cfg->mllp_tls) {
		for (size_t i = 0; i < nitems(tls_keys); i++) {
			const struct config_entry *e = config_find(tls_keys[i]);

			if (**(char *const *)((const char *)cfg + e->offset) == '\0')
				continue;
			errs_add_at(errs, cfg, e->key,
			            "%s is set but mllp_tls is off: turn mllp_tls on, or remove it",
			            e->key);
			st = ST_INVALID;
		}
		return st;
	}
	if (cfg->mllp_tls_cert_file[0] == '\0' || cfg->mllp_tls_key_file[0] == '\0') {
		errs_add_at(
		    errs, cfg, "mllp_tls",
		    "mllp_tls is on: mllp_tls_cert_file and mllp_tls_key_file must name the "
		    "server's certificate and key");
		st = ST_INVALID;
	}
	if (cfg->mllp_tls_require_client_cert && cfg->mllp_tls_ca_file[0] == '\0') {
		errs_add_at(errs, cfg, "mllp_tls",
		            "mllp_tls is on and mllp_tls_require_client_cert is on: "
		            "mllp_tls_ca_file must name the CA of the client certificates");
		st = ST_INVALID;
	}
	if (cfg->mllp_tls_allowed_clients[0] != '\0' &&
	    !name_list_is_valid(cfg->mllp_tls_allowed_clients)) {
		errs_add_at(errs, cfg, "mllp_tls_allowed_clients",
		            "invalid value for \"mllp_tls_allowed_clients\": not a comma-separated "
		            "list of names (each 1 to 64 characters)");
		st = ST_INVALID;
	}
	if (cfg->mllp_tls_allowed_clients[0] != '\0' && !cfg->mllp_tls_require_client_cert) {
		errs_add_at(errs, cfg, "mllp_tls_allowed_clients",
		            "mllp_tls_allowed_clients needs mllp_tls_require_client_cert = on (a "
		            "client without a certificate would not be checked against it)");
		st = ST_INVALID;
	}
	return st;
}

/*
 * GOV.UK Notify: a key in Notify's form (its text is never quoted), one way
 * of giving it, a secure base URL, template ids that are UUIDs.
 */
static enum status validate_notify(const struct config *cfg, struct config_errors *errs)
{
	static const char *const templates[] = {"notify_email_template_id",
	                                        "notify_sms_template_id"};
	const char *const ids[] = {cfg->notify_email_template_id, cfg->notify_sms_template_id};
	struct notify_key key;
	struct err why;
	enum status st = ST_OK;

	if (cfg->notify_api_key[0] != '\0' && cfg->notify_api_key_file[0] != '\0' &&
	    config_origin(cfg, "notify_api_key") != NULL) {
		errs_add_at(errs, cfg, "notify_api_key_file",
		            "give notify_api_key or notify_api_key_file, not both");
		st = ST_INVALID;
	} else if (cfg->notify_api_key[0] != '\0' &&
	           notify_key_parse(cfg->notify_api_key, &key, &why) != ST_OK) {
		errs_add_at(errs, cfg,
		            cfg->notify_api_key_file[0] != '\0' ? "notify_api_key_file"
		                                                : "notify_api_key",
		            "%s", why.message);
		st = ST_INVALID;
	}
	sodium_memzero(&key, sizeof key);
	if (!config_url_is_secure(cfg->notify_base_url)) {
		errs_add_at(errs, cfg, "notify_base_url",
		            "notify_base_url must be an https:// URL (http:// only on a loopback "
		            "address)");
		st = ST_INVALID;
	}
	for (size_t i = 0; i < 2; i++) {
		if (ids[i][0] != '\0' && !text_is_uuid(ids[i])) {
			errs_add_at(errs, cfg, templates[i], "%s \"%s\" is not a UUID",
			            templates[i], ids[i]);
			st = ST_INVALID;
		}
	}
	return st;
}

bool config_url_is_secure(const char *url)
{
	static const char *const loopback[] = {"http://127.0.0.1:", "http://127.0.0.1/",
	                                       "http://localhost:", "http://localhost/",
	                                       "http://[::1]:",     "http://[::1]/"};

	if (strncmp(url, "https://", 8) == 0 && url[8] != '\0')
		return true;
	for (size_t i = 0; i < sizeof loopback / sizeof loopback[0]; i++)
		if (strncmp(url, loopback[i], strlen(loopback[i])) == 0)
			return true;
	return false;
}

enum status config_validate(const struct config *cfg, struct config_errors *errs)
{
	unsigned char buf[16];
	struct board_rounds rounds;
	struct hl7_field_ref ref;
	struct err why;
	enum status st = ST_OK;
	bool listen_bad = false;

	if (inet_pton(AF_INET, cfg->listen_addr, buf) != 1 &&
	    inet_pton(AF_INET6, cfg->listen_addr, buf) != 1) {
		errs_add(errs, "setting \"listen_addr\": \"%s\" is not an IP address",
		         cfg->listen_addr);
		st = ST_INVALID;
		listen_bad = true;
	}
	/* a listen_addr that is no IP address is reported above, once */
	if (!cfg->cookie_secure && !config_addr_is_loopback(cfg->listen_addr) && !listen_bad) {
		errs_add(errs,
		         "setting \"cookie_secure\": must be on when listen_addr \"%s\" is not a "
		         "loopback address (sessions would travel in clear text)",
		         cfg->listen_addr);
		st = ST_INVALID;
	}
	if (cfg->public_origin[0] != '\0' && !csrf_origin_is_valid(cfg->public_origin)) {
		errs_add(errs,
		         "setting \"public_origin\": \"%s\" is not an origin such as "
		         "https://carebridge.example.nhs.uk (scheme, host, optional port, no path)",
		         cfg->public_origin);
		st = ST_INVALID;
	} else if (cfg->public_origin[0] == '\0' && !config_addr_is_loopback(cfg->listen_addr) &&
	           !listen_bad) {
		errs_add(errs,
		         "setting \"public_origin\": must be set when listen_addr \"%s\" is not a "
		         "loopback address",
		         cfg->listen_addr);
		st = ST_INVALID;
	}
	if (cfg->smtp_password[0] != '\0' && cfg->smtp_password_file[0] != '\0') {
		errs_add(errs, "setting \"smtp_password_file\": cannot be set with smtp_password");
		st = ST_INVALID;
	}
	if (cfg->smtp_host[0] != '\0' && strchr(cfg->smtp_from, '@') == NULL) {
		errs_add(errs,
		         "setting \"smtp_from\": must be an e-mail address when smtp_host is set");
		st = ST_INVALID;
	}
	if (cfg->message_retry_min_ms > cfg->message_retry_max_ms) {
		errs_add(
		    errs,
		    "setting \"message_retry_max\": must not be shorter than message_retry_min");
		st = ST_INVALID;
	}
	if (cfg->sse_heartbeat_ms >= cfg->http_timeout_ms) {
		errs_add(errs, "setting \"sse_heartbeat\": must be shorter than http_timeout");
		st = ST_INVALID;
	}
	if (!(cfg->chase_level2_after_ms < cfg->chase_level3_after_ms)) {
		errs_add(errs,
		         "setting \"chase_level3_after\": must be longer than chase_level2_after");
		st = ST_INVALID;
	}
	if (inet_pton(AF_INET, cfg->mllp_listen_addr, buf) != 1 &&
	    inet_pton(AF_INET6, cfg->mllp_listen_addr, buf) != 1) {
		errs_add(errs, "setting \"mllp_listen_addr\": \"%s\" is not an IP address",
		         cfg->mllp_listen_addr);
		st = ST_INVALID;
	}
	if (validate_mllp(cfg, errs) != ST_OK)
		st = ST_INVALID;
	if (cfg->oidc_issuer[0] != '\0') {
		if (!config_url_is_secure(cfg->oidc_issuer)) {
			errs_add(errs,
			         "setting \"oidc_issuer\": must be an https:// URL (http:// only "
			         "on a loopback address)");
			st = ST_INVALID;
		}
		if (cfg->oidc_client_id[0] == '\0' || cfg->oidc_redirect_uri[0] == '\0') {
			errs_add(errs, "setting \"oidc_issuer\": needs oidc_client_id and "
			               "oidc_redirect_uri");
			st = ST_INVALID;
		}
		if (strstr(cfg->oidc_scopes, "openid") == NULL) {
			errs_add(errs, "setting \"oidc_scopes\": must include openid");
			st = ST_INVALID;
		}
	}
	if (validate_notify(cfg, errs) != ST_OK)
		st = ST_INVALID;
	if (!cfg->password_login && cfg->oidc_issuer[0] == '\0') {
		errs_add(errs, "setting \"password_login\": cannot be off without oidc_issuer "
		               "(nobody could sign in to the pages)");
		st = ST_INVALID;
	}
	if (!signin_address_list_is_valid(cfg->trusted_proxies)) {
		errs_add(errs,
		         "setting \"trusted_proxies\": not a comma-separated list of IP addresses "
		         "and networks");
		st = ST_INVALID;
	}
	if (cfg->fhir_base_url[0] != '\0' && !fhir_base_url_is_valid(cfg->fhir_base_url)) {
		errs_add_at(
		    errs, cfg, "fhir_base_url",
		    "invalid value \"%s\" for \"fhir_base_url\": not an absolute http:// or "
		    "https:// URL without a trailing \"/\", query or fragment",
		    cfg->fhir_base_url);
		st = ST_INVALID;
	}
	if (hl7_field_ref_parse(cfg->hl7_pathway_field, &ref, &why) != ST_OK) {
		errs_add_at(errs, cfg, "hl7_pathway_field",
		            "invalid value for \"hl7_pathway_field\": %s", why.message);
		st = ST_INVALID;
	}
	if (board_rounds_parse(cfg->board_round_times, &rounds, &why) != ST_OK) {
		errs_add(errs, "setting \"board_round_times\": %s", why.message);
		st = ST_INVALID;
	}
	if (cfg->digest_times[0] != '\0' &&
	    board_rounds_parse(cfg->digest_times, &rounds, &why) != ST_OK) {
		errs_add(errs, "setting \"digest_times\": %s", why.message);
		st = ST_INVALID;
	}
	if (cfg->database_url[0] == '\0') {
		errs_add(errs, "setting \"database_url\": must not be empty");
		st = ST_INVALID;
	}
	return st;
}

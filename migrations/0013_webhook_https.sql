-- 0013_webhook_https.sql - webhooks may deliver to https:// receivers.
--
-- serve now speaks TLS to receivers (certificate and host name checked, see
-- webhook_ca_file), and the API accepts https:// URLs; plain http:// is kept
-- for a receiver on the loopback address (a local relay), which the API
-- checks.

ALTER TABLE webhooks DROP CONSTRAINT webhooks_url_check;
ALTER TABLE webhooks ADD CONSTRAINT webhooks_url_check
	CHECK (url ~ '^https?://' AND length(url) <= 2048);

-- The morning digest's delivery ledger (docs/digest.md). Applied by warehouse.connection.migrate().
-- One row per subscriber, target and as-of date. A target is one e-mail address or one webhook;
-- webhook URLs carry a secret, so only their host is stored (target) and a hash keys the row.
-- state: sending (handed to the transport, outcome not yet recorded) | sent | failed (transient,
-- retried by the next run) | rejected (permanent for this target and date) | skipped (nothing to say).
CREATE TABLE IF NOT EXISTS digest_deliveries (
    as_of_date       DATE      NOT NULL,
    subscriber       VARCHAR   NOT NULL,
    target_key       VARCHAR   NOT NULL,
    channel          VARCHAR   NOT NULL,   -- 'email' | 'webhook'
    target           VARCHAR   NOT NULL,   -- the address, or the webhook's host
    message_id       VARCHAR   NOT NULL,   -- the same on every attempt: receivers can deduplicate
    state            VARCHAR   NOT NULL,
    attempts         INTEGER   NOT NULL,
    first_attempt_at TIMESTAMP,            -- UTC
    last_attempt_at  TIMESTAMP,            -- UTC
    sent_at          TIMESTAMP,            -- UTC
    error            VARCHAR,              -- last error, secrets redacted
    PRIMARY KEY (as_of_date, subscriber, target_key)
);

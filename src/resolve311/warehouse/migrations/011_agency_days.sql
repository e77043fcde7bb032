-- Per agency and created day: what `agencies` and the history start are read from
-- (docs/metrics.md, "What a refresh stores"). Applied by warehouse.connection.migrate().
-- Maintained by the metrics refresh: only the affected days are recomputed, from the requests
-- created on them; a full refresh rebuilds every day.
CREATE TABLE IF NOT EXISTS metric_agency_days (
    source         VARCHAR NOT NULL,
    agency         VARCHAR,              -- the stored value (cleaned when read)
    dnum           INTEGER,              -- days since 1970-01-01 of created_date (local calendar)
    n              BIGINT NOT NULL,      -- requests created that day
    first_created  TIMESTAMP,
    last_created   TIMESTAMP,
    agency_name    VARCHAR,              -- the name of that day's newest named request
    named_at       TIMESTAMP,            -- its creation
    clean_first    TIMESTAMP             -- the day's oldest creation without a dirty flag
);

-- A warehouse refreshed before this table existed must fill it: forget the last refresh, so the
-- next one is a full refresh (idempotent).
CREATE TABLE IF NOT EXISTS metric_refresh_state (
    source VARCHAR PRIMARY KEY, last_batch_seq BIGINT, as_of TIMESTAMP, refreshed_at TIMESTAMP
);
DELETE FROM metric_refresh_state;

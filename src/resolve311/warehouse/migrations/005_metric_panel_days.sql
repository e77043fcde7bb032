-- Per-day inputs of the flag's calibration panel (docs/metrics.md, "What a refresh stores").
-- Applied by warehouse.connection.migrate(). Maintained by the metrics refresh: only the days whose
-- requests changed are recomputed; the panel and its opening backlog are read from these rows.
-- agency '*' is the whole city. Created-day columns count requests created that day; closed-day
-- columns count requests validly closed that day.
CREATE TABLE IF NOT EXISTS metric_panel_days (
    source          VARCHAR NOT NULL,
    agency          VARCHAR NOT NULL,
    dnum            INTEGER NOT NULL,   -- days since 1970-01-01, local calendar
    created         BIGINT  NOT NULL,
    dirty           BIGINT  NOT NULL,
    within_1d       BIGINT  NOT NULL,
    within_3d       BIGINT  NOT NULL,
    within_7d       BIGINT  NOT NULL,
    within_30d      BIGINT  NOT NULL,
    closed_untimed  BIGINT  NOT NULL,   -- created that day, closed status without a usable close time
    closed          BIGINT  NOT NULL,   -- closed that day (valid close)
    admin           BIGINT  NOT NULL    -- of them within ADMIN_CLOSE_HOURS of creation
);

-- Closes per day and hours-to-close bin (8% wide, see metrics/panel.py).
CREATE TABLE IF NOT EXISTS metric_panel_hist (
    source  VARCHAR NOT NULL,
    agency  VARCHAR NOT NULL,
    dnum    INTEGER NOT NULL,
    bin     INTEGER NOT NULL,
    n       BIGINT  NOT NULL
);

-- A warehouse refreshed before these tables existed must rebuild them: forget the last refresh,
-- so the next one is a full refresh (idempotent: running it twice only forgets twice).
CREATE TABLE IF NOT EXISTS metric_refresh_state (
    source VARCHAR PRIMARY KEY, last_batch_seq BIGINT, as_of TIMESTAMP, refreshed_at TIMESTAMP
);
DELETE FROM metric_refresh_state;

-- The daily refresh's cost follows the day's changes (docs/metrics.md, "What a refresh stores").
-- Applied by warehouse.connection.migrate().

-- Days whose current rows a load changed: the old and new created/closed dates of every new,
-- changed or stale row, and one row with day NULL per loaded batch (so a refresh can tell that
-- every batch since it last ran is recorded). Appended by the loader in the load's transaction;
-- read and cleared by the next metrics refresh.
CREATE TABLE IF NOT EXISTS load_touched_days (
    source     VARCHAR NOT NULL,
    batch_seq  BIGINT  NOT NULL,
    day        DATE
);

-- Each request whose latest stored version (newest batch_seq, then newest known time; duplicates
-- left out) is still open after since_ms: the backlog's input. Maintained by the metrics refresh
-- from the versions landed after batch_seq only; rebuilt by a full refresh.
CREATE TABLE IF NOT EXISTS metric_open_requests (
    source          VARCHAR NOT NULL,
    unique_key      VARCHAR NOT NULL,
    agency          VARCHAR NOT NULL,
    complaint_type  VARCHAR NOT NULL,
    borough         VARCHAR NOT NULL,
    created_ms      BIGINT  NOT NULL,
    open_until      BIGINT  NOT NULL   -- epoch ms after which the version no longer shows it open
);

CREATE TABLE IF NOT EXISTS metric_open_state (
    source     VARCHAR PRIMARY KEY,
    since_ms   BIGINT NOT NULL,   -- the table holds every request open after this instant
    batch_seq  BIGINT             -- versions up to this landing batch are applied
);

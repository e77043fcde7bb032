-- The windowed metrics' input kept in the warehouse (docs/metrics.md, "What a refresh stores").
-- Applied by warehouse.connection.migrate().

-- Each current request (duplicates left out) created or validly closed on or after since_dnum,
-- in the narrow form the metric definitions read (staging.py's metric_input). Maintained by the
-- metrics refresh from the requests written after batch_seq only; rebuilt by a full refresh or
-- when the staging's definition (input_sql) changed.
CREATE TABLE IF NOT EXISTS metric_window_rows (
    source          VARCHAR NOT NULL,
    unique_key      VARCHAR NOT NULL,
    agency          VARCHAR NOT NULL,
    complaint_type  VARCHAR NOT NULL,
    borough         VARCHAR NOT NULL,
    created_dnum    INTEGER,
    created_hour    INTEGER,
    weekday         INTEGER,
    created_ms      BIGINT,
    closed_dnum     INTEGER,
    ttc_h           DOUBLE,
    is_dirty        BOOLEAN,
    is_closed       BOOLEAN,
    lat             DOUBLE,
    lon             DOUBLE
);

CREATE TABLE IF NOT EXISTS metric_window_state (
    source      VARCHAR PRIMARY KEY,
    since_dnum  INTEGER NOT NULL,  -- the table holds every row created or closed on/after this day
    batch_seq   BIGINT,            -- requests written up to this landing batch are applied
    input_sql   VARCHAR NOT NULL   -- the staging view's SQL the rows were computed with
);

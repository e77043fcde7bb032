-- The windowed counts (and the cross-city view's type days) kept across days (docs/metrics.md, "What a refresh stores"; metrics/unit_counts.py).
-- Applied by warehouse.connection.migrate().

-- Per group (every breakdown level, '*' for a dropped column) × window × unit: requests created and dirty.
CREATE TABLE IF NOT EXISTS metric_unit_created (
    source VARCHAR NOT NULL, agency VARCHAR, complaint_type VARCHAR, borough VARCHAR,
    "window" VARCHAR, unit BIGINT, n_created BIGINT, n_dirty BIGINT
);
-- … × cohort horizon: the cohort (every row counted eligible: the DST edge is the refresh's) and
-- the requests closed within the horizon.
CREATE TABLE IF NOT EXISTS metric_unit_cohorts (
    source VARCHAR NOT NULL, agency VARCHAR, complaint_type VARCHAR, borough VARCHAR,
    "window" VARCHAR, unit BIGINT, cohort_days BIGINT, n_elig BIGINT, n_within BIGINT
);
-- Per group × window × bucket × weekday × hour, and × grid cell: requests created.
CREATE TABLE IF NOT EXISTS metric_unit_when (
    source VARCHAR NOT NULL, agency VARCHAR, complaint_type VARCHAR, borough VARCHAR,
    "window" VARCHAR, bucket VARCHAR, weekday INTEGER, created_hour INTEGER, n BIGINT
);
CREATE TABLE IF NOT EXISTS metric_unit_where (
    source VARCHAR NOT NULL, agency VARCHAR, complaint_type VARCHAR, borough VARCHAR,
    "window" VARCHAR, bucket VARCHAR, cell_i BIGINT, cell_j BIGINT, n BIGINT
);
-- Per complaint type × created day, every window row (the snapshot's type_days keeps the last 400 days).
CREATE TABLE IF NOT EXISTS metric_unit_type_days (
    source VARCHAR NOT NULL, complaint_type VARCHAR, created_dnum INTEGER, created BIGINT,
    closed_d1 BIGINT, closed_d2 BIGINT, closed_d3 BIGINT, closed_d4 BIGINT, closed_d5 BIGINT,
    closed_d6 BIGINT, closed_d7 BIGINT, closed_d14 BIGINT, closed_d30 BIGINT, closed_d60 BIGINT,
    closed_d90 BIGINT, closed_later BIGINT, closed_untimed BIGINT, open_now BIGINT
);

-- What the five tables stand for: the as-of day, the window rows' batch (metric_window_state's
-- batch_seq after the refresh that wrote them) and the definition (the heat map's grid).
CREATE TABLE IF NOT EXISTS metric_unit_state (
    source      VARCHAR PRIMARY KEY,
    as_of_dnum  INTEGER NOT NULL,
    batch_seq   BIGINT,
    definition  VARCHAR NOT NULL
);

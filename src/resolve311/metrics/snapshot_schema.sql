-- The serving snapshot (see docs/snapshot.md). Written to a temporary file by
-- resolve311.metrics.snapshot and renamed into place; readers open it read-only.
-- Group columns: agency, complaint_type, borough; '*' means "all".
-- Timestamps: *_at columns are UTC; as_of / created columns are NYC wall clock.

CREATE TABLE meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);

CREATE TABLE status (
    source              VARCHAR,
    as_of               TIMESTAMP,  -- local wall clock of the newest created_date
    last_run_id         VARCHAR,
    last_run_kind       VARCHAR,
    last_run_status     VARCHAR,
    last_run_started_at TIMESTAMP,
    last_run_ended_at   TIMESTAMP,
    last_success_at     TIMESTAMP,
    unavailable_since   TIMESTAMP,  -- NULL when the source is reachable
    watermark           TIMESTAMP,
    requests_total      BIGINT,
    quarantine_total    BIGINT,
    last_error          VARCHAR
);

CREATE TABLE runs (
    run_id           VARCHAR,
    source           VARCHAR,
    kind             VARCHAR,
    started_at       TIMESTAMP,
    ended_at         TIMESTAMP,
    status           VARCHAR,
    rows_new         BIGINT,
    rows_changed     BIGINT,
    rows_unchanged   BIGINT,
    rows_quarantined BIGINT,
    watermark_before TIMESTAMP,
    watermark_after  TIMESTAMP,
    full_replace     BOOLEAN,
    error            VARCHAR
);

CREATE TABLE quarantine_summary (
    reason    VARCHAR,
    "rows"    BIGINT,
    last_seen TIMESTAMP
);

CREATE TABLE agencies (
    agency         VARCHAR,
    agency_name    VARCHAR,
    requests_total BIGINT,
    first_created  TIMESTAMP,
    last_created   TIMESTAMP
);

CREATE TABLE scorecard (
    agency         VARCHAR NOT NULL,
    complaint_type VARCHAR NOT NULL,
    borough        VARCHAR NOT NULL,
    "window"       VARCHAR NOT NULL,
    baseline       VARCHAR NOT NULL,
    metric         VARCHAR NOT NULL,
    recent         DOUBLE,
    historical     DOUBLE,
    diff_abs       DOUBLE,
    diff_rel       DOUBLE,
    score          DOUBLE,
    anomaly        BOOLEAN,
    small_sample   BOOLEAN,
    n_recent       BIGINT,     -- this metric's own n (registry population) in the recent window
    n_historical   BIGINT,     -- … and in the pooled baseline units
    threshold      DOUBLE,     -- the calibrated |score| threshold of the agency × window × metric (NULL: not calibrated)
    p_value        DOUBLE      -- empirical: share of the agency's last-year scores at least this extreme
);

-- The flag's calibration on each agency's own history (agency '*' = the city).
CREATE TABLE calibration (
    agency           VARCHAR NOT NULL,
    "window"         VARCHAR NOT NULL,
    metric           VARCHAR NOT NULL,
    days_evaluated   BIGINT,   -- last-year days with a score (not small samples)
    threshold        DOUBLE,   -- NULL when fewer days than needed to measure the target rate
    false_alarms     BIGINT,   -- out-of-sample exceedances (4 folds of 4-week blocks, each judged by the threshold of the other 3)
    false_alarm_rate DOUBLE,   -- false_alarms / days_evaluated
    fixed_rule_rate  DOUBLE,   -- share of those days with |score| > anomaly_threshold (the uncalibrated rule)
    mean_score       DOUBLE    -- mean robust score over those days (bias check: ≈ 0 on ordinary history)
);

CREATE TABLE heatmap_when (
    agency         VARCHAR NOT NULL,
    complaint_type VARCHAR NOT NULL,
    borough        VARCHAR NOT NULL,
    "window"       VARCHAR NOT NULL,
    baseline       VARCHAR NOT NULL,
    weekday        INTEGER NOT NULL,  -- 0 = Monday
    hour           INTEGER NOT NULL,
    recent         DOUBLE,
    historical     DOUBLE,
    difference     DOUBLE
);

CREATE TABLE heatmap_where (
    agency         VARCHAR NOT NULL,
    complaint_type VARCHAR NOT NULL,
    borough        VARCHAR NOT NULL,
    "window"       VARCHAR NOT NULL,
    baseline       VARCHAR NOT NULL,
    cell_lat       DOUBLE NOT NULL,
    cell_lon       DOUBLE NOT NULL,
    recent         DOUBLE,
    historical     DOUBLE,
    difference     DOUBLE
);

CREATE TABLE series (
    agency         VARCHAR NOT NULL,
    complaint_type VARCHAR NOT NULL,
    borough        VARCHAR NOT NULL,
    period         VARCHAR NOT NULL,  -- 'day' | 'week'
    date           DATE NOT NULL,
    created        BIGINT,
    closed         BIGINT,
    baseline_low   DOUBLE,
    baseline_mid   DOUBLE,
    baseline_high  DOUBLE
);

CREATE TABLE km_curve (
    agency         VARCHAR NOT NULL,
    complaint_type VARCHAR NOT NULL,
    borough        VARCHAR NOT NULL,
    "window"       VARCHAR NOT NULL,
    cohort         VARCHAR NOT NULL,  -- 'recent' | 'historical' (the 8w baseline cohort)
    t_hours        DOUBLE NOT NULL,
    survival       DOUBLE,
    at_risk        BIGINT
);

-- The cross-city view (web/crosscity.py): per complaint type × created day (the last 400 days),
-- requests created and how they closed. closed_dK: closed within [K-1, K) days of creation;
-- closed_d14/30/60/90: within [7,14), [14,30), [30,60), [60,90) days; closed_later: 90 days or more;
-- closed_untimed: closed without a usable close time; open_now: still open at publish.
CREATE TABLE type_days (
    complaint_type VARCHAR NOT NULL,
    date           DATE NOT NULL,
    created        BIGINT,
    closed_d1      BIGINT,
    closed_d2      BIGINT,
    closed_d3      BIGINT,
    closed_d4      BIGINT,
    closed_d5      BIGINT,
    closed_d6      BIGINT,
    closed_d7      BIGINT,
    closed_d14     BIGINT,
    closed_d30     BIGINT,
    closed_d60     BIGINT,
    closed_d90     BIGINT,
    closed_later   BIGINT,
    closed_untimed BIGINT,
    open_now       BIGINT
);

-- The city's main area dimension (its catalog's first [[areas]]; the `borough` group column):
-- requests over the same 400 days and the mean position of the located ones (map labels).
CREATE TABLE areas (
    area     VARCHAR NOT NULL,
    requests BIGINT,
    located  BIGINT,
    lat      DOUBLE,
    lon      DOUBLE
);

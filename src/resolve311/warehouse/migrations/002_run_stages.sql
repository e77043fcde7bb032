-- The outcome of each stage after a run's load: 'metrics' (recompute and write the
-- serving file) and 'publish' (the run's final status published in the snapshot).
-- A run is 'success' only once its 'publish' stage succeeded (docs/pipeline.md).
CREATE TABLE IF NOT EXISTS run_stages (
    run_id      VARCHAR NOT NULL,
    stage       VARCHAR NOT NULL,   -- metrics | publish
    status      VARCHAR NOT NULL,   -- running | success | failed | skipped | interrupted
    started_at  TIMESTAMP NOT NULL, -- UTC
    ended_at    TIMESTAMP,          -- UTC
    detail      VARCHAR,            -- e.g. 'incremental refresh, 12 day(s)' or why it was skipped
    error       VARCHAR,            -- the real cause of a failure (secrets redacted)
    PRIMARY KEY (run_id, stage)
);

-- One row per attempt to publish a snapshot to one sink (docs/consumers.md).
-- sink: serving | lake | postgres; generation: meta.generated_at of the serving snapshot
-- the attempt copied. A sink whose newest attempt for the current generation is not
-- 'success' is published again on the next run.
CREATE TABLE IF NOT EXISTS publishes (
    run_id      VARCHAR,            -- the run that published (NULL: `resolve311 publish`)
    sink        VARCHAR NOT NULL,
    generation  VARCHAR NOT NULL,
    as_of       VARCHAR,            -- the snapshot's meta.as_of
    status      VARCHAR NOT NULL,   -- running | success | failed
    error       VARCHAR,
    detail      VARCHAR,            -- e.g. rows or files written
    started_at  TIMESTAMP NOT NULL, -- UTC
    ended_at    TIMESTAMP           -- UTC
);

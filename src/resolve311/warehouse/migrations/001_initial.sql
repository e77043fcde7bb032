-- resolve311 warehouse, version 1. Applied by warehouse.connection.migrate().
-- Timestamps: *_date columns hold the NYC wall-clock value as published
-- (TIMESTAMP, no zone); *_utc columns hold the UTC instant (TIMESTAMP, UTC).

CREATE TABLE IF NOT EXISTS requests (
    unique_key                      VARCHAR PRIMARY KEY,
    created_date                    TIMESTAMP NOT NULL,
    closed_date                     TIMESTAMP,
    agency                          VARCHAR,
    agency_name                     VARCHAR,
    complaint_type                  VARCHAR,
    descriptor                      VARCHAR,
    descriptor_2                    VARCHAR,
    location_type                   VARCHAR,
    incident_zip                    VARCHAR,
    incident_address                VARCHAR,
    street_name                     VARCHAR,
    cross_street_1                  VARCHAR,
    cross_street_2                  VARCHAR,
    intersection_street_1           VARCHAR,
    intersection_street_2           VARCHAR,
    address_type                    VARCHAR,
    city                            VARCHAR,
    landmark                        VARCHAR,
    facility_type                   VARCHAR,
    status                          VARCHAR,
    due_date                        TIMESTAMP,
    resolution_description          VARCHAR,
    resolution_action_updated_date  TIMESTAMP,
    community_board                 VARCHAR,
    council_district                VARCHAR,
    police_precinct                 VARCHAR,
    bbl                             VARCHAR,
    borough                         VARCHAR,
    x_coordinate_state_plane        VARCHAR,
    y_coordinate_state_plane        VARCHAR,
    open_data_channel_type          VARCHAR,
    park_facility_name              VARCHAR,
    park_borough                    VARCHAR,
    vehicle_type                    VARCHAR,
    taxi_company_borough            VARCHAR,
    taxi_pick_up_location           VARCHAR,
    bridge_highway_name             VARCHAR,
    bridge_highway_direction        VARCHAR,
    road_ramp                       VARCHAR,
    bridge_highway_segment          VARCHAR,
    latitude                        DOUBLE,
    longitude                       DOUBLE,
    location                        VARCHAR,   -- as delivered, serialised to text
    -- our own columns
    source                          VARCHAR NOT NULL,   -- logical source, e.g. 'nyc'
    dataset                         VARCHAR,            -- e.g. 'erm2-nwe9'; NULL for file imports without one
    created_utc                     TIMESTAMP NOT NULL,
    closed_utc                      TIMESTAMP,
    hours_to_close                  DOUBLE,             -- (closed_utc - created_utc) in hours; NULL when open
    is_closed                       BOOLEAN NOT NULL,   -- status 'Closed…'; a real closed_date when status is missing/Unspecified (docs/warehouse.md)
    dirty_flags                     VARCHAR[] NOT NULL, -- e.g. ['closed_before_created', 'sentinel_date', 'outside_city']
    source_id                       VARCHAR,            -- Socrata :id
    source_created_at               TIMESTAMP,          -- Socrata :created_at (UTC)
    source_updated_at               TIMESTAMP,          -- Socrata :updated_at (UTC); NULL for file imports
    extra                           JSON,               -- unknown / extra columns as delivered
    row_hash                        VARCHAR NOT NULL,   -- hash of the source fields: equal hash = same version
    batch_seq                       BIGINT NOT NULL,    -- landing batch that brought this version
    loaded_at                       TIMESTAMP NOT NULL  -- UTC
);

-- Every distinct version ever seen (same columns as requests).
CREATE TABLE IF NOT EXISTS request_versions AS SELECT * FROM requests WHERE false;
CREATE UNIQUE INDEX IF NOT EXISTS request_versions_key ON request_versions (unique_key, row_hash);

CREATE TABLE IF NOT EXISTS quarantine (
    batch_seq      BIGINT NOT NULL,
    row_number     BIGINT NOT NULL,   -- position of the row in its batch, from 0
    source         VARCHAR NOT NULL,
    unique_key     VARCHAR,           -- when one could be read
    reason         VARCHAR NOT NULL,  -- short machine-readable reason, e.g. 'missing_unique_key'
    detail         VARCHAR,           -- human-readable detail
    raw            VARCHAR NOT NULL,  -- the row as delivered (JSON text)
    quarantined_at TIMESTAMP NOT NULL,
    PRIMARY KEY (batch_seq, row_number)
);

-- One row per run of update / backfill / import / rebuild.
CREATE TABLE IF NOT EXISTS runs (
    run_id            VARCHAR PRIMARY KEY,
    source            VARCHAR NOT NULL,
    kind              VARCHAR NOT NULL,   -- update | backfill | import | rebuild
    started_at        TIMESTAMP NOT NULL, -- UTC
    ended_at          TIMESTAMP,
    status            VARCHAR NOT NULL,   -- running | success | source_unavailable | failed | interrupted
    rows_new          BIGINT DEFAULT 0,
    rows_changed      BIGINT DEFAULT 0,
    rows_unchanged    BIGINT DEFAULT 0,
    rows_quarantined  BIGINT DEFAULT 0,
    watermark_before  TIMESTAMP,
    watermark_after   TIMESTAMP,
    full_replace      BOOLEAN DEFAULT false,
    error             VARCHAR
);

-- Incremental state per source dataset; commits with the rows it describes.
CREATE TABLE IF NOT EXISTS source_state (
    source            VARCHAR NOT NULL,
    dataset           VARCHAR NOT NULL,
    watermark         TIMESTAMP,          -- highest :updated_at committed (UTC)
    last_success_at   TIMESTAMP,          -- UTC
    unavailable_since TIMESTAMP,          -- UTC; NULL when the last run reached the source
    PRIMARY KEY (source, dataset)
);

-- Per-consumer position in the landing log (the warehouse loader is one).
CREATE TABLE IF NOT EXISTS landing_checkpoint (
    consumer   VARCHAR PRIMARY KEY,
    last_seq   BIGINT NOT NULL
);

-- Service-level targets per complaint type (NYC dataset cs9t-e3x8 shape).
CREATE TABLE IF NOT EXISTS sla_targets (
    agency          VARCHAR,
    complaint_type  VARCHAR NOT NULL,
    target_hours    DOUBLE NOT NULL
);

CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);

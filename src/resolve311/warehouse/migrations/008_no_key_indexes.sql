-- No ART index on the request tables (docs/warehouse.md, "Keys without an index").
-- Applied by warehouse.connection.migrate().
--
-- DuckDB keeps a table's ART indexes in memory while they are built or merged (a commit of N new
-- rows into `requests` and `request_versions` built both indexes over N keys, outside
-- `memory_limit`'s reach: 7.1 GB for a 26.7M-row first import), and no statement reads them: every
-- loader join is a hash join. The loader keeps each key once in `requests` and each
-- (unique_key, row_hash) once in `request_versions` by construction (tested), so both indexes
-- go: `request_versions_key` is dropped and `requests` is copied into the same table without its
-- PRIMARY KEY (DuckDB cannot drop a constraint in place). `migrate` runs it in one transaction:
-- a crash leaves the old table, and the next open runs it again. The copy runs under a 3 GB cap (reset after). Same
-- columns, types and NOT NULLs as 001 (comments there).

SET memory_limit = '3GB';
DROP INDEX IF EXISTS request_versions_key;
DROP TABLE IF EXISTS requests_008;
CREATE TABLE requests_008 (
    unique_key                      VARCHAR NOT NULL,
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
    location                        VARCHAR,
    source                          VARCHAR NOT NULL,
    dataset                         VARCHAR,
    created_utc                     TIMESTAMP NOT NULL,
    closed_utc                      TIMESTAMP,
    hours_to_close                  DOUBLE,
    is_closed                       BOOLEAN NOT NULL,
    dirty_flags                     VARCHAR[] NOT NULL,
    source_id                       VARCHAR,
    source_created_at               TIMESTAMP,
    source_updated_at               TIMESTAMP,
    extra                           JSON,
    row_hash                        VARCHAR NOT NULL,
    batch_seq                       BIGINT NOT NULL,
    loaded_at                       TIMESTAMP NOT NULL
);

INSERT INTO requests_008 SELECT * FROM requests;
DROP TABLE requests;
ALTER TABLE requests_008 RENAME TO requests;
RESET memory_limit;

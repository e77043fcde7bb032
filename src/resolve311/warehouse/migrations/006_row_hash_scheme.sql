-- row_hash is DuckDB's hash() of the normalised fields (was: md5 of their JSON). One row: the hash
-- of a fixed probe row on the engine that wrote the stored hashes. warehouse.row_hash re-hashes
-- every stored row once when it is missing (a warehouse of the md5 era) or no longer matches
-- (a DuckDB release that changed hash()). Applied by warehouse.connection.migrate().
CREATE TABLE IF NOT EXISTS row_hash_scheme (
    probe VARCHAR NOT NULL
);

-- Each row written once (docs/warehouse.md, "Writing each row once").
-- Applied by warehouse.connection.migrate(), in one transaction.
--
-- `request_versions` held every distinct version, the current one of each key included, so every
-- current row was stored twice (in `requests` too) and a first import wrote every row twice.
-- Now `request_history` holds the versions that are not the current row of their key
-- (superseded and stale ones) and `request_versions` is a view over both tables: the same
-- columns and the same rows for every reader. A version made current again after a newer one
-- (an older export re-imported) shows once, with the load columns of `requests`.

SET memory_limit = '3GB';
CREATE TABLE request_history AS
SELECT v.* FROM request_versions v
WHERE NOT EXISTS (
    SELECT 1 FROM requests r WHERE r.unique_key = v.unique_key AND r.row_hash = v.row_hash
);
DROP TABLE request_versions;
-- BY NAME: a later migration that adds a column to both tables cannot misalign the view.
CREATE VIEW request_versions AS
SELECT * FROM request_history
UNION ALL BY NAME
SELECT * FROM requests;
RESET memory_limit;

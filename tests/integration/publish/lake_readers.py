"""Reading the lake with no resolve311 code: the snippets of docs/consumers.md, as functions."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import fsspec
import pandas as pd
import pyarrow.parquet as pq


def manifest(lake: str) -> dict[str, Any]:
    with fsspec.open(f"{lake}/_lake.json", "rb") as f:
        return json.load(f)


def files(lake: str, table: str) -> list[str]:
    return [f"{lake}/{f}" for f in manifest(lake)["tables"][table]["files"]]


def with_duckdb(lake: str, table: str) -> pd.DataFrame:
    """DuckDB over a local lake (object storage needs DuckDB's httpfs extension)."""
    # --8<-- [start:duckdb]
    return duckdb.sql(f"SELECT * FROM read_parquet({files(lake, table)!r}, union_by_name = true)").df()
    # --8<-- [end:duckdb]


def with_pyarrow(lake: str, table: str, **storage: Any) -> pd.DataFrame:
    """pyarrow/pandas over any fsspec URL (s3:// needs s3fs)."""
    fs, _ = fsspec.core.url_to_fs(lake, **storage)
    paths = [fs._strip_protocol(p) for p in files(lake, table)]
    return pq.ParquetDataset(paths, filesystem=fs).read().to_pandas()


def with_spark(spark: Any, lake: str, table: str) -> pd.DataFrame:
    return spark.read.parquet(*files(lake, table)).toPandas()

"""Read-only access to the serving snapshot, reopened when a new file is published.

The metrics stage replaces ``serving.duckdb`` with ``os.replace``. Before each
query the reader compares the file's inode, mtime and size with the open
connection's and reopens on a change, so a running server follows every
publish without a restart. Queries are serialised by a lock: they are tiny,
and DuckDB caches database instances by path, so the old connection must be
closed before the new file is opened.

A published file never changes, so the answer to a query is a function of the
query, its parameters and the file: answers are remembered (a bounded LRU) until
the file changes. A page asks for the same small facts (meta, the agency list,
the slices of an agency) several times, and the views of one agency share their
heat map, history and survival rows; each costs ~1–2 ms of DuckDB and pandas work.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from resolve311.errors import SnapshotMissing

Row = dict[str, Any]
_Stamp = tuple[int, int, int]
#: Answers remembered per snapshot file (rows lists and DataFrames of a few hundred rows at most).
MEMO_MAX_ENTRIES = 2048
#: The dashboard's queries are tiny: one DuckDB thread does them with less overhead than a pool.
READER_THREADS = 1


class SnapshotReader:
    """Query the snapshot at ``path``; raises :class:`SnapshotMissing` while there is none."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._stamp: _Stamp | None = None
        self._memo: OrderedDict[Hashable, Any] = OrderedDict()

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Run ``sql`` and return the rows as dicts (the caller's own copies)."""
        with self._lock:
            key = ("rows", sql, *params)
            found: list[Row] | None = self._recall(key)
            if found is None:
                cur = self._execute(sql, params)
                names = [d[0] for d in cur.description or ()]
                found = [dict(zip(names, values, strict=True)) for values in cur.fetchall()]
                self._remember(key, found)
            return [dict(r) for r in found]

    def frame(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        """Run ``sql`` and return a DataFrame (the caller's own; copy-on-write shares the data)."""
        with self._lock:
            key = ("frame", sql, *params)
            found: pd.DataFrame | None = self._recall(key)
            if found is None:
                found = self._execute(sql, params).df()
                self._remember(key, found)
            return found.copy(deep=False)

    def _recall(self, key: Hashable) -> Any:
        """A remembered answer for the file in place now (None: not remembered)."""
        self._connection()  # follows a newly published file, which forgets every answer
        try:
            found = self._memo.get(key)
        except TypeError:  # an unhashable parameter: not remembered
            return None
        if found is not None:
            self._memo.move_to_end(key)
        return found

    def _remember(self, key: Hashable, value: Any) -> None:
        try:
            self._memo[key] = value
        except TypeError:
            return
        while len(self._memo) > MEMO_MAX_ENTRIES:
            self._memo.popitem(last=False)

    def available(self) -> bool:
        """True when a snapshot file exists and opens."""
        try:
            with self._lock:
                self._connection()
        except SnapshotMissing:
            return False
        return True

    def generation(self) -> str:
        """An id of the snapshot file now in place ("none" without one): changes with every publish."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return "none"
        return f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
            self._con, self._stamp = None, None
            self._memo.clear()

    def _execute(self, sql: str, params: Sequence[object]) -> duckdb.DuckDBPyConnection:
        try:
            return self._connection().execute(sql, list(params))
        except duckdb.IOException:
            self.close()  # the file changed under us mid-swap: reopen once
            return self._connection().execute(sql, list(params))

    def _connection(self) -> duckdb.DuckDBPyConnection:
        stamp = self._current_stamp()
        if self._con is None or stamp != self._stamp:
            self.close()
            try:
                self._con = duckdb.connect(str(self.path), read_only=True)
            except duckdb.IOException as exc:
                raise SnapshotMissing(f"cannot open the serving snapshot {self.path}: {exc}") from None
            self._con.execute(f"SET threads = {READER_THREADS}")
            self._stamp = stamp
        return self._con

    def _current_stamp(self) -> _Stamp:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self.close()
            raise SnapshotMissing(f"no serving snapshot at {self.path} yet") from None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

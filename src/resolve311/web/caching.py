"""Responses keyed by the snapshot generation: ETag/304 and a per-worker cache of answers.

Every API answer and every Dash callback answer is a function of the request and of
the snapshot file in place, so its ETag is derived from the request and the
snapshot *generation* (the file's identity: inode, mtime, size) before any work is
done. A client that sends ``If-None-Match`` with it gets ``304`` at once; a request
already answered under this generation is served from memory. A publish changes
the generation, which changes every ETag and empties the cache.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

CACHE_MAX_BYTES = 64 * 2**20
GZIP_LEVEL = 5


@dataclass
class Cached:
    """One stored answer; the gzip variant is made on first demand."""

    body: bytes
    mimetype: str
    gzipped: bytes | None = None

    def gz(self) -> bytes:
        if self.gzipped is None:
            self.gzipped = gzip.compress(self.body, GZIP_LEVEL)
        return self.gzipped

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"")


def etag_for(generation: str, settings_key: str, method: str, target: str, body: bytes) -> str:
    """A weak ETag (the bytes differ with the encoding) for one request under one generation."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (generation, settings_key, method, target):
        digest.update(part.encode() + b"\x00")
    digest.update(body)
    return f'W/"{digest.hexdigest()}"'


class ResponseCache:
    """A byte-bounded LRU of answers for the current generation (one per worker process)."""

    def __init__(self, max_bytes: int = CACHE_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._items: OrderedDict[str, Cached] = OrderedDict()
        self._bytes = 0
        self._generation = ""

    def get(self, generation: str, etag: str) -> Cached | None:
        with self._lock:
            self._follow(generation)
            item = self._items.get(etag)
            if item is not None:
                self._items.move_to_end(etag)
            return item

    def put(self, generation: str, etag: str, item: Cached) -> None:
        if item.size > self.max_bytes // 4:
            return
        with self._lock:
            self._follow(generation)
            old = self._items.pop(etag, None)
            self._bytes -= old.size if old else 0
            self._items[etag] = item
            self._bytes += item.size
            while self._bytes > self.max_bytes and self._items:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= dropped.size

    def __len__(self) -> int:
        return len(self._items)

    def _follow(self, generation: str) -> None:
        if generation != self._generation:
            self._items.clear()
            self._bytes = 0
            self._generation = generation

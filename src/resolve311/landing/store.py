"""The landing log: immutable, sequenced, compressed batches of raw source data.

Layout under the log's root (a local directory or any fsspec URL)::

    <source>/<seq:012d>.<dataset>.<format>.gz     the bytes as received, gzip-compressed
    <source>/<seq:012d>.manifest.json             written last: a batch exists iff its manifest does
    _checkpoints/<consumer>.json                  positions of consumers that keep them in the log

    <source>/<seq:012d>.import.<name>            a bulk-imported file, byte for byte as delivered

Sequence numbers are global to the log and strictly increasing; both files are
written under a temporary name and renamed; nothing is ever overwritten.
Appending assumes one writer at a time (the update lock).

A bulk import (``stored == "file"``) lands the file itself, as delivered
(already gzip-compressed if it was a ``.gz``): one kernel-side copy (a
reflink where the filesystem has them; no decompress/recompress pass over
gigabytes, no bytes through Python), whose
SHA-256 is computed from the copy by a background thread while the warehouse
loads that same copy, so what is loaded is exactly what the log holds.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import json
import os
import queue
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import fsspec
from isal import igzip

from resolve311.errors import LandingError

Format = Literal["json", "csv"]
SEQ_PATTERN = re.compile(r"^(\d{12})\.")
FAST_GZIP_LEVEL = 3  # ISA-L's levels are 0-3


@dataclass(frozen=True)
class BatchMeta:
    """What the producer knows about a batch before it is written."""

    source: str
    dataset: str | None
    producer: str  # update | backfill | import
    kind: str  # incremental | trailing | backfill | import
    format: Format
    rows: int
    run_id: str
    watermark_from: str | None = None  # lowest :updated_at in the batch (UTC ISO)
    watermark_to: str | None = None  # highest :updated_at in the batch (UTC ISO)
    advances_watermark: bool = False
    name: str | None = None  # the imported file's name


@dataclass(frozen=True)
class Manifest(BatchMeta):
    """A written batch: its metadata plus sequence number, checksum, size, data file and time."""

    seq: int = 0
    sha256: str = ""
    bytes: int = 0
    data_file: str = ""
    received_at: str = ""
    stored: str = "gzip"  # gzip: the bytes gzip-compressed by the log | file: a whole file as delivered

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Payload:
    """A batch's bytes ready to land: gzip-compressed, with the checksum and size of the original."""

    compressed: bytes
    sha256: str
    size: int

    @classmethod
    def of(cls, data: bytes | bytearray, compresslevel: int = 6) -> Payload:
        """Compress and checksum ``data`` (both release the GIL: worker threads may call this).

        Levels up to :data:`FAST_GZIP_LEVEL` use ISA-L (several times faster than zlib's level 1
        and as small); higher levels zlib. Either way the result is plain gzip.
        """
        digest = hashlib.sha256(data).hexdigest()
        if compresslevel <= FAST_GZIP_LEVEL:
            return cls(igzip.compress(data, compresslevel=compresslevel), digest, len(data))
        return cls(gzip.compress(data, compresslevel=compresslevel), digest, len(data))


class LandingStore:
    """Append-only access to the landing log at ``location``."""

    def __init__(self, location: str) -> None:
        self.fs, self.root = fsspec.core.url_to_fs(location)
        self.root = self.root.rstrip("/")
        self._last_seq: int | None = None

    # ------------------------------------------------------------- writing
    def append(self, data: bytes | Payload, meta: BatchMeta) -> Manifest:
        """Write one batch (data first, manifest last) and return its manifest."""
        payload = data if isinstance(data, Payload) else Payload.of(data)
        seq = self.last_seq() + 1
        folder = f"{self.root}/{_safe(meta.source)}"
        self.fs.makedirs(folder, exist_ok=True)
        data_file = f"{seq:012d}.{_safe(meta.dataset or meta.producer)}.{meta.format}.gz"
        manifest = Manifest(
            **asdict(meta),
            seq=seq,
            sha256=payload.sha256,
            bytes=payload.size,
            data_file=data_file,
            received_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        )
        self._write_once(f"{folder}/{data_file}", payload.compressed)
        self._write_once(f"{folder}/{seq:012d}.manifest.json", manifest.to_json().encode())
        self._last_seq = seq
        return manifest

    def _write_once(self, path: str, payload: bytes) -> None:
        if self.fs.exists(path):
            raise LandingError(f"landing batch {path} already exists; refusing to overwrite it")
        temp = f"{path}.{uuid.uuid4().hex}.tmp"
        try:
            with self.fs.open(temp, "wb") as handle:
                handle.write(payload)
            self.fs.mv(temp, path)
        except BaseException:  # a full disk or a kill: leave no temporary file behind
            with contextlib.suppress(OSError):
                self.fs.rm(temp)
            raise

    def stage_file(self, path: Path, meta: BatchMeta) -> StagedFile:
        """Copy a file into the log under a temporary name (hashing it on the way); not yet a batch.

        :meth:`commit_file` makes it batch ``seq``; :meth:`discard` removes it. The staged copy is
        what the warehouse loads, so the load and the log can never disagree.
        """
        seq = self.last_seq() + 1
        folder = f"{self.root}/{_safe(meta.source)}"
        data_file = f"{seq:012d}.import.{_safe(path.name)}"
        workdir = Path(tempfile.mkdtemp(prefix="r311-import-")) if not self._local else None
        self.fs.makedirs(folder, exist_ok=True)
        local = (workdir or Path(folder)) / f"{data_file}.{uuid.uuid4().hex}.tmp"
        digest = _copy_hashed(path, local)
        return StagedFile(
            seq, local, f"{folder}/{data_file}", data_file, digest, local.stat().st_size, workdir
        )

    def commit_file(self, staged: StagedFile, meta: BatchMeta) -> Manifest:
        """Turn a staged file into batch ``staged.seq`` (data renamed first, manifest written last)."""
        if self.last_seq() + 1 != staged.seq:
            raise LandingError(f"landing batch {staged.seq} was taken by another writer")
        manifest = Manifest(  # staged.sha256 waits for the background hash of the copy
            **asdict(meta), seq=staged.seq, sha256=staged.sha256, bytes=staged.bytes,
            data_file=staged.data_file, received_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            stored="file",
        )  # fmt: skip
        if self.fs.exists(staged.target):
            raise LandingError(f"landing batch {staged.target} already exists; refusing to overwrite it")
        if self._local:
            staged.local.rename(staged.target)
        else:
            self.fs.put_file(str(staged.local), staged.target)
        self._write_once(
            f"{staged.target.rsplit('/', 1)[0]}/{staged.seq:012d}.manifest.json", manifest.to_json().encode()
        )
        self._last_seq = staged.seq
        self.discard(staged)
        return manifest

    def discard(self, staged: StagedFile) -> None:
        """Remove what :meth:`stage_file` left (nothing when it was committed)."""
        with contextlib.suppress(OSError):
            staged.digest.result()  # the hashing thread is done with the copy
        staged.local.unlink(missing_ok=True)
        if staged.workdir is not None:
            shutil.rmtree(staged.workdir, ignore_errors=True)

    @contextmanager
    def file_of(self, manifest: Manifest) -> Iterator[Path]:
        """A local path of a ``stored == "file"`` batch, checked against its SHA-256."""
        path = f"{self.root}/{_safe(manifest.source)}/{manifest.data_file}"
        workdir = None if self._local else Path(tempfile.mkdtemp(prefix="r311-landed-"))
        try:
            local = Path(path) if workdir is None else workdir / manifest.data_file
            if workdir is not None:
                self.fs.get_file(path, str(local))
            if _sha256_of(local) != manifest.sha256:
                raise LandingError(f"landing batch {manifest.seq} does not match its checksum")
            yield local
        except OSError as exc:
            raise LandingError(f"landing batch {manifest.seq} is unreadable: {exc}") from None
        finally:
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)

    @property
    def _local(self) -> bool:
        protocol = self.fs.protocol
        return "file" in (protocol if isinstance(protocol, tuple) else (protocol,))

    # ------------------------------------------------------------- reading
    def last_seq(self) -> int:
        """The highest sequence number used so far (also by unfinished batches); 0 when empty."""
        if self._last_seq is None:
            seqs = [_seq_of(path) for path in self._all_files()]
            self._last_seq = max((s for s in seqs if s is not None), default=0)
        return self._last_seq

    def manifests(self, after_seq: int = 0) -> list[Manifest]:
        """Manifests of every complete batch with ``seq > after_seq``, in sequence order."""
        found: list[tuple[int, str]] = []
        for path in self._all_files():
            seq = _seq_of(path)
            if seq is not None and seq > after_seq and path.endswith(".manifest.json"):
                found.append((seq, path))
        return [Manifest.from_json(self.fs.cat_file(path).decode()) for _, path in sorted(found)]

    def read(self, manifest: Manifest) -> bytes:
        """The batch's bytes as received; LandingError when the checksum does not match.

        For a whole landed file (``stored == "file"``) use :meth:`file_of` instead.
        """
        path = f"{self.root}/{_safe(manifest.source)}/{manifest.data_file}"
        try:
            data = gzip.decompress(self.fs.cat_file(path))
        except (OSError, EOFError) as exc:
            raise LandingError(f"landing batch {manifest.seq} is unreadable: {exc}") from None
        if hashlib.sha256(data).hexdigest() != manifest.sha256:
            raise LandingError(f"landing batch {manifest.seq} does not match its checksum")
        return data

    def _all_files(self) -> list[str]:
        if not self.fs.exists(self.root):
            return []
        return [str(p) for p in self.fs.glob(f"{self.root}/*/*") if not str(p).endswith(".tmp")]

    # ------------------------------------------------- consumer checkpoints
    def checkpoint(self, consumer: str) -> int:
        """The last sequence number ``consumer`` has processed (0 when it never ran)."""
        path = f"{self.root}/_checkpoints/{_safe(consumer)}.json"
        if not self.fs.exists(path):
            return 0
        return int(json.loads(self.fs.cat_file(path))["last_seq"])

    def save_checkpoint(self, consumer: str, last_seq: int) -> None:
        """Record ``consumer``'s position (replaced atomically: the one file that is rewritten)."""
        folder = f"{self.root}/_checkpoints"
        self.fs.makedirs(folder, exist_ok=True)
        temp = f"{folder}/{_safe(consumer)}.{uuid.uuid4().hex}.tmp"
        with self.fs.open(temp, "wb") as handle:
            handle.write(json.dumps({"last_seq": last_seq}).encode())
        self.fs.mv(temp, f"{folder}/{_safe(consumer)}.json")


_COPY_BLOCK = 8 << 20
_RANGE_BLOCK = 64 << 20  # the hashing thread follows the copy block by block
_RESTART = -1
#: copy_file_range errors that mean "not here" (another filesystem, an old kernel, a special file).
_NO_RANGE_COPY = frozenset(
    {errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.EBADF, errno.EPERM}
)


@dataclass(frozen=True)
class StagedFile:
    """A file copied into the log under a temporary name, not yet a batch."""

    seq: int
    local: Path  # the copy on local disk (the warehouse loads this)
    target: str  # where the batch's data file goes in the log
    data_file: str
    digest: Future[str]  # the SHA-256 of the copy, computed by a background thread
    bytes: int
    workdir: Path | None  # a local temporary folder (remote logs only)

    @property
    def sha256(self) -> str:
        """The copy's SHA-256 (waits for the hashing thread); LandingError when the copy became unreadable."""
        try:
            return self.digest.result()
        except OSError as exc:
            raise LandingError(f"the staged copy {self.local.name} is unreadable: {exc}") from None


def _kernel_copy(src: Path, dst: Path, landed: Callable[[int], None] = lambda size: None) -> None:
    """Copy without passing the bytes through Python: ``copy_file_range`` (on XFS or btrfs a reflink,
    no data copied), else ``shutil.copyfile`` (``sendfile``). Either way an independent file.

    ``landed(size)`` is told the copy's size after each block (``_RESTART`` when it starts over).
    """
    try:
        with src.open("rb") as source, dst.open("wb") as target:
            size = 0
            while copied := os.copy_file_range(source.fileno(), target.fileno(), _RANGE_BLOCK):
                size += copied
                landed(size)
            if os.fstat(target.fileno()).st_size == os.fstat(source.fileno()).st_size:
                return  # (a pseudo-filesystem can report 0 bytes copied too early: then copy again)
    except OSError as exc:  # only "not supported for this pair of files" falls back (a full disk does not)
        if exc.errno not in _NO_RANGE_COPY:
            raise
    landed(_RESTART)
    shutil.copyfile(src, dst)


def _copy_hashed(src: Path, dst: Path) -> Future[str]:
    """:func:`_kernel_copy` of ``src`` to ``dst``; the SHA-256 of the copy, by a thread that reads each
    block of the copy as soon as it has landed.

    The kernel's copy leaves a core idle (it waits on the disk): hashing then, instead of after the copy,
    keeps the hash off the cores the warehouse load uses next (it is done about when the copy is).
    """
    sizes: queue.SimpleQueue[int | None] = queue.SimpleQueue()  # the copy's size so far; None: it ended
    future = _hash_following(dst, sizes)
    try:
        _kernel_copy(src, dst, sizes.put)
    finally:
        sizes.put(None)
    return future


def _hash_following(path: Path, sizes: queue.SimpleQueue[int | None]) -> Future[str]:
    """The SHA-256 of ``path``, read by a daemon thread up to each size ``sizes`` announces, then to
    its end (``_RESTART``: the file is being written again from its start)."""
    future: Future[str] = Future()

    def work() -> None:
        try:
            digest, done = hashlib.sha256(), 0
            while (size := sizes.get()) is not None:
                if size == _RESTART:
                    digest, done = hashlib.sha256(), 0
                    continue
                done += _hash_range(path, digest, done, size)
            _hash_range(path, digest, done, None)
            future.set_result(digest.hexdigest())
        except BaseException as exc:  # delivered to whoever waits for the result
            future.set_exception(exc)

    threading.Thread(target=work, name="r311-landing-sha256", daemon=True).start()
    return future


def _hash_range(path: Path, digest: Any, start: int, end: int | None) -> int:
    """Add the bytes of ``path`` from ``start`` to ``end`` (its end: None) to ``digest``; how many."""
    read = 0
    with path.open("rb") as handle:
        handle.seek(start)
        while chunk := handle.read(_COPY_BLOCK if end is None else min(_COPY_BLOCK, end - start - read)):
            digest.update(chunk)
            read += len(chunk)
    return read


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    _hash_range(path, digest, 0, None)
    return digest.hexdigest()


def _seq_of(path: str) -> int | None:
    match = SEQ_PATTERN.match(path.rsplit("/", 1)[-1])
    return int(match.group(1)) if match else None


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def describe(manifest: Manifest) -> dict[str, Any]:
    """The manifest as a plain dict (for JSON output)."""
    return asdict(manifest)

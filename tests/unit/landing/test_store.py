"""The landing log: write-once batches, monotonic sequence, checksums, consumer checkpoints."""

import gzip
import hashlib
import json
import os
from pathlib import Path

import pytest

from resolve311.errors import LandingError
from resolve311.landing.store import BatchMeta, LandingStore, Payload


def meta(rows: int = 2, dataset: str | None = "erm2-nwe9", source: str = "nyc") -> BatchMeta:
    return BatchMeta(
        source=source, dataset=dataset, producer="update", kind="incremental", format="json",
        rows=rows, run_id="r1", watermark_from="2024-01-01T00:00:00.000Z",
        watermark_to="2024-01-02T00:00:00.000Z", advances_watermark=True,
    )  # fmt: skip


def test_a_batch_is_stored_compressed_with_a_manifest(tmp_path: Path) -> None:
    store = LandingStore(str(tmp_path))
    body = b'[{"unique_key": "1"}, {"unique_key": "2"}]'
    manifest = store.append(body, meta())
    assert manifest.seq == 1
    data_file = tmp_path / "nyc" / manifest.data_file
    assert gzip.decompress(data_file.read_bytes()) == body
    on_disk = json.loads((tmp_path / "nyc" / "000000000001.manifest.json").read_text())
    assert on_disk["rows"] == 2
    assert on_disk["sha256"] == manifest.sha256
    assert on_disk["watermark_to"] == "2024-01-02T00:00:00.000Z"
    assert store.read(manifest) == body
    assert not list(tmp_path.rglob("*.tmp"))


def test_sequence_numbers_increase_across_sources_and_reopenings(tmp_path: Path) -> None:
    first = LandingStore(str(tmp_path))
    a = first.append(b"[]", meta(0))
    b = first.append(b"[]", meta(0, source="chicago", dataset="v6vf-nfxy"))
    c = LandingStore(str(tmp_path)).append(b"[]", meta(0, dataset=None))
    assert (a.seq, b.seq, c.seq) == (1, 2, 3)
    assert [m.seq for m in LandingStore(str(tmp_path)).manifests()] == [1, 2, 3]
    assert [m.seq for m in LandingStore(str(tmp_path)).manifests(after_seq=1)] == [2, 3]


def test_an_unfinished_batch_is_invisible_and_its_number_never_reused(tmp_path: Path) -> None:
    store = LandingStore(str(tmp_path))
    store.append(b"[]", meta(0))
    (tmp_path / "nyc" / "000000000002.erm2-nwe9.json.gz").write_bytes(
        gzip.compress(b"[]")
    )  # crash before manifest
    fresh = LandingStore(str(tmp_path))
    assert [m.seq for m in fresh.manifests()] == [1]
    assert fresh.append(b"[]", meta(0)).seq == 3


def test_a_batch_is_never_overwritten(tmp_path: Path) -> None:
    store = LandingStore(str(tmp_path))
    store.append(b"[1]", meta(1))
    stale = LandingStore(str(tmp_path))
    stale._last_seq = 0  # a second writer that did not see batch 1
    with pytest.raises(LandingError, match="refusing to overwrite"):
        stale.append(b"[2]", meta(1))
    assert store.read(store.manifests()[0]) == b"[1]"


def test_a_corrupted_batch_is_detected(tmp_path: Path) -> None:
    store = LandingStore(str(tmp_path))
    manifest = store.append(b"[1]", meta(1))
    (tmp_path / "nyc" / manifest.data_file).write_bytes(gzip.compress(b"[2]"))
    with pytest.raises(LandingError, match="checksum"):
        store.read(manifest)


def test_consumers_keep_their_own_checkpoints(tmp_path: Path) -> None:
    store = LandingStore(str(tmp_path))
    assert store.checkpoint("archive") == 0
    store.save_checkpoint("archive", 5)
    store.save_checkpoint("archive", 7)
    store.save_checkpoint("other", 1)
    assert (LandingStore(str(tmp_path)).checkpoint("archive"), store.checkpoint("other")) == (7, 1)


def test_any_fsspec_url_works() -> None:
    store = LandingStore("memory://landing-test")
    manifest = store.append(b"[]", meta(0))
    assert LandingStore("memory://landing-test").manifests()[0].seq == manifest.seq
    assert store.read(manifest) == b"[]"


@pytest.mark.parametrize("remote", [False, True], ids=["local", "fsspec-memory"])
def test_a_whole_file_is_staged_then_committed_or_discarded(tmp_path: Path, remote: bool) -> None:
    import uuid

    location = f"memory://landing-{uuid.uuid4().hex}" if remote else str(tmp_path / "log")
    store = LandingStore(location)
    original = tmp_path / "export.csv.gz"
    original.write_bytes(gzip.compress(b"Unique Key,Created Date\n1,04/16/2024 03:03:15 AM\n"))
    file_meta = BatchMeta(source="nyc", dataset=None, producer="import", kind="import", format="csv",
                          rows=1, run_id="r1", name=original.name)  # fmt: skip
    refused = store.stage_file(original, file_meta)
    assert refused.local.read_bytes() == original.read_bytes()
    store.discard(refused)
    assert not refused.local.exists() and store.manifests() == [] and store.last_seq() == 0
    staged = store.stage_file(original, file_meta)
    manifest = store.commit_file(staged, file_meta)
    assert (manifest.seq, manifest.stored, manifest.bytes) == (1, "file", original.stat().st_size)
    assert manifest.sha256 == hashlib.sha256(original.read_bytes()).hexdigest()  # hashed in the background
    delivered = original.read_bytes()
    original.write_bytes(b"edited afterwards")  # the landed file is a copy, not a link
    [listed] = LandingStore(location).manifests()
    assert listed == manifest
    with store.file_of(listed) as landed:
        assert landed.read_bytes() == delivered  # as delivered: still gzip
    assert store.append(b"[]", meta(0)).seq == 2


def test_a_payload_prepared_elsewhere_lands_like_the_bytes_themselves(tmp_path: Path) -> None:
    store = LandingStore(str(tmp_path))
    body = b'[{"unique_key": "1"}\n,{"unique_key": "2"}]' * 50
    prepared = store.append(Payload.of(body, compresslevel=1), meta())
    plain = store.append(body, meta())
    assert prepared.sha256 == plain.sha256 and prepared.bytes == plain.bytes == len(body)
    assert store.read(prepared) == store.read(plain) == body


def test_a_file_copy_range_cannot_take_is_still_copied_whole(tmp_path: Path) -> None:
    from resolve311.landing.store import _kernel_copy

    target = tmp_path / "copy"
    _kernel_copy(Path("/proc/self/status"), target)  # copy_file_range refuses procfs (EXDEV): the fallback
    assert target.read_bytes().startswith(b"Name:") and b"\nPid:" in target.read_bytes()


def test_the_copy_is_hashed_block_by_block_as_it_lands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from resolve311.landing import store as landing

    monkeypatch.setattr(landing, "_RANGE_BLOCK", 4096)  # many blocks: the hashing thread follows each one
    monkeypatch.setattr(landing, "_COPY_BLOCK", 1000)  # reads that do not end on a block's end
    original = tmp_path / "big.csv"
    original.write_bytes(os.urandom(50_000) + b"tail")
    copy = tmp_path / "copy"
    digest = landing._copy_hashed(original, copy)
    assert copy.read_bytes() == original.read_bytes()
    assert digest.result(timeout=60) == hashlib.sha256(original.read_bytes()).hexdigest()


def test_a_copy_that_starts_over_is_hashed_from_its_start(tmp_path: Path) -> None:
    from resolve311.landing.store import _copy_hashed

    copy = tmp_path / "copy"
    digest = _copy_hashed(Path("/proc/self/status"), copy)  # copy_file_range refuses procfs: copied again
    assert digest.result(timeout=60) == hashlib.sha256(copy.read_bytes()).hexdigest()
    assert copy.read_bytes().startswith(b"Name:")

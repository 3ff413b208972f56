"""A regression guard on I/O, not on time: fixed selections must touch exactly the chunks (and bytes) they need.

Every case reads or writes a fixed selection and compares the store calls and bytes moved with the
minimum the selection needs: one request per touched chunk (per shard, the index plus one request per
run of wanted inner chunks), whole chunks written without being read, partial chunks read once and
written once. A change that makes reads or writes touch more chunks or bytes than needed fails here.

Plain arrays are counted on both engine paths (the synchronous one the sync API takes, and the async
one remote stores take) and on a LocalStore whose synchronous reads include the read-into-place path
(``get_into_sync``), counted by a LocalStore subclass. Sharded arrays are counted through a LoggingStore.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zarrlayered
from zarrlayered.codecs import ZstdCodec
from zarrlayered.core.sync import sync
from zarrlayered.stores import LocalStore, LoggingStore, MemoryStore
from zarrlayered.stores.abc import BufferLike, ByteRequest

SHAPE = (100, 100)
CHUNKS = (10, 10)
CHUNK_NBYTES = 10 * 10 * 8  # float64
DATA = np.arange(100 * 100, dtype=np.float64).reshape(SHAPE) + 1  # no element equals the fill value 0


class CountingLocalStore(LocalStore):
    """A LocalStore that counts its synchronous calls and the bytes they move (reads into place included)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.counter: Counter[str] = Counter()
        self.bytes_read = 0
        self.bytes_written = 0
        self.into_keys: list[str] = []  # the keys read into place, in order

    def reset_counts(self) -> None:
        self.counter.clear()
        self.bytes_read = self.bytes_written = 0
        self.into_keys.clear()

    def get_sync(self, key: str, byte_range: ByteRequest | None = None) -> bytes | None:
        value = super().get_sync(key, byte_range)
        self.counter["get"] += 1
        self.bytes_read += 0 if value is None else len(value)
        return value

    def get_into_sync(self, key: str, buffer: memoryview) -> int | None:
        size = super().get_into_sync(key, buffer)
        self.into_keys.append(key)
        self.counter["get"] += 1
        self.bytes_read += buffer.nbytes if size == buffer.nbytes else 0
        return size

    def set_sync(self, key: str, value: BufferLike) -> None:
        super().set_sync(key, value)
        self.counter["set"] += 1
        self.bytes_written += memoryview(value).nbytes

    def delete_sync(self, key: str) -> None:
        super().delete_sync(key)
        self.counter["delete"] += 1


def _plain(where: str, tmp_path: Path, compressed: bool = False) -> tuple[zarrlayered.Array, Any]:
    store: Any = CountingLocalStore(tmp_path / "a") if where == "local" else LoggingStore(MemoryStore())
    arr = zarrlayered.create_array(
        store,
        shape=SHAPE,
        chunks=CHUNKS,
        dtype="float64",
        fill_value=0,
        compressors=ZstdCodec(level=1) if compressed else None,
    )
    arr[...] = DATA
    store.reset_counts()
    return arr, store


def _read(arr: zarrlayered.Array, kind: str, selection: Any, path: str) -> Any:
    if path == "sync":
        return arr.async_array.get_selection_sync(selection, kind)
    return sync(arr.async_array.get_selection(selection, kind))


def _write(arr: zarrlayered.Array, selection: Any, value: Any, path: str) -> None:
    if path == "sync":
        arr.async_array.set_selection_sync(selection, value, "getitem")
    else:
        sync(arr.async_array.set_selection(selection, value, "getitem"))


# (kind, selection, numpy's answer, chunks the selection touches)
READS: dict[str, tuple[str, Any, Any, int]] = {
    "all": ("getitem", Ellipsis, DATA, 100),
    "one element": ("getitem", (57, 3), DATA[57, 3], 1),
    "one chunk": ("getitem", np.s_[10:20, 30:40], DATA[10:20, 30:40], 1),
    "row": ("getitem", 5, DATA[5], 10),
    "box across four chunks": ("getitem", np.s_[15:25, 33:47], DATA[15:25, 33:47], 4),
    "strided": ("getitem", np.s_[::30, ::45], DATA[::30, ::45], 12),
    "reversed column": ("getitem", np.s_[::-1, 5], DATA[::-1, 5], 10),
    "reversed box": ("getitem", np.s_[24:14:-1, 47:32:-2], DATA[24:14:-1, 47:32:-2], 4),
    "negative steps of 30": ("getitem", np.s_[95:4:-30, :], DATA[95:4:-30, :], 40),
    "oindex": ("orthogonal", ([3, 97, 3], [50]), DATA[np.ix_([3, 97, 3], [50])], 2),
    "oindex bool": ("orthogonal", (np.arange(100) % 50 == 7, slice(0, 10)), DATA[[7, 57], :10], 2),
    "vindex": ("vindex", ([1, 99, 55], [1, 99, 2]), DATA[[1, 99, 55], [1, 99, 2]], 3),
    "vindex one chunk": ("vindex", ([11, 12, 11], [19, 10, 10]), DATA[[11, 12, 11], [19, 10, 10]], 1),
    "vindex mesh": ("vindex", np.ix_([0, 99], [0, 99]), DATA[np.ix_([0, 99], [0, 99])], 4),
    "mask": ("mask", (DATA == 42) | (DATA == 9999), DATA[(DATA == 42) | (DATA == 9999)], 2),
    "block": ("block", (2, 3), DATA[20:30, 30:40], 1),
}


#: (store, engine path): the counting LocalStore counts its synchronous calls; the async path is counted in memory.
PATHS = [("memory", "sync"), ("memory", "async"), ("local", "sync")]


@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "zstd"])
@pytest.mark.parametrize(("where", "path"), PATHS)
@pytest.mark.parametrize("case", list(READS))
def test_reads_fetch_each_touched_chunk_once(
    case: str, where: str, path: str, compressed: bool, tmp_path: Path
) -> None:
    arr, store = _plain(where, tmp_path, compressed)
    kind, selection, expected, touched = READS[case]
    np.testing.assert_array_equal(_read(arr, kind, selection, path), expected)
    assert store.counter == {"get": touched}
    if not compressed:
        assert store.bytes_read == touched * CHUNK_NBYTES
    assert store.bytes_written == 0


def test_a_missing_chunk_is_one_request_and_reads_as_fill(tmp_path: Path) -> None:
    arr, store = _plain("local", tmp_path)
    arr.async_array.set_selection_sync(np.s_[0:10, 0:10], 0.0, "getitem")  # all fill: the chunk is deleted
    assert store.counter == {"delete": 1}
    store.reset_counts()
    np.testing.assert_array_equal(arr[0:20, 0:10], np.concatenate([np.zeros((10, 10)), DATA[10:20, :10]]))
    assert store.counter == {"get": 2}
    assert store.bytes_read == CHUNK_NBYTES


def test_a_chunk_that_fills_the_output_is_read_into_it(tmp_path: Path) -> None:
    arr, store = _plain("local", tmp_path)
    out = np.full((10, 10), np.nan)
    arr.async_array.get_selection_sync(np.s_[10:20, 30:40], "getitem", out=out)
    np.testing.assert_array_equal(out, DATA[10:20, 30:40])
    assert store.into_keys == ["c/1/3"]
    assert store.counter == {"get": 1}


@pytest.mark.parametrize(
    ("chunks", "selection", "into_calls"),
    [
        ((10, 100), Ellipsis, 10),  # rows of whole width: every chunk is one block of the output
        ((1, 100), np.s_[5:9], 4),
        ((10, 10), Ellipsis, 0),  # 10x10 blocks of a 100-wide output are never contiguous: not tried
        ((10, 10), np.s_[0:20, 0:30], 0),
    ],
)
def test_read_into_place_is_tried_only_where_chunks_can_fill_blocks(
    tmp_path: Path, chunks: tuple[int, int], selection: Any, into_calls: int
) -> None:
    store = CountingLocalStore(tmp_path / "a")
    arr = zarrlayered.create_array(store, shape=SHAPE, chunks=chunks, dtype="float64", fill_value=0, compressors=None)
    arr[...] = DATA
    store.reset_counts()
    np.testing.assert_array_equal(arr[selection], DATA[selection])
    assert len(store.into_keys) == into_calls
    expected = DATA[selection]
    assert store.bytes_read == expected.nbytes  # whole chunks in each case: nothing read twice


# (selection, value shape or None for a scalar, chunks read (partly written), chunks written)
WRITES: dict[str, tuple[Any, tuple[int, ...] | None, int, int]] = {
    "whole chunk": (np.s_[10:20, 10:20], (10, 10), 0, 1),
    "whole chunks, scalar": (np.s_[0:20, 0:30], None, 0, 6),
    "part of a chunk": (np.s_[12, 10:15], (5,), 1, 1),
    "two whole and two partial": (np.s_[0:10, 5:35], (10, 30), 2, 4),
    "reversed whole chunk": (np.s_[19:9:-1, 10:20], (10, 10), 1, 1),
    "reversed column": (np.s_[::-1, 0], (100,), 10, 10),
    "strided": (np.s_[::50, ::50], (2, 2), 4, 4),
    "everything": (Ellipsis, (100, 100), 0, 100),
}


@pytest.mark.parametrize(("where", "path"), PATHS)
@pytest.mark.parametrize("case", list(WRITES))
def test_writes_read_only_partly_written_chunks(case: str, where: str, path: str, tmp_path: Path) -> None:
    arr, store = _plain(where, tmp_path)
    selection, shape, partial, written = WRITES[case]
    value: Any = -7.0 if shape is None else -np.arange(1, np.prod(shape) + 1, dtype=np.float64).reshape(shape)
    _write(arr, selection, value, path)
    expected = DATA.copy()
    expected[selection] = value
    assert store.counter == ({"get": partial, "set": written} if partial else {"set": written})
    assert store.bytes_read == partial * CHUNK_NBYTES
    assert store.bytes_written == written * CHUNK_NBYTES
    np.testing.assert_array_equal(arr[...], expected)


# -- sharded arrays ----------------------------------------------------------------------------------

SHARDED_SHAPE = (64, 64)
SHARDS = (32, 32)
INNER = (8, 8)
INNER_NBYTES = 8 * 8 * 2  # uint16, uncompressed
INDEX_NBYTES = 16 * 16 + 4  # 16 inner chunks per shard: offset and length each, plus the crc32c
SHARD_NBYTES = 16 * INNER_NBYTES + INDEX_NBYTES
SHARDED_DATA = (np.arange(64 * 64) % 65000 + 1).astype(np.uint16).reshape(SHARDED_SHAPE)


def _sharded() -> tuple[zarrlayered.Array, LoggingStore]:
    store = LoggingStore(MemoryStore())
    arr = zarrlayered.create_array(
        store, shape=SHARDED_SHAPE, chunks=INNER, shards=SHARDS, dtype="uint16", fill_value=0, compressors=None
    )
    arr[...] = SHARDED_DATA
    store.reset_counts()
    return arr, store


# (kind, selection, numpy's answer, shards touched, inner chunks touched)
SHARDED_READS: dict[str, tuple[str, Any, Any, int, int]] = {
    "one element": ("getitem", (40, 3), SHARDED_DATA[40, 3], 1, 1),
    "reversed column": ("getitem", np.s_[::-1, 3], SHARDED_DATA[::-1, 3], 2, 8),
    "reversed box in one inner chunk": ("getitem", np.s_[7::-1, 15:7:-3], SHARDED_DATA[7::-1, 15:7:-3], 1, 1),
    "oindex": ("orthogonal", ([1, 63], [2, 62]), SHARDED_DATA[np.ix_([1, 63], [2, 62])], 4, 4),
    "vindex": ("vindex", ([1, 63, 2], [2, 62, 1]), SHARDED_DATA[[1, 63, 2], [2, 62, 1]], 2, 2),
}


@pytest.mark.parametrize("path", ["sync", "async"])
@pytest.mark.parametrize("case", list(SHARDED_READS))
def test_sharded_reads_fetch_the_indexes_and_the_wanted_inner_chunks(case: str, path: str) -> None:
    arr, store = _sharded()
    kind, selection, expected, shards, inner = SHARDED_READS[case]
    np.testing.assert_array_equal(_read(arr, kind, selection, path), expected)
    requests = sum(store.counter.values())
    assert shards * 2 <= requests <= shards + inner  # one index per shard, then at most one request per chunk
    assert store.counter["get"] >= shards
    assert set(store.counter) <= {"get", "get_partial_values"}
    # the runs coalesce nearby inner chunks, never beyond a whole shard
    assert shards * INDEX_NBYTES + inner * INNER_NBYTES <= store.bytes_read <= shards * SHARD_NBYTES
    if inner == shards:  # one inner chunk per shard: exactly its bytes
        assert store.bytes_read == shards * (INDEX_NBYTES + INNER_NBYTES)


def test_sharded_full_read_is_two_requests_per_shard() -> None:
    arr, store = _sharded()
    np.testing.assert_array_equal(arr[...], SHARDED_DATA)
    assert store.counter == {"get": 8}
    assert store.bytes_read == 4 * SHARD_NBYTES


# (selection, shards read (partly written), shards written)
SHARDED_WRITES: dict[str, tuple[Any, int, int]] = {
    "whole shard": (np.s_[0:32, 32:64], 0, 1),
    "one element": (np.s_[40, 3], 1, 1),
    "reversed whole shard": (np.s_[31::-1, 0:32], 1, 1),
    "reversed column": (np.s_[::-1, 3], 2, 2),
    "everything": (Ellipsis, 0, 4),
}


@pytest.mark.parametrize("path", ["sync", "async"])
@pytest.mark.parametrize("case", list(SHARDED_WRITES))
def test_sharded_writes_read_only_partly_written_shards(case: str, path: str) -> None:
    arr, store = _sharded()
    selection, partial, written = SHARDED_WRITES[case]
    _write(arr, selection, 9, path)
    expected = SHARDED_DATA.copy()
    expected[selection] = 9
    assert store.counter == ({"get": partial, "set": written} if partial else {"set": written})
    assert store.bytes_read == partial * SHARD_NBYTES
    assert store.bytes_written == written * SHARD_NBYTES
    np.testing.assert_array_equal(arr[...], expected)


def test_records_are_read_into_place_too(tmp_path: Path) -> None:
    records = np.dtype([("a", "<i4"), ("b", "<f8")])
    store = CountingLocalStore(tmp_path / "r")
    arr = zarrlayered.create_array(
        store, shape=(20,), chunks=(10,), dtype=records, fill_value=None, compressors=None
    )
    value = np.zeros(20, records)
    value["a"], value["b"] = np.arange(20), 0.5
    arr[:] = value
    store.reset_counts()
    np.testing.assert_array_equal(arr[10:20], value[10:20])
    np.testing.assert_array_equal(arr[:], value)
    assert store.counter == {"get": 3}
    assert store.bytes_read == 3 * 10 * records.itemsize

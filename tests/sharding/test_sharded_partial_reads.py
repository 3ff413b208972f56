"""Partial reads of sharded arrays, byte for byte: the index with one byte-range request, then only the
inner chunks the selection needs (adjacent ones coalesced), whatever the selection's kind.

Every read goes through a RecordingStore (a LoggingStore that also keeps each request), on both engine
paths: the synchronous one (``get_sync`` with a byte range per run) and the async one (one
``get_partial_values`` call per shard).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sharding_helpers import RecordingStore, needed_inner_chunks, shard_key, sharding_codec, stored_index

import zarrlayered
from zarrlayered.core.sharded_pipeline import COALESCE_GAP
from zarrlayered.stores import FsspecStore

SHAPE = (512, 512)
INNER = (64, 64)
SHARDS = (256, 256)
INNER_NBYTES = 64 * 64 * 8
INDEX_NBYTES = 16 * 16 + 4  # 16 inner chunks per shard, 16 bytes each, and the crc32c checksum
DATA = np.arange(512 * 512, dtype="f8").reshape(SHAPE)


def _make(location: str = "end", compressors: Any = None) -> tuple[zarrlayered.Array, RecordingStore]:
    store = RecordingStore()
    arr = zarrlayered.create_array(
        store,
        shape=SHAPE,
        chunks=INNER,
        shards={"shape": SHARDS, "index_location": location},
        dtype="f8",
        compressors=compressors,
    )
    arr[...] = DATA
    store.reset_counts()
    return arr, store


def _read(arr: zarrlayered.Array, kind: str, selection: Any, path: str) -> Any:
    if path == "sync":
        return arr.async_array.get_selection_sync(selection, kind)
    return zarrlayered.core.sync.sync(arr.async_array.get_selection(selection, kind))


def _index_request(store: RecordingStore) -> Any:
    codec, shard_shape = sharding_codec(store.backing)
    return codec.index_byte_request(shard_shape)


def _extent(store: RecordingStore, inner: tuple[int, ...]) -> tuple[str, int, int]:
    """(shard key, start, end) of the stored bytes of the inner chunk at global coordinates ``inner``."""
    per = tuple(s // c for s, c in zip(SHARDS, INNER, strict=True))
    shard = tuple(c // n for c, n in zip(inner, per, strict=True))
    local = tuple(c % n for c, n in zip(inner, per, strict=True))
    key = shard_key(shard)
    where = stored_index(store.backing, key).get(local)
    assert where is not None
    return key, where[0], where[0] + where[1]


# One element, (70, 130), in inner chunk (1, 2) of shard (0, 0), asked for in every style.
ONE_ELEMENT: dict[str, tuple[str, Any, Any]] = {
    "int": ("getitem", (70, 130), DATA[70, 130]),
    "slice": ("getitem", (slice(70, 71), slice(130, 131)), DATA[70:71, 130:131]),
    "list": ("getitem", ([70], 130), DATA[[70], 130]),
    "oindex": ("orthogonal", ([70], [130]), DATA[np.ix_([70], [130])]),
    "oindex-bool": ("orthogonal", (np.arange(512) == 70, [130]), DATA[70:71, 130:131]),
    "vindex": ("vindex", ([70], [130]), DATA[[70], [130]]),
    "vindex-mesh": ("vindex", np.ix_([70], [130]), DATA[np.ix_([70], [130])]),
    "mask": ("mask", np.pad(np.ones((1, 1), bool), ((70, 441), (130, 381))), DATA[70:71, 130].ravel()),
}


@pytest.mark.parametrize("location", ["end", "start"])
@pytest.mark.parametrize("path", ["sync", "async"])
@pytest.mark.parametrize("style", list(ONE_ELEMENT))
def test_one_element_reads_the_index_and_one_inner_chunk(style: str, path: str, location: str) -> None:
    arr, store = _make(location)
    kind, selection, expected = ONE_ELEMENT[style]
    got = _read(arr, kind, selection, path)
    np.testing.assert_array_equal(got, expected)
    index_request = _index_request(store)
    key, start, end = _extent(store, (1, 2))
    assert store.index_reads(index_request) == [key]
    assert store.data_ranges(index_request) == [(key, start, end)]
    assert end - start == INNER_NBYTES
    assert store.bytes_read == INDEX_NBYTES + INNER_NBYTES
    if path == "sync":
        assert store.counter == {"get": 2}
    else:
        assert store.counter == {"get": 1, "get_partial_values": 1}


@pytest.mark.parametrize("path", ["sync", "async"])
def test_one_element_of_a_compressed_array_costs_the_index_plus_that_chunk(path: str) -> None:
    arr, store = _make(compressors="auto")
    assert _read(arr, "getitem", (300, 5), path) == DATA[300, 5]
    key, start, end = _extent(store, (4, 0))
    assert key == "c/1/0"
    assert end - start < INNER_NBYTES  # compressed
    assert store.data_ranges(_index_request(store)) == [(key, start, end)]
    assert store.bytes_read == INDEX_NBYTES + (end - start)


@pytest.mark.parametrize("path", ["sync", "async"])
def test_oindex_and_vindex_cost_what_the_equivalent_slice_costs(path: str) -> None:
    arr, store = _make(compressors="auto")
    costs = []
    for kind, selection in [
        ("getitem", slice(0, 1)),
        ("orthogonal", ([0], slice(None))),
        ("getitem", [0]),
        ("vindex", np.ix_([0], np.arange(512))),
        ("getitem", (slice(0, 100), slice(None))),
        ("orthogonal", (list(range(100)), slice(None))),
        ("vindex", np.ix_(np.arange(100), np.arange(512))),
    ]:
        store.reset_counts()
        got = _read(arr, kind, selection, path)
        rows = 1 if got.shape[0] == 1 else 100
        np.testing.assert_array_equal(got, DATA[:rows])
        costs.append((rows, sorted(store.requests, key=repr), store.bytes_read, dict(store.counter)))
    for rows, requests, nbytes, counter in costs:
        first = next(c for c in costs if c[0] == rows)
        assert (requests, nbytes, counter) == first[1:]
    # row 0 crosses two shards, four inner chunks in each (a few KiB compressed, so coalesced):
    # per shard the index and one range
    one_row = costs[0]
    assert one_row[3] == ({"get": 4} if path == "sync" else {"get": 2, "get_partial_values": 2})
    assert len(store.data_ranges(_index_request(store))) == 2


def test_oindex_of_one_index_costs_what_the_slice_costs() -> None:
    """zarr-python 3 issue #3829: oindex[[0]] on a sharded array took ten times as long as [0:1].

    Counted, not timed: the same store calls and the same bytes, whatever the indexing style.
    """
    shape, inner, shards = (2, 100, 100, 100), (1, 100, 10, 10), (1, 100, 100, 100)
    store = zarrlayered.stores.LoggingStore(zarrlayered.stores.MemoryStore())
    arr = zarrlayered.create_array(store, shape=shape, chunks=inner, shards=shards, dtype="f4")
    arr[...] = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)

    def cost(read: Any) -> tuple[dict[str, int], int]:
        store.reset_counts()
        read()
        return dict(store.counter), store.bytes_read

    np.testing.assert_array_equal(arr.oindex[[0], :, :, :], arr[0:1])
    by_slice = cost(lambda: arr[0:1])
    assert cost(lambda: arr.oindex[[0], :, :, :]) == by_slice
    assert cost(lambda: arr.vindex[np.ix_([0], *(np.arange(n) for n in shape[1:]))]) == by_slice


def _adjacent_pair(store: RecordingStore, shard: tuple[int, int]) -> tuple[tuple[int, ...], ...]:
    """The first three inner chunks of ``shard`` in the order they are stored (the first two back to back)."""
    index = stored_index(store.backing, shard_key(shard))
    by_offset = sorted(
        (where[0], local) for local in np.ndindex(4, 4) if (where := index.get(tuple(local))) is not None
    )
    (off0, first), (off1, second), (_, third) = by_offset[0], by_offset[1], by_offset[2]
    assert off1 - off0 == INNER_NBYTES
    return tuple(first), tuple(second), tuple(third)


@pytest.mark.parametrize("path", ["sync", "async"])
def test_adjacent_inner_chunks_are_one_request_distant_ones_two(path: str) -> None:
    arr, store = _make()
    first, second, third = _adjacent_pair(store, (1, 1))
    points = [tuple(256 + c * 64 + 5 for c in local) for local in (first, second, third)]
    index_request = _index_request(store)

    # two chunks next to each other in the shard: one range, exactly their bytes
    got = _read(arr, "vindex", tuple(np.array(p) for p in zip(*points[:2], strict=True)), path)
    np.testing.assert_array_equal(got, [DATA[p] for p in points[:2]])
    (key, start, end), *rest = store.data_ranges(index_request)
    assert not rest and key == "c/1/1" and end - start == 2 * INNER_NBYTES
    assert store.bytes_read == INDEX_NBYTES + 2 * INNER_NBYTES

    # the first and the third: a chunk (32 KiB > COALESCE_GAP) between them, so two ranges
    store.reset_counts()
    got = _read(arr, "vindex", tuple(np.array(p) for p in zip(points[0], points[2], strict=True)), path)
    np.testing.assert_array_equal(got, [DATA[points[0]], DATA[points[2]]])
    assert INNER_NBYTES > COALESCE_GAP
    ranges = store.data_ranges(index_request)
    assert len(ranges) == 2 and all(e - s == INNER_NBYTES for _, s, e in ranges)
    assert store.bytes_read == INDEX_NBYTES + 2 * INNER_NBYTES
    assert store.counter == ({"get": 3} if path == "sync" else {"get": 1, "get_partial_values": 1})


@pytest.mark.parametrize("path", ["sync", "async"])
def test_small_gaps_are_bridged(path: str) -> None:
    """Compressed inner chunks a few KiB apart are fetched in one request: the slack stays under COALESCE_GAP."""
    arr, store = _make(compressors="auto")
    index_request = _index_request(store)
    # elements (0, 0) and (0, 64): inner chunks (0, 0) and (0, 1) of shard (0, 0); in Morton order (1, 0) is between
    np.testing.assert_array_equal(_read(arr, "orthogonal", ([0], [0, 64]), path), DATA[np.ix_([0], [0, 64])])
    wanted = [_extent(store, (0, 0)), _extent(store, (0, 1))]
    between = _extent(store, (1, 0))
    assert wanted[0][2] <= between[1] and between[2] <= wanted[1][1]
    needed = sum(e - s for _, s, e in wanted)
    ((key, start, end),) = store.data_ranges(index_request)
    assert key == "c/0/0"
    assert start == min(s for _, s, _ in wanted) and end == max(e for _, _, e in wanted)
    assert needed < end - start <= needed + COALESCE_GAP
    assert store.bytes_read == INDEX_NBYTES + (end - start)


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_missing_shard_costs_one_request(path: str) -> None:
    store = RecordingStore()
    arr = zarrlayered.create_array(store, shape=SHAPE, chunks=INNER, shards=SHARDS, dtype="f8", fill_value=-1)
    arr[0:10, 0:10] = 1.0
    store.reset_counts()
    got = _read(arr, "getitem", (slice(300, 400), slice(0, 512)), path)
    assert (got == -1).all()
    assert sorted(key for _, key, _ in store.requests) == ["c/1/0", "c/1/1"]
    assert store.bytes_read == 0
    assert store.counter == {"get": 2}


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_missing_inner_chunk_costs_only_the_index(path: str) -> None:
    store = RecordingStore()
    arr = zarrlayered.create_array(store, shape=SHAPE, chunks=INNER, shards=SHARDS, dtype="f8", fill_value=-1)
    arr[0:10, 0:10] = 1.0  # only inner chunk (0, 0) of shard (0, 0) is stored
    store.reset_counts()
    got = _read(arr, "orthogonal", ([100, 200], slice(70, 250)), path)
    assert (got == -1).all()
    assert store.counter == {"get": 1}
    assert store.bytes_read == INDEX_NBYTES
    assert store.data_ranges(_index_request(store)) == []


def _selections(rng: np.random.Generator) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for _ in range(6):
        a, b = sorted(rng.integers(0, 512, 2))
        c, d = sorted(rng.integers(0, 512, 2))
        step = int(rng.integers(1, 90))
        out.append(("getitem", (slice(int(a), int(b) + 1, step), slice(int(c), int(d) + 1))))
        out.append(("orthogonal", (rng.integers(0, 512, 5), rng.integers(0, 512, 3))))
        out.append(("vindex", (rng.integers(0, 512, 7), rng.integers(0, 512, 7))))
        out.append(("mask", rng.random(SHAPE) < 0.0002))
    return out


@pytest.mark.parametrize("path", ["sync", "async"])
def test_bytes_fetched_are_the_needed_inner_chunks_and_the_indexes(path: str) -> None:
    """For many selections: exact values; bytes = indexes of the shards touched + the needed inner chunks +
    at most COALESCE_GAP of slack per request; one get_partial_values call per shard (async)."""
    arr, store = _make(compressors="auto")
    index_request = _index_request(store)
    flat = np.arange(DATA.size).reshape(SHAPE)
    for kind, selection in _selections(np.random.default_rng(1)):
        store.reset_counts()
        got = _read(arr, kind, selection, path)
        if kind == "orthogonal":
            selected, expected = flat[np.ix_(*selection)], DATA[np.ix_(*selection)]
        else:
            selected, expected = flat[selection], DATA[selection]
        np.testing.assert_array_equal(got, expected)
        needed = needed_inner_chunks(SHAPE, INNER, selected)
        extents = [_extent(store, chunk) for chunk in needed]
        shards = {key for key, _, _ in extents}
        ranges = store.data_ranges(index_request)
        assert sorted(store.index_reads(index_request)) == sorted(shards)
        for key, start, end in extents:  # every needed chunk lies in one fetched range
            assert any(k == key and s <= start and end <= e for k, s, e in ranges)
        needed_bytes = sum(e - s for _, s, e in extents)
        fetched = sum(e - s for _, s, e in ranges)
        assert needed_bytes <= fetched <= needed_bytes + COALESCE_GAP * max(0, len(extents) - len(ranges))
        assert store.bytes_read == INDEX_NBYTES * len(shards) + fetched
        if path == "async":
            assert store.counter["get_partial_values"] == len(shards)


def test_reads_never_fetch_a_whole_shard() -> None:
    arr, store = _make(compressors="auto")
    np.testing.assert_array_equal(arr[...], DATA)
    np.testing.assert_array_equal(arr.oindex[np.arange(0, 512, 3), :], DATA[::3])
    np.testing.assert_array_equal(arr.vindex[np.arange(512), np.arange(512)], np.diagonal(DATA))
    assert store.requests and store.whole_reads() == []


def test_partial_reads_from_s3_go_through_get_partial_values(s3_bucket: tuple[str, dict[str, Any]]) -> None:
    """A remote store (moto's S3 server): the sync front end takes the async path, one range request per run."""
    url, options = s3_bucket
    remote = RecordingStore(FsspecStore.from_url(f"{url}/sharded", storage_options=options))
    arr = zarrlayered.create_array(remote, shape=SHAPE, chunks=INNER, shards=SHARDS, dtype="f8", compressors=None)
    assert not arr.async_array.sync_path
    arr[...] = DATA
    remote.reset_counts()
    np.testing.assert_array_equal(arr.oindex[[70], [130]], DATA[70:71, 130:131])
    assert remote.counter == {"get": 1, "get_partial_values": 1}
    assert remote.bytes_read == INDEX_NBYTES + INNER_NBYTES
    remote.reset_counts()
    np.testing.assert_array_equal(arr.vindex[np.ix_(np.arange(0, 512, 64), [0, 300])], DATA[::64][:, [0, 300]])
    # 8 x 2 points in 16 inner chunks spread over the four shards: four indexes, one batch of ranges per shard
    assert remote.counter == {"get": 4, "get_partial_values": 4}
    assert remote.bytes_read == 4 * INDEX_NBYTES + 16 * INNER_NBYTES


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_truncated_shard_is_an_error_not_garbage(path: str) -> None:
    arr, store = _make(location="start")
    kept = INDEX_NBYTES + 3 * INNER_NBYTES
    _, start, _ = _extent(store, (3, 3))  # the last inner chunk of shard (0, 0) in Morton order
    assert start >= kept
    store.backing.store_dict["c/0/0"] = store.backing.store_dict["c/0/0"][:kept]  # the index survives
    np.testing.assert_array_equal(_read(arr, "getitem", (0, 0), path), DATA[0, 0])  # within the kept bytes
    with pytest.raises(ValueError, match="shorter than its index says"):
        _read(arr, "getitem", (200, 200), path)

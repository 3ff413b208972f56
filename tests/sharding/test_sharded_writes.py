"""Writes to sharded arrays: whole shards are stored once without a read; partial shard writes read the
shard, re-encode only the inner chunks that change and rewrite it; concurrent partial writes to one shard
from many threads (or tasks) of one process lose nothing, even through separate store objects."""

from __future__ import annotations

import asyncio
import itertools
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sharding_helpers import RecordingStore, sharding_codec

import zarrlayered
from zarrlayered.core.sync import sync
from zarrlayered.stores import LocalStore, MemoryStore


def _write(arr: zarrlayered.Array, selection: Any, value: Any, path: str, kind: str = "getitem") -> None:
    if path == "sync":
        arr.async_array.set_selection_sync(selection, value, kind)
    else:
        sync(arr.async_array.set_selection(selection, value, kind))


def _shard_chunks(store: RecordingStore, key: str) -> dict[tuple[int, ...], bytes]:
    codec, shard_shape = sharding_codec(store.backing)
    return {k: bytes(v) for k, v in codec.shard_chunks(store.backing.store_dict[key], shard_shape).items()}


@pytest.mark.parametrize("path", ["sync", "async"])
@pytest.mark.parametrize(
    ("shape", "nshards"),
    [((512, 512), 4), ((300, 270), 4), ((100, 512), 2)],  # exact, partial edge shards, one row of shards
)
def test_whole_shards_are_written_once_without_reading(shape: tuple[int, int], nshards: int, path: str) -> None:
    store = RecordingStore()
    arr = zarrlayered.create_array(store, shape=shape, chunks=(64, 64), shards=(256, 256), dtype="i4")
    data = np.arange(np.prod(shape), dtype="i4").reshape(shape)
    store.reset_counts()
    _write(arr, slice(None), data, path)
    assert store.counter == {"set": nshards}
    assert store.requests == []
    np.testing.assert_array_equal(arr[...], data)
    # oindex / vindex selections that cover whole shards take the same route
    store.reset_counts()
    rows = np.arange(shape[0])
    _write(arr, (rows, slice(None)), data + 1, path, "orthogonal")
    _write(arr, np.ix_(rows, np.arange(shape[1])), data + 2, path, "vindex")
    assert store.counter == {"set": 2 * nshards}
    np.testing.assert_array_equal(arr[...], data + 2)


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_partial_shard_write_reads_merges_and_rewrites_the_shard(path: str) -> None:
    store = RecordingStore()
    arr = zarrlayered.create_array(store, shape=(512, 512), chunks=(64, 64), shards=(256, 256), dtype="f8")
    data = np.random.default_rng(0).standard_normal((512, 512))
    arr[...] = data
    before = dict(store.backing.store_dict)
    chunks_before = _shard_chunks(store, "c/0/1")
    store.reset_counts()

    _write(arr, (3, 300), -5.0, path)  # inner chunk (0, 0) of shard (0, 1)
    data[3, 300] = -5.0
    assert store.counter == {"get": 1, "set": 1}
    assert store.whole_reads() == ["c/0/1"]
    chunks_after = _shard_chunks(store, "c/0/1")
    assert chunks_after.keys() == chunks_before.keys()
    changed = [k for k in chunks_before if chunks_before[k] != chunks_after[k]]
    assert changed == [(0, 0)]  # every other inner chunk carried over byte for byte
    assert all(store.backing.store_dict[k] == v for k, v in before.items() if k != "c/0/1")
    np.testing.assert_array_equal(arr[...], data)

    # a write across the corner of four shards: each read once and written once
    store.reset_counts()
    _write(arr, (slice(250, 260), slice(250, 262)), 7.0, path)
    data[250:260, 250:262] = 7.0
    assert store.counter == {"get": 4, "set": 4}
    assert sorted(store.whole_reads()) == ["c/0/0", "c/0/1", "c/1/0", "c/1/1"]
    np.testing.assert_array_equal(arr[...], data)


@pytest.mark.parametrize("path", ["sync", "async"])
def test_writing_the_fill_value_everywhere_removes_the_shard(path: str) -> None:
    store = RecordingStore()
    arr = zarrlayered.create_array(store, shape=(64, 64), chunks=(8, 8), shards=(32, 32), dtype="i2", fill_value=9)
    arr[...] = 1
    assert sorted(k for k in store.backing.store_dict if k.startswith("c/")) == ["c/0/0", "c/0/1", "c/1/0", "c/1/1"]
    _write(arr, (slice(0, 32), slice(0, 40)), 9, path)  # shard (0, 0) whole, half of (0, 1)
    assert "c/0/0" not in store.backing.store_dict
    assert len(_shard_chunks(store, "c/0/1")) == 16 - 4
    _write(arr, (slice(0, 32), slice(40, 64)), 9, path)  # the rest of (0, 1): a partial write emptying it
    assert "c/0/1" not in store.backing.store_dict
    expected = np.full((64, 64), 9, dtype="i2")
    expected[32:] = 1
    np.testing.assert_array_equal(arr[...], expected)


def _elements(shape: tuple[int, int]) -> list[tuple[int, int]]:
    return list(itertools.product(range(shape[0]), range(shape[1])))


def _hammer(arrays: list[zarrlayered.Array], shape: tuple[int, int]) -> None:
    """Write each element once, from 16 threads, element i through ``arrays[i % len(arrays)]``."""
    cells = _elements(shape)

    def write(i: int) -> None:
        r, c = cells[i]
        arrays[i % len(arrays)][r, c] = i

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(write, range(len(cells))))


def test_threads_writing_one_shard_through_one_array_lose_nothing() -> None:
    shape = (32, 32)
    arr = zarrlayered.create_array(MemoryStore(), shape=shape, chunks=(4, 4), shards=shape, dtype="i4", fill_value=-1)
    _hammer([arr], shape)
    np.testing.assert_array_equal(arr[...], np.arange(32 * 32).reshape(shape))


def test_threads_writing_one_shard_through_separate_stores_lose_nothing(tmp_path: Path) -> None:
    """Each thread's array has its own LocalStore object of the same directory: the shard lock is shared."""
    shape = (32, 32)
    zarrlayered.create_array(str(tmp_path), shape=shape, chunks=(4, 4), shards=shape, dtype="i4", fill_value=-1)
    arrays = [zarrlayered.open_array(LocalStore(tmp_path), mode="r+") for _ in range(8)]
    _hammer(arrays, shape)
    np.testing.assert_array_equal(zarrlayered.open_array(str(tmp_path))[...], np.arange(32 * 32).reshape(shape))


def test_threads_writing_one_shard_through_memory_stores_sharing_a_dict_lose_nothing() -> None:
    shape = (16, 48)
    shared: dict[str, bytes] = {}
    zarrlayered.create_array(MemoryStore(shared), shape=shape, chunks=(4, 4), shards=shape, dtype="i4", fill_value=-1)
    arrays = [zarrlayered.open_array(MemoryStore(shared), mode="r+") for _ in range(4)]
    arrays.append(zarrlayered.open_array(RecordingStore(MemoryStore(shared)), mode="r+"))  # a wrapper too
    _hammer(arrays, shape)
    np.testing.assert_array_equal(arrays[0][...], np.arange(16 * 48).reshape(shape))


async def test_tasks_writing_one_shard_lose_nothing() -> None:
    shape = (24, 24)
    store = MemoryStore()
    arr = zarrlayered.create_array(store, shape=shape, chunks=(4, 4), shards=shape, dtype="i4", fill_value=-1)
    engine = arr.async_array
    cells = _elements(shape)
    await asyncio.gather(*(engine.set_selection((r, c), i) for i, (r, c) in enumerate(cells)))
    np.testing.assert_array_equal(await engine.getitem(slice(None)), np.arange(24 * 24).reshape(shape))


def test_threads_writing_rows_across_shards_lose_nothing() -> None:
    """Partial writes that each touch several shards (and so several shard locks, one after the other)."""
    shape = (40, 64)
    arr = zarrlayered.create_array(MemoryStore(), shape=shape, chunks=(4, 8), shards=(8, 16), dtype="i4", fill_value=-1)

    def write(i: int) -> None:
        arr[i, :] = np.arange(64) + 100 * i

    def write_col(j: int) -> None:
        arr.oindex[np.arange(0, 40, 2) + 1, [j]] = np.full((20, 1), -7)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(40)))
        list(pool.map(write_col, range(0, 64, 3)))
    expected = np.arange(64)[None, :] + 100 * np.arange(40)[:, None]
    expected[1::2, ::3] = -7
    np.testing.assert_array_equal(arr[...], expected)

"""LRUStoreCache: values, exists answers and listings cached in an LRU bounded by bytes, write-through."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zict

import zarrlayered
from zarrlayered.core.sync import sync
from zarrlayered.errors import ReadOnlyError
from zarrlayered.stores import LocalStore, LRUStoreCache, MappingStore, MemoryStore
from zarrlayered.stores.abc import OffsetByteRequest, RangeByteRequest, SuffixByteRequest
from zarrlayered.testing import StoreTests
from zarrlayered.testing.store import keys_of


class Counting(dict):  # type: ignore[type-arg]
    """A dict that counts every call that reaches it (through a MappingStore)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    def __getitem__(self, key: str) -> Any:
        self.calls["get"] += 1
        self.calls[f"get:{key}"] += 1
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.calls["contains"] += 1
        return super().__contains__(key)

    def __iter__(self) -> Any:
        self.calls["iter"] += 1
        return super().__iter__()


def counted() -> tuple[Counting, LRUStoreCache]:
    backing = Counting()
    return backing, LRUStoreCache(MappingStore(backing, thread_safe=True), max_size=10_000)


# -- the store contract ---------------------------------------------------------------------------------
class TestLRUStoreCacheOverMemory(StoreTests):
    def make_store(self, tmp_path: Path) -> LRUStoreCache:
        return LRUStoreCache(MemoryStore(), max_size=1 << 20)


class TestLRUStoreCacheOverLocal(StoreTests):
    def make_store(self, tmp_path: Path) -> LRUStoreCache:
        return LRUStoreCache(LocalStore(tmp_path / "data"), max_size=1 << 16)

    def reopen(self, store: LRUStoreCache) -> LRUStoreCache:
        root = store.store.root  # type: ignore[attr-defined]
        store.close()
        return LRUStoreCache(LocalStore(root), max_size=1 << 16)


class TestLRUStoreCacheUnbounded(StoreTests):
    def make_store(self, tmp_path: Path) -> LRUStoreCache:
        return LRUStoreCache({}, max_size=None)


class TestLRUStoreCacheWithZictSpill(StoreTests):
    concurrent_ops = 100
    large_value_size = 512 * 1024

    def make_store(self, tmp_path: Path) -> LRUStoreCache:
        spill = zict.Buffer({}, zict.File(tmp_path / "spill"), n=256, weight=lambda k, v: len(v))
        return LRUStoreCache(MemoryStore(), max_size=1 << 20, cache=spill)


# -- hits and misses ------------------------------------------------------------------------------------
def test_hits_and_misses_are_counted_and_hits_never_reach_the_store() -> None:
    backing, cache = counted()
    backing["a"] = b"x" * 100  # behind the cache's back, before anything was read
    assert cache.get_sync("a") == b"x" * 100
    assert (cache.hits, cache.misses, backing.calls["get:a"]) == (0, 1, 1)
    for _ in range(5):
        assert cache.get_sync("a") == b"x" * 100
        assert sync(cache.get("a")) == b"x" * 100
    assert (cache.hits, cache.misses, backing.calls["get:a"]) == (10, 1, 1)


def test_missing_keys_are_remembered() -> None:
    backing, cache = counted()
    assert cache.get_sync("nope") is None
    assert sync(cache.get("nope")) is None
    assert cache.exists_sync("nope") is False
    assert (cache.hits, cache.misses, backing.calls["get:nope"]) == (1, 1, 1)
    assert backing.calls["contains"] == 0


def test_byte_ranges_come_from_the_cached_whole_value() -> None:
    backing, cache = counted()
    data = bytes(range(200))
    cache.set_sync("k", data)  # write-through: the written value is cached
    assert backing.calls["get"] == 0
    assert cache.get_sync("k", RangeByteRequest(10, 20)) == data[10:20]
    assert sync(cache.get("k", SuffixByteRequest(5))) == data[-5:]
    got = sync(cache.get_partial_values([("k", OffsetByteRequest(190)), ("k", None)]))
    assert got == [data[190:], data]
    assert backing.calls["get"] == 0 and cache.misses == 0 and cache.hits == 4


def test_a_byte_range_read_is_cached_by_its_range() -> None:
    backing, cache = counted()
    backing["shard"] = bytes(range(100))
    for _ in range(3):
        assert cache.get_sync("shard", RangeByteRequest(90, 100)) == bytes(range(90, 100))
    assert backing.calls["get:shard"] == 1 and cache.misses == 1 and cache.hits == 2
    cache.set_sync("shard", b"new")
    assert cache.get_sync("shard", RangeByteRequest(0, 2)) == b"ne"  # the old range is gone


def test_values_bigger_than_max_size_are_never_cached() -> None:
    backing = Counting()
    cache = LRUStoreCache(MappingStore(backing, thread_safe=True), max_size=100)
    cache.set_sync("big", b"b" * 101)
    cache.set_sync("small", b"s" * 90)
    for _ in range(3):
        assert cache.get_sync("big") == b"b" * 101
        assert cache.get_sync("small") == b"s" * 90
    assert backing.calls["get:big"] == 3 and backing.calls["get:small"] == 0
    assert cache.exists_sync("big") is True and backing.calls["contains"] == 0
    assert cache.current_size <= 100


def test_the_least_recently_used_value_is_evicted_first() -> None:
    backing = Counting()
    cache = LRUStoreCache(MappingStore(backing, thread_safe=True), max_size=300)
    for key in "abc":
        cache.set_sync(key, key.encode() * 100)
    cache.get_sync("a")  # a is now more recent than b
    cache.set_sync("d", b"d" * 100)  # evicts b
    backing.calls.clear()
    for key in "acd":
        cache.get_sync(key)
    assert backing.calls["get"] == 0
    cache.get_sync("b")
    assert backing.calls["get:b"] == 1
    assert cache.current_size <= 300


# -- exists answers and listings ---------------------------------------------------------------------------
def test_exists_and_listings_are_cached_and_invalidated_by_writes() -> None:
    backing, cache = counted()
    backing.update({"g/a": b"1", "g/b": b"2"})
    assert sync(cache.exists("g/a")) is True
    assert sync(cache.exists("g/a")) is True
    assert backing.calls["contains"] == 1
    assert keys_of(cache.list_prefix("g/")) == ["g/a", "g/b"]
    assert keys_of(cache.list_dir("g")) == ["a", "b"]
    assert cache.list_prefix_sync("g/") == ["g/a", "g/b"]
    listed = backing.calls["iter"]
    assert keys_of(cache.list_prefix("g/")) == ["g/a", "g/b"]
    assert keys_of(cache.list_dir("g")) == ["a", "b"]
    assert backing.calls["iter"] == listed  # served from the cache

    cache.set_sync("g/a", b"changed")  # a known key: listings stay valid
    assert keys_of(cache.list_dir("g")) == ["a", "b"] and backing.calls["iter"] == listed
    sync(cache.set("g/c", b"3"))  # a new key: listings are dropped
    assert keys_of(cache.list_dir("g")) == ["a", "b", "c"]
    sync(cache.delete("g/b"))
    assert keys_of(cache.list_prefix("g/")) == ["g/a", "g/c"]
    assert sync(cache.exists("g/b")) is False
    assert sync(cache.get("g/a")) == b"changed"


def test_invalidate_drops_what_was_cached() -> None:
    backing, cache = counted()
    cache.set_sync("k", b"v1")
    assert cache.exists_sync("k") and keys_of(cache.list()) == ["k"]
    backing["k"] = b"v2"  # changed behind the cache's back
    backing["other"] = b"o"
    assert cache.get_sync("k") == b"v1"
    cache.invalidate_values()
    assert cache.get_sync("k") == b"v2"
    assert keys_of(cache.list()) == ["k"]
    cache.invalidate_keys()
    assert keys_of(cache.list()) == ["k", "other"]
    backing["k"] = b"v3"
    cache.invalidate()
    assert cache.get_sync("k") == b"v3" and cache.current_size > 0


def test_bulk_changes_invalidate_everything() -> None:
    cache = LRUStoreCache(MemoryStore(), max_size=1000)
    for key in ("a/x", "a/y", "b/z"):
        cache.set_sync(key, b"1")
    assert keys_of(cache.list()) == ["a/x", "a/y", "b/z"]
    sync(cache.delete_dir("a"))
    assert keys_of(cache.list()) == ["b/z"] and cache.get_sync("a/x") is None
    sync(cache.rename("b", "c"))
    assert keys_of(cache.list()) == ["c/z"] and cache.get_sync("b/z") is None
    sync(cache.clear())
    assert keys_of(cache.list()) == [] and cache.current_size < 10


def test_read_only_view_shares_the_cache() -> None:
    backing, cache = counted()
    cache.set_sync("k", b"v")
    reader = cache.with_read_only(True)
    assert reader.get_sync("k") == b"v" and backing.calls["get"] == 0
    with pytest.raises(ReadOnlyError):
        reader.set_sync("k", b"w")
    cache.set_sync("k", b"w")
    assert reader.get_sync("k") == b"w"
    assert reader.hits == cache.hits == 2


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="-1"):
        LRUStoreCache(MemoryStore(), max_size=-1)
    with pytest.raises(TypeError, match="max_size"):
        LRUStoreCache(MemoryStore(), max_size="big")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cache="):
        LRUStoreCache(MemoryStore(), max_size=1, cache=[])  # type: ignore[arg-type]


# -- arrays through the cache --------------------------------------------------------------------------------
@pytest.mark.parametrize("shards", [None, (8, 8)], ids=["chunked", "sharded"])
def test_repeated_array_reads_never_reach_the_store(shards: tuple[int, int] | None) -> None:
    backing = Counting()
    cache = LRUStoreCache(MappingStore(backing, thread_safe=True), max_size=1 << 20)
    data = np.arange(256, dtype="<i4").reshape(16, 16)
    arr = zarrlayered.create_array(cache, shape=data.shape, chunks=(4, 4), shards=shards, dtype="<i4")
    arr[:] = data
    cache.invalidate()
    reopened = zarrlayered.open_array(cache, mode="r")
    np.testing.assert_array_equal(reopened[:], data)
    np.testing.assert_array_equal(reopened[3:9, 5], data[3:9, 5])
    backing.calls.clear()
    for _ in range(3):
        np.testing.assert_array_equal(reopened[:], data)
        np.testing.assert_array_equal(reopened[3:9, 5], data[3:9, 5])
        np.testing.assert_array_equal(sync(reopened.async_array.getitem((slice(3, 9), 5))), data[3:9, 5])
    assert backing.calls["get"] == 0


def test_a_zict_spill_cache_holds_more_than_memory(tmp_path: Path) -> None:
    backing = Counting()
    spill = zict.Buffer({}, zict.File(tmp_path / "spill"), n=2_000, weight=lambda k, v: len(v))
    cache = LRUStoreCache(MappingStore(backing, thread_safe=True), max_size=None, cache=spill)
    data = np.arange(4096, dtype="<f8")
    arr = zarrlayered.create_array(cache, shape=data.shape, chunks=(512,), dtype="<f8", compressors=None)
    arr[:] = data
    assert len(spill.slow) > 0  # chunks (4 KiB each) spilled to disk
    backing.calls.clear()
    np.testing.assert_array_equal(arr[:], data)

    async def read() -> Any:
        return await arr.async_array.getitem(slice(None))

    np.testing.assert_array_equal(sync(read()), data)
    assert backing.calls["get"] == 0
    assert cache.hits >= 16


def test_concurrent_partial_writes_through_the_cache_lose_nothing() -> None:
    cache = LRUStoreCache(MemoryStore(), max_size=1 << 20)
    arr = zarrlayered.create_array(cache, shape=(400,), chunks=(100,), dtype="<i4", fill_value=0)

    async def write(i: int) -> None:
        await arr.async_array.setitem(slice(i, 400, 8), i + 1)

    async def all_writes() -> None:
        await asyncio.gather(*(write(i) for i in range(8)))

    sync(all_writes())
    cache.invalidate()
    expected = np.tile(np.arange(1, 9, dtype="<i4"), 50)
    np.testing.assert_array_equal(arr[:], expected)

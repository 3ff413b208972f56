"""MappingStore: any str -> bytes mapping as an async Store (dict, user class, zict, shelve, dbm)."""

from __future__ import annotations

import asyncio
import dbm.dumb
import shelve
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pytest
import zict

import zarrlayered
from zarrlayered.core.sync import sync
from zarrlayered.stores import FsspecStore, MappingStore, MemoryStore, make_store
from zarrlayered.stores.mapping import is_mapping_like, is_thread_safe
from zarrlayered.testing import StoreTests
from zarrlayered.testing.store import keys_of


class Bare:
    """A user's mapping with only the four methods: no __len__, __contains__, keys, get."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def __getitem__(self, key: str) -> bytes:
        return self.data[key]

    def __setitem__(self, key: str, value: bytes) -> None:
        self.data[key] = value

    def __delitem__(self, key: str) -> None:
        del self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.data))


class Legacy(Bare):
    """A mapping that offers zarr-python 2's optional store methods, recording their use."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def listdir(self, path: str = "") -> list[str]:
        self.calls.append(f"listdir({path})")
        base = f"{path}/" if path else ""
        return sorted({k[len(base) :].split("/")[0] for k in self.data if k.startswith(base)})

    def getsize(self, path: str) -> int:
        self.calls.append(f"getsize({path})")
        return len(self.data[path])

    def rename(self, src: str, dst: str) -> None:
        self.calls.append(f"rename({src},{dst})")
        for key in [k for k in self.data if k == src or k.startswith(f"{src}/")]:
            self.data[dst + key[len(src) :]] = self.data.pop(key)

    def rmdir(self, path: str = "") -> None:
        self.calls.append(f"rmdir({path})")
        base = f"{path}/" if path else ""
        for key in [k for k in self.data if k.startswith(base)]:
            del self.data[key]


# -- the store contract over every kind of mapping ----------------------------------------------------------
class TestMappingStoreOverDict(StoreTests):
    def make_store(self, tmp_path: Path) -> MappingStore:
        self.backing: dict[str, bytes] = {}
        return MappingStore(self.backing)

    def reopen(self, store: MappingStore) -> MappingStore:
        store.close()
        return MappingStore(self.backing)


class TestMappingStoreOverBareClass(StoreTests):
    def make_store(self, tmp_path: Path) -> MappingStore:
        store = MappingStore(Bare())
        assert store.thread_safe is False
        return store


class TestMappingStoreOverLegacyMethods(StoreTests):
    def make_store(self, tmp_path: Path) -> MappingStore:
        return MappingStore(Legacy())


class TestMappingStoreOverZictFile(StoreTests):
    concurrent_ops = 100
    large_value_size = 512 * 1024

    def make_store(self, tmp_path: Path) -> MappingStore:
        self.directory = tmp_path / "zict"
        return MappingStore(zict.File(self.directory))

    def reopen(self, store: MappingStore) -> MappingStore:
        store.close()
        return MappingStore(zict.File(self.directory))


class TestMappingStoreOverZictBuffer(StoreTests):
    concurrent_ops = 100
    large_value_size = 512 * 1024

    def make_store(self, tmp_path: Path) -> MappingStore:
        slow = zict.File(tmp_path / "spill")
        return MappingStore(zict.Buffer({}, slow, n=64, weight=lambda k, v: len(v)))


class TestMappingStoreOverShelve(StoreTests):
    concurrent_ops = 100
    large_value_size = 256 * 1024

    def make_store(self, tmp_path: Path) -> MappingStore:
        self.path = str(tmp_path / "shelf")
        self.shelf = shelve.open(self.path)  # noqa: SIM115 - closed by the fixture
        return MappingStore(self.shelf)

    def reopen(self, store: MappingStore) -> MappingStore:
        store.close()
        self.shelf.close()
        self.shelf = shelve.open(self.path)  # noqa: SIM115 - closed by the fixture
        return MappingStore(self.shelf)

    @pytest.fixture
    def store(self, tmp_path: Path) -> Any:
        store = self.make_store(tmp_path)
        yield store
        store.close()
        self.shelf.close()

    def test_close_and_context_manager(self, tmp_path: Path) -> None:
        super().test_close_and_context_manager(tmp_path)
        self.shelf.close()


class TestMappingStoreOverDbmDumb(StoreTests):
    concurrent_ops = 100
    large_value_size = 256 * 1024

    def make_store(self, tmp_path: Path) -> MappingStore:
        self.path = str(tmp_path / "db")
        self.db = dbm.dumb.open(self.path, "c")  # noqa: SIM115 - closed by the fixture
        return MappingStore(self.db)

    def reopen(self, store: MappingStore) -> MappingStore:
        store.close()
        self.db.close()
        self.db = dbm.dumb.open(self.path, "c")  # noqa: SIM115 - closed by the fixture
        return MappingStore(self.db)

    @pytest.fixture
    def store(self, tmp_path: Path) -> Any:
        store = self.make_store(tmp_path)
        yield store
        store.close()
        self.db.close()

    def test_close_and_context_manager(self, tmp_path: Path) -> None:
        super().test_close_and_context_manager(tmp_path)
        self.db.close()


# -- what a mapping offers is used, what it lacks is emulated ----------------------------------------------
def test_legacy_methods_are_used() -> None:
    legacy = Legacy()
    store = MappingStore(legacy)
    for key in ("g/a/.zarray", "g/a/0.0", "g/a/0.1", "g/.zgroup"):
        sync(store.set(key, b"12345"))
    assert keys_of(store.list_dir("g")) == [".zgroup", "a"]
    assert sync(store.getsize("g/a/0.0")) == 5
    sync(store.rename("g/a", "g/b"))
    sync(store.delete_dir("g/b"))
    assert legacy.calls == ["listdir(g)", "getsize(g/a/0.0)", "rename(g/a,g/b)", "rmdir(g/b)"]
    assert sorted(legacy.data) == ["g/.zgroup"]
    with pytest.raises(FileNotFoundError):
        sync(store.getsize("g/missing"))
    with pytest.raises(FileNotFoundError):
        sync(store.rename("nothing", "else"))


def test_nested_listdir_names_are_cut_to_children() -> None:
    class Nested(Legacy):
        def listdir(self, path: str = "") -> list[str]:  # zarr 2's nested stores list chunks as "0/0"
            return [".zarray", "0/0", "0/1", "1/0"]

    store = MappingStore(Nested())
    assert keys_of(store.list_dir("a")) == [".zarray", "0", "1"]


@pytest.mark.parametrize(
    "value",
    [bytearray(b"abc"), memoryview(b"abc"), np.frombuffer(b"abc", dtype="u1")],
    ids=["bytearray", "memoryview", "numpy"],
)
def test_bytes_like_values_come_back_as_bytes(value: Any) -> None:
    backing: dict[str, Any] = {"k": value}
    store = MappingStore(backing)
    got = store.get_sync("k")
    assert type(got) is bytes and got == b"abc"
    assert sync(store.get("k")) == b"abc"


def test_an_f_ordered_array_value_keeps_its_memory_order() -> None:
    chunk = np.asfortranarray(np.arange(6, dtype="<i2").reshape(2, 3))
    store = MappingStore({"c": chunk})
    assert store.get_sync("c") == chunk.tobytes(order="F")


def test_dbm_bytes_keys_are_listed_as_str(tmp_path: Path) -> None:
    with dbm.dumb.open(str(tmp_path / "db"), "c") as db:
        db[b"a/raw"] = b"1"
        store = MappingStore(db)
        sync(store.set("a/b", b"2"))
        assert keys_of(store.list()) == ["a/b", "a/raw"]


def test_keys_that_no_store_could_hold_are_not_listed() -> None:
    store = MappingStore({"ok": b"1", "/abs": b"2", "a//b": b"3", 7: b"4"})
    assert keys_of(store.list()) == ["ok"]


def test_missing_key_on_delete_is_not_an_error_and_non_mappings_are_refused() -> None:
    store = MappingStore(Bare())
    sync(store.delete("never"))
    for bad in ([1, 2], "text", np.zeros(3), 42):
        assert not is_mapping_like(bad)
        with pytest.raises(TypeError, match="MappingStore needs a mapping"):
            MappingStore(bad)


def test_equality_follows_the_mapping_object() -> None:
    backing: dict[str, bytes] = {}
    assert MappingStore(backing) == MappingStore(backing)
    assert hash(MappingStore(backing)) == hash(MappingStore(backing))
    assert MappingStore(backing) != MappingStore({})
    assert MappingStore(MappingStore(backing)).mapping is backing


# -- threads, locks and the event loop ----------------------------------------------------------------------
def test_thread_safety_is_decided_by_type() -> None:
    class MyDict(dict):  # type: ignore[type-arg]
        pass

    assert is_thread_safe({}) is True
    assert is_thread_safe(fsspec.get_mapper("memory://ts")) is True
    assert is_thread_safe(MyDict()) is False
    assert is_thread_safe(Bare()) is False
    assert is_thread_safe(zict.LRU(10, {})) is False
    assert MappingStore(Bare(), thread_safe=True).thread_safe is True


class Probe(Bare):
    """Counts how many calls are inside the mapping at once."""

    def __init__(self, barrier: threading.Barrier | None = None) -> None:
        super().__init__()
        self.inside = 0
        self.most = 0
        self.guard = threading.Lock()
        self.barrier = barrier

    def __getitem__(self, key: str) -> bytes:
        with self.guard:
            self.inside += 1
            self.most = max(self.most, self.inside)
        try:
            if self.barrier is not None:
                self.barrier.wait()
            else:
                time.sleep(0.002)
            return super().__getitem__(key)
        finally:
            with self.guard:
                self.inside -= 1


def _read_concurrently(store: MappingStore, n: int) -> list[bytes | None]:
    async def go() -> list[bytes | None]:
        return list(await asyncio.gather(*(store.get(f"k{i}") for i in range(n))))

    return sync(go())


def test_an_unsafe_mapping_is_called_one_call_at_a_time() -> None:
    probe = Probe()
    store = MappingStore(probe)
    for i in range(16):
        store.set_sync(f"k{i}", b"%d" % i)
    assert _read_concurrently(store, 16) == [b"%d" % i for i in range(16)]
    assert probe.most == 1


def test_a_safe_mapping_is_called_from_several_threads_at_once() -> None:
    probe = Probe(threading.Barrier(2, timeout=10))  # two reads must be inside at the same time to pass
    store = MappingStore(probe, thread_safe=True)
    store.set_sync("k0", b"a")
    store.set_sync("k1", b"b")
    assert _read_concurrently(store, 2) == [b"a", b"b"]
    assert probe.most == 2


def test_a_slow_mapping_does_not_stall_the_event_loop() -> None:
    class Slow(Bare):
        def __getitem__(self, key: str) -> bytes:
            time.sleep(0.2)
            return super().__getitem__(key)

    store = MappingStore(Slow())
    store.set_sync("k", b"v")

    async def go() -> tuple[bytes | None, int]:
        ticks = 0
        task = asyncio.ensure_future(store.get("k"))
        while not task.done():
            ticks += 1
            await asyncio.sleep(0.01)
        return task.result(), ticks

    value, ticks = sync(go())
    assert value == b"v"
    assert ticks >= 5  # the loop kept running while the mapping slept


# -- every entry point accepts a mapping --------------------------------------------------------------------
def test_make_store_wraps_mappings_and_keeps_dicts_as_memory_stores() -> None:
    assert isinstance(make_store({}), MemoryStore)
    bare = Bare()
    store = make_store(bare)
    assert isinstance(store, MappingStore) and store.mapping is bare
    reader = make_store(bare, mode="r")
    assert isinstance(reader, MappingStore) and reader.read_only
    mapper = fsspec.get_mapper("memory://mapping-store-test/root")
    from_mapper = make_store(mapper)
    assert isinstance(from_mapper, FsspecStore) and from_mapper.path.endswith("mapping-store-test/root")
    with pytest.raises(TypeError, match="list"):
        make_store(["not", "a", "mapping"])


def test_the_api_accepts_a_mapping_directly(tmp_path: Path) -> None:
    bare = Bare()
    root = zarrlayered.open_group(bare, mode="w", zarr_format=2)
    root.attrs["title"] = "bare"
    arr = root.create_array("x", shape=(6,), chunks=(4,), dtype="<i4")
    arr[:] = np.arange(6)
    assert sorted(bare.data) == [".zattrs", ".zgroup", "x/.zarray", "x/.zattrs", "x/0", "x/1"]
    again = zarrlayered.open_array(bare, path="x", mode="r")
    np.testing.assert_array_equal(again[:], np.arange(6))
    assert zarrlayered.open_group(bare, mode="r").attrs["title"] == "bare"
    created = zarrlayered.create_array(bare, name="y", data=np.ones((2, 2), dtype="f4"), zarr_format=2)
    assert created.shape == (2, 2) and "y/.zarray" in bare.data

    with shelve.open(str(tmp_path / "shelf")) as shelf:
        zarrlayered.save(shelf, np.arange(5))
    with shelve.open(str(tmp_path / "shelf"), flag="r") as shelf:
        np.testing.assert_array_equal(zarrlayered.load(shelf), np.arange(5))

"""The async API (zarr-python 3's ``zarr.api.asynchronous`` and ``AsyncGroup``): the same calls, awaited, give
the same results as zarr-python 3's."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
import pytest
import zarr
import zarr.api.asynchronous as their_api

import zarrlayered
import zarrlayered.api.asynchronous as our_api
import zarrlayered.h5py_compat as h5py
from zarrlayered.codecs.abc import ArrayArrayCodec
from zarrlayered.codecs.registry import CODEC_REGISTRY, register_codec
from zarrlayered.compat.mapping import StoreMapping
from zarrlayered.core.metadata import GroupMetadata
from zarrlayered.stores import LocalStore, MemoryStore, Store, WrapperStore


async def _session(api: ModuleType) -> dict[str, Any]:
    root = await api.open_group(store={}, mode="w", attributes={"a": 1})
    sub = await root.create_group("sub/deeper", attributes={"b": 2})
    arr = await sub.create_array("x", shape=(6,), chunks=(2,), dtype="i2")
    await arr.setitem(slice(None), np.arange(6, dtype="i2"))
    await root.create_array("y", shape=(2, 2), dtype="f4")
    await root.require_group("sub")
    return {
        "keys": sorted([key async for key in root.keys()]),  # noqa: SIM118 (an async iterator)
        "group_keys": sorted([key async for key in root.group_keys()]),
        "array_keys": sorted([key async for key in root.array_keys()]),
        "groups": sorted([name async for name, _ in root.groups()]),
        "arrays": sorted([name async for name, _ in root.arrays()]),
        "members": sorted([name async for name, _ in root.members(max_depth=None)]),
        "nmembers": await root.nmembers(max_depth=None),
        "contains": [await root.contains("sub/deeper/x"), await root.contains("nope")],
        "getitem": (await root.getitem("sub/deeper")).attrs,
        "values": (await (await root.getitem("sub/deeper/x")).getitem(slice(1, 4))).tolist(),
        "get default": await root.get("nope", 5),
        "tree": repr(await root.tree(plain=True)),
        "info": str(await root.info_complete()),
        "attrs": dict(root.attrs),
        "name": (root.name, sub.name, sub.basename, arr.name),
    }


async def test_async_group_session_matches_zarr() -> None:
    theirs = await _session(their_api)
    ours = await _session(our_api)
    assert ours == theirs


async def test_async_open_modes_and_errors() -> None:
    store = zarrlayered.stores.MemoryStore()
    await our_api.create_group(store, attributes={"k": 1})
    group = await our_api.open_group(store, mode="r")
    assert isinstance(group, zarrlayered.AsyncGroup) and group.read_only
    with pytest.raises(KeyError):
        await our_api.open_group(store, mode="r", path="typo")
    with pytest.raises(zarrlayered.errors.ReadOnlyError):
        await group.create_group("x")
    written = await our_api.create_array(store, name="a", data=np.arange(3))
    assert isinstance(written, zarrlayered.AsyncArray)
    assert (await our_api.load(store=store, path="a")).tolist() == [0, 1, 2]
    created = [path async for path, _ in zarrlayered.api.hierarchy.create_hierarchy(
        store=store, nodes={"h/i": zarrlayered.core.metadata.GroupMetadata()})]
    assert created == ["h", "h/i"]


def test_exports() -> None:
    for name in ("Array", "Group", "AsyncArray", "AsyncGroup"):
        assert hasattr(zarrlayered, name) and hasattr(zarr, name)
    assert zarrlayered.Group.__name__ == "Group" and zarrlayered.AsyncGroup.__name__ == "AsyncGroup"


def test_coroutine_functions_match_zarr_python_3() -> None:
    """Every name of zarr.api.asynchronous is here, a coroutine (or async generator) function as there, with
    ``store=`` keyword-only exactly where zarr-python 3 has it so."""
    for name in their_api.__all__:
        theirs, ours = getattr(their_api, name), getattr(our_api, name)
        assert inspect.isasyncgenfunction(ours) == inspect.isasyncgenfunction(theirs), name
        if not inspect.isasyncgenfunction(theirs):
            assert inspect.iscoroutinefunction(ours), name
        their_store = inspect.signature(theirs).parameters.get("store")
        our_store = inspect.signature(ours).parameters.get("store")
        if their_store is not None and their_store.kind is inspect.Parameter.KEYWORD_ONLY:
            assert our_store is not None and our_store.kind is inspect.Parameter.KEYWORD_ONLY, name
        if their_store is not None and their_store.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            assert our_store is not None and our_store.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, name


async def test_keyword_only_store_calls_run_on_the_callers_loop(tmp_path: Path) -> None:
    store = str(tmp_path / "kw.zarr")
    group = await our_api.group(store=store, attributes={"made": "async"})
    await group.create_array("a", data=np.arange(6, dtype="i4"), chunks=(4,))
    assert (await our_api.load(store=store, path="a")).tolist() == list(range(6))
    opened = await our_api.open(store=store, path="a", mode="r")
    assert isinstance(opened, zarrlayered.AsyncArray)
    assert (await (await our_api.open_array(store=store, path="a")).getitem(slice(4, None))).tolist() == [4, 5]
    with pytest.raises(TypeError):
        await our_api.load(store, path="a")  # type: ignore[misc]
    tree = await our_api.tree(await our_api.open_group(store, mode="r"))
    assert "a (6,) int32" in str(tree)
    consolidated = await our_api.consolidate_metadata(store)
    assert consolidated.metadata.consolidated_metadata is not None
    copy_target = await our_api.open_group({}, mode="w")
    copied, skipped, nbytes = await our_api.copy(opened, copy_target, name="b")
    assert (copied, skipped) == (1, 0) and nbytes > 0
    assert (await (await copy_target.getitem("b")).getitem(slice(None))).tolist() == list(range(6))
    copied, skipped, _ = await our_api.copy_all(await our_api.open_group(store, mode="r"), copy_target)
    assert (copied, skipped) == (1, 0) and await copy_target.contains("a")
    assert (await our_api.copy_store(store, str(tmp_path / "copy.zarr")))[0] == 4
    paths = [p async for p, _ in our_api.create_hierarchy(store={}, nodes={"x/y": GroupMetadata()})]
    assert paths == ["", "x", "x/y"] or paths == ["x", "x/y"]
    saved = await our_api.save_many({}, {"p": np.ones(2), "q": np.zeros(3)})
    assert sorted([k async for k in saved.keys()]) == ["p", "q"]  # noqa: SIM118 (an async iterator)


# -- the sync front ends on a thread whose event loop is running (a notebook cell, an async handler) ----------


async def test_every_sync_front_end_works_while_the_callers_loop_runs(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    root = zarrlayered.open_group(str(tmp_path / "front.zarr"), mode="w")
    arr = root.create_array("a", shape=(10,), chunks=(3,), dtype="i8")
    arr[:] = np.arange(10)
    assert arr[::-3].tolist() == [9, 6, 3, 0]
    assert arr.oindex[[1, 2]].tolist() == [1, 2] and arr.vindex[[0, 9]].tolist() == [0, 9]
    assert root.tree() is not None and list(root.keys()) == ["a"]
    with h5py.File(str(tmp_path / "h5.zarr"), "w") as f:
        f.create_dataset("d", data=np.arange(4), chunks=(2,), compression="gzip")
        f["d"].attrs["u"] = "m"
    with h5py.File(str(tmp_path / "h5.zarr"), "r") as f:
        assert f["d"][::2].tolist() == [0, 2] and f["d"].attrs["u"] == "m"
    mapping = StoreMapping(LocalStore(tmp_path / "mapped"))
    mapping["x/y"] = b"payload"
    assert dict(mapping) == {"x/y": b"payload"} and mapping.listdir("x") == ["y"]
    assert asyncio.get_running_loop() is loop  # still on the caller's loop: nothing was patched


async def test_sync_and_async_mixed_on_the_same_objects(tmp_path: Path) -> None:
    store = str(tmp_path / "mixed.zarr")
    agroup = await our_api.open_group(store=store, mode="w")
    aarr = await agroup.create_array("a", shape=(4, 4), chunks=(2, 2), dtype="f4")
    arr = zarrlayered.Array(aarr)
    assert arr.async_array is aarr
    group = zarrlayered.Group(agroup)
    assert group.async_group is agroup
    arr[:2] = 1.0  # sync write
    await aarr.setitem((slice(2, None), slice(None)), np.full((2, 4), 2.0, "f4"))  # async write
    assert (await aarr.getitem(slice(None))).sum() == 8 * 1 + 8 * 2
    assert arr[:].sum() == 24
    group.attrs["k"] = 1
    assert (await our_api.open_group(store=store, mode="r")).attrs["k"] == 1
    assert isinstance(group["a"], zarrlayered.Array)
    assert isinstance(await agroup.getitem("a"), zarrlayered.AsyncArray)
    with pytest.raises(TypeError, match="AsyncArray"):
        zarrlayered.Array(arr)  # type: ignore[arg-type]


# -- re-entrancy: an array used inside another array's operation, stores and codecs that call the sync API ----


class AsyncOnlyStore(WrapperStore):
    """A store with no synchronous path, so every operation goes through the IO loop, as on S3; ``on_get``
    is called (with the key) inside each ``get`` coroutine, on the IO loop."""

    def __init__(self, store: Store, on_get: Callable[[str], None] | None = None) -> None:
        super().__init__(store)
        self.on_get = on_get

    @property
    def supports_sync(self) -> bool:  # type: ignore[override]
        return False

    async def get(self, key: str, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0)
        if self.on_get is not None:
            self.on_get(key)
        return await self._store.get(key, *args, **kwargs)


def remote(data: Any, chunks: tuple[int, ...]) -> zarrlayered.Array:
    return zarrlayered.array(np.asarray(data), chunks=chunks, store=AsyncOnlyStore(MemoryStore()))


def reentrant_cases() -> None:
    src = remote(np.arange(20) * 10, (3,))
    index = remote(np.array([19, 0, 7]), (2,))
    assert src[index].tolist() == [190, 0, 70]
    assert src.oindex[index].tolist() == [190, 0, 70]
    assert src.vindex[index].tolist() == [190, 0, 70]
    dst = zarrlayered.zeros((20,), chunks=(4,), dtype="i8", store=AsyncOnlyStore(MemoryStore()))
    dst[:] = src
    assert dst[:].tolist() == src[:].tolist()
    dst[index] = remote(np.array([-1, -2, -3]), (3,))
    assert dst.oindex[[19, 0, 7]].tolist() == [-1, -2, -3]
    assert zarrlayered.array(src, store=AsyncOnlyStore(MemoryStore()))[::-5].tolist() == [190, 140, 90, 40]
    copied = zarrlayered.from_array(AsyncOnlyStore(MemoryStore()), data=src, chunks=(7,))
    assert copied.chunks == (7,) and copied[:].tolist() == src[:].tolist()

    lookup = remote(np.array([100, 5]), (1,))
    seen: list[int] = []
    store = AsyncOnlyStore(MemoryStore(), on_get=lambda key: seen.append(int(lookup[1])))  # sync API inside get
    audited = zarrlayered.array(np.arange(6), chunks=(2,), store=store)
    assert audited[:].tolist() == list(range(6))
    assert seen and set(seen) == {5}

    coded = zarrlayered.create_array(AsyncOnlyStore(MemoryStore()), shape=(6,), chunks=(2,), dtype="i8",
                                     filters=[LookupOffset()], compressors=None)
    coded[:] = np.arange(6)
    assert coded[:].tolist() == list(range(6))
    stored = np.frombuffer(coded.store.store.get_sync("c/0") or b"", "<i8").tolist()
    assert stored == [-100, -99]  # the codec read its offset through the sync API


@dataclass(frozen=True)
class LookupOffset(ArrayArrayCodec):
    """A codec whose encode/decode read a value from another Zarr array through the sync API."""

    codec_name: ClassVar[str] = "test.lookup-offset"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.codec_name}

    @classmethod
    def from_dict(cls, data: Any) -> LookupOffset:
        return cls()

    @staticmethod
    def offset() -> int:
        table = remote(np.array([100]), (1,))  # created and read inside the codec: a sync API call
        return int(table[0])

    def encode(self, chunk: Any, spec: Any) -> Any:
        return chunk - self.offset()

    def decode(self, chunk: Any, spec: Any) -> Any:
        return chunk + self.offset()


@pytest.fixture
def lookup_codec() -> Iterator[None]:
    with CODEC_REGISTRY.restoring():
        register_codec(LookupOffset.codec_name, LookupOffset)
        yield


@pytest.mark.usefixtures("lookup_codec")
def test_reentrant_uses_never_deadlock() -> None:
    reentrant_cases()


@pytest.mark.usefixtures("lookup_codec")
async def test_reentrant_uses_never_deadlock_on_a_running_loop() -> None:
    reentrant_cases()


@pytest.mark.usefixtures("lookup_codec")
def test_reentrant_uses_never_deadlock_from_many_threads() -> None:
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for future in [pool.submit(reentrant_cases) for _ in range(4)]:
            future.result(timeout=60)


async def test_awaited_work_runs_on_the_callers_loop_and_sync_work_on_the_io_loop() -> None:
    loop = asyncio.get_running_loop()
    loops: list[asyncio.AbstractEventLoop] = []
    store = AsyncOnlyStore(MemoryStore(), on_get=lambda key: loops.append(asyncio.get_running_loop()))
    aarr = await our_api.create_array(store, shape=(8,), chunks=(2,), dtype="u1", fill_value=3)
    await aarr.setitem(slice(0, 4), np.arange(4, dtype="u1"))
    assert (await aarr.getitem(slice(None))).tolist() == [0, 1, 2, 3, 3, 3, 3, 3]
    assert loops and all(used is loop for used in loops)  # no hop to another thread for awaited calls
    loops.clear()
    assert zarrlayered.Array(aarr)[::-1].tolist() == [3, 3, 3, 3, 3, 2, 1, 0]
    assert loops and all(used is zarrlayered.core.sync.get_loop() for used in loops)

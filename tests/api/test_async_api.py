"""The async API (zarr-python 3's ``zarr.api.asynchronous`` and ``AsyncGroup``): the same calls, awaited, give
the same results as zarr-python 3's."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import pytest
import zarr
import zarr.api.asynchronous as their_api

import zarrlayered
import zarrlayered.api.asynchronous as our_api


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
    assert (await our_api.load(store, path="a")).tolist() == [0, 1, 2]
    created = [path async for path, _ in zarrlayered.api.hierarchy.create_hierarchy(
        store=store, nodes={"h/i": zarrlayered.core.metadata.GroupMetadata()})]
    assert created == ["h", "h/i"]


def test_exports() -> None:
    for name in ("Array", "Group", "AsyncArray", "AsyncGroup"):
        assert hasattr(zarrlayered, name) and hasattr(zarr, name)
    assert zarrlayered.Group.__name__ == "Group" and zarrlayered.AsyncGroup.__name__ == "AsyncGroup"

"""create_hierarchy(store=..., nodes={path: metadata}): implicit parents, zarr-python 3's documents, errors,
and every document written in one concurrent batch."""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import zarr
from zarr.core.group import GroupMetadata as TheirGroupMetadata

import zarrlayered
from zarrlayered.core.metadata import GroupMetadata
from zarrlayered.errors import ContainsArrayError, ContainsGroupError
from zarrlayered.stores import MemoryStore, WrapperStore


def _nodes(lib: ModuleType, zarr_format: int) -> dict[str, Any]:
    group = TheirGroupMetadata if lib is zarr else GroupMetadata

    def array(**kwargs: Any) -> Any:
        return lib.create_array({}, zarr_format=zarr_format, **kwargs).metadata

    return {
        "a/b": group(attributes={"name": "b"}, zarr_format=zarr_format),
        "a/b/temperature": array(shape=(10, 10), chunks=(5, 5), dtype="f4", attributes={"units": "K"}),
        "c": group(zarr_format=zarr_format),
        "d/e/f/counts": array(shape=(3,), dtype="i8"),
    }


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_same_nodes_and_documents_as_zarr(zarr_format: int) -> None:
    results = {}
    for lib in (zarr, zarrlayered):
        store = lib.storage.MemoryStore() if lib is zarr else MemoryStore()
        created = list(lib.create_hierarchy(store=store, nodes=_nodes(lib, zarr_format)))
        kinds = sorted((path, type(node).__name__) for path, node in created)
        if lib is zarr:
            documents = {key: value.to_bytes() for key, value in store._store_dict.items()}
        else:
            documents = dict(store.store_dict)
        results[lib.__name__] = (kinds, documents)
    assert results["zarrlayered"][0] == results["zarr"][0]
    assert results["zarrlayered"][1] == results["zarr"][1]
    paths = [path for path, _ in results["zarrlayered"][0]]
    assert paths == ["", "a", "a/b", "a/b/temperature", "c", "d", "d/e", "d/e/f", "d/e/f/counts"]


def test_yields_parents_before_children_and_usable_nodes() -> None:
    store = MemoryStore()
    created = list(zarrlayered.create_hierarchy(store=store, nodes=_nodes(zarrlayered, 3)))
    order = [path for path, _ in created]
    assert order.index("a") < order.index("a/b") < order.index("a/b/temperature")
    nodes = dict(created)
    temperature = nodes["a/b/temperature"]
    assert isinstance(temperature, zarrlayered.Array) and temperature.attrs["units"] == "K"
    temperature[:] = 1.5
    root = zarrlayered.open_group(store, mode="r")
    assert root["a/b/temperature"][0, 0] == 1.5 and dict(root["a/b"].attrs) == {"name": "b"}
    theirs = zarr.open_group(zarr.storage.MemoryStore({
        k: zarr.core.buffer.default_buffer_prototype().buffer.from_bytes(v) for k, v in store.store_dict.items()
    }), mode="r")
    assert sorted(name for name, _ in theirs.members(max_depth=None)) == sorted(order[1:])


def test_existing_parents_are_kept_and_existing_nodes_refused() -> None:
    store = MemoryStore()
    root = zarrlayered.create_group(store, attributes={"keep": "me"})
    root.create_group("a", attributes={"old": True})
    root.create_array("taken", shape=(1,), dtype="i1")
    created = dict(zarrlayered.create_hierarchy(store=store, nodes={"a/new": GroupMetadata()}))
    assert sorted(created) == ["a/new"]  # "" and "a" existed: left as they were
    assert dict(zarrlayered.open_group(store)["a"].attrs) == {"old": True}
    assert dict(zarrlayered.open_group(store).attrs) == {"keep": "me"}
    with pytest.raises(ContainsGroupError):
        zarrlayered.create_hierarchy(store=store, nodes={"a": GroupMetadata()})
    with pytest.raises(ContainsArrayError):
        zarrlayered.create_hierarchy(store=store, nodes={"taken": GroupMetadata()})
    with pytest.raises(ContainsArrayError):
        zarrlayered.create_hierarchy(store=store, nodes={"taken/below": GroupMetadata()})
    replaced = dict(zarrlayered.create_hierarchy(store=store, nodes={"a": GroupMetadata(attributes={"v": 2})},
                                                 overwrite=True))
    assert dict(replaced["a"].attrs) == {"v": 2} and "a/new" not in zarrlayered.open_group(store)


def test_invalid_hierarchies() -> None:
    array = zarrlayered.create_array({}, shape=(2,), dtype="i1").metadata
    with pytest.raises(ValueError, match="array"):
        zarrlayered.create_hierarchy(store={}, nodes={"x": array, "x/y": GroupMetadata()})
    with pytest.raises(ValueError, match="zarr_format"):
        zarrlayered.create_hierarchy(store={}, nodes={"x": GroupMetadata(zarr_format=2), "y": GroupMetadata()})
    with pytest.raises(TypeError):
        zarrlayered.create_hierarchy(store={}, nodes={"x": {"zarr_format": 3}})  # type: ignore[dict-item]


def test_group_create_hierarchy_is_relative() -> None:
    root = zarrlayered.group()
    sub = root.create_group("base")
    created = dict(sub.create_hierarchy({"p/q": GroupMetadata(), "p/arr": _nodes(zarrlayered, 3)["d/e/f/counts"]}))
    assert sorted(created) == ["p", "p/arr", "p/q"]
    assert created["p/q"].path == "base/p/q"
    assert [name for name, _ in root.members(max_depth=None)] == ["base", "base/p", "base/p/arr", "base/p/q"]
    with pytest.raises(ValueError, match="itself"):
        list(sub.create_hierarchy({"": GroupMetadata()}))
    with pytest.raises(ValueError, match="V2"):
        list(sub.create_hierarchy({"v2": GroupMetadata(zarr_format=2)}))


class _SlowStore(WrapperStore):
    """Each write takes 20 ms; records how many writes were in flight at once."""

    supports_sync = False  # type: ignore[assignment]

    def __init__(self, store: Any) -> None:
        super().__init__(store)
        self.in_flight = 0
        self.most_in_flight = 0

    async def set(self, key: str, value: Any) -> None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0.02)
        await super().set(key, value)
        self.in_flight -= 1


def test_all_documents_are_written_in_one_concurrent_batch() -> None:
    store = _SlowStore(MemoryStore())
    metadata = zarrlayered.create_array({}, shape=(4,), dtype="u1").metadata
    nodes = {f"group{i}/array{j}": metadata for i in range(5) for j in range(4)}
    created = list(zarrlayered.create_hierarchy(store=store, nodes=nodes))
    assert len(created) == 1 + 5 + 20  # root, 5 implicit groups, 20 arrays
    assert store.most_in_flight == 26  # every document at once: one round trip, not 26


def test_save_many_writes_the_arrays_concurrently() -> None:
    store = _SlowStore(MemoryStore())
    arrays = {f"set{i}/values": np.arange(4) * i for i in range(6)}
    group = zarrlayered.save_many(store, arrays)
    assert isinstance(group, zarrlayered.Group)
    assert sorted(group.group_keys()) == [f"set{i}" for i in range(6)]
    assert group["set5/values"][:].tolist() == [0, 5, 10, 15]
    assert store.most_in_flight >= 6  # the six arrays were written side by side, not one after the other

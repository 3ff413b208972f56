"""StoreMapping: our stores as synchronous MutableMappings, with zarr-python 2's store methods."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, MutableMapping
from pathlib import Path

import numpy as np
import pytest

import zarrlayered
from zarrlayered.compat.mapping import StoreMapping
from zarrlayered.core.sync import sync
from zarrlayered.stores import FsspecStore, LocalStore, LRUStoreCache, MappingStore, MemoryStore, Store, ZipStore


@pytest.fixture(params=["memory", "local", "zip", "fsspec-memory", "fsspec-local", "lru"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    kind = request.param
    made: Store
    if kind == "memory":
        made = MemoryStore()
    elif kind == "local":
        made = LocalStore(tmp_path / "local")
    elif kind == "zip":
        made = ZipStore(tmp_path / "data.zip", mode="w")
    elif kind == "fsspec-memory":
        made = FsspecStore.from_url(f"memory://store-mapping-{uuid.uuid4().hex}")
    elif kind == "fsspec-local":
        made = FsspecStore.from_url(f"file://{tmp_path}/fs")
    else:
        made = LRUStoreCache(MemoryStore(), max_size=1 << 20)
    yield made
    made.close()


def test_store_mapping_is_a_mutable_mapping(store: Store) -> None:
    mapping = StoreMapping(store)
    assert isinstance(mapping, MutableMapping)
    assert len(mapping) == 0 and list(mapping) == []
    mapping["a/.zarray"] = b"{}"
    mapping["a/0.0"] = bytearray(b"\x01\x02")
    mapping["b"] = memoryview(b"xyz")
    assert mapping["a/0.0"] == b"\x01\x02" and type(mapping["a/0.0"]) is bytes
    assert sorted(mapping) == ["a/.zarray", "a/0.0", "b"]
    assert len(mapping) == 3
    assert "b" in mapping and "missing" not in mapping
    assert mapping.get("missing") is None
    with pytest.raises(KeyError):
        mapping["missing"]
    del mapping["b"]
    with pytest.raises(KeyError):
        del mapping["b"]
    assert dict(mapping) == {"a/.zarray": b"{}", "a/0.0": b"\x01\x02"}
    assert mapping.pop("a/.zarray") == b"{}"
    assert list(mapping.keys()) == ["a/0.0"]


def test_store_mapping_offers_zarr2_store_methods(store: Store) -> None:
    mapping = StoreMapping(store)
    for key in ("g/.zgroup", "g/a/.zarray", "g/a/0", "g/a/1", "top"):
        mapping[key] = b"12345"
    assert mapping.listdir() == ["g", "top"]
    assert mapping.listdir("g") == [".zgroup", "a"]
    assert mapping.listdir("/g/a/") == [".zarray", "0", "1"]
    assert mapping.getsize("g/a/0") == 5
    assert mapping.getsize("g/a") == 15  # the values directly under a path, as zarr 2 counts
    if not isinstance(store, ZipStore):  # a zip archive cannot delete or rename members
        mapping.rename("g/a", "g/b")
        assert sorted(mapping) == ["g/.zgroup", "g/b/.zarray", "g/b/0", "g/b/1", "top"]
        mapping.rmdir("g")
        assert sorted(mapping) == ["top"]
        mapping.clear()
        assert len(mapping) == 0


def test_keys_a_store_cannot_hold_are_missing_not_errors() -> None:
    mapping = StoreMapping(MemoryStore())
    for bad in ("", "../x", "/abs", "a//b", 3):
        assert bad not in mapping
        with pytest.raises(KeyError):
            mapping[bad]  # type: ignore[index]


def test_an_f_ordered_array_is_stored_in_its_memory_order() -> None:
    backing: dict[str, bytes] = {}
    mapping = StoreMapping(MemoryStore(backing))
    chunk = np.asfortranarray(np.arange(6, dtype="<i4").reshape(2, 3))
    mapping["c"] = chunk
    assert backing["c"] == chunk.tobytes(order="A")


def test_store_mapping_accepts_what_make_store_accepts(tmp_path: Path) -> None:
    mapping = StoreMapping(tmp_path / "dir")
    assert isinstance(mapping.store, LocalStore)
    mapping["k"] = b"v"
    assert (tmp_path / "dir" / "k").read_bytes() == b"v"
    assert StoreMapping(mapping.store) == mapping


def test_round_trip_through_both_directions() -> None:
    """A MappingStore over a StoreMapping over a store: the engine works through two adapters."""
    inner = MemoryStore()
    outer = MappingStore(StoreMapping(inner))
    data = np.arange(20, dtype="<u2").reshape(4, 5)
    arr = zarrlayered.create_array(outer, shape=data.shape, chunks=(3, 3), dtype="<u2", zarr_format=2)
    arr[:] = data
    arr.attrs["unit"] = "m"
    again = zarrlayered.open_array(inner, mode="r")
    np.testing.assert_array_equal(again[:], data)
    assert again.attrs["unit"] == "m"
    assert sync(outer.getsize(".zarray")) == len(inner.get_sync(".zarray") or b"")

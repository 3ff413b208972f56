"""Array and Group reprs name the store by URL and the node by path, in zarr-python 3's format."""

from __future__ import annotations

from pathlib import Path

import zarr

import zarrlayered
from zarrlayered.stores import LoggingStore, MemoryStore


def test_local_reprs_match_zarr_python_3_form(tmp_path: Path) -> None:
    ours = zarrlayered.open_group(str(tmp_path / "ours.zarr"), mode="w")
    theirs = zarr.open_group(str(tmp_path / "theirs.zarr"), mode="w")
    for lib_root, name in ((ours, "ours"), (theirs, "theirs")):
        array = lib_root.create_array("x/y", shape=(3,), dtype="i4")
        url = (tmp_path / f"{name}.zarr").as_uri() if name == "ours" else f"file://{tmp_path / 'theirs.zarr'}"
        assert repr(lib_root) == f"<Group {url}>"
        assert repr(lib_root["x"]) == f"<Group {url}/x>"
        assert repr(array) == f"<Array {url}/x/y shape=(3,) dtype=int32>"


def test_memory_and_wrapped_store_reprs() -> None:
    store = MemoryStore()
    root = zarrlayered.open_group(store, mode="w")
    array = root.create_array("q", shape=(1,), dtype="u1")
    assert str(store) == f"memory://{id(store._store_dict)}"
    assert repr(array) == f"<Array {store}/q shape=(1,) dtype=uint8>"
    assert repr(array.async_array) == f"<AsyncArray {store}/q shape=(1,) dtype=uint8>"
    assert array.store_path == root.store_path + "/q"
    assert str(LoggingStore(store)) == str(store)  # a wrapper is where its store is
    assert repr(store).startswith("MemoryStore(")  # the store's own repr still says what it is

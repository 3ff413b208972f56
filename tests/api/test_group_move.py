"""Group.move: zarr-python 3 raises NotImplementedError; we move nodes in local, memory and zip stores (and
anywhere else by copying keys), and zarr-python 3 reads the result."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

import zarrlayered
from zarrlayered.core.sync import sync
from zarrlayered.errors import ContainsGroupError, NodeNotFoundError, ReadOnlyError
from zarrlayered.stores import FsspecStore, LocalStore, LoggingStore, MemoryStore, ZipStore


def _local(tmp_path: Path) -> Any:
    return LocalStore(tmp_path / "data.zarr")


def _memory(tmp_path: Path) -> Any:
    return MemoryStore()


def _zip(tmp_path: Path) -> Any:
    return ZipStore(tmp_path / "data.zip", mode="w")


STORES: dict[str, Callable[[Path], Any]] = {"local": _local, "memory": _memory, "zip": _zip}


def _populate(store: Any, zarr_format: int) -> zarrlayered.Group:
    root = zarrlayered.open_group(store, mode="w", zarr_format=zarr_format)
    src = root.create_group("src", attributes={"kept": True})
    arr = src.create_array("data", shape=(5, 4), chunks=(2, 2), dtype="i4", attributes={"units": "K"})
    arr[:] = np.arange(20).reshape(5, 4)
    src.create_group("inner").create_array("flag", shape=(3,), dtype="bool")[:] = [True, False, True]
    return root


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("store_kind", sorted(STORES))
def test_move_a_subtree(store_kind: str, zarr_format: int, tmp_path: Path) -> None:
    store = STORES[store_kind](tmp_path)
    root = _populate(store, zarr_format)
    keys_before = {k for k in store.list_prefix_sync("") if k.startswith("src/")}
    root.move("src", "elsewhere/dst")
    assert "src" not in root
    assert root.keys() == ["elsewhere"]
    moved = root["elsewhere/dst"]
    assert moved.attrs["kept"] is True
    np.testing.assert_array_equal(moved["data"][:], np.arange(20).reshape(5, 4))
    assert moved["data"].attrs["units"] == "K"
    assert moved["inner/flag"][:].tolist() == [True, False, True]
    keys_after = set(store.list_prefix_sync(""))
    assert not any(k.startswith("src/") for k in keys_after)
    assert {k.replace("src/", "elsewhere/dst/", 1) for k in keys_before} <= keys_after
    # a parent group was written for "elsewhere", and zarr-python 3 reads the moved hierarchy
    if store_kind == "local":
        theirs = zarr.open_group(str(tmp_path / "data.zarr"), mode="r")
    elif store_kind == "zip":
        store.close()
        theirs = zarr.open_group(zarr.storage.ZipStore(tmp_path / "data.zip", mode="r"), mode="r")
    else:
        as_buffer = zarr.core.buffer.default_buffer_prototype().buffer.from_bytes
        theirs = zarr.open_group(
            zarr.storage.MemoryStore({k: as_buffer(v) for k, v in store.store_dict.items()}), mode="r"
        )
    assert sorted(theirs.group_keys()) == ["elsewhere"]
    np.testing.assert_array_equal(theirs["elsewhere/dst/data"][:], np.arange(20).reshape(5, 4))
    assert theirs["elsewhere/dst/inner/flag"][:].tolist() == [True, False, True]


def test_move_within_a_subgroup_and_an_array() -> None:
    root = _populate(MemoryStore(), 3)
    src = root["src"]
    src.move("data", "renamed")
    assert src.keys() == ["inner", "renamed"]
    assert root["src/renamed"][0].tolist() == [0, 1, 2, 3]


def test_move_without_a_store_rename_copies_the_keys(tmp_path: Path) -> None:
    """FsspecStore has no rename: the keys are copied, then the old ones deleted."""
    store = FsspecStore.from_url(f"memory://{tmp_path.name}/move")
    _populate(store, 3)
    logged = LoggingStore(store)
    root = zarrlayered.open_group(logged, mode="r+")
    root.move("src", "dst")
    assert logged.counter["set"] >= 6  # the rename was refused, so the keys were copied one by one
    assert root.keys() == ["dst"]
    assert root["dst/data"][4].tolist() == [16, 17, 18, 19]

    async def keys() -> list[str]:
        return [key async for key in store.list_prefix("")]

    assert not [key for key in sync(keys()) if key.startswith("src/")]


def test_move_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    root = _populate(MemoryStore(), 3)
    root.create_group("taken")
    with pytest.raises(NodeNotFoundError):
        root.move("missing", "anywhere")
    with pytest.raises(ContainsGroupError):
        root.move("src", "taken")
    with pytest.raises(ValueError, match="into itself"):
        root.move("src", "src/inside")
    assert root["src/data"].shape == (5, 4)  # nothing was changed by the refusals
    read_only = zarrlayered.open_group(root.store, mode="r")
    with pytest.raises(ReadOnlyError):
        read_only.move("src", "elsewhere")


def test_zarr_python_3_cannot_move() -> None:
    g = zarr.group()
    g.create_group("a")
    with pytest.raises(NotImplementedError):
        g.move("a", "b")


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_move_keeps_consolidated_metadata_true(zarr_format: int) -> None:
    store = MemoryStore()
    _populate(store, zarr_format)
    zarrlayered.consolidate_metadata(store)
    root = zarrlayered.open_consolidated(store, mode="r+")
    root.move("src/inner", "top/inner")
    expected = ["src", "src/data", "top", "top/inner", "top/inner/flag"]
    assert [name for name, _ in root.members(max_depth=None)] == expected
    reopened = zarrlayered.open_consolidated(store, mode="r")
    assert [name for name, _ in reopened.members(max_depth=None)] == expected
    assert reopened["top/inner/flag"][:].tolist() == [True, False, True]

"""Opening with mode ``"r"`` never writes: not a metadata document, not a chunk, not a directory.

Three checks, because one alone could miss something:

- a store over a mapping that *raises* on every write and counts the attempts (the lowest level a write
  can reach, below every wrapper and copy of the store), read through every reading API;
- a real directory on disk whose every file and directory (names, sizes, contents, modification times)
  is compared before and after, read through LocalStore, the h5py front end and the mapping front end;
- the same directory made read-only with ``chmod 0o555``. We run as root here and root ignores file
  permissions, so that check is skipped for root (it says so) and the two above carry the proof; as an
  ordinary user it runs.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zarrlayered
from zarrlayered import h5py_compat
from zarrlayered.compat.mapping import StoreMapping
from zarrlayered.errors import ReadOnlyError
from zarrlayered.stores.local import LocalStore
from zarrlayered.stores.mapping import MappingStore
from zarrlayered.stores.memory import MemoryStore


class WriteRefusingDict(MutableMapping[str, bytes]):
    """A dict whose writes and deletes raise PermissionError and are counted: a read-only medium."""

    def __init__(self, data: dict[str, bytes]) -> None:
        self._data = dict(data)
        self.write_attempts: list[str] = []

    def __getitem__(self, key: str) -> bytes:
        return self._data[key]

    def __setitem__(self, key: str, value: bytes) -> None:
        self.write_attempts.append(f"set {key}")
        raise PermissionError(f"read-only medium: cannot write {key!r}")

    def __delitem__(self, key: str) -> None:
        self.write_attempts.append(f"delete {key}")
        raise PermissionError(f"read-only medium: cannot delete {key!r}")

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def _populate(store: Any, fmt: int) -> None:
    root = zarrlayered.open_group(store, mode="w", zarr_format=fmt, attributes={"title": "t"})
    root.create_array("grp/data", shape=(6, 4), chunks=(3, 2), dtype="f8")[:] = np.arange(24.0).reshape(6, 4)
    if fmt == 3:
        root.create_array("grp/sharded", shape=(8,), chunks=(2,), shards=(4,), dtype="i2")[:] = np.arange(8)
    root.create_array("text", shape=(3,), dtype=str)[:] = np.array(["a", "bb", "ccc"], dtype=object)
    root.create_group("empty")
    zarrlayered.consolidate_metadata(store)


def _read_everything(store: Any) -> None:
    """Every reading API of the zarr-python style front end, on mode 'r'."""
    root = zarrlayered.open_group(store, mode="r")
    assert dict(root.attrs) == {"title": "t"}
    assert zarrlayered.open(store, mode="r").path == ""
    zarrlayered.open_consolidated(store, mode="r")
    zarrlayered.open_group(store, mode="r", use_consolidated=False)
    data = zarrlayered.open_array(store, path="grp/data", mode="r")
    assert data[:].sum() == sum(range(24))
    data[1:5, ::2]
    data.oindex[[0, 5], [1, 3]]
    data.vindex[[0, 5], [1, 3]]
    data.get_basic_selection((slice(None), 1))
    data.blocks[1, 1]
    assert data.nchunks_initialized == 4
    data.info_complete()
    if "sharded" in root["grp"]:
        root["grp/sharded"][1:7]
    root["text"][:]
    [name for name, _ in root.members(max_depth=None)]
    root.tree()
    root.info_complete()
    sorted(zarrlayered.load(store, path="grp"))
    for mode in ("r",):
        with pytest.raises(ReadOnlyError):
            zarrlayered.open_array(store, path="grp/data", mode=mode)[0, 0] = 1.0
        with pytest.raises(ReadOnlyError):
            zarrlayered.open_group(store, mode=mode).attrs["x"] = 1
        with pytest.raises((ReadOnlyError, KeyError)):
            zarrlayered.open(store, mode=mode, path="missing")


@pytest.mark.parametrize("fmt", [2, 3])
def test_reading_through_every_api_attempts_no_write(fmt: int) -> None:
    source = MemoryStore()
    _populate(source, fmt)
    medium = WriteRefusingDict(dict(source.store_dict))
    store = MappingStore(medium)
    _read_everything(store)
    assert medium.write_attempts == []


def _snapshot(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry under ``root``: kind, size, modification time and content hash (files)."""
    entries: dict[str, tuple[Any, ...]] = {}
    for path in [root, *root.rglob("*")]:
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else None
        entries[str(path.relative_to(root))] = (stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns, digest)
    return entries


@pytest.mark.parametrize("fmt", [2, 3])
def test_reading_a_directory_changes_nothing_on_disk(tmp_path: Path, fmt: int) -> None:
    root = tmp_path / "data.zarr"
    _populate(LocalStore(root), fmt)
    before = _snapshot(root)
    _read_everything(str(root))
    _read_everything(LocalStore(root, read_only=True))
    with h5py_compat.File(str(root), "r") as f:
        f.visititems(lambda name, obj: None)
        f["grp/data"][...]
        dict(f.attrs)
        with pytest.raises((ReadOnlyError, ValueError, OSError)):
            f.create_group("new")
    mapping = StoreMapping(LocalStore(root, read_only=True))
    assert sorted(mapping)  # iterates every key
    [mapping[key] for key in mapping]
    assert _snapshot(root) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.zarr"]


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="root ignores file permissions, so chmod 0o555 cannot make a directory read-only here; "
    "the write-refusing mapping and the on-disk snapshot tests prove mode 'r' never writes",
)
def test_reading_a_chmod_read_only_directory(tmp_path: Path) -> None:
    root = tmp_path / "data.zarr"
    _populate(LocalStore(root), 3)
    dirs = [root, *(p for p in root.rglob("*") if p.is_dir())]
    for directory in dirs:
        directory.chmod(0o555)
    try:
        _read_everything(str(root))
    finally:
        for directory in dirs:
            directory.chmod(0o755)

"""Keys that could escape a store's namespace (``..``, absolute paths, NUL, backslashes, empty segments)
are refused by every store, through every operation, synchronous and asynchronous, before any I/O.

The stores are real: files in a temporary directory (LocalStore, and fsspec's local filesystem under
FsspecStore), a real zip archive, a dict, and the wrappers around them. After all the attempts, nothing
exists outside the store's own directory.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest

from zarrlayered.errors import UnsafeKeyError
from zarrlayered.stores.abc import RangeByteRequest, Store
from zarrlayered.stores.cache import LRUStoreCache
from zarrlayered.stores.fsspec import FsspecStore
from zarrlayered.stores.local import LocalStore
from zarrlayered.stores.logging import LoggingStore
from zarrlayered.stores.mapping import MappingStore
from zarrlayered.stores.memory import MemoryStore
from zarrlayered.stores.wrapper import WrapperStore
from zarrlayered.stores.zip import ZipStore

UNSAFE_KEYS = [
    "..",
    "../escape",
    "a/../../escape",
    "a/..",
    "/etc/passwd",
    "/abs",
    "a\x00b",
    "\x00",
    "a\\..\\..\\escape",
    "C:\\windows",
    "a//b",
    "a/./b",
    "./a",
    "a/",
    "",
]

STORES: dict[str, Callable[[Path], Store]] = {
    "memory": lambda root: MemoryStore(),
    "local": lambda root: LocalStore(root / "store"),
    "zip": lambda root: ZipStore(root / "store.zip", mode="w"),
    "fsspec": lambda root: FsspecStore(fsspec.filesystem("file"), str(root / "store")),
    "mapping": lambda root: MappingStore({}),
    "lru-cache": lambda root: LRUStoreCache(LocalStore(root / "store"), max_size=2**20),
    "logging": lambda root: LoggingStore(LocalStore(root / "store")),
    "wrapper": lambda root: WrapperStore(LocalStore(root / "store")),
}


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    root = tmp_path / "inside"
    root.mkdir()
    made = STORES[request.param](root)
    made.set_sync("ok/key", b"v") if made.supports_sync else None
    yield made
    made.close()
    outside = sorted(p.name for p in tmp_path.iterdir())
    assert outside == ["inside"], f"something was written next to the store: {outside}"
    inside = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    assert all(not name.startswith("..") and "escape" not in name for name in inside), inside


def _async_calls(key: str) -> list[tuple[str, Callable[[Store], Any]]]:
    return [
        ("get", lambda s: s.get(key)),
        ("get range", lambda s: s.get(key, RangeByteRequest(0, 1))),
        ("get_partial_values", lambda s: s.get_partial_values([("ok/key", None), (key, None)])),
        ("exists", lambda s: s.exists(key)),
        ("getsize", lambda s: s.getsize(key)),
        ("set", lambda s: s.set(key, b"x")),
        ("set_if_not_exists", lambda s: s.set_if_not_exists(key, b"x")),
        ("delete", lambda s: s.delete(key)),
    ]


def _sync_calls(key: str) -> list[tuple[str, Callable[[Store], Any]]]:
    return [
        ("get_sync", lambda s: s.get_sync(key)),
        ("set_sync", lambda s: s.set_sync(key, b"x")),
        ("exists_sync", lambda s: s.exists_sync(key)),
        ("delete_sync", lambda s: s.delete_sync(key)),
    ]


@pytest.mark.parametrize("key", UNSAFE_KEYS, ids=repr)
async def test_every_operation_refuses_an_unsafe_key(store: Store, key: str) -> None:
    for name, call in _async_calls(key):
        with pytest.raises(UnsafeKeyError, match="unsafe store key"):
            await call(store)
        assert name
    if store.supports_sync:
        for _, call in _sync_calls(key):
            with pytest.raises(UnsafeKeyError, match="unsafe store key"):
                call(store)


@pytest.mark.parametrize("prefix", ["../", "/abs/", "a/../../", "a\x00/", "..\\"], ids=repr)
async def test_listing_and_deleting_refuse_an_unsafe_prefix(store: Store, prefix: str) -> None:
    with pytest.raises(UnsafeKeyError):
        [k async for k in store.list_prefix(prefix)]
    with pytest.raises(UnsafeKeyError):
        [k async for k in store.list_dir(prefix)]
    with pytest.raises(UnsafeKeyError):
        await store.delete_dir(prefix)
    with pytest.raises(UnsafeKeyError):
        await store.rename(prefix, "ok/elsewhere")
    with pytest.raises(UnsafeKeyError):
        await store.rename("ok/key", prefix)


def test_local_store_symlink_out_of_the_root_is_not_followed(tmp_path: Path) -> None:
    """A symlink planted inside the store that points outside it is not a way out either."""
    outside = tmp_path / "secret"
    outside.write_bytes(b"secret")
    root = tmp_path / "store"
    root.mkdir()
    os.symlink(outside, root / "link")
    store = LocalStore(root)
    with pytest.raises(UnsafeKeyError):
        store.get_sync("link")
    with contextlib.suppress(UnsafeKeyError):  # refused, or the link itself replaced: never written through
        store.set_sync("link", b"overwritten")
    assert outside.read_bytes() == b"secret"

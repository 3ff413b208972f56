"""The store contract: a pytest class that a store author subclasses to check a store.

Example
-------
.. code-block:: python

    from zarrlayered.testing import StoreTests

    class TestMyStore(StoreTests):
        def make_store(self, tmp_path):
            return MyStore(tmp_path / "data")

Every test drives the store through the public async API on the library's IO loop (via
:func:`zarrlayered.sync`), so the kit needs no asyncio plugin.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from zarrlayered.core.sync import sync
from zarrlayered.errors import ReadOnlyError, StoreClosedError, UnsafeKeyError
from zarrlayered.stores.abc import (
    OffsetByteRequest,
    RangeByteRequest,
    Store,
    SuffixByteRequest,
)

__all__ = ["UNSAFE_KEYS", "StoreTests"]

T = TypeVar("T")

#: Keys every store must refuse with UnsafeKeyError.
UNSAFE_KEYS = ("../escape", "a/../../b", "/abs/key", "a//b", "a/./b", ".", "..", "", "a\x00b", "a/", "a\\b")


def run(coro: Awaitable[T]) -> T:
    """Run a coroutine on the library's IO loop."""
    return sync(coro, timeout=120)


async def _collect(items: AsyncIterator[str]) -> list[str]:
    return [item async for item in items]


def keys_of(items: AsyncIterator[str]) -> list[str]:
    """Sorted list of what an async key iterator yields."""
    return sorted(run(_collect(items)))


class StoreTests:
    """The contract every zarrlayered store meets. Subclass it and implement :meth:`make_store`.

    Override :meth:`reopen` to also test that data survives closing and reopening the store, and
    :meth:`make_read_only` when a read-only view is made differently from ``with_read_only(True)``.
    """

    #: Number of concurrent operations in the concurrency tests.
    concurrent_ops = 300
    #: Size of the large-value test.
    large_value_size = 3 * 1024 * 1024

    def make_store(self, tmp_path: Path) -> Store:
        """Return a new, empty, writable store."""
        raise NotImplementedError("subclasses of StoreTests implement make_store(tmp_path)")

    def reopen(self, store: Store) -> Store | None:
        """Close ``store`` and open the same data again, or return None when that does not apply."""
        return None

    def make_read_only(self, store: Store) -> Store:
        """Return a read-only store over the same data as ``store``."""
        return store.with_read_only(True)

    @pytest.fixture
    def store(self, tmp_path: Path) -> Any:
        store = self.make_store(tmp_path)
        yield store
        store.close()

    # -- basic values --------------------------------------------------------------------------
    def test_store_is_a_store(self, store: Store) -> None:
        assert isinstance(store, Store)
        assert store.read_only is False
        assert store.supports_writes

    def test_set_get_roundtrip(self, store: Store) -> None:
        run(store.set("zarr.json", b'{"a": 1}'))
        run(store.set("a/b/c/0", b"\x00\x01\x02"))
        assert run(store.get("zarr.json")) == b'{"a": 1}'
        assert run(store.get("a/b/c/0")) == b"\x00\x01\x02"
        assert isinstance(run(store.get("zarr.json")), bytes)

    def test_get_missing_is_none(self, store: Store) -> None:
        assert run(store.get("missing")) is None
        assert run(store.get("missing/deeper", RangeByteRequest(0, 2))) is None
        assert run(store.exists("missing")) is False

    def test_empty_value(self, store: Store) -> None:
        run(store.set("empty", b""))
        assert run(store.get("empty")) == b""
        assert run(store.exists("empty")) is True
        assert run(store.getsize("empty")) == 0

    def test_overwrite(self, store: Store) -> None:
        run(store.set("k", b"first value"))
        run(store.set("k", b"second"))
        assert run(store.get("k")) == b"second"
        assert keys_of(store.list()) == ["k"]

    @pytest.mark.parametrize("kind", ["bytes", "bytearray", "memoryview", "numpy"])
    def test_set_accepts_buffers(self, store: Store, kind: str) -> None:
        raw = np.arange(10, dtype="<i4")
        value: Any = {
            "bytes": raw.tobytes(),
            "bytearray": bytearray(raw.tobytes()),
            "memoryview": memoryview(raw.tobytes()),
            "numpy": raw,
        }[kind]
        run(store.set("buf", value))
        assert run(store.get("buf")) == raw.tobytes()

    def test_set_refuses_str(self, store: Store) -> None:
        with pytest.raises(TypeError):
            run(store.set("text", "not bytes"))
        assert run(store.exists("text")) is False

    # -- byte ranges -----------------------------------------------------------------------------
    def test_byte_ranges(self, store: Store) -> None:
        data = bytes(range(256)) * 4
        run(store.set("data", data))
        assert run(store.get("data", RangeByteRequest(10, 20))) == data[10:20]
        assert run(store.get("data", RangeByteRequest(0, 0))) == b""
        assert run(store.get("data", RangeByteRequest(1000, 5000))) == data[1000:]
        assert run(store.get("data", OffsetByteRequest(1000))) == data[1000:]
        assert run(store.get("data", OffsetByteRequest(0))) == data
        assert run(store.get("data", SuffixByteRequest(24))) == data[-24:]
        assert run(store.get("data", SuffixByteRequest(5000))) == data

    def test_bad_byte_range_type(self, store: Store) -> None:
        run(store.set("data", b"abc"))
        with pytest.raises(TypeError):
            run(store.get("data", (0, 1)))  # type: ignore[arg-type]

    def test_get_partial_values(self, store: Store) -> None:
        data = bytes(range(100))
        run(store.set("x/0", data))
        run(store.set("x/1", data[::-1]))
        got = run(
            store.get_partial_values(
                [
                    ("x/0", RangeByteRequest(5, 9)),
                    ("x/1", None),
                    ("x/missing", RangeByteRequest(0, 1)),
                    ("x/0", SuffixByteRequest(3)),
                    ("x/1", OffsetByteRequest(98)),
                ]
            )
        )
        assert got == [data[5:9], data[::-1], None, data[-3:], data[::-1][98:]]

    # -- size, delete ----------------------------------------------------------------------------
    def test_getsize(self, store: Store) -> None:
        run(store.set("a/b", b"12345"))
        assert run(store.getsize("a/b")) == 5
        with pytest.raises(FileNotFoundError):
            run(store.getsize("a/missing"))
        assert run(store.getsize_prefix("a")) == 5

    def test_delete(self, store: Store) -> None:
        if not store.supports_deletes:
            pytest.skip("store does not support deletes")
        run(store.set("a/b", b"1"))
        run(store.set("a/c", b"2"))
        run(store.delete("a/b"))
        assert run(store.get("a/b")) is None
        assert run(store.exists("a/b")) is False
        assert run(store.get("a/c")) == b"2"
        run(store.delete("a/b"))  # deleting a missing key is not an error
        run(store.delete("never/was"))

    def test_delete_dir_and_clear(self, store: Store) -> None:
        if not store.supports_deletes:
            pytest.skip("store does not support deletes")
        for key in ("g/zarr.json", "g/a/zarr.json", "g/a/c/0", "h/zarr.json"):
            run(store.set(key, b"x"))
        run(store.delete_dir("g/a"))
        assert keys_of(store.list()) == ["g/zarr.json", "h/zarr.json"]
        assert run(store.is_empty("g/a")) is True
        assert run(store.is_empty("g")) is False
        run(store.clear())
        assert keys_of(store.list()) == []
        assert run(store.is_empty("")) is True

    # -- listing -------------------------------------------------------------------------------
    def _populate(self, store: Store) -> list[str]:
        keys = ["zarr.json", "a/zarr.json", "a/c/0/0", "a/c/0/1", "a/c/1/0", "ab/zarr.json", "b/x/y/z"]
        for key in keys:
            run(store.set(key, key.encode()))
        return sorted(keys)

    def test_list(self, store: Store) -> None:
        keys = self._populate(store)
        assert keys_of(store.list()) == keys

    def test_list_prefix(self, store: Store) -> None:
        self._populate(store)
        assert keys_of(store.list_prefix("a/")) == ["a/c/0/0", "a/c/0/1", "a/c/1/0", "a/zarr.json"]
        assert keys_of(store.list_prefix("a/c/0/")) == ["a/c/0/0", "a/c/0/1"]
        assert keys_of(store.list_prefix("")) == keys_of(store.list())
        assert keys_of(store.list_prefix("nothing/")) == []

    def test_list_dir(self, store: Store) -> None:
        self._populate(store)
        assert keys_of(store.list_dir("")) == ["a", "ab", "b", "zarr.json"]
        assert keys_of(store.list_dir("a")) == ["c", "zarr.json"]
        assert keys_of(store.list_dir("a/")) == ["c", "zarr.json"]
        assert keys_of(store.list_dir("a/c")) == ["0", "1"]
        assert keys_of(store.list_dir("b/x")) == ["y"]
        assert keys_of(store.list_dir("missing")) == []

    # -- safety --------------------------------------------------------------------------------
    @pytest.mark.parametrize("key", UNSAFE_KEYS)
    def test_unsafe_keys_refused(self, store: Store, key: str, tmp_path: Path) -> None:
        run(store.set("anchor", b"1"))  # a lazily created store makes its files before the snapshot
        before = sorted(os.listdir(tmp_path))
        with pytest.raises(UnsafeKeyError):
            run(store.set(key, b"evil"))
        with pytest.raises(UnsafeKeyError):
            run(store.get(key))
        with pytest.raises(UnsafeKeyError):
            run(store.exists(key))
        if store.supports_deletes:
            with pytest.raises(UnsafeKeyError):
                run(store.delete(key))
        assert keys_of(store.list()) == ["anchor"]
        assert sorted(os.listdir(tmp_path)) == before
        assert not (tmp_path.parent / "escape").exists()
        assert not Path("/abs/key").exists()

    def test_read_only_refuses_writes(self, store: Store) -> None:
        run(store.set("a/b", b"kept"))
        reader = self.make_read_only(store)
        assert reader.read_only is True
        with pytest.raises(ReadOnlyError):
            run(reader.set("a/b", b"changed"))
        with pytest.raises(ReadOnlyError):
            run(reader.set("new", b"new"))
        if reader.supports_deletes:
            with pytest.raises(ReadOnlyError):
                run(reader.delete("a/b"))
        assert run(reader.get("a/b")) == b"kept"
        assert run(reader.exists("new")) is False
        assert keys_of(reader.list()) == ["a/b"]

    def test_read_only_errors_are_permission_errors(self, store: Store) -> None:
        reader = self.make_read_only(store)
        with pytest.raises(PermissionError):
            run(reader.set("x", b"1"))

    # -- size and concurrency --------------------------------------------------------------------
    def test_large_value(self, store: Store) -> None:
        rng = np.random.default_rng(0)
        data = rng.integers(0, 256, self.large_value_size, dtype=np.uint8).tobytes()
        run(store.set("big/value", data))
        assert run(store.get("big/value")) == data
        middle = RangeByteRequest(self.large_value_size // 2, self.large_value_size // 2 + 4096)
        assert run(store.get("big/value", middle)) == data[middle.start : middle.end]
        assert run(store.getsize("big/value")) == self.large_value_size

    def test_concurrent_sets_and_gets(self, store: Store) -> None:
        n = self.concurrent_ops

        async def write_all() -> None:
            await asyncio.gather(*(store.set(f"c/{i}", str(i).encode() * 3) for i in range(n)))

        async def read_all() -> list[bytes | None]:
            return list(await asyncio.gather(*(store.get(f"c/{i}") for i in range(n))))

        async def mixed() -> list[Any]:
            ops: list[Awaitable[Any]] = []
            for i in range(n):
                ops.append(store.get(f"c/{i}"))
                ops.append(store.set(f"d/{i}", b"%d" % i))
            return list(await asyncio.gather(*ops))

        run(write_all())
        assert run(read_all()) == [str(i).encode() * 3 for i in range(n)]
        results = run(mixed())
        assert results[0::2] == [str(i).encode() * 3 for i in range(n)]
        assert len(keys_of(store.list_prefix("d/"))) == n

    # -- the synchronous path --------------------------------------------------------------------
    def test_sync_path_agrees(self, store: Store) -> None:
        if not store.supports_sync:
            pytest.skip("store has no synchronous path")
        store.set_sync("s/k", b"sync value")
        assert run(store.get("s/k")) == b"sync value"
        run(store.set("s/j", b"async value"))
        assert store.get_sync("s/j") == b"async value"
        assert store.get_sync("s/j", RangeByteRequest(0, 5)) == b"async"
        assert store.get_sync("s/missing") is None
        assert store.exists_sync("s/k") is True
        assert sorted(store.list_prefix_sync("s/")) == ["s/j", "s/k"]
        store.delete_sync("s/k")
        assert store.exists_sync("s/k") is False
        with pytest.raises(UnsafeKeyError):
            store.get_sync("../x")

    # -- optional capabilities -------------------------------------------------------------------
    def test_rename(self, store: Store) -> None:
        run(store.set("src/zarr.json", b"m"))
        run(store.set("src/c/0", b"chunk"))
        try:
            run(store.rename("src", "dst"))
        except NotImplementedError:
            pytest.skip("store does not support rename")
        assert keys_of(store.list()) == ["dst/c/0", "dst/zarr.json"]
        assert run(store.get("dst/c/0")) == b"chunk"

    def test_set_partial_values(self, store: Store) -> None:
        if not store.supports_partial_writes:
            with pytest.raises(NotImplementedError):
                run(store.set_partial_values([("k", 0, b"x")]))
            return
        run(store.set("k", b"0123456789"))
        run(store.set_partial_values([("k", 2, b"ab"), ("k", 8, b"XY")]))
        assert run(store.get("k")) == b"01ab4567XY"

    def test_set_if_not_exists(self, store: Store) -> None:
        run(store.set_if_not_exists("k", b"first"))
        run(store.set_if_not_exists("k", b"second"))
        assert run(store.get("k")) == b"first"

    def test_persistence(self, store: Store) -> None:
        run(store.set("p/zarr.json", b"{}"))
        run(store.set("p/c/0", b"\x01" * 1000))
        reopened = self.reopen(store)
        if reopened is None:
            pytest.skip("store is not persistent")
        try:
            assert keys_of(reopened.list()) == ["p/c/0", "p/zarr.json"]
            assert run(reopened.get("p/c/0")) == b"\x01" * 1000
        finally:
            reopened.close()

    def test_close_and_context_manager(self, tmp_path: Path) -> None:
        with self.make_store(tmp_path) as store:
            run(store.set("k", b"v"))
        assert store.closed
        with pytest.raises(StoreClosedError):
            run(store.get("k"))

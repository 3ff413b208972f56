from __future__ import annotations

from pathlib import Path

from zarrlayered.core.sync import sync
from zarrlayered.stores import LoggingStore, MemoryStore, WrapperStore
from zarrlayered.testing import StoreTests


class TestMemoryStore(StoreTests):
    def make_store(self, tmp_path: Path) -> MemoryStore:
        return MemoryStore()


class TestMemoryStoreOverUserDict(StoreTests):
    def make_store(self, tmp_path: Path) -> MemoryStore:
        self.backing: dict[str, bytes] = {}
        return MemoryStore(self.backing)

    def reopen(self, store: MemoryStore) -> MemoryStore:
        store.close()
        return MemoryStore(self.backing)


class TestWrapperStore(StoreTests):
    def make_store(self, tmp_path: Path) -> WrapperStore:
        return WrapperStore(MemoryStore())


class TestLoggingStore(StoreTests):
    def make_store(self, tmp_path: Path) -> LoggingStore:
        return LoggingStore(MemoryStore())


def test_logging_store_counts_calls_and_bytes(caplog) -> None:
    store = LoggingStore(MemoryStore())
    with caplog.at_level("DEBUG", logger="zarrlayered.store"):
        sync(store.set("a", b"12345"))
        assert sync(store.get("a")) == b"12345"
        assert store.get_sync("a") == b"12345"
        assert sync(store.get("missing")) is None
    assert store.counter["set"] == 1
    assert store.counter["get"] == 3
    assert store.bytes_written == 5
    assert store.bytes_read == 10
    assert any("get(a)" in record.getMessage() for record in caplog.records)
    store.reset_counts()
    assert store.counter == {} and store.bytes_read == 0


def test_memory_store_shares_user_dict() -> None:
    backing: dict[str, bytes] = {}
    store = MemoryStore(backing)
    sync(store.set("x/y", b"1"))
    assert backing == {"x/y": b"1"}
    assert MemoryStore(backing) == store
    assert MemoryStore() != store


def test_f_ordered_numpy_values_keep_their_memory_order() -> None:
    import numpy as np

    store = MemoryStore()
    value = np.asfortranarray(np.arange(6, dtype="<i2").reshape(2, 3))
    sync(store.set("f", value))
    assert sync(store.get("f")) == value.tobytes(order="F")

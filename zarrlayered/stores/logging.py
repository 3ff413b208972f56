"""LoggingStore: logs every store call with its timing and counts calls and bytes."""

from __future__ import annotations

import builtins
import logging
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any, Self

from zarrlayered.stores.abc import BufferLike, ByteRequest, Store
from zarrlayered.stores.wrapper import WrapperStore

__all__ = ["LoggingStore"]

logger = logging.getLogger("zarrlayered.store")


def _open_logging_store(cls: type[LoggingStore], store: Store, log_level: int) -> LoggingStore:
    """Unpickle a :class:`LoggingStore`: the unpickled store, logged, with counters at zero."""
    return cls(store, log_level)


class LoggingStore(WrapperStore):
    """Wraps a store, logging each call (with its duration) and counting calls and bytes moved.

    Parameters
    ----------
    store
        The store to wrap.
    log_level
        The level of the records sent to the ``zarrlayered.store`` logger.

    Attributes
    ----------
    counter : collections.Counter
        Calls per method name (``get``, ``set``, ``get_partial_values``, ``list_prefix``, ...).
    bytes_read, bytes_written : int
        Bytes returned by reads and accepted by writes.
    """

    def __init__(self, store: Store, log_level: int = logging.DEBUG) -> None:
        super().__init__(store)
        self.log_level = log_level
        self.counter: Counter[str] = Counter()
        self.bytes_read = 0
        self.bytes_written = 0
        self._lock = threading.Lock()

    def __copy__(self) -> Self:
        # copy.copy (with_read_only) shares the state; only pickling starts afresh
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def __reduce__(self) -> tuple[object, tuple[type[LoggingStore], Store, int]]:
        # Counters stay behind: each process counts its own calls.
        return _open_logging_store, (type(self), self._store, self.log_level)

    def reset_counts(self) -> None:
        """Zero the call and byte counters."""
        with self._lock:
            self.counter.clear()
            self.bytes_read = 0
            self.bytes_written = 0

    def _record(self, method: str, started: float, detail: Any, read: int = 0, written: int = 0) -> None:
        with self._lock:
            self.counter[method] += 1
            self.bytes_read += read
            self.bytes_written += written
        if logger.isEnabledFor(self.log_level):
            elapsed = (time.perf_counter() - started) * 1e3
            logger.log(self.log_level, "%s(%s) on %r took %.3f ms", method, detail, self._store, elapsed)

    async def get(self, key: str, byte_range: ByteRequest | None = None) -> bytes | None:
        started = time.perf_counter()
        value = await self._store.get(key, byte_range)
        self._record("get", started, key, read=len(value) if value is not None else 0)
        return value

    async def get_partial_values(
        self, key_ranges: Sequence[tuple[str, ByteRequest | None]]
    ) -> builtins.list[bytes | None]:
        started = time.perf_counter()
        values = await self._store.get_partial_values(key_ranges)
        read = sum(len(v) for v in values if v is not None)
        self._record("get_partial_values", started, f"{len(key_ranges)} ranges", read=read)
        return values

    async def exists(self, key: str) -> bool:
        started = time.perf_counter()
        result = await self._store.exists(key)
        self._record("exists", started, key)
        return result

    async def getsize(self, key: str) -> int:
        started = time.perf_counter()
        result = await self._store.getsize(key)
        self._record("getsize", started, key)
        return result

    async def set(self, key: str, value: BufferLike) -> None:
        started = time.perf_counter()
        await self._store.set(key, value)
        self._record("set", started, key, written=memoryview(value).nbytes)

    async def set_partial_values(self, key_start_values: Iterable[tuple[str, int, BufferLike]]) -> None:
        items = list(key_start_values)
        started = time.perf_counter()
        await self._store.set_partial_values(items)
        written = sum(memoryview(v).nbytes for _, _, v in items)
        self._record("set_partial_values", started, f"{len(items)} parts", written=written)

    async def delete(self, key: str) -> None:
        started = time.perf_counter()
        await self._store.delete(key)
        self._record("delete", started, key)

    async def rename(self, src: str, dst: str) -> None:
        started = time.perf_counter()
        await self._store.rename(src, dst)
        self._record("rename", started, f"{src} -> {dst}")

    async def _logged_iter(self, method: str, detail: str, items: AsyncIterator[str]) -> AsyncIterator[str]:
        started = time.perf_counter()
        async for item in items:
            yield item
        self._record(method, started, detail)

    def list(self) -> AsyncIterator[str]:
        return self._logged_iter("list", "", self._store.list())

    def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        return self._logged_iter("list_prefix", prefix, self._store.list_prefix(prefix))

    def list_dir(self, prefix: str) -> AsyncIterator[str]:
        return self._logged_iter("list_dir", prefix, self._store.list_dir(prefix))

    def get_sync(self, key: str, byte_range: ByteRequest | None = None) -> bytes | None:
        started = time.perf_counter()
        value = self._store.get_sync(key, byte_range)
        self._record("get", started, key, read=len(value) if value is not None else 0)
        return value

    def set_sync(self, key: str, value: BufferLike) -> None:
        started = time.perf_counter()
        self._store.set_sync(key, value)
        self._record("set", started, key, written=memoryview(value).nbytes)

    def exists_sync(self, key: str) -> bool:
        started = time.perf_counter()
        result = self._store.exists_sync(key)
        self._record("exists", started, key)
        return result

    def delete_sync(self, key: str) -> None:
        started = time.perf_counter()
        self._store.delete_sync(key)
        self._record("delete", started, key)

    def list_prefix_sync(self, prefix: str) -> builtins.list[str]:
        started = time.perf_counter()
        result = self._store.list_prefix_sync(prefix)
        self._record("list_prefix", started, prefix)
        return result

"""WrapperStore: a store that forwards every call to another store, for subclasses to intercept."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Self

from zarrlayered.stores.abc import BufferLike, ByteRequest, Store

__all__ = ["WrapperStore"]


class WrapperStore(Store):
    """Forwards every operation to ``store``; subclass it and override what you want to intercept.

    The synchronous fast path is forwarded too, so wrapping a store does not slow the engine down.
    """

    def __init__(self, store: Store) -> None:
        if not isinstance(store, Store):
            raise TypeError(f"WrapperStore needs a Store, got {type(store).__name__}")
        super().__init__(read_only=store.read_only)
        self._store = store

    @property
    def store(self) -> Store:
        """The wrapped store."""
        return self._store

    @property
    def read_only(self) -> bool:
        return self._store.read_only

    @property
    def closed(self) -> bool:
        return self._store.closed

    @property
    def supports_sync(self) -> bool:  # type: ignore[override]
        return self._store.supports_sync

    @property
    def supports_partial_writes(self) -> bool:  # type: ignore[override]
        return self._store.supports_partial_writes

    @property
    def supports_deletes(self) -> bool:  # type: ignore[override]
        return self._store.supports_deletes

    @property
    def supports_listing(self) -> bool:  # type: ignore[override]
        return self._store.supports_listing

    @property
    def supports_writes(self) -> bool:  # type: ignore[override]
        return self._store.supports_writes

    def with_read_only(self, read_only: bool = True) -> Self:
        clone = super().with_read_only(read_only)
        clone._store = self._store.with_read_only(read_only)
        return clone

    def close(self) -> None:
        self._store.close()

    def _url(self) -> str:
        return str(self._store)

    def _describe(self) -> str:
        return repr(self._store)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WrapperStore) and type(other) is type(self) and self._store == other._store

    def __hash__(self) -> int:
        return hash((type(self), self._store))

    async def get(self, key: str, byte_range: ByteRequest | None = None) -> bytes | None:
        return await self._store.get(key, byte_range)

    async def get_partial_values(
        self, key_ranges: Sequence[tuple[str, ByteRequest | None]]
    ) -> builtins.list[bytes | None]:
        return await self._store.get_partial_values(key_ranges)

    async def exists(self, key: str) -> bool:
        return await self._store.exists(key)

    async def getsize(self, key: str) -> int:
        return await self._store.getsize(key)

    def list(self) -> AsyncIterator[str]:
        return self._store.list()

    def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        return self._store.list_prefix(prefix)

    def list_dir(self, prefix: str) -> AsyncIterator[str]:
        return self._store.list_dir(prefix)

    async def set(self, key: str, value: BufferLike) -> None:
        await self._store.set(key, value)

    async def set_partial_values(self, key_start_values: Iterable[tuple[str, int, BufferLike]]) -> None:
        await self._store.set_partial_values(key_start_values)

    async def delete(self, key: str) -> None:
        await self._store.delete(key)

    async def rename(self, src: str, dst: str) -> None:
        await self._store.rename(src, dst)

    def get_sync(self, key: str, byte_range: ByteRequest | None = None) -> bytes | None:
        return self._store.get_sync(key, byte_range)

    def set_sync(self, key: str, value: BufferLike) -> None:
        self._store.set_sync(key, value)

    def exists_sync(self, key: str) -> bool:
        return self._store.exists_sync(key)

    def delete_sync(self, key: str) -> None:
        self._store.delete_sync(key)

    def list_prefix_sync(self, prefix: str) -> builtins.list[str]:
        return self._store.list_prefix_sync(prefix)

    # The abstract hooks are never reached: every public method above forwards.
    async def _get(self, key: str, byte_range: ByteRequest | None) -> bytes | None:
        return await self._store.get(key, byte_range)

    def _list(self) -> AsyncIterator[str]:
        return self._store.list()

    async def _set(self, key: str, value: bytes) -> None:
        await self._store.set(key, value)

    async def _delete(self, key: str) -> None:
        await self._store.delete(key)

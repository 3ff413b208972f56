"""LRUStoreCache: keep what a slow store returned, in memory (or in a zict mapping), bounded in bytes.

zarr-python 2 had ``LRUStoreCache``; zarr-python 3 dropped it. This one wraps any store, async or not,
and caches, in one least-recently-used cache bounded by total bytes (cachetools):

- values, whole or by byte range (a range is served from the whole value when that is cached);
- ``exists`` answers, including "missing" (so reading never-written chunks does not ask the store again);
- listings (``list``, ``list_prefix``, ``list_dir``).

Writes and deletes go through to the store and then update the cache (write-through: a written value is
cached). Nothing else may change the store behind the cache's back; when something does, call
:meth:`LRUStoreCache.invalidate`.

For a cache bigger than memory, pass ``cache=`` a MutableMapping for the values: a ``zict.Buffer``
spilling to a ``zict.File`` directory, a ``zict.LRU``, or any mapping of str to bytes. That mapping then
decides what it keeps; ``max_size`` still bounds each value and the exists and listing cache.
"""

from __future__ import annotations

import builtins
import math
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

import cachetools

from zarrlayered.core.sync import run_blocking
from zarrlayered.errors import StoreClosedError
from zarrlayered.stores.abc import (
    BufferLike,
    ByteRequest,
    Store,
    apply_byte_range,
    parse_byte_request,
    to_bytes,
    validate_key,
    validate_prefix,
)
from zarrlayered.stores.wrapper import WrapperStore

__all__ = ["LRUStoreCache", "parse_max_size"]

T = TypeVar("T")

#: What the one LRU holds, by the first item of its key: ("v", key) whole values, ("r", key, range) parts,
#: ("e", key) exists answers, ("l", kind, prefix) listings.
_CacheKey = tuple[Any, ...]
_MISS = object()


def parse_max_size(value: object) -> float:
    """``max_size`` in bytes (None: unbounded); a ValueError/TypeError naming a bad value."""
    if value is None:
        return math.inf
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"LRUStoreCache max_size must be an int number of bytes or None, got {value!r}")
    if value < 0:
        raise ValueError(f"LRUStoreCache max_size must be >= 0 bytes, got {value}")
    return value


def _weight(entry: Any) -> int:
    """Bytes an LRU entry is charged: a value's length, a listing's characters, 1 for an exists answer."""
    if isinstance(entry, bytes):
        return len(entry)
    if isinstance(entry, tuple):
        return sum(len(name) for name in entry) + len(entry)
    return 1


@dataclass
class _State:
    """Shared by a cache and its read-only views."""

    max_size: float
    lru: cachetools.LRUCache[_CacheKey, Any]
    values: MutableMapping[str, Any] | None
    mutex: threading.Lock = field(default_factory=threading.Lock)
    ranges: dict[str, set[ByteRequest]] = field(default_factory=dict)
    listings: set[_CacheKey] = field(default_factory=set)
    #: Bumped by every write: a read that started before it does not cache what it fetched.
    epoch: int = 0
    hits: int = 0
    misses: int = 0


def _open_lru_store_cache(
    cls: type[LRUStoreCache], store: Store, max_size: int | None, cache: MutableMapping[str, Any] | None
) -> LRUStoreCache:
    """Unpickle an :class:`LRUStoreCache`: an empty cache in front of the unpickled store."""
    return cls(store, max_size, cache=cache)


class LRUStoreCache(WrapperStore):
    """A store in front of ``store`` that remembers values, exists answers and listings (LRU, by bytes).

    Parameters
    ----------
    store
        The store to cache: any :class:`~zarrlayered.stores.abc.Store`, or a mapping (wrapped in a
        :class:`~zarrlayered.stores.mapping.MappingStore`).
    max_size
        The most bytes the cache holds (values plus a small charge per exists answer and listing); None
        for no bound. A value bigger than this is never cached.
    cache
        Optional MutableMapping to keep values in instead of memory (e.g. ``zict.Buffer`` spilling to
        disk); it decides what to keep. Its calls run in the worker pool, off the event loop.

    Attributes
    ----------
    hits, misses
        Reads (``get``, whole or by range) answered from the cache / sent to the store.

    Notes
    -----
    Pickled (for Dask workers), a cache carries its store, ``max_size`` and ``cache=`` mapping but none
    of what it has cached: each process starts with an empty cache of its own.

    Examples
    --------
    >>> from zarrlayered.stores import MemoryStore
    >>> cached = LRUStoreCache(MemoryStore(), max_size=2**28)
    >>> cached.set_sync("k", b"value")
    >>> cached.get_sync("k"), cached.hits, cached.misses
    (b'value', 1, 0)
    """

    def __init__(
        self, store: Store | Any, max_size: int | None, *, cache: MutableMapping[str, Any] | None = None
    ) -> None:
        if not isinstance(store, Store):
            from zarrlayered.stores.mapping import MappingStore

            store = MappingStore(store)
        if cache is not None and not isinstance(cache, MutableMapping):
            raise TypeError(f"LRUStoreCache cache= must be a MutableMapping, got {type(cache).__name__}")
        super().__init__(store)
        limit = parse_max_size(max_size)
        self._state = _State(limit, cachetools.LRUCache(maxsize=limit, getsizeof=_weight), cache)

    # -- what users of zarr-python 2's LRUStoreCache used ------------------------------------------
    @property
    def hits(self) -> int:
        """Reads answered from the cache."""
        return self._state.hits

    @property
    def misses(self) -> int:
        """Reads that went to the store."""
        return self._state.misses

    @property
    def max_size(self) -> int | None:
        """The bound in bytes (None: unbounded)."""
        limit = self._state.max_size
        return None if math.isinf(limit) else int(limit)

    @property
    def current_size(self) -> int:
        """Bytes the in-memory LRU holds now (values kept in a ``cache=`` mapping are not counted)."""
        return int(self._state.lru.currsize)

    def invalidate(self) -> None:
        """Forget everything cached."""
        with self._state.mutex:
            self._state.epoch += 1
            self._state.lru.clear()
            self._state.ranges.clear()
            self._state.listings.clear()
            if self._state.values is not None:
                self._state.values.clear()

    def invalidate_values(self) -> None:
        """Forget the cached values (whole and by range)."""
        with self._state.mutex:
            self._state.epoch += 1
            for key in [k for k in self._state.lru if k[0] in ("v", "r")]:
                self._state.lru.pop(key, None)
            self._state.ranges.clear()
            if self._state.values is not None:
                self._state.values.clear()

    def invalidate_keys(self) -> None:
        """Forget the cached exists answers and listings."""
        with self._state.mutex:
            self._state.epoch += 1
            for key in [k for k in self._state.lru if k[0] in ("e", "l")]:
                self._state.lru.pop(key, None)
            self._state.listings.clear()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LRUStoreCache) and other._state is self._state and other._store == self._store

    def __hash__(self) -> int:
        return hash((LRUStoreCache, self._store))

    def _describe(self) -> str:
        return f"{self._store!r}, max_size={self.max_size}"

    def __copy__(self) -> Self:
        # copy.copy (with_read_only) shares the state; only pickling starts afresh
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def __reduce__(
        self,
    ) -> tuple[object, tuple[type[LRUStoreCache], Store, int | None, MutableMapping[str, Any] | None]]:
        return _open_lru_store_cache, (type(self), self._store, self.max_size, self._state.values)

    def close(self) -> None:
        self.invalidate()
        super().close()

    # -- the cache, under the mutex ------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._store.closed:
            raise StoreClosedError(f"{self!r} is closed")

    def _whole(self, key: str) -> bytes | None:
        state = self._state
        if state.values is None:
            found: bytes | None = state.lru.get(("v", key))
            return found
        value = state.values.get(key)
        return None if value is None else bytes(value)

    def _lookup(self, key: str, byte_range: ByteRequest | None) -> Any:
        """The cached answer of a read (bytes or None), or _MISS; counts the hit or miss."""
        state = self._state
        with state.mutex:
            whole = self._whole(key)
            if whole is not None:
                state.hits += 1
                return apply_byte_range(whole, byte_range)
            if state.lru.get(("e", key)) is False:
                state.hits += 1
                return None
            if byte_range is not None:
                part = state.lru.get(("r", key, byte_range))
                if part is not None:
                    state.hits += 1
                    return part
            state.misses += 1
            return _MISS

    def _fits(self, nbytes: int) -> bool:
        return nbytes <= self._state.max_size

    def _remember(self, key: str, byte_range: ByteRequest | None, value: bytes | None, epoch: int) -> None:
        """Cache what a read fetched, unless a write happened since it started."""
        state = self._state
        with state.mutex:
            if state.epoch != epoch:
                return
            if value is None:
                state.lru[("e", key)] = False
            elif byte_range is None:
                self._put_value(key, value)
            elif self._fits(len(value)):
                state.lru[("r", key, byte_range)] = value
                state.ranges.setdefault(key, set()).add(byte_range)

    def _put_value(self, key: str, value: bytes) -> None:
        state = self._state
        if not self._fits(len(value)):
            state.lru[("e", key)] = True
            return
        state.lru.pop(("e", key), None)
        if state.values is None:
            state.lru[("v", key)] = value
        else:
            state.values[key] = value

    def _forget_value(self, key: str) -> bool:
        """Drop the value of ``key`` (whole and ranges); True when the key was known to exist."""
        state = self._state
        known = state.lru.pop(("e", key), None) is True
        if state.values is None:
            known = state.lru.pop(("v", key), None) is not None or known
        elif key in state.values:
            del state.values[key]
            known = True
        for rng in state.ranges.pop(key, ()):
            state.lru.pop(("r", key, rng), None)
        return known

    def _forget_listings(self) -> None:
        state = self._state
        for listing in state.listings:
            state.lru.pop(listing, None)
        state.listings.clear()

    def _after_set(self, key: str, value: bytes) -> None:
        state = self._state
        with state.mutex:
            state.epoch += 1
            if not self._forget_value(key):
                self._forget_listings()
            self._put_value(key, value)

    def _after_delete(self, key: str) -> None:
        state = self._state
        with state.mutex:
            state.epoch += 1
            self._forget_value(key)
            self._forget_listings()
            state.lru[("e", key)] = False

    def _exists_cached(self, key: str) -> bool | None:
        state = self._state
        with state.mutex:
            if self._whole(key) is not None:
                return True
            answer = state.lru.get(("e", key))
            return None if answer is None else bool(answer)

    def _remember_exists(self, key: str, answer: bool, epoch: int) -> None:
        with self._state.mutex:
            if self._state.epoch == epoch:
                self._state.lru[("e", key)] = answer

    def _listing(self, entry: _CacheKey) -> tuple[str, ...] | None:
        with self._state.mutex:
            found: tuple[str, ...] | None = self._state.lru.get(entry)
            return found

    def _remember_listing(self, entry: _CacheKey, names: tuple[str, ...], epoch: int) -> None:
        state = self._state
        with state.mutex:
            if state.epoch == epoch and _weight(names) <= state.max_size:
                state.lru[entry] = names
                state.listings.add(entry)

    async def _cache_call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a cache operation: inline for the in-memory LRU, in the worker pool for a ``cache=`` mapping."""
        if self._state.values is None:
            return fn(*args)
        return await run_blocking(fn, *args)

    # -- reading ---------------------------------------------------------------------------------------
    async def get(self, key: str, byte_range: ByteRequest | None = None) -> bytes | None:
        self._check_open()
        key, byte_range = validate_key(key), parse_byte_request(byte_range)
        found = await self._cache_call(self._lookup, key, byte_range)
        if found is not _MISS:
            return found  # type: ignore[no-any-return]
        epoch = self._state.epoch
        value = await self._store.get(key, byte_range)
        await self._cache_call(self._remember, key, byte_range, value, epoch)
        return value

    def get_sync(self, key: str, byte_range: ByteRequest | None = None) -> bytes | None:
        self._check_open()
        key, byte_range = validate_key(key), parse_byte_request(byte_range)
        found = self._lookup(key, byte_range)
        if found is not _MISS:
            return found  # type: ignore[no-any-return]
        epoch = self._state.epoch
        value = self._store.get_sync(key, byte_range)
        self._remember(key, byte_range, value, epoch)
        return value

    async def get_partial_values(
        self, key_ranges: Sequence[tuple[str, ByteRequest | None]]
    ) -> builtins.list[bytes | None]:
        self._check_open()
        checked = [(validate_key(key), parse_byte_request(rng)) for key, rng in key_ranges]
        results: builtins.list[Any] = [await self._cache_call(self._lookup, k, r) for k, r in checked]
        missing = [i for i, found in enumerate(results) if found is _MISS]
        if missing:
            epoch = self._state.epoch
            fetched = await self._store.get_partial_values([checked[i] for i in missing])
            for i, value in zip(missing, fetched, strict=True):
                results[i] = value
                await self._cache_call(self._remember, checked[i][0], checked[i][1], value, epoch)
        return results

    async def exists(self, key: str) -> bool:
        self._check_open()
        key = validate_key(key)
        known = await self._cache_call(self._exists_cached, key)
        if known is not None:
            return known
        epoch = self._state.epoch
        answer = await self._store.exists(key)
        self._remember_exists(key, answer, epoch)
        return answer

    def exists_sync(self, key: str) -> bool:
        self._check_open()
        key = validate_key(key)
        known = self._exists_cached(key)
        if known is not None:
            return known
        epoch = self._state.epoch
        answer = self._store.exists_sync(key)
        self._remember_exists(key, answer, epoch)
        return answer

    async def getsize(self, key: str) -> int:
        self._check_open()
        key = validate_key(key)
        with self._state.mutex:
            whole = self._whole(key) if self._state.values is None else None
        if whole is not None:
            return len(whole)
        return await self._store.getsize(key)

    async def _cached_names(
        self, entry: _CacheKey, source: Callable[[], AsyncIterator[str]]
    ) -> AsyncIterator[str]:
        names = self._listing(entry)
        if names is None:
            epoch = self._state.epoch
            names = tuple([name async for name in source()])
            self._remember_listing(entry, names, epoch)
        for name in names:
            yield name

    def list(self) -> AsyncIterator[str]:
        self._check_open()
        return self._cached_names(("l", "list", ""), self._store.list)

    def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        self._check_open()
        if not isinstance(prefix, str):
            raise TypeError(f"store prefixes must be str, got {type(prefix).__name__}")
        if prefix:
            validate_prefix(prefix)
        return self._cached_names(("l", "prefix", prefix), lambda: self._store.list_prefix(prefix))

    def list_dir(self, prefix: str) -> AsyncIterator[str]:
        self._check_open()
        norm = validate_prefix(prefix)
        return self._cached_names(("l", "dir", norm), lambda: self._store.list_dir(norm))

    def list_prefix_sync(self, prefix: str) -> builtins.list[str]:
        self._check_open()
        if prefix:
            validate_prefix(prefix)
        entry = ("l", "prefix", prefix)
        names = self._listing(entry)
        if names is None:
            epoch = self._state.epoch
            names = tuple(self._store.list_prefix_sync(prefix))
            self._remember_listing(entry, names, epoch)
        return builtins.list(names)

    # -- writing ---------------------------------------------------------------------------------------
    async def set(self, key: str, value: BufferLike) -> None:
        data = to_bytes(value)
        await self._store.set(key, data)
        await self._cache_call(self._after_set, key, data)

    def set_sync(self, key: str, value: BufferLike) -> None:
        data = to_bytes(value)
        self._store.set_sync(key, data)
        self._after_set(key, data)

    async def delete(self, key: str) -> None:
        await self._store.delete(key)
        await self._cache_call(self._after_delete, key)

    def delete_sync(self, key: str) -> None:
        self._store.delete_sync(key)
        self._after_delete(key)

    async def _then_invalidate(self, work: Awaitable[None]) -> None:
        try:
            await work
        finally:
            await self._cache_call(self.invalidate)

    async def set_partial_values(self, key_start_values: Iterable[tuple[str, int, BufferLike]]) -> None:
        await self._then_invalidate(self._store.set_partial_values(key_start_values))

    async def delete_dir(self, prefix: str) -> None:
        await self._then_invalidate(self._store.delete_dir(prefix))

    async def clear(self) -> None:
        await self._then_invalidate(self._store.clear())

    async def rename(self, src: str, dst: str) -> None:
        await self._then_invalidate(self._store.rename(src, dst))

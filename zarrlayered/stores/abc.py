"""The async Store ABC of the Zarr V3 spec: a key-value store of bytes with byte-range reads.

Every store speaks bytes and byte ranges, nothing else. The public methods validate keys and refuse
writes to read-only stores, then call the ``_``-prefixed methods a concrete store implements.

Stores whose backend answers synchronously (memory, local files, mappings) derive from
:class:`SyncStore`: they implement ``_get_sync`` and friends once, the async methods are derived from
them (run in the shared worker pool under the global concurrency limit when ``blocking`` is true), and
the engine may call the ``*_sync`` methods directly from synchronous callers, skipping the event loop.
"""

from __future__ import annotations

import asyncio
import builtins
import copy
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Self, TypeAlias

from zarrlayered.core.sync import run_blocking
from zarrlayered.errors import ReadOnlyError, StoreClosedError, UnsafeKeyError

__all__ = [
    "BufferLike",
    "ByteRequest",
    "OffsetByteRequest",
    "RangeByteRequest",
    "Store",
    "SuffixByteRequest",
    "SyncStore",
    "apply_byte_range",
    "parse_byte_request",
    "to_bytes",
    "validate_key",
    "validate_prefix",
]

logger = logging.getLogger("zarrlayered.store")


@dataclass(frozen=True, slots=True)
class RangeByteRequest:
    """Bytes ``start`` (inclusive) to ``end`` (exclusive) of a value."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if isinstance(self.start, bool) or not isinstance(self.start, int) or self.start < 0:
            raise ValueError(f"RangeByteRequest start must be a non-negative int, got {self.start!r}")
        if isinstance(self.end, bool) or not isinstance(self.end, int) or self.end < self.start:
            raise ValueError(f"RangeByteRequest end must be an int >= start ({self.start}), got {self.end!r}")


@dataclass(frozen=True, slots=True)
class OffsetByteRequest:
    """All bytes of a value from ``offset`` on."""

    offset: int

    def __post_init__(self) -> None:
        if isinstance(self.offset, bool) or not isinstance(self.offset, int) or self.offset < 0:
            raise ValueError(f"OffsetByteRequest offset must be a non-negative int, got {self.offset!r}")


@dataclass(frozen=True, slots=True)
class SuffixByteRequest:
    """The last ``suffix`` bytes of a value (all of it when shorter)."""

    suffix: int

    def __post_init__(self) -> None:
        if isinstance(self.suffix, bool) or not isinstance(self.suffix, int) or self.suffix < 0:
            raise ValueError(f"SuffixByteRequest suffix must be a non-negative int, got {self.suffix!r}")


ByteRequest: TypeAlias = RangeByteRequest | OffsetByteRequest | SuffixByteRequest
#: What ``set`` accepts: anything exposing the buffer protocol (bytes, bytearray, memoryview, numpy arrays).
BufferLike: TypeAlias = bytes | bytearray | memoryview | Any


def parse_byte_request(value: object) -> ByteRequest | None:
    """Return ``value`` if it is a ByteRequest or None, else raise a TypeError naming it."""
    if value is None or isinstance(value, RangeByteRequest | OffsetByteRequest | SuffixByteRequest):
        return value
    raise TypeError(
        "byte_range must be None, RangeByteRequest, OffsetByteRequest or SuffixByteRequest, "
        f"got {type(value).__name__}: {value!r}"
    )


def apply_byte_range(value: bytes, byte_range: ByteRequest | None) -> bytes:
    """Cut ``byte_range`` out of a whole value (ranges past the end are clipped, like HTTP)."""
    if byte_range is None:
        return value
    if isinstance(byte_range, RangeByteRequest):
        return value[byte_range.start : byte_range.end]
    if isinstance(byte_range, OffsetByteRequest):
        return value[byte_range.offset :]
    if byte_range.suffix == 0:
        return b""
    return value[-byte_range.suffix :]


def to_bytes(value: BufferLike) -> bytes:
    """Return the bytes of any buffer (bytes, bytearray, memoryview, a contiguous numpy array)."""
    if type(value) is bytes:
        return value
    if isinstance(value, str):
        raise TypeError("store values must be bytes-like, got str; encode it first")
    try:
        view = memoryview(value)
    except TypeError:
        raise TypeError(f"store values must be bytes-like, got {type(value).__name__}") from None
    if not view.contiguous:
        raise ValueError("store values must be contiguous buffers")
    return view.tobytes(order="A")  # an F-ordered array keeps its memory order


def _unsafe(key: str, why: str) -> UnsafeKeyError:
    return UnsafeKeyError(f"unsafe store key {key!r}: {why}")


def validate_key(key: object) -> str:
    """Return ``key`` if it is a safe store key, else raise :class:`UnsafeKeyError` naming the problem.

    A key is a non-empty ``/``-separated path with no empty, ``.`` or ``..`` segments, no leading or
    trailing ``/``, no backslash and no NUL, so it can never name anything outside the store.
    """
    if not isinstance(key, str):
        raise TypeError(f"store keys must be str, got {type(key).__name__}: {key!r}")
    if not key:
        raise _unsafe(key, "empty key")
    if "\x00" in key:
        raise _unsafe(key, "contains NUL")
    if "\\" in key:
        raise _unsafe(key, "contains a backslash")
    if key[0] == "/":
        raise _unsafe(key, "absolute path")
    if key[-1] == "/" or "//" in key:
        raise _unsafe(key, "empty path segment")
    if "." in key:
        wrapped = f"/{key}/"
        if "/../" in wrapped:
            raise _unsafe(key, "'..' segment")
        if "/./" in wrapped:
            raise _unsafe(key, "'.' segment")
    return key


def validate_prefix(prefix: object) -> str:
    """Validate a listing prefix and return it without a trailing ``/`` ("" means the whole store)."""
    if not isinstance(prefix, str):
        raise TypeError(f"store prefixes must be str, got {type(prefix).__name__}: {prefix!r}")
    stripped = prefix[:-1] if prefix.endswith("/") else prefix
    if stripped:
        validate_key(stripped)
    return stripped


class Store(ABC):
    """An asynchronous key-value store of bytes, as the Zarr V3 spec defines it.

    Parameters
    ----------
    read_only
        Refuse every write and delete with :class:`~zarrlayered.errors.ReadOnlyError`.
    """

    supports_writes: ClassVar[bool] = True
    supports_deletes: ClassVar[bool] = True
    supports_partial_writes: ClassVar[bool] = False
    supports_listing: ClassVar[bool] = True
    #: True when the store offers the ``*_sync`` fast path (see :class:`SyncStore`).
    supports_sync: ClassVar[bool] = False

    def __init__(self, *, read_only: bool = False) -> None:
        self._read_only = bool(read_only)
        self._closed = False

    # -- state ---------------------------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        """True when writes and deletes are refused."""
        return self._read_only

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._closed

    def with_read_only(self, read_only: bool = True) -> Self:
        """Return a view of the same data with the given read-only flag."""
        clone = copy.copy(self)
        clone._read_only = bool(read_only)
        return clone

    def close(self) -> None:
        """Release what the store holds; later operations raise :class:`StoreClosedError`."""
        self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError(f"{self!r} is closed")

    def _check_writable(self, key: str) -> None:
        if self._closed:
            raise StoreClosedError(f"{self!r} is closed")
        if self._read_only:
            raise ReadOnlyError(f"cannot write {key!r}: {self!r} is read-only")

    # -- reading -------------------------------------------------------------------------------
    async def get(self, key: str, byte_range: ByteRequest | None = None) -> bytes | None:
        """Return the value of ``key`` (or the requested part of it), or None if the key is missing."""
        self._check_open()
        return await self._get(validate_key(key), parse_byte_request(byte_range))

    async def get_partial_values(
        self, key_ranges: Sequence[tuple[str, ByteRequest | None]]
    ) -> builtins.list[bytes | None]:
        """Fetch many (key, byte range) pairs concurrently; missing keys give None."""
        self._check_open()
        checked = [(validate_key(key), parse_byte_request(rng)) for key, rng in key_ranges]
        return await self._get_partial_values(checked)

    async def exists(self, key: str) -> bool:
        """True when ``key`` holds a value."""
        self._check_open()
        return await self._exists(validate_key(key))

    async def getsize(self, key: str) -> int:
        """The size of the value of ``key`` in bytes; FileNotFoundError when it is missing."""
        self._check_open()
        return await self._getsize(validate_key(key))

    async def getsize_prefix(self, prefix: str) -> int:
        """The total size of all values under ``prefix``."""
        keys = [key async for key in self.list_prefix(prefix)]
        sizes = await asyncio.gather(*(self.getsize(key) for key in keys))
        return sum(sizes)

    def list(self) -> AsyncIterator[str]:
        """Every key in the store."""
        self._check_open()
        return self._list()

    def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        """Every key that starts with ``prefix`` (a ``/``-ended path, or "" for all)."""
        self._check_open()
        if not isinstance(prefix, str):
            raise TypeError(f"store prefixes must be str, got {type(prefix).__name__}")
        if prefix:
            validate_prefix(prefix)
        return self._list_prefix(prefix)

    def list_dir(self, prefix: str) -> AsyncIterator[str]:
        """The immediate children (keys and sub-prefixes, names only) under ``prefix``."""
        self._check_open()
        return self._list_dir(validate_prefix(prefix))

    async def is_empty(self, prefix: str = "") -> bool:
        """True when no key lies under ``prefix``."""
        norm = validate_prefix(prefix)
        async for _ in self.list_prefix(f"{norm}/" if norm else ""):
            return False
        return True

    # -- writing -------------------------------------------------------------------------------
    async def set(self, key: str, value: BufferLike) -> None:
        """Store ``value`` (any bytes-like object) under ``key``."""
        self._check_writable(key)
        await self._set(validate_key(key), to_bytes(value))

    async def set_if_not_exists(self, key: str, value: BufferLike) -> None:
        """Store ``value`` under ``key`` unless the key already holds a value."""
        self._check_writable(key)
        if not await self.exists(key):
            await self.set(key, value)

    async def set_partial_values(self, key_start_values: Iterable[tuple[str, int, BufferLike]]) -> None:
        """Overwrite parts of values in place, where the store supports it."""
        if not self.supports_partial_writes:
            raise NotImplementedError(f"{type(self).__name__} does not support partial writes")
        items = [(validate_key(key), int(start), to_bytes(value)) for key, start, value in key_start_values]
        for key, _, _ in items:
            self._check_writable(key)
        await self._set_partial_values(items)

    async def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""
        self._check_writable(key)
        if not self.supports_deletes:
            raise NotImplementedError(f"{type(self).__name__} does not support deletes")
        await self._delete(validate_key(key))

    async def delete_dir(self, prefix: str) -> None:
        """Remove every key under ``prefix``."""
        norm = validate_prefix(prefix)
        self._check_writable(norm or "/")
        keys = [key async for key in self.list_prefix(f"{norm}/" if norm else "")]
        await asyncio.gather(*(self.delete(key) for key in keys))

    async def clear(self) -> None:
        """Remove every key."""
        await self.delete_dir("")

    async def rename(self, src: str, dst: str) -> None:
        """Move the value (or every key under the prefix) ``src`` to ``dst``."""
        self._check_writable(dst)
        await self._rename(validate_prefix(src), validate_prefix(dst))

    # -- what a concrete store implements --------------------------------------------------------
    @abstractmethod
    async def _get(self, key: str, byte_range: ByteRequest | None) -> bytes | None: ...

    async def _get_partial_values(
        self, key_ranges: builtins.list[tuple[str, ByteRequest | None]]
    ) -> builtins.list[bytes | None]:
        return list(await asyncio.gather(*(self._get(key, rng) for key, rng in key_ranges)))

    async def _exists(self, key: str) -> bool:
        return await self._get(key, RangeByteRequest(0, 0)) is not None

    async def _getsize(self, key: str) -> int:
        value = await self._get(key, None)
        if value is None:
            raise FileNotFoundError(f"no value stored at {key!r} in {self!r}")
        return len(value)

    @abstractmethod
    def _list(self) -> AsyncIterator[str]: ...

    async def _list_prefix(self, prefix: str) -> AsyncIterator[str]:
        async for key in self._list():
            if key.startswith(prefix):
                yield key

    async def _list_dir(self, prefix: str) -> AsyncIterator[str]:
        start = f"{prefix}/" if prefix else ""
        seen: set[str] = set()
        async for key in self._list_prefix(start):
            child = key[len(start) :].split("/", 1)[0]
            if child not in seen:
                seen.add(child)
                yield child

    @abstractmethod
    async def _set(self, key: str, value: bytes) -> None: ...

    async def _set_partial_values(self, items: builtins.list[tuple[str, int, bytes]]) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not support partial writes")

    @abstractmethod
    async def _delete(self, key: str) -> None: ...

    async def _rename(self, src: str, dst: str) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not support rename")

    # -- the synchronous fast path ---------------------------------------------------------------
    def get_sync(self, key: str, byte_range: ByteRequest | None = None) -> bytes | None:
        """Synchronous :meth:`get`, for stores with ``supports_sync``."""
        raise NotImplementedError(f"{type(self).__name__} has no synchronous path")

    def set_sync(self, key: str, value: BufferLike) -> None:
        """Synchronous :meth:`set`, for stores with ``supports_sync``."""
        raise NotImplementedError(f"{type(self).__name__} has no synchronous path")

    def exists_sync(self, key: str) -> bool:
        """Synchronous :meth:`exists`, for stores with ``supports_sync``."""
        raise NotImplementedError(f"{type(self).__name__} has no synchronous path")

    def delete_sync(self, key: str) -> None:
        """Synchronous :meth:`delete`, for stores with ``supports_sync``."""
        raise NotImplementedError(f"{type(self).__name__} has no synchronous path")

    def list_prefix_sync(self, prefix: str) -> builtins.list[str]:
        """Synchronous :meth:`list_prefix`, for stores with ``supports_sync``."""
        raise NotImplementedError(f"{type(self).__name__} has no synchronous path")

    def __repr__(self) -> str:
        flag = ", read_only=True" if self._read_only else ""
        return f"{type(self).__name__}({self._describe()}{flag})"

    def _describe(self) -> str:
        return ""

    def __str__(self) -> str:
        """Where the store is, as a URL (``file:///data/x.zarr``, ``memory://<id>``, ``s3://bucket/x``), as
        zarr-python 3 prints stores; :class:`~zarrlayered.Array` and :class:`~zarrlayered.Group` reprs use it."""
        return self._url()

    def _url(self) -> str:
        return f"{type(self).__name__.lower()}://{id(self)}"


class SyncStore(Store):
    """A store whose backend answers synchronously.

    A subclass implements ``_get_sync``, ``_set_sync``, ``_delete_sync``, ``_list_sync`` (and may
    override ``_exists_sync``, ``_getsize_sync``, ``_list_prefix_sync``, ``_rename_sync``). The async
    methods are derived: inline when the backend never blocks (``blocking = False``, e.g. a dict), or in
    the shared worker pool under the global concurrency limit when it may (files, databases).
    """

    supports_sync: ClassVar[bool] = True
    #: Whether backend calls may block (disk, network, locks); such calls leave the event loop.
    blocking: ClassVar[bool] = True

    # -- to implement ----------------------------------------------------------------------------
    @abstractmethod
    def _get_sync(self, key: str, byte_range: ByteRequest | None) -> bytes | None: ...

    @abstractmethod
    def _set_sync(self, key: str, value: bytes) -> None: ...

    @abstractmethod
    def _delete_sync(self, key: str) -> None: ...

    @abstractmethod
    def _list_sync(self) -> builtins.list[str]: ...

    def _exists_sync(self, key: str) -> bool:
        return self._get_sync(key, RangeByteRequest(0, 0)) is not None

    def _getsize_sync(self, key: str) -> int:
        value = self._get_sync(key, None)
        if value is None:
            raise FileNotFoundError(f"no value stored at {key!r} in {self!r}")
        return len(value)

    def _list_prefix_sync(self, prefix: str) -> builtins.list[str]:
        return [key for key in self._list_sync() if key.startswith(prefix)]

    def _list_dir_sync(self, prefix: str) -> builtins.list[str]:
        start = f"{prefix}/" if prefix else ""
        children = dict.fromkeys(key[len(start) :].split("/", 1)[0] for key in self._list_prefix_sync(start))
        return list(children)

    def _rename_sync(self, src: str, dst: str) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not support rename")

    # -- the public synchronous path -------------------------------------------------------------
    def get_sync(self, key: str, byte_range: ByteRequest | None = None) -> bytes | None:
        """Synchronous :meth:`get`."""
        self._check_open()
        return self._get_sync(validate_key(key), parse_byte_request(byte_range))

    def set_sync(self, key: str, value: BufferLike) -> None:
        """Synchronous :meth:`set`."""
        self._check_writable(key)
        self._set_sync(validate_key(key), to_bytes(value))

    def exists_sync(self, key: str) -> bool:
        """Synchronous :meth:`exists`."""
        self._check_open()
        return self._exists_sync(validate_key(key))

    def delete_sync(self, key: str) -> None:
        """Synchronous :meth:`delete`."""
        self._check_writable(key)
        self._delete_sync(validate_key(key))

    def list_prefix_sync(self, prefix: str) -> builtins.list[str]:
        """Synchronous :meth:`list_prefix`."""
        self._check_open()
        if prefix:
            validate_prefix(prefix)
        return self._list_prefix_sync(prefix)

    # -- the async methods, derived ----------------------------------------------------------------
    async def _call(self, fn: Any, *args: Any) -> Any:
        if self.blocking:
            return await run_blocking(fn, *args)
        return fn(*args)

    async def _get(self, key: str, byte_range: ByteRequest | None) -> bytes | None:
        result: bytes | None = await self._call(self._get_sync, key, byte_range)
        return result

    async def _exists(self, key: str) -> bool:
        return bool(await self._call(self._exists_sync, key))

    async def _getsize(self, key: str) -> int:
        return int(await self._call(self._getsize_sync, key))

    async def _set(self, key: str, value: bytes) -> None:
        await self._call(self._set_sync, key, value)

    async def _delete(self, key: str) -> None:
        await self._call(self._delete_sync, key)

    async def _rename(self, src: str, dst: str) -> None:
        await self._call(self._rename_sync, src, dst)

    async def _list(self) -> AsyncIterator[str]:
        for key in await self._call(self._list_sync):
            yield key

    async def _list_prefix(self, prefix: str) -> AsyncIterator[str]:
        for key in await self._call(self._list_prefix_sync, prefix):
            yield key

    async def _list_dir(self, prefix: str) -> AsyncIterator[str]:
        for key in await self._call(self._list_dir_sync, prefix):
            yield key

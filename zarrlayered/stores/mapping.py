"""MappingStore: any ``str -> bytes`` MutableMapping (a zarr-python 2 store, shelve, dbm, zict, ...) as a Store.

Everything zarr-python 2 accepted as a store keeps working: a plain dict, zarr 2's own store objects
(``DirectoryStore``, ``ZipStore``, ``LMDBStore``, ``SQLiteStore``, ``DBMStore``, ``LRUStoreCache``, ...),
fsspec's ``FSMap``, zict mappings, ``shelve`` and ``dbm`` databases, or a class of your own that has only
``__getitem__``, ``__setitem__``, ``__delitem__`` and ``__iter__``.

Blocking calls
    A mapping may block (disk, database, network), so :class:`MappingStore` is a
    :class:`~zarrlayered.stores.abc.SyncStore` with ``blocking = True``: async calls run in the shared
    worker pool under the one global concurrency limit and never stall the event loop, and the engine's
    synchronous path calls the mapping directly.
Thread safety
    The worker pool calls the mapping from several threads at once. Mappings known to be safe for that
    are called without a lock: an exact ``dict``, fsspec's ``FSMap``, and the zarr-python 2 stores that
    are safe to read and write from several threads (directory, nested directory, temp, N5, FS, zip,
    memory, LMDB and ABS stores; a ``KVStore`` or ``LRUStoreCache`` is as safe as what it wraps). Every
    other mapping is called under a lock shared by every MappingStore over that same object: shelve,
    dbm, zict, your own class, a subclass of any of the above, and zarr 2's ``SQLiteStore`` and
    ``DBMStore`` (they lock writes only: SQLiteStore reads through one shared cursor, which crashes the
    interpreter when two threads read at once). Pass ``thread_safe=`` to decide yourself.
Optional methods
    ``listdir``, ``getsize``, ``rename`` and ``rmdir`` are used when the mapping has them (zarr 2 stores
    do) and emulated from the keys when it does not.
"""

from __future__ import annotations

import builtins
import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

from numcodecs.compat import ensure_bytes

from zarrlayered.stores.abc import ByteRequest, SyncStore, apply_byte_range, validate_key, validate_prefix

__all__ = ["MappingLike", "MappingStore", "is_mapping_like", "is_thread_safe"]

logger = logging.getLogger("zarrlayered.store")


@runtime_checkable
class MappingLike(Protocol):
    """What a mapping needs for :class:`MappingStore`: item access, assignment, deletion and key iteration."""

    def __getitem__(self, key: str, /) -> Any: ...

    def __setitem__(self, key: str, value: Any, /) -> None: ...

    def __delitem__(self, key: str, /) -> None: ...


_NOT_MAPPINGS = (str, bytes, bytearray, memoryview, list, tuple)


def is_mapping_like(obj: object) -> bool:
    """True when ``obj`` can back a :class:`MappingStore`.

    It needs ``__getitem__``, ``__setitem__`` and ``__delitem__`` and a way to list its keys (``__iter__``
    or ``keys``); sequences and arrays, which have the same methods over integer indices, are not mappings.
    """
    if isinstance(obj, _NOT_MAPPINGS) or hasattr(obj, "__array__") or hasattr(obj, "__array_interface__"):
        return False
    kind = type(obj)
    if not all(callable(getattr(kind, name, None)) for name in ("__getitem__", "__setitem__", "__delitem__")):
        return False
    return callable(getattr(kind, "__iter__", None)) or callable(getattr(obj, "keys", None))


#: zarr-python 2 store classes safe to read and write from several threads at once.
_ZARR2_SAFE = frozenset(
    {
        "DirectoryStore",
        "NestedDirectoryStore",
        "TempStore",
        "N5Store",
        "N5FSStore",
        "FSStore",
        "ZipStore",
        "MemoryStore",
        "LMDBStore",
        "ABSStore",
        "ConsolidatedMetadataStore",
    }
)


def is_thread_safe(mapping: object) -> bool:
    """Whether ``mapping`` may be called from several threads at once without a lock (decided by its type).

    True for an exact ``dict``, fsspec's ``FSMap`` and the zarr-python 2 stores that are (a ``KVStore`` or
    ``LRUStoreCache`` when what it wraps is); False for anything else, including subclasses, whose overrides
    nobody vetted, and zarr 2's SQLiteStore and DBMStore, which lock their writes but not their reads.
    """
    kind = type(mapping)
    if kind is dict:
        return True
    module, name = kind.__module__, kind.__name__
    if module == "fsspec.mapping" and name == "FSMap":
        return True
    if not (module == "zarr" or module.startswith("zarr.")):
        return False
    if name in _ZARR2_SAFE:
        return True
    if name == "KVStore":
        return is_thread_safe(getattr(mapping, "_mutable_mapping", None))
    if name == "LRUStoreCache":
        return is_thread_safe(getattr(mapping, "_store", None))
    return False


# One lock per mapping object, shared by every MappingStore over it (and by with_read_only views).
_locks: dict[int, threading.RLock] = {}
_locks_guard = threading.Lock()


def _lock_of(mapping: object) -> threading.RLock:
    key = id(mapping)
    with _locks_guard:
        lock = _locks.get(key)
        if lock is None:
            lock = _locks[key] = threading.RLock()
            try:
                weakref.finalize(mapping, _forget_lock, key)
            except TypeError:  # not weak-referenceable: the entry stays (a lock is small)
                pass
    return lock


def _forget_lock(key: int) -> None:
    with _locks_guard:
        _locks.pop(key, None)


def _as_key(raw: object) -> str | None:
    """A listed key as a store key (dbm lists bytes), or None when it is not one a store could hold."""
    key = raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw
    if not isinstance(key, str):
        return None
    try:
        return validate_key(key)
    except ValueError:
        logger.debug("MappingStore: skipping key %r, which is not a valid store key", key)
        return None


def _value_bytes(value: object) -> bytes:
    """A mapping's value as bytes: zarr 2 stores may hand back memoryviews, bytearrays or numpy arrays.

    An array's bytes are taken in its own memory order (an F-ordered chunk stays F-ordered), as zarr 2 does.
    """
    if type(value) is bytes:
        return value
    if isinstance(value, str):
        raise TypeError(f"MappingStore: the mapping returned str, not bytes: {value[:40]!r}")
    result: bytes = ensure_bytes(value)
    return result


# zarr 2 stores whose getsize() is not the length of one value (ZipStore: compressed size; SQLiteStore:
# a LIKE match that also counts other keys; LRUStoreCache delegates to either).
_INEXACT_GETSIZE = frozenset({"ZipStore", "SQLiteStore", "LRUStoreCache", "ConsolidatedMetadataStore"})


def _open_mapping_store(cls: type[MappingStore], mapping: Any, read_only: bool, thread_safe: bool) -> MappingStore:
    """Unpickle a :class:`MappingStore`: a new store over the unpickled mapping."""
    return cls(mapping, read_only=read_only, thread_safe=thread_safe)


class MappingStore(SyncStore):
    """A :class:`~zarrlayered.stores.abc.Store` over any mapping of ``str`` keys to bytes.

    Parameters
    ----------
    mapping
        The mapping: a dict, a zarr-python 2 store, fsspec's FSMap, a zict mapping, a shelf, a dbm
        database, or any object with ``__getitem__``, ``__setitem__``, ``__delitem__`` and ``__iter__``
        (or ``keys``). Missing keys must raise KeyError. Values may come back as any bytes-like object.
    read_only
        Refuse writes and deletes.
    thread_safe
        Whether the mapping may be called from several threads at once; None decides by its type
        (see :func:`is_thread_safe`). An unsafe mapping is called under a lock.

    Notes
    -----
    Closing the store does not close the mapping: whoever opened it (a zarr 2 ``ZipStore``, a shelf)
    closes it, as with zarr-python 2.

    A MappingStore pickles as its mapping (and flags), so it pickles when the mapping does: fsspec's
    ``FSMap`` pickles as its filesystem and root (no data), a ``dict`` as a copy of its values.

    Examples
    --------
    >>> import zarrlayered as zarr
    >>> backing = {}
    >>> store = MappingStore(backing)
    >>> a = zarr.create_array(store, shape=(4,), chunks=(2,), dtype="i2", zarr_format=2)
    >>> sorted(backing)
    ['.zarray', '.zattrs']
    """

    blocking: ClassVar[bool] = True

    def __init__(self, mapping: Any, *, read_only: bool = False, thread_safe: bool | None = None) -> None:
        if isinstance(mapping, MappingStore):
            mapping = mapping.mapping
        if not is_mapping_like(mapping):
            raise TypeError(
                "MappingStore needs a mapping with __getitem__, __setitem__, __delitem__ and __iter__ (or keys), "
                f"got {type(mapping).__name__}: {mapping!r}"
            )
        super().__init__(read_only=read_only)
        self._mapping = mapping
        self._thread_safe = is_thread_safe(mapping) if thread_safe is None else bool(thread_safe)
        self._lock: AbstractContextManager[Any] = nullcontext() if self._thread_safe else _lock_of(mapping)
        #: A plain dict never blocks: its calls run inline, without a hop to the worker pool.
        self._inline = type(mapping) is dict and self._thread_safe
        kind = type(mapping)
        zarr2 = kind.__module__ == "zarr" or kind.__module__.startswith("zarr.")
        self._fn_listdir: Callable[[str], Any] | None = self._method("listdir")
        self._fn_getsize: Callable[[str], Any] | None = (
            None if zarr2 and kind.__name__ in _INEXACT_GETSIZE else self._method("getsize")
        )
        self._fn_rename: Callable[[str, str], Any] | None = self._method("rename")
        self._fn_rmdir: Callable[[str], Any] | None = self._method("rmdir")
        self._fn_contains: Callable[[str], bool] | None = (
            mapping.__contains__ if callable(getattr(kind, "__contains__", None)) else None
        )

    def __copy__(self) -> Self:
        # copy.copy (with_read_only) shares the state; only pickling starts afresh
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def __reduce__(self) -> tuple[object, tuple[type[MappingStore], Any, bool, bool]]:
        return _open_mapping_store, (type(self), self._mapping, self.read_only, self._thread_safe)

    def _method(self, name: str) -> Any:
        found = getattr(self._mapping, name, None)
        return found if callable(found) else None

    @property
    def mapping(self) -> Any:
        """The wrapped mapping."""
        return self._mapping

    @property
    def thread_safe(self) -> bool:
        """False when calls to the mapping are serialized by a lock."""
        return self._thread_safe

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, MappingStore)
            and other._mapping is self._mapping
            and other.read_only == self.read_only
        )

    def __hash__(self) -> int:
        return hash((MappingStore, id(self._mapping)))

    def _url(self) -> str:
        return f"mapping://{id(self._mapping)}"

    def _describe(self) -> str:
        return f"{type(self._mapping).__module__}.{type(self._mapping).__name__} at {id(self._mapping):#x}"

    async def _call(self, fn: Any, *args: Any) -> Any:
        if self._inline:
            return fn(*args)
        return await super()._call(fn, *args)

    # -- the mapping's keys ----------------------------------------------------------------------
    def _raw_keys(self) -> Iterator[object]:
        mapping = self._mapping
        if callable(getattr(type(mapping), "__iter__", None)):
            try:
                return iter(list(mapping))
            except TypeError:  # dbm.gnu and dbm.ndbm objects define no iteration, only keys()
                pass
        return iter(list(mapping.keys()))

    def _keys(self) -> builtins.list[str]:
        with self._lock:
            raw = builtins.list(self._raw_keys())
        return [key for key in map(_as_key, raw) if key is not None]

    # -- SyncStore -----------------------------------------------------------------------------------
    def _lookup(self, key: str) -> bytes | None:
        try:
            with self._lock:
                value = self._mapping[key]
        except KeyError:
            return None
        return _value_bytes(value)

    def _get_sync(self, key: str, byte_range: ByteRequest | None) -> bytes | None:
        value = self._lookup(key)
        if value is None or byte_range is None:
            return value
        return apply_byte_range(value, byte_range)

    def _exists_sync(self, key: str) -> bool:
        if self._fn_contains is None:
            return self._lookup(key) is not None
        with self._lock:
            return bool(self._fn_contains(key))

    def _getsize_sync(self, key: str) -> int:
        if self._fn_getsize is None or not self._exists_sync(key):
            return super()._getsize_sync(key)
        with self._lock:
            return int(self._fn_getsize(key))

    def _set_sync(self, key: str, value: bytes) -> None:
        with self._lock:
            self._mapping[key] = value

    def _delete_sync(self, key: str) -> None:
        try:
            with self._lock:
                del self._mapping[key]
        except KeyError:
            pass

    def _list_sync(self) -> builtins.list[str]:
        return self._keys()

    def _list_dir_sync(self, prefix: str) -> builtins.list[str]:
        if self._fn_listdir is None:
            return super()._list_dir_sync(prefix)
        with self._lock:
            names = self._fn_listdir(prefix)
        # zarr 2's nested stores list the chunks of an array as "0/0", "0/1": keep the first segment.
        children = dict.fromkeys(str(name).split("/", 1)[0] for name in names)
        children.pop("", None)
        return builtins.list(children)

    def _rename_sync(self, src: str, dst: str) -> None:
        if self._fn_rename is not None:
            if not (self._exists_sync(src) or self._list_prefix_sync(f"{src}/")):
                raise FileNotFoundError(f"nothing stored at {src!r} in {self!r}")
            with self._lock:
                self._fn_rename(src, dst)
            return
        if self._exists_sync(src):
            value = self._lookup(src)
            assert value is not None
            self._set_sync(dst, value)
            self._delete_sync(src)
            return
        moved = self._list_prefix_sync(f"{src}/")
        if not moved:
            raise FileNotFoundError(f"nothing stored at {src!r} in {self!r}")
        for key in moved:
            value = self._lookup(key)
            if value is not None:
                self._set_sync(dst + key[len(src) :], value)
                self._delete_sync(key)

    def _delete_dir_sync(self, prefix: str) -> None:
        if self._fn_rmdir is not None:
            with self._lock:
                self._fn_rmdir(prefix)
            return
        for key in self._list_prefix_sync(f"{prefix}/" if prefix else ""):
            self._delete_sync(key)

    async def delete_dir(self, prefix: str) -> None:
        """Remove every key under ``prefix`` (through the mapping's ``rmdir`` when it has one)."""
        norm = validate_prefix(prefix)
        self._check_writable(norm or "/")
        await self._call(self._delete_dir_sync, norm)

    def delete_dir_sync(self, prefix: str) -> None:
        """Synchronous :meth:`delete_dir`."""
        norm = validate_prefix(prefix)
        self._check_writable(norm or "/")
        self._delete_dir_sync(norm)

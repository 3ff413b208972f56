"""StoreMapping: any zarrlayered store as a synchronous ``MutableMapping[str, bytes]``.

The other direction of :class:`~zarrlayered.stores.mapping.MappingStore`: legacy code written against
mappings — and zarr-python 2 itself — can read and write our stores (local directories, zip archives,
fsspec/S3, memory, LRU caches, ...) as if they were dicts::

    import zarr  # zarr-python 2
    from zarrlayered.compat.mapping import StoreMapping
    from zarrlayered.stores import FsspecStore

    z = zarr.open_array(StoreMapping(FsspecStore.from_url("s3://bucket/data.zarr")), mode="r")

Calls take the store's synchronous path when it has one (memory, local files, zip, mappings) and go
through :func:`zarrlayered.core.sync.sync` otherwise. Besides the mapping methods, the zarr-python 2 store
methods ``listdir``, ``getsize``, ``rmdir``, ``rename`` and ``close`` are offered, so zarr 2 uses them
instead of scanning every key.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

from numcodecs.compat import ensure_bytes

from zarrlayered.core.sync import sync, sync_iter
from zarrlayered.stores.abc import Store, validate_key, validate_prefix
from zarrlayered.stores.make import make_store

__all__ = ["StoreMapping"]


def _key(key: object) -> str | None:
    """``key`` as a valid store key, or None (a mapping answers KeyError/False for what it cannot hold)."""
    try:
        return validate_key(key)
    except (TypeError, ValueError):
        return None


def _path(path: str | None) -> str:
    """A zarr-python 2 storage path ("" or None for the root; leading and trailing slashes ignored)."""
    return validate_prefix((path or "").strip("/"))


class StoreMapping(MutableMapping[str, bytes]):
    """A synchronous MutableMapping view of a store.

    Parameters
    ----------
    store
        A :class:`~zarrlayered.stores.abc.Store`, or anything :func:`~zarrlayered.stores.make_store`
        accepts (a path, a URL, ...).

    Examples
    --------
    >>> from zarrlayered.stores import MemoryStore
    >>> mapping = StoreMapping(MemoryStore())
    >>> mapping["a/b"] = b"123"
    >>> dict(mapping), mapping.listdir("a")
    ({'a/b': b'123'}, ['b'])
    """

    def __init__(self, store: Any) -> None:
        self._store: Store = store if isinstance(store, Store) else make_store(store)

    @property
    def store(self) -> Store:
        """The store behind the mapping."""
        return self._store

    def __repr__(self) -> str:
        return f"StoreMapping({self._store!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StoreMapping) and other._store == self._store

    def __hash__(self) -> int:
        return hash((StoreMapping, self._store))

    # -- MutableMapping ----------------------------------------------------------------------------------
    def __getitem__(self, key: str) -> bytes:
        checked = _key(key)
        if checked is None:
            raise KeyError(key)
        store = self._store
        value = store.get_sync(checked) if store.supports_sync else sync(store.get(checked))
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        data = ensure_bytes(value)  # an array's bytes in its own memory order, as zarr 2 stores keep them
        if self._store.supports_sync:
            self._store.set_sync(key, data)
        else:
            sync(self._store.set(key, data))

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        if self._store.supports_sync:
            self._store.delete_sync(key)
        else:
            sync(self._store.delete(key))

    def __contains__(self, key: object) -> bool:
        checked = _key(key)
        if checked is None:
            return False
        store = self._store
        return store.exists_sync(checked) if store.supports_sync else sync(store.exists(checked))

    def _keys(self) -> list[str]:
        store = self._store
        return store.list_prefix_sync("") if store.supports_sync else sync_iter(store.list())

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def clear(self) -> None:
        """Remove every key (one store call, not one per key)."""
        sync(self._store.clear())

    # -- the zarr-python 2 store methods -----------------------------------------------------------------
    def listdir(self, path: str | None = None) -> list[str]:
        """The sorted names of the keys and sub-prefixes directly under ``path``."""
        return sorted(sync_iter(self._store.list_dir(_path(path))))

    def getsize(self, path: str | None = None) -> int:
        """zarr-python 2's ``getsize``: a value's size, or the total size of the values directly under ``path``."""
        norm = _path(path)
        store = self._store
        if norm and (store.exists_sync(norm) if store.supports_sync else sync(store.exists(norm))):
            return sync(store.getsize(norm))
        base = f"{norm}/" if norm else ""

        async def total() -> int:
            size = 0
            async for name in store.list_dir(norm):
                if await store.exists(base + name):
                    size += await store.getsize(base + name)
            return size

        return sync(total())

    def rmdir(self, path: str | None = None) -> None:
        """Remove every key under ``path`` (the whole store for "" or None)."""
        sync(self._store.delete_dir(_path(path)))

    def rename(self, src_path: str, dst_path: str) -> None:
        """Move the value or every key under ``src_path`` to ``dst_path`` (key by key when the store cannot)."""
        src, dst = _path(src_path), _path(dst_path)
        try:
            sync(self._store.rename(src, dst))
        except NotImplementedError:
            moved = [src] if src in self else [k for k in self._keys() if k.startswith(f"{src}/")]
            if not moved:
                raise FileNotFoundError(f"nothing stored at {src!r} in {self._store!r}") from None
            for key in moved:
                self[dst + key[len(src) :]] = self[key]
                del self[key]

    def close(self) -> None:
        """Close the store."""
        self._store.close()

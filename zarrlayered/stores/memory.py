"""MemoryStore: a store kept in a dict in this process."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import ClassVar, Self

from zarrlayered.stores.abc import ByteRequest, SyncStore, apply_byte_range

__all__ = ["MemoryStore"]


def _open_memory_store(
    cls: type[MemoryStore], store_dict: MutableMapping[str, bytes], read_only: bool
) -> MemoryStore:
    """Unpickle a :class:`MemoryStore`: a new store over the unpickled copy of its values."""
    return cls(store_dict, read_only=read_only)


class MemoryStore(SyncStore):
    """A store held in memory, in a plain ``dict`` of ``str -> bytes``.

    Parameters
    ----------
    store_dict
        The mapping to keep values in; a new dict when omitted. Sharing one dict between stores shares data.
    read_only
        Refuse writes and deletes.

    Notes
    -----
    A MemoryStore lives in one process. Pickled (for Dask or multiprocessing) it carries a *copy* of its
    values, as zarr-python 3's does: the copy reads what the store held when it was pickled, and what is
    written to the copy (in a worker process) is not seen by the original. To share data between
    processes use a store over a path or URL (:class:`~zarrlayered.stores.LocalStore`,
    :class:`~zarrlayered.stores.FsspecStore`, a read-only :class:`~zarrlayered.stores.ZipStore`), which
    pickles as that path and never carries data.
    """

    blocking: ClassVar[bool] = False
    supports_partial_writes: ClassVar[bool] = True

    def __init__(self, store_dict: MutableMapping[str, bytes] | None = None, *, read_only: bool = False) -> None:
        super().__init__(read_only=read_only)
        self._store_dict: MutableMapping[str, bytes] = {} if store_dict is None else store_dict

    @property
    def store_dict(self) -> MutableMapping[str, bytes]:
        """The mapping that holds the values."""
        return self._store_dict

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, MemoryStore)
            and self._store_dict is other._store_dict
            and self.read_only == other.read_only
        )

    def __hash__(self) -> int:
        return hash((MemoryStore, id(self._store_dict)))

    def _url(self) -> str:
        return f"memory://{id(self._store_dict)}"

    def _describe(self) -> str:
        return f"<{len(self._store_dict)} keys at {id(self._store_dict):#x}>"

    def __copy__(self) -> Self:
        # copy.copy (with_read_only) shares the state; only pickling starts afresh
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def __reduce__(self) -> tuple[object, tuple[type[MemoryStore], MutableMapping[str, bytes], bool]]:
        return _open_memory_store, (type(self), self._store_dict, self.read_only)

    def _get_sync(self, key: str, byte_range: ByteRequest | None) -> bytes | None:
        value = self._store_dict.get(key)
        if value is None or byte_range is None:
            return value
        return apply_byte_range(value, byte_range)

    def _exists_sync(self, key: str) -> bool:
        return key in self._store_dict

    def _getsize_sync(self, key: str) -> int:
        try:
            return len(self._store_dict[key])
        except KeyError:
            raise FileNotFoundError(f"no value stored at {key!r} in {self!r}") from None

    def _set_sync(self, key: str, value: bytes) -> None:
        self._store_dict[key] = value

    def _delete_sync(self, key: str) -> None:
        self._store_dict.pop(key, None)

    def _list_sync(self) -> list[str]:
        return list(self._store_dict)

    def _rename_sync(self, src: str, dst: str) -> None:
        if src in self._store_dict:
            self._store_dict[dst] = self._store_dict.pop(src)
            return
        moved = [key for key in self._store_dict if key.startswith(f"{src}/")]
        if not moved:
            raise FileNotFoundError(f"nothing stored at {src!r} in {self!r}")
        for key in moved:
            self._store_dict[dst + key[len(src) :]] = self._store_dict.pop(key)

    async def _set_partial_values(self, items: list[tuple[str, int, bytes]]) -> None:
        for key, start, value in items:
            current = bytearray(self._store_dict.get(key, b""))
            if start > len(current):
                current.extend(b"\x00" * (start - len(current)))
            current[start : start + len(value)] = value
            self._store_dict[key] = bytes(current)

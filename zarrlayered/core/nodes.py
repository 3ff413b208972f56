"""Reading and writing node metadata documents (zarr.json, .zarray, .zgroup, .zattrs) in a store."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Final

from zarrlayered.stores.abc import Store, validate_key

__all__ = [
    "V2_DOCUMENTS",
    "V3_DOCUMENTS",
    "document_names",
    "join_path",
    "normalize_path",
    "read_documents",
    "read_documents_sync",
    "store_path",
    "write_documents",
    "write_documents_sync",
]

V3_DOCUMENTS: Final = ("zarr.json",)
V2_DOCUMENTS: Final = (".zarray", ".zgroup", ".zattrs")


def normalize_path(path: str | None) -> str:
    """A node path without leading or trailing ``/`` ("" is the root); unsafe paths raise ValueError."""
    if path is None:
        return ""
    if not isinstance(path, str):
        raise TypeError(f"node path must be a str, got {type(path).__name__}: {path!r}")
    stripped = path.strip("/")
    if stripped:
        validate_key(stripped)
    return stripped


def join_path(parent: str, name: str) -> str:
    """``parent/name`` for node paths ("" is the root)."""
    name = normalize_path(name)
    if not parent:
        return name
    return f"{parent}/{name}" if name else parent


def store_path(store: Store, path: str) -> str:
    """Where the node at ``path`` is: ``"<store URL>/<path>"`` (the store's URL for the root), as zarr-python 3
    prints it."""
    return f"{store}/{path}" if path else str(store)


def document_names(zarr_format: int | None) -> tuple[str, ...]:
    """The metadata documents to look for: both formats' when ``zarr_format`` is None."""
    if zarr_format == 3:
        return V3_DOCUMENTS
    if zarr_format == 2:
        return V2_DOCUMENTS
    if zarr_format is None:
        return V3_DOCUMENTS + V2_DOCUMENTS
    raise ValueError(f"zarr_format must be 2, 3 or None, got {zarr_format!r}")


def _key(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


async def read_documents(
    store: Store, path: str, zarr_format: int | None, *, extra: tuple[str, ...] = ()
) -> dict[str, bytes | None]:
    """Fetch the metadata documents of the node at ``path`` (missing ones are None).

    With ``zarr_format=None``, ``zarr.json`` is asked for first and, as it wins over the V2 documents,
    a V3 node costs one request; only when it is missing are the V2 documents (and ``extra`` names)
    fetched, concurrently. A known format's documents are fetched concurrently at once.
    """
    if zarr_format is None:
        zarr_json = await store.get(_key(path, V3_DOCUMENTS[0]))
        if zarr_json is not None:
            return {V3_DOCUMENTS[0]: zarr_json}
        return {V3_DOCUMENTS[0]: None, **await read_documents(store, path, 2, extra=extra)}
    names = document_names(zarr_format) + extra
    values = await asyncio.gather(*(store.get(_key(path, name)) for name in names))
    return dict(zip(names, values, strict=True))


def read_documents_sync(store: Store, path: str, zarr_format: int | None) -> dict[str, bytes | None]:
    """:func:`read_documents` through a store's synchronous path."""
    if zarr_format is None:
        zarr_json = store.get_sync(_key(path, V3_DOCUMENTS[0]))
        if zarr_json is not None:
            return {V3_DOCUMENTS[0]: zarr_json}
        return {V3_DOCUMENTS[0]: None, **read_documents_sync(store, path, 2)}
    return {name: store.get_sync(_key(path, name)) for name in document_names(zarr_format)}


#: The documents that make a node exist; they are written after the others (``.zattrs``), so a reader
#: never finds a V2 node whose attributes are not there yet, even if the writer is killed in between.
_DEFINING: Final = frozenset({"zarr.json", ".zarray", ".zgroup"})


def _in_write_order(documents: Mapping[str, bytes | None]) -> list[list[tuple[str, bytes | None]]]:
    """The documents in two batches: the attributes first, then the documents that define the node."""
    items = list(documents.items())
    return [[item for item in items if item[0] not in _DEFINING], [item for item in items if item[0] in _DEFINING]]


async def write_documents(store: Store, path: str, documents: Mapping[str, bytes | None]) -> None:
    """Write (or, for None values, delete) the metadata documents of the node at ``path``."""
    for batch in _in_write_order(documents):
        await asyncio.gather(
            *(
                store.set(_key(path, name), value) if value is not None else store.delete(_key(path, name))
                for name, value in batch
            )
        )


def write_documents_sync(store: Store, path: str, documents: Mapping[str, bytes | None]) -> None:
    """:func:`write_documents` through a store's synchronous path."""
    for batch in _in_write_order(documents):
        for name, value in batch:
            if value is None:
                store.delete_sync(_key(path, name))
            else:
                store.set_sync(_key(path, name), value)

"""Node-level writes in a store: finding what is at a path, deleting a subtree, writing the parent groups
zarr-python 3 writes, creating an array, and writing a whole hierarchy in one concurrent batch.

:mod:`zarrlayered.core.group` builds :class:`~zarrlayered.core.group.AsyncGroup` on these.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from zarrlayered.core.array import AsyncArray
from zarrlayered.core.create import build_array_metadata
from zarrlayered.core.metadata import ArrayMetadata, GroupMetadata, parse_node_metadata
from zarrlayered.core.nodes import normalize_path, read_documents, write_documents
from zarrlayered.errors import ContainsArrayError, ContainsGroupError, NodeNotFoundError, ReadOnlyError
from zarrlayered.stores.abc import Store

#: The metadata of any node (an array of either format, or a group).
AnyMetadata = ArrayMetadata | GroupMetadata

__all__ = [
    "AnyMetadata",
    "ancestors",
    "create_array_node",
    "create_array_node_with_parents",
    "delete_node",
    "ensure_parents",
    "existing_node",
    "exists_error",
    "prepare_node_path",
    "write_hierarchy",
]


async def existing_node(store: Store, path: str, zarr_format: Literal[2, 3] | None = None) -> AnyMetadata | None:
    try:
        return parse_node_metadata(await read_documents(store, path, zarr_format), path=path)
    except NodeNotFoundError:
        return None


async def delete_node(store: Store, path: str) -> None:
    """Delete the node at ``path`` and everything below it."""
    if path:
        await store.delete_dir(path)
    else:
        await store.clear()


def ancestors(path: str) -> list[str]:
    """``"a/b/c"`` -> ``["", "a", "a/b"]``."""
    if not path:
        return []
    parts = path.split("/")[:-1]
    return ["/".join(parts[:i]) for i in range(len(parts) + 1)]


async def ensure_parents(store: Store, path: str, zarr_format: Literal[2, 3]) -> list[str]:
    """Write group metadata for every missing ancestor of ``path``, as zarr-python 3 does; returns them.

    Raises ContainsArrayError when an ancestor is an array.
    """
    chain = ancestors(path)
    found = await asyncio.gather(*(existing_node(store, a) for a in chain))
    for ancestor, meta in zip(chain, found, strict=True):
        if meta is not None and not isinstance(meta, GroupMetadata):
            raise ContainsArrayError(f"cannot create a node below {ancestor!r}: an array is there")
    missing = [a for a, meta in zip(chain, found, strict=True) if meta is None]
    group = GroupMetadata(zarr_format=zarr_format)
    await asyncio.gather(*(write_documents(store, a, group.to_json_bytes()) for a in missing))
    return missing


def exists_error(path: str, existing: AnyMetadata) -> ContainsArrayError | ContainsGroupError:
    group = isinstance(existing, GroupMetadata)
    kind = ContainsGroupError if group else ContainsArrayError
    what = "a group" if group else "an array"
    return kind(f"{what} already exists at {path!r}; pass overwrite=True (or mode='w') to replace it")


async def prepare_node_path(store: Store, path: str, overwrite: bool, zarr_format: Literal[2, 3]) -> list[str]:
    """Clear the way for a new node at ``path``; returns the parent groups written."""
    if store.read_only:
        raise ReadOnlyError(f"cannot create a node at {path!r}: the store is read-only")
    existing = await existing_node(store, path)
    if existing is not None:
        if not overwrite:
            raise exists_error(path, existing)
        await delete_node(store, path)
    elif overwrite and not await store.is_empty(path):
        await delete_node(store, path)
    return await ensure_parents(store, path, zarr_format)


async def create_array_node(
    store: Store, path: str, *, overwrite: bool = False, data: Any = None, write_empty_chunks: bool | None = None,
    **kwargs: Any,
) -> AsyncArray:
    """Create an array at ``path`` from ``create_array``'s keyword arguments (and write ``data``)."""
    array, _ = await create_array_node_with_parents(store, path, overwrite=overwrite, data=data,
                                        write_empty_chunks=write_empty_chunks, **kwargs)
    return array


async def create_array_node_with_parents(
    store: Store, path: str, *, overwrite: bool = False, data: Any = None, write_empty_chunks: bool | None = None,
    **kwargs: Any,
) -> tuple[AsyncArray, list[str]]:
    path = normalize_path(path)
    if data is not None:
        arr = data if isinstance(data, np.ndarray) else np.asarray(data)
        if kwargs.get("shape") is None:
            kwargs["shape"] = arr.shape
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = arr.dtype if arr.dtype != object else str
    if kwargs.get("dtype") is None:
        kwargs["dtype"] = "float64"
    metadata = build_array_metadata(**kwargs)
    parents = await prepare_node_path(store, path, overwrite, metadata.zarr_format)
    await write_documents(store, path, metadata.to_json_bytes())
    array = AsyncArray(metadata, store, path, write_empty_chunks=write_empty_chunks)
    if data is not None:
        await array.set_selection(Ellipsis, arr, "basic")
    return array, parents


# -- writing a hierarchy ------------------------------------------------------------------------------------


def _complete_hierarchy(nodes: Mapping[str, AnyMetadata]) -> tuple[dict[str, AnyMetadata], set[str]]:
    """Add the implicit parent groups of ``nodes``; returns (all nodes, the implicit paths).

    Raises ValueError when formats are mixed or an array would hold other nodes.
    """
    for path, meta in nodes.items():
        if not isinstance(meta, GroupMetadata | ArrayMetadata):
            raise TypeError(f"create_hierarchy: the value at {path!r} is not node metadata: {meta!r}")
    formats = {m.zarr_format for m in nodes.values()}
    if len(formats) > 1:
        raise ValueError(
            "create_hierarchy: all nodes must share one zarr_format; got Zarr V2 nodes "
            f"{sorted(p for p, m in nodes.items() if m.zarr_format == 2)} and Zarr V3 nodes "
            f"{sorted(p for p, m in nodes.items() if m.zarr_format == 3)}"
        )
    out = dict(nodes)
    implicit: set[str] = set()
    for path, meta in nodes.items():
        for ancestor in ancestors(path):
            if ancestor not in out:
                out[ancestor] = GroupMetadata(zarr_format=meta.zarr_format)
                implicit.add(ancestor)
            elif not isinstance(out[ancestor], GroupMetadata):
                raise ValueError(
                    f"create_hierarchy: the node at {ancestor!r} would contain {path!r}, but it is an array; "
                    "only groups contain other nodes"
                )
    return out, implicit


async def write_hierarchy(
    store: Store, nodes: Mapping[str, ArrayMetadata | GroupMetadata], *, overwrite: bool = False
) -> list[tuple[str, ArrayMetadata | GroupMetadata]]:
    """Write a whole hierarchy (path -> metadata, paths from the store's root) in one concurrent batch.

    Missing parent groups are added (existing ones are left as they are); with ``overwrite=False`` an
    existing node at a given path is a ContainsArrayError / ContainsGroupError, with ``overwrite=True`` it
    is deleted first. Returns ``(path, metadata)`` for every node written, parents before children.
    """
    if store.read_only:
        raise ReadOnlyError(f"create_hierarchy: {store!r} is read-only")
    normalized = {normalize_path(p): m for p, m in nodes.items()}
    if not normalized:
        return []
    complete, implicit = _complete_hierarchy(normalized)
    paths = sorted(complete, key=lambda p: (p.count("/") if p else -1, p))
    found = await asyncio.gather(*(existing_node(store, p) for p in paths))
    existing = dict(zip(paths, found, strict=True))
    keep = {p for p in implicit if isinstance(existing[p], GroupMetadata)}
    for path in implicit - keep:
        if existing[path] is not None:
            raise ContainsArrayError(f"create_hierarchy: an array is at {path!r}, where a parent group must be")
    explicit = [p for p in paths if p not in implicit]
    if overwrite:
        await asyncio.gather(*(delete_node(store, p) for p in explicit if existing[p] is not None))
    else:
        for path in explicit:
            meta = existing[path]
            if meta is not None:
                raise exists_error(path, meta)
    written = [p for p in paths if p not in keep]
    await asyncio.gather(*(write_documents(store, p, complete[p].to_json_bytes()) for p in written))
    return [(p, complete[p]) for p in written]

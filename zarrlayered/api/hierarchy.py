"""Whole-hierarchy operations as coroutines: consolidating metadata, writing many nodes at once, copying.

``copy``, ``copy_all`` and ``copy_store`` are the zarr-python 2 functions that zarr-python 3 left
unimplemented.
"""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, Literal

import numpy as np

from zarrlayered.api.asynchronous import open_group, resolve_store
from zarrlayered.core.array import AsyncArray
from zarrlayered.core.group import AsyncGroup, delete_node, ensure_parents, node_from_metadata, open_node
from zarrlayered.core.metadata import ConsolidatedMetadata, GroupMetadata, NodeMetadata
from zarrlayered.core.metadata.common import dumps_json
from zarrlayered.core.nodes import join_path, normalize_path, write_documents
from zarrlayered.errors import ContainsArrayError, ContainsGroupError, NodeNotFoundError
from zarrlayered.stores.abc import Store

__all__ = ["consolidate_metadata", "copy", "copy_all", "copy_store", "create_hierarchy", "save_many"]

_ZMETADATA = ".zmetadata"


async def consolidate_metadata(
    store: Any, path: str | None = None, zarr_format: Literal[2, 3] | None = None
) -> AsyncGroup:
    """Gather the metadata of every node below the group at ``path`` into one document.

    V3 groups get it inline in their ``zarr.json`` (``consolidated_metadata``); V2 groups get a
    ``.zmetadata`` document, as zarr-python writes them. Returns the group, opened with it.
    """
    resolved = resolve_store(store, "r+")
    root = await AsyncGroup.open(resolved, normalize_path(path), zarr_format=zarr_format, use_consolidated=False)
    entries: dict[str, NodeMetadata] = {}
    async for name, node in root.members(max_depth=None):
        entries[name] = node.metadata  # type: ignore[assignment]
    consolidated = ConsolidatedMetadata(metadata=entries)
    if root.zarr_format == 3:
        metadata = GroupMetadata(root.metadata.attributes, 3, consolidated, root.metadata.extra_fields)
        await write_documents(resolved, root.path, metadata.to_json_bytes())
    else:
        document = consolidated.to_v2_document(root.metadata.attributes)
        await write_documents(resolved, root.path, {_ZMETADATA: dumps_json(document)})
        metadata = GroupMetadata(root.metadata.attributes, 2, consolidated)
    return AsyncGroup(metadata, resolved, root.path)


async def create_hierarchy(
    *, store: Any, nodes: Mapping[str, NodeMetadata], overwrite: bool = False
) -> AsyncIterator[tuple[str, AsyncArray | AsyncGroup]]:
    """Write many nodes described in memory (path -> metadata) in one concurrent batch, parents included.

    Yields ``(path, node)`` for each node written, in the order given.
    """
    resolved = resolve_store(store, "w" if overwrite else "a")
    normalized = {normalize_path(p): m for p, m in nodes.items()}
    formats = {m.zarr_format for m in normalized.values()}
    if len(formats) > 1:
        raise ValueError(f"create_hierarchy: all nodes must share one zarr_format, got {sorted(formats)}")
    if not overwrite:
        existing = await asyncio.gather(*(_exists(resolved, p) for p in normalized))
        clashes = [p for p, found in zip(normalized, existing, strict=True) if found]
        if clashes:
            raise ContainsArrayError(f"create_hierarchy: nodes already exist at {clashes}; pass overwrite=True")
    else:
        await asyncio.gather(*(delete_node(resolved, p) for p in normalized if p))
    fmt = formats.pop() if formats else 3
    parents = {p.rsplit("/", 1)[0] if "/" in p else "" for p in normalized if p} - set(normalized)
    await asyncio.gather(*(ensure_parents(resolved, f"{p}/x" if p else "x", fmt) for p in parents))
    await asyncio.gather(*(write_documents(resolved, p, m.to_json_bytes()) for p, m in normalized.items()))
    for node_path, metadata in normalized.items():
        yield node_path, node_from_metadata(metadata, resolved, node_path)


async def _exists(store: Store, path: str) -> bool:
    try:
        await open_node(store, path)
    except NodeNotFoundError:
        return False
    return True


async def save_many(
    store: Any, arrays: Mapping[str, Any], *, zarr_format: Literal[2, 3] | None = None, overwrite: bool = True,
    **kwargs: Any,
) -> AsyncGroup:
    """Write several numpy arrays (path -> data) into the group at the store's root, concurrently."""
    root = await open_group(store, mode="a", zarr_format=zarr_format)
    await asyncio.gather(
        *(root.create_array(name, data=np.asarray(value), overwrite=overwrite, **kwargs)
          for name, value in arrays.items())
    )
    return root


# -- copying ------------------------------------------------------------------------------------------


async def copy_store(
    source: Any,
    dest: Any,
    *,
    source_path: str = "",
    dest_path: str = "",
    excludes: Iterable[str] | None = None,
    includes: Iterable[str] | None = None,
    if_exists: Literal["raise", "replace", "skip"] = "raise",
    dry_run: bool = False,
) -> tuple[int, int, int]:
    """Copy every key below ``source_path`` to ``dest_path``, bytes unchanged (any store to any store).

    ``excludes``/``includes`` are glob patterns on the key relative to ``source_path``. Returns
    ``(copied, skipped, bytes_copied)`` like zarr-python 2.
    """
    if if_exists not in ("raise", "replace", "skip"):
        raise ValueError(f"if_exists must be 'raise', 'replace' or 'skip', got {if_exists!r}")
    src = resolve_store(source, "r")
    dst = resolve_store(dest, "a")
    src_root, dst_root = normalize_path(source_path), normalize_path(dest_path)
    prefix = f"{src_root}/" if src_root else ""
    keys = [key async for key in src.list_prefix(prefix)]
    exclude = list(excludes or ())
    include = list(includes or ())
    copied = skipped = nbytes = 0
    for key in sorted(keys):
        relative = key[len(prefix):]
        if any(fnmatch.fnmatch(relative, pat) for pat in exclude) and not any(
            fnmatch.fnmatch(relative, pat) for pat in include
        ):
            skipped += 1
            continue
        target = join_path(dst_root, relative)
        if await dst.exists(target):
            if if_exists == "raise":
                raise ContainsArrayError(f"copy_store: {target!r} already exists in the destination")
            if if_exists == "skip":
                skipped += 1
                continue
        if not dry_run:
            value = await src.get(key)
            if value is None:
                continue
            await dst.set(target, value)
            nbytes += len(value)
        copied += 1
    return copied, skipped, nbytes


async def _copy_node(node: AsyncArray | AsyncGroup, dest: AsyncGroup, name: str, if_exists: str) -> int:
    target = join_path(dest.path, name)
    try:
        await open_node(dest.store, target)
        exists = True
    except NodeNotFoundError:
        exists = False
    if exists:
        if if_exists == "raise":
            raise ContainsGroupError(f"copy: {target!r} already exists in the destination")
        if if_exists == "skip":
            return 0
        await delete_node(dest.store, target)
    if isinstance(node, AsyncArray):
        copied = AsyncArray(node.metadata, dest.store, target, write_empty_chunks=node.write_empty_chunks)
        await ensure_parents(dest.store, target, node.metadata.zarr_format)
        await write_documents(dest.store, target, node.metadata.to_json_bytes())
        data = await node.get_selection(Ellipsis, "basic")
        await copied.set_selection(Ellipsis, data, "basic")
        return 1
    child = await dest.create_group(name, attributes=node.metadata.attributes, overwrite=True)
    count = 1
    async for sub_name, sub_node in node.members():
        count += await _copy_node(sub_node, child, sub_name, if_exists)
    return count


async def copy(
    source: AsyncArray | AsyncGroup, dest: AsyncGroup, name: str | None = None,
    if_exists: Literal["raise", "replace", "skip"] = "raise",
) -> int:
    """Copy an array or group (with everything below it) into the group ``dest`` as ``name``.

    Works between any two stores; returns the number of nodes copied.
    """
    if if_exists not in ("raise", "replace", "skip"):
        raise ValueError(f"if_exists must be 'raise', 'replace' or 'skip', got {if_exists!r}")
    target = name if name is not None else source.basename
    if not target:
        raise ValueError("copy: the source is a root group; give a name= for the copy")
    return await _copy_node(source, dest, target, if_exists)


async def copy_all(
    source: AsyncGroup, dest: AsyncGroup, if_exists: Literal["raise", "replace", "skip"] = "raise"
) -> int:
    """Copy every member of ``source`` into ``dest`` (and the attributes); returns the nodes copied."""
    count = 0
    async for name, node in source.members():
        count += await copy(node, dest, name, if_exists)
    await dest.update_attributes(source.metadata.attributes)
    return count

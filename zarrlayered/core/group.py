"""AsyncGroup: a Zarr group (V2 or V3) and the hierarchy below it, in the async engine."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from typing import Any, Literal

import numpy as np

from zarrlayered.core.array import AsyncArray
from zarrlayered.core.create import build_array_metadata, parse_zarr_format
from zarrlayered.core.metadata import (
    ArrayMetadata,
    ConsolidatedMetadata,
    GroupMetadata,
    NodeMetadata,
    parse_node_metadata,
)
from zarrlayered.core.nodes import join_path, normalize_path, read_documents, write_documents
from zarrlayered.errors import ContainsArrayError, ContainsGroupError, NodeNotFoundError, ReadOnlyError
from zarrlayered.stores.abc import Store

__all__ = ["AsyncGroup", "create_array_node", "delete_node", "ensure_parents", "node_from_metadata", "open_node"]

logger = logging.getLogger("zarrlayered.group")

_ZMETADATA = ".zmetadata"


def node_from_metadata(metadata: NodeMetadata, store: Store, path: str) -> AsyncArray | AsyncGroup:
    """The engine object for a node's metadata."""
    if isinstance(metadata, GroupMetadata):
        return AsyncGroup(metadata, store, path)
    return AsyncArray(metadata, store, path)


async def open_node(
    store: Store, path: str = "", *, zarr_format: Literal[2, 3] | None = None, use_consolidated: bool | None = None
) -> AsyncArray | AsyncGroup:
    """Open the array or group at ``path``; NodeNotFoundError (a KeyError) when nothing is there."""
    path = normalize_path(path)
    documents: dict[str, Any] = dict(await read_documents(store, path, zarr_format))
    if zarr_format != 3 and use_consolidated is not False and documents.get(".zgroup") is not None:
        documents[_ZMETADATA] = await store.get(f"{path}/{_ZMETADATA}" if path else _ZMETADATA)
    metadata = parse_node_metadata(documents, zarr_format=zarr_format, path=path)
    if use_consolidated is False and isinstance(metadata, GroupMetadata) and metadata.consolidated_metadata:
        metadata = GroupMetadata(metadata.attributes, metadata.zarr_format, None, metadata.extra_fields)
    if use_consolidated is True and isinstance(metadata, GroupMetadata) and metadata.consolidated_metadata is None:
        raise ValueError(f"the group at {path!r} has no consolidated metadata (use_consolidated=True)")
    return node_from_metadata(metadata, store, path)


async def _node_exists(store: Store, path: str) -> NodeMetadata | None:
    try:
        return parse_node_metadata(await read_documents(store, path, None), path=path)
    except NodeNotFoundError:
        return None


async def delete_node(store: Store, path: str) -> None:
    """Delete the node at ``path`` and everything below it."""
    if path:
        await store.delete_dir(path)
    else:
        await store.clear()


async def ensure_parents(store: Store, path: str, zarr_format: Literal[2, 3]) -> None:
    """Write group metadata for every missing ancestor of ``path``, as zarr-python 3 does."""
    parts = path.split("/")[:-1] if path else []
    ancestors = ["/".join(parts[:i]) for i in range(len(parts) + 1)] if path else []
    found = await asyncio.gather(*(_node_exists(store, a) for a in ancestors))
    missing = [a for a, meta in zip(ancestors, found, strict=True) if meta is None]
    for ancestor, meta in zip(ancestors, found, strict=True):
        if meta is not None and not isinstance(meta, GroupMetadata):
            raise ContainsArrayError(f"cannot create a node below {ancestor!r}: an array is there")
    group = GroupMetadata(zarr_format=zarr_format)
    await asyncio.gather(*(write_documents(store, a, group.to_json_bytes()) for a in missing))


async def _prepare_node_path(store: Store, path: str, overwrite: bool, zarr_format: Literal[2, 3]) -> None:
    if store.read_only:
        raise ReadOnlyError(f"cannot create a node at {path!r}: the store is read-only")
    existing = await _node_exists(store, path)
    if existing is not None:
        if not overwrite:
            kind = ContainsGroupError if isinstance(existing, GroupMetadata) else ContainsArrayError
            what = "group" if isinstance(existing, GroupMetadata) else "array"
            raise kind(f"a {what} already exists at {path!r}; pass overwrite=True (or mode='w') to replace it")
        await delete_node(store, path)
    elif overwrite and not await store.is_empty(path):
        await delete_node(store, path)
    await ensure_parents(store, path, zarr_format)


async def create_array_node(
    store: Store, path: str, *, overwrite: bool = False, data: Any = None, write_empty_chunks: bool | None = None,
    **kwargs: Any,
) -> AsyncArray:
    """Create an array at ``path`` from ``create_array``'s keyword arguments (and write ``data``)."""
    path = normalize_path(path)
    if data is not None:
        arr = data if isinstance(data, np.ndarray) else np.asarray(data)
        kwargs.setdefault("shape", arr.shape)
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = arr.dtype if arr.dtype != object else str
    if kwargs.get("dtype") is None:
        kwargs["dtype"] = "float64"
    metadata = build_array_metadata(**kwargs)
    await _prepare_node_path(store, path, overwrite, metadata.zarr_format)
    await write_documents(store, path, metadata.to_json_bytes())
    array = AsyncArray(metadata, store, path, write_empty_chunks=write_empty_chunks)
    if data is not None:
        await array.set_selection(Ellipsis, arr, "basic")
    return array


class AsyncGroup:
    """A Zarr group: attributes and named members (arrays and groups), in a store.

    Parameters
    ----------
    metadata
        The group's metadata.
    store
        The store holding the hierarchy.
    path
        The group's path in the store ("" for the root).
    """

    def __init__(self, metadata: GroupMetadata, store: Store, path: str = "") -> None:
        self.metadata = metadata
        self.store = store
        self.path = normalize_path(path)

    # -- making and opening ----------------------------------------------------------------------------
    @classmethod
    async def create(
        cls,
        store: Store,
        path: str = "",
        *,
        attributes: Mapping[str, Any] | None = None,
        zarr_format: Literal[2, 3] | None = None,
        overwrite: bool = False,
    ) -> AsyncGroup:
        """Create a group (and its missing parents); ContainsGroupError if one exists and not ``overwrite``."""
        path = normalize_path(path)
        fmt = parse_zarr_format(zarr_format)
        metadata = GroupMetadata(attributes=dict(attributes or {}), zarr_format=fmt)
        await _prepare_node_path(store, path, overwrite, fmt)
        await write_documents(store, path, metadata.to_json_bytes())
        return cls(metadata, store, path)

    @classmethod
    async def open(
        cls,
        store: Store,
        path: str = "",
        *,
        zarr_format: Literal[2, 3] | None = None,
        use_consolidated: bool | None = None,
    ) -> AsyncGroup:
        """Open the group at ``path``; NodeNotFoundError if there is none (or an array is there)."""
        node = await open_node(store, path, zarr_format=zarr_format, use_consolidated=use_consolidated)
        if not isinstance(node, AsyncGroup):
            raise NodeNotFoundError(f"no group at {normalize_path(path)!r}: an array is there")
        return node

    # -- description -----------------------------------------------------------------------------------
    @property
    def attrs(self) -> dict[str, Any]:
        """The user attributes (a copy)."""
        return dict(self.metadata.attributes)

    @property
    def zarr_format(self) -> Literal[2, 3]:
        """2 or 3."""
        return self.metadata.zarr_format

    @property
    def read_only(self) -> bool:
        """True when the store refuses writes."""
        return self.store.read_only

    @property
    def name(self) -> str:
        """The absolute name in the hierarchy ("/" for the root)."""
        return f"/{self.path}"

    @property
    def basename(self) -> str:
        """The last part of :attr:`name`."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def consolidated(self) -> ConsolidatedMetadata | None:
        """The consolidated metadata this group was opened with, if any."""
        return self.metadata.consolidated_metadata

    def __repr__(self) -> str:
        return f"<AsyncGroup {self.store!r}{self.name}>"

    def _check_writable(self) -> None:
        if self.store.read_only:
            raise ReadOnlyError(f"cannot change group {self.name!r}: it was opened read-only")

    async def update_attributes(self, new_attributes: Mapping[str, Any]) -> AsyncGroup:
        """Merge ``new_attributes`` into the attributes and save them."""
        self._check_writable()
        metadata = self.metadata.update_attributes({**self.metadata.attributes, **dict(new_attributes)})
        await write_documents(self.store, self.path, metadata.to_json_bytes())
        self.metadata = metadata
        return self

    async def replace_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Replace all attributes with ``attributes`` and save them."""
        self._check_writable()
        metadata = self.metadata.update_attributes(dict(attributes))
        await write_documents(self.store, self.path, metadata.to_json_bytes())
        self.metadata = metadata

    # -- members ---------------------------------------------------------------------------------------
    def _child_path(self, name: str) -> str:
        if not isinstance(name, str):
            raise TypeError(f"member names must be str, got {type(name).__name__}: {name!r}")
        return join_path(self.path, name)

    async def getitem(self, name: str) -> AsyncArray | AsyncGroup:
        """The member at ``name`` (a relative path such as ``"a/b"``); KeyError when missing."""
        path = self._child_path(name)
        consolidated = self.consolidated
        if consolidated is not None:
            relative = path[len(self.path) + 1 :] if self.path else path
            found = consolidated.get(relative)
            if isinstance(found, GroupMetadata):
                found = replace(found, consolidated_metadata=consolidated.subtree(relative))
            if found is not None:
                return node_from_metadata(found, self.store, path)
        try:
            return await open_node(self.store, path, zarr_format=self.zarr_format)
        except NodeNotFoundError:
            raise NodeNotFoundError(f"{name!r} is not a member of group {self.name!r}") from None

    async def get(self, name: str, default: Any = None) -> Any:
        """The member at ``name``, or ``default``."""
        try:
            return await self.getitem(name)
        except KeyError:
            return default

    async def contains(self, name: str) -> bool:
        """True when ``name`` (a relative path) is a member."""
        return await self.get(name) is not None

    async def delitem(self, name: str) -> None:
        """Delete the member at ``name`` and everything below it; KeyError when missing."""
        self._check_writable()
        path = self._child_path(name)
        if await _node_exists(self.store, path) is None:
            raise NodeNotFoundError(f"{name!r} is not a member of group {self.name!r}")
        await delete_node(self.store, path)

    async def setitem(self, name: str, value: Any) -> None:
        """``group[name] = ndarray``: create (or replace) an array holding ``value``."""
        if isinstance(value, AsyncArray | AsyncGroup):
            raise TypeError("assign arrays by value (numpy arrays); use move() or copy() for nodes")
        await self.create_array(name, data=value, overwrite=True)

    async def _member_names(self) -> list[str]:
        consolidated = self.consolidated
        if consolidated is not None:
            return sorted(consolidated.children(""))
        prefix = self.path
        names = [child async for child in self.store.list_dir(prefix)]
        return sorted(n for n in names if not n.startswith(".") and n != "zarr.json")

    async def members(self, max_depth: int | None = 0) -> AsyncIterator[tuple[str, AsyncArray | AsyncGroup]]:
        """Yield ``(relative path, node)`` for every member, depth-first down to ``max_depth`` (None: all)."""
        if max_depth is not None and max_depth < 0:
            raise ValueError(f"max_depth must be None or >= 0, got {max_depth!r}")
        names = await self._member_names()
        nodes = await asyncio.gather(*(self.get(name) for name in names))
        for name, node in zip(names, nodes, strict=True):
            if node is None:  # a directory without metadata is not a member
                continue
            yield name, node
            if isinstance(node, AsyncGroup) and (max_depth is None or max_depth > 0):
                deeper = None if max_depth is None else max_depth - 1
                async for sub_name, sub_node in node.members(deeper):
                    yield f"{name}/{sub_name}", sub_node

    async def keys(self) -> list[str]:
        """The names of the direct members, sorted."""
        return [name async for name, _ in self.members()]

    async def array_keys(self) -> list[str]:
        """The names of the direct member arrays."""
        return [name async for name, node in self.members() if isinstance(node, AsyncArray)]

    async def group_keys(self) -> list[str]:
        """The names of the direct member groups."""
        return [name async for name, node in self.members() if isinstance(node, AsyncGroup)]

    # -- creating members --------------------------------------------------------------------------------
    async def create_group(
        self, name: str, *, overwrite: bool = False, attributes: Mapping[str, Any] | None = None
    ) -> AsyncGroup:
        """Create a subgroup (intermediate groups included)."""
        self._check_writable()
        return await AsyncGroup.create(
            self.store, self._child_path(name), attributes=attributes, zarr_format=self.zarr_format,
            overwrite=overwrite,
        )

    async def require_group(self, name: str, *, overwrite: bool = False) -> AsyncGroup:
        """The subgroup ``name``, created if missing; TypeError if an array is there."""
        if overwrite:
            return await self.create_group(name, overwrite=True)
        node = await self.get(name)
        if node is None:
            return await self.create_group(name)
        if not isinstance(node, AsyncGroup):
            raise TypeError(f"an array exists at {name!r}, not a group")
        return node

    async def create_array(self, name: str, **kwargs: Any) -> AsyncArray:
        """Create an array member; keyword arguments as :func:`zarrlayered.create_array`."""
        self._check_writable()
        kwargs.setdefault("zarr_format", self.zarr_format)
        return await create_array_node(self.store, self._child_path(name), **kwargs)

    async def require_array(self, name: str, *, shape: Any, dtype: Any = None, exact: bool = False,
                            **kwargs: Any) -> AsyncArray:
        """The array ``name``, created if missing; TypeError if it exists with another shape or dtype."""
        node = await self.get(name)
        if node is None:
            return await self.create_array(name, shape=shape, dtype=dtype, **kwargs)
        if not isinstance(node, AsyncArray):
            raise TypeError(f"a group exists at {name!r}, not an array")
        wanted_shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if node.shape != wanted_shape:
            raise TypeError(f"array {name!r} has shape {node.shape}, not {wanted_shape}")
        if dtype is not None:
            wanted = np.dtype(dtype) if not isinstance(dtype, str) or dtype not in ("str", "string") else node.dtype
            if exact and node.dtype != wanted:
                raise TypeError(f"array {name!r} has dtype {node.dtype}, not {wanted}")
            if not exact and not np.can_cast(wanted, node.dtype):
                raise TypeError(f"array {name!r} has dtype {node.dtype}, which {wanted} cannot be cast to")
        return node

    # -- moving --------------------------------------------------------------------------------------
    async def move(self, source: str, dest: str) -> None:
        """Move the member ``source`` (and everything below it) to ``dest``, both relative to this group."""
        self._check_writable()
        src, dst = self._child_path(source), self._child_path(dest)
        node = await _node_exists(self.store, src)
        if node is None:
            raise NodeNotFoundError(f"{source!r} is not a member of group {self.name!r}")
        if await _node_exists(self.store, dst) is not None or not await self.store.is_empty(dst):
            raise ContainsGroupError(f"cannot move to {dest!r}: something already exists there")
        await ensure_parents(self.store, dst, self.zarr_format)
        try:
            await self.store.rename(src, dst)
        except NotImplementedError:
            keys = [key async for key in self.store.list_prefix(f"{src}/")]
            values = await self.store.get_partial_values([(key, None) for key in keys])
            pairs = [(dst + key[len(src) :], v) for key, v in zip(keys, values, strict=True) if v is not None]
            await asyncio.gather(*(self.store.set(key, value) for key, value in pairs))
            await delete_node(self.store, src)


def array_metadata_of(node: AsyncArray | AsyncGroup) -> ArrayMetadata | GroupMetadata:
    """The metadata object of an engine node."""
    return node.metadata

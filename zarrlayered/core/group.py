"""AsyncGroup: a Zarr group (V2 or V3) and the hierarchy below it, in the async engine.

The methods follow zarr-python 3's ``AsyncGroup``: ``members``/``keys``/``arrays``/``groups`` are async
iterators, ``getitem`` takes relative paths (``"a/b"``), ``create_group``/``create_array`` write missing
parent groups, and a group opened with consolidated metadata answers from it without store reads.
Beyond zarr-python 3, :meth:`AsyncGroup.move` works (any store; a rename where the store has one).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal, TypeVar

import numpy as np

from zarrlayered.core.array import AsyncArray
from zarrlayered.core.create import parse_zarr_format
from zarrlayered.core.hierarchy import (
    create_array_node,
    create_array_node_with_parents,
    delete_node,
    ensure_parents,
    existing_node,
    prepare_node_path,
    write_hierarchy,
)
from zarrlayered.core.metadata import (
    ArrayMetadata,
    ConsolidatedMetadata,
    GroupMetadata,
    NodeMetadata,
    parse_node_metadata,
)
from zarrlayered.core.metadata.common import loads_json
from zarrlayered.core.nodes import join_path, normalize_path, read_documents, store_path, write_documents
from zarrlayered.errors import ContainsArrayError, ContainsGroupError, NodeNotFoundError, ReadOnlyError
from zarrlayered.info import GroupInfo
from zarrlayered.stores.abc import Store
from zarrlayered.tree import TreeRepr, render_tree

__all__ = [
    "AsyncGroup",
    "create_array_node",
    "create_nodes",
    "delete_node",
    "ensure_parents",
    "node_from_metadata",
    "open_node",
]

logger = logging.getLogger("zarrlayered.group")

_NodeT = TypeVar("_NodeT", bound="AsyncArray | AsyncGroup")

_ZMETADATA = ".zmetadata"


def node_from_metadata(metadata: ArrayMetadata | GroupMetadata, store: Store, path: str) -> AsyncArray | AsyncGroup:
    """The engine object for a node's metadata."""
    if isinstance(metadata, GroupMetadata):
        return AsyncGroup(metadata, store, path)
    return AsyncArray(metadata, store, path)


async def _node_documents(
    store: Store, path: str, zarr_format: Literal[2, 3] | None, use_consolidated: bool | None
) -> dict[str, Any]:
    """The metadata documents of the node at ``path``, in as few requests and round trips as can be.

    A V3 node costs one request (``zarr.json``); a V2 group's ``.zmetadata`` comes in the same round
    trip as its other documents; with ``zarr_format=2, use_consolidated=True`` (zarr 2's
    ``open_consolidated``) the ``.zmetadata`` document alone answers, one request, as in zarr-python 2.
    """
    zmetadata_key = f"{path}/{_ZMETADATA}" if path else _ZMETADATA
    if zarr_format == 2 and use_consolidated:
        raw = await store.get(zmetadata_key)
        entries = loads_json(raw, zmetadata_key).get("metadata") if raw is not None else None
        if isinstance(entries, dict) and entries.get(".zgroup") is not None:
            return {".zgroup": entries[".zgroup"], ".zattrs": entries.get(".zattrs"), _ZMETADATA: raw}
    extra = (_ZMETADATA,) if zarr_format != 3 and use_consolidated is not False else ()
    documents: dict[str, Any] = dict(await read_documents(store, path, zarr_format, extra=extra))
    if documents.get(".zgroup") is None:
        documents.pop(_ZMETADATA, None)
    return documents


async def open_node(
    store: Store, path: str = "", *, zarr_format: Literal[2, 3] | None = None, use_consolidated: bool | None = None
) -> AsyncArray | AsyncGroup:
    """Open the array or group at ``path``; NodeNotFoundError (a KeyError) when nothing is there.

    ``use_consolidated``: None uses a group's consolidated metadata when it has some, False ignores it,
    True requires it (ValueError when the group has none).
    """
    path = normalize_path(path)
    documents: dict[str, Any] = await _node_documents(store, path, zarr_format, use_consolidated)
    metadata = parse_node_metadata(documents, zarr_format=zarr_format, path=path)
    if use_consolidated is False and isinstance(metadata, GroupMetadata) and metadata.consolidated_metadata:
        metadata = GroupMetadata(metadata.attributes, metadata.zarr_format, None, metadata.extra_fields)
    if use_consolidated is True and isinstance(metadata, GroupMetadata) and metadata.consolidated_metadata is None:
        raise ValueError(
            f"consolidated metadata was requested (use_consolidated=True) but the group at {path!r} in "
            f"{store!r} has none; run consolidate_metadata() first"
        )
    return node_from_metadata(metadata, store, path)


async def create_nodes(
    store: Store, nodes: Mapping[str, ArrayMetadata | GroupMetadata], *, overwrite: bool = False
) -> list[tuple[str, AsyncArray | AsyncGroup]]:
    """:func:`~zarrlayered.core.hierarchy.write_hierarchy`, returning the engine's nodes."""
    written = await write_hierarchy(store, nodes, overwrite=overwrite)
    return [(path, node_from_metadata(meta, store, path)) for path, meta in written]


# -- the group -------------------------------------------------------------------------------------------


def _shape_tuple(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, int | np.integer):
        return (int(shape),)
    return tuple(int(n) for n in shape)


def _check_depth(max_depth: int | None) -> None:
    if max_depth is not None and (not isinstance(max_depth, int) or max_depth < 0):
        raise ValueError(f"max_depth must be None or >= 0, got {max_depth!r}")


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

    def __init__(
        self, metadata: GroupMetadata, store: Store, path: str = "", *, array_options: Mapping[str, Any] | None = None
    ) -> None:
        self.metadata = metadata
        self.store = store
        self.path = normalize_path(path)
        #: zarr-python 2's ``synchronizer=`` / ``chunk_store=``, handed to every array opened or made below.
        self.array_options: dict[str, Any] = dict(array_options or {})

    def _adopt(self, node: _NodeT) -> _NodeT:
        """``node`` with this group's array options (a synchronizer, a chunk store) applied."""
        if not self.array_options:
            return node
        if isinstance(node, AsyncGroup):
            node.array_options = dict(self.array_options)
            return node
        assert isinstance(node, AsyncArray)
        adopted = AsyncArray(node.metadata, node.store, node.path, write_empty_chunks=node.write_empty_chunks,
                             **self.array_options)
        return adopted  # type: ignore[return-value]

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
        group, _ = await cls._create(store, path, attributes=attributes, zarr_format=zarr_format, overwrite=overwrite)
        return group

    @classmethod
    async def _create(
        cls, store: Store, path: str, *, attributes: Mapping[str, Any] | None, zarr_format: Literal[2, 3] | None,
        overwrite: bool,
    ) -> tuple[AsyncGroup, list[str]]:
        path = normalize_path(path)
        fmt = parse_zarr_format(zarr_format)
        metadata = GroupMetadata(attributes=dict(attributes or {}), zarr_format=fmt)
        parents = await prepare_node_path(store, path, overwrite, fmt)
        await write_documents(store, path, metadata.to_json_bytes())
        return cls(metadata, store, path), parents

    @classmethod
    async def from_store(
        cls,
        store: Store,
        *,
        attributes: Mapping[str, Any] | None = None,
        overwrite: bool = False,
        zarr_format: Literal[2, 3] | None = 3,
    ) -> AsyncGroup:
        """Create a root group in ``store`` (zarr-python 3's constructor)."""
        return await cls.create(store, "", attributes=attributes, zarr_format=zarr_format, overwrite=overwrite)

    @classmethod
    async def open(
        cls,
        store: Store,
        path: str = "",
        *,
        zarr_format: Literal[2, 3] | None = None,
        use_consolidated: bool | None = None,
    ) -> AsyncGroup:
        """Open the group at ``path``; NodeNotFoundError if there is none, ContainsArrayError for an array."""
        node = await open_node(store, path, zarr_format=zarr_format, use_consolidated=use_consolidated)
        if not isinstance(node, AsyncGroup):
            raise ContainsArrayError(f"an array, not a group, is at {normalize_path(path)!r} in {store!r}")
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
    def synchronizer(self) -> None:
        """Always None (zarr-python 2 synchronizers are not used here)."""
        return None

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

    def _info(self, members: list[ArrayMetadata | GroupMetadata] | None) -> GroupInfo:
        counts: dict[str, int] = {}
        if members is not None:
            arrays = sum(1 for m in members if not isinstance(m, GroupMetadata))
            counts = {"count_members": len(members), "count_arrays": arrays, "count_groups": len(members) - arrays}
        return GroupInfo(self.path, self.zarr_format, self.read_only, type(self.store).__name__, **counts)

    @property
    def info(self) -> GroupInfo:
        """What is known without reading the store (member counts only with consolidated metadata)."""
        consolidated = self.consolidated
        return self._info(None if consolidated is None else list(consolidated.metadata.values()))

    async def info_complete(self) -> GroupInfo:
        """:attr:`info` with the number of members, arrays and groups below, at any depth."""
        return self._info([node.metadata async for _, node in self.members(max_depth=None)])

    @property
    def store_path(self) -> str:
        """Where the group is: ``"<store URL>/<path>"``, as zarr-python 3 prints it."""
        return store_path(self.store, self.path)

    def __repr__(self) -> str:
        return f"<AsyncGroup {self.store_path}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AsyncGroup):
            return NotImplemented
        return self.store == other.store and self.path == other.path and self.metadata == other.metadata

    __hash__ = None  # type: ignore[assignment]

    def _check_writable(self) -> None:
        if self.store.read_only:
            raise ReadOnlyError(f"cannot change group {self.name!r}: it was opened read-only")

    async def _save_metadata(self, metadata: GroupMetadata) -> None:
        await write_documents(self.store, self.path, metadata.to_json_bytes())
        self.metadata = metadata

    async def update_attributes(self, new_attributes: Mapping[str, Any]) -> AsyncGroup:
        """Merge ``new_attributes`` into the attributes and save them."""
        self._check_writable()
        await self._save_metadata(self.metadata.update_attributes({**self.metadata.attributes, **new_attributes}))
        return self

    async def replace_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Replace all attributes with ``attributes`` and save them."""
        self._check_writable()
        await self._save_metadata(self.metadata.update_attributes(dict(attributes)))

    # -- consolidated metadata kept in step with changes made through this group -------------------------
    def _relative(self, path: str) -> str:
        return path[len(self.path) + 1 :] if self.path else path

    def _consolidated_with(
        self, entries: Mapping[str, ArrayMetadata | GroupMetadata | None]
    ) -> ConsolidatedMetadata | None:
        consolidated = self.consolidated
        if consolidated is None:
            return None
        flat: dict[str, Any] = dict(consolidated.metadata)
        for relative, meta in entries.items():
            for key in [k for k in flat if k == relative or k.startswith(f"{relative}/")]:
                del flat[key]
            if isinstance(meta, GroupMetadata):  # subgroups carry an empty marker, as zarr-python writes them
                flat[relative] = replace(meta, consolidated_metadata=ConsolidatedMetadata())
            elif meta is not None:
                flat[relative] = meta
        return ConsolidatedMetadata(metadata=flat)

    def _remember(
        self, created: Mapping[str, ArrayMetadata | GroupMetadata], parents: Sequence[str] = ()
    ) -> None:
        """Show nodes created through this group (store paths, and the parent groups written for them) in its
        in-memory consolidated metadata, so it lists them (the stored document changes at the next
        ``consolidate_metadata``)."""
        entries: dict[str, ArrayMetadata | GroupMetadata] = {
            p: GroupMetadata(zarr_format=self.zarr_format) for p in parents
        }
        entries.update(created)
        consolidated = self._consolidated_with({self._relative(p): m for p, m in entries.items() if p != self.path})
        if consolidated is not None:
            self.metadata = replace(self.metadata, consolidated_metadata=consolidated)

    # -- members ---------------------------------------------------------------------------------------
    def _child_path(self, name: str) -> str:
        if not isinstance(name, str):
            raise TypeError(f"member names must be str, got {type(name).__name__}: {name!r}")
        path = join_path(self.path, name)
        if path == self.path:
            raise ValueError(f"{name!r} names the group itself, not a member")
        return path

    def _from_consolidated(self, relative: str) -> AsyncArray | AsyncGroup | None:
        consolidated = self.consolidated
        assert consolidated is not None
        found = consolidated.get(relative)
        if found is None:
            return None
        if isinstance(found, GroupMetadata):
            found = replace(found, consolidated_metadata=consolidated.subtree(relative))
        return self._adopt(node_from_metadata(found, self.store, join_path(self.path, relative)))

    async def getitem(self, name: str) -> AsyncArray | AsyncGroup:
        """The member at ``name`` (a relative path such as ``"a/b"``); KeyError when missing.

        A group opened with consolidated metadata answers from it (no store reads), as zarr-python does.
        """
        path = self._child_path(name)
        if self.consolidated is not None:
            node = self._from_consolidated(self._relative(path))
            if node is None:
                raise NodeNotFoundError(f"{name!r} is not a member of group {self.name!r} (consolidated metadata)")
            return node
        try:
            return self._adopt(await open_node(self.store, path, zarr_format=self.zarr_format))
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
        if self.consolidated is None and await existing_node(self.store, path) is None:
            raise NodeNotFoundError(f"{name!r} is not a member of group {self.name!r}")
        if self.consolidated is not None and self._from_consolidated(self._relative(path)) is None:
            raise NodeNotFoundError(f"{name!r} is not a member of group {self.name!r} (consolidated metadata)")
        await delete_node(self.store, path)
        consolidated = self._consolidated_with({self._relative(path): None})
        if consolidated is not None:  # saved at once, as zarr-python does
            await self._save_metadata(replace(self.metadata, consolidated_metadata=consolidated))

    async def setitem(self, name: str, value: Any) -> None:
        """``group[name] = ndarray``: create (or replace) an array holding ``value``."""
        if isinstance(value, AsyncGroup):
            raise TypeError("cannot assign a group; use copy() or move() to place groups")
        if isinstance(value, AsyncArray):
            value = await value.get_selection(Ellipsis, "basic")
        self._check_writable()
        # zarr-python 3 writes it with save_array: create_array's defaults, not Group.create_array's
        array, parents = await create_array_node_with_parents(
            self.store, self._child_path(name), data=np.asarray(value), overwrite=True, zarr_format=self.zarr_format
        )
        self._remember({array.path: array.metadata}, parents)

    async def _member_names(self) -> list[str]:
        names = [child async for child in self.store.list_dir(self.path)]
        return sorted(n for n in names if not n.startswith(".") and n != "zarr.json")

    async def members(
        self, max_depth: int | None = 0, *, use_consolidated_for_children: bool = True
    ) -> AsyncIterator[tuple[str, AsyncArray | AsyncGroup]]:
        """Yield ``(relative path, node)`` for every member, depth-first, names sorted at each level.

        ``max_depth=0`` gives the direct members, ``1`` also theirs, ``None`` the whole hierarchy. A group
        with consolidated metadata answers from it; ``use_consolidated_for_children=False`` makes subgroups
        found in the store ignore theirs.
        """
        _check_depth(max_depth)
        consolidated = self.consolidated
        if consolidated is not None:
            for relative in sorted(consolidated.metadata, key=lambda p: p.split("/")):
                if max_depth is None or relative.count("/") <= max_depth:
                    node = self._from_consolidated(relative)
                    assert node is not None
                    yield relative, node
            return
        names = await self._member_names()
        found = await asyncio.gather(
            *(_open_member(self.store, join_path(self.path, n), self.zarr_format, use_consolidated_for_children)
              for n in names)
        )
        for name, node in zip(names, found, strict=True):
            if node is None:  # a directory without metadata is not a member
                continue
            yield name, self._adopt(node)
            if isinstance(node, AsyncGroup) and (max_depth is None or max_depth > 0):
                deeper = None if max_depth is None else max_depth - 1
                async for sub_name, sub_node in node.members(
                    deeper, use_consolidated_for_children=use_consolidated_for_children
                ):
                    yield f"{name}/{sub_name}", sub_node

    async def nmembers(self, max_depth: int | None = 0) -> int:
        """The number of members down to ``max_depth`` (see :meth:`members`)."""
        return len([name async for name, _ in self.members(max_depth)])

    async def keys(self) -> AsyncIterator[str]:
        """The names of the direct members, sorted."""
        async for name, _ in self.members():
            yield name

    async def arrays(self) -> AsyncIterator[tuple[str, AsyncArray]]:
        """``(name, array)`` for the direct member arrays."""
        async for name, node in self.members():
            if isinstance(node, AsyncArray):
                yield name, node

    async def groups(self) -> AsyncIterator[tuple[str, AsyncGroup]]:
        """``(name, group)`` for the direct member groups."""
        async for name, node in self.members():
            if isinstance(node, AsyncGroup):
                yield name, node

    async def array_keys(self) -> AsyncIterator[str]:
        """The names of the direct member arrays."""
        async for name, _ in self.arrays():
            yield name

    async def group_keys(self) -> AsyncIterator[str]:
        """The names of the direct member groups."""
        async for name, _ in self.groups():
            yield name

    async def array_values(self) -> AsyncIterator[AsyncArray]:
        """The direct member arrays."""
        async for _, node in self.arrays():
            yield node

    async def group_values(self) -> AsyncIterator[AsyncGroup]:
        """The direct member groups."""
        async for _, node in self.groups():
            yield node

    async def tree(
        self, expand: bool | None = None, level: int | None = None, *, max_nodes: int = 500, plain: bool = False
    ) -> TreeRepr:
        """A text tree of the hierarchy below (``level``: the depth shown, None for all)."""
        if expand is not None:
            raise NotImplementedError("tree(expand=...) is not supported (as in zarr-python 3)")
        members: list[tuple[str, AsyncArray | AsyncGroup]] = []
        truncated = False
        async for item in self.members(max_depth=level):
            if len(members) == max_nodes:
                truncated = True
                break
            members.append(item)
        return render_tree(self.name, members, plain=plain, truncated_at=max_nodes if truncated else None)

    # -- creating members --------------------------------------------------------------------------------
    async def create_group(
        self, name: str, *, overwrite: bool = False, attributes: Mapping[str, Any] | None = None
    ) -> AsyncGroup:
        """Create a subgroup (intermediate groups included)."""
        self._check_writable()
        group, parents = await AsyncGroup._create(
            self.store, self._child_path(name), attributes=attributes, zarr_format=self.zarr_format,
            overwrite=overwrite,
        )
        self._remember({group.path: group.metadata}, parents)
        return self._adopt(group)

    async def require_group(self, name: str, *, overwrite: bool = False) -> AsyncGroup:
        """The subgroup ``name``, created if missing; TypeError if an array is there."""
        if overwrite:
            return await self.create_group(name, overwrite=True)
        node = await self.get(name)
        if node is None:
            return await self.create_group(name)
        if not isinstance(node, AsyncGroup):
            raise TypeError(f"Incompatible object (an array) already exists at {name!r}, not a group")
        return node

    async def require_groups(self, *names: str) -> tuple[AsyncGroup, ...]:
        """:meth:`require_group` for each name."""
        return tuple(await asyncio.gather(*(self.require_group(name) for name in names)))

    async def create_array(self, name: str, **kwargs: Any) -> AsyncArray:
        """Create an array member; keyword arguments as :func:`zarrlayered.create_array`.

        As zarr-python 3's ``Group.create_array``: ``compressor=`` (one codec or None) is accepted too, and a
        V2 array without ``compressors`` gets numcodecs' default Blosc compressor.
        """
        self._check_writable()
        if kwargs.get("zarr_format") is None:
            kwargs["zarr_format"] = self.zarr_format
        compressor = kwargs.pop("compressor", "auto")
        if compressor != "auto":
            if kwargs.get("compressors", "auto") != "auto":
                raise ValueError("pass either compressor= or compressors=, not both")
            kwargs["compressors"] = [] if compressor is None else [compressor]
        elif kwargs["zarr_format"] == 2 and kwargs.get("compressors", "auto") == "auto":
            kwargs["compressors"] = [{"id": "blosc"}]
        config = kwargs.pop("config", None) or {}
        kwargs.setdefault("write_empty_chunks", config.get("write_empty_chunks"))
        chunk_store = self.array_options.get("chunk_store")
        if kwargs.get("data") is not None and chunk_store is not None:  # data goes to the chunk store
            data = kwargs.pop("data")
            kwargs.setdefault("shape", np.shape(data))
            kwargs.setdefault("dtype", getattr(data, "dtype", None))
        else:
            data = None
        array, parents = await create_array_node_with_parents(self.store, self._child_path(name), **kwargs)
        self._remember({array.path: array.metadata}, parents)
        adopted: AsyncArray = self._adopt(array)
        if chunk_store is not None:
            await chunk_store.delete_dir(array.path)
        if data is not None:
            await adopted.set_selection(Ellipsis, data, "basic")
        return adopted

    async def create_dataset(self, name: str, **kwargs: Any) -> AsyncArray:
        """Same as :meth:`create_array` (the zarr-python 2 name)."""
        kwargs.pop("exact", None)
        return await self.create_array(name, **kwargs)

    async def require_array(self, name: str, *, shape: Any, dtype: Any = None, exact: bool = False,
                            **kwargs: Any) -> AsyncArray:
        """The array ``name``, created if missing.

        An existing array must have the same shape and, with ``exact=True``, the same dtype; otherwise its
        dtype must cast safely to ``dtype`` (None means float64, as in zarr-python). TypeError if not, or if
        a group is there.
        """
        node = await self.get(name)
        if node is None:
            return await self.create_array(name, shape=shape, dtype=dtype, **kwargs)
        if not isinstance(node, AsyncArray):
            raise TypeError(f"Incompatible object (a group) already exists at {name!r}, not an array")
        wanted_shape = _shape_tuple(shape)
        if node.shape != wanted_shape:
            raise TypeError(f"Incompatible shape ({node.shape} vs {wanted_shape}) for array {name!r}")
        if dtype in (str, "str", "string") and node.dtype.kind in "OTU":
            return node
        wanted = np.dtype(dtype)
        if (exact and node.dtype != wanted) or (not exact and not np.can_cast(node.dtype, wanted)):
            raise TypeError(f"Incompatible dtype ({node.dtype} vs {wanted}) for array {name!r}")
        return node

    async def require_dataset(self, name: str, *, shape: Any, **kwargs: Any) -> AsyncArray:
        """Same as :meth:`require_array` (the zarr-python 2 name)."""
        return await self.require_array(name, shape=shape, **kwargs)

    async def empty(self, *, name: str, shape: Any, **kwargs: Any) -> AsyncArray:
        """An array whose elements read as the fill value until written."""
        return await self.create_array(name, shape=shape, **kwargs)

    async def zeros(self, *, name: str, shape: Any, **kwargs: Any) -> AsyncArray:
        """An array of zeros."""
        return await self.create_array(name, shape=shape, **{**kwargs, "fill_value": 0})

    async def ones(self, *, name: str, shape: Any, **kwargs: Any) -> AsyncArray:
        """An array of ones."""
        return await self.create_array(name, shape=shape, **{**kwargs, "fill_value": 1})

    async def full(self, *, name: str, shape: Any, fill_value: Any, **kwargs: Any) -> AsyncArray:
        """An array filled with ``fill_value``."""
        return await self.create_array(name, shape=shape, fill_value=fill_value, **kwargs)

    @staticmethod
    def _like(data: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        if not hasattr(data, "shape") or not hasattr(data, "dtype"):
            data = np.asarray(data)
        kwargs.setdefault("shape", tuple(data.shape))
        kwargs.setdefault("dtype", data.dtype)
        chunks = getattr(data, "chunks", None)
        if isinstance(chunks, tuple) and all(isinstance(c, int) for c in chunks):
            kwargs.setdefault("chunks", chunks)
        return kwargs

    async def empty_like(self, *, name: str, data: Any, **kwargs: Any) -> AsyncArray:
        """An empty array shaped like ``data`` (with the fill value of a Zarr array)."""
        kwargs.setdefault("fill_value", getattr(data, "fill_value", None))
        return await self.empty(name=name, **self._like(data, kwargs))

    async def zeros_like(self, *, name: str, data: Any, **kwargs: Any) -> AsyncArray:
        """A zero array shaped like ``data``."""
        return await self.zeros(name=name, **self._like(data, kwargs))

    async def ones_like(self, *, name: str, data: Any, **kwargs: Any) -> AsyncArray:
        """An array of ones shaped like ``data``."""
        return await self.ones(name=name, **self._like(data, kwargs))

    async def full_like(self, *, name: str, data: Any, **kwargs: Any) -> AsyncArray:
        """An array shaped like ``data`` filled with ``fill_value`` (default: ``data``'s fill value)."""
        fill_value = kwargs.pop("fill_value", getattr(data, "fill_value", None))
        return await self.full(name=name, fill_value=fill_value, **self._like(data, kwargs))

    async def create_hierarchy(
        self, nodes: Mapping[str, NodeMetadata], *, overwrite: bool = False
    ) -> AsyncIterator[tuple[str, AsyncArray | AsyncGroup]]:
        """Write many nodes (paths relative to this group) in one concurrent batch; yields ``(path, node)``.

        Missing parents are created; this group itself cannot be named (``""``).
        """
        self._check_writable()
        relative = {normalize_path(p): m for p, m in nodes.items()}
        if "" in relative:
            raise ValueError("create_hierarchy on a group: the path '' is the group itself; name members only")
        for meta in relative.values():
            if meta.zarr_format != self.zarr_format:
                raise ValueError(
                    f"create_hierarchy: a Zarr V{meta.zarr_format} node cannot go into a Zarr V{self.zarr_format} group"
                )
        absolute = {join_path(self.path, p): m for p, m in relative.items()}
        marker = f"{self.path}/" if self.path else ""
        written = [
            (path, node)
            for path, node in await create_nodes(self.store, absolute, overwrite=overwrite)
            if path != self.path and path.startswith(marker)
        ]
        self._remember({path: node.metadata for path, node in written})
        for path, node in written:
            yield self._relative(path), node

    # -- moving --------------------------------------------------------------------------------------
    async def move(self, source: str, dest: str) -> None:
        """Move the member ``source`` (and everything below it) to ``dest``, both relative to this group.

        Missing parents of ``dest`` are created. The store's rename is used where it has one (local
        files, memory, zip archives); otherwise the keys are copied and the old ones deleted.
        zarr-python 3 raises NotImplementedError here.
        """
        self._check_writable()
        src, dst = self._child_path(source), self._child_path(dest)
        if dst == src or dst.startswith(f"{src}/"):
            raise ValueError(f"cannot move {source!r} into itself ({dest!r})")
        node = await existing_node(self.store, src)
        if node is None:
            raise NodeNotFoundError(f"{source!r} is not a member of group {self.name!r}")
        if await existing_node(self.store, dst) is not None or not await self.store.is_empty(dst):
            raise ContainsGroupError(f"cannot move to {dest!r}: something already exists there")
        parents = await ensure_parents(self.store, dst, self.zarr_format)
        try:
            await self.store.rename(src, dst)
        except NotImplementedError:
            keys = [key async for key in self.store.list_prefix(f"{src}/")]
            values = await self.store.get_partial_values([(key, None) for key in keys])
            pairs = [(dst + key[len(src):], v) for key, v in zip(keys, values, strict=True) if v is not None]
            await asyncio.gather(*(self.store.set(key, value) for key, value in pairs))
            await delete_node(self.store, src)
        if self.consolidated is not None:  # saved at once, as a delete is
            rel_src, rel_dst = self._relative(src), self._relative(dst)
            entries: dict[str, ArrayMetadata | GroupMetadata | None] = {
                self._relative(p): GroupMetadata(zarr_format=self.zarr_format) for p in parents if p != self.path
            }
            entries[rel_src] = None
            entries.update({
                rel_dst + key[len(rel_src):]: meta for key, meta in self.consolidated.metadata.items()
                if key == rel_src or key.startswith(f"{rel_src}/")
            })
            await self._save_metadata(replace(self.metadata, consolidated_metadata=self._consolidated_with(entries)))


async def _open_member(
    store: Store, path: str, zarr_format: Literal[2, 3], use_consolidated: bool
) -> AsyncArray | AsyncGroup | None:
    consolidated = None if use_consolidated else False
    try:
        return await open_node(store, path, zarr_format=zarr_format, use_consolidated=consolidated)
    except NodeNotFoundError:
        return None

"""Group: the synchronous group of the new front end, a thin wrapper over :class:`AsyncGroup`.

It has zarr-python 3's ``zarr.Group`` API (a mapping of relative paths to arrays and groups) plus what
zarr-python 3 left out: ``visit``/``visitkeys``/``visitvalues``/``visititems`` and a working ``move``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any, Literal, TypeVar

from zarrlayered.array import Array
from zarrlayered.attributes import Attributes
from zarrlayered.core.array import AsyncArray
from zarrlayered.core.group import AsyncGroup
from zarrlayered.core.metadata import GroupMetadata, NodeMetadata
from zarrlayered.core.sync import sync
from zarrlayered.info import GroupInfo
from zarrlayered.tree import TreeRepr

__all__ = ["Group", "wrap_node"]

_T = TypeVar("_T")


def wrap_node(node: AsyncArray | AsyncGroup) -> Array | Group:
    """The sync front-end object for an engine node."""
    return Group(node) if isinstance(node, AsyncGroup) else Array(node)


def _plain(value: Any) -> Any:
    """Read a front-end array given as data (the engine never calls back into the sync front end)."""
    return value[...] if isinstance(value, Array) else value


def _collect(iterator: AsyncIterator[_T]) -> list[_T]:
    async def run() -> list[_T]:
        return [item async for item in iterator]

    return sync(run())


class Group:
    """A Zarr group (V2 or V3) with zarr-python 3's API: a mapping of names to arrays and groups.

    Parameters
    ----------
    async_group
        The engine's group to wrap.

    Notes
    -----
    Member names are relative paths: ``g["a/b"]``, ``"a/b" in g`` and ``del g["a/b"]`` reach below
    direct members. ``keys()`` and the other listings are sorted by name. A missing member is a KeyError
    (:class:`~zarrlayered.errors.NodeNotFoundError`); changing a group opened read-only is a
    :class:`~zarrlayered.errors.ReadOnlyError` (a PermissionError).
    """

    def __init__(self, async_group: AsyncGroup) -> None:
        if not isinstance(async_group, AsyncGroup):
            raise TypeError(f"Group wraps an AsyncGroup, got {type(async_group).__name__}")
        self._async_group = async_group

    @classmethod
    def from_store(
        cls,
        store: Any,
        *,
        attributes: Mapping[str, Any] | None = None,
        zarr_format: Literal[2, 3] = 3,
        overwrite: bool = False,
    ) -> Group:
        """Create a root group in ``store`` (a Store, path, URL, dict or None)."""
        from zarrlayered.api import create_group

        return create_group(store, attributes=attributes, zarr_format=zarr_format, overwrite=overwrite)

    @classmethod
    def open(cls, store: Any, zarr_format: Literal[2, 3] | None = 3) -> Group:
        """Open the root group of ``store`` (KeyError when there is none; nothing is created)."""
        from zarrlayered.api import open_group

        read_only = bool(getattr(store, "read_only", False))
        return open_group(store, mode="r" if read_only else "r+", zarr_format=zarr_format)

    @property
    def async_group(self) -> AsyncGroup:
        """The engine's group (for ``await`` in async code)."""
        return self._async_group

    # -- description -------------------------------------------------------------------------------
    @property
    def metadata(self) -> GroupMetadata:
        """The group's metadata."""
        return self._async_group.metadata

    @property
    def store(self) -> Any:
        """The store holding the hierarchy."""
        return self._async_group.store

    @property
    def store_path(self) -> str:
        """Where the group is: ``"<store URL>/<path>"``, as zarr-python 3 prints it."""
        return self._async_group.store_path

    @property
    def path(self) -> str:
        """The group's path in the store ("" for the root)."""
        return self._async_group.path

    @property
    def name(self) -> str:
        """The absolute name in the hierarchy ("/" for the root)."""
        return self._async_group.name

    @property
    def basename(self) -> str:
        """The last part of :attr:`name`."""
        return self._async_group.basename

    @property
    def zarr_format(self) -> int:
        """2 or 3."""
        return self._async_group.zarr_format

    @property
    def read_only(self) -> bool:
        """True when the group refuses changes."""
        return self._async_group.read_only

    @property
    def synchronizer(self) -> None:
        """Always None (zarr-python 2 synchronizers are not used)."""
        return None

    @property
    def attrs(self) -> Attributes:
        """The user attributes, live: reads see the latest values, each change is saved at once."""
        engine = self._async_group
        return Attributes(lambda: engine.metadata.attributes, lambda a: sync(engine.replace_attributes(a)))

    def update_attributes(self, new_attributes: Mapping[str, Any]) -> Group:
        """Merge ``new_attributes`` into the attributes and save them; returns this group."""
        sync(self._async_group.update_attributes(new_attributes))
        return self

    async def update_attributes_async(self, new_attributes: Mapping[str, Any]) -> Group:
        """:meth:`update_attributes` for async code."""
        await self._async_group.update_attributes(new_attributes)
        return self

    @property
    def info(self) -> GroupInfo:
        """What is known without listing the store (member counts only with consolidated metadata)."""
        return self._async_group.info

    def info_complete(self) -> GroupInfo:
        """:attr:`info` with the number of members, arrays and groups below (at any depth)."""
        return sync(self._async_group.info_complete())

    def __repr__(self) -> str:
        return f"<Group {self.store_path}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Group):
            return NotImplemented
        return self._async_group == other._async_group

    __hash__ = None  # type: ignore[assignment]

    # -- mapping protocol ----------------------------------------------------------------------------
    def __getitem__(self, path: str) -> Array | Group:
        return wrap_node(sync(self._async_group.getitem(path)))

    def get(self, path: str, default: Any = None) -> Any:
        """The member at ``path``, or ``default``."""
        node = sync(self._async_group.get(path))
        return default if node is None else wrap_node(node)

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            raise TypeError(f"member paths are str, got {type(path).__name__}: {path!r}")
        return sync(self._async_group.contains(path))

    def __delitem__(self, path: str) -> None:
        sync(self._async_group.delitem(path))

    def __setitem__(self, path: str, value: Any) -> None:
        """``g[path] = data`` creates (or replaces) an array holding ``data`` with default settings."""
        sync(self._async_group.setitem(path, _plain(value)))

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return self.nmembers()

    def keys(self) -> list[str]:
        """The names of the direct members, sorted."""
        return _collect(self._async_group.keys())

    def members(
        self, max_depth: int | None = 0, *, use_consolidated_for_children: bool = True
    ) -> tuple[tuple[str, Array | Group], ...]:
        """``(relative path, node)`` for the members down to ``max_depth`` levels below (None: all).

        ``max_depth=0`` lists the direct members. The order is depth-first, names sorted at each level.
        """
        found = _collect(
            self._async_group.members(max_depth, use_consolidated_for_children=use_consolidated_for_children)
        )
        return tuple((name, wrap_node(node)) for name, node in found)

    def nmembers(self, max_depth: int | None = 0) -> int:
        """The number of members down to ``max_depth`` (see :meth:`members`)."""
        return sync(self._async_group.nmembers(max_depth))

    def values(self) -> list[Array | Group]:
        """The direct members."""
        return [node for _, node in self.members()]

    def items(self) -> list[tuple[str, Array | Group]]:
        """``(name, node)`` for the direct members."""
        return list(self.members())

    def arrays(self) -> list[tuple[str, Array]]:
        """``(name, array)`` for the direct member arrays."""
        return [(name, node) for name, node in self.members() if isinstance(node, Array)]

    def groups(self) -> list[tuple[str, Group]]:
        """``(name, group)`` for the direct member groups."""
        return [(name, node) for name, node in self.members() if isinstance(node, Group)]

    def array_keys(self) -> list[str]:
        """The names of the direct member arrays."""
        return [name for name, _ in self.arrays()]

    def group_keys(self) -> list[str]:
        """The names of the direct member groups."""
        return [name for name, _ in self.groups()]

    def array_values(self) -> list[Array]:
        """The direct member arrays."""
        return [node for _, node in self.arrays()]

    def group_values(self) -> list[Group]:
        """The direct member groups."""
        return [node for _, node in self.groups()]

    # -- visiting (zarr-python 2 and h5py; zarr-python 3 has none) -----------------------------------------
    def visititems(self, func: Callable[[str, Array | Group], _T | None]) -> _T | None:
        """Call ``func(path, node)`` for every node below, depth-first; return the first non-None result."""
        for name, node in self.members(max_depth=None):
            result = func(name, node)
            if result is not None:
                return result
        return None

    def visit(self, func: Callable[[str], _T | None]) -> _T | None:
        """Call ``func(path)`` for every node below; return the first non-None result."""
        return self.visititems(lambda name, _node: func(name))

    def visitkeys(self, func: Callable[[str], _T | None]) -> _T | None:
        """Same as :meth:`visit`."""
        return self.visit(func)

    def visitvalues(self, func: Callable[[Array | Group], _T | None]) -> _T | None:
        """Call ``func(node)`` for every node below; return the first non-None result."""
        return self.visititems(lambda _name, node: func(node))

    def tree(
        self, expand: bool | None = None, level: int | None = None, *, max_nodes: int = 500, plain: bool = False
    ) -> TreeRepr:
        """A text tree of the hierarchy below this group, as zarr-python 3 draws it.

        Parameters
        ----------
        expand
            Not supported (NotImplementedError), as in zarr-python 3.
        level
            How many levels below the direct members to show (None: all).
        max_nodes
            Stop after this many nodes (a note on the first line says so).
        plain
            No bold names even on a terminal.
        """
        return sync(self._async_group.tree(expand=expand, level=level, max_nodes=max_nodes, plain=plain))

    # -- creating members ------------------------------------------------------------------------------
    def create_group(self, name: str, *, overwrite: bool = False, attributes: Mapping[str, Any] | None = None) -> Group:
        """Create a subgroup (missing intermediate groups included); ContainsGroupError if one is there."""
        return Group(sync(self._async_group.create_group(name, overwrite=overwrite, attributes=attributes)))

    def require_group(self, name: str, *, overwrite: bool = False) -> Group:
        """The subgroup ``name``, created if missing; TypeError if an array is there."""
        return Group(sync(self._async_group.require_group(name, overwrite=overwrite)))

    def require_groups(self, *names: str) -> tuple[Group, ...]:
        """:meth:`require_group` for each name."""
        return tuple(Group(g) for g in sync(self._async_group.require_groups(*names)))

    def create_array(self, name: str, **kwargs: Any) -> Array:
        """Create an array member; keyword arguments as :func:`zarrlayered.create_array`."""
        kwargs["data"] = _plain(kwargs.get("data"))
        return Array(sync(self._async_group.create_array(name, **kwargs)))

    def create_dataset(self, name: str, **kwargs: Any) -> Array:
        """Create an array (the zarr-python 2 name; also takes ``compressor=``)."""
        kwargs["data"] = _plain(kwargs.get("data"))
        return Array(sync(self._async_group.create_dataset(name, **kwargs)))

    def create(self, name: str, **kwargs: Any) -> Array:
        """Same as :meth:`create_array`."""
        return self.create_array(name, **kwargs)

    def array(self, name: str, *, data: Any = None, **kwargs: Any) -> Array:
        """Create an array holding ``data`` (the deprecated zarr-python 3 spelling of :meth:`create_array`)."""
        return self.create_array(name, data=data, **kwargs)

    def require_array(self, name: str, *, shape: Any, dtype: Any = None, exact: bool = False, **kwargs: Any) -> Array:
        """The array ``name``, created if missing.

        An existing array must have this shape and a dtype that casts safely to ``dtype`` (equal with
        ``exact=True``); otherwise TypeError, as in zarr-python 3. TypeError too when a group is there.
        """
        return Array(sync(self._async_group.require_array(name, shape=shape, dtype=dtype, exact=exact, **kwargs)))

    def require_dataset(self, name: str, *, shape: Any, **kwargs: Any) -> Array:
        """Same as :meth:`require_array`."""
        return self.require_array(name, shape=shape, **kwargs)

    def empty(self, *, name: str, shape: Any, **kwargs: Any) -> Array:
        """An array whose elements read as the fill value until written."""
        return Array(sync(self._async_group.empty(name=name, shape=shape, **kwargs)))

    def zeros(self, *, name: str, shape: Any, **kwargs: Any) -> Array:
        """An array of zeros."""
        return Array(sync(self._async_group.zeros(name=name, shape=shape, **kwargs)))

    def ones(self, *, name: str, shape: Any, **kwargs: Any) -> Array:
        """An array of ones."""
        return Array(sync(self._async_group.ones(name=name, shape=shape, **kwargs)))

    def full(self, *, name: str, shape: Any, fill_value: Any, **kwargs: Any) -> Array:
        """An array filled with ``fill_value``."""
        return Array(sync(self._async_group.full(name=name, shape=shape, fill_value=fill_value, **kwargs)))

    @staticmethod
    def _source(data: Any) -> Any:
        return data.async_array if isinstance(data, Array) else data

    def empty_like(self, *, name: str, data: Any, **kwargs: Any) -> Array:
        """An empty array with the shape, dtype (and chunks) of ``data``."""
        return Array(sync(self._async_group.empty_like(name=name, data=self._source(data), **kwargs)))

    def zeros_like(self, *, name: str, data: Any, **kwargs: Any) -> Array:
        """A zero array shaped like ``data``."""
        return Array(sync(self._async_group.zeros_like(name=name, data=self._source(data), **kwargs)))

    def ones_like(self, *, name: str, data: Any, **kwargs: Any) -> Array:
        """An array of ones shaped like ``data``."""
        return Array(sync(self._async_group.ones_like(name=name, data=self._source(data), **kwargs)))

    def full_like(self, *, name: str, data: Any, **kwargs: Any) -> Array:
        """An array shaped like ``data`` filled with ``fill_value`` (default: ``data``'s fill value)."""
        return Array(sync(self._async_group.full_like(name=name, data=self._source(data), **kwargs)))

    def create_hierarchy(
        self, nodes: Mapping[str, NodeMetadata], *, overwrite: bool = False
    ) -> Iterator[tuple[str, Array | Group]]:
        """Write many nodes (paths relative to this group, parents added) in one concurrent batch.

        Yields ``(path, node)`` for every node written, parents first.
        """
        created = _collect(self._async_group.create_hierarchy(nodes, overwrite=overwrite))
        return iter([(path, wrap_node(node)) for path, node in created])

    def move(self, source: str, dest: str) -> None:
        """Move the member ``source`` (with everything below it) to ``dest`` (zarr-python 3 cannot)."""
        sync(self._async_group.move(source, dest))

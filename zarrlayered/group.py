"""Group: the synchronous group of the new front end, a thin wrapper over :class:`AsyncGroup`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from zarrlayered.array import Array
from zarrlayered.attributes import Attributes
from zarrlayered.core.array import AsyncArray
from zarrlayered.core.group import AsyncGroup
from zarrlayered.core.sync import sync
from zarrlayered.info import GroupInfo
from zarrlayered.tree import render_tree

__all__ = ["Group", "wrap_node"]


def wrap_node(node: AsyncArray | AsyncGroup) -> Array | Group:
    """The sync front-end object for an engine node."""
    return Group(node) if isinstance(node, AsyncGroup) else Array(node)


class Group:
    """A Zarr group (V2 or V3) with zarr-python 3's API: a mapping of names to arrays and groups.

    Parameters
    ----------
    async_group
        The engine's group to wrap.
    """

    def __init__(self, async_group: AsyncGroup) -> None:
        if not isinstance(async_group, AsyncGroup):
            raise TypeError(f"Group wraps an AsyncGroup, got {type(async_group).__name__}")
        self._async_group = async_group

    @property
    def async_group(self) -> AsyncGroup:
        """The engine's group (for ``await`` in async code)."""
        return self._async_group

    # -- description -------------------------------------------------------------------------------
    @property
    def metadata(self) -> Any:
        """The group's metadata."""
        return self._async_group.metadata

    @property
    def store(self) -> Any:
        """The store holding the hierarchy."""
        return self._async_group.store

    @property
    def path(self) -> str:
        """The group's path in the store."""
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
    def attrs(self) -> Attributes:
        """The user attributes; changes are saved at once."""
        engine = self._async_group
        return Attributes(lambda: engine.metadata.attributes, lambda a: sync(engine.replace_attributes(a)))

    def update_attributes(self, new_attributes: Mapping[str, Any]) -> Group:
        """Merge ``new_attributes`` into the attributes and save them."""
        sync(self._async_group.update_attributes(new_attributes))
        return self

    @property
    def info(self) -> GroupInfo:
        """A description of the group."""
        return GroupInfo(self.name, self.zarr_format, self.read_only, type(self.store).__name__)

    def info_complete(self) -> GroupInfo:
        """:attr:`info` with member counts (lists the store)."""
        members = list(self.members())
        arrays = sum(1 for _, node in members if isinstance(node, Array))
        return GroupInfo(
            self.name, self.zarr_format, self.read_only, type(self.store).__name__,
            len(members), arrays, len(members) - arrays,
        )

    def __repr__(self) -> str:
        return f"<Group {self.store!r}{self.name}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Group):
            return NotImplemented
        return self.store == other.store and self.path == other.path

    __hash__ = None  # type: ignore[assignment]

    # -- mapping protocol ----------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Array | Group:
        return wrap_node(sync(self._async_group.getitem(name)))

    def get(self, name: str, default: Any = None) -> Any:
        """The member at ``name``, or ``default``."""
        node = sync(self._async_group.get(name))
        return default if node is None else wrap_node(node)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and sync(self._async_group.contains(name))

    def __delitem__(self, name: str) -> None:
        sync(self._async_group.delitem(name))

    def __setitem__(self, name: str, value: Any) -> None:
        if isinstance(value, Array):
            value = value[...]
        sync(self._async_group.setitem(name, value))

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def keys(self) -> list[str]:
        """The names of the direct members, sorted."""
        return sync(self._async_group.keys())

    def members(self, max_depth: int | None = 0) -> tuple[tuple[str, Array | Group], ...]:
        """``(relative path, node)`` for every member down to ``max_depth`` levels below (None: all)."""

        async def collect() -> list[tuple[str, AsyncArray | AsyncGroup]]:
            return [item async for item in self._async_group.members(max_depth)]

        return tuple((name, wrap_node(node)) for name, node in sync(collect()))

    def values(self) -> list[Array | Group]:
        """The direct members."""
        return [node for _, node in self.members()]

    def items(self) -> list[tuple[str, Array | Group]]:
        """``(name, node)`` for the direct members."""
        return list(self.members())

    def array_keys(self) -> list[str]:
        """The names of the direct member arrays."""
        return [name for name, node in self.members() if isinstance(node, Array)]

    def group_keys(self) -> list[str]:
        """The names of the direct member groups."""
        return [name for name, node in self.members() if isinstance(node, Group)]

    def arrays(self) -> list[tuple[str, Array]]:
        """``(name, array)`` for the direct member arrays."""
        return [(name, node) for name, node in self.members() if isinstance(node, Array)]

    def groups(self) -> list[tuple[str, Group]]:
        """``(name, group)`` for the direct member groups."""
        return [(name, node) for name, node in self.members() if isinstance(node, Group)]

    # -- visiting ------------------------------------------------------------------------------------
    def visititems(self, func: Callable[[str, Array | Group], Any]) -> Any:
        """Call ``func(path, node)`` for every node below, depth-first; stop at the first non-None result."""
        for name, node in self.members(max_depth=None):
            result = func(name, node)
            if result is not None:
                return result
        return None

    def visit(self, func: Callable[[str], Any]) -> Any:
        """Call ``func(path)`` for every node below; stop at the first non-None result."""
        return self.visititems(lambda name, _node: func(name))

    def visitkeys(self, func: Callable[[str], Any]) -> Any:
        """Same as :meth:`visit`."""
        return self.visit(func)

    def visitvalues(self, func: Callable[[Array | Group], Any]) -> Any:
        """Call ``func(node)`` for every node below; stop at the first non-None result."""
        return self.visititems(lambda _name, node: func(node))

    def tree(self, expand: bool | None = None, level: int | None = None) -> str:
        """A text tree of the hierarchy below this group (``level`` limits the depth)."""
        members = self.members(max_depth=None if level is None else max(level - 1, 0))
        return render_tree(self.name, [(name, node) for name, node in members])

    # -- creating members ------------------------------------------------------------------------------
    def create_group(self, name: str, *, overwrite: bool = False, attributes: Mapping[str, Any] | None = None) -> Group:
        """Create a subgroup (intermediate groups included)."""
        return Group(sync(self._async_group.create_group(name, overwrite=overwrite, attributes=attributes)))

    def require_group(self, name: str, *, overwrite: bool = False) -> Group:
        """The subgroup ``name``, created if missing."""
        return Group(sync(self._async_group.require_group(name, overwrite=overwrite)))

    def require_groups(self, *names: str) -> tuple[Group, ...]:
        """:meth:`require_group` for each name."""
        return tuple(self.require_group(name) for name in names)

    def create_array(self, name: str, **kwargs: Any) -> Array:
        """Create an array member; keyword arguments as :func:`zarrlayered.create_array`."""
        if isinstance(kwargs.get("data"), Array):
            kwargs["data"] = kwargs["data"][...]
        return Array(sync(self._async_group.create_array(name, **kwargs)))

    create_dataset = create_array

    def require_array(self, name: str, *, shape: Any, dtype: Any = None, exact: bool = False, **kwargs: Any) -> Array:
        """The array ``name``, created if missing; TypeError if it exists with another shape or dtype."""
        return Array(sync(self._async_group.require_array(name, shape=shape, dtype=dtype, exact=exact, **kwargs)))

    def _filled(self, name: str, fill: Any, **kwargs: Any) -> Array:
        array = self.create_array(name, **kwargs, fill_value=fill)
        return array

    def empty(self, *, name: str, shape: Any, **kwargs: Any) -> Array:
        """An array whose elements are not initialised (they read as the fill value)."""
        return self.create_array(name, shape=shape, **kwargs)

    def zeros(self, *, name: str, shape: Any, **kwargs: Any) -> Array:
        """An array of zeros."""
        return self._filled(name, 0, shape=shape, **kwargs)

    def ones(self, *, name: str, shape: Any, **kwargs: Any) -> Array:
        """An array of ones."""
        return self._filled(name, 1, shape=shape, **kwargs)

    def full(self, *, name: str, shape: Any, fill_value: Any, **kwargs: Any) -> Array:
        """An array filled with ``fill_value``."""
        return self._filled(name, fill_value, shape=shape, **kwargs)

    def _like(self, data: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        like = data if isinstance(data, Array | np.ndarray) else np.asarray(data)
        kwargs.setdefault("shape", like.shape)
        kwargs.setdefault("dtype", like.dtype)
        if isinstance(like, Array):
            kwargs.setdefault("chunks", like.chunks)
        return kwargs

    def empty_like(self, *, name: str, data: Any, **kwargs: Any) -> Array:
        """An empty array shaped like ``data``."""
        return self.create_array(name, **self._like(data, kwargs))

    def zeros_like(self, *, name: str, data: Any, **kwargs: Any) -> Array:
        """A zero array shaped like ``data``."""
        return self._filled(name, 0, **self._like(data, kwargs))

    def ones_like(self, *, name: str, data: Any, **kwargs: Any) -> Array:
        """An array of ones shaped like ``data``."""
        return self._filled(name, 1, **self._like(data, kwargs))

    def full_like(self, *, name: str, data: Any, fill_value: Any, **kwargs: Any) -> Array:
        """An array shaped like ``data`` filled with ``fill_value``."""
        return self._filled(name, fill_value, **self._like(data, kwargs))

    def move(self, source: str, dest: str) -> None:
        """Move the member ``source`` (with everything below it) to ``dest``."""
        sync(self._async_group.move(source, dest))

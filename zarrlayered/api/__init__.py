"""The top-level functions of the new front end, with zarr-python 3's names and keyword arguments.

Each wraps the coroutine of the same name in :mod:`zarrlayered.api.asynchronous` (or
:mod:`zarrlayered.api.hierarchy`) and returns :class:`~zarrlayered.Array` / :class:`~zarrlayered.Group`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

from zarrlayered.api import asynchronous as _async
from zarrlayered.api import hierarchy as _hier
from zarrlayered.array import Array
from zarrlayered.core.array import AsyncArray
from zarrlayered.core.group import AsyncGroup
from zarrlayered.core.metadata import NodeMetadata
from zarrlayered.core.sync import sync
from zarrlayered.group import Group, wrap_node

__all__ = [
    "array",
    "consolidate_metadata",
    "copy",
    "copy_all",
    "copy_store",
    "create",
    "create_array",
    "create_group",
    "create_hierarchy",
    "empty",
    "empty_like",
    "from_array",
    "full",
    "full_like",
    "group",
    "load",
    "ones",
    "ones_like",
    "open",
    "open_array",
    "open_consolidated",
    "open_group",
    "open_like",
    "save",
    "save_array",
    "save_group",
    "save_many",
    "tree",
    "zeros",
    "zeros_like",
]


def _plain(value: Any) -> Any:
    """Read sync-front-end arrays given as data before they reach the engine."""
    if isinstance(value, Array):
        return value[...]
    return value


def _engine(node: Any) -> AsyncArray | AsyncGroup:
    if isinstance(node, Array):
        return node.async_array
    if isinstance(node, Group):
        return node.async_group
    if isinstance(node, AsyncArray | AsyncGroup):
        return node
    raise TypeError(f"expected an Array or Group, got {type(node).__name__}")


def open(store: Any = None, *, mode: str = "a", zarr_format: Literal[2, 3] | None = None, path: str | None = None,
         storage_options: Mapping[str, Any] | None = None, **kwargs: Any) -> Array | Group:
    """Open the array or group at ``path`` (see :mod:`zarrlayered.api.asynchronous` for the modes)."""
    return wrap_node(sync(_async.open(store, mode=mode, zarr_format=zarr_format, path=path,
                                      storage_options=storage_options, **kwargs)))


def open_array(store: Any = None, *, mode: str = "a", zarr_format: Literal[2, 3] | None = None,
               path: str | None = None, storage_options: Mapping[str, Any] | None = None, **kwargs: Any) -> Array:
    """Open the array at ``path`` (created from ``shape=`` etc. when missing and the mode allows)."""
    return Array(sync(_async.open_array(store, mode=mode, zarr_format=zarr_format, path=path,
                                        storage_options=storage_options, **kwargs)))


def open_group(store: Any = None, *, mode: str = "a", path: str | None = None,
               zarr_format: Literal[2, 3] | None = None, attributes: Mapping[str, Any] | None = None,
               storage_options: Mapping[str, Any] | None = None, use_consolidated: bool | None = None,
               **kwargs: Any) -> Group:
    """Open the group at ``path``, creating it when the mode allows."""
    return Group(sync(_async.open_group(store, mode=mode, path=path, zarr_format=zarr_format, attributes=attributes,
                                        storage_options=storage_options, use_consolidated=use_consolidated,
                                        **kwargs)))


def open_consolidated(store: Any = None, **kwargs: Any) -> Group:
    """Open a group through its consolidated metadata."""
    return Group(sync(_async.open_consolidated(store, **kwargs)))


def open_like(a: Any, path: str, **kwargs: Any) -> Array:
    """Open (or create) an array at ``path`` shaped like ``a``."""
    return Array(sync(_async.open_like(a, path, **kwargs)))


def create_array(store: Any = None, *, name: str | None = None, shape: Any = None, dtype: Any = None,
                 data: Any = None, **kwargs: Any) -> Array:
    """Create an array.

    Parameters
    ----------
    store
        Where: a Store, a path, a URL, a dict or None (memory).
    name
        The array's path in the store.
    shape, dtype
        Shape and data type (taken from ``data`` when given).
    chunks
        ``"auto"``, a chunk shape, or per-axis lists of chunk lengths (variable chunking, V3).
    filters, compressors, serializer
        Codecs as objects or JSON dicts (V3 ``{"name": ..., "configuration": ...}``, V2 ``{"id": ...}``).
    fill_value, order, zarr_format, attributes, chunk_key_encoding, dimension_names
        As in zarr-python 3 (defaults: the data type's fill value, C order, config ``default_zarr_format``).
    overwrite
        Replace whatever is at ``name``.
    data
        Values to write.
    """
    return Array(sync(_async.create_array(store, name=name, shape=shape, dtype=dtype, data=_plain(data), **kwargs)))


def create_group(store: Any = None, **kwargs: Any) -> Group:
    """Create a group (``path=``, ``zarr_format=``, ``overwrite=``, ``attributes=``)."""
    return Group(sync(_async.create_group(store, **kwargs)))


def group(store: Any = None, **kwargs: Any) -> Group:
    """Open or create a group."""
    return Group(sync(_async.group(store, **kwargs)))


def create(shape: Any, **kwargs: Any) -> Array:
    """Create an array with zarr-python 2 style arguments."""
    return Array(sync(_async.create(shape, **kwargs)))


def array(data: Any, **kwargs: Any) -> Array:
    """A new array holding ``data``."""
    return Array(sync(_async.array(_plain(data), **kwargs)))


def from_array(store: Any = None, *, data: Any, **kwargs: Any) -> Array:
    """A new array copying ``data`` (a numpy array or another Zarr array) with its shape, dtype and chunks."""
    source = data.async_array if isinstance(data, Array) else data
    return Array(sync(_async.from_array(store, data=source, **kwargs)))


def empty(shape: Any, **kwargs: Any) -> Array:
    """An array whose elements read as the fill value until written."""
    return Array(sync(_async.empty(shape, **kwargs)))


def zeros(shape: Any, **kwargs: Any) -> Array:
    """An array of zeros."""
    return Array(sync(_async.zeros(shape, **kwargs)))


def ones(shape: Any, **kwargs: Any) -> Array:
    """An array of ones."""
    return Array(sync(_async.ones(shape, **kwargs)))


def full(shape: Any, fill_value: Any, **kwargs: Any) -> Array:
    """An array filled with ``fill_value``."""
    return Array(sync(_async.full(shape, fill_value, **kwargs)))


def empty_like(a: Any, **kwargs: Any) -> Array:
    """An empty array shaped like ``a``."""
    return Array(sync(_async.empty_like(a, **kwargs)))


def zeros_like(a: Any, **kwargs: Any) -> Array:
    """A zero array shaped like ``a``."""
    return Array(sync(_async.zeros_like(a, **kwargs)))


def ones_like(a: Any, **kwargs: Any) -> Array:
    """An array of ones shaped like ``a``."""
    return Array(sync(_async.ones_like(a, **kwargs)))


def full_like(a: Any, **kwargs: Any) -> Array:
    """An array shaped like ``a`` filled with ``fill_value``."""
    return Array(sync(_async.full_like(a, **kwargs)))


def save_array(store: Any, arr: Any, **kwargs: Any) -> None:
    """Write one numpy array to ``store``."""
    sync(_async.save_array(store, _plain(arr), **kwargs))


def save_group(store: Any, *args: Any, **kwargs: Any) -> None:
    """Write several numpy arrays into a new group."""
    sync(_async.save_group(store, *(_plain(a) for a in args), **{k: _plain(v) for k, v in kwargs.items()}))


def save(store: Any, *args: Any, **kwargs: Any) -> None:
    """Save one array, or several into a group."""
    sync(_async.save(store, *(_plain(a) for a in args), **{k: _plain(v) for k, v in kwargs.items()}))


def save_many(store: Any, arrays: Mapping[str, Any], **kwargs: Any) -> Group:
    """Write several arrays (path -> data) concurrently into the group at the store's root."""
    return Group(sync(_hier.save_many(store, {k: _plain(v) for k, v in arrays.items()}, **kwargs)))


def load(store: Any, *, path: str | None = None, zarr_format: Literal[2, 3] | None = None) -> Any:
    """The data at ``path``: a numpy array, or a dict of a group's arrays."""
    return sync(_async.load(store, path=path, zarr_format=zarr_format))


def tree(grp: Group, expand: bool | None = None, level: int | None = None) -> str:
    """A text tree of the hierarchy below ``grp``."""
    return grp.tree(expand=expand, level=level)


def consolidate_metadata(store: Any, path: str | None = None, zarr_format: Literal[2, 3] | None = None) -> Group:
    """Gather every node's metadata under the group at ``path`` into one document; returns the group."""
    return Group(sync(_hier.consolidate_metadata(store, path, zarr_format)))


def create_hierarchy(
    *, store: Any, nodes: Mapping[str, NodeMetadata], overwrite: bool = False
) -> Iterator[tuple[str, Array | Group]]:
    """Write many nodes (path -> metadata) in one concurrent batch; yields ``(path, node)`` for each."""

    async def collect() -> list[tuple[str, AsyncArray | AsyncGroup]]:
        return [item async for item in _hier.create_hierarchy(store=store, nodes=nodes, overwrite=overwrite)]

    return iter([(path, wrap_node(node)) for path, node in sync(collect())])


def copy_store(source: Any, dest: Any, **kwargs: Any) -> tuple[int, int, int]:
    """Copy every key (bytes unchanged) from one store to another; returns (copied, skipped, bytes)."""
    return sync(_hier.copy_store(source, dest, **kwargs))


def copy(source: Array | Group, dest: Group, name: str | None = None, **kwargs: Any) -> int:
    """Copy an array or group into the group ``dest``; returns the number of nodes copied."""
    target = _engine(dest)
    if not isinstance(target, AsyncGroup):
        raise TypeError("copy: dest must be a Group")
    return sync(_hier.copy(_engine(source), target, name, **kwargs))


def copy_all(source: Group, dest: Group, **kwargs: Any) -> int:
    """Copy every member of ``source`` into ``dest``; returns the number of nodes copied."""
    src, dst = _engine(source), _engine(dest)
    if not isinstance(src, AsyncGroup) or not isinstance(dst, AsyncGroup):
        raise TypeError("copy_all copies a Group into a Group")
    return sync(_hier.copy_all(src, dst, **kwargs))



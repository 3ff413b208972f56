"""The top-level functions of the new front end, with zarr-python 3's names and keyword arguments.

Each wraps the coroutine of the same name in :mod:`zarrlayered.api.asynchronous` (or
:mod:`zarrlayered.api.hierarchy`) and returns :class:`~zarrlayered.Array` / :class:`~zarrlayered.Group`,
so code written for ``import zarr`` (zarr-python 3) runs with ``import zarrlayered as zarr``.

Modes, as zarr-python defines them: ``r`` read only (nothing is created); ``r+`` read and write (nothing
is created); ``a`` read and write, created if missing; ``w`` create, replacing what is there; ``w-`` and
``x`` create, failing if something is there. A missing store is FileNotFoundError, a missing node with
``r``/``r+`` a KeyError (:class:`~zarrlayered.errors.NodeNotFoundError`), a write through something opened
read-only a :class:`~zarrlayered.errors.ReadOnlyError` (a PermissionError).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal

from zarrlayered.api import asynchronous as _async
from zarrlayered.api import hierarchy as _hier
from zarrlayered.api.hierarchy import CopyError, LogLike
from zarrlayered.array import Array
from zarrlayered.core.array import AsyncArray
from zarrlayered.core.create import DEFAULT_FILL
from zarrlayered.core.group import AsyncGroup
from zarrlayered.core.metadata import NodeMetadata
from zarrlayered.core.sync import sync
from zarrlayered.group import Group, wrap_node
from zarrlayered.tree import TreeRepr

__all__ = [
    "CopyError",
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

Format = Literal[2, 3]


def _plain(value: Any) -> Any:
    """Read sync-front-end arrays given as data before they reach the engine."""
    return value[...] if isinstance(value, Array) else value


def _source(value: Any) -> Any:
    """A front-end array as the engine's array (for functions that copy its settings)."""
    return value.async_array if isinstance(value, Array) else value


def _engine(node: Any) -> AsyncArray | AsyncGroup:
    if isinstance(node, Array):
        return node.async_array
    if isinstance(node, Group):
        return node.async_group
    if isinstance(node, AsyncArray | AsyncGroup):
        return node
    raise TypeError(f"expected a Zarr Array or Group, got {type(node).__name__}")


# -- opening -----------------------------------------------------------------------------------------------


def open(
    store: Any = None,
    *,
    mode: str | None = None,
    zarr_version: Format | None = None,
    zarr_format: Format | None = None,
    path: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Array | Group:
    """Open the array or group at ``path`` (a new group when nothing is there and the mode allows).

    Parameters
    ----------
    store
        A Store, a directory path, a ``.zip`` path, a URL, a dict or None (memory).
    mode
        ``r``, ``r+``, ``a``, ``w``, ``w-`` or ``x`` (default ``r`` for a read-only Store, else ``a``).
    zarr_format
        2 or 3; None detects the format of what is there (and uses the config default for new nodes).
    path
        The node's path in the store.
    storage_options
        fsspec options, with URLs only.
    **kwargs
        ``shape=`` and the other :func:`open_array` arguments open an array; else :func:`open_group`'s.
    """
    return wrap_node(sync(_async.open(store=store, mode=mode, zarr_version=zarr_version, zarr_format=zarr_format,
                                      path=path, storage_options=storage_options, **kwargs)))


def open_array(
    store: Any = None,
    *,
    zarr_version: Format | None = None,
    zarr_format: Format | None = None,
    path: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Array:
    """Open the array at ``path``; with ``mode`` a/w/w-/x and ``shape=`` (and create_array's arguments)
    it is created when missing. ``mode`` defaults to ``a`` (``r`` for a read-only Store)."""
    return Array(sync(_async.open_array(store=store, zarr_version=zarr_version, zarr_format=zarr_format, path=path,
                                        storage_options=storage_options, **kwargs)))


def open_group(
    store: Any = None,
    *,
    mode: str = "a",
    cache_attrs: bool | None = None,
    synchronizer: Any = None,
    path: str | None = None,
    chunk_store: Any = None,
    storage_options: Mapping[str, Any] | None = None,
    zarr_version: Format | None = None,
    zarr_format: Format | None = None,
    meta_array: Any = None,
    attributes: Mapping[str, Any] | None = None,
    use_consolidated: bool | str | None = None,
) -> Group:
    """Open the group at ``path``, creating it when the mode allows (with ``attributes``).

    ``use_consolidated``: None uses consolidated metadata when the group has some, True requires it
    (ValueError otherwise), False ignores it.
    """
    return Group(sync(_async.open_group(
        store, mode=mode, cache_attrs=cache_attrs, synchronizer=synchronizer, path=path, chunk_store=chunk_store,
        storage_options=storage_options, zarr_version=zarr_version, zarr_format=zarr_format, meta_array=meta_array,
        attributes=attributes, use_consolidated=use_consolidated,
    )))


def open_consolidated(*args: Any, use_consolidated: Literal[True] = True, **kwargs: Any) -> Group:
    """:func:`open_group` through the group's consolidated metadata (ValueError when it has none)."""
    return Group(sync(_async.open_consolidated(*args, use_consolidated=use_consolidated, **kwargs)))


def open_like(a: Any, path: str, **kwargs: Any) -> Array:
    """Open (or create) an array with the shape, dtype, chunks (and a Zarr array's codecs) of ``a``.

    ``path`` is the store location; with ``store=`` it is the path inside that store.
    """
    return Array(sync(_async.open_like(_source(a), path, **kwargs)))


# -- creating ------------------------------------------------------------------------------------------


def create_array(
    store: Any = None,
    *,
    name: str | None = None,
    shape: Any = None,
    dtype: Any = None,
    data: Any = None,
    chunks: Any = "auto",
    shards: Any = None,
    filters: Any = "auto",
    compressors: Any = "auto",
    serializer: Any = "auto",
    fill_value: Any = DEFAULT_FILL,
    order: Literal["C", "F"] | None = None,
    zarr_format: Format | None = None,
    attributes: Mapping[str, Any] | None = None,
    chunk_key_encoding: Any = None,
    dimension_names: Any = None,
    storage_options: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    config: Mapping[str, Any] | None = None,
    write_data: bool = True,
    **kwargs: Any,
) -> Array:
    """Create an array.

    Parameters
    ----------
    store
        Where: a Store, a path, a URL, a dict or None (memory).
    name
        The array's path in the store (missing parent groups are created).
    shape, dtype
        Shape and data type (taken from ``data`` when given).
    data
        Values to write (unless ``write_data=False``).
    chunks
        ``"auto"``, a chunk shape, or per-axis lists of chunk lengths (variable chunking, V3).
    filters, compressors, serializer
        Codecs as objects or JSON dicts (V3 ``{"name": ..., "configuration": ...}``, V2 ``{"id": ...}``).
    fill_value, order, zarr_format, attributes, chunk_key_encoding, dimension_names
        As in zarr-python 3 (defaults: the data type's fill value, C order, config ``default_zarr_format``).
    overwrite
        Replace whatever is at ``name``.
    config
        ``{"write_empty_chunks": bool}``.
    **kwargs
        Beyond zarr-python 3: ``compressor=`` (one V2 codec) and ``dimension_separator=``.
    """
    return Array(sync(_async.create_array(
        store, name=name, shape=shape, dtype=dtype, data=_plain(data), chunks=chunks, shards=shards, filters=filters,
        compressors=compressors, serializer=serializer, fill_value=fill_value, order=order, zarr_format=zarr_format,
        attributes=attributes, chunk_key_encoding=chunk_key_encoding, dimension_names=dimension_names,
        storage_options=storage_options, overwrite=overwrite, config=config, write_data=write_data, **kwargs,
    )))


def create_group(
    store: Any = None,
    *,
    path: str | None = None,
    zarr_format: Format | None = None,
    overwrite: bool = False,
    attributes: Mapping[str, Any] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> Group:
    """Create a group (and its missing parents); an error if a node is there and not ``overwrite``."""
    return Group(sync(_async.create_group(store, path=path, zarr_format=zarr_format, overwrite=overwrite,
                                          attributes=attributes, storage_options=storage_options)))


def group(
    store: Any = None,
    *,
    overwrite: bool = False,
    chunk_store: Any = None,
    cache_attrs: bool | None = None,
    synchronizer: Any = None,
    path: str | None = None,
    zarr_version: Format | None = None,
    zarr_format: Format | None = None,
    meta_array: Any = None,
    attributes: Mapping[str, Any] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> Group:
    """Open the group at ``path`` or create it (``overwrite=True`` replaces what is there)."""
    return Group(sync(_async.group(
        store=store, overwrite=overwrite, chunk_store=chunk_store, cache_attrs=cache_attrs, synchronizer=synchronizer,
        path=path, zarr_version=zarr_version, zarr_format=zarr_format, meta_array=meta_array, attributes=attributes,
        storage_options=storage_options,
    )))


def create(shape: Any, **kwargs: Any) -> Array:
    """Create an array with zarr-python 2 style arguments.

    ``chunks`` (None/True: guessed), ``dtype``, ``compressor`` (one codec or None), ``filters``,
    ``fill_value``, ``order``, ``store``, ``path``, ``overwrite``, ``dimension_separator``, ``attributes``,
    ``zarr_format``; for V3 also ``codecs`` (the whole chain), ``chunk_shape``, ``chunk_key_encoding``,
    ``dimension_names``.
    """
    return Array(sync(_async.create(shape, **kwargs)))


def array(data: Any, **kwargs: Any) -> Array:
    """A new array holding ``data`` (a numpy array, a list, or a Zarr array, which is copied)."""
    return Array(sync(_async.array(_source(data), **kwargs)))


def from_array(
    store: Any = None,
    *,
    data: Any,
    write_data: bool = True,
    name: str | None = None,
    chunks: Any = "keep",
    shards: Any = "keep",
    filters: Any = "keep",
    compressors: Any = "keep",
    serializer: Any = "keep",
    fill_value: Any = None,
    order: Literal["C", "F"] | None = None,
    zarr_format: Format | None = None,
    attributes: Mapping[str, Any] | None = None,
    chunk_key_encoding: Any = None,
    dimension_names: Any = None,
    storage_options: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    config: Mapping[str, Any] | None = None,
) -> Array:
    """A new array copying ``data`` (numpy or Zarr) with its shape and dtype.

    From a Zarr array, ``"keep"`` (the default of ``chunks``, ``shards``, ``filters``, ``compressors`` and
    ``serializer``) keeps its settings, and its fill value is kept unless ``fill_value`` is given. The other
    arguments are :func:`create_array`'s.
    """
    return Array(sync(_async.from_array(
        store, data=_source(data), write_data=write_data, name=name, chunks=chunks, shards=shards, filters=filters,
        compressors=compressors, serializer=serializer, fill_value=fill_value, order=order, zarr_format=zarr_format,
        attributes=attributes, chunk_key_encoding=chunk_key_encoding, dimension_names=dimension_names,
        storage_options=storage_options, overwrite=overwrite, config=config,
    )))


def empty(shape: Any, **kwargs: Any) -> Array:
    """An array whose elements read as the fill value until written (arguments as :func:`create`)."""
    return Array(sync(_async.empty(shape, **kwargs)))


def zeros(shape: Any, **kwargs: Any) -> Array:
    """An array of zeros (arguments as :func:`create`)."""
    return Array(sync(_async.zeros(shape, **kwargs)))


def ones(shape: Any, **kwargs: Any) -> Array:
    """An array of ones (arguments as :func:`create`)."""
    return Array(sync(_async.ones(shape, **kwargs)))


def full(shape: Any, fill_value: Any, **kwargs: Any) -> Array:
    """An array filled with ``fill_value`` (arguments as :func:`create`)."""
    return Array(sync(_async.full(shape, fill_value, **kwargs)))


def empty_like(a: Any, **kwargs: Any) -> Array:
    """An empty array like ``a`` (shape, dtype, chunks; a Zarr array's codecs and fill value)."""
    return Array(sync(_async.empty_like(_source(a), **kwargs)))


def zeros_like(a: Any, **kwargs: Any) -> Array:
    """A zero array like ``a``."""
    return Array(sync(_async.zeros_like(_source(a), **kwargs)))


def ones_like(a: Any, **kwargs: Any) -> Array:
    """An array of ones like ``a``."""
    return Array(sync(_async.ones_like(_source(a), **kwargs)))


def full_like(a: Any, **kwargs: Any) -> Array:
    """An array like ``a`` filled with ``fill_value`` (default: ``a``'s fill value)."""
    return Array(sync(_async.full_like(_source(a), **kwargs)))


# -- saving and loading ----------------------------------------------------------------------------------


def save_array(
    store: Any, arr: Any, *, zarr_version: Format | None = None, zarr_format: Format | None = None,
    path: str | None = None, storage_options: Mapping[str, Any] | None = None, **kwargs: Any,
) -> None:
    """Write one numpy array at ``path``; a node already there is an error unless ``mode="w"``."""
    sync(_async.save_array(store, _plain(arr), zarr_version=zarr_version, zarr_format=zarr_format, path=path,
                           storage_options=storage_options, **kwargs))


def save_group(
    store: Any, *args: Any, zarr_version: Format | None = None, zarr_format: Format | None = None,
    path: str | None = None, storage_options: Mapping[str, Any] | None = None, **kwargs: Any,
) -> None:
    """Write numpy arrays into a new group (replacing what is at ``path``): ``arr_0``, ... and by keyword."""
    sync(_async.save_group(store, *(_plain(a) for a in args), zarr_version=zarr_version, zarr_format=zarr_format,
                           path=path, storage_options=storage_options, **{k: _plain(v) for k, v in kwargs.items()}))


def save(
    store: Any, *args: Any, zarr_version: Format | None = None, zarr_format: Format | None = None,
    path: str | None = None, **kwargs: Any,
) -> None:
    """Save one array (:func:`save_array`) or several into a group (:func:`save_group`)."""
    sync(_async.save(store, *(_plain(a) for a in args), zarr_version=zarr_version, zarr_format=zarr_format,
                     path=path, **{k: _plain(v) for k, v in kwargs.items()}))


def save_many(store: Any, arrays: Mapping[str, Any], **kwargs: Any) -> Group:
    """Write several arrays (path -> data) concurrently into the group at the store's root."""
    return Group(sync(_hier.save_many(store, {k: _plain(v) for k, v in arrays.items()}, **kwargs)))


def load(
    store: Any, path: str | None = None, zarr_format: Format | None = None, zarr_version: Format | None = None
) -> Any:
    """The data at ``path``: a numpy array, or for a group a dict of its direct member arrays' data."""
    return sync(_async.load(store=store, path=path, zarr_format=zarr_format, zarr_version=zarr_version))


# -- hierarchies --------------------------------------------------------------------------------------


def tree(grp: Group, expand: bool | None = None, level: int | None = None) -> TreeRepr:
    """The text tree of the hierarchy below ``grp`` (same as ``grp.tree()``)."""
    if not isinstance(grp, Group):
        raise TypeError(f"tree() draws a Group, got {type(grp).__name__}")
    return grp.tree(expand=expand, level=level)


def consolidate_metadata(store: Any, path: str | None = None, zarr_format: Format | None = None) -> Group:
    """Gather every node's metadata below the group at ``path`` into one document; returns the group opened
    with it (V3: inline in ``zarr.json``; V2: ``.zmetadata``)."""
    return Group(sync(_hier.consolidate_metadata(store, path, zarr_format)))


def create_hierarchy(
    *, store: Any, nodes: Mapping[str, NodeMetadata], overwrite: bool = False
) -> Iterator[tuple[str, Array | Group]]:
    """Write many nodes (path -> metadata, parents added) in one concurrent batch.

    Returns an iterator of ``(path, node)`` for each node written, parents first. The nodes are written
    when this is called, not when the iterator is consumed.
    """

    async def collect() -> list[tuple[str, AsyncArray | AsyncGroup]]:
        return [item async for item in _hier.create_hierarchy(store=store, nodes=nodes, overwrite=overwrite)]

    return iter([(path, wrap_node(node)) for path, node in sync(collect())])


def copy_store(
    source: Any,
    dest: Any,
    source_path: str = "",
    dest_path: str = "",
    excludes: str | Iterable[str] | None = None,
    includes: str | Iterable[str] | None = None,
    flags: int = 0,
    if_exists: Literal["raise", "replace", "skip"] = "raise",
    dry_run: bool = False,
    log: LogLike = None,
    progress: bool | None = None,
) -> tuple[int, int, int]:
    """Copy every key below ``source_path`` (bytes unchanged) from one store to another.

    ``excludes``/``includes`` are regular expressions (``re.search`` on the key). Returns
    ``(n_copied, n_skipped, n_bytes_copied)`` as zarr-python 2 did; zarr-python 3 raises NotImplementedError.
    ``progress``: a tqdm bar (True), none (False), or one when interactive (None: a terminal or Jupyter).
    """
    return sync(_hier.copy_store(source, dest, source_path=source_path, dest_path=dest_path, excludes=excludes,
                                 includes=includes, flags=flags, if_exists=if_exists, dry_run=dry_run, log=log,
                                 progress=progress))


def copy(
    source: Array | Group,
    dest: Group,
    name: str | None = None,
    shallow: bool = False,
    without_attrs: bool = False,
    log: LogLike = None,
    if_exists: Literal["raise", "replace", "skip", "skip_initialized"] = "raise",
    dry_run: bool = False,
    progress: bool | None = None,
    **create_kws: Any,
) -> tuple[int, int, int]:
    """Copy an array or group (everything below it) into the group ``dest``, across any two stores.

    Returns ``(n_copied, n_skipped, n_bytes_copied)`` as zarr-python 2 did; zarr-python 3 raises
    NotImplementedError. ``create_kws`` (``chunks=``, ``compressors=``, ...) re-encode the arrays.
    ``progress``: a tqdm bar (True), none (False), or one when interactive (None: a terminal or Jupyter).
    """
    target = _engine(dest)
    if not isinstance(target, AsyncGroup):
        raise ValueError(f"dest must be a group, got {type(dest).__name__}")
    return sync(_hier.copy(_engine(source), target, name, shallow=shallow, without_attrs=without_attrs, log=log,
                           if_exists=if_exists, dry_run=dry_run, progress=progress, **create_kws))


def copy_all(
    source: Group,
    dest: Group,
    shallow: bool = False,
    without_attrs: bool = False,
    log: LogLike = None,
    if_exists: Literal["raise", "replace", "skip", "skip_initialized"] = "raise",
    dry_run: bool = False,
    progress: bool | None = None,
    **create_kws: Any,
) -> tuple[int, int, int]:
    """Copy every member of the group ``source`` (and its attributes) into the group ``dest``.

    Returns ``(n_copied, n_skipped, n_bytes_copied)``. ``progress`` as for :func:`copy`.
    """
    src, dst = _engine(source), _engine(dest)
    if not isinstance(src, AsyncGroup) or not isinstance(dst, AsyncGroup):
        raise ValueError("copy_all copies the members of a Group into a Group")
    return sync(_hier.copy_all(src, dst, shallow=shallow, without_attrs=without_attrs, log=log,
                               if_exists=if_exists, dry_run=dry_run, progress=progress, **create_kws))

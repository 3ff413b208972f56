"""The top-level functions as coroutines (zarr-python 3's ``zarr.api.asynchronous``).

They take keyword-only ``store=`` where zarr-python 3 does, open stores with :func:`make_store`, and
return :class:`AsyncArray` / :class:`AsyncGroup`. ``zarrlayered.api`` wraps each for synchronous code.

Modes, as zarr-python defines them: ``r`` read only, nothing is created; ``r+`` read and write, nothing is
created; ``a`` read and write, created if missing; ``w`` create, replacing what is there; ``w-``/``x``
create, failing if something is there. With ``r``/``r+`` a mistyped path raises: FileNotFoundError when the
store itself is missing, KeyError (:class:`~zarrlayered.errors.NodeNotFoundError`) for a missing node.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from zarrlayered.core.array import AsyncArray
from zarrlayered.core.create import DEFAULT_FILL, parse_zarr_format
from zarrlayered.core.group import AsyncGroup, open_node
from zarrlayered.core.hierarchy import create_array_node
from zarrlayered.core.metadata import NodeMetadata
from zarrlayered.core.nodes import normalize_path
from zarrlayered.errors import (
    ArrayNotFoundError,
    ContainsArrayError,
    ContainsGroupError,
    GroupNotFoundError,
    NodeNotFoundError,
    ReadOnlyError,
)
from zarrlayered.stores.abc import Store
from zarrlayered.stores.make import make_store, parse_mode
from zarrlayered.tree import TreeRepr

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
    "default_mode",
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
    "parse_format_alias",
    "resolve_store",
    "save",
    "save_array",
    "save_group",
    "save_many",
    "tree",
    "zeros",
    "zeros_like",
]

def resolve_store(store: Any, mode: str, storage_options: Mapping[str, Any] | None = None) -> Store:
    """Open ``store`` for ``mode``; with r/r+ a local path that does not exist is a FileNotFoundError."""
    mode = parse_mode(mode)
    local = isinstance(store, str | os.PathLike) and "://" not in str(store) and "::" not in str(store)
    if mode == "r+" and local and not Path(store).exists():
        raise FileNotFoundError(f"no store at {str(store)!r} (opened with mode 'r+')")
    resolved = make_store(store, mode=mode, storage_options=storage_options)
    if mode != "r" and resolved.read_only:
        raise ReadOnlyError(f"{resolved!r} is read-only; it cannot be opened with mode {mode!r} (use mode='r')")
    return resolved


def default_mode(store: Any, mode: str | None) -> str:
    """zarr-python's default mode: ``r`` for a read-only Store, else ``a``."""
    if mode is not None:
        return mode
    return "r" if isinstance(store, Store) and store.read_only else "a"


def parse_format_alias(zarr_format: Literal[2, 3] | None, zarr_version: Literal[2, 3] | None) -> Literal[2, 3] | None:
    """``zarr_version`` is zarr-python's deprecated name of ``zarr_format``; both given must agree."""
    if zarr_version is None:
        return zarr_format
    if zarr_format is not None and zarr_format != zarr_version:
        raise ValueError(f"zarr_format={zarr_format!r} and zarr_version={zarr_version!r} disagree; give zarr_format")
    return zarr_version


def _node_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Drop zarr-python 2 arguments that have no effect here; refuse those whose effect cannot be had."""
    for ignored in ("cache_metadata", "cache_attrs", "write_empty_chunks_default", "read_only", "zarr_version"):
        kwargs.pop(ignored, None)
    for legacy in ("object_codec", "meta_array"):
        if kwargs.pop(legacy, None) is not None:
            raise TypeError(f"the zarr-python 2 argument {legacy}= is not supported")
    for legacy in ("synchronizer", "chunk_store"):
        if kwargs.pop(legacy, None) is not None:
            raise TypeError(f"{legacy}= is supported for arrays (open_array, create_array, open), not for groups")
    return kwargs


def _legacy_storage(kwargs: dict[str, Any], mode: str) -> dict[str, Any]:
    """Pop zarr-python 2's ``synchronizer=`` and ``chunk_store=`` (opened for ``mode``) out of ``kwargs``."""
    out: dict[str, Any] = {}
    synchronizer = kwargs.pop("synchronizer", None)
    if synchronizer is not None:
        if not callable(getattr(synchronizer, "__getitem__", None)):
            raise TypeError(f"synchronizer must give a lock per key (synchronizer[key]), got {synchronizer!r}")
        out["synchronizer"] = synchronizer
    chunk_store = kwargs.pop("chunk_store", None)
    if chunk_store is not None:
        out["chunk_store"] = resolve_store(chunk_store, mode)
    return out


def _with_storage(array: AsyncArray, legacy: Mapping[str, Any]) -> AsyncArray:
    """``array`` with a synchronizer and/or a separate chunk store."""
    if not legacy:
        return array
    return AsyncArray(array.metadata, array.store, array.path, write_empty_chunks=array.write_empty_chunks, **legacy)


async def _check_free(store: Store, path: str, mode: str) -> None:
    """Modes w-/x: nothing may be at ``path`` yet."""
    if mode not in ("w-", "x"):
        return
    try:
        node = await open_node(store, path, use_consolidated=False)
    except NodeNotFoundError:
        node = None
    if isinstance(node, AsyncGroup):
        raise ContainsGroupError(f"a group is at {path!r} in {store!r}; mode {mode!r} creates only where nothing is")
    if isinstance(node, AsyncArray):
        raise ContainsArrayError(f"an array is at {path!r} in {store!r}; mode {mode!r} creates only where nothing is")
    if not await store.is_empty(path):
        raise FileExistsError(
            f"cannot create {path!r} with mode {mode!r}: it already holds data; use mode 'w' to replace it "
            "or 'a' to add to it"
        )


# -- opening -------------------------------------------------------------------------------------------


async def open(
    *,
    store: Any = None,
    mode: str | None = None,
    zarr_version: Literal[2, 3] | None = None,
    zarr_format: Literal[2, 3] | None = None,
    path: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> AsyncArray | AsyncGroup:
    """Open the array or group at ``path``.

    With ``shape=`` it is an array (:func:`open_array`); otherwise whatever is there, and when nothing is
    and the mode allows, a new group. ``mode`` defaults to ``r`` for a read-only Store, else ``a``.
    """
    mode = parse_mode(default_mode(store, mode))
    zarr_format = parse_format_alias(zarr_format, zarr_version)
    if "shape" in kwargs:
        return await open_array(store=store, mode=mode, zarr_format=zarr_format, path=path,
                                storage_options=storage_options, **kwargs)
    resolved = resolve_store(store, mode, storage_options)
    if mode not in ("w", "w-", "x"):
        try:
            node = await open_node(resolved, normalize_path(path), zarr_format=zarr_format,
                                   use_consolidated=kwargs.get("use_consolidated"))
            return _with_storage(node, _legacy_storage(kwargs, mode)) if isinstance(node, AsyncArray) else node
        except NodeNotFoundError:
            if mode in ("r", "r+"):
                raise
    return await open_group(resolved, mode=mode, zarr_format=zarr_format, path=path, **kwargs)


async def open_array(
    *,
    store: Any = None,
    mode: str | None = None,
    zarr_version: Literal[2, 3] | None = None,
    zarr_format: Literal[2, 3] | None = None,
    path: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> AsyncArray:
    """Open the array at ``path``; with mode a/w/w-/x and ``shape=`` it is created when missing.

    Mode ``w`` replaces what is there; ``w-``/``x`` refuse to (FileExistsError subclasses).
    """
    mode = parse_mode(default_mode(store, mode))
    zarr_format = parse_format_alias(zarr_format, zarr_version)
    resolved = resolve_store(store, mode, storage_options)
    node_path = normalize_path(path if path is not None else kwargs.pop("name", None))
    config = kwargs.pop("config", None) or {}
    write_empty = kwargs.pop("write_empty_chunks", config.get("write_empty_chunks"))
    kwargs.pop("use_consolidated", None)
    legacy = _legacy_storage(kwargs, mode)
    if mode in ("r", "r+", "a"):
        try:
            node = await open_node(resolved, node_path, zarr_format=zarr_format)
        except NodeNotFoundError:
            if mode in ("r", "r+") or "shape" not in kwargs:
                raise ArrayNotFoundError(f"no array at {node_path!r} in {resolved!r}") from None
        else:
            if not isinstance(node, AsyncArray):
                raise ContainsGroupError(f"a group, not an array, is at {node_path!r} in {resolved!r}")
            if write_empty is not None:
                node.write_empty_chunks = bool(write_empty)
            return _with_storage(node, legacy)
    await _check_free(resolved, node_path, mode)
    if "shape" not in kwargs:
        raise TypeError(f"open_array with mode {mode!r} creates an array, which needs shape=")
    if "compressor" in kwargs:  # one codec, or None for none
        compressor = kwargs.pop("compressor")
        kwargs["compressors"] = [] if compressor is None else compressor
    if mode == "w" and "chunk_store" in legacy:
        await legacy["chunk_store"].delete_dir(node_path)
    return _with_storage(await create_array_node(
        resolved, node_path, overwrite=(mode == "w"), zarr_format=zarr_format,
        write_empty_chunks=write_empty, **_node_kwargs(kwargs),
    ), legacy)


async def open_group(
    store: Any = None,
    *,
    mode: str = "a",
    cache_attrs: bool | None = None,
    synchronizer: Any = None,
    path: str | None = None,
    chunk_store: Any = None,
    storage_options: Mapping[str, Any] | None = None,
    zarr_version: Literal[2, 3] | None = None,
    zarr_format: Literal[2, 3] | None = None,
    meta_array: Any = None,
    attributes: Mapping[str, Any] | None = None,
    use_consolidated: bool | str | None = None,
) -> AsyncGroup:
    """Open the group at ``path``, creating it when the mode allows (``attributes`` are for a new group).

    ``use_consolidated``: None uses consolidated metadata when there is some, True requires it, False
    ignores it. An array at ``path`` is a ContainsArrayError.
    """
    mode = parse_mode(mode)
    _node_kwargs({"meta_array": meta_array})
    legacy = _legacy_storage({"synchronizer": synchronizer, "chunk_store": chunk_store}, mode)
    zarr_format = parse_format_alias(zarr_format, zarr_version)
    consolidated = use_consolidated if isinstance(use_consolidated, bool) or use_consolidated is None else True
    resolved = resolve_store(store, mode, storage_options)
    node_path = normalize_path(path)
    group: AsyncGroup | None = None
    if mode in ("r", "r+", "a"):
        try:
            group = await AsyncGroup.open(resolved, node_path, zarr_format=zarr_format, use_consolidated=consolidated)
        except NodeNotFoundError:
            if mode in ("r", "r+"):
                raise GroupNotFoundError(f"no group at {node_path!r} in {resolved!r}") from None
    if group is None:
        await _check_free(resolved, node_path, mode)
        group = await AsyncGroup.create(resolved, node_path, attributes=attributes, zarr_format=zarr_format,
                                        overwrite=(mode == "w"))
        if mode == "w" and "chunk_store" in legacy:
            await legacy["chunk_store"].delete_dir(node_path) if node_path else await legacy["chunk_store"].clear()
    group.array_options = legacy  # zarr-python 2: the group's arrays use its synchronizer and chunk store
    return group


async def open_consolidated(*args: Any, use_consolidated: Literal[True] = True, **kwargs: Any) -> AsyncGroup:
    """:func:`open_group` requiring consolidated metadata (ValueError when the group has none)."""
    if use_consolidated is not True:
        raise TypeError(f"open_consolidated needs use_consolidated=True, got {use_consolidated!r}")
    return await open_group(*args, use_consolidated=True, **kwargs)


async def open_like(a: Any, path: str, **kwargs: Any) -> AsyncArray:
    """Open (or create) an array shaped like ``a``.

    ``path`` is where: the store location (a directory, URL, ...), or with ``store=`` the path inside it.
    """
    kwargs = {**_like_kwargs(a, kwargs, fill=True), **kwargs}
    store = kwargs.pop("store", None)
    if store is None:
        return await open_array(store=path, **kwargs)
    return await open_array(store=store, path=path, **kwargs)


# -- creating ------------------------------------------------------------------------------------------


async def create_array(
    store: Any = None,
    *,
    name: str | None = None,
    shape: Any = None,
    dtype: Any = None,
    data: Any = None,
    overwrite: bool = False,
    storage_options: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    write_data: bool = True,
    **kwargs: Any,
) -> AsyncArray:
    """Create an array (see :func:`zarrlayered.create_array` for the arguments)."""
    resolved = resolve_store(store, "w" if overwrite else "a", storage_options)
    write_empty = (config or {}).get("write_empty_chunks")
    if data is not None:
        if shape is not None and tuple(np.shape(data)) != ((shape,) if isinstance(shape, int) else tuple(shape)):
            raise ValueError(f"shape {shape!r} does not match the shape {np.shape(data)} of data")
        shape = np.shape(data)
    if shape is None:
        raise TypeError("create_array needs shape= or data=")
    legacy = _legacy_storage(kwargs, "w" if overwrite else "a")
    kwargs = _node_kwargs(kwargs)
    values = data if write_data else None
    if "chunk_store" in legacy:  # the data goes to the chunk store: written once the array knows it
        if overwrite:
            await legacy["chunk_store"].delete_dir(normalize_path(name))
        if values is not None:
            values = np.asarray(values)
            dtype = (values.dtype if values.dtype != object else str) if dtype is None else dtype
    array = _with_storage(await create_array_node(
        resolved, normalize_path(name), overwrite=overwrite, shape=shape, dtype=dtype,
        data=None if "chunk_store" in legacy else values, write_empty_chunks=write_empty, **kwargs,
    ), legacy)
    if "chunk_store" in legacy and values is not None:
        await array.set_selection(Ellipsis, values, "basic")
    return array


async def create_group(
    store: Any = None,
    *,
    path: str | None = None,
    zarr_format: Literal[2, 3] | None = None,
    overwrite: bool = False,
    attributes: Mapping[str, Any] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> AsyncGroup:
    """Create a group; ContainsGroupError/ContainsArrayError if a node is there and not ``overwrite``."""
    resolved = resolve_store(store, "w" if overwrite else "a", storage_options)
    return await AsyncGroup.create(resolved, normalize_path(path), attributes=attributes,
                                   zarr_format=zarr_format, overwrite=overwrite)


async def group(
    *,
    store: Any = None,
    overwrite: bool = False,
    chunk_store: Any = None,
    cache_attrs: bool | None = None,
    synchronizer: Any = None,
    path: str | None = None,
    zarr_version: Literal[2, 3] | None = None,
    zarr_format: Literal[2, 3] | None = None,
    meta_array: Any = None,
    attributes: Mapping[str, Any] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> AsyncGroup:
    """Open the group at ``path``, or create it (``overwrite=True`` replaces what is there)."""
    mode = "r" if isinstance(store, Store) and store.read_only else ("w" if overwrite else "a")
    return await open_group(store, mode=mode, path=path, zarr_format=parse_format_alias(zarr_format, zarr_version),
                            attributes=attributes, storage_options=storage_options, chunk_store=chunk_store,
                            synchronizer=synchronizer, meta_array=meta_array)


def _split_codecs(codecs: Any) -> dict[str, Any]:
    """A whole V3 codec chain (``codecs=``) as filters, serializer and compressors."""
    from zarrlayered.codecs.abc import ArrayArrayCodec, ArrayBytesCodec, BytesBytesCodec
    from zarrlayered.codecs.registry import parse_codec_v3

    parsed = [parse_codec_v3(c) for c in ([codecs] if isinstance(codecs, Mapping) else codecs)]
    serializers = [c for c in parsed if isinstance(c, ArrayBytesCodec)]
    if len(serializers) != 1:
        raise ValueError(f"codecs= must hold exactly one array -> bytes codec, got {parsed!r}")
    return {
        "filters": [c for c in parsed if isinstance(c, ArrayArrayCodec)],
        "serializer": serializers[0],
        "compressors": [c for c in parsed if isinstance(c, BytesBytesCodec)],
    }


async def create(
    shape: Any,
    *,
    chunks: Any = None,
    dtype: Any = None,
    compressor: Any = "auto",
    fill_value: Any = DEFAULT_FILL,
    order: Literal["C", "F"] | None = None,
    store: Any = None,
    overwrite: bool = False,
    path: str | None = None,
    filters: Any = None,
    dimension_separator: Literal[".", "/"] | None = None,
    write_empty_chunks: bool | None = None,
    zarr_version: Literal[2, 3] | None = None,
    zarr_format: Literal[2, 3] | None = None,
    attributes: Mapping[str, Any] | None = None,
    chunk_shape: Any = None,
    chunk_key_encoding: Any = None,
    codecs: Any = None,
    dimension_names: Any = None,
    storage_options: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> AsyncArray:
    """Create an array with zarr-python 2 style arguments (``chunks=None``/``True`` guesses a chunk shape).

    ``compressor`` (one codec or None) and ``filters`` for either format; ``codecs`` (a whole V3 chain),
    ``chunk_shape`` and ``chunk_key_encoding`` for V3; ``dimension_separator`` for either.
    """
    fmt = parse_zarr_format(parse_format_alias(zarr_format, zarr_version))
    codec_kwargs: dict[str, Any] = {"filters": filters if filters is not None else "auto"}
    if codecs is not None:
        if fmt == 2:
            raise ValueError("codecs= is a Zarr V3 argument; use compressor= and filters= for Zarr V2")
        codec_kwargs = _split_codecs(codecs)
    elif compressor != "auto":
        codec_kwargs["compressors"] = [] if compressor is None else compressor
    if chunk_shape is not None:
        chunks = chunk_shape
    if isinstance(chunk_key_encoding, tuple):
        chunk_key_encoding = {"name": chunk_key_encoding[0], "configuration": {"separator": chunk_key_encoding[1]}}
    if dimension_separator is not None and fmt == 3 and chunk_key_encoding is None:
        chunk_key_encoding = {"name": "default", "configuration": {"separator": dimension_separator}}
        dimension_separator = None
    if config is not None and write_empty_chunks is None:
        write_empty_chunks = config.get("write_empty_chunks")
    extra: dict[str, Any] = {"dimension_separator": dimension_separator} if dimension_separator is not None else {}
    return await create_array(
        store, name=path, shape=shape, chunks="auto" if chunks in (True, None) else chunks,
        dtype=dtype, fill_value=fill_value, order=order, overwrite=overwrite, zarr_format=fmt,
        storage_options=storage_options, attributes=attributes, chunk_key_encoding=chunk_key_encoding,
        dimension_names=dimension_names, config={"write_empty_chunks": write_empty_chunks},
        **codec_kwargs, **extra, **kwargs,
    )


async def array(data: Any, **kwargs: Any) -> AsyncArray:
    """A new array holding ``data`` (in memory unless ``store=`` says otherwise); another array is copied."""
    if isinstance(data, AsyncArray):
        return await from_array(kwargs.pop("store", None), data=data, **kwargs)
    if not hasattr(data, "shape") or not hasattr(data, "dtype"):
        data = np.asanyarray(data)
    if kwargs.get("dtype") is None:
        kwargs["dtype"] = data.dtype if data.dtype != object else str
    kwargs["shape"] = tuple(data.shape)
    if kwargs.get("chunks") is None and isinstance(getattr(data, "chunks", None), tuple):
        kwargs["chunks"] = data.chunks
    if kwargs.pop("read_only", False):
        raise ValueError("read_only=True cannot be used when creating an array")
    new = await create(**kwargs)
    await new.set_selection(Ellipsis, np.asarray(data), "basic")
    return new


def _like_kwargs(a: Any, kwargs: Mapping[str, Any], *, fill: bool = False) -> dict[str, Any]:
    """Shape, dtype and chunks of ``a`` (and of a Zarr array its codecs, order, format and, with ``fill``,
    its fill value) that ``kwargs`` does not set already."""
    out: dict[str, Any] = {}
    if isinstance(a, AsyncArray):
        fmt = kwargs.get("zarr_format") or a.zarr_format
        out["zarr_format"] = fmt
        if fmt == a.zarr_format and not {"codecs", "compressor", "compressors"} & set(kwargs):
            if a.zarr_format == 2:
                out.update(order=a.order, compressor=a.compressors[0] if a.compressors else None,
                           filters=list(a.filters) or None)
            else:
                out.update(filters=list(a.filters), serializer=a.serializer, compressors=list(a.compressors),
                           shards=a.shards)
        if fill:
            out["fill_value"] = a.fill_value
    elif not hasattr(a, "shape"):
        a = np.asanyarray(a)
    out["shape"] = tuple(np.shape(a))
    if hasattr(a, "dtype"):
        out["dtype"] = a.dtype
    chunks = getattr(a, "chunks", None)
    if isinstance(chunks, tuple) and all(isinstance(c, int) for c in chunks):
        out["chunks"] = chunks
    return {k: v for k, v in out.items() if k not in kwargs}


async def empty(shape: Any, **kwargs: Any) -> AsyncArray:
    """An array whose elements read as the fill value until written."""
    return await create(shape, **kwargs)


async def zeros(shape: Any, **kwargs: Any) -> AsyncArray:
    """An array of zeros."""
    return await create(shape, **{**kwargs, "fill_value": 0})


async def ones(shape: Any, **kwargs: Any) -> AsyncArray:
    """An array of ones."""
    return await create(shape, **{**kwargs, "fill_value": 1})


async def full(shape: Any, fill_value: Any, **kwargs: Any) -> AsyncArray:
    """An array filled with ``fill_value``."""
    return await create(shape, **{**kwargs, "fill_value": fill_value})


async def empty_like(a: Any, **kwargs: Any) -> AsyncArray:
    """An empty array shaped like ``a`` (with a Zarr array's codecs and fill value)."""
    return await empty(**{**_like_kwargs(a, kwargs, fill=True), **kwargs})


async def zeros_like(a: Any, **kwargs: Any) -> AsyncArray:
    """A zero array shaped like ``a``."""
    return await zeros(**{**_like_kwargs(a, kwargs), **kwargs})


async def ones_like(a: Any, **kwargs: Any) -> AsyncArray:
    """An array of ones shaped like ``a``."""
    return await ones(**{**_like_kwargs(a, kwargs), **kwargs})


async def full_like(a: Any, **kwargs: Any) -> AsyncArray:
    """An array shaped like ``a`` filled with ``fill_value`` (default: ``a``'s fill value)."""
    like = _like_kwargs(a, kwargs, fill=True)
    fill_value = kwargs.pop("fill_value", like.pop("fill_value", None))
    return await full(fill_value=fill_value, **{**like, **kwargs})


async def from_array(
    store: Any = None,
    *,
    data: Any,
    write_data: bool = True,
    name: str | None = None,
    chunks: Any = "keep",
    fill_value: Any = None,
    zarr_format: Literal[2, 3] | None = None,
    overwrite: bool = False,
    **kwargs: Any,
) -> AsyncArray:
    """A new array with ``data``'s shape and dtype; from a Zarr array also (with ``"keep"``) its chunks and
    codecs, and its fill value, chunk key encoding, order (V2) and dimension names unless given."""
    source = data.async_array if hasattr(data, "async_array") else data
    if isinstance(source, AsyncArray):
        if zarr_format is None:
            zarr_format = source.zarr_format  # type: ignore[assignment]
        same = zarr_format == source.zarr_format
        if chunks == "keep":
            chunks = source.chunks
        if fill_value is None:
            fill_value = source.fill_value
        keep: dict[str, Any] = {"filters": list(source.filters), "compressors": list(source.compressors)}
        if source.zarr_format == 3:
            keep["serializer"] = source.serializer
            keep["shards"] = source.shards  # the codecs above are a sharded array's inner codecs
        for key, value in keep.items():
            if kwargs.get(key, "keep") == "keep":
                if same:
                    kwargs[key] = value
                else:
                    kwargs.pop(key, None)
        if same and kwargs.get("chunk_key_encoding") is None:
            kwargs["chunk_key_encoding"] = getattr(source.metadata, "chunk_key_encoding", None)
            if source.zarr_format == 2:
                separator = getattr(source.metadata, "dimension_separator", ".")
                kwargs["chunk_key_encoding"] = {"name": "v2", "separator": separator}
        if same and source.zarr_format == 2 and kwargs.get("order") is None:
            kwargs["order"] = source.order
        if zarr_format == 3 and kwargs.get("dimension_names") is None:
            kwargs["dimension_names"] = getattr(source.metadata, "dimension_names", None)
        values = await source.get_selection(Ellipsis, "basic") if write_data else None
        dtype = kwargs.pop("dtype", source.metadata.data_type)  # the Zarr data type: object arrays keep theirs
        shape = source.shape
    else:
        values = np.asarray(data)
        dtype = kwargs.pop("dtype", values.dtype if values.dtype != object else str)
        shape = values.shape
        if chunks == "keep":
            chunks = "auto"
    for key in ("shards", "filters", "compressors", "serializer"):  # what "keep" could not keep: the defaults
        if kwargs.get(key) == "keep":
            kwargs.pop(key)
    return await create_array(
        store, name=name, shape=shape, dtype=dtype, chunks=chunks, fill_value=fill_value, zarr_format=zarr_format,
        overwrite=overwrite, data=values if write_data else None, **kwargs,
    )


# -- saving and loading --------------------------------------------------------------------------------


def _ndarray(value: Any, what: str) -> np.ndarray[Any, Any]:
    if np.isscalar(value):
        return np.asarray(value)
    if not hasattr(value, "shape") or not hasattr(value, "dtype"):
        raise TypeError(f"{what} must be a numpy (or other array-like with shape and dtype) array, got {value!r}")
    return np.asarray(value)


async def save_array(
    store: Any, arr: Any, *, zarr_version: Literal[2, 3] | None = None, zarr_format: Literal[2, 3] | None = None,
    path: str | None = None, storage_options: Mapping[str, Any] | None = None, **kwargs: Any,
) -> AsyncArray:
    """Write one numpy array to ``store`` at ``path``.

    As in zarr-python 3, an existing node there is an error unless ``mode="w"`` or ``overwrite=True``.
    """
    data = _ndarray(arr, "arr")
    mode = parse_mode(kwargs.pop("mode", "a"))
    overwrite = bool(kwargs.pop("overwrite", False)) or mode == "w"
    chunks = getattr(arr, "chunks", None)
    if isinstance(chunks, tuple) and "chunks" not in kwargs:
        kwargs["chunks"] = chunks
    return await create_array(store, name=path, data=data, zarr_format=parse_format_alias(zarr_format, zarr_version),
                              overwrite=overwrite, storage_options=storage_options, **kwargs)


async def save_group(
    store: Any, *args: Any, zarr_version: Literal[2, 3] | None = None, zarr_format: Literal[2, 3] | None = None,
    path: str | None = None, storage_options: Mapping[str, Any] | None = None, **kwargs: Any,
) -> AsyncGroup:
    """Write numpy arrays into a new group at ``path`` (replacing what is there): positional ones as
    ``arr_0``, ``arr_1``, ..., keyword ones under their names."""
    arrays = {f"arr_{i}": _ndarray(a, f"positional argument {i}") for i, a in enumerate(args)}
    arrays.update({name: _ndarray(a, f"keyword argument {name!r}") for name, a in kwargs.items()})
    if not arrays:
        raise ValueError("at least one array must be provided")
    root = await open_group(store, mode="w", path=path, zarr_format=parse_format_alias(zarr_format, zarr_version),
                            storage_options=storage_options)
    await asyncio.gather(*(root.create_array(name, data=value, overwrite=True) for name, value in arrays.items()))
    return root


async def save(
    store: Any, *args: Any, zarr_version: Literal[2, 3] | None = None, zarr_format: Literal[2, 3] | None = None,
    path: str | None = None, **kwargs: Any,
) -> AsyncArray | AsyncGroup:
    """Save one array (``save(store, arr)``, as :func:`save_array`) or several into a group (:func:`save_group`)."""
    zarr_format = parse_format_alias(zarr_format, zarr_version)
    if not args and not kwargs:
        raise ValueError("at least one array must be provided")
    if len(args) == 1 and not kwargs:
        return await save_array(store, args[0], zarr_format=zarr_format, path=path)
    return await save_group(store, *args, zarr_format=zarr_format, path=path, **kwargs)


async def load(
    *, store: Any, path: str | None = None, zarr_format: Literal[2, 3] | None = None,
    zarr_version: Literal[2, 3] | None = None,
) -> np.ndarray[Any, Any] | dict[str, Any]:
    """The data at ``path``: a numpy array, or for a group a dict of its direct member arrays' data.

    (zarr-python 3 raises NotImplementedError for groups; zarr-python 2 returned a lazy mapping.)
    """
    node = await open(store=store, mode="r", path=path, zarr_format=parse_format_alias(zarr_format, zarr_version))
    if isinstance(node, AsyncArray):
        return np.asarray(await node.get_selection(Ellipsis, "basic"))
    arrays = [(name, member) async for name, member in node.arrays()]
    values = await asyncio.gather(*(member.get_selection(Ellipsis, "basic") for _, member in arrays))
    return {name: np.asarray(value) for (name, _), value in zip(arrays, values, strict=True)}


# -- whole hierarchies (zarrlayered.api.hierarchy, imported when called: it builds on this module) ---------


async def tree(grp: AsyncGroup, expand: bool | None = None, level: int | None = None) -> TreeRepr:
    """The text tree of the hierarchy below ``grp`` (``await grp.tree()``)."""
    if not isinstance(grp, AsyncGroup):
        raise TypeError(f"tree() draws an AsyncGroup, got {type(grp).__name__}")
    return await grp.tree(expand=expand, level=level)


async def consolidate_metadata(
    store: Any, path: str | None = None, zarr_format: Literal[2, 3] | None = None
) -> AsyncGroup:
    """Gather every node's metadata below the group at ``path`` into one document; returns the group."""
    from zarrlayered.api import hierarchy

    return await hierarchy.consolidate_metadata(store, path, zarr_format)


async def create_hierarchy(
    *, store: Any, nodes: Mapping[str, NodeMetadata], overwrite: bool = False
) -> AsyncIterator[tuple[str, AsyncArray | AsyncGroup]]:
    """Write many nodes (path -> metadata, parents added) in one batch; yields ``(path, node)``."""
    from zarrlayered.api import hierarchy

    async for item in hierarchy.create_hierarchy(store=store, nodes=nodes, overwrite=overwrite):
        yield item


async def save_many(store: Any, arrays: Mapping[str, Any], **kwargs: Any) -> AsyncGroup:
    """Write several arrays (path -> data) concurrently into the group at the store's root."""
    from zarrlayered.api import hierarchy

    return await hierarchy.save_many(store, arrays, **kwargs)


async def copy_store(source: Any, dest: Any, **kwargs: Any) -> tuple[int, int, int]:
    """Copy every key below ``source_path`` from one store to another, bytes unchanged (zarr-python 2's
    ``copy_store``; zarr-python 3 raises NotImplementedError). Returns ``(copied, skipped, bytes_copied)``."""
    from zarrlayered.api import hierarchy

    return await hierarchy.copy_store(source, dest, **kwargs)


async def copy(source: AsyncArray | AsyncGroup, dest: AsyncGroup, *args: Any, **kwargs: Any) -> tuple[int, int, int]:
    """Copy an array or group (everything below it) into the group ``dest`` (zarr-python 2's ``copy``).

    Returns ``(n_copied, n_skipped, n_bytes_copied)``.
    """
    from zarrlayered.api import hierarchy

    return await hierarchy.copy(source, dest, *args, **kwargs)


async def copy_all(source: AsyncGroup, dest: AsyncGroup, **kwargs: Any) -> tuple[int, int, int]:
    """Copy every member of the group ``source`` (and its attributes) into ``dest``.

    Returns ``(n_copied, n_skipped, n_bytes_copied)``.
    """
    from zarrlayered.api import hierarchy

    return await hierarchy.copy_all(source, dest, **kwargs)

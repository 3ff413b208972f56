"""The top-level functions as coroutines (zarr-python 3's ``zarr.api.asynchronous``).

They take keyword-only ``store=`` where zarr-python 3 does, open stores with :func:`make_store`, and
return :class:`AsyncArray` / :class:`AsyncGroup`. ``zarrlayered.api`` wraps each for synchronous code.

Modes, as zarr-python defines them: ``r`` read only, nothing is created; ``r+`` read and write, nothing is
created; ``a`` read and write, created if missing; ``w`` create, replacing what is there; ``w-``/``x``
create, failing if something is there. With ``r``/``r+`` a mistyped path raises: FileNotFoundError when the
store itself is missing, KeyError (:class:`~zarrlayered.errors.NodeNotFoundError`) for a missing node.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from zarrlayered.core.array import AsyncArray
from zarrlayered.core.create import parse_zarr_format
from zarrlayered.core.group import AsyncGroup, create_array_node, open_node
from zarrlayered.core.nodes import normalize_path
from zarrlayered.errors import ContainsGroupError, NodeNotFoundError
from zarrlayered.stores.abc import Store
from zarrlayered.stores.make import make_store, parse_mode

__all__ = [
    "array",
    "create",
    "create_array",
    "create_group",
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
    "resolve_store",
    "save",
    "save_array",
    "save_group",
    "zeros",
    "zeros_like",
]

_CREATING = ("a", "w", "w-", "x")


def resolve_store(store: Any, mode: str, storage_options: Mapping[str, Any] | None = None) -> Store:
    """Open ``store`` for ``mode``; with r/r+ a local path that does not exist is a FileNotFoundError."""
    mode = parse_mode(mode)
    local = isinstance(store, str | os.PathLike) and "://" not in str(store) and "::" not in str(store)
    if mode == "r+" and local and not Path(store).exists():
        raise FileNotFoundError(f"no store at {str(store)!r} (opened with mode 'r+')")
    resolved = make_store(store, mode=mode, storage_options=storage_options)
    if mode != "r" and resolved.read_only:
        raise PermissionError(f"{resolved!r} is read-only; it cannot be opened with mode {mode!r}")
    return resolved


def _node_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Drop zarr-python 2 arguments that have no meaning here (and refuse unknown ones)."""
    for legacy in ("synchronizer", "chunk_store", "cache_metadata", "cache_attrs", "object_codec", "meta_array",
                   "write_empty_chunks_default", "read_only"):
        if kwargs.get(legacy) is not None and legacy not in ("read_only",):
            raise TypeError(f"the zarr-python 2 argument {legacy}= is not supported here")
        kwargs.pop(legacy, None)
    return kwargs


# -- opening -------------------------------------------------------------------------------------------


async def open(
    store: Any = None,
    *,
    mode: str = "a",
    zarr_format: Literal[2, 3] | None = None,
    path: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> AsyncArray | AsyncGroup:
    """Open the array or group at ``path`` (creating a group, or an array if ``shape=`` is given, if allowed)."""
    mode = parse_mode(mode)
    if "shape" in kwargs:
        return await open_array(store, mode=mode, zarr_format=zarr_format, path=path,
                                storage_options=storage_options, **kwargs)
    resolved = resolve_store(store, mode, storage_options)
    if mode not in ("w", "w-", "x"):
        try:
            return await open_node(resolved, normalize_path(path), zarr_format=zarr_format)
        except NodeNotFoundError:
            if mode in ("r", "r+"):
                raise
    return await open_group(resolved, mode=mode, zarr_format=zarr_format, path=path, **kwargs)


async def open_array(
    store: Any = None,
    *,
    mode: str = "a",
    zarr_format: Literal[2, 3] | None = None,
    path: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> AsyncArray:
    """Open the array at ``path``; with mode a/w/w-/x and ``shape=`` it is created when missing."""
    mode = parse_mode(mode)
    resolved = resolve_store(store, mode, storage_options)
    node_path = normalize_path(path if path is not None else kwargs.pop("name", None))
    write_empty = kwargs.pop("write_empty_chunks", None)
    if mode in ("r", "r+", "a"):
        try:
            node = await open_node(resolved, node_path, zarr_format=zarr_format)
        except NodeNotFoundError:
            if mode in ("r", "r+") or "shape" not in kwargs:
                raise NodeNotFoundError(f"no array at {node_path!r} in {resolved!r}") from None
        else:
            if not isinstance(node, AsyncArray):
                raise ContainsGroupError(f"a group, not an array, is at {node_path!r}")
            if write_empty is not None:
                node.write_empty_chunks = bool(write_empty)
            return node
    if "shape" not in kwargs:
        raise TypeError(f"open_array with mode {mode!r} creates an array, which needs shape=")
    return await create_array_node(
        resolved, node_path, overwrite=(mode == "w"), zarr_format=zarr_format,
        write_empty_chunks=write_empty, **_node_kwargs(kwargs),
    )


async def open_group(
    store: Any = None,
    *,
    mode: str = "a",
    path: str | None = None,
    zarr_format: Literal[2, 3] | None = None,
    attributes: Mapping[str, Any] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    use_consolidated: bool | None = None,
    **kwargs: Any,
) -> AsyncGroup:
    """Open the group at ``path``, creating it when the mode allows."""
    mode = parse_mode(mode)
    _node_kwargs(kwargs)
    if kwargs:
        raise TypeError(f"open_group got unexpected keyword arguments {sorted(kwargs)}")
    resolved = resolve_store(store, mode, storage_options)
    node_path = normalize_path(path)
    if mode in ("r", "r+", "a"):
        try:
            return await AsyncGroup.open(resolved, node_path, zarr_format=zarr_format,
                                         use_consolidated=use_consolidated)
        except NodeNotFoundError:
            if mode in ("r", "r+"):
                raise NodeNotFoundError(f"no group at {node_path!r} in {resolved!r}") from None
    return await AsyncGroup.create(resolved, node_path, attributes=attributes, zarr_format=zarr_format,
                                   overwrite=(mode == "w"))


async def open_consolidated(store: Any = None, **kwargs: Any) -> AsyncGroup:
    """Open a group through its consolidated metadata (an error when it has none)."""
    kwargs.setdefault("use_consolidated", True)
    return await open_group(store, **kwargs)


async def open_like(a: Any, path: str, **kwargs: Any) -> AsyncArray:
    """Open (or create) an array at ``path`` shaped like ``a``."""
    kwargs.update(_like_kwargs(a, kwargs))
    return await open_array(path, **kwargs)


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
    kwargs = _node_kwargs(kwargs)
    return await create_array_node(
        resolved, normalize_path(name), overwrite=overwrite, shape=shape, dtype=dtype,
        data=data if write_data else None, write_empty_chunks=write_empty, **kwargs,
    )


async def create_group(
    store: Any = None,
    *,
    path: str | None = None,
    zarr_format: Literal[2, 3] | None = None,
    overwrite: bool = False,
    attributes: Mapping[str, Any] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> AsyncGroup:
    """Create a group."""
    resolved = resolve_store(store, "w" if overwrite else "a", storage_options)
    return await AsyncGroup.create(resolved, normalize_path(path), attributes=attributes,
                                   zarr_format=zarr_format, overwrite=overwrite)


async def group(
    store: Any = None,
    *,
    overwrite: bool = False,
    path: str | None = None,
    zarr_format: Literal[2, 3] | None = None,
    attributes: Mapping[str, Any] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> AsyncGroup:
    """Open the group at ``path``, or create it (``overwrite=True`` replaces what is there)."""
    return await open_group(store, mode="w" if overwrite else "a", path=path, zarr_format=zarr_format,
                            attributes=attributes, storage_options=storage_options, **kwargs)


async def create(
    shape: Any,
    *,
    chunks: Any = True,
    dtype: Any = None,
    compressor: Any = "default",
    fill_value: Any = 0,
    order: Literal["C", "F"] | None = None,
    store: Any = None,
    overwrite: bool = False,
    path: str | None = None,
    zarr_format: Literal[2, 3] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> AsyncArray:
    """Create an array with the zarr-python 2 style arguments (``chunks=True`` guesses a chunk shape)."""
    fmt = parse_zarr_format(zarr_format)
    if compressor != "default":
        if fmt == 2:
            kwargs["compressor"] = compressor
        else:
            kwargs["compressors"] = compressor
    if kwargs.pop("dimension_separator", None) is not None and fmt == 2:
        pass
    return await create_array(
        store, name=path, shape=shape, chunks="auto" if chunks in (True, None) else chunks,
        dtype=dtype, fill_value=fill_value, order=order, overwrite=overwrite, zarr_format=fmt,
        storage_options=storage_options, **kwargs,
    )


async def array(data: Any, **kwargs: Any) -> AsyncArray:
    """A new array holding ``data`` (in memory unless ``store=`` says otherwise)."""
    data = np.asarray(data) if not hasattr(data, "shape") else data
    kwargs.setdefault("dtype", getattr(data, "dtype", None))
    shape = kwargs.pop("shape", np.shape(data))
    new = await create(shape, **kwargs)
    await new.set_selection(Ellipsis, data, "basic")
    return new


def _like_kwargs(a: Any, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "shape" not in kwargs:
        out["shape"] = tuple(np.shape(a))
    if "dtype" not in kwargs and hasattr(a, "dtype"):
        out["dtype"] = a.dtype
    if "chunks" not in kwargs and isinstance(getattr(a, "chunks", None), tuple):
        out["chunks"] = a.chunks
    if "zarr_format" not in kwargs and isinstance(getattr(a, "zarr_format", None), int):
        out["zarr_format"] = a.zarr_format
    return out


async def empty(shape: Any, **kwargs: Any) -> AsyncArray:
    """An array whose elements read as the fill value until written."""
    kwargs.setdefault("fill_value", None)
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
    """An empty array shaped like ``a``."""
    return await empty(**{**_like_kwargs(a, kwargs), **kwargs})


async def zeros_like(a: Any, **kwargs: Any) -> AsyncArray:
    """A zero array shaped like ``a``."""
    return await zeros(**{**_like_kwargs(a, kwargs), **kwargs})


async def ones_like(a: Any, **kwargs: Any) -> AsyncArray:
    """An array of ones shaped like ``a``."""
    return await ones(**{**_like_kwargs(a, kwargs), **kwargs})


async def full_like(a: Any, **kwargs: Any) -> AsyncArray:
    """An array shaped like ``a`` filled with ``fill_value`` (default: ``a``'s fill value)."""
    kwargs.setdefault("fill_value", getattr(a, "fill_value", 0))
    return await full(**{**_like_kwargs(a, kwargs), **kwargs})


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
    """A new array with ``data``'s shape, dtype and (with ``"keep"``) chunks, filled with its values."""
    source = data.async_array if hasattr(data, "async_array") else data
    if isinstance(source, AsyncArray):
        if chunks == "keep":
            chunks = source.chunks
        if fill_value is None:
            fill_value = source.fill_value
        if zarr_format is None:
            zarr_format = source.zarr_format  # type: ignore[assignment]
        values = await source.get_selection(Ellipsis, "basic") if write_data else None
        dtype = kwargs.pop("dtype", source.dtype)
    else:
        values = np.asarray(data)
        dtype = kwargs.pop("dtype", values.dtype if values.dtype != object else str)
        if chunks == "keep":
            chunks = "auto"
    for key in ("shards", "filters", "compressors", "serializer"):
        if kwargs.get(key) == "keep":
            kwargs.pop(key)
    return await create_array(
        store, name=name, shape=np.shape(values) if values is not None else source.shape, dtype=dtype,
        chunks=chunks, fill_value=fill_value, zarr_format=zarr_format, overwrite=overwrite,
        data=values if write_data else None, **kwargs,
    )


# -- saving and loading --------------------------------------------------------------------------------


async def save_array(
    store: Any, arr: Any, *, zarr_format: Literal[2, 3] | None = None, path: str | None = None,
    storage_options: Mapping[str, Any] | None = None, **kwargs: Any,
) -> AsyncArray:
    """Write one numpy array to ``store`` (replacing what is at ``path``)."""
    data = np.asarray(arr)
    return await create_array(store, name=path, data=data, zarr_format=zarr_format, overwrite=True,
                              storage_options=storage_options, **kwargs)


async def save_group(
    store: Any, *args: Any, zarr_format: Literal[2, 3] | None = None, path: str | None = None,
    storage_options: Mapping[str, Any] | None = None, **kwargs: Any,
) -> AsyncGroup:
    """Write several numpy arrays into a new group: positional ones as ``arr_0``, ``arr_1``, ..."""
    if not args and not kwargs:
        raise ValueError("save_group needs at least one array")
    arrays = {f"arr_{i}": a for i, a in enumerate(args)} | kwargs
    root = await open_group(store, mode="w", path=path, zarr_format=zarr_format, storage_options=storage_options)
    for name, value in arrays.items():
        await root.create_array(name, data=np.asarray(value), overwrite=True)
    return root


async def save(
    store: Any, *args: Any, zarr_format: Literal[2, 3] | None = None, path: str | None = None, **kwargs: Any
) -> AsyncArray | AsyncGroup:
    """Save one array (``save(store, arr)``) or several into a group."""
    if len(args) == 1 and not kwargs:
        return await save_array(store, args[0], zarr_format=zarr_format, path=path)
    return await save_group(store, *args, zarr_format=zarr_format, path=path, **kwargs)


async def load(
    store: Any, *, path: str | None = None, zarr_format: Literal[2, 3] | None = None
) -> np.ndarray[Any, Any] | dict[str, Any]:
    """The data at ``path``: a numpy array, or for a group a dict of its arrays' data."""
    node = await open(store, mode="r", path=path, zarr_format=zarr_format)
    if isinstance(node, AsyncArray):
        result = await node.get_selection(Ellipsis, "basic")
        return np.asarray(result)
    out: dict[str, Any] = {}
    async for name, member in node.members():
        if isinstance(member, AsyncArray):
            out[name] = np.asarray(await member.get_selection(Ellipsis, "basic"))
    return out

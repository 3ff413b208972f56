"""``Group.copy``: copying a dataset or group into any open file, through the engine's copy.

Between files of the same Zarr format the engine copies the stored chunks as they are. Into a file of
the other format a dataset is made again with the same h5py properties (dtype, chunks, maxshape,
filters, fill value), as h5py's copy keeps them, and its data copied slab by slab.
"""

from __future__ import annotations

import posixpath
from typing import Any

from zarrlayered.api.hierarchy import copy as engine_copy
from zarrlayered.array import Array
from zarrlayered.compat.h5py.base import FileState
from zarrlayered.compat.h5py.convert import h5py_dtype
from zarrlayered.compat.h5py.create import make_dataset
from zarrlayered.compat.h5py.filters import describe_filters
from zarrlayered.compat.h5py.record import join_attributes, record_of, user_attributes
from zarrlayered.core.array import AsyncArray
from zarrlayered.core.group import AsyncGroup
from zarrlayered.core.sync import sync

__all__ = ["copy_node"]

#: Record entries that describe a dataset's attributes and ordering (kept by a copy, not by re-creation).
_ATTRIBUTE_ENTRIES = ("attrs", "track_order")


def _attributes(source: AsyncArray | AsyncGroup, without_attrs: bool) -> dict[str, Any]:
    attributes = dict(source.metadata.attributes)
    if without_attrs:  # the h5py record stays: it is part of what the dataset is
        record = {k: v for k, v in record_of(attributes).items() if k != "attrs"}
        return join_attributes({}, record)
    return attributes


def _recreate(source: AsyncArray, state: FileState, path: str, without_attrs: bool) -> None:
    """Make ``source`` again at ``path`` with the same h5py properties, then copy its data."""
    record = record_of(source.metadata.attributes)
    filters = describe_filters(list(source.filters), list(source.compressors), record)
    dtype = h5py_dtype(source.dtype, source.metadata.data_type.object_codec_id, record)
    extra = len(record.get("subarray") or ())
    empty = bool(record.get("empty"))
    shape = None if empty else tuple(source.shape[: source.ndim - extra])
    kwargs: dict[str, Any] = {
        "compression": filters["compression"], "compression_opts": filters["compression_opts"],
        "shuffle": filters["shuffle"], "fletcher32": filters["fletcher32"], "scaleoffset": filters["scaleoffset"],
    }
    if shape:
        if record.get("layout") != "contiguous":
            kwargs["chunks"] = tuple(int(c) for c in source.chunks[: len(shape)])  # type: ignore[arg-type]
        maxshape = record.get("maxshape")
        kwargs["maxshape"] = tuple(maxshape) if isinstance(maxshape, list) else (None,) * len(shape)
    if record.get("track_order"):
        kwargs["track_order"] = True
    node = make_dataset(state, path, shape, dtype, None, **kwargs)
    target = node.engine
    assert isinstance(target, AsyncArray)
    src, dst = Array(source), Array(target)
    if empty or not shape:
        dst[...] = src[...]
    else:
        step = max(int(target.chunks[0]), 1)  # type: ignore[arg-type]
        for start in range(0, shape[0], step):
            dst[start : start + step] = src[start : start + step]
    if not without_attrs:
        new_record = node.record
        new_record.update({k: v for k, v in record.items() if k in _ATTRIBUTE_ENTRIES})
        node.write_attributes(join_attributes(user_attributes(source.metadata.attributes), new_record))


def copy_node(source: AsyncArray | AsyncGroup, state: FileState, path: str, *, shallow: bool = False,
              without_attrs: bool = False) -> None:
    """Copy ``source`` (any store) to ``path`` in ``state``'s file.

    ``shallow`` copies a group's direct members only (subgroups come empty, with their attributes), as
    h5py's ``shallow=True``.
    """
    root = state.root_group
    if isinstance(source, AsyncArray):
        if source.zarr_format != root.zarr_format:
            _recreate(source, state, path, without_attrs)
            return
        parent_path, name = posixpath.split(path)
        parent = sync(root.require_group(parent_path)) if parent_path else root
        sync(engine_copy(source, parent, name))
        if without_attrs:
            copied = sync(root.getitem(path))
            state.register(path, copied).write_attributes(_attributes(source, True))
        return
    sync(root.create_group(path, attributes=_attributes(source, without_attrs)))

    async def members() -> list[tuple[str, AsyncArray | AsyncGroup]]:
        return [item async for item in source.members(0)]

    for name, child in sync(members()):
        child_path = f"{path}/{name}"
        if shallow and isinstance(child, AsyncGroup):
            sync(root.create_group(child_path, attributes=_attributes(child, without_attrs)))
        else:
            copy_node(child, state, child_path, without_attrs=without_attrs)

"""``Group.copy``: copying a dataset or group into any open file, through the engine's copy."""

from __future__ import annotations

import posixpath
from typing import Any

from zarrlayered.api.hierarchy import copy as engine_copy
from zarrlayered.compat.h5py.base import FileState
from zarrlayered.compat.h5py.record import join_attributes, record_of
from zarrlayered.core.array import AsyncArray
from zarrlayered.core.group import AsyncGroup
from zarrlayered.core.sync import sync

__all__ = ["copy_node"]


def _attributes(source: AsyncArray | AsyncGroup, without_attrs: bool) -> dict[str, Any]:
    attributes = dict(source.metadata.attributes)
    if without_attrs:  # the h5py record stays: it is part of what the dataset is
        return join_attributes({}, record_of(attributes))
    return attributes


def copy_node(source: AsyncArray | AsyncGroup, state: FileState, path: str, *, shallow: bool = False,
              without_attrs: bool = False) -> None:
    """Copy ``source`` (any store) to ``path`` in ``state``'s file.

    Arrays keep their metadata and, when both files have the same Zarr format, their stored chunks are
    copied as they are. ``shallow`` copies a group's direct members only (subgroups come empty, with
    their attributes), as h5py's ``shallow=True``.
    """
    root = state.root_group
    if isinstance(source, AsyncArray):
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

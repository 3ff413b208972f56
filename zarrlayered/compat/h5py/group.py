"""Group: h5py's group API (a mutable mapping of names to groups and datasets) over a Zarr group."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any, TypeVar

import numpy as np

from zarrlayered.compat.h5py.base import (
    FileState,
    HardLink,
    HLObject,
    ItemsViewHDF5,
    KeysViewHDF5,
    Node,
    ValuesViewHDF5,
    decode_name,
)
from zarrlayered.compat.h5py.copying import copy_node
from zarrlayered.compat.h5py.create import make_dataset
from zarrlayered.compat.h5py.dataset import Dataset
from zarrlayered.compat.h5py.record import join_attributes, user_attributes
from zarrlayered.core.array import AsyncArray
from zarrlayered.core.group import AsyncGroup
from zarrlayered.core.sync import sync
from zarrlayered.errors import ContainsArrayError, ContainsGroupError, NodeNotFoundError

__all__ = ["Group"]

_T = TypeVar("_T")
_LINK_TYPES = ("SoftLink", "ExternalLink", "HardLink")


def _resolve(base: str, name: str) -> str:
    """The store path of ``name`` seen from the group at ``base`` ("" is the root)."""
    parts = [] if name.startswith("/") or not base else base.split("/")
    for part in name.split("/"):
        if part in ("", "."):
            continue
        parts.append(part)
    return "/".join(parts)


def wrap(state: FileState, node: Node) -> Group | Dataset:
    """The h5py-style object for a node."""
    return Group(state, node) if isinstance(node.engine, AsyncGroup) else Dataset(state, node)


class Group(HLObject, MutableMapping[str, Any]):
    """A group: named members (groups and datasets) and attributes, as ``h5py.Group``.

    Names are paths: relative (``"a/b"``) or absolute (``"/a/b"``); ``"."`` is the group itself. Members
    are listed in name order, or in creation order for a group made with ``track_order=True``.
    Obtain groups from a :class:`~zarrlayered.compat.h5py.file.File`; the constructor is internal.
    """

    # -- paths and nodes -----------------------------------------------------------------------------------------
    def _path(self, name: object) -> str:
        return _resolve(self._node.path, decode_name(name))

    def _group_engine(self) -> AsyncGroup:
        self._state.check_open()
        engine = self._node.engine
        assert isinstance(engine, AsyncGroup)
        return engine

    def _children(self) -> list[tuple[str, AsyncArray | AsyncGroup]]:
        engine = self._group_engine()

        async def collect() -> list[tuple[str, AsyncArray | AsyncGroup]]:
            return [item async for item in engine.members(0)]

        return sync(collect())

    def _names(self) -> list[str]:
        engine = self._group_engine()

        async def collect() -> list[str]:
            return [name async for name in engine.keys()]  # noqa: SIM118 - an async iterator

        names = sync(collect())
        order = self._node.record.get("order") if self._node.record.get("track_order") else None
        if not isinstance(order, list):
            return names
        present = set(names)
        ordered = [n for n in order if n in present]
        seen = set(ordered)
        return ordered + [n for n in names if n not in seen]

    def _note_order(self, path: str, add: bool) -> None:
        """Keep the creation order of a ``track_order`` parent group up to date."""
        parent = self._state.lookup(posixpath.dirname(path))
        if parent is None or not parent.record.get("track_order"):
            return
        record = parent.record
        name = posixpath.basename(path)
        order = [n for n in record.get("order", []) if n != name]
        if add:
            order.append(name)
        record["order"] = order
        parent.write_attributes(join_attributes(user_attributes(parent.attributes), record))

    # -- mapping -------------------------------------------------------------------------------------------------
    def __getitem__(self, name: Any) -> Group | Dataset:
        self._state.check_open()
        if not isinstance(name, str | bytes):
            if type(name).__name__ in ("Reference", "RegionReference"):
                raise NotImplementedError("HDF5 object references have no Zarr equivalent")
            raise TypeError(f"Accessing a group is done with bytes or str, not {type(name)}")
        text = decode_name(name)
        if text == "":
            raise ValueError("Unable to synchronously open object (empty name)")
        path = self._path(text)
        node = self._state.lookup(path)
        if node is None:
            raise KeyError(f"Unable to synchronously open object (object '{posixpath.basename(path)}' doesn't exist)")
        return wrap(self._state, node)

    def __contains__(self, name: object) -> bool:
        if not self._state.open:
            return False
        if not isinstance(name, str | bytes):
            return False
        text = decode_name(name)
        if text == "":
            return False
        return self._state.lookup(self._path(text)) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __reversed__(self) -> Iterator[str]:
        return reversed(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def keys(self) -> KeysViewHDF5:
        """The member names (a view)."""
        return KeysViewHDF5(self)

    def values(self) -> ValuesViewHDF5:
        """The members (a view)."""
        return ValuesViewHDF5(self)

    def items(self) -> ItemsViewHDF5:
        """``(name, member)`` pairs (a view)."""
        return ItemsViewHDF5(self)

    def get(self, name: Any, default: Any = None, getclass: bool = False, getlink: bool = False,
            **kwds: Any) -> Any:
        """The member ``name``, or ``default``; with ``getclass=True`` its class, ``getlink=True`` its link."""
        if not (getclass or getlink):
            try:
                return self[name]
            except KeyError:
                return default
        if name not in self:
            return default
        if getlink:
            return HardLink if getclass else HardLink()
        node = self._state.lookup(self._path(name))
        assert node is not None
        return Group if isinstance(node.engine, AsyncGroup) else Dataset

    def __setitem__(self, name: Any, obj: Any) -> None:
        """``g[name] = data`` creates a dataset holding ``data`` (OSError when ``name`` exists)."""
        path = self._path(name)
        if isinstance(obj, HLObject):
            raise NotImplementedError(
                "hard links (a second name for an existing object) are an HDF5 feature; use copy() or move()"
            )
        if type(obj).__name__ in _LINK_TYPES:
            raise NotImplementedError(f"{type(obj).__name__} is an HDF5 link; Zarr hierarchies have no links")
        if isinstance(obj, np.dtype) or type(obj).__name__ == "Datatype":
            raise NotImplementedError("named datatypes are an HDF5 feature; pass dtype= when creating datasets")
        self._check_writable(ValueError("Unable to synchronously create dataset (no write intent on file)"))
        try:
            make_dataset(self._state, path, data=obj)
        except ValueError as exc:
            if "name already exists" in str(exc):
                raise OSError("Unable to create link (name already exists)") from None
            raise
        self._note_order(path, True)

    def __delitem__(self, name: Any) -> None:
        path = self._path(name)
        self._state.check_open()
        if self._state.mode == "r":
            raise KeyError("Couldn't delete link (no write intent on file)")
        if path == "":
            raise KeyError("Couldn't delete link (the root group cannot be deleted)")
        try:
            sync(self._state.root_group.delitem(path))
        except NodeNotFoundError:
            raise KeyError(
                "Couldn't delete link (callback link pointer is NULL (specified link may be '.' or not exist))"
            ) from None
        self._state.forget(path)
        self._note_order(path, False)

    def clear(self) -> None:
        """Delete every member."""
        for name in self._names():
            del self[name]

    # -- creating ------------------------------------------------------------------------------------------------
    def create_group(self, name: Any, track_order: bool | None = None) -> Group:
        """Create a group (missing intermediate groups too); ValueError when the name exists."""
        path = self._path(name)
        self._check_writable(ValueError("Unable to synchronously create group (no write intent on file)"))
        if path in ("", self._node.path):
            raise ValueError("Unable to synchronously create group (name already exists)")
        attributes = join_attributes({}, {"track_order": True} if track_order else {})
        try:
            engine = sync(self._state.root_group.create_group(path, attributes=attributes))
        except (ContainsGroupError, ContainsArrayError):
            raise ValueError("Unable to synchronously create group (name already exists)") from None
        node = self._state.register(path, engine)
        self._note_order(path, True)
        return Group(self._state, node)

    def require_group(self, name: Any) -> Group:
        """The group ``name``, created when missing; TypeError when a dataset is there."""
        path = self._path(name)
        self._state.check_open()
        node = self._state.lookup(path)
        if node is None:
            return self.create_group(name)
        if not isinstance(node.engine, AsyncGroup):
            raise TypeError("Incompatible object (Dataset) already exists")
        return Group(self._state, node)

    def create_dataset(self, name: Any, shape: Any = None, dtype: Any = None, data: Any = None,
                       **kwds: Any) -> Dataset:
        """Create a dataset, as ``h5py.Group.create_dataset``.

        Parameters
        ----------
        name
            Its path (intermediate groups are created).
        shape, dtype, data
            As h5py: ``data`` alone gives shape and dtype; ``shape`` alone means float32; ``dtype`` alone
            makes an empty dataset.
        **kwds
            ``chunks`` (None, True or a tuple), ``maxshape`` (None on an axis: unlimited), ``fillvalue``,
            ``compression`` ("gzip", "lzf", 0-9, a numcodecs codec or codec dict), ``compression_opts``,
            ``shuffle``, ``fletcher32``, ``scaleoffset``, ``track_order``; Zarr's ``shards`` too.
        """
        self._check_writable(ValueError("Unable to synchronously create dataset (no write intent on file)"))
        if name is None:  # anonymous: kept in memory while the file is open, never linked into it
            state = self._state.new_anonymous()
            return Dataset(state, make_dataset(state, "anonymous", shape, dtype, data, **kwds))
        path = self._path(name)
        node = make_dataset(self._state, path, shape, dtype, data, **kwds)
        self._note_order(path, True)
        return Dataset(self._state, node)

    def require_dataset(self, name: Any, shape: Any, dtype: Any, exact: bool = False, **kwds: Any) -> Dataset:
        """The dataset ``name``, created when missing; an existing one must match as h5py requires.

        Raises
        ------
        TypeError
            A group is there; the shapes differ (and ``maxshape`` does not allow it); the dtypes differ
            (``exact=True``) or the requested dtype cannot be cast safely to the existing one.
        """
        if name not in self:
            return self.create_dataset(name, shape, dtype, **kwds)
        found = self[name]
        if not isinstance(found, Dataset):
            raise TypeError(f"Incompatible object ({type(found).__name__}) already exists")
        shape = (int(shape),) if isinstance(shape, int | np.integer) else tuple(shape)
        if shape != found.shape:
            if "maxshape" not in kwds:
                raise TypeError(f"Shapes do not match (existing {found.shape} vs new {shape})")
            maxshape = kwds["maxshape"]
            maxshape = (maxshape,) if isinstance(maxshape, int) else tuple(maxshape) if maxshape is not None else None
            if maxshape != found.maxshape:
                raise TypeError(f"Max shapes do not match (existing {found.maxshape} vs new {maxshape})")
            if any(n > m for n, m in zip(shape, found.maxshape or (), strict=False) if m is not None):
                raise TypeError(f"New shape does not fit in max shape (existing {found.maxshape} vs new {shape})")
        wanted = np.dtype(dtype)
        if exact:
            if wanted != found.dtype:
                raise TypeError(f"Datatypes do not exactly match (existing {found.dtype} vs new {wanted})")
        elif not np.can_cast(wanted, found.dtype):
            raise TypeError(f"Datatypes cannot be safely cast (existing {found.dtype} vs new {wanted})")
        return found

    def create_dataset_like(self, name: Any, other: Dataset, **kwupdate: Any) -> Dataset:
        """A new dataset with the shape, dtype, chunks, filters, fill value and maxshape of ``other``."""
        for key in ("shape", "dtype", "chunks", "compression", "compression_opts", "scaleoffset", "shuffle",
                    "fletcher32", "fillvalue"):
            kwupdate.setdefault(key, getattr(other, key))
        if other.maxshape != other.shape:  # h5py: passing maxshape would make the copy chunked
            kwupdate.setdefault("maxshape", other.maxshape)
        return self.create_dataset(name, **kwupdate)

    # -- moving, copying, visiting -------------------------------------------------------------------------------
    def move(self, source: Any, dest: Any) -> None:
        """Rename ``source`` to ``dest`` (paths relative to this group); ValueError when ``dest`` exists."""
        src, dst = self._path(source), self._path(dest)
        self._check_writable(ValueError("Unable to synchronously move object (no write intent on file)"))
        if src == dst:
            return
        try:
            sync(self._state.root_group.move(src, dst))
        except NodeNotFoundError:
            raise KeyError(f"Unable to synchronously move object (source object '{source}' doesn't exist)") from None
        except (ContainsGroupError, ContainsArrayError):
            raise ValueError("Unable to synchronously move object (destination object already exists)") from None
        self._state.moved(src, dst)
        self._note_order(src, False)
        self._note_order(dst, True)

    def copy(self, source: Any, dest: Any, name: Any = None, shallow: bool = False, expand_soft: bool = False,
             expand_external: bool = False, expand_refs: bool = False, without_attrs: bool = False) -> None:
        """Copy ``source`` (a path here, or a group/dataset of any file) to ``dest`` (a path or a group).

        ``shallow`` copies only the direct members of a group (subgroups come empty); ``without_attrs``
        leaves the attributes behind. The other flags concern HDF5 links and references and change nothing.
        """
        src_obj = source if isinstance(source, HLObject) else self[source]
        if isinstance(dest, Group):
            target_group = dest
            target = decode_name(name) if name is not None else posixpath.basename((src_obj.name or "").rstrip("/"))
        elif isinstance(dest, HLObject):
            raise TypeError("Destination must be path or Group object")
        else:
            target_group = self
            target = decode_name(dest)
        if not target:
            raise ValueError("a name is needed to copy the root group (name=)")
        target_group._check_writable(ValueError("Unable to synchronously copy object (no write intent on file)"))
        path = target_group._path(target)
        if target_group._state.lookup(path) is not None:
            raise RuntimeError("Unable to synchronously copy object (destination object already exists)")
        copy_node(src_obj._node.engine, target_group._state, path, shallow=shallow, without_attrs=without_attrs)
        target_group._note_order(path, True)

    def _walk(self) -> list[tuple[str, Node]]:
        engine = self._group_engine()

        async def collect() -> list[tuple[str, AsyncArray | AsyncGroup]]:
            return [item async for item in engine.members(None)]

        base = self._node.path
        found = sync(collect())
        return [(name, self._state.register(f"{base}/{name}" if base else name, node)) for name, node in found]

    def visit(self, func: Callable[[str], _T | None]) -> _T | None:
        """Call ``func(name)`` for every member below, in name order; stop at the first non-None result."""
        for name, _node in self._walk():
            result = func(name)
            if result is not None:
                return result
        return None

    def visititems(self, func: Callable[[str, Any], _T | None]) -> _T | None:
        """Call ``func(name, object)`` for every member below; stop at the first non-None result."""
        for name, node in self._walk():
            result = func(name, wrap(self._state, node))
            if result is not None:
                return result
        return None

    def visit_links(self, func: Callable[[str], _T | None]) -> _T | None:
        """Same as :meth:`visit` (every Zarr member is a hard link)."""
        return self.visit(func)

    def visititems_links(self, func: Callable[[str, Any], _T | None]) -> _T | None:
        """Call ``func(name, HardLink())`` for every member below; stop at the first non-None result."""
        for name, _node in self._walk():
            result = func(name, HardLink())
            if result is not None:
                return result
        return None

    def __repr__(self) -> str:
        if not self._state.open:
            return "<Closed HDF5 group>"
        return f'<HDF5 group "{self.name}" ({len(self)} members)>'

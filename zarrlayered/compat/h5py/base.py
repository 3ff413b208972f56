"""What every h5py-style object shares: the open file's state, the node registry, names, equality, views.

Each open :class:`~zarrlayered.compat.h5py.file.File` has one :class:`FileState`. It keeps one
:class:`Node` per path touched, holding the engine object (:class:`~zarrlayered.core.array.AsyncArray` or
:class:`~zarrlayered.core.group.AsyncGroup`). Every h5py-style handle on a path shares that node, so a
change made through one handle (attributes, a resize) is seen through all, and a ``move`` renames the
node under every handle, as HDF5 objects behave.
"""

from __future__ import annotations

import posixpath
import threading
from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, ValuesView
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from zarrlayered.array import Array
from zarrlayered.compat.h5py.record import record_of
from zarrlayered.core.array import AsyncArray
from zarrlayered.core.group import AsyncGroup
from zarrlayered.core.nodes import write_documents_sync
from zarrlayered.core.sync import sync
from zarrlayered.errors import MetadataValidationError, NodeNotFoundError, ReadOnlyError, UnsafeCodecError
from zarrlayered.stores.abc import Store
from zarrlayered.stores.memory import MemoryStore

if TYPE_CHECKING:
    from zarrlayered.compat.h5py.attrs import AttributeManager
    from zarrlayered.compat.h5py.file import File
    from zarrlayered.compat.h5py.group import Group

__all__ = [
    "FileState",
    "HLObject",
    "HardLink",
    "ItemsViewHDF5",
    "KeysViewHDF5",
    "Node",
    "ValuesViewHDF5",
    "decode_name",
]

_T = TypeVar("_T")

Engine = AsyncArray | AsyncGroup


def decode_name(name: object, what: str = "Accessing a group is done with bytes or str") -> str:
    """A member or attribute name as str (bytes are UTF-8); TypeError for anything else, as h5py."""
    if isinstance(name, bytes):
        return name.decode("utf-8")
    if isinstance(name, str):
        return name
    raise TypeError(f"{what}, not {type(name)}")


class Node:
    """One array or group of an open file: its current path and engine object (shared by all handles)."""

    __slots__ = ("_cache", "engine", "path")

    def __init__(self, path: str, engine: Engine) -> None:
        self.path = path
        self.engine = engine
        self._cache: tuple[object, Any] | None = None

    @property
    def attributes(self) -> Mapping[str, Any]:
        """The node's Zarr attributes (user attributes and the h5py record)."""
        return self.engine.metadata.attributes

    @property
    def record(self) -> dict[str, Any]:
        """The node's h5py record."""
        return record_of(self.engine.metadata.attributes)

    def cached(self, compute: Callable[[], _T]) -> _T:
        """``compute()``, remembered until the engine's metadata changes."""
        metadata = self.engine.metadata
        if self._cache is None or self._cache[0] is not metadata:
            self._cache = (metadata, compute())
        return self._cache[1]  # type: ignore[no-any-return,unused-ignore]

    def write_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Replace the node's Zarr attributes.

        A store that answers synchronously (local files, memory, zip) takes the metadata documents
        directly, as the engine's own synchronous paths do: no hop to the IO loop per attribute.
        """
        engine = self.engine
        if engine.store.read_only:
            raise ReadOnlyError(f"cannot change the attributes of {engine.name!r}: the store is read-only")
        fast = engine.store.supports_sync
        if isinstance(engine, AsyncGroup):
            fast = fast and engine.metadata.consolidated_metadata is None  # the engine keeps those in step
            if fast:
                group_metadata = engine.metadata.update_attributes(dict(attributes))
                write_documents_sync(engine.store, engine.path, group_metadata.to_json_bytes())
                engine.metadata = group_metadata
                return
        elif fast:
            array_metadata = engine.metadata.update_attributes(dict(attributes))
            write_documents_sync(engine.store, engine.path, array_metadata.to_json_bytes())
            engine.metadata = array_metadata
            return
        if isinstance(engine, AsyncGroup):
            sync(engine.replace_attributes(dict(attributes)))
        else:
            Array(engine).attrs.put(dict(attributes))


class FileState:
    """The state of one open file: store, mode, open flag and the node registry.

    Parameters
    ----------
    store
        The store holding the hierarchy.
    root
        The root group (the engine's).
    mode
        ``"r"`` or ``"r+"`` (h5py's ``File.mode``).
    filename
        What ``File.filename`` reports.
    driver
        What ``File.driver`` reports.
    closer
        Called once when the file is closed (closes the store if the file opened it).
    """

    def __init__(self, store: Store, root: AsyncGroup, mode: str, filename: str, driver: str,
                 closer: Callable[[], None]) -> None:
        self.store = store
        self.mode = mode
        self.filename = filename
        self.driver = driver
        self.closer = closer
        self.swmr_mode = False
        self.open = True
        self.lock = threading.RLock()
        self.nodes: dict[str, Node] = {"": Node("", root)}
        #: The file an anonymous dataset's private state belongs to (None for a file's own state).
        self.owner: FileState | None = None
        #: The ``libver`` bounds the file was opened with, as h5py reports them (nominal on Zarr).
        self.libver: tuple[str, str] = ("earliest", "v200")
        self._anonymous: list[FileState] = []

    @property
    def root(self) -> Node:
        """The root group's node."""
        return self.nodes[""]

    @property
    def root_group(self) -> AsyncGroup:
        """The root group's engine object."""
        engine = self.nodes[""].engine
        assert isinstance(engine, AsyncGroup)
        return engine

    @property
    def zarr_format(self) -> int:
        """2 or 3."""
        return self.root.engine.zarr_format

    def close(self) -> None:
        """Mark the file closed and close the store if this file opened it (a zip archive is written out)."""
        with self.lock:
            if not self.open:
                return
            self.open = False
            self.closer()
            for child in self._anonymous:
                child.close()

    def new_anonymous(self) -> FileState:
        """A private in-memory hierarchy for one anonymous dataset: it lives while this file is open and is
        never written to the file (as in HDF5, where an unlinked dataset is not reachable once closed)."""
        store = MemoryStore()
        root = sync(AsyncGroup.create(store, "", zarr_format=self.zarr_format))  # type: ignore[arg-type]
        child = FileState(store, root, "r+", self.filename, self.driver, lambda: None)
        child.owner = self
        with self.lock:
            self._anonymous.append(child)
        return child

    def check_open(self) -> None:
        """ValueError when the file is closed (h5py's error for a closed identifier)."""
        if not self.open:
            raise ValueError("Invalid location identifier (invalid identifier type)")

    def register(self, path: str, engine: Engine) -> Node:
        """The node for ``path``: the registered one (its engine refreshed if the kind changed) or a new one."""
        with self.lock:
            node = self.nodes.get(path)
            if node is None or isinstance(node.engine, AsyncGroup) != isinstance(engine, AsyncGroup):
                node = Node(path, engine)
                self.nodes[path] = node
            return node

    def lookup(self, path: str) -> Node | None:
        """The node at ``path``, opened from the store when not yet registered; None when nothing is there."""
        node = self.nodes.get(path)
        if node is not None:
            return node
        try:
            engine = sync(self.root_group.getitem(path))
        except NodeNotFoundError:
            return None
        except (MetadataValidationError, UnsafeCodecError):  # something is there, and it is refused: say so
            raise
        except ValueError:  # an unusable name (".." and the like) names nothing
            return None
        return self.register(path, engine)

    def forget(self, path: str) -> None:
        """Drop ``path`` and everything below it from the registry (after a delete)."""
        with self.lock:
            prefix = f"{path}/"
            for key in [k for k in self.nodes if k == path or k.startswith(prefix)]:
                if key:
                    del self.nodes[key]

    def moved(self, source: str, dest: str) -> None:
        """Re-path the registered nodes at and below ``source`` to ``dest`` (after a move)."""
        with self.lock:
            prefix = f"{source}/"
            moving = [(k, n) for k, n in self.nodes.items() if k == source or k.startswith(prefix)]
            for key, _ in moving:
                del self.nodes[key]
            for key, node in moving:
                new_path = dest + key[len(source):]
                node.path = new_path
                engine = node.engine
                if isinstance(engine, AsyncGroup):
                    node.engine = AsyncGroup(engine.metadata, engine.store, new_path)
                else:
                    node.engine = AsyncArray(engine.metadata, engine.store, new_path,
                                             write_empty_chunks=engine.write_empty_chunks)
                self.nodes[new_path] = node


class HardLink:
    """The only kind of link Zarr has: a name in a group (``h5py.HardLink``)."""

    def __repr__(self) -> str:
        return "<h5py_compat.HardLink>"


class _ObjectID:
    """A stand-in for h5py's low-level identifier: only ``valid`` and truth (whether the file is open)."""

    def __init__(self, obj: HLObject) -> None:
        self._obj = obj

    @property
    def valid(self) -> bool:
        return self._obj._state.open

    def __bool__(self) -> bool:
        return self.valid

    def __getattr__(self, name: str) -> NoReturn:
        raise NotImplementedError(
            f"the HDF5 low-level interface ({type(self).__name__}.{name}) does not exist on Zarr; "
            "use the high-level File/Group/Dataset API"
        )


class HLObject:
    """What groups and datasets share: ``name``, ``file``, ``parent``, ``attrs``, equality, truth."""

    def __init__(self, state: FileState, node: Node) -> None:
        self._state = state
        self._node = node

    @property
    def name(self) -> str | None:
        """The absolute path ("/" for the root group; None for an anonymous dataset)."""
        if self._state.owner is not None:
            return None
        return "/" + self._node.path

    @property
    def file(self) -> File:
        """The file this object belongs to."""
        from zarrlayered.compat.h5py.file import File

        return File._bind(self._state.owner or self._state)

    @property
    def parent(self) -> Group:
        """The group containing this object (the root group is its own parent)."""
        from zarrlayered.compat.h5py.group import Group

        self._state.check_open()
        path = posixpath.dirname(self._node.path)
        node = self._state.lookup(path)
        if node is None:
            raise KeyError(f"the parent group of {self.name!r} no longer exists")
        return Group(self._state, node)

    @property
    def attrs(self) -> AttributeManager:
        """The attributes: a mutable mapping of names to values."""
        from zarrlayered.compat.h5py.attrs import AttributeManager

        self._state.check_open()
        return AttributeManager(self)

    @property
    def id(self) -> _ObjectID:
        """A minimal identifier: ``valid`` tells whether the object is usable (its file is open)."""
        return _ObjectID(self)

    @property
    def ref(self) -> NoReturn:
        """Object references are an HDF5 feature; Zarr has none."""
        raise NotImplementedError("object references are an HDF5 feature with no Zarr equivalent; store paths instead")

    @property
    def regionref(self) -> NoReturn:
        """Region references are an HDF5 feature; Zarr has none."""
        raise NotImplementedError("region references are an HDF5 feature with no Zarr equivalent")

    @property
    def zarr_node(self) -> Engine:
        """The engine object behind this one (an AsyncArray or AsyncGroup)."""
        return self._node.engine

    def _check_writable(self, error: BaseException) -> None:
        self._state.check_open()
        if self._state.mode == "r":
            raise error

    def __bool__(self) -> bool:
        return self._state.open

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HLObject):
            if other._node is self._node:
                return True
            return bool(self._state.store == other._state.store and self._node.path == other._node.path)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash((type(self._state.store).__name__, self._node.path))

    def __reduce__(self) -> NoReturn:
        raise TypeError("h5py objects cannot be pickled")


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except (ValueError, TypeError):  # arrays compare elementwise
        import numpy as np

        return bool(np.array_equal(np.asarray(a), np.asarray(b)))


class KeysViewHDF5(KeysView[str]):
    """``group.keys()`` / ``attrs.keys()``: a live view that prints as h5py's."""

    def __init__(self, mapping: Mapping[str, Any]) -> None:
        super().__init__(mapping)
        self._source = mapping

    def __str__(self) -> str:
        return f"<KeysViewHDF5 {list(self)}>"

    __repr__ = __str__

    def __reversed__(self) -> Iterator[str]:
        return reversed(list(self._source))


class ValuesViewHDF5(ValuesView[Any]):
    """``group.values()`` / ``attrs.values()``."""

    def __init__(self, mapping: Mapping[str, Any]) -> None:
        super().__init__(mapping)
        self._source = mapping

    def __contains__(self, value: object) -> bool:
        return any(_same(v, value) for v in self)

    def __reversed__(self) -> Iterator[Any]:
        mapping = self._source
        return (mapping[k] for k in reversed(list(mapping)))

    def __repr__(self) -> str:
        return f"ValuesViewHDF5({self._source!r})"


class ItemsViewHDF5(ItemsView[str, Any]):
    """``group.items()`` / ``attrs.items()``."""

    def __init__(self, mapping: Mapping[str, Any]) -> None:
        super().__init__(mapping)
        self._source = mapping

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, tuple) or len(item) != 2:
            return False
        key, value = item
        if key not in self._source:
            return False
        found = self._source[key]
        return _same(found, value)

    def __reversed__(self) -> Iterator[tuple[str, Any]]:
        mapping = self._source
        return ((k, mapping[k]) for k in reversed(list(mapping)))

    def __repr__(self) -> str:
        return f"ItemsViewHDF5({self._source!r})"

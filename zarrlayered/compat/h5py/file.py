"""File: h5py's ``File`` over a Zarr hierarchy in a directory, a zip archive, a URL or any Store.

Modes are h5py's: ``r`` (read only, must exist), ``r+`` (read/write, must exist), ``w`` (create,
replacing what is there), ``w-`` / ``x`` (create, failing if it exists), ``a`` (read/write, created
when missing); the default is ``r``. A ``.zip`` path is a zip archive (written out on ``close``).
"""

from __future__ import annotations

import errno
import os
import tempfile
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from zarrlayered.compat.h5py.base import FileState
from zarrlayered.compat.h5py.group import Group
from zarrlayered.compat.h5py.record import join_attributes, record_of
from zarrlayered.core.group import AsyncGroup, open_node
from zarrlayered.core.sync import sync
from zarrlayered.errors import ContainsArrayError, NodeNotFoundError
from zarrlayered.stores.abc import Store
from zarrlayered.stores.make import make_store
from zarrlayered.stores.mapping import is_mapping_like
from zarrlayered.stores.memory import MemoryStore

__all__ = ["File"]

_MODES = ("r", "r+", "w", "w-", "x", "a")
#: File-access drivers: each HDF5 driver only changes how bytes reach the disk, which Zarr's store decides.
_DRIVERS = (None, "sec2", "stdio", "core", "direct", "fileobj")
_LOCKING = (None, True, False, "best-effort")


def _is_url(name: str) -> bool:
    return "://" in name or "::" in name


class _Closer:
    """Closes what a file opened, once: its store (a zip archive is written out), then, for a file object,
    copies the archive into it. Runs at ``File.close()`` or when the file's last object is gone."""

    def __init__(self, store: Store | None, fileobj: Any = None, zip_path: str | None = None,
                 writable: bool = False) -> None:
        self._store = store
        self._fileobj = fileobj
        self._zip_path = zip_path
        self._writable = writable

    def __call__(self) -> None:
        store, fileobj, zip_path = self._store, self._fileobj, self._zip_path
        self._store = self._fileobj = self._zip_path = None
        if store is not None and not store.closed:
            store.close()
        if zip_path is None:
            return
        try:
            if self._writable and fileobj is not None and os.path.exists(zip_path):
                with open(zip_path, "rb") as archive:
                    content = archive.read()
                fileobj.seek(0)
                fileobj.truncate()
                fileobj.write(content)
                fileobj.flush()
        finally:
            if os.path.exists(zip_path):
                os.remove(zip_path)


@dataclass(frozen=True)
class _Opened:
    """A store opened for a file: what ``filename`` reports, how to close it, whether anything was there."""

    store: Store
    filename: str
    closer: _Closer
    existed: bool
    driver: str


def _zip_for_fileobj(fileobj: Any, mode: str) -> tuple[str, bool]:
    """A temporary .zip file holding what ``fileobj`` holds (its path, and whether it held anything)."""
    fileobj.seek(0, os.SEEK_END)
    size = fileobj.tell()
    fd, path = tempfile.mkstemp(suffix=".zip", prefix="h5py_compat_")
    os.close(fd)
    if size and mode not in ("w",):
        fileobj.seek(0)
        with open(path, "wb") as archive:
            archive.write(fileobj.read())
        return path, True
    os.remove(path)
    return path, bool(size)


#: HDF5 file format bounds h5py names; "latest" is the newest of them.
_LIBVER_LABELS = ("earliest", "v108", "v110", "v112", "v114", "v200")


def _libver_label(value: Any) -> str:
    if value == "latest":
        return _LIBVER_LABELS[-1]
    if not isinstance(value, str) or value not in _LIBVER_LABELS:
        raise KeyError(f"libver must be one of {(*_LIBVER_LABELS, 'latest')}, got {value!r}")
    return value


def parse_libver(libver: Any) -> tuple[str, str]:
    """h5py's ``(low, high)`` bounds for ``libver`` (None, one label or two); KeyError for an unknown label."""
    if libver is None:
        return _LIBVER_LABELS[0], _LIBVER_LABELS[-1]
    if isinstance(libver, str):
        return _libver_label(libver), _LIBVER_LABELS[-1]
    try:
        low, high = libver
    except (TypeError, ValueError):
        raise KeyError(f"libver must be a label or a (low, high) pair of labels, got {libver!r}") from None
    return _libver_label(low), _libver_label(high)


def _not_found(name: str) -> FileNotFoundError:
    return FileNotFoundError(
        errno.ENOENT,
        f"Unable to synchronously open file (unable to open file: name = '{name}', errno = 2, "
        "error message = 'No such file or directory')",
    )


def _exists_error(name: str) -> FileExistsError:
    return FileExistsError(
        errno.EEXIST,
        f"Unable to synchronously create file (unable to open file: name = '{name}', errno = 17, "
        "error message = 'File exists')",
    )


def _not_zarr(name: str) -> OSError:
    return OSError(f"Unable to synchronously open file (file signature not found: '{name}' holds no Zarr hierarchy)")


def _open_root(store: Store, mode: str) -> AsyncGroup | None:
    try:
        consolidated = None if mode == "r" else False
        return sync(AsyncGroup.open(store, "", zarr_format=None, use_consolidated=consolidated))
    except NodeNotFoundError:
        return None
    except ContainsArrayError:
        raise OSError(f"the root of {store!r} is a Zarr array, not a group (use zarrlayered.open_array)") from None


def _holds_zarr(store: Store) -> bool:
    """Whether a Zarr node (group or array) is at the root of ``store``."""
    try:
        sync(open_node(store, "", use_consolidated=False))
    except NodeNotFoundError:
        return False
    return True


class File(Group):
    """An open Zarr hierarchy with h5py's ``File`` API (a :class:`Group` for the root, plus file methods).

    Parameters
    ----------
    name
        A directory path (``str`` or ``PathLike``; any suffix such as ``.h5`` is just part of the name), a
        ``.zip`` path, a URL (``s3://...``, ``memory://...``, ``zip::...``), a ``dict`` or a Store.
    mode
        ``r`` (default), ``r+``, ``w``, ``w-``, ``x`` or ``a``, as h5py.
    driver
        ``"core"`` with ``backing_store=False`` keeps the file in memory; other HDF5 drivers (``sec2``,
        ``stdio``) are accepted and change nothing.
    track_order
        For a new file: list members and attributes of the root group in creation order.
    zarr_format
        2 or 3 for a new file (default 3); for an existing one, None detects it.
    storage_options
        fsspec options, with URLs.
    **kwds
        h5py's tuning options (``libver``, ``rdcc_*``, ``locking``, ``userblock_size``, ...) are accepted
        and ignored; Zarr has no equivalent.

    Raises
    ------
    FileNotFoundError
        Modes ``r``/``r+`` and nothing is there.
    FileExistsError
        Modes ``w-``/``x`` and something is there.
    OSError
        The path holds something that is not a Zarr hierarchy.
    ValueError
        An unknown mode or driver.
    """

    def __init__(self, name: Any, mode: str | None = None, driver: str | None = None, libver: Any = None,
                 userblock_size: Any = None, swmr: bool = False, rdcc_nslots: Any = None, rdcc_nbytes: Any = None,
                 rdcc_w0: Any = None, track_order: bool | None = None, fs_strategy: Any = None,
                 fs_persist: bool = False, fs_threshold: int = 1, fs_page_size: Any = None, page_buf_size: Any = None,
                 min_meta_keep: int = 0, min_raw_keep: int = 0, locking: Any = None, alignment_threshold: int = 1,
                 alignment_interval: int = 1, meta_block_size: Any = None, *, zarr_format: Literal[2, 3] | None = None,
                 storage_options: Mapping[str, Any] | None = None, **kwds: Any) -> None:
        mode = "r" if mode is None else mode
        if mode not in _MODES:
            raise ValueError("Invalid mode; must be one of r, r+, w, w-, x, a")
        if driver not in _DRIVERS:
            raise ValueError(f"Unknown driver type '{driver}'")
        if "backing_store" in kwds and driver != "core":
            raise TypeError("backing_store is an option of the 'core' driver only")
        backing_store = bool(kwds.pop("backing_store", True))
        kwds.pop("block_size", None)
        if kwds:
            raise TypeError(f"File() got an unexpected keyword argument {sorted(kwds)[0]!r}")
        if locking not in _LOCKING:
            raise ValueError(f"Unsupported locking value: {locking!r}")
        if userblock_size is not None:
            if not isinstance(userblock_size, int) or userblock_size < 512 or userblock_size & (userblock_size - 1):
                raise ValueError("User block size must be a power of 2 no smaller than 512")
            if mode in ("r", "r+"):
                raise ValueError("User block may only be specified when creating a file")
        if fs_strategy not in (None, "fsm", "page", "aggregate", "none"):
            raise ValueError(f"Invalid file space strategy type: {fs_strategy!r}")
        if page_buf_size and mode in ("w", "w-", "x") and fs_strategy != "page":
            raise OSError(
                "Unable to synchronously create file (page buffering (page_buf_size) needs fs_strategy='page', "
                f"got {fs_strategy!r})"
            )
        bounds = parse_libver(libver)
        opened = self._store(name, mode, driver, backing_store, storage_options)
        state = self._open(opened, mode, track_order, zarr_format, userblock_size)
        state.libver = bounds
        weakref.finalize(state, state.closer)
        super().__init__(state, state.root)

    @classmethod
    def _bind(cls, state: FileState) -> File:
        """Another File object on an open file's state (what ``obj.file`` returns)."""
        obj = cls.__new__(cls)
        Group.__init__(obj, state, state.root)
        return obj

    # -- opening -------------------------------------------------------------------------------------------------
    @staticmethod
    def _store(name: Any, mode: str, driver: str | None, backing_store: bool,
               storage_options: Mapping[str, Any] | None) -> _Opened:
        """The store for ``name``, and how to close it."""
        if isinstance(name, Store):
            store = name.with_read_only(True) if mode == "r" and not name.read_only else name
            return _Opened(store, repr(name), _Closer(None), True, driver or "sec2")
        if isinstance(name, dict):
            store = MemoryStore(name, read_only=mode == "r")
            return _Opened(store, "<memory>", _Closer(store), bool(name), driver or "core")
        zip_mode = "r" if mode == "r" else ("a" if mode in ("r+", "a") else mode)
        file_like = hasattr(name, "read") and hasattr(name, "seek")
        if driver == "fileobj" and not file_like:
            raise ValueError("the 'fileobj' driver needs a file-like object")
        if file_like and driver not in (None, "fileobj"):
            raise ValueError(f"Driver must be 'fileobj' for file-like object if specified, not {driver!r}")
        if file_like:
            path, held = _zip_for_fileobj(name, mode)
            if mode in ("r", "r+") and not held:
                raise _not_found(repr(name))
            if mode in ("w-", "x") and held:
                raise _exists_error(repr(name))
            store = make_store(path, mode="w" if not held else zip_mode)
            return _Opened(store, repr(name), _Closer(store, name, path, mode != "r"), held, "fileobj")
        if not isinstance(name, str | bytes | os.PathLike) and is_mapping_like(name):
            # a zarr-python 2 store or any MutableMapping of str -> bytes (the MutableMapping front end)
            store = make_store(name, mode=mode)
            held = any(True for _ in name)
            return _Opened(store, repr(name), _Closer(None), held, driver or "sec2")
        if not isinstance(name, str | bytes | os.PathLike):
            raise TypeError(
                f"expected a path, URL, dict, mapping, file object or Store, got {type(name).__name__}"
            )
        text = os.fsdecode(name)
        if driver == "core" and not backing_store:
            store = MemoryStore()
            return _Opened(store, text, _Closer(store), False, "core")
        if _is_url(text):
            store = make_store(text, mode=zip_mode, storage_options=storage_options)
            return _Opened(store, text, _Closer(store), True, driver or "sec2")
        exists = os.path.lexists(text)
        if mode in ("r", "r+") and not exists:
            raise _not_found(text)
        if mode in ("w-", "x") and exists:
            raise _exists_error(text)
        is_zip = text.lower().endswith(".zip")
        if exists and not is_zip and not os.path.isdir(text):
            if mode != "w":
                raise _not_zarr(text)
            os.remove(text)  # mode w truncates whatever file was there, as h5py does
            exists = False
        store = make_store(text, mode=zip_mode)
        return _Opened(store, text, _Closer(store), exists, driver or "sec2")

    def _open(self, opened: _Opened, mode: str, track_order: bool | None,
              zarr_format: Literal[2, 3] | None, userblock_size: int | None = None) -> FileState:
        store, filename = opened.store, opened.filename
        try:
            root = _open_root(store, mode) if opened.existed and mode not in ("x", "w-", "w") else None
            if root is not None and zarr_format is not None and root.zarr_format != zarr_format:
                raise ValueError(
                    f"{filename!r} holds a Zarr V{root.zarr_format} hierarchy, not V{zarr_format} (zarr_format=)"
                )
            if mode in ("r", "r+") and root is None:
                if os.path.isdir(filename):
                    raise _not_zarr(filename)
                raise _not_found(filename)
            if mode in ("w-", "x") and opened.existed and not sync(store.is_empty("")):
                raise _exists_error(filename)
            if mode == "w" and opened.existed and not _holds_zarr(store) and not sync(store.is_empty("")):
                raise OSError(
                    f"refusing to truncate {filename!r}: it holds data but no Zarr hierarchy (remove it first)"
                )
            if root is not None and mode != "w" and userblock_size is not None:
                existing = record_of(root.metadata.attributes).get("userblock_size", 0)
                if existing != userblock_size:
                    raise ValueError(f"User block size must match that of the existing file ({existing})")
            if root is None or mode == "w":
                record: dict[str, Any] = {"track_order": True} if track_order else {}
                if userblock_size:
                    record["userblock_size"] = userblock_size  # only remembered: Zarr has no user block
                attributes = join_attributes({}, record)
                root = sync(AsyncGroup.create(store, "", zarr_format=zarr_format or 3, overwrite=mode == "w",
                                              attributes=attributes))
        except BaseException:
            opened.closer()
            raise
        return FileState(store, root, "r" if mode == "r" else "r+", filename, opened.driver, opened.closer)

    # -- file properties -----------------------------------------------------------------------------------------
    @property
    def filename(self) -> str:
        """The path, URL or store description the file was opened with."""
        return self._state.filename

    @property
    def mode(self) -> str:
        """``"r"`` (read only) or ``"r+"`` (read/write)."""
        return self._state.mode

    @property
    def driver(self) -> str:
        """The HDF5 driver name asked for (``"sec2"`` by default, ``"core"`` for an in-memory file)."""
        return self._state.driver

    @property
    def libver(self) -> tuple[str, str]:
        """The ``libver`` bounds given, as h5py reports them (HDF5 format bounds mean nothing for Zarr)."""
        return self._state.libver

    @property
    def userblock_size(self) -> int:
        """The ``userblock_size`` the file was created with (0 when none; only remembered, no bytes reserved)."""
        return int(self._state.root.record.get("userblock_size", 0))

    @property
    def swmr_mode(self) -> bool:
        """What was set (Zarr needs no SWMR mode: readers see every completed write)."""
        return bool(self._state.swmr_mode)

    @swmr_mode.setter
    def swmr_mode(self, value: bool) -> None:
        self._state.swmr_mode = bool(value)

    @property
    def zarr_format(self) -> int:
        """2 or 3."""
        return self._state.zarr_format

    @property
    def store(self) -> Store:
        """The Zarr store holding the hierarchy."""
        return self._state.store

    @property
    def parent(self) -> Group:
        """The root group (as in h5py)."""
        self._state.check_open()
        return Group(self._state, self._state.root)

    # -- closing -------------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the file: every object from it becomes unusable; a zip archive is written out."""
        self._state.close()

    def flush(self) -> None:
        """Nothing to do: every change is already in the store."""
        self._state.check_open()

    def __enter__(self) -> File:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if not self._state.open:
            return "<Closed HDF5 file>"
        return f'<HDF5 file "{os.path.basename(self.filename)}" (mode {self.mode})>'

"""make_store: turn whatever a user passes as a store into a Store."""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeAlias

from zarrlayered.stores.abc import Store
from zarrlayered.stores.mapping import MappingLike, MappingStore, is_mapping_like
from zarrlayered.stores.memory import MemoryStore
from zarrlayered.stores.registry import get_store_factory

__all__ = ["AccessMode", "StoreLike", "make_store", "parse_mode"]

StoreLike: TypeAlias = Store | str | os.PathLike[str] | dict[str, bytes] | MappingLike | None
AccessMode: TypeAlias = str

_MODES = ("r", "r+", "a", "w", "w-", "x")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*(::|://)")


def parse_mode(mode: object) -> str:
    """Return ``mode`` if it is one of ``r r+ a w w- x``, else raise a ValueError naming it."""
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {', '.join(repr(m) for m in _MODES)}, got {mode!r}")
    assert isinstance(mode, str)
    return mode


def _scheme(url: str) -> str | None:
    match = _URL.match(url)
    if match is None:
        return None
    return url.split(":", 1)[0]


def make_store(
    store_like: StoreLike,
    *,
    mode: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> Store:
    """Return a :class:`Store` for ``store_like``.

    Parameters
    ----------
    store_like
        - ``None``: a new :class:`MemoryStore`;
        - a ``dict``: a MemoryStore over that dict;
        - fsspec's ``FSMap`` (``fsspec.get_mapper(url)``): an FsspecStore over its filesystem and root,
          as zarr-python 3 does;
        - any other mapping of str to bytes (a zarr-python 2 store, a shelf, a dbm database, a zict
          mapping, your own class with ``__getitem__``/``__setitem__``/``__delitem__``/``__iter__``):
          a :class:`~zarrlayered.stores.mapping.MappingStore` over it;
        - a ``str`` or path: a LocalStore, or a ZipStore when it ends in ``.zip``;
        - a URL with a protocol (``memory://``, ``file://``, ``s3://``, ``zip::...``): the store
          registered for the scheme, else an FsspecStore;
        - a Store: returned as it is (made read-only for mode ``r``).
    mode
        ``r`` (read only, nothing is created), ``r+``, ``a``, ``w``, ``w-`` or ``x``.
    storage_options
        Options for fsspec, only with URLs.
    """
    read_only = False
    if mode is not None:
        read_only = parse_mode(mode) == "r"
    if storage_options and not (isinstance(store_like, str) and _scheme(store_like)):
        raise TypeError(f"storage_options are only accepted with a URL, not with {type(store_like).__name__}")

    if isinstance(store_like, Store):
        if read_only and not store_like.read_only:
            return store_like.with_read_only(True)
        return store_like
    if store_like is None:
        return MemoryStore(read_only=read_only)
    if isinstance(store_like, dict):
        return MemoryStore(store_like, read_only=read_only)
    if _is_fsmap(store_like):
        from zarrlayered.stores.fsspec import FsspecStore

        mapper: Any = store_like
        return FsspecStore(mapper.fs, mapper.root, read_only=read_only)
    if is_mapping_like(store_like):
        return MappingStore(store_like, read_only=read_only)
    if isinstance(store_like, str) and (scheme := _scheme(store_like)) is not None:
        factory = get_store_factory(scheme)
        if factory is not None:
            return factory(store_like, mode, storage_options)
        return _fsspec_store(store_like, storage_options, read_only)
    if isinstance(store_like, str | os.PathLike):
        path = Path(store_like)
        if path.suffix.lower() == ".zip":
            from zarrlayered.stores.zip import ZipStore

            return ZipStore(path, mode=_zip_mode(mode))
        from zarrlayered.stores.local import LocalStore

        if read_only and not path.exists():
            raise FileNotFoundError(f"no store at {str(path)!r} (opened with mode 'r')")
        return LocalStore(path, read_only=read_only)
    raise TypeError(
        "store must be a Store, a path, a URL, a mapping of str to bytes or None, "
        f"got {type(store_like).__name__}: {store_like!r}"
    )


def _fsspec_store(url: str, storage_options: Mapping[str, Any] | None, read_only: bool) -> Store:
    """An FsspecStore for ``url``; a protocol whose package is missing is an ImportError naming it."""
    from zarrlayered.stores.fsspec import FsspecStore

    try:
        return FsspecStore.from_url(url, storage_options=storage_options, read_only=read_only)
    except ImportError as exc:
        missing = _missing_package(url)
        if missing is None:
            raise
        protocol, package = missing
        raise ImportError(
            f"opening {url!r} needs the {package!r} package, which implements fsspec's {protocol!r} protocol "
            f"and is not installed; install {package} ({exc})",
            name=package,
        ) from exc


def _missing_package(url: str) -> tuple[str, str] | None:
    """``(protocol, package)`` for the first protocol of a (chained) URL whose package cannot be imported."""
    from fsspec.registry import known_implementations, registry

    for part in url.split("::"):
        protocol = _scheme(part) or part.split("://", 1)[0]
        if protocol in registry or protocol not in known_implementations:
            continue
        package = str(known_implementations[protocol]["class"]).split(".", 1)[0]
        if importlib.util.find_spec(package) is None:
            return protocol, package
    return None


def _is_fsmap(obj: object) -> bool:
    kind = type(obj)
    return kind.__name__ == "FSMap" and kind.__module__ == "fsspec.mapping"


def _zip_mode(mode: str | None) -> str:
    if mode in (None, "a", "r+"):
        return "a"
    if mode == "r":
        return "r"
    return "w" if mode == "w" else "x"

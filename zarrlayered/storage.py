"""``zarrlayered.storage``: the stores under the module name zarr-python 3 uses (``zarr.storage``)."""

from __future__ import annotations

from zarrlayered.stores import (
    FsspecStore,
    LocalStore,
    LoggingStore,
    LRUStoreCache,
    MappingStore,
    MemoryStore,
    Store,
    StoreLike,
    WrapperStore,
    ZipStore,
    make_store,
)

__all__ = [
    "FsspecStore",
    "LRUStoreCache",
    "LocalStore",
    "LoggingStore",
    "MappingStore",
    "MemoryStore",
    "Store",
    "StoreLike",
    "WrapperStore",
    "ZipStore",
    "make_store",
]

"""Stores: where Zarr keys and bytes live. Every store speaks bytes and byte ranges, nothing else."""

from __future__ import annotations

from zarrlayered.stores.abc import (
    ByteRequest,
    OffsetByteRequest,
    RangeByteRequest,
    Store,
    SuffixByteRequest,
    SyncStore,
)
from zarrlayered.stores.cache import LRUStoreCache
from zarrlayered.stores.fsspec import FsspecStore
from zarrlayered.stores.local import LocalStore
from zarrlayered.stores.logging import LoggingStore
from zarrlayered.stores.make import StoreLike, make_store
from zarrlayered.stores.mapping import MappingStore
from zarrlayered.stores.memory import MemoryStore
from zarrlayered.stores.registry import register_store
from zarrlayered.stores.wrapper import WrapperStore
from zarrlayered.stores.zip import ZipStore

__all__ = [
    "ByteRequest",
    "FsspecStore",
    "LRUStoreCache",
    "LocalStore",
    "LoggingStore",
    "MappingStore",
    "MemoryStore",
    "OffsetByteRequest",
    "RangeByteRequest",
    "Store",
    "StoreLike",
    "SuffixByteRequest",
    "SyncStore",
    "WrapperStore",
    "ZipStore",
    "make_store",
    "register_store",
]

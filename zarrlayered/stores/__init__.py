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
from zarrlayered.stores.logging import LoggingStore
from zarrlayered.stores.make import StoreLike, make_store
from zarrlayered.stores.memory import MemoryStore
from zarrlayered.stores.registry import register_store
from zarrlayered.stores.wrapper import WrapperStore

__all__ = [
    "ByteRequest",
    "LoggingStore",
    "MemoryStore",
    "OffsetByteRequest",
    "RangeByteRequest",
    "Store",
    "StoreLike",
    "SuffixByteRequest",
    "SyncStore",
    "WrapperStore",
    "make_store",
    "register_store",
]

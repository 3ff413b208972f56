"""Helpers of the sharding tests: a store that records every request, and the stored layout of shards."""

from __future__ import annotations

import builtins
import json
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from zarrlayered.codecs import ShardingCodec
from zarrlayered.codecs.sharding_index import ShardIndex
from zarrlayered.stores import ByteRequest, LoggingStore, MemoryStore, RangeByteRequest


class RecordingStore(LoggingStore):
    """A LoggingStore (calls and bytes counted) that also keeps every read request: (method, key, range)."""

    def __init__(self, store: Any = None) -> None:
        super().__init__(MemoryStore() if store is None else store)
        self.requests: list[tuple[str, str, ByteRequest | None]] = []
        self._requests_lock = threading.Lock()

    @property
    def backing(self) -> MemoryStore:
        """The wrapped MemoryStore."""
        inner = self.store
        assert isinstance(inner, MemoryStore)
        return inner

    def reset_counts(self) -> None:
        super().reset_counts()
        with self._requests_lock:
            self.requests.clear()

    def _note(self, method: str, key: str, byte_range: ByteRequest | None) -> None:
        with self._requests_lock:
            self.requests.append((method, key, byte_range))

    async def get(self, key: str, byte_range: ByteRequest | None = None) -> bytes | None:
        self._note("get", key, byte_range)
        return await super().get(key, byte_range)

    async def get_partial_values(
        self, key_ranges: Sequence[tuple[str, ByteRequest | None]]
    ) -> builtins.list[bytes | None]:
        for key, byte_range in key_ranges:
            self._note("get_partial_values", key, byte_range)
        return await super().get_partial_values(key_ranges)

    def get_sync(self, key: str, byte_range: ByteRequest | None = None) -> bytes | None:
        self._note("get", key, byte_range)
        return super().get_sync(key, byte_range)

    def data_ranges(self, index_request: ByteRequest) -> list[tuple[str, int, int]]:
        """The (key, start, end) of every read of inner chunk bytes: every ranged read but the index reads."""
        return [
            (key, rng.start, rng.end)
            for _, key, rng in self.requests
            if isinstance(rng, RangeByteRequest) and rng != index_request
        ]

    def index_reads(self, index_request: ByteRequest) -> list[str]:
        """The keys whose index was read."""
        return [key for _, key, rng in self.requests if rng == index_request]

    def whole_reads(self) -> list[str]:
        """The keys read whole (no byte range)."""
        return [key for _, key, rng in self.requests if rng is None]


def sharding_codec(store: MemoryStore, path: str = "") -> tuple[ShardingCodec, tuple[int, ...]]:
    """The sharding codec and the shard shape of the array at ``path``, from its zarr.json."""
    meta = json.loads(store.store_dict[f"{path}/zarr.json" if path else "zarr.json"])
    codec = ShardingCodec.from_dict(meta["codecs"][0])
    return codec, tuple(meta["chunk_grid"]["configuration"]["chunk_shape"])


def stored_index(store: MemoryStore, key: str) -> ShardIndex:
    """The index of the shard stored at ``key``."""
    codec, shard_shape = sharding_codec(store, key.split("/c/", maxsplit=1)[0] if "/c/" in key else "")
    return codec.read_index(store.store_dict[key], shard_shape)


def shard_key(shard: tuple[int, ...], path: str = "") -> str:
    """The key of a shard under the default V3 chunk key encoding."""
    key = "c/" + "/".join(str(c) for c in shard)
    return f"{path}/{key}" if path else key


def needed_inner_chunks(
    shape: tuple[int, ...], inner: tuple[int, ...], selected: np.ndarray[Any, Any]
) -> set[tuple[int, ...]]:
    """The global coordinates of the inner chunks holding the elements whose flat indices are ``selected``."""
    coords = np.unravel_index(np.asarray(selected, dtype=np.int64).ravel(), shape)
    chunk_ids = np.stack([c // n for c, n in zip(coords, inner, strict=True)], axis=1)
    return {tuple(int(x) for x in row) for row in np.unique(chunk_ids, axis=0)}

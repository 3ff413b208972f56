"""Partial I/O for sharded arrays: read and write inner chunks, not whole shards.

A sharded array is planned on its *inner* chunk grid: the indexer yields one projection per inner chunk
the selection touches. Projections are grouped by shard. A read fetches each shard's index with one byte
range request, then only the inner chunks it needs as byte ranges (adjacent ranges coalesced) through
``get_partial_values``, decodes them with the inner codec chain and places them straight into the
output: no shard-sized buffer is ever built. A write of whole shards encodes their inner chunks and
stores each shard once; a partial shard write reads the shard, re-encodes only the inner chunks that
change, carries the others over byte for byte, and rewrites the shard under the shard's lock.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from zarrlayered.codecs.abc import ChunkSpec
from zarrlayered.codecs.chain import CodecChain
from zarrlayered.codecs.sharding import ShardIndex, ShardingCodec
from zarrlayered.core.chunk_grids import RegularChunkGrid
from zarrlayered.core.codec_pipeline import (
    ChunkLayout,
    Projection,
    _acquire_async,
    _stripe,
    encode_chunk,
    merge_chunk,
    place_chunk,
)
from zarrlayered.stores.abc import ByteRequest, RangeByteRequest, Store

#: Projections of one shard, each with its inner chunk's coordinates within the shard.
ShardWork = list[tuple[tuple[int, ...], Projection]]

__all__ = ["ShardedLayout", "read_sharded_async", "read_sharded_sync", "write_sharded_async", "write_sharded_sync"]

#: Two wanted byte ranges closer than this are fetched as one request.
COALESCE_GAP = 1 << 14


@dataclass(frozen=True)
class ShardedLayout:
    """How a sharded array maps inner chunks to shards and byte ranges.

    ``outer`` is the layout of the shards (keys, grid); ``inner`` the layout of the inner chunks (grid,
    codec chain, spec) used to decode and place them.
    """

    outer: ChunkLayout
    inner: ChunkLayout
    codec: ShardingCodec
    shard_shape: tuple[int, ...]
    chunks_per_shard: tuple[int, ...]

    @classmethod
    def from_layout(cls, outer: ChunkLayout) -> ShardedLayout | None:
        """The sharded view of ``outer``, or None when its codecs are not just one sharding codec."""
        chain = outer.chain
        codec = chain.array_bytes
        if chain.array_array or chain.bytes_bytes or not isinstance(codec, ShardingCodec):
            return None
        if not isinstance(outer.grid, RegularChunkGrid):
            return None
        shard_shape = tuple(outer.grid.chunk_shape)
        spec = outer.spec_for_shape(shard_shape)
        inner_chain: CodecChain = codec.inner_chain(spec)
        inner = ChunkLayout(
            path=outer.path,
            shape=outer.shape,
            dtype=outer.dtype,
            fill_value=outer.fill_value,
            empty_value=outer.empty_value,
            order="C",
            grid=RegularChunkGrid(chunk_shape=tuple(codec.chunk_shape)),
            chain=inner_chain,
            encode_chunk_key=outer.encode_chunk_key,
        )
        return cls(outer, inner, codec, shard_shape, tuple(codec.chunks_per_shard(shard_shape)))

    @property
    def grid(self) -> RegularChunkGrid:
        """The inner chunk grid: selections are planned on it."""
        grid = self.inner.grid
        assert isinstance(grid, RegularChunkGrid)
        return grid

    def shard_of(self, inner_coords: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(shard coordinates, coordinates of the inner chunk within its shard)."""
        shard = tuple(c // n for c, n in zip(inner_coords, self.chunks_per_shard, strict=True))
        local = tuple(c % n for c, n in zip(inner_coords, self.chunks_per_shard, strict=True))
        return shard, local

    def group(self, projections: Iterable[Projection]) -> dict[tuple[int, ...], ShardWork]:
        """Projections grouped by shard, each with its inner chunk's local coordinates."""
        groups: dict[tuple[int, ...], ShardWork] = defaultdict(list)
        for proj in projections:
            shard, local = self.shard_of(proj.chunk_coords)
            groups[shard].append((local, proj))
        return groups

    def inner_chunks_in_array(self, shard: tuple[int, ...]) -> int:
        """How many inner chunks of ``shard`` intersect the array."""
        counts = []
        for axis, (s, n, c) in enumerate(zip(shard, self.chunks_per_shard, self.codec.chunk_shape, strict=True)):
            first = s * n
            total = math.ceil(self.outer.shape[axis] / c) if self.outer.shape[axis] else 0
            counts.append(max(0, min(n, total - first)))
        return math.prod(counts)

    @property
    def index_request(self) -> ByteRequest:
        """The byte range of a shard's index."""
        return self.codec.index_byte_request(self.shard_shape)

    def decode_index(self, data: bytes) -> ShardIndex:
        """Parse (and checksum) a shard index."""
        return self.codec.decode_index(data, self.shard_shape)

    @property
    def inner_spec(self) -> ChunkSpec:
        """The spec of one inner chunk."""
        return self.inner.spec_for_shape(tuple(self.codec.chunk_shape))


def coalesce(ranges: Sequence[tuple[int, int]], gap: int = COALESCE_GAP) -> list[tuple[int, int]]:
    """Merge sorted ``(start, end)`` byte ranges that are closer than ``gap`` bytes."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start - merged[-1][1] <= gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _plan_fetch(
    index: ShardIndex, wanted: Sequence[tuple[tuple[int, ...], Projection]]
) -> tuple[list[tuple[int, int]], list[tuple[Projection, tuple[int, int] | None]]]:
    located = [(proj, index.get(local)) for local, proj in wanted]
    spans = coalesce([(off, off + length) for _, loc in located if loc is not None for off, length in [loc]])
    return spans, located


def _slice_from(spans: Sequence[tuple[int, int]], blobs: Sequence[bytes | None], where: tuple[int, int]) -> bytes:
    offset, length = where
    for (start, end), blob in zip(spans, blobs, strict=True):
        if start <= offset and offset + length <= end:
            if blob is None:
                raise FileNotFoundError("a shard disappeared while it was being read")
            return blob[offset - start : offset - start + length]
    raise AssertionError("a located inner chunk falls outside every fetched span")  # pragma: no cover


# -- reads ---------------------------------------------------------------------------------------------


def read_sharded_sync(
    store: Store, layout: ShardedLayout, projections: Sequence[Projection], out: np.ndarray[Any, Any]
) -> None:
    """Read the inner chunks of ``projections`` into ``out`` through the store's synchronous path."""
    for shard, wanted in layout.group(projections).items():
        key = layout.outer.key_for(shard)
        raw_index = store.get_sync(key, layout.index_request)
        if raw_index is None:
            for _, proj in wanted:
                place_chunk(out, proj, None, layout.inner)
            continue
        spans, located = _plan_fetch(layout.decode_index(raw_index), wanted)
        blobs = [store.get_sync(key, RangeByteRequest(start, end)) for start, end in spans]
        for proj, where in located:
            place_chunk(out, proj, None if where is None else _slice_from(spans, blobs, where), layout.inner)


async def read_sharded_async(
    store: Store, layout: ShardedLayout, projections: Sequence[Projection], out: np.ndarray[Any, Any]
) -> None:
    """Read the inner chunks of ``projections`` into ``out``, every shard concurrently."""

    async def one_shard(shard: tuple[int, ...], wanted: ShardWork) -> None:
        key = layout.outer.key_for(shard)
        raw_index = await store.get(key, layout.index_request)
        if raw_index is None:
            for _, proj in wanted:
                place_chunk(out, proj, None, layout.inner)
            return
        spans, located = _plan_fetch(layout.decode_index(raw_index), wanted)
        blobs = await store.get_partial_values([(key, RangeByteRequest(s, e)) for s, e in spans])
        for proj, where in located:
            place_chunk(out, proj, None if where is None else _slice_from(spans, blobs, where), layout.inner)

    await asyncio.gather(*(one_shard(shard, wanted) for shard, wanted in layout.group(projections).items()))


# -- writes --------------------------------------------------------------------------------------------


def _new_shard(
    layout: ShardedLayout,
    shard: tuple[int, ...],
    wanted: ShardWork,
    value: Any,
    existing: bytes | None,
    write_empty: bool,
) -> bytes | None:
    """The new bytes of one shard (None: nothing left to store)."""
    chunks: dict[tuple[int, ...], Any] = (
        {} if existing is None else dict(layout.codec.shard_chunks(existing, layout.shard_shape))
    )
    for local, proj in wanted:
        old = chunks.get(local)
        merged = merge_chunk(proj, value, old, layout.inner)
        encoded = encode_chunk(merged, proj, layout.inner, write_empty)
        if encoded is None:
            chunks.pop(local, None)
        else:
            chunks[local] = encoded
    return layout.codec.assemble_shard(chunks, layout.shard_shape)


def _whole(layout: ShardedLayout, shard: tuple[int, ...], wanted: ShardWork) -> bool:
    return len(wanted) == layout.inner_chunks_in_array(shard) and all(p.is_complete_chunk for _, p in wanted)


def write_sharded_sync(
    store: Store, layout: ShardedLayout, projections: Iterable[Projection], value: Any, write_empty: bool
) -> None:
    """Write ``value`` into the inner chunks of ``projections`` through the synchronous path."""
    for shard, wanted in layout.group(projections).items():
        key = layout.outer.key_for(shard)
        if _whole(layout, shard, wanted):
            _put_sync(store, key, _new_shard(layout, shard, wanted, value, None, write_empty))
            continue
        with _stripe(store, key):
            existing = store.get_sync(key)
            _put_sync(store, key, _new_shard(layout, shard, wanted, value, existing, write_empty), existing)


def _put_sync(store: Store, key: str, data: bytes | None, existing: bytes | None = b"") -> None:
    if data is not None:
        store.set_sync(key, data)
    elif existing is not None:
        store.delete_sync(key)


async def write_sharded_async(
    store: Store, layout: ShardedLayout, projections: Iterable[Projection], value: Any, write_empty: bool
) -> None:
    """Write ``value`` into the inner chunks of ``projections``, every shard concurrently."""
    loop = asyncio.get_running_loop()
    from zarrlayered.core.sync import executor

    async def one_shard(shard: tuple[int, ...], wanted: ShardWork) -> None:
        key = layout.outer.key_for(shard)
        if _whole(layout, shard, wanted):
            data = await loop.run_in_executor(executor(), _new_shard, layout, shard, wanted, value, None, write_empty)
            await _put_async(store, key, data)
            return
        lock = _stripe(store, key)
        await _acquire_async(lock)
        try:
            existing = await store.get(key)
            data = await loop.run_in_executor(
                executor(), _new_shard, layout, shard, wanted, value, existing, write_empty
            )
            await _put_async(store, key, data, existing)
        finally:
            lock.release()

    await asyncio.gather(*(one_shard(shard, wanted) for shard, wanted in layout.group(projections).items()))


async def _put_async(store: Store, key: str, data: bytes | None, existing: bytes | None = b"") -> None:
    if data is not None:
        await store.set(key, data)
    elif existing is not None:
        await store.delete(key)

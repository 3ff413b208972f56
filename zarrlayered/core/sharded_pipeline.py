"""Partial I/O for sharded arrays: read and write inner chunks, not whole shards.

A sharded array is planned on its *inner* chunk grid: the indexer yields one projection per inner chunk
the selection touches, whatever the selection's kind (basic, orthogonal, coordinate, mask, block), so
``a.oindex[[0]]`` costs what ``a[0:1]`` costs. Projections are grouped by shard.

Reads
    For each shard: one byte-range request for its index, then one request per run of wanted inner
    chunks (byte ranges closer than :data:`COALESCE_GAP` are merged), all through
    ``get_partial_values`` at once (the synchronous path: ``get_sync`` with a byte range per run). The
    inner chunks are decoded from views of the fetched runs straight into the output: no shard-sized
    buffer is built and nothing is copied but the decoded values. Shards are read concurrently, but the
    fetched, not yet decoded bytes in flight are capped (one shard, or a quarter of the result up to
    :data:`READ_BUDGET` when that is more), so a read peaks at about the result plus one shard.
Writes
    A shard whose inner chunks inside the array are all fully written is encoded and stored once,
    without reading it. A partial shard write reads the shard, re-encodes only the inner chunks that
    change, carries the others over byte for byte and rewrites the shard.

Concurrency
    Every shard write (whole or partial) holds the lock of its key in ``codec_pipeline``'s striped lock
    table, so partial writes to one shard from many threads (or tasks) of one process lose nothing. The
    locks are per process: processes writing parts of the same shard need a lock shared between them
    (a ``ProcessSynchronizer``, which comes with the MutableMapping front end), or must write whole
    shards only, or disjoint shards.
"""

from __future__ import annotations

import asyncio
import functools
import math
import threading
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np

from zarrlayered.codecs.abc import BytesLike, ChunkSpec
from zarrlayered.codecs.chain import CodecChain
from zarrlayered.codecs.sharding import ShardIndex, ShardingCodec
from zarrlayered.codecs.sharding_index import MAX_UINT64
from zarrlayered.core.chunk_grids import RegularChunkGrid
from zarrlayered.core.codec_pipeline import (
    POOL_MIN_CHUNK_BYTES,
    ChunkLayout,
    Projection,
    _acquire_async,
    _stripe,
    _stripe_locks,
    encode_chunk,
    for_each,
    merge_chunk,
    place_chunk,
)
from zarrlayered.core.config import concurrency
from zarrlayered.core.sync import executor
from zarrlayered.errors import CorruptChunkError
from zarrlayered.stores.abc import ByteRequest, RangeByteRequest, Store

#: Projections of one shard, each with its inner chunk's coordinates within the shard.
ShardWork = list[tuple[tuple[int, ...], Projection]]
#: A projection and the encoded bytes of its inner chunk (None: not stored, reads as the fill value).
Piece = tuple[Projection, memoryview | None]

__all__ = [
    "COALESCE_GAP",
    "READ_BUDGET",
    "ShardedLayout",
    "coalesce",
    "read_sharded_async",
    "read_sharded_sync",
    "write_sharded_async",
    "write_sharded_sync",
]

#: Two wanted byte ranges closer than this are fetched as one request.
COALESCE_GAP = 1 << 14
#: An async read keeps at most a quarter of its result's size in fetched, undecoded bytes, up to this many
#: (and at least one shard's worth).
READ_BUDGET = 1 << 25


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
            encode_chunk_key=functools.partial(_inner_chunk_name, outer, tuple(codec.chunks_per_shard(shard_shape))),
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

    def group(self, projections: Sequence[Projection]) -> dict[tuple[int, ...], ShardWork]:
        """Projections grouped by shard, each with its inner chunk's local coordinates (computed with numpy)."""
        ndim = len(self.chunks_per_shard)
        coords = np.array([p.chunk_coords for p in projections], dtype=np.int64).reshape(len(projections), ndim)
        shards, local = np.divmod(coords, np.array(self.chunks_per_shard, dtype=np.int64))
        groups: dict[tuple[int, ...], ShardWork] = defaultdict(list)
        places = zip(map(tuple, shards.tolist()), map(tuple, local.tolist()), projections, strict=True)
        for shard, where, proj in places:
            groups[shard].append((where, proj))
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

    @property
    def inner_nbytes(self) -> int:
        """The decoded size of one inner chunk."""
        return math.prod(self.codec.chunk_shape) * self.inner.dtype.itemsize

    @property
    def shard_nbytes(self) -> int:
        """The decoded size of one shard."""
        return math.prod(self.shard_shape) * self.inner.dtype.itemsize

    def decode_in_pool(self, nchunks: int) -> bool:
        """True when decoding (or encoding) ``nchunks`` inner chunks is worth the shared worker pool."""
        return nchunks > 1 and self.inner.decode_is_heavy and self.inner_nbytes >= POOL_MIN_CHUNK_BYTES


def _inner_chunk_name(outer: ChunkLayout, chunks_per_shard: tuple[int, ...], coords: tuple[int, ...]) -> str:
    """How errors name an inner chunk (it has no key of its own): its shard's key and its place in the shard."""
    shard = tuple(c // n for c, n in zip(coords, chunks_per_shard, strict=True))
    local = tuple(c % n for c, n in zip(coords, chunks_per_shard, strict=True))
    return f"{outer.encode_chunk_key(shard)} inner chunk {local}"


def coalesce(ranges: Sequence[tuple[int, int]], gap: int = COALESCE_GAP) -> list[tuple[int, int]]:
    """Merge sorted ``(start, end)`` byte ranges that are closer than ``gap`` bytes."""
    pairs = np.array(ranges, dtype=np.int64).reshape(len(ranges), 2)
    starts, ends = _coalesce(pairs[:, 0], pairs[:, 1], gap)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _coalesce(
    starts: np.ndarray[Any, Any], ends: np.ndarray[Any, Any], gap: int
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """:func:`coalesce` of ranges given as arrays of starts and ends: the starts and ends of the merged runs."""
    if not len(starts):
        return starts, ends
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    reach = np.maximum.accumulate(ends)  # the end of the run so far
    first = np.concatenate(([0], np.flatnonzero(starts[1:] - reach[:-1] > gap) + 1))
    return starts[first], np.maximum.reduceat(ends, first)


@dataclass(frozen=True)
class _Fetch:
    """What to fetch of one shard: the coalesced byte runs, and where each wanted inner chunk is."""

    key: str
    spans: list[tuple[int, int]]
    projections: list[Projection]
    #: Per wanted inner chunk: the run that holds it (-1: not stored), its offset in that run and its length.
    run: list[int]
    begin: list[int]
    length: list[int]

    @property
    def nbytes(self) -> int:
        return sum(end - start for start, end in self.spans)

    def requests(self) -> list[tuple[str, ByteRequest | None]]:
        return [(self.key, RangeByteRequest(start, end)) for start, end in self.spans]

    def pieces(self, blobs: Sequence[bytes | None]) -> list[Piece]:
        """Each wanted inner chunk as a view of the fetched run that holds it (no copies)."""
        views: list[memoryview] = []
        for (start, end), blob in zip(self.spans, blobs, strict=True):
            if blob is None:
                raise FileNotFoundError(f"shard {self.key!r} disappeared while it was being read")
            if len(blob) != end - start:
                raise CorruptChunkError(
                    f"sharding_indexed: shard {self.key!r} is shorter than its index says: bytes {start}-{end} "
                    f"were asked for, {len(blob)} came back"
                )
            views.append(memoryview(blob))
        return [
            (proj, None if run < 0 else views[run][begin : begin + length])
            for proj, run, begin, length in zip(self.projections, self.run, self.begin, self.length, strict=True)
        ]


def _plan_fetch(layout: ShardedLayout, key: str, raw_index: bytes, wanted: ShardWork) -> _Fetch:
    try:
        index = layout.decode_index(raw_index)
    except CorruptChunkError as exc:  # name the shard
        raise exc.at_key(key) from exc.__cause__
    local = np.array([where for where, _ in wanted], dtype=np.intp).reshape(len(wanted), -1)
    entries = index.offsets_and_lengths[tuple(local.T)]
    stored = ~((entries[:, 0] == MAX_UINT64) & (entries[:, 1] == MAX_UINT64))
    # decode_index checked that offset + length fits in 64 bits; int64 holds any real shard's offsets
    offsets = np.where(stored, entries[:, 0], 0).astype(np.int64)
    lengths = np.where(stored, entries[:, 1], 0).astype(np.int64)
    starts, ends = _coalesce(offsets[stored], offsets[stored] + lengths[stored], COALESCE_GAP)
    run = np.searchsorted(starts, offsets, side="right") - 1
    begin = offsets - starts[np.maximum(run, 0)] if len(starts) else offsets
    return _Fetch(
        key,
        list(zip(starts.tolist(), ends.tolist(), strict=True)),
        [proj for _, proj in wanted],
        np.where(stored, run, -1).tolist(),
        begin.tolist(),
        lengths.tolist(),
    )


def _missing(wanted: ShardWork) -> list[Piece]:
    return [(proj, None) for _, proj in wanted]


# -- reads ---------------------------------------------------------------------------------------------


def _fetch_sync(store: Store, layout: ShardedLayout, shard: tuple[int, ...], wanted: ShardWork) -> list[Piece]:
    key = layout.outer.key_for(shard)
    raw_index = store.get_sync(key, layout.index_request)
    if raw_index is None:
        return _missing(wanted)
    plan = _plan_fetch(layout, key, raw_index, wanted)
    return plan.pieces([store.get_sync(k, rng) for k, rng in plan.requests()])


def _place_piece(out: np.ndarray[Any, Any], pieces: list[Piece | None], inner: ChunkLayout, i: int) -> None:
    """Decode ``pieces[i]`` into ``out`` and drop it from the list.

    Pool jobs take the list and an index rather than the piece itself: a worker thread keeps its last
    job's arguments a little while after the job is done, and a piece is a view that keeps a whole
    fetched run (up to a shard) alive.
    """
    piece = pieces[i]
    pieces[i] = None
    assert piece is not None
    place_chunk(out, piece[0], piece[1], inner)


def _read_shard_sync(
    store: Store,
    layout: ShardedLayout,
    shard: tuple[int, ...],
    wanted: ShardWork,
    out: np.ndarray[Any, Any],
    parallel: bool,
) -> None:
    pieces: list[Piece | None] = list(_fetch_sync(store, layout, shard, wanted))
    inner = layout.inner
    for_each(functools.partial(_place_piece, out, pieces, inner), range(len(pieces)), parallel)


def read_sharded_sync(
    store: Store, layout: ShardedLayout, projections: Sequence[Projection], out: np.ndarray[Any, Any]
) -> None:
    """Read the inner chunks of ``projections`` into ``out`` through the store's synchronous path.

    Shards are read one after the other (the fetched bytes of one are released before the next is
    fetched); the inner chunks of a shard are decoded by several threads at once (:func:`for_each`) when
    their codecs are costly and they are big enough to be worth it.
    """
    parallel = layout.decode_in_pool(len(projections))
    for shard, wanted in layout.group(projections).items():
        _read_shard_sync(store, layout, shard, wanted, out, parallel)


class _ByteBudget:
    """An async semaphore counted in bytes: at most ``limit`` bytes taken at once (a bigger ask waits alone)."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.used = 0
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def take(self, nbytes: int) -> AsyncIterator[None]:
        nbytes = min(nbytes, self.limit)
        async with self._changed:
            await self._changed.wait_for(lambda: self.used + nbytes <= self.limit)
            self.used += nbytes
        try:
            yield
        finally:
            async with self._changed:
                self.used -= nbytes
                self._changed.notify_all()


async def _bounded(jobs: Iterable[Any], limit: int) -> None:
    """Await the coroutines of ``jobs`` with at most ``limit`` running at once; the first error propagates."""
    pending: set[asyncio.Task[Any]] = set()
    try:
        for job in jobs:
            if len(pending) >= limit:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
            pending.add(asyncio.ensure_future(job))
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


async def read_sharded_async(
    store: Store, layout: ShardedLayout, projections: Sequence[Projection], out: np.ndarray[Any, Any]
) -> None:
    """Read the inner chunks of ``projections`` into ``out``, shards concurrently.

    Per shard: the index with one byte-range request, then every wanted run of inner chunks in one
    ``get_partial_values`` call. At most ``async.concurrency`` shards are worked on at once, and the
    fetched bytes not yet decoded are capped (see the module docstring). Costly decodes run in the
    shared worker pool.
    """
    loop = asyncio.get_running_loop()
    inner = layout.inner
    budget = _ByteBudget(max(layout.shard_nbytes, min(out.nbytes // 4, READ_BUDGET)))

    async def one_shard(shard: tuple[int, ...], wanted: ShardWork) -> None:
        key = layout.outer.key_for(shard)
        raw_index = await store.get(key, layout.index_request)
        if raw_index is None:
            for proj, _ in _missing(wanted):
                place_chunk(out, proj, None, inner)
            return
        plan = _plan_fetch(layout, key, raw_index, wanted)
        async with budget.take(plan.nbytes):
            blobs = await store.get_partial_values(plan.requests()) if plan.spans else []
            pieces: list[Piece | None] = list(plan.pieces(blobs))
            del blobs  # the pieces hold the fetched runs; decoding them all releases the runs
            if layout.decode_in_pool(len(pieces)):
                pool = executor()
                await asyncio.gather(
                    *(loop.run_in_executor(pool, _place_piece, out, pieces, inner, i) for i in range(len(pieces)))
                )
            else:
                for i in range(len(pieces)):
                    _place_piece(out, pieces, inner, i)

    groups = layout.group(projections)
    await _bounded((one_shard(shard, wanted) for shard, wanted in groups.items()), concurrency())


# -- writes --------------------------------------------------------------------------------------------


def _encode_inner(
    layout: ShardedLayout, local: tuple[int, ...], proj: Projection, value: Any, old: Any, write_empty: bool
) -> tuple[tuple[int, ...], BytesLike | None]:
    spec = layout.inner.spec_for(proj.chunk_coords)
    merged = merge_chunk(proj, value, old, layout.inner, spec)
    return local, encode_chunk(merged, spec, layout.inner, write_empty)


def _new_shard(
    layout: ShardedLayout, wanted: ShardWork, value: Any, existing: bytes | None, write_empty: bool, pooled: bool
) -> bytes | None:
    """The new bytes of one shard (None: nothing left to store).

    The inner chunks of ``wanted`` are merged with their old content and re-encoded (in the worker
    pool when ``pooled`` and worth it); every other stored inner chunk is carried over as it is.
    """
    try:
        chunks: dict[tuple[int, ...], Any] = (
            {} if existing is None else dict(layout.codec.shard_chunks(existing, layout.shard_shape))
        )
    except CorruptChunkError as exc:  # name the shard
        raise exc.at_key(layout.outer.key_for(layout.shard_of(wanted[0][1].chunk_coords)[0])) from exc.__cause__
    jobs = [(local, proj, chunks.get(local)) for local, proj in wanted]
    encoded: list[tuple[tuple[int, ...], BytesLike | None]] = []

    def one(job: tuple[tuple[int, ...], Projection, Any]) -> None:
        encoded.append(_encode_inner(layout, job[0], job[1], value, job[2], write_empty))

    for_each(one, jobs, pooled and layout.decode_in_pool(len(jobs)))
    for local, data in encoded:
        if data is None:
            chunks.pop(local, None)
        else:
            chunks[local] = data
    return layout.codec.assemble_shard(chunks, layout.shard_shape)


_loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)
_loop_locks_guard = threading.Lock()
_STRIPE_NUMBER = {id(lock): i for i, lock in enumerate(_stripe_locks)}


@asynccontextmanager
async def _shard_lock(store: Store, key: str) -> AsyncIterator[None]:
    """Hold the process-wide lock of shard ``key`` from async code.

    Tasks of one event loop first queue on an asyncio lock of the same stripe (a prompt, fair hand-over);
    only the task at its head polls the thread lock, which it shares with other threads and loops. A
    synchronizer's own lock (a synchronized store) is polled directly.
    """
    lock = _stripe(store, key)
    stripe = _STRIPE_NUMBER.get(id(lock))
    local: asyncio.Lock | None = None
    if stripe is not None:
        loop = asyncio.get_running_loop()
        with _loop_locks_guard:
            local = _loop_locks.setdefault(loop, {}).setdefault(stripe, asyncio.Lock())
    async with local if local is not None else nullcontext():
        await _acquire_async(lock)
        try:
            yield
        finally:
            lock.release()


def _whole(layout: ShardedLayout, shard: tuple[int, ...], wanted: ShardWork) -> bool:
    """True when ``wanted`` writes every element of the shard that lies inside the array."""
    return len(wanted) == layout.inner_chunks_in_array(shard) and all(p.is_complete_chunk for _, p in wanted)


def write_sharded_sync(
    store: Store, layout: ShardedLayout, projections: Sequence[Projection], value: Any, write_empty: bool
) -> None:
    """Write ``value`` into the inner chunks of ``projections`` through the synchronous path."""
    for shard, wanted in layout.group(projections).items():
        key = layout.outer.key_for(shard)
        if _whole(layout, shard, wanted):
            data = _new_shard(layout, wanted, value, None, write_empty, pooled=True)
            with _stripe(store, key):
                _put_sync(store, key, data)
            continue
        with _stripe(store, key):
            existing = store.get_sync(key)
            _put_sync(store, key, _new_shard(layout, wanted, value, existing, write_empty, pooled=True), existing)


def _put_sync(store: Store, key: str, data: bytes | None, existing: bytes | None = b"") -> None:
    if data is not None:
        store.set_sync(key, data)
    elif existing is not None:
        store.delete_sync(key)


async def write_sharded_async(
    store: Store, layout: ShardedLayout, projections: Sequence[Projection], value: Any, write_empty: bool
) -> None:
    """Write ``value`` into the inner chunks of ``projections``, shards concurrently (each in the worker pool)."""
    loop = asyncio.get_running_loop()

    async def one_shard(shard: tuple[int, ...], wanted: ShardWork) -> None:
        key = layout.outer.key_for(shard)
        whole = _whole(layout, shard, wanted)
        data: bytes | None = None
        if whole:
            data = await loop.run_in_executor(executor(), _new_shard, layout, wanted, value, None, write_empty, False)
        async with _shard_lock(store, key):
            if whole:
                await _put_async(store, key, data)
                return
            existing = await store.get(key)
            data = await loop.run_in_executor(
                executor(), _new_shard, layout, wanted, value, existing, write_empty, False
            )
            await _put_async(store, key, data, existing)

    groups = layout.group(projections)
    await _bounded((one_shard(shard, wanted) for shard, wanted in groups.items()), concurrency())


async def _put_async(store: Store, key: str, data: bytes | None, existing: bytes | None = b"") -> None:
    if data is not None:
        await store.set(key, data)
    elif existing is not None:
        await store.delete(key)

"""The codec pipeline: move chunks between a store and an in-memory selection.

A read turns each chunk projection of an indexer into one store read, one decode and one copy into
the output array; a write into one encode and one store write (after a read and a merge when the
chunk is only partly written). Two drivers share that per-chunk work:

- :func:`read_sync` / :func:`write_sync` for stores with a synchronous path (memory, local files,
  mappings) called from synchronous code: plain function calls, no event loop and no coroutine. Big
  chunks (:data:`POOL_MIN_CHUNK_BYTES` and up) are worked on by the calling thread and workers of the
  shared pool at once, one chunk each at a time (:func:`for_each`); tiny chunks stay inline, where a
  hand-off would cost more than the work;
- :func:`read_async` / :func:`write_async` for everything else: all chunk requests in flight at once
  (bounded by the store layer's global concurrency limit), CPU-heavy codecs off the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import math
import os
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

import numpy as np

from zarrlayered.codecs.abc import BytesLike, ChunkSpec
from zarrlayered.codecs.bytes import BytesCodec
from zarrlayered.codecs.chain import CodecChain
from zarrlayered.core.chunk_grids import ChunkGrid, RegularChunkGrid
from zarrlayered.core.sync import executor
from zarrlayered.errors import CorruptChunkError
from zarrlayered.stores.abc import Store
from zarrlayered.stores.wrapper import WrapperStore

__all__ = [
    "ChunkLayout",
    "ChunkLock",
    "Projection",
    "SynchronizedStore",
    "for_each",
    "read_async",
    "read_sync",
    "write_async",
    "write_sync",
]

logger = logging.getLogger("zarrlayered.array")

#: Chunks smaller than this are read, decoded and encoded inline: a thread-pool hand-off costs more.
POOL_MIN_CHUNK_BYTES = 1 << 16
#: How many chunk operations a driver keeps in flight per batch (bounds memory for huge selections).
BATCH = 1024
#: How many chunk keys a layout remembers.
KEY_CACHE_SIZE = 1 << 16


class Projection(Protocol):
    """What the pipeline reads of an indexer's chunk projection."""

    @property
    def chunk_coords(self) -> tuple[int, ...]: ...

    @property
    def chunk_selection(self) -> Any: ...

    @property
    def out_selection(self) -> Any: ...

    @property
    def is_complete_chunk(self) -> bool: ...


class _Metadata(Protocol):
    @property
    def shape(self) -> tuple[int, ...]: ...

    @property
    def dtype(self) -> np.dtype[Any]: ...

    @property
    def fill_value(self) -> Any: ...

    @property
    def chunk_fill_value(self) -> Any: ...

    @property
    def order(self) -> Any: ...

    @property
    def chunk_grid(self) -> ChunkGrid: ...

    def codec_chain(self) -> CodecChain: ...

    def encode_chunk_key(self, coords: tuple[int, ...]) -> str: ...


@dataclass(frozen=True)
class ChunkLayout:
    """Everything the pipeline needs to find, decode and encode an array's chunks.

    Built once per array metadata (see :meth:`from_metadata`); cheap to use per chunk.
    """

    path: str
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    #: What never-written elements read as.
    fill_value: Any
    #: The declared fill value: chunks equal to it are not stored; None (V2) means every chunk is stored.
    empty_value: Any
    order: Any
    grid: ChunkGrid
    chain: CodecChain
    encode_chunk_key: Callable[[tuple[int, ...]], str]
    _specs: dict[tuple[int, ...], ChunkSpec] = field(default_factory=dict, compare=False, repr=False)
    _keys: dict[tuple[int, ...], str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_metadata(cls, metadata: _Metadata, path: str) -> ChunkLayout:
        """The layout of the array at ``path`` described by ``metadata``."""
        grid = metadata.chunk_grid
        order = metadata.order if metadata.order in ("C", "F") else "C"
        return cls(
            path=path,
            shape=tuple(metadata.shape),
            dtype=metadata.dtype,
            fill_value=metadata.chunk_fill_value,
            empty_value=metadata.fill_value,
            order=order,
            grid=grid,
            chain=metadata.codec_chain(),
            encode_chunk_key=metadata.encode_chunk_key,
        )

    def spec_for_shape(self, chunk_shape: tuple[int, ...]) -> ChunkSpec:
        """The codec spec of a stored chunk of ``chunk_shape``."""
        spec = self._specs.get(chunk_shape)
        if spec is None:
            spec = ChunkSpec(chunk_shape, self.dtype, self.fill_value, self.order)
            self._specs[chunk_shape] = spec
        return spec

    def spec_for(self, coords: tuple[int, ...]) -> ChunkSpec:
        """The codec spec of the chunk at ``coords``."""
        spec = self.uniform_spec
        if spec is not None:
            return spec
        return self.spec_for_shape(tuple(self.grid.chunk_shape_at(coords, self.shape)))

    @functools.cached_property
    def uniform_spec(self) -> ChunkSpec | None:
        """The spec of every chunk when the grid stores them all at one shape (a regular grid), else None."""
        if isinstance(self.grid, RegularChunkGrid):
            return self.spec_for_shape(tuple(self.grid.chunk_shape))
        return None

    def key_for(self, coords: tuple[int, ...]) -> str:
        """The store key of the chunk at ``coords`` (remembered: arrays are read and written again and again)."""
        key = self._keys.get(coords)
        if key is None:
            key = self.encode_chunk_key(coords)
            key = f"{self.path}/{key}" if self.path else key
            if len(self._keys) >= KEY_CACHE_SIZE:
                self._keys.clear()
            self._keys[coords] = key
        return key

    @functools.cached_property
    def raw(self) -> bool:
        """True when a stored chunk is just its elements' bytes, in C order and this dtype's byte order (a
        lone ``bytes`` codec): such a chunk is encoded by a copy and can be read straight into the output."""
        codec = self.chain.array_bytes
        return (
            self.chain.is_plain_bytes
            and self.order == "C"
            and isinstance(codec, BytesCodec)
            and codec.stored_dtype(self.dtype) == self.dtype
            and not self.dtype.hasobject
        )

    @functools.cached_property
    def decode_is_heavy(self) -> bool:
        """True when decoding a chunk costs enough to be worth a worker thread."""
        return bool(self.chain.bytes_bytes) or not self.chain.is_plain_bytes

    def decode(self, data: BytesLike, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """Decode one stored chunk (possibly as a read-only view of ``data``)."""
        if self.raw and len(data) == spec.size * self.dtype.itemsize:
            return np.frombuffer(data, dtype=self.dtype).reshape(spec.shape)
        return self.chain.decode(data, spec)

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> BytesLike:
        """Encode one whole chunk (possibly as a view of ``chunk``)."""
        if not self.raw:
            return self.chain.encode(chunk, spec)
        if chunk.flags.c_contiguous:
            return chunk.reshape(-1).view(np.uint8).data
        return chunk.tobytes()

    @functools.cached_property
    def _fill_bits(self) -> tuple[np.dtype[Any], Any] | None:
        """The dtype of the same item size that fill values are compared in, and the fill value's bits."""
        dtype = self.dtype
        if self.empty_value is None or dtype.kind not in "biufcmM" or dtype.fields is not None:
            return None
        size = dtype.itemsize
        same_size = np.dtype(f"u{size}") if size in (1, 2, 4, 8) else np.dtype(f"V{size}")
        return same_size, np.asarray(self.empty_value, dtype=dtype).reshape(1).view(same_size)[0]

    def fill_chunk(self, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """A new chunk of ``spec`` filled with the fill value."""
        return np.full(spec.shape, self.fill_value, dtype=self.dtype, order=self.order)

    def is_all_fill(self, chunk: np.ndarray[Any, Any]) -> bool:
        """True when every element of ``chunk`` equals the declared fill value.

        Numbers and times compare by bit pattern, as zarr-python 3 does: -0.0 is not a fill of 0.0 (storing
        nothing would read back +0.0), a NaN fill matches the same NaN, a NaT fill matches NaT. The first
        element is looked at first: a chunk of data rarely starts with the fill value.
        """
        fill = self.empty_value
        if fill is None:
            return False
        dtype = self.dtype
        if self._fill_bits is not None:
            same_size, fill_bits = self._fill_bits
            bits = chunk.view(same_size)  # a view of the same item size needs no copy, whatever the strides
            if bits.size and bits[(0,) * bits.ndim] != fill_bits:
                return False
            return bool(np.all(bits == fill_bits))
        if dtype.kind == "V" and dtype.fields is None:
            return bool(np.all(chunk == np.asarray(fill, dtype=dtype)))
        return bool(np.all(chunk == fill))


# -- per-chunk work, shared by both drivers -------------------------------------------------------


def _chunk_nbytes(spec: ChunkSpec) -> int:
    return math.prod(spec.shape) * spec.dtype.itemsize


def place_chunk(
    out: np.ndarray[Any, Any], proj: Projection, data: BytesLike | None, layout: ChunkLayout
) -> None:
    """Decode one stored chunk (or the fill value when it is missing) into its place in ``out``."""
    if data is None:
        out[proj.out_selection] = layout.fill_value
        return
    try:
        chunk = layout.decode(data, layout.spec_for(proj.chunk_coords))
    except CorruptChunkError as exc:  # name the chunk
        raise exc.at_key(layout.key_for(proj.chunk_coords)) from exc.__cause__
    out[proj.out_selection] = chunk[proj.chunk_selection]


def merge_chunk(
    proj: Projection, value: Any, existing: BytesLike | None, layout: ChunkLayout, spec: ChunkSpec
) -> np.ndarray[Any, Any]:
    """The new content of one chunk (of ``spec``): ``value``'s part merged into the existing chunk (or a
    fresh one)."""
    part = value[proj.out_selection] if isinstance(value, np.ndarray) and value.ndim else value
    if proj.is_complete_chunk and isinstance(part, np.ndarray) and part.shape == spec.shape:
        sel = proj.chunk_selection
        if all(isinstance(s, slice) and (s.step or 1) == 1 for s in sel):
            return part.astype(layout.dtype, copy=False)
    if existing is None or proj.is_complete_chunk:
        chunk = layout.fill_chunk(spec)
    else:
        try:
            chunk = np.array(layout.decode(existing, spec), order=layout.order, copy=True)
        except CorruptChunkError as exc:  # name the chunk
            raise exc.at_key(layout.key_for(proj.chunk_coords)) from exc.__cause__
    chunk[proj.chunk_selection] = part
    return chunk


def encode_chunk(
    chunk: np.ndarray[Any, Any], spec: ChunkSpec, layout: ChunkLayout, write_empty: bool
) -> BytesLike | None:
    """Encode a chunk for storage, or None when it holds only the fill value and should not be stored.

    The result may be a view (of ``chunk``, or of the value being written): it is stored at once, and a
    store that keeps values (rather than writing them out) copies it.
    """
    if not write_empty and layout.is_all_fill(chunk):
        return None
    return layout.encode(chunk, spec)


# -- per-chunk locks for read-merge-write ------------------------------------------------------------

_STRIPES = 512
_stripe_locks = [threading.Lock() for _ in range(_STRIPES)]


class ChunkLock(Protocol):
    """A chunk's lock: a threading.Lock, or a synchronizer's lock (async code polls ``acquire(False)``)."""

    def acquire(self, blocking: bool = ...) -> bool: ...

    def release(self) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None, /
    ) -> Any: ...


class SynchronizedStore(WrapperStore):
    """``store`` whose chunk locks come from ``synchronizer[key]`` (zarr-python 2's synchronizers) instead of
    the in-process stripes, so writers in other processes take turns too; whole-chunk writes then hold them."""

    def __init__(self, store: Store, synchronizer: Any) -> None:
        super().__init__(store)
        self.synchronizer = synchronizer

    def lock_for(self, key: str) -> ChunkLock:
        """The lock of ``key``."""
        lock: ChunkLock = self.synchronizer[key]
        return lock


def _synchronized(store: Store) -> bool:
    return isinstance(store, SynchronizedStore)


def _stripe(store: Store, key: str) -> ChunkLock:
    """The lock of ``key``: a synchronized store's own, else a stripe shared by stores equal by value (two
    LocalStores of one directory, wrappers)."""
    if isinstance(store, SynchronizedStore):
        return store.lock_for(key)
    while isinstance(getattr(store, "store", None), Store):
        store = store.store  # type: ignore[attr-defined]
    try:
        identity = hash(store)
    except TypeError:
        identity = id(store)
    digest = hashlib.blake2b(f"{identity}:{key}".encode(), digest_size=4).digest()
    return _stripe_locks[int.from_bytes(digest, "little") % _STRIPES]


#: Per event loop, an asyncio lock per stripe: tasks of one loop queue there (no polling), and only the
#: task at the head polls the stripe's thread lock, which other threads and loops share.
_stripe_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)
_stripe_gates_guard = threading.Lock()
_STRIPE_INDEX = {id(lock): i for i, lock in enumerate(_stripe_locks)}


@asynccontextmanager
async def _holding_async(lock: ChunkLock) -> AsyncIterator[None]:
    """Hold ``lock`` (a stripe, or a synchronizer's lock, which is polled directly) from async code."""
    stripe = _STRIPE_INDEX.get(id(lock))
    gate: asyncio.Lock | None = None
    if stripe is not None:
        loop = asyncio.get_running_loop()
        gates = _stripe_gates.get(loop)
        if gates is None:
            with _stripe_gates_guard:
                gates = _stripe_gates.setdefault(loop, {})
        gate = gates.get(stripe)
        if gate is None:
            gate = gates.setdefault(stripe, asyncio.Lock())  # only this loop's thread uses its gates
    async with gate if gate is not None else nullcontext():
        await _acquire_async(lock)
        try:
            yield
        finally:
            lock.release()


async def _acquire_async(lock: ChunkLock) -> None:
    delay = 0.0005
    while not lock.acquire(blocking=False):
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.02)


# -- the synchronous driver ------------------------------------------------------------------------


def _threads() -> int:
    """How many threads work on one synchronous operation: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def for_each(fn: Callable[[Any], None], items: Sequence[Any], parallel: bool) -> None:
    """Call ``fn`` on every item: inline, or (``parallel``) from the calling thread and workers of the shared
    pool together, each taking the next item when done with its last.

    At most one item per thread is in hand at a time, so memory stays bounded whatever the number of
    items. The first error stops the others taking new items and is raised once they are done. A helper
    the pool has not started by the time the items are used up is cancelled, never waited for: a caller
    that is itself a pool worker cannot deadlock.
    """
    helpers = min(len(items), _threads()) - 1 if parallel else 0
    if helpers <= 0:
        for item in items:
            fn(item)
        return
    queue = iter(items)
    errors: list[BaseException] = []

    def drain() -> None:
        for item in queue:  # a list iterator hands each item to one thread only
            if errors:
                return
            try:
                fn(item)
            except BaseException as exc:
                errors.append(exc)
                return

    pool = executor()
    futures = [pool.submit(drain) for _ in range(helpers)]
    try:
        drain()
        for future in futures:
            if not future.cancel():
                future.result()
    except BaseException as exc:  # e.g. KeyboardInterrupt while waiting: the helpers stop too
        errors.append(exc)
        raise
    if errors:
        raise errors[0]


class _ReadsInto(Protocol):
    def get_into_sync(self, key: str, buffer: memoryview) -> int | None: ...


def _destination(out: np.ndarray[Any, Any], proj: Projection, layout: ChunkLayout) -> memoryview | None:
    """The bytes of ``out`` that a whole chunk fills exactly, in its stored order; None when it does not."""
    if not proj.is_complete_chunk or not all(type(s) is slice for s in proj.out_selection):
        return None
    dest = out[proj.out_selection]
    if dest.size == 0 or dest.size != math.prod(layout.spec_for(proj.chunk_coords).shape):
        return None
    if not dest.flags.c_contiguous or not dest.flags.writeable:
        return None
    return memoryview(dest.reshape(-1).view(np.uint8))  # bytes, whatever the dtype (records too)


def _may_fill_blocks(out: np.ndarray[Any, Any], layout: ChunkLayout) -> bool:
    """False when no whole chunk of ``layout`` can be one contiguous block of ``out`` (decided once per read).

    A block of a C-ordered array is contiguous when, past its first axis longer than 1, it spans every
    axis whole. When every chunk is stored at one shape (:attr:`ChunkLayout.uniform_spec`), that shape
    decides for all of them; other grids (and outputs that drop axes) are left to :func:`_destination`.
    """
    spec = layout.uniform_spec
    if spec is None or out.ndim != len(spec.shape) or not out.flags.c_contiguous:
        return True
    axes = list(zip(spec.shape, out.shape, strict=True))
    for i, (chunk_length, _) in enumerate(axes):
        if chunk_length > 1:
            return all(c == n for c, n in axes[i + 1 :])
    return True


def read_sync(store: Store, layout: ChunkLayout, projections: Sequence[Projection], out: np.ndarray[Any, Any]) -> None:
    """Read every projection's chunk into ``out`` through the store's synchronous path.

    A chunk stored as its raw elements whose place in ``out`` is one contiguous block is read straight
    into it, when the store can (``get_into_sync``, e.g. local files); the others are decoded and copied.
    """
    if not projections:
        return
    get = store.get_sync
    fills_blocks = layout.raw and _may_fill_blocks(out, layout)
    into: _ReadsInto | None = store if fills_blocks and hasattr(store, "get_into_sync") else None

    def one(proj: Projection) -> None:
        key = layout.key_for(proj.chunk_coords)
        if into is not None:
            dest = _destination(out, proj, layout)
            if dest is not None:
                size = into.get_into_sync(key, dest)
                if size is None:
                    out[proj.out_selection] = layout.fill_value
                    return
                if size == dest.nbytes:
                    return
        place_chunk(out, proj, get(key), layout)

    for_each(one, projections, _big(layout, projections))


def _big(layout: ChunkLayout, projections: Sequence[Projection]) -> bool:
    """True when the chunks are worth working on in several threads at once."""
    return len(projections) > 1 and _chunk_nbytes(layout.spec_for(projections[0].chunk_coords)) >= POOL_MIN_CHUNK_BYTES


def write_sync(
    store: Store, layout: ChunkLayout, projections: Sequence[Projection], value: Any, write_empty: bool
) -> None:
    """Write ``value`` (an array shaped like the selection, or a scalar) through the synchronous path."""
    synchronized = _synchronized(store)

    def one(proj: Projection) -> None:
        key = layout.key_for(proj.chunk_coords)
        spec = layout.spec_for(proj.chunk_coords)
        if proj.is_complete_chunk:
            encoded = encode_chunk(merge_chunk(proj, value, None, layout, spec), spec, layout, write_empty)
            with _stripe(store, key) if synchronized else nullcontext():
                _store_sync(store, key, encoded)
            return
        with _stripe(store, key):
            existing = store.get_sync(key)
            chunk = merge_chunk(proj, value, existing, layout, spec)
            encoded = encode_chunk(chunk, spec, layout, write_empty)
            if encoded is None and existing is None:
                return
            _store_sync(store, key, encoded)

    for_each(one, projections, _big(layout, projections))


def _store_sync(store: Store, key: str, encoded: BytesLike | None) -> None:
    if encoded is None:
        store.delete_sync(key)
    else:
        store.set_sync(key, encoded)


# -- the asynchronous driver -----------------------------------------------------------------------


async def _run_cpu(layout: ChunkLayout, fn: Callable[[], Any], nbytes: int) -> Any:
    if layout.decode_is_heavy and nbytes >= POOL_MIN_CHUNK_BYTES:
        return await asyncio.get_running_loop().run_in_executor(executor(), fn)
    return fn()


async def read_async(
    store: Store, layout: ChunkLayout, projections: Sequence[Projection], out: np.ndarray[Any, Any]
) -> None:
    """Read every projection's chunk into ``out``, all requests in flight at once."""

    async def one(proj: Projection) -> None:
        data = await store.get(layout.key_for(proj.chunk_coords))
        nbytes = len(data) if data is not None else 0
        await _run_cpu(layout, functools.partial(place_chunk, out, proj, data, layout), nbytes)

    for start in range(0, len(projections), BATCH):
        await asyncio.gather(*(one(p) for p in projections[start : start + BATCH]))


async def write_async(
    store: Store, layout: ChunkLayout, projections: Sequence[Projection], value: Any, write_empty: bool
) -> None:
    """Write ``value`` into every projection's chunk, all requests in flight at once."""

    async def one(proj: Projection) -> None:
        key = layout.key_for(proj.chunk_coords)
        spec = layout.spec_for(proj.chunk_coords)
        nbytes = _chunk_nbytes(spec)
        if proj.is_complete_chunk:
            chunk = merge_chunk(proj, value, None, layout, spec)
            encoded = await _run_cpu(layout, functools.partial(encode_chunk, chunk, spec, layout, write_empty), nbytes)
            if not _synchronized(store):
                await _store_async(store, key, encoded)
                return
        async with _holding_async(_stripe(store, key)):
            if proj.is_complete_chunk:
                await _store_async(store, key, encoded)
                return
            existing = await store.get(key)
            chunk = await _run_cpu(layout, functools.partial(merge_chunk, proj, value, existing, layout, spec), nbytes)
            encoded = await _run_cpu(layout, functools.partial(encode_chunk, chunk, spec, layout, write_empty), nbytes)
            if encoded is None and existing is None:
                return
            await _store_async(store, key, encoded)

    for start in range(0, len(projections), BATCH):
        await asyncio.gather(*(one(p) for p in projections[start : start + BATCH]))


async def _store_async(store: Store, key: str, encoded: BytesLike | None) -> None:
    if encoded is None:
        await store.delete(key)
    else:
        await store.set(key, encoded)

"""The codec pipeline: move chunks between a store and an in-memory selection.

A read turns each chunk projection of an indexer into one store read, one decode and one copy into
the output array; a write into one encode and one store write (after a read and a merge when the
chunk is only partly written). Two drivers share that per-chunk work:

- :func:`read_sync` / :func:`write_sync` for stores with a synchronous path (memory, local files,
  mappings) called from synchronous code: plain function calls, no event loop, and a thread pool only
  when the chunks are many and costly to decode;
- :func:`read_async` / :func:`write_async` for everything else: all chunk requests in flight at once
  (bounded by the store layer's global concurrency limit), CPU-heavy codecs off the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

import numpy as np

from zarrlayered.codecs.abc import ChunkSpec
from zarrlayered.codecs.chain import CodecChain
from zarrlayered.core.chunk_grids import ChunkGrid
from zarrlayered.core.sync import executor
from zarrlayered.errors import CorruptChunkError
from zarrlayered.stores.abc import Store
from zarrlayered.stores.wrapper import WrapperStore

__all__ = [
    "ChunkLayout",
    "ChunkLock",
    "Projection",
    "SynchronizedStore",
    "read_async",
    "read_sync",
    "write_async",
    "write_sync",
]

logger = logging.getLogger("zarrlayered.array")

#: Chunks smaller than this decode inline: a thread-pool hand-off costs more than the decode.
POOL_MIN_CHUNK_BYTES = 1 << 16
#: How many chunk operations a driver keeps in flight per batch (bounds memory for huge selections).
BATCH = 1024


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
        return self.spec_for_shape(tuple(self.grid.chunk_shape_at(coords, self.shape)))

    def key_for(self, coords: tuple[int, ...]) -> str:
        """The store key of the chunk at ``coords``."""
        key = self.encode_chunk_key(coords)
        return f"{self.path}/{key}" if self.path else key

    @functools.cached_property
    def decode_is_heavy(self) -> bool:
        """True when decoding a chunk costs enough to be worth a worker thread."""
        return bool(self.chain.bytes_bytes) or not self.chain.is_plain_bytes

    def fill_chunk(self, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """A new chunk of ``spec`` filled with the fill value."""
        return np.full(spec.shape, self.fill_value, dtype=self.dtype, order=self.order)

    def is_all_fill(self, chunk: np.ndarray[Any, Any]) -> bool:
        """True when every element of ``chunk`` equals the declared fill value.

        Numbers and times compare by bit pattern, as zarr-python 3 does: -0.0 is not a fill of 0.0 (storing
        nothing would read back +0.0), a NaN fill matches the same NaN, a NaT fill matches NaT.
        """
        fill = self.empty_value
        if fill is None:
            return False
        kind = self.dtype.kind
        if kind in "fcmM" and self.dtype.fields is None:
            fill_bits = np.asarray(fill, dtype=self.dtype).reshape(1).view(f"V{self.dtype.itemsize}")
            bits = np.ascontiguousarray(chunk).view(f"V{self.dtype.itemsize}")
            return bool(np.all(bits == fill_bits[0]))
        if kind == "V" and self.dtype.fields is None:
            return bool(np.all(chunk == np.asarray(fill, dtype=self.dtype)))
        return bool(np.all(chunk == fill))


# -- per-chunk work, shared by both drivers -------------------------------------------------------


def _chunk_nbytes(spec: ChunkSpec) -> int:
    return math.prod(spec.shape) * spec.dtype.itemsize


def place_chunk(
    out: np.ndarray[Any, Any], proj: Projection, data: bytes | memoryview | None, layout: ChunkLayout
) -> None:
    """Decode one stored chunk (or the fill value when it is missing) into its place in ``out``."""
    if data is None:
        out[proj.out_selection] = layout.fill_value
        return
    spec = layout.spec_for(proj.chunk_coords)
    try:
        chunk = layout.chain.decode(data, spec)
    except CorruptChunkError as exc:  # name the chunk
        raise exc.at_key(layout.key_for(proj.chunk_coords)) from exc.__cause__
    out[proj.out_selection] = chunk[proj.chunk_selection]


def merge_chunk(
    proj: Projection, value: Any, existing: bytes | memoryview | None, layout: ChunkLayout
) -> np.ndarray[Any, Any]:
    """The new content of one chunk: ``value``'s part merged into the existing chunk (or a fresh one)."""
    spec = layout.spec_for(proj.chunk_coords)
    part = value[proj.out_selection] if isinstance(value, np.ndarray) and value.ndim else value
    if proj.is_complete_chunk and isinstance(part, np.ndarray) and part.shape == spec.shape:
        sel = proj.chunk_selection
        if all(isinstance(s, slice) and (s.step or 1) == 1 for s in sel):
            return part.astype(layout.dtype, copy=False)
    if existing is None or proj.is_complete_chunk:
        chunk = layout.fill_chunk(spec)
    else:
        try:
            chunk = np.array(layout.chain.decode(existing, spec), order=layout.order, copy=True)
        except CorruptChunkError as exc:  # name the chunk
            raise exc.at_key(layout.key_for(proj.chunk_coords)) from exc.__cause__
    chunk[proj.chunk_selection] = part
    return chunk


def encode_chunk(chunk: np.ndarray[Any, Any], proj: Projection, layout: ChunkLayout, write_empty: bool) -> bytes | None:
    """Encode a chunk for storage, or None when it holds only the fill value and should not be stored."""
    if not write_empty and layout.is_all_fill(chunk):
        return None
    encoded = layout.chain.encode(chunk, layout.spec_for(proj.chunk_coords))
    return encoded if isinstance(encoded, bytes) else bytes(encoded)


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


async def _acquire_async(lock: ChunkLock) -> None:
    delay = 0.0005
    while not lock.acquire(blocking=False):
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.02)


# -- the synchronous driver ------------------------------------------------------------------------


def read_sync(store: Store, layout: ChunkLayout, projections: Sequence[Projection], out: np.ndarray[Any, Any]) -> None:
    """Read every projection's chunk into ``out`` through the store's synchronous path."""
    if not projections:
        return
    spec = layout.spec_for(projections[0].chunk_coords)
    use_pool = len(projections) > 1 and layout.decode_is_heavy and _chunk_nbytes(spec) >= POOL_MIN_CHUNK_BYTES
    get = store.get_sync
    if not use_pool:
        for proj in projections:
            place_chunk(out, proj, get(layout.key_for(proj.chunk_coords)), layout)
        return

    def one(proj: Projection) -> None:
        place_chunk(out, proj, get(layout.key_for(proj.chunk_coords)), layout)

    for _ in executor().map(one, projections):
        pass


def write_sync(
    store: Store, layout: ChunkLayout, projections: Iterable[Projection], value: Any, write_empty: bool
) -> None:
    """Write ``value`` (an array shaped like the selection, or a scalar) through the synchronous path."""
    for proj in projections:
        key = layout.key_for(proj.chunk_coords)
        if proj.is_complete_chunk:
            encoded = encode_chunk(merge_chunk(proj, value, None, layout), proj, layout, write_empty)
            with _stripe(store, key) if _synchronized(store) else nullcontext():
                _store_sync(store, key, encoded)
            continue
        with _stripe(store, key):
            existing = store.get_sync(key)
            chunk = merge_chunk(proj, value, existing, layout)
            encoded = encode_chunk(chunk, proj, layout, write_empty)
            if encoded is None and existing is None:
                continue
            _store_sync(store, key, encoded)


def _store_sync(store: Store, key: str, encoded: bytes | None) -> None:
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
        nbytes = _chunk_nbytes(layout.spec_for(proj.chunk_coords))
        if proj.is_complete_chunk:
            chunk = merge_chunk(proj, value, None, layout)
            encoded = await _run_cpu(layout, functools.partial(encode_chunk, chunk, proj, layout, write_empty), nbytes)
            if not _synchronized(store):
                await _store_async(store, key, encoded)
                return
        lock = _stripe(store, key)
        await _acquire_async(lock)
        try:
            if proj.is_complete_chunk:
                await _store_async(store, key, encoded)
                return
            existing = await store.get(key)
            chunk = await _run_cpu(layout, functools.partial(merge_chunk, proj, value, existing, layout), nbytes)
            encoded = await _run_cpu(layout, functools.partial(encode_chunk, chunk, proj, layout, write_empty), nbytes)
            if encoded is None and existing is None:
                return
            await _store_async(store, key, encoded)
        finally:
            lock.release()

    for start in range(0, len(projections), BATCH):
        await asyncio.gather(*(one(p) for p in projections[start : start + BATCH]))


async def _store_async(store: Store, key: str, encoded: bytes | None) -> None:
    if encoded is None:
        await store.delete(key)
    else:
        await store.set(key, encoded)

"""AsyncArray: one Zarr array (V2 or V3) in a store, read and written through the codec pipeline.

Every operation exists as a coroutine (the async API). Reads and writes also have a synchronous twin
(``*_sync``) that the sync front end takes when the store answers synchronously, so a small read is a
few plain function calls: no event loop, no thread hop.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from zarrlayered.codecs.chain import CodecChain
from zarrlayered.codecs.sharding import ShardingCodec
from zarrlayered.core.chunk_grids import ChunkGrid, RectilinearChunkGrid
from zarrlayered.core.codec_pipeline import (
    ChunkLayout,
    SynchronizedStore,
    read_async,
    read_sync,
    write_async,
    write_sync,
)
from zarrlayered.core.config import write_empty_chunks as _default_write_empty_chunks
from zarrlayered.core.indexing import BlockIndexer, ChunkProjection, Indexer, get_indexer
from zarrlayered.core.metadata import ArrayMetadata
from zarrlayered.core.nodes import normalize_path, store_path, write_documents, write_documents_sync
from zarrlayered.core.sharded_pipeline import (
    ShardedLayout,
    read_sharded_async,
    read_sharded_sync,
    write_sharded_async,
    write_sharded_sync,
)
from zarrlayered.core.storage_transformers import apply_storage_transformers, parse_storage_transformers
from zarrlayered.errors import ReadOnlyError, SelectionTooLargeError
from zarrlayered.info import ArrayInfo
from zarrlayered.stores.abc import Store

if TYPE_CHECKING:
    from zarrlayered.codecs.abc import BaseCodec

__all__ = ["AsyncArray", "prepare_value"]

logger = logging.getLogger("zarrlayered.array")


def prepare_value(value: Any, shape: tuple[int, ...], dtype: np.dtype[Any]) -> Any:
    """Turn a value being written into a scalar or an array of exactly ``shape`` (numpy broadcasting)."""
    if not isinstance(value, np.ndarray) and hasattr(value, "__array__") is False and np.isscalar(value):
        return np.asarray(value, dtype=dtype)[()] if dtype.kind not in "OT" else value
    if dtype.kind == "O":
        arr = np.empty(shape, dtype=object)
        arr[...] = value
        return arr
    arr = np.asarray(value)
    if arr.ndim == 0:
        return arr.astype(dtype)[()]
    if arr.shape != shape:
        try:
            arr = np.broadcast_to(arr, shape)
        except ValueError:
            raise ValueError(
                f"could not broadcast input array from shape {arr.shape} into shape {shape}"
            ) from None
    return arr if arr.dtype == dtype else arr.astype(dtype)


def _open_mesh(selection: Any, ndim: int) -> tuple[np.ndarray[Any, Any], ...] | None:
    """The 1-d index arrays of a coordinate selection that is an open mesh (``np.ix_``), else None.

    Such a selection reads the same elements, in the same shape and order, as the orthogonal selection
    of those arrays; planned as one, it needs no per-point coordinates.
    """
    if not isinstance(selection, tuple) or len(selection) != ndim or ndim == 0:
        return None
    arrays = []
    for axis, entry in enumerate(selection):
        if not isinstance(entry, np.ndarray) or entry.ndim != ndim or entry.dtype.kind not in "iu":
            return None
        if any(n != 1 for i, n in enumerate(entry.shape) if i != axis):
            return None
        arrays.append(entry.reshape(-1))
    return tuple(arrays)


def _basic_selection_shape(selection: Any, shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """The shape numpy gives ``selection`` of an array of ``shape`` (a zero-stride view: no allocation), or None."""
    try:
        view = np.broadcast_to(np.zeros((), np.int8), shape)[selection]
    except Exception:  # only for an error message
        return None
    return tuple(view.shape)


def _selection_too_large(path: str, shape: tuple[int, ...] | None, dtype: np.dtype[Any]) -> SelectionTooLargeError:
    if shape is None:
        return SelectionTooLargeError(f"array {path!r}: the selection ({dtype}) is too large to plan or allocate")
    nbytes = math.prod(shape) * dtype.itemsize
    return SelectionTooLargeError(
        f"array {path!r}: the selection of shape {shape} ({dtype}) needs {nbytes} bytes, more than can be "
        "allocated; read it in pieces"
    )


class AsyncArray:
    """A Zarr array: its metadata, the store holding it and its path there.

    Use :meth:`open` / :func:`zarrlayered.api.asynchronous.create_array` rather than the constructor.

    Parameters
    ----------
    metadata
        The array's metadata (:class:`ArrayV2Metadata` or :class:`ArrayV3Metadata`).
    store
        The store the array lives in.
    path
        The array's path within the store ("" for the root).
    write_empty_chunks
        Store chunks that hold only the fill value (default: config ``array.write_empty_chunks``).
    synchronizer
        zarr-python 2's ``synchronizer``: ``synchronizer[key]`` gives the lock every write of chunk ``key``
        holds (see :mod:`zarrlayered.compat.synchronizers`); None uses the in-process locks.
    chunk_store
        zarr-python 2's ``chunk_store``: the store that holds the chunks (under the same keys), when they
        are kept apart from the metadata in ``store``.
    """

    def __init__(
        self,
        metadata: ArrayMetadata,
        store: Store,
        path: str = "",
        *,
        write_empty_chunks: bool | None = None,
        synchronizer: Any = None,
        chunk_store: Store | None = None,
    ) -> None:
        self.metadata = metadata
        self.store = store
        self.path = normalize_path(path)
        self.write_empty_chunks = (
            _default_write_empty_chunks() if write_empty_chunks is None else bool(write_empty_chunks)
        )
        self.synchronizer = synchronizer
        self.chunk_store = chunk_store
        self._layout = ChunkLayout.from_metadata(metadata, self.path)
        self._sharded = ShardedLayout.from_layout(self._layout)
        self._data_store = self._chunk_store(metadata, store if chunk_store is None else chunk_store, self.path)
        if synchronizer is not None:
            self._data_store = SynchronizedStore(self._data_store, synchronizer)

    @staticmethod
    def _chunk_store(metadata: ArrayMetadata, store: Store, path: str) -> Store:
        """The store chunks go through: ``store`` seen through the array's storage transformers, if any."""
        declared = getattr(metadata, "storage_transformers", ())
        if not declared:
            return store
        return apply_storage_transformers(store, path, parse_storage_transformers(declared))

    # -- description -------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""
        return self.metadata.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        """The numpy dtype of the elements."""
        return self.metadata.dtype

    @property
    def chunks(self) -> tuple[int, ...] | tuple[tuple[int, ...], ...]:
        """The chunk shape, the inner chunks of a sharded array (for a rectilinear grid: per-axis lengths)."""
        return getattr(self.metadata, "inner_chunks", self.metadata.chunks)

    @property
    def shards(self) -> tuple[int, ...] | None:
        """The shard shape of a sharded array, else None."""
        return getattr(self.metadata, "shards", None)

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """The number of elements."""
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        """The size of the array's data when held in memory, in bytes."""
        return self.size * self.dtype.itemsize

    @property
    def nchunks(self) -> int:
        """The number of chunks in the grid (inner chunks of a sharded array, as zarr-python 3 counts)."""
        return self._read_grid.nchunks(self.shape)

    @property
    def cdata_shape(self) -> tuple[int, ...]:
        """The number of chunks along each axis (inner chunks of a sharded array, as zarr-python 3 counts)."""
        return self._read_grid.grid_shape(self.shape)

    @property
    def _read_grid(self) -> ChunkGrid:
        """The grid selections are planned on: the inner chunks of a sharded array, else the chunk grid."""
        return self._sharded.grid if self._sharded is not None else self.metadata.chunk_grid

    @property
    def fill_value(self) -> Any:
        """The fill value (None for a V2 array without one)."""
        return self.metadata.fill_value

    @property
    def order(self) -> str:
        """The memory order of chunks, "C" or "F"."""
        return self.metadata.order

    @property
    def attrs(self) -> dict[str, Any]:
        """The user attributes (a copy; change them with :meth:`update_attributes`)."""
        return dict(self.metadata.attributes)

    @property
    def zarr_format(self) -> int:
        """2 or 3."""
        return self.metadata.zarr_format

    @property
    def read_only(self) -> bool:
        """True when the store refuses writes."""
        return self.store.read_only

    @property
    def name(self) -> str:
        """The array's absolute path in its hierarchy, "/" for the root."""
        return f"/{self.path}"

    @property
    def basename(self) -> str:
        """The last part of :attr:`name`."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def compressors(self) -> tuple[Any, ...]:
        """The bytes -> bytes codecs (V3) or the compressor (V2)."""
        v2 = getattr(self.metadata, "compressor", None)
        if self.zarr_format == 2:
            return () if v2 is None else (v2,)
        return tuple(self._reported_chain.bytes_bytes)

    @property
    def _reported_chain(self) -> CodecChain:
        """The chain that filters/serializer/compressors describe: a sharded array's inner chain, as in
        zarr-python 3 (where the only codec is ``sharding_indexed``, its inner codecs are reported)."""
        chain = self._layout.chain
        if not chain.array_array and not chain.bytes_bytes and isinstance(chain.array_bytes, ShardingCodec):
            return CodecChain.from_codecs(chain.array_bytes.codecs)
        return chain

    @property
    def filters(self) -> tuple[Any, ...]:
        """The array -> array codecs (V3) or the filters (V2)."""
        if self.zarr_format == 2:
            return tuple(getattr(self.metadata, "filters", None) or ())
        return tuple(self._reported_chain.array_array)

    @property
    def serializer(self) -> BaseCodec | None:
        """The array -> bytes codec (V3); None for V2."""
        return None if self.zarr_format == 2 else self._reported_chain.array_bytes

    @property
    def sync_path(self) -> bool:
        """True when reads and writes may skip the event loop (the store answers synchronously)."""
        return bool(self._data_store.supports_sync)

    @property
    def store_path(self) -> str:
        """Where the array is: ``"<store URL>/<path>"``, as zarr-python 3 prints it."""
        return store_path(self.store, self.path)

    def __repr__(self) -> str:
        return f"<AsyncArray {self.store_path} shape={self.shape} dtype={self.dtype}>"

    # -- selections ----------------------------------------------------------------------------------
    def indexer(self, selection: Any, kind: str = "getitem") -> Indexer:
        """The chunk plan of ``selection`` (kinds: getitem, basic, orthogonal, coordinate, vindex, mask, block)."""
        grid = self._read_grid
        try:  # planning a selection of 2**40 chunks (or reading it) cannot be allocated: a documented error
            mesh = _open_mesh(selection, self.ndim) if kind in ("getitem", "vindex", "coordinate") else None
            if mesh is not None:
                return get_indexer(mesh, self.shape, grid, "orthogonal")
            if kind == "block" and self._sharded is not None:
                # blocks of a sharded array are its shards (zarr-python 3); plan them on the inner chunks
                shard_grid = self.metadata.chunk_grid
                region = BlockIndexer(selection, self.shape, shard_grid).element_region()
                return get_indexer(region, self.shape, grid, "basic")
            return get_indexer(selection, self.shape, grid, kind)
        except MemoryError as exc:
            shape = _basic_selection_shape(selection, self.shape) if kind in ("getitem", "basic") else None
            raise _selection_too_large(self.name, shape, self.dtype) from exc

    def _new_out(self, indexer: Indexer, out: np.ndarray[Any, Any] | None) -> np.ndarray[Any, Any]:
        if out is None:
            order: Literal["C", "F"] = "F" if self.order == "F" else "C"
            try:
                return np.empty(indexer.shape, dtype=self.dtype, order=order)
            except (MemoryError, ValueError) as exc:  # numpy: "array is too big" or "Unable to allocate"
                raise _selection_too_large(self.name, indexer.shape, self.dtype) from exc
        if not isinstance(out, np.ndarray):
            raise TypeError(f"out must be a numpy array, got {type(out).__name__}")
        if out.shape != indexer.shape:
            raise ValueError(f"out has shape {out.shape}, the selection has shape {indexer.shape}")
        return out

    @staticmethod
    def _result(out: np.ndarray[Any, Any]) -> Any:
        return out[()] if out.ndim == 0 else out

    async def get_selection(
        self, selection: Any, kind: str = "getitem", out: np.ndarray[Any, Any] | None = None
    ) -> Any:
        """Read ``selection`` (of ``kind``) into a new array, or into ``out``."""
        indexer = self.indexer(selection, kind)
        result = self._new_out(indexer, out)
        if self._sharded is not None:
            await read_sharded_async(self._data_store, self._sharded, list(indexer), result)
        else:
            await read_async(self._data_store, self._layout, list(indexer), result)
        return self._result(result)

    def get_selection_sync(
        self, selection: Any, kind: str = "getitem", out: np.ndarray[Any, Any] | None = None
    ) -> Any:
        """:meth:`get_selection` through the store's synchronous path (needs :attr:`sync_path`)."""
        indexer = self.indexer(selection, kind)
        result = self._new_out(indexer, out)
        if self._sharded is not None:
            read_sharded_sync(self._data_store, self._sharded, list(indexer), result)
        else:
            read_sync(self._data_store, self._layout, list(indexer), result)
        return self._result(result)

    async def getitem(self, selection: Any) -> Any:
        """``array[selection]`` with numpy semantics."""
        return await self.get_selection(selection, "getitem")

    def _check_writable(self) -> None:
        if self.store.read_only:
            raise ReadOnlyError(f"cannot write to array {self.name!r}: it was opened read-only")

    def _write_plan(self, selection: Any, kind: str, value: Any) -> tuple[list[ChunkProjection], Any]:
        self._check_writable()
        indexer = self.indexer(selection, kind)
        return list(indexer), prepare_value(value, indexer.shape, self.dtype)

    async def set_selection(self, selection: Any, value: Any, kind: str = "getitem") -> None:
        """Write ``value`` (broadcast to the selection's shape) into ``selection`` (of ``kind``)."""
        projections, prepared = self._write_plan(selection, kind, value)
        if self._sharded is not None:
            await write_sharded_async(self._data_store, self._sharded, projections, prepared, self.write_empty_chunks)
        else:
            await write_async(self._data_store, self._layout, projections, prepared, self.write_empty_chunks)

    def set_selection_sync(self, selection: Any, value: Any, kind: str = "getitem") -> None:
        """:meth:`set_selection` through the store's synchronous path (needs :attr:`sync_path`)."""
        projections, prepared = self._write_plan(selection, kind, value)
        if self._sharded is not None:
            write_sharded_sync(self._data_store, self._sharded, projections, prepared, self.write_empty_chunks)
        else:
            write_sync(self._data_store, self._layout, projections, prepared, self.write_empty_chunks)

    async def setitem(self, selection: Any, value: Any) -> None:
        """``array[selection] = value`` with numpy semantics."""
        await self.set_selection(selection, value, "getitem")

    # -- metadata changes ------------------------------------------------------------------------------
    def _with_metadata(self, metadata: ArrayMetadata) -> AsyncArray:
        return type(self)(metadata, self.store, self.path, write_empty_chunks=self.write_empty_chunks,
                          synchronizer=self.synchronizer, chunk_store=self.chunk_store)

    async def _save_metadata(self, metadata: ArrayMetadata) -> None:
        await write_documents(self.store, self.path, metadata.to_json_bytes())

    def _save_metadata_sync(self, metadata: ArrayMetadata) -> None:
        write_documents_sync(self.store, self.path, metadata.to_json_bytes())

    async def update_attributes(self, new_attributes: Mapping[str, Any]) -> AsyncArray:
        """Merge ``new_attributes`` into the attributes, save them, and return the updated array."""
        self._check_writable()
        merged = {**self.metadata.attributes, **dict(new_attributes)}
        metadata = self.metadata.update_attributes(merged)
        await self._save_metadata(metadata)
        self.metadata = metadata
        return self

    def _resized(self, new_shape: tuple[int, ...]) -> tuple[ArrayMetadata, list[str], list[tuple[slice, ...]]]:
        """The new metadata, the chunks wholly outside the new shape, and the regions to reset to fill.

        Elements cut off by shrinking must not come back when the array grows again (numpy and h5py
        semantics; zarr-python 3 resurrects them), so the cut-off part of chunks that straddle the new
        edge is reset to the fill value.
        """
        self._check_writable()
        new_shape = tuple(int(n) for n in new_shape)
        if len(new_shape) != self.ndim:
            raise ValueError(f"resize: new shape {new_shape} must have {self.ndim} dimension(s)")
        if any(n < 0 for n in new_shape):
            raise ValueError(f"resize: new shape {new_shape} has a negative length")
        metadata = self._metadata_for_shape(new_shape)
        grid = self.metadata.chunk_grid
        old_grid_shape = grid.grid_shape(self.shape)
        new_grid_shape = metadata.chunk_grid.grid_shape(new_shape)
        stale = [
            self._layout.key_for(coords)
            for coords in np.ndindex(*old_grid_shape)
            if any(c >= n for c, n in zip(coords, new_grid_shape, strict=True))
        ]
        resets: list[tuple[slice, ...]] = []
        edges = grid.axis_edges(self.shape)
        for axis, (old, new) in enumerate(zip(self.shape, new_shape, strict=True)):
            if new >= old:
                continue
            boundary = int(edges[axis][int(np.searchsorted(edges[axis], new, side="left"))])
            if boundary > new:
                region = [slice(0, o) for o in self.shape]
                region[axis] = slice(new, min(boundary, old))
                resets.append(tuple(region))
        return metadata, stale, resets

    def _metadata_for_shape(self, new_shape: tuple[int, ...]) -> ArrayMetadata:
        """The metadata for ``new_shape``; a rectilinear grid grows by repeating each axis's last edge."""
        grid = self.metadata.chunk_grid
        if not isinstance(grid, RectilinearChunkGrid):
            return self.metadata.update_shape(new_shape)
        axes = []
        for edges, new in zip(grid.chunk_shapes, new_shape, strict=True):
            covered = sum(edges)
            extended = list(edges)
            if len(edges) > 1:
                while covered < new:
                    extended.append(edges[-1])
                    covered += edges[-1]
            axes.append(tuple(extended))
        grown = RectilinearChunkGrid(chunk_shapes=tuple(axes))
        return replace(self.metadata, shape=new_shape, chunk_grid=grown)  # type: ignore[type-var]

    async def resize(self, new_shape: tuple[int, ...] | int) -> AsyncArray:
        """Change the shape; chunks entirely outside the new shape are deleted. Returns ``self``."""
        shape = (new_shape,) if isinstance(new_shape, int) else tuple(new_shape)
        metadata, stale, resets = self._resized(shape)
        for region in resets:
            await self.set_selection(region, self._layout.fill_value, "basic")
        for key in stale:
            await self._data_store.delete(key)
        await self._save_metadata(metadata)
        self._replace_metadata(metadata)
        return self

    def resize_sync(self, new_shape: tuple[int, ...] | int) -> AsyncArray:
        """:meth:`resize` through the synchronous path."""
        shape = (new_shape,) if isinstance(new_shape, int) else tuple(new_shape)
        metadata, stale, resets = self._resized(shape)
        for region in resets:
            self.set_selection_sync(region, self._layout.fill_value, "basic")
        for key in stale:
            self._data_store.delete_sync(key)
        self._save_metadata_sync(metadata)
        self._replace_metadata(metadata)
        return self

    def _replace_metadata(self, metadata: ArrayMetadata) -> None:
        self.metadata = metadata
        self._layout = ChunkLayout.from_metadata(metadata, self.path)
        self._sharded = ShardedLayout.from_layout(self._layout)

    def _append_plan(self, data: Any, axis: int) -> tuple[np.ndarray[Any, Any], tuple[int, ...], tuple[slice, ...]]:
        arr = np.asarray(data)
        if arr.ndim != self.ndim:
            raise ValueError(f"append: data has {arr.ndim} dimension(s), the array has {self.ndim}")
        axis = axis + self.ndim if axis < 0 else axis
        if not 0 <= axis < self.ndim:
            raise ValueError(f"append: axis {axis} is out of range for {self.ndim} dimension(s)")
        for i, (a, b) in enumerate(zip(arr.shape, self.shape, strict=True)):
            if i != axis and a != b:
                raise ValueError(
                    f"append: data shape {arr.shape} does not match array shape {self.shape} except on axis {axis}"
                )
        new_shape = tuple(n + arr.shape[axis] if i == axis else n for i, n in enumerate(self.shape))
        region = tuple(slice(self.shape[axis], new_shape[axis]) if i == axis else slice(None) for i in range(self.ndim))
        return arr, new_shape, region

    async def append(self, data: Any, axis: int = 0) -> tuple[int, ...]:
        """Grow the array along ``axis`` by ``data`` and write it there; returns the new shape."""
        arr, new_shape, region = self._append_plan(data, axis)
        await self.resize(new_shape)
        await self.set_selection(region, arr, "basic")
        return new_shape

    def append_sync(self, data: Any, axis: int = 0) -> tuple[int, ...]:
        """:meth:`append` through the synchronous path."""
        arr, new_shape, region = self._append_plan(data, axis)
        self.resize_sync(new_shape)
        self.set_selection_sync(region, arr, "basic")
        return new_shape

    # -- inspection ----------------------------------------------------------------------------------
    async def nchunks_initialized(self) -> int:
        """How many chunks are stored."""
        count = 0
        chunks = self.store if self.chunk_store is None else self.chunk_store
        async for _ in chunks.list_prefix(f"{self.path}/" if self.path else ""):
            count += 1
        return count if self.chunk_store is not None else max(0, count - len(await self._metadata_keys()))

    async def _metadata_keys(self) -> list[str]:
        names = ("zarr.json",) if self.zarr_format == 3 else (".zarray", ".zattrs")
        base = f"{self.path}/" if self.path else ""
        found = [await self.store.exists(base + n) for n in names]
        return [n for n, ok in zip(names, found, strict=True) if ok]

    @property
    def info(self) -> ArrayInfo:
        """A description of the array (type, format, shape, chunks, codecs)."""
        return ArrayInfo.from_array(self)

    async def info_complete(self) -> ArrayInfo:
        """:attr:`info` plus what needs the store: chunks initialized and bytes stored."""
        return ArrayInfo.from_array(
            self, count_chunks=await self.nchunks_initialized(), nbytes_stored=await self.nbytes_stored()
        )

    async def nbytes_stored(self) -> int:
        """Bytes stored for this array: its chunks and metadata."""
        stored = await self.store.getsize_prefix(self.path)
        return stored if self.chunk_store is None else stored + await self.chunk_store.getsize_prefix(self.path)

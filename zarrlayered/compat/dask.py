"""Dask: zarrlayered arrays as Dask arrays and Dask arrays written to Zarr, one task per aligned block.

Nothing here is needed to use Dask: a :class:`~zarrlayered.Array` pickles as its store's location and its
metadata (never its data), so ``dask.array.from_array(arr, chunks=arr.chunks)`` reads in parallel and
``dask.array.store(x, arr, lock=False)`` writes in parallel, on threads, processes or a
``dask.distributed`` cluster, as long as every block covers whole chunks. The two helpers do the chunk
alignment for the user:

- :func:`to_dask` makes a lazy Dask array whose blocks are made of whole chunks (whole shards for a
  sharded array), so no chunk is read by two tasks, with a name that depends only on the array's store,
  path and metadata (the same array opened twice gives the same Dask name);
- :func:`from_dask` creates an array and writes a Dask array into it, one task per block; blocks that
  straddle storage chunks (shards) are rechunked first, with a :class:`DaskAlignmentWarning`, unless a
  ``synchronizer`` is given to serialize the writes that share a chunk.

Dask is imported only when one of them is called (it is not a dependency of zarrlayered).
"""

from __future__ import annotations

import importlib
import uuid
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from zarrlayered.core.progress import ProgressBar, progress_bar, progress_enabled

if TYPE_CHECKING:
    import dask.array

    from zarrlayered.array import Array

__all__ = ["DaskAlignmentWarning", "from_dask", "storage_edges", "to_dask"]

#: Per-axis block lengths, as Dask's ``Array.chunks``.
BlockSizes = tuple[tuple[int, ...], ...]


class DaskAlignmentWarning(UserWarning):
    """Dask blocks straddle the storage chunks (shards) of the array they are written to.

    Two tasks writing parts of one chunk at once would lose one of the writes, so :func:`from_dask`
    rechunks the Dask array first (extra memory and data movement). Choose Dask chunks that are
    multiples of the storage chunks, or pass a ``synchronizer``, to avoid it.
    """


def _module(name: str) -> Any:
    """A Dask module, untyped (Dask's annotations are partial)."""
    return importlib.import_module(name)


def _import_dask_array() -> Any:
    try:
        dask_array = _module("dask.array")
    except ImportError as exc:
        raise ImportError(
            "zarrlayered.to_dask and zarrlayered.from_dask need Dask, which is not installed (zarrlayered does not "
            "depend on it): install the 'dask' package with its array extra, e.g. pip install 'dask[array]'"
        ) from exc
    return dask_array


# -- the storage grid --------------------------------------------------------------------------------
def storage_edges(array: Array) -> tuple[tuple[int, ...], ...]:
    """Per axis, the positions where one write unit (a shard, else a chunk) ends and the next begins.

    Only interior positions are listed (not 0 and not the axis length). A block of a Dask array is
    aligned with the array when each of its boundaries is one of these (or the end of the axis).

    Parameters
    ----------
    array
        A zarrlayered array (regular or rectilinear chunk grid, sharded or not).
    """
    unit = array.shards if array.shards is not None else array.chunks
    edges: list[tuple[int, ...]] = []
    for axis, length in enumerate(array.shape):
        lengths = unit[axis]
        if isinstance(lengths, int):
            edges.append(tuple(range(lengths, length, lengths)) if lengths > 0 else ())
        else:  # a rectilinear grid: this axis's chunk lengths
            ends = np.cumsum(np.asarray(lengths, dtype=np.int64))
            edges.append(tuple(int(e) for e in ends if 0 < e < length))
    return tuple(edges)


def _boundaries(sizes: tuple[int, ...]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The interior boundaries of blocks of ``sizes``."""
    return np.cumsum(np.asarray(sizes, dtype=np.int64))[:-1]


def _is_aligned(sizes: tuple[int, ...], edges: tuple[int, ...]) -> bool:
    return bool(np.isin(_boundaries(sizes), np.asarray(edges, dtype=np.int64)).all())


def _snap(sizes: tuple[int, ...], edges: tuple[int, ...], length: int) -> tuple[int, ...]:
    """Block sizes whose boundaries are the storage edges nearest to those of ``sizes`` (ties go down)."""
    if length == 0:
        return (0,)
    wanted = _boundaries(sizes)
    grid = np.asarray(edges, dtype=np.int64)
    if not len(grid) or not len(wanted):
        return (length,)
    above = np.clip(np.searchsorted(grid, wanted), 0, len(grid) - 1)
    below = np.clip(above - 1, 0, len(grid) - 1)
    lo, hi = grid[below], grid[above]
    nearest = np.where(np.abs(wanted - lo) <= np.abs(hi - wanted), lo, hi)
    bounds = np.unique(nearest)
    return tuple(int(n) for n in np.diff(np.concatenate(([0], bounds, [length]))))


def _align(blocks: BlockSizes, array: Array) -> BlockSizes:
    edges = storage_edges(array)
    return tuple(_snap(sizes, axis_edges, length) for sizes, axis_edges, length in zip(blocks, edges, array.shape,
                                                                                    strict=True))


def _unit_shape(array: Array) -> tuple[int, ...]:
    """The write unit's shape (for a rectilinear axis: its largest chunk)."""
    unit = array.shards if array.shards is not None else array.chunks
    return tuple(u if isinstance(u, int) else max(u, default=1) for u in unit)


def _identity(array: Array) -> tuple[Any, ...]:
    """What names a stored array: its store (type and location), path and metadata documents."""
    engine = array.async_array
    chunk_store = getattr(engine, "chunk_store", None)
    documents = engine.metadata.to_json_bytes()
    return (type(array.store).__qualname__, repr(array.store), repr(chunk_store), array.path,
            sorted(documents.items()))


# -- reading -----------------------------------------------------------------------------------------
def to_dask(array: Array, chunks: Any = None, *, name: str | None = None, align: bool = True) -> dask.array.Array:
    """A lazy Dask array reading ``array``, one task per block of whole chunks (whole shards if sharded).

    Parameters
    ----------
    array
        A zarrlayered :class:`~zarrlayered.Array` (it pickles as its store location, so the tasks run on
        threads, processes or a distributed cluster alike).
    chunks
        The Dask chunks, in any form :func:`dask.array.core.normalize_chunks` takes (``"auto"``, a
        shape, per-axis lengths, a dict). None (the default) is ``"auto"``: blocks of about Dask's
        ``array.chunk-size`` made of whole storage chunks (shards).
    name
        The Dask name; by default ``"zarrlayered-"`` and a hash of the array's store, path, metadata and
        the chunks, so the same stored array always gets the same name (as with ``dask.array.from_zarr``,
        a change to the data alone does not change it).
    align
        Move every block boundary to the nearest shard boundary (sharded arrays) or chunk boundary, so
        that no chunk (shard) is read by two tasks. False keeps ``chunks`` exactly as given.

    Returns
    -------
    dask.array.Array

    Raises
    ------
    ImportError
        When Dask is not installed.

    Examples
    --------
    >>> import zarrlayered
    >>> arr = zarrlayered.create_array({}, shape=(1000,), chunks=(100,), dtype="i4")
    >>> zarrlayered.to_dask(arr, chunks=250).chunks
    ((200, 300, 200, 300),)
    """
    dask_array = _import_dask_array()
    normalize_chunks = _module("dask.array.core").normalize_chunks
    tokenize = _module("dask.base").tokenize

    previous = _unit_shape(array)
    requested = "auto" if chunks is None else chunks
    try:
        blocks = normalize_chunks(requested, array.shape, dtype=array.dtype, previous_chunks=previous)
    except (ValueError, NotImplementedError):  # "auto" cannot size object and variable-length elements
        if chunks is not None:
            raise
        blocks = normalize_chunks(previous, array.shape)
    if align:
        blocks = _align(blocks, array)
    if name is None:
        name = f"zarrlayered-{tokenize(_identity(array), blocks)}"
    meta = np.empty((0,) * array.ndim, dtype=array.dtype)
    result: dask.array.Array = dask_array.from_array(array, chunks=blocks, name=name, lock=False, fancy=False,
                                                     meta=meta)
    return result


# -- writing -----------------------------------------------------------------------------------------
def _write_block(
    block: np.ndarray[Any, Any], block_info: Mapping[Any, Any] | None = None, target: Array | None = None
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Write one Dask block into ``target`` where it belongs; returns its byte count (shape ``(1,) * ndim``)."""
    assert block_info is not None and target is not None
    region = tuple(slice(start, stop) for start, stop in block_info[0]["array-location"])
    target[region] = block
    return np.full((1,) * block.ndim, block.nbytes, dtype=np.int64)


def _distributed_client() -> Any:
    """The ``dask.distributed`` client Dask computes with by default, or None."""
    client = getattr(_module("dask.base").get_scheduler(), "__self__", None)
    return client if type(client).__module__.startswith("distributed.") else None


def _runs_in_other_processes() -> bool:
    """Whether the default Dask scheduler runs tasks in other processes (distributed or multiprocessing)."""
    scheduler = _module("dask.base").get_scheduler()
    return _distributed_client() is not None or scheduler is _module("dask.multiprocessing").get


def _check_shared(target: Array) -> None:
    """Refuse to write, from other processes, to a store that lives in this one (they would write to copies)."""
    from zarrlayered.stores import MappingStore, MemoryStore
    from zarrlayered.stores.wrapper import WrapperStore

    store = target.store
    while isinstance(store, WrapperStore):
        store = store.store
    in_memory = isinstance(store, MemoryStore) or (isinstance(store, MappingStore) and type(store.mapping) is dict)
    if in_memory and _runs_in_other_processes():
        raise ValueError(
            f"cannot write to {target.store!r} from Dask workers in other processes: it lives in this process "
            "and each worker would write to its own copy; write to a store over a path or URL (a directory, "
            "LocalStore, FsspecStore) or compute with the threaded scheduler"
        )


def _compute(written: Any, bar: ProgressBar, show: bool) -> None:
    """Run the write tasks; with ``show``, advance ``bar`` by each block's bytes as it is written."""
    if not show:
        written.compute()
        return
    client = _distributed_client()
    if client is not None:
        distributed = _module("distributed")
        persisted = client.persist(written)
        for future in distributed.as_completed(distributed.futures_of(persisted)):
            bar.update(int(np.asarray(future.result()).sum()))
        return
    def posttask(key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        if isinstance(key, tuple) and key and key[0] == written.name:
            bar.update(int(np.asarray(result).sum()))

    with _module("dask.callbacks").Callback(posttask=posttask):
        written.compute()


def _describe_unit(target: Array) -> str:
    if target.shards is not None:
        return f"shards {tuple(target.shards)}"
    return f"chunks {target.chunks}"


def _store_blocks(x: Any, target: Array, *, synchronizer: Any, progress: bool | None) -> None:
    """Write the Dask array ``x`` into ``target`` (same shape), one task per block, aligning blocks first.

    Blocks that straddle ``target``'s write units (shards, else chunks) are rechunked to the nearest
    aligned boundaries, with a :class:`DaskAlignmentWarning`, unless ``synchronizer`` is not None (the
    array then serializes the writes that share a chunk). ``progress`` as in :func:`from_dask`.
    """
    if tuple(x.shape) != tuple(target.shape):
        raise ValueError(f"cannot write a Dask array of shape {x.shape} into {target!r} of shape {target.shape}")
    edges = storage_edges(target)
    if synchronizer is None and not all(_is_aligned(s, e) for s, e in zip(x.chunks, edges, strict=True)):
        aligned = _align(x.chunks, target)
        message = (
            f"the Dask blocks of {x.name!r} straddle the {_describe_unit(target)} of {target!r}, so two tasks "
            f"would write one chunk; rechunking to whole {_describe_unit(target).split()[0]} first (choose Dask "
            "chunks that are multiples of them, or pass synchronizer=, to avoid this)"
        )
        warnings.warn(message, DaskAlignmentWarning, stacklevel=3)  # at the caller of from_dask
        x = x.rechunk(aligned)
    _check_shared(target)
    if x.size == 0:
        return
    if x.ndim == 0:
        target[()] = np.asarray(x.compute())
        return
    written = x.map_blocks(
        _write_block, target=target, dtype=np.int64, chunks=tuple((1,) * n for n in x.numblocks),
        name=f"zarrlayered-store-{uuid.uuid4().hex}", meta=np.empty((0,) * x.ndim, dtype=np.int64),
    )
    show = progress_enabled(progress)
    with progress_bar(int(x.nbytes), "write", show) as bar:
        _compute(written, bar, show)


def from_dask(
    x: dask.array.Array,
    store: Any,
    path: str | None = None,
    *,
    zarr_format: Literal[2, 3] | None = None,
    chunks: Any = None,
    synchronizer: Any = None,
    progress: bool | None = None,
    **create_kwargs: Any,
) -> Array:
    """Create an array in ``store`` at ``path`` and write the Dask array ``x`` into it, block by block in parallel.

    Parameters
    ----------
    x
        The Dask array (known chunk sizes; call ``x.compute_chunk_sizes()`` first otherwise).
    store
        Where to write: a path, URL, Store or mapping, as for :func:`zarrlayered.create_array`. Writing from
        worker processes (``dask.distributed``, the ``processes`` scheduler) needs a store every worker can
        reach (a directory, a URL); an in-memory store is refused there.
    path
        The array's path inside the store (None: the store's root).
    zarr_format
        2 or 3 (None: the default format).
    chunks
        The storage chunks. None uses the Dask block shape (``x.chunksize``), so regular Dask chunks are
        written as they are; with ``shards=`` in ``create_kwargs``, None lets :func:`create_array` choose.
    synchronizer
        zarr-python 2's synchronizer (e.g. :class:`~zarrlayered.compat.synchronizers.ProcessSynchronizer`
        for worker processes): with one, blocks that straddle chunks are written as they are, under the
        chunk locks; without one they are rechunked first, with a :class:`DaskAlignmentWarning`.
    progress
        A tqdm bar over the bytes written (True), none (False), or one when the session is interactive
        (None: standard error is a terminal, or a Jupyter kernel).
    **create_kwargs
        Passed to :func:`zarrlayered.create_array` (``shards``, ``compressors``, ``fill_value``,
        ``attributes``, ``dimension_names``, ``overwrite``, ...).

    Returns
    -------
    Array
        The new array, holding ``x``.

    Raises
    ------
    ImportError
        When Dask is not installed.
    TypeError
        When ``x`` is not a Dask array.
    ValueError
        When ``x`` has unknown chunk sizes, or the store lives in this process and the scheduler runs
        tasks in others.
    """
    dask_array = _import_dask_array()
    import zarrlayered

    if not isinstance(x, dask_array.Array):
        raise TypeError(f"from_dask writes a dask.array.Array, got {type(x).__name__}; use create_array(data=...)")
    if any(np.isnan(size) for sizes in x.chunks for size in sizes):
        raise ValueError(f"the Dask array {x.name!r} has unknown chunk sizes; call x.compute_chunk_sizes() first")
    if chunks is None:
        chunks = "auto" if create_kwargs.get("shards") is not None else tuple(max(1, int(c)) for c in x.chunksize)
    if synchronizer is not None:
        create_kwargs["synchronizer"] = synchronizer
    target: Array = zarrlayered.create_array(store, name=path, shape=x.shape, dtype=x.dtype, chunks=chunks,
                                             zarr_format=zarr_format, **create_kwargs)
    _store_blocks(x, target, synchronizer=synchronizer, progress=progress)
    return target

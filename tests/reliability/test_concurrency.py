"""Concurrent writers lose nothing: processes on disjoint regions, threads on the same chunks, and
processes on the same chunks when they share a ProcessSynchronizer.

What happens *without* a synchronizer when processes write parts of the same chunk: each partial write
reads the chunk, merges its values in and writes the whole chunk back, so when two processes do that to
one chunk at the same time the later write replaces the earlier one and its values are lost (the last
writer of the chunk wins). Nothing is ever corrupted, though: a LocalStore write is atomic, so every chunk
stays one complete, readable version (``test_overlapping_processes_without_a_synchronizer_never_tear``).
Inside one process no synchronizer is needed: the engine locks each chunk (and shard) it read-merge-writes.

tests/compat/test_synchronizers.py covers the Zarr V2 ProcessSynchronizer case and the ThreadSynchronizer;
this file adds Zarr V3, sharded arrays, the engine's own lock and the case without a synchronizer.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Any

import concurrency_workers as workers
import numpy as np
import pytest

import zarrlayered
from zarrlayered.stores import LocalStore, MemoryStore

LAYOUTS = {
    # name: (zarr_format, chunks, shards)
    "v3-chunked": (3, (25, 16), None),
    "v3-sharded": (3, (5, 8), (25, 16)),
    "v2-chunked": (2, (25, 16), None),
}


def _create(path: str, shape: tuple[int, ...], layout: str) -> None:
    zarr_format, chunks, shards = LAYOUTS[layout]
    zarrlayered.create_array(path, shape=shape, chunks=chunks, shards=shards, dtype="<i8", fill_value=0,
                             zarr_format=zarr_format)


def _run(ctx: ForkServerContext, target: Any, arguments: list[tuple[Any, ...]]) -> list[Any]:
    with ctx.Pool(len(arguments)) as pool:
        return pool.starmap(target, arguments)


# -- processes -------------------------------------------------------------------------------------------------
@pytest.mark.timeout(120)
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_processes_writing_disjoint_aligned_regions_lose_nothing(
    ctx: ForkServerContext, tmp_path: Path, layout: str
) -> None:
    path, shape = str(tmp_path / "data.zarr"), (400, 32)
    _create(path, shape, layout)
    # 4 writers, 100 rows each, written 25 rows (one row of chunks or shards) at a time
    done = _run(ctx, workers.write_rows, [(path, w * 100, (w + 1) * 100, 25) for w in range(workers.WRITERS)])
    assert sorted(done) == [0, 100, 200, 300]
    np.testing.assert_array_equal(zarrlayered.open_array(path, mode="r")[:], workers.expected(shape))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("layout", ["v3-chunked", "v3-sharded"])
def test_processes_writing_the_same_chunks_with_a_process_synchronizer(
    ctx: ForkServerContext, tmp_path: Path, layout: str
) -> None:
    path, shape = str(tmp_path / "data.zarr"), (workers.STRIDE * 40,)
    zarr_format, _, shards = LAYOUTS[layout]
    zarrlayered.create_array(path, shape=shape, chunks=(40,), shards=None if shards is None else (160,),
                             dtype="<i8", fill_value=0, zarr_format=zarr_format)
    locks = tmp_path / "locks"
    done = _run(ctx, workers.write_strided, [(path, str(locks), w) for w in range(workers.WRITERS)])
    assert sorted(done) == list(range(workers.WRITERS))
    np.testing.assert_array_equal(zarrlayered.open_array(path, mode="r")[:], workers.expected(shape))
    # the lock files name the keys that were read-merge-written: shards for a sharded array
    assert {p.name for p in (locks / "c").iterdir()} == {str(i) for i in range(shape[0] // (160 if shards else 40))}


@pytest.mark.timeout(120)
def test_overlapping_processes_without_a_synchronizer_never_tear(ctx: ForkServerContext, tmp_path: Path) -> None:
    """Updates may be lost (the last writer of a chunk wins), but every chunk stays whole and readable and
    every element holds either its new value or the fill value: never a torn or foreign value."""
    path, shape = str(tmp_path / "data.zarr"), (workers.STRIDE * 40,)
    zarrlayered.create_array(path, shape=shape, chunks=(40,), dtype="<i8", fill_value=0)
    _run(ctx, workers.write_strided, [(path, None, w) for w in range(workers.WRITERS)])
    got = zarrlayered.open_array(path, mode="r")[:]
    full = workers.expected(shape)
    assert np.all((got == full) | (got == 0))


# -- threads -------------------------------------------------------------------------------------------------
THREADS = 8
THREAD_ROUNDS = 5


@pytest.mark.timeout(120)
@pytest.mark.parametrize("store_kind", ["local", "memory"])
@pytest.mark.parametrize("shards", [None, (160,)], ids=["chunked", "sharded"])
def test_threads_writing_parts_of_the_same_chunks_lose_nothing(
    tmp_path: Path, store_kind: str, shards: tuple[int] | None
) -> None:
    """8 threads, one Array, no synchronizer: every write touches part of every chunk (and shard)."""
    store = LocalStore(tmp_path / "t.zarr") if store_kind == "local" else MemoryStore()
    stride = THREADS * THREAD_ROUNDS
    shape = (stride * 16,)
    arr = zarrlayered.create_array(store, shape=shape, chunks=(40,), shards=shards, dtype="<i8", fill_value=0)
    full = workers.expected(shape)

    def writer(t: int) -> None:
        for r in range(THREAD_ROUNDS):
            first = t * THREAD_ROUNDS + r
            arr[first::stride] = full[first::stride]

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(writer, range(THREADS)))
    np.testing.assert_array_equal(arr[:], full)
    np.testing.assert_array_equal(zarrlayered.open_array(store, mode="r")[:], full)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("shards", [None, (4, 32)], ids=["chunked", "sharded"])
def test_threads_writing_single_elements_of_one_chunk_lose_nothing(shards: tuple[int, int] | None) -> None:
    """The tightest case: 8 threads each set single elements of the same 2-d chunk, over and over."""
    shape = (8, 32)
    arr = zarrlayered.create_array(MemoryStore(), shape=shape, chunks=(4, 8) if shards else shape, shards=shards,
                                   dtype="<i8", fill_value=0)
    full = workers.expected(shape)

    def writer(row: int) -> None:
        for col in range(shape[1]):
            arr[row, col] = full[row, col]

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(writer, range(THREADS)))
    np.testing.assert_array_equal(arr[:], full)

"""Peak memory of reads from a sharded array, traced with tracemalloc (numpy arrays and bytes alike).

Whatever the indexing style, a read peaks at no more than 1.5x the result plus one shard, plus the
buffers of the inner chunks being decoded (about two inner chunks per worker thread). zarr-python 3
peaks at 14x (oindex) to 28x (vindex) the result on the same kind of read (benchmarks/memory.py).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import zarrlayered
from zarrlayered.core.sync import executor, sync
from zarrlayered.stores import MemoryStore

SHAPE = (4, 1024, 1024)
INNER = (1, 128, 128)  # 64 KiB: big enough to be decoded in the worker pool
SHARDS = (1, 512, 512)  # 1 MiB, 16 inner chunks
ITEMSIZE = 4
SHARD_NBYTES = 512 * 512 * ITEMSIZE
INNER_NBYTES = 128 * 128 * ITEMSIZE

_rng = np.random.default_rng(2)
SELECTIONS: dict[str, tuple[str, Any]] = {
    "basic": ("getitem", (slice(1, 3),)),
    "oindex": ("orthogonal", ([1, 2], slice(None), slice(None))),
    "vindex": ("vindex", np.ix_([1, 2], np.arange(1024), np.arange(1024))),
    "list": ("getitem", ([1, 2],)),
    "strided": ("getitem", (slice(None), slice(None, None, 100), slice(None, None, 100))),
    "points": ("vindex", tuple(_rng.integers(0, n, 500) for n in SHAPE)),
}


@pytest.fixture(scope="module")
def array() -> Iterator[zarrlayered.Array]:
    arr = zarrlayered.create_array(MemoryStore(), shape=SHAPE, chunks=INNER, shards=SHARDS, dtype="f4")
    arr[...] = np.random.default_rng(0).standard_normal(SHAPE, dtype=np.float32)  # incompressible: worst case
    yield arr


def _traced_peak(read: Any) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        out = read()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("path", ["sync", "async"])
@pytest.mark.parametrize("name", list(SELECTIONS))
def test_a_read_peaks_under_one_and_a_half_results_plus_one_shard(
    array: zarrlayered.Array, name: str, path: str
) -> None:
    kind, selection = SELECTIONS[name]
    engine = array.async_array
    expected = engine.get_selection_sync(selection, kind)  # also warms caches up
    if path == "sync":
        got, peak = _traced_peak(lambda: engine.get_selection_sync(selection, kind))
    else:
        got, peak = _traced_peak(lambda: sync(engine.get_selection(selection, kind)))
    np.testing.assert_array_equal(got, expected)
    workers = executor()._max_workers
    bound = 1.5 * got.nbytes + SHARD_NBYTES + 2 * workers * INNER_NBYTES
    assert peak <= bound, f"{name} ({path}): peak {peak} bytes for a {got.nbytes}-byte result, bound {bound:.0f}"
    assert peak >= got.nbytes  # the measure sees the result itself


def test_the_selection_styles_cost_the_same(array: zarrlayered.Array) -> None:
    engine = array.async_array
    peaks = {}
    for name in ("basic", "oindex", "vindex", "list"):
        kind, selection = SELECTIONS[name]
        _, peaks[name] = _traced_peak(lambda kind=kind, selection=selection: engine.get_selection_sync(selection, kind))
    assert max(peaks.values()) <= 1.1 * min(peaks.values()), peaks

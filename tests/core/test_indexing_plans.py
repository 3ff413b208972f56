"""Big plans are built with numpy over whole axes: checked by their results and by memory, never by timings
(timings live in ``make bench``)."""

from __future__ import annotations

import tracemalloc

import numpy as np

from zarrlayered.core.chunk_grids import RectilinearChunkGrid, RegularChunkGrid
from zarrlayered.core.indexing import BasicIndexer, CoordinateIndexer, OrthogonalIndexer
from zarrlayered.core.indexing.indexers import _stable_argsort


def test_10k_chunk_basic_plan() -> None:
    grid = RegularChunkGrid((10, 10))
    shape = (1000, 1000)
    plan = list(BasicIndexer(slice(None), shape, grid))
    assert len(plan) == 10_000
    assert all(p.is_complete_chunk for p in plan)
    assert plan[-1].chunk_coords == (99, 99)
    assert plan[-1].out_selection == (slice(990, 1000), slice(990, 1000))


def test_10k_chunk_rectilinear_plan() -> None:
    edges = tuple(int(e) for e in np.random.default_rng(0).integers(5, 15, 100))
    grid = RectilinearChunkGrid((edges, edges))
    shape = (sum(edges), sum(edges))
    plan = list(BasicIndexer(slice(None), shape, grid))
    assert len(plan) == 10_000
    assert plan[-1].out_selection == (slice(shape[0] - edges[-1], shape[0]), slice(shape[1] - edges[-1], shape[1]))


def test_1e5_points_grouped_by_chunk() -> None:
    rng = np.random.default_rng(1)
    shape = (1000, 1000)
    grid = RegularChunkGrid((10, 10))
    rows, cols = rng.integers(0, 1000, 100_000), rng.integers(0, 1000, 100_000)
    data = np.arange(1_000_000, dtype=np.int64).reshape(shape)
    ix = CoordinateIndexer((rows, cols), shape, grid)
    out = np.empty(ix.shape, dtype=np.int64)
    for p in ix:  # chunk (r, c) holds data[10r:10r+10, 10c:10c+10]
        r, c = p.chunk_coords
        out[p.out_selection] = data[10 * r : 10 * r + 10, 10 * c : 10 * c + 10][p.chunk_selection]
    np.testing.assert_array_equal(out, data[rows, cols])
    assert ix.nchunks_touched == len({(int(a) // 10, int(b) // 10) for a, b in zip(rows, cols, strict=True)})


def test_orthogonal_unsorted_plan() -> None:
    rng = np.random.default_rng(2)
    sel = (rng.integers(0, 1000, 1000), rng.integers(0, 1000, 1000))
    grid = RegularChunkGrid((10, 10))
    data = np.arange(1_000_000, dtype=np.int64).reshape(1000, 1000)
    ix = OrthogonalIndexer(sel, (1000, 1000), grid)
    assert ix.nchunks_touched == 10_000
    out = np.empty(ix.shape, dtype=np.int64)
    for p in ix:
        r, c = p.chunk_coords
        out[p.out_selection] = data[10 * r : 10 * r + 10, 10 * c : 10 * c + 10][p.chunk_selection]
    np.testing.assert_array_equal(out, data[np.ix_(*sel)])


def test_huge_sparse_array_does_not_materialize_edges() -> None:
    grid = RegularChunkGrid((1000, 1))
    shape = (10**15, 10**12)
    tracemalloc.start()
    try:
        plan = list(BasicIndexer((-1, slice(10**12 - 3, None, 2)), shape, grid))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # no array of 10**12 edges or chunk numbers was built
    assert [p.chunk_coords for p in plan] == [(10**12 - 1, 10**12 - 3), (10**12 - 1, 10**12 - 1)]
    big_step = BasicIndexer(slice(5, None, 10**8), (10**12,), RegularChunkGrid((1,)))
    assert big_step.shape == (10_000,)
    assert big_step.nchunks_touched == 10_000


def test_radix_argsort_matches_numpy_stable_sort() -> None:
    rng = np.random.default_rng(3)
    for top in (3, 60_000, 2**20, 2**35, 2**50):
        keys = rng.integers(0, top, 20_000)
        np.testing.assert_array_equal(_stable_argsort(keys), np.argsort(keys, kind="stable"))

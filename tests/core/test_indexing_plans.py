"""Planning cost: big plans are built with numpy, not per-element Python loops."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from zarrlayered.core.chunk_grids import RectilinearChunkGrid, RegularChunkGrid
from zarrlayered.core.indexing import BasicIndexer, CoordinateIndexer, OrthogonalIndexer
from zarrlayered.core.indexing.indexers import _stable_argsort


def best_of(n: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def test_10k_chunk_basic_plan_under_50ms() -> None:
    grid = RegularChunkGrid((10, 10))
    shape = (1000, 1000)
    plan = list(BasicIndexer(slice(None), shape, grid))
    assert len(plan) == 10_000
    assert all(p.is_complete_chunk for p in plan)
    assert plan[-1].chunk_coords == (99, 99)
    assert plan[-1].out_selection == (slice(990, 1000), slice(990, 1000))
    assert best_of(3, lambda: list(BasicIndexer(slice(None), shape, grid))) < 0.05


def test_10k_chunk_rectilinear_plan_under_50ms() -> None:
    edges = tuple(int(e) for e in np.random.default_rng(0).integers(5, 15, 100))
    grid = RectilinearChunkGrid((edges, edges))
    shape = (sum(edges), sum(edges))
    assert len(list(BasicIndexer(slice(None), shape, grid))) == 10_000
    assert best_of(3, lambda: list(BasicIndexer(slice(None), shape, grid))) < 0.05


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
    assert best_of(3, lambda: list(CoordinateIndexer((rows, cols), shape, grid))) < 0.25


def test_orthogonal_unsorted_plan_is_fast() -> None:
    rng = np.random.default_rng(2)
    sel = (rng.integers(0, 1000, 1000), rng.integers(0, 1000, 1000))
    grid = RegularChunkGrid((10, 10))
    assert OrthogonalIndexer(sel, (1000, 1000), grid).nchunks_touched == 10_000
    assert best_of(3, lambda: list(OrthogonalIndexer(sel, (1000, 1000), grid))) < 0.2


def test_huge_sparse_array_does_not_materialize_edges() -> None:
    grid = RegularChunkGrid((1000, 1))
    shape = (10**15, 10**12)
    elapsed = best_of(1, lambda: list(BasicIndexer((-1, slice(10**12 - 3, None, 2)), shape, grid)))
    assert elapsed < 0.05
    plan = list(BasicIndexer((-1, slice(10**12 - 3, None, 2)), shape, grid))
    assert [p.chunk_coords for p in plan] == [(10**12 - 1, 10**12 - 3), (10**12 - 1, 10**12 - 1)]
    big_step = BasicIndexer(slice(5, None, 10**8), (10**12,), RegularChunkGrid((1,)))
    assert big_step.shape == (10_000,)
    assert big_step.nchunks_touched == 10_000


def test_radix_argsort_matches_numpy_stable_sort() -> None:
    rng = np.random.default_rng(3)
    for top in (3, 60_000, 2**20, 2**35, 2**50):
        keys = rng.integers(0, top, 20_000)
        np.testing.assert_array_equal(_stable_argsort(keys), np.argsort(keys, kind="stable"))

"""Indexing against numpy: store a random array as chunks, run selections through the projections.

The harness keeps an array as a dict ``coords -> chunk`` (each chunk of the grid's stored shape, edge
chunks padded with -1), assembles reads through the projections and applies writes through them, then
compares with numpy's answer for the same selection on the plain array.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from zarrlayered.core.chunk_grids import ChunkGrid, RectilinearChunkGrid, RegularChunkGrid
from zarrlayered.core.indexing import (
    BasicIndexer,
    BlockIndexer,
    CoordinateIndexer,
    Indexer,
    MaskIndexer,
    OrthogonalIndexer,
    get_indexer,
    parse_getitem_selection,
)

PAD = -1
SETTINGS = settings(
    max_examples=int(os.environ.get("ZL_HYPOTHESIS_EXAMPLES", "120")),
    deadline=None,
    derandomize="ZL_HYPOTHESIS_EXAMPLES" not in os.environ,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# ----------------------------------------------------------------------------------------------- harness


def make_data(shape: tuple[int, ...]) -> np.ndarray:
    return (np.arange(math.prod(shape), dtype=np.int64) * 3 + 1).reshape(shape)


def region_in_chunk(grid: ChunkGrid, coords: tuple[int, ...], shape: tuple[int, ...]) -> tuple[slice, ...]:
    return tuple(slice(0, r.stop - r.start) for r in grid.chunk_region(coords, shape))


def store(data: np.ndarray, grid: ChunkGrid) -> dict[tuple[int, ...], np.ndarray]:
    chunks = {}
    for coords in grid.all_chunk_coords(data.shape):
        chunk = np.full(grid.chunk_shape_at(coords, data.shape), PAD, dtype=data.dtype)
        chunk[region_in_chunk(grid, coords, data.shape)] = data[grid.chunk_region(coords, data.shape)]
        chunks[coords] = chunk
    return chunks


def assemble(chunks: dict[tuple[int, ...], np.ndarray], grid: ChunkGrid, shape: tuple[int, ...]) -> np.ndarray:
    out = np.empty(shape, dtype=np.int64)
    for coords in grid.all_chunk_coords(shape):
        chunk = chunks[coords]
        inner = region_in_chunk(grid, coords, shape)
        padding = np.ones(chunk.shape, dtype=bool)
        padding[inner] = False
        assert (chunk[padding] == PAD).all(), "a write touched the padding of an edge chunk"
        out[grid.chunk_region(coords, shape)] = chunk[inner]
    return out


def truly_complete(chunk_shape: tuple[int, ...], inner: tuple[slice, ...], chunk_sel: tuple[Any, ...]) -> bool:
    """Whether chunk_sel enumerates exactly the in-array region of the chunk, each element once, in C order."""
    ids = np.arange(math.prod(chunk_shape)).reshape(chunk_shape)
    return np.array_equal(np.ravel(ids[chunk_sel]), ids[inner].ravel())


def check_plan(ix: Indexer, grid: ChunkGrid, shape: tuple[int, ...], exact_complete: bool = True) -> list[Any]:
    projections = list(ix)
    coords = [p.chunk_coords for p in projections]
    assert len(set(coords)) == len(coords), "a chunk appears twice in the plan"
    assert len(projections) == ix.nchunks_touched
    for p in projections:
        chunk_shape = grid.chunk_shape_at(p.chunk_coords, shape)
        truth = truly_complete(chunk_shape, region_in_chunk(grid, p.chunk_coords, shape), p.chunk_selection)
        if exact_complete:
            assert p.is_complete_chunk == truth, p
        elif p.is_complete_chunk:
            assert truth, p
    return projections


def read(ix: Indexer, chunks: dict[tuple[int, ...], np.ndarray], grid: ChunkGrid, shape: tuple[int, ...]) -> np.ndarray:
    out = np.full(ix.shape, -9, dtype=np.int64)
    for p in check_plan(ix, grid, shape, exact_complete=not isinstance(ix, CoordinateIndexer)):
        out[p.out_selection] = chunks[p.chunk_coords][p.chunk_selection]
    return out


def write(
    ix: Indexer, chunks: dict[tuple[int, ...], np.ndarray], grid: ChunkGrid, shape: tuple[int, ...], value: np.ndarray
) -> np.ndarray:
    for p in check_plan(ix, grid, shape, exact_complete=not isinstance(ix, CoordinateIndexer)):
        chunk = chunks[p.chunk_coords]
        if p.is_complete_chunk:  # build the chunk from the values alone, as an engine may
            chunk = np.full(chunk.shape, PAD, dtype=chunk.dtype)
            chunk[region_in_chunk(grid, p.chunk_coords, shape)] = -5
        chunk[p.chunk_selection] = value[p.out_selection]
        assert not (chunk == -5).any()
        chunks[p.chunk_coords] = chunk
    return assemble(chunks, grid, shape)


def roundtrip(ix: Indexer, data: np.ndarray, grid: ChunkGrid, expected_read: np.ndarray) -> np.ndarray:
    """Check a read against numpy; return a value for a write test."""
    chunks = store(data, grid)
    assert np.array_equal(assemble(chunks, grid, data.shape), data)
    assert ix.shape == expected_read.shape
    got = read(ix, chunks, grid, data.shape)
    np.testing.assert_array_equal(got, expected_read)
    return -np.arange(math.prod(ix.shape), dtype=np.int64).reshape(ix.shape) - 10


# ----------------------------------------------------------------------------------------------- strategies


@st.composite
def grids(draw: st.DrawFn, min_ndim: int = 0, max_ndim: int = 3) -> tuple[tuple[int, ...], ChunkGrid]:
    ndim = draw(st.integers(min_ndim, max_ndim))
    shape = tuple(draw(st.integers(0, 9)) for _ in range(ndim))
    if draw(st.booleans()):
        return shape, RegularChunkGrid(tuple(draw(st.integers(1, 5)) for _ in shape))
    axes = []
    for length in shape:
        if draw(st.integers(0, 3)) == 0:
            axes.append((draw(st.integers(1, 4)),))
            continue
        target = length + draw(st.integers(0, 4))  # edges may overflow the axis
        edges: list[int] = []
        while sum(edges) < target or not edges:
            edges.append(draw(st.integers(1, 4)))
        axes.append(tuple(edges))
    return shape, RectilinearChunkGrid(tuple(axes))


def nonzero_shape(case: tuple[tuple[int, ...], ChunkGrid]) -> bool:
    return all(case[0])


def slices(length: int) -> st.SearchStrategy[slice]:
    bound = st.none() | st.integers(-length - 3, length + 3)
    step = st.none() | st.integers(-4, 4).filter(bool)
    return st.builds(slice, bound, bound, step)


def ints(length: int) -> st.SearchStrategy[int]:
    return st.integers(-length, length - 1)


@st.composite
def basic_selections(draw: st.DrawFn, shape: tuple[int, ...]) -> Any:
    entries: list[Any] = [draw(ints(n) | slices(n)) if n else draw(slices(n)) for n in shape]
    form = draw(st.integers(0, 3))
    if form == 1 and entries:  # trailing axes omitted
        entries = entries[: draw(st.integers(0, len(entries)))]
    elif form == 2:  # an Ellipsis standing for a run of full slices
        a = draw(st.integers(0, len(entries)))
        b = draw(st.integers(a, len(entries)))
        entries = [*entries[:a], Ellipsis, *entries[b:]]
    if len(entries) == 1 and draw(st.booleans()):
        return entries[0]
    return tuple(entries)


@st.composite
def orthogonal_selections(draw: st.DrawFn, shape: tuple[int, ...], unique: bool = False) -> tuple[Any, ...]:
    entries: list[Any] = []
    for n in shape:
        choice = draw(st.integers(0, 3))
        if choice == 0 and n:
            entries.append(draw(ints(n)))
        elif choice == 1:
            entries.append(draw(slices(n)))
        elif choice == 2:
            values = draw(st.lists(st.integers(0, n - 1), max_size=7, unique=unique)) if n else []
            values = [v - n if draw(st.booleans()) else v for v in values]  # some negative
            entries.append(np.array(values, dtype=np.int64) if draw(st.booleans()) else values)
        else:
            entries.append(draw(hnp.arrays(bool, (n,))))
    return tuple(entries)


def ref_orthogonal(
    shape: tuple[int, ...], selection: tuple[Any, ...]
) -> tuple[tuple[np.ndarray, ...], tuple[int, ...]]:
    """The np.ix_ index of an orthogonal selection and the axes integers drop."""
    index, drop = [], []
    for axis, (n, entry) in enumerate(zip(shape, selection, strict=True)):
        if isinstance(entry, int):
            index.append(np.array([entry % n]))
            drop.append(axis)
        elif isinstance(entry, slice):
            index.append(np.arange(n)[entry])
        else:
            array = np.asarray(entry)
            index.append(np.flatnonzero(array) if array.dtype == bool else array.astype(np.int64))
    return np.ix_(*index), tuple(drop)


@st.composite
def coordinate_selections(
    draw: st.DrawFn, shape: tuple[int, ...], unique: bool = False, with_slices: bool = True
) -> tuple[Any, ...]:
    if unique:
        bshape: tuple[int, ...] = (draw(st.integers(0, 12)),)
    else:
        bshape = tuple(draw(st.lists(st.integers(0, 4), max_size=2)))
    if any(n == 0 for n in shape):
        bshape = (0, *bshape[1:]) if bshape else (0,)
    entries: list[Any] = []
    for n in shape:
        if with_slices and draw(st.integers(0, 4)) == 0:
            entries.append(draw(slices(n)))
            continue
        if n == 0:
            entries.append(np.zeros(bshape, dtype=np.int64))
            continue
        variant = bshape if draw(st.booleans()) or not bshape else (1,) * len(bshape)
        entries.append(draw(hnp.arrays(np.int64, variant, elements=st.integers(-n, n - 1))))
    if unique and entries:
        # keep the first occurrence of each point, in the original order
        arrays = [
            (i, np.broadcast_to(e, bshape) % max(shape[i], 1))
            for i, e in enumerate(entries)
            if not isinstance(e, slice)
        ]
        if arrays:
            flat = np.ravel_multi_index(tuple(a for _, a in arrays), tuple(max(shape[i], 1) for i, _ in arrays))
            _, first = np.unique(flat, return_index=True)
            keep = np.sort(first)
            for i, a in arrays:
                entries[i] = a[keep]
    return tuple(entries)


def has_arrays(selection: tuple[Any, ...]) -> bool:
    return any(isinstance(e, np.ndarray) for e in selection)


# ----------------------------------------------------------------------------------------------- basic


@SETTINGS
@given(st.data(), grids())
def test_basic_read_write(data: st.DataObject, case: tuple[tuple[int, ...], ChunkGrid]) -> None:
    shape, grid = case
    sel = data.draw(basic_selections(shape))
    array = make_data(shape)
    ix = BasicIndexer(sel, shape, grid)
    value = roundtrip(ix, array, grid, np.asarray(array[sel]))
    expected = array.copy()
    expected[sel] = value
    np.testing.assert_array_equal(write(ix, store(array, grid), grid, shape, value), expected)


def test_basic_negative_steps_regular_and_rectilinear() -> None:
    array = make_data((23, 7))
    for grid in (RegularChunkGrid((4, 3)), RectilinearChunkGrid(((1, 5, 2, 9, 6, 4), (2, 2, 3)))):
        chunks = store(array, grid)
        for sel in (np.s_[::-1], np.s_[10:2:-3], np.s_[::-7, ::-2], np.s_[-1:-24:-5, 5:0:-1], np.s_[3:3:-1]):
            ix = BasicIndexer(sel, array.shape, grid)
            np.testing.assert_array_equal(read(ix, chunks, grid, array.shape), array[sel])


def test_basic_big_step_uses_few_chunks() -> None:
    ix = BasicIndexer(slice(5, None, 1000), (10**7,), RegularChunkGrid((1,)))
    assert ix.shape == (10_000,)
    assert ix.nchunks_touched == 10_000
    first = next(iter(ix))
    assert first.chunk_coords == (5,)
    assert first.chunk_selection == (slice(0, 1, 1000),)


def test_zero_dim_array() -> None:
    array = np.array(42, dtype=np.int64)
    grid = RegularChunkGrid(())
    chunks = store(array, grid)
    for sel in ((), Ellipsis, (Ellipsis,)):
        ix = BasicIndexer(sel, (), grid)
        assert ix.shape == ()
        assert ix.drop_axes == ()
        (p,) = list(ix)
        assert p.chunk_coords == ()
        assert p.is_complete_chunk
        np.testing.assert_array_equal(read(ix, chunks, grid, ()), array)
        np.testing.assert_array_equal(write(ix, store(array, grid), grid, (), np.array(-3)), np.array(-3))
    assert OrthogonalIndexer((), (), grid).shape == ()
    assert CoordinateIndexer((), (), grid).shape == ()
    with pytest.raises(IndexError, match="too many indices"):
        BasicIndexer(0, (), grid)
    with pytest.raises(IndexError, match="boolean array of the array's shape"):
        MaskIndexer(np.array(True), (), grid)


def test_empty_selections() -> None:
    grid = RegularChunkGrid((3, 3))
    for sel, shape in ((np.s_[5:2], (10, 4)), (np.s_[:, 4:], (10, 4)), (np.s_[:], (0, 4))):
        ix = BasicIndexer(sel, shape, grid)
        assert ix.nchunks_touched == 0
        assert list(ix) == []
        assert ix.shape == np.empty(shape)[sel].shape
    ix2 = OrthogonalIndexer(([], slice(None)), (10, 4), grid)
    assert ix2.shape == (0, 4)
    assert list(ix2) == []
    ix3 = CoordinateIndexer((np.zeros((0, 2), dtype=int), np.zeros((0, 2), dtype=int)), (10, 4), grid)
    assert ix3.shape == (0, 2)
    assert list(ix3) == []
    ix4 = MaskIndexer(np.zeros((10, 4), dtype=bool), (10, 4), grid)
    assert ix4.shape == (0,)
    assert ix4.nchunks_touched == 0


def test_drop_axes_and_shape() -> None:
    ix = BasicIndexer((1, slice(None), -1), (4, 5, 6), RegularChunkGrid((2, 2, 2)))
    assert ix.shape == (5,)
    assert ix.drop_axes == (0, 2)
    p = next(iter(ix))
    assert p.chunk_coords == (0, 0, 2)
    assert p.chunk_selection == (1, slice(0, 2, 1), 1)
    assert p.out_selection == (slice(0, 2),)


# ----------------------------------------------------------------------------------------------- orthogonal


@SETTINGS
@given(st.data(), grids())
def test_orthogonal_read(data: st.DataObject, case: tuple[tuple[int, ...], ChunkGrid]) -> None:
    shape, grid = case
    sel = data.draw(orthogonal_selections(shape))
    array = make_data(shape)
    index, drop = ref_orthogonal(shape, sel)
    expected = np.squeeze(array[index], axis=drop) if shape else array
    roundtrip(OrthogonalIndexer(sel, shape, grid), array, grid, expected)


@SETTINGS
@given(st.data(), grids())
def test_orthogonal_write_unique(data: st.DataObject, case: tuple[tuple[int, ...], ChunkGrid]) -> None:
    shape, grid = case
    sel = data.draw(orthogonal_selections(shape, unique=True))
    array = make_data(shape)
    index, drop = ref_orthogonal(shape, sel)
    ix = OrthogonalIndexer(sel, shape, grid)
    value = -np.arange(math.prod(ix.shape), dtype=np.int64).reshape(ix.shape) - 10
    expected = array.copy()
    if shape:
        expected[index] = np.expand_dims(value, drop)
    else:
        expected[()] = value
    np.testing.assert_array_equal(write(ix, store(array, grid), grid, shape, value), expected)


def test_orthogonal_unsorted_repeated_and_mixed_ints() -> None:
    array = make_data((9, 8, 7))
    grid = RectilinearChunkGrid(((2, 3, 4), (3,), (1, 6)))
    chunks = store(array, grid)
    cases = [
        ([8, 0, 0, 4, 3], slice(None), [6, 0, 6]),
        (2, slice(1, 7, 2), [5, 1, 1]),  # int and array separated by a slice
        ([3, 1], 4, slice(None, None, -1)),
        (np.array([True, False] * 4 + [True]), [-1, 0], -2),
    ]
    for sel in cases:
        index, drop = ref_orthogonal(array.shape, sel)
        ix = OrthogonalIndexer(sel, array.shape, grid)
        np.testing.assert_array_equal(read(ix, chunks, grid, array.shape), np.squeeze(array[index], axis=drop))
        assert ix.drop_axes == drop


def test_orthogonal_two_unsorted_axes() -> None:
    # Both axes need index arrays on the output side: numpy must not zip them.
    array = make_data((5, 6))
    grid = RegularChunkGrid((2, 2))
    sel = ([3, 0, 3, 1], [2, 5, 0, 2])
    ix = OrthogonalIndexer(sel, array.shape, grid)
    assert any(sum(isinstance(o, np.ndarray) for o in p.out_selection) == 2 for p in ix)
    np.testing.assert_array_equal(read(ix, store(array, grid), grid, array.shape), array[np.ix_(*sel)])
    value = -np.arange(16).reshape(4, 4) - 10
    unique = ([3, 0, 1], [2, 5, 0])
    expected = array.copy()
    expected[np.ix_(*unique)] = value[:3, :3]
    got = write(OrthogonalIndexer(unique, array.shape, grid), store(array, grid), grid, array.shape, value[:3, :3])
    np.testing.assert_array_equal(got, expected)


def test_orthogonal_sorted_runs_become_slices() -> None:
    ix = OrthogonalIndexer(([0, 1, 2, 3, 4, 5],), (10,), RegularChunkGrid((4,)))
    projections = list(ix)
    assert [p.chunk_selection for p in projections] == [(slice(0, 4),), (slice(0, 2),)]
    assert [p.out_selection for p in projections] == [(slice(0, 4),), (slice(4, 6),)]
    assert [p.is_complete_chunk for p in projections] == [True, False]


def test_writes_with_repeated_indices_last_wins() -> None:
    grid = RegularChunkGrid((2,))
    array = make_data((6,))
    value = np.array([100, 200, 300, 400])
    for ix, sel in (
        (OrthogonalIndexer(([3, 1, 3, 1],), (6,), grid), [3, 1, 3, 1]),
        (CoordinateIndexer(([3, 1, 3, 1],), (6,), grid), [3, 1, 3, 1]),
    ):
        expected = array.copy()
        expected[sel] = value  # numpy: the last assignment to an element wins
        got = write(ix, store(array, grid), grid, (6,), value)
        np.testing.assert_array_equal(got, expected)
        assert got[3] == 300 and got[1] == 400


# ----------------------------------------------------------------------------------------------- coordinate / mask


@SETTINGS
@given(st.data(), grids(min_ndim=1))
def test_coordinate_read(data: st.DataObject, case: tuple[tuple[int, ...], ChunkGrid]) -> None:
    shape, grid = case
    sel = data.draw(coordinate_selections(shape))
    array = make_data(shape)
    roundtrip(CoordinateIndexer(sel, shape, grid), array, grid, np.asarray(array[sel]))


@SETTINGS
@given(st.data(), grids(min_ndim=1))
def test_coordinate_write_unique(data: st.DataObject, case: tuple[tuple[int, ...], ChunkGrid]) -> None:
    shape, grid = case
    sel = data.draw(coordinate_selections(shape, unique=True, with_slices=data.draw(st.booleans())))
    array = make_data(shape)
    ix = CoordinateIndexer(sel, shape, grid)
    value = -np.arange(math.prod(ix.shape), dtype=np.int64).reshape(ix.shape) - 10
    expected = array.copy()
    expected[sel] = value
    np.testing.assert_array_equal(write(ix, store(array, grid), grid, shape, value), expected)


@SETTINGS
@given(st.data(), grids(min_ndim=1))
def test_mask_read_write(data: st.DataObject, case: tuple[tuple[int, ...], ChunkGrid]) -> None:
    shape, grid = case
    mask = data.draw(hnp.arrays(bool, shape))
    array = make_data(shape)
    ix = MaskIndexer(mask, shape, grid)
    value = roundtrip(ix, array, grid, array[mask])
    expected = array.copy()
    expected[mask] = value
    np.testing.assert_array_equal(write(ix, store(array, grid), grid, shape, value), expected)
    # the same through a vindex-style coordinate selection of the mask
    np.testing.assert_array_equal(
        read(CoordinateIndexer((mask,), shape, grid), store(array, grid), grid, shape), array[mask]
    )


def test_coordinate_complete_chunk() -> None:
    grid = RegularChunkGrid((2, 2))
    shape = (3, 4)
    rows, cols = np.meshgrid(np.arange(3), np.arange(4), indexing="ij")
    ix = CoordinateIndexer((rows.ravel(), cols.ravel()), shape, grid)
    flags = {p.chunk_coords: p.is_complete_chunk for p in check_plan(ix, grid, shape, exact_complete=False)}
    assert flags == {(0, 0): True, (0, 1): True, (1, 0): True, (1, 1): True}
    reversed_ix = CoordinateIndexer((rows.ravel()[::-1], cols.ravel()[::-1]), shape, grid)
    assert not any(p.is_complete_chunk for p in reversed_ix)


def test_coordinate_with_slices_follows_numpy_axis_placement() -> None:
    array = make_data((5, 6, 7))
    grid = RectilinearChunkGrid(((2, 3), (4, 4), (3,)))
    chunks = store(array, grid)
    for sel in (
        (slice(None), [0, 5, 5], [6, 0, 1]),  # adjacent arrays: the broadcast axis stays in place
        ([0, 4], slice(1, None, 2), [6, 0]),  # separated: the broadcast axis goes first
        ([[0, 4], [1, 1]], slice(None, None, -1), 3),
    ):
        ix = CoordinateIndexer(sel, array.shape, grid)
        np.testing.assert_array_equal(read(ix, chunks, grid, array.shape), array[sel])
    array4 = make_data((3, 4, 5, 6))
    grid4 = RegularChunkGrid((2, 3, 2, 4))
    chunks = store(array4, grid4)
    for sel in (
        (slice(None), [0, 3, 1], slice(1, 4), [5, 0, 2]),  # separated after a leading slice: broadcast axis first
        (slice(None, None, -1), 2, slice(None), [5, 0]),
        (slice(1, None), [[0], [3]], [[1, 2]], slice(None, None, 2)),
    ):
        ix = CoordinateIndexer(sel, array4.shape, grid4)
        assert ix.shape == array4[sel].shape
        np.testing.assert_array_equal(read(ix, chunks, grid4, array4.shape), array4[sel])


# ----------------------------------------------------------------------------------------------- blocks


@st.composite
def block_selections(draw: st.DrawFn, grid_shape: tuple[int, ...]) -> tuple[Any, ...]:
    entries: list[Any] = []
    for n in grid_shape:
        if n and draw(st.booleans()):
            entries.append(draw(st.integers(-n, n - 1)))
        else:
            bound = st.none() | st.integers(-n - 2, n + 2)
            entries.append(slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1]))))
    return tuple(entries)


@SETTINGS
@given(st.data(), grids())
def test_block_read_write(data: st.DataObject, case: tuple[tuple[int, ...], ChunkGrid]) -> None:
    shape, grid = case
    gshape = grid.grid_shape(shape)
    sel = data.draw(block_selections(gshape))
    array = make_data(shape)
    ref = []
    for sizes, entry in zip(grid.chunk_sizes(shape), sel, strict=True):
        edges = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        if isinstance(entry, int):
            b = entry % len(sizes)
            ref.append(slice(edges[b], edges[b + 1]))
        else:
            start, stop, _ = entry.indices(len(sizes))
            ref.append(slice(edges[start], edges[max(start, stop)]))
    ix = BlockIndexer(sel, shape, grid)
    value = roundtrip(ix, array, grid, array[tuple(ref)])
    expected = array.copy()
    expected[tuple(ref)] = value
    np.testing.assert_array_equal(write(ix, store(array, grid), grid, shape, value), expected)


def test_block_errors() -> None:
    grid = RegularChunkGrid((3,))
    with pytest.raises(IndexError, match="block index 4 is out of bounds for axis 0 with 4 block"):
        BlockIndexer(4, (10,), grid)
    with pytest.raises(IndexError, match="step 1"):
        BlockIndexer(slice(None, None, 2), (10,), grid)
    with pytest.raises(IndexError, match="got an array"):
        BlockIndexer([0, 1], (10,), grid)
    assert BlockIndexer(-1, (10,), grid).shape == (1,)


# ----------------------------------------------------------------------------------------------- getitem dispatch


@st.composite
def getitem_selections(draw: st.DrawFn, shape: tuple[int, ...]) -> Any:
    """Anything numpy's __getitem__ takes (without newaxis): ints, slices, arrays, masks, lists, Ellipsis."""
    mode = draw(st.integers(0, 3))
    if mode == 0:
        return draw(basic_selections(shape))
    if mode == 1 and shape:  # a boolean array over a run of axes, the rest ints and slices
        a = draw(st.integers(0, len(shape) - 1))
        b = draw(st.integers(a + 1, len(shape)))
        before = [draw(slices(n)) for n in shape[:a]]
        after = [draw(slices(n)) for n in shape[b:]]
        return (*before, draw(hnp.arrays(bool, shape[a:b])), *after)
    if any(n == 0 for n in shape):
        return draw(basic_selections(shape))
    bshape = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    entries: list[Any] = []
    for n in shape:
        kind = draw(st.integers(0, 2))
        if kind == 0:
            entries.append(draw(ints(n)))
        elif kind == 1:
            entries.append(draw(slices(n)))
        else:
            array = draw(hnp.arrays(np.int64, bshape, elements=st.integers(-n, n - 1)))
            entries.append(array.tolist() if draw(st.booleans()) and array.ndim == 1 else array)
    return tuple(entries)


@SETTINGS
@given(st.data(), grids())
def test_getitem_dispatch_matches_numpy(data: st.DataObject, case: tuple[tuple[int, ...], ChunkGrid]) -> None:
    shape, grid = case
    sel = data.draw(getitem_selections(shape))
    array = make_data(shape)
    kind, parsed = parse_getitem_selection(sel, shape)
    ix = get_indexer(sel, shape, grid)
    expected = np.asarray(array[sel])
    value = roundtrip(ix, array, grid, expected)
    ids = np.arange(array.size).reshape(shape)[sel]
    if np.unique(ids).size == np.size(ids):  # numpy leaves the order of repeated writes unspecified
        want = array.copy()
        want[sel] = value
        np.testing.assert_array_equal(write(ix, store(array, grid), grid, shape, value), want)
    assert kind in {"basic", "orthogonal", "coordinate", "mask"}
    if kind == "basic":
        assert not has_arrays(parsed)


def test_oob_errors_like_numpy() -> None:
    grid = RegularChunkGrid((3, 3))
    shape = (5, 4)
    cases: list[tuple[type[Indexer], Any]] = [
        (BasicIndexer, (5, 0)),
        (BasicIndexer, (0, -5)),
        (OrthogonalIndexer, ([0, 5], slice(None))),
        (OrthogonalIndexer, (slice(None), [-5])),
        (CoordinateIndexer, ([0, 1], [0, 4])),
        (CoordinateIndexer, ([0, -6], [0, 0])),
    ]
    array = np.zeros(shape)
    for cls, sel in cases:
        with pytest.raises(IndexError) as ours:
            cls(sel, shape, grid)
        with pytest.raises(IndexError) as theirs:
            array[sel]
        assert str(ours.value) == str(theirs.value)

"""Per-axis projections: how one axis' selection (an int, a slice, an index array) meets the chunks.

Every function here works with numpy over all chunks (or all indices) of the axis at once and returns an
:class:`AxisPlan`: per touched chunk, its index along the axis, the selection inside the chunk, the
selection in the output and whether the chunk's in-array extent is covered in order. The only Python
loops are the final list comprehensions that build one slice (or array view) per touched chunk.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

from zarrlayered.core.chunk_grids import ChunkGrid, RectilinearChunkGrid, RegularChunkGrid

__all__ = [
    "AxisInfo",
    "AxisPlan",
    "axis_infos",
    "consecutive_runs",
    "plan_array",
    "plan_int",
    "plan_slice",
    "run_bounds",
]

IntArray: TypeAlias = npt.NDArray[np.int64]
ChunkSel: TypeAlias = "slice | np.ndarray[Any, Any] | int"
OutSel: TypeAlias = "slice | np.ndarray[Any, Any]"


@dataclass(frozen=True, slots=True)
class AxisInfo:
    """One axis of an array cut by a grid.

    A regular axis (``step`` set) is computed with integer arithmetic and never materializes its edges, so
    an axis of 10**12 chunks costs nothing; an irregular axis keeps its clipped ``edges``.
    """

    axis: int
    length: int
    nchunks: int
    step: int | None
    edges: IntArray | None

    def chunk_of(self, index: IntArray) -> IntArray:
        """The chunk holding each (non-negative, in-bounds) index."""
        if self.step is not None:
            return index // self.step
        assert self.edges is not None
        return np.searchsorted(self.edges, index, side="right").astype(np.int64) - 1

    def chunk_of_int(self, index: int) -> int:
        """The chunk holding one (non-negative, in-bounds) index."""
        if self.step is not None:
            return index // self.step
        assert self.edges is not None
        return int(np.searchsorted(self.edges, index, side="right")) - 1

    def bounds(self, chunks: IntArray) -> tuple[IntArray, IntArray]:
        """Start and (clipped) end offsets of each chunk."""
        if self.step is not None:
            lo = chunks * self.step
            return lo, np.minimum(lo + self.step, self.length)
        assert self.edges is not None
        return self.edges[chunks], self.edges[chunks + 1]

    def bounds_int(self, chunk: int) -> tuple[int, int]:
        """Start and (clipped) end offset of one chunk."""
        if self.step is not None:
            lo = chunk * self.step
            return lo, min(lo + self.step, self.length)
        assert self.edges is not None
        return int(self.edges[chunk]), int(self.edges[chunk + 1])


def axis_infos(grid: ChunkGrid, shape: tuple[int, ...]) -> tuple[AxisInfo, ...]:
    """The :class:`AxisInfo` of every axis of an array of ``shape`` cut by ``grid`` (cached)."""
    try:
        return _cached_axis_infos(grid, shape)
    except TypeError:  # an unhashable third-party grid
        return _axis_infos(grid, shape)


def _axis_infos(grid: ChunkGrid, shape: tuple[int, ...]) -> tuple[AxisInfo, ...]:
    grid.validate(shape)
    if isinstance(grid, RegularChunkGrid):
        return tuple(
            AxisInfo(i, n, -(-n // c), c, None) for i, (n, c) in enumerate(zip(shape, grid.chunk_shape, strict=True))
        )
    if isinstance(grid, RectilinearChunkGrid):
        infos = []
        for i, (n, declared, regular) in enumerate(zip(shape, grid.chunk_shapes, grid.regular_axes, strict=True)):
            if regular:
                infos.append(AxisInfo(i, n, -(-n // declared[0]), declared[0], None))
            else:
                edges = grid.edges_along(i, n)
                infos.append(AxisInfo(i, n, len(edges) - 1, None, edges))
        return tuple(infos)
    return tuple(
        AxisInfo(i, n, len(e) - 1, None, np.asarray(e, dtype=np.int64))
        for i, (n, e) in enumerate(zip(shape, grid.axis_edges(shape), strict=True))
    )


_cached_axis_infos = functools.lru_cache(maxsize=256)(_axis_infos)


class AxisPlan(NamedTuple):
    """The chunks one axis' selection touches, in output order (immutable; a tuple, cheap to build).

    ``out_sels`` is None for an axis dropped by an integer index; ``out_len`` is then None too.
    """

    chunks: list[int]
    chunk_sels: list[ChunkSel]
    out_sels: list[OutSel] | None
    complete: list[bool]
    out_len: int | None
    has_arrays: bool = False

    @property
    def dropped(self) -> bool:
        """Whether the axis is dropped from the output (integer index)."""
        return self.out_sels is None


def _empty(out_len: int = 0) -> AxisPlan:
    return AxisPlan([], [], [], [], out_len)


def plan_int(info: AxisInfo, index: int) -> AxisPlan:
    """An integer index (already normalized to ``0 <= index < length``): one chunk, axis dropped."""
    c = info.chunk_of_int(index)
    lo, hi = info.bounds_int(c)
    return AxisPlan([c], [index - lo], None, [hi - lo == 1], None)


def run_bounds(sorted_keys: IntArray) -> tuple[IntArray, IntArray]:
    """Start and end positions of the runs of equal values in ``sorted_keys`` (which must be non-empty)."""
    breaks = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
    starts = np.concatenate([[0], breaks]).astype(np.int64)
    ends = np.concatenate([breaks, [len(sorted_keys)]]).astype(np.int64)
    return starts, ends


def consecutive_runs(values: IntArray, starts: IntArray, ends: IntArray) -> npt.NDArray[np.bool_]:
    """Per run ``values[start:end]``, whether it steps by exactly +1 (so a slice can replace it)."""
    bad = np.concatenate([[0], np.cumsum(np.diff(values) != 1)])
    return np.asarray(bad[ends - 1] == bad[starts])


_SMALL_SPAN = 8


def _plan_slice_small(info: AxisInfo, start: int, step: int, n: int, c_first: int, c_last: int) -> AxisPlan:
    """:func:`plan_slice` for a few chunks, in plain integer arithmetic (numpy costs more on tiny arrays)."""
    chunks: list[int] = []
    chunk_sels: list[ChunkSel] = []
    out_sels: list[OutSel] = []
    complete: list[bool] = []
    direction = 1 if step > 0 else -1
    for c in range(c_first, c_last + direction, direction):
        lo, hi = info.bounds_int(c)
        if step > 0:
            k0, k1 = -((start - lo) // step), -((start - hi) // step)
        else:
            k0, k1 = (start - hi) // -step + 1, (start - lo) // -step + 1
        k0, k1 = min(max(k0, 0), n), min(max(k1, 0), n)
        if k1 <= k0:
            continue
        first = start + k0 * step - lo
        last = start + (k1 - 1) * step - lo
        chunks.append(c)
        if step > 0:
            chunk_sels.append(slice(first, last + 1, step))
        else:
            chunk_sels.append(slice(first, last - 1 if last >= 1 else None, step))
        out_sels.append(slice(k0, k1))
        count, extent = k1 - k0, hi - lo
        complete.append(count == extent and (step == 1 or extent == 1))
    return AxisPlan(chunks, chunk_sels, out_sels, complete, n)


def plan_slice(info: AxisInfo, selection: slice) -> AxisPlan:
    """A slice with any step (negative too), numpy semantics."""
    start, stop, step = selection.indices(info.length)
    n = len(range(start, stop, step))
    if n == 0:
        return _empty()
    last = start + (n - 1) * step
    c_first, c_last = info.chunk_of_int(start), info.chunk_of_int(last)
    span = abs(c_last - c_first) + 1
    if span <= _SMALL_SPAN:
        return _plan_slice_small(info, start, step, n, c_first, c_last)
    if span <= n:
        # One row per chunk between the first and the last selected index.
        cids = np.arange(c_first, c_last + (1 if step > 0 else -1), 1 if step > 0 else -1, dtype=np.int64)
        lo, hi = info.bounds(cids)
        if step > 0:
            k0 = -((start - lo) // step)  # ceil((lo - start) / step)
            k1 = -((start - hi) // step)
        else:
            k0 = (start - hi) // -step + 1
            k1 = (start - lo) // -step + 1
        k0, k1 = np.clip(k0, 0, n), np.clip(k1, 0, n)
        keep = k1 > k0
        if not keep.all():
            cids, lo, hi, k0, k1 = cids[keep], lo[keep], hi[keep], k0[keep], k1[keep]
    else:
        # Fewer selected indices than chunks in between (a big step): one row per index.
        ci = info.chunk_of(start + step * np.arange(n, dtype=np.int64))
        k0, k1 = run_bounds(ci)
        cids = ci[k0]
        lo, hi = info.bounds(cids)
    first_local = start + k0 * step - lo
    last_local = start + (k1 - 1) * step - lo
    count = k1 - k0
    extent = hi - lo
    complete = (count == extent) & ((step == 1) | (extent == 1))
    if step > 0:
        chunk_sels: list[ChunkSel] = [
            slice(a, b, step) for a, b in zip(first_local.tolist(), (last_local + 1).tolist(), strict=True)
        ]
    else:
        chunk_sels = [
            slice(a, b if b >= 0 else None, step)
            for a, b in zip(first_local.tolist(), (last_local - 1).tolist(), strict=True)
        ]
    out_sels: list[OutSel] = [slice(a, b) for a, b in zip(k0.tolist(), k1.tolist(), strict=True)]
    return AxisPlan(cids.tolist(), chunk_sels, out_sels, complete.tolist(), n)


def plan_array(info: AxisInfo, index: IntArray) -> AxisPlan:
    """A 1-d integer index array (normalized, in bounds), orthogonal semantics: any order, repeats allowed.

    Indices are grouped by chunk with a stable sort, so each chunk appears once and, within a chunk,
    repeated indices keep their order (the last assignment wins on a write, like numpy). Runs of
    consecutive positions become slices.
    """
    n = len(index)
    if n == 0:
        return _empty()
    ci = info.chunk_of(index)
    order: IntArray | None = None
    if n > 1 and bool(np.any(ci[1:] < ci[:-1])):
        order = np.argsort(ci, kind="stable")
        ci = ci[order]
        index = index[order]
    starts, ends = run_bounds(ci)
    cids = ci[starts]
    lo, hi = info.bounds(cids)
    local = index - np.repeat(lo, ends - starts)
    local_consecutive = consecutive_runs(local, starts, ends)
    complete = local_consecutive & (local[starts] == 0) & (ends - starts == hi - lo)
    chunk_sels: list[ChunkSel] = [
        slice(a, a + (e - s)) if ok else local[s:e]
        for s, e, a, ok in zip(
            starts.tolist(), ends.tolist(), local[starts].tolist(), local_consecutive.tolist(), strict=True
        )
    ]
    if order is None:
        out_sels: list[OutSel] = [slice(s, e) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    else:
        out_consecutive = consecutive_runs(order, starts, ends)
        out_sels = [
            slice(p, p + (e - s)) if ok else order[s:e]
            for s, e, p, ok in zip(
                starts.tolist(), ends.tolist(), order[starts].tolist(), out_consecutive.tolist(), strict=True
            )
        ]
    has_arrays = not bool(local_consecutive.all()) or (order is not None)
    return AxisPlan(cids.tolist(), chunk_sels, out_sels, complete.tolist(), n, has_arrays)

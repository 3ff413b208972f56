"""Indexers: a user's selection turned into a plan of chunk projections.

Each indexer is built from ``(selection, shape, chunk_grid)``; it has the result ``shape``, the
``drop_axes`` removed by integer indices, ``nchunks_touched`` and iterates :class:`ChunkProjection`
objects, one per chunk the selection touches (never two for the same chunk). A projection's
selections are plain numpy indices, ready to use on both sides::

    out = np.empty(indexer.shape, dtype)                       # a read
    for p in indexer:
        out[p.out_selection] = decoded_chunk(p.chunk_coords)[p.chunk_selection]

    for p in indexer:                                          # a write (value shaped like indexer.shape)
        chunk = fresh_chunk() if p.is_complete_chunk else stored_chunk(p.chunk_coords)
        chunk[p.chunk_selection] = value[p.out_selection]

``out_selection`` always indexes the output array of shape ``indexer.shape`` itself (never a flattened
view), for every kind of selection. When a selection names the same element twice (repeated indices in
an orthogonal or coordinate selection), a read returns it twice, like numpy, and a write keeps the last
value given for it, like numpy's assignment.
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from zarrlayered.core.chunk_grids import ChunkGrid
from zarrlayered.core.indexing.axis import (
    AxisInfo,
    AxisPlan,
    axis_infos,
    consecutive_runs,
    plan_array,
    plan_int,
    plan_slice,
    run_bounds,
)
from zarrlayered.core.indexing.selection import (
    Entry,
    check_bool_array,
    expand_bool_arrays,
    expand_selection,
    normalize_int,
    normalize_int_array,
)

__all__ = [
    "BasicIndexer",
    "BlockIndexer",
    "ChunkProjection",
    "CoordinateIndexer",
    "Indexer",
    "MaskIndexer",
    "OrthogonalIndexer",
]

IntArray: TypeAlias = npt.NDArray[np.int64]
ChunkSel: TypeAlias = "slice | np.ndarray[Any, Any] | int"
OutSel: TypeAlias = "slice | np.ndarray[Any, Any]"

_MAX_FLAT_KEY = 1 << 62


@dataclass(frozen=True, slots=True)
class ChunkProjection:
    """Where one chunk meets a selection.

    Attributes
    ----------
    chunk_coords
        The chunk's coordinates in the grid.
    chunk_selection
        numpy index into the decoded chunk (of shape ``grid.chunk_shape_at(chunk_coords, shape)``);
        always inside the chunk's in-array region, never in its padding.
    out_selection
        numpy index into the output (of shape ``indexer.shape``); ``out[out_selection]`` and
        ``chunk[chunk_selection]`` have the same shape.
    is_complete_chunk
        The selection covers every element of the chunk that lies inside the array, each exactly once
        and in C order, so a write can build the chunk from the values (plus the fill value in the
        padding) without reading it. Reversed selections (negative steps) are reported as not complete.
    """

    chunk_coords: tuple[int, ...]
    chunk_selection: tuple[slice | np.ndarray[Any, Any] | int, ...]
    out_selection: tuple[slice | np.ndarray[Any, Any], ...]
    is_complete_chunk: bool


class Indexer(ABC):
    """Base class of the indexers: a result ``shape``, ``drop_axes`` and an iterable of projections."""

    #: Shape of the result of the selection.
    shape: tuple[int, ...]
    #: Array axes removed from the result by integer indices (basic, orthogonal and block selections).
    drop_axes: tuple[int, ...]

    @abstractmethod
    def __init__(self, selection: Any, shape: Sequence[int], chunk_grid: ChunkGrid) -> None:
        """Plan ``selection`` on an array of ``shape`` cut by ``chunk_grid``."""

    @property
    @abstractmethod
    def nchunks_touched(self) -> int:
        """Number of projections (distinct chunks) the iteration yields."""

    @abstractmethod
    def __iter__(self) -> Iterator[ChunkProjection]:
        """The projections, one per touched chunk."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={self.shape}, nchunks_touched={self.nchunks_touched})"


# ---------------------------------------------------------------------------------------------------
# orthogonal products of per-axis plans (basic, orthogonal, block)


def _slice_to_array(s: slice) -> IntArray:
    step = 1 if s.step is None else s.step
    stop = s.stop if s.stop is not None else (-1 if step < 0 else None)
    if stop is None:
        raise ValueError(f"cannot expand open slice {s!r}")
    return np.arange(s.start or 0, stop, step, dtype=np.int64)


def _mesh_plans(plans: Sequence[AxisPlan]) -> list[AxisPlan]:
    """Rewrite orthogonal per-axis plans so numpy's advanced indexing gives the orthogonal result.

    Needed when several axes carry index arrays (numpy would zip them) or when one array axis is separated
    from an integer axis by a slice (numpy would move the array's axis to the front). On the chunk side,
    integers stay scalars (their axes drop) and every other axis becomes an index array shaped to
    broadcast along its own position among the kept axes, like ``np.ix_``; the output side likewise when
    several axes carry output arrays.
    """
    array_axes = [i for i, p in enumerate(plans) if p.has_arrays]
    dropped = [i for i, p in enumerate(plans) if p.dropped]
    advanced = sorted(array_axes + dropped)
    mesh_chunk = len(array_axes) > 1 or (
        len(array_axes) == 1 and bool(dropped) and advanced[-1] - advanced[0] + 1 != len(advanced)
    )
    mesh_out = len(array_axes) > 1
    if not mesh_chunk:
        return list(plans)
    kept = len(plans) - len(dropped)
    out: list[AxisPlan] = []
    rank = 0
    for p in plans:
        if p.dropped:
            out.append(p)
            continue
        shape = [1] * kept
        shape[rank] = -1
        rank += 1
        chunk_sels: list[ChunkSel] = [
            (_slice_to_array(c) if isinstance(c, slice) else c).reshape(shape)  # type: ignore[union-attr]
            for c in p.chunk_sels
        ]
        out_sels: list[OutSel] | None = p.out_sels
        if mesh_out and p.out_sels is not None:
            out_sels = [(_slice_to_array(o) if isinstance(o, slice) else o).reshape(shape) for o in p.out_sels]
        out.append(AxisPlan(p.chunks, chunk_sels, out_sels, p.complete, p.out_len, True))
    return out


def _iter_product(plans: Sequence[AxisPlan]) -> Iterator[ChunkProjection]:
    if not plans:
        yield ChunkProjection((), (), (), True)
        return
    if all(len(p.chunks) == 1 for p in plans):  # a single chunk: skip the products
        yield ChunkProjection(
            tuple(p.chunks[0] for p in plans),
            tuple(p.chunk_sels[0] for p in plans),
            tuple(p.out_sels[0] for p in plans if p.out_sels is not None),
            all(p.complete[0] for p in plans),
        )
        return
    if any(not p.chunks for p in plans):
        return
    complete: Iterable[bool]
    if math.prod(len(p.chunks) for p in plans) <= 256:
        complete = map(all, itertools.product(*(p.complete for p in plans)))
    else:
        flags = np.asarray(plans[0].complete, dtype=bool)
        for p in plans[1:]:
            flags = np.logical_and.outer(flags, np.asarray(p.complete, dtype=bool))
        complete = flags.ravel().tolist()
    yield from map(
        ChunkProjection,
        itertools.product(*(p.chunks for p in plans)),
        itertools.product(*(p.chunk_sels for p in plans)),
        itertools.product(*(p.out_sels for p in plans if p.out_sels is not None)),
        complete,
    )


class _ProductIndexer(Indexer):
    """An indexer whose plan is the Cartesian product of independent per-axis plans."""

    _plans: tuple[AxisPlan, ...]

    def _set_plans(self, plans: Sequence[AxisPlan]) -> None:
        self._plans = tuple(plans)
        self.shape = tuple(p.out_len for p in self._plans if p.out_len is not None)
        self.drop_axes = tuple(i for i, p in enumerate(self._plans) if p.dropped)

    @property
    def nchunks_touched(self) -> int:
        """Number of projections: the product of the chunks touched along each axis."""
        return math.prod(len(p.chunks) for p in self._plans)

    def __iter__(self) -> Iterator[ChunkProjection]:
        return _iter_product(self._plans)


class BasicIndexer(_ProductIndexer):
    """Integers (negative allowed), slices with any step (negative too) and Ellipsis, like numpy.

    Parameters
    ----------
    selection
        An int, a slice, Ellipsis or a tuple of those.
    shape
        The array shape.
    chunk_grid
        The array's chunk grid.

    Raises
    ------
    IndexError
        Out-of-bounds integers, too many indices, or index arrays (use an orthogonal or coordinate
        selection for those).
    """

    def __init__(self, selection: Any, shape: Sequence[int], chunk_grid: ChunkGrid) -> None:
        shape = tuple(int(s) for s in shape)
        infos = axis_infos(chunk_grid, shape)
        plans = []
        for info, entry in zip(infos, expand_selection(selection, len(shape)), strict=True):
            if isinstance(entry, int):
                plans.append(plan_int(info, normalize_int(entry, info.length, info.axis)))
            elif isinstance(entry, slice):
                plans.append(plan_slice(info, entry))
            else:
                raise IndexError(
                    f"basic selection accepts integers, slices and Ellipsis, got an array for axis {info.axis}; "
                    "use an orthogonal (oindex) or coordinate (vindex) selection"
                )
        self._set_plans(plans)


class OrthogonalIndexer(_ProductIndexer):
    """Orthogonal (outer) selection: per axis an int, a slice, a 1-d integer array or a 1-d boolean array.

    Each axis is selected independently, like ``np.ix_``: the result has one axis per non-integer entry,
    of the length of that entry's selection. Integer arrays may be unsorted and hold repeats.

    Parameters
    ----------
    selection
        One entry per axis (Ellipsis allowed; lists are read as arrays).
    shape
        The array shape.
    chunk_grid
        The array's chunk grid.
    """

    def __init__(self, selection: Any, shape: Sequence[int], chunk_grid: ChunkGrid) -> None:
        shape = tuple(int(s) for s in shape)
        infos = axis_infos(chunk_grid, shape)
        plans = []
        for info, entry in zip(infos, expand_selection(selection, len(shape)), strict=True):
            if isinstance(entry, int):
                plans.append(plan_int(info, normalize_int(entry, info.length, info.axis)))
            elif isinstance(entry, slice):
                plans.append(plan_slice(info, entry))
            elif entry.ndim != 1:
                raise IndexError(
                    f"orthogonal selection takes 1-d index arrays, got a {entry.ndim}-d array for axis {info.axis}"
                )
            elif entry.dtype == bool:
                check_bool_array(entry, (info.length,), info.axis)
                plans.append(plan_array(info, np.flatnonzero(entry).astype(np.int64)))
            else:
                plans.append(plan_array(info, normalize_int_array(entry, info.length, info.axis)))
        self._set_plans(_mesh_plans(plans))


class BlockIndexer(_ProductIndexer):
    """Whole chunks selected by chunk index: per axis an int (negative allowed) or a slice with step 1.

    An integer keeps its axis (the result is the chunk), like zarr-python's ``Array.blocks``.
    """

    def __init__(self, selection: Any, shape: Sequence[int], chunk_grid: ChunkGrid) -> None:
        shape = tuple(int(s) for s in shape)
        infos = axis_infos(chunk_grid, shape)
        basic: list[slice] = []
        for info, entry in zip(infos, expand_selection(selection, len(shape)), strict=True):
            n = info.nchunks
            if isinstance(entry, int):
                if entry < -n or entry >= n:
                    raise IndexError(f"block index {entry} is out of bounds for axis {info.axis} with {n} block(s)")
                b = entry + n if entry < 0 else entry
                basic.append(slice(*info.bounds_int(b)))
            elif isinstance(entry, slice):
                start, stop, step = entry.indices(n)
                if step != 1:
                    raise IndexError(f"block selection slices must have step 1, got {entry!r} for axis {info.axis}")
                stop = max(start, stop)
                begin = info.bounds_int(start)[0] if start < n else info.length
                basic.append(slice(begin, info.bounds_int(stop)[0] if stop < n else info.length))
            else:
                raise IndexError(
                    f"block selection accepts integers and slices of chunk indices, got an array for axis {info.axis}"
                )
        self._region = tuple(basic)
        self._set_plans([plan_slice(info, s) for info, s in zip(infos, basic, strict=True)])

    def element_region(self) -> tuple[slice, ...]:
        """The selected blocks as a basic selection in element coordinates."""
        return self._region


# ---------------------------------------------------------------------------------------------------
# coordinate and mask selections


@dataclass(frozen=True, slots=True)
class _Groups:
    """Points grouped by chunk: per group, the chunk coordinates on the advanced axes and the selections."""

    coords: list[tuple[int, ...]]
    chunk_sels: list[tuple[ChunkSel, ...]]
    out_sels: list[tuple[OutSel, ...]]
    complete: list[bool]


def _stable_argsort(key: IntArray) -> IntArray:
    """``np.argsort(key, kind="stable")`` for non-negative keys, as a radix sort on 16-bit digits.

    numpy radix-sorts 16-bit integers, which is several times faster than its stable sort of int64.
    """
    top = int(key.max()) if len(key) else 0
    if len(key) < 2048 or top >= 1 << 48:
        return np.argsort(key, kind="stable").astype(np.int64)
    order: IntArray | None = None
    shift = 0
    while True:
        digits = ((key if order is None else key[order]) >> shift).astype(np.uint16)  # keeps the low 16 bits
        step = np.argsort(digits, kind="stable")
        order = step.astype(np.int64) if order is None else order[step]
        shift += 16
        if top >> shift == 0:
            return order


def _sort_points(chunk_ids: list[IntArray], grid: list[int]) -> tuple[IntArray | None, IntArray, IntArray]:
    """A stable order grouping points by chunk, and the start/end of each group in that order."""
    if math.prod(grid) < _MAX_FLAT_KEY:
        key = np.ravel_multi_index(tuple(chunk_ids), grid).astype(np.int64) if len(grid) > 1 else chunk_ids[0]
        order = None if bool(np.all(key[1:] >= key[:-1])) else _stable_argsort(key)
        starts, ends = run_bounds(key if order is None else key[order])
        return order, starts, ends
    order = np.lexsort(tuple(reversed(chunk_ids)))
    changed = np.zeros(len(order) - 1, dtype=bool)
    for ids in chunk_ids:
        s = ids[order]
        changed |= s[1:] != s[:-1]
    breaks = np.flatnonzero(changed) + 1
    starts = np.concatenate([[0], breaks]).astype(np.int64)
    ends = np.concatenate([breaks, [len(order)]]).astype(np.int64)
    return order, starts, ends


def _group_points(infos: list[AxisInfo], points: list[IntArray], bshape: tuple[int, ...], contiguous: bool) -> _Groups:
    """Group the points (one flat coordinate array per advanced axis) by chunk."""
    npoints = math.prod(bshape)
    if npoints == 0:
        return _Groups([], [], [], [])
    if not infos:
        return _Groups([()], [()], [()], [True])
    chunk_ids = [info.chunk_of(p) for info, p in zip(infos, points, strict=True)]
    order, starts, ends = _sort_points(chunk_ids, [info.nchunks for info in infos])
    if order is not None:
        chunk_ids = [c[order] for c in chunk_ids]
        points = [p[order] for p in points]
    bounds = [info.bounds(c) for info, c in zip(infos, chunk_ids, strict=True)]
    locals_ = [p - lo for p, (lo, _) in zip(points, bounds, strict=True)]
    group_coords = [c[starts].tolist() for c in chunk_ids]
    coords = list(zip(*group_coords, strict=True))
    counts = ends - starts
    # Completeness: the group's points enumerate the chunk's in-array region in C order.
    extents = [(hi - lo)[starts] for lo, hi in bounds]
    complete = np.zeros(len(starts), dtype=bool)
    if contiguous:
        candidate = counts == np.prod(extents, axis=0)
        if candidate.any():
            flat = np.zeros(npoints, dtype=np.int64)
            for local, (lo, hi) in zip(locals_, bounds, strict=True):
                flat = flat * (hi - lo) + local
            complete = candidate & consecutive_runs(flat, starts, ends) & (flat[starts] == 0)
    ranges = list(zip(starts.tolist(), ends.tolist(), strict=True))
    if not bshape:  # a single point given by integers: the advanced axes drop
        chunk_sels: list[tuple[ChunkSel, ...]] = [tuple(int(loc[0]) for loc in locals_)]
        return _Groups(coords, chunk_sels, [()], complete.tolist())
    if len(infos) == 1 and len(bshape) == 1:
        ok = consecutive_runs(locals_[0], starts, ends).tolist()
        first = locals_[0][starts].tolist()
        chunk_sels = [
            (slice(a, a + e - s),) if good else (locals_[0][s:e],)
            for (s, e), a, good in zip(ranges, first, ok, strict=True)
        ]
    else:
        per_axis = [[loc[s:e] for s, e in ranges] for loc in locals_]
        chunk_sels = list(zip(*per_axis, strict=True))
    out_sels: list[tuple[OutSel, ...]]
    if order is None:
        if len(bshape) == 1:
            out_sels = [(slice(s, e),) for s, e in ranges]
        else:
            out_sels = [np.unravel_index(np.arange(s, e), bshape) for s, e in ranges]
    elif len(bshape) == 1:
        ok = consecutive_runs(order, starts, ends).tolist()
        first = order[starts].tolist()
        out_sels = [
            (slice(p, p + e - s),) if good else (order[s:e],) for (s, e), p, good in zip(ranges, first, ok, strict=True)
        ]
    else:
        out_sels = [np.unravel_index(order[s:e], bshape) for s, e in ranges]
    return _Groups(coords, chunk_sels, out_sels, complete.tolist())


class CoordinateIndexer(Indexer):
    """Coordinate (point, "vectorized") selection with numpy's advanced-indexing rules.

    Per axis an integer array, an int or a boolean array (read as its ``nonzero()`` coordinates); the
    arrays broadcast together to a shape ``B``. Slices are accepted on other axes, as in numpy: the
    result is ``pre + B + post`` when the advanced entries are next to each other, otherwise ``B``
    followed by the sliced axes. Points may repeat and come in any order; each chunk is visited once.

    Parameters
    ----------
    selection
        One entry per axis (Ellipsis allowed; lists are read as arrays).
    shape
        The array shape.
    chunk_grid
        The array's chunk grid.
    """

    def __init__(self, selection: Any, shape: Sequence[int], chunk_grid: ChunkGrid) -> None:
        shape = tuple(int(s) for s in shape)
        infos = axis_infos(chunk_grid, shape)
        entries = expand_bool_arrays(expand_selection(selection, len(shape)), shape)
        self._init_from_entries(entries, infos)

    def _init_from_entries(self, entries: Sequence[Entry], infos: Sequence[AxisInfo]) -> None:
        self.drop_axes = ()
        self._ndim = len(infos)
        adv_axes = [i for i, e in enumerate(entries) if not isinstance(e, slice)]
        slice_axes = [i for i, e in enumerate(entries) if isinstance(e, slice)]
        coords: list[IntArray | int] = []
        for i in adv_axes:
            e = entries[i]
            info = infos[i]
            coords.append(
                normalize_int(e, info.length, i) if isinstance(e, int) else normalize_int_array(e, info.length, i)  # type: ignore[arg-type]
            )
        try:
            bshape = tuple(np.broadcast_shapes(*(np.shape(c) for c in coords)))
        except ValueError:
            shapes = " ".join(str(np.shape(c)) for c in coords if np.ndim(c))
            raise IndexError(
                f"shape mismatch: indexing arrays could not be broadcast together with shapes {shapes}"
            ) from None
        points = [np.broadcast_to(np.asarray(c, dtype=np.int64), bshape).reshape(-1) for c in coords]
        positions = [i for i, e in enumerate(entries) if not isinstance(e, slice)]
        contiguous = not positions or positions[-1] - positions[0] + 1 == len(positions)
        self._adv_axes = adv_axes
        self._slice_axes = slice_axes
        self._slice_plans = [plan_slice(infos[i], entries[i]) for i in slice_axes]  # type: ignore[arg-type]
        self._groups = _group_points([infos[i] for i in adv_axes], points, bshape, contiguous)
        self._contiguous = contiguous
        slice_lens = [p.out_len or 0 for p in self._slice_plans]
        if contiguous and adv_axes:
            n_pre = sum(1 for i in slice_axes if i < adv_axes[0])
            self.shape = (*slice_lens[:n_pre], *bshape, *slice_lens[n_pre:])
            self._n_pre = n_pre
        else:
            self.shape = (*bshape, *slice_lens)
            self._n_pre = 0
        self.bshape = bshape

    @property
    def nchunks_touched(self) -> int:
        """Number of projections: chunk groups of points times chunks touched along the sliced axes."""
        return len(self._groups.coords) * math.prod(len(p.chunks) for p in self._slice_plans)

    def __iter__(self) -> Iterator[ChunkProjection]:
        groups = self._groups
        ndim = self._ndim
        adv_axes, slice_axes, n_pre = self._adv_axes, self._slice_axes, self._n_pre
        slice_items = [
            list(zip(p.chunks, p.chunk_sels, p.out_sels or [], p.complete, strict=True)) for p in self._slice_plans
        ]
        if not slice_axes:  # the advanced entries cover every axis, in order
            yield from map(ChunkProjection, groups.coords, groups.chunk_sels, groups.out_sels, groups.complete)
            return
        for g_coords, g_csel, g_osel, g_complete in zip(
            groups.coords, groups.chunk_sels, groups.out_sels, groups.complete, strict=True
        ):
            for combo in itertools.product(*slice_items):
                coords: list[int] = [0] * ndim
                chunk_sel: list[ChunkSel] = [0] * ndim
                for axis, c, s in zip(adv_axes, g_coords, g_csel, strict=True):
                    coords[axis] = c
                    chunk_sel[axis] = s
                complete = g_complete
                slice_out: list[OutSel] = []
                for axis, (c, s, o, comp) in zip(slice_axes, combo, strict=True):
                    coords[axis] = c
                    chunk_sel[axis] = s
                    slice_out.append(o)
                    complete = complete and comp
                out_sel = (*slice_out[:n_pre], *g_osel, *slice_out[n_pre:])
                yield ChunkProjection(tuple(coords), tuple(chunk_sel), out_sel, complete)


class MaskIndexer(CoordinateIndexer):
    """Boolean mask selection: a boolean array of the array's full shape; the result is 1-d.

    Equivalent to a coordinate selection with the mask's ``nonzero()`` coordinates (C order).
    """

    def __init__(self, selection: Any, shape: Sequence[int], chunk_grid: ChunkGrid) -> None:
        shape = tuple(int(s) for s in shape)
        mask = selection[0] if isinstance(selection, tuple) and len(selection) == 1 else selection
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise IndexError(f"mask selection needs a boolean array, got dtype {mask.dtype}")
        if mask.ndim == 0 or mask.shape != shape:
            raise IndexError(f"mask selection needs a boolean array of the array's shape {shape}, got {mask.shape}")
        infos = axis_infos(chunk_grid, shape)
        self._init_from_entries(list(np.nonzero(mask)), infos)

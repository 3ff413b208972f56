"""h5py's selection rules, turned into the engine's orthogonal and mask selections.

h5py is stricter than numpy: index lists must be increasing and unique, only one list per selection,
no negative steps, no ``np.newaxis``, and writes broadcast only in the ways HDF5 hyperslabs can. The
exception classes and messages below are h5py's.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MultiBlockSlice", "Selection", "select"]


class MultiBlockSlice:
    """A regular pattern of blocks along one axis (``h5py.MultiBlockSlice``).

    Parameters
    ----------
    start
        The first index.
    count
        The number of blocks (None: as many whole blocks as fit).
    stride
        The distance between block starts.
    block
        The length of each block (not more than ``stride``).
    """

    def __init__(self, start: int = 0, count: int | None = None, stride: int = 1, block: int = 1) -> None:
        if start < 0:
            raise ValueError("Start can't be negative")
        if stride < 1 or (count is not None and count < 1) or block < 1:
            raise ValueError("Stride, count and block can't be 0 or negative")
        if block > stride:
            raise ValueError("Blocks will overlap if block > stride")
        self.start, self.count, self.stride, self.block = start, count, stride, block

    def indices(self, length: int) -> tuple[int, int, int, int]:
        """``(start, stride, count, block)`` for an axis of ``length``; ValueError when it does not fit."""
        start, stride, block = self.start, self.stride, self.block
        if start >= length > 0:
            raise ValueError(f"Start index {start} out of range (0-{length - 1})")
        count = self.count
        if count is None:
            count = (length - start - block) // stride + 1
            if count < 1:
                raise ValueError(f"No full blocks can be selected using {self!r} on dimension of length {length}")
        end = start + stride * (count - 1) + block
        if end > length:
            raise ValueError(f"{self!r} range ({start} - {end}) extends beyond maximum index ({length})")
        return start, stride, count, block

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(start={self.start}, count={self.count}, stride={self.stride}, block={self.block})"


@dataclass(frozen=True)
class Selection:
    """A parsed h5py selection on a dataset of ``shape``.

    ``axes`` holds, per dimension, an int (the axis is dropped), a slice with a positive step, or an
    increasing int array. ``mask`` is set instead for a boolean mask of the whole shape (point selection).
    """

    shape: tuple[int, ...]
    axes: tuple[Any, ...]
    counts: tuple[int, ...]
    scalar: tuple[bool, ...]
    fancy: bool = False
    mask: np.ndarray[Any, Any] | None = None

    @property
    def mshape(self) -> tuple[int, ...]:
        """The shape of the data selected (what a read returns)."""
        if self.mask is not None:
            return (int(np.count_nonzero(self.mask)),)
        return tuple(c for c, s in zip(self.counts, self.scalar, strict=True) if not s)

    @property
    def all_scalar(self) -> bool:
        """True when every axis is indexed by an int (a read returns one element)."""
        return self.mask is None and bool(self.scalar) and all(self.scalar)

    def engine_selection(self) -> tuple[Any, ...]:
        """The orthogonal selection for the engine."""
        return self.axes

    def broadcast_value(self, value: np.ndarray[Any, Any], extra: tuple[int, ...] = ()) -> np.ndarray[Any, Any]:
        """``value`` shaped for a write into this selection, with h5py's broadcasting rules.

        ``extra`` are trailing dimensions of a sub-array dtype: they must end ``value``'s shape and are
        kept as they are.
        """
        n_extra = len(extra)
        source = value.shape[: value.ndim - n_extra] if n_extra else value.shape
        if self.mask is not None:
            target = self.mshape
            if source == target:
                return value
            if math.prod(source) == 1:
                return np.broadcast_to(value.reshape(extra), target + extra)
            raise TypeError("Broadcasting is not supported for point-wise selections")
        if self.fancy:
            if source == self.mshape:
                return value
            raise TypeError("Broadcasting is not supported for complex selections")
        remaining = list(source)
        expanded: list[int] = []
        for count, is_scalar in zip(reversed(self.counts), reversed(self.scalar), strict=True):
            if not remaining or is_scalar:
                expanded.append(1)
                continue
            t = remaining.pop()
            if t in (1, count):
                expanded.append(t)
            else:
                raise TypeError(f"Can't broadcast {source} -> {self.mshape}")
        if any(n > 1 for n in remaining):
            raise TypeError(f"Can't broadcast {source} -> {self.mshape}")
        shaped = value.reshape(tuple(reversed(expanded)) + extra)
        lead = tuple(1 if s else c for c, s in zip(self.counts, self.scalar, strict=True))
        return np.broadcast_to(shaped, lead + extra).reshape(self.mshape + extra)


def _is_int(arg: Any) -> bool:
    if isinstance(arg, int | np.integer):
        return True
    return isinstance(arg, np.ndarray) and arg.ndim == 0 and arg.dtype.kind in "iu"


def _slice(arg: slice, length: int) -> tuple[slice, int]:
    if arg.step is not None:
        step = operator.index(arg.step)
        if step == 0:
            raise ValueError("slice step cannot be zero")
        if step < 0:
            raise ValueError(f"Step must be >= 1 (got {step})")
    start, stop, step = arg.indices(length)
    count = len(range(start, stop, step))
    if count == 0:
        return slice(0, 0, 1), 0
    return slice(start, start + (count - 1) * step + 1, step), count


def _int(arg: Any, length: int) -> int:
    index = int(arg)
    if index < 0:
        index += length
    if not 0 <= index < length:
        raise IndexError(f"Index ({index}) out of range for (0-{length - 1})")
    return index


def _index_array(arg: Any, length: int) -> np.ndarray[Any, Any]:
    arr = np.asarray(list(arg) if isinstance(arg, range) else arg)
    if arr.ndim != 1:
        raise TypeError("Only 1D arrays allowed for fancy indexing")
    if arr.dtype.kind == "b":
        if arr.shape[0] != length:
            raise TypeError("Boolean indexing array has incompatible shape")
        return np.flatnonzero(arr)
    if arr.size == 0:
        return np.zeros(0, dtype=np.intp)
    if arr.dtype.kind not in "iu":
        raise TypeError("Indexing arrays must have integer dtypes")
    arr = arr.astype(np.intp)
    arr = np.where(arr < 0, arr + length, arr)
    if arr.min() < 0 or arr.max() >= length:
        raise IndexError(f"Fancy indexing out of range for (0-{length - 1})")
    if arr.size > 1 and np.any(np.diff(arr) <= 0):
        raise TypeError("Indexing elements must be in increasing order")
    return arr


def _multiblock(arg: Any, length: int) -> np.ndarray[Any, Any]:
    start, stride, count, block = arg.indices(length)
    starts = start + stride * np.arange(count, dtype=np.intp)
    found: np.ndarray[Any, Any] = (starts[:, None] + np.arange(block, dtype=np.intp)[None, :]).reshape(-1)
    return found


def _expand(args: tuple[Any, ...], rank: int) -> tuple[Any, ...]:
    ellipses = sum(1 for a in args if a is Ellipsis)
    if ellipses > 1:
        raise ValueError("Only one ellipsis may be used.")
    n_real = len(args) - ellipses
    if n_real > rank:
        raise ValueError(f"{n_real} indexing arguments for {rank} dimensions")
    if ellipses:
        at = next(i for i, a in enumerate(args) if a is Ellipsis)
        return args[:at] + (slice(None),) * (rank - n_real) + args[at + 1 :]
    return args + (slice(None),) * (rank - n_real)


def select(shape: tuple[int, ...], args: Any) -> Selection:
    """Parse h5py indexing arguments (no field names) for a dataset of ``shape`` (rank >= 1)."""
    if not isinstance(args, tuple):
        args = (args,)
    if any(a is None for a in args):
        raise TypeError("Indexing with None (or np.newaxis) is not supported")
    if len(args) == 1 and isinstance(args[0], np.ndarray) and args[0].dtype.kind == "b":
        mask = args[0]
        if mask.shape == shape:
            return Selection(shape, (), (), (), mask=mask)
        if mask.shape != shape[:1]:
            raise TypeError("Boolean indexing array has incompatible shape")
    expanded = _expand(args, len(shape))
    axes: list[Any] = []
    counts: list[int] = []
    scalar: list[bool] = []
    n_fancy = 0
    for arg, length in zip(expanded, shape, strict=True):
        if isinstance(arg, slice):
            sl, count = _slice(arg, length)
            axes.append(sl)
            counts.append(count)
            scalar.append(False)
        elif _is_int(arg):
            axes.append(_int(arg, length))
            counts.append(1)
            scalar.append(True)
        elif hasattr(arg, "indices") and hasattr(arg, "block"):
            idx = _multiblock(arg, length)
            axes.append(idx)
            counts.append(int(idx.size))
            scalar.append(False)
        elif isinstance(arg, list | tuple | range | np.ndarray):
            n_fancy += 1
            if n_fancy > 1:
                raise TypeError("Only one indexing vector or array is currently allowed for fancy indexing")
            idx = _index_array(arg, length)
            axes.append(idx)
            counts.append(int(idx.size))
            scalar.append(False)
        else:
            raise TypeError(f"Selection can't process {arg!r}")
    return Selection(shape, tuple(axes), tuple(counts), tuple(scalar), fancy=n_fancy > 0)

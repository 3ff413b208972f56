"""Normalizing user selections: numpy's rules for what an index may be, and numpy's dispatch.

Everything here works on the selection alone (and the array shape); nothing knows about chunks.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Sequence
from types import EllipsisType
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = [
    "Entry",
    "SelectionKind",
    "expand_selection",
    "normalize_entry",
    "normalize_int",
    "normalize_int_array",
    "parse_getitem_selection",
]

IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
#: One normalized entry of a selection: an int, a slice, an integer array or a boolean array.
Entry: TypeAlias = "int | slice | np.ndarray[Any, Any]"
SelectionKind: TypeAlias = Literal["basic", "orthogonal", "coordinate", "mask"]

_VALID_INDICES = (
    "only integers, slices (`:`), ellipsis (`...`) and integer or boolean arrays are valid indices "
    "(numpy.newaxis is not supported)"
)


def normalize_entry(entry: Any) -> Entry | EllipsisType:
    """One element of a user's selection as an int, a slice, an int64/bool array, or Ellipsis.

    Lists become arrays; numpy integer scalars and 0-d integer arrays become ints.

    Raises
    ------
    IndexError
        Anything numpy would not accept as an index, ``None`` (newaxis) and boolean scalars.
    """
    kind = type(entry)
    if kind is int or kind is slice:
        return entry  # type: ignore[no-any-return]
    if entry is Ellipsis:
        return ...
    if entry is None:
        raise IndexError(f"{_VALID_INDICES}; got None")
    if isinstance(entry, bool | np.bool_):
        raise IndexError(f"boolean scalar indices are not supported, got {entry!r}; use a boolean array")
    if isinstance(entry, numbers.Integral):
        return int(entry)
    if isinstance(entry, slice):
        return entry
    if isinstance(entry, list | tuple) or hasattr(entry, "__array__"):
        array = np.asarray(entry)
        if array.size == 0 and array.dtype.kind not in "iub":
            array = array.astype(np.int64)  # numpy reads an empty list as an integer index
        if array.dtype.kind == "b":
            if array.ndim == 0:
                raise IndexError(f"boolean scalar indices are not supported, got {entry!r}; use a boolean array")
            return array
        if array.dtype.kind not in "iu":
            raise IndexError(f"arrays used as indices must be of integer (or boolean) type, got dtype {array.dtype}")
        if array.ndim == 0:
            return int(array)
        return array
    if hasattr(entry, "__index__"):
        return operator.index(entry)
    raise IndexError(f"{_VALID_INDICES}; got {entry!r}")


def expand_selection(selection: Any, ndim: int) -> list[Entry]:
    """The selection as one normalized entry per axis consumed, Ellipsis expanded, trailing ``:`` added.

    A boolean array consumes as many axes as it has dimensions (numpy's rule).

    Raises
    ------
    IndexError
        More than one Ellipsis, or more indices than the array has dimensions.
    """
    items = selection if isinstance(selection, tuple) else (selection,)
    entries = [normalize_entry(item) for item in items]
    n_ellipsis = sum(1 for e in entries if e is Ellipsis)
    if n_ellipsis > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(e.ndim if isinstance(e, np.ndarray) and e.dtype == bool else 1 for e in entries if e is not Ellipsis)
    if consumed > ndim:
        raise IndexError(f"too many indices for array: array is {ndim}-dimensional, but {consumed} were indexed")
    out: list[Entry] = []
    for e in entries:
        if e is Ellipsis:
            out.extend([slice(None)] * (ndim - consumed))
        else:
            out.append(e)
    if not n_ellipsis:
        out.extend([slice(None)] * (ndim - consumed))
    return out


def normalize_int(index: int, length: int, axis: int) -> int:
    """A (possibly negative) integer index as a non-negative one; IndexError like numpy when out of bounds."""
    if index < -length or index >= length:
        raise IndexError(f"index {index} is out of bounds for axis {axis} with size {length}")
    return index + length if index < 0 else index


def normalize_int_array(array: npt.NDArray[Any], length: int, axis: int) -> IntArray:
    """An integer index array as int64 with negative indices resolved; IndexError like numpy when out of bounds."""
    if array.size == 0:
        return np.asarray(array, dtype=np.int64)
    lo, hi = array.min(), array.max()
    if hi >= length or lo < -length:
        bad = hi if hi >= length else lo
        raise IndexError(f"index {int(bad)} is out of bounds for axis {axis} with size {length}")
    out = np.asarray(array, dtype=np.int64)
    if lo < 0:
        out = np.where(out < 0, out + length, out)
    return out


def check_bool_array(array: BoolArray, shape: Sequence[int], first_axis: int) -> None:
    """Raise IndexError like numpy when a boolean index does not match the axes it covers."""
    for k, (got, want) in enumerate(zip(array.shape, shape, strict=True)):
        if got != want:
            raise IndexError(
                f"boolean index did not match indexed array along axis {first_axis + k}; size of axis is {want} "
                f"but size of corresponding boolean axis is {got}"
            )


def _advanced_contiguous(entries: Sequence[Entry]) -> bool:
    """Whether the advanced indices (arrays and, when arrays are present, ints) sit next to each other."""
    positions = [i for i, e in enumerate(entries) if not isinstance(e, slice)]
    return not positions or positions[-1] - positions[0] + 1 == len(positions)


def parse_getitem_selection(selection: Any, shape: Sequence[int]) -> tuple[SelectionKind, tuple[Entry, ...]]:
    """Classify a ``__getitem__``/``__setitem__`` selection the way numpy indexes it.

    Parameters
    ----------
    selection
        What the user put between the brackets.
    shape
        The array shape.

    Returns
    -------
    tuple[str, tuple]
        ``("basic", entries)`` for ints and slices (one entry per axis); ``("orthogonal", entries)`` when a
        single 1-d integer or boolean array is combined with slices (and ints next to it), where
        orthogonal and numpy indexing agree; ``("mask", (mask,))`` for one boolean array of the array's
        full shape; otherwise ``("coordinate", entries)``: numpy advanced indexing with one entry per
        axis (ints, integer arrays broadcast together, slices), boolean arrays replaced by their
        ``nonzero()`` coordinates. When the advanced entries are separated by a slice the broadcast
        dimensions come first in the result, as in numpy; :class:`CoordinateIndexer` follows that rule.

    Raises
    ------
    IndexError
        An invalid index, as numpy would raise it (including out-of-bounds boolean shapes).
    """
    shape = tuple(shape)
    entries = expand_selection(selection, len(shape))
    arrays = [e for e in entries if isinstance(e, np.ndarray)]
    if not arrays:
        return "basic", tuple(entries)
    if len(arrays) == 1:
        array = arrays[0]
        if array.ndim == 1 and _advanced_contiguous(entries):
            axis = next(i for i, e in enumerate(entries) if isinstance(e, np.ndarray))
            if array.dtype == bool:
                check_bool_array(array, shape[axis : axis + 1], axis)
            return "orthogonal", tuple(entries)
        if array.dtype == bool and array.ndim == len(shape) and len(entries) == 1:
            check_bool_array(array, shape, 0)
            return "mask", (array,)
    return "coordinate", tuple(expand_bool_arrays(entries, shape))


def expand_bool_arrays(entries: Sequence[Entry], shape: Sequence[int]) -> list[Entry]:
    """Replace each boolean array by its ``nonzero()`` integer arrays (one per axis it covers)."""
    out: list[Entry] = []
    axis = 0
    for e in entries:
        if isinstance(e, np.ndarray) and e.dtype == bool:
            check_bool_array(e, shape[axis : axis + e.ndim], axis)
            out.extend(np.nonzero(e))
            axis += e.ndim
        else:
            out.append(e)
            axis += 1
    return out

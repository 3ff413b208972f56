"""Indexing: a user's selection turned into a plan of chunk projections.

The indexers (:class:`BasicIndexer`, :class:`OrthogonalIndexer`, :class:`CoordinateIndexer`,
:class:`MaskIndexer`, :class:`BlockIndexer`) are built from ``(selection, shape, chunk_grid)`` and
iterate :class:`ChunkProjection` objects whose selections apply directly with numpy to the decoded chunk
and to the output array (see :mod:`zarrlayered.core.indexing.indexers`). The plans are computed per
axis with numpy; the per-chunk loop is the only Python loop. :func:`parse_getitem_selection` implements
numpy's dispatch for ``Array.__getitem__`` / ``__setitem__``.

Semantics are numpy's: integers (negative allowed), slices with any step (negative too), Ellipsis,
integer and boolean arrays, lists read as arrays; out-of-bounds integers raise IndexError with numpy's
message. ``numpy.newaxis`` and boolean scalars are not supported.
"""

from __future__ import annotations

from typing import Any

from zarrlayered.core.chunk_grids import ChunkGrid
from zarrlayered.core.indexing.indexers import (
    BasicIndexer,
    BlockIndexer,
    ChunkProjection,
    CoordinateIndexer,
    Indexer,
    MaskIndexer,
    OrthogonalIndexer,
)
from zarrlayered.core.indexing.selection import SelectionKind, parse_getitem_selection

__all__ = [
    "BasicIndexer",
    "BlockIndexer",
    "ChunkProjection",
    "CoordinateIndexer",
    "Indexer",
    "MaskIndexer",
    "OrthogonalIndexer",
    "SelectionKind",
    "get_indexer",
    "parse_getitem_selection",
]

_INDEXERS: dict[str, type[Indexer]] = {
    "basic": BasicIndexer,
    "orthogonal": OrthogonalIndexer,
    "coordinate": CoordinateIndexer,
    "mask": MaskIndexer,
    "block": BlockIndexer,
}


def get_indexer(selection: Any, shape: tuple[int, ...], chunk_grid: ChunkGrid, kind: str = "getitem") -> Indexer:
    """The indexer for a selection.

    Parameters
    ----------
    selection
        The user's selection.
    shape
        The array shape.
    chunk_grid
        The array's chunk grid.
    kind
        ``"getitem"`` (numpy's dispatch, for ``Array[...]``), ``"basic"``, ``"orthogonal"`` (``oindex``),
        ``"coordinate"`` or ``"vindex"`` (a full-shape boolean array is a mask, anything else coordinates),
        ``"mask"`` or ``"block"`` (``blocks``).
    """
    if kind == "getitem":
        parsed_kind, parsed = parse_getitem_selection(selection, shape)
        return _INDEXERS[parsed_kind](parsed, shape, chunk_grid)
    if kind == "vindex":
        return CoordinateIndexer(selection, shape, chunk_grid)
    try:
        cls = _INDEXERS[kind]
    except KeyError:
        raise ValueError(
            f"unknown selection kind {kind!r}; expected one of {['getitem', 'vindex', *_INDEXERS]}"
        ) from None
    return cls(selection, shape, chunk_grid)

"""The shard index of the ``sharding_indexed`` codec and the order of inner chunks inside a shard.

A shard index is an array of ``uint64`` of shape ``chunks_per_shard + (2,)``: for each inner chunk the
byte offset of its encoded form inside the shard and its length, or ``2**64 - 1`` twice for an inner
chunk that is not stored (it reads as the fill value).

zarr-python 3 lays the inner chunks out in Morton order (a Z-order curve over the inner chunk grid,
the first axis varying fastest, with axes of one chunk skipped); tensorstore lays them out in
lexicographic (C) order. Both read either layout, since the index gives every chunk's position.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, TypeAlias

import numpy as np

from zarrlayered.errors import CorruptChunkError

__all__ = [
    "MAX_UINT64",
    "ChunkOrder",
    "ShardIndex",
    "chunk_order_ranks",
    "morton_order",
]

#: The sentinel of an inner chunk that is not stored (offset and length both).
MAX_UINT64 = 2**64 - 1

#: How inner chunks are laid out in a shard: zarr-python 3 writes ``"morton"``, tensorstore ``"lexicographic"``.
ChunkOrder: TypeAlias = Literal["morton", "lexicographic"]

_Coords: TypeAlias = tuple[int, ...]


def _all_coords(chunks_per_shard: tuple[int, ...]) -> np.ndarray[Any, np.dtype[np.intp]]:
    """Every inner chunk coordinate in C order, shape ``(n, ndim)``."""
    n = math.prod(chunks_per_shard)
    if not chunks_per_shard:
        return np.zeros((n, 0), dtype=np.intp)
    return np.stack(np.unravel_index(np.arange(n, dtype=np.intp), chunks_per_shard), axis=1).astype(np.intp)


def _morton_codes(coords: np.ndarray[Any, Any], chunks_per_shard: tuple[int, ...]) -> np.ndarray[Any, Any]:
    """The compressed Morton code of each row of ``coords`` (the bit layout zarr-python 3 uses)."""
    bits = [(c - 1).bit_length() for c in chunks_per_shard]
    codes = np.zeros(len(coords), dtype=np.uint64)
    out_bit = 0
    for coord_bit in range(max(bits, default=0)):
        for dim, nbits in enumerate(bits):
            if coord_bit < nbits:
                bit = (coords[:, dim].astype(np.uint64) >> np.uint64(coord_bit)) & np.uint64(1)
                codes |= bit << np.uint64(out_bit)
                out_bit += 1
    return codes


@lru_cache(maxsize=32)
def chunk_order_ranks(chunks_per_shard: tuple[int, ...], order: ChunkOrder = "morton") -> np.ndarray[Any, Any]:
    """The position in the shard of each inner chunk, indexed by the chunk's C-order linear index.

    Parameters
    ----------
    chunks_per_shard
        The inner chunk grid of the shard.
    order
        ``"morton"`` (zarr-python 3) or ``"lexicographic"`` (tensorstore).

    Returns
    -------
    numpy.ndarray
        A read-only ``intp`` array of length ``prod(chunks_per_shard)``.
    """
    n = math.prod(chunks_per_shard)
    if order == "lexicographic":
        ranks = np.arange(n, dtype=np.intp)
    elif order == "morton":
        codes = _morton_codes(_all_coords(chunks_per_shard), chunks_per_shard)
        ranks = np.empty(n, dtype=np.intp)
        ranks[np.argsort(codes, kind="stable")] = np.arange(n, dtype=np.intp)
    else:
        raise ValueError(f"chunk order must be 'morton' or 'lexicographic', got {order!r}")
    ranks.flags.writeable = False
    return ranks


@lru_cache(maxsize=32)
def morton_order(chunks_per_shard: tuple[int, ...]) -> tuple[_Coords, ...]:
    """Every inner chunk coordinate in the Morton order zarr-python 3 writes a shard in."""
    coords = _all_coords(chunks_per_shard)
    ranks = chunk_order_ranks(chunks_per_shard, "morton")
    ordered = np.empty_like(coords)
    ordered[ranks] = coords
    return tuple(tuple(int(x) for x in row) for row in ordered)


@dataclass(frozen=True, eq=False)
class ShardIndex:
    """The offsets and lengths of the inner chunks of one shard.

    Parameters
    ----------
    offsets_and_lengths
        ``uint64`` array of shape ``chunks_per_shard + (2,)``: ``[..., 0]`` the byte offset of each
        inner chunk inside the shard, ``[..., 1]`` its length; both ``2**64 - 1`` for a missing chunk.
    """

    offsets_and_lengths: np.ndarray[Any, np.dtype[np.uint64]]

    def __post_init__(self) -> None:
        array = np.asarray(self.offsets_and_lengths)
        if array.dtype != np.uint64:
            if array.dtype.kind not in "ui":
                raise TypeError(f"ShardIndex offsets_and_lengths must be uint64, got dtype {array.dtype}")
            array = array.astype(np.uint64)
        if array.ndim < 1 or array.shape[-1] != 2:
            raise ValueError(
                f"ShardIndex offsets_and_lengths must have shape chunks_per_shard + (2,), got {array.shape}"
            )
        object.__setattr__(self, "offsets_and_lengths", array)

    @classmethod
    def empty(cls, chunks_per_shard: tuple[int, ...]) -> ShardIndex:
        """An index in which no inner chunk is stored."""
        return cls(np.full((*chunks_per_shard, 2), MAX_UINT64, dtype=np.uint64))

    @classmethod
    def from_entries(cls, chunks_per_shard: tuple[int, ...], entries: Iterable[tuple[_Coords, int, int]]) -> ShardIndex:
        """An index holding ``(coords, offset, length)`` for the given inner chunks, the others missing."""
        array = np.full((*chunks_per_shard, 2), MAX_UINT64, dtype=np.uint64)
        for coords, offset, length in entries:
            array[coords] = (offset, length)
        return cls(array)

    @property
    def chunks_per_shard(self) -> tuple[int, ...]:
        """The shape of the inner chunk grid."""
        return tuple(int(n) for n in self.offsets_and_lengths.shape[:-1])

    def _check_coords(self, coords: _Coords) -> _Coords:
        grid = self.chunks_per_shard
        coords = tuple(int(c) for c in coords)
        if len(coords) != len(grid) or not all(0 <= c < n for c, n in zip(coords, grid, strict=True)):
            raise IndexError(f"inner chunk {coords} is outside the shard's chunk grid {grid}")
        return coords

    def get(self, coords: _Coords) -> tuple[int, int] | None:
        """``(offset, length)`` of the inner chunk at ``coords`` (in the shard's chunk grid), None if missing."""
        offset, length = self.offsets_and_lengths[self._check_coords(coords)]
        if offset == MAX_UINT64 and length == MAX_UINT64:
            return None
        return int(offset), int(length)

    def nonempty_mask(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Boolean array of shape ``chunks_per_shard``: True where an inner chunk is stored."""
        entries = self.offsets_and_lengths
        empty: np.ndarray[Any, np.dtype[np.bool_]] = (entries[..., 0] == MAX_UINT64) & (entries[..., 1] == MAX_UINT64)
        return ~empty

    def is_all_empty(self) -> bool:
        """True when no inner chunk is stored."""
        return bool(np.all(self.offsets_and_lengths == MAX_UINT64))

    def nonempty_coords(self) -> tuple[_Coords, ...]:
        """The coordinates of the stored inner chunks, in C order."""
        return tuple(tuple(int(x) for x in row) for row in np.argwhere(self.nonempty_mask()))

    def check(self, shard_nbytes: int | None = None) -> None:
        """Raise CorruptChunkError (a ValueError) if an entry is malformed or points past the shard.

        Parameters
        ----------
        shard_nbytes
            The size of the whole shard, or None to check only the entries themselves.
        """
        entries = self.offsets_and_lengths.reshape(-1, 2)
        offsets, lengths = entries[:, 0], entries[:, 1]
        empty = (offsets == MAX_UINT64) & (lengths == MAX_UINT64)
        # offset + length must neither overflow 64 bits nor pass the end of the shard
        limit = np.uint64(MAX_UINT64 if shard_nbytes is None else shard_nbytes)
        bad = ~empty & ((offsets > limit) | (lengths > limit - np.minimum(offsets, limit)))
        if bad.any():
            grid = self.chunks_per_shard
            first = int(np.flatnonzero(bad)[0])
            coords = tuple(int(c) for c in np.unravel_index(first, grid)) if grid else ()
            where = "" if shard_nbytes is None else f" of a shard of {shard_nbytes} bytes"
            raise CorruptChunkError(
                f"sharding_indexed: corrupt shard index: inner chunk {coords} has offset {int(offsets[first])} "
                f"and length {int(lengths[first])}, outside the bytes{where}"
            )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ShardIndex):
            return NotImplemented
        return bool(np.array_equal(self.offsets_and_lengths, other.offsets_and_lengths))

    __hash__ = None  # type: ignore[assignment]

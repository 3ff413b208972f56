"""Chunk grids: how an array's index space is cut into chunks.

Two grids are built in:

``regular``
    Every chunk has the same shape ``chunk_shape``; chunks at the upper edge of the array are stored
    padded to that shape. JSON: ``{"name": "regular", "configuration": {"chunk_shape": [10, 10]}}``,
    exactly as zarr-python 3 writes it.
``rectilinear``
    The chunk grid of the zarr-extensions registry: per axis, a sequence of chunk edge lengths.
    JSON: ``{"name": "rectilinear", "configuration": {"kind": "inline", "chunk_shapes": [...]}}`` where
    an axis entry is an integer (a regular step repeated to cover the axis) or a list whose elements
    are edge lengths or run-length pairs ``[value, count]``. The edges must cover the axis and may
    overflow it; chunks lying wholly past the end of the array are not part of the grid.

Both grids answer the same questions with numpy: :meth:`ChunkGrid.axis_edges` gives, per axis, the
offsets of the chunks that intersect the array (clipped to the array length), which is what indexing
plans with. Results are cached, so asking again for the same array shape costs a dictionary lookup.

Other grids register with :func:`register_chunk_grid` or through the ``zarrlayered.chunk_grids``
entry-point group; :func:`parse_chunk_grid` turns metadata JSON into a grid.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Literal, Self, TypeAlias, cast

import numpy as np
import numpy.typing as npt

from zarrlayered.core.extensions import ExtensionRegistry
from zarrlayered.errors import MetadataValidationError

__all__ = [
    "CHUNK_GRID_REGISTRY",
    "ChunkGrid",
    "ChunksLike",
    "RectilinearChunkGrid",
    "RegularChunkGrid",
    "get_chunk_grid_class",
    "guess_chunks",
    "normalize_chunks",
    "parse_chunk_grid",
    "register_chunk_grid",
]

logger = logging.getLogger("zarrlayered.array")

IntArray: TypeAlias = npt.NDArray[np.int64]
ChunksLike: TypeAlias = "Literal['auto'] | bool | int | Sequence[int | Sequence[int] | None] | None"

_EDGE_CACHE_SIZE = 64


def _is_int(value: object) -> bool:
    """True for Python and numpy integers, False for bools (``True`` is not a chunk length)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _is_sequence(value: object) -> bool:
    """True for lists, tuples and other sequences, False for strings and bytes."""
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _as_int(value: object) -> int:
    return int(cast(numbers.Integral, value))


def _readonly(array: IntArray) -> IntArray:
    array.setflags(write=False)
    return array


def _parse_shape(array_shape: Sequence[int], ndim: int, grid: str) -> tuple[int, ...]:
    if len(array_shape) != ndim:
        raise MetadataValidationError(
            f"{grid} chunk grid has {ndim} dimension(s) but the array shape {tuple(array_shape)} has {len(array_shape)}"
        )
    return tuple(int(s) for s in array_shape)


class ChunkGrid(ABC):
    """Base class of chunk grids (concrete grids are frozen dataclasses).

    A grid knows its number of dimensions and, given an array shape, where each chunk starts and ends.
    """

    #: The V3 ``name`` of the grid.
    grid_name: ClassVar[str]

    @property
    @abstractmethod
    def ndim(self) -> int:
        """Number of dimensions of the grid (and of the arrays it can cut)."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The V3 metadata JSON of the grid: ``{"name": ..., "configuration": {...}}``."""

    @classmethod
    @abstractmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build the grid from its V3 metadata JSON.

        Raises
        ------
        MetadataValidationError
            The JSON is not a valid description of this grid; the message names the bad field.
        """

    @abstractmethod
    def axis_edges(self, array_shape: Sequence[int]) -> tuple[IntArray, ...]:
        """Per axis, the int64 offsets of the chunks that intersect the array.

        Each array has length ``n_chunks + 1``; ``edges[0] == 0`` and ``edges[-1]`` is the array length
        (the last chunk is clipped to the array). The arrays are cached and read-only.
        """

    @abstractmethod
    def chunk_shape_at(self, coords: Sequence[int], array_shape: Sequence[int]) -> tuple[int, ...]:
        """The stored (codec) shape of chunk ``coords``: edge chunks are not clipped."""

    def grid_shape(self, array_shape: Sequence[int]) -> tuple[int, ...]:
        """Number of chunks along each axis."""
        return tuple(len(edges) - 1 for edges in self.axis_edges(array_shape))

    def nchunks(self, array_shape: Sequence[int]) -> int:
        """Total number of chunks of an array of this shape."""
        return math.prod(self.grid_shape(array_shape))

    def all_chunk_coords(self, array_shape: Sequence[int]) -> Iterator[tuple[int, ...]]:
        """Every chunk's grid coordinates, in C order."""
        return itertools.product(*(range(n) for n in self.grid_shape(array_shape)))

    def chunk_region(self, coords: Sequence[int], array_shape: Sequence[int]) -> tuple[slice, ...]:
        """The region of the array covered by chunk ``coords`` (clipped to the array), as slices."""
        edges = self.axis_edges(array_shape)
        if len(coords) != len(edges):
            raise IndexError(f"chunk coordinates {tuple(coords)} do not have {len(edges)} dimension(s)")
        region = []
        for axis, (c, e) in enumerate(zip(coords, edges, strict=True)):
            if not 0 <= c < len(e) - 1:
                raise IndexError(f"chunk index {c} is out of bounds for axis {axis} with {len(e) - 1} chunk(s)")
            region.append(slice(int(e[c]), int(e[c + 1])))
        return tuple(region)

    def chunk_sizes(self, array_shape: Sequence[int]) -> tuple[tuple[int, ...], ...]:
        """Per axis, the lengths of the chunks inside the array (dask style; the last one clipped)."""
        return tuple(tuple(np.diff(e).tolist()) for e in self.axis_edges(array_shape))

    @abstractmethod
    def validate(self, array_shape: Sequence[int]) -> None:
        """Check that the grid can cut an array of this shape.

        Raises
        ------
        MetadataValidationError
            Wrong number of dimensions, or edges that do not cover an axis.
        """


# ---------------------------------------------------------------------------------------------------
# regular


@functools.lru_cache(maxsize=128)
def _regular_edges(chunk: int, length: int) -> IntArray:
    edges = np.arange(0, length + chunk, chunk, dtype=np.int64)
    if length == 0:
        return _readonly(edges[:1].copy())
    n = -(-length // chunk)
    edges = edges[: n + 1].copy()
    edges[-1] = length
    return _readonly(edges)


@functools.lru_cache(maxsize=64)
def _regular_grid_edges(chunk_shape: tuple[int, ...], shape: tuple[int, ...]) -> tuple[IntArray, ...]:
    return tuple(_regular_edges(c, s) for c, s in zip(chunk_shape, shape, strict=True))


def _parse_chunk_length(value: object, where: str) -> int:
    if not _is_int(value):
        raise MetadataValidationError(f"{where} must be a positive integer, got {value!r}")
    as_int = _as_int(value)
    if as_int < 1:
        raise MetadataValidationError(f"{where} must be a positive integer, got {as_int}")
    return as_int


def _parse_named_config(data: Mapping[str, Any], name: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise MetadataValidationError(f"chunk_grid must be a JSON object, got {data!r}")
    if data.get("name") != name:
        raise MetadataValidationError(f"chunk_grid.name must be {name!r}, got {data.get('name')!r}")
    extra = set(data) - {"name", "configuration"}
    if extra:
        raise MetadataValidationError(f"chunk_grid has unexpected field(s) {sorted(extra)}")
    config = data.get("configuration")
    if not isinstance(config, Mapping):
        raise MetadataValidationError(f"chunk_grid.configuration must be a JSON object, got {config!r}")
    for key in keys:
        if key not in config:
            raise MetadataValidationError(f"chunk_grid.configuration.{key} is missing")
    extra = set(config) - set(keys)
    if extra:
        raise MetadataValidationError(f"chunk_grid.configuration has unexpected field(s) {sorted(extra)}")
    return config


@dataclass(frozen=True)
class RegularChunkGrid(ChunkGrid):
    """Every chunk has shape ``chunk_shape``; edge chunks are stored padded to it.

    Parameters
    ----------
    chunk_shape
        Positive chunk length per axis (``()`` for a 0-d array).
    """

    grid_name: ClassVar[str] = "regular"

    chunk_shape: tuple[int, ...]

    def __post_init__(self) -> None:
        if not _is_sequence(self.chunk_shape):
            raise MetadataValidationError(f"chunk_shape must be a sequence of integers, got {self.chunk_shape!r}")
        parsed = tuple(
            _parse_chunk_length(c, f"chunk_shape[{i}] of {tuple(self.chunk_shape)!r}")
            for i, c in enumerate(self.chunk_shape)
        )
        object.__setattr__(self, "chunk_shape", parsed)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.chunk_shape)

    def to_dict(self) -> dict[str, Any]:
        """``{"name": "regular", "configuration": {"chunk_shape": [...]}}``."""
        return {"name": "regular", "configuration": {"chunk_shape": list(self.chunk_shape)}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse ``{"name": "regular", "configuration": {"chunk_shape": [...]}}``."""
        config = _parse_named_config(data, "regular", ("chunk_shape",))
        shape = config["chunk_shape"]
        if isinstance(shape, str | bytes) or not isinstance(shape, Sequence):
            raise MetadataValidationError(f"chunk_grid.configuration.chunk_shape must be a list, got {shape!r}")
        return cls(chunk_shape=tuple(shape))

    def axis_edges(self, array_shape: Sequence[int]) -> tuple[IntArray, ...]:
        """Per axis chunk offsets, clipped to the array (see :meth:`ChunkGrid.axis_edges`)."""
        shape = _parse_shape(array_shape, self.ndim, "regular")
        return _regular_grid_edges(self.chunk_shape, shape)

    def grid_shape(self, array_shape: Sequence[int]) -> tuple[int, ...]:
        """Number of chunks along each axis: ``ceil(shape / chunk_shape)``."""
        shape = _parse_shape(array_shape, self.ndim, "regular")
        return tuple(-(-s // c) for s, c in zip(shape, self.chunk_shape, strict=True))

    def chunk_region(self, coords: Sequence[int], array_shape: Sequence[int]) -> tuple[slice, ...]:
        """The region of the array covered by chunk ``coords`` (clipped to the array), as slices."""
        shape = _parse_shape(array_shape, self.ndim, "regular")
        if len(coords) != self.ndim:
            raise IndexError(f"chunk coordinates {tuple(coords)} do not have {self.ndim} dimension(s)")
        region = []
        for axis, (c, size, n) in enumerate(zip(coords, self.chunk_shape, shape, strict=True)):
            if not 0 <= c * size < n:
                raise IndexError(f"chunk index {c} is out of bounds for axis {axis} with {-(-n // size)} chunk(s)")
            region.append(slice(c * size, min((c + 1) * size, n)))
        return tuple(region)

    def chunk_shape_at(self, coords: Sequence[int], array_shape: Sequence[int]) -> tuple[int, ...]:
        """Always ``chunk_shape``: edge chunks are stored padded."""
        return self.chunk_shape

    def validate(self, array_shape: Sequence[int]) -> None:
        """Check the number of dimensions."""
        _parse_shape(array_shape, self.ndim, "regular")


# ---------------------------------------------------------------------------------------------------
# rectilinear


#: A rectilinear grid may list at most this many chunk edges per axis (run-length pairs expanded): a
#: run count of 2**60 is refused instead of being expanded.
MAX_RECTILINEAR_EDGES = 2**22


def _parse_rectilinear_axis(value: object, axis: int) -> tuple[int, ...]:
    where = f"chunk_grid.configuration.chunk_shapes[{axis}]"
    if _is_int(value):
        return (_parse_chunk_length(value, where),)
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise MetadataValidationError(f"{where} must be an integer or a list of edge lengths, got {value!r}")
    edges: list[int] = []
    for j, item in enumerate(value):
        if _is_int(item):
            edges.append(_parse_chunk_length(item, f"{where}[{j}]"))
        elif isinstance(item, Sequence) and not isinstance(item, str | bytes) and len(item) == 2:
            length = _parse_chunk_length(item[0], f"{where}[{j}][0] (edge length)")
            count = _parse_chunk_length(item[1], f"{where}[{j}][1] (repeat count)")
            if len(edges) + count > MAX_RECTILINEAR_EDGES:
                raise MetadataValidationError(
                    f"{where} lists more than {MAX_RECTILINEAR_EDGES} chunk edges (a run of {count} at [{j}])"
                )
            edges.extend([length] * count)
        else:
            raise MetadataValidationError(
                f"{where}[{j}] must be an edge length or a run-length pair [length, count], got {item!r}"
            )
    return tuple(edges)


def _compact_axis(edges: tuple[int, ...]) -> int | list[int | list[int]]:
    if len(edges) == 1:
        return edges[0]
    out: list[int | list[int]] = []
    for value, run in itertools.groupby(edges):
        count = sum(1 for _ in run)
        out.append([value, count] if count > 1 else value)
    return out


@dataclass(frozen=True)
class RectilinearChunkGrid(ChunkGrid):
    """Per axis, an explicit sequence of chunk edge lengths (the zarr-extensions ``rectilinear`` grid).

    Parameters
    ----------
    chunk_shapes
        Per axis, the edge lengths of the chunks (run-length pairs already expanded). An axis whose edges
        are all equal is regular: it is stored as the single step ``(m,)`` and repeats to cover any
        length, which is what the integer form of the JSON means. Other axes must cover the array
        (their sum may exceed the axis length; chunks wholly past the end are not part of the grid).

    Notes
    -----
    ``to_dict`` writes the compact form: an integer for a regular axis, run-length pairs
    ``[length, count]`` for repeated edges. An explicit list of equal edges such as ``[4, 4]`` reads as
    the regular step ``4`` (so it also covers arrays longer than 8, a lenient reading of the spec).
    """

    grid_name: ClassVar[str] = "rectilinear"

    chunk_shapes: tuple[tuple[int, ...], ...]
    _cumsums: tuple[IntArray | None, ...] = field(init=False, repr=False, compare=False, hash=False)
    _cache: dict[tuple[int, ...], tuple[IntArray, ...]] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )
    _hash: int = field(init=False, repr=False, compare=False, hash=False, default=0)

    def __hash__(self) -> int:  # the edges can be long: hash them once
        return self._hash

    def __reduce__(self) -> tuple[type[Self], tuple[tuple[tuple[int, ...], ...]]]:
        return (type(self), (self.chunk_shapes,))  # pickle the edges, not the caches

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RectilinearChunkGrid):
            return NotImplemented
        return self is other or (self._hash == other._hash and self.chunk_shapes == other.chunk_shapes)

    def __post_init__(self) -> None:
        shapes: object = self.chunk_shapes
        if not _is_sequence(shapes):
            raise MetadataValidationError(f"chunk_shapes must be a sequence of per-axis edge lengths, got {shapes!r}")
        parsed: list[tuple[int, ...]] = []
        for axis, edges in enumerate(cast(Sequence[object], shapes)):
            if _is_int(edges):
                parsed.append((_parse_chunk_length(edges, f"chunk_shapes[{axis}]"),))
                continue
            if not _is_sequence(edges):
                raise MetadataValidationError(f"chunk_shapes[{axis}] must be a sequence of edge lengths, got {edges!r}")
            axis_edges = tuple(
                _parse_chunk_length(e, f"chunk_shapes[{axis}][{j}]")
                for j, e in enumerate(cast(Sequence[object], edges))
            )
            if len(axis_edges) > 1 and all(e == axis_edges[0] for e in axis_edges):
                axis_edges = axis_edges[:1]
            parsed.append(axis_edges)
        object.__setattr__(self, "chunk_shapes", tuple(parsed))
        object.__setattr__(self, "_hash", hash(self.chunk_shapes))
        cumsums = tuple(
            None if len(e) == 1 else _readonly(np.cumsum(np.asarray(e, dtype=np.int64))) for e in self.chunk_shapes
        )
        object.__setattr__(self, "_cumsums", cumsums)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.chunk_shapes)

    @property
    def regular_axes(self) -> tuple[bool, ...]:
        """Per axis, whether it is a regular step (repeats to cover any length)."""
        return tuple(c is None for c in self._cumsums)

    def to_dict(self) -> dict[str, Any]:
        """The compact JSON: integers for regular axes, run-length pairs for repeated edges."""
        return {
            "name": "rectilinear",
            "configuration": {"kind": "inline", "chunk_shapes": [_compact_axis(e) for e in self.chunk_shapes]},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse ``{"name": "rectilinear", "configuration": {"kind": "inline", "chunk_shapes": [...]}}``."""
        config = _parse_named_config(data, "rectilinear", ("kind", "chunk_shapes"))
        if config["kind"] != "inline":
            raise MetadataValidationError(
                f"chunk_grid.configuration.kind must be 'inline' (the only kind defined), got {config['kind']!r}"
            )
        shapes = config["chunk_shapes"]
        if isinstance(shapes, str | bytes) or not isinstance(shapes, Sequence):
            raise MetadataValidationError(f"chunk_grid.configuration.chunk_shapes must be a list, got {shapes!r}")
        return cls(chunk_shapes=tuple(_parse_rectilinear_axis(v, i) for i, v in enumerate(shapes)))

    def edges_along(self, axis: int, length: int) -> IntArray:
        """The clipped chunk offsets along one axis of length ``length`` (see :meth:`axis_edges`)."""
        cumsum = self._cumsums[axis]
        if cumsum is None:
            return _regular_edges(self.chunk_shapes[axis][0], length)
        covered = int(cumsum[-1]) if len(cumsum) else 0
        if covered < length:
            raise MetadataValidationError(
                f"rectilinear chunk_shapes[{axis}] covers {covered} element(s) but the array has length {length} "
                "on that axis"
            )
        n = int(np.searchsorted(cumsum, length, side="left")) + 1 if length else 0
        edges = np.empty(n + 1, dtype=np.int64)
        edges[0] = 0
        edges[1:] = cumsum[:n]
        if n:
            edges[-1] = length
        return _readonly(edges)

    def axis_edges(self, array_shape: Sequence[int]) -> tuple[IntArray, ...]:
        """Per axis chunk offsets, clipped to the array (see :meth:`ChunkGrid.axis_edges`)."""
        shape = _parse_shape(array_shape, self.ndim, "rectilinear")
        found = self._cache.get(shape)
        if found is not None:
            return found
        result = tuple(self.edges_along(i, s) for i, s in enumerate(shape))
        if len(self._cache) >= _EDGE_CACHE_SIZE:  # racing threads at worst recompute an entry
            self._cache.clear()
        self._cache[shape] = result
        return result

    def chunk_shape_at(self, coords: Sequence[int], array_shape: Sequence[int]) -> tuple[int, ...]:
        """The declared edge lengths of chunk ``coords`` (the last chunk is not clipped)."""
        if len(coords) != self.ndim:
            raise IndexError(f"chunk coordinates {tuple(coords)} do not have {self.ndim} dimension(s)")
        out = []
        for axis, (c, edges) in enumerate(zip(coords, self.chunk_shapes, strict=True)):
            if len(edges) == 1:
                out.append(edges[0])
            elif 0 <= c < len(edges):
                out.append(edges[c])
            else:
                raise IndexError(f"chunk index {c} is out of bounds for axis {axis} with {len(edges)} chunk(s)")
        return tuple(out)

    def validate(self, array_shape: Sequence[int]) -> None:
        """Check the number of dimensions and that every axis is covered by its edges."""
        self.axis_edges(array_shape)


# ---------------------------------------------------------------------------------------------------
# registry


def _check_chunk_grid(name: str, cls: object) -> type[ChunkGrid]:
    if not isinstance(name, str) or not name:
        raise ValueError(f"chunk grid name must be a non-empty string, got {name!r}")
    if not (isinstance(cls, type) and issubclass(cls, ChunkGrid)):
        raise TypeError(f"chunk grid class for {name!r} must be a ChunkGrid subclass, got {cls!r}")
    return cls


#: The chunk grid registry (see :class:`~zarrlayered.core.extensions.ExtensionRegistry`).
CHUNK_GRID_REGISTRY: Final = ExtensionRegistry[type[ChunkGrid]](
    "chunk grid",
    "zarrlayered.chunk_grids",
    _check_chunk_grid,
    builtins={"regular": RegularChunkGrid, "rectilinear": RectilinearChunkGrid},
    logger=logger,
)


def register_chunk_grid(name: str, cls: type[ChunkGrid]) -> None:
    """Make ``{"name": name, ...}`` chunk grids parse with ``cls.from_dict``.

    Runtime registrations take precedence over the built-ins and the ``zarrlayered.chunk_grids``
    entry points.
    """
    CHUNK_GRID_REGISTRY.register(name, cls)


def get_chunk_grid_class(name: str) -> type[ChunkGrid]:
    """The class registered for chunk grid ``name`` (runtime, built-in, then entry points).

    Raises
    ------
    MetadataValidationError
        No grid of that name is known, or its entry point cannot be loaded.
    """
    return CHUNK_GRID_REGISTRY.get(name)


def parse_chunk_grid(value: ChunkGrid | Mapping[str, Any]) -> ChunkGrid:
    """A chunk grid from a grid object (returned as is) or its V3 JSON.

    Raises
    ------
    MetadataValidationError
        Unknown grid name or invalid configuration.
    """
    if isinstance(value, ChunkGrid):
        return value
    if not isinstance(value, Mapping):
        raise MetadataValidationError(f"chunk_grid must be a JSON object or a ChunkGrid, got {value!r}")
    name = value.get("name")
    if not isinstance(name, str):
        raise MetadataValidationError(f"chunk_grid.name must be a string, got {name!r}")
    return get_chunk_grid_class(name).from_dict(value)


# ---------------------------------------------------------------------------------------------------
# normalize_chunks


def guess_chunks(
    shape: Sequence[int],
    itemsize: int,
    *,
    increment_bytes: int = 256 * 1024,
    min_bytes: int = 128 * 1024,
    max_bytes: int = 64 * 1024 * 1024,
) -> tuple[int, ...]:
    """Guess a chunk shape for an array: the h5py/PyTables heuristic that zarr-python 3 uses.

    The target chunk size grows with the array (``increment_bytes * 2 ** log10(MiB of data)``), kept
    between ``min_bytes`` and ``max_bytes``; the axes are halved in turn, starting with the first,
    until the chunk is below the target or within 50 % of it, and below ``max_bytes``. The result is
    the same as zarr-python 3's for the same arguments.
    """
    if min_bytes >= max_bytes:
        raise ValueError(f"min_bytes ({min_bytes}) must be less than max_bytes ({max_bytes})")
    dims = [float(max(int(s), 1)) for s in shape]
    if itemsize == 0 or not dims:
        return tuple(int(d) for d in dims)
    total = math.prod(dims) * itemsize
    target = increment_bytes * 2 ** math.log10(total / (1024.0 * 1024))
    target = min(max(target, min_bytes), max_bytes)
    axis = 0
    while True:
        nbytes = math.prod(dims) * itemsize
        small_enough = nbytes < target or abs(nbytes - target) / target < 0.5
        if (small_enough and nbytes < max_bytes) or math.prod(dims) == 1:
            break
        dims[axis % len(dims)] = float(math.ceil(dims[axis % len(dims)] / 2.0))
        axis += 1
    return tuple(int(d) for d in dims)


def _full_axis(length: int) -> int:
    return max(length, 1)


def _normalize_axis_entry(value: object, length: int, axis: int) -> int | tuple[int, ...]:
    if value is None or (_is_int(value) and _as_int(value) == -1):
        return _full_axis(length)
    if _is_int(value):
        as_int = _as_int(value)
        if as_int < 1:
            raise ValueError(f"chunks[{axis}] must be a positive integer, -1 or None, got {as_int}")
        return as_int
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        edges = []
        for j, e in enumerate(value):
            if not _is_int(e) or _as_int(e) < 1:
                raise ValueError(f"chunks[{axis}][{j}] must be a positive integer edge length, got {e!r}")
            edges.append(_as_int(e))
        if sum(edges) < length:
            raise ValueError(
                f"chunks[{axis}] = {tuple(edges)} covers {sum(edges)} element(s) but the axis has length {length}"
            )
        return tuple(edges)
    raise TypeError(f"chunks[{axis}] must be an integer, -1, None or a sequence of edge lengths, got {value!r}")


def _uniform_step(edges: tuple[int, ...]) -> int | None:
    """The regular step of dask-style chunks (equal lengths, the last one possibly smaller), else None."""
    if not edges:
        return 1
    first = edges[0]
    if all(e == first for e in edges[:-1]) and edges[-1] <= first:
        return first
    return None


def normalize_chunks(
    chunks: ChunksLike, shape: Sequence[int], itemsize: int
) -> tuple[int, ...] | tuple[tuple[int, ...], ...]:
    """Normalize a user's ``chunks`` argument for an array of ``shape``.

    Parameters
    ----------
    chunks
        ``"auto"``, ``True`` or ``None``: guess like zarr-python 3 (:func:`guess_chunks`). ``False``: one
        chunk for the whole array. An integer: that length on every axis. A sequence with one entry per
        axis (missing trailing entries mean the full axis): an integer, ``-1`` or ``None`` (the full
        axis), or a sequence of edge lengths for that axis.
    shape
        The array shape.
    itemsize
        Bytes per element (drives the ``"auto"`` guess).

    Returns
    -------
    tuple[int, ...] | tuple[tuple[int, ...], ...]
        A regular chunk shape, or per-axis edge lengths when some axis is irregular (a rectilinear
        grid). Dask-style uniform edges (equal lengths, the last one smaller) collapse to the regular
        form, like zarr-python 3.

    Raises
    ------
    ValueError
        A zero or negative length, too many entries, edges that do not cover their axis.
    TypeError
        An entry of the wrong type.
    """
    shape = tuple(int(s) for s in shape)
    if chunks is None or chunks is True or (isinstance(chunks, str) and chunks == "auto"):
        return guess_chunks(shape, itemsize)
    if chunks is False:
        return tuple(_full_axis(s) for s in shape)
    if isinstance(chunks, str | bytes):
        raise ValueError(f"chunks must be 'auto', an integer or a sequence, got {chunks!r}")
    if _is_int(chunks):
        return tuple(cast(int, _normalize_axis_entry(chunks, s, i)) for i, s in enumerate(shape))
    if not isinstance(chunks, Sequence):
        raise TypeError(f"chunks must be 'auto', an integer or a sequence, got {chunks!r}")
    entries = list(chunks)
    if len(entries) > len(shape):
        raise ValueError(f"chunks {tuple(entries)!r} has {len(entries)} entries but the array has {len(shape)} axes")
    entries += [None] * (len(shape) - len(entries))
    parsed = [_normalize_axis_entry(v, s, i) for i, (v, s) in enumerate(zip(entries, shape, strict=True))]
    regular: list[int] = []
    for p in parsed:
        step = p if isinstance(p, int) else _uniform_step(p)
        if step is None:
            break
        regular.append(step)
    else:
        return tuple(regular)
    rectilinear: list[tuple[int, ...]] = []
    for p, s in zip(parsed, shape, strict=True):
        if isinstance(p, int):
            rectilinear.append((p,) * max(-(-s // p), 1))
        else:
            rectilinear.append(p)
    return tuple(rectilinear)

"""Array: the synchronous array of the new front end, a thin wrapper over :class:`AsyncArray`.

When the store answers synchronously (memory, local files, mappings), reads and writes call the engine's
synchronous path directly; otherwise they run on the IO loop through :func:`zarrlayered.sync`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from zarrlayered.attributes import Attributes
from zarrlayered.core.array import AsyncArray
from zarrlayered.core.sync import sync
from zarrlayered.info import ArrayInfo

__all__ = ["Array"]


def _materialize(value: Any) -> Any:
    """Read other arrays before the engine sees them (no re-entrant calls from inside the IO loop)."""
    if isinstance(value, Array):
        return value[...]
    if isinstance(value, AsyncArray):
        return Array(value)[...]
    return value


def pop_fields(selection: Any) -> tuple[Any, Any]:
    """Split structured-dtype field names (str, or a list of str) off a selection, as zarr-python does."""
    if isinstance(selection, str):
        return selection, Ellipsis
    if isinstance(selection, list) and selection and all(isinstance(s, str) for s in selection):
        return selection, Ellipsis
    if isinstance(selection, tuple):
        fields = [s for s in selection if isinstance(s, str)]
        rest = tuple(s for s in selection if not isinstance(s, str))
        if fields:
            return (fields[0] if len(fields) == 1 else fields), (rest if rest else Ellipsis)
    return None, selection


def _materialize_selection(selection: Any) -> Any:
    if isinstance(selection, tuple):
        return tuple(_materialize(s) for s in selection)
    return _materialize(selection)


class _SelectionProxy:
    """``array.oindex`` / ``vindex`` / ``blocks``: indexing with one selection kind."""

    def __init__(self, array: Array, kind: str) -> None:
        self._array = array
        self._kind = kind

    def __getitem__(self, selection: Any) -> Any:
        return self._array._get(selection, self._kind)

    def __setitem__(self, selection: Any, value: Any) -> None:
        self._array._set(selection, value, self._kind)


class Array:
    """A Zarr array (V2 or V3), with zarr-python 3's API and numpy indexing semantics.

    Parameters
    ----------
    async_array
        The engine's array to wrap (``Array(async_array)``; ``array.async_array`` gives it back).
    """

    def __init__(self, async_array: AsyncArray) -> None:
        if not isinstance(async_array, AsyncArray):
            raise TypeError(f"Array wraps an AsyncArray, got {type(async_array).__name__}")
        self._async_array = async_array

    @property
    def async_array(self) -> AsyncArray:
        """The engine's array (use it with ``await`` in async code)."""
        return self._async_array

    # -- description -----------------------------------------------------------------------------
    @property
    def metadata(self) -> Any:
        """The array's metadata (ArrayV2Metadata or ArrayV3Metadata)."""
        return self._async_array.metadata

    @property
    def store(self) -> Any:
        """The store holding the array."""
        return self._async_array.store

    @property
    def store_path(self) -> str:
        """Where the array is: ``"<store URL>/<path>"``, as zarr-python 3 prints it."""
        return self._async_array.store_path

    @property
    def path(self) -> str:
        """The path of the array in its store."""
        return self._async_array.path

    @property
    def name(self) -> str:
        """The absolute name of the array in its hierarchy ("/a/b")."""
        return self._async_array.name

    @property
    def basename(self) -> str:
        """The last part of :attr:`name`."""
        return self._async_array.basename

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape."""
        return self._async_array.shape

    @shape.setter
    def shape(self, value: tuple[int, ...]) -> None:
        self.resize(value)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The numpy dtype."""
        return self._async_array.dtype

    @property
    def chunks(self) -> Any:
        """The chunk shape (per-axis chunk lengths for a rectilinear grid)."""
        return self._async_array.chunks

    @property
    def shards(self) -> tuple[int, ...] | None:
        """The shard shape, or None when the array is not sharded."""
        return self._async_array.shards

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self._async_array.ndim

    @property
    def size(self) -> int:
        """The number of elements."""
        return self._async_array.size

    @property
    def nbytes(self) -> int:
        """The number of bytes the data takes in memory."""
        return self._async_array.nbytes

    @property
    def nchunks(self) -> int:
        """The number of chunks in the grid."""
        return self._async_array.nchunks

    @property
    def cdata_shape(self) -> tuple[int, ...]:
        """The number of chunks along each axis."""
        return self._async_array.cdata_shape

    @property
    def nchunks_initialized(self) -> int:
        """The number of chunks stored."""
        return sync(self._async_array.nchunks_initialized())

    def nbytes_stored(self) -> int:
        """Bytes stored for this array (chunks and metadata)."""
        return sync(self._async_array.nbytes_stored())

    @property
    def fill_value(self) -> Any:
        """The fill value."""
        return self._async_array.fill_value

    @property
    def order(self) -> str:
        """The memory order, "C" or "F"."""
        return self._async_array.order

    @property
    def zarr_format(self) -> int:
        """2 or 3."""
        return self._async_array.zarr_format

    @property
    def read_only(self) -> bool:
        """True when the array refuses writes."""
        return self._async_array.read_only

    @property
    def compressors(self) -> tuple[Any, ...]:
        """The compressors (V3 bytes -> bytes codecs, or the V2 compressor)."""
        return self._async_array.compressors

    @property
    def compressor(self) -> Any:
        """The one compressor of a V2 array (None when there is none)."""
        found = self.compressors
        return found[0] if found else None

    @property
    def filters(self) -> tuple[Any, ...]:
        """The filters (V3 array -> array codecs, or the V2 filters)."""
        return self._async_array.filters

    @property
    def serializer(self) -> Any:
        """The array -> bytes codec of a V3 array."""
        return self._async_array.serializer

    @property
    def attrs(self) -> Attributes:
        """The user attributes; changes are saved at once."""

        def write(attributes: dict[str, Any]) -> None:
            metadata = self._async_array.metadata.update_attributes(attributes)
            sync(self._async_array._save_metadata(metadata))
            self._async_array.metadata = metadata

        return Attributes(lambda: self._async_array.metadata.attributes, write)

    def update_attributes(self, new_attributes: Mapping[str, Any]) -> Array:
        """Merge ``new_attributes`` into the attributes and save them."""
        sync(self._async_array.update_attributes(new_attributes))
        return self

    @property
    def info(self) -> ArrayInfo:
        """A description of the array (type, format, shape, chunks, codecs)."""
        return self._async_array.info

    def info_complete(self) -> ArrayInfo:
        """:attr:`info` plus what needs a store listing: chunks initialized, bytes stored."""
        return sync(self._async_array.info_complete())

    def __repr__(self) -> str:
        return f"<Array {self.store_path} shape={self.shape} dtype={self.dtype}>"

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self) -> Iterator[Any]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        for i in range(self.shape[0]):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Array):
            return NotImplemented
        mine, theirs = self._async_array, other._async_array
        return mine.store == theirs.store and mine.path == theirs.path and mine.metadata == theirs.metadata

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(
                "The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()"
            )
        return bool(self[...].reshape(()))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray[Any, Any]:
        if copy is False:
            raise ValueError("reading a Zarr array always makes a copy; copy=False cannot be honoured")
        data = np.asarray(self[...])
        return data if dtype is None else data.astype(dtype)

    # -- reading and writing -----------------------------------------------------------------------
    def _check_fields(self, fields: Any) -> None:
        names = [fields] if isinstance(fields, str) else list(fields)
        known = self.dtype.names or ()
        missing = [n for n in names if n not in known]
        if missing:
            raise IndexError(f"fields {missing} are not in the array's dtype {self.dtype} (fields: {list(known)})")

    def _get(self, selection: Any, kind: str, out: np.ndarray[Any, Any] | None = None, fields: Any = None) -> Any:
        if fields is None and kind in ("getitem", "basic"):
            fields, selection = pop_fields(selection)
        selection = _materialize_selection(selection)
        engine = self._async_array
        if fields is not None:
            self._check_fields(fields)
            whole = self._get(selection, kind)
            result = np.asarray(whole)[fields]
            if out is not None:
                out[...] = result
                return out
            return result
        if engine.sync_path:
            return engine.get_selection_sync(selection, kind, out)
        return sync(engine.get_selection(selection, kind, out))

    def _set(self, selection: Any, value: Any, kind: str, fields: Any = None) -> None:
        if fields is None and kind in ("getitem", "basic"):
            fields, selection = pop_fields(selection)
        selection = _materialize_selection(selection)
        value = _materialize(value)
        if fields is not None:  # read, replace the fields, write back
            self._check_fields(fields)
            current = np.array(self._get(selection, kind), copy=True)
            current[fields] = value
            value = current
        engine = self._async_array
        if engine.sync_path:
            engine.set_selection_sync(selection, value, kind)
        else:
            sync(engine.set_selection(selection, value, kind))

    def __getitem__(self, selection: Any) -> Any:
        return self._get(selection, "getitem")

    def __setitem__(self, selection: Any, value: Any) -> None:
        self._set(selection, value, "getitem")

    @property
    def oindex(self) -> _SelectionProxy:
        """Orthogonal (outer) indexing: each axis indexed on its own."""
        return _SelectionProxy(self, "orthogonal")

    @property
    def vindex(self) -> _SelectionProxy:
        """Vectorized (coordinate or mask) indexing, like numpy fancy indexing."""
        return _SelectionProxy(self, "vindex")

    @property
    def blocks(self) -> _SelectionProxy:
        """Indexing by chunk: ``a.blocks[i, j]`` is chunk (i, j)."""
        return _SelectionProxy(self, "block")

    def get_basic_selection(self, selection: Any = Ellipsis, *, out: Any = None, fields: Any = None) -> Any:
        """Read a selection of ints, slices (any step) and Ellipsis."""
        return self._get(selection, "basic", out, fields)

    def set_basic_selection(self, selection: Any, value: Any, *, fields: Any = None) -> None:
        """Write a selection of ints, slices (any step) and Ellipsis."""
        self._set(selection, value, "basic", fields)

    def get_orthogonal_selection(self, selection: Any, *, out: Any = None, fields: Any = None) -> Any:
        """Read an orthogonal selection (see :attr:`oindex`)."""
        return self._get(selection, "orthogonal", out, fields)

    def set_orthogonal_selection(self, selection: Any, value: Any, *, fields: Any = None) -> None:
        """Write an orthogonal selection (see :attr:`oindex`)."""
        self._set(selection, value, "orthogonal", fields)

    def get_coordinate_selection(self, selection: Any, *, out: Any = None, fields: Any = None) -> Any:
        """Read the points at the given coordinate arrays."""
        return self._get(selection, "coordinate", out, fields)

    def set_coordinate_selection(self, selection: Any, value: Any, *, fields: Any = None) -> None:
        """Write the points at the given coordinate arrays."""
        self._set(selection, value, "coordinate", fields)

    def get_mask_selection(self, mask: Any, *, out: Any = None, fields: Any = None) -> Any:
        """Read the elements where the boolean ``mask`` (of the array's shape) is True."""
        return self._get(mask, "mask", out, fields)

    def set_mask_selection(self, mask: Any, value: Any, *, fields: Any = None) -> None:
        """Write the elements where the boolean ``mask`` is True."""
        self._set(mask, value, "mask", fields)

    def get_block_selection(self, selection: Any, *, out: Any = None, fields: Any = None) -> Any:
        """Read whole chunks by chunk index (see :attr:`blocks`)."""
        return self._get(selection, "block", out, fields)

    def set_block_selection(self, selection: Any, value: Any, *, fields: Any = None) -> None:
        """Write whole chunks by chunk index."""
        self._set(selection, value, "block", fields)

    # -- changing shape --------------------------------------------------------------------------------
    def resize(self, *new_shape: Any) -> None:
        """Change the shape (``a.resize(10, 20)`` or ``a.resize((10, 20))``); data outside is dropped."""
        shape = tuple(new_shape[0]) if len(new_shape) == 1 and not isinstance(new_shape[0], int) else new_shape
        engine = self._async_array
        if engine.sync_path:
            engine.resize_sync(tuple(int(n) for n in shape))
        else:
            sync(engine.resize(tuple(int(n) for n in shape)))

    def append(self, data: Any, axis: int = 0) -> tuple[int, ...]:
        """Grow the array along ``axis`` by ``data``; returns the new shape."""
        data = _materialize(data)
        engine = self._async_array
        if engine.sync_path:
            return engine.append_sync(data, axis)
        return sync(engine.append(data, axis))

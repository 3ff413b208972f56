"""Dataset: h5py's dataset API over a Zarr array.

Reads and writes follow h5py's indexing (see :mod:`~zarrlayered.compat.h5py.selection`) and go to the
engine as one orthogonal (or mask) selection; the synchronous store path is used where the store has one.
"""

from __future__ import annotations

import itertools
import math
import posixpath
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.recfunctions import repack_fields

from zarrlayered.array import Array
from zarrlayered.compat.h5py.base import HLObject
from zarrlayered.compat.h5py.convert import from_engine, h5py_dtype, sequence_base, to_engine
from zarrlayered.compat.h5py.dtypes import Empty, check_string_dtype, check_vlen_dtype
from zarrlayered.compat.h5py.filters import describe_filters
from zarrlayered.compat.h5py.objects import decode_element, holds_objects
from zarrlayered.compat.h5py.selection import select
from zarrlayered.compat.h5py.wrappers import AsStrWrapper, AstypeWrapper, FieldsWrapper
from zarrlayered.core.array import AsyncArray
from zarrlayered.core.sync import sync

__all__ = ["Dataset"]

_SCALAR_ARGS = ((), (Ellipsis,))


@dataclass(frozen=True)
class _Info:
    """What a dataset's metadata and record say, computed once per metadata version."""

    dtype: np.dtype[Any]
    shape: tuple[int, ...] | None
    extra: tuple[int, ...]
    maxshape: tuple[int | None, ...] | None
    contiguous: bool
    filters: dict[str, Any]
    raw: bool = False


def _as_array(result: Any, dtype: np.dtype[Any]) -> np.ndarray[Any, Any]:
    if isinstance(result, np.ndarray):
        return result
    out = np.empty((), dtype=dtype)
    out[()] = result
    return out


class _FastReader:
    """h5py's ``dset._fast_reader``: here the ordinary read path."""

    def __init__(self, dset: Dataset) -> None:
        self._dset = dset

    def read(self, args: Any) -> Any:
        return self._dset[args]


class Dataset(HLObject):
    """A dataset: an n-dimensional Zarr array with h5py's API.

    Obtain one from a group (``f["x"]``, ``f.create_dataset(...)``); the constructor is internal.
    """

    # -- description ---------------------------------------------------------------------------------------------
    def _engine(self) -> AsyncArray:
        self._state.check_open()
        engine = self._node.engine
        assert isinstance(engine, AsyncArray)
        return engine

    def _info(self) -> _Info:
        engine = self._engine()
        return self._node.cached(lambda: self._compute_info(engine))

    def _compute_info(self, engine: AsyncArray) -> _Info:
        record = self._node.record
        codec = engine.metadata.data_type.object_codec_id
        dtype = h5py_dtype(engine.dtype, codec, record)
        extra = tuple(int(n) for n in record.get("subarray") or ())
        empty = bool(record.get("empty"))
        shape = None if empty else tuple(engine.shape[: engine.ndim - len(extra)])
        if shape is None:
            maxshape = None
        elif isinstance(record.get("maxshape"), list):
            maxshape = tuple(None if m is None else int(m) for m in record["maxshape"])
        else:
            maxshape = (None,) * len(shape)
        filters = describe_filters(list(engine.filters), list(engine.compressors), record)
        contiguous = record.get("layout") == "contiguous" or empty
        return _Info(dtype, shape, extra, maxshape, contiguous, filters, record.get("view") is not None)

    @property
    def _array(self) -> Array:
        return Array(self._engine())

    @property
    def shape(self) -> tuple[int, ...] | None:
        """The shape (None for an empty dataset)."""
        return self._info().shape

    @property
    def dtype(self) -> np.dtype[Any]:
        """The numpy dtype, with h5py's tags (string, enum) where they apply."""
        return self._info().dtype

    @property
    def ndim(self) -> int:
        """The number of dimensions (0 for scalar and empty datasets)."""
        shape = self.shape
        return 0 if shape is None else len(shape)

    @property
    def size(self) -> int | None:
        """The number of elements (None for an empty dataset)."""
        shape = self.shape
        return None if shape is None else math.prod(shape)

    @property
    def nbytes(self) -> int:
        """The bytes the data takes in memory."""
        size = self.size
        return 0 if size is None else size * self.dtype.itemsize

    @property
    def chunks(self) -> tuple[int, ...] | None:
        """The chunk shape; None for a dataset h5py would have made contiguous (and for empty ones)."""
        info = self._info()
        if info.contiguous or not info.shape:
            return None
        chunks = self._engine().chunks
        return tuple(chunks[: len(info.shape)])  # type: ignore[arg-type]

    @property
    def maxshape(self) -> tuple[int | None, ...] | None:
        """The maximum shape (None on an axis: unlimited)."""
        return self._info().maxshape

    @property
    def compression(self) -> str | None:
        """``"gzip"``, ``"lzf"``, another compressor's name, or None."""
        return self._info().filters["compression"]  # type: ignore[no-any-return]

    @property
    def compression_opts(self) -> Any:
        """The compression level (None when there is none or it takes none)."""
        return self._info().filters["compression_opts"]

    @property
    def shuffle(self) -> bool:
        """True when a shuffle filter is applied."""
        return bool(self._info().filters["shuffle"])

    @property
    def fletcher32(self) -> bool:
        """True when a checksum codec is applied (crc32c in Zarr V3, fletcher32 in V2)."""
        return bool(self._info().filters["fletcher32"])

    @property
    def scaleoffset(self) -> int | None:
        """The scale-offset setting, or None."""
        return self._info().filters["scaleoffset"]  # type: ignore[no-any-return]

    @property
    def filter_names(self) -> tuple[str, ...]:
        """HDF5's names of the filters, in pipeline order (``"deflate"`` for gzip)."""
        return self._info().filters["filter_names"]  # type: ignore[no-any-return]

    @property
    def filter_ids(self) -> tuple[int, ...]:
        """HDF5's filter ids, in pipeline order (0 for a compressor HDF5 has no id for)."""
        return self._info().filters["filter_ids"]  # type: ignore[no-any-return]

    @property
    def external(self) -> None:
        """Always None: Zarr has no external raw storage."""
        return None

    @property
    def is_virtual(self) -> bool:
        """Always False: Zarr has no virtual datasets."""
        return False

    @property
    def is_scale(self) -> bool:
        """Always False: dimension scales are not supported."""
        return False

    @property
    def fillvalue(self) -> Any:
        """The fill value, as a value of the dataset's dtype (``bytes`` for variable-length strings)."""
        info = self._info()
        fill = self._engine().fill_value
        base = info.dtype.subdtype[0] if info.dtype.subdtype is not None else info.dtype
        if holds_objects(base):  # stored as MessagePack bytes (see objects.py)
            return decode_element(bytes(fill or b""), base)
        sequence = sequence_base(base)
        if sequence is not None:  # stored as the raw bytes of the sequence
            return np.frombuffer(bytes(fill or b""), dtype=sequence).copy()
        vlen = check_vlen_dtype(base)
        if vlen is not None:
            if fill is None:
                return b""
            return fill.encode("utf-8") if isinstance(fill, str) else bytes(fill)
        if fill is None:
            return np.zeros((), dtype=base)[()]
        if info.raw:
            return np.frombuffer(np.asarray(fill).tobytes(), dtype=base)[0]
        return np.asarray(fill).astype(base)[()]

    @property
    def _fast_reader(self) -> _FastReader:
        return _FastReader(self)

    def __repr__(self) -> str:
        if not self._state.open:
            return "<Closed HDF5 dataset>"
        path = self.name
        label = "(anonymous)" if path is None else f'"{posixpath.basename(posixpath.normpath(path)) or "/"}"'
        return f'<HDF5 dataset {label}: shape {self.shape}, type "{self.dtype.str}">'

    def len(self) -> int:
        """The length of the first axis (works beyond ``sys.maxsize``)."""
        shape = self.shape
        if not shape:
            raise TypeError("Attempt to take len() of scalar dataset")
        return shape[0]

    def __len__(self) -> int:
        size = self.len()
        if size > sys.maxsize:
            raise OverflowError("Value too big for Python's __len__; use Dataset.len() instead.")
        return size

    def __iter__(self) -> Iterator[Any]:
        shape = self.shape
        if not shape:
            raise TypeError("Can't iterate over a scalar dataset")
        for i in range(shape[0]):
            yield self[i]

    # -- reading -------------------------------------------------------------------------------------------------
    def __getitem__(self, args: Any) -> Any:
        info = self._info()
        args = args if isinstance(args, tuple) else (args,)
        names = [a for a in args if isinstance(a, str)]
        if names:
            args = tuple(a for a in args if not isinstance(a, str))
            if info.dtype.names is None:
                raise ValueError("Field names only allowed for compound types")
            for name in names:
                if name not in info.dtype.names:
                    raise ValueError(f"Field {name} does not appear in this type.")
        if info.shape is None:
            if args in _SCALAR_ARGS and not names:
                return Empty(info.dtype)
            raise ValueError("Empty datasets can only be read with [()] or [...]")
        result, scalar = self._read(info, args)
        if names:
            result = result[names[0]] if len(names) == 1 else repack_fields(result[names])
        if scalar:
            return result[()] if isinstance(result, np.ndarray) else result
        return result

    def _read(self, info: _Info, args: tuple[Any, ...]) -> tuple[Any, bool]:
        """(the selected data as h5py returns it, whether it is one element)."""
        array = self._array
        engine_dtype = self._engine().dtype
        if info.shape == ():
            if args not in _SCALAR_ARGS:
                raise ValueError("Illegal slicing argument for scalar dataspace")
            raw = _as_array(array.get_basic_selection(Ellipsis), engine_dtype)
            return from_engine(raw, info.dtype), args == () and not info.extra
        assert info.shape is not None
        sel = select(info.shape, args)
        if sel.mask is not None:
            if info.extra:
                raw = np.asarray(array[...])[sel.mask]
            else:
                raw = _as_array(array.get_mask_selection(sel.mask), engine_dtype)
        else:
            selection = sel.engine_selection() + (slice(None),) * len(info.extra)
            raw = _as_array(array.get_orthogonal_selection(selection), engine_dtype)
        return from_engine(raw, info.dtype), sel.all_scalar and not info.extra

    def read_direct(self, dest: np.ndarray[Any, Any], source_sel: Any = None, dest_sel: Any = None) -> None:
        """Read ``self[source_sel]`` into ``dest[dest_sel]`` (``dest`` a C-contiguous array)."""
        if self.shape is None:
            raise TypeError("Empty datasets have no numpy representation")
        if not isinstance(dest, np.ndarray) or not dest.flags.c_contiguous:
            raise TypeError("dest must be a C-contiguous array")
        data = np.asarray(self[source_sel] if source_sel is not None else self[...])
        target_shape = dest[dest_sel].shape if dest_sel is not None else dest.shape
        if target_shape != data.shape:
            raise TypeError(f"Can't broadcast {data.shape} -> {target_shape}")
        if dest_sel is None:
            dest[...] = data
        else:
            dest[dest_sel] = data

    def astype(self, dtype: Any) -> AstypeWrapper:
        """A view reading the data converted to ``dtype``: ``dset.astype("f8")[:10]``."""
        return AstypeWrapper(self, dtype)

    def asstr(self, encoding: str | None = None, errors: str = "strict") -> AsStrWrapper:
        """A view reading string data decoded to ``str`` (encoding: the dataset's by default)."""
        info = check_string_dtype(self.dtype)
        if info is None:
            raise TypeError("dset.asstr() can only be used on datasets with an HDF5 string datatype")
        return AsStrWrapper(self, encoding or info.encoding, errors)

    def fields(self, names: str | list[str]) -> FieldsWrapper:
        """A view reading only the named field(s) of a compound dataset."""
        return FieldsWrapper(self, names)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray[Any, Any]:
        if copy is False:
            raise ValueError(
                f"Dataset.__array__ received {copy=} but memory allocation cannot be avoided on read"
            )
        if self.shape is None:
            raise TypeError("Empty datasets have no numpy representation")
        data = np.asarray(self[...])
        return data if dtype is None else data.astype(dtype)

    def iter_chunks(self, sel: Any = None) -> Iterator[tuple[slice, ...]]:
        """The slices of each chunk meeting ``sel`` (the whole dataset by default), in C order."""
        chunks = self.chunks
        shape = self.shape
        if chunks is None or shape is None:
            raise TypeError("Chunked dataset required")
        if sel is None:
            region = [(0, n) for n in shape]
        else:
            items = sel if isinstance(sel, tuple) else (sel,)
            if len(items) != len(shape):
                raise ValueError("Invalid selection - selection region must have same rank as dataset")
            region = []
            for item, n in zip(items, shape, strict=True):
                if isinstance(item, slice):
                    start, stop, step = item.indices(n)
                    if step != 1:
                        raise ValueError("Invalid selection - chunk selection step must be 1")
                    region.append((start, max(start, stop)))
                else:
                    index = int(item) + (n if int(item) < 0 else 0)
                    region.append((index, index + 1))
        pieces = []
        for (start, stop), c in zip(region, chunks, strict=True):
            axis = []
            pos = start
            while pos < stop:
                end = min((pos // c + 1) * c, stop)
                axis.append(slice(pos, end, 1))
                pos = end
            pieces.append(axis)
        return iter(itertools.product(*pieces))

    # -- writing -------------------------------------------------------------------------------------------------
    def __setitem__(self, args: Any, val: Any) -> None:
        self._check_writable(OSError("Can't synchronously write data (no write intent on file)"))
        info = self._info()
        args = args if isinstance(args, tuple) else (args,)
        names = [a for a in args if isinstance(a, str)]
        if names:
            args = tuple(a for a in args if not isinstance(a, str))
            val = self._merge_fields(info, args, names, val)
        if info.shape is None:
            raise TypeError("Empty datasets cannot be written to")
        value = to_engine(val, info.dtype, raw=info.raw)
        if not isinstance(value, np.ndarray):
            holder = np.empty((), dtype=object)
            holder[()] = value
            value = holder
        if info.extra and value.shape[max(value.ndim - len(info.extra), 0):] != info.extra:
            got = value.shape[max(value.ndim - len(info.extra), 0):]
            raise TypeError(
                f"When writing to array types, last N dimensions have to match (got {got}, but should be {info.extra})"
            )
        array = self._array
        if info.shape == ():
            if args not in _SCALAR_ARGS:
                raise ValueError("Illegal slicing argument for scalar dataspace")
            array.set_basic_selection(Ellipsis, value[()] if value.ndim == 0 else value)
            return
        sel = select(info.shape, args)
        shaped = sel.broadcast_value(value, info.extra)
        if sel.mask is not None:
            if info.extra:
                whole = np.array(array[...])
                whole[sel.mask] = shaped
                array[...] = whole
            else:
                array.set_mask_selection(sel.mask, shaped)
            return
        if shaped.ndim == 0:  # one element: give it as itself (an object array would nest)
            array.set_orthogonal_selection(sel.engine_selection(), shaped[()])
            return
        array.set_orthogonal_selection(sel.engine_selection() + (slice(None),) * len(info.extra), shaped)

    def _merge_fields(self, info: _Info, args: tuple[Any, ...], names: list[str], val: Any) -> Any:
        if info.dtype.names is None:
            raise ValueError("Field names only allowed for compound types")
        for name in names:
            if name not in info.dtype.names:
                raise ValueError(f"Field {name} does not appear in this type.")
        current = np.array(self[args], copy=True)
        source_fields = getattr(getattr(val, "dtype", None), "names", None) or ()
        for name in names:
            current[name] = val[name] if name in source_fields else val
        return current

    def write_direct(self, source: np.ndarray[Any, Any], source_sel: Any = None, dest_sel: Any = None) -> None:
        """Write ``source[source_sel]`` into ``self[dest_sel]`` (``source`` a C-contiguous array)."""
        self._check_writable(OSError("Can't synchronously write data (no write intent on file)"))
        if self.shape is None:
            raise TypeError("Empty datasets have no numpy representation")
        if not isinstance(source, np.ndarray) or not source.flags.c_contiguous:
            raise TypeError("source must be a C-contiguous array")
        data = source[source_sel] if source_sel is not None else source
        self[dest_sel if dest_sel is not None else ()] = data

    def resize(self, size: Any, axis: int | None = None) -> None:
        """Change the shape (``axis``: only that axis, to length ``size``), within :attr:`maxshape`.

        Raises
        ------
        TypeError
            The dataset is not chunked (h5py's contiguous layout).
        ValueError
            ``axis`` is out of range or the new shape has the wrong rank.
        RuntimeError
            A length exceeds :attr:`maxshape`.
        """
        self._state.check_open()
        if self.chunks is None:
            raise TypeError("Only chunked datasets can be resized")
        info = self._info()
        assert info.shape is not None and info.maxshape is not None
        if axis is not None:
            if not 0 <= axis < len(info.shape):
                raise ValueError(f"Invalid axis (0 to {len(info.shape) - 1} allowed)")
            try:
                newlen = int(size)
            except TypeError:
                raise TypeError("Argument must be a single int if axis is specified") from None
            new = list(info.shape)
            new[axis] = newlen
            size = tuple(new)
        new_shape = (int(size),) if isinstance(size, int | np.integer) else tuple(int(n) for n in size)
        if len(new_shape) != len(info.shape):
            raise ValueError(f"New shape {new_shape} must have rank {len(info.shape)}")
        for n, m in zip(new_shape, info.maxshape, strict=True):
            if m is not None and n > m:
                raise RuntimeError(
                    "Unable to synchronously change a dataset's dimensions (dimension cannot exceed the existing "
                    f"maximal size (new: {n} max: {m}))"
                )
        self._check_writable(OSError("Unable to synchronously change a dataset's dimensions (no write intent on file)"))
        self._array.resize(new_shape + info.extra)

    def flush(self) -> None:
        """Nothing to do: every write is already in the store."""
        self._state.check_open()

    def refresh(self) -> None:
        """Re-read the metadata from the store (to see changes made by other writers)."""
        self._state.check_open()
        self._node.engine = sync(self._state.root_group.getitem(self._node.path))

    @property
    def dims(self) -> Any:
        """Dimension scales are an HDF5 feature (NotImplementedError)."""
        raise NotImplementedError("dimension scales are not supported; store coordinates as datasets or attributes")

"""``create_dataset``'s arguments, checked as h5py checks them, turned into one engine ``create_array`` call.

Layout rules (h5py's): a dataset is chunked when ``chunks`` is given, or when ``maxshape`` or any filter
is; ``chunks=True`` uses h5py's chunk guess. Otherwise h5py makes it contiguous: here it is still chunked
in the store (automatic chunks) but reports ``chunks=None`` and cannot be resized, as in h5py.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from zarrlayered.array import Array
from zarrlayered.compat.h5py.base import FileState, Node
from zarrlayered.compat.h5py.convert import array_for_new_object, check_storable, plan_storage, to_engine
from zarrlayered.compat.h5py.dtypes import Empty, check_vlen_dtype
from zarrlayered.compat.h5py.filters import guess_chunk, plan_filters
from zarrlayered.compat.h5py.objects import encode_element
from zarrlayered.compat.h5py.record import join_attributes
from zarrlayered.core.sync import sync
from zarrlayered.errors import ContainsArrayError, ContainsGroupError

__all__ = ["H5pyDeprecationWarning", "H5pyWarning", "make_dataset"]


class H5pyWarning(UserWarning):
    """The base class of the warnings this front end gives (``h5py.h5py_warnings.H5pyWarning``)."""


class H5pyDeprecationWarning(H5pyWarning):
    """A call h5py has deprecated (``h5py.h5py_warnings.H5pyDeprecationWarning``)."""

#: Keywords h5py takes that have no meaning for Zarr; accepted and ignored.
_IGNORED = frozenset({
    "track_times", "dcpl", "dapl", "efile_prefix", "virtual_prefix", "allow_unknown_filter", "rdcc_nbytes",
    "rdcc_w0", "rdcc_nslots", "fill_time",
})
_FILL_TIMES = ("alloc", "never", "ifset")


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, int | np.integer):
        return (int(shape),)
    return tuple(int(n) for n in shape)


def _maxshape(maxshape: Any, shape: tuple[int, ...]) -> tuple[int | None, ...] | None:
    if maxshape is None:
        return None
    if maxshape is True:
        return (None,) * len(shape)
    if isinstance(maxshape, int | np.integer):
        maxshape = (int(maxshape),)
    parsed = tuple(None if m is None else int(m) for m in maxshape)
    if len(parsed) != len(shape):
        raise ValueError(f"Dimensionality of maxshape {parsed} doesn't match that of shape {shape}")
    if any(m is not None and m < n for m, n in zip(parsed, shape, strict=True)):
        raise ValueError("Unable to synchronously create dataset (maximum dimension is smaller than current)")
    return parsed


def _chunks(chunks: Any, shape: tuple[int, ...], maxshape: tuple[int | None, ...] | None) -> Any:
    if isinstance(chunks, int | np.integer) and not isinstance(chunks, bool):
        chunks = (int(chunks),)
    if isinstance(chunks, tuple | list):
        parsed = tuple(int(c) for c in chunks)
        if len(parsed) != len(shape):
            raise ValueError(f"Dimensionality of chunk tuple {parsed} doesn't match that of shape {shape}")
        if any(c < 1 for c in parsed):
            raise ValueError(f"All chunk dimensions must be positive (got {parsed})")
        limits = maxshape if maxshape is not None else shape
        if any(d is not None and c > d for c, d in zip(parsed, limits, strict=True)):
            raise ValueError(
                "Chunk shape must not be greater than data shape in any dimension. "
                f"{parsed} is not compatible with {shape}"
            )
        return parsed
    return chunks


def _fill_value(fillvalue: Any, dtype: np.dtype[Any]) -> Any:
    """The engine's fill value for h5py's ``fillvalue`` (None: the data type's default)."""
    base = dtype.subdtype[0] if dtype.subdtype is not None else dtype
    if fillvalue is None:
        if base.names is not None:  # zeros, field by field
            return np.zeros((), dtype=base)[()]
        return None
    vlen = check_vlen_dtype(base)
    if vlen is not None:
        return to_engine(fillvalue, base)
    if base.names is not None and not isinstance(fillvalue, np.void | tuple | np.ndarray):
        raise ValueError(f"Fill value {fillvalue!r} does not match the compound type {base}")
    try:
        value = to_engine(fillvalue, base)
        return np.asarray(value, dtype=value.dtype if isinstance(value, np.ndarray) else None).reshape(())[()]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Bogus fill value {fillvalue!r} for dtype {base}: {exc}") from None


def _new_data(shape: Any, dtype: Any, data: Any) -> tuple[tuple[int, ...] | None, np.dtype[Any], Any, bool]:
    """(shape, dtype, data array or None, empty) from create_dataset's first arguments."""
    if isinstance(data, Empty) or type(data).__name__ == "Empty":
        return None, np.dtype(dtype if dtype is not None else data.dtype), None, True
    if data is None and shape is None:
        if dtype is None:
            raise TypeError("One of data, shape or dtype must be specified")
        return None, np.dtype(dtype), None, True
    if data is None and dtype is None:
        warnings.warn(
            "Creating a dataset without passing data or dtype is deprecated. Pass an explicit dtype. "
            "Using dtype='f4' will keep the current default behaviour.",
            category=H5pyDeprecationWarning, stacklevel=4,
        )
    arr = None
    if data is not None:
        if hasattr(data, "zarr_node") and hasattr(data, "shape"):
            data = np.asarray(data)
        arr = array_for_new_object(data, specified_dtype=dtype)
    if shape is None:
        assert arr is not None
        parsed = tuple(arr.shape)
    else:
        parsed = _shape(shape)
        if arr is not None:
            if math.prod(parsed) != arr.size:
                raise ValueError("Shape tuple is incompatible with data")
            arr = arr.reshape(parsed)
    if dtype is not None:
        final = np.dtype(dtype)
    elif arr is not None:
        final = arr.dtype
    else:
        final = np.dtype("f4")
    return parsed, final, arr, False


def make_dataset(state: FileState, path: str, shape: Any = None, dtype: Any = None, data: Any = None,
                 **kwds: Any) -> Node:
    """Create the dataset at ``path`` (intermediate groups included) and write ``data``.

    Raises
    ------
    TypeError, ValueError
        For the argument combinations h5py refuses, with h5py's messages; ValueError when the name exists.
    """
    chunks = kwds.pop("chunks", None)
    maxshape_arg = kwds.pop("maxshape", None)
    compression = kwds.pop("compression", None)
    compression_opts = kwds.pop("compression_opts", None)
    shuffle = bool(kwds.pop("shuffle", False))
    fletcher32 = bool(kwds.pop("fletcher32", False))
    scaleoffset = kwds.pop("scaleoffset", None)
    fillvalue = kwds.pop("fillvalue", None)
    track_order = kwds.pop("track_order", None)
    shards = kwds.pop("shards", None)
    fill_time = kwds.get("fill_time")
    if fill_time is not None and fill_time not in _FILL_TIMES:
        raise ValueError(f"fill_time must be one of 'alloc', 'never' or 'ifset', not {fill_time!r}")
    if "track_times" in kwds and kwds["track_times"] not in (True, False, None):
        raise TypeError(f"track_times must be either True or False, got {kwds['track_times']!r}")
    if kwds.get("external") is not None:
        raise NotImplementedError("external storage (external=) is an HDF5 feature with no Zarr equivalent")
    kwds.pop("external", None)
    unknown = set(kwds) - _IGNORED
    if unknown:
        raise TypeError(f"create_dataset() got an unexpected keyword argument {sorted(unknown)[0]!r}")

    parsed_shape, h5dtype, arr, empty = _new_data(shape, dtype, data)
    check_storable(h5dtype)
    filtering = any((compression is not None, compression_opts is not None, shuffle, fletcher32,
                     scaleoffset is not None))
    if parsed_shape is None or parsed_shape == ():
        kind = "Empty" if parsed_shape is None else "Scalar"
        if chunks or filtering:
            raise TypeError(f"{kind} datasets don't support chunk/filter options")
        if maxshape_arg is not None and maxshape_arg != ():
            raise TypeError(f"{kind} datasets cannot be extended")
    engine_shape: tuple[int, ...] = () if parsed_shape is None else parsed_shape
    maxshape = _maxshape(maxshape_arg, engine_shape) if engine_shape else None
    chunk_arg = _chunks(chunks, engine_shape, maxshape)

    plan = plan_storage(h5dtype, state.zarr_format)
    base = h5dtype.subdtype[0] if h5dtype.subdtype is not None else h5dtype
    fmt = state.zarr_format
    filters = plan_filters(fmt, base, compression=compression, compression_opts=compression_opts, shuffle=shuffle,
                           fletcher32=fletcher32, scaleoffset=scaleoffset)
    record: dict[str, Any] = dict(plan.record)
    record.update(filters.record)
    if chunk_arg is False and (filters.any or maxshape is not None):
        raise ValueError("Chunked format required for given storage options")
    if chunk_arg is True or (chunk_arg is None and engine_shape and (filters.any or maxshape is not None)):
        chunk_arg = guess_chunk(engine_shape, h5dtype.itemsize)
    if empty:
        record["empty"] = True
        if isinstance(data, Empty) or type(data).__name__ == "Empty":
            record["native"] = True  # h5py reports such a dtype in numpy's native spelling
    elif engine_shape:
        record["maxshape"] = list(maxshape) if maxshape is not None else list(engine_shape)
        if not isinstance(chunk_arg, tuple):
            record["layout"] = "contiguous"
    if track_order:
        record["track_order"] = True

    extra = plan.extra_shape
    kwargs: dict[str, Any] = {
        "shape": engine_shape + extra,
        "dtype": plan.engine_dtype,
        "chunks": (chunk_arg + extra) if isinstance(chunk_arg, tuple) else "auto",
        "filters": filters.filters,
        "compressors": filters.compressors,
        "attributes": join_attributes({}, record),
        "zarr_format": fmt,
    }
    if fmt == 3 and plan.big_endian:
        kwargs["serializer"] = {"name": "bytes", "configuration": {"endian": "big"}}
    if shards is not None:
        kwargs["shards"] = shards
    if "objects" in plan.record:  # None: empty bytes, read as the zero element
        fill = None if fillvalue is None else encode_element(fillvalue, base)
    else:
        fill = _fill_value(fillvalue, h5dtype)
    if "view" in plan.record and fill is not None:
        fill = np.asarray(fill, dtype=base).tobytes()
    if fill is not None:  # None: the data type's default (zero, empty string)
        kwargs["fill_value"] = fill
    root = state.root_group
    try:
        engine = sync(root.create_array(path, **kwargs))
    except (ContainsArrayError, ContainsGroupError):
        raise ValueError("Unable to synchronously create dataset (name already exists)") from None
    node = state.register(path, engine)
    if arr is not None and arr.size:
        Array(engine)[...] = to_engine(arr, h5dtype, raw="view" in plan.record)
    return node

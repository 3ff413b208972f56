"""h5py dtypes <-> Zarr data types, and the conversions of values read and written.

h5py reads variable-length strings as ``bytes`` objects (``asstr()`` decodes them), keeps big-endian
dtypes, sub-array dtypes (``"(3,)f8"``) and enum names. Zarr stores variable-length UTF-8 as ``string``,
ASCII as variable-length bytes, a big-endian dtype with a big-endian ``bytes`` codec (V3) or its ``>``
dtype (V2), a sub-array dtype as trailing array dimensions; what Zarr has no field for goes in the
node's record (see :mod:`~zarrlayered.compat.h5py.record`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zarrlayered.compat.h5py.dtypes import check_string_dtype, check_vlen_dtype, string_dtype, vlen_dtype
from zarrlayered.compat.h5py.objects import (
    check_objects_dtype,
    holds_objects,
    objects_dtype_from_json,
    objects_dtype_to_json,
    objects_from_engine,
    objects_to_engine,
)
from zarrlayered.core.dtypes import parse_dtype

__all__ = [
    "StoragePlan",
    "array_for_new_object",
    "check_storable",
    "from_engine",
    "guess_dtype",
    "h5py_dtype",
    "plan_storage",
    "sequence_base",
    "sequences_from_bytes",
    "sequences_to_bytes",
    "to_engine",
]


@dataclass(frozen=True)
class StoragePlan:
    """How an h5py dtype is stored: the Zarr dtype, extra trailing dimensions, record entries, serializer."""

    engine_dtype: Any
    extra_shape: tuple[int, ...] = ()
    record: dict[str, Any] = field(default_factory=dict)
    big_endian: bool = False


def _expressible(dtype: np.dtype[Any], zarr_format: int) -> bool:
    """Whether the Zarr format has a data type for ``dtype`` (else it is stored as raw bytes)."""
    try:
        data_type = parse_dtype(dtype, 3 if zarr_format == 3 else 2)
        if zarr_format == 3:
            data_type.to_json()
    except (ValueError, TypeError):
        return False
    return True


def dtype_to_json(dtype: np.dtype[Any]) -> Any:
    """A numpy dtype as JSON (its ``descr``, tuples as lists)."""
    descr = np.lib.format.dtype_to_descr(dtype)

    def plain(value: Any) -> Any:
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        return value

    return plain(descr)


def _descr_from_json(value: Any) -> Any:
    if isinstance(value, str):
        return value
    fields: list[tuple[Any, ...]] = []
    for item in value:
        name, fmt = item[0], _descr_from_json(item[1])
        fields.append((name, fmt, tuple(item[2])) if len(item) == 3 else (name, fmt))
    return fields


def dtype_from_json(value: Any) -> np.dtype[Any]:
    """The numpy dtype :func:`dtype_to_json` wrote."""
    return np.dtype(np.lib.format.descr_to_dtype(_descr_from_json(value)))


def check_storable(dtype: np.dtype[Any]) -> None:
    """Refuse dtypes h5py refuses (``U``, bare objects) and those this front end cannot store."""
    meta: Mapping[str, Any] = dtype.metadata or {}
    if dtype.kind == "U" or (dtype.kind in "mM" and not meta.get("h5py_opaque")):
        raise TypeError(f"No conversion path for dtype: {dtype!r}")
    if holds_objects(dtype):
        check_objects_dtype(dtype)
        return
    if dtype.kind == "O":
        vlen = check_vlen_dtype(dtype)
        if vlen is None:
            raise TypeError(f"Object dtype {dtype!r} has no native HDF5 equivalent")
        if vlen not in (str, bytes) and sequence_base(dtype) is None:
            raise TypeError(
                f"variable-length sequences (vlen_dtype({getattr(vlen, '__name__', vlen)})) have no Zarr data type; "
                "store them as separate datasets or as strings"
            )
    if dtype.fields:
        for name, (sub, *_rest) in dtype.fields.items():
            if sub.kind in ("O", "U"):
                raise TypeError(f"compound field {name!r} of type {sub!r} is not supported in Zarr structured dtypes")


def sequence_base(dtype: np.dtype[Any]) -> np.dtype[Any] | None:
    """The element dtype of a variable-length sequence dtype (``vlen_dtype(int)``), else None."""
    vlen = check_vlen_dtype(dtype)
    if vlen is None or vlen in (str, bytes):
        return None
    try:
        base = np.dtype(vlen)
    except TypeError:
        return None
    return base if base.kind in "biufcS" and base.metadata is None else None


def plan_storage(dtype: np.dtype[Any], zarr_format: int = 3) -> StoragePlan:
    """How to create a Zarr array for h5py ``dtype`` (which :func:`check_storable` accepted).

    A dtype the Zarr format cannot express (compound types with sub-array fields in V3, ``float128``)
    is stored as raw bytes of its size, its numpy dtype in the record (``view``).
    """
    record: dict[str, Any] = {}
    extra: tuple[int, ...] = ()
    if dtype.subdtype is not None:
        base, extra = dtype.subdtype
        record["subarray"] = list(extra)
        dtype = base
    vlen = check_vlen_dtype(dtype)
    if vlen is str:
        return StoragePlan(str, extra, record)
    if vlen is bytes:
        return StoragePlan(bytes, extra, record)
    if holds_objects(dtype):  # each element: MessagePack of its values, the dtype in the record
        record["objects"] = objects_dtype_to_json(dtype)
        return StoragePlan(bytes, extra, record)
    sequence = sequence_base(dtype)
    if sequence is not None:  # each element: the raw bytes of its sequence, the element dtype in the record
        record["vlen"] = dtype_to_json(sequence)
        return StoragePlan(bytes, extra, record)
    meta: Mapping[str, Any] = dtype.metadata or {}
    if "enum" in meta:
        record["enum"] = {str(k): int(v) for k, v in meta["enum"].items()}
    if dtype.kind == "S" and meta.get("h5py_encoding") == "utf-8":
        record["encoding"] = "utf-8"
    if meta.get("h5py_opaque"):
        record["opaque"] = True
    if not _expressible(dtype, zarr_format):
        record["view"] = dtype_to_json(dtype)
        return StoragePlan(np.dtype(f"V{dtype.itemsize}"), extra, record)
    big = dtype.byteorder == ">" and dtype.itemsize > 1
    if big:
        record["byteorder"] = ">"
    plain = np.dtype(dtype.str) if dtype.names is None else dtype
    return StoragePlan(plain, extra, record, big)


def explicit_byteorder(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """A native multi-byte numeric dtype with its byte order spelled out (``dtype('<f4')``), as h5py
    reports the dtypes of datasets (numpy prints ``float32`` for the native spelling)."""
    if dtype.names is None and dtype.subdtype is None and dtype.kind in "iufcmM" and dtype.byteorder == "=":
        return dtype.newbyteorder("<" if np.little_endian else ">")
    return dtype


def h5py_dtype(engine_dtype: np.dtype[Any], object_codec: str | None, record: dict[str, Any]) -> np.dtype[Any]:
    """The dtype h5py would report for a Zarr array of ``engine_dtype`` with this record."""
    if record.get("objects") is not None:
        dtype = objects_dtype_from_json(record["objects"])
    elif record.get("vlen") is not None:
        dtype = vlen_dtype(dtype_from_json(record["vlen"]))
    elif engine_dtype.kind in "TU" or object_codec == "vlen-utf8":  # (fixed-length UTF-32 from other Zarr writers)
        dtype = string_dtype("utf-8")
    elif object_codec == "vlen-bytes":
        dtype = string_dtype("ascii")
    elif record.get("view") is not None:
        dtype = dtype_from_json(record["view"])
    else:
        dtype = explicit_byteorder(engine_dtype)
        if record.get("native") and dtype.isnative and dtype.names is None:
            dtype = dtype.newbyteorder("=")
        if record.get("byteorder") == ">" and dtype.names is None:
            dtype = dtype.newbyteorder(">")
        if record.get("encoding") == "utf-8" and dtype.kind == "S":
            dtype = np.dtype(dtype, metadata={"h5py_encoding": "utf-8"})
        if record.get("opaque"):
            dtype = np.dtype(dtype, metadata={"h5py_opaque": True})
        enum = record.get("enum")
        if isinstance(enum, dict):  # HDF5 lists enum members by name
            dtype = np.dtype(dtype, metadata={"enum": dict(sorted(enum.items()))})
    sub = record.get("subarray")
    if isinstance(sub, list) and sub:
        dtype = np.dtype((dtype, tuple(int(n) for n in sub)))
    return dtype


def find_item_type(data: Any) -> type | None:
    """The one Python type of the items of ``data`` (h5py's rule for guessing string dtypes), else None."""
    item_types: set[Any]
    if isinstance(data, np.ndarray):
        if data.dtype.kind == "O" and check_string_dtype(data.dtype) is None and data.size > 0:
            item_types = {type(e) for e in data.flat}
        else:
            return None
    elif isinstance(data, list | tuple):
        item_types = {find_item_type(e) for e in data}
    else:
        return type(data)
    if len(item_types) != 1:
        return None
    found = item_types.pop()
    return found if isinstance(found, type) else None


def guess_dtype(data: Any) -> np.dtype[Any] | None:
    """``bytes`` items -> variable-length ASCII, ``str`` items -> variable-length UTF-8, else None."""
    item = find_item_type(data)
    if item is bytes:
        return string_dtype("ascii")
    if item is str:
        return string_dtype("utf-8")
    return None


def array_for_new_object(data: Any, specified_dtype: Any = None) -> np.ndarray[Any, Any]:
    """The array a new dataset or attribute is made from (h5py's rules for the dtype)."""
    as_dtype: Any
    wanted = None if specified_dtype is None else np.dtype(specified_dtype)
    half = wanted is not None and wanted.kind == "f" and wanted.itemsize < 4
    if half or (not isinstance(data, np.ndarray) and specified_dtype is not None):
        as_dtype = specified_dtype
    else:
        as_dtype = guess_dtype(data)
    arr = np.asarray(data, order="C", dtype=as_dtype)
    if as_dtype is not None:
        arr = arr.view(dtype=np.dtype(as_dtype))
    return arr


# -- values written --------------------------------------------------------------------------------------------


def _to_str(item: Any) -> str:
    if isinstance(item, bytes):
        return item.decode("utf-8", "surrogateescape")
    if isinstance(item, str):
        return item
    raise TypeError(f"Can't implicitly convert non-string objects to strings: {item!r}")


def _to_bytes(item: Any) -> bytes:
    if isinstance(item, bytes):
        return bytes(item)
    if isinstance(item, str):
        return item.encode("ascii")
    raise TypeError(f"Can't implicitly convert non-string objects to strings: {item!r}")


def _object_items(value: Any, convert: Any) -> Any:
    if isinstance(value, str | bytes):
        return convert(value)
    arr = np.asarray(value, dtype=object) if not isinstance(value, np.ndarray) else value
    if arr.dtype.kind == "U":
        arr = arr.astype(object)
    if arr.ndim == 0:
        return convert(arr[()])
    out = np.empty(arr.shape, dtype=object)
    flat = out.reshape(-1)
    for i, item in enumerate(arr.reshape(-1).tolist()):
        flat[i] = convert(item)
    return out


def to_engine(value: Any, dtype: np.dtype[Any], raw: bool = False) -> Any:
    """``value`` in the form the Zarr array of h5py ``dtype`` takes (strings converted, dtype applied;
    ``raw``: the array holds the values as raw bytes)."""
    base = dtype.subdtype[0] if dtype.subdtype is not None else dtype
    if raw:
        return np.ascontiguousarray(np.asarray(value, dtype=base)).view(f"V{base.itemsize}")
    vlen = check_vlen_dtype(base)
    if vlen is str:
        return _object_items(value, _to_str)
    if vlen is bytes:
        return _object_items(value, _to_bytes)
    if holds_objects(base):
        return objects_to_engine(value, base)
    sequence = sequence_base(base)
    if sequence is not None:
        return sequences_to_bytes(value, sequence)
    if base.kind == "S":
        if isinstance(value, str):
            return np.asarray(value.encode("utf-8"), dtype=base.str)
        if isinstance(value, np.ndarray) and value.dtype.kind == "U":
            raise TypeError(f"No conversion path for dtype: {value.dtype!r}")
        if (isinstance(value, np.ndarray) and value.dtype.kind == "O") or isinstance(value, list | tuple):
            encoded = _object_items(value, lambda s: s.encode("utf-8") if isinstance(s, str) else s)
            return np.asarray(encoded, dtype=base.str)
        return np.asarray(value, dtype=base.str)
    target = np.dtype(base.str) if base.names is None else base
    if isinstance(value, np.ndarray) and value.dtype == target:
        return value
    return np.asarray(value, dtype=target)


def sequences_to_bytes(value: Any, sequence: np.dtype[Any]) -> Any:
    """Variable-length sequences as the raw bytes of each (an object array of them, or one ``bytes``).

    In an object array each element is a sequence; in any other array (or nested list) the last axis is.
    """
    def encode(item: Any) -> bytes:
        return np.ascontiguousarray(np.asarray(item).astype(sequence, copy=False).reshape(-1)).tobytes()

    arr = value if isinstance(value, np.ndarray) else np.asarray(value)
    if arr.dtype.kind != "O":
        if arr.ndim <= 1:
            return encode(arr)
        out = np.empty(arr.shape[:-1], dtype=object)
        for index in np.ndindex(out.shape):
            out[index] = encode(arr[index])
        return out
    if arr.ndim == 0:
        return encode(arr[()])
    out = np.empty(arr.shape, dtype=object)
    for index in np.ndindex(arr.shape):
        out[index] = encode(arr[index])
    return out


def sequences_from_bytes(result: Any, dtype: np.dtype[Any], sequence: np.dtype[Any]) -> Any:
    """The arrays stored by :func:`sequences_to_bytes` (an array of ``dtype`` holding them, or one)."""
    if not isinstance(result, np.ndarray):
        return np.frombuffer(bytes(result), dtype=sequence).copy()
    out = np.empty(result.shape, dtype=dtype)
    for index in np.ndindex(result.shape):
        out[index] = np.frombuffer(bytes(result[index] or b""), dtype=sequence).copy()
    return out


# -- values read ------------------------------------------------------------------------------------------------


def _encode_all(arr: Any, encode: bool) -> Any:
    if not isinstance(arr, np.ndarray):
        if isinstance(arr, str):
            return arr.encode("utf-8", "surrogateescape") if encode else arr
        return arr
    out = np.empty(arr.shape, dtype=string_dtype("utf-8"))
    flat = out.reshape(-1)
    for i, item in enumerate(arr.reshape(-1).tolist()):
        flat[i] = item.encode("utf-8", "surrogateescape") if isinstance(item, str) else item
    return out


def from_engine(result: Any, dtype: np.dtype[Any]) -> Any:
    """A value read from the Zarr array as h5py returns it (``bytes`` for vlen strings, byte order kept)."""
    base = dtype.subdtype[0] if dtype.subdtype is not None else dtype
    if isinstance(result, np.ndarray) and result.dtype.kind == "V" and result.dtype.names is None and (
        base.names is not None or base.kind != "V"
    ):
        return result.view(base)
    vlen = check_vlen_dtype(base)
    if vlen is str:
        return _encode_all(result, True)
    if vlen is bytes:
        if isinstance(result, np.ndarray):
            out = np.empty(result.shape, dtype=string_dtype("ascii"))
            out[...] = result
            return out
        return result
    if holds_objects(base):
        return objects_from_engine(result, base)
    sequence = sequence_base(base)
    if sequence is not None:
        return sequences_from_bytes(result, base, sequence)
    if base.byteorder == ">" and isinstance(result, np.ndarray | np.generic):
        converted = np.asarray(result).astype(base.newbyteorder(">"), copy=False)
        return converted if isinstance(result, np.ndarray) else converted[()]
    return result

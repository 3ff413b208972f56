"""AttributeManager: h5py's ``.attrs``, stored as Zarr (JSON) attributes.

Values read back as h5py returns them: numbers as numpy scalars, sequences as numpy arrays, strings as
``str``. A value is stored as plain JSON (so other Zarr readers see it naturally); what JSON loses (a
dtype other than int64/float64/bool, an empty shape, bytes, complex or structured values, non-finite
floats, ``Empty``) goes in the node's record under ``attrs``, the raw bytes base64-encoded when needed.
Attributes JSON written by other tools read as the natural numpy value.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

import numpy as np

from zarrlayered.compat.h5py.base import ItemsViewHDF5, KeysViewHDF5, ValuesViewHDF5, decode_name
from zarrlayered.compat.h5py.convert import (
    array_for_new_object,
    explicit_byteorder,
    sequence_base,
    sequences_from_bytes,
    sequences_to_bytes,
)
from zarrlayered.compat.h5py.convert import (
    dtype_from_json as _dtype_from_json,
)
from zarrlayered.compat.h5py.convert import (
    dtype_to_json as _dtype_to_json,
)
from zarrlayered.compat.h5py.dtypes import Empty, check_string_dtype, check_vlen_dtype, string_dtype, vlen_dtype
from zarrlayered.compat.h5py.objects import (
    check_objects_dtype,
    encode_element,
    holds_objects,
    objects_dtype_from_json,
    objects_dtype_to_json,
    objects_from_engine,
)
from zarrlayered.compat.h5py.record import RESERVED_KEY, join_attributes, user_attributes

if TYPE_CHECKING:
    from zarrlayered.compat.h5py.base import HLObject

__all__ = ["AttributeManager", "decode_attribute", "encode_attribute"]

_NATURAL = {"i": np.dtype("int64"), "f": np.dtype("float64"), "b": np.dtype("bool")}


def _prepare(data: Any, shape: Any, dtype: Any) -> np.ndarray[Any, Any]:
    """The array an attribute holds, with h5py's dtype and shape rules."""
    if dtype is None:
        arr = array_for_new_object(data)
    else:
        dtype = np.dtype(dtype)
        if dtype.subdtype is not None:
            base, subshape = dtype.subdtype
            arr = np.asarray(data, order="C", dtype=base)
            if arr.shape[arr.ndim - len(subshape):] != subshape:
                raise ValueError(f"Array dtype shape {subshape} is incompatible with data shape {arr.shape}")
        else:
            arr = array_for_new_object(data, specified_dtype=dtype)
            if arr.dtype != dtype:
                arr = np.asarray(arr, dtype=dtype)
    if shape is not None:
        wanted = (int(shape),) if isinstance(shape, int | np.integer) else tuple(int(n) for n in shape)
        if dtype is not None and np.dtype(dtype).subdtype is not None:
            wanted = wanted + np.dtype(dtype).subdtype[1]
        if math.prod(wanted) != arr.size:
            raise ValueError("Shape of new attribute conflicts with shape of data")
        arr = arr.reshape(wanted)
    if arr.dtype.kind == "U":
        raise TypeError(f"No conversion path for dtype: {arr.dtype!r}")
    if arr.dtype.kind == "O" and check_string_dtype(arr.dtype) is None and sequence_base(arr.dtype) is None:
        raise TypeError(f"Object dtype {arr.dtype!r} has no native HDF5 equivalent")
    return arr


def _as_text(item: Any) -> str:
    if isinstance(item, bytes):
        text = item.decode("utf-8", "surrogateescape")
    elif isinstance(item, str):
        text = item
    else:
        raise TypeError(f"Can't implicitly convert non-string objects to strings: {item!r}")
    if "\x00" in text:
        raise ValueError("VLEN strings do not support embedded NULLs")
    return text


def encode_attribute(data: Any, shape: Any = None, dtype: Any = None) -> tuple[Any, dict[str, Any] | None]:
    """``(JSON value, type information or None)`` for an attribute value."""
    if isinstance(data, Empty) or type(data).__name__ == "Empty":
        return None, {"empty": True, "dtype": _dtype_to_json(np.dtype(data.dtype))}
    arr = _prepare(data, shape, dtype)
    if check_vlen_dtype(arr.dtype) in (str, bytes):
        if arr.ndim == 0:
            return _as_text(arr[()]), None
        texts = np.empty(arr.shape, dtype=object)
        texts.reshape(-1)[:] = [_as_text(x) for x in arr.reshape(-1).tolist()]
        return texts.tolist(), ({"shape": list(arr.shape), "dtype": "str"} if arr.size == 0 else None)
    sequence = sequence_base(arr.dtype)
    if sequence is not None:  # variable-length sequences: the raw bytes of each, base64
        packed = sequences_to_bytes(arr, sequence)
        items = [packed] if isinstance(packed, bytes) else packed.reshape(-1).tolist()
        return [base64.b64encode(b).decode("ascii") for b in items], {
            "vlen": _dtype_to_json(sequence), "shape": list(arr.shape),
        }
    kind = arr.dtype.kind
    if kind in "biuf" and (kind != "f" or bool(np.all(np.isfinite(arr)))) and arr.dtype.fields is None:
        info: dict[str, Any] = {}
        natural = _NATURAL.get("i" if kind == "u" else kind)
        if arr.dtype != natural:
            info["dtype"] = _dtype_to_json(arr.dtype)
        if arr.size == 0:
            info["shape"] = list(arr.shape)
        return arr.tolist(), (info or None)
    if holds_objects(arr.dtype):  # compounds with variable-length fields: MessagePack of each element, base64
        check_objects_dtype(arr.dtype)
        items = [encode_element(arr[index], arr.dtype) for index in np.ndindex(arr.shape)]
        return [base64.b64encode(b).decode("ascii") for b in items], {
            "objects": objects_dtype_to_json(arr.dtype), "shape": list(arr.shape),
        }
    if arr.dtype.hasobject:
        raise TypeError(f"attributes of dtype {arr.dtype!r} (with object fields) cannot be stored in Zarr attributes")
    raw = np.ascontiguousarray(arr).tobytes()
    return base64.b64encode(raw).decode("ascii"), {
        "dtype": _dtype_to_json(arr.dtype), "shape": list(arr.shape), "encoding": "base64",
    }


def _natural(value: Any) -> Any:
    if isinstance(value, bool):
        return np.bool_(value)
    if isinstance(value, int):
        if -(2**63) <= value < 2**63:
            return np.int64(value)
        return np.uint64(value) if 0 <= value < 2**64 else value
    if isinstance(value, float):
        return np.float64(value)
    if isinstance(value, list):
        try:
            arr = np.array(value)
        except (ValueError, TypeError):
            return value
        if arr.dtype.kind == "U":
            out = np.empty(arr.shape, dtype=string_dtype())
            out[...] = arr.astype(object)
            return out
        if arr.dtype.kind in "biuf":
            return arr
        return value
    return value


def decode_attribute(value: Any, info: dict[str, Any] | None) -> Any:
    """The h5py value of a stored attribute."""
    if not info:
        return _natural(value)
    if info.get("empty"):
        return Empty(explicit_byteorder(_dtype_from_json(info.get("dtype", "<f8"))))
    if info.get("objects") is not None:
        packed = np.empty(len(value), dtype=object)
        packed[:] = [base64.b64decode(item) for item in value]
        shape = tuple(info.get("shape", []))
        arr = objects_from_engine(packed.reshape(shape), objects_dtype_from_json(info["objects"]))
        return arr[()] if arr.ndim == 0 else arr
    if info.get("vlen") is not None:
        sequence = _dtype_from_json(info["vlen"])
        packed = np.empty(len(value), dtype=object)
        packed[:] = [base64.b64decode(item) for item in value]
        arr = sequences_from_bytes(packed.reshape(tuple(info.get("shape", []))), vlen_dtype(sequence), sequence)
        return arr[()] if arr.ndim == 0 else arr
    if info.get("dtype") == "str":
        out = np.empty(tuple(info.get("shape", [0])), dtype=string_dtype())
        return out
    dtype = _dtype_from_json(info["dtype"]) if "dtype" in info else None
    if info.get("encoding") == "base64":
        assert dtype is not None
        raw = base64.b64decode(value)
        arr = np.frombuffer(raw, dtype=dtype).reshape(tuple(info.get("shape", []))).copy()
    else:
        arr = np.array(value, dtype=dtype)
        if "shape" in info:
            arr = arr.reshape(tuple(info["shape"]))
    return arr[()] if arr.ndim == 0 else arr


class AttributeManager(MutableMapping[str, Any]):
    """The attributes of a group or dataset, as ``h5py.AttributeManager``.

    Parameters
    ----------
    parent
        The group or dataset whose attributes these are.

    Notes
    -----
    Names are listed in name order, or in creation order when the object was made with
    ``track_order=True``. Every change is saved at once.
    """

    def __init__(self, parent: HLObject) -> None:
        self._parent = parent

    # -- storage --------------------------------------------------------------------------------------------------
    def _raw(self) -> dict[str, Any]:
        self._parent._state.check_open()
        return user_attributes(self._parent._node.attributes)

    def _types(self) -> dict[str, Any]:
        found = self._parent._node.record.get("attrs")
        return dict(found) if isinstance(found, dict) else {}

    def _save(self, user: dict[str, Any], types: dict[str, Any]) -> None:
        record = self._parent._node.record
        record["attrs"] = {k: v for k, v in types.items() if k in user}
        self._parent._node.write_attributes(join_attributes(user, record))

    def _check_writable(self, action: str) -> None:
        self._parent._check_writable(OSError(f"Unable to synchronously {action} attribute (no write intent on file)"))

    # -- mapping --------------------------------------------------------------------------------------------------
    def __getitem__(self, name: str | bytes) -> Any:
        key = decode_name(name, "Attribute names must be bytes or str")
        raw = self._raw()
        if key not in raw:
            raise KeyError(f"Unable to synchronously open attribute (can't locate attribute: '{key}')")
        return decode_attribute(raw[key], self._types().get(key))

    def __setitem__(self, name: str | bytes, value: Any) -> None:
        self.create(name, data=value)

    def __delitem__(self, name: str | bytes) -> None:
        key = decode_name(name, "Attribute names must be bytes or str")
        self._check_writable("delete")
        raw = self._raw()
        if key not in raw:
            raise KeyError(f"Unable to delete attribute (can't locate attribute: '{key}')")
        del raw[key]
        self._save(raw, self._types())

    def _names(self) -> list[str]:
        names = list(self._raw())
        if self._parent._node.record.get("track_order"):
            return names
        return sorted(names)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._raw())

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str | bytes):
            return False
        key = decode_name(name)
        return key != RESERVED_KEY and key in self._raw()

    def keys(self) -> KeysViewHDF5:
        """The attribute names (a view)."""
        return KeysViewHDF5(self)

    def values(self) -> ValuesViewHDF5:
        """The attribute values (a view)."""
        return ValuesViewHDF5(self)

    def items(self) -> ItemsViewHDF5:
        """``(name, value)`` pairs (a view)."""
        return ItemsViewHDF5(self)

    # -- h5py methods ---------------------------------------------------------------------------------------------
    def create(self, name: str | bytes, data: Any, shape: Any = None, dtype: Any = None) -> None:
        """Create (or replace) an attribute, with an optional shape and dtype for the data.

        Raises
        ------
        TypeError
            ``name`` is not str/bytes, or the data has no storable type (numpy ``U`` arrays, objects).
        ValueError
            ``shape`` or a sub-array ``dtype`` does not fit the data.
        """
        key = decode_name(name, "Attribute names must be bytes or str")
        self._check_writable("create")
        value, info = encode_attribute(data, shape, dtype)
        raw = self._raw()
        types = self._types()
        raw[key] = value
        if info:
            types[key] = info
        else:
            types.pop(key, None)
        self._save(raw, types)

    def modify(self, name: str | bytes, value: Any) -> None:
        """Change an attribute's value keeping its dtype and shape (or create it when missing).

        Raises
        ------
        TypeError
            The new value's shape differs from the attribute's.
        OSError
            The attribute is empty (``h5py.Empty``).
        """
        key = decode_name(name, "Attribute names must be bytes or str")
        if key not in self:
            self.create(key, value)
            return
        current = self[key]
        if isinstance(current, Empty):
            raise OSError("Can't modify an empty attribute")
        if isinstance(current, str) or (isinstance(current, np.ndarray) and current.dtype.kind == "O"):
            self.create(key, value)
            return
        existing = np.asarray(current)
        new = np.asarray(value, dtype=existing.dtype)
        if new.shape != existing.shape:
            raise TypeError("Shape of data is incompatible with existing attribute")
        self.create(key, new, dtype=existing.dtype)

    def get_id(self, name: str | bytes) -> Any:
        """HDF5 attribute identifiers do not exist on Zarr (NotImplementedError)."""
        raise NotImplementedError("HDF5 attribute identifiers have no Zarr equivalent")

    def __repr__(self) -> str:
        if not self._parent._state.open:
            return "<Attributes of closed HDF5 object>"
        return f"<Attributes of HDF5 object at {id(self._parent._node)}>"

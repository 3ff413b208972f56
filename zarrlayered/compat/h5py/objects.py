"""Values of dtypes holding Python objects inside a structure: compound dtypes with variable-length fields
(strings or sequences) and variable-length sequences of compound types.

Zarr has no data type for them, so each element is stored as one variable-length ``bytes`` value: the
MessagePack encoding of a tree mirroring the dtype (a list per compound or sub-array, ``str``/``bytes`` per
variable-length string, a list per variable-length sequence, the raw bytes of every plain value). The dtype,
its h5py metadata included, goes in the node's record as :func:`objects_dtype_to_json` writes it.
"""

from __future__ import annotations

from typing import Any

import msgpack  # type: ignore[import-untyped]
import numpy as np

from zarrlayered.compat.h5py.dtypes import check_vlen_dtype, vlen_dtype

__all__ = [
    "decode_element",
    "encode_element",
    "holds_objects",
    "objects_dtype_from_json",
    "objects_dtype_to_json",
    "objects_from_engine",
    "objects_to_engine",
]


def _vlen_base(dtype: np.dtype[Any]) -> Any:
    vlen = check_vlen_dtype(dtype) if dtype.kind == "O" else None
    if vlen is None or vlen in (str, bytes):
        return vlen
    return np.dtype(vlen)


def holds_objects(dtype: np.dtype[Any]) -> bool:
    """Whether ``dtype`` is a compound type with object fields or a variable-length sequence of compounds."""
    if dtype.names is not None:
        return bool(dtype.hasobject)
    base = _vlen_base(dtype)
    return isinstance(base, np.dtype) and base.names is not None


def check_objects_dtype(dtype: np.dtype[Any]) -> None:
    """TypeError unless every object inside ``dtype`` is a variable-length string or sequence."""
    if dtype.subdtype is not None:
        check_objects_dtype(dtype.subdtype[0])
    elif dtype.names is not None:
        for name in dtype.names:
            check_objects_dtype(dtype.fields[name][0])  # type: ignore[index]
    elif dtype.kind == "O":
        base = _vlen_base(dtype)
        if base is None:
            raise TypeError(f"Object dtype {dtype!r} has no native HDF5 equivalent")
        if isinstance(base, np.dtype):
            check_objects_dtype(base)
    elif dtype.kind in "UmM":
        raise TypeError(f"No conversion path for dtype: {dtype!r}")


def objects_dtype_to_json(dtype: np.dtype[Any]) -> Any:
    """``dtype`` as JSON, keeping what numpy's ``descr`` drops (the variable-length bases)."""
    if dtype.subdtype is not None:
        return {"sub": objects_dtype_to_json(dtype.subdtype[0]), "shape": list(dtype.subdtype[1])}
    if dtype.names is not None:
        return {"fields": [[name, objects_dtype_to_json(dtype.fields[name][0])] for name in dtype.names]}  # type: ignore[index]
    if dtype.kind == "O":
        base = _vlen_base(dtype)
        return {"vlen": "str" if base is str else "bytes" if base is bytes else objects_dtype_to_json(base)}
    return dtype.str


def objects_dtype_from_json(value: Any) -> np.dtype[Any]:
    """The dtype :func:`objects_dtype_to_json` wrote."""
    if isinstance(value, str):
        return np.dtype(value)
    if "sub" in value:
        return np.dtype((objects_dtype_from_json(value["sub"]), tuple(value["shape"])))
    if "fields" in value:
        return np.dtype([(name, objects_dtype_from_json(sub)) for name, sub in value["fields"]])
    base = value["vlen"]
    return vlen_dtype(str if base == "str" else bytes if base == "bytes" else objects_dtype_from_json(base))


def _tree(value: Any, dtype: np.dtype[Any]) -> Any:
    if dtype.subdtype is not None:
        base, shape = dtype.subdtype
        arr = np.asarray(value, dtype=base).reshape(shape)
        return [_tree(arr[index], base) for index in np.ndindex(shape)]
    if dtype.names is not None:
        if not isinstance(value, np.void):
            value = np.asarray(value, dtype=dtype)[()]
        return [_tree(value[name], dtype.fields[name][0]) for name in dtype.names]  # type: ignore[index]
    if dtype.kind == "O":
        base = _vlen_base(dtype)
        if base is str:
            return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else str(value)
        if base is bytes:
            return value if isinstance(value, bytes) else str(value).encode("ascii")
        arr = np.asarray(value, dtype=base if base.names is not None or not base.hasobject else None)
        return [_tree(item, base) for item in arr.reshape(-1)]
    return np.asarray(value, dtype=dtype).tobytes()


def _untree(tree: Any, dtype: np.dtype[Any]) -> Any:
    if dtype.subdtype is not None:
        base, shape = dtype.subdtype
        out = np.empty(len(tree), dtype=base)
        for i, item in enumerate(tree):
            out[i] = _untree(item, base)
        return out.reshape(shape)
    if dtype.names is not None:
        holder = np.empty(1, dtype=dtype)
        for name, item in zip(dtype.names, tree, strict=True):
            holder[name][0] = _untree(item, dtype.fields[name][0])  # type: ignore[index]
        return holder[0]
    if dtype.kind == "O":
        base = _vlen_base(dtype)
        if base is str:
            return tree.encode("utf-8", "surrogateescape")
        if base is bytes:
            return bytes(tree)
        seq = np.empty(len(tree), dtype=base)
        for i, item in enumerate(tree):
            seq[i] = _untree(item, base)
        return seq
    return np.frombuffer(tree, dtype=dtype)[0]


def _default_tree(dtype: np.dtype[Any]) -> Any:
    if dtype.subdtype is not None:
        base, shape = dtype.subdtype
        return [_default_tree(base) for _ in np.ndindex(shape)]
    if dtype.names is not None:
        return [_default_tree(dtype.fields[name][0]) for name in dtype.names]  # type: ignore[index]
    if dtype.kind == "O":
        base = _vlen_base(dtype)
        return "" if base is str else b"" if base is bytes else []
    return bytes(dtype.itemsize)


def encode_element(value: Any, dtype: np.dtype[Any]) -> bytes:
    """One element of ``dtype`` as the bytes stored for it."""
    packed: bytes = msgpack.packb(_tree(value, dtype), use_bin_type=True)
    return packed


def decode_element(data: bytes | None, dtype: np.dtype[Any]) -> Any:
    """The element :func:`encode_element` stored (empty bytes: the zero element of ``dtype``)."""
    tree = msgpack.unpackb(data, raw=False) if data else _default_tree(dtype)
    return _untree(tree, dtype)


def objects_to_engine(value: Any, dtype: np.dtype[Any]) -> Any:
    """Values of ``dtype`` as an object array of their stored bytes (one ``bytes`` for one element)."""
    if dtype.names is not None:
        arr = value if isinstance(value, np.ndarray) and value.dtype == dtype else np.asarray(value, dtype=dtype)
    elif isinstance(value, np.ndarray) and value.dtype.kind == "O":
        arr = value
    else:  # a variable-length sequence of compounds: one element unless given as an object array
        return encode_element(value, dtype)
    if arr.ndim == 0:
        return encode_element(arr[()], dtype)
    out = np.empty(arr.shape, dtype=object)
    for index in np.ndindex(arr.shape):
        out[index] = encode_element(arr[index], dtype)
    return out


def objects_from_engine(result: Any, dtype: np.dtype[Any]) -> Any:
    """The values :func:`objects_to_engine` stored, as an array of ``dtype`` (or one element)."""
    if not isinstance(result, np.ndarray):
        return decode_element(result, dtype)
    out = np.empty(result.shape, dtype=dtype)
    for index in np.ndindex(result.shape):
        out[index] = decode_element(bytes(result[index] or b""), dtype)
    return out

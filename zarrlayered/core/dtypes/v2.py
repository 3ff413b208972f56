"""Zarr V2 ``dtype`` strings and fill values.

A V2 document names its data type with a numpy type string (``"<f8"``, ``"|S10"``, ``"<M8[ns]"``, ``"|O"``) or,
for a structured type, a list of ``[name, dtype]`` / ``[name, dtype, shape]`` fields. ``|O`` arrays need the
object codec found among the filters (``vlen-utf8``, ``vlen-bytes``, ``json2``, ``msgpack2``, ...) to know what
their elements are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from zarrlayered.core.dtypes.base import JSON, DataType
from zarrlayered.core.dtypes.registry import data_type_from_numpy
from zarrlayered.core.dtypes.strings import OBJECT_CODEC_IDS, ObjectType, VariableLengthBytes, VariableLengthUTF8
from zarrlayered.core.dtypes.structured import descr_to_json, v2_fields_to_numpy
from zarrlayered.errors import MetadataValidationError

__all__ = [
    "data_type_from_v2",
    "find_object_codec_id",
    "parse_v2_dtype",
    "v2_dtype_to_json",
    "v2_fill_value_from_json",
    "v2_fill_value_to_json",
]


def parse_v2_dtype(value: str | list[Any]) -> np.dtype[Any]:
    """The numpy dtype of a Zarr V2 ``dtype`` value; MetadataValidationError naming the value if invalid."""
    try:
        if isinstance(value, str):
            dtype = np.dtype(value)
        elif isinstance(value, list | tuple) and value:
            dtype = np.dtype(v2_fields_to_numpy(value, "structured dtype"))
        else:
            raise TypeError
    except (TypeError, ValueError, SyntaxError):
        raise MetadataValidationError(
            f"dtype must be a numpy type string such as '<f8' or a list of [name, dtype] fields, got {value!r}"
        ) from None
    if dtype.kind == "T":  # numpy StringDType is written as an object array of str
        return np.dtype("O")
    return dtype


def v2_dtype_to_json(dtype: np.dtype[Any]) -> str | list[Any]:
    """The Zarr V2 ``dtype`` JSON value of a numpy dtype, as zarr 2 writes it."""
    if dtype.fields is not None:
        return descr_to_json(dtype.descr)
    if dtype.kind == "T":
        return "|O"
    return str(dtype.str)


def _codec_id(codec: Any) -> str | None:
    ident = codec.get("id") if isinstance(codec, Mapping) else getattr(codec, "codec_id", None)
    return ident if isinstance(ident, str) else None


def find_object_codec_id(filters: Iterable[Any] | None, compressor: Any = None) -> str | None:
    """The id of the first object codec among ``filters`` then ``compressor`` (configs or numcodecs codecs)."""
    for codec in (*(filters or ()), compressor):
        ident = _codec_id(codec) if codec is not None else None
        if ident in OBJECT_CODEC_IDS:
            return ident
    return None


def data_type_from_v2(dtype: np.dtype[Any], object_codec_id: str | None = None) -> DataType:
    """The :class:`DataType` of a V2 array: its numpy dtype, and for ``|O`` the id of its object codec."""
    if dtype.kind == "T":
        return VariableLengthUTF8()
    if dtype.kind == "O":
        if object_codec_id == "vlen-utf8":
            return VariableLengthUTF8()
        if object_codec_id == "vlen-bytes":
            return VariableLengthBytes()
        if object_codec_id in OBJECT_CODEC_IDS:
            assert object_codec_id is not None
            return ObjectType(codec_id=object_codec_id)
        raise MetadataValidationError(
            f"dtype '|O' needs an object codec ({', '.join(OBJECT_CODEC_IDS)}) in 'filters', got {object_codec_id!r}"
        )
    return data_type_from_numpy(dtype)


def v2_fill_value_from_json(value: JSON, dtype: np.dtype[Any], object_codec_id: str | None = None) -> Any:
    """Parse a Zarr V2 ``fill_value``: null stays None; ``"NaN"``/``"Infinity"``, base64 bytes, ``[re, im]``
    pairs and the historic ``0`` on string/object arrays (read as ``""``, ``b""`` or None) are understood."""
    if value is None:
        return None
    return data_type_from_v2(dtype, object_codec_id).v2_fill_value_from_json(value)


def v2_fill_value_to_json(value: Any, dtype: np.dtype[Any], object_codec_id: str | None = None) -> JSON:
    """The Zarr V2 JSON form of a fill value (None -> null), as zarr-python 3 writes it."""
    if value is None:
        return None
    return data_type_from_v2(dtype, object_codec_id).v2_fill_value_to_json(value)

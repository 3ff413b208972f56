"""Zarr data types for both formats, their fill values, and the data type registry.

Every data type is a :class:`DataType`: ``parse_dtype`` turns what a user passes as ``dtype=`` into one,
``parse_v3_data_type`` reads a Zarr V3 ``data_type``, and ``parse_v2_dtype`` / ``data_type_from_v2`` read a
Zarr V2 ``dtype``. Fill values go to and from JSON through the data type, exactly as zarr-python 3 writes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from zarrlayered.core.dtypes import structured as _structured
from zarrlayered.core.dtypes.base import DataType, Endianness, InvalidFillValueError
from zarrlayered.core.dtypes.numeric import (
    Bool,
    Complex64,
    Complex128,
    Float16,
    Float32,
    Float64,
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
)
from zarrlayered.core.dtypes.registry import (
    ENTRY_POINT_GROUP,
    data_type_from_numpy,
    get_data_type_class,
    parse_v3_data_type,
    register_data_type,
    registered_data_types,
)
from zarrlayered.core.dtypes.strings import (
    OBJECT_CODEC_IDS,
    FixedLengthUTF32,
    NullTerminatedBytes,
    ObjectType,
    RawBits,
    RawBytes,
    VariableLengthBytes,
    VariableLengthUTF8,
)
from zarrlayered.core.dtypes.structured import Structured
from zarrlayered.core.dtypes.time import DateTime64, TimeDelta64
from zarrlayered.core.dtypes.v2 import (
    data_type_from_v2,
    find_object_codec_id,
    parse_v2_dtype,
    v2_dtype_to_json,
    v2_fill_value_from_json,
    v2_fill_value_to_json,
)
from zarrlayered.errors import MetadataValidationError

__all__ = [
    "ENTRY_POINT_GROUP",
    "OBJECT_CODEC_IDS",
    "Bool",
    "Complex64",
    "Complex128",
    "DataType",
    "DateTime64",
    "Endianness",
    "FixedLengthUTF32",
    "Float16",
    "Float32",
    "Float64",
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "InvalidFillValueError",
    "NullTerminatedBytes",
    "ObjectType",
    "RawBits",
    "RawBytes",
    "Structured",
    "TimeDelta64",
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
    "VariableLengthBytes",
    "VariableLengthUTF8",
    "data_type_from_numpy",
    "data_type_from_v2",
    "find_object_codec_id",
    "get_data_type_class",
    "parse_dtype",
    "parse_v2_dtype",
    "parse_v3_data_type",
    "register_data_type",
    "registered_data_types",
    "v2_dtype_to_json",
    "v2_fill_value_from_json",
    "v2_fill_value_to_json",
]

_structured._bind(data_type_from_numpy, parse_v3_data_type)

_STRING_ALIASES = ("str", "string")
_BYTES_ALIASES = ("bytes", "variable_length_bytes")
_RAW_BITS = re.compile(r"^r\d+$")


def parse_dtype(user_value: Any, zarr_format: Literal[2, 3] = 3) -> DataType:
    """Interpret what a user passes as ``dtype=`` (what zarr-python 3's ``create_array`` accepts, and a little more).

    Accepted: a :class:`DataType`; a numpy dtype or anything ``np.dtype()`` takes (``"int32"``, ``np.int32``,
    ``"<f8"``, ``">i2"``, ``"|S10"``, ``"<U5"``, ``"M8[ns]"``, a list of structured fields); ``str``, ``"str"``,
    ``"string"`` or ``np.dtypes.StringDType()`` for variable-length UTF-8 strings; ``bytes`` or ``"bytes"`` for
    variable-length byte strings; a Zarr V3 ``data_type`` JSON value (``"float32"``, ``"r16"``,
    ``{"name": "numpy.datetime64", "configuration": {...}}``). A numpy object dtype is refused as ambiguous.

    Parameters
    ----------
    user_value : Any
        The requested data type.
    zarr_format : {2, 3}
        The format of the array being made (a V3 name such as ``"r16"`` only exists in V3).

    Returns
    -------
    DataType
        The data type, keeping the requested byte order (a V3 array stores it through its ``bytes`` codec).

    Raises
    ------
    MetadataValidationError
        If the value names no supported data type; the message repeats the value.
    """
    if zarr_format not in (2, 3):
        raise MetadataValidationError(f"zarr_format must be 2 or 3, got {zarr_format!r}")
    if isinstance(user_value, DataType):
        return user_value
    if _is_zarr_python_dtype(user_value):
        return _from_zarr_python_dtype(user_value)
    if user_value is str or (isinstance(user_value, str) and user_value in _STRING_ALIASES):
        return VariableLengthUTF8()
    if user_value is bytes or (isinstance(user_value, str) and user_value in _BYTES_ALIASES):
        return VariableLengthBytes()
    if isinstance(user_value, Mapping):
        return parse_v3_data_type(user_value)
    if isinstance(user_value, str):
        if user_value in registered_data_types():
            return parse_v3_data_type(user_value)
        if _RAW_BITS.match(user_value):
            if zarr_format == 2:
                raise MetadataValidationError(f"data type {user_value!r} exists only in Zarr V3; use '|V<n>' in V2")
            return parse_v3_data_type(user_value)
    try:
        if isinstance(user_value, list):
            dtype = np.dtype(_structured.v2_fields_to_numpy(user_value, "dtype"))
        else:
            dtype = np.dtype(user_value)
    except (TypeError, ValueError, SyntaxError) as exc:
        raise MetadataValidationError(f"dtype {user_value!r} is not a data type: {exc}") from None
    return data_type_from_numpy(dtype)


def _is_zarr_python_dtype(value: Any) -> bool:
    """A zarr-python 3 ``ZDType`` instance (``zarr.dtype.Int32()``), recognised without importing zarr."""
    return (
        not isinstance(value, type)
        and callable(getattr(value, "to_native_dtype", None))
        and callable(getattr(value, "to_json", None))
        and type(value).__module__.startswith("zarr.")
    )


def _from_zarr_python_dtype(value: Any) -> DataType:
    native = np.dtype(value.to_native_dtype())
    if native.kind in "OT":
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return parse_v3_data_type(value.to_json(zarr_format=3))
    return data_type_from_numpy(native)

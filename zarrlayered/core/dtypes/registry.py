"""The data type registry: built-in types, runtime registrations and the ``zarrlayered.data_types`` entry points."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

import numpy as np

from zarrlayered.core.dtypes.base import DataType, DataTypeMismatch
from zarrlayered.core.dtypes.numeric import NUMERIC_TYPES
from zarrlayered.core.dtypes.strings import (
    FixedLengthUTF32,
    NullTerminatedBytes,
    RawBits,
    RawBytes,
    VariableLengthBytes,
    VariableLengthUTF8,
)
from zarrlayered.core.dtypes.structured import Structured
from zarrlayered.core.dtypes.time import DateTime64, TimeDelta64
from zarrlayered.core.extensions import ExtensionRegistry
from zarrlayered.errors import MetadataValidationError

__all__ = [
    "DATA_TYPE_REGISTRY",
    "ENTRY_POINT_GROUP",
    "data_type_from_numpy",
    "get_data_type_class",
    "parse_v3_data_type",
    "register_data_type",
    "registered_data_types",
]

logger = logging.getLogger("zarrlayered.array")

#: Third-party data types register under this entry-point group (name -> DataType subclass).
ENTRY_POINT_GROUP: Final = "zarrlayered.data_types"

_BUILTIN: Final[tuple[type[DataType], ...]] = (
    *NUMERIC_TYPES,
    FixedLengthUTF32,
    NullTerminatedBytes,
    RawBytes,
    VariableLengthUTF8,
    VariableLengthBytes,
    DateTime64,
    TimeDelta64,
    Structured,
)



def _check_data_type(name: str, cls: object) -> type[DataType]:
    if not (isinstance(cls, type) and issubclass(cls, DataType)):
        raise TypeError(f"register_data_type needs a DataType subclass, got {cls!r}")
    if not isinstance(name, str) or not name:
        raise TypeError(f"register_data_type needs a non-empty name, got {name!r}")
    return cls


#: The data type registry (see :class:`~zarrlayered.core.extensions.ExtensionRegistry`).
DATA_TYPE_REGISTRY: Final = ExtensionRegistry[type[DataType]](
    "data type",
    ENTRY_POINT_GROUP,
    _check_data_type,
    builtins={cls.name: cls for cls in _BUILTIN},
    unknown="unknown {kind} {name!r}; known: {known} (register more with register_data_type or the {group!r} "
    "entry-point group)",
    logger=logger,
)


def register_data_type(name: str, cls: type[DataType]) -> None:
    """Register a :class:`DataType` subclass under its Zarr V3 ``name`` (replacing any earlier one)."""
    DATA_TYPE_REGISTRY.register(name, cls)


def registered_data_types() -> dict[str, type[DataType]]:
    """A snapshot of the registry (name -> class), entry points included."""
    return DATA_TYPE_REGISTRY.snapshot()


def get_data_type_class(name: str) -> type[DataType]:
    """The class registered under V3 name ``name``; MetadataValidationError naming it if unknown."""
    return DATA_TYPE_REGISTRY.get(name)


def parse_v3_data_type(value: DataType | str | Mapping[str, Any]) -> DataType:
    """Parse a Zarr V3 ``data_type`` value (a name, or ``{"name": ..., "configuration": ...}``).

    The result describes the data as stored (little-endian layout: a V3 data type has no byte order).
    """
    if isinstance(value, DataType):
        return value
    if isinstance(value, str):
        name = value
    elif isinstance(value, Mapping) and isinstance(value.get("name"), str):
        name = value["name"]
    else:
        raise MetadataValidationError(
            f"a data type must be a name or an object with a 'name' and a 'configuration', got {value!r}"
        )
    if name == "bytes":
        return VariableLengthBytes.from_json(value)
    if isinstance(value, str) and value.startswith("r") and value[1:].isdigit():
        return RawBits.from_json(value)
    cls = get_data_type_class(name)
    try:
        return cls.from_json(value)
    except DataTypeMismatch:
        raise MetadataValidationError(f"data type {value!r} is not a valid {name!r} data type") from None


def data_type_from_numpy(dtype: np.dtype[Any]) -> DataType:
    """The data type of a numpy dtype, registered third-party types first; MetadataValidationError if none."""
    if dtype.kind == "O":
        raise MetadataValidationError(
            "a numpy object dtype is ambiguous: ask for dtype=str (variable-length UTF-8 strings) or "
            "dtype=bytes (variable-length byte strings)"
        )
    builtin = set(_BUILTIN)
    registered = DATA_TYPE_REGISTRY.snapshot().values()
    candidates = [cls for cls in registered if cls not in builtin] + list(_BUILTIN)
    for cls in candidates:
        try:
            return cls.from_numpy(dtype)
        except DataTypeMismatch:
            continue
    if dtype.kind in "SUV" and dtype.itemsize == 0:
        raise MetadataValidationError(f"data type {dtype.str!r} has length 0; give a length such as 'S10' or 'U10'")
    raise MetadataValidationError(f"numpy dtype {dtype!r} has no Zarr data type")

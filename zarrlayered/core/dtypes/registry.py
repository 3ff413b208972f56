"""The data type registry: built-in types, runtime registrations and the ``zarrlayered.data_types`` entry points."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from importlib.metadata import entry_points
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
from zarrlayered.errors import MetadataValidationError

__all__ = [
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

_registry: dict[str, type[DataType]] = {cls.name: cls for cls in _BUILTIN}
_entry_points_loaded = False
_lock = threading.Lock()


def register_data_type(name: str, cls: type[DataType]) -> None:
    """Register a :class:`DataType` subclass under its Zarr V3 ``name`` (replacing any earlier one)."""
    candidate: object = cls
    if not (isinstance(candidate, type) and issubclass(candidate, DataType)):
        raise TypeError(f"register_data_type needs a DataType subclass, got {cls!r}")
    if not isinstance(name, str) or not name:
        raise TypeError(f"register_data_type needs a non-empty name, got {name!r}")
    with _lock:
        _registry[name] = cls


def _load_entry_points() -> None:
    global _entry_points_loaded
    with _lock:
        if _entry_points_loaded:
            return
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                cls = ep.load()
            except Exception as exc:  # a broken plug-in must not break every array
                logger.warning("cannot load data type entry point %r: %s", ep.name, exc)
                continue
            if isinstance(cls, type) and issubclass(cls, DataType):
                _registry.setdefault(ep.name, cls)
            else:
                logger.warning("data type entry point %r is not a DataType subclass: %r", ep.name, cls)
        _entry_points_loaded = True


def registered_data_types() -> dict[str, type[DataType]]:
    """A snapshot of the registry (name -> class), entry points included."""
    _load_entry_points()
    return dict(_registry)


def get_data_type_class(name: str) -> type[DataType]:
    """The class registered under V3 name ``name``; MetadataValidationError naming it if unknown."""
    _load_entry_points()
    try:
        return _registry[name]
    except KeyError:
        raise MetadataValidationError(
            f"unknown data type {name!r}; known: {sorted(_registry)} (register more with register_data_type "
            f"or the {ENTRY_POINT_GROUP!r} entry-point group)"
        ) from None


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
    _load_entry_points()
    if dtype.kind == "O":
        raise MetadataValidationError(
            "a numpy object dtype is ambiguous: ask for dtype=str (variable-length UTF-8 strings) or "
            "dtype=bytes (variable-length byte strings)"
        )
    builtin = set(_BUILTIN)
    with _lock:
        registered = list(_registry.values())
    candidates = [cls for cls in registered if cls not in builtin] + list(_BUILTIN)
    for cls in candidates:
        try:
            return cls.from_numpy(dtype)
        except DataTypeMismatch:
            continue
    if dtype.kind in "SUV" and dtype.itemsize == 0:
        raise MetadataValidationError(f"data type {dtype.str!r} has length 0; give a length such as 'S10' or 'U10'")
    raise MetadataValidationError(f"numpy dtype {dtype!r} has no Zarr data type")

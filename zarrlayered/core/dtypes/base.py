"""The data type ABC and the JSON helpers shared by every data type.

A :class:`DataType` is one Zarr data type: it knows its numpy dtype, its Zarr V3 ``data_type`` JSON, its Zarr V2
``dtype`` JSON, and how fill values of that type are written to and read from JSON in both formats, exactly as
zarr-python 3 writes them.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import struct
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self

import numpy as np

from zarrlayered.errors import MetadataValidationError

__all__ = [
    "JSON",
    "DataType",
    "DataTypeMismatch",
    "Endianness",
    "InvalidFillValueError",
    "b64decode_fill",
    "b64encode_fill",
    "float_from_json",
    "float_to_json",
]

#: A JSON value as the standard library's ``json`` module produces it.
JSON = Any

Endianness = Literal["little", "big"]

_SPECIAL_FLOATS: dict[str, float] = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class DataTypeMismatch(Exception):
    """Internal signal: a value does not describe this data type (the registry then tries the next one)."""


class InvalidFillValueError(MetadataValidationError):
    """A fill value does not fit its data type.

    ``reason`` reads as the tail of a sentence ("must be an integer ... got 'x'"), so a metadata parser can say
    ``zarr.json field 'fill_value' <reason>``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"fill value {reason}")
        self.reason = reason


@dataclass(frozen=True)
class DataType(ABC):
    """One Zarr data type (frozen dataclass; instances compare by value).

    Subclasses set ``name`` (the Zarr V3 name) and implement the abstract methods. The object data types
    (numpy dtype ``|O``) set ``_object_codec`` to the numcodecs id of the codec that serialises them in Zarr V2.
    """

    name: ClassVar[str]
    _object_codec: ClassVar[str | None] = None

    @property
    def object_codec_id(self) -> str | None:
        """The numcodecs id of the object codec a Zarr V2 array of this type needs, or None."""
        return self._object_codec

    # ----------------------------------------------------------------------------------------- numpy side
    @property
    @abstractmethod
    def numpy_dtype(self) -> np.dtype[Any]:
        """The numpy dtype of an in-memory array of this type."""

    @property
    def itemsize(self) -> int | None:
        """Bytes per element, or None for variable-length types."""
        dtype = self.numpy_dtype
        return None if dtype.hasobject else int(dtype.itemsize)

    @classmethod
    @abstractmethod
    def from_numpy(cls, dtype: np.dtype[Any]) -> Self:
        """The data type of numpy ``dtype``; raise :class:`DataTypeMismatch` if it is not of this class."""

    # ----------------------------------------------------------------------------------------- Zarr V3
    @abstractmethod
    def to_json(self) -> str | dict[str, Any]:
        """The Zarr V3 ``data_type`` JSON value."""

    @classmethod
    @abstractmethod
    def from_json(cls, data: JSON) -> Self:
        """Parse a Zarr V3 ``data_type`` value; :class:`DataTypeMismatch` if it names another type."""

    # ----------------------------------------------------------------------------------------- Zarr V2
    def to_v2_json(self) -> str | list[Any]:
        """The Zarr V2 ``dtype`` JSON value (a numpy type string, or a list for structured types)."""
        return str(self.numpy_dtype.str)

    def with_native_layout(self) -> Self:
        """This type as a Zarr V3 document describes it: little-endian (V3 types carry no byte order)."""
        return self

    # ----------------------------------------------------------------------------------------- fill values
    @abstractmethod
    def default_fill_value(self) -> Any:
        """The fill value used when none is given: zero, empty, False or NaT."""

    @abstractmethod
    def cast_fill_value(self, value: Any) -> Any:
        """Cast a user-supplied fill value to this type's scalar; :class:`InvalidFillValueError` if impossible.

        Casting an already cast value returns an equal value.
        """

    @abstractmethod
    def fill_value_to_json(self, value: Any) -> JSON:
        """The Zarr V3 JSON form of fill value ``value``."""

    @abstractmethod
    def fill_value_from_json(self, data: JSON) -> Any:
        """Parse a Zarr V3 fill value; :class:`InvalidFillValueError` names the expected form."""

    def v2_fill_value_to_json(self, value: Any) -> JSON:
        """The Zarr V2 JSON form of a fill value that is not None."""
        return self.fill_value_to_json(value)

    def v2_fill_value_from_json(self, data: JSON) -> Any:
        """Parse a Zarr V2 fill value that is not null."""
        return self.fill_value_from_json(data)

    # ----------------------------------------------------------------------------------------- helpers
    def _bad_fill(self, expected: str, value: Any) -> InvalidFillValueError:
        return InvalidFillValueError(f"must be {expected} for data type {self.describe()}, got {value!r}")

    def describe(self) -> str:
        """A short description for error messages: the V3 JSON form, e.g. ``'int16'``."""
        try:
            json_form = self.to_json()
        except MetadataValidationError:
            return repr(self.name)
        return repr(json_form) if isinstance(json_form, str) else json.dumps(json_form)


# --------------------------------------------------------------------------------------------- JSON helpers
def float_to_json(value: float | np.floating[Any], dtype: np.dtype[Any] | None = None) -> float | str:
    """Encode a float as zarr-python 3 does: a JSON number, or ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.

    A NaN whose bits differ from numpy's default NaN of ``dtype`` is written as a hex string (``"0x7fc00001"``),
    the only form the Zarr V3 specification gives for such a value, so that it survives a round trip.
    """
    if math.isnan(value):
        if dtype is not None and dtype.kind == "f":
            canonical = np.array(np.nan, dtype=dtype.newbyteorder(">")).tobytes()
            actual = np.array(value, dtype=dtype.newbyteorder(">")).tobytes()
            if actual != canonical:
                return "0x" + actual.hex()
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float(value)


_HEX_FORMATS = {4: ">e", 8: ">f", 16: ">d"}


def float_from_json(data: JSON, dtype: np.dtype[Any]) -> np.floating[Any] | None:
    """Decode a JSON float (number, special string or ``0x`` hex bits) to a scalar of ``dtype``, or None.

    Hex bits of the dtype's own width keep their exact bit pattern (a NaN payload survives); other widths are
    read as the float they denote. None means ``data`` is not a float form at all.
    """
    if isinstance(data, bool):
        return None
    if isinstance(data, int | float):
        return _checked_float(float(data), dtype)
    if not isinstance(data, str):
        return None
    if data in _SPECIAL_FLOATS:
        return dtype.type(_SPECIAL_FLOATS[data])  # type: ignore[no-any-return]
    if data.startswith("0x"):
        digits = data[2:]
        try:
            raw = bytes.fromhex(digits)
        except ValueError:
            return None
        if len(digits) == 2 * dtype.itemsize:
            return np.frombuffer(raw, dtype=dtype.newbyteorder(">"))[0].astype(dtype)  # type: ignore[no-any-return]
        if len(digits) in _HEX_FORMATS:
            return _checked_float(float(struct.unpack(_HEX_FORMATS[len(digits)], raw)[0]), dtype)
        return None
    try:
        parsed = float(data)
    except ValueError:
        return None
    return _checked_float(parsed, dtype)


def _checked_float(value: float, dtype: np.dtype[Any]) -> np.floating[Any] | None:
    """``value`` as a scalar of ``dtype``, or None when a finite value overflows the type."""
    with np.errstate(over="ignore"):
        result = dtype.type(value)
    if math.isfinite(value) and not np.isfinite(result):
        return None
    return result  # type: ignore[no-any-return]


def b64encode_fill(raw: bytes) -> str:
    """Base64 (standard alphabet, padded) as zarr-python writes byte fill values."""
    return base64.standard_b64encode(raw).decode("ascii")


def b64decode_fill(data: str) -> bytes | None:
    """Decode a base64 fill value; None if ``data`` is not valid base64."""
    try:
        return base64.standard_b64decode(data.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None


def check_named_config(data: JSON, name: str, keys: frozenset[str]) -> Mapping[str, Any]:
    """Return the configuration of a V3 ``{"name": name, "configuration": {...}}`` value.

    Raise :class:`DataTypeMismatch` if the value names another type, and MetadataValidationError if it names
    this type but its configuration lacks or adds keys.
    """
    if not isinstance(data, Mapping) or data.get("name") != name:
        raise DataTypeMismatch
    extra = set(data) - {"name", "configuration"}
    if extra:
        raise MetadataValidationError(
            f"data type {name!r} has unexpected keys {sorted(extra)}; expected only 'name' and 'configuration'"
        )
    config = data.get("configuration")
    if not isinstance(config, Mapping):
        raise MetadataValidationError(f"data type {name!r} needs a 'configuration' object, got {config!r}")
    if set(config) != keys:
        raise MetadataValidationError(
            f"data type {name!r} configuration must have exactly the keys {sorted(keys)}, got {sorted(config)}"
        )
    return config


def positive_int(value: Any, what: str) -> int:
    """Return ``value`` if it is a positive int (not a bool), else raise MetadataValidationError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise MetadataValidationError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def endianness_of(dtype: np.dtype[Any]) -> Endianness:
    """The byte order of a numpy dtype as a word (native order resolved to this machine's)."""
    order = dtype.byteorder
    if order == "=":
        order = "<" if np.little_endian else ">"
    return "big" if order == ">" else "little"


def numpy_order(endianness: Endianness) -> Literal["<", ">"]:
    """The numpy byte order character of an endianness word."""
    return ">" if endianness == "big" else "<"

"""String and byte data types, fixed and variable length, and the Zarr V2 object data types."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Final, Self

import numpy as np

from zarrlayered.core.dtypes.base import (
    JSON,
    DataType,
    DataTypeMismatch,
    Endianness,
    b64decode_fill,
    b64encode_fill,
    check_named_config,
    endianness_of,
    numpy_order,
    positive_int,
)
from zarrlayered.errors import MetadataValidationError

__all__ = [
    "OBJECT_CODEC_IDS",
    "FixedLengthUTF32",
    "NullTerminatedBytes",
    "ObjectType",
    "RawBits",
    "RawBytes",
    "VariableLengthBytes",
    "VariableLengthUTF8",
]

#: The numcodecs ids of the codecs that serialise numpy object arrays (Zarr V2 ``|O`` arrays).
OBJECT_CODEC_IDS: Final = ("vlen-utf8", "vlen-bytes", "vlen-array", "pickle", "json2", "msgpack2")

_LENGTH_KEYS: Final = frozenset({"length_bytes"})


def _unwrap(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]
    return value


def _is_legacy_zero(data: JSON) -> bool:
    """True for the ``fill_value: 0`` historic zarr 2 wrote on string and object arrays."""
    return not isinstance(data, bool) and isinstance(data, int | float) and data == 0


@dataclass(frozen=True)
class FixedLengthUTF32(DataType):
    """numpy ``U<n>`` strings: ``length`` code points of UTF-32. V3 name ``fixed_length_utf32``."""

    length: int
    endianness: Endianness = "little"

    name: ClassVar[str] = "fixed_length_utf32"

    def __post_init__(self) -> None:
        positive_int(self.length, "fixed_length_utf32 length")

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        return np.dtype(f"{numpy_order(self.endianness)}U{self.length}")

    @classmethod
    def from_numpy(cls, dtype: np.dtype[Any]) -> Self:
        if dtype.kind != "U" or dtype.itemsize == 0:
            raise DataTypeMismatch
        return cls(length=dtype.itemsize // 4, endianness=endianness_of(dtype))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "configuration": {"length_bytes": self.length * 4}}

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        config = check_named_config(data, cls.name, _LENGTH_KEYS)
        length_bytes = positive_int(config["length_bytes"], "fixed_length_utf32 'length_bytes'")
        if length_bytes % 4:
            raise MetadataValidationError(
                f"fixed_length_utf32 'length_bytes' must be a multiple of 4, got {length_bytes}"
            )
        return cls(length=length_bytes // 4)

    def with_native_layout(self) -> Self:
        return replace(self, endianness="little")

    def default_fill_value(self) -> np.str_:
        return np.str_("")

    def cast_fill_value(self, value: Any) -> np.str_:
        value = _unwrap(value)
        if isinstance(value, bytes | np.bytes_):
            try:
                value = bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                raise self._bad_fill("a string", value) from None
        if isinstance(value, str | int | float | np.number) and not isinstance(value, bool):
            return np.str_(str(value)[: self.length])
        raise self._bad_fill("a string", value)

    def fill_value_to_json(self, value: Any) -> str:
        return str(self.cast_fill_value(value))

    def fill_value_from_json(self, data: JSON) -> np.str_:
        if isinstance(data, str):
            return np.str_(data)
        raise self._bad_fill("a string", data)

    def v2_fill_value_from_json(self, data: JSON) -> np.str_:
        if _is_legacy_zero(data):
            return np.str_("")
        return self.fill_value_from_json(data)


@dataclass(frozen=True)
class NullTerminatedBytes(DataType):
    """numpy ``S<n>`` byte strings (trailing NULs are padding). V3 name ``null_terminated_bytes``."""

    length: int

    name: ClassVar[str] = "null_terminated_bytes"

    def __post_init__(self) -> None:
        positive_int(self.length, "null_terminated_bytes length")

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        return np.dtype(f"S{self.length}")

    @classmethod
    def from_numpy(cls, dtype: np.dtype[Any]) -> Self:
        if dtype.kind != "S" or dtype.itemsize == 0:
            raise DataTypeMismatch
        return cls(length=dtype.itemsize)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "configuration": {"length_bytes": self.length}}

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        config = check_named_config(data, cls.name, _LENGTH_KEYS)
        return cls(length=positive_int(config["length_bytes"], "null_terminated_bytes 'length_bytes'"))

    def default_fill_value(self) -> np.bytes_:
        return np.bytes_(b"")

    def cast_fill_value(self, value: Any) -> np.bytes_:
        value = _unwrap(value)
        if isinstance(value, bytes | np.bytes_):
            return np.bytes_(bytes(value)[: self.length])
        if isinstance(value, str):
            try:
                return np.bytes_(value.encode("ascii")[: self.length])
            except UnicodeEncodeError:
                raise self._bad_fill("bytes or an ASCII string", value) from None
        if isinstance(value, int | np.integer) and not isinstance(value, bool):
            return np.bytes_(str(value).encode("ascii")[: self.length])
        raise self._bad_fill("bytes", value)

    def fill_value_to_json(self, value: Any) -> str:
        return b64encode_fill(bytes(self.cast_fill_value(value)))

    def fill_value_from_json(self, data: JSON) -> np.bytes_:
        raw = b64decode_fill(data) if isinstance(data, str) else None
        if raw is None:
            raise self._bad_fill("a base64 string", data)
        return np.bytes_(raw[: self.length])

    def v2_fill_value_from_json(self, data: JSON) -> np.bytes_:
        if _is_legacy_zero(data):
            return np.bytes_(b"")
        return self.fill_value_from_json(data)


@dataclass(frozen=True)
class RawBytes(DataType):
    """numpy ``V<n>`` opaque bytes. V3 name ``raw_bytes`` (as zarr-python 3.1 writes it)."""

    length: int

    name: ClassVar[str] = "raw_bytes"

    def __post_init__(self) -> None:
        positive_int(self.length, "raw_bytes length")

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        return np.dtype(f"V{self.length}")

    @classmethod
    def from_numpy(cls, dtype: np.dtype[Any]) -> Self:
        if dtype.kind != "V" or dtype.fields is not None or dtype.subdtype is not None or dtype.itemsize == 0:
            raise DataTypeMismatch
        return cls(length=dtype.itemsize)

    def to_json(self) -> str | dict[str, Any]:
        return {"name": self.name, "configuration": {"length_bytes": self.length}}

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        config = check_named_config(data, cls.name, _LENGTH_KEYS)
        return cls(length=positive_int(config["length_bytes"], "raw_bytes 'length_bytes'"))

    def default_fill_value(self) -> np.void:
        return np.void(bytes(self.length))

    def _from_raw(self, raw: bytes, original: Any) -> np.void:
        if len(raw) > self.length:
            raise self._bad_fill(f"at most {self.length} bytes", original)
        return np.void(raw.ljust(self.length, b"\x00"))

    def cast_fill_value(self, value: Any) -> np.void:
        value = _unwrap(value)
        if isinstance(value, np.void):
            return self._from_raw(value.tobytes(), value)
        if isinstance(value, bytes | np.bytes_):
            return self._from_raw(bytes(value), value)
        if isinstance(value, list | tuple) and all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 256 for v in value
        ):
            return self._from_raw(bytes(value), value)
        raise self._bad_fill("bytes", value)

    def fill_value_to_json(self, value: Any) -> JSON:
        return b64encode_fill(self.cast_fill_value(value).tobytes())

    def fill_value_from_json(self, data: JSON) -> np.void:
        raw = b64decode_fill(data) if isinstance(data, str) else None
        if raw is None:
            raise self._bad_fill("a base64 string", data)
        return self._from_raw(raw, data)


_RAW_BITS = re.compile(r"^r(\d+)$")


@dataclass(frozen=True)
class RawBits(RawBytes):
    """The Zarr V3 core ``r<N>`` raw bits type (N a multiple of 8); fill values are lists of byte values."""

    name: ClassVar[str] = "r*"

    def to_json(self) -> str:
        return f"r{self.length * 8}"

    @classmethod
    def from_numpy(cls, dtype: np.dtype[Any]) -> Self:
        raise DataTypeMismatch  # numpy V<n> maps to raw_bytes, as in zarr-python

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        match = _RAW_BITS.match(data) if isinstance(data, str) else None
        if match is None:
            raise DataTypeMismatch
        bits = int(match.group(1))
        if bits == 0 or bits % 8:
            raise MetadataValidationError(f"raw bits data type {data!r} needs a positive multiple of 8 bits")
        return cls(length=bits // 8)

    def fill_value_to_json(self, value: Any) -> list[int]:
        return list(self.cast_fill_value(value).tobytes())

    def fill_value_from_json(self, data: JSON) -> np.void:
        if (
            isinstance(data, list)
            and len(data) == self.length
            and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 256 for v in data)
        ):
            return np.void(bytes(data))
        raise self._bad_fill(f"a list of {self.length} integers in [0, 255]", data)


@dataclass(frozen=True)
class VariableLengthUTF8(DataType):
    """Variable-length UTF-8 strings: V3 ``string``, V2 ``|O`` with the ``vlen-utf8`` object codec.

    In memory the elements live in a numpy 2 ``StringDType`` array, as zarr-python 3 returns them (an
    object array of ``str`` on numpy 1).
    """

    name: ClassVar[str] = "string"
    _object_codec: ClassVar[str | None] = "vlen-utf8"

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        string_dtype = getattr(np.dtypes, "StringDType", None)
        return np.dtype("O") if string_dtype is None else np.dtype(string_dtype())

    @classmethod
    def from_numpy(cls, dtype: np.dtype[Any]) -> Self:
        if dtype.kind != "T":  # numpy 2 StringDType; a plain object dtype is ambiguous
            raise DataTypeMismatch
        if hasattr(dtype, "na_object"):
            raise MetadataValidationError(f"a numpy StringDType with na_object set is not supported, got {dtype!r}")
        return cls()

    def to_json(self) -> str:
        return self.name

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        if data != cls.name:
            raise DataTypeMismatch
        return cls()

    def to_v2_json(self) -> str:
        return "|O"

    def default_fill_value(self) -> str:
        return ""

    def cast_fill_value(self, value: Any) -> str:
        value = _unwrap(value)
        if isinstance(value, str):
            return str(value)
        if isinstance(value, bytes | np.bytes_):
            try:
                return bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                raise self._bad_fill("a string", value) from None
        if isinstance(value, int | float | np.number) and not isinstance(value, bool):
            return str(value)
        raise self._bad_fill("a string", value)

    def fill_value_to_json(self, value: Any) -> str:
        return self.cast_fill_value(value)

    def fill_value_from_json(self, data: JSON) -> str:
        if isinstance(data, str):
            return data
        raise self._bad_fill("a string", data)

    def v2_fill_value_from_json(self, data: JSON) -> str:
        if _is_legacy_zero(data):
            return ""
        if isinstance(data, int | float) and not isinstance(data, bool):
            return str(data)
        return self.fill_value_from_json(data)


@dataclass(frozen=True)
class VariableLengthBytes(DataType):
    """Variable-length byte strings: V3 ``variable_length_bytes`` (``bytes`` is read too), V2 ``|O`` with
    the ``vlen-bytes`` object codec. In memory the elements live in a numpy object array of ``bytes``."""

    name: ClassVar[str] = "variable_length_bytes"
    _object_codec: ClassVar[str | None] = "vlen-bytes"

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        return np.dtype("O")

    @classmethod
    def from_numpy(cls, dtype: np.dtype[Any]) -> Self:
        raise DataTypeMismatch  # a numpy object dtype is ambiguous

    def to_json(self) -> str:
        return self.name

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        if data not in (cls.name, "bytes"):
            raise DataTypeMismatch
        return cls()

    def to_v2_json(self) -> str:
        return "|O"

    def default_fill_value(self) -> bytes:
        return b""

    def cast_fill_value(self, value: Any) -> bytes:
        value = _unwrap(value)
        if isinstance(value, bytes | np.bytes_ | bytearray | memoryview):
            return bytes(value)
        if isinstance(value, str):
            return value.encode("utf-8")
        raise self._bad_fill("bytes", value)

    def fill_value_to_json(self, value: Any) -> str:
        return b64encode_fill(self.cast_fill_value(value))

    def fill_value_from_json(self, data: JSON) -> bytes:
        raw = b64decode_fill(data) if isinstance(data, str) else None
        if raw is None:
            raise self._bad_fill("a base64 string", data)
        return raw

    def v2_fill_value_from_json(self, data: JSON) -> bytes:
        if _is_legacy_zero(data):
            return b""
        return self.fill_value_from_json(data)


@dataclass(frozen=True)
class ObjectType(DataType):
    """A Zarr V2 ``|O`` array of arbitrary Python objects, serialised by ``codec_id`` (``json2``,
    ``msgpack2``, ``pickle`` or ``vlen-array``). Zarr V3 has no such data type.

    Fill values are stored as raw JSON; the historic ``fill_value: 0`` reads as None, as zarr 2 meant it.
    """

    codec_id: str

    name: ClassVar[str] = "object"

    def __post_init__(self) -> None:
        if self.codec_id not in OBJECT_CODEC_IDS or self.codec_id in ("vlen-utf8", "vlen-bytes"):
            raise MetadataValidationError(
                f"object data type codec must be one of 'json2', 'msgpack2', 'pickle', 'vlen-array', "
                f"got {self.codec_id!r}"
            )

    @property
    def object_codec_id(self) -> str:
        return self.codec_id

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        return np.dtype("O")

    @classmethod
    def from_numpy(cls, dtype: np.dtype[Any]) -> Self:
        raise DataTypeMismatch

    def to_json(self) -> str:
        raise MetadataValidationError(
            f"numpy object arrays serialised with {self.codec_id!r} exist only in Zarr V2; "
            "Zarr V3 has 'string' and 'variable_length_bytes'"
        )

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        raise DataTypeMismatch

    def to_v2_json(self) -> str:
        return "|O"

    def default_fill_value(self) -> None:
        return None

    def cast_fill_value(self, value: Any) -> Any:
        return value

    def fill_value_to_json(self, value: Any) -> JSON:
        return value

    def fill_value_from_json(self, data: JSON) -> Any:
        return data

    def v2_fill_value_from_json(self, data: JSON) -> Any:
        return None if _is_legacy_zero(data) else data

"""Numeric data types: bool, signed and unsigned integers, floats and complex floats."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Self, cast

import numpy as np

from zarrlayered.core.dtypes.base import (
    JSON,
    DataType,
    DataTypeMismatch,
    Endianness,
    endianness_of,
    float_from_json,
    float_to_json,
    numpy_order,
)

__all__ = [
    "NUMERIC_TYPES",
    "Bool",
    "Complex64",
    "Complex128",
    "Float16",
    "Float32",
    "Float64",
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
]


@dataclass(frozen=True)
class _Simple(DataType):
    """A data type named by a bare string in V3 and by one numpy type string in V2."""

    endianness: Endianness = "little"

    char: ClassVar[str]  # numpy kind + itemsize, e.g. "i4"

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        dtype = np.dtype(self.char)
        return dtype.newbyteorder(numpy_order(self.endianness)) if dtype.itemsize > 1 else dtype

    @classmethod
    def from_numpy(cls, dtype: np.dtype[Any]) -> Self:
        if dtype.fields is not None or dtype.subdtype is not None or f"{dtype.kind}{dtype.itemsize}" != cls.char:
            raise DataTypeMismatch
        return cls(endianness=endianness_of(dtype) if dtype.itemsize > 1 else "little")

    def to_json(self) -> str:
        return self.name

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        if data == cls.name:
            return cls()
        # the object form {"name": "int32"} (optionally with an empty configuration) means the same
        if (
            isinstance(data, Mapping)
            and data.get("name") == cls.name
            and not data.get("configuration")
            and set(data) <= {"name", "configuration"}
        ):
            return cls()
        raise DataTypeMismatch

    def with_native_layout(self) -> Self:
        return replace(self, endianness="little")


@dataclass(frozen=True)
class Bool(_Simple):
    """Zarr ``bool``: one byte, False or True."""

    name: ClassVar[str] = "bool"
    char: ClassVar[str] = "b1"

    def default_fill_value(self) -> np.bool_:
        return np.False_

    def cast_fill_value(self, value: Any) -> np.bool_:
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if isinstance(value, bool | np.bool_ | int | np.integer | float | np.floating | str):
            return np.bool_(bool(value))
        raise self._bad_fill("a boolean", value)

    def fill_value_to_json(self, value: Any) -> bool:
        return bool(self.cast_fill_value(value))

    def fill_value_from_json(self, data: JSON) -> np.bool_:
        if isinstance(data, bool):
            return np.bool_(data)
        if isinstance(data, int) and data in (0, 1):
            return np.bool_(data)
        raise self._bad_fill("true or false", data)


@dataclass(frozen=True)
class _Integer(_Simple):
    def default_fill_value(self) -> np.integer[Any]:
        return self.numpy_dtype.type(0)  # type: ignore[no-any-return]

    def _range(self) -> tuple[int, int]:
        info = np.iinfo(np.dtype(self.char))
        return int(info.min), int(info.max)

    def _from_int(self, number: int, original: Any) -> np.integer[Any]:
        low, high = self._range()
        if not low <= number <= high:
            raise self._bad_fill(f"an integer in [{low}, {high}]", original)
        return np.dtype(self.char).type(number)  # type: ignore[no-any-return]

    def cast_fill_value(self, value: Any) -> np.integer[Any]:
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if isinstance(value, bool | int | np.integer | np.bool_):
            return self._from_int(int(value), value)
        if isinstance(value, float | np.floating) and math.isfinite(value) and float(value).is_integer():
            return self._from_int(int(value), value)
        if isinstance(value, str):
            try:
                return self._from_int(int(value), value)
            except ValueError:
                pass
        raise self._bad_fill("an integer", value)

    def fill_value_to_json(self, value: Any) -> int:
        return int(self.cast_fill_value(value))

    def fill_value_from_json(self, data: JSON) -> np.integer[Any]:
        if isinstance(data, bool):
            raise self._bad_fill("an integer", data)
        if isinstance(data, int):
            return self._from_int(data, data)
        if isinstance(data, float) and data.is_integer():
            return self._from_int(int(data), data)
        if isinstance(data, str):
            try:
                return self._from_int(int(data), data)
            except ValueError:
                pass
        raise self._bad_fill("an integer", data)


@dataclass(frozen=True)
class Int8(_Integer):
    """Zarr ``int8``."""

    name: ClassVar[str] = "int8"
    char: ClassVar[str] = "i1"


@dataclass(frozen=True)
class Int16(_Integer):
    """Zarr ``int16``."""

    name: ClassVar[str] = "int16"
    char: ClassVar[str] = "i2"


@dataclass(frozen=True)
class Int32(_Integer):
    """Zarr ``int32``."""

    name: ClassVar[str] = "int32"
    char: ClassVar[str] = "i4"


@dataclass(frozen=True)
class Int64(_Integer):
    """Zarr ``int64``."""

    name: ClassVar[str] = "int64"
    char: ClassVar[str] = "i8"


@dataclass(frozen=True)
class UInt8(_Integer):
    """Zarr ``uint8``."""

    name: ClassVar[str] = "uint8"
    char: ClassVar[str] = "u1"


@dataclass(frozen=True)
class UInt16(_Integer):
    """Zarr ``uint16``."""

    name: ClassVar[str] = "uint16"
    char: ClassVar[str] = "u2"


@dataclass(frozen=True)
class UInt32(_Integer):
    """Zarr ``uint32``."""

    name: ClassVar[str] = "uint32"
    char: ClassVar[str] = "u4"


@dataclass(frozen=True)
class UInt64(_Integer):
    """Zarr ``uint64``."""

    name: ClassVar[str] = "uint64"
    char: ClassVar[str] = "u8"


@dataclass(frozen=True)
class _Float(_Simple):
    def default_fill_value(self) -> np.floating[Any]:
        return np.dtype(self.char).type(0.0)  # type: ignore[no-any-return]

    def cast_fill_value(self, value: Any) -> np.floating[Any]:
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        native = np.dtype(self.char)
        if isinstance(value, np.floating) and value.dtype.itemsize == native.itemsize:
            return cast("np.floating[Any]", value.astype(native))  # keeps the bits, NaN payload included
        if isinstance(value, bool | int | float | np.integer | np.floating | np.bool_):
            result = float_from_json(float(value), native)
            if result is not None:
                return result
            raise self._bad_fill("a float within the range of the type", value)
        if isinstance(value, str):
            result = float_from_json(value, native)
            if result is not None:
                return result
        raise self._bad_fill("a number", value)

    def fill_value_to_json(self, value: Any) -> float | str:
        return float_to_json(self.cast_fill_value(value), np.dtype(self.char))

    def v2_fill_value_to_json(self, value: Any) -> float | str:
        return float_to_json(self.cast_fill_value(value))

    def fill_value_from_json(self, data: JSON) -> np.floating[Any]:
        result = float_from_json(data, np.dtype(self.char))
        if result is None:
            raise self._bad_fill('a number, "NaN", "Infinity", "-Infinity" or "0x" hex bits', data)
        return result


@dataclass(frozen=True)
class Float16(_Float):
    """Zarr ``float16``."""

    name: ClassVar[str] = "float16"
    char: ClassVar[str] = "f2"


@dataclass(frozen=True)
class Float32(_Float):
    """Zarr ``float32``."""

    name: ClassVar[str] = "float32"
    char: ClassVar[str] = "f4"


@dataclass(frozen=True)
class Float64(_Float):
    """Zarr ``float64``."""

    name: ClassVar[str] = "float64"
    char: ClassVar[str] = "f8"


@dataclass(frozen=True)
class _Complex(_Simple):
    part: ClassVar[str]

    def default_fill_value(self) -> np.complexfloating[Any, Any]:
        return np.dtype(self.char).type(0)  # type: ignore[no-any-return]

    def _parts(self, real: Any, imag: Any, original: Any) -> np.complexfloating[Any, Any]:
        part = np.dtype(self.part)
        re, im = float_from_json(real, part), float_from_json(imag, part)
        if re is None or im is None:
            raise self._bad_fill("a pair [real, imag] of numbers (or special float strings)", original)
        out = np.zeros((), dtype=self.char)
        out.real, out.imag = re, im
        return cast("np.complexfloating[Any, Any]", out[()])

    def cast_fill_value(self, value: Any) -> np.complexfloating[Any, Any]:
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if isinstance(value, bool | int | float | complex | np.number | np.bool_):
            as_complex = complex(value)
            return self._parts(as_complex.real, as_complex.imag, value)
        if isinstance(value, list | tuple) and len(value) == 2:
            return self._parts(value[0], value[1], value)
        if isinstance(value, str):
            try:
                parsed = complex(value)
            except ValueError:
                raise self._bad_fill("a complex number", value) from None
            return self._parts(parsed.real, parsed.imag, value)
        raise self._bad_fill("a complex number", value)

    def fill_value_to_json(self, value: Any) -> list[float | str]:
        scalar = self.cast_fill_value(value)
        part = np.dtype(self.part)
        return [float_to_json(scalar.real, part), float_to_json(scalar.imag, part)]

    def v2_fill_value_to_json(self, value: Any) -> list[float | str]:
        scalar = self.cast_fill_value(value)
        return [float_to_json(scalar.real), float_to_json(scalar.imag)]

    def fill_value_from_json(self, data: JSON) -> np.complexfloating[Any, Any]:
        if isinstance(data, list) and len(data) == 2:
            return self._parts(data[0], data[1], data)
        raise self._bad_fill("a pair [real, imag] of numbers (or special float strings)", data)


@dataclass(frozen=True)
class Complex64(_Complex):
    """Zarr ``complex64`` (two float32)."""

    name: ClassVar[str] = "complex64"
    char: ClassVar[str] = "c8"
    part: ClassVar[str] = "f4"


@dataclass(frozen=True)
class Complex128(_Complex):
    """Zarr ``complex128`` (two float64)."""

    name: ClassVar[str] = "complex128"
    char: ClassVar[str] = "c16"
    part: ClassVar[str] = "f8"


NUMERIC_TYPES: tuple[type[DataType], ...] = (
    Bool,
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    Float16,
    Float32,
    Float64,
    Complex64,
    Complex128,
)

"""numpy datetime64 and timedelta64 data types (V3 names ``numpy.datetime64`` / ``numpy.timedelta64``)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Final, Self

import numpy as np

from zarrlayered.core.dtypes.base import (
    JSON,
    DataType,
    DataTypeMismatch,
    Endianness,
    check_named_config,
    endianness_of,
    numpy_order,
)
from zarrlayered.errors import MetadataValidationError

__all__ = ["DATETIME_UNITS", "DateTime64", "TimeDelta64"]

#: The units numpy accepts, as zarr-python writes them.
DATETIME_UNITS: Final = ("Y", "M", "W", "D", "h", "m", "s", "ms", "us", "μs", "ns", "ps", "fs", "as", "generic")
_TIME_KEYS: Final = frozenset({"unit", "scale_factor"})
_NAT: Final = np.iinfo(np.int64).min


@dataclass(frozen=True)
class _Time(DataType):
    unit: str = "generic"
    scale_factor: int = 1
    endianness: Endianness = "little"

    kind: ClassVar[str]  # "M" or "m"
    numpy_name: ClassVar[str]

    def __post_init__(self) -> None:
        if self.unit not in DATETIME_UNITS:
            raise MetadataValidationError(f"{self.name} 'unit' must be one of {DATETIME_UNITS}, got {self.unit!r}")
        if (
            isinstance(self.scale_factor, bool)
            or not isinstance(self.scale_factor, int)
            or not 1 <= self.scale_factor < 2**31
        ):
            raise MetadataValidationError(
                f"{self.name} 'scale_factor' must be an integer in [1, 2**31), got {self.scale_factor!r}"
            )

    @property
    def _unit_string(self) -> str:
        if self.unit == "generic":
            return ""
        return f"[{self.scale_factor}{self.unit}]" if self.scale_factor != 1 else f"[{self.unit}]"

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        return np.dtype(f"{numpy_order(self.endianness)}{self.kind}8{self._unit_string}")

    @classmethod
    def from_numpy(cls, dtype: np.dtype[Any]) -> Self:
        if dtype.kind != cls.kind:
            raise DataTypeMismatch
        unit, scale = np.datetime_data(dtype)
        return cls(unit=unit, scale_factor=int(scale), endianness=endianness_of(dtype))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "configuration": {"unit": self.unit, "scale_factor": self.scale_factor}}

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        config = check_named_config(data, cls.name, _TIME_KEYS)
        return cls(unit=config["unit"], scale_factor=config["scale_factor"])

    def with_native_layout(self) -> Self:
        return replace(self, endianness="little")

    @property
    def _scalar_unit(self) -> str:
        return "generic" if self.unit == "generic" else f"{self.scale_factor}{self.unit}"

    def default_fill_value(self) -> Any:
        return np.array(_NAT, dtype=np.int64).view(self.numpy_dtype.newbyteorder("="))[()]

    def _from_int(self, number: int, original: Any) -> Any:
        if not _NAT <= number <= np.iinfo(np.int64).max:
            raise self._bad_fill("a 64-bit integer", original)
        return np.array(number, dtype=np.int64).view(self.numpy_dtype.newbyteorder("="))[()]

    def cast_fill_value(self, value: Any) -> Any:
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if value is None or (isinstance(value, str) and value == "NaT"):
            return self.default_fill_value()
        if isinstance(value, bool):
            raise self._bad_fill(f"a {self.numpy_name} value", value)
        native = self.numpy_dtype.newbyteorder("=")
        if isinstance(value, np.datetime64 | np.timedelta64 | datetime.datetime | datetime.timedelta | str):
            try:
                return np.array(value).astype(native, casting="unsafe" if isinstance(value, str) else "same_kind")[()]
            except (TypeError, ValueError):
                pass
            try:
                return native.type(value, self._scalar_unit)
            except (TypeError, ValueError):
                pass
        elif isinstance(value, int | np.integer):
            if int(value) == _NAT:
                return self.default_fill_value()
            if self.unit == "generic":
                raise self._bad_fill("NaT (an integer needs a unit)", value)
            return self._from_int(int(value), value)
        raise self._bad_fill(f"a {self.numpy_name} value", value)

    def fill_value_to_json(self, value: Any) -> int:
        scalar = self.cast_fill_value(value)
        return int(np.array(scalar).view(np.int64)[()])

    def fill_value_from_json(self, data: JSON) -> Any:
        if data == "NaT":
            return self.default_fill_value()
        if isinstance(data, int) and not isinstance(data, bool):
            return self._from_int(data, data)
        raise self._bad_fill('an integer or "NaT"', data)


@dataclass(frozen=True)
class DateTime64(_Time):
    """numpy ``datetime64[<scale><unit>]``: V3 ``{"name": "numpy.datetime64", "configuration": {...}}``."""

    name: ClassVar[str] = "numpy.datetime64"
    kind: ClassVar[str] = "M"
    numpy_name: ClassVar[str] = "datetime64"


@dataclass(frozen=True)
class TimeDelta64(_Time):
    """numpy ``timedelta64[<scale><unit>]``: V3 ``{"name": "numpy.timedelta64", "configuration": {...}}``."""

    name: ClassVar[str] = "numpy.timedelta64"
    kind: ClassVar[str] = "m"
    numpy_name: ClassVar[str] = "timedelta64"

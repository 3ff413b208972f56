"""numpy structured (record) data types: V3 ``structured``, V2 a list of ``[name, dtype(, shape)]`` fields."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Self, cast

import numpy as np

from zarrlayered.core.dtypes.base import (
    JSON,
    DataType,
    DataTypeMismatch,
    b64decode_fill,
    b64encode_fill,
    check_named_config,
)
from zarrlayered.errors import MetadataValidationError

__all__ = ["Structured", "descr_to_json", "v2_fields_to_numpy"]

# Set by the package __init__ once every built-in type exists (a field's type is any registered type).
_from_numpy: Callable[[np.dtype[Any]], DataType] | None = None
_from_json: Callable[[JSON], DataType] | None = None


def _bind(from_numpy: Callable[[np.dtype[Any]], DataType], from_json: Callable[[JSON], DataType]) -> None:
    global _from_numpy, _from_json
    _from_numpy, _from_json = from_numpy, from_json


@dataclass(frozen=True)
class Structured(DataType):
    """A record type; ``fields`` holds ``(name, data type, subarray shape)`` triples in order.

    Subarray fields (numpy ``("b", "f8", (2,))``) keep their shape: Zarr V2 writes them as
    ``["b", "<f8", [2]]`` as zarr 2 did.
    """

    fields: tuple[tuple[str, DataType, tuple[int, ...]], ...]

    name: ClassVar[str] = "structured"

    def __post_init__(self) -> None:
        if not self.fields:
            raise MetadataValidationError("a structured data type needs at least one field")
        names = [f[0] for f in self.fields]
        if len(set(names)) != len(names):
            raise MetadataValidationError(f"structured data type field names must be unique, got {names}")

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        return np.dtype([(n, t.numpy_dtype, shape) if shape else (n, t.numpy_dtype) for n, t, shape in self.fields])

    @classmethod
    def from_numpy(cls, dtype: np.dtype[Any]) -> Self:
        if dtype.kind != "V" or dtype.fields is None:
            raise DataTypeMismatch
        assert _from_numpy is not None
        out: list[tuple[str, DataType, tuple[int, ...]]] = []
        offset = 0
        assert dtype.names is not None
        for field_name in dtype.names:
            field_dtype, field_offset = dtype.fields[field_name][:2]
            if field_offset != offset:
                raise MetadataValidationError(
                    f"structured data types with padding or overlapping fields are not supported, got {dtype!r}"
                )
            offset += field_dtype.itemsize
            shape: tuple[int, ...] = ()
            if field_dtype.subdtype is not None:
                field_dtype, shape = field_dtype.subdtype
            out.append((field_name, _from_numpy(field_dtype), tuple(int(s) for s in shape)))
        if offset != dtype.itemsize:
            raise MetadataValidationError(
                f"structured data types with trailing padding are not supported, got {dtype!r}"
            )
        return cls(fields=tuple(out))

    def to_json(self) -> dict[str, Any]:
        fields: list[list[Any]] = []
        for field_name, field_type, shape in self.fields:
            if shape:
                raise MetadataValidationError(
                    f"structured field {field_name!r} has subarray shape {list(shape)}, "
                    "which the Zarr V3 'structured' data type cannot express"
                )
            fields.append([field_name, field_type.to_json()])
        return {"name": self.name, "configuration": {"fields": fields}}

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        config = check_named_config(data, cls.name, frozenset({"fields"}))
        raw = config["fields"]
        if not isinstance(raw, list) or not raw:
            raise MetadataValidationError(f"structured 'fields' must be a non-empty list, got {raw!r}")
        assert _from_json is not None
        out: list[tuple[str, DataType, tuple[int, ...]]] = []
        for entry in raw:
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
                raise MetadataValidationError(f"structured field must be [name, data_type], got {entry!r}")
            out.append((entry[0], _from_json(entry[1]), ()))
        return cls(fields=tuple(out))

    def to_v2_json(self) -> list[Any]:
        return descr_to_json(self.numpy_dtype.descr)

    def with_native_layout(self) -> Self:
        return replace(self, fields=tuple((n, t.with_native_layout(), s) for n, t, s in self.fields))

    def default_fill_value(self) -> np.void:
        # zarr-python 3 casts the integer 0 to every field: string fields hold "0" (as it writes them)
        return cast("np.void", np.array([0], dtype=self.numpy_dtype)[0])

    def _from_raw(self, raw: bytes, original: Any) -> np.void:
        dtype = self.numpy_dtype
        if len(raw) != dtype.itemsize:
            raise self._bad_fill(f"{dtype.itemsize} bytes", original)
        return np.frombuffer(raw, dtype=dtype)[0]  # type: ignore[no-any-return]

    def cast_fill_value(self, value: Any) -> np.void:
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        dtype = self.numpy_dtype
        if isinstance(value, np.void):
            if value.dtype == dtype:
                return value
            return self._from_raw(value.tobytes(), value)
        if isinstance(value, bytes):
            return self._from_raw(value, value)
        if isinstance(value, list | tuple):
            try:
                return cast("np.void", np.array([tuple(value)], dtype=dtype)[0])
            except (TypeError, ValueError):
                raise self._bad_fill("a tuple with one value per field", value) from None
        if isinstance(value, int) and not isinstance(value, bool) and value == 0:
            return self.default_fill_value()
        raise self._bad_fill("bytes or a tuple with one value per field", value)

    def fill_value_to_json(self, value: Any) -> str:
        return b64encode_fill(self.cast_fill_value(value).tobytes())

    def fill_value_from_json(self, data: JSON) -> np.void:
        raw = b64decode_fill(data) if isinstance(data, str) else None
        if raw is None:
            raise self._bad_fill("a base64 string", data)
        return self._from_raw(raw, data)


def descr_to_json(descr: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for item in descr:
        field_name, field_type = item[0], item[1]
        entry: list[Any] = [field_name, descr_to_json(field_type) if isinstance(field_type, list) else field_type]
        if len(item) == 3:
            entry.append(list(item[2]))
        out.append(entry)
    return out


def v2_fields_to_numpy(value: Sequence[Any], where: str) -> list[tuple[Any, ...]]:
    """Turn a Zarr V2 structured ``dtype`` list into the list numpy's ``np.dtype`` takes."""
    out: list[tuple[Any, ...]] = []
    for entry in value:
        if not (isinstance(entry, list | tuple) and len(entry) in (2, 3) and isinstance(entry[0], str)):
            raise MetadataValidationError(
                f"{where} must be a list of [name, dtype] or [name, dtype, shape], got {entry!r}"
            )
        field_type = entry[1]
        if isinstance(field_type, list | tuple):
            field_type = v2_fields_to_numpy(field_type, where)
        elif not isinstance(field_type, str):
            raise MetadataValidationError(f"{where} field {entry[0]!r} has an invalid dtype {field_type!r}")
        if len(entry) == 3:
            shape = entry[2]
            if not (
                isinstance(shape, list | tuple)
                and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)
            ):
                raise MetadataValidationError(f"{where} field {entry[0]!r} has an invalid shape {shape!r}")
            out.append((entry[0], field_type, tuple(shape)))
        else:
            out.append((entry[0], field_type))
    return out

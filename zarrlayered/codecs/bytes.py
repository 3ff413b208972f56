"""The V3 ``bytes`` codec: a chunk's elements in C order, little or big endian."""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal, Self

import numpy as np

from zarrlayered.codecs.abc import (
    ArrayBytesCodec,
    BytesLike,
    ChunkSpec,
    check_fields,
    parse_literal_field,
    parse_named_configuration,
)
from zarrlayered.codecs.limits import is_variable_length
from zarrlayered.errors import MetadataValidationError

__all__ = ["BytesCodec", "Endian", "has_endianness"]

Endian = Literal["little", "big"]
_ENDIANS: tuple[Endian, ...] = ("little", "big")
_SYSTEM_ENDIAN: Endian = "little" if sys.byteorder == "little" else "big"


def has_endianness(dtype: np.dtype[Any]) -> bool:
    """Whether the byte order of ``dtype`` matters (multi-byte numbers, datetimes, fixed UTF-32 strings)."""
    return dtype.byteorder != "|"


@functools.lru_cache(maxsize=256)
def _stored_dtype(dtype: np.dtype[Any], endian: Endian | None) -> np.dtype[Any]:
    # remembered: a chunk decode asks for it every time, and a dtype's byte-order view costs a microsecond
    if endian is None or not has_endianness(dtype):
        return dtype
    return dtype.newbyteorder("<" if endian == "little" else ">")


@dataclass(frozen=True)
class BytesCodec(ArrayBytesCodec):
    """Serialize a chunk as its raw elements in C order.

    Parameters
    ----------
    endian
        ``"little"`` or ``"big"``; None only for data types of one byte (then the JSON form carries no
        configuration). Defaults to the machine's byte order, as zarr-python 3 does.
    """

    endian: Endian | None = _SYSTEM_ENDIAN

    codec_name: ClassVar[str] = "bytes"

    def __post_init__(self) -> None:
        if self.endian is not None:
            parse_literal_field("bytes", "endian", self.endian, _ENDIANS)

    def to_dict(self) -> dict[str, Any]:
        """The V3 JSON form."""
        if self.endian is None:
            return {"name": "bytes"}
        return {"name": "bytes", "configuration": {"endian": self.endian}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse the V3 JSON form (a missing configuration means the machine's byte order)."""
        _, configuration = parse_named_configuration(data, "bytes", require_configuration=False)
        check_fields("bytes", configuration, {"endian"})
        if "endian" not in configuration:
            return cls()
        endian = configuration["endian"]
        if endian is None:
            return cls(endian=None)
        return cls(endian=parse_literal_field("bytes", "endian", endian, _ENDIANS))  # type: ignore[arg-type]

    def evolve_from_array_spec(self, spec: ChunkSpec) -> Self:
        """Drop the byte order for one-byte data types; require it for the others."""
        if not has_endianness(spec.dtype):
            return self if self.endian is None else replace(self, endian=None)
        if self.endian is None:
            raise MetadataValidationError(
                f"codec 'bytes' field 'endian' must be 'little' or 'big' for the data type {spec.dtype}, got None"
            )
        return self

    def validate(self, spec: ChunkSpec) -> None:
        """Refuse variable-length data types and a missing byte order for multi-byte types."""
        if is_variable_length(spec.dtype):
            raise MetadataValidationError(
                f"codec 'bytes' cannot encode the variable-length data type {spec.dtype}; use vlen-utf8 or vlen-bytes"
            )
        if self.endian is None and has_endianness(spec.dtype):
            raise MetadataValidationError(
                f"codec 'bytes' field 'endian' must be 'little' or 'big' for the data type {spec.dtype}, got None"
            )

    def stored_dtype(self, dtype: np.dtype[Any]) -> np.dtype[Any]:
        """The dtype of the elements as they are stored (``dtype`` with this codec's byte order)."""
        return _stored_dtype(dtype, self.endian)

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> BytesLike:
        """The elements of ``chunk`` in C order with the codec's byte order (no copy when already so)."""
        target = self.stored_dtype(spec.dtype)
        if chunk.dtype != target:
            chunk = chunk.astype(target)
        flat = chunk.ravel(order="C")  # the method: np.ravel's wrapper costs as much as a small chunk's copy
        return flat.view(np.uint8).data

    def decode(self, data: BytesLike, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """A view of ``data`` as the chunk; byte-swapped (copied) only when the stored order differs."""
        stored = self.stored_dtype(spec.dtype)
        expected = spec.size * stored.itemsize
        got = len(data) if isinstance(data, bytes) else memoryview(data).nbytes
        if got != expected:
            raise ValueError(
                f"codec 'bytes': a chunk of shape {spec.shape} and dtype {stored} needs {expected} bytes, got {got}"
            )
        array = np.frombuffer(data, dtype=stored).reshape(spec.shape)
        if stored != spec.dtype:
            array = array.astype(spec.dtype)
        return array

    def compute_encoded_size(self, input_byte_length: int, spec: ChunkSpec) -> int:
        """The same number of bytes."""
        return input_byte_length

"""The V3 ``vlen-utf8`` and ``vlen-bytes`` codecs (numcodecs VLenUTF8/VLenBytes do the work).

The layout is numcodecs': a little-endian uint32 item count, then per item a uint32 length and the
bytes, items in C order. Strings may be object arrays or numpy 2 ``StringDType`` arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
from numcodecs.vlen import VLenBytes, VLenUTF8

from zarrlayered.codecs.abc import (
    ArrayBytesCodec,
    BytesLike,
    ChunkSpec,
    check_fields,
    parse_named_configuration,
)
from zarrlayered.codecs.limits import check_vlen_items
from zarrlayered.errors import MetadataValidationError

__all__ = ["VLenBytesCodec", "VLenUTF8Codec"]

# numcodecs' VLen codecs have no parameters and keep no state: one instance serves every thread.
_VLEN_UTF8 = VLenUTF8()
_VLEN_BYTES = VLenBytes()


def _flat_c(chunk: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    # numcodecs flattens F-contiguous input in F order; V3 wants C order whatever the memory layout.
    return np.ravel(chunk, order="C")


@dataclass(frozen=True)
class VLenUTF8Codec(ArrayBytesCodec):
    """Variable-length UTF-8 strings (object arrays of ``str`` or ``StringDType`` arrays)."""

    codec_name: ClassVar[str] = "vlen-utf8"

    def to_dict(self) -> dict[str, Any]:
        """The V3 JSON form."""
        return {"name": "vlen-utf8", "configuration": {}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse the V3 JSON form."""
        _, configuration = parse_named_configuration(data, "vlen-utf8", require_configuration=False)
        check_fields("vlen-utf8", configuration, set())
        return cls()

    def validate(self, spec: ChunkSpec) -> None:
        """Only object and StringDType arrays hold variable-length strings."""
        if spec.dtype.kind not in "OT":
            raise MetadataValidationError(
                f"codec 'vlen-utf8' needs a variable-length string data type, got {spec.dtype}"
            )

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> BytesLike:
        """Serialize the strings in C order."""
        return memoryview(_VLEN_UTF8.encode(_flat_c(chunk)))

    def decode(self, data: BytesLike, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """The strings, shaped like the chunk, as ``spec.dtype`` (object or StringDType)."""
        check_vlen_items("vlen-utf8", data, spec.size)
        decoded: np.ndarray[Any, Any] = _VLEN_UTF8.decode(data).reshape(spec.shape)
        if spec.dtype.kind != "O":
            decoded = decoded.astype(spec.dtype)
        return decoded


@dataclass(frozen=True)
class VLenBytesCodec(ArrayBytesCodec):
    """Variable-length byte strings (object arrays of ``bytes``)."""

    codec_name: ClassVar[str] = "vlen-bytes"

    def to_dict(self) -> dict[str, Any]:
        """The V3 JSON form."""
        return {"name": "vlen-bytes", "configuration": {}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse the V3 JSON form."""
        _, configuration = parse_named_configuration(data, "vlen-bytes", require_configuration=False)
        check_fields("vlen-bytes", configuration, set())
        return cls()

    def validate(self, spec: ChunkSpec) -> None:
        """Only object arrays hold variable-length bytes."""
        if spec.dtype.kind != "O":
            raise MetadataValidationError(f"codec 'vlen-bytes' needs an object data type, got {spec.dtype}")

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> BytesLike:
        """Serialize the byte strings in C order."""
        return memoryview(_VLEN_BYTES.encode(_flat_c(chunk)))

    def decode(self, data: BytesLike, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """The byte strings as an object array shaped like the chunk."""
        check_vlen_items("vlen-bytes", data, spec.size)
        decoded: np.ndarray[Any, Any] = _VLEN_BYTES.decode(data).reshape(spec.shape)
        return decoded

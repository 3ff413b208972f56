"""The V3 ``crc32c`` codec: appends the CRC-32C of the data as 4 little-endian bytes, checked on decode."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from crc32c import crc32c

from zarrlayered.codecs.abc import BytesBytesCodec, BytesLike, ChunkSpec, check_fields, parse_named_configuration
from zarrlayered.errors import ChecksumError

__all__ = ["Crc32cCodec"]


@dataclass(frozen=True)
class Crc32cCodec(BytesBytesCodec):
    """Append a CRC-32C checksum; decoding verifies it and raises ChecksumError on a mismatch."""

    codec_name: ClassVar[str] = "crc32c"

    def to_dict(self) -> dict[str, Any]:
        """The V3 JSON form."""
        return {"name": "crc32c"}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse the V3 JSON form (no configuration, or an empty one)."""
        _, configuration = parse_named_configuration(data, "crc32c", require_configuration=False)
        check_fields("crc32c", configuration, set())
        return cls()

    def encode(self, data: BytesLike, spec: ChunkSpec) -> BytesLike:
        """The data followed by its checksum."""
        out = bytearray(data)
        out += crc32c(data).to_bytes(4, "little")
        return memoryview(out)

    def decode(self, data: BytesLike, spec: ChunkSpec) -> BytesLike:
        """The data without its checksum (a view, no copy), after checking it."""
        view = memoryview(data).cast("B")
        if view.nbytes < 4:
            raise ChecksumError(f"codec 'crc32c': a chunk of {view.nbytes} bytes is too short to hold a checksum")
        payload = view[:-4]
        stored = int.from_bytes(view[-4:], "little")
        computed = crc32c(payload)
        if stored != computed:
            raise ChecksumError(
                f"codec 'crc32c': stored checksum {stored:#010x} does not match computed {computed:#010x}; "
                "the chunk is corrupt"
            )
        return payload

    def compute_encoded_size(self, input_byte_length: int, spec: ChunkSpec) -> int:
        """Four bytes more."""
        return input_byte_length + 4

"""The V3 ``zstd`` codec (numcodecs Zstd does the work)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Self

from numcodecs.zstd import Zstd

from zarrlayered.codecs.abc import (
    BytesBytesCodec,
    BytesLike,
    ChunkSpec,
    check_fields,
    parse_bool_field,
    parse_int_field,
    parse_named_configuration,
)
from zarrlayered.codecs.limits import bounded_decompress

__all__ = ["ZstdCodec"]


@dataclass(frozen=True)
class ZstdCodec(BytesBytesCodec):
    """Zstandard compression.

    Parameters
    ----------
    level
        Compression level, at most 22 (0 means zstd's default; negative levels are faster).
    checksum
        Whether each frame carries a content checksum.
    """

    level: int = 0
    checksum: bool = False

    codec_name: ClassVar[str] = "zstd"

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", parse_int_field("zstd", "level", self.level, maximum=22))
        object.__setattr__(self, "checksum", parse_bool_field("zstd", "checksum", self.checksum))

    def to_dict(self) -> dict[str, Any]:
        """The V3 JSON form."""
        return {"name": "zstd", "configuration": {"level": self.level, "checksum": self.checksum}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse the V3 JSON form."""
        _, configuration = parse_named_configuration(data, "zstd")
        check_fields("zstd", configuration, {"level", "checksum"})
        return cls(**configuration)

    @cached_property
    def _numcodec(self) -> Zstd:
        return Zstd(level=self.level, checksum=self.checksum)

    def encode(self, data: BytesLike, spec: ChunkSpec) -> BytesLike:
        """Compress."""
        result: BytesLike = self._numcodec.encode(data)
        return result

    def decode(self, data: BytesLike, spec: ChunkSpec) -> BytesLike:
        """Decompress."""
        result: BytesLike = self._numcodec.decode(data)
        return result

    def decode_bounded(self, data: BytesLike, spec: ChunkSpec, max_nbytes: int | None) -> BytesLike:
        """Decompress, refusing before allocating it an output of more than ``max_nbytes`` bytes."""
        result: BytesLike = bounded_decompress(self._numcodec, data, max_nbytes)
        return result

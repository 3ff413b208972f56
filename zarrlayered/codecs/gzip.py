"""The V3 ``gzip`` codec (numcodecs GZip does the work)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Self

from numcodecs.gzip import GZip

from zarrlayered.codecs.abc import (
    BytesBytesCodec,
    BytesLike,
    ChunkSpec,
    check_fields,
    parse_int_field,
    parse_named_configuration,
)
from zarrlayered.codecs.limits import bounded_decompress

__all__ = ["GzipCodec"]


@dataclass(frozen=True)
class GzipCodec(BytesBytesCodec):
    """Gzip compression.

    Parameters
    ----------
    level
        Compression level, 0 to 9.
    """

    level: int = 5

    codec_name: ClassVar[str] = "gzip"

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", parse_int_field("gzip", "level", self.level, minimum=0, maximum=9))

    def to_dict(self) -> dict[str, Any]:
        """The V3 JSON form."""
        return {"name": "gzip", "configuration": {"level": self.level}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse the V3 JSON form."""
        _, configuration = parse_named_configuration(data, "gzip")
        check_fields("gzip", configuration, {"level"})
        return cls(**configuration)

    @cached_property
    def _numcodec(self) -> GZip:
        return GZip(level=self.level)

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

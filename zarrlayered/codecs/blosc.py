"""The V3 ``blosc`` codec (numcodecs Blosc does the work)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, ClassVar, Literal, Self

from numcodecs.blosc import Blosc

from zarrlayered.codecs.abc import (
    BytesBytesCodec,
    BytesLike,
    ChunkSpec,
    check_fields,
    parse_int_field,
    parse_literal_field,
    parse_named_configuration,
)
from zarrlayered.codecs.limits import bounded_decompress, is_variable_length

__all__ = ["BloscCodec", "CName", "Shuffle"]

CName = Literal["lz4", "lz4hc", "blosclz", "snappy", "zlib", "zstd"]
Shuffle = Literal["noshuffle", "shuffle", "bitshuffle"]
_CNAMES: tuple[str, ...] = ("lz4", "lz4hc", "blosclz", "snappy", "zlib", "zstd")
_SHUFFLES: tuple[str, ...] = ("noshuffle", "shuffle", "bitshuffle")


@dataclass(frozen=True)
class BloscCodec(BytesBytesCodec):
    """Blosc compression.

    Parameters
    ----------
    typesize
        The element size the shuffle works on; None takes the chunk's item size when the codec is
        fitted to an array (1 for variable-length types), as zarr-python 3 does.
    cname
        The compressor inside blosc.
    clevel
        Compression level, 0 to 9.
    shuffle
        ``"noshuffle"``, ``"shuffle"`` or ``"bitshuffle"``; None takes ``"bitshuffle"`` for one-byte
        types and ``"shuffle"`` otherwise when the codec is fitted to an array.
    blocksize
        Block size in bytes; 0 lets blosc choose.

    Notes
    -----
    Until fitted to an array, a None ``typesize``/``shuffle`` reads as ``1``/``"bitshuffle"`` in the
    JSON form and in encoding, exactly like zarr-python 3's unfitted codec.
    """

    typesize: int | None = None
    cname: CName = "zstd"
    clevel: int = 5
    shuffle: Shuffle | None = None
    blocksize: int = 0

    codec_name: ClassVar[str] = "blosc"

    def __post_init__(self) -> None:
        if self.typesize is not None:
            object.__setattr__(self, "typesize", parse_int_field("blosc", "typesize", self.typesize, minimum=1))
        parse_literal_field("blosc", "cname", self.cname, _CNAMES)
        object.__setattr__(self, "clevel", parse_int_field("blosc", "clevel", self.clevel, minimum=0, maximum=9))
        if self.shuffle is not None:
            parse_literal_field("blosc", "shuffle", self.shuffle, _SHUFFLES)
        object.__setattr__(self, "blocksize", parse_int_field("blosc", "blocksize", self.blocksize, minimum=0))

    @property
    def effective_typesize(self) -> int:
        """The type size used when encoding (1 while unfitted)."""
        return 1 if self.typesize is None else self.typesize

    @property
    def effective_shuffle(self) -> Shuffle:
        """The shuffle used when encoding (``"bitshuffle"`` while unfitted)."""
        return "bitshuffle" if self.shuffle is None else self.shuffle

    def to_dict(self) -> dict[str, Any]:
        """The V3 JSON form."""
        return {
            "name": "blosc",
            "configuration": {
                "typesize": self.effective_typesize,
                "cname": self.cname,
                "clevel": self.clevel,
                "shuffle": self.effective_shuffle,
                "blocksize": self.blocksize,
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse the V3 JSON form (missing ``typesize``/``shuffle`` stay to be fitted to the array)."""
        _, configuration = parse_named_configuration(data, "blosc")
        check_fields("blosc", configuration, {"typesize", "cname", "clevel", "shuffle", "blocksize"})
        return cls(**configuration)

    def evolve_from_array_spec(self, spec: ChunkSpec) -> Self:
        """Fill a None ``typesize``/``shuffle`` from the chunk's item size."""
        if self.typesize is not None and self.shuffle is not None:
            return self
        dtype = spec.dtype
        item_size = 1 if is_variable_length(dtype) else dtype.itemsize
        typesize = item_size if self.typesize is None else self.typesize
        shuffle: Shuffle = ("bitshuffle" if item_size == 1 else "shuffle") if self.shuffle is None else self.shuffle
        return replace(self, typesize=typesize, shuffle=shuffle)

    @cached_property
    def _numcodec(self) -> Blosc:
        return Blosc(
            cname=self.cname,
            clevel=self.clevel,
            shuffle=_SHUFFLES.index(self.effective_shuffle),
            blocksize=self.blocksize,
            typesize=self.effective_typesize,
        )

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

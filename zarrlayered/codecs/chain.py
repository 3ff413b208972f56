"""The codec chain of an array: array -> array codecs, one array -> bytes codec, bytes -> bytes codecs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zarrlayered.codecs.abc import (
    ArrayArrayCodec,
    ArrayBytesCodec,
    BaseCodec,
    BytesBytesCodec,
    BytesLike,
    ChunkSpec,
)
from zarrlayered.codecs.bytes import BytesCodec
from zarrlayered.codecs.limits import (
    MAX_VARIABLE_CHUNK_NBYTES,
    chunk_nbytes_bound,
    is_variable_length,
    max_encoded_nbytes,
    vlen_nbytes_bound,
)
from zarrlayered.errors import CorruptChunkError, MetadataValidationError, UnsafeCodecError

__all__ = ["CodecChain"]


#: The decoded-size bound of an array -> bytes codec without a fixed encoded size (sharding with compressed
#: inner chunks), as a multiple of the chunk's size plus a constant: per inner chunk headers and index.
_UNSIZED_FACTOR = 64
_UNSIZED_SLACK = 2**16


def _decode_error(codec: BaseCodec, data: Any, exc: Exception) -> CorruptChunkError:
    """A codec failed on stored data: the chunk is corrupt (the message keeps the codec's reason)."""
    name = getattr(codec, "codec_name", type(codec).__name__)
    try:
        size = f"{memoryview(data).nbytes} bytes" if not isinstance(data, np.ndarray) else f"an array {data.shape}"
    except TypeError:
        size = "the data"
    return CorruptChunkError(f"codec {name!r} cannot decode {size}: {type(exc).__name__}: {exc}")


def _kind(codec: BaseCodec) -> str:
    if isinstance(codec, ArrayArrayCodec):
        return "array -> array"
    if isinstance(codec, ArrayBytesCodec):
        return "array -> bytes"
    if isinstance(codec, BytesBytesCodec):
        return "bytes -> bytes"
    raise MetadataValidationError(f"{codec!r} is not an array->array, array->bytes or bytes->bytes codec")


@dataclass(frozen=True)
class CodecChain:
    """The codecs of one array in the order ``AA* AB BB*``, applied to whole chunks.

    Parameters
    ----------
    array_array
        The array -> array codecs, in encoding order.
    array_bytes
        The one array -> bytes codec.
    bytes_bytes
        The bytes -> bytes codecs, in encoding order.
    """

    array_array: tuple[ArrayArrayCodec, ...]
    array_bytes: ArrayBytesCodec
    bytes_bytes: tuple[BytesBytesCodec, ...]
    # spec -> the specs seen by the array -> array codecs and by the array -> bytes codec (a few entries)
    _spec_cache: dict[ChunkSpec, tuple[tuple[ChunkSpec, ...], ChunkSpec]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # spec -> the decode bound of each bytes -> bytes codec (see decode_limits)
    _limit_cache: dict[ChunkSpec, tuple[int | None, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def from_codecs(cls, codecs: Iterable[BaseCodec]) -> CodecChain:
        """Split a codec list into its three parts, checking the order and the single array -> bytes codec.

        Raises
        ------
        MetadataValidationError
            If the order is not ``AA* AB BB*`` or there is not exactly one array -> bytes codec.
        """
        array_array: list[ArrayArrayCodec] = []
        array_bytes: ArrayBytesCodec | None = None
        bytes_bytes: list[BytesBytesCodec] = []
        for codec in codecs:
            kind = _kind(codec)
            name = getattr(codec, "codec_name", type(codec).__name__)
            if isinstance(codec, ArrayArrayCodec):
                if array_bytes is not None:
                    raise MetadataValidationError(
                        f"codecs: the {kind} codec {name!r} must come before the array -> bytes codec"
                    )
                array_array.append(codec)
            elif isinstance(codec, ArrayBytesCodec):
                if array_bytes is not None:
                    raise MetadataValidationError(
                        f"codecs: only one array -> bytes codec is allowed, got {array_bytes.codec_name!r} and {name!r}"
                    )
                array_bytes = codec
            else:
                assert isinstance(codec, BytesBytesCodec)
                if array_bytes is None:
                    raise MetadataValidationError(
                        f"codecs: the {kind} codec {name!r} must come after the array -> bytes codec"
                    )
                bytes_bytes.append(codec)
        if array_bytes is None:
            raise MetadataValidationError("codecs: exactly one array -> bytes codec (e.g. 'bytes') is required")
        return cls(tuple(array_array), array_bytes, tuple(bytes_bytes))

    def codecs(self) -> tuple[BaseCodec, ...]:
        """All codecs in encoding order."""
        return (*self.array_array, self.array_bytes, *self.bytes_bytes)

    @property
    def is_plain_bytes(self) -> bool:
        """True when the chain is a lone ``bytes`` codec: a stored chunk is the raw C-order elements."""
        return not self.array_array and not self.bytes_bytes and type(self.array_bytes) is BytesCodec

    def to_dicts(self) -> list[dict[str, Any]]:
        """The V3 JSON form of every codec, in order."""
        return [codec.to_dict() for codec in self.codecs()]

    def evolve(self, spec: ChunkSpec) -> CodecChain:
        """Fit every codec to the chunks it will see (dtype-dependent defaults) and validate it.

        Each codec is fitted to the spec produced by the codecs before it.
        """
        evolved: list[BaseCodec] = []
        for codec in self.codecs():
            fitted = codec.evolve_from_array_spec(spec)
            fitted.validate(spec)
            evolved.append(fitted)
            spec = fitted.resolve_metadata(spec)
        return CodecChain.from_codecs(evolved)

    def _specs(self, spec: ChunkSpec) -> tuple[tuple[ChunkSpec, ...], ChunkSpec]:
        """The input spec of each array -> array codec, and the spec the array -> bytes codec sees."""
        if not self.array_array:
            return (), spec
        try:
            return self._spec_cache[spec]
        except (KeyError, TypeError):  # TypeError: an unhashable fill value
            pass
        inputs: list[ChunkSpec] = []
        resolved = spec
        for codec in self.array_array:
            inputs.append(resolved)
            resolved = codec.resolve_metadata(resolved)
        result = (tuple(inputs), resolved)
        if len(self._spec_cache) < 64:
            try:
                self._spec_cache[spec] = result
            except TypeError:
                pass
        return result

    def decode_limits(self, spec: ChunkSpec) -> tuple[int | None, ...]:
        """The most bytes each bytes -> bytes codec may decode to, in encoding order (the chunk's size bound).

        The first codec's output is what the array -> bytes codec writes: exactly the chunk's ``nbytes``
        for ``bytes``; each later codec's output may be what the one before made of it, at most.
        """
        try:
            return self._limit_cache[spec]
        except (KeyError, TypeError):  # TypeError: an unhashable fill value
            pass
        _, ab_spec = self._specs(spec)
        raw = chunk_nbytes_bound(ab_spec.shape, ab_spec.dtype)
        variable = is_variable_length(ab_spec.dtype)
        bound: int | None
        try:
            bound = MAX_VARIABLE_CHUNK_NBYTES if variable else self.array_bytes.compute_encoded_size(raw, ab_spec)
        except ValueError:  # e.g. sharding with compressed inner chunks: a generous multiple
            bound = _UNSIZED_FACTOR * raw + _UNSIZED_SLACK
        limits: list[int | None] = []
        for bb in self.bytes_bytes:
            limits.append(bound)
            try:
                bound = bb.compute_encoded_size(bound, ab_spec)
            except ValueError:
                bound = max_encoded_nbytes(bound)
        result = tuple(limits)
        if len(self._limit_cache) < 64:
            try:
                self._limit_cache[spec] = result
            except TypeError:
                pass
        return result

    def decode(self, data: BytesLike, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """Decode one stored chunk to an array of shape ``spec.shape`` and dtype ``spec.dtype``.

        The result may be a read-only view of ``data`` (plain ``bytes`` chains) or a transposed view;
        the caller copies it into its output, or copies it before writing into it. Every decompression
        is bounded by the bytes the chunk can hold (:meth:`decode_limits`; for variable-length types,
        :func:`~zarrlayered.codecs.limits.vlen_nbytes_bound` of the item count and the encoded size).

        Raises
        ------
        CorruptChunkError
            If a codec cannot decode the data (truncated, corrupt, or larger than the chunk can be);
            :class:`~zarrlayered.errors.ChecksumError` when a checksum does not match. The engine adds
            the chunk's key to the message.
        UnsafeCodecError
            If a codec that can execute code is used without ``codecs.allow_pickle``.
        """
        inputs, ab_spec = self._specs(spec)
        if self.bytes_bytes:
            limits = self.decode_limits(spec)
            variable = is_variable_length(ab_spec.dtype)
            for bb, static_limit in zip(reversed(self.bytes_bytes), reversed(limits), strict=True):
                # no size from the metadata for variable-length types: the item count and the encoded size
                limit = vlen_nbytes_bound(ab_spec.size, memoryview(data).nbytes) if variable else static_limit
                try:
                    data = bb.decode_bounded(data, ab_spec, limit)
                except (CorruptChunkError, UnsafeCodecError):
                    raise
                except Exception as exc:
                    raise _decode_error(bb, data, exc) from exc
        try:
            chunk = self.array_bytes.decode(data, ab_spec)
        except (CorruptChunkError, UnsafeCodecError):
            raise
        except Exception as exc:
            raise _decode_error(self.array_bytes, data, exc) from exc
        for aa, aa_spec in zip(reversed(self.array_array), reversed(inputs), strict=True):
            try:
                chunk = aa.decode(chunk, aa_spec)
            except (CorruptChunkError, UnsafeCodecError):
                raise
            except Exception as exc:
                raise _decode_error(aa, chunk, exc) from exc
        return chunk

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> BytesLike:
        """Encode one whole chunk (shape ``spec.shape``) to the bytes to store."""
        inputs, ab_spec = self._specs(spec)
        for aa, aa_spec in zip(self.array_array, inputs, strict=True):
            chunk = aa.encode(chunk, aa_spec)
        data = self.array_bytes.encode(chunk, ab_spec)
        for bb in self.bytes_bytes:
            data = bb.encode(data, ab_spec)
        return data

    def compute_encoded_size(self, byte_length: int, spec: ChunkSpec) -> int:
        """The encoded size of a chunk of ``byte_length`` bytes; ValueError if a codec is not fixed-size."""
        for codec in self.codecs():
            byte_length = codec.compute_encoded_size(byte_length, spec)
            spec = codec.resolve_metadata(spec)
        return byte_length

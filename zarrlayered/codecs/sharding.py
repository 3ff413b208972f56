"""The V3 ``sharding_indexed`` codec: many inner chunks stored in one object (a shard) with an index.

A shard is the encoded inner chunks one after the other, plus an index (see
:class:`~zarrlayered.codecs.sharding_index.ShardIndex`) encoded with the index codecs, at the start
or the end of the shard. Shards are byte-identical to those zarr-python 3 writes: inner chunks in
Morton order, inner chunks holding only the fill value left out, offsets counted from the start of
the shard (so shifted by the index size when the index comes first).

For partial reads the engine fetches only the index (:meth:`ShardingCodec.index_byte_request`,
:meth:`ShardingCodec.decode_index`), then the byte ranges of the inner chunks it needs, and decodes
each with :meth:`ShardingCodec.inner_chain`.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, ClassVar, Literal, Self

import numpy as np

from zarrlayered.codecs.abc import (
    ArrayBytesCodec,
    BaseCodec,
    BytesLike,
    ChunkSpec,
    check_fields,
    parse_literal_field,
    parse_named_configuration,
)
from zarrlayered.codecs.bytes import BytesCodec
from zarrlayered.codecs.chain import CodecChain
from zarrlayered.codecs.crc32c import Crc32cCodec
from zarrlayered.codecs.registry import parse_codecs_v3
from zarrlayered.codecs.sharding_index import (
    MAX_UINT64,
    ChunkOrder,
    ShardIndex,
    chunk_order_ranks,
)
from zarrlayered.errors import ChecksumError, CorruptChunkError, MetadataValidationError
from zarrlayered.stores.abc import ByteRequest, RangeByteRequest, SuffixByteRequest

__all__ = ["IndexLocation", "ShardIndex", "ShardingCodec", "empty_chunk_mask", "parse_chunk_shape"]

logger = logging.getLogger("zarrlayered.codec")

IndexLocation = Literal["start", "end"]
_NAME = "sharding_indexed"
_INDEX_DTYPE: np.dtype[np.uint64] = np.dtype(np.uint64)
_Coords = tuple[int, ...]


def parse_chunk_shape(value: object) -> tuple[int, ...]:
    """Return ``value`` as a tuple of positive ints, or raise MetadataValidationError naming ``chunk_shape``."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, list | tuple):
        raise MetadataValidationError(
            f"codec {_NAME!r} field 'chunk_shape' must be a list of positive integers, got {value!r}"
        )
    if not all(isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 1 for n in value):
        raise MetadataValidationError(
            f"codec {_NAME!r} field 'chunk_shape' must be a list of positive integers, got {list(value)!r}"
        )
    return tuple(int(n) for n in value)


def _parse_codec_list(field_name: str, value: object) -> tuple[BaseCodec, ...]:
    if isinstance(value, str | bytes):
        raise MetadataValidationError(f"codec {_NAME!r} field {field_name!r} must be a list of codecs, got {value!r}")
    try:
        codecs = parse_codecs_v3(value)  # type: ignore[arg-type]
        CodecChain.from_codecs(codecs)
    except MetadataValidationError as exc:
        raise MetadataValidationError(f"codec {_NAME!r} field {field_name!r}: {exc}") from exc
    except TypeError as exc:
        raise MetadataValidationError(
            f"codec {_NAME!r} field {field_name!r} must be a list of codecs, got {value!r}"
        ) from exc
    return codecs


def empty_chunk_mask(
    shard: np.ndarray[Any, Any], chunk_shape: tuple[int, ...], fill_value: Any
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """For each inner chunk of ``shard``, whether it holds only ``fill_value``.

    The comparison is zarr-python 3's: NaN equals NaN (and NaT equals NaT), and a float fill value of
    zero matches only zeros of the same sign.

    Returns
    -------
    numpy.ndarray
        Boolean array of shape ``shard.shape // chunk_shape``.
    """
    grid = tuple(s // c for s, c in zip(shard.shape, chunk_shape, strict=True))
    if fill_value is None:
        return np.zeros(grid, dtype=bool)
    dtype = shard.dtype
    fill = np.asarray(fill_value, dtype=dtype) if dtype.kind not in "OT" else fill_value
    equal: np.ndarray[Any, Any]
    if dtype.kind == "f" and fill == 0:
        equal = (shard == 0) & (np.signbit(shard) == np.signbit(fill))
    else:
        equal = np.asarray(shard == fill)
        if dtype.kind in "fcmM" and np.isnan(fill):
            equal = equal | np.isnan(shard)
    if equal.shape != shard.shape:  # elementwise comparison not supported: compare each chunk whole
        equal = np.broadcast_to(np.asarray(equal, dtype=bool), shard.shape)
    # (g0, c0, g1, c1, ...) -> all over the c axes
    interleaved = equal.reshape(tuple(itertools.chain.from_iterable(zip(grid, chunk_shape, strict=True))))
    return np.asarray(interleaved.all(axis=tuple(range(1, 2 * len(grid), 2))), dtype=bool).reshape(grid)


def _nbytes(data: BytesLike) -> int:
    return len(data) if isinstance(data, bytes) else memoryview(data).nbytes


def _encode_wrapped_shard(
    chain: CodecChain,
    nested: ShardingCodec,
    chunk: np.ndarray[Any, Any],
    spec: ChunkSpec,
    write_empty_chunks: bool,
    order: ChunkOrder,
) -> BytesLike | None:
    """Encode a chunk through ``chain`` whose array -> bytes codec is ``nested``, honouring write_empty_chunks."""
    for codec in chain.array_array:
        chunk = codec.encode(chunk, spec)
        spec = codec.resolve_metadata(spec)
    data: BytesLike | None = nested.encode_or_none(chunk, spec, write_empty_chunks, order=order)
    if data is None:
        return None
    for bb in chain.bytes_bytes:
        data = bb.encode(data, spec)
    return data


@dataclass(frozen=True)
class ShardingCodec(ArrayBytesCodec):
    """Store a grid of inner chunks, each encoded with ``codecs``, in one shard with an index.

    Parameters
    ----------
    chunk_shape
        The shape of the inner chunks; it must divide the shard shape (the array's chunk shape).
    codecs
        The codec chain of each inner chunk (default: little-endian ``bytes``). May itself hold a
        ``sharding_indexed`` codec (nested sharding).
    index_codecs
        The codecs of the index; they must have a fixed encoded size (default: little-endian
        ``bytes`` then ``crc32c``).
    index_location
        Whether the index is at the ``"start"`` or the ``"end"`` of the shard.
    """

    chunk_shape: tuple[int, ...]
    codecs: tuple[BaseCodec, ...] = (BytesCodec(endian="little"),)
    index_codecs: tuple[BaseCodec, ...] = (BytesCodec(endian="little"), Crc32cCodec())
    index_location: IndexLocation = "end"
    # (dtype, order) -> the inner chain fitted to the inner chunk spec
    _inner_chains: dict[tuple[np.dtype[Any], str], CodecChain] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # chunks_per_shard -> encoded size of the index
    _index_sizes: dict[tuple[int, ...], int] = field(default_factory=dict, init=False, repr=False, compare=False)

    codec_name: ClassVar[str] = _NAME

    def __post_init__(self) -> None:
        object.__setattr__(self, "chunk_shape", parse_chunk_shape(self.chunk_shape))
        object.__setattr__(self, "codecs", _parse_codec_list("codecs", self.codecs))
        object.__setattr__(self, "index_codecs", _parse_codec_list("index_codecs", self.index_codecs))
        parse_literal_field(_NAME, "index_location", self.index_location, ("start", "end"))

    # -- metadata ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The V3 JSON form, with the keys in zarr-python 3's order."""
        return {
            "name": _NAME,
            "configuration": {
                "chunk_shape": list(self.chunk_shape),
                "codecs": [codec.to_dict() for codec in self.codecs],
                "index_codecs": [codec.to_dict() for codec in self.index_codecs],
                "index_location": self.index_location,
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse the V3 JSON form; ``codecs``, ``index_codecs`` and ``index_location`` have defaults."""
        _, configuration = parse_named_configuration(data, _NAME)
        check_fields(_NAME, configuration, {"chunk_shape", "codecs", "index_codecs", "index_location"})
        if "chunk_shape" not in configuration:
            raise MetadataValidationError(f"codec {_NAME!r} requires the configuration field 'chunk_shape'")
        kwargs: dict[str, Any] = {"chunk_shape": parse_chunk_shape(configuration["chunk_shape"])}
        for name in ("codecs", "index_codecs"):
            if name in configuration:
                kwargs[name] = _parse_codec_list(name, configuration[name])
        if "index_location" in configuration:
            kwargs["index_location"] = parse_literal_field(
                _NAME, "index_location", configuration["index_location"], ("start", "end")
            )
        return cls(**kwargs)

    def inner_spec(self, spec: ChunkSpec) -> ChunkSpec:
        """The spec of one inner chunk of a shard described by ``spec``."""
        return ChunkSpec(self.chunk_shape, spec.dtype, spec.fill_value, spec.order)

    def evolve_from_array_spec(self, spec: ChunkSpec) -> Self:
        """Fit the inner codecs to the inner chunks (dtype-dependent defaults), as zarr-python 3 does."""
        self._check_shard_shape(spec.shape)
        evolved = CodecChain.from_codecs(self.codecs).evolve(self.inner_spec(spec)).codecs()
        return self if evolved == self.codecs else replace(self, codecs=evolved)

    def validate(self, spec: ChunkSpec) -> None:
        """Check the shard shape against ``chunk_shape``, the inner codecs and the index codecs."""
        self._check_shard_shape(spec.shape)
        CodecChain.from_codecs(self.codecs).evolve(self.inner_spec(spec))
        self.index_nbytes(spec.shape)

    def _check_shard_shape(self, shard_shape: tuple[int, ...]) -> None:
        if len(shard_shape) != len(self.chunk_shape):
            raise MetadataValidationError(
                f"codec {_NAME!r}: the inner chunk_shape {self.chunk_shape} has {len(self.chunk_shape)} "
                f"dimensions but the shard shape {tuple(shard_shape)} has {len(shard_shape)}"
            )
        if any(s % c for s, c in zip(shard_shape, self.chunk_shape, strict=True)):
            raise MetadataValidationError(
                f"codec {_NAME!r}: the shard shape (the array's chunk shape) {tuple(shard_shape)} must be "
                f"divisible by the inner chunk_shape {self.chunk_shape}"
            )

    def chunks_per_shard(self, shard_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape of the inner chunk grid of a shard of ``shard_shape``."""
        self._check_shard_shape(shard_shape)
        return tuple(s // c for s, c in zip(shard_shape, self.chunk_shape, strict=True))

    # -- chains ------------------------------------------------------------------------------------

    def inner_chain(self, spec: ChunkSpec) -> CodecChain:
        """The codec chain of the inner chunks of a shard described by ``spec``, fitted to the inner spec.

        Decode an inner chunk with ``inner_chain(spec).decode(data, inner_spec(spec))``.
        """
        key = (spec.dtype, spec.order)
        chain = self._inner_chains.get(key)
        if chain is None:
            chain = CodecChain.from_codecs(self.codecs).evolve(self.inner_spec(spec))
            self._inner_chains[key] = chain
        return chain

    @cached_property
    def index_chain(self) -> CodecChain:
        """The codec chain of the shard index."""
        return CodecChain.from_codecs(self.index_codecs)

    @staticmethod
    def index_spec(chunks_per_shard: tuple[int, ...]) -> ChunkSpec:
        """The spec of the index of a shard with ``chunks_per_shard`` inner chunks."""
        return ChunkSpec((*chunks_per_shard, 2), _INDEX_DTYPE, np.uint64(MAX_UINT64), "C")

    def index_nbytes(self, shard_shape: tuple[int, ...]) -> int:
        """The size of the encoded index of a shard of ``shard_shape`` (16 bytes per inner chunk + checksum)."""
        cps = self.chunks_per_shard(tuple(shard_shape))
        size = self._index_sizes.get(cps)
        if size is None:
            try:
                size = self.index_chain.compute_encoded_size(16 * math.prod(cps), self.index_spec(cps))
            except ValueError as exc:
                names = [codec.codec_name for codec in self.index_codecs]
                raise MetadataValidationError(
                    f"codec {_NAME!r} field 'index_codecs' must only hold codecs of fixed encoded size "
                    f"(e.g. bytes, crc32c), got {names}: {exc}"
                ) from exc
            self._index_sizes[cps] = size
        return size

    def index_byte_request(self, shard_shape: tuple[int, ...]) -> ByteRequest:
        """The byte range of a stored shard that holds its index."""
        nbytes = self.index_nbytes(shard_shape)
        if self.index_location == "start":
            return RangeByteRequest(0, nbytes)
        return SuffixByteRequest(nbytes)

    def compute_encoded_size(self, input_byte_length: int, spec: ChunkSpec) -> int:
        """The size of a full shard when the inner codecs are fixed-size; ValueError otherwise."""
        cps = self.chunks_per_shard(spec.shape)
        inner = self.inner_spec(spec)
        per_chunk = self.inner_chain(spec).compute_encoded_size(inner.size * spec.dtype.itemsize, inner)
        return per_chunk * math.prod(cps) + self.index_nbytes(spec.shape)

    # -- the index ---------------------------------------------------------------------------------

    def decode_index(self, data: BytesLike, shard_shape: tuple[int, ...]) -> ShardIndex:
        """Decode (and verify) the encoded index of a shard of ``shard_shape``.

        Raises
        ------
        ChecksumError
            If the index checksum does not match: the index is corrupt.
        ValueError
            If ``data`` is not the size of the encoded index, or an entry overflows.
        """
        cps = self.chunks_per_shard(tuple(shard_shape))
        expected = self.index_nbytes(shard_shape)
        got = _nbytes(data)
        if got != expected:
            raise CorruptChunkError(
                f"sharding_indexed: the index of a shard of {math.prod(cps)} inner chunks {cps} takes "
                f"{expected} bytes, got {got} bytes"
            )
        try:
            array = self.index_chain.decode(data, self.index_spec(cps))
        except ChecksumError as exc:
            raise ChecksumError(f"sharding_indexed: the shard index is corrupt ({exc})") from exc
        except CorruptChunkError as exc:
            raise CorruptChunkError(f"sharding_indexed: the shard index cannot be decoded ({exc})") from exc
        index = ShardIndex(np.array(array, dtype=np.uint64, order="C"))
        index.check()
        return index

    def encode_index(self, index: ShardIndex) -> bytes:
        """The encoded form of ``index`` (through the index codecs)."""
        encoded = self.index_chain.encode(index.offsets_and_lengths, self.index_spec(index.chunks_per_shard))
        return bytes(encoded)

    def read_index(self, shard: BytesLike, shard_shape: tuple[int, ...]) -> ShardIndex:
        """The index of a whole stored shard, checked against the shard's size.

        Raises
        ------
        ValueError
            If the shard is too short to hold the index, or an entry points outside the shard.
        """
        view = memoryview(shard).cast("B")
        nbytes = self.index_nbytes(shard_shape)
        if view.nbytes < nbytes:
            raise CorruptChunkError(
                f"sharding_indexed: a shard of {view.nbytes} bytes is too short to hold its "
                f"{nbytes}-byte index (index_location {self.index_location!r})"
            )
        raw = view[:nbytes] if self.index_location == "start" else view[view.nbytes - nbytes :]
        index = self.decode_index(raw, shard_shape)
        index.check(view.nbytes)
        return index

    def shard_chunks(self, shard: BytesLike, shard_shape: tuple[int, ...]) -> dict[_Coords, memoryview]:
        """The encoded inner chunks of a whole stored shard (views, no copies), keyed by their coordinates.

        Missing inner chunks are absent. With :meth:`assemble_shard` this supports read-merge-write.
        """
        view = memoryview(shard).cast("B")
        index = self.read_index(view, shard_shape)
        entries = index.offsets_and_lengths
        return {
            coords: view[int(entries[coords][0]) : int(entries[coords][0]) + int(entries[coords][1])]
            for coords in index.nonempty_coords()
        }

    # -- shards ------------------------------------------------------------------------------------

    def assemble_shard(
        self,
        encoded_chunks: Mapping[_Coords, BytesLike | None],
        shard_shape: tuple[int, ...],
        *,
        order: ChunkOrder = "morton",
    ) -> bytes | None:
        """Build a shard from already-encoded inner chunks, as zarr-python 3 lays it out.

        Parameters
        ----------
        encoded_chunks
            Encoded inner chunks keyed by their coordinates in the shard's chunk grid; absent, None
            or zero-length values are missing chunks.
        shard_shape
            The shape of the shard.
        order
            The order of the inner chunks in the shard: ``"morton"`` as zarr-python 3 writes (default),
            or ``"lexicographic"`` as tensorstore writes.

        Returns
        -------
        bytes or None
            The shard, or None when no inner chunk is given (such a shard is not stored).
        """
        cps = self.chunks_per_shard(tuple(shard_shape))
        present = [(tuple(coords), value) for coords, value in encoded_chunks.items() if value is not None]
        present = [(coords, value) for coords, value in present if _nbytes(value) > 0]
        if not present:
            return None
        wrong = next((coords for coords, _ in present if len(coords) != len(cps)), None)
        if wrong is not None:
            raise ValueError(f"sharding_indexed: inner chunk keys must have {len(cps)} coordinates, got {wrong}")
        coords_array = np.array([coords for coords, _ in present], dtype=np.intp).reshape(len(present), len(cps))
        outside = np.any((coords_array < 0) | (coords_array >= np.array(cps, dtype=np.intp)), axis=1)
        if outside.any():
            bad = present[int(np.flatnonzero(outside)[0])][0]
            raise ValueError(f"sharding_indexed: inner chunk {bad} is outside the shard's chunk grid {cps}")
        linear = np.ravel_multi_index(tuple(coords_array.T), cps) if cps else np.zeros(len(present), dtype=np.intp)
        ranks = chunk_order_ranks(cps, order)[linear]
        ordered = np.argsort(ranks, kind="stable")

        index_nbytes = self.index_nbytes(shard_shape)
        start = index_nbytes if self.index_location == "start" else 0
        entries = np.full((*cps, 2), MAX_UINT64, dtype=np.uint64)
        buffers: list[BytesLike] = []
        position = start
        for i in ordered.tolist():
            coords, value = present[i]
            length = _nbytes(value)
            entries[coords] = (position, length)
            buffers.append(value)
            position += length
        index_bytes = self.encode_index(ShardIndex(entries))
        if self.index_location == "start":
            return b"".join([index_bytes, *buffers])
        return b"".join([*buffers, index_bytes])

    def encode_chunks(
        self,
        shard: np.ndarray[Any, Any],
        spec: ChunkSpec,
        write_empty_chunks: bool = False,
        *,
        valid_shape: tuple[int, ...] | None = None,
        order: ChunkOrder = "morton",
    ) -> dict[_Coords, bytes]:
        """Encode the inner chunks of a whole shard that zarr-python 3 would store.

        Parameters
        ----------
        shard
            The shard's data, of shape ``spec.shape``.
        spec
            The shard's spec.
        write_empty_chunks
            Whether inner chunks holding only the fill value are stored.
        valid_shape
            The extent of the shard inside the array (smaller than the shard shape for shards at the
            array's upper edges). Inner chunks wholly outside it are never stored, as in zarr-python 3.
        order
            The layout of nested shards (see :meth:`assemble_shard`).
        """
        if tuple(shard.shape) != tuple(spec.shape):
            raise ValueError(f"sharding_indexed: a shard of shape {tuple(spec.shape)} was expected, got {shard.shape}")
        cps = self.chunks_per_shard(spec.shape)
        inner = self.inner_spec(spec)
        chain = self.inner_chain(spec)
        nested = chain.array_bytes if isinstance(chain.array_bytes, ShardingCodec) else None
        # zarr-python 3 writes a lone nested sharding codec through its partial-write path (the rules of
        # this method apply inside it); a nested shard wrapped by other codecs is encoded whole
        partial = nested is not None and not chain.array_array and not chain.bytes_bytes
        if valid_shape is None:
            valid_shape = tuple(spec.shape)
        # inner chunks intersecting the valid region
        limits = tuple(min(n, -(-max(v, 0) // c)) for n, v, c in zip(cps, valid_shape, self.chunk_shape, strict=True))
        keep = np.zeros(cps, dtype=bool)
        keep[tuple(slice(0, n) for n in limits)] = True
        if not write_empty_chunks and not partial:
            keep &= ~empty_chunk_mask(shard, self.chunk_shape, spec.fill_value)
        result: dict[_Coords, bytes] = {}
        for row in np.argwhere(keep):
            coords = tuple(int(x) for x in row)
            origin = tuple(i * c for i, c in zip(coords, self.chunk_shape, strict=True))
            chunk = shard[tuple(slice(o, o + c) for o, c in zip(origin, self.chunk_shape, strict=True))]
            encoded: BytesLike | None
            if nested is None:
                encoded = chain.encode(chunk, inner)
            elif partial:
                inner_valid = tuple(
                    min(c, v - o) for c, v, o in zip(self.chunk_shape, valid_shape, origin, strict=True)
                )
                encoded = nested.encode_or_none(chunk, inner, write_empty_chunks, valid_shape=inner_valid, order=order)
            else:
                encoded = _encode_wrapped_shard(chain, nested, chunk, inner, write_empty_chunks, order)
            if encoded is not None:
                result[coords] = encoded if isinstance(encoded, bytes) else bytes(encoded)
        return result

    def encode_or_none(
        self,
        shard: np.ndarray[Any, Any],
        spec: ChunkSpec,
        write_empty_chunks: bool = False,
        *,
        valid_shape: tuple[int, ...] | None = None,
        order: ChunkOrder = "morton",
    ) -> bytes | None:
        """Encode a whole shard as zarr-python 3 does, or None when it would store no inner chunk.

        See :meth:`encode_chunks` for the parameters; ``order`` is that of :meth:`assemble_shard`.
        """
        chunks = self.encode_chunks(shard, spec, write_empty_chunks, valid_shape=valid_shape, order=order)
        return self.assemble_shard(chunks, spec.shape, order=order)

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> BytesLike:
        """Encode a whole shard, leaving out inner chunks that hold only the fill value.

        A shard without any stored inner chunk encodes as its index alone (every entry missing);
        use :meth:`encode_or_none` to learn that the shard need not be stored at all.
        """
        encoded = self.encode_or_none(chunk, spec)
        if encoded is None:
            cps = self.chunks_per_shard(spec.shape)
            return self.encode_index(ShardIndex.empty(cps))
        return encoded

    def decode(self, data: BytesLike, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """Decode a whole shard; missing inner chunks read as the fill value.

        Raises
        ------
        ChecksumError
            If the index (or an inner chunk with a checksum) is corrupt.
        ValueError
            If the shard is too short for its index or an index entry points outside the shard.
        """
        view = memoryview(data).cast("B")
        index = self.read_index(view, spec.shape)
        out = np.empty(spec.shape, dtype=spec.dtype, order=spec.order)
        mask = index.nonempty_mask()
        if not mask.all():
            out[...] = spec.fill_value
        if not mask.any():
            return out
        inner = self.inner_spec(spec)
        chain = self.inner_chain(spec)
        entries = index.offsets_and_lengths
        for row in np.argwhere(mask):
            coords = tuple(int(x) for x in row)
            offset, length = int(entries[coords][0]), int(entries[coords][1])
            try:
                chunk = chain.decode(view[offset : offset + length], inner)
            except CorruptChunkError as exc:
                raise type(exc)(f"inner chunk {coords}: {exc}") from exc
            target = tuple(slice(i * c, (i + 1) * c) for i, c in zip(coords, self.chunk_shape, strict=True))
            out[target] = chunk
        return out

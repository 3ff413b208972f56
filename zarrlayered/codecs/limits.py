"""Bounds on what decoding untrusted chunk bytes may allocate, and bounded decompression.

A compressed chunk cannot decode to more bytes than the chunk holds: ``prod(chunk shape) * itemsize``
for fixed-size data types. Every decompressor is run with that bound, checked *before* anything of the
claimed size is allocated: a zstd, blosc or LZ4 header is read and compared first, zlib/gzip/bz2/lzma
streams (and zstd frames that declare no content size) are inflated with a maximum output length. A
chunk that claims more raises :class:`~zarrlayered.errors.CorruptChunkError`, never a MemoryError.

The decoded size of a chunk of a variable-length type (strings, bytes) is not known from the metadata:
it is bounded by :func:`vlen_nbytes_bound`, from the chunk's item count and its encoded size.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import threading
import zlib
from collections.abc import Callable
from typing import Any, Final, Protocol

import numcodecs
import numcodecs.abc
import numpy as np
import zstandard

from zarrlayered.core.config import config
from zarrlayered.errors import CorruptChunkError

__all__ = [
    "MAX_CHUNK_NBYTES",
    "MAX_VARIABLE_CHUNK_NBYTES",
    "VLEN_ITEM_NBYTES",
    "VLEN_MAX_RATIO",
    "bounded_decompress",
    "check_vlen_items",
    "chunk_nbytes_bound",
    "decompress_zstd",
    "is_variable_length",
    "max_encoded_nbytes",
    "vlen_nbytes_bound",
    "zstd_frame_content_size",
]

#: The largest decoded chunk (or shard) an array may declare: 1 TiB. Metadata asking for more is refused
#: when it is parsed, so no read or write ever tries to allocate such a chunk.
MAX_CHUNK_NBYTES: Final = 2**40

#: What the compressed bytes of one chunk of a variable-length data type (strings, bytes, objects) may
#: decode to at most, whatever :func:`vlen_nbytes_bound` allows; their decoded size is not known from
#: the metadata.
MAX_VARIABLE_CHUNK_NBYTES: Final = 2**30

#: A variable-length chunk may decode to this many bytes per item (a 4-byte length and 60 bytes of
#: data) whatever its encoded size...
VLEN_ITEM_NBYTES: Final = 64

#: ...plus this many times its encoded size: the default of the config ``codecs.vlen_max_ratio``. Real
#: text compresses up to about 10,000:1 with zstd (a long string repeated); only a chunk of megabytes
#: of one repeated character goes past 16,384:1 (zstd's limit is about 32,500:1, deflate's 1,032:1).
VLEN_MAX_RATIO: Final = 2**14

#: Streams are inflated this many bytes at a time.
_PIECE: Final = 2**20

#: LZMA/XZ headers may ask for a large dictionary; the decoder may use at most this much memory.
_LZMA_MEMLIMIT: Final = 2**28


def max_encoded_nbytes(nbytes: int) -> int:
    """A generous upper bound of what any compressor or checksum makes of ``nbytes`` bytes.

    The worst-case expansions of zlib, gzip, zstd, blosc, LZ4, bz2 and LZMA on incompressible data are a
    few bytes per block plus a header; this bound (an eighth more, plus 1 KiB) covers all of them.
    """
    return nbytes + nbytes // 8 + 1024


def is_variable_length(dtype: np.dtype[Any]) -> bool:
    """Whether items of ``dtype`` have no fixed size (objects, variable-length strings, records holding them)."""
    return dtype.kind in "OT" or dtype.hasobject


def chunk_nbytes_bound(shape: tuple[int, ...], dtype: np.dtype[Any]) -> int:
    """The decoded size of a chunk of ``shape`` and ``dtype``; for variable-length types, the fixed cap."""
    if is_variable_length(dtype):
        return MAX_VARIABLE_CHUNK_NBYTES
    size = 1
    for n in shape:
        size *= n
    return size * dtype.itemsize


def vlen_nbytes_bound(items: int, encoded_nbytes: int) -> int:
    """The most bytes ``encoded_nbytes`` compressed bytes of ``items`` variable-length items may decode to.

    ``4 + items * VLEN_ITEM_NBYTES + encoded_nbytes * ratio``, at most :data:`MAX_VARIABLE_CHUNK_NBYTES`,
    where ``ratio`` is the config ``codecs.vlen_max_ratio`` (:data:`VLEN_MAX_RATIO` by default).

    Raises
    ------
    ValueError
        If the config ``codecs.vlen_max_ratio`` is not a positive integer.
    """
    ratio = config.get("codecs.vlen_max_ratio", VLEN_MAX_RATIO)
    if isinstance(ratio, bool) or not isinstance(ratio, int) or ratio < 1:
        raise ValueError(f"config 'codecs.vlen_max_ratio' must be a positive integer, got {ratio!r}")
    return min(MAX_VARIABLE_CHUNK_NBYTES, 4 + items * VLEN_ITEM_NBYTES + encoded_nbytes * ratio)


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


def _too_big(codec_id: str, claimed: int | None, limit: int) -> CorruptChunkError:
    size = "more than" if claimed is None else f"{claimed} bytes, more than"
    return CorruptChunkError(
        f"codec {codec_id!r}: the compressed data decodes to {size} the {limit} bytes the chunk can hold"
    )


def _nbytes(data: Any) -> int:
    return len(data) if isinstance(data, bytes) else memoryview(data).nbytes


def _streams(codec_id: str, data: bytes, limit: int, make: Callable[[], _Decompressor]) -> bytes:
    """Inflate concatenated streams (as ``bz2.decompress``/``lzma.decompress`` do) with at most ``limit`` bytes out.

    Trailing bytes that do not start a valid stream are ignored after the first stream, like the
    standard library does.
    """
    out = bytearray()
    rest = data
    first = True
    while True:
        decompressor = make()
        try:
            out += decompressor.decompress(rest, limit + 1 - len(out))
        except (OSError, lzma.LZMAError, EOFError, ValueError):
            if first:
                raise
            break
        if len(out) > limit:
            raise _too_big(codec_id, None, limit)
        if not decompressor.eof:
            raise CorruptChunkError(f"codec {codec_id!r}: the compressed data ends before the end of its stream")
        first = False
        rest = decompressor.unused_data
        if not rest:
            break
    return bytes(out)


def _zlib(data: bytes, limit: int) -> bytes:
    decompressor = zlib.decompressobj()
    out = decompressor.decompress(data, limit + 1)
    if len(out) > limit:
        raise _too_big("zlib", None, limit)
    if not decompressor.eof:
        raise CorruptChunkError("codec 'zlib': the compressed data ends before the end of its stream")
    return out


def _gzip(data: bytes, limit: int) -> bytes:
    out = bytearray()
    with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as reader:
        # read in pieces (a read of n bytes reserves n bytes); an empty read is the end of the last
        # member, with every CRC checked
        while piece := reader.read(min(_PIECE, limit + 1 - len(out))):
            out += piece
            if len(out) > limit:
                raise _too_big("gzip", None, limit)
    return bytes(out)


def zstd_frame_content_size(data: bytes | memoryview) -> int | None:
    """The decompressed size a zstd frame header declares, or None when the frame does not say.

    The header (RFC 8878 section 3.1.1: magic number, frame header descriptor, window descriptor,
    dictionary id, frame content size) is read by libzstd, through ``zstandard.frame_content_size``;
    data that does not start with a whole frame header declares nothing either.
    """
    try:
        size: int = zstandard.frame_content_size(data)
    except zstandard.ZstdError:  # no zstd frame header, or a truncated one
        return None
    return None if size < 0 else size


_ZSTD_LOCAL = threading.local()

#: The window a zstd frame without content size may ask for is at least 8 MiB (zstd's at level 19)...
_ZSTD_MIN_WINDOW: Final = 2**23
#: ...and at most 128 MiB (libzstd's default limit), between them the chunk's size rounded up.
_ZSTD_MAX_WINDOW: Final = 2**27


def _zstd_decompressor() -> zstandard.ZstdDecompressor:
    # a ZstdDecompressor may not be shared between threads; one per thread is reused
    decompressor: zstandard.ZstdDecompressor | None = getattr(_ZSTD_LOCAL, "decompressor", None)
    if decompressor is None:
        decompressor = _ZSTD_LOCAL.decompressor = zstandard.ZstdDecompressor()
    return decompressor


def decompress_zstd(data: bytes | memoryview, limit: int) -> bytes:
    """Decode zstd frames (concatenated, as numcodecs does), never producing more than ``limit`` bytes.

    One frame that declares its size (as numcodecs and zarr-python write it) is decoded in one call once
    its size is checked. Frames that do not declare it (or several frames) are first streamed, piece by
    piece, and refused as soon as the output passes ``limit``; data found to fit is then decoded frame by
    frame, which reports a truncated frame (a stream reader just stops). numcodecs is not used for them:
    its decoder never returns on some damaged frames of this kind.
    """
    claimed = zstd_frame_content_size(data)
    if claimed is not None and claimed > limit:
        raise _too_big("zstd", claimed, limit)
    if claimed is not None:
        try:
            return _zstd_decompressor().decompress(data, allow_extra_data=False)
        except zstandard.ZstdError:
            pass  # more frames after the first (or damage): the bounded stream below decides
    # streaming keeps a window of the size the frame asks for: no more than the chunk needs (at least
    # zstd's window at level 19, 8 MiB; at most libzstd's default limit, 128 MiB)
    window = min(_ZSTD_MAX_WINDOW, max(_ZSTD_MIN_WINDOW, 1 << max(limit - 1, 0).bit_length()))
    decompressor = zstandard.ZstdDecompressor(max_window_size=window)
    produced = 0
    with decompressor.stream_reader(data, read_across_frames=True) as reader:
        while piece := reader.read(min(_PIECE, limit + 1 - produced)):
            produced += len(piece)
            if produced > limit:
                raise _too_big("zstd", None, limit)
    rest = data if isinstance(data, bytes) else bytes(memoryview(data).cast("B"))
    if not rest:
        raise CorruptChunkError("codec 'zstd': the chunk is empty, not a zstd frame")
    out = bytearray()
    while rest:  # each frame decodes to no more than the stream above produced
        frame = decompressor.decompressobj()
        out += frame.decompress(rest)
        if not frame.eof:
            raise CorruptChunkError("codec 'zstd': the compressed data ends before the end of its frame")
        rest = frame.unused_data
    return bytes(out)


def _blosc(codec: numcodecs.abc.Codec, data: bytes | memoryview, limit: int) -> Any:
    got = _nbytes(data)
    if got < 16:
        raise CorruptChunkError(f"codec 'blosc': {got} bytes are too short for a blosc header (16 bytes)")
    # the blosc 1 header: version, versionlz, flags, typesize, then nbytes, blocksize, cbytes (uint32 LE)
    header = bytes(memoryview(data).cast("B")[:16])
    nbytes = int.from_bytes(header[4:8], "little")
    cbytes = int.from_bytes(header[12:16], "little")
    if cbytes != got:
        raise CorruptChunkError(f"codec 'blosc': the header says {cbytes} compressed bytes, the chunk has {got}")
    if nbytes > limit:
        raise _too_big("blosc", nbytes, limit)
    return codec.decode(data)


def _lz4(codec: numcodecs.abc.Codec, data: bytes | memoryview, limit: int) -> Any:
    view = memoryview(data).cast("B")
    if view.nbytes < 4:
        raise CorruptChunkError(f"codec 'lz4': {view.nbytes} bytes are too short for an LZ4 size header")
    claimed = int.from_bytes(view[:4], "little", signed=True)
    if claimed < 0 or claimed > limit:
        raise _too_big("lz4", claimed, limit)
    return codec.decode(data)


def check_vlen_items(codec_id: str, data: Any, expected: int) -> None:
    """Refuse a numcodecs variable-length chunk (VLenUTF8/VLenBytes/VLenArray layout) whose item count is wrong.

    The layout starts with the number of items as a little-endian uint32; numcodecs allocates that many
    items before reading them, so a corrupt count is caught here first.
    """
    buffer: Any = np.ascontiguousarray(data) if isinstance(data, np.ndarray) else data
    view = memoryview(buffer).cast("B")
    if view.nbytes < 4:
        raise CorruptChunkError(f"codec {codec_id!r}: {view.nbytes} bytes are too short for the item count")
    count = int.from_bytes(view[:4], "little")
    if count != expected:
        raise CorruptChunkError(f"codec {codec_id!r}: the chunk says it holds {count} items, it must hold {expected}")


def bounded_decompress(codec: numcodecs.abc.Codec, data: bytes | memoryview, limit: int | None) -> Any:
    """``codec.decode(data)``, refusing (before allocating it) output larger than ``limit`` bytes.

    Parameters
    ----------
    codec
        A numcodecs codec (compressors get a bounded decoder; other codecs decode as usual and their
        output is checked afterwards).
    data
        The encoded bytes.
    limit
        The most bytes the output may have, or None for no bound.

    Raises
    ------
    CorruptChunkError
        If the data claims or produces more than ``limit`` bytes, or a stream is truncated.
    """
    if limit is None:
        return codec.decode(data)
    if isinstance(codec, numcodecs.Zstd):
        return decompress_zstd(data, limit)
    if isinstance(codec, numcodecs.Blosc):
        return _blosc(codec, data, limit)
    lz4 = getattr(numcodecs, "LZ4", None)
    if lz4 is not None and isinstance(codec, lz4):
        return _lz4(codec, data, limit)
    raw = data if isinstance(data, bytes) else bytes(data)
    if isinstance(codec, numcodecs.GZip):
        return _gzip(raw, limit)
    if isinstance(codec, numcodecs.Zlib):
        return _zlib(raw, limit)
    if isinstance(codec, numcodecs.BZ2):
        return _streams("bz2", raw, limit, bz2.BZ2Decompressor)
    lzma_codec = getattr(numcodecs, "LZMA", None)
    if lzma_codec is not None and isinstance(codec, lzma_codec):
        fmt, filters = codec.format, codec.filters

        def make() -> _Decompressor:
            if fmt == lzma.FORMAT_RAW:
                return lzma.LZMADecompressor(format=fmt, filters=filters)
            return lzma.LZMADecompressor(format=fmt, memlimit=_LZMA_MEMLIMIT, filters=filters)

        return _streams("lzma", raw, limit, make)
    out = codec.decode(data)
    produced = np.asarray(out).nbytes if not isinstance(out, bytes | memoryview) else _nbytes(out)
    if produced > limit:
        raise _too_big(str(getattr(codec, "codec_id", type(codec).__name__)), produced, limit)
    return out

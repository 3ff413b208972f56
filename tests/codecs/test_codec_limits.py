"""Bounded decoding: zstd frames that declare no content size, and variable-length chunks.

zstd frames without a content size (zstandard's streaming writers, ``write_content_size=False``) are
streamed and refused as soon as they pass what the chunk can hold; frames that fit decode exactly as
numcodecs decodes them. A chunk of strings is bounded by its item count and its encoded size.
"""

from __future__ import annotations

from typing import Any

import numcodecs
import numpy as np
import pytest
import zstandard
from memory_helpers import peak_below

import zarrlayered
from zarrlayered.codecs.abc import ChunkSpec
from zarrlayered.codecs.bytes import BytesCodec
from zarrlayered.codecs.chain import CodecChain
from zarrlayered.codecs.crc32c import Crc32cCodec
from zarrlayered.codecs.limits import (
    MAX_VARIABLE_CHUNK_NBYTES,
    VLEN_ITEM_NBYTES,
    VLEN_MAX_RATIO,
    bounded_decompress,
    vlen_nbytes_bound,
)
from zarrlayered.codecs.numcodecs_adapter import V2Codec
from zarrlayered.codecs.registry import parse_codec_v3
from zarrlayered.codecs.vlen import VLenUTF8Codec
from zarrlayered.codecs.zstd import ZstdCodec
from zarrlayered.errors import CorruptChunkError

SPEC = ChunkSpec((1000,), np.dtype("<i8"), 0)
VALUES = np.arange(1000, dtype="<i8")


def unsized(data: bytes, **options: Any) -> bytes:
    """``data`` as one zstd frame that does not declare its content size."""
    frame = zstandard.ZstdCompressor(write_content_size=False, **options).compress(data)
    assert zstandard.get_frame_parameters(frame).content_size == zstandard.CONTENTSIZE_UNKNOWN
    return frame


def zeros_unsized(nbytes: int) -> bytes:
    """``nbytes`` zeros as one unsized frame, compressed piece by piece (about 32 KiB per GiB)."""
    compressor = zstandard.ZstdCompressor(level=1, write_content_size=False).compressobj()
    piece = bytes(2**22)
    return b"".join([compressor.compress(piece) for _ in range(nbytes // len(piece))] + [compressor.flush()])


def chains() -> dict[str, CodecChain]:
    return {
        "v3-zstd": CodecChain.from_codecs([BytesCodec(), ZstdCodec()]),
        "v3-numcodecs.zstd": CodecChain.from_codecs([BytesCodec(), parse_codec_v3({"name": "numcodecs.zstd"})]),
        "v2-zstd": CodecChain.from_codecs([V2Codec(compressor=numcodecs.Zstd())]),
    }


@pytest.mark.parametrize("name", sorted(chains()))
@pytest.mark.parametrize(
    "layout", ["unsized", "unsized+checksum", "two unsized frames", "sized then unsized", "two sized frames"]
)
def test_frames_without_a_content_size_decode_like_numcodecs(name: str, layout: str) -> None:
    raw = VALUES.tobytes()
    half = len(raw) // 2
    sized = numcodecs.Zstd(level=3)
    data = {
        "unsized": unsized(raw),
        "unsized+checksum": unsized(raw, write_checksum=True),
        "two unsized frames": unsized(raw[:half]) + unsized(raw[half:]),
        "sized then unsized": bytes(sized.encode(raw[:half])) + unsized(raw[half:]),
        "two sized frames": bytes(sized.encode(raw[:half])) + bytes(sized.encode(raw[half:])),
    }[layout]
    assert bytes(numcodecs.Zstd().decode(data)) == raw
    np.testing.assert_array_equal(chains()[name].decode(data, SPEC), VALUES)


@pytest.mark.parametrize("name", sorted(chains()))
@pytest.mark.parametrize("layout", ["one frame", "after a small sized frame"])
def test_an_unsized_bomb_is_refused_before_it_inflates(name: str, layout: str) -> None:
    """1 GiB of zeros in 32 KiB, for a chunk of 8000 bytes: refused with at most a few MiB allocated."""
    bomb = zeros_unsized(2**30)
    if layout != "one frame":
        bomb = bytes(numcodecs.Zstd().encode(bytes(8))) + bomb
    with peak_below(4 * 2**20), pytest.raises(CorruptChunkError, match="more than the 8000 bytes the chunk can hold"):
        chains()[name].decode(bomb, SPEC)


@pytest.mark.parametrize("name", sorted(chains()))
@pytest.mark.parametrize("cut", [1, 5, 100])
def test_a_truncated_unsized_frame_is_an_error_never_short_data(name: str, cut: int) -> None:
    data = unsized(VALUES.tobytes(), write_checksum=True)[:-cut]
    with pytest.raises(CorruptChunkError):
        chains()[name].decode(data, SPEC)


def test_bounded_decompress_refuses_an_unsized_frame_one_byte_too_large() -> None:
    frame = unsized(bytes(range(256)) * 4)
    assert bounded_decompress(numcodecs.Zstd(), frame, 1024) == bytes(range(256)) * 4
    with pytest.raises(CorruptChunkError, match="more than the 1023 bytes"):
        bounded_decompress(numcodecs.Zstd(), frame, 1023)


def test_the_vlen_bound_is_the_item_count_and_the_encoded_size() -> None:
    assert vlen_nbytes_bound(10, 100) == 4 + 10 * VLEN_ITEM_NBYTES + 100 * VLEN_MAX_RATIO
    assert vlen_nbytes_bound(10**9, 10**9) == MAX_VARIABLE_CHUNK_NBYTES
    with zarrlayered.config.set({"codecs.vlen_max_ratio": 2}):
        assert vlen_nbytes_bound(1, 100) == 4 + VLEN_ITEM_NBYTES + 200
    for bad in (0, -1, 1.5, True, "x"):
        with zarrlayered.config.set({"codecs.vlen_max_ratio": bad}), pytest.raises(ValueError, match="vlen_max_ratio"):
            vlen_nbytes_bound(1, 1)


STRINGS = np.array(["a", "bb", "", "dddd"] * 25, dtype=object)
STRING_SPEC = ChunkSpec((100,), np.dtype(object), "")


@pytest.mark.parametrize(
    "chain",
    [
        CodecChain.from_codecs([VLenUTF8Codec(), ZstdCodec()]),
        CodecChain.from_codecs([VLenUTF8Codec(), ZstdCodec(), Crc32cCodec()]),
        CodecChain.from_codecs([V2Codec(filters=[numcodecs.VLenUTF8()], compressor=numcodecs.Zstd())]),
    ],
    ids=["v3", "v3+crc32c", "v2"],
)
def test_a_string_chunk_is_bounded_by_its_items_and_encoded_size(chain: CodecChain) -> None:
    encoded = bytes(chain.encode(STRINGS, STRING_SPEC))
    assert list(chain.decode(encoded, STRING_SPEC)) == list(STRINGS)
    # 100 items of 64 bytes, plus 16,384 times ~40 encoded bytes: 2 MiB of zeros in a frame is too much
    bomb = unsized(bytes(2**21))
    if chain.bytes_bytes and isinstance(chain.bytes_bytes[-1], Crc32cCodec):
        bomb = bytes(Crc32cCodec().encode(bomb, STRING_SPEC))
    assert vlen_nbytes_bound(100, len(bomb)) < 2**21
    with pytest.raises(CorruptChunkError, match="bytes the chunk can hold"):
        chain.decode(bomb, STRING_SPEC)


@pytest.mark.parametrize("level", [3, 19, 22])
def test_the_window_of_an_unsized_frame_is_bounded_by_the_chunk(level: int) -> None:
    """Streamed, a frame keeps the window it declares: up to 8 MiB is allowed for a small chunk, not 128 MiB."""
    compressor = zstandard.ZstdCompressor(level=level, write_content_size=False).compressobj()
    frame = compressor.compress(VALUES.tobytes()) + compressor.flush()
    window = zstandard.get_frame_parameters(frame).window_size
    chain = chains()["v3-zstd"]
    if window <= 2**23:
        np.testing.assert_array_equal(chain.decode(frame, SPEC), VALUES)
    else:
        assert window == 2**27
        with pytest.raises(CorruptChunkError, match="too much memory"):
            chain.decode(frame, SPEC)


@pytest.mark.parametrize("name", sorted(chains()))
@pytest.mark.parametrize("tail", [b"\x28\xb5\x2f\xfd", b"\x28\xb5\x2f\xfd\x04", b"\x28"])
def test_an_unsized_frame_followed_by_a_partial_frame_is_an_error(name: str, tail: bytes) -> None:
    """Found by the fuzz suite: numcodecs' decoder (0.16) never returns on a frame without a content
    size followed by the start of another frame; zarrlayered decodes such frames itself."""
    data = unsized(VALUES.tobytes(), write_checksum=True) + tail
    with pytest.raises(CorruptChunkError):
        chains()[name].decode(data, SPEC)

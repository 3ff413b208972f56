"""Corruption detection (crc32c) and the refusal of code-executing codecs (numcodecs Pickle)."""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest

import zarrlayered
from zarrlayered.codecs.abc import ChunkSpec
from zarrlayered.codecs.bytes import BytesCodec
from zarrlayered.codecs.chain import CodecChain
from zarrlayered.codecs.crc32c import Crc32cCodec
from zarrlayered.codecs.numcodecs_adapter import V2Codec, parse_v2_codec
from zarrlayered.codecs.registry import parse_codec_v3
from zarrlayered.codecs.zstd import ZstdCodec
from zarrlayered.errors import ChecksumError, UnsafeCodecError

SPEC = ChunkSpec((100,), np.dtype("<i8"), 0)


def test_crc32c_layout_is_little_endian_checksum_appended() -> None:
    encoded = bytes(Crc32cCodec().encode(b"123456789", SPEC))
    # 0xE3069283 is the CRC-32C check value of "123456789"
    assert encoded == b"123456789" + bytes.fromhex("839206e3")
    assert bytes(Crc32cCodec().decode(encoded, SPEC)) == b"123456789"


@pytest.mark.parametrize("position", [0, 57, -5, -1])
def test_crc32c_detects_a_flipped_byte(position: int) -> None:
    chain = CodecChain.from_codecs([BytesCodec(), ZstdCodec(), Crc32cCodec()])
    encoded = bytearray(chain.encode(np.arange(100, dtype="<i8"), SPEC))
    assert chain.decode(bytes(encoded), SPEC).tolist() == list(range(100))
    encoded[position] ^= 0x10
    with pytest.raises(ChecksumError, match="does not match"):
        chain.decode(bytes(encoded), SPEC)


def test_crc32c_detects_truncation() -> None:
    encoded = bytes(Crc32cCodec().encode(b"abcdef", SPEC))
    with pytest.raises(ChecksumError):
        Crc32cCodec().decode(encoded[:-1], SPEC)
    with pytest.raises(ChecksumError, match="too short"):
        Crc32cCodec().decode(b"\x00\x01", SPEC)
    assert issubclass(ChecksumError, ValueError)


OBJECTS = np.array([{"a": 1}, [1, 2], "x"], dtype=object)
OBJ_SPEC = ChunkSpec((3,), np.dtype(object), None)


def test_pickle_refused_by_default_everywhere() -> None:
    assert zarrlayered.config.get("codecs.allow_pickle") is False
    with pytest.raises(UnsafeCodecError, match=r"'pickle'.*allow_pickle"):
        parse_v2_codec({"id": "pickle"})
    with pytest.raises(UnsafeCodecError):
        parse_v2_codec(numcodecs.Pickle())
    with pytest.raises(UnsafeCodecError):
        V2Codec(filters=(numcodecs.Pickle(),))
    with pytest.raises(UnsafeCodecError):
        V2Codec.from_dict({"name": "zarr-v2", "configuration": {"filters": [{"id": "pickle"}], "compressor": None}})
    with pytest.raises(UnsafeCodecError):
        parse_codec_v3({"name": "numcodecs.pickle", "configuration": {}})
    with pytest.raises(UnsafeCodecError):
        parse_codec_v3(numcodecs.Pickle())
    assert issubclass(UnsafeCodecError, ValueError)


def test_pickle_subclass_under_another_id_is_refused() -> None:
    class Sneaky(numcodecs.Pickle):
        codec_id = "sneaky"

    with pytest.raises(UnsafeCodecError):
        parse_v2_codec(Sneaky())


def test_pickle_allowed_with_config() -> None:
    with zarrlayered.config.set({"codecs.allow_pickle": True}):
        codec = V2Codec(filters=(parse_v2_codec({"id": "pickle"}),), compressor=numcodecs.Zlib())  # type: ignore[arg-type]
        decoded = codec.decode(bytes(codec.encode(OBJECTS, OBJ_SPEC)), OBJ_SPEC)
        assert decoded.tolist() == OBJECTS.tolist()
        v3 = CodecChain.from_codecs([parse_codec_v3({"name": "numcodecs.pickle"}), ZstdCodec()])
        assert v3.decode(bytes(v3.encode(OBJECTS, OBJ_SPEC)), OBJ_SPEC).tolist() == OBJECTS.tolist()
    # the setting is scoped: refused again afterwards
    with pytest.raises(UnsafeCodecError):
        parse_v2_codec({"id": "pickle"})

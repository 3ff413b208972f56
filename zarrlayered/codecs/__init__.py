"""Codecs: one module per codec, a registry, the codec chain and the numcodecs adapter.

V3 codecs are frozen dataclasses whose ``to_dict()`` is the JSON zarr-python 3 writes; the registry
(:func:`get_codec_class`, :func:`parse_codec_v3`) finds them by name, including third-party codecs
from the ``zarrlayered.codecs`` entry-point group and any numcodecs codec as ``numcodecs.<id>``.
"""

from __future__ import annotations

from zarrlayered.codecs.abc import ArrayArrayCodec, ArrayBytesCodec, BaseCodec, BytesBytesCodec, ChunkSpec
from zarrlayered.codecs.blosc import BloscCodec
from zarrlayered.codecs.bytes import BytesCodec
from zarrlayered.codecs.chain import CodecChain
from zarrlayered.codecs.crc32c import Crc32cCodec
from zarrlayered.codecs.gzip import GzipCodec
from zarrlayered.codecs.numcodecs_adapter import V2Codec, parse_v2_codec
from zarrlayered.codecs.registry import get_codec_class, parse_codec_v3, parse_codecs_v3, register_codec
from zarrlayered.codecs.sharding import ShardingCodec
from zarrlayered.codecs.transpose import TransposeCodec
from zarrlayered.codecs.vlen import VLenBytesCodec, VLenUTF8Codec
from zarrlayered.codecs.zstd import ZstdCodec

__all__ = [
    "ArrayArrayCodec",
    "ArrayBytesCodec",
    "BaseCodec",
    "BloscCodec",
    "BytesBytesCodec",
    "BytesCodec",
    "ChunkSpec",
    "CodecChain",
    "Crc32cCodec",
    "GzipCodec",
    "ShardingCodec",
    "TransposeCodec",
    "V2Codec",
    "VLenBytesCodec",
    "VLenUTF8Codec",
    "ZstdCodec",
    "get_codec_class",
    "parse_codec_v3",
    "parse_codecs_v3",
    "parse_v2_codec",
    "register_codec",
]

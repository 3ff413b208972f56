"""Byte-exactness of the V3 codecs against zarr-python 3: same chunk bytes, same decoded arrays, same JSON."""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import pytest
import zarr
import zarr.codecs as zc
import zarr.codecs.numcodecs as znc
from codec_helpers import same_chunk, sample_data

from zarrlayered.codecs.abc import BaseCodec, ChunkSpec
from zarrlayered.codecs.blosc import BloscCodec
from zarrlayered.codecs.bytes import BytesCodec
from zarrlayered.codecs.chain import CodecChain
from zarrlayered.codecs.crc32c import Crc32cCodec
from zarrlayered.codecs.gzip import GzipCodec
from zarrlayered.codecs.registry import parse_codec_v3, parse_codecs_v3
from zarrlayered.codecs.transpose import TransposeCodec
from zarrlayered.codecs.vlen import VLenBytesCodec, VLenUTF8Codec
from zarrlayered.codecs.zstd import ZstdCodec

# id: (dtype, shape, chunks, zarr kwargs, our codecs before evolving, fill value)
CASES: dict[str, tuple[str, tuple[int, ...], tuple[int, ...], dict[str, Any], list[BaseCodec], Any]] = {
    "zstd-default": ("<i4", (20, 12), (10, 6), {}, [BytesCodec(), ZstdCodec()], 0),
    "zstd-level-checksum": (
        "<f8",
        (16,),
        (8,),
        {"compressors": zc.ZstdCodec(level=7, checksum=True)},
        [BytesCodec(), ZstdCodec(level=7, checksum=True)],
        0.0,
    ),
    "gzip-1": ("<u2", (30,), (10,), {"compressors": zc.GzipCodec(level=1)}, [BytesCodec(), GzipCodec(level=1)], 0),
    "gzip-9-i1": ("i1", (30,), (10,), {"compressors": zc.GzipCodec(level=9)}, [BytesCodec(), GzipCodec(level=9)], 0),
    "blosc-default-u2": ("<u2", (64,), (32,), {"compressors": zc.BloscCodec()}, [BytesCodec(), BloscCodec()], 0),
    "blosc-default-u1": ("u1", (64,), (32,), {"compressors": zc.BloscCodec()}, [BytesCodec(), BloscCodec()], 0),
    "blosc-lz4-noshuffle": (
        "<i8",
        (40,),
        (20,),
        {"compressors": zc.BloscCodec(cname="lz4", clevel=9, shuffle="noshuffle")},
        [BytesCodec(), BloscCodec(cname="lz4", clevel=9, shuffle="noshuffle")],
        0,
    ),
    "blosc-zlib-bitshuffle-typesize": (
        "<f4",
        (40,),
        (20,),
        {"compressors": zc.BloscCodec(cname="zlib", clevel=1, shuffle="bitshuffle", typesize=4)},
        [BytesCodec(), BloscCodec(cname="zlib", clevel=1, shuffle="bitshuffle", typesize=4)],
        0,
    ),
    "blosc-bool": ("bool", (50,), (25,), {"compressors": zc.BloscCodec()}, [BytesCodec(), BloscCodec()], False),
    "blosc-c16": (
        "<c16",
        (12,),
        (6,),
        {"compressors": zc.BloscCodec(blocksize=64)},
        [BytesCodec(), BloscCodec(blocksize=64)],
        0j,
    ),
    "f2-crc32c": ("<f2", (12,), (6,), {"compressors": zc.Crc32cCodec()}, [BytesCodec(), Crc32cCodec()], 0.0),
    "transpose-big-endian": (
        "<f8",
        (4, 6, 10),
        (2, 3, 5),
        {
            "filters": zc.TransposeCodec(order=(2, 0, 1)),
            "serializer": zc.BytesCodec(endian="big"),
            "compressors": [zc.ZstdCodec(level=3), zc.Crc32cCodec()],
        },
        [TransposeCodec(order=(2, 0, 1)), BytesCodec(endian="big"), ZstdCodec(level=3), Crc32cCodec()],
        0.0,
    ),
    "big-endian-i4-no-compressor": (
        ">i4",
        (10,),
        (5,),
        {"serializer": zc.BytesCodec(endian="big"), "compressors": None},
        [BytesCodec(endian="big")],
        0,
    ),
    "edge-chunks": ("<i2", (11, 7), (4, 4), {"compressors": zc.ZstdCodec()}, [BytesCodec(), ZstdCodec()], 7),
    "vlen-utf8-zstd": ("str", (12,), (5,), {}, [VLenUTF8Codec(), ZstdCodec()], ""),
    "vlen-utf8-plain": (
        "str",
        (3, 4),
        (3, 2),
        {"serializer": zc.VLenUTF8Codec(), "compressors": None},
        [VLenUTF8Codec()],
        "",
    ),
    "vlen-bytes-gzip": (
        "bytes",
        (9,),
        (3,),
        {"serializer": zc.VLenBytesCodec(), "compressors": zc.GzipCodec()},
        [VLenBytesCodec(), GzipCodec()],
        b"",
    ),
}


def _zarr_dtype(dtype: str) -> Any:
    return {"str": str, "bytes": "variable_length_bytes"}.get(dtype, dtype)


def _write_zarr(dtype: str, shape: tuple[int, ...], chunks: tuple[int, ...], kwargs: dict[str, Any], fill: Any):
    store: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zarr-python warns about numcodecs.* and vlen codecs
        array = zarr.create_array(
            store=store, shape=shape, chunks=chunks, dtype=_zarr_dtype(dtype), fill_value=fill, **kwargs
        )
        data = sample_data(dtype, shape)
        array[...] = data
    return store, data, array


def _check_chunks(store: dict[str, Any], data: np.ndarray[Any, Any], array: Any, chain: CodecChain, fill: Any) -> int:
    chunks = array.chunks
    grid = tuple(-(-s // c) for s, c in zip(data.shape, chunks, strict=True))
    dtype = array.dtype if isinstance(array.dtype, np.dtype) else np.dtype(object)
    spec = ChunkSpec(tuple(chunks), dtype, fill)
    checked = 0
    for coords in np.ndindex(*grid):
        region = tuple(slice(i * c, (i + 1) * c) for i, c in zip(coords, chunks, strict=True))
        chunk = np.full(chunks, fill, dtype=dtype)
        part = data[region]
        chunk[tuple(slice(0, n) for n in part.shape)] = part
        stored = store["c/" + "/".join(map(str, coords))].to_bytes()
        assert same_chunk(bytes(chain.encode(chunk, spec)), stored), coords
        decoded = chain.decode(stored, spec)
        assert decoded.shape == chunk.shape
        assert decoded.dtype == spec.dtype
        assert decoded.tolist() == chunk.tolist()
        checked += 1
    return checked


@pytest.mark.parametrize("case", sorted(CASES))
def test_chunks_and_json_match_zarr_python(case: str) -> None:
    dtype, shape, chunks, kwargs, ours, fill = CASES[case]
    store, data, array = _write_zarr(dtype, shape, chunks, kwargs, fill)
    stored_codecs = json.loads(store["zarr.json"].to_bytes())["codecs"]
    spec_dtype = np.dtype(object) if dtype in ("str", "bytes") else np.dtype(dtype)
    spec = ChunkSpec(chunks, spec_dtype, fill)
    # the chain read from zarr-python's metadata (fitted to the array, as metadata parsing does)
    read_chain = CodecChain.from_codecs(parse_codecs_v3(stored_codecs)).evolve(spec)
    assert read_chain.to_dicts() == stored_codecs
    # our own chain, built from the same user arguments, evolves to the same JSON
    built = CodecChain.from_codecs(ours).evolve(spec)
    assert built.to_dicts() == stored_codecs
    assert _check_chunks(store, data, array, read_chain, fill) == int(
        np.prod([-(-s // c) for s, c in zip(shape, chunks, strict=True)])
    )


def test_strings_decode_as_string_dtype_like_zarr_python() -> None:
    dtype, shape, chunks, kwargs, _, fill = CASES["vlen-utf8-zstd"]
    store, _, array = _write_zarr(dtype, shape, chunks, kwargs, fill)
    chain = CodecChain.from_codecs(parse_codecs_v3(json.loads(store["zarr.json"].to_bytes())["codecs"]))
    spec = ChunkSpec(chunks, np.dtype(np.dtypes.StringDType()), fill)
    decoded = chain.decode(store["c/0"].to_bytes(), spec)
    assert decoded.dtype == np.dtypes.StringDType()
    assert decoded.tolist() == array[0:5].tolist()
    assert bytes(chain.encode(decoded, spec)) == store["c/0"].to_bytes()


def test_numcodecs_v3_codecs_match_zarr_python() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zarr-python warns that numcodecs.* codecs are not in the spec
        kwargs = {
            "filters": [znc.Delta(dtype="<u4"), znc.FixedScaleOffset(offset=0, scale=2)],
            "compressors": [znc.Shuffle(), znc.Zstd(level=4), znc.CRC32()],
        }
    store, data, array = _write_zarr("<u4", (40,), (20,), kwargs, 0)
    stored_codecs = json.loads(store["zarr.json"].to_bytes())["codecs"]
    assert stored_codecs[0] == {"name": "numcodecs.delta", "configuration": {"dtype": "<u4"}}
    read_chain = CodecChain.from_codecs(parse_codecs_v3(stored_codecs)).evolve(ChunkSpec((20,), np.dtype("<u4"), 0))
    assert read_chain.to_dicts() == stored_codecs
    ours = [
        parse_codec_v3({"name": "numcodecs.delta", "configuration": {"dtype": "<u4"}}),
        parse_codec_v3({"name": "numcodecs.fixedscaleoffset", "configuration": {"offset": 0, "scale": 2}}),
        BytesCodec(),
        parse_codec_v3("numcodecs.shuffle"),
        parse_codec_v3({"name": "numcodecs.zstd", "configuration": {"level": 4}}),
        parse_codec_v3("numcodecs.crc32"),
    ]
    built = CodecChain.from_codecs(ours).evolve(ChunkSpec((20,), np.dtype("<u4"), 0))
    assert built.to_dicts() == stored_codecs
    assert _check_chunks(store, data, array, read_chain, 0) == 2


def test_zarr_python_reads_what_we_encode() -> None:
    """The mirror direction: chunks we encode, put under zarr-python's metadata, read back by zarr-python."""
    dtype, shape, chunks, kwargs, ours, fill = CASES["transpose-big-endian"]
    store, _, _ = _write_zarr(dtype, shape, chunks, kwargs, fill)
    chain = CodecChain.from_codecs(ours).evolve(ChunkSpec(chunks, np.dtype(dtype), fill))
    other = sample_data(dtype, shape)[::-1].copy()
    spec = ChunkSpec(chunks, np.dtype(dtype), fill)
    for coords in np.ndindex(*(s // c for s, c in zip(shape, chunks, strict=True))):
        region = tuple(slice(i * c, (i + 1) * c) for i, c in zip(coords, chunks, strict=True))
        store["c/" + "/".join(map(str, coords))] = zarr.core.buffer.cpu.Buffer.from_bytes(
            bytes(chain.encode(other[region], spec))
        )
    np.testing.assert_array_equal(zarr.open_array(store=store, mode="r")[...], other)

"""Byte-exactness of V2Codec against zarr_format=2 arrays written by zarr-python 3."""

from __future__ import annotations

import json
import warnings
from typing import Any

import numcodecs
import numpy as np
import pytest
import zarr
from codec_helpers import same_chunk, sample_data
from zarr.dtype import VariableLengthBytes

from zarrlayered.codecs.abc import ChunkSpec
from zarrlayered.codecs.chain import CodecChain
from zarrlayered.codecs.numcodecs_adapter import V2Codec, parse_v2_codec

# id: (dtype, shape, chunks, order, compressor, filters, fill)
CASES: dict[str, tuple[str, tuple[int, ...], tuple[int, ...], str, Any, Any, Any]] = {
    "zlib": ("<i4", (20, 10), (10, 5), "C", numcodecs.Zlib(level=1), None, 0),
    "zlib-F": ("<i4", (20, 10), (10, 5), "F", numcodecs.Zlib(level=1), None, 0),
    "blosc-default": ("<f8", (40,), (20,), "C", numcodecs.Blosc(), None, 0.0),
    "blosc-lz4-bitshuffle-F": (
        "<u2",
        (8, 12),
        (4, 6),
        "F",
        numcodecs.Blosc(cname="lz4", clevel=7, shuffle=numcodecs.Blosc.BITSHUFFLE),
        None,
        0,
    ),
    "blosc-bool": ("|b1", (50,), (25,), "C", numcodecs.Blosc(), None, False),
    "blosc-c8": (">c8", (12,), (6,), "C", numcodecs.Blosc(cname="zstd"), None, 0j),
    "zstd": ("<f2", (30,), (10,), "C", numcodecs.Zstd(level=3), None, 0.0),
    "none-F-big-endian": (">i8", (6, 4), (3, 2), "F", None, None, 0),
    "edge-chunks": ("<i2", (11, 7), (4, 4), "C", numcodecs.Zstd(), None, 3),
    "delta": ("<i4", (40,), (20,), "C", numcodecs.Zlib(level=5), [numcodecs.Delta(dtype="<i4")], 0),
    "fixedscaleoffset-F": (
        "<f8",
        (10, 6),
        (5, 3),
        "F",
        numcodecs.Zstd(),
        [numcodecs.FixedScaleOffset(offset=0, scale=10, dtype="<f8", astype="<i4")],
        0.0,
    ),
    "delta-astype": (
        "<i2",
        (40,),
        (20,),
        "C",
        None,
        [numcodecs.Delta(dtype="<i2", astype="<i8")],
        0,
    ),
    "vlen-utf8": ("str", (12,), (5,), "C", numcodecs.Zstd(), [numcodecs.VLenUTF8()], ""),
    "vlen-utf8-F": ("str", (6, 4), (3, 4), "F", numcodecs.Zlib(), [numcodecs.VLenUTF8()], ""),
    "vlen-bytes": ("bytes", (9,), (3,), "C", numcodecs.GZip(), [numcodecs.VLenBytes()], b""),
}


def _write(case: str) -> tuple[dict[str, Any], np.ndarray[Any, Any], dict[str, Any]]:
    dtype, shape, chunks, order, compressor, filters, fill = CASES[case]
    store: dict[str, Any] = {}
    zdtype: Any = {"str": str, "bytes": VariableLengthBytes()}.get(dtype, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        array = zarr.create_array(
            store=store,
            shape=shape,
            chunks=chunks,
            dtype=zdtype,
            zarr_format=2,
            order=order,
            compressors=compressor,
            filters=filters,
            fill_value=fill,
        )
        data = sample_data(dtype, shape)
        array[...] = data
    return store, data, json.loads(store[".zarray"].to_bytes())


@pytest.mark.parametrize("case", sorted(CASES))
def test_v2_chunks_match_zarr_python(case: str) -> None:
    dtype, shape, chunks, order, _, _, fill = CASES[case]
    store, data, zarray = _write(case)
    assert zarray["order"] == order
    filters = None if zarray["filters"] is None else tuple(parse_v2_codec(f) for f in zarray["filters"])
    codec = V2Codec(filters=filters, compressor=parse_v2_codec(zarray["compressor"]))  # type: ignore[arg-type]
    spec_dtype = np.dtype(object) if dtype in ("str", "bytes") else np.dtype(dtype)
    spec = ChunkSpec(chunks, spec_dtype, fill, order)  # type: ignore[arg-type]
    chain = CodecChain.from_codecs([codec]).evolve(spec)
    grid = tuple(-(-s // c) for s, c in zip(shape, chunks, strict=True))
    for coords in np.ndindex(*grid):
        region = tuple(slice(i * c, (i + 1) * c) for i, c in zip(coords, chunks, strict=True))
        chunk = np.full(chunks, fill, dtype=spec_dtype)
        part = data[region]
        chunk[tuple(slice(0, n) for n in part.shape)] = part
        stored = store[".".join(map(str, coords))].to_bytes()
        assert same_chunk(bytes(chain.encode(chunk, spec)), stored), coords
        # also straight from the user's (possibly non-contiguous) selection, when the chunk is whole
        if part.shape == chunk.shape and dtype not in ("str", "bytes"):
            assert same_chunk(bytes(chain.encode(data[region], spec)), stored)
        decoded = chain.decode(stored, spec)
        assert decoded.dtype == spec_dtype
        assert decoded.shape == chunks
        assert decoded.tolist() == chunk.tolist()
        if order == "F":
            assert decoded.flags.f_contiguous


def test_v2_strings_decode_as_string_dtype() -> None:
    store, data, zarray = _write("vlen-utf8")
    codec = V2Codec(filters=(numcodecs.VLenUTF8(),), compressor=parse_v2_codec(zarray["compressor"]))
    spec = ChunkSpec((5,), np.dtype(np.dtypes.StringDType()), "")
    decoded = codec.decode(store["0"].to_bytes(), spec)
    assert decoded.dtype == np.dtypes.StringDType()
    assert decoded.tolist() == data[:5].tolist()
    assert bytes(codec.encode(decoded, spec)) == store["0"].to_bytes()


def test_zarr_python_reads_v2_chunks_we_encode() -> None:
    store, _, zarray = _write("fixedscaleoffset-F")
    codec = V2Codec(
        filters=tuple(parse_v2_codec(f) for f in zarray["filters"]),  # type: ignore[misc]
        compressor=parse_v2_codec(zarray["compressor"]),
    )
    spec = ChunkSpec((5, 3), np.dtype("<f8"), 0.0, "F")
    other = np.round(np.arange(60, dtype="<f8").reshape(10, 6) / 10, 1)
    for i in range(2):
        for j in range(2):
            block = other[i * 5 : (i + 1) * 5, j * 3 : (j + 1) * 3]
            store[f"{i}.{j}"] = zarr.core.buffer.cpu.Buffer.from_bytes(bytes(codec.encode(block, spec)))
    np.testing.assert_array_equal(zarr.open_array(store=store, mode="r", zarr_format=2)[...], other)

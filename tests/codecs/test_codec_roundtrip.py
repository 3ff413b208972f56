"""Round trips of every codec over several dtypes, and the CodecChain's structure and no-copy decoding."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numcodecs
import numpy as np
import pytest

from zarrlayered.codecs.abc import BaseCodec, ChunkSpec
from zarrlayered.codecs.blosc import BloscCodec
from zarrlayered.codecs.bytes import BytesCodec
from zarrlayered.codecs.chain import CodecChain
from zarrlayered.codecs.crc32c import Crc32cCodec
from zarrlayered.codecs.gzip import GzipCodec
from zarrlayered.codecs.numcodecs_adapter import V2Codec
from zarrlayered.codecs.registry import parse_codec_v3
from zarrlayered.codecs.transpose import TransposeCodec
from zarrlayered.codecs.vlen import VLenBytesCodec, VLenUTF8Codec
from zarrlayered.codecs.zstd import ZstdCodec
from zarrlayered.errors import MetadataValidationError

SHAPE = (5, 7)
FIXED_DTYPES = ["<i4", ">i4", ">f8", "<u2", "i1", "u1", "bool", "<c16", ">c8", "<f2", ">f2", "<M8[s]", "S6", "<U3"]


def make_data(dtype: Any, shape: tuple[int, ...] = SHAPE, seed: int = 0) -> np.ndarray[Any, Any]:
    """Deterministic, non-trivial data of ``dtype``."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    dt = np.dtype(dtype)
    if dt.kind == "b":
        flat = rng.integers(0, 2, n).astype(bool)
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        flat = rng.integers(info.min, info.max, n, endpoint=True, dtype=dt.newbyteorder("="))
    elif dt.kind == "f":
        flat = rng.standard_normal(n) * 1000
    elif dt.kind == "c":
        flat = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    elif dt.kind == "M":
        flat = rng.integers(0, 2**40, n).astype("M8[s]")
    elif dt.kind == "S":
        flat = np.array([bytes(rng.integers(0, 256, i % 7, dtype=np.uint8)) for i in range(n)], dtype=object)
    elif dt.kind == "U":
        flat = np.array(["é" * (i % 4) + chr(0x41 + i % 26) for i in range(n)], dtype=object)
    else:
        raise AssertionError(dtype)
    return flat.astype(dt).reshape(shape)


def string_data(shape: tuple[int, ...] = SHAPE) -> np.ndarray[Any, Any]:
    n = int(np.prod(shape))
    return np.array(["", "a", "bé", "日本語", "x" * 300, "\x00nul"] * n, dtype=object)[:n].reshape(shape)


def bytes_data(shape: tuple[int, ...] = SHAPE) -> np.ndarray[Any, Any]:
    n = int(np.prod(shape))
    return np.array([b"", b"\x00", b"abc", bytes(range(256)), b"z" * 70] * n, dtype=object)[:n].reshape(shape)


BB_CHAINS: dict[str, list[BaseCodec]] = {
    "none": [],
    "gzip": [GzipCodec(level=3)],
    "zstd": [ZstdCodec(level=5, checksum=True)],
    "blosc": [BloscCodec()],
    "blosc-lz4-noshuffle": [BloscCodec(cname="lz4", shuffle="noshuffle", clevel=9, blocksize=256)],
    "crc32c": [Crc32cCodec()],
    "zstd+crc32c": [ZstdCodec(), Crc32cCodec()],
    "numcodecs.zlib": [parse_codec_v3({"name": "numcodecs.zlib", "configuration": {"level": 1}})],
    "numcodecs.shuffle": [parse_codec_v3({"name": "numcodecs.shuffle", "configuration": {}})],
}


def roundtrip(codecs: list[BaseCodec], data: np.ndarray[Any, Any], spec_dtype: Any = None) -> np.ndarray[Any, Any]:
    spec = ChunkSpec(data.shape, np.dtype(spec_dtype if spec_dtype is not None else data.dtype), None)
    chain = CodecChain.from_codecs(codecs).evolve(spec)
    encoded = chain.encode(data, spec)
    assert isinstance(encoded, bytes | memoryview)
    decoded = chain.decode(bytes(encoded), spec)
    assert decoded.shape == spec.shape
    assert decoded.dtype == spec.dtype
    return decoded


@pytest.mark.parametrize("bb", sorted(BB_CHAINS))
@pytest.mark.parametrize("dtype", FIXED_DTYPES)
@pytest.mark.parametrize("endian", ["little", "big"])
def test_fixed_size_roundtrip(dtype: str, bb: str, endian: str) -> None:
    data = make_data(dtype)
    decoded = roundtrip([BytesCodec(endian=endian), *BB_CHAINS[bb]], data)  # type: ignore[arg-type]
    np.testing.assert_array_equal(decoded, data)


@pytest.mark.parametrize("dtype", ["<i4", ">f8", "bool", "<c8", "<f2", "S6"])
@pytest.mark.parametrize("order", [(1, 0), (0, 1)])
def test_transpose_roundtrip(dtype: str, order: tuple[int, ...]) -> None:
    data = make_data(dtype)
    decoded = roundtrip([TransposeCodec(order=order), BytesCodec(endian="big"), ZstdCodec()], data)
    np.testing.assert_array_equal(decoded, data)


def test_transpose_3d_stores_transposed_c_order() -> None:
    data = np.arange(24, dtype="<u2").reshape(2, 3, 4)
    spec = ChunkSpec(data.shape, data.dtype, 0)
    chain = CodecChain.from_codecs([TransposeCodec(order=(2, 0, 1)), BytesCodec(endian="little")])
    encoded = bytes(chain.encode(data, spec))
    assert encoded == np.ascontiguousarray(np.transpose(data, (2, 0, 1))).tobytes()
    np.testing.assert_array_equal(chain.decode(encoded, spec), data)


@pytest.mark.parametrize("bb", sorted(BB_CHAINS))
@pytest.mark.parametrize("kind", ["object", "StringDType"])
def test_vlen_utf8_roundtrip(bb: str, kind: str) -> None:
    data = string_data()
    dtype = object if kind == "object" else np.dtypes.StringDType()
    data = data.astype(dtype)
    decoded = roundtrip([VLenUTF8Codec(), *BB_CHAINS[bb]], data)
    assert decoded.tolist() == data.tolist()


@pytest.mark.parametrize("bb", sorted(BB_CHAINS))
def test_vlen_bytes_roundtrip(bb: str) -> None:
    data = bytes_data()
    decoded = roundtrip([VLenBytesCodec(), *BB_CHAINS[bb]], data)
    assert decoded.tolist() == data.tolist()


def test_vlen_utf8_transposed_chunk_is_serialized_in_c_order() -> None:
    data = string_data((3, 4))
    spec = ChunkSpec(data.shape, np.dtype(object), "")
    chain = CodecChain.from_codecs([TransposeCodec(order=(1, 0)), VLenUTF8Codec()])
    encoded = bytes(chain.encode(data, spec))
    assert encoded == bytes(numcodecs.VLenUTF8().encode(np.ascontiguousarray(data.T).ravel()))
    assert chain.decode(encoded, spec).tolist() == data.tolist()


@pytest.mark.parametrize("dtype", ["<i4", ">f8", "bool", "<c16", "<f2", ">u2"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize(
    "compressor", [None, numcodecs.Zlib(level=1), numcodecs.Blosc(), numcodecs.Zstd(level=2), numcodecs.GZip()]
)
def test_v2_codec_roundtrip(dtype: str, order: str, compressor: Any) -> None:
    data = make_data(dtype)
    spec = ChunkSpec(data.shape, data.dtype, 0, order)  # type: ignore[arg-type]
    codec = V2Codec(filters=None, compressor=compressor)
    encoded = codec.encode(data, spec)
    decoded = codec.decode(bytes(encoded), spec)
    np.testing.assert_array_equal(decoded, data)
    assert decoded.dtype == data.dtype
    assert decoded.flags.f_contiguous if order == "F" else decoded.flags.c_contiguous


@pytest.mark.parametrize("kind", ["object", "StringDType"])
def test_v2_codec_object_roundtrip(kind: str) -> None:
    data = string_data().astype(object if kind == "object" else np.dtypes.StringDType())
    for order in ("C", "F"):
        spec = ChunkSpec(data.shape, data.dtype, "", order)  # type: ignore[arg-type]
        codec = V2Codec(filters=(numcodecs.VLenUTF8(),), compressor=numcodecs.Zstd())
        decoded = codec.decode(bytes(codec.encode(data, spec)), spec)
        assert decoded.dtype == data.dtype
        assert decoded.tolist() == data.tolist()
    spec = ChunkSpec(data.shape, np.dtype(object), "")
    with pytest.raises(MetadataValidationError, match="object codec"):
        V2Codec(compressor=numcodecs.Zstd()).validate(spec)


def test_bytes_decode_is_a_view_and_swaps_only_when_needed() -> None:
    data = make_data("<i4")
    stored = bytearray(data.tobytes())
    spec = ChunkSpec(data.shape, np.dtype("<i4"), 0)
    chain = CodecChain.from_codecs([BytesCodec(endian="little")])
    assert chain.is_plain_bytes
    decoded = chain.decode(memoryview(stored), spec)
    assert np.shares_memory(decoded, np.frombuffer(stored, dtype=np.uint8))
    # a big-endian stored chunk read as a big-endian array: no swap, still a view
    big = bytearray(data.astype(">i4").tobytes())
    spec_big = ChunkSpec(data.shape, np.dtype(">i4"), 0)
    decoded_big = CodecChain.from_codecs([BytesCodec(endian="big")]).decode(memoryview(big), spec_big)
    assert np.shares_memory(decoded_big, np.frombuffer(big, dtype=np.uint8))
    # read as native little-endian: swapped into a new array
    swapped = CodecChain.from_codecs([BytesCodec(endian="big")]).decode(memoryview(big), spec)
    assert swapped.dtype == np.dtype("<i4")
    np.testing.assert_array_equal(swapped, data)


def test_transpose_decode_is_a_view() -> None:
    data = np.arange(12, dtype="<f8").reshape(3, 4)
    spec = ChunkSpec(data.shape, data.dtype, 0)
    chain = CodecChain.from_codecs([TransposeCodec(order=(1, 0)), BytesCodec()])
    stored = bytearray(bytes(chain.encode(data, spec)))
    decoded = chain.decode(memoryview(stored), spec)
    assert np.shares_memory(decoded, np.frombuffer(stored, dtype=np.uint8))
    np.testing.assert_array_equal(decoded, data)


def test_bytes_encode_of_c_contiguous_chunk_does_not_copy() -> None:
    data = make_data("<i8")
    encoded = BytesCodec(endian="little").encode(data, ChunkSpec(data.shape, data.dtype, 0))
    assert isinstance(encoded, memoryview)
    assert np.shares_memory(np.frombuffer(encoded, dtype=np.uint8), data)


def test_bytes_decode_wrong_length() -> None:
    spec = ChunkSpec((4,), np.dtype("<i4"), 0)
    with pytest.raises(ValueError, match="needs 16 bytes, got 15"):
        BytesCodec().decode(b"\x00" * 15, spec)


def test_is_plain_bytes() -> None:
    assert CodecChain.from_codecs([BytesCodec()]).is_plain_bytes
    assert not CodecChain.from_codecs([BytesCodec(), ZstdCodec()]).is_plain_bytes
    assert not CodecChain.from_codecs([TransposeCodec(order=(0,)), BytesCodec()]).is_plain_bytes
    assert not CodecChain.from_codecs([VLenUTF8Codec()]).is_plain_bytes


def test_from_codecs_checks_order() -> None:
    assert CodecChain.from_codecs([TransposeCodec(order=(0,)), BytesCodec(), GzipCodec()]).codecs() == (
        TransposeCodec(order=(0,)),
        BytesCodec(),
        GzipCodec(),
    )
    with pytest.raises(MetadataValidationError, match="exactly one array -> bytes"):
        CodecChain.from_codecs([TransposeCodec(order=(0,))])
    with pytest.raises(MetadataValidationError, match="only one array -> bytes codec"):
        CodecChain.from_codecs([BytesCodec(), VLenUTF8Codec()])
    with pytest.raises(MetadataValidationError, match="'gzip' must come after"):
        CodecChain.from_codecs([GzipCodec(), BytesCodec()])
    with pytest.raises(MetadataValidationError, match="'transpose' must come before"):
        CodecChain.from_codecs([BytesCodec(), TransposeCodec(order=(0,))])


def test_evolve_fills_dtype_defaults_and_validates() -> None:
    chain = CodecChain.from_codecs([BytesCodec(), BloscCodec()])
    evolved = chain.evolve(ChunkSpec((10,), np.dtype("<u2"), 0))
    assert evolved.array_bytes == BytesCodec(endian="little")
    assert evolved.bytes_bytes == (BloscCodec(typesize=2, shuffle="shuffle"),)
    evolved = chain.evolve(ChunkSpec((10,), np.dtype("u1"), 0))
    assert evolved.array_bytes == BytesCodec(endian=None)
    assert evolved.bytes_bytes == (BloscCodec(typesize=1, shuffle="bitshuffle"),)
    assert evolved.to_dicts()[0] == {"name": "bytes"}
    strings = CodecChain.from_codecs([VLenUTF8Codec(), BloscCodec()]).evolve(ChunkSpec((3,), np.dtype(object), ""))
    assert strings.bytes_bytes == (BloscCodec(typesize=1, shuffle="bitshuffle"),)
    with pytest.raises(MetadataValidationError, match="'endian'"):
        CodecChain.from_codecs([BytesCodec(endian=None)]).evolve(ChunkSpec((3,), np.dtype("<f8"), 0))
    with pytest.raises(MetadataValidationError, match="variable-length"):
        CodecChain.from_codecs([BytesCodec()]).evolve(ChunkSpec((3,), np.dtype(object), 0))
    with pytest.raises(MetadataValidationError, match=r"'order'.*permutation of range\(2\)"):
        CodecChain.from_codecs([TransposeCodec(order=(0, 0)), BytesCodec()]).evolve(
            ChunkSpec((3, 3), np.dtype("<f8"), 0)
        )
    with pytest.raises(MetadataValidationError, match="vlen-utf8"):
        CodecChain.from_codecs([VLenUTF8Codec()]).evolve(ChunkSpec((3,), np.dtype("<f8"), 0))
    with pytest.raises(MetadataValidationError, match="vlen-bytes"):
        CodecChain.from_codecs([VLenBytesCodec()]).evolve(ChunkSpec((3,), np.dtype("S3"), 0))


def test_compute_encoded_size() -> None:
    spec = ChunkSpec((4, 5), np.dtype("<i4"), 0)
    chain = CodecChain.from_codecs([TransposeCodec(order=(1, 0)), BytesCodec(), Crc32cCodec()])
    assert chain.compute_encoded_size(80, spec) == 84
    data = make_data("<i4", (4, 5))
    assert len(bytes(chain.encode(data, spec))) == 84
    with pytest.raises(ValueError, match="'zstd' has no fixed encoded size"):
        CodecChain.from_codecs([BytesCodec(), ZstdCodec()]).compute_encoded_size(80, spec)


def test_numcodecs_array_array_codecs_roundtrip() -> None:
    data = make_data("<i4", (6, 4)) // 1000
    codecs = [
        parse_codec_v3({"name": "numcodecs.delta", "configuration": {"dtype": "<i4"}}),
        parse_codec_v3(numcodecs.FixedScaleOffset(offset=0, scale=1, dtype="<i4", astype="<i8")),
        BytesCodec(),
        parse_codec_v3(numcodecs.Zlib(level=2)),
    ]
    decoded = roundtrip(codecs, data)
    np.testing.assert_array_equal(decoded, data)
    floats = make_data("<f8", (6, 4))
    bitround = [parse_codec_v3({"name": "numcodecs.bitround", "configuration": {"keepbits": 52}}), BytesCodec()]
    np.testing.assert_array_equal(roundtrip(bitround, floats), floats)


def test_numcodecs_packbits_resolves_shape() -> None:
    data = make_data("bool", (3, 5))
    chain_codecs = [parse_codec_v3({"name": "numcodecs.packbits"}), BytesCodec()]
    spec = ChunkSpec(data.shape, data.dtype, False)
    chain = CodecChain.from_codecs(chain_codecs).evolve(spec)
    encoded = bytes(chain.encode(data, spec))
    assert len(encoded) == 1 + 2  # a header byte, then 15 bits in 2 bytes
    np.testing.assert_array_equal(chain.decode(encoded, spec), data)


def _hammer(chain: CodecChain, spec: ChunkSpec, inputs: list[np.ndarray[Any, Any]], deterministic: bool) -> bool:
    """Encode and decode the inputs from 8 threads at once; True if every result is right."""
    expected = [bytes(chain.encode(x, spec)) for x in inputs]

    def work(i: int) -> bool:
        x = inputs[i % len(inputs)]
        encoded = bytes(chain.encode(x, spec))
        decoded = chain.decode(encoded, spec)
        same = encoded == expected[i % len(inputs)] or not deterministic
        return same and decoded.tolist() == x.tolist()

    with ThreadPoolExecutor(max_workers=8) as pool:
        return all(pool.map(work, range(96)))


def test_codecs_are_thread_safe() -> None:
    spec = ChunkSpec((64, 64), np.dtype("<f8"), 0.0)
    inputs = [make_data("<f8", (64, 64), seed=i) for i in range(16)]
    for codecs in (
        [BytesCodec(), ZstdCodec(level=3)],
        [BytesCodec(), BloscCodec(typesize=8, shuffle="shuffle")],
        [BytesCodec(), ZstdCodec(), Crc32cCodec()],
        [TransposeCodec(order=(1, 0)), BytesCodec(endian="big"), BloscCodec(cname="lz4")],
    ):
        assert _hammer(CodecChain.from_codecs(codecs).evolve(spec), spec, inputs, deterministic=True)
    # gzip streams carry a timestamp (numcodecs writes the current time): compared after decoding only
    strings = [x.astype(str).astype(object) for x in inputs]
    string_spec = ChunkSpec((64, 64), np.dtype(object), "")
    chain = CodecChain.from_codecs([VLenUTF8Codec(), GzipCodec()])
    assert _hammer(chain, string_spec, strings, deterministic=False)


@pytest.mark.parametrize("shape", [(), (1,), (0,), (3, 0)])
def test_zero_dimensional_and_empty_chunks(shape: tuple[int, ...]) -> None:
    x = np.full(shape, 2.5, dtype=">f8")
    spec = ChunkSpec(shape, np.dtype(">f8"), 0.0)
    chains: list[list[BaseCodec]] = [[BytesCodec()], [BytesCodec(endian="big"), GzipCodec(), Crc32cCodec()]]
    if 0 not in shape:  # numcodecs Zstd and Blosc cannot decode what they encode from zero bytes
        chains += [[BytesCodec(), ZstdCodec(), Crc32cCodec()], [BytesCodec(), BloscCodec()]]
    for codecs in chains:
        decoded = roundtrip(codecs, x, ">f8")
        assert decoded.shape == shape
        np.testing.assert_array_equal(decoded, x)
    strings = np.full(shape, "ab", dtype=object)
    assert roundtrip([VLenUTF8Codec()], strings).tolist() == strings.tolist()
    v2 = V2Codec(compressor=numcodecs.Zlib())
    assert v2.decode(bytes(v2.encode(x, spec)), spec).shape == shape

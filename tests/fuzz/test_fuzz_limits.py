"""Absurd sizes from untrusted metadata and chunks: shapes and chunk shapes up to 2**64, fill values of
the wrong type, JSON nested a million deep, and compressed chunks whose headers claim gigabytes.

Nothing may be allocated because a document or a header says so: a 2**60-element chunk is refused when
the metadata is parsed, and decompression is bounded by the bytes the chunk can hold. Python's
``tracemalloc`` (which sees numpy's buffers too) measures the peak.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from typing import Any

import numcodecs
import numpy as np
import pytest
import zstandard
from fuzz_helpers import CASES, FUZZ, check_error, dumps
from hypothesis import given, settings
from hypothesis import strategies as st
from memory_helpers import peak_below

import zarrlayered
from zarrlayered.codecs.limits import VLEN_MAX_RATIO
from zarrlayered.errors import CorruptChunkError, MetadataValidationError
from zarrlayered.stores.memory import MemoryStore

#: What opening and reading one small piece of an array may allocate at its peak, whatever it declares.
PEAK_LIMIT = 32 * 2**20


def v3_array(shape: list[int], chunks: list[int], dtype: str = "int32", fill: Any = 0, **extra: Any) -> bytes:
    doc: dict[str, Any] = {
        "zarr_format": 3,
        "node_type": "array",
        "shape": shape,
        "data_type": dtype,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill,
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
        "attributes": {},
    }
    doc.update(extra)
    return dumps(doc)


def v2_array(shape: list[int], chunks: list[int], dtype: str = "<i4", fill: Any = 0, compressor: Any = None) -> bytes:
    doc = {
        "zarr_format": 2,
        "shape": shape,
        "chunks": chunks,
        "dtype": dtype,
        "fill_value": fill,
        "order": "C",
        "filters": None,
        "compressor": compressor,
        "dimension_separator": ".",
    }
    return dumps(doc)


def _open_and_touch(store: MemoryStore, key: str) -> None:
    """Open ``a`` read-only and read its first element (and, in a copy, write it when the chunk is small: a
    partial write builds the whole chunk, as large as the metadata says); errors must name ``key``."""
    CASES["limits"] += 1
    try:
        array = zarrlayered.open_array(store, path="a", mode="r")
        if all(array.shape):
            array[(0,) * array.ndim]
            if math.prod(array.chunks) * array.dtype.itemsize <= 2**20:  # type: ignore[arg-type]
                writable = zarrlayered.open_array(MemoryStore(dict(store.store_dict)), path="a", mode="r+")
                writable[(0,) * array.ndim] = 1
    except Exception as exc:
        check_error(exc, (key, "'a/"))


sizes = st.integers(min_value=0, max_value=2**64) | st.sampled_from([0, 1, 2**31, 2**32, 2**60, 2**62, 2**63 - 1])
positive = st.integers(min_value=1, max_value=2**64) | st.sampled_from([1, 7, 2**20, 2**40, 2**60, 2**63])


@settings(FUZZ, max_examples=500)
@given(
    fmt=st.sampled_from([2, 3]),
    shape=st.lists(sizes, min_size=1, max_size=4),
    chunks=st.lists(positive, min_size=1, max_size=4),
    dtype=st.sampled_from(["int8", "float64", "complex128"]),
)
def test_absurd_shapes_and_chunk_shapes_are_refused_before_allocating(
    fmt: int, shape: list[int], chunks: list[int], dtype: str
) -> None:
    chunks = (chunks * 4)[: len(shape)]
    if fmt == 3:
        documents = {"a/zarr.json": v3_array(shape, chunks, dtype)}
    else:
        documents = {"a/.zarray": v2_array(shape, chunks, np.dtype(dtype).str)}
    key = next(iter(documents))
    with peak_below(PEAK_LIMIT):
        _open_and_touch(MemoryStore(documents), key)


@pytest.mark.parametrize("fmt", [2, 3])
@pytest.mark.parametrize("chunks", [[2**60], [2**30, 2**30], [2**20, 2**20, 2**20]])
def test_a_2_to_60_element_chunk_is_refused_when_opened(fmt: int, chunks: list[int]) -> None:
    shape = [2**62 // len(chunks)] * len(chunks) if len(chunks) == 1 else chunks
    documents = {"a/zarr.json": v3_array(shape, chunks)} if fmt == 3 else {"a/.zarray": v2_array(shape, chunks)}
    with peak_below(2**20), pytest.raises(MetadataValidationError, match=r"a chunk may hold") as info:
        zarrlayered.open_array(MemoryStore(documents), path="a", mode="r")
    check_error(info.value, (next(iter(documents)),))
    with peak_below(2**20), pytest.raises(MetadataValidationError, match=r"a chunk may hold"):
        zarrlayered.create_array(MemoryStore(), shape=shape, chunks=chunks, dtype="int32", zarr_format=fmt)


def test_a_sharded_array_with_a_2_to_60_element_shard_is_refused() -> None:
    sharding = {
        "name": "sharding_indexed",
        "configuration": {
            "chunk_shape": [4],
            "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
            "index_location": "end",
        },
    }
    documents = {"a/zarr.json": v3_array([2**61], [2**60], codecs=[sharding])}
    with peak_below(2**20), pytest.raises(MetadataValidationError, match="a chunk may hold") as info:
        zarrlayered.open_array(MemoryStore(documents), path="a", mode="r")
    check_error(info.value, ("a/zarr.json",))


fill_values = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | st.text(max_size=6)
    | st.sampled_from(["NaN", "Infinity", "-Infinity", "0x7ff8000000000000", "0xZZ", "AAAA", "==", [1, 2], [], {}])
    | st.lists(st.floats() | st.integers(), max_size=3)
)


@settings(FUZZ, max_examples=600)
@given(
    fmt=st.sampled_from([2, 3]),
    dtype=st.sampled_from(["bool", "int8", "uint64", "float16", "float64", "complex64", "datetime64[s]", "string"]),
    fill=fill_values,
)
def test_fill_values_of_the_wrong_type_are_refused_or_read_back(fmt: int, dtype: str, fill: Any) -> None:
    if fmt == 3:
        codecs = [{"name": "vlen-utf8", "configuration": {}}] if dtype == "string" else None
        extra = {"codecs": codecs} if codecs else {}
        documents = {"a/zarr.json": v3_array([3], [2], dtype, fill, **extra)}
    else:
        if dtype == "string":
            return
        documents = {"a/.zarray": v2_array([3], [2], np.dtype(dtype).str, fill)}
    key = next(iter(documents))
    CASES["fill value"] += 1
    try:
        array = zarrlayered.open_array(MemoryStore(documents), path="a", mode="r")
        assert np.asarray(array[...]).shape == (3,)
    except Exception as exc:
        check_error(exc, (key,))
        assert isinstance(exc, MetadataValidationError)


@pytest.mark.parametrize("depth", [300, 5_000, 1_000_000])
@pytest.mark.parametrize("name", ["a/zarr.json", "a/.zarray", "a/.zattrs", ".zmetadata", "zarr.json"])
def test_deeply_nested_json_is_a_value_error_never_a_recursion_error(name: str, depth: int) -> None:
    attributes: Any = "[" * depth + "]" * depth
    documents: dict[str, bytes] = {".zgroup": b'{"zarr_format": 2}', "a/.zarray": v2_array([2], [2])}
    if name.endswith("zarr.json"):
        documents = {"zarr.json": b'{"zarr_format": 3, "node_type": "group"}', "a/zarr.json": v3_array([2], [2])}
    if name.endswith((".zattrs", "zarr.json")) and name in documents:
        parsed = documents[name].decode()
        documents[name] = (parsed[:-1] + f', "attributes": {attributes}}}').encode()
    else:
        documents[name] = ('{"a": ' + attributes + "}").encode()
    with pytest.raises(MetadataValidationError, match="deeper than") as info:
        node = zarrlayered.open(MemoryStore(documents), path="a" if name.startswith("a/") else "", mode="r")
        dict(node.attrs)
    check_error(info.value, (name,))


def test_attributes_nested_200_deep_are_fine() -> None:
    nested: Any = 1
    for _ in range(200):
        nested = [nested]
    store = MemoryStore()
    zarrlayered.create_group(store, attributes={"deep": nested})
    assert zarrlayered.open_group(store, mode="r").attrs["deep"] == nested


# -- decompression bombs ---------------------------------------------------------------------------


def _zeros_compressed(codec: numcodecs.abc.Codec, nbytes: int) -> bytes:
    return bytes(codec.encode(bytes(nbytes)))


def _claiming(codec: numcodecs.abc.Codec, patch: Callable[[bytearray], None]) -> bytes:
    data = bytearray(codec.encode(bytes(range(24))))
    patch(data)
    return bytes(data)


def _blosc_claims_2gib(data: bytearray) -> None:
    data[4:8] = (2**31 - 1).to_bytes(4, "little")


def _lz4_claims_2gib(data: bytearray) -> None:
    data[0:4] = (2**31 - 1).to_bytes(4, "little")


#: A zstd frame whose header declares 2**40 bytes (single segment, 8-byte content size), then a raw block.
ZSTD_CLAIMS_1TIB = b"\x28\xb5\x2f\xfd" + bytes([0b11100000]) + (2**40).to_bytes(8, "little") + b"\x01\x00\x00"


@functools.cache
def zstd_frame_without_size(nbytes: int = 2**30) -> bytes:
    """One zstd frame of ``nbytes`` zeros that does not declare its content size (about 32 KiB per GiB).

    Compressed piece by piece, so the test never holds the zeros.
    """
    compressor = zstandard.ZstdCompressor(level=1, write_content_size=False).compressobj()
    piece = bytes(2**22)
    frame = [compressor.compress(piece) for _ in range(nbytes // len(piece))]
    frame.append(compressor.flush())
    data = b"".join(frame)
    assert zstandard.get_frame_parameters(data).content_size == zstandard.CONTENTSIZE_UNKNOWN
    return data


BOMBS: dict[str, tuple[Any, Callable[[], bytes]]] = {
    "v2-zlib": (numcodecs.Zlib(), lambda: _zeros_compressed(numcodecs.Zlib(level=9), 32 * 2**20)),
    "v2-gzip": (numcodecs.GZip(), lambda: _zeros_compressed(numcodecs.GZip(level=9), 32 * 2**20)),
    "v2-bz2": (numcodecs.BZ2(), lambda: _zeros_compressed(numcodecs.BZ2(level=9), 8 * 2**20)),
    "v2-lzma": (numcodecs.LZMA(), lambda: _zeros_compressed(numcodecs.LZMA(preset=1), 8 * 2**20)),
    "v2-zstd": (numcodecs.Zstd(), lambda: _zeros_compressed(numcodecs.Zstd(level=3), 256 * 2**20)),
    "v2-zstd-header": (numcodecs.Zstd(), lambda: ZSTD_CLAIMS_1TIB),
    "v2-zstd-no-size": (numcodecs.Zstd(), zstd_frame_without_size),
    "v2-zstd-no-size-after-a-frame": (
        numcodecs.Zstd(),
        lambda: bytes(numcodecs.Zstd().encode(b"")) + zstd_frame_without_size(),
    ),
    "v2-blosc-header": (numcodecs.Blosc(), lambda: _claiming(numcodecs.Blosc(), _blosc_claims_2gib)),
    "v2-lz4-header": (numcodecs.LZ4(), lambda: _claiming(numcodecs.LZ4(), _lz4_claims_2gib)),
    "v3-gzip": ({"name": "gzip", "configuration": {"level": 5}}, lambda: _zeros_compressed(numcodecs.GZip(9), 2**25)),
    "v3-zstd": (
        {"name": "zstd", "configuration": {"level": 0, "checksum": False}},
        lambda: _zeros_compressed(numcodecs.Zstd(level=3), 256 * 2**20),
    ),
    "v3-zstd-header": ({"name": "zstd", "configuration": {"level": 0, "checksum": False}}, lambda: ZSTD_CLAIMS_1TIB),
    "v3-zstd-no-size": ({"name": "zstd", "configuration": {"level": 0, "checksum": False}}, zstd_frame_without_size),
    "v3-blosc-header": (
        {
            "name": "blosc",
            "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "noshuffle", "typesize": 4, "blocksize": 0},
        },
        lambda: _claiming(numcodecs.Blosc(cname="lz4"), _blosc_claims_2gib),
    ),
}


def _bomb_array(name: str, dtype: str) -> tuple[zarrlayered.Array, str]:
    """A 6-element array whose one chunk is the bomb ``name``; and the chunk's key."""
    codec, make = BOMBS[name]
    chunk = make()
    if name.startswith("v3"):
        if dtype == "string":
            extra: dict[str, Any] = {"codecs": [{"name": "vlen-utf8", "configuration": {}}, codec]}
            documents = {"a/zarr.json": v3_array([6], [6], "string", "", **extra), "a/c/0": chunk}
        else:
            bytes_codec = {"name": "bytes", "configuration": {"endian": "little"}}
            documents = {"a/zarr.json": v3_array([6], [6], codecs=[bytes_codec, codec]), "a/c/0": chunk}
    else:
        if dtype == "string":
            doc = json.loads(v2_array([6], [6], "|O", None, codec.get_config()))
            doc["filters"] = [{"id": "vlen-utf8"}]
            documents = {"a/.zarray": dumps(doc), "a/0": chunk}
        else:
            documents = {"a/.zarray": v2_array([6], [6], compressor=codec.get_config()), "a/0": chunk}
    key = "a/c/0" if name.startswith("v3") else "a/0"
    return zarrlayered.open_array(MemoryStore(documents), path="a", mode="r"), key


#: Bombs whose ratio stays below :data:`VLEN_MAX_RATIO` (deflate's limit is 1,032:1, bz2's and LZMA's
#: 32 MiB of zeros here are below it too): in a string chunk they are inflated, then refused by the item
#: count. Every other bomb is refused before its output grows.
_INFLATED_AS_STRINGS = {"v2-zlib", "v2-gzip", "v2-bz2", "v2-lzma", "v3-gzip"}


@pytest.mark.parametrize("name", sorted(BOMBS))
@pytest.mark.parametrize("dtype", ["<i4", "string"])
def test_a_chunk_claiming_gigabytes_is_refused_without_allocating(name: str, dtype: str) -> None:
    """A 6-element chunk whose compressed bytes inflate (or claim to inflate) to gigabytes."""
    array, key = _bomb_array(name, dtype)
    # a string chunk's size is unknown from the metadata: it is bounded by its item count and by
    # VLEN_MAX_RATIO times its encoded size
    inflated = dtype == "string" and name in _INFLATED_AS_STRINGS
    with peak_below(100 * 2**20 if inflated else PEAK_LIMIT):
        with pytest.raises(CorruptChunkError) as info:
            array[...]
    check_error(info.value, (key,))
    CASES["bomb"] += 1


@pytest.mark.parametrize("name", sorted(_INFLATED_AS_STRINGS))
def test_a_lower_vlen_max_ratio_refuses_string_bombs_before_inflating(name: str) -> None:
    """With ``codecs.vlen_max_ratio`` at 64, a string chunk of 6 items decodes to at most 388 + 64 * its size."""
    array, key = _bomb_array(name, "string")
    with zarrlayered.config.set({"codecs.vlen_max_ratio": 64}), peak_below(PEAK_LIMIT):
        with pytest.raises(CorruptChunkError, match="bytes the chunk can hold") as info:
            array[...]
    check_error(info.value, (key,))
    CASES["bomb"] += 1


def test_a_string_chunk_compressed_10_000_to_1_reads_back() -> None:
    """Real text repeated compresses about 10,000:1 with zstd: below VLEN_MAX_RATIO, it reads back."""
    documents: dict[str, bytes] = {}
    values = np.array(["lorem ipsum dolor sit amet " * 400] * 1000, dtype=object)
    zstd = {"name": "zstd", "configuration": {"level": 3, "checksum": False}}
    array = zarrlayered.create_array(
        MemoryStore(documents), shape=(1000,), chunks=(1000,), dtype=str, compressors=[zstd]
    )
    array[...] = values
    # 10.8 MB stored in about 1 KB: more than any deflate stream could hold, less than the bound
    assert len(documents["c/0"]) * 1024 < 10_800_000 < len(documents["c/0"]) * VLEN_MAX_RATIO
    assert list(zarrlayered.open_array(MemoryStore(documents), mode="r")[...]) == list(values)


def test_blosc_with_an_inner_zstd_frame_without_size_is_bounded_by_the_blosc_header() -> None:
    """blosc decodes each block into the buffer its (checked) header sizes: an inner zstd frame that would
    inflate to 256 MiB fails inside blosc, with nothing allocated beyond the chunk."""
    blosc = numcodecs.Blosc(cname="zstd", clevel=5, shuffle=numcodecs.Blosc.NOSHUFFLE, typesize=1)
    chunk = bytes(blosc.encode(bytes(4096)))  # one zstd-compressed block of 4096 bytes
    frame_at = chunk.index(b"\x28\xb5\x2f\xfd")
    bomb = zstd_frame_without_size(2**28)
    crafted = bytearray(chunk[: frame_at - 4]) + len(bomb).to_bytes(4, "little") + bomb
    crafted[12:16] = len(crafted).to_bytes(4, "little")  # the header's compressed size
    documents = {"a/.zarray": v2_array([4096], [4096], "|u1", compressor=blosc.get_config()), "a/0": bytes(crafted)}
    array = zarrlayered.open_array(MemoryStore(documents), path="a", mode="r")
    with peak_below(PEAK_LIMIT), pytest.raises(CorruptChunkError) as info:
        array[...]
    check_error(info.value, ("a/0",))
    CASES["bomb"] += 1

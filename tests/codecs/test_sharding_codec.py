"""Unit tests of the ``sharding_indexed`` codec: index, layout, metadata parsing, validation and errors."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest
from zarr.core.indexing import _morton_order_keys

from zarrlayered.codecs.abc import ChunkSpec
from zarrlayered.codecs.bytes import BytesCodec
from zarrlayered.codecs.crc32c import Crc32cCodec
from zarrlayered.codecs.registry import get_codec_class, parse_codec_v3
from zarrlayered.codecs.sharding import ShardingCodec, empty_chunk_mask
from zarrlayered.codecs.sharding_index import MAX_UINT64, ShardIndex, chunk_order_ranks, morton_order
from zarrlayered.codecs.transpose import TransposeCodec
from zarrlayered.codecs.zstd import ZstdCodec
from zarrlayered.errors import ChecksumError, MetadataValidationError
from zarrlayered.stores.abc import RangeByteRequest, SuffixByteRequest
from zarrlayered.stores.memory import MemoryStore

SPEC = ChunkSpec((8, 6), np.dtype("<i4"), np.int32(0))


def _shard_data() -> np.ndarray[Any, Any]:
    data = np.arange(1, 49, dtype="<i4").reshape(8, 6)
    data[2:4, 3:6] = 0  # inner chunk (1, 1) holds only the fill value
    return data


# -- inner chunk order ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "grid", [(1,), (5,), (2, 2), (4, 2), (3, 5), (1, 7, 1), (5, 3, 2), (2, 3, 4, 5), (17, 17, 17), (33, 3)]
)
def test_morton_order_is_zarr_pythons(grid: tuple[int, ...]) -> None:
    assert morton_order(grid) == _morton_order_keys(grid)


def test_chunk_order_ranks() -> None:
    assert chunk_order_ranks((2, 3), "lexicographic").tolist() == list(range(6))
    # (0,0) (1,0) (0,1) (1,1) (0,2) (1,2): the first axis varies fastest
    assert chunk_order_ranks((2, 3), "morton").tolist() == [0, 2, 4, 1, 3, 5]
    assert not chunk_order_ranks((2, 3)).flags.writeable
    with pytest.raises(ValueError, match="'hilbert'"):
        chunk_order_ranks((2, 3), "hilbert")  # type: ignore[arg-type]


# -- ShardIndex ----------------------------------------------------------------------------------


def test_shard_index() -> None:
    index = ShardIndex.empty((2, 3))
    assert index.chunks_per_shard == (2, 3)
    assert index.offsets_and_lengths.shape == (2, 3, 2)
    assert index.is_all_empty()
    assert index.nonempty_coords() == ()
    assert index.get((1, 2)) is None
    full = ShardIndex.from_entries((2, 3), [((1, 2), 10, 5), ((0, 1), 0, 10)])
    assert not full.is_all_empty()
    assert full.get((1, 2)) == (10, 5)
    assert full.get((0, 0)) is None
    assert full.nonempty_coords() == ((0, 1), (1, 2))
    assert full.nonempty_mask().tolist() == [[False, True, False], [False, False, True]]
    assert full == ShardIndex(full.offsets_and_lengths.copy())
    assert full != index
    with pytest.raises(IndexError, match=r"\(2, 0\) is outside the shard's chunk grid \(2, 3\)"):
        full.get((2, 0))
    with pytest.raises(IndexError, match="outside"):
        full.get((-1, 0))
    with pytest.raises(ValueError, match="chunks_per_shard"):
        ShardIndex(np.zeros((2, 3), dtype=np.uint64))
    with pytest.raises(TypeError, match="uint64"):
        ShardIndex(np.zeros((2, 2), dtype=np.float64))
    full.check(15)
    with pytest.raises(ValueError, match=r"inner chunk \(1, 2\) has offset 10 and length 5.*14 bytes"):
        full.check(14)
    overflow = ShardIndex.from_entries((1,), [((0,), MAX_UINT64 - 1, 5)])
    with pytest.raises(ValueError, match="corrupt shard index"):
        overflow.check()


# -- metadata ------------------------------------------------------------------------------------


def test_registry_and_defaults() -> None:
    assert get_codec_class("sharding_indexed") is ShardingCodec
    codec = parse_codec_v3({"name": "sharding_indexed", "configuration": {"chunk_shape": [2, 3]}})
    assert codec == ShardingCodec(chunk_shape=(2, 3))
    assert codec.to_dict() == {
        "name": "sharding_indexed",
        "configuration": {
            "chunk_shape": [2, 3],
            "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
            "index_location": "end",
        },
    }


def test_to_dict_from_dict_round_trip_nested() -> None:
    inner = ShardingCodec(chunk_shape=(2, 2), codecs=(BytesCodec(), ZstdCodec(level=5)), index_location="start")
    codec = ShardingCodec(
        chunk_shape=(4, 4),
        codecs=(TransposeCodec(order=(1, 0)), inner, Crc32cCodec()),
        index_codecs=(BytesCodec(endian="big"),),
    )
    document = codec.to_dict()
    assert document["configuration"]["codecs"][1]["name"] == "sharding_indexed"
    again = ShardingCodec.from_dict(document)
    assert again == codec
    assert hash(again) == hash(codec)
    assert again.to_dict() == document
    # dict codecs are parsed by the constructor too
    assert ShardingCodec(chunk_shape=[4, 4], codecs=document["configuration"]["codecs"]) == ShardingCodec(  # type: ignore[arg-type]
        chunk_shape=(4, 4), codecs=codec.codecs
    )


@pytest.mark.parametrize(
    ("configuration", "message"),
    [
        ({}, "requires the configuration field 'chunk_shape'"),
        ({"chunk_shape": [0, 2]}, "'chunk_shape' must be a list of positive integers, got \\[0, 2\\]"),
        ({"chunk_shape": ["a"]}, "'chunk_shape' must be a list of positive integers"),
        ({"chunk_shape": [True]}, "'chunk_shape' must be a list of positive integers"),
        ({"chunk_shape": "4"}, "'chunk_shape' must be a list of positive integers, got '4'"),
        ({"chunk_shape": [2], "colour": 1}, "unexpected configuration fields \\['colour'\\]"),
        ({"chunk_shape": [2], "index_location": "middle"}, "'index_location' must be one of"),
        ({"chunk_shape": [2], "codecs": "bytes"}, "field 'codecs' must be a list of codecs"),
        ({"chunk_shape": [2], "codecs": 5}, "field 'codecs'"),
        ({"chunk_shape": [2], "codecs": [{"name": "crc32c"}, {"name": "bytes"}]}, "field 'codecs'.*must come after"),
        (
            {"chunk_shape": [2], "codecs": [{"name": "transpose", "configuration": {"order": [0]}}]},
            "field 'codecs'.*exactly one array -> bytes",
        ),
        ({"chunk_shape": [2], "codecs": [{"name": "no-such-codec"}]}, "field 'codecs'.*'no-such-codec'"),
        ({"chunk_shape": [2], "index_codecs": []}, "field 'index_codecs'"),
    ],
)
def test_from_dict_errors(configuration: dict[str, Any], message: str) -> None:
    with pytest.raises(MetadataValidationError, match=message):
        ShardingCodec.from_dict({"name": "sharding_indexed", "configuration": configuration})


def test_from_dict_wrong_name() -> None:
    with pytest.raises(MetadataValidationError, match="must be 'sharding_indexed'"):
        ShardingCodec.from_dict({"name": "bytes", "configuration": {"chunk_shape": [2]}})


def test_validate_errors() -> None:
    codec = ShardingCodec(chunk_shape=(2, 4))
    codec.validate(ChunkSpec((4, 8), np.dtype("<i4"), 0))
    with pytest.raises(MetadataValidationError, match=r"shard shape .* \(4, 6\) must be divisible by .* \(2, 4\)"):
        codec.validate(ChunkSpec((4, 6), np.dtype("<i4"), 0))
    with pytest.raises(MetadataValidationError, match=r"\(2, 4\) has 2 dimensions but the shard shape \(4,\) has 1"):
        codec.validate(ChunkSpec((4,), np.dtype("<i4"), 0))
    with pytest.raises(MetadataValidationError, match="divisible"):
        codec.evolve_from_array_spec(ChunkSpec((3, 8), np.dtype("<i4"), 0))
    with pytest.raises(MetadataValidationError, match="divisible"):
        codec.chunks_per_shard((4, 7))
    bad_index = ShardingCodec(chunk_shape=(2,), index_codecs=(BytesCodec(), ZstdCodec()))
    with pytest.raises(MetadataValidationError, match="'index_codecs' must only hold codecs of fixed encoded size"):
        bad_index.validate(ChunkSpec((4,), np.dtype("<i4"), 0))
    bad_inner = ShardingCodec(chunk_shape=(2, 2), codecs=(TransposeCodec(order=(0, 1, 2)), BytesCodec()))
    with pytest.raises(MetadataValidationError, match="transpose"):
        bad_inner.validate(ChunkSpec((4, 4), np.dtype("<i4"), 0))
    with pytest.raises(MetadataValidationError, match="bytes"):
        ShardingCodec(chunk_shape=(2,)).validate(ChunkSpec((4,), np.dtype(object), None))


def test_evolve_fits_inner_codecs() -> None:
    codec = ShardingCodec(chunk_shape=(2,), codecs=(BytesCodec(),))
    fitted = codec.evolve_from_array_spec(ChunkSpec((4,), np.dtype("u1"), 0))
    assert fitted.codecs == (BytesCodec(endian=None),)
    assert fitted.to_dict()["configuration"]["codecs"] == [{"name": "bytes"}]
    assert fitted.index_codecs == codec.index_codecs  # the index codecs stay as they are
    assert codec.evolve_from_array_spec(ChunkSpec((4,), np.dtype("<i4"), 0)) is codec


def test_pickle_after_use() -> None:
    codec = ShardingCodec(chunk_shape=(2, 3), codecs=(BytesCodec(), ZstdCodec()))
    encoded = codec.encode(_shard_data(), SPEC)
    again = pickle.loads(pickle.dumps(codec))
    assert again == codec
    np.testing.assert_array_equal(again.decode(encoded, SPEC), _shard_data())


# -- the index -----------------------------------------------------------------------------------


def test_index_size_and_byte_requests() -> None:
    end = ShardingCodec(chunk_shape=(2, 3))
    start = ShardingCodec(chunk_shape=(2, 3), index_location="start")
    plain = ShardingCodec(chunk_shape=(2, 3), index_codecs=(BytesCodec(),))
    assert end.chunks_per_shard((8, 6)) == (4, 2)
    assert end.index_nbytes((8, 6)) == 16 * 8 + 4
    assert plain.index_nbytes((8, 6)) == 16 * 8
    assert end.index_byte_request((8, 6)) == SuffixByteRequest(132)
    assert start.index_byte_request((8, 6)) == RangeByteRequest(0, 132)


def test_index_encode_decode() -> None:
    codec = ShardingCodec(chunk_shape=(2, 3))
    index = ShardIndex.from_entries((4, 2), [((0, 0), 0, 24), ((3, 1), 24, 24)])
    encoded = codec.encode_index(index)
    assert len(encoded) == 132
    assert encoded[:16] == (0).to_bytes(8, "little") + (24).to_bytes(8, "little")
    assert encoded[16:32] == b"\xff" * 16
    assert codec.decode_index(encoded, (8, 6)) == index
    assert codec.decode_index(memoryview(encoded), (8, 6)) == index


def test_corrupt_index_raises_checksum_error() -> None:
    codec = ShardingCodec(chunk_shape=(2, 3))
    shard = bytearray(codec.encode(_shard_data(), SPEC))
    shard[-10] ^= 0x01  # a bit of the index
    with pytest.raises(ChecksumError, match=r"shard index is corrupt.*checksum"):
        codec.decode(bytes(shard), SPEC)
    with pytest.raises(ChecksumError, match="shard index is corrupt"):
        codec.decode_index(bytes(shard[-132:]), (8, 6))


def test_corrupt_inner_chunk_with_crc32c_raises_checksum_error() -> None:
    codec = ShardingCodec(chunk_shape=(2, 3), codecs=(BytesCodec(), Crc32cCodec()))
    shard = bytearray(codec.encode(_shard_data(), SPEC))
    shard[0] ^= 0x01  # the first inner chunk
    with pytest.raises(ChecksumError, match="crc32c"):
        codec.decode(bytes(shard), SPEC)


def test_wrong_index_size() -> None:
    codec = ShardingCodec(chunk_shape=(2, 3))
    encoded = codec.encode_index(ShardIndex.empty((4, 2)))
    with pytest.raises(ValueError, match=r"index of a shard of 8 inner chunks \(4, 2\) takes 132 bytes, got 131"):
        codec.decode_index(encoded[1:], (8, 6))
    with pytest.raises(ValueError, match=r"takes 68 bytes, got 132"):
        codec.decode_index(encoded, (4, 6))  # the index of another shard shape
    with pytest.raises(ValueError, match="a shard of 100 bytes is too short to hold its 132-byte index"):
        codec.decode(b"\x00" * 100, SPEC)


def test_index_pointing_outside_the_shard() -> None:
    codec = ShardingCodec(chunk_shape=(2, 3), index_codecs=(BytesCodec(),))
    index = ShardIndex.from_entries((4, 2), [((1, 0), 0, 1000)])
    shard = b"\x00" * 24 + codec.encode_index(index)
    with pytest.raises(ValueError, match=r"inner chunk \(1, 0\) has offset 0 and length 1000.*152 bytes"):
        codec.decode(shard, SPEC)
    half_empty = ShardIndex.from_entries((4, 2), [((0, 1), MAX_UINT64, 24)])
    with pytest.raises(ValueError, match=r"corrupt shard index: inner chunk \(0, 1\)"):
        codec.decode_index(codec.encode_index(half_empty), (8, 6))


# -- shards --------------------------------------------------------------------------------------


@pytest.mark.parametrize("location", ["start", "end"])
def test_encode_decode_layout(location: Any) -> None:
    codec = ShardingCodec(chunk_shape=(2, 3), index_location=location)
    data = _shard_data()
    shard = bytes(codec.encode(data, SPEC))
    index = codec.read_index(shard, (8, 6))
    assert index.get((1, 1)) is None  # the fill-only inner chunk is left out
    assert len(index.nonempty_coords()) == 7
    assert len(shard) == 7 * 24 + 132
    first = 132 if location == "start" else 0
    # Morton order: (0,0) (1,0) (0,1) (1,1) (2,0) ...; (1,1) is missing
    assert index.get((0, 0)) == (first, 24)
    assert index.get((1, 0)) == (first + 24, 24)
    assert index.get((0, 1)) == (first + 48, 24)
    assert index.get((2, 0)) == (first + 72, 24)
    assert shard[first : first + 24] == data[0:2, 0:3].astype("<i4").tobytes()
    np.testing.assert_array_equal(codec.decode(shard, SPEC), data)


def test_encode_all_empty_and_write_empty_chunks() -> None:
    codec = ShardingCodec(chunk_shape=(2, 3))
    zeros = np.zeros((8, 6), dtype="<i4")
    assert codec.encode_or_none(zeros, SPEC) is None
    index_only = bytes(codec.encode(zeros, SPEC))
    assert len(index_only) == codec.index_nbytes((8, 6))
    assert codec.read_index(index_only, (8, 6)).is_all_empty()
    np.testing.assert_array_equal(codec.decode(index_only, SPEC), zeros)
    every = codec.encode_or_none(zeros, SPEC, write_empty_chunks=True)
    assert every is not None and len(every) == 8 * 24 + 132
    # only the inner chunks meeting the array's extent are stored
    edge = codec.encode_or_none(zeros, SPEC, write_empty_chunks=True, valid_shape=(3, 6))
    assert edge is not None
    assert codec.read_index(edge, (8, 6)).nonempty_coords() == ((0, 0), (0, 1), (1, 0), (1, 1))


def test_fill_value_decode_and_order_f() -> None:
    codec = ShardingCodec(chunk_shape=(2, 3))
    spec = ChunkSpec((8, 6), np.dtype("<f8"), np.float64(np.nan), "F")
    data = np.full((8, 6), np.nan)
    data[0:2, 0:3] = 1.5
    shard = bytes(codec.encode(data, spec))
    assert codec.read_index(shard, (8, 6)).nonempty_coords() == ((0, 0),)
    decoded = codec.decode(shard, spec)
    assert decoded.flags.f_contiguous
    np.testing.assert_array_equal(decoded, data)


def test_empty_chunk_mask_semantics() -> None:
    shard = np.zeros((4,), dtype="<f4")
    shard[2] = -0.0
    assert empty_chunk_mask(shard, (2,), 0.0).tolist() == [True, False]  # -0.0 is not the fill 0.0
    assert empty_chunk_mask(shard, (2,), -0.0).tolist() == [False, False]
    nan = np.array([np.nan, np.nan, np.nan, 1.0])
    assert empty_chunk_mask(nan, (2,), np.nan).tolist() == [True, False]
    assert empty_chunk_mask(np.zeros((2, 2), "<i2"), (1, 2), None).tolist() == [[False], [False]]
    words = np.array(["", "", "a", ""], dtype=np.dtypes.StringDType())
    assert empty_chunk_mask(words, (2,), "").tolist() == [True, False]
    dates = np.array(["NaT", "NaT", "2020-01-01", "NaT"], dtype="M8[s]")
    assert empty_chunk_mask(dates, (2,), np.datetime64("NaT", "s")).tolist() == [True, False]


def test_assemble_shard() -> None:
    codec = ShardingCodec(chunk_shape=(2, 3), index_codecs=(BytesCodec(),))
    assert codec.assemble_shard({}, (8, 6)) is None
    assert codec.assemble_shard({(0, 0): None, (1, 0): b""}, (8, 6)) is None
    shard = codec.assemble_shard({(3, 1): b"BB", (0, 1): memoryview(b"AAA"), (1, 0): b""}, (8, 6))
    assert shard is not None
    assert shard[:5] == b"AAABB"  # (0, 1) comes before (3, 1) in Morton order
    index = codec.read_index(shard, (8, 6))
    assert index.get((0, 1)) == (0, 3)
    assert index.get((3, 1)) == (3, 2)
    assert index.get((1, 0)) is None
    lexicographic = codec.assemble_shard({(1, 0): b"X", (0, 1): b"Y"}, (8, 6), order="lexicographic")
    morton = codec.assemble_shard({(1, 0): b"X", (0, 1): b"Y"}, (8, 6))
    assert lexicographic is not None and lexicographic[:2] == b"YX"
    assert morton is not None and morton[:2] == b"XY"
    with pytest.raises(ValueError, match=r"inner chunk \(4, 0\) is outside the shard's chunk grid \(4, 2\)"):
        codec.assemble_shard({(4, 0): b"x"}, (8, 6))
    with pytest.raises(ValueError, match="must have 2 coordinates"):
        codec.assemble_shard({(1,): b"x"}, (8, 6))


def test_compute_encoded_size() -> None:
    assert ShardingCodec(chunk_shape=(2, 3)).compute_encoded_size(8 * 6 * 4, SPEC) == 8 * 24 + 132
    with pytest.raises(ValueError, match="zstd"):
        ShardingCodec(chunk_shape=(2, 3), codecs=(BytesCodec(), ZstdCodec())).compute_encoded_size(192, SPEC)


def test_partial_read_through_a_store() -> None:
    """Fetch the index by its byte request, then one inner chunk by its range, from a real store."""
    data = _shard_data()
    for location in ("start", "end"):
        codec = ShardingCodec(chunk_shape=(2, 3), codecs=(BytesCodec(), ZstdCodec()), index_location=location)  # type: ignore[arg-type]
        store = MemoryStore()
        store.set_sync("c/0/0", bytes(codec.encode(data, SPEC)))
        raw_index = store.get_sync("c/0/0", codec.index_byte_request(SPEC.shape))
        assert raw_index is not None
        index = codec.decode_index(raw_index, SPEC.shape)
        entry = index.get((3, 1))
        assert entry is not None
        chunk_bytes = store.get_sync("c/0/0", RangeByteRequest(entry[0], entry[0] + entry[1]))
        assert chunk_bytes is not None
        chunk = codec.inner_chain(SPEC).decode(chunk_bytes, codec.inner_spec(SPEC))
        np.testing.assert_array_equal(chunk, data[6:8, 3:6])


def test_read_merge_write_with_shard_chunks() -> None:
    codec = ShardingCodec(chunk_shape=(2, 3), codecs=(BytesCodec(), ZstdCodec()))
    data = _shard_data()
    shard = bytes(codec.encode(data, SPEC))
    chunks: dict[tuple[int, ...], Any] = dict(codec.shard_chunks(shard, SPEC.shape))
    assert len(chunks) == 7
    new = np.full((2, 3), 99, dtype="<i4")
    chunks[(1, 1)] = codec.inner_chain(SPEC).encode(new, codec.inner_spec(SPEC))
    del chunks[(0, 0)]
    merged = codec.assemble_shard(chunks, SPEC.shape)
    assert merged is not None
    expected = data.copy()
    expected[2:4, 3:6] = 99
    expected[0:2, 0:3] = 0
    np.testing.assert_array_equal(codec.decode(merged, SPEC), expected)
    assert merged == codec.encode(expected, SPEC)

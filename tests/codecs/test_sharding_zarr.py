"""Byte-exactness of the ``sharding_indexed`` codec against zarr-python 3.

Each case writes an array with zarr-python 3 (``shards=`` or a sharding serializer) into a dict, then
checks, shard by shard, that our decode gives the same data, that our encode gives the identical bytes
(or None where zarr-python stored no shard), and that re-assembling the stored inner chunks gives the
identical bytes. Shards we write are read back by zarr-python itself.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import zarr
import zarr.codecs as zc

from zarrlayered.codecs.abc import BaseCodec, ChunkSpec
from zarrlayered.codecs.blosc import BloscCodec
from zarrlayered.codecs.bytes import BytesCodec
from zarrlayered.codecs.crc32c import Crc32cCodec
from zarrlayered.codecs.gzip import GzipCodec
from zarrlayered.codecs.registry import parse_codec_v3
from zarrlayered.codecs.sharding import ShardingCodec
from zarrlayered.codecs.transpose import TransposeCodec
from zarrlayered.codecs.vlen import VLenUTF8Codec
from zarrlayered.codecs.zstd import ZstdCodec


@dataclass(frozen=True)
class Case:
    dtype: Any
    shape: tuple[int, ...]
    shard_shape: tuple[int, ...]
    zarr_kwargs: dict[str, Any]
    ours: ShardingCodec  # built from the same arguments, before fitting to the array
    fill: Any = 0
    write_empty_chunks: bool = False
    # regions set to the fill value after generating the data, so that inner chunks go missing
    blanks: tuple[tuple[slice, ...], ...] = field(default=())


def _s(*items: slice) -> tuple[slice, ...]:
    return items


CASES: dict[str, Case] = {
    "end-bytes-i2-edge": Case(
        "<i2",
        (13, 9),
        (8, 6),
        {"chunks": (2, 3), "shards": (8, 6), "compressors": None},
        ShardingCodec(chunk_shape=(2, 3), codecs=(BytesCodec(),)),
        blanks=(_s(slice(0, 2), slice(0, 3)), _s(slice(8, 10), slice(None))),
    ),
    "start-bytes-i2-edge": Case(
        "<i2",
        (13, 9),
        (8, 6),
        {"chunks": (2, 3), "shards": {"shape": (8, 6), "index_location": "start"}, "compressors": None},
        ShardingCodec(chunk_shape=(2, 3), codecs=(BytesCodec(),), index_location="start"),
        blanks=(_s(slice(2, 4), slice(3, 6)), _s(slice(8, 10), slice(None))),
    ),
    "transpose-zstd-f4-3d": Case(
        "<f4",
        (10, 12, 5),
        (6, 12, 5),
        {
            "chunks": (2, 3, 5),
            "shards": (6, 12, 5),
            "filters": [zc.TransposeCodec(order=(2, 0, 1))],
            "compressors": zc.ZstdCodec(level=3),
        },
        ShardingCodec(
            chunk_shape=(2, 3, 5), codecs=(TransposeCodec(order=(2, 0, 1)), BytesCodec(), ZstdCodec(level=3))
        ),
        fill=0.0,
        # a chunk of -0.0 is not the fill value 0.0 for zarr-python: it is stored
        blanks=(_s(slice(0, 2), slice(0, 3), slice(None)), _s(slice(6, 8), slice(3, 6), slice(None))),
    ),
    "gzip-u2-start": Case(
        "<u2",
        (9, 20),
        (4, 8),
        {
            "chunks": (2, 4),
            "shards": {"shape": (4, 8), "index_location": "start"},
            "compressors": zc.GzipCodec(level=1),
        },
        ShardingCodec(chunk_shape=(2, 4), codecs=(BytesCodec(), GzipCodec(level=1)), index_location="start"),
        blanks=(_s(slice(0, 4), slice(4, 12)),),
    ),
    "blosc-u1": Case(
        "u1",
        (20, 20),
        (10, 10),
        {"chunks": (5, 5), "shards": (10, 10), "compressors": zc.BloscCodec()},
        ShardingCodec(chunk_shape=(5, 5), codecs=(BytesCodec(), BloscCodec())),
        blanks=(_s(slice(5, 10), slice(0, 5)),),
    ),
    "crc32c-nan-fill": Case(
        "<f8",
        (12,),
        (8,),
        {"chunks": (2,), "shards": (8,), "compressors": zc.Crc32cCodec(), "fill_value": float("nan")},
        ShardingCodec(chunk_shape=(2,), codecs=(BytesCodec(), Crc32cCodec())),
        fill=float("nan"),
        blanks=(_s(slice(2, 4)), _s(slice(10, 12))),
    ),
    "write-empty-chunks-edge": Case(
        "<i4",
        (7, 5),
        (4, 4),
        {"chunks": (2, 2), "shards": (4, 4), "compressors": None},
        ShardingCodec(chunk_shape=(2, 2), codecs=(BytesCodec(),)),
        write_empty_chunks=True,
        blanks=(_s(slice(0, 2), slice(0, 2)),),
    ),
    "morton-gaps-big-endian-index": Case(
        "<u4",
        (10, 9),
        (10, 9),
        {
            "chunks": (10, 9),
            "serializer": zc.ShardingCodec(chunk_shape=(2, 3), index_codecs=[zc.BytesCodec(endian="big")]),
            "compressors": None,
        },
        ShardingCodec(chunk_shape=(2, 3), index_codecs=(BytesCodec(endian="big"),)),
        blanks=(_s(slice(4, 6), slice(3, 6)),),
    ),
    "nested": Case(
        "<u2",
        (11, 13),
        (8, 8),
        {"chunks": (4, 4), "shards": (8, 8), "serializer": zc.ShardingCodec(chunk_shape=(2, 2)), "compressors": None},
        ShardingCodec(chunk_shape=(4, 4), codecs=(ShardingCodec(chunk_shape=(2, 2)),)),
        blanks=(_s(slice(0, 4), slice(0, 4)), _s(slice(4, 6), slice(4, 6))),
    ),
    "nested-write-empty-edge": Case(
        "<u2",
        (11, 13),
        (8, 8),
        {"chunks": (4, 4), "shards": (8, 8), "serializer": zc.ShardingCodec(chunk_shape=(2, 2)), "compressors": None},
        ShardingCodec(chunk_shape=(4, 4), codecs=(ShardingCodec(chunk_shape=(2, 2)),)),
        write_empty_chunks=True,
        blanks=(_s(slice(0, 4), slice(0, 4)),),
    ),
    "nested-start-write-empty": Case(
        "<u2",
        (11, 13),
        (8, 8),
        {
            "chunks": (4, 4),
            "shards": {"shape": (8, 8), "index_location": "start"},
            "serializer": zc.ShardingCodec(chunk_shape=(2, 2), index_location="start"),
            "compressors": zc.ZstdCodec(level=1),
        },
        ShardingCodec(
            chunk_shape=(4, 4),
            codecs=(ShardingCodec(chunk_shape=(2, 2), index_location="start"), ZstdCodec(level=1)),
            index_location="start",
        ),
        write_empty_chunks=True,
        blanks=(_s(slice(0, 4), slice(0, 4)),),
    ),
    "vlen-utf8": Case(
        np.dtypes.StringDType(),
        (10,),
        (4,),
        {"chunks": (2,), "shards": (4,)},
        ShardingCodec(chunk_shape=(2,), codecs=(VLenUTF8Codec(), ZstdCodec(level=0))),
        fill="",
        blanks=(_s(slice(4, 6)),),
    ),
}


def _data(case: Case) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(7)
    n = int(np.prod(case.shape))
    dtype = np.dtype(case.dtype)
    if dtype.kind == "T":
        words = np.array(["a", "bé", "日本語", "longer string " * 3, "z"], dtype=dtype)
        data = words[rng.integers(0, len(words), n)].reshape(case.shape)
    else:
        data = rng.integers(1, 200, n).astype(dtype).reshape(case.shape)  # never the fill value
    for region in case.blanks:
        data[region] = case.fill
    if dtype.kind == "f" and case.fill == 0:
        data[tuple(slice(0, 2) for _ in case.shape)] = -0.0
    return data


def _write_zarr(case: Case) -> tuple[dict[str, Any], np.ndarray[Any, Any]]:
    store: dict[str, Any] = {}
    dtype = str if np.dtype(case.dtype).kind == "T" else case.dtype
    kwargs = {"fill_value": case.fill, **case.zarr_kwargs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zarr-python warns about vlen codecs
        array = zarr.create_array(
            store=store,
            shape=case.shape,
            dtype=dtype,
            config={"write_empty_chunks": case.write_empty_chunks},
            **kwargs,
        )
        data = _data(case)
        array[...] = data
    return store, data


def _shards(case: Case, data: np.ndarray[Any, Any]) -> list[tuple[str, np.ndarray[Any, Any], tuple[int, ...]]]:
    """(key, padded shard data, extent inside the array) of every shard of the array."""
    grid = tuple(-(-s // c) for s, c in zip(case.shape, case.shard_shape, strict=True))
    out = []
    for coords in np.ndindex(*grid):
        origin = tuple(i * c for i, c in zip(coords, case.shard_shape, strict=True))
        part = data[tuple(slice(o, o + c) for o, c in zip(origin, case.shard_shape, strict=True))]
        padded = np.full(case.shard_shape, case.fill, dtype=data.dtype)
        padded[tuple(slice(0, n) for n in part.shape)] = part
        out.append(("c/" + "/".join(map(str, coords)), padded, part.shape))
    return out


def _equal(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> bool:
    if a.dtype.kind in "fc":
        return a.shape == b.shape and bool(np.array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}")))
    return a.shape == b.shape and a.tolist() == b.tolist()


def _same_chunk(ours: bytes, theirs: bytes) -> bool:
    """Equal, but for the MTIME field of gzip streams (numcodecs writes the current time)."""
    if ours[:3] == theirs[:3] == b"\x1f\x8b\x08" and len(ours) == len(theirs):
        return ours[:4] + ours[8:] == theirs[:4] + theirs[8:]
    return ours == theirs


def _same_shard(codec: ShardingCodec, ours: bytes, theirs: bytes, shard_shape: tuple[int, ...]) -> bool:
    if ours == theirs:
        return True
    if len(ours) != len(theirs) or codec.read_index(ours, shard_shape) != codec.read_index(theirs, shard_shape):
        return False
    mine, other = codec.shard_chunks(ours, shard_shape), codec.shard_chunks(theirs, shard_shape)
    return all(_same_chunk(bytes(mine[k]), bytes(other[k])) for k in mine)


def _fitted(codec: BaseCodec, case: Case, data: np.ndarray[Any, Any]) -> tuple[ShardingCodec, ChunkSpec]:
    spec = ChunkSpec(case.shard_shape, data.dtype, case.fill)
    assert isinstance(codec, ShardingCodec)
    fitted = codec.evolve_from_array_spec(spec)
    fitted.validate(spec)
    return fitted, spec


@pytest.mark.parametrize("name", sorted(CASES))
def test_json_matches_zarr_python(name: str) -> None:
    case = CASES[name]
    store, data = _write_zarr(case)
    stored = json.loads(store["zarr.json"].to_bytes())["codecs"]
    assert len(stored) == 1
    # as metadata parsing does: read the codec, then fit it to the array's data type
    read, _ = _fitted(parse_codec_v3(stored[0]), case, data)
    assert read.to_dict() == stored[0]
    assert _fitted(ShardingCodec.from_dict(json.loads(json.dumps(read.to_dict()))), case, data)[0] == read
    built, _ = _fitted(case.ours, case, data)
    assert built.to_dict() == stored[0]
    assert built == read


@pytest.mark.parametrize("name", sorted(CASES))
def test_shards_match_zarr_python(name: str) -> None:
    case = CASES[name]
    store, data = _write_zarr(case)
    codec, spec = _fitted(parse_codec_v3(json.loads(store["zarr.json"].to_bytes())["codecs"][0]), case, data)
    stored_shards = 0
    missing_inner = 0
    for key, expected, valid in _shards(case, data):
        ours = codec.encode_or_none(expected, spec, case.write_empty_chunks, valid_shape=valid)
        if key not in store:
            assert ours is None, key
            continue
        stored_shards += 1
        theirs = store[key].to_bytes()
        assert ours is not None, key
        assert _same_shard(codec, ours, theirs, spec.shape), key
        decoded = codec.decode(theirs, spec)
        assert decoded.dtype == spec.dtype
        assert _equal(decoded, expected), key
        # the stored inner chunks, re-assembled, give the same shard
        assert codec.assemble_shard(codec.shard_chunks(theirs, spec.shape), spec.shape) == theirs
        index = codec.read_index(theirs, spec.shape)
        missing_inner += int(np.prod(index.chunks_per_shard)) - len(index.nonempty_coords())
    assert stored_shards > 0
    # every case leaves out some inner chunks (fill-only ones, or ones outside the array)
    assert missing_inner > 0


@pytest.mark.parametrize("name", ["start-bytes-i2-edge", "transpose-zstd-f4-3d", "nested", "vlen-utf8"])
@pytest.mark.parametrize("order", ["morton", "lexicographic"])
def test_zarr_python_reads_our_shards(name: str, order: Any) -> None:
    case = CASES[name]
    theirs, data = _write_zarr(case)
    document = json.loads(theirs["zarr.json"].to_bytes())
    codec, spec = _fitted(case.ours, case, data)
    document["codecs"] = [codec.to_dict()]  # our own metadata for the codec
    store: dict[str, Any] = {"zarr.json": zarr.core.buffer.cpu.Buffer.from_bytes(json.dumps(document).encode())}
    written = 0
    for key, expected, valid in _shards(case, data):
        encoded = codec.encode_or_none(expected, spec, case.write_empty_chunks, valid_shape=valid, order=order)
        if encoded is not None:
            store[key] = zarr.core.buffer.cpu.Buffer.from_bytes(encoded)
            written += 1
    assert written > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = zarr.open_array(store, mode="r")[...]
    assert _equal(np.asarray(got, dtype=data.dtype), data)


def test_inner_chunk_read_by_index_alone_matches_zarr_python() -> None:
    """The engine's partial-read path: fetch the index by its byte request, then one inner chunk."""
    case = CASES["transpose-zstd-f4-3d"]
    store, data = _write_zarr(case)
    codec, spec = _fitted(parse_codec_v3(json.loads(store["zarr.json"].to_bytes())["codecs"][0]), case, data)
    shard = store["c/1/0/0"].to_bytes()
    request = codec.index_byte_request(spec.shape)
    assert request.suffix == codec.index_nbytes(spec.shape) == 16 * 3 * 4 * 1 + 4  # type: ignore[union-attr]
    index = codec.decode_index(shard[-request.suffix :], spec.shape)  # type: ignore[union-attr]
    entry = index.get((1, 2, 0))
    assert entry is not None
    offset, length = entry
    inner = codec.inner_chain(spec).decode(shard[offset : offset + length], codec.inner_spec(spec))
    assert _equal(inner, data[8:10, 6:9, 0:5])

"""The ``sharding_indexed`` codec against tensorstore's zarr3 driver, through real files on disk.

tensorstore lays the inner chunks of a shard out in lexicographic order (zarr-python 3 uses Morton
order); with ``order="lexicographic"`` our shards are byte-identical to tensorstore's. Shards we write
in zarr-python's layout are read by tensorstore.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tensorstore as ts

from zarrlayered.codecs.abc import ChunkSpec
from zarrlayered.codecs.registry import parse_codec_v3
from zarrlayered.codecs.sharding import ShardingCodec
from zarrlayered.codecs.sharding_index import morton_order

_LE = {"name": "bytes", "configuration": {"endian": "little"}}
_INDEX = [_LE, {"name": "crc32c"}]


def _sharding(chunk_shape: list[int], codecs: list[Any], location: str = "end") -> dict[str, Any]:
    return {
        "name": "sharding_indexed",
        "configuration": {
            "chunk_shape": chunk_shape,
            "codecs": codecs,
            "index_codecs": _INDEX,
            "index_location": location,
        },
    }


# id: (data type, shape, shard shape, sharding codec JSON, fill value, regions set to the fill value)
CASES: dict[str, tuple[str, tuple[int, ...], tuple[int, ...], dict[str, Any], Any, list[tuple[slice, ...]]]] = {
    "start-zstd-edge": (
        "int16",
        (13, 9),
        (8, 6),
        _sharding([2, 3], [_LE, {"name": "zstd", "configuration": {"level": 3, "checksum": False}}], "start"),
        0,
        [(slice(0, 2), slice(0, 3)), (slice(8, 10), slice(None))],
    ),
    "end-transpose-crc32c-3d": (
        "float32",
        (6, 10, 4),
        (6, 10, 4),
        _sharding([2, 5, 2], [{"name": "transpose", "configuration": {"order": [2, 1, 0]}}, _LE, {"name": "crc32c"}]),
        1.5,
        [(slice(2, 4), slice(0, 5), slice(0, 2))],
    ),
    "uint8-blosc-lz4": (
        "uint8",
        (20, 11),
        (10, 11),
        _sharding(
            [5, 11],
            [
                {"name": "bytes"},
                {
                    "name": "blosc",
                    "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle", "typesize": 1, "blocksize": 0},
                },
            ],
        ),
        0,
        [(slice(5, 10), slice(None))],
    ),
    "nested": (
        "uint16",
        (11, 13),
        (8, 8),
        _sharding([4, 4], [_sharding([2, 2], [_LE])]),
        7,
        [(slice(0, 4), slice(0, 4)), (slice(4, 6), slice(4, 6))],
    ),
}


def _data(dtype: str, shape: tuple[int, ...], fill: Any, blanks: list[tuple[slice, ...]]) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(3)
    data = rng.integers(10, 200, shape).astype(dtype)
    for region in blanks:
        data[region] = fill
    return data


def _metadata(dtype: str, shape: tuple[int, ...], shard_shape: tuple[int, ...], codec: dict[str, Any], fill: Any):
    return {
        "zarr_format": 3,
        "node_type": "array",
        "shape": list(shape),
        "data_type": dtype,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(shard_shape)}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill,
        "codecs": [codec],
    }


def _shards(data: np.ndarray[Any, Any], shard_shape: tuple[int, ...], fill: Any):
    """(key, padded shard data, extent inside the array) of every shard of ``data``."""
    grid = tuple(-(-s // c) for s, c in zip(data.shape, shard_shape, strict=True))
    for coords in np.ndindex(*grid):
        origin = tuple(i * c for i, c in zip(coords, shard_shape, strict=True))
        part = data[tuple(slice(o, o + c) for o, c in zip(origin, shard_shape, strict=True))]
        padded = np.full(shard_shape, fill, dtype=data.dtype)
        padded[tuple(slice(0, n) for n in part.shape)] = part
        yield "c/" + "/".join(map(str, coords)), padded, part.shape


def _codec(document: dict[str, Any], spec: ChunkSpec) -> ShardingCodec:
    codec = parse_codec_v3(document["codecs"][0])
    assert isinstance(codec, ShardingCodec)
    fitted = codec.evolve_from_array_spec(spec)
    fitted.validate(spec)
    return fitted


@pytest.mark.parametrize("name", sorted(CASES))
def test_tensorstore_shards_decode_and_reencode_identically(name: str, tmp_path: Path) -> None:
    dtype, shape, shard_shape, codec_json, fill, blanks = CASES[name]
    data = _data(dtype, shape, fill, blanks)
    path = tmp_path / "a"
    store = ts.open(
        {
            "driver": "zarr3",
            "kvstore": {"driver": "file", "path": str(path)},
            "metadata": _metadata(dtype, shape, shard_shape, codec_json, fill),
            "create": True,
        }
    ).result()
    store[...] = data
    document = json.loads((path / "zarr.json").read_text())
    spec = ChunkSpec(shard_shape, np.dtype(dtype), np.dtype(dtype).type(fill))
    codec = _codec(document, spec)
    assert codec.to_dict()["configuration"]["chunk_shape"] == codec_json["configuration"]["chunk_shape"]
    stored = layouts_differ = 0
    for key, expected, valid in _shards(data, shard_shape, fill):
        ours = codec.encode_or_none(expected, spec, valid_shape=valid, order="lexicographic")
        file = path / key
        if not file.exists():
            assert ours is None, key
            continue
        stored += 1
        theirs = file.read_bytes()
        decoded = codec.decode(theirs, spec)
        np.testing.assert_array_equal(decoded, expected)
        assert ours == theirs, key
        chunks = codec.shard_chunks(theirs, shard_shape)
        assert codec.assemble_shard(chunks, shard_shape, order="lexicographic") == theirs
        # zarr-python's Morton layout: other bytes when the orders differ, same content
        morton = codec.assemble_shard(chunks, shard_shape)
        assert morton is not None
        in_morton_order = [c for c in morton_order(codec.chunks_per_shard(shard_shape)) if c in chunks]
        assert (morton == theirs) == (in_morton_order == sorted(chunks))
        np.testing.assert_array_equal(codec.decode(morton, spec), expected)
        layouts_differ += in_morton_order != sorted(chunks)
    assert stored > 0
    if name != "uint8-blosc-lz4":  # one inner chunk per row of shards: both orders agree
        assert layouts_differ > 0


@pytest.mark.parametrize("name", sorted(CASES))
def test_tensorstore_reads_our_shards(name: str, tmp_path: Path) -> None:
    dtype, shape, shard_shape, codec_json, fill, blanks = CASES[name]
    data = _data(dtype, shape, fill, blanks)
    spec = ChunkSpec(shard_shape, np.dtype(dtype), np.dtype(dtype).type(fill))
    codec = ShardingCodec.from_dict(codec_json).evolve_from_array_spec(spec)
    path = tmp_path / "ours"
    path.mkdir()
    document = _metadata(dtype, shape, shard_shape, codec.to_dict(), fill)
    (path / "zarr.json").write_text(json.dumps(document))
    written = 0
    for key, expected, valid in _shards(data, shard_shape, fill):
        encoded = codec.encode_or_none(expected, spec, valid_shape=valid)  # zarr-python's layout
        if encoded is not None:
            (path / key).parent.mkdir(parents=True, exist_ok=True)
            (path / key).write_bytes(encoded)
            written += 1
    assert written > 0
    store = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(path)}, "open": True}).result()
    np.testing.assert_array_equal(store.read().result(), data)
    # one region through tensorstore's own partial reads of our shard index
    np.testing.assert_array_equal(store[1:4, 2:5].read().result(), data[1:4, 2:5])

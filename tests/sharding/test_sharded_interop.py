"""Sharded arrays across implementations, through real files and the public API.

zarr-python 3 and tensorstore write sharded arrays (index at the start and at the end, a transpose codec
inside the shard, compressors and checksums, partial edge shards, missing inner chunks and shards) and we
read them exactly, with every selection kind, through partial reads; arrays we write (and foreign arrays
we update in part) are read exactly by them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tensorstore as ts
import zarr
import zarr.codecs as zc

import zarrlayered
from zarrlayered.stores import LocalStore, LoggingStore


@dataclass(frozen=True)
class Case:
    dtype: str
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    shards: tuple[int, ...]
    location: str = "end"
    transpose: tuple[int, ...] | None = None
    compressors: str = "zstd"  # zstd | gzip+crc32c | none
    fill: Any = 0
    #: regions left at the fill value (so inner chunks, and whole shards, go missing)
    blanks: tuple[tuple[slice, ...], ...] = ()


CASES: dict[str, Case] = {
    "end-zstd-edge": Case("int32", (100, 70), (8, 10), (32, 20), blanks=((slice(0, 40), slice(0, 20)),)),
    "start-zstd-edge": Case("uint16", (45, 33), (5, 4), (15, 12), location="start", fill=7),
    "start-transpose-3d": Case(
        "float32", (13, 9, 10), (2, 3, 5), (8, 6, 10), location="start", transpose=(2, 0, 1), fill=1.5
    ),
    "end-transpose-gzip-crc32c": Case(
        "float64",
        (30, 21),
        (6, 7),
        (12, 14),
        transpose=(1, 0),
        compressors="gzip+crc32c",
        fill=np.nan,
        blanks=((slice(6, 12), slice(None)), (slice(24, 30), slice(14, 21))),
    ),
    "end-bytes-only-1d": Case("int64", (1000,), (16,), (128,), compressors="none", fill=-1),
}


def _data(case: Case) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(len(case.shape) * 100 + case.shape[0])
    data = (rng.random(case.shape) * 1000).astype(case.dtype)
    for region in case.blanks:
        data[region] = case.fill
    return data


# -- writers ---------------------------------------------------------------------------------------


def _zarr_python_kwargs(case: Case) -> dict[str, Any]:
    compressors: Any = {
        "zstd": [zc.ZstdCodec(level=3)],
        "gzip+crc32c": [zc.GzipCodec(level=1), zc.Crc32cCodec()],
        "none": None,
    }[case.compressors]
    filters: Any = [zc.TransposeCodec(order=case.transpose)] if case.transpose else None
    return {
        "shape": case.shape,
        "dtype": case.dtype,
        "chunks": case.chunks,
        "shards": {"shape": case.shards, "index_location": case.location},
        "filters": filters,
        "compressors": compressors,
        "fill_value": case.fill,
    }


def _ours_kwargs(case: Case) -> dict[str, Any]:
    compressors: Any = {
        "zstd": [{"name": "zstd", "configuration": {"level": 3, "checksum": False}}],
        "gzip+crc32c": [{"name": "gzip", "configuration": {"level": 1}}, {"name": "crc32c"}],
        "none": None,
    }[case.compressors]
    filters: Any = (
        [{"name": "transpose", "configuration": {"order": list(case.transpose)}}] if case.transpose else None
    )
    return {
        "shape": case.shape,
        "dtype": case.dtype,
        "chunks": case.chunks,
        "shards": {"shape": case.shards, "index_location": case.location},
        "filters": filters,
        "compressors": compressors,
        "fill_value": case.fill,
    }


def _tensorstore_spec(case: Case, path: Path) -> dict[str, Any]:
    inner: list[dict[str, Any]] = []
    if case.transpose:
        inner.append({"name": "transpose", "configuration": {"order": list(case.transpose)}})
    inner.append({"name": "bytes", "configuration": {"endian": "little"}})
    inner += {
        "zstd": [{"name": "zstd", "configuration": {"level": 3, "checksum": False}}],
        "gzip+crc32c": [{"name": "gzip", "configuration": {"level": 1}}, {"name": "crc32c"}],
        "none": [],
    }[case.compressors]
    sharding = {
        "name": "sharding_indexed",
        "configuration": {
            "chunk_shape": list(case.chunks),
            "codecs": inner,
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
            "index_location": case.location,
        },
    }
    fill = None if isinstance(case.fill, float) and np.isnan(case.fill) else case.fill
    return {
        "driver": "zarr3",
        "kvstore": {"driver": "file", "path": str(path)},
        "metadata": {
            "shape": list(case.shape),
            "data_type": case.dtype,
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(case.shards)}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": "NaN" if fill is None else fill,
            "codecs": [sharding],
        },
    }


def _write_zarr_python(case: Case, path: Path, data: np.ndarray[Any, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.create_array(str(path), **_zarr_python_kwargs(case))[...] = data


def _write_tensorstore(case: Case, path: Path, data: np.ndarray[Any, Any]) -> None:
    ts.open(_tensorstore_spec(case, path), create=True).result().write(data).result()


def _write_ours(case: Case, path: Path, data: np.ndarray[Any, Any]) -> None:
    zarrlayered.create_array(str(path), **_ours_kwargs(case))[...] = data


def _read_zarr_python(path: Path) -> np.ndarray[Any, Any]:
    return np.asarray(zarr.open_array(str(path), mode="r")[...])


def _read_tensorstore(path: Path) -> np.ndarray[Any, Any]:
    spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": str(path)}}
    return np.asarray(ts.open(spec, open=True).result().read().result())


WRITERS: dict[str, Callable[[Case, Path, np.ndarray[Any, Any]], None]] = {
    "zarr-python": _write_zarr_python,
    "tensorstore": _write_tensorstore,
}
READERS: dict[str, Callable[[Path], np.ndarray[Any, Any]]] = {
    "zarr-python": _read_zarr_python,
    "tensorstore": _read_tensorstore,
}


# -- selections ------------------------------------------------------------------------------------


def _selections(shape: tuple[int, ...], rng: np.random.Generator) -> Iterator[tuple[str, Any, Any]]:
    """(kind, selection, numpy equivalent applied to the data) for every selection kind."""
    ndim = len(shape)
    yield "getitem", (), lambda d: d[()]
    for step in (3, -2):
        strided = tuple(slice(None, None, step) for _ in shape)
        yield "getitem", strided, lambda d, strided=strided: d[strided]
    point = tuple(int(rng.integers(0, n)) for n in shape)
    yield "getitem", point, lambda d: d[point]
    edge = tuple(n - 1 for n in shape)
    yield "getitem", edge, lambda d: d[edge]
    lists = tuple(rng.integers(0, n, 4) for n in shape)  # unsorted, maybe repeated
    yield "orthogonal", lists, lambda d: d[np.ix_(*lists)]
    points = tuple(rng.integers(0, n, 25) for n in shape)
    yield "vindex", points, lambda d: d[points]
    mesh = np.ix_(*(rng.integers(0, n, 3) for n in shape))
    yield "vindex", mesh, lambda d: d[mesh]
    mask = rng.random(shape) < 0.05
    yield "mask", mask, lambda d: d[mask]
    if ndim > 1:
        mixed = (rng.integers(0, shape[0], 5), *(slice(None, None, 2) for _ in shape[1:]))
        yield "orthogonal", mixed, lambda d: d[mixed[0]][:, *(slice(None, None, 2) for _ in shape[1:])]


def _check_every_kind(arr: zarrlayered.Array, expected: np.ndarray[Any, Any]) -> None:
    engine = arr.async_array
    for kind, selection, numpy_read in _selections(expected.shape, np.random.default_rng(7)):
        want = numpy_read(expected)
        np.testing.assert_array_equal(engine.get_selection_sync(selection, kind), want, err_msg=f"{kind} {selection}")
        got = zarrlayered.core.sync.sync(engine.get_selection(selection, kind))
        np.testing.assert_array_equal(got, want, err_msg=f"async {kind} {selection}")


# -- tests -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize("name", sorted(CASES))
def test_we_read_foreign_sharded_arrays_exactly(name: str, writer: str, tmp_path: Path) -> None:
    case = CASES[name]
    data = _data(case)
    WRITERS[writer](case, tmp_path, data)
    store = LoggingStore(LocalStore(tmp_path, read_only=True))
    arr = zarrlayered.open_array(store, mode="r")
    assert arr.chunks == case.chunks and arr.shards == case.shards
    np.testing.assert_array_equal(arr[...], data)
    _check_every_kind(arr, data)
    # one element: the shard's index and at most one inner chunk, never a whole shard
    index_nbytes = 16 * int(np.prod([s // c for s, c in zip(case.shards, case.chunks, strict=True)])) + 4
    inner_nbytes = int(np.prod(case.chunks)) * data.dtype.itemsize
    for where in [tuple(n - 1 for n in case.shape), tuple(n // 2 for n in case.shape)]:
        store.reset_counts()
        np.testing.assert_array_equal(arr[where], data[where])
        if store.bytes_read == 0:  # a shard that is not stored: one request, for its index
            assert store.counter == {"get": 1}
        else:
            assert 1 <= store.counter["get"] <= 2
            assert index_nbytes <= store.bytes_read <= index_nbytes + inner_nbytes + 64


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("name", sorted(CASES))
def test_foreign_implementations_read_our_sharded_arrays_exactly(name: str, reader: str, tmp_path: Path) -> None:
    case = CASES[name]
    data = _data(case)
    _write_ours(case, tmp_path, data)
    np.testing.assert_array_equal(READERS[reader](tmp_path), data)


@pytest.mark.parametrize("name", sorted(CASES))
def test_our_shards_are_byte_identical_to_zarr_pythons(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    data = _data(case)
    _write_ours(case, tmp_path / "ours", data)
    _write_zarr_python(case, tmp_path / "theirs", data)

    def shards(root: Path) -> dict[Path, bytes]:
        return {p.relative_to(root): p.read_bytes() for p in (root / "c").rglob("*") if p.is_file()}

    ours, theirs = shards(tmp_path / "ours"), shards(tmp_path / "theirs")
    assert ours and ours.keys() == theirs.keys()
    assert all(ours[k] == theirs[k] for k in ours)


@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize("name", ["end-zstd-edge", "start-transpose-3d", "end-transpose-gzip-crc32c"])
def test_partial_updates_of_foreign_shards_are_read_exactly_by_their_writer(
    name: str, writer: str, tmp_path: Path
) -> None:
    case = CASES[name]
    data = _data(case)
    WRITERS[writer](case, tmp_path, data)
    arr = zarrlayered.open_array(str(tmp_path), mode="r+")
    rng = np.random.default_rng(11)
    # a point, a block across shard boundaries, an orthogonal and a coordinate update, the far edge
    point = tuple(int(rng.integers(0, n)) for n in case.shape)
    arr[point] = 3
    data[point] = 3
    region = tuple(slice(max(0, s // 2 - 3), s // 2 + 4) for s in case.shape)
    arr[region] = 5
    data[region] = 5
    lists = tuple(np.unique(rng.integers(0, n, 3)) for n in case.shape)
    arr.oindex[lists] = 9
    data[np.ix_(*lists)] = 9
    points = tuple(rng.integers(0, n, 6) for n in case.shape)
    values = np.arange(6).astype(case.dtype)
    arr.vindex[points] = values
    data[points] = values
    edge = tuple(slice(n - 2, n) for n in case.shape)
    arr[edge] = case.fill
    data[edge] = case.fill
    np.testing.assert_array_equal(READERS[writer](tmp_path), data)
    np.testing.assert_array_equal(arr[...], data)

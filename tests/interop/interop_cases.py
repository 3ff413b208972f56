"""The interop matrix: data types, codecs and layouts, with the writers and readers that run them.

A :class:`Case` is one ``create_array(...)`` call (the same keyword arguments for zarrlayered and zarr-python 3)
plus the values written. Writers and readers work on a local directory: zarrlayered, zarr-python 3 and
tensorstore (``zarr`` driver for V2, ``zarr3`` for V3). tensorstore creates its arrays from the metadata
document zarr-python 3 makes for the same call and then writes its own document and chunks.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import pytest
import tensorstore as ts
import zarr
from zarr.dtype import VariableLengthBytes

import zarrlayered

SHAPE = (5, 7)
CHUNKS = (2, 3)  # edge chunks on both axes
STRUCTURED = [("a", "<i4"), ("b", "<f8", (2,)), ("c", "S3")]
STRUCTURED_FLAT = [("a", "<i4"), ("b", "<f8"), ("c", "S3")]


# -- values -------------------------------------------------------------------------------------------


def _strings(n: int) -> list[str]:
    words = ["", "a", "héllo", "日本語", "x" * 40, "tab\tnew\nline", "zero\x00inside", "ß"]
    return [words[i % len(words)] + (str(i) if i % 3 else "") for i in range(n)]


def _bytes(n: int) -> list[bytes]:
    words = [b"", b"\x00", b"abc", bytes(range(256)), b"\xff\xfe", b"trailing\x00\x00"]
    return [words[i % len(words)] + (str(i).encode() if i % 2 else b"") for i in range(n)]


def values(dtype: str, shape: tuple[int, ...]) -> np.ndarray[Any, Any]:
    """Deterministic values of the data type ``dtype`` (a key of :data:`DTYPES`), with edge values."""
    n = int(np.prod(shape))
    rng = np.random.default_rng(sum(map(ord, dtype)))
    out: np.ndarray[Any, Any]
    if n == 0:
        out = np.zeros(0, dtype=object if dtype in ("string", "bytes", "json", "msgpack") else DTYPES[dtype].create)
    elif dtype == "bool":
        out = rng.random(n) > 0.5
    elif dtype in ("string", "vlen-str"):
        out = np.array(_strings(n), dtype=object)
    elif dtype in ("bytes", "vlen-bytes"):
        out = np.array(_bytes(n), dtype=object)
    elif dtype == "json":
        items: list[Any] = [{"a": 1}, [1, 2], "s", 1.5, None, {"nested": {"x": [True, False]}}]
        out = np.empty(n, dtype=object)
        for i in range(n):
            out[i] = items[i % len(items)]
    elif dtype == "msgpack":
        items = [[1, 2], "s", 1.5, None, b"raw", {"k": "v"}]
        out = np.empty(n, dtype=object)
        for i in range(n):
            out[i] = items[i % len(items)]
    elif dtype == "S5":
        out = np.array([[b"", b"ab", b"abcde", b"\x00x", b"\xff"][i % 5] for i in range(n)], dtype="S5")
    elif dtype == "U5":
        out = np.array([["", "ab", "héllo", "日本", "z"][i % 5] for i in range(n)], dtype="<U5")
    elif dtype.startswith(("M8", "m8")):
        out = (rng.integers(-(10**12), 10**12, n)).astype("<i8").view("<" + dtype)
        out[min(1, n - 1)] = np.datetime64("NaT") if dtype.startswith("M") else np.timedelta64("NaT")
    elif dtype in ("structured", "structured-flat"):
        fields = STRUCTURED if dtype == "structured" else STRUCTURED_FLAT
        out = np.zeros(n, dtype=fields)
        out["a"] = rng.integers(-1000, 1000, n)
        out["b"] = rng.standard_normal(out["b"].shape)
        out["c"] = [[b"", b"x", b"abc"][i % 3] for i in range(n)]
    else:
        np_dtype = np.dtype(dtype)
        if np_dtype.kind in "iu":
            info = np.iinfo(np_dtype)
            out = rng.integers(info.min, info.max, n, dtype=np_dtype.newbyteorder("="), endpoint=True)
            out[0], out[-1] = info.min, info.max
        elif np_dtype.kind == "f":
            out = (rng.standard_normal(n) * 100).astype(np_dtype)
            out[: min(n, 3)] = [np.nan, np.inf, -np.inf][: min(n, 3)]
        elif np_dtype.kind == "c":
            out = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np_dtype)
            out[0] = complex(np.nan, 1)
            out[-1] = complex(np.inf, -np.inf)
        else:
            raise ValueError(dtype)
        out = out.astype(np_dtype)
    return out.reshape(shape)


def quarter_values(shape: tuple[int, ...]) -> np.ndarray[Any, Any]:
    """Multiples of 1/4, which a fixedscaleoffset filter with scale 4 stores exactly."""
    return (np.arange(int(np.prod(shape))) / 4 - 3).reshape(shape)


# -- cases --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One array: the ``create_array`` arguments, the values written and who can read it."""

    id: str
    zarr_format: int
    dtype: str  # key into DTYPES
    kwargs: dict[str, Any] = field(default_factory=dict)
    shape: tuple[int, ...] = SHAPE
    chunks: tuple[int, ...] = CHUNKS
    region: tuple[slice, ...] | None = None  # written part (the rest stays missing chunks); None: everything
    data: str | None = None  # "quarters" for values stored exactly by fixedscaleoffset
    no_zarr3: str | None = None  # why zarr-python 3 cannot take part
    no_zarr3_write: str | None = None  # why zarr-python 3's chunks are not read back (its bug)
    no_ts: str | None = None  # why tensorstore cannot take part

    def create_kwargs(self, library: str = "zarrlayered") -> dict[str, Any]:
        """``create_array``'s keyword arguments (zarr-python 3 spells one data type differently)."""
        spec = DTYPES[self.dtype]
        dtype = spec.create_zarr3 if library == "zarr3" and spec.create_zarr3 is not None else spec.create
        kwargs = {"shape": self.shape, "chunks": self.chunks, "dtype": dtype, "zarr_format": self.zarr_format}
        kwargs.update(self.kwargs)
        return kwargs

    def written(self) -> np.ndarray[Any, Any]:
        """The values written (over ``region`` or the whole array)."""
        data = quarter_values(self.shape) if self.data == "quarters" else values(self.dtype, self.shape)
        return data[self.region] if self.region is not None else data

    def expected(self) -> np.ndarray[Any, Any]:
        """What a reader must return: the values, and the fill value outside ``region``."""
        data = quarter_values(self.shape) if self.data == "quarters" else values(self.dtype, self.shape)
        if self.region is None:
            return data
        out = np.empty_like(data)
        out[...] = self.kwargs.get("fill_value", 0)
        out[self.region] = data[self.region]
        return out


@dataclass(frozen=True)
class DType:
    """A data type in the matrix: the ``dtype=`` argument and which formats / readers support it."""

    create: Any
    create_zarr3: Any = None  # when zarr-python 3 needs another spelling
    formats: tuple[int, ...] = (2, 3)
    no_zarr3: dict[int, str] = field(default_factory=dict)
    no_ts: dict[int, str] = field(default_factory=dict)
    numeric: bool = False


_TS_V3_TYPES = "tensorstore's zarr3 driver knows only bool, (u)int, float and complex data types"
_TS_V2_TYPES = "tensorstore's zarr driver has no object, unicode or datetime dtypes"
_TS_S5_FILL = (
    "zarr-python 3 (and zarrlayered, to match it) writes the default '|S5' fill value as \"\", which tensorstore "
    "rejects (it wants 5 base64-encoded bytes); tensorstore's own '|S5' arrays are read in test_tensorstore_fixed_bytes"
)
_NUM = {"numeric": True}

DTYPES: dict[str, DType] = {
    **{name: DType(name, **_NUM) for name in ("bool", "int8", "uint8")},  # type: ignore[arg-type]
    **{name: DType(name, **_NUM) for name in ("int16", "int32", "int64", "uint16", "uint32", "uint64")},  # type: ignore[arg-type]
    **{name: DType(name, **_NUM) for name in ("float16", "float32", "float64", "complex64", "complex128")},  # type: ignore[arg-type]
    **{name: DType(name, **_NUM) for name in (">i2", ">u4", ">i8", ">f4", ">f8", ">c16")},  # type: ignore[arg-type]
    "string": DType(str, no_ts={2: _TS_V2_TYPES, 3: _TS_V3_TYPES}),
    "bytes": DType(bytes, create_zarr3=VariableLengthBytes(), no_ts={2: _TS_V2_TYPES, 3: _TS_V3_TYPES}),
    "S5": DType("S5", no_ts={3: _TS_V3_TYPES, 2: _TS_S5_FILL}),
    "U5": DType("U5", no_ts={2: _TS_V2_TYPES, 3: _TS_V3_TYPES}),
    "M8[ns]": DType("M8[ns]", no_ts={2: _TS_V2_TYPES, 3: _TS_V3_TYPES}),
    "m8[s]": DType("m8[s]", no_ts={2: _TS_V2_TYPES, 3: _TS_V3_TYPES}),
    "structured": DType(
        STRUCTURED, formats=(2,),
        no_zarr3={2: "zarr-python 3 writes a subarray field as '|V16' and cannot cast the default fill value"},
    ),
    "structured-flat": DType(STRUCTURED_FLAT, no_ts={3: _TS_V3_TYPES}),
}

# Codecs as JSON so the same value goes to zarrlayered and zarr-python 3.
V3_CODECS: dict[str, dict[str, Any]] = {
    "default": {},
    "none": {"compressors": None},
    "zstd-checksum": {"compressors": {"name": "zstd", "configuration": {"level": 3, "checksum": True}}},
    "gzip": {"compressors": {"name": "gzip", "configuration": {"level": 5}}},
    "blosc-lz4-shuffle": {"compressors": {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5,
                                                                             "shuffle": "shuffle"}}},
    "blosc-zstd-bitshuffle": {"compressors": {"name": "blosc", "configuration": {"cname": "zstd", "clevel": 3,
                                                                                 "shuffle": "bitshuffle"}}},
    "blosc-lz4-noshuffle": {"compressors": {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 1,
                                                                               "shuffle": "noshuffle"}}},
    "crc32c": {"compressors": [{"name": "crc32c"}]},
    "zstd-crc32c": {"compressors": [{"name": "zstd", "configuration": {"level": 1, "checksum": False}},
                                    {"name": "crc32c"}]},
    "transpose": {"filters": [{"name": "transpose", "configuration": {"order": [1, 0]}}]},
    "bytes-big": {"serializer": {"name": "bytes", "configuration": {"endian": "big"}}},
}
V2_CODECS: dict[str, dict[str, Any]] = {
    "default": {},
    "none": {"compressors": None},
    "zlib": {"compressors": {"id": "zlib", "level": 1}},
    "gzip": {"compressors": {"id": "gzip", "level": 5}},
    "zstd": {"compressors": {"id": "zstd", "level": 3}},
    "blosc-lz4-shuffle": {"compressors": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}},
    "blosc-zstd-bitshuffle": {"compressors": {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2,
                                              "blocksize": 0}},
    "blosc-lz4-noshuffle": {"compressors": {"id": "blosc", "cname": "lz4", "clevel": 1, "shuffle": 0,
                                            "blocksize": 0}},
    "order-F": {"order": "F"},
    "separator-slash": {"chunk_key_encoding": {"name": "v2", "configuration": {"separator": "/"}}},
}
_ENDIAN_FREE = ("bool", "int8", "uint8", "S5", "string", "bytes", "structured", "structured-flat")


def _codec_applies(codec: str, dtype: str) -> bool:
    return codec != "bytes-big" or dtype not in _ENDIAN_FREE


_ZARR3_VLEN_TRANSPOSE = (
    "zarr-python 3 bug: numcodecs' VLenUTF8 encodes the transposed (F-ordered) view in memory order, so its "
    "chunks ignore the transpose codec and zarr-python 3 does not read its own data back"
)


def _case(fmt: int, dtype: str, codec: str) -> Case:
    spec = DTYPES[dtype]
    wrong = _ZARR3_VLEN_TRANSPOSE if codec == "transpose" and dtype in ("string", "bytes") else None
    return Case(
        no_zarr3_write=wrong,
        id=f"v{fmt}-{dtype}-{codec}",
        zarr_format=fmt,
        dtype=dtype,
        kwargs=dict((V2_CODECS if fmt == 2 else V3_CODECS)[codec]),
        no_zarr3=spec.no_zarr3.get(fmt),
        no_ts=spec.no_ts.get(fmt),
    )


def data_cases() -> Iterator[Case]:
    """Every data type with the default codecs and with one other codec (rotating), every codec with a few
    data types, and the layouts: 0-d, 1-d, missing chunks with (NaN) fill values, separators."""
    for fmt, codecs in ((2, V2_CODECS), (3, V3_CODECS)):
        names = [c for c in codecs if c != "default"]
        for i, dtype in enumerate(d for d in DTYPES if fmt in DTYPES[d].formats):
            yield _case(fmt, dtype, "default")
            applicable = [c for c in names if _codec_applies(c, dtype)]
            yield _case(fmt, dtype, applicable[i % len(applicable)])
        for codec in names:
            for dtype in ("int16", ">f8", "string"):
                if _codec_applies(codec, dtype):
                    yield _case(fmt, dtype, codec)
    # V2 filters
    yield Case("v2-int32-delta", 2, "int32", {"filters": [numcodecs.Delta(dtype="<i4")]},
               no_ts="tensorstore's zarr driver supports no filters")
    yield Case("v2->i2-delta-zlib", 2, ">i2", {"filters": [numcodecs.Delta(dtype=">i2")],
                                               "compressors": {"id": "zlib", "level": 1}},
               no_ts="tensorstore's zarr driver supports no filters")
    yield Case("v2-float64-fixedscaleoffset", 2, "float64",
               {"filters": [numcodecs.FixedScaleOffset(offset=0, scale=4, dtype="<f8", astype="<i4")]},
               data="quarters", no_ts="tensorstore's zarr driver supports no filters")
    yield Case("v2-int32-delta-F-blosc", 2, "int32",
               {"filters": [numcodecs.Delta(dtype="<i4")], "order": "F",
                "compressors": {"id": "blosc", "cname": "zstd", "clevel": 1, "shuffle": 2, "blocksize": 0}},
               no_ts="tensorstore's zarr driver supports no filters")
    yield Case("v2-float64-fixedscaleoffset-F", 2, "float64",
               {"filters": [numcodecs.FixedScaleOffset(offset=0, scale=4, dtype="<f8", astype="<i2")], "order": "F"},
               data="quarters", no_ts="tensorstore's zarr driver supports no filters")
    yield Case("v3-transpose-3d", 3, "uint16",
               {"filters": [{"name": "transpose", "configuration": {"order": [2, 0, 1]}}]},
               shape=(3, 4, 5), chunks=(2, 3, 2))
    yield Case("v2-order-F-3d", 2, ">f4", {"order": "F"}, shape=(3, 4, 5), chunks=(2, 3, 2))
    # sharding (V3): partial edge shards, the index at either end, inner codecs, missing inner chunks
    yield Case("v3-sharded-int32", 3, "int32", {"shards": (4, 6)})
    yield Case("v3-sharded-start-blosc", 3, "float64",
               {"shards": {"shape": (2, 6), "index_location": "start"},
                "compressors": {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle"}}})
    yield Case("v3-sharded-missing-nan", 3, "float32", {"shards": (4, 6), "fill_value": float("nan")},
               region=(slice(0, 1), slice(3, 5)))
    yield Case("v3-sharded-crc32c-transpose", 3, ">i2",
               {"shards": (4, 3), "compressors": [{"name": "crc32c"}],
                "filters": [{"name": "transpose", "configuration": {"order": [1, 0]}}]})
    yield Case("v3-sharded-string", 3, "string", {"shards": (4, 6)}, no_ts=_TS_V3_TYPES)
    # layouts
    for fmt in (2, 3):
        sep = ({"chunk_key_encoding": {"name": "v2", "configuration": {"separator": "/"}}} if fmt == 2 else
               {"chunk_key_encoding": {"name": "default", "configuration": {"separator": "."}}})
        yield Case(f"v{fmt}-separator-other", fmt, "int32", sep)
        if fmt == 3:
            yield Case("v3-v2-key-encoding", 3, "float32", {"chunk_key_encoding": {"name": "v2"}})
        yield Case(f"v{fmt}-0d", fmt, "float64", shape=(), chunks=())
        yield Case(f"v{fmt}-0d-string", fmt, "string", shape=(), chunks=(), no_ts=DTYPES["string"].no_ts[fmt])
        yield Case(f"v{fmt}-1d", fmt, "uint16", shape=(11,), chunks=(4,))
        yield Case(f"v{fmt}-empty", fmt, "int16", shape=(0, 5), chunks=(2, 2))
        yield Case(f"v{fmt}-chunk-past-shape", fmt, "float32", shape=(3,), chunks=(10,))
        yield Case(f"v{fmt}-unit-chunks", fmt, "int64", shape=(3, 4), chunks=(1, 1))
        yield Case(f"v{fmt}-3d", fmt, "int8", shape=(3, 4, 5), chunks=(2, 3, 2))
        yield Case(f"v{fmt}-missing-nan", fmt, "float32", {"fill_value": float("nan")}, region=(slice(0, 2),))
        yield Case(f"v{fmt}-missing-int-fill", fmt, "int16", {"fill_value": -7}, region=(slice(2, 4), slice(3, 6)))
        yield Case(f"v{fmt}-missing-inf", fmt, "float64", {"fill_value": float("-inf")},
                   region=(slice(0, 1), slice(0, 1)))
        yield Case(f"v{fmt}-missing-string", fmt, "string", {"fill_value": "?"}, region=(slice(0, 2),),
                   no_ts=DTYPES["string"].no_ts[fmt])
        yield Case(f"v{fmt}-missing-complex", fmt, "complex128", {"fill_value": complex(1, np.nan)},
                   region=(slice(4, 5),))


# -- writers and readers ------------------------------------------------------------------------------


def write_zarrlayered(path: Path, case: Case) -> None:
    array = zarrlayered.create_array(str(path), **case.create_kwargs())
    array[case.region if case.region is not None else ...] = case.written()


def write_zarr3(path: Path, case: Case) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        array = zarr.create_array(str(path), **case.create_kwargs("zarr3"))
        array[case.region if case.region is not None else ...] = case.written()


def zarr3_document(case: Case) -> dict[str, Any]:
    """The metadata document zarr-python 3 makes for the case (tensorstore creates its arrays from it)."""
    store: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.create_array(store, **case.create_kwargs("zarr3"))
    key = ".zarray" if case.zarr_format == 2 else "zarr.json"
    return json.loads(store[key].to_bytes())  # type: ignore[no-any-return]


def _ts_spec(path: Path, case: Case) -> dict[str, Any]:
    return {"driver": "zarr" if case.zarr_format == 2 else "zarr3", "kvstore": {"driver": "file", "path": str(path)}}


def _structured_fields(case: Case) -> list[str]:
    return list(np.dtype(DTYPES[case.dtype].create).names or ()) if case.dtype.startswith("structured") else []


def write_tensorstore(path: Path, case: Case) -> None:
    document = zarr3_document(case)
    data = case.written()
    region = case.region if case.region is not None else ()
    names: list[str | None] = [*_structured_fields(case)] or [None]
    for name in names:
        spec = _ts_spec(path, case) | {"metadata": document}
        if name is not None:
            spec["field"] = name
        store = ts.open(spec, create=True, open=True).result()
        values = data[name] if name is not None else data
        if values.dtype.kind == "S":
            values = _chars(values)
        store[region].write(values).result()


def _chars(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Fixed-length bytes as tensorstore holds them: one more axis of single characters."""
    itemsize = values.dtype.itemsize
    return np.ascontiguousarray(values).view("S1").reshape((*values.shape, itemsize))


def read_zarrlayered(path: Path, case: Case) -> Any:
    return zarrlayered.open_array(str(path), mode="r")[...]


def read_zarr3(path: Path, case: Case) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return zarr.open_array(str(path), mode="r")[...]


def read_tensorstore(path: Path, case: Case) -> Any:
    names = _structured_fields(case)
    if not names:
        return ts.open(_ts_spec(path, case), open=True, read=True).result().read().result()
    # tensorstore's Python binding hands 'char' fields to numpy as '|S0' arrays, whose bytes cannot be reached:
    # fixed-length bytes fields are left out here (ts-to-zl checks that tensorstore writes them right)
    full = np.dtype(DTYPES[case.dtype].create)
    readable = [name for name in names if full[name].kind != "S"]
    result = np.zeros(case.shape, dtype=[(name, full[name]) for name in readable])
    for name in readable:
        result[name] = ts.open(_ts_spec(path, case) | {"field": name}, open=True, read=True).result().read().result()
    return result


def assert_same_values(actual: Any, expected: Any, case: Case) -> None:
    """Values equal (NaN equal to NaN); strings and objects compared as Python lists. ``expected`` is an array,
    a numpy scalar, or one element of an object array."""
    if isinstance(expected, np.generic):
        expected = np.asarray(expected)
    if not isinstance(expected, np.ndarray):  # one element of an object array
        assert actual == expected, (actual, expected)
        return
    actual = np.asarray(actual)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    if expected.dtype == object or actual.dtype.kind in "OT":
        assert actual.tolist() == expected.tolist()
        return
    if expected.dtype.names:
        assert actual.dtype.names and set(actual.dtype.names) <= set(expected.dtype.names), actual.dtype
        for name in actual.dtype.names:
            np.testing.assert_array_equal(actual[name], expected[name])
        return
    assert actual.dtype.kind == expected.dtype.kind and actual.dtype.itemsize == expected.dtype.itemsize, (
        actual.dtype, expected.dtype)
    np.testing.assert_array_equal(actual, expected)


Writer = Callable[[Path, Case], None]
Reader = Callable[[Path, Case], Any]

WRITERS: dict[str, Writer] = {"zarrlayered": write_zarrlayered, "zarr3": write_zarr3, "tensorstore": write_tensorstore}
READERS: dict[str, Reader] = {"zarrlayered": read_zarrlayered, "zarr3": read_zarr3, "tensorstore": read_tensorstore}


def skip_reason(case: Case, writer: str, reader: str) -> str | None:
    """Why this writer/reader pair cannot run ``case`` (None: it can)."""
    if writer == "zarr3" and case.no_zarr3_write:
        return case.no_zarr3_write
    other = reader if writer == "zarrlayered" else writer
    if other == "zarr3":
        return case.no_zarr3
    if other == "tensorstore":
        return case.no_zarr3 or case.no_ts  # tensorstore creates from zarr-python 3's document
    return None


def params(cases: Iterator[Case]) -> list[Any]:
    return [pytest.param(case, id=case.id) for case in cases]

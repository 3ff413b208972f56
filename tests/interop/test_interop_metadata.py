"""The metadata documents ``create_array(...)`` writes, against zarr-python 3's for the same call.

Each call runs in zarrlayered and in zarr-python 3 on a dict store; every document (``zarr.json``, or
``.zarray`` and ``.zattrs``) must parse to the same JSON and have the same bytes.
"""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numcodecs
import numpy as np
import pytest
import zarr
from interop_cases import DTYPES, V2_CODECS, V3_CODECS

import zarrlayered


def _call(fmt: int, dtype: Any = "float32", **kwargs: Any) -> dict[str, Any]:
    return {"shape": (10, 6), "chunks": (4, 3), "dtype": dtype, "zarr_format": fmt, **kwargs}


def _calls() -> list[Any]:
    calls: list[tuple[str, dict[str, Any]]] = []
    for fmt in (2, 3):
        for name, spec in DTYPES.items():
            if fmt in spec.formats and spec.no_zarr3.get(fmt) is None:
                calls.append((f"v{fmt}-dtype-{name}", _call(fmt, spec.create_zarr3 or spec.create)))
        for name, codec_kwargs in (V2_CODECS if fmt == 2 else V3_CODECS).items():
            calls.append((f"v{fmt}-codec-{name}", _call(fmt, "int16", **codec_kwargs)))
            calls.append((f"v{fmt}-codec-{name}-f8", _call(fmt, "<f8", **codec_kwargs)))
        fills: list[tuple[str, Any, Any]] = [
            ("nan", "float32", float("nan")), ("inf", "float64", float("inf")), ("-inf", "float16", -math.inf),
            ("neg-zero", "float64", -0.0), ("float", "float64", 0.1), ("int", "int64", -(2**63)),
            ("uint", "uint64", 2**64 - 1), ("bool", "bool", True), ("complex", "complex128", complex(1, -2)),
            ("complex-nan", "complex64", complex(math.nan, math.inf)), ("string", str, "fill é"),
            ("bytes-S", "S5", b"ab"), ("unicode-U", "U3", "xyz"), ("datetime", "M8[s]", np.datetime64(5, "s")),
            ("nat", "m8[ms]", np.timedelta64("NaT")), ("big-endian", ">i4", 7), ("np-float", "float32",
                                                                                np.float32(2.5)),
        ]
        for name, dtype, fill in fills:
            calls.append((f"v{fmt}-fill-{name}", _call(fmt, dtype, fill_value=fill)))
        calls.append((f"v{fmt}-attributes", _call(fmt, attributes={"a": 1, "é": "ü", "nested": {"b": [1.5, None]},
                                                                   "nan": math.nan, "big": 2**70})))
        calls.append((f"v{fmt}-0d", {"shape": (), "dtype": "int8", "zarr_format": fmt}))
        calls.append((f"v{fmt}-auto-chunks", {"shape": (1000, 1000), "dtype": "float64", "zarr_format": fmt}))
        calls.append((f"v{fmt}-int-shape", {"shape": 17, "chunks": 5, "dtype": "uint8", "zarr_format": fmt}))
    calls += [
        ("v2-order-F", _call(2, order="F")),
        ("v2-separator-slash", _call(2, chunk_key_encoding={"name": "v2", "configuration": {"separator": "/"}})),
        ("v2-filters-delta", _call(2, "int32", filters=[numcodecs.Delta(dtype="<i4")])),
        ("v2-filters-fso", _call(2, "float64", filters=[numcodecs.FixedScaleOffset(0, 4, "<f8", astype="<i4")],
                                 compressors=numcodecs.Blosc(cname="zstd", clevel=1, shuffle=numcodecs.Blosc.SHUFFLE))),
        ("v2-compressor-objects", _call(2, compressors=[numcodecs.Zlib(level=9)])),
        ("v2-string-compressed", _call(2, str, compressors={"id": "gzip", "level": 1})),
        ("v3-dimension-names", _call(3, dimension_names=["x", None])),
        ("v3-separator-dot", _call(3, chunk_key_encoding={"name": "default", "configuration": {"separator": "."}})),
        ("v3-key-encoding-v2", _call(3, chunk_key_encoding={"name": "v2"})),
        ("v3-key-encoding-v2-slash", _call(3, chunk_key_encoding={"name": "v2", "configuration": {"separator": "/"}})),
        ("v3-transpose-blosc", _call(3, "int32", filters=[{"name": "transpose", "configuration": {"order": [1, 0]}}],
                                     compressors=[{"name": "blosc", "configuration": {"cname": "zstd", "clevel": 1,
                                                                                      "shuffle": "bitshuffle"}}])),
        ("v3-blosc-typesize", _call(3, "float64", compressors={"name": "blosc", "configuration": {
            "cname": "lz4", "clevel": 5, "shuffle": "shuffle", "typesize": 8, "blocksize": 0}})),
        ("v3-string-gzip", _call(3, str, compressors={"name": "gzip", "configuration": {"level": 1}})),
        ("v3-shards", _call(3, "int32", chunks=(2, 3), shards=(4, 6))),
        ("v3-shards-start", _call(3, "float64", chunks=(2, 3), shards={"shape": (10, 6), "index_location": "start"},
                                  compressors={"name": "gzip", "configuration": {"level": 1}})),
        ("v3-shards-auto", {"shape": (100, 30), "chunks": (5, 5), "shards": "auto", "dtype": "uint16",
                            "zarr_format": 3}),
        ("v3-shards-auto-chunks", {"shape": (2000, 2000), "shards": (1000, 1000), "dtype": "float32",
                                   "zarr_format": 3}),
        ("v3-shards-string-transpose", _call(3, str, chunks=(2, 3), shards=(4, 6),
                                             filters=[{"name": "transpose", "configuration": {"order": [1, 0]}}])),
        ("v3-bytes-serializer-big", _call(3, ">f8", serializer={"name": "bytes", "configuration": {"endian": "big"}})),
    ]
    return [pytest.param(kwargs, id=name) for name, kwargs in calls]


def _documents(library: Any, kwargs: dict[str, Any]) -> dict[str, bytes]:
    store: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        library.create_array(store, **kwargs)
    return {key: value if isinstance(value, bytes) else value.to_bytes() for key, value in store.items()}


@pytest.mark.parametrize("kwargs", _calls())
def test_documents_match_zarr_python_3(kwargs: dict[str, Any]) -> None:
    theirs = _documents(zarr, kwargs)
    ours = _documents(zarrlayered, kwargs)
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        assert json.loads(ours[key]) == json.loads(theirs[key]) or _nan_equal(ours[key], theirs[key]), key
    assert ours == theirs


def _nan_equal(a: bytes, b: bytes) -> bool:
    """JSON equality where NaN equals NaN (json.loads turns a bare NaN into float('nan'))."""
    return json.dumps(json.loads(a), sort_keys=True) == json.dumps(json.loads(b), sort_keys=True)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        pytest.param({"filters": [{"id": "delta", "dtype": "<i4"}]}, {"filters": [numcodecs.Delta(dtype="<i4")]},
                     id="v2-filter-as-json"),
        pytest.param({"compressors": {"id": "blosc", "cname": "lz4"}}, {"compressors": numcodecs.Blosc(cname="lz4")},
                     id="v2-compressor-json-defaults"),
        pytest.param({"compressor": numcodecs.Zlib(level=2)}, {"compressors": numcodecs.Zlib(level=2)},
                     id="v2-compressor-singular"),
    ],
)
def test_v2_codec_spellings_zarr_python_3_refuses(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    """Codec spellings zarr-python 3 does not take for V2 give the document of the spelling it takes."""
    base = _call(2, "int32")
    assert _documents(zarrlayered, base | ours) == _documents(zarr, base | theirs)


@pytest.mark.parametrize("order", ["C", "F"])
def test_v3_order_is_ignored_with_a_warning(order: str) -> None:
    """zarr-python 3 takes order= for V3 arrays, warns and stores nothing of it; so do we."""
    kwargs = _call(3, order=order)
    theirs = _documents(zarr, kwargs)
    store: dict[str, Any] = {}
    with pytest.warns(RuntimeWarning, match="no effect on Zarr V3"):
        zarrlayered.create_array(store, **kwargs)
    assert store == theirs


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"dtype": object, "zarr_format": 2}, "needs an object codec in filters", id="object-no-codec"),
        pytest.param({"dtype": "O", "zarr_format": 3, "filters": [numcodecs.JSON()]}, "ambiguous", id="object-v3"),
        pytest.param({"shards": (4, 4), "zarr_format": 2}, "cannot be sharded", id="shards-v2"),
        pytest.param({"shards": (5, 4), "chunks": (2, 2)}, "divisible", id="shards-indivisible"),
        pytest.param({"shards": {"shape": (4, 4), "index_location": "middle"}, "chunks": (2, 2)},
                     "index_location", id="shards-location"),
        pytest.param({"shards": {"index_location": "end"}}, "'shape' key", id="shards-dict-no-shape"),
        pytest.param({"shards": (4,), "chunks": (2, 2)}, "2 positive lengths", id="shards-rank"),
    ],
)
def test_create_array_refuses(kwargs: dict[str, Any], message: str) -> None:
    base = {"shape": (8, 8), "dtype": "int32"}
    with pytest.raises(ValueError, match=message):
        zarrlayered.create_array({}, **(base | kwargs))


@pytest.mark.parametrize(
    ("filters", "codec_id"),
    [(numcodecs.JSON(), "json2"), ({"id": "msgpack2"}, "msgpack2"), (numcodecs.VLenUTF8(), "vlen-utf8"),
     (numcodecs.VLenBytes(), "vlen-bytes"), (numcodecs.VLenArray("<i2"), "vlen-array")],
)
def test_v2_object_dtype_takes_the_codec_in_filters(filters: Any, codec_id: str) -> None:
    """zarr-python 2 style: dtype=object plus an object codec in filters (the codec once, first)."""
    if codec_id == "msgpack2":
        pytest.importorskip("msgpack")
    store: dict[str, Any] = {}
    zarrlayered.create_array(store, shape=(3,), dtype=object, filters=[filters, numcodecs.Zlib(1)], zarr_format=2)
    document = json.loads(store[".zarray"])
    assert document["dtype"] == "|O"
    assert [f["id"] for f in document["filters"]] == [codec_id, "zlib"]

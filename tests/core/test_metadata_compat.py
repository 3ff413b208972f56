"""Our metadata documents against the ones zarr-python 3 writes, byte for byte, for every data type and format."""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numcodecs
import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec as ZarrBloscCodec
from zarr.codecs import TransposeCodec as ZarrTransposeCodec

from zarrlayered.codecs.blosc import BloscCodec
from zarrlayered.codecs.transpose import TransposeCodec
from zarrlayered.codecs.zstd import ZstdCodec
from zarrlayered.core.chunk_grids import RegularChunkGrid
from zarrlayered.core.chunk_key_encodings import DefaultChunkKeyEncoding, V2ChunkKeyEncoding
from zarrlayered.core.dtypes import VariableLengthBytes, VariableLengthUTF8, parse_dtype
from zarrlayered.core.metadata import (
    ArrayV2Metadata,
    ArrayV3Metadata,
    ConsolidatedMetadata,
    GroupMetadata,
    parse_array_metadata,
    parse_node_metadata,
)


def zarr_python_docs(zarr_format: int, **kwargs: Any) -> dict[str, bytes]:
    """The metadata documents zarr-python 3 writes for ``zarr.create_array(**kwargs)``."""
    store: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.create_array(store=store, zarr_format=zarr_format, **kwargs)  # type: ignore[call-overload]
    return {key: value.to_bytes() for key, value in store.items()}


def ours_v3(shape: tuple[int, ...], chunks: tuple[int, ...], dtype: Any, fill: Any, **kwargs: Any) -> ArrayV3Metadata:
    data_type = parse_dtype(dtype, 3)
    serializer = "bytes"
    if isinstance(data_type, VariableLengthUTF8):
        serializer = "vlen-utf8"
    elif isinstance(data_type, VariableLengthBytes):
        serializer = "vlen-bytes"
    return ArrayV3Metadata(
        shape=shape,
        data_type=data_type,
        chunk_grid=RegularChunkGrid(chunk_shape=chunks),
        fill_value=fill,
        codecs=(serializer, ZstdCodec(level=0, checksum=False)),  # type: ignore[arg-type]
        **kwargs,
    )


def ours_v2(shape: tuple[int, ...], chunks: tuple[int, ...], dtype: Any, fill: Any, **kwargs: Any) -> ArrayV2Metadata:
    data_type = parse_dtype(dtype, 2)
    filters = None
    if isinstance(data_type, VariableLengthUTF8):
        filters = (numcodecs.VLenUTF8(),)
    elif isinstance(data_type, VariableLengthBytes):
        filters = (numcodecs.VLenBytes(),)
    return ArrayV2Metadata(
        shape=shape,
        chunks=chunks,
        dtype=data_type.numpy_dtype,
        compressor=numcodecs.Zstd(level=0),
        filters=filters,
        fill_value=fill,
        **kwargs,
    )


STRUCT = [("a", "<i4"), ("b", "<f8")]
NESTED = [("a", "<i4"), ("b", [("c", "u1"), ("d", "S2")])]

# (dtype, fill values, formats)
MATRIX: list[tuple[Any, list[Any], tuple[int, ...]]] = [
    ("bool", [None, True, False], (2, 3)),
    ("int8", [None, -128, 5], (2, 3)),
    ("int16", [None, 7], (2, 3)),
    ("int32", [None, -1], (2, 3)),
    ("int64", [None, 2**62], (2, 3)),
    ("uint8", [None, 255], (2, 3)),
    ("uint16", [None, 7], (2, 3)),
    ("uint32", [None, 2**32 - 1], (2, 3)),
    ("uint64", [None, 2**64 - 1], (2, 3)),
    (">i4", [None, 3], (2, 3)),
    (">u2", [None, 3], (2, 3)),
    ("float16", [None, math.nan, math.inf, 1.5], (2, 3)),
    ("float32", [None, math.nan, -math.inf, 0.1, -0.0], (2, 3)),
    ("float64", [None, math.nan, math.inf, -math.inf, 1e300, -0.0], (2, 3)),
    (">f8", [None, 2.5, math.nan], (2, 3)),
    ("complex64", [None, complex(1, math.nan), complex(math.inf, -2)], (2, 3)),
    ("complex128", [None, complex(0.5, 0.25)], (2, 3)),
    (">c16", [None, complex(1, 2)], (2, 3)),
    ("|S10", [None, b"ab", b""], (2, 3)),
    ("<U5", [None, "ab", "héllo"], (2, 3)),
    (">U5", [None, "ab"], (2, 3)),
    ("V8", [None, b"abc"], (2, 3)),
    ("str", [None, "", "abc", "日本"], (2, 3)),
    ("bytes", [None, b"xyz"], (3,)),
    ("M8[ns]", [None, "2020-01-01", "NaT", 0], (2, 3)),
    ("<m8[10s]", [None, 5, "NaT"], (2, 3)),
    ("M8", [None, "NaT"], (2, 3)),
    (STRUCT, [None, (1, 2.0), b"\x01\x00\x00\x00" + bytes(7) + b"@"], (2, 3)),
    (NESTED, [None, (1, (2, b"x"))], (2, 3)),
]
CASES = [
    pytest.param(dtype, fill, fmt, id=f"v{fmt}-{dtype}-{fill!r}")
    for dtype, fills, formats in MATRIX
    for fill in fills
    for fmt in formats
]


@pytest.mark.parametrize(("dtype", "fill", "zarr_format"), CASES)
def test_documents_match_zarr_python(dtype: Any, fill: Any, zarr_format: int) -> None:
    shape, chunks = (4, 6), (2, 3)
    theirs = zarr_python_docs(zarr_format, shape=shape, chunks=chunks, dtype=dtype, fill_value=fill)
    build = ours_v3 if zarr_format == 3 else ours_v2
    ours = build(shape, chunks, dtype, fill)
    assert ours.to_json_bytes() == theirs
    parsed = parse_node_metadata(theirs)
    assert type(parsed) is type(ours)
    assert parsed == ours
    assert parsed.to_json_bytes() == theirs
    assert parsed.shape == shape
    assert parsed.chunks == chunks
    assert parsed.zarr_format == zarr_format


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_zarr_python_reads_our_documents(zarr_format: int) -> None:
    """Documents we write open in zarr-python 3 with the same dtype, fill value and attributes."""
    build = ours_v3 if zarr_format == 3 else ours_v2
    for dtype, fill in [("float32", math.nan), ("int16", -3), ("<U4", "ab"), ("|S3", b"q"), ("M8[s]", "2021-02-03")]:
        meta = build((5,), (2,), dtype, fill).update_attributes({"title": "t", "n": [1, 2]})
        store = {
            key: zarr.core.buffer.default_buffer_prototype().buffer.from_bytes(value)
            for key, value in meta.to_json_bytes().items()
        }
        arr = zarr.open_array(store=store, zarr_format=zarr_format, mode="r")
        assert arr.dtype == meta.dtype or (zarr_format == 3 and arr.dtype == meta.dtype.newbyteorder("<"))
        expected = np.array(meta.fill_value, dtype=meta.dtype)
        got = np.array(arr.fill_value, dtype=meta.dtype)
        assert got.tobytes() == expected.tobytes()
        assert dict(arr.attrs) == {"title": "t", "n": [1, 2]}
        assert arr.shape == (5,)


def test_zero_dimensional_arrays() -> None:
    for fmt, build in [(2, ours_v2), (3, ours_v3)]:
        theirs = zarr_python_docs(fmt, shape=(), chunks=(), dtype="i2", fill_value=3)
        ours = build((), (), "i2", 3)
        assert ours.to_json_bytes() == theirs
        assert parse_node_metadata(theirs) == ours
        assert ours.encode_chunk_key(()) == ("c" if fmt == 3 else "0")


def test_v3_attributes_dimension_names_and_key_encoding() -> None:
    attributes = {"nan": math.nan, "inf": math.inf, "nested": {"a": [1, None, "x"]}, "é": "ü"}
    theirs = zarr_python_docs(
        3,
        shape=(4, 6),
        chunks=(2, 3),
        dtype="f8",
        fill_value=0,
        attributes=attributes,
        dimension_names=["y", None],
        chunk_key_encoding={"name": "v2", "separator": "/"},
    )
    ours = ours_v3(
        (4, 6),
        (2, 3),
        "f8",
        0,
        attributes=attributes,
        dimension_names=("y", None),
        chunk_key_encoding=V2ChunkKeyEncoding("/"),
    )
    assert ours.to_json_bytes() == theirs
    parsed = parse_array_metadata(theirs)
    assert parsed == ours
    assert parsed.dimension_names == ("y", None)
    assert parsed.encode_chunk_key((1, 2)) == "1/2"
    assert math.isnan(parsed.attributes["nan"])


def test_v3_default_key_encoding_with_dot() -> None:
    theirs = zarr_python_docs(
        3, shape=(4,), chunks=(2,), dtype="u1", chunk_key_encoding={"name": "default", "separator": "."}
    )
    ours = ours_v3((4,), (2,), "u1", None, chunk_key_encoding=DefaultChunkKeyEncoding("."))
    assert ours.to_json_bytes() == theirs
    assert ours.encode_chunk_key((3,)) == "c.3"


def test_v3_codecs_fitted_like_zarr_python() -> None:
    """blosc typesize/shuffle and transpose are filled in and ordered as zarr-python 3 writes them."""
    theirs = zarr_python_docs(
        3,
        shape=(4, 6),
        chunks=(2, 3),
        dtype="f4",
        filters=[ZarrTransposeCodec(order=(1, 0))],
        compressors=[ZarrBloscCodec()],
    )
    ours = ArrayV3Metadata(
        shape=(4, 6),
        data_type=parse_dtype("f4", 3),
        chunk_grid=RegularChunkGrid(chunk_shape=(2, 3)),
        fill_value=None,
        codecs=(TransposeCodec(order=(1, 0)), "bytes", BloscCodec()),  # type: ignore[arg-type]
    )
    assert ours.to_json_bytes() == theirs
    assert parse_node_metadata(theirs) == ours


def test_v2_order_separator_and_compressors() -> None:
    theirs = zarr_python_docs(
        2,
        shape=(5, 5),
        chunks=(2, 2),
        dtype="<i8",
        fill_value=1,
        order="F",
        chunk_key_encoding={"name": "v2", "separator": "/"},
        compressors=numcodecs.Zlib(level=3),
        filters=[numcodecs.Delta(dtype="<i8")],
        attributes={"a": 1},
    )
    ours = ArrayV2Metadata(
        shape=(5, 5),
        chunks=(2, 2),
        dtype=np.dtype("<i8"),
        compressor={"id": "zlib", "level": 3},  # type: ignore[arg-type]
        filters=(numcodecs.Delta(dtype="<i8"),),
        fill_value=1,
        order="F",
        dimension_separator="/",
        attributes={"a": 1},
    )
    assert ours.to_json_bytes() == theirs
    parsed = parse_node_metadata(theirs)
    assert parsed == ours
    assert parsed.encode_chunk_key((1, 0)) == "1/0"
    assert parsed.order == "F"


def test_v2_no_compressor() -> None:
    theirs = zarr_python_docs(2, shape=(3,), chunks=(3,), dtype="<f8", compressors=None, fill_value=None)
    ours = ArrayV2Metadata(shape=(3,), chunks=(3,), dtype=np.dtype("<f8"))
    assert ours.to_json_bytes() == theirs


# ------------------------------------------------------------------------------------------------ groups


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_group_documents(zarr_format: int) -> None:
    store: dict[str, Any] = {}
    zarr.create_group(store=store, zarr_format=zarr_format, attributes={"a": 1, "nan": math.nan})  # type: ignore[arg-type]
    theirs = {key: value.to_bytes() for key, value in store.items()}
    ours = GroupMetadata(attributes={"a": 1, "nan": math.nan}, zarr_format=zarr_format)  # type: ignore[arg-type]
    assert ours.to_json_bytes() == theirs
    assert parse_node_metadata(theirs) == ours


def _consolidated_store(zarr_format: int) -> dict[str, bytes]:
    store: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = zarr.create_group(store=store, zarr_format=zarr_format, attributes={"root": True})  # type: ignore[arg-type]
        root.create_array("x", shape=(3,), dtype="f4", fill_value=math.nan, attributes={"u": "v"})
        sub = root.create_group("Sub", attributes={"q": [1, 2]})
        sub.create_array("y", shape=(), dtype="i2", fill_value=3)
        deeper = sub.create_group("deeper")
        deeper.create_array("z", shape=(2, 2), chunks=(1, 2), dtype=str)
        root.create_group("a_empty")
        zarr.consolidate_metadata(store)
    return {key: value.to_bytes() for key, value in store.items()}


def _node_docs(docs: dict[str, bytes], path: str) -> dict[str, bytes]:
    prefix = f"{path}/" if path else ""
    names = ("zarr.json", ".zarray", ".zgroup", ".zattrs")
    return {name: docs[prefix + name] for name in names if prefix + name in docs}


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_consolidated_metadata_matches_zarr_python(zarr_format: int) -> None:
    docs = _consolidated_store(zarr_format)
    members = ["x", "Sub", "Sub/y", "Sub/deeper", "Sub/deeper/z", "a_empty"]
    # built from each node's own documents, the way the group code consolidates a hierarchy
    nodes = {path: parse_node_metadata(_node_docs(docs, path)) for path in members}
    for path, node in nodes.items():
        if isinstance(node, GroupMetadata) and zarr_format == 3:  # zarr-python consolidates every subgroup too
            nodes[path] = GroupMetadata(node.attributes, 3, ConsolidatedMetadata())
    root = GroupMetadata(
        attributes={"root": True}, zarr_format=zarr_format, consolidated_metadata=ConsolidatedMetadata(nodes)
    )  # type: ignore[arg-type]
    expected = _node_docs(docs, "")
    if zarr_format == 2:
        expected[".zmetadata"] = docs[".zmetadata"]
    assert root.to_json_bytes() == expected

    parsed = parse_node_metadata(expected)
    assert isinstance(parsed, GroupMetadata)
    assert parsed.consolidated_metadata is not None
    assert parsed == root
    assert parsed.to_json_bytes() == expected
    assert sorted(parsed.consolidated_metadata.children()) == ["Sub", "a_empty", "x"]
    assert sorted(parsed.consolidated_metadata.children("Sub")) == ["deeper", "y"]
    z = parsed.consolidated_metadata.get("Sub/deeper/z")
    assert isinstance(z, ArrayV2Metadata | ArrayV3Metadata)
    assert z.shape == (2, 2) and z.chunks == (1, 2)
    assert parsed.consolidated_metadata.subtree("Sub").get("deeper/z") == z


def test_v2_zmetadata_is_compact_json() -> None:
    docs = _consolidated_store(2)
    parsed = json.loads(docs[".zmetadata"])
    assert parsed["zarr_consolidated_format"] == 1
    assert b"\n" not in docs[".zmetadata"]


# ------------------------------------------------------------------------------------------------ tensorstore

TS_CASES = [("float32", "<f4", 1.5), ("int16", "<i2", -3), ("complex64", "<c8", [1.0, 2.0]), ("bool", "|b1", True)]


@pytest.mark.parametrize(("v3_name", "v2_name", "fill"), TS_CASES)
def test_tensorstore_documents_parse(tmp_path: Any, v3_name: str, v2_name: str, fill: Any) -> None:
    """Metadata written by tensorstore (compact JSON, sorted keys, optional keys left out) parses."""
    ts = pytest.importorskip("tensorstore")
    for driver, dtype_key, dtype in [("zarr3", "data_type", v3_name), ("zarr", "dtype", v2_name)]:
        path = tmp_path / driver
        metadata: dict[str, Any] = {"shape": [5, 4], dtype_key: dtype, "fill_value": fill}
        if driver == "zarr3":
            metadata["chunk_grid"] = {"name": "regular", "configuration": {"chunk_shape": [2, 2]}}
            metadata["dimension_names"] = ["y", "x"]
        else:
            metadata["chunks"] = [2, 2]
        ts.open(
            {"driver": driver, "kvstore": {"driver": "file", "path": str(path)}, "metadata": metadata, "create": True}
        ).result()
        docs = {p.name: p.read_bytes() for p in path.iterdir() if p.name in ("zarr.json", ".zarray", ".zattrs")}
        meta = parse_array_metadata(docs)
        assert meta.shape == (5, 4)
        assert meta.chunks == (2, 2)
        assert meta.dtype == np.dtype(v2_name)
        expected = complex(*fill) if isinstance(fill, list) else fill
        assert meta.fill_value == expected
        assert meta.zarr_format == (3 if driver == "zarr3" else 2)
        if driver == "zarr3":
            assert meta.dimension_names == ("y", "x")


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_tensorstore_opens_our_documents(tmp_path: Any, zarr_format: int) -> None:
    ts = pytest.importorskip("tensorstore")
    build = ours_v3 if zarr_format == 3 else ours_v2
    meta = build((6, 4), (3, 2), "<f8", -2.5)
    for name, content in meta.to_json_bytes().items():
        (tmp_path / name).write_bytes(content)
    arr = ts.open(
        {"driver": "zarr3" if zarr_format == 3 else "zarr", "kvstore": {"driver": "file", "path": str(tmp_path)}}
    ).result()
    assert arr.shape == (6, 4)
    assert arr.dtype.numpy_dtype == np.dtype("<f8")
    assert float(arr.fill_value) == -2.5
    np.testing.assert_array_equal(arr.read().result(), np.full((6, 4), -2.5))

"""Zarr V3 array metadata: strict parsing, error messages, extension fields and the shared properties."""

from __future__ import annotations

import copy
import json
import math
import re
from typing import Any

import numpy as np
import pytest

from zarrlayered.codecs.abc import ChunkSpec
from zarrlayered.codecs.bytes import BytesCodec
from zarrlayered.core.chunk_grids import RectilinearChunkGrid, RegularChunkGrid
from zarrlayered.core.chunk_key_encodings import DefaultChunkKeyEncoding, V2ChunkKeyEncoding
from zarrlayered.core.dtypes import Float32, Int16, Structured
from zarrlayered.core.metadata import ArrayV3Metadata, parse_array_metadata
from zarrlayered.errors import MetadataValidationError


def doc(**changes: Any) -> dict[str, Any]:
    """A valid zarr.json array document, with ``changes`` applied (a value of ... deletes the key)."""
    base: dict[str, Any] = {
        "shape": [10, 8],
        "data_type": "int16",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5, 4]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0,
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
        "attributes": {},
        "zarr_format": 3,
        "node_type": "array",
        "storage_transformers": [],
    }
    for key, value in changes.items():
        if value is ...:
            base.pop(key)
        else:
            base[key] = value
    return base


def error(data: dict[str, Any]) -> str:
    with pytest.raises(MetadataValidationError) as info:
        ArrayV3Metadata.from_dict(data)
    return str(info.value)


def test_valid_document_round_trips() -> None:
    data = doc()
    meta = ArrayV3Metadata.from_dict(data)
    assert meta.to_dict() == data
    assert meta.shape == (10, 8)
    assert meta.ndim == 2
    assert meta.dtype == np.dtype("<i2")
    assert meta.data_type == Int16()
    assert meta.chunks == (5, 4)
    assert meta.chunk_grid == RegularChunkGrid(chunk_shape=(5, 4))
    assert meta.chunk_key_encoding == DefaultChunkKeyEncoding("/")
    assert meta.fill_value == 0 and isinstance(meta.fill_value, np.int16)
    assert meta.order == "C"
    assert meta.zarr_format == 3
    assert meta.node_type == "array"
    assert meta.shards is None


def test_from_dict_does_not_modify_its_input() -> None:
    data = doc(extension={"must_understand": False, "x": [1]})
    before = copy.deepcopy(data)
    ArrayV3Metadata.from_dict(data)
    assert data == before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"shape": [-1]}, "zarr.json field 'shape' must be a list of non-negative integers, got [-1]"),
        ({"shape": [2.5, 3]}, "zarr.json field 'shape' must be a list of non-negative integers, got [2.5, 3]"),
        ({"shape": "10"}, "zarr.json field 'shape' must be a list of non-negative integers, got '10'"),
        ({"shape": [True, 3]}, "zarr.json field 'shape' must be a list of non-negative integers, got [True, 3]"),
        ({"shape": [2**32, 2**31]}, "zarr.json field 'shape' holds 2**63 or more elements"),
        ({"zarr_format": 2}, "zarr.json field 'zarr_format' must be 3, got 2"),
        ({"node_type": "group"}, "zarr.json field 'node_type' must be 'array', got 'group'"),
        ({"codecs": ...}, "zarr.json is missing the required field(s) ['codecs']"),
        ({"fill_value": ...}, "zarr.json is missing the required field(s) ['fill_value']"),
        ({"data_type": "int17"}, "zarr.json field 'data_type' is invalid: unknown data type 'int17'"),
        ({"data_type": 5}, "zarr.json field 'data_type' is invalid: must be a name or an object"),
        (
            {"fill_value": 70000},
            "zarr.json field 'fill_value' must be an integer in [-32768, 32767] for data type 'int16', got 70000",
        ),
        ({"fill_value": None}, "zarr.json field 'fill_value' must be an integer for data type 'int16', got None"),
        ({"fill_value": "NaN"}, "zarr.json field 'fill_value' must be an integer for data type 'int16', got 'NaN'"),
        (
            {"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [0, 4]}}},
            "zarr.json field 'chunk_grid' is invalid",
        ),
        (
            {"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5]}}},
            "zarr.json field 'chunk_grid' has 1 dimension(s) but 'shape' has 2",
        ),
        (
            {"chunk_grid": {"name": "hexagonal", "configuration": {}}},
            "zarr.json field 'chunk_grid' is invalid: unknown chunk grid 'hexagonal'",
        ),
        ({"chunk_grid": [5, 4]}, "zarr.json field 'chunk_grid' must be an object, got [5, 4]"),
        (
            {"chunk_key_encoding": {"name": "fancy"}},
            "zarr.json field 'chunk_key_encoding' is invalid: unknown chunk_key_encoding 'fancy'",
        ),
        (
            {"codecs": [{"name": "bytes"}, {"name": "squash"}]},
            "zarr.json field 'codecs' is invalid: unknown codec 'squash'",
        ),
        ({"codecs": []}, "zarr.json field 'codecs' is invalid"),
        ({"codecs": {"name": "bytes"}}, "zarr.json field 'codecs' must be a list"),
        ({"attributes": [1]}, "zarr.json field 'attributes' must be an object, got [1]"),
        ({"dimension_names": ["x"]}, "zarr.json field 'dimension_names' has 1 name(s) but 'shape' has 2 dimension(s)"),
        (
            {"dimension_names": ["x", 3]},
            "zarr.json field 'dimension_names' must be a list of strings or nulls, got ['x', 3]",
        ),
        (
            {"storage_transformers": [{"name": "magic"}]},
            "zarr.json field 'storage_transformers' holds 'magic', which zarrlayered does not support",
        ),
        ({"unknown_field": 5}, "zarr.json field 'unknown_field' is not understood by zarrlayered, got 5"),
        ({"ext": {"must_understand": True}}, "zarr.json field 'ext' is not understood by zarrlayered"),
        ({"ext": {"value": 1}}, "zarr.json field 'ext' is not understood by zarrlayered"),
    ],
)
def test_errors_name_field_and_value(changes: dict[str, Any], message: str) -> None:
    assert message in error(doc(**changes))


def test_string_data_needs_vlen_codec() -> None:
    message = error(doc(data_type="string", fill_value="", codecs=[{"name": "bytes"}]))
    assert message.startswith("zarr.json field 'codecs' is invalid")


def test_must_understand_false_fields_round_trip() -> None:
    data = doc(
        dimension_names=["y", None],
        attributes={"a": [1, 2]},
        **{"zarrlayered.note": {"must_understand": False, "text": "kept"}, "other": {"must_understand": False}},
    )
    meta = ArrayV3Metadata.from_dict(data)
    assert meta.extra_fields == {
        "zarrlayered.note": {"must_understand": False, "text": "kept"},
        "other": {"must_understand": False},
    }
    out = meta.to_dict()
    assert out == data
    keys = list(out)
    assert keys[-2:] == ["zarrlayered.note", "other"]  # after the core fields, as zarr-python writes them
    assert keys.index("dimension_names") == keys.index("attributes") + 1
    reparsed = ArrayV3Metadata.from_dict(json.loads(meta.to_json_bytes()["zarr.json"]))
    assert reparsed == meta


def test_extra_fields_cannot_shadow_core_fields() -> None:
    with pytest.raises(MetadataValidationError, match="extension field 'shape' collides"):
        ArrayV3Metadata(
            shape=(2,),
            data_type=Int16(),
            chunk_grid=RegularChunkGrid(chunk_shape=(2,)),
            extra_fields={"shape": {"must_understand": False}},
        )


def test_storage_transformers_that_may_be_ignored_are_kept() -> None:
    transformer = {"name": "experimental", "must_understand": False, "configuration": {}}
    meta = ArrayV3Metadata.from_dict(doc(storage_transformers=[transformer]))
    assert meta.storage_transformers == (transformer,)
    assert meta.to_dict()["storage_transformers"] == [transformer]


@pytest.mark.parametrize(
    ("fill_json", "written", "bits"),
    [
        ("0x7fc00000", "NaN", "7fc00000"),
        ("0x7fc00001", "0x7fc00001", "7fc00001"),
        ("NaN", "NaN", "7fc00000"),
        ("Infinity", "Infinity", "7f800000"),
        ("-Infinity", "-Infinity", "ff800000"),
        ("0x3f800000", 1.0, "3f800000"),
        (2, 2.0, "40000000"),
    ],
)
def test_float_fill_values_in_documents(fill_json: Any, written: Any, bits: str) -> None:
    meta = ArrayV3Metadata.from_dict(
        doc(
            data_type="float32", fill_value=fill_json, codecs=[{"name": "bytes", "configuration": {"endian": "little"}}]
        )
    )
    assert meta.data_type == Float32()
    assert np.array(meta.fill_value, dtype=">f4").tobytes().hex() == bits
    assert meta.to_dict()["fill_value"] == written
    text = meta.to_json_bytes()["zarr.json"].decode()
    if written == "NaN":
        assert '"fill_value": "NaN"' in text


def test_nan_fill_metadata_compare_equal() -> None:
    a = ArrayV3Metadata.from_dict(doc(data_type="float32", fill_value="NaN"))
    b = ArrayV3Metadata.from_dict(doc(data_type="float32", fill_value="NaN"))
    assert a == b
    c = ArrayV3Metadata.from_dict(doc(data_type="float32", fill_value="0x7fc00001"))
    assert a != c


def test_complex_and_bytes_fill_values_in_documents() -> None:
    meta = ArrayV3Metadata.from_dict(doc(data_type="complex64", fill_value=["NaN", "-Infinity"]))
    assert math.isnan(meta.fill_value.real) and meta.fill_value.imag == -math.inf
    assert meta.to_dict()["fill_value"] == ["NaN", "-Infinity"]
    raw = ArrayV3Metadata.from_dict(doc(data_type="r16", fill_value=[1, 2], codecs=[{"name": "bytes"}]))
    assert raw.fill_value.tobytes() == b"\x01\x02"
    assert raw.to_dict()["data_type"] == "r16"
    assert raw.to_dict()["fill_value"] == [1, 2]


def test_big_endian_data_type_is_stored_without_byte_order() -> None:
    meta = ArrayV3Metadata(
        shape=(4,),
        data_type=">i2",  # type: ignore[arg-type]
        chunk_grid=RegularChunkGrid(chunk_shape=(2,)),
        codecs=(BytesCodec(endian="big"),),
    )
    assert meta.data_type == Int16()
    assert meta.dtype == np.dtype("<i2")
    assert meta.to_dict()["codecs"] == [{"name": "bytes", "configuration": {"endian": "big"}}]


def test_constructor_accepts_json_forms_and_defaults() -> None:
    meta = ArrayV3Metadata(
        shape=[6],  # type: ignore[arg-type]
        data_type="float32",  # type: ignore[arg-type]
        chunk_grid={"name": "regular", "configuration": {"chunk_shape": [3]}},  # type: ignore[arg-type]
    )
    assert meta.shape == (6,)
    assert meta.fill_value == 0 and isinstance(meta.fill_value, np.float32)
    assert meta.chunk_key_encoding == DefaultChunkKeyEncoding()
    assert [c.to_dict()["name"] for c in meta.codecs] == ["bytes"]


def test_one_byte_types_write_bytes_without_endian() -> None:
    meta = ArrayV3Metadata.from_dict(
        doc(data_type="uint8", codecs=[{"name": "bytes", "configuration": {"endian": "big"}}])
    )
    assert meta.to_dict()["codecs"] == [{"name": "bytes"}]


def test_structured_v3() -> None:
    data_type = {"name": "structured", "configuration": {"fields": [["a", "int32"], ["b", "float64"]]}}
    meta = ArrayV3Metadata.from_dict(
        doc(data_type=data_type, fill_value="AQAAAAAAAAAAAABA", codecs=[{"name": "bytes"}])
    )
    assert isinstance(meta.data_type, Structured)
    assert meta.fill_value["a"] == 1 and meta.fill_value["b"] == 2.0
    assert meta.to_dict()["data_type"] == data_type


def test_shared_operations() -> None:
    meta = ArrayV3Metadata.from_dict(doc(chunk_key_encoding={"name": "v2", "configuration": {"separator": "."}}))
    assert meta.encode_chunk_key((1, 3)) == "1.3"
    assert meta.chunk_key_encoding == V2ChunkKeyEncoding(".")
    grown = meta.update_shape((20, 8))
    assert grown.shape == (20, 8) and meta.shape == (10, 8)
    assert grown.to_dict()["shape"] == [20, 8]
    with pytest.raises(MetadataValidationError, match="must have 2 dimension"):
        meta.update_shape((20,))
    with pytest.raises(MetadataValidationError, match=r"zarr\.json field 'shape'"):
        meta.update_shape((-1, 3))
    titled = meta.update_attributes({"title": "x"})
    assert titled.attributes == {"title": "x"} and meta.attributes == {}
    assert titled != meta
    spec = meta.chunk_spec()
    assert spec == ChunkSpec(shape=(5, 4), dtype=np.dtype("<i2"), fill_value=meta.fill_value, order="C")


def test_codec_chain_round_trips_a_chunk() -> None:
    meta = ArrayV3Metadata.from_dict(
        doc(
            data_type="float32",
            fill_value=1.5,
            codecs=[
                {"name": "transpose", "configuration": {"order": [1, 0]}},
                {"name": "bytes", "configuration": {"endian": "big"}},
                {"name": "zstd", "configuration": {"level": 1, "checksum": False}},
            ],
        )
    )
    chain = meta.codec_chain()
    assert chain.codecs() == meta.codecs
    chunk = np.arange(20, dtype="f4").reshape(5, 4)
    encoded = chain.encode(chunk, meta.chunk_spec())
    np.testing.assert_array_equal(chain.decode(encoded, meta.chunk_spec()), chunk)


def test_rectilinear_grid() -> None:
    grid = {"name": "rectilinear", "configuration": {"kind": "inline", "chunk_shapes": [[2, 3, 5], 4]}}
    meta = ArrayV3Metadata.from_dict(doc(chunk_grid=grid))
    assert isinstance(meta.chunk_grid, RectilinearChunkGrid)
    assert meta.chunks == ((2, 3, 5), (4, 4))
    assert meta.chunk_spec((1, 0)).shape == (3, 4)
    assert meta.to_dict()["chunk_grid"] == grid
    too_short = {"name": "rectilinear", "configuration": {"kind": "inline", "chunk_shapes": [[2, 3], 4]}}
    assert "zarr.json field 'chunk_grid' is invalid" in error(doc(chunk_grid=too_short))


def test_parse_array_metadata_from_bytes() -> None:
    raw = json.dumps(doc(attributes={"x": math.nan})).encode()
    meta = parse_array_metadata({"zarr.json": raw})
    assert isinstance(meta, ArrayV3Metadata)
    assert math.isnan(meta.attributes["x"])
    assert re.search(rb'"x": NaN', meta.to_json_bytes()["zarr.json"])

"""Zarr V2 array metadata: zarr 2 documents (real ones when zarr 2 is installed), legacy fill values, errors."""

from __future__ import annotations

import json
import math
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import pytest

from zarrlayered.codecs.abc import ChunkSpec
from zarrlayered.codecs.numcodecs_adapter import V2Codec
from zarrlayered.core.chunk_grids import RegularChunkGrid
from zarrlayered.core.chunk_key_encodings import V2ChunkKeyEncoding
from zarrlayered.core.dtypes import ObjectType, Structured, VariableLengthBytes, VariableLengthUTF8
from zarrlayered.core.metadata import ArrayV2Metadata, GroupMetadata, parse_node_metadata
from zarrlayered.errors import MetadataValidationError, UnsafeCodecError

REPO = Path(__file__).resolve().parents[2]


def zarr2_python() -> str | None:
    """The interpreter of the zarr-python 2 environment (``make test`` sets it up), or None."""
    configured = os.environ.get("ZARRLAYERED_TEST_ZARR2_PYTHON")
    if configured:
        return configured
    local = REPO / ".venv-zarr2" / "bin" / "python"
    return str(local) if local.exists() else None


def zarr2_dumps(document: Any) -> bytes:
    """JSON as zarr 2.18 writes its metadata (indent 4, sorted keys)."""
    return json.dumps(document, indent=4, sort_keys=True, ensure_ascii=True, separators=(",", ": ")).encode()


def zarray(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "chunks": [2, 3],
        "compressor": {"blocksize": 0, "clevel": 5, "cname": "lz4", "id": "blosc", "shuffle": 1},
        "dtype": "<i4",
        "fill_value": 0,
        "filters": None,
        "order": "C",
        "shape": [4, 6],
        "zarr_format": 2,
    }
    for key, value in changes.items():
        if value is ...:
            base.pop(key)
        else:
            base[key] = value
    return base


def error(data: dict[str, Any], attributes: Any = None) -> str:
    with pytest.raises(MetadataValidationError) as info:
        ArrayV2Metadata.from_dict(data, attributes=attributes)
    return str(info.value)


# ------------------------------------------------------------------------------------------------ zarr 2 documents


@pytest.mark.parametrize(
    ("changes", "data_type", "fill"),
    [
        ({"dtype": "|O", "filters": [{"id": "vlen-utf8"}]}, VariableLengthUTF8(), ""),
        ({"dtype": "|O", "filters": [{"id": "vlen-bytes"}]}, VariableLengthBytes(), b""),
        (
            {
                "dtype": "|O",
                "filters": [
                    {
                        "id": "json2",
                        "encoding": "utf-8",
                        "skipkeys": False,
                        "ensure_ascii": True,
                        "check_circular": True,
                        "allow_nan": True,
                        "indent": None,
                        "separators": [",", ":"],
                        "sort_keys": True,
                        "strict": True,
                    }
                ],
            },
            ObjectType(codec_id="json2"),
            None,
        ),
        ({"dtype": "|O", "filters": [{"id": "vlen-utf8"}], "fill_value": "x"}, VariableLengthUTF8(), "x"),
        ({"dtype": "|O", "filters": [{"id": "vlen-utf8"}], "fill_value": None}, VariableLengthUTF8(), None),
    ],
)
def test_legacy_object_arrays(changes: dict[str, Any], data_type: Any, fill: Any) -> None:
    """zarr 2 wrote ``fill_value: 0`` on string/object arrays; it reads as "", b"" or None."""
    meta = parse_node_metadata({".zarray": zarr2_dumps(zarray(**changes)), ".zattrs": b"{}"})
    assert isinstance(meta, ArrayV2Metadata)
    assert meta.dtype == np.dtype("O")
    assert meta.data_type == data_type
    assert meta.fill_value == fill and type(meta.fill_value) is type(fill)
    assert meta.chunk_fill_value == (data_type.default_fill_value() if fill is None else fill)


def test_legacy_zero_on_fixed_strings() -> None:
    meta = ArrayV2Metadata.from_dict(zarray(dtype="<U3", fill_value=0))
    assert meta.fill_value == "" and meta.to_dict()["fill_value"] == ""
    meta = ArrayV2Metadata.from_dict(zarray(dtype="|S3", fill_value=0))
    assert meta.fill_value == b"" and meta.to_dict()["fill_value"] == ""


@pytest.mark.parametrize(
    ("dtype", "fill_json", "check"),
    [
        ("<f8", "NaN", lambda v: math.isnan(v)),
        ("<f4", "Infinity", lambda v: v == math.inf),
        (">f8", "-Infinity", lambda v: v == -math.inf),
        ("<f4", "0x7fc00000", lambda v: math.isnan(v)),
        ("<f8", 0, lambda v: v == 0.0),
        ("<c8", [1.0, "Infinity"], lambda v: v == complex(1, math.inf)),
        ("<c16", ["NaN", 0.0], lambda v: math.isnan(v.real) and v.imag == 0),
        ("|b1", False, lambda v: v is np.False_),
        ("|S3", "YWI=", lambda v: v == b"ab"),
        ("|V2", "AAE=", lambda v: v.tobytes() == b"\x00\x01"),
        ("<M8[ns]", -9223372036854775808, lambda v: np.isnat(v)),
        ("<m8[s]", 30, lambda v: v == np.timedelta64(30, "s")),
        ("<u8", 18446744073709551615, lambda v: v == 2**64 - 1),
        ("<i4", None, lambda v: v is None),
    ],
)
def test_fill_values_from_zarr2_documents(dtype: str, fill_json: Any, check: Any) -> None:
    meta = ArrayV2Metadata.from_dict(zarray(dtype=dtype, fill_value=fill_json))
    assert check(meta.fill_value)
    assert meta.dtype == np.dtype(dtype)


def test_structured_subarray_document() -> None:
    dtype_json = [["a", "<i4"], ["b", ">f8", [2]]]
    meta = ArrayV2Metadata.from_dict(zarray(dtype=dtype_json, fill_value="AAAAAAAAAAAAAAAAAAAAAAAAAAA="))
    assert meta.dtype == np.dtype([("a", "<i4"), ("b", ">f8", (2,))])
    assert isinstance(meta.data_type, Structured)
    assert meta.to_dict()["dtype"] == dtype_json
    assert meta.to_dict()["fill_value"] == "AAAAAAAAAAAAAAAAAAAAAAAAAAA="


def test_optional_keys_of_old_documents() -> None:
    """Old zarr 2 documents may lack dimension_separator, filters and order."""
    meta = ArrayV2Metadata.from_dict(zarray(filters=..., order=...))
    assert meta.dimension_separator == "." and meta.filters is None and meta.order == "C"
    assert meta.to_dict()["dimension_separator"] == "."


def test_empty_filter_list_reads_as_none() -> None:
    meta = ArrayV2Metadata.from_dict(zarray(filters=[]))
    assert meta.filters is None
    assert meta.to_dict()["filters"] is None


@pytest.mark.skipif(zarr2_python() is None, reason="zarr-python 2 environment not installed (make test sets it up)")
def test_real_zarr2_documents(tmp_path: Path) -> None:
    """Arrays and a consolidated group written by zarr-python 2.18 parse, and round trip their data model."""
    script = textwrap.dedent(
        """
        import sys, numcodecs, numpy as np, zarr
        root = zarr.open_group(sys.argv[1], mode="w")
        root.attrs["title"] = "legacy"
        root.create_dataset("s", shape=(4,), chunks=(2,), dtype=str)
        root.create_dataset("b", shape=(4,), chunks=(2,), dtype=bytes)
        root.create_dataset("o", shape=(4,), chunks=(2,), dtype=object, object_codec=numcodecs.JSON())
        root.create_dataset("f", shape=(5, 5), chunks=(2, 2), dtype=">f4", fill_value=np.nan, order="F")
        root.create_dataset("c", shape=(3,), chunks=(3,), dtype="c8", fill_value=complex(1, np.inf))
        root.create_dataset("st", shape=(3,), chunks=(3,), dtype=[("a", "<i4"), ("b", ">f8", (2,))])
        root.create_dataset("m", shape=(3,), chunks=(3,), dtype="M8[ns]", fill_value=None)
        root.create_dataset("nested/z", shape=(), dtype="u2", fill_value=7, dimension_separator="/")
        zarr.consolidate_metadata(sys.argv[1])
        """
    )
    python = zarr2_python()
    assert python is not None
    subprocess.run([python, "-c", script, str(tmp_path)], check=True, capture_output=True, timeout=120)

    def node(path: str) -> Any:
        base = tmp_path / path
        docs = {
            name: (base / name).read_bytes()
            for name in (".zarray", ".zgroup", ".zattrs", ".zmetadata")
            if (base / name).exists()
        }
        return parse_node_metadata(docs)

    s = node("s")
    assert s.data_type == VariableLengthUTF8() and s.fill_value == ""
    assert node("b").fill_value == b""
    o = node("o")
    assert o.data_type == ObjectType(codec_id="json2") and o.fill_value is None
    f = node("f")
    assert f.dtype == np.dtype(">f4") and math.isnan(f.fill_value) and f.order == "F"
    assert node("c").fill_value == complex(1, math.inf)
    assert node("st").dtype == np.dtype([("a", "<i4"), ("b", ">f8", (2,))])
    assert node("m").fill_value is None
    z = node("nested/z")
    assert z.shape == () and z.fill_value == 7 and z.encode_chunk_key(()) == "0" and z.dimension_separator == "/"
    root = node("")
    assert isinstance(root, GroupMetadata) and root.attributes == {"title": "legacy"}
    assert root.consolidated_metadata is not None
    assert sorted(root.consolidated_metadata.children()) == ["b", "c", "f", "m", "nested", "o", "s", "st"]
    assert root.consolidated_metadata.get("nested/z") == z
    # documents we write for these arrays read back equal (the legacy 0 becomes "" on rewrite)
    for path in ["s", "o", "f", "c", "st", "m", "nested/z"]:
        meta = node(path)
        assert parse_node_metadata(meta.to_json_bytes()) == meta


# ------------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"zarr_format": 3}, ".zarray field 'zarr_format' must be 2, got 3"),
        ({"dtype": ...}, ".zarray is missing the required field(s) ['dtype']"),
        ({"chunks": [0, 3]}, ".zarray field 'chunks' must be a list of positive integers, got [0, 3]"),
        ({"chunks": [2]}, ".zarray field 'chunks' has 1 dimension(s) but 'shape' has 2, got [2]"),
        ({"shape": [4, -6]}, ".zarray field 'shape' must be a list of non-negative integers, got [4, -6]"),
        ({"dtype": "<x9"}, ".zarray field 'dtype' is invalid"),
        ({"dtype": 5}, ".zarray field 'dtype' must be a string or a list, got 5"),
        ({"dtype": "|O"}, ".zarray field 'dtype' is invalid: dtype '|O' needs an object codec"),
        ({"fill_value": "abc"}, ".zarray field 'fill_value' must be an integer for data type 'int32', got 'abc'"),
        ({"fill_value": 2**40}, ".zarray field 'fill_value' must be an integer in [-2147483648, 2147483647]"),
        ({"order": "X"}, ".zarray field 'order' must be 'C' or 'F', got 'X'"),
        ({"dimension_separator": "-"}, ".zarray field 'dimension_separator' must be '.' or '/', got '-'"),
        ({"compressor": {"id": "no-such-codec"}}, ".zarray field 'compressor' is invalid"),
        ({"compressor": "zlib"}, ".zarray field 'compressor' is invalid"),
        ({"filters": {"id": "zlib"}}, ".zarray field 'filters' must be a list of codecs or null"),
        ({"filters": [None]}, ".zarray field 'filters' must not hold null entries"),
    ],
)
def test_errors_name_field_and_value(changes: dict[str, Any], message: str) -> None:
    assert message in error(zarray(**changes))


def test_bad_attributes() -> None:
    assert ".zattrs attributes must be a JSON object" in error(zarray(), attributes=[1, 2])


def test_pickle_is_refused() -> None:
    with pytest.raises(UnsafeCodecError, match="pickle"):
        ArrayV2Metadata.from_dict(zarray(dtype="|O", filters=[{"id": "pickle", "protocol": 5}]))


def test_invalid_json_documents() -> None:
    with pytest.raises(MetadataValidationError, match=r"\.zarray is not valid JSON"):
        parse_node_metadata({".zarray": b"{not json"})
    with pytest.raises(MetadataValidationError, match=r"\.zarray must hold a JSON object, got \[1\]"):
        parse_node_metadata({".zarray": b"[1]"})
    with pytest.raises(MetadataValidationError, match=r"\.zattrs must hold a JSON object"):
        parse_node_metadata({".zarray": zarr2_dumps(zarray()), ".zattrs": b'"x"'})


# ------------------------------------------------------------------------------------------------ shared API


def test_shared_properties_and_operations() -> None:
    meta = ArrayV2Metadata(
        shape=(10, 7),
        chunks=(4, 4),
        dtype=np.dtype(">u2"),
        compressor=numcodecs.Zlib(level=1),
        fill_value=3,
        order="F",
        dimension_separator="/",
        attributes={"a": 1},
    )
    assert meta.ndim == 2
    assert meta.zarr_format == 2
    assert meta.chunk_grid == RegularChunkGrid(chunk_shape=(4, 4))
    assert meta.chunk_key_encoding == V2ChunkKeyEncoding("/")
    assert meta.encode_chunk_key((2, 1)) == "2/1"
    assert meta.dimension_names is None
    assert meta.fill_value == 3 and meta.fill_value.dtype == np.dtype("u2")
    chain = meta.codec_chain()
    assert chain.array_array == () and chain.bytes_bytes == ()
    assert chain.array_bytes == V2Codec(filters=None, compressor=numcodecs.Zlib(level=1))
    spec = meta.chunk_spec()
    assert spec == ChunkSpec(shape=(4, 4), dtype=np.dtype(">u2"), fill_value=meta.fill_value, order="F")
    chunk = np.arange(16, dtype=">u2").reshape(4, 4)
    np.testing.assert_array_equal(chain.decode(chain.encode(chunk, spec), spec), chunk)
    bigger = meta.update_shape((20, 7))
    assert bigger.shape == (20, 7) and bigger.to_dict()["shape"] == [20, 7]
    assert bigger.to_json_bytes()[".zattrs"] == meta.to_json_bytes()[".zattrs"]
    renamed = meta.update_attributes({"b": [1, math.nan]})
    assert json.loads(renamed.to_json_bytes()[".zattrs"].replace(b"NaN", b"null")) == {"b": [1, None]}
    assert meta.attributes == {"a": 1}


def test_constructor_normalises_inputs() -> None:
    meta = ArrayV2Metadata(
        shape=[3],  # type: ignore[arg-type]
        chunks=[3],  # type: ignore[arg-type]
        dtype="str",  # type: ignore[arg-type]
        filters=[{"id": "vlen-utf8"}],  # type: ignore[arg-type]
        compressor={"id": "zstd", "level": 1},  # type: ignore[arg-type]
        fill_value="",
    )
    assert meta.dtype == VariableLengthUTF8().numpy_dtype  # StringDType on numpy 2, as zarr-python 3
    assert meta.data_type == VariableLengthUTF8()
    assert meta.to_dict()["compressor"] == {"id": "zstd", "level": 1}
    assert meta.to_dict()["filters"] == [{"id": "vlen-utf8"}]
    with pytest.raises(MetadataValidationError, match=r"\.zarray field 'fill_value' must be an integer"):
        ArrayV2Metadata(shape=(3,), chunks=(3,), dtype=np.dtype("i4"), fill_value="x")


def test_zstd_checksum_kept_when_true() -> None:
    meta = ArrayV2Metadata(
        shape=(3,), chunks=(3,), dtype=np.dtype("i4"), compressor=numcodecs.Zstd(level=2, checksum=True)
    )
    assert meta.to_dict()["compressor"] == {"id": "zstd", "level": 2, "checksum": True}

"""Data types: parse_dtype, V2/V3 JSON forms, fill value encoding, registry and entry points."""

from __future__ import annotations

import math
import textwrap
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr.dtype

from zarrlayered.core import dtypes
from zarrlayered.core.dtypes import (
    Bool,
    Complex64,
    Complex128,
    DataType,
    DateTime64,
    FixedLengthUTF32,
    Float16,
    Float32,
    Float64,
    Int8,
    Int16,
    Int32,
    InvalidFillValueError,
    NullTerminatedBytes,
    ObjectType,
    RawBits,
    RawBytes,
    Structured,
    TimeDelta64,
    UInt8,
    UInt64,
    VariableLengthBytes,
    VariableLengthUTF8,
    data_type_from_v2,
    parse_dtype,
    parse_v2_dtype,
    parse_v3_data_type,
    register_data_type,
    v2_dtype_to_json,
    v2_fill_value_from_json,
    v2_fill_value_to_json,
)
from zarrlayered.core.dtypes import registry as dtype_registry
from zarrlayered.errors import MetadataValidationError

# ------------------------------------------------------------------------------------------------ parse_dtype

PARSE_CASES: list[tuple[Any, DataType]] = [
    ("int32", Int32()),
    (np.int32, Int32()),
    ("<f8", Float64()),
    (">i2", Int16(endianness="big")),
    ("bool", Bool()),
    (bool, Bool()),
    ("|b1", Bool()),
    ("i1", Int8()),
    ("uint8", UInt8()),
    (np.uint64, UInt64()),
    ("float16", Float16()),
    (">c16", Complex128(endianness="big")),
    ("complex64", Complex64()),
    ("str", VariableLengthUTF8()),
    (str, VariableLengthUTF8()),
    ("string", VariableLengthUTF8()),
    (np.dtypes.StringDType(), VariableLengthUTF8()),
    ("bytes", VariableLengthBytes()),
    (bytes, VariableLengthBytes()),
    ("variable_length_bytes", VariableLengthBytes()),
    ("|S10", NullTerminatedBytes(length=10)),
    ("S3", NullTerminatedBytes(length=3)),
    ("<U5", FixedLengthUTF32(length=5)),
    (">U5", FixedLengthUTF32(length=5, endianness="big")),
    ("V8", RawBytes(length=8)),
    ("r16", RawBits(length=2)),
    ("M8[ns]", DateTime64(unit="ns")),
    ("<m8[10s]", TimeDelta64(unit="s", scale_factor=10)),
    (
        {"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 10}},
        DateTime64(unit="s", scale_factor=10),
    ),
    ({"name": "int16"}, Int16()),
    ([("a", "<i4"), ("b", "<f8")], Structured(fields=(("a", Int32(), ()), ("b", Float64(), ())))),
]


@pytest.mark.parametrize(("value", "expected"), PARSE_CASES, ids=[repr(c[0]) for c in PARSE_CASES])
def test_parse_dtype(value: Any, expected: DataType) -> None:
    assert parse_dtype(value, 3) == expected


@pytest.mark.parametrize(
    "value",
    ["int32", np.int32, "<f8", ">i2", "bool", "|S10", "<U5", ">U5", "V8", "M8[ns]", "<m8[10s]", "complex64", str],
)
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_parse_dtype_matches_zarr_python(value: Any, zarr_format: int) -> None:
    """Same numpy dtype and V2/V3 JSON as zarr-python 3's own parse_dtype."""
    theirs = zarr.dtype.parse_dtype(value, zarr_format=zarr_format)  # type: ignore[arg-type]
    ours = parse_dtype(value, zarr_format)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        their_json = theirs.to_json(zarr_format=zarr_format)  # type: ignore[call-overload]
    if zarr_format == 2:
        assert ours.to_v2_json() == their_json["name"]
        if ours.numpy_dtype.kind != "O":
            assert ours.numpy_dtype == theirs.to_native_dtype()
    else:
        assert ours.to_json() == their_json


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("O", "numpy object dtype is ambiguous"),
        (object, "numpy object dtype is ambiguous"),
        ("S", "has length 0"),
        ("U", "has length 0"),
        ("not-a-dtype", "'not-a-dtype' is not a data type"),
        ("<f16", "has no Zarr data type"),
        ({"name": "bfloat17"}, "unknown data type 'bfloat17'"),
        ({"name": "fixed_length_utf32", "configuration": {"length_bytes": 6}}, "multiple of 4"),
        ({"name": "raw_bytes", "configuration": {"length_bytes": 0}}, "positive integer"),
        ({"name": "raw_bytes", "configuration": {"size": 3}}, "exactly the keys ['length_bytes']"),
        ("r12", "multiple of 8"),
    ],
)
def test_parse_dtype_errors(value: Any, message: str) -> None:
    with pytest.raises(MetadataValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_dtype(value, 3)


def test_raw_bits_is_v3_only() -> None:
    with pytest.raises(MetadataValidationError, match="exists only in Zarr V3"):
        parse_dtype("r16", 2)


def test_parse_dtype_rejects_bad_format() -> None:
    with pytest.raises(MetadataValidationError, match="zarr_format must be 2 or 3, got 4"):
        parse_dtype("int8", 4)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ V3 JSON

V3_JSON_CASES: list[tuple[Any, DataType]] = [
    ("bool", Bool()),
    ("int8", Int8()),
    ("uint64", UInt64()),
    ("float32", Float32()),
    ("complex128", Complex128()),
    ("string", VariableLengthUTF8()),
    ("variable_length_bytes", VariableLengthBytes()),
    ("r8", RawBits(length=1)),
    ({"name": "null_terminated_bytes", "configuration": {"length_bytes": 10}}, NullTerminatedBytes(length=10)),
    ({"name": "fixed_length_utf32", "configuration": {"length_bytes": 20}}, FixedLengthUTF32(length=5)),
    ({"name": "raw_bytes", "configuration": {"length_bytes": 3}}, RawBytes(length=3)),
    (
        {"name": "numpy.timedelta64", "configuration": {"unit": "s", "scale_factor": 10}},
        TimeDelta64(unit="s", scale_factor=10),
    ),
    (
        {
            "name": "structured",
            "configuration": {
                "fields": [
                    ["a", "int32"],
                    ["b", {"name": "null_terminated_bytes", "configuration": {"length_bytes": 2}}],
                ]
            },
        },
        Structured(fields=(("a", Int32(), ()), ("b", NullTerminatedBytes(length=2), ()))),
    ),
]


@pytest.mark.parametrize(("json_value", "expected"), V3_JSON_CASES, ids=[str(c[0]) for c in V3_JSON_CASES])
def test_v3_json_round_trip(json_value: Any, expected: DataType) -> None:
    parsed = parse_v3_data_type(json_value)
    assert parsed == expected
    assert parsed.to_json() == json_value


def test_v3_reads_bytes_alias() -> None:
    assert parse_v3_data_type("bytes") == VariableLengthBytes()
    assert VariableLengthBytes().to_json() == "variable_length_bytes"


def test_v3_has_no_byte_order() -> None:
    big = parse_dtype(">f8", 3)
    assert big.numpy_dtype == np.dtype(">f8")
    assert big.to_json() == "float64"
    assert big.with_native_layout().numpy_dtype == np.dtype("<f8")


def test_object_type_has_no_v3_form() -> None:
    with pytest.raises(MetadataValidationError, match="exist only in Zarr V2"):
        ObjectType(codec_id="json2").to_json()
    with pytest.raises(MetadataValidationError, match="codec must be one of"):
        ObjectType(codec_id="zlib")


def test_structured_subarray_fields() -> None:
    dt = parse_dtype([("a", "<i4"), ("b", ">f8", (2,))], 2)
    assert dt.to_v2_json() == [["a", "<i4"], ["b", ">f8", [2]]]
    assert parse_v2_dtype(dt.to_v2_json()) == np.dtype([("a", "<i4"), ("b", ">f8", (2,))])
    with pytest.raises(MetadataValidationError, match="subarray shape"):
        dt.to_json()


# ------------------------------------------------------------------------------------------------ V2 JSON


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<i4", np.dtype("<i4")),
        ("|b1", np.dtype(bool)),
        (">f8", np.dtype(">f8")),
        ("|S10", np.dtype("S10")),
        ("<U5", np.dtype("<U5")),
        ("<M8[ns]", np.dtype("<M8[ns]")),
        ("|O", np.dtype("O")),
        (
            [["a", "<i4"], ["b", [["c", "|u1"], ["d", "|S2"]]]],
            np.dtype([("a", "<i4"), ("b", [("c", "u1"), ("d", "S2")])]),
        ),
    ],
)
def test_v2_dtype_round_trip(value: Any, expected: np.dtype[Any]) -> None:
    parsed = parse_v2_dtype(value)
    assert parsed == expected
    assert v2_dtype_to_json(parsed) == value


@pytest.mark.parametrize("value", ["nope", 3, [], [["a"]], [["a", 5]], [["a", "<i4", "x"]]])
def test_v2_dtype_errors(value: Any) -> None:
    with pytest.raises(MetadataValidationError, match="dtype"):
        parse_v2_dtype(value)


@pytest.mark.parametrize(
    ("codec_id", "expected"),
    [
        ("vlen-utf8", VariableLengthUTF8()),
        ("vlen-bytes", VariableLengthBytes()),
        ("json2", ObjectType(codec_id="json2")),
        ("msgpack2", ObjectType(codec_id="msgpack2")),
        ("pickle", ObjectType(codec_id="pickle")),
    ],
)
def test_v2_object_dtypes(codec_id: str, expected: DataType) -> None:
    assert data_type_from_v2(np.dtype("O"), codec_id) == expected
    assert expected.to_v2_json() == "|O"
    assert expected.object_codec_id == codec_id


def test_v2_object_dtype_needs_codec() -> None:
    with pytest.raises(MetadataValidationError, match=r"dtype '\|O' needs an object codec"):
        data_type_from_v2(np.dtype("O"), None)


# ------------------------------------------------------------------------------------------------ fill values


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.generic) and isinstance(b, np.generic):
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    return type(a) is type(b) and a == b


FILL_JSON_CASES: list[tuple[DataType, Any, Any]] = [
    # (data type, fill value, V3 JSON)
    (Bool(), True, True),
    (Int8(), -128, -128),
    (UInt64(), 2**64 - 1, 2**64 - 1),
    (Float32(), math.nan, "NaN"),
    (Float64(), math.inf, "Infinity"),
    (Float16(), -math.inf, "-Infinity"),
    (Float64(), 1.5, 1.5),
    (Float64(), -0.0, -0.0),
    (Complex64(), complex(1, math.nan), [1.0, "NaN"]),
    (Complex128(), complex(math.inf, -2), ["Infinity", -2.0]),
    (NullTerminatedBytes(length=4), b"ab", "YWI="),
    (RawBytes(length=3), b"ab", "YWIA"),
    (RawBits(length=2), b"\x01\xff", [1, 255]),
    (FixedLengthUTF32(length=3), "héé", "héé"),
    (VariableLengthUTF8(), "abc", "abc"),
    (VariableLengthBytes(), b"xyz", "eHl6"),
    (DateTime64(unit="ns"), "2020-01-01", 1577836800000000000),
    (DateTime64(unit="ns"), "NaT", -(2**63)),
    (TimeDelta64(unit="s", scale_factor=10), 5, 5),
    (Structured(fields=(("a", Int32(), ()), ("b", Float64(), ()))), (1, 2.0), "AQAAAAAAAAAAAABA"),
]


@pytest.mark.parametrize(
    ("dtype", "value", "json_value"), FILL_JSON_CASES, ids=[f"{c[0]!r}-{c[1]!r}" for c in FILL_JSON_CASES]
)
def test_fill_value_json_round_trip(dtype: DataType, value: Any, json_value: Any) -> None:
    cast = dtype.cast_fill_value(value)
    encoded = dtype.fill_value_to_json(cast)
    if isinstance(json_value, float) and json_value == 0:
        assert math.copysign(1, encoded) == math.copysign(1, json_value)
    assert encoded == json_value
    decoded = dtype.fill_value_from_json(encoded)
    assert _same(decoded, cast) or (isinstance(decoded, np.void) and decoded.tobytes() == cast.tobytes())
    assert (
        _same(dtype.cast_fill_value(cast), cast) or dtype.fill_value_to_json(dtype.cast_fill_value(cast)) == json_value
    )


@pytest.mark.parametrize(
    ("dtype", "json_value", "expected_bits"),
    [
        (Float32(), "0x7fc00000", "7fc00000"),
        (Float32(), "0x7fc00001", "7fc00001"),  # a NaN payload survives
        (Float32(), "0x3f800000", "3f800000"),
        (Float64(), "0x3ff0000000000000", "3ff0000000000000"),
        (Float16(), "0x3c00", "3c00"),
        (Float64(), "0x3f800000", "3ff0000000000000"),  # a float32 bit pattern read as its value
    ],
)
def test_hex_float_fill_values(dtype: DataType, json_value: str, expected_bits: str) -> None:
    value = dtype.fill_value_from_json(json_value)
    assert np.array(value).astype(dtype.numpy_dtype.newbyteorder(">")).tobytes().hex() == expected_bits


def test_nan_payload_round_trips_as_hex() -> None:
    dt = Float32()
    odd_nan = dt.fill_value_from_json("0x7fc00001")
    assert dt.fill_value_to_json(odd_nan) == "0x7fc00001"
    assert dt.fill_value_to_json(np.float32("nan")) == "NaN"
    assert dt.v2_fill_value_to_json(odd_nan) == "NaN"  # V2 has no hex form


def test_complex_hex_parts() -> None:
    value = Complex64().fill_value_from_json(["0x7fc00000", "0x3f800000"])
    assert math.isnan(value.real) and value.imag == 1.0


@pytest.mark.parametrize(
    ("dtype", "json_value", "message"),
    [
        (Int8(), 128, r"must be an integer in \[-128, 127\] for data type 'int8', got 128"),
        (Int16(), "abc", "must be an integer for data type 'int16', got 'abc'"),
        (Int16(), True, "got True"),
        (UInt8(), -1, r"\[0, 255\]"),
        (Bool(), "yes", "must be true or false"),
        (Float32(), "nan", None),  # accepted: float("nan") parses
        (Float32(), "0x123", "must be a number"),
        (Float16(), 1e10, "must be a number"),
        (Float32(), None, "got None"),
        (Complex64(), 1.0, r"must be a pair \[real, imag\]"),
        (NullTerminatedBytes(length=2), "not base64!", "must be a base64 string"),
        (RawBits(length=2), [1], "must be a list of 2 integers"),
        (RawBytes(length=2), "AAAAAA==", "must be at most 2 bytes"),
        (VariableLengthUTF8(), 5, "must be a string"),
        (DateTime64(unit="ns"), 1.5, 'must be an integer or "NaT"'),
        (Structured(fields=(("a", Int32(), ()),)), "AAA=", "must be 4 bytes"),
    ],
)
def test_fill_value_errors_name_the_value(dtype: DataType, json_value: Any, message: str | None) -> None:
    if message is None:
        assert math.isnan(dtype.fill_value_from_json(json_value))
        return
    with pytest.raises(InvalidFillValueError, match=message) as info:
        dtype.fill_value_from_json(json_value)
    assert str(info.value).startswith("fill value must be")
    assert isinstance(info.value, MetadataValidationError)


@pytest.mark.parametrize(
    ("dtype", "value"),
    [(Int8(), 300), (UInt8(), -1), (Int16(), "x"), (Bool(), None), (Float32(), "abc"), (DateTime64(), 5)],
)
def test_cast_fill_value_errors(dtype: DataType, value: Any) -> None:
    with pytest.raises(InvalidFillValueError, match=repr(value).replace("(", r"\(")):
        dtype.cast_fill_value(value)


def test_default_fill_values() -> None:
    assert Int16().default_fill_value() == 0
    assert Float64().fill_value_to_json(Float64().default_fill_value()) == 0.0
    assert Complex64().fill_value_to_json(Complex64().default_fill_value()) == [0.0, 0.0]
    assert VariableLengthUTF8().default_fill_value() == ""
    assert VariableLengthBytes().default_fill_value() == b""
    assert RawBytes(length=3).fill_value_to_json(RawBytes(length=3).default_fill_value()) == "AAAA"
    nat = DateTime64(unit="ns").default_fill_value()
    assert np.isnat(nat) and nat.dtype == np.dtype("M8[ns]")
    assert ObjectType(codec_id="json2").default_fill_value() is None


# V2 fill values: null, legacy 0 on string/object arrays, base64 bytes, special floats


@pytest.mark.parametrize(
    ("json_value", "dtype", "codec", "expected"),
    [
        (None, "<f8", None, None),
        ("NaN", "<f4", None, np.float32("nan")),
        ("Infinity", "<f8", None, np.float64("inf")),
        ("-Infinity", "<f2", None, np.float16("-inf")),
        (0, "|O", "vlen-utf8", ""),
        (0, "|O", "vlen-bytes", b""),
        (0, "|O", "json2", None),
        (0, "|O", "msgpack2", None),
        (0, "<U3", None, np.str_("")),
        (0, "|S3", None, np.bytes_(b"")),
        ("", "|O", "vlen-utf8", ""),
        ("abc", "|O", "vlen-utf8", "abc"),
        ("YWI=", "|S4", None, np.bytes_(b"ab")),
        ("YWI=", "|O", "vlen-bytes", b"ab"),
        ([1.0, "NaN"], "<c8", None, np.complex64(complex(1, math.nan))),
        ({"a": [1, 2]}, "|O", "json2", {"a": [1, 2]}),
        (7, "<i8", None, np.int64(7)),
        (0.0, "<i4", None, np.int32(0)),
        (-9223372036854775808, "<M8[ns]", None, np.datetime64("NaT", "ns")),
    ],
)
def test_v2_fill_value_from_json(json_value: Any, dtype: str, codec: str | None, expected: Any) -> None:
    value = v2_fill_value_from_json(json_value, np.dtype(dtype), codec)
    if isinstance(expected, np.generic) and expected.dtype.kind in "fcmM":
        assert value.tobytes() == expected.tobytes()
    else:
        assert _same(value, expected) or value == expected


@pytest.mark.parametrize(
    ("value", "dtype", "codec", "expected"),
    [
        (None, "<f8", None, None),
        (math.nan, "<f8", None, "NaN"),
        (math.inf, ">f4", None, "Infinity"),
        (b"ab", "|S4", None, "YWI="),
        (b"ab", "|V3", None, "YWIA"),
        ("x", "|O", "vlen-utf8", "x"),
        (b"\x00", "|O", "vlen-bytes", "AA=="),
        (complex(1, 2), "<c16", None, [1.0, 2.0]),
        (True, "|b1", None, True),
        (np.datetime64("2020-01-01", "D"), "<M8[ns]", None, 1577836800000000000),
    ],
)
def test_v2_fill_value_to_json(value: Any, dtype: str, codec: str | None, expected: Any) -> None:
    assert v2_fill_value_to_json(value, np.dtype(dtype), codec) == expected


# ------------------------------------------------------------------------------------------------ registry


def test_register_data_type_at_runtime() -> None:
    from dataclasses import dataclass
    from typing import ClassVar

    @dataclass(frozen=True)
    class Int4(Int8):
        name: ClassVar[str] = "test.int4"

        def to_json(self) -> str:
            return self.name

        @classmethod
        def from_numpy(cls, dtype: np.dtype[Any]) -> Int4:
            from zarrlayered.core.dtypes.base import DataTypeMismatch

            raise DataTypeMismatch

    with pytest.raises(MetadataValidationError, match=r"unknown data type 'test\.int4'"):
        parse_v3_data_type("test.int4")
    with dtype_registry.DATA_TYPE_REGISTRY.restoring():  # the registration is undone at the end
        register_data_type("test.int4", Int4)
        assert parse_v3_data_type("test.int4") == Int4()
        assert parse_dtype("test.int4", 3) == Int4()
        assert parse_dtype("int8", 3) == Int8()  # the built-ins still win for their own dtypes


def test_register_data_type_rejects_non_classes() -> None:
    with pytest.raises(TypeError, match="DataType subclass"):
        register_data_type("x", int)  # type: ignore[arg-type]


def test_entry_point_data_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A data type shipped by an installed distribution under the 'zarrlayered.data_types' group is found."""
    (tmp_path / "zl_test_dtype_plugin.py").write_text(
        textwrap.dedent(
            """
            from dataclasses import dataclass
            from typing import ClassVar
            from zarrlayered.core.dtypes import Int8

            @dataclass(frozen=True)
            class PluginInt8(Int8):
                name: ClassVar[str] = "plugin.int8"

                def to_json(self):
                    return self.name

                @classmethod
                def from_json(cls, data):
                    from zarrlayered.core.dtypes.base import DataTypeMismatch
                    if data != cls.name:
                        raise DataTypeMismatch
                    return cls()

                @classmethod
                def from_numpy(cls, dtype):
                    from zarrlayered.core.dtypes.base import DataTypeMismatch
                    raise DataTypeMismatch
            """
        )
    )
    dist = tmp_path / "zl_test_dtype_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: zl-test-dtype-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[zarrlayered.data_types]\nplugin.int8 = zl_test_dtype_plugin:PluginInt8\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with dtype_registry.DATA_TYPE_REGISTRY.restoring():  # the plug-in is forgotten at the end
        dtype_registry.DATA_TYPE_REGISTRY.refresh_entry_points()  # list the group again, with the new distribution
        parsed = parse_v3_data_type("plugin.int8")
        assert type(parsed).__name__ == "PluginInt8"
        assert parsed.to_json() == "plugin.int8"
        assert parsed.numpy_dtype == np.dtype("i1")
        assert "plugin.int8" in dtypes.registered_data_types()


@pytest.mark.parametrize(
    ("theirs", "expected"),
    [
        (zarr.dtype.Int32(endianness="big"), Int32(endianness="big")),
        (zarr.dtype.Float64(), Float64()),
        (zarr.dtype.VariableLengthUTF8(), VariableLengthUTF8()),  # type: ignore[no-untyped-call]
        (zarr.dtype.VariableLengthBytes(), VariableLengthBytes()),
        (zarr.dtype.FixedLengthUTF32(length=3), FixedLengthUTF32(length=3)),
        (zarr.dtype.DateTime64(unit="s", scale_factor=10), DateTime64(unit="s", scale_factor=10)),
        (zarr.dtype.Structured(fields=(("a", zarr.dtype.Int8()),)), Structured(fields=(("a", Int8(), ()),))),
    ],
    ids=repr,
)
def test_parse_dtype_accepts_zarr_python_data_types(theirs: Any, expected: DataType) -> None:
    assert parse_dtype(theirs, 3) == expected

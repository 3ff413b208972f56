"""Fill values spelled the ways other writers spell them: hex floats, "NaN"/"Infinity", and V2's legacy forms.

Each document is written by hand (as tensorstore, zarr-python or older writers leave them) with one chunk
missing; zarrlayered must report the fill value and read it in the missing chunk, and so must the reference
readers where they understand the spelling.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tensorstore as ts
import zarr

import zarrlayered


def _v3_document(data_type: str, fill_value: Any) -> dict[str, Any]:
    return {
        "zarr_format": 3, "node_type": "array", "shape": [4], "data_type": data_type,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill_value, "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
        "attributes": {},
    }


def _write(path: Path, name: str, document: dict[str, Any], chunk: bytes | None = None, key: str = "") -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / name).write_text(json.dumps(document))
    if chunk is not None:
        (path / key).parent.mkdir(parents=True, exist_ok=True)
        (path / key).write_bytes(chunk)


def _bits(value: Any, dtype: str) -> bytes:
    return np.asarray(value, dtype=dtype).tobytes()


# (data type, JSON fill value, numpy dtype, expected fill value)
V3_FILLS = [
    ("float32", "0x7fc00000", "<f4", np.float32(np.nan)),
    ("float32", "0x7fc00001", "<f4", np.frombuffer(bytes.fromhex("0100c07f"), "<f4")[0]),  # NaN with a payload
    ("float32", "0x3f800000", "<f4", np.float32(1.0)),
    ("float32", "0xff800000", "<f4", np.float32(-np.inf)),
    ("float64", "0x7ff8000000000000", "<f8", np.float64(np.nan)),
    ("float64", "0x4000000000000000", "<f8", np.float64(2.0)),
    ("float16", "0x7e00", "<f2", np.float16(np.nan)),
    ("float16", "0x3c00", "<f2", np.float16(1.0)),
    ("float32", "NaN", "<f4", np.float32(np.nan)),
    ("float64", "Infinity", "<f8", np.float64(np.inf)),
    ("float64", "-Infinity", "<f8", np.float64(-np.inf)),
    ("float16", "-Infinity", "<f2", np.float16(-np.inf)),
    ("float64", 0, "<f8", np.float64(0.0)),
    ("float64", -0.0, "<f8", np.float64(-0.0)),
    ("float32", 1e38, "<f4", np.float32(1e38)),
    ("complex64", ["NaN", "0x3f800000"], "<c8", np.complex64(complex(np.nan, 1.0))),
    ("complex128", ["-Infinity", 2.5], "<c16", np.complex128(complex(-np.inf, 2.5))),
]


def _same(a: Any, b: Any, dtype: str) -> bool:
    """Bit-identical fill values (NaN payloads and the sign of zero count)."""
    return _bits(a, dtype) == _bits(b, dtype)


@pytest.mark.parametrize(
    ("data_type", "fill", "dtype", "expected"),
    [pytest.param(*row, id=f"{row[0]}-{row[1]}") for row in V3_FILLS],
)
def test_v3_fill_value_spellings(data_type: str, fill: Any, dtype: str, expected: Any, tmp_path: Path) -> None:
    path = tmp_path / "a.zarr"
    written = np.arange(2, dtype=dtype) + 3
    _write(path, "zarr.json", _v3_document(data_type, fill), written.tobytes(), "c/0")
    array = zarrlayered.open_array(str(path), mode="r")
    assert _same(array.fill_value, expected, dtype), (array.fill_value, expected)
    got = array[...]
    assert _bits(got[:2], dtype) == written.tobytes()
    assert _bits(got[2:], dtype) == _bits([expected, expected], dtype)
    # the reference readers agree on the values
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(zarr.open_array(str(path), mode="r")[...], got)
    spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": str(path)}}
    np.testing.assert_array_equal(ts.open(spec, open=True, read=True).result().read().result(), got)


V2_FILLS = [
    ("<f4", "NaN", np.float32(np.nan)),
    ("<f8", "Infinity", np.float64(np.inf)),
    (">f8", "-Infinity", np.float64(-np.inf)),
    ("<f8", 0, np.float64(0.0)),
    ("<f2", 1, np.float16(1.0)),
    ("<c16", [1.0, "NaN"], np.complex128(complex(1.0, np.nan))),
    ("<c8", ["Infinity", 0], np.complex64(complex(np.inf, 0.0))),
    ("|b1", 1, np.True_),
    ("|b1", False, np.False_),
    ("<i4", None, None),
    ("<u8", 18446744073709551615, np.uint64(2**64 - 1)),
    ("<M8[s]", -9223372036854775808, np.datetime64("NaT", "s")),
    ("<M8[s]", 10, np.datetime64(10, "s")),
    ("|S3", "YWI=", np.bytes_(b"ab")),
    ("<U2", "", np.str_("")),
]


@pytest.mark.parametrize(
    ("dtype", "fill", "expected"), [pytest.param(*row, id=f"{row[0]}-{row[1]}") for row in V2_FILLS]
)
def test_v2_fill_value_spellings(dtype: str, fill: Any, expected: Any, tmp_path: Path) -> None:
    path = tmp_path / "a.zarr"
    np_dtype = np.dtype(dtype)
    written = (np.arange(2) + 3).astype(np_dtype) if np_dtype.kind not in "SU" else np.array(["x", "yz"], np_dtype)
    document = {"zarr_format": 2, "shape": [4], "chunks": [2], "dtype": dtype, "fill_value": fill,
                "order": "C", "filters": None, "compressor": None}
    _write(path, ".zarray", document, written.tobytes(), "0")
    array = zarrlayered.open_array(str(path), mode="r")
    got = array[...]
    assert got.dtype == np_dtype
    np.testing.assert_array_equal(got[:2], written)
    if expected is None:  # no fill value: unwritten elements are zeros
        assert array.fill_value is None
        np.testing.assert_array_equal(got[2:], np.zeros(2, np_dtype))
        return
    assert _same(array.fill_value, expected, dtype), (array.fill_value, expected)
    np.testing.assert_array_equal(got[2:], np.array([expected, expected], dtype=np_dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(zarr.open_array(str(path), mode="r")[...], got)


def test_hex_fill_value_is_kept_when_rewritten(tmp_path: Path) -> None:
    """Updating an array whose fill value is a NaN with a payload keeps the payload (as hex) in the document."""
    path = tmp_path / "a.zarr"
    _write(path, "zarr.json", _v3_document("float32", "0x7fc00001"))
    array = zarrlayered.open_array(str(path), mode="r+")
    array.attrs["touched"] = True
    document = json.loads((path / "zarr.json").read_text())
    assert document["attributes"] == {"touched": True}
    assert document["fill_value"] == "0x7fc00001"


def test_nan_infinity_written_as_strings(tmp_path: Path) -> None:
    """We write non-finite fill values as the strings the specs use, never as bare NaN/Infinity tokens."""
    for fmt in (2, 3):
        for fill, token in ((math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity")):
            path = tmp_path / f"v{fmt}-{token}.zarr"
            zarrlayered.create_array(str(path), shape=(2,), dtype="float64", fill_value=fill, zarr_format=fmt)
            text = (path / (".zarray" if fmt == 2 else "zarr.json")).read_text()
            assert json.loads(text)["fill_value"] == token
            assert f'"fill_value": "{token}"' in text


@pytest.mark.parametrize(
    ("dtype", "filters", "expected"),
    [
        pytest.param("|S3", None, b"", id="fixed-bytes"),
        pytest.param("<U2", None, "", id="fixed-unicode"),
        pytest.param("|O", [{"id": "vlen-utf8"}], "", id="vlen-utf8"),
        pytest.param("|O", [{"id": "vlen-bytes"}], b"", id="vlen-bytes"),
        pytest.param("|O", [{"id": "json2", "encoding": "utf-8"}], None, id="json"),
    ],
)
def test_v2_historic_zero_fill_on_string_and_object_arrays(
    dtype: str, filters: Any, expected: Any, tmp_path: Path
) -> None:
    """zarr-python 2 wrote ``"fill_value": 0`` for string and object arrays; zarr-python 3.1 rejects it (fixed-length)
    or reads the string "0"; we read it as the empty value of the type (None for other objects)."""
    path = tmp_path / "a.zarr"
    document = {"zarr_format": 2, "shape": [4], "chunks": [2], "dtype": dtype, "fill_value": 0,
                "order": "C", "filters": filters, "compressor": None}
    _write(path, ".zarray", document)
    array = zarrlayered.open_array(str(path), mode="r")
    assert array.fill_value == expected and isinstance(array.fill_value, type(expected))
    assert array[...].tolist() == [expected] * 4

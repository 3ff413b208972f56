"""Data written by zarrlayered read by zarr-python 3 and tensorstore, and the other way round.

Every case of :func:`interop_cases.data_cases` runs four ways: zarrlayered -> zarr-python 3, zarr-python 3 ->
zarrlayered, zarrlayered -> tensorstore, tensorstore -> zarrlayered. The values read must equal the values
written (NaN equal to NaN), with the fill value where chunks were never written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
from interop_cases import (
    READERS,
    SHAPE,
    WRITERS,
    Case,
    assert_same_values,
    data_cases,
    params,
    skip_reason,
    values,
)

import zarrlayered

DIRECTIONS = [
    pytest.param("zarrlayered", "zarr3", id="zl-to-zarr3"),
    pytest.param("zarr3", "zarrlayered", id="zarr3-to-zl"),
    pytest.param("zarrlayered", "tensorstore", id="zl-to-ts"),
    pytest.param("tensorstore", "zarrlayered", id="ts-to-zl"),
]


@pytest.mark.parametrize(("writer", "reader"), DIRECTIONS)
@pytest.mark.parametrize("case", params(data_cases()))
def test_round_trip(case: Case, writer: str, reader: str, tmp_path: Path) -> None:
    reason = skip_reason(case, writer, reader)
    if reason is not None:
        pytest.skip(reason)
    path = tmp_path / "a.zarr"
    WRITERS[writer](path, case)
    assert_same_values(READERS[reader](path, case), case.expected(), case)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_write_empty_chunks_false_stores_no_fill_chunks(zarr_format: Literal[2, 3], tmp_path: Path) -> None:
    """All-fill chunks are not stored (and a stored chunk overwritten with fill is deleted), like zarr-python 3."""
    import zarr

    stored: dict[str, list[str]] = {}
    for name, lib in (("zarrlayered", zarrlayered), ("zarr3", zarr)):
        path = tmp_path / f"{name}.zarr"
        array = lib.create_array(str(path), shape=(4, 4), chunks=(2, 2), dtype="float64", fill_value=np.nan,
                                 zarr_format=zarr_format, config={"write_empty_chunks": False})
        array[...] = np.nan
        array[0, 0] = 1.0
        array[2:, 2:] = 5.0
        array[2:, 2:] = np.nan  # back to all-fill: the chunk goes away
        stored[name] = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
    assert stored["zarrlayered"] == stored["zarr3"]
    chunks = [key for key in stored["zarrlayered"] if not key.split("/")[-1].startswith((".z", "zarr.json"))]
    assert chunks == (["0.0"] if zarr_format == 2 else ["c/0/0"])
    expected = np.full((4, 4), np.nan)
    expected[0, 0] = 1.0
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "zarrlayered.zarr"), mode="r")[...], expected)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_write_empty_chunks_true_stores_fill_chunks(zarr_format: Literal[2, 3], tmp_path: Path) -> None:
    path = tmp_path / "a.zarr"
    array = zarrlayered.create_array(str(path), shape=(4,), chunks=(2,), dtype="int8", zarr_format=zarr_format,
                                     config={"write_empty_chunks": True})
    array[...] = 0
    import zarr

    reread = zarr.open_array(str(path), mode="r")
    assert reread.nchunks_initialized == 2
    np.testing.assert_array_equal(reread[...], np.zeros(4, dtype="int8"))


def test_tensorstore_fixed_bytes(tmp_path: Path) -> None:
    """A '|S5' array tensorstore creates (fill value null, its own document) reads back in zarrlayered."""
    import tensorstore as ts

    path = tmp_path / "a.zarr"
    metadata = {"dtype": "|S5", "shape": [5, 7], "chunks": [2, 3], "fill_value": None, "compressor": None,
                "order": "C", "filters": None, "zarr_format": 2}
    store = ts.open({"driver": "zarr", "kvstore": {"driver": "file", "path": str(path)}, "metadata": metadata},
                    create=True).result()
    data = np.array([[b"", b"ab", b"abcde", b"\x00x", b"\xff"][i % 5] for i in range(35)], dtype="S5")
    data = data.reshape(5, 7)
    store[:4].write(data[:4].view("S1").reshape(4, 7, 5)).result()
    expected = data.copy()
    expected[4:] = b""  # null fill value: zero bytes
    got = zarrlayered.open_array(str(path), mode="r")[...]
    assert got.dtype == np.dtype("S5")
    np.testing.assert_array_equal(got, expected)


def _update_cases() -> list[Any]:
    """One case per data type and format (default codecs), and every codec with int16."""
    chosen = [c for c in data_cases() if c.region is None and c.shape == SHAPE
              and (c.id.endswith("-default") or c.dtype == "int16")]
    return params(iter(chosen))


@pytest.mark.parametrize("writer", ["zarr3", "tensorstore"])
@pytest.mark.parametrize("case", _update_cases())
def test_update_foreign_array(case: Case, writer: str, tmp_path: Path) -> None:
    """zarrlayered overwrites part of an array another library wrote (read-modify-write of its chunks) and a
    whole chunk; the other library reads the result."""
    reason = skip_reason(case, writer, writer) or skip_reason(case, "zarrlayered", writer)
    if reason is not None:
        pytest.skip(reason)
    path = tmp_path / "a.zarr"
    WRITERS[writer](path, case)
    expected = case.expected().copy()
    replacement = expected[::-1, ::-1].copy()
    array = zarrlayered.open_array(str(path), mode="r+")
    array[1:4, 2:5] = replacement[1:4, 2:5]  # parts of four chunks
    array[2:4, 3:6] = replacement[2:4, 3:6]  # one whole chunk
    expected[1:4, 2:5] = replacement[1:4, 2:5]
    expected[2:4, 3:6] = replacement[2:4, 3:6]
    assert_same_values(READERS[writer](path, case), expected, case)


@pytest.mark.parametrize("case", params(c for c in data_cases() if c.no_zarr3 is None and c.no_zarr3_write is None))
def test_same_bytes_as_zarr_python_3(case: Case, tmp_path: Path) -> None:
    """The same create_array call and values give the same files, metadata and chunks, byte for byte."""
    files = {}
    for name in ("zarrlayered", "zarr3"):
        path = tmp_path / f"{name}.zarr"
        WRITERS[name](path, case)
        files[name] = {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}
    assert sorted(files["zarrlayered"]) == sorted(files["zarr3"])
    for key, theirs in files["zarr3"].items():
        assert _without_gzip_mtime(files["zarrlayered"][key]) == _without_gzip_mtime(theirs), key


def _without_gzip_mtime(data: bytes) -> bytes:
    """``data`` with the MTIME of a gzip header zeroed: numcodecs' GZip (used by both libraries) stamps each
    chunk with the second it was written (RFC 1952, bytes 4-7), so two writers a second apart differ there."""
    if data[:2] == b"\x1f\x8b" and len(data) >= 10:
        return data[:4] + bytes(4) + data[8:]
    return data


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_negative_zero_is_not_the_fill_value(zarr_format: Literal[2, 3], tmp_path: Path) -> None:
    path = tmp_path / "a.zarr"
    array = zarrlayered.create_array(str(path), shape=(4,), chunks=(2,), dtype="float64", fill_value=0.0,
                                     zarr_format=zarr_format)
    array[...] = -0.0
    import zarr

    assert np.signbit(zarr.open_array(str(path), mode="r")[...]).all()
    assert np.signbit(zarrlayered.open_array(str(path), mode="r")[...]).all()


@pytest.mark.parametrize("dtype", ["M8[s]", "m8[ns]"])
def test_all_nat_chunks_are_not_stored(dtype: str, tmp_path: Path) -> None:
    path = tmp_path / "a.zarr"
    array = zarrlayered.create_array(str(path), shape=(4,), chunks=(2,), dtype=dtype, zarr_format=3,
                                     config={"write_empty_chunks": False})
    array[...] = np.array("NaT", dtype=dtype)
    assert not (path / "c").exists()


@pytest.mark.parametrize(("driver", "dtype"), [("zarr", "int16"), ("zarr", "float64"), ("zarr3", "uint32"),
                                               ("zarr3", "complex64")])
def test_tensorstore_defaults(driver: str, dtype: str, tmp_path: Path) -> None:
    """Arrays tensorstore creates with its own defaults (V2: blosc with shuffle -1 and a null fill value;
    V3: a chunk_key_encoding without configuration, no attributes) read in zarrlayered."""
    import tensorstore as ts

    path = tmp_path / "a.zarr"
    store = ts.open({"driver": driver, "kvstore": {"driver": "file", "path": str(path)}}, create=True,
                    dtype=getattr(ts, dtype), shape=[5, 7], chunk_layout=ts.ChunkLayout(chunk_shape=[2, 3])).result()
    data = values(dtype, (5, 7))
    store[:4].write(data[:4]).result()
    expected = data.copy()
    expected[4:] = 0
    array = zarrlayered.open_array(str(path), mode="r")
    assert array.chunks == (2, 3)
    np.testing.assert_array_equal(array[...], expected)


SELECTIONS: list[Any] = [np.s_[1:4, ::2], np.s_[-1], np.s_[::-1, 3], np.s_[..., 2:6:3], np.s_[2, 5], np.s_[0:0]]


@pytest.mark.parametrize("writer", ["zarr3", "tensorstore"])
@pytest.mark.parametrize("case", params(c for c in data_cases() if c.shape == SHAPE and (
    c.id.endswith(("-default", "-order-F", "-transpose")) or c.region is not None or "sharded" in c.id)))
def test_partial_reads_of_foreign_arrays(case: Case, writer: str, tmp_path: Path) -> None:
    """Slices, steps, negative steps, single elements, orthogonal and coordinate selections of arrays another
    library wrote."""
    reason = skip_reason(case, writer, "zarrlayered")
    if reason is not None:
        pytest.skip(reason)
    path = tmp_path / "a.zarr"
    WRITERS[writer](path, case)
    array = zarrlayered.open_array(str(path), mode="r")
    expected = case.expected()
    for selection in SELECTIONS:
        assert_same_values(array[selection], expected[selection], case)
    rows, cols = np.array([4, 0, 2]), np.array([6, 0, 1])
    assert_same_values(array.vindex[rows, cols], expected[rows, cols], case)
    assert_same_values(array.oindex[rows, cols], expected[np.ix_(rows, cols)], case)
    assert_same_values(array.oindex[rows[:2], :], expected[rows[:2]], case)

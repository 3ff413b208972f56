"""Hierarchies between zarrlayered, zarr-python 3 and tensorstore: nested groups, attributes, consolidated
metadata (V2 ``.zmetadata``, V3 inline ``consolidated_metadata``), resized and appended arrays."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
import tensorstore as ts
import zarr

import zarrlayered

FORMATS = [pytest.param(2, id="v2"), pytest.param(3, id="v3")]
LIBRARIES: dict[str, Any] = {"zarrlayered": zarrlayered, "zarr3": zarr}


def _build(library: Any, path: Path, zarr_format: Literal[2, 3]) -> None:
    root = library.open_group(str(path), mode="w", zarr_format=zarr_format,
                              attributes={"title": "root", "é": ["ü", 1.5, None]})
    sub = root.create_group("sub", attributes={"level": 1})
    # explicit compressors: zarr-python 3's Group.create_array defaults V2 arrays to blosc, its
    # top-level create_array to zstd
    codecs = {"compressors": {"id": "zlib", "level": 1}} if zarr_format == 2 else {}
    array = sub.create_array("values", shape=(5,), chunks=(2,), dtype="float32", fill_value=np.nan,
                             attributes={"units": "m"}, **codecs)
    array[:3] = [1.0, 2.0, 3.0]
    root.create_group("sub/deeper/deepest", attributes={"deep": True})
    strings = root.create_array("strings", shape=(3,), chunks=(2,), dtype=str, **codecs)
    strings[...] = np.array(["a", "", "日本"], dtype=object)
    library.consolidate_metadata(str(path))


def _check(library: Any, path: Path, use_consolidated: bool) -> None:
    root = library.open_group(str(path), mode="r", use_consolidated=use_consolidated)
    assert dict(root.attrs) == {"title": "root", "é": ["ü", 1.5, None]}
    assert sorted(root.group_keys()) == ["sub"]
    assert sorted(root.array_keys()) == ["strings"]
    assert dict(root["sub"].attrs) == {"level": 1}
    assert sorted(name for name, _ in root.members(max_depth=None)) == [
        "strings", "sub", "sub/deeper", "sub/deeper/deepest", "sub/values"]
    assert root["sub/deeper/deepest"].attrs["deep"] is True
    values = root["sub/values"]
    assert dict(values.attrs) == {"units": "m"}
    np.testing.assert_array_equal(values[...], np.array([1, 2, 3, np.nan, np.nan], dtype="float32"))
    assert root["strings"][...].tolist() == ["a", "", "日本"]


@pytest.mark.parametrize("zarr_format", FORMATS)
@pytest.mark.parametrize(("writer", "reader"), [("zarrlayered", "zarr3"), ("zarr3", "zarrlayered")])
def test_hierarchy_round_trip(writer: str, reader: str, zarr_format: Literal[2, 3], tmp_path: Path) -> None:
    path = tmp_path / "tree.zarr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _build(LIBRARIES[writer], path, zarr_format)
        for use_consolidated in (True, False):
            _check(LIBRARIES[reader], path, use_consolidated)


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_consolidated_documents_match_zarr_python_3(zarr_format: Literal[2, 3], tmp_path: Path) -> None:
    """Every metadata document of the hierarchy, consolidated ones included, has zarr-python 3's bytes."""
    documents = {}
    for name, library in LIBRARIES.items():
        path = tmp_path / f"{name}.zarr"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _build(library, path, zarr_format)
        documents[name] = {
            p.relative_to(path).as_posix(): p.read_bytes()
            for p in path.rglob("*") if p.name in (".zarray", ".zgroup", ".zattrs", ".zmetadata", "zarr.json")
        }
    assert sorted(documents["zarrlayered"]) == sorted(documents["zarr3"])
    for key, theirs in documents["zarr3"].items():
        assert documents["zarrlayered"][key] == theirs, key


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_resize_and_append_read_by_others(zarr_format: Literal[2, 3], tmp_path: Path) -> None:
    """Shrinking clears the cut-off part of kept edge chunks, so growing again shows the fill value everywhere."""
    path = tmp_path / "a.zarr"
    array = zarrlayered.create_array(str(path), shape=(5, 7), chunks=(2, 3), dtype="int32", fill_value=-1,
                                     zarr_format=zarr_format)
    data = np.arange(35, dtype="int32").reshape(5, 7)
    array[...] = data
    array.resize((3, 4))
    array.resize((6, 8))
    array.append(np.full((1, 8), 99, dtype="int32"), axis=0)
    expected = np.full((7, 8), -1, dtype="int32")
    expected[:3, :4] = data[:3, :4]
    expected[6] = 99
    np.testing.assert_array_equal(zarr.open_array(str(path), mode="r")[...], expected)
    spec = {"driver": "zarr" if zarr_format == 2 else "zarr3", "kvstore": {"driver": "file", "path": str(path)}}
    np.testing.assert_array_equal(ts.open(spec, open=True, read=True).result().read().result(), expected)

"""Consolidated metadata, V2 (.zmetadata) and V3 (inline in zarr.json): our documents are zarr-python 3's byte
for byte, each library reads the other's, a consolidated group answers without store reads, and changes
made through the group keep it true."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import zarr

import zarrlayered
from zarrlayered.stores import LocalStore, LoggingStore

DOCUMENT = {2: ".zmetadata", 3: "zarr.json"}


def _write(lib: ModuleType, path: Path, zarr_format: int) -> None:
    root = lib.open_group(str(path), mode="w", zarr_format=zarr_format, attributes={"title": "t"})
    x = root.create_array("x", shape=(4,), chunks=(2,), dtype="i4", attributes={"u": "m"})
    x[:] = np.arange(4)
    sub = root.create_group("sub", attributes={"s": 1})
    sub.create_array("y", shape=(2, 2), chunks=(1, 2), dtype="f8", fill_value=np.nan)
    sub.create_group("deep").create_group("deeper")


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_documents_are_zarr_pythons(zarr_format: int, tmp_path: Path) -> None:
    for lib in (zarr, zarrlayered):
        _write(lib, tmp_path / lib.__name__, zarr_format)
        result = lib.consolidate_metadata(str(tmp_path / lib.__name__))
        assert isinstance(result, lib.Group) and result.metadata.consolidated_metadata is not None
    name = DOCUMENT[zarr_format]
    ours = (tmp_path / "zarrlayered" / name).read_bytes()
    assert ours == (tmp_path / "zarr" / name).read_bytes()
    listed = json.loads(ours)["metadata"] if zarr_format == 2 else json.loads(ours)["consolidated_metadata"]["metadata"]
    assert "sub/deep/deeper" in {key.rsplit("/", 1)[0] for key in listed} | set(listed)


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize(
    ("writer", "reader"), [(zarr, zarrlayered), (zarrlayered, zarr)], ids=["zarr->ours", "ours->zarr"]
)
def test_each_reads_the_others(writer: ModuleType, reader: ModuleType, zarr_format: int, tmp_path: Path) -> None:
    _write(writer, tmp_path, zarr_format)
    writer.consolidate_metadata(str(tmp_path))
    # the member documents are removed: whatever the reader lists and opens comes from the consolidated one
    for doc in tmp_path.rglob("*"):
        if doc.is_file() and doc.parent != tmp_path and doc.name in ("zarr.json", ".zarray", ".zgroup", ".zattrs"):
            doc.unlink()
    g = reader.open_consolidated(str(tmp_path), mode="r")
    names = sorted(name for name, _ in g.members(max_depth=None))
    assert names == ["sub", "sub/deep", "sub/deep/deeper", "sub/y", "x"]
    assert dict(g.attrs) == {"title": "t"} and dict(g["sub"].attrs) == {"s": 1}
    assert g["x"].attrs["u"] == "m" and g["x"][:].tolist() == [0, 1, 2, 3]
    assert g["sub/y"].shape == (2, 2) and np.isnan(g["sub/y"].fill_value)
    assert sorted(g["sub"].keys()) == ["deep", "y"]


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_a_consolidated_group_answers_without_reading(zarr_format: int, tmp_path: Path) -> None:
    _write(zarrlayered, tmp_path, zarr_format)
    zarrlayered.consolidate_metadata(str(tmp_path))
    store = LoggingStore(LocalStore(tmp_path, read_only=True))
    g = zarrlayered.open_consolidated(store, mode="r")
    opened = store.counter.copy()
    assert [name for name, _ in g.members(max_depth=None)] == ["sub", "sub/deep", "sub/deep/deeper", "sub/y", "x"]
    assert g["sub/y"].shape == (2, 2) and "sub/deep" in g and "nope" not in g
    assert g.tree(plain=True).count("\n") == 6 and g.nmembers(max_depth=None) == 5
    assert str(g.info).endswith("No. members : 5\nNo. arrays  : 2\nNo. groups  : 3")
    assert store.counter == opened  # no store call after opening
    with pytest.raises(KeyError, match="consolidated"):
        g["nope"]


@pytest.mark.parametrize("lib", [zarr, zarrlayered], ids=["zarr", "zarrlayered"])
def test_open_consolidated_needs_consolidated_metadata(lib: ModuleType, tmp_path: Path) -> None:
    _write(lib, tmp_path, 3)
    with pytest.raises(ValueError):
        lib.open_consolidated(str(tmp_path), mode="r")
    lib.consolidate_metadata(str(tmp_path))
    assert lib.open_group(str(tmp_path), mode="r", use_consolidated=False).metadata.consolidated_metadata is None
    assert lib.open_group(str(tmp_path), mode="r").metadata.consolidated_metadata is not None


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_changes_through_the_group_keep_it_true(zarr_format: int, tmp_path: Path) -> None:
    _write(zarrlayered, tmp_path, zarr_format)
    zarrlayered.consolidate_metadata(str(tmp_path))
    g = zarrlayered.open_consolidated(str(tmp_path), mode="r+")
    g.create_array("new/arr", shape=(2,), dtype="u1")
    g["values"] = np.arange(3)
    assert {"new", "new/arr", "values"} <= {name for name, _ in g.members(max_depth=None)}
    assert "new/arr" in g and g["values"][:].tolist() == [0, 1, 2]
    del g["sub"]  # saved at once, as zarr-python does
    stored = zarrlayered.open_consolidated(str(tmp_path), mode="r")
    assert sorted(name for name, _ in stored.members(max_depth=None)) == ["new", "new/arr", "values", "x"]
    assert not (tmp_path / "sub").exists()
    their_view = zarr.open_consolidated(str(tmp_path), mode="r")
    assert sorted(name for name, _ in their_view.members(max_depth=None)) == ["new", "new/arr", "values", "x"]


def test_consolidate_a_subgroup(tmp_path: Path) -> None:
    _write(zarrlayered, tmp_path, 3)
    sub = zarrlayered.consolidate_metadata(str(tmp_path), path="sub")
    assert sub.path == "sub" and sorted(sub.metadata.consolidated_metadata.metadata) == ["deep", "deep/deeper", "y"]
    assert zarrlayered.open_group(str(tmp_path), mode="r").metadata.consolidated_metadata is None
    theirs = zarr.open_consolidated(str(tmp_path), path="sub", mode="r")
    assert sorted(name for name, _ in theirs.members(max_depth=None)) == ["deep", "deep/deeper", "y"]


def test_consolidated_group_opened_by_path_of_a_member(tmp_path: Path) -> Any:
    _write(zarrlayered, tmp_path, 3)
    zarrlayered.consolidate_metadata(str(tmp_path))
    root = zarrlayered.open_group(str(tmp_path), mode="r")
    sub = root["sub"]
    assert sorted(sub.keys()) == ["deep", "y"] and sub["deep"].keys() == ["deeper"]
    assert [name for name, _ in sub.members(max_depth=None)] == ["deep", "deep/deeper", "y"]

"""V2 and V3 groups: the same calls write byte-identical hierarchies to zarr-python 3's, and opening with
zarr_format=None detects the format of whatever is stored (written by zarr-python 3 or 2)."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import zarr
from api_helpers import files

import zarrlayered
from zarrlayered.errors import NodeNotFoundError


def _write(lib: ModuleType, store: Any, zarr_format: int) -> None:
    root = lib.open_group(store, mode="w", zarr_format=zarr_format, attributes={"title": "formats", "n": 1.5})
    obs = root.create_group("obs", attributes={"kind": "observations"})
    temp = obs.create_array("temp", shape=(6, 4), chunks=(3, 2), dtype="f4", fill_value=-9.0,
                            attributes={"units": "K"})
    temp[:] = np.arange(24, dtype="f4").reshape(6, 4) / 4
    obs.create_array("flags", shape=(5,), chunks=(5,), dtype="bool")[:] = [True, False, True, True, False]
    root.create_array("ids", shape=(7,), chunks=(4,), dtype="i8", compressors=None)[:] = np.arange(7) * 3
    root.create_group("meta/deep")
    root["direct"] = np.linspace(0, 1, 5)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_hierarchy_bytes_are_zarr_pythons(zarr_format: int) -> None:
    theirs: dict[str, Any] = {}
    ours: dict[str, Any] = {}
    _write(zarr, theirs, zarr_format)
    _write(zarrlayered, ours, zarr_format)
    assert sorted(ours) == sorted(theirs)
    for key, value in theirs.items():
        assert ours[key] == value.to_bytes(), key


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize(
    ("writer", "reader"), [(zarr, zarrlayered), (zarrlayered, zarr)], ids=["zarr->ours", "ours->zarr"]
)
def test_open_detects_the_format(writer: ModuleType, reader: ModuleType, zarr_format: int, tmp_path: Path) -> None:
    _write(writer, str(tmp_path), zarr_format)
    root = reader.open(str(tmp_path), mode="r")  # zarr_format=None
    assert isinstance(root, reader.Group) and root.metadata.zarr_format == zarr_format
    assert dict(root.attrs) == {"title": "formats", "n": 1.5}
    members = dict(root.members(max_depth=None))
    assert sorted(members) == ["direct", "ids", "meta", "meta/deep", "obs", "obs/flags", "obs/temp"]
    assert all(node.metadata.zarr_format == zarr_format for node in members.values())
    temp = reader.open(str(tmp_path), mode="r", path="obs/temp")
    assert isinstance(temp, reader.Array) and temp.attrs["units"] == "K" and temp.fill_value == -9.0
    np.testing.assert_array_equal(temp[1:5, ::2], (np.arange(24, dtype="f4").reshape(6, 4) / 4)[1:5, ::2])
    assert reader.open_array(str(tmp_path), mode="r", path="ids")[:].tolist() == list(np.arange(7) * 3)
    assert reader.open_group(str(tmp_path), mode="r", path="obs").attrs["kind"] == "observations"


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_asking_for_the_other_format_finds_nothing(zarr_format: int, tmp_path: Path) -> None:
    _write(zarrlayered, str(tmp_path), zarr_format)
    other = 5 - zarr_format
    with pytest.raises(NodeNotFoundError):
        zarrlayered.open_group(str(tmp_path), mode="r", zarr_format=other)
    with pytest.raises(FileNotFoundError):  # zarr-python 3 agrees there is nothing of that format
        zarr.open_group(str(tmp_path), mode="r", zarr_format=other)
    before = files(tmp_path)
    with pytest.raises(KeyError):
        zarrlayered.open(str(tmp_path), mode="r+", zarr_format=other)
    assert files(tmp_path) == before


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_members_of_a_group_share_its_format(zarr_format: int) -> None:
    g = zarrlayered.group({}, zarr_format=zarr_format)
    made = [
        g.create_group("g"), g.create_array("a", shape=(2,), dtype="i1"), g.require_group("r"),
        g.zeros(name="z", shape=(2,)), g.require_array("q", shape=(2,), dtype="u1"), g.create_group("x/y/z"),
    ]
    g["s"] = np.arange(2)
    assert {m.metadata.zarr_format for m in made} == {zarr_format}
    assert {node.metadata.zarr_format for _, node in g.members(max_depth=None)} == {zarr_format}
    keys = set(g.store.store_dict)
    if zarr_format == 2:
        assert not any(key.endswith("zarr.json") for key in keys)
    else:
        assert not any(key.endswith((".zgroup", ".zarray", ".zattrs")) for key in keys)


def test_v3_wins_where_both_formats_are_stored() -> None:
    store = zarrlayered.stores.MemoryStore()
    zarrlayered.create_group(store, zarr_format=3, attributes={"v": 3})
    store.set_sync(".zgroup", b'{"zarr_format": 2}')
    store.set_sync(".zattrs", b'{"v": 2}')
    assert zarrlayered.open_group(store, mode="r").attrs["v"] == 3
    assert zarrlayered.open_group(store, mode="r", zarr_format=2).attrs["v"] == 2
    theirs = zarr.open_group(zarr.storage.MemoryStore({
        k: zarr.core.buffer.default_buffer_prototype().buffer.from_bytes(v) for k, v in store.store_dict.items()
    }), mode="r")
    assert theirs.attrs["v"] == 3


def test_v2_slash_separated_chunks_and_f_order(tmp_path: Path) -> None:
    for lib in (zarr, zarrlayered):
        g = lib.open_group(str(tmp_path / lib.__name__), mode="w", zarr_format=2)
        a = g.create_array("a", shape=(4, 4), chunks=(2, 2), dtype="i2", order="F",
                           chunk_key_encoding={"name": "v2", "separator": "/"})
        a[:] = np.arange(16).reshape(4, 4)
    assert files(tmp_path / "zarr") == files(tmp_path / "zarrlayered")
    assert "a/1/1" in files(tmp_path / "zarrlayered")
    back = zarrlayered.open_array(str(tmp_path / "zarr"), path="a", mode="r")
    assert back.order == "F" and back[3].tolist() == [12, 13, 14, 15]


def test_groups_written_by_zarr_python_2(tmp_path: Path) -> None:
    from zarr2_env import run_zarr2

    run_zarr2(
        """
        import numpy as np, zarr
        root = zarr.open_group("h.zarr", mode="w")
        root.attrs["title"] = "from zarr 2"
        sub = root.create_group("sub/deeper")
        sub.attrs["level"] = 2
        sub.create_dataset("x", data=np.arange(10, dtype="u2"), chunks=(4,))
        root.create_dataset("y", shape=(3, 3), chunks=(2, 2), dtype="f8", fill_value=np.nan)
        zarr.consolidate_metadata("h.zarr")
        """,
        cwd=tmp_path,
    )
    for use_consolidated in (None, False):
        root = zarrlayered.open_group(str(tmp_path / "h.zarr"), mode="r", use_consolidated=use_consolidated)
        assert root.zarr_format == 2 and dict(root.attrs) == {"title": "from zarr 2"}
        assert [name for name, _ in root.members(max_depth=None)] == ["sub", "sub/deeper", "sub/deeper/x", "y"]
        assert (root.metadata.consolidated_metadata is None) == (use_consolidated is False)
        assert root["sub/deeper"].attrs["level"] == 2
        assert root["sub/deeper/x"][:].tolist() == list(range(10))
        assert np.isnan(root["y"][:]).all()
    theirs = json.loads((tmp_path / "h.zarr" / ".zmetadata").read_text())
    assert theirs["zarr_consolidated_format"] == 1

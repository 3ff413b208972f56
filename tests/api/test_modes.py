"""Access modes r, r+, a, w, w-, x as zarr-python defines them: the same outcomes as zarr-python 3 for open,
open_group and open_array over a matrix of what is already stored; r and r+ never write anything; a
mistyped path raises; writes through read-only nodes raise ReadOnlyError."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import zarr
from api_helpers import files, outcome

import zarrlayered
from zarrlayered.errors import NodeNotFoundError, ReadOnlyError
from zarrlayered.stores import LocalStore, LoggingStore, MemoryStore, ZipStore

MODES = ["r", "r+", "a", "w", "w-"]  # zarr-python 3.1.6 fails mode "x" with an AssertionError
CONTENTS = ["nothing", "group", "array", "group+array"]


def _make(lib: ModuleType, path: Path, contents: str) -> None:
    if contents == "group":
        lib.create_group(str(path), attributes={"k": 1})
    elif contents == "array":
        lib.create_array(str(path), shape=(4,), dtype="i4")
    elif contents == "group+array":
        lib.create_group(str(path)).create_array("arr", shape=(4,), dtype="i4")


def _normalized(result: tuple[str, Any]) -> str:
    status, value = result
    if status == "ok":
        return type(value).__name__
    return {
        # a missing node: zarr-python 3 says GroupNotFoundError/ArrayNotFoundError (FileNotFoundError), we say
        # NodeNotFoundError (a KeyError), as a mapping does
        "GroupNotFoundError": "missing node",
        "ArrayNotFoundError": "missing node",
        "NodeNotFoundError": "missing node",
        # something is in the way
        "FileExistsError": "exists",
        "ContainsArrayError": "exists",
        "ContainsGroupError": "exists",
        # open_array on a group
        "NodeTypeValidationError": "exists",
    }.get(value, value)


#: Where we deliberately differ from zarr-python 3.1.6: (function, mode, contents, path) -> (theirs, ours).
DEVIATIONS = {
    # zarr-python 3 fails with "create() missing 1 required positional argument: 'shape'"; we make a group
    ("open", "w-", "nothing", None): ("TypeError", "Group"),
    ("open", "w-", "group+array", "typo"): ("TypeError", "Group"),
    # without shape= there is nothing to create: a missing array is a KeyError, not a TypeError
    ("open_array", "a", "nothing", None): ("TypeError", "missing node"),
    ("open_array", "a", "group+array", "typo"): ("TypeError", "missing node"),
}


def _cases() -> list[Any]:
    cases = []
    for fn in ("open", "open_group", "open_array"):
        for mode in MODES:
            for contents in CONTENTS:
                paths = [None, "arr", "typo"] if contents == "group+array" else [None]
                for path in paths:
                    cases.append(pytest.param(fn, mode, contents, path, id=f"{fn}-{mode}-{contents}-{path}"))
    return cases


@pytest.mark.parametrize(("fn", "mode", "contents", "path"), _cases())
def test_mode_outcomes_match_zarr(fn: str, mode: str, contents: str, path: str | None, tmp_path: Path) -> None:
    results, listings = {}, {}
    for lib in (zarr, zarrlayered):
        where = tmp_path / lib.__name__
        _make(lib, where, contents)
        kwargs: dict[str, Any] = {"mode": mode}
        if path is not None:
            kwargs["path"] = path
        call = getattr(lib, fn)
        results[lib.__name__] = _normalized(outcome(lambda call=call, where=where, kw=kwargs: call(str(where), **kw)))
        listings[lib.__name__] = sorted(files(where)) if where.exists() else None
    key = (fn, mode, contents, path)
    if key in DEVIATIONS:
        assert (results["zarr"], results["zarrlayered"]) == DEVIATIONS[key]
        return
    if fn == "open_array" and mode in ("w", "w-") and results["zarrlayered"] == "TypeError":
        # no shape=: zarr-python 3 first deletes (w) or refuses (w-) what is there, then fails; we refuse
        # before touching anything (TypeError "needs shape=") -- and leave the store as it was
        assert results["zarr"] in ("TypeError", "exists")
        return
    assert results["zarrlayered"] == results["zarr"]
    assert listings["zarrlayered"] == listings["zarr"]


@pytest.mark.parametrize("mode", ["w", "w-", "x"])
def test_open_array_without_shape_leaves_the_store_alone(mode: str, tmp_path: Path) -> None:
    zarrlayered.create_group(str(tmp_path)).create_array("arr", shape=(4,), dtype="i4")
    before = files(tmp_path)
    with pytest.raises((TypeError, FileExistsError)):
        zarrlayered.open_array(str(tmp_path), mode=mode, path="arr")
    assert files(tmp_path) == before


def _populated_memory() -> MemoryStore:
    store = MemoryStore()
    root = zarrlayered.open_group(store, mode="w", attributes={"title": "t"})
    root.create_array("grp/data", shape=(6,), chunks=(3,), dtype="f8")[:] = np.arange(6.0)
    root.create_group("empty")
    return store


@pytest.mark.parametrize("mode", ["r", "r+"])
def test_r_and_r_plus_never_write(mode: str) -> None:
    inner = _populated_memory()
    snapshot = dict(inner.store_dict)
    store = LoggingStore(inner)
    g = zarrlayered.open_group(store, mode=mode)
    assert zarrlayered.open(store, mode=mode).path == ""
    assert zarrlayered.open_array(store, mode=mode, path="grp/data")[:].tolist() == list(np.arange(6.0))
    assert zarrlayered.open(store, mode=mode, path="grp/data").shape == (6,)
    assert g.tree(plain=True).count("\n") == 4
    assert g.info_complete().count_members == 3
    assert dict(g.attrs) == {"title": "t"} and "grp/data" in g
    assert sorted(zarrlayered.load(store, path="grp")) == ["data"]
    for typo in ("gpr", "grp/dta"):
        with pytest.raises(KeyError):
            zarrlayered.open(store, mode=mode, path=typo)
        with pytest.raises(KeyError):
            zarrlayered.open_group(store, mode=mode, path=typo)
        with pytest.raises(KeyError):
            zarrlayered.open_array(store, mode=mode, path=typo)
        with pytest.raises(KeyError):
            zarrlayered.open_array(store, mode=mode, path=typo, shape=(3,), dtype="i1")
        with pytest.raises(KeyError):
            g[typo]
    writes = {name: n for name, n in store.counter.items() if name in ("set", "delete", "delete_dir", "rename")}
    assert writes == {}
    assert store.counter["get"] > 0  # it did read
    assert inner.store_dict == snapshot


@pytest.mark.parametrize("mode", ["r", "r+"])
def test_r_and_r_plus_create_no_file(mode: str, tmp_path: Path) -> None:
    root = tmp_path / "data.zarr"
    zarrlayered.open_group(str(root), mode="w").create_array("a", shape=(2,), dtype="i1")
    before = {p: os.stat(root / p).st_mtime_ns for p in files(root)}
    for fn in (zarrlayered.open, zarrlayered.open_group, zarrlayered.open_array):
        with pytest.raises(KeyError):
            fn(str(root), mode=mode, path="mistyped")
    missing = tmp_path / "missing.zarr"
    for fn in (zarrlayered.open, zarrlayered.open_group, zarrlayered.open_array, zarrlayered.open_consolidated):
        with pytest.raises(FileNotFoundError):
            fn(str(missing), mode=mode)
    assert not missing.exists()
    assert not (root / "mistyped").exists()
    assert {p: os.stat(root / p).st_mtime_ns for p in files(root)} == before
    zipped = tmp_path / "data.zip"
    with pytest.raises(FileNotFoundError):
        zarrlayered.open_group(str(zipped), mode="r")
    assert not zipped.exists()


def test_zip_opened_read_only_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "data.zip"
    store = ZipStore(path, mode="w")
    zarrlayered.open_group(store, mode="w").create_array("a", shape=(3,), dtype="u1")[:] = 7
    store.close()
    before = path.read_bytes()
    g = zarrlayered.open_group(str(path), mode="r")
    assert g["a"][:].tolist() == [7, 7, 7]
    with pytest.raises(ReadOnlyError):
        g["a"][0] = 1
    g.store.close()
    assert path.read_bytes() == before


def test_mistyped_member_raises_instead_of_creating() -> None:
    store = _populated_memory()
    keys = set(store.store_dict)
    g = zarrlayered.open_group(store, mode="r+")
    with pytest.raises(KeyError) as info:
        g["grp/dat"]
    assert isinstance(info.value, NodeNotFoundError) and "grp/dat" in str(info.value)
    with pytest.raises(KeyError):
        g["grp"]["dta"]
    assert set(store.store_dict) == keys


WRITES = {
    "attrs set": lambda g: g.attrs.__setitem__("x", 1),
    "attrs delete": lambda g: g.attrs.__delitem__("title"),
    "attrs update": lambda g: g.attrs.update(x=1),
    "update_attributes": lambda g: g.update_attributes({"x": 1}),
    "create_group": lambda g: g.create_group("new"),
    "require_group (missing)": lambda g: g.require_group("new"),
    "create_array": lambda g: g.create_array("new", shape=(2,), dtype="i1"),
    "require_array (missing)": lambda g: g.require_array("new", shape=(2,), dtype="i1"),
    "zeros": lambda g: g.zeros(name="new", shape=(2,)),
    "setitem": lambda g: g.__setitem__("new", np.arange(2)),
    "delitem": lambda g: g.__delitem__("grp"),
    "move": lambda g: g.move("grp", "moved"),
    "array write": lambda g: g["grp/data"].__setitem__(0, 1.0),
    "array resize": lambda g: g["grp/data"].resize(10),
    "array append": lambda g: g["grp/data"].append(np.ones(2)),
    "array attrs": lambda g: g["grp/data"].attrs.__setitem__("x", 1),
    "create_hierarchy": lambda g: list(g.create_hierarchy({"n": zarrlayered.core.metadata.GroupMetadata()})),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_writes_through_read_only_nodes_raise(write: str) -> None:
    store = _populated_memory()
    snapshot = dict(store.store_dict)
    g = zarrlayered.open_group(store, mode="r")
    assert g.read_only and g["grp/data"].read_only
    with pytest.raises(ReadOnlyError) as info:
        WRITES[write](g)
    assert isinstance(info.value, PermissionError)
    assert store.store_dict == snapshot


def test_read_only_store_refuses_writable_modes() -> None:
    store = _populated_memory().with_read_only(True)
    assert zarrlayered.open(store).read_only  # the default mode of a read-only Store is r, as in zarr-python
    for mode in ("r+", "a", "w", "w-"):
        with pytest.raises(ReadOnlyError):
            zarrlayered.open_group(store, mode=mode)
    with pytest.raises(ReadOnlyError):
        zarrlayered.consolidate_metadata(store)
    with pytest.raises(ReadOnlyError):
        zarrlayered.save_array(store, np.arange(3), path="new")


@pytest.mark.parametrize("lib", [zarr, zarrlayered], ids=["zarr", "zarrlayered"])
def test_w_replaces_and_a_keeps(lib: ModuleType, tmp_path: Path) -> None:
    where = str(tmp_path / "d")
    g = lib.open_group(where, mode="w", attributes={"v": 1})
    g.create_array("old", shape=(2,), dtype="i1")
    kept = lib.open_group(where, mode="a", attributes={"v": 2})
    assert dict(kept.attrs) == {"v": 1} and list(kept.array_keys()) == ["old"]
    replaced = lib.open_group(where, mode="w", attributes={"v": 3})
    assert dict(replaced.attrs) == {"v": 3} and list(replaced.keys()) == []
    assert sorted(files(where)) == ["zarr.json"]
    with pytest.raises(FileExistsError if lib is zarr else zarrlayered.errors.ContainsGroupError):
        lib.open_group(where, mode="w-")


def test_mode_x_is_mode_w_minus() -> None:
    store = _populated_memory()
    with pytest.raises(FileExistsError):
        zarrlayered.open_group(store, mode="x")
    with pytest.raises(FileExistsError):
        zarrlayered.open_array(store, mode="x", path="grp/data", shape=(2,))
    assert zarrlayered.open_group(store, mode="x", path="fresh").path == "fresh"
    assert zarrlayered.open_array(store, mode="x", path="fresh2", shape=(2,), dtype="i1").shape == (2,)
    stray = MemoryStore({"junk/file": b"x"})
    with pytest.raises(FileExistsError, match="already holds data"):
        zarrlayered.open_group(stray, mode="w-", path="junk")


def test_unknown_mode_is_a_value_error() -> None:
    for fn in (zarrlayered.open, zarrlayered.open_group, zarrlayered.open_array):
        with pytest.raises(ValueError, match="mode"):
            fn({}, mode="rw")


def test_local_store_read_only_from_mode_r(tmp_path: Path) -> None:
    zarrlayered.create_group(str(tmp_path)).create_array("a", shape=(2,), dtype="i1")
    g = zarrlayered.open_group(str(tmp_path), mode="r")
    assert isinstance(g.store, LocalStore) and g.store.read_only
    assert zarrlayered.open_group(str(tmp_path), mode="r+").store.read_only is False

"""Group as zarr-python 3 has it: the mapping protocol with paths, listings, visiting, tree, creation helpers,
attributes and info -- each checked against zarr-python 3.1.6 running the same calls."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import zarr
from api_helpers import LIBRARIES, kind, outcome

import zarrlayered
from zarrlayered.errors import ContainsArrayError, ContainsGroupError, NodeNotFoundError

FORMATS = [2, 3]


def build(lib: ModuleType, store: Any, zarr_format: int) -> Any:
    """A small hierarchy, created in a deliberately unsorted order."""
    root = lib.open_group(store, mode="w", zarr_format=zarr_format, attributes={"title": "demo"})
    root.create_array("z", shape=(4,), chunks=(2,), dtype="u1")
    a = root.create_group("a", attributes={"level": 1})
    x = root.create_array("a/b/x", shape=(6,), chunks=(2,), dtype="i4", attributes={"units": "m"})
    x[:] = np.arange(6, dtype="i4")
    a.create_array("y", shape=(2, 3), chunks=(1, 3), dtype="f8")
    root.create_group("c")
    return root


def pair(zarr_format: int) -> tuple[Any, Any]:
    return build(zarr, {}, zarr_format), build(zarrlayered, {}, zarr_format)


def names(members: Any) -> list[tuple[str, str]]:
    return sorted((name, type(node).__name__) for name, node in members)


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_paths_reach_below_direct_members(zarr_format: int) -> None:
    theirs, ours = pair(zarr_format)
    for g in (theirs, ours):
        assert g["a/b"].name == "/a/b"
        np.testing.assert_array_equal(g["a/b/x"][:], np.arange(6))
        assert g["a"]["b/x"].name == "/a/b/x"
        assert g["a/b/x"].attrs["units"] == "m"
    for path in ("a", "a/b", "a/b/x", "a/y", "z", "nope", "a/nope", "a/b/x/nope", "z/nope"):
        assert (path in ours) == (path in theirs), path
    assert isinstance(ours["a/b"], zarrlayered.Group)
    assert isinstance(ours["a/b/x"], zarrlayered.Array)


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_listings_match_zarr_and_are_sorted(zarr_format: int) -> None:
    theirs, ours = pair(zarr_format)
    assert ours.keys() == ["a", "c", "z"]  # sorted, whatever the creation order
    assert list(ours) == ours.keys()
    assert sorted(theirs.keys()) == ours.keys()
    assert sorted(theirs.group_keys()) == ours.group_keys() == ["a", "c"]
    assert sorted(theirs.array_keys()) == ours.array_keys() == ["z"]
    assert names(theirs.groups()) == names(ours.groups())
    assert names(theirs.arrays()) == names(ours.arrays())
    assert [g.name for g in ours.group_values()] == ["/a", "/c"]
    assert [a.name for a in ours.array_values()] == ["/z"]
    assert len(theirs) == len(ours) == 3
    for depth in (0, 1, 2, None):
        assert names(theirs.members(max_depth=depth)) == names(ours.members(max_depth=depth)), depth
        assert theirs.nmembers(max_depth=depth) == ours.nmembers(max_depth=depth)
    assert [name for name, _ in ours.members(max_depth=None)] == ["a", "a/b", "a/b/x", "a/y", "c", "z"]
    with pytest.raises(ValueError, match="max_depth"):
        ours.members(max_depth=-1)


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_missing_members_and_bad_keys(zarr_format: int) -> None:
    theirs, ours = pair(zarr_format)
    for path in ("nope", "a/nope", "z/nope"):
        with pytest.raises(KeyError):
            theirs[path]
        with pytest.raises(KeyError, match="not a member") as info:
            ours[path]
        assert isinstance(info.value, NodeNotFoundError)
        assert ours.get(path) is None and ours.get(path, 5) == 5
    for g in (theirs, ours):
        with pytest.raises(TypeError):
            g[1]
        with pytest.raises(TypeError):
            _ = 1 in g


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_delitem_removes_the_subtree(zarr_format: int) -> None:
    stores: dict[str, dict[str, Any]] = {"zarr": {}, "ours": {}}
    theirs, ours = build(zarr, stores["zarr"], zarr_format), build(zarrlayered, stores["ours"], zarr_format)
    del theirs["a/b"]
    del ours["a/b"]
    assert sorted(stores["zarr"]) == sorted(stores["ours"])
    assert not any(key.startswith("a/b/") for key in stores["ours"])
    assert names(ours.members(max_depth=None)) == names(theirs.members(max_depth=None))
    del ours["a"]
    assert ours.keys() == ["c", "z"]
    # zarr-python 3 ignores a missing name; a mapping raises KeyError, and so do we
    del theirs["nope"]
    with pytest.raises(KeyError):
        del ours["nope"]


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_setitem_writes_an_array_like_zarr(zarr_format: int) -> None:
    stores: dict[str, dict[str, Any]] = {"zarr": {}, "ours": {}}
    groups = {
        "zarr": zarr.open_group(stores["zarr"], mode="w", zarr_format=zarr_format),
        "ours": zarrlayered.open_group(stores["ours"], mode="w", zarr_format=zarr_format),
    }
    data = np.arange(12, dtype="int16").reshape(3, 4)
    for g in groups.values():
        g["sub/data"] = data
        g["sub/data"] = data * 2  # replaces
    np.testing.assert_array_equal(groups["ours"]["sub/data"][:], data * 2)
    assert sorted(stores["zarr"]) == sorted(stores["ours"])
    for key, value in stores["zarr"].items():  # the same documents and chunks, byte for byte
        assert stores["ours"][key] == value.to_bytes(), key
    ours = groups["ours"]
    ours["copy"] = ours["sub/data"]  # a Zarr array is written by value
    np.testing.assert_array_equal(ours["copy"][:], data * 2)
    with pytest.raises(TypeError, match="cannot assign a group"):
        ours.async_group and zarrlayered.core.sync.sync(ours.async_group.setitem("g", ours["sub"].async_group))


def test_visit_family_walks_depth_first_and_stops_at_the_first_result() -> None:
    g = build(zarrlayered, {}, 3)
    seen: list[str] = []
    assert g.visit(lambda path: seen.append(path)) is None
    assert seen == ["a", "a/b", "a/b/x", "a/y", "c", "z"]
    assert g.visitkeys(lambda path: path if path.endswith("x") else None) == "a/b/x"
    calls: list[str] = []

    def stop_at_b(path: str, node: Any) -> str | None:
        calls.append(path)
        return f"found {node.name}" if path == "a/b" else None

    assert g.visititems(stop_at_b) == "found /a/b"
    assert calls == ["a", "a/b"]  # nothing visited after the first non-None result
    shapes = g.visitvalues(lambda node: node.shape if isinstance(node, zarrlayered.Array) else None)
    assert shapes == (6,)
    assert g["a"].visit(lambda path: path) == "b"  # paths are relative to the group visited


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_tree_text_is_zarr_pythons(zarr_format: int) -> None:
    theirs, ours = pair(zarr_format)
    for level in (None, 0, 1):
        expected = repr(theirs.tree(level=level, plain=True))
        got = ours.tree(level=level, plain=True)
        assert got == expected
        assert repr(got) == expected  # a REPL shows the tree itself
    assert str(ours.tree(plain=True)) == (
        "/\n├── a\n│   ├── b\n│   │   └── x (6,) int32\n│   └── y (2, 3) float64\n├── c\n└── z (4,) uint8\n"
    )
    assert zarrlayered.tree(ours) == ours.tree()
    assert ours["a"].tree(plain=True).splitlines()[0] == "/a"
    # which nodes survive the cut depends on listing order (zarr-python: store order); the note is the same
    cut, their_cut = ours.tree(max_nodes=2, plain=True), repr(theirs.tree(max_nodes=2, plain=True))
    assert cut.splitlines()[0] == their_cut.splitlines()[0] == (
        "Truncated at max_nodes=2, some nodes and their children may be missing"
    )
    assert len(cut.splitlines()) == len(their_cut.splitlines()) == 4
    assert "text/html" in ours.tree()._repr_mimebundle_()
    with pytest.raises(NotImplementedError):
        ours.tree(expand=True)


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_create_group_writes_intermediate_groups_like_zarr(zarr_format: int) -> None:
    stores: dict[str, dict[str, Any]] = {"zarr": {}, "ours": {}}
    for lib, store in ((zarr, stores["zarr"]), (zarrlayered, stores["ours"])):
        root = lib.open_group(store, mode="w", zarr_format=zarr_format)
        sub = root.create_group("p/q/r", attributes={"deep": True})
        assert sub.name == "/p/q/r" and sub.attrs["deep"] is True
        root.create_array("p/arr", shape=(2,), dtype="i1")
    assert sorted(stores["ours"]) == sorted(stores["zarr"])
    for key, value in stores["zarr"].items():
        if key.endswith((".zgroup", ".zattrs")) or (key.endswith("zarr.json") and b'"group"' in value.to_bytes()):
            assert json.loads(stores["ours"][key]) == json.loads(value.to_bytes()), key
    ours = zarrlayered.open_group(stores["ours"])
    with pytest.raises(ContainsGroupError):
        ours.create_group("p/q")
    with pytest.raises(ContainsArrayError):
        ours.create_group("p/arr")
    with pytest.raises(ContainsArrayError):
        ours.create_array("p/arr/below", shape=(1,), dtype="i1")
    assert ours.create_group("p/q", overwrite=True).keys() == []


@pytest.mark.parametrize("lib", LIBRARIES)
def test_require_group_and_groups(lib: ModuleType) -> None:
    g = build(lib, {}, 3)
    assert g.require_group("a").attrs["level"] == 1  # the existing group, untouched
    assert g.require_group("new/deeper").name == "/new/deeper"
    first, second = g.require_groups("a", "c2")
    assert (first.name, second.name) == ("/a", "/c2")
    with pytest.raises(TypeError):
        g.require_group("z")
    assert "c2" in g


@pytest.mark.parametrize(
    ("shape", "dtype", "exact"),
    [
        ((6,), "i4", False),
        ((6,), "i4", True),
        ((6,), "i8", False),  # int32 casts safely to int64
        ((6,), "i8", True),
        ((6,), "i2", False),  # int32 does not cast safely to int16
        ((6,), "f8", False),
        ((6,), None, False),  # None means float64, as in zarr-python
        ((7,), "i4", False),
        (6, "i4", False),
    ],
)
def test_require_array_rules_are_zarrs(shape: Any, dtype: Any, exact: bool) -> None:
    results = []
    for lib in (zarr, zarrlayered):
        g = build(lib, {}, 3)
        results.append(outcome(lambda g=g: g.require_array("a/b/x", shape=shape, dtype=dtype, exact=exact).dtype))
    assert results[0] == results[1]


@pytest.mark.parametrize("lib", LIBRARIES)
def test_require_array_creates_or_refuses_groups(lib: ModuleType) -> None:
    g = build(lib, {}, 3)
    new = g.require_array("fresh", shape=(3,), dtype="u2")
    assert (new.shape, new.dtype) == ((3,), np.dtype("u2"))
    with pytest.raises(TypeError):
        g.require_array("a", shape=(3,), dtype="u2")


def _filled(lib: ModuleType, zarr_format: int) -> list[tuple[Any, ...]]:
    g = lib.open_group({}, mode="w", zarr_format=zarr_format)
    src = g.create_array("src", shape=(5, 4), chunks=(2, 2), dtype="f4", fill_value=-1)
    made = [
        g.empty(name="e", shape=(3,), dtype="i2"),
        g.zeros(name="z", shape=(3, 2), chunks=(3, 1)),
        g.ones(name="o", shape=(2,), dtype="u1"),
        g.full(name="f", shape=(2,), fill_value=7.5),
        g.ones_like(name="ol", data=np.arange(4)),
    ]
    if lib is zarrlayered or zarr_format == 3:  # zarr-python 3 fails *_like of V2 arrays (it passes compressor=)
        made += [
            g.empty_like(name="el", data=src),
            g.zeros_like(name="zl", data=src),
            g.full_like(name="fl", data=src, fill_value=3),
        ]
    assert sorted(g.array_keys()) == sorted(["src", *(a.basename for a in made)])
    return [(a.name, a.shape, a.chunks, str(a.dtype), float(a.fill_value), a[...].tolist()) for a in made]


def test_filled_array_helpers_match_zarr() -> None:
    theirs = _filled(zarr, 3)
    assert _filled(zarrlayered, 3) == theirs
    # zarr-python 3 puts these arrays of a V2 group in V3 (where the group does not list them); ours are V2
    assert _filled(zarrlayered, 2) == theirs


def test_like_helpers_of_v2_arrays_keep_the_format() -> None:
    made = _filled(zarrlayered, 2)[5:]
    assert [(m[0], m[2], m[4]) for m in made] == [("/el", (2, 2), -1.0), ("/zl", (2, 2), 0.0), ("/fl", (2, 2), 3.0)]
    g = zarrlayered.open_group({}, mode="w", zarr_format=2)
    like = g.zeros_like(name="z", data=g.ones(name="o", shape=(2,)))
    assert (like.zarr_format, g.array_keys()) == (2, ["o", "z"])


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_attrs_are_live_and_written_through(zarr_format: int, tmp_path: Any) -> None:
    docs = {}
    for lib in (zarr, zarrlayered):
        path = tmp_path / lib.__name__
        g = lib.open_group(str(path), mode="w", zarr_format=zarr_format)
        attrs = g.attrs
        attrs["a"] = 1
        attrs.update({"b": [1, 2], "c": {"d": None}})
        del attrs["a"]
        g.update_attributes({"e": "text"})
        assert attrs["e"] == "text"  # the object held earlier sees later changes
        assert dict(lib.open_group(str(path), mode="r").attrs) == {"b": [1, 2], "c": {"d": None}, "e": "text"}
        assert g.attrs.asdict() == dict(g.attrs)
        name = "zarr.json" if zarr_format == 3 else ".zattrs"
        docs[lib.__name__] = json.loads((path / name).read_text())
    assert docs["zarr"] == docs["zarrlayered"]


def test_attrs_put_replaces_everything() -> None:
    g = zarrlayered.group({}, attributes={"old": 1})
    g.attrs.put({"new": 2})
    assert dict(g.attrs) == {"new": 2}
    assert g.update_attributes({"more": 3}) is g
    assert dict(zarrlayered.open_group(g.store, mode="r").attrs) == {"new": 2, "more": 3}


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_info_text_is_zarrs(zarr_format: int, tmp_path: Any) -> None:
    texts = []
    for lib in (zarr, zarrlayered):
        path = tmp_path / lib.__name__
        build(lib, str(path), zarr_format)
        g = lib.open_group(str(path), mode="r")
        texts.append((str(g.info), str(g.info_complete()), str(g["a"].info)))
        lib.consolidate_metadata(str(path))
        texts.append((str(lib.open_consolidated(str(path), mode="r").info),))
    assert texts[0] == texts[2] and texts[1] == texts[3]
    assert "No. members : 6\nNo. arrays  : 3\nNo. groups  : 3" in texts[2][1]


def test_group_extras_from_zarr_python_3() -> None:
    store = zarrlayered.stores.MemoryStore()
    g = zarrlayered.Group.from_store(store, attributes={"k": 1})
    assert zarrlayered.Group.open(store) == g
    assert g.synchronizer is None and g.store is store and g.path == "" and g.basename == ""
    assert g.metadata.zarr_format == 3 and g.zarr_format == 3
    assert repr(g) == f"<Group memory://{id(store._store_dict)}>"  # as zarr-python 3 prints it
    arr = g.create_dataset("legacy", shape=(2,), dtype="i4", compressor=None)
    assert arr.compressors == ()
    assert g.require_dataset("legacy", shape=(2,), dtype="i4") == arr
    assert g.array("filled", data=np.arange(3))[:].tolist() == [0, 1, 2]
    assert g.create("plain", shape=(2,), dtype="u1").dtype == np.dtype("u1")
    assert g.items() == list(g.members()) and [v.name for v in g.values()] == ["/filled", "/legacy", "/plain"]
    with pytest.raises(KeyError):
        zarrlayered.Group.open(zarrlayered.stores.MemoryStore())


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_member_errors_name_the_same_classes_as_zarr(zarr_format: int) -> None:
    results = []
    for lib in (zarr, zarrlayered):
        g = build(lib, {}, zarr_format)
        results.append([
            kind(outcome(lambda g=g: g.create_group("a"))[1]),
            kind(outcome(lambda g=g: g.create_group("z"))[1]),
            kind(outcome(lambda g=g: g.create_array("z", shape=(1,), dtype="i1"))[1]),
            kind(outcome(lambda g=g: g.create_array("a", shape=(1,), dtype="i1"))[1]),
            kind(outcome(lambda g=g: g["nope"])[1]),
        ])
    assert results[0] == results[1]

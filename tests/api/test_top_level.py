"""The top-level functions: zarr-python 3's names and keyword arguments, and the same kinds of results as
zarr-python 3.1.6 gives for the same calls."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import zarr
from api_helpers import LIBRARIES, outcome

import zarrlayered

NAMES = [
    "open", "open_array", "open_group", "open_consolidated", "open_like", "create", "create_array", "create_group",
    "group", "array", "from_array", "empty", "zeros", "ones", "full", "empty_like", "zeros_like", "ones_like",
    "full_like", "save", "save_array", "save_group", "load", "tree", "consolidate_metadata", "copy", "copy_all",
    "copy_store", "create_hierarchy",
]


@pytest.mark.parametrize("name", NAMES)
def test_signature_accepts_every_zarr_argument(name: str) -> None:
    theirs = inspect.signature(getattr(zarr, name)).parameters
    ours = inspect.signature(getattr(zarrlayered, name)).parameters
    assert name in zarrlayered.__all__
    positional = [p.name for p in theirs.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert [p.name for p in ours.values() if p.kind is p.POSITIONAL_OR_KEYWORD][: len(positional)] == positional
    catch_all = any(p.kind is p.VAR_KEYWORD for p in ours.values())
    for param in theirs.values():
        if param.kind is param.KEYWORD_ONLY:
            assert param.name in ours or catch_all, param.name
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD) and name not in ("copy", "copy_all", "copy_store"):
            assert any(p.kind is param.kind for p in ours.values()), param.name
    if name in ("create_array", "create_group", "open_group", "group", "from_array"):
        assert set(theirs) <= set(ours)  # spelled out, not hidden in **kwargs


def _summary(value: Any) -> Any:
    """What a result is, comparably across the two libraries."""
    if value is None:
        return None
    if isinstance(value, zarr.Array | zarrlayered.Array):
        return ("Array", value.shape, str(value.dtype), value.chunks, np.asarray(value.fill_value).tolist(),
                value.metadata.zarr_format, value[...].tolist(), value.path)
    if isinstance(value, zarr.Group | zarrlayered.Group):
        return ("Group", value.path, value.metadata.zarr_format, dict(value.attrs), sorted(value.keys()))
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.tolist())
    return value


CALLS: dict[str, Callable[[ModuleType], Any]] = {
    "create": lambda z: z.create(shape=(10,), dtype="i4", chunks=(4,)),
    "create v2 no compressor": lambda z: z.create(shape=(10,), dtype="i4", chunks=3, compressor=None, zarr_format=2),
    "create v2 compressor count": lambda z: len(
        z.create(shape=(3,), dtype="i4", compressor=None, zarr_format=2).compressors),
    "create str fill": lambda z: z.create(shape=(3,), dtype="str").fill_value,
    "create v3 codecs": lambda z: z.create(
        shape=(4,), dtype="u2", chunks=(2,), codecs=[{"name": "bytes", "configuration": {"endian": "big"}}]
    ).serializer.to_dict(),
    "create attributes": lambda z: dict(z.create(shape=(2,), dtype="i1", attributes={"a": 1}).attrs),
    "create_array": lambda z: z.create_array({}, shape=(6, 4), chunks=(3, 2), dtype="f4", fill_value=1.5),
    "create_array data": lambda z: z.create_array({}, data=np.arange(12).reshape(3, 4)),
    "create_array name": lambda z: z.create_array({}, name="a/b", shape=(3,), dtype="i1"),
    "create_array v2": lambda z: z.create_array({}, shape=(5,), dtype="u1", zarr_format=2, compressors=None),
    "create_group": lambda z: z.create_group({}, path="x/y", attributes={"a": 1}),
    "create_group v2": lambda z: z.create_group({}, zarr_format=2, attributes={"b": [1]}),
    "group": lambda z: z.group({}, path="x", zarr_format=2),
    "group attributes": lambda z: z.group(attributes={"t": "x"}),
    "array": lambda z: z.array(np.arange(10), chunks=(5,)),
    "array list": lambda z: z.array([1, 2, 3]),
    "array 2d": lambda z: z.array(np.ones((3, 3), dtype="f4"), chunks=(2, 2)),
    "from_array numpy": lambda z: z.from_array({}, data=np.arange(100), chunks=(10,)),
    "from_array zarr": lambda z: z.from_array({}, data=z.create_array({}, data=np.arange(8), chunks=(3,))),
    "zeros": lambda z: z.zeros((4, 4), chunks=(2, 2)),
    "ones": lambda z: z.ones((3,), dtype="i2"),
    "empty": lambda z: z.empty((4,), chunks=(2,), dtype="f4").fill_value,
    "full": lambda z: z.full((4,), fill_value=3.5),
    "zeros_like": lambda z: z.zeros_like(z.array(np.arange(10), chunks=(5,))),
    "ones_like numpy": lambda z: z.ones_like(np.arange(6).reshape(2, 3)),
    "full_like": lambda z: z.full_like(z.array(np.arange(10), chunks=(5,)), fill_value=7),
    "full_like default": lambda z: z.full_like(z.array(np.arange(10), chunks=(5,))),
    "empty_like dtype": lambda z: z.empty_like(z.array(np.arange(10), chunks=(5,)), dtype="f8"),
    "open_array create": lambda z: z.open_array({}, shape=(3,), mode="w", dtype="i2"),
    "open_group attributes": lambda z: z.open_group({}, mode="w", attributes={"q": 2}),
    "open with shape": lambda z: z.open({}, mode="w", shape=(2, 2), dtype="u1"),
    "open nothing": lambda z: z.open({}),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_results_match_zarr(call: str) -> None:
    theirs = outcome(lambda: _summary(CALLS[call](zarr)))
    ours = outcome(lambda: _summary(CALLS[call](zarrlayered)))
    assert ours == theirs


def test_save_and_load_match_zarr() -> None:
    results = []
    for lib in (zarr, zarrlayered):
        single: dict[str, Any] = {}
        several: dict[str, Any] = {}
        lib.save(single, np.arange(3))
        lib.save(several, np.arange(3), np.ones(2), x=np.zeros(1))
        lib.save_array(several, np.arange(4, dtype="u2"), path="deep/p")
        lib.save_group(several, a=np.arange(2), path="g")
        results.append((
            lib.load(single).tolist(),
            lib.load(several, path="deep/p").tolist(),
            sorted(several),
            outcome(lambda lib=lib: lib.save({})),
            outcome(lambda lib=lib, s=single: lib.save(s, np.arange(5))),  # something is there: an error
            outcome(lambda lib=lib: lib.save_group({})),
            outcome(lambda lib=lib: lib.save_group({}, [1, 2])),
        ))
    ours, theirs = results[1], results[0]
    assert ours[:4] == theirs[:4] and ours[5:] == theirs[5:]
    assert ours[4] == ("raised", "ContainsArrayError") == theirs[4]


def test_save_array_replaces_with_mode_w() -> None:
    store: dict[str, Any] = {}
    zarrlayered.save_array(store, np.arange(3))
    zarrlayered.save_array(store, np.arange(5), mode="w")
    assert zarrlayered.load(store).tolist() == [0, 1, 2, 3, 4]


def test_load_of_a_group_gives_its_arrays() -> None:
    store: dict[str, Any] = {}
    zarrlayered.save_group(store, np.arange(3), b=np.ones(2))
    loaded = zarrlayered.load(store)
    assert sorted(loaded) == ["arr_0", "b"] and loaded["b"].tolist() == [1.0, 1.0]
    theirs: dict[str, Any] = {}
    zarr.save_group(theirs, np.arange(3), b=np.ones(2))
    with pytest.raises(NotImplementedError):  # zarr-python 3 cannot
        zarr.load(theirs)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_open_like(lib: ModuleType, tmp_path: Any) -> None:
    source = lib.create_array({}, shape=(10, 4), chunks=(5, 2), dtype="i2", fill_value=3)
    like = lib.open_like(source, "inner", store={}, mode="w")  # path inside store=
    assert (like.shape, like.chunks, like.dtype, like.path) == ((10, 4), (5, 2), np.dtype("i2"), "inner")
    if lib is zarrlayered:  # without store=, path is where the array goes (zarr-python 3 puts it in memory)
        local = lib.open_like(source, str(tmp_path / "like.zarr"))
        assert (tmp_path / "like.zarr" / "zarr.json").exists() and local.fill_value == 3


def test_zarr_version_is_the_old_name_of_zarr_format() -> None:
    assert zarrlayered.open_group({}, zarr_version=2).metadata.zarr_format == 2
    assert zarrlayered.create(shape=(2,), zarr_version=2).metadata.zarr_format == 2
    with pytest.raises(ValueError, match="disagree"):
        zarrlayered.group({}, zarr_version=2, zarr_format=3)


def test_zarr_python_2_arguments_without_effect_are_accepted_or_refused_clearly() -> None:
    g = zarrlayered.open_group({}, mode="w", cache_attrs=True)
    assert zarrlayered.group({}, cache_attrs=False).path == ""
    with pytest.raises(TypeError, match="synchronizer"):
        zarrlayered.open_group({}, synchronizer=object())
    assert zarrlayered.open_group({}, chunk_store={}).async_group.array_options["chunk_store"] is not None
    chunks: dict[str, bytes] = {}
    meta: dict[str, bytes] = {}
    arr = zarrlayered.create(shape=(2,), chunks=(1,), store=meta, chunk_store=chunks, zarr_format=2)
    arr[:] = [1, 2]
    assert sorted(chunks) == ["0", "1"] and ".zarray" in meta and "0" not in meta
    assert g.synchronizer is None


def test_tree_function() -> None:
    g = zarrlayered.group()
    g.create_group("a").create_array("x", shape=(2,), dtype="i1")
    assert str(zarrlayered.tree(g, level=0)) == "/\n└── a\n"
    with pytest.raises(TypeError):
        zarrlayered.tree(g["a/x"])  # type: ignore[arg-type]


def test_open_with_a_read_only_store_defaults_to_r() -> None:
    store = zarrlayered.stores.MemoryStore()
    zarrlayered.create_group(store, attributes={"a": 1})
    read_only = store.with_read_only(True)
    for lib_open in (zarrlayered.open,):
        node = lib_open(read_only)
        assert isinstance(node, zarrlayered.Group) and node.read_only and dict(node.attrs) == {"a": 1}
    assert zarrlayered.group(read_only).read_only

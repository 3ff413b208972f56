"""End to end: Array reads and writes agree with numpy, through both engine paths (sync and async)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zarrlayered as zarr
from zarrlayered.core.sync import sync
from zarrlayered.errors import ReadOnlyError
from zarrlayered.stores import FsspecStore, LoggingStore, MemoryStore

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def shapes_and_chunks(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(0, 9)) for _ in range(ndim))
    chunks = tuple(draw(st.integers(1, 5)) for _ in range(ndim))
    return shape, chunks


def slices_for(length: int) -> st.SearchStrategy[Any]:
    bound = st.integers(-length - 2, length + 2) | st.none()
    step = st.sampled_from([None, 1, 2, 3, -1, -2, -3])
    sl = st.builds(slice, bound, bound, step)
    if length == 0:
        return sl
    return sl | st.integers(-length, length - 1)


@st.composite
def basic_selection(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[Any, ...]:
    return tuple(draw(slices_for(n)) for n in shape)


def make_array(shape: tuple[int, ...], chunks: tuple[int, ...], zarr_format: int, store: Any = None) -> zarr.Array:
    return zarr.create_array(store if store is not None else MemoryStore(), shape=shape, chunks=chunks,
                             dtype="i4", fill_value=-1, zarr_format=zarr_format)


@SETTINGS
@given(data=st.data(), sc=shapes_and_chunks(), zarr_format=st.sampled_from([2, 3]))
def test_basic_reads_and_writes_match_numpy(data: st.DataObject, sc: Any, zarr_format: int) -> None:
    shape, chunks = sc
    reference = np.arange(int(np.prod(shape)), dtype="i4").reshape(shape)
    arr = make_array(shape, chunks, zarr_format)
    arr[...] = reference
    sel = data.draw(basic_selection(shape))
    np.testing.assert_array_equal(arr[sel], reference[sel])
    value = np.asarray(data.draw(st.integers(-100, -2)), dtype="i4")
    reference[sel] = value
    arr[sel] = value
    np.testing.assert_array_equal(arr[...], reference)


@SETTINGS
@given(data=st.data(), sc=shapes_and_chunks())
def test_orthogonal_and_coordinate_selections_match_numpy(data: st.DataObject, sc: Any) -> None:
    shape, chunks = sc
    if 0 in shape:
        return
    reference = np.arange(int(np.prod(shape)), dtype="i4").reshape(shape)
    arr = make_array(shape, chunks, 3)
    arr[...] = reference
    idx = [np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=6))) for n in shape]
    np.testing.assert_array_equal(arr.oindex[tuple(idx)], reference[np.ix_(*idx)])
    npoints = data.draw(st.integers(1, 6))
    points = tuple(np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=npoints, max_size=npoints)))
                   for n in shape)
    np.testing.assert_array_equal(arr.vindex[points], reference[points])
    mask = np.asarray(data.draw(st.lists(st.booleans(), min_size=reference.size, max_size=reference.size)))
    mask = mask.reshape(shape)
    np.testing.assert_array_equal(arr.vindex[mask], reference[mask])
    np.testing.assert_array_equal(arr[mask], reference[mask])


def test_sync_and_async_paths_agree(tmp_path: Path) -> None:
    reference = np.random.default_rng(1).normal(size=(37, 23)).astype("f8")
    fast = zarr.create_array(tmp_path / "fast", shape=reference.shape, chunks=(8, 5), dtype="f8")
    assert fast.async_array.sync_path
    slow_store = FsspecStore.from_url(f"file://{tmp_path / 'slow'}")
    slow = zarr.create_array(slow_store, shape=reference.shape, chunks=(8, 5), dtype="f8")
    assert not slow.async_array.sync_path
    for arr in (fast, slow):
        arr[:] = reference
        arr[3:30:4, ::-2] = -1.0
    expected = reference.copy()
    expected[3:30:4, ::-2] = -1.0
    for arr in (fast, slow):
        np.testing.assert_array_equal(arr[:], expected)
        np.testing.assert_array_equal(sync(arr.async_array.getitem((slice(None, None, -3), 4))), expected[::-3, 4])
    assert sorted(p.name for p in (tmp_path / "fast" / "c").iterdir()) == sorted(
        p.name for p in (tmp_path / "slow" / "c").iterdir()
    )


def test_zero_dimensional_array() -> None:
    arr = zarr.create_array(MemoryStore(), shape=(), dtype="f8", fill_value=1.5)
    assert arr[()] == 1.5
    arr[()] = 4.25
    assert arr[...] == 4.25
    assert bool(arr) is True
    assert float(np.asarray(arr)) == 4.25
    with pytest.raises(TypeError):
        len(arr)


def test_bool_of_larger_array_is_ambiguous() -> None:
    arr = zarr.zeros((3,), store=MemoryStore())
    with pytest.raises(ValueError, match="ambiguous"):
        bool(arr)


def test_out_of_bounds_raise_index_error() -> None:
    arr = zarr.zeros((4, 5), chunks=(2, 2), store=MemoryStore())
    with pytest.raises(IndexError):
        arr[4, 0]
    with pytest.raises(IndexError):
        arr[0, -6]
    with pytest.raises(IndexError):
        arr.oindex[[0, 9], :]


def test_resize_and_append_match_numpy() -> None:
    arr = zarr.create_array(MemoryStore(), shape=(5, 4), chunks=(2, 3), dtype="i8", fill_value=0)
    ref = np.arange(20).reshape(5, 4)
    arr[:] = ref
    arr.resize((3, 6))
    expected = np.zeros((3, 6), dtype="i8")
    expected[:3, :4] = ref[:3]
    np.testing.assert_array_equal(arr[:], expected)
    arr.resize((7, 6))
    grown = np.zeros((7, 6), dtype="i8")
    grown[:3] = expected
    np.testing.assert_array_equal(arr[:], grown)  # dropped data must not come back
    assert arr.append(np.full((2, 6), 9)) == (9, 6)
    np.testing.assert_array_equal(arr[7:], np.full((2, 6), 9))
    assert arr.append(np.ones((9, 1), dtype="i8"), axis=1) == (9, 7)
    assert arr.shape == (9, 7)
    with pytest.raises(ValueError, match="does not match"):
        arr.append(np.ones((2, 3)))


def test_write_empty_chunks_false_stores_nothing_for_fill() -> None:
    store = LoggingStore(MemoryStore())
    arr = zarr.create_array(store, shape=(10,), chunks=(5,), dtype="f4", fill_value=float("nan"))
    arr[:] = np.nan
    assert arr.nchunks_initialized == 0
    arr[:5] = 1.0
    assert arr.nchunks_initialized == 1
    arr[:5] = np.nan  # back to fill: the chunk is deleted
    assert arr.nchunks_initialized == 0
    np.testing.assert_array_equal(arr[:], np.full(10, np.nan, dtype="f4"))


def test_whole_chunk_writes_skip_reads() -> None:
    store = LoggingStore(MemoryStore())
    arr = zarr.create_array(store, shape=(100,), chunks=(10,), dtype="i2")
    store.reset_counts()
    arr[:] = np.arange(100, dtype="i2")
    assert store.counter["get"] == 0
    assert store.counter["set"] == 10
    store.reset_counts()
    arr[5:15] = 0  # two partial chunks: read, merge, write
    assert store.counter["get"] == 2
    assert store.counter["set"] == 2


def test_read_only_array_refuses_writes(tmp_path: Path) -> None:
    zarr.create_array(tmp_path / "a", shape=(4,), dtype="i4")
    reader = zarr.open_array(tmp_path / "a", mode="r")
    with pytest.raises(ReadOnlyError):
        reader[:] = 1
    with pytest.raises(PermissionError):
        reader.resize((8,))
    with pytest.raises(ReadOnlyError):
        reader.attrs["x"] = 1


def test_array_indexed_with_array_and_assigned_from_array() -> None:
    src = zarr.array(np.arange(10) * 10, store=MemoryStore())
    idx = zarr.array(np.array([9, 0, 3]), store=MemoryStore())
    np.testing.assert_array_equal(src[idx], [90, 0, 30])
    dst = zarr.zeros((10,), dtype="i8", store=MemoryStore())
    dst[:] = src
    np.testing.assert_array_equal(dst[:], src[:])


def test_attrs_write_through() -> None:
    store = MemoryStore()
    arr = zarr.create_array(store, name="a", shape=(2,), dtype="u1", attributes={"x": 1})
    arr.attrs["y"] = [1, 2]
    del arr.attrs["x"]
    assert zarr.open_array(store, path="a", mode="r").attrs.asdict() == {"y": [1, 2]}


def test_shrinking_on_two_axes_then_growing_gives_fill() -> None:
    arr = zarr.create_array(MemoryStore(), shape=(6, 6), chunks=(4, 4), dtype="i4", fill_value=0)
    arr[:] = 7
    arr.resize((3, 3))
    arr.resize((6, 6))
    expected = np.zeros((6, 6), dtype="i4")
    expected[:3, :3] = 7
    np.testing.assert_array_equal(arr[:], expected)


def test_structured_fields_read_and_write() -> None:
    dtype = np.dtype([("a", "<i4"), ("b", "<f8")])
    data = np.zeros(6, dtype=dtype)
    data["a"] = np.arange(6)
    data["b"] = np.linspace(0, 1, 6)
    arr = zarr.create_array(MemoryStore(), shape=(6,), chunks=(4,), dtype=dtype, zarr_format=2)
    arr[:] = data
    np.testing.assert_array_equal(arr["a"], data["a"])
    np.testing.assert_array_equal(arr[1:4, "b"], data["b"][1:4])
    np.testing.assert_array_equal(arr.get_basic_selection(slice(2, 5), fields=["a"]), data[["a"]][2:5])
    arr.set_basic_selection(slice(0, 2), [7, 8], fields="a")
    data["a"][:2] = [7, 8]
    np.testing.assert_array_equal(arr[:], data)
    with pytest.raises(IndexError, match="not in the array's dtype"):
        arr["nope"]

"""Arrays on a ``rectilinear`` chunk grid (variable chunking), through the public API.

Every selection kind reads and writes like numpy on both engine paths; resize and append keep the data
and extend the grid by repeating each axis's last edge; the metadata is written in the compact
run-length form, validates against the extension's JSON schema and round-trips; regular chunkings stay
``regular`` on disk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

import zarrlayered
from zarrlayered.core.chunk_grids import RectilinearChunkGrid
from zarrlayered.core.sync import sync
from zarrlayered.stores import MemoryStore

SCHEMA = json.loads(Path("/work/shared/specs/chunk-grid-rectilinear.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

SHAPE = (35, 16)
CHUNKS = [[10, 20, 5], [3, 5, 8]]
EDGES = ([0, 10, 30, 35], [0, 3, 8, 16])


def _grid_json(store: MemoryStore, path: str = "") -> dict[str, Any]:
    doc = json.loads(store.store_dict[f"{path}/zarr.json" if path else "zarr.json"])
    grid: dict[str, Any] = doc["chunk_grid"]
    return grid


def _make(fill: Any = -1, dtype: str = "i4") -> tuple[zarrlayered.Array, MemoryStore, np.ndarray[Any, Any]]:
    store = MemoryStore()
    arr = zarrlayered.create_array(store, shape=SHAPE, chunks=CHUNKS, dtype=dtype, fill_value=fill)
    data = np.arange(np.prod(SHAPE), dtype=dtype).reshape(SHAPE)
    arr[...] = data
    return arr, store, data


def _get(arr: zarrlayered.Array, selection: Any, kind: str, path: str) -> Any:
    engine = arr.async_array
    return engine.get_selection_sync(selection, kind) if path == "sync" else sync(engine.get_selection(selection, kind))


def _set(arr: zarrlayered.Array, selection: Any, value: Any, kind: str, path: str) -> None:
    engine = arr.async_array
    if path == "sync":
        engine.set_selection_sync(selection, value, kind)
    else:
        sync(engine.set_selection(selection, value, kind))


def _block_region(block: tuple[Any, ...]) -> tuple[slice, ...]:
    region = []
    for entry, edges in zip(block, EDGES, strict=True):
        if isinstance(entry, int):
            region.append(slice(edges[entry], edges[entry + 1]))
        else:
            start, stop, _ = entry.indices(len(edges) - 1)
            region.append(slice(edges[start], edges[stop]))
    return tuple(region)


rng = np.random.default_rng(5)
ROWS, COLS = rng.integers(0, 35, 6), rng.integers(0, 16, 4)
POINTS = (rng.integers(0, 35, 20), rng.integers(0, 16, 20))
MASK = rng.random(SHAPE) < 0.2

# (kind, selection, the numpy index giving the same elements)
SELECTIONS: list[tuple[str, Any, Any]] = [
    ("getitem", (slice(None),), (slice(None),)),
    ("getitem", (7, 9), (7, 9)),
    ("getitem", (-1, slice(None)), (-1, slice(None))),
    ("getitem", (slice(3, 33, 4), slice(1, None, 3)), (slice(3, 33, 4), slice(1, None, 3))),
    ("getitem", (slice(None, None, -3), Ellipsis), (slice(None, None, -3), Ellipsis)),
    ("getitem", (slice(9, 31), slice(2, 9)), (slice(9, 31), slice(2, 9))),  # straddles every edge
    ("orthogonal", (ROWS, COLS), np.ix_(ROWS, COLS)),
    ("orthogonal", (np.arange(35) % 4 == 1, slice(None)), (np.arange(35) % 4 == 1, slice(None))),
    ("getitem", ([29, 30, 9, 10], slice(None)), ([29, 30, 9, 10], slice(None))),
    ("vindex", POINTS, POINTS),
    ("vindex", np.ix_(ROWS, COLS), np.ix_(ROWS, COLS)),
    ("mask", MASK, MASK),
    ("block", (1, 2), _block_region((1, 2))),
    ("block", (slice(0, 2), 0), _block_region((slice(0, 2), 0))),
    ("block", (slice(None), slice(1, None)), _block_region((slice(None), slice(1, None)))),
]


@pytest.mark.parametrize("path", ["sync", "async"])
@pytest.mark.parametrize(("kind", "selection", "numpy_index"), SELECTIONS, ids=[s[0] for s in SELECTIONS])
def test_every_selection_kind_reads_and_writes_like_numpy(
    kind: str, selection: Any, numpy_index: Any, path: str
) -> None:
    arr, _, data = _make()
    np.testing.assert_array_equal(_get(arr, selection, kind, path), data[numpy_index])
    expected = data.copy()
    target = expected[numpy_index]
    value = np.arange(np.size(target), dtype="i4").reshape(np.shape(target)) * -3 - 100
    expected[numpy_index] = value
    _set(arr, selection, value, kind, path)
    np.testing.assert_array_equal(arr[...], expected)


def test_chunks_are_stored_at_their_declared_edges() -> None:
    store = MemoryStore()
    arr = zarrlayered.create_array(store, shape=(33, 7), chunks=[[10, 20, 10], [3, 4]], dtype="u2", compressors=None)
    arr[...] = 1
    stored = {k: len(v) for k, v in store.store_dict.items() if k.startswith("c/")}
    # the last row of chunks is declared 10 long and stored padded to it, though only 3 rows are in the array
    assert stored == {f"c/{i}/{j}": r * c * 2 for i, r in enumerate([10, 20, 10]) for j, c in enumerate([3, 4])}
    assert arr.cdata_shape == (3, 2)
    assert arr.chunks == ((10, 20, 3), (3, 4))


def test_resize_and_append_keep_the_data_and_repeat_the_last_edge() -> None:
    arr, store, data = _make()
    arr.resize((50, 20))  # grow both axes
    expected = np.full((50, 20), -1, dtype="i4")
    expected[:35, :16] = data
    np.testing.assert_array_equal(arr[...], expected)
    assert _grid_json(store)["configuration"]["chunk_shapes"] == [[10, 20, [5, 4]], [3, 5, [8, 2]]]

    arr[40:50, 16:20] = 7
    expected[40:50, 16:20] = 7
    arr.resize((12, 4))  # shrink: chunks past the end go, the cut-off part of straddling chunks is reset
    assert sorted(k for k in store.store_dict if k.startswith("c/")) == ["c/0/0", "c/0/1", "c/1/0", "c/1/1"]
    arr.resize((50, 20))
    regrown = np.full((50, 20), -1, dtype="i4")
    regrown[:12, :4] = expected[:12, :4]
    np.testing.assert_array_equal(arr[...], regrown)  # nothing cut off comes back

    appended = np.arange(7 * 20, dtype="i4").reshape(7, 20)
    assert arr.append(appended) == (57, 20)
    cols = np.arange(57 * 9, dtype="i4").reshape(57, 9)
    assert arr.append(cols, axis=1) == (57, 29)
    regrown = np.concatenate([np.concatenate([regrown, appended]), cols], axis=1)
    np.testing.assert_array_equal(arr[...], regrown)
    assert _grid_json(store)["configuration"]["chunk_shapes"] == [[10, 20, [5, 6]], [3, 5, [8, 3]]]
    reopened = zarrlayered.open_array(store)
    np.testing.assert_array_equal(reopened[...], regrown)
    assert reopened.chunks == ((10, 20, 5, 5, 5, 5, 5, 2), (3, 5, 8, 8, 5))


def test_a_regular_axis_stays_an_integer_through_resize() -> None:
    store = MemoryStore()
    arr = zarrlayered.create_array(store, shape=(20, 30), chunks=[[5, 15], 8], dtype="f4")
    assert _grid_json(store)["configuration"]["chunk_shapes"] == [[5, 15], 8]
    arr.resize((31, 70))
    assert _grid_json(store)["configuration"]["chunk_shapes"] == [[5, [15, 2]], 8]
    assert arr.cdata_shape == (3, 9)


@pytest.mark.parametrize(
    ("chunks", "shape", "expected"),
    [
        ([[10, 20, 5], [3, 5, 8]], (35, 16), [[10, 20, 5], [3, 5, 8]]),
        ([[1, 1, 1, 5, 5, 5, 5], 4], (23, 9), [[[1, 3], [5, 4]], 4]),
        ([[2, 2, 7, 7, 7, 1]], (26,), [[[2, 2], [7, 3], 1]]),
        ([[4, 4, 4, 4, 2], [1, 9]], (18, 10), [[[4, 4], 2], [1, 9]]),
        ([[30], [6, 6, 6, 7]], (30, 25), [30, [[6, 3], 7]]),
    ],
)
def test_metadata_is_compact_valid_and_round_trips(chunks: Any, shape: tuple[int, ...], expected: Any) -> None:
    store = MemoryStore()
    zarrlayered.create_array(store, shape=shape, chunks=chunks, dtype="i2")
    document = _grid_json(store)
    assert document == {"name": "rectilinear", "configuration": {"kind": "inline", "chunk_shapes": expected}}
    VALIDATOR.validate(document)
    grid = RectilinearChunkGrid.from_dict(document)
    assert grid.to_dict() == document
    # the expanded spelling (every edge listed) reads as the same grid, and is written compactly again
    expanded = {
        "name": "rectilinear",
        "configuration": {
            "kind": "inline",
            "chunk_shapes": [edges[0] if len(edges) == 1 else list(edges) for edges in grid.chunk_shapes],
        },
    }
    VALIDATOR.validate(expanded)
    again = RectilinearChunkGrid.from_dict(expanded)
    assert again == grid
    assert again.to_dict() == document
    reopened = zarrlayered.open_array(store)
    assert reopened.metadata.chunk_grid == grid


def test_metadata_stays_valid_after_resize_and_append() -> None:
    arr, store, _ = _make()
    for step in [lambda: arr.resize((80, 16)), lambda: arr.append(np.zeros((3, 16), "i4")), lambda: arr.resize((2, 1))]:
        step()
        VALIDATOR.validate(_grid_json(store))
        assert _grid_json(store)["name"] == "rectilinear"


@pytest.mark.parametrize(
    "chunks", [(10, 4), [10, 4], [[10, 10, 10, 5], 4], [[10, 10, 10, 10], [4, 4, 4, 4]], [(10, 10, 10, 5), (4,) * 4]]
)
def test_regular_chunkings_stay_regular_on_disk(chunks: Any) -> None:
    store = MemoryStore()
    arr = zarrlayered.create_array(store, shape=(35, 16), chunks=chunks, dtype="i4")
    assert _grid_json(store) == {"name": "regular", "configuration": {"chunk_shape": [10, 4]}}
    arr.resize((70, 3))
    arr.append(np.ones((5, 3), "i4"))
    assert _grid_json(store) == {"name": "regular", "configuration": {"chunk_shape": [10, 4]}}


def test_rectilinear_array_on_disk_reopens_with_every_kind(tmp_path: Path) -> None:
    arr = zarrlayered.create_array(str(tmp_path), shape=SHAPE, chunks=CHUNKS, dtype="f8", fill_value=np.nan)
    data = np.arange(np.prod(SHAPE), dtype="f8").reshape(SHAPE)
    arr[3:33, 2:15] = data[3:33, 2:15]
    expected = np.full(SHAPE, np.nan)
    expected[3:33, 2:15] = data[3:33, 2:15]
    again = zarrlayered.open_array(str(tmp_path), mode="r")
    for kind, selection, numpy_index in SELECTIONS:
        np.testing.assert_array_equal(_get(again, selection, kind, "sync"), expected[numpy_index])
    stored = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "c").rglob("*") if p.is_file())
    assert stored == [f"c/{i}/{j}" for i in range(3) for j in range(3)]


def test_a_hand_written_document_opens_and_is_rewritten_compactly() -> None:
    """A valid document in a long-hand spelling (runs split, a regular axis listed edge by edge)."""
    store = MemoryStore()
    chunk_shapes = [[2, [3, 1], [3, 1], 1, 1], [4, 4, 4]]
    document = {
        "zarr_format": 3,
        "node_type": "array",
        "shape": [10, 12],
        "data_type": "int16",
        "chunk_grid": {"name": "rectilinear", "configuration": {"kind": "inline", "chunk_shapes": chunk_shapes}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0,
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
        "attributes": {},
    }
    VALIDATOR.validate(document["chunk_grid"])
    store.store_dict["zarr.json"] = json.dumps(document).encode()
    arr = zarrlayered.open_array(store, mode="r+")
    assert arr.chunks == ((2, 3, 3, 1, 1), (4, 4, 4))
    data = np.arange(120, dtype="i2").reshape(10, 12)
    arr[...] = data
    stored = sorted(k for k in store.store_dict if k.startswith("c/"))
    assert stored == [f"c/{i}/{j}" for i in range(5) for j in range(3)]
    np.testing.assert_array_equal(arr.oindex[[9, 0, 5], [11, 3]], data[np.ix_([9, 0, 5], [11, 3])])
    arr.resize((11, 12))
    rewritten = _grid_json(store)
    VALIDATOR.validate(rewritten)
    assert rewritten["configuration"]["chunk_shapes"] == [[2, [3, 2], [1, 3]], 4]

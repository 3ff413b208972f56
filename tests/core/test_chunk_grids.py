"""Tests of zarrlayered.core.chunk_grids: regular and rectilinear grids, the registry, normalize_chunks."""

from __future__ import annotations

import copy
import json
import math
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import jsonschema
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zarr.core.chunk_grids import RegularChunkGrid as ZarrRegularChunkGrid
from zarr.core.chunk_grids import _guess_chunks as zarr_guess_chunks

from zarrlayered.core.chunk_grids import (
    ChunkGrid,
    RectilinearChunkGrid,
    RegularChunkGrid,
    get_chunk_grid_class,
    guess_chunks,
    normalize_chunks,
    parse_chunk_grid,
    register_chunk_grid,
)
from zarrlayered.errors import MetadataValidationError

SCHEMA_PATH = Path("/work/shared/specs/chunk-grid-rectilinear.schema.json")
SCHEMA = json.loads(SCHEMA_PATH.read_text())


# ----------------------------------------------------------------------------------------------- regular


def test_regular_json_matches_zarr_python() -> None:
    ours = RegularChunkGrid((10, 3)).to_dict()
    theirs = json.loads(json.dumps(ZarrRegularChunkGrid(chunk_shape=(10, 3)).to_dict()))
    assert ours == theirs == {"name": "regular", "configuration": {"chunk_shape": [10, 3]}}
    assert RegularChunkGrid.from_dict(theirs) == RegularChunkGrid((10, 3))
    assert parse_chunk_grid(theirs) == RegularChunkGrid((10, 3))


def test_regular_edges_and_counts() -> None:
    grid = RegularChunkGrid((3, 4))
    e0, e1 = grid.axis_edges((10, 8))
    assert e0.tolist() == [0, 3, 6, 9, 10]
    assert e1.tolist() == [0, 4, 8]
    assert e0.dtype == np.int64
    assert not e0.flags.writeable
    assert grid.grid_shape((10, 8)) == (4, 2)
    assert grid.nchunks((10, 8)) == 8
    assert list(grid.all_chunk_coords((4, 5))) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert grid.chunk_shape_at((3, 1), (10, 8)) == (3, 4)  # edge chunk: stored shape, not clipped
    assert grid.chunk_region((3, 1), (10, 8)) == (slice(9, 10), slice(4, 8))
    assert grid.chunk_sizes((10, 8)) == ((3, 3, 3, 1), (4, 4))
    # Cached: the same object comes back.
    assert grid.axis_edges((10, 8))[0] is e0


def test_regular_zero_length_and_zero_dim() -> None:
    grid = RegularChunkGrid((5, 2))
    assert grid.grid_shape((0, 3)) == (0, 2)
    assert grid.axis_edges((0, 3))[0].tolist() == [0]
    assert grid.nchunks((0, 3)) == 0
    assert list(grid.all_chunk_coords((0, 3))) == []
    scalar = RegularChunkGrid(())
    assert scalar.grid_shape(()) == ()
    assert scalar.nchunks(()) == 1
    assert list(scalar.all_chunk_coords(())) == [()]
    assert scalar.to_dict() == {"name": "regular", "configuration": {"chunk_shape": []}}


@pytest.mark.parametrize(
    ("chunk_shape", "match"),
    [
        ((0, 3), r"chunk_shape\[0\].*got 0"),
        ((3, -1), r"chunk_shape\[1\].*got -1"),
        ((3, 2.5), r"chunk_shape\[1\].*2.5"),
        ((True,), r"chunk_shape\[0\].*True"),
        ("ab", "sequence of integers"),
    ],
)
def test_regular_rejects_bad_chunk_shape(chunk_shape: Any, match: str) -> None:
    with pytest.raises(MetadataValidationError, match=match):
        RegularChunkGrid(chunk_shape)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"name": "regular"}, "configuration must be a JSON object"),
        ({"name": "regular", "configuration": {}}, "chunk_shape is missing"),
        ({"name": "regular", "configuration": {"chunk_shape": 5}}, "chunk_shape must be a list, got 5"),
        ({"name": "regular", "configuration": {"chunk_shape": [1], "x": 1}}, r"unexpected field.*'x'"),
        ({"name": "regular", "configuration": {"chunk_shape": [1]}, "y": 2}, r"unexpected field.*'y'"),
        ({"name": "regulr", "configuration": {"chunk_shape": [1]}}, "'regulr'"),
    ],
)
def test_regular_from_dict_errors(data: dict[str, Any], match: str) -> None:
    with pytest.raises(MetadataValidationError, match=match):
        RegularChunkGrid.from_dict(data)


def test_regular_validate_ndim() -> None:
    with pytest.raises(MetadataValidationError, match=r"2 dimension\(s\).*\(4,\)"):
        RegularChunkGrid((2, 2)).validate((4,))
    RegularChunkGrid((2, 2)).validate((4, 4))


def test_regular_grid_is_hashable_and_frozen() -> None:
    grid = RegularChunkGrid([2, 3])  # type: ignore[arg-type]
    assert grid.chunk_shape == (2, 3)
    assert hash(grid) == hash(RegularChunkGrid((2, 3)))
    with pytest.raises(AttributeError):
        grid.chunk_shape = (1, 1)  # type: ignore[misc]


# ----------------------------------------------------------------------------------------------- rectilinear

SPEC_EXAMPLE = {
    "name": "rectilinear",
    "configuration": {
        "kind": "inline",
        "chunk_shapes": [4, [1, 2, 3], [[4, 2]], [[1, 3], 3], [4, 4, 4]],
    },
}


def test_rectilinear_spec_example() -> None:
    jsonschema.validate(SPEC_EXAMPLE, SCHEMA)
    grid = RectilinearChunkGrid.from_dict(SPEC_EXAMPLE)
    shape = (6, 6, 6, 6, 6)
    assert grid.chunk_sizes(shape) == ((4, 2), (1, 2, 3), (4, 2), (1, 1, 1, 3), (4, 2))
    edges = [e.tolist() for e in grid.axis_edges(shape)]
    assert edges == [[0, 4, 6], [0, 1, 3, 6], [0, 4, 6], [0, 1, 2, 3, 6], [0, 4, 6]]
    assert grid.grid_shape(shape) == (2, 3, 2, 4, 2)
    assert grid.nchunks(shape) == 2 * 3 * 2 * 4 * 2
    # Stored shapes are the declared edges, the last in-array chunk is not clipped.
    assert grid.chunk_shape_at((1, 2, 1, 3, 1), shape) == (4, 3, 4, 3, 4)
    assert grid.chunk_shape_at((0, 0, 0, 0, 0), shape) == (4, 1, 4, 1, 4)
    out = grid.to_dict()
    jsonschema.validate(out, SCHEMA)
    assert out == {
        "name": "rectilinear",
        "configuration": {"kind": "inline", "chunk_shapes": [4, [1, 2, 3], 4, [[1, 3], 3], 4]},
    }
    assert RectilinearChunkGrid.from_dict(out) == grid


def test_rectilinear_overflow_chunks_are_outside_the_grid() -> None:
    grid = RectilinearChunkGrid(((5, 5, 5, 7),))
    assert grid.grid_shape((11,)) == (3,)
    assert grid.axis_edges((11,))[0].tolist() == [0, 5, 10, 11]
    assert grid.grid_shape((10,)) == (2,)
    assert grid.grid_shape((0,)) == (0,)
    assert grid.grid_shape((22,)) == (4,)
    with pytest.raises(MetadataValidationError, match=r"chunk_shapes\[0\] covers 22 element\(s\).*length 23"):
        grid.validate((23,))
    # A regular axis repeats to cover any length.
    regular = RectilinearChunkGrid(((3,), (2, 5)))
    assert regular.grid_shape((100, 7)) == (34, 2)
    assert regular.regular_axes == (True, False)


def test_rectilinear_equal_edges_collapse_to_regular_step() -> None:
    grid = RectilinearChunkGrid(((4, 4, 4), (2, 3)))
    assert grid.chunk_shapes == ((4,), (2, 3))
    assert grid == RectilinearChunkGrid.from_dict(grid.to_dict())
    assert grid.to_dict()["configuration"]["chunk_shapes"] == [4, [2, 3]]


def test_rectilinear_rle_written_compactly() -> None:
    grid = RectilinearChunkGrid(((1, 1, 1, 5, 5, 2, 7, 7, 7, 7),))
    assert grid.to_dict()["configuration"]["chunk_shapes"] == [[[1, 3], [5, 2], 2, [7, 4]]]
    jsonschema.validate(grid.to_dict(), SCHEMA)


def test_rectilinear_chunk_shape_at_out_of_range() -> None:
    grid = RectilinearChunkGrid(((2, 3),))
    with pytest.raises(IndexError, match="chunk index 2 is out of bounds for axis 0"):
        grid.chunk_shape_at((2,), (5,))
    with pytest.raises(IndexError, match="do not have 1 dimension"):
        grid.chunk_shape_at((0, 0), (5,))


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"kind": "external", "chunk_shapes": [1]}, "kind must be 'inline'.*'external'"),
        ({"chunk_shapes": [1]}, "kind is missing"),
        ({"kind": "inline"}, "chunk_shapes is missing"),
        ({"kind": "inline", "chunk_shapes": 3}, "chunk_shapes must be a list, got 3"),
        ({"kind": "inline", "chunk_shapes": [0]}, r"chunk_shapes\[0\] must be a positive integer, got 0"),
        ({"kind": "inline", "chunk_shapes": [[1, 0]]}, r"chunk_shapes\[0\]\[1\] must be a positive integer, got 0"),
        ({"kind": "inline", "chunk_shapes": [[[3, 0]]]}, r"chunk_shapes\[0\]\[0\]\[1\] \(repeat count\).*got 0"),
        ({"kind": "inline", "chunk_shapes": [[[3, 1, 1]]]}, r"chunk_shapes\[0\]\[0\] must be an edge length"),
        ({"kind": "inline", "chunk_shapes": ["4"]}, r"chunk_shapes\[0\] must be an integer or a list.*'4'"),
        ({"kind": "inline", "chunk_shapes": [[True]]}, r"chunk_shapes\[0\]\[0\].*True"),
    ],
)
def test_rectilinear_from_dict_errors(config: dict[str, Any], match: str) -> None:
    with pytest.raises(MetadataValidationError, match=match):
        RectilinearChunkGrid.from_dict({"name": "rectilinear", "configuration": config})


def test_rectilinear_schema_rejects_what_we_reject() -> None:
    bad = {"name": "rectilinear", "configuration": {"kind": "inline", "chunk_shapes": [[[3, 0]]]}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
    with pytest.raises(MetadataValidationError):
        parse_chunk_grid(bad)


@st.composite
def rectilinear_json(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[int, ...]]:
    ndim = draw(st.integers(0, 3))
    axes: list[Any] = []
    shape = []
    for _ in range(ndim):
        if draw(st.booleans()):
            axes.append(draw(st.integers(1, 6)))
            shape.append(draw(st.integers(0, 30)))
            continue
        items: list[Any] = []
        total = 0
        for _ in range(draw(st.integers(1, 5))):
            if draw(st.booleans()):
                v, n = draw(st.integers(1, 5)), draw(st.integers(1, 4))
                items.append([v, n])
                total += v * n
            else:
                v = draw(st.integers(1, 5))
                items.append(v)
                total += v
        axes.append(items)
        shape.append(draw(st.integers(0, total)))
    return {"name": "rectilinear", "configuration": {"kind": "inline", "chunk_shapes": axes}}, tuple(shape)


def _expand(entry: Any, length: int) -> list[int]:
    if isinstance(entry, int):
        return [entry] * max(-(-length // entry), 1)
    out: list[int] = []
    for item in entry:
        out.extend([item[0]] * item[1] if isinstance(item, list) else [item])
    return out


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(rectilinear_json())
def test_rectilinear_roundtrip_and_edges(case: tuple[dict[str, Any], tuple[int, ...]]) -> None:
    data, shape = case
    jsonschema.validate(data, SCHEMA)
    grid = parse_chunk_grid(data)
    assert isinstance(grid, RectilinearChunkGrid)
    out = grid.to_dict()
    jsonschema.validate(out, SCHEMA)
    assert json.loads(json.dumps(out)) == out
    again = parse_chunk_grid(out)
    assert again == grid
    assert again.to_dict() == out
    # Edges agree with a direct expansion of the JSON, clipped to the array and without overflow chunks.
    for axis, (entry, length) in enumerate(zip(data["configuration"]["chunk_shapes"], shape, strict=True)):
        expanded = _expand(entry, length)
        cum = np.concatenate([[0], np.cumsum(expanded)])
        n = int(np.searchsorted(cum, length, side="left")) if length else 0
        expected = [*cum[:n].tolist(), length] if length else [0]
        assert grid.axis_edges(shape)[axis].tolist() == expected
        if n:
            coords = [0] * len(shape)
            coords[axis] = n - 1
            assert grid.chunk_shape_at(tuple(coords), shape)[axis] == expanded[n - 1]
    assert grid.nchunks(shape) == math.prod(grid.grid_shape(shape))
    assert len(list(grid.all_chunk_coords(shape))) == grid.nchunks(shape)


def test_grids_pickle_and_copy() -> None:
    for grid in (RegularChunkGrid((3, 4)), RectilinearChunkGrid(((1, 2, 3), (4,)))):
        grid.axis_edges((6, 9))  # fill the caches
        for again in (pickle.loads(pickle.dumps(grid)), copy.deepcopy(grid), copy.copy(grid)):
            assert again == grid
            assert hash(again) == hash(grid)
            assert [e.tolist() for e in again.axis_edges((6, 9))] == [e.tolist() for e in grid.axis_edges((6, 9))]


# ----------------------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class _OneChunkGrid(ChunkGrid):
    """A test grid: the whole array is one chunk."""

    ndims: int

    grid_name = "test.one"

    @property
    def ndim(self) -> int:
        return self.ndims

    def to_dict(self) -> dict[str, Any]:
        return {"name": "test.one", "configuration": {"ndim": self.ndims}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return cls(int(data["configuration"]["ndim"]))

    def axis_edges(self, array_shape: Any) -> tuple[Any, ...]:
        return tuple(np.array([0, s] if s else [0], dtype=np.int64) for s in array_shape)

    def chunk_shape_at(self, coords: Any, array_shape: Any) -> tuple[int, ...]:
        return tuple(array_shape)

    def validate(self, array_shape: Any) -> None:
        pass


def test_register_chunk_grid() -> None:
    with pytest.raises(MetadataValidationError, match=r"unknown chunk grid 'test\.one'"):
        parse_chunk_grid({"name": "test.one", "configuration": {"ndim": 2}})
    register_chunk_grid("test.one", _OneChunkGrid)
    grid = parse_chunk_grid({"name": "test.one", "configuration": {"ndim": 2}})
    assert grid == _OneChunkGrid(2)
    assert get_chunk_grid_class("test.one") is _OneChunkGrid
    assert grid.grid_shape((5, 7)) == (1, 1)
    assert list(grid.all_chunk_coords((5, 7))) == [(0, 0)]
    with pytest.raises(TypeError, match="ChunkGrid subclass"):
        register_chunk_grid("bad", dict)  # type: ignore[arg-type]


def test_parse_chunk_grid_passthrough_and_errors() -> None:
    grid = RegularChunkGrid((1,))
    assert parse_chunk_grid(grid) is grid
    with pytest.raises(MetadataValidationError, match="name must be a string, got None"):
        parse_chunk_grid({"configuration": {}})
    with pytest.raises(MetadataValidationError, match="JSON object or a ChunkGrid"):
        parse_chunk_grid([1, 2])  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------- normalize_chunks


@pytest.mark.parametrize(
    ("shape", "itemsize"),
    [((100,), 1), ((1000, 1000), 8), ((10**6,), 4), ((4000, 4000, 10), 2), ((0, 5), 8), ((), 4), ((7, 3), 16)],
)
def test_auto_chunks_match_zarr_python(shape: tuple[int, ...], itemsize: int) -> None:
    expected = zarr_guess_chunks(shape, itemsize)
    assert guess_chunks(shape, itemsize) == expected
    assert normalize_chunks("auto", shape, itemsize) == expected
    assert normalize_chunks(True, shape, itemsize) == expected
    assert normalize_chunks(None, shape, itemsize) == expected


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(st.lists(st.integers(0, 10**6), max_size=4), st.sampled_from([1, 2, 4, 8, 16]))
def test_auto_chunks_match_zarr_python_random(shape: list[int], itemsize: int) -> None:
    ours = guess_chunks(tuple(shape), itemsize)
    assert ours == zarr_guess_chunks(tuple(shape), itemsize)
    assert all(c >= 1 for c in ours)


def test_auto_chunks_target_a_few_megabytes() -> None:
    chunks = normalize_chunks("auto", (20000, 20000), 8)
    assert isinstance(chunks[0], int)
    nbytes = math.prod(chunks) * 8  # type: ignore[arg-type]
    assert 1 << 20 <= nbytes <= 64 << 20


def test_normalize_chunks_forms() -> None:
    assert normalize_chunks(5, (10, 3), 1) == (5, 5)
    assert normalize_chunks(-1, (10, 3), 1) == (10, 3)
    assert normalize_chunks(False, (10, 0), 1) == (10, 1)
    assert normalize_chunks((5, -1), (10, 3), 1) == (5, 3)
    assert normalize_chunks((5, None), (10, 3), 1) == (5, 3)
    assert normalize_chunks((5,), (10, 3), 1) == (5, 3)  # missing trailing entries: full axis
    assert normalize_chunks([np.int64(4), 2], (10, 3), 1) == (4, 2)
    # dask-style uniform chunks collapse to regular, like zarr-python 3
    assert normalize_chunks(((4, 4, 2), (3,)), (10, 3), 1) == (4, 3)
    # irregular chunks give a rectilinear description; integer axes are expanded
    assert normalize_chunks(((2, 8), 2), (10, 3), 1) == ((2, 8), (2, 2))
    assert normalize_chunks(((2, 8), -1), (10, 3), 1) == ((2, 8), (3,))
    grid = RectilinearChunkGrid(normalize_chunks(((2, 8), 2), (10, 3), 1))  # type: ignore[arg-type]
    assert grid.chunk_sizes((10, 3)) == ((2, 8), (2, 1))


@pytest.mark.parametrize(
    ("chunks", "exc", "match"),
    [
        ((0, 1), ValueError, r"chunks\[0\] must be a positive integer, -1 or None, got 0"),
        ((1, -3), ValueError, r"chunks\[1\].*got -3"),
        ((1, 1, 1), ValueError, r"3 entries but the array has 2 axes"),
        ((1, 2.5), TypeError, r"chunks\[1\].*2.5"),
        (((2, 0), 1), ValueError, r"chunks\[0\]\[1\] must be a positive integer edge length, got 0"),
        (((2, 3), 1), ValueError, r"chunks\[0\] = \(2, 3\) covers 5 element\(s\) but the axis has length 10"),
        ("big", ValueError, "'big'"),
        (3.0, TypeError, "3.0"),
    ],
)
def test_normalize_chunks_errors(chunks: Any, exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        normalize_chunks(chunks, (10, 3), 1)

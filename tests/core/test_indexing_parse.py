"""parse_getitem_selection (numpy's dispatch), selection errors and get_indexer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from zarrlayered.core.chunk_grids import RegularChunkGrid
from zarrlayered.core.indexing import (
    BasicIndexer,
    BlockIndexer,
    CoordinateIndexer,
    MaskIndexer,
    OrthogonalIndexer,
    get_indexer,
    parse_getitem_selection,
)

SHAPE = (6, 5, 4)
GRID = RegularChunkGrid((2, 2, 3))


@pytest.mark.parametrize(
    ("selection", "kind"),
    [
        (1, "basic"),
        ((1, slice(None), -1), "basic"),
        (Ellipsis, "basic"),
        ((), "basic"),
        ((np.int64(2), np.uint8(1)), "basic"),
        (np.array(3), "basic"),  # a 0-d integer array is an integer
        ([0, 2], "orthogonal"),  # a list is an array
        ((slice(None), np.array([4, 0])), "orthogonal"),
        ((1, [0, 1], slice(None)), "orthogonal"),  # the int sits next to the array: same as numpy
        ((np.array([True, False] * 3), 0), "orthogonal"),
        ((1, slice(None), [0, 1]), "coordinate"),  # int and array separated by a slice: numpy moves the axis
        (([0, 1], [1, 2]), "coordinate"),
        (np.array([[0, 1], [2, 3]]), "coordinate"),  # a 2-d index array
        ((slice(None), np.ones((5, 4), dtype=bool)), "coordinate"),
        (np.ones(SHAPE, dtype=bool), "mask"),
        ((np.ones(SHAPE, dtype=bool),), "mask"),
    ],
)
def test_parse_kinds(selection: Any, kind: str) -> None:
    parsed_kind, parsed = parse_getitem_selection(selection, SHAPE)
    assert parsed_kind == kind
    array = np.arange(np.prod(SHAPE)).reshape(SHAPE)
    ix = get_indexer(selection, SHAPE, GRID)
    assert ix.shape == np.asarray(array[selection]).shape
    if kind != "mask":
        assert len(parsed) == len(SHAPE)  # one entry per axis


def test_parse_normalizes_entries() -> None:
    kind, parsed = parse_getitem_selection((np.int32(-1), [3, 1]), SHAPE)
    assert kind == "orthogonal"
    assert parsed[0] == -1 and type(parsed[0]) is int
    assert isinstance(parsed[1], np.ndarray) and parsed[1].tolist() == [3, 1]
    assert parsed[2] == slice(None)
    kind, parsed = parse_getitem_selection((Ellipsis, 2), SHAPE)
    assert parsed == (slice(None), slice(None), 2)
    kind, parsed = parse_getitem_selection((slice(None), np.eye(5, 4, dtype=bool)), SHAPE)
    assert kind == "coordinate"
    assert [p.tolist() if isinstance(p, np.ndarray) else p for p in parsed] == [slice(None), [0, 1, 2, 3], [0, 1, 2, 3]]
    kind, parsed = parse_getitem_selection([], SHAPE)
    assert kind == "orthogonal" and parsed[0].dtype == np.int64


@pytest.mark.parametrize(
    ("selection", "match"),
    [
        (1.5, "only integers, slices"),
        (None, r"numpy.newaxis\) is not supported|got None"),
        ((Ellipsis, Ellipsis), r"single ellipsis"),
        ((0, 0, 0, 0), "too many indices for array: array is 3-dimensional, but 4 were indexed"),
        (True, "boolean scalar"),
        (np.array(True), "boolean scalar"),
        (np.array([1.0]), "arrays used as indices must be of integer"),
        (np.ones(3, dtype=bool), "boolean index did not match indexed array along axis 0; size of axis is 6"),
        ((slice(None), np.ones((2, 2), dtype=bool)), "along axis 1; size of axis is 5 but size of corresponding"),
        ("a", "only integers, slices"),
    ],
)
def test_parse_errors(selection: Any, match: str) -> None:
    with pytest.raises(IndexError, match=match):
        parse_getitem_selection(selection, SHAPE)


def test_bad_slices_raise_like_numpy() -> None:
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        BasicIndexer(slice(None, None, 0), SHAPE, GRID)
    with pytest.raises(TypeError):
        BasicIndexer(slice(0.5, 2), SHAPE, GRID)


def test_indexers_refuse_what_they_do_not_take() -> None:
    with pytest.raises(IndexError, match="use an orthogonal"):
        BasicIndexer([0, 1], SHAPE, GRID)
    with pytest.raises(IndexError, match="1-d index arrays"):
        OrthogonalIndexer(np.zeros((2, 2), dtype=int), SHAPE, GRID)
    with pytest.raises(IndexError, match="boolean index did not match"):
        OrthogonalIndexer(np.ones(4, dtype=bool), SHAPE, GRID)
    with pytest.raises(IndexError, match="needs a boolean array, got dtype int64"):
        MaskIndexer(np.ones(SHAPE, dtype=np.int64), SHAPE, GRID)
    with pytest.raises(IndexError, match=r"of the array's shape \(6, 5, 4\), got \(6, 5\)"):
        MaskIndexer(np.ones((6, 5), dtype=bool), SHAPE, GRID)
    with pytest.raises(IndexError) as ours:
        CoordinateIndexer(([0, 1], [0, 1, 2]), SHAPE, GRID)
    with pytest.raises(IndexError) as theirs:
        np.zeros(SHAPE)[[0, 1], [0, 1, 2]]
    assert str(ours.value) == str(theirs.value).strip()


def test_get_indexer_kinds() -> None:
    assert isinstance(get_indexer((0, 1), SHAPE, GRID, "basic"), BasicIndexer)
    assert isinstance(get_indexer(([0, 1], [0, 1]), SHAPE, GRID, "orthogonal"), OrthogonalIndexer)
    assert get_indexer(([0, 1], [0, 1]), SHAPE, GRID, "orthogonal").shape == (2, 2, 4)
    assert get_indexer(([0, 1], [0, 1]), SHAPE, GRID, "vindex").shape == (2, 4)
    assert get_indexer(np.ones(SHAPE, dtype=bool), SHAPE, GRID, "vindex").shape == (120,)
    assert isinstance(get_indexer(np.ones(SHAPE, dtype=bool), SHAPE, GRID, "mask"), MaskIndexer)
    assert isinstance(get_indexer((0, slice(None)), SHAPE, GRID, "block"), BlockIndexer)
    assert get_indexer((0, slice(None)), SHAPE, GRID, "block").shape == (2, 5, 4)
    with pytest.raises(ValueError, match="unknown selection kind 'fancy'"):
        get_indexer(0, SHAPE, GRID, "fancy")


def test_projection_is_frozen_and_slotted() -> None:
    p = next(iter(BasicIndexer((0, 0, 0), SHAPE, GRID)))
    assert p.chunk_coords == (0, 0, 0)
    assert p.chunk_selection == (0, 0, 0)
    assert p.out_selection == ()
    assert not p.is_complete_chunk
    with pytest.raises(AttributeError):
        p.chunk_coords = (1, 1, 1)  # type: ignore[misc]
    assert not hasattr(p, "__dict__")

"""Reading more than can be allocated is a documented error, never numpy's MemoryError.

A 2**62-element array is legitimate metadata (its chunks are small); reading all of it must raise
:class:`~zarrlayered.errors.SelectionTooLargeError` (a ValueError) naming the array, the selection's
shape and the bytes, before any chunk is read.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

import zarrlayered
from zarrlayered.errors import SelectionTooLargeError
from zarrlayered.stores.memory import MemoryStore


@pytest.fixture
def huge() -> zarrlayered.Array:
    """A 2**62-element int32 array in 2**20-element chunks (2**42 chunks), with one written element."""
    group = zarrlayered.create_group(MemoryStore())
    array = group.create_array("big/x", shape=(2**62,), chunks=(2**20,), dtype="int32")
    array[5] = 3
    return array


def test_reading_a_2_to_62_element_array_names_the_array_the_shape_and_the_bytes(huge: zarrlayered.Array) -> None:
    with pytest.raises(SelectionTooLargeError) as info:
        huge[...]
    message = str(info.value)
    assert "'/big/x'" in message
    assert f"({2**62},)" in message
    assert f"{2**64} bytes" in message
    assert isinstance(info.value, ValueError)
    # the array is still usable
    assert huge[5] == 3
    np.testing.assert_array_equal(huge[2**62 - 3 :], [0, 0, 0])


def test_a_strided_selection_names_its_own_shape(huge: zarrlayered.Array) -> None:
    with pytest.raises(SelectionTooLargeError, match=rf"shape \({2**61},\) \(int32\) needs {2**63} bytes"):
        huge[::2]


@pytest.mark.parametrize("how", ["oindex", "blocks"])
def test_other_selection_kinds_are_refused_too(huge: zarrlayered.Array, how: str) -> None:
    with pytest.raises(SelectionTooLargeError, match="'/big/x'"):
        if how == "oindex":
            huge.oindex[:]
        else:
            huge.get_block_selection(slice(None))


def test_the_async_api_raises_the_same_error(huge: zarrlayered.Array) -> None:
    with pytest.raises(SelectionTooLargeError, match=rf"shape \({2**62},\)"):
        asyncio.run(huge.async_array.getitem(Ellipsis))


def test_an_output_numpy_cannot_allocate_is_refused_with_its_shape() -> None:
    """Few chunks to plan, but an output of 2**54 bytes: numpy refuses it, zarrlayered names it."""
    array = zarrlayered.create_array(MemoryStore(), shape=(2**31, 2**31), chunks=(2**16, 2**16), dtype="float64")
    with pytest.raises(SelectionTooLargeError, match=rf"shape \({2**31}, {2**20}\) \(float64\) needs {2**54} bytes"):
        array[:, : 2**20]
    assert array[:2, :2].shape == (2, 2)

"""A node's attributes are stored before the document that makes it a node (.zgroup, .zarray, zarr.json).

So a reader never finds a V2 node without its attributes, even when the writer dies between the two
documents (tests/reliability kills writers for real; here the order of the writes is recorded).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping

import pytest

import zarrlayered
from zarrlayered.core.sync import sync
from zarrlayered.stores import MappingStore


class RecordingDict(MutableMapping[str, bytes]):
    """A plain dict that remembers the order in which keys were set."""

    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}
        self.order: list[str] = []

    def __getitem__(self, key: str) -> bytes:
        return self.values[key]

    def __setitem__(self, key: str, value: bytes) -> None:
        self.order.append(key)
        self.values[key] = value

    def __delitem__(self, key: str) -> None:
        del self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def _before(order: list[str], first: str, then: str) -> bool:
    return order.index(first) < order.index(then)


@pytest.mark.parametrize("api", ["sync", "async"])
def test_v2_group_attributes_are_stored_before_zgroup(api: str) -> None:
    mapping = RecordingDict()
    store = MappingStore(mapping)
    if api == "sync":
        root = zarrlayered.group(store=store, zarr_format=2)
        root.create_group("g", attributes={"v": 1})
    else:
        root_async = sync(zarrlayered.api.asynchronous.group(store=store, zarr_format=2))
        sync(root_async.create_group("g", attributes={"v": 1}))
    assert _before(mapping.order, "g/.zattrs", "g/.zgroup"), mapping.order
    assert zarrlayered.open_group(store=store, mode="r")["g"].attrs["v"] == 1


def test_v2_array_attributes_are_stored_before_zarray() -> None:
    mapping = RecordingDict()
    store = MappingStore(mapping)
    array = zarrlayered.create_array(
        store, name="a", shape=(4,), chunks=(2,), dtype="i4", zarr_format=2, attributes={"units": "m"}
    )
    assert _before(mapping.order, "a/.zattrs", "a/.zarray"), mapping.order
    array.attrs["more"] = 1  # an update rewrites the attributes; the array document stays the last word
    assert mapping.order.count("a/.zattrs") >= 2
    assert zarrlayered.open_array(store=store, path="a", mode="r").attrs.asdict() == {"units": "m", "more": 1}

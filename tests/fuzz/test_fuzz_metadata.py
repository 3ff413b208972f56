"""Fuzz metadata documents: zarr.json (array, group, inline consolidated metadata), .zarray, .zgroup,
.zattrs and .zmetadata, mutated field by field with hostile JSON values, or replaced by broken bytes.

The mutated store is opened in every way a reader would (the root, the array by path, the group with
and without consolidated metadata, its members and attributes), and the array is read. Every outcome is
a node (and data of its shape), or a documented error naming the mutated key (a missing node names its
path). 2 formats x 1,400 + 2 x 200 raw-bytes examples = 3,200 cases.
"""

from __future__ import annotations

import copy
import json
import math
from functools import cache
from typing import Any

import numpy as np
import pytest
from fuzz_helpers import CASES, FUZZ, check_error, dumps, is_metadata_key, make_case
from hypothesis import given, settings
from hypothesis import strategies as st

import zarrlayered
from zarrlayered.errors import NodeNotFoundError
from zarrlayered.stores.memory import MemoryStore

EXAMPLES_PER_FORMAT = 1400
RAW_EXAMPLES_PER_FORMAT = 200

#: Values that mean something to a Zarr reader, to put where they do not belong.
INTERESTING: list[Any] = [
    *("int8", "uint64", "float16", "float64", "complex128", "bool", "string", "bytes", "datetime64[ns]"),
    *("<f8", ">i2", "|O", "|S5", "<U3", "|b1", "|V3", "<M8[s]", "r16", "numpy.datetime64"),
    *("NaN", "Infinity", "-Infinity", "0x7ff8000000000000", "0x", "AAAA", "", "C", "F", ".", "/", "..", "/abs"),
    *(0, -1, 1, 3, 2**31, 2**53 + 1, 2**63, 2**64, -(2**63) - 1, 2**100, 1e308, -0.0, 0.5),
    [],
    [0],
    [-1],
    [2**60],
    [2**62, 2**62],
    [3, 0],
    [1, 1, 1],
    [[1, 2]],
    [None],
    {"name": "gzip", "configuration": {"level": 99}},
    {"name": "zstd", "configuration": {"level": 1, "checksum": "yes"}},
    {"name": "numcodecs.pickle", "configuration": {}},
    {"id": "pickle"},
    {"id": "zlib", "level": 1},
    {"id": "nope"},
    {"name": "sharding_indexed", "configuration": {"chunk_shape": [2**40], "codecs": [], "index_codecs": []}},
    {"name": "regular", "configuration": {"chunk_shape": [2**60, 1]}},
    {"name": "rectilinear", "configuration": {"kind": "inline", "chunk_shapes": [[[1, 2**40]], 6]}},
    {"name": "default", "configuration": {"separator": ".."}},
    {"name": "v2", "configuration": {"separator": "\x00"}},
    {"must_understand": True, "name": "x"},
]

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(INTERESTING).map(copy.deepcopy)  # documents are mutated in place
)
json_value = st.recursive(
    json_leaf,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.sampled_from(["name", "configuration", "id"]), children, max_size=3)
    ),
    max_leaves=8,
)


@cache
def base(fmt: int) -> dict[str, bytes]:
    """A store holding a group with attributes, an array ``arr`` with data, and consolidated metadata."""
    documents = dict(make_case("zstd+crc32c" if fmt == 3 else "v2-zlib").documents)
    attrs_key = "zarr.json" if fmt == 3 else ".zattrs"
    root = json.loads(documents[attrs_key]) if attrs_key in documents else {}
    if fmt == 3:
        root["attributes"] = {"title": "t", "nested": {"a": [1, 2, {"b": None}]}}
    else:
        root = {"title": "t", "nested": {"a": [1, 2, {"b": None}]}}
    documents[attrs_key] = dumps(root)
    return documents


def _paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(document, dict):
        for k, v in document.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(document, list):
        for i, v in enumerate(document):
            found += _paths(v, (*prefix, i))
    return found


def _set(document: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return document


@st.composite
def mutated(draw: st.DrawFn, fmt: int) -> tuple[dict[str, bytes], str]:
    documents = dict(base(fmt))
    key = draw(st.sampled_from(sorted(k for k in documents if is_metadata_key(k))))
    document = json.loads(documents[key])
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(document)))
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "delete" and path:
            document = _set(document, path, None, delete=True)
        elif action == "add" and isinstance(_get(document, path), dict):
            name = draw(st.sampled_from(["shape", "chunks", "dtype", "fill_value", "codecs", "zarr_format", "x"]))
            _get(document, path)[name] = draw(json_value)
        else:
            document = _set(document, path, draw(json_value), delete=False)
    documents[key] = dumps(document)
    return documents, key


def _get(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


@st.composite
def broken_bytes(draw: st.DrawFn, fmt: int) -> tuple[dict[str, bytes], str]:
    documents = dict(base(fmt))
    key = draw(st.sampled_from(sorted(k for k in documents if is_metadata_key(k))))
    original = documents[key]
    kind = draw(st.sampled_from(["truncate", "binary", "flip", "deep", "not-object", "utf16"]))
    if kind == "truncate":
        documents[key] = original[: draw(st.integers(0, len(original) - 1))]
    elif kind == "binary":
        documents[key] = draw(st.binary(max_size=64))
    elif kind == "flip":
        i = draw(st.integers(0, len(original) - 1))
        documents[key] = original[:i] + bytes([original[i] ^ (1 << draw(st.integers(0, 7)))]) + original[i + 1 :]
    elif kind == "deep":
        depth = draw(st.integers(200, 100_000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        inner = "1" if opener == "{" else ""
        documents[key] = (opener * depth + inner + closer * depth).encode()
    elif kind == "not-object":
        documents[key] = dumps(draw(json_leaf))
    else:
        documents[key] = original.decode().encode("utf-16")
    return documents, key


def _read_everything(store: MemoryStore) -> None:
    """Open the root, the array and the group every way, and read the array's data."""
    root = zarrlayered.open(store, mode="r")
    if isinstance(root, zarrlayered.Group):
        dict(root.attrs)
        for _, member in root.members():
            if isinstance(member, zarrlayered.Array):
                _read(member)
        plain = zarrlayered.open_group(store, mode="r", use_consolidated=False)
        [name for name, _ in plain.members()]
    _read(zarrlayered.open_array(store, path="arr", mode="r"))


def _read(array: zarrlayered.Array) -> None:
    shape = array.shape
    if math.prod(shape) <= 10_000:
        got = np.asarray(array[...])
        assert got.shape == shape
    elif all(shape):
        array[(0,) * len(shape)]
    dict(array.attrs)


def _check(documents: dict[str, bytes], key: str) -> None:
    CASES["metadata"] += 1
    try:
        _read_everything(MemoryStore(documents))
    except NodeNotFoundError as exc:
        node = key.rpartition("/")[0]
        check_error(exc, (key, repr(node)))
    except Exception as exc:
        chunks = tuple(k for k in documents if not is_metadata_key(k))
        check_error(exc, (key, *chunks))


@pytest.mark.parametrize("fmt", [2, 3])
@settings(FUZZ, max_examples=EXAMPLES_PER_FORMAT)
@given(data=st.data())
def test_mutated_metadata_opens_or_raises_a_named_error(fmt: int, data: st.DataObject) -> None:
    _check(*data.draw(mutated(fmt), label="mutated store"))


@pytest.mark.parametrize("fmt", [2, 3])
@settings(FUZZ, max_examples=RAW_EXAMPLES_PER_FORMAT)
@given(data=st.data())
def test_broken_metadata_bytes_raise_a_named_error(fmt: int, data: st.DataObject) -> None:
    _check(*data.draw(broken_bytes(fmt), label="broken store"))

"""fill_value=None: V2 arrays write null (no fill value) as zarr-python 3 does; V3 arrays take the default."""

from __future__ import annotations

import json
from typing import Any

import zarr

import zarrlayered


def test_v2_fill_value_none_is_written_as_null() -> None:
    documents = []
    for lib in (zarr, zarrlayered):
        store: dict[str, Any] = {}
        lib.create_array(store, shape=(3,), dtype="f8", zarr_format=2, fill_value=None)
        value = store[".zarray"]
        documents.append(json.loads(value if isinstance(value, bytes) else value.to_bytes()))
    assert documents[0]["fill_value"] is None
    assert documents[1] == documents[0]


def test_v3_fill_value_none_is_the_default_and_omitted_is_too() -> None:
    for kwargs in ({}, {"fill_value": None}):
        store: dict[str, Any] = {}
        zarrlayered.create_array(store, shape=(3,), dtype="f8", zarr_format=3, **kwargs)
        assert json.loads(store["zarr.json"])["fill_value"] == 0.0
    store = {}
    zarrlayered.create_array(store, shape=(3,), dtype="f8", zarr_format=2)
    assert json.loads(store[".zarray"])["fill_value"] == 0.0


def test_from_array_keeps_string_and_bytes_data_types_across_formats() -> None:
    strings = zarrlayered.create_array({}, shape=(3,), dtype=str, zarr_format=2)
    strings[:] = ["a", "bb", "c"]
    raw = zarrlayered.create_array({}, shape=(2,), dtype=bytes, zarr_format=2)
    raw[:] = [b"x", b"yy"]
    for source, expected in ((strings, ["a", "bb", "c"]), (raw, [b"x", b"yy"])):
        for fmt in (2, 3):
            copied = zarrlayered.from_array({}, data=source, zarr_format=fmt)
            assert copied.zarr_format == fmt
            assert copied[:].tolist() == expected
            assert copied.metadata.data_type == source.metadata.data_type

"""The h5py record: what HDF5 knows about a node that Zarr metadata has no field for.

It lives in the node's Zarr attributes under one reserved key, :data:`RESERVED_KEY`, as a JSON object:

``maxshape``
    The dataset's maximum shape (``null`` for unlimited axes). A Zarr array without a record (written by
    another tool) reports every axis unlimited, as any Zarr array can grow.
``layout``
    ``"contiguous"`` when h5py would have made the dataset contiguous (no chunks, filters or maxshape
    asked for): ``Dataset.chunks`` is then None and ``resize`` refuses, as in h5py. The data is still
    chunked in the store (Zarr always is).
``empty`` / ``native``
    True for a dataset with a null dataspace (``h5py.Empty``); it is stored as a 0-d array. ``native``:
    the dtype is reported in numpy's native spelling (h5py does so for datasets made from ``Empty``).
``byteorder`` / ``subarray`` / ``enum`` / ``encoding`` / ``opaque`` / ``view``
    The parts of the h5py dtype Zarr does not keep: a big-endian byte order (Zarr V3 keeps the byte
    order on disk in its ``bytes`` codec, not in the data type), a sub-array shape (stored as trailing
    array dimensions), enum names, the encoding of fixed-length strings, h5py's opaque tag; ``view``:
    the numpy dtype of values a Zarr format cannot express, stored as raw bytes.
``compression`` / ``scaleoffset``
    The h5py spelling of the filters when it is not the codec's own name (``"lzf"`` is stored with LZ4).
``track_order`` / ``order``
    Creation order of members (groups) and attributes, when ``track_order=True``.
``attrs``
    Per-attribute type information: the numpy dtype and shape when JSON alone would lose them.

The key is hidden from ``.attrs``; zarr-python and other Zarr readers see it as an ordinary attribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["RESERVED_KEY", "join_attributes", "record_of", "user_attributes"]

#: The attribute key holding the h5py record of a node.
RESERVED_KEY = "_zarrlayered_h5py"


def record_of(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The h5py record stored in a node's attributes ({} when there is none or it is not an object)."""
    found = attributes.get(RESERVED_KEY)
    return dict(found) if isinstance(found, Mapping) else {}


def user_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes without the reserved key."""
    return {k: v for k, v in attributes.items() if k != RESERVED_KEY}


def join_attributes(user: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """User attributes plus the record (omitted when empty)."""
    out = {k: v for k, v in user.items() if k != RESERVED_KEY}
    cleaned = {k: v for k, v in record.items() if v not in (None, {}, [])}
    if cleaned:
        out[RESERVED_KEY] = cleaned
    return out

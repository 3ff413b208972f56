"""``python -m zarrlayered demo`` (and ``make demo``): the whole product in one short run.

The demo writes a small hierarchy with the new ``Array``/``Group`` API, reads and extends it with
h5py-style code through :mod:`zarrlayered.h5py_compat`, opens a zarr-python-2-style MutableMapping
store (a :mod:`shelve` file, the kind of store zarr 2's ``DBMStore`` keeps) through the mapping front
end with an LRU cache, and prints the hierarchy's ``tree()`` and an array's ``info``.
"""

from __future__ import annotations

import shelve
import shutil
from pathlib import Path
from typing import Any

import numpy as np

import zarrlayered
import zarrlayered.h5py_compat as h5py
from zarrlayered.stores import LRUStoreCache, MappingStore

__all__ = ["run_demo"]


def _write_with_new_api(path: Path) -> list[str]:
    root = zarrlayered.open_group(str(path), mode="w", attributes={"title": "zarrlayered demo"})
    temperature = root.create_array(
        "weather/temperature", shape=(24, 36), chunks=(12, 12), dtype="float32",
        dimension_names=("hour", "station"), attributes={"units": "degC"},
    )
    hours = np.arange(24, dtype="float32")[:, None]
    temperature[:] = 15 + 8 * np.sin(hours / 24 * 2 * np.pi) + np.linspace(0, 3, 36, dtype="float32")
    root.create_array("weather/station_names", data=np.array([f"station-{i:02d}" for i in range(36)]))
    image = root.create_array("images/mosaic", shape=(256, 256), chunks=(32, 32), shards=(128, 128),
                              dtype="uint16")
    image[:] = np.arange(256 * 256, dtype="uint16").reshape(256, 256)
    return [
        "1. new API (import zarrlayered as zarr)",
        f"   wrote {path.resolve()} (Zarr V3)",
        f"   temperature[::-6, 0] (a negative step) = {np.round(temperature[::-6, 0], 2)}",
        f"   mosaic is sharded: {image.shards} shards of {image.chunks} chunks; "
        f"mosaic.vindex[[0, 255], [0, 255]] = {image.vindex[[0, 255], [0, 255]]}",
    ]


def _extend_with_h5py_api(path: Path) -> list[str]:
    with h5py.File(str(path), "r+") as f:
        temperature = f["weather/temperature"]
        assert isinstance(temperature, h5py.Dataset)
        first_day: np.ndarray[Any, Any] = temperature[:, :]
        temperature.resize((48, 36))  # a second day, written h5py-style
        temperature[24:] = first_day + 1.5
        second_day: np.ndarray[Any, Any] = temperature[24:]
        log = f.create_dataset("log/events", data=np.array([b"created", b"extended"]), dtype="S16")
        log.attrs["author"] = "h5py-style code"
        summary = (f"   temperature {temperature.shape}, mean of day 1 = {float(first_day.mean()):.2f}, "
                   f"of day 2 = {float(second_day.mean()):.2f}")
        events = [bytes(event).decode() for event in log[:]]
    return ["2. h5py front end (import zarrlayered.h5py_compat as h5py)", summary, f"   log/events = {events}"]


def _mapping_front_end(workdir: Path) -> list[str]:
    workdir.mkdir(parents=True, exist_ok=True)
    shelf_path = workdir / "shelf"
    with shelve.open(str(shelf_path), flag="n") as shelf:  # any str -> bytes MutableMapping is a store
        cached = LRUStoreCache(MappingStore(shelf), max_size=2**24)
        legacy = zarrlayered.create_array(cached, shape=(1000,), chunks=(100,), dtype="int64", zarr_format=2)
        legacy[:] = np.arange(1000)
        first = legacy[::250]
        second = legacy[::250]  # served by the cache
        keys = sorted(shelf.keys())
    assert np.array_equal(first, second)
    return [
        "3. MutableMapping front end (a zarr 2 style shelve store, with an LRU cache)",
        f"   stored keys: {keys[:3]} ... ({len(keys)} in all, Zarr V2 layout)",
        f"   legacy[::250] = {second}; cache hits {cached.hits}, misses {cached.misses}",
    ]


def run_demo(path: str | Path = "demo.zarr") -> str:
    """Run the demo, writing ``path`` (replacing it) and a shelf in ``<path>-legacy``; return the report.

    Parameters
    ----------
    path
        Directory of the Zarr V3 hierarchy to write.

    Returns
    -------
    str
        The printed report: the three front ends at work, the hierarchy's tree and an array's info.
    """
    target = Path(path)
    if target.exists():
        shutil.rmtree(target)
    lines = _write_with_new_api(target)
    lines += _extend_with_h5py_api(target)
    lines += _mapping_front_end(target.with_name(target.name + "-legacy"))
    reopened = zarrlayered.open_group(str(target), mode="r")
    stored = reopened["weather/temperature"]
    assert isinstance(stored, zarrlayered.Array)
    lines += ["", "tree():", str(reopened.tree()), "", "weather/temperature info:", str(stored.info_complete())]
    return "\n".join(lines)

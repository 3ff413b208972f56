"""``make demo`` shows the three front ends, ``tree()`` and ``info`` in one short run; the data it writes is checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import zarrlayered
from zarrlayered.demo import run_demo


def test_demo_report_and_the_data_it_leaves(tmp_path: Path) -> None:
    report = run_demo(tmp_path / "demo.zarr")
    for heading in ("1. new API", "2. h5py front end", "3. MutableMapping front end", "tree():", "info:"):
        assert heading in report
    assert "temperature (48, 36) float32" in report  # extended by the h5py-style code
    assert "Zarr V2 layout" in report and "cache hits" in report
    root = zarrlayered.open_group(str(tmp_path / "demo.zarr"), mode="r")
    temperature = root["weather/temperature"]
    assert isinstance(temperature, zarrlayered.Array)
    np.testing.assert_allclose(temperature[24:], temperature[:24] + 1.5, rtol=1e-6)
    assert root["images/mosaic"].shards == (128, 128)
    assert root["log/events"].attrs["author"] == "h5py-style code"
    assert (tmp_path / "demo.zarr-legacy").is_dir()


def test_demo_runs_twice_in_place(tmp_path: Path) -> None:
    run_demo(tmp_path / "demo.zarr")
    assert "temperature (48, 36) float32" in run_demo(tmp_path / "demo.zarr")

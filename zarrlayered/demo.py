"""``python -m zarrlayered demo``: write a small hierarchy and show it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import zarrlayered

__all__ = ["run_demo"]


def run_demo(path: str | Path = "demo.zarr") -> str:
    """Write a small Zarr V3 hierarchy to ``path`` (replacing it) and return a report with its tree."""
    root = zarrlayered.open_group(str(path), mode="w", attributes={"title": "zarrlayered demo"})
    temperature = root.create_array(
        "weather/temperature", shape=(24, 36), chunks=(12, 12), dtype="float32",
        dimension_names=("hour", "station"), attributes={"units": "degC"},
    )
    hours = np.arange(24, dtype="float32")[:, None]
    temperature[:] = 15 + 8 * np.sin(hours / 24 * 2 * np.pi) + np.linspace(0, 3, 36, dtype="float32")
    root.create_array("weather/station_names", data=np.array([f"station-{i:02d}" for i in range(36)]))
    root["counts"] = np.arange(100, dtype="int64").reshape(10, 10)
    reopened = zarrlayered.open_group(str(path), mode="r")
    stored = reopened["weather/temperature"]
    assert isinstance(stored, zarrlayered.Array)
    lines = [
        f"wrote {Path(path).resolve()}",
        reopened.tree(),
        "",
        f"temperature[::-6, 0] (a negative step) = {np.round(stored[::-6, 0], 2)}",
        f"attributes: {dict(reopened.attrs)}; units: {stored.attrs['units']}",
        "",
        str(stored.info_complete()),
    ]
    return "\n".join(lines)

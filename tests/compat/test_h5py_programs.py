"""The same h5py programs, run with real h5py and with zarrlayered.h5py_compat, print the same."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import h5py
import pytest
from h5py_programs import PROGRAMS

import zarrlayered.h5py_compat as shim


def _run(module: Any, path: Path, name: str) -> list[str]:
    lines: list[str] = []

    def out(*values: Any) -> None:
        lines.append(" ".join(str(v) for v in values))

    PROGRAMS[name](module, str(path), out)
    return lines


class _FileV2(shim.File):
    """The shim's File making Zarr V2 hierarchies."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("zarr_format", 2)
        super().__init__(*args, **kwargs)


def _shim(variant: str) -> Any:
    if variant == "v2":
        names = {n: getattr(shim, n) for n in shim.__all__}
        names["File"] = _FileV2
        return SimpleNamespace(**names)
    return shim


@pytest.mark.parametrize("variant", ["v3", "v2", "zip"])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_prints_the_same(name: str, variant: str, tmp_path: Path) -> None:
    filename = "data.zip" if variant == "zip" else "data.h5"
    (tmp_path / "h5py").mkdir()
    (tmp_path / "zarr").mkdir()
    expected = _run(h5py, tmp_path / "h5py" / filename, name)
    got = _run(_shim(variant), tmp_path / "zarr" / filename, name)
    assert expected, "the program printed nothing"
    for i, (want, have) in enumerate(zip(expected, got, strict=False)):
        assert have == want, f"line {i} differs\nh5py: {want}\nshim: {have}"
    assert len(got) == len(expected)

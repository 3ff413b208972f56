"""Run h5py's own test suite (shipped in the h5py wheel as ``h5py.tests``) against the h5py_compat shim.

``h5py.File``, ``Group``, ``Dataset``, ``AttributeManager``, ``Empty`` and h5py's warning classes are replaced
by the shim's classes before the test modules are imported, so every ``File(self.mktemp(), "w")`` in the
suite makes a Zarr hierarchy. Usage::

    python tests/compat/h5py_suite.py RESULT.json [pytest args...]

RESULT.json gets ``{"outcomes": {nodeid: "passed" | "failed" | "skipped"}}``. Run as a script (a fresh
interpreter), since the patch cannot be undone.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

#: The h5py test modules covering groups, datasets, attributes, files and slicing.
MODULES = (
    "test_group",
    "test_dataset",
    "test_dataset_getitem",
    "test_attrs",
    "test_attrs_data",
    "test_attribute_create",
    "test_file",
    "test_file2",
    "test_slicing",
)


def patch_h5py() -> None:
    """Put the shim's classes where the h5py test modules will import them from."""
    import h5py
    import h5py.h5py_warnings

    import zarrlayered.compat.h5py as shim_package
    import zarrlayered.h5py_compat as shim

    for name in ("File", "Group", "Dataset", "AttributeManager", "Empty"):
        setattr(h5py, name, getattr(shim, name))
    for name in ("H5pyWarning", "H5pyDeprecationWarning"):
        setattr(h5py.h5py_warnings, name, getattr(shim_package, name))


class _Recorder:
    def __init__(self) -> None:
        self.outcomes: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: Any) -> None:
        nodeid = report.nodeid
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.outcomes[nodeid] = "failed" if report.outcome == "failed" else report.outcome
        elif report.when == "teardown" and report.outcome == "failed" and self.outcomes.get(nodeid) == "passed":
            self.outcomes[nodeid] = "failed"


def main(argv: list[str]) -> int:
    """Run the modules, write the outcomes; the exit code is 0 when pytest ran (whatever the outcomes)."""
    import pytest

    warnings.simplefilter("ignore")
    patch_h5py()
    import h5py.tests

    tests_dir = Path(h5py.tests.__file__).parent
    targets = [str(tests_dir / f"{m}.py") for m in MODULES]
    recorder = _Recorder()
    args = ["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "--no-header", "-o", "addopts=", "-W", "ignore",
            "--rootdir", str(tests_dir), *argv[1:], *targets]
    code = pytest.main(args, plugins=[recorder])
    Path(argv[0]).write_text(json.dumps({"outcomes": recorder.outcomes}, indent=1), encoding="utf-8")
    return 0 if code in (0, 1) else int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

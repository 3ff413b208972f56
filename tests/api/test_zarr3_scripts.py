"""Realistic zarr-python 3 user scripts, run twice -- with ``import zarr`` and with ``import zarrlayered as zarr``
-- must print the same thing.

Each script is plain zarr-python 3 code (nothing in it is adapted to zarrlayered); it gets a fresh directory
as ``workdir``. Listings are sorted where zarr-python 3 does not promise an order, as careful code does.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import pytest
import zarr

SCRIPTS: dict[str, str] = {}

SCRIPTS["weather archive: hierarchy, slices, attributes, consolidate, reopen read-only"] = '''
import numpy as np
import zarr

root = zarr.open_group(f"{workdir}/weather.zarr", mode="w", attributes={"project": "alps", "version": 2})
stations = root.create_group("stations")
for name, elevation in [("zermatt", 1608), ("davos", 1560), ("arosa", 1775)]:
    station = stations.create_group(name, attributes={"elevation_m": elevation})
    temp = station.create_array("temperature", shape=(48, 24), chunks=(12, 24), dtype="float32",
                                fill_value=np.nan, attributes={"units": "degC"})
    temp[:24] = np.arange(24 * 24, dtype="float32").reshape(24, 24) / 100 + elevation / 1000
    station.create_array("quality", shape=(48,), chunks=(16,), dtype="uint8")[::2] = 1

print(root.tree())
zarr.consolidate_metadata(f"{workdir}/weather.zarr")

archive = zarr.open_consolidated(f"{workdir}/weather.zarr", mode="r")
print(dict(archive.attrs))
for name, station in sorted(archive["stations"].groups()):
    temp = station["temperature"]
    print(name, station.attrs["elevation_m"], temp.shape, temp.chunks, temp.attrs["units"])
    print("  first row mean", round(float(temp[0].mean()), 4), "unwritten:", bool(np.isnan(temp[30]).all()))
    print("  quality", station["quality"][:8].tolist(), "every 5th hour", temp[5, ::5].round(2).tolist())
print(sorted(path for path, _ in archive.members(max_depth=None)))
try:
    archive["stations/davos/quality"][0] = 9
except Exception:
    print("read-only archive refused the write")
print(archive["stations/davos/quality"][0])
'''

SCRIPTS["zarr v2 for legacy readers: format 2 group, info, save and load"] = '''
import numpy as np
import zarr

grp = zarr.open_group(f"{workdir}/legacy.zarr", mode="w", zarr_format=2)
grp.attrs["description"] = "written for zarr 2 readers"
counts = grp.create_array("counts", shape=(1000,), chunks=(100,), dtype="int32")
counts[:] = np.arange(1000, dtype="int32") % 17
labels = grp.create_array("labels", shape=(4, 5), chunks=(2, 5), dtype="int16", fill_value=-1)
labels[1:3, 1:4] = 7
print(counts.info)
print(labels.info_complete())
print(grp.info_complete())

zarr.save_array(f"{workdir}/single.zarr", np.linspace(0, 1, 11), zarr_format=2)
print(zarr.load(f"{workdir}/single.zarr").round(1).tolist())

reopened = zarr.open(f"{workdir}/legacy.zarr", mode="r")
print(type(reopened).__name__, reopened.metadata.zarr_format, dict(reopened.attrs))
print(reopened["labels"][:].tolist())
print(int(reopened["counts"][::100].sum()), reopened["counts"].nchunks_initialized)
print(sorted(reopened.array_keys()), len(reopened))
'''

SCRIPTS["growing time series: append, resize, open auto-detect"] = '''
import numpy as np
import zarr

store = f"{workdir}/series.zarr"
log = zarr.create_array(store, name="sensor/readings", shape=(0, 3), chunks=(10, 3), dtype="float64",
                        dimension_names=["time", "channel"], attributes={"rate_hz": 10})
for batch in range(4):
    block = np.full((7, 3), batch, dtype="float64") + np.arange(3)
    log.append(block)
print(log.shape, log.nchunks, log.metadata.dimension_names)
log.resize((25, 3))
print(log.shape, log[-3:].tolist())
log.attrs["rate_hz"] = 20
log.attrs.update({"calibrated": True})

node = zarr.open(store, mode="r", path="sensor/readings")
print(type(node).__name__, dict(node.attrs))
print(node[::6, 1].tolist())
root = zarr.open(store, mode="r")
print(type(root).__name__, sorted(root.group_keys()), sorted(path for path, _ in root.members(max_depth=None)))
print("sensor/readings" in root, "sensor/typo" in root)
print(zarr.load(store, path="sensor/readings")[20].tolist())
'''

SCRIPTS["scratch in memory, then to disk: array helpers, from_array, indexing"] = '''
import numpy as np
import zarr

image = zarr.array(np.arange(64, dtype="uint16").reshape(8, 8), chunks=(4, 4))
mask = zarr.zeros_like(image)
mask[2:6, 2:6] = 1
ones = zarr.ones((3, 3), chunks=(2, 2), dtype="int8")
filled = zarr.full((2, 5), fill_value=2.5)
print(image.shape, image.chunks, image.dtype, mask.dtype, mask[:].sum(), ones[:].sum(), filled[:].tolist())
print(zarr.full_like(image, fill_value=9)[0, :3].tolist(), zarr.empty_like(image).shape)

on_disk = zarr.from_array(f"{workdir}/image.zarr", data=image, attributes={"source": "synthetic"})
print(on_disk.chunks, on_disk.fill_value, dict(on_disk.attrs))
editable = zarr.open_array(f"{workdir}/image.zarr", mode="r+")
editable[0, :] = 1000
editable.oindex[[1, 3], [0, 7]] = 5
print(editable.oindex[[0, 1, 3], [0, 7]].tolist())
print(editable.vindex[[1, 2, 3], [0, 1, 2]].tolist())
print(editable.get_mask_selection(np.asarray(mask[:]) == 1)[:6].tolist())
print(editable[::3, 1].tolist(), editable.nchunks_initialized)
'''

SCRIPTS["helpers and checks: require_*, membership, setitem, deletes, errors"] = '''
import numpy as np
import zarr

root = zarr.group(store={}, attributes={"owner": "lab"})
raw = root.require_group("raw")
print(raw is not None, root.require_group("raw").name, sorted(g.name for g in root.require_groups("a", "b")))
frames = raw.require_array("frames", shape=(5, 8), dtype="uint8", chunks=(1, 8))
frames[:] = np.arange(40, dtype="uint8").reshape(5, 8)
same = raw.require_array("frames", shape=(5, 8), dtype="uint8")
print(same[4].tolist())
try:
    raw.require_array("frames", shape=(6, 8), dtype="uint8")
except TypeError:
    print("shape mismatch refused")
try:
    root.create_group("raw")
except zarr.errors.ContainsGroupError:
    print("group exists")
try:
    root.create_array("raw/frames", shape=(1,), dtype="i1")
except zarr.errors.ContainsArrayError:
    print("array exists")
root["derived/mean"] = np.asarray(frames[:]).mean(axis=1)
print(sorted(root.keys()), "derived/mean" in root, root["derived/mean"][:].tolist())
del root["a"]
print(sorted(root.keys()), len(root), root.nmembers(max_depth=None))
root.update_attributes({"checked": True})
print(dict(root.attrs), root["raw"].basename, root["raw/frames"].name, root["raw/frames"].path)
print(sorted(name for name, _ in root.arrays()), sorted(name for name, _ in root["raw"].arrays()))
'''

SCRIPTS["save a group of arrays, list it, reopen with each mode"] = '''
import numpy as np
import zarr

path = f"{workdir}/results.zarr"
zarr.save_group(path, np.arange(5), np.eye(2), loss=np.array([0.9, 0.5, 0.2]))
group = zarr.open_group(path, mode="r")
for name in sorted(group.array_keys()):
    print(name, group[name].shape, group[name].dtype)
print(zarr.load(path, path="loss").tolist())
appended = zarr.open_group(path, mode="a")
appended.create_array("extra", data=np.arange(3) * 10)
print(sorted(zarr.open_group(path, mode="r+").keys()))
replaced = zarr.open_group(path, mode="w", attributes={"fresh": True})
print(sorted(replaced.keys()), dict(zarr.open_group(path, mode="r").attrs))
try:
    zarr.open_group(path, mode="w-")
except Exception:
    print("w- refused an existing group")
try:
    zarr.open_group(f"{workdir}/does-not-exist.zarr", mode="r")
except FileNotFoundError:
    print("no such store")
print(zarr.open_group(f"{workdir}/made-by-a.zarr", mode="a").path == "")
'''


def _run(source: str, library: str, workdir: Path) -> str:
    code = source if library == "zarr" else source.replace("import zarr\n", "import zarrlayered as zarr\n", 1)
    out = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(out):
        warnings.simplefilter("ignore", zarr.errors.ZarrUserWarning)
        exec(compile(code, f"<{library} script>", "exec"), {"workdir": str(workdir), "__name__": "__script__"})
    return out.getvalue().replace(str(workdir), "<workdir>")


@pytest.mark.parametrize("title", list(SCRIPTS))
def test_script_prints_the_same(title: str, tmp_path: Path) -> None:
    (tmp_path / "zarr").mkdir()
    (tmp_path / "zarrlayered").mkdir()
    theirs = _run(SCRIPTS[title], "zarr", tmp_path / "zarr")
    ours = _run(SCRIPTS[title], "zarrlayered", tmp_path / "zarrlayered")
    assert len(theirs.splitlines()) >= 5  # the script did its work under zarr-python 3
    assert ours == theirs


def test_scripts_are_plain_zarr_python_3() -> None:
    for source in SCRIPTS.values():
        assert "zarrlayered" not in source and "import zarr\n" in source
        assert 20 <= len(source.strip().splitlines()) <= 40

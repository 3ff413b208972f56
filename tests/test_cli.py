"""The command line, run for real: ``python -m zarrlayered`` in a subprocess and ``cli.main`` in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import pytest
import zarr
from zarr.metadata.migrate_v3 import _convert_array_metadata

import zarrlayered
from zarrlayered.cli import main, parse_compressor
from zarrlayered.core.migrate import plan_migration
from zarrlayered.stores.make import make_store

pytestmark = pytest.mark.filterwarnings("ignore:Numcodecs codecs are not in the Zarr version 3")

V2_DOCS = {".zarray", ".zattrs", ".zgroup"}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zarrlayered", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=60, check=False)


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below ``root``: its bytes and its mtime (ns)."""
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


def chunk_files(snap: dict[str, tuple[bytes, int]]) -> dict[str, tuple[bytes, int]]:
    return {k: v for k, v in snap.items() if Path(k).name not in V2_DOCS | {"zarr.json"}}


EXPECTED: dict[str, np.ndarray[Any, Any]] = {
    "zstd": np.arange(60, dtype="f8").reshape(6, 10) / 7,
    "blosc": np.arange(60, dtype="i2").reshape(6, 10),
    "deep/gzip_f_big_endian": np.arange(60, dtype=">i4").reshape(6, 10) * -3,
    "zlib_delta": np.arange(60, dtype="<u4").reshape(6, 10) ** 2,
    "nested_nan": np.where(np.arange(60).reshape(6, 10) % 7 == 0, np.nan, 1.5).astype("f4"),
    "plain_bool": (np.arange(60).reshape(6, 10) % 3 == 0),
}
SETTINGS: dict[str, dict[str, Any]] = {
    "zstd": {"compressors": numcodecs.Zstd(level=3)},
    "blosc": {"compressors": numcodecs.Blosc(cname="zstd", clevel=3, shuffle=2)},
    "deep/gzip_f_big_endian": {"compressors": numcodecs.GZip(5), "order": "F"},
    "zlib_delta": {"compressors": numcodecs.Zlib(1), "filters": [numcodecs.Delta(dtype="<u4")]},
    "nested_nan": {"compressors": numcodecs.Zlib(1), "fill_value": float("nan"),
                   "chunk_key_encoding": {"name": "v2", "separator": "/"}},
    "plain_bool": {"compressors": None},
}


@pytest.fixture
def v2_tree(tmp_path: Path) -> Path:
    """A V2 hierarchy written by zarr-python 3: several codecs, F order, big endian, '/' keys, strings."""
    path = tmp_path / "v2.zarr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = zarr.open_group(str(path), mode="w", zarr_format=2, attributes={"title": "cli"})
        for name, data in EXPECTED.items():
            arr = root.create_array(name, shape=data.shape, chunks=(4, 3), dtype=data.dtype,
                                    **SETTINGS[name])
            arr[:] = data
            arr.attrs["name"] = name
        names = root.create_array("names", shape=(5,), chunks=(2,), dtype=str)
        names[:] = ["a", "bb", "ccc", "", "éé"]
    return path


def test_help_lists_the_subcommands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("info", "tree", "migrate", "copy", "demo"):
        assert f"    {command} " in result.stdout


def test_info_of_an_array_and_a_group(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    arr = zarrlayered.create_array(str(tmp_path / "s.zarr"), shape=(40, 30), chunks=(5, 5), shards=(10, 15),
                                   dtype="int16", compressors={"name": "zstd", "configuration": {"level": 1}})
    arr[:] = 7
    assert main(["info", str(tmp_path / "s.zarr")]) == 0
    out = capsys.readouterr().out
    assert "Zarr format        : 3" in out and "Shape              : (40, 30)" in out
    assert "Chunk shape        : (5, 5)" in out and "Shard shape        : (10, 15)" in out
    assert "Int16" in out and "Zstd" in out and "Codecs" in out
    stored = sum(p.stat().st_size for p in (tmp_path / "s.zarr").rglob("*") if p.is_file())  # with zarr.json
    assert f"No. bytes stored   : {stored}" in out
    assert f"Storage ratio      : {2400 / stored:.1f}" in out
    root = zarrlayered.open_group(str(tmp_path / "g.zarr"), mode="w", zarr_format=2)
    root.create_array("a/x", shape=(3,), dtype="f8")
    root.create_group("b")
    result = run("info", str(tmp_path / "g.zarr"))
    assert result.returncode == 0, result.stderr
    assert "No. members : 3" in result.stdout and "Zarr format : 2" in result.stdout
    assert "└── x (3,) float64" in result.stdout


def test_tree(v2_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tree", str(v2_tree)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "/"
    assert "│   └── gzip_f_big_endian (6, 10) int32" in out and "├── zstd (6, 10) float64" not in out
    assert "└── zstd (6, 10) float64" in out and "├── deep" in out


def test_migrate_rewrites_metadata_and_leaves_chunks_untouched(v2_tree: Path) -> None:
    before = snapshot(v2_tree)
    expected_json = {}
    for name in EXPECTED:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meta = zarr.open_array(str(v2_tree / name), mode="r").metadata
            expected_json[name] = json.loads(json.dumps(_convert_array_metadata(meta).to_dict()))
    assert main(["migrate", str(v2_tree)]) == 0
    after = snapshot(v2_tree)
    assert not [k for k in after if Path(k).name in V2_DOCS]
    assert chunk_files(after) == chunk_files(before)  # same bytes, same mtimes
    assert len(chunk_files(after)) == len([k for k in before if Path(k).name not in V2_DOCS])
    for name, data in EXPECTED.items():
        document = json.loads((v2_tree / name / "zarr.json").read_bytes())
        assert document == expected_json[name]  # what zarr-python 3.1's migration writes
        ours = zarrlayered.open_array(str(v2_tree / name), mode="r")
        theirs = zarr.open_array(str(v2_tree / name), mode="r")
        assert ours.zarr_format == theirs.metadata.zarr_format == 3
        np.testing.assert_array_equal(ours[:], data)
        np.testing.assert_array_equal(theirs[:], data)
        assert ours.attrs["name"] == name
    names = json.loads((v2_tree / "names" / "zarr.json").read_bytes())
    assert names["data_type"] == "string" and names["codecs"][0] == {"name": "vlen-utf8", "configuration": {}}
    assert list(zarr.open_array(str(v2_tree / "names"), mode="r")[:]) == ["a", "bb", "ccc", "", "éé"]
    assert list(zarrlayered.open_array(str(v2_tree / "names"), mode="r")[:]) == ["a", "bb", "ccc", "", "éé"]
    group = zarr.open_group(str(v2_tree), mode="r")
    assert group.metadata.zarr_format == 3 and group.attrs["title"] == "cli"
    assert sorted(zarrlayered.open_group(str(v2_tree), mode="r").keys()) == sorted(["deep", "names", *[
        n for n in EXPECTED if "/" not in n]])
    again = run("migrate", str(v2_tree))  # nothing V2 left
    assert again.returncode == 1 and len(again.stderr.strip().splitlines()) == 1
    assert "no Zarr V2 array or group" in again.stderr and "Traceback" not in again.stderr


def test_migrate_dry_run_writes_nothing(v2_tree: Path) -> None:
    before = snapshot(v2_tree)
    result = run("migrate", str(v2_tree), "--dry-run", "--to", "3")
    assert result.returncode == 0, result.stderr
    assert snapshot(v2_tree) == before
    assert "write deep/gzip_f_big_endian/zarr.json" in result.stdout
    assert "remove zstd/.zarray" in result.stdout and "nothing written" in result.stdout


def test_migrate_leaves_an_inexpressible_array_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mixed.zarr"
    root = zarrlayered.open_group(str(path), mode="w", zarr_format=2)
    root.create_array("ok", shape=(4,), chunks=(2,), dtype="i4")[:] = [1, 2, 3, 4]
    objects = path / "objects"  # an object array encoded with numcodecs' JSON codec: no V3 serializer
    objects.mkdir()
    zarray = {"zarr_format": 2, "shape": [2], "chunks": [2], "dtype": "|O", "compressor": None,
              "fill_value": None, "order": "C", "filters": [numcodecs.JSON().get_config()]}
    (objects / ".zarray").write_text(json.dumps(zarray))
    (objects / "0").write_bytes(numcodecs.JSON().encode(np.array([{"a": 1}, [2]], dtype=object)))
    before = snapshot(objects)
    plan = plan_migration(make_store(str(path), mode="r"))
    assert [n.path for n in plan.refused] == ["objects"] and "json2" in str(plan.refused[0].problem)
    assert main(["migrate", str(path)]) == 1
    captured = capsys.readouterr()
    assert "skip array objects" in captured.out
    assert len(captured.err.strip().splitlines()) == 1 and "left untouched" in captured.err
    assert snapshot(objects) == before
    np.testing.assert_array_equal(zarr.open_array(str(path / "ok"), mode="r")[:], [1, 2, 3, 4])
    assert zarrlayered.open_array(str(path / "ok"), mode="r").zarr_format == 3


def test_copy_across_formats_with_a_new_compressor(v2_tree: Path, tmp_path: Path) -> None:
    dst = tmp_path / "copy3.zarr"
    result = run("copy", str(v2_tree), str(dst), "--zarr-format", "3", "--compressor", "gzip:4", "--progress")
    assert result.returncode == 0, result.stderr
    assert "100%" in result.stderr  # the tqdm bar
    assert "copied 7 array(s)" in result.stdout
    for name, data in EXPECTED.items():
        theirs = zarr.open_array(str(dst / name), mode="r")
        assert theirs.metadata.zarr_format == 3
        assert json.loads((dst / name / "zarr.json").read_bytes())["codecs"][-1] == {
            "name": "gzip", "configuration": {"level": 4}}
        np.testing.assert_array_equal(theirs[:], data)
    assert list(zarrlayered.open_array(str(dst / "names"))[:]) == ["a", "bb", "ccc", "", "éé"]
    back = tmp_path / "back2.zarr"
    assert main(["copy", str(dst / "zstd"), str(back), "--zarr-format", "2", "--no-progress"]) == 0
    assert zarrlayered.open_array(str(back), mode="r").zarr_format == 2
    np.testing.assert_array_equal(zarr.open_array(str(back), mode="r")[:], EXPECTED["zstd"])
    same = tmp_path / "same.zarr"
    assert main(["copy", str(v2_tree / "blosc"), str(same)]) == 0
    assert json.loads((same / ".zarray").read_bytes())["compressor"]["cname"] == "zstd"  # kept


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["info", "{tmp}/missing.zarr"], "no such file or directory"),
        (["tree", "{tmp}/plain"], "is not a Zarr array or group"),
        (["migrate", "{tmp}/plain"], "no Zarr V2 array or group"),
        (["copy", "{tmp}/missing.zarr", "{tmp}/out.zarr"], "no such file or directory"),
        (["copy", "{tmp}/a.zarr", "{tmp}/out.zarr", "--compressor", "brotli"], "unknown compressor 'brotli'"),
        (["copy", "{tmp}/a.zarr", "{tmp}/a.zarr"], "destination already exists"),
    ],
)
def test_errors_are_one_line_and_exit_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "notes.txt").write_text("not zarr")
    zarrlayered.create_array(str(tmp_path / "a.zarr"), shape=(2,), dtype="i1")
    argv = [a.format(tmp=tmp_path) for a in args]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and words in err and err.startswith(f"zarrlayered {argv[0]}: error:")


def test_errors_from_a_real_process(tmp_path: Path) -> None:
    result = run("info", str(tmp_path / "nowhere"))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == f"zarrlayered info: error: no such file or directory: {tmp_path / 'nowhere'}"
    bad = run("migrate", str(tmp_path), "--to", "2")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr and "Traceback" not in bad.stderr


def test_parse_compressor() -> None:
    assert parse_compressor("zstd:5", 3) == {"name": "zstd", "configuration": {"level": 5}}
    assert parse_compressor("blosc:2", 3) == {"name": "blosc", "configuration": {"clevel": 2}}
    assert parse_compressor("zlib:3", 2) == numcodecs.Zlib(level=3)
    assert parse_compressor("none", 2) is None
    with pytest.raises(ValueError, match="level must be an integer, got 'x'"):
        parse_compressor("gzip:x", 2)


def test_demo(tmp_path: Path) -> None:
    result = run("demo", "d.zarr", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "temperature (48, 36) float32" in result.stdout
    assert os.path.exists(tmp_path / "d.zarr" / "zarr.json")


def test_migrate_a_root_array_and_drop_consolidated_metadata(tmp_path: Path) -> None:
    single = tmp_path / "single.zarr"
    data = np.arange(12, dtype="<i8").reshape(3, 4)
    zarr.create_array(str(single), shape=(3, 4), chunks=(2, 2), dtype="i8", zarr_format=2)[:] = data
    assert main(["migrate", str(single)]) == 0
    assert sorted(p.name for p in single.iterdir() if not p.name[0].isdigit()) == ["zarr.json"]
    np.testing.assert_array_equal(zarr.open_array(str(single), mode="r")[:], data)
    consolidated = tmp_path / "consolidated.zarr"
    root = zarr.open_group(str(consolidated), mode="w", zarr_format=2)
    root.create_array("x", shape=(3, 4), chunks=(2, 2), dtype="i8")[:] = data
    zarr.consolidate_metadata(str(consolidated))
    assert (consolidated / ".zmetadata").exists()
    result = run("migrate", str(consolidated))
    assert result.returncode == 0, result.stderr
    assert "remove .zmetadata (stale consolidated V2 metadata)" in result.stdout
    assert not (consolidated / ".zmetadata").exists()
    np.testing.assert_array_equal(zarrlayered.open_group(str(consolidated), mode="r")["x"][:], data)

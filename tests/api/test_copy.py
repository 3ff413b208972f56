"""copy, copy_all and copy_store: zarr-python 2's functions (zarr-python 3 raises NotImplementedError), between
different stores (memory -> local directory -> zip archive) and formats, with zarr-python 2's results and logs."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr

import zarrlayered
from zarrlayered.api import CopyError
from zarrlayered.stores import LocalStore, MemoryStore, ZipStore


def _source(zarr_format: int = 3) -> zarrlayered.Group:
    root = zarrlayered.open_group(MemoryStore(), mode="w", zarr_format=zarr_format, attributes={"title": "src"})
    foo = root.create_group("foo", attributes={"f": 1})
    baz = foo.create_array("bar/baz", shape=(100,), chunks=(30,), dtype="i8", attributes={"units": "m"})
    baz[:] = np.arange(100)
    sparse = root.create_array("sparse", shape=(10, 10), chunks=(5, 5), dtype="f4", fill_value=-1)
    sparse[0:5, 0:5] = 2.0  # only one of the four chunks is written
    root.create_array("spam", shape=(1000,), chunks=(400,), dtype="u2")[:] = np.arange(1000) % 7
    return root


def _check(dest: zarrlayered.Group, prefix: str = "") -> None:
    baz = dest[f"{prefix}foo/bar/baz"]
    assert baz[:].tolist() == list(range(100)) and baz.chunks == (30,) and baz.attrs["units"] == "m"
    assert dest[f"{prefix}foo"].attrs["f"] == 1
    sparse = dest[f"{prefix}sparse"]
    assert sparse.fill_value == -1 and sparse[7, 7] == -1 and sparse[0, 0] == 2.0
    assert sparse.nchunks_initialized == 1  # unwritten chunks stay unwritten
    assert dest[f"{prefix}spam"][-3:].tolist() == [(997 % 7), (998 % 7), (999 % 7)]


def test_memory_to_local_to_zip(tmp_path: Path) -> None:
    source = _source()
    local = zarrlayered.open_group(LocalStore(tmp_path / "copy.zarr"), mode="w")
    counts = zarrlayered.copy_all(source, local)
    # foo, foo/bar, foo/bar/baz, sparse, spam; bytes are the arrays' nbytes (100*8 + 100*4 + 1000*2)
    assert counts == (5, 0, 3200)
    assert [name for name, _ in local.members(max_depth=None)] == ["foo", "foo/bar", "foo/bar/baz", "spam", "sparse"]
    _check(local)
    assert dict(local.attrs) == {"title": "src"}
    zip_store = ZipStore(tmp_path / "copy.zip", mode="w")
    zipped = zarrlayered.open_group(zip_store, mode="w")
    assert zarrlayered.copy(local["foo"], zipped) == (3, 0, 800)  # foo, foo/bar, foo/bar/baz
    assert zarrlayered.copy(local["sparse"], zipped, name="renamed") == (1, 0, 400)
    zip_store.close()
    reopened = zarrlayered.open_group(str(tmp_path / "copy.zip"), mode="r")
    assert reopened["foo/bar/baz"][:].tolist() == list(range(100))
    assert reopened["renamed"].nchunks_initialized == 1
    theirs = zarr.open_group(zarr.storage.ZipStore(tmp_path / "copy.zip", mode="r"), mode="r")
    assert theirs["foo/bar/baz"][:].tolist() == list(range(100)) and theirs["foo"].attrs["f"] == 1


def test_v2_to_v2_keeps_the_bytes(tmp_path: Path) -> None:
    source = _source(zarr_format=2)
    dest = zarrlayered.open_group(str(tmp_path / "v2"), mode="w", zarr_format=2)
    zarrlayered.copy_all(source, dest)
    _check(dest)
    stored = {k: v for k, v in source.store.store_dict.items() if k not in (".zattrs", ".zgroup")}
    on_disk = {p.relative_to(tmp_path / "v2").as_posix(): p.read_bytes() for p in (tmp_path / "v2").rglob("*")
               if p.is_file()}
    for key, value in stored.items():
        assert on_disk[key] == value, key  # chunks and documents copied unchanged
    assert zarr.open_group(str(tmp_path / "v2"), mode="r")["foo/bar/baz"][5] == 5


def test_create_kws_re_encode(tmp_path: Path) -> None:
    source = _source()
    dest = zarrlayered.group()
    zarrlayered.copy(source["foo/bar/baz"], dest, name="rechunked", chunks=(50,), compressors=None)
    copy = dest["rechunked"]
    assert copy.chunks == (50,) and copy.compressors == () and copy[:].tolist() == list(range(100))
    assert copy.attrs["units"] == "m"
    v2 = zarrlayered.group(zarr_format=2)
    assert zarrlayered.copy(source["foo"], v2) == (3, 0, 800)  # into a V2 group: V2 arrays and groups
    assert v2["foo/bar/baz"].metadata.zarr_format == 2 and v2["foo/bar/baz"][99] == 99
    assert v2["foo/bar/baz"].chunks == (30,) and v2["foo/bar/baz"].attrs["units"] == "m"


def test_if_exists_dry_run_and_log() -> None:
    source = _source()
    dest = zarrlayered.group()
    dest.create_array("foo/spam_old", shape=(1,), dtype="i1")
    dest.create_array("foo/bar/baz", shape=(1,), dtype="i1")  # in the way
    log = io.StringIO()
    with pytest.raises(CopyError, match="'baz' already exists"):
        zarrlayered.copy(source["foo"], dest, log=log)
    assert log.getvalue().splitlines() == ["copy /foo", "copy /foo/bar"]
    lines: list[str] = []
    assert zarrlayered.copy(source["foo"], dest, log=lines.append, if_exists="skip", dry_run=True) == (2, 1, 0)
    assert lines == ["copy /foo", "copy /foo/bar", "skip /foo/bar/baz (100,) int64", "dry run: 2 copied, 1 skipped"]
    assert dest["foo/bar/baz"].shape == (1,)  # a dry run changes nothing
    lines.clear()
    assert zarrlayered.copy(source["foo"], dest, log=lines.append, if_exists="replace") == (3, 0, 800)
    assert lines[-1] == "all done: 3 copied, 0 skipped, 800 bytes copied"
    assert dest["foo/bar/baz"][:].tolist() == list(range(100)) and "spam_old" in dest["foo"]
    assert zarrlayered.copy(source["foo"], dest, if_exists="skip_initialized") == (2, 1, 0)
    with pytest.raises(ValueError, match="if_exists"):
        zarrlayered.copy(source["foo"], dest, if_exists="never")


def test_log_to_a_file(tmp_path: Path) -> None:
    source = _source()
    zarrlayered.copy(source["sparse"], zarrlayered.group(), log=str(tmp_path / "copy.log"))
    assert (tmp_path / "copy.log").read_text().splitlines() == [
        "copy /sparse (10, 10) float32", "all done: 1 copied, 0 skipped, 400 bytes copied"]
    with pytest.raises(TypeError, match="log"):
        zarrlayered.copy(source["sparse"], zarrlayered.group(), log=42)  # type: ignore[arg-type]


def test_shallow_and_without_attrs() -> None:
    source = _source()
    dest = zarrlayered.group()
    assert zarrlayered.copy(source, dest, name="root", shallow=True, without_attrs=True) == (3, 0, 2400)
    assert sorted(name for name, _ in dest.members(max_depth=None)) == ["root", "root/spam", "root/sparse"]
    assert dict(dest["root"].attrs) == {}
    with pytest.raises(TypeError, match="name"):
        zarrlayered.copy(source, dest)  # the root group has no name
    with pytest.raises(ValueError, match="group"):
        zarrlayered.copy(source["spam"], source["sparse"])  # type: ignore[arg-type]


def test_copy_store_between_stores(tmp_path: Path) -> None:
    source = _source()
    keys = sorted(source.store.store_dict)
    lines: list[str] = []
    dest = LocalStore(tmp_path / "raw.zarr")
    n, skipped, nbytes = zarrlayered.copy_store(source.store, dest, log=lines.append)
    assert (n, skipped) == (len(keys), 0) and nbytes == sum(len(v) for v in source.store.store_dict.values())
    assert lines[:2] == [f"copy {keys[0]}", f"copy {keys[1]}"]
    _check(zarrlayered.open_group(dest, mode="r"))
    with pytest.raises(CopyError, match="exists in destination"):
        zarrlayered.copy_store(source.store, dest)
    assert zarrlayered.copy_store(source.store, dest, if_exists="skip")[:2] == (0, len(keys))
    zip_store = ZipStore(tmp_path / "raw.zip", mode="w")
    counts = zarrlayered.copy_store(dest, zip_store, source_path="foo", dest_path="moved/here",
                                    excludes=[r"\.json$"], includes=["bar/zarr"])
    zip_store.close()
    copied = sorted(ZipStore(tmp_path / "raw.zip", mode="r").list_prefix_sync(""))
    assert copied[0] == "moved/here/bar/baz/c/0" and "moved/here/bar/zarr.json" in copied
    assert "moved/here/zarr.json" not in copied and counts[0] == len(copied)
    dry = zarrlayered.copy_store(source.store, {}, dry_run=True)
    assert dry == (len(keys), 0, 0)


def test_zarr_python_3_does_not_copy() -> None:
    for fn in (zarr.copy, zarr.copy_all, zarr.copy_store):
        with pytest.raises(NotImplementedError):
            fn(zarr.group(), zarr.group())


def test_same_results_and_log_as_zarr_python_2(tmp_path: Path) -> None:
    from zarr2_env import run_zarr2

    script = """
import sys
import numpy as np
import {module} as zarr
kwargs = {kwargs}
source = zarr.group(**kwargs)
baz = source.create_dataset("foo/bar/baz", data=np.arange(100), chunks=(50,), compressor=None)
spam = source.create_dataset("foo/spam", data=np.arange(1000), chunks=(300,), compressor=None)
dest = zarr.group(**kwargs)
existing = dest.create_dataset("foo/spam", data=np.arange(1000), compressor=None)
try:
    zarr.copy(source["foo"], dest, log=sys.stdout, dry_run=True)
except Exception as e:
    print(type(e).__name__, e)
print(zarr.copy(source["foo"], dest, log=sys.stdout, if_exists="replace", dry_run=True))
print(zarr.copy(source["foo"], dest, log=sys.stdout, if_exists="skip", dry_run=True))
print(zarr.copy(source["foo"], dest, log=sys.stdout, if_exists="skip"))
print(zarr.copy(source["foo"], dest, log=sys.stdout, if_exists="replace"))
print(sorted(dest["foo"].keys()), dest["foo/bar/baz"][95:].tolist())
other = zarr.group(**kwargs)
print(zarr.copy_all(source, other, log=sys.stdout))
print(zarr.copy(baz, other, name="again", shallow=True, without_attrs=True))
"""
    theirs = run_zarr2(script.format(module="zarr", kwargs="{}"), cwd=tmp_path)
    namespace: dict[str, Any] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(script.format(module="zarrlayered", kwargs="{'zarr_format': 2}"), namespace)
    assert out.getvalue() == theirs
    assert "CopyError an object 'spam' already exists in destination '/foo'" in theirs

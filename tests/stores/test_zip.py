from __future__ import annotations

import gc
import json
import logging
import os
import pickle
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
import zarr
import zarr.storage

from zarrlayered.core.sync import sync
from zarrlayered.errors import ReadOnlyError, StoreClosedError, UnsafeKeyError
from zarrlayered.stores import OffsetByteRequest, RangeByteRequest, SuffixByteRequest
from zarrlayered.stores.local import TEMP_PREFIX
from zarrlayered.stores.zip import ZipStore
from zarrlayered.testing import StoreTests
from zarrlayered.testing.store import keys_of


class TestZipStore(StoreTests):
    def make_store(self, tmp_path: Path) -> ZipStore:
        return ZipStore(tmp_path / "store.zip", mode="w")

    def reopen(self, store: ZipStore) -> ZipStore:
        store.close()
        return ZipStore(store.path, mode="a")


class TestDeflatedZipStore(StoreTests):
    large_value_size = 512 * 1024

    def make_store(self, tmp_path: Path) -> ZipStore:
        return ZipStore(tmp_path / "store.zip", mode="w", compression=zipfile.ZIP_DEFLATED)

    def reopen(self, store: ZipStore) -> ZipStore:
        store.close()
        return ZipStore(store.path, mode="r")


def names_in(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


# -- one entry per name ----------------------------------------------------------------------------


def test_overwrite_and_delete_leave_one_entry_per_name(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with ZipStore(path, mode="w") as store:
        for i in range(3):
            store.set_sync("zarr.json", b'{"v": %d}' % i)
            store.set_sync("c/0", bytes([i]) * 100)
        store.set_sync("gone", b"x")
        store.set_sync("c/1", b"keep")
        store.delete_sync("gone")
        assert store.get_sync("zarr.json") == b'{"v": 2}'  # the newest value, before close
        assert store.get_sync("c/0", RangeByteRequest(10, 12)) == b"\x02\x02"
        assert store.get_sync("gone") is None
        assert sorted(store.list_prefix_sync("")) == ["c/0", "c/1", "zarr.json"]
        assert not path.exists()  # nothing is committed before close
    names = names_in(path)
    assert sorted(names) == ["c/0", "c/1", "zarr.json"]
    assert members(path) == {"zarr.json": b'{"v": 2}', "c/0": b"\x02" * 100, "c/1": b"keep"}
    assert [n for n in os.listdir(tmp_path) if n.startswith(TEMP_PREFIX)] == []


def test_append_mode_keeps_existing_entries(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with ZipStore(path, mode="w") as store:
        store.set_sync("a", b"1")
        store.set_sync("b", b"2")
    with ZipStore(path, mode="a") as store:
        assert store.get_sync("a") == b"1"
        store.set_sync("c", b"3")
        store.set_sync("a", b"one")
        assert members(path) == {"a": b"1", "b": b"2"}  # the original is untouched until close
    assert sorted(names_in(path)) == ["a", "b", "c"]
    assert members(path) == {"a": b"one", "b": b"2", "c": b"3"}
    with ZipStore(path, mode="a") as store:  # only a delete: the archive is rewritten from the original
        store.delete_sync("b")
    assert members(path) == {"a": b"one", "c": b"3"}
    with ZipStore(path, mode="a") as store:  # only reads: the file is not rewritten
        before = path.stat().st_mtime_ns
        assert store.get_sync("c") == b"3"
    assert path.stat().st_mtime_ns == before


def test_append_over_zarr_python_duplicates_compacts(tmp_path: Path) -> None:
    path = tmp_path / "dup.zip"
    with zipfile.ZipFile(path, "w") as zf, pytest.warns(UserWarning, match="Duplicate"):
        zf.writestr("k", b"old")
        zf.writestr("k", b"new")
    with ZipStore(path, mode="r") as store:
        assert store.get_sync("k") == b"new"  # the last entry wins, as in zipfile
    with ZipStore(path, mode="a") as store:
        store.set_sync("other", b"x")
    assert sorted(names_in(path)) == ["k", "other"]
    assert members(path)["k"] == b"new"


def test_rename_and_delete_dir_are_committed(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with ZipStore(path, mode="w") as store:
        store.set_sync("g/a/zarr.json", b"m")
        store.set_sync("g/a/c/0", b"0")
        store.set_sync("g/b/zarr.json", b"n")
        sync(store.rename("g/a", "h"))
        sync(store.delete_dir("g/b"))
    assert members(path) == {"h/zarr.json": b"m", "h/c/0": b"0"}


# -- modes -----------------------------------------------------------------------------------------


def test_mode_x_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    path.write_bytes(b"not mine")
    with pytest.raises(FileExistsError):
        ZipStore(path, mode="x")
    assert path.read_bytes() == b"not mine"
    fresh = tmp_path / "b.zip"
    with ZipStore(fresh, mode="x") as store:
        assert fresh.exists()  # the name is reserved at once
        with pytest.raises(FileExistsError):
            ZipStore(fresh, mode="x")
        store.set_sync("k", b"v")
    assert members(fresh) == {"k": b"v"}


def test_mode_r_on_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ZipStore(tmp_path / "missing.zip", mode="r")
    assert os.listdir(tmp_path) == []


def test_mode_w_truncates_and_bad_arguments(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with ZipStore(path, mode="w") as store:
        store.set_sync("old", b"1")
    with ZipStore(path, mode="w") as store:
        assert store.get_sync("old") is None
    assert names_in(path) == []
    with pytest.raises(ValueError, match="mode"):
        ZipStore(path, mode="r+")
    with pytest.raises(ValueError, match="compression"):
        ZipStore(path, mode="r", compression=99)
    with pytest.raises(TypeError, match="path"):
        ZipStore(3, mode="r")  # type: ignore[arg-type]


def test_mode_a_creates_and_reads_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    path.touch()
    with ZipStore(path, mode="a") as store:
        assert keys_of(store.list()) == []
        store.set_sync("k", b"v")
    assert members(path) == {"k": b"v"}
    created = tmp_path / "new.zip"
    with ZipStore(created, mode="a") as store:
        store.set_sync("k", b"w")
    assert members(created) == {"k": b"w"}


def test_read_only_store_and_views(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    store = ZipStore(path, mode="w")
    store.set_sync("k", b"v")
    view = store.with_read_only(True)
    assert view.read_only and view == store
    assert view.get_sync("k") == b"v"  # the view sees uncommitted writes
    with pytest.raises(ReadOnlyError):
        view.set_sync("k", b"w")
    view.close()
    assert view.closed and not store.closed
    store.set_sync("j", b"u")
    store.close()
    assert members(path) == {"k": b"v", "j": b"u"}

    reader = ZipStore(path, mode="r")
    assert reader.read_only
    with pytest.raises(ValueError, match="mode 'r'"):
        reader.with_read_only(False)
    with pytest.raises(ReadOnlyError):
        reader.set_sync("k", b"w")
    other = reader.with_read_only(True)
    reader.close()
    assert other.closed
    with pytest.raises(StoreClosedError):
        other.get_sync("k")


def test_pickle(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with ZipStore(path, mode="w") as writer:
        writer.set_sync("k", b"v")
        with pytest.raises(TypeError, match="writable ZipStore"):
            pickle.dumps(writer)
    with ZipStore(path, mode="r") as reader:
        clone = pickle.loads(pickle.dumps(reader))
        assert clone == reader and clone.mode == "r"
        assert clone.get_sync("k") == b"v"
        clone.close()
    assert repr(reader) == f"ZipStore({str(path)!r}, mode='r', read_only=True)"


# -- durability ----------------------------------------------------------------------------------


def test_crash_before_close_keeps_earlier_data(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with ZipStore(path, mode="w") as store:
        store.set_sync("committed", b"safe")
    script = (
        "import os, sys\n"
        "from zarrlayered.stores.zip import ZipStore\n"
        "store = ZipStore(sys.argv[1], mode='a')\n"
        "store.set_sync('committed', b'overwritten')\n"
        "store.set_sync('new', b'x' * 100000)\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True, timeout=60)
    assert members(path) == {"committed": b"safe"}


def test_unclosed_store_is_committed_when_collected(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "a.zip"
    store = ZipStore(path, mode="w")
    store.set_sync("k", b"v")
    with caplog.at_level(logging.WARNING, logger="zarrlayered.store"):
        del store
        gc.collect()
    assert members(path) == {"k": b"v"}
    assert any("not closed" in record.getMessage() for record in caplog.records)


# -- reading only what is asked ---------------------------------------------------------------------


def test_stored_range_reads_do_not_read_the_member(tmp_path: Path) -> None:
    size = 32 << 20
    path = tmp_path / "a.zip"
    value = np.arange(size // 8, dtype="<u8").tobytes()
    with ZipStore(path, mode="w") as store:
        store.set_sync("big", value)
    del value
    with ZipStore(path, mode="r") as store:
        tracemalloc.start()
        try:
            assert (
                store.get_sync("big", RangeByteRequest(size // 2, size // 2 + 16))
                == np.array([size // 16, size // 16 + 1], dtype="<u8").tobytes()
            )
            assert store.get_sync("big", SuffixByteRequest(8)) == np.array([size // 8 - 1], "<u8").tobytes()
            assert store.get_sync("big", OffsetByteRequest(size - 8)) == np.array([size // 8 - 1], "<u8").tobytes()
            assert sync(store.getsize("big")) == size
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 1 << 20


# -- unsafe members ------------------------------------------------------------------------------


def test_unsafe_member_names_are_never_served(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    work = tmp_path / "work"
    work.mkdir()
    path = work / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("../evil", b"escape")
        zf.writestr("/abs", b"absolute")
        zf.writestr("a\\b", b"backslash")
        zf.writestr("dir/", b"")
        zf.writestr("../up/", b"")
        zf.writestr("ok/key", b"fine")
    assert set(names_in(path)) == {"../evil", "/abs", "a\\b", "dir/", "../up/", "ok/key"}  # really in the archive
    with caplog.at_level(logging.WARNING, logger="zarrlayered.store"), ZipStore(path, mode="r") as store:
        assert keys_of(store.list()) == ["ok/key"]
        assert keys_of(store.list_dir("")) == ["ok"]
        assert store.get_sync("ok/key") == b"fine"
        for name in ("../evil", "/abs", "a\\b"):
            with pytest.raises(UnsafeKeyError):
                store.get_sync(name)
    message = " ".join(record.getMessage() for record in caplog.records)
    assert "'../evil'" in message and "'/abs'" in message and "'../up/'" in message
    assert sorted(os.listdir(tmp_path)) == ["work"]
    assert sorted(os.listdir(work)) == ["evil.zip"]
    assert not Path("/abs").exists()

    with ZipStore(path, mode="a") as store:  # a rewrite keeps keys and directories, drops unsafe names
        store.set_sync("ok/key", b"better")
    assert members(path) == {"dir/": b"", "ok/key": b"better"}


# -- compatibility with zarr-python 3 ---------------------------------------------------------------


def test_we_read_an_archive_zarr_python_writes(tmp_path: Path) -> None:
    path = tmp_path / "zp.zip"
    data = np.arange(24, dtype="<i2").reshape(4, 6)
    zstore = zarr.storage.ZipStore(path, mode="w")
    zarr.create_array(zstore, shape=data.shape, chunks=(4, 3), dtype=data.dtype, compressors=None, attributes={"a": 1})[
        ...
    ] = data
    zstore.close()
    with ZipStore(path, mode="r") as store:
        assert sorted(store.list_prefix_sync("")) == sorted(set(names_in(path)))
        meta = json.loads(store.get_sync("zarr.json") or b"")
        assert meta["shape"] == [4, 6] and meta["attributes"] == {"a": 1}
        for j in range(2):
            chunk = np.frombuffer(store.get_sync(f"c/0/{j}") or b"", dtype="<i2").reshape(4, 3)
            np.testing.assert_array_equal(chunk, data[:, 3 * j : 3 * j + 3])
        assert store.get_sync("c/0/1", RangeByteRequest(2, 4)) == data[0, 4].tobytes()


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_zarr_python_reads_an_archive_we_write(tmp_path: Path, compression: int) -> None:
    data = np.linspace(0, 1, 35, dtype="<f4").reshape(5, 7)
    reference = zarr.storage.MemoryStore()
    zarr.create_array(reference, shape=data.shape, chunks=(2, 7), dtype=data.dtype, compressors=None)[...] = data
    path = tmp_path / "ours.zip"
    with ZipStore(path, mode="w", compression=compression) as store:
        store.set_sync("zarr.json", b"{}")  # overwritten below: the archive is compacted at close
        for key, buffer in reference._store_dict.items():
            store.set_sync(key, buffer.to_bytes())
    assert sorted(names_in(path)) == sorted(reference._store_dict)
    zstore = zarr.storage.ZipStore(path, mode="r")
    try:
        np.testing.assert_array_equal(zarr.open_array(zstore)[...], data)
    finally:
        zstore.close()

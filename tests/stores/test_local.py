from __future__ import annotations

import json
import logging
import os
import pickle
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import zarr
import zarr.storage

from zarrlayered.core.sync import sync
from zarrlayered.errors import ReadOnlyError, UnsafeKeyError
from zarrlayered.stores import RangeByteRequest, SuffixByteRequest
from zarrlayered.stores.local import TEMP_PREFIX, LocalStore
from zarrlayered.testing import StoreTests
from zarrlayered.testing.store import keys_of


class TestLocalStore(StoreTests):
    def make_store(self, tmp_path: Path) -> LocalStore:
        return LocalStore(tmp_path / "store")

    def reopen(self, store: LocalStore) -> LocalStore:
        store.close()
        return LocalStore(store.root)


def temp_files(root: Path) -> list[str]:
    return [name for _, dirs, files in os.walk(root) for name in dirs + files if name.startswith(TEMP_PREFIX)]


# -- layout and atomicity -----------------------------------------------------------------------------


def test_keys_are_files_below_root(tmp_path: Path) -> None:
    root = tmp_path / "deep" / "root"
    store = LocalStore(root)
    assert not root.exists()  # created on first write, not before
    store.set_sync("a/c/0", b"chunk")
    store.set_sync("zarr.json", b"{}")
    assert (root / "a" / "c" / "0").read_bytes() == b"chunk"
    assert (root / "zarr.json").read_bytes() == b"{}"
    assert store.root == root


def test_no_temp_files_left_after_writes(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    for i in range(50):
        store.set_sync(f"g/c/{i % 7}", os.urandom(1000 + i))
        store.set_sync("g/zarr.json", b'{"i": %d}' % i)
    sync(store.set("big", b"\x07" * (2 << 20)))
    assert temp_files(tmp_path) == []
    assert sorted(store.list_prefix_sync("g/")) == [
        "g/c/0",
        "g/c/1",
        "g/c/2",
        "g/c/3",
        "g/c/4",
        "g/c/5",
        "g/c/6",
        "g/zarr.json",
    ]


def test_failed_write_cleans_up_its_temp_file(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.set_sync("a/b", b"1")
    with pytest.raises(IsADirectoryError):  # the key names an existing directory: os.replace fails
        store.set_sync("a", b"value")
    assert temp_files(tmp_path) == []
    assert store.get_sync("a/b") == b"1"
    assert sorted(os.listdir(tmp_path / "a")) == ["b"]


def test_reader_sees_only_whole_values_during_rewrites(tmp_path: Path) -> None:
    size = 1 << 20
    values = [bytes([i]) * size for i in range(4)]
    store = LocalStore(tmp_path)
    store.set_sync("c/0", values[0])
    stop = threading.Event()
    seen: list[bytes | None] = []
    bad: list[bytes | None] = []

    def reader() -> None:
        reader_store = LocalStore(tmp_path, read_only=True)
        while not stop.is_set():
            got = reader_store.get_sync("c/0")
            seen.append(got[:1] if got else got)
            if got not in values:
                bad.append(got if got is None else got[:16] + b"...%d" % len(got))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(1, 120):
            store.set_sync("c/0", values[i % 4])
    finally:
        stop.set()
        thread.join()
    assert bad == []
    assert len(seen) > 10
    assert len(set(seen)) > 1  # the reader did observe rewrites, not just one value
    assert temp_files(tmp_path) == []


# -- reading only what is asked ---------------------------------------------------------------------


def test_byte_range_reads_only_the_range(tmp_path: Path) -> None:
    size = 64 << 20
    path = tmp_path / "sparse"
    with open(path, "wb") as f:  # a sparse 64 MiB file: reading all of it would allocate 64 MiB
        f.truncate(size)
        f.seek(size - 4)
        f.write(b"tail")
    store = LocalStore(tmp_path, read_only=True)
    tracemalloc.start()
    try:
        assert store.get_sync("sparse", SuffixByteRequest(4)) == b"tail"
        assert store.get_sync("sparse", RangeByteRequest(size // 2, size // 2 + 8)) == b"\x00" * 8
        assert sync(store.getsize("sparse")) == size
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_read_only_store_over_missing_root(tmp_path: Path) -> None:
    root = tmp_path / "missing"
    store = LocalStore(root, read_only=True)
    assert store.get_sync("zarr.json") is None
    assert store.exists_sync("zarr.json") is False
    assert keys_of(store.list()) == []
    assert keys_of(store.list_dir("")) == []
    with pytest.raises(ReadOnlyError):
        store.set_sync("zarr.json", b"{}")
    assert not root.exists()


def test_root_must_be_a_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(NotADirectoryError, match="file"):
        LocalStore(tmp_path / "file")
    with pytest.raises(TypeError, match="int"):
        LocalStore(3)  # type: ignore[arg-type]


def test_key_under_a_file_and_directory_key(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.set_sync("a/b", b"1")
    assert store.get_sync("a/b/c") is None  # 'a/b' is a file, not a directory
    assert store.get_sync("a") is None  # 'a' is a directory, not a value
    assert store.exists_sync("a") is False
    store.delete_sync("a")  # a directory is not a key: nothing to delete
    assert store.get_sync("a/b") == b"1"


def test_reserved_temp_names_are_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    with pytest.raises(UnsafeKeyError, match="reserved"):
        store.set_sync(f"a/{TEMP_PREFIX}x", b"1")
    with pytest.raises(UnsafeKeyError, match="reserved"):
        store.get_sync(f"{TEMP_PREFIX}x/y")
    assert os.listdir(tmp_path) == []


# -- listing, deleting, renaming ------------------------------------------------------------------


def test_list_prefix_without_slash_and_list_dir_after_deletes(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    for key in ("a/zarr.json", "a/c/0", "ab/zarr.json", "b/zarr.json", "x/y/z"):
        store.set_sync(key, b"v")
    assert sorted(store.list_prefix_sync("a")) == ["a/c/0", "a/zarr.json", "ab/zarr.json"]
    assert sorted(store.list_prefix_sync("a/c/")) == ["a/c/0"]
    store.delete_sync("x/y/z")  # leaves the empty directories x/y behind
    assert (tmp_path / "x" / "y").is_dir()
    assert keys_of(store.list_dir("")) == ["a", "ab", "b"]
    assert keys_of(store.list_dir("x")) == []


def test_delete_dir_removes_the_directory(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    for key in ("g/a/zarr.json", "g/a/c/0/0", "g/ab/zarr.json", "g/a.json"):
        store.set_sync(key, b"v")
    sync(store.delete_dir("g/a"))
    assert not (tmp_path / "g" / "a").exists()
    assert sorted(store.list_prefix_sync("")) == ["g/a.json", "g/ab/zarr.json"]
    sync(store.delete_dir("nothing/here"))
    sync(store.clear())
    assert os.listdir(tmp_path) == []
    with pytest.raises(ReadOnlyError):
        sync(store.with_read_only(True).delete_dir("g"))


def test_rename_file_directory_and_merge(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.set_sync("one", b"1")
    sync(store.rename("one", "moved/one"))
    assert store.get_sync("moved/one") == b"1" and store.get_sync("one") is None
    store.set_sync("src/c/0", b"a")
    store.set_sync("src/zarr.json", b"m")
    store.set_sync("dst/c/1", b"b")
    store.set_sync("dst/zarr.json", b"old")
    sync(store.rename("src", "dst"))  # merges into the existing directory, source values win
    assert sorted(store.list_prefix_sync("dst/")) == ["dst/c/0", "dst/c/1", "dst/zarr.json"]
    assert store.get_sync("dst/zarr.json") == b"m"
    assert not (tmp_path / "src").exists()
    with pytest.raises(FileNotFoundError):
        sync(store.rename("nothing", "else"))


# -- symbolic links --------------------------------------------------------------------------------


def test_symlinks_leaving_the_root_are_refused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    root = tmp_path / "root"
    store = LocalStore(root)
    store.set_sync("a/real", b"real")
    os.symlink(outside / "secret", root / "leak")
    os.symlink(outside, root / "a" / "dirlink")
    os.symlink(root / "a" / "real", root / "alias")  # stays inside: followed
    os.symlink(root, root / "a" / "loop")  # a cycle: listing must end

    for key in ("leak", "a/dirlink/secret"):
        with pytest.raises(UnsafeKeyError, match="outside the store root"):
            store.get_sync(key)
        with pytest.raises(UnsafeKeyError):
            store.exists_sync(key)
        with pytest.raises(UnsafeKeyError):
            sync(store.getsize(key))
    with pytest.raises(UnsafeKeyError):
        store.set_sync("a/dirlink/new", b"evil")
    with pytest.raises(UnsafeKeyError):
        store.delete_sync("a/dirlink/secret")
    assert sorted(os.listdir(outside)) == ["secret"]
    assert (outside / "secret").read_bytes() == b"secret"

    assert store.get_sync("alias") == b"real"
    with caplog.at_level(logging.WARNING, logger="zarrlayered.store"):
        keys = sorted(store.list_prefix_sync(""))
    assert keys == ["a/real", "alias"]
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "leak" in messages and "dirlink" in messages and "loop" in messages
    assert keys_of(store.list_dir("a")) == ["real"]

    store.delete_sync("leak")  # removes the link, never its target
    sync(store.delete_dir("a/dirlink"))
    assert not os.path.lexists(root / "leak") and not os.path.lexists(root / "a" / "dirlink")
    assert (outside / "secret").read_bytes() == b"secret"


def test_symlinked_root_is_used_as_is(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    os.symlink(real, tmp_path / "link")
    via_link = LocalStore(tmp_path / "link")
    via_link.set_sync("k", b"v")
    assert (real / "k").read_bytes() == b"v"
    assert via_link == LocalStore(real)
    assert hash(via_link) == hash(LocalStore(real))
    assert via_link != LocalStore(real, read_only=True)
    assert via_link != LocalStore(tmp_path)


# -- identity ------------------------------------------------------------------------------------


def test_pickle_reopens_the_same_directory(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, read_only=True)
    (tmp_path / "k").write_bytes(b"v")
    clone = pickle.loads(pickle.dumps(store))
    assert isinstance(clone, LocalStore)
    assert clone == store and clone.read_only is True
    assert clone.get_sync("k") == b"v"
    assert repr(store) == f"LocalStore({str(tmp_path)!r}, read_only=True)"


def test_with_read_only_view(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    view = store.with_read_only(True)
    store.set_sync("k", b"v")
    assert view.get_sync("k") == b"v"
    with pytest.raises(ReadOnlyError):
        view.set_sync("k", b"w")
    assert view.with_read_only(False) == store


# -- compatibility with zarr-python 3 ---------------------------------------------------------------


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_zarr_python_reads_what_we_write(tmp_path: Path, zarr_format: int) -> None:
    data = np.arange(60, dtype="<i4").reshape(6, 10)
    reference = zarr.storage.MemoryStore()
    zarr.create_array(
        reference, shape=data.shape, chunks=(4, 4), dtype=data.dtype, compressors=None, zarr_format=zarr_format
    )[...] = data
    ours = LocalStore(tmp_path / "array")
    for key, buffer in reference._store_dict.items():
        ours.set_sync(key, buffer.to_bytes())
    opened = zarr.open_array(zarr.storage.LocalStore(tmp_path / "array", read_only=True))
    np.testing.assert_array_equal(opened[...], data)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_we_read_what_zarr_python_writes(tmp_path: Path, zarr_format: int) -> None:
    data = np.arange(60, dtype="<f8").reshape(6, 10)
    zarr_store = zarr.storage.LocalStore(tmp_path / "array")
    zarr.create_array(
        zarr_store,
        shape=data.shape,
        chunks=(6, 5),
        dtype=data.dtype,
        compressors=None,
        zarr_format=zarr_format,
        attributes={"name": "t"},
    )[...] = data
    ours = LocalStore(tmp_path / "array", read_only=True)
    keys = sorted(ours.list_prefix_sync(""))
    expected = sorted(
        str(p.relative_to(tmp_path / "array")).replace(os.sep, "/")
        for p in (tmp_path / "array").rglob("*")
        if p.is_file()
    )
    assert keys == expected
    if zarr_format == 3:
        meta = json.loads(ours.get_sync("zarr.json") or b"")
        chunk_keys = ("c/0/0", "c/0/1")
    else:
        meta = json.loads(ours.get_sync(".zarray") or b"")
        assert json.loads(ours.get_sync(".zattrs") or b"") == {"name": "t"}
        chunk_keys = ("0.0", "0.1")
    assert meta["shape"] == [6, 10]
    for i, key in enumerate(chunk_keys):
        chunk = np.frombuffer(ours.get_sync(key) or b"", dtype="<f8").reshape(6, 5)
        np.testing.assert_array_equal(chunk, data[:, 5 * i : 5 * i + 5])
    assert ours.get_sync(chunk_keys[1], RangeByteRequest(0, 8)) == data[0, 5].tobytes()


@pytest.mark.parametrize("nbytes", [0, 1, (16 << 10) - 1, 16 << 10, (16 << 10) + 1, 1 << 20])
def test_whole_values_of_any_size_around_the_first_read(tmp_path: Path, nbytes: int) -> None:
    """A whole-value read asks for 16 KiB first; values shorter, equal and longer come back whole."""
    store = LocalStore(tmp_path)
    value = np.random.default_rng(nbytes).integers(0, 256, nbytes, dtype=np.uint8).tobytes()
    store.set_sync("c/0", value)
    assert store.get_sync("c/0") == value
    assert sync(store.get("c/0")) == value


def test_a_directory_is_no_value(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.set_sync("group/c/0", b"x")
    assert store.get_sync("group/c") is None
    assert store.get_sync("group") is None

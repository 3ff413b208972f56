"""A malicious zip archive (built here with the zipfile module: members named ``../evil``, ``/abs``,
``a/../../b``, ``a\\b``, a member whose header names it with a NUL) is read safely: unsafe members are
never served, never extracted, and rewriting the archive (mode ``"a"``) leaves them out; ZipStore never
writes a file but its archive (and a temporary file beside it, gone once committed).
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import numpy as np
import pytest

import zarrlayered
from zarrlayered.errors import CorruptStoreError, UnsafeKeyError
from zarrlayered.stores.zip import ZipStore

UNSAFE_MEMBERS = ["../evil", "/abs", "/abs/zarr.json", "a/../../b", "a\\b", "..\\evil", "../zarr.json", "sub/../.."]


def _files(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


def _malicious_zip(path: Path) -> None:
    """A real hierarchy (a group with an array) plus members with unsafe names."""
    with ZipStore(path, mode="w") as store:
        root = zarrlayered.create_group(store, attributes={"title": "safe"})
        root.create_array("arr", shape=(4,), chunks=(2,), dtype="i4")[:] = np.arange(4)
    with zipfile.ZipFile(path, "a") as zf:
        for name in UNSAFE_MEMBERS:
            zf.writestr(name, b'{"zarr_format": 3, "node_type": "group", "attributes": {"evil": true}}')
    with zipfile.ZipFile(path) as zf:
        names = [info.orig_filename for info in zf.infolist()]
    assert set(UNSAFE_MEMBERS) <= set(names)  # they really are in the archive


def test_unsafe_members_are_never_served(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    work = tmp_path / "work"
    work.mkdir()
    archive = work / "data.zip"
    _malicious_zip(archive)
    before = _files(tmp_path)
    with caplog.at_level(logging.WARNING, logger="zarrlayered.store"), ZipStore(archive, mode="r") as store:
        group = zarrlayered.open_group(store, mode="r")
        assert dict(group.attrs) == {"title": "safe"}
        assert [name for name, _ in group.members()] == ["arr"]
        assert group["arr"][:].tolist() == [0, 1, 2, 3]
        keys = sorted(store.list_prefix_sync(""))
        assert all(".." not in key and not key.startswith("/") and "\\" not in key for key in keys), keys
        for name in UNSAFE_MEMBERS:
            with pytest.raises(UnsafeKeyError):
                store.get_sync(name)
    assert "unsafe names" in caplog.text
    assert _files(tmp_path) == before  # reading extracted nothing anywhere


def test_rewriting_a_malicious_archive_drops_unsafe_members_and_writes_only_the_archive(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    archive = work / "data.zip"
    _malicious_zip(archive)
    with ZipStore(archive, mode="a") as store:
        array = zarrlayered.open_array(store, path="arr", mode="r+")
        array[:2] = [7, 8]
        for name in UNSAFE_MEMBERS:
            with pytest.raises(UnsafeKeyError):
                store.set_sync(name, b"x")
    assert _files(tmp_path) == ["work", "work/data.zip"]
    with zipfile.ZipFile(archive) as zf:
        names = [info.orig_filename for info in zf.infolist()]
    assert not set(UNSAFE_MEMBERS) & set(names), names
    assert all("\x00" not in name for name in names)
    with ZipStore(archive, mode="r") as store:
        assert zarrlayered.open_array(store, path="arr", mode="r")[:].tolist() == [7, 8, 2, 3]


def test_a_zip_store_creates_nothing_but_its_archive(tmp_path: Path) -> None:
    archive = tmp_path / "new.zip"
    with ZipStore(archive, mode="w") as store:
        group = zarrlayered.create_group(store)
        group.create_array("a/b/c", shape=(3,), dtype="f8")[:] = 1.0
        assert sorted(p.name for p in tmp_path.iterdir()) != []  # a temporary file may sit beside it meanwhile
    assert _files(tmp_path) == ["new.zip"]


def test_a_nul_cut_member_name_is_not_served(tmp_path: Path) -> None:
    """A member listed as ``arr/c/1\\x00.exe`` (zipfile cuts the name at the NUL) does not shadow chunk ``arr/c/1``."""
    archive = tmp_path / "data.zip"
    _malicious_zip(archive)
    with zipfile.ZipFile(archive, "a") as zf:
        member = zipfile.ZipInfo("arr/c/1")
        member.filename = "arr/c/1\x00.exe"
        zf.writestr(member, b"\xff" * 8)
    with zipfile.ZipFile(archive) as zf:
        assert zf.infolist()[-1].orig_filename == "arr/c/1\x00.exe"
    with ZipStore(archive, mode="r") as store:
        assert zarrlayered.open_array(store, path="arr", mode="r")[:].tolist() == [0, 1, 2, 3]


def test_a_damaged_member_is_a_named_error(tmp_path: Path) -> None:
    """A deflated member whose compressed bytes were damaged: an OSError naming the key, not zipfile's error."""
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zarr.json", b'{"zarr_format": 3, "node_type": "group"}')
        zf.writestr("blob", bytes(range(256)) * 64)
    raw = bytearray(archive.read_bytes())
    start = raw.index(b"blob") + len(b"blob")  # the local header's name, then the deflated data
    raw[start + 10 : start + 30] = b"\xaa" * 20
    archive.write_bytes(bytes(raw))
    with ZipStore(archive, mode="r") as store:
        with pytest.raises(CorruptStoreError, match="'blob'") as info:
            store.get_sync("blob")
        assert isinstance(info.value, OSError)


def test_a_file_that_is_not_a_zip_archive_is_a_named_error(tmp_path: Path) -> None:
    archive = tmp_path / "data.zip"
    archive.write_bytes(b"PK\x03\x04 not really a zip archive" * 10)
    with pytest.raises(CorruptStoreError, match=r"data\.zip"):
        ZipStore(archive, mode="r")

from __future__ import annotations

import re
import uuid
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import fsspec
import pytest

from zarrlayered.core.sync import sync
from zarrlayered.errors import ReadOnlyError
from zarrlayered.stores import MemoryStore, Store, make_store, register_store, registry
from zarrlayered.stores.fsspec import FsspecStore
from zarrlayered.stores.local import LocalStore
from zarrlayered.stores.zip import ZipStore
from zarrlayered.testing.store import keys_of


# -- None and dicts ------------------------------------------------------------------------------------------
def test_none_gives_a_new_memory_store() -> None:
    first, second = make_store(None), make_store(None)
    assert isinstance(first, MemoryStore) and isinstance(second, MemoryStore)
    assert first.read_only is False
    sync(first.set("k", b"v"))
    assert sync(second.get("k")) is None  # not shared
    assert make_store(None, mode="r").read_only is True


def test_dict_gives_a_memory_store_over_that_very_dict() -> None:
    backing: dict[str, bytes] = {"zarr.json": b"{}"}
    store = make_store(backing)
    assert isinstance(store, MemoryStore)
    assert store.store_dict is backing
    sync(store.set("a/c/0", b"chunk"))
    assert backing == {"zarr.json": b"{}", "a/c/0": b"chunk"}
    reader = make_store(backing, mode="r")
    assert reader.read_only is True
    assert sync(reader.get("a/c/0")) == b"chunk"


# -- local paths and zip archives -------------------------------------------------------------------------
@pytest.mark.parametrize("as_path", [False, True], ids=["str", "Path"])
def test_path_gives_a_local_store(tmp_path: Path, as_path: bool) -> None:
    root = tmp_path / "data.zarr"
    store = make_store(root if as_path else str(root))
    assert isinstance(store, LocalStore)
    assert store.read_only is False
    assert store.root == root
    sync(store.set("zarr.json", b"{}"))
    assert (root / "zarr.json").read_bytes() == b"{}"
    reader = make_store(root if as_path else str(root), mode="r")
    assert isinstance(reader, LocalStore) and reader.read_only is True
    assert sync(reader.get("zarr.json")) == b"{}"


@pytest.mark.parametrize("mode", [None, "r+", "a", "w", "w-", "x"])
def test_writable_modes_on_a_missing_local_path(tmp_path: Path, mode: str | None) -> None:
    store = make_store(tmp_path / "new.zarr", mode=mode)
    assert isinstance(store, LocalStore) and store.read_only is False
    sync(store.set("k", b"v"))
    assert (tmp_path / "new.zarr" / "k").read_bytes() == b"v"


def test_mode_r_on_a_missing_local_path_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.zarr"):
        make_store(tmp_path / "missing.zarr", mode="r")
    with pytest.raises(FileNotFoundError):
        make_store(str(tmp_path / "missing.zarr"), mode="r")
    assert not (tmp_path / "missing.zarr").exists()


@pytest.mark.parametrize("name", ["data.zip", "DATA.ZIP"])
def test_zip_path_gives_a_zip_store(tmp_path: Path, name: str) -> None:
    archive = tmp_path / name
    with make_store(str(archive)) as store:  # default mode: append, creating the archive
        assert isinstance(store, ZipStore)
        assert store.read_only is False
        sync(store.set("zarr.json", b'{"zarr_format": 3}'))
    with zipfile.ZipFile(archive) as zf:
        assert zf.read("zarr.json") == b'{"zarr_format": 3}'
    with make_store(archive, mode="r") as reader:
        assert isinstance(reader, ZipStore) and reader.read_only is True
        assert sync(reader.get("zarr.json")) == b'{"zarr_format": 3}'
        with pytest.raises(ReadOnlyError):
            sync(reader.set("x", b"1"))


def test_zip_modes(tmp_path: Path) -> None:
    archive = tmp_path / "data.zip"
    with pytest.raises(FileNotFoundError):
        make_store(archive, mode="r")
    with make_store(archive, mode="x") as store:
        assert store.mode == "x"  # type: ignore[attr-defined]
        sync(store.set("old", b"1"))
    for mode in ("x", "w-"):
        with pytest.raises(FileExistsError):
            make_store(archive, mode=mode)
    with make_store(archive, mode="r+") as store:
        assert store.mode == "a"  # type: ignore[attr-defined]
        assert sync(store.get("old")) == b"1"
    with make_store(archive, mode="w") as store:  # truncates
        assert keys_of(store.list()) == []
        sync(store.set("new", b"2"))
    with zipfile.ZipFile(archive) as zf:
        assert zf.namelist() == ["new"]


# -- URLs --------------------------------------------------------------------------------------------------
def test_memory_url_gives_an_fsspec_store() -> None:
    url = f"memory://zarrlayered-make-store/{uuid.uuid4().hex}"
    try:
        store = make_store(url)
        assert isinstance(store, FsspecStore)
        assert store.read_only is False
        sync(store.set("a/zarr.json", b"{}"))
        assert fsspec.filesystem("memory").cat_file(f"{url}/a/zarr.json") == b"{}"
        reader = make_store(url, mode="r")
        assert isinstance(reader, FsspecStore) and reader.read_only is True
        assert reader == store.with_read_only(True)
        assert sync(reader.get("a/zarr.json")) == b"{}"
    finally:
        fsspec.filesystem("memory").rm(url, recursive=True)


def test_file_url_gives_an_fsspec_store(tmp_path: Path) -> None:
    store = make_store(f"file://{tmp_path}/data.zarr")
    assert isinstance(store, FsspecStore)
    sync(store.set("a/c/0", b"chunk"))
    assert (tmp_path / "data.zarr" / "a" / "c" / "0").read_bytes() == b"chunk"


def test_s3_url_with_storage_options_gives_an_fsspec_store(s3_bucket: tuple[str, dict[str, Any]]) -> None:
    url, options = s3_bucket
    with make_store(f"{url}/data.zarr", storage_options=options) as store:
        assert isinstance(store, FsspecStore)
        assert store.path.endswith("/data.zarr")
        sync(store.set("zarr.json", b"{}"))
    with make_store(f"{url}/data.zarr", mode="r", storage_options=options) as reader:
        assert reader.read_only is True
        assert sync(reader.get("zarr.json")) == b"{}"
        with pytest.raises(ReadOnlyError):
            sync(reader.set("zarr.json", b"[]"))


def test_zip_url_gives_a_read_only_fsspec_store(tmp_path: Path) -> None:
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("zarr.json", b"{}")
        zf.writestr("a/c/0", b"chunk")
    with make_store(f"zip::file://{archive}") as store:
        assert isinstance(store, FsspecStore)
        assert store.read_only is True
        assert keys_of(store.list()) == ["a/c/0", "zarr.json"]
        assert sync(store.get("a/c/0")) == b"chunk"


# -- Stores ------------------------------------------------------------------------------------------------
def test_store_is_returned_as_is() -> None:
    store = MemoryStore()
    for mode in (None, "r+", "a", "w", "w-", "x"):
        assert make_store(store, mode=mode) is store


def test_store_with_mode_r_is_a_read_only_view() -> None:
    store = MemoryStore()
    reader = make_store(store, mode="r")
    assert reader is not store
    assert reader.read_only is True and store.read_only is False
    sync(store.set("k", b"v"))
    assert sync(reader.get("k")) == b"v"
    with pytest.raises(ReadOnlyError):
        sync(reader.set("k", b"w"))
    assert make_store(reader, mode="r") is reader


# -- refusals ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("store_like", ["relative/path.zarr", "/abs/path.zarr", "data.zip", None, {}], ids=repr)
def test_storage_options_need_a_url(store_like: Any) -> None:
    with pytest.raises(TypeError, match="storage_options"):
        make_store(store_like, storage_options={"anon": True})


def test_storage_options_refused_with_a_path_object(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"PosixPath|WindowsPath"):
        make_store(tmp_path, storage_options={"anon": True})
    with pytest.raises(TypeError, match="MemoryStore"):
        make_store(MemoryStore(), storage_options={"anon": True})


@pytest.mark.parametrize("mode", ["rw", "", "R", "wb", 1])
def test_bad_mode_raises_naming_it(mode: Any) -> None:
    with pytest.raises(ValueError, match=re.escape(f"got {mode!r}")):
        make_store(None, mode=mode)


@pytest.mark.parametrize("store_like", [42, 3.5, b"bytes/path", ["a"], object()], ids=lambda v: type(v).__name__)
def test_unsupported_type_raises(store_like: Any) -> None:
    with pytest.raises(TypeError, match=type(store_like).__name__):
        make_store(store_like)


# -- registered schemes ------------------------------------------------------------------------------------
@pytest.fixture
def scratch_registry() -> Iterator[None]:
    """Registrations made by a test are forgotten after it."""
    with registry.STORE_REGISTRY.restoring():
        yield


def test_registered_scheme_uses_its_factory(scratch_registry: None) -> None:
    calls: list[tuple[str, str | None, Mapping[str, Any] | None]] = []
    backing: dict[str, bytes] = {}

    def factory(url: str, mode: str | None, storage_options: Mapping[str, Any] | None) -> Store:
        calls.append((url, mode, storage_options))
        return MemoryStore(backing, read_only=mode == "r")

    register_store("myproto", factory)
    store = make_store("myproto://x")
    assert isinstance(store, MemoryStore) and store.store_dict is backing
    reader = make_store("MyProto://bucket/y", mode="r", storage_options={"token": "t"})
    assert reader.read_only is True
    assert calls == [("myproto://x", None, None), ("MyProto://bucket/y", "r", {"token": "t"})]


def test_unregistered_scheme_goes_to_fsspec(scratch_registry: None) -> None:
    register_store("myproto", lambda url, mode, options: MemoryStore())
    url = f"memory://zarrlayered-make-store/{uuid.uuid4().hex}"
    assert isinstance(make_store(url), FsspecStore)


def test_register_store_checks_its_arguments(scratch_registry: None) -> None:
    with pytest.raises(ValueError, match="my proto"):
        register_store("my proto", lambda url, mode, options: MemoryStore())
    with pytest.raises(TypeError, match="callable"):
        register_store("myproto", "not a factory")  # type: ignore[arg-type]
